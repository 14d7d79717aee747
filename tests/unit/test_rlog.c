/*
 * test_rlog.c: unit tests of every rlog operation and its edges: region 0 and the last
 * region, counts that are not a multiple of 64, out-of-range input (state unchanged),
 * idempotent and repeated operations, resync assignment rules, node departure, the hint,
 * master resume in each sync mode, resize both ways, the node limit, and a log of
 * RLOG_MAX_REGIONS regions.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log/rlog.h"

static const uint64_t counts[] = {1, 63, 64, 65, 1000};
#define NCOUNTS (sizeof(counts) / sizeof(counts[0]))

static bool in_sync(const struct rlog *rl, uint64_t r)
{
	bool b = false;

	assert_int_equal(rlog_in_sync(rl, r, &b), 0);
	return b;
}

static bool is_clean(const struct rlog *rl, uint64_t r)
{
	bool b = false;

	assert_int_equal(rlog_is_clean(rl, r, &b), 0);
	return b;
}

static struct rlog *mk(uint64_t n, enum rlog_sync_mode mode)
{
	struct rlog *rl = NULL;

	assert_int_equal(rlog_create(&rl, n, mode), 0);
	assert_non_null(rl);
	return rl;
}

/* Put every region in sync (as after a finished resync) through the ordered operations. */
static void sync_all(struct rlog *rl)
{
	uint64_t r;

	for (r = 0; r < rlog_region_count(rl); r++)
		assert_int_equal(rlog_set_region_sync(rl, 1, r, true), 0);
}

static void test_create(void **state)
{
	struct rlog *rl;
	size_t i;
	uint64_t r, n;

	(void)state;
	for (i = 0; i < NCOUNTS; i++) {
		n = counts[i];
		rl = mk(n, RLOG_SYNC_DEFAULT);
		assert_int_equal(rlog_region_count(rl), n);
		assert_int_equal(rlog_sync_mode(rl), RLOG_SYNC_DEFAULT);
		assert_int_equal(rlog_sync_count(rl), 0);
		assert_int_equal(rlog_clean_count(rl), n);
		assert_int_equal(rlog_in_sync_hint(rl), 0);
		assert_int_equal(rlog_cursor(rl), 0);
		assert_int_equal(rlog_mark_count(rl), 0);
		assert_false(rlog_assignment(rl, NULL, NULL));
		for (r = 0; r < n; r++) {
			assert_false(in_sync(rl, r));
			assert_true(is_clean(rl, r));
		}
		rlog_destroy(rl);

		rl = mk(n, RLOG_SYNC_NONE);
		assert_int_equal(rlog_sync_count(rl), n);
		assert_int_equal(rlog_in_sync_hint(rl), n);
		assert_true(in_sync(rl, 0) && in_sync(rl, n - 1));
		rlog_destroy(rl);

		rl = mk(n, RLOG_SYNC_FORCE);
		assert_int_equal(rlog_sync_count(rl), 0);
		assert_true(is_clean(rl, n - 1));
		rlog_destroy(rl);
	}
}

static void test_create_invalid(void **state)
{
	struct rlog *rl = (struct rlog *)&rl;

	(void)state;
	assert_int_equal(rlog_create(&rl, 0, RLOG_SYNC_DEFAULT), -EINVAL);
	assert_null(rl);
	assert_int_equal(rlog_create(&rl, RLOG_MAX_REGIONS + 1, RLOG_SYNC_DEFAULT), -EINVAL);
	assert_int_equal(rlog_create(&rl, 10, (enum rlog_sync_mode)7), -EINVAL);
	assert_int_equal(rlog_create(NULL, 10, RLOG_SYNC_DEFAULT), -EINVAL);
	rlog_destroy(NULL);
}

static void test_out_of_range_changes_nothing(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NCOUNTS; i++) {
		uint64_t n = counts[i], regs[3] = {0, n - 1, n}, d, h = 99, r;
		uint64_t many[RLOG_MAX_BATCH + 1] = {0};
		struct rlog *rl = mk(n, RLOG_SYNC_DEFAULT);
		bool b = true;

		assert_int_equal(rlog_mark(rl, 1, regs, 2), 0);
		d = rlog_digest(rl);
		assert_int_equal(rlog_mark(rl, 2, regs, 3), -EINVAL);
		assert_int_equal(rlog_mark(rl, 1, many, RLOG_MAX_BATCH + 1), -EINVAL);
		assert_int_equal(rlog_mark(rl, 1, NULL, 1), -EINVAL);
		assert_int_equal(rlog_clear(rl, 1, regs, 3), -EINVAL);
		assert_int_equal(rlog_clear(rl, 1, many, RLOG_MAX_BATCH + 1), -EINVAL);
		assert_int_equal(rlog_set_region_sync(rl, 1, n, true), -EINVAL);
		assert_int_equal(rlog_set_region_sync(rl, 1, UINT64_MAX, false), -EINVAL);
		assert_int_equal(rlog_is_remote_recovering(rl, 1, n, true, &b, &h), -EINVAL);
		assert_int_equal(rlog_in_sync(rl, n, &b), -EINVAL);
		assert_int_equal(rlog_is_clean(rl, n, &b), -EINVAL);
		assert_int_equal(rlog_resize(rl, 0), -EINVAL);
		assert_int_equal(rlog_resize(rl, RLOG_MAX_REGIONS + 1), -EINVAL);
		assert_false(rlog_node_marked(rl, 1, n));
		assert_true(rlog_digest(rl) == d);
		/* The valid regions of the failed batch were not marked by node 2. */
		assert_int_equal(rlog_node_mark_count(rl, 2), 0);
		assert_int_equal(rlog_mark_count(rl), n == 1 ? 1 : 2);
		/* Node 2 got no slot either: 63 new nodes still fit beside node 1. */
		for (r = 0; r < RLOG_MAX_NODES - 1; r++)
			assert_int_equal(rlog_mark(rl, 100 + (uint32_t)r, regs, 1), 0);
		rlog_destroy(rl);
	}
}

static void test_mark_clear_basic(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NCOUNTS; i++) {
		uint64_t n = counts[i], last = n - 1, regs[2] = {0, last};
		struct rlog *rl = mk(n, RLOG_SYNC_NONE);

		assert_int_equal(rlog_mark(rl, 5, regs, 2), 0);
		assert_false(is_clean(rl, 0));
		assert_false(is_clean(rl, last));
		assert_true(rlog_node_marked(rl, 5, 0));
		assert_true(rlog_node_marked(rl, 5, last));
		assert_false(rlog_node_marked(rl, 6, 0));
		assert_int_equal(rlog_node_mark_count(rl, 5), n == 1 ? 1 : 2);
		assert_int_equal(rlog_clean_count(rl), n == 1 ? 0 : n - 2);
		/* Marking does not touch sync. */
		assert_int_equal(rlog_sync_count(rl), n);
		assert_int_equal(rlog_clear(rl, 5, regs, 2), 0);
		assert_true(is_clean(rl, 0));
		assert_true(is_clean(rl, last));
		assert_int_equal(rlog_mark_count(rl), 0);
		assert_int_equal(rlog_clean_count(rl), n);
		rlog_destroy(rl);
	}
}

static void test_mark_idempotent_and_zero(void **state)
{
	struct rlog *rl = mk(100, RLOG_SYNC_NONE);
	uint64_t regs[4] = {7, 7, 7, 9};
	uint64_t d;

	(void)state;
	d = rlog_digest(rl);
	assert_int_equal(rlog_mark(rl, 1, regs, 0), 0);
	assert_int_equal(rlog_mark(rl, 1, NULL, 0), 0);
	assert_int_equal(rlog_clear(rl, 1, NULL, 0), 0);
	assert_true(rlog_digest(rl) == d);
	assert_int_equal(rlog_mark(rl, 1, regs, 4), 0);
	assert_int_equal(rlog_mark(rl, 1, regs, 4), 0);
	assert_int_equal(rlog_node_mark_count(rl, 1), 2);
	assert_int_equal(rlog_mark_count(rl), 2);
	/* One clear drops the (single) mark even though it was marked many times. */
	assert_int_equal(rlog_clear(rl, 1, regs, 1), 0);
	assert_true(is_clean(rl, 7));
	assert_false(rlog_node_marked(rl, 1, 7));
	/* Clearing again, and clearing a never-marked region, are harmless. */
	assert_int_equal(rlog_clear(rl, 1, regs, 1), 0);
	regs[0] = 50;
	assert_int_equal(rlog_clear(rl, 3, regs, 1), 0);
	assert_true(is_clean(rl, 50));
	assert_int_equal(rlog_mark_count(rl), 1);
	rlog_destroy(rl);
}

static void test_dirty_while_any_node_marks(void **state)
{
	struct rlog *rl = mk(65, RLOG_SYNC_NONE);
	uint64_t r = 64;
	uint32_t node;

	(void)state;
	for (node = 1; node <= 5; node++)
		assert_int_equal(rlog_mark(rl, node, &r, 1), 0);
	assert_int_equal(rlog_mark_count(rl), 5);
	for (node = 1; node <= 4; node++) {
		assert_int_equal(rlog_clear(rl, node, &r, 1), 0);
		assert_false(is_clean(rl, r));
		/* Putting it in sync does not clean a marked region either. */
		assert_int_equal(rlog_set_region_sync(rl, 9, r, true), 0);
		assert_false(is_clean(rl, r));
	}
	/* A clear from a node without a mark does not clean it. */
	assert_int_equal(rlog_clear(rl, 1, &r, 1), 0);
	assert_false(is_clean(rl, r));
	assert_int_equal(rlog_clear(rl, 5, &r, 1), 0);
	assert_true(is_clean(rl, r));
	rlog_destroy(rl);
}

static void test_clear_out_of_sync_stays_dirty(void **state)
{
	struct rlog *rl = mk(10, RLOG_SYNC_DEFAULT);
	uint64_t r = 3;

	(void)state;
	/* Out of sync (no resume yet): clearing a mark does not make the region clean. */
	assert_int_equal(rlog_mark(rl, 1, &r, 1), 0);
	assert_int_equal(rlog_clear(rl, 1, &r, 1), 0);
	assert_false(is_clean(rl, r));
	/* Once recovered and unmarked it is clean; a clear by anyone makes it so as well. */
	assert_int_equal(rlog_set_region_sync(rl, 1, r, true), 0);
	assert_true(is_clean(rl, r));
	assert_int_equal(rlog_set_region_sync(rl, 1, r, false), 0);
	assert_false(is_clean(rl, r));
	assert_int_equal(rlog_set_region_sync(rl, 1, r, true), 0);
	assert_true(is_clean(rl, r));
	rlog_destroy(rl);
}

static void test_sync_count_exact(void **state)
{
	size_t i;
	int k;

	(void)state;
	for (i = 0; i < NCOUNTS; i++) {
		uint64_t n = counts[i];
		struct rlog *rl = mk(n, RLOG_SYNC_DEFAULT);

		for (k = 0; k < 5; k++) {
			assert_int_equal(rlog_set_region_sync(rl, 1, 0, true), 0);
			assert_int_equal(rlog_set_region_sync(rl, 2, n - 1, true), 0);
		}
		assert_int_equal(rlog_sync_count(rl), n == 1 ? 1 : 2);
		for (k = 0; k < 5; k++)
			assert_int_equal(rlog_set_region_sync(rl, 1, 0, false), 0);
		assert_int_equal(rlog_sync_count(rl), n == 1 ? 0 : 1);
		sync_all(rl);
		sync_all(rl);
		assert_int_equal(rlog_sync_count(rl), n);
		assert_int_equal(rlog_in_sync_hint(rl), n);
		rlog_destroy(rl);
	}
}

static void test_resync_assignment(void **state)
{
	struct rlog *rl = mk(130, RLOG_SYNC_DEFAULT);
	uint64_t r = 77, ar = 0;
	uint32_t an = 0;
	bool found;

	(void)state;
	/* Region 0 first, then the same region again for the same node. */
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_true(found);
	assert_int_equal(r, 0);
	assert_int_equal(rlog_cursor(rl), 1);
	assert_true(rlog_assignment(rl, &ar, &an));
	assert_int_equal(ar, 0);
	assert_int_equal(an, 1);
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_true(found);
	assert_int_equal(r, 0);
	/* Another node gets nothing while node 1 recovers. */
	assert_int_equal(rlog_get_resync_work(rl, 2, &r, &found), 0);
	assert_false(found);
	/* Another node's SET_REGION_SYNC of the region does not end node 1's recovery. */
	assert_int_equal(rlog_set_region_sync(rl, 2, 0, false), 0);
	assert_true(rlog_assignment(rl, &ar, &an));
	assert_int_equal(ar, 0);
	assert_int_equal(an, 1);
	/* Another node's in-sync report changes nothing while node 1 copies the region. */
	assert_int_equal(rlog_set_region_sync(rl, 2, 0, true), 0);
	assert_false(in_sync(rl, 0));
	assert_true(rlog_assignment(rl, &ar, &an));
	/* The holder's SET_REGION_SYNC releases it. */
	assert_int_equal(rlog_set_region_sync(rl, 1, 0, true), 0);
	assert_false(rlog_assignment(rl, NULL, NULL));
	assert_int_equal(rlog_get_resync_work(rl, 2, &r, &found), 0);
	assert_true(found);
	assert_int_equal(r, 1);
	/* Another region's SET_REGION_SYNC leaves the assignment in place. */
	assert_int_equal(rlog_set_region_sync(rl, 2, 5, true), 0);
	assert_true(rlog_assignment(rl, &ar, &an));
	assert_int_equal(ar, 1);
	assert_int_equal(rlog_set_region_sync(rl, 2, 1, true), 0);
	/* The scan skips regions already in sync (5). */
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_int_equal(r, 2);
	assert_int_equal(rlog_set_region_sync(rl, 1, 2, true), 0);
	assert_int_equal(rlog_set_region_sync(rl, 1, 3, true), 0);
	assert_int_equal(rlog_set_region_sync(rl, 1, 4, true), 0);
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_int_equal(r, 6);
	assert_int_equal(rlog_cursor(rl), 7);
	/* A failed recovery (set out of sync) moves the cursor back. */
	assert_int_equal(rlog_set_region_sync(rl, 1, 3, false), 0);
	assert_int_equal(rlog_cursor(rl), 3);
	/* ... but the assignment on 6 stays until 6 itself is reported. */
	assert_true(rlog_assignment(rl, &ar, &an));
	assert_int_equal(ar, 6);
	rlog_destroy(rl);
}

/* A region another node still marks is skipped, and found again once the mark is cleared. */
static void test_resync_skips_marked_by_other(void **state)
{
	struct rlog *rl;
	uint64_t r, regs[1] = {3}, one[1];
	bool found, rec;
	uint64_t hint;

	(void)state;
	assert_int_equal(rlog_create(&rl, 10, RLOG_SYNC_NONE), 0);
	/* Node 1 writes region 3; region 3 and 5 go out of sync (a co-marker died, a failure). */
	assert_int_equal(rlog_mark(rl, 1, regs, 1), 0);
	assert_int_equal(rlog_set_region_sync(rl, 9, 3, false), 0);
	assert_int_equal(rlog_set_region_sync(rl, 9, 5, false), 0);
	/* Writers wait on region 3: it is queued first, but node 2 must not get it. */
	assert_int_equal(rlog_is_remote_recovering(rl, 2, 3, true, &rec, &hint), 0);
	assert_true(rec);
	assert_int_equal(hint, 3);
	assert_int_equal(rlog_get_resync_work(rl, 2, &r, &found), 0);
	assert_true(found);
	assert_int_equal(r, 5);
	assert_int_equal(rlog_cursor(rl), 3);
	assert_int_equal(rlog_set_region_sync(rl, 2, 5, true), 0);
	/* Still marked: no work for node 2, the cursor stays on region 3. */
	assert_int_equal(rlog_get_resync_work(rl, 2, &r, &found), 0);
	assert_false(found);
	assert_int_equal(rlog_cursor(rl), 3);
	/* Node 1 clears its mark: region 3 is handed out now. */
	one[0] = 3;
	assert_int_equal(rlog_clear(rl, 1, one, 1), 0);
	assert_int_equal(rlog_get_resync_work(rl, 2, &r, &found), 0);
	assert_true(found);
	assert_int_equal(r, 3);
	assert_int_equal(rlog_set_region_sync(rl, 2, 3, true), 0);
	assert_int_equal(rlog_sync_count(rl), 10);
	assert_true(is_clean(rl, 3));
	rlog_destroy(rl);
}

static void test_resync_failed_region_keeps_assignment(void **state)
{
	struct rlog *rl = mk(10, RLOG_SYNC_DEFAULT);
	uint64_t r;
	bool found;

	(void)state;
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_int_equal(r, 0);
	/* Another region going out of sync does not release the assignment on 0. */
	assert_int_equal(rlog_set_region_sync(rl, 1, 5, false), 0);
	assert_true(rlog_assignment(rl, &r, NULL));
	assert_int_equal(r, 0);
	/* The kernel reports failure on the assigned region: released, cursor back to it. */
	assert_int_equal(rlog_set_region_sync(rl, 1, 0, false), 0);
	assert_false(rlog_assignment(rl, NULL, NULL));
	assert_int_equal(rlog_cursor(rl), 0);
	assert_int_equal(rlog_get_resync_work(rl, 3, &r, &found), 0);
	assert_true(found);
	assert_int_equal(r, 0);
	rlog_destroy(rl);
}

static void test_resync_done(void **state)
{
	struct rlog *rl = mk(65, RLOG_SYNC_DEFAULT);
	uint64_t r = 5;
	bool found = true;

	(void)state;
	sync_all(rl);
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_false(found);
	assert_int_equal(rlog_cursor(rl), 65);
	/* The last region going out of sync is found again. */
	assert_int_equal(rlog_set_region_sync(rl, 1, 64, false), 0);
	assert_int_equal(rlog_cursor(rl), 64);
	assert_int_equal(rlog_get_resync_work(rl, 2, &r, &found), 0);
	assert_true(found);
	assert_int_equal(r, 64);
	assert_int_equal(rlog_cursor(rl), 65);
	rlog_destroy(rl);

	rl = mk(64, RLOG_SYNC_NONE);
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_false(found);
	rlog_destroy(rl);
}

static void test_priority(void **state)
{
	struct rlog *rl = mk(1000, RLOG_SYNC_DEFAULT);
	uint64_t r, hint;
	bool rec, found;

	(void)state;
	/* Single member: never recovering, nothing queued. */
	assert_int_equal(rlog_is_remote_recovering(rl, 1, 500, false, &rec, &hint), 0);
	assert_false(rec);
	assert_int_equal(hint, 0);
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_int_equal(r, 0);
	assert_int_equal(rlog_set_region_sync(rl, 1, 0, true), 0);
	/* Multi member: out-of-sync regions are recovering and queued FIFO, deduplicated. */
	assert_int_equal(rlog_is_remote_recovering(rl, 2, 700, true, &rec, &hint), 0);
	assert_true(rec);
	assert_int_equal(hint, 1);
	assert_int_equal(rlog_is_remote_recovering(rl, 2, 600, true, &rec, &hint), 0);
	assert_int_equal(rlog_is_remote_recovering(rl, 3, 700, true, &rec, &hint), 0);
	assert_int_equal(rlog_is_remote_recovering(rl, 3, 999, true, &rec, &hint), 0);
	/* 600 gets in sync before its turn: skipped. */
	assert_int_equal(rlog_set_region_sync(rl, 1, 600, true), 0);
	assert_int_equal(rlog_is_remote_recovering(rl, 3, 600, true, &rec, &hint), 0);
	assert_false(rec);
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_true(found);
	assert_int_equal(r, 700);
	/* The region being recovered is still "recovering" but not queued again. */
	assert_int_equal(rlog_is_remote_recovering(rl, 3, 700, true, &rec, &hint), 0);
	assert_true(rec);
	assert_int_equal(rlog_set_region_sync(rl, 1, 700, true), 0);
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_int_equal(r, 999);
	/* Priority work leaves the cursor alone. */
	assert_int_equal(rlog_cursor(rl), 1);
	assert_int_equal(rlog_set_region_sync(rl, 1, 999, true), 0);
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_int_equal(r, 1);
	rlog_destroy(rl);
}

static void test_priority_bounded(void **state)
{
	struct rlog *rl = mk(4096, RLOG_SYNC_DEFAULT);
	uint64_t r, hint;
	bool rec, found;

	(void)state;
	for (r = 0; r < RLOG_MAX_PRIORITY + 10; r++)
		assert_int_equal(rlog_is_remote_recovering(rl, 1, 4095 - r, true, &rec, &hint), 0);
	/* The 10 oldest were dropped: the first handed out is the 11th queued. */
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_true(found);
	assert_int_equal(r, 4095 - 10);
	/* After the queue drains the scan starts at the cursor (0). */
	for (;;) {
		assert_int_equal(rlog_set_region_sync(rl, 1, r, true), 0);
		assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
		assert_true(found);
		if (r < 4095 - 10 - (RLOG_MAX_PRIORITY - 1))
			break;
	}
	assert_int_equal(r, 0);
	rlog_destroy(rl);
}

static void test_hint(void **state)
{
	struct rlog *rl = mk(1000, RLOG_SYNC_DEFAULT);
	uint64_t r, hint;
	bool rec;

	(void)state;
	assert_int_equal(rlog_in_sync_hint(rl), 0);
	for (r = 0; r < 130; r++)
		assert_int_equal(rlog_set_region_sync(rl, 1, r, true), 0);
	assert_int_equal(rlog_in_sync_hint(rl), 130);
	/* Out of order: 131..999 in sync, hint stays at 130 until 130 is. */
	for (r = 999; r > 130; r--)
		assert_int_equal(rlog_set_region_sync(rl, 1, r, true), 0);
	assert_int_equal(rlog_in_sync_hint(rl), 130);
	assert_int_equal(rlog_is_remote_recovering(rl, 1, 5, true, &rec, &hint), 0);
	assert_false(rec);
	assert_int_equal(hint, 130);
	assert_int_equal(rlog_set_region_sync(rl, 1, 130, true), 0);
	assert_int_equal(rlog_in_sync_hint(rl), 1000);
	assert_int_equal(rlog_set_region_sync(rl, 1, 999, false), 0);
	assert_int_equal(rlog_in_sync_hint(rl), 999);
	assert_int_equal(rlog_set_region_sync(rl, 1, 64, false), 0);
	assert_int_equal(rlog_in_sync_hint(rl), 64);
	assert_int_equal(rlog_set_region_sync(rl, 1, 64, true), 0);
	assert_int_equal(rlog_in_sync_hint(rl), 999);
	rlog_destroy(rl);
}

static void test_node_left(void **state)
{
	struct rlog *rl = mk(200, RLOG_SYNC_NONE);
	uint64_t regs[3] = {10, 150, 199}, r;
	uint32_t an;
	bool found;

	(void)state;
	assert_int_equal(rlog_mark(rl, 1, regs, 3), 0);
	assert_int_equal(rlog_mark(rl, 2, regs, 1), 0);
	assert_int_equal(rlog_set_region_sync(rl, 1, 180, false), 0);
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_int_equal(r, 180);
	assert_int_equal(rlog_cursor(rl), 181);
	/* Unknown node: nothing changes. */
	assert_int_equal(rlog_node_left(rl, 77), 0);
	assert_int_equal(rlog_mark_count(rl), 4);
	assert_int_equal(rlog_node_left(rl, 1), 0);
	assert_int_equal(rlog_mark_count(rl), 1);
	assert_int_equal(rlog_node_mark_count(rl, 1), 0);
	assert_false(rlog_node_marked(rl, 1, 150));
	assert_true(rlog_node_marked(rl, 2, 10));
	assert_false(in_sync(rl, 10));
	assert_false(in_sync(rl, 150));
	assert_false(in_sync(rl, 199));
	assert_false(is_clean(rl, 199));
	assert_true(in_sync(rl, 11));
	assert_int_equal(rlog_sync_count(rl), 200 - 4);
	assert_int_equal(rlog_in_sync_hint(rl), 10);
	assert_int_equal(rlog_cursor(rl), 10);
	/* The assignment (180) is released and found again by the survivors. */
	assert_false(rlog_assignment(rl, NULL, NULL));
	assert_int_equal(rlog_get_resync_work(rl, 2, &r, &found), 0);
	assert_int_equal(r, 10);
	assert_int_equal(rlog_set_region_sync(rl, 2, 10, true), 0);
	/* Marked by node 2 still: in sync but dirty. */
	assert_false(is_clean(rl, 10));
	assert_int_equal(rlog_get_resync_work(rl, 2, &r, &found), 0);
	assert_int_equal(r, 150);
	assert_int_equal(rlog_set_region_sync(rl, 2, 150, true), 0);
	assert_true(is_clean(rl, 150));
	assert_int_equal(rlog_get_resync_work(rl, 2, &r, &found), 0);
	assert_int_equal(r, 180);
	assert_true(rlog_assignment(rl, NULL, &an));
	assert_int_equal(an, 2);
	/* A node that only held the assignment (no marks) also releases it. */
	assert_int_equal(rlog_node_left(rl, 2), 0);
	assert_false(rlog_assignment(rl, NULL, NULL));
	assert_int_equal(rlog_cursor(rl), 10);
	assert_int_equal(rlog_mark_count(rl), 0);
	rlog_destroy(rl);
}

/* A restart under a live kernel: in sync from the state file, dirty from the disk image. */
static void test_resume_master_sync(void **state)
{
	struct rlog *rl, *ref;
	uint8_t disk[16], sync[16];
	uint64_t r;
	bool found;

	(void)state;
	memset(disk, 0xff, sizeof(disk));
	disk[0] = 0xf0; /* regions 0..3 dirty */
	memset(sync, 0, sizeof(sync));
	sync[0] = 0x06;	 /* regions 1, 2 in sync per the state file */
	sync[12] = 0xff; /* regions 96..103: 96..99 inside, the rest past region_count */
	rl = mk(100, RLOG_SYNC_DEFAULT);
	assert_int_equal(rlog_mark(rl, 1, &(uint64_t){1}, 1), 0);
	assert_int_equal(rlog_resume_master_sync(rl, disk, 80, sync, 128), 0);
	assert_false(in_sync(rl, 0) || is_clean(rl, 0));
	assert_true(in_sync(rl, 1) && !is_clean(rl, 1)); /* in sync but dirty */
	assert_true(in_sync(rl, 2) && !is_clean(rl, 2));
	assert_false(in_sync(rl, 3));
	assert_true(in_sync(rl, 4) && is_clean(rl, 4));
	assert_false(in_sync(rl, 80) || in_sync(rl, 95));
	assert_true(in_sync(rl, 96) && in_sync(rl, 99) && !is_clean(rl, 99));
	assert_int_equal(rlog_sync_count(rl), 80 - 4 + 2 + 4);
	assert_int_equal(rlog_clean_count(rl), 76);
	assert_int_equal(rlog_in_sync_hint(rl), 0);
	assert_int_equal(rlog_mark_count(rl), 0);
	/* a dirty in-sync region turns clean at its clear, and is never resync work */
	assert_int_equal(rlog_clear(rl, 2, &(uint64_t){1}, 1), 0);
	assert_true(is_clean(rl, 1));
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_true(found && r == 0);
	/* without a sync image it is rlog_resume_master */
	assert_int_equal(rlog_resume_master_sync(rl, disk, 80, NULL, 0), 0);
	assert_int_equal(rlog_create(&ref, 100, RLOG_SYNC_DEFAULT), 0);
	assert_int_equal(rlog_resume_master(ref, disk, 80), 0);
	assert_true(rlog_digest(rl) == rlog_digest(ref));
	/* FORCE and NONE ignore the sync image as they ignore the disk */
	rlog_destroy(rl);
	rlog_destroy(ref);
	rl = mk(100, RLOG_SYNC_FORCE);
	assert_int_equal(rlog_resume_master_sync(rl, disk, 80, sync, 100), 0);
	assert_int_equal(rlog_sync_count(rl), 0);
	rlog_destroy(rl);
	rl = mk(100, RLOG_SYNC_NONE);
	assert_int_equal(rlog_resume_master_sync(rl, disk, 80, sync, 100), 0);
	assert_int_equal(rlog_sync_count(rl), 100);
	assert_int_equal(rlog_clean_count(rl), 100);
	rlog_destroy(rl);
}

static void test_set_assignment(void **state)
{
	struct rlog *rl = mk(100, RLOG_SYNC_NONE);
	uint64_t r, d0 = 0;
	uint32_t an;
	bool found;

	(void)state;
	assert_int_equal(rlog_set_assignment(rl, 3, 100), -EINVAL);
	assert_false(rlog_assignment(rl, NULL, NULL));
	/* an in-sync, clean region: put out of sync and dirty, assigned to the claimant */
	d0 = rlog_digest(rl);
	assert_int_equal(rlog_set_assignment(rl, 3, 40), 0);
	assert_int_not_equal(rlog_digest(rl), d0);
	assert_false(in_sync(rl, 40));
	assert_false(is_clean(rl, 40));
	assert_int_equal(rlog_sync_count(rl), 99);
	assert_int_equal(rlog_in_sync_hint(rl), 40);
	assert_true(rlog_assignment(rl, &r, &an));
	assert_int_equal(r, 40);
	assert_int_equal(an, 3);
	assert_int_equal(rlog_cursor(rl), 0);
	/* one recovery per log: a second claim changes nothing */
	d0 = rlog_digest(rl);
	assert_int_equal(rlog_set_assignment(rl, 4, 41), -EBUSY);
	assert_int_equal(rlog_set_assignment(rl, 3, 40), -EBUSY);
	assert_int_equal(rlog_digest(rl), d0);
	assert_true(in_sync(rl, 41));
	/* the holder gets it again and its report ends it; others get no work meanwhile */
	assert_int_equal(rlog_get_resync_work(rl, 4, &r, &found), 0);
	assert_false(found);
	assert_int_equal(rlog_get_resync_work(rl, 3, &r, &found), 0);
	assert_true(found);
	assert_int_equal(r, 40);
	assert_int_equal(rlog_set_region_sync(rl, 4, 40, true), 0);
	assert_false(in_sync(rl, 40));
	assert_int_equal(rlog_set_region_sync(rl, 3, 40, true), 0);
	assert_true(in_sync(rl, 40));
	assert_true(is_clean(rl, 40));
	assert_false(rlog_assignment(rl, NULL, NULL));
	/* a region marked by a node stays marked (dirty) after its recovery is claimed */
	r = 7;
	assert_int_equal(rlog_mark(rl, 5, &r, 1), 0);
	assert_int_equal(rlog_set_assignment(rl, 3, 7), 0);
	assert_true(rlog_node_marked(rl, 5, 7));
	assert_int_equal(rlog_set_region_sync(rl, 3, 7, true), 0);
	assert_true(in_sync(rl, 7));
	assert_false(is_clean(rl, 7));
	assert_int_equal(rlog_sync_count(rl), 100);
	rlog_destroy(rl);
}

static void test_node_limit(void **state)
{
	struct rlog *rl = mk(100, RLOG_SYNC_NONE);
	uint64_t r = 1, d;
	uint32_t node;

	(void)state;
	for (node = 0; node < RLOG_MAX_NODES; node++)
		assert_int_equal(rlog_mark(rl, 1000 + node, &r, 1), 0);
	d = rlog_digest(rl);
	r = 2;
	assert_int_equal(rlog_mark(rl, 5, &r, 1), -ENOSPC);
	assert_true(rlog_digest(rl) == d);
	assert_true(is_clean(rl, 2));
	/* Known nodes still mark; an empty batch needs no slot. */
	assert_int_equal(rlog_mark(rl, 1000, &r, 1), 0);
	assert_int_equal(rlog_mark(rl, 5, &r, 0), 0);
	/* A departure frees a slot. */
	assert_int_equal(rlog_node_left(rl, 1003), 0);
	assert_int_equal(rlog_mark(rl, 5, &r, 1), 0);
	assert_int_equal(rlog_mark_count(rl), RLOG_MAX_NODES + 1);
	assert_int_equal(rlog_node_mark_count(rl, 5), 1);
	rlog_destroy(rl);
}

static void test_resume_master(void **state)
{
	struct rlog *rl;
	uint8_t disk[16];
	uint64_t r;
	bool found;

	(void)state;
	memset(disk, 0xff, sizeof(disk));
	disk[0] = 0xfe; /* region 0 dirty */
	disk[8] = 0x7f; /* region 71 dirty */
	rl = mk(100, RLOG_SYNC_DEFAULT);
	assert_int_equal(rlog_mark(rl, 1, &(uint64_t){3}, 1), 0);
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_int_equal(rlog_is_remote_recovering(rl, 1, 50, true, &found, &r), 0);
	/* Disk covers 80 regions: 80..99 take the default (dirty for DEFAULT). */
	assert_int_equal(rlog_resume_master(rl, disk, 80), 0);
	assert_false(in_sync(rl, 0));
	assert_false(is_clean(rl, 0));
	assert_true(in_sync(rl, 1) && is_clean(rl, 1));
	assert_true(in_sync(rl, 3) && is_clean(rl, 3)); /* marks dropped */
	assert_false(in_sync(rl, 71));
	assert_true(in_sync(rl, 79));
	assert_false(in_sync(rl, 80) || is_clean(rl, 99));
	assert_int_equal(rlog_sync_count(rl), 80 - 2);
	assert_int_equal(rlog_clean_count(rl), 80 - 2);
	assert_int_equal(rlog_mark_count(rl), 0);
	assert_false(rlog_assignment(rl, NULL, NULL));
	assert_int_equal(rlog_cursor(rl), 0);
	assert_int_equal(rlog_in_sync_hint(rl), 0);
	/* The priority queue was emptied: the scan hands out 0 first, then 71. */
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_int_equal(r, 0);
	assert_int_equal(rlog_set_region_sync(rl, 1, 0, true), 0);
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_int_equal(r, 71);
	/* Disk larger than the log: extra bits ignored. */
	assert_int_equal(rlog_resume_master(rl, disk, 128), 0);
	assert_int_equal(rlog_sync_count(rl), 98);
	/* No disk image: everything dirty and out of sync for DEFAULT. */
	assert_int_equal(rlog_resume_master(rl, NULL, 100), 0);
	assert_int_equal(rlog_sync_count(rl), 0);
	assert_int_equal(rlog_clean_count(rl), 0);
	rlog_destroy(rl);

	/* FORCE ignores the disk: all out of sync. */
	rl = mk(100, RLOG_SYNC_FORCE);
	assert_int_equal(rlog_resume_master(rl, disk, 100), 0);
	assert_int_equal(rlog_sync_count(rl), 0);
	assert_int_equal(rlog_clean_count(rl), 0);
	rlog_destroy(rl);

	/* NONE ignores the disk: all in sync and clean. */
	rl = mk(100, RLOG_SYNC_NONE);
	assert_int_equal(rlog_set_region_sync(rl, 1, 4, false), 0);
	assert_int_equal(rlog_resume_master(rl, disk, 100), 0);
	assert_int_equal(rlog_sync_count(rl), 100);
	assert_int_equal(rlog_clean_count(rl), 100);
	assert_int_equal(rlog_in_sync_hint(rl), 100);
	rlog_destroy(rl);

	/* Disk with a partial last byte: only its low bits count. */
	rl = mk(12, RLOG_SYNC_DEFAULT);
	disk[0] = 0xff;
	disk[1] = 0x05;
	assert_int_equal(rlog_resume_master(rl, disk, 11), 0);
	assert_int_equal(rlog_sync_count(rl), 8 + 2);
	assert_true(in_sync(rl, 8) && !in_sync(rl, 9) && in_sync(rl, 10) && !in_sync(rl, 11));
	rlog_destroy(rl);
}

static void test_resize(void **state)
{
	struct rlog *rl = mk(100, RLOG_SYNC_DEFAULT);
	uint64_t regs[3] = {5, 70, 99}, r, hint;
	bool rec, found;

	(void)state;
	sync_all(rl);
	assert_int_equal(rlog_mark(rl, 1, regs, 3), 0);
	assert_int_equal(rlog_set_region_sync(rl, 1, 80, false), 0);
	assert_int_equal(rlog_is_remote_recovering(rl, 1, 80, true, &rec, &hint), 0);
	assert_int_equal(rlog_set_region_sync(rl, 1, 90, false), 0);
	assert_int_equal(rlog_get_resync_work(rl, 2, &r, &found), 0);
	assert_int_equal(r, 80); /* priority */
	assert_int_equal(rlog_is_remote_recovering(rl, 1, 90, true, &rec, &hint), 0);
	/* Grow: new regions dirty and out of sync (DEFAULT), old bits kept. */
	assert_int_equal(rlog_resize(rl, 1000), 0);
	assert_int_equal(rlog_region_count(rl), 1000);
	assert_int_equal(rlog_sync_count(rl), 98);
	assert_false(in_sync(rl, 100) || is_clean(rl, 999));
	assert_true(rlog_node_marked(rl, 1, 99));
	assert_true(rlog_assignment(rl, &r, NULL));
	assert_int_equal(rlog_in_sync_hint(rl), 80);
	/* Shrink to 75: marks, assignment and queued regions past the end go. */
	assert_int_equal(rlog_resize(rl, 75), 0);
	assert_int_equal(rlog_sync_count(rl), 75);
	assert_int_equal(rlog_mark_count(rl), 2);
	assert_false(rlog_assignment(rl, NULL, NULL));
	assert_int_equal(rlog_in_sync_hint(rl), 75);
	assert_int_equal(rlog_cursor(rl), 0); /* priority work left it at 0 */
	assert_int_equal(rlog_get_resync_work(rl, 2, &r, &found), 0);
	assert_false(found);
	assert_int_equal(rlog_cursor(rl), 75);
	assert_int_equal(rlog_resize(rl, 70), 0);
	assert_int_equal(rlog_cursor(rl), 70);
	/* Shrink to 1 and grow again: bits past the old end come back as defaults. */
	assert_int_equal(rlog_resize(rl, 1), 0);
	assert_int_equal(rlog_resize(rl, 64), 0);
	assert_int_equal(rlog_sync_count(rl), 1);
	assert_true(in_sync(rl, 0));
	assert_false(in_sync(rl, 1));
	rlog_destroy(rl);

	rl = mk(63, RLOG_SYNC_NONE);
	assert_int_equal(rlog_resize(rl, 130), 0);
	assert_int_equal(rlog_sync_count(rl), 130);
	assert_int_equal(rlog_clean_count(rl), 130);
	assert_int_equal(rlog_resize(rl, 64), 0);
	assert_int_equal(rlog_sync_count(rl), 64);
	rlog_destroy(rl);
}

static void test_clone(void **state)
{
	struct rlog *rl = mk(300, RLOG_SYNC_DEFAULT), *c;
	uint64_t regs[2] = {1, 299}, r, hint;
	bool rec, found;

	(void)state;
	assert_int_equal(rlog_mark(rl, 4, regs, 2), 0);
	assert_int_equal(rlog_get_resync_work(rl, 4, &r, &found), 0);
	assert_int_equal(rlog_is_remote_recovering(rl, 4, 200, true, &rec, &hint), 0);
	assert_int_equal(rlog_clone(rl, &c), 0);
	assert_true(rlog_digest(c) == rlog_digest(rl));
	assert_true(rlog_node_marked(c, 4, 299));
	/* Deep: changing the copy leaves the original alone. */
	assert_int_equal(rlog_node_left(c, 4), 0);
	assert_true(rlog_digest(c) != rlog_digest(rl));
	assert_true(rlog_node_marked(rl, 4, 299));
	assert_int_equal(rlog_get_resync_work(rl, 4, &r, &found), 0);
	assert_int_equal(r, 0);
	rlog_destroy(c);
	rlog_destroy(rl);
}

static void test_digest_sees_changes(void **state)
{
	struct rlog *a = mk(100, RLOG_SYNC_DEFAULT), *b = mk(100, RLOG_SYNC_DEFAULT);
	uint64_t r, hint;
	bool found, rec;

	(void)state;
	assert_true(rlog_digest(a) == rlog_digest(b));
	assert_int_equal(rlog_set_region_sync(a, 1, 3, true), 0);
	assert_true(rlog_digest(a) != rlog_digest(b));
	assert_int_equal(rlog_set_region_sync(b, 1, 3, true), 0);
	assert_true(rlog_digest(a) == rlog_digest(b));
	assert_int_equal(rlog_is_remote_recovering(a, 1, 50, true, &rec, &hint), 0);
	assert_true(rlog_digest(a) != rlog_digest(b)); /* priority queue */
	assert_int_equal(rlog_is_remote_recovering(b, 1, 50, true, &rec, &hint), 0);
	assert_int_equal(rlog_get_resync_work(a, 1, &r, &found), 0);
	assert_int_equal(rlog_get_resync_work(b, 2, &r, &found), 0);
	assert_true(rlog_digest(a) != rlog_digest(b)); /* assignment node */
	rlog_destroy(a);
	rlog_destroy(b);
}

/* The largest log: 2^31 regions, operated on at region 0 and the last region. */
static void test_max_regions(void **state)
{
	struct rlog *rl;
	uint64_t last = RLOG_MAX_REGIONS - 1, regs[2] = {0, last}, r, hint;
	bool rec, found;

	(void)state;
	assert_int_equal(rlog_create(&rl, RLOG_MAX_REGIONS, RLOG_SYNC_NONE), 0);
	assert_int_equal(rlog_sync_count(rl), RLOG_MAX_REGIONS);
	assert_int_equal(rlog_mark(rl, 1, regs, 2), 0);
	assert_false(is_clean(rl, last));
	assert_int_equal(rlog_clean_count(rl), RLOG_MAX_REGIONS - 2);
	assert_int_equal(rlog_set_region_sync(rl, 1, last, false), 0);
	assert_int_equal(rlog_in_sync_hint(rl), last);
	assert_int_equal(rlog_is_remote_recovering(rl, 2, last, true, &rec, &hint), 0);
	assert_true(rec);
	assert_int_equal(hint, last);
	/* Node 1 still marks it: node 2 gets no work, node 1 itself may recover it. */
	assert_int_equal(rlog_get_resync_work(rl, 2, &r, &found), 0);
	assert_false(found);
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_true(found);
	assert_int_equal(r, last);
	assert_int_equal(rlog_set_region_sync(rl, 1, last, true), 0);
	assert_int_equal(rlog_in_sync_hint(rl), RLOG_MAX_REGIONS);
	assert_int_equal(rlog_sync_count(rl), RLOG_MAX_REGIONS);
	assert_int_equal(rlog_node_left(rl, 1), 0);
	assert_false(in_sync(rl, 0));
	assert_false(in_sync(rl, last));
	assert_int_equal(rlog_sync_count(rl), RLOG_MAX_REGIONS - 2);
	assert_int_equal(rlog_in_sync_hint(rl), 0);
	assert_int_equal(rlog_get_resync_work(rl, 2, &r, &found), 0);
	assert_int_equal(r, 0);
	assert_int_equal(rlog_set_region_sync(rl, 2, 0, true), 0);
	assert_int_equal(rlog_get_resync_work(rl, 2, &r, &found), 0);
	assert_int_equal(r, last);
	assert_int_equal(rlog_set_region_sync(rl, 2, last, true), 0);
	assert_int_equal(rlog_get_resync_work(rl, 2, &r, &found), 0);
	assert_false(found);
	assert_int_equal(rlog_cursor(rl), RLOG_MAX_REGIONS);
	assert_int_equal(rlog_in_sync(rl, RLOG_MAX_REGIONS, &rec), -EINVAL);
	rlog_destroy(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_create_invalid),
		cmocka_unit_test(test_out_of_range_changes_nothing),
		cmocka_unit_test(test_mark_clear_basic),
		cmocka_unit_test(test_mark_idempotent_and_zero),
		cmocka_unit_test(test_dirty_while_any_node_marks),
		cmocka_unit_test(test_clear_out_of_sync_stays_dirty),
		cmocka_unit_test(test_sync_count_exact),
		cmocka_unit_test(test_resync_assignment),
		cmocka_unit_test(test_resync_skips_marked_by_other),
		cmocka_unit_test(test_resync_failed_region_keeps_assignment),
		cmocka_unit_test(test_resync_done),
		cmocka_unit_test(test_priority),
		cmocka_unit_test(test_priority_bounded),
		cmocka_unit_test(test_hint),
		cmocka_unit_test(test_node_left),
		cmocka_unit_test(test_set_assignment),
		cmocka_unit_test(test_resume_master_sync),
		cmocka_unit_test(test_node_limit),
		cmocka_unit_test(test_resume_master),
		cmocka_unit_test(test_resize),
		cmocka_unit_test(test_clone),
		cmocka_unit_test(test_digest_sees_changes),
		cmocka_unit_test(test_max_regions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
