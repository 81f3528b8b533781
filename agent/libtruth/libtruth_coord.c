// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtruth: the coordination helpers (sessions, locks, elections,
 * barriers) over truth_client_call().
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <truth/libtruth.h>

/* Text of an error reply, kept where truth_client_error() finds it. */
void truth_client_set_error(struct truth_client *c, const char *msg);

/*
 * Run argv; an INTEGER reply goes to *v (if v), NIL is 1, STATUS is 0,
 * an ERROR reply is -EPROTO.
 */
static int run(struct truth_client *c, uint64_t *v, unsigned int argc, const char *const *argv)
{
	struct truth_reply *r;
	int ret = truth_client_call(c, &r, argc, argv);

	if (ret)
		return ret;
	switch (r->type) {
	case TRUTH_REPLY_INTEGER:
		if (v)
			*v = (uint64_t)r->integer;
		ret = 0;
		break;
	case TRUTH_REPLY_NIL:
		ret = 1;
		break;
	case TRUTH_REPLY_STATUS:
		ret = 0;
		break;
	case TRUTH_REPLY_ERROR:
		truth_client_set_error(c, r->str);
		ret = -EPROTO;
		break;
	default:
		truth_client_set_error(c, "unexpected reply type");
		ret = -EPROTO;
	}
	truth_reply_free(r);
	return ret;
}

#define U64(buf, v)	(snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(v)), buf)

int truth_session_open(struct truth_client *c, long long ttl_ms, uint64_t *session)
{
	char t[24];

	snprintf(t, sizeof(t), "%lld", ttl_ms);
	return run(c, session, 2, (const char *const[]){ "SESSION.OPEN", t });
}

int truth_session_keepalive(struct truth_client *c, uint64_t session)
{
	char s[24];

	return run(c, NULL, 2, (const char *const[]){ "SESSION.KEEPALIVE", U64(s, session) });
}

int truth_session_close(struct truth_client *c, uint64_t session)
{
	char s[24];

	return run(c, NULL, 2, (const char *const[]){ "SESSION.CLOSE", U64(s, session) });
}

int truth_lock_acquire(struct truth_client *c, const char *name, uint64_t session,
		       long long timeout_ms, uint64_t *token)
{
	char s[24], t[24];

	U64(s, session);
	if (timeout_ms < 0)
		return run(c, token, 3, (const char *const[]){ "LOCK.ACQUIRE", name, s });
	snprintf(t, sizeof(t), "%lld", timeout_ms);
	return run(c, token, 5, (const char *const[]){ "LOCK.ACQUIRE", name, s, "TIMEOUT", t });
}

int truth_lock_release(struct truth_client *c, const char *name, uint64_t session,
		       uint64_t token)
{
	char s[24], t[24];

	return run(c, NULL, 4, (const char *const[]){ "LOCK.RELEASE", name, U64(s, session),
						       U64(t, token) });
}

int truth_elect_campaign(struct truth_client *c, const char *name, uint64_t session,
			 const char *value, uint64_t *token)
{
	char s[24];

	return run(c, token, 4, (const char *const[]){ "ELECT.CAMPAIGN", name, U64(s, session),
							value });
}

int truth_elect_resign(struct truth_client *c, const char *name, uint64_t session,
		       uint64_t token)
{
	char s[24], t[24];

	return run(c, NULL, 4, (const char *const[]){ "ELECT.RESIGN", name, U64(s, session),
						       U64(t, token) });
}

int truth_barrier_enter(struct truth_client *c, const char *name, unsigned int count,
			uint64_t session)
{
	char s[24], n[24];

	return run(c, NULL, 4, (const char *const[]){ "BARRIER.ENTER", name, U64(n, count),
						       U64(s, session) });
}

int truth_barrier_leave(struct truth_client *c, const char *name, uint64_t session)
{
	char s[24];

	return run(c, NULL, 3, (const char *const[]){ "BARRIER.LEAVE", name, U64(s, session) });
}
