#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Host test of scripts/run-tests.sh, the counter every layer's totals come
# from: passes, failures, skips, a crash with no failing line, a program that
# prints nothing, and an empty directory must each be counted as documented.
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

tap_plan 7

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

tap_done
