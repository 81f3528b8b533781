#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh: boot Debian's 6.12 cloud kernel under QEMU (TCG: no KVM here) with an
# initramfs holding busybox, ip/tc/bpftool, the kernel modules the tests need
# and this project's tree at /truth, run a command inside, stream its output
# and exit with the guest's real status.  truth.ko is only ever loaded here,
# never on the host.
#
#   scripts/vm.sh [options] -- CMD [ARG...]   run CMD (in /truth) and power off
#   scripts/vm.sh --shell                     interactive shell on the console
#
# Options:
#   --timeout S   kill the guest after S seconds (default $VM_TIMEOUT or 900)
#   --disk IMG    attach IMG as virtio-blk /dev/vda, mounted at /mnt/disk
#                 (created as a 256 MiB ext4 image if it does not exist);
#                 for tests that need a real fdatasync
#   --mem MIB     guest memory (default 2048)      --smp N   CPUs (default 2)
#
# After CMD the guest scans the whole kernel log for BUG, WARNING, Oops,
# general protection faults, refcount, kmemleak and lockdep reports; any of
# them fails the run and is printed.  The guest reports its status on the
# console as "TRUTH-VM-EXIT rc=N"; no such line (a crash, a panic, a hang
# killed at the timeout) is a failure too.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build"
timeout_s=${VM_TIMEOUT:-900}
disk=
mem=2048
smp=2
shell=0

while [ $# -gt 0 ]; do
	case "$1" in
	--timeout) timeout_s=$2; shift 2 ;;
	--disk) disk=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--shell) shell=1; shift ;;
	--) shift; break ;;
	-h|--help) sed -n '3,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
done
if [ "$shell" = 0 ] && [ $# -eq 0 ]; then
	echo "vm: no command given (use --shell for an interactive guest)" >&2
	exit 2
fi

krel=$("$top/scripts/kver.sh")
kernel="/boot/vmlinuz-$krel"
moddir="/lib/modules/$krel"
[ -r "$kernel" ] || { echo "vm: $kernel missing: run scripts/deps.sh" >&2; exit 1; }
[ -f "$top/kmod/truth.ko" ] || { echo "vm: kmod/truth.ko not built: run make" >&2; exit 1; }

# Kernel modules the tests need from Debian's image, loaded in dependency
# order at boot.  truth.ko itself is not among them: tests load it.
vm_modules="veth bridge sch_ingress sch_netem sch_prio sch_htb sch_tbf cls_bpf
	cls_u32 cls_matchall act_bpf act_mirred act_gact virtio_blk tun dummy"

# A private work directory per run, so that runs can overlap (two test
# layers, two developers in one tree); the last console log is kept.
mkdir -p "$build/vm"
work=$(mktemp -d "$build/vm/run.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/sbin,etc,proc,sys,dev,tmp,run,mnt/disk,root,lib/modules}

# copy FILE [DEST]: a host file and every shared library it needs.
copy_with_libs() {
	local f=$1 dest=${2:-$1} lib
	mkdir -p "$root$(dirname "$dest")"
	cp -L "$f" "$root$dest"
	copy_libs "$f"
}

# copy_libs FILE: the shared libraries (and loader) FILE needs; nothing for a
# static binary or a script, for which ldd prints no path.
copy_libs() {
	local lib
	{ ldd "$1" 2>/dev/null || true; } | { grep -oE '/[^ ]+' || true; } | while read -r lib; do
		[ -e "$root$lib" ] || { mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; }
	done
}

copy_with_libs /bin/busybox /bin/busybox
# /bin/sh is dash, not busybox: Debian's static busybox prefers its own
# applets over PATH, which would run its small `ip` instead of iproute2's.
copy_with_libs /bin/dash /bin/sh
for b in ip tc bpftool genl ss redis-cli bash; do
	p=$(command -v "$b" || true)
	[ -n "$p" ] && copy_with_libs "$p" "/usr/local/sbin/$b"
done

# modules, decompressed (busybox insmod does not read .ko.xz)
: >"$root/etc/truth-modules"
for m in $vm_modules; do
	modprobe -S "$krel" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
	rel=${ko#/lib/modules/$krel/}
	out="$root/lib/modules/$krel/${rel%.xz}"
	mkdir -p "$(dirname "$out")"
	case "$ko" in
	*.xz) xz -dc "$ko" >"$out" ;;
	*.zst) zstd -qdc "$ko" >"$out" ;;
	*) cp "$ko" "$out" ;;
	esac
	echo "/lib/modules/$krel/${rel%.xz}" >>"$root/etc/truth-modules"
done

# the project: build products, the module, scripts and shell tests
mkdir -p "$root/truth/kmod"
cp "$top/kmod/truth.ko" "$root/truth/kmod/"
(cd "$top" && find build -path build/vm -prune -o -path build/fresh -prune -o \( -type f ! -name '*.d' ! -name '*.a' \) -print |
	cpio -pdm --quiet "$root/truth")
(cd "$top" && find scripts selftests -type f \( -name '*.sh' -o -name '*.py' \) | cpio -pdm --quiet "$root/truth")
mkdir -p "$root/truth/build"
find "$root/truth/build" -type f -perm -u+x | while read -r f; do
	copy_libs "$f"
done

cat >"$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat >"$root/etc/group" <<'GR'
root:x:0:
nogroup:x:65534:
GR

if [ "$shell" = 1 ]; then
	printf '%s\n' 'echo "truth VM: /truth holds the project; truth.ko is /truth/kmod/truth.ko; poweroff -f to leave"' \
		'cd /truth' 'setsid cttyhack sh' >"$root/etc/truth-cmd"
else
	# the command, quoted for the guest's shell
	{
		printf 'cd /truth\n'
		printf '%q ' "$@" | sed 's/ $//'
		printf '\n'
	} >"$root/etc/truth-cmd"
fi

cat >"$root/init" <<'INIT'
#!/bin/sh
/bin/busybox --install -s
export PATH=/usr/local/sbin:/truth/build:/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root TMPDIR=/tmp TRUTH_VM=1 TRUTH_DMESG_CHECK=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
hostname truth-vm
ip link set lo up
while read -r m; do
	insmod "$m" 2>/dev/null || echo "vm: insmod $m failed"
done </etc/truth-modules
if [ -b /dev/vda ]; then
	mount -t ext4 /dev/vda /mnt/disk || echo "vm: could not mount /dev/vda"
fi
echo "TRUTH-VM-BOOTED kernel $(uname -r), $(nproc) CPUs"
sh /etc/truth-cmd
rc=$?
# The whole kernel log, once more: a problem outside any single test (at
# unload, in a command that is not a test runner) fails the run too.
pattern='BUG:|WARNING:|Oops|general protection|refcount_t:|kmemleak|possible circular locking|possible recursive locking|lockdep|inconsistent lock state|suspicious RCU usage|KASAN|UBSAN|blocked for more than|Kernel panic|stack-protector|list_add corruption|list_del corruption'
if dmesg | grep -E "$pattern" >/dev/null; then
	echo "not ok - vm: the kernel log reports a problem:"
	dmesg | sed 's/^/#   dmesg: /' | tail -n 120
	echo "# truth-layer vm-kernel-log: pass 0 fail 1 skip 0"
	[ "$rc" -ne 0 ] || rc=1
else
	echo "ok - vm: kernel log clean after the run"
	echo "# truth-layer vm-kernel-log: pass 1 fail 0 skip 0"
fi
[ -b /dev/vda ] && { sync; umount /mnt/disk 2>/dev/null; }
echo "TRUTH-VM-EXIT rc=$rc"
poweroff -f
INIT
chmod +x "$root/init"

initrd="$work/initramfs.cpio"
(cd "$root" && find . | cpio -o -H newc --quiet >"$initrd")

qemu_disk=()
if [ -n "$disk" ]; then
	if [ ! -f "$disk" ]; then
		truncate -s 256M "$disk"
		mkfs.ext4 -q -F "$disk"
	fi
	qemu_disk=(-drive "file=$disk,if=virtio,format=raw")
fi

append="console=ttyS0 loglevel=1 panic=-1 rdinit=/init"
qemu=(qemu-system-x86_64 -accel tcg -cpu max -m "$mem" -smp "$smp" -nodefaults
	-no-reboot -display none -kernel "$kernel" -initrd "$initrd"
	-append "$append" "${qemu_disk[@]}")

if [ "$shell" = 1 ]; then
	"${qemu[@]}" -serial mon:stdio
	exit
fi

log="$work/console.log"
start=$(date +%s)
# A kernel that dies before our /init prints TRUTH-VM-BOOTED ran none of our
# code (seen once: an int3 oops in sched_init_debug while TCG patched jump
# labels); boot once more rather than fail a test that never started.
for attempt in 1 2; do
	set +e
	timeout -k 10 "$timeout_s" "${qemu[@]}" -serial stdio </dev/null | tr -d '\r' | tee "$log"
	qrc=${PIPESTATUS[0]}
	set -e
	[ "$qrc" = 124 ] || [ "$qrc" = 137 ] || grep -q '^TRUTH-VM-BOOTED' "$log" || [ "$attempt" = 2 ] && break
	cp "$log" "$build/vm/console.early-death.log"
	echo "# vm: the kernel died before /init ran (not our code); booting again"
done
elapsed=$(( $(date +%s) - start ))
cp "$log" "$build/vm/console.log"
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "not ok - vm: guest did not finish within ${timeout_s} s and was killed (hang?)"
	echo "# truth-layer vm-harness: pass 0 fail 1 skip 0"
	exit 1
fi
rc=$(sed -n 's/^TRUTH-VM-EXIT rc=\([0-9]*\)$/\1/p' "$log" | tail -n1)
if [ -z "$rc" ]; then
	echo "not ok - vm: guest stopped without reporting a status (qemu exit $qrc, kernel panic or crash?)"
	echo "# truth-layer vm-harness: pass 0 fail 1 skip 0"
	exit 1
fi
echo "# vm: guest finished in ${elapsed} s with status $rc"
exit "$rc"
