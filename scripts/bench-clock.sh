#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Clock-sync benchmark (not a test): truth's error bound epsilon against
# chrony's own estimate of its error, on the same veth + netem set-up as
# selftests/vm/test_clock_netem.sh, inside the QEMU VM (the host kernel has
# no sch_netem, and chronyd must never run next to the host clock).
#
#   clocksync-b1 (10.78.0.1): chronyd -x server ("local stratum 1"),
#                             truth-probe node 1 (anchor, claims 1 us)
#   clocksync-b2 (10.78.0.2): chronyd -x client (minpoll/maxpoll -5),
#                             truth-probe node 2 (no reference of its own)
#   both on a bridge in clocksync-bbr; netem on every veth end, different
#   per direction (asymmetric), with jitter
#
# chrony's estimate, as AWS ClockBound reads it: |system time offset| +
# root dispersion + root delay / 2 (`chronyc -c tracking`), sampled every
# 0.5 s.  truth's: epsilon of now() at node 2 after every loop, both with
# the simulated clocks (true time known, containment checked) and the real
# ones (MONOTONIC_RAW/REALTIME, with the REALTIME->RAW conversion error).
# The first WARMUP seconds are left out.  Prints one table with ratios.
#
# On the host: scripts/bench-clock.sh (or make bench-clock) copies chronyd
# and chronyc into build/bench/ for the VM image and boots the VM with
# `--in-vm`.  -x: chronyd never touches any clock, and every daemon started
# here is killed by its pid before the VM powers off.
set -u
cd "$(dirname "$0")/.."

DURATION=${BENCH_CLOCK_DURATION:-60}	# seconds, measured + warm-up
WARMUP=${BENCH_CLOCK_WARMUP:-20}	# seconds left out

if [ "${1:-}" != --in-vm ]; then
	for b in chronyd chronyc; do
		command -v "$b" >/dev/null ||
			{ echo "bench-clock: $b not installed (scripts/deps.sh installs chrony)" >&2; exit 1; }
	done
	[ -x build/selftests/tools/truth-probe ] ||
		{ echo "bench-clock: build/selftests/tools/truth-probe missing: make build" >&2; exit 1; }
	mkdir -p build/bench
	cp -L "$(command -v chronyd)" "$(command -v chronyc)" build/bench/
	exec scripts/vm.sh -- sh /truth/scripts/bench-clock.sh --in-vm
fi

# ------------------------------------------------------------- in the VM
tool=build/selftests/tools/truth-probe
chronyd=build/bench/chronyd
chronyc=build/bench/chronyc
pfx=clocksync
tmp=$(mktemp -d)
pids="" cpids=""

n() { ns=$1; shift; ip netns exec "$pfx-$ns" "$@"; }
# in the background: exec, so that $! is the daemon's own pid, not a
# subshell's (killing a subshell leaves the daemon running)
bg() { ns=$1; shift; exec ip netns exec "$pfx-$ns" "$@"; }

cleanup() {
	for p in $pids $cpids; do kill "$p" 2>/dev/null; done
	for p in $pids $cpids; do wait "$p" 2>/dev/null; done
	for ns in b1 b2 bbr; do ip netns del "$pfx-$ns" 2>/dev/null; done
	rm -rf "$tmp" /run/clocksync-chrony-srv /run/clocksync-chrony-cli
}
trap cleanup EXIT

ip netns add "$pfx-bbr" && n bbr ip link add br0 type bridge && n bbr ip link set br0 up || exit 1
for i in 1 2; do
	ip netns add "$pfx-b$i" || exit 1
	n bbr ip link add "c$i" type veth peer name eth0 netns "$pfx-b$i" || exit 1
	n bbr ip link set "c$i" master br0 up
	n "b$i" ip addr add "10.78.0.$i/24" dev eth0
	n "b$i" ip link set eth0 up
	n "b$i" ip link set lo up
	n "b$i" tc qdisc add dev eth0 root netem delay "$((i * 100))us" "$((i * 30))us" || exit 1
	n bbr tc qdisc add dev "c$i" root netem delay "$((50 + (5 - i) * 60))us" 20us || exit 1
done

# chronyd: the command socket's directory must not be writable by others
mkdir -m 0750 -p /run/clocksync-chrony-srv /run/clocksync-chrony-cli
cat >"$tmp/srv.conf" <<EOF
local stratum 1
allow 10.78.0.0/24
bindcmdaddress /run/clocksync-chrony-srv/chronyd.sock
cmdport 0
pidfile /run/clocksync-chrony-srv/chronyd.pid
EOF
cat >"$tmp/cli.conf" <<EOF
server 10.78.0.1 iburst minpoll -5 maxpoll -5 xleave
bindcmdaddress /run/clocksync-chrony-cli/chronyd.sock
cmdport 0
pidfile /run/clocksync-chrony-cli/chronyd.pid
EOF
bg b1 "$chronyd" -x -d -u root -f "$tmp/srv.conf" >"$tmp/srv.log" 2>&1 &
pids="$pids $!"
bg b2 "$chronyd" -x -d -u root -f "$tmp/cli.conf" >"$tmp/cli.log" 2>&1 &
pids="$pids $!"

# truth: simulated clocks (port 7410) and real clocks (port 7420), 32 Hz
cpids=$pids	# chronyd's; $pids from here on: the truth nodes
pids=""
# every truth node ends (with its summary) once the stop file exists
common="--poll-ms 31 --duration-ms $((DURATION * 1000 + 60000)) --warmup-ms $((WARMUP * 1000)) --group 3 --stop-file $tmp/stop"
bg b1 $tool --id 1 --listen 10.78.0.1:7410 --peer 2=10.78.0.2:7410 $common \
	--anchor-ns 1000 >"$tmp/t1.log" 2>&1 &
pids="$pids $!"
bg b2 $tool --id 2 --listen 10.78.0.2:7410 --peer 1=10.78.0.1:7410 $common \
	--offset-ns 2500000 --drift-ppb 90000 >"$tmp/t2.log" 2>&1 &
pids="$pids $!"
bg b1 $tool --real --id 1 --listen 10.78.0.1:7420 --peer 2=10.78.0.2:7420 $common \
	--anchor-ns 1000 >"$tmp/r1.log" 2>&1 &
pids="$pids $!"
bg b2 $tool --real --id 2 --listen 10.78.0.2:7420 --peer 1=10.78.0.1:7420 $common \
	>"$tmp/r2.log" 2>&1 &
pids="$pids $!"
# the same with a REALTIME slew bound of 1000 ppm: sound here only because
# no time daemon adjusts this VM's clock (chronyd runs with -x)
bg b1 $tool --real --slew-ppb 1000000 --id 1 --listen 10.78.0.1:7430 \
	--peer 2=10.78.0.2:7430 $common --anchor-ns 1000 >"$tmp/q1.log" 2>&1 &
pids="$pids $!"
bg b2 $tool --real --slew-ppb 1000000 --id 2 --listen 10.78.0.2:7430 \
	--peer 1=10.78.0.1:7430 $common >"$tmp/q2.log" 2>&1 &
pids="$pids $!"

sleep "$WARMUP"
# chrony's estimate every 0.5 s until the truth nodes are done: one
# chronyc reading commands from a pipe (a process per sample is too slow
# under TCG)
end=$(( $(date +%s) + DURATION - WARMUP ))
while [ "$(date +%s)" -lt "$end" ]; do
	echo tracking
	sleep 0.5
done | n b2 "$chronyc" -c -h /run/clocksync-chrony-cli/chronyd.sock 2>>"$tmp/chronyc.err" |
	awk -F, 'NF >= 12 && $1 != "00000000" {
		o = $5 < 0 ? -$5 : $5
		printf "%.0f\n", (o + $12 + $11 / 2) * 1e9 }' >>"$tmp/chrony.eps"
last=$(n b2 "$chronyc" -h /run/clocksync-chrony-cli/chronyd.sock -c tracking 2>&1 | tail -1)
touch "$tmp/stop"
rcs=""
for p in $pids; do wait "$p" 2>/dev/null; rcs="$rcs $?"; done
for p in $cpids; do kill "$p" 2>/dev/null; done
for p in $cpids; do wait "$p" 2>/dev/null; done
pids="" cpids=""
echo "# truth nodes' exit statuses (t1 t2 r1 r2 q1 q2):$rcs"
for f in t1 t2 r1 r2 q1 q2; do
	grep -q '^summary' "$tmp/$f.log" && continue
	echo "# $f.log has no summary; its end:"
	tail -n 5 "$tmp/$f.log" | sed 's/^/#   /'
done

field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
pct() { sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { if (NR) print v[int((NR - 1) * p / 100) + 1]; else print "" }'; }
us() { [ -n "$1" ] && awk -v v="$1" 'BEGIN { printf "%.1f", v / 1000 }' || printf 'n/a'; }
ratio() { [ -n "$1" ] && [ -n "$2" ] && [ "$2" != 0 ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || printf 'n/a'; }

s2=$(grep '^summary' "$tmp/t2.log")
r2=$(grep '^summary' "$tmp/r2.log")
q2=$(grep '^summary' "$tmp/q2.log")
touch "$tmp/chrony.eps"
c50=$(pct "$tmp/chrony.eps" 50) c99=$(pct "$tmp/chrony.eps" 99) cmx=$(pct "$tmp/chrony.eps" 100)
cn=$(wc -l <"$tmp/chrony.eps")

echo "# truth node 2 (simulated clocks): $s2"
echo "# truth node 2 (real clocks):      $r2"
echo "# truth node 2 (real, 1000 ppm):   $q2"
for f in t2 r2 q2; do grep '^peer' "$tmp/$f.log" | sed "s/^/# $f: /"; done
echo "# chrony: $cn tracking samples; last: $last"
[ "$cn" -gt 0 ] || { echo "# chronyd client log:"; sed 's/^/#   /' "$tmp/cli.log" | tail -20; sed 's/^/#   /' "$tmp/chronyc.err" | tail -5; }
# one row: name, summary line; p50/p99/max and the containment counts
row() {
	printf '%-34s %9s %9s %9s  %s\n' "$1" "$(us "$(field eps_p50 "$2")")" \
		"$(us "$(field eps_p99 "$2")")" "$(us "$(field eps_max "$2")")" "$3"
}
cont() {
	c="$(field contained "$1")/$(field checks "$1")"
	u=$(field unsure "$1")
	[ -n "$u" ] && [ "$u" != 0 ] && c="$c ($u unsure: reads too far apart)"
	printf '%s' "$c"
}
rrow() {
	printf '%-34s %9s %9s %9s\n' "ratio $1/chrony" \
		"$(ratio "$(field eps_p50 "$2")" "$c50")" \
		"$(ratio "$(field eps_p99 "$2")" "$c99")" \
		"$(ratio "$(field eps_max "$2")" "$cmx")"
}
echo
# how far the guest kept up: samples per second node 2 got, of 32 asked
rate=$(awk -v a="$(field samples "$s2")" -v d="$DURATION" 'BEGIN { if (a != "") printf "%.1f", a / d; else print "n/a" }')
echo "# node 2 (simulated clocks) completed $rate exchanges/s of the 32 asked (TCG guest on a shared host)"
echo "clock sync on veth + netem (330 us one way, 490 us back, jitter 20-60 us per hop), 2 nodes, 32 Hz polls, $((DURATION - WARMUP)) s after $WARMUP s warm-up"
printf '%-34s %9s %9s %9s  %s\n' "estimator (node 2)" "p50 us" "p99 us" "max us" \
	"containment (contained/checks)"
row "truth, simulated clocks" "$s2" "$(cont "$s2") of true time"
row "truth, real clocks" "$r2" "$(cont "$r2") of REALTIME"
row "truth, real, slew bound 1000 ppm" "$q2" "$(cont "$q2") of REALTIME"
printf '%-34s %9s %9s %9s  %s\n' "chrony -x: |offset|+disp+delay/2" "$(us "$c50")" \
	"$(us "$c99")" "$(us "$cmx")" "$cn readings (contains REALTIME by construction)"
rrow "truth(sim)" "$s2"
rrow "truth(real)" "$r2"
rrow "truth(real, 1000 ppm)" "$q2"
