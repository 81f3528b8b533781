// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth resp: the command table and argument parsing.
 *
 * truth_resp_request_parse() is the only place a client's words become a
 * typed request: lookup, arity, options and integers are all checked here,
 * with Redis 7's error texts, so that what reaches the state machine (and
 * the Raft log) is always well formed.
 */

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "resp.h"

#define RO	TRUTH_RESP_CMD_READONLY
#define WR	TRUTH_RESP_CMD_WRITE
#define NR	TRUTH_RESP_CMD_NORAFT

const struct truth_resp_command truth_resp_commands[] = {
	/* name      id                     arity flags first last step delta negate */
	{ "ping",    TRUTH_RESP_ID_PING,    -1,   NR,   0,    0,   0,   0,    false },
	{ "echo",    TRUTH_RESP_ID_ECHO,     2,   NR,   0,    0,   0,   0,    false },
	{ "get",     TRUTH_RESP_ID_GET,      2,   RO,   1,    1,   1,   0,    false },
	{ "set",     TRUTH_RESP_ID_SET,     -3,   WR,   1,    1,   1,   0,    false },
	{ "del",     TRUTH_RESP_ID_DEL,     -2,   WR,   1,   -1,   1,   0,    false },
	{ "exists",  TRUTH_RESP_ID_EXISTS,  -2,   RO,   1,   -1,   1,   0,    false },
	{ "incr",    TRUTH_RESP_ID_INCRBY,   2,   WR,   1,    1,   1,   1,    false },
	{ "incrby",  TRUTH_RESP_ID_INCRBY,   3,   WR,   1,    1,   1,   0,    false },
	{ "decr",    TRUTH_RESP_ID_INCRBY,   2,   WR,   1,    1,   1,  -1,    false },
	{ "decrby",  TRUTH_RESP_ID_INCRBY,   3,   WR,   1,    1,   1,   0,    true  },
	{ "mget",    TRUTH_RESP_ID_MGET,    -2,   RO,   1,   -1,   1,   0,    false },
	{ "info",    TRUTH_RESP_ID_INFO,    -1,   NR,   0,    0,   0,   0,    false },
	{ "hello",   TRUTH_RESP_ID_HELLO,   -1,   NR,   0,    0,   0,   0,    false },
	{ "command", TRUTH_RESP_ID_COMMAND, -1,   NR,   0,    0,   0,   0,    false },
	{ "quit",    TRUTH_RESP_ID_QUIT,    -1,   NR,   0,    0,   0,   0,    false },
	{ "time.now", TRUTH_RESP_ID_TIME_NOW, 1,  NR,   0,    0,   0,   0,    false },
	/* coordination (agent/sm, Documentation/coordination.md); argv[1] names the object */
	{ "cas",		TRUTH_RESP_ID_COORD, -4, WR, 1, 1, 1, 0, false },
	{ "keyinfo",		TRUTH_RESP_ID_COORD,  2, RO, 1, 1, 1, 0, false },
	{ "session.open",	TRUTH_RESP_ID_COORD,  2, WR, 1, 1, 1, 0, false },
	{ "session.keepalive",	TRUTH_RESP_ID_COORD,  2, WR, 1, 1, 1, 0, false },
	{ "session.close",	TRUTH_RESP_ID_COORD,  2, WR, 1, 1, 1, 0, false },
	{ "session.info",	TRUTH_RESP_ID_COORD,  2, RO, 1, 1, 1, 0, false },
	{ "lock.acquire",	TRUTH_RESP_ID_COORD, -3, WR, 1, 1, 1, 0, false },
	{ "lock.release",	TRUTH_RESP_ID_COORD, -3, WR, 1, 1, 1, 0, false },
	{ "lock.owner",		TRUTH_RESP_ID_COORD,  2, RO, 1, 1, 1, 0, false },
	{ "elect.campaign",	TRUTH_RESP_ID_COORD, -4, WR, 1, 1, 1, 0, false },
	{ "elect.proclaim",	TRUTH_RESP_ID_COORD,  5, WR, 1, 1, 1, 0, false },
	{ "elect.resign",	TRUTH_RESP_ID_COORD, -3, WR, 1, 1, 1, 0, false },
	{ "elect.leader",	TRUTH_RESP_ID_COORD,  2, RO, 1, 1, 1, 0, false },
	{ "elect.observe",	TRUTH_RESP_ID_COORD, -2, RO, 1, 1, 1, 0, false },
	{ "barrier.enter",	TRUTH_RESP_ID_COORD,  4, WR, 1, 1, 1, 0, false },
	{ "barrier.leave",	TRUTH_RESP_ID_COORD,  3, WR, 1, 1, 1, 0, false },
	{ "watch",		TRUTH_RESP_ID_COORD, -2, RO, 1, 1, 1, 0, false },
	{ "watch.cancel",	TRUTH_RESP_ID_COORD,  2, RO, 1, 1, 1, 0, false },
	/* test hooks (truthd test_hooks = on), answered by this node */
	{ "truth.debug",	TRUTH_RESP_ID_DEBUG, -2, NR | TRUTH_RESP_CMD_ADMIN, 0, 0, 0, 0, false },
	/* envelope: the request is the inner command (truth_resp_request_parse()) */
	{ "truth.req",		TRUTH_RESP_ID_COORD, -4, WR, 1, 1, 1, 0, false },
};

const unsigned int truth_resp_ncommands =
	sizeof(truth_resp_commands) / sizeof(truth_resp_commands[0]);

/* Case-insensitive comparison of a binary-safe argument with a C string. */
static bool arg_is(const struct truth_resp_arg *a, const char *word)
{
	size_t n = strlen(word);

	return a->len == n && strncasecmp(a->ptr, word, n) == 0;
}

const struct truth_resp_command *truth_resp_lookup(const char *name, size_t len)
{
	struct truth_resp_arg a = { name, len };
	unsigned int i;

	for (i = 0; i < truth_resp_ncommands; i++)
		if (arg_is(&a, truth_resp_commands[i].name))
			return &truth_resp_commands[i];
	return NULL;
}

/*
 * Redis 7: "unknown command '%.128s', with args beginning with: " then each
 * argument as "'%.*s' " while the list is under 128 bytes.  Arguments are
 * C strings there, so a NUL ends one, and we do the same.
 */
static void reply_unknown(const struct truth_resp_cmd *cmd, struct truth_resp_out *out)
{
	char args[128 + 3 * 128 + 1];
	size_t used = 0;
	unsigned int i;

	args[0] = '\0';
	for (i = 1; i < cmd->argc && used < 128; i++) {
		size_t room = 128 - used;
		size_t n = strnlen(cmd->argv[i].ptr, cmd->argv[i].len < room ?
				   cmd->argv[i].len : room);

		used += (size_t)snprintf(args + used, sizeof(args) - used, "'%.*s' ",
					 (int)n, cmd->argv[i].ptr);
	}
	truth_resp_add_errorf(out, "ERR unknown command '%.*s', with args beginning with: %s",
			      (int)strnlen(cmd->argv[0].ptr, cmd->argv[0].len < 128 ?
					   cmd->argv[0].len : 128),
			      cmd->argv[0].ptr, args);
}

static void reply_arity(const char *name, struct truth_resp_out *out)
{
	truth_resp_add_errorf(out, "ERR wrong number of arguments for '%s' command", name);
}

/* SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL], as Redis 7.0 parses it. */
static int parse_set(const struct truth_resp_cmd *cmd, struct truth_resp_set *set,
		     struct truth_resp_out *out)
{
	const unsigned int expiry = TRUTH_RESP_SET_KEEPTTL | TRUTH_RESP_SET_EX |
		TRUTH_RESP_SET_PX | TRUTH_RESP_SET_EXAT | TRUTH_RESP_SET_PXAT;
	const struct truth_resp_arg *when = NULL;
	unsigned int j, f = 0;
	long long ms;

	for (j = 3; j < cmd->argc; j++) {
		const struct truth_resp_arg *opt = &cmd->argv[j];
		bool has_next = j + 1 < cmd->argc;
		unsigned int unit = 0;

		if (arg_is(opt, "nx") && !(f & TRUTH_RESP_SET_XX)) {
			f |= TRUTH_RESP_SET_NX;
		} else if (arg_is(opt, "xx") && !(f & TRUTH_RESP_SET_NX)) {
			f |= TRUTH_RESP_SET_XX;
		} else if (arg_is(opt, "get")) {
			f |= TRUTH_RESP_SET_GET;
		} else if (arg_is(opt, "keepttl") && !(f & (expiry & ~TRUTH_RESP_SET_KEEPTTL))) {
			f |= TRUTH_RESP_SET_KEEPTTL;
		} else if (arg_is(opt, "ex")) {
			unit = TRUTH_RESP_SET_EX;
		} else if (arg_is(opt, "px")) {
			unit = TRUTH_RESP_SET_PX;
		} else if (arg_is(opt, "exat")) {
			unit = TRUTH_RESP_SET_EXAT;
		} else if (arg_is(opt, "pxat")) {
			unit = TRUTH_RESP_SET_PXAT;
		} else if (arg_is(opt, "fence") && j + 2 < cmd->argc) {
			f |= TRUTH_RESP_SET_FENCE;
			set->fence = cmd->argv[++j];
			if (!truth_resp_str2ll(cmd->argv[j + 1].ptr, cmd->argv[j + 1].len,
					       &set->fence_token) || set->fence_token < 0) {
				truth_resp_add_error(out, "ERR FENCE token is not a non-negative integer");
				return -1;
			}
			j++;
		} else if (arg_is(opt, "session") && has_next) {
			f |= TRUTH_RESP_SET_SESSION;
			if (!truth_resp_str2ll(cmd->argv[j + 1].ptr, cmd->argv[j + 1].len,
					       &set->session) || set->session <= 0) {
				truth_resp_add_error(out, "ERR SESSION id is not a positive integer");
				return -1;
			}
			j++;
		} else {
			truth_resp_add_error(out, TRUTH_RESP_ERR_SYNTAX);
			return -1;
		}
		if (!unit)
			continue;
		/* one expiry kind only, repeated ("EX 1 EX 2") is fine: last wins */
		if ((f & expiry & ~unit) || !has_next) {
			truth_resp_add_error(out, TRUTH_RESP_ERR_SYNTAX);
			return -1;
		}
		f |= unit;
		when = &cmd->argv[++j];
	}
	set->key = cmd->argv[1];
	set->value = cmd->argv[2];
	set->flags = f;
	if ((f & TRUTH_RESP_SET_SESSION) && (f & expiry)) {
		/* a session already bounds the key's life; two clocks would be ambiguous */
		truth_resp_add_error(out, TRUTH_RESP_ERR_SYNTAX);
		return -1;
	}
	set->expire_ms = 0;
	if (!when)
		return 0;
	if (!truth_resp_str2ll(when->ptr, when->len, &ms)) {
		truth_resp_add_error(out, TRUTH_RESP_ERR_NOT_INT);
		return -1;
	}
	if (ms <= 0 || ((f & (TRUTH_RESP_SET_EX | TRUTH_RESP_SET_EXAT)) && ms > LLONG_MAX / 1000)) {
		truth_resp_add_error(out, "ERR invalid expire time in 'set' command");
		return -1;
	}
	if (f & (TRUTH_RESP_SET_EX | TRUTH_RESP_SET_EXAT))
		ms *= 1000;
	set->expire_ms = ms;
	return 0;
}

static int parse_incrby(const struct truth_resp_cmd *cmd,
			const struct truth_resp_command *c,
			struct truth_resp_incrby *r, struct truth_resp_out *out)
{
	long long v = c->delta;

	r->key = cmd->argv[1];
	if (!v) {
		if (!truth_resp_str2ll(cmd->argv[2].ptr, cmd->argv[2].len, &v)) {
			truth_resp_add_error(out, TRUTH_RESP_ERR_NOT_INT);
			return -1;
		}
		if (c->negate) {
			if (v == LLONG_MIN) {
				truth_resp_add_error(out, TRUTH_RESP_ERR_DECR_OVERFLOW);
				return -1;
			}
			v = -v;
		}
	}
	r->delta = v;
	return 0;
}

/* Redis's clientSetName(): printable ASCII without spaces. */
static bool valid_client_name(const struct truth_resp_arg *a)
{
	size_t i;

	for (i = 0; i < a->len; i++)
		if (a->ptr[i] < '!' || a->ptr[i] > '~')
			return false;
	return true;
}

static int parse_hello(const struct truth_resp_cmd *cmd, struct truth_resp_hello *h,
		       struct truth_resp_out *out)
{
	unsigned int j = 1;
	long long ver = 0;

	memset(h, 0, sizeof(*h));
	if (cmd->argc >= 2) {
		if (!truth_resp_str2ll(cmd->argv[1].ptr, cmd->argv[1].len, &ver)) {
			truth_resp_add_error(out, "ERR Protocol version is not an integer or out of range");
			return -1;
		}
		if (ver < 2 || ver > 3) {
			truth_resp_add_error(out, TRUTH_RESP_ERR_NOPROTO);
			return -1;
		}
		j = 2;
	}
	for (; j < cmd->argc; j++) {
		const struct truth_resp_arg *opt = &cmd->argv[j];
		unsigned int more = cmd->argc - 1 - j;

		if (arg_is(opt, "auth") && more >= 2) {
			/* no users or passwords: refusing beats pretending */
			truth_resp_add_error(out, "ERR truthd has no authentication, connect without AUTH");
			return -1;
		} else if (arg_is(opt, "setname") && more >= 1) {
			h->has_name = true;
			h->name = cmd->argv[++j];
		} else {
			truth_resp_add_errorf(out, "ERR Syntax error in HELLO option '%.*s'",
					      (int)strnlen(opt->ptr, opt->len < 128 ? opt->len : 128),
					      opt->ptr);
			return -1;
		}
	}
	if (h->has_name && !valid_client_name(&h->name)) {
		truth_resp_add_error(out, "ERR Client names cannot contain spaces, newlines or special characters.");
		return -1;
	}
	h->proto = (int)ver;
	return 0;
}

static int parse_command(const struct truth_resp_cmd *cmd, struct truth_resp_command_req *r,
			 struct truth_resp_out *out)
{
	const struct truth_resp_arg *sub = &cmd->argv[1];

	memset(r, 0, sizeof(*r));
	if (cmd->argc == 1) {
		r->sub = TRUTH_RESP_COMMAND_ALL;
		return 0;
	}
	if (arg_is(sub, "count") || arg_is(sub, "list") || arg_is(sub, "help")) {
		const char *name = arg_is(sub, "count") ? "count" :
				   arg_is(sub, "list") ? "list" : "help";

		if (cmd->argc != 2) {
			truth_resp_add_errorf(out, "ERR wrong number of arguments for 'command|%s' command",
					      name);
			return -1;
		}
		r->sub = name[0] == 'c' ? TRUTH_RESP_COMMAND_COUNT :
			 name[0] == 'l' ? TRUTH_RESP_COMMAND_LIST : TRUTH_RESP_COMMAND_HELP;
		return 0;
	}
	if (arg_is(sub, "info") || arg_is(sub, "docs")) {
		r->sub = arg_is(sub, "info") ? TRUTH_RESP_COMMAND_INFO : TRUTH_RESP_COMMAND_DOCS;
		r->names = cmd->argv + 2;
		r->n = cmd->argc - 2;
		return 0;
	}
	truth_resp_add_errorf(out, "ERR unknown subcommand '%.*s'. Try COMMAND HELP.",
			      (int)strnlen(sub->ptr, sub->len < 128 ? sub->len : 128), sub->ptr);
	return -1;
}

static int parse_envelope(const struct truth_resp_cmd *cmd, struct truth_resp_request *req,
			  struct truth_resp_out *out)
{
	struct truth_resp_cmd inner;
	unsigned int k = 3;
	uint32_t opts = 0;
	long long id, seq;

	if (!truth_resp_str2ll(cmd->argv[1].ptr, cmd->argv[1].len, &id) || id <= 0 ||
	    !truth_resp_str2ll(cmd->argv[2].ptr, cmd->argv[2].len, &seq) || seq <= 0) {
		truth_resp_add_error(out, "ERR TRUTH.REQ client id and sequence must be positive integers");
		return -1;
	}
	/* options come before the command: no command is named like them */
	for (; k < cmd->argc; k++) {
		if (arg_is(&cmd->argv[k], "hlc"))
			opts |= TRUTH_RESP_REQ_HLC;
		else if (arg_is(&cmd->argv[k], "commitwait"))
			opts |= TRUTH_RESP_REQ_HLC | TRUTH_RESP_REQ_COMMITWAIT;
		else
			break;
	}
	if (k == cmd->argc) {
		truth_resp_add_error(out, "ERR TRUTH.REQ needs a command after its options");
		return -1;
	}
	inner = (struct truth_resp_cmd){ cmd->argc - k, cmd->argv + k, cmd->inline_form };
	if (arg_is(&inner.argv[0], "truth.req")) {
		truth_resp_add_error(out, "ERR TRUTH.REQ cannot be nested");
		return -1;
	}
	if (truth_resp_request_parse(&inner, req, out))
		return -1;
	if ((opts & TRUTH_RESP_REQ_COMMITWAIT) && !(req->cmd->flags & TRUTH_RESP_CMD_WRITE)) {
		truth_resp_add_error(out, "ERR TRUTH.REQ COMMITWAIT applies to write commands only");
		return -1;
	}
	if (opts && !(req->cmd->flags & (TRUTH_RESP_CMD_WRITE | TRUTH_RESP_CMD_READONLY))) {
		truth_resp_add_error(out, "ERR TRUTH.REQ HLC applies to commands served through the log");
		return -1;
	}
	req->client_id = (uint64_t)id;
	req->client_seq = (uint64_t)seq;
	req->opts = opts;
	return 0;
}

int truth_resp_request_parse(const struct truth_resp_cmd *cmd,
			     struct truth_resp_request *req,
			     struct truth_resp_out *out)
{
	const struct truth_resp_command *c;
	int argc = (int)cmd->argc;

	c = truth_resp_lookup(cmd->argv[0].ptr, cmd->argv[0].len);
	if (!c) {
		reply_unknown(cmd, out);
		return -1;
	}
	if ((c->arity > 0 && c->arity != argc) || argc < -c->arity) {
		reply_arity(c->name, out);
		return -1;
	}
	if (!strcmp(c->name, "truth.req"))
		return parse_envelope(cmd, req, out);
	memset(req, 0, sizeof(*req));
	req->cmd = c;
	req->argc = cmd->argc;
	req->argv = cmd->argv;
	switch (c->id) {
	case TRUTH_RESP_ID_PING:
		if (argc > 2) {
			reply_arity(c->name, out);
			return -1;
		}
		req->has_msg = argc == 2;
		if (req->has_msg)
			req->u.msg = cmd->argv[1];
		return 0;
	case TRUTH_RESP_ID_ECHO:
		req->u.msg = cmd->argv[1];
		return 0;
	case TRUTH_RESP_ID_GET:
		req->u.key = cmd->argv[1];
		return 0;
	case TRUTH_RESP_ID_SET:
		return parse_set(cmd, &req->u.set, out);
	case TRUTH_RESP_ID_DEL:
	case TRUTH_RESP_ID_EXISTS:
	case TRUTH_RESP_ID_MGET:
		req->u.keys.keys = cmd->argv + 1;
		req->u.keys.n = cmd->argc - 1;
		return 0;
	case TRUTH_RESP_ID_INCRBY:
		return parse_incrby(cmd, c, &req->u.incrby, out);
	case TRUTH_RESP_ID_INFO:
		req->u.info.sections = cmd->argv + 1;
		req->u.info.n = cmd->argc - 1;
		return 0;
	case TRUTH_RESP_ID_HELLO:
		return parse_hello(cmd, &req->u.hello, out);
	case TRUTH_RESP_ID_COMMAND:
		return parse_command(cmd, &req->u.command, out);
	case TRUTH_RESP_ID_QUIT:
	case TRUTH_RESP_ID_TIME_NOW:
	case TRUTH_RESP_ID_COORD:	/* arguments are agent/sm's to check */
	case TRUTH_RESP_ID_DEBUG:	/* the daemon's to check */
	case __TRUTH_RESP_ID_MAX:
		return 0;
	}
	return 0;
}

bool truth_resp_info_wants(const struct truth_resp_info *r, const char *section,
			   bool in_default)
{
	unsigned int i;

	if (r->n == 0)
		return in_default;
	for (i = 0; i < r->n; i++) {
		const struct truth_resp_arg *a = &r->sections[i];

		if (arg_is(a, "all") || arg_is(a, "everything"))
			return true;
		if (arg_is(a, "default") && in_default)
			return true;
		if (arg_is(a, section))
			return true;
	}
	return false;
}
