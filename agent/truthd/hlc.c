// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truthd's hybrid logical clock (include/truth/hlc.h, the encoding and
 * rules truth.ko uses), and its agreement with the module's.
 *
 * Events:
 *   send      every datagram's header carries truth_hlc_now() (transport hook)
 *   receive   every checked datagram's header HLC is merged, refused (and
 *             counted) when more than max_offset ahead, as the module does
 *   entry     each state machine entry the leader proposes gets
 *             truth_hlc_now(); a commit-wait entry's physical time is
 *             raised to the clock's latest first (coord.c)
 *   log       every entry that enters this node's log (appended, loaded at
 *             start, in a snapshot) is merged without the offset check, so
 *             a new leader's first entry is above every entry in its log:
 *             entry HLCs strictly increase in log order across leaders
 *
 * truth.ko: when commits are counted in the kernel the module is there,
 * with a per-namespace HLC that it merges from every authenticated datagram
 * at tc ingress (ACKs it counts included) and stamps into datagrams that
 * ask for it (TRUTH_WIRE_F_STAMP).  Unless hlc_kernel = off, before the
 * first entry of each loop turn truthd does TRUTH_CMD_CLOCK_MERGE with its
 * own HLC and takes the reply (the module's merged clock) as a receive: the
 * entry's HLC is above whatever the module stamped or saw before.  After
 * applying, before any reply leaves, the largest applied HLC is merged into
 * the module, so the module's HLC after a commit is at least the entry's.
 *
 * Neither call can block the loop: the kernel runs a generic netlink
 * request in the sender's context, so the module's clock has moved and the
 * reply is queued before sendmsg() returns; the socket is non-blocking and
 * an absent reply is an error (counted), never a wait.  Each call is a
 * sendmsg and the reply's read; INFO shows how many and their CPU time.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <linux/truth.h>
#include <truth/hlc.h>

#include "log/log.h"
#include "truthd/truthd.h"

static uint64_t pt_now(struct truthd *d)
{
	int64_t t = truthd_realtime_ns(d);

	return t > 0 ? (uint64_t)t : 0;
}

/* The header's rules on our clock (its __u64 is not our uint64_t). */
static uint64_t tick(struct truthd *d, uint64_t pt)
{
	__u64 h = d->hlc.now;

	truth_hlc_now(&h, pt);
	d->hlc.now = h;
	return h;
}

/* The transport's hook: a send (remote 0) or a datagram's stamp. */
static uint64_t hlc_tp(void *ctx, uint64_t remote)
{
	struct truthd *d = ctx;

	__u64 h = d->hlc.now;

	if (!remote)
		return tick(d, pt_now(d));
	if (truth_hlc_recv(&h, remote, pt_now(d), d->hlc.max_offset))
		d->hlc.refused++;
	d->hlc.now = h;
	return h;
}

void hlc_observe(struct truthd *d, uint64_t h)
{
	/* no offset check: the log is what it is, and we must stay above it */
	if (h > d->hlc.now)
		d->hlc.now = h;
}

struct kreply {
	uint64_t hlc;
	bool have;
};

static int k_valid(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[TRUTH_A_CLOCK_MAX + 1];
	struct kreply *r = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, TRUTH_A_CLOCK_MAX, NULL) >= 0 &&
	    tb[TRUTH_A_CLOCK_HLC]) {
		r->hlc = nla_get_u64(tb[TRUTH_A_CLOCK_HLC]);
		r->have = true;
	}
	return NL_OK;
}

/* CLOCK_MERGE (hlc != 0) or CLOCK_GET (0); the module's clock, or -errno. */
static int k_call(struct truthd *d, uint64_t hlc, uint64_t *out)
{
	struct kreply r = { 0 };
	struct nl_msg *msg = nlmsg_alloc();
	int ret = -ENOMEM;

	if (!msg)
		return ret;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, d->hlc.family, 0, 0,
			 hlc ? TRUTH_CMD_CLOCK_MERGE : TRUTH_CMD_CLOCK_GET,
			 TRUTH_GENL_VERSION) ||
	    (hlc && nla_put_u64(msg, TRUTH_A_CLOCK_HLC, hlc) < 0))
		goto out;
	nl_socket_modify_cb(d->hlc.nl, NL_CB_VALID, NL_CB_CUSTOM, k_valid, &r);
	ret = nl_send_auto(d->hlc.nl, msg);
	if (ret >= 0)
		ret = nl_recvmsgs_default(d->hlc.nl);
	if (ret >= 0 && !r.have)
		ret = -EPROTO;
	if (ret < 0) {
		/* libnl's codes are not errnos; ERANGE is the one we expect,
		 * EAGAIN (no reply queued) the one that would have blocked */
		ret = ret == -NLE_RANGE ? -ERANGE : ret == -NLE_AGAIN ? -EAGAIN : -EIO;
		goto out;
	}
	*out = r.hlc;
	ret = 0;
out:
	nlmsg_free(msg);
	return ret;
}

/*
 * Merge @hlc into the module and the module's clock into ours.  A refusal
 * (-ERANGE: ours is beyond the module's max offset ahead of its physical
 * time) still reads the module's clock, so at least this direction holds.
 */
static int64_t ts_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void k_merge(struct truthd *d, uint64_t hlc)
{
	int64_t cpu = ts_ns(CLOCK_THREAD_CPUTIME_ID), wall = ts_ns(CLOCK_MONOTONIC);
	uint64_t k;
	int ret;

	d->hlc.k_merges++;
	ret = k_call(d, hlc, &k);
	if (ret == -ERANGE)
		ret = k_call(d, 0, &k);
	d->hlc.k_cpu_ns += (uint64_t)(ts_ns(CLOCK_THREAD_CPUTIME_ID) - cpu);
	wall = ts_ns(CLOCK_MONOTONIC) - wall;
	if ((uint64_t)wall > d->hlc.k_wall_max_ns)
		d->hlc.k_wall_max_ns = (uint64_t)wall;
	if (ret) {
		if (!d->hlc.k_errors++)
			log_warn("hlc: merging with truth.ko's clock failed (%s); counted in INFO hlc_kernel_errors",
				 strerror(-ret));
		return;
	}
	hlc_observe(d, k);
}

static void k_open(struct truthd *d)
{
	int ret;

	/* hlc_kernel = off exists to measure what the agreement costs and
	 * what breaks without it (Documentation/clock.md "HLC on entries") */
	if (!d->conf.hlc_kernel || !d->counter || !strcmp(count_path(d), "user"))
		return;		/* not asked, or no module: nothing to agree with */
	d->hlc.nl = nl_socket_alloc();
	if (!d->hlc.nl)
		return;
	ret = genl_connect(d->hlc.nl);
	if (!ret)
		ret = nl_socket_set_nonblocking(d->hlc.nl);
	if (!ret) {
		nl_socket_disable_auto_ack(d->hlc.nl);
		d->hlc.family = genl_ctrl_resolve(d->hlc.nl, TRUTH_GENL_NAME);
		ret = d->hlc.family < 0 ? d->hlc.family : 0;
	}
	if (ret) {
		log_warn("hlc: truth.ko's clock not reachable (%s); HLC kept in user space only",
			 nl_geterror(ret));
		nl_socket_free(d->hlc.nl);
		d->hlc.nl = NULL;
		return;
	}
	d->hlc.pull = true;
	log_info("hlc: merged with truth.ko's per-namespace HLC");
}

void hlc_loop(struct truthd *d)
{
	if (!d->hlc.ready) {
		d->hlc.ready = true;
		/* the module's default bound (include/uapi/linux/truth.h) */
		d->hlc.max_offset = TRUTH_HLC_MAX_OFFSET_DEFAULT;
		d->tp.hlc = hlc_tp;
		d->tp.hlc_ctx = d;
		k_open(d);
	}
	if (d->hlc.nl)
		d->hlc.pull = true;	/* a new turn: the module may have moved */
}

uint64_t hlc_entry(struct truthd *d, uint64_t min_pt)
{
	uint64_t pt = pt_now(d);

	if (d->hlc.nl && d->hlc.pull) {
		d->hlc.pull = false;
		k_merge(d, d->hlc.now ? d->hlc.now : truth_hlc_physical(pt));
	}
	if (min_pt > pt)
		pt = min_pt;
	return tick(d, pt);
}

void hlc_applied(struct truthd *d)
{
	uint64_t h = d->sm ? truth_sm_hlc(d->sm) : 0;

	if (!d->hlc.nl || h <= d->hlc.pushed)
		return;
	d->hlc.pushed = h;
	k_merge(d, h);
}

void hlc_close(struct truthd *d)
{
	if (d->hlc.nl)
		nl_socket_free(d->hlc.nl);
	d->hlc.nl = NULL;
}

void hlc_info(struct truthd *d, struct truth_resp_out *o)
{
	truth_resp_out_printf(o,
		"hlc:%llu\r\nhlc_applied:%llu\r\nhlc_refused:%llu\r\nhlc_kernel:%s\r\n"
		"hlc_kernel_merges:%llu\r\nhlc_kernel_errors:%llu\r\n"
		"hlc_kernel_cpu_ns:%llu\r\nhlc_kernel_wall_max_ns:%llu\r\n"
		"commit_waits:%llu\r\ncommit_wait_ns_total:%llu\r\ncommit_wait_ns_max:%llu\r\n",
		(unsigned long long)d->hlc.now,
		(unsigned long long)(d->sm ? truth_sm_hlc(d->sm) : 0),
		(unsigned long long)d->hlc.refused, d->hlc.nl ? "on" : "off",
		(unsigned long long)d->hlc.k_merges, (unsigned long long)d->hlc.k_errors,
		(unsigned long long)d->hlc.k_cpu_ns, (unsigned long long)d->hlc.k_wall_max_ns,
		(unsigned long long)d->cw_count, (unsigned long long)d->cw_wait_ns,
		(unsigned long long)d->cw_max_ns);
}
