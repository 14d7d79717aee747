/*
 * peers_wire.h: messages of the daemon-wide CPG group "cmlog!daemon" (daemon/peers.c).
 *
 * Every cmlogd joins that group at start. It carries only operator traffic, never log state:
 *
 *   header (24 bytes, little-endian)
 *     pw_magic   le32  PEERS_MAGIC ("CMDP")
 *     pw_version le16  PEERS_WIRE_VERSION
 *     pw_type    le16  enum peers_msg_type
 *     pw_sender  le32  node id of the sender (must equal the CPG-delivered one)
 *     pw_asker   le32  QUERY/REPLY: node id of the node that asked; ANNOUNCE: 0
 *     pw_id      le64  QUERY/REPLY: the asker's query id; ANNOUNCE: 0
 *   ANNOUNCE body: protocol_max le32, n_logs le32                       (8 bytes)
 *   QUERY body:    none
 *   REPLY body:    flags le32 (bit 0: status too large, text omitted), len le32,
 *                  len bytes of compact JSON text (the sender's `cmlogctl status --json`
 *                  object, no NUL), 0 <= len <= PEERS_JSON_MAX
 *
 * A decoder accepts a message only when every byte is accounted for; an unknown type or a
 * newer version is refused (-EPROTONOSUPPORT), anything else malformed is -EBADMSG. Header
 * only and libc only, so the unit test needs nothing else.
 */
#ifndef CMLOG_PEERS_WIRE_H
#define CMLOG_PEERS_WIRE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"

#define PEERS_MAGIC	   0x50444d43u /* "CMDP" as little-endian bytes */
#define PEERS_WIRE_VERSION 1u
#define PEERS_HDR_LEN	   24u
/** Largest status text carried in one REPLY (well under CPG's 1 MiB message limit). */
#define PEERS_JSON_MAX	      (256u * 1024u)
#define PEERS_REPLY_TOO_LARGE 0x1u
#define PEERS_MSG_MAX	      (PEERS_HDR_LEN + 8u + PEERS_JSON_MAX)

enum peers_msg_type {
	PEERS_ANNOUNCE = 1, /* after every confchg: what this daemon speaks */
	PEERS_QUERY = 2,    /* status --cluster: everybody answer */
	PEERS_REPLY = 3,    /* one node's status, for the asker */
};

/** A decoded message; json points into the decoded buffer (not NUL-terminated). */
struct peers_msg {
	uint16_t type;
	uint32_t sender;
	uint32_t asker;
	uint64_t id;
	uint32_t protocol_max; /* ANNOUNCE */
	uint32_t n_logs;       /* ANNOUNCE */
	uint32_t flags;	       /* REPLY */
	const char *json;      /* REPLY */
	uint32_t json_len;     /* REPLY */
};

/** Encode @m into @buf. Returns the length, -EINVAL (bad type or text) or -ENOSPC. */
static inline int peers_msg_encode(void *buf, size_t cap, const struct peers_msg *m)
{
	struct wire_wr w;

	if (m->type < PEERS_ANNOUNCE || m->type > PEERS_REPLY)
		return -EINVAL;
	if (m->type == PEERS_REPLY && (m->json_len > PEERS_JSON_MAX || (m->json_len && !m->json) ||
				       (m->json_len && memchr(m->json, '\0', m->json_len))))
		return -EINVAL;
	wire_wr_init(&w, buf, cap);
	wire_put_le32(&w, PEERS_MAGIC);
	wire_put_le16(&w, PEERS_WIRE_VERSION);
	wire_put_le16(&w, m->type);
	wire_put_le32(&w, m->sender);
	wire_put_le32(&w, m->asker);
	wire_put_le64(&w, m->id);
	if (m->type == PEERS_ANNOUNCE) {
		wire_put_le32(&w, m->protocol_max);
		wire_put_le32(&w, m->n_logs);
	} else if (m->type == PEERS_REPLY) {
		wire_put_le32(&w, m->flags);
		wire_put_le32(&w, m->json_len);
		if (m->json_len)
			wire_put_bytes(&w, m->json, m->json_len);
	}
	return w.err ? -ENOSPC : (int)w.off;
}

/** Decode @len bytes at @buf into @m. Returns 0, -EBADMSG or -EPROTONOSUPPORT. */
static inline int peers_msg_decode(const void *buf, size_t len, struct peers_msg *m)
{
	struct wire_rd r;
	uint32_t magic;
	uint16_t version;
	const uint8_t *j;

	memset(m, 0, sizeof(*m));
	wire_rd_init(&r, buf, len);
	if (!wire_get_le32(&r, &magic) || !wire_get_le16(&r, &version) ||
	    !wire_get_le16(&r, &m->type) || !wire_get_le32(&r, &m->sender) ||
	    !wire_get_le32(&r, &m->asker) || !wire_get_le64(&r, &m->id))
		return -EBADMSG;
	if (magic != PEERS_MAGIC)
		return -EBADMSG;
	if (version != PEERS_WIRE_VERSION)
		return -EPROTONOSUPPORT;
	switch (m->type) {
	case PEERS_ANNOUNCE:
		if (!wire_get_le32(&r, &m->protocol_max) || !wire_get_le32(&r, &m->n_logs))
			return -EBADMSG;
		break;
	case PEERS_QUERY:
		break;
	case PEERS_REPLY:
		if (!wire_get_le32(&r, &m->flags) || !wire_get_le32(&r, &m->json_len))
			return -EBADMSG;
		if (m->json_len > PEERS_JSON_MAX || m->json_len != wire_rd_left(&r))
			return -EBADMSG;
		j = wire_get_bytes(&r, m->json_len);
		if (m->json_len && (!j || memchr(j, '\0', m->json_len)))
			return -EBADMSG;
		m->json = (const char *)j;
		break;
	default:
		return -EPROTONOSUPPORT;
	}
	if (!wire_rd_done(&r))
		return -EBADMSG;
	return 0;
}

#endif /* CMLOG_PEERS_WIRE_H */
