# SPDX-License-Identifier: GPL-2.0
#
# The cluster test cases, shared by selftests/host/test_cluster_3.sh and
# test_cluster_5.sh (sourced after tap.sh and scripts/cluster.sh; they call
# cluster_cases_run 3 or 5).  Every case is one TAP line; a case
# that fails does not stop the others.  Each waits with a timeout, so a
# broken truthd costs a bounded time, not a hung CI.
#
# The workload behind the safety cases: truth-load --workload register runs
# in the clients' namespace through every fault of the test, 4 clients, each
# the only writer of its keys (versions 1, 2, 3, ...), half reads; it records
# a history.  At the end every key is read once more through the leader and
# truth-histcheck checks the whole history: every read saw a version that
# was written, no older than any acknowledged before it began (so no
# acknowledged write is lost), never going back in time.
#
# Replay: TRUTH_SEED=<seed printed as "# seed"> picks the same keys and
# read/write mix; timing differs run to run, so a failure's history is kept
# (CL_KEEP) in the directory printed, with every node's log.

load=build/selftests/tools/truth-load
check=build/selftests/tools/truth-histcheck
cc_failed=0
cc_up=0
LEADER= OLD_LEADER= HIST= LOAD_PID= SEED= CC_SKIP= CC_T0=0

cc_ok() { tap_ok "$@"; }
# cc_note MSG: a diagnostic line with the time since the case began
cc_note() {
	local d=$(( ($(cl_now_ms) - CC_T0) / 100 ))
	echo "+$((d / 10)).$((d % 10)) s $*"
}
cc_fail() {
	tap_fail "$@"
	cc_failed=1
	CL_KEEP=1
	{ cl_summary; cl_tail_logs 15; } 2>&1 | sed 's/^/#   /'
}

# cc_case NAME CMD...: one TAP line from CMD's status; CMD's output is
# diagnostics.  CMD runs in this shell (it changes LEADER, the node pids).
# Cases after a failed start fail at once.
cc_case() {
	local name=$1 rc
	shift
	if [ "$cc_up" != 1 ]; then
		tap_fail "$name (the cluster never came up)"
		return
	fi
	CC_SKIP=
	CC_T0=$(cl_now_ms)
	"$@" >"$CL_DIR/case.out" 2>&1
	rc=$?
	sed 's/^/# /' "$CL_DIR/case.out"
	if [ "$rc" != 0 ]; then
		cc_fail "$name"
	elif [ -n "$CC_SKIP" ]; then
		tap_skip "$name" "$CC_SKIP"
	else
		cc_ok "$name"
	fi
}

# ---------------------------------------------------------------- cases
# leadership may move at any time under load on this machine (a legal
# election): each case starts from the leader of the moment
cc_refresh_leader() {
	LEADER=$(cl_wait_leader 15) || { echo "no leader for 15 s"; return 1; }
}

# cc_rejoined K: node K is back in the cluster after a fault: it follows
# the leader a majority names, or (a legal outcome too) it is that leader
cc_rejoined() {
	local l
	cl_poll
	l=$(cl_leader_polled) || return 1
	[ "$l" = "$1" ] || { [ "${CL_F[$1,role]:-}" = follower ] && [ "${CL_F[$1,leader_id]:-}" = "$l" ]; }
}

cc_check_config() {
	local k out bad=0
	for ((k = 1; k <= CL_N; k++)); do
		out=$("$TRUTHD" --check-config --config "$CL_DIR/n$k/truthd.conf" 2>&1) || bad=1
		echo "$out"
	done
	return $bad
}

cc_start() {
	local k
	cl_start_all || return 1
	for ((k = 1; k <= CL_N; k++)); do
		cl_wait_up "$k" 20 || { echo "node $k does not answer PING after 20 s"; return 1; }
	done
}

cc_leader() {
	local k info f
	LEADER=$(cl_wait_leader 20) || { echo "no leader after 20 s"; return 1; }
	info=$(cl_info "$LEADER")
	for f in node_id role term leader_id leader_client commit_index applied_index last_index counting peers; do
		grep -q "^$f:" <<<"$info" || { echo "INFO truth of the leader lacks '$f'"; return 1; }
	done
	grep -qx "counting:user" <<<"$info" || { echo "leader not counting in user space: $(grep ^counting: <<<"$info")"; return 1; }
	for ((k = 1; k <= CL_N; k++)); do
		[ "$k" = "$LEADER" ] && continue
		[ "$(cl_field "$k" role)" = follower ] || { echo "node $k: role $(cl_field "$k" role)"; return 1; }
	done
	echo "leader: node $LEADER, term $(cl_field "$LEADER" term)"
}

cc_truthctl() {
	local out
	out=$(cl_status "$LEADER" 2>&1)
	if grep -q "unknown command 'status'" <<<"$out"; then
		CC_SKIP="truthctl has no 'status' command yet (interfaces.md pins it)"
		return 0
	fi
	echo "$out" | head -n 12
	grep -Eq "role[: =\"]+leader" <<<"$out" || { echo "truthctl status does not say leader"; return 1; }
}

cc_set_get() {
	local r
	r=$(cl_cli "$LEADER" SET cc:hello world)
	[ "$r" = OK ] || { echo "SET on the leader: $r"; return 1; }
	r=$(cl_cli "$LEADER" GET cc:hello)
	[ "$r" = '"world"' ] || { echo "GET on the leader: $r"; return 1; }
	r=$(cl_cli "$LEADER" INCR cc:n)
	[ "$r" = "(integer) 1" ] || { echo "INCR on the leader: $r"; return 1; }
}

# interfaces.md pins "-MOVED 0 <leader host:port>"; protocol.md puts the
# leader's id where the 0 is: either passes, the address must be the leader's
cc_moved() {
	local f r want
	f=$((LEADER % CL_N + 1))
	want="MOVED ($LEADER|0) $(cl_addr "$LEADER")"
	r=$(cl_cli "$f" SET cc:via-follower x)
	grep -Eq "$want" <<<"$r" || { echo "SET on follower $f: '$r', want '-$want'"; return 1; }
	r=$(cl_cli "$f" GET cc:hello)
	grep -Eq "$want" <<<"$r" || { echo "GET on follower $f: '$r', want '-$want'"; return 1; }
	r=$(cl_cli "$f" -c SET cc:via-follower y)
	[ "$r" = OK ] || { echo "redis-cli -c SET through follower $f: '$r'"; return 1; }
	r=$(cl_cli "$LEADER" GET cc:via-follower)
	[ "$r" = '"y"' ] || { echo "the redirected write is not there: '$r'"; return 1; }
	echo "follower $f: -$(cl_cli "$f" SET cc:via-follower x | sed 's/^(error) //')"
}

cc_load_start() {
	HIST=$CL_DIR/history
	: >"$HIST"
	cl_bg "$load" --workload register --addr "$(cl_addrs)" -c 4 -k 60 --reads 50 \
		-d 600 --timeout 3000 --seed "$SEED" --prefix reg: --history "$HIST" -q \
		>"$CL_DIR/load.out" 2>&1
	LOAD_PID=$CL_LAST_BG
	sleep 2
	cc_hist_writes >/dev/null
}

# ok writes in the history so far (and that there are some)
cc_hist_writes() {
	local n
	n=$(grep -c ' write .* ok$' "$HIST" 2>/dev/null)
	echo "${n:-0}"
	[ "${n:-0}" -gt 0 ]
}

# writes acknowledged after this point: wait up to $1 s for $2 more
cc_writes_continue() {
	local before now end=$(($(cl_now_ms) + $1 * 1000))
	before=$(cc_hist_writes)
	while :; do
		now=$(cc_hist_writes)
		[ "$now" -ge $((before + $2)) ] && { cc_note "$((now - before)) more writes acknowledged"; return 0; }
		[ "$(cl_now_ms)" -ge "$end" ] && { echo "only $((now - before)) writes acknowledged in $1 s"; return 1; }
		sleep 0.2
	done
}

cc_kill_leader() {
	local old t0 t1
	cc_refresh_leader || return 1
	old=$LEADER
	t0=$(cl_now_ms)
	cl_kill "$old"
	LEADER=$(cl_wait_leader 20 "$old") || { echo "no new leader 20 s after kill -9 of node $old"; return 1; }
	t1=$(cl_now_ms)
	echo "kill -9 of leader $old: node $LEADER leads (term $(cl_field "$LEADER" term)) after $((t1 - t0)) ms"
	OLD_LEADER=$old
	cc_writes_continue 15 10
}

cc_restart_old_leader() {
	cl_start "$OLD_LEADER" || return 1
	cl_wait_up "$OLD_LEADER" 15 || { echo "node $OLD_LEADER does not answer after restart"; return 1; }
	cc_note "node $OLD_LEADER answers"
	cl_wait_for 20 cc_rejoined "$OLD_LEADER" || { echo "node $OLD_LEADER: role $(cl_field "$OLD_LEADER" role), leader $(cl_field "$OLD_LEADER" leader_id)"; return 1; }
	cc_refresh_leader || return 1
	cc_note "node $OLD_LEADER is back: node $LEADER leads, term $(cl_field "$LEADER" term)"
	cl_wait_caught_up 20 || { echo "not caught up after 20 s"; return 1; }
	cc_note "node $OLD_LEADER caught up: applied $(cl_field "$OLD_LEADER" applied_index)"
}

# kill -9 every follower a majority can spare (1 of 3, 2 of 5), write on,
# restart them: they catch up
cc_kill_followers() {
	local k n=0 victims=
	cc_refresh_leader || return 1
	for ((k = 1; k <= CL_N && n < (CL_N - 1) / 2; k++)); do
		[ "$k" = "$LEADER" ] && continue
		victims+="$k "
		n=$((n + 1))
	done
	for k in $victims; do cl_kill "$k"; done
	cc_note "killed followers $victims"
	cc_writes_continue 15 10 || return 1
	for k in $victims; do cl_start "$k" || return 1; done
	for k in $victims; do cl_wait_up "$k" 15 || { echo "node $k not up after restart"; return 1; }; done
	cc_note "restarted $victims"
	cl_wait_caught_up 30 || { echo "not caught up 30 s after restart"; return 1; }
	cc_note "caught up (applied $(cl_field "$LEADER" applied_index))"
}

# the leader alone on its side of a partition: the rest elect another and
# write on; after the heal the old one follows
cc_isolate_leader() {
	local old
	cc_refresh_leader || return 1
	old=$LEADER
	cl_isolate "$old"
	LEADER=$(cl_wait_leader 20 "$old") || { cl_heal; echo "no new leader 20 s after isolating $old"; return 1; }
	cc_note "isolated leader $old; node $LEADER leads, term $(cl_field "$LEADER" term)"
	cc_writes_continue 15 10 || { cl_heal; return 1; }
	cl_heal
	cc_note "healed"
	cl_wait_for 20 cc_rejoined "$old" || { echo "node $old after the heal: role $(cl_field "$old" role), leader $(cl_field "$old" leader_id)"; return 1; }
	cc_refresh_leader || return 1
	cc_note "node $old is back: node $LEADER leads, term $(cl_field "$LEADER" term)"
	cl_wait_caught_up 20 || { echo "not caught up 20 s after the heal"; return 1; }
	cc_note "caught up"
}

# the leader and (5 nodes) one follower on the minority side of a
# partition: the majority elects and writes on; a write sent to the old
# leader from inside its own namespace is never acknowledged (it cannot
# reach a majority); after the heal both minority nodes follow and catch up
cc_minority_leader() {
	local old side r k
	cc_refresh_leader || return 1
	old=$LEADER
	side=$old
	if [ "$CL_N" -ge 5 ]; then
		k=$((old % CL_N + 1))
		side="$old $k"
	fi
	cl_partition "$side"
	LEADER=$(cl_wait_leader 20 "$old") || { cl_heal; echo "no new leader 20 s after cutting off {$side}"; return 1; }
	cc_note "minority {$side}; node $LEADER leads the majority, term $(cl_field "$LEADER" term)"
	r=$(cl_node_exec "$old" timeout 4 redis-cli -h "$(cl_ip "$old")" -p "$(cl_client_port "$old")" \
		SET cc:minority x 2>&1 | tr -d '\r')
	cc_note "SET to the old leader inside the minority: '${r:-no reply}'"
	if [ "$r" = OK ]; then
		cl_heal
		echo "the minority's old leader acknowledged a write it cannot have replicated to a majority"
		return 1
	fi
	cc_writes_continue 15 10 || { cl_heal; return 1; }
	cl_heal
	for k in $side; do
		cl_wait_for 20 cc_rejoined "$k" || { echo "node $k after the heal: role $(cl_field "$k" role)"; return 1; }
	done
	cl_wait_caught_up 20 || { echo "not caught up 20 s after the heal"; return 1; }
	cc_refresh_leader || return 1
	cc_note "healed; {$side} are back (node $LEADER leads) and caught up; cc:minority is $(cl_cli "$LEADER" -c GET cc:minority)"
}

cc_pause_follower() {
	local f
	cc_refresh_leader || return 1
	f=$((LEADER % CL_N + 1))
	cl_pause "$f"
	cc_writes_continue 10 10 || { cl_resume "$f"; return 1; }
	cl_resume "$f"
	cl_wait_caught_up 20 || { echo "node $f not caught up 20 s after SIGCONT"; return 1; }
	echo "SIGSTOP/SIGCONT of follower $f: caught up"
}

cc_load_stop() {
	kill -TERM "$LOAD_PID" 2>/dev/null
	cl_wait_pid "$LOAD_PID" 15 >/dev/null || { echo "truth-load did not stop"; return 1; }
	cat "$CL_DIR/load.out"
	grep -q ' ok=[1-9]' "$CL_DIR/load.out"
}

cc_caught_up_all() {
	local k c a
	cl_wait_caught_up 30 || { cl_summary; return 1; }
	cc_refresh_leader || return 1
	c=$(cl_field "$LEADER" commit_index)
	for ((k = 1; k <= CL_N; k++)); do
		a=$(cl_field "$k" applied_index)
		echo "node $k: applied $a (leader's commit $c)"
	done
}

cc_history_linearizable() {
	"$check" "$HIST"
}

cc_no_lost_write() {
	cc_refresh_leader || return 1
	cl_exec "$load" --workload readall --addr "$(cl_addr "$LEADER")" -c 4 -k 60 --prefix reg: \
		--client-base 1000 --history "$HIST" --timeout 5000 -q || return 1
	"$check" "$HIST"
}

# the same history through the full linearizability checker
# (Documentation/linearizability.md), register model: our version numbers
# are the register's values
cc_linz() {
	local linz=build/selftests/tools/truth-linz
	if [ ! -x "$linz" ]; then
		CC_SKIP="truth-linz not built"
		return 0
	fi
	awk '$2 == "write" { print "c" $1, "write", $3, $4, $5, $6, "-", $7 }
	     $2 == "read" { print "c" $1, "read", $3, $5, $6, ($7 == "ok" ? $4 : "-"), $7 }' \
		"$HIST" >"$CL_DIR/history.linz"
	"$linz" --model register --timeout 60 --quiet "$CL_DIR/history.linz"
}

# every node's own key count (INFO keyspace is answered locally): at least
# the keys with an acknowledged write, at most those with any write that may
# have happened, plus the earlier cases' keys; equal everywhere
cc_local_state() {
	local k n lo hi first= ks extra
	lo=$(awk '$2 == "write" && $7 == "ok" {print $3}' "$HIST" | sort -u | wc -l)
	hi=$(awk '$2 == "write" && $7 != "fail" {print $3}' "$HIST" | sort -u | wc -l)
	# the earlier cases' own keys, as the leader has them
	cc_refresh_leader || return 1
	extra=$(cl_cli "$LEADER" -c EXISTS cc:hello cc:n cc:via-follower cc:minority | sed -n 's/^(integer) //p')
	[ -n "$extra" ] || { echo "EXISTS on the leader failed"; return 1; }
	lo=$((lo + extra)) hi=$((hi + extra))
	for ((k = 1; k <= CL_N; k++)); do
		ks=$(cl_cli "$k" INFO keyspace)
		if [ "$k" = 1 ] && ! grep -q '^db0:' <<<"$ks" && ! grep -q '^# Keyspace' <<<"$ks"; then
			CC_SKIP="truthd's INFO has no keyspace section (protocol.md: db0:keys=N): no local view to compare"
			return 0
		fi
		n=$(sed -n 's/^db0:keys=\([0-9]*\),.*/\1/p' <<<"$ks")
		[ -n "$n" ] || { echo "node $k: no db0 line in INFO keyspace"; return 1; }
		echo "node $k: $n keys (expected $lo..$hi: the register keys and $extra of the earlier cases)"
		[ "$n" -ge "$lo" ] && [ "$n" -le "$hi" ] || return 1
		[ -z "$first" ] && first=$n
		[ "$n" = "$first" ] || { echo "nodes disagree"; return 1; }
	done
}

cc_sigterm() {
	local k bad=0
	for ((k = 1; k <= CL_N; k++)); do
		cl_stop "$k" 10 || { echo "node $k: no exit 10 s after SIGTERM"; bad=1; continue; }
		[ "$CL_STATUS" = 0 ] || { echo "node $k exited $CL_STATUS on SIGTERM"; bad=1; }
	done
	[ $bad = 0 ] && echo "every node exited 0"
	return $bad
}

# ---------------------------------------------------------------- driver
CC_CASES=(
	"truthd --check-config accepts every node's config"
	"start: every node answers PING"
	"a leader is elected; INFO truth has the interface fields; counting:user"
	"truthctl status names the leader"
	"SET, GET and INCR through the leader"
	"a follower answers -MOVED with the leader; redis-cli -c follows it"
	"history load runs (register workload, 4 clients)"
	"kill -9 of the leader: a new leader, writes continue"
	"the old leader restarts, rejoins and catches up"
	"kill -9 of followers, writes continue, restarted followers catch up"
	"the leader isolated by a partition: another leads; after the heal it rejoins"
	"the leader in a minority partition: the majority elects, the minority acknowledges nothing"
	"SIGSTOP/SIGCONT of a follower: it catches up"
	"load stopped: acknowledged writes recorded"
	"every node applied the leader's commit index"
	"reads linearizable per key over the whole history"
	"no acknowledged write lost: a final read through the leader sees each"
	"the whole history is linearizable (truth-linz, register model)"
	"every node's own key count agrees"
	"SIGTERM: every node exits 0"
)
CC_FUNCS=(cc_check_config cc_start cc_leader cc_truthctl cc_set_get cc_moved cc_load_start cc_kill_leader
	cc_restart_old_leader cc_kill_followers cc_isolate_leader cc_minority_leader cc_pause_follower cc_load_stop
	cc_caught_up_all cc_history_linearizable cc_no_lost_write cc_linz cc_local_state cc_sigterm)

cluster_cases_run() {
	local n=$1 i why=
	tap_plan ${#CC_CASES[@]}
	if [ "$(id -u)" != 0 ]; then
		why="needs root (network namespaces)"
	elif ! command -v redis-cli >/dev/null; then
		why="redis-cli missing (scripts/deps.sh)"
	elif [ ! -x "$TRUTHD" ]; then
		why="truthd not built at $TRUTHD (make build; or TRUTHD=...)"
	elif [ ! -x "$load" ] || [ ! -x "$check" ]; then
		why="truth-load/truth-histcheck not built (make build)"
	fi
	if [ -n "$why" ]; then
		for i in "${!CC_CASES[@]}"; do tap_skip "${CC_CASES[$i]}" "$why"; done
		return 0
	fi
	SEED=${TRUTH_SEED:-$(( (RANDOM << 15 | RANDOM) + 1 ))}
	echo "# seed $SEED (TRUTH_SEED=$SEED replays the workload's choices)"
	echo "# truthd: $TRUTHD"
	cl_init "$n" || { for i in "${!CC_CASES[@]}"; do tap_fail "${CC_CASES[$i]} (cl_init failed)"; done; return 1; }
	echo "# run $CL_ID, artefacts in $CL_DIR"
	cc_up=1
	local t0=$(cl_now_ms) t
	for i in "${!CC_CASES[@]}"; do
		t=$(cl_now_ms)
		cc_case "${CC_CASES[$i]}" "${CC_FUNCS[$i]}"
		echo "#   ($(( ($(cl_now_ms) - t) / 1000 )) s)"
		# without running nodes and a leader the later cases mean nothing
		[ "$i" -ge 1 ] && [ "$i" -le 2 ] && [ "$cc_failed" = 1 ] && cc_up=0
	done
	echo "# total $(( ($(cl_now_ms) - t0) / 1000 )) s"
	[ "$cc_failed" = 1 ] && echo "# FAILED: artefacts (node logs, history) kept in $CL_DIR"
	return 0
}
