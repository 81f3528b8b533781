// SPDX-License-Identifier: GPL-2.0
/*
 * Module unload is safe with groups present, with listeners subscribed to
 * the events group, with events being sent and with netlink calls in flight:
 * 50 load/unload cycles, each with groups in this namespace and in another
 * one, a listener, and threads acking, dumping and ticking clocks until
 * after the module is gone.  The kernel log is checked by the runner after
 * the program.  The module is left loaded or not as it was found.
 */

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#define TNL_NO_MODULE_GUARD
#include "kselftest_harness.h"
#include "test_netlink_lib.h"

#define CYCLES		50
#define HAMMERS		3

static volatile int hammer_stop;

/* Keep the module busy: acks (and so events), dumps, clock ticks. */
static void *hammer(void *arg)
{
	unsigned long *calls = arg;
	struct tclock c;
	__u32 ids[8];
	struct tnl *t;
	__u64 idx = 1;

	t = malloc(sizeof(*t));
	if (!t || tnl_open(t)) {
		free(t);
		return NULL;
	}
	while (!hammer_stop) {
		truth_ack(t, 1 + idx % 3, 1, 1 + idx % 3, idx);
		truth_group_dump(t, ids, 8);
		truth_clock(t, TRUTH_CMD_CLOCK_TICK, 1, &c);
		idx++;
		(*calls)++;
	}
	tnl_close(t);
	free(t);
	return NULL;
}

static int unload_patiently(void)
{
	int i, ret = -EBUSY;

	for (i = 0; i < 10 && ret; i++)
		ret = truth_module_unload();	/* each try waits up to 2 s */
	return ret;
}

FIXTURE(reload) {
	bool was_loaded;
};

FIXTURE_SETUP(reload)
{
	self->was_loaded = truth_module_loaded();
	if (self->was_loaded)
		ASSERT_EQ(0, unload_patiently());
}

FIXTURE_TEARDOWN(reload)
{
	hammer_stop = 1;
	if (self->was_loaded)
		truth_module_load();
	else
		unload_patiently();
}

TEST_F_TIMEOUT(reload, fifty_cycles_with_groups_listeners_and_calls_in_flight, 300)
{
	unsigned long calls[HAMMERS] = { 0 }, total = 0;
	int cycle, i, status;

	for (cycle = 0; cycle < CYCLES; cycle++) {
		pthread_t th[HAMMERS];
		struct tnl t, ev;
		int pipefd[2];
		pid_t other;
		char c;

		ASSERT_EQ(0, truth_module_load()) TH_LOG("cycle %d: insmod", cycle);
		ASSERT_EQ(0, tnl_open(&t));
		ASSERT_EQ(0, tnl_open(&ev));
		ASSERT_EQ(0, tnl_listen(&ev));
		for (i = 1; i <= 3; i++)
			ASSERT_EQ(0, truth_group_add(&t, i, 1 + i * 2, 1));

		/* another namespace with groups and an open socket */
		ASSERT_EQ(0, pipe(pipefd));
		other = fork();
		ASSERT_LE(0, other);
		if (other == 0) {
			struct tnl o;

			close(pipefd[0]);
			if (unshare(CLONE_NEWNET) || tnl_open(&o) || tnl_listen(&o))
				_exit(1);
			for (i = 1; i <= 5; i++)
				truth_group_add(&o, i, 3, 1);
			if (write(pipefd[1], "x", 1) != 1)
				_exit(2);
			pause();
			_exit(0);
		}
		close(pipefd[1]);
		ASSERT_EQ(1, read(pipefd[0], &c, 1)) TH_LOG("cycle %d: netns child failed", cycle);
		close(pipefd[0]);

		hammer_stop = 0;
		for (i = 0; i < HAMMERS; i++)
			ASSERT_EQ(0, pthread_create(&th[i], NULL, hammer, &calls[i]));
		usleep(20000 + (cycle % 5) * 10000);

		/* unload under all of it */
		ASSERT_EQ(0, unload_patiently()) TH_LOG("cycle %d: rmmod", cycle);
		ASSERT_FALSE(truth_module_loaded());

		hammer_stop = 1;
		for (i = 0; i < HAMMERS; i++)
			pthread_join(th[i], NULL);
		kill(other, SIGKILL);
		waitpid(other, &status, 0);
		tnl_close(&ev);
		tnl_close(&t);
	}
	for (i = 0; i < HAMMERS; i++)
		total += calls[i];
	TH_LOG("%d cycles, %lu request rounds in flight around the unloads", CYCLES, total);
	EXPECT_LT(CYCLES, total);
}

TEST_HARNESS_MAIN
