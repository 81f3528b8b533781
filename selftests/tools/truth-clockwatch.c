// SPDX-License-Identifier: GPL-2.0
/*
 * truth-clockwatch: watch CLOCK_REALTIME against CLOCK_MONOTONIC_RAW and
 * say whether anything stepped it.
 *
 *   truth-clockwatch [-i MS] [-d S] [-m PPM] [-w MS]
 *
 * Every -i ms (default 100) for -d s (default 60, or until SIGTERM/SIGINT)
 * it reads RAW, REALTIME, RAW and keeps k = REALTIME - RAW (the bracket's
 * half-width is k's error).  Once a second it prints
 *
 *   clockwatch: t=S k=NS freq=PPM adjust=US
 *
 * (freq: the kernel's ADJ_FREQUENCY, adjust: what is left of an
 * adjtime()-style slew), and at the end
 *
 *   clockwatch: N samples over S s, k moved NS, fastest PPM ppm over >= W ms,
 *   largest change between samples NS (allowed NS): ok | STEPPED
 *
 * ("fastest" after taking off what the readings' brackets may account for)
 *
 * Slewing and frequency changes move k at a bounded rate; a step moves it at
 * once.  Between two consecutive samples k may change by at most -m ppm
 * (default 1100: a 500 ppm slew on top of a 500 ppm frequency, plus slack)
 * of the RAW time between them, plus both brackets and 2 us: more is a step,
 * and the exit status is 1.  "fastest" is the largest rate over spans of at
 * least -w ms (default 1000).  The VM discipline test runs it next to
 * truthd (scripts never touch the host clock with it: it only reads).
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#define NSEC 1000000000LL

struct sample {
	int64_t raw;		/* the bracket's middle */
	int64_t k;		/* REALTIME - RAW */
	int64_t half;		/* the bracket's half-width: k's error */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
}

/*
 * The tightest of a few bracketed readings: a reader preempted between
 * the reads (a TCG guest on a loaded host) gets a wide bracket, and the
 * rate check must not blame that on the clock.
 */
static void take(struct sample *s)
{
	int i;

	for (i = 0; i < 5; i++) {
		int64_t r1 = read_ns(CLOCK_MONOTONIC_RAW);
		int64_t real = read_ns(CLOCK_REALTIME);
		int64_t r2 = read_ns(CLOCK_MONOTONIC_RAW);

		if (i && (r2 - r1 + 1) / 2 >= s->half)
			continue;
		s->raw = r1 + (r2 - r1) / 2;
		s->k = real - s->raw;
		s->half = (r2 - r1 + 1) / 2;
		if (s->half < 20000)
			break;
	}
}

static void print_kernel(double t, const struct sample *s)
{
	struct timex tx = { 0 }, ss = { .modes = ADJ_OFFSET_SS_READ };

	if (adjtimex(&tx) < 0 || adjtimex(&ss) < 0) {
		printf("clockwatch: t=%.1f k=%lld adjtimex: %s\n", t,
		       (long long)s->k, strerror(errno));
		return;
	}
	printf("clockwatch: t=%.1f k=%lld freq=%.3f adjust=%ld\n", t,
	       (long long)s->k, tx.freq / 65536.0, ss.offset);
	fflush(stdout);
}

static int usage(void)
{
	fprintf(stderr, "usage: truth-clockwatch [-i MS] [-d S] [-m PPM] [-w MS]\n");
	return 2;
}

static long arg(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	long every = 100, secs = 60, ppm = 1100, span = 1000;
	int64_t worst = -1, worst_allowed = 0, last_print;
	double fastest = 0;
	struct sample *v;
	size_t n = 0, cap, i, j;
	int opt, stepped = 0;

	while ((opt = getopt(argc, argv, "i:d:m:w:")) != -1) {
		long *p = opt == 'i' ? &every : opt == 'd' ? &secs :
			  opt == 'm' ? &ppm : opt == 'w' ? &span : NULL;

		/* -d 0: one reading of the kernel's state and no watch */
		if (!p || (*p = arg(optarg, opt == 'd' ? 0 : 1, 100000000)) < 0)
			return usage();
	}
	if (optind != argc)
		return usage();
	cap = (size_t)(secs * 1000 / every) + 16;
	v = calloc(cap, sizeof(*v));
	if (!v) {
		perror("clockwatch");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	take(&v[n++]);
	last_print = v[0].raw;
	print_kernel(0, &v[0]);
	if (!secs) {
		free(v);
		return 0;
	}
	while (!stop && n < cap && v[n - 1].raw - v[0].raw < secs * NSEC) {
		struct timespec ts = { every / 1000, every % 1000 * 1000000 };
		struct sample *s = &v[n], *p = &v[n - 1];
		int64_t d, allowed;

		nanosleep(&ts, NULL);
		take(s);
		n++;
		/* how far a bounded rate can move k between p and s */
		allowed = (s->raw - p->raw) / 1000000 * ppm + s->half + p->half + 2000;
		d = s->k - p->k;
		if (d < 0)
			d = -d;
		if (worst < 0 || d - allowed > worst - worst_allowed) {
			worst = d;
			worst_allowed = allowed;
		}
		if (d > allowed) {
			stepped++;
			printf("clockwatch: STEP at t=%.3f: k moved %lld ns in %lld ns of RAW (allowed %lld)\n",
			       (s->raw - v[0].raw) / 1e9, (long long)(s->k - p->k),
			       (long long)(s->raw - p->raw), (long long)allowed);
		}
		if (s->raw - last_print >= NSEC) {
			last_print = s->raw;
			print_kernel((s->raw - v[0].raw) / 1e9, s);
		}
	}
	/* the fastest rate over spans of at least -w ms */
	for (i = 0, j = 0; i < n; i++) {
		while (j < i && v[i].raw - v[j + 1].raw >= span * 1000000)
			j++;
		if (v[i].raw - v[j].raw >= span * 1000000) {
			double r = (double)(v[i].k - v[j].k) / (v[i].raw - v[j].raw) * 1e6;

			/* less what the two brackets may account for */
			if (r < 0)
				r = -r;
			r -= (double)(v[i].half + v[j].half) / (v[i].raw - v[j].raw) * 1e6;
			if (r > fastest)
				fastest = r;
		}
	}
	printf("clockwatch: %zu samples over %.1f s, k moved %lld ns, fastest %.1f ppm over >= %ld ms, largest change between samples %lld ns (allowed %lld): %s\n",
	       n, (v[n - 1].raw - v[0].raw) / 1e9, (long long)(v[n - 1].k - v[0].k),
	       fastest, span, (long long)worst, (long long)worst_allowed,
	       stepped ? "STEPPED" : "ok");
	free(v);
	return stepped ? 1 : 0;
}
