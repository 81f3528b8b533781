#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# truth-timeout: 1500
#
# Self-tests of the VM harness: the harness must turn every kind of failure
# inside the guest into a failing exit status on the host, and a good run
# into success.  Each case boots the VM once (about 5 s under TCG).
#
#   case                       guest does                       expect
#   passing test               fixture_pass                     exit 0
#   failing test               fixture_fail (1 ok, 1 not ok)    exit != 0, "fail 1"
#   WARNING in dmesg           fixture_warn.sh (passes, warns)  exit != 0, WARNING shown
#   kernel panic               sysrq crash                      exit != 0, "without reporting"
#   hang                       sleep past --timeout             exit != 0, "did not finish"
#   disk (two boots)           write+fsync on /mnt/disk, reboot  the data is there
#
# The guest's own output is shown indented as diagnostics so its TAP lines
# are not counted as this test's.
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh

fix=build/selftests/harness/fixtures
out=${TMPDIR:-/tmp}/truth-harness.$$
img=${TMPDIR:-/tmp}/truth-harness-disk.$$.img
trap 'rm -f "$out" "$img"' EXIT

# vm ARGS...: boot the VM, keep its output in $out, return its exit status
vm() {
	scripts/vm.sh "$@" >"$out" 2>&1
	rc=$?
	sed 's/^/#   | /' "$out"
	return $rc
}

tap_plan 6

if vm --timeout 120 -- scripts/run-tests.sh fixture "$fix/fixture_pass" &&
   grep -q '^# truth-layer fixture: pass 1 fail 0 skip 0$' "$out"; then
	tap_ok "a passing test in the VM exits 0"
else
	tap_fail "a passing test in the VM exits 0"
fi

if vm --timeout 120 -- scripts/run-tests.sh fixture "$fix/fixture_fail"; then
	tap_fail "a failing test in the VM makes the run fail (it exited 0)"
elif grep -q '^# truth-layer fixture: pass 1 fail 1 skip 0$' "$out"; then
	tap_ok "a failing test in the VM makes the run fail"
else
	tap_fail "a failing test in the VM makes the run fail (totals not as expected)"
fi

if vm --timeout 120 -- scripts/run-tests.sh fixture selftests/harness/fixtures/fixture_warn.sh; then
	tap_fail "a WARNING in dmesg makes the run fail (it exited 0)"
elif grep -q 'kernel log reports a problem' "$out" &&
     grep -q 'WARNING: CPU: 0 PID: .* injected by the harness self-test' "$out"; then
	tap_ok "a WARNING in dmesg makes the run fail and is printed"
else
	tap_fail "a WARNING in dmesg makes the run fail and is printed (not printed)"
fi

if vm --timeout 120 -- sh -c 'echo c >/proc/sysrq-trigger'; then
	tap_fail "a kernel panic makes the run fail (it exited 0)"
elif grep -q 'stopped without reporting a status' "$out"; then
	tap_ok "a kernel panic makes the run fail"
else
	tap_fail "a kernel panic makes the run fail (no clear message)"
fi

if vm --timeout 25 -- sleep 3600; then
	tap_fail "a hanging guest is killed at the timeout (it exited 0)"
elif grep -q 'did not finish within 25 s' "$out"; then
	tap_ok "a hanging guest is killed at the timeout with a clear message"
else
	tap_fail "a hanging guest is killed at the timeout (no clear message)"
fi

# A disk image survives the guest: write and fdatasync in one boot, read in
# the next (the VM is a new one; only the image carries the data).
tag="truth-disk-$(date +%s%N)"
if vm --timeout 120 --disk "$img" -- sh -c "echo $tag >/mnt/disk/probe && sync /mnt/disk/probe" &&
   ! grep -q "^$tag\$" "$out" &&
   vm --timeout 120 --disk "$img" -- cat /mnt/disk/probe && grep -q "^$tag\$" "$out"; then
	tap_ok "a --disk image keeps fsynced data across boots"
else
	tap_fail "a --disk image keeps fsynced data across boots"
fi

tap_done
