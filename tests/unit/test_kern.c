/*
 * Unit tests of daemon/kern without a socket (cfg.no_socket, kern_feed and the send hook):
 * the sender filter, the link's own answers to malformed input (error reply, ack EAGAIN,
 * silent drop), MSG_TRUNC, replies to the sender's port, refused replies, send failures,
 * corked (batched) replies, counters and log rate limiting. The real socket path is covered by
 * tests/func/test_kern_link.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/kern.h"

struct sent {
	uint32_t portid;
	uint8_t buf[2048];
	size_t len;
};

struct fx {
	struct kern *k;
	struct sent sent[64];
	int nsent;
	int send_result;
	int ncalls;
	struct ulog_msg last;
	int lines;
	int type_lines; /* lines about a bad request type */
	char last_line[256];
	/* what the request callback answers */
	enum { ANSWER_NONE, ANSWER_U64, ANSWER_BAD } answer;
	int answer_rc;
};

static int send_hook(void *ctx, uint32_t portid, const void *buf, size_t len)
{
	struct fx *f = ctx;

	if (f->send_result)
		return f->send_result;
	assert_true(f->nsent < 64);
	assert_true(len <= sizeof(f->sent[0].buf));
	f->sent[f->nsent].portid = portid;
	memcpy(f->sent[f->nsent].buf, buf, len);
	f->sent[f->nsent].len = len;
	f->nsent++;
	return 0;
}

static void log_hook(void *ctx, int prio, const char *msg)
{
	struct fx *f = ctx;

	f->lines++;
	if (strstr(msg, "request type not in 1..17") && !strstr(msg, "suppressed"))
		f->type_lines++;
	snprintf(f->last_line, sizeof(f->last_line), "%s", msg);
}

static void on_request(void *ctx, const struct ulog_msg *m)
{
	struct fx *f = ctx;

	f->ncalls++;
	f->last = *m;
	if (f->answer == ANSWER_U64)
		f->answer_rc = kern_reply_u64(f->k, m, 1);
	else if (f->answer == ANSWER_BAD)
		f->answer_rc = kern_reply_u64(f->k, m, 2); /* IN_SYNC must be 0 or 1 */
}

static int setup_cfg(void **state, bool peer)
{
	struct fx *f = test_calloc(1, sizeof(*f));
	struct kern_cfg cfg = {.userspace_peer = peer,
			       .log = log_hook,
			       .log_ctx = f,
			       .no_socket = true,
			       .send = send_hook,
			       .send_ctx = f};

	assert_int_equal(kern_open(&f->k, &cfg, on_request, f), 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_cfg(state, false);
}

static int setup_peer(void **state)
{
	return setup_cfg(state, true);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	kern_close(f->k);
	test_free(f);
	return 0;
}

/* An IN_SYNC(region 3) request exactly as the kernel sends it. */
static size_t frame(uint8_t *b, uint32_t type, uint32_t seq)
{
	uint32_t v;
	uint16_t h;
	uint64_t region = 3;

	memset(b, 0, 204);
	v = 204;
	memcpy(b, &v, 4);
	h = 3;
	memcpy(b + 4, &h, 2);
	v = 7;
	memcpy(b + 16, &v, 4);
	v = 1;
	memcpy(b + 20, &v, 4);
	memcpy(b + 24, &seq, 4);
	h = 168;
	memcpy(b + 32, &h, 2);
	strcpy((char *)b + 44, "UUID-1");
	v = 3;
	memcpy(b + 176, &v, 4);
	memcpy(b + 184, &seq, 4);
	memcpy(b + 188, &type, 4);
	v = 8;
	memcpy(b + 192, &v, 4);
	memcpy(b + 196, &region, 8);
	return 204;
}

static uint32_t u32_at(const uint8_t *b, size_t off)
{
	uint32_t v;

	memcpy(&v, b + off, 4);
	return v;
}

static void test_no_socket(void **state)
{
	struct fx *f = *state;

	assert_int_equal(kern_fd(f->k), -1);
	assert_int_equal(kern_portid(f->k), 0);
	assert_int_equal(kern_dispatch(f->k), -ENOTCONN);
}

static void test_kernel_request_and_reply(void **state)
{
	struct fx *f = *state;
	struct kern_stats st;
	uint8_t b[256];
	uint64_t v;

	f->answer = ANSWER_U64;
	kern_feed(f->k, b, frame(b, 8, 1000), 0, false);
	assert_int_equal(f->ncalls, 1);
	assert_int_equal(f->last.type, 8);
	assert_int_equal(f->last.seq, 1000);
	assert_string_equal(f->last.uuid, "UUID-1");
	assert_int_equal(f->answer_rc, 0);
	assert_int_equal(f->nsent, 1);
	assert_int_equal(f->sent[0].portid, 0); /* the kernel */
	assert_int_equal(f->sent[0].len, 204);
	assert_int_equal(u32_at(f->sent[0].buf, 184), 1000);
	memcpy(&v, f->sent[0].buf + 196, 8);
	assert_true(v == 1);
	kern_get_stats(f->k, &st);
	assert_int_equal(st.datagrams, 1);
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.replies, 1);
}

static void test_peer_filter(void **state)
{
	struct fx *f = *state;
	struct kern_stats st;
	uint8_t b[256];

	f->answer = ANSWER_U64;
	kern_feed(f->k, b, frame(b, 8, 1), 4242, false);
	kern_feed(f->k, b, frame(b, 8, 2), 4242, false);
	assert_int_equal(f->ncalls, 0);
	assert_int_equal(f->nsent, 0);
	kern_get_stats(f->k, &st);
	assert_int_equal(st.peer_dropped, 2);
	assert_non_null(strstr(f->last_line, "user-space port 4242"));
}

static void test_peer_allowed_replies_to_sender(void **state)
{
	struct fx *f = *state;
	uint8_t b[256];

	f->answer = ANSWER_U64;
	kern_feed(f->k, b, frame(b, 8, 7), 4242, false);
	assert_int_equal(f->ncalls, 1);
	assert_int_equal(f->nsent, 1);
	assert_int_equal(f->sent[0].portid, 4242);
	assert_int_equal(f->last.src_portid, 4242);
}

static void test_link_answers_bad_input(void **state)
{
	struct fx *f = *state;
	struct kern_stats st;
	uint8_t b[256];
	uint16_t h;
	uint32_t v;

	/* bad type: full reply -EINVAL, data_size 0, callback not called */
	kern_feed(f->k, b, frame(b, 18, 11), 0, false);
	assert_int_equal(f->nsent, 1);
	assert_int_equal(f->sent[0].len, 196);
	assert_int_equal((int32_t)u32_at(f->sent[0].buf, 180), -EINVAL);
	assert_int_equal(u32_at(f->sent[0].buf, 184), 11);
	assert_int_equal(u32_at(f->sent[0].buf, 192), 0);

	/* cn_msg.len != 160 + data_size: ack-only EAGAIN to cn_msg.seq */
	frame(b, 8, 12);
	v = 16;
	memcpy(b + 192, &v, 4);
	kern_feed(f->k, b, 204, 0, false);
	assert_int_equal(f->nsent, 2);
	assert_int_equal(f->sent[1].len, 36);
	assert_int_equal(u32_at(f->sent[1].buf, 24), 12);
	assert_int_equal(u32_at(f->sent[1].buf, 28), EAGAIN);
	assert_int_equal(f->sent[1].buf[32] | f->sent[1].buf[33] << 8, 0);

	/* foreign connector traffic: silent */
	frame(b, 8, 13);
	v = 1;
	memcpy(b + 16, &v, 4);
	f->lines = 0;
	kern_feed(f->k, b, 204, 0, false);
	assert_int_equal(f->lines, 0);
	/* not NLMSG_DONE and too short: dropped with a log line */
	frame(b, 8, 14);
	h = 16;
	memcpy(b + 4, &h, 2);
	kern_feed(f->k, b, 204, 0, false);
	kern_feed(f->k, b, 20, 0, false);
	assert_int_equal(f->lines, 2);
	/* MSG_TRUNC: dropped, counted */
	kern_feed(f->k, b, frame(b, 8, 15), 0, true);
	assert_int_equal(f->nsent, 2);
	assert_int_equal(f->ncalls, 0);

	kern_get_stats(f->k, &st);
	assert_int_equal(st.datagrams, 6);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.eagain, 1);
	assert_int_equal(st.foreign, 1);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.truncated, 1);
	assert_int_equal(st.replies, 1);
	assert_int_equal(st.acks, 1);
}

static void test_refused_and_failed_replies(void **state)
{
	struct fx *f = *state;
	struct kern_stats st;
	uint8_t b[256];

	f->answer = ANSWER_BAD;
	kern_feed(f->k, b, frame(b, 8, 21), 0, false);
	assert_int_equal(f->answer_rc, -EINVAL);
	assert_int_equal(f->nsent, 0);
	assert_non_null(strstr(f->last_line, "refusing"));

	f->answer = ANSWER_U64;
	f->send_result = -ECONNREFUSED;
	kern_feed(f->k, b, frame(b, 8, 22), 0, false);
	assert_int_equal(f->answer_rc, -ECONNREFUSED);
	/* an ack 0 to IN_SYNC would leave the kernel reading uninitialised data: refused */
	assert_int_equal(kern_ack(f->k, &f->last, 0), -EINVAL);
	f->send_result = 0;
	assert_int_equal(kern_ack(f->k, &f->last, EAGAIN), 0);
	assert_int_equal(kern_reply(f->k, &f->last, -EAGAIN, NULL, 0), -EINVAL);

	kern_get_stats(f->k, &st);
	assert_int_equal(st.refused, 3);
	assert_int_equal(st.send_errors, 1);
	assert_int_equal(st.acks, 1);
	assert_int_equal(st.replies, 0);
}

/* Corked replies leave in order at kern_uncork (or when the queue fills), each on its own. */
static void test_corked_replies(void **state)
{
	struct fx *f = *state;
	struct kern_stats st;
	uint8_t b[256];
	uint32_t i;

	f->answer = ANSWER_U64;
	kern_cork(f->k);
	for (i = 1; i <= 40; i++) {
		kern_feed(f->k, b, frame(b, 8, i), 0, false);
		assert_int_equal(f->answer_rc, 0);
	}
	/* the queue holds 32: the 33rd reply sent the first 32 */
	assert_int_equal(f->nsent, 32);
	/* a refused reply takes no slot and is still refused at once */
	f->answer = ANSWER_BAD;
	kern_feed(f->k, b, frame(b, 8, 41), 0, false);
	assert_int_equal(f->answer_rc, -EINVAL);
	assert_int_equal(kern_uncork(f->k), 0);
	assert_int_equal(f->nsent, 40);
	for (i = 0; i < 40; i++) {
		assert_int_equal(f->sent[i].len, 204);
		assert_int_equal(u32_at(f->sent[i].buf, 184), i + 1);
	}
	kern_get_stats(f->k, &st);
	assert_int_equal(st.replies, 40);
	assert_int_equal(st.refused, 1);

	/* a send failure while corked is reported by kern_uncork and counted */
	f->answer = ANSWER_U64;
	f->send_result = -ECONNREFUSED;
	kern_cork(f->k);
	kern_feed(f->k, b, frame(b, 8, 42), 0, false);
	assert_int_equal(f->answer_rc, 0);
	assert_int_equal(kern_ack(f->k, &f->last, EAGAIN), 0);
	assert_int_equal(kern_uncork(f->k), -ECONNREFUSED);
	kern_get_stats(f->k, &st);
	assert_int_equal(st.send_errors, 2);
	assert_int_equal(st.replies, 40);
	assert_int_equal(st.acks, 0);

	/* uncorked again: sent at once */
	f->send_result = 0;
	kern_feed(f->k, b, frame(b, 8, 43), 0, false);
	assert_int_equal(f->nsent, 41);
	assert_int_equal(u32_at(f->sent[40].buf, 184), 43);
	assert_int_equal(kern_uncork(f->k), 0); /* nothing queued */
	assert_int_equal(f->nsent, 41);
}

static void test_rate_limit(void **state)
{
	struct fx *f = *state;
	struct kern_stats st;
	uint8_t b[256];
	int i;

	for (i = 0; i < 30; i++)
		kern_feed(f->k, b, frame(b, 0, 100 + (uint32_t)i), 0, false);
	kern_get_stats(f->k, &st);
	assert_int_equal(st.rejected, 30);
	assert_int_equal(f->nsent, 30); /* every one is answered */
	/* at most KERN_LOG_BURST per second: 10, or 20 when a second boundary was crossed */
	assert_true(f->type_lines >= KERN_LOG_BURST);
	assert_true(f->type_lines <= 2 * KERN_LOG_BURST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_request_and_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_allowed_replies_to_sender, setup_peer,
						teardown),
		cmocka_unit_test_setup_teardown(test_link_answers_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_and_failed_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corked_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
