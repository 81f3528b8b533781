#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# truth-timeout: 420
#
# Failover time under a write load: three truthd on loopback (user-space
# counting, fsync on, election timeout 300 ms, heartbeat 50 ms), four
# truth-torture clients writing (SET, INCR) and reading, and the leader
# killed with SIGKILL KILLS times (default 20, TRUTH_FAILOVER_KILLS), each
# time restarted from its data dir after a pause.  A failover is the time
# from the kill to the completion of the first write a client invoked after
# the killed process was gone (so no write the dead leader committed
# counts), as in the fault campaign (Documentation/torture.md).
#
# Every failover must be below BOUND_MS = 5 x election timeout = 1500 ms
# (Documentation/raft.md "Failover"):
#   600 ms  the survivors last heard the leader at most a heartbeat before
#           the kill and time out at most 2 x election timeout after that
#           (a voter's leader stickiness only delays a pre-vote until the
#           next ask, one heartbeat later);
#   300 ms  one more election round, for the split vote or lost datagram
#           the pre-vote rules make rare but not impossible;
#   600 ms  4 fsyncs in series (candidate's term, voter's vote, the no-op
#           on both) and the clients' 50 ms retry, on a loaded 2-core host.
# The kill's start time is taken before the kill (the shell's process
# start is counted against us), its end after the node was reaped.
# Prints n, p50, p99, max.  A kill that found its node no longer leading
# (a leadership change between the poll and the kill) is reported and not
# counted.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/truthd.sh"

TOOLS=$(dirname "$0")/../../build/selftests/tools
KILLS=${TRUTH_FAILOVER_KILLS:-20}
ET=300
BOUND_MS=$((5 * ET))

truthd_init failover 26000
tap_plan 3
truthd_need_redis 3
for t in truth-torture truth-linz; do
	if [ ! -x "$TOOLS/$t" ]; then
		for c in 1 2 3; do tap_skip "case $c" "$TOOLS/$t not built (make build)"; done
		exit 0
	fi
done

for i in 1 2 3; do
	truthd_conf $i <<CONF
fast_path = user
fsync = on
election_timeout_ms = $ET
heartbeat_ms = 50
CONF
done

now() { "$TOOLS/truth-linz" --now; }
cpid=""
stop_client() { [ -n "$cpid" ] && kill -TERM "$cpid" 2>/dev/null && wait "$cpid"; cpid=""; }
trap 'stop_client; truthd_cleanup' EXIT

# was node $1 leading when it died: the last role line of its current run
was_leader() {
	awk '/^=== start/ { r = "" } /: info: (leader of term|following node|[a-z]+ in term .*, no leader)/ { r = $0 }
	     END { exit !(r ~ /leader of term/) }' "$dir/log$1"
}

truthd_start 1 2 3
if ! L=$(leader); then
	tap_fail "a leader is elected"
	for c in 2 3; do tap_skip "case $c" "no leader"; done
	exit 1
fi
tap_ok "a leader is elected (node $L)"

"$TOOLS/truth-torture" --addr "127.0.0.1:$(cport 1)" --addr "127.0.0.1:$(cport 2)" \
	--addr "127.0.0.1:$(cport 3)" --history "$dir/history" --clients 4 --registers 12 \
	--counters 2 --duration 3600 --timeout-ms 1500 --seed $$ >"$dir/client.out" 2>&1 &
cpid=$!
sleep 2

: >"$dir/kills"
k=0 tries=0
while [ $k -lt "$KILLS" ] && [ $tries -lt $((KILLS + 10)) ]; do
	tries=$((tries + 1))
	L=$(leader) || { tap_diag "no single leader to kill"; sleep 1; continue; }
	t0=$(now)
	eval "kill -KILL \$pid$L; { wait \$pid$L; } 2>/dev/null; pid$L="
	t1=$(now)
	if was_leader "$L"; then
		k=$((k + 1))
		echo "$t0 $t1 $L" >>"$dir/kills"
	else
		tap_diag "node $L had lost the lead before the kill: not counted"
	fi
	sleep 1.5
	echo "=== start" >>"$dir/log$L"
	truthd_start "$L"
	sleep 1.5
done
sleep 1
stop_client

# per kill: ms from t0 to the first ok write invoked after t1 ("none": no
# write acknowledged before the next kill)
awk -v K="$dir/kills" '
BEGIN { while ((getline l < K) > 0) { split(l, p, " "); n++; t0[n] = p[1]; t1[n] = p[2] } }
($2 == "write" || $2 == "incr") && $8 == "ok" { inv[++m] = $5; done[m] = $6 }
END {
	for (i = 1; i <= n; i++) {
		best = -1
		lim = (i < n) ? t0[i + 1] : 1e30
		for (j = 1; j <= m; j++)
			if (inv[j] >= t1[i] && done[j] < lim && (best < 0 || done[j] < best)) best = done[j]
		print (best < 0 ? "none" : int((best - t0[i]) / 1000000))
	}
}' "$dir/history" >"$dir/failover"

n=$(grep -c . "$dir/failover")
none=$(grep -c none "$dir/failover")
stats=$(grep -v none "$dir/failover" | sort -n | awk '{ v[++n] = $1 }
	function pct(p,   i) { i = int((n - 1) * p / 100 + 0.999999); return v[i + 1] }
	END { if (n) printf "n=%d p50 %d ms p99 %d ms max %d ms", n, pct(50), pct(99), v[n] }')
tap_diag "failover (leader kill -9 -> first new commit): $stats; $none without a commit"
tap_diag "per kill (ms): $(tr '\n' ' ' <"$dir/failover")"
tap_diag "clients: $(cat "$dir/client.out")"

if [ "$n" -ge "$KILLS" ] && [ "$none" = 0 ]; then
	tap_ok "$KILLS leader kills, each followed by a new commit"
else
	tap_fail "$KILLS leader kills, each followed by a new commit"
	tap_diag "$n kills counted, $none without a commit"
fi
max=$(grep -v none "$dir/failover" | sort -n | tail -n 1)
if [ -n "$max" ] && [ "$max" -lt $BOUND_MS ]; then
	tap_ok "every failover below $BOUND_MS ms (5 x election timeout; max $max ms)"
else
	tap_fail "every failover below $BOUND_MS ms (5 x election timeout; max ${max:-none} ms)"
	for i in 1 2 3; do tap_diag "node $i:"; tail -n 15 "$dir/log$i" | sed 's/^/#   /'; done
fi
truthd_stop 1 2 3 || tap_diag "$truthd_exits"
tap_done
