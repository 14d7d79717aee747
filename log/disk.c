/*
 * disk.c: the kernel's on-disk log format (dm-log's disk log, used by clustered-disk logs)
 * and the local record of which bitmap bytes changed since the last write.
 *
 * Format: le32 magic 0x4D695272, le32 version, le64 nr_regions, zeros up to 1024, then the
 * clean bitmap in little-endian bit order (region i = byte i/8, bit i%8), sized in whole
 * 64-bit words as the kernel's bitset. Keeps: encoded bits past region_count are zero; the
 * dirty range is 8-byte aligned and inside the bitset; decoding never reads past @len.
 */
#include <errno.h>
#include <string.h>

#include "log/bitmap.h"
#include "log/rlog_impl.h"
#include "wire.h"

const char *rlog_disk_strerror(int err)
{
	switch (err) {
	case RLOG_DISK_OK:
		return "valid disk log header";
	case RLOG_DISK_ESHORT:
		return "disk log too short for its header and bitmap";
	case RLOG_DISK_EMAGIC:
		return "bad disk log magic (expected 0x4D695272)";
	case RLOG_DISK_EVERSION:
		return "unsupported disk log version (expected 1 or 2)";
	case RLOG_DISK_ERANGE:
		return "disk log region count is 0 or above the maximum";
	default:
		return "unknown disk log error";
	}
}

uint64_t rlog_disk_size(uint64_t region_count, uint32_t block_size)
{
	uint64_t n = RLOG_DISK_BITMAP_OFFSET + rlog_bitset_bytes(region_count);

	if (!block_size)
		return n;
	return (n + block_size - 1) / block_size * block_size;
}

/* Store bitmap bytes [off, off+len) of word array @bm, little-endian. */
static void put_bitmap_bytes(const uint64_t *bm, uint64_t off, uint8_t *out, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint64_t b = off + i;

		out[i] = (uint8_t)(bm[b / 8] >> (8 * (b % 8)));
	}
}

int rlog_disk_encode(const struct rlog *rl, uint8_t *buf, size_t len)
{
	uint64_t min_len = RLOG_DISK_BITMAP_OFFSET + (rl->region_count + 7) / 8;
	uint64_t bytes = rlog_bitset_bytes(rl->region_count);
	struct wire_wr w;

	if (!buf || len < min_len)
		return -ENOSPC;
	/* A buffer sized to whole bytes (not whole words) gets the bytes that fit. */
	if (bytes > len - RLOG_DISK_BITMAP_OFFSET)
		bytes = len - RLOG_DISK_BITMAP_OFFSET;
	wire_wr_init(&w, buf, len);
	wire_put_le32(&w, RLOG_DISK_MAGIC);
	wire_put_le32(&w, RLOG_DISK_VERSION);
	wire_put_le64(&w, rl->region_count);
	wire_put_zero(&w, RLOG_DISK_BITMAP_OFFSET - RLOG_DISK_HEADER_SIZE);
	if (w.err)
		return -ENOSPC;
	put_bitmap_bytes(rl->clean, 0, buf + RLOG_DISK_BITMAP_OFFSET, (size_t)bytes);
	return 0;
}

int rlog_disk_decode_header(const uint8_t *buf, size_t len, uint64_t *nr_regions)
{
	struct wire_rd r;
	uint32_t magic = 0, version = 0;
	uint64_t nr = 0;

	if (!buf || len < RLOG_DISK_HEADER_SIZE)
		return RLOG_DISK_ESHORT;
	wire_rd_init(&r, buf, len);
	wire_get_le32(&r, &magic);
	wire_get_le32(&r, &version);
	wire_get_le64(&r, &nr);
	if (r.err)
		return RLOG_DISK_ESHORT;
	if (magic != RLOG_DISK_MAGIC)
		return RLOG_DISK_EMAGIC;
	if (version != 1 && version != 2)
		return RLOG_DISK_EVERSION;
	if (nr < 1 || nr > RLOG_MAX_REGIONS)
		return RLOG_DISK_ERANGE;
	if (len < RLOG_DISK_BITMAP_OFFSET || len - RLOG_DISK_BITMAP_OFFSET < (nr + 7) / 8)
		return RLOG_DISK_ESHORT;
	if (nr_regions)
		*nr_regions = nr;
	return RLOG_DISK_OK;
}

void rlog_disk_take_dirty(struct rlog *rl, uint64_t *offset, uint64_t *len)
{
	if (rl->dirty_lo >= rl->dirty_hi) {
		*offset = 0;
		*len = 0;
	} else {
		*offset = rl->dirty_lo;
		*len = rl->dirty_hi - rl->dirty_lo;
	}
	rl->dirty_lo = UINT64_MAX;
	rl->dirty_hi = 0;
}

void rlog_disk_mark_all_dirty(struct rlog *rl)
{
	rl->dirty_lo = 0;
	rl->dirty_hi = rlog_bitset_bytes(rl->region_count);
}

int rlog_disk_bitmap_read(const struct rlog *rl, uint64_t offset, uint8_t *out, size_t len)
{
	uint64_t bytes = rlog_bitset_bytes(rl->region_count);

	if (offset > bytes || len > bytes - offset || (len && !out))
		return -EINVAL;
	put_bitmap_bytes(rl->clean, offset, out, len);
	return 0;
}

uint64_t rlog_image_intersect(uint8_t *image, const uint8_t *other, uint64_t n)
{
	uint64_t i, dropped = 0;

	for (i = 0; i < n; i += 8) {
		uint8_t mask = n - i >= 8 ? 0xFF : (uint8_t)((1u << (n - i)) - 1u);
		uint8_t drop = (uint8_t)(image[i / 8] & (uint8_t)~other[i / 8] & mask);

		image[i / 8] &= (uint8_t)~drop;
		dropped += (uint64_t)__builtin_popcount(drop);
	}
	return dropped;
}

int rlog_sync_bitmap_read(const struct rlog *rl, uint64_t offset, uint8_t *out, size_t len)
{
	uint64_t bytes = rlog_bitset_bytes(rl->region_count);

	if (offset > bytes || len > bytes - offset || (len && !out))
		return -EINVAL;
	put_bitmap_bytes(rl->sync, offset, out, len);
	return 0;
}
