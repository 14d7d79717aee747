/*
 * group_impl.h: the inside of struct group, shared by cluster/group.c (requests, commits,
 * deliveries, the disk writer) and cluster/group_sync.c (membership barrier and state
 * transfer). Not a public interface.
 */
#ifndef CMLOG_CLUSTER_GROUP_IMPL_H
#define CMLOG_CLUSTER_GROUP_IMPL_H

#include "cluster/group.h"
#include "cluster/msg.h"

/** A sorted set of regions (small: what the kernel has outstanding). */
struct rset {
	uint64_t *v;
	size_t n, cap;
};

/** A request waiting for its own ordered message to come back. */
struct inflight {
	struct group_req req;
	bool delivered; /* applied during a barrier: the reply waits for the barrier's outcome */
	struct group_reply reply;
};

enum flush_stage {
	FLUSH_UNSENT = 0,  /* its marks leave with the next commit */
	FLUSH_SENT = 1,	   /* waits for the delivery of own commit commit_id */
	FLUSH_DURABLE = 2, /* disk: waits for durable_gen >= need_gen */
};

struct waiter {
	uint64_t token;
	enum flush_stage stage;
	uint64_t commit_id;
	uint64_t need_gen;
};

/** A message the group wants to send (encoded; kept while the transport refuses it). */
struct outmsg {
	uint8_t *buf;
	size_t len;
	uint16_t type;
};

struct member_state {
	uint32_t nodeid;
	bool have;
	uint32_t seq;
	struct cmsg_state st;
};

/*
 * One member's MARKS of the current round (group.h "Fencing"): its kernel's outstanding
 * marks and recovery, kept only by the member that would do a master resume.
 */
struct marks_rx {
	uint32_t nodeid;
	uint32_t next;	   /* next chunk index expected (UINT32_MAX: broken until index 0) */
	uint32_t last_seq; /* seq of the last chunk; its STATE has seq last_seq + 1 */
	bool complete, has_rec;
	uint64_t rec_region;
	struct rset set; /* strictly ascending */
};

/** One deferred clear of the activity set: the region stays marked by this node. */
struct al_entry {
	uint64_t key;	   /* region + 1; 0 = an empty slot */
	uint64_t seq;	   /* LRU order of deferral (= of the write's end) */
	uint64_t since_ms; /* tick time of the deferral (GROUP_AL_IDLE_MS) */
};

/** LRU order of the activity set: (region, seq) in deferral order, stale ones skipped. */
struct al_lru {
	uint64_t region;
	uint64_t seq;
};

/** A clear in a sent own commit not yet delivered back. */
struct sent_clear {
	uint64_t region;
	uint64_t commit_id;
};

/* Dynamic arrays (insertion order only: no pointer or hash order anywhere). */
#define DARRAY(T)              \
	struct {               \
		T *v;          \
		size_t n, cap; \
	}

struct group {
	struct group_params p;
	struct group_ops ops;
	void *ctx;
	uint32_t me;
	struct rlog *rl;
	uint8_t *start_clean;
	uint64_t start_regions;
	uint8_t *start_sync; /* group_start_sync: in sync although dirty, first resume only */
	uint64_t start_sync_regions;
	bool started;

	/* local status */
	bool stale; /* lost quorum while synced: may be outdated, never wins a barrier */
	bool synced, quorate, transport_up, presuspended, postsuspending;
	uint32_t max_version; /* what this node advertises (test hook: group_set_max_version) */
	uint32_t version;     /* in use, chosen at the last barrier */
	uint32_t members[GROUP_MAX_MEMBERS];
	uint32_t n_members;
	uint64_t bad_messages, commits_sent;
	uint32_t seq; /* message counter */

	/*
	 * writes: the kernel's marks (my_marks), unsent marks, the activity set of deferred
	 * clears (al: an open-addressing hash of regions, linear probing, at most half full),
	 * clears chosen to leave with the next commit (pend_clears) and clears sent but not yet
	 * delivered back (sent_clears, send order).
	 * my_marks never meets al or pend_clears: a MARK takes its region out of both.
	 */
	struct rset my_marks, pend_marks, pend_clears;
	struct {
		struct al_entry *v;
		size_t n, cap; /* cap: 0 or a power of two */
		unsigned bits; /* log2(cap) */
	} al;
	DARRAY(struct al_lru) lru; /* an entry is live while al holds its region with its seq */
	size_t lru_head;	   /* entries before it are consumed */
	DARRAY(struct sent_clear) sent_clears;
	uint64_t al_seq;       /* LRU stamp of the latest deferral */
	bool commit_queued;    /* a commit is to be sent at the next pump */
	uint64_t commit_sent;  /* last own commit id sent */
	uint64_t commit_deliv; /* last own commit id delivered */
	uint64_t marks_sent;   /* last own commit id sent that carried marks */
	/* FLUSHes completed by the last delivered own commit with marks (eager commit) */
	size_t last_batch;
	uint64_t own_gen; /* disk: generation after our last delivered commit */
	uint64_t now_ms;
	DARRAY(struct waiter) waiters;

	/*
	 * The kernel's own recovery (local, never replicated): the region its last answered
	 * GET_RESYNC_WORK named, in which replica lineage (bumped whenever this node's replica
	 * is dropped), and the token of the SET_REGION_SYNC that reports its end, if sent.
	 */
	bool krec;
	uint64_t krec_region, krec_lineage, krec_report;
	uint64_t lineage;

	/* ordered requests: held (not yet sent, in kernel order) and in flight */
	DARRAY(struct group_req) held;
	DARRAY(struct inflight) inflight;
	DARRAY(uint64_t) resume_tokens;
	DARRAY(uint64_t) postsuspend_tokens;
	DARRAY(struct outmsg) ctrl; /* STATE, SNAP, DURABLE, DISK_FAILED */

	/* disk log (clustered-disk) */
	uint32_t writer;
	uint64_t gen, durable_gen, written_gen, write_gen;
	bool disk_failed, disk_busy, need_full_write;
	bool write_failed; /* local: our write failed; DISK_FAILED is on its way */
	bool write_stale;  /* the write in flight belongs to a replica we dropped */
	uint64_t write_cookie;
	/*
	 * writer handover (version 3, group.h "Writer"), local only: the member this writer hands
	 * over to (its TAKEOVER was delivered; no new write starts), whether our HANDOVER is
	 * queued, and the writer our own TAKEOVER asked in this configuration (0: none asked).
	 */
	uint32_t handing_to;
	bool handover_queued;
	uint32_t takeover_asked;
	/* members_sorted[h(uuid) % n] over the members not excluded (0: none), recomputed where
	 * the membership or the exclusions change, not on every loop pass */
	uint32_t preferred_writer;
	uint8_t *disk_buf;
	size_t disk_buf_len;

	/* membership barrier and state transfer (group_sync.c) */
	bool in_barrier;
	uint64_t epoch;
	struct member_state ms[GROUP_MAX_MEMBERS];
	bool at_cc_synced;
	uint64_t at_cc_gen, at_cc_digest, at_cc_epoch;
	uint32_t excl[GROUP_MAX_MEMBERS]; /* members marked incompatible, sorted (group.h) */
	uint32_t n_excl;
	bool spoke[GROUP_MAX_MEMBERS]; /* by member index: a valid STATE since the last confchg */
	uint64_t round_ms;	       /* first tick in the current round (0: none yet) */
	bool silent_sent;	       /* EXCLUDE{SILENT} sent in this round */
	bool receiving;
	uint32_t snap_sender, snap_round, snap_next;
	struct rlog_snap_dec *dec;
	DARRAY(struct outmsg) queued; /* deliveries after the barrier point while receiving */
	DARRAY(uint32_t) queued_from;
	bool sending;
	uint32_t send_round, send_index;
	struct rlog *frozen;
	struct rlog_snap_enc *enc;
	uint64_t frozen_gen, frozen_durable;
	uint32_t frozen_writer;
	bool frozen_disk_failed;
	uint8_t *chunk;
	struct marks_rx mrx[GROUP_MAX_MEMBERS];
	uint32_t n_mrx;

	struct cmsg rx; /* decode scratch (large) */
	uint8_t *tx;	/* encode scratch, CMSG_MAX_SIZE */
};

#define DARRAY_PUSH(a, x)                                                             \
	(((a).n == (a).cap && darray_grow((void **)&(a).v, &(a).cap, sizeof(*(a).v))) \
		 ? -ENOMEM                                                            \
		 : ((a).v[(a).n++] = (x), 0))
int darray_grow(void **v, size_t *cap, size_t elem);
void darray_del(void *v, size_t *n, size_t elem, size_t i);

bool rset_has(const struct rset *s, uint64_t x);
int rset_add(struct rset *s, uint64_t x);
bool rset_del(struct rset *s, uint64_t x);

/* group.c helpers used by group_sync.c */
int group_queue_ctrl(struct group *g, struct cmsg *m);
void group_apply(struct group *g, uint32_t sender, const struct cmsg *m);
void group_drive(struct group *g);
void group_revert_local(struct group *g);
void group_became_writer(struct group *g);
/** Forget a handover in progress (confchg, dropped replica): the barrier decides. */
void group_handover_reset(struct group *g);
bool group_is_member(const struct group *g, uint32_t node);

/* group_sync.c */
void sync_confchg(struct group *g, const uint32_t *members, size_t n_members, const uint32_t *left,
		  size_t n_left);
void sync_on_state(struct group *g, uint32_t sender, const struct cmsg *m);
void sync_on_snap(struct group *g, uint32_t sender, const struct cmsg *m);
void sync_on_marks(struct group *g, uint32_t sender, const struct cmsg *m);
/** True when the delivery was queued for later (this member is receiving a snapshot). */
bool sync_maybe_queue(struct group *g, uint32_t sender, const void *buf, size_t len);
void sync_pump(struct group *g);
void sync_reset(struct group *g);
void sync_send_state(struct group *g);
/** True when the delivery was consumed: from an excluded member, or one that excludes it. */
bool sync_filter(struct group *g, uint32_t sender, const void *buf, size_t len);
void sync_on_exclude(struct group *g, uint32_t sender, const struct cmsg *m);
/** Time passed: propose excluding members a barrier waited on for GROUP_SILENT_MS. */
void sync_tick(struct group *g);
/** An ordered change could not be applied here (out of memory): exclude ourselves. */
void sync_apply_failed(struct group *g);

#endif /* CMLOG_CLUSTER_GROUP_IMPL_H */
