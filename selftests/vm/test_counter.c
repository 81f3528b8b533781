// SPDX-License-Identifier: GPL-2.0
/*
 * agent/counter against the real truth.ko: the kernel path and the user
 * path driven with the same random call sequences must agree with each
 * other and with the reference (selftests/lib/counter_ref.h) — return
 * codes, error messages, the commit after each poll, the final commit, the
 * match indexes.  Then the kernel path's own duties: another group's events
 * are ignored (also across an overrun of the events socket), close deletes
 * the kernel group, a group deleted by someone else is reported, a leftover
 * of an earlier run is replaced but another node's group is not, AUTO falls
 * back to user space with a reason without CAP_NET_ADMIN or without the
 * module, an AUTO counter whose kernel group disappears (deleted, module
 * unloaded) or that loses CAP_NET_ADMIN goes on in user space behind the
 * same fd while a KERNEL one reports the loss, and counters in two network namespaces do not see each
 * other.
 *
 * TRUTH_SEED=<n> replays; TRUTH_SEEDS=<n> sets the number of sequences
 * (default 40).  The seed is printed.
 */

#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "test_netlink_lib.h"

#include "truth_rand.h"
#include "counter_ref.h"

#define GID		4242	/* the counters' group */
#define GID_OTHER	4343	/* someone else's group in the same namespace */
#define OPS_PER_CASE	300

static bool fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void cfg_3(struct truth_counter_cfg *cfg, enum truth_counter_mode mode)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->group_id = GID;
	cfg->self = 1;
	cfg->n_members = 3;
	cfg->members[0] = (struct truth_counter_member){ 1, 1 };
	cfg->members[1] = (struct truth_counter_member){ 2, 1 };
	cfg->members[2] = (struct truth_counter_member){ 3, 1 };
	cfg->mode = mode;
}

/* Whether socket inode @ino is one of this process's fds. */
static bool own_socket(unsigned long ino)
{
	char path[300], link[64], want[64];
	struct dirent *d;
	bool found = false;
	DIR *dir;

	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	dir = opendir("/proc/self/fd");
	if (!dir)
		return false;
	while (!found && (d = readdir(dir))) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", d->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = 0;
			found = !strcmp(link, want);
		}
	}
	closedir(dir);
	return found;
}

/*
 * Messages the kernel dropped on this process's netlink sockets that listen
 * to a multicast group (/proc/net/netlink) — the counter's events socket,
 * hidden behind its epoll fd.  -1 if there is none.
 */
static long listener_drops(void)
{
	unsigned long ino, drops, groups;
	char line[512];
	long ret = -1;
	FILE *f;

	f = fopen("/proc/net/netlink", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode */
		if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %*s %lu %lu",
			   &groups, &drops, &ino) == 3 && groups && own_socket(ino))
			ret = (ret < 0 ? 0 : ret) + (long)drops;
	}
	fclose(f);
	return ret;
}

FIXTURE(counter) {
	struct tnl t;
};

FIXTURE_SETUP(counter)
{
	ASSERT_EQ(0, truth_module_load());
	ASSERT_EQ(0, tnl_open(&self->t));
	truth_group_remove(&self->t, GID);
	truth_group_remove(&self->t, GID_OTHER);
}

FIXTURE_TEARDOWN(counter)
{
	truth_group_remove(&self->t, GID);
	truth_group_remove(&self->t, GID_OTHER);
	tnl_close(&self->t);
}

TEST_F(counter, kernel_and_user_agree_on_random_sequences)
{
	unsigned long i, total = cases(40);
	uint64_t seed = seed_init();
	uint64_t advances = 0, refusals = 0;
	struct truth_counter_cfg cfg;
	char err[256], what[512];
	struct tgroup g;

	TH_LOG("seed %llu, %lu sequences of %d calls (TRUTH_SEED=%llu replays)",
	       (unsigned long long)seed, total, OPS_PER_CASE, (unsigned long long)seed);
	for (i = 0; i < total; i++) {
		struct truth_counter *k, *u;
		uint64_t ck = 0, cu = 0;
		struct cref r;
		uint32_t node;
		int op_i;

		cop_random_cfg(&cfg, GID);
		cfg.mode = TRUTH_COUNTER_KERNEL;
		k = truth_counter_open(&cfg, err, sizeof(err));
		ASSERT_NE(NULL, k) TH_LOG("case %lu: kernel open: %s", i, err);
		ASSERT_EQ(TRUTH_COUNTER_PATH_KERNEL, truth_counter_path(k));
		cfg.mode = TRUTH_COUNTER_USER;
		u = truth_counter_open(&cfg, err, sizeof(err));
		ASSERT_NE(NULL, u) TH_LOG("case %lu: user open: %s", i, err);
		cref_init(&r, &cfg);
		for (op_i = 0; op_i < OPS_PER_CASE; op_i++) {
			uint64_t mk = 0, mu = 0, mr = 0, cr = 0;
			int rk, ru, rr, pk, pu, pr;
			struct cop op;

			cop_random(&op, &r);
			cop_print(&op, what, sizeof(what));
			rr = cop_ref(&r, &op, &mr);
			rk = cop_counter(k, &op, &mk);
			ru = cop_counter(u, &op, &mu);
			ASSERT_EQ(rr, rk) TH_LOG("case %lu op %d: %s: '%s'", i, op_i, what,
						 truth_counter_error(k));
			ASSERT_EQ(rr, ru) TH_LOG("case %lu op %d: %s", i, op_i, what);
			if (rk) {
				refusals++;
				/* the user path speaks the kernel's extack messages */
				EXPECT_STREQ(truth_counter_error(k), truth_counter_error(u))
					TH_LOG("case %lu op %d: %s", i, op_i, what);
			} else if (op.kind == COP_MATCH) {
				ASSERT_EQ(mr, mk) TH_LOG("case %lu op %d: %s", i, op_i, what);
				ASSERT_EQ(mr, mu);
			}
			/* the event is queued before the kernel answers the ack */
			if (r.commit > r.reported)
				ASSERT_TRUE(fd_readable(truth_counter_fd(k)))
					TH_LOG("case %lu op %d: %s", i, op_i, what);
			pr = cref_poll(&r, &cr);
			pk = truth_counter_poll(k, &ck);
			pu = truth_counter_poll(u, &cu);
			ASSERT_EQ(pr, pk) TH_LOG("case %lu op %d: %s: commit %llu", i, op_i, what,
						 (unsigned long long)r.commit);
			ASSERT_EQ(pr, pu);
			if (pr == 1) {
				advances++;
				ASSERT_EQ(cr, ck) TH_LOG("case %lu op %d: %s", i, op_i, what);
				ASSERT_EQ(cr, cu);
			}
			ASSERT_FALSE(fd_readable(truth_counter_fd(k)));
		}
		for (node = 1; node <= CREF_NODES; node++) {
			uint64_t a = 0, b = 0, c = 0;
			int ra = cref_match(&r, node, &a);

			ASSERT_EQ(ra, truth_counter_match(k, node, &b));
			ASSERT_EQ(ra, truth_counter_match(u, node, &c));
			ASSERT_EQ(a, b) TH_LOG("case %lu node %u", i, node);
			ASSERT_EQ(a, c);
		}
		/* the final commit, as the kernel itself reports it */
		ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
		ASSERT_EQ(r.commit, g.commit);
		ASSERT_EQ(r.commit, ck > cfg.commit ? ck : cfg.commit);
		truth_counter_close(k);
		truth_counter_close(u);
		/* close deleted the kernel group */
		ASSERT_EQ(-ENOENT, truth_group_get(&self->t, GID, &g));
	}
	TH_LOG("%llu advances, %llu refused calls", (unsigned long long)advances,
	       (unsigned long long)refusals);
	EXPECT_LT(total, advances);
	EXPECT_LT(total, refusals);
}

/*
 * One random call on @c and on the reference, then a poll of both; NULL if
 * they agree, else what differed (in @buf).
 */
static const char *step_agrees(struct truth_counter *c, struct cref *r,
			       char *buf, size_t len)
{
	uint64_t mc = 0, mr = 0, cc = 0, cr = 0;
	char what[512];
	int rc, rr, pc, pr;
	struct cop op;

	cop_random(&op, r);
	cop_print(&op, what, sizeof(what));
	rr = cop_ref(r, &op, &mr);
	rc = cop_counter(c, &op, &mc);
	pr = cref_poll(r, &cr);
	pc = truth_counter_poll(c, &cc);
	if (rr != rc || (!rr && op.kind == COP_MATCH && mr != mc) || pr != pc ||
	    (pr == 1 && cr != cc)) {
		snprintf(buf, len, "%s: ret %d/%d match %llu/%llu poll %d/%d commit %llu/%llu '%s'",
			 what, rc, rr, (unsigned long long)mc, (unsigned long long)mr, pc, pr,
			 (unsigned long long)cc, (unsigned long long)cr, truth_counter_error(c));
		return buf;
	}
	return NULL;
}

/*
 * The kernel group of an AUTO counter is deleted in the middle of a random
 * sequence: from the next call on the counter counts in user space from
 * its shadow, and still agrees with the reference call by call.
 */
TEST_F(counter, auto_moves_mid_sequence_and_still_agrees)
{
	unsigned long i, total = cases(40) / 2 + 1;
	uint64_t seed = seed_init() + 1;
	struct truth_counter_cfg cfg;
	const char *bad;
	char err[256], buf[1024];

	rng_state = seed;
	TH_LOG("seed %llu (TRUTH_SEED=%llu replays)", (unsigned long long)seed,
	       (unsigned long long)seed - 1);
	for (i = 0; i < total; i++) {
		int op_i, cut = 20 + (int)rnd_below(OPS_PER_CASE - 40);
		struct truth_counter *c;
		struct cref r;
		uint32_t node;

		cop_random_cfg(&cfg, GID);
		cfg.mode = TRUTH_COUNTER_AUTO;
		c = truth_counter_open(&cfg, err, sizeof(err));
		ASSERT_NE(NULL, c) TH_LOG("case %lu: %s", i, err);
		ASSERT_EQ(TRUTH_COUNTER_PATH_KERNEL, truth_counter_path(c));
		cref_init(&r, &cfg);
		for (op_i = 0; op_i < OPS_PER_CASE; op_i++) {
			if (op_i == cut)
				ASSERT_EQ(0, truth_group_remove(&self->t, GID));
			bad = step_agrees(c, &r, buf, sizeof(buf));
			ASSERT_EQ(NULL, bad) TH_LOG("case %lu op %d (cut %d): %s", i, op_i,
						    cut, bad);
			ASSERT_EQ(op_i < cut ? TRUTH_COUNTER_PATH_KERNEL : TRUTH_COUNTER_PATH_USER,
				  truth_counter_path(c)) TH_LOG("case %lu op %d", i, op_i);
		}
		for (node = 1; node <= CREF_NODES; node++) {
			uint64_t a = 0, b = 0;

			ASSERT_EQ(cref_match(&r, node, &a), truth_counter_match(c, node, &b));
			ASSERT_EQ(a, b) TH_LOG("case %lu node %u", i, node);
		}
		truth_counter_close(c);
	}
}

TEST_F(counter, events_of_another_group_are_ignored)
{
	struct truth_counter_cfg cfg;
	struct truth_counter *c;
	uint64_t v = 0;
	char err[256];
	long drops;
	int i;

	cfg_3(&cfg, TRUTH_COUNTER_KERNEL);
	c = truth_counter_open(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);
	ASSERT_EQ(0, truth_counter_set_term(c, 1, 1, true));
	ASSERT_EQ(0, truth_group_add(&self->t, GID_OTHER, 3, 1));

	/* the other group's commits reach our socket, and count for nothing */
	for (i = 1; i <= 20; i++) {
		ASSERT_EQ(0, truth_ack(&self->t, GID_OTHER, 1, 0, i));
		ASSERT_EQ(0, truth_ack(&self->t, GID_OTHER, 1, 2, i));
	}
	EXPECT_TRUE(fd_readable(truth_counter_fd(c)));
	EXPECT_EQ(0, truth_counter_poll(c, &v));
	EXPECT_FALSE(fd_readable(truth_counter_fd(c)));
	ASSERT_EQ(0, truth_counter_ack(c, 1, 1, 5));
	ASSERT_EQ(0, truth_counter_ack(c, 3, 1, 4));
	ASSERT_EQ(1, truth_counter_poll(c, &v));
	EXPECT_EQ(4, v);

	/*
	 * Overrun: thousands of the other group's events fill our socket, so
	 * our own advance's event is dropped; poll must notice (ENOBUFS) and
	 * read our commit back.
	 */
	drops = listener_drops();
	ASSERT_LE(0, drops);
	for (i = 21; i < 6000 && listener_drops() == drops; i++) {
		ASSERT_EQ(0, truth_ack(&self->t, GID_OTHER, 1, 0, i));
		ASSERT_EQ(0, truth_ack(&self->t, GID_OTHER, 1, 2, i));
	}
	TH_LOG("the events socket overflowed after %d events of another group", i - 21);
	ASSERT_LT(drops, listener_drops())
		TH_LOG("the events socket never overflowed");
	ASSERT_EQ(0, truth_counter_ack(c, 2, 1, 9));
	ASSERT_EQ(1, truth_counter_poll(c, &v));
	EXPECT_EQ(5, v);
	EXPECT_EQ(0, truth_counter_poll(c, &v));
	truth_counter_close(c);
}

TEST_F(counter, close_and_foreign_deletes)
{
	struct truth_counter_cfg cfg;
	struct truth_counter *c;
	struct tgroup g;
	uint64_t v = 0;
	char err[256];

	cfg_3(&cfg, TRUTH_COUNTER_KERNEL);
	cfg.commit = 17;
	c = truth_counter_open(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(17, g.commit);	/* the commit known from disk */
	EXPECT_EQ(1, g.self);
	EXPECT_EQ(3, g.n_members);
	truth_counter_close(c);
	EXPECT_EQ(-ENOENT, truth_group_get(&self->t, GID, &g));

	/* someone deletes our group behind our back: poll says so */
	c = truth_counter_open(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);
	ASSERT_EQ(0, truth_group_remove(&self->t, GID));
	EXPECT_EQ(-ENOENT, truth_counter_poll(c, &v));
	EXPECT_NE(NULL, strstr(truth_counter_error(c), "deleted")) TH_LOG("%s",
									   truth_counter_error(c));
	EXPECT_EQ(-ENOENT, truth_counter_ack(c, 1, 0, 3));
	EXPECT_STREQ("no such group", truth_counter_error(c));
	truth_counter_close(c);
}

TEST_F(counter, leftover_replaced_another_nodes_group_kept)
{
	struct truth_counter_cfg cfg;
	struct truth_counter *c;
	struct tgroup g;
	char err[256];

	/* what a killed truthd of this node (SELF 1) left behind */
	ASSERT_EQ(0, truth_group_add(&self->t, GID, 5, 9));
	cfg_3(&cfg, TRUTH_COUNTER_KERNEL);
	c = truth_counter_open(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(3, g.n_members);
	EXPECT_EQ(0, g.term);
	truth_counter_close(c);

	/* another node's group with our id: not ours to take */
	ASSERT_EQ(0, truth_group_add(&self->t, GID, 5, 9));
	cfg.self = 2;
	errno = 0;
	EXPECT_EQ(NULL, truth_counter_open(&cfg, err, sizeof(err)));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_NE(NULL, strstr(err, "already exists")) TH_LOG("%s", err);
	cfg.mode = TRUTH_COUNTER_AUTO;
	c = truth_counter_open(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);
	EXPECT_EQ(TRUTH_COUNTER_PATH_USER, truth_counter_path(c));
	EXPECT_NE(NULL, strstr(truth_counter_reason(c), "already exists"));
	truth_counter_close(c);
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(5, g.n_members);
	EXPECT_EQ(9, g.term);
}

/* After fork: this process drops CAP_NET_ADMIN under an open counter. */
static int drop_caps_under(struct truth_counter *a, struct truth_counter *k)
{
	uint64_t v = 0;

	if (setresuid(65534, 65534, 65534))
		return 30;
	if (truth_counter_ack(k, 1, 1, 4) != -EPERM ||
	    truth_counter_path(k) != TRUTH_COUNTER_PATH_KERNEL)
		return 31;
	if (truth_counter_ack(a, 1, 1, 4) != 0 ||
	    truth_counter_path(a) != TRUTH_COUNTER_PATH_USER)
		return 32;
	fprintf(stderr, "#   without CAP_NET_ADMIN: counting in user space: %s\n",
		truth_counter_reason(a));
	if (!strstr(truth_counter_reason(a), "CAP_NET_ADMIN"))
		return 33;
	/* 2's match (3) came along in the shadow: 1 and 2 at 4 commit 4 */
	if (truth_counter_ack(a, 2, 1, 4) || truth_counter_poll(a, &v) != 1 || v != 4)
		return 34;
	return 0;
}

TEST_F(counter, auto_goes_on_in_user_space_after_dropping_privileges)
{
	struct truth_counter_cfg cfg;
	struct truth_counter *a, *k;
	uint64_t v = 0;
	struct tgroup g;
	char err[256];
	pid_t pid;
	int status;

	cfg_3(&cfg, TRUTH_COUNTER_AUTO);
	a = truth_counter_open(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, a) TH_LOG("%s", err);
	cfg.mode = TRUTH_COUNTER_KERNEL;
	cfg.group_id = GID_OTHER;
	k = truth_counter_open(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, k) TH_LOG("%s", err);
	ASSERT_EQ(0, truth_counter_set_term(a, 1, 1, true));
	ASSERT_EQ(0, truth_counter_set_term(k, 1, 1, true));
	ASSERT_EQ(0, truth_counter_ack(a, 1, 1, 3));
	ASSERT_EQ(0, truth_counter_ack(a, 2, 1, 3));
	ASSERT_EQ(1, truth_counter_poll(a, &v));
	ASSERT_EQ(3, v);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(drop_caps_under(a, k));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* the child could not delete the groups; here they are still counted */
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(3, g.commit);
	truth_counter_close(a);
	truth_counter_close(k);
	EXPECT_EQ(-ENOENT, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(-ENOENT, truth_group_get(&self->t, GID_OTHER, &g));
}

TEST_F(counter, auto_and_key)
{
	static const uint8_t key[32] = { 7 };
	struct truth_counter_cfg cfg;
	struct truth_counter *c;
	char err[256];
	pid_t pid;
	int status;

	cfg_3(&cfg, TRUTH_COUNTER_AUTO);
	c = truth_counter_open(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);
	EXPECT_EQ(TRUTH_COUNTER_PATH_KERNEL, truth_counter_path(c));
	EXPECT_STREQ("", truth_counter_reason(c));
#ifdef TRUTH_A_GROUP_KEY
	EXPECT_EQ(0, truth_counter_set_key(c, key));
#else
	EXPECT_EQ(-EOPNOTSUPP, truth_counter_set_key(c, key));
#endif
	truth_counter_close(c);

	/* without CAP_NET_ADMIN: GROUP_NEW is refused, AUTO counts here */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setresuid(65534, 65534, 65534))
			_exit(10);
		c = truth_counter_open(&cfg, err, sizeof(err));
		if (!c || truth_counter_path(c) != TRUTH_COUNTER_PATH_USER)
			_exit(11);
		fprintf(stderr, "#   as nobody: counting in user space: %s\n",
			truth_counter_reason(c));
		if (!strstr(truth_counter_reason(c), "CAP_NET_ADMIN"))
			_exit(12);
		truth_counter_close(c);
		cfg.mode = TRUTH_COUNTER_KERNEL;
		c = truth_counter_open(&cfg, err, sizeof(err));
		_exit(c || errno != EPERM ? 13 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(counter, auto_without_the_module)
{
	struct truth_counter_cfg cfg;
	struct truth_counter *c;
	char err[256];

	tnl_close(&self->t);
	ASSERT_EQ(0, truth_module_unload());
	cfg_3(&cfg, TRUTH_COUNTER_AUTO);
	c = truth_counter_open(&cfg, err, sizeof(err));
	if (c) {
		EXPECT_EQ(TRUTH_COUNTER_PATH_USER, truth_counter_path(c));
		EXPECT_STREQ("family 'truth' not found (is truth.ko loaded?)",
			     truth_counter_reason(c));
		truth_counter_close(c);
	}
	cfg.mode = TRUTH_COUNTER_KERNEL;
	errno = 0;
	EXPECT_EQ(NULL, truth_counter_open(&cfg, err, sizeof(err)));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_STREQ("kernel: family 'truth' not found (is truth.ko loaded?)", err);
	ASSERT_EQ(0, truth_module_load());
	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, tnl_open(&self->t));
}

#define RACE_ACKS	3000

/* Another acker of our group (the fast path, later): nodes 2 and 3. */
static void *race_acker(void *arg)
{
	struct tnl t;
	__u64 i;

	if (tnl_open(&t))
		return (void *)1;
	for (i = 1; i <= RACE_ACKS; i++)
		if (truth_ack(&t, GID, 1, 2 + (i & 1), i))
			break;
	tnl_close(&t);
	return (void *)(uintptr_t)(i <= RACE_ACKS);
}

TEST_F(counter, acks_racing_from_another_socket)
{
	struct truth_counter_cfg cfg;
	struct truth_counter *c;
	uint64_t v = 0, last = 0, reports = 0;
	struct tgroup g;
	pthread_t th;
	void *res;
	char err[256];
	int i, ret;

	cfg_3(&cfg, TRUTH_COUNTER_KERNEL);
	c = truth_counter_open(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);
	ASSERT_EQ(0, truth_counter_set_term(c, 1, 1, true));
	ASSERT_EQ(0, pthread_create(&th, NULL, race_acker, NULL));
	for (i = 1; i <= RACE_ACKS; i++) {
		ASSERT_EQ(0, truth_counter_ack(c, 1, 1, i));
		ret = truth_counter_poll(c, &v);
		ASSERT_LE(0, ret);
		if (ret) {
			ASSERT_LT(last, v);	/* strictly increasing */
			last = v;
			reports++;
		}
	}
	ASSERT_EQ(0, pthread_join(th, &res));
	ASSERT_EQ(NULL, res);
	/* every advance, folded or not, was sent before its ack returned */
	ret = truth_counter_poll(c, &v);
	if (ret == 1)
		last = v;
	ASSERT_EQ(0, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(RACE_ACKS, g.commit);
	EXPECT_EQ(g.commit, last);
	TH_LOG("%llu reports for %d advances by two writers",
	       (unsigned long long)reports + (ret == 1), RACE_ACKS);
	truth_counter_close(c);
}

TEST_F(counter, auto_goes_on_in_user_space_when_the_group_disappears)
{
	struct truth_counter_cfg cfg;
	struct truth_counter *c;
	uint64_t v = 0;
	struct tgroup g;
	char err[256];
	int fd;

	cfg_3(&cfg, TRUTH_COUNTER_AUTO);
	c = truth_counter_open(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);
	ASSERT_EQ(TRUTH_COUNTER_PATH_KERNEL, truth_counter_path(c));
	fd = truth_counter_fd(c);
	ASSERT_EQ(0, truth_counter_set_term(c, 1, 1, true));
	ASSERT_EQ(0, truth_counter_ack(c, 1, 1, 5));
	ASSERT_EQ(0, truth_counter_ack(c, 3, 1, 5));
	ASSERT_EQ(1, truth_counter_poll(c, &v));
	ASSERT_EQ(5, v);

	ASSERT_EQ(0, truth_group_remove(&self->t, GID));
	/* the next call notices, moves to user space and succeeds there */
	ASSERT_EQ(0, truth_counter_ack(c, 1, 1, 8)) TH_LOG("%s", truth_counter_error(c));
	EXPECT_EQ(TRUTH_COUNTER_PATH_USER, truth_counter_path(c));
	EXPECT_NE(NULL, strstr(truth_counter_reason(c), "disappeared"))
		TH_LOG("%s", truth_counter_reason(c));
	EXPECT_EQ(fd, truth_counter_fd(c));
	EXPECT_EQ(0, truth_counter_poll(c, &v));	/* still 5 */
	EXPECT_FALSE(fd_readable(fd));
	/* the shadow kept 3's match (5), so 1 and 2 at 8 commit 8 */
	EXPECT_EQ(0, truth_counter_match(c, 3, &v));
	EXPECT_EQ(5, v);
	ASSERT_EQ(0, truth_counter_ack(c, 2, 1, 8));
	EXPECT_TRUE(fd_readable(fd));
	ASSERT_EQ(1, truth_counter_poll(c, &v));
	EXPECT_EQ(8, v);
	EXPECT_EQ(-ESTALE, truth_counter_ack(c, 2, 2, 9));
	EXPECT_STREQ("the ack's term is not the group's term", truth_counter_error(c));
	/* a new group with our id is someone else's: close leaves it */
	ASSERT_EQ(0, truth_group_add(&self->t, GID, 3, 1));
	truth_counter_close(c);
	EXPECT_EQ(0, truth_group_get(&self->t, GID, &g));
}

TEST_F(counter, module_unloaded_under_open_counters)
{
	struct truth_counter_cfg cfg;
	struct truth_counter *a, *k;
	uint64_t v = 0;
	struct tgroup g;
	char err[256];

	cfg_3(&cfg, TRUTH_COUNTER_AUTO);
	a = truth_counter_open(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, a) TH_LOG("%s", err);
	cfg.mode = TRUTH_COUNTER_KERNEL;
	cfg.group_id = GID_OTHER;
	k = truth_counter_open(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, k) TH_LOG("%s", err);
	ASSERT_EQ(0, truth_counter_set_term(a, 1, 1, true));
	ASSERT_EQ(0, truth_counter_set_term(k, 1, 1, true));
	ASSERT_EQ(0, truth_counter_ack(a, 1, 1, 3));
	ASSERT_EQ(0, truth_counter_ack(a, 2, 1, 3));
	ASSERT_EQ(1, truth_counter_poll(a, &v));
	ASSERT_EQ(3, v);

	tnl_close(&self->t);
	ASSERT_EQ(0, truth_module_unload());
	/* KERNEL: the error; AUTO: on in user space */
	EXPECT_EQ(-ENOENT, truth_counter_ack(k, 1, 1, 3));
	EXPECT_EQ(TRUTH_COUNTER_PATH_KERNEL, truth_counter_path(k));
	EXPECT_EQ(0, truth_counter_ack(a, 1, 1, 4));
	EXPECT_EQ(TRUTH_COUNTER_PATH_USER, truth_counter_path(a));
	EXPECT_EQ(0, truth_counter_ack(a, 3, 1, 4));
	EXPECT_EQ(1, truth_counter_poll(a, &v));
	EXPECT_EQ(4, v);
	truth_counter_close(k);
	truth_counter_close(a);
	ASSERT_EQ(0, truth_module_load());
	ASSERT_EQ(0, tnl_open(&self->t));
	EXPECT_EQ(-ENOENT, truth_group_get(&self->t, GID, &g));
	EXPECT_EQ(-ENOENT, truth_group_get(&self->t, GID_OTHER, &g));
}

/* Namespace B: the same group id, its own commits, none of A's. */
static int in_b(int go, int done)
{
	struct truth_counter_cfg cfg;
	struct truth_counter *c;
	uint64_t v = 0;
	char err[256], x;

	if (unshare(CLONE_NEWNET))
		return 20;
	cfg_3(&cfg, TRUTH_COUNTER_KERNEL);
	c = truth_counter_open(&cfg, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "#   B: %s\n", err);
		return 21;
	}
	if (truth_counter_set_term(c, 1, 1, true) || write(done, "r", 1) != 1)
		return 22;
	if (read(go, &x, 1) != 1)	/* A has committed 7 meanwhile */
		return 23;
	if (truth_counter_poll(c, &v) != 0 || fd_readable(truth_counter_fd(c)))
		return 24;
	if (truth_counter_ack(c, 1, 1, 3) || truth_counter_ack(c, 2, 1, 3))
		return 25;
	if (truth_counter_poll(c, &v) != 1 || v != 3)
		return 26;
	truth_counter_close(c);
	return 0;
}

TEST_F(counter, two_namespaces_do_not_see_each_other)
{
	struct truth_counter_cfg cfg;
	struct truth_counter *c;
	int go[2], done[2], status;
	uint64_t v = 0;
	char err[256], x;
	pid_t pid;

	cfg_3(&cfg, TRUTH_COUNTER_KERNEL);
	c = truth_counter_open(&cfg, err, sizeof(err));
	ASSERT_NE(NULL, c) TH_LOG("%s", err);
	ASSERT_EQ(0, truth_counter_set_term(c, 1, 1, true));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(in_b(go[0], done[1]));
	ASSERT_EQ(1, read(done[0], &x, 1));
	ASSERT_EQ(0, truth_counter_ack(c, 1, 1, 7));
	ASSERT_EQ(0, truth_counter_ack(c, 3, 1, 7));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* ours is 7; B's 3 never arrived here */
	ASSERT_EQ(1, truth_counter_poll(c, &v));
	EXPECT_EQ(7, v);
	EXPECT_EQ(0, truth_counter_poll(c, &v));
	truth_counter_close(c);
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
}

TEST_HARNESS_MAIN
