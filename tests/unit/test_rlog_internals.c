/*
 * test_rlog_internals.c: the two building blocks of log/ against naive versions.
 *
 *   bitmap.c  next_one / next_zero / popcount_range / fill / trim on random bitmaps of
 *             sizes around word boundaries, compared with bit-by-bit loops;
 *   marks.c   the region -> slot-mask hash under long random add/del sequences with
 *             regions spread over 2^31 (many collisions and wrap-arounds in a small table),
 *             compared with a plain array; drop_slot / drop_from / sorted output; slot table.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log/bitmap.h"
#include "log/marks.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static bool naive_test(const uint64_t *bm, uint64_t i)
{
	return (bm[i / 64] >> (i % 64)) & 1;
}

static void test_bitmap_ops(void **state)
{
	static const uint64_t sizes[] = {1, 2, 63, 64, 65, 127, 128, 129, 200, 640, 1000};
	uint64_t bm[16], copy[16];
	size_t si;
	int round;

	(void)state;
	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		uint64_t n = sizes[si];

		assert_int_equal(rlog_bm_words(n), (n + 63) / 64);
		for (round = 0; round < 200; round++) {
			uint64_t from, to, i, expect, k;
			int density = round % 4;

			memset(bm, 0, sizeof(bm));
			for (i = 0; i < n; i++) {
				bool one = density == 0	  ? rnd() % 50 == 0
					   : density == 1 ? rnd() % 50 != 0
							  : rnd() & 1;
				if (density == 3 && i / 64 % 2)
					one = true; /* whole all-one words next to mixed ones */
				if (one)
					bm[i / 64] |= UINT64_C(1) << (i % 64);
			}
			from = rnd() % (n + 2);
			/* next_one / next_zero against a bit loop */
			for (expect = from; expect < n && !naive_test(bm, expect); expect++)
				;
			assert_int_equal(rlog_bm_next_one(bm, n, from), expect < n ? expect : n);
			for (expect = from; expect < n && naive_test(bm, expect); expect++)
				;
			assert_int_equal(rlog_bm_next_zero(bm, n, from), expect < n ? expect : n);
			/* popcount of a range */
			to = from + rnd() % (n + 1);
			if (to > n)
				to = n;
			for (expect = 0, i = from; i < to; i++)
				expect += naive_test(bm, i);
			assert_int_equal(rlog_bm_popcount_range(bm, from, to), expect);
			/* fill a range, both ways; nothing outside it changes */
			memcpy(copy, bm, sizeof(bm));
			rlog_bm_fill(bm, from, to, round & 1);
			for (i = 0; i < 16 * 64; i++) {
				bool want =
					(i >= from && i < to) ? (round & 1) : naive_test(copy, i);

				assert_int_equal(naive_test(bm, i), want);
			}
			/* set / clear report real transitions */
			k = rnd() % n;
			assert_int_equal(rlog_bm_set(bm, k), !naive_test(bm, k));
			assert_false(rlog_bm_set(bm, k));
			assert_true(rlog_bm_test(bm, k));
			assert_true(rlog_bm_clear(bm, k));
			assert_false(rlog_bm_clear(bm, k));
			/* trim zeroes the tail only */
			memset(bm, 0xff, sizeof(bm));
			rlog_bm_trim(bm, n);
			assert_int_equal(rlog_bm_popcount_range(bm, 0, 16 * 64),
					 n % 64 ? (n / 64) * 64 + n % 64 + (16 - n / 64 - 1) * 64
						: 16 * 64);
			if (n % 64)
				assert_int_equal(bm[n / 64] >> (n % 64), 0);
		}
	}
	/* A scan from the middle of a long all-zero / all-one stretch. */
	memset(bm, 0, sizeof(bm));
	bm[15] = UINT64_C(1) << 63;
	assert_int_equal(rlog_bm_next_one(bm, 1024, 5), 1023);
	assert_int_equal(rlog_bm_next_one(bm, 1023, 5), 1023);
	memset(bm, 0xff, sizeof(bm));
	assert_int_equal(rlog_bm_next_zero(bm, 1024, 0), 1024);
}

#define NREG  3000
#define NSLOT 5

static void check_marks(const struct rlog_marks *m, const uint64_t *regs,
			uint8_t naive[NREG][NSLOT], size_t nreg)
{
	uint64_t total = 0, per[NSLOT] = {0}, mask;
	struct rlog_mark_ent *sorted;
	size_t n, i, used = 0;
	int s;

	for (i = 0; i < nreg; i++) {
		mask = 0;
		for (s = 0; s < NSLOT; s++)
			if (naive[i][s]) {
				mask |= UINT64_C(1) << s;
				per[s]++;
				total++;
			}
		assert_int_equal(rlog_marks_get(m, regs[i]), mask);
		used += mask != 0;
	}
	assert_int_equal(m->total, total);
	assert_int_equal(m->used, used);
	for (s = 0; s < NSLOT; s++)
		assert_int_equal(m->slot_count[s], per[s]);
	assert_int_equal(rlog_marks_sorted(m, &sorted, &n), 0);
	assert_int_equal(n, used);
	for (i = 1; i < n; i++)
		assert_true(sorted[i - 1].region < sorted[i].region);
	free(sorted);
}

static uint64_t dropped_sum;
static uint64_t dropped_n;

static void on_drop(void *ctx, uint64_t region)
{
	(void)ctx;
	dropped_sum += region;
	dropped_n++;
}

static void test_marks_random(void **state)
{
	static uint64_t regs[NREG];
	static uint8_t naive[NREG][NSLOT];
	struct rlog_marks m, c;
	uint64_t expect_sum, expect_n, limit;
	int step, s, round;
	size_t i;

	(void)state;
	for (round = 0; round < 3; round++) {
		rlog_marks_init(&m);
		memset(naive, 0, sizeof(naive));
		for (i = 0; i < NREG; i++)
			regs[i] =
				(i * UINT64_C(2654435761) + (uint64_t)round) % (UINT64_C(1) << 31);
		for (s = 0; s < NSLOT; s++)
			assert_int_equal(rlog_marks_slot_get(&m, 100 + (uint32_t)s), s);
		for (step = 0; step < 60000; step++) {
			/*
			 * Phases: all regions (the table grows), then a window of 40 regions in a
			 * fresh small table checked after every step (wrap-around chains and
			 * backward shifts across the table end), then a window of 300.
			 */
			size_t win = step < 20000 ? NREG : step < 40000 ? 40 : 300;
			size_t k = (size_t)(rnd() % win);

			if (step == 20000) {
				rlog_marks_fini(&m);
				rlog_marks_init(&m);
				memset(naive, 0, sizeof(naive));
				for (s = 0; s < NSLOT; s++)
					assert_int_equal(rlog_marks_slot_get(&m, 100 + (uint32_t)s),
							 s);
			}
			s = (int)(rnd() % NSLOT);
			if (rnd() % 2) {
				assert_int_equal(rlog_marks_reserve(&m, 1), 0);
				assert_int_equal(rlog_marks_add(&m, regs[k], s), !naive[k][s]);
				naive[k][s] = 1;
			} else {
				assert_int_equal(rlog_marks_del(&m, regs[k], s), naive[k][s]);
				naive[k][s] = 0;
			}
			if (win == 40 || step % 2000 == 0)
				check_marks(&m, regs, naive, win == 40 ? 40 : NREG);
		}
		check_marks(&m, regs, naive, NREG);
		/* A deep copy answers the same. */
		assert_int_equal(rlog_marks_clone(&m, &c), 0);
		check_marks(&c, regs, naive, NREG);
		rlog_marks_fini(&c);
		/* drop_slot: every region of the slot reported once, others untouched. */
		expect_sum = expect_n = 0;
		for (i = 0; i < NREG; i++)
			if (naive[i][2]) {
				expect_sum += regs[i];
				expect_n++;
				naive[i][2] = 0;
			}
		dropped_sum = dropped_n = 0;
		rlog_marks_drop_slot(&m, 2, on_drop, NULL);
		assert_int_equal(dropped_n, expect_n);
		assert_int_equal(dropped_sum, expect_sum);
		check_marks(&m, regs, naive, NREG);
		/* drop_from: everything at or past the limit goes. */
		limit = UINT64_C(1) << 30;
		for (i = 0; i < NREG; i++)
			if (regs[i] >= limit)
				memset(naive[i], 0, NSLOT);
		rlog_marks_drop_from(&m, limit);
		check_marks(&m, regs, naive, NREG);
		rlog_marks_reset(&m);
		memset(naive, 0, sizeof(naive));
		check_marks(&m, regs, naive, NREG);
		assert_int_equal(m.slot_used, 0);
		rlog_marks_fini(&m);
	}
}

static void test_marks_slots(void **state)
{
	struct rlog_marks m;
	int s;

	(void)state;
	rlog_marks_init(&m);
	assert_int_equal(rlog_marks_slot_find(&m, 7), -1);
	for (s = 0; s < RLOG_MAX_NODES; s++)
		assert_int_equal(rlog_marks_slot_get(&m, 1000 + (uint32_t)s), s);
	assert_int_equal(rlog_marks_slot_get(&m, 5), -ENOSPC);
	assert_int_equal(rlog_marks_slot_get(&m, 1010), 10);
	rlog_marks_slot_free(&m, 10);
	assert_int_equal(rlog_marks_slot_find(&m, 1010), -1);
	/* The lowest free slot is reused. */
	assert_int_equal(rlog_marks_slot_get(&m, 5), 10);
	assert_int_equal(rlog_marks_slot_find(&m, 5), 10);
	rlog_marks_fini(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bitmap_ops),
		cmocka_unit_test(test_marks_random),
		cmocka_unit_test(test_marks_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
