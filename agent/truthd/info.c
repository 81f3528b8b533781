// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * INFO truth: the node's state as "key:value" lines (interfaces.md,
 * Documentation/truthd.md "Status"); truthctl status prints them.
 */
#include <stdio.h>

#include "truthd/truthd.h"

const char *role_name(enum raft_role r)
{
	switch (r) {
	case RAFT_LEADER:
		return "leader";
	case RAFT_CANDIDATE:
	case RAFT_PRECANDIDATE:
		return "candidate";
	default:
		return "follower";
	}
}

void info_truth(void *ctx, struct truth_resp_session *s,
		const struct truth_resp_info *r, struct truth_resp_out *o)
{
	struct conn *c = ctx;
	struct truthd *d = c->d;
	struct raft *rf = d->raft;
	uint32_t leader = raft_leader(rf), i;
	uint64_t last = raft_last_index(rf);
	const char *lc = "";
	struct truth_wal_stats ws;
	const struct truth_tp_stats *ts = &d->tp.st;

	coord_info(d, r, o);
	lat_info(d, r, o);
	if (!truth_resp_info_wants(r, "truth", true))
		return;
	if (leader == d->conf.node_id)
		lc = d->conf.client_advertise;
	else if (truth_tp_peer(&d->tp, leader))
		lc = truth_tp_peer(&d->tp, leader)->client;
	truth_wal_stats(d->wal, &ws);
	truth_resp_info_section(o, "Truth");
	truth_resp_out_printf(o,
		"node_id:%u\r\ngroup_id:%u\r\nrole:%s\r\nterm:%llu\r\nleader_id:%u\r\n"
		"leader_client:%s\r\ncommit_index:%llu\r\napplied_index:%llu\r\n"
		"last_index:%llu\r\nsnapshot_index:%llu\r\ncounting:%s\r\nfast_path:%s\r\n"
		"fsync:%s\r\npeers:%u\r\n",
		d->conf.node_id, d->conf.group_id, role_name(raft_role(rf)),
		(unsigned long long)raft_term(rf), leader, lc,
		(unsigned long long)raft_commit_index(rf),
		(unsigned long long)raft_applied_index(rf),
		(unsigned long long)last,
		(unsigned long long)raft_snapshot_index(rf), count_path(d),
		d->fp ? "on" : "off",
		d->conf.fsync ? "on" : "unsafe", d->conf.n_peers);
	/* rebuild.c: not voting until the durable log reaches the target */
	truth_resp_out_printf(o, "rebuilding:%d\r\n", d->rebuilding ? 1 : 0);
	if (d->rebuilding)
		truth_resp_out_printf(o,
			"rebuild_target:%llu\r\nrebuild_durable:%llu\r\n"
			"rebuild_waiting_for_peers:%d\r\nrebuild_moved_to:%s\r\n",
			(unsigned long long)raft_rebuild_target(rf),
			(unsigned long long)node_durable(d),
			raft_rebuild_fence_pending(rf) ? 1 : 0, d->rb.moved_to);
	for (i = 0; i < d->conf.n_peers; i++) {
		const struct truth_conf_peer *p = &d->conf.peers[i];
		uint64_t m = node_peer_match(d, p->id);

		truth_resp_out_printf(o, "peer_%u:match=%llu,lag=%llu,addr=%s\r\n",
				      p->id, (unsigned long long)m,
				      (unsigned long long)(last > m ? last - m : 0),
				      p->addr.text);
	}
	truth_resp_out_printf(o,
		"clients:%u\r\nwrites:%llu\r\nreads_lease:%llu\r\nreads_index:%llu\r\n"
		"redirects:%llu\r\nsnapshots:%llu\r\nwal_syncs:%llu\r\nwal_synced_entries:%llu\r\n"
		"rx:%llu\r\nrx_ok:%llu\r\nrx_oversize:%llu\r\nrx_malformed:%llu\r\n"
		"rx_bad_mac:%llu\r\nrx_wrong_receiver:%llu\r\nrx_wrong_group:%llu\r\n"
		"rx_unknown_sender:%llu\r\nrx_replay:%llu\r\nrx_bad_payload:%llu\r\n"
		"rx_probe:%llu\r\ntx:%llu\r\ntx_errors:%llu\r\ntx_split:%llu\r\n"
		"tx_batches:%llu\r\nacks_coalesced:%llu\r\nwal_entries_per_sync:%.1f\r\n",
		d->n_conns, (unsigned long long)d->writes,
		(unsigned long long)d->reads_lease, (unsigned long long)d->reads_index,
		(unsigned long long)d->redirects, (unsigned long long)d->snapshots,
		(unsigned long long)ws.syncs, (unsigned long long)ws.synced_entries,
		(unsigned long long)ts->rx, (unsigned long long)ts->rx_ok,
		(unsigned long long)ts->rx_oversize, (unsigned long long)ts->rx_malformed,
		(unsigned long long)ts->rx_bad_mac, (unsigned long long)ts->rx_wrong_receiver,
		(unsigned long long)ts->rx_wrong_group, (unsigned long long)ts->rx_unknown_sender,
		(unsigned long long)ts->rx_replay, (unsigned long long)ts->rx_bad_payload,
		(unsigned long long)ts->rx_probe, (unsigned long long)ts->tx,
		(unsigned long long)ts->tx_errors, (unsigned long long)ts->tx_split,
		(unsigned long long)ts->tx_batches, (unsigned long long)d->acks_coalesced,
		ws.syncs ? (double)ws.synced_entries / (double)ws.syncs : 0.0);
	/* bigval: fragmented APPENDs (Documentation/wire.md "Fragments") */
	truth_resp_out_printf(o,
		"max_value_bytes:%u\r\ntx_frag:%llu\r\ntx_frag_msgs:%llu\r\ntx_too_big:%llu\r\n"
		"rx_frag:%llu\r\nrx_frag_msgs:%llu\r\nrx_frag_dup:%llu\r\n"
		"rx_frag_oversize:%llu\r\nrx_frag_mismatch:%llu\r\nrx_frag_dropped:%llu\r\n"
		"frag_slots_used:%u\r\nfrag_bytes:%llu\r\n",
		d->conf.max_value_bytes,
		(unsigned long long)ts->tx_frag, (unsigned long long)ts->tx_frag_msgs,
		(unsigned long long)ts->tx_too_big,
		(unsigned long long)ts->rx_frag, (unsigned long long)ts->rx_frag_msgs,
		(unsigned long long)ts->rx_frag_dup, (unsigned long long)ts->rx_frag_oversize,
		(unsigned long long)ts->rx_frag_mismatch, (unsigned long long)ts->rx_frag_dropped,
		d->tp.frag_busy, (unsigned long long)d->tp.frag_bytes);
	clock_info(d, o);
}
