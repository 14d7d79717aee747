/*
 * Unit tests of daemon/ulog_codec: a table of good and bad kernel datagrams (every verdict
 * and reason), byte-exact encodings of both reply shapes, capacity and payload enforcement,
 * and the payload helpers. Frames are built here byte by byte from kernel-protocol.md s2,
 * not with the codec, so the test is not circular.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "daemon/ulog_codec.h"

/* ---- an independent frame builder --------------------------------------------------- */

struct frame {
	uint8_t b[1024];
	size_t len;
};

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* A request exactly as a 6.x kernel sends it: nlmsg_len unrounded, datagram padded to 4. */
static void mk(struct frame *f, uint32_t type, uint32_t seq, const void *data, uint32_t n)
{
	uint64_t luid = 0xffff888012345678ull;
	uint32_t nlen = 16 + 20 + 160 + n;

	memset(f, 0, sizeof(*f));
	put32(f->b + 0, nlen);
	put16(f->b + 4, 3); /* NLMSG_DONE */
	put32(f->b + 8, seq);
	put32(f->b + 16, 7);
	put32(f->b + 20, 1);
	put32(f->b + 24, seq);
	put16(f->b + 32, (uint16_t)(160 + n));
	memcpy(f->b + 36, &luid, 8);
	strcpy((char *)f->b + 44, "LVM-abcdefUUID");
	put32(f->b + 176, 3);
	put32(f->b + 184, seq);
	put32(f->b + 188, type);
	put32(f->b + 192, n);
	if (n)
		memcpy(f->b + 196, data, n);
	f->len = (nlen + 3u) & ~3u;
}

static enum ulog_verdict dec(const struct frame *f, struct ulog_msg *m, int *err,
			     enum ulog_reason *why)
{
	return ulog_decode(f->b, f->len, 0, m, err, why);
}

/* ---- decode: good frames ------------------------------------------------------------- */

static void test_decode_ctr(void **state)
{
	const char *s = "2097152 clustered-disk 253:3 1024"; /* strlen 33: padded on the wire */
	struct frame f;
	struct ulog_msg m;
	enum ulog_reason why;
	int err = 1;

	mk(&f, 1, 77, s, (uint32_t)strlen(s));
	assert_int_equal(f.len, 196 + 36);
	assert_int_equal(ulog_decode(f.b, f.len, 0, &m, &err, &why), ULOG_OK);
	assert_int_equal(err, 0);
	assert_int_equal(why, ULOG_R_NONE);
	assert_int_equal(m.type, 1);
	assert_int_equal(m.seq, 77);
	assert_int_equal(m.cn_seq, 77);
	assert_int_equal(m.version, 3);
	assert_true(m.luid == 0xffff888012345678ull);
	assert_string_equal(m.uuid, "LVM-abcdefUUID");
	assert_int_equal(m.data_size, strlen(s));
	assert_string_equal((const char *)m.data, s); /* NUL-terminated by the decoder */
	assert_false(ulog_is_reconnect_ctr(&m));
	assert_int_equal(ulog_reply_capacity(&m), 128);

	/* Reconnect CTR: strlen + 1 with the NUL; capacity 0. */
	mk(&f, 1, 78, s, (uint32_t)strlen(s) + 1);
	assert_int_equal(dec(&f, &m, &err, &why), ULOG_OK);
	assert_true(ulog_is_reconnect_ctr(&m));
	assert_int_equal(ulog_reply_capacity(&m), 0);

	/* Unpadded datagram (a user-space sender) and old-kernel rounded nlmsg_len. */
	mk(&f, 1, 79, s, (uint32_t)strlen(s));
	f.len = 196 + strlen(s);
	assert_int_equal(dec(&f, &m, &err, &why), ULOG_OK);
	mk(&f, 1, 80, s, (uint32_t)strlen(s));
	put32(f.b, (uint32_t)f.len);
	assert_int_equal(dec(&f, &m, &err, &why), ULOG_OK);
	(void)state;
}

static void test_decode_type_masked(void **state)
{
	struct frame f;
	struct ulog_msg m;

	mk(&f, 0x1200 | 5, 1, NULL, 0); /* upper bits are ignored, as DM_ULOG_REQUEST_TYPE */
	assert_int_equal(dec(&f, &m, NULL, NULL), ULOG_OK);
	assert_int_equal(m.type, 5);
	(void)state;
}

struct size_case {
	uint32_t type;
	uint32_t n;
	bool ok;
};

static void test_decode_payload_sizes(void **state)
{
	static const struct size_case cases[] = {
		{2, 0, true},	 {2, 8, false},	   {3, 0, true},   {4, 0, true},   {5, 0, true},
		{5, 1, false},	 {6, 0, true},	   {6, 8, false},  {7, 8, true},   {7, 0, false},
		{7, 16, false},	 {8, 8, true},	   {8, 4, false},  {9, 0, true},   {9, 8, true},
		{9, 256, true},	 {9, 264, false},  {9, 12, false}, {10, 8, true},  {10, 0, false},
		{10, 256, true}, {10, 264, false}, {10, 9, false}, {11, 8, true},  {11, 0, false},
		{11, 248, true}, {11, 7, false},   {12, 0, true},  {12, 8, false}, {13, 16, true},
		{13, 8, false},	 {13, 24, false},  {14, 0, true},  {14, 8, false}, {15, 0, true},
		{15, 1, false},	 {16, 0, true},	   {16, 4, false}, {17, 8, true},  {17, 16, false},
		{1, 1, true},	 {1, 332, true},   {1, 0, false},
	};
	uint8_t data[332];
	size_t i;

	memset(data, 'a', sizeof(data));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame f;
		struct ulog_msg m;
		enum ulog_reason why;
		int err;
		enum ulog_verdict v;

		mk(&f, cases[i].type, 100 + (uint32_t)i, data, cases[i].n);
		v = dec(&f, &m, &err, &why);
		if (cases[i].ok) {
			assert_int_equal(v, ULOG_OK);
		} else {
			assert_int_equal(v, ULOG_REPLY_ERROR);
			assert_int_equal(err, -EINVAL);
			assert_int_equal(why, ULOG_R_PAYLOAD);
			assert_int_equal(m.seq, 100 + i);
		}
	}
	(void)state;
}

/* ---- decode: the table of bad frames --------------------------------------------------- */

enum mutation {
	M_SHORT,
	M_EMPTY,
	M_FOREIGN_IDX,
	M_FOREIGN_VAL,
	M_NOT_DONE,
	M_TRUNCATED,
	M_TRAILING,
	M_NLMSG_LEN_SMALL,
	M_CN_LEN_SHORT,
	M_CN_LEN_ZERO,
	M_CN_LEN_BIG,
	M_SIZE_MISMATCH,
	M_DATA_TOO_BIG,
	M_TYPE_0,
	M_TYPE_18,
	M_TYPE_255,
	M_VERSION_0,
	M_UUID_NO_NUL,
	M_GARBAGE,
};

struct bad_case {
	enum mutation m;
	enum ulog_verdict v;
	enum ulog_reason why;
	int err;
};

static void mutate(struct frame *f, enum mutation m)
{
	uint8_t payload[340];

	memset(payload, 0, sizeof(payload));
	mk(f, 8, 4242, payload, 8); /* IN_SYNC region 0: a valid base frame */
	switch (m) {
	case M_SHORT:
		f->len = 35;
		break;
	case M_EMPTY:
		f->len = 0;
		break;
	case M_FOREIGN_IDX:
		put32(f->b + 16, 1); /* proc connector */
		break;
	case M_FOREIGN_VAL:
		put32(f->b + 20, 2);
		break;
	case M_NOT_DONE:
		put16(f->b + 4, 16);
		break;
	case M_TRUNCATED:
		f->len = 100;
		break;
	case M_TRAILING:
		f->len += 8;
		break;
	case M_NLMSG_LEN_SMALL:
		put32(f->b, 20);
		break;
	case M_CN_LEN_SHORT: /* consistent lengths, but cn_msg.len below the request struct */
		put16(f->b + 32, 100);
		put32(f->b, 36 + 100);
		f->len = 136;
		break;
	case M_CN_LEN_ZERO:
		put16(f->b + 32, 0);
		put32(f->b, 36);
		f->len = 36;
		break;
	case M_CN_LEN_BIG:
		put16(f->b + 32, 168 + 40);
		break;
	case M_SIZE_MISMATCH:
		put32(f->b + 192, 16); /* data_size says 16, cn_msg.len says 8 */
		break;
	case M_DATA_TOO_BIG:
		mk(f, 1, 4242, payload, 336);
		break;
	case M_TYPE_0:
		put32(f->b + 188, 0);
		break;
	case M_TYPE_18:
		put32(f->b + 188, 18);
		break;
	case M_TYPE_255:
		put32(f->b + 188, 0x1ff); /* masked: 0xff */
		break;
	case M_VERSION_0:
		put32(f->b + 176, 0);
		break;
	case M_UUID_NO_NUL:
		memset(f->b + 44, 'U', 129);
		break;
	case M_GARBAGE: {
		size_t i;

		for (i = 0; i < 200; i++)
			f->b[i] = (uint8_t)(i * 37 + 11);
		f->len = 200;
		break;
	}
	}
}

static void test_decode_bad_table(void **state)
{
	static const struct bad_case cases[] = {
		{M_SHORT, ULOG_DROP, ULOG_R_SHORT, 0},
		{M_EMPTY, ULOG_DROP, ULOG_R_SHORT, 0},
		{M_FOREIGN_IDX, ULOG_DROP, ULOG_R_FOREIGN, 0},
		{M_FOREIGN_VAL, ULOG_DROP, ULOG_R_FOREIGN, 0},
		{M_NOT_DONE, ULOG_DROP, ULOG_R_NLMSG_TYPE, 0},
		{M_TRUNCATED, ULOG_ACK_EAGAIN, ULOG_R_NLMSG_LEN, 0},
		{M_TRAILING, ULOG_ACK_EAGAIN, ULOG_R_NLMSG_LEN, 0},
		{M_NLMSG_LEN_SMALL, ULOG_ACK_EAGAIN, ULOG_R_NLMSG_LEN, 0},
		{M_CN_LEN_SHORT, ULOG_ACK_EAGAIN, ULOG_R_CN_LEN, 0},
		{M_CN_LEN_ZERO, ULOG_ACK_EAGAIN, ULOG_R_CN_LEN, 0},
		{M_CN_LEN_BIG, ULOG_ACK_EAGAIN, ULOG_R_CN_LEN, 0},
		{M_SIZE_MISMATCH, ULOG_ACK_EAGAIN, ULOG_R_SIZE_MISMATCH, 0},
		{M_DATA_TOO_BIG, ULOG_REPLY_ERROR, ULOG_R_DATA_TOO_BIG, -EINVAL},
		{M_TYPE_0, ULOG_REPLY_ERROR, ULOG_R_BAD_TYPE, -EINVAL},
		{M_TYPE_18, ULOG_REPLY_ERROR, ULOG_R_BAD_TYPE, -EINVAL},
		{M_TYPE_255, ULOG_REPLY_ERROR, ULOG_R_BAD_TYPE, -EINVAL},
		{M_VERSION_0, ULOG_REPLY_ERROR, ULOG_R_BAD_VERSION, -EINVAL},
		{M_UUID_NO_NUL, ULOG_REPLY_ERROR, ULOG_R_UUID, -EINVAL},
		{M_GARBAGE, ULOG_DROP, ULOG_R_FOREIGN, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame f;
		struct ulog_msg m;
		enum ulog_reason why = ULOG_R_NONE;
		int err = 12345;
		enum ulog_verdict v;

		mutate(&f, cases[i].m);
		v = dec(&f, &m, &err, &why);
		if (v != cases[i].v || why != cases[i].why || err != cases[i].err)
			fail_msg("case %zu: verdict %d reason %d (%s) err %d", i, v, why,
				 ulog_reason_str(why), err);
		if (v == ULOG_ACK_EAGAIN)
			assert_int_equal(m.cn_seq, 4242);
		if (v == ULOG_REPLY_ERROR) {
			assert_int_equal(m.seq, 4242);
			assert_int_equal(m.cn_seq, 4242);
			assert_int_equal(m.data_size <= ULOG_MAX_PAYLOAD, 1);
			assert_non_null(memchr(m.uuid, '\0', sizeof(m.uuid)));
		}
		assert_string_not_equal(ulog_reason_str(why), "unknown reason");
	}
	(void)state;
}

/* Every prefix of a valid frame is handled without crashing, never as OK. */
static void test_decode_every_prefix(void **state)
{
	uint8_t regions[16] = {1, 0, 0, 0, 0, 0, 0, 0, 2};
	struct frame f;
	struct ulog_msg full;
	size_t n;

	mk(&f, 10, 9, regions, 16);
	for (n = 0; n < 196 + 16; n++) {
		struct ulog_msg m;
		enum ulog_verdict v = ulog_decode(f.b, n, 0, &m, NULL, NULL);

		assert_int_not_equal(v, ULOG_OK);
	}
	assert_int_equal(ulog_decode(f.b, 196 + 16, 0, &full, NULL, NULL), ULOG_OK);
	assert_int_equal(ulog_region_count(&full), 2);
	(void)state;
}

/* ---- payload helpers ------------------------------------------------------------------- */

static void test_regions(void **state)
{
	uint64_t in[32], out[40], v;
	struct frame f;
	struct ulog_msg m;
	size_t i;

	for (i = 0; i < 32; i++)
		in[i] = 0x100000000ull * i + i;
	mk(&f, 10, 5, in, sizeof(in));
	assert_int_equal(dec(&f, &m, NULL, NULL), ULOG_OK);
	assert_int_equal(ulog_region_count(&m), 32);
	assert_int_equal(ulog_get_regions(&m, out, 40), 32);
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(ulog_get_regions(&m, out, 3), 3);
	assert_true(ulog_get_u64(&m, 31, &v));
	assert_true(v == in[31]);
	assert_false(ulog_get_u64(&m, 32, &v));

	/* SET_REGION_SYNC {region, in_sync} */
	{
		uint64_t srs[2] = {77, 1};

		mk(&f, 13, 6, srs, 16);
		assert_int_equal(dec(&f, &m, NULL, NULL), ULOG_OK);
		assert_true(ulog_get_u64(&m, 0, &v) && v == 77);
		assert_true(ulog_get_u64(&m, 1, &v) && v == 1);
	}
	(void)state;
}

/* ---- encode: byte-exact replies -------------------------------------------------------- */

static void decoded(struct ulog_msg *m, uint32_t type, uint32_t seq, const void *d, uint32_t n)
{
	struct frame f;

	mk(&f, type, seq, d, n);
	assert_int_equal(dec(&f, m, NULL, NULL), ULOG_OK);
}

static void test_encode_full_reply_exact(void **state)
{
	uint8_t buf[ULOG_MAX_REPLY], want[204];
	struct ulog_msg m;
	uint64_t region = 3, one = 1, luid = 0xffff888012345678ull;
	int n;

	decoded(&m, 8, 0xdeadbeef, &region, 8);
	memset(buf, 0xaa, sizeof(buf));
	n = ulog_encode_reply(buf, sizeof(buf), &m, 0, &one, 8);
	assert_int_equal(n, 204);

	memset(want, 0, sizeof(want));
	put32(want + 0, 204); /* NLMSG_LENGTH(20 + 160 + 8) */
	put16(want + 4, 3);   /* NLMSG_DONE */
	put32(want + 8, 0xdeadbeef);
	put32(want + 16, 7);
	put32(want + 20, 1);
	put32(want + 24, 0xdeadbeef); /* cn_msg.seq */
	put16(want + 32, 168);	      /* 160 + 8 */
	memcpy(want + 36, &luid, 8);
	strcpy((char *)want + 44, "LVM-abcdefUUID");
	put32(want + 176, 3);
	put32(want + 180, 0); /* error */
	put32(want + 184, 0xdeadbeef);
	put32(want + 188, 8);
	put32(want + 192, 8);
	memcpy(want + 196, &one, 8);
	assert_memory_equal(buf, want, 204);

	/* Error reply: negative errno, data_size 0 even if data was passed. */
	n = ulog_encode_reply(buf, sizeof(buf), &m, -ESRCH, &one, 8);
	assert_int_equal(n, 196);
	assert_int_equal(get32(buf + 0), 196);
	assert_int_equal(get32(buf + 180), (uint32_t)-ESRCH);
	assert_int_equal(get32(buf + 184), 0xdeadbeef);
	assert_int_equal(get32(buf + 192), 0);
	assert_int_equal(buf[32] | buf[33] << 8, 160);

	/* A MARK reply: data_size reset to 0 although the request carried 16 bytes. */
	{
		uint64_t r[2] = {1, 2};

		decoded(&m, 10, 9, r, 16);
		n = ulog_encode_reply(buf, sizeof(buf), &m, 0, NULL, 0);
		assert_int_equal(n, 196);
		assert_int_equal(get32(buf + 192), 0);
		assert_int_equal(get32(buf + 188), 10);
	}
	(void)state;
}

static void test_encode_ack_exact(void **state)
{
	uint8_t buf[64], want[36];
	struct ulog_msg m;
	uint64_t r = 5;
	int n;

	decoded(&m, 11, 31337, &r, 8);
	memset(buf, 0xaa, sizeof(buf));
	n = ulog_encode_ack(buf, sizeof(buf), &m, 0);
	assert_int_equal(n, 36);
	memset(want, 0, sizeof(want));
	put32(want + 0, 36);
	put16(want + 4, 3);
	put32(want + 8, 31337);
	put32(want + 16, 7);
	put32(want + 20, 1);
	put32(want + 24, 31337);
	put32(want + 28, 0);
	assert_memory_equal(buf, want, 36);

	n = ulog_encode_ack(buf, sizeof(buf), &m, EAGAIN);
	assert_int_equal(n, 36);
	put32(want + 28, EAGAIN); /* positive errno */
	assert_memory_equal(buf, want, 36);

	/* The EAGAIN verdict: only cn_seq known, type 0 -> ack EAGAIN is fine, ack 0 is not. */
	{
		struct frame f;

		mutate(&f, M_SIZE_MISMATCH);
		assert_int_equal(dec(&f, &m, NULL, NULL), ULOG_ACK_EAGAIN);
		assert_int_equal(ulog_encode_ack(buf, sizeof(buf), &m, EAGAIN), 36);
		assert_int_equal(get32(buf + 24), 4242);
		assert_int_equal(ulog_encode_ack(buf, sizeof(buf), &m, 0), -EINVAL);
	}
	assert_int_equal(ulog_encode_ack(buf, sizeof(buf), &m, -EAGAIN), -EINVAL);
	assert_int_equal(ulog_encode_ack(buf, 35, &m, EAGAIN), -ENOSPC);
	(void)state;
}

static void test_ack_zero_only_without_data(void **state)
{
	uint8_t buf[64];
	uint8_t pl[16] = {0};
	struct ulog_msg m;
	static const struct {
		uint32_t type;
		uint32_t n;
		bool ok;
	} c[] = {{1, 4, true},	 {2, 0, true},	 {3, 0, true},	 {4, 0, true},	 {5, 0, true},
		 {6, 0, false},	 {7, 8, false},	 {8, 8, false},	 {9, 0, true},	 {10, 8, true},
		 {11, 8, true},	 {12, 0, false}, {13, 16, true}, {14, 0, false}, {15, 0, false},
		 {16, 0, false}, {17, 8, false}};
	size_t i;

	memcpy(pl, "1 x", 3);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		decoded(&m, c[i].type, 1, pl, c[i].n);
		assert_int_equal(ulog_encode_ack(buf, sizeof(buf), &m, 0), c[i].ok ? 36 : -EINVAL);
		assert_int_equal(ulog_encode_ack(buf, sizeof(buf), &m, EIO), 36);
	}
	(void)state;
}

static void test_encode_refusals(void **state)
{
	uint8_t buf[ULOG_MAX_REPLY];
	struct ulog_msg m;
	uint64_t r = 1, two = 2, big[3] = {1, 2, 3};
	char name[200];
	const char *ctr = "100 clustered-disk 8:16 8";

	/* positive errors and full EAGAIN replies */
	decoded(&m, 8, 1, &r, 8);
	assert_int_equal(ulog_encode_reply(buf, sizeof(buf), &m, EIO, NULL, 0), -EINVAL);
	assert_int_equal(ulog_encode_reply(buf, sizeof(buf), &m, -EAGAIN, NULL, 0), -EINVAL);
	/* IN_SYNC: exactly 8 bytes, value 0 or 1 */
	assert_int_equal(ulog_encode_reply(buf, sizeof(buf), &m, 0, &two, 8), -EINVAL);
	assert_int_equal(ulog_encode_reply(buf, sizeof(buf), &m, 0, NULL, 0), -EINVAL);
	assert_int_equal(ulog_encode_reply(buf, sizeof(buf), &m, 0, big, 16), -EINVAL);
	assert_int_equal(ulog_encode_reply_s64(buf, sizeof(buf), &m, 1), 204);
	assert_int_equal(ulog_encode_reply_s64(buf, sizeof(buf), &m, -1), -EINVAL);
	/* too small a buffer */
	assert_int_equal(ulog_encode_reply_s64(buf, 203, &m, 1), -ENOSPC);

	/* capacity 0 types: FLUSH with payload, data in the reply -> refused */
	decoded(&m, 9, 2, big, 24);
	assert_int_equal(ulog_encode_reply(buf, sizeof(buf), &m, 0, &r, 8), -EINVAL);
	assert_int_equal(ulog_encode_reply(buf, sizeof(buf), &m, 0, NULL, 0), 196);

	/* GET_RESYNC_WORK {found 0/1, region}; IS_REMOTE_RECOVERING {0/1, hint} */
	decoded(&m, 12, 3, NULL, 0);
	assert_int_equal(ulog_encode_reply_pair(buf, sizeof(buf), &m, 1, 99), 212);
	assert_int_equal(get32(buf + 192), 16);
	assert_int_equal(ulog_encode_reply_pair(buf, sizeof(buf), &m, 2, 99), -EINVAL);
	assert_int_equal(ulog_encode_reply_u64(buf, sizeof(buf), &m, 1), -EINVAL);
	decoded(&m, 17, 3, &r, 8);
	assert_int_equal(ulog_encode_reply_pair(buf, sizeof(buf), &m, 0, 1000), 212);

	/* GET_SYNC_COUNT / GET_REGION_SIZE: exactly a u64 */
	decoded(&m, 14, 4, NULL, 0);
	assert_int_equal(ulog_encode_reply_u64(buf, sizeof(buf), &m, 1ull << 40), 204);
	assert_int_equal(ulog_encode_reply(buf, sizeof(buf), &m, 0, &r, 4), -EINVAL);
	decoded(&m, 6, 4, NULL, 0);
	assert_int_equal(ulog_encode_reply_u64(buf, sizeof(buf), &m, 1024), 204);

	/* STATUS: a string with its NUL, nothing after it, within ULOG_CAP_STATUS */
	decoded(&m, 15, 5, NULL, 0);
	assert_int_equal(ulog_encode_reply_str(buf, sizeof(buf), &m, "1 clustered-core"), 213);
	assert_int_equal(get32(buf + 192), 17);
	assert_int_equal(buf[196 + 16], 0);
	assert_int_equal(ulog_encode_reply(buf, sizeof(buf), &m, 0, "abc", 3), -EINVAL);
	assert_int_equal(ulog_encode_reply(buf, sizeof(buf), &m, 0, "a\0bc", 5), -EINVAL);
	assert_int_equal(ulog_encode_reply(buf, sizeof(buf), &m, 0, "", 0), -EINVAL);
	{
		char longs[ULOG_CAP_STATUS + 1];

		memset(longs, 'x', sizeof(longs));
		longs[ULOG_CAP_STATUS] = '\0';
		assert_int_equal(ulog_encode_reply_str(buf, sizeof(buf), &m, longs), -EINVAL);
		longs[ULOG_CAP_STATUS - 1] = '\0';
		assert_int_equal(ulog_encode_reply_str(buf, sizeof(buf), &m, longs),
				 ULOG_MAX_REPLY);
	}

	/* CTR: device name only for the initial CTR of version >= 2, <= 128 bytes with NUL */
	decoded(&m, 1, 6, ctr, (uint32_t)strlen(ctr));
	assert_int_equal(ulog_encode_reply_str(buf, sizeof(buf), &m, "8:16"), 201);
	assert_int_equal(ulog_encode_reply(buf, sizeof(buf), &m, 0, NULL, 0), 196);
	memset(name, 'd', sizeof(name));
	name[127] = '\0';
	assert_int_equal(ulog_encode_reply_str(buf, sizeof(buf), &m, name), 196 + 128);
	name[127] = 'd';
	name[128] = '\0';
	assert_int_equal(ulog_encode_reply_str(buf, sizeof(buf), &m, name), -EINVAL);
	m.version = 1; /* v1: capacity 0 */
	assert_int_equal(ulog_encode_reply_str(buf, sizeof(buf), &m, "8:16"), -EINVAL);
	/* reconnect CTR (trailing NUL): never a device name */
	decoded(&m, 1, 7, ctr, (uint32_t)strlen(ctr) + 1);
	assert_int_equal(ulog_encode_reply_str(buf, sizeof(buf), &m, "8:16"), -EINVAL);
	assert_int_equal(ulog_encode_reply(buf, sizeof(buf), &m, 0, NULL, 0), 196);

	/* error replies to a bad type are allowed; success replies are not */
	{
		struct frame f;

		mutate(&f, M_TYPE_18);
		assert_int_equal(dec(&f, &m, NULL, NULL), ULOG_REPLY_ERROR);
		assert_int_equal(ulog_encode_reply(buf, sizeof(buf), &m, -EINVAL, NULL, 0), 196);
		assert_int_equal(get32(buf + 188), 18);
		assert_int_equal(ulog_encode_reply(buf, sizeof(buf), &m, 0, NULL, 0), -EINVAL);
	}
	(void)state;
}

/* The reply of the encoder decodes, as the kernel would read it, to the same values. */
static void test_reply_roundtrip_fields(void **state)
{
	uint8_t buf[ULOG_MAX_REPLY];
	struct ulog_msg m;
	uint64_t v;
	int n;

	decoded(&m, 14, 0xfffffffe, NULL, 0);
	n = ulog_encode_reply_u64(buf, sizeof(buf), &m, 0x1122334455667788ull);
	assert_int_equal(n, 204);
	assert_int_equal(get32(buf), (uint32_t)n);
	memcpy(&v, buf + 196, 8);
	assert_true(v == 0x1122334455667788ull);
	assert_int_equal(get32(buf + 184), 0xfffffffe);
	assert_string_equal(ulog_type_str(14), "GET_SYNC_COUNT");
	assert_string_equal(ulog_type_str(0), "UNKNOWN");
	assert_string_equal(ulog_type_str(18), "UNKNOWN");
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_ctr),
		cmocka_unit_test(test_decode_type_masked),
		cmocka_unit_test(test_decode_payload_sizes),
		cmocka_unit_test(test_decode_bad_table),
		cmocka_unit_test(test_decode_every_prefix),
		cmocka_unit_test(test_regions),
		cmocka_unit_test(test_encode_full_reply_exact),
		cmocka_unit_test(test_encode_ack_exact),
		cmocka_unit_test(test_ack_zero_only_without_data),
		cmocka_unit_test(test_encode_refusals),
		cmocka_unit_test(test_reply_roundtrip_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
