#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh [all|host|vm|harness|torture]: run test layers and add them up.
#
#   host     programs in build/selftests/host and shell tests in
#            selftests/host, on this machine, no privileges needed
#   vm       the VM kselftests: boots the VM (scripts/vm.sh), runs
#            build/selftests/vm and selftests/vm inside with truth.ko, checks
#            the kernel log after each program and after the run
#   harness  self-tests of the VM harness (selftests/harness): a failing test,
#            a kernel WARNING, a panic and a hang in the VM must each fail
#   torture  the host layer with SEEDS randomised seeds (default 100000), then
#            the fault campaign with RUNS runs of DURATION s (scripts/torture.sh)
#   (all also runs a short fault campaign, layer "campaign")
#
# Every layer prints TAP and one line "# truth-layer NAME: pass P fail F skip S";
# this script sums those lines and ends with "N passed, N failed[, N skipped]".
# It exits non-zero if anything failed, if a layer did not report (the VM
# could not run, for instance) or if no test ran at all.  The full log is in
# build/check.log.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
what=${1:-all}
log=build/check.log
mkdir -p build
: >"$log"

layers=()
run_layer() {
	local name=$1
	shift
	layers+=("$name")
	echo "# ==== layer $name: $*" | tee -a "$log"
	local start=$(date +%s)
	"$@" 2>&1 | tee -a "$log"
	local rc=${PIPESTATUS[0]}
	echo "# ==== layer $name: exit $rc after $(( $(date +%s) - start )) s" | tee -a "$log"
	echo "# truth-exit $name $rc" >>"$log"
}

case "$what" in
all|host)
	run_layer host scripts/run-tests.sh host build/selftests/host selftests/host ;;
esac
case "$what" in
all|vm)
	run_layer vm scripts/vm.sh --timeout "${VM_TIMEOUT:-900}" -- \
		scripts/run-tests.sh vm build/selftests/vm selftests/vm ;;
esac
case "$what" in
all|harness)
	run_layer harness scripts/run-tests.sh harness selftests/harness ;;
esac
# the fault campaign (Documentation/torture.md): a short one in every
# `make check` (21 randomised runs: 16 on the host in user-space mode, 4 in
# the VM with the fast path, and the power cut), longer ones in `make torture`
case "$what" in
all)
	run_layer campaign scripts/torture.sh campaign --runs 16 --vm-runs 4 --duration 10 ;;
esac
case "$what" in
torture)
	# many seeds per program: the per-program limit of run-tests.sh is raised
	if [ "${SEEDS:-100000}" != 0 ]; then
		TRUTH_SEEDS=${SEEDS:-100000} TRUTH_TEST_TIMEOUT=${TRUTH_TEST_TIMEOUT:-14400} \
			run_layer torture scripts/run-tests.sh torture build/selftests/host
	fi
	if [ "${RUNS:-10}" != 0 ]; then
		run_layer campaign scripts/torture.sh campaign --runs "${RUNS:-10}" \
			--vm-runs "${RUNS:-10}" --duration "${DURATION:-30}"
	fi ;;
esac
[ ${#layers[@]} -gt 0 ] || { echo "check: unknown layer '$what'" >&2; exit 2; }

# Sum the layers' own totals, then add a failure for every layer that exited
# non-zero without reporting one (a guest that never booted, a crash).
awk -v layers="${layers[*]}" '
	/^# truth-layer [^:]+: pass [0-9]+ fail [0-9]+ skip [0-9]+$/ {
		name = $3; sub(/:$/, "", name)
		p[name] += $5; f[name] += $7; s[name] += $9; seen[name] = 1
		order[++n] = name
	}
	/^# truth-exit / { ex[$3] = $4 }
	END {
		split(layers, want, " ")
		printf "\n%-18s %6s %6s %6s\n", "layer", "passed", "failed", "skipped"
		for (i = 1; i <= n; i++) {
			name = order[i]
			if (printed[name]++) continue
			printf "%-18s %6d %6d %6d\n", name, p[name], f[name], s[name]
			P += p[name]; F += f[name]; S += s[name]
		}
		for (i in want) {
			l = want[i]
			if (!seen[l]) {
				printf "%-18s did not report a result (exit %s): counted as a failure\n", l, ex[l]
				F++
			} else if (ex[l] != 0 && f[l] == 0) {
				# the VM layer reports per-layer lines under other names
				bad = 1
				for (name in seen) if (index(name, l) == 1 && f[name] > 0) bad = 0
				if (bad) { printf "%-18s exited %s with no failing test: counted as a failure\n", l, ex[l]; F++ }
			}
		}
		if (P + F == 0) { print "no test ran: counted as a failure"; F = 1 }
		printf "\n%d passed, %d failed%s\n", P, F, (S ? ", " S " skipped" : "")
		exit F > 0
	}' "$log" | tee build/check.summary
exit "${PIPESTATUS[0]}"
