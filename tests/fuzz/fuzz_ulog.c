/*
 * fuzz_ulog: the kernel request decoder and the reply encoders (daemon/ulog_codec.h).
 *
 * Every datagram on the connector socket goes through ulog_decode first, from the kernel or
 * from any local process in group 7 (kernel-protocol.md s13), so no byte string may crash it
 * or make it read past the datagram. Input: one control byte (bit 0: the sender is the
 * kernel, port 0, else a user port), then the datagram, decoded from a heap copy of exactly
 * its length. The target checks:
 *   - the verdict, reason and error agree (ULOG_OK <=> no reason; REPLY_ERROR <=> error < 0);
 *   - an accepted request keeps the documented limits (type 1..17, version >= 1, data_size
 *     <= 332 and the per-type payload size, uuid and data NUL-terminated, data zero-filled)
 *     and its fields are the bytes at the documented offsets;
 *   - for every verdict that is answered, the reply encoders produce frames the kernel
 *     accepts (lengths consistent, seq echoed, error as given, data_size 0 on error) and
 *     refuse what the kernel would turn into a failure (positive error, full EAGAIN,
 *     payloads above the capacity, IN_SYNC values other than 0/1), never writing past @cap;
 *   - the same datagram fed to the link (daemon/kern.h kern_feed, no socket, replies
 *     captured) is answered exactly once (checklist item 6): a well-formed request reaches
 *     the request callback once and the link sends nothing itself, REPLY_ERROR gets one
 *     full reply with that error, ACK_EAGAIN one ack-only EAGAIN, DROP nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/kern.h"
#include "daemon/ulog_codec.h"
#include "tests/fuzz/fuzz_common.h"

static uint32_t host32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t host16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The payload sizes ulog_decode documents for each type. */
static bool payload_ok(uint32_t type, uint32_t n)
{
	switch (type) {
	case ULOG_IS_CLEAN:
	case ULOG_IN_SYNC:
	case ULOG_IS_REMOTE_RECOVERING:
		return n == 8;
	case ULOG_SET_REGION_SYNC:
		return n == 16;
	case ULOG_MARK_REGION:
	case ULOG_CLEAR_REGION:
		return n >= 8 && n <= ULOG_MAX_BATCH_PAYLOAD && n % 8 == 0;
	case ULOG_FLUSH:
		return n <= ULOG_MAX_BATCH_PAYLOAD && n % 8 == 0;
	case ULOG_CTR:
		return n >= 1 && n <= ULOG_MAX_PAYLOAD;
	default:
		return n == 0;
	}
}

/* A full reply the encoder produced: what the kernel's cn_ulog_callback will read. */
static void check_full_reply(const uint8_t *out, int len, const struct ulog_msg *m, int error,
			     size_t n)
{
	FUZZ_CHECK(len == ULOG_DATA_OFF + (int)n);
	FUZZ_CHECK(host32(out + ULOG_OFF_NLMSG_LEN) == (uint32_t)len);
	FUZZ_CHECK(host16(out + ULOG_OFF_NLMSG_TYPE) == ULOG_NLMSG_DONE);
	FUZZ_CHECK(host32(out + ULOG_OFF_CN_IDX) == ULOG_CN_IDX);
	FUZZ_CHECK(host32(out + ULOG_OFF_CN_VAL) == ULOG_CN_VAL);
	FUZZ_CHECK(host16(out + ULOG_OFF_CN_LEN) == ULOG_REQUEST_SIZE + n);
	FUZZ_CHECK(host32(out + ULOG_OFF_SEQ) == m->seq);
	FUZZ_CHECK((int32_t)host32(out + ULOG_OFF_ERROR) == error);
	FUZZ_CHECK(host32(out + ULOG_OFF_DATA_SIZE) == n);
	FUZZ_CHECK(error == 0 || n == 0);
}

static void check_encoders(const struct ulog_msg *m)
{
	static uint8_t out[ULOG_MAX_REPLY];
	static const uint8_t too_much[ULOG_CAP_STATUS + 1];
	uint8_t *tight;
	size_t cap = ulog_reply_capacity(m);
	int len;

	FUZZ_CHECK(cap <= ULOG_CAP_STATUS);
	/* An error reply is always possible, never with data, never positive, never EAGAIN. */
	len = ulog_encode_reply(out, sizeof(out), m, -EINVAL, NULL, 0);
	check_full_reply(out, len, m, -EINVAL, 0);
	FUZZ_CHECK(ulog_encode_reply(out, sizeof(out), m, EINVAL, NULL, 0) == -EINVAL);
	FUZZ_CHECK(ulog_encode_reply(out, sizeof(out), m, -EAGAIN, NULL, 0) == -EINVAL);
	/* Success with more than the kernel's capacity would become -ENOSPC there. */
	FUZZ_CHECK(ulog_encode_reply(out, sizeof(out), m, 0, too_much, cap + 1) == -EINVAL);
	/* The ack-only EAGAIN (resend at once) is always possible. */
	FUZZ_CHECK(ulog_encode_ack(out, sizeof(out), m, EAGAIN) == ULOG_REQ_OFF);
	FUZZ_CHECK(host32(out + ULOG_OFF_CN_SEQ) == m->cn_seq);
	FUZZ_CHECK(host32(out + ULOG_OFF_CN_ACK) == EAGAIN);
	FUZZ_CHECK(host16(out + ULOG_OFF_CN_LEN) == 0);

	/* Too small a buffer: -ENOSPC, and nothing written past it (heap, exact size). */
	tight = malloc(ULOG_DATA_OFF - 1);
	FUZZ_CHECK(tight != NULL);
	FUZZ_CHECK(ulog_encode_reply(tight, ULOG_DATA_OFF - 1, m, -EINVAL, NULL, 0) == -ENOSPC);
	FUZZ_CHECK(ulog_encode_ack(tight, ULOG_REQ_OFF - 1, m, EAGAIN) == -ENOSPC);
	free(tight);

	switch (m->type) {
	case ULOG_IN_SYNC:
	case ULOG_IS_CLEAN:
		/* Exactly 0 or 1: dm_rh_get_state tests == 1 (invariants.md rule 3). */
		len = ulog_encode_reply_s64(out, sizeof(out), m, 1);
		check_full_reply(out, len, m, 0, 8);
		FUZZ_CHECK(ulog_encode_reply_s64(out, sizeof(out), m, 2) == -EINVAL);
		FUZZ_CHECK(ulog_encode_reply_s64(out, sizeof(out), m, -1) == -EINVAL);
		break;
	case ULOG_GET_SYNC_COUNT:
	case ULOG_GET_REGION_SIZE:
		len = ulog_encode_reply_u64(out, sizeof(out), m, UINT64_MAX);
		check_full_reply(out, len, m, 0, 8);
		break;
	case ULOG_GET_RESYNC_WORK:
		len = ulog_encode_reply_pair(out, sizeof(out), m, 1, 12345);
		check_full_reply(out, len, m, 0, 16);
		FUZZ_CHECK(ulog_encode_reply_pair(out, sizeof(out), m, 2, 0) == -EINVAL);
		/* Success without the 16 bytes leaves the kernel reading stack garbage. */
		FUZZ_CHECK(ulog_encode_ack(out, sizeof(out), m, 0) == -EINVAL);
		break;
	case ULOG_IS_REMOTE_RECOVERING:
		len = ulog_encode_reply_pair(out, sizeof(out), m, 0, 7);
		check_full_reply(out, len, m, 0, 16);
		break;
	case ULOG_STATUS_INFO:
	case ULOG_STATUS_TABLE:
		len = ulog_encode_reply_str(out, sizeof(out), m, "1 clustered-core");
		check_full_reply(out, len, m, 0, sizeof("1 clustered-core"));
		break;
	case ULOG_CTR:
		if (ulog_is_reconnect_ctr(m))
			FUZZ_CHECK(ulog_encode_reply_str(out, sizeof(out), m, "253:3") == -EINVAL);
		len = ulog_encode_reply(out, sizeof(out), m, 0, NULL, 0);
		check_full_reply(out, len, m, 0, 0);
		break;
	case ULOG_MARK_REGION:
	case ULOG_CLEAR_REGION:
	case ULOG_FLUSH:
	case ULOG_SET_REGION_SYNC:
	case ULOG_DTR:
	case ULOG_PRESUSPEND:
	case ULOG_POSTSUSPEND:
	case ULOG_RESUME:
		/* No data: capacity 0, data_size reset to 0 in the reply (checklist item 4). */
		FUZZ_CHECK(cap == 0);
		len = ulog_encode_reply(out, sizeof(out), m, 0, NULL, 0);
		check_full_reply(out, len, m, 0, 0);
		FUZZ_CHECK(ulog_encode_ack(out, sizeof(out), m, 0) == ULOG_REQ_OFF);
		break;
	default:
		FUZZ_CHECK(false);
	}
}

static void check_accepted(const struct ulog_msg *m, const uint8_t *buf, size_t len)
{
	uint64_t regions[ULOG_MAX_BATCH + 1], v, luid;
	size_t n;

	FUZZ_CHECK(len >= ULOG_DATA_OFF + (size_t)m->data_size);
	FUZZ_CHECK(m->type >= ULOG_TYPE_MIN && m->type <= ULOG_TYPE_MAX);
	FUZZ_CHECK(m->type == (host32(buf + ULOG_OFF_TYPE) & ULOG_REQUEST_MASK));
	FUZZ_CHECK(m->version >= 1 && m->version == host32(buf + ULOG_OFF_VERSION));
	FUZZ_CHECK(m->seq == host32(buf + ULOG_OFF_SEQ));
	FUZZ_CHECK(m->cn_seq == host32(buf + ULOG_OFF_CN_SEQ));
	FUZZ_CHECK(m->data_size == host32(buf + ULOG_OFF_DATA_SIZE));
	memcpy(&luid, buf + ULOG_OFF_LUID, sizeof(luid));
	FUZZ_CHECK(m->luid == luid);
	FUZZ_CHECK(m->data_size <= ULOG_MAX_PAYLOAD);
	FUZZ_CHECK(payload_ok(m->type, m->data_size));
	FUZZ_CHECK(memchr(m->uuid, 0, sizeof(m->uuid)) != NULL);
	FUZZ_CHECK(memcmp(m->data, buf + ULOG_DATA_OFF, m->data_size) == 0);
	for (size_t i = m->data_size; i < sizeof(m->data); i++)
		FUZZ_CHECK(m->data[i] == 0);

	n = ulog_region_count(m);
	FUZZ_CHECK(n == m->data_size / 8);
	FUZZ_CHECK(ulog_get_regions(m, regions, ULOG_MAX_BATCH + 1) == (n < 33 ? n : 33));
	FUZZ_CHECK(!ulog_get_u64(m, m->data_size / 8, &v));
	if (m->data_size >= 8) {
		FUZZ_CHECK(ulog_get_u64(m, 0, &v));
		FUZZ_CHECK(memcmp(&v, m->data, 8) == 0);
	}
	if (m->type == ULOG_CTR)
		FUZZ_CHECK(ulog_is_reconnect_ctr(m) == (m->data[m->data_size - 1] == 0));
	FUZZ_CHECK(ulog_type_str(m->type) != NULL);
}

/* What the link did with one datagram. */
struct link_seen {
	unsigned requests, sends;
	struct ulog_msg req;
	uint8_t sent[ULOG_MAX_REPLY];
	size_t sent_len;
	uint32_t sent_port;
};

static struct link_seen seen;

static void on_request(void *ctx, const struct ulog_msg *req)
{
	seen.requests++;
	seen.req = *req;
}

static int on_send(void *ctx, uint32_t portid, const void *buf, size_t len)
{
	seen.sends++;
	seen.sent_port = portid;
	seen.sent_len = len < sizeof(seen.sent) ? len : sizeof(seen.sent);
	memcpy(seen.sent, buf, seen.sent_len);
	return 0;
}

/* One link for the whole run (opening one per input would only measure setup). */
static struct kern *test_link(void)
{
	static struct kern *k;
	struct kern_cfg cfg = {.userspace_peer = true, .no_socket = true, .send = on_send};

	if (!k)
		FUZZ_CHECK(kern_open(&k, &cfg, on_request, NULL) == 0);
	return k;
}

static void check_link(const uint8_t *buf, size_t len, uint32_t port, enum ulog_verdict verdict,
		       const struct ulog_msg *m, int err)
{
	memset(&seen, 0, sizeof(seen));
	kern_feed(test_link(), buf, len, port, false);
	switch (verdict) {
	case ULOG_OK:
		FUZZ_CHECK(seen.requests == 1 && seen.sends == 0);
		FUZZ_CHECK(seen.req.seq == m->seq && seen.req.type == m->type);
		FUZZ_CHECK(seen.req.data_size == m->data_size);
		FUZZ_CHECK(memcmp(seen.req.data, m->data, sizeof(m->data)) == 0);
		break;
	case ULOG_REPLY_ERROR:
		FUZZ_CHECK(seen.requests == 0 && seen.sends == 1 && seen.sent_port == port);
		check_full_reply(seen.sent, (int)seen.sent_len, m, err, 0);
		break;
	case ULOG_ACK_EAGAIN:
		FUZZ_CHECK(seen.requests == 0 && seen.sends == 1 && seen.sent_port == port);
		FUZZ_CHECK(seen.sent_len == ULOG_REQ_OFF);
		FUZZ_CHECK(host32(seen.sent + ULOG_OFF_CN_SEQ) == m->cn_seq);
		FUZZ_CHECK(host32(seen.sent + ULOG_OFF_CN_ACK) == EAGAIN);
		break;
	case ULOG_DROP:
		FUZZ_CHECK(seen.requests == 0 && seen.sends == 0);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ulog_msg msg;
	static uint8_t out[ULOG_MAX_REPLY];
	struct fuzz_in in;
	enum ulog_reason reason = ULOG_R_COUNT;
	enum ulog_verdict verdict;
	uint32_t port;
	const uint8_t *body;
	uint8_t *copy;
	size_t len;
	int err = 1;

	fin_init(&in, data, size);
	port = (fin_u8(&in) & 1) ? 0 : 4242;
	body = fin_bytes(&in, in.n, &len);
	copy = malloc(len ? len : 1);
	FUZZ_CHECK(copy != NULL);
	if (len)
		memcpy(copy, body, len);
	memset(&msg, 0xa5, sizeof(msg));
	verdict = ulog_decode(copy, len, port, &msg, &err, &reason);
	FUZZ_CHECK(reason < ULOG_R_COUNT);
	FUZZ_CHECK(ulog_reason_str(reason) != NULL);
	FUZZ_CHECK(msg.src_portid == port);
	switch (verdict) {
	case ULOG_OK:
		FUZZ_CHECK(reason == ULOG_R_NONE && err == 0);
		check_accepted(&msg, copy, len);
		check_encoders(&msg);
		break;
	case ULOG_REPLY_ERROR:
		FUZZ_CHECK(reason != ULOG_R_NONE && err < 0);
		/* The frame is intact: seq and the connector fields are the datagram's. */
		FUZZ_CHECK(len >= ULOG_DATA_OFF);
		FUZZ_CHECK(msg.seq == host32(copy + ULOG_OFF_SEQ));
		FUZZ_CHECK(msg.cn_seq == host32(copy + ULOG_OFF_CN_SEQ));
		FUZZ_CHECK(memchr(msg.uuid, 0, sizeof(msg.uuid)) != NULL);
		/* The error reply the daemon sends for it. */
		check_full_reply(out, ulog_encode_reply(out, sizeof(out), &msg, err, NULL, 0), &msg,
				 err, 0);
		break;
	case ULOG_ACK_EAGAIN:
		FUZZ_CHECK(reason != ULOG_R_NONE && err == 0);
		FUZZ_CHECK(len >= ULOG_REQ_OFF);
		FUZZ_CHECK(msg.cn_seq == host32(copy + ULOG_OFF_CN_SEQ));
		FUZZ_CHECK(ulog_encode_ack(out, sizeof(out), &msg, EAGAIN) == ULOG_REQ_OFF);
		FUZZ_CHECK(host32(out + ULOG_OFF_CN_SEQ) == msg.cn_seq);
		break;
	case ULOG_DROP:
		FUZZ_CHECK(reason != ULOG_R_NONE && err == 0);
		break;
	default:
		FUZZ_CHECK(false);
	}
	check_link(copy, len, port, verdict, &msg, err);
	free(copy);
	return 0;
}
