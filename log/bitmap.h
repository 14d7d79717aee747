/*
 * bitmap.h: 64-bit word bitmaps for log/ (bit i = word i/64, bit i%64, so the little-endian
 * byte image is the kernel's bit order). Callers keep bits past the logical size at zero;
 * every scan here works a word at a time.
 */
#ifndef CMLOG_LOG_BITMAP_H
#define CMLOG_LOG_BITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Words needed for @bits bits. */
static inline uint64_t rlog_bm_words(uint64_t bits)
{
	return (bits + 63) / 64;
}

static inline bool rlog_bm_test(const uint64_t *bm, uint64_t i)
{
	return (bm[i / 64] >> (i % 64)) & 1;
}

/** Set bit @i; returns true when it was clear (a real 0->1 transition). */
static inline bool rlog_bm_set(uint64_t *bm, uint64_t i)
{
	uint64_t m = UINT64_C(1) << (i % 64);
	bool was = bm[i / 64] & m;

	bm[i / 64] |= m;
	return !was;
}

/** Clear bit @i; returns true when it was set (a real 1->0 transition). */
static inline bool rlog_bm_clear(uint64_t *bm, uint64_t i)
{
	uint64_t m = UINT64_C(1) << (i % 64);
	bool was = bm[i / 64] & m;

	bm[i / 64] &= ~m;
	return was;
}

/** Lowest set bit at or after @from below @nbits, or @nbits. */
uint64_t rlog_bm_next_one(const uint64_t *bm, uint64_t nbits, uint64_t from);
/** Lowest clear bit at or after @from below @nbits, or @nbits. */
uint64_t rlog_bm_next_zero(const uint64_t *bm, uint64_t nbits, uint64_t from);
/** Number of set bits in [@from, @to). */
uint64_t rlog_bm_popcount_range(const uint64_t *bm, uint64_t from, uint64_t to);
/** Set (@value true) or clear every bit in [@from, @to). */
void rlog_bm_fill(uint64_t *bm, uint64_t from, uint64_t to, bool value);
/** Zero the bits of the last word at and past @nbits (keeps the tail invariant). */
void rlog_bm_trim(uint64_t *bm, uint64_t nbits);

#endif /* CMLOG_LOG_BITMAP_H */
