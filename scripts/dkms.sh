#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms.sh install [KREL]    add, build and install truth.ko with DKMS
# dkms.sh build [KREL]      add and build only (what a test can do here)
# dkms.sh uninstall         remove every version of truth from DKMS
#
# KREL defaults to Debian's 6.12 cloud kernel (scripts/kver.sh); on a real
# cluster host pass "$(uname -r)".  The sources DKMS builds from are a copy
# of Kbuild, kmod/, include/ and dkms.conf in /usr/src/truth-<version>/.
#
# DKMS_SCRATCH=DIR keeps everything (sources and DKMS tree) under DIR instead
# of /usr/src and /var/lib/dkms, so a test can build without touching the
# system's DKMS state.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
action=${1:-}
krel=${2:-$("$top/scripts/kver.sh")}
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
src="/usr/src/truth-$version"
tree=()
if [ -n "${DKMS_SCRATCH:-}" ]; then
	mkdir -p "$DKMS_SCRATCH/src" "$DKMS_SCRATCH/tree"
	src="$DKMS_SCRATCH/src/truth-$version"
	tree=(--dkmstree "$DKMS_SCRATCH/tree" --sourcetree "$DKMS_SCRATCH/src")
fi

command -v dkms >/dev/null || { echo "dkms: not installed (scripts/deps.sh installs it)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "dkms: run as root" >&2; exit 1; }

remove_all() {
	local v
	for v in $(dkms status "${tree[@]}" truth 2>/dev/null | sed -n 's|^truth/\([^,]*\),.*|\1|p' | sort -u); do
		dkms remove "${tree[@]}" -m truth -v "$v" --all >/dev/null 2>&1 || true
	done
	rm -rf "$(dirname "$src")"/truth-*
}

add() {
	remove_all
	mkdir -p "$src"
	cp -a "$top/Kbuild" "$top/dkms.conf" "$src/"
	mkdir -p "$src/kmod" "$src/include"
	cp -a "$top"/kmod/*.c "$top"/kmod/*.h "$top/kmod/Kbuild" "$src/kmod/"
	cp -a "$top/include/." "$src/include/"
	dkms add "${tree[@]}" -m truth -v "$version"
}

case "$action" in
build)
	add
	dkms build "${tree[@]}" -m truth -v "$version" -k "$krel"
	;;
install)
	add
	dkms build "${tree[@]}" -m truth -v "$version" -k "$krel"
	dkms install "${tree[@]}" -m truth -v "$version" -k "$krel"
	echo "truth $version installed for $krel; load it there with: modprobe truth"
	;;
uninstall)
	remove_all
	;;
*)
	sed -n '3,10p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
