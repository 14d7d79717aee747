/*
 * dm_ulog_wire.h: the kernel ABI of the dm userspace dirty log, as seen on the wire.
 *
 * One kernel->user datagram is exactly one netlink message:
 *   struct nlmsghdr (16) | struct cn_msg (20) | struct dm_ulog_request (160) | data (<= 332)
 * (kernel-protocol.md s2). This header mirrors the constants and offsets and proves them
 * against the real uapi structs with _Static_assert, so a layout change in
 * <linux/dm-log-userspace.h>, <linux/connector.h> or <linux/netlink.h> breaks the build
 * instead of the protocol. The codec (daemon/ulog_codec.c) never casts a received buffer to
 * these structs: it decodes with the byte offsets below into struct ulog_msg (host order).
 */
#ifndef CMLOG_INCLUDE_DM_ULOG_WIRE_H
#define CMLOG_INCLUDE_DM_ULOG_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/connector.h>
#include <linux/dm-log-userspace.h>
#include <linux/netlink.h>

/* ---- transport ------------------------------------------------------------------------- */

#define ULOG_NETLINK_CONNECTOR 11  /* NETLINK_CONNECTOR */
#define ULOG_SOL_NETLINK       270 /* SOL_NETLINK */
#define ULOG_CN_IDX	       7   /* CN_IDX_DM; also the multicast group number */
#define ULOG_CN_VAL	       1   /* CN_VAL_DM_USERSPACE_LOG */
#define ULOG_GROUP_MASK	       (1u << (ULOG_CN_IDX - 1)) /* nl_groups bit of group 7: 0x40 */
#define ULOG_NLMSG_DONE	       3 /* NLMSG_DONE: the kernel's cn_netlink_send message type */

/* ---- request types (request_type & DM_ULOG_REQUEST_MASK) ------------------------------- */

#define ULOG_CTR		  1
#define ULOG_DTR		  2
#define ULOG_PRESUSPEND		  3
#define ULOG_POSTSUSPEND	  4
#define ULOG_RESUME		  5
#define ULOG_GET_REGION_SIZE	  6
#define ULOG_IS_CLEAN		  7
#define ULOG_IN_SYNC		  8
#define ULOG_FLUSH		  9
#define ULOG_MARK_REGION	  10
#define ULOG_CLEAR_REGION	  11
#define ULOG_GET_RESYNC_WORK	  12
#define ULOG_SET_REGION_SYNC	  13
#define ULOG_GET_SYNC_COUNT	  14
#define ULOG_STATUS_INFO	  15
#define ULOG_STATUS_TABLE	  16
#define ULOG_IS_REMOTE_RECOVERING 17
#define ULOG_TYPE_MIN		  1
#define ULOG_TYPE_MAX		  17
#define ULOG_REQUEST_MASK	  0xFFu
#define ULOG_REQUEST_VERSION	  3

/* ---- sizes ------------------------------------------------------------------------------ */

#define ULOG_NLMSGHDR_SIZE 16
#define ULOG_CN_MSG_SIZE   20
#define ULOG_REQUEST_SIZE  160
#define ULOG_UUID_LEN	   129 /* DM_UUID_LEN, including the NUL */
#define ULOG_NAME_LEN	   128 /* DM_NAME_LEN */
/** Largest payload the kernel sends: DM_ULOG_PREALLOCED_SIZE 512 - 20 - 160. */
#define ULOG_MAX_PAYLOAD 332
/** Offset of the request struct / of its payload in a datagram. */
#define ULOG_REQ_OFF  (ULOG_NLMSGHDR_SIZE + ULOG_CN_MSG_SIZE) /* 36 */
#define ULOG_DATA_OFF (ULOG_REQ_OFF + ULOG_REQUEST_SIZE)      /* 196 */
/** Largest kernel->user datagram: 196 + 332. */
#define ULOG_MAX_DATAGRAM (ULOG_DATA_OFF + ULOG_MAX_PAYLOAD) /* 528 */
/** Regions per MARK/CLEAR/FLUSH request (MAX_FLUSH_GROUP_COUNT) and their payload bytes. */
#define ULOG_MAX_BATCH	       32
#define ULOG_MAX_BATCH_PAYLOAD (ULOG_MAX_BATCH * 8) /* 256 */

/* ---- reply capacities the kernel provides per type (kernel-protocol.md s4) --------------- */

/** CTR: an optional NUL-terminated device name, protocol version >= 2, initial CTR only. */
#define ULOG_CAP_CTR		      ULOG_NAME_LEN
#define ULOG_CAP_GET_REGION_SIZE      8
#define ULOG_CAP_IS_CLEAN	      8
#define ULOG_CAP_IN_SYNC	      8
#define ULOG_CAP_GET_RESYNC_WORK      16
#define ULOG_CAP_GET_SYNC_COUNT	      8
#define ULOG_CAP_IS_REMOTE_RECOVERING 16
/**
 * STATUS_INFO / STATUS_TABLE: the kernel offers the rest of the ioctl status buffer (unknown
 * to us, normally KiBs). We bound our own strings to this, which also bounds our datagrams.
 */
#define ULOG_CAP_STATUS 1024
/** Largest reply we ever send: 196 + ULOG_CAP_STATUS. */
#define ULOG_MAX_REPLY (ULOG_DATA_OFF + ULOG_CAP_STATUS)

/* ---- byte offsets inside a datagram ------------------------------------------------------ */

#define ULOG_OFF_NLMSG_LEN   0
#define ULOG_OFF_NLMSG_TYPE  4
#define ULOG_OFF_NLMSG_FLAGS 6
#define ULOG_OFF_NLMSG_SEQ   8
#define ULOG_OFF_NLMSG_PID   12
#define ULOG_OFF_CN_IDX	     16
#define ULOG_OFF_CN_VAL	     20
#define ULOG_OFF_CN_SEQ	     24
#define ULOG_OFF_CN_ACK	     28
#define ULOG_OFF_CN_LEN	     32
#define ULOG_OFF_CN_FLAGS    34
#define ULOG_OFF_LUID	     (ULOG_REQ_OFF + 0)	  /* 36 */
#define ULOG_OFF_UUID	     (ULOG_REQ_OFF + 8)	  /* 44 */
#define ULOG_OFF_PADDING     (ULOG_REQ_OFF + 137) /* 173 */
#define ULOG_OFF_VERSION     (ULOG_REQ_OFF + 140) /* 176 */
#define ULOG_OFF_ERROR	     (ULOG_REQ_OFF + 144) /* 180 */
#define ULOG_OFF_SEQ	     (ULOG_REQ_OFF + 148) /* 184 */
#define ULOG_OFF_TYPE	     (ULOG_REQ_OFF + 152) /* 188 */
#define ULOG_OFF_DATA_SIZE   (ULOG_REQ_OFF + 156) /* 192 */

/* ---- proofs against the real uapi structs ------------------------------------------------ */

_Static_assert(NETLINK_CONNECTOR == ULOG_NETLINK_CONNECTOR, "NETLINK_CONNECTOR");
_Static_assert(CN_IDX_DM == ULOG_CN_IDX, "CN_IDX_DM");
_Static_assert(CN_VAL_DM_USERSPACE_LOG == ULOG_CN_VAL, "CN_VAL_DM_USERSPACE_LOG");
_Static_assert(NLMSG_DONE == ULOG_NLMSG_DONE, "NLMSG_DONE");
_Static_assert(DM_ULOG_REQUEST_MASK == ULOG_REQUEST_MASK, "DM_ULOG_REQUEST_MASK");
_Static_assert(DM_ULOG_REQUEST_VERSION == ULOG_REQUEST_VERSION, "DM_ULOG_REQUEST_VERSION");
_Static_assert(DM_ULOG_CTR == ULOG_CTR && DM_ULOG_DTR == ULOG_DTR &&
		       DM_ULOG_PRESUSPEND == ULOG_PRESUSPEND &&
		       DM_ULOG_POSTSUSPEND == ULOG_POSTSUSPEND && DM_ULOG_RESUME == ULOG_RESUME &&
		       DM_ULOG_GET_REGION_SIZE == ULOG_GET_REGION_SIZE &&
		       DM_ULOG_IS_CLEAN == ULOG_IS_CLEAN && DM_ULOG_IN_SYNC == ULOG_IN_SYNC &&
		       DM_ULOG_FLUSH == ULOG_FLUSH && DM_ULOG_MARK_REGION == ULOG_MARK_REGION &&
		       DM_ULOG_CLEAR_REGION == ULOG_CLEAR_REGION &&
		       DM_ULOG_GET_RESYNC_WORK == ULOG_GET_RESYNC_WORK &&
		       DM_ULOG_SET_REGION_SYNC == ULOG_SET_REGION_SYNC &&
		       DM_ULOG_GET_SYNC_COUNT == ULOG_GET_SYNC_COUNT &&
		       DM_ULOG_STATUS_INFO == ULOG_STATUS_INFO &&
		       DM_ULOG_STATUS_TABLE == ULOG_STATUS_TABLE &&
		       DM_ULOG_IS_REMOTE_RECOVERING == ULOG_IS_REMOTE_RECOVERING,
	       "request type numbers");

_Static_assert(sizeof(struct nlmsghdr) == ULOG_NLMSGHDR_SIZE, "nlmsghdr size");
_Static_assert(NLMSG_HDRLEN == ULOG_NLMSGHDR_SIZE, "NLMSG_HDRLEN");
_Static_assert(offsetof(struct nlmsghdr, nlmsg_len) == ULOG_OFF_NLMSG_LEN, "nlmsg_len");
_Static_assert(offsetof(struct nlmsghdr, nlmsg_type) == ULOG_OFF_NLMSG_TYPE, "nlmsg_type");
_Static_assert(offsetof(struct nlmsghdr, nlmsg_flags) == ULOG_OFF_NLMSG_FLAGS, "nlmsg_flags");
_Static_assert(offsetof(struct nlmsghdr, nlmsg_seq) == ULOG_OFF_NLMSG_SEQ, "nlmsg_seq");
_Static_assert(offsetof(struct nlmsghdr, nlmsg_pid) == ULOG_OFF_NLMSG_PID, "nlmsg_pid");

_Static_assert(sizeof(struct cn_msg) == ULOG_CN_MSG_SIZE, "cn_msg size");
#define ULOG_CN_OFF(f) (ULOG_NLMSGHDR_SIZE + offsetof(struct cn_msg, f))
_Static_assert(ULOG_CN_OFF(id.idx) == ULOG_OFF_CN_IDX, "cn_msg.id.idx");
_Static_assert(ULOG_CN_OFF(id.val) == ULOG_OFF_CN_VAL, "cn_msg.id.val");
_Static_assert(ULOG_CN_OFF(seq) == ULOG_OFF_CN_SEQ, "cn_msg.seq");
_Static_assert(ULOG_CN_OFF(ack) == ULOG_OFF_CN_ACK, "cn_msg.ack");
_Static_assert(ULOG_CN_OFF(len) == ULOG_OFF_CN_LEN, "cn_msg.len");
_Static_assert(ULOG_CN_OFF(flags) == ULOG_OFF_CN_FLAGS, "cn_msg.flags");
_Static_assert(ULOG_CN_OFF(data) == ULOG_REQ_OFF, "cn_msg.data");

_Static_assert(sizeof(struct dm_ulog_request) == ULOG_REQUEST_SIZE, "dm_ulog_request size");
#define ULOG_RQ_OFF(f) (ULOG_REQ_OFF + offsetof(struct dm_ulog_request, f))
_Static_assert(ULOG_RQ_OFF(luid) == ULOG_OFF_LUID, "luid");
_Static_assert(ULOG_RQ_OFF(uuid) == ULOG_OFF_UUID, "uuid");
_Static_assert(sizeof(((struct dm_ulog_request *)0)->uuid) == ULOG_UUID_LEN, "uuid length");
_Static_assert(ULOG_RQ_OFF(padding) == ULOG_OFF_PADDING, "padding");
_Static_assert(ULOG_RQ_OFF(version) == ULOG_OFF_VERSION, "version");
_Static_assert(ULOG_RQ_OFF(error) == ULOG_OFF_ERROR, "error");
_Static_assert(ULOG_RQ_OFF(seq) == ULOG_OFF_SEQ, "seq");
_Static_assert(ULOG_RQ_OFF(request_type) == ULOG_OFF_TYPE, "request_type");
_Static_assert(ULOG_RQ_OFF(data_size) == ULOG_OFF_DATA_SIZE, "data_size");
_Static_assert(ULOG_RQ_OFF(data) == ULOG_DATA_OFF, "data");
_Static_assert(ULOG_MAX_DATAGRAM == 528, "max datagram");

/* ---- the decoded request, host order ----------------------------------------------------- */

/**
 * One decoded kernel request (or, for an error verdict, as much of it as could be trusted).
 * Filled by ulog_decode() with memcpy from the datagram, so alignment of the receive buffer
 * does not matter. @data is zero-filled past data_size and always NUL-terminated, so a CTR
 * string can be used as a C string. @type is already masked with ULOG_REQUEST_MASK.
 */
struct ulog_msg {
	uint32_t src_portid; /**< netlink sender: 0 = the kernel */
	uint32_t nl_seq;     /**< nlmsghdr.nlmsg_seq (informational) */
	uint32_t cn_seq;     /**< cn_msg.seq: the key of an ack-only reply */
	uint64_t luid;
	char uuid[ULOG_UUID_LEN];
	uint32_t version;
	int32_t error;
	uint32_t seq; /**< req.seq: the key of a full reply */
	uint32_t type;
	uint32_t data_size;
	uint8_t data[ULOG_MAX_PAYLOAD + 1];
};

#endif /* CMLOG_INCLUDE_DM_ULOG_WIRE_H */
