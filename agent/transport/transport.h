/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truth transport: Raft messages between agents over UDP.
 *
 * Each struct raft_msg becomes one or more datagrams of the wire format in
 * include/uapi/linux/truth.h ("The wire"); Documentation/wire.md gives
 * the payloads byte by byte.  Every datagram received is checked in this
 * order, and a refusal only bumps a counter (struct truth_tp_stats):
 * size, header rules and MAC (agent/wire), receiver == self, group, sender
 * is a peer, replay window per sender, payload layout.  Nothing that fails
 * a check reaches Raft.
 *
 * Big APPENDs are split into several datagrams of at most
 * TRUTH_TP_PAYLOAD_TARGET payload bytes, each a valid AppendEntries on its
 * own (its prev_index/prev_term the previous piece's last entry).  An
 * entry too big for one datagram goes alone, as an APPEND message cut into
 * fragments (Documentation/wire.md "Fragments") that the receiver puts
 * back together in a bounded per-peer reassembly slot (frag.c) before Raft
 * sees it; a lost fragment loses the message, and Raft resends it.
 */
#ifndef _TRUTH_TRANSPORT_H
#define _TRUTH_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "raft/raft.h"
#include "wire/wire.h"

#define TRUTH_TP_MAX_PEERS	16
/* payload bytes aimed for per datagram (loopback MTU is 64 KiB) */
#define TRUTH_TP_PAYLOAD_TARGET	60000
#define TRUTH_TP_RAFT_FIXED	104	/* fixed part of a RAFT payload */
#define TRUTH_TP_APPEND_FIXED	32	/* fixed part of an APPEND payload */
#define TRUTH_TP_ENTRY_HDR	32	/* per entry in an APPEND payload */
/* largest entry payload that still fits one datagram unfragmented */
#define TRUTH_TP_MAX_ENTRY	(TRUTH_TP_PAYLOAD_TARGET - TRUTH_TP_APPEND_FIXED - TRUTH_TP_ENTRY_HDR)
/* fragments: header after the APPEND fixed part, message bytes per fragment */
#define TRUTH_TP_FRAG_HDR	16
#define TRUTH_TP_FRAG_CHUNK	(TRUTH_TP_PAYLOAD_TARGET - TRUTH_TP_APPEND_FIXED - TRUTH_TP_FRAG_HDR)
#define TRUTH_TP_FRAG_SLOTS	2	/* messages reassembled at once per peer */
#define TRUTH_TP_FRAG_TIMEOUT_US 3000000 /* an incomplete message is given up */
/* default and hard ceiling of a fragmented message's entry bytes (msg_max) */
#define TRUTH_TP_MSG_DEFAULT	((1u << 20) + 65536 + TRUTH_TP_ENTRY_HDR)
#define TRUTH_TP_MSG_HARD_MAX	(64u << 20)
/* snapshot bytes per InstallSnapshot chunk (room left for the conf) */
#define TRUTH_TP_SNAP_CHUNK	59000
#define TRUTH_TP_RX_BATCH	16	/* datagrams per recvmmsg */
#define TRUTH_TP_ADVERT_MAX	63	/* sender's client address in RAFT payloads */
/* corked sends: datagrams and bytes queued before a sendmmsg */
#define TRUTH_TP_TX_QUEUE	32
#define TRUTH_TP_TX_BYTES	(4 * TRUTH_WIRE_DGRAM_MAX)

/* Counters of what came and went; refusals by reason. */
struct truth_tp_stats {
	uint64_t rx;			/* datagrams read */
	uint64_t rx_ok;			/* delivered to Raft */
	uint64_t rx_oversize;		/* longer than TRUTH_WIRE_DGRAM_MAX */
	uint64_t rx_malformed;		/* header rule broken */
	uint64_t rx_bad_mac;		/* MAC mismatch */
	uint64_t rx_wrong_receiver;	/* for another node id */
	uint64_t rx_wrong_group;	/* for another group */
	uint64_t rx_unknown_sender;	/* sender is not a peer */
	uint64_t rx_replay;		/* seq seen or below the window */
	uint64_t rx_bad_payload;	/* payload does not parse */
	uint64_t rx_probe;		/* clock probes (handed to the hook, if any) */
	uint64_t rx_forward;		/* FORWARD datagrams (not used yet) */
	uint64_t tx;			/* datagrams sent */
	uint64_t tx_errors;		/* sendto failed */
	uint64_t tx_batches;		/* sendmmsg calls of corked datagrams */
	uint64_t tx_split;		/* messages sent as more than one datagram */
	uint64_t tx_too_big;		/* an entry larger than msg_max: not sent */
	/* fragments (Documentation/wire.md "Fragments") */
	uint64_t rx_frag;		/* fragments taken into a reassembly slot */
	uint64_t rx_frag_msgs;		/* messages put back together and delivered */
	uint64_t rx_frag_dup;		/* a fragment already held: ignored */
	uint64_t rx_frag_oversize;	/* a message longer than msg_max: refused */
	uint64_t rx_frag_mismatch;	/* disagrees with its message's other fragments */
	uint64_t rx_frag_dropped;	/* incomplete messages given up (timeout, evicted) */
	uint64_t tx_frag;		/* fragments sent */
	uint64_t tx_frag_msgs;		/* messages sent as fragments */
};

/* One message being put back together from its fragments. */
struct truth_tp_frag_slot {
	bool used;
	uint64_t msg_id;		/* sender's seq of fragment 0 */
	uint64_t term, index;		/* header fields, the same in each fragment */
	uint8_t fixed[TRUTH_TP_APPEND_FIXED];	/* APPEND fixed part, frag fields zeroed */
	uint32_t total;			/* bytes of the entries region */
	uint16_t frags, have;		/* fragments in all, fragments held */
	uint64_t start_us;		/* when the first one arrived (now_us) */
	uint8_t *buf;			/* fixed part + entries region */
	uint8_t *seen;			/* bitmap, one bit per fragment */
};

struct truth_tp_peer {
	uint32_t id;
	struct sockaddr_storage sa;
	socklen_t salen;
	struct truth_replay replay;	/* seqs seen from it */
	char client[TRUTH_TP_ADVERT_MAX + 1];	/* its client address, as it says */
	uint64_t rx, tx;
	uint64_t last_rx_us;		/* caller's clock when last heard */
	struct truth_tp_frag_slot frag[TRUTH_TP_FRAG_SLOTS];
};

/* One peer's APPENDs being merged: contiguous entries, one message. */
struct truth_tp_merge {
	struct raft_msg m;
	struct raft_entry *e;	/* shallow copies of the ready's entries */
	uint32_t cap;
	bool open;
};

struct truth_tp;
/* A checked message for Raft; m and its entries are valid during the call. */
typedef void (*truth_tp_deliver_fn)(void *ctx, const struct raft_msg *m);
/* A checked PROBE / PROBE_REPLY datagram (clock sync). */
typedef void (*truth_tp_probe_fn)(void *ctx, const struct truth_wire_msg *m,
				  const uint8_t *buf, size_t len);
/*
 * The node's HLC (include/truth/hlc.h): remote 0 is a send (returns the
 * stamp for the header), else a checked datagram's header HLC to merge.
 */
typedef uint64_t (*truth_tp_hlc_fn)(void *ctx, uint64_t remote);
/* Where an encoded datagram goes (sendto, or a test's capture). */
typedef int (*truth_tp_emit_fn)(struct truth_tp *t, struct truth_tp_peer *p,
				const uint8_t *buf, size_t len);

struct truth_tp {
	int fd;
	uint32_t self, group;
	uint8_t key[TRUTH_WIRE_KEY_LEN];
	uint64_t seq;			/* last seq used */
	uint64_t lamport;
	char advert[TRUTH_TP_ADVERT_MAX + 1];	/* our client address */
	uint32_t n_peers;
	struct truth_tp_peer peers[TRUTH_TP_MAX_PEERS];
	struct truth_tp_stats st;
	uint8_t *rxbuf, *txbuf;
	struct raft_entry *ents;	/* decode scratch */
	uint32_t ents_cap;
	truth_tp_emit_fn emit;
	truth_tp_probe_fn probe;
	void *probe_ctx;
	truth_tp_hlc_fn hlc;		/* NULL: headers carry HLC 0 */
	void *hlc_ctx;
	uint64_t now_us;		/* stamped on peers as last_rx_us */
	/*
	 * The kernel's receive time of the datagram being input (CLOCK_REALTIME
	 * ns, SO_TIMESTAMPING when the socket has it enabled) and its source
	 * (enum truth_wire_tsrc; NONE: no stamp); the probe hook reads them.
	 */
	int64_t rx_stamp;
	uint8_t rx_src;
	struct truth_tp_merge merge[TRUTH_TP_MAX_PEERS];
	/* truth_tp_cork(): encoded datagrams waiting for one sendmmsg */
	bool corked;
	uint8_t *qbuf;
	size_t q_used;
	uint32_t n_q;
	struct {
		struct truth_tp_peer *peer;
		size_t off;
		uint32_t len;
	} q[TRUTH_TP_TX_QUEUE];
	/*
	 * Longest entries region of a fragmented APPEND accepted or sent
	 * (TRUTH_TP_MSG_DEFAULT; truthd: max_value_bytes plus room for the key
	 * and the command); reassembly memory is at most
	 * peers x TRUTH_TP_FRAG_SLOTS x msg_max.
	 */
	uint32_t msg_max;
	uint32_t frag_busy;		/* reassembly slots in use, all peers */
	uint64_t frag_bytes;		/* bytes they hold (allocated) */
};

/* Set up (no socket yet); advert is this node's client address or "". */
int truth_tp_init(struct truth_tp *t, uint32_t self, uint32_t group,
		  const uint8_t key[TRUTH_WIRE_KEY_LEN], const char *advert);
void truth_tp_fini(struct truth_tp *t);
int truth_tp_add_peer(struct truth_tp *t, uint32_t id,
		      const struct sockaddr *sa, socklen_t salen);
struct truth_tp_peer *truth_tp_peer(struct truth_tp *t, uint32_t id);
/* Open the UDP socket bound to sa; 0 or -errno. */
int truth_tp_bind(struct truth_tp *t, const struct sockaddr *sa, socklen_t salen);

/* Send m to m->to as one or more datagrams; 0 or -errno (counted). */
int truth_tp_send(struct truth_tp *t, const struct raft_msg *m);
/*
 * Send a ready's messages in order, merging each peer's back-to-back
 * APPENDs of contiguous entries into one (fewer datagrams, one ack).
 */
int truth_tp_send_many(struct truth_tp *t, const struct raft_msg *msgs, uint32_t n);
/*
 * Cork: datagrams sent from now on are queued (copied) and leave together,
 * one sendmmsg per TRUTH_TP_TX_QUEUE of them, at truth_tp_uncork() (or
 * when the queue fills).  Order is kept.  Only the socket's own emit
 * queues; a test's capture emit sees every datagram at once.
 */
void truth_tp_cork(struct truth_tp *t);
void truth_tp_uncork(struct truth_tp *t);
void truth_tp_flush(struct truth_tp *t);
/* Read every datagram waiting on the socket; returns how many. */
int truth_tp_recv(struct truth_tp *t, truth_tp_deliver_fn fn, void *ctx);
/*
 * Check one received datagram and deliver what it carries.  Returns 0 if
 * delivered (or handed to the probe hook), else the stats field it was
 * counted in, as a short reason ("bad MAC", "replay", ...).
 */
const char *truth_tp_input(struct truth_tp *t, const uint8_t *buf, size_t len,
			   truth_tp_deliver_fn fn, void *ctx);
/*
 * Give up reassembly slots older than TRUTH_TP_FRAG_TIMEOUT_US at now_us
 * (counted in rx_frag_dropped); truth_tp_input() calls it too.
 */
void truth_tp_frag_expire(struct truth_tp *t, uint64_t now_us);

#endif /* _TRUTH_TRANSPORT_H */
