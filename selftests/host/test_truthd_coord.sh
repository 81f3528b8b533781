#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The coordination state machine (agent/sm) served by a 3-node truthd
# cluster on loopback, driven by truthctl and redis-cli:
#
#   truthctl lock/barrier/watch --addr n1,n2,n3 ---> truthd x3 (Raft, UDP)
#
# lock contention from several processes (tokens strictly increasing,
# holders never overlap by their own start/end times), a stale token's
# fenced write refused, a session expiring (no keepalive) frees its lock
# for a waiter and deletes its ephemeral key, a barrier of 3 released
# exactly at the third, a watch seeing every change in order, an election
# handed over on resign, lock contention while the leader is killed with
# -9, and SIGTERM with a waiter blocked.  Ports come from the PID.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/truthd.sh"

T=$TRUTHCTL
truthd_init coord 24000
N_CASES=11
tap_plan $N_CASES
truthd_need_redis $N_CASES

export TRUTH_ADDR="127.0.0.1:$(cport 1),127.0.0.1:$(cport 2),127.0.0.1:$(cport 3)"
for i in 1 2 3; do
	truthd_conf $i <<CONF
election_timeout_ms = 300
heartbeat_ms = 30
CONF
done
truthd_start 1 2 3

# every client runs under timeout(1): a broken server fails a case, never hangs it
now() { date +%s.%N; }
wait_for() { for _i in $(seq 100); do eval "$1" && return 0; sleep 0.1; done; return 1; }

# holders of lock $1 append "in TOKEN TIME" and "out TOKEN TIME" to $2
contend() {
	timeout 30 "$T" lock "$1" -- sh -c "echo in \$TRUTH_FENCING_TOKEN \$(date +%s.%N) >> $2;
		sleep ${3:-0.2}; echo out \$TRUTH_FENCING_TOKEN \$(date +%s.%N) >> $2"
}
# exit 0 if log $1 has $2 holders, never two at once, tokens strictly increasing
check_holders() {
	sort -k3,3n "$1" | awk -v want="$2" '
		$1 == "in" { if (held) bad = 1; held = 1; if ($2 + 0 <= last) bad = 1; last = $2 + 0; n++ }
		$1 == "out" { if (!held) bad = 1; held = 0 }
		END { exit bad || n != want }'
}

L=$(leader)
if [ -n "$L" ]; then
	tap_ok "one leader elected (node $L)"
else
	tap_fail "one leader elected"
	for i in $(seq 2 $N_CASES); do tap_skip "case $i" "no leader"; done
	exit 1
fi

# 1. contention: six processes, two per node address order
: > "$dir/lockA"
cp=""
for i in 1 2 3 4 5 6; do
	contend A "$dir/lockA" & cp="$cp $!"
done
rc=0
for p in $cp; do wait "$p" || rc=1; done
if [ $rc = 0 ] && check_holders "$dir/lockA" 6; then
	tap_ok "6 contending 'truthctl lock': no overlap, tokens $(awk '$1 == "in" { printf "%s ", $2 }' "$dir/lockA")increasing"
else
	sed 's/^/# /' "$dir/lockA"
	tap_fail "6 contending 'truthctl lock': no overlap, tokens increasing (rc $rc)"
fi

# 2. fencing: the newest token writes, an older one is refused
old=$(awk '$1 == "in" { print $2; exit }' "$dir/lockA")
new=$("$T" lock A -- sh -c 'echo $TRUTH_FENCING_TOKEN')
r1=$(redis-cli -p "$(cport $L)" SET fenced v1 FENCE A "$new")
r2=$(redis-cli -p "$(cport $L)" SET fenced v0 FENCE A "$old")
r3=$(redis-cli -p "$(cport $L)" GET fenced)
case "$r1 / $r2 / $r3" in
"OK / FENCED"*" / v1") tap_ok "fenced write: token $new accepted, stale token $old refused: $r2" ;;
*) tap_diag "got: $r1 / $r2 / $r3"; tap_fail "fenced write with a stale token refused" ;;
esac

# 3. a session that stops keeping alive expires: its lock goes to a waiter, its ephemeral key goes
LP=$(cport $L)
# from before the OPEN is sent: its stamp (and so the session's deadline)
# may come before the reply does, by the round trip and the commit
t0=$(now)
s=$(redis-cli -p "$LP" SESSION.OPEN 800)
tok1=$(redis-cli -p "$LP" LOCK.ACQUIRE E "$s")
r=$(redis-cli -p "$LP" SET eph here SESSION "$s")
timeout 30 "$T" lock E --timeout 5000 -- sh -c "echo \$TRUTH_FENCING_TOKEN \$(date +%s.%N) > $dir/waiter" & w=$!
wait "$w"
wrc=$?
eph=$(redis-cli -p "$LP" GET eph)
info=$(redis-cli -p "$LP" SESSION.INFO "$s")
read -r tok2 t2 < "$dir/waiter" 2>/dev/null
if [ "$r" = OK ] && [ $wrc = 0 ] && [ -z "$eph" ] && [ "${tok2:-0}" -gt "$tok1" ] &&
   echo "$info" | grep -q NOSESSION &&
   awk -v a="$t0" -v b="$t2" 'BEGIN { exit !(b - a >= 0.8) }'; then
	tap_ok "session (ttl 800 ms) expired: waiter got the lock after $(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.2f", b - a }') s with token $tok2 > $tok1, ephemeral key gone"
else
	tap_diag "set=$r waiter rc=$wrc tok1=$tok1 waiter='$(cat "$dir/waiter" 2>/dev/null)' eph='$eph' info='$info' t0=$t0"
	tap_fail "session expiry frees its lock and its ephemeral key"
fi

# 4. barrier of 3: two wait, the third (through another node first) releases all
timeout 20 "$T" barrier B 3 > "$dir/b1" & b1=$!
timeout 20 "$T" barrier B 3 > "$dir/b2" & b2=$!
sleep 0.5
early=$(cat "$dir/b1" "$dir/b2" | wc -l)
TRUTH_ADDR="127.0.0.1:$(cport $(( L % 3 + 1 )))" timeout 20 "$T" barrier B 3 > "$dir/b3"
wait "$b1" "$b2"
if [ "$early" = 0 ] && [ "$(cat "$dir"/b1 "$dir"/b2 "$dir"/b3 | grep -c '3 entered')" = 3 ]; then
	tap_ok "barrier of 3: nobody released before the third, all three after"
else
	tap_diag "early=$early: $(cat "$dir"/b1 "$dir"/b2 "$dir"/b3 | tr '\n' '|')"
	tap_fail "barrier of 3 releases exactly at the third"
fi

# 5. watch: every change under the prefix, in order, writes through every node
timeout 20 "$T" watch w/ --prefix --count 6 > "$dir/w" & w=$!
# registered on the leader before the first write (a slow start would miss events)
wait_for "redis-cli -p $(cport $L) INFO coordination | grep -q '^sm_watches:1'"
want=""
for i in 1 2 3; do
	TRUTH_ADDR="127.0.0.1:$(cport $i)" "$T" put "w/$i" "v$i" >/dev/null
	TRUTH_ADDR="127.0.0.1:$(cport $i)" "$T" put "x$i" "no" >/dev/null
	want="${want}put w/$i v$i|"
done
TRUTH_ADDR="127.0.0.1:$(cport 2)" "$T" put w/1 again >/dev/null
TRUTH_ADDR="127.0.0.1:$(cport 3)" "$T" del w/2 >/dev/null
TRUTH_ADDR="127.0.0.1:$(cport 1)" "$T" del w/3 >/dev/null
want="${want}put w/1 again|del w/2|del w/3|"
wait_for "[ \$(wc -l < $dir/w) -ge 6 ]"
kill "$w" 2>/dev/null; wait "$w" 2>/dev/null
got=$(cut -d' ' -f2- "$dir/w" | tr '\n' '|')
revs_ok=$(awk '{ if ($1 + 0 <= last) bad = 1; last = $1 + 0 } END { print !bad }' "$dir/w")
if [ "$got" = "$want" ] && [ "$revs_ok" = 1 ]; then
	tap_ok "watch w/ --prefix: all 6 changes once, in order, revisions increasing"
else
	tap_diag "want: $want"; tap_diag "got:  $got"
	tap_fail "watch receives every change in order"
fi

# 5b. the same push rendered per connection: RESP3 ">" after HELLO 3, RESP2 "*"
resp_watch() {
	python3 - "$1" "$2" "$3" "$4" <<'PY'
import re, socket, sys, time
port, proto, key, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.create_connection(("127.0.0.1", port), timeout=15)
def cmd(*a):
    s.sendall(("*%d\r\n" % len(a) + "".join("$%d\r\n%s\r\n" % (len(x), x) for x in a)).encode())
buf = b""
if proto == "3":
    cmd("HELLO", "3")
cmd("WATCH", key)
end = time.time() + 15
while b"put" not in buf and time.time() < end:
    try:
        d = s.recv(65536)
    except socket.timeout:
        break
    if not d:
        break
    buf += d
    if b"revision" in buf and ready:
        open(ready, "w").close()	# registered: the shell may write now
        ready = ""
# the event: [watch, id, revision, put, key, value]; its first byte is its type
m = re.search(rb"([>*])6\r\n\$5\r\nwatch\r\n", buf)
print(m.group(1).decode() if m else "none")
if not m:
    sys.stderr.write("got %r\n" % buf)
PY
}
if command -v python3 >/dev/null; then
	resp_watch "$(cport $L)" 3 r3 "$dir/p3.ok" > "$dir/p3" 2>"$dir/p3.err" & q3=$!
	resp_watch "$(cport $L)" 2 r3 "$dir/p2.ok" > "$dir/p2" 2>"$dir/p2.err" & q2=$!
	wait_for "[ -e $dir/p3.ok ] && [ -e $dir/p2.ok ]"
	redis-cli -p "$(cport $L)" SET r3 v >/dev/null
	wait "$q3" "$q2"
	if [ "$(cat "$dir/p3")" = ">" ] && [ "$(cat "$dir/p2")" = "*" ]; then
		tap_ok "a watch event is a RESP3 push (>) after HELLO 3 and an array (*) in RESP2"
	else
		tap_diag "$(cat "$dir/p3.err" "$dir/p2.err" | tr -d "\n%" | cut -c1-900)"
		tap_fail "watch push rendering (RESP3 '$(cat "$dir/p3")', RESP2 '$(cat "$dir/p2")')"
	fi
else
	tap_skip "watch push rendering" "python3 not installed"
fi

# 6. election: the second candidate (through another node) leads once the first resigns
timeout 20 "$T" elect svc host-a --json > "$dir/e1" & e1=$!
wait_for "[ -s $dir/e1 ]"
TRUTH_ADDR="127.0.0.1:$(cport $(( L % 3 + 1 )))" timeout 20 "$T" elect svc host-b --json > "$dir/e2" & e2=$!
sleep 0.5
e2_early=$(wc -c < "$dir/e2")
kill -TERM "$e1"; wait "$e1"
wait_for "[ -s $dir/e2 ]"
ldr=$(redis-cli -p "$(cport $L)" ELECT.LEADER svc | sed -n 2p)
k1=$(sed -n 's/.*"token":\([0-9]*\).*/\1/p' "$dir/e1")
k2=$(sed -n 's/.*"token":\([0-9]*\).*/\1/p' "$dir/e2")
kill -TERM "$e2" 2>/dev/null; wait "$e2" 2>/dev/null
if [ "$e2_early" = 0 ] && [ "$ldr" = host-b ] && [ -n "$k1" ] && [ "${k2:-0}" -gt "$k1" ]; then
	tap_ok "election: host-b waited, leads after host-a resigned, token $k2 > $k1"
else
	tap_diag "e1: $(cat "$dir/e1") e2: $(cat "$dir/e2") early=$e2_early leader=$ldr"
	tap_fail "election hand-over"
fi

# 7. lock contention while the leader is killed -9
: > "$dir/lockK"
cp=""
for i in 1 2 3 4 5 6; do
	contend K "$dir/lockK" 0.3 & cp="$cp $!"
done
sleep 0.7
eval "kpid=\$pid$L"
tk=$(now)
kill -KILL "$kpid"
killed=$L
eval "pid$killed="	# nothing left to stop or clean up
rc=0
for p in $cp; do wait "$p" || rc=1; done
L2=$(leader)
# the kill fell inside the contention: holders granted both before and after it
span=$(awk -v k="$tk" '$1 == "in" { if ($3 < k) b++; else a++ } END { print (b > 0 && a > 0) ? b "+" a : "" }' "$dir/lockK")
if [ $rc = 0 ] && [ -n "$span" ] && [ -n "$L2" ] && [ "$L2" != "$killed" ] && check_holders "$dir/lockK" 6; then
	tap_ok "leader $killed killed -9 during contention: new leader $L2, 6 holders ($span before+after the kill), no overlap, tokens $(awk '$1 == "in" { printf "%s ", $2 }' "$dir/lockK")increasing"
else
	sed 's/^/# /' "$dir/lockK"
	tap_fail "lock contention across a leader kill -9 (rc $rc, new leader '$L2', before+after '$span')"
fi

# 8. the survivors agree and logged no error
sleep 0.5
a=""
for i in 1 2 3; do
	[ "$i" = "$killed" ] && continue
	a="$a $(redis-cli -p "$(cport $i)" INFO coordination | grep -E '^sm_(revision|keys|applied)' | tr -d '\r' | tr '\n' ,)"
done
set -- $a
# an idle cluster proposes nothing (no TICK without a deadline passed)
a1=$(redis-cli -p "$(cport $L2)" INFO truth | sed -n 's/^applied_index:\([0-9]*\).*/\1/p')
sleep 1
a2=$(redis-cli -p "$(cport $L2)" INFO truth | sed -n 's/^applied_index:\([0-9]*\).*/\1/p')
idle=$(( ${a2:-0} - ${a1:-0} ))
errs=$(cat "$dir"/log* | grep -ci 'error\|does not decode\|fail-stop')
if [ "$1" = "$2" ] && [ -n "$1" ] && [ "$errs" = 0 ] && [ -n "$a1" ] && [ "$idle" -le 1 ]; then
	tap_ok "survivors' state machines agree ($1), idle 1 s: $idle entries, no error in the logs"
else
	tap_diag "states: $a; errors: $errs; idle entries: $idle ($a1 -> $a2)"
	cat "$dir"/log* | grep -i 'error\|does not decode' | head -5 | sed 's/^/# /'
	tap_fail "survivors agree, no error in the logs"
fi
# 9. SIGTERM with a holder and a blocked waiter connected: survivors exit 0
timeout 20 "$T" lock Z -- sleep 10 >/dev/null 2>&1 & h=$!
wait_for "[ -n \"\$(redis-cli -p $(cport $L2) LOCK.OWNER Z)\" ]"
timeout 20 "$T" lock Z -- true >/dev/null 2>&1 & wt=$!
wait_for "redis-cli -p $(cport $L2) LOCK.OWNER Z | tr '\n' ' ' | grep -q 'waiters 1'"
owner=$(redis-cli -p "$(cport $L2)" LOCK.OWNER Z | tr '\n' ' ')
survivors=$(for i in 1 2 3; do [ "$i" = "$killed" ] || echo $i; done)
truthd_stop $survivors && rcs=00 || rcs="($truthd_exits)"
kill "$h" "$wt" 2>/dev/null
wait "$h" "$wt" 2>/dev/null
case "$owner" in
*waiters\ 1*)
	[ "$rcs" = 00 ] && tap_ok "SIGTERM with a lock held and a waiter blocked: both survivors exit 0" ||
		tap_fail "SIGTERM with a blocked waiter: exit codes $rcs" ;;
*) tap_diag "LOCK.OWNER Z: $owner"; tap_fail "SIGTERM with a blocked waiter (no waiter seen)" ;;
esac
tap_done
