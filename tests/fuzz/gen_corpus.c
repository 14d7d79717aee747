/*
 * gen_corpus: writes the seed corpora of tests/fuzz/corpus/<target>/.
 *
 * Run by hand after a format change (built with --enable-fuzzing):
 *     tests/fuzz/gen_corpus $srcdir/tests/fuzz/corpus
 * The seeds are small valid inputs plus edge cases, produced with the real encoders where
 * one exists (snapshot and disk images), so the fuzzer starts from deep inside each decoder.
 * The generated files are committed; this program is not part of any test.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cluster/msg.h"
#include "daemon/ulog_codec.h"
#include "log/rlog.h"

struct seed {
	uint8_t buf[1 << 16];
	size_t len;
};

static const char *out_dir;

static void put(struct seed *s, const void *p, size_t n)
{
	if (s->len + n > sizeof(s->buf)) {
		fprintf(stderr, "gen_corpus: seed too large\n");
		exit(1);
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static void put8(struct seed *s, uint8_t v)
{
	put(s, &v, 1);
}

static void put16(struct seed *s, uint16_t v)
{
	put8(s, (uint8_t)v);
	put8(s, (uint8_t)(v >> 8));
}

static void put64(struct seed *s, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		put8(s, (uint8_t)(v >> (8 * i)));
}

static void save(const char *target, const char *name, const struct seed *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->buf, 1, s->len, f) != s->len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void must(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "gen_corpus: %s failed: %d\n", what, rc);
		exit(1);
	}
}

/* ---- fuzz_rlog_ops programs (encoding: see fuzz_rlog_ops.c) ---- */

enum {
	OP_MARK,
	OP_CLEAR,
	OP_GRW,
	OP_SRS,
	OP_IRR,
	OP_LEFT,
	OP_RESUME,
	OP_RESIZE,
	OP_SNAP,
	OP_CLONE,
	OP_DISK,
	OP_QUERY
};

static void prog_head(struct seed *s, uint16_t regions, uint8_t mode)
{
	s->len = 0;
	put16(s, (uint16_t)(regions - 1));
	put8(s, mode);
}

static void prog_batch(struct seed *s, uint8_t op, uint8_t node, const uint16_t *r, uint8_t n)
{
	put8(s, op);
	put8(s, node);
	put8(s, n);
	for (uint8_t i = 0; i < n; i++)
		put16(s, r[i]);
}

static void prog_region_op(struct seed *s, uint8_t op, uint8_t node, uint16_t r, uint8_t flag)
{
	put8(s, op);
	put8(s, node);
	put16(s, r);
	put8(s, flag);
}

static void gen_rlog_ops(void)
{
	static const uint16_t some[] = {0, 1, 2, 63, 64, 65, 99};
	uint16_t batch[32];
	struct seed s;

	prog_head(&s, 100, RLOG_SYNC_DEFAULT);
	prog_batch(&s, OP_MARK, 0, some, 7);
	prog_batch(&s, OP_MARK, 1, some + 2, 3);
	prog_batch(&s, OP_CLEAR, 0, some, 7);
	prog_batch(&s, OP_CLEAR, 1, some + 2, 3);
	save("rlog_ops", "mark-clear", &s);

	prog_head(&s, 64, RLOG_SYNC_FORCE);
	put8(&s, OP_RESUME);
	put8(&s, 0);
	for (int i = 0; i < 4; i++) {
		put8(&s, OP_GRW);
		put8(&s, (uint8_t)(i % 2));
		put8(&s, OP_GRW);
		put8(&s, (uint8_t)(i % 2));
		prog_region_op(&s, OP_IRR, 2, (uint16_t)(10 + i), 1);
		prog_region_op(&s, OP_SRS, (uint8_t)(i % 2), (uint16_t)i, 1);
	}
	save("rlog_ops", "resync-cycle", &s);

	prog_head(&s, 130, RLOG_SYNC_NONE);
	for (uint8_t i = 0; i < 32; i++)
		batch[i] = (uint16_t)(i * 4);
	prog_batch(&s, OP_MARK, 0, batch, 32);
	prog_batch(&s, OP_MARK, 4, batch + 8, 8);
	put8(&s, OP_GRW);
	put8(&s, 4);
	put8(&s, OP_LEFT);
	put8(&s, 0);
	prog_region_op(&s, OP_IRR, 1, 0, 1);
	put8(&s, OP_LEFT);
	put8(&s, 4);
	save("rlog_ops", "node-left", &s);

	prog_head(&s, 63, RLOG_SYNC_NONE);
	put8(&s, OP_RESIZE);
	put16(&s, 64);
	prog_region_op(&s, OP_SRS, 0, 63, 0);
	put8(&s, OP_RESIZE);
	put16(&s, 0);
	put8(&s, OP_RESIZE);
	put16(&s, 599);
	put8(&s, OP_GRW);
	put8(&s, 3);
	put8(&s, OP_RESIZE);
	put16(&s, 128);
	save("rlog_ops", "resize", &s);

	prog_head(&s, 200, RLOG_SYNC_DEFAULT);
	put8(&s, OP_RESUME);
	put8(&s, 1);
	put16(&s, 200);
	for (int i = 0; i < 25; i++)
		put8(&s, (uint8_t)(i % 3 ? 0xff : 0x0f));
	prog_batch(&s, OP_MARK, 2, some, 7);
	put8(&s, OP_GRW);
	put8(&s, 1);
	prog_region_op(&s, OP_IRR, 3, 150, 1);
	put8(&s, OP_SNAP);
	put64(&s, 7);
	put16(&s, 40);
	for (int i = 0; i < 40; i++)
		put8(&s, (uint8_t)(i * 7));
	put8(&s, 1);
	put8(&s, OP_CLONE);
	put8(&s, OP_DISK);
	save("rlog_ops", "resume-snapshot-disk", &s);

	/* master resume with a separate in-sync image (flags 3), then writes and resync */
	prog_head(&s, 200, RLOG_SYNC_DEFAULT);
	put8(&s, OP_RESUME);
	put8(&s, 3);
	put16(&s, 200);
	for (int i = 0; i < 25; i++)
		put8(&s, (uint8_t)(i % 2 ? 0xff : 0x0f));
	put16(&s, 300);
	for (int i = 0; i < 38; i++)
		put8(&s, (uint8_t)(i % 3 ? 0xf0 : 0x3c));
	prog_batch(&s, OP_MARK, 1, some, 7);
	prog_batch(&s, OP_CLEAR, 1, some, 7);
	put8(&s, OP_GRW);
	put8(&s, 2);
	put8(&s, OP_DISK);
	save("rlog_ops", "resume-sync-image", &s);

	prog_head(&s, 10, RLOG_SYNC_DEFAULT);
	batch[0] = 3;
	batch[1] = 0xffff;
	prog_batch(&s, OP_MARK, 0, batch, 2);
	prog_batch(&s, OP_CLEAR, 0, batch + 1, 1);
	prog_region_op(&s, OP_SRS, 0, 0xfffd, 1);
	prog_region_op(&s, OP_IRR, 0, 0xfffc, 0);
	prog_batch(&s, OP_MARK, 0, batch, 0);
	put8(&s, OP_QUERY);
	put8(&s, 1);
	save("rlog_ops", "out-of-range", &s);
}

/* ---- snapshot images ---- */

static void snapshot_of(const struct rlog *rl, uint64_t gen, uint8_t feed_mode, struct seed *s)
{
	struct rlog_snap_enc *enc = NULL;
	size_t chunk;
	bool done = false;

	s->len = 0;
	put8(s, feed_mode);
	must(rlog_snapshot_begin(rl, gen, &enc), "snapshot_begin");
	while (!done) {
		chunk = 0;
		must(rlog_snapshot_next(enc, s->buf + s->len, sizeof(s->buf) - s->len, &chunk,
					&done),
		     "snapshot_next");
		s->len += chunk;
	}
	rlog_snapshot_end(enc);
}

static struct rlog *busy_log(uint64_t n, enum rlog_sync_mode mode)
{
	uint64_t regs[] = {0, 5, 64, n - 1}, r;
	uint8_t *clean = calloc((n + 7) / 8, 1);
	struct rlog *rl = NULL;
	bool found, rec;

	if (!clean)
		exit(1);
	for (uint64_t i = 0; i < n; i += 3)
		clean[i / 8] |= (uint8_t)(1u << (i % 8));
	must(rlog_create(&rl, n, mode), "create");
	must(rlog_resume_master(rl, clean, n), "resume_master");
	must(rlog_mark(rl, 1, regs, 4), "mark");
	must(rlog_mark(rl, 2, regs + 1, 2), "mark");
	must(rlog_get_resync_work(rl, 3, &r, &found), "get_resync_work");
	must(rlog_is_remote_recovering(rl, 2, n / 2, true, &rec, &r), "is_remote_recovering");
	free(clean);
	return rl;
}

static void gen_snapshot(void)
{
	struct rlog *rl = NULL;
	struct seed s;

	must(rlog_create(&rl, 1, RLOG_SYNC_DEFAULT), "create");
	snapshot_of(rl, 0, 0, &s);
	save("snapshot", "new-1-region", &s);
	rlog_destroy(rl);

	must(rlog_create(&rl, 4096, RLOG_SYNC_NONE), "create");
	snapshot_of(rl, 1, 0, &s);
	save("snapshot", "nosync-4096", &s);
	rlog_destroy(rl);

	rl = busy_log(1000, RLOG_SYNC_DEFAULT);
	snapshot_of(rl, 42, 0, &s);
	save("snapshot", "busy-1000", &s);
	snapshot_of(rl, 42, 3, &s);
	save("snapshot", "busy-1000-pieces", &s);
	rlog_destroy(rl);

	rl = busy_log(65, RLOG_SYNC_FORCE);
	snapshot_of(rl, UINT64_MAX, 1, &s);
	save("snapshot", "busy-65-bytewise", &s);
	rlog_destroy(rl);
}

/* ---- disk images ---- */

static void disk_seed(struct seed *s, uint16_t log_regions, uint8_t mode, uint8_t bs,
		      const struct rlog *rl)
{
	s->len = 0;
	put16(s, (uint16_t)(log_regions - 1));
	put8(s, mode);
	put8(s, bs);
	if (rl) {
		size_t bytes = RLOG_DISK_BITMAP_OFFSET + (rlog_region_count(rl) + 7) / 8;

		must(rlog_disk_encode(rl, s->buf + s->len, bytes), "disk_encode");
		s->len += bytes;
	}
}

static void gen_disk(void)
{
	struct rlog *rl;
	struct seed s;

	rl = busy_log(300, RLOG_SYNC_DEFAULT);
	disk_seed(&s, 300, RLOG_SYNC_DEFAULT, 0, rl);
	save("disk", "same-size", &s);
	disk_seed(&s, 500, RLOG_SYNC_DEFAULT, 3, rl);
	save("disk", "grown", &s);
	disk_seed(&s, 100, RLOG_SYNC_DEFAULT, 1, rl);
	save("disk", "shrunk", &s);
	disk_seed(&s, 300, RLOG_SYNC_NONE, 0, rl);
	save("disk", "nosync-ignores-disk", &s);
	disk_seed(&s, 300, RLOG_SYNC_DEFAULT, 0, rl);
	s.buf[4 + 4] = 1; /* version 1: accepted */
	save("disk", "version-1", &s);
	s.buf[4 + 4] = 3;
	save("disk", "version-3", &s);
	s.buf[4 + 4] = 2;
	s.buf[4] ^= 0xff;
	save("disk", "bad-magic", &s);
	s.buf[4] ^= 0xff;
	s.len -= 10;
	save("disk", "short-bitmap", &s);
	s.len = 4 + 15;
	save("disk", "short-header", &s);
	rlog_destroy(rl);

	must(rlog_create(&rl, 1, RLOG_SYNC_NONE), "create");
	disk_seed(&s, 1, RLOG_SYNC_DEFAULT, 7, rl);
	save("disk", "one-region", &s);
	s.buf[4 + 8] = 0; /* nr_regions 0 */
	save("disk", "zero-regions", &s);
	s.buf[4 + 8] = 1;
	s.buf[4 + 12] = 0x80; /* nr_regions 2^31 * 2^32: above the limit */
	save("disk", "huge-regions", &s);
	rlog_destroy(rl);
}

/* ---- cluster messages (ctl byte 1: the transport sender is the header's) ---- */

static struct cmsg cm;

/* ctl 1: versions 1..1; ctl 3: versions 1..2 (MARKS exists from version 2 on); ctl 5: 2..3. */
static void cmsg_seed_ctl(const char *name, const uint64_t *regions, uint8_t ctl)
{
	struct seed s;
	size_t len = 0;

	s.len = 0;
	put8(&s, ctl);
	must(cmsg_encode(&cm, regions, s.buf + 1, sizeof(s.buf) - 1, &len), "cmsg_encode");
	s.len += len;
	save("cluster_msg", name, &s);
}

static void cmsg_seed(const char *name, const uint64_t *regions)
{
	cmsg_seed_ctl(name, regions, 1);
}

static void gen_cluster_msg(void)
{
	static const uint64_t regions[] = {0, 7, 64, 1000, UINT64_MAX};
	static const uint8_t snap_bytes[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	struct seed s;
	size_t len = 0;

	memset(&cm, 0, sizeof(cm));
	cm.version = 1;
	cm.nodeid = 2;
	cm.seq = 77;
	cm.type = CMSG_COMMIT;
	cm.u.commit.commit_id = 5;
	cm.u.commit.n_marks = 3;
	cm.u.commit.n_clears = 2;
	cmsg_seed("commit", regions);
	cm.u.commit.n_marks = 0;
	cm.u.commit.n_clears = 0;
	cmsg_seed("commit-empty", regions);

	cm.type = CMSG_RESYNC_REQ;
	cm.u.req.req_id = 9;
	cmsg_seed("resync-req", NULL);
	cm.type = CMSG_SET_SYNC;
	cm.u.req.region = 63;
	cm.u.req.in_sync = true;
	cmsg_seed("set-sync", NULL);
	cm.type = CMSG_REMOTE_REC;
	cm.u.req.region = 64;
	cm.u.req.in_sync = false;
	cmsg_seed("remote-rec", NULL);
	cm.type = CMSG_DURABLE;
	cm.u.gen = 12;
	cmsg_seed("durable", NULL);
	cm.type = CMSG_DISK_FAILED;
	cmsg_seed("disk-failed", NULL);

	cm.type = CMSG_STATE;
	cm.u.state.max_version = 1;
	cm.u.state.synced = true;
	cm.u.state.quorate = true;
	cm.u.state.n_members = 3;
	cm.u.state.gen = 4;
	cm.u.state.digest = 0x0123456789abcdefull;
	cm.u.state.epoch = 2;
	cm.u.state.members[0] = 1;
	cm.u.state.members[1] = 2;
	cm.u.state.members[2] = 0xffffffffu;
	cmsg_seed("state", NULL);

	cm.type = CMSG_EXCLUDE;
	cm.u.excl.flags = 0;
	cm.u.excl.n_members = 3;
	cm.u.excl.members[0] = 1;
	cm.u.excl.members[1] = 2;
	cm.u.excl.members[2] = 9;
	cm.u.excl.n_excluded = 1;
	cm.u.excl.excluded[0] = 9;
	cmsg_seed("exclude", NULL);
	cm.u.excl.flags = CMSG_EXCLUDE_SILENT;
	cmsg_seed("exclude-silent", NULL);

	cm.version = 2;
	cm.type = CMSG_MARKS;
	cm.u.marks.index = 0;
	cm.u.marks.last = true;
	cm.u.marks.has_rec = true;
	cm.u.marks.rec_region = 40;
	cm.u.marks.n_regions = 4;
	cmsg_seed_ctl("marks", regions, 3);
	cm.u.marks.index = 1;
	cm.u.marks.last = false;
	cm.u.marks.has_rec = false;
	cm.u.marks.rec_region = 0;
	cm.u.marks.n_regions = 0;
	cmsg_seed_ctl("marks-empty-chunk", regions, 3);
	cm.u.marks.n_regions = 2;
	cmsg_seed_ctl("marks-v1-range", regions, 1); /* rejected: version 2 outside 1..1 */
	/* ctl 5: versions 2..3 (TAKEOVER and HANDOVER exist from version 3 on) */
	cm.version = 3;
	cm.type = CMSG_TAKEOVER;
	cm.u.writer = 3;
	cmsg_seed_ctl("takeover", NULL, 5);
	cm.type = CMSG_HANDOVER;
	cm.u.writer = 1;
	cmsg_seed_ctl("handover", NULL, 5);
	cmsg_seed_ctl("handover-v2-range", NULL, 3); /* rejected: version 3 outside 1..2 */
	cm.version = 1;

	cm.type = CMSG_SNAP;
	cm.u.snap.round = 3;
	cm.u.snap.index = 0;
	cm.u.snap.last = true;
	cm.u.snap.writer = 1;
	cm.u.snap.durable_gen = 4;
	cm.u.snap.n_bytes = sizeof(snap_bytes);
	cm.u.snap.bytes = snap_bytes;
	cmsg_seed("snap", NULL);

	/* A valid message from a sender that is not the one in its header. */
	s.len = 0;
	put8(&s, 0);
	put8(&s, 3);
	put8(&s, 0);
	put8(&s, 0);
	put8(&s, 0);
	must(cmsg_encode(&cm, NULL, s.buf + s.len, sizeof(s.buf) - s.len, &len), "cmsg_encode");
	s.len += len;
	save("cluster_msg", "wrong-sender", &s);
	/* Cut short, and with a trailing byte. */
	s.len -= 3;
	save("cluster_msg", "truncated", &s);
	s.len += 4;
	s.buf[s.len - 1] = 0;
	save("cluster_msg", "trailing-byte", &s);
}

/* ---- kernel datagrams (ctl byte 1: from the kernel, port 0) ---- */

static void put_h32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* A datagram exactly as the 6.x kernel sends it (kernel-protocol.md s2). */
static size_t datagram(uint8_t *d, uint32_t type, const void *payload, uint32_t n, uint32_t seq)
{
	uint64_t luid = 0xffff888012345678ull;
	uint16_t v16;

	memset(d, 0, ULOG_DATA_OFF + n);
	put_h32(d + ULOG_OFF_NLMSG_LEN, ULOG_DATA_OFF + n);
	v16 = ULOG_NLMSG_DONE;
	memcpy(d + ULOG_OFF_NLMSG_TYPE, &v16, 2);
	put_h32(d + ULOG_OFF_NLMSG_SEQ, seq);
	put_h32(d + ULOG_OFF_CN_IDX, ULOG_CN_IDX);
	put_h32(d + ULOG_OFF_CN_VAL, ULOG_CN_VAL);
	put_h32(d + ULOG_OFF_CN_SEQ, seq);
	v16 = (uint16_t)(ULOG_REQUEST_SIZE + n);
	memcpy(d + ULOG_OFF_CN_LEN, &v16, 2);
	memcpy(d + ULOG_OFF_LUID, &luid, 8);
	memcpy(d + ULOG_OFF_UUID, "LVM-Qm9vQmFyQmF6UXV4", 20);
	put_h32(d + ULOG_OFF_VERSION, ULOG_REQUEST_VERSION);
	put_h32(d + ULOG_OFF_SEQ, seq);
	put_h32(d + ULOG_OFF_TYPE, type);
	put_h32(d + ULOG_OFF_DATA_SIZE, n);
	if (n)
		memcpy(d + ULOG_DATA_OFF, payload, n);
	/* The receive length is nlmsg_len rounded up to 4, padded with zeros. */
	return (ULOG_DATA_OFF + n + 3) & ~(size_t)3;
}

static void ulog_seed(const char *name, uint32_t type, const void *payload, uint32_t n)
{
	struct seed s;

	s.len = 0;
	put8(&s, 1);
	s.len += datagram(s.buf + 1, type, payload, n, 1000 + type);
	save("ulog", name, &s);
}

static void gen_ulog(void)
{
	static const char ctr[] = "2097152 clustered-disk 253:3 1024";
	uint64_t regions[32], pair[2] = {64, 1};
	char name[64];
	struct seed s;

	for (int i = 0; i < 32; i++)
		regions[i] = (uint64_t)i * 3;
	ulog_seed("ctr", ULOG_CTR, ctr, sizeof(ctr) - 1);
	ulog_seed("ctr-reconnect", ULOG_CTR, ctr, sizeof(ctr));
	for (uint32_t t = ULOG_DTR; t <= ULOG_IS_REMOTE_RECOVERING; t++) {
		uint32_t n = 0;

		switch (t) {
		case ULOG_IS_CLEAN:
		case ULOG_IN_SYNC:
		case ULOG_IS_REMOTE_RECOVERING:
			n = 8;
			break;
		case ULOG_SET_REGION_SYNC:
			n = 16;
			break;
		case ULOG_MARK_REGION:
		case ULOG_CLEAR_REGION:
			n = 8 * 5;
			break;
		case ULOG_FLUSH:
			n = 0;
			break;
		}
		snprintf(name, sizeof(name), "type-%02u", (unsigned)t);
		ulog_seed(name, t, t == ULOG_SET_REGION_SYNC ? (const void *)pair : regions, n);
	}
	ulog_seed("flush-integrated-32", ULOG_FLUSH, regions, 256);
	ulog_seed("mark-32", ULOG_MARK_REGION, regions, 256);
	ulog_seed("bad-type-0", 0, NULL, 0);
	ulog_seed("bad-type-18", 18, NULL, 0);
	ulog_seed("type-upper-bits", 0x1200 | ULOG_IN_SYNC, regions, 8);
	ulog_seed("mark-odd-size", ULOG_MARK_REGION, regions, 12);

	/* Corrupt frames: from a user port, wrong connector, lengths that disagree. */
	s.len = 0;
	put8(&s, 0);
	s.len += datagram(s.buf + 1, ULOG_IN_SYNC, regions, 8, 7);
	save("ulog", "user-port", &s);
	s.buf[0] = 1;
	put_h32(s.buf + 1 + ULOG_OFF_CN_IDX, 1);
	save("ulog", "foreign-connector", &s);
	put_h32(s.buf + 1 + ULOG_OFF_CN_IDX, ULOG_CN_IDX);
	put_h32(s.buf + 1 + ULOG_OFF_DATA_SIZE, 16);
	save("ulog", "data-size-mismatch", &s);
	put_h32(s.buf + 1 + ULOG_OFF_DATA_SIZE, 8);
	s.len -= 4;
	save("ulog", "truncated", &s);
	s.len = 1 + 35;
	save("ulog", "short", &s);
	s.len = 1 + datagram(s.buf + 1, ULOG_RESUME, NULL, 0, 9);
	put_h32(s.buf + 1 + ULOG_OFF_VERSION, 0);
	save("ulog", "version-0", &s);
	put_h32(s.buf + 1 + ULOG_OFF_VERSION, 1);
	memset(s.buf + 1 + ULOG_OFF_UUID, 'x', ULOG_UUID_LEN);
	save("ulog", "uuid-unterminated", &s);
}

/* ---- CTR strings (the payload as the kernel sends it: no NUL) ---- */

static void ctr_seed(const char *name, const char *str, size_t len)
{
	struct seed s;

	s.len = 0;
	put(&s, str, len);
	save("ctr", name, &s);
}

#define CTR_SEED(name, str) ctr_seed(name, str, sizeof(str) - 1)

static void gen_ctr(void)
{
	CTR_SEED("disk", "2097152 clustered-disk 253:3 1024");
	CTR_SEED("disk-path-sync", "2097152 clustered-disk /dev/mapper/vg-lv_mlog 512 sync");
	CTR_SEED("core-nosync", "2097152 clustered-core 1024 nosync");
	CTR_SEED("core-block", "8 clustered-core 8 block_on_error");
	CTR_SEED("core-all", "4097 clustered-core 2 nosync block_on_error");
	CTR_SEED("argcount", "131072 clustered-core 1 1024");
	CTR_SEED("spaces", "100   clustered-core  4 ");
	CTR_SEED("max-regions", "18446744073709551615 clustered-core 2147483648");
	CTR_SEED("too-many-regions", "18446744073709551615 clustered-core 1024");
	CTR_SEED("region-zero", "100 clustered-core 0");
	CTR_SEED("region-not-pow2", "100 clustered-core 24");
	CTR_SEED("region-above-len", "100 clustered-core 128");
	CTR_SEED("len-overflow", "18446744073709551616 clustered-core 8");
	CTR_SEED("sync-conflict", "100 clustered-core 4 sync nosync");
	CTR_SEED("duplicate", "100 clustered-core 4 nosync nosync");
	CTR_SEED("unknown-type", "100 core 4");
	CTR_SEED("disk-no-dev", "100 clustered-disk 4");
	CTR_SEED("majmin-big", "100 clustered-disk 4294967296:1 4");
	ctr_seed("reconnect", "2097152 clustered-core 1024\0", 28);
	ctr_seed("nul-inside", "100 clustered\0core 4", 20);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
		return 2;
	}
	out_dir = argv[1];
	gen_rlog_ops();
	gen_snapshot();
	gen_disk();
	gen_cluster_msg();
	gen_ulog();
	gen_ctr();
	return 0;
}
