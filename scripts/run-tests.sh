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

run_one() {
	t=$1
	name=$(basename "$t")
	echo "# ---- $layer: $name"
	if [ "${TRUTH_DMESG_CHECK:-0}" = 1 ]; then
		before=$(dmesg_lines)
	fi
	start=$(date +%s)
	case "$t" in
	*.sh) sh "$t" >"$tmp/out" 2>&1; rc=$? ;;
	*) "$t" >"$tmp/out" 2>&1; rc=$? ;;
	esac
	cat "$tmp/out"
	# strip carriage returns; count only top-level TAP result lines
	p=$(tr -d '\r' <"$tmp/out" | grep -E '^ok [0-9]+' | grep -vc '# SKIP')
	s=$(tr -d '\r' <"$tmp/out" | grep -E '^ok [0-9]+' | grep -c '# SKIP')
	f=$(tr -d '\r' <"$tmp/out" | grep -cE '^not ok [0-9]+')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
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
