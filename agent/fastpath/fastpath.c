// SPDX-License-Identifier: GPL-2.0
/*
 * The fast-path loader: open -> set rodata -> load -> attach, one cleanup
 * path.  Before loading it checks what the programs need, so a missing
 * module or BTF gets a reason instead of a verifier log.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/truth.h>

#include "../../bpf/truth.h"
#include "bpf/truth.skel.h"
#include "fastpath/fastpath.h"

_Static_assert(TRUTH_BPF_PASS == TRUTH_FP_PASS, "verdicts differ");
_Static_assert(TRUTH_BPF_CONSUME == TRUTH_FP_CONSUME, "verdicts differ");
_Static_assert(TRUTH_BPF_DROP == TRUTH_FP_DROP, "verdicts differ");
_Static_assert(TRUTH_BPF_NOT_ACK == TRUTH_FP_NOT_ACK, "verdicts differ");

#define FP_IF_MAX	16

struct fp_if {
	int ifindex;
	bool created_hook;	/* we made its clsact qdisc */
	bool in, out;		/* our filter is attached there */
};

struct truth_fastpath {
	struct truth * skel;
	int n;
	struct fp_if ifs[FP_IF_MAX];
};

static void fp_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* What the programs need before the verifier sees them. */
static int fp_check_env(char *err, size_t errlen)
{
	if (access("/sys/module/truth", F_OK)) {
		fp_err(err, errlen, "truth.ko is not loaded (its kfuncs are the fast path)");
		return -ENOENT;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fp_err(err, errlen, "the kernel has no BTF (/sys/kernel/btf/vmlinux)");
		return -ENOENT;
	}
	if (access("/sys/kernel/btf/truth", F_OK)) {
		fp_err(err, errlen,
		       "truth.ko has no BTF (/sys/kernel/btf/truth): its kfuncs cannot be called");
		return -ENOENT;
	}
	return 0;
}

/*
 * Filled in place: libbpf refuses a hook whose padding is not zero, and a
 * struct returned by value need not keep its padding zero.
 */
static void fp_hook(struct bpf_tc_hook *h, int ifindex,
		    enum bpf_tc_attach_point where)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = ifindex;
	h->attach_point = where;
}

static int fp_attach_one(struct fp_if *fi, enum bpf_tc_attach_point where,
			 int prog_fd)
{
	struct bpf_tc_hook h;
	struct bpf_tc_opts o;

	fp_hook(&h, fi->ifindex, where);
	memset(&o, 0, sizeof(o));
	o.sz = sizeof(o);
	o.handle = TRUTH_FASTPATH_HANDLE;
	o.priority = TRUTH_FASTPATH_PRIO;
	o.prog_fd = prog_fd;
	/* replace whatever sits at our handle: attaching twice is one filter */
	o.flags = BPF_TC_F_REPLACE;
	return bpf_tc_attach(&h, &o);
}

static void fp_detach_if(struct fp_if *fi)
{
	struct bpf_tc_hook h;
	struct bpf_tc_opts o;

	memset(&o, 0, sizeof(o));
	o.sz = sizeof(o);
	o.handle = TRUTH_FASTPATH_HANDLE;
	o.priority = TRUTH_FASTPATH_PRIO;
	if (fi->in) {
		fp_hook(&h, fi->ifindex, BPF_TC_INGRESS);
		bpf_tc_detach(&h, &o);
	}
	if (fi->out) {
		fp_hook(&h, fi->ifindex, BPF_TC_EGRESS);
		bpf_tc_detach(&h, &o);
	}
	if (fi->created_hook) {
		fp_hook(&h, fi->ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
		bpf_tc_hook_destroy(&h);
	}
	fi->in = fi->out = fi->created_hook = false;
}

int truth_fastpath_remove(const char *const *ifnames, int n, char *err,
			  size_t errlen)
{
	struct fp_if fi;
	int i;

	for (i = 0; i < n; i++) {
		memset(&fi, 0, sizeof(fi));
		fi.ifindex = (int)if_nametoindex(ifnames[i]);
		if (!fi.ifindex) {
			fp_err(err, errlen, "no interface '%s'", ifnames[i]);
			return -ENODEV;
		}
		fi.in = fi.out = true;
		fp_detach_if(&fi);
	}
	return 0;
}

void truth_fastpath_detach(struct truth_fastpath *fp)
{
	int i;

	if (!fp)
		return;
	for (i = 0; i < fp->n; i++)
		fp_detach_if(&fp->ifs[i]);
	truth__destroy(fp->skel);
	free(fp);
}

void truth_fastpath_release(struct truth_fastpath *fp)
{
	if (!fp)
		return;
	truth__destroy(fp->skel);
	free(fp);
}

static const char *fp_load_reason(int ret)
{
	if (ret == -EPERM || ret == -EACCES)
		return "no permission (needs CAP_BPF and CAP_NET_ADMIN)";
	if (ret == -ESRCH || ret == -ENOENT)
		return "a kfunc of truth.ko is missing (module too old for this agent?)";
	return NULL;
}

/* libbpf's own messages go to stderr only when asked (TRUTH_FASTPATH_DEBUG). */
static int fp_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!getenv("TRUTH_FASTPATH_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

struct truth_fastpath *truth_fastpath_attach(const char *const *ifnames, int n,
					     uint16_t port, char *err,
					     size_t errlen)
{
	struct truth_fastpath *fp = NULL;
	struct bpf_tc_hook h;
	const char *why;
	int i, ret;

	if (n < 1 || n > FP_IF_MAX || !port) {
		fp_err(err, errlen, "need 1..%d interfaces and a port", FP_IF_MAX);
		return NULL;
	}
	if (fp_check_env(err, errlen))
		return NULL;
	fp = calloc(1, sizeof(*fp));
	if (!fp) {
		fp_err(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		fp->ifs[i].ifindex = (int)if_nametoindex(ifnames[i]);
		if (!fp->ifs[i].ifindex) {
			fp_err(err, errlen, "no interface '%s'", ifnames[i]);
			goto cleanup;
		}
	}

	libbpf_set_print(fp_print);
	fp->skel = truth__open();
	if (!fp->skel) {
		fp_err(err, errlen, "cannot open the fast-path programs: %s", strerror(errno));
		goto cleanup;
	}
	fp->skel->rodata->port = port;
	ret = truth__load(fp->skel);
	if (ret) {
		why = fp_load_reason(ret);
		fp_err(err, errlen, "loading the fast-path programs failed: %s",
		       why ? why : strerror(-ret));
		goto cleanup;
	}

	for (i = 0; i < n; i++, fp->n++) {
		struct fp_if *fi = &fp->ifs[i];

		fp_hook(&h, fi->ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
		ret = bpf_tc_hook_create(&h);
		if (ret && ret != -EEXIST)
			goto err_attach;
		fi->created_hook = !ret;
		ret = fp_attach_one(fi, BPF_TC_INGRESS,
				    bpf_program__fd(fp->skel->progs.truth_ingress));
		if (ret)
			goto err_attach;
		fi->in = true;
		ret = fp_attach_one(fi, BPF_TC_EGRESS,
				    bpf_program__fd(fp->skel->progs.truth_egress));
		if (ret)
			goto err_attach;
		fi->out = true;
	}
	return fp;

err_attach:
	fp->n++;	/* undo the half-attached interface too */
	why = fp_load_reason(ret);
	fp_err(err, errlen, "attaching to %s failed: %s", ifnames[i],
	       why ? why : strerror(-ret));
cleanup:
	truth_fastpath_detach(fp);
	return NULL;
}
