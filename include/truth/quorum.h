/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * The weighted quorum commit rule, shared by truth.ko and truthd.
 *
 * Each member of a group has a weight and a match index (the highest log
 * index it has made durable).  The group has a threshold.  An index N is
 * replicated on a quorum when the weights of the members whose match index
 * is >= N add up to at least the threshold.  The commit index is the largest
 * such N, but only if N belongs to the leader's current term (Raft §5.4.2):
 * the caller passes the first index of its term and an older entry becomes
 * committed only together with a current-term entry after it.
 *
 * Majority of n is weights 1 and threshold n/2 + 1; Byzantine 3f+1 is weights
 * 1 and threshold 2f+1; stake-weighted 2/3 is weights = stake and threshold =
 * ceil(2 * total / 3).  All are this one rule.
 *
 * Pure: no allocation, no I/O, no locking; the caller serialises.
 */
#ifndef _TRUTH_QUORUM_H
#define _TRUTH_QUORUM_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <linux/types.h>
#include <stddef.h>
#endif

/* One voter as the quorum rule sees it. */
struct truth_quorum_member {
	__u32 id;	/* node id within the group */
	__u32 weight;	/* voting weight; 0 = non-voting (learner) */
	__u64 match;	/* highest index durable on this member */
};

/*
 * Largest index acknowledged by members whose weights reach @threshold, or 0
 * when no index is (including threshold 0, which is never a quorum).
 * O(n^2) with no copies, so it is safe on a kernel stack for any n.
 */
static inline __u64 truth_quorum_match(const struct truth_quorum_member *m,
				       unsigned int n, __u64 threshold)
{
	__u64 best = 0;
	unsigned int i, j;

	if (threshold == 0)
		return 0;
	for (i = 0; i < n; i++) {
		__u64 cand = m[i].match;
		__u64 sum = 0;

		if (cand <= best || m[i].weight == 0)
			continue;
		for (j = 0; j < n; j++)
			if (m[j].match >= cand)
				sum += m[j].weight;
		if (sum >= threshold)
			best = cand;
	}
	return best;
}

/*
 * The new commit index: the quorum match index if it lies in the current
 * term (index >= @term_start, the first index the current leader wrote),
 * never less than @commit (the commit index never moves backwards).
 */
static inline __u64 truth_quorum_commit(const struct truth_quorum_member *m,
					unsigned int n, __u64 threshold,
					__u64 term_start, __u64 commit)
{
	__u64 q = truth_quorum_match(m, n, threshold);

	if (q > commit && q >= term_start)
		return q;
	return commit;
}

/* The sum of the members' weights. */
static inline __u64 truth_quorum_total_weight(const struct truth_quorum_member *m,
					      unsigned int n)
{
	__u64 sum = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		sum += m[i].weight;
	return sum;
}

/*
 * The threshold of a weighted majority: more than half of @total.  With all
 * weights 1 that is n / 2 + 1, Raft's majority.
 */
static inline __u64 truth_quorum_majority(__u64 total)
{
	return total / 2 + 1;
}

#endif /* _TRUTH_QUORUM_H */
