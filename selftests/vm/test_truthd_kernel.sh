#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# truthd with its commits counted by truth.ko (fast_path = kernel): a
# one-member group, so every commit is the kernel's quorum rule answering
# truthd's own ack through a netlink event.  The group appears in
# `truthctl show` with the commit index truthd reports, writes and reads
# work over RESP (busybox nc), SIGTERM exits 0 and deletes the kernel
# group.  Runs in its own network namespace; loads truth.ko if needed.
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
resp() { printf '%s\r\n' "$*" | nc -w 5 127.0.0.1 6391; }

printf '%064x\n' 42 >"$dir/key"
chmod 600 "$dir/key"
cat >"$dir/n1.conf" <<CONF
node_id = 1
group_id = 77
data_dir = $dir/d1
peer_listen = 127.0.0.1:7491
peer = 1 127.0.0.1:7491
client_listen = 127.0.0.1:6391
key_file = $dir/key
fast_path = kernel
CONF

tap_plan 7
build/truthd --config "$dir/n1.conf" 2>"$dir/log" &
pid=$!
st=""
for _ in $(seq 50); do
	st=$(build/truthctl status --addr 127.0.0.1:6391 2>/dev/null)
	echo "$st" | grep -q '^role *leader' && break
	sleep 0.2
done
echo "$st" | grep -q '^role *leader' && tap_ok "a one-member group elects itself" ||
	{ tap_fail "a one-member group elects itself"; sed 's/^/# /' "$dir/log"; }
echo "$st" | grep -Eq '^counting *(kernel|fastpath)' && tap_ok "INFO truth says counting:kernel (or fastpath)" ||
	{ tap_fail "INFO truth says counting:kernel"; echo "$st" | sed 's/^/# /'; }

r=$(resp SET greeting hello | tr -d '\r')
[ "$r" = "+OK" ] && tap_ok "SET committed by the kernel's count" || { tap_fail "SET committed by the kernel's count"; tap_diag "got '$r'"; }
r=$(resp GET greeting | tr -d '\r' | tr '\n' ' ')
[ "$r" = '$5 hello ' ] && tap_ok "GET reads it back" || { tap_fail "GET reads it back"; tap_diag "got '$r'"; }

commit=$(build/truthctl status --addr 127.0.0.1:6391 | sed -n 's/^commit_index *//p')
show=$(build/truthctl show)
echo "$show" | grep -Eq "^group 77.*self 1, leader, .*commit $commit(,|\$)" &&
	tap_ok "truthctl show: kernel group 77 at truthd's commit index $commit" ||
	{ tap_fail "truthctl show: kernel group 77 at truthd's commit index"; echo "$show" | sed 's/^/# /'; }

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
[ $rc = 0 ] && tap_ok "SIGTERM: exit 0" || { tap_fail "SIGTERM: exit 0 (got $rc)"; sed 's/^/# /' "$dir/log"; }
build/truthctl show | grep -q '^group 77' && tap_fail "the kernel group is deleted on shutdown" ||
	tap_ok "the kernel group is deleted on shutdown"
tap_done
