# SPDX-License-Identifier: GPL-2.0
#
# truth: top-level build.  `make help` lists the targets.
#
# The kernel module is built with kbuild against KDIR (Debian's 6.12 cloud
# headers by default); everything else is plain user-space C built here into
# build/.  Generated files and the extracted kernel-source pieces (.cache/)
# are never committed.

KREL		?= $(shell scripts/kver.sh 2>/dev/null)
KDIR		?= /usr/src/linux-headers-$(KREL)
BUILD		:= build
CACHE		:= .cache
KSFT		:= $(CACHE)/linux-src/tools/testing/selftests
PREFIX		?= /usr/local
DESTDIR		?=

CC		?= gcc
CLANG		?= clang
BPFTOOL		?= bpftool
PKG_CONFIG	?= pkg-config

WARN		:= -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 \
		   -Wstrict-prototypes -Wmissing-prototypes -Werror=implicit-function-declaration
CFLAGS		?= -O2 -g
CFLAGS		+= -std=gnu11 $(WARN) -D_GNU_SOURCE \
		   -Iinclude -Iinclude/uapi -Iagent -I$(BUILD)
LIBNL_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags libnl-genl-3.0 2>/dev/null)
LIBNL_LIBS	:= $(shell $(PKG_CONFIG) --libs libnl-genl-3.0 2>/dev/null)
# selftests compile against the kselftest harness extracted by scripts/deps.sh
# (-isystem: the harness header is the kernel's, not ours to warn about; its
# macros define non-static functions and compare mixed signedness in test code)
KSFT_CFLAGS	:= -isystem $(KSFT) -Iselftests/lib -Wno-missing-prototypes -Wno-sign-compare

# ---------------------------------------------------------------- sources
# agent/<subsystem>/*.c: the agent's parts (raft/ the consensus core with no
# I/O, storage, transport, ...), one static library that truthd, truthctl and
# the host tests link; agent/ctl/ is truthctl itself, agent/truthd/ the
# daemon's main program
AGENT_SRCS	:= $(filter-out agent/ctl/% agent/truthd/%,$(wildcard agent/*/*.c))
AGENT_LIB	:= $(BUILD)/libtruthagent.a
CTL_SRCS	:= $(wildcard agent/ctl/*.c)
CTL_BIN		:= $(BUILD)/truthctl
AGENT_LIBS	:= -lm -lpthread -lb2
TRUTHD_SRCS	:= $(wildcard agent/truthd/*.c)
TRUTHD_BIN	:= $(BUILD)/truthd
# selftests/tools/NAME.c: test and benchmark tools (load generator, history
# checker), one program each, linked with the agent library and the host
# test support objects (selftests/host/lib/*.c)
TOOL_SRCS	:= $(wildcard selftests/tools/*.c)
TOOLS		:= $(patsubst selftests/tools/%.c,$(BUILD)/selftests/tools/%,$(TOOL_SRCS))
# host tests: each selftests/host/test_*.c is one TAP program; the files in
# selftests/host/lib/ are support code linked into all of them
HOST_LIB_SRCS	:= $(wildcard selftests/host/lib/*.c)
HOST_TEST_SRCS	:= $(wildcard selftests/host/test_*.c)
HOST_TESTS	:= $(patsubst selftests/host/%.c,$(BUILD)/selftests/host/%,$(HOST_TEST_SRCS))
# VM tests: selftests/vm/test_*.c, run inside the VM with truth.ko loaded
VM_TEST_SRCS	:= $(wildcard selftests/vm/test_*.c)
VM_TESTS	:= $(patsubst selftests/vm/%.c,$(BUILD)/selftests/vm/%,$(VM_TEST_SRCS))
# fixtures that the harness's own tests feed to the VM (meant to fail)
FIX_SRCS	:= $(wildcard selftests/harness/fixtures/*.c)
FIX_BINS	:= $(patsubst selftests/harness/fixtures/%.c,$(BUILD)/selftests/harness/fixtures/%,$(FIX_SRCS))

# eBPF: bpf/NAME.bpf.c -> build/bpf/NAME.bpf.o and the skeleton
# build/bpf/NAME.skel.h, against build/bpf/vmlinux.h dumped from the target
# kernel's BTF (KDIR's vmlinux), never committed
BPF_SRCS	:= $(wildcard bpf/*.bpf.c)
BPF_OBJS	:= $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_SKELS	:= $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.skel.h,$(BPF_SRCS))
VMLINUX_BTF	?= $(KDIR)/vmlinux
BPF_CFLAGS	:= -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -I$(BUILD)/bpf -Ibpf -Iinclude -Iinclude/uapi
LIBBPF_LIBS	:= $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null)

KMOD		:= kmod/truth.ko
KMOD_SRCS	:= $(wildcard kmod/*.c kmod/*.h kmod/Kbuild include/truth/*.h include/uapi/linux/*.h)

.PHONY: all build deps kmod bpf agent selftests check check-host check-vm check-harness \
	demo vm vm-shell sparse install dkms-install dkms-uninstall style torture bench bench-clock \
	bench-fastpath \
	clean help

# deps first, then the build in a fresh make: on a new machine the kernel
# release (KREL, hence KDIR and vmlinux) only exists once deps.sh has
# installed the packages, after this make has already read its variables.
all: deps
	@$(MAKE) --no-print-directory build

build: kmod bpf agent selftests

help:
	@echo 'truth: make targets'
	@echo '  all (default)  deps, truth.ko, agent binaries, bpf objects, selftests'
	@echo '  deps           install build/test packages (scripts/deps.sh, needs root once)'
	@echo '  kmod           kmod/truth.ko against KDIR=$(KDIR)'
	@echo '  bpf            eBPF objects and libbpf skeletons into build/bpf/'
	@echo '  agent          truthctl and the agent libraries into build/'
	@echo '  selftests      host and VM test programs into build/selftests/'
	@echo '  check          every test layer: host, VM kselftests, VM-harness self-tests'
	@echo '  check-host     host tests only (no root, no VM)'
	@echo '  check-vm       VM kselftests only'
	@echo '  demo           the main job: in the VM, a truthd cluster with the fast path (NODES=5)'
	@echo '  vm CMD="..."   boot the VM, run CMD inside, exit with its status'
	@echo '  vm-shell       boot the VM with an interactive shell (exit with poweroff -f)'
	@echo '  style          checkpatch.pl on kmod/ and include/ (STRICT=1: --strict)'
	@echo '  sparse         sparse over the module'
	@echo '  install        truthctl and truth.ko into DESTDIR/PREFIX and /lib/modules'
	@echo '  dkms-install   register, build and install truth.ko with DKMS'
	@echo '  torture        long randomised runs: Raft simulator (SEEDS=N), fault campaign (RUNS=N, DURATION=S)'
	@echo '  bench          benchmarks (tables of ratios against peers)'
	@echo '  bench-clock    clock-sync epsilon vs chrony in the VM (table with ratios)'
	@echo '  bench-fastpath in the VM: ACKs counted in the kernel vs a user-space counter (ACKS=N)'
	@echo '  clean          remove build products'
	@echo 'Variables: KDIR=<kernel build dir> (default Debian 6.12 cloud headers),'
	@echo '  W=1 (extra kernel warnings), VM_TIMEOUT=<s>, SEEDS=<n>, RUNS=<n>, DURATION=<s>'

deps:
	@scripts/deps.sh

# ---------------------------------------------------------------- module
kmod: $(KMOD)

$(KMOD): $(KMOD_SRCS) Kbuild
	@test -d "$(KDIR)" || { echo "KDIR=$(KDIR) not found: run scripts/deps.sh or set KDIR"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules
	@readelf -S $@ | grep -q '\.BTF' || { echo "$@ has no .BTF section: kfuncs would not register (pahole/vmlinux missing?)"; exit 1; }

# ---------------------------------------------------------------- eBPF
bpf: $(BPF_OBJS) $(BPF_SKELS)

$(BUILD)/bpf/vmlinux.h: $(VMLINUX_BTF)
	@mkdir -p $(dir $@)
	$(BPFTOOL) btf dump file $< format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(BUILD)/bpf/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp && mv $@.tmp $@

# ---------------------------------------------------------------- agent
agent: $(CTL_BIN) $(if $(AGENT_SRCS),$(AGENT_LIB)) $(if $(TRUTHD_SRCS),$(TRUTHD_BIN))

# agent code may include the bpf skeletons (the fast-path loader)
$(patsubst %.c,$(BUILD)/%.o,$(AGENT_SRCS) $(TRUTHD_SRCS)): | $(BPF_SKELS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LIBNL_CFLAGS) -MMD -MP -c $< -o $@

$(AGENT_LIB): $(patsubst %.c,$(BUILD)/%.o,$(AGENT_SRCS))
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(CTL_BIN): $(patsubst %.c,$(BUILD)/%.o,$(CTL_SRCS)) $(if $(AGENT_SRCS),$(AGENT_LIB))
	$(CC) $(CFLAGS) -o $@ $^ $(LIBNL_LIBS) $(AGENT_LIBS)

$(TRUTHD_BIN): $(patsubst %.c,$(BUILD)/%.o,$(TRUTHD_SRCS)) $(AGENT_LIB)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBNL_LIBS) $(LIBBPF_LIBS) $(AGENT_LIBS)

# ---------------------------------------------------------------- selftests
selftests: $(HOST_TESTS) $(VM_TESTS) $(FIX_BINS) $(TOOLS)

HOST_LIB_OBJS	:= $(patsubst %.c,$(BUILD)/%.o,$(HOST_LIB_SRCS))
# made only through pattern rules, so make would delete them as intermediates
# after each link and rebuild them all for the next one
.SECONDARY: $(HOST_LIB_OBJS)

# tools link the host test support code too (truth-linz is selftests/host/lib/linz*.c)
$(BUILD)/selftests/tools/%: selftests/tools/%.c $(HOST_LIB_OBJS) $(AGENT_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iselftests/lib -MMD -MP -o $@ $< $(HOST_LIB_OBJS) $(AGENT_LIB) $(LIBNL_LIBS) $(LIBBPF_LIBS) $(AGENT_LIBS)

$(BUILD)/selftests/host/lib/%.o: selftests/host/lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KSFT_CFLAGS) -MMD -MP -c $< -o $@

# (libnl too: the agent library's commit counter talks to truth.ko)
$(BUILD)/selftests/host/%: selftests/host/%.c $(HOST_LIB_OBJS) $(if $(AGENT_SRCS),$(AGENT_LIB))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KSFT_CFLAGS) -MMD -MP -o $@ $< $(HOST_LIB_OBJS) $(if $(AGENT_SRCS),$(AGENT_LIB)) $(LIBNL_LIBS) $(AGENT_LIBS)

$(BUILD)/selftests/vm/%: selftests/vm/%.c $(BPF_SKELS) $(AGENT_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KSFT_CFLAGS) $(LIBNL_CFLAGS) -I$(BUILD)/bpf -Ibpf -MMD -MP -o $@ $< $(AGENT_LIB) $(LIBNL_LIBS) $(LIBBPF_LIBS) $(AGENT_LIBS)

$(BUILD)/selftests/harness/fixtures/%: selftests/harness/fixtures/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KSFT_CFLAGS) -o $@ $<

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------- tests
# check: every layer; scripts/check.sh runs them and prints the closing
# "N passed, N failed" line.
check: all
	@scripts/check.sh all

check-host: all
	@scripts/check.sh host

check-vm: all
	@scripts/check.sh vm

check-harness: all
	@scripts/check.sh harness

# torture: the Raft simulator's randomised tests with SEEDS seeds (default
# 100000; SEEDS=0 skips them) and the fault campaign of real clusters with
# RUNS host runs and as many VM runs plus a power cut (default 10; RUNS=0
# skips it), DURATION s each (default 30); Documentation/torture.md
torture: all
	@SEEDS=$(or $(SEEDS),100000) RUNS=$(or $(RUNS),10) DURATION=$(or $(DURATION),30) \
		scripts/check.sh torture

bench: all
	@scripts/bench.sh

# truth's clock error bound against chrony's, in the VM (not a test)
bench-clock: all
	@scripts/bench-clock.sh

# ACKs counted in the kernel against a user-space counter, in the VM (not a test)
bench-fastpath: all
	@scripts/bench-fastpath.sh $(ACKS)

# only what the demo runs (the module, the eBPF objects, truthd, truthctl):
# the selftests are not needed for it, and building them takes minutes
demo: deps
	@$(MAKE) --no-print-directory kmod bpf agent
	@NODES=$(or $(NODES),3) scripts/demo.sh

vm: all
	@scripts/vm.sh -- $(or $(CMD),/truth/scripts/run-tests.sh vm /truth/build/selftests/vm /truth/selftests/vm)

vm-shell: all
	@scripts/vm.sh --shell

# checkpatch on the kernel-side sources (STRICT=1 adds its --strict checks);
# fails on any error or warning
style: deps
	@$(CACHE)/linux-src/scripts/checkpatch.pl --no-tree --terse $(if $(STRICT),--strict) -f \
		--ignore FILE_PATH_CHANGES \
		$(filter-out %.mod.c,$(wildcard kmod/*.c)) kmod/*.h include/uapi/linux/truth.h include/truth/*.h

# sparse over the module (C=2: every file, not only the rebuilt ones)
sparse: deps
	$(MAKE) -C $(KDIR) M=$(CURDIR) C=2 modules

# ---------------------------------------------------------------- install
install: kmod agent
	install -D -m 0755 $(CTL_BIN) $(DESTDIR)$(PREFIX)/sbin/truthctl
	install -D -m 0644 include/uapi/linux/truth.h $(DESTDIR)$(PREFIX)/include/linux/truth.h
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=updates \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) modules_install

dkms-install:
	@scripts/dkms.sh install $(KREL)

dkms-uninstall:
	@scripts/dkms.sh uninstall

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	rm -rf $(BUILD)
