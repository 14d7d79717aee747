/*
 * kern: cmlogd's netlink connector link to the kernel's dm-log-userspace client (libnl-3).
 *
 * Usage from the event loop: kern_open(), poll kern_fd() for POLLIN and call kern_dispatch()
 * each time it is readable; it decodes a bounded batch of datagrams, answers malformed ones
 * itself (error reply or ack EAGAIN, kernel-protocol.md s14.1) and hands each well-formed
 * request to the request callback. The daemon answers every request exactly once, later or
 * at once, with kern_reply*() or kern_ack().
 */
#ifndef CMLOG_DAEMON_KERN_H
#define CMLOG_DAEMON_KERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm_ulog_wire.h"

struct kern;

/**
 * A well-formed request. @req is valid only during the call: copy it (it is a plain struct)
 * if the answer comes later. The callback may call kern_reply()/kern_ack() directly.
 */
typedef void (*kern_request_fn)(void *ctx, const struct ulog_msg *req);

/** Log sink: @prio is a syslog priority (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG). */
typedef void (*kern_log_fn)(void *ctx, int prio, const char *msg);

struct kern_cfg {
	/**
	 * Accept requests from netlink senders other than the kernel (portid 0). Only for
	 * tests: a kernel stand-in inside a network namespace. Off: such datagrams are dropped
	 * with a rate-limited log line.
	 */
	bool userspace_peer;
	/** Receive buffer in bytes; 0 = KERN_DEFAULT_RCVBUF. SO_RCVBUFFORCE when permitted. */
	int rcvbuf;
	/** Datagrams handled per kern_dispatch(); 0 = KERN_DEFAULT_BATCH. */
	unsigned int batch;
	/** Where log lines go (may be NULL: silent). */
	kern_log_fn log;
	void *log_ctx;
	/**
	 * Test seam (unit tests, fuzzing): open no netlink socket (kern_fd() is -1); datagrams
	 * come in through kern_feed() and replies go out through @send.
	 */
	bool no_socket;
	/** If set, replies go here instead of sendto(): return 0 or -errno. */
	int (*send)(void *send_ctx, uint32_t portid, const void *buf, size_t len);
	void *send_ctx;
};

#define KERN_DEFAULT_RCVBUF (4 * 1024 * 1024)
#define KERN_DEFAULT_BATCH  64
/** Bad-input log lines per kind per second before they are summarised. */
#define KERN_LOG_BURST 10

struct kern_stats {
	uint64_t datagrams;    /**< datagrams received */
	uint64_t requests;     /**< well-formed requests handed to the callback */
	uint64_t replies;      /**< full replies sent */
	uint64_t acks;	       /**< ack-only replies sent (including EAGAIN) */
	uint64_t rejected;     /**< malformed but intact: answered with an error reply */
	uint64_t eagain;       /**< corrupt frames answered with ack EAGAIN */
	uint64_t foreign;      /**< other connector traffic, ignored */
	uint64_t dropped;      /**< dropped: too short, not NLMSG_DONE */
	uint64_t peer_dropped; /**< dropped: sender is not the kernel (no userspace_peer) */
	uint64_t truncated;    /**< MSG_TRUNC: datagram larger than the buffer, dropped */
	uint64_t overruns;     /**< recv ENOBUFS: the kernel dropped requests for us */
	uint64_t send_errors;  /**< replies that could not be sent */
	uint64_t refused;      /**< replies the codec refused to encode (daemon bug) */
};

/**
 * Open the link: a NETLINK_CONNECTOR socket subscribed to group 7 (add-membership), non
 * blocking, with a large receive buffer, NETLINK_BROADCAST_ERROR never set.
 * Returns 0 or -errno; *out is owned by the caller (kern_close).
 */
int kern_open(struct kern **out, const struct kern_cfg *cfg, kern_request_fn fn, void *ctx);
void kern_close(struct kern *k);

/** The socket to poll for POLLIN (-1 with cfg.no_socket). */
int kern_fd(const struct kern *k);
/** Our netlink port id (what a stand-in sends to when unicasting). */
uint32_t kern_portid(const struct kern *k);

/**
 * Receive and handle up to cfg.batch datagrams (never blocks). Returns the number handled
 * (0 when nothing was pending) or a negative errno for a broken socket. ENOBUFS (requests
 * lost) is counted and logged, not returned: the kernel resends after 15 s or re-CTRs.
 */
int kern_dispatch(struct kern *k);

/**
 * Handle one datagram as if it had been received from @src_portid (@truncated: as if
 * recvmsg had reported MSG_TRUNC): the sender filter, decoding, the link's own answers to
 * malformed input and the request callback, exactly as kern_dispatch does. For tests and
 * fuzzing; kern_dispatch uses it for every datagram it receives.
 */
void kern_feed(struct kern *k, const void *buf, size_t len, uint32_t src_portid, bool truncated);

/**
 * Full reply to @req: @error 0 or a negative errno, @data/@len the success payload.
 * Refused with -EINVAL when the codec would not encode it (see ulog_encode_reply); then
 * nothing is sent and the daemon must answer differently. Sent to req->src_portid.
 * Returns 0 or -errno (send failure).
 */
int kern_reply(struct kern *k, const struct ulog_msg *req, int error, const void *data, size_t len);
/**
 * Batch the replies made from now on: kern_reply*() and kern_ack() encode and queue them
 * (return 0 unless the codec refuses) and kern_uncork() sends them, in order, each its own
 * datagram, with one sendmmsg per batch of up to 32. Send failures are then counted
 * (send_errors) and logged by the link, not returned by the kern_reply*() call.
 */
void kern_cork(struct kern *k);
/** Send what was queued since kern_cork and stop queueing. Returns 0 or the last -errno. */
int kern_uncork(struct kern *k);
/** Ack-only reply: @pos_errno 0 or a positive errno (EAGAIN = resend now). */
int kern_ack(struct kern *k, const struct ulog_msg *req, int pos_errno);
int kern_reply_u64(struct kern *k, const struct ulog_msg *req, uint64_t v);
/** IS_CLEAN / IN_SYNC: @v sent as s64 0 or 1. */
int kern_reply_bool(struct kern *k, const struct ulog_msg *req, bool v);
/** GET_RESYNC_WORK {found, region} / IS_REMOTE_RECOVERING {recovering, hint}. */
int kern_reply_pair(struct kern *k, const struct ulog_msg *req, bool a, uint64_t b);
/** A string including its NUL (STATUS_INFO, STATUS_TABLE, CTR device name). */
int kern_reply_str(struct kern *k, const struct ulog_msg *req, const char *s);

/** Copy the counters. */
void kern_get_stats(const struct kern *k, struct kern_stats *st);

#endif /* CMLOG_DAEMON_KERN_H */
