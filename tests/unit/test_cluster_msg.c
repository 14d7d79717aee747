/*
 * test_cluster_msg: round trips of every cluster message type and a table of malformed
 * messages, each rejected with its own reason code.
 */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/msg.h"

static struct cmsg in, out;
static uint8_t buf[CMSG_MAX_SIZE];

static void hdr(struct cmsg *m, uint16_t type)
{
	memset(m, 0, sizeof(*m));
	m->version = 1;
	m->type = type;
	m->nodeid = 7;
	m->seq = 42;
}

static size_t enc(const struct cmsg *m)
{
	size_t len = 0;

	assert_int_equal(cmsg_encode(m, NULL, buf, sizeof(buf), &len), 0);
	return len;
}

static void roundtrip(const struct cmsg *m)
{
	size_t len = enc(m);

	memset(&out, 0xA5, sizeof(out));
	assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 1), CMSG_OK);
	assert_int_equal(out.version, m->version);
	assert_int_equal(out.type, m->type);
	assert_int_equal(out.nodeid, m->nodeid);
	assert_int_equal(out.seq, m->seq);
}

static void test_commit(void **state)
{
	uint32_t i;

	(void)state;
	hdr(&in, CMSG_COMMIT);
	in.u.commit.commit_id = 0x1122334455667788ull;
	in.u.commit.n_marks = 3;
	in.u.commit.n_clears = 2;
	for (i = 0; i < 5; i++)
		in.u.commit.regions[i] = (uint64_t)i * 0x100000001ull;
	roundtrip(&in);
	assert_int_equal(out.u.commit.commit_id, in.u.commit.commit_id);
	assert_int_equal(out.u.commit.n_marks, 3);
	assert_int_equal(out.u.commit.n_clears, 2);
	assert_memory_equal(out.u.commit.regions, in.u.commit.regions, 5 * 8);
	/* the largest commit */
	in.u.commit.n_marks = CMSG_COMMIT_MAX_REGIONS;
	in.u.commit.n_clears = 0;
	roundtrip(&in);
	assert_int_equal(out.u.commit.n_marks, CMSG_COMMIT_MAX_REGIONS);
}

static void test_requests(void **state)
{
	(void)state;
	hdr(&in, CMSG_RESYNC_REQ);
	in.u.req.req_id = 99;
	roundtrip(&in);
	assert_int_equal(out.u.req.req_id, 99);

	hdr(&in, CMSG_SET_SYNC);
	in.u.req.req_id = 5;
	in.u.req.region = 1ull << 40;
	in.u.req.in_sync = true;
	roundtrip(&in);
	assert_int_equal(out.u.req.req_id, 5);
	assert_int_equal(out.u.req.region, 1ull << 40);
	assert_true(out.u.req.in_sync);

	hdr(&in, CMSG_REMOTE_REC);
	in.u.req.req_id = 6;
	in.u.req.region = 77;
	roundtrip(&in);
	assert_int_equal(out.u.req.req_id, 6);
	assert_int_equal(out.u.req.region, 77);

	hdr(&in, CMSG_DURABLE);
	in.u.gen = 1234;
	roundtrip(&in);
	assert_int_equal(out.u.gen, 1234);

	hdr(&in, CMSG_DISK_FAILED);
	in.u.gen = 4321;
	roundtrip(&in);
	assert_int_equal(out.type, CMSG_DISK_FAILED);
	assert_int_equal(out.u.gen, 4321);
}

static void test_state_snap(void **state)
{
	static const uint8_t bytes[] = {1, 2, 3, 4, 5, 6, 7};

	(void)state;
	hdr(&in, CMSG_STATE);
	in.u.state.max_version = 2;
	in.u.state.synced = true;
	in.u.state.quorate = true;
	in.u.state.n_members = 3;
	in.u.state.members[0] = 1;
	in.u.state.members[1] = 7;
	in.u.state.members[2] = 9;
	in.u.state.gen = 10;
	in.u.state.digest = 0xdeadbeefcafef00dull;
	in.u.state.epoch = 3;
	roundtrip(&in);
	assert_int_equal(out.u.state.max_version, 2);
	assert_true(out.u.state.synced);
	assert_true(out.u.state.quorate);
	assert_int_equal(out.u.state.n_members, 3);
	assert_memory_equal(out.u.state.members, in.u.state.members, 12);
	assert_int_equal(out.u.state.gen, 10);
	assert_int_equal(out.u.state.digest, in.u.state.digest);
	assert_int_equal(out.u.state.epoch, 3);

	hdr(&in, CMSG_SNAP);
	in.u.snap.round = 8;
	in.u.snap.index = 2;
	in.u.snap.last = true;
	in.u.snap.disk_failed = true;
	in.u.snap.writer = 7;
	in.u.snap.durable_gen = 9;
	in.u.snap.n_bytes = sizeof(bytes);
	in.u.snap.bytes = bytes;
	roundtrip(&in);
	assert_int_equal(out.u.snap.round, 8);
	assert_int_equal(out.u.snap.index, 2);
	assert_true(out.u.snap.last);
	assert_true(out.u.snap.disk_failed);
	assert_int_equal(out.u.snap.writer, 7);
	assert_int_equal(out.u.snap.durable_gen, 9);
	assert_int_equal(out.u.snap.n_bytes, sizeof(bytes));
	assert_memory_equal(out.u.snap.bytes, bytes, sizeof(bytes));
}

static void put32(size_t off, uint32_t v)
{
	buf[off] = (uint8_t)v;
	buf[off + 1] = (uint8_t)(v >> 8);
	buf[off + 2] = (uint8_t)(v >> 16);
	buf[off + 3] = (uint8_t)(v >> 24);
}

/* One malformed message: build a valid one of @type, apply @mutate, expect @err. */
struct bad_case {
	const char *name;
	uint16_t type;
	int err;
	void (*mutate)(size_t *len);
};

static void m_short(size_t *len)
{
	*len = CMSG_HDR_SIZE - 1;
}
static void m_magic(size_t *len)
{
	(void)len;
	buf[0] ^= 1;
}
static void m_version0(size_t *len)
{
	(void)len;
	buf[4] = 0;
}
static void m_version9(size_t *len)
{
	(void)len;
	buf[4] = 9;
}
static void m_type0(size_t *len)
{
	(void)len;
	buf[6] = 0;
}
static void m_type99(size_t *len)
{
	(void)len;
	buf[6] = 99;
}
static void m_sender(size_t *len)
{
	(void)len;
	put32(8, 8);
}
static void m_len_more(size_t *len)
{
	put32(16, (uint32_t)(*len - CMSG_HDR_SIZE + 1));
}
static void m_truncated(size_t *len)
{
	*len -= 1;
}
static void m_trailing(size_t *len)
{
	buf[*len] = 0;
	*len += 1;
	put32(16, (uint32_t)(*len - CMSG_HDR_SIZE));
}
static void m_commit_count(size_t *len)
{
	(void)len;
	put32(CMSG_HDR_SIZE + 8, CMSG_COMMIT_MAX_REGIONS + 1);
}
static void m_commit_count_mismatch(size_t *len)
{
	(void)len;
	put32(CMSG_HDR_SIZE + 8, 3); /* claims 3 marks + 2 clears, carries 2 */
}
static void m_bool(size_t *len)
{
	(void)len;
	buf[CMSG_HDR_SIZE + 16] = 2;
}
static void m_pad(size_t *len)
{
	(void)len;
	buf[CMSG_HDR_SIZE + 17] = 1;
}
static void m_state_quorate(size_t *len)
{
	(void)len;
	buf[CMSG_HDR_SIZE + 5] = 3;
}
static void m_state_pad(size_t *len)
{
	(void)len;
	buf[CMSG_HDR_SIZE + 7] = 1;
}
static void m_state_members0(size_t *len)
{
	(void)len;
	put32(CMSG_HDR_SIZE + 8, 0);
}
static void m_state_members_big(size_t *len)
{
	(void)len;
	put32(CMSG_HDR_SIZE + 8, CMSG_STATE_MAX_MEMBERS + 1);
}
static void m_state_unsorted(size_t *len)
{
	(void)len;
	put32(CMSG_HDR_SIZE + CMSG_STATE_FIXED, 100);
}
static void m_snap_big(size_t *len)
{
	(void)len;
	put32(CMSG_HDR_SIZE + 24, CMSG_SNAP_MAX_BYTES + 1);
}

static const struct bad_case bad[] = {
	{"short header", CMSG_DURABLE, CMSG_E_SHORT, m_short},
	{"magic", CMSG_DURABLE, CMSG_E_MAGIC, m_magic},
	{"version 0", CMSG_DURABLE, CMSG_E_VERSION, m_version0},
	{"version 9", CMSG_DURABLE, CMSG_E_VERSION, m_version9},
	{"type 0", CMSG_DURABLE, CMSG_E_TYPE, m_type0},
	{"type 99", CMSG_DURABLE, CMSG_E_TYPE, m_type99},
	{"sender", CMSG_COMMIT, CMSG_E_SENDER, m_sender},
	{"mh_len too big", CMSG_SET_SYNC, CMSG_E_LEN, m_len_more},
	{"truncated", CMSG_REMOTE_REC, CMSG_E_LEN, m_truncated},
	{"trailing durable", CMSG_DURABLE, CMSG_E_PAYLOAD, m_trailing},
	{"trailing resync", CMSG_RESYNC_REQ, CMSG_E_PAYLOAD, m_trailing},
	{"trailing commit", CMSG_COMMIT, CMSG_E_PAYLOAD, m_trailing},
	{"trailing state", CMSG_STATE, CMSG_E_PAYLOAD, m_trailing},
	{"trailing snap", CMSG_SNAP, CMSG_E_PAYLOAD, m_trailing},
	{"commit count", CMSG_COMMIT, CMSG_E_COUNT, m_commit_count},
	{"commit count mismatch", CMSG_COMMIT, CMSG_E_PAYLOAD, m_commit_count_mismatch},
	{"set_sync bool", CMSG_SET_SYNC, CMSG_E_VALUE, m_bool},
	{"set_sync pad", CMSG_SET_SYNC, CMSG_E_VALUE, m_pad},
	{"state quorate bool", CMSG_STATE, CMSG_E_VALUE, m_state_quorate},
	{"state pad", CMSG_STATE, CMSG_E_VALUE, m_state_pad},
	{"state no members", CMSG_STATE, CMSG_E_COUNT, m_state_members0},
	{"state too many", CMSG_STATE, CMSG_E_COUNT, m_state_members_big},
	{"state unsorted", CMSG_STATE, CMSG_E_VALUE, m_state_unsorted},
	{"snap too big", CMSG_SNAP, CMSG_E_COUNT, m_snap_big},
};

static void valid(uint16_t type)
{
	static const uint8_t bytes[16];

	hdr(&in, type);
	switch (type) {
	case CMSG_COMMIT:
		in.u.commit.n_marks = 1;
		in.u.commit.n_clears = 1;
		break;
	case CMSG_STATE:
		in.u.state.max_version = 1;
		in.u.state.n_members = 2;
		in.u.state.members[0] = 3;
		in.u.state.members[1] = 7;
		break;
	case CMSG_SNAP:
		in.u.snap.n_bytes = sizeof(bytes);
		in.u.snap.bytes = bytes;
		break;
	case CMSG_MARKS:
		in.version = 2;
		in.u.marks.last = true;
		in.u.marks.has_rec = true;
		in.u.marks.rec_region = 5;
		in.u.marks.n_regions = 2;
		in.u.marks.regions[0] = 4;
		in.u.marks.regions[1] = 9;
		break;
	case CMSG_TAKEOVER:
	case CMSG_HANDOVER:
		in.version = 3;
		in.u.writer = 5;
		break;
	case CMSG_EXCLUDE:
		in.u.excl.n_members = 3;
		in.u.excl.members[0] = 3;
		in.u.excl.members[1] = 7;
		in.u.excl.members[2] = 9;
		in.u.excl.n_excluded = 1;
		in.u.excl.excluded[0] = 9;
		break;
	default:
		break;
	}
}

static void test_malformed(void **state)
{
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		valid(bad[i].type);
		len = enc(&in);
		assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 1), CMSG_OK);
		bad[i].mutate(&len);
		if (cmsg_decode(&out, buf, len, 7, 1, 1) != bad[i].err)
			fail_msg("case '%s': got %d (%s), want %d", bad[i].name,
				 cmsg_decode(&out, buf, len, 7, 1, 1),
				 cmsg_strerror(cmsg_decode(&out, buf, len, 7, 1, 1)), bad[i].err);
		assert_string_not_equal(cmsg_strerror(bad[i].err), "unknown error");
	}
}

/* EXCLUDE: round trip; an excluded id outside the member list or unsorted ids are rejected. */
static void test_exclude(void **state)
{
	size_t len;

	(void)state;
	valid(CMSG_EXCLUDE);
	roundtrip(&in);
	assert_int_equal(out.u.excl.n_members, 3);
	assert_int_equal(out.u.excl.n_excluded, 1);
	assert_memory_equal(out.u.excl.members, in.u.excl.members, 12);
	assert_int_equal(out.u.excl.excluded[0], 9);
	in.u.excl.excluded[0] = 8;
	len = enc(&in);
	assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 1), CMSG_E_VALUE);
	valid(CMSG_EXCLUDE);
	in.u.excl.members[1] = 2;
	len = enc(&in);
	assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 1), CMSG_E_VALUE);
	valid(CMSG_EXCLUDE);
	in.u.excl.n_excluded = 0;
	len = enc(&in);
	assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 1), CMSG_E_COUNT);
	valid(CMSG_EXCLUDE);
	in.u.excl.flags = CMSG_EXCLUDE_SILENT;
	roundtrip(&in);
	assert_int_equal(out.u.excl.flags, CMSG_EXCLUDE_SILENT);
	in.u.excl.flags = 2;
	len = enc(&in);
	assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 1), CMSG_E_VALUE);
}

static void test_every_truncation(void **state)
{
	size_t len, cut;
	uint16_t t;

	(void)state;
	for (t = 1; t <= CMSG_TYPE_MAX; t++) {
		valid(t);
		len = enc(&in);
		for (cut = 0; cut < len; cut++)
			assert_int_not_equal(cmsg_decode(&out, buf, cut, 7, 1, 1), CMSG_OK);
	}
}

/* TAKEOVER and HANDOVER exist from protocol version 3 on: node id + 4 zero bytes. */
static void test_writer_msgs(void **state)
{
	static const uint16_t types[] = {CMSG_TAKEOVER, CMSG_HANDOVER};
	size_t len, i, off = CMSG_HDR_SIZE;

	(void)state;
	for (i = 0; i < 2; i++) {
		hdr(&in, types[i]);
		in.version = 3;
		in.u.writer = 0x01020304u;
		len = enc(&in);
		assert_int_equal(len, CMSG_HDR_SIZE + CMSG_WRITER_SIZE);
		assert_int_equal(buf[off], 0x04); /* little-endian node id */
		assert_int_equal(buf[off + 3], 0x01);
		memset(&out, 0xA5, sizeof(out));
		assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 3), CMSG_OK);
		assert_int_equal(out.type, types[i]);
		assert_int_equal(out.u.writer, 0x01020304u);
		/* a peer that speaks version 2 at most rejects the header's version */
		assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 2), CMSG_E_VERSION);
		/* the same type under a version-2 header is unknown there */
		buf[4] = 2;
		assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 3), CMSG_E_TYPE);
		buf[4] = 3;
		buf[off + 5] = 1; /* padding */
		assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 3), CMSG_E_VALUE);
		buf[off + 5] = 0;
		memset(buf + off, 0, 4); /* node 0 */
		assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 3), CMSG_E_VALUE);
		buf[off] = 9;
		buf[16] = CMSG_WRITER_SIZE + 1; /* payload length disagrees with the bytes */
		assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 3), CMSG_E_LEN);
		buf[16] = CMSG_WRITER_SIZE - 4;
		assert_int_equal(cmsg_decode(&out, buf, len - 4, 7, 1, 3), CMSG_E_PAYLOAD);
		/* the encoder refuses what the decoder would refuse */
		in.version = 2;
		assert_int_equal(cmsg_encode(&in, NULL, buf, sizeof(buf), &len), -EINVAL);
		in.version = 3;
		in.u.writer = 0;
		assert_int_equal(cmsg_encode(&in, NULL, buf, sizeof(buf), &len), -EINVAL);
	}
}

/* MARKS exists from protocol version 2 on; its fields and its malformations. */
static void test_marks(void **state)
{
	size_t len, off = CMSG_HDR_SIZE;
	uint32_t i;

	(void)state;
	hdr(&in, CMSG_MARKS);
	in.version = 2;
	in.u.marks.index = 3;
	in.u.marks.last = true;
	in.u.marks.has_rec = true;
	in.u.marks.rec_region = 0x1122334455ull;
	in.u.marks.n_regions = CMSG_MARKS_MAX_REGIONS;
	for (i = 0; i < CMSG_MARKS_MAX_REGIONS; i++)
		in.u.marks.regions[i] = (uint64_t)i * 3 + 1;
	len = enc(&in);
	assert_int_equal(len, CMSG_HDR_SIZE + CMSG_MARKS_FIXED + 8u * CMSG_MARKS_MAX_REGIONS);
	memset(&out, 0xA5, sizeof(out));
	assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 2), CMSG_OK);
	assert_int_equal(out.version, 2);
	assert_int_equal(out.type, CMSG_MARKS);
	assert_int_equal(out.u.marks.index, 3);
	assert_true(out.u.marks.last);
	assert_true(out.u.marks.has_rec);
	assert_int_equal(out.u.marks.rec_region, 0x1122334455ull);
	assert_int_equal(out.u.marks.n_regions, CMSG_MARKS_MAX_REGIONS);
	assert_memory_equal(out.u.marks.regions, in.u.marks.regions, 8u * CMSG_MARKS_MAX_REGIONS);
	/* a version-1 member rejects it cleanly (its range ends at 1) */
	assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 1), CMSG_E_VERSION);
	/* an empty chunk without recovery; @regions replaces the struct's array */
	hdr(&in, CMSG_MARKS);
	in.version = 2;
	len = enc(&in);
	assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 2), CMSG_OK);
	assert_false(out.u.marks.last);
	assert_false(out.u.marks.has_rec);
	assert_int_equal(out.u.marks.n_regions, 0);
	{
		static const uint64_t ext[2] = {2, 8};

		in.u.marks.n_regions = 2;
		assert_int_equal(cmsg_encode(&in, ext, buf, sizeof(buf), &len), 0);
		assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 2), CMSG_OK);
		assert_int_equal(out.u.marks.regions[0], 2);
		assert_int_equal(out.u.marks.regions[1], 8);
	}
	/* the type does not exist in version 1, nor can it be encoded there */
	valid(CMSG_MARKS);
	len = enc(&in);
	buf[4] = 1;
	assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 2), CMSG_E_TYPE);
	in.version = 1;
	assert_int_equal(cmsg_encode(&in, NULL, buf, sizeof(buf), &len), -EINVAL);
	in.version = 2;
	in.u.marks.n_regions = CMSG_MARKS_MAX_REGIONS + 1;
	assert_int_equal(cmsg_encode(&in, NULL, buf, sizeof(buf), &len), -EINVAL);

	/* malformations: {offset in the payload, byte, expected error} */
	{
		static const struct {
			size_t off;
			uint8_t val;
			int err;
		} cases[] = {
			{4, 2, CMSG_E_VALUE},	 /* last not 0|1 */
			{5, 2, CMSG_E_VALUE},	 /* has_rec not 0|1 */
			{6, 1, CMSG_E_VALUE},	 /* padding */
			{7, 1, CMSG_E_VALUE},	 /* padding */
			{20, 9, CMSG_E_VALUE},	 /* regions 9, 9: not strictly ascending */
			{16, 3, CMSG_E_PAYLOAD}, /* n_regions 3, 2 present */
		};

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			valid(CMSG_MARKS);
			len = enc(&in);
			buf[off + cases[i].off] = cases[i].val;
			if (cmsg_decode(&out, buf, len, 7, 1, 2) != cases[i].err)
				fail_msg("marks case %u: got %d", (unsigned)i,
					 cmsg_decode(&out, buf, len, 7, 1, 2));
		}
		/* no recovery, yet a region */
		valid(CMSG_MARKS);
		len = enc(&in);
		buf[off + 5] = 0;
		assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 2), CMSG_E_VALUE);
		/* a count over the limit */
		valid(CMSG_MARKS);
		len = enc(&in);
		put32(off + 16, CMSG_MARKS_MAX_REGIONS + 1);
		assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 2), CMSG_E_COUNT);
		/* trailing byte */
		valid(CMSG_MARKS);
		len = enc(&in);
		put32(16, (uint32_t)(len - CMSG_HDR_SIZE + 1));
		buf[len++] = 0;
		assert_int_equal(cmsg_decode(&out, buf, len, 7, 1, 2), CMSG_E_PAYLOAD);
	}
}

static void test_encode_limits(void **state)
{
	size_t len;

	(void)state;
	hdr(&in, CMSG_COMMIT);
	in.u.commit.n_marks = CMSG_COMMIT_MAX_REGIONS;
	in.u.commit.n_clears = 1;
	assert_int_equal(cmsg_encode(&in, NULL, buf, sizeof(buf), &len), -EINVAL);
	hdr(&in, 0);
	assert_int_equal(cmsg_encode(&in, NULL, buf, sizeof(buf), &len), -EINVAL);
	hdr(&in, CMSG_DURABLE);
	assert_int_equal(cmsg_encode(&in, NULL, buf, CMSG_HDR_SIZE + 7, &len), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_state_snap),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_encode_limits),
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_writer_msgs),
		cmocka_unit_test(test_exclude),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
