# SPDX-License-Identifier: GPL-2.0
# Three truthd processes on loopback, for the host shell tests that run a
# real cluster without namespaces (test_truthd_cluster.sh, _coord.sh,
# _clock.sh).  Source it after tap.sh:
#
#   truthd_init coord 24000      # $dir, ports, key file, cleanup on exit
#   truthd_need_redis 11         # no redis-cli: SKIP the 11 cases, exit 0
#   for i in 1 2 3; do truthd_conf $i <<CONF
#   election_timeout_ms = 300    # keys of this test only, added to the
#   CONF                         # common ones (ids, addresses, key_file)
#   done
#   truthd_start 1 2 3           # $pid1..$pid3; logs in $dir/log1..3
#   L=$(leader)
#   truthd_stop 1 2 3 || tap_diag "$truthd_exits"
#
# Node i's client port is $(cport i) = base + i, its peer port
# $(pport i) = base + 5 + i; base is picked from the PID (above the port
# given to truthd_init) so that parallel runs do not collide.

TRUTHD=${TRUTHD:-$(dirname "$0")/../../build/truthd}
TRUTHCTL=${TRUTHCTL:-$(dirname "$0")/../../build/truthctl}
pid1="" pid2="" pid3=""

cport() { echo $((base + $1)); }
pport() { echo $((base + 5 + $1)); }

# the nodes still running, for cleanup
truthd_pids() { echo $pid1 $pid2 $pid3; }

truthd_cleanup() {
	for p in $(truthd_pids); do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$dir"
}

# truthd_init NAME PORT: temp dir /tmp/truthd-NAME-*, ports, the group key
truthd_init() {
	base=$(($2 + ($$ % 2000) * 10))
	dir=$(mktemp -d "/tmp/truthd-$1-XXXXXX")
	trap truthd_cleanup EXIT
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/key"
	chmod 600 "$dir/key"
}

# truthd_need_redis N: without redis-cli every one of the N cases is a SKIP
truthd_need_redis() {
	command -v redis-cli >/dev/null && return 0
	for _i in $(seq "$1"); do tap_skip "case $_i" "redis-cli not installed (scripts/deps.sh)"; done
	exit 0
}

# truthd_conf I: $dir/nI.conf, the keys every node needs, then stdin
truthd_conf() {
	cat >"$dir/n$1.conf" <<CONF
node_id = $1
group_id = 1
data_dir = $dir/d$1
peer_listen = 127.0.0.1:$(pport $1)
peer = 1 127.0.0.1:$(pport 1)
peer = 2 127.0.0.1:$(pport 2)
peer = 3 127.0.0.1:$(pport 3)
client_listen = 127.0.0.1:$(cport $1)
key_file = $dir/key
CONF
	cat >>"$dir/n$1.conf"
}

# truthd_start I...: start nodes I... in the background, $pidI each
truthd_start() {
	for _i in "$@"; do
		"$TRUTHD" --config "$dir/n$_i.conf" 2>>"$dir/log$_i" &
		eval "pid$_i=$!"
	done
}

# truthd_stop I...: SIGTERM to nodes I..., wait for each; 0 if every one
# exited 0; "node I exit RC, ..." in $truthd_exits
truthd_stop() {
	for _i in "$@"; do eval "kill -TERM \$pid$_i"; done
	truthd_exits=""
	_rc=0
	for _i in "$@"; do
		eval "wait \$pid$_i"
		_r=$?
		eval "pid$_i="
		truthd_exits="${truthd_exits:+$truthd_exits, }node $_i exit $_r"
		[ $_r = 0 ] || _rc=1
	done
	return $_rc
}

# the one running node reporting role:leader (waits up to 10 s)
leader() {
	for _t in $(seq 50); do
		_l=""
		_n=0
		for _i in 1 2 3; do
			if redis-cli -p "$(cport $_i)" INFO truth 2>/dev/null | grep -q '^role:leader'; then
				_l=$_i
				_n=$((_n + 1))
			fi
		done
		if [ "$_n" = 1 ]; then
			echo "$_l"
			return 0
		fi
		sleep 0.2
	done
	return 1
}
