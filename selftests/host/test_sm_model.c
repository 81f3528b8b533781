// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * agent/sm randomized model test.
 *
 * Six processes with sessions contend for two locks, one election and a
 * barrier of three, write fenced and ephemeral keys, keep alive or let
 * their sessions lapse, while time advances and the leader TICKs.  Every
 * command goes to three instances:
 *
 *   A  the reference, with a prefix watch and the model checked on its effects
 *   B  fed identically (the same watch), restored from its own snapshot at
 *      3/4 of the run: every effect and the final snapshot must equal A's
 *   C  created from A's snapshot at 1/2 of the run: its replies and final
 *      snapshot must equal A's (C has no watches, so pushes are not compared)
 *
 * Invariants checked on A's effects as they come: at most one holder per
 * lock/election; fencing tokens strictly increasing over every grant;
 * grants in FIFO order; a session that lapses is expired exactly at the
 * first TICK after its deadline, frees its locks and deletes its ephemeral
 * keys; a fenced write is accepted iff its token is not older than the
 * last one seen for the resource; the barrier releases exactly at the N-th
 * ENTER and lets leavers go exactly when all have left; the watch delivers
 * every change to the prefix once, in order, and a watch started at the
 * end from revision 1 yields the same events (catch-up == live).
 *
 * TRUTH_SEED replays one seed; TRUTH_SEEDS sets how many (default 20).
 */

#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "lib/smtest.h"
#include "truth_rand.h"

#define MS		1000000LL
#define NPROC		6
#define NMUTEX		3	/* L0, L1 (locks), E0 (election) */
#define NKEYS		5
#define BARRIER_N	3
#define WATCHER		50	/* client id of the watch */
#define STEPS		2500

struct mwait {
	int proc;		/* waiting process */
	uint64_t seq;		/* its blocked request */
};

struct mmutex {
	const char *name;	/* "L0" ... */
	bool elect;		/* election, not lock */
	uint64_t holder;	/* holding session, 0 = free */
	struct mwait q[NPROC];	/* FIFO */
	int nq;			/* queued */
};

enum { B_NONE, B_ACQ, B_ENTER, B_LEAVE };

struct proc {
	uint64_t session;	/* 0 = none */
	int64_t deadline;	/* model's expiry deadline of the session */
	int64_t ttl;		/* its TTL, ns */
	uint64_t bseq;		/* blocked request, 0 = none */
	int bkind;		/* B_* */
	int bobj;		/* mutex index for B_ACQ */
	uint64_t token[NMUTEX];	/* last token it was granted per mutex */
	int bstate;		/* barrier: 0 out, 1 entering, 2 in, 3 leaving */
};

struct model {
	struct smtest a, b, c;
	bool have_c;
	struct proc p[NPROC];
	struct mmutex m[NMUTEX];
	uint64_t last_token;		/* strictly increasing over all grants */
	uint64_t fence[NMUTEX];		/* last token accepted per resource */
	uint64_t key_session[NKEYS];	/* binding of k/i */
	bool key_exists[NKEYS];
	char key_val[NKEYS][24];
	bool barrier_released;
	uint64_t ended[NPROC];		/* sessions ended in the current apply */
	int nended;
	/* the watch */
	uint64_t watch_seq;
	uint64_t last_ev_rev;
	bool ev_exists[NKEYS];
	char ev_val[NKEYS][24];
	char *live;			/* the live events, RESP2, concatenated */
	size_t live_len;
	/* counts for the closing line */
	unsigned long grants, expiries, fenced_ok, fenced_refused, releases, pushes;
	const char *fail;		/* first violation */
	char why[256];
};

static bool effects_equal(const struct truth_sm_effects *x, const struct truth_sm_effects *y,
			  bool replies_only)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (replies_only && i < x->n && x->v[i].kind != TRUTH_SM_FX_REPLY)
			i++;
		while (replies_only && j < y->n && y->v[j].kind != TRUTH_SM_FX_REPLY)
			j++;
		if (i == x->n || j == y->n)
			return i == x->n && j == y->n;
		if (x->v[i].client_id != y->v[j].client_id || x->v[i].seq != y->v[j].seq ||
		    x->v[i].kind != y->v[j].kind || x->v[i].len != y->v[j].len ||
		    memcmp(x->buf + x->v[i].off, y->buf + y->v[j].off, x->v[i].len))
			return false;
		i++;
		j++;
	}
}

static void violation(struct model *md, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (md->fail)
		return;
	md->fail = what;
	va_start(ap, fmt);
	vsnprintf(md->why, sizeof(md->why), fmt, ap);
	va_end(ap);
	if (getenv("SM_TRACE"))
		fprintf(stderr, "# VIOLATION %s: %s\n", what, md->why);
}

static bool ended_now(const struct model *md, uint64_t s)
{
	int i;

	for (i = 0; i < md->nended; i++)
		if (md->ended[i] == s)
			return true;
	return false;
}

static void q_remove(struct mmutex *m, int proc)
{
	int i;

	for (i = 0; i < m->nq; i++)
		if (m->q[i].proc == proc) {
			memmove(&m->q[i], &m->q[i + 1], (size_t)(m->nq - i - 1) * sizeof(m->q[0]));
			m->nq--;
			return;
		}
}

/* A grant of mutex k to process pi with token tok. */
static void granted(struct model *md, int k, int pi, uint64_t seq, uint64_t tok)
{
	struct mmutex *m = &md->m[k];

	if (m->holder && !ended_now(md, m->holder))
		violation(md, "two holders", "%s granted to session %llu while %llu holds it",
			  m->name, (unsigned long long)md->p[pi].session,
			  (unsigned long long)m->holder);
	if (m->holder && ended_now(md, m->holder))
		md->releases++;
	if (tok <= md->last_token)
		violation(md, "token order", "token %llu after %llu", (unsigned long long)tok,
			  (unsigned long long)md->last_token);
	if (seq && (!m->nq || m->q[0].proc != pi || m->q[0].seq != seq))
		violation(md, "FIFO", "%s granted to process %d, the head is process %d", m->name,
			  pi, m->nq ? m->q[0].proc : -1);
	if (seq)
		q_remove(m, pi);
	m->holder = md->p[pi].session;
	md->last_token = tok;
	md->p[pi].token[k] = tok;
	md->grants++;
}

/* Blocked requests finishing, and the watch, from A's effects. */
static void observe(struct model *md, const struct smtest *t)
{
	size_t i;

	for (i = 0; i < t->fx.n; i++) {
		const struct truth_sm_effect *e = &t->fx.v[i];
		size_t len;
		char *r = truth_sm_effect_resp2(&t->fx, e, &len);
		int pi = (int)e->client_id - 1;
		struct proc *p;

		if (!r)
			continue;
		if (e->client_id == WATCHER && e->kind == TRUTH_SM_FX_PUSH) {
			char *n = realloc(md->live, md->live_len + len);

			if (n) {
				memcpy(n + md->live_len, r, len);
				md->live = n;
				md->live_len += len;
			}
			md->pushes++;
			free(r);
			continue;
		}
		if (pi < 0 || pi >= NPROC || md->p[pi].bseq != e->seq || !md->p[pi].bseq) {
			free(r);
			continue;
		}
		p = &md->p[pi];
		if (p->bkind == B_ACQ) {
			if (r[0] == ':')
				granted(md, p->bobj, pi, e->seq, strtoull(r + 1, NULL, 10));
			else
				q_remove(&md->m[p->bobj], pi);	/* timeout ($-1) or -NOSESSION */
		} else if (p->bkind == B_ENTER) {
			if (r[0] == ':') {
				int k, entering = 0;

				for (k = 0; k < NPROC; k++)
					entering += md->p[k].bstate == 1;
				/* the first of the N replies: exactly N are entering */
				if (!md->barrier_released && entering != BARRIER_N)
					violation(md, "barrier", "released with %d entered", entering);
				p->bstate = 2;
				md->barrier_released = true;
			} else {
				p->bstate = 0;
			}
		} else if (p->bkind == B_LEAVE) {
			int k;

			for (k = 0; k < NPROC && r[0] == '+'; k++)
				if (md->p[k].bstate == 2)
					violation(md, "barrier", "leave released while process %d is in", k);
			p->bstate = 0;
		}
		p->bseq = 0;
		p->bkind = B_NONE;
		free(r);
	}
	/* after a barrier's last leave every member is out */
	if (md->barrier_released) {
		int k, in = 0;

		for (k = 0; k < NPROC; k++)
			in += md->p[k].bstate >= 2;
		if (!in)
			md->barrier_released = false;
	}
}

static void apply_one(struct smtest *t, uint64_t cl, uint64_t seq, unsigned int argc,
		      const char *const *argv, bool tick)
{
	if (tick)
		smtest_tick(t);
	else
		smtest_applyv(t, cl, seq, argc, argv);
}

/* One command to every instance; the reply to it (RESP2, from A) in out. */
static void run(struct model *md, int pi, unsigned int argc, const char *const *argv,
		char *out, size_t outlen)
{
	uint64_t cl = pi < 0 ? 0 : (uint64_t)pi + 1;
	uint64_t seq = pi < 0 ? 0 : ++md->a.seq[cl];
	bool tick = pi < 0;
	const char *r;

	md->b.ts = md->c.ts = md->a.ts;
	md->b.seq[cl] = md->c.seq[cl] = md->a.seq[cl];
	apply_one(&md->a, cl, seq, argc, argv, tick);
	apply_one(&md->b, cl, seq, argc, argv, tick);
	if (!effects_equal(&md->a.fx, &md->b.fx, false))
		violation(md, "determinism", "A and B differ on %s", tick ? "TICK" : argv[0]);
	if (md->have_c) {
		apply_one(&md->c, cl, seq, argc, argv, tick);
		if (!effects_equal(&md->a.fx, &md->c.fx, true))
			violation(md, "restore", "A and C differ on %s", tick ? "TICK" : argv[0]);
	}
	r = tick ? NULL : smtest_reply(&md->a, cl, seq);
	snprintf(out, outlen, "%s", r ? r : "");
	if (getenv("SM_TRACE")) {	/* a failing seed, command by command */
		unsigned int j;
		size_t e;

		fprintf(stderr, "# t=%lld p%d:", (long long)(md->a.ts / MS % 100000), pi);
		for (j = 0; j < argc; j++)
			fprintf(stderr, " %s", argv[j]);
		fprintf(stderr, "%s\n", tick ? " TICK" : "");
		for (e = 0; e < md->a.fx.n; e++)
			fprintf(stderr, "#    -> c%llu s%llu %s", (unsigned long long)md->a.fx.v[e].client_id,
				(unsigned long long)md->a.fx.v[e].seq, smtest_text(&md->a, e));
	}
	observe(md, &md->a);
}

/* A session ended (expiry or close): the model lets go of what it held. */
static void session_ended(struct model *md, int pi)
{
	struct proc *p = &md->p[pi];
	int k;

	md->ended[md->nended++] = p->session;
	for (k = 0; k < NKEYS; k++)
		if (md->key_exists[k] && md->key_session[k] == p->session)
			md->key_exists[k] = false;
	for (k = 0; k < NMUTEX; k++)
		if (md->m[k].holder == p->session && !md->m[k].nq)
			md->m[k].holder = 0;	/* nobody to hand it to */
	if (p->bstate == 2)
		p->bstate = 0;	/* an entered member that is gone counts as left */
	p->session = 0;
}

/* After sessions ended: what they held with nobody granted next is free. */
static void settle(struct model *md)
{
	int k;

	for (k = 0; k < NMUTEX; k++)
		if (md->m[k].holder && ended_now(md, md->m[k].holder))
			md->m[k].holder = 0;
	md->nended = 0;
}

static void check_reads(struct model *md)
{
	char key[8];
	int k;

	for (k = 0; k < NKEYS; k++) {
		uint64_t q;
		const char *r;

		snprintf(key, sizeof(key), "k/%d", k);
		q = smtest_read(&md->a, 60, "EXISTS", key, NULL);
		r = smtest_reply(&md->a, 60, q);
		if (!r || (r[1] == '1') != md->key_exists[k])
			violation(md, "keys", "%s exists=%s, model says %d", key, r ? r : "?",
				  md->key_exists[k]);
	}
	for (k = 0; k < NMUTEX; k++) {
		const struct mmutex *m = &md->m[k];
		uint64_t q = smtest_read(&md->a, 60, m->elect ? "ELECT.LEADER" : "LOCK.OWNER",
					 m->name, NULL);
		const char *r = smtest_reply(&md->a, 60, q), *s;
		uint64_t holder = 0;

		s = r ? strstr(r, "session\r\n:") : NULL;
		if (s)
			holder = strtoull(s + 10, NULL, 10);
		if (holder != m->holder)
			violation(md, "holder", "%s held by %llu, model says %llu", m->name,
				  (unsigned long long)holder, (unsigned long long)m->holder);
	}
}

static void act(struct model *md, int pi)
{
	struct proc *p = &md->p[pi];
	char sid[24], tok[24], r[512], key[8], val[24];
	unsigned int what = (unsigned int)rnd_below(100);
	int k = (int)rnd_below(NMUTEX);

	snprintf(sid, sizeof(sid), "%llu", (unsigned long long)p->session);
	if (!p->session) {
		p->ttl = (200 + (int64_t)rnd_below(1800)) * MS;
		snprintf(val, sizeof(val), "%lld", (long long)(p->ttl / MS));
		run(md, pi, 2, (const char *[]){ "SESSION.OPEN", val }, r, sizeof(r));
		p->session = strtoull(r + 1, NULL, 10);
		p->deadline = md->a.ts + p->ttl;
		return;
	}
	if (what < 25 || p->bseq) {
		if (rnd_below(4) == 0)
			return;	/* sometimes let it lapse */
		run(md, pi, 2, (const char *[]){ "SESSION.KEEPALIVE", sid }, r, sizeof(r));
		if (r[0] == ':')
			p->deadline = md->a.ts + p->ttl;
		return;
	}
	if (what < 45) {	/* acquire or campaign */
		struct mmutex *m = &md->m[k];
		unsigned int argc = 0;
		const char *argv[6];
		bool was_free = !m->holder, mine = m->holder == p->session;
		uint64_t seq = md->a.seq[pi + 1] + 1;
		char to[24] = "";
		int t = (int)rnd_below(3);

		argv[argc++] = m->elect ? "ELECT.CAMPAIGN" : "LOCK.ACQUIRE";
		argv[argc++] = m->name;
		argv[argc++] = sid;
		if (m->elect)
			argv[argc++] = "candidate";
		if (t) {
			snprintf(to, sizeof(to), "%d", t == 1 ? 0 : (int)rnd_below(800));
			argv[argc++] = "TIMEOUT";
			argv[argc++] = to;
		}
		if (mine) {	/* asking again: the same token, nothing blocks */
			run(md, pi, argc, argv, r, sizeof(r));
			if (r[0] != ':' || strtoull(r + 1, NULL, 10) != p->token[k])
				violation(md, "reacquire", "holder asking again got %s", r);
			return;
		}
		m->q[m->nq].proc = pi;
		m->q[m->nq++].seq = seq;
		p->bseq = seq;
		p->bkind = B_ACQ;
		p->bobj = k;
		run(md, pi, argc, argv, r, sizeof(r));
		if (was_free && r[0] != ':')
			violation(md, "free lock", "%s free but acquire got %s", m->name, r);
		else if (!was_free && r[0] == '$' && strcmp(to, "0"))
			violation(md, "try-lock", "timeout %s answered at once", to);
		else if (!was_free && r[0] && r[0] != '$')
			violation(md, "blocked", "%s held by %llu, acquire got %s", m->name,
				  (unsigned long long)m->holder, r);
		return;
	}
	if (what < 55) {	/* release / resign */
		struct mmutex *m = &md->m[k];
		bool holder = m->holder == p->session;

		if (holder) {
			m->holder = 0;	/* the next waiter's grant, if any, comes in the effects */
			md->releases++;
		}
		run(md, pi, 3, (const char *[]){ m->elect ? "ELECT.RESIGN" : "LOCK.RELEASE",
				m->name, sid }, r, sizeof(r));
		if (holder != (r[0] == '+'))
			violation(md, "release", "holder=%d got %s", holder, r);
		return;
	}
	if (what < 70) {	/* fenced write with the last token this process got */
		uint64_t t = p->token[k];
		bool ok = t >= md->fence[k];

		if (!t)
			return;
		snprintf(tok, sizeof(tok), "%llu", (unsigned long long)t);
		run(md, pi, 6, (const char *[]){ "SET", "data", sid, "FENCE", md->m[k].name, tok },
		    r, sizeof(r));
		if (ok != (r[0] == '+'))
			violation(md, "fence", "token %s last %llu got %s", tok,
				  (unsigned long long)md->fence[k], r);
		if (ok) {
			md->fence[k] = t;
			md->fenced_ok++;
		} else {
			md->fenced_refused++;
		}
		return;
	}
	if (what < 85) {	/* keys, some ephemeral */
		int ki = (int)rnd_below(NKEYS);

		snprintf(key, sizeof(key), "k/%d", ki);
		snprintf(val, sizeof(val), "v%llu", (unsigned long long)rnd_below(1000));
		if (rnd_below(4) == 0) {
			run(md, pi, 2, (const char *[]){ "DEL", key }, r, sizeof(r));
			md->key_exists[ki] = false;
		} else if (rnd_below(2)) {
			run(md, pi, 5, (const char *[]){ "SET", key, val, "SESSION", sid }, r,
			    sizeof(r));
			md->key_exists[ki] = true;
			md->key_session[ki] = p->session;
		} else {
			run(md, pi, 3, (const char *[]){ "SET", key, val }, r, sizeof(r));
			md->key_exists[ki] = true;
			md->key_session[ki] = 0;
		}
		return;
	}
	if (what < 95) {	/* barrier */
		if (p->bstate == 0) {
			bool rel = md->barrier_released;

			p->bseq = md->a.seq[pi + 1] + 1;
			p->bkind = B_ENTER;
			p->bstate = 1;
			run(md, pi, 4, (const char *[]){ "BARRIER.ENTER", "B", "3", sid }, r,
			    sizeof(r));
			if (rel != !strncmp(r, "-BUSY", 5))
				violation(md, "barrier", "released=%d, enter got %s", rel, r);
			else if (!rel && r[0] && r[0] != ':')
				violation(md, "barrier", "enter got %s", r);
		} else if (p->bstate == 2) {
			p->bseq = md->a.seq[pi + 1] + 1;
			p->bkind = B_LEAVE;
			p->bstate = 3;
			run(md, pi, 3, (const char *[]){ "BARRIER.LEAVE", "B", sid }, r, sizeof(r));
		}
		return;
	}
	/* close the session */
	md->nended = 0;
	session_ended(md, pi);
	run(md, pi, 2, (const char *[]){ "SESSION.CLOSE", sid }, r, sizeof(r));
	if (r[0] != '+')
		violation(md, "close", "got %s", r);
	settle(md);
}

static void tick(struct model *md)
{
	char r[8];
	int i;

	md->nended = 0;
	for (i = 0; i < NPROC; i++)
		if (md->p[i].session && md->a.ts > md->p[i].deadline) {
			md->expiries++;
			session_ended(md, i);
		}
	run(md, -1, 0, NULL, r, sizeof(r));
	settle(md);
}

/* The live events replayed, and a fresh watch from 1: the same bytes. */
static void check_watch(struct model *md)
{
	struct smtest *t = &md->a;
	char *again = NULL;
	size_t len = 0, i;
	uint64_t q = smtest_read(t, WATCHER + 1, "WATCH", "k/", "PREFIX", "FROM", "1", NULL);

	for (i = 0; i < t->fx.n; i++) {
		size_t n;
		char *r;

		if (t->fx.v[i].kind != TRUTH_SM_FX_PUSH)
			continue;
		r = truth_sm_effect_resp2(&t->fx, &t->fx.v[i], &n);
		again = realloc(again, len + n);
		memcpy(again + len, r, n);
		len += n;
		free(r);
	}
	/* both watches have id 1 (each client's first request), so the bytes must match */
	if (len != md->live_len)
		violation(md, "watch", "live %zu bytes, catch-up %zu bytes", md->live_len, len);
	if (!md->fail && len && memcmp(again, md->live, len))
		violation(md, "watch", "catch-up differs from the live events");
	(void)q;
	free(again);
}

static int run_seed(struct __test_metadata *_metadata, uint64_t seed)
{
	struct model *md = calloc(1, sizeof(*md));
	uint8_t *sa, *sb, *sc;
	size_t la, lb, lc;
	int step, i, ok;

	rng_state = seed ? seed : 1;
	ASSERT_NE(NULL, md);
	ASSERT_EQ(0, smtest_init(&md->a, 1u << 16));
	ASSERT_EQ(0, smtest_init(&md->b, 1u << 16));
	ASSERT_EQ(0, smtest_init(&md->c, 1u << 16));
	for (i = 0; i < NMUTEX; i++) {
		md->m[i].name = (const char *[]){ "L0", "L1", "E0" }[i];
		md->m[i].elect = i == 2;
	}
	md->watch_seq = smtest_read(&md->a, WATCHER, "WATCH", "k/", "PREFIX", NULL);
	smtest_read(&md->b, WATCHER, "WATCH", "k/", "PREFIX", NULL);
	for (step = 0; step < STEPS && !md->fail; step++) {
		md->a.ts += (int64_t)rnd_below(120) * MS;
		if (rnd_below(5) == 0)
			tick(md);
		else
			act(md, (int)rnd_below(NPROC));
		if (step % 16 == 0)
			check_reads(md);
		if (step == STEPS / 2) {
			uint8_t *s = smtest_snap(&md->a, &la);

			ASSERT_EQ(0, truth_sm_restore(md->c.sm, s, la));
			sc = smtest_snap(&md->c, &lc);	/* save(restore(x)) == x */
			if (lc != la || memcmp(s, sc, la))
				violation(md, "snapshot", "restored instance saves differently");
			free(sc);
			md->c.index = md->a.index;
			md->have_c = true;
			free(s);
		}
		if (step == STEPS * 3 / 4) {
			uint8_t *s = smtest_snap(&md->b, &lb);

			ASSERT_EQ(0, truth_sm_restore(md->b.sm, s, lb));
			free(s);
		}
	}
	check_reads(md);
	check_watch(md);
	sa = smtest_snap(&md->a, &la);
	sb = smtest_snap(&md->b, &lb);
	sc = smtest_snap(&md->c, &lc);
	if (!md->fail && (la != lb || la != lc || memcmp(sa, sb, la) || memcmp(sa, sc, la)))
		violation(md, "snapshot", "A %zu B %zu C %zu bytes, or contents differ", la, lb, lc);
	ok = !md->fail;
	if (!ok)
		TH_LOG("seed %llu step %d: %s: %s", (unsigned long long)seed, step, md->fail, md->why);
	else if (getenv("TRUTH_VERBOSE") || seed % 10 == 0)
		TH_LOG("seed %llu: rev %llu, %lu grants, %lu releases, %lu expiries, fenced %lu ok "
		       "%lu refused, %lu watch events", (unsigned long long)seed,
		       (unsigned long long)truth_sm_revision(md->a.sm), md->grants, md->releases,
		       md->expiries, md->fenced_ok, md->fenced_refused, md->pushes);
	free(sa);
	free(sb);
	free(sc);
	free(md->live);
	smtest_fini(&md->a);
	smtest_fini(&md->b);
	smtest_fini(&md->c);
	free(md);
	return ok;
}

TEST(model)
{
	uint64_t first = seed_init(), n = getenv("TRUTH_SEED") ? 1 : cases(20), s;
	unsigned long failed = 0;

	TH_LOG("seeds %llu..%llu (replay one: TRUTH_SEED=<seed> %s)", (unsigned long long)first,
	       (unsigned long long)(first + n - 1), "build/selftests/host/test_sm_model");
	for (s = first; s < first + n; s++)
		failed += !run_seed(_metadata, s);
	EXPECT_EQ(0, failed);
}

TEST_HARNESS_MAIN
