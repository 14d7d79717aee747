/*
 * test_rlog_snapshot.c: state transfer. Round trips at many chunk caps (the stream must not
 * depend on the cap, the decoded log must have the same digest and answers), compact
 * snapshots of huge mostly-clean / mostly-dirty logs, and malformed input: every truncation,
 * trailing garbage, flipped bytes and bad header fields are -EBADMSG, never a crash.
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

struct blob {
	uint8_t *p;
	size_t len;
};

static struct rlog *mk(uint64_t n, enum rlog_sync_mode mode)
{
	struct rlog *rl = NULL;

	assert_int_equal(rlog_create(&rl, n, mode), 0);
	return rl;
}

/* Encode @rl in chunks of at most @cap bytes into one buffer. */
static struct blob encode(const struct rlog *rl, uint64_t gen, size_t cap)
{
	struct rlog_snap_enc *enc;
	struct blob b = {NULL, 0};
	uint8_t *chunk = malloc(cap);
	size_t len;
	bool done = false;

	assert_non_null(chunk);
	assert_int_equal(rlog_snapshot_begin(rl, gen, &enc), 0);
	while (!done) {
		assert_int_equal(rlog_snapshot_next(enc, chunk, cap, &len, &done), 0);
		assert_true(len <= cap);
		/* Every chunk but the last is full. */
		if (!done)
			assert_int_equal(len, cap);
		b.p = realloc(b.p, b.len + len + 1);
		assert_non_null(b.p);
		memcpy(b.p + b.len, chunk, len);
		b.len += len;
	}
	rlog_snapshot_end(enc);
	free(chunk);
	return b;
}

/* Decode @b fed in pieces of @piece bytes; returns the feed/finish error or 0. */
static int decode(const uint8_t *p, size_t len, size_t piece, struct rlog **out, uint64_t *gen)
{
	struct rlog_snap_dec *dec;
	size_t off = 0, n;
	bool done = false;
	int ret = 0;

	*out = NULL;
	assert_int_equal(rlog_snapshot_dec_begin(&dec), 0);
	while (off < len) {
		n = len - off < piece ? len - off : piece;
		ret = rlog_snapshot_dec_feed(dec, p + off, n, &done);
		if (ret)
			break;
		off += n;
	}
	if (!ret)
		ret = rlog_snapshot_dec_finish(dec, out, gen);
	else /* a failed decoder stays failed */
		assert_int_equal(rlog_snapshot_dec_feed(dec, p, 1, &done), -EBADMSG);
	rlog_snapshot_dec_free(dec);
	return ret;
}

/*
 * A state with everything in it: marks of several nodes, an assignment, a cursor and (for
 * n = 200) the priority queue [4, 5, 7].
 */
static struct rlog *busy_log(uint64_t n)
{
	struct rlog *rl = mk(n, RLOG_SYNC_DEFAULT);
	uint64_t regs[4] = {0, n / 2, n - 1, 3 % n}, r, hint;
	bool rec, found;

	assert_int_equal(rlog_resume_master(rl, NULL, 0), 0);
	for (r = 0; r < n; r += 3)
		assert_int_equal(rlog_set_region_sync(rl, 1, r, true), 0);
	assert_int_equal(rlog_mark(rl, 11, regs, 4), 0);
	assert_int_equal(rlog_mark(rl, 12, regs + 1, 2), 0);
	assert_int_equal(rlog_mark(rl, 13, regs, 0), 0);
	assert_int_equal(rlog_is_remote_recovering(rl, 2, n >= 2 ? n - 2 : 0, true, &rec, &hint),
			 0);
	assert_int_equal(rlog_is_remote_recovering(rl, 2, 1 % n, true, &rec, &hint), 0);
	assert_int_equal(rlog_get_resync_work(rl, 12, &r, &found), 0);
	for (r = 4; r < 8 && r < n; r++)
		if (r != 6)
			assert_int_equal(rlog_is_remote_recovering(rl, 2, r, true, &rec, &hint), 0);
	return rl;
}

static void check_same(const struct rlog *a, const struct rlog *b)
{
	uint64_t r, n = rlog_region_count(a), ra = 0, rb = 0;
	uint32_t na = 0, nb = 0;
	bool x, y;

	assert_true(rlog_digest(a) == rlog_digest(b));
	assert_int_equal(rlog_region_count(b), n);
	assert_int_equal(rlog_sync_mode(b), rlog_sync_mode(a));
	assert_int_equal(rlog_sync_count(b), rlog_sync_count(a));
	assert_int_equal(rlog_clean_count(b), rlog_clean_count(a));
	assert_int_equal(rlog_in_sync_hint(b), rlog_in_sync_hint(a));
	assert_int_equal(rlog_cursor(b), rlog_cursor(a));
	assert_int_equal(rlog_mark_count(b), rlog_mark_count(a));
	assert_int_equal(rlog_assignment(b, &rb, &nb), rlog_assignment(a, &ra, &na));
	assert_int_equal(ra, rb);
	assert_int_equal(na, nb);
	for (r = 0; r < n && r < 5000; r++) {
		assert_int_equal(rlog_in_sync(a, r, &x), 0);
		assert_int_equal(rlog_in_sync(b, r, &y), 0);
		assert_int_equal(x, y);
		assert_int_equal(rlog_is_clean(a, r, &x), 0);
		assert_int_equal(rlog_is_clean(b, r, &y), 0);
		assert_int_equal(x, y);
		assert_int_equal(rlog_node_marked(a, 11, r), rlog_node_marked(b, 11, r));
		assert_int_equal(rlog_node_marked(a, 12, r), rlog_node_marked(b, 12, r));
	}
}

static void test_roundtrip_caps(void **state)
{
	static const uint64_t counts[] = {1, 63, 64, 65, 1000, 100000};
	static const size_t caps[] = {1, 3, 64, 100, 4096, 65536};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct rlog *rl = busy_log(counts[i]), *back, *orig;
		struct blob ref = encode(rl, 77 + i, 64);
		uint64_t gen = 0, r, r2, hint;
		bool found, found2, rec;

		for (j = 0; j < sizeof(caps) / sizeof(caps[0]); j++) {
			struct blob b = encode(rl, 77 + i, caps[j]);

			/* The stream does not depend on the chunk size. */
			assert_int_equal(b.len, ref.len);
			assert_memory_equal(b.p, ref.p, ref.len);
			/* Nor does decoding depend on how it is fed. */
			assert_int_equal(decode(b.p, b.len, caps[j], &back, &gen), 0);
			assert_int_equal(gen, 77 + i);
			check_same(rl, back);
			/* The copy behaves as the original from here on. */
			assert_int_equal(rlog_clone(rl, &orig), 0);
			assert_int_equal(rlog_get_resync_work(back, 12, &r, &found), 0);
			assert_int_equal(rlog_get_resync_work(orig, 12, &r2, &found2), 0);
			assert_int_equal(found, found2);
			assert_int_equal(r, r2);
			assert_int_equal(rlog_node_left(back, 11), 0);
			assert_int_equal(rlog_node_left(orig, 11), 0);
			assert_int_equal(rlog_is_remote_recovering(back, 1, counts[i] - 1, true,
								   &rec, &hint),
					 0);
			assert_int_equal(rlog_is_remote_recovering(orig, 1, counts[i] - 1, true,
								   &rec, &hint),
					 0);
			check_same(orig, back);
			rlog_destroy(orig);
			rlog_destroy(back);
			free(b.p);
		}
		free(ref.p);
		rlog_destroy(rl);
	}
}

static void test_roundtrip_fresh_modes(void **state)
{
	enum rlog_sync_mode m;
	struct rlog *rl, *back;
	uint64_t gen;

	(void)state;
	for (m = RLOG_SYNC_DEFAULT; m <= RLOG_SYNC_NONE; m++) {
		struct blob b;

		rl = mk(129, m);
		b = encode(rl, UINT64_MAX, 100);
		assert_int_equal(decode(b.p, b.len, b.len, &back, &gen), 0);
		assert_true(gen == UINT64_MAX);
		check_same(rl, back);
		rlog_destroy(back);
		rlog_destroy(rl);
		free(b.p);
	}
}

/* 16M regions, all clean or all dirty (plus a few marks): a few hundred bytes. */
static void test_compact(void **state)
{
	const uint64_t n = UINT64_C(1) << 24;
	uint64_t regs[3] = {0, 12345, n - 1};
	struct rlog *rl, *back;
	struct blob b;
	uint64_t gen;

	(void)state;
	rl = mk(n, RLOG_SYNC_NONE); /* all clean, all in sync */
	b = encode(rl, 1, 4096);
	assert_true(b.len < 1024);
	assert_int_equal(decode(b.p, b.len, 4096, &back, &gen), 0);
	check_same(rl, back);
	rlog_destroy(back);
	free(b.p);
	/* A few marks: still small (literal words only where the marks are). */
	assert_int_equal(rlog_mark(rl, 5, regs, 3), 0);
	b = encode(rl, 2, 4096);
	assert_true(b.len < 1024);
	assert_int_equal(decode(b.p, b.len, 999, &back, &gen), 0);
	check_same(rl, back);
	rlog_destroy(back);
	free(b.p);
	/* All dirty and out of sync. */
	assert_int_equal(rlog_resume_master(rl, NULL, 0), 0);
	rlog_destroy(rl);
	rl = mk(n, RLOG_SYNC_DEFAULT);
	assert_int_equal(rlog_resume_master(rl, NULL, 0), 0);
	b = encode(rl, 3, 64);
	assert_true(b.len < 1024);
	assert_int_equal(decode(b.p, b.len, 64, &back, &gen), 0);
	check_same(rl, back);
	rlog_destroy(back);
	free(b.p);
	rlog_destroy(rl);
}

/* Every strict prefix is rejected (at feed or at finish), and so is trailing garbage. */
static void test_truncation_and_trailing(void **state)
{
	struct rlog *rl = busy_log(200), *back;
	struct blob b = encode(rl, 9, 4096);
	uint64_t gen;
	size_t l;

	(void)state;
	assert_true(b.len > 100);
	for (l = 0; l < b.len; l++) {
		assert_int_equal(decode(b.p, l, l ? l : 1, &back, &gen), -EBADMSG);
		assert_null(back);
		assert_int_equal(decode(b.p, l, 7, &back, &gen), -EBADMSG);
	}
	b.p[b.len] = 0;
	assert_int_equal(decode(b.p, b.len + 1, b.len + 1, &back, &gen), -EBADMSG);
	assert_int_equal(decode(b.p, b.len + 1, 1, &back, &gen), -EBADMSG);
	/* The intact stream still decodes (the table above did not get lucky). */
	assert_int_equal(decode(b.p, b.len, 5, &back, &gen), 0);
	rlog_destroy(back);
	free(b.p);
	rlog_destroy(rl);
}

/* Every single-byte corruption anywhere in the stream is rejected. */
static void test_flipped_bytes(void **state)
{
	static const uint8_t masks[] = {0x01, 0x10, 0x80, 0xff};
	struct rlog *rl = busy_log(300), *back;
	struct blob b = encode(rl, 12, 4096);
	uint64_t gen;
	size_t i, k;

	(void)state;
	for (i = 0; i < b.len; i++) {
		for (k = 0; k < sizeof(masks); k++) {
			b.p[i] ^= masks[k];
			if (decode(b.p, b.len, b.len, &back, &gen) != -EBADMSG)
				fail_msg("flip of byte %zu with 0x%02x accepted", i, masks[k]);
			b.p[i] ^= masks[k];
		}
	}
	free(b.p);
	rlog_destroy(rl);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/* Header layout (see log/snapshot.c). */
enum {
	OFF_MAGIC = 0,
	OFF_VERSION = 4,
	OFF_GEN = 8,
	OFF_COUNT = 16,
	OFF_MODE = 24,
	OFF_SYNC = 28,
	OFF_CURSOR = 36,
	OFF_HAS = 44,
	OFF_AREG = 45,
	OFF_ANODE = 53,
	OFF_PLEN = 57,
	OFF_SLOTS = 61,
	OFF_NMARKS = 69,
	HDR = 77,
};

static void test_bad_fields(void **state)
{
	struct rlog *rl = busy_log(200), *back;
	struct blob b = encode(rl, 9, 4096);
	uint8_t *p = malloc(b.len + 64);
	uint64_t gen, nmarks;
	size_t len, i;
	struct {
		const char *what;
		size_t off;
		int width; /* 1, 4 or 8 */
		uint64_t value;
	} table[] = {
		{"magic", OFF_MAGIC, 4, 0x6E534C53},
		{"version 0", OFF_VERSION, 4, 0},
		{"version 2", OFF_VERSION, 4, RLOG_SNAPSHOT_VERSION + 1},
		{"region_count 0", OFF_COUNT, 8, 0},
		{"region_count too big", OFF_COUNT, 8, RLOG_MAX_REGIONS + 1},
		{"region_count smaller", OFF_COUNT, 8, 199},
		{"region_count larger", OFF_COUNT, 8, 201},
		{"mode", OFF_MODE, 4, 3},
		{"sync_count too big", OFF_SYNC, 8, 201},
		{"sync_count off by one", OFF_SYNC, 8, 0},
		{"cursor past end", OFF_CURSOR, 8, 201},
		{"has_assign 2", OFF_HAS, 1, 2},
		{"no assignment but a region", OFF_HAS, 1, 0},
		{"assignment out of range", OFF_AREG, 8, 200},
		{"prio_len too big", OFF_PLEN, 4, RLOG_MAX_PRIORITY + 1},
		{"prio_len short", OFF_PLEN, 4, 1},
		{"no slots", OFF_SLOTS, 8, 0},
		{"extra slot", OFF_SLOTS, 8, 0xf},
		{"marks count high", OFF_NMARKS, 8, 1000},
		{"marks count huge", OFF_NMARKS, 8, UINT64_MAX},
		{"marks count low", OFF_NMARKS, 8, 1},
	};

	(void)state;
	assert_non_null(p);
	/* Sanity on the layout the table relies on. */
	assert_int_equal(b.p[OFF_HAS], 1);
	assert_int_equal(b.p[OFF_PLEN], 3);
	assert_int_equal(b.p[OFF_SLOTS], 3);
	assert_int_equal(b.p[HDR], 4);
	nmarks = b.p[OFF_NMARKS];
	assert_int_equal(nmarks, 4);
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		memcpy(p, b.p, b.len);
		if (table[i].width == 1)
			p[table[i].off] = (uint8_t)table[i].value;
		else if (table[i].width == 4)
			put_le32(p + table[i].off, (uint32_t)table[i].value);
		else
			put_le64(p + table[i].off, table[i].value);
		if (decode(p, b.len, b.len, &back, &gen) != -EBADMSG)
			fail_msg("bad %s accepted", table[i].what);
	}

	/* Body: the prio queue starts at HDR (3 entries), then 2 slots (le32), then marks. */
	len = b.len;
	memcpy(p, b.p, len);
	put_le64(p + HDR, 200); /* queued region out of range */
	assert_int_equal(decode(p, len, len, &back, &gen), -EBADMSG);
	memcpy(p, b.p, len);
	memcpy(p + HDR + 8, p + HDR, 8); /* duplicate queued region */
	assert_int_equal(decode(p, len, len, &back, &gen), -EBADMSG);
	memcpy(p, b.p, len);
	memcpy(p + HDR + 24 + 4, p + HDR + 24, 4); /* two slots, same node */
	assert_int_equal(decode(p, len, len, &back, &gen), -EBADMSG);
	{
		size_t m0 = HDR + 24 + 8; /* first mark entry (region, mask) */

		memcpy(p, b.p, len);
		memcpy(p + m0 + 16, p + m0, 16); /* duplicate region */
		assert_int_equal(decode(p, len, len, &back, &gen), -EBADMSG);
		memcpy(p, b.p, len);
		put_le64(p + m0 + 48, 200); /* last mark out of range */
		assert_int_equal(decode(p, len, len, &back, &gen), -EBADMSG);
		memcpy(p, b.p, len);
		put_le64(p + m0 + 8, 0); /* empty mask */
		assert_int_equal(decode(p, len, len, &back, &gen), -EBADMSG);
		memcpy(p, b.p, len);
		put_le64(p + m0 + 8, 0x10); /* mask names an unused slot */
		assert_int_equal(decode(p, len, len, &back, &gen), -EBADMSG);
		memcpy(p, b.p, len);
		memcpy(p + m0, b.p + m0 + 16, 16); /* unsorted */
		memcpy(p + m0 + 16, b.p + m0, 16);
		assert_int_equal(decode(p, len, len, &back, &gen), -EBADMSG);
	}
	free(p);
	free(b.p);
	rlog_destroy(rl);
}

/* Hand-made bitmaps: bad run kinds and counts, tail bits, marked-but-clean regions. */
static void test_bad_runs(void **state)
{
	struct rlog *rl = mk(100, RLOG_SYNC_DEFAULT), *back;
	struct blob b = encode(rl, 0, 4096);
	uint8_t *p = malloc(b.len + 64);
	uint64_t gen;
	size_t runs = 77; /* no prio, slots or marks */

	(void)state;
	assert_non_null(p);
	/*
	 * Fresh DEFAULT log of 100 regions: clean = ones run of 1 word, literal run of 1 word
	 * (0xfffffffff), sync = zero run of 2 words, then the trailer. Check the layout first.
	 */
	assert_int_equal(b.p[runs], 1);
	assert_int_equal(b.p[runs + 1], 1);
	assert_int_equal(b.p[runs + 9], 2);
	assert_int_equal(b.p[runs + 18], 0xff);
	assert_int_equal(b.p[runs + 26], 0);
	assert_int_equal(b.p[runs + 27], 2);
	assert_int_equal(b.len, runs + 9 + 9 + 8 + 9 + 8);
	memcpy(p, b.p, b.len);
	p[runs] = 3; /* unknown kind */
	assert_int_equal(decode(p, b.len, b.len, &back, &gen), -EBADMSG);
	memcpy(p, b.p, b.len);
	put_le64(p + runs + 1, 0); /* empty run */
	assert_int_equal(decode(p, b.len, b.len, &back, &gen), -EBADMSG);
	memcpy(p, b.p, b.len);
	put_le64(p + runs + 27, 3); /* run longer than the bitmap */
	assert_int_equal(decode(p, b.len, b.len, &back, &gen), -EBADMSG);
	memcpy(p, b.p, b.len);
	p[runs + 18 + 7] |= 0x80; /* bit 127 set, past region 99 */
	assert_int_equal(decode(p, b.len, b.len, &back, &gen), -EBADMSG);
	memcpy(p, b.p, b.len);
	p[runs + 26] = 1; /* sync all ones: tail bits and sync_count wrong */
	assert_int_equal(decode(p, b.len, b.len, &back, &gen), -EBADMSG);
	memcpy(p, b.p, b.len);
	put_le64(p + runs + 1, 2);		  /* clean: ones run of 2 words ... */
	memcpy(p + runs + 9, b.p + runs + 26, 9); /* ... then the sync run, no literal */
	assert_int_equal(decode(p, b.len - 17, b.len - 17, &back, &gen), -EBADMSG);
	free(p);
	free(b.p);
	rlog_destroy(rl);
}

static void test_api_misuse(void **state)
{
	struct rlog_snap_dec *dec;
	struct rlog *rl = mk(10, RLOG_SYNC_NONE), *out = (struct rlog *)&out;
	uint64_t gen;
	bool done;
	uint8_t byte = 0;

	(void)state;
	assert_int_equal(rlog_snapshot_dec_begin(&dec), 0);
	/* Finish before the end: not a log. */
	assert_int_equal(rlog_snapshot_dec_finish(dec, &out, &gen), -EBADMSG);
	assert_null(out);
	assert_int_equal(rlog_snapshot_dec_feed(dec, &byte, 0, &done), 0);
	assert_false(done);
	rlog_snapshot_dec_free(dec);
	rlog_snapshot_dec_free(NULL);
	rlog_snapshot_end(NULL);
	assert_int_equal(rlog_snapshot_begin(NULL, 0, NULL), -EINVAL);
	rlog_destroy(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_caps),
		cmocka_unit_test(test_roundtrip_fresh_modes),
		cmocka_unit_test(test_compact),
		cmocka_unit_test(test_truncation_and_trailing),
		cmocka_unit_test(test_flipped_bytes),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_bad_runs),
		cmocka_unit_test(test_api_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
