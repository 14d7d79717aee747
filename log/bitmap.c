/*
 * bitmap.c: word-at-a-time scans and fills over 64-bit word bitmaps.
 *
 * Owns no state. Keeps: results never point at or past the logical size, so a scan over a
 * bitmap whose tail bits are zero (the rlog invariant) still answers exactly; fills touch
 * whole words in the middle and masked words at the ends.
 */
#include "log/bitmap.h"

/* Mask of bits [lo, 64) of a word, lo < 64. */
static inline uint64_t mask_from(unsigned lo)
{
	return ~UINT64_C(0) << lo;
}

/* Mask of bits [0, hi) of a word, 0 < hi <= 64. */
static inline uint64_t mask_below(unsigned hi)
{
	return hi >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << hi) - 1;
}

uint64_t rlog_bm_next_one(const uint64_t *bm, uint64_t nbits, uint64_t from)
{
	uint64_t w, nw = rlog_bm_words(nbits), v, r;

	if (from >= nbits)
		return nbits;
	w = from / 64;
	v = bm[w] & mask_from(from % 64);
	for (;;) {
		if (v) {
			r = w * 64 + (uint64_t)__builtin_ctzll(v);
			return r < nbits ? r : nbits;
		}
		if (++w >= nw)
			return nbits;
		v = bm[w];
	}
}

uint64_t rlog_bm_next_zero(const uint64_t *bm, uint64_t nbits, uint64_t from)
{
	uint64_t w, nw = rlog_bm_words(nbits), v, r;

	if (from >= nbits)
		return nbits;
	w = from / 64;
	v = ~bm[w] & mask_from(from % 64);
	for (;;) {
		if (v) {
			r = w * 64 + (uint64_t)__builtin_ctzll(v);
			return r < nbits ? r : nbits;
		}
		if (++w >= nw)
			return nbits;
		v = ~bm[w];
	}
}

uint64_t rlog_bm_popcount_range(const uint64_t *bm, uint64_t from, uint64_t to)
{
	uint64_t n = 0, w, lw, hw;

	if (from >= to)
		return 0;
	lw = from / 64;
	hw = (to - 1) / 64;
	if (lw == hw)
		return (uint64_t)__builtin_popcountll(bm[lw] & mask_from(from % 64) &
						      mask_below((unsigned)((to - 1) % 64 + 1)));
	n += (uint64_t)__builtin_popcountll(bm[lw] & mask_from(from % 64));
	for (w = lw + 1; w < hw; w++)
		n += (uint64_t)__builtin_popcountll(bm[w]);
	n += (uint64_t)__builtin_popcountll(bm[hw] & mask_below((unsigned)((to - 1) % 64 + 1)));
	return n;
}

void rlog_bm_fill(uint64_t *bm, uint64_t from, uint64_t to, bool value)
{
	uint64_t w, lw, hw, m;

	if (from >= to)
		return;
	lw = from / 64;
	hw = (to - 1) / 64;
	for (w = lw; w <= hw; w++) {
		m = ~UINT64_C(0);
		if (w == lw)
			m &= mask_from(from % 64);
		if (w == hw)
			m &= mask_below((unsigned)((to - 1) % 64 + 1));
		if (value)
			bm[w] |= m;
		else
			bm[w] &= ~m;
	}
}

void rlog_bm_trim(uint64_t *bm, uint64_t nbits)
{
	if (nbits % 64)
		bm[nbits / 64] &= mask_below((unsigned)(nbits % 64));
}
