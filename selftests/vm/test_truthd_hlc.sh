#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# truthd's HLC and truth.ko's per-namespace HLC agree (Documentation/
# clock.md "HLC on entries"): a one-member group counted by the module
# (fast_path = kernel) in its own network namespace, as test_truthd_kernel.
#
#   module -> entry: the namespace's HLC is pushed 30 s ahead of the wall
#     clock (truthctl clock merge hlc H, as a stamped datagram from a node
#     that far ahead would; the namespace's max offset raised to allow it);
#     the next write's entry HLC (TRUTH.REQ ... HLC) is above what the
#     module then held.  Without the pull it would be the wall clock, 30 s
#     below.  (30 s: commands take seconds in a TCG guest.)
#   entry -> module: right after each write's reply, the module's HLC
#     (truthctl clock get) is at least the entry's.
# Ten rounds, every number printed.
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh

loaded_here=0
if [ ! -d /sys/module/truth ]; then
	insmod kmod/truth.ko || { echo "1..0 # SKIP cannot load truth.ko"; exit 0; }
	loaded_here=1
fi
if [ -z "${TRUTH_IN_NETNS:-}" ]; then
	TRUTH_IN_NETNS=1 unshare -n sh "$0"
	rc=$?
	if [ "$loaded_here" = 1 ]; then
		for _ in 1 2 3 4 5 6 7 8 9 10; do rmmod truth 2>/dev/null && break; sleep 0.2; done
	fi
	exit $rc
fi
ip link set lo up

dir=$(mktemp -d)
pid=""
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

# one RESP command over TCP, the raw reply on stdout
resp() { printf '%s\r\n' "$*" | nc -w 5 127.0.0.1 6392 | tr -d '\r'; }
module_hlc() { build/truthctl clock ${1:-get} --json | sed -n 's/.*"hlc":\([0-9]*\).*/\1/p'; }

printf '%064x\n' 43 >"$dir/key"
chmod 600 "$dir/key"
cat >"$dir/n1.conf" <<CONF
node_id = 1
group_id = 78
data_dir = $dir/d1
peer_listen = 127.0.0.1:7492
peer = 1 127.0.0.1:7492
client_listen = 127.0.0.1:6392
key_file = $dir/key
fast_path = kernel
hlc_kernel = on
CONF

tap_plan 5
build/truthd --config "$dir/n1.conf" 2>"$dir/log" &
pid=$!
st=""
for _ in $(seq 50); do
	st=$(build/truthctl status --addr 127.0.0.1:6392 2>/dev/null)
	echo "$st" | grep -q '^role *leader' && break
	sleep 0.2
done
echo "$st" | grep -q '^role *leader' && echo "$st" | grep -Eq '^counting *(kernel|fastpath)' &&
	tap_ok "one-member group led, commits counted by truth.ko" ||
	{ tap_fail "one-member group led, commits counted by truth.ko"; sed 's/^/# /' "$dir/log"; }
r=$(resp INFO coordination | sed -n 's/^hlc_kernel://p')
[ "$r" = on ] && tap_ok "INFO: hlc_kernel:on" || { tap_fail "INFO: hlc_kernel:on (got '$r')"; sed 's/^/# /' "$dir/log"; }

build/truthctl clock set max-offset 3600000000000 >/dev/null || tap_diag "clock set max-offset failed"
up=0
down=0
for k in $(seq 10); do
	# the module's clock ahead of the wall clock, as a datagram from a
	# node 30 s ahead would leave it (tick: the HLC at the wall clock now)
	now=$(module_hlc tick)
	ahead=$((now + 30000000000))
	build/truthctl clock merge hlc "$ahead" >/dev/null || tap_diag "clock merge refused"
	m0=$(module_hlc)
	r=$(resp TRUTH.REQ 9 $k HLC SET k$k v | tr '\n' ' ')
	m1=$(module_hlc)
	set -- $r	# *2 :HLC +OK
	h=${2#:}
	tap_diag "round $k: module was $now, pushed to $ahead, then $m0; entry $h ($3); module after $m1"
	[ "$1" = "*2" ] && [ "$3" = "+OK" ] && [ "$h" -gt "$m0" ] && up=$((up + 1))
	[ "$1" = "*2" ] && [ "$3" = "+OK" ] && [ "$m1" -ge "$h" ] && down=$((down + 1))
	[ "$h" -gt "$ahead" ] 2>/dev/null || tap_diag "round $k: entry not above the pushed $ahead"
done
[ $up = 10 ] && tap_ok "every entry's HLC is above the module's HLC before the write (10/10)" ||
	tap_fail "entry HLC above the module's before the write ($up/10)"
[ $down = 10 ] && tap_ok "after every commit the module's HLC is at least the entry's (10/10)" ||
	tap_fail "module HLC at least the entry's after the commit ($down/10)"

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
merges=$(grep -c "hlc: merging" "$dir/log")
[ $rc = 0 ] && [ "$merges" = 0 ] && tap_ok "SIGTERM: exit 0, no failed merge logged" ||
	{ tap_fail "SIGTERM: exit 0 (got $rc), no failed merge ($merges)"; sed 's/^/# /' "$dir/log"; }
tap_done
