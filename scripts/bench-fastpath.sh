#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench-fastpath.sh: in the VM, commit-advance throughput and CPU per commit
# with ACKs counted in the kernel (tc + truth.ko's kfuncs) against the same
# ACKs delivered over a socket to a user-space counter; prints a table and
# the ratio (selftests/tools/bench_fastpath.c).  A benchmark, not a test:
# under TCG the absolute figures are slow, the ratio is the point.
#
#   scripts/bench-fastpath.sh [ACKS]      (make bench-fastpath, ACKS=N)
set -eu
cd "$(dirname "$0")/.."
acks=${1:-${ACKS:-20000}}
case "$acks" in
''|*[!0-9]*) echo "bench-fastpath: ACKS must be a number, not '$acks'" >&2; exit 2 ;;
esac
[ -x build/selftests/tools/bench_fastpath ] || { echo "bench-fastpath: run make first" >&2; exit 1; }
exec scripts/vm.sh -- /truth/build/selftests/tools/bench_fastpath "$acks"
