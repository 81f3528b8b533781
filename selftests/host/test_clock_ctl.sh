#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# truthctl time against a live clockbound page: two truth-probe nodes on
# loopback with the real clocks (MONOTONIC_RAW local, REALTIME reference,
# anchors claiming 1 ms: they share this host's REALTIME, so the claim
# holds) publish node 1's bound in a page file; truthctl time reads it,
# in text and JSON, and the bound must contain the host's REALTIME read
# around the call.  Then the error cases: no page, a file that is not a
# page, a bad argument.  No root needed; nothing leaves loopback.
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh

tool=build/selftests/tools/truth-probe
ctl=build/truthctl
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

tap_plan 7
if [ ! -x "$tool" ] || [ ! -x "$ctl" ]; then
	for i in 1 2 3 4 5 6 7; do tap_skip "truthctl time $i" "build/ is not built"; done
	exit 0
fi

# two ports unlikely to be taken: derived from our pid
p1=$((20000 + $$ % 20000)) p2=$((20001 + $$ % 20000))
$tool --real --id 1 --listen 127.0.0.1:$p1 --peer 2=127.0.0.1:$p2 --poll-ms 20 \
	--anchor-ns 1000000 --duration-ms 6000 --page "$tmp/page" >"$tmp/n1.log" 2>&1 &
pids="$pids $!"
$tool --real --id 2 --listen 127.0.0.1:$p2 --peer 1=127.0.0.1:$p1 --poll-ms 20 \
	--anchor-ns 1000000 --duration-ms 6000 >"$tmp/n2.log" 2>&1 &
pids="$pids $!"
sleep 2

out=$($ctl time --page "$tmp/page")
printf '%s\n' "$out" | sed 's/^/# /'
case "$out" in *"status    synchronised"*"epsilon"*) tap_ok "time: text, synchronised" ;;
*) tap_fail "time: text, synchronised" ;; esac

before=$(date +%s%N)
js=$($ctl time --page "$tmp/page" --json)
after=$(date +%s%N)
echo "# $js"
val() { printf '%s\n' "$js" | sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p"; }
e=$(val earliest_ns) l=$(val latest_ns) s=$(val status) eps=$(val epsilon_ns)
if [ "$s" = synchronised ] && [ -n "$e" ] && [ -n "$l" ] && [ "$e" -le "$after" ] && [ "$l" -ge "$before" ]; then
	tap_ok "time --json: REALTIME inside [earliest, latest]"
else
	tap_fail "time --json: REALTIME ($before..$after) inside [$e, $l] ($s)"
fi
# anchors claim 1 ms: the bound is about that, never far wider
if [ -n "$eps" ] && [ "$eps" -ge 1000000 ] && [ "$eps" -lt 1500000 ]; then
	tap_ok "time --json: epsilon $eps ns within claim + path"
else
	tap_fail "time --json: epsilon ${eps:-none} ns within claim + path"
fi

wait $pids
pids=""
# the writer is gone: the page still gives a bound, aging
js=$($ctl time --page "$tmp/page" --json)
echo "# after the writer exited: $js"
case "$js" in *'"status":"synchronised"'*|*'"status":"free-running"'*) tap_ok "time: page outlives its writer" ;;
*) tap_fail "time: page outlives its writer" ;; esac

if err=$($ctl time --page "$tmp/none" 2>&1); then
	tap_fail "time: missing page is an error"
else
	echo "# $err"
	case "$err" in *"No such file or directory"*) tap_ok "time: missing page is an error" ;;
	*) tap_fail "time: missing page is an error" ;; esac
fi
head -c 4096 /dev/zero >"$tmp/zero"
if err=$($ctl time --page "$tmp/zero" 2>&1); then
	tap_fail "time: a file that is not a page is refused"
else
	echo "# $err"
	case "$err" in *"not a truth clockbound page"*) tap_ok "time: a file that is not a page is refused" ;;
	*) tap_fail "time: a file that is not a page is refused" ;; esac
fi
if $ctl time --bogus >/dev/null 2>&1; then tap_fail "time: bad argument refused"; else tap_ok "time: bad argument refused"; fi
tap_done
