/*
 * rlog: the region-state machine of one mirror log (pure, deterministic).
 *
 * Every node of the cluster holds one struct rlog per active mirror log and applies the
 * same agreed-order stream of operations to it, so every replica is identical (invariants.md
 * rule 9). This module is libc only: no I/O, no clock, no logging, no randomness, no
 * dependence on pointer or hash iteration order. Node ids are passed in.
 *
 * Semantics follow the kernel's core/disk dirty log (drivers/md/dm-log.c), extended for a
 * cluster (see ../shared/reference/invariants.md and kernel-protocol.md s11, s14):
 *   - clean bits (1 = clean) and sync bits (1 = in sync), little-endian bit order
 *     (region i = byte i/8, bit i%8), stored as 64-bit words; an exact sync count that
 *     counts only 0->1 / 1->0 transitions below region_count;
 *   - per-node marks: MARK clears the clean bit; a region turns clean again only when no
 *     node holds a mark on it and it is in sync; marks are idempotent per node;
 *   - one resync assignment per log cluster-wide; a repeated GET_RESYNC_WORK from the
 *     assigned node returns the same region; regions that writers wait on (reported by
 *     IS_REMOTE_RECOVERING) are handed out first;
 *   - node departure drops that node's marks, puts the regions it held out of sync and
 *     releases its assignment (md-cluster style recovery of a dead node's bitmap).
 *
 * Every function returns 0 or a negative errno. Regions >= region_count give -EINVAL.
 * Memory: two bitmaps (2 bits per region) plus O(marked regions); no per-region heap objects.
 */
#ifndef CMLOG_LOG_RLOG_H
#define CMLOG_LOG_RLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Largest region count a log may have (2^31 regions: two 256 MiB bitmaps). */
#define RLOG_MAX_REGIONS (UINT64_C(1) << 31)
/** Most distinct nodes that may hold marks in one log at the same time. */
#define RLOG_MAX_NODES 64
/** Most regions in one MARK/CLEAR/FLUSH request from the kernel (MAX_FLUSH_GROUP_COUNT). */
#define RLOG_MAX_BATCH 32
/** Bound on the queue of regions that writers wait on (priority resync); oldest dropped. */
#define RLOG_MAX_PRIORITY 1024

/** The `sync` / `nosync` constructor argument. */
enum rlog_sync_mode {
	RLOG_SYNC_DEFAULT = 0, /**< neither given: keep what the disk log says */
	RLOG_SYNC_FORCE = 1,   /**< "sync": resync everything at the first resume */
	RLOG_SYNC_NONE = 2,    /**< "nosync": all regions start in sync and clean */
};

struct rlog;

/**
 * Create a log of @region_count regions (1..RLOG_MAX_REGIONS). Initial state, as the kernel's
 * ctr: every region clean; sync bits all set and sync_count == region_count for
 * RLOG_SYNC_NONE, else all clear and sync_count 0 (the conservative answer before RESUME).
 * Returns 0, -EINVAL or -ENOMEM. *out is owned by the caller (rlog_destroy).
 */
int rlog_create(struct rlog **out, uint64_t region_count, enum rlog_sync_mode mode);
void rlog_destroy(struct rlog *rl);

uint64_t rlog_region_count(const struct rlog *rl);
enum rlog_sync_mode rlog_sync_mode(const struct rlog *rl);

/* ---- the operations every replica applies in agreed order ------------------------------ */

/**
 * MARK: @node holds a mark on each region (idempotent per node). Clears the clean bit.
 * All regions are checked first: one out of range fails the whole call with -EINVAL and
 * changes nothing. -ENOSPC when a new node would exceed RLOG_MAX_NODES.
 */
int rlog_mark(struct rlog *rl, uint32_t node, const uint64_t *regions, size_t n);

/**
 * CLEAR: drop @node's mark on each region (no-op where it holds none). The clean bit is set
 * only when no node still marks the region and the region is in sync. Same checking as
 * rlog_mark.
 */
int rlog_clear(struct rlog *rl, uint32_t node, const uint64_t *regions, size_t n);

/**
 * GET_RESYNC_WORK for @node. If @node already holds the assignment, the same region again.
 * If another node holds it, no work. Otherwise the oldest queued priority region that is
 * still out of sync, else the next out-of-sync region at or after the cursor (the cursor
 * then moves past it). A region that a node other than @node still marks is never handed
 * out (its write is in flight on every leg; recovering it would race the write): priority
 * entries for it go back to the end of the queue, and the cursor stays on the first such
 * region the scan stepped over, so it is found again once the mark is cleared.
 * *found = false when there is no work. Never returns an error for a valid log.
 */
int rlog_get_resync_work(struct rlog *rl, uint32_t node, uint64_t *region, bool *found);

/**
 * SET_REGION_SYNC from @node: set or clear the sync bit (sync_count changes only on a real
 * transition). Releases the assignment if @node holds it for @region (another node's report,
 * e.g. SET_REGION_SYNC(r, 0) after its write to a leg failed, must not end the holder's
 * recovery; another node's SET_REGION_SYNC(r, 1) while the holder still copies r is ignored,
 * so a region being recovered is never reported in sync early). Setting a region in sync with
 * no marks on it makes it clean; setting it out of sync also makes it dirty and moves the
 * cursor back so it is resynced.
 */
int rlog_set_region_sync(struct rlog *rl, uint32_t node, uint64_t region, bool in_sync);

/**
 * IS_REMOTE_RECOVERING(@region) asked by @node, answered from the ordered stream.
 * *recovering is true when the region is out of sync and the log has more than one member
 * (@multi_member): another node might be recovering it (invariants.md rule 1). With a single
 * member it is false. A region reported as recovering is queued as a priority region so it
 * is resynced next. *hint is the in-sync hint: the lowest region not in sync, or
 * region_count when all are.
 */
int rlog_is_remote_recovering(struct rlog *rl, uint32_t node, uint64_t region, bool multi_member,
			      bool *recovering, uint64_t *hint);

/**
 * A node left the log's group (crash or leave): drop its marks, put every region it held
 * marked out of sync (and dirty), release its resync assignment, move the cursor back so
 * those regions are resynced.
 */
int rlog_node_left(struct rlog *rl, uint32_t node);

/**
 * Master resume (the first member with no state to receive), as dm-log's disk_resume:
 * @disk_clean is the clean bitmap read from the log device, little-endian bit order,
 * covering @disk_regions regions (NULL / 0 when there is none: core log, unreadable or bad
 * header). RLOG_SYNC_FORCE and RLOG_SYNC_NONE ignore the disk (a new log). Regions below
 * disk_regions take the disk's clean bit, the rest are clean only for RLOG_SYNC_NONE.
 * Then sync := clean, sync_count = popcount, cursor = 0, assignment and priority queue
 * emptied, marks dropped. @disk_regions may exceed region_count (extra bits ignored).
 */
int rlog_resume_master(struct rlog *rl, const uint8_t *disk_clean, uint64_t disk_regions);

/**
 * Master resume with a separate in-sync image (a daemon restarted under a live kernel):
 * exactly rlog_resume_master(@disk_clean, @disk_regions), then every region below
 * @sync_regions whose bit is set in @sync (little-endian bit order, NULL / 0 for none) is in
 * sync as well, whatever its clean bit: sync := clean OR sync, clean := the disk image. Such
 * a region stays dirty, so a crash before the kernel clears it again resyncs it, and it is
 * never reported clean while the live kernel may still write it. RLOG_SYNC_FORCE and
 * RLOG_SYNC_NONE ignore @sync as they ignore the disk. @sync_regions may exceed
 * region_count (extra bits ignored).
 */
int rlog_resume_master_sync(struct rlog *rl, const uint8_t *disk_clean, uint64_t disk_regions,
			    const uint8_t *sync, uint64_t sync_regions);

/**
 * Re-establish a recovery @node's kernel still runs (after a master resume that dropped the
 * replica which granted it, cluster/group.h "Fencing"): @region is put out of sync (and
 * dirty) if it is not, so writers wait for the copy, and assigned to @node. The cursor and
 * the priority queue are untouched. -EBUSY when the log already has an assignment (nothing
 * changes: one recovery per log), -EINVAL for a region out of range.
 */
int rlog_set_assignment(struct rlog *rl, uint32_t node, uint64_t region);

/**
 * Grow (or shrink) to @region_count regions, keeping existing bits; new regions are clean
 * and in sync only for RLOG_SYNC_NONE. Marks and the assignment on removed regions are
 * dropped. sync_count stays exact.
 */
int rlog_resize(struct rlog *rl, uint64_t region_count);

/* ---- queries (read only) ---------------------------------------------------------------- */

int rlog_in_sync(const struct rlog *rl, uint64_t region, bool *in_sync);
int rlog_is_clean(const struct rlog *rl, uint64_t region, bool *clean);
/** Exact number of in-sync regions below region_count. */
uint64_t rlog_sync_count(const struct rlog *rl);
/** Lowest region not in sync, or region_count when every region is in sync. */
uint64_t rlog_in_sync_hint(const struct rlog *rl);
/** True when @node holds a mark on @region (false for an out-of-range region). */
bool rlog_node_marked(const struct rlog *rl, uint32_t node, uint64_t region);
/** Number of regions @node has marked. */
uint64_t rlog_node_mark_count(const struct rlog *rl, uint32_t node);
/** Total (region, node) marks held. */
uint64_t rlog_mark_count(const struct rlog *rl);
/** Current resync assignment; false when none. */
bool rlog_assignment(const struct rlog *rl, uint64_t *region, uint32_t *node);
/** The resync cursor (next region the sequential scan looks at). */
uint64_t rlog_cursor(const struct rlog *rl);
/** Number of clean regions. */
uint64_t rlog_clean_count(const struct rlog *rl);

/* ---- the kernel's on-disk format (clustered-disk logs) --------------------------------- */

#define RLOG_DISK_MAGIC		0x4D695272u /* "MiRr" */
#define RLOG_DISK_VERSION	2u
#define RLOG_DISK_BITMAP_OFFSET 1024u /* LOG_OFFSET: 2 sectors */
#define RLOG_DISK_HEADER_SIZE	16u   /* magic, version (le32), nr_regions (le64) */

/** Errors of rlog_disk_decode_header, as negative values. */
enum rlog_disk_error {
	RLOG_DISK_OK = 0,
	RLOG_DISK_ESHORT = -1,	 /**< buffer smaller than the header / bitmap */
	RLOG_DISK_EMAGIC = -2,	 /**< magic is not 0x4D695272 */
	RLOG_DISK_EVERSION = -3, /**< version not 1 or 2 */
	RLOG_DISK_ERANGE = -4,	 /**< nr_regions 0 or above RLOG_MAX_REGIONS */
};
/** Human-readable text for an enum rlog_disk_error. */
const char *rlog_disk_strerror(int err);

/**
 * Bytes the log device must provide for @region_count regions: 1024 + the bitset size,
 * rounded up to a multiple of @block_size (a power of two, >= 512; 0 = no rounding), as
 * dm-log does. The kernel sizes the bitset in longs: round_up(count, 64) / 8 bytes.
 */
uint64_t rlog_disk_size(uint64_t region_count, uint32_t block_size);

/**
 * Encode the header (version 2, nr_regions = region_count) and the whole clean bitmap into
 * @buf of @len bytes (>= rlog_disk_size(region_count, 512) without the rounding: 1024 +
 * ceil(count/8)); bytes between the header and 1024, and bitmap bits past region_count, are
 * zero. Returns 0 or -ENOSPC.
 */
int rlog_disk_encode(const struct rlog *rl, uint8_t *buf, size_t len);

/**
 * Decode a header from @buf (@len bytes). On success *nr_regions is the on-disk count and
 * the clean bitmap starts at buf + 1024. Returns RLOG_DISK_OK or an enum rlog_disk_error.
 */
int rlog_disk_decode_header(const uint8_t *buf, size_t len, uint64_t *nr_regions);

/**
 * The part of the clean bitmap changed since the last call (byte range, 8-byte aligned,
 * relative to the bitmap start, i.e. add 1024 for the device offset), so a disk writer can
 * write the header plus only what changed. *len = 0 when nothing changed. Resets tracking.
 * This is local bookkeeping (not part of the digest or the snapshot).
 */
void rlog_disk_take_dirty(struct rlog *rl, uint64_t *offset, uint64_t *len);
/** Mark the whole bitmap as changed (a new writer, a resume). */
void rlog_disk_mark_all_dirty(struct rlog *rl);
/** Copy @len bytes of the encoded bitmap (little-endian bit order) from @offset into @out. */
int rlog_disk_bitmap_read(const struct rlog *rl, uint64_t offset, uint8_t *out, size_t len);
/**
 * Copy @len bytes of the in-sync bitmap (little-endian bit order, bit i = region i in sync,
 * bits past region_count 0) from byte @offset into @out: a whole-bitmap export in word
 * steps, for the daemon's sync state file (a per-region rlog_in_sync loop is too slow for
 * 2^31 regions). -EINVAL when the range is outside the bitmap.
 */
int rlog_sync_bitmap_read(const struct rlog *rl, uint64_t offset, uint8_t *out, size_t len);
/**
 * Clean bitmap images (little-endian bit order, bit i = region i clean): keep a region clean
 * in @image only where @other also says clean, for the first @n regions (both hold at least
 * ceil(n/8) bytes; bits from @n on are left as they are). Returns how many regions turned
 * dirty. Byte steps: fast enough for 2^31 regions.
 */
uint64_t rlog_image_intersect(uint8_t *image, const uint8_t *other, uint64_t n);

/* ---- state transfer --------------------------------------------------------------------- */

#define RLOG_SNAPSHOT_VERSION 1u

/**
 * A full-state snapshot: region count, sync mode, both bitmaps (run-length compressed, so
 * mostly-clean and mostly-dirty bitmaps are small), marks with their node slots, the
 * assignment, the cursor, the priority queue and the generation @gen supplied by the
 * caller. Versioned; little-endian.
 *
 * The encoder is incremental so a huge log is sent in bounded chunks without building the
 * whole image: rlog_snapshot_begin copies nothing and holds a pointer to @rl, so the caller
 * must not change @rl until the encoder is done; callers that keep applying operations take
 * a frozen copy first with rlog_clone.
 */
struct rlog_snap_enc;
int rlog_snapshot_begin(const struct rlog *rl, uint64_t gen, struct rlog_snap_enc **out);
/** Write up to @cap bytes of the next chunk; *len is what was written, *done true at the end. */
int rlog_snapshot_next(struct rlog_snap_enc *enc, uint8_t *buf, size_t cap, size_t *len,
		       bool *done);
void rlog_snapshot_end(struct rlog_snap_enc *enc);

/** Incremental decoder: feed chunks in order; the log exists after the last chunk. */
struct rlog_snap_dec;
int rlog_snapshot_dec_begin(struct rlog_snap_dec **out);
/** -EBADMSG on malformed input (the decoder is then unusable); *done at the end. */
int rlog_snapshot_dec_feed(struct rlog_snap_dec *dec, const uint8_t *buf, size_t len, bool *done);
/** Take the decoded log (after done) and its generation; the decoder keeps nothing. */
int rlog_snapshot_dec_finish(struct rlog_snap_dec *dec, struct rlog **out, uint64_t *gen);
void rlog_snapshot_dec_free(struct rlog_snap_dec *dec);

/** Deep copy (for a frozen snapshot source). */
int rlog_clone(const struct rlog *rl, struct rlog **out);

/* ---- proving replicas identical ---------------------------------------------------------- */

/**
 * A 64-bit digest of the whole replicated state (bitmaps, sync count, marks per node id,
 * assignment, cursor, priority queue), independent of memory layout and insertion order.
 */
uint64_t rlog_digest(const struct rlog *rl);

#endif /* CMLOG_LOG_RLOG_H */
