#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make demo` keeps working: runs its cluster half (scripts/demo-guest.sh,
# 3 nodes, 20 writes, data on /tmp since this layer has no disk) and checks
# its closing table: every one of the nine steps is there and says ok, with
# the figure the step measured; the demo exits 0 and leaves no namespace,
# process or module behind.
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh

command -v bash >/dev/null || { echo "1..0 # SKIP no bash in this image"; exit 0; }
command -v redis-cli >/dev/null || { echo "1..0 # SKIP no redis-cli"; exit 0; }
[ -x build/truthd ] || { echo "1..0 # SKIP build/truthd not built"; exit 0; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
was_loaded=0
[ -d /sys/module/truth ] && was_loaded=1

tap_plan 12
NODES=3 DEMO_WRITES=20 DEMO_DATA=/tmp bash scripts/demo-guest.sh >"$out" 2>&1
rc=$?
sed -n '/^summary/,$p' "$out" | sed 's/^/# /'
[ $rc = 0 ] && tap_ok "demo-guest.sh exits 0" || { tap_fail "demo-guest.sh exits 0 (got $rc)"; sed 's/^/# /' "$out"; }

# "  STEP<spaces>ok<spaces>FIGURE" rows of the summary table
row() { grep -E "^  $1 +ok +[^ ]" "$out" | head -n 1; }
for s in 'truth\.ko loaded' '3 hosts' 'leader elected' 'writes via fast path' 'clocks and now\(\)' \
	'lock \+ fencing token' 'leader killed, new one' 'data on every node' 'clean shutdown'; do
	name=$(echo "$s" | tr -d '\\')
	r=$(row "$s")
	[ -n "$r" ] && tap_ok "summary: $name: $(echo "$r" | sed -E "s/^ *$s +ok +//")" ||
		tap_fail "summary: $name is missing or not ok: $(grep -E "^  $s " "$out")"
done
grep -q '^demo: all 9 steps ok$' "$out" && tap_ok "demo: all 9 steps ok" ||
	tap_fail "the closing line says all 9 steps ok: $(tail -n 1 "$out")"

left=$(ip netns list | grep '^cldemo-')
[ $was_loaded = 1 ] || [ ! -d /sys/module/truth ] || left="$left module"
[ -z "$left" ] && tap_ok "nothing left behind (namespaces, module)" || tap_fail "left behind: $left"
tap_done
