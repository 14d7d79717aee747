/*
 * test_rlog_model.c: randomized differential test of log/ against a deliberately naive
 * reference model (byte arrays, per-node bool arrays, linear scans).
 *
 * Long random sequences of every replicated operation are applied to both; after every
 * step every observable is compared (return codes, answers, in_sync/is_clean of every
 * region, counts, hint, marks, assignment, cursor) and the safety invariants are checked
 * (exact sync count, no marked region clean, at most one assignment, exact hint). Every
 * SNAP_EVERY steps the state goes through a snapshot at an odd chunk size and the decoded
 * log must have the same digest (and a clone too).
 *
 * Seeds: RLOG_SEED=<n> runs one seed; otherwise a fixed list. The failing seed and step are
 * printed on failure.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log/rlog.h"

#define NPOOL	   70 /* more than RLOG_MAX_NODES, so -ENOSPC happens */
#define NHOT	   6  /* nodes used most of the time */
#define MAXR	   400
#define STEPS	   5000
#define SNAP_EVERY 97

struct model {
	uint64_t n;
	enum rlog_sync_mode mode;
	uint8_t clean[MAXR], sync[MAXR];
	uint8_t marks[NPOOL][MAXR];
	bool slot[NPOOL];
	int slots_used;
	uint64_t cursor;
	bool has_assign;
	uint64_t assign_region;
	uint32_t assign_node;
	uint64_t prio[RLOG_MAX_PRIORITY];
	size_t prio_len;
};

static uint64_t rng_state;
static uint64_t cur_seed;
static int cur_step;
static const char *cur_op = "";

static uint64_t rnd(void)
{
	/* xorshift64*: the test's own deterministic generator */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

static uint32_t node_id(int i)
{
	return (uint32_t)(i * 7 + 1);
}

static int pick_node(void)
{
	return rnd_below(100) < 95 ? (int)rnd_below(NHOT) : (int)rnd_below(NPOOL);
}

static void fail_at(const char *what, uint64_t a, uint64_t b)
{
	print_error("seed %" PRIu64 " step %d op %s: %s: rlog %" PRIu64 " model %" PRIu64
		    " (rerun with RLOG_SEED=%" PRIu64 ")\n",
		    cur_seed, cur_step, cur_op, what, a, b, cur_seed);
	fail();
}

#define SAME(what, a, b)                                         \
	do {                                                     \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b); \
		if (a_ != b_)                                    \
			fail_at(what, a_, b_);                   \
	} while (0)

/* ---- the reference model -------------------------------------------------------------- */

static bool m_marked_any(const struct model *m, uint64_t r)
{
	int i;

	for (i = 0; i < NPOOL; i++)
		if (m->marks[i][r])
			return true;
	return false;
}

static uint64_t m_hint(const struct model *m)
{
	uint64_t r;

	for (r = 0; r < m->n; r++)
		if (!m->sync[r])
			return r;
	return m->n;
}

static void m_create(struct model *m, uint64_t n, enum rlog_sync_mode mode)
{
	memset(m, 0, sizeof(*m));
	m->n = n;
	m->mode = mode;
	memset(m->clean, 1, n);
	memset(m->sync, mode == RLOG_SYNC_NONE, n);
}

static bool m_valid(const struct model *m, const uint64_t *regs, size_t n)
{
	size_t i;

	if (n > RLOG_MAX_BATCH)
		return false;
	for (i = 0; i < n; i++)
		if (regs[i] >= m->n)
			return false;
	return true;
}

static int m_mark(struct model *m, int ni, const uint64_t *regs, size_t n)
{
	size_t i;

	if (!m_valid(m, regs, n))
		return -EINVAL;
	if (!n)
		return 0;
	if (!m->slot[ni]) {
		if (m->slots_used == RLOG_MAX_NODES)
			return -ENOSPC;
		m->slot[ni] = true;
		m->slots_used++;
	}
	for (i = 0; i < n; i++) {
		m->marks[ni][regs[i]] = 1;
		m->clean[regs[i]] = 0;
	}
	return 0;
}

static int m_clear(struct model *m, int ni, const uint64_t *regs, size_t n)
{
	size_t i;

	if (!m_valid(m, regs, n))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		m->marks[ni][regs[i]] = 0;
		if (!m_marked_any(m, regs[i]) && m->sync[regs[i]])
			m->clean[regs[i]] = 1;
	}
	return 0;
}

/* Does a node other than pool index @ni mark region @r? (naive: look at every node) */
static bool m_marked_by_other(const struct model *m, int ni, uint64_t r)
{
	int i;

	for (i = 0; i < NPOOL; i++)
		if (i != ni && m->marks[i][r])
			return true;
	return false;
}

static void m_assign(struct model *m, int ni, uint64_t r, uint64_t *region, bool *found)
{
	m->has_assign = true;
	m->assign_region = r;
	m->assign_node = node_id(ni);
	*found = true;
	*region = r;
}

static void m_work(struct model *m, int ni, uint64_t *region, bool *found)
{
	uint64_t r, skipped = UINT64_MAX, keep[RLOG_MAX_PRIORITY];
	size_t i, nkeep = 0;

	*found = false;
	*region = 0;
	if (m->has_assign) {
		if (m->assign_node == node_id(ni)) {
			*found = true;
			*region = m->assign_region;
		}
		return;
	}
	/* Priority queue in order; entries another node marks move to the back. */
	for (i = 0; i < m->prio_len; i++) {
		r = m->prio[i];
		if (m->sync[r])
			continue;
		if (m_marked_by_other(m, ni, r)) {
			keep[nkeep++] = r;
			continue;
		}
		m_assign(m, ni, r, region, found);
		memmove(m->prio, m->prio + i + 1, (m->prio_len - i - 1) * sizeof(m->prio[0]));
		m->prio_len -= i + 1;
		memcpy(m->prio + m->prio_len, keep, nkeep * sizeof(keep[0]));
		m->prio_len += nkeep;
		return;
	}
	memcpy(m->prio, keep, nkeep * sizeof(keep[0]));
	m->prio_len = nkeep;
	for (r = m->cursor; r < m->n; r++) {
		if (m->sync[r])
			continue;
		if (m_marked_by_other(m, ni, r)) {
			if (skipped == UINT64_MAX)
				skipped = r;
			continue;
		}
		m_assign(m, ni, r, region, found);
		m->cursor = skipped != UINT64_MAX ? skipped : r + 1;
		return;
	}
	m->cursor = skipped != UINT64_MAX ? skipped : m->n;
}

static int m_set_sync(struct model *m, int ni, uint64_t r, bool in_sync)
{
	if (r >= m->n)
		return -EINVAL;
	if (m->has_assign && m->assign_region == r) {
		if (m->assign_node == node_id(ni))
			m->has_assign = false;
		else if (in_sync)
			return 0;
	}
	if (in_sync) {
		m->sync[r] = 1;
		if (!m_marked_any(m, r))
			m->clean[r] = 1;
	} else {
		m->sync[r] = 0;
		m->clean[r] = 0;
		if (r < m->cursor)
			m->cursor = r;
	}
	return 0;
}

static int m_recovering(struct model *m, uint64_t r, bool multi, bool *rec, uint64_t *hint)
{
	size_t i;

	if (r >= m->n)
		return -EINVAL;
	*rec = multi && !m->sync[r];
	if (*rec && !(m->has_assign && m->assign_region == r)) {
		for (i = 0; i < m->prio_len; i++)
			if (m->prio[i] == r)
				break;
		if (i == m->prio_len) {
			if (m->prio_len == RLOG_MAX_PRIORITY) {
				memmove(m->prio, m->prio + 1,
					(m->prio_len - 1) * sizeof(m->prio[0]));
				m->prio_len--;
			}
			m->prio[m->prio_len++] = r;
		}
	}
	*hint = m_hint(m);
	return 0;
}

static void m_node_left(struct model *m, int ni)
{
	uint64_t r;

	if (m->has_assign && m->assign_node == node_id(ni)) {
		if (m->assign_region < m->cursor)
			m->cursor = m->assign_region;
		m->has_assign = false;
	}
	if (!m->slot[ni])
		return;
	for (r = 0; r < m->n; r++) {
		if (m->marks[ni][r]) {
			m->marks[ni][r] = 0;
			m->sync[r] = 0;
			m->clean[r] = 0;
			if (r < m->cursor)
				m->cursor = r;
		}
	}
	m->slot[ni] = false;
	m->slots_used--;
}

static void m_resume(struct model *m, const uint8_t *disk, uint64_t disk_regions)
{
	uint64_t r;

	if (m->mode != RLOG_SYNC_DEFAULT || !disk)
		disk_regions = 0;
	for (r = 0; r < m->n; r++) {
		if (r < disk_regions)
			m->clean[r] = disk[r / 8] >> (r % 8) & 1;
		else
			m->clean[r] = m->mode == RLOG_SYNC_NONE;
		m->sync[r] = m->clean[r];
	}
	memset(m->marks, 0, sizeof(m->marks));
	memset(m->slot, 0, sizeof(m->slot));
	m->slots_used = 0;
	m->cursor = 0;
	m->has_assign = false;
	m->prio_len = 0;
}

static int m_resize(struct model *m, uint64_t n)
{
	uint64_t r;
	size_t i, k;
	int ni;

	if (n < 1 || n > MAXR)
		return -EINVAL;
	for (r = m->n; r < n; r++) {
		m->clean[r] = m->sync[r] = m->mode == RLOG_SYNC_NONE;
		for (ni = 0; ni < NPOOL; ni++)
			m->marks[ni][r] = 0;
	}
	for (r = n; r < m->n; r++)
		for (ni = 0; ni < NPOOL; ni++)
			m->marks[ni][r] = 0;
	if (m->has_assign && m->assign_region >= n)
		m->has_assign = false;
	for (i = 0, k = 0; i < m->prio_len; i++)
		if (m->prio[i] < n)
			m->prio[k++] = m->prio[i];
	m->prio_len = k;
	if (m->cursor > n)
		m->cursor = n;
	m->n = n;
	return 0;
}

/* ---- comparison ------------------------------------------------------------------------ */

static void compare(const struct rlog *rl, const struct model *m)
{
	uint64_t r, sync = 0, clean = 0, total = 0, ar = 0, cnt;
	uint32_t an = 0;
	bool b, assigned;
	int ni;

	SAME("region_count", rlog_region_count(rl), m->n);
	for (r = 0; r < m->n; r++) {
		SAME("in_sync rc", rlog_in_sync(rl, r, &b), 0);
		if (b != m->sync[r])
			fail_at("in_sync of region", r, m->sync[r]);
		SAME("is_clean rc", rlog_is_clean(rl, r, &b), 0);
		if (b != m->clean[r])
			fail_at("is_clean of region", r, m->clean[r]);
		sync += m->sync[r];
		clean += m->clean[r];
		/* Safety: a region some node marks is never clean. */
		if (m->clean[r] && m_marked_any(m, r))
			fail_at("marked region clean", r, 0);
	}
	SAME("in_sync past end", rlog_in_sync(rl, m->n, &b), -EINVAL);
	SAME("is_clean past end", rlog_is_clean(rl, m->n, &b), -EINVAL);
	SAME("sync_count", rlog_sync_count(rl), sync);
	SAME("clean_count", rlog_clean_count(rl), clean);
	SAME("hint", rlog_in_sync_hint(rl), m_hint(m));
	SAME("cursor", rlog_cursor(rl), m->cursor);
	assigned = rlog_assignment(rl, &ar, &an);
	SAME("has assignment", assigned, m->has_assign);
	if (assigned) {
		SAME("assignment region", ar, m->assign_region);
		SAME("assignment node", an, m->assign_node);
		if (ar >= m->n)
			fail_at("assignment out of range", ar, m->n);
	}
	for (ni = 0; ni < NPOOL; ni++) {
		cnt = 0;
		for (r = 0; r < m->n; r++)
			cnt += m->marks[ni][r];
		SAME("node_mark_count", rlog_node_mark_count(rl, node_id(ni)), cnt);
		total += cnt;
		if (ni < NHOT || m->slot[ni])
			for (r = 0; r < m->n; r++)
				if (rlog_node_marked(rl, node_id(ni), r) != m->marks[ni][r])
					fail_at("node_marked region", r, m->marks[ni][r]);
	}
	SAME("mark_count", rlog_mark_count(rl), total);
}

static void snapshot_check(const struct rlog *rl)
{
	static const size_t caps[] = {1, 7, 64, 100, 4096};
	struct rlog_snap_enc *enc;
	struct rlog_snap_dec *dec;
	struct rlog *out, *cl;
	uint8_t buf[4096];
	size_t len, cap = caps[rnd_below(5)];
	bool done = false, ddone = false;
	uint64_t gen = 0;

	SAME("snapshot_begin", rlog_snapshot_begin(rl, (uint64_t)cur_step, &enc), 0);
	SAME("dec_begin", rlog_snapshot_dec_begin(&dec), 0);
	while (!done) {
		SAME("snapshot_next", rlog_snapshot_next(enc, buf, cap, &len, &done), 0);
		SAME("chunk within cap", len <= cap, 1);
		SAME("dec_feed", rlog_snapshot_dec_feed(dec, buf, len, &ddone), 0);
	}
	SAME("decoder done with encoder", ddone, 1);
	SAME("dec_finish", rlog_snapshot_dec_finish(dec, &out, &gen), 0);
	SAME("snapshot gen", gen, (uint64_t)cur_step);
	SAME("snapshot digest", rlog_digest(out), rlog_digest(rl));
	SAME("snapshot hint", rlog_in_sync_hint(out), rlog_in_sync_hint(rl));
	SAME("snapshot clean_count", rlog_clean_count(out), rlog_clean_count(rl));
	SAME("snapshot mark_count", rlog_mark_count(out), rlog_mark_count(rl));
	rlog_snapshot_end(enc);
	rlog_snapshot_dec_free(dec);
	SAME("clone", rlog_clone(out, &cl), 0);
	SAME("clone digest", rlog_digest(cl), rlog_digest(rl));
	rlog_destroy(cl);
	rlog_destroy(out);
}

/* A region: mostly from a small hot set (collisions), sometimes anywhere, rarely invalid. */
static uint64_t pick_region(uint64_t n)
{
	uint64_t p = rnd_below(100);

	if (p < 2)
		return n + rnd_below(3);
	if (p < 50)
		return rnd_below(n < 8 ? n : 8);
	if (p < 55)
		return n - 1;
	return rnd_below(n);
}

static size_t pick_batch(uint64_t *regs, uint64_t n)
{
	size_t k, i;
	uint64_t p = rnd_below(100);

	k = p < 3 ? RLOG_MAX_BATCH + 1 : p < 8 ? 0 : 1 + rnd_below(p < 20 ? RLOG_MAX_BATCH : 4);
	for (i = 0; i < k; i++)
		regs[i] = pick_region(n);
	return k;
}

/*
 * Steps per seed: STEPS, or CMLOG_MODEL_SCALE percent of it (1..100) for slow runners
 * (tools/check-quality.sh runs it under valgrind memcheck with 10): every seed, size and sync
 * mode is still covered, only each walk is shorter.
 */
static int model_steps(void)
{
	static int steps;
	const char *env;
	long pct;

	if (steps)
		return steps;
	steps = STEPS;
	env = getenv("CMLOG_MODEL_SCALE");
	if (env && *env) {
		pct = strtol(env, NULL, 10);
		if (pct < 1)
			pct = 1;
		if (pct > 100)
			pct = 100;
		steps = (int)(STEPS * pct / 100);
		if (steps < 2 * SNAP_EVERY)
			steps = 2 * SNAP_EVERY; /* still reach the periodic snapshot checks */
	}
	return steps;
}

static void run_seed(uint64_t seed)
{
	static struct model m;
	static const uint64_t sizes[] = {1, 2, 63, 64, 65, 127, 130, 200, MAXR};
	uint64_t regs[RLOG_MAX_BATCH + 1], r = 0, r2 = 0, h = 0, h2 = 0, n;
	struct rlog *rl;
	enum rlog_sync_mode mode;
	bool f = false, f2 = false, rec = false, rec2 = false;
	int step, ni, rc, op;

	cur_seed = seed;
	rng_state = seed * UINT64_C(0x9E3779B97F4A7C15) + 1;
	n = sizes[rnd_below(sizeof(sizes) / sizeof(sizes[0]))];
	mode = (enum rlog_sync_mode)rnd_below(3);
	cur_step = -1;
	cur_op = "create";
	assert_int_equal(rlog_create(&rl, n, mode), 0);
	m_create(&m, n, mode);
	compare(rl, &m);
	for (step = 0; step < model_steps(); step++) {
		size_t k;

		cur_step = step;
		ni = pick_node();
		op = (int)rnd_below(100);
		if (op < 22) {
			cur_op = "mark";
			k = pick_batch(regs, m.n);
			SAME("mark rc", rlog_mark(rl, node_id(ni), regs, k),
			     m_mark(&m, ni, regs, k));
		} else if (op < 40) {
			cur_op = "clear";
			k = pick_batch(regs, m.n);
			SAME("clear rc", rlog_clear(rl, node_id(ni), regs, k),
			     m_clear(&m, ni, regs, k));
		} else if (op < 55) {
			cur_op = "get_resync_work";
			SAME("get_resync_work rc", rlog_get_resync_work(rl, node_id(ni), &r, &f),
			     0);
			m_work(&m, ni, &r2, &f2);
			SAME("work found", f, f2);
			if (f)
				SAME("work region", r, r2);
		} else if (op < 72) {
			cur_op = "set_region_sync";
			f = rnd_below(100) < 80;
			if (rnd_below(100) < 15) {
				/* A stretch of recovery: whole words turn in sync (or out). */
				uint64_t a = rnd_below(m.n), e = a + 1 + rnd_below(140);

				for (r = a; r < e && r < m.n; r++)
					SAME("set_region_sync rc",
					     rlog_set_region_sync(rl, node_id(ni), r, f),
					     m_set_sync(&m, ni, r, f));
			} else {
				r = rnd_below(100) < 60 && m.has_assign ? m.assign_region
									: pick_region(m.n);
				SAME("set_region_sync rc",
				     rlog_set_region_sync(rl, node_id(ni), r, f),
				     m_set_sync(&m, ni, r, f));
			}
		} else if (op < 88) {
			cur_op = "is_remote_recovering";
			r = pick_region(m.n);
			f = rnd_below(100) < 80;
			rc = rlog_is_remote_recovering(rl, node_id(ni), r, f, &rec, &h);
			SAME("is_remote_recovering rc", rc, m_recovering(&m, r, f, &rec2, &h2));
			if (!rc) {
				SAME("recovering", rec, rec2);
				SAME("hint answer", h, h2);
			}
		} else if (op < 94) {
			cur_op = "node_left";
			SAME("node_left rc", rlog_node_left(rl, node_id(ni)), 0);
			m_node_left(&m, ni);
		} else if (op < 97) {
			static uint8_t disk[(MAXR + 80) / 8 + 1];
			uint64_t dr = rnd_below(m.n + 70), i;
			bool null = rnd_below(4) == 0;

			cur_op = "resume_master";
			for (i = 0; i < sizeof(disk); i++)
				disk[i] = (uint8_t)(rnd_below(3) ? 0xff : rnd());
			SAME("resume rc", rlog_resume_master(rl, null ? NULL : disk, dr), 0);
			m_resume(&m, null ? NULL : disk, dr);
		} else {
			uint64_t nn = rnd_below(4) ? 1 + rnd_below(MAXR) : sizes[rnd_below(9)];

			cur_op = "resize";
			SAME("resize rc", rlog_resize(rl, nn), m_resize(&m, nn));
		}
		compare(rl, &m);
		if (step % SNAP_EVERY == 0)
			snapshot_check(rl);
	}
	snapshot_check(rl);
	rlog_destroy(rl);
}

static void test_model(void **state)
{
	static const uint64_t seeds[] = {1, 2,	3,  4,	5,  6,	  7,	 8,
					 9, 10, 11, 12, 42, 1234, 99991, 20261124};
	const char *env = getenv("RLOG_SEED");
	size_t i;

	(void)state;
	if (env && *env) {
		run_seed(strtoull(env, NULL, 0));
		return;
	}
	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		run_seed(seeds[i]);
}

/* Same marks inserted in different orders and by different nodes: same digest. */
static void test_digest_order_independent(void **state)
{
	struct rlog *a, *b;
	uint64_t regs[RLOG_MAX_BATCH];
	int i, j;

	(void)state;
	assert_int_equal(rlog_create(&a, 5000, RLOG_SYNC_DEFAULT), 0);
	assert_int_equal(rlog_create(&b, 5000, RLOG_SYNC_DEFAULT), 0);
	for (i = 0; i < 20; i++) {
		for (j = 0; j < RLOG_MAX_BATCH; j++)
			regs[j] = (uint64_t)(i * RLOG_MAX_BATCH + j) * 7 % 5000;
		assert_int_equal(rlog_mark(a, 10 + (uint32_t)(i % 3), regs, RLOG_MAX_BATCH), 0);
	}
	for (i = 19; i >= 0; i--) {
		for (j = RLOG_MAX_BATCH - 1; j >= 0; j--)
			regs[RLOG_MAX_BATCH - 1 - j] =
				(uint64_t)(i * RLOG_MAX_BATCH + j) * 7 % 5000;
		/* Nodes first seen in another order, so their slot numbers differ. */
		assert_int_equal(rlog_mark(b, 10 + (uint32_t)((i + 2) % 3), regs, 0), 0);
		assert_int_equal(rlog_mark(b, 10 + (uint32_t)(i % 3), regs, RLOG_MAX_BATCH), 0);
	}
	assert_int_equal(rlog_mark_count(a), rlog_mark_count(b));
	assert_true(rlog_digest(a) == rlog_digest(b));
	/* And it does see a difference in marks: one node id differs. */
	regs[0] = 1;
	assert_int_equal(rlog_mark(a, 99, regs, 1), 0);
	assert_int_equal(rlog_mark(b, 98, regs, 1), 0);
	assert_true(rlog_digest(a) != rlog_digest(b));
	rlog_destroy(a);
	rlog_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_order_independent),
		cmocka_unit_test(test_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
