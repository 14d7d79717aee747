/*
 * test_config.c: the strict cmlogd.conf parser, table-driven: good files give the expected
 * settings, bad files give an error naming file:line and the problem and change nothing.
 * Also parses the shipped example conf/cmlogd.conf.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/conf.h"

struct bad_case {
	const char *text;
	const char *msg; /* expected error, after "t.conf:" */
};

static const struct bad_case bad[] = {
	{"bogus = 1\n", "1: unknown key 'bogus'"},
	{"# c\n\nlog_level = loud\n", "3: bad value 'loud' for log_level"},
	{"log_level = info\nlog_level = debug\n", "2: duplicate key 'log_level'"},
	{"log_level\n", "1: expected 'key = value'"},
	{" = info\n", "1: missing key before '='"},
	{"log_level =   \n", "1: missing value for 'log_level'"},
	{"log_level = info # inline\n", "1: bad value 'info # inline' for log_level"},
	{"userspace_peer = true\n", "1: bad value 'true' for userspace_peer (expected yes or no)"},
	{"rcvbuf_bytes = 10\n", "1: bad value '10' for rcvbuf_bytes (expected 65536..67108864)"},
	{"rcvbuf_bytes = -1\n", "1: bad value '-1' for rcvbuf_bytes"},
	{"blackbox_size = 100\n",
	 "1: bad value '100' for blackbox_size (expected 0 or 4096..67108864)"},
	{"flight_events = 8\n", "1: bad value '8' for flight_events"},
	{"flight_events = 99999999999\n", "1: bad value '99999999999' for flight_events"},
	{"flight_events = 12abc\n", "1: bad value '12abc' for flight_events"},
	{"rcvbuf_bytes = 0x10000\n", "1: bad value '0x10000' for rcvbuf_bytes"},
	{"cpg_retry_ms = 100\n", "1: unknown key 'cpg_retry_ms'"},
	{"log_target = syslog\n", "1: unknown key 'log_target'"},
	{"pidfile = run/x.pid\n",
	 "1: bad value 'run/x.pid' for pidfile (expected an absolute file path)"},
	{"pidfile = /run/a b\n", "1: bad value '/run/a b' for pidfile"},
	{"ctl_service = a/b\n", "1: bad value 'a/b' for ctl_service"},
	{"ctl_service = -x\n", "1: bad value '-x' for ctl_service"},
	{"socket_group = a b\n", "1: bad value 'a b' for socket_group"},
	{"LOG_LEVEL = info\n", "1: unknown key 'LOG_LEVEL'"},
};

static void test_defaults(void **state)
{
	struct conf c;

	conf_defaults(&c);
	assert_int_equal(c.log_level, CONF_LOG_INFO);
	assert_string_equal(c.ctl_service, "cmlogd");
	assert_string_equal(c.socket_group, "");
	assert_false(c.userspace_peer);
	assert_int_equal(c.rcvbuf_bytes, 2097152);
	assert_string_equal(c.pidfile, "/run/cmlogd.pid");
	assert_int_equal(c.blackbox_size, 1048576);
	assert_int_equal(c.flight_events, 1024);
}

static void test_good(void **state)
{
	static const char text[] = "# a comment\n"
				   "\n"
				   "   # indented comment\n"
				   "log_level=debug\n"
				   "\tctl_service   =  cm-test.1  \r\n"
				   "socket_group = cmlog_ro\n"
				   "userspace_peer = yes\n"
				   "rcvbuf_bytes = 65536\n"
				   "pidfile = /tmp/x/cmlogd.pid\n"
				   "blackbox_size = 0\n"
				   "flight_events = 16"; /* no final newline */
	struct conf c;
	char err[256] = "";

	conf_defaults(&c);
	assert_int_equal(conf_parse_buf(&c, "g.conf", text, strlen(text), err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(c.log_level, CONF_LOG_DEBUG);
	assert_string_equal(c.ctl_service, "cm-test.1");
	assert_string_equal(c.socket_group, "cmlog_ro");
	assert_true(c.userspace_peer);
	assert_int_equal(c.rcvbuf_bytes, 65536);
	assert_string_equal(c.pidfile, "/tmp/x/cmlogd.pid");
	assert_int_equal(c.blackbox_size, 0);
	assert_int_equal(c.flight_events, 16);
}

static void test_levels(void **state)
{
	static const struct {
		const char *text;
		enum conf_log_level want;
	} t[] = {
		{"log_level = err", CONF_LOG_ERR},
		{"log_level = warning", CONF_LOG_WARNING},
		{"log_level = info", CONF_LOG_INFO},
		{"log_level = debug", CONF_LOG_DEBUG},
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct conf c;

		conf_defaults(&c);
		assert_int_equal(conf_parse_buf(&c, "l", t[i].text, strlen(t[i].text), NULL, 0), 0);
		assert_int_equal(c.log_level, t[i].want);
	}
}

static void test_empty_file(void **state)
{
	struct conf c, d;

	conf_defaults(&c);
	conf_defaults(&d);
	assert_int_equal(conf_parse_buf(&c, "e", "", 0, NULL, 0), 0);
	assert_memory_equal(&c, &d, sizeof(c));
}

static void test_bad_table(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct conf c, before;
		char err[512] = "", want[512];

		conf_defaults(&c);
		/* A good line first proves that nothing of a failed parse is applied. */
		c.flight_events = 77;
		before = c;
		snprintf(want, sizeof(want), "t.conf:%s", bad[i].msg);
		assert_int_equal(conf_parse_buf(&c, "t.conf", bad[i].text, strlen(bad[i].text), err,
						sizeof(err)),
				 -EINVAL);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %zu: got \"%s\", want prefix \"%s\"", i, err, want);
		assert_memory_equal(&c, &before, sizeof(c));
	}
}

static void test_nul_and_long_lines(void **state)
{
	static const char nul[] = "log_level = info\nlog\0level = x\n";
	char longline[2048];
	struct conf c;
	char err[256];

	conf_defaults(&c);
	assert_int_equal(conf_parse_buf(&c, "n", nul, sizeof(nul) - 1, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "n:2: NUL byte in line");
	memset(longline, 'a', sizeof(longline));
	assert_int_equal(conf_parse_buf(&c, "L", longline, sizeof(longline), err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "L:1: line too long (more than 1023 characters)");
}

static void test_file_errors(void **state)
{
	struct conf c;
	char err[512];

	conf_defaults(&c);
	assert_int_equal(conf_parse_file(&c, "/nonexistent/cmlogd.conf", err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/cmlogd.conf: No such file or directory");
}

static void test_file_and_check(void **state)
{
	char path[] = "/tmp/cmlog-test-config-XXXXXX";
	static const char text[] = "log_level = warning\nsocket_group = root\n";
	static const char badtext[] = "log_level = info\nsocket_group = no-such-group-cmlog\n";
	char *out = NULL;
	size_t outlen = 0;
	FILE *mf, *ef;
	char *errs = NULL;
	size_t errlen = 0;
	struct conf c;
	bool has;
	gid_t gid = 99;
	char err[256];
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	conf_defaults(&c);
	assert_int_equal(conf_parse_file(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.log_level, CONF_LOG_WARNING);
	assert_int_equal(conf_resolve_group(&c, &has, &gid, err, sizeof(err)), 0);
	assert_true(has);
	assert_int_equal(gid, 0);

	mf = open_memstream(&out, &outlen);
	assert_int_equal(conf_check(path, mf, NULL), 0);
	fclose(mf);
	assert_non_null(strstr(out, "log_level = warning\n"));
	assert_non_null(strstr(out, "socket_group = root\n"));
	free(out);

	/* The printed configuration parses back to the same settings. */
	{
		struct conf a, b;
		char *p = NULL;
		size_t pl = 0;
		FILE *pf = open_memstream(&p, &pl);

		conf_print(&c, pf);
		fclose(pf);
		conf_defaults(&b);
		assert_int_equal(conf_parse_buf(&b, "printed", p, pl, err, sizeof(err)), 0);
		a = c;
		assert_memory_equal(&a, &b, sizeof(a));
		free(p);
	}

	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, badtext, sizeof(badtext) - 1), (ssize_t)(sizeof(badtext) - 1));
	close(fd);
	ef = open_memstream(&errs, &errlen);
	assert_int_equal(conf_check(path, NULL, ef), -ENOENT);
	fclose(ef);
	assert_string_equal(errs, "cmlogd: socket_group 'no-such-group-cmlog': no such group\n");
	free(errs);
	unlink(path);
}

static void test_shipped_example(void **state)
{
	const char *srcdir = getenv("top_srcdir");
	char path[1024], err[512];
	struct conf c, d;

	snprintf(path, sizeof(path), "%s/conf/cmlogd.conf", srcdir ? srcdir : ".");
	conf_defaults(&c);
	if (conf_parse_file(&c, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	/* The example documents exactly the defaults. */
	conf_defaults(&d);
	assert_memory_equal(&c, &d, sizeof(c));
	assert_int_equal(conf_check(path, NULL, stderr), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),	cmocka_unit_test(test_good),
		cmocka_unit_test(test_levels),		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_bad_table),	cmocka_unit_test(test_nul_and_long_lines),
		cmocka_unit_test(test_file_errors),	cmocka_unit_test(test_file_and_check),
		cmocka_unit_test(test_shipped_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
