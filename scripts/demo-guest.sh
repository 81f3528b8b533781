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

say "Quorum counting in the kernel: a 3-member group led by node 1 (majority: 2 of 3)"
ip netns add demo-q
q() { ip netns exec demo-q truthctl "$@"; }
ip netns exec demo-q truthctl events --count 2 >/tmp/demo-events 2>&1 &
evpid=$!
sleep 0.5
q group add 7 self 1 members 1,2,3 role leader term 1 term-start 1 name demo && ok "group 7 created" || bad "group add"
q group ack 7 term 1 index 10 && ok "leader's own WAL durable up to 10: commit stays 0 (1 of 3)" || bad "local ack"
q group ack 7 term 1 index 8 node 2 && ok "node 2 acked 8: a quorum (1 and 2) holds 8" || bad "ack node 2"
q group ack 7 term 1 index 10 node 3 && ok "node 3 acked 10: a quorum holds 10" || bad "ack node 3"
commit=$(q show --json | tr ',' '\n' | sed -n 's/.*"commit":\([0-9]*\).*/\1/p' | head -n1)
[ "$commit" = 10 ] && ok "commit index in the kernel: $commit" || bad "commit index is '$commit', expected 10"
q show | sed 's/^/    /'
wait "$evpid" 2>/dev/null
echo "    events the agent would have received (one per advance, not one per ack):"
sed 's/^/      /' /tmp/demo-events
ip netns del demo-q

say "Unloading truth.ko"
rmmod truth && ok "rmmod truth" || bad "rmmod truth"
if truthctl version >/dev/null 2>&1; then
	bad "the family still answers after unload"
else
	ok "the family is gone: $(truthctl version 2>&1)"
fi

printf '\n%-34s %s\n' "summary" ""
printf '%-34s %s\n' "kernel" "$(uname -r)"
printf '%-34s %s\n' "module load/netlink/quorum/unload" "$([ $fails -eq 0 ] && echo ok || echo "$fails step(s) failed")"
printf '%-34s %s s\n' "time in the guest" "$(( $(date +%s) - t0 ))"
printf '%-34s %s\n' "next" "the 3-node cluster demo grows here as the agent lands"
[ "$fails" -eq 0 ]
