#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# clock_discipline = on, inside the VM only (it adjtimexes the clock).
# Two truthd on the VM's loopback:
#
#	A (anchor, claims 1 ms): its wall clock follows CLOCK_MONOTONIC_RAW
#	  (test_clock_base = raw), so slewing REALTIME cannot move it, and
#	  runs 20 ms ahead of the VM's REALTIME (test_clock_offset_ns):
#	  for this cluster the VM clock is 20 ms slow
#	B (derives from A, clock_discipline = on): measures its REALTIME
#	  ~20 ms behind the estimate and slews it (500 ppm: ~40 s)
#
# Checks: B's discipline is on (no other time daemon in the VM), its first
# offset is about -20 ms, it converges to within its epsilon + 1 ms, its
# epsilon stays bounded (the estimate runs on RAW, untouched by the slew),
# and B's TIME.NOW keeps overlapping A's.  DISCIPLINE_SECONDS (default 90).
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh

command -v redis-cli >/dev/null || { echo "1..0 # SKIP no redis-cli"; exit 0; }
[ -e /truth ] || { echo "1..0 # SKIP only inside the VM (it adjusts the system clock)"; exit 0; }
secs=${DISCIPLINE_SECONDS:-90}
dir=$(mktemp -d)
pa="" pb=""
cleanup() {
	for p in $pa $pb; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT

printf '%064x\n' 4244 >"$dir/key"
chmod 600 "$dir/key"
for i in 1 2; do
	cat >"$dir/n$i.conf" <<CONF
node_id = $i
group_id = 12
data_dir = $dir/d$i
peer_listen = 127.0.0.1:$((7420 + i))
peer = 1 127.0.0.1:7421
peer = 2 127.0.0.1:7422
client_listen = 127.0.0.1:$((6390 + i))
key_file = $dir/key
fsync = off
CONF
done
cat >>"$dir/n1.conf" <<CONF
clock_anchor_ns = 1000000
test_clock_base = raw
test_clock_offset_ns = 20000000
CONF
echo "clock_discipline = on" >>"$dir/n2.conf"
field() { redis-cli -p $((6390 + $1)) INFO truth 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"; }
abs() { [ "$1" -lt 0 ] && echo $((-$1)) || echo "$1"; }

tap_plan 5
build/truthd --config "$dir/n1.conf" 2>>"$dir/log1" &
pa=$!
build/truthd --config "$dir/n2.conf" 2>>"$dir/log2" &
pb=$!

st=""
for _ in $(seq 100); do
	st=$(field 2 clock_discipline)
	[ "$st" = on ] && [ "$(field 2 clock_status)" = synchronised ] && [ "$(field 2 clock_discipline_adjustments)" -gt 0 ] 2>/dev/null && break
	sleep 0.3
done
first=$(field 2 clock_discipline_offset_ns)
tap_diag "B: discipline $st, first offset ${first:-?} ns, reason '$(field 2 clock_discipline_reason)'"
[ "$st" = on ] && tap_ok "B's discipline is on (no other time daemon)" ||
	{ tap_fail "B's discipline is on ('$st')"; sed 's/^/# /' "$dir/log2" | tail -5; }
[ -n "$first" ] && [ "$first" -lt -15000000 ] && [ "$first" -gt -25000000 ] &&
	tap_ok "B's REALTIME first measured ~20 ms slow ($first ns)" ||
	tap_fail "B's first offset ~ -20 ms (got '${first:-none}')"

maxeps=0 bad=0 calls=0
end=$(( $(date +%s) + secs ))
while [ "$(date +%s)" -lt "$end" ]; do
	set -- $(redis-cli -p 6391 TIME.NOW | tr '\n' ' ')
	ae=$1 al=$2
	set -- $(redis-cli -p 6392 TIME.NOW | tr '\n' ' ')
	if [ "${3:-}" = synchronised ]; then
		calls=$((calls + 1))
		eps=$(( ($2 - $1 + 1) / 2 ))
		[ $eps -gt $maxeps ] && maxeps=$eps
		# read one after the other: B's bound must reach A's, allowing the gap
		[ "$1" -gt $((al + 200000000)) ] || [ "$2" -lt "$ae" ] && bad=$((bad + 1))
	fi
	tap_diag "t+$((secs - end + $(date +%s)))s B offset $(field 2 clock_discipline_offset_ns) ns epsilon $(field 2 clock_epsilon_ns) ns adjustments $(field 2 clock_discipline_adjustments)"
	sleep 5
done
off=$(field 2 clock_discipline_offset_ns)
eps=$(field 2 clock_epsilon_ns)
tap_diag "after ${secs}s: offset $off ns, epsilon $eps ns, largest TIME.NOW epsilon $maxeps ns"
[ "$(abs "$off")" -le $((eps + 1000000)) ] && tap_ok "B converged: |offset| $(abs "$off") ns <= epsilon + 1 ms" ||
	tap_fail "B converged (offset $off ns, epsilon $eps ns)"
[ $calls -gt 0 ] && [ $maxeps -lt 20000000 ] && tap_ok "B's epsilon bounded while slewing (max $maxeps ns over $calls calls)" ||
	tap_fail "B's epsilon bounded (max $maxeps ns, $calls calls)"
[ $calls -gt 0 ] && [ $bad = 0 ] && tap_ok "B's TIME.NOW meets A's every time ($calls)" ||
	tap_fail "B's TIME.NOW meets A's ($bad of $calls apart)"
kill -TERM $pa $pb; wait $pa $pb 2>/dev/null; pa="" pb=""
tap_done
