// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The property checker of raftsim, run after every step on the node that
 * moved.  It keeps the committed log as the cluster agreed it ("canon") and
 * the prefix hash of every (index, term) any node ever held, and checks the
 * Raft paper's Figure 3 properties:
 *
 *   Election Safety      at most one leader per term
 *   Leader Append-Only   a leader never overwrites or deletes its entries
 *   Log Matching         same index and term => same entries up to there
 *   Leader Completeness  a leader of term T holds every entry committed
 *                        before T
 *   State Machine Safety every node applies the same entry at an index,
 *                        in order, and only committed ones
 *
 * plus: reads never return older state than what was committed when they
 * were asked (ReadIndex and lease reads).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raftsim.h"

struct raftsim_canon {
	uint64_t term;		/* term of the committed entry */
	uint64_t hash;		/* its content hash */
	uint64_t chain;		/* hash of the log up to and including it */
	uint64_t commit_term;	/* term of the first node seen committing it */
};

struct raftsim_slot {
	uint64_t index, term, chain;
};

struct raftsim_table {
	struct raftsim_slot *slot;	/* open addressing, index 0 = empty */
	uint64_t n, cap;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		abort();
	return p;
}

void raftsim_fail(struct raftsim *s, const char *fmt, ...)
{
	va_list ap;
	int off;

	if (s->violation[0])
		return;
	off = snprintf(s->violation, sizeof(s->violation), "step %llu t=%lluus: ",
		       (unsigned long long)s->steps, (unsigned long long)s->now);
	va_start(ap, fmt);
	vsnprintf(s->violation + off, sizeof(s->violation) - off, fmt, ap);
	va_end(ap);
	s->violation_step = s->steps;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

uint64_t raftsim_entry_hash(const struct raft_entry *e)
{
	uint64_t h = mix(e->type, e->client_id);
	uint32_t i;

	h = mix(h, e->client_seq);
	h = mix(h, e->len);
	for (i = 0; i < e->len; i++)
		h = mix(h, ((const uint8_t *)e->data)[i]);
	return h;
}

void raftsim_check_init(struct raftsim *s)
{
	s->prefixes = xrealloc(NULL, sizeof(*s->prefixes));
	s->prefixes->cap = 1024;
	s->prefixes->n = 0;
	s->prefixes->slot = calloc(s->prefixes->cap, sizeof(struct raftsim_slot));
	if (!s->prefixes->slot)
		abort();
}

void raftsim_check_free(struct raftsim *s)
{
	if (s->prefixes)
		free(s->prefixes->slot);
	free(s->prefixes);
	free(s->canon);
	free(s->leader_of_term);
}

static struct raftsim_slot *table_find(struct raftsim_table *t, uint64_t index,
				       uint64_t term)
{
	uint64_t h = mix(index, term) & (t->cap - 1);

	while (t->slot[h].index &&
	       (t->slot[h].index != index || t->slot[h].term != term))
		h = (h + 1) & (t->cap - 1);
	return &t->slot[h];
}

static void table_grow(struct raftsim_table *t)
{
	struct raftsim_table n = { 0 };
	uint64_t i;

	n.cap = t->cap * 2;
	n.slot = calloc(n.cap, sizeof(*n.slot));
	if (!n.slot)
		abort();
	for (i = 0; i < t->cap; i++)
		if (t->slot[i].index)
			*table_find(&n, t->slot[i].index, t->slot[i].term) = t->slot[i];
	n.n = t->n;
	free(t->slot);
	*t = n;
}

/* Log Matching: (index, term) must always name the same log prefix. */
static bool prefix_check(struct raftsim *s, uint64_t index, uint64_t term,
			 uint64_t chain)
{
	struct raftsim_table *t = s->prefixes;
	struct raftsim_slot *sl;

	if (2 * (t->n + 1) > t->cap)
		table_grow(t);
	sl = table_find(t, index, term);
	if (!sl->index) {
		sl->index = index;
		sl->term = term;
		sl->chain = chain;
		t->n++;
		return true;
	}
	return sl->chain == chain;
}

static void canon_push(struct raftsim *s, uint64_t term, uint64_t hash,
		       uint64_t chain, uint64_t commit_term)
{
	if (s->canon_len + 2 > s->canon_cap) {
		s->canon_cap = s->canon_cap ? 2 * s->canon_cap : 256;
		s->canon = xrealloc(s->canon, s->canon_cap * sizeof(*s->canon));
	}
	s->canon_len++;
	s->canon[s->canon_len].term = term;
	s->canon[s->canon_len].hash = hash;
	s->canon[s->canon_len].chain = chain;
	s->canon[s->canon_len].commit_term = commit_term;
}

static void check_leader(struct raftsim *s, struct raftsim_node *nd)
{
	struct raft *r = nd->r;
	uint64_t term = raft_term(r), last = raft_last_index(r), i;

	if (term >= s->n_terms) {
		uint64_t n = term * 2 + 16;

		s->leader_of_term = xrealloc(s->leader_of_term,
					     n * sizeof(*s->leader_of_term));
		memset(s->leader_of_term + s->n_terms, 0,
		       (n - s->n_terms) * sizeof(*s->leader_of_term));
		s->n_terms = n;
	}
	/* Election Safety: at most one leader can be elected in a given term. */
	if (s->leader_of_term[term] && s->leader_of_term[term] != nd->id) {
		raftsim_fail(s, "election safety: nodes %u and %u both lead term %llu",
			     s->leader_of_term[term], nd->id,
			     (unsigned long long)term);
		return;
	}
	if (!s->leader_of_term[term])
		s->elections++;
	s->leader_of_term[term] = nd->id;

	/* Leader Completeness: it holds every entry committed before its term. */
	if (nd->leader_term_checked != term) {
		nd->leader_term_checked = term;
		for (i = raft_snapshot_index(r) + 1; i <= s->canon_len; i++) {
			const struct raft_entry *e;

			if (s->canon[i].commit_term >= term)
				continue;
			e = i <= last ? raft_entry_at(r, i) : NULL;
			if (!e || e->term != s->canon[i].term ||
			    raftsim_entry_hash(e) != s->canon[i].hash) {
				raftsim_fail(s, "leader completeness: leader %u of term %llu lacks committed entry %llu",
					     nd->id, (unsigned long long)term,
					     (unsigned long long)i);
				return;
			}
		}
	}
	/* Leader Append-Only: a leader never overwrites or deletes entries. */
	if (nd->la_term == term) {
		if (last < nd->la_last ||
		    (nd->la_last > raft_snapshot_index(r) &&
		     raft_term_at(r, nd->la_last) != nd->la_last_term)) {
			raftsim_fail(s, "leader append-only: leader %u of term %llu lost entry %llu",
				     nd->id, (unsigned long long)term,
				     (unsigned long long)nd->la_last);
			return;
		}
	}
	nd->la_term = term;
	nd->la_last = last;
	nd->la_last_term = raft_term_at(r, last);
}

void raftsim_check_node(struct raftsim *s, struct raftsim_node *nd)
{
	struct raft *r = nd->r;
	uint64_t snap, last, commit, chain = 0, i;

	if (!nd->up || !r || s->violation[0])
		return;
	if (raft_role(r) == RAFT_LEADER)
		check_leader(s, nd);
	else
		nd->la_term = 0;
	if (s->violation[0])
		return;

	snap = raft_snapshot_index(r);
	last = raft_last_index(r);
	commit = raft_commit_index(r);
	if (commit > last) {
		raftsim_fail(s, "node %u: commit %llu beyond last %llu", nd->id,
			     (unsigned long long)commit, (unsigned long long)last);
		return;
	}
	if (snap) {
		/* a snapshot only ever covers committed entries */
		if (snap > s->canon_len || s->canon[snap].term != raft_snapshot_term(r)) {
			raftsim_fail(s, "node %u: snapshot at %llu is not the committed log",
				     nd->id, (unsigned long long)snap);
			return;
		}
		chain = s->canon[snap].chain;
	}
	i = snap + 1;
	/*
	 * The committed prefix was hashed and compared with canon already;
	 * start after it, but re-hash all of it now and then (amortised to
	 * about 16 entries a step, so long logs stay cheap).
	 */
	if (nd->chk_snap == snap && nd->chk_idx > snap && nd->chk_idx <= last &&
	    raft_term_at(r, nd->chk_idx) == nd->chk_term &&
	    ++nd->chk_count < 32 + (last - snap) / 16) {
		i = nd->chk_idx + 1;
		chain = nd->chk_chain;
	} else {
		nd->chk_snap = snap;
		nd->chk_idx = 0;
		nd->chk_count = 0;
	}
	for (; i <= last; i++) {
		const struct raft_entry *e = raft_entry_at(r, i);
		uint64_t h = raftsim_entry_hash(e);

		chain = mix(mix(chain, e->term), h);
		if (!prefix_check(s, i, e->term, chain)) {
			raftsim_fail(s, "log matching: node %u entry %llu term %llu has a different prefix than another log",
				     nd->id, (unsigned long long)i,
				     (unsigned long long)e->term);
			return;
		}
		if (i == commit) {
			nd->chk_idx = i;
			nd->chk_term = e->term;
			nd->chk_chain = chain;
		}
		if (i > commit || i <= nd->seen_commit)
			continue;
		if (i <= s->canon_len) {
			if (s->canon[i].chain != chain) {
				raftsim_fail(s, "state machine safety: node %u committed a different entry %llu (term %llu, canon term %llu)",
					     nd->id, (unsigned long long)i,
					     (unsigned long long)e->term,
					     (unsigned long long)s->canon[i].term);
				return;
			}
		} else if (i == s->canon_len + 1) {
			canon_push(s, e->term, h, chain, raft_term(r));
		} else {
			raftsim_fail(s, "node %u commits %llu beyond a gap (canon %llu)",
				     nd->id, (unsigned long long)i,
				     (unsigned long long)s->canon_len);
			return;
		}
	}
	if (commit > nd->seen_commit)
		nd->seen_commit = commit;
	if (commit > s->max_commit)
		s->max_commit = commit;
}

void raftsim_check_apply(struct raftsim *s, struct raftsim_node *nd,
			 const struct raft_entry *e)
{
	if (e->index > s->canon_len)
		raftsim_check_node(s, nd);
	if (e->index != nd->sm_applied + 1) {
		raftsim_fail(s, "node %u applies %llu after %llu", nd->id,
			     (unsigned long long)e->index,
			     (unsigned long long)nd->sm_applied);
		return;
	}
	/* State Machine Safety: nobody applies a different entry at an index. */
	if (e->index > s->canon_len || s->canon[e->index].term != e->term ||
	    s->canon[e->index].hash != raftsim_entry_hash(e))
		raftsim_fail(s, "state machine safety: node %u applies entry %llu term %llu that is not the committed one",
			     nd->id, (unsigned long long)e->index,
			     (unsigned long long)e->term);
}

void raftsim_check_read(struct raftsim *s, struct raftsim_node *nd,
			uint64_t index, uint64_t commit_at_issue,
			const char *kind)
{
	/* linearizable: the read sees everything committed before it was asked */
	if (index < commit_at_issue) {
		raftsim_fail(s, "%s on node %u: stale read at %llu, %llu was committed before it was asked",
			     kind, nd->id, (unsigned long long)index,
			     (unsigned long long)commit_at_issue);
		return;
	}
	s->reads_ok++;
}
