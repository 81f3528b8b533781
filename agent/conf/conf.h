/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth conf: truthd's configuration file and --set overrides.
 *
 * "key = value" lines, '#' starts a comment, "peer" repeats.  Every key,
 * its default and its range are in Documentation/truthd.md and
 * agent/truthd/truthd.conf.example.  Parsing reports every bad value, not
 * only the first, through a callback, as "FILE:LINE: KEY: reason".
 */
#ifndef _TRUTH_CONF_H
#define _TRUTH_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <linux/truth.h>

#define TRUTH_CONF_MAX_PEERS	16	/* RAFT_MAX_MEMBERS */
#define TRUTH_CONF_ADDR_LEN	80	/* "host:port" text */
/* test_clock_*: the limits of agent/clock/probe.h's truth_probe_skew */
#define TRUTH_CONF_TEST_MAX_OFFSET	86400000000000LL	/* one day, ns */
#define TRUTH_CONF_TEST_MAX_DRIFT_PPM	100000		/* 10% */
/* max_value_bytes: default 1 MiB (etcd's 1.5 MiB request, ZooKeeper's 1 MB
 * znode); at most the RESP parser's largest bulk string (8 MiB) */
#define TRUTH_CONF_MAX_VALUE_DEFAULT	(1u << 20)
#define TRUTH_CONF_MAX_VALUE_MIN	1024u
#define TRUTH_CONF_MAX_VALUE_MAX	(8u << 20)

enum truth_conf_fast_path {
	TRUTH_CONF_FAST_AUTO,
	TRUTH_CONF_FAST_KERNEL,
	TRUTH_CONF_FAST_USER,
};

/* A socket address and the text it was written as. */
struct truth_conf_addr {
	struct sockaddr_storage sa;
	socklen_t len;
	char text[TRUTH_CONF_ADDR_LEN];
};

struct truth_conf_peer {
	uint32_t id;
	struct truth_conf_addr addr;	/* its peer_listen */
};

struct truth_conf {
	uint32_t node_id;
	uint32_t group_id;
	char data_dir[512];
	struct truth_conf_addr peer_listen;
	uint32_t n_peers;
	struct truth_conf_peer peers[TRUTH_CONF_MAX_PEERS];
	struct truth_conf_addr client_listen;
	bool has_client_listen;
	/* what followers put in -MOVED (default: client_listen) */
	char client_advertise[TRUTH_CONF_ADDR_LEN];
	char client_unix[108];
	char key_file[512];
	uint8_t key[TRUTH_WIRE_KEY_LEN];
	enum truth_conf_fast_path fast_path;
	bool fsync;
	uint32_t election_timeout_ms;
	uint32_t heartbeat_ms;
	int log_level;			/* enum truth_log_level */
	uint64_t snapshot_bytes;	/* log bytes since the last snapshot that start a new one */
	uint64_t wal_segment_bytes;	/* pre-allocated size of a WAL segment */
	uint32_t max_clients;		/* connections accepted at once */
	uint64_t client_output_limit;	/* bytes of unsent replies before a client is dropped */
	char clock_page[512];		/* clockbound page path ("" until finish: data_dir/clockbound) */
	uint64_t clock_anchor_ns;	/* >0: our CLOCK_REALTIME is this good (anchor) */
	bool clock_reference_chrony;	/* clock_reference = chrony */
	char clock_chrony_socket[108];	/* chronyc -h (default: chronyc's own) */
	bool clock_discipline;		/* steer CLOCK_REALTIME (adjtimex) */
	/* test only (Documentation/truthd.md "Test hooks"): skew this node's clock */
	int64_t test_clock_offset_ns;	/* ns added to CLOCK_REALTIME */
	int32_t test_clock_drift_ppm;	/* the skewed clock runs this much fast */
	bool test_hooks;		/* TRUTH.DEBUG allowed */
	bool test_clock_raw;		/* the wall clock follows RAW, not REALTIME */
	bool hlc_kernel;		/* merge the HLC with truth.ko's (default on) */
	unsigned int given;		/* required keys seen (REQ_* in conf.c) */
	uint32_t max_value_bytes;	/* longest argument of a write (a value) */
	uint32_t clock_poll_ms;		/* ms between probes to a peer */
};

/* Called once per bad value; where is "FILE:LINE" or "--set". */
typedef void (*truth_conf_err_fn)(void *ctx, const char *where, const char *key,
				  const char *reason);

/* Defaults for every optional key. */
void truth_conf_defaults(struct truth_conf *c);

/*
 * Parse one "key = value" (the file's lines, then each --set); where names
 * it in errors.  Returns the number of errors reported (0 = fine).
 */
int truth_conf_set(struct truth_conf *c, const char *where, const char *key,
		   const char *value, truth_conf_err_fn err, void *ctx);

/* Read a whole file; returns the number of errors (-1: cannot open it). */
int truth_conf_load(struct truth_conf *c, const char *path,
		    truth_conf_err_fn err, void *ctx);

/* Cross-key checks after everything is set (required keys, self in peers,
 * the key file); file names the config in errors.  Returns the errors. */
int truth_conf_finish(struct truth_conf *c, const char *file,
		      truth_conf_err_fn err, void *ctx);

/* "host:port", "[v6]:port" -> address; 0 or -1 with a reason. */
int truth_conf_parse_addr(const char *s, struct truth_conf_addr *a,
			  const char **reason);

const struct truth_conf_peer *truth_conf_peer(const struct truth_conf *c,
					       uint32_t id);

#endif /* _TRUTH_CONF_H */
