#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install every build and test dependency of truth with apt-get, then extract
# from the linux-source-6.12 tarball the pieces the build needs (the kselftest
# harness and checkpatch.pl) into the git-ignored cache .cache/.
#
# Idempotent: a second run with everything present prints nothing, touches no
# network and exits 0.  Set DEPS_VERBOSE=1 to see what it checks.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache="$top/.cache"

# Packages by role.  The kernel ones are Debian's meta packages: the exact
# version (6.12.N) is read back from what they depend on, never hard-coded.
pkgs=(
	# kernel module build, BTF and style
	build-essential linux-headers-6.12-cloud-amd64 linux-source-6.12
	dwarves bc kmod dkms sparse
	# VM: the kernel the module is tested on, the emulator, the initramfs
	linux-image-6.12-cloud-amd64 qemu-system-x86 busybox-static cpio
	e2fsprogs zstd xz-utils
	# agent and tests
	pkg-config libnl-3-dev libnl-genl-3-dev libbpf-dev libelf-dev zlib1g-dev
	libsodium-dev libb2-dev
	# eBPF fast path
	clang llvm bpftool
	# networking tools the tests drive (host and VM)
	iproute2 iputils-ping
	# YNL spec validation (Documentation/netlink/specs/truth.yaml)
	python3-yaml python3-jsonschema
	# peers for the client protocol and benchmarks (chrony: the clock
	# benchmark runs its chronyd inside the VM only, with -x; see below;
	# etcd 3.4: `make bench` runs three members on loopback, curl checks
	# their health)
	redis-tools chrony etcd-server curl
)

log() { [ "${DEPS_VERBOSE:-0}" = 1 ] && echo "deps: $*" >&2 || true; }

missing=()
for p in "${pkgs[@]}"; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		log "have $p"
	else
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing packages: ${missing[*]}" >&2
		echo "deps: run this script as root (it uses apt-get)" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# chrony's package scripts would start chronyd on this host, which would
	# then discipline the host clock, and etcd-server's a system etcd that
	# `make bench` must not find running: deny every service start while
	# installing (policy-rc.d, honoured by invoke-rc.d and
	# deb-systemd-invoke), unless the host already has a policy of its own.
	policy=""
	if [[ " ${missing[*]} " == *" chrony "* || " ${missing[*]} " == *" etcd-server "* ]] &&
	   [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
	fi
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
		[ -n "$policy" ] && rm -f "$policy"; exit 1; }
	[ -n "$policy" ] && rm -f "$policy"
fi

# The concrete kernel release behind the meta packages, e.g. 6.12.N+deb12-cloud-amd64.
krel=$("$top/scripts/kver.sh")
[ -d "/usr/src/linux-headers-$krel" ] || { echo "deps: headers for $krel missing" >&2; exit 1; }
[ -f "/boot/vmlinuz-$krel" ] || { echo "deps: /boot/vmlinuz-$krel missing" >&2; exit 1; }

# Extract the kselftest harness and checkpatch from linux-source-6.12.
ksrc="$cache/linux-src"
if [ ! -f "$ksrc/.extracted-v2" ]; then
	tarball=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n1)
	[ -n "$tarball" ] || { echo "deps: linux-source-6.12 tarball not found in /usr/src" >&2; exit 1; }
	echo "deps: extracting kselftest harness and checkpatch from $(basename "$tarball")"
	rm -rf "$ksrc"
	mkdir -p "$ksrc"
	# The tarball's top directory is named like the tarball (linux-source-6.12).
	top_dir=$(basename "$tarball"); top_dir=${top_dir%%.tar.*}
	tar -C "$ksrc" --strip-components=1 -xf "$tarball" \
		"$top_dir/tools/testing/selftests/kselftest_harness.h" \
		"$top_dir/tools/testing/selftests/kselftest.h" \
		"$top_dir/tools/testing/selftests/kselftest" \
		"$top_dir/tools/testing/selftests/lib.mk" \
		"$top_dir/tools/testing/selftests/net/lib.sh" \
		"$top_dir/tools/testing/selftests/kselftest/ktap_helpers.sh" \
		"$top_dir/scripts/checkpatch.pl" \
		"$top_dir/scripts/spelling.txt" \
		"$top_dir/scripts/const_structs.checkpatch" \
		"$top_dir/tools/net/ynl" \
		"$top_dir/Documentation/netlink" 2>/dev/null || true
	for f in tools/testing/selftests/kselftest_harness.h tools/testing/selftests/kselftest.h scripts/checkpatch.pl; do
		[ -f "$ksrc/$f" ] || { echo "deps: $f not found in $tarball" >&2; exit 1; }
	done
	touch "$ksrc/.extracted-v2"
fi
log "all dependencies present (kernel $krel)"
