#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# truthd --rebuild (Documentation/admin-guide.md "Rebuilding a node"):
# three truthd on loopback (scripts/cluster.sh, CL_NET=loopback), fsync on.
#
#   1. write N keys (large values, so the WAL has closed segments), all
#      acknowledged; stop a follower F, flip bytes in the middle of one of
#      its closed segments: truthd refuses to start naming file and offset
#   2. truthd --rebuild on F: the files are moved aside (not deleted), F
#      catches up (applied index = leader's commit), the marker goes
#   3. kill -9 the leader: F and the third node elect one (F's vote or
#      candidacy is needed), every acknowledged key reads back
#   4. a follower W whose data dir is wiped, the leader stopped: W rebuilds
#      next to the third node X; no leader while W abstains (INFO and
#      truthctl status say rebuilding:1); the leader comes back, W catches
#      up and votes again, every key reads back
#   5. refusals: a bad config, a data dir locked by a running truthd, a
#      single-member group -- exit 1 and nothing moved
#
# TRUTHD=... runs another build; on failure the logs stay in the directory
# printed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh
. scripts/cluster.sh

N=${REBUILD_KEYS:-240}		# keys of VLEN bytes: > 8 MiB, a closed segment
VLEN=50000			# an entry holds at most ~59900
SMALL=40			# small keys written one by one, each checked
CL_NET=loopback
CL_ID=${CL_ID:-rebuild$((RANDOM % 10))}
# a loaded machine: longer timeouts keep elections for the cases that want them
CL_ELECTION_MS=${CL_ELECTION_MS:-1000}
CL_HEARTBEAT_MS=${CL_HEARTBEAT_MS:-100}
export CL_NET CL_ID CL_ELECTION_MS CL_HEARTBEAT_MS

tap_plan 16
command -v redis-cli >/dev/null || { tap_skip all "redis-cli not installed"; exit 0; }
cl_init 3 || { tap_fail "cluster init"; exit 1; }

fail() { tap_fail "$@"; CL_KEEP=1; }
check() { local name=$1; shift; if "$@"; then tap_ok "$name"; else fail "$name"; fi; }
log_of() { echo "$CL_DIR/n$1/log"; }
data_of() { echo "$CL_DIR/n$1/data"; }
field() { cl_field "$1" "$2" | tr -d '\r'; }

# value of big key i: "v<i>-" padded with x to VLEN bytes
big_value() { printf 'v%-15s%s' "$1-" "$PAD" | tr ' ' x; }

# SET every index in TODO (big keys) in one redis-cli session per pass at
# the leader; an OK reply acknowledges that key, the rest (a redirect, an
# election) go again in the next pass.  Prints what never got an OK.
write_big() {
	local pass i n out todo=("$@") next
	for pass in 1 2 3 4 5 6; do
		[ ${#todo[@]} = 0 ] && return 0
		L=$(cl_wait_leader 30) || continue
		for i in "${todo[@]}"; do echo "SET key$i $(big_value "$i")"; done >"$CL_DIR/cmds"
		mapfile -t out < <(cl_exec timeout 300 redis-cli -h "$(cl_ip "$L")" \
			-p "$(cl_client_port "$L")" <"$CL_DIR/cmds" 2>&1 | tr -d '\r')
		next=()
		for ((n = 0; n < ${#todo[@]}; n++)); do
			[ "${out[$n]:-}" = OK ] || next+=("${todo[$n]}")
		done
		[ ${#next[@]} -gt 0 ] && tap_diag "pass $pass: ${#next[@]} not acknowledged (${out[${#out[@]}-1]:-no reply}), again" >&2
		todo=("${next[@]}")
	done
	[ ${#todo[@]} = 0 ] || echo "never acknowledged: ${todo[*]}"
}

# GET at the leader; a new leader answers TRYAGAIN until its first
# commit, a deposed one MOVED: find it again, up to 10 times
get_at_leader() {
	local try v
	for try in 1 2 3 4 5 6 7 8 9 10; do
		v=$(cl_cli "$RL" --raw GET "$1" 2>&1)
		case "$v" in TRYAGAIN* | MOVED* | ERR*connect* | "") ;; *) break ;; esac
		sleep 0.3
		RL=$(cl_wait_leader 20) || true
	done
	printf '%s' "$v"
}

# every acknowledged key, read at the leader (node $1 to begin with): the
# big ones by length and prefix, the small ones exactly
keys_ok() {
	local i v bad=0
	RL=$1
	for ((i = 1; i <= N; i++)); do
		v=$(get_at_leader "key$i")
		if [ ${#v} -ne $VLEN ] || [ "${v:0:$((${#i} + 2))}" != "v$i-" ]; then
			echo "key$i: wrong (${#v} bytes, starts '${v:0:20}')"
			bad=$((bad + 1))
		fi
	done
	for ((i = 1; i <= SMALL; i++)); do
		v=$(get_at_leader "small$i")
		[ "$v" = "s$i" ] || { echo "small$i: '$v'"; bad=$((bad + 1)); }
	done
	[ $bad = 0 ]
}

# applied index of $1 equals the leader's commit index, and stays so
caught_up_with() {
	local k=$1 l c a
	l=$(cl_leader) || return 1
	c=$(field "$l" commit_index)
	a=$(field "$k" applied_index)
	[ -n "$c" ] && [ -n "$a" ] && [ "$a" -ge "$c" ] && [ "$(field "$k" rebuilding)" = 0 ]
}

cl_start_all
L=$(cl_wait_leader 30) || { fail "leader elected"; exit 1; }
tap_ok "leader elected: node $L"

# ---- 1. writes, a follower stopped, a closed segment corrupted
PAD=$(head -c $((VLEN - 16)) /dev/zero | tr '\0' x)
out=$(write_big $(seq 1 $N))
for ((i = 1; i <= SMALL; i++)); do
	L=$(cl_wait_leader 30)
	r=$(cl_cli "$L" SET "small$i" "s$i")
	[ "$r" = OK ] || { sleep 1; L=$(cl_wait_leader 30); r=$(cl_cli "$L" SET "small$i" "s$i"); }
	[ "$r" = OK ] || out+=" small$i: $r"
done
[ -n "$out" ] && tap_diag "$out"
check "$N big + $SMALL small keys acknowledged" [ -z "$out" ]
L=$(cl_wait_leader 30)
cl_wait_for 30 cl_caught_up || tap_diag "followers not caught up in 30 s"

F=$((L % 3 + 1))
X=$((F % 3 + 1)); [ "$X" = "$L" ] && X=$((X % 3 + 1))
cl_stop "$F"
seg=$(ls "$(data_of "$F")"/wal-*.seg 2>/dev/null | head -n1)
if [ -z "$seg" ]; then
	fail "node $F has a closed WAL segment"; ls -l "$(data_of "$F")" | sed 's/^/# /'; exit 1
fi
size=$(stat -c %s "$seg")
off=$((size / 2))
cp "$seg" "$CL_DIR/segment.orig"
printf '\xa5\x5a\xa5\x5a\xa5\x5a\xa5\x5a' | dd of="$seg" bs=1 seek=$off conv=notrunc status=none
cp "$seg" "$CL_DIR/segment.corrupt"
cmp -s "$seg" "$CL_DIR/segment.orig"; rc=$?
check "flipped 8 bytes at $off of $(basename "$seg") ($size bytes)" [ $rc != 0 ]

cl_start "$F"
cl_wait_pid "${CL_PIDS[$F]}" 10; rc=$CL_STATUS; CL_PIDS[$F]=
msg=$(grep -E "$(basename "$seg"): offset [0-9]+" "$(log_of "$F")" | tail -n1)
tap_diag "node $F said: $msg"
check "corrupt closed segment: truthd exits 1 naming file and offset" \
	[ "$rc" = 1 ] && [ -n "$msg" ] && grep -q "refusing to start" "$(log_of "$F")"

# ---- 2. truthd --rebuild
cl_start "$F" --rebuild
cl_wait_for 60 caught_up_with "$F"; ok=$?
moved=$(grep -o "moved [0-9]* files to [^;]*" "$(log_of "$F")" | tail -n1)
tap_diag "node $F: $moved; applied $(field "$F" applied_index), leader commit $(field "$(cl_leader)" commit_index)"
check "node $F rebuilt: caught up, rebuilding:0, marker gone" \
	[ $ok = 0 ] && [ ! -e "$(data_of "$F")/REBUILDING" ] && grep -q "rebuild complete" "$(log_of "$F")"
aside=$(ls -d "$(data_of "$F")"/rebuild-* 2>/dev/null | head -n1)
check "the damaged files are kept in ${aside#$CL_DIR/}" \
	[ -n "$aside" ] && cmp -s "$aside/$(basename "$seg")" "$CL_DIR/segment.corrupt"
check "term and vote kept (they read back)" grep -q "term and vote kept" "$(log_of "$F")"

# ---- 3. the leader dies: the rebuilt node takes part in the election
cl_kill "$L"
L2=$(cl_wait_leader 30 "$L")
check "leader $L killed: node ${L2:-none} elected by $F and $X" [ -n "$L2" ]
out=$(keys_ok "${L2:-$F}" 2>&1)
rc=$?
[ -n "$out" ] && tap_diag "$out"
check "every acknowledged key reads back from leader ${L2:-?}" [ $rc = 0 ]
cl_start "$L"
cl_wait_for 30 cl_caught_up || tap_diag "node $L not caught up in 30 s"

# ---- 4. a wiped data directory, rebuilt while no leader can exist
L3=$(cl_wait_leader 30) || L3=${L2:-}
W=$((L3 % 3 + 1))
X=$((W % 3 + 1)); [ "$X" = "$L3" ] && X=$((X % 3 + 1))
cl_stop "$W"
rm -rf "$(data_of "$W")"
cl_stop "$L3"
cl_start "$W" --rebuild
sleep 3
cl_poll
st=$(cl_exec "$TRUTHCTL" status --addr "$(cl_addr "$W")" 2>&1)
tap_diag "$(echo "$st" | grep -E '^(role|term|rebuild)')"
check "wiped node $W: rebuilding:1 in truthctl status, term/vote lost" \
	[ "${CL_F[$W,rebuilding]:-}" = 1 ] && echo "$st" | grep -Eq '^rebuilding +1' && \
	grep -q "term and vote unreadable or missing" "$(log_of "$W")"
check "no leader while $W rebuilds and $L3 is down (X=$X alone cannot win)" \
	[ "${CL_F[$X,role]:-}" != leader ] && [ "${CL_F[$W,role]:-}" != leader ]
cl_start "$L3"
cl_wait_for 60 caught_up_with "$W"
check "node $W caught up after $L3 returned, marker gone" \
	[ $? = 0 ] && [ ! -e "$(data_of "$W")/REBUILDING" ]
L4=$(cl_wait_leader 30)
cl_kill "${L4:-$L3}"
L5=$(cl_wait_leader 30 "${L4:-$L3}")
out=$(keys_ok "${L5:-$W}" 2>&1)
[ -n "$out" ] && tap_diag "$out"
check "leader ${L4:-?} killed: ${L5:-none} elected (rebuilt $W voting or leading), every key reads back" \
	[ -n "$L5" ] && [ -z "$out" ]
cl_start "${L4:-$L3}"

# ---- 5. refusals change nothing
before=$(ls "$(data_of "$X")" | sort | tr '\n' ' ')
out=$("$TRUTHD" --rebuild --config "$CL_DIR/n$X/truthd.conf" 2>&1); rc=$?
tap_diag "$(echo "$out" | tail -n2)"
check "--rebuild on a running node's data dir: refused, nothing moved" \
	[ $rc = 1 ] && echo "$out" | grep -q "refused" && \
	[ "$(ls "$(data_of "$X")" | sort | tr '\n' ' ')" = "$before" ]
sed 's/^election_timeout_ms = .*/election_timeout_ms = banana/' "$CL_DIR/n$X/truthd.conf" >"$CL_DIR/bad.conf"
out=$("$TRUTHD" --rebuild --config "$CL_DIR/bad.conf" 2>&1); rc=$?
check "--rebuild with a bad config: refused" [ $rc = 1 ] && echo "$out" | grep -q "election_timeout_ms"
mkdir -p "$CL_DIR/single"
grep -v '^peer = [23] ' "$CL_DIR/n1/truthd.conf" | sed "s|^data_dir = .*|data_dir = $CL_DIR/single|" >"$CL_DIR/single.conf"
touch "$CL_DIR/single/keepme"
out=$("$TRUTHD" --rebuild --config "$CL_DIR/single.conf" 2>&1); rc=$?
tap_diag "$(echo "$out" | tail -n1)"
check "--rebuild of a single-member group: refused, nothing moved" \
	[ $rc = 1 ] && echo "$out" | grep -q "single member" && [ -f "$CL_DIR/single/keepme" ] && \
	! ls -d "$CL_DIR"/single/rebuild-* >/dev/null 2>&1

tap_done
