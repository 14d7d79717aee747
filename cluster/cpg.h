/*
 * cpg: the real transport of a struct group (cluster/group.h) over corosync CPG, plus the
 * daemon-wide quorum tracker.
 *
 * The prefix is cmcpg_ (not cpg_) because corosync's libcpg owns the cpg_ namespace.
 *
 * One struct cmcpg per log group: one CPG handle (CPG allows one joined group per handle),
 * its fd in the qb loop, and timers that retry TRY_AGAIN and reconnect after corosync is
 * lost. Everything runs on the loop thread; no call here blocks or sleeps.
 */
#ifndef CMLOG_CLUSTER_CPG_H
#define CMLOG_CLUSTER_CPG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <qb/qbloop.h>

/** Prefix of a CPG group name that carries the uuid verbatim. */
#define CMCPG_NAME_PREFIX "cmlog:"
/** Prefix of a CPG group name for a uuid too long to carry verbatim (hashed form). */
#define CMCPG_HASH_PREFIX "cmlog#"
/**
 * The daemon-wide group (daemon/peers.c): its own prefix, so no log uuid can map to it
 * (log groups always start with CMCPG_NAME_PREFIX or CMCPG_HASH_PREFIX).
 */
#define CMCPG_DAEMON_GROUP "cmlog!daemon"
/** Seconds between reconnect attempts after corosync is lost. */
#define CMCPG_RECONNECT_MS 1000u

/** What the transport reports to its owner (normally the glue that feeds a struct group). */
struct cmcpg_ops {
	/** An agreed-order message (own messages included). */
	void (*deliver)(void *ctx, uint32_t nodeid, const void *buf, size_t len);
	/** Membership of the group changed (node ids, deduplicated, in CPG's order). */
	void (*confchg)(void *ctx, const uint32_t *members, size_t n_members, const uint32_t *left,
			size_t n_left, const uint32_t *joined, size_t n_joined);
	/** The transport is gone (corosync died, evicted); reconnecting in the background. */
	void (*lost)(void *ctx);
	/** Joined again after lost(). */
	void (*restored)(void *ctx);
	/** A send refused with -EAGAIN may now be retried (timer): call group_pump. */
	void (*retry)(void *ctx);
};

struct cmcpg;

/**
 * Build the CPG group name for @uuid into @name (at least 128 bytes) and return its length
 * including the terminating NUL (the strlen+1 convention: the NUL is part of the name, as
 * dlm_controld does). "cmlog:" + uuid when that fits in 128 bytes with its NUL; otherwise
 * "cmlog#" + 16 hex digits of the FNV-1a 64-bit hash of the whole uuid + ":" + the first 104
 * characters of the uuid. The two forms differ at byte 5, so they can never collide with each
 * other; two long uuids collide only if both their first 104 bytes and their hashes match.
 * A NULL @uuid names the daemon-wide group, CMCPG_DAEMON_GROUP, which no uuid can produce.
 */
size_t cmcpg_group_name(const char *uuid, char *name, size_t cap);

/**
 * Create the transport for @uuid (NULL: the daemon-wide group) and start joining (asynchronously: failures are retried
 * from timers and reported through ops->lost / ops->restored). Returns 0 or -errno (-ENOMEM,
 * -EINVAL). The handle is owned by the caller (cmcpg_destroy).
 */
int cmcpg_create(struct cmcpg **out, qb_loop_t *loop, const char *uuid, const struct cmcpg_ops *ops,
		 void *ctx);

/**
 * Multicast one message in agreed order. 0 when accepted, -EAGAIN for back-pressure (a retry
 * timer then calls ops->retry), -ENOTCONN while the transport is down or not yet joined
 * (ops->restored follows when it is back), -EMSGSIZE for an oversized message.
 */
int cmcpg_send(struct cmcpg *c, const struct iovec *iov, unsigned int n_iov);

/**
 * Leave the group (retried on TRY_AGAIN); @done(ctx) is called once the leave was accepted
 * by corosync or the transport is gone anyway. The handle stays allocated until destroy.
 */
void cmcpg_leave(struct cmcpg *c, void (*done)(void *ctx));

/** Finalize the handle, drop the fd and timers, free. No callback is called afterwards. */
void cmcpg_destroy(struct cmcpg *c);

/** Local node id (0 until the first successful connection). */
uint32_t cmcpg_local_nodeid(const struct cmcpg *c);
/** True while joined and connected. */
bool cmcpg_is_up(const struct cmcpg *c);
/**
 * Leave by dropping the connection and join again (as after a lost connection: ops->lost,
 * then ops->restored once joined). Not from inside a CPG callback of @c.
 */
void cmcpg_rejoin(struct cmcpg *c, const char *why);
/**
 * The totem ring this group last saw (CPG's totem confchg: ring representative nodeid and
 * sequence, as corosync-quorumtool prints "Ring ID: nodeid.seq"). false before the first.
 */
bool cmcpg_ring(const struct cmcpg *c, uint32_t *nodeid, uint64_t *seq);

/* ---- quorum (one per daemon) ------------------------------------------------------------ */

struct cmcpg_quorum;

/**
 * Track quorum through libquorum (CS_TRACK_CURRENT | CS_TRACK_CHANGES). @changed(ctx,
 * quorate) is called on every notification; while corosync is unreachable the tracker
 * reports inquorate once and reconnects every CMCPG_RECONNECT_MS.
 */
int cmcpg_quorum_create(struct cmcpg_quorum **out, qb_loop_t *loop,
			void (*changed)(void *ctx, bool quorate), void *ctx);
bool cmcpg_quorum_is_quorate(const struct cmcpg_quorum *q);
/**
 * Ask corosync for the current quorum state now (quorum_getquorate, a short local IPC) and
 * report a change through @changed before returning. Quorum and CPG callbacks come over
 * different connections in no fixed order; calling this before a CPG confchg is handed on
 * makes the group see the quorum of (at least) that ring first (cluster/group.h).
 */
void cmcpg_quorum_refresh(struct cmcpg_quorum *q);
void cmcpg_quorum_destroy(struct cmcpg_quorum *q);

#endif /* CMLOG_CLUSTER_CPG_H */
