// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth resp: one client connection, and the commands a node answers
 * without the state machine (PING, ECHO, HELLO, COMMAND, INFO, QUIT).
 *
 * truth_resp_session_feed() is the seam between the network server and
 * the protocol: the server reads bytes, feeds them, writes s->out back and
 * closes once s->closing is set and s->out is drained.  Requests that need
 * the keyspace go to the handler, which may answer at once (reference
 * store, follower redirect) or defer (a write waiting for its Raft commit).
 */

#include <stdlib.h>
#include <string.h>

#include "resp.h"

int truth_resp_session_init(struct truth_resp_session *s, uint64_t id,
			    const struct truth_resp_limits *l)
{
	memset(s, 0, sizeof(*s));
	truth_resp_out_init(&s->out);
	s->id = id;
	s->parser = truth_resp_parser_new(l);
	return s->parser ? 0 : -1;
}

void truth_resp_session_fini(struct truth_resp_session *s)
{
	truth_resp_parser_free(s->parser);
	truth_resp_out_free(&s->out);
	free(s->name);
	memset(s, 0, sizeof(*s));
}

/* HELLO: switch protocol, maybe set the name, reply with the server's map. */
static void do_hello(struct truth_resp_session *s, const struct truth_resp_hello *h,
		     const struct truth_resp_handler *hd)
{
	struct truth_resp_out *o = &s->out;

	if (h->has_name) {
		char *name = NULL;

		if (h->name.len) {
			name = strndup(h->name.ptr, h->name.len);
			if (!name) {
				o->nomem = true;
				return;
			}
		}
		free(s->name);
		s->name = name;
	}
	if (h->proto)
		o->proto = h->proto;
	/* the same seven fields, in the same order, as Redis 7 */
	truth_resp_add_map(o, 7);
	truth_resp_add_bulk_str(o, "server");
	truth_resp_add_bulk_str(o, "truth");
	truth_resp_add_bulk_str(o, "version");
	truth_resp_add_bulk_str(o, TRUTH_RESP_VERSION);
	truth_resp_add_bulk_str(o, "proto");
	truth_resp_add_int(o, o->proto);
	truth_resp_add_bulk_str(o, "id");
	truth_resp_add_int(o, (long long)s->id);
	truth_resp_add_bulk_str(o, "mode");
	truth_resp_add_bulk_str(o, "standalone");
	truth_resp_add_bulk_str(o, "role");
	truth_resp_add_bulk_str(o, hd->leader ? "master" : "replica");
	truth_resp_add_bulk_str(o, "modules");
	truth_resp_add_array(o, 0);
}

/* One COMMAND INFO entry, Redis 6 layout: name arity flags first last step categories. */
static void command_entry(struct truth_resp_out *o, const struct truth_resp_command *c)
{
	static const struct { unsigned int flag; const char *name; } fl[] = {
		{ TRUTH_RESP_CMD_WRITE, "write" },
		{ TRUTH_RESP_CMD_READONLY, "readonly" },
		{ TRUTH_RESP_CMD_ADMIN, "admin" },
		{ TRUTH_RESP_CMD_NORAFT, "no-raft" },
	};
	unsigned int i, n = 0;

	for (i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
		n += !!(c->flags & fl[i].flag);
	truth_resp_add_array(o, 7);
	truth_resp_add_bulk_str(o, c->name);
	truth_resp_add_int(o, c->arity);
	truth_resp_add_set(o, n);
	for (i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
		if (c->flags & fl[i].flag)
			truth_resp_add_simple(o, fl[i].name);
	truth_resp_add_int(o, c->first_key);
	truth_resp_add_int(o, c->last_key);
	truth_resp_add_int(o, c->key_step);
	truth_resp_add_set(o, 0);
}

/* COMMAND HELP, in the layout of Redis's addReplyHelp() */
static const char *const command_help[] = {
	"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"(no subcommand)",
	"    Return details about all truthd commands.",
	"COUNT",
	"    Return the total number of commands in this truthd server.",
	"LIST",
	"    Return a list of all commands in this truthd server.",
	"INFO [<command-name> ...]",
	"    Return details about multiple truthd commands.",
	"    If no command names are given, details of all commands are returned.",
	"DOCS [<command-name> ...]",
	"    Return an empty map: truthd serves no command documentation.",
	"HELP",
	"    Print this help.",
};

static void do_command(struct truth_resp_out *o, const struct truth_resp_command_req *r)
{
	unsigned int i;

	switch (r->sub) {
	case TRUTH_RESP_COMMAND_HELP:
		truth_resp_add_array(o, sizeof(command_help) / sizeof(command_help[0]));
		for (i = 0; i < sizeof(command_help) / sizeof(command_help[0]); i++)
			truth_resp_add_simple(o, command_help[i]);
		return;
	case TRUTH_RESP_COMMAND_COUNT:
		truth_resp_add_int(o, truth_resp_ncommands);
		return;
	case TRUTH_RESP_COMMAND_DOCS:
		truth_resp_add_map(o, 0);
		return;
	case TRUTH_RESP_COMMAND_LIST:
		truth_resp_add_array(o, truth_resp_ncommands);
		for (i = 0; i < truth_resp_ncommands; i++)
			truth_resp_add_bulk_str(o, truth_resp_commands[i].name);
		return;
	case TRUTH_RESP_COMMAND_INFO:
		if (r->n) {
			truth_resp_add_array(o, r->n);
			for (i = 0; i < r->n; i++) {
				const struct truth_resp_command *c =
					truth_resp_lookup(r->names[i].ptr, r->names[i].len);

				if (c)
					command_entry(o, c);
				else
					truth_resp_add_null_array(o);
			}
			return;
		}
		/* no names: every command, as COMMAND alone */
		truth_resp_add_array(o, truth_resp_ncommands);
		for (i = 0; i < truth_resp_ncommands; i++)
			command_entry(o, &truth_resp_commands[i]);
		return;
	case TRUTH_RESP_COMMAND_ALL:
		truth_resp_add_array(o, truth_resp_ncommands);
		for (i = 0; i < truth_resp_ncommands; i++)
			command_entry(o, &truth_resp_commands[i]);
		return;
	}
}

void truth_resp_info_section(struct truth_resp_out *text, const char *title)
{
	truth_resp_out_printf(text, "%s# %s\r\n", text->len ? "\r\n" : "", title);
}

/* INFO: the server section here, the rest from the handler; one bulk reply. */
static void do_info(struct truth_resp_session *s, const struct truth_resp_info *r,
		    const struct truth_resp_handler *h)
{
	struct truth_resp_out text;

	truth_resp_out_init(&text);
	if (truth_resp_info_wants(r, "server", true)) {
		truth_resp_info_section(&text, "Server");
		truth_resp_out_printf(&text,
				      "truth_version:%s\r\n"
				      "redis_version:%s\r\n"
				      "redis_mode:standalone\r\n"
				      "resp_proto_rev:%d\r\n"
				      "node_id:%llu\r\n"
				      "role:%s\r\n",
				      TRUTH_RESP_VERSION, TRUTH_RESP_REDIS_COMPAT,
				      TRUTH_RESP_PROTO_REV,
				      (unsigned long long)h->node_id,
				      h->leader ? "master" : "replica");
	}
	if (h->info)
		h->info(h->ctx, s, r, &text);
	if (text.nomem)
		s->out.nomem = true;
	else
		truth_resp_add_verbatim(&s->out, "txt", text.buf ? text.buf : "", text.len);
	truth_resp_out_free(&text);
}

/* TIME.NOW: [earliest, latest, status], answered by this node alone. */
static void do_time_now(struct truth_resp_out *out,
			const struct truth_resp_handler *h)
{
	struct truth_resp_time t = { 0 };
	int ret;

	if (!h->time_now) {
		truth_resp_add_error(out, "ERR TIME.NOW: this server has no clock");
		return;
	}
	ret = h->time_now(h->ctx, &t);
	if (ret < 0 || !t.status) {
		truth_resp_add_errorf(out, "ERR TIME.NOW: clock unavailable (%s)",
				      ret < 0 ? strerror(-ret) : "no status");
		return;
	}
	truth_resp_add_array(out, 3);
	truth_resp_add_int(out, t.earliest);
	truth_resp_add_int(out, t.latest);
	truth_resp_add_bulk_str(out, t.status);
}

size_t truth_resp_session_feed(struct truth_resp_session *s, const void *buf,
			       size_t len, const struct truth_resp_handler *h)
{
	const char *b = buf;
	size_t off = 0;

	while (!s->closing && !s->out.nomem) {
		struct truth_resp_request req;
		struct truth_resp_cmd cmd;
		size_t used = 0;
		int r;

		r = truth_resp_parse(s->parser, b + off, len - off, &used, &cmd);
		off += used;
		if (r == TRUTH_RESP_NEED_MORE)
			break;
		if (r < 0) {
			if (r == TRUTH_RESP_PROTO_ERROR)
				truth_resp_add_proto_error(&s->out,
							   truth_resp_parser_error(s->parser));
			s->closing = true;
			break;
		}
		s->commands++;
		if (truth_resp_request_parse(&cmd, &req, &s->out))
			continue;
		switch (req.cmd->id) {
		case TRUTH_RESP_ID_PING:
			if (req.has_msg)
				truth_resp_add_bulk(&s->out, req.u.msg.ptr, req.u.msg.len);
			else
				truth_resp_add_simple(&s->out, "PONG");
			break;
		case TRUTH_RESP_ID_ECHO:
			truth_resp_add_bulk(&s->out, req.u.msg.ptr, req.u.msg.len);
			break;
		case TRUTH_RESP_ID_HELLO:
			do_hello(s, &req.u.hello, h);
			break;
		case TRUTH_RESP_ID_COMMAND:
			do_command(&s->out, &req.u.command);
			break;
		case TRUTH_RESP_ID_INFO:
			do_info(s, &req.u.info, h);
			break;
		case TRUTH_RESP_ID_QUIT:
			truth_resp_add_simple(&s->out, "OK");
			s->closing = true;
			break;
		case TRUTH_RESP_ID_TIME_NOW:
			do_time_now(&s->out, h);
			break;
		default:
			if (h->execute(h->ctx, s, &req))
				return off;
			break;
		}
	}
	if (s->out.nomem)
		s->closing = true;
	return off;
}
