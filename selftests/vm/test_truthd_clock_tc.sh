#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# truthd's clock probes with tc timestamps: three truthd nodes with the
# eBPF fast path (fast_path = auto) in three namespaces on a bridge.  Once
# the fast path is attached, truth.ko's ingress hook writes every probe's
# receive trailer (TSRC_TC: T2, T4), and its egress hook the transmit time
# of every probe and reply truthd sends with TRUTH_WIRE_F_STAMP (T1 comes
# back echoed, T3 arrives in the reply).
#
#	ckref-n1 (10.79.0.1, anchor 100 us) --+
#	ckref-n2 (10.79.0.2, anchor 100 us) --+-- br0 (ckref-br)
#	ckref-n3 (10.79.0.3, derives)       --+
#
# All share the VM's CLOCK_REALTIME, so it is true time: with test_hooks
# each node checks it against its bound after every sample
# (clock_test_checked/_contained) and the estimate's width against the
# documented formula (clock_test_formula_*: never wider than a truechimer's
# interval); TIME.NOW's status and width are checked from outside.
# Probes go at clock_poll_ms = 40 (25 Hz per peer, ~150 samples/s in all)
# until CLOCK_TC_SAMPLES (default 10000) samples were checked, or
# CLOCK_TC_SECONDS (default 240) passed.
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
secs=${CLOCK_TC_SECONDS:-240}
want=${CLOCK_TC_SAMPLES:-10000}
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
	anchor=100000
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
clock_poll_ms = 40
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

sum() { t=0; for i in 1 2 3; do t=$((t + $(field $i "$1" | grep -x '[0-9]*' || echo 0))); done; echo $t; }

tap_plan 7
start 1; start 2; start 3
t0=$(date +%s)

ok=0
for _ in $(seq 100); do
	ok=0
	for i in 1 2 3; do [ "$(field $i fast_path)" = on ] && ok=$((ok + 1)); done
	[ $ok = 3 ] && break
	sleep 0.3
done
[ $ok = 3 ] && tap_ok "the fast path is attached on every node" ||
	{ tap_fail "the fast path is attached on every node ($ok of 3)"; logs; }

# TIME.NOW from outside while the samples gather (busybox date has no %N:
# true time is checked in-process, clock_test_*; here status and width)
bad=0 calls=0 maxeps=0 got=0 i=0
end=$(( $(date +%s) + secs ))
while [ "$(date +%s)" -lt "$end" ]; do
	# one node's TIME.NOW per round, in turn: every process started here
	# competes with the three daemons for the emulated CPUs
	i=$((i % 3 + 1))
	for i in $i; do
		r=$(cli $i TIME.NOW | tr '\n' ' ')
		set -- $r
		[ "${3:-}" = synchronised ] || continue
		calls=$((calls + 1))
		eps=$(( ($2 - $1 + 1) / 2 ))
		[ $eps -gt $maxeps ] && maxeps=$eps
		# anchors: their 100 us claim plus aging; node 3 pays half the
		# round trip, and a saturated emulator's round trips reach
		# 100 ms (its in-process p99 was 55 ms in one run)
		lim=20000000
		[ $i = 3 ] && lim=200000000
		[ $eps -lt $lim ] || { bad=$((bad + 1)); tap_diag "node $i: TIME.NOW '$r'"; }
	done
	got=$(sum clock_test_checked)
	[ "$got" -ge "$want" ] && break
	sleep 3
done
tap_diag "$got samples checked after $(( $(date +%s) - t0 )) s (want $want)"
tap_diag "TIME.NOW: $calls synchronised calls, largest epsilon $maxeps ns"
[ $calls -gt 0 ] && [ $bad = 0 ] && tap_ok "TIME.NOW synchronised, epsilon < 20 ms (anchors), < 200 ms (node 3) ($calls calls)" ||
	tap_fail "TIME.NOW synchronised, epsilon < 20 ms (anchors), < 200 ms (node 3): $bad of $calls wider"

# per timestamp (T1..T4) and source: tc, socket, user
t1tc=0 t1o=0 t2tc=0 t2o=0 t3tc=0 t3o=0 t4tc=0 t4o=0
ck=0 ct=0 fc=0 fb=0 pernode="" samples=0 epsmax=0
for i in 1 2 3; do
	# one INFO, one awk: every clock_* field as a shell variable (forks
	# are slow under TCG)
	cli $i INFO truth | tr -d '\r' >"$dir/info$i"
	eval "$(awk -F: '/^clock_[a-z0-9_]*:/ { gsub(/[^A-Za-z0-9_.,-]/, "", $2); print "I_" $1 "=\"" $2 "\"" }' "$dir/info$i")"
	v() { eval "x=\${I_$1:-0}"; echo "$x"; }
	tap_diag "node $i: samples $(v clock_samples), contained $(v clock_test_contained)/$(v clock_test_checked), formula bad $(v clock_test_formula_bad)/$(v clock_test_formula_checked); epsilon p50 $(v clock_test_eps_p50_ns) p99 $(v clock_test_eps_p99_ns) max $(v clock_test_eps_max_ns) ns ($(v clock_test_eps_count) samples)"
	tap_diag "node $i: T1 tc=$(v clock_tx_src_tc) so=$(v clock_tx_src_so) user=$(v clock_tx_src_user); T2 tc=$(v clock_peer_rx_src_tc) so=$(v clock_peer_rx_src_so) user=$(v clock_peer_rx_src_user); T3 tc=$(v clock_peer_tx_src_tc) so=$(v clock_peer_tx_src_so) user=$(v clock_peer_tx_src_user); T4 tc=$(v clock_rx_src_tc) so=$(v clock_rx_src_so) user=$(v clock_rx_src_user)"
	tap_diag "node $i: F_STAMP $(v clock_kstamp): asked $(v clock_kstamp_asked), probes not stamped $(v clock_kstamp_unstamped), replies stamped $(v clock_kstamp_replies); lost $(v clock_lost); $(v clock_status)"
	[ "$(v clock_tx_src_tc)" -gt 0 ] && [ "$(v clock_rx_src_tc)" -gt 0 ] && pernode="$pernode $i"
	t1tc=$((t1tc + $(v clock_tx_src_tc))); t1o=$((t1o + $(v clock_tx_src_so) + $(v clock_tx_src_user)))
	t2tc=$((t2tc + $(v clock_peer_rx_src_tc))); t2o=$((t2o + $(v clock_peer_rx_src_so) + $(v clock_peer_rx_src_user)))
	t3tc=$((t3tc + $(v clock_peer_tx_src_tc))); t3o=$((t3o + $(v clock_peer_tx_src_so) + $(v clock_peer_tx_src_user)))
	t4tc=$((t4tc + $(v clock_rx_src_tc))); t4o=$((t4o + $(v clock_rx_src_so) + $(v clock_rx_src_user)))
	ck=$((ck + $(v clock_test_checked))); ct=$((ct + $(v clock_test_contained)))
	fc=$((fc + $(v clock_test_formula_checked))); fb=$((fb + $(v clock_test_formula_bad)))
	samples=$((samples + $(v clock_samples)))
	[ "$(v clock_test_eps_max_ns)" -gt $epsmax ] && epsmax=$(v clock_test_eps_max_ns)
done
tap_diag "all: $samples samples; tc/other: T1 $t1tc/$t1o T2 $t2tc/$t2o T3 $t3tc/$t3o T4 $t4tc/$t4o; contained $ct/$ck; epsilon max $epsmax ns"
[ "$pernode" = " 1 2 3" ] && tap_ok "every node took send and receive times at tc" ||
	tap_fail "every node took send and receive times at tc (nodes:$pernode)"
# after the attach every probe passes both hooks: other sources only
# from before it (the first second) -- at most 1%
tcall() { [ "$1" -gt 0 ] && [ $(($1 + $2)) -gt 0 ] && [ $((100 * $2)) -le $(($1 + $2)) ]; }
tcall $t1tc $t1o && tcall $t3tc $t3o && tap_ok "tc is the send source (T1 $t1tc of $((t1tc + t1o)), T3 $t3tc of $((t3tc + t3o)))" ||
	tap_fail "tc send times: T1 $t1tc tc, $t1o other; T3 $t3tc tc, $t3o other"
tcall $t2tc $t2o && tcall $t4tc $t4o && tap_ok "tc is the receive source (T2 $t2tc of $((t2tc + t2o)), T4 $t4tc of $((t4tc + t4o)))" ||
	tap_fail "tc receive times: T2 $t2tc tc, $t2o other; T4 $t4tc tc, $t4o other"
[ $ck -ge "$want" ] && [ $ck = $ct ] && tap_ok "containment $ct/$ck samples (true time in the bound after every sample)" ||
	{ tap_fail "containment $ct/$ck (want $want, all)"; grep -h "TEST check" "$dir"/log* | head -5 | sed 's/^/# /'; }
[ $fc -gt 0 ] && [ $fb = 0 ] && tap_ok "epsilon within the formula after $fc checks (never wider than a truechimer)" ||
	{ tap_fail "epsilon formula: $fb of $fc over"; grep -h "TEST formula" "$dir"/log* | head -5 | sed 's/^/# /'; }
kill -TERM $pid1 $pid2 $pid3
wait $pid1 $pid2 $pid3 2>/dev/null
pid1="" pid2="" pid3=""
tap_done
