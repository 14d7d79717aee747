/*
 * test_ctl.c: the control socket module: request codec (good, short, oversized, lying
 * sizes, bad bytes), the JSON schema builders, and a real round trip through
 * ctl_open + libqb IPC in a forked server (errors, unknown uuid, provider failures,
 * malformed requests, NULL callbacks).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <qb/qbipcc.h>
#include <qb/qbutil.h>

#include "ctl_wire.h"
#include "daemon/ctl.h"
#include "daemon/flight.h"

/* ---- codec ---- */

static void test_req_roundtrip(void **state)
{
	uint64_t buf[(CTL_REQ_MAXLEN + 7) / 8] = {0};
	struct ctl_req r = {0};
	int len;

	len = ctl_req_encode(buf, sizeof(buf), CTL_REQ_SHOW, "LVM-abc");
	assert_int_equal(len, CTL_REQ_FIXED + 7);
	assert_int_equal(ctl_req_decode(buf, (size_t)len, &r), 0);
	assert_int_equal(r.id, CTL_REQ_SHOW);
	assert_int_equal(r.api, CTL_API_VERSION);
	assert_int_equal(r.arglen, 7);
	assert_string_equal(r.arg, "LVM-abc");

	len = ctl_req_encode(buf, sizeof(buf), CTL_REQ_STATUS, NULL);
	assert_int_equal(len, CTL_REQ_FIXED);
	assert_int_equal(ctl_req_decode(buf, (size_t)len, &r), 0);
	assert_int_equal(r.id, CTL_REQ_STATUS);
	assert_string_equal(r.arg, "");
}

static void test_req_encode_rejects(void **state)
{
	uint64_t buf[(CTL_REQ_MAXLEN + 7) / 8];
	char longarg[CTL_ARG_MAX + 2];

	memset(longarg, 'a', sizeof(longarg) - 1);
	longarg[sizeof(longarg) - 1] = '\0';
	assert_int_equal(ctl_req_encode(buf, sizeof(buf), 0, NULL), -EINVAL);
	assert_int_equal(ctl_req_encode(buf, sizeof(buf), CTL_REQ_MAX + 1, NULL), -EINVAL);
	assert_int_equal(ctl_req_encode(buf, sizeof(buf), CTL_REQ_SHOW, longarg), -EINVAL);
	assert_int_equal(ctl_req_encode(buf, sizeof(buf), CTL_REQ_SHOW, "a b"), -EINVAL);
	assert_int_equal(ctl_req_encode(buf, sizeof(buf), CTL_REQ_SHOW, "a\n"), -EINVAL);
	assert_int_equal(ctl_req_encode(buf, CTL_REQ_FIXED + 2, CTL_REQ_SHOW, "abc"), -ENOSPC);
	longarg[CTL_ARG_MAX] = '\0'; /* exactly the maximum is fine */
	assert_int_equal(ctl_req_encode(buf, sizeof(buf), CTL_REQ_SHOW, longarg),
			 (int)CTL_REQ_MAXLEN);
}

static void test_req_decode_rejects(void **state)
{
	uint64_t buf[(CTL_REQ_MAXLEN + 16) / 8];
	uint8_t *b = (uint8_t *)buf;
	struct ctl_req r;
	int32_t size;
	int len;
	size_t cut;

	len = ctl_req_encode(buf, sizeof(buf), CTL_REQ_SHOW, "abc");
	/* Every truncation fails. */
	for (cut = 0; cut < (size_t)len; cut++)
		assert_int_equal(ctl_req_decode(buf, cut, &r), -EBADMSG);
	/* Trailing garbage (framing size then lies) fails. */
	assert_int_equal(ctl_req_decode(buf, (size_t)len + 1, &r), -EBADMSG);
	/* Framing size that disagrees with the received length. */
	size = len + 1;
	memcpy(b + 8, &size, 4);
	assert_int_equal(ctl_req_decode(buf, (size_t)len, &r), -EBADMSG);
	size = len;
	memcpy(b + 8, &size, 4);
	/* Argument length larger than what is there, and larger than the maximum. */
	b[20] = 4;
	assert_int_equal(ctl_req_decode(buf, (size_t)len, &r), -EBADMSG);
	b[20] = 0xff;
	b[21] = 0xff;
	assert_int_equal(ctl_req_decode(buf, (size_t)len, &r), -EBADMSG);
	b[20] = 3;
	b[21] = 0;
	/* A NUL or control byte in the argument. */
	b[CTL_REQ_FIXED + 1] = 0;
	assert_int_equal(ctl_req_decode(buf, (size_t)len, &r), -EBADMSG);
	b[CTL_REQ_FIXED + 1] = 0x1b;
	assert_int_equal(ctl_req_decode(buf, (size_t)len, &r), -EBADMSG);
	b[CTL_REQ_FIXED + 1] = 'b';
	assert_int_equal(ctl_req_decode(buf, (size_t)len, &r), 0);
	assert_string_equal(r.arg, "abc");
}

/* ---- builders ---- */

static const char *js(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

static void test_builders(void **state)
{
	static const uint32_t mem[] = {1, 3};
	static const struct ctl_node_marks marks[] = {{1, 5}};
	struct ctl_daemon_info d = {.version = "9.9",
				    .pid = 12,
				    .node_id = 1,
				    .uptime_s = 5,
				    .log_level = "debug",
				    .corosync_connected = true,
				    .quorate = false,
				    .ring_id = NULL,
				    .protocol_version = 2};
	struct ctl_log_info l = {.uuid = "U",
				 .luid = 4,
				 .disk = true,
				 .region_size = 4096,
				 .region_count = 3,
				 .sync_count = 1,
				 .recovering = true,
				 .recovering_region = 1,
				 .recovering_node = 3,
				 .state = CTL_LOG_JOINING,
				 .disk_state = CTL_DISK_DEAD,
				 .writer = 3,
				 .protocol_version = 2,
				 .gen = 8,
				 .pending_requests = 1,
				 .has_digest = true,
				 .digest = 0x0123456789abcdefull,
				 .commits_sent = 7,
				 .rejected_messages = 2,
				 .synced = true,
				 .n_members = 2,
				 .members = mem,
				 .n_marks = 1,
				 .marks = marks};
	struct ctl_member m[] = {{2, false, 3, 0}};
	struct json_object *o = json_object_new_object(), *st;
	struct flight *f;

	assert_int_equal(ctl_status_set_daemon(o, &d), 0);
	assert_int_equal(ctl_status_add_log(o, &l), 0);
	l.uuid = "V";
	l.disk = false;
	l.disk_state = CTL_DISK_NONE;
	l.recovering = false;
	l.sync_count = 3;
	l.n_members = 0;
	l.n_marks = 0;
	l.has_digest = false;
	l.synced = false;
	l.commits_sent = 0;
	l.rejected_messages = 0;
	assert_int_equal(ctl_status_add_log(o, &l), 0);
	assert_string_equal(
		js(o),
		"{\"daemon\":{\"version\":\"9.9\",\"pid\":12,\"node_id\":1,\"uptime_s\":5,"
		"\"log_level\":\"debug\"},\"corosync\":{\"connected\":true,\"quorate\":false,"
		"\"ring_id\":null,\"protocol_version\":2},\"logs\":[{\"uuid\":\"U\",\"luid\":4,"
		"\"type\":\"disk\",\"state\":\"joining\",\"region_size\":4096,"
		"\"region_count\":3,\"sync_count\":1,\"sync_percent\":33.33,"
		"\"in_sync\":false,\"recovering\":{\"region\":1,\"node_id\":3},"
		"\"disk_state\":\"D\",\"writer\":3,\"protocol_version\":2,\"gen\":8,"
		"\"pending_requests\":1,\"synced\":true,\"commits_sent\":7,\"rejected_messages\":2,"
		"\"requests\":0,\"hot_"
		"requests\":0,"
		"\"digest\":\"0123456789abcdef\",\"members\":[1,3],\"marks\":[{\"node_id\":1,"
		"\"regions\":5}]},{\"uuid\":\"V\",\"luid\":4,\"type\":\"core\","
		"\"state\":\"joining\",\"region_size\":4096,\"region_count\":3,"
		"\"sync_count\":3,\"sync_percent\":100.00,\"in_sync\":true,"
		"\"recovering\":null,\"disk_state\":null,\"writer\":3,"
		"\"protocol_version\":2,\"gen\":8,\"pending_requests\":1,\"synced\":false,"
		"\"commits_sent\":0,\"rejected_messages\":0,\"requests\":0,\"hot_requests\":0,"
		"\"digest\":null,\"members\":["
		"],"
		"\"marks\":[]}]}");
	l.uuid = NULL;
	assert_int_equal(ctl_status_add_log(o, &l), -EINVAL);
	json_object_put(o);

	o = json_object_new_object();
	assert_int_equal(ctl_members_set(o, 1, true, m, 1), 0);
	assert_string_equal(js(o),
			    "{\"protocol_version\":1,\"quorate\":true,\"members\":"
			    "[{\"node_id\":2,\"local\":false,\"protocol_max\":3,\"logs\":0}]}");
	json_object_put(o);

	o = json_object_new_object();
	st = json_object_new_object();
	assert_int_equal(ctl_status_set_daemon(st, &d), 0);
	assert_int_equal(ctl_cluster_add_node(o, 1, true, NULL, st), 0);
	assert_int_equal(ctl_cluster_add_node(o, 2, false, "timeout", NULL), 0);
	assert_non_null(strstr(js(o), "{\"node_id\":2,\"reachable\":false,\"error\":\"timeout\","
				      "\"status\":null}"));
	json_object_put(o);

	assert_int_equal(flight_create(&f, 2), 0);
	flight_add(f, 1, FLIGHT_REQUEST, "u1", "a");
	flight_add(f, 2, FLIGHT_ERROR, NULL, "b");
	flight_add(f, 3, FLIGHT_DISK, "u3", "c");
	o = json_object_new_object();
	assert_int_equal(ctl_dump_flight(o, f), 0);
	assert_string_equal(js(o),
			    "{\"capacity\":2,\"dropped\":1,\"events\":[{\"seq\":2,"
			    "\"time_ms\":2,\"kind\":\"error\",\"uuid\":null,\"text\":\"b\","
			    "\"truncated\":false},{\"seq\":3,\"time_ms\":3,\"kind\":\"disk\","
			    "\"uuid\":\"u3\",\"text\":\"c\",\"truncated\":false}]}");
	json_object_put(o);
	flight_destroy(f);

	assert_string_equal(ctl_log_state_str(CTL_LOG_CONSTRUCTED), "constructed");
	assert_string_equal(ctl_log_state_str(CTL_LOG_RESUMED), "resumed");
	assert_string_equal(ctl_log_state_str(CTL_LOG_SUSPENDED), "suspended");
	assert_string_equal(ctl_log_state_str((enum ctl_log_state)77), "unknown");
}

/* ---- a real server in a child process ---- */

static int t_status(void *ctx, struct json_object *out)
{
	return json_object_object_add(out, "hello", json_object_new_string("world"));
}

static int t_show(void *ctx, const char *uuid, struct json_object *out)
{
	if (strcmp(uuid, "known") == 0)
		return json_object_object_add(out, "uuid", json_object_new_string(uuid));
	/* Half-filled output must not leak into the error reply. */
	json_object_object_add(out, "partial", json_object_new_int(1));
	return strcmp(uuid, "broken") == 0 ? -EIO : -ENOENT;
}

static int t_members(void *ctx, struct json_object *out)
{
	return 5; /* a provider bug: positive return */
}

static const struct ctl_provider tprov = {
	.status = t_status, .show = t_show, .members = t_members, /* no cluster, no dump */
};

/* status --cluster answered later from a timer, as cmlogd does after collecting replies. */
static void t_finish(void *data)
{
	struct ctl_deferred *d = data;

	json_object_object_add(ctl_deferred_body(d), "late", json_object_new_boolean(1));
	ctl_deferred_finish(d, 0);
}

static void t_finish_err(void *data)
{
	ctl_deferred_finish(data, -ETIMEDOUT);
}

static int t_cluster_async(void *ctx, struct ctl_deferred *d)
{
	static int calls;
	qb_loop_timer_handle th;

	calls++;
	if (calls == 3)
		return -EIO; /* refused at once */
	return qb_loop_timer_add(ctx, QB_LOOP_LOW, 300ull * QB_TIME_NS_IN_MSEC, d,
				 calls == 4 ? t_finish_err : t_finish, &th) == 0
		       ? 0
		       : -ENOMEM;
}

static const struct ctl_provider tprov_async = {
	.status = t_status,
	.cluster_async = t_cluster_async,
};

static const struct ctl_provider *server_prov = &tprov;

static int32_t t_stop(int32_t sig, void *data)
{
	qb_loop_stop(data);
	return 0;
}

static pid_t server_pid;
static char service[64];

static int server_start(void **state)
{
	int ready[2];
	char c;

	snprintf(service, sizeof(service), "cmlog-utest-%d", (int)getpid());
	assert_int_equal(pipe(ready), 0);
	server_pid = fork();
	assert_true(server_pid >= 0);
	if (server_pid == 0) {
		qb_loop_t *loop = qb_loop_create();
		struct ctl_cfg cfg = {.service = service, .daemon_version = "t1"};
		struct ctl *ctl, *ctl2;
		qb_loop_t *other = qb_loop_create();
		int r;

		close(ready[0]);
		r = ctl_open(&ctl, loop, &cfg, server_prov, loop);
		/* A second ctl on another loop is refused; the same name is in use. */
		if (r == 0 && ctl_open(&ctl2, other, &cfg, &tprov, NULL) != -EBUSY)
			r = -1;
		if (r == 0 && ctl_open(&ctl2, loop, &cfg, &tprov, NULL) != -EADDRINUSE)
			r = -1;
		c = r == 0 ? 0 : 1;
		/* The stop signal is armed before the parent may send it. */
		qb_loop_signal_add(loop, QB_LOOP_HIGH, SIGTERM, loop, t_stop, NULL);
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		if (r)
			_exit(1);
		qb_loop_run(loop);
		ctl_close(ctl);
		/*
		 * Only now: libqb keeps one signal pipe per process, and destroying any loop
		 * closes it, which would deafen `loop` to SIGTERM.
		 */
		qb_loop_destroy(other);
		qb_loop_destroy(loop);
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(c, 0);
	close(ready[0]);
	return 0;
}

static int server_start_async(void **state)
{
	server_prov = &tprov_async;
	return server_start(state);
}

static int server_stop(void **state)
{
	int st, i;

	kill(server_pid, SIGTERM);
	/* A server that does not stop within 10 s fails the test instead of hanging it. */
	for (i = 0; i < 1000; i++) {
		if (waitpid(server_pid, &st, WNOHANG) == server_pid)
			return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
		usleep(10000);
	}
	kill(server_pid, SIGKILL);
	waitpid(server_pid, &st, 0);
	fprintf(stderr, "ctl test server ignored SIGTERM\n");
	return -1;
}

/* Send raw bytes, return the reply error and body. */
static int32_t raw(const void *req, size_t len, char *body, size_t blen)
{
	qb_ipcc_connection_t *c = qb_ipcc_connect(service, CTL_MAX_MSG);
	static char buf[CTL_MAX_MSG];
	struct qb_ipc_response_header h;
	struct iovec iov = {(void *)(uintptr_t)req, len};
	ssize_t n;

	assert_non_null(c);
	n = qb_ipcc_sendv_recv(c, &iov, 1, buf, sizeof(buf), 5000);
	qb_ipcc_disconnect(c);
	assert_true(n >= (ssize_t)CTL_RESP_HDR);
	memcpy(&h, buf, sizeof(h));
	assert_int_equal(h.size, n);
	snprintf(body, blen, "%.*s", (int)(n - (ssize_t)CTL_RESP_HDR), buf + CTL_RESP_HDR);
	return h.error;
}

static int32_t ask(uint32_t id, const char *arg, char *body, size_t blen)
{
	uint64_t req[(CTL_REQ_MAXLEN + 7) / 8];
	int len = ctl_req_encode(req, sizeof(req), id, arg);

	assert_true(len > 0);
	return raw(req, (size_t)len, body, blen);
}

static void test_server(void **state)
{
	uint64_t req[(CTL_REQ_MAXLEN + 15) / 8];
	uint8_t *b = (uint8_t *)req;
	char body[4096];
	int len;

	assert_int_equal(ask(CTL_REQ_STATUS, NULL, body, sizeof(body)), 0);
	assert_string_equal(body, "{\"api_version\":1,\"command\":\"status\",\"hello\":\"world\"}");
	assert_int_equal(ask(CTL_REQ_VERSION, NULL, body, sizeof(body)), 0);
	assert_string_equal(body, "{\"api_version\":1,\"command\":\"version\",\"version\":\"t1\"}");
	assert_int_equal(ask(CTL_REQ_SHOW, "known", body, sizeof(body)), 0);
	assert_string_equal(body, "{\"api_version\":1,\"command\":\"show\",\"uuid\":\"known\"}");
	assert_int_equal(ask(CTL_REQ_SHOW, "other", body, sizeof(body)), -ENOENT);
	assert_string_equal(body, "{\"api_version\":1,\"command\":\"show\","
				  "\"error\":\"no log with uuid other\"}");
	assert_int_equal(ask(CTL_REQ_SHOW, "broken", body, sizeof(body)), -EIO);
	assert_string_equal(body, "{\"api_version\":1,\"command\":\"show\","
				  "\"error\":\"Input/output error\"}");
	assert_int_equal(ask(CTL_REQ_SHOW, NULL, body, sizeof(body)), -EINVAL);
	assert_int_equal(ask(CTL_REQ_CLUSTER, NULL, body, sizeof(body)), -EOPNOTSUPP);
	assert_string_equal(body, "{\"api_version\":1,\"command\":\"cluster\","
				  "\"error\":\"not supported by this daemon\"}");
	assert_int_equal(ask(CTL_REQ_DUMP, NULL, body, sizeof(body)), -EOPNOTSUPP);
	assert_int_equal(ask(CTL_REQ_MEMBERS, NULL, body, sizeof(body)), -EINVAL);

	/* An argument where none belongs. */
	len = ctl_req_encode(req, sizeof(req), CTL_REQ_SHOW, "x");
	memset(b, 0, 4);
	b[0] = CTL_REQ_STATUS;
	assert_int_equal(raw(req, (size_t)len, body, sizeof(body)), -EINVAL);
	/* An unknown request id. */
	b[0] = 99;
	assert_int_equal(raw(req, (size_t)len, body, sizeof(body)), -EINVAL);
	assert_string_equal(body, "{\"api_version\":1,\"command\":\"invalid\","
				  "\"error\":\"invalid request\"}");
	/* A newer client api. */
	len = ctl_req_encode(req, sizeof(req), CTL_REQ_STATUS, NULL);
	b[16] = 2;
	assert_int_equal(raw(req, (size_t)len, body, sizeof(body)), -EPROTONOSUPPORT);
	/* Garbage after a valid request: framing size disagrees -> malformed, still answered. */
	b[16] = 1;
	{
		int32_t sz = len + 3;

		memcpy(b + 8, &sz, 4);
	}
	memset(b + len, 'z', 3);
	assert_int_equal(raw(req, (size_t)len + 3, body, sizeof(body)), -EBADMSG);
	assert_string_equal(body, "{\"api_version\":1,\"command\":\"invalid\","
				  "\"error\":\"malformed request\"}");
	/* The server is still healthy afterwards. */
	assert_int_equal(ask(CTL_REQ_STATUS, NULL, body, sizeof(body)), 0);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A deferred reply arrives later, and the server keeps answering others meanwhile. */
static void test_deferred(void **state)
{
	uint64_t req[(CTL_REQ_MAXLEN + 7) / 8];
	static char buf[CTL_MAX_MSG];
	qb_ipcc_connection_t *c;
	char body[4096];
	uint64_t t0;
	ssize_t n;
	int len;

	/* 1: answered after the provider's 300 ms. */
	t0 = mono_ms();
	assert_int_equal(ask(CTL_REQ_CLUSTER, NULL, body, sizeof(body)), 0);
	assert_true(mono_ms() - t0 >= 250);
	assert_string_equal(body, "{\"api_version\":1,\"command\":\"cluster\",\"late\":true}");

	/* 2: while one is deferred, another client's status is answered at once. */
	len = ctl_req_encode(req, sizeof(req), CTL_REQ_CLUSTER, NULL);
	c = qb_ipcc_connect(service, CTL_MAX_MSG);
	assert_non_null(c);
	{
		struct iovec iov = {req, (size_t)len};

		assert_int_equal(qb_ipcc_sendv(c, &iov, 1), len);
	}
	t0 = mono_ms();
	assert_int_equal(ask(CTL_REQ_STATUS, NULL, body, sizeof(body)), 0);
	assert_true(mono_ms() - t0 < 250);
	n = qb_ipcc_recv(c, buf, sizeof(buf), 5000);
	assert_true(n > (ssize_t)CTL_RESP_HDR);
	assert_memory_equal(buf + CTL_RESP_HDR,
			    "{\"api_version\":1,\"command\":\"cluster\",\"late\"", 37);
	qb_ipcc_disconnect(c);

	/* 3: the provider refuses at once; 4: it finishes with an error later. */
	assert_int_equal(ask(CTL_REQ_CLUSTER, NULL, body, sizeof(body)), -EIO);
	assert_string_equal(body, "{\"api_version\":1,\"command\":\"cluster\","
				  "\"error\":\"Input/output error\"}");
	assert_int_equal(ask(CTL_REQ_CLUSTER, NULL, body, sizeof(body)), -ETIMEDOUT);
	assert_string_equal(body, "{\"api_version\":1,\"command\":\"cluster\","
				  "\"error\":\"Connection timed out\"}");

	/* 5: the client goes away before the answer: the server survives it. */
	c = qb_ipcc_connect(service, CTL_MAX_MSG);
	assert_non_null(c);
	{
		struct iovec iov = {req, (size_t)len};

		assert_int_equal(qb_ipcc_sendv(c, &iov, 1), len);
	}
	qb_ipcc_disconnect(c);
	usleep(500 * 1000);
	assert_int_equal(ask(CTL_REQ_STATUS, NULL, body, sizeof(body)), 0);
}

static void test_open_args(void **state)
{
	struct ctl *c = (struct ctl *)1;
	struct ctl_cfg cfg = {.service = ""};
	qb_loop_t *loop = (qb_loop_t *)&cfg; /* never used: rejected before */

	assert_int_equal(ctl_open(&c, NULL, &cfg, &tprov, NULL), -EINVAL);
	assert_null(c);
	assert_int_equal(ctl_open(&c, loop, &cfg, &tprov, NULL), -EINVAL);
	assert_int_equal(ctl_open(&c, loop, NULL, &tprov, NULL), -EINVAL);
	ctl_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_req_roundtrip),
		cmocka_unit_test(test_req_encode_rejects),
		cmocka_unit_test(test_req_decode_rejects),
		cmocka_unit_test(test_builders),
		cmocka_unit_test(test_open_args),
		cmocka_unit_test_setup_teardown(test_server, server_start, server_stop),
		cmocka_unit_test_setup_teardown(test_deferred, server_start_async, server_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
