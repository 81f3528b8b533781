/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * truth: cluster agreement — clocks stamped in the kernel, quorum counted in
 * the kernel, consensus in the agent.
 *
 * This header is the contract between truth.ko, its eBPF programs and the
 * truthd agent.  It documents the generic netlink API the way the rest of the
 * project reads it; the machine-readable description is
 * Documentation/netlink/specs/truth.yaml.
 *
 * Generic netlink family "truth", version TRUTH_GENL_VERSION, netnsok: every
 * network namespace has its own groups and its own clocks, and a caller only
 * ever sees and touches the state of the namespace its socket lives in.
 *
 * Validation is strict for every command: an attribute the command does not
 * take, an attribute type above the set's maximum, a wrong length, a value
 * out of range and an unknown flag bit are all rejected, and every rejection
 * carries an extended-ack (extack) message saying why.  A rejected request
 * changes nothing.
 *
 * Commands marked "admin" need CAP_NET_ADMIN in the user namespace that owns
 * the caller's network namespace; others get -EPERM with an extack message.
 *
 * Integers are in host byte order.  u64 attributes are 64-bit aligned with
 * the set's PAD attribute, as nla_put_u64_64bit() does.
 *
 * Errors used throughout (besides those of the netlink core):
 *   -EINVAL  missing attribute, wrong length, malformed nest, an attribute
 *            the command does not take, an unknown flag bit, a string too
 *            long or without its NUL, a value that is in range but
 *            inconsistent (see each command)
 *   -ERANGE  an integer outside its documented range
 *   -EPERM   an admin command without CAP_NET_ADMIN
 *   -ENOENT  no group with this id in this namespace, or no such member
 *   -EEXIST  TRUTH_CMD_GROUP_NEW with an id that is already in use
 *   -E2BIG   more members or vector-clock entries than the limits below
 *   -ENOSPC  the namespace already holds TRUTH_GROUPS_MAX groups, or a
 *            vector clock would exceed TRUTH_VCLOCK_MAX entries
 *   -ESTALE  an ack for a term other than the group's
 *
 * TRUTH_CMD_GET_VERSION
 * ---------------------
 *   Unprivileged.  Takes no attributes.  Replies with:
 *
 *     TRUTH_A_VERSION_GENL:    NLA_U32, the family's API version
 *                              (TRUTH_GENL_VERSION)
 *     TRUTH_A_VERSION_MODULE:  NLA_NUL_STRING, the module's release string
 *     TRUTH_A_VERSION_WIRE:    NLA_U32, the on-wire header version the
 *                              module speaks (TRUTH_WIRE_VERSION)
 *
 * Groups
 * ------
 * A group is one replicated log (one Raft group) as this node sees it:
 * this node's id in it, the voting members with their weights, the commit
 * threshold, the current term and role, each member's match index (the
 * highest log index that member has made durable) and the commit index.
 * The commit index is the largest index whose acknowledging members' weights
 * add up to at least the threshold, counting only indexes of the current
 * term (index >= TERM_START, Raft §5.4.2); it never moves backwards.  See
 * include/truth/quorum.h for the rule itself.
 *
 * TRUTH_CMD_GROUP_NEW (admin)
 * ---------------------------
 *   Creates a group.  Attributes (enum truth_group_attr):
 *
 *     TRUTH_A_GROUP_ID:          NLA_U32, required, 1..U32_MAX; the group's id,
 *                                unique within the namespace (-EEXIST)
 *     TRUTH_A_GROUP_SELF:        NLA_U32, required; this node's id, which must
 *                                be one of the members
 *     TRUTH_A_GROUP_MEMBER:      NLA_NESTED, required, repeated once per
 *                                member (at most TRUTH_GROUP_MEMBERS_MAX):
 *       TRUTH_A_MEMBER_NODE:     NLA_U32, required; the member's node id,
 *                                unique within the group
 *       TRUTH_A_MEMBER_WEIGHT:   NLA_U32, optional, default 1; 0 means a
 *                                non-voting member (a learner)
 *     TRUTH_A_GROUP_THRESHOLD:   NLA_U64, optional, >= 1 and at most the sum
 *                                of the weights; absent means a weighted
 *                                majority, sum / 2 + 1
 *     TRUTH_A_GROUP_TERM:        NLA_U64, optional, default 0
 *     TRUTH_A_GROUP_TERM_START:  NLA_U64, optional, default 0; the first log
 *                                index of the current term
 *     TRUTH_A_GROUP_ROLE:        NLA_U32, optional, enum truth_role, default
 *                                TRUTH_ROLE_FOLLOWER
 *     TRUTH_A_GROUP_COMMIT:      NLA_U64, optional, default 0; the commit
 *                                index known from before (e.g. read back
 *                                from disk by the agent after a restart)
 *     TRUTH_A_GROUP_NAME:        NLA_NUL_STRING, optional, at most
 *                                TRUTH_GROUP_NAME_MAX - 1 bytes; a label
 *     TRUTH_A_GROUP_KEY:         NLA_BINARY, optional, exactly
 *                                TRUTH_WIRE_KEY_LEN bytes; the group's wire
 *                                key (the MAC key of "The wire" below).
 *                                Write-only: no reply, dump or event ever
 *                                carries it.  Without a key the fast path
 *                                authenticates nothing and passes every
 *                                datagram of the group up unchanged.
 *
 *   A zero total weight (only learners) is -EINVAL, as is a threshold above
 *   the total weight: no quorum could ever form.
 *
 * TRUTH_CMD_GROUP_SET (admin)
 * ---------------------------
 *   Changes a group.  TRUTH_A_GROUP_ID is required (-ENOENT if unknown);
 *   everything else is optional and absent means "unchanged":
 *
 *     TRUTH_A_GROUP_MEMBER:      as for NEW; if any is present, the list
 *                                replaces the whole member list.  Members that
 *                                stay keep their match index, new ones start
 *                                at 0.  SELF must remain a member.  Without a
 *                                THRESHOLD in the same request the threshold
 *                                becomes the weighted majority of the new list.
 *     TRUTH_A_GROUP_THRESHOLD:   as for NEW
 *     TRUTH_A_GROUP_TERM:        NLA_U64; must not be lower than the current
 *                                term (-EINVAL).  A higher term needs
 *                                TRUTH_A_GROUP_TERM_START in the same request
 *                                (-EINVAL) and resets every match index to 0.
 *     TRUTH_A_GROUP_TERM_START:  NLA_U64; unless the same request starts a
 *                                higher term, it must not be lower than the
 *                                current TERM_START (-EINVAL): older-term
 *                                entries must not count toward a commit
 *     TRUTH_A_GROUP_ROLE:        NLA_U32, enum truth_role
 *     TRUTH_A_GROUP_NAME:        as for NEW
 *     TRUTH_A_GROUP_KEY:         as for NEW; replaces the key (the replay
 *                                windows stay: sequence numbers are per
 *                                sender, not per key).  A key cannot be
 *                                removed, only replaced.
 *     TRUTH_A_GROUP_FLAGS:       NLA_U32, enum truth_group_flag bits; unknown
 *                                bits are rejected:
 *       TRUTH_GROUP_F_RESET_MATCH: set every match index to 0, as a newly
 *                                elected leader does (Raft figure 2)
 *
 *   A change of term or role sends TRUTH_CMD_EVENT_TERM; a change that lets
 *   the commit index advance sends TRUTH_CMD_EVENT_COMMIT.  No commit event
 *   carrying the new term precedes the term event.
 *
 * TRUTH_CMD_GROUP_DEL (admin)
 * ---------------------------
 *   TRUTH_A_GROUP_ID, required.  Deletes the group and sends
 *   TRUTH_CMD_EVENT_GROUP_DEL, after which no other event of the deleted
 *   group is sent.  -ENOENT if there is no such group.
 *
 * TRUTH_CMD_GROUP_GET
 * -------------------
 *   Unprivileged.  As a do request it takes TRUTH_A_GROUP_ID (required) and
 *   replies with one group; as a dump (NLM_F_DUMP) it takes nothing and
 *   replies with every group of the namespace in ascending id order.  Each
 *   reply carries TRUTH_A_GROUP_ID, _SELF, _TERM, _TERM_START, _ROLE,
 *   _THRESHOLD, _COMMIT, _NAME (only if set), _KEYED (NLA_U8, 1 if a wire
 *   key was set, else 0; the key itself is never sent) and one
 *   TRUTH_A_GROUP_MEMBER per member with TRUTH_A_MEMBER_NODE, _WEIGHT and
 *   _MATCH (NLA_U64, the member's match index).
 *
 * TRUTH_CMD_GROUP_ACK (admin)
 * ---------------------------
 *   Feeds one ack into the quorum count, as the fast path does
 *   for ACK packets:
 *
 *     TRUTH_A_GROUP_ID:     NLA_U32, required
 *     TRUTH_A_GROUP_TERM:   NLA_U64, required; must equal the group's term
 *                           (-ESTALE otherwise)
 *     TRUTH_A_GROUP_INDEX:  NLA_U64, required; the highest index the member
 *                           has made durable
 *     TRUTH_A_GROUP_NODE:   NLA_U32, optional; the acknowledging member.
 *                           Absent means this node (SELF): the leader's own
 *                           persisted index, a "local ack".  -ENOENT if not a
 *                           member.
 *
 *   Only a group in role TRUTH_ROLE_LEADER counts acknowledgements; on any
 *   other role the request is -EINVAL.  A match index never moves backwards:
 *   an ack below the member's match index is accepted and changes nothing.
 *   If the commit index advances, TRUTH_CMD_EVENT_COMMIT is sent, or, when
 *   another CPU is sending this group's commit events at that moment, the
 *   advance is folded into that CPU's next event (so it may reach listeners
 *   after this request is acknowledged).  No reply but the netlink ack.
 *
 * Clocks
 * ------
 * Every namespace has a Lamport clock and a hybrid logical clock (HLC,
 * Kulkarni et al. 2014); every group has a vector clock over node ids.
 * Replies to the clock commands carry (enum truth_clock_attr):
 *
 *     TRUTH_A_CLOCK_LAMPORT:         NLA_U64
 *     TRUTH_A_CLOCK_HLC:             NLA_U64; the upper 48 bits are physical
 *                                    time (CLOCK_REALTIME in ns with the low
 *                                    16 bits cleared), the low 16 bits the
 *                                    logical counter (include/truth/hlc.h)
 *     TRUTH_A_CLOCK_HLC_MAX_OFFSET:  NLA_U64, ns
 *     TRUTH_A_CLOCK_GROUP_ID:        NLA_U32, only if the request named a
 *                                    group, followed by that group's vector
 *                                    clock: one TRUTH_A_CLOCK_VCLOCK per node
 *                                    with a non-zero counter, in ascending
 *                                    node order:
 *       TRUTH_A_VCLOCK_NODE:         NLA_U32
 *       TRUTH_A_VCLOCK_COUNTER:      NLA_U64; in a request at least 1
 *                                    (-ERANGE otherwise)
 *
 * TRUTH_CMD_CLOCK_GET
 * -------------------
 *   Unprivileged.  TRUTH_A_CLOCK_GROUP_ID optional (-ENOENT if unknown).
 *   Reads the clocks without changing them.
 *
 * TRUTH_CMD_CLOCK_TICK
 * --------------------
 *   Unprivileged: a local event (or a send).  Advances the Lamport clock by
 *   one and the HLC by the send rule; with TRUTH_A_CLOCK_GROUP_ID also
 *   increments SELF's entry of that group's vector clock.  Replies with the
 *   new values: a causal stamp for the caller.
 *
 * TRUTH_CMD_CLOCK_MERGE (admin)
 * -----------------------------
 *   A receive event: merges a remote stamp into the local clocks.  At least
 *   one of the following (-EINVAL otherwise):
 *
 *     TRUTH_A_CLOCK_LAMPORT:  NLA_U64, 0..2^63-1; Lamport becomes
 *                             max(local, remote) + 1
 *     TRUTH_A_CLOCK_HLC:      NLA_U64; the HLC receive rule.  A remote HLC
 *                             whose physical part is more than the maximum
 *                             offset ahead of local physical time is
 *                             rejected with -ERANGE (the clock stays bounded)
 *     TRUTH_A_CLOCK_GROUP_ID and one TRUTH_A_CLOCK_VCLOCK per entry (at most
 *                             TRUTH_VCLOCK_MAX, -E2BIG), nodes strictly
 *                             ascending (-EINVAL): the group's vector clock
 *                             becomes the entry-wise maximum, then SELF's
 *                             entry is incremented.  -ENOSPC if the union
 *                             would hold more than TRUTH_VCLOCK_MAX nodes.
 *
 *   Either everything is merged or, on any error, nothing is.  Replies like
 *   TRUTH_CMD_CLOCK_TICK.
 *
 * TRUTH_CMD_CLOCK_SET (admin)
 * ---------------------------
 *     TRUTH_A_CLOCK_HLC_MAX_OFFSET:  NLA_U64, required, ns,
 *                                    TRUTH_HLC_MAX_OFFSET_MIN..
 *                                    TRUTH_HLC_MAX_OFFSET_MAX; the namespace's
 *                                    bound on how far a remote HLC may be
 *                                    ahead (default TRUTH_HLC_MAX_OFFSET_DEFAULT)
 *   Replies like TRUTH_CMD_CLOCK_GET.
 *
 * Statistics
 * ----------
 * TRUTH_CMD_STATS_GET
 * -------------------
 *   Unprivileged.  TRUTH_A_STATS_GROUP_ID required.  Replies with
 *   (enum truth_stats_attr, every counter NLA_U64, counted since the group
 *   was created or last reset):
 *
 *     TRUTH_A_STATS_GROUP_ID:         NLA_U32
 *     TRUTH_A_STATS_ACKS:             acknowledgements accepted
 *     TRUTH_A_STATS_ACKS_LOCAL:       of those, local (leader's own) acks
 *     TRUTH_A_STATS_ACKS_REDUNDANT:   of those, acks that did not raise the
 *                                     member's match index
 *     TRUTH_A_STATS_ACKS_STALE:       acks refused: wrong term, not leader
 *     TRUTH_A_STATS_COMMIT_ADVANCES:  times the commit index advanced
 *     TRUTH_A_STATS_COMMIT_EVENTS:    TRUTH_CMD_EVENT_COMMIT events emitted
 *                                     (counted whether or not anyone
 *                                     listens); fewer than the advances when
 *                                     advances were coalesced
 *
 *   The eBPF fast path's counters of the group (Documentation/fastpath.md);
 *   every datagram the tc ingress hook looks at lands in exactly one of
 *   ACKS, PASSED, BAD_MAC, REPLAY, STALE, MALFORMED, NOT_FOR_US, NO_KEY
 *   (or in a namespace counter below when no group can be named):
 *
 *     TRUTH_A_STATS_FP_ACKS:          ACKs counted in the kernel and consumed
 *                                     (also counted in _ACKS above)
 *     TRUTH_A_STATS_FP_PASSED:        authentic datagrams passed up
 *                                     unchanged (other types; ACKs while not
 *                                     leader)
 *     TRUTH_A_STATS_FP_BAD_MAC:       dropped: the MAC did not match
 *     TRUTH_A_STATS_FP_REPLAY:        dropped: sequence number seen before
 *                                     or below the replay window
 *     TRUTH_A_STATS_FP_STALE:         authentic ACKs of another term, passed
 *                                     up
 *     TRUTH_A_STATS_FP_MALFORMED:     a header rule broken (include/truth/
 *                                     wire.h), passed up unchanged
 *     TRUTH_A_STATS_FP_NOT_FOR_US:    receiver is not SELF, or the sender is
 *                                     not a member (or is SELF); passed up
 *     TRUTH_A_STATS_FP_NO_KEY:        the group has no key; passed up
 *     TRUTH_A_STATS_FP_STAMPED:       egress datagrams stamped
 *     TRUTH_A_STATS_FP_OBSERVED:      ingress datagrams whose clocks were
 *                                     merged
 *
 *   and the namespace's counters (the same in every group's reply; a
 *   STATS_RESET of any group of the namespace zeroes them too), for
 *   datagrams that name no group:
 *
 *     TRUTH_A_STATS_FP_NS_MALFORMED:  UDP on the port that is not a truth
 *                                     datagram (short, bad magic, bad UDP
 *                                     length)
 *     TRUTH_A_STATS_FP_NS_FRAGMENTS:  IP fragments on the port (passed up:
 *                                     the fast path never reassembles)
 *     TRUTH_A_STATS_FP_NS_NO_GROUP:   well-formed headers naming a group this
 *                                     namespace does not have
 *
 * TRUTH_CMD_STATS_RESET (admin)
 * -----------------------------
 *   TRUTH_A_STATS_GROUP_ID required.  Sets every counter of the group to
 *   zero, and the namespace's TRUTH_A_STATS_FP_NS_* counters with them:
 *   afterwards STATS_GET of this group reads all zero.
 *
 * Events
 * ------
 * Sent to the multicast group TRUTH_MCGRP_EVENTS ("events") of the group's
 * namespace; anyone may listen.
 *
 *   TRUTH_CMD_EVENT_COMMIT:     the commit index advanced.  TRUTH_A_GROUP_ID,
 *                               _TERM, _COMMIT.  One event per advance; when
 *                               advances race on several CPUs they are
 *                               coalesced and the event carries the newest
 *                               index.  Successive events of a group carry
 *                               strictly increasing commit indexes.  An ack
 *                               that does not advance the index sends nothing.
 *   TRUTH_CMD_EVENT_TERM:       the term or the role changed.
 *                               TRUTH_A_GROUP_ID, _TERM, _ROLE.
 *   TRUTH_CMD_EVENT_GROUP_DEL:  the group was deleted.  TRUTH_A_GROUP_ID.
 */

#ifndef _UAPI_LINUX_TRUTH_H
#define _UAPI_LINUX_TRUTH_H

#include <linux/types.h>

#define TRUTH_GENL_NAME		"truth"
#define TRUTH_GENL_VERSION	1
#define TRUTH_WIRE_VERSION	1
#define TRUTH_MCGRP_EVENTS	"events"

/* Limits. */
#define TRUTH_GROUPS_MAX		1024	/* groups per network namespace */
#define TRUTH_GROUP_MEMBERS_MAX		64	/* members per group */
#define TRUTH_VCLOCK_MAX		64	/* vector-clock entries */
#define TRUTH_GROUP_NAME_MAX		32	/* including the NUL */
#define TRUTH_HLC_MAX_OFFSET_MIN	1000ULL			/* 1 us */
#define TRUTH_HLC_MAX_OFFSET_MAX	3600000000000ULL	/* 1 h */
#define TRUTH_HLC_MAX_OFFSET_DEFAULT	500000000ULL		/* 500 ms */

enum truth_cmd {
	TRUTH_CMD_UNSPEC,
	TRUTH_CMD_GET_VERSION,
	TRUTH_CMD_GROUP_NEW,
	TRUTH_CMD_GROUP_SET,
	TRUTH_CMD_GROUP_DEL,
	TRUTH_CMD_GROUP_GET,
	TRUTH_CMD_GROUP_ACK,
	TRUTH_CMD_CLOCK_GET,
	TRUTH_CMD_CLOCK_TICK,
	TRUTH_CMD_CLOCK_MERGE,
	TRUTH_CMD_CLOCK_SET,
	TRUTH_CMD_STATS_GET,
	TRUTH_CMD_STATS_RESET,
	TRUTH_CMD_EVENT_COMMIT,
	TRUTH_CMD_EVENT_TERM,
	TRUTH_CMD_EVENT_GROUP_DEL,
	__TRUTH_CMD_MAX
};

#define TRUTH_CMD_MAX (__TRUTH_CMD_MAX - 1)

enum truth_version_attr {
	TRUTH_A_VERSION_UNSPEC,
	TRUTH_A_VERSION_GENL,
	TRUTH_A_VERSION_MODULE,
	TRUTH_A_VERSION_WIRE,
	__TRUTH_A_VERSION_MAX
};

#define TRUTH_A_VERSION_MAX (__TRUTH_A_VERSION_MAX - 1)

/* A node's role in a group; only a leader counts acknowledgements. */
enum truth_role {
	TRUTH_ROLE_FOLLOWER,
	TRUTH_ROLE_CANDIDATE,
	TRUTH_ROLE_LEADER,
	__TRUTH_ROLE_MAX
};

#define TRUTH_ROLE_MAX (__TRUTH_ROLE_MAX - 1)

enum truth_group_flag {
	TRUTH_GROUP_F_RESET_MATCH = 1U << 0,
	__TRUTH_GROUP_F_ALL = TRUTH_GROUP_F_RESET_MATCH
};

enum truth_group_attr {
	TRUTH_A_GROUP_UNSPEC,
	TRUTH_A_GROUP_PAD,
	TRUTH_A_GROUP_ID,
	TRUTH_A_GROUP_SELF,
	TRUTH_A_GROUP_MEMBER,
	TRUTH_A_GROUP_THRESHOLD,
	TRUTH_A_GROUP_TERM,
	TRUTH_A_GROUP_TERM_START,
	TRUTH_A_GROUP_ROLE,
	TRUTH_A_GROUP_COMMIT,
	TRUTH_A_GROUP_NAME,
	TRUTH_A_GROUP_FLAGS,
	TRUTH_A_GROUP_NODE,
	TRUTH_A_GROUP_INDEX,
	TRUTH_A_GROUP_KEY,
	TRUTH_A_GROUP_KEYED,
	__TRUTH_A_GROUP_MAX
};

#define TRUTH_A_GROUP_MAX (__TRUTH_A_GROUP_MAX - 1)
/* for #ifdef in user space: this API takes group keys (the fast path) */
#define TRUTH_A_GROUP_KEY TRUTH_A_GROUP_KEY

enum truth_member_attr {
	TRUTH_A_MEMBER_UNSPEC,
	TRUTH_A_MEMBER_PAD,
	TRUTH_A_MEMBER_NODE,
	TRUTH_A_MEMBER_WEIGHT,
	TRUTH_A_MEMBER_MATCH,
	__TRUTH_A_MEMBER_MAX
};

#define TRUTH_A_MEMBER_MAX (__TRUTH_A_MEMBER_MAX - 1)

enum truth_clock_attr {
	TRUTH_A_CLOCK_UNSPEC,
	TRUTH_A_CLOCK_PAD,
	TRUTH_A_CLOCK_GROUP_ID,
	TRUTH_A_CLOCK_LAMPORT,
	TRUTH_A_CLOCK_HLC,
	TRUTH_A_CLOCK_HLC_MAX_OFFSET,
	TRUTH_A_CLOCK_VCLOCK,
	__TRUTH_A_CLOCK_MAX
};

#define TRUTH_A_CLOCK_MAX (__TRUTH_A_CLOCK_MAX - 1)

enum truth_vclock_attr {
	TRUTH_A_VCLOCK_UNSPEC,
	TRUTH_A_VCLOCK_PAD,
	TRUTH_A_VCLOCK_NODE,
	TRUTH_A_VCLOCK_COUNTER,
	__TRUTH_A_VCLOCK_MAX
};

#define TRUTH_A_VCLOCK_MAX (__TRUTH_A_VCLOCK_MAX - 1)

enum truth_stats_attr {
	TRUTH_A_STATS_UNSPEC,
	TRUTH_A_STATS_PAD,
	TRUTH_A_STATS_GROUP_ID,
	TRUTH_A_STATS_ACKS,
	TRUTH_A_STATS_ACKS_LOCAL,
	TRUTH_A_STATS_ACKS_REDUNDANT,
	TRUTH_A_STATS_ACKS_STALE,
	TRUTH_A_STATS_COMMIT_ADVANCES,
	TRUTH_A_STATS_COMMIT_EVENTS,
	TRUTH_A_STATS_FP_ACKS,
	TRUTH_A_STATS_FP_PASSED,
	TRUTH_A_STATS_FP_BAD_MAC,
	TRUTH_A_STATS_FP_REPLAY,
	TRUTH_A_STATS_FP_STALE,
	TRUTH_A_STATS_FP_MALFORMED,
	TRUTH_A_STATS_FP_NOT_FOR_US,
	TRUTH_A_STATS_FP_NO_KEY,
	TRUTH_A_STATS_FP_STAMPED,
	TRUTH_A_STATS_FP_OBSERVED,
	TRUTH_A_STATS_FP_NS_MALFORMED,
	TRUTH_A_STATS_FP_NS_FRAGMENTS,
	TRUTH_A_STATS_FP_NS_NO_GROUP,
	__TRUTH_A_STATS_MAX
};

#define TRUTH_A_STATS_MAX (__TRUTH_A_STATS_MAX - 1)

/*
 * The wire: what agents send each other over UDP
 * ==============================================
 * Every datagram between truth agents starts with struct truth_wire_hdr.
 * Multi-byte fields are in network byte order.  A datagram is laid out as
 *
 *   struct truth_wire_hdr                     TRUTH_WIRE_HDR_LEN (80) bytes
 *   struct truth_wire_vc[vc_count]            16 bytes each, vc_count <=
 *                                             TRUTH_WIRE_VCLOCK_MAX
 *   payload                                   payload_len bytes, by type
 *   struct truth_wire_rx (PROBE types only)   16 bytes, written on receipt
 *
 * and its UDP length must be exactly that sum: anything shorter or longer
 * is malformed.  Fields:
 *
 *   magic        TRUTH_WIRE_MAGIC ("TRTH")
 *   version      TRUTH_WIRE_VERSION; a receiver drops other versions
 *   type         enum truth_wire_type
 *   flags        enum truth_wire_flag bits; unknown bits are malformed
 *   vc_count     vector-clock entries that follow the header
 *   sender       node id of the sender (a member of @group)
 *   receiver     node id the datagram is for; a node drops datagrams for
 *                another id, so one cannot be redirected to a sibling
 *   group        group id (TRUTH_A_GROUP_ID)
 *   payload_len  bytes of payload
 *   reserved     zero
 *   term         sender's Raft term
 *   index        by type: ACK: the sender's match index (the highest log
 *                index it has made durable and that matches the leader);
 *                APPEND: the index of the entry before the first carried;
 *                PROBE_REPLY: the error, in ns, the sender claims for its
 *                clock (T2 and T3 are within it of true time), U64_MAX
 *                for none (not synchronised: the reply is not used);
 *                others: zero unless the payload says otherwise
 *   seq          per-sender sequence number, strictly increasing over the
 *                sender's lifetime, also across restarts (a sender starts
 *                above its wall clock in ns, or above what it last used,
 *                whichever is larger).  A receiver keeps, per (group,
 *                sender), the highest seq seen and a window of the
 *                TRUTH_WIRE_REPLAY_WINDOW below it, and drops a seq it has
 *                seen or one below the window (include/truth/wire.h)
 *   lamport      sender's Lamport time at sending
 *   hlc          sender's hybrid logical clock (include/truth/hlc.h)
 *   mac          the keyed MAC, see below
 *
 * Vector clock: entries sorted by node id, strictly ascending, no zero
 * counters; the sender's own entry included.
 *
 * MAC: keyed BLAKE2s (RFC 7693) with the group's 32-byte key
 * (TRUTH_WIRE_KEY_LEN) and a 16-byte output (TRUTH_WIRE_MAC_LEN, the digest
 * length parameter set to 16, not a truncated 32-byte digest), computed over
 * the header with @mac set to zero, the vector clock and the payload; the
 * receive trailer of PROBE types is not covered, because the receiving host
 * writes it itself.  The kernel uses lib/crypto's blake2s(), user space
 * libb2's blake2s(): the same function.  A datagram whose MAC does not match
 * is dropped before any other field is believed.
 *
 * Stamping: a sender that sets TRUTH_WIRE_F_STAMP asks truth.ko's tc egress
 * program to tick the namespace's clocks and write lamport, hlc and the
 * vector clock (into the vc_count slots the sender reserved), and, for PROBE
 * types, the transmit time; the module then recomputes the MAC (it holds the
 * key) and sets TRUTH_WIRE_F_KSTAMPED.  Without the module the agent fills
 * those fields itself and leaves F_STAMP clear.
 *
 * Types:
 *   TRUTH_WIRE_ACK          follower -> leader: a successful AppendEntries
 *                           response.  index is the match index; no
 *                           payload.  A leader's tc ingress program counts
 *                           it in the kernel (TRUTH_CMD_GROUP_ACK's rule)
 *                           and drops it; what the fast path cannot decide
 *                           (another term, unknown group, not leader) goes
 *                           up to the socket unchanged.
 *   TRUTH_WIRE_APPEND       leader -> follower: AppendEntries with entries;
 *                           payload in Documentation/wire.md
 *   TRUTH_WIRE_RAFT         any other Raft message (votes, rejections,
 *                           heartbeats, snapshots); payload in
 *                           Documentation/wire.md
 *   TRUTH_WIRE_PROBE        clock-sync request, payload struct
 *                           truth_wire_probe, followed by struct
 *                           truth_wire_rx
 *   TRUTH_WIRE_PROBE_REPLY  its answer, the same layout; echo_tx and
 *                           echo_rx carry the request's times
 *   TRUTH_WIRE_FORWARD      a client request forwarded by a follower to
 *                           the leader, and its answer (flag F_REPLY);
 *                           payload in Documentation/wire.md
 *
 * Clock-sync probes (NTP's four timestamps): the client sends PROBE with tx
 * = T1; the server's host writes rx = T2 on receipt; the server answers
 * PROBE_REPLY with echo_tx = T1, echo_rx = T2, tx = T3; the client's host
 * writes rx = T4.  Offset = ((T2 - T1) + (T3 - T4)) / 2, delay = (T4 - T1) -
 * (T3 - T2).  Times are CLOCK_REALTIME in ns; *_src says where each was
 * taken (enum truth_wire_tsrc), so the estimator knows how close to the wire
 * it is.
 *
 * Two-step: a sender that learns its precise transmit time only after
 * sending (SO_TIMESTAMPING's error queue) sends PROBE_REPLY with
 * TRUTH_WIRE_F_TWO_STEP set and a provisional tx read before sending
 * (tx_src USER: earlier than the real send, so a sample made from it is
 * valid, only wider), then, once the kernel reports the transmit time, a
 * follow-up: a PROBE_REPLY with the same id and echo fields, F_TWO_STEP
 * clear, tx the precise transmit time of the first reply and tx_src its
 * source.  The client waits a short while for it, takes its tx as T3 of
 * the first reply (only if its source is better and its time not earlier
 * than the provisional one) and ignores the follow-up's own receive
 * trailer.  A follow-up that arrives with no first reply pending is an
 * ordinary reply: its receipt is later than the first reply's, so the
 * sample stays valid.  F_TWO_STEP has no meaning on PROBE: a client keeps
 * its own T1 and upgrades it locally (Documentation/clock.md).
 */
#define TRUTH_WIRE_MAGIC		0x54525448U	/* "TRTH" */
#define TRUTH_WIRE_PORT			7410	/* default UDP port */
#define TRUTH_WIRE_KEY_LEN		32
#define TRUTH_WIRE_MAC_LEN		16
#define TRUTH_WIRE_VCLOCK_MAX		32
#define TRUTH_WIRE_REPLAY_WINDOW	1024
#define TRUTH_WIRE_DGRAM_MAX		65000	/* whole datagram, bytes */

enum truth_wire_type {
	TRUTH_WIRE_UNSPEC,
	TRUTH_WIRE_ACK,
	TRUTH_WIRE_APPEND,
	TRUTH_WIRE_RAFT,
	TRUTH_WIRE_PROBE,
	TRUTH_WIRE_PROBE_REPLY,
	TRUTH_WIRE_FORWARD,
	__TRUTH_WIRE_TYPE_MAX
};

#define TRUTH_WIRE_TYPE_MAX (__TRUTH_WIRE_TYPE_MAX - 1)

enum truth_wire_flag {
	TRUTH_WIRE_F_STAMP	= 1U << 0,	/* kernel: stamp on egress */
	TRUTH_WIRE_F_KSTAMPED	= 1U << 1,	/* clocks were written by truth.ko */
	TRUTH_WIRE_F_REPLY	= 1U << 2,	/* FORWARD: the leader's answer */
	TRUTH_WIRE_F_TWO_STEP	= 1U << 3,	/* PROBE*: tx follows later */
	__TRUTH_WIRE_F_ALL	= TRUTH_WIRE_F_STAMP | TRUTH_WIRE_F_KSTAMPED |
				  TRUTH_WIRE_F_REPLY | TRUTH_WIRE_F_TWO_STEP
};

/* Where a probe timestamp was taken, closest to the wire last. */
enum truth_wire_tsrc {
	TRUTH_WIRE_TSRC_NONE,		/* not taken */
	TRUTH_WIRE_TSRC_USER,		/* clock_gettime() in the agent */
	TRUTH_WIRE_TSRC_SOCKET,		/* SO_TIMESTAMPING, software */
	TRUTH_WIRE_TSRC_TC,		/* truth.ko's tc hook */
	TRUTH_WIRE_TSRC_HW,		/* NIC hardware timestamp */
	__TRUTH_WIRE_TSRC_MAX
};

struct truth_wire_hdr {
	__be32	magic;
	__u8	version;
	__u8	type;
	__u8	flags;
	__u8	vc_count;
	__be32	sender;
	__be32	receiver;
	__be32	group;
	__be16	payload_len;
	__be16	reserved;
	__be64	term;
	__be64	index;
	__be64	seq;
	__be64	lamport;
	__be64	hlc;
	__u8	mac[TRUTH_WIRE_MAC_LEN];
};

#define TRUTH_WIRE_HDR_LEN	80
#define TRUTH_WIRE_MAC_OFFSET	64

struct truth_wire_vc {
	__be32	node;
	__be32	reserved;	/* zero */
	__be64	counter;
};

struct truth_wire_probe {
	__be64	id;		/* chosen by the client, echoed */
	__be64	tx;		/* this datagram's transmit time */
	__be64	echo_tx;	/* REPLY: the request's tx (T1) */
	__be64	echo_rx;	/* REPLY: the request's rx (T2) */
	__u8	tx_src;		/* enum truth_wire_tsrc of tx */
	__u8	echo_tx_src;
	__u8	echo_rx_src;
	__u8	reserved[5];	/* zero */
};

/* Written by the receiving host; not covered by the MAC. */
struct truth_wire_rx {
	__be64	rx;		/* this datagram's receive time */
	__u8	rx_src;		/* enum truth_wire_tsrc */
	__u8	reserved[7];
};

/*
 * The fast path: truth.ko registers kfuncs for BPF_PROG_TYPE_SCHED_CLS that
 * bpf/truth.bpf.c calls from tc ingress and egress (Documentation/
 * fastpath.md).  Each takes the program's context and the UDP port the
 * agents use, and returns what the program should do with the packet:
 *
 *   int truth_kf_ack(struct __sk_buff *skb, __u32 port);      ingress
 *   int truth_kf_observe(struct __sk_buff *skb, __u32 port);  ingress
 *   int truth_kf_stamp(struct __sk_buff *skb, __u32 port);    egress
 */
enum truth_fp_verdict {
	TRUTH_FP_PASS,		/* let it through (possibly stamped) */
	TRUTH_FP_CONSUME,	/* counted in the kernel: TC_ACT_SHOT */
	TRUTH_FP_DROP,		/* bad MAC or replay: TC_ACT_SHOT */
	/* truth_kf_ack only: an intact datagram of another type, not
	 * counted; the program calls truth_kf_observe for it
	 */
	TRUTH_FP_NOT_ACK,
};

#endif /* _UAPI_LINUX_TRUTH_H */
