/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth resp: the client protocol of truthd (RESP, the Redis protocol).
 *
 * No I/O, no threads, no clock reads.  Four layers, each usable alone:
 *
 *   parser    bytes -> struct truth_resp_cmd (argc/argv), incremental,
 *             any chunking, pipelining, hard limits; a protocol error is
 *             sticky and the connection must be closed after replying
 *             "-ERR Protocol error: <reason>".
 *   commands  struct truth_resp_cmd -> struct truth_resp_request: table
 *             lookup (case-insensitive), arity, strict argument parsing;
 *             on any error the Redis-worded error reply is written instead.
 *   replies   struct truth_resp_out: RESP2 or RESP3 (per connection, set by
 *             HELLO) writers for every reply type, the redirect included.
 *   store     a reference in-memory executor of the string commands (keys
 *             with expiry as a function of a passed-in "now"), used by the
 *             tests and as the interim backend of truthd.
 *
 * struct truth_resp_session ties a parser, an output buffer and the
 * connection's protocol version together; truth_resp_session_feed() is the
 * seam the network server drives: it hands every request that needs the
 * state machine to a struct truth_resp_handler and answers the rest
 * (PING, ECHO, HELLO, COMMAND, QUIT, protocol and argument errors) itself.
 *
 * Lifetime rule: everything a truth_resp_cmd or truth_resp_request points
 * to lives in the parser and is valid only until the next call into that
 * parser.  A handler that defers a request must copy what it needs.
 *
 * Documentation/protocol.md is the user-facing description.
 *
 * Changelog of the protocol surface (bump TRUTH_RESP_PROTO_REV):
 *   1  RESP2/RESP3, PING ECHO GET SET DEL EXISTS INCR INCRBY DECR DECRBY
 *      MGET INFO HELLO COMMAND QUIT, -MOVED and -TRYAGAIN redirects.
 *   2  TIME.NOW (the node's bounded time, Documentation/clock.md).
 *   3  TRUTH.DEBUG (test hooks; refused unless truthd has test_hooks = on).
 */
#ifndef _TRUTH_RESP_H
#define _TRUTH_RESP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRUTH_RESP_PROTO_REV		3	/* revision of the command set above */
#define TRUTH_RESP_VERSION		"0.1.0"	/* truthd version reported by HELLO and INFO */
#define TRUTH_RESP_REDIS_COMPAT		"7.0.0"	/* redis_version in INFO: clients gate features on it */

/* ------------------------------------------------------------- limits */

#define TRUTH_RESP_DEF_MAX_BULK		(8u << 20)	/* default largest bulk string: 8 MiB (Redis: 512 MiB) */
#define TRUTH_RESP_DEF_MAX_ARGS		65536u		/* default most arguments in one command (Redis: INT_MAX) */
#define TRUTH_RESP_DEF_MAX_INLINE	(64u << 10)	/* default longest inline line: 64 KiB (as Redis) */
#define TRUTH_RESP_DEF_MAX_QUERY	(32u << 20)	/* default most bytes held for one command (Redis: 1 GiB) */
#define TRUTH_RESP_MAX_HEADER		32u		/* longest "*N" / "$N" line before CRLF */

/* Hard limits of one parser; a request beyond any is a protocol error. */
struct truth_resp_limits {
	size_t max_bulk;	/* largest $N accepted, bytes */
	unsigned int max_args;	/* most arguments: largest *N, most inline words */
	size_t max_inline;	/* longest inline line, bytes, without its LF */
	size_t max_query;	/* most bytes held for one command's arguments and bookkeeping */
};

/* Fill *l with the TRUTH_RESP_DEF_* defaults. */
void truth_resp_limits_default(struct truth_resp_limits *l);

/* ------------------------------------------------------------- parser */

/* One argument: binary safe, also NUL-terminated (ptr[len] == '\0'). */
struct truth_resp_arg {
	const char *ptr;	/* first byte; valid until the next call into the parser */
	size_t len;		/* length in bytes, excluding the terminating NUL */
};

/* One complete command as sent. */
struct truth_resp_cmd {
	unsigned int argc;			/* number of arguments, >= 1 */
	const struct truth_resp_arg *argv;	/* argv[0] is the command name */
	bool inline_form;			/* sent as an inline line, not a RESP array */
};

/* Results of truth_resp_parse(). */
enum truth_resp_parse_result {
	TRUTH_RESP_NEED_MORE = 0,	/* every byte consumed, no complete command yet */
	TRUTH_RESP_COMMAND = 1,		/* *cmd holds one command; more input may follow */
	TRUTH_RESP_PROTO_ERROR = -1,	/* malformed or over a limit: reply and close */
	TRUTH_RESP_NOMEM = -2,		/* allocation failed: close */
};

struct truth_resp_parser;

/* A new parser with limits *l (NULL: the defaults); NULL if out of memory. */
struct truth_resp_parser *truth_resp_parser_new(const struct truth_resp_limits *l);
void truth_resp_parser_free(struct truth_resp_parser *p);

/*
 * Consume bytes from buf[0..len) until one command is complete (returns
 * TRUTH_RESP_COMMAND, *consumed says how far) or the input runs out
 * (TRUTH_RESP_NEED_MORE, *consumed == len; partial state is kept).  Call
 * again with buf + *consumed for pipelined commands.  The result depends
 * only on the byte stream, never on how it was split into calls.  After
 * TRUTH_RESP_PROTO_ERROR or TRUTH_RESP_NOMEM the parser stays in that
 * state; truth_resp_parser_error() gives the reason.
 */
int truth_resp_parse(struct truth_resp_parser *p, const void *buf, size_t len,
		     size_t *consumed, struct truth_resp_cmd *cmd);

/* Reason of the sticky error, worded as Redis does ("invalid bulk length"), or NULL. */
const char *truth_resp_parser_error(const struct truth_resp_parser *p);

/* Bytes the parser currently holds for an incomplete command. */
size_t truth_resp_parser_buffered(const struct truth_resp_parser *p);

/* Whether a command is partly received (a client closing now cut it). */
bool truth_resp_parser_mid_command(const struct truth_resp_parser *p);

/* -------------------------------------------------------- reply writer */

/* An output buffer of replies for one connection. */
struct truth_resp_out {
	char *buf;		/* reply bytes, not NUL-terminated */
	size_t len;		/* bytes used */
	size_t cap;		/* bytes allocated */
	int proto;		/* 2 or 3: RESP version of the reader (HELLO) */
	bool nomem;		/* an append failed; the connection must be closed */
};

void truth_resp_out_init(struct truth_resp_out *o);	/* empty, RESP2 */
void truth_resp_out_free(struct truth_resp_out *o);
/* Drop the first n bytes (after writing them to the socket). */
void truth_resp_out_consume(struct truth_resp_out *o, size_t n);

/* Raw bytes, no framing: INFO text, or a reply already encoded (forwarded). */
void truth_resp_out_append(struct truth_resp_out *o, const void *p, size_t n);
void truth_resp_out_printf(struct truth_resp_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void truth_resp_add_simple(struct truth_resp_out *o, const char *s);		/* +s */
/* -msg: msg starts with the error code ("ERR ...", "WRONGTYPE ..."); CR and LF become spaces. */
void truth_resp_add_error(struct truth_resp_out *o, const char *msg);
void truth_resp_add_errorf(struct truth_resp_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void truth_resp_add_int(struct truth_resp_out *o, long long v);			/* :v */
void truth_resp_add_bulk(struct truth_resp_out *o, const void *p, size_t n);	/* $n */
void truth_resp_add_bulk_str(struct truth_resp_out *o, const char *s);
void truth_resp_add_null(struct truth_resp_out *o);		/* RESP2 $-1, RESP3 _ */
void truth_resp_add_null_array(struct truth_resp_out *o);	/* RESP2 *-1, RESP3 _ */
void truth_resp_add_array(struct truth_resp_out *o, size_t n);	/* *n, then n replies */
void truth_resp_add_map(struct truth_resp_out *o, size_t n);	/* RESP3 %n, RESP2 *2n; then 2n replies */
void truth_resp_add_set(struct truth_resp_out *o, size_t n);	/* RESP3 ~n, RESP2 *n */
void truth_resp_add_push(struct truth_resp_out *o, size_t n);	/* RESP3 >n, RESP2 *n */
void truth_resp_add_double(struct truth_resp_out *o, double d);	/* RESP3 ,d; RESP2 bulk "d" */
void truth_resp_add_bool(struct truth_resp_out *o, bool b);	/* RESP3 #t/#f; RESP2 :1/:0 */
/* RESP3 verbatim string =n txt:...; RESP2 bulk.  fmt is three letters, e.g. "txt". */
void truth_resp_add_verbatim(struct truth_resp_out *o, const char *fmt, const void *p, size_t n);

/*
 * Redirect from a follower: "-MOVED <leader-id> <host>:<port>", the shape
 * of a Redis Cluster redirect with the leader's node id where Redis puts
 * the slot, so `redis-cli -c` and cluster-aware clients follow it.  addr
 * is "host:port" (IPv6 unbracketed, as Redis writes it).
 */
void truth_resp_add_moved(struct truth_resp_out *o, uint64_t leader_id, const char *addr);
/* No leader known (election under way): "-TRYAGAIN no leader elected, retry later". */
void truth_resp_add_tryagain(struct truth_resp_out *o);
/* "-ERR Protocol error: <reason>"; the connection is closed after it. */
void truth_resp_add_proto_error(struct truth_resp_out *o, const char *reason);

/* Error texts shared by the command parsers and the executors. */
#define TRUTH_RESP_ERR_SYNTAX		"ERR syntax error"	/* unknown or conflicting option */
/* an integer argument or stored value that is not a strict int64 */
#define TRUTH_RESP_ERR_NOT_INT		"ERR value is not an integer or out of range"
/* INCR family: the result leaves int64 */
#define TRUTH_RESP_ERR_OVERFLOW		"ERR increment or decrement would overflow"
/* DECRBY -9223372036854775808: the negated amount is not an int64 */
#define TRUTH_RESP_ERR_DECR_OVERFLOW	"ERR decrement would overflow"
/* a string command on a key of another type (none exist yet) */
#define TRUTH_RESP_ERR_WRONGTYPE	"WRONGTYPE Operation against a key holding the wrong kind of value"
/* HELLO with a version other than 2 or 3 */
#define TRUTH_RESP_ERR_NOPROTO		"NOPROTO unsupported protocol version"

/* Redis's string2ll: optional '-', no '+', no spaces, no leading zeros, no overflow. */
bool truth_resp_str2ll(const char *s, size_t len, long long *v);

/* ------------------------------------------------------ command table */

/* Command flags (struct truth_resp_command.flags). */
#define TRUTH_RESP_CMD_WRITE	(1u << 0)	/* changes the keyspace: goes through the Raft log */
#define TRUTH_RESP_CMD_READONLY	(1u << 1)	/* reads the keyspace: linearizable read (ReadIndex/lease) */
#define TRUTH_RESP_CMD_ADMIN	(1u << 2)	/* administrative: may be restricted to local/admin clients */
#define TRUTH_RESP_CMD_NORAFT	(1u << 3)	/* answered by the receiving node, no Raft involved */
#define __TRUTH_RESP_CMD_ALL	((1u << 4) - 1)	/* every defined flag */

/* Command identities (struct truth_resp_command.id). */
enum truth_resp_cmd_id {
	TRUTH_RESP_ID_PING,	/* PING [msg]: u.msg if has_msg */
	TRUTH_RESP_ID_ECHO,	/* ECHO msg: u.msg */
	TRUTH_RESP_ID_GET,	/* GET key: u.key */
	TRUTH_RESP_ID_SET,	/* SET key value [options]: u.set */
	TRUTH_RESP_ID_DEL,	/* DEL key...: u.keys */
	TRUTH_RESP_ID_EXISTS,	/* EXISTS key...: u.keys */
	TRUTH_RESP_ID_INCRBY,	/* INCR, INCRBY, DECR, DECRBY: u.incrby, one signed delta */
	TRUTH_RESP_ID_MGET,	/* MGET key...: u.keys */
	TRUTH_RESP_ID_INFO,	/* INFO [section...]: u.info */
	TRUTH_RESP_ID_HELLO,	/* HELLO [2|3] [SETNAME n]: u.hello */
	TRUTH_RESP_ID_COMMAND,	/* COMMAND [COUNT|INFO|DOCS|LIST|HELP]: u.command */
	TRUTH_RESP_ID_QUIT,	/* QUIT: no arguments */
	TRUTH_RESP_ID_TIME_NOW,	/* TIME.NOW: no arguments */
	TRUTH_RESP_ID_COORD,	/* coordination (CAS, LOCK.*, ...): argv, checked by agent/sm */
	TRUTH_RESP_ID_DEBUG,	/* TRUTH.DEBUG sub [args]: argv, test hooks (truthd) */
	__TRUTH_RESP_ID_MAX,	/* number of ids */
};

/* One row of the command table. */
struct truth_resp_command {
	const char *name;		/* lower case, as errors and COMMAND print it */
	enum truth_resp_cmd_id id;	/* what the request union holds */
	int arity;			/* > 0: exact argc; < 0: at least -arity (name included) */
	unsigned int flags;		/* TRUTH_RESP_CMD_* */
	int first_key;			/* argv index of the first key, 0 if none (COMMAND INFO) */
	int last_key;			/* argv index of the last key, -1 = last argument */
	int key_step;			/* step between keys */
	long long delta;		/* INCR/DECR family: fixed delta, 0 = taken from argv[2] */
	bool negate;			/* DECRBY: the argument is negated */
};

/* The table, and its length. */
extern const struct truth_resp_command truth_resp_commands[];
extern const unsigned int truth_resp_ncommands;

/* Case-insensitive, binary-safe lookup; NULL if unknown. */
const struct truth_resp_command *truth_resp_lookup(const char *name, size_t len);

/* SET option flags (struct truth_resp_set.flags). */
#define TRUTH_RESP_SET_NX	(1u << 0)	/* only if the key does not exist */
#define TRUTH_RESP_SET_XX	(1u << 1)	/* only if the key exists */
#define TRUTH_RESP_SET_GET	(1u << 2)	/* reply with the old value */
#define TRUTH_RESP_SET_KEEPTTL	(1u << 3)	/* keep the key's expiry */
#define TRUTH_RESP_SET_EX	(1u << 4)	/* expire_ms relative, given in seconds */
#define TRUTH_RESP_SET_PX	(1u << 5)	/* expire_ms relative, given in milliseconds */
#define TRUTH_RESP_SET_EXAT	(1u << 6)	/* expire_ms absolute (unix ms), given in seconds */
#define TRUTH_RESP_SET_PXAT	(1u << 7)	/* expire_ms absolute (unix ms), given in milliseconds */
#define TRUTH_RESP_SET_REL	(TRUTH_RESP_SET_EX | TRUTH_RESP_SET_PX)	/* relative expiry */
#define TRUTH_RESP_SET_ABS	(TRUTH_RESP_SET_EXAT | TRUTH_RESP_SET_PXAT)	/* absolute expiry */
#define TRUTH_RESP_SET_FENCE	(1u << 8)	/* FENCE resource token: agent/sm checks the token */
#define TRUTH_RESP_SET_SESSION	(1u << 9)	/* SESSION id: the key is bound to that session */

/*
 * SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
 *               [FENCE resource token] [SESSION id]
 * (FENCE and SESSION are truth's own; Documentation/coordination.md.)
 */
struct truth_resp_set {
	struct truth_resp_arg key;	/* the key */
	struct truth_resp_arg value;	/* the new value */
	unsigned int flags;		/* TRUTH_RESP_SET_* */
	long long expire_ms;		/* > 0 with an expiry flag: milliseconds (relative or unix) */
	struct truth_resp_arg fence;	/* FENCE: the resource name */
	long long fence_token;		/* FENCE: the token, >= 0 */
	long long session;		/* SESSION: the session id, > 0 */
};

/* A list of keys (DEL, EXISTS, MGET). */
struct truth_resp_keys {
	const struct truth_resp_arg *keys;	/* the keys, in order, duplicates kept */
	unsigned int n;				/* how many, >= 1 */
};

/* INCR / INCRBY / DECR / DECRBY key [n] */
struct truth_resp_incrby {
	struct truth_resp_arg key;	/* the key */
	long long delta;		/* signed amount added */
};

/* INFO [section ...] */
struct truth_resp_info {
	const struct truth_resp_arg *sections;	/* requested section names, any case */
	unsigned int n;				/* 0: the "default" set */
};

/* HELLO [protover [AUTH user pass] [SETNAME name]] */
struct truth_resp_hello {
	int proto;			/* 2 or 3; 0: keep the current one */
	bool has_name;			/* SETNAME given */
	struct truth_resp_arg name;	/* the client name */
};

/* COMMAND [COUNT | INFO [name ...] | DOCS [name ...] | LIST | HELP] */
enum truth_resp_command_sub {
	TRUTH_RESP_COMMAND_ALL,		/* COMMAND: info of every command */
	TRUTH_RESP_COMMAND_COUNT,	/* COMMAND COUNT */
	TRUTH_RESP_COMMAND_INFO,	/* COMMAND INFO name...: info or null per name */
	TRUTH_RESP_COMMAND_DOCS,	/* COMMAND DOCS: an empty map (no docs served) */
	TRUTH_RESP_COMMAND_LIST,	/* COMMAND LIST: every name */
	TRUTH_RESP_COMMAND_HELP,	/* COMMAND HELP: lines of help text */
};

struct truth_resp_command_req {
	enum truth_resp_command_sub sub;	/* which subcommand */
	const struct truth_resp_arg *names;	/* COMMAND INFO names */
	unsigned int n;				/* how many names, 0 = all */
};

/* A validated, typed request: the unit the state machine consumes. */
struct truth_resp_request {
	const struct truth_resp_command *cmd;	/* the table row (id, flags) */
	union {
		struct truth_resp_arg msg;		/* PING (if has_msg) and ECHO */
		struct truth_resp_arg key;		/* GET */
		struct truth_resp_set set;		/* SET */
		struct truth_resp_keys keys;		/* DEL, EXISTS, MGET */
		struct truth_resp_incrby incrby;	/* INCR family */
		struct truth_resp_info info;		/* INFO */
		struct truth_resp_hello hello;		/* HELLO */
		struct truth_resp_command_req command;	/* COMMAND */
	} u;
	bool has_msg;				/* PING: a message was given */
	uint64_t client_id;			/* TRUTH.REQ envelope: the client's id, 0 if none */
	uint64_t client_seq;			/* TRUTH.REQ envelope: its request sequence */
	uint32_t opts;				/* TRUTH.REQ envelope: TRUTH_RESP_REQ_* options */
	unsigned int argc;			/* the command as sent (what goes in the log) */
	const struct truth_resp_arg *argv;	/* argv[0] is the name; valid as the request */
};

/* TRUTH.REQ options (between seq and the command; Documentation/protocol.md) */
#define TRUTH_RESP_REQ_HLC		(1u << 0)	/* reply [hlc, reply] */
#define TRUTH_RESP_REQ_COMMITWAIT	(1u << 1)	/* and only once earliest > hlc */

/*
 * TRUTH.REQ <client-id> <seq> [HLC] [COMMITWAIT] <command> [args...] is an
 * envelope: the
 * request is the inner command (req->cmd, argv, flags are its own) with
 * req->client_id and req->client_seq set, so a retrying client is applied
 * once (Documentation/coordination.md, "Exactly-once").
 *
 * Validate cmd into *req.  Returns 0, or -1 after appending the error reply
 * ("-ERR unknown command ...", "-ERR wrong number of arguments ...",
 * "-ERR syntax error", ...) to *out; nothing else is changed either way.
 */
int truth_resp_request_parse(const struct truth_resp_cmd *cmd,
			     struct truth_resp_request *req,
			     struct truth_resp_out *out);

/* INFO: whether section (lower case) is selected by r; in_default: part of "default". */
bool truth_resp_info_wants(const struct truth_resp_info *r, const char *section,
			   bool in_default);
/* INFO text: start a section "# Title" (a blank line before all but the first). */
void truth_resp_info_section(struct truth_resp_out *text, const char *title);

/* -------------------------------------------------------------- store */

struct truth_resp_store;

struct truth_resp_store *truth_resp_store_new(void);	/* NULL if out of memory */
void truth_resp_store_free(struct truth_resp_store *st);
/* Live keys at now_ms (expired ones are dropped first). */
size_t truth_resp_store_size(struct truth_resp_store *st, int64_t now_ms);

/*
 * Execute a GET, SET, DEL, EXISTS, INCR-family or MGET request at time
 * now_ms (unix milliseconds; a replicated state machine passes the time
 * the leader stamped on the log entry, so every replica agrees) and append
 * exactly one reply.  Returns 0, or -1 if req is not a keyspace command
 * (nothing appended).  Running out of memory sets out->nomem.
 */
int truth_resp_store_exec(struct truth_resp_store *st,
			  const struct truth_resp_request *req,
			  int64_t now_ms, struct truth_resp_out *out);

/*
 * Snapshots of a replicated keyspace: every entry, expired or not (expiry
 * is a function of the reader's time, so a snapshot keeps it as data), in
 * no particular order; a non-zero return from fn stops and is returned.
 */
typedef int (*truth_resp_store_fn)(void *ctx, const void *key, size_t klen,
				   const void *val, size_t vlen, int64_t expire_at);
int truth_resp_store_foreach(struct truth_resp_store *st, truth_resp_store_fn fn,
			     void *ctx);
/* Set one key as a snapshot restores it (expire_at: unix ms, 0 = never); 0 or -1 (memory). */
int truth_resp_store_put(struct truth_resp_store *st, const void *key, size_t klen,
			 const void *val, size_t vlen, int64_t expire_at);

/* Append INFO's "keyspace" section body ("db0:keys=...") if any keys live. */
void truth_resp_store_info(struct truth_resp_store *st, int64_t now_ms,
			   struct truth_resp_out *text);

/* ------------------------------------------------------------ session */

struct truth_resp_session;

/* TIME.NOW's answer: true time is within [earliest, latest] (unix ns). */
struct truth_resp_time {
	int64_t earliest;		/* ns since the epoch */
	int64_t latest;			/* ns since the epoch */
	const char *status;		/* "synchronised", "free-running", "unknown" */
};

/* What truth_resp_session_feed() hands to the server. */
struct truth_resp_handler {
	/*
	 * A request with TRUTH_RESP_CMD_WRITE or _READONLY (a follower may
	 * answer truth_resp_add_moved()).  Return 0 after appending exactly
	 * one reply to &s->out, or 1 to defer it: feeding stops right after
	 * this command and the server appends the reply later, then feeds the
	 * rest of the input.  req is valid during the call only.
	 */
	int (*execute)(void *ctx, struct truth_resp_session *s,
		       const struct truth_resp_request *req);
	/* INFO: append the text of the sections r selects to *text (NULL: server section only). */
	void (*info)(void *ctx, struct truth_resp_session *s,
		     const struct truth_resp_info *r, struct truth_resp_out *text);
	/*
	 * TIME.NOW: fill *t from the node's clock (truth_probe_now()) and
	 * return 0, or a negative errno; NULL: the server has no clock.  The
	 * reply is [earliest, latest, status] (integers, bulk string).
	 */
	int (*time_now)(void *ctx, struct truth_resp_time *t);
	void *ctx;			/* passed back to the callbacks */
	uint64_t node_id;		/* this node's id, reported by INFO */
	bool leader;			/* HELLO's role: "master" when leader, else "replica" */
};

/* One client connection's protocol state. */
struct truth_resp_session {
	struct truth_resp_parser *parser;	/* request parser */
	struct truth_resp_out out;		/* pending replies; out.proto is the RESP version */
	uint64_t id;				/* client id, reported by HELLO */
	char *name;				/* HELLO SETNAME, or NULL */
	bool closing;				/* QUIT or protocol error: flush out, then close */
	uint64_t commands;			/* commands processed, protocol errors excluded */
};

/* Returns 0, or -1 if out of memory. */
int truth_resp_session_init(struct truth_resp_session *s, uint64_t id,
			    const struct truth_resp_limits *l);
void truth_resp_session_fini(struct truth_resp_session *s);

/*
 * Parse and answer as many commands of buf[0..len) as possible; returns the
 * number of bytes consumed (less than len only after a deferral or once
 * closing).  Replies are appended to s->out in command order.
 */
size_t truth_resp_session_feed(struct truth_resp_session *s, const void *buf,
			       size_t len, const struct truth_resp_handler *h);

/*
 * Fill *h with a handler executing against b->store at b->now_ms (tests,
 * interim backend): it never defers, reports node_id 1 and leader, and adds
 * the keyspace section to INFO.
 */
struct truth_resp_store_backend {
	struct truth_resp_store *store;	/* the keyspace */
	int64_t now_ms;			/* the time commands execute at */
};
void truth_resp_store_handler(struct truth_resp_handler *h,
			      struct truth_resp_store_backend *b);

#endif /* _TRUTH_RESP_H */
