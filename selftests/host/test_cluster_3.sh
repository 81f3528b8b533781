#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Three truthd processes, each in its own network namespace, user-space
# counting (fast_path = user), fsync on; clients in the hub namespace.  The
# cases (election, redis-cli, -MOVED, kill -9 of leader and followers,
# restarts, an isolated leader, SIGSTOP, no acknowledged write lost, reads
# linearizable per key) are in selftests/lib/cluster_cases.sh.
#
#                   cl<ID>-hub   clients (truth-load, redis-cli) 10.77.1.254
#                  br0 ------+------------+
#                   |        |            |
#                  h1       h2           h3          (br1: a partition's far side)
#                   |        |            |
#                 eth0     eth0         eth0
#            cl<ID>-n1  cl<ID>-n2    cl<ID>-n3
#            10.77.1.1  10.77.1.2    10.77.1.3      peers :7411 UDP, clients :6379
#
# Root needed (namespaces).  TRUTHD=... runs another build; TRUTH_SEED=...
# replays the workload's choices; on failure the logs and the history stay
# in the directory printed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh
. scripts/cluster.sh
. selftests/lib/cluster_cases.sh

cluster_cases_run 3
tap_done
