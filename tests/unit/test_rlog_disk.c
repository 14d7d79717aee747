/*
 * test_rlog_disk.c: the kernel's on-disk log format byte for byte, every bad header with
 * its error code and text, the device size rounding, bitmap reads and the dirty-range
 * tracking a disk writer relies on.
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

static struct rlog *mk(uint64_t n, enum rlog_sync_mode mode)
{
	struct rlog *rl = NULL;

	assert_int_equal(rlog_create(&rl, n, mode), 0);
	return rl;
}

static void test_disk_size(void **state)
{
	(void)state;
	/* bitset in whole 64-bit words, plus 1024, rounded to the block size */
	assert_int_equal(rlog_disk_size(1, 512), 1536);
	assert_int_equal(rlog_disk_size(64, 512), 1536);
	assert_int_equal(rlog_disk_size(4096, 512), 1536);
	assert_int_equal(rlog_disk_size(4097, 512), 2048);
	assert_int_equal(rlog_disk_size(1, 4096), 4096);
	assert_int_equal(rlog_disk_size(3 * 8 * 1024, 4096), 4096); /* 1024 + 3072 */
	assert_int_equal(rlog_disk_size(3 * 8 * 1024 + 1, 4096), 4096 * 2);
	assert_int_equal(rlog_disk_size(RLOG_MAX_REGIONS, 4096), (UINT64_C(1) << 28) + 4096);
	assert_int_equal(rlog_disk_size(65, 0), 1024 + 16);
}

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void test_encode_bytes(void **state)
{
	struct rlog *rl = mk(100, RLOG_SYNC_DEFAULT);
	uint64_t regs[3] = {0, 9, 99};
	uint8_t buf[1024 + 16];
	size_t i;

	(void)state;
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(rlog_mark(rl, 1, regs, 3), 0);
	assert_int_equal(rlog_disk_encode(rl, buf, sizeof(buf)), 0);
	/* magic 0x4D695272 little-endian, version 2, nr_regions 100 */
	assert_int_equal(buf[0], 0x72);
	assert_int_equal(buf[1], 0x52);
	assert_int_equal(buf[2], 0x69);
	assert_int_equal(buf[3], 0x4D);
	assert_int_equal(buf[4], 2);
	assert_int_equal(buf[5] | buf[6] | buf[7], 0);
	assert_int_equal(le64_at(buf + 8), 100);
	for (i = 16; i < 1024; i++)
		assert_int_equal(buf[i], 0);
	/* region 0 = byte 0 bit 0, region 9 = byte 1 bit 1, region 99 = byte 12 bit 3 */
	assert_int_equal(buf[1024], 0xfe);
	assert_int_equal(buf[1025], 0xfd);
	assert_int_equal(buf[1024 + 12], 0x07);
	for (i = 2; i < 12; i++)
		assert_int_equal(buf[1024 + i], 0xff);
	/* bits past region 99 are zero through the end of the last 64-bit word */
	for (i = 13; i < 16; i++)
		assert_int_equal(buf[1024 + i], 0);
	/* Byte-sized buffer (no word rounding) works; one byte less does not. */
	assert_int_equal(rlog_disk_encode(rl, buf, 1024 + 13), 0);
	assert_int_equal(rlog_disk_encode(rl, buf, 1024 + 12), -ENOSPC);
	assert_int_equal(rlog_disk_encode(rl, buf, 100), -ENOSPC);
	rlog_destroy(rl);
}

static void test_encode_decode_roundtrip(void **state)
{
	static const uint64_t counts[] = {1, 63, 64, 65, 1000};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		uint64_t n = counts[i], nr = 0, regs[2] = {0, n - 1};
		struct rlog *rl = mk(n, RLOG_SYNC_DEFAULT), *back = mk(n, RLOG_SYNC_DEFAULT);
		size_t len = (size_t)rlog_disk_size(n, 512);
		uint8_t *buf = calloc(1, len);
		bool c;

		assert_non_null(buf);
		assert_int_equal(rlog_mark(rl, 1, regs, n > 1 ? 2 : 1), 0);
		assert_int_equal(rlog_disk_encode(rl, buf, len), 0);
		assert_int_equal(rlog_disk_decode_header(buf, len, &nr), RLOG_DISK_OK);
		assert_int_equal(nr, n);
		/* What the disk says is what a master resume reads back. */
		assert_int_equal(rlog_resume_master(back, buf + 1024, nr), 0);
		assert_int_equal(rlog_clean_count(back), rlog_clean_count(rl));
		assert_int_equal(rlog_is_clean(back, n - 1, &c), 0);
		assert_false(c);
		if (n > 2) {
			assert_int_equal(rlog_is_clean(back, 1, &c), 0);
			assert_true(c);
		}
		free(buf);
		rlog_destroy(rl);
		rlog_destroy(back);
	}
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

static void test_decode_errors(void **state)
{
	uint8_t buf[1024 + 128];
	uint64_t nr = 12345;

	(void)state;
	memset(buf, 0, sizeof(buf));
	put_le32(buf, RLOG_DISK_MAGIC);
	put_le32(buf + 4, 2);
	put_le64(buf + 8, 1000); /* needs 125 bitmap bytes */
	assert_int_equal(rlog_disk_decode_header(buf, sizeof(buf), &nr), RLOG_DISK_OK);
	assert_int_equal(nr, 1000);
	/* version 1 is accepted too */
	put_le32(buf + 4, 1);
	assert_int_equal(rlog_disk_decode_header(buf, sizeof(buf), &nr), RLOG_DISK_OK);
	/* short: below the header, and below header + bitmap */
	assert_int_equal(rlog_disk_decode_header(buf, 15, &nr), RLOG_DISK_ESHORT);
	assert_int_equal(rlog_disk_decode_header(buf, 0, &nr), RLOG_DISK_ESHORT);
	assert_int_equal(rlog_disk_decode_header(NULL, 2000, &nr), RLOG_DISK_ESHORT);
	assert_int_equal(rlog_disk_decode_header(buf, 16, &nr), RLOG_DISK_ESHORT);
	assert_int_equal(rlog_disk_decode_header(buf, 1024 + 124, &nr), RLOG_DISK_ESHORT);
	assert_int_equal(rlog_disk_decode_header(buf, 1024 + 125, &nr), RLOG_DISK_OK);
	/* magic */
	buf[3] = 0x4E;
	assert_int_equal(rlog_disk_decode_header(buf, sizeof(buf), &nr), RLOG_DISK_EMAGIC);
	buf[3] = 0x4D;
	/* version */
	put_le32(buf + 4, 0);
	assert_int_equal(rlog_disk_decode_header(buf, sizeof(buf), &nr), RLOG_DISK_EVERSION);
	put_le32(buf + 4, 3);
	assert_int_equal(rlog_disk_decode_header(buf, sizeof(buf), &nr), RLOG_DISK_EVERSION);
	put_le32(buf + 4, 2);
	/* range */
	put_le64(buf + 8, 0);
	assert_int_equal(rlog_disk_decode_header(buf, sizeof(buf), &nr), RLOG_DISK_ERANGE);
	put_le64(buf + 8, RLOG_MAX_REGIONS + 1);
	assert_int_equal(rlog_disk_decode_header(buf, sizeof(buf), &nr), RLOG_DISK_ERANGE);
	put_le64(buf + 8, UINT64_MAX);
	assert_int_equal(rlog_disk_decode_header(buf, sizeof(buf), &nr), RLOG_DISK_ERANGE);
	/* in range, but the bitmap of 2^31 regions is not in the buffer */
	put_le64(buf + 8, RLOG_MAX_REGIONS);
	assert_int_equal(rlog_disk_decode_header(buf, sizeof(buf), &nr), RLOG_DISK_ESHORT);
	/* *nr_regions untouched on failure */
	assert_int_equal(nr, 1000);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(rlog_disk_strerror(RLOG_DISK_OK), "valid disk log header");
	assert_string_equal(rlog_disk_strerror(RLOG_DISK_ESHORT),
			    "disk log too short for its header and bitmap");
	assert_string_equal(rlog_disk_strerror(RLOG_DISK_EMAGIC),
			    "bad disk log magic (expected 0x4D695272)");
	assert_string_equal(rlog_disk_strerror(RLOG_DISK_EVERSION),
			    "unsupported disk log version (expected 1 or 2)");
	assert_string_equal(rlog_disk_strerror(RLOG_DISK_ERANGE),
			    "disk log region count is 0 or above the maximum");
	assert_string_equal(rlog_disk_strerror(-99), "unknown disk log error");
}

static void take(struct rlog *rl, uint64_t *off, uint64_t *len)
{
	*off = *len = 777;
	rlog_disk_take_dirty(rl, off, len);
}

static void test_dirty_tracking(void **state)
{
	struct rlog *rl = mk(1000, RLOG_SYNC_NONE);
	uint64_t off, len, r;

	(void)state;
	/* A new log: everything is to be written (1000 regions = 16 words = 128 bytes). */
	take(rl, &off, &len);
	assert_int_equal(off, 0);
	assert_int_equal(len, 128);
	take(rl, &off, &len);
	assert_int_equal(len, 0);
	/* One clean bit change: its 8-byte word. */
	r = 130;
	assert_int_equal(rlog_mark(rl, 1, &r, 1), 0);
	take(rl, &off, &len);
	assert_int_equal(off, 16);
	assert_int_equal(len, 8);
	/* No clean-bit change (already dirty, a second node): nothing. */
	assert_int_equal(rlog_mark(rl, 2, &r, 1), 0);
	assert_int_equal(rlog_clear(rl, 1, &r, 1), 0);
	take(rl, &off, &len);
	assert_int_equal(len, 0);
	/* Two changes far apart: one range covering both words. */
	assert_int_equal(rlog_clear(rl, 2, &r, 1), 0);
	r = 999;
	assert_int_equal(rlog_mark(rl, 3, &r, 1), 0);
	r = 0;
	assert_int_equal(rlog_mark(rl, 3, &r, 1), 0);
	take(rl, &off, &len);
	assert_int_equal(off, 0);
	assert_int_equal(len, 128);
	/* Sync changes that flip clean bits count; those that do not, don't. */
	assert_int_equal(rlog_set_region_sync(rl, 1, 500, false), 0);
	take(rl, &off, &len);
	assert_int_equal(off, 56);
	assert_int_equal(len, 8);
	assert_int_equal(rlog_set_region_sync(rl, 1, 999, true), 0); /* still marked */
	take(rl, &off, &len);
	assert_int_equal(len, 0);
	/* node_left dirties the regions it held. */
	assert_int_equal(rlog_set_region_sync(rl, 1, 500, true), 0);
	take(rl, &off, &len);
	assert_int_equal(rlog_node_left(rl, 3), 0);
	take(rl, &off, &len); /* 0 and 999 were already dirty: no clean change */
	assert_int_equal(len, 0);
	/* mark_all_dirty, resume and resize: the whole bitmap. */
	rlog_disk_mark_all_dirty(rl);
	take(rl, &off, &len);
	assert_int_equal(off, 0);
	assert_int_equal(len, 128);
	assert_int_equal(rlog_resume_master(rl, NULL, 0), 0);
	take(rl, &off, &len);
	assert_int_equal(len, 128);
	assert_int_equal(rlog_resize(rl, 1025), 0);
	take(rl, &off, &len);
	assert_int_equal(off, 0);
	assert_int_equal(len, 136);
	rlog_destroy(rl);
}

static void test_bitmap_read(void **state)
{
	struct rlog *rl = mk(70, RLOG_SYNC_NONE);
	uint64_t regs[2] = {8, 69};
	uint8_t out[16];

	(void)state;
	assert_int_equal(rlog_mark(rl, 1, regs, 2), 0);
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(rlog_disk_bitmap_read(rl, 0, out, 16), 0);
	assert_int_equal(out[0], 0xff);
	assert_int_equal(out[1], 0xfe);
	assert_int_equal(out[8], 0x1f); /* regions 64..68 clean, 69 dirty, rest past the end */
	assert_int_equal(out[9], 0);
	assert_int_equal(rlog_disk_bitmap_read(rl, 8, out, 1), 0);
	assert_int_equal(out[0], 0x1f);
	assert_int_equal(rlog_disk_bitmap_read(rl, 16, out, 0), 0);
	assert_int_equal(rlog_disk_bitmap_read(rl, 8, out, 9), -EINVAL);
	assert_int_equal(rlog_disk_bitmap_read(rl, 17, out, 0), -EINVAL);
	assert_int_equal(rlog_disk_bitmap_read(rl, UINT64_MAX, out, 2), -EINVAL);
	rlog_destroy(rl);
}

/* The in-sync bitmap export agrees with rlog_in_sync region by region. */
static void test_image_intersect(void **state)
{
	uint8_t a[3] = {0xFF, 0xF0, 0xFF}, b[3] = {0x0F, 0xFF, 0x00};

	(void)state;
	/* 20 regions: byte 0 keeps what b keeps, byte 1 unchanged, byte 2's bits 16..19 */
	assert_int_equal(rlog_image_intersect(a, b, 20), 4 + 4);
	assert_int_equal(a[0], 0x0F);
	assert_int_equal(a[1], 0xF0);
	assert_int_equal(a[2], 0xF0); /* bits from region 20 on are left alone */
	/* nothing to drop: 0 */
	assert_int_equal(rlog_image_intersect(a, a, 24), 0);
	assert_int_equal(rlog_image_intersect(a, b, 0), 0);
}

static void test_sync_bitmap_read(void **state)
{
	struct rlog *rl = mk(70, RLOG_SYNC_FORCE);
	uint64_t r;
	uint8_t out[16];
	bool in;

	(void)state;
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(rlog_sync_bitmap_read(rl, 0, out, 16), 0);
	for (r = 0; r < 128; r++)
		assert_int_equal((out[r / 8] >> (r % 8)) & 1, 0); /* nothing in sync yet */
	assert_int_equal(rlog_set_region_sync(rl, 1, 3, true), 0);
	assert_int_equal(rlog_set_region_sync(rl, 1, 64, true), 0);
	assert_int_equal(rlog_set_region_sync(rl, 1, 69, true), 0);
	assert_int_equal(rlog_sync_bitmap_read(rl, 0, out, 16), 0);
	for (r = 0; r < 128; r++) {
		bool bit = (out[r / 8] >> (r % 8)) & 1;

		if (r < 70) {
			assert_int_equal(rlog_in_sync(rl, r, &in), 0);
			assert_int_equal(bit, in);
		} else {
			assert_false(bit); /* past the end: 0 */
		}
	}
	assert_int_equal(out[0], 0x08);
	assert_int_equal(out[8], 0x21);
	assert_int_equal(rlog_sync_bitmap_read(rl, 8, out, 1), 0);
	assert_int_equal(out[0], 0x21);
	assert_int_equal(rlog_sync_bitmap_read(rl, 16, out, 0), 0);
	assert_int_equal(rlog_sync_bitmap_read(rl, 8, out, 9), -EINVAL);
	assert_int_equal(rlog_sync_bitmap_read(rl, UINT64_MAX, out, 2), -EINVAL);
	assert_int_equal(rlog_sync_bitmap_read(rl, 0, NULL, 2), -EINVAL);
	rlog_destroy(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disk_size),
		cmocka_unit_test(test_image_intersect),
		cmocka_unit_test(test_encode_bytes),
		cmocka_unit_test(test_encode_decode_roundtrip),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_dirty_tracking),
		cmocka_unit_test(test_bitmap_read),
		cmocka_unit_test(test_sync_bitmap_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
