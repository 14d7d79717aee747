/*
 * Unit tests of daemon/ctr: a table of good and bad constructor strings (every error code),
 * the reconnect form with its trailing NUL, region counting as the kernel does it, and the
 * STATUS_TABLE / STATUS_INFO strings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "daemon/ctr.h"

struct good {
	const char *s;
	uint64_t len;
	bool disk;
	const char *dev;
	uint64_t rs;
	enum rlog_sync_mode sync;
	bool boe;
	uint64_t count;
};

static void test_good(void **state)
{
	static const struct good g[] = {
		{"2097152 clustered-disk 253:3 1024", 2097152, true, "253:3", 1024,
		 RLOG_SYNC_DEFAULT, false, 2048},
		{"2097152 clustered-core 1024 nosync", 2097152, false, "", 1024, RLOG_SYNC_NONE,
		 false, 2048},
		{"1000 clustered-core 512 sync block_on_error", 1000, false, "", 512,
		 RLOG_SYNC_FORCE, true, 2},
		{"1000 clustered-core 512 block_on_error nosync", 1000, false, "", 512,
		 RLOG_SYNC_NONE, true, 2},
		{"1025 clustered-disk /dev/mapper/vg-lv_mlog 1024 block_on_error", 1025, true,
		 "/dev/mapper/vg-lv_mlog", 1024, RLOG_SYNC_DEFAULT, true, 2},
		{"  8   clustered-core   8  ", 8, false, "", 8, RLOG_SYNC_DEFAULT, false, 1},
		{"7 clustered-core 1", 7, false, "", 1, RLOG_SYNC_DEFAULT, false, 7},
		{"131072 clustered-core 1024", 131072, false, "", 1024, RLOG_SYNC_DEFAULT, false,
		 128},
		{"131073 clustered-core 1024", 131073, false, "", 1024, RLOG_SYNC_DEFAULT, false,
		 129},
		{"4294967296 clustered-core 2", 4294967296ull, false, "", 2, RLOG_SYNC_DEFAULT,
		 false, 1ull << 31}, /* exactly RLOG_MAX_REGIONS */
	};
	size_t i;

	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		struct ctr_args a;
		enum ctr_error why = CTR_E_COUNT;

		if (ctr_parse(g[i].s, strlen(g[i].s), &a, &why) != 0)
			fail_msg("'%s': %s", g[i].s, ctr_strerror(why));
		assert_int_equal(why, CTR_OK);
		assert_true(a.target_len == g[i].len);
		assert_int_equal(a.disk, g[i].disk);
		assert_string_equal(a.dev, g[i].dev);
		assert_true(a.region_size == g[i].rs);
		assert_int_equal(a.sync, g[i].sync);
		assert_int_equal(a.block_on_error, g[i].boe);
		assert_true(a.region_count == g[i].count);
		assert_false(a.reconnect);
	}
	(void)state;
}

static void test_reconnect(void **state)
{
	const char s[] = "2097152 clustered-disk 253:3 1024 nosync"; /* sizeof includes NUL */
	struct ctr_args a;

	assert_int_equal(ctr_parse(s, sizeof(s), &a, NULL), 0);
	assert_true(a.reconnect);
	assert_true(a.disk);
	assert_int_equal(a.sync, RLOG_SYNC_NONE);
	assert_true(a.region_count == 2048);
	/* Not NUL-terminated: the payload length decides, bytes after it are not read. */
	assert_int_equal(ctr_parse(s, 33, &a, NULL), 0);
	assert_false(a.reconnect);
	assert_int_equal(a.sync, RLOG_SYNC_DEFAULT);
	(void)state;
}

struct bad {
	const char *s;
	size_t len; /* 0: strlen */
	enum ctr_error e;
};

static void test_bad(void **state)
{
	static const struct bad b[] = {
		{"", 0, CTR_E_EMPTY},
		{"   ", 0, CTR_E_EMPTY},
		{"\0", 1, CTR_E_EMPTY}, /* reconnect form of an empty string */
		{"100 clustered-core\0 8", 21, CTR_E_NUL},
		{"abc clustered-core 8", 0, CTR_E_TARGET_LEN},
		{"0 clustered-core 8", 0, CTR_E_TARGET_LEN},
		{"-5 clustered-core 8", 0, CTR_E_TARGET_LEN},
		{"+5 clustered-core 8", 0, CTR_E_TARGET_LEN},
		{"0x100 clustered-core 8", 0, CTR_E_TARGET_LEN},
		{"18446744073709551616 clustered-core 8", 0, CTR_E_TARGET_LEN},
		{"100", 0, CTR_E_TYPE},
		{"100 core 8", 0, CTR_E_TYPE},
		{"100 clustered-Core 8", 0, CTR_E_TYPE},
		{"100 clustered-disk", 0, CTR_E_DEV},
		{"100 clustered-disk 8", 0, CTR_E_DEV}, /* "8" is neither a path nor maj:min */
		{"100 clustered-disk 253:3", 0, CTR_E_REGION_SIZE},
		{"100 clustered-disk sda 8", 0, CTR_E_DEV},
		{"100 clustered-disk 253: 8", 0, CTR_E_DEV},
		{"100 clustered-disk :3 8", 0, CTR_E_DEV},
		{"100 clustered-disk 253:3x 8", 0, CTR_E_DEV},
		{"100 clustered-disk 4294967296:1 8", 0, CTR_E_DEV},
		{"100 clustered-core", 0, CTR_E_REGION_SIZE},
		{"100 clustered-core x8", 0, CTR_E_REGION_SIZE},
		{"100 clustered-core 8k", 0, CTR_E_REGION_SIZE},
		{"100 clustered-core nosync", 0, CTR_E_REGION_SIZE},
		{"100 clustered-core 0", 0, CTR_E_REGION_POW2},
		{"100 clustered-core 12", 0, CTR_E_REGION_POW2},
		{"100 clustered-core 3", 0, CTR_E_REGION_POW2},
		{"100 clustered-core 128", 0, CTR_E_REGION_RANGE},
		{"18446744073709551615 clustered-core 4294967296", 0, CTR_E_REGION_RANGE},
		{"18446744073709551615 clustered-core 2147483648 nosync", 0,
		 CTR_E_TOO_MANY_REGIONS},
		{"4294967296 clustered-core 1", 0, CTR_E_TOO_MANY_REGIONS},
		{"100 clustered-core 8 fast", 0, CTR_E_UNKNOWN_ARG},
		{"100 clustered-core 8 Sync", 0, CTR_E_UNKNOWN_ARG},
		{"100 clustered-core 8 8", 0, CTR_E_UNKNOWN_ARG},
		{"131072 clustered-core 1 1024", 0, CTR_E_UNKNOWN_ARG}, /* an arg count: not LVM */
		{"100 clustered-core 8 sync nosync block_on_error x y z", 0, CTR_E_UNKNOWN_ARG},
		{"100 clustered-core 8 sync sync", 0, CTR_E_DUPLICATE_ARG},
		{"100 clustered-core 8 nosync nosync", 0, CTR_E_DUPLICATE_ARG},
		{"100 clustered-core 8 block_on_error block_on_error", 0, CTR_E_DUPLICATE_ARG},
		{"100 clustered-core 8 sync nosync", 0, CTR_E_SYNC_CONFLICT},
		{"100 clustered-core 8 nosync block_on_error sync", 0, CTR_E_SYNC_CONFLICT},
		{"100\tclustered-core 8", 0, CTR_E_TARGET_LEN}, /* only spaces separate */
	};
	char longdev[200];
	size_t i;

	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		struct ctr_args a;
		enum ctr_error why = CTR_OK;
		size_t len = b[i].len ? b[i].len : strlen(b[i].s);

		assert_int_equal(ctr_parse(b[i].s, len, &a, &why), -EINVAL);
		if (why != b[i].e)
			fail_msg("'%s': got '%s', want '%s'", b[i].s, ctr_strerror(why),
				 ctr_strerror(b[i].e));
	}

	/* device path of 127 characters fits (128 with NUL), 128 does not */
	memset(longdev, 0, sizeof(longdev));
	strcpy(longdev, "100 clustered-disk /");
	memset(longdev + strlen(longdev), 'd', 126);
	strcat(longdev, " 8");
	{
		struct ctr_args a;
		enum ctr_error why;

		assert_int_equal(ctr_parse(longdev, strlen(longdev), &a, &why), 0);
		assert_int_equal(strlen(a.dev), 127);
		memset(longdev, 0, sizeof(longdev));
		strcpy(longdev, "100 clustered-disk /");
		memset(longdev + strlen(longdev), 'd', 127);
		strcat(longdev, " 8");
		assert_int_equal(ctr_parse(longdev, strlen(longdev), &a, &why), -EINVAL);
		assert_int_equal(why, CTR_E_DEV);
	}
	assert_int_equal(ctr_parse(NULL, 0, &(struct ctr_args){0}, NULL), -EINVAL);
	assert_string_equal(ctr_strerror(CTR_E_COUNT), "unknown constructor error");
	(void)state;
}

static void test_majmin(void **state)
{
	uint32_t a, b;

	assert_int_equal(ctr_parse_majmin("253:3", &a, &b), 0);
	assert_int_equal(a, 253);
	assert_int_equal(b, 3);
	assert_int_equal(ctr_parse_majmin("4294967295:0", &a, &b), 0);
	assert_int_equal(a, UINT32_MAX);
	assert_int_equal(ctr_parse_majmin("253", &a, &b), -EINVAL);
	assert_int_equal(ctr_parse_majmin("253:3:1", &a, &b), -EINVAL);
	assert_int_equal(ctr_parse_majmin("", &a, &b), -EINVAL);
	assert_int_equal(ctr_parse_majmin(NULL, &a, &b), -EINVAL);
	(void)state;
}

static void table_of(const char *ctr, const char *want)
{
	struct ctr_args a;
	char buf[256];

	assert_int_equal(ctr_parse(ctr, strlen(ctr), &a, NULL), 0);
	assert_int_equal(ctr_status_table(&a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void test_status(void **state)
{
	struct ctr_args a;
	char buf[64];
	const char *s;

	table_of("100 clustered-core 8", "clustered-core 8 ");
	table_of("100 clustered-core 8 nosync", "clustered-core 8 nosync ");
	table_of("100 clustered-core 8 block_on_error sync",
		 "clustered-core 8 sync block_on_error ");
	table_of("100 clustered-disk 253:3 64 nosync block_on_error",
		 "clustered-disk 253:3 64 nosync block_on_error ");
	table_of("100 clustered-disk /dev/x 64", "clustered-disk /dev/x 64 ");

	s = "100 clustered-core 8";
	assert_int_equal(ctr_parse(s, strlen(s), &a, NULL), 0);
	assert_int_equal(ctr_status_info(&a, NULL, false, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1 clustered-core");
	s = "100 clustered-disk 253:3 8";
	assert_int_equal(ctr_parse(s, strlen(s), &a, NULL), 0);
	assert_int_equal(ctr_status_info(&a, NULL, false, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "3 clustered-disk 253:3 A");
	assert_int_equal(ctr_status_info(&a, "8:16", true, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "3 clustered-disk 8:16 D");
	/* too small buffers */
	assert_int_equal(ctr_status_info(&a, NULL, false, buf, 10), -ENOSPC);
	assert_int_equal(ctr_status_table(&a, buf, 10), -ENOSPC);
	assert_int_equal(ctr_status_table(&a, buf, 0), -ENOSPC);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),   cmocka_unit_test(test_reconnect),
		cmocka_unit_test(test_bad),    cmocka_unit_test(test_majmin),
		cmocka_unit_test(test_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
