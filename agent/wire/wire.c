// SPDX-License-Identifier: GPL-2.0
/*
 * Datagram encoding, decoding and MAC.  The header rules live in
 * include/truth/wire.h so that truth.ko refuses exactly what truthd refuses.
 */
#include <blake2.h>
#include <errno.h>
#include <string.h>

#include "util/hex.h"
#include "wire/wire.h"

#define VC_LEN	sizeof(struct truth_wire_vc)
#define PROBE_LEN sizeof(struct truth_wire_probe)

void truth_wire_mac(const uint8_t *buf, size_t auth_len,
		    const uint8_t key[TRUTH_WIRE_KEY_LEN],
		    uint8_t out[TRUTH_WIRE_MAC_LEN])
{
	static const uint8_t zero[TRUTH_WIRE_MAC_LEN];
	blake2s_state s;

	/* outlen 16 is a parameter of BLAKE2s, not a truncation (RFC 7693) */
	blake2s_init_key(&s, TRUTH_WIRE_MAC_LEN, key, TRUTH_WIRE_KEY_LEN);
	blake2s_update(&s, buf, TRUTH_WIRE_MAC_OFFSET);
	blake2s_update(&s, zero, TRUTH_WIRE_MAC_LEN);
	blake2s_update(&s, buf + TRUTH_WIRE_HDR_LEN,
		       auth_len - TRUTH_WIRE_HDR_LEN);
	blake2s_final(&s, out, TRUTH_WIRE_MAC_LEN);
}

static size_t auth_len_of(const uint8_t *buf)
{
	return truth_wire_auth_len(buf[7], truth_wire_get16(buf + 20));
}

void truth_wire_reseal(uint8_t *buf, size_t len,
		       const uint8_t key[TRUTH_WIRE_KEY_LEN])
{
	(void)len;
	truth_wire_mac(buf, auth_len_of(buf), key, buf + TRUTH_WIRE_MAC_OFFSET);
}

void truth_wire_set_rx(uint8_t *buf, size_t len, uint64_t rx, uint8_t rx_src)
{
	uint8_t *t = buf + len - sizeof(struct truth_wire_rx);

	memset(t, 0, sizeof(struct truth_wire_rx));
	truth_wire_put64(t, rx);
	t[8] = rx_src;
}

static void put_probe(uint8_t *p, const struct truth_wire_probe_fields *f)
{
	memset(p, 0, PROBE_LEN);
	truth_wire_put64(p, f->id);
	truth_wire_put64(p + 8, f->tx);
	truth_wire_put64(p + 16, f->echo_tx);
	truth_wire_put64(p + 24, f->echo_rx);
	p[32] = f->tx_src;
	p[33] = f->echo_tx_src;
	p[34] = f->echo_rx_src;
}

int truth_wire_encode(uint8_t *buf, size_t cap, const struct truth_wire_msg *m,
		      const uint8_t key[TRUTH_WIRE_KEY_LEN])
{
	uint16_t payload_len = m->payload_len;
	uint32_t total, i;
	uint8_t *p;

	if (m->vc_count > TRUTH_WIRE_VCLOCK_MAX)
		return -EINVAL;
	if (truth_wire_has_rx(m->type))
		payload_len = PROBE_LEN;
	total = truth_wire_total_len(m->type, m->vc_count, payload_len);
	if (total > TRUTH_WIRE_DGRAM_MAX || total > cap)
		return -EMSGSIZE;

	memset(buf, 0, TRUTH_WIRE_HDR_LEN);
	truth_wire_put32(buf, TRUTH_WIRE_MAGIC);
	buf[4] = TRUTH_WIRE_VERSION;
	buf[5] = m->type;
	buf[6] = m->flags;
	buf[7] = m->vc_count;
	truth_wire_put32(buf + 8, m->sender);
	truth_wire_put32(buf + 12, m->receiver);
	truth_wire_put32(buf + 16, m->group);
	truth_wire_put16(buf + 20, payload_len);
	truth_wire_put64(buf + 24, m->term);
	truth_wire_put64(buf + 32, m->index);
	truth_wire_put64(buf + 40, m->seq);
	truth_wire_put64(buf + 48, m->lamport);
	truth_wire_put64(buf + 56, m->hlc);

	p = buf + TRUTH_WIRE_HDR_LEN;
	for (i = 0; i < m->vc_count; i++, p += VC_LEN) {
		truth_wire_put32(p, m->vc[i].node);
		truth_wire_put32(p + 4, 0);
		truth_wire_put64(p + 8, m->vc[i].counter);
	}
	if (truth_wire_has_rx(m->type)) {
		put_probe(p, &m->probe);
		memset(p + PROBE_LEN, 0, sizeof(struct truth_wire_rx));
	} else if (payload_len) {
		memcpy(p, m->payload, payload_len);
	}

	/* refuse to send what a receiver would refuse */
	if (truth_wire_check(buf, total) != TRUTH_WIRE_OK ||
	    truth_wire_check_vc(buf + TRUTH_WIRE_HDR_LEN, m->vc_count) !=
		    TRUTH_WIRE_OK)
		return -EINVAL;
	truth_wire_mac(buf, truth_wire_auth_len(m->vc_count, payload_len), key,
		       buf + TRUTH_WIRE_MAC_OFFSET);
	return (int)total;
}

/* Constant time, so a forger learns nothing from how long a refusal takes. */
static int mac_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;
	int i;

	for (i = 0; i < TRUTH_WIRE_MAC_LEN; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

enum truth_wire_err truth_wire_decode(const uint8_t *buf, size_t len,
				      const uint8_t key[TRUTH_WIRE_KEY_LEN],
				      struct truth_wire_msg *m)
{
	uint8_t mac[TRUTH_WIRE_MAC_LEN];
	enum truth_wire_err err;
	const uint8_t *p;
	uint32_t i;

	if (len > TRUTH_WIRE_DGRAM_MAX)
		return TRUTH_WIRE_E_LENGTH;
	err = truth_wire_check(buf, (uint32_t)len);
	if (err != TRUTH_WIRE_OK)
		return err;
	truth_wire_mac(buf, auth_len_of(buf), key, mac);
	if (!mac_equal(mac, buf + TRUTH_WIRE_MAC_OFFSET))
		return TRUTH_WIRE_E_MAC;
	err = truth_wire_check_vc(buf + TRUTH_WIRE_HDR_LEN, buf[7]);
	if (err != TRUTH_WIRE_OK)
		return err;

	memset(m, 0, sizeof(*m));
	m->type = buf[5];
	m->flags = buf[6];
	m->vc_count = buf[7];
	m->sender = truth_wire_get32(buf + 8);
	m->receiver = truth_wire_get32(buf + 12);
	m->group = truth_wire_get32(buf + 16);
	m->payload_len = truth_wire_get16(buf + 20);
	m->term = truth_wire_get64(buf + 24);
	m->index = truth_wire_get64(buf + 32);
	m->seq = truth_wire_get64(buf + 40);
	m->lamport = truth_wire_get64(buf + 48);
	m->hlc = truth_wire_get64(buf + 56);
	p = buf + TRUTH_WIRE_HDR_LEN;
	for (i = 0; i < m->vc_count; i++, p += VC_LEN) {
		m->vc[i].node = truth_wire_get32(p);
		m->vc[i].counter = truth_wire_get64(p + 8);
	}
	m->payload = p;
	if (truth_wire_has_rx(m->type)) {
		if (p[35] | p[36] | p[37] | p[38] | p[39])
			return TRUTH_WIRE_E_RESERVED;
		m->probe.id = truth_wire_get64(p);
		m->probe.tx = truth_wire_get64(p + 8);
		m->probe.echo_tx = truth_wire_get64(p + 16);
		m->probe.echo_rx = truth_wire_get64(p + 24);
		m->probe.tx_src = p[32];
		m->probe.echo_tx_src = p[33];
		m->probe.echo_rx_src = p[34];
		p += PROBE_LEN;
		m->probe.rx = truth_wire_get64(p);
		m->probe.rx_src = p[8];
	}
	return TRUTH_WIRE_OK;
}

const char *truth_wire_strerror(enum truth_wire_err err)
{
	static const char *const why[__TRUTH_WIRE_E_MAX] = {
		[TRUTH_WIRE_OK] = "ok",
		[TRUTH_WIRE_E_SHORT] = "shorter than the header",
		[TRUTH_WIRE_E_MAGIC] = "bad magic",
		[TRUTH_WIRE_E_VERSION] = "unknown wire version",
		[TRUTH_WIRE_E_TYPE] = "unknown type",
		[TRUTH_WIRE_E_FLAGS] = "unknown flag bit",
		[TRUTH_WIRE_E_VCCOUNT] = "too many vector-clock entries",
		[TRUTH_WIRE_E_LENGTH] = "length does not match the header",
		[TRUTH_WIRE_E_RESERVED] = "reserved field not zero",
		[TRUTH_WIRE_E_PAYLOAD] = "payload length wrong for the type",
		[TRUTH_WIRE_E_VCLOCK] = "malformed vector clock",
		[TRUTH_WIRE_E_MAC] = "bad MAC",
		[TRUTH_WIRE_E_REPLAY] = "replayed or too old",
	};

	if ((unsigned int)err >= __TRUTH_WIRE_E_MAX)
		return "unknown error";
	return why[err];
}

uint64_t truth_wire_seq_start(uint64_t last_used, uint64_t wall_ns)
{
	uint64_t base = last_used > wall_ns ? last_used : wall_ns;

	return base + 1;
}

int truth_wire_key_parse(const char *hex, uint8_t key[TRUTH_WIRE_KEY_LEN])
{
	if (strlen(hex) != 2 * TRUTH_WIRE_KEY_LEN)
		return -EINVAL;
	return truth_hex_decode(hex, key, TRUTH_WIRE_KEY_LEN);
}
