/*
 * fuzz_rlog_ops: the region-state machine (log/rlog.h) under random operation programs.
 *
 * The input is a program: two bytes of region count, one of sync mode, then operations
 * (opcode byte plus arguments) over a small log shared by a handful of nodes. Every
 * operation is applied to two replicas; after each one the target checks the safety
 * invariants (invariants.md) by scanning every region through the public queries:
 *   - the sync count is exact: popcount of the in-sync bits below region_count (rule 8);
 *   - no region is clean while any node holds a mark on it;
 *   - at most one resync assignment, on a region that is not in sync, and a repeated
 *     GET_RESYNC_WORK from its holder returns the same region, from anyone else none (rule 7);
 *   - the in-sync hint is the lowest region not in sync, or region_count (rule 5);
 *   - IS_REMOTE_RECOVERING answers "recovering" exactly for out-of-sync regions of a
 *     multi-member log (rule 1);
 *   - both replicas have the same digest (rule 9), and so do a clone, a snapshot round trip
 *     and the result of every rejected (-EINVAL) operation compared with the state before it;
 *   - per-operation postconditions from the rlog.h contract (marks, clears, departures,
 *     master resume with or without a separate in-sync image, resize, on-disk encoding).
 * Region counts are mostly below 600 so a full scan per operation stays cheap and word
 * boundaries (63/64/65...) are reached often; one count selector in two picks up to 10000
 * regions (beyond one 64-word summary block of the sync bitmap) with a shorter program,
 * fully scanned after every 8th operation and after the last.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log/rlog.h"
#include "tests/fuzz/fuzz_common.h"

#define SMALL_REGIONS 600u
#define MAX_REGIONS   10000u
#define MAX_OPS	      128
#define MAX_OPS_LARGE 24
#define N_NODES	      5

static const uint32_t node_ids[N_NODES] = {1, 2, 3, 42, 0xffffffffu};

enum op {
	OP_MARK,
	OP_CLEAR,
	OP_GET_RESYNC_WORK,
	OP_SET_REGION_SYNC,
	OP_IS_REMOTE_RECOVERING,
	OP_NODE_LEFT,
	OP_RESUME_MASTER,
	OP_RESIZE,
	OP_SNAPSHOT,
	OP_CLONE,
	OP_DISK,
	OP_QUERY_RANGE,
	OP_COUNT
};

struct pair {
	struct rlog *a; /* the replica under test */
	struct rlog *b; /* the same program applied again: must stay identical */
};

static bool in_sync(const struct rlog *rl, uint64_t r)
{
	bool v = false;

	FUZZ_CHECK(rlog_in_sync(rl, r, &v) == 0);
	return v;
}

static bool is_clean(const struct rlog *rl, uint64_t r)
{
	bool v = false;

	FUZZ_CHECK(rlog_is_clean(rl, r, &v) == 0);
	return v;
}

static bool marked_by_any(const struct rlog *rl, uint64_t r)
{
	for (int i = 0; i < N_NODES; i++)
		if (rlog_node_marked(rl, node_ids[i], r))
			return true;
	return false;
}

/* Does a node other than @node mark @r? Such regions are never handed out for resync. */
static bool marked_by_other(const struct rlog *rl, uint32_t node, uint64_t r)
{
	for (int i = 0; i < N_NODES; i++)
		if (node_ids[i] != node && rlog_node_marked(rl, node_ids[i], r))
			return true;
	return false;
}

static uint64_t lowest_unsynced(const struct rlog *rl)
{
	uint64_t n = rlog_region_count(rl);

	for (uint64_t r = 0; r < n; r++)
		if (!in_sync(rl, r))
			return r;
	return n;
}

/* The invariants that hold after every operation. */
static void check_invariants(const struct rlog *rl)
{
	uint64_t n = rlog_region_count(rl), sync_pop = 0, clean_pop = 0, hint = n, marks = 0;
	uint64_t per_node[N_NODES] = {0};
	uint64_t ar;
	uint32_t an;
	bool v;

	FUZZ_CHECK(n >= 1 && n <= MAX_REGIONS);
	for (uint64_t r = 0; r < n; r++) {
		bool s = in_sync(rl, r), c = is_clean(rl, r), m = false;

		sync_pop += s;
		clean_pop += c;
		if (!s && hint == n)
			hint = r;
		for (int i = 0; i < N_NODES; i++) {
			if (rlog_node_marked(rl, node_ids[i], r)) {
				per_node[i]++;
				m = true;
			}
		}
		/* No clean region with a live mark. */
		FUZZ_CHECK(!(c && m));
	}
	FUZZ_CHECK(rlog_sync_count(rl) == sync_pop);
	FUZZ_CHECK(rlog_in_sync_hint(rl) == hint);
	FUZZ_CHECK(rlog_clean_count(rl) == clean_pop);
	for (int i = 0; i < N_NODES; i++) {
		FUZZ_CHECK(rlog_node_mark_count(rl, node_ids[i]) == per_node[i]);
		marks += per_node[i];
	}
	FUZZ_CHECK(rlog_mark_count(rl) == marks);
	if (rlog_assignment(rl, &ar, &an)) {
		bool known = false;

		for (int i = 0; i < N_NODES; i++)
			known |= an == node_ids[i];
		FUZZ_CHECK(known);
		FUZZ_CHECK(ar < n);
		/* A region being recovered is not in sync (SET_REGION_SYNC releases it). */
		FUZZ_CHECK(!in_sync(rl, ar));
	}
	/* Out-of-range queries fail cleanly. */
	FUZZ_CHECK(rlog_in_sync(rl, n, &v) == -EINVAL);
	FUZZ_CHECK(rlog_is_clean(rl, n, &v) == -EINVAL);
	FUZZ_CHECK(!rlog_node_marked(rl, node_ids[0], n));
}

/* A region count: small (fast full scans) or, when the top bit is set, up to 10000. */
static uint64_t take_count(struct fuzz_in *in)
{
	uint16_t v = fin_u16(in);

	if (v & 0x8000)
		return 1 + (v & 0x7fff) % MAX_REGIONS;
	return 1 + v % SMALL_REGIONS;
}

/* A region argument: mostly in range, sometimes just past it or absurd. */
static uint64_t take_region(struct fuzz_in *in, uint64_t n)
{
	uint16_t v = fin_u16(in);

	switch (v) {
	case 0xffff:
		return n;
	case 0xfffe:
		return n + 1;
	case 0xfffd:
		return UINT64_MAX;
	case 0xfffc:
		return RLOG_MAX_REGIONS;
	default:
		return v % n;
	}
}

static uint32_t take_node(struct fuzz_in *in)
{
	return node_ids[fin_u8(in) % N_NODES];
}

static void apply_batch(struct pair *p, bool mark, struct fuzz_in *in)
{
	uint64_t n = rlog_region_count(p->a), regions[RLOG_MAX_BATCH];
	uint32_t node = take_node(in);
	size_t cnt = fin_u8(in) % (RLOG_MAX_BATCH + 1);
	bool bad = false;
	uint64_t before = rlog_digest(p->a);
	int ra, rb;

	for (size_t i = 0; i < cnt; i++) {
		regions[i] = take_region(in, n);
		bad |= regions[i] >= n;
	}
	if (mark) {
		ra = rlog_mark(p->a, node, regions, cnt);
		rb = rlog_mark(p->b, node, regions, cnt);
	} else {
		ra = rlog_clear(p->a, node, regions, cnt);
		rb = rlog_clear(p->b, node, regions, cnt);
	}
	FUZZ_CHECK(ra == rb);
	if (bad) {
		/* One bad region fails the whole call and changes nothing. */
		FUZZ_CHECK(ra == -EINVAL);
		FUZZ_CHECK(rlog_digest(p->a) == before);
		return;
	}
	if (cnt == 0) {
		/* An empty batch is not specified beyond "no crash"; it must not change state. */
		FUZZ_CHECK(ra == 0 || ra == -EINVAL);
		FUZZ_CHECK(rlog_digest(p->a) == before);
		return;
	}
	FUZZ_CHECK(ra == 0);
	for (size_t i = 0; i < cnt; i++) {
		uint64_t r = regions[i];

		if (mark) {
			FUZZ_CHECK(rlog_node_marked(p->a, node, r));
			FUZZ_CHECK(!is_clean(p->a, r));
		} else {
			FUZZ_CHECK(!rlog_node_marked(p->a, node, r));
			/* Unmarked and in sync: the clear makes it clean again. */
			if (!marked_by_any(p->a, r) && in_sync(p->a, r))
				FUZZ_CHECK(is_clean(p->a, r));
		}
	}
}

static void op_get_resync_work(struct pair *p, struct fuzz_in *in)
{
	uint32_t node = take_node(in), hn = 0;
	uint64_t hr = 0, r = 0, rb = 0, cursor = rlog_cursor(p->a), n = rlog_region_count(p->a);
	bool held = rlog_assignment(p->a, &hr, &hn), found = false, fb = false;

	FUZZ_CHECK(rlog_get_resync_work(p->a, node, &r, &found) == 0);
	FUZZ_CHECK(rlog_get_resync_work(p->b, node, &rb, &fb) == 0);
	FUZZ_CHECK(found == fb && (!found || r == rb));
	if (held && hn == node) {
		/* A resend from the holder: the same region again. */
		FUZZ_CHECK(found && r == hr);
	} else if (held) {
		/* One recovery at a time, cluster-wide. */
		FUZZ_CHECK(!found);
	} else if (found) {
		uint64_t ar = 0;
		uint32_t an = 0;

		FUZZ_CHECK(r < n);
		FUZZ_CHECK(!in_sync(p->a, r));
		/* Never a region another node is writing (rule 1: it would race that write). */
		FUZZ_CHECK(!marked_by_other(p->a, node, r));
		FUZZ_CHECK(rlog_assignment(p->a, &ar, &an) && ar == r && an == node);
	} else {
		/*
		 * No work although the sequential scan would find some: resync would stall. Only
		 * regions another node still marks may be left (they come back once cleared).
		 */
		for (uint64_t i = cursor; i < n; i++)
			FUZZ_CHECK(in_sync(p->a, i) || marked_by_other(p->a, node, i));
	}
}

static void op_set_region_sync(struct pair *p, struct fuzz_in *in)
{
	uint32_t node = take_node(in);
	uint64_t n = rlog_region_count(p->a), r = take_region(in, n), before = rlog_digest(p->a);
	bool val = fin_u8(in) & 1, held;
	uint64_t hr = 0;
	uint32_t hn = 0;
	int ra, rb;

	held = rlog_assignment(p->a, &hr, &hn);
	ra = rlog_set_region_sync(p->a, node, r, val);
	rb = rlog_set_region_sync(p->b, node, r, val);
	FUZZ_CHECK(ra == rb);
	if (r >= n) {
		FUZZ_CHECK(ra == -EINVAL);
		FUZZ_CHECK(rlog_digest(p->a) == before);
		return;
	}
	FUZZ_CHECK(ra == 0);
	if (held && hr == r && hn != node && val) {
		/* Another node's report on a region being recovered changes nothing. */
		FUZZ_CHECK(rlog_digest(p->a) == before);
		return;
	}
	FUZZ_CHECK(in_sync(p->a, r) == val);
	/* Only the holder's report ends its recovery (rule 7). */
	if (held && hr == r && hn == node)
		FUZZ_CHECK(!rlog_assignment(p->a, &hr, &hn));
	else if (held)
		FUZZ_CHECK(rlog_assignment(p->a, &hr, &hn));
	if (val && !marked_by_any(p->a, r))
		FUZZ_CHECK(is_clean(p->a, r));
	if (!val)
		FUZZ_CHECK(rlog_cursor(p->a) <= r);
}

static void op_is_remote_recovering(struct pair *p, struct fuzz_in *in)
{
	uint32_t node = take_node(in);
	uint64_t n = rlog_region_count(p->a), r = take_region(in, n), before = rlog_digest(p->a);
	bool multi = fin_u8(in) & 1, rec = false, recb = false;
	uint64_t hint = 0, hintb = 0;
	int ra, rb;

	ra = rlog_is_remote_recovering(p->a, node, r, multi, &rec, &hint);
	rb = rlog_is_remote_recovering(p->b, node, r, multi, &recb, &hintb);
	FUZZ_CHECK(ra == rb);
	if (r >= n) {
		FUZZ_CHECK(ra == -EINVAL);
		FUZZ_CHECK(rlog_digest(p->a) == before);
		return;
	}
	FUZZ_CHECK(ra == 0);
	FUZZ_CHECK(rec == recb && hint == hintb);
	FUZZ_CHECK(rec == (!in_sync(p->a, r) && multi));
	FUZZ_CHECK(hint == lowest_unsynced(p->a));
}

static void op_node_left(struct pair *p, struct fuzz_in *in)
{
	uint32_t node = take_node(in), hn = 0;
	uint64_t n = rlog_region_count(p->a), hr = 0, lowest = n;
	bool held = rlog_assignment(p->a, &hr, &hn);
	bool *had = calloc(n, sizeof(*had));

	FUZZ_CHECK(had != NULL);
	for (uint64_t r = 0; r < n; r++) {
		had[r] = rlog_node_marked(p->a, node, r);
		if (had[r] && lowest == n)
			lowest = r;
	}
	FUZZ_CHECK(rlog_node_left(p->a, node) == 0);
	FUZZ_CHECK(rlog_node_left(p->b, node) == 0);
	FUZZ_CHECK(rlog_node_mark_count(p->a, node) == 0);
	for (uint64_t r = 0; r < n; r++) {
		if (!had[r])
			continue;
		/* A dead node's marks become resync work (rule 6). */
		FUZZ_CHECK(!in_sync(p->a, r));
		FUZZ_CHECK(!is_clean(p->a, r));
	}
	if (lowest < n)
		FUZZ_CHECK(rlog_cursor(p->a) <= lowest);
	if (held && hn == node)
		FUZZ_CHECK(!rlog_assignment(p->a, &hr, &hn));
	free(had);
}

static void op_resume_master(struct pair *p, struct fuzz_in *in)
{
	uint64_t n = rlog_region_count(p->a), disk_regions = 0, sync_regions = 0, r, ar;
	uint8_t *bits = NULL, *sync = NULL, flags = fin_u8(in);
	size_t nbytes = 0, sbytes = 0, got;
	const uint8_t *src;
	enum rlog_sync_mode mode = rlog_sync_mode(p->a);
	uint32_t an;

	if (flags & 1) {
		disk_regions = fin_u16(in) % (2 * n + 70);
		nbytes = (size_t)((disk_regions + 7) / 8);
	}
	if (nbytes) {
		/* Exactly the bytes the caller says, on the heap: ASan sees any over-read. */
		bits = calloc(nbytes, 1);
		FUZZ_CHECK(bits != NULL);
		src = fin_bytes(in, nbytes, &got);
		memcpy(bits, src, got);
	}
	/* bit 1: a separate in-sync image (rlog_resume_master_sync), also exactly sized */
	if (flags & 2) {
		sync_regions = fin_u16(in) % (2 * n + 70);
		sbytes = (size_t)((sync_regions + 7) / 8);
	}
	if (sbytes) {
		sync = calloc(sbytes, 1);
		FUZZ_CHECK(sync != NULL);
		src = fin_bytes(in, sbytes, &got);
		memcpy(sync, src, got);
	}
	if (flags & 2) {
		FUZZ_CHECK(rlog_resume_master_sync(p->a, bits, disk_regions, sync, sync_regions) ==
			   0);
		FUZZ_CHECK(rlog_resume_master_sync(p->b, bits, disk_regions, sync, sync_regions) ==
			   0);
	} else {
		FUZZ_CHECK(rlog_resume_master(p->a, bits, disk_regions) == 0);
		FUZZ_CHECK(rlog_resume_master(p->b, bits, disk_regions) == 0);
	}
	FUZZ_CHECK(rlog_cursor(p->a) == 0);
	FUZZ_CHECK(rlog_mark_count(p->a) == 0);
	FUZZ_CHECK(!rlog_assignment(p->a, &ar, &an));
	for (r = 0; r < n; r++) {
		bool c = is_clean(p->a, r), want;

		if (mode == RLOG_SYNC_NONE)
			want = true;
		else if (mode == RLOG_SYNC_FORCE)
			want = false;
		else if (bits && r < disk_regions) /* bits is set whenever disk_regions > 0 */
			want = (bits[r / 8] >> (r % 8)) & 1;
		else
			want = false;
		FUZZ_CHECK(c == want);
		/* sync := clean, OR the sync image (default mode only) */
		if (sync && mode == RLOG_SYNC_DEFAULT && r < sync_regions &&
		    ((sync[r / 8] >> (r % 8)) & 1))
			FUZZ_CHECK(in_sync(p->a, r));
		else
			FUZZ_CHECK(in_sync(p->a, r) == c);
	}
	free(bits);
	free(sync);
}

static void op_resize(struct pair *p, struct fuzz_in *in)
{
	uint64_t old = rlog_region_count(p->a), n = take_count(in), keep, r;
	bool none = rlog_sync_mode(p->a) == RLOG_SYNC_NONE;
	uint8_t *snap = malloc(old);

	FUZZ_CHECK(snap != NULL);
	for (r = 0; r < old; r++)
		snap[r] = (uint8_t)(in_sync(p->a, r) | is_clean(p->a, r) << 1);
	FUZZ_CHECK(rlog_resize(p->a, n) == 0);
	FUZZ_CHECK(rlog_resize(p->b, n) == 0);
	FUZZ_CHECK(rlog_region_count(p->a) == n);
	keep = old < n ? old : n;
	for (r = 0; r < keep; r++) {
		FUZZ_CHECK(in_sync(p->a, r) == (snap[r] & 1));
		FUZZ_CHECK(is_clean(p->a, r) == (snap[r] >> 1));
	}
	for (; r < n; r++) {
		FUZZ_CHECK(in_sync(p->a, r) == none);
		FUZZ_CHECK(is_clean(p->a, r) == none);
	}
	free(snap);
}

/* Encode a snapshot in chunks of @cap bytes; returns the image (caller frees). */
static uint8_t *snapshot_image(const struct rlog *rl, uint64_t gen, size_t cap, size_t *len)
{
	struct rlog_snap_enc *enc = NULL;
	size_t have = 0, room = 4096, chunk, stalls = 0;
	uint8_t *img = malloc(room), *grown;
	bool done = false;

	FUZZ_CHECK(img != NULL);
	FUZZ_CHECK(rlog_snapshot_begin(rl, gen, &enc) == 0);
	while (!done) {
		if (room - have < cap) {
			room = 2 * room + cap;
			grown = realloc(img, room);
			FUZZ_CHECK(grown != NULL);
			img = grown;
		}
		chunk = 0;
		FUZZ_CHECK(rlog_snapshot_next(enc, img + have, cap, &chunk, &done) == 0);
		FUZZ_CHECK(chunk <= cap);
		have += chunk;
		/* An encoder that makes no progress would hang a state transfer. */
		stalls = chunk ? 0 : stalls + 1;
		FUZZ_CHECK(stalls < 4);
	}
	rlog_snapshot_end(enc);
	*len = have;
	return img;
}

static void op_snapshot(struct pair *p, struct fuzz_in *in)
{
	uint64_t gen = fin_u64(in), gen2 = 0;
	size_t cap = 16 + fin_u16(in) % 2048, len = 0, off = 0, feed;
	uint8_t *img = snapshot_image(p->a, gen, cap, &len);
	struct rlog_snap_dec *dec = NULL;
	struct rlog *copy = NULL;
	bool done = false;

	FUZZ_CHECK(rlog_snapshot_dec_begin(&dec) == 0);
	while (!done) {
		FUZZ_CHECK(off < len);
		feed = 1 + fin_u8(in) % 97;
		if (feed > len - off)
			feed = len - off;
		FUZZ_CHECK(rlog_snapshot_dec_feed(dec, img + off, feed, &done) == 0);
		off += feed;
	}
	/* The decoder must stop exactly where the encoder stopped. */
	FUZZ_CHECK(off == len);
	FUZZ_CHECK(rlog_snapshot_dec_finish(dec, &copy, &gen2) == 0);
	rlog_snapshot_dec_free(dec);
	FUZZ_CHECK(copy != NULL);
	FUZZ_CHECK(gen2 == gen);
	FUZZ_CHECK(rlog_digest(copy) == rlog_digest(p->a));
	FUZZ_CHECK(rlog_region_count(copy) == rlog_region_count(p->a));
	FUZZ_CHECK(rlog_sync_mode(copy) == rlog_sync_mode(p->a));
	FUZZ_CHECK(rlog_cursor(copy) == rlog_cursor(p->a));
	check_invariants(copy);
	/* Continue on the received copy, as a joining node does. */
	if (fin_u8(in) & 1) {
		rlog_destroy(p->a);
		p->a = copy;
	} else {
		rlog_destroy(copy);
	}
	free(img);
}

static void op_clone(struct pair *p)
{
	struct rlog *c = NULL;

	FUZZ_CHECK(rlog_clone(p->a, &c) == 0);
	FUZZ_CHECK(rlog_digest(c) == rlog_digest(p->a));
	rlog_destroy(p->a);
	p->a = c;
}

static void op_disk(struct pair *p)
{
	uint64_t n = rlog_region_count(p->a), nr = 0, off = 0, len = 0;
	size_t bytes = RLOG_DISK_BITMAP_OFFSET + (size_t)((n + 7) / 8);
	uint8_t *buf = malloc(bytes);

	FUZZ_CHECK(buf != NULL);
	FUZZ_CHECK(rlog_disk_encode(p->a, buf, bytes - 1) == -ENOSPC);
	FUZZ_CHECK(rlog_disk_encode(p->a, buf, bytes) == 0);
	FUZZ_CHECK(rlog_disk_decode_header(buf, bytes, &nr) == RLOG_DISK_OK);
	FUZZ_CHECK(nr == n);
	for (uint64_t r = 0; r < n; r++)
		FUZZ_CHECK(((buf[RLOG_DISK_BITMAP_OFFSET + r / 8] >> (r % 8)) & 1) ==
			   is_clean(p->a, r));
	if (n % 8)
		FUZZ_CHECK((buf[bytes - 1] >> (n % 8)) == 0);
	FUZZ_CHECK(rlog_disk_size(n, 512) % 512 == 0);
	FUZZ_CHECK(rlog_disk_size(n, 512) >= bytes);
	/* The changed range lies inside the bitmap and is 8-byte aligned. */
	rlog_disk_take_dirty(p->a, &off, &len);
	if (len) {
		FUZZ_CHECK(off % 8 == 0);
		FUZZ_CHECK(off + len <= (n + 63) / 64 * 8);
	}
	rlog_disk_mark_all_dirty(p->a);
	rlog_disk_take_dirty(p->a, &off, &len);
	FUZZ_CHECK(off == 0 && len >= (n + 7) / 8);
	rlog_disk_take_dirty(p->a, &off, &len);
	FUZZ_CHECK(len == 0);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in;
	struct pair p = {NULL, NULL};
	uint64_t n;
	enum rlog_sync_mode mode;
	int ops = 0;

	fin_init(&in, data, size);
	n = take_count(&in);
	mode = (enum rlog_sync_mode)(fin_u8(&in) % 3);
	FUZZ_CHECK(rlog_create(&p.a, n, mode) == 0);
	FUZZ_CHECK(rlog_create(&p.b, n, mode) == 0);
	FUZZ_CHECK(rlog_sync_count(p.a) == (mode == RLOG_SYNC_NONE ? n : 0));
	FUZZ_CHECK(rlog_clean_count(p.a) == n);
	check_invariants(p.a);

	while (!fin_empty(&in) &&
	       ops++ < (rlog_region_count(p.a) > SMALL_REGIONS ? MAX_OPS_LARGE : MAX_OPS)) {
		switch ((enum op)(fin_u8(&in) % OP_COUNT)) {
		case OP_MARK:
			apply_batch(&p, true, &in);
			break;
		case OP_CLEAR:
			apply_batch(&p, false, &in);
			break;
		case OP_GET_RESYNC_WORK:
			op_get_resync_work(&p, &in);
			break;
		case OP_SET_REGION_SYNC:
			op_set_region_sync(&p, &in);
			break;
		case OP_IS_REMOTE_RECOVERING:
			op_is_remote_recovering(&p, &in);
			break;
		case OP_NODE_LEFT:
			op_node_left(&p, &in);
			break;
		case OP_RESUME_MASTER:
			op_resume_master(&p, &in);
			break;
		case OP_RESIZE:
			op_resize(&p, &in);
			break;
		case OP_SNAPSHOT:
			op_snapshot(&p, &in);
			break;
		case OP_CLONE:
			op_clone(&p);
			break;
		case OP_DISK:
			op_disk(&p);
			break;
		case OP_QUERY_RANGE:
		case OP_COUNT:
			FUZZ_CHECK(!rlog_node_marked(p.a, take_node(&in), UINT64_MAX));
			break;
		}
		if (rlog_region_count(p.a) <= SMALL_REGIONS || ops % 8 == 0 || fin_empty(&in))
			check_invariants(p.a);
		FUZZ_CHECK(rlog_digest(p.a) == rlog_digest(p.b));
	}
	check_invariants(p.a);
	rlog_destroy(p.a);
	rlog_destroy(p.b);
	return 0;
}
