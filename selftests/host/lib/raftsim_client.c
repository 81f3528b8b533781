// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * raftsim clients: each has one request outstanding (diss. §6.3), sends it
 * to the node it believes leads, and retries the same sequence number at
 * the current leader when no answer comes.  What they were told ("acked")
 * is what the cluster must never lose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raftsim.h"

void raftsim_clients(struct raftsim *s, uint32_t n)
{
	uint32_t i;

	if (n > RAFTSIM_MAX_CLIENTS)
		n = RAFTSIM_MAX_CLIENTS;
	s->n_clients = n;
	for (i = 0; i < n; i++) {
		memset(&s->clients[i], 0, sizeof(s->clients[i]));
		s->clients[i].id = i + 1;
		s->clients[i].seq = 1;
	}
}

void raftsim_clients_poll(struct raftsim *s, uint64_t retry_us)
{
	uint32_t leader = raftsim_leader(s), i;

	if (!leader)
		return;
	for (i = 0; i < s->n_clients; i++) {
		struct raftsim_client *c = &s->clients[i];

		if (c->pending && s->now - c->sent_at < retry_us)
			continue;
		/* an idle client thinks for a while between requests */
		if (!c->pending && raftsim_rand(s) % 4)
			continue;
		/* new request, or a retry of the same (client, seq) elsewhere */
		if (raftsim_propose(s, leader, c->id, c->seq, NULL) != RAFT_OK)
			continue;
		c->pending = true;
		c->target = leader;
		c->sent_at = s->now;
	}
}

static int cmp_cmd(const void *a, const void *b)
{
	const struct raftsim_cmd *x = a, *y = b;

	if (x->client_id != y->client_id)
		return x->client_id < y->client_id ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

bool raftsim_check_acked(struct raftsim *s, char *why, size_t len)
{
	uint32_t i;
	uint64_t a;

	for (i = 1; i <= RAFTSIM_MAX_NODES; i++) {
		struct raftsim_node *nd = &s->nodes[i];
		struct raftsim_cmd *sorted;

		if (!nd->up)
			continue;
		sorted = malloc((nd->n_sm + 1) * sizeof(*sorted));
		if (!sorted)
			abort();
		memcpy(sorted, nd->sm, nd->n_sm * sizeof(*sorted));
		qsort(sorted, nd->n_sm, sizeof(*sorted), cmp_cmd);
		for (a = 1; a < nd->n_sm; a++) {
			if (!cmp_cmd(&sorted[a - 1], &sorted[a])) {
				snprintf(why, len, "node %u applied client %llu seq %llu twice",
					 i, (unsigned long long)sorted[a].client_id,
					 (unsigned long long)sorted[a].seq);
				free(sorted);
				return false;
			}
		}
		for (a = 0; a < s->n_acks; a++) {
			struct raftsim_cmd key = { s->acks[a].client_id,
						   s->acks[a].seq, 0 };

			if (!bsearch(&key, sorted, nd->n_sm, sizeof(*sorted),
				     cmp_cmd)) {
				snprintf(why, len, "node %u lost acknowledged client %llu seq %llu (index %llu)",
					 i, (unsigned long long)key.client_id,
					 (unsigned long long)key.seq,
					 (unsigned long long)s->acks[a].index);
				free(sorted);
				return false;
			}
		}
		free(sorted);
	}
	return true;
}
