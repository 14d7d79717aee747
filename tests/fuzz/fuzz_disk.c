/*
 * fuzz_disk: the on-disk log header decoder and the clean-bitmap load (log/rlog.h).
 *
 * A clustered-disk log device is external input: another host, an old cmirrord or plain
 * corruption may have written anything there. Input: two bytes choose the in-memory log's
 * region count, one byte its sync mode and one the block size; the rest is the device
 * image (header at 0, bitmap at 1024). The target checks:
 *   - rlog_disk_decode_header agrees with an independent reading of the 16-byte header
 *     (magic, version 1 or 2, 1 <= nr_regions <= RLOG_MAX_REGIONS) and, when it accepts,
 *     the image really holds the bitmap it announces;
 *   - loading the bitmap as the daemon does (rlog_resume_master with exactly the bytes the
 *     header announces, as a heap copy so ASan sees any over-read) gives the state the
 *     contract describes: disk clean bits below both counts, sync := clean, exact counts;
 *   - re-encoding that state decodes to the same header and bits, and rlog_disk_size is a
 *     multiple of the block size that covers header and bitmap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log/rlog.h"
#include "tests/fuzz/fuzz_common.h"
#include "wire.h"

#define MAX_LOG_REGIONS 2048u

/* The header as the kernel's dm-log.c reads it, written here without the library. */
static int reference_decode(const uint8_t *img, size_t len, uint64_t *nr)
{
	struct wire_rd rd;
	uint32_t magic = 0, version = 0;

	wire_rd_init(&rd, img, len);
	if (!wire_get_le32(&rd, &magic) || !wire_get_le32(&rd, &version) || !wire_get_le64(&rd, nr))
		return RLOG_DISK_ESHORT;
	if (magic != RLOG_DISK_MAGIC)
		return RLOG_DISK_EMAGIC;
	if (version != 1 && version != 2)
		return RLOG_DISK_EVERSION;
	if (*nr == 0 || *nr > RLOG_MAX_REGIONS)
		return RLOG_DISK_ERANGE;
	if (len < RLOG_DISK_BITMAP_OFFSET || (len - RLOG_DISK_BITMAP_OFFSET) < (*nr + 7) / 8)
		return RLOG_DISK_ESHORT;
	return RLOG_DISK_OK;
}

static bool clean_bit(const struct rlog *rl, uint64_t r)
{
	bool v = false;

	FUZZ_CHECK(rlog_is_clean(rl, r, &v) == 0);
	return v;
}

static bool sync_bit(const struct rlog *rl, uint64_t r)
{
	bool v = false;

	FUZZ_CHECK(rlog_in_sync(rl, r, &v) == 0);
	return v;
}

static void check_roundtrip(const struct rlog *rl, uint32_t block_size)
{
	uint64_t n = rlog_region_count(rl), nr = 0, size;
	size_t bytes = RLOG_DISK_BITMAP_OFFSET + (size_t)((n + 7) / 8);
	uint8_t *buf = malloc(bytes);

	FUZZ_CHECK(buf != NULL);
	FUZZ_CHECK(rlog_disk_encode(rl, buf, bytes) == 0);
	FUZZ_CHECK(rlog_disk_decode_header(buf, bytes, &nr) == RLOG_DISK_OK);
	FUZZ_CHECK(nr == n);
	FUZZ_CHECK(buf[0] == 0x72 && buf[1] == 0x52 && buf[2] == 0x69 && buf[3] == 0x4d);
	FUZZ_CHECK(buf[4] == RLOG_DISK_VERSION && buf[5] == 0 && buf[6] == 0 && buf[7] == 0);
	for (size_t i = RLOG_DISK_HEADER_SIZE; i < RLOG_DISK_BITMAP_OFFSET; i++)
		FUZZ_CHECK(buf[i] == 0);
	for (uint64_t r = 0; r < n; r++)
		FUZZ_CHECK(((buf[RLOG_DISK_BITMAP_OFFSET + r / 8] >> (r % 8)) & 1) ==
			   clean_bit(rl, r));
	if (n % 8)
		FUZZ_CHECK((buf[bytes - 1] >> (n % 8)) == 0);
	size = rlog_disk_size(n, block_size);
	FUZZ_CHECK(size % block_size == 0);
	FUZZ_CHECK(size >= bytes && size < bytes + block_size);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in;
	uint64_t n, nr = 0, ref_nr = 0, pop = 0, hint;
	enum rlog_sync_mode mode;
	uint32_t block_size;
	const uint8_t *img;
	uint8_t *bitmap = NULL, *copy;
	size_t len, bm_bytes = 0;
	struct rlog *rl = NULL;
	int rc, ref;

	fin_init(&in, data, size);
	n = 1 + fin_u16(&in) % MAX_LOG_REGIONS;
	mode = (enum rlog_sync_mode)(fin_u8(&in) % 3);
	block_size = 512u << (fin_u8(&in) % 8);
	img = fin_bytes(&in, in.n, &len);

	/* Decode from a heap copy of exactly @len bytes so ASan sees reads past the image. */
	copy = malloc(len ? len : 1);
	FUZZ_CHECK(copy != NULL);
	if (len)
		memcpy(copy, img, len);
	rc = rlog_disk_decode_header(copy, len, &nr);
	ref = reference_decode(copy, len, &ref_nr);
	FUZZ_CHECK(rlog_disk_strerror(rc) != NULL);
	FUZZ_CHECK(rc == ref);
	if (rc == RLOG_DISK_OK) {
		FUZZ_CHECK(nr == ref_nr);
		bm_bytes = (size_t)((nr + 7) / 8);
		bitmap = malloc(bm_bytes);
		FUZZ_CHECK(bitmap != NULL);
		memcpy(bitmap, copy + RLOG_DISK_BITMAP_OFFSET, bm_bytes);
	} else {
		/* A bad header is a new log: the daemon resumes with no image. */
		nr = 0;
	}
	free(copy);

	FUZZ_CHECK(rlog_create(&rl, n, mode) == 0);
	FUZZ_CHECK(rlog_resume_master(rl, bitmap, nr) == 0);
	hint = n;
	for (uint64_t r = 0; r < n; r++) {
		bool want, c = clean_bit(rl, r);

		if (mode == RLOG_SYNC_NONE)
			want = true;
		else if (mode == RLOG_SYNC_FORCE || r >= nr)
			want = false;
		else
			want = (bitmap[r / 8] >> (r % 8)) & 1;
		FUZZ_CHECK(c == want);
		FUZZ_CHECK(sync_bit(rl, r) == c);
		pop += c;
		if (!c && hint == n)
			hint = r;
	}
	FUZZ_CHECK(rlog_sync_count(rl) == pop);
	FUZZ_CHECK(rlog_clean_count(rl) == pop);
	FUZZ_CHECK(rlog_in_sync_hint(rl) == hint);
	FUZZ_CHECK(rlog_cursor(rl) == 0);
	check_roundtrip(rl, block_size);
	rlog_destroy(rl);
	free(bitmap);
	return 0;
}
