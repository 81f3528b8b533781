// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truthd --rebuild: replace this node's log with the group's
 * (Documentation/admin-guide.md "Rebuilding a node").
 *
 * rebuild_prepare() runs once, with the data directory locked and before
 * the storage is opened: it moves the damaged files aside and writes the
 * marker.  From then on every start (rebuild_open) finds the marker and
 * tells Raft to abstain from elections; rebuild_check() clears the marker
 * durably once the durable log reaches the target Raft names, and only
 * then lets Raft vote again.
 */
#include <errno.h>
#include <stdio.h>

#include "log/log.h"
#include "truthd/truthd.h"

int rebuild_prepare(struct truthd *d)
{
	char err[TRUTH_STORAGE_ERRLEN];
	unsigned moved = 0;
	int ret;

	/* Raft would elect this node alone: there is no peer to copy from */
	if (d->conf.n_peers < 2) {
		log_err("--rebuild refused: %s has a single member, no peer to rebuild from; nothing was changed",
			d->conf_path);
		return -EINVAL;
	}
	ret = truth_rebuild_prepare(d->conf.data_dir, &d->rb, &moved, err);
	if (ret) {
		log_err("--rebuild: %s; nothing was deleted", err);
		return ret;
	}
	fprintf(stderr, "truthd: --rebuild: moved %u files to %s/%s%s\n", moved,
		d->conf.data_dir, d->rb.moved_to,
		d->rb.term_lost ? "; term and vote unreadable or missing: moved too" :
				  "; term and vote kept");
	log_info("rebuilding from the peers: no vote and no campaign until caught up");
	return 0;
}

/* After node_open: a marker (from now or an earlier start) means abstain. */
int rebuild_open(struct truthd *d)
{
	char err[TRUTH_STORAGE_ERRLEN];
	bool present;
	int ret;

	ret = truth_rebuild_marker_read(NULL, d->conf.data_dir, &present, &d->rb,
					NULL, NULL, err);
	if (ret) {
		log_err("%s", err);
		return ret;
	}
	d->rebuilding = present;
	if (!present)
		return 0;
	raft_rebuild_begin(d->raft, d->rb.term_lost);
	log_warn("rebuilding (marker %s/%s, old files in %s): not voting until caught up%s",
		 d->conf.data_dir, TRUTH_REBUILD_MARKER,
		 d->rb.moved_to[0] ? d->rb.moved_to : "?",
		 d->rb.term_lost ? " and every peer's term is known" : "");
	return 0;
}

/* Every tick: caught up?  Then the marker goes first, the vote after. */
void rebuild_check(struct truthd *d)
{
	char err[TRUTH_STORAGE_ERRLEN];
	uint64_t target;

	if (!d->rebuilding || d->failed)
		return;
	target = raft_rebuild_target(d->raft);
	if (!target || node_durable(d) < target)
		return;
	if (truth_rebuild_marker_clear(NULL, d->conf.data_dir, err)) {
		/* still marked: staying out of elections is the safe side */
		log_err("%s; still rebuilding", err);
		return;
	}
	raft_rebuild_done(d->raft);
	d->rebuilding = false;
	log_info("rebuild complete: log durable up to %llu (target %llu), voting again",
		 (unsigned long long)node_durable(d), (unsigned long long)target);
}
