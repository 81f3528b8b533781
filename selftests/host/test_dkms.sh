#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make dkms-install` as far as this machine allows: DKMS adds and builds
# truth.ko for Debian's 6.12 cloud kernel from the copy it makes of the
# sources, and the module it builds carries BTF and the right vermagic.
# Installing into /lib/modules is left out: the host kernel is not touched.
# Runs in a scratch DKMS tree, so the system's DKMS state is unchanged.
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh

tap_plan 3
if [ "$(id -u)" != 0 ]; then
	for c in "dkms build" "module has BTF" "vermagic"; do tap_skip "$c" "dkms needs root"; done
	exit 0
fi
if ! command -v dkms >/dev/null; then
	for c in "dkms build" "module has BTF" "vermagic"; do tap_skip "$c" "dkms not installed (scripts/deps.sh)"; done
	exit 0
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
krel=$(scripts/kver.sh)

if DKMS_SCRATCH=$scratch scripts/dkms.sh build "$krel" >"$scratch/log" 2>&1; then
	tap_ok "dkms build for $krel"
else
	sed 's/^/# /' "$scratch/log"
	tap_fail "dkms build for $krel"
fi

ko=$(find "$scratch/tree" -path "*/$krel/*" -name 'truth.ko*' | head -n1)
case "$ko" in
*.xz) xz -dc "$ko" >"$scratch/truth.ko" ;;
*.zst) zstd -qdc "$ko" >"$scratch/truth.ko" ;;
?*) cp "$ko" "$scratch/truth.ko" ;;
esac
if [ -s "$scratch/truth.ko" ] && readelf -S "$scratch/truth.ko" | grep -q '\.BTF'; then
	tap_ok "the DKMS-built module has a .BTF section"
else
	tap_fail "the DKMS-built module has a .BTF section (module: ${ko:-none})"
fi
vm=$(modinfo -F vermagic "$scratch/truth.ko" 2>/dev/null)
case "$vm" in
"$krel "*) tap_ok "vermagic names $krel" ;;
*) tap_fail "vermagic names $krel (got: $vm)" ;;
esac
tap_done
