# SPDX-License-Identifier: GPL-2.0
# Small TAP helpers for shell tests: each case is its own TAP line; a test
# never dies on the first failure.  Source it, call tap_plan N (or not), then
# tap_ok/tap_fail/tap_skip/tap_check per case and tap_done at the end.

# scripts/run-tests.sh stops a program that overruns its time limit with
# SIGTERM; dash runs no EXIT trap when a signal kills it, so turn the signal
# into an exit and let the test's "trap cleanup EXIT" remove what it made.
trap 'exit 143' TERM
trap 'exit 130' INT

tap_n=0
tap_failed=0

tap_plan() { echo "TAP version 13"; echo "1..$1"; }
tap_ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n $*"; }
tap_fail() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n $*"; }
tap_skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n $1 # SKIP $2"; }
tap_diag() { echo "# $*"; }

# tap_check NAME CMD...: one case, passes when CMD exits 0; its output is
# shown as diagnostics either way.
tap_check() {
	_name=$1
	shift
	if _out=$("$@" 2>&1); then
		[ -n "$_out" ] && printf '%s\n' "$_out" | sed 's/^/# /'
		tap_ok "$_name"
	else
		[ -n "$_out" ] && printf '%s\n' "$_out" | sed 's/^/# /'
		tap_fail "$_name"
	fi
}

tap_done() { [ "$tap_failed" -eq 0 ]; }
