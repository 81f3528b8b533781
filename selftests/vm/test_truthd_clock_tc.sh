#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# truthd's clock probes with tc timestamps: three truthd nodes with the
# eBPF fast path (fast_path = auto) in three namespaces on a bridge.  Once
# the fast path is attached, truth.ko's ingress hook writes every probe's
# receive trailer (TSRC_TC) and truthd takes T2/T4 from it.
#
#	ckref-n1 (10.79.0.1, anchor 1 ms) --+
#	ckref-n2 (10.79.0.2, anchor 1 ms) --+-- br0 (ckref-br)
#	ckref-n3 (10.79.0.3, derives)     --+
#
# All share the VM's CLOCK_REALTIME, so it is true time: with test_hooks
# each node checks it against its bound after every sample
# (clock_test_checked/_contained); TIME.NOW's status and width are checked
# from outside.
# CLOCK_TC_SECONDS (default 120) sets the run length; the sample count is
# printed (10,000 samples take ~14 min at 2 Hz per peer).
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh

command -v redis-cli >/dev/null || { echo "1..0 # SKIP no redis-cli"; exit 0; }
loaded_here=0
if [ ! -d /sys/module/truth ]; then
	insmod kmod/truth.ko || { echo "1..0 # SKIP cannot load truth.ko"; exit 0; }
	loaded_here=1
fi

pfx=ckref
secs=${CLOCK_TC_SECONDS:-120}
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

printf '%064x\n' 4243 >"$dir/key"
chmod 600 "$dir/key"
for i in 1 2 3; do
	anchor=1000000
	[ $i = 3 ] && anchor=0
	cat >"$dir/n$i.conf" <<CONF
node_id = $i
group_id = 11
data_dir = $dir/d$i
peer_listen = 10.79.0.$i:7411
peer = 1 10.79.0.1:7411
peer = 2 10.79.0.2:7411
peer = 3 10.79.0.3:7411
client_listen = 10.79.0.$i:6379
key_file = $dir/key
fast_path = auto
fsync = off
clock_anchor_ns = $anchor
test_hooks = on
CONF
done

start() {
	ip netns exec "$pfx-n$1" build/truthd --config "$dir/n$1.conf" 2>>"$dir/log$1" &
	eval "pid$1=$!"
}
cli() { i=$1; shift; n "n$i" redis-cli -h "10.79.0.$i" -p 6379 "$@" 2>/dev/null; }
field() { cli "$1" INFO truth | tr -d '\r' | sed -n "s/^$2://p"; }
logs() { for i in 1 2 3; do sed "s/^/# n$i: /" "$dir/log$i" | tail -8; done; }

tap_plan 5
start 1; start 2; start 3

ok=0
for _ in $(seq 100); do
	ok=0
	for i in 1 2 3; do [ "$(field $i fast_path)" = on ] && ok=$((ok + 1)); done
	[ $ok = 3 ] && break
	sleep 0.3
done
[ $ok = 3 ] && tap_ok "the fast path is attached on every node" ||
	{ tap_fail "the fast path is attached on every node ($ok of 3)"; logs; }

# TIME.NOW from outside while the run goes on (busybox date has no %N:
# true time is checked in-process, clock_test_*; here status and width)
bad=0 calls=0 maxeps=0
end=$(( $(date +%s) + secs ))
while [ "$(date +%s)" -lt "$end" ]; do
	for i in 1 2 3; do
		r=$(cli $i TIME.NOW | tr '\n' ' ')
		set -- $r
		[ "${3:-}" = synchronised ] || continue
		calls=$((calls + 1))
		eps=$(( ($2 - $1 + 1) / 2 ))
		[ $eps -gt $maxeps ] && maxeps=$eps
		[ $eps -lt 20000000 ] || { bad=$((bad + 1)); tap_diag "node $i: TIME.NOW '$r'"; }
	done
	sleep 1
done
tap_diag "TIME.NOW: $calls synchronised calls, largest epsilon $maxeps ns"
[ $calls -gt 0 ] && [ $bad = 0 ] && tap_ok "TIME.NOW synchronised, epsilon < 20 ms ($calls calls)" ||
	tap_fail "TIME.NOW synchronised, epsilon < 20 ms ($bad of $calls wider)"

tc=0 so=0 us=0 ck=0 ct=0 pernode=""
for i in 1 2 3; do
	all=$(cli $i INFO truth | tr -d '\r')
	v() { echo "$all" | sed -n "s/^$1://p"; }
	a=$(v clock_rx_src_tc); b=$(v clock_rx_src_so); c=$(v clock_rx_src_user)
	k=$(v clock_test_checked); t=$(v clock_test_contained)
	tap_diag "node $i: T4 sources tc=$a socket=$b user=$c; T1 tc=$(v clock_tx_src_tc) socket=$(v clock_tx_src_so); samples $(v clock_samples); contained $t/$k; epsilon $(v clock_epsilon_ns) ns; $(v clock_status)"
	[ "${a:-0}" -gt 0 ] && pernode="$pernode $i"
	tc=$((tc + ${a:-0})); so=$((so + ${b:-0})); us=$((us + ${c:-0}))
	ck=$((ck + ${k:-0})); ct=$((ct + ${t:-0}))
done
[ "$pernode" = " 1 2 3" ] && tap_ok "every node took receive times at tc ($tc samples)" ||
	tap_fail "every node took receive times at tc (nodes:$pernode)"
# after the attach every probe passes the ingress hook: socket times are
# only from before it (the first second)
[ $tc -gt $((10 * (so + us))) ] && tap_ok "tc is the receive source of $tc of $((tc + so + us)) samples" ||
	tap_fail "tc receive times: $tc, socket $so, user $us"
[ $ck -gt 0 ] && [ $ck = $ct ] && tap_ok "containment $ct/$ck samples (true time in the bound after every sample)" ||
	{ tap_fail "containment $ct/$ck"; grep -h "TEST check" "$dir"/log* | head -5 | sed 's/^/# /'; }
kill -TERM $pid1 $pid2 $pid3
wait $pid1 $pid2 $pid3 2>/dev/null
pid1="" pid2="" pid3=""
tap_done
