/*
 * ulog_codec: the exact wire codec between the kernel's dm-log-userspace client and cmlogd.
 *
 * Owns: decoding a received connector datagram into a host-order struct ulog_msg and the
 * verdict for it, and encoding the two reply shapes the kernel accepts
 * (kernel-protocol.md s2 "Reply"): the full reply, matched by req.seq, and the ack-only
 * reply (cn_msg.len 0), matched by cn_msg.seq with a positive errno in cn_msg.ack.
 *
 * Invariants kept (kernel-protocol.md s14):
 *   - external bytes are only read through wire.h cursors (decode, don't cast); the payload is
 *     copied into a zeroed, NUL-terminated buffer (s14.22);
 *   - the request type is masked with 0xFF and must be 1..17 (s14.1);
 *   - a full reply echoes req.seq, carries a negative errno and data_size 0 on error (s14.2,
 *     s14.3), never exceeds the kernel's capacity for the type (s14.4, s14.9) and, on
 *     success, carries exactly the payload the type needs (s14.5);
 *   - EAGAIN is only ever sent ack-only (s14.19): the encoder refuses a full EAGAIN reply.
 * Pure: no I/O, no clock, no logging.
 */
#include <errno.h>
#include <string.h>

#include "wire.h"
#include "daemon/ulog_codec.h"

#define ALIGN4(x) (((uint64_t)(x) + 3u) & ~(uint64_t)3u)

static const char *const reason_text[ULOG_R_COUNT] = {
	[ULOG_R_NONE] = "ok",
	[ULOG_R_SHORT] = "datagram too short",
	[ULOG_R_NLMSG_TYPE] = "nlmsg_type is not NLMSG_DONE",
	[ULOG_R_FOREIGN] = "foreign connector id",
	[ULOG_R_NLMSG_LEN] = "nlmsg_len does not match the bytes received",
	[ULOG_R_CN_LEN] = "cn_msg.len does not match nlmsg_len",
	[ULOG_R_SIZE_MISMATCH] = "cn_msg.len != 160 + data_size",
	[ULOG_R_DATA_TOO_BIG] = "data_size above 332",
	[ULOG_R_BAD_TYPE] = "request type not in 1..17",
	[ULOG_R_BAD_VERSION] = "request version 0",
	[ULOG_R_UUID] = "uuid not NUL-terminated",
	[ULOG_R_PAYLOAD] = "payload size wrong for the request type",
};

const char *ulog_reason_str(enum ulog_reason r)
{
	if ((unsigned)r >= ULOG_R_COUNT)
		return "unknown reason";
	return reason_text[r];
}

static const char *const type_text[ULOG_TYPE_MAX + 1] = {
	[ULOG_CTR] = "CTR",
	[ULOG_DTR] = "DTR",
	[ULOG_PRESUSPEND] = "PRESUSPEND",
	[ULOG_POSTSUSPEND] = "POSTSUSPEND",
	[ULOG_RESUME] = "RESUME",
	[ULOG_GET_REGION_SIZE] = "GET_REGION_SIZE",
	[ULOG_IS_CLEAN] = "IS_CLEAN",
	[ULOG_IN_SYNC] = "IN_SYNC",
	[ULOG_FLUSH] = "FLUSH",
	[ULOG_MARK_REGION] = "MARK_REGION",
	[ULOG_CLEAR_REGION] = "CLEAR_REGION",
	[ULOG_GET_RESYNC_WORK] = "GET_RESYNC_WORK",
	[ULOG_SET_REGION_SYNC] = "SET_REGION_SYNC",
	[ULOG_GET_SYNC_COUNT] = "GET_SYNC_COUNT",
	[ULOG_STATUS_INFO] = "STATUS_INFO",
	[ULOG_STATUS_TABLE] = "STATUS_TABLE",
	[ULOG_IS_REMOTE_RECOVERING] = "IS_REMOTE_RECOVERING",
};

const char *ulog_type_str(uint32_t type)
{
	if (type < ULOG_TYPE_MIN || type > ULOG_TYPE_MAX)
		return "UNKNOWN";
	return type_text[type];
}

/* Request payload sizes the kernel sends (kernel-protocol.md s4). */
static bool payload_size_ok(uint32_t type, uint32_t n)
{
	switch (type) {
	case ULOG_DTR:
	case ULOG_PRESUSPEND:
	case ULOG_POSTSUSPEND:
	case ULOG_RESUME:
	case ULOG_GET_REGION_SIZE:
	case ULOG_GET_RESYNC_WORK:
	case ULOG_GET_SYNC_COUNT:
	case ULOG_STATUS_INFO:
	case ULOG_STATUS_TABLE:
		return n == 0;
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
		return false;
	}
}

static enum ulog_verdict verdict(enum ulog_verdict v, enum ulog_reason why, int e, int *err,
				 enum ulog_reason *reason)
{
	if (err)
		*err = e;
	if (reason)
		*reason = why;
	return v;
}

enum ulog_verdict ulog_decode(const void *buf, size_t len, uint32_t src_portid,
			      struct ulog_msg *msg, int *err, enum ulog_reason *reason)
{
	struct wire_rd rd;
	uint32_t nlmsg_len, nl_pid, cn_idx, cn_val, cn_ack, raw_type;
	uint16_t nl_type, nl_flags, cn_len, cn_flags;
	uint8_t uuid[ULOG_UUID_LEN];
	uint64_t want;

	memset(msg, 0, sizeof(*msg));
	msg->src_portid = src_portid;
	if (!buf || len < ULOG_REQ_OFF)
		return verdict(ULOG_DROP, ULOG_R_SHORT, 0, err, reason);

	wire_rd_init(&rd, buf, len);
	wire_get_h32(&rd, &nlmsg_len);
	wire_get_h16(&rd, &nl_type);
	wire_get_h16(&rd, &nl_flags);
	wire_get_h32(&rd, &msg->nl_seq);
	wire_get_h32(&rd, &nl_pid);
	wire_get_h32(&rd, &cn_idx);
	wire_get_h32(&rd, &cn_val);
	wire_get_h32(&rd, &msg->cn_seq);
	wire_get_h32(&rd, &cn_ack);
	wire_get_h16(&rd, &cn_len);
	wire_get_h16(&rd, &cn_flags);
	if (rd.err) /* cannot happen: len >= 36 was checked */
		return verdict(ULOG_DROP, ULOG_R_SHORT, 0, err, reason);

	/* Other connector users (proc events, ...) share the protocol: not ours, silently. */
	if (cn_idx != ULOG_CN_IDX || cn_val != ULOG_CN_VAL)
		return verdict(ULOG_DROP, ULOG_R_FOREIGN, 0, err, reason);
	if (nl_type != ULOG_NLMSG_DONE)
		return verdict(ULOG_DROP, ULOG_R_NLMSG_TYPE, 0, err, reason);

	/*
	 * From here cn_msg.seq is ours to answer. The kernel sends one message per datagram and
	 * the receive path pads it to 4 bytes; anything else is a corrupt frame: ack EAGAIN so
	 * the kernel resends immediately with a new seq.
	 */
	if (nlmsg_len < ULOG_REQ_OFF || nlmsg_len > len || len > ALIGN4(nlmsg_len))
		return verdict(ULOG_ACK_EAGAIN, ULOG_R_NLMSG_LEN, 0, err, reason);
	want = (uint64_t)ULOG_REQ_OFF + cn_len;
	if (want != nlmsg_len && ALIGN4(want) != nlmsg_len) /* old kernels: NLMSG_SPACE */
		return verdict(ULOG_ACK_EAGAIN, ULOG_R_CN_LEN, 0, err, reason);
	if (cn_len < ULOG_REQUEST_SIZE)
		return verdict(ULOG_ACK_EAGAIN, ULOG_R_CN_LEN, 0, err, reason);

	wire_get_h64(&rd, &msg->luid);
	wire_get_copy(&rd, uuid, sizeof(uuid));
	wire_skip(&rd, 3); /* padding */
	wire_get_h32(&rd, &msg->version);
	wire_get_h32(&rd, (uint32_t *)&msg->error);
	wire_get_h32(&rd, &msg->seq);
	wire_get_h32(&rd, &raw_type);
	wire_get_h32(&rd, &msg->data_size);
	if (rd.err) /* cannot happen: nlmsg_len >= 36 + 160 and len >= nlmsg_len */
		return verdict(ULOG_ACK_EAGAIN, ULOG_R_CN_LEN, 0, err, reason);
	msg->type = raw_type & ULOG_REQUEST_MASK;
	memcpy(msg->uuid, uuid, sizeof(uuid));
	msg->uuid[ULOG_UUID_LEN - 1] = '\0'; /* printable even when the check below fails */

	if ((uint64_t)cn_len != (uint64_t)ULOG_REQUEST_SIZE + msg->data_size) {
		msg->data_size = 0;
		return verdict(ULOG_ACK_EAGAIN, ULOG_R_SIZE_MISMATCH, 0, err, reason);
	}

	/* The frame is intact: req.seq can be answered with a full error reply. */
	if (msg->data_size > ULOG_MAX_PAYLOAD) {
		msg->data_size = 0;
		return verdict(ULOG_REPLY_ERROR, ULOG_R_DATA_TOO_BIG, -EINVAL, err, reason);
	}
	if (!wire_get_copy(&rd, msg->data, msg->data_size)) { /* cannot happen, see above */
		msg->data_size = 0;
		return verdict(ULOG_ACK_EAGAIN, ULOG_R_CN_LEN, 0, err, reason);
	}
	if (msg->type < ULOG_TYPE_MIN || msg->type > ULOG_TYPE_MAX)
		return verdict(ULOG_REPLY_ERROR, ULOG_R_BAD_TYPE, -EINVAL, err, reason);
	if (msg->version < 1)
		return verdict(ULOG_REPLY_ERROR, ULOG_R_BAD_VERSION, -EINVAL, err, reason);
	if (!memchr(uuid, '\0', sizeof(uuid)))
		return verdict(ULOG_REPLY_ERROR, ULOG_R_UUID, -EINVAL, err, reason);
	if (!payload_size_ok(msg->type, msg->data_size))
		return verdict(ULOG_REPLY_ERROR, ULOG_R_PAYLOAD, -EINVAL, err, reason);
	return verdict(ULOG_OK, ULOG_R_NONE, 0, err, reason);
}

bool ulog_is_reconnect_ctr(const struct ulog_msg *msg)
{
	return msg->type == ULOG_CTR && msg->data_size > 0 && msg->data_size <= ULOG_MAX_PAYLOAD &&
	       msg->data[msg->data_size - 1] == '\0';
}

size_t ulog_reply_capacity(const struct ulog_msg *msg)
{
	switch (msg->type) {
	case ULOG_CTR:
		/* v1 kernels gave the CTR no buffer; the reconnect CTR never has one. */
		if (msg->version < 2 || ulog_is_reconnect_ctr(msg))
			return 0;
		return ULOG_CAP_CTR;
	case ULOG_GET_REGION_SIZE:
		return ULOG_CAP_GET_REGION_SIZE;
	case ULOG_IS_CLEAN:
		return ULOG_CAP_IS_CLEAN;
	case ULOG_IN_SYNC:
		return ULOG_CAP_IN_SYNC;
	case ULOG_GET_RESYNC_WORK:
		return ULOG_CAP_GET_RESYNC_WORK;
	case ULOG_GET_SYNC_COUNT:
		return ULOG_CAP_GET_SYNC_COUNT;
	case ULOG_STATUS_INFO:
	case ULOG_STATUS_TABLE:
		return ULOG_CAP_STATUS;
	case ULOG_IS_REMOTE_RECOVERING:
		return ULOG_CAP_IS_REMOTE_RECOVERING;
	default:
		return 0;
	}
}

size_t ulog_region_count(const struct ulog_msg *msg)
{
	if (msg->data_size > ULOG_MAX_PAYLOAD)
		return 0;
	return msg->data_size / 8;
}

bool ulog_get_u64(const struct ulog_msg *msg, size_t i, uint64_t *v)
{
	if (i >= ulog_region_count(msg))
		return false;
	memcpy(v, msg->data + i * 8, sizeof(*v));
	return true;
}

size_t ulog_get_regions(const struct ulog_msg *msg, uint64_t *out, size_t max)
{
	size_t n = ulog_region_count(msg), i;

	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
		memcpy(&out[i], msg->data + i * 8, sizeof(out[i]));
	return n;
}

static bool s64_is_bool(const void *p)
{
	int64_t v;

	memcpy(&v, p, sizeof(v));
	return v == 0 || v == 1;
}

/* A non-empty C string whose only NUL is its last byte. */
static bool is_exact_string(const void *data, size_t len)
{
	const char *nul;

	if (len == 0)
		return false;
	nul = memchr(data, '\0', len);
	return nul == (const char *)data + len - 1;
}

/* What a success reply to @req must carry (kernel-protocol.md s4, s14.5). */
static bool success_payload_ok(const struct ulog_msg *req, const void *data, size_t len)
{
	size_t cap = ulog_reply_capacity(req);

	if (len > cap)
		return false;
	if (len && !data)
		return false;
	switch (req->type) {
	case ULOG_CTR:
		return len == 0 || is_exact_string(data, len);
	case ULOG_GET_REGION_SIZE:
	case ULOG_GET_SYNC_COUNT:
		return len == 8;
	case ULOG_IS_CLEAN:
	case ULOG_IN_SYNC:
		return len == 8 && s64_is_bool(data);
	case ULOG_GET_RESYNC_WORK:
	case ULOG_IS_REMOTE_RECOVERING:
		return len == 16 && s64_is_bool(data);
	case ULOG_STATUS_INFO:
	case ULOG_STATUS_TABLE:
		return is_exact_string(data, len);
	default:
		return len == 0;
	}
}

static bool known_type(uint32_t type)
{
	return type >= ULOG_TYPE_MIN && type <= ULOG_TYPE_MAX;
}

static void put_headers(struct wire_wr *w, uint32_t nlmsg_len, uint32_t nl_seq, uint32_t cn_seq,
			uint32_t ack, uint16_t cn_len)
{
	wire_put_h32(w, nlmsg_len);
	wire_put_h16(w, ULOG_NLMSG_DONE);
	wire_put_h16(w, 0); /* flags: not checked by the connector core */
	wire_put_h32(w, nl_seq);
	wire_put_h32(w, 0); /* nlmsg_pid: not checked */
	wire_put_h32(w, ULOG_CN_IDX);
	wire_put_h32(w, ULOG_CN_VAL);
	wire_put_h32(w, cn_seq);
	wire_put_h32(w, ack);
	wire_put_h16(w, cn_len);
	wire_put_h16(w, 0);
}

int ulog_encode_reply(void *buf, size_t cap, const struct ulog_msg *req, int error,
		      const void *data, size_t len)
{
	struct wire_wr w;
	size_t total;

	if (!buf || !req || error > 0 || error < -4095 || error == -EAGAIN)
		return -EINVAL;
	if (error == 0 && !known_type(req->type))
		return -EINVAL; /* an error reply to a bad type is fine (s14.1) */
	if (error != 0)
		len = 0; /* s14.3: data_size 0 on error, whatever the caller passed */
	else if (!success_payload_ok(req, data, len))
		return -EINVAL;
	total = ULOG_DATA_OFF + len;
	if (cap < total)
		return -ENOSPC;

	wire_wr_init(&w, buf, cap);
	put_headers(&w, (uint32_t)total, req->seq, req->cn_seq, 0,
		    (uint16_t)(ULOG_REQUEST_SIZE + len));
	wire_put_h64(&w, req->luid);
	wire_put_bytes(&w, req->uuid, ULOG_UUID_LEN);
	wire_put_zero(&w, 3);
	wire_put_h32(&w, req->version);
	wire_put_h32(&w, (uint32_t)error);
	wire_put_h32(&w, req->seq);
	wire_put_h32(&w, req->type);
	wire_put_h32(&w, (uint32_t)len);
	if (len)
		wire_put_bytes(&w, data, len);
	if (w.err || w.off != total)
		return -ENOSPC;
	return (int)total;
}

int ulog_encode_ack(void *buf, size_t cap, const struct ulog_msg *req, int pos_errno)
{
	struct wire_wr w;

	if (!buf || !req || pos_errno < 0 || pos_errno > 4095)
		return -EINVAL;
	/* ack 0 = success with no data: only for types whose success carries none. */
	if (pos_errno == 0 && (!known_type(req->type) || req->type == ULOG_STATUS_INFO ||
			       req->type == ULOG_STATUS_TABLE ||
			       (req->type != ULOG_CTR && ulog_reply_capacity(req) > 0)))
		return -EINVAL;
	if (cap < ULOG_REQ_OFF)
		return -ENOSPC;
	wire_wr_init(&w, buf, cap);
	put_headers(&w, ULOG_REQ_OFF, req->cn_seq, req->cn_seq, (uint32_t)pos_errno, 0);
	if (w.err)
		return -ENOSPC;
	return ULOG_REQ_OFF;
}

int ulog_encode_reply_u64(void *buf, size_t cap, const struct ulog_msg *req, uint64_t v)
{
	return ulog_encode_reply(buf, cap, req, 0, &v, sizeof(v));
}

int ulog_encode_reply_s64(void *buf, size_t cap, const struct ulog_msg *req, int64_t v)
{
	return ulog_encode_reply(buf, cap, req, 0, &v, sizeof(v));
}

int ulog_encode_reply_pair(void *buf, size_t cap, const struct ulog_msg *req, int64_t a, uint64_t b)
{
	uint8_t d[16];

	memcpy(d, &a, 8);
	memcpy(d + 8, &b, 8);
	return ulog_encode_reply(buf, cap, req, 0, d, sizeof(d));
}

int ulog_encode_reply_str(void *buf, size_t cap, const struct ulog_msg *req, const char *s)
{
	if (!s)
		return -EINVAL;
	return ulog_encode_reply(buf, cap, req, 0, s, strlen(s) + 1);
}
