/* SPDX-License-Identifier: GPL-2.0 */
/*
 * truth_wire: encoding and decoding of the datagrams agents exchange
 * (include/uapi/linux/truth.h, "The wire"), with the keyed BLAKE2s MAC from
 * libb2 -- the same function truth.ko computes with lib/crypto.
 *
 * A decoded message points into the buffer it was decoded from; it is valid
 * as long as that buffer is.
 */
#ifndef TRUTH_AGENT_WIRE_H
#define TRUTH_AGENT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/truth.h>
#include <truth/wire.h>

/* One vector-clock entry, host order. */
struct truth_wire_vce {
	uint32_t node;		/* node id */
	uint64_t counter;	/* events of that node seen */
};

/* Clock-sync probe fields, host order (PROBE and PROBE_REPLY only). */
struct truth_wire_probe_fields {
	uint64_t id;		/* client's probe id, echoed */
	uint64_t tx;		/* this datagram's transmit time, ns */
	uint64_t echo_tx;	/* REPLY: T1 */
	uint64_t echo_rx;	/* REPLY: T2 */
	uint8_t tx_src;		/* enum truth_wire_tsrc */
	uint8_t echo_tx_src;
	uint8_t echo_rx_src;
	uint64_t rx;		/* receive trailer: this datagram's rx time */
	uint8_t rx_src;
};

/* A datagram, host order. */
struct truth_wire_msg {
	uint8_t type;		/* enum truth_wire_type */
	uint8_t flags;		/* enum truth_wire_flag */
	uint8_t vc_count;	/* entries used in vc[] */
	uint32_t sender;	/* sending node id */
	uint32_t receiver;	/* node id it is for */
	uint32_t group;		/* group id */
	uint64_t term;		/* sender's term */
	uint64_t index;		/* by type, see the UAPI header */
	uint64_t seq;		/* replay-protection sequence number */
	uint64_t lamport;	/* sender's Lamport time */
	uint64_t hlc;		/* sender's HLC */
	struct truth_wire_vce vc[TRUTH_WIRE_VCLOCK_MAX];
	const uint8_t *payload;	/* payload bytes (not for PROBE types) */
	uint16_t payload_len;	/* their length */
	struct truth_wire_probe_fields probe;	/* PROBE types */
};

/*
 * Encodes @m into @buf (at most @cap bytes) with the MAC under @key.  For
 * PROBE types the payload is built from m->probe and the receive trailer is
 * zero.  Returns the datagram's length, or -EINVAL for a message that breaks
 * a header rule (checked with the same code the receiver uses) or -EMSGSIZE
 * if it does not fit.
 */
int truth_wire_encode(uint8_t *buf, size_t cap, const struct truth_wire_msg *m,
		      const uint8_t key[TRUTH_WIRE_KEY_LEN]);

/*
 * Decodes and authenticates the datagram @buf of @len bytes.  Returns
 * TRUTH_WIRE_OK and fills @m, or the first rule broken (and @m is
 * unspecified).  The replay window is the caller's: see truth_replay_accept().
 */
enum truth_wire_err truth_wire_decode(const uint8_t *buf, size_t len,
				      const uint8_t key[TRUTH_WIRE_KEY_LEN],
				      struct truth_wire_msg *m);

/* The MAC over the first @auth_len bytes of @buf, its mac field as zero. */
void truth_wire_mac(const uint8_t *buf, size_t auth_len,
		    const uint8_t key[TRUTH_WIRE_KEY_LEN],
		    uint8_t out[TRUTH_WIRE_MAC_LEN]);

/* Recomputes and stores the MAC of an encoded datagram in place. */
void truth_wire_reseal(uint8_t *buf, size_t len,
		       const uint8_t key[TRUTH_WIRE_KEY_LEN]);

/* Writes the receive trailer of an encoded PROBE datagram (not MACed). */
void truth_wire_set_rx(uint8_t *buf, size_t len, uint64_t rx, uint8_t rx_src);

/* A short English reason for @err, e.g. "bad MAC". */
const char *truth_wire_strerror(enum truth_wire_err err);

/*
 * The first sequence number a sender may use: above both @last_used (what it
 * persisted or 0) and @wall_ns (its wall clock), so a restart never reuses a
 * number a receiver's window has seen.
 */
uint64_t truth_wire_seq_start(uint64_t last_used, uint64_t wall_ns);

/* Parses 64 hex digits into a key; 0 or -EINVAL. */
int truth_wire_key_parse(const char *hex, uint8_t key[TRUTH_WIRE_KEY_LEN]);

#endif /* TRUTH_AGENT_WIRE_H */
