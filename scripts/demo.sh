#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: the main job.  Boots the VM (Debian's 6.12 kernel under QEMU)
# with a fresh virtio disk, loads truth.ko there, runs a truthd cluster with
# the eBPF fast path in network namespaces (scripts/demo-guest.sh narrates
# it), prints a summary table and powers the VM off.  Nothing is loaded into
# this host's kernel.
#
#   scripts/demo.sh            in the VM (what `make demo` runs)
#   scripts/demo.sh --host     on this host, as root, with truth.ko installed
#                              (make dkms-install): no VM, data in /var/tmp
#
# NODES=5 for five hosts instead of three; VM_TIMEOUT (default 600 s).
# Exits non-zero if any step failed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
nodes=${NODES:-3}
case "$nodes" in 3 | 5) ;; *) echo "demo: NODES=$nodes: 3 or 5" >&2; exit 2 ;; esac
t0=$(date +%s)

if [ "${1:-}" = --host ]; then
	# the module must already be installed here: this script never builds
	# or installs one into the running kernel, it only loads what is there
	[ "$(id -u)" = 0 ] || { echo "demo --host: needs root" >&2; exit 2; }
	if [ ! -d /sys/module/truth ] && ! modinfo truth >/dev/null 2>&1; then
		echo "demo --host: truth.ko is not installed for $(uname -r):" \
			"see Documentation/admin-guide.md (make dkms-install)" >&2
		exit 2
	fi
	echo "truth demo on this host ($(uname -r)): $nodes truthd nodes in network namespaces"
	NODES=$nodes DEMO_DATA=${DEMO_DATA:-/var/tmp} bash scripts/demo-guest.sh
	exit
fi
[ $# -eq 0 ] || { echo "usage: scripts/demo.sh [--host]" >&2; exit 2; }

# a fresh disk each run (vm.sh makes a 256 MiB ext4 image when it is missing)
img=$top/build/vm/demo.img
mkdir -p "$top/build/vm"
rm -f "$img"
echo "truth demo: booting a VM with Debian's $(scripts/kver.sh) kernel under QEMU"
echo "(software emulation, no KVM: everything in it runs several times slower"
echo "than on a real host), with a virtio disk for the nodes' data..."
set +e
scripts/vm.sh --timeout "${VM_TIMEOUT:-600}" --disk "$img" -- \
	env NODES="$nodes" bash scripts/demo-guest.sh 2>&1 |
	grep --line-buffered -vE '^(TRUTH-VM-|# truth-layer |ok - vm: kernel log clean|\[ *[0-9.]+\] reboot)'
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" = 0 ]; then
	rm -f "$img"
	echo "demo: done in $(( $(date +%s) - t0 )) s, VM powered off."
else
	echo "demo: FAILED (status $rc) after $(( $(date +%s) - t0 )) s; console log: build/vm/console.log," \
		"the nodes' disk: $img"
fi
exit "$rc"
