#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo's cluster half: runs inside the VM as /truth/scripts/demo-guest.sh
# (scripts/demo.sh boots it there), or as root on a host where truth.ko is
# installed (scripts/demo.sh --host).  Narrates each step for a newcomer,
# ends with a summary table and exits non-zero if any step failed.
#
#        cldemo-hub  (clients: redis-cli, truthctl at 10.77.1.254)
#          br0 ------+-------------+-------------+
#           |        |             |             |
#         eth0     eth0          eth0          eth0      veth pairs
#      cldemo-n1  cldemo-n2     cldemo-n3  ... cldemo-nN  one "host" each
#      10.77.1.1  10.77.1.2     10.77.1.3      10.77.1.N  truthd: peers UDP 7411,
#                                                          clients TCP 6379
#
# The network, configs and processes come from scripts/cluster.sh.  Each
# node's data directory is on DEMO_DATA (the VM's virtio disk /mnt/disk:
# every fdatasync reaches a block device).
#
# Environment: NODES (3 or 5, default 3), DEMO_DATA (where the nodes' data
# goes), DEMO_WRITES (writes before the failover, default 100),
# DEMO_ELECTION_MS (default 2000: the VM is emulated and slow; a busy
# machine starves it for a second at times, and a short timeout would then
# elect leader after leader).
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
export PATH="$top/build:$PATH"

NODES=${NODES:-3}
writes=${DEMO_WRITES:-100}
case "$NODES" in 3 | 5) ;; *) echo "demo: NODES=$NODES: 3 or 5" >&2; exit 2 ;; esac
case "$writes" in '' | *[!0-9]* | 0) echo "demo: DEMO_WRITES=$writes: a number > 0" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "demo: needs root (network namespaces, truth.ko)" >&2; exit 2; }
for b in truthd truthctl; do
	[ -x "$top/build/$b" ] || { echo "demo: build/$b missing: run make agent" >&2; exit 2; }
done
command -v redis-cli >/dev/null || { echo "demo: redis-cli missing (scripts/deps.sh)" >&2; exit 2; }

# ------------------------------------------------------------ narration
nstep=0
sum_step=() sum_res=() sum_fig=()
fails=0
t_start=${EPOCHREALTIME/./}

step() {
	nstep=$((nstep + 1))
	printf '\n[%d] %s  (+%d s)\n' "$nstep" "$*" $(((${EPOCHREALTIME/./} - t_start) / 1000000))
}
say() { printf '    %s\n' "$*"; }
# result NAME ok|FAILED FIGURE: one row of the closing table
result() {
	sum_step+=("$1") sum_res+=("$2") sum_fig+=("$3")
	if [ "$2" = ok ]; then
		say "ok: $3"
	else
		say "FAILED: $3"
		fails=$((fails + 1))
	fi
}
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
# ns since the epoch as UTC time of day with microseconds
utc() { TZ=UTC printf '%(%T)T.%06d' $(($1 / 1000000000)) $(($1 % 1000000000 / 1000)); }
# ms as seconds with one decimal: 1234 -> 1.2 s
secs() { printf '%d.%d s' $(($1 / 1000)) $(($1 % 1000 / 100)); }

# ------------------------------------------------------------ step 1: module
step "Loading truth.ko, the kernel half, into kernel $(uname -r)"
loaded_here=0
mod_ok=0
if [ -d /sys/module/truth ]; then
	say "already loaded: using it (and leaving it loaded)"
	mod_ok=1
elif [ "${TRUTH_VM:-0}" = 1 ] && [ -f "$top/kmod/truth.ko" ]; then
	insmod "$top/kmod/truth.ko" && loaded_here=1 mod_ok=1
else
	modprobe truth && loaded_here=1 mod_ok=1
fi
if [ $mod_ok = 1 ] && truthctl version >/dev/null 2>&1; then
	say "$(truthctl version | head -n 2 | tr '\n' ' ')"
	say "it keeps clocks and counts replica ACKs per network namespace; its eBPF"
	say "kfuncs let tc programs count ACKs before they reach user space"
	btf=no
	[ -e /sys/kernel/btf/truth ] && btf=yes
	result "truth.ko loaded" ok "generic netlink family 'truth' answers; module BTF: $btf"
else
	result "truth.ko loaded" FAILED "could not load or reach truth.ko (dmesg says why)"
fi

# ------------------------------------------------------------ step 2: hosts
if [ -z "${DEMO_DATA:-}" ]; then
	if grep -q ' /mnt/disk ' /proc/mounts; then DEMO_DATA=/mnt/disk; else DEMO_DATA=${TMPDIR:-/tmp}; fi
fi
step "Creating $NODES hosts: network namespaces joined by veth pairs and a bridge"
export TMPDIR=$DEMO_DATA
CL_ID=${CL_ID:-demo}
CL_FAST_PATH=kernel
CL_FSYNC=on
CL_ELECTION_MS=${DEMO_ELECTION_MS:-2000}
CL_HEARTBEAT_MS=$((CL_ELECTION_MS / 10))
CL_KEEP=${CL_KEEP:-0}
# shellcheck source=cluster.sh
. "$top/scripts/cluster.sh"

# the EXIT trap cl_init sets, plus the module: the system as we found it
demo_exit() {
	cl_cleanup
	if [ "$loaded_here" = 1 ]; then
		for _ in 1 2 3 4 5 6 7 8 9 10; do rmmod truth 2>/dev/null && break; sleep 0.3; done
	fi
}
hosts_ok=0
if [ $mod_ok = 1 ] && cl_init "$NODES"; then
	trap demo_exit EXIT
	hosts_ok=1
	# A clock claims to be near true time only if its host vouches for it
	# (GPS, PTP): a majority of the nodes here play such hosts, the others
	# derive their bounds from them (Documentation/clock.md, "The claim")
	anchors=$((NODES / 2 + 1))
	for ((k = 1; k <= anchors; k++)); do
		echo "clock_anchor_ns = 1000000" >>"$CL_DIR/n$k/truthd.conf"
	done
	fs=$(df -P "$CL_DIR" | awk 'NR == 2 { print $1 }')
	fstype=$(awk -v m="$(df -P "$CL_DIR" | awk 'NR == 2 { print $6 }')" '$2 == m { print $3 }' /proc/mounts | tail -n 1)
	for ((k = 1; k <= NODES; k++)); do
		say "host $k: namespace $(cl_ns $k), address $(cl_ip $k), data in $CL_DIR/n$k/data"
	done
	say "bridge br0 in $(cl_hub), where the clients run ($(cl_ip 254))"
	say "data on $fs ($fstype), fsync = on: a write is acknowledged only once"
	say "a majority has it on disk (fdatasync); fast_path = kernel"
	case "$fstype" in
	tmpfs | ramfs) say "(this is memory, not a disk: fdatasync returns at once here)" ;;
	esac
	result "$NODES hosts" ok "$NODES namespaces on a bridge, data on $fs ($fstype)"
else
	result "$NODES hosts" FAILED "could not create the namespaces (see above)"
fi

# ------------------------------------------------------------ helpers
# Few processes: in the emulated VM on a busy machine every fork and exec
# costs a good part of a second, taken from the truthd processes shown.

# poll: INFO (every section) of every running node, asked in parallel, into
# F[K,field] (the Server section is skipped: its role is Redis's word)
declare -A F
poll() {
	local k pids=() key val sec
	F=()
	for ((k = 1; k <= NODES; k++)); do
		cl_running "$k" || continue
		cl_exec timeout 5 redis-cli -h "$(cl_ip "$k")" -p "$(cl_client_port "$k")" INFO all \
			>"$CL_DIR/info.$k" 2>/dev/null &
		pids+=($!)
	done
	# only these: a bare wait would wait for the truthd processes too
	[ ${#pids[@]} = 0 ] || wait "${pids[@]}"
	for ((k = 1; k <= NODES; k++)); do
		cl_running "$k" || continue
		sec=
		while IFS=: read -r key val; do
			case "$key" in "# "*) sec=$key ;; esac
			[ "$sec" = "# Server" ] && continue
			[ -n "$val" ] && F[$k,$key]=${val%$'\r'}
		done <"$CL_DIR/info.$k"
	done
}
# the leader in the last poll, by cluster.sh's rule: role leader with the
# highest term, named leader_id by a majority
polled_leader() {
	local k best= bt=-1 votes=0
	for ((k = 1; k <= NODES; k++)); do
		[ "${F[$k,role]:-}" = leader ] && [ "${F[$k,term]:-0}" -gt "$bt" ] && best=$k bt=${F[$k,term]}
	done
	[ -n "$best" ] || return 1
	for ((k = 1; k <= NODES; k++)); do
		[ "${F[$k,term]:--1}" -gt "$bt" ] && return 1
		[ "${F[$k,leader_id]:-}" = "$best" ] && votes=$((votes + 1))
	done
	[ $((votes * 2)) -gt "$NODES" ] && echo "$best"
}
# wait_leader TIMEOUT_S [NOT_K]: poll until a leader (other than NOT_K);
# sets LEADER (not in $(...): F is needed afterwards)
wait_leader() {
	local end=$(($(now_ms) + $1 * 1000))
	while :; do
		poll
		LEADER=$(polled_leader) && [ "$LEADER" != "${2:-}" ] && return 0
		[ "$(now_ms)" -ge "$end" ] && { LEADER=; return 1; }
		sleep 0.5
	done
}
# every running node shows FIELD = VALUE in the last poll
all_polled() {
	local k
	for ((k = 1; k <= NODES; k++)); do
		cl_running "$k" || continue
		[ "${F[$k,$1]:-}" = "$2" ] || return 1
	done
}
# every running node applied what the leader had committed at the poll before
caught_up() {
	local k c l
	poll
	l=$(polled_leader) || return 1
	c=${F[$l,commit_index]:-}
	[ -n "$c" ] || return 1
	poll
	for ((k = 1; k <= NODES; k++)); do
		cl_running "$k" || continue
		[ "${F[$k,applied_index]:-0}" -ge "$c" ] || return 1
	done
}
synced() { poll; all_polled clock_status synchronised; }
# wait_for TIMEOUT_S CMD...: run CMD every 0.5 s until it succeeds
wait_for() {
	local end=$(($(now_ms) + $1 * 1000))
	shift
	until "$@"; do
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.5
	done
}
# kstats K: group 1's counters in node K's kernel (truthctl stats, in its
# namespace) into KS[field]
declare -A KS
kstats() {
	local key val
	KS=()
	while read -r key val; do KS[$key]=$val; done < <(cl_node_exec "$1" truthctl stats 1 2>/dev/null)
}
# rcli K ARGS: one command to node K (redirects followed), raw reply
rcli() {
	local k=$1
	shift
	cl_exec timeout 5 redis-cli --raw -c -h "$(cl_ip "$k")" -p "$(cl_client_port "$k")" "$@" 2>&1 | tr -d '\r'
}
# put KEY VALUE TIMEOUT_S: SET through any running node (-c follows the
# redirect to the leader), retried until acknowledged
put() {
	local end=$(($(now_ms) + $3 * 1000)) k
	while :; do
		for ((k = 1; k <= NODES; k++)); do
			cl_running "$k" || continue
			[ "$(cl_exec timeout 3 redis-cli -c -h "$(cl_ip "$k")" -p "$(cl_client_port "$k")" \
				SET "$1" "$2" 2>/dev/null | tr -d '\r')" = OK ] && return 0
		done
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.2
	done
}
# write_keys PREFIX N LEADER: N SETs PREFIXnnn = value-nnn sent to the
# leader in one pipelined burst (redis-cli --pipe), so that they share
# fdatasyncs (group commit); any not acknowledged (a leader change) is
# written again one by one.  Prints how many were.
write_keys() {
	local pfx=$1 n=$2 l=$3 i retried=0 got keys=() vals=()
	for ((i = 1; i <= n; i++)); do
		printf -v 'keys[i - 1]' '%s%03d' "$pfx" "$i"
		printf -v 'vals[i - 1]' 'value-%03d' "$i"
	done
	for ((i = 0; i < n; i++)); do
		printf '*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n' \
			${#keys[i]} "${keys[i]}" ${#vals[i]} "${vals[i]}"
	done | cl_exec timeout 120 redis-cli -h "$(cl_ip "$l")" -p "$(cl_client_port "$l")" --pipe >/dev/null 2>&1
	mapfile -t got < <(rcli "$l" MGET "${keys[@]}")
	for ((i = 0; i < n; i++)); do
		[ "${got[i]:-}" = "${vals[i]}" ] && continue
		retried=$((retried + 1))
		put "${keys[i]}" "${vals[i]}" 20 || return 1
	done
	echo "$retried"
}
stop_node() {
	local k=$1 pid=${CL_PIDS[$1]:-} i st
	[ -n "$pid" ] || return 1
	kill -TERM "$pid" 2>/dev/null
	# busybox ps has no -p: a zombie is 'Z' in /proc/PID/stat
	for ((i = 0; i < 150; i++)); do
		[ -e "/proc/$pid" ] || break
		read -r _ _ st _ <"/proc/$pid/stat" 2>/dev/null
		[ "$st" = Z ] && break
		sleep 0.1
	done
	if [ $i = 150 ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		CL_PIDS[$k]=
		return 1
	fi
	wait "$pid"
	local rc=$?
	CL_PIDS[$k]=
	return $rc
}
diagnose() { cl_summary | sed 's/^/    | /'; cl_tail_logs 8 | sed 's/^/    | /'; }

# ------------------------------------------------------------ step 3: leader
leader=
if [ $hosts_ok = 1 ]; then
	step "Starting truthd on every host and waiting for a leader (Raft election)"
	say "election timeout ${CL_ELECTION_MS} ms, heartbeat ${CL_HEARTBEAT_MS} ms (the VM is emulated: slower than a host)"
	t0=$(now_ms)
	cl_start_all
	st=$(($(now_ms) - t0))
	if wait_leader 60; then
		leader=$LEADER
		el=$(($(now_ms) - t0))
		term=${F[$leader,term]}
		say "$NODES daemons started in $(secs $st) (fast path attached, clock engine up)"
		say "node $leader leads term $term, $(secs $el) after the first one started"
		fp_nodes=0
		for ((k = 1; k <= NODES; k++)); do
			say "node $k: ${F[$k,role]:-?}, counting:${F[$k,counting]:-?}, fast_path:${F[$k,fast_path]:-?}, fsync:${F[$k,fsync]:-?}"
			[ "${F[$k,counting]:-}" = fastpath ] && fp_nodes=$((fp_nodes + 1))
		done
		if [ "$fp_nodes" = "$NODES" ]; then
			result "leader elected" ok "node $leader, term $term, $(secs $el); fast path on $fp_nodes/$NODES"
		else
			result "leader elected" FAILED "node $leader, term $term, but the fast path is on only $fp_nodes/$NODES"
		fi
	else
		result "leader elected" FAILED "no leader within 60 s"
		diagnose
	fi
fi

# ------------------------------------------------------------ step 4: writes
if [ -n "$leader" ]; then
	step "Writing $writes keys through the leader; the kernel counts the followers' ACKs"
	say "each follower's ACK is checked (MAC, replay window) and counted by the eBPF"
	say "program at tc ingress of the leader's eth0: it never reaches truthd, which"
	say "only hears 'commit index moved' from truth.ko"
	kstats "$leader"
	a0=${KS[fp_acks]:-} c0=${KS[commit_advances]:-}
	poll
	ci0=${F[$leader,commit_index]:-} s0=${F[$leader,wal_syncs]:-}
	t0=$(now_ms)
	if retried=$(write_keys demo:key: "$writes" "$leader"); then
		wt=$(($(now_ms) - t0))
		kstats "$leader"
		a1=${KS[fp_acks]:-} c1=${KS[commit_advances]:-}
		poll
		ci1=${F[$leader,commit_index]:-} s1=${F[$leader,wal_syncs]:-}
		say "leader's kernel (truthctl stats 1): fp_acks ${a0:-?} -> ${a1:-?}, commit_advances ${c0:-?} -> ${c1:-?}"
		say "commit index ${ci0:-?} -> ${ci1:-?}; fdatasyncs of the leader's log ${s0:-?} -> ${s1:-?}"
		[ "$retried" = 0 ] || say "$retried write(s) hit a leader change and were retried"
		if [ "${a1:-0}" -gt "${a0:-0}" ] && [ "${c1:-0}" -gt "${c0:-0}" ]; then
			result "writes via fast path" ok "$writes/$writes acknowledged in $(secs $wt); kernel counted $((a1 - a0)) ACKs"
		else
			result "writes via fast path" FAILED "$writes written, but the kernel counted no ACK (fp_acks ${a0:-?} -> ${a1:-?})"
		fi
	else
		result "writes via fast path" FAILED "a write was not acknowledged within 20 s"
		diagnose
	fi
fi

# ------------------------------------------------------------ step 5: clocks
if [ -n "$leader" ]; then
	step "Clocks: each host's kernel clocks and truthd's bounded now()"
	say "Lamport, hybrid logical (HLC) and vector clocks live in truth.ko, one set per"
	say "namespace; truthd's now() is an interval [earliest, latest] that contains true"
	say "time. Nodes 1..$anchors vouch for their clocks (as GPS/PTP hosts would); the rest"
	say "derive their bounds from them over the network"
	sync=0 maxeps=0 inside=0
	wait_for 30 synced
	for ((k = 1; k <= NODES; k++)); do
		before=${EPOCHREALTIME/./}000
		mapfile -t tn < <(rcli "$k" TIME.NOW)
		after=${EPOCHREALTIME/./}999
		lam=? hlc=? vc=?
		while read -r w1 w2 rest; do
			case "$w1" in
			lamport) lam=$w2 ;;
			hlc) rest=${rest#(physical }; hlc="${rest%% s,*} s, logical ${rest#*logical }" hlc=${hlc%%)*} ;;
			vclock) vc=${rest#*: } ;;
			esac
		done < <(cl_node_exec "$k" truthctl clock get group 1 2>/dev/null)
		if [ "${tn[2]:-}" = synchronised ]; then
			sync=$((sync + 1))
			eps=$(((tn[1] - tn[0]) / 2000))
			[ "$eps" -gt "$maxeps" ] && maxeps=$eps
			# the VM's own clock, read around the call, must meet the interval
			ok=no
			[ "${tn[0]}" -le "$after" ] && [ "${tn[1]}" -ge "$before" ] && ok=yes && inside=$((inside + 1))
			say "node $k: now() = [$(utc "${tn[0]}"), $(utc "${tn[1]}")] UTC, +/- ${eps} us;" \
				"holds this machine's clock: $ok"
		else
			say "node $k: now() = ${tn[2]:-no answer} (not synchronised yet)"
		fi
		say "        kernel: lamport $lam, hlc $hlc, vector clock $vc"
	done
	if [ "$sync" = "$NODES" ] && [ "$inside" = "$NODES" ]; then
		result "clocks and now()" ok "$NODES/$NODES synchronised, widest +/- ${maxeps} us, all hold true time"
	else
		result "clocks and now()" FAILED "$sync/$NODES synchronised, $inside/$NODES hold this machine's clock"
	fi
fi

# ------------------------------------------------------------ step 6: lock
if [ -n "$leader" ]; then
	step "A cluster-wide lock with fencing tokens (truthctl lock ... -- CMD)"
	say "each holder gets a token larger than every earlier one; storage that"
	say "remembers the largest token it saw refuses a write from an older holder"
	addrs=()
	for ((k = 1; k <= NODES; k++)); do addrs+=(--addr "$(cl_addr "$k")"); done
	tok1=$(cl_exec timeout 30 truthctl lock demo-lock "${addrs[@]}" -- sh -c 'echo $TRUTH_FENCING_TOKEN' 2>&1)
	tok2=$(cl_exec timeout 30 truthctl lock demo-lock "${addrs[@]}" -- sh -c 'echo $TRUTH_FENCING_TOKEN' 2>&1)
	say "first holder:  truthctl lock demo-lock -- sh -c 'echo \$TRUTH_FENCING_TOKEN' -> $tok1"
	say "second holder: the same command                                  -> $tok2"
	case "$tok1$tok2" in *[!0-9]* | '') tok1=0 tok2=0 ;; esac
	if [ "$tok2" -gt "$tok1" ]; then
		# the newer holder writes, then the older one's write is fenced off
		w2=$(rcli "$leader" SET demo:storage "by holder $tok2" FENCE demo-storage "$tok2")
		r2=$(rcli "$leader" SET demo:storage "by holder $tok1" FENCE demo-storage "$tok1")
		say "SET ... FENCE demo-storage $tok2 -> $w2"
		say "SET ... FENCE demo-storage $tok1 -> $r2"
		case "$r2" in
		FENCED*) result "lock + fencing token" ok "tokens $tok1 < $tok2; the older holder's write refused" ;;
		*) result "lock + fencing token" FAILED "tokens $tok1 < $tok2, but the stale write got '$r2'" ;;
		esac
	else
		result "lock + fencing token" FAILED "tokens '$tok1' then '$tok2': not increasing"
	fi
fi

# ------------------------------------------------------------ step 7: failover
old=
if [ -n "$leader" ]; then
	step "Killing the leader (kill -9 of node $leader) and timing the failover"
	say "measured from the kill to the first write a new leader acknowledges"
	say "(the clients retry every node; -MOVED sends them to the new leader)"
	old=$leader
	t0=$(now_ms)
	cl_kill "$old"
	if put demo:failover "written after node $old died" 60; then
		ft=$(($(now_ms) - t0))
		if wait_leader 30 "$old"; then
			leader=$LEADER
			term=${F[$leader,term]}
			say "node $leader leads term $term; first commit $(secs $ft) after the kill"
			kstats "$leader"
			a0=${KS[fp_acks]:-}
			retried=$(write_keys demo:after: 20 "$leader") || retried=failed
			kstats "$leader"
			a1=${KS[fp_acks]:-}
			say "20 more writes: $retried retried; the new leader's kernel fp_acks ${a0:-?} -> ${a1:-?}"
			if [ "$retried" != failed ] && [ "${a1:-0}" -gt "${a0:-0}" ]; then
				result "leader killed, new one" ok "node $old -> node $leader (term $term), $(secs $ft) kill -> first commit"
			else
				result "leader killed, new one" FAILED "node $leader leads, but writes or its fast path failed"
			fi
		else
			leader=
			result "leader killed, new one" FAILED "a write went through but no leader is seen"
			diagnose
		fi
	else
		leader=
		result "leader killed, new one" FAILED "no write acknowledged within 60 s of the kill"
		diagnose
	fi
fi

# ------------------------------------------------------------ step 8: check
if [ -n "$leader" ]; then
	step "Restarting node $old from its disk and checking the data on every node"
	say "it reloads its log from $CL_DIR/n$old/data and catches up from the leader;"
	say "then every node must have applied the same log: same applied index, same"
	say "state-machine revision and key count; every value is read back"
	t0=$(now_ms)
	cl_start "$old"
	wait_for 60 caught_up
	rt=$(($(now_ms) - t0))
	# applied index, revision, keys: equal on every node.  Asked of all
	# nodes at once (one redis-cli each, in parallel), again until they
	# agree: an entry (a session's expiry TICK) may be on its way
	same=0
	for _ in $(seq 30); do
		rows=()
		poll
		for ((k = 1; k <= NODES; k++)); do
			rows[k]="applied ${F[$k,applied_index]:-?}, revision ${F[$k,sm_revision]:-?}, keys ${F[$k,sm_keys]:-?}"
		done
		[ "$(printf '%s\n' "${rows[@]}" | sort -u | wc -l)" = 1 ] && { same=1; break; }
		sleep 1
	done
	for ((k = 1; k <= NODES; k++)); do say "node $k: ${rows[k]} (${F[$k,role]:-?})"; done
	# every value written, read through the cluster (reads are linearizable:
	# the leader serves them)
	want=() keys=()
	for ((i = 1; i <= writes; i++)); do keys+=("$(printf 'demo:key:%03d' "$i")"); want+=("$(printf 'value-%03d' "$i")"); done
	for ((i = 1; i <= 20; i++)); do keys+=("$(printf 'demo:after:%03d' "$i")"); want+=("$(printf 'value-%03d' "$i")"); done
	mapfile -t got < <(rcli "$leader" MGET "${keys[@]}")
	bad=0
	for i in "${!keys[@]}"; do [ "${got[i]:-}" = "${want[i]}" ] || bad=$((bad + 1)); done
	say "${#keys[@]} keys read back: $((${#keys[@]} - bad)) hold the value written, $bad do not"
	if [ "$same" = 1 ] && [ "$bad" = 0 ]; then
		result "data on every node" ok "$NODES/$NODES nodes: ${rows[1]}; ${#keys[@]}/${#keys[@]} values"
	else
		result "data on every node" FAILED "nodes agree: $([ $same = 1 ] && echo yes || echo no); $bad of ${#keys[@]} values wrong"
		diagnose
	fi
	say "(node $old caught up $(secs $rt) after its restart)"
fi

# ------------------------------------------------------------ step 9: stop
if [ $hosts_ok = 1 ]; then
	step "Stopping every truthd (SIGTERM: sync the log, detach the fast path, exit 0)"
	rcs=
	for ((k = 1; k <= NODES; k++)); do
		cl_running "$k" || { rcs+=" -"; continue; }
		stop_node "$k"
		rcs+=" $?"
	done
	left=$(for ((k = 1; k <= NODES; k++)); do cl_node_exec "$k" truthctl show 2>/dev/null | grep '^group '; done)
	say "exit statuses:$rcs; kernel groups left: $([ -z "$left" ] && echo none || echo "$left")"
	if [ -z "$(echo "$rcs" | tr -d ' 0')" ] && [ -z "$left" ]; then
		result "clean shutdown" ok "$NODES/$NODES exited 0, no kernel group left"
	else
		result "clean shutdown" FAILED "exit statuses:$rcs"
	fi
fi

# ------------------------------------------------------------ summary
total=$(( (${EPOCHREALTIME/./} - t_start) / 1000 ))
printf '\nsummary (%d nodes, kernel %s, %s)\n' "$NODES" "$(uname -r)" "$(secs $total)"
printf '  %-24s %-7s %s\n' step result figure
for i in "${!sum_step[@]}"; do
	printf '  %-24s %-7s %s\n' "${sum_step[i]}" "${sum_res[i]}" "${sum_fig[i]}"
done
# a step that never ran (an earlier one failed) is a failure too
if [ ${#sum_step[@]} -lt 9 ]; then
	printf '  %-24s %-7s %s\n' "(later steps)" FAILED "not run: an earlier step failed"
	fails=$((fails + 1))
fi
if [ "$fails" = 0 ]; then
	echo "demo: all ${#sum_step[@]} steps ok"
else
	echo "demo: $fails step(s) FAILED"
	[ "$hosts_ok" = 1 ] && CL_KEEP=1
fi
[ "$fails" = 0 ]
