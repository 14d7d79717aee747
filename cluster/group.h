/*
 * group: the replicated protocol of one mirror log over an agreed-order group (CPG).
 *
 * One struct group per resumed log instance on each node. The daemon (or the simulator)
 * feeds it four kinds of input, all on the event-loop thread:
 *   - local kernel requests            group_request()
 *   - agreed-order deliveries          group_deliver()   (own messages included)
 *   - membership changes               group_confchg()
 *   - completions and ticks            group_disk_done(), group_tick(), group_set_quorate()
 * and it produces effects only through struct group_ops: multicast a message, answer a
 * local request, write part of the disk image, report an event. It never blocks, reads a
 * clock (time comes in through group_tick) or does I/O itself, so tests/sim runs N nodes in
 * one process over cluster/sim.c and gets the same result for the same seed.
 *
 * PROTOCOL (versions 1 and 2; version 2 adds the MARKS message, see "Fencing")
 *
 * Ordering. Every request that changes shared state travels as one message in agreed order
 * and every synced member applies it to its struct rlog (log/rlog.h) at delivery. Only the
 * node whose kernel asked answers its kernel. Read-only requests are answered from the local
 * replica where that is safe: IN_SYNC and IS_CLEAN (invariants.md rule 3: the kernel asks
 * the ordered IS_REMOTE_RECOVERING first for every region at or above the hint), and
 * GET_SYNC_COUNT (an over-count could only come from an unapplied SET_REGION_SYNC(r, 0) of
 * another node; that node's own failure path does not depend on ours).
 *
 * Writes (the hot path). MARK and CLEAR are acknowledged locally at once and kept in this
 * node's pending set; a FLUSH (plain, or integrated with regions to mark) is answered only
 * when every mark it covers is committed. Eager commit: a MARK that needs a message leaves at
 * once, in the loop pass that received it, when no own commit of the log is in flight, no
 * FLUSH waits and the last own commit with marks completed at most one FLUSH (a single
 * writer: the agreed delivery then overlaps the kernel's FLUSH round trip). Otherwise all
 * FLUSHes of a log pending at the same time leave as ONE commit message carrying this node's
 * pending marks and the clears leaving the activity set (group commit; see "Hot regions");
 * while a send is refused with -EAGAIN (CPG back-pressure), new FLUSHes join the unsent
 * message.
 * clustered-core: a FLUSH completes when its commit message is delivered back to us (virtual
 * synchrony: every member that stays in the configuration delivers it too): one agreed
 * delivery per new-region write. clustered-disk: each delivered commit that set marks bumps
 * the log's commit generation; the log's writer writes the changed part of the bitmap,
 * fdatasyncs, then multicasts DURABLE(gen); a FLUSH completes when durable_gen >= the
 * generation of its commit (the writer answers its own FLUSHes at write completion). A failed
 * write is multicast as DISK_FAILED(gen): FLUSHes waiting on it get -EIO and the log reports
 * 'D'. A MARK of a region this node already marks in the replicated state needs no message
 * (see "Hot regions" for the exact rule). A FLUSH is also held while another node holds the
 * resync assignment of a region this node marks (the region went out of sync while our mark
 * was on its way, rule 3's window): the kernel writes only after the FLUSH answer, so its
 * write never races the copy.
 * GET_RESYNC_WORK never hands out a region another member still marks (its write is in
 * flight on every leg; it went out of sync because a co-marking node died): the assignment is
 * given back at once and the region is handed out after the mark is cleared.
 *
 * Hot regions (the activity set). A CLEAR from the local kernel is deferred: the region stays
 * marked by this node in the replicated state and its clear waits in this node's activity set
 * (local, never replicated; the state changes only when a commit carrying the clear is
 * delivered, so every node applies the same ordered stream). A later MARK or FLUSH(r) of a
 * region whose clear is deferred (or chosen to leave but not sent yet) cancels that clear; it
 * needs no message when the replica is settled, quorate and not stale, holds our mark of r,
 * and no own commit carrying a clear of r is sent but undelivered (otherwise the mark is
 * committed again, after that clear in the order; a stale replica's mark may be gone in the
 * state a quorate side serves). A FLUSH covers every mark the kernel sent before it: with
 * marks still to send it joins the unsent commit; else it waits for the delivery of the last
 * own commit that carried marks (commits carrying only clears do not delay it); else it is
 * answered at once (clustered-core) or when durable_gen covers the current generation
 * (clustered-disk). So a working set re-written in a cycle costs no message after its first
 * write. Deferred clears leave, with the next commit, only:
 *   (a) when a new region would take the set beyond GROUP_AL_MAX regions: the least recently
 *       written one (LRU by the CLEAR that ended its last write), not the others; it rides
 *       with the next commit or leaves at the next group_tick;
 *   (b) GROUP_AL_IDLE_MS after the CLEAR of their region (per region, checked at group_tick,
 *       which sends them at once without waiting for other traffic; cmlogd ticks every
 *       100 ms);
 *   (c) at POSTSUSPEND: all of them (a CLEAR after it leaves at once); POSTSUSPEND is answered
 *       once they are delivered and, on disk logs, once the generation of our last commit is
 *       durable (or the device failed), so nothing of ours outlives the activation and the
 *       next activation does not resync those regions;
 *   (d) at a confchg in which a member left: all of them (sent after the barrier), because the
 *       departed member's regions went out of sync and rlog hands out for resync no region
 *       another member marks; and at the delivery of another node's GET_RESYNC_WORK, those of
 *       regions out of sync (put there by a failed write elsewhere): its next request finds
 *       them. A resync waits for our deferred marks at most one GET_RESYNC_WORK round longer
 *       than for real writes, and a deferred clear never holds it beyond GROUP_AL_IDLE_MS.
 * Bound: at most GROUP_AL_MAX regions per log are kept marked only because of the activity set
 * (plus evicted clears on their way, until the next tick). A crash of this node (or a daemon
 * restart, or a log destroyed without POSTSUSPEND) therefore resyncs at most GROUP_AL_MAX
 * regions per log more than the writes in flight. A clear sent with a replica that is dropped
 * later leaves again in the new state (unless the region was marked since).
 *
 * Writer. For clustered-disk logs, writer = synced_set_sorted[h(uuid) % n], h a fixed hash
 * (FNV-1a 32), so logs spread across nodes. It is chosen at a barrier only when the current
 * writer is not in the synced set (sticky: moving it while its write is in flight could land
 * an older bitmap after the new writer's), and joiners learn it from the snapshot. A master
 * resume makes the master the writer, and joiners are not in the synced set of the barrier
 * that admits them, so on its own that rule would leave the writers of logs activated together
 * on the node that resumed first. From protocol version 3 the writer moves to its preferred
 * place by a handover in the order: the preferred writer, members_sorted[h(uuid) % n] over
 * the members not excluded, once it is synced and settled and the writer is another member,
 * multicasts TAKEOVER(writer) (once per configuration and writer); the writer, at its
 * delivery, starts no new write, waits for the one in flight, and multicasts HANDOVER(to).
 * At the delivery of HANDOVER from the current writer naming a current member, every member
 * makes that member the writer (members receiving a snapshot replay it after the snapshot,
 * which carries the writer of the barrier point, so they agree). Only the old writer's
 * completed writes precede the HANDOVER, and it never writes again unless chosen again, so
 * no older image can land after the new writer's. A TAKEOVER or HANDOVER not yet sent at a
 * confchg is dropped (the barrier decides; the preferred writer asks again after it). A new
 * writer marks the whole bitmap changed, writes it (header block included) and announces
 * DURABLE at once, so FLUSHes that waited on a departed writer complete without the kernel's
 * 15 s resend. One write at a time, covering every commit delivered before it started; a
 * failed write is never followed by a write that would claim its generation. DURABLE and
 * DISK_FAILED are not sent during a barrier (unsent ones are dropped at a confchg and the
 * writer announces again after the barrier), so generations of a dropped replica never reach
 * the next one. POSTSUSPEND also waits for this node's write in flight. Commit generations,
 * not a replicated "touched" flag, decide durability.
 *
 * Membership and state transfer (corosync sync / dlm START barrier). On every confchg:
 *   1. apply node_left for each departed node (rlog_node_left; a departed writer is replaced);
 *   2. every member multicasts STATE{members, max_version, synced, quorate, gen, epoch,
 *      digest_at_confchg} (always in protocol version GROUP_PROTO_VERSION_MIN, so every
 *      member can read it), members being the sorted member list of the confchg it answers,
 *      right after its MARKS if it sends any (version 2, see "Fencing");
 *      the barrier is one STATE from each current member whose member list equals the
 *      current one, delivered after the latest confchg (older STATEs are ignored; a later one
 *      from the same sender replaces an earlier one);
 *   3. when the STATE of every current member is delivered (the barrier point, the same point
 *      in the order everywhere), each member computes: version = min(max_version); eligible
 *      = STATEs that are synced and quorate; synced set = the eligible group with equal
 *      (epoch, gen, digest) with the highest epoch, then the most members, then the lowest
 *      nodeid; members of any other group drop their state and rejoin clean (no stateful
 *      merge); epoch = max(epoch) + 1. If nobody is eligible and every STATE is quorate, the
 *      lowest-nodeid member does a master resume (rlog_resume_master with the image given to
 *      group_start, where its own stale replica's dirty regions stay dirty; then every
 *      member's carried marks and recovery, "Fencing") and is the synced
 *      set; if nobody is eligible and some member is inquorate, the round stays open until
 *      the members that regain quorum send STATE again. sender = lowest nodeid in the set;
 *   4. the sender takes a frozen copy of its state at the barrier point and multicasts it as
 *      SNAP chunks (rlog_snapshot_*, bounded GROUP_CHUNK_MAX bytes each, paced by -EAGAIN);
 *      unsynced members queue every message delivered after the barrier point, build the
 *      state from the chunks, then apply the queue in order and are synced;
 *   5. a confchg during a transfer starts a new round; partial snapshots are dropped.
 * Quorum: a synced member that loses quorum becomes stale (so does one that is inquorate at
 * any time while it receives a snapshot: the state it gets is as of the barrier point, and a
 * quorate side may serve from then on): it keeps answering local reads,
 * never sends state-changing messages and never wins a barrier (so a partition's stale side
 * can never overwrite the side that served, even after that side lost members). When quorum
 * comes back without a membership change, a stale or stateless member multicasts STATE; a
 * STATE delivered outside a round opens one at that point of the order. The daemon should
 * report quorum (group_set_quorate) before it delivers the confchg of the same ring.
 * Fencing. Like cmirrord and md-cluster, the protocol relies on the cluster fencing a node
 * that leaves a quorate membership (partitioned away, its corosync died): at the confchg the
 * survivors turn its marks into resync work and release its recovery (rule 6), which is safe
 * only if its kernel writes and copies no more. When no side has quorum nobody can fence,
 * and the members that merge again keep running kernels whose marks and recovery live only
 * in the stale replicas the master resume replaces (so does every member whose corosync
 * restarted: its replica is dropped while its kernel runs on). Version 2 closes this: before
 * its STATE, a member that is not eligible itself (so a master resume may follow) sends
 * MARKS{index, last, has_rec, rec_region, regions}: every region its kernel marks and has
 * not cleared (my_marks, plus deferred clears not yet committed), strictly ascending, in
 * chunks of at most CMSG_MARKS_MAX_REGIONS (one member's list is bounded only by the log's
 * region count), and in the last chunk the region its kernel is recovering (an answered
 * GET_RESYNC_WORK whose end it has not reported). Only the member that would be the master
 * (the lowest nodeid) keeps them; a MARKS list counts for its sender's STATE only if it is
 * complete (chunks 0..last, in order, regions valid) and its last chunk is the message right
 * before that STATE (seq + 1), so a list of an older round never counts. After
 * rlog_resume_master the master applies, in member (nodeid) order, every member's marks
 * (rlog_mark as that node: the region is dirty and never handed out to another node, and
 * stays as in sync as the resume made it), then every member's recovery
 * (rlog_set_assignment: the region is put out of sync if the resume made it in sync, so
 * writers wait for the copy, and assigned to the claimant), before it freezes the state for
 * the snapshot; so every member gets it. A claimant that holds the assignment in the new
 * state reports its end through the order again. One recovery per log: when two members
 * claim one (possible only if fencing failed: two live recoveries need two lineages that
 * both granted one, and every lineage that granted after another's holder left it was
 * quorate and fenced that holder), the first in nodeid order wins and the other kernel's
 * report is answered without a message (below). The eligible path needs no MARKS: the
 * winning replica holds every committed mark of every member that did not leave a quorate
 * membership (those are fenced), and uncommitted marks are committed again anyway.
 * Remaining: MARKS are sent only when the group's version (negotiated at the member's last
 * barrier) is 2, so a mixed cluster with a version-1 member keeps the old behaviour: marks
 * and recovery of live kernels are lost at a master resume until the pending set commits
 * them again (a version-1 member would reject MARKS as an unknown message). A daemon that
 * restarted (new struct group) knows nothing of its kernel's marks and cannot carry them.
 * What the group does locally: the kernel's SET_REGION_SYNC(r, 1) ending a recovery that a
 * since-dropped replica granted, and that the new state does not give back to this node, is
 * answered without a message, so r stays out of sync (recovered again, writers wait) and a
 * stale copy never marks r in sync under another node's copy.
 * Replies to ordered requests delivered during a round wait for the round's outcome: if this
 * member's replica is dropped, the requests are driven again in the new state (and its
 * outstanding marks committed again). SNAP carries the writer, durable_gen and disk_failed.
 * A RESUME request is answered when this member is synced. Requests that change state are
 * held (never failed) while the member is unsynced, stale, inquorate or has lost the
 * transport, and driven when it is back.
 *
 * Validation. Every message starts with {magic, version, type, sender nodeid, seq}; a sender
 * nodeid that differs from the CPG-delivered one, an unknown version or type, or a length that
 * does not match is rejected (counted, reported through ops->event) and never applied.
 *
 * Incompatible members. The barrier waits for a STATE from every member, so a CPG member that
 * is no cmlogd of a protocol we speak would stall the log everywhere. A member that has not
 * sent a valid STATE since the last confchg is marked incompatible at the delivery of a
 * message that no cmlogd of any version sends: shorter than the header, foreign magic, a
 * header nodeid other than the delivering one, a version below GROUP_PROTO_VERSION_MIN, a
 * STATE or EXCLUDE in a version above our max_version (those always travel in MIN), or a
 * STATE that does not decode. The rules read only the delivered bytes, so every member marks
 * the same node at the same point of the order (no timer). A marked member counts in the
 * barrier as a present, quorate, stateless member that lowers no version: it never wins,
 * never receives the state, is never the master or the writer; every later message of it is
 * counted and dropped; if it was marked outside a round, a round opens there (it may have been
 * the writer). It stays marked until it leaves (confchg). Members that join later learn the
 * set from EXCLUDE{members, excluded}, which every member with a non-empty set sends before
 * its STATE at each confchg and which marks the same way on delivery. Reported loudly
 * (GROUP_EV_INCOMPATIBLE with node, header version and reason; group_status.excluded). A
 * member that sends nothing at all: a member whose barrier has waited GROUP_SILENT_MS (its
 * own clock) on members without a STATE multicasts EXCLUDE{SILENT, those members}; the
 * decision is taken at its delivery, and only for members that still sent no valid STATE
 * since the confchg, so a timer only proposes and the order decides. A cmlogd stuck that long
 * is excluded too; it sees its own exclusion (GROUP_EV_INCOMPATIBLE with its own node id),
 * holds its requests, and the daemon drops its CPG connection and joins again as a new member
 * (group_transport_lost forgets the exclusions; daemon/mlog.c). A member that cannot apply an
 * ordered change the others applied (rlog_mark out of memory in a COMMIT or in the carried
 * MARKS of a master resume) excludes itself the same way (GROUP_INCOMPAT_LOCAL): its replica
 * differs, so it answers nothing more until the rejoin's state transfer, and the others see
 * it leave and resync its regions. Errors every member gets alike (-ENOSPC) change nothing.
 * Exclusion is by node id (cpg.c merges a node's pids), which is why a member that already
 * spoke in this membership is never marked (garbage under its id is only dropped).
 */
#ifndef CMLOG_CLUSTER_GROUP_H
#define CMLOG_CLUSTER_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "log/rlog.h"

#define GROUP_PROTO_VERSION_MIN 1u
#define GROUP_PROTO_VERSION_MAX 3u
/** Largest message the group sends (well under CPG's 1 MiB atomic size). */
#define GROUP_CHUNK_MAX (64u * 1024u)
/** Bound of the deferred-clear activity set per log (extra resync after a crash, at most). */
#define GROUP_AL_MAX 1024u
/** A deferred clear leaves this long after its region's last write ended (its CLEAR). */
#define GROUP_AL_IDLE_MS 2000u
/** A barrier waiting this long on members that sent no STATE excludes them (ordered). */
#define GROUP_SILENT_MS 30000u
/** Most members a group tracks (CPG_MEMBERS_MAX). */
#define GROUP_MAX_MEMBERS 128u

/** Why a member was marked incompatible (GROUP_EV_INCOMPATIBLE). */
enum group_incompat_reason {
	GROUP_INCOMPAT_SHORT = 1,   /**< a message shorter than the header */
	GROUP_INCOMPAT_MAGIC = 2,   /**< not our magic: not a cmlog protocol at all */
	GROUP_INCOMPAT_VERSION = 3, /**< a version outside MIN..MAX of this build */
	GROUP_INCOMPAT_SENDER = 4,  /**< the header names another node than the transport */
	GROUP_INCOMPAT_PEER = 5,    /**< another member's EXCLUDE named it */
	GROUP_INCOMPAT_STATE = 6,   /**< a STATE that does not decode */
	GROUP_INCOMPAT_SILENT = 7,  /**< no STATE for GROUP_SILENT_MS in a barrier */
	GROUP_INCOMPAT_LOCAL = 8,   /**< we could not apply an ordered change (out of memory) */
};

enum group_log_type {
	GROUP_LOG_CORE = 0, /**< clustered-core: committed = delivered */
	GROUP_LOG_DISK = 1, /**< clustered-disk: committed = durable on the log device */
};

/** Kernel request types the group handles (values of DM_ULOG_* in linux/dm-log-userspace.h). */
enum group_req_type {
	GROUP_REQ_IS_CLEAN = 7,
	GROUP_REQ_IN_SYNC = 8,
	GROUP_REQ_FLUSH = 9,
	GROUP_REQ_MARK = 10,
	GROUP_REQ_CLEAR = 11,
	GROUP_REQ_GET_RESYNC_WORK = 12,
	GROUP_REQ_SET_REGION_SYNC = 13,
	GROUP_REQ_GET_SYNC_COUNT = 14,
	GROUP_REQ_IS_REMOTE_RECOVERING = 17,
	GROUP_REQ_RESUME = 5,
	GROUP_REQ_POSTSUSPEND = 4,
};

/** A decoded, validated kernel request. */
struct group_req {
	uint64_t token; /**< the caller's handle, echoed in the reply */
	enum group_req_type type;
	uint64_t regions[RLOG_MAX_BATCH]; /**< MARK/CLEAR/FLUSH(integrated): 0..32 regions */
	uint32_t n_regions;
	uint64_t region; /**< IS_CLEAN, IN_SYNC, SET_REGION_SYNC, IS_REMOTE_RECOVERING */
	bool in_sync;	 /**< SET_REGION_SYNC */
};

/** The answer to one request; the caller encodes it for the kernel. */
struct group_reply {
	int error;     /**< 0 or -errno */
	int64_t value; /**< IS_CLEAN/IN_SYNC 0|1; GET_RESYNC_WORK i (0|1); IS_REMOTE_RECOVERING 0|1 */
	uint64_t value2; /**< GET_RESYNC_WORK region; IS_REMOTE_RECOVERING hint; GET_SYNC_COUNT */
};

enum group_event {
	GROUP_EV_SYNCED,	/**< this member now holds the state */
	GROUP_EV_MASTER,	/**< this member did a master resume */
	GROUP_EV_WRITER,	/**< writer changed (arg = nodeid) */
	GROUP_EV_BAD_MESSAGE,	/**< a message was rejected (arg = sender) */
	GROUP_EV_DISK_FAILED,	/**< the log device failed ('D') */
	GROUP_EV_NODE_LEFT,	/**< arg = nodeid */
	GROUP_EV_NODE_JOINED,	/**< arg = nodeid */
	GROUP_EV_STATE_DROPPED, /**< lost a merge: rejoining clean */
	/**
	 * A member was marked incompatible (see "Incompatible members"): arg = nodeid (bits
	 * 0-31) | header version (bits 32-47, 0xffff when it sent no full header) |
	 * GROUP_INCOMPAT_* reason (bits 48-55)
	 */
	GROUP_EV_INCOMPATIBLE
};

struct group_ops {
	/**
	 * Multicast one message (agreed order). Return 0 when accepted, -EAGAIN for back-pressure
	 * (the group keeps it and tries again from group_pump/group_tick), or another -errno when
	 * the transport is gone (the group holds its requests until group_transport_restored).
	 */
	int (*send)(void *ctx, const struct iovec *iov, unsigned int n_iov);
	/** Answer local request @token. Called exactly once per request. */
	void (*reply)(void *ctx, uint64_t token, const struct group_reply *r);
	/**
	 * Writer only: write @len bytes of @buf (aligned to the block size given at create) at
	 * device offset @off, then make them durable; report through group_disk_done(@cookie).
	 * @buf stays valid until then. May be NULL for core logs.
	 */
	int (*disk_write)(void *ctx, uint64_t cookie, const uint8_t *buf, uint64_t off, size_t len);
	/** Something an operator may want to know (logging, flight recorder). May be NULL. */
	void (*event)(void *ctx, enum group_event ev, uint64_t arg);
};

struct group_params {
	char uuid[129]; /**< NUL-terminated log uuid */
	enum group_log_type type;
	uint64_t region_count;
	enum rlog_sync_mode sync_mode;
	uint32_t block_size; /**< log device logical block size (disk logs) */
	uint32_t my_nodeid;
};

struct group;

int group_create(struct group **out, const struct group_params *p, const struct group_ops *ops,
		 void *ctx);
void group_destroy(struct group *g);

/**
 * Before joining the transport: the image a master resume would use (the clean bitmap read
 * from the log device, or the clean bits of a previous local instance of the same uuid), or
 * NULL / 0 for none. The group copies it. May be called again at any time to replace the
 * image: a daemon should re-read the log device when quorum comes back, because a master
 * resume after a total loss of quorum must start from what the last writer made durable
 * (the group also keeps dirty every region its own stale replica has dirty).
 */
int group_start(struct group *g, const uint8_t *clean, uint64_t clean_regions);

/**
 * After group_start, before joining: regions a master resume keeps in sync although the
 * image says dirty (the sync bits a restarted daemon saved while the kernel kept running).
 * They stay dirty, so a crash resyncs them (rlog_resume_master_sync). Used by this member's
 * first master resume only and dropped once it holds a state (resumed or received): later
 * sync changes make it stale. NULL / 0 drops it. The group copies it.
 */
int group_start_sync(struct group *g, const uint8_t *sync, uint64_t sync_regions);

void group_confchg(struct group *g, const uint32_t *members, size_t n_members, const uint32_t *left,
		   size_t n_left, const uint32_t *joined, size_t n_joined);
void group_deliver(struct group *g, uint32_t sender, const void *buf, size_t len);
void group_request(struct group *g, const struct group_req *req);
void group_disk_done(struct group *g, uint64_t cookie, int error);
void group_set_quorate(struct group *g, bool quorate);
/** The transport is gone (corosync died): hold everything. */
void group_transport_lost(struct group *g);
/** Joined again after a reconnect: the member is unsynced until the next barrier. */
void group_transport_restored(struct group *g);
/** PRESUSPEND: local flag only (the kernel keeps sending while I/O drains). */
void group_presuspend(struct group *g);

/** Before-sleep phase: build and send batched commits, retry refused sends. */
void group_pump(struct group *g);
/** Time passes (monotonic ms): deferred clears, retry pacing. */
void group_tick(struct group *g, uint64_t now_ms);
/** True when the group has unsent messages (the caller should call group_pump soon). */
bool group_wants_pump(const struct group *g);

/* ---- status (read only) ---- */
struct group_status {
	bool synced;
	bool quorate;
	bool transport_up;
	bool disk_failed;
	bool settling;	  /**< a barrier or a state transfer is in progress (replica may change) */
	uint32_t writer;  /**< 0 when none / core */
	uint32_t version; /**< protocol version in use */
	uint32_t n_members;
	uint32_t members[GROUP_MAX_MEMBERS];
	uint64_t gen, durable_gen;
	uint64_t pending_requests;
	uint64_t bad_messages;
	uint64_t commits_sent;
	uint64_t al_regions; /**< deferred clears held in the activity set (Hot regions) */
	uint64_t epoch;	     /**< barriers decided by a quorate group (merge precedence) */
	uint32_t n_excluded; /**< members marked incompatible */
	uint32_t excluded[GROUP_MAX_MEMBERS]; /**< their node ids, ascending */
};
void group_get_status(const struct group *g, struct group_status *st);
/** Test hook: the highest protocol version this member advertises (default MAX). */
void group_set_max_version(struct group *g, uint32_t v);

/** The replica (read only) for status and tests. */
const struct rlog *group_rlog(const struct group *g);

#endif /* CMLOG_CLUSTER_GROUP_H */
