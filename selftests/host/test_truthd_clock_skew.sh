#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The test-only clock skew (test_clock_offset_ns, test_clock_drift_ppm,
# test_hooks, TRUTH.DEBUG CLOCK).  Three truthd on loopback, all anchors
# claiming 200 us; every node reads the same host CLOCK_REALTIME, so true
# time is the host's CLOCK_REALTIME, and node 3's wall clock is skewed
# +50 ms, so its claim is false:
#
#	node 1 (anchor) ---- node 2 (anchor)
#	        \              /
#	         node 3 (anchor, clock +50 ms, test_hooks = on)
#
# Nodes 1 and 2 must name node 3 a falseticker (INFO clock_falsetickers)
# and their TIME.NOW must hold CLOCK_REALTIME.  Node 3's own reference is
# outvoted by its two peers ("self" in its falsetickers): its TIME.NOW
# holds true time, i.e. its skewed wall clock mapped back by the known
# offset, and not the skewed reading itself.  TRUTH.DEBUG is refused
# without test_hooks; TRUTH.DEBUG CLOCK 0 0 on node 3 removes the skew and
# the others take it back.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/truthd.sh"

SKEW=50000000
truthd_init skew 20000
tap_plan 11
truthd_need_redis 11

info() { redis-cli -p "$(cport $1)" INFO truth 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"; }
cli() { n=$1; shift; redis-cli -p "$(cport $n)" "$@" 2>&1; }

for i in 1 2 3; do
	truthd_conf $i <<CONF
fsync = off
clock_page = $dir/page$i
clock_anchor_ns = 200000
CONF
done
cat >> "$dir/n3.conf" <<CONF
test_clock_offset_ns = $SKEW
test_clock_drift_ppm = 0
test_hooks = on
CONF

# --check-config: every bad test key reported, the good file passes
out=$("$TRUTHD" --check-config --config "$dir/n3.conf" --set test_clock_offset_ns=1e9 \
	--set test_clock_drift_ppm=100001 --set test_hooks=yes 2>&1)
rc=$?
out2=$("$TRUTHD" --check-config --config "$dir/n3.conf" --set test_clock_offset_ns=-86400000000001 2>&1)
rc2=$?
ok=$("$TRUTHD" --check-config --config "$dir/n3.conf" --set test_clock_drift_ppm=-100000 2>&1)
if [ $rc = 1 ] && [ $rc2 = 1 ] && echo "$out" | grep -q "test_clock_offset_ns: must be an integer" &&
   echo "$out" | grep -q "test_clock_drift_ppm: must be an integer -100000..100000" &&
   echo "$out" | grep -q "test_hooks: must be on or off" &&
   echo "$out2" | grep -q "test_clock_offset_ns: " && [ "$ok" = "$dir/n3.conf: ok" ]; then
	tap_ok "check-config validates test_clock_offset_ns, test_clock_drift_ppm, test_hooks"
else
	tap_fail "check-config validates the test clock keys"; tap_diag "$rc $out / $rc2 $out2 / $ok"
fi

truthd_start 1 2 3

# synchronised everywhere, and node 3 named by both others
ready=""
for _t in $(seq 100); do
	ready=""
	for i in 1 2 3; do
		[ "$(info $i clock_status)" = synchronised ] && ready="$ready $i"
	done
	f1=$(info 1 clock_falsetickers); f2=$(info 2 clock_falsetickers); f3=$(info 3 clock_falsetickers)
	[ "$ready" = " 1 2 3" ] && [ "$f1" = 3 ] && [ "$f2" = 3 ] && [ "$f3" = self ] && break
	sleep 0.2
done
[ "$ready" = " 1 2 3" ] && tap_ok "every node synchronised" ||
	{ tap_fail "every node synchronised"; tap_diag "synchronised:$ready"; }
if [ "$f1" = 3 ] && [ "$f2" = 3 ] && [ "$f3" = self ]; then
	tap_ok "node 3 (+50 ms) is a falseticker for nodes 1 and 2; node 3 outvotes its own clock"
else
	tap_fail "node 3 flagged as falseticker"
	tap_diag "falsetickers: node1 '$f1' node2 '$f2' node3 '$f3'"
	for i in 1 2 3; do tap_diag "node $i: $(tail -3 "$dir/log$i")"; done
fi
o3=$(info 3 clock_test_offset_ns); d3=$(info 3 clock_test_drift_ppm); o1=$(info 1 clock_test_offset_ns)
[ "$o3" = $SKEW ] && [ "$d3" = 0 ] && [ -z "$o1" ] &&
	tap_ok "INFO shows clock_test_offset_ns/drift_ppm on the skewed node only" ||
	tap_fail "INFO clock_test_* ('$o3' '$d3' on node 3, '$o1' on node 1)"

# TIME.NOW around CLOCK_REALTIME: nodes 1, 2 as is; for node 3 its wall
# clock mapped back by its offset (minus SKEW) is true time, which must be
# inside, and its skewed reading must be outside
bad=0
maxeps=0
for i in 1 2 3; do
	for _k in $(seq 20); do
		# true time at the call is in [before, after] (redis-cli's own
		# start-up can take 100+ ms here: read the clock just before)
		before=$(date +%s%N)
		r=$(redis-cli -p "$(cport $i)" TIME.NOW | tr '\n' ' ')
		after=$(date +%s%N)
		set -- $r
		if [ "$3" != synchronised ] || [ "$1" -gt "$after" ] || [ "$2" -lt "$before" ]; then
			bad=$((bad + 1))
			tap_diag "node $i: TIME.NOW '$r' around [$before, $after]"
		fi
		# node 3's wall clock is true time + SKEW: with true time
		# inside, a width under SKEW leaves the skewed reading outside
		if [ $i = 3 ] && [ $(($2 - $1)) -ge $SKEW ]; then
			bad=$((bad + 1))
			tap_diag "node 3: TIME.NOW '$r' as wide as its skew: holds its own clock"
		fi
		eps=$(( ($2 - $1 + 1) / 2 ))
		[ $eps -gt $maxeps ] && maxeps=$eps
	done
done
tap_diag "largest TIME.NOW epsilon: $maxeps ns"
[ $bad = 0 ] && tap_ok "TIME.NOW holds true time on every node, the skewed one too (60 calls)" ||
	tap_fail "TIME.NOW holds true time ($bad of 60 wrong)"

r=$(cli 1 TRUTH.DEBUG CLOCK 0 0)
[ "$r" = "ERR TRUTH.DEBUG needs test_hooks = on" ] && tap_ok "TRUTH.DEBUG refused without test_hooks" ||
	tap_fail "TRUTH.DEBUG refused without test_hooks: '$r'"

r1=$(cli 3 TRUTH.DEBUG CLOCK 1x 0); r2=$(cli 3 TRUTH.DEBUG CLOCK 0 100001)
r3=$(cli 3 TRUTH.DEBUG CLOCK 0); r4=$(cli 3 TRUTH.DEBUG NOSUCH)
o3=$(info 3 clock_test_offset_ns)
if echo "$r1" | grep -q "offset_ns must be an integer" && echo "$r2" | grep -q "drift_ppm must be" &&
   echo "$r3" | grep -q "wrong number of arguments" && echo "$r4" | grep -q "unknown subcommand" &&
   [ "$o3" = $SKEW ]; then
	tap_ok "TRUTH.DEBUG CLOCK: bad arguments refused, skew unchanged"
else
	tap_fail "TRUTH.DEBUG CLOCK bad arguments"; tap_diag "'$r1' '$r2' '$r3' '$r4' offset $o3"
fi

# the skew removed at run time: node 3 becomes a truechimer again
r=$(cli 3 TRUTH.DEBUG CLOCK 0 0)
o3=$(info 3 clock_test_offset_ns)
[ "$r" = OK ] && [ "$o3" = 0 ] && tap_ok "TRUTH.DEBUG CLOCK 0 0 with test_hooks: OK" ||
	tap_fail "TRUTH.DEBUG CLOCK 0 0: '$r', offset now '$o3'"
for _t in $(seq 100); do
	f1=$(info 1 clock_falsetickers); f2=$(info 2 clock_falsetickers); f3=$(info 3 clock_falsetickers)
	[ -z "$f1$f2$f3" ] && break
	sleep 0.2
done
[ -z "$f1$f2$f3" ] && tap_ok "skew removed: no falseticker left on any node" ||
	tap_fail "skew removed: falsetickers '$f1' '$f2' '$f3'"

# test_hooks: node 3 checked true time against its bound after every sample
all=$(redis-cli -p "$(cport 3)" INFO truth | tr -d '\r')
ck=$(echo "$all" | sed -n 's/^clock_test_checked://p')
ct=$(echo "$all" | sed -n 's/^clock_test_contained://p')
tap_diag "node 3 in-process containment: $ct/$ck samples"
[ "${ck:-0}" -gt 0 ] && [ "$ck" = "$ct" ] && tap_ok "node 3: true time in its bound after every sample ($ct/$ck)" ||
	tap_fail "node 3: containment $ct/$ck"

truthd_stop 1 2 3 && tap_ok "SIGTERM: every node exits 0" || tap_fail "SIGTERM exits: $truthd_exits"
tap_done
