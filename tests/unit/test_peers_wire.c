/*
 * test_peers_wire: the daemon group's message codec (include/peers_wire.h): round trips of
 * every type, the exact byte layout of the header, and refusal of every malformed input
 * (truncation at each length, trailing bytes, bad magic, newer version, unknown type,
 * oversized or NUL-carrying status text).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "peers_wire.h"

static void test_roundtrip_announce(void **state)
{
	struct peers_msg m = {.type = PEERS_ANNOUNCE, .sender = 3, .protocol_max = 1, .n_logs = 42};
	struct peers_msg d;
	uint8_t buf[64] = {0};
	int n = peers_msg_encode(buf, sizeof(buf), &m);

	assert_int_equal(n, PEERS_HDR_LEN + 8);
	/* Layout: magic "CMDP", version 1, type, sender, all little-endian. */
	assert_memory_equal(buf, "CMDP", 4);
	assert_int_equal(buf[4], PEERS_WIRE_VERSION);
	assert_int_equal(buf[5], 0);
	assert_int_equal(buf[6], PEERS_ANNOUNCE);
	assert_int_equal(buf[8], 3);
	assert_int_equal(peers_msg_decode(buf, (size_t)n, &d), 0);
	assert_int_equal(d.type, PEERS_ANNOUNCE);
	assert_int_equal(d.sender, 3);
	assert_int_equal(d.protocol_max, 1);
	assert_int_equal(d.n_logs, 42);
}

static void test_roundtrip_query_reply(void **state)
{
	static const char js[] = "{\"daemon\":{\"node_id\":2},\"logs\":[]}";
	struct peers_msg q = {.type = PEERS_QUERY, .sender = 1, .asker = 1, .id = 0x1122334455ull};
	struct peers_msg r = {.type = PEERS_REPLY,
			      .sender = 2,
			      .asker = 1,
			      .id = 0x1122334455ull,
			      .json = js,
			      .json_len = sizeof(js) - 1};
	struct peers_msg d;
	uint8_t buf[256] = {0};
	int n;

	n = peers_msg_encode(buf, sizeof(buf), &q);
	assert_int_equal(n, PEERS_HDR_LEN);
	assert_int_equal(peers_msg_decode(buf, (size_t)n, &d), 0);
	assert_int_equal(d.type, PEERS_QUERY);
	assert_int_equal(d.asker, 1);
	assert_true(d.id == 0x1122334455ull);

	n = peers_msg_encode(buf, sizeof(buf), &r);
	assert_int_equal(n, PEERS_HDR_LEN + 8 + sizeof(js) - 1);
	assert_int_equal(peers_msg_decode(buf, (size_t)n, &d), 0);
	assert_int_equal(d.type, PEERS_REPLY);
	assert_int_equal(d.sender, 2);
	assert_int_equal(d.asker, 1);
	assert_int_equal(d.flags, 0);
	assert_int_equal(d.json_len, sizeof(js) - 1);
	assert_memory_equal(d.json, js, sizeof(js) - 1);

	/* A reply without text ("too large" flag) is valid too. */
	r.json = NULL;
	r.json_len = 0;
	r.flags = PEERS_REPLY_TOO_LARGE;
	n = peers_msg_encode(buf, sizeof(buf), &r);
	assert_int_equal(n, PEERS_HDR_LEN + 8);
	assert_int_equal(peers_msg_decode(buf, (size_t)n, &d), 0);
	assert_int_equal(d.flags, PEERS_REPLY_TOO_LARGE);
	assert_int_equal(d.json_len, 0);
}

static void test_truncated_and_trailing(void **state)
{
	static const char js[] = "{\"a\":1}";
	struct peers_msg r = {
		.type = PEERS_REPLY, .sender = 2, .asker = 1, .id = 9, .json = js, .json_len = 7};
	struct peers_msg a = {.type = PEERS_ANNOUNCE, .sender = 2, .protocol_max = 1};
	struct peers_msg d;
	uint8_t buf[128] = {0};
	size_t len, i;

	len = (size_t)peers_msg_encode(buf, sizeof(buf), &r);
	for (i = 0; i < len; i++)
		assert_int_equal(peers_msg_decode(buf, i, &d), -EBADMSG);
	buf[len] = 'x';
	assert_int_equal(peers_msg_decode(buf, len + 1, &d), -EBADMSG);

	len = (size_t)peers_msg_encode(buf, sizeof(buf), &a);
	for (i = 0; i < len; i++)
		assert_int_equal(peers_msg_decode(buf, i, &d), -EBADMSG);
	assert_int_equal(peers_msg_decode(buf, len + 1, &d), -EBADMSG);
}

static void test_bad_header(void **state)
{
	struct peers_msg q = {.type = PEERS_QUERY, .sender = 1, .asker = 1, .id = 1};
	struct peers_msg d;
	uint8_t buf[64] = {0}, b2[64] = {0};
	int n = peers_msg_encode(buf, sizeof(buf), &q);

	memcpy(b2, buf, sizeof(b2));
	b2[0] ^= 0xff; /* magic */
	assert_int_equal(peers_msg_decode(b2, (size_t)n, &d), -EBADMSG);
	memcpy(b2, buf, sizeof(b2));
	b2[4] = PEERS_WIRE_VERSION + 1; /* newer version */
	assert_int_equal(peers_msg_decode(b2, (size_t)n, &d), -EPROTONOSUPPORT);
	memcpy(b2, buf, sizeof(b2));
	b2[6] = 99; /* unknown type */
	assert_int_equal(peers_msg_decode(b2, (size_t)n, &d), -EPROTONOSUPPORT);
	memcpy(b2, buf, sizeof(b2));
	b2[6] = 0;
	assert_int_equal(peers_msg_decode(b2, (size_t)n, &d), -EPROTONOSUPPORT);
}

static void test_bad_text(void **state)
{
	static const char nul[] = {'{', '\0', '}'};
	struct peers_msg r = {.type = PEERS_REPLY, .sender = 2, .asker = 1, .id = 1};
	struct peers_msg d;
	uint8_t buf[128] = {0};
	int n;

	/* The encoder refuses a NUL in the text, an oversized text, an unknown type. */
	r.json = nul;
	r.json_len = sizeof(nul);
	assert_int_equal(peers_msg_encode(buf, sizeof(buf), &r), -EINVAL);
	r.json = "x";
	r.json_len = PEERS_JSON_MAX + 1;
	assert_int_equal(peers_msg_encode(buf, sizeof(buf), &r), -EINVAL);
	r.type = 7;
	r.json_len = 1;
	assert_int_equal(peers_msg_encode(buf, sizeof(buf), &r), -EINVAL);
	r.type = PEERS_REPLY;
	assert_int_equal(peers_msg_encode(buf, PEERS_HDR_LEN + 8, &r), -ENOSPC);

	/* The decoder refuses a NUL in the text and a length that claims more than is there. */
	r.json = "{x}";
	r.json_len = 3;
	n = peers_msg_encode(buf, sizeof(buf), &r);
	assert_int_equal(n, PEERS_HDR_LEN + 8 + 3);
	buf[PEERS_HDR_LEN + 8 + 1] = '\0';
	assert_int_equal(peers_msg_decode(buf, (size_t)n, &d), -EBADMSG);
	buf[PEERS_HDR_LEN + 8 + 1] = 'x';
	buf[PEERS_HDR_LEN + 4] = 4; /* len 4, 3 bytes present */
	assert_int_equal(peers_msg_decode(buf, (size_t)n, &d), -EBADMSG);
	buf[PEERS_HDR_LEN + 4] = 0xff;
	buf[PEERS_HDR_LEN + 5] = 0xff;
	buf[PEERS_HDR_LEN + 6] = 0xff;
	buf[PEERS_HDR_LEN + 7] = 0xff; /* len 4 GiB */
	assert_int_equal(peers_msg_decode(buf, (size_t)n, &d), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_announce),
		cmocka_unit_test(test_roundtrip_query_reply),
		cmocka_unit_test(test_truncated_and_trailing),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_bad_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
