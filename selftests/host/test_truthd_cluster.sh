#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Three truthd processes on loopback (user-space counting, fsync on):
#
#   node 1 ---- UDP ---- node 2        clients: redis-cli -p <port>
#      \                  /
#       `---- node 3 ----'
#
# election, SET/GET through the leader, a follower's -MOVED (and redis-cli
# -c following it), pipelining, SIGTERM (exit 0 each), restart with the
# data still there, --check-config on a bad file.  Ports are picked from
# the PID so parallel runs do not collide; everything lives in a temp dir.
# Last, a follower that missed compacted entries catches up by snapshot.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/truthd.sh"

truthd_init cluster 20000
tap_plan 15
truthd_need_redis 15

for i in 1 2 3; do
	truthd_conf $i <<CONF
client_unix = $dir/n$i.sock
election_timeout_ms = 300
heartbeat_ms = 30
snapshot_bytes = 65536
CONF
done

ok=1
for i in 1 2 3; do
	out=$("$TRUTHD" --check-config --config "$dir/n$i.conf" 2>&1) || ok=0
	[ "$out" = "$dir/n$i.conf: ok" ] || ok=0
done
[ $ok = 1 ] && tap_ok "check-config accepts the three files" || tap_fail "check-config accepts the three files"

out=$("$TRUTHD" --check-config --config "$dir/n1.conf" --set fsync=maybe --set node_id=x 2>&1)
rc=$?
if [ $rc = 1 ] && echo "$out" | grep -q -- '--set: fsync: ' && echo "$out" | grep -q -- '--set: node_id: '; then
	tap_ok "check-config names every bad value, exit 1"
else
	tap_fail "check-config names every bad value, exit 1"; tap_diag "rc=$rc $out"
fi

truthd_start 1 2 3
L=$(leader)
if [ -n "$L" ]; then tap_ok "one leader elected (node $L)"; else tap_fail "one leader elected"; L=1; fi
F=$((L % 3 + 1))

r1=$(redis-cli -p "$(cport $L)" SET greeting hello)
r2=$(redis-cli -p "$(cport $L)" GET greeting)
[ "$r1" = OK ] && [ "$r2" = hello ] && tap_ok "SET/GET through the leader" ||
	{ tap_fail "SET/GET through the leader"; tap_diag "$r1 / $r2"; }

r=$(redis-cli -p "$(cport $F)" GET greeting)
[ "$r" = "MOVED 0 127.0.0.1:$(cport $L)" ] && tap_ok "follower answers -MOVED 0 leader" ||
	{ tap_fail "follower answers -MOVED 0 leader"; tap_diag "got '$r'"; }

r=$(redis-cli -c -p "$(cport $F)" INCRBY hits 5)
[ "$r" = 5 ] && tap_ok "redis-cli -c follows the redirect" ||
	{ tap_fail "redis-cli -c follows the redirect"; tap_diag "got '$r'"; }

r=$(printf 'SET p 1\r\nINCR p\r\nINCR p\r\nGET p\r\nDEL p greeting\r\nEXISTS p\r\n' |
	redis-cli -p "$(cport $L)" | tr '\n' ' ')
[ "$r" = "OK 2 3 3 2 0 " ] && tap_ok "pipelined commands answered in order" ||
	{ tap_fail "pipelined commands answered in order"; tap_diag "got '$r'"; }

# a client that shuts its sending side right away (as nc does) still
# gets every reply, the write ones after their commit
r=$(printf 'SET h 1\r\nINCR h\r\nGET h\r\n' | busybox nc -w 5 127.0.0.1 "$(cport $L)" | tr -d '\r' | tr '\n' ' ')
[ "$r" = '+OK :2 $1 2 ' ] && tap_ok "half-closed client still answered" ||
	{ tap_fail "half-closed client still answered"; tap_diag "got '$r'"; }

redis-cli -p "$(cport $L)" SET keep forever >/dev/null
r=$(redis-cli -s "$dir/n$L.sock" GET keep)
[ "$r" = forever ] && tap_ok "Unix socket client" || { tap_fail "Unix socket client"; tap_diag "got '$r'"; }

st=$("$TRUTHCTL" status --addr "127.0.0.1:$(cport $F)" --json 2>&1)
if echo "$st" | grep -q '"role": "follower"' && echo "$st" | grep -q "\"leader_id\": $L" &&
   echo "$st" | grep -q '"counting": "user"'; then
	tap_ok "truthctl status --json on a follower"
else
	tap_fail "truthctl status --json on a follower"; tap_diag "$st"
fi

# every node applies what was committed
sleep 0.3
ok=1
want=$(redis-cli -p "$(cport $L)" INFO truth | sed -n 's/^commit_index:\([0-9]*\).*/\1/p')
for i in 1 2 3; do
	a=$(redis-cli -p "$(cport $i)" INFO truth | sed -n 's/^applied_index:\([0-9]*\).*/\1/p')
	[ "$a" = "$want" ] || { ok=0; tap_diag "node $i applied $a, leader committed $want"; }
done
[ $ok = 1 ] && tap_ok "followers applied up to the leader's commit" || tap_fail "followers applied up to the leader's commit"

truthd_stop 1 2 3 && tap_ok "SIGTERM: every node exits 0" ||
	{ tap_fail "SIGTERM: every node exits 0"; tap_diag "$truthd_exits"; }

truthd_start 1 2 3
L=$(leader)
r1=$(redis-cli -p "$(cport ${L:-1})" GET keep)
r2=$(redis-cli -p "$(cport ${L:-1})" GET hits)
[ "$r1" = forever ] && [ "$r2" = 5 ] && tap_ok "restart: data still there" ||
	{ tap_fail "restart: data still there"; tap_diag "'$r1' '$r2'"; }

# a follower down while the others write and compact their logs comes back
# through InstallSnapshot (snapshot_bytes is 64 KiB here)
L=${L:-1}
F=$((L % 3 + 1))
truthd_stop $F
timeout 120 redis-benchmark -p "$(cport $L)" -t set -r 500 -n 3000 -c 4 -d 64 -q >/dev/null 2>&1
truthd_start $F
ok=0
for _ in $(seq 50); do
	c=$(redis-cli -p "$(cport $L)" INFO truth | sed -n 's/^commit_index:\([0-9]*\).*/\1/p')
	a=$(redis-cli -p "$(cport $F)" INFO truth 2>/dev/null | sed -n 's/^applied_index:\([0-9]*\).*/\1/p')
	[ -n "$a" ] && [ "$a" = "$c" ] && { ok=1; break; }
	sleep 0.2
done
kl=$(redis-cli -p "$(cport $L)" INFO keyspace | grep db0)
kf=$(redis-cli -p "$(cport $F)" INFO keyspace | grep db0)
si=$(redis-cli -p "$(cport $F)" INFO truth | sed -n 's/^snapshot_index:\([0-9]*\).*/\1/p')
[ $ok = 1 ] && [ "$kl" = "$kf" ] && grep -q 'installed snapshot' "$dir/log$F" &&
	tap_ok "a lagging follower catches up from a snapshot (at $si)" ||
	{ tap_fail "a lagging follower catches up from a snapshot"; tap_diag "applied $a of $c, '$kl' vs '$kf', snapshot ${si:-?}"; }

ok=1
truthd_stop 1 2 3 || { ok=0; tap_diag "$truthd_exits"; }
grep -h 'error' "$dir"/log? | sed 's/^/# /'
[ $ok = 1 ] && ! grep -q 'error' "$dir"/log? && tap_ok "no error in the logs" || tap_fail "no error in the logs"
tap_done
