#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Clock sync with real packets: truth-probe nodes (agent/clock/probe.h) in
# four network namespaces on a bridge, asymmetric and jittery delay from
# tc netem on both ends of every veth, SO_TIMESTAMPING (two-step) in use.
# Each node's local clock has an injected offset and drift and its
# reference clock a bias (the test-only clock layer), so each node checks,
# after every sample and every few ms, that true time (the VM's
# CLOCK_REALTIME) is inside its now().
#
#   clocksync-n1 (10.77.0.1)   clocksync-n2 (.2)   clocksync-n3 (.3)   clocksync-n4 (.4)
#        eth0                       eth0                eth0                eth0
#         |  netem out: base+jitter per node, different on each side      |
#        c1 ---------------------- c2 ------- br0 ------ c3 -------------- c4
#                              (clocksync-br namespace)
#
# Cases: containment over >= 10 000 samples; a node whose reference clock
# is 50 ms off while it claims 100 us is named falseticker by every other
# node; when its peers vanish a node turns free-running and epsilon grows
# at the stated drift.  Usable on the host too (as root) where sch_netem
# exists; it skips without it.
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh

tool=build/selftests/tools/truth-probe
pfx=clocksync
out=$(mktemp -d)
pids=""

n() { ns=$1; shift; ip netns exec "$pfx-$ns" "$@"; }

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for i in 1 2 3 4; do ip netns del "$pfx-n$i" 2>/dev/null; done
	ip netns del "$pfx-br" 2>/dev/null
	rm -rf "$out"
}
trap cleanup EXIT

setup() {
	ip netns add "$pfx-br" || return 1
	n br ip link add br0 type bridge || return 1
	n br ip link set br0 up
	n br ip link set lo up
	for i in 1 2 3 4; do
		ip netns add "$pfx-n$i" || return 1
		n br ip link add "c$i" type veth peer name eth0 netns "$pfx-n$i" || return 1
		n br ip link set "c$i" master br0 up
		n "n$i" ip addr add "10.77.0.$i/24" dev eth0
		n "n$i" ip link set eth0 up
		n "n$i" ip link set lo up
	done
}

# netem PROFILE: per-direction delays, different everywhere (asymmetric)
netem() {
	for i in 1 2 3 4; do
		n "n$i" tc qdisc del dev eth0 root 2>/dev/null
		n br tc qdisc del dev "c$i" root 2>/dev/null
		[ "$1" = none ] && continue
		# node -> bridge: 100..400 us base, jitter 30..120 us
		n "n$i" tc qdisc add dev eth0 root netem \
			delay "$((i * 100))us" "$((i * 30))us" || return 1
		# bridge -> node: 50 us + node-dependent, jitter 20 us
		n br tc qdisc add dev "c$i" root netem \
			delay "$((50 + (5 - i) * 60))us" 20us || return 1
	done
}

# run NODE DURATION_MS EXTRA...: start one truth-probe in the background
run() {
	i=$1 dur=$2
	shift 2
	peers=""
	for j in 1 2 3 4; do
		[ "$j" = "$i" ] || peers="$peers --peer $j=10.77.0.$j:7410"
	done
	n "n$i" $tool --id "$i" --listen "10.77.0.$i:7410" $peers --group 7 \
		--poll-ms 25 --duration-ms "$dur" --offset-ns "$((i * 7000000 - 20000000))" \
		--drift-ppb "$((i * 60000 - 150000))" "$@" >"$out/n$i.log" 2>&1 &
	pids="$pids $!"
}

wait_all() {
	for p in $pids; do wait "$p"; done
	pids=""
}

# field NAME LINE: the value of NAME=... in LINE
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

skip_all() { tap_plan 1; tap_skip "clock sync over netem" "$1"; exit 0; }

[ -x "$tool" ] || skip_all "$tool not built"
setup || skip_all "cannot create namespaces/veth/bridge"
netem on 2>"$out/netem.err" || skip_all "tc netem unavailable: $(tr '\n' ' ' <"$out/netem.err")"

tap_plan 8
total=0

# ---- 1: containment with netem, two-step SO_TIMESTAMPING, until every
# node has 2 500 samples (10 000 in all).  Under TCG the rate depends on
# the host's load (about 100-300 samples/s in all), hence a stop file and
# a cap of 150 s instead of a fixed duration.
for i in 1 2 3 4; do
	if [ "$i" -lt 4 ]; then a="--anchor-ns 100000 --bias-ns $((i * 25000 - 50000))"; else a="--bias-ns 300000"; fi
	run "$i" 150000 $a --target-samples 2500 --stop-file "$out/stop"
done
waited=0
while [ "$(cat "$out"/n*.log | grep -c '^# target')" -lt 4 ] && [ $waited -lt 150 ]; do
	sleep 1
	waited=$((waited + 1))
done
touch "$out/stop"
wait_all
rm -f "$out/stop"
tap_diag "netem: ran $waited s"
samples=0 checks=0 contained=0 sock=0 fu=0
for i in 1 2 3 4; do
	s=$(grep '^summary' "$out/n$i.log")
	tap_diag "netem: $s"
	samples=$((samples + $(field samples "$s")))
	checks=$((checks + $(field checks "$s")))
	contained=$((contained + $(field contained "$s")))
	sock=$((sock + $(field t1_socket "$s")))
	fu=$((fu + $(field followups "$s")))
done
tap_diag "netem: $samples samples, containment $contained/$checks, kernel T1 in $sock, two-step T3 in $fu"
total=$((total + samples))
if [ "$checks" -gt 0 ] && [ "$checks" = "$contained" ]; then
	tap_ok "netem: containment $contained/$checks"
else
	tap_fail "netem: containment $contained/$checks"
	grep -h outside "$out"/n*.log | head -5 | sed 's/^/# /'
fi
if [ "$sock" -gt $((samples / 2)) ] && [ "$fu" -gt $((samples / 2)) ]; then
	tap_ok "netem: kernel timestamps used (T1 $sock, two-step T3 $fu of $samples)"
else
	tap_fail "netem: kernel timestamps used (T1 $sock, two-step T3 $fu of $samples)"
fi

# ---- 2: node 4's reference is 50 ms off, claiming 100 us
for i in 1 2 3 4; do
	if [ "$i" -lt 4 ]; then b=$((i * 25000 - 50000)); else b=50000000; fi
	run "$i" 15000 --anchor-ns 100000 --bias-ns "$b"
done
wait_all
ok=1 checks=0 contained=0
for i in 1 2 3; do
	p=$(grep '^peer node=.* peer=4 ' "$out/n$i.log")
	tap_diag "falseticker: $p"
	f=$(field falseticker_updates "$p") u=$(field updates "$p")
	[ "$(field state "$p")" = falseticker ] && [ "$u" -gt 50 ] && [ $((f + 5)) -ge "$u" ] || ok=0
done
for i in 1 2 3 4; do
	s=$(grep '^summary' "$out/n$i.log")
	total=$((total + $(field samples "$s")))
	checks=$((checks + $(field checks "$s")))
	contained=$((contained + $(field contained "$s")))
done
if [ $ok = 1 ]; then tap_ok "falseticker: node 4 named by every other node"; else tap_fail "falseticker: node 4 named by every other node"; fi
if [ "$checks" -gt 0 ] && [ "$checks" = "$contained" ]; then
	tap_ok "falseticker: containment $contained/$checks"
else
	tap_fail "falseticker: containment $contained/$checks"
fi

# ---- 3: peers vanish after 5 s; node 1 (no reference of its own) goes on
run 1 10000 --sync-timeout-ms 1000 --drift-ppb 190000
for i in 2 3 4; do run "$i" 5000 --anchor-ns 100000 --bias-ns $((i * 10000)); done
wait_all
s=$(grep '^summary' "$out/n1.log")
f=$(grep '^freerun' "$out/n1.log")
tap_diag "vanish: $s"
for i in 1 2 3 4; do
	total=$((total + $(field samples "$(grep '^summary' "$out/n$i.log")")))
done
tap_diag "vanish: $f"
if [ "$(field status "$s")" = free-running ]; then tap_ok "vanish: status free-running"; else tap_fail "vanish: status free-running"; fi
rate=$(field rate_ppb "$f")
gerr=$(field growth_err_max "$f")
if [ -n "$rate" ] && [ "$gerr" -le 1 ] && [ "$rate" -ge 199900 ] && [ "$rate" -le 200100 ]; then
	tap_ok "vanish: epsilon grows at 200 ppm (rate $rate ppb, formula error <= $gerr ns)"
else
	tap_fail "vanish: epsilon grows at 200 ppm (rate ${rate:-none} ppb, formula error ${gerr:-none} ns)"
fi
if [ "$(field checks "$s")" = "$(field contained "$s")" ] && [ "$(field checks "$s")" -gt 0 ]; then
	tap_ok "vanish: containment $(field contained "$s")/$(field checks "$s")"
else
	tap_fail "vanish: containment $(field contained "$s")/$(field checks "$s")"
fi

# every sample above was checked for containment, in every case
if [ "$total" -ge 10000 ]; then tap_ok "at least 10000 samples over netem ($total)"; else tap_fail "at least 10000 samples over netem ($total)"; fi
tap_done
