// SPDX-License-Identifier: GPL-2.0
/*
 * truth-lat: the two floors under a replicated write, measured on this host
 * for the benchmark's "sequential p50 / (fdatasync + RTT)" ratio.
 *
 *   truth-lat fsync DIR [N]   N times (default 1000): pwrite 4 KiB into a
 *                             file in DIR and fdatasync it, twice: into a
 *                             preallocated file (as a WAL with segments
 *                             made in advance; only data is synced) and
 *                             appending (the size is synced too)
 *   truth-lat fsync-par DIR W [N]
 *                             W processes at once, each N times (default
 *                             300) pwrite 4 KiB into its own preallocated
 *                             file in DIR and fdatasync it: what one flush
 *                             costs when W members of a cluster share the
 *                             disk (the block layer runs one device flush
 *                             at a time and merges the ones waiting)
 *   truth-lat rtt [N]         N (default 10000) 1-byte TCP ping-pongs over
 *                             loopback between two processes, TCP_NODELAY
 *
 * "Preallocated" means written with zeros and synced beforehand, as
 * truth's WAL makes its segments (Documentation/storage.md): a file only
 * fallocate()d has unwritten extents, and every first write into one
 * makes fdatasync commit the extent change to the journal too.
 *
 * Prints one line per measure: "<what>: n=N p50_us=X p99_us=Y min_us=Z".
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, uint64_t *t, long n)
{
	qsort(t, n, sizeof(*t), cmp_u64);
	printf("%s: n=%ld p50_us=%.1f p99_us=%.1f min_us=%.1f\n", what, n,
	       t[(n - 1) / 2] / 1000.0, t[(n * 99 + 99) / 100 - 1] / 1000.0, t[0] / 1000.0);
}

/* A temp file in dir, unlinked; bytes of zeros written and synced if prealloc. */
static int temp_file(const char *dir, size_t bytes, bool prealloc)
{
	char path[4096], zero[65536] = { 0 };
	size_t off;
	int fd;

	snprintf(path, sizeof(path), "%s/truth-lat.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0) {
		fprintf(stderr, "truth-lat: %s: %s\n", path, strerror(errno));
		return -1;
	}
	unlink(path);
	for (off = 0; prealloc && off < bytes; off += sizeof(zero))
		if (pwrite(fd, zero, sizeof(zero), (off_t)off) != sizeof(zero))
			goto fail;
	if (prealloc && fsync(fd))
		goto fail;
	return fd;
fail:
	fprintf(stderr, "truth-lat: preallocating in %s: %s\n", dir, strerror(errno));
	close(fd);
	return -1;
}

/* n times pwrite 4 KiB at the next offset + fdatasync; t[i] each one's ns */
static int write_sync_loop(int fd, const char *dir, uint64_t *t, long n)
{
	char buf[4096];
	long i;

	memset(buf, 0xa5, sizeof(buf));
	for (i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		if (pwrite(fd, buf, sizeof(buf), (off_t)i * sizeof(buf)) != sizeof(buf) ||
		    fdatasync(fd)) {
			fprintf(stderr, "truth-lat: write+fdatasync in %s: %s\n", dir, strerror(errno));
			return 1;
		}
		t[i] = now_ns() - t0;
	}
	return 0;
}

/*
 * prealloc: overwrite blocks of a file already written and synced (a WAL
 * segment made in advance: only the data goes to disk); append: the file
 * grows with each write, so its size goes to disk too
 */
static int fsync_run(const char *dir, long n, bool prealloc)
{
	uint64_t *t = calloc(n, sizeof(*t));
	int fd = temp_file(dir, (size_t)n * 4096, prealloc);

	if (fd < 0 || !t || write_sync_loop(fd, dir, t, n))
		return 1;
	close(fd);
	report(prealloc ? "fdatasync_4k_prealloc" : "fdatasync_4k_append", t, n);
	free(t);
	return 0;
}

/*
 * w writers at once, each its own file and process (as cluster members
 * are); they start together (a pipe closed by the parent) and the p50 is
 * over every writer's every write.
 */
static int do_fsync_par(const char *dir, int w, long n)
{
	uint64_t *t = mmap(NULL, (size_t)w * n * sizeof(*t), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int go[2], i, status, bad = 0;
	pid_t pid[64];
	char what[64];

	if (t == MAP_FAILED || w < 1 || w > 64 || pipe(go)) {
		fprintf(stderr, "truth-lat: fsync-par: %s\n", w < 1 || w > 64 ?
			"1 to 64 writers" : strerror(errno));
		return 2;
	}
	for (i = 0; i < w; i++) {
		pid[i] = fork();
		if (pid[i] < 0) {
			perror("truth-lat: fork");
			return 1;
		}
		if (!pid[i]) {
			int fd = temp_file(dir, (size_t)n * 4096, true);
			char c;

			close(go[1]);
			if (fd < 0)
				_exit(1);
			/* EOF when the parent closes its end: everyone is ready */
			while (read(go[0], &c, 1) > 0)
				;
			_exit(write_sync_loop(fd, dir, t + (size_t)i * n, n));
		}
	}
	close(go[0]);
	close(go[1]);
	for (i = 0; i < w; i++)
		if (waitpid(pid[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			bad = 1;
	if (bad)
		return 1;
	snprintf(what, sizeof(what), "fdatasync_4k_prealloc_%d_writers", w);
	report(what, t, (long)w * n);
	munmap(t, (size_t)w * n * sizeof(*t));
	return 0;
}

static int do_fsync(const char *dir, long n)
{
	return fsync_run(dir, n, true) || fsync_run(dir, n, false);
}

static int do_rtt(long n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	uint64_t *t = calloc(n, sizeof(*t));
	int ls, s, one = 1, status;
	char c = 'x';
	pid_t pid;
	long i;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (!t || ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1) ||
	    getsockname(ls, (struct sockaddr *)&a, &len)) {
		perror("truth-lat: listen on loopback");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (!pid) {
		/* the echo side */
		s = accept(ls, NULL, NULL);
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		while (read(s, &c, 1) == 1 && write(s, &c, 1) == 1)
			;
		_exit(0);
	}
	close(ls);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&a, sizeof(a))) {
		perror("truth-lat: connect");
		return 1;
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		if (write(s, &c, 1) != 1 || read(s, &c, 1) != 1) {
			perror("truth-lat: ping-pong");
			return 1;
		}
		t[i] = now_ns() - t0;
	}
	close(s);
	waitpid(pid, &status, 0);
	report("loopback_rtt", t, n);
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	long n;

	if (argc >= 3 && !strcmp(argv[1], "fsync")) {
		n = argc > 3 ? atol(argv[3]) : 1000;
		return n > 0 ? do_fsync(argv[2], n) : 2;
	}
	if (argc >= 4 && !strcmp(argv[1], "fsync-par")) {
		n = argc > 4 ? atol(argv[4]) : 300;
		return n > 0 ? do_fsync_par(argv[2], atoi(argv[3]), n) : 2;
	}
	if (argc >= 2 && !strcmp(argv[1], "rtt")) {
		n = argc > 2 ? atol(argv[2]) : 10000;
		return n > 0 ? do_rtt(n) : 2;
	}
	fprintf(stderr, "usage: truth-lat fsync DIR [N] | truth-lat fsync-par DIR WRITERS [N] |"
		" truth-lat rtt [N]\n");
	return 2;
}
