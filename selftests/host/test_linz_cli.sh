#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# truth-linz from the shell, as a cluster test would call it: exit 0 for a
# linearizable history, 1 with an explanation for a violation, 2 for bad
# input or a timeout (and then never "linearizable"); --now for recorders.
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh

linz=build/selftests/tools/truth-linz
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT

# rc EXPECTED NAME ARGS...: one case on the exit status (output as diagnostics)
rc() {
	_want=$1 _name=$2
	shift 2
	_out=$("$linz" "$@" 2>&1)
	_got=$?
	printf '%s\n' "$_out" | head -n 20 | sed 's/^/# /'
	if [ "$_got" -eq "$_want" ]; then tap_ok "$_name"; else tap_fail "$_name (exit $_got, want $_want)"; fi
}

tap_plan 11

if [ ! -x "$linz" ]; then
	for i in 1 2 3 4 5 6 7 8 9 10 11; do tap_skip "case $i" "$linz not built (make selftests)"; done
	exit 0
fi

# a history written the way a shell client would
t0=$("$linz" --now); t1=$("$linz" --now); t2=$("$linz" --now); t3=$("$linz" --now)
{
	echo "# written by test_linz_cli.sh"
	echo "c1 set k a $t0 $t1 OK ok"
	echo "c2 get k $t2 $t3 a ok"
} >"$d/good"
rc 0 "linearizable history: exit 0" --model kv "$d/good"

{ cat "$d/good"; echo "c3 get k $((t3 + 10)) $((t3 + 20)) nil ok"; } >"$d/lost"
rc 1 "lost write: exit 1" "$d/lost"
"$linz" "$d/lost" | grep -q "read returned nil but k held a" &&
	tap_ok "the violation is explained" || tap_fail "the violation is explained"

[ "$t0" -lt "$t1" ] && [ "$t1" -lt "$t3" ] && tap_ok "--now is monotonic" ||
	tap_fail "--now is monotonic ($t0 $t1 $t3)"

echo "c1 frob k 0 1 - ok" >"$d/bad"
rc 2 "unknown op: exit 2" "$d/bad"
rc 2 "missing file: exit 2" "$d/nonexistent"
rc 2 "unknown model: exit 2" --model queue "$d/good"
rc 2 "bad timeout: exit 2" --timeout soon "$d/good"

# the op of another model is an error, not ignored
rc 2 "set in a counter history: exit 2" --model counter "$d/good"

# an undecidable-in-time history: unknown, exit 2, never "linearizable"
i=0
while [ $i -lt 60 ]; do echo "c$i write x $i $i - - unknown"; i=$((i + 1)); done >"$d/hard"
echo "r read x 1000 1010 never ok" >>"$d/hard"
out=$("$linz" --model register --timeout 0.3 "$d/hard")
st=$?
echo "# $out"
[ $st -eq 2 ] && echo "$out" | grep -q "^unknown:" && tap_ok "timeout: unknown, exit 2" ||
	tap_fail "timeout: unknown, exit 2 (exit $st)"

# stdin
"$linz" - <"$d/good" >/dev/null && tap_ok "history on stdin" || tap_fail "history on stdin"
tap_done
