#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# HLC on entries and commit-wait (Documentation/clock.md "HLC on entries",
# "Commit-wait"), three truthd on loopback in user mode:
#
#   node 1 --\
#   node 2 ---+-- 127.0.0.1, peer and client ports per node
#   node 3 --/
#
# 1. Without a clock agreement (no anchors) COMMITWAIT is refused with -ERR
#    and nothing is applied; TRUTH.REQ ... HLC answers [hlc, reply].
# 2. Restarted with anchors claiming 25 ms (so ε is about 25 ms and the
#    wait is long enough to measure): every write's HLC is above every
#    earlier one, across the restart and across a leader kill -9;
#    `truthctl put --json` shows the HLC; reads report the last applied HLC.
# 3. Commit-wait: for every COMMITWAIT write, CLOCK_REALTIME read right
#    after the reply is past the commit timestamp, and the wait held by the
#    leader is about 2ε (Spanner's: from latest at the pick to earliest
#    past it) while plain writes are not held.
# When truthd knows test_clock_offset_ns (clockref's test clock layer) the
# nodes' clocks are skewed by +10, -10 and 0 ms within the anchors' claim;
# otherwise the real clock is used and a diagnostic says so.
. "$(dirname "$0")/../lib/tap.sh"

TRUTHD=${TRUTHD:-$(dirname "$0")/../../build/truthd}
TRUTHCTL=${TRUTHCTL:-$(dirname "$0")/../../build/truthctl}
base=$((26000 + ($$ % 2000) * 10))
dir=$(mktemp -d /tmp/truthd-hlc-XXXXXX)
pids=""

cleanup() {
	for p in $pids; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT

tap_plan 11
if ! command -v redis-cli >/dev/null; then
	for i in $(seq 11); do tap_skip "case $i" "redis-cli not installed (scripts/deps.sh)"; done
	exit 0
fi

cport() { echo $((base + $1)); }
pport() { echo $((base + 5 + $1)); }
info() { redis-cli -p "$(cport $1)" INFO "${3:-truth}" 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"; }
rc() { _n=$1; shift; redis-cli -p "$(cport $_n)" "$@" 2>&1; }

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/key"
chmod 600 "$dir/key"
for i in 1 2 3; do
	cat > "$dir/n$i.conf" <<CONF
node_id = $i
group_id = 1
data_dir = $dir/d$i
peer_listen = 127.0.0.1:$(pport $i)
peer = 1 127.0.0.1:$(pport 1)
peer = 2 127.0.0.1:$(pport 2)
peer = 3 127.0.0.1:$(pport 3)
client_listen = 127.0.0.1:$(cport $i)
key_file = $dir/key
fsync = off
clock_page = $dir/page$i
CONF
done

skew=""
if "$TRUTHD" --check-config --config "$dir/n1.conf" --set test_clock_offset_ns=1 >/dev/null 2>&1; then
	skew=yes
	echo "test_clock_offset_ns = 10000000" >> "$dir/n1.conf"
	echo "test_clock_offset_ns = -10000000" >> "$dir/n2.conf"
	tap_diag "clocks skewed: node 1 +10 ms, node 2 -10 ms, node 3 0 (test_clock_offset_ns)"
else
	tap_diag "this truthd has no test_clock_offset_ns: real clocks, no skew"
fi

start() {	# start NODE [--set ...]
	n=$1
	shift
	"$TRUTHD" --config "$dir/n$n.conf" "$@" 2>>"$dir/log$n" &
	eval "pid$n=$!"
	pids="$pids $!"
}

leader() {	# the node that says it leads, else empty
	for i in 1 2 3; do
		[ "$(info $i role)" = leader ] && { echo $i; return; }
	done
}

wait_leader() {
	for _t in $(seq 100); do
		L=$(leader)
		[ -n "$L" ] && return 0
		sleep 0.1
	done
	return 1
}

# HLCs of the writes, in the order they were acknowledged
hlcs="$dir/hlcs"
: > "$hlcs"
echo 1 > "$dir/seq"
put_hlc() {	# put_hlc NODE KEY VALUE: a TRUTH.REQ HLC write; records the HLC
	# (a file, not a variable: callers run it in a subshell)
	sq=$(( $(cat "$dir/seq") + 1 ))
	echo $sq > "$dir/seq"
	_p=$1
	for _try in 1 2 3 4 5; do
		r=$(redis-cli -p "$(cport $_p)" TRUTH.REQ 77 $sq HLC SET "$2" "$3" | tr '\n' ' ')
		case "$r" in
		MOVED*|TRYAGAIN*)	# the same seq again at the leader: applied once
			sleep 0.3
			wait_leader
			_p=$L
			continue ;;
		esac
		break
	done
	set -- $r
	[ "$2" = OK ] && echo "$1" >> "$hlcs"
	echo "$r"
}

increasing() {	# the recorded HLCs strictly increase
	awk 'NR > 1 && $1 <= prev { bad = 1; print "# not above the one before: " prev " then " $1 } { prev = $1 } END { exit bad }' "$hlcs"
}

# ---------------------------------------------------------------- no agreement
for i in 1 2 3; do start $i --set clock_anchor_ns=0; done
wait_leader
r=$(rc $L TRUTH.REQ 77 1 COMMITWAIT SET cw refused)
g=$(rc $L GET cw)
if echo "$r" | grep -q "^ERR COMMITWAIT needs a bounded clock: this node's clock status is unknown" &&
   [ -z "$g" ] && [ "$(info $L session_clock coordination)" = wall ]; then
	tap_ok "COMMITWAIT refused while the clock status is unknown, nothing applied"
else
	tap_fail "COMMITWAIT refused while the clock status is unknown"; tap_diag "reply '$r', GET '$g'"
fi

r1=$(put_hlc $L a 1)
r2=$(put_hlc $L a 2)
set -- $r1
h1=$1
set -- $r2
if [ "$h1" -gt 1700000000000000000 ] 2>/dev/null && [ "$2" = OK ] && [ "$1" -gt "$h1" ]; then
	tap_ok "TRUTH.REQ ... HLC answers [hlc, reply] ($r2)"
else
	tap_fail "TRUTH.REQ ... HLC answers [hlc, reply]"; tap_diag "'$r1' then '$r2'"
fi
kill -TERM $pid1 $pid2 $pid3
wait $pid1 $pid2 $pid3 2>/dev/null
pids=""

# ---------------------------------------------------------------- anchors
for i in 1 2 3; do start $i --set clock_anchor_ns=25000000; done
synced=""
for _t in $(seq 100); do
	synced=""
	for i in 1 2 3; do [ "$(info $i clock_status)" = synchronised ] && synced="$synced $i"; done
	[ "$synced" = " 1 2 3" ] && break
	sleep 0.1
done
wait_leader
[ "$synced" = " 1 2 3" ] && [ -n "$L" ] && tap_ok "restarted with anchors: synchronised, node $L leads" ||
	tap_fail "restarted with anchors: synchronised ($synced), leader '$L'"

for k in $(seq 10); do put_hlc $L b $k > /dev/null; done
j=$("$TRUTHCTL" put c 1 --json --addr 127.0.0.1:$(cport $L))
jh=$(echo "$j" | sed -n 's/.*"hlc":\([0-9]*\).*/\1/p')
[ -n "$jh" ] && echo "$jh" >> "$hlcs"
if [ -n "$jh" ] && echo "$j" | grep -q '^{"key":"c","ok":true,"hlc":[0-9]*}$'; then
	tap_ok "truthctl put --json shows the entry's HLC ($j)"
else
	tap_fail "truthctl put --json shows the entry's HLC"; tap_diag "$j"
fi
if increasing; then
	tap_ok "HLCs strictly increase across a full restart ($(wc -l < "$hlcs") writes)"
else
	tap_fail "HLCs strictly increase across a full restart"
fi

# ---------------------------------------------------------------- leader kill
old=$L
last=$(tail -1 "$hlcs")
eval "kill -KILL \$pid$old"
for _t in $(seq 100); do
	L=$(leader)
	[ -n "$L" ] && [ "$L" != "$old" ] && break
	sleep 0.1
done
for k in $(seq 10); do put_hlc $L d $k > /dev/null; done
start $old --set clock_anchor_ns=25000000
sleep 1
for k in $(seq 5); do put_hlc $L e $k > /dev/null; done
n_after=$(awk -v l="$last" '$1 > l' "$hlcs" | wc -l)
if [ "$L" != "$old" ] && increasing && [ "$n_after" = 15 ]; then
	tap_ok "HLCs strictly increase across a leader kill -9 (node $old -> $L; 15 writes after)"
else
	tap_fail "HLCs strictly increase across a leader kill -9 (node $old -> $L, $n_after after)"
fi
rd=$(redis-cli -p "$(cport $L)" TRUTH.REQ 78 1 HLC GET e | tr '\n' ' ')
set -- $rd
[ "$2" = 5 ] && [ "$1" -ge "$(tail -1 "$hlcs")" ] &&
	tap_ok "a read reports the last applied HLC ($rd)" ||
	tap_fail "a read reports the last applied HLC ('$rd', last write $(tail -1 "$hlcs"))"
[ "$(info $L hlc_refused coordination)" = 0 ] && tap_ok "no datagram HLC refused" ||
	tap_fail "datagram HLCs refused: $(info $L hlc_refused coordination)"

# ---------------------------------------------------------------- commit-wait
# on one leader: a leader change on this loaded host starts the round again
cw_round() {
	wait_leader
	eps=$(info $L clock_epsilon_ns)
	w0=$(info $L commit_wait_ns_total coordination)
	c0=$(info $L commit_waits coordination)
	bad=0
	lat=""
	for k in $(seq 20); do
		t0=$(date +%s%N)
		r=$(redis-cli -p "$(cport $L)" TRUTH.REQ 79 $((round * 100 + k)) COMMITWAIT SET cw $k | tr '\n' ' ')
		t1=$(date +%s%N)
		case "$r" in MOVED*|TRYAGAIN*) return 1 ;; esac
		set -- $r
		if [ "$2" != OK ] || [ "$t1" -le "$1" ]; then
			bad=$((bad + 1))
			tap_diag "write $k: '$r', CLOCK_REALTIME after the reply $t1"
		fi
		lat="$lat $(( (t1 - t0) / 1000 ))"
	done
	w1=$(info $L commit_wait_ns_total coordination)
	c1=$(info $L commit_waits coordination)
	[ "$((c1 - c0))" -gt 0 ] || return 1
	held=$(( (w1 - w0) / (c1 - c0) / 1000 ))
}
for round in 1 2 3; do
	cw_round && break
	tap_diag "commit-wait round $round: the leader changed, again"
done
tap_diag "leader epsilon $((eps / 1000)) us; commit-wait held replies $held us on average over $((c1 - c0)); client latencies (us):$lat"
[ $bad = 0 ] && [ -n "$lat" ] && tap_ok "CLOCK_REALTIME right after every COMMITWAIT reply is past its timestamp (20 writes)" ||
	tap_fail "CLOCK_REALTIME after COMMITWAIT replies ($bad of 20 not past)"
# the wait is 2ε less what committing took: between ε and 2ε + scheduling
if [ "$((c1 - c0))" = 20 ] && [ "${held:-0}" -ge $((eps / 1000)) ] && [ "$held" -le $((2 * eps / 1000 + 20000)) ]; then
	tap_ok "the commit wait is about 2 epsilon (held $held us, epsilon $((eps / 1000)) us)"
else
	tap_fail "the commit wait is about 2 epsilon (held $held us over $((c1 - c0)), epsilon $((eps / 1000)) us)"
fi
c2=$(info $L commit_waits coordination)
for k in $(seq 5); do put_hlc $L p $k > /dev/null; done
[ "$(info $L commit_waits coordination)" = "$c2" ] && tap_ok "plain writes are not held" ||
	tap_fail "plain writes are not held"

tap_done
