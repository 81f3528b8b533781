#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Big values through a real cluster: three truthd on loopback, fsync on.
#
# SET of 60 KiB, 256 KiB and 1 MiB random (binary) values with redis-cli -x;
# 1 MiB + 1 is refused with -ERR and changes nothing.  Every node in turn is
# made the leader (kill -9 of the current one, restarted with a long
# election timeout so another wins) and GETs every value back byte for byte:
# the entries reached it as fragmented APPENDs (Documentation/wire.md
# "Fragments"), and the nodes killed and restarted recovered them from
# their WAL.  Then a follower down while the others write more big values
# and compact comes back by InstallSnapshot of a snapshot holding them, and
# serves them as leader.  Last, a clean restart of all three.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/truthd.sh"

truthd_init bigval 26000
tap_plan 12
truthd_need_redis 12

for i in 1 2 3; do
	truthd_conf $i <<CONF
election_timeout_ms = 300
heartbeat_ms = 30
fsync = on
max_value_bytes = 1048576
snapshot_bytes = 4194304
CONF
done

out=$("$TRUTHD" --check-config --config "$dir/n1.conf" --set max_value_bytes=1000 2>&1)
rc=$?
if [ $rc = 1 ] && echo "$out" | grep -q -- '--set: max_value_bytes: must be an integer 1024..8388608'; then
	tap_ok "check-config refuses max_value_bytes out of range"
else
	tap_fail "check-config refuses max_value_bytes out of range"; tap_diag "rc=$rc $out"
fi

# values: random bytes (NUL, CR, LF included)
keys="k60 k256 k1m"
head -c 61440 /dev/urandom >"$dir/k60"
head -c 262144 /dev/urandom >"$dir/k256"
head -c 1048576 /dev/urandom >"$dir/k1m"
head -c 1048577 /dev/urandom >"$dir/over"

slow1="" slow2="" slow3=""
info() { redis-cli -p "$(cport $1)" INFO truth 2>/dev/null | tr -d '\r' | sed -n "s/^$2:\\(.*\\)/\\1/p"; }

# start_node I [KEY=VALUE...]: start node I with --set overrides
start_node() {
	_n=$1
	shift
	_sets=""
	for _s in "$@"; do _sets="$_sets --set $_s"; done
	# shellcheck disable=SC2086
	"$TRUTHD" --config "$dir/n$_n.conf" $_sets 2>>"$dir/log$_n" &
	eval "pid$_n=$!"
}

# caught_up I: node I applied what the leader L committed (30 s)
caught_up() {
	for _ in $(seq 150); do
		_c=$(info "$L" commit_index)
		_a=$(info "$1" applied_index)
		[ -n "$_a" ] && [ "$_a" = "$_c" ] && return 0
		sleep 0.2
	done
	tap_diag "node $1 applied '$_a' of '$_c'"
	return 1
}

# lead_by N: make node N the leader: kill -9 whoever leads instead and
# restart it with a long election timeout (it recovers from its WAL)
lead_by() {
	if eval "[ -n \"\$slow$1\" ]"; then
		eval "kill -TERM \$pid$1; wait \$pid$1"
		start_node "$1"
		eval "slow$1="
		caught_up "$1" || return 1
	fi
	for _try in 1 2 3 4 5 6; do
		L=$(leader) || return 1
		[ "$L" = "$1" ] && return 0
		eval "kill -KILL \$pid$L; wait \$pid$L 2>/dev/null"
		killed="$killed $L"
		_old=$L
		L=$(leader) || return 1
		start_node "$_old" election_timeout_ms=3000
		eval "slow$_old=1"
		caught_up "$_old" || return 1
	done
	return 1
}

# put KEY: SET KEY to the file $dir/KEY through the leader, retried across a
# leader change (the machine is loaded: a leader may step down); sets $L
put() {
	for _ in 1 2 3 4 5; do
		L=$(leader) || continue
		_r=$(redis-cli -p "$(cport $L)" -x SET "$1" <"$dir/$1")
		[ "$_r" = OK ] && return 0
		sleep 0.5
	done
	tap_diag "SET $1: $_r"
	return 1
}

# verify N: every value in $keys, read from node N (the leader), is identical
verify() {
	_bad=""
	for _k in $keys; do
		redis-cli -p "$(cport $1)" GET "$_k" >"$dir/got" 2>&1
		_want=$(($(stat -c %s "$dir/$_k") + 1))	# redis-cli adds a newline
		if [ "$(stat -c %s "$dir/got")" != "$_want" ] ||
		   ! head -c $((_want - 1)) "$dir/got" | cmp -s - "$dir/$_k"; then
			_bad="$_bad $_k($(stat -c %s "$dir/got") bytes)"
		fi
	done
	[ -z "$_bad" ] || tap_diag "node $1 differs on:$_bad"
	[ -z "$_bad" ]
}

truthd_start 1 2 3
L=$(leader)
[ -n "$L" ] || { tap_diag "no leader"; L=1; }
ok=1
for k in $keys; do
	put $k || ok=0
done
[ $ok = 1 ] && verify "$L" && tap_ok "SET/GET 60 KiB, 256 KiB, 1 MiB on the leader (node $L)" ||
	tap_fail "SET/GET 60 KiB, 256 KiB, 1 MiB on the leader"

before=$(info "$L" last_index)
r=$(redis-cli -p "$(cport $L)" -x SET over <"$dir/over")
after=$(info "$L" last_index)
g=$(redis-cli -p "$(cport $L)" EXISTS over)
if [ "$r" = "ERR value too large (1048577 bytes, max_value_bytes is 1048576)" ] &&
   [ "$before" = "$after" ] && [ "$g" = 0 ]; then
	tap_ok "1 MiB + 1 refused with -ERR, nothing proposed"
else
	tap_fail "1 MiB + 1 refused with -ERR, nothing proposed"; tap_diag "'$r' last_index $before -> $after, EXISTS $g"
fi

F=$((L % 3 + 1))
caught_up $F
tx=$(info "$L" tx_frag_msgs)
rx=$(info "$F" rx_frag_msgs)
[ "${tx:-0}" -ge 2 ] && [ "${rx:-0}" -ge 1 ] &&
	tap_ok "entries went as fragments (leader sent $tx messages, node $F took $rx)" ||
	{ tap_fail "entries went as fragments"; tap_diag "tx_frag_msgs '$tx' rx_frag_msgs '$rx'"; }

first=$L
verified="$L"
killed=""
for n in 1 2 3; do
	[ "$n" = "$first" ] && continue
	if lead_by $n && verify $n; then
		verified="$verified $n"
	else
		tap_diag "node $n: not verified as leader (leader ${L:-none})"
	fi
	if [ "$n" = "$((first % 3 + 1))" ]; then
		# a value written while a node is down reaches it later
		head -c 1048576 /dev/urandom >"$dir/k1m2"
		put k1m2 && keys="$keys k1m2"
	fi
done
[ "$(echo $verified | wc -w)" = 3 ] &&
	tap_ok "each node, as leader after kill -9s, returns every value (order: $verified)" ||
	tap_fail "each node, as leader after kill -9s, returns every value (got: $verified)"

# the first leader was killed on the way and restarted from its WAL
if echo "$killed" | grep -qw "$first" && lead_by "$first" && verify "$first"; then
	tap_ok "node $first, killed -9 and restarted, recovered the big entries from its WAL"
else
	tap_fail "node $first, killed -9 and restarted, recovered the big entries from its WAL"; tap_diag "killed:$killed"
fi

# snapshot: a follower misses big values and > 1024 entries while the
# others take a snapshot (snapshot_bytes 4 MiB) and compact
L=$(leader)
F=$((L % 3 + 1))
eval "kill -TERM \$pid$F; wait \$pid$F"
eval "slow$F="
ok=1
# small writes first, so the snapshot the big ones trigger leaves the
# follower more than the 1024 kept entries behind
timeout 120 redis-benchmark -p "$(cport $L)" -t set -r 500 -n 3000 -c 4 -d 64 -q >/dev/null 2>&1
for k in k1m3 k1m4 k1m5 k1m6 k256b; do
	[ $k = k256b ] && n=262144 || n=1048576
	head -c $n /dev/urandom >"$dir/$k"
	put $k && keys="$keys $k" || ok=0
done
grep -q 'snapshot at' "$dir/log$L" || { ok=0; tap_diag "the leader (node $L) took no snapshot"; }
[ $ok = 1 ] && tap_ok "more big values written, the leader took a snapshot" ||
	tap_fail "more big values written, the leader took a snapshot"

start_node $F
if caught_up $F && grep -q 'installed snapshot' "$dir/log$F"; then
	tap_ok "the lagging node $F caught up by InstallSnapshot"
else
	tap_fail "the lagging node $F caught up by InstallSnapshot"
fi
lead_by $F && verify $F && tap_ok "node $F, from the snapshot, returns every value as leader" ||
	tap_fail "node $F, from the snapshot, returns every value as leader"

for n in 1 2 3; do
	eval "[ -n \"\$pid$n\" ] && kill -0 \$pid$n 2>/dev/null" || start_node $n
done
sleep 0.5
truthd_stop 1 2 3 && tap_ok "SIGTERM: every node exits 0" ||
	{ tap_fail "SIGTERM: every node exits 0"; tap_diag "$truthd_exits"; }

truthd_start 1 2 3
L=$(leader)
if [ -n "$L" ] && verify "$L"; then
	tap_ok "restart of all three: every value still there (leader $L)"
else
	tap_fail "restart of all three: every value still there"
fi

st=""
for n in 1 2 3; do
	st="$st node$n:dup=$(info $n rx_frag_dup),dropped=$(info $n rx_frag_dropped),bad=$(info $n rx_bad_payload),slots=$(info $n frag_slots_used)"
done
tap_diag "fragment counters:$st"
ok=1
truthd_stop 1 2 3 || { ok=0; tap_diag "$truthd_exits"; }
grep -h 'error' "$dir"/log? | sed 's/^/# /' | head -20
[ $ok = 1 ] && ! grep -q 'error' "$dir"/log? && tap_ok "no error in the logs" || tap_fail "no error in the logs"
tap_done
