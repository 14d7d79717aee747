/*
 * test_logging: cmlogd's blackbox comes up even when a dead process with the same pid left
 * its libqb ring files behind (pid reuse after SIGKILL), and a ring that cannot be created at
 * all is a warning, not a daemon that stays down.
 *
 * The test process plays the daemon: the ring file names carry getpid(), which is ours.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/logging.h"

#define N_RING LOGGING_BLACKBOX_RING_FILES

/* Index 0 is the /dev/shm header, 2 the /tmp header: test_stale_ring_replaced checks that
 * libqb really creates its ring under the first name. */
static void ring_path(char *buf, size_t cap, size_t i, const char *name)
{
	assert_true(logging_blackbox_ring_path(buf, cap, i, name, (long)getpid()));
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* What a SIGKILLed daemon with our pid leaves: all four files, with junk in them. */
static void plant_stale_files(const char *name)
{
	char path[256];
	size_t i;

	for (i = 0; i < N_RING; i++) {
		FILE *f;

		ring_path(path, sizeof(path), i, name);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs("stale ring of a dead process\n", f);
		fclose(f);
	}
}

static bool blackbox_on(void)
{
	return qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_STATE_GET, 0) == QB_LOG_STATE_ENABLED;
}

static void test_remove_stale_counts(void **state)
{
	char path[256];
	size_t i;

	(void)state;
	assert_false(logging_blackbox_ring_path(path, sizeof(path), N_RING, "x", 1));
	assert_false(logging_blackbox_ring_path(path, 16, 0, "cmlogtest-short", 1));
	assert_true(logging_blackbox_ring_path(path, sizeof(path), 1, "x", 42));
	assert_string_equal(path, "/dev/shm/qb-x-42-blackbox-data");
	assert_int_equal(logging_blackbox_remove_stale("cmlogtest-none", (long)getpid()), 0);
	plant_stale_files("cmlogtest-count");
	assert_int_equal(logging_blackbox_remove_stale("cmlogtest-count", (long)getpid()), 4);
	for (i = 0; i < N_RING; i++) {
		ring_path(path, sizeof(path), i, "cmlogtest-count");
		assert_false(exists(path));
	}
	/* Another pid's files are not ours to touch. */
	plant_stale_files("cmlogtest-other");
	assert_int_equal(logging_blackbox_remove_stale("cmlogtest-other", (long)getpid() + 1), 0);
	assert_int_equal(logging_blackbox_remove_stale("cmlogtest-other", (long)getpid()), 4);
}

/* The CI failure: both /dev/shm and /tmp held a dead cmlogd's ring for the new daemon's pid. */
static void test_stale_ring_replaced(void **state)
{
	char path[256], dump[] = "/tmp/cmlogtest-dump-XXXXXX";
	struct stat st;
	int fd;

	(void)state;
	plant_stale_files("cmlogtest-stale");
	logging_init("cmlogtest-stale", true, false);
	assert_true(blackbox_on());
	ring_path(path, sizeof(path), 0, "cmlogtest-stale");
	assert_true(exists(path)); /* our own ring now, in /dev/shm */
	ring_path(path, sizeof(path), 2, "cmlogtest-stale");
	assert_false(exists(path)); /* the dead one's fallback copy is gone */

	/* What a blackbox_size from the configuration does: off (libqb removes our ring), on. */
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_FALSE);
	ring_path(path, sizeof(path), 0, "cmlogtest-stale");
	assert_false(exists(path));
	assert_true(logging_blackbox_enable("cmlogtest-stale"));
	assert_true(exists(path));

	log_debug("a debug record only the blackbox keeps");
	fd = mkstemp(dump);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(logging_blackbox_dump(dump), 0);
	assert_int_equal(stat(dump, &st), 0);
	assert_true(st.st_size > 0);
	unlink(dump);

	logging_fini();
	ring_path(path, sizeof(path), 0, "cmlogtest-stale");
	assert_false(exists(path)); /* a clean exit leaves nothing */
}

/* Ring names taken by something we may not remove (a directory): run on without it. */
static void test_ring_impossible(void **state)
{
	char path[256], inner[320];
	size_t i;

	(void)state;
	for (i = 0; i < N_RING; i += 2) {
		FILE *f;

		ring_path(path, sizeof(path), i, "cmlogtest-dir");
		assert_int_equal(mkdir(path, 0700), 0);
		snprintf(inner, sizeof(inner), "%s/keep", path);
		f = fopen(inner, "w");
		assert_non_null(f);
		fclose(f);
	}
	logging_init("cmlogtest-dir", true, false);
	assert_false(blackbox_on());
	log_info("logging still works without the blackbox");
	logging_fini();
	for (i = 0; i < N_RING; i += 2) {
		ring_path(path, sizeof(path), i, "cmlogtest-dir");
		snprintf(inner, sizeof(inner), "%s/keep", path);
		assert_int_equal(unlink(inner), 0);
		assert_int_equal(rmdir(path), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remove_stale_counts),
		cmocka_unit_test(test_stale_ring_replaced),
		cmocka_unit_test(test_ring_impossible),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
