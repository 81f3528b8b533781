#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run-tests.sh LAYER DIR|FILE...
#
# Run every test program in DIRs (executables named test_*, plus test_*.sh
# shell tests) and every FILE named, pass their TAP output through, and
# count it.  Runs on the host
# and, with busybox sh, inside the VM.
#
# Counting: each top-level "ok N" line is a pass ("ok N ... # SKIP" a skip),
# each "not ok N" a failure.  A program that exits non-zero without printing
# a failing line, or prints no result at all, counts as one failure: a crash
# or a silent test is never a pass.
#
# With TRUTH_DMESG_CHECK=1 (set in the VM) the kernel log is read after every
# program; any BUG, WARNING, Oops, general protection fault, refcount,
# kmemleak, lockdep, KASAN/UBSAN or hung-task report counts as a failure of
# that program and is printed.
#
# Time limit: every program runs in a process group of its own and has
# TRUTH_TEST_TIMEOUT seconds (default 600; 0 means no limit).  A program
# asks for another limit with a line "# truth-timeout: N" among the first 20
# lines of a shell test, or, for a C test, with TRUTH_TEST_TIMEOUT(N) from
# selftests/lib/truth_test.h, which puts the string "truth-timeout: N" in
# the binary.  At the limit the whole group gets SIGTERM (so a shell test's
# cleanup trap still runs: tap.sh turns SIGTERM into exit), then SIGKILL
# after TRUTH_TEST_GRACE seconds (default 10) if anything of it is left; the
# program counts as one failure, printed as
#   not ok N NAME # timed out after S s
#
# The last line is the layer's total, which scripts/check.sh adds up:
#   # truth-layer LAYER: pass P fail F skip S
set -u

layer=$1
shift
pass=0
fail=0
skip=0
tmp=${TMPDIR:-/tmp}/truth-run.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

dmesg_pattern='BUG:|WARNING:|Oops|general protection|refcount_t:|kmemleak|possible circular locking|possible recursive locking|lockdep|inconsistent lock state|suspicious RCU usage|KASAN|UBSAN|blocked for more than|Kernel panic|stack-protector|list_add corruption|list_del corruption'

dmesg_lines() { dmesg 2>/dev/null | wc -l; }

# Shell tests run with sh by its full path:
# the VM's setsid is busybox's, which would run a bare "sh" as its own ash
# applet (Debian's static busybox prefers its applets), and that ash would
# take busybox's small "ip" over iproute2's.
shell=$(command -v sh)

default_limit=${TRUTH_TEST_TIMEOUT:-600}
grace=${TRUTH_TEST_GRACE:-10}
case "$default_limit$grace" in
*[!0-9]*)
	echo "run-tests: TRUTH_TEST_TIMEOUT and TRUTH_TEST_GRACE are whole seconds" >&2
	exit 2 ;;
esac

# time_limit FILE: the program's own limit if it asks for one, else the default
time_limit() {
	case "$1" in
	*.sh) own=$(head -n 20 "$1" | sed -n 's/^# truth-timeout: *\([0-9][0-9]*\) *$/\1/p' | head -n 1) ;;
	*) own=$(LC_ALL=C tr -c '0-9a-z: -' '\n' <"$1" | sed -n 's/^truth-timeout: \([0-9][0-9]*\)$/\1/p' | head -n 1) ;;
	esac
	[ "$default_limit" -eq 0 ] && own=0
	echo "${own:-$default_limit}"
}

# The runner itself stopped (Ctrl-C, SIGTERM from a CI job): the program
# runs in a session of its own, out of reach of the terminal's signals, so
# pass the stop on to its group the same way, then go.
cur_pid=""
dog=""
on_stop() {
	if [ -n "$cur_pid" ]; then
		kill -TERM -"$cur_pid" 2>/dev/null
		(sleep "$grace"; kill -KILL -"$cur_pid" 2>/dev/null) &
		wait "$cur_pid" 2>/dev/null
	fi
	[ -n "$dog" ] && kill "$dog" 2>/dev/null
	echo "# truth-layer $layer: stopped by a signal in ${name:-no program}"
	exit "$1"
}
trap 'on_stop 130' INT
trap 'on_stop 143' TERM
trap 'on_stop 129' HUP

# run_limited LIMIT CMD...: CMD in a process group of its own (setsid), its
# output in $tmp/out, its status in rc; $tmp/timedout exists if the watchdog
# had to stop it.  The watchdog sleeps in steps of a second so that killing
# it when CMD ends early leaves at most a one-second sleep behind.
run_limited() {
	limit=$1
	shift
	rm -f "$tmp/timedout"
	setsid "$@" >"$tmp/out" 2>&1 </dev/null &
	pid=$!
	cur_pid=$pid
	dog=
	if [ "$limit" -gt 0 ]; then
		(
			i=0
			while [ $i -lt "$limit" ]; do sleep 1; i=$((i + 1)); done
			: >"$tmp/timedout"
			kill -TERM -"$pid" 2>/dev/null
			i=0
			while [ $i -lt "$grace" ] && kill -0 -"$pid" 2>/dev/null; do
				sleep 1
				i=$((i + 1))
			done
			kill -KILL -"$pid" 2>/dev/null
		) &
		dog=$!
	fi
	wait "$pid"
	rc=$?
	# a trapped signal ends the wait early: on_stop() takes over and exits
	[ -n "$dog" ] || { cur_pid=""; return 0; }
	if [ -e "$tmp/timedout" ]; then
		# let the watchdog finish: what the program left running in its
		# group still gets the grace period and then SIGKILL
		wait "$dog"
	else
		kill "$dog" 2>/dev/null
		wait "$dog" 2>/dev/null
	fi
	cur_pid=""
	dog=""
	return 0
}

run_one() {
	t=$1
	name=$(basename "$t")
	echo "# ---- $layer: $name"
	if [ "${TRUTH_DMESG_CHECK:-0}" = 1 ]; then
		before=$(dmesg_lines)
	fi
	start=$(date +%s)
	limit=$(time_limit "$t")
	case "$t" in
	*.sh) run_limited "$limit" "$shell" "$t" ;;
	*) run_limited "$limit" "$t" ;;
	esac
	cat "$tmp/out"
	# strip carriage returns; count only top-level TAP result lines
	p=$(tr -d '\r' <"$tmp/out" | grep -E '^ok [0-9]+' | grep -vc '# SKIP')
	s=$(tr -d '\r' <"$tmp/out" | grep -E '^ok [0-9]+' | grep -c '# SKIP')
	f=$(tr -d '\r' <"$tmp/out" | grep -cE '^not ok [0-9]+')
	if [ -e "$tmp/timedout" ]; then
		echo "not ok $((p + s + f + 1)) $name # timed out after $limit s"
		f=$((f + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc but reported no failing test"
		f=1
	fi
	if [ $((p + s + f)) -eq 0 ]; then
		echo "not ok - $name printed no TAP result"
		f=1
	fi
	if [ "${TRUTH_DMESG_CHECK:-0}" = 1 ]; then
		dmesg 2>/dev/null | tail -n +$((before + 1)) >"$tmp/dmesg"
		if grep -E "$dmesg_pattern" "$tmp/dmesg" >/dev/null; then
			echo "not ok - $name: kernel log reports a problem:"
			sed 's/^/#   dmesg: /' "$tmp/dmesg" | head -n 80
			f=$((f + 1))
		fi
	fi
	echo "# ---- $layer: $name: pass $p fail $f skip $s ($(( $(date +%s) - start )) s)"
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + s))
}

found=0
for d in "$@"; do
	if [ -f "$d" ]; then
		found=$((found + 1))
		run_one "$d"
		continue
	fi
	[ -d "$d" ] || continue
	for t in "$d"/test_*; do
		[ -e "$t" ] || continue
		case "$t" in
		*.c|*.d|*.o) continue ;;
		esac
		[ -x "$t" ] || case "$t" in *.sh) ;; *) continue ;; esac
		found=$((found + 1))
		run_one "$t"
	done
done

if [ "$found" -eq 0 ]; then
	echo "not ok - $layer: no test programs found in $*"
	fail=$((fail + 1))
fi
echo "# truth-layer $layer: pass $pass fail $fail skip $skip"
[ "$fail" -eq 0 ]
