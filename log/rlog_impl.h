/*
 * rlog_impl.h: the layout of struct rlog, shared by the files of log/ only (rlog.c, disk.c,
 * snapshot.c, digest.c). Nothing outside log/ includes it.
 */
#ifndef CMLOG_LOG_RLOG_IMPL_H
#define CMLOG_LOG_RLOG_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "log/marks.h"
#include "log/rlog.h"

struct rlog {
	uint64_t region_count;
	enum rlog_sync_mode mode;
	uint64_t nwords; /* words per bitmap: ceil(region_count / 64) */
	uint64_t *clean; /* 1 = clean; bits past region_count are 0 */
	uint64_t *sync;	 /* 1 = in sync; bits past region_count are 0 */
	/*
	 * Summary of sync (local, derived): bit w set iff sync word w is all ones, so the next
	 * out-of-sync region is found with 1 bit per 64 regions to scan (hint, resync scan).
	 */
	uint64_t *sync_full;
	uint64_t sync_count;
	uint64_t clean_count;
	uint64_t cursor; /* 0..region_count */
	bool has_assign;
	uint64_t assign_region;
	uint32_t assign_node;
	/* FIFO of regions writers wait on: ring of prio_len entries from prio_head, distinct. */
	uint32_t prio_head;
	uint32_t prio_len;
	uint64_t prio[RLOG_MAX_PRIORITY];
	struct rlog_marks marks;

	/* Local bookkeeping, not replicated (excluded from digest and snapshot). */
	uint64_t hint;	   /* exact lowest region not in sync, or region_count */
	uint64_t dirty_lo; /* changed bitmap bytes [dirty_lo, dirty_hi); lo > hi = none */
	uint64_t dirty_hi;
};

/** Bytes of the bitmap as the kernel sizes it (whole 64-bit words). */
static inline uint64_t rlog_bitset_bytes(uint64_t region_count)
{
	return (region_count + 63) / 64 * 8;
}

/** Allocate an empty rlog with zeroed bitmaps for @region_count regions (no checks). */
int rlog_alloc(struct rlog **out, uint64_t region_count, enum rlog_sync_mode mode);
/** Recompute counters, the sync summary and the hint from the bitmaps (after a bulk change). */
void rlog_recount(struct rlog *rl);

#endif /* CMLOG_LOG_RLOG_IMPL_H */
