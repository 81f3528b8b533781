#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# cluster.sh: run truthd as a cluster on one host.  A library to source
# (tests, benchmarks) and a small CLI (`scripts/cluster.sh help`).
#
# Network mode "netns" (the default, needs root): every node is a network
# namespace joined to a bridge in a hub namespace; clients run in the hub.
#
#        cl<ID>-hub  (clients: 10.77.<S>.254 on br0; br1 holds a partition's far side)
#          br0 ------+-------------+-------------+
#           |        |             |             |
#          h1       h2            h3    ...     hN      veth, hub side
#           |        |             |             |
#         eth0     eth0          eth0          eth0     veth, node side
#      cl<ID>-n1  cl<ID>-n2     cl<ID>-n3     cl<ID>-nN
#      10.77.S.1  10.77.S.2     10.77.S.3     10.77.S.N  peer :7411, client :6379
#
# Network mode "loopback" (CL_NET=loopback, no root): every node on
# 127.0.0.1, peer port CL_PEER_BASE+K, client port CL_CLIENT_BASE+K (two
# free ranges picked at random unless both are set).  Partitions need netns
# mode.
#
# Every node has its own config (Documentation/ interfaces: `key = value`),
# data dir and log under one temp dir, CL_DIR; all share one key file
# (32 random bytes as 64 hex digits, mode 0600).  cl_cleanup (on EXIT)
# kills every process this run started, deletes its namespaces, and removes
# CL_DIR unless CL_KEEP=1 (tests set it on failure and print the path).
#
# Variables (set before cl_init):
#   TRUTHD, TRUTHCTL   binaries (default: build/ of this tree)
#   CL_ID              run id in every name (default: random); CL_NET netns|loopback
#   CL_FAST_PATH       fast_path (default user); CL_FSYNC on|off (default on)
#   CL_ELECTION_MS, CL_HEARTBEAT_MS, CL_LOG_LEVEL, CL_EXTRA (more config lines)
#   CL_VERBOSE=1       narrate every step on stderr
#   CL_INFO_TOOL       build/selftests/tools/truth-info (polls every node at
#                      once; without it, one redis-cli per node)

cl_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${TRUTHD:=$cl_top/build/truthd}"
: "${TRUTHCTL:=$cl_top/build/truthctl}"
# INFO from every node in one process (falls back to redis-cli without it)
: "${CL_INFO_TOOL:=$cl_top/build/selftests/tools/truth-info}"
: "${CL_NET:=netns}"
: "${CL_FAST_PATH:=user}"
: "${CL_FSYNC:=on}"
: "${CL_ELECTION_MS:=300}"
: "${CL_HEARTBEAT_MS:=50}"
: "${CL_LOG_LEVEL:=info}"
: "${CL_SUBNET:=1}"
: "${CL_KEEP:=0}"
: "${CL_VERBOSE:=0}"

CL_N=0
CL_DIR=
CL_PIDS=()      # CL_PIDS[K]: truthd of node K while it runs
CL_BG=()        # other background pids started through cl_bg
CL_NETNS=()     # namespaces created, deleted by cl_cleanup
CL_CUT=()       # CL_CUT[K]=1: node K is out of the clients' reach (partition)

cl_log() { [ "$CL_VERBOSE" = 1 ] && echo "cluster: $*" >&2; return 0; }
cl_err() { echo "cluster: $*" >&2; }

# time in milliseconds (monotonic enough for timeouts: EPOCHREALTIME is bash 5)
cl_now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

cl_ns() { echo "cl${CL_ID}-n$1"; }
cl_hub() { echo "cl${CL_ID}-hub"; }

cl_ip() {
	if [ "$CL_NET" = netns ]; then echo "10.77.$CL_SUBNET.$1"; else echo 127.0.0.1; fi
}
cl_peer_port() { if [ "$CL_NET" = netns ]; then echo 7411; else echo $((CL_PEER_BASE + $1)); fi; }
cl_client_port() { if [ "$CL_NET" = netns ]; then echo 6379; else echo $((CL_CLIENT_BASE + $1)); fi; }
cl_addr() { echo "$(cl_ip "$1"):$(cl_client_port "$1")"; }
# every node's client address, space separated (for truth-load --addr)
cl_addrs() { local k out=; for ((k = 1; k <= CL_N; k++)); do out+="$(cl_addr $k) "; done; echo "${out% }"; }

# cl_exec CMD...: run a client command where the nodes are reachable
cl_exec() {
	if [ "$CL_NET" = netns ]; then ip netns exec "$(cl_hub)" "$@"; else "$@"; fi
}

# cl_node_exec K CMD...: run a command inside node K's namespace
cl_node_exec() {
	local k=$1
	shift
	if [ "$CL_NET" = netns ]; then ip netns exec "$(cl_ns "$k")" "$@"; else "$@"; fi
}

# cl_cli K ARGS...: redis-cli to node K (at most 5 s per call)
cl_cli() {
	local k=$1
	shift
	cl_exec timeout 5 redis-cli --no-raw -h "$(cl_ip "$k")" -p "$(cl_client_port "$k")" "$@" 2>&1 | tr -d '\r'
}

# cl_bg CMD...: start a client program (an executable, not a function) in
# the background where the nodes are reachable; killed by cl_cleanup.  Its
# pid, the program's own, is in CL_LAST_BG.  Redirect by wrapping the call:
# cl_bg CMD >out 2>&1
cl_bg() {
	if [ "$CL_NET" = netns ]; then
		ip netns exec "$(cl_hub)" "$@" &
	else
		"$@" &
	fi
	CL_LAST_BG=$!
	CL_BG+=("$CL_LAST_BG")
}

cl_need_root() {
	[ "$CL_NET" != netns ] && return 0
	[ "$(id -u)" = 0 ] || { cl_err "netns mode needs root (or CL_NET=loopback)"; return 1; }
}

# ---------------------------------------------------------------- setup
# cl_init N: temp dir, key file, configs, network for N nodes (nothing started)
cl_init() {
	local n=$1 k
	case "$n" in
	[1-9]) ;;
	*) cl_err "cl_init: node count '$n' not in 1..9"; return 1 ;;
	esac
	cl_need_root || return 1
	[ -n "${CL_ID:-}" ] || CL_ID=$(printf '%04x' $((RANDOM ^ $$ & 0xffff)))
	case "$CL_ID" in
	*[!a-z0-9]* | ?????????*) cl_err "CL_ID '$CL_ID': 1..8 of [a-z0-9]"; return 1 ;;
	esac
	CL_N=$n
	if [ "$CL_NET" = loopback ]; then
		cl_pick_ports || return 1
	elif [ "$CL_NET" != netns ]; then
		cl_err "CL_NET '$CL_NET': netns or loopback"
		return 1
	fi
	CL_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cl$CL_ID.XXXXXX") || return 1
	trap cl_cleanup EXIT
	trap 'exit 130' INT TERM
	# the key: 32 random bytes as hex, never world-readable
	(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$CL_DIR/group.key" && echo >>"$CL_DIR/group.key")
	chmod 0600 "$CL_DIR/group.key"
	for ((k = 1; k <= n; k++)); do
		mkdir -p "$CL_DIR/n$k/data"
		cl_write_config "$k" || return 1
	done
	if [ "$CL_NET" = netns ]; then
		cl_net_up || return 1
	fi
	cl_log "run $CL_ID: $n nodes ($CL_NET) in $CL_DIR"
}

# loopback: two port ranges nobody listens on (other runs share 127.0.0.1);
# CL_PEER_BASE / CL_CLIENT_BASE set by hand are taken as they are
cl_pick_ports() {
	local try base k busy
	[ -n "${CL_PEER_BASE:-}" ] && [ -n "${CL_CLIENT_BASE:-}" ] && return 0
	for try in 1 2 3 4 5 6 7 8 9 10; do
		base=$((20000 + (RANDOM % 4000) * 10))
		busy=0
		for ((k = 1; k <= CL_N; k++)); do
			ss -Hltun "( sport = :$((base + k)) or sport = :$((base + 5000 + k)) )" 2>/dev/null | grep -q . && busy=1
		done
		if [ $busy = 0 ]; then
			CL_PEER_BASE=$base CL_CLIENT_BASE=$((base + 5000))
			return 0
		fi
	done
	cl_err "no free loopback ports found"
	return 1
}

cl_write_config() {
	local k=$1 j f="$CL_DIR/n$1/truthd.conf"
	{
		echo "# node $k of run $CL_ID, written by scripts/cluster.sh"
		echo "node_id = $k"
		echo "group_id = 1"
		echo "data_dir = $CL_DIR/n$k/data"
		echo "peer_listen = $(cl_ip "$k"):$(cl_peer_port "$k")"
		for ((j = 1; j <= CL_N; j++)); do
			echo "peer = $j $(cl_ip "$j"):$(cl_peer_port "$j")"
		done
		echo "client_listen = $(cl_addr "$k")"
		echo "client_unix = $CL_DIR/n$k/client.sock"
		echo "key_file = $CL_DIR/group.key"
		echo "fast_path = $CL_FAST_PATH"
		echo "fsync = $CL_FSYNC"
		echo "election_timeout_ms = $CL_ELECTION_MS"
		echo "heartbeat_ms = $CL_HEARTBEAT_MS"
		echo "log_level = $CL_LOG_LEVEL"
		if [ -n "${CL_EXTRA:-}" ]; then printf '%s\n' "$CL_EXTRA"; fi
	} >"$f"
}

# runs record their owner, so `cluster.sh clean-stale` can remove what a
# killed run (SIGKILL skips the EXIT trap) left, and nothing of a live one
CL_OWNERS=/run/truth-cluster

cl_net_up() {
	local hub k ns
	hub=$(cl_hub)
	mkdir -p "$CL_OWNERS" && echo "$$ $CL_DIR" >"$CL_OWNERS/cl$CL_ID"
	ip netns add "$hub" || return 1
	CL_NETNS+=("$hub")
	ip -n "$hub" link set lo up
	ip -n "$hub" link add br0 type bridge || return 1
	ip -n "$hub" link add br1 type bridge || return 1
	ip -n "$hub" addr add "10.77.$CL_SUBNET.254/24" dev br0
	ip -n "$hub" link set br0 up
	ip -n "$hub" link set br1 up
	for ((k = 1; k <= CL_N; k++)); do
		ns=$(cl_ns "$k")
		ip netns add "$ns" || return 1
		CL_NETNS+=("$ns")
		ip -n "$ns" link set lo up
		ip -n "$hub" link add "h$k" type veth peer name eth0 netns "$ns" || return 1
		ip -n "$hub" link set "h$k" master br0
		ip -n "$hub" link set "h$k" up
		ip -n "$ns" addr add "$(cl_ip "$k")/24" dev eth0
		ip -n "$ns" link set eth0 up
	done
}

# ---------------------------------------------------------------- nodes
cl_check_k() {
	case "$1" in
	'' | *[!0-9]*) cl_err "node '$1' is not a number"; return 1 ;;
	esac
	[ "$1" -ge 1 ] && [ "$1" -le "$CL_N" ] || { cl_err "node $1 not in 1..$CL_N"; return 1; }
}

cl_running() { local p=${CL_PIDS[$1]:-}; [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
# cl_reachable K: running and not cut off from the clients by a partition
# (asking a cut node would only wait for redis-cli's timeout)
cl_reachable() { cl_running "$1" && [ -z "${CL_CUT[$1]:-}" ]; }

# cl_start K [truthd flags...]: start node K (log appended to CL_DIR/nK/log)
cl_start() {
	local k=$1
	shift
	cl_check_k "$k" || return 1
	cl_running "$k" && { cl_err "node $k already runs (pid ${CL_PIDS[$k]})"; return 1; }
	[ -x "$TRUTHD" ] || { cl_err "truthd not found at $TRUTHD (make build, or set TRUTHD)"; return 1; }
	echo "=== $(date -u +%T.%N) start: $TRUTHD --config $CL_DIR/n$k/truthd.conf $*" >>"$CL_DIR/n$k/log"
	# a plain command, not a function, in the background: $! is then
	# truthd itself (ip netns exec execs it), not a subshell around it
	if [ "$CL_NET" = netns ]; then
		ip netns exec "$(cl_ns "$k")" "$TRUTHD" --config "$CL_DIR/n$k/truthd.conf" "$@" \
			>>"$CL_DIR/n$k/log" 2>&1 &
	else
		"$TRUTHD" --config "$CL_DIR/n$k/truthd.conf" "$@" >>"$CL_DIR/n$k/log" 2>&1 &
	fi
	CL_PIDS[$k]=$!
	cl_log "node $k started, pid ${CL_PIDS[$k]}"
}

cl_start_all() { local k; for ((k = 1; k <= CL_N; k++)); do cl_start "$k" || return 1; done; }

# cl_wait_pid PID TIMEOUT_S: wait for a child of this shell to exit and
# put its status in CL_STATUS.  Call it directly, never in $(...): a
# subshell cannot wait for its parent's children.
cl_wait_pid() {
	local pid=$1 end=$(($(cl_now_ms) + $2 * 1000))
	CL_STATUS=
	while kill -0 "$pid" 2>/dev/null; do
		# a zombie still answers kill -0: reap it through wait
		case "$(ps -o stat= -p "$pid" 2>/dev/null)" in Z*) break ;; esac
		[ "$(cl_now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
	wait "$pid" 2>/dev/null
	CL_STATUS=$?
}

# cl_stop K [TIMEOUT_S]: SIGTERM, wait (default 10 s); the exit status is in
# CL_STATUS.  Returns 1 if it did not exit in time (it is then killed).
# Not in $(...): the node list and the wait must happen in this shell.
cl_stop() {
	local k=$1 pid
	cl_check_k "$k" || return 1
	pid=${CL_PIDS[$k]:-}
	[ -n "$pid" ] || { cl_err "node $k is not running"; return 1; }
	kill -CONT "$pid" 2>/dev/null
	kill -TERM "$pid" 2>/dev/null
	if ! cl_wait_pid "$pid" "${2:-10}"; then
		cl_err "node $k (pid $pid) ignored SIGTERM for ${2:-10} s: killed"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		CL_PIDS[$k]=
		return 1
	fi
	CL_PIDS[$k]=
	echo "=== $(date -u +%T.%N) stopped (SIGTERM), exit $CL_STATUS" >>"$CL_DIR/n$k/log"
}

# cl_kill K: kill -9 (no chance to flush anything)
cl_kill() {
	local k=$1 pid
	cl_check_k "$k" || return 1
	pid=${CL_PIDS[$k]:-}
	[ -n "$pid" ] || { cl_err "node $k is not running"; return 1; }
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	CL_PIDS[$k]=
	echo "=== $(date -u +%T.%N) kill -9" >>"$CL_DIR/n$k/log"
	cl_log "node $k killed"
}

cl_restart() { cl_check_k "$1" || return 1; cl_running "$1" && { cl_stop "$1" || true; }; cl_start "$@"; }
cl_pause() { cl_check_k "$1" && kill -STOP "${CL_PIDS[$1]:?node $1 not running}"; }
cl_resume() { cl_check_k "$1" && kill -CONT "${CL_PIDS[$1]:?node $1 not running}"; }

# ---------------------------------------------------------------- faults
cl_need_netns() { [ "$CL_NET" = netns ] || { cl_err "$1 needs CL_NET=netns"; return 1; }; }

# cl_isolate K: cut node K off from everyone (link down on the hub side)
cl_isolate() {
	cl_need_netns cl_isolate && cl_check_k "$1" || return 1
	CL_CUT[$1]=1
	ip -n "$(cl_hub)" link set "h$1" down
}
cl_rejoin() {
	cl_need_netns cl_rejoin && cl_check_k "$1" || return 1
	CL_CUT[$1]=
	ip -n "$(cl_hub)" link set "h$1" master br0
	ip -n "$(cl_hub)" link set "h$1" up
}

# cl_partition "K..." : the nodes named move to the hub's second bridge;
# they reach each other but not the rest nor the clients (which sit on br0)
cl_partition() {
	local k
	cl_need_netns cl_partition || return 1
	for k in $1; do
		cl_check_k "$k" || return 1
		CL_CUT[$k]=1
		ip -n "$(cl_hub)" link set "h$k" master br1 || return 1
	done
}

# cl_heal: every link up, every node on br0, no loss
cl_heal() {
	local k
	cl_need_netns cl_heal || return 1
	CL_CUT=()
	for ((k = 1; k <= CL_N; k++)); do
		ip -n "$(cl_hub)" link set "h$k" master br0
		ip -n "$(cl_hub)" link set "h$k" up
		tc -n "$(cl_hub)" qdisc del dev "h$k" root 2>/dev/null
	done
	return 0
}

# cl_loss K PCT: netem loss on node K's link (both directions' hub side);
# returns 2 when the kernel has no netem (this host's does not)
cl_loss() {
	cl_need_netns cl_loss && cl_check_k "$1" || return 1
	if ! tc -n "$(cl_hub)" qdisc replace dev "h$1" root netem loss "$2%" 2>/dev/null; then
		cl_err "netem is not available in this kernel (sch_netem)"
		return 2
	fi
}

# ---------------------------------------------------------------- status
# cl_info K: node K's INFO truth as key:value lines (empty if unreachable)
cl_info() {
	if [ -x "$CL_INFO_TOOL" ]; then
		cl_exec "$CL_INFO_TOOL" "$(cl_addr "$1")" | tr ' ' '\n' | tail -n +2 | grep ':' || true
	else
		cl_cli "$1" INFO truth | grep -E '^[a-z_0-9]+:' || true
	fi
}

# cl_field K FIELD: one INFO truth field of node K (empty if unknown)
cl_field() { cl_info "$1" | sed -n "s/^$2://p" | head -n1; }

# cl_poll: INFO truth of every reachable node in one go, into CL_F[K,FIELD]
# (one truth-info process instead of one redis-cli per node and field)
declare -gA CL_F
cl_poll() {
	local k line f addrs=() idx=()
	CL_F=()
	for ((k = 1; k <= CL_N; k++)); do
		cl_reachable "$k" || continue
		addrs+=("$(cl_addr "$k")")
		idx+=("$k")
	done
	[ ${#addrs[@]} -gt 0 ] || return 0
	if [ -x "$CL_INFO_TOOL" ]; then
		k=0
		while read -r line; do
			for f in ${line#* }; do
				case "$f" in *:*) CL_F[${idx[$k]},${f%%:*}]=${f#*:} ;; esac
			done
			k=$((k + 1))
		done < <(cl_exec "$CL_INFO_TOOL" "${addrs[@]}")
	else
		for k in "${idx[@]}"; do
			while IFS=: read -r f line; do CL_F[$k,$f]=$line; done < <(cl_info "$k")
		done
	fi
}

# cl_status K: `truthctl status` of node K (same fields, for people)
cl_status() {
	cl_exec "$TRUTHCTL" status --addr "$(cl_addr "$1")"
}

# cl_leader: prints the leader's node id, or fails.  A leader is a node the
# clients reach that says role:leader with the highest term any reachable
# node reports, and that a majority of all nodes names as leader_id (itself
# included), so a deposed leader that has not heard of the new term yet is
# not taken.  Nodes cut off by a partition are not asked.
cl_leader() {
	cl_poll
	cl_leader_polled
}

# the same over what the last cl_poll saw
cl_leader_polled() {
	local k term best= bestterm=-1 votes=0
	for ((k = 1; k <= CL_N; k++)); do
		term=${CL_F[$k,term]:--1}
		if [ "${CL_F[$k,role]:-}" = leader ] && [ "$term" -gt "$bestterm" ]; then
			best=$k bestterm=$term
		fi
	done
	[ -n "$best" ] || return 1
	for ((k = 1; k <= CL_N; k++)); do
		[ "${CL_F[$k,term]:--1}" -gt "$bestterm" ] && return 1
		[ "${CL_F[$k,leader_id]:-}" = "$best" ] && votes=$((votes + 1))
	done
	[ $((votes * 2)) -gt "$CL_N" ] || return 1
	echo "$best"
}

# cl_wait_for TIMEOUT_S CMD...: run CMD every 100 ms until it succeeds
cl_wait_for() {
	local end=$(($(cl_now_ms) + $1 * 1000))
	shift
	while :; do
		"$@" && return 0
		[ "$(cl_now_ms)" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# cl_wait_leader TIMEOUT_S [NOT_K]: wait for a leader (other than NOT_K);
# prints its id
cl_wait_leader() {
	local end=$(($(cl_now_ms) + $1 * 1000)) l
	while :; do
		if l=$(cl_leader) && [ "$l" != "${2:-}" ]; then
			echo "$l"
			return 0
		fi
		[ "$(cl_now_ms)" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# cl_caught_up: every reachable node applied what the leader had committed
# before they were asked (the leader's commit index comes from one poll,
# the others' applied index from the next: asked in one pass, a node asked
# before the leader would always seem behind while writes go on)
cl_caught_up() {
	local l c k a
	cl_poll
	l=$(cl_leader_polled) || return 1
	c=${CL_F[$l,commit_index]:-}
	[ -n "$c" ] || return 1
	cl_poll
	for ((k = 1; k <= CL_N; k++)); do
		cl_reachable "$k" || continue
		a=${CL_F[$k,applied_index]:-}
		[ -n "$a" ] && [ "$a" -ge "$c" ] || return 1
	done
}
cl_wait_caught_up() { cl_wait_for "$1" cl_caught_up; }

# cl_wait_up K TIMEOUT_S: node K answers PING
cl_pong() { [ "$(cl_cli "$1" PING)" = PONG ]; }
cl_wait_up() { cl_wait_for "$2" cl_pong "$1"; }

# cl_summary: one line per node (for diagnostics)
cl_summary() {
	local k f line
	cl_poll
	for ((k = 1; k <= CL_N; k++)); do
		if cl_running "$k" && [ -n "${CL_CUT[$k]:-}" ]; then
			echo "node $k pid ${CL_PIDS[$k]}: cut off by a partition"
		elif cl_running "$k"; then
			line=
			for f in role term leader_id commit_index applied_index last_index; do
				line+="$f:${CL_F[$k,$f]:-?} "
			done
			echo "node $k pid ${CL_PIDS[$k]}: $line"
		else
			echo "node $k: not running"
		fi
	done
}

# cl_tail_logs [N]: the last N lines of every node's log (diagnostics)
cl_tail_logs() {
	local k
	for ((k = 1; k <= CL_N; k++)); do
		echo "---- node $k log (last ${1:-20} lines)"
		tail -n "${1:-20}" "$CL_DIR/n$k/log" 2>/dev/null
	done
}

# ---------------------------------------------------------------- cleanup
cl_cleanup() {
	local k p ns
	trap - EXIT
	for k in "${!CL_PIDS[@]}"; do
		p=${CL_PIDS[$k]}
		[ -n "$p" ] || continue
		kill -CONT "$p" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	CL_PIDS=()
	for p in "${CL_BG[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	CL_BG=()
	for ns in "${CL_NETNS[@]}"; do
		# anything still inside (a client a test left) dies with it
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	CL_NETNS=()
	[ -n "${CL_ID:-}" ] && rm -f "$CL_OWNERS/cl$CL_ID"
	if [ -n "$CL_DIR" ] && [ -d "$CL_DIR" ]; then
		if [ "$CL_KEEP" = 1 ]; then
			echo "# cluster: artefacts kept in $CL_DIR" >&2
		else
			rm -rf "$CL_DIR"
		fi
	fi
	CL_DIR=
}

# ---------------------------------------------------------------- CLI
cl_usage() {
	cat <<EOF
usage: scripts/cluster.sh COMMAND [ARGS]

  up N            start N nodes (3 or 5), wait for a leader, print how to
                  reach them, stay until Ctrl-C, then remove everything
  run N 'CMDS'    start N nodes, wait for a leader, run the bash commands
                  CMDS with this library's functions, remove everything;
                  exits with CMDS's status
  check           say whether this machine can run a cluster (root, ip,
                  bridge, truthd)
  clean-stale     remove the namespaces, processes and temp dir of runs
                  whose owner died without cleaning up (kill -9, a timeout)
  help            this text

Example:
  scripts/cluster.sh run 3 'l=\$(cl_leader); cl_cli \$l SET k v; cl_kill \$l;
                            cl_wait_leader 10 \$l; cl_summary'

Environment: TRUTHD, TRUTHCTL, CL_NET=netns|loopback, CL_FAST_PATH, CL_FSYNC,
CL_KEEP=1 (keep the temp dir), CL_VERBOSE=1.  Functions: cl_start K,
cl_stop K, cl_kill K, cl_restart K, cl_pause K, cl_resume K, cl_isolate K,
cl_rejoin K, cl_partition "K...", cl_heal, cl_loss K PCT, cl_leader,
cl_wait_leader S, cl_wait_caught_up S, cl_cli K ARGS, cl_info K,
cl_status K, cl_summary, cl_exec CMD (in the clients' namespace).
EOF
}

cl_main() {
	local cmd=${1:-help} l
	shift || true
	case "$cmd" in
	up | run)
		cl_init "${1:?node count}" || exit 1
		cl_start_all || exit 1
		if ! l=$(cl_wait_leader 30); then
			cl_err "no leader after 30 s"
			cl_summary >&2
			cl_tail_logs >&2
			exit 1
		fi
		echo "cluster $CL_ID: leader node $l; clients: $(cl_addrs)"
		if [ "$cmd" = run ]; then
			eval "${2:?commands}"
			exit $?
		fi
		[ "$CL_NET" = netns ] && echo "reach them from: ip netns exec $(cl_hub) redis-cli -h $(cl_ip "$l") -p $(cl_client_port "$l")"
		echo "logs in $CL_DIR/n*/log; Ctrl-C stops and removes everything"
		while :; do sleep 3600; done
		;;
	check)
		local ok=0
		[ "$CL_NET" != netns ] || [ "$(id -u)" = 0 ] || { echo "not root (CL_NET=loopback needs no root)"; ok=1; }
		command -v ip >/dev/null || { echo "ip (iproute2) missing"; ok=1; }
		command -v redis-cli >/dev/null || { echo "redis-cli missing (scripts/deps.sh)"; ok=1; }
		[ -x "$TRUTHD" ] || { echo "truthd missing at $TRUTHD"; ok=1; }
		[ $ok = 0 ] && echo "ok: truthd $TRUTHD, network $CL_NET"
		exit $ok
		;;
	clean-stale)
		# runs whose owner is gone: their namespaces, processes and temp dir
		local f id owner dir ns p n=0
		for f in "$CL_OWNERS"/cl*; do
			[ -e "$f" ] || continue
			id=${f##*/}
			read -r owner dir <"$f"
			kill -0 "$owner" 2>/dev/null && continue
			for ns in $(ip netns list | awk '{print $1}' | grep "^$id-"); do
				for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p"; done
				ip netns del "$ns" && n=$((n + 1))
			done
			case "$dir" in "${TMPDIR:-/tmp}"/cl*) rm -rf "$dir" ;; esac
			rm -f "$f"
			echo "removed run ${id#cl} (owner $owner gone)"
		done
		echo "$n stale namespaces removed"
		;;
	help | -h | --help) cl_usage ;;
	*) cl_usage >&2; exit 2 ;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	cl_main "$@"
fi
