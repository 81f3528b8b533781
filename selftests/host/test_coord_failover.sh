#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Coordination recipes across failures, on a 3-node netns cluster
# (scripts/cluster.sh), all through truthctl / libtruth:
#
# * election fail-over: three `truthctl elect E cK --ttl 2000` campaigners
#   and an observer (`truthctl elect E --observe`); the leading campaigner
#   is killed -9 (its session expires): exactly one new leader, with a
#   larger token, and the observer sees it; then the leading campaigner
#   and the Raft leader are killed together: the last campaigner leads.
# * barrier: three of four enter and stay blocked (checked three times
#   over 2 s), the fourth enters and all four are released; a double
#   barrier's leave blocks until the last participant leaves.
# * a prefix watch (`truthctl watch w/ --prefix --from REV`) while two
#   writers put new keys and the Raft leader is killed -9: every write
#   acknowledged is delivered, every unknown one is delivered iff a final
#   read finds it, each exactly once, in revision order; a catch-up watch
#   from the same revision afterwards gives the same events.
# * exactly-once INCR: three truth-incr processes (libtruth, one INCR always
#   in flight) while the leader is killed -9 three times: the values returned are distinct, the final value is
#   the increments acknowledged plus at most the unknown ones, and
#   truth-linz's counter model accepts the history.
#
# Root needed (namespaces); SKIPs otherwise.  TRUTHD=... another build.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh

N_CASES=7
tap_plan $N_CASES
T=$PWD/build/truthctl
LINZ=$PWD/build/selftests/tools/truth-linz
why=
[ "$(id -u)" = 0 ] || why="needs root (network namespaces)"
for b in build/truthd "$T" "$LINZ" build/selftests/tools/truth-incr; do
	[ -n "$why" ] || [ -x "$b" ] || why="$b not built (make build)"
done
command -v redis-cli >/dev/null || why=${why:-"redis-cli not installed (scripts/deps.sh)"}
if [ -n "$why" ]; then
	for i in $(seq $N_CASES); do tap_skip "case $i" "$why"; done
	exit 0
fi

CL_ID=ct$(printf '%04x' $((RANDOM ^ $$ & 0xffff)))
CL_FSYNC=on	# the fsync widens the window where an entry is replicated but not answered
. scripts/cluster.sh
cl_init 3 || { tap_fail "cluster set up"; exit 1; }
D=$CL_DIR
cl_start_all
if ! L=$(cl_wait_leader 30); then
	for i in $(seq $N_CASES); do tap_fail "case $i: no leader"; done
	CL_KEEP=1
	exit 1
fi
TRUTH_ADDR=$(cl_addrs | tr ' ' ,)
export TRUTH_ADDR T LINZ D
now() { "$LINZ" --now; }
fail() { tap_fail "$1"; CL_KEEP=1; }
# how many of the files given are not empty
nonempty() { local f n=0; for f in "$@"; do [ -s "$f" ] && n=$((n + 1)); done; echo $n; }
token_of() { sed -n 's/.*"token":\([0-9]*\).*/\1/p' "$1"; }

# ------------------------------------------------ election fail-over
cl_bg "$T" elect E --observe >"$D/obs" 2>"$D/obs.err"
for c in 1 2 3; do
	cl_bg "$T" elect E "c$c" --ttl 2000 --json >"$D/e$c" 2>"$D/e$c.err"
	eval "ep$c=$CL_LAST_BG"
done
cl_wait_for 20 eval '[ "$(nonempty "$D"/e[123])" -ge 1 ]'
sleep 1
n1=$(nonempty "$D"/e[123])
first=$(for c in 1 2 3; do [ -s "$D/e$c" ] && echo $c; done | head -1)
k1=$(token_of "$D/e$first")
eval "kill -KILL \$ep$first; wait \$ep$first" 2>/dev/null
t0=$(now)
cl_wait_for 20 eval '[ "$(nonempty "$D"/e[123])" -ge 2 ]'
took=$(( ($(now) - t0) / 1000000 ))
sleep 1
n2=$(nonempty "$D"/e[123])
second=$(for c in 1 2 3; do [ "$c" != "$first" ] && [ -s "$D/e$c" ] && echo $c; done | head -1)
k2=$(token_of "$D/e${second:-0}" 2>/dev/null)
cl_wait_for 5 eval 'tail -1 "$D/obs" | grep -q " c$second\$"'
obs2=$(tail -1 "$D/obs")
if [ "$n1" = 1 ] && [ "$n2" = 2 ] && [ -n "$k1" ] && [ "${k2:-0}" -gt "$k1" ] &&
   [ "$took" -ge 1000 ] && echo "$obs2" | grep -q " put __truth/elect/E c$second\$"; then
	tap_ok "election: c$first led (token $k1), killed -9; after $took ms (its 2 s session) exactly one new leader c$second, token $k2; observer: $obs2"
else
	tap_diag "leaders before/after: $n1/$n2; tokens $k1 -> $k2 after $took ms; observer: $(tr '\n' '|' <"$D/obs")"
	fail "election fail-over on a campaigner's death"
fi

# the leading campaigner and the Raft leader together
last=$((6 - first - second))
L=$(cl_wait_leader 10)
eval "kill -KILL \$ep$second; wait \$ep$second" 2>/dev/null
cl_kill "$L"
t0=$(now)
cl_wait_for 30 eval '[ -s "$D/e$last" ]'
took=$(( ($(now) - t0) / 1000000 ))
k3=$(token_of "$D/e$last")
cl_wait_for 10 eval 'tail -1 "$D/obs" | grep -q " c$last\$"'
obs3=$(tail -1 "$D/obs")
cl_start "$L"
sleep 1
n3=$(nonempty "$D"/e[123])
puts=$(grep -c ' put __truth/elect/E ' "$D/obs")
revs_ok=$(awk '{ if ($1 + 0 <= last) bad = 1; last = $1 + 0 } END { print !bad }' "$D/obs")
if [ "$n3" = 3 ] && [ "${k3:-0}" -gt "${k2:-0}" ] && echo "$obs3" | grep -q " put __truth/elect/E c$last\$" &&
   [ "$puts" = 3 ] && [ "$revs_ok" = 1 ]; then
	tap_ok "election across a Raft leader kill -9 (node $L) and c$second's: c$last leads after $took ms, token $k3 > $k2; observer saw 3 leaders in revision order across the leader change"
else
	tap_diag "tokens $k1 $k2 $k3; leaders $n3; observer: $(tr '\n' '|' <"$D/obs") $(cat "$D/obs.err")"
	fail "election across a Raft leader kill"
fi
eval "kill -TERM \$ep$last"

# ------------------------------------------------ barriers
for c in 1 2 3; do
	cl_bg "$T" barrier B 4 >"$D/b$c" 2>&1
	eval "bp$c=$CL_LAST_BG"
done
early=""
for s in 0.7 0.7 0.7; do
	sleep "$s"
	early="$early$(nonempty "$D"/b[123])"
	for c in 1 2 3; do eval "kill -0 \$bp$c" 2>/dev/null || early="${early}x"; done
done
cl_exec timeout 20 "$T" barrier B 4 >"$D/b4" 2>&1
for c in 1 2 3; do eval "cl_wait_pid \$bp$c 10"; done
rel=$(cat "$D"/b[1234] | grep -c 'barrier B: 4 entered')
if [ "$early" = 000 ] && [ "$rel" = 4 ]; then
	tap_ok "barrier of 4: three entered and stayed blocked (checked 3 times over 2 s), the fourth released all 4"
else
	tap_diag "released early (per check): $early; released: $rel: $(cat "$D"/b[1234] | tr '\n' '|')"
	fail "barrier releases exactly at the N-th"
fi

for c in 1 2 3; do
	cl_bg "$T" barrier DB 4 --leave >"$D/d$c" 2>&1
	eval "dp$c=$CL_LAST_BG"
done
sleep 2
L=$(cl_wait_leader 10)
s=$(cl_cli "$L" SESSION.OPEN 20000 | sed 's/.*) //')
ent=$(cl_cli "$L" BARRIER.ENTER DB 4 "$s")
sleep 1.5
lef=$(nonempty "$D"/d[123])
lv=$(cl_cli "$L" BARRIER.LEAVE DB "$s")
for c in 1 2 3; do eval "cl_wait_pid \$dp$c 10"; done
done3=$(cat "$D"/d[123] | grep -c 'barrier DB: 4 entered, all left')
if [ "$ent" = "(integer) 4" ] && [ "$lef" = 0 ] && [ "$lv" = OK ] && [ "$done3" = 3 ]; then
	tap_ok "double barrier of 4: all entered, three blocked in leave until the fourth left, then all three done"
else
	tap_diag "enter '$ent' left-early $lef leave '$lv' done $done3: $(cat "$D"/d[123] | tr '\n' '|')"
	fail "double barrier leave"
fi

# ------------------------------------------------ watch across a leader change
L=$(cl_wait_leader 10)
r0=$(( $(cl_cli "$L" INFO coordination | sed -n 's/^sm_revision://p' | tr -dc 0-9) + 1 ))
cl_bg "$T" watch w/ --prefix --from "$r0" >"$D/watch" 2>"$D/watch.err"
wp=$CL_LAST_BG
cat >"$D/write.sh" <<'EOF'
i=0
while [ ! -e "$D/wstop" ]; do
	i=$((i + 1))
	if timeout 20 "$T" put "w/$1-$i" "v$i" >/dev/null 2>&1; then
		echo "ok w/$1-$i"
	else
		echo "unknown w/$1-$i"
	fi
done >"$D/writes.$1"
EOF
cl_bg bash "$D/write.sh" a
wa=$CL_LAST_BG
cl_bg bash "$D/write.sh" b
wb=$CL_LAST_BG
sleep 2
cl_kill "$L"
L2=$(cl_wait_leader 15 "$L")
sleep 2
cl_start "$L"
sleep 1
touch "$D/wstop"
cl_wait_pid "$wa" 30
cl_wait_pid "$wb" 30
cl_wait_caught_up 15
# the unknown ones: present or not, a final read says
: >"$D/want"
cat "$D"/writes.[ab] | while read -r st k; do
	if [ "$st" = ok ] || [ -n "$(cl_exec "$T" get "$k" 2>/dev/null)" ]; then echo "$k"; fi
done | sort >"$D/want"
acked=$(cat "$D"/writes.[ab] | grep -c '^ok')
unk=$(cat "$D"/writes.[ab] | grep -c '^unknown')
nw=$(wc -l <"$D/want")
cl_wait_for 20 eval '[ "$(wc -l <"$D/watch")" -ge "$nw" ]'
sleep 0.5
kill "$wp"
cl_wait_pid "$wp" 5
awk '{ print $3 }' "$D/watch" | sort >"$D/got"
dups=$(uniq -d "$D/got" | wc -l)
order=$(awk '{ if ($1 + 0 <= last) bad = 1; last = $1 + 0 } END { print !bad }' "$D/watch")
nget=$(wc -l <"$D/watch")
if [ "$dups" = 0 ] && [ "$order" = 1 ] && cmp -s "$D/want" "$D/got" && [ "$acked" -ge 10 ]; then
	tap_ok "watch w/ across leader $L's kill -9 (new leader $L2): $nget changes delivered once each in revision order = $acked acknowledged + $((nw - acked)) of $unk unknown found by a final read"
else
	tap_diag "want $nw (acked $acked, unknown $unk), got $nget, dups $dups, order $order"
	diff "$D/want" "$D/got" | head -10 | sed 's/^/# /'
	fail "watch across a leader change"
fi
cl_exec timeout 20 "$T" watch w/ --prefix --from "$r0" --count "$nget" >"$D/watch2" 2>&1
if [ "$nget" -gt 0 ] && cmp -s "$D/watch" "$D/watch2"; then
	tap_ok "a catch-up watch from revision $r0 afterwards gives the same $nget events"
else
	diff "$D/watch" "$D/watch2" | head -6 | sed 's/^/# /'
	fail "catch-up watch equals the live one"
fi

# ------------------------------------------------ exactly-once INCR
# truth-incr keeps one INCR outstanding per process (libtruth, same id and
# sequence on every retry): a kill most likely catches one replicated but
# not answered, which the new leader applies and the retry must not apply again
INCR=$PWD/build/selftests/tools/truth-incr
ips=()
for c in 1 2 3; do
	cl_bg "$INCR" "i$c" ctr 11000 >"$D/incr.i$c" 2>"$D/incr.err$c"
	ips+=("$CL_LAST_BG")
done
for round in 1 2 3; do
	sleep 1.5
	L=$(cl_wait_leader 15)
	cl_kill "$L"
	cl_wait_leader 15 "$L" >/dev/null
	cl_start "$L"
done
for p in "${ips[@]}"; do cl_wait_pid "$p" 40; done
cl_wait_leader 15 >/dev/null
ti=$(now)
final=$(cl_exec "$T" get ctr)
echo "reader read ctr $ti $(now) $final ok" >"$D/incr.read"
cat "$D"/incr.i* "$D/incr.read" >"$D/incr.hist"
ok=$(cat "$D"/incr.i* | grep -c ' ok$')
unk=$(cat "$D"/incr.i* | grep -c ' unknown$')
dupv=$(cat "$D"/incr.i* | awk '$NF == "ok" { print $(NF - 1) }' | sort -n | uniq -d | wc -l)
if out=$("$LINZ" --model counter "$D/incr.hist" 2>&1) && [ "$dupv" = 0 ] && [ -n "$final" ] &&
   [ "$final" -ge "$ok" ] && [ "$final" -le $((ok + unk)) ] && [ "$ok" -ge 20 ]; then
	tap_ok "exactly-once incr across 3 leader kills: final $final = $ok acknowledged + $((final - ok)) of $unk unknown applied; values distinct; truth-linz counter: $(echo "$out" | head -1)"
else
	echo "$out" | head -12 | sed 's/^/# /'
	fail "exactly-once incr: final '$final', $ok acknowledged, $unk unknown, $dupv duplicate values"
fi
tap_done
