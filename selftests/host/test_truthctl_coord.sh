#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# truthctl get|put|del|incr|lock|elect|barrier|watch and libtruth against
# build/selftests/tools/sm_server: the state machine behind a real RESP
# server on Unix sockets, without Raft (truthd serving it is not wired
# yet).  A second server answering -MOVED plays a follower.
#
#   truthctl --socket A.sock ----> sm_server A.sock      (the "leader")
#   truthctl --socket F.sock ----> sm_server F.sock unix:A.sock  (-MOVED)
#   truthctl --socket D.sock ----> sm_server D.sock  (every 2nd write's reply lost)
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh

T=build/truthctl
SRV=build/selftests/tools/sm_server
tap_plan 13
if [ ! -x "$T" ] || [ ! -x "$SRV" ]; then
	for i in $(seq 13); do tap_skip "case $i" "build truthctl and $SRV first (make build)"; done
	exit 0
fi

dir=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
"$SRV" "$dir/a.sock" & pids="$pids $!"
"$SRV" "$dir/f.sock" "unix:$dir/a.sock" & pids="$pids $!"
SM_SERVER_DROP=2 "$SRV" "$dir/d.sock" & pids="$pids $!"
for i in $(seq 50); do [ -S "$dir/a.sock" ] && [ -S "$dir/f.sock" ] && [ -S "$dir/d.sock" ] && break; sleep 0.1; done
export TRUTH_ADDR="unix:$dir/a.sock"

# expect NAME WANT CMD...: CMD's stdout must be exactly WANT
expect() {
	_name=$1 _want=$2
	shift 2
	_got=$("$@" 2>&1)
	if [ "$_got" = "$_want" ]; then
		tap_ok "$_name"
	else
		tap_diag "want: $_want"
		tap_diag "got:  $_got"
		tap_fail "$_name"
	fi
}

# joined CMD...: CMD's output lines joined by blanks
joined() { "$@" 2>&1 | tr '\n' ' ' | sed 's/ $//'; }

expect "put/get/incr/del" "OK hello 5 7 1" \
	joined sh -c "$T put a hello; $T get a; $T incr n 5; $T incr n 2; $T del a nope"
expect "get --json of a missing key exits 1" '{"key":"a","value":null} rc=1' \
	joined sh -c "$T get a --json; echo rc=\$?"
got=$(joined sh -c "$T lock L -- sh -c 'echo token=\$TRUTH_FENCING_TOKEN lock=\$TRUTH_LOCK_NAME; exit 7'; echo rc=\$?")
case "$got" in
"token="[0-9]*" lock=L rc=7") tap_ok "lock runs the command with a token, exit status passed on: $got" ;;
*) tap_diag "got: $got"; tap_fail "lock runs the command with a token, exit status passed on" ;;
esac

# two lock holders never overlap and tokens grow: each run appends "in T"/"out T"
: > "$dir/log"
for i in 1 2 3 4; do
	$T lock M -- sh -c "echo in \$TRUTH_FENCING_TOKEN >> $dir/log; sleep 0.2; echo out \$TRUTH_FENCING_TOKEN >> $dir/log" &
done
wait_for() { for _i in $(seq 100); do eval "$1" && return 0; sleep 0.1; done; return 1; }
wait_for "[ \$(wc -l < $dir/log) -ge 8 ]"
if awk '$1 == "in" { if (held) bad = 1; held = 1; if ($2 <= last) bad = 1; last = $2 }
	$1 == "out" { held = 0 } END { exit bad || NR != 8 }' "$dir/log"; then
	tap_ok "4 contending 'lock --': no overlap, tokens increasing ($(tr '\n' ' ' < "$dir/log"))"
else
	sed 's/^/# /' "$dir/log"
	tap_fail "4 contending 'lock --': no overlap, tokens increasing"
fi

# a stale token is refused by the fenced write
tok_new=$($T lock M -- sh -c 'echo $TRUTH_FENCING_TOKEN')
expect "fenced write with the current token" "OK" redis-cli -s "$dir/a.sock" SET data v FENCE M "$tok_new"
got=$(redis-cli -s "$dir/a.sock" SET data old FENCE M 3)
case "$got" in FENCED*) tap_ok "fenced write with an older token refused: $got" ;;
*) tap_diag "got: $got"; tap_fail "fenced write with an older token refused" ;; esac

expect "lock --timeout 0 on a held lock gives up" "rc=1" \
	sh -c "$T lock H -- sleep 1 & sleep 0.3; $T lock H --timeout 0 -- true 2>/dev/null; echo rc=\$?; wait"

$T elect svc host-a > "$dir/e1" & e1=$!
wait_for "[ -s $dir/e1 ]"
$T elect svc host-b --json > "$dir/e2" & e2=$!
sleep 0.3
expect "second candidate waits while the first leads" "" cat "$dir/e2"
kill "$e1"; wait "$e1"
wait_for "[ -s $dir/e2 ]"
if grep -q '"leader":true' "$dir/e2" && [ "$(redis-cli -s "$dir/a.sock" ELECT.LEADER svc | sed -n 2p)" = host-b ]; then
	tap_ok "after the leader resigns the next candidate leads: $(cat "$dir/e2")"
else
	tap_fail "after the leader resigns the next candidate leads"
fi
kill "$e2"; wait "$e2"

$T barrier b 3 > "$dir/b1" & b1=$!
$T barrier b 3 > "$dir/b2" & b2=$!
sleep 0.3
n_early=$(cat "$dir/b1" "$dir/b2" | wc -l)
$T barrier b 3 > "$dir/b3"
wait "$b1" "$b2"
if [ "$n_early" = 0 ] && [ "$(cat "$dir"/b1 "$dir"/b2 "$dir"/b3 | grep -c '3 entered')" = 3 ]; then
	tap_ok "barrier of 3 releases exactly when the third enters"
else
	tap_fail "barrier of 3 releases exactly when the third enters ($n_early early)"
fi

$T watch w/ --prefix --count 3 > "$dir/w" & w=$!
sleep 0.3
$T put w/1 a >/dev/null; $T put x b >/dev/null; $T put w/2 c >/dev/null; $T del w/1 >/dev/null
wait "$w"
expect "watch: every change under the prefix once, in order" "put w/1 a|put w/2 c|del w/1|" \
	sh -c "cut -d' ' -f2- $dir/w | tr '\n' '|'"

expect "a follower's -MOVED is followed" "hello2" \
	sh -c "$T put a hello2 >/dev/null; TRUTH_ADDR=unix:$dir/f.sock $T get a"
# every second INCR is applied and its reply lost: the retry (same client
# id and sequence) gets the saved reply, so ten INCRs add exactly ten
expect "retries after lost replies apply once: 10 x incr = 10" "10" \
	sh -c "for i in 1 2 3 4 5 6 7 8 9 10; do TRUTH_ADDR=unix:$dir/d.sock $T incr r >/dev/null || exit 1; done; redis-cli -s $dir/d.sock GET r"
tap_done
