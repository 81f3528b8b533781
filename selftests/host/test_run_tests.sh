#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Host test of scripts/run-tests.sh, the counter every layer's totals come
# from: passes, failures, skips, a crash with no failing line, a program that
# prints nothing, and an empty directory must each be counted as documented;
# a program that overruns its time limit is stopped, process group and all,
# its cleanup trap runs, and it counts as one failure.
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh

d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT

mk() { # mk NAME BODY: an executable shell test program
	printf '#!/bin/sh\n%s\n' "$2" >"$d/$1/test_$1"
	chmod +x "$d/$1/test_$1"
}

# totals DIR: the runner's closing line for DIR
totals() { scripts/run-tests.sh t "$1" 2>&1 | tail -n 1; }

tap_plan 17

mkdir "$d/pass"; mk pass 'echo "ok 1 a"; echo "ok 2 b"; echo "ok 3 c # SKIP no device"'
r=$(totals "$d/pass")
[ "$r" = "# truth-layer t: pass 2 fail 0 skip 1" ] && tap_ok "passes and skips counted" ||
	tap_fail "passes and skips counted (got: $r)"

mkdir "$d/fail"; mk fail 'echo "ok 1 a"; echo "not ok 2 b"; exit 1'
r=$(totals "$d/fail")
[ "$r" = "# truth-layer t: pass 1 fail 1 skip 0" ] && tap_ok "a failing line counted once" ||
	tap_fail "a failing line counted once (got: $r)"

mkdir "$d/crash"; mk crash 'echo "ok 1 a"; kill -SEGV $$'
r=$(totals "$d/crash")
[ "$r" = "# truth-layer t: pass 1 fail 1 skip 0" ] && tap_ok "a crash after passing lines is a failure" ||
	tap_fail "a crash after passing lines is a failure (got: $r)"

mkdir "$d/silent"; mk silent 'echo hello'
r=$(totals "$d/silent")
[ "$r" = "# truth-layer t: pass 0 fail 1 skip 0" ] && tap_ok "a program with no TAP result is a failure" ||
	tap_fail "a program with no TAP result is a failure (got: $r)"

mkdir "$d/nested"; mk nested 'echo "ok 1 a"; echo "    not ok 1 nested subtest"; echo "#   not ok 7 quoted"'
r=$(totals "$d/nested")
[ "$r" = "# truth-layer t: pass 1 fail 0 skip 0" ] && tap_ok "indented and quoted lines are not counted" ||
	tap_fail "indented and quoted lines are not counted (got: $r)"

mkdir "$d/empty"
r=$(totals "$d/empty")
[ "$r" = "# truth-layer t: pass 0 fail 1 skip 0" ] && tap_ok "an empty layer is a failure" ||
	tap_fail "an empty layer is a failure (got: $r)"

if scripts/run-tests.sh t "$d/fail" >/dev/null 2>&1; then
	tap_fail "the runner exits non-zero on a failure"
else
	tap_ok "the runner exits non-zero on a failure"
fi

# ---- time limits
top=$(pwd)
# gone PIDFILE: the process whose pid is in PIDFILE is dead: no longer there
# or a zombie (a killed orphan waits for init to reap it), within 5 s
gone() {
	[ -s "$1" ] || return 1
	_pid=$(cat "$1")
	for _i in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$_pid" 2>/dev/null || return 0
		[ "$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' /proc/"$_pid"/status 2>/dev/null)" = Z ] && return 0
		sleep 0.5
	done
	return 1
}

# A shell test that hangs, with its own limit in its header, a background
# child, a grandchild that ignores SIGTERM, and a cleanup trap.  (The header
# is printed here so that this file's own lines do not carry it.)
mkdir "$d/hang"
mk hang "$(printf '# truth-%s: 2\n' timeout)
. $top/selftests/lib/tap.sh
trap 'echo cleaned >$d/hang/cleaned' EXIT
sleep 1000 & echo \$! >$d/hang/child
sh -c 'trap \"\" TERM; echo \$\$ >$d/hang/stubborn; while :; do sleep 1; done' &
echo 'ok 1 started'
sleep 1000"
mv "$d/hang/test_hang" "$d/hang/test_hang.sh"
t0=$(date +%s)
TRUTH_TEST_GRACE=2 scripts/run-tests.sh t "$d/hang" >"$d/hang.out" 2>&1
el=$(( $(date +%s) - t0 ))
r=$(tail -n 1 "$d/hang.out")
[ "$r" = "# truth-layer t: pass 1 fail 1 skip 0" ] && tap_ok "a hung program counts as one failure" ||
	tap_fail "a hung program counts as one failure (got: $r)"
grep -qx 'not ok 2 test_hang.sh # timed out after 2 s' "$d/hang.out" &&
	tap_ok "the timeout is reported as a TAP failure naming the limit" ||
	{ sed 's/^/# /' "$d/hang.out"; tap_fail "the timeout is reported as a TAP failure naming the limit"; }
[ "$el" -le 30 ] && tap_ok "the header's limit was applied ($el s)" ||
	tap_fail "the header's limit was applied ($el s, limit 2 s + 2 s grace)"
[ -s "$d/hang/cleaned" ] && tap_ok "SIGTERM first: the test's cleanup trap ran" ||
	tap_fail "SIGTERM first: the test's cleanup trap ran"
gone "$d/hang/child" && gone "$d/hang/stubborn" &&
	tap_ok "the whole process group is gone, SIGKILL for what ignored SIGTERM" ||
	tap_fail "the whole process group is gone (child $(cat "$d/hang/child" 2>/dev/null), stubborn $(cat "$d/hang/stubborn" 2>/dev/null))"

# TRUTH_TEST_TIMEOUT sets the default for programs without a header
mkdir "$d/slow"; mk slow 'echo "ok 1 a"; exec sleep 1000'
r=$(TRUTH_TEST_TIMEOUT=1 TRUTH_TEST_GRACE=1 scripts/run-tests.sh t "$d/slow" 2>&1 | grep -E 'timed out|^# truth-layer')
exp=$(printf 'not ok 2 test_slow # timed out after 1 s\n# truth-layer t: pass 1 fail 1 skip 0')
[ "$r" = "$exp" ] && tap_ok "TRUTH_TEST_TIMEOUT sets the default limit" ||
	tap_fail "TRUTH_TEST_TIMEOUT sets the default limit (got: $r)"

# a program that finishes in time is neither failed nor made to wait
t0=$(date +%s)
r=$(TRUTH_TEST_TIMEOUT=20 scripts/run-tests.sh t "$d/pass" 2>&1 | tail -n 1)
el=$(( $(date +%s) - t0 ))
[ "$r" = "# truth-layer t: pass 2 fail 0 skip 1" ] && [ "$el" -lt 15 ] &&
	tap_ok "a program within its limit is unaffected ($el s)" ||
	tap_fail "a program within its limit is unaffected (got: $r after $el s)"

# a C program's limit: TRUTH_TEST_TIMEOUT(N) from selftests/lib/truth_test.h
if command -v cc >/dev/null 2>&1; then
	mkdir "$d/cprog"
	printf '%s\n' '#include <stdio.h>' '#include <unistd.h>' '#include "truth_test.h"' \
		'TRUTH_TEST_TIMEOUT(1);' \
		'int main(void) { puts("ok 1 a"); fflush(stdout); for (;;) pause(); }' >"$d/cprog.c"
	if cc -I selftests/lib -o "$d/cprog/test_cprog" "$d/cprog.c" 2>"$d/cc.err"; then
		r=$(TRUTH_TEST_GRACE=1 scripts/run-tests.sh t "$d/cprog" 2>&1 | grep -E 'timed out|^# truth-layer')
		exp=$(printf 'not ok 2 test_cprog # timed out after 1 s\n# truth-layer t: pass 1 fail 1 skip 0')
		[ "$r" = "$exp" ] && tap_ok "TRUTH_TEST_TIMEOUT(N) sets a C program's limit" ||
			tap_fail "TRUTH_TEST_TIMEOUT(N) sets a C program's limit (got: $r)"
	else
		sed 's/^/# /' "$d/cc.err"
		tap_fail "TRUTH_TEST_TIMEOUT(N) sets a C program's limit (the fixture does not compile)"
	fi
else
	tap_skip "TRUTH_TEST_TIMEOUT(N) sets a C program's limit" "no C compiler"
fi

# the runner stopped by SIGTERM passes it on to the program's group
mkdir "$d/stop"
mk stop ". $top/selftests/lib/tap.sh
trap 'echo cleaned >$d/stop/cleaned' EXIT
sleep 1000 & echo \$! >$d/stop/child
echo 'ok 1 started'
sleep 1000"
scripts/run-tests.sh t "$d/stop" >"$d/stop.out" 2>&1 &
runner=$!
for _i in $(seq 100); do [ -s "$d/stop/child" ] && break; sleep 0.1; done
kill -TERM "$runner"
wait "$runner"
rc=$?
if [ "$rc" = 143 ] && [ -s "$d/stop/cleaned" ] && gone "$d/stop/child" &&
   grep -q 'stopped by a signal in test_stop' "$d/stop.out"; then
	tap_ok "SIGTERM to the runner stops the program's group, its cleanup runs"
else
	sed 's/^/# /' "$d/stop.out"
	tap_fail "SIGTERM to the runner stops the program's group (exit $rc)"
fi

if TRUTH_TEST_TIMEOUT=soon scripts/run-tests.sh t "$d/pass" >/dev/null 2>&1; then
	tap_fail "a malformed TRUTH_TEST_TIMEOUT is refused"
else
	tap_ok "a malformed TRUTH_TEST_TIMEOUT is refused"
fi

tap_done
