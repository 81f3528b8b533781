// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth sm: the change history and watches.
 *
 * The history is a ring of the last cfg.history changes; it is replicated
 * state (derived from the log, in the snapshot) so that any replica can
 * resume a watch from a revision.  hist_floor is the oldest revision from
 * which every change is still kept; resuming from before it is the
 * COMPACTED error, and the client re-reads the current state instead.
 *
 * Watches are local to the node that serves them, like etcd's: they are
 * never in the log (a watch is tied to one connection; after a leader
 * change the client resumes elsewhere from the next revision it wants).
 * A watch delivers each matching change once, in revision order: catch-up
 * from the history when it starts, then live as entries apply.  Every
 * change advances every watch's next_rev, matching or not, so a watch
 * that is behind (after a snapshot restore) is caught up, or told it was
 * compacted, before the next live event.
 *
 * Event push (RESP3 ">6", RESP2 "*6"):
 *   ["watch", id, revision, "put"|"del", key, value|null]
 *   ["watch", id, floor, "compacted", key, null]   (the watch ends)
 */

#include <stdlib.h>
#include <string.h>

#include "sm_int.h"

void sm_hist_free_all(struct truth_sm *sm)
{
	size_t i;

	for (i = 0; i < sm->hist_n; i++) {
		struct sm_event *e = &sm->hist[(sm->hist_start + i) % sm->cfg.history];

		sm_bytes_free(&e->key);
		sm_bytes_free(&e->val);
	}
	sm->hist_n = 0;
	sm->hist_start = 0;
}

int sm_hist_add(struct truth_sm *sm, uint64_t rev, uint32_t type, const void *k, size_t kn,
		const void *v, size_t vn)
{
	struct sm_event *e;

	if (sm->hist_n == sm->cfg.history) {
		e = &sm->hist[sm->hist_start];
		sm->hist_floor = e->rev + 1;
		sm_bytes_free(&e->key);
		sm_bytes_free(&e->val);
		sm->hist_start = (sm->hist_start + 1) % sm->cfg.history;
		sm->hist_n--;
	}
	e = &sm->hist[(sm->hist_start + sm->hist_n) % sm->cfg.history];
	memset(e, 0, sizeof(*e));
	if (sm_bytes_set(&e->key, k, kn) || sm_bytes_set(&e->val, v, vn)) {
		sm_bytes_free(&e->key);
		return -ENOMEM;
	}
	e->rev = rev;
	e->type = type;
	sm->hist_n++;
	return 0;
}

static bool matches(const struct sm_watch *w, const struct sm_bytes *key)
{
	if (w->prefix)
		return key->len >= w->key.len &&
		       (!w->key.len || !memcmp(key->p, w->key.p, w->key.len));
	return !sm_bytes_cmp(key->p, key->len, w->key.p, w->key.len);
}

static void push_event(struct truth_sm *sm, struct truth_sm_effects *fx,
		       const struct sm_watch *w, const struct sm_event *ev)
{
	sm_fx_begin(fx, w->client, w->id, TRUTH_SM_FX_PUSH);
	sm_fx_push(fx, 6);
	sm_fx_str(fx, "watch");
	sm_fx_int(fx, (long long)w->id);
	sm_fx_int(fx, (long long)ev->rev);
	sm_fx_str(fx, ev->type == SM_EV_PUT ? "put" : "del");
	sm_fx_bulk(fx, ev->key.p, ev->key.len);
	if (ev->type == SM_EV_PUT)
		sm_fx_bulk(fx, ev->val.p, ev->val.len);
	else
		sm_fx_null(fx);
	sm_fx_end(sm, fx);
}

static void watch_remove(struct truth_sm *sm, size_t i)
{
	sm_bytes_free(&sm->watches[i].key);
	memmove(&sm->watches[i], &sm->watches[i + 1],
		(sm->nwatches - i - 1) * sizeof(sm->watches[0]));
	sm->nwatches--;
}

/*
 * Deliver the kept changes in [w->next_rev, upto] to watch i.  false if
 * some are no longer kept: the watch is told and removed.
 */
static bool catch_up(struct truth_sm *sm, struct truth_sm_effects *fx, size_t i, uint64_t upto)
{
	struct sm_watch *w = &sm->watches[i];
	size_t j;

	if (w->next_rev > upto)
		return true;
	if (w->next_rev < sm->hist_floor) {
		sm_fx_begin(fx, w->client, w->id, TRUTH_SM_FX_PUSH);
		sm_fx_push(fx, 6);
		sm_fx_str(fx, "watch");
		sm_fx_int(fx, (long long)w->id);
		sm_fx_int(fx, (long long)sm->hist_floor);
		sm_fx_str(fx, "compacted");
		sm_fx_bulk(fx, w->key.p, w->key.len);
		sm_fx_null(fx);
		sm_fx_end(sm, fx);
		watch_remove(sm, i);
		return false;
	}
	for (j = 0; j < sm->hist_n; j++) {
		const struct sm_event *ev = &sm->hist[(sm->hist_start + j) % sm->cfg.history];

		if (ev->rev >= w->next_rev && ev->rev <= upto && matches(w, &ev->key))
			push_event(sm, fx, w, ev);
	}
	w->next_rev = upto + 1;
	return true;
}

void sm_watch_event(struct truth_sm *sm, struct truth_sm_effects *fx, const struct sm_event *ev)
{
	size_t i = 0;

	while (i < sm->nwatches) {
		struct sm_watch *w = &sm->watches[i];

		if (w->next_rev > ev->rev) {	/* started after it (cannot happen live) */
			i++;
			continue;
		}
		if (!catch_up(sm, fx, i, ev->rev - 1))
			continue;
		w = &sm->watches[i];
		if (matches(w, &ev->key))
			push_event(sm, fx, w, ev);
		w->next_rev = ev->rev + 1;
		i++;
	}
}

static int watch_cmp(uint64_t ac, uint64_t aid, const struct sm_watch *b)
{
	if (ac != b->client)
		return ac < b->client ? -1 : 1;
	if (aid != b->id)
		return aid < b->id ? -1 : 1;
	return 0;
}

static size_t watch_find(const struct truth_sm *sm, uint64_t client, uint64_t id, bool *found)
{
	size_t i;

	*found = false;
	for (i = 0; i < sm->nwatches; i++) {
		int r = watch_cmp(client, id, &sm->watches[i]);

		if (r == 0)
			*found = true;
		if (r <= 0)
			break;
	}
	return i;
}

/* WATCH key [PREFIX] [FROM rev]  |  ELECT.OBSERVE name [FROM rev] */
void sm_watch_cmd(struct truth_sm *sm, const struct truth_sm_cmd *c, struct truth_sm_effects *fx)
{
	bool observe = sm_arg_is(&c->argv[0], "elect.observe"), prefix = false, has_from = false;
	uint64_t from = 0;
	struct sm_bytes key = { 0 };
	struct sm_watch *w;
	bool found;
	unsigned int j;
	size_t i;

	for (j = 2; j < c->argc; j++) {
		if (!observe && sm_arg_is(&c->argv[j], "prefix")) {
			prefix = true;
		} else if (sm_arg_is(&c->argv[j], "from") && j + 1 < c->argc) {
			if (!sm_arg_u64(&c->argv[++j], &from) || from == 0) {
				sm_reply_error(sm, fx, c->client_id, c->seq,
					       "ERR FROM revision is not a positive integer");
				return;
			}
			has_from = true;
		} else {
			sm_reply_error(sm, fx, c->client_id, c->seq, observe ?
				       "ERR syntax error: ELECT.OBSERVE name [FROM revision]" :
				       "ERR syntax error: WATCH key [PREFIX] [FROM revision]");
			return;
		}
	}
	if (observe) {
		struct sm_key *e;

		if (sm_reserved_key(&key, SM_ELECT, &c->argv[1])) {
			sm_nomem(sm);
			return;
		}
		e = sm_map_get(&sm->keys, key.p, key.len);
		/* start at the current leader's last change, so it is the first event */
		if (!has_from && e && e->mod_rev >= sm->hist_floor) {
			from = e->mod_rev;
			has_from = true;
		}
	} else if (sm_bytes_set(&key, c->argv[1].ptr, c->argv[1].len)) {
		sm_nomem(sm);
		return;
	}
	if (!has_from)
		from = sm->revision + 1;
	if (from < sm->hist_floor) {
		sm_bytes_free(&key);
		sm_reply_error(sm, fx, c->client_id, c->seq,
			       "COMPACTED revision %llu is no longer kept, the oldest is %llu: read the current state and watch from its revision",
			       (unsigned long long)from, (unsigned long long)sm->hist_floor);
		return;
	}
	i = watch_find(sm, c->client_id, c->seq, &found);
	if (found) {
		sm_bytes_free(&key);
		sm_reply_error(sm, fx, c->client_id, c->seq, "ERR watch %llu exists already",
			       (unsigned long long)c->seq);
		return;
	}
	if (sm->nwatches == sm->wcap) {
		size_t cap = sm->wcap ? sm->wcap * 2 : 8;

		w = realloc(sm->watches, cap * sizeof(*w));
		if (!w) {
			sm_bytes_free(&key);
			sm_nomem(sm);
			return;
		}
		sm->watches = w;
		sm->wcap = cap;
	}
	memmove(&sm->watches[i + 1], &sm->watches[i], (sm->nwatches - i) * sizeof(*w));
	w = &sm->watches[i];
	w->client = c->client_id;
	w->id = c->seq;
	w->key = key;
	w->prefix = prefix;
	w->next_rev = from;
	sm->nwatches++;
	sm_fx_begin(fx, c->client_id, c->seq, TRUTH_SM_FX_REPLY);
	sm_fx_map(fx, 2);
	sm_fx_str(fx, "watch");
	sm_fx_int(fx, (long long)c->seq);
	sm_fx_str(fx, "revision");
	sm_fx_int(fx, (long long)from);
	sm_fx_end(sm, fx);
	catch_up(sm, fx, i, sm->revision);
}

/* WATCH.CANCEL id: :1 if the client's watch id existed, :0 if not. */
void sm_watch_cancel(struct truth_sm *sm, const struct truth_sm_cmd *c,
		     struct truth_sm_effects *fx)
{
	uint64_t id;
	bool found;
	size_t i;

	if (!sm_arg_u64(&c->argv[1], &id)) {
		sm_reply_error(sm, fx, c->client_id, c->seq, "ERR watch id is not an integer");
		return;
	}
	i = watch_find(sm, c->client_id, id, &found);
	if (found)
		watch_remove(sm, i);
	sm_reply_int(sm, fx, c->client_id, c->seq, found);
}

void truth_sm_client_gone(struct truth_sm *sm, uint64_t client_id)
{
	size_t i = 0;

	while (i < sm->nwatches) {
		if (sm->watches[i].client == client_id)
			watch_remove(sm, i);
		else
			i++;
	}
}

void sm_watch_free_all(struct truth_sm *sm)
{
	while (sm->nwatches)
		watch_remove(sm, sm->nwatches - 1);
	free(sm->watches);
	sm->watches = NULL;
	sm->wcap = 0;
}
