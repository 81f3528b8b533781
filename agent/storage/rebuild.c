// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth storage: rebuilding a node from its peers (truthd --rebuild).
 *
 * The damaged state is never deleted: every file of the log and the
 * snapshots (and the term/vote files when they cannot be trusted) is
 * renamed into a fresh "rebuild-<UTC time>" directory inside the data
 * directory, and a marker file records that this node's log is being
 * rebuilt.  Raft reads the marker at every start and abstains from
 * elections while it is there (agent/raft/raft_rebuild.c); truthd removes
 * it once the node holds the leader's commit index durably.
 * Documentation/storage.md "Rebuilding a node from its peers".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "storage_int.h"

#define MARKER_TMP	TRUTH_REBUILD_MARKER ".tmp"
#define MARKER_HEAD	"TRUTH-REBUILD 1\n"

static int marker_encode(const struct truth_rebuild_marker *mk, char *buf,
			 size_t len)
{
	int n = snprintf(buf, len, MARKER_HEAD "term_lost=%d\nmoved_to=%s\nstarted=%lld\n",
			 mk->term_lost ? 1 : 0, mk->moved_to, (long long)mk->started);

	if (n < 0 || (size_t)n + 20 > len)
		return -ENAMETOOLONG;
	n += snprintf(buf + n, len - n, "crc32c=%08x\n", truth_crc32c(0, buf, n));
	return n;
}

int truth_rebuild_marker_write(const struct truth_fs *fs, const char *dir,
			       const struct truth_rebuild_marker *mk, char *err)
{
	char tmp[TRUTH_PATH_MAX], path[TRUTH_PATH_MAX], buf[512];
	int fd, n, ret;

	fs = storage_fs(fs);
	n = marker_encode(mk, buf, sizeof(buf));
	if (n < 0)
		return storage_err(err, n, "%s: rebuild marker too long", dir);
	if (storage_path(tmp, dir, MARKER_TMP) || storage_path(path, dir, TRUTH_REBUILD_MARKER))
		return storage_err(err, -ENAMETOOLONG, "%s: path too long", dir);
	ret = fs->ops->open(fs->ctx, tmp, TRUTH_FS_RDWR | TRUTH_FS_CREATE | TRUTH_FS_TRUNC, &fd);
	if (ret)
		return storage_err(err, ret, "%s: create: %s", tmp, strerror(-ret));
	ret = fs->ops->pwrite(fs->ctx, fd, buf, n, 0);
	if (!ret)
		ret = fs->ops->fdatasync(fs->ctx, fd);
	fs->ops->close(fs->ctx, fd);
	if (ret)
		return storage_err(err, ret, "%s: write: %s", tmp, strerror(-ret));
	/* write, sync, rename, sync the directory: old or new, never half */
	ret = fs->ops->rename(fs->ctx, tmp, path);
	if (!ret)
		ret = fs->ops->fsync_dir(fs->ctx, dir);
	if (ret)
		return storage_err(err, ret, "%s: rename: %s", path, strerror(-ret));
	return 0;
}

static bool parse_line(const char **p, const char *key, char *val, size_t len)
{
	size_t k = strlen(key), n;
	const char *nl;

	if (strncmp(*p, key, k) || (*p)[k] != '=')
		return false;
	nl = strchr(*p + k + 1, '\n');
	if (!nl)
		return false;
	n = nl - (*p + k + 1);
	if (n >= len)
		return false;
	memcpy(val, *p + k + 1, n);
	val[n] = '\0';
	*p = nl + 1;
	return true;
}

static bool marker_decode(const char *buf, struct truth_rebuild_marker *mk)
{
	char tl[8], started[32], crc[16];
	const char *p = buf;
	uint32_t want;

	if (strncmp(p, MARKER_HEAD, strlen(MARKER_HEAD)))
		return false;
	p += strlen(MARKER_HEAD);
	if (!parse_line(&p, "term_lost", tl, sizeof(tl)) ||
	    !parse_line(&p, "moved_to", mk->moved_to, sizeof(mk->moved_to)) ||
	    !parse_line(&p, "started", started, sizeof(started)))
		return false;
	want = truth_crc32c(0, buf, p - buf);
	if (!parse_line(&p, "crc32c", crc, sizeof(crc)) ||
	    strtoul(crc, NULL, 16) != want || *p)
		return false;
	mk->term_lost = strcmp(tl, "0") != 0;
	mk->started = strtoll(started, NULL, 10);
	return true;
}

int truth_rebuild_marker_read(const struct truth_fs *fs, const char *dir,
			      bool *present, struct truth_rebuild_marker *mk,
			      truth_storage_log_fn log, void *log_ctx, char *err)
{
	char path[TRUTH_PATH_MAX], *text;
	uint8_t *data = NULL;
	uint64_t size = 0;
	int ret;

	fs = storage_fs(fs);
	memset(mk, 0, sizeof(*mk));
	*present = false;
	if (storage_path(path, dir, TRUTH_REBUILD_MARKER))
		return storage_err(err, -ENAMETOOLONG, "%s: path too long", dir);
	ret = storage_read_file(fs, path, &data, &size);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return storage_err(err, ret, "%s: read: %s", path, strerror(-ret));
	*present = true;
	text = malloc(size + 1);
	if (!text) {
		free(data);
		return storage_err(err, -ENOMEM, "%s: out of memory", path);
	}
	memcpy(text, data, size);
	text[size] = '\0';
	if (strlen(text) != size || !marker_decode(text, mk)) {
		/* a damaged marker still means "rebuilding"; assume the worst */
		memset(mk, 0, sizeof(*mk));
		mk->term_lost = true;
		storage_log(log, log_ctx, TRUTH_STORAGE_WARN,
			    "%s: damaged, taken as a rebuild with term and vote lost",
			    path);
	}
	free(text);
	free(data);
	return 0;
}

int truth_rebuild_marker_clear(const struct truth_fs *fs, const char *dir,
			       char *err)
{
	char path[TRUTH_PATH_MAX];
	int ret;

	fs = storage_fs(fs);
	if (storage_path(path, dir, TRUTH_REBUILD_MARKER))
		return storage_err(err, -ENAMETOOLONG, "%s: path too long", dir);
	ret = fs->ops->unlink(fs->ctx, path);
	if (ret && ret != -ENOENT)
		return storage_err(err, ret, "%s: unlink: %s", path, strerror(-ret));
	ret = fs->ops->fsync_dir(fs->ctx, dir);
	if (ret)
		return storage_err(err, ret, "%s: fsync: %s", dir, strerror(-ret));
	return 0;
}

/* ------------------------------------------------------------ prepare */

struct meta_check {
	bool damaged;		/* a warning: one slot did not read back */
};

static void meta_warn(void *ctx, enum truth_storage_level level, const char *msg)
{
	struct meta_check *mc = ctx;

	if (level != TRUTH_STORAGE_INFO)
		mc->damaged = true;
}

static bool exists(const char *dir, const char *name)
{
	char path[TRUTH_PATH_MAX];
	struct stat st;

	return !storage_path(path, dir, name) && !stat(path, &st);
}

/*
 * Can the term and vote be trusted?  Both files there and both reading
 * back.  One damaged slot looks like a save cut short, but it may be bit
 * rot in the newest value, so a rebuild does not take the chance.
 */
static bool term_readable(const char *dir, struct truth_meta *m)
{
	struct truth_meta_store *ms;
	struct meta_check mc = { 0 };
	char err[TRUTH_STORAGE_ERRLEN];

	if (!exists(dir, "meta-0") || !exists(dir, "meta-1"))
		return false;
	if (truth_meta_open(&ms, NULL, dir, meta_warn, &mc, m, err))
		return false;
	truth_meta_close(ms);
	return !mc.damaged;
}

struct move_ctx {
	const char *dir, *to;	/* data directory, rebuild-... inside it */
	bool keep_meta;
	unsigned moved;
	int ret;
	char *err;
};

static int move_one(void *arg, const char *name)
{
	struct move_ctx *mc = arg;
	char from[TRUTH_PATH_MAX], to[TRUTH_PATH_MAX];

	/*
	 * Storage's own names only: the log, snapshots, leftovers, an older
	 * marker, and the term/vote when not trusted.  The lock, earlier
	 * rebuild-* directories and other parts' files (the clock page)
	 * stay where they are.
	 */
	if (strncmp(name, "wal-", 4) && strncmp(name, "open-", 5) &&
	    strncmp(name, "snap-", 5) &&
	    strncmp(name, TRUTH_REBUILD_MARKER, strlen(TRUTH_REBUILD_MARKER)) &&
	    (mc->keep_meta || strncmp(name, "meta-", 5)))
		return 0;
	if (storage_path(from, mc->dir, name) || storage_path(to, mc->to, name)) {
		mc->ret = storage_err(mc->err, -ENAMETOOLONG, "%s/%s: path too long",
				      mc->dir, name);
		return 1;
	}
	if (rename(from, to)) {
		mc->ret = storage_err(mc->err, -errno, "%s: move to %s: %s", from,
				      mc->to, strerror(errno));
		return 1;
	}
	mc->moved++;
	return 0;
}

int truth_rebuild_prepare(const char *dir, struct truth_rebuild_marker *mk,
			  unsigned *moved, char *err)
{
	struct truth_rebuild_marker old;
	char to[TRUTH_PATH_MAX], name[64];
	struct move_ctx mc = { 0 };
	struct truth_meta m;
	bool had_marker;
	struct tm tm;
	time_t now = time(NULL);
	int ret, i;

	memset(mk, 0, sizeof(*mk));
	ret = truth_rebuild_marker_read(NULL, dir, &had_marker, &old, NULL, NULL, err);
	if (ret)
		return ret;
	mk->term_lost = !term_readable(dir, &m);
	/* an interrupted rebuild that had lost the term still has */
	if (had_marker && old.term_lost)
		mk->term_lost = true;
	mk->started = now;
	gmtime_r(&now, &tm);
	for (i = 0; i < 100; i++) {
		int n = strftime(name, sizeof(name), "rebuild-%Y%m%dT%H%M%SZ", &tm);

		if (i)
			snprintf(name + n, sizeof(name) - n, "-%d", i);
		if (storage_path(to, dir, name))
			return storage_err(err, -ENAMETOOLONG, "%s: path too long", dir);
		if (!mkdir(to, 0700))
			break;
		if (errno != EEXIST)
			return storage_err(err, -errno, "%s: mkdir: %s", to, strerror(errno));
	}
	if (i == 100)
		return storage_err(err, -EEXIST, "%s: too many rebuilds this second", dir);
	snprintf(mk->moved_to, sizeof(mk->moved_to), "%s", name);
	mc.dir = dir;
	mc.to = to;
	mc.keep_meta = !mk->term_lost;
	mc.err = err;
	ret = truth_fs_posix.ops->list(NULL, dir, move_one, &mc);
	if (mc.ret)
		return mc.ret;
	if (ret)
		return storage_err(err, ret, "%s: list: %s", dir, strerror(-ret));
	/* the moves are durable before the marker says they happened */
	ret = truth_fs_posix.ops->fsync_dir(NULL, to);
	if (!ret)
		ret = truth_fs_posix.ops->fsync_dir(NULL, dir);
	if (ret)
		return storage_err(err, ret, "%s: fsync: %s", dir, strerror(-ret));
	if (moved)
		*moved = mc.moved;
	return truth_rebuild_marker_write(NULL, dir, mk, err);
}
