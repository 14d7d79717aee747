/*
 * snapshot.c: versioned full-state transfer of an rlog in bounded chunks.
 *
 * Stream (all little-endian):
 *   header   le32 magic "RLSn" (0x6E534C52), le32 version, le64 gen, le64 region_count,
 *            le32 mode, le64 sync_count, le64 cursor, u8 has_assign, le64 assign_region,
 *            le32 assign_node, le32 prio_len, le64 slot_used (mask), le64 mark_entries
 *   prio     prio_len x le64 region, FIFO order
 *   slots    one le32 node id per set bit of slot_used, lowest slot first
 *   marks    mark_entries x (le64 region, le64 slot mask), regions strictly increasing
 *   clean    run-length coded words, then the same for sync: runs of
 *            u8 kind (0 zero words, 1 all-one words, 2 literal words) + le64 count (>= 1),
 *            a literal run followed by count x le64 words; runs cover exactly the bitmap
 *   trailer  le64 rlog_digest of the state ^ gen * TRAILER_MUL (so a changed gen is seen too)
 *
 * The encoder produces one small item at a time into a staging buffer and copies out what
 * fits, so any cap >= 1 works and no whole image is ever built. The decoder gathers one item
 * at a time and validates as it goes; anything malformed, inconsistent or truncated is
 * -EBADMSG, and the decoder never reads outside what it was fed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log/bitmap.h"
#include "log/rlog_impl.h"
#include "wire.h"

#define SNAP_MAGIC    0x6E534C52u
#define SNAP_HDR_SIZE 77u
#define RUN_HDR_SIZE  9u
#define TRAILER_MUL   UINT64_C(0x9E3779B97F4A7C15) /* odd: every gen change shows */

enum snap_kind { RUN_ZERO = 0, RUN_ONES = 1, RUN_LIT = 2 };

enum snap_phase {
	PH_HDR,
	PH_PRIO,
	PH_SLOTS,
	PH_MARKS,
	PH_RUN,	 /* next run header of bitmap bm */
	PH_WORD, /* next literal word */
	PH_TRAILER,
	PH_DONE,
};

/* ---- encoder ------------------------------------------------------------------------------ */

struct rlog_snap_enc {
	const struct rlog *rl;
	uint64_t gen;
	enum snap_phase phase;
	struct rlog_mark_ent *marks;
	size_t nmarks;
	uint64_t idx;	   /* position in prio / slots mask / marks */
	int bm;		   /* 0 clean, 1 sync */
	uint64_t w;	   /* next word of the bitmap */
	uint64_t lit_left; /* literal words still to emit */
	uint8_t pend[96];
	size_t pend_len, pend_off;
};

int rlog_snapshot_begin(const struct rlog *rl, uint64_t gen, struct rlog_snap_enc **out)
{
	struct rlog_snap_enc *enc;
	int ret;

	if (!rl || !out)
		return -EINVAL;
	*out = NULL;
	enc = calloc(1, sizeof(*enc));
	if (!enc)
		return -ENOMEM;
	ret = rlog_marks_sorted(&rl->marks, &enc->marks, &enc->nmarks);
	if (ret) {
		free(enc);
		return ret;
	}
	enc->rl = rl;
	enc->gen = gen;
	enc->phase = PH_HDR;
	*out = enc;
	return 0;
}

void rlog_snapshot_end(struct rlog_snap_enc *enc)
{
	if (!enc)
		return;
	free(enc->marks);
	free(enc);
}

static const uint64_t *enc_bitmap(const struct rlog_snap_enc *enc)
{
	return enc->bm ? enc->rl->sync : enc->rl->clean;
}

/* Stage the next item into enc->pend; false at the end of the stream. */
static bool enc_fill(struct rlog_snap_enc *enc)
{
	const struct rlog *rl = enc->rl;
	struct wire_wr w;

	wire_wr_init(&w, enc->pend, sizeof(enc->pend));
	for (;;) {
		switch (enc->phase) {
		case PH_HDR:
			wire_put_le32(&w, SNAP_MAGIC);
			wire_put_le32(&w, RLOG_SNAPSHOT_VERSION);
			wire_put_le64(&w, enc->gen);
			wire_put_le64(&w, rl->region_count);
			wire_put_le32(&w, (uint32_t)rl->mode);
			wire_put_le64(&w, rl->sync_count);
			wire_put_le64(&w, rl->cursor);
			wire_put_u8(&w, rl->has_assign);
			wire_put_le64(&w, rl->has_assign ? rl->assign_region : 0);
			wire_put_le32(&w, rl->has_assign ? rl->assign_node : 0);
			wire_put_le32(&w, rl->prio_len);
			wire_put_le64(&w, rl->marks.slot_used);
			wire_put_le64(&w, enc->nmarks);
			enc->phase = PH_PRIO;
			enc->idx = 0;
			goto staged;
		case PH_PRIO:
			if (enc->idx < rl->prio_len) {
				wire_put_le64(
					&w,
					rl->prio[(rl->prio_head + enc->idx) % RLOG_MAX_PRIORITY]);
				enc->idx++;
				goto staged;
			}
			enc->phase = PH_SLOTS;
			enc->idx = 0;
			break;
		case PH_SLOTS:
			while (enc->idx < RLOG_MAX_NODES && !(rl->marks.slot_used >> enc->idx & 1))
				enc->idx++;
			if (enc->idx < RLOG_MAX_NODES) {
				wire_put_le32(&w, rl->marks.slot_node[enc->idx]);
				enc->idx++;
				goto staged;
			}
			enc->phase = PH_MARKS;
			enc->idx = 0;
			break;
		case PH_MARKS:
			if (enc->idx < enc->nmarks) {
				wire_put_le64(&w, enc->marks[enc->idx].region);
				wire_put_le64(&w, enc->marks[enc->idx].mask);
				enc->idx++;
				goto staged;
			}
			enc->phase = PH_RUN;
			enc->bm = 0;
			enc->w = 0;
			break;
		case PH_RUN: {
			const uint64_t *bm = enc_bitmap(enc);
			uint64_t v, n, e;
			enum snap_kind kind;

			if (enc->w >= rl->nwords) {
				if (enc->bm == 0) {
					enc->bm = 1;
					enc->w = 0;
					break;
				}
				enc->phase = PH_TRAILER;
				break;
			}
			v = bm[enc->w];
			e = enc->w + 1;
			if (v == 0 || v == ~UINT64_C(0)) {
				kind = v ? RUN_ONES : RUN_ZERO;
				while (e < rl->nwords && bm[e] == v)
					e++;
			} else {
				kind = RUN_LIT;
				while (e < rl->nwords && bm[e] != 0 && bm[e] != ~UINT64_C(0))
					e++;
			}
			n = e - enc->w;
			wire_put_u8(&w, (uint8_t)kind);
			wire_put_le64(&w, n);
			if (kind == RUN_LIT) {
				enc->lit_left = n;
				enc->phase = PH_WORD;
			} else {
				enc->w = e;
			}
			goto staged;
		}
		case PH_WORD:
			wire_put_le64(&w, enc_bitmap(enc)[enc->w]);
			enc->w++;
			if (--enc->lit_left == 0)
				enc->phase = PH_RUN;
			goto staged;
		case PH_TRAILER:
			wire_put_le64(&w, rlog_digest(rl) ^ enc->gen * TRAILER_MUL);
			enc->phase = PH_DONE;
			goto staged;
		case PH_DONE:
			return false;
		}
	}
staged:
	enc->pend_len = w.off;
	enc->pend_off = 0;
	return true;
}

int rlog_snapshot_next(struct rlog_snap_enc *enc, uint8_t *buf, size_t cap, size_t *len, bool *done)
{
	size_t off = 0, n;

	if (!enc || !buf || !len || !done || !cap)
		return -EINVAL;
	*done = false;
	while (off < cap) {
		if (enc->pend_off == enc->pend_len && !enc_fill(enc))
			break;
		n = enc->pend_len - enc->pend_off;
		if (n > cap - off)
			n = cap - off;
		memcpy(buf + off, enc->pend + enc->pend_off, n);
		enc->pend_off += n;
		off += n;
	}
	*len = off;
	/* Done once everything is out; look ahead so the last chunk says so. */
	if (enc->pend_off == enc->pend_len && enc->phase == PH_DONE)
		*done = true;
	return 0;
}

/* ---- decoder ------------------------------------------------------------------------------ */

struct rlog_snap_dec {
	enum snap_phase phase;
	bool failed;
	struct rlog *rl;
	uint64_t gen;
	uint64_t sync_count;
	uint32_t prio_total;
	uint64_t slot_left; /* slots still to read (mask) */
	uint64_t mark_total, mark_idx, last_region;
	int bm;
	uint64_t w, lit_left;
	uint8_t item[96];
	size_t need, have;
};

int rlog_snapshot_dec_begin(struct rlog_snap_dec **out)
{
	struct rlog_snap_dec *dec;

	if (!out)
		return -EINVAL;
	dec = calloc(1, sizeof(*dec));
	if (!dec)
		return -ENOMEM;
	dec->phase = PH_HDR;
	dec->need = SNAP_HDR_SIZE;
	*out = dec;
	return 0;
}

void rlog_snapshot_dec_free(struct rlog_snap_dec *dec)
{
	if (!dec)
		return;
	rlog_destroy(dec->rl);
	free(dec);
}

static int dec_header(struct rlog_snap_dec *dec, struct wire_rd *r)
{
	uint32_t magic = 0, version = 0, mode = 0, anode = 0, plen = 0;
	uint64_t count = 0, cursor = 0, areg = 0, slots = 0, nmarks = 0;
	uint8_t has = 0;
	struct rlog *rl;
	int ret;

	wire_get_le32(r, &magic);
	wire_get_le32(r, &version);
	wire_get_le64(r, &dec->gen);
	wire_get_le64(r, &count);
	wire_get_le32(r, &mode);
	wire_get_le64(r, &dec->sync_count);
	wire_get_le64(r, &cursor);
	wire_get_u8(r, &has);
	wire_get_le64(r, &areg);
	wire_get_le32(r, &anode);
	wire_get_le32(r, &plen);
	wire_get_le64(r, &slots);
	wire_get_le64(r, &nmarks);
	if (!wire_rd_done(r) || magic != SNAP_MAGIC || version != RLOG_SNAPSHOT_VERSION)
		return -EBADMSG;
	if (count < 1 || count > RLOG_MAX_REGIONS || mode > RLOG_SYNC_NONE)
		return -EBADMSG;
	if (dec->sync_count > count || cursor > count || has > 1 || plen > RLOG_MAX_PRIORITY)
		return -EBADMSG;
	if (has ? areg >= count : (areg || anode))
		return -EBADMSG;
	if (nmarks > count || (nmarks && !slots))
		return -EBADMSG;
	ret = rlog_alloc(&rl, count, (enum rlog_sync_mode)mode);
	if (ret)
		return ret;
	rl->cursor = cursor;
	rl->has_assign = has;
	rl->assign_region = areg;
	rl->assign_node = anode;
	rl->marks.slot_used = slots;
	dec->rl = rl;
	dec->prio_total = plen;
	dec->slot_left = slots;
	dec->mark_total = nmarks;
	return 0;
}

/* Choose the next phase and item size after the item just handled. */
static void dec_advance(struct rlog_snap_dec *dec)
{
	struct rlog *rl = dec->rl;

	for (;;) {
		switch (dec->phase) {
		case PH_HDR:
			dec->phase = PH_PRIO;
			break;
		case PH_PRIO:
			if (rl->prio_len < dec->prio_total) {
				dec->need = 8;
				return;
			}
			dec->phase = PH_SLOTS;
			break;
		case PH_SLOTS:
			if (dec->slot_left) {
				dec->need = 4;
				return;
			}
			dec->phase = PH_MARKS;
			break;
		case PH_MARKS:
			if (dec->mark_idx < dec->mark_total) {
				dec->need = 16;
				return;
			}
			dec->phase = PH_RUN;
			dec->bm = 0;
			dec->w = 0;
			break;
		case PH_RUN:
			if (dec->w < rl->nwords) {
				dec->need = RUN_HDR_SIZE;
				return;
			}
			if (dec->bm == 0) {
				dec->bm = 1;
				dec->w = 0;
				break;
			}
			dec->phase = PH_TRAILER;
			dec->need = 8;
			return;
		case PH_WORD:
			if (dec->lit_left) {
				dec->need = 8;
				return;
			}
			dec->phase = PH_RUN;
			break;
		case PH_TRAILER:
			dec->phase = PH_DONE;
			dec->need = 0;
			return;
		case PH_DONE:
			return;
		}
	}
}

/* Checks that need the whole state: counts, tails, marks vs. clean bits. */
static int dec_final_check(struct rlog *rl, uint64_t sync_count)
{
	uint64_t i, nw = rl->nwords;

	if (rl->region_count % 64 &&
	    ((rl->clean[nw - 1] | rl->sync[nw - 1]) >> (rl->region_count % 64)))
		return -EBADMSG;
	rlog_recount(rl);
	if (rl->sync_count != sync_count)
		return -EBADMSG;
	for (i = 0; i < rl->marks.cap; i++)
		if (rl->marks.tab[i].mask && rlog_bm_test(rl->clean, rl->marks.tab[i].region))
			return -EBADMSG;
	return 0;
}

static int dec_item(struct rlog_snap_dec *dec)
{
	struct rlog *rl = dec->rl;
	struct wire_rd r;
	uint64_t v = 0, mask = 0;
	uint32_t node = 0, k;
	uint8_t kind = 0;
	int ret, s;

	wire_rd_init(&r, dec->item, dec->need);
	switch (dec->phase) {
	case PH_HDR:
		ret = dec_header(dec, &r);
		if (ret)
			return ret;
		break;
	case PH_PRIO:
		wire_get_le64(&r, &v);
		if (v >= rl->region_count)
			return -EBADMSG;
		for (k = 0; k < rl->prio_len; k++)
			if (rl->prio[k] == v)
				return -EBADMSG;
		rl->prio[rl->prio_len++] = v;
		break;
	case PH_SLOTS:
		wire_get_le32(&r, &node);
		s = __builtin_ctzll(dec->slot_left);
		dec->slot_left &= dec->slot_left - 1;
		/* Node ids must be distinct among the slots read so far. */
		for (k = 0; k < (uint32_t)s; k++)
			if ((rl->marks.slot_used >> k & 1) && rl->marks.slot_node[k] == node)
				return -EBADMSG;
		rl->marks.slot_node[s] = node;
		break;
	case PH_MARKS:
		wire_get_le64(&r, &v);
		wire_get_le64(&r, &mask);
		if (v >= rl->region_count || !mask || (mask & ~rl->marks.slot_used))
			return -EBADMSG;
		if (dec->mark_idx && v <= dec->last_region)
			return -EBADMSG;
		ret = rlog_marks_reserve(&rl->marks, 1);
		if (ret)
			return ret;
		while (mask) {
			s = __builtin_ctzll(mask);
			mask &= mask - 1;
			rlog_marks_add(&rl->marks, v, s);
		}
		dec->last_region = v;
		dec->mark_idx++;
		break;
	case PH_RUN: {
		uint64_t *bm = dec->bm ? rl->sync : rl->clean;

		wire_get_u8(&r, &kind);
		wire_get_le64(&r, &v);
		if (kind > RUN_LIT || v < 1 || v > rl->nwords - dec->w)
			return -EBADMSG;
		if (kind == RUN_LIT) {
			dec->lit_left = v;
			dec->phase = PH_WORD;
		} else {
			memset(bm + dec->w, kind == RUN_ONES ? 0xff : 0, (size_t)v * 8);
			dec->w += v;
		}
		break;
	}
	case PH_WORD:
		wire_get_le64(&r, &v);
		(dec->bm ? rl->sync : rl->clean)[dec->w++] = v;
		dec->lit_left--;
		break;
	case PH_TRAILER:
		wire_get_le64(&r, &v);
		ret = dec_final_check(rl, dec->sync_count);
		if (ret)
			return ret;
		if (v != (rlog_digest(rl) ^ dec->gen * TRAILER_MUL))
			return -EBADMSG;
		break;
	case PH_DONE:
		return -EBADMSG;
	}
	if (!wire_rd_done(&r))
		return -EBADMSG;
	dec_advance(dec);
	return 0;
}

int rlog_snapshot_dec_feed(struct rlog_snap_dec *dec, const uint8_t *buf, size_t len, bool *done)
{
	size_t n;
	int ret;

	if (!dec || !done || (len && !buf))
		return -EINVAL;
	*done = false;
	if (dec->failed)
		return -EBADMSG;
	while (len) {
		if (dec->phase == PH_DONE) {
			dec->failed = true; /* trailing garbage */
			return -EBADMSG;
		}
		n = dec->need - dec->have;
		if (n > len)
			n = len;
		memcpy(dec->item + dec->have, buf, n);
		dec->have += n;
		buf += n;
		len -= n;
		if (dec->have < dec->need)
			break;
		dec->have = 0;
		ret = dec_item(dec);
		if (ret) {
			dec->failed = true;
			return ret;
		}
	}
	*done = dec->phase == PH_DONE;
	return 0;
}

int rlog_snapshot_dec_finish(struct rlog_snap_dec *dec, struct rlog **out, uint64_t *gen)
{
	if (!dec || !out)
		return -EINVAL;
	*out = NULL;
	if (dec->failed || dec->phase != PH_DONE)
		return -EBADMSG;
	*out = dec->rl;
	dec->rl = NULL;
	if (gen)
		*gen = dec->gen;
	dec->failed = true; /* the decoder keeps nothing */
	return 0;
}
