/*
 * Unit tests for daemon/mlog.c: request routing over a fake group and a fake transport.
 *
 * The fake group (this file implements cluster/group.h) records what mlog asks of it and
 * lets a test answer; the fake transport records create/leave. The real CTR parser, codec
 * helpers, disk worker (on temp files) and rlog are used. Every test checks that each
 * request got exactly one reply.
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
#include <unistd.h>

#include <cmocka.h>

#include "cluster/group.h"
#include "daemon/disk.h"
#include "daemon/mlog.h"
#include "log/rlog.h"

/* ---- fake group ------------------------------------------------------------------------------ */

#define MAX_REQ 64

struct group {
	struct group_params p;
	const struct group_ops *ops;
	void *ctx;
	struct rlog *rl;
	bool started;
	uint8_t image[64];
	uint64_t image_regions;
	bool image_given;
	uint8_t sync[64];
	uint64_t sync_regions;
	bool sync_given;
	struct group_req reqs[MAX_REQ];
	size_t n_reqs;
	bool quorate, presuspended, lost;
	bool wants; /* a test says the group has something to send */
	int pumps;
};

static struct group *last_group;
static int groups_created, groups_destroyed;

int group_create(struct group **out, const struct group_params *p, const struct group_ops *ops,
		 void *ctx)
{
	struct group *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	g->p = *p;
	g->ops = ops;
	g->ctx = ctx;
	assert_int_equal(rlog_create(&g->rl, p->region_count, p->sync_mode), 0);
	*out = g;
	last_group = g;
	groups_created++;
	return 0;
}

void group_destroy(struct group *g)
{
	if (last_group == g)
		last_group = NULL;
	rlog_destroy(g->rl);
	free(g);
	groups_destroyed++;
}

int group_start(struct group *g, const uint8_t *clean, uint64_t clean_regions)
{
	g->started = true;
	g->image_given = clean != NULL;
	g->image_regions = clean_regions;
	if (clean)
		memcpy(g->image, clean,
		       (clean_regions + 7) / 8 < 64 ? (clean_regions + 7) / 8 : 64);
	/* what a master resume would do, so the saved bits at suspend are meaningful */
	return rlog_resume_master(g->rl, clean, clean_regions);
}

int group_start_sync(struct group *g, const uint8_t *sync, uint64_t sync_regions)
{
	g->sync_given = sync != NULL;
	g->sync_regions = sync_regions;
	if (sync)
		memcpy(g->sync, sync, (sync_regions + 7) / 8 < 64 ? (sync_regions + 7) / 8 : 64);
	/* what the first master resume would do with both images */
	return rlog_resume_master_sync(g->rl, g->image_given ? g->image : NULL, g->image_regions,
				       sync, sync_regions);
}

void group_confchg(struct group *g, const uint32_t *members, size_t n_members, const uint32_t *left,
		   size_t n_left, const uint32_t *joined, size_t n_joined)
{
}

void group_deliver(struct group *g, uint32_t sender, const void *buf, size_t len)
{
}

void group_request(struct group *g, const struct group_req *req)
{
	assert_true(g->n_reqs < MAX_REQ);
	g->reqs[g->n_reqs++] = *req;
}

void group_disk_done(struct group *g, uint64_t cookie, int error)
{
}

void group_set_quorate(struct group *g, bool quorate)
{
	g->quorate = quorate;
}

void group_transport_lost(struct group *g)
{
	g->lost = true;
}

void group_transport_restored(struct group *g)
{
	g->lost = false;
}

void group_presuspend(struct group *g)
{
	g->presuspended = true;
}

void group_pump(struct group *g)
{
	g->pumps++;
	g->wants = false;
}

void group_tick(struct group *g, uint64_t now_ms)
{
}

bool group_wants_pump(const struct group *g)
{
	return g->wants;
}

void group_get_status(const struct group *g, struct group_status *st)
{
	memset(st, 0, sizeof(*st));
	st->quorate = g->quorate;
}

const struct rlog *group_rlog(const struct group *g)
{
	return g->rl;
}

/* Answer the group request at index @i. */
static void group_answer(struct group *g, size_t i, int error, int64_t v, uint64_t v2)
{
	struct group_reply r = {.error = error, .value = v, .value2 = v2};

	assert_true(i < g->n_reqs);
	g->ops->reply(g->ctx, g->reqs[i].token, &r);
}

/* ---- fake transport and reply sink ----------------------------------------------------------- */

struct fake_tr {
	struct mlog *owner;
	bool leaving;
	int rejoins;
};

static int tr_created, tr_destroyed;
static struct fake_tr *last_tr;

static int tr_create(void *env_ctx, const char *uuid, struct mlog *owner, void **handle)
{
	struct fake_tr *t = calloc(1, sizeof(*t));

	t->owner = owner;
	*handle = t;
	last_tr = t;
	tr_created++;
	return 0;
}

static int tr_send(void *h, const struct iovec *iov, unsigned int n)
{
	return 0;
}

static void tr_leave(void *h)
{
	((struct fake_tr *)h)->leaving = true;
}

static void tr_destroy(void *h)
{
	if (last_tr == h)
		last_tr = NULL;
	free(h);
	tr_destroyed++;
}

static uint32_t tr_nodeid(void *h)
{
	return 7;
}

static void tr_rejoin(void *h)
{
	((struct fake_tr *)h)->rejoins++;
}

static const struct mlog_transport_ops fake_transport = {
	.create = tr_create,
	.send = tr_send,
	.leave = tr_leave,
	.destroy = tr_destroy,
	.nodeid = tr_nodeid,
	.rejoin = tr_rejoin,
};

#define MAX_REPLIES 128
struct reply {
	uint32_t seq;
	uint32_t type;
	int error;
	size_t len;
	uint8_t data[1024];
};
static struct reply replies[MAX_REPLIES];
static size_t n_replies;

static void sink(void *ctx, const struct ulog_msg *req, int error, const void *data, size_t len)
{
	struct reply *r;

	assert_true(n_replies < MAX_REPLIES);
	/* exactly once per request: a seq is never answered twice */
	for (size_t i = 0; i < n_replies; i++)
		assert_int_not_equal(replies[i].seq, req->seq);
	r = &replies[n_replies++];
	r->seq = req->seq;
	r->type = req->type;
	r->error = error;
	r->len = len;
	if (len)
		memcpy(r->data, data, len);
}

/* ---- request builders ------------------------------------------------------------------------- */

static uint32_t next_seq = 1;

static struct ulog_msg mk(uint32_t type, const char *uuid, uint64_t luid)
{
	struct ulog_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.seq = next_seq++;
	m.version = 3;
	m.luid = luid;
	snprintf(m.uuid, sizeof(m.uuid), "%s", uuid);
	return m;
}

static struct ulog_msg mk_str(uint32_t type, const char *uuid, uint64_t luid, const char *s,
			      bool with_nul)
{
	struct ulog_msg m = mk(type, uuid, luid);

	m.data_size = (uint32_t)(strlen(s) + (with_nul ? 1 : 0));
	memcpy(m.data, s, strlen(s));
	return m;
}

static struct ulog_msg mk_u64s(uint32_t type, const char *uuid, uint64_t luid, const uint64_t *v,
			       size_t n)
{
	struct ulog_msg m = mk(type, uuid, luid);

	m.data_size = (uint32_t)(n * 8);
	memcpy(m.data, v, n * 8);
	return m;
}

/* Send @m and return its (single) reply after the before-sleep phase, or NULL if parked. */
static struct reply *req(struct mlog_table *t, const struct ulog_msg *m)
{
	size_t before = n_replies;

	mlog_table_request(t, m);
	mlog_table_pump(t);
	mlog_table_flush_replies(t);
	if (n_replies == before)
		return NULL;
	assert_int_equal(n_replies, before + 1);
	assert_int_equal(replies[before].seq, m->seq);
	return &replies[before];
}

/* The reply to @seq; the test fails (and stops) when there is none. */
static struct reply *find_reply(uint32_t seq)
{
	for (size_t i = 0; i < n_replies; i++)
		if (replies[i].seq == seq)
			return &replies[i];
	fail_msg("no reply to seq %u", seq);
	abort();
}

/* Send @m and return its reply, which must have been sent at once. */
static struct reply *now(struct mlog_table *t, const struct ulog_msg *m)
{
	struct reply *r = req(t, m);

	if (!r) {
		fail_msg("request seq %u was not answered at once", m->seq);
		abort();
	}
	return r;
}

static uint64_t u64_of(const struct reply *r, size_t i)
{
	uint64_t v;

	memcpy(&v, r->data + 8 * i, 8);
	return v;
}

static struct mlog_table *new_table(void)
{
	struct mlog_env env;
	struct mlog_table *t;

	memset(&env, 0, sizeof(env));
	env.transport = &fake_transport;
	env.reply = sink;
	assert_int_equal(mlog_table_create(&t, &env), 0);
	n_replies = 0;
	groups_created = groups_destroyed = tr_created = tr_destroyed = 0;
	last_group = NULL;
	last_tr = NULL;
	return t;
}

#define U "LVM-test-uuid-0001"

static void ctr_core(struct mlog_table *t, uint64_t luid, const char *args)
{
	struct ulog_msg m = mk_str(ULOG_CTR, U, luid, args, false);
	struct reply *r = now(t, &m);

	assert_non_null(r);
	assert_int_equal(r->error, 0);
	assert_int_equal(r->len, 0);
}

/* RESUME a core log and let the fake group answer it. */
/* The group got RESUME @m as its first request: answer it, and see the kernel answered. */
static void answer_resume(struct mlog_table *t, const struct ulog_msg *m)
{
	assert_non_null(last_group);
	assert_int_equal(last_group->reqs[0].type, GROUP_REQ_RESUME);
	group_answer(last_group, 0, 0, 0, 0);
	mlog_table_flush_replies(t);
	assert_non_null(find_reply(m->seq));
	assert_int_equal(find_reply(m->seq)->error, 0);
}

static void resume(struct mlog_table *t, uint64_t luid)
{
	struct ulog_msg m = mk(ULOG_RESUME, U, luid);

	assert_null(req(t, &m)); /* answered by the group, not at once */
	answer_resume(t, &m);
}

/* ---- tests ------------------------------------------------------------------------------------ */

/*
 * GROUP_EV_INCOMPATIBLE naming another node is only reported; naming this node (it was
 * stuck in a barrier and the others excluded it, or it could not apply an ordered change)
 * makes it rejoin the group as a new member, from the before-sleep phase, once.
 */
static void test_excluded_self_rejoins(void **state)
{
	struct mlog_table *t = new_table();
	struct group *g;
	uint64_t other = 3 | (uint64_t)1 << 32 | (uint64_t)GROUP_INCOMPAT_MAGIC << 48;
	uint64_t self = 7 | (uint64_t)0xffff << 32 | (uint64_t)GROUP_INCOMPAT_SILENT << 48;

	(void)state;
	ctr_core(t, 1, "1000 clustered-core 8");
	resume(t, 1);
	g = last_group;
	assert_non_null(last_tr);
	g->ops->event(g->ctx, GROUP_EV_INCOMPATIBLE, other);
	mlog_table_pump(t);
	assert_int_equal(last_tr->rejoins, 0);
	g->ops->event(g->ctx, GROUP_EV_INCOMPATIBLE, self);
	assert_int_equal(last_tr->rejoins, 0); /* never inside the group's callback */
	assert_true(mlog_table_has_work(t));
	mlog_table_pump(t);
	assert_int_equal(last_tr->rejoins, 1);
	mlog_table_pump(t);
	assert_int_equal(last_tr->rejoins, 1);
	/* out of memory applying an ordered change: the same way out */
	g->ops->event(g->ctx, GROUP_EV_INCOMPATIBLE,
		      7 | (uint64_t)0xffff << 32 | (uint64_t)GROUP_INCOMPAT_LOCAL << 48);
	mlog_table_pump(t);
	assert_int_equal(last_tr->rejoins, 2);
	mlog_table_destroy(t);
}

/*
 * Group commit across logs: each log is its own CPG group, so one message cannot carry two
 * logs' commits; instead the before-sleep phase (mlog_table_pump) pumps every group with
 * something to send in the same pass, and corosync packs what is queued between two token
 * visits into one frame (HACKING.md "Life of a write"). Three logs with pending commits: one
 * pass pumps all three, once each; a log with nothing to send is left alone.
 */
static void test_pump_every_log(void **state)
{
	static const char *const uuids[] = {"LVM-pump-a", "LVM-pump-b", "LVM-pump-c",
					    "LVM-pump-idle"};
	struct mlog_table *t = new_table();
	struct group *g[4];
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		struct ulog_msg c = mk_str(ULOG_CTR, uuids[i], 1, "1000 clustered-core 8", false);
		struct ulog_msg m = mk(ULOG_RESUME, uuids[i], 1);
		struct reply *r = now(t, &c);

		assert_non_null(r);
		assert_int_equal(r->error, 0);
		assert_null(req(t, &m));
		answer_resume(t, &m);
		g[i] = last_group;
		g[i]->pumps = 0;
	}
	assert_false(mlog_table_has_work(t));
	for (i = 0; i < 3; i++)
		g[i]->wants = true;
	assert_true(mlog_table_has_work(t));
	mlog_table_pump(t);
	for (i = 0; i < 3; i++)
		assert_int_equal(g[i]->pumps, 1);
	assert_int_equal(g[3]->pumps, 0);
	assert_false(mlog_table_has_work(t));
	mlog_table_destroy(t);
}

struct rec_seen {
	unsigned int rejected, summaries;
	char last[192];
};

static void on_rec(void *ctx, enum mlog_record kind, const char *uuid, const char *text)
{
	struct rec_seen *rs = ctx;

	(void)uuid;
	if (kind != MLOG_REC_ERROR)
		return;
	if (strstr(text, "rejected a message"))
		rs->rejected++;
	else if (strstr(text, "more messages"))
		rs->summaries++;
	snprintf(rs->last, sizeof(rs->last), "%s", text);
}

/* A peer that floods rejected messages gets a bounded number of log lines, then a count. */
static void test_bad_message_rate_limit(void **state)
{
	struct rec_seen rs = {0};
	struct mlog_env env;
	struct mlog_table *t;
	struct group *g;
	int i;

	(void)state;
	memset(&env, 0, sizeof(env));
	env.transport = &fake_transport;
	env.reply = sink;
	env.record = on_rec;
	env.record_ctx = &rs;
	assert_int_equal(mlog_table_create(&t, &env), 0);
	n_replies = 0;
	last_group = NULL;
	ctr_core(t, 1, "1000 clustered-core 8");
	resume(t, 1);
	g = last_group;
	mlog_table_tick(t, 100000);
	for (i = 0; i < 20; i++)
		g->ops->event(g->ctx, GROUP_EV_BAD_MESSAGE, 4);
	assert_int_equal(rs.rejected, 5);
	assert_int_equal(rs.summaries, 0);
	mlog_table_tick(t, 105000); /* the window is still open */
	assert_int_equal(rs.summaries, 0);
	mlog_table_tick(t, 110000); /* it ended: one line counts the 15 others */
	assert_int_equal(rs.summaries, 1);
	assert_non_null(strstr(rs.last, "rejected 15 more messages (last node 4)"));
	mlog_table_tick(t, 120000); /* nothing suppressed since: no further summary */
	assert_int_equal(rs.summaries, 1);
	g->ops->event(g->ctx, GROUP_EV_BAD_MESSAGE, 5); /* a new window writes again */
	assert_int_equal(rs.rejected, 6);
	mlog_table_destroy(t);
}

static void test_unknown_log(void **state)
{
	static const uint32_t r_types[] = {
		ULOG_IS_CLEAN,	      ULOG_IN_SYNC,
		ULOG_FLUSH,	      ULOG_MARK_REGION,
		ULOG_CLEAR_REGION,    ULOG_GET_RESYNC_WORK,
		ULOG_SET_REGION_SYNC, ULOG_GET_SYNC_COUNT,
		ULOG_STATUS_INFO,     ULOG_IS_REMOTE_RECOVERING,
	};
	struct mlog_table *t = new_table();
	struct ulog_msg m;
	struct reply *r;
	size_t i;

	for (i = 0; i < sizeof(r_types) / sizeof(r_types[0]); i++) {
		m = mk(r_types[i], U, 1);
		r = now(t, &m);
		assert_non_null(r);
		assert_int_equal(r->error, -ESRCH);
		assert_int_equal(r->len, 0);
	}
	m = mk(ULOG_DTR, U, 1);
	r = now(t, &m);
	assert_int_equal(r->error, 0);
	m = mk(ULOG_RESUME, U, 1);
	assert_int_equal(now(t, &m)->error, -ESRCH);
	assert_int_equal(mlog_table_count(t), 0);
	mlog_table_destroy(t);
}

static void test_ctr_and_local_answers(void **state)
{
	struct mlog_table *t = new_table();
	struct ulog_msg m;
	struct reply *r;

	/* bad constructor: negative error, no instance */
	m = mk_str(ULOG_CTR, U, 1, "1000 clustered-core 3", false);
	r = now(t, &m);
	assert_int_equal(r->error, -EINVAL);
	assert_int_equal(mlog_table_count(t), 0);

	ctr_core(t, 1, "1000 clustered-core 8");
	assert_int_equal(mlog_table_count(t), 1);
	assert_int_equal(mlog_table_active(t), 0);

	m = mk(ULOG_GET_REGION_SIZE, U, 1);
	r = now(t, &m);
	assert_int_equal(r->error, 0);
	assert_int_equal(r->len, 8);
	assert_int_equal(u64_of(r, 0), 8);

	/* before RESUME: conservative sync count, status answered */
	m = mk(ULOG_GET_SYNC_COUNT, U, 1);
	r = now(t, &m);
	assert_int_equal(r->len, 8);
	assert_int_equal(u64_of(r, 0), 0);
	m = mk(ULOG_STATUS_INFO, U, 1);
	r = now(t, &m);
	assert_int_equal(r->error, 0);
	assert_string_equal((const char *)r->data, "1 clustered-core");
	assert_int_equal(r->len, strlen("1 clustered-core") + 1);
	m = mk(ULOG_STATUS_TABLE, U, 1);
	r = now(t, &m);
	assert_int_equal(r->error, 0);
	assert_true(strncmp((const char *)r->data, "clustered-core 8", 16) == 0);

	/* IN_SYNC never fails for a known log; MARK on a never-resumed log -> -ESRCH */
	uint64_t reg = 3;
	m = mk_u64s(ULOG_IN_SYNC, U, 1, &reg, 1);
	r = now(t, &m);
	assert_int_equal(r->error, 0);
	assert_int_equal(u64_of(r, 0), 0);
	m = mk_u64s(ULOG_MARK_REGION, U, 1, &reg, 1);
	assert_int_equal(now(t, &m)->error, -ESRCH);

	/* duplicate and reconnect CTRs succeed without data */
	ctr_core(t, 1, "1000 clustered-core 8");
	m = mk_str(ULOG_CTR, U, 1, "1000 clustered-core 8", true);
	r = now(t, &m);
	assert_int_equal(r->error, 0);
	assert_int_equal(r->len, 0);
	assert_int_equal(mlog_table_count(t), 1);

	/* nosync: the count is region_count before resume (125 regions) */
	ctr_core(t, 2, "1000 clustered-core 8 nosync");
	m = mk(ULOG_GET_SYNC_COUNT, U, 2);
	assert_int_equal(u64_of(now(t, &m), 0), 125);

	/* DTR of a never-resumed log */
	m = mk(ULOG_DTR, U, 1);
	assert_int_equal(now(t, &m)->error, 0);
	assert_int_equal(mlog_table_count(t), 1);
	assert_int_equal(groups_created, 0);
	mlog_table_destroy(t);
}

static void test_resume_and_routing(void **state)
{
	struct mlog_table *t = new_table();
	struct ulog_msg m, m2;
	struct reply *r;
	struct group *g;
	uint64_t regs[3] = {1, 5, 124}, bad = 125, pair[2];

	ctr_core(t, 1, "1000 clustered-core 8");
	resume(t, 1);
	g = last_group;
	assert_int_equal(g->p.my_nodeid, 7);
	assert_int_equal(g->p.region_count, 125);
	assert_int_equal(g->p.type, GROUP_LOG_CORE);
	assert_true(g->started);
	assert_false(g->image_given);
	assert_int_equal(mlog_table_active(t), 1);

	/* duplicate RESUME: immediate success, no new group */
	m = mk(ULOG_RESUME, U, 1);
	assert_int_equal(now(t, &m)->error, 0);
	assert_int_equal(groups_created, 1);

	/* out of range -> -EINVAL, never routed */
	m = mk_u64s(ULOG_MARK_REGION, U, 1, &bad, 1);
	assert_int_equal(now(t, &m)->error, -EINVAL);
	m = mk_u64s(ULOG_IN_SYNC, U, 1, &bad, 1);
	assert_int_equal(now(t, &m)->error, -EINVAL);
	assert_int_equal(g->n_reqs, 1);

	/* integrated FLUSH: routed with its regions, answered when the group says */
	m = mk_u64s(ULOG_FLUSH, U, 1, regs, 3);
	assert_null(req(t, &m));
	assert_int_equal(g->reqs[1].type, GROUP_REQ_FLUSH);
	assert_int_equal(g->reqs[1].n_regions, 3);
	assert_int_equal(g->reqs[1].regions[2], 124);

	/* IN_SYNC answered out of order relative to the FLUSH */
	m2 = mk_u64s(ULOG_IN_SYNC, U, 1, &regs[1], 1);
	assert_null(req(t, &m2));
	assert_int_equal(g->reqs[2].region, 5);
	group_answer(g, 2, 0, 1, 0);
	group_answer(g, 1, 0, 0, 0);
	mlog_table_flush_replies(t);
	r = find_reply(m2.seq);
	assert_int_equal(r->error, 0);
	assert_int_equal(r->len, 8);
	assert_int_equal(u64_of(r, 0), 1);
	r = find_reply(m.seq);
	assert_int_equal(r->error, 0);
	assert_int_equal(r->len, 0);

	/* SET_REGION_SYNC decodes {region, in_sync} */
	pair[0] = 9;
	pair[1] = 1;
	m = mk_u64s(ULOG_SET_REGION_SYNC, U, 1, pair, 2);
	assert_null(req(t, &m));
	assert_int_equal(g->reqs[3].type, GROUP_REQ_SET_REGION_SYNC);
	assert_int_equal(g->reqs[3].region, 9);
	assert_true(g->reqs[3].in_sync);
	group_answer(g, 3, 0, 0, 0);
	mlog_table_flush_replies(t);
	assert_int_equal(find_reply(m.seq)->error, 0);
	assert_int_equal(find_reply(m.seq)->len, 0);

	/* GET_RESYNC_WORK / IS_REMOTE_RECOVERING / GET_SYNC_COUNT payload shapes */
	m = mk(ULOG_GET_RESYNC_WORK, U, 1);
	req(t, &m);
	group_answer(g, 4, 0, 1, 42);
	mlog_table_flush_replies(t);
	m2 = mk_u64s(ULOG_IS_REMOTE_RECOVERING, U, 1, &regs[0], 1);
	req(t, &m2);
	group_answer(g, 5, 0, 0, 17);
	mlog_table_flush_replies(t);
	r = find_reply(m.seq);
	assert_int_equal(r->len, 16);
	assert_int_equal(u64_of(r, 0), 1);
	assert_int_equal(u64_of(r, 1), 42);
	r = find_reply(m2.seq);
	assert_int_equal(r->len, 16);
	assert_int_equal(u64_of(r, 0), 0);
	assert_int_equal(u64_of(r, 1), 17);
	m = mk(ULOG_GET_SYNC_COUNT, U, 1);
	req(t, &m);
	group_answer(g, 6, 0, 0, 99);
	mlog_table_flush_replies(t);
	assert_int_equal(u64_of(find_reply(m.seq), 0), 99);

	/* an error from the group carries no data */
	m = mk(ULOG_FLUSH, U, 1);
	req(t, &m);
	group_answer(g, 7, -EIO, 0, 0);
	mlog_table_flush_replies(t);
	assert_int_equal(find_reply(m.seq)->error, -EIO);
	assert_int_equal(find_reply(m.seq)->len, 0);

	/* PRESUSPEND is local; traffic continues */
	m = mk(ULOG_PRESUSPEND, U, 1);
	assert_int_equal(now(t, &m)->error, 0);
	assert_true(g->presuspended);

	/* DTR of a resumed log: outstanding requests are answered, group and transport gone */
	m = mk(ULOG_CLEAR_REGION, U, 1);
	m.data_size = 8;
	memcpy(m.data, &regs[0], 8);
	assert_null(req(t, &m));
	m2 = mk(ULOG_DTR, U, 1);
	mlog_table_request(t, &m2);
	mlog_table_pump(t);
	mlog_table_flush_replies(t);
	assert_int_equal(find_reply(m2.seq)->error, 0);
	assert_int_equal(find_reply(m.seq)->error, -ESRCH);
	assert_int_equal(groups_destroyed, 1);
	assert_int_equal(tr_destroyed, 1);
	mlog_table_destroy(t);
}

struct seen {
	int n;
	uint64_t luid[4];
	enum mlog_state state[4];
	bool has_group[4];
	uint64_t sync_count[4];
};

static void collect(void *ctx, const struct mlog_info *i)
{
	struct seen *s = ctx;

	assert_true(s->n < 4);
	s->luid[s->n] = i->luid;
	s->state[s->n] = i->state;
	s->has_group[s->n] = i->has_group;
	s->sync_count[s->n] = i->sync_count;
	s->n++;
}

static void test_suspend_reload(void **state)
{
	struct mlog_table *t = new_table();
	struct ulog_msg m;
	struct group *g;
	uint64_t reg = 10;

	ctr_core(t, 1, "1024 clustered-core 8 nosync");
	resume(t, 1);
	g = last_group;
	/* nosync: all clean; region 10 marked in the replica: not clean at suspend time */
	assert_int_equal(rlog_mark(g->rl, 7, &reg, 1), 0);

	/* reload: CTR of the new table (same uuid, new luid) while the old one is live */
	ctr_core(t, 2, "1024 clustered-core 8 nosync");
	m = mk(ULOG_PRESUSPEND, U, 1);
	assert_int_equal(now(t, &m)->error, 0);
	m = mk(ULOG_POSTSUSPEND, U, 1);
	assert_null(req(t, &m));
	assert_int_equal(g->reqs[1].type, GROUP_REQ_POSTSUSPEND);
	/* a delayed FLUSH racing POSTSUSPEND: parked at the group, left unanswered by it */
	struct ulog_msg late = mk(ULOG_FLUSH, U, 1);

	assert_null(req(t, &late));
	group_answer(g, 1, 0, 0, 0);
	mlog_table_pump(t); /* before-sleep: leave + drop the group */
	mlog_table_flush_replies(t);
	assert_int_equal(find_reply(m.seq)->error, 0);
	assert_non_null(find_reply(late.seq));
	assert_int_equal(find_reply(late.seq)->error, 0); /* never -ESRCH */
	assert_int_equal(groups_destroyed, 1);
	assert_non_null(last_tr);
	assert_true(last_tr->leaving);
	mlog_transport_left(last_tr->owner);
	mlog_table_pump(t);
	assert_int_equal(tr_destroyed, 1);

	/*
	 * Bug A: integrated_flush runs a delayed FLUSH (no payload) for the old luid after its
	 * POSTSUSPEND (userspace_dtr). It must succeed, never -ESRCH (the reconnect RESUME of
	 * the old luid would hang `dmsetup resume`); so must a lazy CLEAR. A mark cannot be
	 * made durable without a group: -EIO, never -ESRCH.
	 */
	m = mk(ULOG_FLUSH, U, 1);
	assert_int_equal(now(t, &m)->error, 0);
	m = mk_u64s(ULOG_CLEAR_REGION, U, 1, &reg, 1);
	assert_int_equal(now(t, &m)->error, 0);
	m = mk_u64s(ULOG_FLUSH, U, 1, &reg, 1);
	assert_int_equal(now(t, &m)->error, -EIO);
	m = mk_u64s(ULOG_MARK_REGION, U, 1, &reg, 1);
	assert_int_equal(now(t, &m)->error, -EIO);

	/* suspended log: sync count from the saved state, status still answered */
	m = mk(ULOG_GET_SYNC_COUNT, U, 1);
	assert_int_equal(u64_of(now(t, &m), 0), 128);
	m = mk(ULOG_STATUS_INFO, U, 1);
	assert_int_equal(now(t, &m)->error, 0);

	/* RESUME(new) starts from the old instance's clean bits */
	resume(t, 2);
	g = last_group;
	assert_true(g->image_given);
	assert_int_equal(g->image_regions, 128);
	assert_int_equal(g->image[1], 0xFB); /* region 10 dirty, the rest clean */
	assert_int_equal(g->image[0], 0xFF);

	/* the status hook: both instances, in (uuid, luid) order */
	struct seen sn = {0};

	mlog_table_status_fill(t, collect, &sn);
	assert_int_equal(sn.n, 2);
	assert_int_equal(sn.luid[0], 1);
	assert_int_equal(sn.state[0], MLOG_SUSPENDED);
	assert_false(sn.has_group[0]);
	assert_int_equal(sn.sync_count[0], 128);
	assert_int_equal(sn.luid[1], 2);
	assert_int_equal(sn.state[1], MLOG_RESUMED);
	assert_true(sn.has_group[1]);
	assert_int_equal(mlog_table_active(t), 1);

	m = mk(ULOG_DTR, U, 1);
	assert_int_equal(now(t, &m)->error, 0);
	assert_int_equal(mlog_table_count(t), 1);
	mlog_table_destroy(t);
}

static void wait_disk(struct mlog_table *t)
{
	/* the disk worker completes asynchronously; mlog has no loop in tests */
	for (int i = 0; i < 200 && !last_group; i++) {
		usleep(5000);
		mlog_table_poll_disks(t);
	}
}

static void test_disk_log(void **state)
{
	struct mlog_table *t = new_table();
	char path[64], args[200];
	struct ulog_msg m;
	struct reply *r;
	uint8_t img[1536], back[1536];
	int fd;

	snprintf(path, sizeof(path), "/tmp/cmlog-test-mlog-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	snprintf(args, sizeof(args), "2048 clustered-disk %s 16", path);

	/* initial CTR of version 3: the device name comes back with its NUL */
	m = mk_str(ULOG_CTR, U, 1, args, false);
	r = now(t, &m);
	assert_int_equal(r->error, 0);
	assert_int_equal(r->len, strlen(path) + 1);
	assert_string_equal((const char *)r->data, path);
	/* reconnect CTR: never data */
	m = mk_str(ULOG_CTR, U, 1, args, true);
	r = now(t, &m);
	assert_int_equal(r->error, 0);
	assert_int_equal(r->len, 0);
	/* version 1: no data either */
	m = mk_str(ULOG_CTR, U, 3, args, false);
	m.version = 1;
	r = now(t, &m);
	assert_int_equal(r->error, 0);
	assert_int_equal(r->len, 0);
	/* a missing device fails the CTR with a negative error */
	m = mk_str(ULOG_CTR, U, 4, "2048 clustered-disk /nonexistent/dev 16", false);
	assert_true(now(t, &m)->error < 0);

	/* RESUME with a zeroed device: bad header -> fresh log (no image) */
	m = mk(ULOG_RESUME, U, 1);
	assert_null(req(t, &m));
	wait_disk(t);
	assert_non_null(last_group);
	assert_int_equal(last_group->p.type, GROUP_LOG_DISK);
	assert_int_equal(last_group->p.block_size, 512);
	assert_false(last_group->image_given);
	group_answer(last_group, 0, 0, 0, 0);
	mlog_table_flush_replies(t);
	assert_int_equal(find_reply(m.seq)->error, 0);

	/* a valid header: the image reaches group_start on the next instance's RESUME */
	memset(img, 0, sizeof(img));
	img[0] = 0x72;
	img[1] = 0x52;
	img[2] = 0x69;
	img[3] = 0x4D;
	img[4] = 2;
	img[8] = 128;
	img[1024] = 0x5A;
	assert_int_equal(pwrite(fd, img, sizeof(img), 0), (ssize_t)sizeof(img));
	last_group = NULL;
	m = mk(ULOG_RESUME, U, 3);
	assert_null(req(t, &m));
	wait_disk(t);
	assert_non_null(last_group);
	assert_true(last_group->image_given);
	assert_int_equal(last_group->image_regions, 128);
	assert_int_equal(last_group->image[0], 0x5A);
	group_answer(last_group, 0, 0, 0, 0);
	mlog_table_flush_replies(t);
	assert_int_equal(find_reply(m.seq)->error, 0);

	/* DTR never writes the device */
	m = mk(ULOG_DTR, U, 3);
	assert_int_equal(now(t, &m)->error, 0);
	m = mk(ULOG_DTR, U, 1);
	assert_int_equal(now(t, &m)->error, 0);
	assert_int_equal(pread(fd, back, sizeof(back), 0), (ssize_t)sizeof(back));
	assert_memory_equal(back, img, sizeof(img));
	close(fd);
	unlink(path);
	mlog_table_destroy(t);
}

static struct disk_state_writer *state_w;

static struct mlog_table *new_table_dir(const char *dir)
{
	struct mlog_env env;
	struct mlog_table *t;

	if (!state_w)
		assert_int_equal(disk_state_writer_create(&state_w), 0);
	memset(&env, 0, sizeof(env));
	env.transport = &fake_transport;
	env.reply = sink;
	env.state_dir = dir;
	env.state_writer = state_w;
	assert_int_equal(mlog_table_create(&t, &env), 0);
	n_replies = 0;
	groups_created = groups_destroyed = tr_created = tr_destroyed = 0;
	last_group = NULL;
	last_tr = NULL;
	return t;
}

static void write_state(const char *dir, uint64_t regions, const uint8_t *bits)
{
	char path[512];
	uint8_t buf[256];
	FILE *f;
	int len;

	assert_int_equal(disk_state_path(dir, U, path, sizeof(path)), 0);
	len = disk_state_encode(regions, bits, buf, sizeof(buf));
	assert_true(len > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, (size_t)len, f), (size_t)len);
	assert_int_equal(fclose(f), 0);
}

/*
 * A reconnect RESUME: the state file is read on the writer's thread, so the group starts
 * only when the loop runs the load's completion (here: polled like the loop would).
 */
static void resume_reconnect(struct mlog_table *t, uint64_t luid)
{
	struct ulog_msg m = mk(ULOG_RESUME, U, luid);

	last_group = NULL;
	assert_null(req(t, &m));
	assert_null(last_group); /* not before the file is read */
	for (int i = 0; i < 400 && !last_group; i++) {
		usleep(5000);
		disk_state_complete(state_w);
	}
	answer_resume(t, &m);
}

/* Bug B: a reconnect RESUME after a daemon restart uses the persisted sync bitmap. */
static void test_reconnect_sync_state(void **state)
{
	char dir[] = "/tmp/cmlog-mlog-XXXXXX", path[512];
	uint8_t bits[16];
	struct mlog_table *t;
	struct ulog_msg m;

	assert_non_null(mkdtemp(dir));
	memset(bits, 0xFF, sizeof(bits));
	bits[0] = 0xF7; /* region 3 was not in sync (mid-resync): it must stay out of sync */
	write_state(dir, 128, bits);

	/* reconnect CTR ("sync" given: the file still wins, the live kernel never resyncs) */
	t = new_table_dir(dir);
	m = mk_str(ULOG_CTR, U, 1, "1024 clustered-core 8 sync", true);
	assert_int_equal(now(t, &m)->error, 0);
	resume_reconnect(t, 1);
	/* in sync from the file, but not clean: a core log has no image, all dirty */
	assert_false(last_group->image_given);
	assert_true(last_group->sync_given);
	assert_int_equal(last_group->sync_regions, 128);
	assert_int_equal(last_group->sync[0], 0xF7);
	assert_int_equal(rlog_sync_count(last_group->rl), 127);
	assert_int_equal(rlog_clean_count(last_group->rl), 0);
	mlog_table_destroy(t);

	/* an initial CTR (fresh activation, a real table load): the file is not used */
	t = new_table_dir(dir);
	ctr_core(t, 1, "1024 clustered-core 8");
	resume(t, 1);
	assert_false(last_group->image_given);
	assert_int_equal(rlog_sync_count(last_group->rl), 0);
	mlog_table_destroy(t);

	/* a file for another region count is ignored: conservative */
	write_state(dir, 64, bits);
	t = new_table_dir(dir);
	m = mk_str(ULOG_CTR, U, 1, "1024 clustered-core 8", true);
	assert_int_equal(now(t, &m)->error, 0);
	resume_reconnect(t, 1);
	assert_false(last_group->image_given);
	assert_int_equal(rlog_sync_count(last_group->rl), 0);
	mlog_table_destroy(t);

	/*
	 * The resume is given up (POSTSUSPEND) or the table destroyed while the file is being
	 * read: no callback reaches the freed log (ASan and valgrind watch this).
	 */
	write_state(dir, 128, bits);
	t = new_table_dir(dir);
	m = mk_str(ULOG_CTR, U, 1, "1024 clustered-core 8", true);
	assert_int_equal(now(t, &m)->error, 0);
	m = mk(ULOG_RESUME, U, 1);
	assert_null(req(t, &m));
	{
		/* POSTSUSPEND answers itself and gives the resume up (-EINTR) */
		struct ulog_msg p = mk(ULOG_POSTSUSPEND, U, 1);

		mlog_table_request(t, &p);
		mlog_table_pump(t);
		mlog_table_flush_replies(t);
		assert_int_equal(find_reply(p.seq)->error, 0);
		assert_int_equal(find_reply(m.seq)->error, -EINTR);
	}
	usleep(20000);
	disk_state_complete(state_w);
	assert_null(last_group); /* the given-up resume started nothing */
	m = mk_str(ULOG_CTR, U, 2, "1024 clustered-core 8", true);
	assert_int_equal(now(t, &m)->error, 0);
	m = mk(ULOG_RESUME, U, 2);
	assert_null(req(t, &m));
	mlog_table_destroy(t); /* the load of luid 2 may still be queued or running */
	usleep(20000);
	disk_state_complete(state_w);

	assert_int_equal(disk_state_path(dir, U, path, sizeof(path)), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	disk_state_writer_destroy(state_w);
	state_w = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_log),
		cmocka_unit_test(test_excluded_self_rejoins),
		cmocka_unit_test(test_pump_every_log),
		cmocka_unit_test(test_bad_message_rate_limit),
		cmocka_unit_test(test_ctr_and_local_answers),
		cmocka_unit_test(test_resume_and_routing),
		cmocka_unit_test(test_suspend_reload),
		cmocka_unit_test(test_disk_log),
		cmocka_unit_test(test_reconnect_sync_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
