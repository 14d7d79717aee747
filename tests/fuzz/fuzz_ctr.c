/*
 * fuzz_ctr: the constructor-string parser and the status strings (daemon/ctr.h).
 *
 * The CTR payload is a table line an administrator (or LVM) wrote, passed through by the
 * kernel without a terminating NUL (kernel-protocol.md s5). The whole input is the payload,
 * parsed from a heap copy of exactly its length, so reading up to a NUL that is not there
 * is caught. The target checks:
 *   - ctr_parse returns 0 or -EINVAL with a reason that has a text;
 *   - an accepted table is one the kernel can live with: target length > 0, region size a
 *     power of two no larger than the target or 2^31, region_count == ceil(len / size) as
 *     the kernel computes it and within RLOG_MAX_REGIONS, a NUL-terminated device only for
 *     clustered-disk, reconnect exactly when the payload ends in NUL;
 *   - the STATUS_TABLE string, prefixed with the target length, parses back to the same
 *     arguments, and both status strings fit or fail with -ENOSPC at every buffer size
 *     without writing past it;
 *   - ctr_parse_majmin on the input as a C string accepts only what prints back the same.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ctr.h"
#include "tests/fuzz/fuzz_common.h"

static void check_status_sizes(const struct ctr_args *a, size_t full_table, size_t full_info)
{
	for (size_t len = 0; len <= full_table + 1; len++) {
		char *buf = malloc(len ? len : 1);
		int rc;

		FUZZ_CHECK(buf != NULL);
		rc = ctr_status_table(a, buf, len);
		FUZZ_CHECK(rc == (len > full_table ? 0 : -ENOSPC));
		if (rc == 0)
			FUZZ_CHECK(strlen(buf) == full_table);
		free(buf);
	}
	for (size_t len = 0; len <= full_info + 1; len++) {
		char *buf = malloc(len ? len : 1);
		int rc;

		FUZZ_CHECK(buf != NULL);
		rc = ctr_status_info(a, NULL, true, buf, len);
		FUZZ_CHECK(rc == (len > full_info ? 0 : -ENOSPC));
		free(buf);
	}
}

static void check_accepted(const struct ctr_args *a, const uint8_t *payload, size_t len)
{
	static char table[512], info[512], line[1024];
	struct ctr_args again;
	enum ctr_error why = CTR_E_COUNT;
	uint64_t count;
	size_t n;

	FUZZ_CHECK(a->target_len > 0);
	FUZZ_CHECK(a->region_size >= 1 && (a->region_size & (a->region_size - 1)) == 0);
	FUZZ_CHECK(a->region_size <= a->target_len && a->region_size <= (UINT64_C(1) << 31));
	count = a->target_len / a->region_size + (a->target_len % a->region_size != 0);
	FUZZ_CHECK(a->region_count == count);
	FUZZ_CHECK(count >= 1 && count <= RLOG_MAX_REGIONS);
	FUZZ_CHECK(a->sync == RLOG_SYNC_DEFAULT || a->sync == RLOG_SYNC_FORCE ||
		   a->sync == RLOG_SYNC_NONE);
	FUZZ_CHECK(memchr(a->dev, 0, sizeof(a->dev)) != NULL);
	if (a->disk)
		FUZZ_CHECK(a->dev[0] != 0);
	else
		FUZZ_CHECK(a->dev[0] == 0);
	FUZZ_CHECK(a->reconnect == (len > 0 && payload[len - 1] == 0));

	/* The status table is a constructor line: it must read back as the same log. */
	FUZZ_CHECK(ctr_status_table(a, table, sizeof(table)) == 0);
	FUZZ_CHECK(ctr_status_info(a, NULL, false, info, sizeof(info)) == 0);
	n = strlen(table);
	while (n && table[n - 1] == ' ')
		table[--n] = 0;
	snprintf(line, sizeof(line), "%" PRIu64 " %s", a->target_len, table);
	FUZZ_CHECK(ctr_parse(line, strlen(line), &again, &why) == 0);
	FUZZ_CHECK(again.target_len == a->target_len && again.disk == a->disk);
	FUZZ_CHECK(strcmp(again.dev, a->dev) == 0);
	FUZZ_CHECK(again.region_size == a->region_size && again.region_count == a->region_count);
	FUZZ_CHECK(again.sync == a->sync && again.block_on_error == a->block_on_error);
	FUZZ_CHECK(!again.reconnect);

	FUZZ_CHECK(ctr_status_table(a, table, sizeof(table)) == 0);
	ctr_status_info(a, NULL, true, info, sizeof(info));
	check_status_sizes(a, strlen(table), strlen(info));
}

static void check_majmin(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), back[32];
	uint32_t maj = 0, min = 0;
	int rc;

	FUZZ_CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = 0;
	rc = ctr_parse_majmin(s, &maj, &min);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc == 0) {
		uint32_t maj2 = 0, min2 = 0;

		snprintf(back, sizeof(back), "%" PRIu32 ":%" PRIu32, maj, min);
		FUZZ_CHECK(ctr_parse_majmin(back, &maj2, &min2) == 0);
		FUZZ_CHECK(maj2 == maj && min2 == min);
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctr_args args;
	enum ctr_error why = CTR_E_COUNT;
	uint8_t *copy = malloc(size ? size : 1);
	int rc;

	FUZZ_CHECK(copy != NULL);
	if (size)
		memcpy(copy, data, size);
	rc = ctr_parse(copy, size, &args, &why);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	FUZZ_CHECK((rc == 0) == (why == CTR_OK));
	FUZZ_CHECK(why >= CTR_OK && why < CTR_E_COUNT);
	FUZZ_CHECK(ctr_strerror(why) != NULL);
	if (rc == 0)
		check_accepted(&args, copy, size);
	free(copy);
	if (size < 64)
		check_majmin(data, size);
	return 0;
}
