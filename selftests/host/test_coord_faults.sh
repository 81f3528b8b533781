#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Lock contention under faults, on a 3-node netns cluster (scripts/cluster.sh):
# five processes loop on `truthctl lock L --ttl 3000 --json -- CMD`, CMD
# writes `put fk ... FENCE L $TRUTH_FENCING_TOKEN` and holds a moment,
# while the Raft leader is killed -9 (and restarted), the next leader is
# cut off (cl_isolate) and rejoins, then a follower is partitioned away and
# healed.  Every holder's validity interval (truthctl's held_from_ns /
# held_until_ns, CLOCK_MONOTONIC: from the grant's reply to CMD's exit or
# the end of the lease, whichever came first) goes to truth-linz's lock
# model as a `hold` line, every fenced write to its kv model as `fset`:
# no two validity intervals overlap, tokens strictly increase in grant
# order, a fenced write is accepted iff its token is not older than one
# accepted before.  Then a stale holder: SIGSTOPped (truthctl and CMD)
# past its session TTL, a new holder writes, the old one is continued and
# writes with its old token: refused (FENCED), the value stays the new
# holder's.
#
# Root needed (namespaces); SKIPs otherwise.  TRUTHD=... another build.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh

N_CASES=8
tap_plan $N_CASES
T=$PWD/build/truthctl
LINZ=$PWD/build/selftests/tools/truth-linz
why=
[ "$(id -u)" = 0 ] || why="needs root (network namespaces)"
for b in build/truthd "$T" "$LINZ"; do
	[ -n "$why" ] || [ -x "$b" ] || why="$b not built (make build)"
done
command -v redis-cli >/dev/null || why=${why:-"redis-cli not installed (scripts/deps.sh)"}
if [ -n "$why" ]; then
	for i in $(seq $N_CASES); do tap_skip "case $i" "$why"; done
	exit 0
fi

# names start with "ct" (this test), the rest random: parallel runs do not meet
CL_ID=ct$(printf '%04x' $((RANDOM ^ $$ & 0xffff)))
CL_FSYNC=off
. scripts/cluster.sh
cl_init 3 || { tap_fail "cluster set up"; exit 1; }
D=$CL_DIR
cl_start_all
if ! L1=$(cl_wait_leader 30); then
	tap_fail "a leader elected"
	for i in $(seq 2 $N_CASES); do tap_skip "case $i" "no leader"; done
	CL_KEEP=1
	exit 1
fi
tap_ok "3 nodes up, leader node $L1"
TRUTH_ADDR=$(cl_addrs | tr ' ' ,)
export TRUTH_ADDR T LINZ D
now() { "$LINZ" --now; }

# ------------------------------------------------ contention under faults
# one contender: lock, fenced write, hold 0.2 s, release; again until $D/stop
cat >"$D/contend.sh" <<'EOF'
c=$1
while [ ! -e "$D/stop" ]; do
	timeout 60 "$T" lock L --ttl 3000 --json -- sh -c '
		i=$("$LINZ" --now)
		if "$T" put fk "$0-$TRUTH_FENCING_TOKEN" FENCE L "$TRUTH_FENCING_TOKEN" >/dev/null 2>"$D/err.$0"; then
			echo "$0 fset fk $TRUTH_FENCING_TOKEN $0-$TRUTH_FENCING_TOKEN $i $("$LINZ" --now) ok ok"
		elif grep -q FENCED "$D/err.$0"; then
			echo "$0 fset fk $TRUTH_FENCING_TOKEN $0-$TRUTH_FENCING_TOKEN $i $("$LINZ" --now) stale ok"
		else
			echo "$0 fset fk $TRUTH_FENCING_TOKEN $0-$TRUTH_FENCING_TOKEN $i - - unknown"
		fi >>"$D/fset.hist"
		sleep 0.2' "$c" >>"$D/json.$c" 2>>"$D/stderr.$c"
done
EOF
: >"$D/fset.hist"
cpids=()
for c in 1 2 3 4 5; do
	cl_bg bash "$D/contend.sh" "c$c"
	cpids+=("$CL_LAST_BG")
done
sleep 3
tk=$(now)
cl_kill "$L1"
L2=$(cl_wait_leader 15 "$L1")
cl_start "$L1"
sleep 3
ti=$(now)
[ -n "$L2" ] && cl_isolate "$L2"
L3=$(cl_wait_leader 15 "$L2")
sleep 6
tr=$(now)
[ -n "$L2" ] && cl_rejoin "$L2"
sleep 2
L4=$(cl_wait_leader 15)
F=$(( ${L4:-1} % 3 + 1 ))
tp=$(now)
cl_partition "$F"
sleep 3
cl_heal
sleep 3
touch "$D/stop"
rc=0
for p in "${cpids[@]}"; do cl_wait_pid "$p" 90 || rc=1; done
te=$(now)

# validity intervals -> hold lines
cat "$D"/json.c* | sed -n 's/.*"token":\([0-9]*\).*"held_from_ns":\([0-9]*\),"held_until_ns":\([0-9]*\).*/\1 \2 \3/p' |
	awk '{ print "h" NR " hold L " $1 " " $2 " " $3 " - ok" }' >"$D/lock.hist"
holders=$(wc -l <"$D/lock.hist")
lost=$(cat "$D"/json.c* | grep -c '"session_lost":true')
# granted in each phase: before the kill, after it, while the old leader
# is cut off (its waiters must move on), after the rejoin, in the partition
phases() {
	awk -v k="$tk" -v i="$ti" -v r="$tr" -v p="$tp" -v e="$te" -v what="$1" '{
		s = $5; if (s < k) a++; else if (s < i) b++; else if (s < r) c++; else if (s < p) d++; else f++ }
		END { if (what == "all") print (a && b && c && d && f) ? 1 : 0;
		      else printf "%d before the kill, %d after it, %d while the leader was cut off, %d after it rejoined, %d from the partition on", a, b, c, d, f }' "$D/lock.hist"
}
span=$(phases text)
every=$(phases all)
tokens=$(awk '{ print $4 }' "$D/lock.hist" | sort -n | tr '\n' ' ')
if [ -n "$L2" ] && [ -n "$L3" ] && [ -n "$L4" ] && [ $rc = 0 ] && [ "$every" = 1 ]; then
	tap_ok "faults: leader $L1 killed -9 (new leader $L2), leader $L2 isolated (new $L3), follower $F partitioned; contenders exited; holders: $span"
else
	cl_summary | sed 's/^/# /'
	tap_fail "faults applied with holders in every phase (leaders '$L1' '$L2' '$L3' '$L4', rc $rc): $span"
	CL_KEEP=1
fi

if out=$("$LINZ" --model lock "$D/lock.hist" 2>&1) && [ "$holders" -ge 20 ]; then
	tap_ok "truth-linz lock model: $holders holders, no two validity intervals overlap, tokens strictly increase in grant order ($lost lost their session; tokens $(echo "$tokens" | awk '{ print $1 ".." $NF }'))"
else
	echo "$out" | head -20 | sed 's/^/# /'
	tap_fail "lock holder timeline ($holders holders)"
	CL_KEEP=1
fi
nf=$(wc -l <"$D/fset.hist")
nok=$(awk '$8 == "ok" && $9 == "ok"' "$D/fset.hist" | wc -l)
nst=$(grep -c ' stale ok$' "$D/fset.hist")
nun=$(grep -c ' unknown$' "$D/fset.hist")
if out=$("$LINZ" --model kv "$D/fset.hist" 2>&1) && [ "$nok" -ge 20 ]; then
	tap_ok "truth-linz kv model on the fenced writes: $nf writes ($nok accepted, $nst refused as stale, $nun unknown) linearizable"
else
	echo "$out" | head -20 | sed 's/^/# /'
	tap_fail "fenced writes ($nf: $nok accepted, $nst stale, $nun unknown)"
	CL_KEEP=1
fi

# ------------------------------------------------ a stale holder
cl_wait_leader 15 >/dev/null
rm -f "$D/go" "$D/tokA"
# A ignores SIGTERM (it was paused: it does not know), so it writes when continued
cl_bg "$T" lock S --ttl 1500 --json -- sh -c 'trap "" TERM; echo $TRUTH_FENCING_TOKEN >"$D/tokA";
	while [ ! -e "$D/go" ]; do sleep 0.05; done
	"$T" put fs A FENCE S $TRUTH_FENCING_TOKEN >/dev/null 2>"$D/errA"; echo $? >"$D/rcA"' >"$D/jA" 2>"$D/eA"
a=$CL_LAST_BG
cl_wait_for 20 test -s "$D/tokA"
kids=$(ps -o pid= --ppid "$a" | tr -d ' ')
kill -STOP "$a" $kids
tA=$(cat "$D/tokA")
t0=$(now)
# B waits for A's session to expire (1.5 s without keepalive), then writes
out=$(cl_exec timeout 30 "$T" lock S --ttl 3000 -- sh -c 'echo $TRUTH_FENCING_TOKEN; "$T" put fs B FENCE S $TRUTH_FENCING_TOKEN' 2>&1)
tB=$(echo "$out" | head -1)
wB=$(echo "$out" | sed -n 2p)
waited=$(( ($(now) - t0) / 1000000 ))
touch "$D/go"
kill -CONT $kids "$a"
cl_wait_pid "$a" 20
arc=$CL_STATUS
cl_wait_for 5 test -s "$D/rcA"
fs=$(cl_exec "$T" get fs)
if [ "${tB:-0}" -gt "${tA:-0}" ] 2>/dev/null && [ "$wB" = OK ] && [ "$(cat "$D/rcA" 2>/dev/null)" = 1 ] &&
   grep -q FENCED "$D/errA" && [ "$fs" = B ]; then
	tap_ok "stale holder: A (token $tA) stopped past its 1.5 s TTL, B got token $tB after $waited ms and wrote; A continued, its write refused: $(cat "$D/errA")"
else
	tap_diag "A token '$tA' rc '$(cat "$D/rcA" 2>/dev/null)' err '$(cat "$D/errA" 2>/dev/null)' json '$(cat "$D/jA")' stderr '$(cat "$D/eA")'"
	tap_diag "B: '$out' waited $waited ms; fs='$fs'"
	tap_fail "a stale holder's fenced write is refused"
	CL_KEEP=1
fi
if [ "$arc" != 0 ] && grep -q '"session_lost":true' "$D/jA" && grep -q 'lost\|9/10' "$D/eA"; then
	tap_ok "the continued truthctl saw its session lost and exited $arc: $(head -1 "$D/eA")"
else
	tap_fail "the continued truthctl reports the lost session (exit $arc, json '$(cat "$D/jA")')"
fi

# ------------------------------------------------ a waiter on a cut-off leader
# H holds W until told, X waits on the leader's connection; the leader is
# cut off and stays so, H is told to finish: H's release and X's wait must
# find the new leader
# (libtruth probes a member that has been silent), not wait for a rejoin
L5=$(cl_wait_leader 15)
cl_bg "$T" lock W --ttl 3000 -- sh -c 'while [ ! -e "$D/hgo" ]; do sleep 0.1; done' >"$D/eH" 2>&1
h=$CL_LAST_BG
owner() { cl_cli "$L5" LOCK.OWNER W | tr '\n' ' '; }
if ! cl_wait_for 10 eval '[ -n "$(owner | grep token)" ]'; then
	tap_diag "H not seen holding W at leader $L5: $(owner); $(cl_cli "$L5" KEYINFO __truth/lock/W | tr '\n' ' ')"
	cl_summary | sed 's/^/# /'
	for k in 1 2 3; do tap_diag "node $k: $(cl_cli $k LOCK.OWNER W | tr '\n' ' ')"; done
fi
cl_bg "$T" lock W --ttl 3000 --json -- true >"$D/jW" 2>"$D/eW"
x=$CL_LAST_BG
cl_wait_for 10 eval 'owner | grep -qF "waiters\" 8) (integer) 1"'
seen=$(owner)
t0=$(now)
cl_isolate "$L5"
touch "$D/hgo"
cl_wait_pid "$x" 30
xrc=${CL_STATUS:-timeout}
waited=$(( ($(now) - t0) / 1000000 ))
cl_wait_pid "$h" 10
hrc=${CL_STATUS:-timeout}
cl_rejoin "$L5"
if [ "$xrc" = 0 ] && [ "$hrc" = 0 ] && echo "$seen" | grep -qF 'waiters" 8) (integer) 1' && grep -q '"token"' "$D/jW"; then
	tap_ok "leader $L5 cut off with a holder and a waiter ($seen): the waiter got the lock from the new leader after $waited ms, before any rejoin"
else
	tap_diag "leader '$L5', holder: $(tr '\n' ' ' <"$D/eH")"
	tap_diag "before: $seen; waiter rc $xrc after $waited ms: $(cat "$D/jW" "$D/eW" | tr '\n' ' '); holder rc $hrc"
	tap_fail "a waiter blocked on a cut-off leader moves to the new one"
	CL_KEEP=1
fi

# ------------------------------------------------ the survivors agree
cl_wait_caught_up 20
st=""
for k in 1 2 3; do
	st="$st $(cl_cli "$k" INFO coordination | grep -E '^sm_(revision|keys)' | tr '\n' ,)"
done
set -- $st
errs=$(cat "$D"/n*/log | grep -ci 'does not decode\|fail-stop')
if [ $# = 3 ] && [ "$1" = "$2" ] && [ "$2" = "$3" ] && [ "$errs" = 0 ]; then
	tap_ok "all 3 state machines agree ($1) and no node logged a decode error"
else
	tap_fail "state machines agree: $st; errors $errs"
	CL_KEEP=1
fi
tap_done
