/*
 * Unit tests for daemon/disk.c: the log device worker against temporary files.
 *
 * pwrite, pread and fdatasync are wrapped (-Wl,--wrap) so the error paths (failed read,
 * short write, failed sync) are tested without a failing device.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "log/rlog.h"
#include "daemon/disk.h"

/* ---- wrapped syscalls ------------------------------------------------------------------- */

ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t __real_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off);
int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);

enum fault { FAULT_NONE, FAULT_EIO, FAULT_SHORT };
static volatile enum fault pwrite_fault, pread_fault, sync_fault;
static volatile int sync_calls;

ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (pwrite_fault == FAULT_EIO) {
		errno = EIO;
		return -1;
	}
	if (pwrite_fault == FAULT_SHORT && n > 512)
		n -= 512;
	return __real_pwrite(fd, buf, n, off);
}

ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off)
{
	if (pread_fault == FAULT_EIO) {
		errno = EIO;
		return -1;
	}
	return __real_pread(fd, buf, n, off);
}

int __wrap_fdatasync(int fd)
{
	sync_calls++;
	if (sync_fault == FAULT_EIO) {
		errno = EIO;
		return -1;
	}
	return __real_fdatasync(fd);
}

/* ---- helpers ------------------------------------------------------------------------------ */

struct fixture {
	char path[64];
	struct disk *d;
	/* results */
	int n_done;
	int error;
	uint64_t cookie;
	int decode_error;
	uint64_t nr_regions;
	uint8_t clean[64];
	size_t clean_len;
	bool had_clean;
};

static int make_file(char *path, size_t cap, off_t size)
{
	int fd;

	snprintf(path, cap, "/tmp/cmlog-test-disk-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, size) != 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(make_file(f->path, sizeof(f->path), 64 * 1024), 0);
	pwrite_fault = pread_fault = sync_fault = FAULT_NONE;
	sync_calls = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->d)
		disk_close(f->d);
	unlink(f->path);
	free(f);
	return 0;
}

static void on_read(void *ctx, const struct disk_read_result *r)
{
	struct fixture *f = ctx;

	f->n_done++;
	f->error = r->error;
	f->decode_error = r->decode_error;
	f->nr_regions = r->nr_regions;
	f->had_clean = r->clean != NULL;
	f->clean_len = r->clean_len;
	if (r->clean)
		memcpy(f->clean, r->clean,
		       r->clean_len < sizeof(f->clean) ? r->clean_len : sizeof(f->clean));
}

static void on_write(void *ctx, uint64_t cookie, int error)
{
	struct fixture *f = ctx;

	f->n_done++;
	f->error = error;
	f->cookie = cookie;
}

/* Wait (bounded) until @n callbacks ran, driving completions like the loop does. */
static void wait_done(struct fixture *f, int n)
{
	int i;

	for (i = 0; i < 500 && f->n_done < n; i++) {
		struct pollfd p = {.fd = disk_event_fd(f->d), .events = POLLIN};

		if (poll(&p, 1, 10) > 0)
			disk_complete(f->d);
	}
	assert_int_equal(f->n_done, n);
	assert_int_equal(disk_pending(f->d), 0);
}

/* A kernel-format header + bitmap image for @nr regions with byte 0 of the bitmap = @b0. */
static void build_image(uint8_t *img, size_t len, uint64_t nr, uint8_t b0)
{
	memset(img, 0, len);
	img[0] = 0x72; /* magic 0x4D695272 little-endian: "rRiM" */
	img[1] = 0x52;
	img[2] = 0x69;
	img[3] = 0x4D;
	img[4] = 2; /* version */
	for (int i = 0; i < 8; i++)
		img[8 + i] = (uint8_t)(nr >> (8 * i));
	img[RLOG_DISK_BITMAP_OFFSET] = b0;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_open_file(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(disk_open(&f->d, f->path, 100), 0);
	assert_int_equal(disk_block_size(f->d), 512);
	assert_int_equal(disk_size(f->d), 64 * 1024);
	assert_string_equal(disk_name(f->d), f->path);
	assert_true(disk_event_fd(f->d) >= 0);
}

static void test_open_too_small(void **state)
{
	struct fixture *f = *state;
	/* 64 KiB holds 1024 + (64K-1K)*8 regions at most: ask for more. */
	uint64_t too_many = (uint64_t)(64 * 1024 - 1024) * 8 + 4096 * 8;

	assert_int_equal(disk_open(&f->d, f->path, too_many), -ENOSPC);
	assert_null(f->d);
}

static void test_open_bad_specs(void **state)
{
	struct fixture *f = *state;
	char p[256];

	assert_int_equal(disk_open(&f->d, "/nonexistent/cmlog", 10), -ENOENT);
	assert_int_equal(disk_open(&f->d, "/dev/null", 10), -ENOTBLK);
	assert_int_equal(disk_open(&f->d, "", 10), -EINVAL);
	assert_int_equal(disk_open(&f->d, f->path, 0), -EINVAL);
	assert_int_equal(disk_resolve_devno("abc", p, sizeof(p)), -EINVAL);
	assert_int_equal(disk_resolve_devno("7:", p, sizeof(p)), -EINVAL);
	assert_int_equal(disk_resolve_devno("7:1x", p, sizeof(p)), -EINVAL);
	assert_int_equal(disk_resolve_devno("4095:1048575", p, sizeof(p)), -ENOENT);
	assert_null(f->d);
}

static void test_resolve_devno(void **state)
{
	struct stat st, st2;
	char spec[32], p[256];

	(void)state;
	/* Any block device of this machine will do; loop0 is the usual one. */
	if (stat("/dev/loop0", &st) != 0 || !S_ISBLK(st.st_mode))
		skip();
	snprintf(spec, sizeof(spec), "%u:%u", major(st.st_rdev), minor(st.st_rdev));
	assert_int_equal(disk_resolve_devno(spec, p, sizeof(p)), 0);
	assert_int_equal(stat(p, &st2), 0);
	assert_true(S_ISBLK(st2.st_mode));
	assert_true(st2.st_rdev == st.st_rdev);
}

static void test_read_fresh(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(disk_open(&f->d, f->path, 100), 0);
	assert_int_equal(disk_read_log(f->d, 100, on_read, f), 0);
	wait_done(f, 1);
	assert_int_equal(f->error, 0);
	assert_int_equal(f->decode_error, RLOG_DISK_EMAGIC);
	assert_false(f->had_clean);
}

static void test_write_then_read(void **state)
{
	struct fixture *f = *state;
	uint8_t img[1536], raw[1536];
	int fd;

	assert_int_equal(disk_open(&f->d, f->path, 100), 0);
	build_image(img, sizeof(img), 100, 0xA5);
	img[RLOG_DISK_BITMAP_OFFSET + 12] = 0x0F; /* regions 96..99 clean */
	assert_int_equal(disk_write(f->d, 42, img, 0, sizeof(img), on_write, f), 0);
	/* the buffer is copied: scribbling on it now must not change what is written */
	memset(img, 0xEE, sizeof(img));
	wait_done(f, 1);
	assert_int_equal(f->error, 0);
	assert_int_equal(f->cookie, 42);
	assert_true(sync_calls >= 1);

	/* the bytes on the file are the kernel format */
	fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(__real_pread(fd, raw, sizeof(raw), 0), sizeof(raw));
	close(fd);
	assert_int_equal(raw[0], 0x72);
	assert_int_equal(raw[3], 0x4D);
	assert_int_equal(raw[4], 2);
	assert_int_equal(raw[8], 100);
	assert_int_equal(raw[RLOG_DISK_BITMAP_OFFSET], 0xA5);

	assert_int_equal(disk_read_log(f->d, 100, on_read, f), 0);
	wait_done(f, 2);
	assert_int_equal(f->error, 0);
	assert_int_equal(f->decode_error, RLOG_DISK_OK);
	assert_int_equal(f->nr_regions, 100);
	assert_true(f->had_clean);
	assert_true(f->clean_len >= 13);
	assert_int_equal(f->clean[0], 0xA5);
	assert_int_equal(f->clean[12], 0x0F);
}

static void test_bad_version_is_fresh(void **state)
{
	struct fixture *f = *state;
	uint8_t img[1536];

	assert_int_equal(disk_open(&f->d, f->path, 100), 0);
	build_image(img, sizeof(img), 100, 0xFF);
	img[4] = 9;
	assert_int_equal(disk_write(f->d, 1, img, 0, sizeof(img), on_write, f), 0);
	wait_done(f, 1);
	assert_int_equal(disk_read_log(f->d, 100, on_read, f), 0);
	wait_done(f, 2);
	assert_int_equal(f->error, 0);
	assert_int_equal(f->decode_error, RLOG_DISK_EVERSION);
	assert_false(f->had_clean);
}

static void test_read_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(disk_open(&f->d, f->path, 100), 0);
	pread_fault = FAULT_EIO;
	assert_int_equal(disk_read_log(f->d, 100, on_read, f), 0);
	wait_done(f, 1);
	assert_int_equal(f->error, -EIO);
	assert_false(f->had_clean);
}

static void test_write_errors(void **state)
{
	struct fixture *f = *state;
	uint8_t img[1536];

	assert_int_equal(disk_open(&f->d, f->path, 100), 0);
	build_image(img, sizeof(img), 100, 0);

	pwrite_fault = FAULT_EIO;
	assert_int_equal(disk_write(f->d, 1, img, 0, sizeof(img), on_write, f), 0);
	wait_done(f, 1);
	assert_int_equal(f->error, -EIO);

	pwrite_fault = FAULT_SHORT;
	assert_int_equal(disk_write(f->d, 2, img, 0, sizeof(img), on_write, f), 0);
	wait_done(f, 2);
	assert_int_equal(f->error, -EIO);
	assert_int_equal(f->cookie, 2);

	pwrite_fault = FAULT_NONE;
	sync_fault = FAULT_EIO;
	assert_int_equal(disk_write(f->d, 3, img, 0, sizeof(img), on_write, f), 0);
	wait_done(f, 3);
	assert_int_equal(f->error, -EIO);

	sync_fault = FAULT_NONE;
	assert_int_equal(disk_write(f->d, 4, img, 0, sizeof(img), on_write, f), 0);
	wait_done(f, 4);
	assert_int_equal(f->error, 0);
}

static void test_write_bad_args(void **state)
{
	struct fixture *f = *state;
	uint8_t img[1536] = {0};

	assert_int_equal(disk_open(&f->d, f->path, 100), 0);
	assert_int_equal(disk_write(f->d, 1, img, 100, 512, on_write, f), -EINVAL);
	assert_int_equal(disk_write(f->d, 1, img, 0, 100, on_write, f), -EINVAL);
	assert_int_equal(disk_write(f->d, 1, img, 0, 0, on_write, f), -EINVAL);
	assert_int_equal(disk_write(f->d, 1, img, 64 * 1024, 512, on_write, f), -ENOSPC);
	assert_int_equal(disk_pending(f->d), 0);
}

static void test_order_and_close_with_queue(void **state)
{
	struct fixture *f = *state;
	uint8_t img[512];
	int i;

	assert_int_equal(disk_open(&f->d, f->path, 100), 0);
	memset(img, 0, sizeof(img));
	/* many writes to the same block: the last queued must be what is on disk */
	for (i = 0; i < 20; i++) {
		img[0] = (uint8_t)i;
		assert_int_equal(disk_write(f->d, (uint64_t)i, img, 0, sizeof(img), on_write, f),
				 0);
	}
	wait_done(f, 20);
	assert_int_equal(f->cookie, 19);
	assert_int_equal(disk_read_log(f->d, 100, on_read, f), 0);
	wait_done(f, 21);
	assert_int_equal(f->decode_error, RLOG_DISK_EMAGIC); /* byte 0 = 19, not the magic */
	/* close with requests still queued: no callback, no leak (valgrind/asan) */
	for (i = 0; i < 5; i++)
		assert_int_equal(disk_write(f->d, 100, img, 0, sizeof(img), on_write, f), 0);
	disk_close(f->d);
	f->d = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_too_small, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_bad_specs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_devno, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_then_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_version_is_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_and_close_with_queue, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
