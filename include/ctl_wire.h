/*
 * ctl_wire.h: the control socket's request/response format (cmlogd <-> cmlogctl).
 *
 * Transport: libqb IPC (QB_IPC_SOCKET, an abstract socket named after the service, so
 * each network namespace has its own). libqb frames every message with its own header
 * (host order, local only). After it:
 *
 *   request  = qb_ipc_request_header {id = enum ctl_req_id, size = total bytes}
 *              cr_api    le32   CTL_API_VERSION of the client
 *              cr_arglen le32   0..CTL_ARG_MAX
 *              cr_arg    cr_arglen bytes of printable ASCII, no NUL (the uuid for SHOW)
 *   response = qb_ipc_response_header {id = request id, size = total, error = 0 or -errno}
 *              body: UTF-8 JSON text (no NUL), the object documented in cmlogctl(8); on an
 *              error it is {"api_version":1,"command":...,"error":"message"}.
 *
 * The API version is bumped when a request id or a documented JSON key changes meaning;
 * keys may be added without a bump. A daemon answers a request with a newer cr_api with
 * -EPROTONOSUPPORT.
 */
#ifndef CMLOG_CTL_WIRE_H
#define CMLOG_CTL_WIRE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <qb/qbipc_common.h>

#include "wire.h"

#define CTL_API_VERSION 1u
/** Default libqb IPC service name (cmlogd.conf ctl_service, cmlogctl -s). */
#define CTL_DEFAULT_SERVICE "cmlogd"
/** IPC buffer size both sides use: large enough for a dump of the whole flight recorder. */
#define CTL_MAX_MSG (4u * 1024u * 1024u)
/** Longest request argument (dm uuids are at most 128 characters). */
#define CTL_ARG_MAX 128u

enum ctl_req_id {
	CTL_REQ_STATUS = 1, /* daemon, corosync and every log */
	CTL_REQ_CLUSTER,    /* the same from every node (status --cluster) */
	CTL_REQ_SHOW,	    /* one log by uuid; -ENOENT when unknown */
	CTL_REQ_MEMBERS,    /* daemon-wide membership */
	CTL_REQ_DUMP,	    /* the flight recorder */
	CTL_REQ_VERSION,    /* daemon version and api version */
	CTL_REQ_MAX = CTL_REQ_VERSION,
};

/* libqb's headers are part of the framing; pin their layout so a libqb change is caught. */
_Static_assert(sizeof(struct qb_ipc_request_header) == 16, "qb request header size");
_Static_assert(offsetof(struct qb_ipc_request_header, size) == 8, "qb request size offset");
_Static_assert(sizeof(struct qb_ipc_response_header) == 24, "qb response header size");
_Static_assert(offsetof(struct qb_ipc_response_header, error) == 16, "qb response error offset");

#define CTL_REQ_FIXED  (sizeof(struct qb_ipc_request_header) + 8u)
#define CTL_REQ_MAXLEN (CTL_REQ_FIXED + CTL_ARG_MAX)
#define CTL_RESP_HDR   (sizeof(struct qb_ipc_response_header))

/** A decoded request, host order. */
struct ctl_req {
	uint32_t id;
	uint32_t api;
	uint32_t arglen;
	char arg[CTL_ARG_MAX + 1]; /* NUL-terminated copy */
};

/** True when @id names a request this build knows. */
static inline int ctl_req_id_valid(uint32_t id)
{
	return id >= CTL_REQ_STATUS && id <= CTL_REQ_MAX;
}

/**
 * Encode a request for @id with argument @arg (may be NULL) into @buf (@cap bytes,
 * 8-byte aligned). Returns the length, or -EINVAL (bad id or argument) / -ENOSPC.
 */
static inline int ctl_req_encode(void *buf, size_t cap, uint32_t id, const char *arg)
{
	struct wire_wr w;
	size_t alen = arg ? strlen(arg) : 0, i, len;
	int32_t h;

	if (!ctl_req_id_valid(id) || alen > CTL_ARG_MAX)
		return -EINVAL;
	for (i = 0; arg && i < alen; i++)
		if (arg[i] < 0x21 || arg[i] > 0x7e)
			return -EINVAL;
	len = CTL_REQ_FIXED + alen;
	if (cap < len)
		return -ENOSPC;
	wire_wr_init(&w, buf, cap);
	h = (int32_t)id;
	wire_put_bytes(&w, &h, sizeof(h));
	wire_put_zero(&w, 4);
	h = (int32_t)len;
	wire_put_bytes(&w, &h, sizeof(h));
	wire_put_zero(&w, 4);
	wire_put_le32(&w, CTL_API_VERSION);
	wire_put_le32(&w, (uint32_t)alen);
	if (alen)
		wire_put_bytes(&w, arg, alen);
	return w.err ? -ENOSPC : (int)len;
}

/**
 * Decode @len bytes at @buf into @r. Checks the framing size against @len, the argument
 * length against what is left, and that the argument is printable ASCII. Does not check
 * the id or api version (the server answers those with a specific error).
 * Returns 0 or -EBADMSG.
 */
static inline int ctl_req_decode(const void *buf, size_t len, struct ctl_req *r)
{
	struct wire_rd rd;
	uint32_t id, size, i;
	const uint8_t *a;

	wire_rd_init(&rd, buf, len);
	if (!wire_get_h32(&rd, &id) || !wire_skip(&rd, 4) || !wire_get_h32(&rd, &size) ||
	    !wire_skip(&rd, 4) || !wire_get_le32(&rd, &r->api) || !wire_get_le32(&rd, &r->arglen))
		return -EBADMSG;
	if (size != len || r->arglen > CTL_ARG_MAX || r->arglen != wire_rd_left(&rd))
		return -EBADMSG;
	a = wire_get_bytes(&rd, r->arglen);
	if (r->arglen && !a)
		return -EBADMSG;
	for (i = 0; i < r->arglen; i++)
		if (a[i] < 0x21 || a[i] > 0x7e)
			return -EBADMSG;
	if (r->arglen)
		memcpy(r->arg, a, r->arglen);
	r->arg[r->arglen] = '\0';
	r->id = id;
	return wire_rd_done(&rd) ? 0 : -EBADMSG;
}

#endif /* CMLOG_CTL_WIRE_H */
