#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The cluster harness itself (scripts/cluster.sh), without truthd: the
# namespaces, addresses, configs and key file it makes, that partitions cut
# exactly what they say, and that cleanup leaves nothing behind.  A partition
# that does not cut, or a heal that does not heal, would make the cluster
# tests pass for the wrong reason.
#
#            cl<ID>-hub: br0 (10.77.1.254)   br1
#              |      |      |
#             h1     h2     h3
#              |      |      |
#     cl<ID>-n1  cl<ID>-n2  cl<ID>-n3      10.77.1.1 .2 .3
#
# Needs root (network namespaces); SKIPs otherwise.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh
. scripts/cluster.sh

tap_plan 9
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
	for i in 1 2 3 4 5 6 7 8 9; do tap_skip "harness case $i" "needs root and iproute2 for network namespaces"; done
	exit 0
fi

# ping from node $1 to node $2's address; three tries, as a port that just
# came up may drop the first ARP exchange
reach() {
	local i
	for i in 1 2 3; do
		cl_node_exec "$1" ping -c 1 -W 1 "$(cl_ip "$2")" >/dev/null 2>&1 && return 0
	done
	return 1
}
# the negative: one try is enough (a cut link never answers)
is_cut() { ! cl_node_exec "$1" ping -c 1 -W 1 "$(cl_ip "$2")" >/dev/null 2>&1; }
hub_is_cut() { ! cl_exec ping -c 1 -W 1 "$(cl_ip "$1")" >/dev/null 2>&1; }
hub_reach() {
	local i
	for i in 1 2 3; do
		cl_exec ping -c 1 -W 1 "$(cl_ip "$1")" >/dev/null 2>&1 && return 0
	done
	return 1
}

CL_ID=t$(printf '%04x' $((RANDOM)))
if cl_init 3 && [ "$(ip netns list | grep -c "^cl$CL_ID-")" = 4 ]; then
	tap_ok "cl_init 3: hub and three node namespaces (cl$CL_ID-*)"
else
	tap_fail "cl_init 3: hub and three node namespaces"
fi
dir=$CL_DIR

mode=$(stat -c %a "$CL_DIR/group.key" 2>/dev/null)
if [ "$mode" = 600 ] && grep -qE '^[0-9a-f]{64}$' "$CL_DIR/group.key"; then
	tap_ok "key file: 64 hex digits, mode 0600"
else
	tap_fail "key file: 64 hex digits, mode 0600 (mode $mode: $(cat "$CL_DIR/group.key"))"
fi

c=$CL_DIR/n2/truthd.conf
if grep -qx 'node_id = 2' "$c" && [ "$(grep -c '^peer = ' "$c")" = 3 ] &&
   grep -qx 'peer_listen = 10.77.1.2:7411' "$c" && grep -qx 'client_listen = 10.77.1.2:6379' "$c" &&
   grep -qx 'fast_path = user' "$c" && grep -qx "key_file = $CL_DIR/group.key" "$c"; then
	tap_ok "node 2's config names itself, its three peers, its addresses and the key"
else
	sed 's/^/# /' "$c"
	tap_fail "node 2's config"
fi

if reach 1 2 && reach 2 3 && reach 3 1 && hub_reach 3; then
	tap_ok "every node reaches every other, and the clients' hub reaches them"
else
	tap_fail "full connectivity before any fault"
fi

cl_isolate 3
if reach 1 2 && is_cut 1 3 && is_cut 3 2 && hub_is_cut 3; then
	tap_ok "cl_isolate 3 cuts node 3 from nodes and clients, not 1 from 2"
else
	tap_fail "cl_isolate 3"
fi
cl_heal

cl_partition "2 3"
if reach 2 3 && is_cut 1 2 && is_cut 1 3 && hub_reach 1 &&
   hub_is_cut 2; then
	tap_ok "cl_partition '2 3': {2,3} talk, {1} and the clients are cut from them"
else
	tap_fail "cl_partition '2 3'"
fi

cl_heal
if reach 1 2 && reach 2 3 && reach 3 1; then
	tap_ok "cl_heal restores full connectivity"
else
	tap_fail "cl_heal"
fi

# a stand-in for truthd that notes its pid and becomes a sleep: cl_start
# must track that very process (not a subshell around it), or kill -9 and
# SIGSTOP would hit the wrong one and a "killed" leader would keep leading
stub=$CL_DIR/stub-truthd
printf '#!/bin/sh\necho $$ >"$(dirname "$2")/stub.pid"\nexec sleep 300\n' >"$stub"
chmod +x "$stub"
TRUTHD=$stub
cl_start 1
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$CL_DIR/n1/stub.pid" ] && break; sleep 0.1; done
real=$(cat "$CL_DIR/n1/stub.pid" 2>/dev/null)
tracked=${CL_PIDS[1]}
cl_pause 1
st=$(ps -o stat= -p "$tracked")
cl_resume 1
st2=$(ps -o stat= -p "$tracked")
cl_kill 1
if [ -n "$real" ] && [ "$real" = "$tracked" ] && ! kill -0 "$real" 2>/dev/null; then
	case "$st$st2" in
	T*S*) tap_ok "cl_start tracks the node's own pid; pause/resume/kill -9 act on it" ;;
	*) tap_fail "pause/resume: states '$st' then '$st2'" ;;
	esac
else
	tap_fail "cl_start tracked pid $tracked, the node is $real (alive after kill -9: $(kill -0 "$real" 2>/dev/null && echo yes || echo no))"
fi

cl_cleanup
if [ -z "$(ip netns list | grep "^cl$CL_ID-")" ] && [ ! -e "$dir" ]; then
	tap_ok "cleanup removes every namespace and the temp dir"
else
	tap_fail "cleanup left: $(ip netns list | grep "^cl$CL_ID-" | tr '\n' ' ') $(ls -d "$dir" 2>/dev/null)"
fi
tap_done
