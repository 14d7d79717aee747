/*
 * marks.h: per-node marks of one rlog.
 *
 * Nodes get a slot (0..RLOG_MAX_NODES-1, lowest free first) in a small table of node ids;
 * a region's marks are a 64-bit mask of slots, kept in an open-addressing hash keyed by
 * region (linear probing, backward-shift deletion, no tombstones). Lookups give the same
 * answers whatever the insertion order; callers that need an order (snapshot, digest) sort
 * or combine commutatively, never walk the table in storage order for a replicated result.
 */
#ifndef CMLOG_LOG_MARKS_H
#define CMLOG_LOG_MARKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/rlog.h"

struct rlog_mark_ent {
	uint64_t region;
	uint64_t mask; /* slots marking the region; 0 = empty table entry */
};

struct rlog_marks {
	uint32_t slot_node[RLOG_MAX_NODES];
	uint64_t slot_count[RLOG_MAX_NODES]; /* regions marked per slot */
	uint64_t slot_used;		     /* bit s: slot s holds a node */
	uint64_t total;			     /* (region, node) marks held */
	struct rlog_mark_ent *tab;
	size_t cap;  /* power of two, or 0 before the first mark */
	size_t used; /* non-empty entries */
};

void rlog_marks_init(struct rlog_marks *m);
void rlog_marks_fini(struct rlog_marks *m);
/** Drop every mark and free every slot (keeps the table memory). */
void rlog_marks_reset(struct rlog_marks *m);
int rlog_marks_clone(const struct rlog_marks *src, struct rlog_marks *dst);

/** Slot of @node, or -1. */
int rlog_marks_slot_find(const struct rlog_marks *m, uint32_t node);
/** Slot of @node, taking the lowest free one if it has none; -ENOSPC when all are used. */
int rlog_marks_slot_get(struct rlog_marks *m, uint32_t node);
/** Free slot @slot (it must hold no marks). */
void rlog_marks_slot_free(struct rlog_marks *m, int slot);

/** Make room for @extra more regions so rlog_marks_add cannot fail; -ENOMEM. */
int rlog_marks_reserve(struct rlog_marks *m, size_t extra);
/** Slot mask of @region (0 when unmarked). */
uint64_t rlog_marks_get(const struct rlog_marks *m, uint64_t region);
/** Add @slot's mark on @region (room reserved); true when it was new. */
bool rlog_marks_add(struct rlog_marks *m, uint64_t region, int slot);
/** Drop @slot's mark on @region; true when it was held. */
bool rlog_marks_del(struct rlog_marks *m, uint64_t region, int slot);

/**
 * Drop every mark of @slot, calling @fn(ctx, region) for each region it marked (after the
 * mark is gone). Order of calls is storage order: @fn must be order-independent.
 */
void rlog_marks_drop_slot(struct rlog_marks *m, int slot, void (*fn)(void *ctx, uint64_t region),
			  void *ctx);
/** Drop every mark on regions >= @limit. */
void rlog_marks_drop_from(struct rlog_marks *m, uint64_t limit);

/**
 * Copy the non-empty entries, sorted by region, into a new array (*out, *n; free()).
 * Returns 0 or -ENOMEM; *out is NULL when there are none.
 */
int rlog_marks_sorted(const struct rlog_marks *m, struct rlog_mark_ent **out, size_t *n);

#endif /* CMLOG_LOG_MARKS_H */
