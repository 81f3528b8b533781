#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# truthd's clock sync: three truthd on loopback probe each other over their
# peer socket.  Nodes 1 and 2 are anchors (clock_anchor_ns = 100 us: every
# node reads the same host CLOCK_REALTIME, so the claim is true), node 3
# derives its bound from them.  All share the host clock, so true time is
# the host's CLOCK_REALTIME and each bound can be checked against it:
# synchronised on every node within a few seconds, TIME.NOW's
# [earliest, latest] holds CLOCK_REALTIME read around the call, epsilon
# small, INFO and `truthctl time --page` agree; then nodes 1 and 2 stop and
# node 3 turns free-running with a growing epsilon.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/truthd.sh"

truthd_init clock 24000
tap_plan 9
truthd_need_redis 9

info() { redis-cli -p "$(cport $1)" INFO truth 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"; }

for i in 1 2 3; do
	anchor=100000
	[ $i = 3 ] && anchor=0
	truthd_conf $i <<CONF
fsync = off
clock_page = $dir/page$i
clock_anchor_ns = $anchor
CONF
done

# --check-config: a page in a missing directory, a relative one, a bad anchor
out=$("$TRUTHD" --check-config --config "$dir/n1.conf" --set clock_page=$dir/nodir/page \
	--set clock_anchor_ns=-1 2>&1)
rc=$?
out2=$("$TRUTHD" --check-config --config "$dir/n1.conf" --set clock_page=rel/page 2>&1)
rc2=$?
ok=$("$TRUTHD" --check-config --config "$dir/n1.conf" 2>&1)
if [ $rc = 1 ] && [ $rc2 = 1 ] && echo "$out" | grep -q "clock_page: directory $dir/nodir does not exist" &&
   echo "$out" | grep -q "clock_anchor_ns: " && echo "$out2" | grep -q "clock_page: must be an absolute path" &&
   [ "$ok" = "$dir/n1.conf: ok" ]; then
	tap_ok "check-config validates clock_page and clock_anchor_ns"
else
	tap_fail "check-config validates clock_page and clock_anchor_ns"; tap_diag "$rc $out / $rc2 $out2 / $ok"
fi

truthd_start 1 2 3

t0=$(date +%s%N)
synced=""
for _t in $(seq 50); do
	synced=""
	for i in 1 2 3; do
		[ "$(info $i clock_status)" = synchronised ] && synced="$synced $i"
	done
	[ "$synced" = " 1 2 3" ] && break
	sleep 0.2
done
if [ "$synced" = " 1 2 3" ]; then
	tap_ok "every node synchronised after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
else
	tap_fail "every node synchronised"; tap_diag "synchronised:$synced"
	for i in 1 2 3; do tap_diag "node $i: $(info $i clock_status) $(tail -3 "$dir/log$i")"; done
fi

# TIME.NOW against CLOCK_REALTIME read before and after the call, 20 times per node
bad=0
maxeps=0
for i in 1 2 3; do
	for _k in $(seq 20); do
		before=$(date +%s%N)
		r=$(redis-cli -p "$(cport $i)" TIME.NOW | tr '\n' ' ')
		after=$(date +%s%N)
		set -- $r
		if [ "$3" != synchronised ] || [ "$1" -gt "$after" ] || [ "$2" -lt "$before" ]; then
			bad=$((bad + 1))
			tap_diag "node $i: TIME.NOW '$r' around [$before, $after]"
		fi
		eps=$(( ($2 - $1 + 1) / 2 ))
		[ $eps -gt $maxeps ] && maxeps=$eps
	done
done
[ $bad = 0 ] && tap_ok "TIME.NOW holds CLOCK_REALTIME on every node (60 calls)" ||
	tap_fail "TIME.NOW holds CLOCK_REALTIME on every node ($bad of 60 wrong)"

tap_diag "largest TIME.NOW epsilon: $maxeps ns"
for i in 1 2 3; do tap_diag "node $i: INFO clock_epsilon_ns=$(info $i clock_epsilon_ns) samples=$(info $i clock_samples) tx_stamps=$(info $i clock_tx_stamps)"; done
# anchors claim 100 us; loopback adds tens of us
[ "$maxeps" -gt 0 ] && [ "$maxeps" -lt 2000000 ] && tap_ok "epsilon finite and small ($maxeps ns < 2 ms)" ||
	tap_fail "epsilon finite and small ($maxeps ns)"

ok=1
n=0
for i in 1 2 3; do
	[ "$(info $i clock_tx_stamps)" -gt 0 ] 2>/dev/null && n=$((n + 1))
done
[ $n = 3 ] && tap_ok "kernel TX timestamps used on every node" ||
	tap_fail "kernel TX timestamps used on every node ($n of 3)"

# the page, read by truthctl, bounds CLOCK_REALTIME too; same status as TIME.NOW
bad=0
for i in 1 2 3; do
	before=$(date +%s%N)
	j=$("$TRUTHCTL" time --page "$dir/page$i" --json)
	after=$(date +%s%N)
	st=$(echo "$j" | sed -n 's/.*"status":"\([^"]*\)".*/\1/p')
	e=$(echo "$j" | sed -n 's/.*"earliest_ns":\([0-9-]*\).*/\1/p')
	l=$(echo "$j" | sed -n 's/.*"latest_ns":\([0-9-]*\).*/\1/p')
	set -- $(redis-cli -p "$(cport $i)" TIME.NOW | tr '\n' ' ')
	if [ "$st" != synchronised ] || [ "$3" != "$st" ] || [ -z "$e" ] ||
	   [ "$e" -gt "$after" ] || [ "$l" -lt "$before" ]; then
		bad=$((bad + 1))
		tap_diag "node $i: page $j around [$before, $after]; TIME.NOW after: $1 $2"
	fi
done
[ $bad = 0 ] && tap_ok "truthctl time --page agrees on every node" ||
	tap_fail "truthctl time --page agrees ($bad of 3 wrong)"

truthd_stop 1 2
stopped=$?
eps0=$(info 3 clock_epsilon_ns)
st=""
for _t in $(seq 60); do
	st=$(info 3 clock_status)
	[ "$st" = free-running ] && break
	sleep 0.25
done
[ "$st" = free-running ] && [ $stopped = 0 ] &&
	tap_ok "node 3 free-running after nodes 1 and 2 stopped (exit 0 each)" ||
	{ tap_fail "node 3 free-running after nodes 1 and 2 stopped"; tap_diag "status $st, $truthd_exits"; }
e1=$(info 3 clock_epsilon_ns)
sleep 1
e2=$(info 3 clock_epsilon_ns)
tap_diag "node 3 epsilon: $eps0 ns at the stop, $e1 then $e2 ns one second later"
[ "$e2" -gt "$e1" ] && [ "$e1" -ge "$eps0" ] && tap_ok "node 3's epsilon grows" ||
	tap_fail "node 3's epsilon grows ($eps0, $e1, $e2)"

before=$(date +%s%N)
set -- $(redis-cli -p "$(cport 3)" TIME.NOW | tr '\n' ' ')
after=$(date +%s%N)
[ "$3" = free-running ] && [ "$1" -le "$after" ] && [ "$2" -ge "$before" ] &&
	tap_ok "free-running TIME.NOW still holds CLOCK_REALTIME" ||
	tap_fail "free-running TIME.NOW still holds CLOCK_REALTIME ($* around $before $after)"
