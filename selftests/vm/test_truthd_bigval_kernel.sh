#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Big values with the kernel fast path (fast_path = kernel): three truthd
# in network namespaces on a bridge (MTU 1500, so every 60 KB datagram is
# also IP-fragmented on the veths).  1 MiB, 256 KiB and 60 KiB values go
# through redis-cli as fragmented APPENDs (Documentation/wire.md
# "Fragments"); the leader's kernel still counts the ACKs and drops no
# authentic datagram (bad_mac 0, replay 0); the followers reassemble and
# apply; after a kill -9 of the leader the new one returns every value
# byte for byte; 1 MiB + 1 is refused; SIGTERM exits 0; dmesg clean.
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh

command -v redis-cli >/dev/null || { echo "1..0 # SKIP no redis-cli"; exit 0; }
loaded_here=0
if [ ! -d /sys/module/truth ]; then
	insmod kmod/truth.ko || { echo "1..0 # SKIP cannot load truth.ko"; exit 0; }
	loaded_here=1
fi

pfx=bigval
dir=$(mktemp -d)
pid1="" pid2="" pid3=""
n() { ns=$1; shift; ip netns exec "$pfx-$ns" "$@"; }

cleanup() {
	for p in $pid1 $pid2 $pid3; do kill -KILL "$p" 2>/dev/null; done
	for i in 1 2 3; do ip netns del "$pfx-n$i" 2>/dev/null; done
	ip netns del "$pfx-br" 2>/dev/null
	rm -rf "$dir"
	if [ "$loaded_here" = 1 ]; then
		for _ in 1 2 3 4 5 6 7 8 9 10; do rmmod truth 2>/dev/null && break; sleep 0.2; done
	fi
}
trap cleanup EXIT

setup() {
	ip netns add "$pfx-br" || return 1
	n br ip link add br0 type bridge || return 1
	n br ip link set br0 up
	for i in 1 2 3; do
		ip netns add "$pfx-n$i" || return 1
		n br ip link add "v$i" type veth peer name eth0 netns "$pfx-n$i" || return 1
		n br ip link set "v$i" master br0 up
		n "n$i" ip addr add "10.79.0.$i/24" dev eth0
		n "n$i" ip link set eth0 up
		n "n$i" ip link set lo up
	done
}
setup || { echo "1..0 # SKIP cannot create namespaces/veth/bridge"; exit 0; }

printf '%064x\n' 4343 >"$dir/key"
chmod 600 "$dir/key"
for i in 1 2 3; do
	cat >"$dir/n$i.conf" <<CONF
node_id = $i
group_id = 9
data_dir = $dir/d$i
peer_listen = 10.79.0.$i:7411
peer = 1 10.79.0.1:7411
peer = 2 10.79.0.2:7411
peer = 3 10.79.0.3:7411
client_listen = 10.79.0.$i:6379
key_file = $dir/key
fast_path = kernel
fsync = on
election_timeout_ms = 2000
heartbeat_ms = 100
CONF
done

start() {
	ip netns exec "$pfx-n$1" build/truthd --config "$dir/n$1.conf" 2>>"$dir/log$1" &
	eval "pid$1=$!"
}
cli() { i=$1; shift; n "n$i" redis-cli -h "10.79.0.$i" -p 6379 "$@" 2>/dev/null; }
field() { cli "$1" INFO truth | tr -d '\r' | sed -n "s/^$2://p"; }
find_leader() {
	for _ in $(seq 50); do
		for i in "$@"; do
			[ "$(field "$i" role)" = leader ] || continue
			sleep 0.3
			[ "$(field "$i" role)" = leader ] && { echo "$i"; return 0; }
		done
		sleep 0.2
	done
	return 1
}
fp() { n "n$1" build/truthctl show | sed -n "s/^group 9 fast path:.* $2 \\([0-9]*\\).*/\\1/p"; }
logs() { for i in 1 2 3; do sed "s/^/# n$i: /" "$dir/log$i" | tail -20; done; }
# put KEY [FILE]: SET through whoever leads (TCG is slow: a leader may
# step down), retried; sets $leader and $r
put() {
	for _ in 1 2 3 4 5; do
		leader=$(find_leader 1 2 3) || continue
		r=$(n "n$leader" redis-cli -h "10.79.0.$leader" -p 6379 -x SET "$1" <"$dir/${2:-$1}" 2>&1)
		case "$r" in MOVED*|TRYAGAIN*) sleep 0.5 ;; *) return 0 ;; esac
	done
	return 1
}
# verify N: every value read from node N is identical
verify() {
	bad=""
	for k in k60 k256 k1m; do
		cli "$1" GET "$k" >"$dir/got"
		want=$(($(stat -c %s "$dir/$k") + 1))
		if [ "$(stat -c %s "$dir/got")" != "$want" ] ||
		   ! head -c $((want - 1)) "$dir/got" | cmp -s - "$dir/$k"; then
			bad="$bad $k"
		fi
	done
	[ -z "$bad" ] || tap_diag "node $1 differs on:$bad"
	[ -z "$bad" ]
}

tap_plan 9
dmesg_before=$(dmesg | wc -l)
head -c 61440 /dev/urandom >"$dir/k60"
head -c 262144 /dev/urandom >"$dir/k256"
head -c 1048576 /dev/urandom >"$dir/k1m"
head -c 1048577 /dev/urandom >"$dir/over"
start 1; start 2; start 3

leader=$(find_leader 1 2 3)
c=$(field "${leader:-1}" counting)
[ -n "$leader" ] && [ "$c" = fastpath ] && tap_ok "leader node $leader counts on the fast path" ||
	{ tap_fail "leader elected and counting:fastpath (leader '${leader:-}', counting '$c')"; logs; tap_done; exit 1; }

ok=1
for k in k60 k256 k1m; do
	put "$k"
	[ "$r" = OK ] || { ok=0; tap_diag "SET $k: $r"; }
done
[ $ok = 1 ] && verify "$leader" && tap_ok "SET/GET 60 KiB, 256 KiB, 1 MiB" ||
	{ tap_fail "SET/GET 60 KiB, 256 KiB, 1 MiB"; logs; }

put over
e=$(cli "$leader" EXISTS over)
[ "$r" = "ERR value too large (1048577 bytes, max_value_bytes is 1048576)" ] && [ "$e" = 0 ] &&
	tap_ok "1 MiB + 1 refused with -ERR" || tap_fail "1 MiB + 1 refused ('$r', EXISTS $e)"

commit=$(field "$leader" commit_index)
caught=0
for _ in $(seq 100); do
	caught=0
	for i in 1 2 3; do
		[ "$i" = "$leader" ] && continue
		a=$(field "$i" applied_index)
		[ "${a:-0}" -ge "$commit" ] && caught=$((caught + 1))
	done
	[ $caught = 2 ] && break
	sleep 0.1
done
rx=""
for i in 1 2 3; do [ "$i" = "$leader" ] || rx="$rx $(field "$i" rx_frag_msgs)"; done
[ $caught = 2 ] && tap_ok "both followers applied up to $commit (fragmented messages taken:$rx)" ||
	{ tap_fail "both followers applied up to $commit ($caught did)"; logs; }

acks=$(fp "$leader" acks)
badmac=$(fp "$leader" bad_mac)
replay=$(fp "$leader" replay)
n "n$leader" build/truthctl show | grep 'fast path' | sed 's/^/# /'
[ "${acks:-0}" -gt 0 ] && [ "$badmac" = 0 ] && [ "$replay" = 0 ] &&
	tap_ok "the kernel counted $acks ACKs, bad_mac 0, replay 0" ||
	tap_fail "kernel counters: acks '${acks:-}', bad_mac '${badmac:-}', replay '${replay:-}'"
bad=0
for i in 1 2 3; do
	b=$(fp "$i" bad_mac)
	[ "${b:-1}" = 0 ] || bad=1
done
[ $bad = 0 ] && tap_ok "no node's kernel dropped a datagram for its MAC" || tap_fail "bad_mac on some node"

eval "kill -KILL \$pid$leader; wait \$pid$leader 2>/dev/null; pid$leader="
old=$leader
rest=""
for i in 1 2 3; do [ "$i" != "$old" ] && rest="$rest $i"; done
# shellcheck disable=SC2086
leader=$(find_leader $rest)
[ -n "$leader" ] && verify "$leader" &&
	tap_ok "after kill -9 of node $old, the new leader $leader returns every value" ||
	{ tap_fail "the new leader returns every value after kill -9 of node $old"; logs; }
start "$old"
# SIGTERM only once it runs (and has its handlers): it answers INFO
for _ in $(seq 100); do [ -n "$(field "$old" role)" ] && break; sleep 0.2; done

rcs=""
for i in 1 2 3; do eval "kill -TERM \$pid$i"; done
for i in 1 2 3; do eval "wait \$pid$i; rcs=\"\$rcs \$?\"; pid$i="; done
[ "$rcs" = " 0 0 0" ] && tap_ok "SIGTERM: all three exit 0" || { tap_fail "SIGTERM: exit codes$rcs"; logs; }

bad=$(dmesg | tail -n +"$((dmesg_before + 1))" | grep -E 'WARNING|BUG|Oops|leak|refcount|general protection')
[ -z "$bad" ] && tap_ok "dmesg clean" || { tap_fail "dmesg"; echo "$bad" | sed 's/^/# /'; }
tap_done
