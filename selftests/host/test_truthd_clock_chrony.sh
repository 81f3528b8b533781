#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# clock_reference = chrony: truthd reads the local chronyd's estimate
# (chronyc -c tracking from a helper thread) and counts it as a source.
#
#	netns clockref-chr<pid>: chronyd -x (never touches a clock; no NTP
#	port, no UDP command port; a command socket in our own directory)
#	truthd (host, loopback): a one-member group, NOT an anchor,
#	clock_reference = chrony, clock_chrony_socket = that socket
#
# 1. chronyd with "local stratum 1": synchronised to the host clock, which
#    is true time here, so chrony's claim is true: truthd, whose only
#    source is chrony, turns synchronised; TIME.NOW holds CLOCK_REALTIME;
#    INFO clock_reference_state ok, selection truechimer.
# 2. clock_discipline = on with that chronyd running: refused, logged.
# 3. chronyd restarted without any source: "Not synchronised": truthd logs
#    it, INFO says unsynchronised with chronyd's leap status.
# 4. chronyd stopped: absent, logged with chronyc's own message.
# Needs root (netns) and chrony (scripts/deps.sh); SKIPs without.
. "$(dirname "$0")/../lib/tap.sh"

TRUTHD=${TRUTHD:-$(dirname "$0")/../../build/truthd}
base=$((34000 + ($$ % 1000) * 4))
ns=clockref-chr$$
dir=$(mktemp -d /tmp/truthd-chrony-XXXXXX)
pid=""
cpid=""

stop_chronyd() {
	[ -n "$cpid" ] && kill "$cpid" 2>/dev/null
	for _i in $(seq 50); do
		[ -n "$cpid" ] && kill -0 "$cpid" 2>/dev/null || break
		sleep 0.1
	done
	cpid=""
}
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	stop_chronyd
	ip netns del "$ns" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

tap_plan 7
why=""
[ "$(id -u)" = 0 ] || why="needs root (a network namespace for chronyd)"
command -v chronyd >/dev/null && command -v chronyc >/dev/null ||
	why="chrony not installed (scripts/deps.sh)"
command -v redis-cli >/dev/null || why="redis-cli not installed (scripts/deps.sh)"
if [ -n "$why" ]; then
	for i in $(seq 7); do tap_skip "case $i" "$why"; done
	exit 0
fi
info() { redis-cli -p $base INFO truth 2>/dev/null | tr -d '\r' | sed -n "s/^$1://p"; }

# chronyd refuses a command socket in a directory others can enter
chmod 0750 "$dir"
ip netns add "$ns"
start_chronyd() {	# $1: extra config line
	rm -f "$dir/chronyd.pid"
	cat > "$dir/chrony.conf" <<CONF
$1
bindcmdaddress $dir/chronyd.sock
cmdport 0
port 0
pidfile $dir/chronyd.pid
CONF
	ip netns exec "$ns" chronyd -x -u root -f "$dir/chrony.conf" 2>>"$dir/chronyd.log"
	for _i in $(seq 50); do
		[ -s "$dir/chronyd.pid" ] && [ -S "$dir/chronyd.sock" ] && break
		sleep 0.1
	done
	cpid=$(cat "$dir/chronyd.pid" 2>/dev/null)
}
wait_info() {	# key value: up to 10 s
	for _i in $(seq 100); do
		[ "$(info $1)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/key"
chmod 600 "$dir/key"
cat > "$dir/n.conf" <<CONF
node_id = 1
group_id = 1
data_dir = $dir/d
peer_listen = 127.0.0.1:$((base + 1))
peer = 1 127.0.0.1:$((base + 1))
client_listen = 127.0.0.1:$base
key_file = $dir/key
fsync = off
clock_reference = chrony
clock_chrony_socket = $dir/chronyd.sock
CONF

out=$("$TRUTHD" --check-config --config "$dir/n.conf" --set clock_reference=ntpd \
	--set clock_chrony_socket=rel.sock 2>&1)
rc=$?
if [ $rc = 1 ] && echo "$out" | grep -q "clock_reference: must be none or chrony" &&
   echo "$out" | grep -q "clock_chrony_socket: must be an absolute path"; then
	tap_ok "check-config validates clock_reference and clock_chrony_socket"
else
	tap_fail "check-config validates clock_reference"; tap_diag "$rc $out"
fi

start_chronyd "local stratum 1"
"$TRUTHD" --config "$dir/n.conf" 2>>"$dir/log" &
pid=$!
if wait_info clock_status synchronised && [ "$(info clock_reference_state)" = ok ] &&
   [ "$(info clock_reference_selection)" = truechimer ]; then
	tap_ok "chrony as the only source: synchronised, reference ok and truechimer"
else
	tap_fail "chrony as the only source: synchronised"
	tap_diag "status $(info clock_status), reference $(info clock_reference_state) $(info clock_reference_selection) $(info clock_reference_error)"
	tap_diag "$(tail -5 "$dir/log")"
fi

bad=0
maxeps=0
for _k in $(seq 20); do
	before=$(date +%s%N)
	set -- $(redis-cli -p $base TIME.NOW | tr '\n' ' ')
	after=$(date +%s%N)
	if [ "$3" != synchronised ] || [ "$1" -gt "$after" ] || [ "$2" -lt "$before" ]; then
		bad=$((bad + 1))
		tap_diag "TIME.NOW $* around [$before, $after]"
	fi
	eps=$(( ($2 - $1 + 1) / 2 ))
	[ $eps -gt $maxeps ] && maxeps=$eps
	echo $eps >> "$dir/eps"
done
tap_diag "epsilon median $(sort -n "$dir/eps" | sed -n 10p) ns, largest $maxeps ns; chrony's bound $(info clock_reference_bound_ns) ns; readings $(info clock_reference_readings)"
[ $bad = 0 ] && tap_ok "TIME.NOW holds CLOCK_REALTIME (20 calls)" ||
	tap_fail "TIME.NOW holds CLOCK_REALTIME ($bad of 20 wrong)"

# clock_discipline = on while chronyd runs: refused, logged.  This node
# has no source at all (no anchor, no reference), so even a detection
# that failed could never adjust the host clock: it is never synchronised.
sed -e "s/^clock_reference = chrony/clock_discipline = on/" -e "s/$base/$((base + 2))/" \
	-e "s/$((base + 1))/$((base + 3))/g" -e "s|$dir/d\$|$dir/d2|" "$dir/n.conf" > "$dir/n2.conf"
"$TRUTHD" --config "$dir/n2.conf" 2>>"$dir/log2" &
pid2=$!
st=""
for _i in $(seq 50); do
	st=$(redis-cli -p $((base + 2)) INFO truth 2>/dev/null | tr -d '\r' | sed -n 's/^clock_discipline://p')
	[ -n "$st" ] && break
	sleep 0.1
done
reason=$(redis-cli -p $((base + 2)) INFO truth 2>/dev/null | tr -d '\r' | sed -n 's/^clock_discipline_reason://p')
kill -TERM $pid2; wait $pid2
if [ "$st" = refused ] && echo "$reason" | grep -q "chronyd (pid [0-9]*) is running" &&
   grep -q "clock: discipline refused: chronyd (pid [0-9]*) is running; truthd does not steer CLOCK_REALTIME" "$dir/log2"; then
	tap_ok "clock_discipline = on with chronyd running: refused, logged ($reason)"
else
	tap_fail "clock_discipline refused with chronyd running ('$st' '$reason')"; tap_diag "$(tail -3 "$dir/log2")"
fi

stop_chronyd
start_chronyd ""
if wait_info clock_reference_state unsynchronised &&
   info clock_reference_error | grep -q "Not synchronised" &&
   grep -q "clock: reference chrony unsynchronised: chronyd: Not synchronised" "$dir/log"; then
	tap_ok "chronyd without a source: unsynchronised, logged"
else
	tap_fail "chronyd without a source"; tap_diag "$(info clock_reference_state) '$(info clock_reference_error)'"
fi

stop_chronyd
if wait_info clock_reference_state absent &&
   grep -q "clock: reference chrony absent: " "$dir/log"; then
	tap_ok "chronyd stopped: absent, logged ($(info clock_reference_error))"
else
	tap_fail "chronyd stopped: absent"; tap_diag "$(info clock_reference_state) '$(info clock_reference_error)'"
fi

t0=$(date +%s%N)
kill -TERM $pid; wait $pid; rc=$?; pid=""
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc = 0 ] && [ $ms -lt 5000 ] && tap_ok "SIGTERM: exit 0 in $ms ms (helper thread stopped)" ||
	tap_fail "SIGTERM: exit $rc after $ms ms"
grep "clock: reference" "$dir/log" | sed 's/^/# log: /'
tap_done
