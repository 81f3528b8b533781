// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Where a write's time goes: monotonic timestamps at each stage of the
 * commit path, per log index, and a histogram per interval between two
 * stages (INFO latency; Documentation/bench.md "Where a write's time
 * goes").
 *
 * A leader's entry starts when a client's write is proposed and ends when
 * its reply is written; a follower's starts when the APPEND carrying it is
 * received and ends when the ack vouching for it leaves.  Each stage is
 * reached by a range of indexes at once (a pwrite, a sync, an ack cover
 * many entries), so a stage remembers the highest index stamped and
 * stamps only what is new: one clock read per range, a store per entry.
 * Entries nobody waits for (no-ops, ticks, entries of another term) are
 * overwritten in the ring and never counted.
 *
 * Histograms: 8 buckets per power of two (12 % wide), counts since start
 * plus sum and count, so two INFO readings give the mean in between.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "truthd/truthd.h"

#define LAT_RING	4096	/* entries in flight tracked, a power of two */
#define LAT_SUB		3	/* 2^LAT_SUB buckets per power of two */

struct lat_slot {
	uint64_t index;			/* 0: free */
	bool leader;			/* started by a proposal, not an APPEND */
	uint64_t t[LAT_STAGES];		/* ns, 0 = not reached */
};

struct lat_hist {
	uint64_t n, sum;
	uint32_t b[LAT_BUCKETS];
};

struct truthd_lat {
	struct lat_slot ring[LAT_RING];
	uint64_t hi[LAT_STAGES];	/* highest index stamped at each stage */
	struct lat_hist h[LAT_NINTERVALS];
	uint64_t commit_self_last;	/* commits the leader's own sync completed */
	uint64_t commit_peer_last;	/* commits a follower's ack completed */
};

/* interval i runs from stage from[i] to stage to[i]; names for INFO */
static const struct {
	const char *name;
	uint8_t from, to;
} intervals[LAT_NINTERVALS] = {
	[LAT_I_L_PROPOSE_APPEND] = { "l_propose_to_append", LAT_PROPOSED, LAT_APPENDED },
	[LAT_I_L_APPEND_SENT] = { "l_append_to_sent", LAT_APPENDED, LAT_SENT },
	[LAT_I_L_APPEND_KICK] = { "l_append_to_sync_kick", LAT_APPENDED, LAT_SYNC_KICK },
	[LAT_I_L_KICK_START] = { "l_sync_kick_to_start", LAT_SYNC_KICK, LAT_SYNC_START },
	[LAT_I_L_FDATASYNC] = { "l_fdatasync", LAT_SYNC_START, LAT_SYNC_DONE },
	[LAT_I_L_DONE_SEEN] = { "l_sync_done_to_loop", LAT_SYNC_DONE, LAT_SYNC_SEEN },
	[LAT_I_L_SENT_ACK] = { "l_sent_to_first_ack", LAT_SENT, LAT_ACKED },
	[LAT_I_L_PROPOSE_SELF] = { "l_propose_to_self_durable", LAT_PROPOSED, LAT_SYNC_SEEN },
	[LAT_I_L_PROPOSE_ACK] = { "l_propose_to_first_ack", LAT_PROPOSED, LAT_ACKED },
	[LAT_I_L_PROPOSE_COMMIT] = { "l_propose_to_commit", LAT_PROPOSED, LAT_COMMITTED },
	[LAT_I_L_COMMIT_APPLY] = { "l_commit_to_apply", LAT_COMMITTED, LAT_APPLIED },
	[LAT_I_L_APPLY_REPLY] = { "l_apply_to_reply", LAT_APPLIED, LAT_REPLIED },
	[LAT_I_L_TOTAL] = { "l_propose_to_reply", LAT_PROPOSED, LAT_REPLIED },
	[LAT_I_F_RECV_APPEND] = { "f_recv_to_append", LAT_RECEIVED, LAT_APPENDED },
	[LAT_I_F_APPEND_KICK] = { "f_append_to_sync_kick", LAT_APPENDED, LAT_SYNC_KICK },
	[LAT_I_F_KICK_START] = { "f_sync_kick_to_start", LAT_SYNC_KICK, LAT_SYNC_START },
	[LAT_I_F_FDATASYNC] = { "f_fdatasync", LAT_SYNC_START, LAT_SYNC_DONE },
	[LAT_I_F_DONE_SEEN] = { "f_sync_done_to_loop", LAT_SYNC_DONE, LAT_SYNC_SEEN },
	[LAT_I_F_SEEN_ACK] = { "f_sync_loop_to_ack_sent", LAT_SYNC_SEEN, LAT_ACK_SENT },
	[LAT_I_F_TOTAL] = { "f_recv_to_ack_sent", LAT_RECEIVED, LAT_ACK_SENT },
};

uint64_t lat_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned int bucket_of(uint64_t v)
{
	unsigned int e, b;

	if (v < (1u << LAT_SUB))
		return (unsigned int)v;
	e = 63 - (unsigned int)__builtin_clzll(v);
	b = ((e - LAT_SUB + 1) << LAT_SUB) + (unsigned int)((v >> (e - LAT_SUB)) & ((1u << LAT_SUB) - 1));
	return b < LAT_BUCKETS ? b : LAT_BUCKETS - 1;
}

/* the middle of bucket b, ns */
static uint64_t bucket_mid(unsigned int b)
{
	unsigned int e, m;

	if (b < (1u << LAT_SUB))
		return b;
	e = (b >> LAT_SUB) + LAT_SUB - 1;
	m = b & ((1u << LAT_SUB) - 1);
	return (((uint64_t)(1u << LAT_SUB) + m) << (e - LAT_SUB)) +
	       ((1ull << (e - LAT_SUB)) >> 1);
}

static void hist_add(struct lat_hist *h, uint64_t v)
{
	h->n++;
	h->sum += v;
	h->b[bucket_of(v)]++;
}

static uint64_t hist_pct(const struct lat_hist *h, unsigned int pct)
{
	uint64_t want = (h->n * pct + 99) / 100, seen = 0;
	unsigned int b;

	for (b = 0; b < LAT_BUCKETS; b++) {
		seen += h->b[b];
		if (seen >= want && seen)
			return bucket_mid(b);
	}
	return 0;
}

int lat_open(struct truthd *d)
{
	d->lat = calloc(1, sizeof(*d->lat));
	return d->lat ? 0 : -ENOMEM;
}

void lat_close(struct truthd *d)
{
	free(d->lat);
	d->lat = NULL;
}

/* Entries from..to start: a leader's proposal or a follower's receipt. */
void lat_start(struct truthd *d, bool leader, uint64_t from, uint64_t to)
{
	struct truthd_lat *l = d->lat;
	int stage = leader ? LAT_PROPOSED : LAT_RECEIVED;
	uint64_t t, i;

	if (!l || !from || to < from)
		return;
	if (to - from >= LAT_RING)
		from = to - LAT_RING + 1;
	t = lat_now();
	for (i = from; i <= to; i++) {
		struct lat_slot *s = &l->ring[i & (LAT_RING - 1)];

		if (s->index == i && s->leader == leader)
			continue;	/* sent again: the first arrival counts */
		memset(s, 0, sizeof(*s));
		s->index = i;
		s->leader = leader;
		s->t[stage] = t;
	}
	/* a new start below a stage's mark: the log was cut and refilled */
	for (i = 0; i < LAT_STAGES; i++)
		if (l->hi[i] >= from)
			l->hi[i] = from - 1;
}

/* Stage reached by every index up to upto, at time t (0: now). */
void lat_stamp_at(struct truthd *d, int stage, uint64_t upto, uint64_t t)
{
	struct truthd_lat *l = d->lat;
	uint64_t i;

	if (!l || upto <= l->hi[stage])
		return;
	i = l->hi[stage] + 1;
	if (upto - i >= LAT_RING)
		i = upto - LAT_RING + 1;
	l->hi[stage] = upto;
	if (!t)
		t = lat_now();
	for (; i <= upto; i++) {
		struct lat_slot *s = &l->ring[i & (LAT_RING - 1)];

		if (s->index == i && !s->t[stage])
			s->t[stage] = t;
	}
}

static void finish(struct truthd_lat *l, struct lat_slot *s)
{
	unsigned int i, first = s->leader ? 0 : LAT_I_F_RECV_APPEND;
	unsigned int end = s->leader ? LAT_I_F_RECV_APPEND : LAT_NINTERVALS;

	for (i = first; i < end; i++) {
		uint64_t a = s->t[intervals[i].from], b = s->t[intervals[i].to];

		if (a && b && b >= a)
			hist_add(&l->h[i], b - a);
	}
	if (s->leader && s->t[LAT_COMMITTED]) {
		/* which durable report let it commit: the later one of ours and the first ack */
		if (s->t[LAT_SYNC_SEEN] && s->t[LAT_SYNC_SEEN] <= s->t[LAT_COMMITTED] &&
		    (!s->t[LAT_ACKED] || s->t[LAT_SYNC_SEEN] >= s->t[LAT_ACKED]))
			l->commit_self_last++;
		else
			l->commit_peer_last++;
	}
	s->index = 0;
}

/* The leader wrote entry index's reply. */
void lat_replied(struct truthd *d, uint64_t index)
{
	struct truthd_lat *l = d->lat;
	struct lat_slot *s;

	if (!l || !index)
		return;
	s = &l->ring[index & (LAT_RING - 1)];
	if (s->index != index || !s->leader)
		return;
	s->t[LAT_REPLIED] = lat_now();
	finish(l, s);
}

/* A follower's ack for everything up to upto left. */
void lat_ack_sent(struct truthd *d, uint64_t upto)
{
	struct truthd_lat *l = d->lat;
	uint64_t from, i;

	if (!l || upto <= l->hi[LAT_ACK_SENT])
		return;
	from = l->hi[LAT_ACK_SENT] + 1;
	lat_stamp_at(d, LAT_ACK_SENT, upto, 0);
	if (upto - from >= LAT_RING)
		from = upto - LAT_RING + 1;
	for (i = from; i <= upto; i++) {
		struct lat_slot *s = &l->ring[i & (LAT_RING - 1)];

		if (s->index == i && !s->leader)
			finish(l, s);
	}
}

void lat_info(struct truthd *d, const struct truth_resp_info *r, struct truth_resp_out *o)
{
	struct truthd_lat *l = d->lat;
	unsigned int i;

	if (!l || !truth_resp_info_wants(r, "latency", false))
		return;
	truth_resp_info_section(o, "Latency");
	truth_resp_out_printf(o, "loop_turns:%llu\r\nsync_runs:%llu\r\nsync_inline:%llu\r\nticks_skipped:%llu\r\n"
			      "commit_self_last:%llu\r\ncommit_peer_last:%llu\r\n",
			      (unsigned long long)d->loop_turns,
			      (unsigned long long)d->sync_runs,
			      (unsigned long long)d->sync_inline,
			      (unsigned long long)d->ticks_skipped,
			      (unsigned long long)l->commit_self_last,
			      (unsigned long long)l->commit_peer_last);
	for (i = 0; i < LAT_NINTERVALS; i++) {
		const struct lat_hist *h = &l->h[i];

		if (!h->n)
			continue;
		truth_resp_out_printf(o,
			"lat_%s:n=%llu,sum_us=%llu,mean_us=%.1f,p50_us=%.1f,p90_us=%.1f,p99_us=%.1f\r\n",
			intervals[i].name, (unsigned long long)h->n,
			(unsigned long long)(h->sum / 1000),
			(double)h->sum / (double)h->n / 1000.0,
			(double)hist_pct(h, 50) / 1000.0,
			(double)hist_pct(h, 90) / 1000.0,
			(double)hist_pct(h, 99) / 1000.0);
	}
}
