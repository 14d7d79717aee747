/*
 * test_group: the group protocol with one member over a loopback transport (issue 3's
 * configuration), plus argument checking. Multi-member behaviour is covered by tests/sim.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/group.h"

struct loop {
	uint8_t *msg[64];
	size_t len[64];
	unsigned n;
	unsigned replies;
	uint64_t last_token;
	struct group_reply last;
	int send_ret;
	unsigned writes;
	uint64_t cookie;
};

static int lb_send(void *ctx, const struct iovec *iov, unsigned int n_iov)
{
	struct loop *l = ctx;

	assert_int_equal(n_iov, 1);
	if (l->send_ret)
		return l->send_ret;
	assert_true(l->n < 64);
	l->msg[l->n] = malloc(iov[0].iov_len);
	memcpy(l->msg[l->n], iov[0].iov_base, iov[0].iov_len);
	l->len[l->n++] = iov[0].iov_len;
	return 0;
}

static void lb_reply(void *ctx, uint64_t token, const struct group_reply *r)
{
	struct loop *l = ctx;

	l->replies++;
	l->last_token = token;
	l->last = *r;
}

static int lb_write(void *ctx, uint64_t cookie, const uint8_t *buf, uint64_t off, size_t len)
{
	struct loop *l = ctx;

	(void)buf;
	assert_int_equal(off % 512, 0);
	assert_int_equal(len % 512, 0);
	l->writes++;
	l->cookie = cookie;
	return 0;
}

static const struct group_ops ops = {.send = lb_send, .reply = lb_reply, .disk_write = lb_write};

/* deliver everything sent so far, in order, back to the one member */
static void deliver_all(struct group *g, struct loop *l)
{
	unsigned i;

	group_pump(g);
	while (l->n) {
		uint8_t *m = l->msg[0];
		size_t len = l->len[0];

		for (i = 1; i < l->n; i++) {
			l->msg[i - 1] = l->msg[i];
			l->len[i - 1] = l->len[i];
		}
		l->n--;
		group_deliver(g, 1, m, len);
		free(m);
		group_pump(g);
	}
}

static struct group *one(struct loop *l, enum group_log_type type)
{
	struct group_params p;
	struct group *g = NULL;
	uint32_t me = 1;

	memset(&p, 0, sizeof(p));
	strcpy(p.uuid, "LVM-test");
	p.type = type;
	p.region_count = 100;
	p.sync_mode = RLOG_SYNC_NONE;
	p.block_size = 512;
	p.my_nodeid = 1;
	memset(l, 0, sizeof(*l));
	assert_int_equal(group_create(&g, &p, &ops, l), 0);
	assert_int_equal(group_start(g, NULL, 0), 0);
	group_confchg(g, &me, 1, NULL, 0, &me, 1);
	return g;
}

static void req(struct group *g, uint64_t token, enum group_req_type t, uint64_t region)
{
	struct group_req q;

	memset(&q, 0, sizeof(q));
	q.token = token;
	q.type = t;
	q.region = region;
	group_request(g, &q);
}

static void test_create_args(void **state)
{
	struct group_params p;
	struct group *g = NULL;
	struct loop l;

	(void)state;
	memset(&p, 0, sizeof(p));
	strcpy(p.uuid, "x");
	p.region_count = 10;
	p.my_nodeid = 1;
	p.type = GROUP_LOG_DISK;
	p.block_size = 1000; /* not a power of two */
	assert_int_equal(group_create(&g, &p, &ops, &l), -EINVAL);
	p.type = GROUP_LOG_CORE;
	p.region_count = 0;
	assert_int_equal(group_create(&g, &p, &ops, &l), -EINVAL);
	p.region_count = 10;
	p.my_nodeid = 0;
	assert_int_equal(group_create(&g, &p, &ops, &l), -EINVAL);
}

static void test_resume_and_local_answers(void **state)
{
	struct loop l;
	struct group *g = one(&l, GROUP_LOG_CORE);
	struct group_status st;

	(void)state;
	req(g, 1, GROUP_REQ_RESUME, 0);
	assert_int_equal(l.replies, 0); /* not before the barrier */
	deliver_all(g, &l);
	assert_int_equal(l.replies, 1);
	assert_int_equal(l.last_token, 1);
	group_get_status(g, &st);
	assert_true(st.synced);
	assert_int_equal(st.n_members, 1);
	/* one member: IS_REMOTE_RECOVERING is answered locally, exact hint */
	req(g, 2, GROUP_REQ_IS_REMOTE_RECOVERING, 5);
	assert_int_equal(l.replies, 2);
	assert_int_equal(l.last.value, 0);
	assert_int_equal(l.last.value2, 100);
	req(g, 3, GROUP_REQ_IN_SYNC, 99);
	assert_int_equal(l.last.value, 1);
	req(g, 4, GROUP_REQ_IN_SYNC, 100);
	assert_int_equal(l.last.error, -EINVAL);
	req(g, 5, 99, 0);
	assert_int_equal(l.last.error, -EINVAL);
	assert_int_equal(l.replies, 5);
	group_destroy(g);
}

static void test_flush_commit(void **state)
{
	struct loop l;
	struct group *g = one(&l, GROUP_LOG_CORE);
	struct group_req q;
	struct group_status st;

	(void)state;
	deliver_all(g, &l);
	memset(&q, 0, sizeof(q));
	q.token = 10;
	q.type = GROUP_REQ_FLUSH;
	q.regions[0] = 7;
	q.n_regions = 1;
	group_request(g, &q);
	assert_int_equal(l.replies, 0);
	assert_true(group_wants_pump(g));
	/* refused sends keep the request; nothing is answered early */
	l.send_ret = -EAGAIN;
	group_pump(g);
	assert_int_equal(l.replies, 0);
	l.send_ret = 0;
	deliver_all(g, &l);
	assert_int_equal(l.replies, 1);
	assert_int_equal(l.last.error, 0);
	assert_true(rlog_node_marked(group_rlog(g), 1, 7));
	group_get_status(g, &st);
	assert_int_equal(st.commits_sent, 1);
	/* a FLUSH with nothing new completes at once */
	req(g, 11, GROUP_REQ_FLUSH, 0);
	assert_int_equal(l.replies, 2);
	/* POSTSUSPEND waits for the deferred clear to leave */
	memset(&q, 0, sizeof(q));
	q.token = 12;
	q.type = GROUP_REQ_CLEAR;
	q.regions[0] = 7;
	q.n_regions = 1;
	group_request(g, &q);
	req(g, 13, GROUP_REQ_POSTSUSPEND, 0);
	assert_int_equal(l.replies, 3);
	deliver_all(g, &l);
	assert_int_equal(l.replies, 4);
	assert_int_equal(l.last_token, 13);
	assert_false(rlog_node_marked(group_rlog(g), 1, 7));
	group_destroy(g);
}

static void regions_req(struct group *g, uint64_t token, enum group_req_type t, uint64_t region)
{
	struct group_req q;

	memset(&q, 0, sizeof(q));
	q.token = token;
	q.type = t;
	q.regions[0] = region;
	q.n_regions = 1;
	group_request(g, &q);
}

/*
 * Eager commit: a MARK that needs a message leaves in the same loop pass when no commit of
 * ours is in flight, and its FLUSH waits for that commit without sending another; while one
 * is in flight, marks wait for their FLUSH (group commit).
 */
static void test_eager_commit(void **state)
{
	struct loop l;
	struct group *g = one(&l, GROUP_LOG_CORE);
	struct group_status st;

	(void)state;
	deliver_all(g, &l);
	regions_req(g, 20, GROUP_REQ_MARK, 3);
	assert_int_equal(l.replies, 1); /* MARK is acknowledged at once */
	assert_true(group_wants_pump(g));
	group_pump(g);
	assert_int_equal(l.n, 1); /* the commit left before the FLUSH */
	req(g, 21, GROUP_REQ_FLUSH, 0);
	group_pump(g);
	assert_int_equal(l.n, 1);	/* the FLUSH sent nothing more */
	assert_int_equal(l.replies, 1); /* and is not answered before the delivery */
	deliver_all(g, &l);
	assert_int_equal(l.replies, 2);
	assert_int_equal(l.last_token, 21);
	assert_int_equal(l.last.error, 0);
	assert_true(rlog_node_marked(group_rlog(g), 1, 3));
	group_get_status(g, &st);
	assert_int_equal(st.commits_sent, 1);

	/* a commit of ours in flight: the next marks wait for their FLUSH */
	regions_req(g, 22, GROUP_REQ_MARK, 4);
	group_pump(g);
	assert_int_equal(l.n, 1); /* region 4 left eagerly, undelivered */
	regions_req(g, 23, GROUP_REQ_MARK, 5);
	group_pump(g);
	assert_int_equal(l.n, 1); /* region 5 waits */
	assert_false(group_wants_pump(g));
	req(g, 24, GROUP_REQ_FLUSH, 0);
	group_pump(g);
	assert_int_equal(l.n, 2); /* the FLUSH sent region 5 */
	assert_int_equal(l.replies, 4);
	deliver_all(g, &l);
	assert_int_equal(l.replies, 5);
	assert_int_equal(l.last_token, 24);
	assert_true(rlog_node_marked(group_rlog(g), 1, 4));
	assert_true(rlog_node_marked(group_rlog(g), 1, 5));
	group_get_status(g, &st);
	assert_int_equal(st.commits_sent, 3);
	/* a MARK of a region already committed for us needs no message at all */
	regions_req(g, 25, GROUP_REQ_MARK, 5);
	group_pump(g);
	assert_int_equal(l.n, 0);
	req(g, 26, GROUP_REQ_FLUSH, 0);
	assert_int_equal(l.replies, 7);

	/* several writers: once a commit completed two FLUSHes, marks wait for their FLUSH */
	regions_req(g, 27, GROUP_REQ_MARK, 6);
	regions_req(g, 28, GROUP_REQ_MARK, 7);
	req(g, 29, GROUP_REQ_FLUSH, 0);
	req(g, 30, GROUP_REQ_FLUSH, 0);
	deliver_all(g, &l);
	assert_int_equal(l.replies, 11);
	group_get_status(g, &st);
	assert_int_equal(st.commits_sent, 4); /* one commit for both */
	regions_req(g, 31, GROUP_REQ_MARK, 8);
	group_pump(g);
	assert_int_equal(l.n, 0); /* not eager */
	req(g, 32, GROUP_REQ_FLUSH, 0);
	group_pump(g);
	assert_int_equal(l.n, 1);
	deliver_all(g, &l);
	assert_int_equal(l.replies, 13);
	/* that commit completed one FLUSH: a single writer again, eager again */
	regions_req(g, 33, GROUP_REQ_MARK, 9);
	group_pump(g);
	assert_int_equal(l.n, 1);
	deliver_all(g, &l);
	group_destroy(g);
}

static void test_disk_writer(void **state)
{
	struct loop l;
	struct group *g = one(&l, GROUP_LOG_DISK);
	struct group_req q;
	struct group_status st;

	(void)state;
	deliver_all(g, &l);
	group_get_status(g, &st);
	assert_int_equal(st.writer, 1);
	assert_int_equal(l.writes, 1); /* the new writer writes everything */
	group_disk_done(g, l.cookie, 0);
	deliver_all(g, &l);
	memset(&q, 0, sizeof(q));
	q.token = 20;
	q.type = GROUP_REQ_FLUSH;
	q.regions[0] = 3;
	q.n_regions = 1;
	group_request(g, &q);
	deliver_all(g, &l);
	assert_int_equal(l.writes, 2);
	assert_int_equal(l.replies, 0); /* delivered, not yet durable */
	group_disk_done(g, l.cookie, 0);
	assert_int_equal(l.replies, 1); /* the writer answers at write completion */
	deliver_all(g, &l);
	group_get_status(g, &st);
	assert_true(st.durable_gen >= 1);
	/* a failed write: the FLUSH waiting on it gets -EIO */
	q.token = 21;
	q.regions[0] = 4;
	group_request(g, &q);
	deliver_all(g, &l);
	group_disk_done(g, l.cookie, -EIO);
	deliver_all(g, &l);
	assert_int_equal(l.replies, 2);
	assert_int_equal(l.last.error, -EIO);
	group_get_status(g, &st);
	assert_true(st.disk_failed);
	group_destroy(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_args),
		cmocka_unit_test(test_resume_and_local_answers),
		cmocka_unit_test(test_flush_commit),
		cmocka_unit_test(test_eager_commit),
		cmocka_unit_test(test_disk_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
