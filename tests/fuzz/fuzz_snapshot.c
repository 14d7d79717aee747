/*
 * fuzz_snapshot: the state-snapshot decoder (rlog_snapshot_dec_*, log/rlog.h).
 *
 * A joining node builds its replica from SNAP chunks another node sent; a corrupt or hostile
 * chunk must give -EBADMSG, never a crash, an over-read or a log that breaks the invariants.
 * Input: byte 0 picks how the rest is cut into chunks (one piece, fixed sizes, or sizes read
 * from a second stream), the remainder is the snapshot image. When the decoder accepts a
 * whole image, the target checks the decoded log as fuzz_rlog_ops does (exact sync count, no
 * clean region with a mark, a sane assignment, exact hint), applies a few operations to it,
 * then re-encodes it and checks that the image decodes to the same digest and generation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log/rlog.h"
#include "tests/fuzz/fuzz_common.h"

/* Decoded logs bigger than this are checked by sampling, not by a full scan. */
#define SCAN_LIMIT 4096u

static const uint32_t probe_nodes[] = {0, 1, 2, 3, 4, 5, 7, 8, 42, 0xffffffffu};
#define N_PROBE (sizeof(probe_nodes) / sizeof(probe_nodes[0]))

static bool bit(int (*q)(const struct rlog *, uint64_t, bool *), const struct rlog *rl, uint64_t r)
{
	bool v = false;

	FUZZ_CHECK(q(rl, r, &v) == 0);
	return v;
}

static void check_decoded(const struct rlog *rl)
{
	uint64_t n = rlog_region_count(rl), scan = n < SCAN_LIMIT ? n : SCAN_LIMIT;
	uint64_t sync_pop = 0, hint = n, ar;
	uint32_t an;
	bool v;

	FUZZ_CHECK(n >= 1 && n <= RLOG_MAX_REGIONS);
	FUZZ_CHECK(rlog_sync_count(rl) <= n);
	FUZZ_CHECK(rlog_clean_count(rl) <= n);
	for (uint64_t r = 0; r < scan; r++) {
		bool s = bit(rlog_in_sync, rl, r), c = bit(rlog_is_clean, rl, r);

		sync_pop += s;
		if (!s && hint == n)
			hint = r;
		for (size_t i = 0; i < N_PROBE; i++)
			FUZZ_CHECK(!(c && rlog_node_marked(rl, probe_nodes[i], r)));
	}
	if (scan == n)
		FUZZ_CHECK(rlog_sync_count(rl) == sync_pop);
	if (hint < n || scan == n)
		FUZZ_CHECK(rlog_in_sync_hint(rl) == hint);
	else
		FUZZ_CHECK(rlog_in_sync_hint(rl) >= scan);
	if (rlog_assignment(rl, &ar, &an)) {
		FUZZ_CHECK(ar < n);
		FUZZ_CHECK(!bit(rlog_in_sync, rl, ar));
	}
	FUZZ_CHECK(rlog_in_sync(rl, n, &v) == -EINVAL);
	FUZZ_CHECK(rlog_is_clean(rl, n, &v) == -EINVAL);
}

static uint8_t *encode(const struct rlog *rl, uint64_t gen, size_t *len)
{
	struct rlog_snap_enc *enc = NULL;
	size_t have = 0, room = 1 << 16, chunk;
	uint8_t *img = malloc(room), *grown;
	bool done = false;

	FUZZ_CHECK(img != NULL);
	FUZZ_CHECK(rlog_snapshot_begin(rl, gen, &enc) == 0);
	while (!done) {
		if (room - have < 4096) {
			room *= 2;
			grown = realloc(img, room);
			FUZZ_CHECK(grown != NULL);
			img = grown;
		}
		chunk = 0;
		FUZZ_CHECK(rlog_snapshot_next(enc, img + have, 4096, &chunk, &done) == 0);
		FUZZ_CHECK(chunk > 0 || done);
		have += chunk;
	}
	rlog_snapshot_end(enc);
	*len = have;
	return img;
}

/* Feed @len bytes cut into pieces; returns the decoder's verdict. */
static int feed_all(struct rlog_snap_dec *dec, const uint8_t *img, size_t len, uint8_t mode,
		    struct fuzz_in *sizes, bool *done, size_t *used)
{
	size_t off = 0, piece;
	uint8_t *copy;
	int rc = 0;

	*done = false;
	while (off < len && !*done) {
		if (mode % 4 == 0)
			piece = len - off;
		else if (mode % 4 == 1)
			piece = 1;
		else if (mode % 4 == 2)
			piece = 1 + mode / 4;
		else
			piece = 1 + fin_u8(sizes);
		if (piece > len - off)
			piece = len - off;
		/* A heap copy of exactly this piece, so ASan sees reads past it. */
		copy = malloc(piece);
		FUZZ_CHECK(copy != NULL);
		memcpy(copy, img + off, piece);
		rc = rlog_snapshot_dec_feed(dec, copy, piece, done);
		free(copy);
		if (rc) {
			FUZZ_CHECK(rc == -EBADMSG || rc == -ENOMEM || rc == -EINVAL);
			break;
		}
		off += piece;
	}
	*used = off;
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rlog_snap_dec *dec = NULL;
	struct rlog *rl = NULL, *again = NULL;
	struct fuzz_in sizes;
	uint8_t mode;
	uint64_t gen = 0, gen2 = 0, r = 0;
	size_t used = 0, len2 = 0;
	uint8_t *img2;
	bool done = false, found;
	int rc;

	if (size < 1)
		return 0;
	mode = data[0];
	/* With mode 3 the piece sizes come from the image itself, read from its end. */
	fin_init(&sizes, data + 1, size - 1);
	FUZZ_CHECK(rlog_snapshot_dec_begin(&dec) == 0);
	rc = feed_all(dec, data + 1, size - 1, mode, &sizes, &done, &used);
	if (rc || !done) {
		/* Rejected or incomplete: finishing must fail, freeing must not leak. */
		if (!rc)
			FUZZ_CHECK(rlog_snapshot_dec_finish(dec, &rl, &gen) != 0);
		rlog_snapshot_dec_free(dec);
		return 0;
	}
	rc = rlog_snapshot_dec_finish(dec, &rl, &gen);
	rlog_snapshot_dec_free(dec);
	if (rc)
		return 0;
	FUZZ_CHECK(rl != NULL);
	check_decoded(rl);

	/* What the receiver sends back if it becomes the sender must decode to the same state. */
	img2 = encode(rl, gen, &len2);
	FUZZ_CHECK(rlog_snapshot_dec_begin(&dec) == 0);
	FUZZ_CHECK(rlog_snapshot_dec_feed(dec, img2, len2, &done) == 0);
	FUZZ_CHECK(done);
	FUZZ_CHECK(rlog_snapshot_dec_finish(dec, &again, &gen2) == 0);
	rlog_snapshot_dec_free(dec);
	FUZZ_CHECK(gen2 == gen);
	FUZZ_CHECK(rlog_digest(again) == rlog_digest(rl));
	free(img2);
	rlog_destroy(again);

	/* The decoded state must be usable: a node keeps applying the ordered stream to it. */
	FUZZ_CHECK(rlog_get_resync_work(rl, 1, &r, &found) == 0);
	if (found)
		FUZZ_CHECK(rlog_set_region_sync(rl, 1, r, true) == 0);
	FUZZ_CHECK(rlog_node_left(rl, 2) == 0);
	r = rlog_region_count(rl) - 1;
	/* -ENOSPC: the snapshot may already hold marks of RLOG_MAX_NODES nodes. */
	rc = rlog_mark(rl, 3, &r, 1);
	FUZZ_CHECK(rc == 0 || rc == -ENOSPC);
	FUZZ_CHECK(rlog_clear(rl, 3, &r, 1) == 0);
	check_decoded(rl);
	rlog_destroy(rl);
	return 0;
}
