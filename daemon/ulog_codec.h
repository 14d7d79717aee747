/*
 * ulog_codec: decode kernel dm-log-userspace requests and encode the two reply shapes.
 * Pure: no I/O, no clock, no logging. See ulog_codec.c for the rules it enforces.
 */
#ifndef CMLOG_DAEMON_ULOG_CODEC_H
#define CMLOG_DAEMON_ULOG_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm_ulog_wire.h"

/** What to do with a received datagram. */
enum ulog_verdict {
	/** A well-formed request: *msg is complete; hand it to the daemon. */
	ULOG_OK = 0,
	/**
	 * The frame is intact (req.seq is trustworthy) but the request is invalid (bad type,
	 * version, uuid, payload size): answer with a full reply, error = *err (negative errno,
	 * -EINVAL), data_size 0. *msg holds the header fields (seq, cn_seq, type, luid, uuid).
	 */
	ULOG_REPLY_ERROR,
	/**
	 * Our connector id but a corrupt frame (lengths disagree, truncated): only cn_msg.seq is
	 * trustworthy. Answer ack-only with EAGAIN (cn_msg.len 0, ack = EAGAIN) so the kernel
	 * resends at once. *msg->cn_seq is set, type is 0.
	 */
	ULOG_ACK_EAGAIN,
	/** Not for us (foreign connector traffic, not NLMSG_DONE) or too short to answer. */
	ULOG_DROP,
};

/** Why a datagram was not ULOG_OK (for counters and rate-limited log lines). */
enum ulog_reason {
	ULOG_R_NONE = 0,
	ULOG_R_SHORT,	      /**< shorter than nlmsghdr + cn_msg */
	ULOG_R_NLMSG_TYPE,    /**< nlmsg_type is not NLMSG_DONE */
	ULOG_R_FOREIGN,	      /**< connector id is not {7,1}: someone else's traffic */
	ULOG_R_NLMSG_LEN,     /**< nlmsg_len disagrees with the bytes received */
	ULOG_R_CN_LEN,	      /**< cn_msg.len disagrees with nlmsg_len, or < 160 */
	ULOG_R_SIZE_MISMATCH, /**< cn_msg.len != 160 + data_size */
	ULOG_R_DATA_TOO_BIG,  /**< data_size > 332 */
	ULOG_R_BAD_TYPE,      /**< type & 0xFF not in 1..17 */
	ULOG_R_BAD_VERSION,   /**< version 0 */
	ULOG_R_UUID,	      /**< uuid not NUL-terminated within 129 bytes */
	ULOG_R_PAYLOAD,	      /**< payload size wrong for the type */
	ULOG_R_COUNT
};

/** Fixed text for a reason ("cn_msg.len mismatch", ...). */
const char *ulog_reason_str(enum ulog_reason r);
/** Request type name ("CTR", "IN_SYNC", ...) or "UNKNOWN". */
const char *ulog_type_str(uint32_t type);

/**
 * Decode one received datagram of @len bytes from netlink port @src_portid into @msg
 * (always fully initialised). @err gets the negative errno for ULOG_REPLY_ERROR (else 0),
 * @reason why the verdict is not ULOG_OK (either may be NULL).
 *
 * Checks, in order (kernel-protocol.md s2, s13, s14): length >= 36; nlmsg_type NLMSG_DONE;
 * connector id {7,1}; nlmsg_len <= received <= NLMSG_ALIGN(nlmsg_len) (receive pads to 4);
 * nlmsg_len == 36 + cn_msg.len, or NLMSG_ALIGN of it (old kernels); cn_msg.len >= 160;
 * cn_msg.len == 160 + data_size; then (frame intact) data_size <= 332, type & 0xFF in 1..17,
 * version >= 1, uuid NUL-terminated, per-type payload size:
 *   none: DTR PRESUSPEND POSTSUSPEND RESUME GET_REGION_SIZE GET_RESYNC_WORK GET_SYNC_COUNT
 *         STATUS_INFO STATUS_TABLE;
 *   8: IS_CLEAN IN_SYNC IS_REMOTE_RECOVERING; 16: SET_REGION_SYNC;
 *   8..256, multiple of 8: MARK_REGION CLEAR_REGION; 0..256, multiple of 8: FLUSH;
 *   1..332: CTR.
 * Region bounds are not checked here (the daemon knows region_count).
 */
enum ulog_verdict ulog_decode(const void *buf, size_t len, uint32_t src_portid,
			      struct ulog_msg *msg, int *err, enum ulog_reason *reason);

/** True for a CTR whose payload ends in NUL: the reconnect CTR (capacity 0). */
bool ulog_is_reconnect_ctr(const struct ulog_msg *msg);

/**
 * Largest success payload the kernel accepts for @msg (kernel-protocol.md s4): 0 for the
 * reconnect CTR and for CTR of protocol version 1, ULOG_CAP_* otherwise.
 */
size_t ulog_reply_capacity(const struct ulog_msg *msg);

/** Number of u64 regions in a MARK/CLEAR/FLUSH payload (data_size / 8). */
size_t ulog_region_count(const struct ulog_msg *msg);
/**
 * The @i-th u64 of the payload (regions, IN_SYNC's region, SET_REGION_SYNC's region at 0 and
 * in_sync at 1), copied with memcpy (the payload is only 4-byte aligned on the wire).
 * Returns false when the payload is shorter.
 */
bool ulog_get_u64(const struct ulog_msg *msg, size_t i, uint64_t *v);
/** Copy up to @max regions into @out; returns how many (ulog_region_count, capped). */
size_t ulog_get_regions(const struct ulog_msg *msg, uint64_t *out, size_t max);

/**
 * Encode a full reply to @req into @buf (@cap bytes, >= ULOG_MAX_REPLY is always enough):
 * nlmsghdr{NLMSG_LENGTH(20 + 160 + n), NLMSG_DONE, 0, req seq, 0}, cn_msg{7, 1, cn_seq, 0,
 * 160 + n}, the request header echoed with @error and data_size n, then @data.
 * @error is 0 or a negative errno; on error the data is not sent (n = 0).
 *
 * Refuses (returns -EINVAL, nothing usable in @buf) what the kernel would turn into a
 * failure, so a daemon bug cannot send it:
 *   - @error > 0 (the kernel treats a positive error as success / "work found");
 *   - @error == -EAGAIN (full EAGAIN replies shrink the capacity of the resend: use
 *     ulog_encode_ack(EAGAIN));
 *   - success with @len above ulog_reply_capacity (kernel: -ENOSPC), including any device
 *     name for a reconnect CTR or a version 1 CTR;
 *   - success with a payload that is not exactly what the type needs: 8 bytes for
 *     GET_REGION_SIZE/IS_CLEAN/IN_SYNC/GET_SYNC_COUNT, 16 for GET_RESYNC_WORK and
 *     IS_REMOTE_RECOVERING, IS_CLEAN/IN_SYNC value 0 or 1, GET_RESYNC_WORK flag 0 or 1,
 *     STATUS_* a non-empty string whose only NUL is its last byte, CTR empty or such a
 *     string, 0 bytes for every other type.
 * -ENOSPC when @cap is too small. Returns the datagram length on success.
 */
int ulog_encode_reply(void *buf, size_t cap, const struct ulog_msg *req, int error,
		      const void *data, size_t len);

/**
 * Encode an ack-only reply: nlmsghdr + cn_msg{7, 1, seq = req->cn_seq, ack = @pos_errno,
 * len 0}. @pos_errno is 0 or a positive errno (the kernel uses -ack). An ack of 0 is refused
 * (-EINVAL) for requests whose success needs data (it would leave the kernel reading
 * uninitialised bytes) and for requests of unknown type. Returns the length (36) or -errno.
 */
int ulog_encode_ack(void *buf, size_t cap, const struct ulog_msg *req, int pos_errno);

/* Typed success replies (error 0). */
int ulog_encode_reply_u64(void *buf, size_t cap, const struct ulog_msg *req, uint64_t v);
int ulog_encode_reply_s64(void *buf, size_t cap, const struct ulog_msg *req, int64_t v);
/** {s64 a; u64 b}: GET_RESYNC_WORK {found, region}, IS_REMOTE_RECOVERING {recovering, hint}. */
int ulog_encode_reply_pair(void *buf, size_t cap, const struct ulog_msg *req, int64_t a,
			   uint64_t b);
/** A C string sent including its NUL (STATUS_INFO, STATUS_TABLE, CTR device name). */
int ulog_encode_reply_str(void *buf, size_t cap, const struct ulog_msg *req, const char *s);

#endif /* CMLOG_DAEMON_ULOG_CODEC_H */
