#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# truthctl's netlink half against truth.ko in the VM: group add/set/ack/del,
# show (text and JSON), stats, clock get/tick/merge/set, events, and that a
# rejection prints the kernel's extack message.  Runs in a fresh network
# namespace (unshare -n) so it neither sees nor leaves groups elsewhere;
# loads truth.ko if needed and unloads it again if it did.
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh

ctl=build/truthctl
loaded_here=0
if [ ! -d /sys/module/truth ]; then
	insmod kmod/truth.ko || { echo "1..0 # SKIP cannot load truth.ko"; exit 0; }
	loaded_here=1
fi
tmp=$(mktemp -d)
cleanup() {
	rm -rf "$tmp"
	if [ "$loaded_here" = 1 ]; then
		for _ in 1 2 3 4 5 6 7 8 9 10; do rmmod truth 2>/dev/null && break; sleep 0.2; done
	fi
}
trap cleanup EXIT

# Everything below runs in its own network namespace.
if [ -z "${TRUTH_IN_NETNS:-}" ]; then
	TRUTH_IN_NETNS=1 unshare -n sh "$0"
	exit $?
fi

tap_plan 15

tap_check "group add" $ctl group add 70 self 1 members 1,2,3 role leader term 1 term-start 1 name demo
out=$($ctl show)
case "$out" in *'group 70 "demo": self 1, leader, term 1'*) tap_ok "show lists the group" ;;
*) tap_fail "show lists the group"; printf '%s\n' "$out" | sed 's/^/# /' ;; esac

$ctl events --count 3 >"$tmp/events" 2>&1 &
evpid=$!
sleep 1
tap_check "local ack" $ctl group ack 70 term 1 index 5
tap_check "member ack" $ctl group ack 70 term 1 index 4 node 3
out=$($ctl show --json)
case "$out" in *'"id":70,"name":"demo","self":1,"role":"leader","term":1,"term_start":1,"threshold":2,"commit":4,'*'{"node":3,"weight":1,"match":4}'*)
	tap_ok "show --json has the commit index and match indexes" ;;
*) tap_fail "show --json has the commit index and match indexes"; echo "# $out" ;; esac

out=$($ctl show)
case "$out" in *'group 70 fast path: acks 0 passed 0 bad_mac 0'*) tap_ok "show prints the fast-path counters" ;;
*) tap_fail "show prints the fast-path counters"; printf '%s\n' "$out" | sed 's/^/# /' ;; esac

out=$($ctl stats 70 --json)
case "$out" in *'"acks":2,"acks_local":1'*'"commit_advances":1,"commit_events":1'*) tap_ok "stats" ;;
*) tap_fail "stats"; echo "# $out" ;; esac

tap_check "group set" $ctl group set 70 role follower
tap_check "group del" $ctl group del 70
wait $evpid
out=$(cat "$tmp/events")
case "$out" in *"commit group 70 term 1 commit 4"*"term group 70 term 1 role follower"*"group-del group 70"*)
	tap_ok "events: commit, term, group-del" ;;
*) tap_fail "events: commit, term, group-del"; printf '%s\n' "$out" | sed 's/^/# /' ;; esac

err=$($ctl group del 70 2>&1)
if [ $? -ne 0 ] && case "$err" in *"No such file or directory: no such group"*) true ;; *) false ;; esac; then
	tap_ok "a rejection prints errno and extack"
else
	tap_fail "a rejection prints errno and extack"; echo "# $err"
fi

$ctl group add 71 self 2 members 1:50,2:20,3:30 threshold 67 >/dev/null 2>&1
out=$($ctl clock tick group 71 --json)
case "$out" in *'"lamport":1,'*'"group":71,"vclock":{"2":1}'*) tap_ok "clock tick stamps Lamport and the group's vector clock" ;;
*) tap_fail "clock tick"; echo "# $out" ;; esac
out=$($ctl clock merge lamport 1000 group 71 vclock 1:4,3:2)
case "$out" in *"lamport 1001"*"vclock of group 71: {1:4, 2:2, 3:2}"*) tap_ok "clock merge" ;;
*) tap_fail "clock merge"; printf '%s\n' "$out" | sed 's/^/# /' ;; esac
out=$($ctl clock set max-offset 250000000)
case "$out" in *"max offset 250000000 ns"*) tap_ok "clock set max-offset" ;;
*) tap_fail "clock set max-offset"; printf '%s\n' "$out" | sed 's/^/# /' ;; esac
out=$($ctl clock --json)
case "$out" in *'"lamport":1001,'*'"hlc_max_offset_ns":250000000}'*) tap_ok "clock get --json" ;;
*) tap_fail "clock get --json"; echo "# $out" ;; esac

tap_done
