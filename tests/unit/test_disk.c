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

/* ---- sync state files -------------------------------------------------------------------- */

static void test_state_codec(void **state)
{
	uint8_t bits[2] = {0xF5, 0xFF}, out[2], buf[64] = {0}, bad[64] = {0};
	char why[160];
	size_t size = disk_state_size(13);
	int len;

	(void)state;
	assert_int_equal(size, DISK_STATE_HDR + 2 + 4);
	len = disk_state_encode(13, bits, buf, sizeof(buf));
	assert_int_equal(len, (int)size);
	/* padding bits above region 12 are stored as zero; 11 of 13 in sync */
	assert_int_equal(buf[DISK_STATE_HDR + 1], 0x1F);
	assert_int_equal(buf[24], 11);
	memset(out, 0, sizeof(out));
	assert_int_equal(disk_state_decode(buf, size, 13, out, sizeof(out), why, sizeof(why)), 0);
	assert_int_equal(out[0], 0xF5);
	assert_int_equal(out[1], 0x1F);
	assert_non_null(strstr(why, "11 of 13"));
	assert_int_equal(disk_state_encode(13, bits, buf, size - 1), -ENOSPC);
	assert_int_equal(disk_state_encode(0, bits, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(disk_state_encode(13, bits, buf, sizeof(buf)), (int)size);

	/* truncated anywhere: rejected */
	for (size_t n = 0; n < size; n++)
		assert_int_equal(disk_state_decode(buf, n, 13, out, sizeof(out), why, sizeof(why)),
				 -EINVAL);
	assert_non_null(strstr(why, "truncated"));
	/* one flipped bit anywhere: rejected (magic, version, count or checksum) */
	for (size_t n = 0; n < size; n++) {
		memcpy(bad, buf, size);
		bad[n] ^= 0x08;
		assert_int_equal(
			disk_state_decode(bad, size, 13, out, sizeof(out), why, sizeof(why)),
			-EINVAL);
	}
	memcpy(bad, buf, size);
	bad[DISK_STATE_HDR] ^= 0x02;
	assert_int_equal(disk_state_decode(bad, size, 13, out, sizeof(out), why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "bad checksum");
	/* valid, but for another region count: ignored with a message */
	assert_int_equal(disk_state_decode(buf, size, 16, out, sizeof(out), why, sizeof(why)),
			 -ESTALE);
	assert_non_null(strstr(why, "13 regions"));
	/* no room for the bitmap */
	assert_int_equal(disk_state_decode(buf, size, 13, out, 1, why, sizeof(why)), -ENOSPC);
}

static void test_state_path(void **state)
{
	char a[256], b[256];

	(void)state;
	assert_int_equal(disk_state_path("/var/lib/cmlog", "LVM-abc/../x", a, sizeof(a)), 0);
	assert_non_null(strstr(a, "/var/lib/cmlog/sync-LVM-abc_.._x-"));
	assert_null(strchr(a + strlen("/var/lib/cmlog/"), '/'));
	/* distinct uuids that sanitize alike still get distinct files */
	assert_int_equal(disk_state_path("/d", "LVM-abc/../x", b, sizeof(b)), 0);
	assert_int_equal(disk_state_path("/d", "LVM-abc_.._x", a, sizeof(a)), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(disk_state_path("/d", "u", a, 8), -ENAMETOOLONG);
}

static void test_state_writer(void **state)
{
	struct disk_state_writer *w;
	char dir[] = "/tmp/cmlog-state-XXXXXX", path[256], why[160];
	uint8_t bits[1] = {0x0F}, buf[64], out[1];
	int len, err;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(disk_state_path(dir, "uuid-1", path, sizeof(path)), 0);
	assert_int_equal(disk_state_load(path, 8, out, 1, why, sizeof(why)), -ENOENT);
	assert_int_equal(disk_state_writer_create(&w), 0);
	len = disk_state_encode(8, bits, buf, sizeof(buf));
	assert_true(len > 0);
	/* a later write of the same file supersedes an earlier one */
	assert_int_equal(disk_state_submit(w, path, buf, (size_t)len), 0);
	bits[0] = 0xFF;
	len = disk_state_encode(8, bits, buf, sizeof(buf));
	assert_int_equal(disk_state_submit(w, path, buf, (size_t)len), 0);
	disk_state_writer_destroy(w); /* drains the queue */
	assert_int_equal(disk_state_load(path, 8, out, 1, why, sizeof(why)), 0);
	assert_int_equal(out[0], 0xFF);
	assert_int_equal(disk_state_load(path, 9, out, 1, why, sizeof(why)), -ESTALE);

	/* a raw bitmap is encoded by the worker, superseding a queued encoded write */
	assert_int_equal(disk_state_writer_create(&w), 0);
	assert_int_equal(disk_state_submit(w, path, buf, (size_t)len), 0);
	{
		uint8_t *raw = malloc(2);

		assert_non_null(raw);
		raw[0] = 0x5A;
		raw[1] = 0x01;
		assert_int_equal(disk_state_submit_bits(w, path, 9, raw), 0);
	}
	assert_int_equal(disk_state_submit_bits(w, path, 0, malloc(1)), -EINVAL);
	assert_int_equal(disk_state_submit_bits(w, path, 9, NULL), -EINVAL);
	disk_state_writer_destroy(w);
	{
		uint8_t out2[2] = {0, 0};

		assert_int_equal(disk_state_load(path, 9, out2, 2, why, sizeof(why)), 0);
		assert_int_equal(out2[0], 0x5A);
		assert_int_equal(out2[1], 0x01);
		assert_int_equal(disk_state_load(path, 8, out, 1, why, sizeof(why)), -ESTALE);
	}

	/* unlink job; a write into a missing directory is counted as an error */
	assert_int_equal(disk_state_writer_create(&w), 0);
	assert_int_equal(disk_state_submit(w, path, NULL, 0), 0);
	assert_int_equal(disk_state_submit(w, "/nonexistent-cmlog/x", buf, (size_t)len), 0);
	for (int i = 0; i < 200 && access(path, F_OK) == 0; i++)
		usleep(5000);
	for (int i = 0; i < 200 && disk_state_take_errors(w, &err) == 0; i++)
		usleep(5000);
	assert_int_equal(err, -ENOENT);
	disk_state_writer_destroy(w);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(rmdir(dir), 0);
}

struct load_seen {
	int calls;
	int error;
	uint8_t first;
	char why[160];
};

static void on_load(void *ctx, int error, uint8_t *bits, const char *why)
{
	struct load_seen *ls = ctx;

	ls->calls++;
	ls->error = error;
	ls->first = bits ? bits[0] : 0;
	snprintf(ls->why, sizeof(ls->why), "%s", why);
	free(bits);
}

/* Loads run on the writer's thread, after the writes queued before them, and can be cancelled. */
static void test_state_load_async(void **state)
{
	struct disk_state_writer *w;
	char dir[] = "/tmp/cmlog-state-XXXXXX", path[256];
	struct load_seen a = {0}, b = {0}, c = {0};
	uint8_t bits[1] = {0xA5}, buf[64];
	struct pollfd pfd;
	int len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(disk_state_path(dir, "uuid-2", path, sizeof(path)), 0);
	assert_int_equal(disk_state_writer_create(&w), 0);
	/* no file yet: -ENOENT, reported through the callback */
	assert_int_equal(disk_state_load_submit(w, path, 8, on_load, &a), 0);
	/* a write then a load of the same file: the load reads what was written */
	len = disk_state_encode(8, bits, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(disk_state_submit(w, path, buf, (size_t)len), 0);
	assert_int_equal(disk_state_load_submit(w, path, 8, on_load, &b), 0);
	/* a cancelled load never calls back */
	assert_int_equal(disk_state_load_submit(w, path, 8, on_load, &c), 0);
	disk_state_load_cancel(w, &c);
	/* bad arguments */
	assert_int_equal(disk_state_load_submit(w, path, 0, on_load, &c), -EINVAL);
	assert_int_equal(disk_state_load_submit(w, path, 8, NULL, &c), -EINVAL);
	/* completions are signalled on the event fd and run by disk_state_complete */
	for (int i = 0; i < 400 && (a.calls == 0 || b.calls == 0); i++) {
		pfd.fd = disk_state_event_fd(w);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 5) == 1)
			disk_state_complete(w);
	}
	usleep(20000);
	disk_state_complete(w);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.error, -ENOENT);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.error, 0);
	assert_int_equal(b.first, 0xA5);
	assert_non_null(strstr(b.why, "4 of 8 regions in sync"));
	assert_int_equal(c.calls, 0);
	/* a load still queued at destroy is dropped without a callback */
	assert_int_equal(disk_state_load_submit(w, path, 9, on_load, &c), 0);
	disk_state_writer_destroy(w);
	assert_int_equal(c.calls, 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
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
		cmocka_unit_test(test_state_codec),
		cmocka_unit_test(test_state_path),
		cmocka_unit_test(test_state_writer),
		cmocka_unit_test(test_state_load_async),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
