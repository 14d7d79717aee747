/*
 * mlog: one kernel mirror-log instance (uuid, luid) and the daemon's table of them.
 *
 * The table receives decoded kernel requests (struct ulog_msg), answers what is local
 * (CTR, DTR, GET_REGION_SIZE, STATUS_*, requests before RESUME, unknown logs), drives the
 * per-log struct group (cluster/group.h) for everything else, and queues the replies. The
 * caller sends the queued replies in the before-sleep phase after mlog_table_pump (style.md
 * rule 11). The cluster transport and the disk are reached through factories in struct
 * mlog_env so tests can replace them.
 */
#ifndef CMLOG_DAEMON_MLOG_H
#define CMLOG_DAEMON_MLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <qb/qbloop.h>

#include "dm_ulog_wire.h"
#include "cluster/group.h"

/** Longest log device name kept for status (DM_NAME_LEN). */
#define MLOG_DEV_MAX 128

struct mlog;
struct mlog_table;
struct disk_state_writer;

/** What an mlog_env.record event is about (the daemon maps it onto its flight recorder). */
enum mlog_record {
	MLOG_REC_REQUEST = 0,
	MLOG_REC_REPLY,
	MLOG_REC_MEMBERSHIP,
	MLOG_REC_ERROR,
	MLOG_REC_DISK,
};

/**
 * A cluster transport for one log group: what mlog needs from cluster/cpg.c. The transport
 * calls the mlog_transport_* functions below with the @owner it was created with.
 */
struct mlog_transport_ops {
	/** Create and start joining the group of @uuid; *handle is opaque to mlog. */
	int (*create)(void *env_ctx, const char *uuid, struct mlog *owner, void **handle);
	int (*send)(void *handle, const struct iovec *iov, unsigned int n_iov);
	/** Leave; call mlog_transport_left(owner) when done (never from inside this call). */
	void (*leave)(void *handle);
	void (*destroy)(void *handle);
	/** Node id of this node, 0 when unknown. */
	uint32_t (*nodeid)(void *handle);
	/**
	 * Optional: drop the connection and join again as a new member (the group sees its
	 * transport lost, then restored; requests stay held). Called from the before-sleep
	 * phase only, never from inside a transport callback.
	 */
	void (*rejoin)(void *handle);
};

struct mlog_env {
	qb_loop_t *loop; /**< NULL in tests: then no fds or timers are registered */
	const struct mlog_transport_ops *transport;
	void *transport_ctx;
	/**
	 * Send one reply to the kernel: @error 0 or -errno, @data/@len the success payload
	 * (empty on error). Called from mlog_table_flush_replies only.
	 */
	void (*reply)(void *ctx, const struct ulog_msg *req, int error, const void *data,
		      size_t len);
	void *reply_ctx;
	/**
	 * Work appeared (a reply was queued, a group may want to pump): schedule the
	 * before-sleep phase. May be NULL (tests drive the phase by hand).
	 */
	void (*kick)(void *ctx);
	void *kick_ctx;
	/**
	 * Called before a membership change is handed to a group, so that the quorum of that
	 * ring is reported first (mlog_table_set_quorate). May be NULL.
	 */
	void (*sync_quorum)(void *ctx);
	void *sync_quorum_ctx;
	/**
	 * Sync state files (daemon restart survival): written by @state_writer (off the loop)
	 * into @state_dir. Both NULL: nothing is persisted and a reconnect RESUME is
	 * conservative (sync := clean).
	 */
	struct disk_state_writer *state_writer;
	const char *state_dir;
	/** Local node id when the transport cannot tell yet (0 = ask the transport). */
	uint32_t nodeid;
	/**
	 * Flight recorder feed, may be NULL. Called for every CTR, DTR, PRESUSPEND,
	 * POSTSUSPEND, RESUME and STATUS request, every error reply, membership changes,
	 * group events and disk failures; the hot requests (MARK, CLEAR, FLUSH, IN_SYNC, ...)
	 * are only counted (mlog_info.hot_requests) so the hot path stays cheap.
	 */
	void (*record)(void *ctx, enum mlog_record kind, const char *uuid, const char *text);
	void *record_ctx;
};

int mlog_table_create(struct mlog_table **out, const struct mlog_env *env);
/** Destroy every instance (leave groups, close disks without writing) and the table. */
void mlog_table_destroy(struct mlog_table *t);

/** One decoded, valid kernel request (ULOG_OK). Exactly one reply will be queued for it. */
void mlog_table_request(struct mlog_table *t, const struct ulog_msg *msg);

/** Before-sleep step (a): let groups that want it send their batched messages. */
void mlog_table_pump(struct mlog_table *t);
/** Before-sleep step (c): send every queued kernel reply, in order. */
void mlog_table_flush_replies(struct mlog_table *t);
/** True when mlog_table_pump or mlog_table_flush_replies has work. */
bool mlog_table_has_work(const struct mlog_table *t);
/** Time passes (monotonic ms): group ticks, reaping. */
void mlog_table_tick(struct mlog_table *t, uint64_t now_ms);
/**
 * Run finished disk I/O callbacks of every instance. The loop does this per device from its
 * eventfd; tests without a loop call it directly.
 */
void mlog_table_poll_disks(struct mlog_table *t);
/** Quorum changed (all groups). */
void mlog_table_set_quorate(struct mlog_table *t, bool quorate);

/** Number of instances, and of resumed (active) ones. */
size_t mlog_table_count(const struct mlog_table *t);
size_t mlog_table_active(const struct mlog_table *t);

/* ---- transport callbacks (called by the transport glue with its owner) ---- */
void mlog_transport_deliver(struct mlog *m, uint32_t nodeid, const void *buf, size_t len);
void mlog_transport_confchg(struct mlog *m, const uint32_t *members, size_t n_members,
			    const uint32_t *left, size_t n_left, const uint32_t *joined,
			    size_t n_joined);
void mlog_transport_lost(struct mlog *m);
void mlog_transport_restored(struct mlog *m);
void mlog_transport_retry(struct mlog *m);
void mlog_transport_left(struct mlog *m);

/* ---- status hook (for the control socket) ---- */

enum mlog_state {
	MLOG_CONSTRUCTED, /**< CTR done, never resumed */
	MLOG_READING,	  /**< RESUME: reading the disk log */
	MLOG_RESUMING,	  /**< RESUME: group joining / syncing */
	MLOG_RESUMED,	  /**< active */
	MLOG_SUSPENDING,  /**< POSTSUSPEND handed to the group */
	MLOG_SUSPENDED,	  /**< group left; saved state kept for a reload */
};
const char *mlog_state_str(enum mlog_state s);

struct mlog_info {
	char uuid[ULOG_UUID_LEN];
	uint64_t luid;
	enum mlog_state state;
	bool disk;
	char dev[MLOG_DEV_MAX];
	uint64_t region_size; /**< sectors (as in the CTR line) */
	uint64_t region_count;
	uint64_t sync_count;
	bool presuspended;
	bool disk_failed;
	uint64_t requests;     /**< kernel requests handled */
	uint64_t hot_requests; /**< of which MARK/CLEAR/FLUSH/IN_SYNC/... (not recorded) */
	bool has_digest;       /**< digest valid (the replica exists) */
	uint64_t digest;       /**< rlog_digest of the replica */
	uint64_t outstanding;  /**< requests waiting for the group */
	bool has_group;
	struct group_status group; /**< valid when has_group */
	/* From the replica, valid when has_group: */
	bool recovering; /**< a resync assignment is outstanding */
	uint64_t recovering_region;
	uint32_t recovering_node;
	uint32_t n_marks; /**< entries in marks[]: one per group member */
	struct {
		uint32_t node;
		uint64_t regions; /**< rlog_node_mark_count */
	} marks[GROUP_MAX_MEMBERS];
};

/**
 * Call @fn for every instance in (uuid, luid) order (deterministic status output) with a
 * filled struct mlog_info. This is the hook the control socket uses.
 */
void mlog_table_status_fill(const struct mlog_table *t,
			    void (*fn)(void *ctx, const struct mlog_info *info), void *ctx);

#endif /* CMLOG_DAEMON_MLOG_H */
