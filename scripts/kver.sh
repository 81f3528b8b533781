#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Print the kernel release (uname -r form) that Debian's
# linux-image-6.12-cloud-amd64 meta package points at, e.g. 6.12.N+deb12-cloud-amd64.
# TRUTH_KREL overrides it.
set -euo pipefail
if [ -n "${TRUTH_KREL:-}" ]; then echo "$TRUTH_KREL"; exit 0; fi
dep=$(dpkg-query -W -f='${Depends}' linux-image-6.12-cloud-amd64 2>/dev/null |
	tr ',' '\n' | sed -n 's/^ *linux-image-\([^ ]*\).*/\1/p' | grep -v unsigned | head -n1)
if [ -z "$dep" ]; then
	# fall back to the newest installed 6.12 cloud headers
	dep=$(ls -d /usr/src/linux-headers-6.12*-cloud-amd64 2>/dev/null | sort -V | tail -n1 | sed 's|.*/linux-headers-||')
fi
[ -n "$dep" ] || { echo "kver: linux-image-6.12-cloud-amd64 is not installed (run scripts/deps.sh)" >&2; exit 1; }
echo "$dep"
