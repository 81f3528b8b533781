#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: the main job.  Boots the VM (Debian's 6.12 kernel under QEMU),
# loads truth.ko there, shows it working and powers the VM off.  Nothing is
# loaded into the host's kernel.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
echo "truth demo: booting a VM with Debian's $(scripts/kver.sh) kernel under QEMU (software emulation, ~5 s)..."
scripts/vm.sh --timeout "${VM_TIMEOUT:-300}" -- sh scripts/demo-guest.sh 2>&1 |
	grep -vE '^(TRUTH-VM-|# truth-layer |\[ *[0-9.]+\] reboot)'
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] && echo "demo: done, VM powered off." || echo "demo: FAILED (status $rc); full console log: build/vm/console.log"
exit "$rc"
