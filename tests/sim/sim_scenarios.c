/*
 * sim_scenarios: scripted scenarios over cluster/sim.c, each checking the replies the kernel
 * gets and the replicas (see the scenario list in main). Prints "N passed, N failed".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/msg.h"
#include "cluster/sim.h"
#include "log/rlog.h"

static unsigned checks_failed;
static const char *scenario;

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s: %s:%d: check failed: %s\n", scenario, __FILE__, \
				__LINE__, #cond);                                            \
			checks_failed++;                                                     \
		}                                                                            \
	} while (0)

/* Create the simulation of @p and start nodes 1..@start, each synced before the next. */
static struct sim *mk_params(const struct sim_params *p, unsigned start)
{
	struct sim *s = NULL;
	uint32_t i;

	if (sim_create(&s, p))
		return NULL;
	for (i = 1; i <= start; i++) {
		uint64_t t = sim_start(s, i);

		sim_settle(s, 100000);
		CHECK(sim_reply(s, t) && sim_reply(s, t)->done && sim_reply(s, t)->r.error == 0);
	}
	return s;
}

/* The parameters most scenarios share; a scenario changes what it needs before sim_create. */
static struct sim_params params(unsigned n, enum group_log_type type, uint64_t regions,
				enum rlog_sync_mode mode)
{
	struct sim_params p;

	memset(&p, 0, sizeof(p));
	p.n_nodes = n;
	p.type = type;
	p.region_count = regions;
	p.sync_mode = mode;
	p.seed = 12345;
	p.disk_delay_max = 3;
	return p;
}

static struct sim *mk(unsigned n, enum group_log_type type, uint64_t regions,
		      enum rlog_sync_mode mode, unsigned start)
{
	struct sim_params p = params(n, type, regions, mode);

	return mk_params(&p, start);
}

static uint64_t rq(struct sim *s, uint32_t node, enum group_req_type t, uint64_t region,
		   bool in_sync)
{
	struct group_req q;

	memset(&q, 0, sizeof(q));
	q.type = t;
	q.region = region;
	q.in_sync = in_sync;
	return sim_request(s, node, &q);
}

static uint64_t rq_regions(struct sim *s, uint32_t node, enum group_req_type t,
			   const uint64_t *regions, uint32_t n)
{
	struct group_req q;

	memset(&q, 0, sizeof(q));
	q.type = t;
	memcpy(q.regions, regions, n * sizeof(uint64_t));
	q.n_regions = n;
	return sim_request(s, node, &q);
}

static bool done_ok(struct sim *s, uint64_t t)
{
	const struct sim_reply_rec *r = sim_reply(s, t);

	return r && r->done && r->count == 1 && r->r.error == 0;
}

static bool pending(struct sim *s, uint64_t t)
{
	const struct sim_reply_rec *r = sim_reply(s, t);

	return r && !r->done;
}

static const struct rlog *rl(struct sim *s, uint32_t node)
{
	return group_rlog(sim_group(s, node));
}

static bool synced(struct sim *s, uint32_t node)
{
	struct group_status st;

	group_get_status(sim_group(s, node), &st);
	return st.synced && !st.settling;
}

static bool same_digest(struct sim *s, uint32_t a, uint32_t b)
{
	return rlog_digest(rl(s, a)) == rlog_digest(rl(s, b));
}

static bool clean(struct sim *s, uint32_t node, uint64_t r)
{
	bool b = false;

	rlog_is_clean(rl(s, node), r, &b);
	return b;
}

static bool in_sync(struct sim *s, uint32_t node, uint64_t r)
{
	bool b = false;

	rlog_in_sync(rl(s, node), r, &b);
	return b;
}

/* resync everything from @node until no work is left; returns the regions recovered */
static unsigned resync_all(struct sim *s, uint32_t node)
{
	unsigned n = 0;

	for (;;) {
		uint64_t t = rq(s, node, GROUP_REQ_GET_RESYNC_WORK, 0, false);
		const struct sim_reply_rec *r;

		sim_settle(s, 100000);
		r = sim_reply(s, t);
		if (!r || !r->done || !r->r.value)
			return n;
		rq(s, node, GROUP_REQ_SET_REGION_SYNC, r->r.value2, true);
		sim_settle(s, 100000);
		n++;
	}
}

/* 010: mark, flush, clear on 1 and on 3 nodes */
static void s010(void)
{
	unsigned n;

	for (n = 1; n <= 3; n += 2) {
		struct sim *s = mk(n, GROUP_LOG_CORE, 64, RLOG_SYNC_NONE, n);
		uint64_t r5 = 5, t, i;

		CHECK(s && synced(s, 1));
		t = rq_regions(s, 1, GROUP_REQ_MARK, &r5, 1);
		CHECK(done_ok(s, t)); /* MARK is acknowledged at once */
		t = rq(s, 1, GROUP_REQ_FLUSH, 0, false);
		CHECK(pending(s, t)); /* not before its commit is delivered */
		sim_settle(s, 100000);
		CHECK(done_ok(s, t));
		for (i = 1; i <= n; i++) {
			CHECK(rlog_node_marked(rl(s, (uint32_t)i), 1, 5));
			CHECK(!clean(s, (uint32_t)i, 5));
		}
		t = rq_regions(s, 1, GROUP_REQ_CLEAR, &r5, 1);
		CHECK(done_ok(s, t));
		t = rq(s, 1, GROUP_REQ_FLUSH, 0, false);
		CHECK(done_ok(s, t));  /* nothing new: the clear is deferred */
		sim_settle(s, 100000); /* the idle timer sends the clear */
		for (i = 1; i <= n; i++) {
			CHECK(clean(s, (uint32_t)i, 5));
			CHECK(same_digest(s, 1, (uint32_t)i));
		}
		/* IS_REMOTE_RECOVERING: local with one member, ordered with more */
		t = rq(s, 1, GROUP_REQ_IS_REMOTE_RECOVERING, 7, false);
		if (n == 1)
			CHECK(done_ok(s, t) && sim_reply(s, t)->r.value == 0 &&
			      sim_reply(s, t)->r.value2 == 64);
		else
			CHECK(pending(s, t));
		sim_settle(s, 100000);
		CHECK(done_ok(s, t));
		/* local reads and a bad region */
		t = rq(s, 1, GROUP_REQ_GET_SYNC_COUNT, 0, false);
		CHECK(done_ok(s, t) && sim_reply(s, t)->r.value2 == 64);
		t = rq(s, 1, GROUP_REQ_IN_SYNC, 64, false);
		CHECK(sim_reply(s, t)->done && sim_reply(s, t)->r.error == -EINVAL);
		CHECK(sim_errors(s) == 0);
		sim_destroy(s);
	}
}

/* 020: group commit: many FLUSHes pending at once leave as one COMMIT */
static void s020(void)
{
	struct sim *s = mk(3, GROUP_LOG_CORE, 256, RLOG_SYNC_NONE, 3);
	uint64_t t[10], i, sent;
	struct group_status st;

	for (i = 0; i < 10; i++) {
		uint64_t r = 10 + i;

		rq_regions(s, 2, GROUP_REQ_MARK, &r, 1);
		t[i] = rq(s, 2, GROUP_REQ_FLUSH, 0, false);
	}
	sent = sim_sent(s);
	group_pump(sim_group(s, 2));
	CHECK(sim_sent(s) == sent + 1);
	sim_settle(s, 100000);
	for (i = 0; i < 10; i++)
		CHECK(done_ok(s, t[i]));
	group_get_status(sim_group(s, 2), &st);
	CHECK(st.commits_sent == 1);
	/* under back-pressure the unsent commit keeps absorbing FLUSHes */
	sim_set_eagain(s, 100);
	for (i = 0; i < 5; i++) {
		uint64_t r = 40 + i;

		rq_regions(s, 2, GROUP_REQ_FLUSH, &r, 1);
		group_pump(sim_group(s, 2));
	}
	sent = sim_sent(s);
	sim_set_eagain(s, 0);
	group_pump(sim_group(s, 2));
	CHECK(sim_sent(s) == sent + 1);
	sim_settle(s, 100000);
	group_get_status(sim_group(s, 2), &st);
	CHECK(st.commits_sent == 2);
	CHECK(rlog_node_mark_count(rl(s, 1), 2) == 15);
	CHECK(same_digest(s, 1, 3));
	sim_destroy(s);
}

/* 030: a node crashes mid-write: the survivors resync its marked regions */
static void s030(void)
{
	struct sim *s = mk(3, GROUP_LOG_CORE, 128, RLOG_SYNC_NONE, 3);
	uint64_t regs[2] = {10, 11}, t;

	t = rq_regions(s, 2, GROUP_REQ_FLUSH, regs, 2);
	sim_settle(s, 100000);
	CHECK(done_ok(s, t));
	sim_crash(s, 2);
	sim_settle(s, 100000);
	CHECK(!in_sync(s, 1, 10) && !in_sync(s, 3, 11));
	CHECK(rlog_sync_count(rl(s, 1)) == 126);
	CHECK(resync_all(s, 1) == 2);
	CHECK(rlog_sync_count(rl(s, 1)) == 128 && rlog_sync_count(rl(s, 3)) == 128);
	CHECK(same_digest(s, 1, 3));
	sim_destroy(s);
}

/* 040: the crash of the resync holder releases the assignment */
static void s040(void)
{
	struct sim *s = mk(3, GROUP_LOG_CORE, 32, RLOG_SYNC_DEFAULT, 3);
	uint64_t t, region;

	t = rq(s, 3, GROUP_REQ_GET_RESYNC_WORK, 0, false);
	sim_settle(s, 100000);
	CHECK(done_ok(s, t) && sim_reply(s, t)->r.value == 1);
	region = sim_reply(s, t)->r.value2;
	t = rq(s, 1, GROUP_REQ_GET_RESYNC_WORK, 0, false);
	sim_settle(s, 100000);
	CHECK(done_ok(s, t) && sim_reply(s, t)->r.value == 0); /* one assignment per log */
	sim_crash(s, 3);
	sim_settle(s, 100000);
	t = rq(s, 1, GROUP_REQ_GET_RESYNC_WORK, 0, false);
	sim_settle(s, 100000);
	CHECK(done_ok(s, t) && sim_reply(s, t)->r.value == 1 &&
	      sim_reply(s, t)->r.value2 == region);
	sim_destroy(s);
}

/* 050: the writer crashes with FLUSHes waiting: they complete without a resend, durable */
static void s050(void)
{
	struct sim_params p;
	struct sim *s = NULL;
	struct group_status st;
	uint64_t t, r = 77, i;
	uint32_t writer, other, n;
	const uint8_t *img;
	size_t len;

	memset(&p, 0, sizeof(p));
	p.n_nodes = 3;
	p.type = GROUP_LOG_DISK;
	p.region_count = 4096;
	p.sync_mode = RLOG_SYNC_NONE;
	p.block_size = 512;
	p.seed = 50;
	p.disk_delay_max = 1000000; /* writes land only when the sim has nothing else to do */
	CHECK(sim_create(&s, &p) == 0);
	for (n = 1; n <= 3; n++) {
		sim_start(s, n);
		sim_settle(s, 100000);
	}
	group_get_status(sim_group(s, 1), &st);
	writer = st.writer;
	CHECK(writer >= 1 && writer <= 3);
	other = writer == 1 ? 2 : 1;
	t = rq_regions(s, other, GROUP_REQ_FLUSH, &r, 1);
	/* deliver the commit, but let no write land */
	for (i = 0; i < 20; i++) {
		group_pump(sim_group(s, other));
		sim_pump_all(s);
		group_get_status(sim_group(s, other), &st);
		if (st.gen >= 1)
			break;
		sim_step(s);
	}
	CHECK(st.gen >= 1);
	CHECK(pending(s, t)); /* never before durable */
	sim_crash(s, writer);
	sim_settle(s, 100000);
	CHECK(done_ok(s, t));
	group_get_status(sim_group(s, other), &st);
	CHECK(st.writer != writer && st.writer != 0);
	img = sim_disk_image(s, &len);
	CHECK(!(img[RLOG_DISK_BITMAP_OFFSET + r / 8] & (1u << (r % 8))));
	CHECK(rlog_disk_decode_header(img, len, &r) == RLOG_DISK_OK && r == 4096);
	sim_destroy(s);
}

/*
 * 055: writer handover (protocol version 3, cluster/group.h "Writer"). Node 1 resumes every log
 * first (master resume: it is the writer), nodes 2 and 3 join with a FLUSH of node 1 waiting on
 * a write that has not landed. For each of 24 uuids the writer ends up at members[h(uuid) % 3]
 * (FNV-1a 32, recomputed here), all members agree, the writers of the 24 logs are spread over
 * all three nodes, every FLUSH completes and what it covered is on the device, and a later
 * FLUSH on each node is made durable by the new writer. With a version-2 member nothing moves.
 */
static uint32_t fnv1a_ref(const char *u)
{
	uint32_t h = 2166136261u;

	for (; *u; u++)
		h = (h ^ (uint8_t)*u) * 16777619u;
	return h;
}

static bool disk_bit(struct sim *s, uint64_t r)
{
	size_t len;
	const uint8_t *img = sim_disk_image(s, &len);

	/* on the device a set bit means clean: a marked region is a clear bit */
	return img && len > RLOG_DISK_BITMAP_OFFSET + r / 8 &&
	       (img[RLOG_DISK_BITMAP_OFFSET + r / 8] & (1u << (r % 8)));
}

static uint32_t handover_case(const char *uuid, uint32_t v3_max)
{
	struct sim_params p = params(3, GROUP_LOG_DISK, 1024, RLOG_SYNC_NONE);
	struct sim *s;
	struct group_status st;
	uint64_t r = 41, r2, t, t2[4];
	uint32_t n, w = 0;

	p.block_size = 512;
	p.seed = 55;
	p.disk_delay_max = 40;
	p.uuid = uuid;
	p.max_version[3] = v3_max;
	s = mk_params(&p, 1);
	CHECK(s != NULL);
	if (!s)
		return 0;
	group_get_status(sim_group(s, 1), &st);
	CHECK(st.writer == 1);
	t = rq_regions(s, 1, GROUP_REQ_FLUSH, &r, 1); /* waits for node 1's write */
	sim_start(s, 2);
	sim_start(s, 3);
	sim_settle(s, 200000);
	CHECK(done_ok(s, t) && !disk_bit(s, r));
	for (n = 1; n <= 3; n++) {
		group_get_status(sim_group(s, n), &st);
		CHECK(synced(s, n) && st.writer >= 1 && st.writer <= 3);
		if (n == 1)
			w = st.writer;
		CHECK(st.writer == w && same_digest(s, 1, n));
	}
	if (v3_max == 0)
		CHECK(w == 1 + fnv1a_ref(uuid) % 3);
	else
		CHECK(w == 1); /* version 2 in use: the master stays the writer */
	/* every node's next write is made durable by whoever writes now */
	for (n = 1; n <= 3; n++) {
		r2 = 100 + n;
		t2[n] = rq_regions(s, n, GROUP_REQ_FLUSH, &r2, 1);
	}
	sim_settle(s, 200000);
	for (n = 1; n <= 3; n++)
		CHECK(done_ok(s, t2[n]) && !disk_bit(s, 100 + n));
	sim_destroy(s);
	return w;
}

static void s055(void)
{
	char uuid[64];
	unsigned count[4] = {0}, i;

	for (i = 0; i < 24; i++) {
		snprintf(uuid, sizeof(uuid), "LVM-handover-%02u-Xz4VdRkq", i);
		count[handover_case(uuid, 0)]++;
	}
	CHECK(count[0] == 0 && count[1] && count[2] && count[3]);
	/* a member that speaks version 2: no TAKEOVER, no HANDOVER */
	for (i = 0; i < 4; i++) {
		snprintf(uuid, sizeof(uuid), "LVM-handover-%02u-Xz4VdRkq", i);
		handover_case(uuid, 2);
	}
}

/* 060/070: join under load with a big chunked transfer; a confchg during a transfer */
static void transfer(uint64_t regions, bool confchg_mid)
{
	struct sim_params p;
	struct sim *s = NULL;
	uint8_t *pat;
	size_t bytes = (size_t)((regions + 7) / 8);
	uint64_t sent, t[8], i, r;
	uint32_t n;

	memset(&p, 0, sizeof(p));
	p.n_nodes = 3;
	p.type = GROUP_LOG_DISK;
	p.region_count = regions;
	p.block_size = 4096;
	p.seed = 60;
	p.disk_delay_max = 3;
	CHECK(sim_create(&s, &p) == 0);
	/* an on-disk log whose clean bits alternate: the worst case for the snapshot encoding */
	pat = malloc(bytes + RLOG_DISK_HEADER_SIZE);
	CHECK(pat != NULL);
	if (!pat)
		return;
	pat[0] = 0x72, pat[1] = 0x52, pat[2] = 0x69, pat[3] = 0x4D; /* RLOG_DISK_MAGIC, LE */
	pat[4] = 2, pat[5] = pat[6] = pat[7] = 0;
	for (i = 0; i < 8; i++)
		pat[8 + i] = (uint8_t)(regions >> (8 * i));
	sim_disk_poke(s, 0, pat, RLOG_DISK_HEADER_SIZE);
	memset(pat, 0x55, bytes);
	sim_disk_poke(s, RLOG_DISK_BITMAP_OFFSET, pat, bytes);
	free(pat);
	sim_start(s, 1);
	sim_settle(s, 100000);
	CHECK(rlog_sync_count(rl(s, 1)) == regions / 2);
	sent = sim_sent(s);
	sim_start(s, 2);
	/* load on the synced member while the joiner receives */
	for (i = 0; i < 8; i++) {
		r = 1 + 2 * i * 1000; /* odd regions are in sync (bit 0 of 0x55 is region 0) */
		r = r - 1;
		t[i] = rq_regions(s, 1, GROUP_REQ_FLUSH, &r, 1);
		sim_step(s);
		sim_step(s);
		if (confchg_mid && i == 3)
			sim_start(s, 3);
	}
	sim_settle(s, 1000000);
	for (n = 1; n <= (confchg_mid ? 3u : 2u); n++)
		CHECK(synced(s, n) && same_digest(s, 1, n));
	for (i = 0; i < 8; i++)
		CHECK(done_ok(s, t[i]));
	CHECK(sim_sent(s) - sent > 10); /* chunked */
	CHECK(sim_errors(s) == 0);
	sim_destroy(s);
}

static void s060(void)
{
	transfer(UINT64_C(16) << 20, false);
}

static void s070(void)
{
	transfer(UINT64_C(1) << 20, true);
}

/*
 * 065: the largest log (RLOG_MAX_REGIONS = 2^31 regions, 512 MiB of bitmaps per replica)
 * joins: marks at both ends and in the middle, an out-of-sync region, a write while the joiner
 * receives; the joiner ends with the same digest, the marks, the exact sync count and hint.
 */
static void s065(void)
{
	struct sim *s = mk(2, GROUP_LOG_CORE, RLOG_MAX_REGIONS, RLOG_SYNC_NONE, 1);
	const uint64_t last = RLOG_MAX_REGIONS - 1;
	uint64_t marks[3] = {0, RLOG_MAX_REGIONS / 2, last}, r = last - 1, t, u, sent;

	CHECK(s != NULL);
	if (!s)
		return;
	t = rq_regions(s, 1, GROUP_REQ_FLUSH, marks, 3);
	u = rq(s, 1, GROUP_REQ_SET_REGION_SYNC, 12345, false); /* a leg failure: out of sync */
	sim_settle(s, 100000);
	CHECK(done_ok(s, t) && done_ok(s, u));
	sent = sim_sent(s);
	sim_start(s, 2);
	sim_step(s);
	t = rq_regions(s, 1, GROUP_REQ_FLUSH, &r, 1);
	sim_settle(s, 100000);
	CHECK(done_ok(s, t) && synced(s, 2) && same_digest(s, 1, 2));
	CHECK(rlog_node_marked(rl(s, 2), 1, 0) && rlog_node_marked(rl(s, 2), 1, marks[1]) &&
	      rlog_node_marked(rl(s, 2), 1, last) && rlog_node_marked(rl(s, 2), 1, last - 1));
	CHECK(rlog_sync_count(rl(s, 2)) == RLOG_MAX_REGIONS - 1);
	CHECK(rlog_in_sync_hint(rl(s, 2)) == 12345);
	CHECK(sim_sent(s) - sent < 100); /* a sparse state is a few chunks, not 512 MiB */
	CHECK(sim_errors(s) == 0);
	sim_destroy(s);
}

/* 080: a partition: the minority holds, the majority serves, the heal rejoins it clean */
static void s080(void)
{
	struct sim *s = mk(3, GROUP_LOG_CORE, 128, RLOG_SYNC_NONE, 3);
	uint32_t minority = 3;
	uint64_t r = 20, tmin, tmaj, tset;
	struct group_status st;

	sim_partition(s, &minority, 1);
	sim_settle(s, 100000);
	tmin = rq_regions(s, 3, GROUP_REQ_FLUSH, &r, 1);
	tset = rq(s, 3, GROUP_REQ_SET_REGION_SYNC, 30, false);
	r = 21;
	tmaj = rq_regions(s, 1, GROUP_REQ_FLUSH, &r, 1);
	sim_settle(s, 100000);
	CHECK(done_ok(s, tmaj));
	CHECK(pending(s, tmin) && pending(s, tset)); /* held, never failed */
	group_get_status(sim_group(s, 3), &st);
	CHECK(!st.quorate);
	CHECK(in_sync(s, 1, 30));
	sim_heal(s);
	sim_settle(s, 100000);
	CHECK(done_ok(s, tmin) && done_ok(s, tset));
	CHECK(synced(s, 3) && same_digest(s, 1, 3) && same_digest(s, 2, 3));
	CHECK(rlog_node_marked(rl(s, 1), 3, 20) && !in_sync(s, 2, 30));
	sim_destroy(s);
}

/* 090: rolling upgrade: the lowest advertised version is used */
static void s090(void)
{
	struct sim_params p;
	struct sim *s = NULL;
	struct group_status st;
	uint64_t r = 3, t;
	uint32_t n;

	memset(&p, 0, sizeof(p));
	p.n_nodes = 3;
	p.type = GROUP_LOG_CORE;
	p.region_count = 64;
	p.sync_mode = RLOG_SYNC_NONE;
	p.seed = 90;
	p.max_version[1] = 2;
	p.max_version[2] = 2;
	p.max_version[3] = 1;
	CHECK(sim_create(&s, &p) == 0);
	sim_start(s, 1);
	sim_start(s, 2);
	sim_settle(s, 100000);
	group_get_status(sim_group(s, 1), &st);
	CHECK(st.version == 2);
	sim_start(s, 3);
	sim_settle(s, 100000);
	for (n = 1; n <= 3; n++) {
		group_get_status(sim_group(s, n), &st);
		CHECK(st.version == 1 && st.bad_messages == 0);
	}
	t = rq_regions(s, 3, GROUP_REQ_FLUSH, &r, 1);
	sim_settle(s, 100000);
	CHECK(done_ok(s, t) && same_digest(s, 1, 3));
	sim_destroy(s);
}

/* 100: bad messages are rejected, counted and never applied */
static void s100(void)
{
	struct sim *s = mk(2, GROUP_LOG_CORE, 64, RLOG_SYNC_NONE, 2);
	uint8_t buf[64];
	struct cmsg m;
	size_t len = 0;
	uint64_t before = rlog_digest(rl(s, 1));
	struct group_status st;
	uint32_t n;

	memset(&m, 0, sizeof(m));
	m.version = 1;
	m.type = CMSG_SET_SYNC;
	m.nodeid = 2;
	m.u.req.region = 9;
	m.u.req.in_sync = false;
	CHECK(cmsg_encode(&m, NULL, buf, sizeof(buf), &len) == 0);
	sim_inject(s, 1, 1, buf, len);		     /* claims node 2, delivered from node 1 */
	sim_inject(s, 1, 2, buf, CMSG_HDR_SIZE - 1); /* short */
	buf[0] ^= 0xff;
	sim_inject(s, 1, 2, buf, len); /* bad magic */
	buf[0] ^= 0xff;
	buf[6] = 99;
	sim_inject(s, 1, 2, buf, len); /* unknown type */
	buf[6] = CMSG_SET_SYNC;
	buf[4] = 7;
	sim_inject(s, 1, 2, buf, len); /* unknown version */
	sim_settle(s, 100000);
	for (n = 1; n <= 2; n++) {
		group_get_status(sim_group(s, n), &st);
		CHECK(st.bad_messages == 5);
		CHECK(rlog_digest(rl(s, n)) == before);
	}
	CHECK(in_sync(s, 1, 9));
	sim_destroy(s);
}

static bool assigned(struct sim *s, uint32_t node, uint64_t r, uint32_t holder)
{
	uint64_t ar = 0;
	uint32_t an = 0;

	return rlog_assignment(rl(s, node), &ar, &an) && ar == r && an == holder;
}

/*
 * 110: a recovery granted by a replica that a total loss of quorum replaced. Both nodes of
 * a two-node cluster lose quorum while node 1's kernel copies region a; node 1's MARKS
 * carry the recovery, so after the heal the master resume keeps a assigned to node 1:
 * node 2 gets no work, and node 1's report SET_REGION_SYNC(a, 1) goes through the order.
 * When the report was sent while inquorate (held, the copy is over) nothing is carried:
 * the report is answered without a message and the region is recovered again. (With a
 * version-1 member the recovery is not carried: scenario 910.)
 */
static void s110(void)
{
	struct sim *s = mk(2, GROUP_LOG_CORE, 64, RLOG_SYNC_DEFAULT, 2);
	uint32_t one = 1;
	uint64_t t, a, b;
	const struct sim_reply_rec *r;

	t = rq(s, 1, GROUP_REQ_GET_RESYNC_WORK, 0, false);
	sim_settle(s, 100000);
	r = sim_reply(s, t);
	CHECK(done_ok(s, t) && r->r.value == 1);
	a = r->r.value2;
	sim_partition(s, &one, 1); /* neither side has quorum */
	sim_settle(s, 100000);
	sim_heal(s);
	sim_settle(s, 100000);
	CHECK(synced(s, 1) && synced(s, 2) && same_digest(s, 1, 2));
	CHECK(assigned(s, 1, a, 1) && assigned(s, 2, a, 1) && !in_sync(s, 2, a));
	t = rq(s, 2, GROUP_REQ_GET_RESYNC_WORK, 0, false);
	sim_settle(s, 100000);
	r = sim_reply(s, t);
	CHECK(done_ok(s, t) && r->r.value == 0); /* a is node 1's: no second copy */
	t = rq(s, 1, GROUP_REQ_SET_REGION_SYNC, a, true);
	sim_settle(s, 100000);
	CHECK(done_ok(s, t));
	CHECK(in_sync(s, 1, a) && in_sync(s, 2, a) && same_digest(s, 1, 2));
	CHECK(!rlog_assignment(rl(s, 2), NULL, NULL));

	/* the report leaves while inquorate: held, and answered at the state change */
	t = rq(s, 2, GROUP_REQ_GET_RESYNC_WORK, 0, false);
	sim_settle(s, 100000);
	r = sim_reply(s, t);
	CHECK(done_ok(s, t) && r->r.value == 1);
	b = r->r.value2;
	sim_partition(s, &one, 1);
	sim_settle(s, 100000);
	t = rq(s, 2, GROUP_REQ_SET_REGION_SYNC, b, true);
	sim_settle(s, 100000);
	CHECK(pending(s, t));
	sim_heal(s);
	sim_settle(s, 100000);
	CHECK(done_ok(s, t));
	CHECK(synced(s, 1) && synced(s, 2) && same_digest(s, 1, 2) && !in_sync(s, 1, b));
	CHECK(resync_all(s, 1) > 0 && in_sync(s, 2, b) && same_digest(s, 1, 2));
	sim_destroy(s);
}

/* ==== 9xx: a total loss of quorum keeps the live kernels' marks and recovery =============
 * (cluster/group.h "Fencing"). Four nodes split 2 | 2, so neither side has quorum and
 * nobody can fence; the kernels keep running. At the merge nobody is eligible and node 1
 * does a master resume: the MARKS each member sent before its STATE must come through it.
 */

static struct sim *mk_versions(unsigned n, enum group_log_type type, uint64_t regions,
			       uint32_t v1_node)
{
	struct sim_params p;

	memset(&p, 0, sizeof(p));
	p.n_nodes = n;
	p.type = type;
	p.region_count = regions;
	p.sync_mode = RLOG_SYNC_NONE;
	p.seed = 910;
	p.disk_delay_max = 3;
	if (v1_node)
		p.max_version[v1_node] = 1;
	return mk_params(&p, n);
}

/* Heal, then step until node 1 has decided the barrier (its replica is the resumed one). */
static void heal_until_master(struct sim *s)
{
	unsigned i;

	sim_heal(s);
	for (i = 0; i < 100000 && !synced(s, 1); i++)
		if (!sim_step(s))
			sim_pump_all(s);
}

static uint32_t split22(struct sim *s)
{
	static const uint32_t side[2] = {3, 4};
	struct group_status st;
	uint32_t n, inquorate = 0;

	sim_partition(s, side, 2);
	sim_settle(s, 100000);
	for (n = 1; n <= 4; n++) {
		group_get_status(sim_group(s, n), &st);
		inquorate += !st.quorate;
	}
	return inquorate;
}

/*
 * 910: node 2 writes region 10 (FLUSH answered), node 3 finished writing 20 (its clear still
 * deferred), node 1 copies region 40; during the loss node 2 marks 11 (FLUSH held). After
 * the master resume all of that is in the replica: 10, 11 marked by 2, 20 by 3, 40 out of
 * sync and node 1's; nobody else gets work, node 1's report puts 40 in sync (ordered).
 */
static void s910(void)
{
	struct sim *s = mk_versions(4, GROUP_LOG_CORE, 128, 0);
	uint64_t r10 = 10, r11 = 11, r20 = 20, t, t11, a = 0;
	const struct sim_reply_rec *rr;
	uint32_t n;

	CHECK(s != NULL);
	t = rq_regions(s, 2, GROUP_REQ_FLUSH, &r10, 1);
	sim_settle(s, 100000);
	CHECK(done_ok(s, t));
	rq_regions(s, 3, GROUP_REQ_MARK, &r20, 1);
	t = rq(s, 3, GROUP_REQ_FLUSH, 0, false);
	sim_settle(s, 100000);
	CHECK(done_ok(s, t) && rlog_node_marked(rl(s, 4), 3, 20));
	rq(s, 4, GROUP_REQ_SET_REGION_SYNC, 40, false); /* a leg failure: 40 out of sync */
	sim_settle(s, 100000);
	t = rq(s, 1, GROUP_REQ_GET_RESYNC_WORK, 0, false);
	sim_settle(s, 100000);
	rr = sim_reply(s, t);
	CHECK(done_ok(s, t) && rr->r.value == 1);
	a = rr ? rr->r.value2 : 0;
	CHECK(a == 40);

	CHECK(split22(s) == 4);
	t = rq_regions(s, 3, GROUP_REQ_CLEAR, &r20, 1); /* the write is over; clear deferred */
	CHECK(done_ok(s, t));
	t11 = rq_regions(s, 2, GROUP_REQ_FLUSH, &r11, 1);
	sim_settle(s, 100000);
	CHECK(pending(s, t11));

	heal_until_master(s);
	CHECK(synced(s, 1));
	/* the resumed replica, before anyone sent a commit in it */
	CHECK(rlog_node_marked(rl(s, 1), 2, 10) && !clean(s, 1, 10));
	CHECK(rlog_node_marked(rl(s, 1), 2, 11));
	CHECK(rlog_node_marked(rl(s, 1), 3, 20) && !clean(s, 1, 20));
	CHECK(assigned(s, 1, 40, 1) && !in_sync(s, 1, 40));

	sim_settle(s, 100000);
	CHECK(done_ok(s, t11));
	for (n = 1; n <= 4; n++) {
		CHECK(synced(s, n) && same_digest(s, 1, n));
		CHECK(rlog_node_marked(rl(s, n), 2, 10) && !clean(s, n, 10));
		CHECK(!rlog_node_marked(rl(s, n), 3, 20)); /* the deferred clear came after */
	}
	for (n = 2; n <= 4; n++) {
		t = rq(s, n, GROUP_REQ_GET_RESYNC_WORK, 0, false);
		sim_settle(s, 100000);
		rr = sim_reply(s, t);
		CHECK(done_ok(s, t) && rr->r.value == 0); /* no second copy of 40 */
	}
	t = rq(s, 1, GROUP_REQ_SET_REGION_SYNC, 40, true);
	sim_settle(s, 100000);
	CHECK(done_ok(s, t) && in_sync(s, 4, 40) && !rlog_assignment(rl(s, 4), NULL, NULL));
	/* a core "nosync" log resumes in sync: 20 is clean again once node 3's clear is in */
	CHECK(clean(s, 1, 20) && clean(s, 3, 20) && same_digest(s, 1, 3));
	CHECK(sim_errors(s) == 0);
	sim_destroy(s);
}

/*
 * 911: the same with a version-1 member (rolling upgrade): no MARKS are sent (the group
 * speaks version 1, nobody counts a bad message) and the master resume keeps the old
 * behaviour, the gap group.h documents for mixed clusters.
 */
static void s911(void)
{
	struct sim *s = mk_versions(4, GROUP_LOG_CORE, 128, 4);
	uint64_t r10 = 10, t;
	struct group_status st;
	uint32_t n;

	CHECK(s != NULL);
	t = rq_regions(s, 2, GROUP_REQ_FLUSH, &r10, 1);
	sim_settle(s, 100000);
	CHECK(done_ok(s, t));
	CHECK(split22(s) == 4);
	heal_until_master(s);
	CHECK(synced(s, 1) && !rlog_node_marked(rl(s, 1), 2, 10));
	sim_settle(s, 100000);
	for (n = 1; n <= 4; n++) {
		group_get_status(sim_group(s, n), &st);
		CHECK(st.version == 1 && st.bad_messages == 0 && same_digest(s, 1, n));
	}
	sim_destroy(s);
}

/* 912: more marks than one MARKS chunk holds (5000 > 4096): every one comes through. */
static void s912(void)
{
	struct sim *s = mk_versions(4, GROUP_LOG_CORE, 16384, 0);
	uint64_t v[32], t, i, missing = 0;
	uint32_t j, n;

	CHECK(s != NULL);
	for (i = 0; i < 5000; i += 32) {
		for (j = 0; j < 32; j++)
			v[j] = 3 * (i + j) + 1;
		rq_regions(s, 2, GROUP_REQ_MARK, v, i + 32 <= 5000 ? 32 : (uint32_t)(5000 - i));
	}
	t = rq(s, 2, GROUP_REQ_FLUSH, 0, false);
	sim_settle(s, 100000);
	CHECK(done_ok(s, t) && rlog_node_mark_count(rl(s, 3), 2) == 5000);
	CHECK(split22(s) == 4);
	heal_until_master(s);
	CHECK(synced(s, 1));
	for (i = 0; i < 5000; i++)
		missing += !rlog_node_marked(rl(s, 1), 2, 3 * i + 1);
	CHECK(missing == 0 && rlog_node_mark_count(rl(s, 1), 2) == 5000);
	sim_settle(s, 100000);
	for (n = 1; n <= 4; n++)
		CHECK(synced(s, n) && same_digest(s, 1, n) &&
		      rlog_node_mark_count(rl(s, n), 2) == 5000);
	CHECK(sim_errors(s) == 0);
	sim_destroy(s);
}

/*
 * 913: clustered-disk: node 3's write of region 10 stays dirty on the log device after the
 * master resume (the new writer's full write carries the re-applied mark) and region 10 is
 * never handed out for resync while node 3 still writes it.
 */
static void s913(void)
{
	struct sim *s = mk_versions(4, GROUP_LOG_DISK, 128, 0);
	uint64_t r10 = 10, t, w;
	const struct sim_reply_rec *rr;
	const uint8_t *img;
	size_t len = 0;
	uint32_t n;

	CHECK(s != NULL);
	t = rq_regions(s, 3, GROUP_REQ_FLUSH, &r10, 1);
	sim_settle(s, 100000);
	CHECK(done_ok(s, t));
	CHECK(split22(s) == 4);
	heal_until_master(s);
	sim_settle(s, 100000);
	img = sim_disk_image(s, &len);
	CHECK(len > RLOG_DISK_BITMAP_OFFSET + 2 && !(img[RLOG_DISK_BITMAP_OFFSET + 1] & 4));
	for (n = 1; n <= 4; n++)
		CHECK(synced(s, n) && same_digest(s, 1, n) && rlog_node_marked(rl(s, n), 3, 10));
	for (n = 1; n <= 4; n++) {
		if (n == 3)
			continue;
		for (w = 0; w < 4; w++) {
			t = rq(s, n, GROUP_REQ_GET_RESYNC_WORK, 0, false);
			sim_settle(s, 100000);
			rr = sim_reply(s, t);
			CHECK(done_ok(s, t));
			if (!rr || !rr->r.value)
				break;
			CHECK(rr->r.value2 != 10);
			rq(s, n, GROUP_REQ_SET_REGION_SYNC, rr->r.value2, true);
			sim_settle(s, 100000);
		}
	}
	CHECK(sim_errors(s) == 0);
	sim_destroy(s);
}

/*
 * 914: a restarted daemon's sync image (group_start_sync): the master resume keeps those
 * regions in sync but dirty (a crash resyncs them); a CLEAR makes one clean. The image
 * serves the first resume only: after a total loss of quorum the next master resume of
 * this core "default" log starts everything out of sync again.
 */
static void s914(void)
{
	struct sim_params p;
	struct sim *s = NULL;
	uint8_t sync[8];
	uint64_t t1, t2, r5 = 5, t;
	uint32_t one = 1, n;

	memset(&p, 0, sizeof(p));
	p.n_nodes = 2;
	p.type = GROUP_LOG_CORE;
	p.region_count = 64;
	p.sync_mode = RLOG_SYNC_DEFAULT;
	p.seed = 914;
	CHECK(sim_create(&s, &p) == 0);
	memset(sync, 0xff, sizeof(sync));
	sync[0] = 0xf7; /* region 3 was not in sync */
	t1 = sim_start(s, 1);
	CHECK(group_start_sync(sim_group(s, 1), sync, 64) == 0);
	t2 = sim_start(s, 2);
	sim_settle(s, 100000);
	CHECK(done_ok(s, t1) && done_ok(s, t2));
	for (n = 1; n <= 2; n++) {
		CHECK(synced(s, n) && same_digest(s, 1, n));
		CHECK(rlog_sync_count(rl(s, n)) == 63 && !in_sync(s, n, 3));
		CHECK(rlog_clean_count(rl(s, n)) == 0);
	}
	t = rq_regions(s, 1, GROUP_REQ_CLEAR, &r5, 1);
	CHECK(done_ok(s, t));
	sim_settle(s, 100000);
	CHECK(clean(s, 2, 5) && !clean(s, 2, 6) && same_digest(s, 1, 2));
	sim_partition(s, &one, 1); /* neither side has quorum */
	sim_settle(s, 100000);
	sim_heal(s);
	sim_settle(s, 100000);
	CHECK(synced(s, 1) && synced(s, 2) && same_digest(s, 1, 2));
	CHECK(rlog_sync_count(rl(s, 1)) == 0);
	CHECK(sim_errors(s) == 0);
	sim_destroy(s);
}

/* ==== end of the 9xx block ================================================================ */

/* ==== killpeer: incompatible CPG members (group.h "Incompatible members") ================== */

/*
 * cluster/sim.c runs a group on every member, so a member that is no cmlogd needs its own
 * small agreed-order bus here: every group of the bus delivers the same messages in the same
 * order; node XB_FOREIGN is in the member list but runs no group and sends only what the
 * scenario injects.
 */
#define XB_NODES   4u
#define XB_FOREIGN 9u

struct xb_msg {
	uint32_t sender;
	size_t len;
	uint8_t *buf;
};

struct xb_write {
	uint32_t node;
	uint64_t cookie;
};

struct xbus {
	struct group *g[XB_NODES + 1];
	uint32_t members[XB_NODES + 1];
	unsigned n_members;
	struct xb_msg q[4096];
	size_t qn;
	struct xb_write w[64];
	size_t wn;
	unsigned replies, errors;
	uint8_t *disk;
};

struct xb_node {
	struct xbus *b;
	uint32_t id;
};

static struct xb_node xb_nodes[XB_NODES + 1];

static int xb_send(void *ctx, const struct iovec *iov, unsigned int n_iov)
{
	struct xb_node *nd = ctx;
	struct xb_msg m = {.sender = nd->id};
	unsigned int i;
	size_t off = 0;

	if (nd->b->qn == sizeof(nd->b->q) / sizeof(nd->b->q[0]))
		return -EAGAIN;
	for (i = 0; i < n_iov; i++)
		m.len += iov[i].iov_len;
	m.buf = malloc(m.len ? m.len : 1);
	if (!m.buf)
		return -EAGAIN;
	for (i = 0; i < n_iov; i++) {
		memcpy(m.buf + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	nd->b->q[nd->b->qn++] = m;
	return 0;
}

static void xb_reply(void *ctx, uint64_t token, const struct group_reply *r)
{
	struct xb_node *nd = ctx;

	(void)token;
	nd->b->replies++;
	nd->b->errors += r->error != 0;
}

static int xb_disk_write(void *ctx, uint64_t cookie, const uint8_t *buf, uint64_t off, size_t len)
{
	struct xb_node *nd = ctx;
	struct xbus *b = nd->b;

	if (b->wn == sizeof(b->w) / sizeof(b->w[0]) || off + len > 1u << 16)
		return -EIO;
	memcpy(b->disk + off, buf, len);
	b->w[b->wn].node = nd->id;
	b->w[b->wn++].cookie = cookie;
	return 0;
}

static const struct group_ops xb_ops = {
	.send = xb_send, .reply = xb_reply, .disk_write = xb_disk_write, .event = NULL};

static void xb_inject(struct xbus *b, uint32_t sender, const void *buf, size_t len)
{
	struct xb_msg m = {.sender = sender, .len = len};

	m.buf = malloc(len ? len : 1);
	if (!m.buf)
		return;
	memcpy(m.buf, buf, len);
	b->q[b->qn++] = m;
}

/* Deliver the first message on the bus to every group. */
static void xb_deliver_one(struct xbus *b)
{
	struct xb_msg m;
	unsigned i;

	if (!b->qn)
		return;
	m = b->q[0];
	memmove(b->q, b->q + 1, (b->qn - 1) * sizeof(b->q[0]));
	b->qn--;
	for (i = 1; i <= XB_NODES; i++)
		if (b->g[i])
			group_deliver(b->g[i], m.sender, m.buf, m.len);
	free(m.buf);
}

/* Deliver everything (pumping every group, completing writes) until the bus is quiet. */
static void xb_settle(struct xbus *b)
{
	unsigned guard, i;

	for (guard = 0; guard < 100000; guard++) {
		for (i = 1; i <= XB_NODES; i++)
			if (b->g[i])
				group_pump(b->g[i]);
		if (b->wn) {
			struct xb_write w = b->w[0];

			memmove(b->w, b->w + 1, (b->wn - 1) * sizeof(b->w[0]));
			b->wn--;
			if (b->g[w.node])
				group_disk_done(b->g[w.node], w.cookie, 0);
			continue;
		}
		if (!b->qn)
			return;
		xb_deliver_one(b);
	}
	CHECK(!"the bus never went quiet");
}

static void xb_confchg(struct xbus *b, const uint32_t *left, size_t n_left, const uint32_t *joined,
		       size_t n_joined)
{
	uint32_t i;

	for (i = 1; i <= XB_NODES; i++)
		if (b->g[i])
			group_confchg(b->g[i], b->members, b->n_members, left, n_left, joined,
				      n_joined);
}

static void xb_set_members(struct xbus *b, const uint32_t *ids, unsigned n)
{
	memcpy(b->members, ids, n * sizeof(ids[0]));
	b->n_members = n;
}

static void xb_start(struct xbus *b, uint32_t id)
{
	struct group_params gp;
	struct group_req req;

	memset(&gp, 0, sizeof(gp));
	snprintf(gp.uuid, sizeof(gp.uuid), "LVM-sim-incompatible");
	gp.type = GROUP_LOG_DISK;
	gp.region_count = 256;
	gp.sync_mode = RLOG_SYNC_NONE;
	gp.block_size = 512;
	gp.my_nodeid = id;
	xb_nodes[id].b = b;
	xb_nodes[id].id = id;
	CHECK(group_create(&b->g[id], &gp, &xb_ops, &xb_nodes[id]) == 0);
	group_start(b->g[id], NULL, 0);
	memset(&req, 0, sizeof(req));
	req.token = id;
	req.type = GROUP_REQ_RESUME;
	group_request(b->g[id], &req);
}

static void xb_tick(struct xbus *b, uint64_t now_ms)
{
	uint32_t i;

	for (i = 1; i <= XB_NODES; i++)
		if (b->g[i])
			group_tick(b->g[i], now_ms);
}

static bool xb_agree(struct xbus *b, const uint32_t *ids, unsigned n, uint32_t want_excluded)
{
	struct group_status st0, st;
	unsigned i;
	bool ok = true;

	group_get_status(b->g[ids[0]], &st0);
	for (i = 0; i < n; i++) {
		group_get_status(b->g[ids[i]], &st);
		ok = ok && st.synced && !st.settling && st.writer == st0.writer &&
		     st.writer != XB_FOREIGN && st.writer != 0 &&
		     rlog_digest(group_rlog(b->g[ids[i]])) ==
			     rlog_digest(group_rlog(b->g[ids[0]])) &&
		     st.n_excluded == (want_excluded ? 1u : 0u) &&
		     (!want_excluded || st.excluded[0] == want_excluded);
	}
	return ok;
}

static bool xb_clean(struct xbus *b, uint32_t node, uint64_t region)
{
	bool clean = false;

	return rlog_is_clean(group_rlog(b->g[node]), region, &clean) == 0 && clean;
}

/* A valid COMMIT from @sender marking @region (the foreign member tries to write). */
static size_t xb_commit(uint8_t *buf, size_t cap, uint32_t sender, uint16_t version,
			uint64_t region)
{
	struct cmsg *m = calloc(1, sizeof(*m));
	size_t len = 0;

	if (!m)
		return 0;
	m->version = version;
	m->type = CMSG_COMMIT;
	m->nodeid = sender;
	m->seq = 1;
	m->u.commit.commit_id = 1;
	m->u.commit.n_marks = 1;
	m->u.commit.regions[0] = region;
	if (cmsg_encode(m, NULL, buf, cap, &len))
		len = 0;
	free(m);
	return len;
}

/*
 * 900: a CPG member that is not a compatible cmlogd. It joins while nodes 1 and 2 serve a
 * disk log and sends a STATE-typed header of protocol version 77: every member marks it
 * incompatible at that delivery, the barrier completes without it, the writer stays one of
 * ours, its later messages (even a well-formed COMMIT) are counted and never applied. Node 3
 * joins after the marking and learns it from the others' EXCLUDE (else its barrier would
 * wait forever); a member that already sent a valid STATE is never excluded by garbage under
 * its node id; when the foreign member leaves, nobody is excluded any more. When it joins
 * again and stays silent, the members' EXCLUDE{SILENT} after GROUP_SILENT_MS marks it.
 */
static void s900(void)
{
	static struct xbus b;
	static const uint32_t m12[] = {1, 2}, m12f[] = {1, 2, XB_FOREIGN},
			      m123f[] = {1, 2, 3, XB_FOREIGN}, m123[] = {1, 2, 3};
	uint32_t one = 1, two = 2, three = 3, foreign = XB_FOREIGN, i;
	uint8_t buf[256];
	size_t len;
	struct group_status st;
	uint64_t bad_before;

	memset(&b, 0, sizeof(b));
	b.disk = calloc(1, 1u << 16);
	CHECK(b.disk != NULL);
	if (!b.disk)
		return;
	xb_start(&b, 1);
	xb_set_members(&b, m12, 1);
	xb_confchg(&b, NULL, 0, &one, 1);
	xb_settle(&b);
	xb_start(&b, 2);
	xb_set_members(&b, m12, 2);
	xb_confchg(&b, NULL, 0, &two, 1);
	xb_settle(&b);
	CHECK(xb_agree(&b, m12, 2, 0) && b.replies == 2 && b.errors == 0);

	/* the foreign member joins: the barrier waits for its STATE ... */
	xb_set_members(&b, m12f, 3);
	xb_confchg(&b, NULL, 0, &foreign, 1);
	xb_settle(&b);
	group_get_status(b.g[1], &st);
	CHECK(st.settling);
	/* ... which comes in a version nobody here speaks: marked, barrier done without it */
	len = xb_commit(buf, sizeof(buf), XB_FOREIGN, 1, 7);
	buf[4] = 77; /* mh_version */
	buf[6] = CMSG_STATE;
	xb_inject(&b, XB_FOREIGN, buf, len);
	xb_settle(&b);
	CHECK(xb_agree(&b, m12, 2, XB_FOREIGN));
	/* a well-formed COMMIT of the excluded member is dropped and counted */
	group_get_status(b.g[1], &st);
	bad_before = st.bad_messages;
	len = xb_commit(buf, sizeof(buf), XB_FOREIGN, 1, 9);
	xb_inject(&b, XB_FOREIGN, buf, len);
	xb_settle(&b);
	for (i = 1; i <= 2; i++) {
		group_get_status(b.g[i], &st);
		CHECK(st.bad_messages == bad_before + 1);
		CHECK(xb_clean(&b, i, 9));
	}

	/*
	 * node 3 joins after the marking: the others' EXCLUDE tells it. Its group never ticked
	 * (clock 0) when the round opened; its first tick, late, after its own STATE is in, must
	 * not count as 30 s of silence of the others.
	 */
	xb_start(&b, 3);
	xb_set_members(&b, m123f, 4);
	xb_confchg(&b, NULL, 0, &three, 1);
	group_pump(b.g[3]);
	xb_deliver_one(&b); /* node 3's STATE */
	group_tick(b.g[3], 10 * GROUP_SILENT_MS);
	xb_settle(&b);
	CHECK(xb_agree(&b, m123, 3, XB_FOREIGN));

	/* garbage under the node id of a member that spoke (another process of node 2) */
	buf[0] ^= 0xff;
	xb_inject(&b, 2, buf, len);
	xb_settle(&b);
	CHECK(xb_agree(&b, m123, 3, XB_FOREIGN));

	/* the foreign member leaves: nobody is excluded; a write still works everywhere */
	xb_set_members(&b, m123, 3);
	xb_confchg(&b, &foreign, 1, NULL, 0);
	xb_settle(&b);
	CHECK(xb_agree(&b, m123, 3, 0));
	{
		struct group_req req;

		memset(&req, 0, sizeof(req));
		req.token = 100;
		req.type = GROUP_REQ_FLUSH;
		req.n_regions = 1;
		req.regions[0] = 5;
		group_request(b.g[3], &req);
		xb_settle(&b);
		CHECK(b.errors == 0 && b.replies == 4 && !xb_clean(&b, 1, 5));
		CHECK(xb_agree(&b, m123, 3, 0));
	}

	/*
	 * It joins again and sends nothing: the barrier waits; after GROUP_SILENT_MS on the
	 * members' clocks their EXCLUDE{SILENT} is delivered and marks it everywhere.
	 */
	xb_set_members(&b, m123f, 4);
	xb_confchg(&b, NULL, 0, &foreign, 1);
	xb_settle(&b);
	xb_tick(&b, 1000); /* the silence clock starts at the first tick of the round */
	xb_tick(&b, GROUP_SILENT_MS - 1000);
	xb_settle(&b);
	group_get_status(b.g[2], &st);
	CHECK(st.settling && st.n_excluded == 0);
	xb_tick(&b, GROUP_SILENT_MS + 1000);
	xb_settle(&b);
	CHECK(xb_agree(&b, m123, 3, XB_FOREIGN));
	/*
	 * It leaves and joins again; this time its (valid, stateless) STATE is delivered just
	 * before node 1's EXCLUDE{SILENT}: the order says it spoke, nobody marks it.
	 */
	xb_set_members(&b, m123, 3);
	xb_confchg(&b, &foreign, 1, NULL, 0);
	xb_settle(&b);
	xb_set_members(&b, m123f, 4);
	xb_confchg(&b, NULL, 0, &foreign, 1);
	xb_settle(&b);
	group_tick(b.g[1], 2 * GROUP_SILENT_MS); /* node 1's silence clock starts */
	{
		struct cmsg *sm = calloc(1, sizeof(*sm));

		CHECK(sm != NULL);
		if (sm) {
			sm->version = 1;
			sm->type = CMSG_STATE;
			sm->nodeid = XB_FOREIGN;
			sm->seq = 5;
			sm->u.state.max_version = 1;
			sm->u.state.quorate = true;
			sm->u.state.n_members = 4;
			memcpy(sm->u.state.members, m123f, sizeof(m123f));
			len = 0;
			CHECK(cmsg_encode(sm, NULL, buf, sizeof(buf), &len) == 0);
			free(sm);
			xb_inject(&b, XB_FOREIGN, buf, len);
		}
	}
	group_tick(b.g[1], 4 * GROUP_SILENT_MS); /* queues EXCLUDE{SILENT, 9} after the STATE */
	xb_settle(&b);
	for (i = 1; i <= 3; i++) {
		group_get_status(b.g[i], &st);
		CHECK(st.synced && !st.settling && st.n_excluded == 0);
	}
	for (i = 1; i <= XB_NODES; i++)
		group_destroy(b.g[i]);
	for (i = 0; i < b.qn; i++)
		free(b.q[i].buf);
	free(b.disk);
}

/* ==== end of killpeer block ================================================================ */

/* ==== hot regions: the activity set of deferred clears (cluster/group.h "Hot regions") ==== */

/* Step the sim until request @t is answered (no idle time passes while there is work). */
static bool run_until(struct sim *s, uint64_t t)
{
	unsigned i;

	for (i = 0; i < 100000 && pending(s, t); i++)
		sim_step(s);
	return done_ok(s, t);
}

/* Deliver everything (ends with one idle tick: GROUP_AL_IDLE_MS / 4 of simulated time). */
static void drain(struct sim *s)
{
	unsigned i;

	for (i = 0; i < 100000 && sim_step(s); i++)
		;
}

/* One write as dm-raid1 does it: MARK, FLUSH (or an integrated FLUSH), the I/O, CLEAR. */
static bool write_region(struct sim *s, uint32_t node, uint64_t r, bool integrated)
{
	uint64_t t;
	bool ok;

	if (integrated) {
		t = rq_regions(s, node, GROUP_REQ_FLUSH, &r, 1);
	} else {
		ok = done_ok(s, rq_regions(s, node, GROUP_REQ_MARK, &r, 1));
		t = rq(s, node, GROUP_REQ_FLUSH, 0, false);
		if (!ok)
			return false;
	}
	ok = run_until(s, t);
	return done_ok(s, rq_regions(s, node, GROUP_REQ_CLEAR, &r, 1)) && ok;
}

static void tick_all(struct sim *s, uint64_t now)
{
	uint32_t n;

	for (n = 1; n <= sim_n_nodes(s); n++)
		if (sim_node_up(s, n) && sim_group(s, n))
			group_tick(sim_group(s, n), now);
}

static uint64_t commits(struct sim *s)
{
	struct group_status st;
	uint64_t sum = 0;
	uint32_t n;

	for (n = 1; n <= sim_n_nodes(s); n++)
		if (sim_node_up(s, n) && sim_group(s, n)) {
			group_get_status(sim_group(s, n), &st);
			sum += st.commits_sent;
		}
	return sum;
}

static uint64_t al_regions(struct sim *s, uint32_t node)
{
	struct group_status st;

	group_get_status(sim_group(s, node), &st);
	return st.al_regions;
}

/*
 * 200: a working set of 256 regions re-written in a cycle (bench hot-256-w1) costs no cluster
 * message after the warm-up, with MARK+FLUSH and with integrated FLUSHes, core and disk; the
 * regions stay dirty meanwhile and are cleaned once the clears age out.
 */
static void s200(void)
{
	enum group_log_type type;

	for (type = GROUP_LOG_CORE; type <= GROUP_LOG_DISK; type++) {
		struct sim *s = mk(3, type, 512, RLOG_SYNC_NONE, 3);
		uint64_t r, c0, sent0, cycle;
		bool all_ok = true, all_now = true;

		for (r = 100; r < 356; r++)
			all_ok &= write_region(s, 2, r, r & 1);
		CHECK(all_ok);
		CHECK(al_regions(s, 2) == 256);
		CHECK(!clean(s, 1, 100) && rlog_node_marked(rl(s, 3), 2, 355));
		c0 = commits(s);
		sent0 = sim_sent(s);
		for (cycle = 0; cycle < 3; cycle++)
			for (r = 100; r < 356; r++) {
				uint64_t t;

				if ((r + cycle) & 1) {
					t = rq_regions(s, 2, GROUP_REQ_FLUSH, &r, 1);
				} else {
					rq_regions(s, 2, GROUP_REQ_MARK, &r, 1);
					t = rq(s, 2, GROUP_REQ_FLUSH, 0, false);
				}
				/* core: answered at once; disk: once the last write is durable */
				if (type == GROUP_LOG_CORE)
					all_now &= done_ok(s, t);
				all_ok &= run_until(s, t);
				all_ok &= done_ok(s, rq_regions(s, 2, GROUP_REQ_CLEAR, &r, 1));
			}
		CHECK(all_ok && all_now);
		CHECK(commits(s) == c0);
		if (type == GROUP_LOG_CORE)
			CHECK(sim_sent(s) == sent0);
		CHECK(al_regions(s, 2) == 256);
		sim_settle(s, 100000); /* idle: the clears age out */
		CHECK(al_regions(s, 2) == 0);
		CHECK(clean(s, 1, 100) && clean(s, 3, 355) &&
		      rlog_node_mark_count(rl(s, 1), 2) == 0);
		CHECK(same_digest(s, 1, 2) && same_digest(s, 1, 3));
		CHECK(sim_errors(s) == 0);
		sim_destroy(s);
	}
}

/* 210: beyond GROUP_AL_MAX the least recently written region leaves, not all of them */
static void s210(void)
{
	struct sim *s = mk(2, GROUP_LOG_CORE, 2 * GROUP_AL_MAX, RLOG_SYNC_NONE, 2);
	uint64_t r, c0;
	bool all_ok = true;

	for (r = 0; r < GROUP_AL_MAX; r++)
		all_ok &= write_region(s, 1, r, false);
	CHECK(all_ok && al_regions(s, 1) == GROUP_AL_MAX);
	c0 = commits(s);
	CHECK(write_region(s, 1, 0, false)); /* re-written: now the most recent */
	CHECK(commits(s) == c0);
	/* a new region: its clear overflows the set and region 1, the oldest, leaves */
	CHECK(write_region(s, 1, GROUP_AL_MAX, true));
	CHECK(commits(s) == c0 + 1 && al_regions(s, 1) == GROUP_AL_MAX);
	CHECK(rlog_node_marked(rl(s, 2), 1, 1)); /* on its way with the next commit or tick */
	/* the next new region's commit carries the evicted clear: one message */
	CHECK(write_region(s, 1, GROUP_AL_MAX + 1, true));
	CHECK(commits(s) == c0 + 2);
	CHECK(!rlog_node_marked(rl(s, 2), 1, 1) && clean(s, 2, 1));
	CHECK(rlog_node_marked(rl(s, 2), 1, 0) && rlog_node_marked(rl(s, 2), 1, 2));
	CHECK(rlog_node_mark_count(rl(s, 2), 1) == GROUP_AL_MAX + 1);
	/* region 2 is evicted now; with no other traffic the next tick sends its clear */
	drain(s);
	CHECK(commits(s) == c0 + 3 && al_regions(s, 1) == GROUP_AL_MAX);
	CHECK(!rlog_node_marked(rl(s, 2), 1, 2) && rlog_node_marked(rl(s, 2), 1, 3));
	CHECK(rlog_node_mark_count(rl(s, 2), 1) == GROUP_AL_MAX);
	sim_settle(s, 100000);
	CHECK(rlog_mark_count(rl(s, 2)) == 0 && same_digest(s, 1, 2));
	sim_destroy(s);
}

/* 220: each deferred clear leaves GROUP_AL_IDLE_MS after its region's last write */
static void s220(void)
{
	struct sim *s = mk(2, GROUP_LOG_CORE, 64, RLOG_SYNC_NONE, 2);
	const uint64_t b = UINT64_C(1) << 40; /* a clock of our own, far ahead of the sim's */
	uint64_t c0, r8 = 8;

	CHECK(write_region(s, 1, 7, false) && write_region(s, 1, 8, false));
	CHECK(write_region(s, 1, 9, false));
	/* defer the clears at known times: 7 and 8 at b, 9 at b + 1500 */
	tick_all(s, b);
	CHECK(done_ok(s, rq_regions(s, 1, GROUP_REQ_MARK, &r8, 1)));
	CHECK(run_until(s, rq(s, 1, GROUP_REQ_FLUSH, 0, false)));
	CHECK(done_ok(s, rq_regions(s, 1, GROUP_REQ_CLEAR, &r8, 1)));
	CHECK(write_region(s, 1, 7, true));
	tick_all(s, b + 1500);
	CHECK(write_region(s, 1, 9, true));
	c0 = commits(s);
	CHECK(al_regions(s, 1) == 3);
	tick_all(s, b + GROUP_AL_IDLE_MS - 1);
	CHECK(commits(s) == c0 && !group_wants_pump(sim_group(s, 1)));
	tick_all(s, b + GROUP_AL_IDLE_MS); /* 7 and 8 leave at once, in one commit */
	CHECK(commits(s) == c0 + 1 && al_regions(s, 1) == 1);
	drain(s);
	CHECK(!rlog_node_marked(rl(s, 2), 1, 7) && !rlog_node_marked(rl(s, 2), 1, 8));
	CHECK(rlog_node_marked(rl(s, 2), 1, 9) && !clean(s, 2, 9) && clean(s, 2, 8));
	tick_all(s, b + 1500 + GROUP_AL_IDLE_MS - 1);
	CHECK(commits(s) == c0 + 1);
	tick_all(s, b + 1500 + GROUP_AL_IDLE_MS);
	CHECK(commits(s) == c0 + 2 && al_regions(s, 1) == 0);
	drain(s);
	CHECK(clean(s, 2, 9) && rlog_mark_count(rl(s, 2)) == 0 && same_digest(s, 1, 2));
	sim_destroy(s);
}

/*
 * 230: a node dies while a survivor keeps deferred clears on the same regions: the dead
 * node's regions are handed out for resync at once (the survivor's clears leave at the
 * confchg). Also a region put out of sync by a failed write elsewhere: the first refused
 * GET_RESYNC_WORK of another node makes the deferred clear leave, the next one gets it.
 */
static void s230(void)
{
	struct sim *s = mk(3, GROUP_LOG_CORE, 128, RLOG_SYNC_NONE, 3);
	uint64_t r10 = 10, t;
	const struct sim_reply_rec *rr;

	t = rq_regions(s, 3, GROUP_REQ_FLUSH, &r10, 1); /* node 3's write of 10 in flight */
	CHECK(run_until(s, t));
	CHECK(write_region(s, 2, 10, false) && write_region(s, 2, 11, true));
	CHECK(al_regions(s, 2) == 2 && rlog_node_marked(rl(s, 1), 2, 10));
	sim_crash(s, 3);
	drain(s);
	CHECK(al_regions(s, 2) == 0 && !rlog_node_marked(rl(s, 1), 2, 10));
	CHECK(!in_sync(s, 1, 10) && in_sync(s, 1, 11));
	t = rq(s, 1, GROUP_REQ_GET_RESYNC_WORK, 0, false);
	CHECK(run_until(s, t));
	rr = sim_reply(s, t);
	CHECK(rr && rr->r.value == 1 && rr->r.value2 == 10);
	CHECK(run_until(s, rq(s, 1, GROUP_REQ_SET_REGION_SYNC, 10, true)));
	CHECK(in_sync(s, 2, 10) && rlog_sync_count(rl(s, 2)) == 128);

	/* out of sync without a departure: node 1's write to a leg of region 20 failed */
	CHECK(write_region(s, 2, 20, false) && al_regions(s, 2) == 1);
	CHECK(run_until(s, rq(s, 1, GROUP_REQ_SET_REGION_SYNC, 20, false)));
	CHECK(!in_sync(s, 2, 20));
	t = rq(s, 1, GROUP_REQ_GET_RESYNC_WORK, 0, false);
	CHECK(run_until(s, t));
	CHECK(sim_reply(s, t)->r.value == 0); /* node 2 still marks it */
	CHECK(al_regions(s, 2) == 0);	      /* ... and its clear is on its way */
	drain(s);
	t = rq(s, 1, GROUP_REQ_GET_RESYNC_WORK, 0, false);
	CHECK(run_until(s, t));
	rr = sim_reply(s, t);
	CHECK(rr && rr->r.value == 1 && rr->r.value2 == 20);
	CHECK(run_until(s, rq(s, 1, GROUP_REQ_SET_REGION_SYNC, 20, true)));
	CHECK(same_digest(s, 1, 2) && rlog_sync_count(rl(s, 1)) == 128);
	sim_destroy(s);
}

/* 240: the node holding deferred clears dies: its regions are out of sync and resynced */
static void s240(void)
{
	struct sim *s = mk(3, GROUP_LOG_CORE, 128, RLOG_SYNC_NONE, 3);
	uint64_t r;
	bool all_ok = true;

	for (r = 30; r < 34; r++)
		all_ok &= write_region(s, 2, r, r & 1);
	CHECK(all_ok && al_regions(s, 2) == 4);
	CHECK(!clean(s, 1, 30) && rlog_node_mark_count(rl(s, 3), 2) == 4);
	sim_crash(s, 2);
	drain(s);
	for (r = 30; r < 34; r++)
		CHECK(!in_sync(s, 1, r) && !in_sync(s, 3, r));
	CHECK(rlog_sync_count(rl(s, 1)) == 124);
	CHECK(resync_all(s, 1) == 4);
	CHECK(rlog_sync_count(rl(s, 1)) == 128 && rlog_sync_count(rl(s, 3)) == 128);
	CHECK(same_digest(s, 1, 3) && rlog_mark_count(rl(s, 1)) == 0);
	sim_destroy(s);
}

/*
 * 250: POSTSUSPEND sends every deferred clear and, on a disk log, is answered only once they
 * are on the log device (the node that suspends is the writer, then not the writer).
 */
static void s250(void)
{
	uint32_t round;

	for (round = 0; round < 2; round++) {
		struct sim_params p;
		struct sim *s = NULL;
		struct group_status st;
		uint32_t n, node;
		uint64_t r, t;
		const uint8_t *img;
		size_t len;
		bool all_ok = true;

		memset(&p, 0, sizeof(p));
		p.n_nodes = 2;
		p.type = GROUP_LOG_DISK;
		p.region_count = 256;
		p.sync_mode = RLOG_SYNC_NONE;
		p.block_size = 512;
		p.seed = 250 + round;
		p.disk_delay_max = 5;
		CHECK(sim_create(&s, &p) == 0);
		for (n = 1; n <= 2; n++) {
			sim_start(s, n);
			sim_settle(s, 100000);
		}
		group_get_status(sim_group(s, 1), &st);
		node = round == 0 ? st.writer : 3 - st.writer;
		for (r = 40; r < 44; r++)
			all_ok &= write_region(s, node, r, r & 1);
		CHECK(all_ok && al_regions(s, node) == 4);
		img = sim_disk_image(s, &len);
		CHECK(!(img[RLOG_DISK_BITMAP_OFFSET + 40 / 8] & (1u << (40 % 8))));
		t = rq(s, node, GROUP_REQ_POSTSUSPEND, 0, false);
		CHECK(run_until(s, t));
		CHECK(al_regions(s, node) == 0);
		img = sim_disk_image(s, &len);
		for (r = 40; r < 44; r++)
			CHECK(img[RLOG_DISK_BITMAP_OFFSET + r / 8] & (1u << (r % 8)));
		CHECK(clean(s, 3 - node, 43) && rlog_mark_count(rl(s, 3 - node)) == 0);
		CHECK(sim_errors(s) == 0);
		sim_destroy(s);
	}
}

/*
 * 260: random writes over more regions than the bound, against a model of the set (exact LRU
 * over the CLEARs, a MARK takes the region out): the set's size after every write, and at
 * the end the replica marks exactly the model's regions for the writer.
 */
static void s260(void)
{
	enum { NR = 3000, OPS = 20000 };
	struct sim *s = mk(2, GROUP_LOG_CORE, NR, RLOG_SYNC_NONE, 2);
	static uint64_t lru[NR]; /* the model: oldest first */
	size_t n = 0, i, k;
	uint64_t x = 260, r, op, bad_size = 0, bad_marks = 0;
	bool all_ok = true;

	for (op = 0; op < OPS; op++) {
		x += UINT64_C(0x9E3779B97F4A7C15); /* splitmix64 */
		r = x;
		r = (r ^ (r >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
		r = (r ^ (r >> 27)) * UINT64_C(0x94D049BB133111EB);
		r = (r ^ (r >> 31)) % (op < OPS / 2 ? NR : 600); /* then a hot subset */
		all_ok &= write_region(s, 1, r, op & 1);
		for (i = 0; i < n && lru[i] != r; i++)
			;
		if (i < n) {
			memmove(lru + i, lru + i + 1, (n - i - 1) * sizeof(lru[0]));
			n--;
		}
		if (n == GROUP_AL_MAX) {
			memmove(lru, lru + 1, (n - 1) * sizeof(lru[0]));
			n--;
		}
		lru[n++] = r;
		bad_size += al_regions(s, 1) != n;
	}
	CHECK(all_ok && bad_size == 0);
	drain(s);
	for (r = 0; r < NR; r++) {
		bool in = false;

		for (k = 0; k < n && !in; k++)
			in = lru[k] == r;
		bad_marks += rlog_node_marked(rl(s, 2), 1, r) != in;
	}
	CHECK(bad_marks == 0 && rlog_node_mark_count(rl(s, 2), 1) == n);
	sim_settle(s, 100000);
	CHECK(al_regions(s, 1) == 0 && rlog_mark_count(rl(s, 2)) == 0 && same_digest(s, 1, 2));
	sim_destroy(s);
}

/* ==== end of hot regions ==== */

/*
 * 920/921: a member out of memory applying a delivered commit. rlog_mark is wrapped at link
 * time (-Wl,--wrap=rlog_mark, a pass-through unless armed) to fail with -ENOMEM on one
 * node's replica. Before, the group ignored it and that replica silently lacked a mark the
 * others kept. Now the member excludes itself (GROUP_INCOMPAT_LOCAL): it holds its kernel's
 * next write instead of committing from that replica, the daemon rejoins (cmcpg_rejoin,
 * modelled as the transport's loss and return), and the state transfer makes it equal again.
 */
int __real_rlog_mark(struct rlog *rl, uint32_t node, const uint64_t *regions, size_t n);
int __wrap_rlog_mark(struct rlog *rl, uint32_t node, const uint64_t *regions, size_t n);

static const struct rlog *enomem_rl; /* the replica whose next marks fail */
static unsigned enomem_left, enomem_given;

int __wrap_rlog_mark(struct rlog *rl, uint32_t node, const uint64_t *regions, size_t n)
{
	if (enomem_left && rl == enomem_rl) {
		enomem_left--;
		enomem_given++;
		return -ENOMEM;
	}
	return __real_rlog_mark(rl, node, regions, n);
}

static bool excluded_self(struct sim *s, uint32_t node)
{
	struct group_status st;
	uint32_t i;

	group_get_status(sim_group(s, node), &st);
	for (i = 0; i < st.n_excluded; i++)
		if (st.excluded[i] == node)
			return true;
	return false;
}

/* The start of a write to a new region: MARK, then FLUSH (the write's wait); no CLEAR. */
static bool mark_flush(struct sim *s, uint32_t node, uint64_t r)
{
	uint64_t m = rq_regions(s, node, GROUP_REQ_MARK, &r, 1);
	uint64_t f = rq(s, node, GROUP_REQ_FLUSH, 0, false);

	sim_settle(s, 100000);
	return done_ok(s, m) && done_ok(s, f);
}

/* A uuid whose preferred disk writer among nodes 1..3 is @writer (scenario 055's hash). */
static const char *uuid_with_writer(char *buf, size_t size, uint32_t writer)
{
	unsigned i;

	for (i = 0;; i++) {
		snprintf(buf, size, "LVM-enomem-%u", i);
		if (1 + fnv1a_ref(buf) % 3 == writer)
			return buf;
	}
}

static struct sim *mk_enomem(enum group_log_type type, const char *uuid)
{
	struct sim_params p = params(3, type, 64, RLOG_SYNC_NONE);

	p.uuid = uuid;
	return mk_params(&p, 3);
}

/* Node 2's replica fails; on a disk log the writer is node 1 (a failing writer: 922). */
static void enomem_commit(enum group_log_type type)
{
	char uuid[64];
	struct sim *s = mk_enomem(type, uuid_with_writer(uuid, sizeof(uuid), 1));
	struct group_status st;
	uint64_t held, held_mark, r13 = 13;

	CHECK(s != NULL);
	if (!s)
		return;
	group_get_status(sim_group(s, 3), &st);
	CHECK(st.writer == (type == GROUP_LOG_DISK ? 1u : 0u));
	CHECK(mark_flush(s, 2, 9)); /* node 2's own write, before the failure */
	enomem_rl = rl(s, 2);
	enomem_left = 1;
	enomem_given = 0;
	CHECK(mark_flush(s, 1, 5)); /* nodes 1 and 3 hold the mark: the write completes */
	CHECK(enomem_given == 1);
	CHECK(!clean(s, 1, 5) && !clean(s, 3, 5) && same_digest(s, 1, 3));
	CHECK(clean(s, 2, 5)); /* what used to go unnoticed: node 2's replica lost the mark */
	CHECK(excluded_self(s, 2) && !synced(s, 2));
	CHECK(synced(s, 1) && synced(s, 3) && !excluded_self(s, 1) && !excluded_self(s, 3));

	/* node 2's kernel writes a new region: held, not committed from the broken replica */
	held_mark = rq_regions(s, 2, GROUP_REQ_MARK, &r13, 1);
	held = rq(s, 2, GROUP_REQ_FLUSH, 0, false);
	sim_settle(s, 100000);
	CHECK(pending(s, held));
	CHECK(clean(s, 1, 13) && clean(s, 3, 13));
	CHECK(mark_flush(s, 3, 7)); /* the others serve on */

	/* the daemon's answer to its own exclusion: leave and join again */
	sim_disconnect(s, 2);
	sim_settle(s, 100000);
	sim_reconnect(s, 2);
	sim_settle(s, 100000);
	CHECK(synced(s, 1) && synced(s, 2) && synced(s, 3) && !excluded_self(s, 2));
	CHECK(same_digest(s, 1, 2) && same_digest(s, 1, 3));
	CHECK(done_ok(s, held_mark) && done_ok(s, held));
	CHECK(!clean(s, 2, 5) && !clean(s, 2, 9) && !clean(s, 2, 7));
	CHECK(rlog_node_marked(rl(s, 2), 1, 5) && rlog_node_marked(rl(s, 3), 1, 5));
	CHECK(rlog_node_marked(rl(s, 1), 2, 13) && rlog_node_marked(rl(s, 3), 2, 13));
	CHECK(mark_flush(s, 2, 11));
	CHECK(same_digest(s, 1, 2) && same_digest(s, 2, 3));
	CHECK(sim_errors(s) == 0);
	enomem_rl = NULL;
	sim_destroy(s);
}

static void s920(void)
{
	enomem_commit(GROUP_LOG_CORE);
}

static void s921(void)
{
	enomem_commit(GROUP_LOG_DISK);
}

/*
 * 922: the disk writer's replica fails. It excludes itself and writes nothing more, so the
 * others' FLUSHes wait (never answered from an undurable mark) until its daemon leaves the
 * group to rejoin; then a new writer writes at once and they complete.
 */
static void s922(void)
{
	char uuid[64];
	struct sim *s = mk_enomem(GROUP_LOG_DISK, uuid_with_writer(uuid, sizeof(uuid), 2));
	struct group_status st;
	uint64_t m, f, r5 = 5;
	uint32_t n;

	CHECK(s != NULL);
	if (!s)
		return;
	group_get_status(sim_group(s, 1), &st);
	CHECK(st.writer == 2);
	CHECK(mark_flush(s, 2, 9));
	enomem_rl = rl(s, 2);
	enomem_left = 1;
	enomem_given = 0;
	m = rq_regions(s, 1, GROUP_REQ_MARK, &r5, 1);
	f = rq(s, 1, GROUP_REQ_FLUSH, 0, false);
	sim_settle(s, 100000);
	CHECK(enomem_given == 1 && excluded_self(s, 2));
	CHECK(done_ok(s, m) && pending(s, f)); /* the mark is not durable: no answer yet */
	sim_disconnect(s, 2);
	sim_settle(s, 100000);
	CHECK(done_ok(s, f) && !disk_bit(s, 5));
	group_get_status(sim_group(s, 1), &st);
	CHECK(st.writer == 1 || st.writer == 3);
	sim_reconnect(s, 2);
	sim_settle(s, 100000);
	for (n = 1; n <= 3; n++)
		CHECK(synced(s, n) && same_digest(s, 1, n));
	CHECK(mark_flush(s, 2, 11) && !disk_bit(s, 11));
	group_get_status(sim_group(s, 3), &st);
	CHECK(st.writer == 2); /* preferred again once it is back and synced */
	CHECK(sim_errors(s) == 0);
	enomem_rl = NULL;
	sim_destroy(s);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} list[] = {
		{"010 mark-flush-clear", s010},
		{"020 group commit", s020},
		{"030 crash mid-write", s030},
		{"040 resync holder crash", s040},
		{"050 writer crash", s050},
		{"055 writer handover spreads the disk writers", s055},
		{"060 join with 16M regions", s060},
		{"065 join with 2^31 regions", s065},
		{"070 confchg during transfer", s070},
		{"080 partition", s080},
		{"090 rolling version", s090},
		{"100 bad messages", s100},
		{"110 recovery across a total loss of quorum", s110},
		/* hot regions (activity set) */
		{"200 hot working set without messages", s200},
		{"210 activity set bound: LRU eviction", s210},
		{"220 deferred clears age out", s220},
		{"230 survivor's deferred clears do not stall resync", s230},
		{"240 crash of the node with deferred clears", s240},
		{"250 POSTSUSPEND: deferred clears reach the log device", s250},
		{"260 random writes against a model of the set", s260},
		/* 9xx: total loss of quorum, live kernels (see the block above main) */
		{"910 marks and recovery through a master resume", s910},
		{"911 mixed versions keep the old master resume", s911},
		{"912 marks in several MARKS chunks", s912},
		{"913 disk log: marks stay dirty on the device", s913},
		{"914 restart sync image: in sync, not clean, once", s914},
		{"900 incompatible member", s900},
		{"920 out of memory applying a commit: self-exclusion, rejoin", s920},
		{"921 the same on a disk log", s921},
		{"922 the disk writer's replica fails: FLUSHes wait for its rejoin", s922},
	};
	unsigned i, passed = 0, failed = 0;

	for (i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
		unsigned before = checks_failed;

		scenario = list[i].name;
		list[i].fn();
		if (checks_failed == before) {
			passed++;
			printf("ok   %s\n", list[i].name);
		} else {
			failed++;
			printf("FAIL %s\n", list[i].name);
		}
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
