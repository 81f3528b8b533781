#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# INFO latency (agent/truthd/lat.c): three truthd on loopback, fsync on,
# one client writing 200 times in a row.  The leader must have timed every
# write from proposal to reply, with the stages in order (each write's
# commit comes before its reply, so the p50s are ordered too); each
# follower must have timed every entry from receipt to ack and synced
# sequential writes in its loop (durable.c "Where a sync runs"), each
# sync before its ack; and the section must stay out of a plain INFO.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/truthd.sh"

LOAD=${LOAD:-$(dirname "$0")/../../build/selftests/tools/truth-load}
N=200

truthd_init latency 26000
tap_plan 3
truthd_need_redis 3
if [ ! -x "$LOAD" ]; then
	for i in 1 2 3; do tap_skip "case $i" "truth-load not built (make build)"; done
	exit 0
fi
for i in 1 2 3; do
	truthd_conf $i <<CONF
fsync = on
election_timeout_ms = 300
heartbeat_ms = 50
CONF
done
truthd_start 1 2 3
L=$(leader)
[ -n "$L" ] || { tap_diag "no leader"; L=1; }

# lat NODE FIELD KEY: KEY= of INFO latency's FIELD line (n, p50_us, ...)
lat() {
	redis-cli -p "$(cport $1)" INFO latency | tr -d '\r' |
		sed -n "s/^$2:.*[:,]\{0,1\}$3=\([0-9.]*\).*/\1/p" | head -n1
}
field() { redis-cli -p "$(cport $1)" INFO latency | tr -d '\r' | sed -n "s/^$2://p"; }
# le A B: A <= B, both decimals
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 <= b + 0) }'; }

out=$("$LOAD" --addr "127.0.0.1:$(cport $L)" -c 1 -n $N -s 64 -q 2>&1)
ok=$(echo "$out" | sed -n 's/.* ok=\([0-9]*\).*/\1/p')
[ "$ok" = $N ] || tap_diag "truth-load: $out"

n=$(lat $L lat_l_propose_to_reply n)
c50=$(lat $L lat_l_propose_to_commit p50_us)
r50=$(lat $L lat_l_propose_to_reply p50_us)
s=$(lat $L lat_l_fdatasync n)
if [ "${n:-0}" -ge $N ] && [ "${s:-0}" -gt 0 ] && le 0.001 "$c50" && le "$c50" "$r50"; then
	tap_ok "leader timed $n writes: commit p50 $c50 us <= reply p50 $r50 us, $s of its own syncs"
else
	tap_fail "leader's INFO latency"
	tap_diag "n=$n commit_p50=$c50 reply_p50=$r50 fdatasync_n=$s"
	tap_diag "$(redis-cli -p "$(cport $L)" INFO latency | tr -d '\r' | head -n 20)"
fi

good=1
for i in 1 2 3; do
	[ "$i" = "$L" ] && continue
	n=$(lat $i lat_f_recv_to_ack_sent n)
	a50=$(lat $i lat_f_recv_to_ack_sent p50_us)
	f50=$(lat $i lat_f_fdatasync p50_us)
	inl=$(field $i sync_inline)
	if [ "${n:-0}" -ge $N ] && [ "${inl:-0}" -ge $((N / 2)) ] && le 0.001 "$f50" && le "$f50" "$a50"; then
		tap_diag "follower $i: $n entries, fdatasync p50 $f50 us <= receipt-to-ack p50 $a50 us, $inl syncs in the loop"
	else
		good=0
		tap_diag "follower $i: n=$n sync_inline=$inl fdatasync_p50=$f50 recv_to_ack_p50=$a50"
	fi
done
[ $good = 1 ] && tap_ok "followers timed every entry and synced in their loop" ||
	tap_fail "followers' INFO latency"

if redis-cli -p "$(cport $L)" INFO | grep -q '^lat_' ||
   redis-cli -p "$(cport $L)" INFO truth | grep -q '^lat_'; then
	tap_fail "INFO latency only when asked for"
else
	tap_ok "INFO latency only when asked for"
fi

truthd_stop 1 2 3 || tap_diag "$truthd_exits"
