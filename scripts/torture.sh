#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# torture.sh: the fault campaign (Documentation/torture.md).
#
#   torture.sh --mode host [--runs N] [--duration S] [--seed S] [--nodes 3|5]
#       N runs on this host, user-space counting (fast_path = user): 3- or
#       5-node clusters in network namespaces (scripts/cluster.sh), clients
#       recording a history (truth-torture), random nemeses: partitions
#       (halves, majority ring, isolated leader), kill -9 + restart,
#       SIGSTOP/SIGCONT, clock offset and drift
#   torture.sh --mode vm ...              the same inside the VM with truth.ko and
#       the fast path (fast_path = kernel), plus netem: loss, duplication,
#       reordering, delay
#   torture.sh campaign [--runs N] [--vm-runs M] [--duration S] [--no-vm]
#       on the host: N host runs, one VM boot with M runs, the power cut
#       (two boots on one disk image), then the summary
#   torture.sh powercut [--seed S]        the power cut alone (host side)
#   torture.sh powercut-load SEED | powercut-check SEED     (in the VM; the campaign runs them)
#   torture.sh summary FILE...            sum up "torture-run" lines
#
# Run k of a series has seed S+k-1 (S: --seed, else TRUTH_SEED, else random;
# printed).  `--runs 1 --seed X` with the mode and duration printed replays it.
# Each run prints one TAP line and one "torture-run key=value ..." line; a
# series ends with "# truth-layer torture-MODE: pass P fail F skip S".
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# shellcheck source=scripts/cluster.sh
. scripts/cluster.sh
# shellcheck source=scripts/torture-failover.sh
. scripts/torture-failover.sh

T_CLIENT=${T_CLIENT:-$top/build/selftests/tools/truth-torture}
T_LINZ=${T_LINZ:-$top/build/selftests/tools/truth-linz}
T_MODE=host
T_RUNS=1
T_DUR=12
T_NODES=
T_SEED=${TRUTH_SEED:-}
T_VM_RUNS=8
T_NO_VM=0
T_NO_PC=0
T_OUT=${T_OUT:-}
T_THEN_PC=
T_LANES=1

t_msg() { echo "# torture: $*"; }

# cluster.sh's cl_net_up, the same network through `ip -batch`: its ~50 ip
# processes cost 10-15 s per 5-node run on this loaded host (and more
# under the VM's emulated CPUs); N+2 processes do it in one
cl_net_up() {
	local hub k ns
	hub=$(cl_hub)
	mkdir -p "$CL_OWNERS" && echo "$$ $CL_DIR" >"$CL_OWNERS/cl$CL_ID"
	CL_NETNS+=("$hub")
	for ((k = 1; k <= CL_N; k++)); do CL_NETNS+=("$(cl_ns $k)"); done
	printf 'netns add %s\n' "${CL_NETNS[@]}" | ip -b - || return 1
	{
		echo "link set lo up"
		echo "link add br0 type bridge"
		echo "link add br1 type bridge"
		echo "addr add 10.77.$CL_SUBNET.254/24 dev br0"
		echo "link set br0 up"
		echo "link set br1 up"
		for ((k = 1; k <= CL_N; k++)); do
			echo "link add h$k type veth peer name eth0 netns $(cl_ns $k)"
			echo "link set h$k master br0"
			echo "link set h$k up"
		done
	} | ip -n "$hub" -b - || return 1
	for ((k = 1; k <= CL_N; k++)); do
		ns=$(cl_ns "$k")
		printf 'link set lo up\naddr add %s/24 dev eth0\nlink set eth0 up\n' "$(cl_ip "$k")" |
			ip -n "$ns" -b - || return 1
	done
}
t_now_ns() { "$T_LINZ" --now; }
# R = random 0..$1-1 (a function that sets R: $(...) would not advance RANDOM)
rnd() { R=$((RANDOM % $1)); }

# ---------------------------------------------------------------- nemeses
# Every nemesis applied pushes the command that undoes it onto T_UNDO and
# counts itself in T_COUNT[kind].
declare -A T_COUNT
T_UNDO=()
T_CLOCK=0

t_count() { T_COUNT[$1]=$(( ${T_COUNT[$1]:-0} + 1 )); }
t_note() { echo "$(t_now_ns) $*" >>"$CL_DIR/nemesis.log"; }

t_undo_all() {
	local i
	for ((i = ${#T_UNDO[@]} - 1; i >= 0; i--)); do
		eval "${T_UNDO[$i]}" >/dev/null 2>&1
	done
	T_UNDO=()
}

# the nodes running, in a shuffled order (into T_ORDER)
t_shuffle() {
	local i j tmp
	T_ORDER=()
	for ((i = 1; i <= CL_N; i++)); do T_ORDER+=("$i"); done
	for ((i = CL_N - 1; i > 0; i--)); do
		rnd $((i + 1)); j=$R
		tmp=${T_ORDER[$i]} T_ORDER[$i]=${T_ORDER[$j]} T_ORDER[$j]=$tmp
	done
}

# cut the peer traffic between nodes a and b (both ways), clients still
# reach both: a blackhole route to the other's address in each namespace
T_CUTS=()
t_cut() {
	ip -n "$(cl_ns "$1")" route replace blackhole "$(cl_ip "$2")/32"
	ip -n "$(cl_ns "$2")" route replace blackhole "$(cl_ip "$1")/32"
	T_CUTS+=("$1 $2" "$2 $1")
}
# every cut made undone, one ip process per namespace (-force: go on
# past a route already gone)
t_uncut_all() {
	local a b c
	for ((a = 1; a <= CL_N; a++)); do
		c=
		for b in "${T_CUTS[@]}"; do
			[ "${b% *}" = $a ] && c+="route del blackhole $(cl_ip "${b#* }")/32"$'\n'
		done
		[ -n "$c" ] && printf '%s' "$c" | ip -force -n "$(cl_ns $a)" -b - 2>/dev/null
	done
	T_CUTS=()
	return 0
}

# cluster.sh's cl_heal in one ip and one tc process
cl_heal() {
	local k
	cl_need_netns cl_heal || return 1
	CL_CUT=()
	for ((k = 1; k <= CL_N; k++)); do
		printf 'link set h%s master br0\nlink set h%s up\n' $k $k
	done | ip -force -n "$(cl_hub)" -b - 2>/dev/null
	for ((k = 1; k <= CL_N; k++)); do echo "qdisc del dev h$k root"; done |
		tc -force -n "$(cl_hub)" -b - 2>/dev/null
	return 0
}

# the leader of the moment, if there is one the clients can see (T_LEADER)
t_leader() { T_LEADER=$(cl_leader 2>/dev/null) || T_LEADER=; }

nem_kill() {
	local k ka
	t_leader
	rnd 10
	if [ -n "$T_LEADER" ] && [ $R -lt 6 ]; then
		k=$T_LEADER
		t_count kill-leader
	else
		rnd "$CL_N"; k=$((R + 1))
		t_count kill
	fi
	cl_running "$k" || return 0
	t_note "kill -9 node $k"
	# the clock starts at the kill itself: a shell builtin between two
	# builtin clock reads (polls, notes and process starts around it take
	# 10-1000 ms on a loaded host: stamped after them, a failover looked
	# that much shorter, or nearly nothing once a new leader was in)
	ka=${EPOCHREALTIME/./}
	kill -KILL "${CL_PIDS[$k]}" 2>/dev/null
	cl_kill "$k"
	# every kill of a node that was leading is a failover (random kills
	# too); one aimed at the polled leader that had lost the lead by then
	# is not ("raced"); the other nemeses of the step ("other") may keep a
	# quorum away until they are undone: summed up apart
	if t_was_leader "$k"; then
		echo "$(t_mono_of "$ka") $k leader $T_STEP_N" >>"$CL_DIR/failover"
	elif [ "$k" = "$T_LEADER" ]; then
		echo "$(t_mono_of "$ka") $k raced $T_STEP_N" >>"$CL_DIR/failover"
	fi
	T_UNDO+=("cl_running $k || cl_start $k")
}

nem_pause() {
	local k
	t_leader
	rnd 2
	if [ -n "$T_LEADER" ] && [ $R = 0 ]; then k=$T_LEADER; else rnd "$CL_N"; k=$((R + 1)); fi
	cl_running "$k" || return 0
	t_count pause
	t_note "SIGSTOP node $k"
	cl_pause "$k"
	T_UNDO+=("cl_running $k && cl_resume $k")
}

# halves: a minority (1 of 3, 2 of 5) on the second bridge, cut from the
# rest and from the clients
nem_halves() {
	local i minority=
	t_shuffle
	for ((i = 0; i < CL_N / 2; i++)); do minority+="${T_ORDER[$i]} "; done
	t_count partition-halves
	t_note "partition: {$minority} | rest"
	cl_partition "$minority"
	T_UNDO+=("cl_heal")
}

# majority ring: in a random ring order each node reaches only its two
# neighbours (5 nodes: every node sees a majority, no two the same one);
# with 3 nodes one random pair is cut
nem_ring() {
	local i j d
	t_shuffle
	t_count partition-ring
	if [ "$CL_N" -le 3 ]; then
		t_cut "${T_ORDER[0]}" "${T_ORDER[1]}"
		t_note "ring: cut ${T_ORDER[0]} - ${T_ORDER[1]}"
	else
		for ((i = 0; i < CL_N; i++)); do
			for ((j = i + 1; j < CL_N; j++)); do
				d=$((j - i))
				[ $d = 1 ] || [ $d = $((CL_N - 1)) ] || t_cut "${T_ORDER[$i]}" "${T_ORDER[$j]}"
			done
		done
		t_note "ring: ${T_ORDER[*]}"
	fi
	T_UNDO+=("t_uncut_all")
}

# the leader alone: half the time cut from its peers only (clients still
# reach it, so a deposed leader's answers are tested), else its link down
nem_isolate_leader() {
	local k
	t_leader
	[ -n "$T_LEADER" ] || { rnd "$CL_N"; T_LEADER=$((R + 1)); }
	t_count partition-leader
	rnd 2
	if [ $R = 0 ]; then
		for ((k = 1; k <= CL_N; k++)); do [ $k = "$T_LEADER" ] || t_cut "$T_LEADER" $k; done
		t_note "leader $T_LEADER cut from its peers"
		T_UNDO+=("t_uncut_all")
	else
		cl_isolate "$T_LEADER"
		t_note "leader $T_LEADER link down"
		T_UNDO+=("cl_rejoin $T_LEADER")
	fi
}

# clock offset (up to +-2 s) and drift (up to +-50000 ppm) on one node, at
# run time through TRUTH.DEBUG CLOCK (test_hooks = on)
nem_clock() {
	local k off drift
	[ "$T_CLOCK" = 1 ] || return 0
	rnd "$CL_N"; k=$((R + 1))
	cl_reachable "$k" || return 0
	rnd 4000; off=$(( (R - 2000) * 1000000 ))
	rnd 100001; drift=$((R - 50000))
	t_count clock
	t_note "clock node $k offset ${off}ns drift ${drift}ppm"
	cl_cli "$k" TRUTH.DEBUG CLOCK "$off" "$drift" >/dev/null
	T_UNDO+=("cl_reachable $k && cl_cli $k TRUTH.DEBUG CLOCK 0 0")
}

# netem on one node's link (both directions) or on every link
nem_netem() {
	local kind=$1 spec k from to
	case "$kind" in
	loss) rnd 30; spec="loss $((R + 5))%" ;;
	duplicate) rnd 40; spec="duplicate $((R + 10))%" ;;
	reorder) rnd 40; spec="delay 10ms reorder $((R + 20))% 50%" ;;
	delay) rnd 80; spec="delay $((R + 20))ms $(((R + 20) / 2))ms" ;;
	esac
	rnd 3
	if [ $R = 0 ]; then from=1 to=$CL_N; else rnd "$CL_N"; from=$((R + 1)) to=$((R + 1)); fi
	t_count "$kind"
	t_note "netem $spec on nodes $from..$to"
	for ((k = from; k <= to; k++)); do
		# shellcheck disable=SC2086
		tc -n "$(cl_hub)" qdisc replace dev "h$k" root netem $spec
		# shellcheck disable=SC2086
		tc -n "$(cl_ns $k)" qdisc replace dev eth0 root netem $spec
		T_UNDO+=("tc -n $(cl_hub) qdisc del dev h$k root; tc -n $(cl_ns $k) qdisc del dev eth0 root")
	done
}

T_KINDS_HOST="kill pause halves ring isolate_leader"
# (the VM runs fewer: netem, the VM-only kinds, first)
T_KINDS_VM="loss duplicate reorder delay kill halves ring isolate_leader pause"

t_apply() {
	case "$1" in
	kill) nem_kill ;;
	pause) nem_pause ;;
	halves) nem_halves ;;
	ring) nem_ring ;;
	isolate_leader) nem_isolate_leader ;;
	clock) nem_clock ;;
	loss | duplicate | reorder | delay) nem_netem "$1" ;;
	esac
}

# one step: 1 to 3 different nemeses at once, held 1-3 s, then undone
t_step() {
	local kinds=($1) n pick=() i k dup
	# the first kind turns round the list (2 * seed + step: consecutive
	# seeds with two steps or more each go on where the last stopped), so
	# short series still apply every kind; the others are random
	pick=("${kinds[$(((T_RUN_SEED * 2 + T_STEPS) % ${#kinds[@]}))]}")
	# the first step takes the next kind too: a run the emulated VM gives
	# time for one step only still covers two
	# In the VM the first step opens with netem kind (seed mod 4) instead
	# (T_KINDS_VM starts with the four): any 4 consecutive VM seeds, as
	# in make check's campaign, apply loss, duplicate, reorder and delay
	[ $T_STEPS = 0 ] && [ "$T_MODE" = vm ] && pick=("${kinds[$((T_RUN_SEED % 4))]}")
	if [ $T_STEPS = 0 ]; then
		k=${kinds[$(((T_RUN_SEED * 2 + 1) % ${#kinds[@]}))]}
		[ "$k" = "${pick[0]}" ] || pick+=("$k")
	fi
	T_STEPS=$((T_STEPS + 1))
	rnd 10
	n=1
	[ $R -ge 6 ] && n=2
	[ $R -ge 9 ] && n=3
	while [ ${#pick[@]} -lt $n ]; do
		rnd ${#kinds[@]}; k=${kinds[$R]}
		dup=0
		for i in "${pick[@]}"; do [ "$i" = "$k" ] && dup=1; done
		[ $dup = 1 ] || pick+=("$k")
	done
	# a kill first, while nothing else is on: its failover time is the
	# election's, with whatever the same step adds afterwards
	t_note "step: ${pick[*]}"
	T_STEP_N=${#pick[@]}
	for k in "${pick[@]}"; do [ "$k" = kill ] && t_apply "$k"; done
	for k in "${pick[@]}"; do [ "$k" = kill ] || t_apply "$k"; done
	rnd 20; sleep "$((R / 10)).$((R % 10 + 5))"
	t_undo_all
	t_note "healed"
}

# ---------------------------------------------------------------- checks
# The history has an "unknown" line per op before it ran and the outcome
# line after (same client and invoke time); the last line of an op wins.
t_dedup() {
	awk '{ inv = (NF == 8) ? $5 : $4; id = $1 " " inv
	       if (!(id in line)) order[++n] = id; line[id] = $0 }
	     END { for (i = 1; i <= n; i++) print line[order[i]] }' "$1"
}

# lost acknowledged writes: a register's final version below an acked one;
# a counter's final value below the increments acknowledged
t_lost() {
	awk '
	$1 != "final" && $2 == "write" && $8 == "ok" { if ($4 + 0 > 0) acked[$3 " " $4] = 1 }
	$1 != "final" && $2 == "incr" && $8 == "ok" { incr[$3]++ }
	$1 == "final" && $7 == "ok" { fin[$3] = ($6 == "nil") ? 0 : $6 + 0; seen[$3] = 1 }
	END {
		lost = 0
		for (kv in acked) { split(kv, p, " ")
			if (!(p[1] in seen) || fin[p[1]] < p[2] + 0) { lost++; print "lost: " p[1] " version " p[2] > "/dev/stderr" } }
		for (k in incr) if (!(k in seen) || fin[k] < incr[k]) {
			lost += incr[k] - fin[k]; print "lost: counter " k " " fin[k] " < " incr[k] " acked" > "/dev/stderr" }
		print lost
	}' "$1"
}

# check a run's history: linearizability per model, lost writes, failover;
# prints the key=value part of the result line, returns 1 on a violation
t_check() {
	local dir=$1 h=$1/history.dedup viol=0 lost fo m rc out
	t_dedup "$dir/history" >"$h"
	awk '$3 ~ /^r/' "$h" >"$dir/history.register"
	awk '$3 ~ /^c/' "$h" >"$dir/history.counter"
	for m in register counter; do
		out=$("$T_LINZ" --model $m --timeout 120 "$dir/history.$m" 2>&1)
		rc=$?
		echo "$out" >"$dir/linz.$m"
		if [ $rc != 0 ]; then
			viol=$((viol + 1))
			echo "$out" | head -n 40 | sed 's/^/#   /' >&2
		fi
	done
	lost=$(t_lost "$h" 2>"$dir/lost")
	sed 's/^/#   /' "$dir/lost" | head -n 10 >&2
	fo=$(t_failover "$h" "$dir/failover")
	T_RESULT="ops=$(wc -l <"$h") ok=$(awk '$NF == "ok"' "$h" | wc -l) unknown=$(awk '$NF == "unknown"' "$h" | wc -l) violations=$viol lost=$lost $fo"
	[ "$viol" = 0 ] && [ "${lost:-1}" = 0 ]
}

t_nemeses_line() {
	local k out=
	for k in "${!T_COUNT[@]}"; do out+="$k:${T_COUNT[$k]},"; done
	echo "${out%,}"
}

# ---------------------------------------------------------------- a run
# t_run SEED: one run in this (sub)shell; prints the result line
t_run() {
	local seed=$1 kinds start end l clients=4 k fast tmo=1500
	RANDOM=$seed
	rnd 2
	local nodes=${T_NODES:-$((R ? 5 : 3))}
	# under the VM's emulated CPUs five nodes and the poller starve each
	# other: the VM runs three unless --nodes says otherwise
	[ "$T_MODE" = vm ] && nodes=${T_NODES:-3}
	CL_ID=to$(printf '%06x' $(((seed * 2654435761 + $$) & 0xffffff)))
	if [ "$T_MODE" = vm ]; then
		# emulated CPUs: fewer clients, more patience
		fast=kernel kinds=$T_KINDS_VM clients=3 tmo=3000
	else
		fast=user kinds=$T_KINDS_HOST
	fi
	CL_FAST_PATH=$fast CL_FSYNC=on CL_LOG_LEVEL=info CL_KEEP=${T_KEEP:-0}
	cl_init "$nodes" >/dev/null || { echo "cluster setup failed"; return 1; }
	T_CLOCK=0 T_STEPS=0 T_RUN_SEED=$seed
	if "$TRUTHD" --check-config --config "$CL_DIR/n1/truthd.conf" --set test_hooks=on >/dev/null 2>&1; then
		T_CLOCK=1
		CL_EXTRA="test_hooks = on"
		kinds+=" clock"
		for ((k = 1; k <= nodes; k++)); do cl_write_config $k; done
	fi
	: >"$CL_DIR/failover"
	: >"$CL_DIR/nemesis.log"
	local t_begin=$(cl_now_ms) t_load t_heal t_final
	cl_start_all || return 1
	if ! l=$(cl_wait_leader 30); then
		echo "no leader after 30 s"
		cl_summary; cl_tail_logs
		CL_KEEP=1
		return 1
	fi
	cl_bg "$T_CLIENT" $(for a in $(cl_addrs); do echo --addr "$a"; done) \
		--history "$CL_DIR/history" --clients $clients --registers 12 --counters 2 \
		--duration "$T_DUR" --timeout-ms $tmo --seed "$seed" >"$CL_DIR/client.out" 2>&1
	local cpid=$CL_LAST_BG
	start=$(cl_now_ms)
	t_load=$start
	end=$((start + T_DUR * 1000 - 1500))
	sleep 1
	while [ "$(cl_now_ms)" -lt "$end" ]; do
		t_step "$kinds"
		rnd 10; sleep "0.$((R + 3))"
	done
	wait "$cpid"
	t_heal=$(cl_now_ms)
	# heal: everything undone, every node running and reachable
	t_undo_all
	cl_heal; t_uncut_all
	for ((k = 1; k <= nodes; k++)); do
		cl_running $k && cl_resume $k
		cl_running $k || cl_start $k
	done
	l=$(cl_wait_leader 30) || t_msg "no leader 30 s after the heal"
	cl_wait_caught_up 30 || t_msg "not caught up 30 s after the heal"
	t_final=$(cl_now_ms)
	cl_exec "$T_CLIENT" $(for a in $(cl_addrs); do echo --addr "$a"; done) \
		--history "$CL_DIR/history" --final --registers 12 --counters 2 \
		--duration 30 --timeout-ms 2000 >>"$CL_DIR/client.out" 2>&1
	local ok=0 t_chk=$(cl_now_ms)
	t_check "$CL_DIR" || ok=1
	t_msg "seconds: setup $(( (t_load - t_begin) / 1000 )), load $(( (t_heal - t_load) / 1000 )), heal $(( (t_final - t_heal) / 1000 )), final reads $(( (t_chk - t_final) / 1000 )), check $(( ($(cl_now_ms) - t_chk) / 1000 ))"
	echo "torture-run seed=$seed mode=$T_MODE nodes=$nodes fastpath=$fast duration=$T_DUR $T_RESULT nemeses=$(t_nemeses_line) clock=$([ $T_CLOCK = 1 ] && echo on || echo unavailable) result=$([ $ok = 0 ] && echo pass || echo FAIL)"
	if [ $ok != 0 ]; then
		CL_KEEP=1
		cl_summary | sed 's/^/#   /'
		sed 's/^/#   nemesis: /' "$CL_DIR/nemesis.log" | tail -n 30
	fi
	return $ok
}

# t_one I: run I of the series (seed T_SEED + I), its report: the
# diagnostics, the result line, a TAP line numbered I + 1
t_one() {
	local i=$1 seed=$((T_SEED + $1)) out line t0
	t0=$(date +%s)
	out=$( (t_run "$seed") 2>&1)
	line=$(echo "$out" | grep '^torture-run ')
	echo "$out" | grep -v '^torture-run ' | grep -v '^cluster: artefacts' | sed 's/^#* */# /' | grep -v '^# $' | tail -n 60 |
		{ if [ -n "$line" ] && echo "$line" | grep -q 'result=pass'; then grep -E '^# (torture|lost|cluster)' || true; else cat; fi; }
	echo "$out" | grep '^# cluster: artefacts' || true
	[ -n "$line" ] && echo "$line"
	if [ -n "$line" ] && echo "$line" | grep -q 'result=pass'; then
		echo "ok $((i + 1)) - run seed=$seed ($(($(date +%s) - t0)) s)"
	else
		echo "not ok $((i + 1)) - run seed=$seed: replay: scripts/torture.sh --mode $T_MODE --runs 1 --duration $T_DUR --seed $seed"
	fi
}

# t_series: T_RUNS runs from seed T_SEED in T_LANES parallel lanes (lane k
# runs k, k + T_LANES, ...; each cluster has its own namespaces, so they do
# not meet); a run's report is printed whole when it ends, so with lanes
# the TAP numbers come out of order.  Then the layer line.
t_series() {
	local lane pass fail tmp
	[ -n "$T_SEED" ] || T_SEED=$(( (RANDOM << 15 | RANDOM) % 1000000 ))
	t_msg "mode $T_MODE, $T_RUNS runs of ${T_DUR} s in $T_LANES lane(s), seeds $T_SEED..$((T_SEED + T_RUNS - 1))"
	echo "1..$T_RUNS"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/torture.XXXXXX")
	for ((lane = 0; lane < T_LANES; lane++)); do
		(
			for ((i = lane; i < T_RUNS; i += T_LANES)); do
				t_one "$i" >"$tmp/run.$i"
				cat "$tmp/run.$i"
			done
		) &
	done
	wait
	pass=$(cat "$tmp"/run.* 2>/dev/null | grep -c '^ok ')
	fail=$((T_RUNS - pass))
	rm -rf "$tmp"
	echo "# truth-layer torture-$T_MODE: pass $pass fail $fail skip 0"
	[ $fail = 0 ]
}

# ---------------------------------------------------------------- power cut
# In the VM, on the disk at /mnt/disk: a 3-node cluster with the fast path,
# clients whose every history line is durable; after a while it says
# TORTURE-POWERCUT-NOW and goes on until the host kills QEMU.
T_PC_DIR=/mnt/disk/torture-pc

t_pc_load() {
	local seed=$1 k l
	RANDOM=$seed
	grep -q " /mnt/disk " /proc/mounts || { echo "powercut: /mnt/disk is not mounted"; return 1; }
	rm -rf "$T_PC_DIR"
	mkdir -p "$T_PC_DIR"
	TMPDIR=$T_PC_DIR CL_ID=topc CL_FAST_PATH=kernel CL_FSYNC=on CL_KEEP=1
	cl_init 3 >/dev/null || return 1
	echo "$CL_DIR" >"$T_PC_DIR/dir"
	sync
	cl_start_all
	l=$(cl_wait_leader 60) || { echo "powercut: no leader"; cl_tail_logs; return 1; }
	t_msg "power cut run: leader $l, load starting"
	cl_bg "$T_CLIENT" $(for a in $(cl_addrs); do echo --addr "$a"; done) \
		--history "$CL_DIR/history" --clients 4 --registers 12 --counters 2 \
		--duration 600 --timeout-ms 1500 --seed "$seed" --sync >"$CL_DIR/client.out" 2>&1
	sleep 8
	# a kill -9 of the leader before the cut: the cut then finds a log a new
	# leader extended
	l=$(cl_leader) && { cl_kill "$l"; sleep 2; cl_start "$l"; }
	sleep 3
	echo "TORTURE-POWERCUT-NOW"
	# vm.sh reads the console through tr, which passes it on in 4 KiB
	# blocks: fill the block so the host sees the line now
	for k in $(seq 64); do echo "# torture: waiting for the power cut ............................................."; done
	sleep 600
}

# After the cut: the same nodes from their data dirs, heal, final reads; the
# history of the first boot (its clock) and the final reads (this boot's
# clock, shifted to follow it) checked together
t_pc_check() {
	local seed=$1 k l last ok=0
	grep -q " /mnt/disk " /proc/mounts || { echo "powercut: /mnt/disk is not mounted"; return 1; }
	CL_DIR=$(cat "$T_PC_DIR/dir") CL_ID=topc CL_N=3 CL_FAST_PATH=kernel CL_KEEP=1
	[ -d "$CL_DIR" ] || { echo "powercut: $CL_DIR missing"; return 1; }
	trap cl_cleanup EXIT
	cl_net_up || return 1
	rm -f "$CL_DIR"/n*/client.sock
	cl_start_all
	l=$(cl_wait_leader 60) || { echo "powercut: no leader after the reboot"; cl_tail_logs 40; return 1; }
	cl_wait_caught_up 60 || t_msg "not caught up after 60 s"
	cl_exec "$T_CLIENT" $(for a in $(cl_addrs); do echo --addr "$a"; done) \
		--history "$CL_DIR/final.raw" --final --registers 12 --counters 2 \
		--duration 60 --timeout-ms 3000 >>"$CL_DIR/client.out" 2>&1
	# (busybox awk here: no {n,} in regexps, and big numbers printed with %.0f)
	last=$(awk '{ for (i = 4; i <= 6; i++) if ($i ~ /^[0-9]+$/ && length($i) >= 6 && $i + 0 > m) m = $i + 0 }
		END { printf "%.0f", m + 1000000000 }' "$CL_DIR/history")
	awk -v off="$last" '{ $4 = sprintf("%.0f", $4 + off); if ($5 != "-") $5 = sprintf("%.0f", $5 + off); print }' \
		"$CL_DIR/final.raw" >>"$CL_DIR/history"
	: >"$CL_DIR/failover"
	t_check "$CL_DIR" || ok=1
	echo "torture-run seed=$seed mode=powercut nodes=3 fastpath=kernel duration=- $T_RESULT nemeses=power-cut:1,kill-leader:1 clock=- result=$([ $ok = 0 ] && echo pass || echo FAIL)"
	CL_KEEP=0
	return $ok
}

# host side: boot with the disk running CMD... (which ends in powercut-load:
# a VM series first, the same boot), wait for the marker, kill QEMU, boot
# again on the same image and check.  Prints what both boots said.
t_powercut() {
	# the image under build/vm/, which vm.sh leaves out of the initramfs
	local seed=$1 img=build/vm/torture-powercut.img log=build/torture/vm-boot1.log pid q t0
	shift
	mkdir -p build/torture build/vm
	rm -f "$img"
	t0=$(date +%s)
	scripts/vm.sh --timeout 1500 --disk "$img" -- "$@" >"$log" 2>&1 &
	pid=$!
	while kill -0 $pid 2>/dev/null && ! grep -q '^TORTURE-POWERCUT-NOW' "$log"; do sleep 1; done
	grep -E '^(ok|not ok|#|torture-run|1\.\.)' "$log" | grep -v 'waiting for the power cut'
	if ! grep -q '^TORTURE-POWERCUT-NOW' "$log"; then
		wait $pid
		tail -n 40 "$log" | sed 's/^/# /'
		echo "not ok - power cut: the first boot never reached the cut"
		return 1
	fi
	# QEMU is vm.sh's grandchild (vm.sh -> timeout -> qemu): kill it alone
	# (by parent: pgrep matches at most 15 characters of a name)
	rnd 10; sleep "0.$R"
	for q in $(pgrep -P "$(pgrep -P $pid -x timeout)"); do
		kill -KILL "$q"
		t_msg "power cut: QEMU $q killed $(($(date +%s) - t0)) s after the boot"
	done
	wait $pid 2>/dev/null
	scripts/vm.sh --timeout 600 --disk "$img" -- bash scripts/torture.sh powercut-check "$seed" >build/torture/vm-boot2.log 2>&1
	grep -E '^torture-run|^#   |^# torture|^# truth-layer vm-|powercut' build/torture/vm-boot2.log
	if grep -q '^torture-run .*result=pass' build/torture/vm-boot2.log; then
		echo "ok - power cut seed=$seed: every acknowledged write survived ($(($(date +%s) - t0)) s)"
		rm -f "$img"
		return 0
	fi
	tail -n 60 build/torture/vm-boot2.log | sed 's/^/# /'
	echo "not ok - power cut seed=$seed (disk image kept: $img; logs build/torture/vm-boot*.log)"
	return 1
}

# ---------------------------------------------------------------- summary
t_summary() {
	awk '
	/^torture-run / {
		runs++
		for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		mode[f["mode"]]++
		if (f["result"] != "pass") failed++
		ops += f["ops"]; okops += f["ok"]; unk += f["unknown"]
		viol += f["violations"]; lost += f["lost"]
		n = split(f["nemeses"], ns, ",")
		for (i = 1; i <= n; i++) if (split(ns[i], p, ":") == 2) { nem[p[1]] += p[2]; nemt += p[2] }
		n = split(f["failover_ms"], fs, ",")
		for (i = 1; i <= n; i++) {
			if (fs[i] == "none") nofo++
			else if (fs[i] ~ /^[0-9]+$/) fo[++nfo] = fs[i] + 0
		}
		n = split(f["failover_other_ms"], fs, ",")
		for (i = 1; i <= n; i++) {
			if (fs[i] == "none") nofo2++
			else if (fs[i] ~ /^[0-9]+$/) fo2[++nfo2] = fs[i] + 0
		}
		focut += f["failover_cut"]; foraced += f["failover_raced"]
		if (f["clock"] == "unavailable") noclock++
		delete f
	}
	# sort a[1..n] (insertion sort: a few hundred values at most)
	function sortn(a, n,   i, j, v) { for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]; a[j + 1] = v } }
	function pct(a, n, p,   i) { i = int((n - 1) * p / 100 + 0.999999); return a[i + 1] }
	function foline(what, a, n, none) {
		sortn(a, n)
		if (n) printf "torture summary: failover (%s) n=%d p50 %d ms p99 %d ms max %d ms%s\n", what, n, pct(a, n, 50), pct(a, n, 99), a[n], (none ? sprintf(", %d with no commit though the clients went on 3 s", none) : "")
		else if (none) printf "torture summary: failover (%s): %d with no commit though the clients went on 3 s\n", what, none
	}
	END {
		m = ""
		for (k in mode) m = m sprintf("%s%s %d", (m == "" ? "" : ", "), k, mode[k])
		printf "torture summary: runs %d (%s), failed %d\n", runs, m, failed
		printf "torture summary: ops checked %d (ok %d, unknown %d)\n", ops, okops, unk
		m = ""
		for (k in nem) m = m sprintf("%s%s %d", (m == "" ? "" : ", "), k, nem[k])
		printf "torture summary: nemeses applied %d: %s\n", nemt, m
		if (noclock) printf "torture summary: clock nemesis unavailable in %d runs (truthd without test_hooks)\n", noclock
		printf "torture summary: violations %d, lost acknowledged writes %d\n", viol, lost
		foline("leader kill -9 alone -> first new commit", fo, nfo, nofo)
		foline("leader kill -9 with other nemeses in the step", fo2, nfo2, nofo2)
		if (!nfo && !nofo && !nfo2 && !nofo2) printf "torture summary: failover: no leader kill measured\n"
		if (focut || foraced) printf "torture summary: failover not measured: %d kills the run ended too soon after, %d raced a leadership change (the polled leader had lost the lead)\n", focut, foraced
	}' "$@"
}

# ---------------------------------------------------------------- campaign
# The VM part: one boot for the fast-path series, then the power cut (two
# boots on one disk image).  Its "# truth-layer" lines become
# "# torture-series" lines: the campaign adds everything up into one.
t_vm_part() {
	local vs=$1 pc=$2
	if [ $T_NO_PC = 1 ]; then
		scripts/vm.sh --timeout $((T_VM_RUNS * (T_DUR + 120) + 180)) -- \
			bash scripts/torture.sh --mode vm --runs "$T_VM_RUNS" --duration "$T_DUR" --seed "$vs" 2>&1 |
			grep -E '^(ok|not ok|#|torture-run|1\.\.)'
		[ "${PIPESTATUS[0]}" = 0 ] || echo "# torture-series vm-boot: pass 0 fail 1"
		return 0
	fi
	if t_powercut "$pc" bash scripts/torture.sh --mode vm --runs "$T_VM_RUNS" \
		--duration "$T_DUR" --seed "$vs" --then-powercut "$pc"; then
		echo "# torture-series powercut: pass 1 fail 0"
	else
		echo "# torture-series powercut: pass 0 fail 1"
	fi
}

t_campaign() {
	local dir=build/torture t0 vmpid= p f
	mkdir -p $dir
	t0=$(date +%s)
	[ -n "$T_SEED" ] || T_SEED=$(( (RANDOM << 15 | RANDOM) % 1000000 ))
	t_msg "campaign seed $T_SEED (--seed $T_SEED replays the series): $T_RUNS host runs, $([ $T_NO_VM = 1 ] && echo "no VM" || echo "$T_VM_RUNS VM runs$([ $T_NO_PC = 1 ] || echo " + power cut")"), ${T_DUR} s each"
	: >$dir/vm.log
	# the VM (emulated, its own CPUs' worth of work) runs while the host
	# series does: the campaign takes the longer of the two, not the sum
	if [ $T_NO_VM = 0 ]; then
		(t_vm_part $((T_SEED + 10000)) $((T_SEED + 20000)) | sed 's/^# truth-layer torture-/# torture-series /; s/^# truth-layer vm-/# torture-series vm-/' >$dir/vm.log 2>&1) &
		vmpid=$!
	fi
	T_MODE=host T_SEED=$T_SEED T_LANES=2 t_series 2>&1 | sed -u 's/^# truth-layer torture-/# torture-series /' | tee $dir/host.log
	if [ -n "$vmpid" ]; then
		t_msg "host series done after $(($(date +%s) - t0)) s; waiting for the VM"
		wait $vmpid
		cat $dir/vm.log
	fi
	cat $dir/host.log $dir/vm.log >$dir/campaign.log
	t_summary $dir/campaign.log
	t_msg "campaign took $(($(date +%s) - t0)) s; logs in $dir/"
	awk '/^# torture-series [a-z-]+: pass [0-9]+ fail [0-9]+/ { p += $5; f += $7; n++ }
	     END { if (!n) f = 1; printf "# truth-layer campaign: pass %d fail %d skip 0\n", p, f; exit f > 0 }' $dir/campaign.log
}

# ---------------------------------------------------------------- main
t_need() {
	local f
	for f in "$T_CLIENT" "$T_LINZ" "$TRUTHD"; do
		[ -x "$f" ] || { echo "1..0 # SKIP $f not built (make build)"; exit 0; }
	done
	[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP the campaign needs root (network namespaces)"; exit 0; }
}

# the VM's /dev has no /dev/fd, which bash's <(...) (cluster.sh) needs
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd 2>/dev/null

cmd=series
case "${1:-}" in
campaign | powercut | powercut-load | powercut-check | summary) cmd=$1; shift ;;
esac
if [ "$cmd" = summary ]; then t_summary "$@"; exit; fi
if [ "$cmd" = powercut-load ] || [ "$cmd" = powercut-check ]; then
	t_need
	[ -d /sys/module/truth ] || insmod kmod/truth.ko || { echo "powercut: cannot load truth.ko"; exit 1; }
	if [ "$cmd" = powercut-load ]; then t_pc_load "${1:?seed}"; else t_pc_check "${1:?seed}"; fi
	exit
fi
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) T_MODE=$2; shift 2 ;;
	--runs) T_RUNS=$2; shift 2 ;;
	--vm-runs) T_VM_RUNS=$2; shift 2 ;;
	--duration) T_DUR=$2; shift 2 ;;
	--seed) T_SEED=$2; shift 2 ;;
	--nodes) T_NODES=$2; shift 2 ;;
	--no-vm) T_NO_VM=1; shift ;;
	--no-powercut) T_NO_PC=1; shift ;;
	--then-powercut) T_THEN_PC=$2; shift 2 ;;
	--lanes) T_LANES=$2; shift 2 ;;
	-h | --help) sed -n '3,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "torture: unknown argument '$1' (--help)" >&2; exit 2 ;;
	esac
done
case "$T_MODE" in host | vm) ;; *) echo "torture: --mode host|vm" >&2; exit 2 ;; esac
case "$T_RUNS$T_DUR$T_VM_RUNS$T_LANES" in *[!0-9]*) echo "torture: --runs, --vm-runs and --duration take whole numbers" >&2; exit 2 ;; esac
case "${T_NODES:-3}" in 3 | 5) ;; *) echo "torture: --nodes 3|5" >&2; exit 2 ;; esac
t_need
if [ "$cmd" = campaign ]; then t_campaign; exit; fi
if [ "$cmd" = powercut ]; then
	[ -n "$T_SEED" ] || T_SEED=$((RANDOM % 100000))
	t_powercut "$T_SEED" bash scripts/torture.sh powercut-load "$T_SEED"
	exit
fi
loaded=0
if [ "$T_MODE" = vm ] && [ ! -d /sys/module/truth ]; then
	insmod kmod/truth.ko || { echo "1..0 # SKIP cannot load truth.ko"; exit 0; }
	loaded=1
fi
t_series
rc=$?
# the VM boot of a campaign ends in the power cut's load (the host kills it)
[ -n "$T_THEN_PC" ] && t_pc_load "$T_THEN_PC"
[ $loaded = 1 ] && rmmod truth 2>/dev/null
exit $rc
