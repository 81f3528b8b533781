// SPDX-License-Identifier: GPL-2.0
/*
 * truth-probe: one clock-sync node (agent/clock/probe.h) on its own UDP
 * socket, for tests and the benchmark, on the host or in the VM.
 *
 *   truth-probe --id 1 --listen 10.0.0.1:7410 --peer 2=10.0.0.2:7410 \
 *               --peer 3=10.0.0.3:7410 --anchor-ns 50000 --offset-ns 3000000 \
 *               --drift-ppb 120000 --duration-ms 20000
 *
 * By default the node's clocks are the test-only simulated ones: true time
 * is this machine's CLOCK_REALTIME (the kernel timestamps' clock), the
 * local clock reads true + offset + drift, the reference clock true +
 * bias.  So the tool checks, every few milliseconds and after every
 * sample, that true time is inside now(), and prints one parseable line
 * per event and a summary:
 *
 *   sample node=1 peer=2 theta=.. delta=.. src=socket,socket,socket,socket followup=1 result=0
 *   now node=1 true=.. earliest=.. latest=.. eps=.. status=synchronised
 *   peer node=1 peer=2 state=truechimer falseticker_updates=0 updates=812
 *   freerun node=1 checks=.. growth_err_max=.. rate_ppb=..
 *   summary node=1 samples=.. checks=.. contained=.. eps_p50=.. eps_p99=.. ...
 *
 * --real uses MONOTONIC_RAW/REALTIME instead (true time unknown: no
 * containment check).  Exit status: 0 when every check held (and there was
 * one), 1 otherwise, 2 on bad arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock/probe_node.h"

#define MS		1000000LL
#define MAX_EPS		(1 << 20)

static const char *const status_names[] = { "unknown", "synchronised", "free-running" };
static const char *const state_names[] = { "none", "truechimer", "falseticker" };

struct tool {
	struct truth_probe_node node;
	struct truth_probe_simclock sim;
	struct truth_probe_clock clk;
	bool real, print_samples;
	uint32_t self;
	uint64_t checks, contained, samples;
	uint64_t unsure;		/* real clocks: reads too far apart */
	uint64_t *eps;
	uint64_t neps;
	uint64_t updates, false_updates[TRUTH_PROBE_MAX_PEERS];
	uint64_t fr_checks, fr_err_max;
	int64_t fr_l0, fr_l1, fr_as_of;
	uint64_t fr_e0, fr_e1;
	uint64_t src_t1[__TRUTH_WIRE_TSRC_MAX];
	uint64_t followups;
	int64_t warm_until;		/* epsilon statistics start here (true) */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void check(struct tool *t, bool print)
{
	struct truth_clock_estimate est;
	struct truth_clock_now n;
	int64_t tt, l;
	uint64_t eu, want, err;

	if (t->real) {
		/*
		 * True time is unknown; REALTIME is what the anchors vouch
		 * for.  REALTIME at the local reading l lies in [r0, r1]:
		 * inside when all of that is, outside when none of it is,
		 * otherwise the reads were too far apart to tell.
		 */
		int64_t r0 = t->clk.ref_now(t->clk.arg), r1;

		l = t->clk.local_now(t->clk.arg);
		r1 = t->clk.ref_now(t->clk.arg);
		truth_probe_now_at(t->node.engine, l, &n);
		if (n.status == TRUTH_CLOCK_UNKNOWN)
			return;
		t->checks++;
		if (n.earliest <= r0 && r1 <= n.latest)
			t->contained++;
		else if (n.latest < r0 || n.earliest > r1)
			printf("# node %u: REALTIME [%lld, %lld] outside [%lld, %lld]\n",
			       t->self, (long long)r0, (long long)r1,
			       (long long)n.earliest, (long long)n.latest);
		else
			t->unsure++;
		if (n.status == TRUTH_CLOCK_SYNCHRONISED && t->neps < MAX_EPS &&
		    r1 >= t->warm_until)
			t->eps[t->neps++] = n.epsilon;
		return;
	}
	tt = truth_probe_true_now();
	l = truth_probe_simclock_local(&t->sim, tt);
	truth_probe_now_at(t->node.engine, l, &n);
	if (print)
		printf("now node=%u true=%lld earliest=%lld latest=%lld eps=%llu status=%s\n",
		       t->self, (long long)tt, (long long)n.earliest,
		       (long long)n.latest, (unsigned long long)n.epsilon,
		       status_names[n.status % 3]);
	if (n.status == TRUTH_CLOCK_UNKNOWN)
		return;
	t->checks++;
	if (n.earliest <= tt && tt <= n.latest)
		t->contained++;
	else
		printf("# node %u: true %lld outside [%lld, %lld]\n", t->self,
		       (long long)tt, (long long)n.earliest, (long long)n.latest);
	if (n.status == TRUTH_CLOCK_SYNCHRONISED && t->neps < MAX_EPS &&
	    tt >= t->warm_until)
		t->eps[t->neps++] = n.epsilon;
	if (n.status != TRUTH_CLOCK_FREE_RUNNING)
		return;
	/* free running: epsilon = half-width at as_of + growth, to the ns */
	truth_clock_get_estimate(truth_probe_estimator(t->node.engine), &est);
	eu = (uint64_t)est.offset.hi - (uint64_t)est.offset.lo;
	eu = eu / 2 + (eu & 1);
	want = eu + truth_clockbound_growth(truth_clockbound_absdiff(l, est.as_of),
					    est.max_drift_ppb);
	err = want > n.epsilon ? want - n.epsilon : n.epsilon - want;
	if (err > t->fr_err_max)
		t->fr_err_max = err;
	/* the rate over the last stretch without a new estimate */
	if (!t->fr_checks++ || est.as_of != t->fr_as_of) {
		t->fr_as_of = est.as_of;
		t->fr_l0 = l;
		t->fr_e0 = n.epsilon;
	}
	t->fr_l1 = l;
	t->fr_e1 = n.epsilon;
}

static void on_sample(void *arg, const struct truth_probe_sample *s)
{
	struct tool *t = arg;
	struct truth_clock *c = truth_probe_estimator(t->node.engine);
	struct truth_clock_peer_info pi;
	uint32_t i;

	t->samples++;
	t->src_t1[s->src[0] % __TRUTH_WIRE_TSRC_MAX]++;
	t->followups += s->followup;
	if (t->print_samples)
		printf("sample node=%u peer=%u theta=%lld delta=%lld src=%s,%s,%s,%s followup=%d result=%d update=%d\n",
		       t->self, s->peer, (long long)s->offset, (long long)s->delay,
		       truth_probe_tsrc_name(s->src[0]), truth_probe_tsrc_name(s->src[1]),
		       truth_probe_tsrc_name(s->src[2]), truth_probe_tsrc_name(s->src[3]),
		       s->followup, s->result, s->update);
	if (!s->update) {
		t->updates++;
		for (i = 0; i < t->node.npeers; i++)
			if (!truth_clock_peer_info(c, t->node.peers[i].id, &pi) &&
			    pi.state == TRUTH_CLOCK_PEER_FALSETICKER)
				t->false_updates[i]++;
	}
	check(t, false);
}

static void summary(struct tool *t)
{
	struct truth_clock *c = truth_probe_estimator(t->node.engine);
	struct truth_clock_peer_info pi;
	struct truth_probe_stats st;
	struct truth_clock_now n;
	uint64_t p50 = 0, p99 = 0, mx = 0;
	uint32_t i;

	for (i = 0; i < t->node.npeers; i++) {
		if (truth_clock_peer_info(c, t->node.peers[i].id, &pi))
			continue;
		printf("peer node=%u peer=%u state=%s falseticker_updates=%llu updates=%llu offset=%lld delay=%lld outliers=%llu resets=%llu\n",
		       t->self, pi.id, state_names[pi.state % 3],
		       (unsigned long long)t->false_updates[i],
		       (unsigned long long)t->updates, (long long)pi.offset,
		       (long long)pi.delay, (unsigned long long)pi.outliers,
		       (unsigned long long)pi.resets);
	}
	if (t->fr_checks)
		printf("freerun node=%u checks=%llu growth_err_max=%llu rate_ppb=%lld\n",
		       t->self, (unsigned long long)t->fr_checks,
		       (unsigned long long)t->fr_err_max,
		       t->fr_l1 > t->fr_l0 ?
		       (long long)((double)(t->fr_e1 - t->fr_e0) * 1e9 /
				   (double)(t->fr_l1 - t->fr_l0)) : 0LL);
	if (t->neps) {
		qsort(t->eps, t->neps, sizeof(*t->eps), cmp_u64);
		p50 = t->eps[t->neps / 2];
		p99 = t->eps[t->neps * 99 / 100];
		mx = t->eps[t->neps - 1];
	}
	truth_probe_get_stats(t->node.engine, &st);
	truth_probe_now(t->node.engine, &n);
	printf("summary node=%u samples=%llu checks=%llu contained=%llu unsure=%llu eps_p50=%llu eps_p99=%llu eps_max=%llu status=%s t1_socket=%llu t1_user=%llu followups=%llu lost=%llu refused=%llu rx_bad=%llu\n",
	       t->self, (unsigned long long)t->samples,
	       (unsigned long long)t->checks, (unsigned long long)t->contained,
	       (unsigned long long)t->unsure,
	       (unsigned long long)p50, (unsigned long long)p99,
	       (unsigned long long)mx, status_names[n.status % 3],
	       (unsigned long long)t->src_t1[TRUTH_WIRE_TSRC_SOCKET],
	       (unsigned long long)t->src_t1[TRUTH_WIRE_TSRC_USER],
	       (unsigned long long)t->followups, (unsigned long long)st.lost,
	       (unsigned long long)st.refused,
	       (unsigned long long)t->node.rx_bad);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: truth-probe --id N --listen HOST:PORT --peer ID=HOST:PORT... [options]\n"
		"  --group N           group id (1)\n"
		"  --key HEX           64 hex digits (a fixed test key by default)\n"
		"  --poll-ms N         poll interval per peer (100)\n"
		"  --burst N           probes per poll (1)\n"
		"  --duration-ms N     run this long (10000)\n"
		"  --offset-ns N       simulated local clock offset (0)\n"
		"  --drift-ppb N       simulated local clock drift (0)\n"
		"  --bias-ns N         simulated reference clock error (0)\n"
		"  --anchor-ns N       claim our reference is within N of true time\n"
		"  --max-drift-ppb N   drift bound of the estimator (200000)\n"
		"  --sync-timeout-ms N free-running after this long without agreement\n"
		"  --silent-after-ms N stop probing and answering after N ms\n"
		"  --no-stamps         no kernel timestamps (clock reads only)\n"
		"  --real              real clocks (no simulated truth, no checks)\n"
		"  --slew-ppb N        with --real: REALTIME vs RAW rate bound (110000000)\n"
		"  --samples           print every sample\n"
		"  --now-every-ms N    print now() every N ms\n"
		"  --page PATH         publish the bound in a clockbound page at PATH\n"
		"  --warmup-ms N       leave the first N ms out of the epsilon statistics\n"
		"  --target-samples N  print '# target' once N samples were taken\n"
		"  --stop-file PATH    end (with the summary) once PATH exists\n"
		"Example:\n"
		"  truth-probe --id 1 --listen 127.0.0.1:7501 --peer 2=127.0.0.1:7502 --anchor-ns 50000\n");
}

static int parse_i64(const char *s, int64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 0);
	return errno || *end || !*s ? -EINVAL : 0;
}

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "id", 1, 0, 'i' }, { "listen", 1, 0, 'l' }, { "peer", 1, 0, 'p' },
		{ "group", 1, 0, 'g' }, { "key", 1, 0, 'k' }, { "poll-ms", 1, 0, 'P' },
		{ "burst", 1, 0, 'b' }, { "duration-ms", 1, 0, 'd' },
		{ "offset-ns", 1, 0, 'o' }, { "drift-ppb", 1, 0, 'r' },
		{ "bias-ns", 1, 0, 'B' }, { "anchor-ns", 1, 0, 'a' },
		{ "max-drift-ppb", 1, 0, 'm' }, { "sync-timeout-ms", 1, 0, 's' },
		{ "silent-after-ms", 1, 0, 'S' }, { "no-stamps", 0, 0, 'n' },
		{ "real", 0, 0, 'R' }, { "samples", 0, 0, 'v' },
		{ "now-every-ms", 1, 0, 'N' }, { "page", 1, 0, 'G' },
		{ "warmup-ms", 1, 0, 'W' }, { "target-samples", 1, 0, 'T' },
		{ "stop-file", 1, 0, 'F' }, { "slew-ppb", 1, 0, 'L' },
		{ "help", 0, 0, 'h' }, { 0 }
	};
	static struct tool t;
	struct { uint32_t id; struct sockaddr_storage a; socklen_t len; } peers[TRUTH_PROBE_MAX_PEERS];
	struct truth_probe_config cfg;
	struct sockaddr_storage listen;
	socklen_t listen_len = 0;
	uint8_t key[TRUTH_WIRE_KEY_LEN];
	int64_t v, duration = 10000 * MS, silent = -1, every = 0, start, last = 0;
	int64_t warmup = 0;
	uint32_t npeers = 0, i;
	bool stamps = true;
	struct truth_clockbound_page *page = NULL;
	const char *page_path = NULL, *stop_file = NULL;
	uint64_t target = 0;
	static uint32_t slew = TRUTH_PROBE_REALTIME_SLEW_PPB;
	int64_t last_stat = 0;
	char err[160], *eq;
	int c;

	for (i = 0; i < TRUTH_WIRE_KEY_LEN; i++)
		key[i] = (uint8_t)(i * 7 + 1);
	truth_probe_config_default(&cfg);
	cfg.group = 1;
	cfg.poll = 100 * MS;
	cfg.reply_timeout = 500 * MS;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == 'n' || c == 'R' || c == 'v') {
			stamps = c == 'n' ? false : stamps;
			t.real |= c == 'R';
			t.print_samples |= c == 'v';
			continue;
		}
		if (c == 'l') {
			if (truth_probe_parse_addr(optarg, &listen, &listen_len))
				goto bad;
			continue;
		}
		if (c == 'p') {
			eq = strchr(optarg, '=');
			if (!eq || npeers == TRUTH_PROBE_MAX_PEERS)
				goto bad;
			*eq = 0;
			if (parse_i64(optarg, &v) || v <= 0 || v > UINT32_MAX ||
			    truth_probe_parse_addr(eq + 1, &peers[npeers].a,
						   &peers[npeers].len))
				goto bad;
			peers[npeers++].id = (uint32_t)v;
			continue;
		}
		if (c == 'F') {
			stop_file = optarg;
			continue;
		}
		if (c == 'G') {
			page_path = optarg;
			continue;
		}
		if (c == 'k') {
			if (truth_wire_key_parse(optarg, key))
				goto bad;
			continue;
		}
		if (c == '?' || parse_i64(optarg, &v))
			goto bad;
		switch (c) {
		case 'i': if (v <= 0 || v > UINT32_MAX) goto bad; cfg.self = (uint32_t)v; break;
		case 'g': if (v < 0 || v > UINT32_MAX) goto bad; cfg.group = (uint32_t)v; break;
		case 'P': if (v <= 0) goto bad; cfg.poll = v * MS; break;
		case 'b': if (v < 1 || v > 16) goto bad; cfg.burst = (uint32_t)v; break;
		case 'd': if (v <= 0) goto bad; duration = v * MS; break;
		case 'o': t.sim.offset = v; break;
		case 'r': if (v <= -TRUTH_CLOCK_NSEC / 10 || v >= TRUTH_CLOCK_NSEC / 10) goto bad;
			t.sim.drift_ppb = v; break;
		case 'B': t.sim.ref_bias = v; break;
		case 'a': if (v < 0) goto bad; cfg.self_error = (uint64_t)v; break;
		case 'm': if (v < 0 || v > TRUTH_CLOCKBOUND_MAX_DRIFT_PPB) goto bad;
			cfg.clock.max_drift_ppb = (uint32_t)v; break;
		case 's': if (v <= 0) goto bad; cfg.clock.sync_timeout = v * MS; break;
		case 'S': if (v < 0) goto bad; silent = v * MS; break;
		case 'N': if (v <= 0) goto bad; every = v * MS; break;
		case 'W': if (v < 0) goto bad; warmup = v * MS; break;
		case 'T': if (v <= 0) goto bad; target = (uint64_t)v; break;
		case 'L': if (v < 0 || v > TRUTH_CLOCKBOUND_MAX_DRIFT_PPB * 2LL) goto bad;
			slew = (uint32_t)v; break;
		default: goto bad;
		}
	}
	if (!cfg.self || !listen_len || !npeers || optind != argc)
		goto bad;
	t.self = cfg.self;
	t.eps = calloc(MAX_EPS, sizeof(*t.eps));
	if (!t.eps)
		return 1;
	t.sim.t0 = truth_probe_true_now();
	if (t.real)
		truth_probe_clock_real(&t.clk, &slew);
	else
		truth_probe_clock_sim(&t.clk, &t.sim);
	if (truth_probe_node_init(&t.node, &cfg, &t.clk, (struct sockaddr *)&listen,
				  listen_len, key, stamps, err, sizeof(err))) {
		fprintf(stderr, "truth-probe: %s\n", err);
		return 1;
	}
	for (i = 0; i < npeers; i++)
		if (truth_probe_node_add_peer(&t.node, peers[i].id,
					      (struct sockaddr *)&peers[i].a,
					      peers[i].len)) {
			fprintf(stderr, "truth-probe: peer %u: refused (duplicate or self?)\n",
				peers[i].id);
			return 2;
		}
	truth_probe_set_sample_cb(t.node.engine, on_sample, &t);
	if (page_path) {
		page = truth_clock_shm_create(page_path, t.clk.local_clock_id);
		if (!page) {
			fprintf(stderr, "truth-probe: %s: %s\n", page_path, strerror(errno));
			return 1;
		}
		truth_probe_set_page(t.node.engine, page);
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("# truth-probe node %u: %u peers, poll %lld ms, stamps %s, two-step %s, clocks %s\n",
	       cfg.self, npeers, (long long)(cfg.poll / MS),
	       t.node.stamps ? "kernel" : "user",
	       t.node.stamps && t.node.sock.tx_stamps ? "yes" : "no",
	       t.real ? "real" : "simulated");
	fflush(stdout);
	start = truth_probe_true_now();
	t.warm_until = start + warmup;
	while (!stop && truth_probe_true_now() - start < duration) {
		int64_t now = truth_probe_true_now();

		if (silent >= 0 && now - start >= silent) {
			/* vanished: the socket is left unread, nothing is sent */
			struct timespec ts = { 0, 5 * MS };

			nanosleep(&ts, NULL);
		} else {
			truth_probe_node_wait(&t.node, 1, 5 * MS);
			truth_probe_node_pump(&t.node);
		}
		check(&t, every && now - last >= every);
		if (target && t.samples >= target) {
			printf("# target node=%u samples=%llu\n", t.self,
			       (unsigned long long)t.samples);
			fflush(stdout);
			target = 0;
		}
		/* a test ends every node at once by creating the stop file */
		if (stop_file && now - last_stat >= 100 * MS) {
			last_stat = now;
			if (!access(stop_file, F_OK))
				break;
		}
		if (every && now - last >= every)
			last = now;
	}
	summary(&t);
	truth_probe_node_fini(&t.node);
	truth_clock_shm_unmap(page);
	/* real clocks: an unsure check is no failure, an outside one is */
	return !(t.checks && t.checks == t.contained + t.unsure &&
		 (t.real || !t.unsure));
bad:
	usage(stderr);
	return 2;
}
