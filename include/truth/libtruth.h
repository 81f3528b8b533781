/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtruth: a C client of truthd (RESP over TCP or a Unix socket).
 *
 * One struct truth_client is one connection at a time to one member of a
 * cluster.  It finds the leader by following "-MOVED <id> <host:port>",
 * waits and tries the next member on "-TRYAGAIN" or a broken connection,
 * and sends every command inside "TRUTH.REQ <client-id> <seq> ..." with a
 * random client id and one sequence number per call, kept across its
 * retries, so a retried write is applied once (Documentation/
 * coordination.md, "Exactly-once").
 *
 * Calls block (a LOCK.ACQUIRE waits until granted).  Not thread-safe: use
 * one client per thread (truthctl keeps a session alive from a second
 * client in a second thread while the first waits for a lock).
 *
 *	const char *nodes[] = { "10.0.0.1:6381", "10.0.0.2:6381", "unix:/run/truth/1.sock" };
 *	struct truth_client_config cfg = { .nodes = nodes, .nnodes = 3 };
 *	struct truth_client *c = truth_client_new(&cfg, err, sizeof(err));
 *	uint64_t session, token;
 *	truth_session_open(c, 10000, &session);
 *	if (truth_lock_acquire(c, "backup", session, -1, &token) == 0)
 *		... write with FENCE backup <token> ...
 */
#ifndef _TRUTH_LIBTRUTH_H
#define _TRUTH_LIBTRUTH_H

#include <stddef.h>
#include <stdint.h>

/* Reply types (RESP2 and the RESP3 types libtruth asks for none of). */
enum truth_reply_type {
	TRUTH_REPLY_STATUS = 1,	/* +OK */
	TRUTH_REPLY_ERROR,	/* -ERR ...: str holds "ERR ..." */
	TRUTH_REPLY_INTEGER,	/* :42 */
	TRUTH_REPLY_STRING,	/* $n (binary safe, also NUL-terminated) */
	TRUTH_REPLY_NIL,	/* $-1 or *-1 */
	TRUTH_REPLY_ARRAY,	/* *n: elem[0..n) */
};

struct truth_reply {
	int type;			/* enum truth_reply_type */
	long long integer;		/* INTEGER */
	char *str;			/* STATUS, ERROR, STRING: NUL-terminated */
	size_t len;			/* its length */
	size_t n;			/* ARRAY: elements */
	struct truth_reply **elem;	/* ARRAY: the elements */
};

void truth_reply_free(struct truth_reply *r);

struct truth_client_config {
	const char *const *nodes;	/* "host:port", "[v6]:port", "unix:/path" or "/path" */
	unsigned int nnodes;		/* how many, >= 1 */
	int connect_timeout_ms;		/* per connection attempt; 0: 2000 */
	int reply_timeout_ms;		/* waiting for a reply; 0: forever (blocking commands) */
	/*
	 * A call waiting for ever (reply_timeout_ms 0: a LOCK.ACQUIRE, a
	 * campaign) asks its member every probe_ms, on a second connection,
	 * whether it still leads; if it does not answer or does not lead, the
	 * request is sent again (same id and sequence) through the members,
	 * so a wait on a crashed or cut-off leader moves to the new one.
	 * 0: 2000; -1: never.
	 */
	int probe_ms;
	/* sends before giving up; 0: 3 per node, at least 10.  A "-TRYAGAIN"
	 * (no leader yet) is asked again every 50 ms, uncounted, for as long
	 * as the attempts' back-off (40, 80, 160, 320, then 500 ms) sleeps */
	unsigned int attempts;
	uint64_t client_id;		/* 0: a random one */
};

struct truth_client;

/* NULL with the reason in err (bad address, out of memory); connects lazily. */
struct truth_client *truth_client_new(const struct truth_client_config *cfg, char *err,
				      size_t errlen);
void truth_client_free(struct truth_client *c);

/* The reason of the last failure ("connect 127.0.0.1:6381: Connection refused"). */
const char *truth_client_error(const struct truth_client *c);
/* The address of the member the client talks to now (after redirects). */
const char *truth_client_node(const struct truth_client *c);

/*
 * Send one command (argv[0] the name) and wait for its reply.  0 with
 * *reply set (it may be an ERROR reply: the command's own answer), or a
 * negative errno when no member answered within the attempts.
 */
int truth_client_call(struct truth_client *c, struct truth_reply **reply, unsigned int argc,
		      const char *const *argv);

/*
 * 0 if the member the client talks to answers INFO truth within probe_ms
 * (on a second connection) and leads; a negative errno if not.  A watcher
 * that has heard nothing for a while asks this before waiting on.
 */
int truth_client_probe(struct truth_client *c);

/*
 * The same with TRUTH.REQ options (Documentation/protocol.md): TRUTH_CALL_HLC
 * asks the HLC of the log entry that answered (a read: of the last entry
 * applied), TRUTH_CALL_COMMITWAIT also has the leader answer a write only
 * once its clock's earliest is past that HLC (Spanner's commit wait).
 * *hlc is 0 when the reply carries none (an error refused before the log,
 * or a server without the option).
 */
#define TRUTH_CALL_HLC		(1u << 0)
#define TRUTH_CALL_COMMITWAIT	(1u << 1)
int truth_client_call_hlc(struct truth_client *c, struct truth_reply **reply, uint64_t *hlc,
			  unsigned int flags, unsigned int argc, const char *const *argv);

/*
 * The next unsolicited message (a watch event) on the current connection,
 * waiting up to timeout_ms (-1: forever).  0, -ETIMEDOUT, or another
 * negative errno (the connection broke: re-watch from the next revision).
 */
int truth_client_next(struct truth_client *c, struct truth_reply **reply, int timeout_ms);

/*
 * Helpers.  0 on success; 1 when the command answered "no" (a try-lock on
 * a held lock, a timeout); -EPROTO for an error reply (its text in
 * truth_client_error()); other negative errno for transport failures.
 */
int truth_session_open(struct truth_client *c, long long ttl_ms, uint64_t *session);
int truth_session_keepalive(struct truth_client *c, uint64_t session);
int truth_session_close(struct truth_client *c, uint64_t session);
/* timeout_ms: -1 waits for ever, 0 is a try-lock. */
int truth_lock_acquire(struct truth_client *c, const char *name, uint64_t session,
		       long long timeout_ms, uint64_t *token);
int truth_lock_release(struct truth_client *c, const char *name, uint64_t session,
		       uint64_t token);
int truth_elect_campaign(struct truth_client *c, const char *name, uint64_t session,
			 const char *value, uint64_t *token);
int truth_elect_resign(struct truth_client *c, const char *name, uint64_t session,
		       uint64_t token);
/* count: participants; returns when all entered (enter) / all left (leave). */
int truth_barrier_enter(struct truth_client *c, const char *name, unsigned int count,
			uint64_t session);
int truth_barrier_leave(struct truth_client *c, const char *name, uint64_t session);

#endif /* _TRUTH_LIBTRUTH_H */
