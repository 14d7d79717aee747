/*
 * sim_enomem: a member that runs out of memory applying an ordered change.
 *
 * Every member applies the same ordered COMMITs to its replica. rlog_mark can fail with
 * -ENOMEM (its mark table grows) on one member alone; before, the group ignored that and the
 * replica silently lost marks the others kept, so it could answer a region clean while
 * another node's write was in flight to it. Now the member excludes itself
 * (GROUP_INCOMPAT_LOCAL): it answers nothing from the broken replica, the daemon rejoins
 * (modelled as the transport's loss and return, as cmcpg_rejoin does), and the state
 * transfer makes it equal again.
 *
 * rlog_mark is wrapped at link time (-Wl,--wrap=rlog_mark) to fail on one node's replica.
 * Prints "N passed, N failed" like the other simulation programs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/sim.h"
#include "log/rlog.h"

int __real_rlog_mark(struct rlog *rl, uint32_t node, const uint64_t *regions, size_t n);
int __wrap_rlog_mark(struct rlog *rl, uint32_t node, const uint64_t *regions, size_t n);

static const struct rlog *fail_rl; /* the replica whose next marks fail */
static unsigned fail_left, failed;

int __wrap_rlog_mark(struct rlog *rl, uint32_t node, const uint64_t *regions, size_t n)
{
	if (fail_left && rl == fail_rl) {
		fail_left--;
		failed++;
		return -ENOMEM;
	}
	return __real_rlog_mark(rl, node, regions, n);
}

static unsigned checks_failed, passed;
static const char *scenario;

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s: %s:%d: check failed: %s\n", scenario, __FILE__, \
				__LINE__, #cond);                                            \
			checks_failed++;                                                     \
		}                                                                            \
	} while (0)

static uint64_t rq(struct sim *s, uint32_t node, enum group_req_type t, uint64_t region)
{
	struct group_req q;

	memset(&q, 0, sizeof(q));
	q.type = t;
	q.region = region;
	if (t == GROUP_REQ_MARK || t == GROUP_REQ_CLEAR) {
		q.regions[0] = region;
		q.n_regions = 1;
	}
	return sim_request(s, node, &q);
}

static bool done_ok(struct sim *s, uint64_t t)
{
	const struct sim_reply_rec *r = sim_reply(s, t);

	return r && r->done && r->count == 1 && r->r.error == 0;
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

static bool is_clean(struct sim *s, uint32_t node, uint64_t r)
{
	bool b = true;

	rlog_is_clean(rl(s, node), r, &b);
	return b;
}

/* A write to a new region, as the kernel does it: MARK, then FLUSH (the write's wait). */
static bool write_region(struct sim *s, uint32_t node, uint64_t r)
{
	uint64_t m = rq(s, node, GROUP_REQ_MARK, r), f = rq(s, node, GROUP_REQ_FLUSH, 0);

	sim_settle(s, 100000);
	return done_ok(s, m) && done_ok(s, f);
}

static struct sim *three_nodes(enum group_log_type type)
{
	struct sim_params p;
	struct sim *s = NULL;
	uint32_t i;

	memset(&p, 0, sizeof(p));
	p.n_nodes = 3;
	p.type = type;
	p.region_count = 64;
	p.sync_mode = RLOG_SYNC_NONE;
	p.seed = 4242;
	p.disk_delay_max = 3;
	if (sim_create(&s, &p))
		return NULL;
	for (i = 1; i <= 3; i++) {
		uint64_t t = sim_start(s, i);

		sim_settle(s, 100000);
		CHECK(done_ok(s, t));
	}
	return s;
}

/*
 * Node 2 cannot apply node 1's commit. Node 1's write completes (nodes 1 and 3 hold the
 * mark); node 2 excludes itself (its replica calls region 5 clean) and holds its kernel's
 * next write instead of committing from that replica; after the rejoin all three replicas
 * are equal again, the held write completes, and both nodes' marks survived.
 */
static void scenario_commit(enum group_log_type type, const char *name)
{
	struct sim *s = three_nodes(type);
	uint64_t held, held_mark;

	scenario = name;
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(write_region(s, 2, 9)); /* node 2's own write, before the failure */
	CHECK(!is_clean(s, 1, 9) && !is_clean(s, 3, 9));

	fail_rl = rl(s, 2);
	fail_left = 1;
	failed = 0;
	CHECK(write_region(s, 1, 5));
	CHECK(failed == 1);
	CHECK(!is_clean(s, 1, 5) && !is_clean(s, 3, 5));
	CHECK(rlog_digest(rl(s, 1)) == rlog_digest(rl(s, 3)));
	/* what went silently wrong before: node 2's replica lost the mark */
	CHECK(is_clean(s, 2, 5));
	CHECK(excluded_self(s, 2));
	CHECK(!synced(s, 2));
	CHECK(synced(s, 1) && synced(s, 3));

	/* node 2's kernel writes a new region: its FLUSH is held, not answered */
	held_mark = rq(s, 2, GROUP_REQ_MARK, 13);
	held = rq(s, 2, GROUP_REQ_FLUSH, 0);
	sim_settle(s, 100000);
	CHECK(sim_reply(s, held) && !sim_reply(s, held)->done);
	CHECK(is_clean(s, 1, 13) && is_clean(s, 3, 13));
	/* the others serve on meanwhile */
	CHECK(write_region(s, 3, 7));

	/* the daemon's answer to its own exclusion: leave and join again (cmcpg_rejoin) */
	sim_disconnect(s, 2);
	sim_settle(s, 100000);
	sim_reconnect(s, 2);
	sim_settle(s, 100000);
	CHECK(synced(s, 1) && synced(s, 2) && synced(s, 3));
	CHECK(!excluded_self(s, 2));
	CHECK(rlog_digest(rl(s, 1)) == rlog_digest(rl(s, 2)));
	CHECK(rlog_digest(rl(s, 1)) == rlog_digest(rl(s, 3)));
	CHECK(done_ok(s, held_mark) && done_ok(s, held));
	CHECK(!is_clean(s, 2, 5) && !is_clean(s, 2, 9) && !is_clean(s, 2, 7));
	CHECK(rlog_node_marked(rl(s, 2), 1, 5) && rlog_node_marked(rl(s, 3), 1, 5));
	CHECK(rlog_node_marked(rl(s, 1), 2, 13) && rlog_node_marked(rl(s, 3), 2, 13));
	/* the rejoined node writes again, and everyone agrees */
	CHECK(write_region(s, 2, 11));
	CHECK(rlog_digest(rl(s, 1)) == rlog_digest(rl(s, 2)));
	CHECK(rlog_digest(rl(s, 2)) == rlog_digest(rl(s, 3)));
	CHECK(sim_errors(s) == 0);
	sim_destroy(s);
}

static void commit_core(void)
{
	scenario_commit(GROUP_LOG_CORE, "commit-core");
}

static void commit_disk(void)
{
	scenario_commit(GROUP_LOG_DISK, "commit-disk");
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} list[] = {
		{"commit-core", commit_core},
		{"commit-disk", commit_disk},
	};
	unsigned i, before, bad = 0;

	for (i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
		before = checks_failed;
		list[i].fn();
		if (checks_failed == before) {
			passed++;
			printf("PASS: %s\n", list[i].name);
		} else {
			bad++;
			printf("FAIL: %s\n", list[i].name);
		}
	}
	printf("%u passed, %u failed\n", passed, bad);
	return bad ? 1 : 0;
}
