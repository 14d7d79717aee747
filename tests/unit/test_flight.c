/*
 * test_flight.c: the flight recorder ring: order, wraparound, truncation, printing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/flight.h"

static void test_create_bad_capacity(void **state)
{
	struct flight *f = (struct flight *)1;

	assert_int_equal(flight_create(&f, 0), -EINVAL);
	assert_null(f);
	assert_int_equal(flight_create(&f, FLIGHT_MAX_CAPACITY + 1), -EINVAL);
	assert_null(f);
}

static void test_empty(void **state)
{
	struct flight *f;

	assert_int_equal(flight_create(&f, 4), 0);
	assert_int_equal(flight_count(f), 0);
	assert_int_equal(flight_capacity(f), 4);
	assert_int_equal(flight_dropped(f), 0);
	assert_null(flight_get(f, 0));
	flight_destroy(f);
}

static void test_order_before_wrap(void **state)
{
	struct flight *f;
	const struct flight_event *e;

	assert_int_equal(flight_create(&f, 4), 0);
	flight_add(f, 10, FLIGHT_REQUEST, "uuid-a", "mark %d", 1);
	flight_add(f, 20, FLIGHT_MEMBERSHIP, NULL, "join node %u", 2u);
	assert_int_equal(flight_count(f), 2);
	e = flight_get(f, 0);
	assert_non_null(e);
	assert_int_equal(e->seq, 1);
	assert_int_equal(e->time_ms, 10);
	assert_int_equal(e->kind, FLIGHT_REQUEST);
	assert_string_equal(e->uuid, "uuid-a");
	assert_string_equal(e->text, "mark 1");
	assert_false(e->truncated);
	e = flight_get(f, 1);
	assert_int_equal(e->seq, 2);
	assert_string_equal(e->uuid, "");
	assert_string_equal(e->text, "join node 2");
	assert_null(flight_get(f, 2));
	flight_destroy(f);
}

static void test_wraparound(void **state)
{
	struct flight *f;
	size_t i;

	assert_int_equal(flight_create(&f, 3), 0);
	for (i = 1; i <= 10; i++)
		flight_add(f, i * 100, FLIGHT_REPLY, "u", "event %zu", i);
	assert_int_equal(flight_count(f), 3);
	assert_int_equal(flight_dropped(f), 7);
	/* Oldest first: events 8, 9, 10 survive. */
	for (i = 0; i < 3; i++) {
		const struct flight_event *e = flight_get(f, i);
		char want[32];

		assert_non_null(e);
		assert_int_equal(e->seq, 8 + i);
		assert_int_equal(e->time_ms, (8 + i) * 100);
		snprintf(want, sizeof(want), "event %zu", 8 + i);
		assert_string_equal(e->text, want);
	}
	flight_destroy(f);
}

static void test_truncation(void **state)
{
	struct flight *f;
	const struct flight_event *e;
	char longtext[FLIGHT_TEXT_LEN * 2];
	char longuuid[FLIGHT_UUID_LEN + 20];

	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	memset(longuuid, 'u', sizeof(longuuid) - 1);
	longuuid[sizeof(longuuid) - 1] = '\0';
	assert_int_equal(flight_create(&f, 2), 0);
	flight_add(f, 1, FLIGHT_ERROR, NULL, "%s", longtext);
	e = flight_get(f, 0);
	assert_true(e->truncated);
	assert_int_equal(strlen(e->text), FLIGHT_TEXT_LEN - 1);
	assert_memory_equal(e->text, longtext, FLIGHT_TEXT_LEN - 1);

	flight_add(f, 2, FLIGHT_DISK, longuuid, "short");
	e = flight_get(f, 1);
	assert_true(e->truncated);
	assert_int_equal(strlen(e->uuid), FLIGHT_UUID_LEN - 1);
	assert_string_equal(e->text, "short");

	/* A reused slot loses the old truncated flag. */
	flight_add(f, 3, FLIGHT_REQUEST, "ok", "fine");
	e = flight_get(f, 1);
	assert_false(e->truncated);
	assert_string_equal(e->uuid, "ok");
	flight_destroy(f);
}

static void test_kind_str(void **state)
{
	assert_string_equal(flight_kind_str(FLIGHT_REQUEST), "request");
	assert_string_equal(flight_kind_str(FLIGHT_REPLY), "reply");
	assert_string_equal(flight_kind_str(FLIGHT_MEMBERSHIP), "membership");
	assert_string_equal(flight_kind_str(FLIGHT_ERROR), "error");
	assert_string_equal(flight_kind_str(FLIGHT_DISK), "disk");
	assert_string_equal(flight_kind_str((enum flight_kind)99), "?");
}

static void test_print(void **state)
{
	struct flight *f;
	char *buf = NULL;
	size_t len = 0;
	FILE *mf;

	assert_int_equal(flight_create(&f, 2), 0);
	flight_add(f, 1500, FLIGHT_REQUEST, "abc", "one");
	flight_add(f, 2250, FLIGHT_ERROR, NULL, "two");
	flight_add(f, 3001, FLIGHT_DISK, "abc", "three");
	mf = open_memstream(&buf, &len);
	assert_non_null(mf);
	assert_int_equal(flight_print(f, mf), 0);
	fclose(mf);
	assert_string_equal(buf, "# flight recorder: 2 events, 1 dropped\n"
				 "2 2.250 error - two\n"
				 "3 3.001 disk abc three\n");
	free(buf);
	flight_destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_bad_capacity),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_order_before_wrap),
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_kind_str),
		cmocka_unit_test(test_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
