#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A one-member group whose node is an anchor (clock_anchor_ns > 0) has one
# source and needs one: it must report synchronised (it used to stay
# unknown: the engine only selected after an exchange, and there is no peer
# to exchange with), and its TIME.NOW must hold the host's CLOCK_REALTIME
# within about the anchor's claim.  The same node without the anchor has no
# source at all and stays unknown.
. "$(dirname "$0")/../lib/tap.sh"

TRUTHD=${TRUTHD:-$(dirname "$0")/../../build/truthd}
base=$((30000 + ($$ % 1000) * 4))
dir=$(mktemp -d /tmp/truthd-single-XXXXXX)
pid=""

cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

tap_plan 4
if ! command -v redis-cli >/dev/null; then
	for i in $(seq 4); do tap_skip "case $i" "redis-cli not installed (scripts/deps.sh)"; done
	exit 0
fi
info() { redis-cli -p $base INFO truth 2>/dev/null | tr -d '\r' | sed -n "s/^$1://p"; }

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/key"
chmod 600 "$dir/key"
conf() {
	cat > "$dir/n.conf" <<CONF
node_id = 1
group_id = 1
data_dir = $dir/d$1
peer_listen = 127.0.0.1:$((base + 1))
peer = 1 127.0.0.1:$((base + 1))
client_listen = 127.0.0.1:$base
key_file = $dir/key
fsync = off
clock_anchor_ns = $1
CONF
}

conf 100000
"$TRUTHD" --config "$dir/n.conf" 2>>"$dir/log" &
pid=$!
st=""
for _t in $(seq 50); do
	st=$(info clock_status)
	[ "$st" = synchronised ] && break
	sleep 0.1
done
[ "$st" = synchronised ] && tap_ok "one-member anchor group: synchronised" ||
	{ tap_fail "one-member anchor group: synchronised (status '$st')"; tap_diag "$(tail -5 "$dir/log")"; }

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
done
tap_diag "largest epsilon $maxeps ns (anchor claims 100000)"
# the claim plus growth over a poll (500 ms at 200 ppm) and the reads
[ $bad = 0 ] && [ $maxeps -ge 100000 ] && [ $maxeps -lt 300000 ] &&
	tap_ok "TIME.NOW holds CLOCK_REALTIME, epsilon = claim + growth (20 calls)" ||
	tap_fail "TIME.NOW holds CLOCK_REALTIME ($bad wrong, epsilon $maxeps)"

kill -TERM $pid; wait $pid; rc=$?; pid=""
conf 0
"$TRUTHD" --config "$dir/n.conf" 2>>"$dir/log" &
pid=$!
sleep 1.5
st=$(info clock_status)
[ "$rc" = 0 ] && [ "$st" = unknown ] && tap_ok "without the anchor: no source, unknown" ||
	tap_fail "without the anchor: unknown (status '$st', first exit $rc)"
r=$(redis-cli -p $base TIME.NOW | tr '\n' ' ')
set -- $r
[ "$3" = unknown ] && [ "$1" = -9223372036854775808 ] && tap_ok "TIME.NOW unknown: the whole range" ||
	tap_fail "TIME.NOW unknown: '$r'"
kill -TERM $pid; wait $pid; pid=""
tap_done
