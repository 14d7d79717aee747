/*
 * rlog.c: the state of one mirror log and the operations every replica applies in agreed
 * order (see rlog.h for the contract).
 *
 * Invariants kept after every call (tests/unit/test_rlog_model.c checks them):
 *   - bits past region_count are zero in both bitmaps;
 *   - sync_count and clean_count equal the popcounts (changed only on real transitions);
 *   - a region some node marks is never clean;
 *   - at most one assignment, always on a region below region_count;
 *   - the priority ring holds distinct regions below region_count;
 *   - sync_full bit w is set iff sync word w is all ones (a one-level summary);
 *   - hint is the exact lowest region not in sync (local cache: it only moves back when a
 *     sync bit below it clears, and moves forward when the bit at it is set, by a scan of
 *     the summary: 1 bit per 64 regions, so even 2^31 regions cost at most 512 Ki words,
 *     and resync in increasing order costs amortised O(1) per region);
 *   - every clean-bit change widens the disk dirty range.
 * Nothing here reads a clock, does I/O or depends on hash storage order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log/bitmap.h"
#include "log/rlog_impl.h"

/* ---- bit helpers that keep the counters, the hint and the dirty range exact ------------- */

static void dirty_touch(struct rlog *rl, uint64_t region)
{
	uint64_t b = region / 64 * 8;

	if (rl->dirty_lo > rl->dirty_hi) {
		rl->dirty_lo = b;
		rl->dirty_hi = b + 8;
		return;
	}
	if (b < rl->dirty_lo)
		rl->dirty_lo = b;
	if (b + 8 > rl->dirty_hi)
		rl->dirty_hi = b + 8;
}

static void clean_set(struct rlog *rl, uint64_t region)
{
	if (rlog_bm_set(rl->clean, region)) {
		rl->clean_count++;
		dirty_touch(rl, region);
	}
}

static void clean_clear(struct rlog *rl, uint64_t region)
{
	if (rlog_bm_clear(rl->clean, region)) {
		rl->clean_count--;
		dirty_touch(rl, region);
	}
}

static uint64_t summary_words(uint64_t nwords)
{
	return rlog_bm_words(nwords);
}

/* Lowest region at or after @from not in sync, or region_count; uses the summary. */
static uint64_t sync_next_zero(const struct rlog *rl, uint64_t from)
{
	uint64_t w, v, r;

	if (from >= rl->region_count)
		return rl->region_count;
	w = from / 64;
	v = ~rl->sync[w] & (~UINT64_C(0) << (from % 64));
	if (!v) {
		w = rlog_bm_next_zero(rl->sync_full, rl->nwords, w + 1);
		if (w >= rl->nwords)
			return rl->region_count;
		v = ~rl->sync[w];
	}
	r = w * 64 + (uint64_t)__builtin_ctzll(v);
	return r < rl->region_count ? r : rl->region_count;
}

static void sync_set(struct rlog *rl, uint64_t region)
{
	if (rlog_bm_set(rl->sync, region)) {
		rl->sync_count++;
		if (rl->sync[region / 64] == ~UINT64_C(0))
			rlog_bm_set(rl->sync_full, region / 64);
		if (region == rl->hint)
			rl->hint = sync_next_zero(rl, region + 1);
	}
}

static void sync_clear(struct rlog *rl, uint64_t region)
{
	if (rlog_bm_clear(rl->sync, region)) {
		rl->sync_count--;
		rlog_bm_clear(rl->sync_full, region / 64);
		if (region < rl->hint)
			rl->hint = region;
	}
}

static bool valid_regions(const struct rlog *rl, const uint64_t *regions, size_t n)
{
	size_t i;

	if (n > RLOG_MAX_BATCH || (n && !regions))
		return false;
	for (i = 0; i < n; i++)
		if (regions[i] >= rl->region_count)
			return false;
	return true;
}

static void release_assignment(struct rlog *rl)
{
	rl->has_assign = false;
	rl->assign_region = 0;
	rl->assign_node = 0;
}

/* ---- life cycle ------------------------------------------------------------------------- */

int rlog_alloc(struct rlog **out, uint64_t region_count, enum rlog_sync_mode mode)
{
	struct rlog *rl;
	uint64_t nw = rlog_bm_words(region_count);

	*out = NULL;
	if (nw > SIZE_MAX / sizeof(uint64_t))
		return -ENOMEM;
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return -ENOMEM;
	rl->region_count = region_count;
	rl->mode = mode;
	rl->nwords = nw;
	rl->clean = calloc((size_t)nw, sizeof(uint64_t));
	rl->sync = calloc((size_t)nw, sizeof(uint64_t));
	rl->sync_full = calloc((size_t)summary_words(nw), sizeof(uint64_t));
	if (!rl->clean || !rl->sync || !rl->sync_full) {
		rlog_destroy(rl);
		return -ENOMEM;
	}
	rlog_marks_init(&rl->marks);
	rl->dirty_lo = 0;
	rl->dirty_hi = rlog_bitset_bytes(region_count);
	*out = rl;
	return 0;
}

void rlog_recount(struct rlog *rl)
{
	uint64_t w;

	rl->sync_count = rlog_bm_popcount_range(rl->sync, 0, rl->region_count);
	rl->clean_count = rlog_bm_popcount_range(rl->clean, 0, rl->region_count);
	memset(rl->sync_full, 0, (size_t)summary_words(rl->nwords) * sizeof(uint64_t));
	for (w = 0; w < rl->nwords; w++)
		if (rl->sync[w] == ~UINT64_C(0))
			rlog_bm_set(rl->sync_full, w);
	rl->hint = sync_next_zero(rl, 0);
}

static bool valid_mode(enum rlog_sync_mode mode)
{
	return mode == RLOG_SYNC_DEFAULT || mode == RLOG_SYNC_FORCE || mode == RLOG_SYNC_NONE;
}

int rlog_create(struct rlog **out, uint64_t region_count, enum rlog_sync_mode mode)
{
	struct rlog *rl;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (region_count < 1 || region_count > RLOG_MAX_REGIONS || !valid_mode(mode))
		return -EINVAL;
	ret = rlog_alloc(&rl, region_count, mode);
	if (ret)
		return ret;
	rlog_bm_fill(rl->clean, 0, region_count, true);
	if (mode == RLOG_SYNC_NONE)
		rlog_bm_fill(rl->sync, 0, region_count, true);
	rlog_recount(rl);
	*out = rl;
	return 0;
}

void rlog_destroy(struct rlog *rl)
{
	if (!rl)
		return;
	rlog_marks_fini(&rl->marks);
	free(rl->clean);
	free(rl->sync);
	free(rl->sync_full);
	free(rl);
}

int rlog_clone(const struct rlog *rl, struct rlog **out)
{
	struct rlog *c;
	struct rlog_marks marks;
	int ret;

	if (!out)
		return -EINVAL;
	ret = rlog_alloc(&c, rl->region_count, rl->mode);
	if (ret)
		return ret;
	ret = rlog_marks_clone(&rl->marks, &marks);
	if (ret) {
		rlog_destroy(c);
		return ret;
	}
	memcpy(c->clean, rl->clean, (size_t)rl->nwords * sizeof(uint64_t));
	memcpy(c->sync, rl->sync, (size_t)rl->nwords * sizeof(uint64_t));
	memcpy(c->sync_full, rl->sync_full, (size_t)summary_words(rl->nwords) * sizeof(uint64_t));
	c->sync_count = rl->sync_count;
	c->clean_count = rl->clean_count;
	c->cursor = rl->cursor;
	c->has_assign = rl->has_assign;
	c->assign_region = rl->assign_region;
	c->assign_node = rl->assign_node;
	c->prio_head = rl->prio_head;
	c->prio_len = rl->prio_len;
	memcpy(c->prio, rl->prio, sizeof(c->prio));
	c->marks = marks;
	c->hint = rl->hint;
	c->dirty_lo = rl->dirty_lo;
	c->dirty_hi = rl->dirty_hi;
	*out = c;
	return 0;
}

uint64_t rlog_region_count(const struct rlog *rl)
{
	return rl->region_count;
}

enum rlog_sync_mode rlog_sync_mode(const struct rlog *rl)
{
	return rl->mode;
}

/* ---- replicated operations -------------------------------------------------------------- */

int rlog_mark(struct rlog *rl, uint32_t node, const uint64_t *regions, size_t n)
{
	bool new_slot;
	size_t i;
	int slot, ret;

	if (!valid_regions(rl, regions, n))
		return -EINVAL;
	if (!n)
		return 0;
	new_slot = rlog_marks_slot_find(&rl->marks, node) < 0;
	slot = rlog_marks_slot_get(&rl->marks, node);
	if (slot < 0)
		return slot;
	/* Room first, so nothing changes when memory runs out. */
	ret = rlog_marks_reserve(&rl->marks, n);
	if (ret) {
		if (new_slot)
			rlog_marks_slot_free(&rl->marks, slot);
		return ret;
	}
	for (i = 0; i < n; i++) {
		rlog_marks_add(&rl->marks, regions[i], slot);
		clean_clear(rl, regions[i]);
	}
	return 0;
}

int rlog_clear(struct rlog *rl, uint32_t node, const uint64_t *regions, size_t n)
{
	size_t i;
	int slot;

	if (!valid_regions(rl, regions, n))
		return -EINVAL;
	slot = rlog_marks_slot_find(&rl->marks, node);
	for (i = 0; i < n; i++) {
		uint64_t r = regions[i];

		if (slot >= 0)
			rlog_marks_del(&rl->marks, r, slot);
		/* As dm-log's clear: an unmarked region in sync is clean, whoever marked it. */
		if (!rlog_marks_get(&rl->marks, r) && rlog_bm_test(rl->sync, r))
			clean_set(rl, r);
	}
	return 0;
}

static uint64_t prio_at(const struct rlog *rl, uint32_t i)
{
	return rl->prio[(rl->prio_head + i) % RLOG_MAX_PRIORITY];
}

static uint64_t prio_pop(struct rlog *rl)
{
	uint64_t r = rl->prio[rl->prio_head];

	rl->prio_head = (rl->prio_head + 1) % RLOG_MAX_PRIORITY;
	rl->prio_len--;
	return r;
}

static void prio_push(struct rlog *rl, uint64_t region)
{
	uint32_t i;

	for (i = 0; i < rl->prio_len; i++)
		if (prio_at(rl, i) == region)
			return;
	if (rl->prio_len == RLOG_MAX_PRIORITY)
		prio_pop(rl); /* bounded: the oldest waiter is dropped (still found by the scan) */
	rl->prio[(rl->prio_head + rl->prio_len) % RLOG_MAX_PRIORITY] = region;
	rl->prio_len++;
}

/*
 * True when a node other than @node marks @region. Such a region went out of sync while a
 * write was in flight on every leg (a co-marking node died): recovering it now would race
 * that write, so it is handed out only once the mark is cleared.
 */
static bool marked_by_other(const struct rlog *rl, uint32_t node, uint64_t region)
{
	uint64_t mask = rlog_marks_get(&rl->marks, region);
	int slot;

	if (!mask)
		return false;
	slot = rlog_marks_slot_find(&rl->marks, node);
	if (slot >= 0)
		mask &= ~(UINT64_C(1) << slot);
	return mask != 0;
}

static void assign(struct rlog *rl, uint32_t node, uint64_t r, uint64_t *region, bool *found)
{
	rl->has_assign = true;
	rl->assign_region = r;
	rl->assign_node = node;
	*region = r;
	*found = true;
}

int rlog_get_resync_work(struct rlog *rl, uint32_t node, uint64_t *region, bool *found)
{
	uint64_t r, first_skipped = UINT64_MAX;
	uint32_t i, n;

	*found = false;
	*region = 0;
	if (rl->has_assign) {
		if (rl->assign_node == node) {
			*region = rl->assign_region;
			*found = true;
		}
		return 0;
	}
	/* Priority regions that another node still marks go back to the end of the queue. */
	for (i = 0, n = (uint32_t)rl->prio_len; i < n; i++) {
		r = prio_pop(rl);
		if (r >= rl->region_count || rlog_bm_test(rl->sync, r))
			continue;
		if (marked_by_other(rl, node, r)) {
			prio_push(rl, r);
			continue;
		}
		assign(rl, node, r, region, found);
		return 0;
	}
	/*
	 * The sequential scan steps over marked regions but leaves the cursor on the first one
	 * it skipped, so it comes back to it once the mark is cleared.
	 */
	for (r = sync_next_zero(rl, rl->cursor); r < rl->region_count;
	     r = sync_next_zero(rl, r + 1)) {
		if (!marked_by_other(rl, node, r))
			break;
		if (first_skipped == UINT64_MAX)
			first_skipped = r;
	}
	if (r >= rl->region_count) {
		rl->cursor = first_skipped != UINT64_MAX ? first_skipped : rl->region_count;
		return 0;
	}
	rl->cursor = first_skipped != UINT64_MAX ? first_skipped : r + 1;
	assign(rl, node, r, region, found);
	return 0;
}

int rlog_set_region_sync(struct rlog *rl, uint32_t node, uint64_t region, bool in_sync)
{
	if (region >= rl->region_count)
		return -EINVAL;
	/*
	 * Only the holder's report ends a recovery: a SET_REGION_SYNC(r, 0) from another node
	 * (its write to a leg failed) must not free r while the holder's kernel still copies it.
	 */
	if (rl->has_assign && rl->assign_region == region) {
		if (rl->assign_node == node)
			release_assignment(rl);
		else if (in_sync)
			return 0; /* the holder is still copying it: only its report counts */
	}
	if (in_sync) {
		sync_set(rl, region);
		if (!rlog_marks_get(&rl->marks, region))
			clean_set(rl, region);
	} else {
		sync_clear(rl, region);
		clean_clear(rl, region);
		if (region < rl->cursor)
			rl->cursor = region;
	}
	return 0;
}

int rlog_is_remote_recovering(struct rlog *rl, uint32_t node, uint64_t region, bool multi_member,
			      bool *recovering, uint64_t *hint)
{
	bool rec;

	if (region >= rl->region_count)
		return -EINVAL;
	rec = multi_member && !rlog_bm_test(rl->sync, region);
	if (rec && !(rl->has_assign && rl->assign_region == region))
		prio_push(rl, region);
	if (recovering)
		*recovering = rec;
	if (hint)
		*hint = rl->hint;
	return 0;
}

static void left_region(void *ctx, uint64_t region)
{
	struct rlog *rl = ctx;

	sync_clear(rl, region);
	clean_clear(rl, region);
	if (region < rl->cursor)
		rl->cursor = region;
}

int rlog_node_left(struct rlog *rl, uint32_t node)
{
	int slot = rlog_marks_slot_find(&rl->marks, node);

	/*
	 * A region the node was recovering is still out of sync; move the cursor back to it so
	 * the survivors recover it (the scan never wraps by itself).
	 */
	if (rl->has_assign && rl->assign_node == node) {
		if (rl->assign_region < rl->cursor)
			rl->cursor = rl->assign_region;
		release_assignment(rl);
	}
	if (slot < 0)
		return 0;
	rlog_marks_drop_slot(&rl->marks, slot, left_region, rl);
	rlog_marks_slot_free(&rl->marks, slot);
	return 0;
}

int rlog_set_assignment(struct rlog *rl, uint32_t node, uint64_t region)
{
	if (region >= rl->region_count)
		return -EINVAL;
	if (rl->has_assign)
		return -EBUSY;
	/* a copy in progress: the region must not read in sync before the holder reports */
	sync_clear(rl, region);
	clean_clear(rl, region);
	rl->has_assign = true;
	rl->assign_region = region;
	rl->assign_node = node;
	return 0;
}

/* Little-endian word @w of a disk bitmap of @nbytes bytes (missing bytes read as 0). */
static uint64_t disk_word(const uint8_t *disk, uint64_t nbytes, uint64_t w)
{
	uint64_t v = 0, b = w * 8;
	unsigned i;

	for (i = 0; i < 8 && b + i < nbytes; i++)
		v |= (uint64_t)disk[b + i] << (8 * i);
	return v;
}

int rlog_resume_master(struct rlog *rl, const uint8_t *disk_clean, uint64_t disk_regions)
{
	uint64_t lim, w, lw, nbytes;
	bool dflt = rl->mode == RLOG_SYNC_NONE;

	if (rl->mode != RLOG_SYNC_DEFAULT || !disk_clean)
		disk_regions = 0;
	lim = disk_regions < rl->region_count ? disk_regions : rl->region_count;
	nbytes = (lim + 7) / 8;
	lw = rlog_bm_words(lim);
	for (w = 0; w < lw; w++)
		rl->clean[w] = disk_word(disk_clean, nbytes, w);
	if (lim)
		rlog_bm_trim(rl->clean, lim);
	rlog_bm_fill(rl->clean, lim, rl->nwords * 64, false);
	rlog_bm_fill(rl->clean, lim, rl->region_count, dflt);
	memcpy(rl->sync, rl->clean, (size_t)rl->nwords * sizeof(uint64_t));
	rl->cursor = 0;
	release_assignment(rl);
	rl->prio_head = 0;
	rl->prio_len = 0;
	rlog_marks_reset(&rl->marks);
	rlog_recount(rl);
	rlog_disk_mark_all_dirty(rl);
	return 0;
}

int rlog_resume_master_sync(struct rlog *rl, const uint8_t *disk_clean, uint64_t disk_regions,
			    const uint8_t *sync, uint64_t sync_regions)
{
	uint64_t lim, w, lw, nbytes;

	rlog_resume_master(rl, disk_clean, disk_regions);
	if (rl->mode != RLOG_SYNC_DEFAULT || !sync)
		return 0;
	lim = sync_regions < rl->region_count ? sync_regions : rl->region_count;
	nbytes = (lim + 7) / 8;
	lw = rlog_bm_words(lim);
	for (w = 0; w < lw; w++) {
		uint64_t v = disk_word(sync, nbytes, w);

		/* bits at and past @lim are not part of the image */
		if (w == lw - 1 && lim % 64)
			v &= (UINT64_C(1) << (lim % 64)) - 1;
		rl->sync[w] |= v;
	}
	rlog_recount(rl);
	return 0;
}

int rlog_resize(struct rlog *rl, uint64_t region_count)
{
	uint64_t nw = rlog_bm_words(region_count), old = rl->region_count, keep;
	uint64_t *nc, *ns, *nf;
	uint32_t i, k;
	bool dflt = rl->mode == RLOG_SYNC_NONE;

	if (region_count < 1 || region_count > RLOG_MAX_REGIONS)
		return -EINVAL;
	/* New arrays first: on failure nothing changed. */
	nc = calloc((size_t)nw, sizeof(uint64_t));
	ns = calloc((size_t)nw, sizeof(uint64_t));
	nf = calloc((size_t)summary_words(nw), sizeof(uint64_t));
	if (!nc || !ns || !nf) {
		free(nc);
		free(ns);
		free(nf);
		return -ENOMEM;
	}
	keep = nw < rl->nwords ? nw : rl->nwords;
	memcpy(nc, rl->clean, (size_t)keep * sizeof(uint64_t));
	memcpy(ns, rl->sync, (size_t)keep * sizeof(uint64_t));
	free(rl->clean);
	free(rl->sync);
	free(rl->sync_full);
	rl->clean = nc;
	rl->sync = ns;
	rl->sync_full = nf;
	rl->nwords = nw;
	rl->region_count = region_count;
	if (region_count < old) {
		rlog_bm_trim(nc, region_count);
		rlog_bm_trim(ns, region_count);
	} else {
		rlog_bm_fill(nc, old, region_count, dflt);
		rlog_bm_fill(ns, old, region_count, dflt);
	}
	rlog_marks_drop_from(&rl->marks, region_count);
	if (rl->has_assign && rl->assign_region >= region_count)
		release_assignment(rl);
	for (i = 0, k = 0; i < rl->prio_len; i++) {
		uint64_t r = prio_at(rl, i);

		if (r < region_count)
			rl->prio[k++] = r;
	}
	rl->prio_head = 0;
	rl->prio_len = k;
	if (rl->cursor > region_count)
		rl->cursor = region_count;
	rlog_recount(rl);
	rlog_disk_mark_all_dirty(rl);
	return 0;
}

/* ---- queries ---------------------------------------------------------------------------- */

int rlog_in_sync(const struct rlog *rl, uint64_t region, bool *in_sync)
{
	if (region >= rl->region_count)
		return -EINVAL;
	*in_sync = rlog_bm_test(rl->sync, region);
	return 0;
}

int rlog_is_clean(const struct rlog *rl, uint64_t region, bool *clean)
{
	if (region >= rl->region_count)
		return -EINVAL;
	*clean = rlog_bm_test(rl->clean, region);
	return 0;
}

uint64_t rlog_sync_count(const struct rlog *rl)
{
	return rl->sync_count;
}

uint64_t rlog_in_sync_hint(const struct rlog *rl)
{
	return rl->hint;
}

bool rlog_node_marked(const struct rlog *rl, uint32_t node, uint64_t region)
{
	int slot;

	if (region >= rl->region_count)
		return false;
	slot = rlog_marks_slot_find(&rl->marks, node);
	if (slot < 0)
		return false;
	return rlog_marks_get(&rl->marks, region) >> slot & 1;
}

uint64_t rlog_node_mark_count(const struct rlog *rl, uint32_t node)
{
	int slot = rlog_marks_slot_find(&rl->marks, node);

	return slot < 0 ? 0 : rl->marks.slot_count[slot];
}

uint64_t rlog_mark_count(const struct rlog *rl)
{
	return rl->marks.total;
}

bool rlog_assignment(const struct rlog *rl, uint64_t *region, uint32_t *node)
{
	if (region)
		*region = rl->has_assign ? rl->assign_region : 0;
	if (node)
		*node = rl->has_assign ? rl->assign_node : 0;
	return rl->has_assign;
}

uint64_t rlog_cursor(const struct rlog *rl)
{
	return rl->cursor;
}

uint64_t rlog_clean_count(const struct rlog *rl)
{
	return rl->clean_count;
}
