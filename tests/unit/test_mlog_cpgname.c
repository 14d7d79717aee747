/*
 * Unit tests for cmcpg_group_name (cluster/cpg.c): the CPG group name of a log uuid.
 * Every node must derive the same name, it must fit CPG's 128 bytes with its NUL (the
 * strlen+1 convention), and distinct uuids must give distinct names.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/cpg.h"

static void test_short_uuid_verbatim(void **state)
{
	char name[128];
	size_t n = cmcpg_group_name("LVM-abc", name, sizeof(name));

	assert_int_equal(n, strlen("cmlog:LVM-abc") + 1);
	assert_string_equal(name, "cmlog:LVM-abc");
	assert_int_equal(name[n - 1], '\0');
}

static void test_longest_verbatim(void **state)
{
	char uuid[129], name[128];
	size_t n;

	/* 6 + 121 + NUL = 128: the longest uuid carried verbatim */
	memset(uuid, 'a', 121);
	uuid[121] = '\0';
	n = cmcpg_group_name(uuid, name, sizeof(name));
	assert_int_equal(n, 128);
	assert_memory_equal(name, "cmlog:", 6);
	assert_memory_equal(name + 6, uuid, 121);
}

static void test_long_uuid_hashed(void **state)
{
	char a[129], b[129], na[128], nb[128];
	size_t la, lb;

	memset(a, 'x', 128);
	a[128] = '\0';
	memcpy(b, a, sizeof(a));
	b[127] = 'y'; /* differs only after the kept prefix */
	la = cmcpg_group_name(a, na, sizeof(na));
	lb = cmcpg_group_name(b, nb, sizeof(nb));
	assert_int_equal(la, 128);
	assert_int_equal(lb, 128);
	assert_memory_equal(na, "cmlog#", 6);
	assert_int_equal(na[22], ':');
	assert_memory_equal(na + 23, a, 104);
	/* the hash of the full uuid keeps them apart */
	assert_memory_not_equal(na, nb, 128);
	/* deterministic: the same uuid always gives the same name */
	assert_int_equal(cmcpg_group_name(a, nb, sizeof(nb)), 128);
	assert_memory_equal(na, nb, 128);
}

static void test_forms_never_collide(void **state)
{
	char uuid[129], name[128];

	/* a short uuid that looks like a hashed name still gets the verbatim prefix */
	snprintf(uuid, sizeof(uuid), "#0123456789abcdef:x");
	cmcpg_group_name(uuid, name, sizeof(name));
	assert_memory_equal(name, "cmlog:", 6);
}

/* The daemon-wide group has a name of its own that no log uuid maps to. */
static void test_daemon_group_reserved(void **state)
{
	char name[128], other[128];
	size_t n = cmcpg_group_name(NULL, name, sizeof(name));

	assert_int_equal(n, strlen(CMCPG_DAEMON_GROUP) + 1);
	assert_string_equal(name, CMCPG_DAEMON_GROUP);
	/* A log whose uuid is "daemon" (or the daemon group's own text) gets a log name. */
	assert_int_not_equal(cmcpg_group_name("daemon", other, sizeof(other)), 0);
	assert_string_not_equal(other, name);
	assert_int_not_equal(cmcpg_group_name(CMCPG_DAEMON_GROUP, other, sizeof(other)), 0);
	assert_string_not_equal(other, name);
}

static void test_small_buffer(void **state)
{
	char name[64];

	assert_int_equal(cmcpg_group_name("abc", name, sizeof(name)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_uuid_verbatim),
		cmocka_unit_test(test_longest_verbatim),
		cmocka_unit_test(test_long_uuid_hashed),
		cmocka_unit_test(test_forms_never_collide),
		cmocka_unit_test(test_daemon_group_reserved),
		cmocka_unit_test(test_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
