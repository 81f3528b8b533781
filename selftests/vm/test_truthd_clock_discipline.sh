#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# clock_discipline = on converges; inside the VM only (it adjusts the VM's
# CLOCK_REALTIME, which every process in the VM shares).  Two truthd on the
# VM's loopback:
#
#	A (node 1, anchor claiming 1 ms, test_clock_base = raw): its clock is
#	  MONOTONIC_RAW from its start on, so nothing done to REALTIME moves
#	  it.  For this cluster A's clock is true time.
#	B (node 2, clock_discipline = on): its wall clock is the VM's REALTIME
#	  skewed by test_clock_offset_ns = +50 ms and test_clock_drift_ppm =
#	  +100 (truthd_realtime_ns()).  The only way to correct it is to
#	  move the real REALTIME with adjtimex, which the discipline does.
#	truth-clockwatch reads k = REALTIME - RAW every 100 ms throughout.
#
# Checks (DISCIPLINE_SECONDS, default 120, is the whole watch):
#  1. B's discipline is on, its first offset (wall - middle of the bound)
#     is the injected +50 ms
#  2. B converges: |offset| <= BOUND_NS (2 ms) within CONVERGE_S (100 s)
#     of its first adjustment and on every poll after that (>= 15 s of them)
#  3. independently of B's own figure: REALTIME was moved against RAW by
#     what the skew needs, -(50 ms + 100 ppm * time since B started), to
#     within 3 ms
#  4. never stepped: k never moved faster than 1100 ppm between two
#     readings 100 ms apart (a 500 ppm slew on a 500 ppm frequency)
#  5. a time daemon appears (a process named chronyd): B refuses, says who,
#     and hands the clock back (its frequency as found, no slew left);
#     gone again, B resumes
#  6. B stopped: the kernel's frequency is as found, no slew left
# TRUTHD overrides the binary (the first controller fails 2 and 5:
# Documentation/truthd.md "Discipline").
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh

command -v redis-cli >/dev/null || { echo "1..0 # SKIP no redis-cli"; exit 0; }
[ -e /truth ] || { echo "1..0 # SKIP only inside the VM (it adjusts the system clock)"; exit 0; }
TRUTHD=${TRUTHD:-build/truthd}
watch=build/selftests/tools/truth-clockwatch
secs=${DISCIPLINE_SECONDS:-120}
bound=${BOUND_NS:-2000000}
converge=${CONVERGE_S:-100}
inj_off=50000000 inj_ppm=100
dir=$(mktemp -d)
pa="" pb="" pw="" pc=""
cleanup() {
	for p in $pa $pb $pw $pc; do kill -KILL "$p" 2>/dev/null; done
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
clock_page = $dir/clock$i
fsync = off
CONF
done
cat >>"$dir/n1.conf" <<CONF
clock_anchor_ns = 1000000
test_clock_base = raw
CONF
cat >>"$dir/n2.conf" <<CONF
clock_discipline = on
test_clock_offset_ns = $inj_off
test_clock_drift_ppm = $inj_ppm
CONF
# B's INFO truth as "key:value" lines (one process, not one per field)
info() { build/selftests/tools/truth-info -s truth 127.0.0.1:6392 | tr ' ' '\n'; }
get() { sed -n "s/^$1://p" "$dir/info" | head -1; }
abs() { [ "$1" -lt 0 ] && echo $((-$1)) || echo "$1"; }
kstate() { $watch -d 0 | sed -n 's/.* freq=\([^ ]*\) adjust=\([^ ]*\).*/freq \1 ppm, slew left \2 us/p'; }

tap_plan 6
found=$(kstate)
tap_diag "kernel before: $found"
"$TRUTHD" --config "$dir/n1.conf" 2>>"$dir/log1" &
pa=$!
sleep 1
# A's clock is REALTIME at its start and RAW's rate after: k from here on
# is what the discipline did; the watch starts with B
$watch -i 100 -d $((secs + 40)) >"$dir/watch" 2>&1 &
pw=$!
"$TRUTHD" --config "$dir/n2.conf" 2>>"$dir/log2" &
pb=$!
t0=$(date +%s)

st="" first=""
for _ in $(seq 150); do
	info >"$dir/info"
	st=$(get clock_discipline)
	first=$(get clock_discipline_offset_ns)
	[ "$st" = on ] && [ "$(get clock_discipline_adjustments)" -gt 0 ] 2>/dev/null && break
	sleep 0.2
done
tstart=$(date +%s)
tap_diag "B: discipline $st after $((tstart - t0)) s, first offset ${first:-?} ns, reason '$(get clock_discipline_reason)'"
if [ "$st" = on ] && [ -n "$first" ] && [ "$first" -gt $((inj_off - 5000000)) ] &&
   [ "$first" -lt $((inj_off + 10000000)) ]; then
	tap_ok "B's discipline is on; first offset $first ns (+50 ms injected)"
else
	tap_fail "B's discipline on with first offset ~+50 ms ('$st', '${first:-none}')"
	sed 's/^/# /' "$dir/log2" | tail -5
fi

# poll every 2 s; conv = when the offset last came back within the bound
conv="" polls=0 after=0 worst=0 next=0 maxeps=0
end=$((tstart + secs))
while [ "$(date +%s)" -lt $end ]; do
	info >"$dir/info"
	now=$(( $(date +%s) - tstart ))
	off=$(get clock_discipline_offset_ns) eps=$(get clock_epsilon_ns)
	[ -n "$off" ] || { sleep 2; continue; }
	polls=$((polls + 1))
	[ "${eps:-0}" -gt $maxeps ] && maxeps=$eps
	if [ "$(abs "$off")" -le "$bound" ]; then
		[ -n "$conv" ] || { conv=$now; after=0; worst=0; }
		after=$((after + 1))
		[ "$(abs "$off")" -gt $worst ] && worst=$(abs "$off")
	else
		conv=""
	fi
	if [ "$now" -ge $next ]; then
		tap_diag "t+${now}s offset $off ns epsilon $eps ns freq $(get clock_discipline_freq_ppb) ppb drift fit $(get clock_discipline_drift_ppb) ppb slew $(get clock_discipline_slew_ns) ns adjustments $(get clock_discipline_adjustments) spikes $(get clock_discipline_spikes)"
		next=$((next + 10))
	fi
	sleep 2
done
tap_diag "after ${secs}s: offset $off ns, epsilon $eps ns (largest $maxeps), $polls polls; within ${bound} ns since t+${conv:-never}s ($after polls, largest $worst ns)"
if [ -n "$conv" ] && [ "$conv" -le "$converge" ] && [ $((secs - conv)) -ge 15 ]; then
	tap_ok "B converged: |offset| <= $bound ns from t+${conv}s (limit ${converge}s) to the end, largest $worst ns"
else
	tap_fail "B converged to $bound ns within ${converge}s and stayed (since t+${conv:-never}s, last offset $off ns)"
fi

# what REALTIME was moved by, from the kernel's own clocks
kill -TERM $pw
wait $pw
pw=""
tail -3 "$dir/watch" | sed 's/^/# /'
tw=$(grep '^clockwatch: t=' "$dir/watch" | tail -1 | sed 's/^clockwatch: t=\([0-9]*\).*/\1/')
moved=$(sed -n 's/.* k moved \(-*[0-9]*\) ns.*/\1/p' "$dir/watch")
want=$((-(inj_off + inj_ppm * tw * 1000)))
if [ -n "$moved" ] && [ "$(abs $((moved - want)))" -le 3000000 ]; then
	tap_ok "REALTIME moved $moved ns against RAW over ${tw}s; the skew needs $want ns"
else
	tap_fail "REALTIME moved '${moved:-?}' ns against RAW over ${tw:-?}s; the skew needs $want ns (+-3 ms)"
fi
if grep -q ': ok$' "$dir/watch" && ! grep -q STEP "$dir/watch"; then
	tap_ok "never stepped: $(sed -n 's/.*\(fastest [0-9.]* ppm\).*/\1/p' "$dir/watch"), no jump above 1100 ppm between readings"
else
	tap_fail "REALTIME stepped"; grep STEP "$dir/watch" | head -3 | sed 's/^/# /'
fi

# a time daemon appears: its name is what is looked for
printf '#!/bin/sh\nwhile :; do sleep 1; done\n' >"$dir/chronyd"
chmod +x "$dir/chronyd"
"$dir/chronyd" &
pc=$!
st="" why=""
for _ in $(seq 30); do
	info >"$dir/info"
	st=$(get clock_discipline)
	[ "$st" = refused ] && break
	sleep 0.5
done
# (truth-info leaves out values with spaces: the reason comes from redis-cli)
why=$(redis-cli -p 6392 INFO truth | tr -d '\r' | sed -n 's/^clock_discipline_reason://p')
ks=$(kstate)
kill -KILL $pc
wait $pc 2>/dev/null
cpid=$pc pc=""
back=""
for _ in $(seq 30); do
	info >"$dir/info"
	back=$(get clock_discipline)
	[ "$back" = on ] && break
	sleep 0.5
done
tap_diag "chronyd $cpid: B '$st' ($why), kernel then: $ks; after it went: '$back'"
if [ "$st" = refused ] && echo "$why" | grep -q "chronyd (pid [0-9]*) is running" &&
   grep -q "clock: discipline refused: chronyd (pid [0-9]*) is running" "$dir/log2" &&
   [ "$ks" = "$found" ] && [ "$back" = on ]; then
	tap_ok "a time daemon appears: refused ($why), clock handed back ($ks); resumed when it went"
else
	tap_fail "refusal when chronyd runs ('$st' '$why', kernel '$ks' vs '$found', then '$back')"
fi

kill -TERM $pa $pb
wait $pa $pb 2>/dev/null
pa="" pb=""
ks=$(kstate)
[ "$ks" = "$found" ] && tap_ok "B stopped: kernel as found ($ks)" ||
	tap_fail "B stopped: kernel '$ks', found '$found'"
tap_done
