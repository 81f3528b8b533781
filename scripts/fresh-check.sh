#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# fresh-check.sh [DIR]: run the README's test command on a fresh Debian 12 —
# a minimal debootstrap'ed root with none of truth's dependencies — to prove
# that `make check` installs everything it needs by itself.  It clones the
# committed main into the root, runs `make check` there twice (the second run
# must install nothing) and prints both summaries.  Needs root and the Debian
# archive; takes several minutes.  Not part of `make check`.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-/var/tmp/truth-fresh}

if ! command -v debootstrap >/dev/null; then
	apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null
fi
if [ ! -x "$root/usr/bin/apt-get" ]; then
	# never remove a root that still has /dev or /sys bound into it
	if findmnt -rn -o TARGET | grep -q "^$root/"; then
		echo "fresh: something is still mounted under $root; unmount it first" >&2
		exit 1
	fi
	rm -rf "$root"
	echo "fresh: debootstrap bookworm into $root"
	debootstrap --variant=minbase --include=make,git,ca-certificates bookworm "$root" http://deb.debian.org/debian >/dev/null
	# the same suites a fresh Debian 12 machine has
	cat >"$root/etc/apt/sources.list" <<'SRC'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SRC
fi

cleanup() {
	for m in dev/pts dev proc sys tmp; do umount -l "$root/$m" 2>/dev/null || true; done
}
trap cleanup EXIT
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/tmp"

rm -rf "$root/src/truth"
git clone -q "$top" "$root/src/truth"
for run in 1 2; do
	echo "fresh: run $run of make check in the chroot"
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=true \
		bash -c 'cd /src/truth && make check' >"$root/check-$run.log" 2>&1 || true
	grep -E '^deps: installing' "$root/check-$run.log" | cut -c1-200 || echo "deps: nothing installed"
	tail -n 1 "$root/check-$run.log"
done
