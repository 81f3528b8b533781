#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The demo's guest half (runs inside the VM as /truth/scripts/demo-guest.sh;
# also runs as root on a host where truth.ko is installed, with TRUTH_KO
# unset it uses `modprobe truth`).  Narrates what it does; exits non-zero if
# any step fails.
set -u
PATH=/truth/build:$PATH
step=0
fails=0
t0=$(date +%s)
say() { step=$((step + 1)); printf '\n[%d] %s\n' "$step" "$*"; }
ok() { printf '    ok: %s\n' "$*"; }
bad() { printf '    FAILED: %s\n' "$*"; fails=$((fails + 1)); }

say "Loading truth.ko into kernel $(uname -r)"
if [ -f "${TRUTH_KO:-/truth/kmod/truth.ko}" ]; then
	insmod "${TRUTH_KO:-/truth/kmod/truth.ko}" && ok "insmod ${TRUTH_KO:-/truth/kmod/truth.ko}" || bad "insmod"
else
	modprobe truth && ok "modprobe truth" || bad "modprobe truth"
fi
dmesg | grep 'truth' | tail -n 2 | sed 's/^/    kernel: /'
if [ -e /sys/kernel/btf/truth ]; then
	ok "module BTF registered (/sys/kernel/btf/truth, $(wc -c </sys/kernel/btf/truth) bytes): its kfuncs can be called from eBPF"
else
	bad "no /sys/kernel/btf/truth: kfuncs would be missing"
fi

say "Asking the module for its version over generic netlink (truthctl version)"
truthctl version | sed 's/^/    /' || bad "truthctl version"

say "The generic netlink family as the kernel lists it (genl ctrl get name truth)"
if command -v genl >/dev/null; then
	genl ctrl get name truth | sed 's/^/    /' || bad "genl ctrl get"
else
	echo "    (genl from iproute2 not available here)"
fi

say "Every network namespace gets its own instance (one node per namespace)"
ip netns add demo-n1 && ip netns add demo-n2 || bad "ip netns add"
for ns in demo-n1 demo-n2; do
	v=$(ip netns exec "$ns" truthctl version --json) && ok "$ns: $v" || bad "$ns: truthctl version"
done
ip netns del demo-n1
ip netns del demo-n2

say "Unloading truth.ko"
rmmod truth && ok "rmmod truth" || bad "rmmod truth"
if truthctl version >/dev/null 2>&1; then
	bad "the family still answers after unload"
else
	ok "the family is gone: $(truthctl version 2>&1)"
fi

printf '\n%-34s %s\n' "summary" ""
printf '%-34s %s\n' "kernel" "$(uname -r)"
printf '%-34s %s\n' "module load/version/unload" "$([ $fails -eq 0 ] && echo ok || echo "$fails step(s) failed")"
printf '%-34s %s s\n' "time in the guest" "$(( $(date +%s) - t0 ))"
printf '%-34s %s\n' "next" "the 3-node cluster demo grows here as the agent lands"
[ "$fails" -eq 0 ]
