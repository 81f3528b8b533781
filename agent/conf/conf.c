// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truthd's configuration: parsing and checking.  Bad values are reported
 * one by one (the operator fixes them all in one go) and leave the field
 * at its previous value.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "log/log.h"
#include "wire/wire.h"

#define REQ_NODE	(1u << 0)
#define REQ_GROUP	(1u << 1)
#define REQ_DIR		(1u << 2)
#define REQ_PLISTEN	(1u << 3)
#define REQ_KEY		(1u << 4)
#define REQ_CLIENT	(1u << 5)	/* client_listen or client_unix given */

void truth_conf_defaults(struct truth_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->fast_path = TRUTH_CONF_FAST_AUTO;
	c->hlc_kernel = true;
	c->fsync = true;
	c->election_timeout_ms = 300;
	c->heartbeat_ms = 50;
	c->log_level = TRUTH_LOG_INFO;
	c->snapshot_bytes = 64ull << 20;
	c->wal_segment_bytes = 8ull << 20;
	c->max_clients = 1024;
	c->client_output_limit = 64ull << 20;
	c->max_value_bytes = TRUTH_CONF_MAX_VALUE_DEFAULT;
	c->clock_poll_ms = 500;
}

int truth_conf_parse_addr(const char *s, struct truth_conf_addr *a,
			  const char **reason)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICSERV };
	char host[TRUTH_CONF_ADDR_LEN];
	struct addrinfo *res;
	const char *colon, *port, *h = s;
	size_t hl;
	char *end;
	long p;

	if (strlen(s) >= TRUTH_CONF_ADDR_LEN) {
		*reason = "address too long";
		return -1;
	}
	colon = strrchr(s, ':');
	if (!colon) {
		*reason = "expected HOST:PORT";
		return -1;
	}
	port = colon + 1;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 2 || s[hl - 1] != ']') {
			*reason = "expected [IPV6]:PORT";
			return -1;
		}
		h = s + 1;
		hl -= 2;
	}
	if (hl == 0) {
		*reason = "empty host";
		return -1;
	}
	errno = 0;
	p = strtol(port, &end, 10);
	if (!*port || *end || errno || p < 1 || p > 65535) {
		*reason = "port must be 1..65535";
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (getaddrinfo(host, port, &hints, &res) || !res) {
		*reason = "host does not resolve";
		return -1;
	}
	memcpy(&a->sa, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	freeaddrinfo(res);
	snprintf(a->text, sizeof(a->text), "%s", s);
	return 0;
}

/* A strict unsigned decimal in [lo, hi]. */
static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *v)
{
	unsigned long long x;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end || x < lo || x > hi)
		return -1;
	*v = x;
	return 0;
}

/* A strict signed decimal in [-lim, lim]. */
static int parse_s64(const char *s, int64_t lim, int64_t *v)
{
	uint64_t u;

	if (s[0] == '-' || s[0] == '+') {
		if (parse_u64(s + 1, 0, (uint64_t)lim, &u))
			return -1;
		*v = s[0] == '-' ? -(int64_t)u : (int64_t)u;
		return 0;
	}
	if (parse_u64(s, 0, (uint64_t)lim, &u))
		return -1;
	*v = (int64_t)u;
	return 0;
}

static int bad(truth_conf_err_fn err, void *ctx, const char *where,
	       const char *key, const char *reason)
{
	if (err)
		err(ctx, where, key, reason);
	return 1;
}

static int set_peer(struct truth_conf *c, const char *where, const char *value,
		    truth_conf_err_fn err, void *ctx)
{
	struct truth_conf_peer p = { 0 };
	char idbuf[16];
	const char *sp = strpbrk(value, " \t"), *reason;
	uint64_t id;
	uint32_t i;

	if (!sp || (size_t)(sp - value) >= sizeof(idbuf))
		return bad(err, ctx, where, "peer", "expected 'ID HOST:PORT'");
	memcpy(idbuf, value, (size_t)(sp - value));
	idbuf[sp - value] = '\0';
	while (*sp == ' ' || *sp == '\t')
		sp++;
	if (parse_u64(idbuf, 1, UINT32_MAX, &id))
		return bad(err, ctx, where, "peer", "id must be 1..4294967295");
	if (strpbrk(sp, " \t"))
		return bad(err, ctx, where, "peer", "expected 'ID HOST:PORT'");
	if (truth_conf_parse_addr(sp, &p.addr, &reason))
		return bad(err, ctx, where, "peer", reason);
	p.id = (uint32_t)id;
	for (i = 0; i < c->n_peers; i++) {
		if (c->peers[i].id == p.id)
			return bad(err, ctx, where, "peer", "id listed twice");
		if (c->peers[i].addr.len == p.addr.len &&
		    !memcmp(&c->peers[i].addr.sa, &p.addr.sa, p.addr.len))
			return bad(err, ctx, where, "peer", "address listed twice");
	}
	if (c->n_peers == TRUTH_CONF_MAX_PEERS)
		return bad(err, ctx, where, "peer", "more than 16 peers");
	c->peers[c->n_peers++] = p;
	return 0;
}

static int set_string(char *dst, size_t cap, const char *value,
		      truth_conf_err_fn err, void *ctx, const char *where,
		      const char *key)
{
	if (!*value)
		return bad(err, ctx, where, key, "empty");
	if (strlen(value) >= cap)
		return bad(err, ctx, where, key, "too long");
	strcpy(dst, value);
	return 0;
}

int truth_conf_set(struct truth_conf *c, const char *where, const char *key,
		   const char *value, truth_conf_err_fn err, void *ctx)
{
	static const struct { const char *key; unsigned int bit; } seen[] = {
		{ "node_id", REQ_NODE }, { "group_id", REQ_GROUP },
		{ "data_dir", REQ_DIR }, { "peer_listen", REQ_PLISTEN },
		{ "key_file", REQ_KEY }, { "client_listen", REQ_CLIENT },
		{ "client_unix", REQ_CLIENT },
	};
	const char *reason;
	unsigned int i;
	uint64_t v;
	int lvl;

	/* given, even if bad: its own error says what is wrong, not "missing" */
	for (i = 0; i < sizeof(seen) / sizeof(seen[0]); i++)
		if (!strcmp(key, seen[i].key))
			c->given |= seen[i].bit;
	if (!strcmp(key, "node_id") || !strcmp(key, "group_id")) {
		if (parse_u64(value, 1, UINT32_MAX, &v))
			return bad(err, ctx, where, key, "must be an integer 1..4294967295");
		if (key[0] == 'n') {
			c->node_id = (uint32_t)v;
		} else {
			c->group_id = (uint32_t)v;
		}
	} else if (!strcmp(key, "data_dir")) {
		return set_string(c->data_dir, sizeof(c->data_dir), value, err, ctx,
				  where, key);
	} else if (!strcmp(key, "peer_listen")) {
		if (truth_conf_parse_addr(value, &c->peer_listen, &reason))
			return bad(err, ctx, where, key, reason);
	} else if (!strcmp(key, "peer")) {
		return set_peer(c, where, value, err, ctx);
	} else if (!strcmp(key, "client_listen")) {
		if (truth_conf_parse_addr(value, &c->client_listen, &reason))
			return bad(err, ctx, where, key, reason);
		c->has_client_listen = true;
	} else if (!strcmp(key, "client_advertise")) {
		struct truth_conf_addr a;

		if (truth_conf_parse_addr(value, &a, &reason))
			return bad(err, ctx, where, key, reason);
		strcpy(c->client_advertise, value);
	} else if (!strcmp(key, "client_unix")) {
		if (value[0] != '/')
			return bad(err, ctx, where, key, "must be an absolute path");
		return set_string(c->client_unix, sizeof(c->client_unix), value,
				  err, ctx, where, key);
	} else if (!strcmp(key, "key_file")) {
		return set_string(c->key_file, sizeof(c->key_file), value, err, ctx,
				  where, key);
	} else if (!strcmp(key, "fast_path")) {
		if (!strcmp(value, "auto"))
			c->fast_path = TRUTH_CONF_FAST_AUTO;
		else if (!strcmp(value, "kernel"))
			c->fast_path = TRUTH_CONF_FAST_KERNEL;
		else if (!strcmp(value, "user"))
			c->fast_path = TRUTH_CONF_FAST_USER;
		else
			return bad(err, ctx, where, key, "must be auto, kernel or user");
	} else if (!strcmp(key, "fsync")) {
		if (!strcmp(value, "on"))
			c->fsync = true;
		else if (!strcmp(value, "off"))
			c->fsync = false;
		else
			return bad(err, ctx, where, key, "must be on or off");
	} else if (!strcmp(key, "election_timeout_ms")) {
		if (parse_u64(value, 20, 60000, &v))
			return bad(err, ctx, where, key, "must be an integer 20..60000");
		c->election_timeout_ms = (uint32_t)v;
	} else if (!strcmp(key, "heartbeat_ms")) {
		if (parse_u64(value, 1, 30000, &v))
			return bad(err, ctx, where, key, "must be an integer 1..30000");
		c->heartbeat_ms = (uint32_t)v;
	} else if (!strcmp(key, "log_level")) {
		lvl = truth_log_parse_level(value);
		if (lvl < 0)
			return bad(err, ctx, where, key, "must be error, warn, info or debug");
		c->log_level = lvl;
	} else if (!strcmp(key, "snapshot_bytes")) {
		if (parse_u64(value, 4096, 1ull << 40, &v))
			return bad(err, ctx, where, key, "must be an integer 4096..2^40");
		c->snapshot_bytes = v;
	} else if (!strcmp(key, "wal_segment_bytes")) {
		if (parse_u64(value, 1ull << 20, 1ull << 30, &v))
			return bad(err, ctx, where, key, "must be an integer 1048576..2^30");
		c->wal_segment_bytes = v;
	} else if (!strcmp(key, "max_clients")) {
		if (parse_u64(value, 1, 100000, &v))
			return bad(err, ctx, where, key, "must be an integer 1..100000");
		c->max_clients = (uint32_t)v;
	} else if (!strcmp(key, "clock_page")) {
		if (value[0] != '/')
			return bad(err, ctx, where, key, "must be an absolute path");
		return set_string(c->clock_page, sizeof(c->clock_page), value,
				  err, ctx, where, key);
	} else if (!strcmp(key, "clock_anchor_ns")) {
		if (parse_u64(value, 0, 1000000000, &v))
			return bad(err, ctx, where, key, "must be an integer 0..1000000000");
		c->clock_anchor_ns = v;
	} else if (!strcmp(key, "clock_reference")) {
		if (!strcmp(value, "none"))
			c->clock_reference_chrony = false;
		else if (!strcmp(value, "chrony"))
			c->clock_reference_chrony = true;
		else
			return bad(err, ctx, where, key, "must be none or chrony");
	} else if (!strcmp(key, "clock_chrony_socket")) {
		if (value[0] != '/')
			return bad(err, ctx, where, key, "must be an absolute path");
		return set_string(c->clock_chrony_socket, sizeof(c->clock_chrony_socket),
				  value, err, ctx, where, key);
	} else if (!strcmp(key, "clock_discipline")) {
		if (!strcmp(value, "on"))
			c->clock_discipline = true;
		else if (!strcmp(value, "off"))
			c->clock_discipline = false;
		else
			return bad(err, ctx, where, key, "must be on or off");
	} else if (!strcmp(key, "test_clock_offset_ns")) {
		int64_t sv;

		if (parse_s64(value, TRUTH_CONF_TEST_MAX_OFFSET, &sv))
			return bad(err, ctx, where, key,
				   "must be an integer -86400000000000..86400000000000 (one day)");
		c->test_clock_offset_ns = sv;
	} else if (!strcmp(key, "test_clock_drift_ppm")) {
		int64_t sv;

		if (parse_s64(value, TRUTH_CONF_TEST_MAX_DRIFT_PPM, &sv))
			return bad(err, ctx, where, key, "must be an integer -100000..100000");
		c->test_clock_drift_ppm = (int32_t)sv;
	} else if (!strcmp(key, "test_clock_base")) {
		if (!strcmp(value, "realtime"))
			c->test_clock_raw = false;
		else if (!strcmp(value, "raw"))
			c->test_clock_raw = true;
		else
			return bad(err, ctx, where, key, "must be realtime or raw");
	} else if (!strcmp(key, "hlc_kernel")) {
		if (!strcmp(value, "on"))
			c->hlc_kernel = true;
		else if (!strcmp(value, "off"))
			c->hlc_kernel = false;
		else
			return bad(err, ctx, where, key, "must be on or off");
	} else if (!strcmp(key, "test_hooks")) {
		if (!strcmp(value, "on"))
			c->test_hooks = true;
		else if (!strcmp(value, "off"))
			c->test_hooks = false;
		else
			return bad(err, ctx, where, key, "must be on or off");
	} else if (!strcmp(key, "client_output_limit")) {
		if (parse_u64(value, 65536, 1ull << 40, &v))
			return bad(err, ctx, where, key, "must be an integer 65536..2^40");
		c->client_output_limit = v;
	} else if (!strcmp(key, "max_value_bytes")) {
		if (parse_u64(value, TRUTH_CONF_MAX_VALUE_MIN, TRUTH_CONF_MAX_VALUE_MAX, &v))
			return bad(err, ctx, where, key, "must be an integer 1024..8388608");
		c->max_value_bytes = (uint32_t)v;
	} else if (!strcmp(key, "clock_poll_ms")) {
		if (parse_u64(value, 10, 60000, &v))
			return bad(err, ctx, where, key, "must be an integer 10..60000");
		c->clock_poll_ms = (uint32_t)v;
	} else {
		return bad(err, ctx, where, key, "unknown key");
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int truth_conf_load(struct truth_conf *c, const char *path,
		    truth_conf_err_fn err, void *ctx)
{
	char line[1024], where[600], *key, *val, *eq, *hash;
	int errors = 0;
	unsigned int n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		n++;
		snprintf(where, sizeof(where), "%s:%u", path, n);
		if (!strchr(line, '\n') && !feof(f)) {
			errors += bad(err, ctx, where, "-", "line longer than 1023 bytes");
			while (fgets(line, sizeof(line), f) && !strchr(line, '\n'))
				;
			continue;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		key = trim(line);
		if (!*key)
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			errors += bad(err, ctx, where, key, "expected 'key = value'");
			continue;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		errors += truth_conf_set(c, where, key, val, err, ctx);
	}
	fclose(f);
	return errors;
}

static int load_key(struct truth_conf *c, const char *where,
		    truth_conf_err_fn err, void *ctx)
{
	char buf[130], reason[700];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(c->key_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(reason, sizeof(reason), "cannot open %s: %s", c->key_file,
			 strerror(errno));
		return bad(err, ctx, where, "key_file", reason);
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH))) {
		close(fd);
		snprintf(reason, sizeof(reason),
			 "%s is world-%s (mode %04o): chmod o-rwx it", c->key_file,
			 st.st_mode & S_IROTH ? "readable" : "writable",
			 (unsigned int)(st.st_mode & 07777));
		return bad(err, ctx, where, "key_file", reason);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	if (truth_wire_key_parse(trim(buf), c->key))
		return bad(err, ctx, where, "key_file",
			   "must hold exactly 64 hex digits (a 32-byte key)");
	return 0;
}

/*
 * The clockbound page: default data_dir/clockbound (created with the data
 * directory); elsewhere its directory must exist now, so a typo fails the
 * check instead of the start.
 */
static int check_clock_page(struct truth_conf *c, const char *where,
			    truth_conf_err_fn err, void *ctx)
{
	char dir[sizeof(c->clock_page)], reason[700];
	struct stat st;
	char *slash;

	if (!c->clock_page[0]) {
		if (!c->data_dir[0])
			return 0;
		if (strlen(c->data_dir) + sizeof("/clockbound") > sizeof(c->clock_page))
			return bad(err, ctx, where, "clock_page",
				   "data_dir too long for the default page path");
		snprintf(c->clock_page, sizeof(c->clock_page), "%s/clockbound",
			 c->data_dir);
		return 0;
	}
	if (!stat(c->clock_page, &st) && !S_ISREG(st.st_mode)) {
		snprintf(reason, sizeof(reason), "%s exists and is not a regular file",
			 c->clock_page);
		return bad(err, ctx, where, "clock_page", reason);
	}
	snprintf(dir, sizeof(dir), "%s", c->clock_page);
	slash = strrchr(dir, '/');
	if (!slash[1])
		return bad(err, ctx, where, "clock_page", "must name a file, not a directory");
	*slash = '\0';
	if (!dir[0] || !strcmp(dir, c->data_dir))
		return 0;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(reason, sizeof(reason), "directory %s does not exist", dir);
		return bad(err, ctx, where, "clock_page", reason);
	}
	return 0;
}

int truth_conf_finish(struct truth_conf *c, const char *file,
		      truth_conf_err_fn err, void *ctx)
{
	static const struct { unsigned int bit; const char *key; } req[] = {
		{ REQ_NODE, "node_id" }, { REQ_GROUP, "group_id" },
		{ REQ_DIR, "data_dir" }, { REQ_PLISTEN, "peer_listen" },
		{ REQ_KEY, "key_file" },
	};
	const struct truth_conf_peer *self;
	char where[600];
	int errors = 0;
	unsigned int i;

	snprintf(where, sizeof(where), "%s", file);
	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		if (!(c->given & req[i].bit))
			errors += bad(err, ctx, where, req[i].key, "required, not set");
	if (!(c->given & REQ_CLIENT))
		errors += bad(err, ctx, where, "client_listen",
			      "set client_listen or client_unix (clients need a way in)");
	if (c->n_peers == 0)
		errors += bad(err, ctx, where, "peer", "no peer listed (list every member, this node too)");
	if (c->node_id && c->n_peers) {
		self = truth_conf_peer(c, c->node_id);
		if (!self)
			errors += bad(err, ctx, where, "peer", "node_id is not among the peers");
		else if (c->peer_listen.len &&
			 (self->addr.len != c->peer_listen.len ||
			  memcmp(&self->addr.sa, &c->peer_listen.sa, self->addr.len)))
			errors += bad(err, ctx, where, "peer_listen",
				      "differs from this node's own peer line");
	}
	if (c->heartbeat_ms * 2 > c->election_timeout_ms)
		errors += bad(err, ctx, where, "heartbeat_ms",
			      "must be at most half of election_timeout_ms");
	if (c->key_file[0])
		errors += load_key(c, where, err, ctx);
	if (!c->client_advertise[0] && c->has_client_listen)
		snprintf(c->client_advertise, sizeof(c->client_advertise), "%s",
			 c->client_listen.text);
	errors += check_clock_page(c, where, err, ctx);
	return errors;
}

const struct truth_conf_peer *truth_conf_peer(const struct truth_conf *c,
					       uint32_t id)
{
	uint32_t i;

	for (i = 0; i < c->n_peers; i++)
		if (c->peers[i].id == id)
			return &c->peers[i];
	return NULL;
}
