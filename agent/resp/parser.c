// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth resp: the incremental request parser.
 *
 * A byte-driven state machine over the two request forms Redis accepts:
 *
 *   *<N>\r\n  then N times  $<len>\r\n<len bytes>\r\n      (RESP array)
 *   <words separated by blanks, "quoted" or 'quoted'>\n    (inline)
 *
 * A request is an array if its first byte is '*', inline otherwise (as in
 * Redis's processInputBuffer).  Arguments are copied into one arena per
 * command, so the caller's buffer need not outlive a call and memory held
 * is bounded by the limits whatever the chunking.  Every limit is checked
 * against the bytes of the stream, never against how much happened to
 * arrive in one read, so the outcome does not depend on the chunking
 * (Redis's "too big ... string" checks do; ours are stricter and stable).
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"
#include "util/hex.h"

enum parse_state {
	PS_START,	/* at a request boundary */
	PS_MBULK_LINE,	/* after '*': count digits up to CR */
	PS_MBULK_LF,	/* after the count's CR: need LF */
	PS_BULK_PREFIX,	/* need '$' of the next argument */
	PS_BULK_LINE,	/* after '$': length digits up to CR */
	PS_BULK_LF,	/* after the length's CR: need LF */
	PS_BULK_DATA,	/* copying the argument's bytes */
	PS_BULK_CR,	/* after the data: need CR */
	PS_BULK_END_LF,	/* after the data's CR: need LF */
	PS_INLINE,	/* in an inline line, up to LF */
	PS_FAILED,	/* sticky error */
};

/* Where one received argument sits in the arena. */
struct arg_span {
	size_t off;	/* offset of its first byte */
	size_t len;	/* its length */
};

/* Bookkeeping charged against max_query for every argument. */
#define ARG_OVERHEAD	(sizeof(struct arg_span) + sizeof(struct truth_resp_arg) + 1)
/* Buffers above these sizes are released between commands. */
#define KEEP_BYTES	(64u << 10)
#define KEEP_ARGS	1024u

struct truth_resp_parser {
	struct truth_resp_limits lim;	/* hard limits */
	enum parse_state st;		/* where in a request we are */
	int failed;			/* TRUTH_RESP_PROTO_ERROR or _NOMEM once failed */
	bool returned;			/* a command was handed out: reset before the next */
	char *line;			/* header digits or the inline line */
	size_t line_len;		/* bytes in line */
	size_t line_cap;		/* bytes allocated for line */
	char *arena;			/* argument bytes, each followed by a NUL */
	size_t arena_len;		/* bytes used in arena */
	size_t arena_cap;		/* bytes allocated for arena */
	struct arg_span *spans;		/* arguments received so far */
	unsigned int nargs;		/* entries used in spans */
	unsigned int spans_cap;		/* entries allocated in spans */
	struct truth_resp_arg *argv;	/* handed out with the command */
	unsigned int argv_cap;		/* entries allocated in argv */
	unsigned int mbulk_left;	/* array elements still to come */
	size_t bulk_left;		/* data bytes of the current argument still to come */
	bool inline_form;		/* the current request is inline */
	char err[64];			/* reason of the sticky error */
};

void truth_resp_limits_default(struct truth_resp_limits *l)
{
	l->max_bulk = TRUTH_RESP_DEF_MAX_BULK;
	l->max_args = TRUTH_RESP_DEF_MAX_ARGS;
	l->max_inline = TRUTH_RESP_DEF_MAX_INLINE;
	l->max_query = TRUTH_RESP_DEF_MAX_QUERY;
}

struct truth_resp_parser *truth_resp_parser_new(const struct truth_resp_limits *l)
{
	struct truth_resp_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (l)
		p->lim = *l;
	else
		truth_resp_limits_default(&p->lim);
	/* argc is an int to the command layer, as in Redis */
	if (p->lim.max_args > INT_MAX)
		p->lim.max_args = INT_MAX;
	p->st = PS_START;
	return p;
}

void truth_resp_parser_free(struct truth_resp_parser *p)
{
	if (!p)
		return;
	free(p->line);
	free(p->arena);
	free(p->spans);
	free(p->argv);
	free(p);
}

const char *truth_resp_parser_error(const struct truth_resp_parser *p)
{
	return p->failed ? p->err : NULL;
}

static size_t held(const struct truth_resp_parser *p)
{
	return p->arena_len + (size_t)p->nargs * ARG_OVERHEAD + p->line_len;
}

size_t truth_resp_parser_buffered(const struct truth_resp_parser *p)
{
	return held(p);
}

bool truth_resp_parser_mid_command(const struct truth_resp_parser *p)
{
	return p->st != PS_START && p->st != PS_FAILED;
}

static int fail(struct truth_resp_parser *p, const char *reason)
{
	snprintf(p->err, sizeof(p->err), "%s", reason);
	p->st = PS_FAILED;
	p->failed = TRUTH_RESP_PROTO_ERROR;
	return p->failed;
}

static int fail_nomem(struct truth_resp_parser *p)
{
	snprintf(p->err, sizeof(p->err), "out of memory");
	p->st = PS_FAILED;
	p->failed = TRUTH_RESP_NOMEM;
	return p->failed;
}

/* Grow *buf to hold at least need bytes; never past need once cap would exceed ceil. */
static int grow(char **buf, size_t *cap, size_t need, size_t ceil)
{
	size_t ncap = *cap ? *cap : 256;
	char *nb;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > ceil && need <= ceil)
		ncap = ceil;
	if (ncap < need)
		ncap = need;
	nb = realloc(*buf, ncap);
	if (!nb)
		return -1;
	*buf = nb;
	*cap = ncap;
	return 0;
}

/* Forget the last command; give back buffers a big one left behind. */
static void reset_command(struct truth_resp_parser *p)
{
	p->arena_len = 0;
	p->nargs = 0;
	p->line_len = 0;
	p->mbulk_left = 0;
	p->bulk_left = 0;
	p->inline_form = false;
	if (p->arena_cap > KEEP_BYTES) {
		free(p->arena);
		p->arena = NULL;
		p->arena_cap = 0;
	}
	if (p->line_cap > KEEP_BYTES) {
		free(p->line);
		p->line = NULL;
		p->line_cap = 0;
	}
	if (p->spans_cap > KEEP_ARGS) {
		free(p->spans);
		p->spans = NULL;
		p->spans_cap = 0;
	}
	if (p->argv_cap > KEEP_ARGS) {
		free(p->argv);
		p->argv = NULL;
		p->argv_cap = 0;
	}
}

static int line_append(struct truth_resp_parser *p, const char *b, size_t n)
{
	size_t cap = p->line_cap;

	if (grow(&p->line, &cap, p->line_len + n + 1, SIZE_MAX))
		return -1;
	p->line_cap = cap;
	memcpy(p->line + p->line_len, b, n);
	p->line_len += n;
	return 0;
}

/* Start a new argument at the end of the arena. */
static int arg_begin(struct truth_resp_parser *p)
{
	if (p->nargs == p->spans_cap) {
		unsigned int ncap = p->spans_cap ? p->spans_cap * 2 : 8;
		struct arg_span *ns = realloc(p->spans, ncap * sizeof(*ns));

		if (!ns)
			return -1;
		p->spans = ns;
		p->spans_cap = ncap;
	}
	p->spans[p->nargs].off = p->arena_len;
	p->spans[p->nargs].len = 0;
	p->nargs++;
	return 0;
}

static int arg_append(struct truth_resp_parser *p, const char *b, size_t n)
{
	/* +1: room for the terminating NUL of the current argument */
	if (grow(&p->arena, &p->arena_cap, p->arena_len + n + 1,
		 p->lim.max_query + 1))
		return -1;
	memcpy(p->arena + p->arena_len, b, n);
	p->arena_len += n;
	p->spans[p->nargs - 1].len += n;
	return 0;
}

static int arg_end(struct truth_resp_parser *p)
{
	if (grow(&p->arena, &p->arena_cap, p->arena_len + 1, p->lim.max_query + 1))
		return -1;
	p->arena[p->arena_len++] = '\0';
	return 0;
}

/* Hand the arguments out as argv. */
static int emit(struct truth_resp_parser *p, struct truth_resp_cmd *cmd)
{
	unsigned int i;

	if (p->argv_cap < p->nargs) {
		struct truth_resp_arg *na = realloc(p->argv, p->nargs * sizeof(*na));

		if (!na)
			return fail_nomem(p);
		p->argv = na;
		p->argv_cap = p->nargs;
	}
	for (i = 0; i < p->nargs; i++) {
		p->argv[i].ptr = p->arena + p->spans[i].off;
		p->argv[i].len = p->spans[i].len;
	}
	cmd->argc = p->nargs;
	cmd->argv = p->argv;
	cmd->inline_form = p->inline_form;
	p->returned = true;
	p->st = PS_START;
	return TRUTH_RESP_COMMAND;
}

bool truth_resp_str2ll(const char *s, size_t len, long long *v)
{
	unsigned long long acc = 0, limit;
	bool neg = false;
	size_t i = 0;

	if (len == 0 || len > 20)
		return false;
	if (len == 1 && s[0] == '0') {
		*v = 0;
		return true;
	}
	if (s[0] == '-') {
		neg = true;
		i = 1;
		if (len == 1)
			return false;
	}
	/* first digit 1-9: no leading zeros, no "-0" */
	if (s[i] < '1' || s[i] > '9')
		return false;
	limit = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
	for (; i < len; i++) {
		unsigned int d;

		if (s[i] < '0' || s[i] > '9')
			return false;
		d = (unsigned int)(s[i] - '0');
		if (acc > (limit - d) / 10)
			return false;
		acc = acc * 10 + d;
	}
	if (neg)
		*v = acc == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)acc;
	else
		*v = (long long)acc;
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Split an inline line as Redis's sdssplitargs() does: blanks separate
 * words; "..." takes \n \r \t \b \a \\ \" and \xHH escapes; '...' takes \';
 * a closing quote must be followed by a blank or the end.  Like Redis, a
 * NUL byte ends the line.  Returns 0, 1 for unbalanced quotes, 2 for more
 * than max_args words, 3 past max_query, -1 on ENOMEM.
 */
static int split_inline(struct truth_resp_parser *p, const char *s, size_t n)
{
	const char *end = memchr(s, '\0', n);
	size_t i = 0;

	if (end)
		n = (size_t)(end - s);
	for (;;) {
		bool inq = false, insq = false, done = false;

		while (i < n && is_blank(s[i]))
			i++;
		if (i >= n)
			return 0;
		if (p->nargs >= p->lim.max_args)
			return 2;
		if (held(p) - p->line_len + ARG_OVERHEAD > p->lim.max_query)
			return 3;
		if (arg_begin(p))
			return -1;
		while (!done) {
			char c = i < n ? s[i] : '\0';
			char out;

			if (inq) {
				if (c == '\\' && i + 3 < n && s[i + 1] == 'x' &&
				    truth_hex_digit(s[i + 2]) >= 0 && truth_hex_digit(s[i + 3]) >= 0) {
					out = (char)(truth_hex_digit(s[i + 2]) * 16 +
						     truth_hex_digit(s[i + 3]));
					i += 3;
				} else if (c == '\\' && i + 1 < n) {
					i++;
					switch (s[i]) {
					case 'n': out = '\n'; break;
					case 'r': out = '\r'; break;
					case 't': out = '\t'; break;
					case 'b': out = '\b'; break;
					case 'a': out = '\a'; break;
					default: out = s[i]; break;
					}
				} else if (c == '"') {
					if (i + 1 < n && !is_blank(s[i + 1]))
						return 1;
					done = true;
					goto next;
				} else if (i >= n) {
					return 1;
				} else {
					out = c;
				}
				if (arg_append(p, &out, 1))
					return -1;
			} else if (insq) {
				if (c == '\\' && i + 1 < n && s[i + 1] == '\'') {
					i++;
					out = '\'';
				} else if (c == '\'') {
					if (i + 1 < n && !is_blank(s[i + 1]))
						return 1;
					done = true;
					goto next;
				} else if (i >= n) {
					return 1;
				} else {
					out = c;
				}
				if (arg_append(p, &out, 1))
					return -1;
			} else {
				switch (c) {
				case ' ': case '\n': case '\r': case '\t': case '\0':
					done = true;
					break;
				case '"':
					inq = true;
					break;
				case '\'':
					insq = true;
					break;
				default:
					if (arg_append(p, &c, 1))
						return -1;
					break;
				}
			}
next:
			if (i < n)
				i++;
		}
		if (arg_end(p))
			return -1;
	}
}

/* A whole inline line (LF excluded) is in p->line. */
static int inline_done(struct truth_resp_parser *p, struct truth_resp_cmd *cmd)
{
	size_t n = p->line_len;
	int r;

	if (n && p->line[n - 1] == '\r')
		n--;
	p->inline_form = true;
	r = split_inline(p, p->line, n);
	p->line_len = 0;
	if (r < 0)
		return fail_nomem(p);
	if (r == 1)
		return fail(p, "unbalanced quotes in request");
	/* truth's own limits (Redis bounds inline requests by length only) */
	if (r == 2)
		return fail(p, "too many arguments in inline request");
	if (r == 3 || held(p) > p->lim.max_query)
		return fail(p, "command exceeds the query buffer limit");
	if (p->nargs == 0) {
		/* an empty line is skipped, as Redis does */
		reset_command(p);
		p->st = PS_START;
		return TRUTH_RESP_NEED_MORE;
	}
	return emit(p, cmd);
}

/* The "*N" line is complete in p->line. */
static int mbulk_count(struct truth_resp_parser *p)
{
	long long ll;

	if (!truth_resp_str2ll(p->line, p->line_len, &ll) ||
	    ll > (long long)p->lim.max_args)
		return fail(p, "invalid multibulk length");
	p->line_len = 0;
	p->mbulk_left = ll > 0 ? (unsigned int)ll : 0;
	p->st = PS_MBULK_LF;
	return 0;
}

/* The "$N" line is complete in p->line. */
static int bulk_len(struct truth_resp_parser *p)
{
	long long ll;

	if (!truth_resp_str2ll(p->line, p->line_len, &ll) || ll < 0 ||
	    (unsigned long long)ll > p->lim.max_bulk)
		return fail(p, "invalid bulk length");
	p->line_len = 0;
	/* charge the whole argument now: refuse before receiving it */
	if ((unsigned long long)ll + held(p) + ARG_OVERHEAD > p->lim.max_query)
		return fail(p, "command exceeds the query buffer limit");
	if (arg_begin(p))
		return fail_nomem(p);
	p->bulk_left = (size_t)ll;
	p->st = PS_BULK_LF;
	return 0;
}

int truth_resp_parse(struct truth_resp_parser *p, const void *buf, size_t len,
		     size_t *consumed, struct truth_resp_cmd *cmd)
{
	const char *b = buf;
	size_t i = 0;
	int r;

	if (p->returned) {
		p->returned = false;
		reset_command(p);
	}
	while (i < len) {
		char c = b[i];

		switch (p->st) {
		case PS_FAILED:
			*consumed = i;
			return p->failed;
		case PS_START:
			if (c == '*') {
				p->st = PS_MBULK_LINE;
				i++;
			} else {
				p->st = PS_INLINE;
			}
			break;
		case PS_MBULK_LINE:
		case PS_BULK_LINE: {
			const char *cr = memchr(b + i, '\r', len - i);
			size_t n = cr ? (size_t)(cr - (b + i)) : len - i;

			if (p->line_len + n > TRUTH_RESP_MAX_HEADER) {
				r = fail(p, p->st == PS_MBULK_LINE ?
					 "too big mbulk count string" :
					 "too big bulk count string");
				goto out;
			}
			if (line_append(p, b + i, n)) {
				r = fail_nomem(p);
				goto out;
			}
			i += n;
			if (!cr)
				break;
			i++;	/* the CR */
			r = p->st == PS_MBULK_LINE ? mbulk_count(p) : bulk_len(p);
			if (r)
				goto out;
			break;
		}
		case PS_MBULK_LF:
			if (c != '\n') {
				r = fail(p, "invalid multibulk length");
				goto out;
			}
			i++;
			if (p->mbulk_left == 0) {
				/* "*0" and negative counts are skipped, as Redis does */
				reset_command(p);
				p->st = PS_START;
			} else {
				p->st = PS_BULK_PREFIX;
			}
			break;
		case PS_BULK_PREFIX:
			if (c != '$') {
				unsigned char u = (unsigned char)c;

				if (u >= 0x20 && u < 0x7f)
					snprintf(p->err, sizeof(p->err), "expected '$', got '%c'", c);
				else
					snprintf(p->err, sizeof(p->err), "expected '$', got '\\x%02x'", u);
				p->st = PS_FAILED;
				p->failed = TRUTH_RESP_PROTO_ERROR;
				r = p->failed;
				goto out;
			}
			i++;
			p->st = PS_BULK_LINE;
			break;
		case PS_BULK_LF:
			if (c != '\n') {
				r = fail(p, "invalid bulk length");
				goto out;
			}
			i++;
			p->st = p->bulk_left ? PS_BULK_DATA : PS_BULK_CR;
			break;
		case PS_BULK_DATA: {
			size_t n = len - i < p->bulk_left ? len - i : p->bulk_left;

			if (arg_append(p, b + i, n)) {
				r = fail_nomem(p);
				goto out;
			}
			i += n;
			p->bulk_left -= n;
			if (!p->bulk_left)
				p->st = PS_BULK_CR;
			break;
		}
		case PS_BULK_CR:
			if (c != '\r') {
				r = fail(p, "missing CRLF after bulk data");
				goto out;
			}
			i++;
			p->st = PS_BULK_END_LF;
			break;
		case PS_BULK_END_LF:
			if (c != '\n') {
				r = fail(p, "missing CRLF after bulk data");
				goto out;
			}
			i++;
			if (arg_end(p)) {
				r = fail_nomem(p);
				goto out;
			}
			if (--p->mbulk_left == 0) {
				r = emit(p, cmd);
				goto out;
			}
			p->st = PS_BULK_PREFIX;
			break;
		case PS_INLINE: {
			const char *lf = memchr(b + i, '\n', len - i);
			size_t n = lf ? (size_t)(lf - (b + i)) : len - i;

			if (p->line_len + n > p->lim.max_inline) {
				r = fail(p, "too big inline request");
				goto out;
			}
			if (line_append(p, b + i, n)) {
				r = fail_nomem(p);
				goto out;
			}
			i += n;
			if (!lf)
				break;
			i++;	/* the LF */
			r = inline_done(p, cmd);
			if (r != TRUTH_RESP_NEED_MORE)
				goto out;
			break;
		}
		}
	}
	*consumed = i;
	return p->st == PS_FAILED ? p->failed : TRUTH_RESP_NEED_MORE;
out:
	*consumed = i;
	return r;
}
