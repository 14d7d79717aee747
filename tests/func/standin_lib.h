/*
 * standin_lib: a stand-in for the kernel's dm-log-userspace client, for tests and benchmarks.
 *
 * It speaks the kernel's side of the protocol over a REAL NETLINK_CONNECTOR socket: it sends
 * requests to connector group 7 exactly as the kernel does (sendto nl_pid 0, nl_groups 0x40)
 * or unicast to a given port, and matches replies as the kernel does: full replies by
 * req.seq, ack-only replies by cn_msg.seq. Frames are built and parsed here with explicit
 * byte offsets (kernel-protocol.md s2), independently of daemon/ulog_codec, so tests of the
 * daemon through the stand-in are not circular.
 *
 * SAFETY: only ever use it inside a network namespace (standin_netns_check). In the initial
 * namespace a frame sent to port 0 would reach the real kernel's connector callback, which
 * would take it for a reply (kernel-protocol.md s13).
 */
#ifndef CMLOG_TESTS_FUNC_STANDIN_LIB_H
#define CMLOG_TESTS_FUNC_STANDIN_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Independent copies of the ABI numbers (not dm_ulog_wire.h, on purpose). */
#define SI_CTR			1
#define SI_DTR			2
#define SI_PRESUSPEND		3
#define SI_POSTSUSPEND		4
#define SI_RESUME		5
#define SI_GET_REGION_SIZE	6
#define SI_IS_CLEAN		7
#define SI_IN_SYNC		8
#define SI_FLUSH		9
#define SI_MARK_REGION		10
#define SI_CLEAR_REGION		11
#define SI_GET_RESYNC_WORK	12
#define SI_SET_REGION_SYNC	13
#define SI_GET_SYNC_COUNT	14
#define SI_STATUS_INFO		15
#define SI_STATUS_TABLE		16
#define SI_IS_REMOTE_RECOVERING 17

#define SI_HDR	     196  /* nlmsghdr 16 + cn_msg 20 + dm_ulog_request 160 */
#define SI_MAX_FRAME 9216 /* enough for the MSG_TRUNC test frame */
#define SI_MAX_DATA  2048 /* largest reply payload we keep */
/** The kernel's per-type reply capacity for STATUS_* is "the rest of the status buffer". */
#define SI_CAP_STATUS 4096

struct standin;

struct standin_cfg {
	/** 0: multicast to group 7 as the kernel does; else unicast to this netlink port. */
	uint32_t dest_portid;
	/** Default reply timeout in ms (0 = 2000). */
	int timeout_ms;
	/** Receive buffer in bytes (0 = 4 MiB). */
	int rcvbuf;
	/** First request seq (0 = derived from the pid and the time). */
	uint32_t first_seq;
};

/** A request as the kernel would fill dm_ulog_request. */
struct standin_req {
	uint64_t luid;
	const char *uuid;
	uint32_t version; /**< 0 = 3 */
	uint32_t type;
	const void *data;
	uint32_t data_size;
};

/** A reply as the kernel would see it. */
struct standin_reply {
	bool ack_only;
	uint32_t cn_seq;
	uint32_t ack;  /**< ack-only: positive errno (0 = success) */
	uint32_t seq;  /**< full: req.seq */
	int32_t error; /**< full: req.error; ack-only: -ack */
	uint32_t type; /**< full: echoed request type */
	uint32_t data_size;
	uint8_t data[SI_MAX_DATA + 1]; /**< zero-filled, NUL-terminated */
	/** Non-empty when the reply breaks the contract (kernel-protocol.md s2, s14). */
	char violation[200];
};

/**
 * Refuse to run outside a network namespace: returns 0 when it is safe, else -1 with the
 * reason in @why. Unsafe when /proc/net/connector exists (the connector creates it only in
 * the initial namespace) or lists cn_dm_log_userspace, when /proc/self/ns/net is the same
 * namespace as /proc/1/ns/net, or when it has the fixed inode of init_net (0xEFFFFFF9).
 */
int standin_netns_check(char *why, size_t len);

/** Open the socket (no group membership: replies are unicast to us). 0 or -errno. */
/** Name of a request type (masked with 0xff), "TYPE?" when unknown. */
const char *standin_type_name(uint32_t t);

int standin_open(struct standin **out, const struct standin_cfg *cfg);
void standin_close(struct standin *s);
uint32_t standin_portid(const struct standin *s);
int standin_fd(const struct standin *s);
/** Change the destination (0 = multicast group 7). */
void standin_set_dest(struct standin *s, uint32_t portid);

/** The next request seq (the kernel's global counter: +1 per send). */
uint32_t standin_next_seq(struct standin *s);

/**
 * Build a request frame into @buf exactly as a 6.x kernel does (nlmsg_len unrounded, the
 * datagram zero-padded to 4 bytes); returns the datagram length or -ENOSPC. Callers may
 * then corrupt it for bad-input tests.
 */
int standin_build(const struct standin_req *rq, uint32_t seq, uint8_t *buf, size_t cap);

/** Send a frame (multicast ECONNREFUSED from the missing kernel socket ignored). 0/-errno */
int standin_send_raw(struct standin *s, const void *buf, size_t len);
/** Build and send with a new seq; *seq gets it. */
int standin_send(struct standin *s, const struct standin_req *rq, uint32_t *seq);

/**
 * Wait up to @timeout_ms (< 0: default) for the reply to @seq (full: req.seq == seq;
 * ack-only: cn_msg.seq == seq). Other well-formed replies are counted as strays; frames the
 * kernel would drop are counted as violations. 0 or -ETIMEDOUT.
 */
int standin_wait(struct standin *s, uint32_t seq, struct standin_reply *rep, int timeout_ms);

/**
 * Wait up to @timeout_ms (< 0: default) for the next well-formed reply, whatever its seq
 * (for pipelined senders such as a benchmark: match rep->seq / rep->cn_seq yourself).
 * Counted as a reply, not a stray. 0 or -ETIMEDOUT.
 */
int standin_recv(struct standin *s, struct standin_reply *rep, int timeout_ms);

/** standin_send + standin_wait. 0, -ETIMEDOUT or a send -errno. */
int standin_call(struct standin *s, const struct standin_req *rq, struct standin_reply *rep,
		 int timeout_ms);

/**
 * What the kernel's dm_consult_userspace would return for @rep with reply capacity @cap
 * (kernel-protocol.md s3): the error, or -ENOSPC when a successful full reply carries more
 * than @cap bytes; ack-only: -ack.
 */
int standin_kernel_result(const struct standin_reply *rep, size_t cap);

/** The capacity the kernel offers for a request (s4): CTR 128 unless reconnect/v1, ... */
size_t standin_capacity(const struct standin_req *rq);

/** Receive for @ms and count every frame that arrives (expected: 0); not counted as strays. */
int standin_expect_silence(struct standin *s, int ms);

/**
 * Consume replies for up to @ms, stopping early after @quiet_ms without any; returns how
 * many arrived (not counted as strays: the caller decides what they mean).
 */
int standin_drain(struct standin *s, int ms, int quiet_ms);

struct standin_counters {
	uint64_t sent;
	uint64_t replies;    /**< matched */
	uint64_t strays;     /**< well-formed but unmatched (late, duplicate, wrong seq) */
	uint64_t violations; /**< frames the kernel would drop, or matched but broken */
	char last_violation[200];
};
void standin_get_counters(const struct standin *s, struct standin_counters *c);

#endif /* CMLOG_TESTS_FUNC_STANDIN_LIB_H */
