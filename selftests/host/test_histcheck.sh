#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# truth-histcheck, the per-key version check the cluster tests rely on, on
# small hand-made histories: each rule must catch its violation, and what
# linearizability allows (concurrent reads either side of a write, reads of
# a write whose outcome is unknown, nil before the first write) must pass.
# A checker that passes everything would make the cluster tests worthless.
set -u
cd "$(dirname "$0")/../.."
. selftests/lib/tap.sh

chk=build/selftests/tools/truth-histcheck
tap_plan 12
if [ ! -x "$chk" ]; then
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do tap_skip "histcheck case $i" "$chk not built (make build)"; done
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect NAME WANT_RC: the history on stdin, the checker's exit status
expect() {
	cat >"$tmp/h"
	out=$("$chk" "$tmp/h" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/# /'
	if [ "$rc" = "$2" ]; then tap_ok "$1"; else tap_fail "$1 (exit $rc, want $2)"; fi
}

# columns: client op key version invoke complete result
expect "a clean sequential history passes" 0 <<'EOF'
0 write k1 1 10 20 ok
1 read k1 1 30 40 ok
0 write k1 2 50 60 ok
1 read k1 2 70 80 ok
EOF

expect "nil before any write passes" 0 <<'EOF'
1 read k1 nil 1 5 ok
0 write k1 1 10 20 ok
EOF

expect "reads concurrent with a write may see either version" 0 <<'EOF'
0 write k1 1 10 20 ok
0 write k1 2 30 60 ok
1 read k1 1 35 40 ok
2 read k1 2 35 45 ok
EOF

expect "stale: older than a write acknowledged before the read" 1 <<'EOF'
0 write k1 1 10 20 ok
0 write k1 2 30 40 ok
1 read k1 1 50 60 ok
EOF

expect "lost write: nil after an acknowledged write" 1 <<'EOF'
0 write k1 1 10 20 ok
1 read k1 nil 30 40 ok
EOF

expect "phantom: a version never written" 1 <<'EOF'
0 write k1 1 10 20 ok
1 read k1 7 30 40 ok
EOF

expect "phantom: a version whose write began after the read ended" 1 <<'EOF'
1 read k1 1 5 8 ok
0 write k1 1 10 20 ok
EOF

expect "phantom: a version whose write definitely failed" 1 <<'EOF'
0 write k1 1 10 20 fail
1 read k1 1 30 40 ok
EOF

expect "an unknown write may be seen, or not" 0 <<'EOF'
0 write k1 1 10 20 unknown
1 read k1 1 30 40 ok
2 read k1 1 50 60 ok
EOF

expect "going back in time: a read older than one that ended before it" 1 <<'EOF'
0 write k1 1 10 100 unknown
0 write k1 2 110 200 unknown
1 read k1 2 120 130 ok
2 read k1 1 140 150 ok
EOF

expect "keys are independent" 0 <<'EOF'
0 write k1 5 10 20 ok
1 write k2 1 10 20 ok
2 read k2 1 30 40 ok
2 read k1 5 30 40 ok
EOF

expect "a malformed line is refused (exit 2), not ignored" 2 <<'EOF'
0 write k1 1 10 20 ok
0 frobnicate k1 1 10 20 ok
EOF
tap_done
