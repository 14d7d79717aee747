/*
 * test_rlog_alloc: allocation failure injection over the region-state machine (log/).
 *
 * malloc and calloc are wrapped at link time (-Wl,--wrap); for every operation that
 * allocates, the test fails its first allocation, then its second, and so on until the
 * operation runs without meeting a failure. At each failure the operation must return
 * -ENOMEM, leave the log exactly as it was (digest and counts) and leak nothing (allocations
 * made minus freed, counted by the wrappers; ASan and valgrind check the same in the
 * quality tier). The cluster's side of an -ENOMEM (a member that cannot apply an ordered
 * change excludes itself) is tests/sim/sim_scenarios 920-921.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log/rlog.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void __real_free(void *p);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void __wrap_free(void *p);

static bool armed;
static unsigned countdown; /* allocations still allowed while armed */
static unsigned injected;  /* failures given */
static long live;	   /* allocations made minus freed */

static bool inject(void)
{
	if (!armed)
		return false;
	if (countdown == 0) {
		injected++;
		return true;
	}
	countdown--;
	return false;
}

void *__wrap_malloc(size_t size)
{
	void *p = inject() ? NULL : __real_malloc(size);

	if (p)
		live++;
	return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
	void *p = inject() ? NULL : __real_calloc(n, size);

	if (p)
		live++;
	return p;
}

void __wrap_free(void *p)
{
	if (p)
		live--;
	__real_free(p);
}

static void arm(unsigned k)
{
	countdown = k;
	injected = 0;
	armed = true;
}

static void disarm(void)
{
	armed = false;
}

/* A log with some of everything: marks of two nodes, out-of-sync regions, an assignment. */
static struct rlog *busy_log(uint64_t regions)
{
	struct rlog *rl = NULL;
	uint64_t v[RLOG_MAX_BATCH], r;
	bool found = false;
	size_t i;

	assert_int_equal(rlog_create(&rl, regions, RLOG_SYNC_NONE), 0);
	assert_int_equal(rlog_resume_master(rl, NULL, 0), 0);
	for (i = 0; i < RLOG_MAX_BATCH; i++)
		v[i] = i * 7 % regions;
	assert_int_equal(rlog_mark(rl, 1, v, RLOG_MAX_BATCH), 0);
	for (i = 0; i < 8; i++)
		v[i] = regions - 1 - i;
	assert_int_equal(rlog_mark(rl, 2, v, 8), 0);
	assert_int_equal(rlog_node_left(rl, 2), 0); /* its regions go out of sync */
	assert_int_equal(rlog_get_resync_work(rl, 1, &r, &found), 0);
	assert_true(found);
	return rl;
}

/*
 * Run @op with the k-th allocation failing, k = 0, 1, ... until it meets no failure. @op
 * returns its error; @check_unchanged verifies the state after a failure.
 */
struct alloc_case {
	const char *name;
	int (*op)(void *ctx);
	void (*done)(void *ctx);	    /* check and free what a successful op made */
	void (*check_unchanged)(void *ctx); /* after a failed op */
	void *ctx;
};

static void run_case(const struct alloc_case *c)
{
	unsigned k, failures = 0;
	long before;
	int ret;

	for (k = 0; k < 1000; k++) {
		before = live;
		arm(k);
		ret = c->op(c->ctx);
		disarm();
		if (!injected) {
			assert_int_equal(ret, 0);
			c->done(c->ctx);
			assert_int_equal(live, before);
			break;
		}
		failures++;
		if (ret != -ENOMEM)
			fail_msg("%s: allocation %u failed, the operation returned %d", c->name, k,
				 ret);
		if (live != before)
			fail_msg("%s: allocation %u failed and %ld allocation(s) leaked", c->name,
				 k, live - before);
		c->check_unchanged(c->ctx);
	}
	assert_true(k < 1000);
	/* the operation allocates, so at least one failure was tried */
	assert_true(failures > 0);
	print_message("%s: each of its %u allocation(s) failed in turn: -ENOMEM, state unchanged, "
		      "nothing leaked\n",
		      c->name, failures);
}

/* ---- rlog_create ---- */

struct create_ctx {
	struct rlog *rl;
};

static int op_create(void *ctx)
{
	struct create_ctx *c = ctx;

	c->rl = NULL;
	return rlog_create(&c->rl, 100000, RLOG_SYNC_NONE);
}

static void done_create(void *ctx)
{
	struct create_ctx *c = ctx;

	rlog_destroy(c->rl);
	c->rl = NULL;
}

static void unchanged_create(void *ctx)
{
	struct create_ctx *c = ctx;

	assert_null(c->rl);
}

static void test_create(void **state)
{
	struct create_ctx c = {NULL};
	struct alloc_case ac = {"rlog_create", op_create, done_create, unchanged_create, &c};

	(void)state;
	run_case(&ac);
}

/* ---- operations on a busy log ---- */

struct log_ctx {
	struct rlog *rl;
	uint64_t digest, marks, regions;
	struct rlog *out;	   /* clone, decoded log */
	struct rlog_snap_enc *enc; /* snapshot encoder */
	uint8_t *image;		   /* encoded snapshot */
	size_t image_len;
};

static void log_ctx_init(struct log_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->rl = busy_log(4096);
	c->digest = rlog_digest(c->rl);
	c->marks = rlog_mark_count(c->rl);
	c->regions = rlog_region_count(c->rl);
}

static void log_ctx_fini(struct log_ctx *c)
{
	rlog_destroy(c->rl);
	free(c->image);
}

static void unchanged_log(void *ctx)
{
	struct log_ctx *c = ctx;

	assert_int_equal(rlog_digest(c->rl), c->digest);
	assert_int_equal(rlog_mark_count(c->rl), c->marks);
	assert_int_equal(rlog_region_count(c->rl), c->regions);
	assert_null(c->out);
	assert_null(c->enc);
}

/* Run one operation's case on a fresh busy log. */
static void run_log_case(const char *name, int (*op)(void *), void (*done)(void *))
{
	struct log_ctx c;
	struct alloc_case ac = {name, op, done, unchanged_log, &c};

	log_ctx_init(&c);
	run_case(&ac);
	log_ctx_fini(&c);
}

/* rlog_mark: a new node marks a batch of regions and the mark table has to grow */
static int op_mark(void *ctx)
{
	struct log_ctx *c = ctx;
	uint64_t v[RLOG_MAX_BATCH];
	size_t i;

	for (i = 0; i < RLOG_MAX_BATCH; i++)
		v[i] = 1000 + i;
	return rlog_mark(c->rl, 3, v, RLOG_MAX_BATCH);
}

static void done_mark(void *ctx)
{
	struct log_ctx *c = ctx;

	assert_int_equal(rlog_mark_count(c->rl), c->marks + RLOG_MAX_BATCH);
	assert_true(rlog_node_marked(c->rl, 3, 1000));
}

static void test_mark(void **state)
{
	struct log_ctx c;
	struct alloc_case ac = {"rlog_mark", op_mark, done_mark, unchanged_log, &c};

	uint64_t v[RLOG_MAX_BATCH];
	size_t i;

	(void)state;
	log_ctx_init(&c);
	/* 64 entries in a table of 128: the next batch makes it grow */
	for (i = 0; i < RLOG_MAX_BATCH; i++)
		v[i] = 2000 + i;
	assert_int_equal(rlog_mark(c.rl, 4, v, RLOG_MAX_BATCH), 0);
	c.digest = rlog_digest(c.rl);
	c.marks = rlog_mark_count(c.rl);
	run_case(&ac);
	log_ctx_fini(&c);
}

/* rlog_resize: new bitmaps first, so a failure changes nothing */
static int op_resize(void *ctx)
{
	struct log_ctx *c = ctx;

	return rlog_resize(c->rl, 2 * c->regions);
}

static void done_resize(void *ctx)
{
	struct log_ctx *c = ctx;

	assert_int_equal(rlog_region_count(c->rl), 2 * c->regions);
}

static void test_resize(void **state)
{
	(void)state;
	run_log_case("rlog_resize", op_resize, done_resize);
}

/* rlog_clone: the frozen copy a state transfer sends */
static int op_clone(void *ctx)
{
	struct log_ctx *c = ctx;
	int ret = rlog_clone(c->rl, &c->out);

	if (ret)
		c->out = NULL;
	return ret;
}

/* A copy of the log came out (clone, decode): the same state; free it. */
static void done_same_log(void *ctx)
{
	struct log_ctx *c = ctx;

	assert_int_equal(rlog_digest(c->out), c->digest);
	rlog_destroy(c->out);
	c->out = NULL;
}

static void test_clone(void **state)
{
	(void)state;
	run_log_case("rlog_clone", op_clone, done_same_log);
}

/* rlog_snapshot_begin + next: encode the whole state */
static int op_encode(void *ctx)
{
	struct log_ctx *c = ctx;
	size_t len = 0, cap = 1u << 20;
	bool done = false;
	int ret;

	ret = rlog_snapshot_begin(c->rl, 7, &c->enc);
	if (ret) {
		c->enc = NULL;
		return ret;
	}
	c->image = malloc(cap);
	if (!c->image) {
		rlog_snapshot_end(c->enc);
		c->enc = NULL;
		return -ENOMEM;
	}
	while (!done && !ret) {
		ret = rlog_snapshot_next(c->enc, c->image + c->image_len, cap - c->image_len, &len,
					 &done);
		c->image_len += len;
	}
	rlog_snapshot_end(c->enc);
	c->enc = NULL;
	if (ret) {
		free(c->image);
		c->image = NULL;
		c->image_len = 0;
	}
	return ret;
}

static void done_encode(void *ctx)
{
	struct log_ctx *c = ctx;

	assert_true(c->image_len > 0);
	free(c->image);
	c->image = NULL;
	c->image_len = 0;
}

static void test_encode(void **state)
{
	(void)state;
	run_log_case("snapshot encode", op_encode, done_encode);
}

/* rlog_snapshot_dec_*: decode a received state, chunk by chunk */
static int op_decode(void *ctx)
{
	struct log_ctx *c = ctx;
	struct rlog_snap_dec *dec = NULL;
	uint64_t gen = 0;
	size_t off, k;
	bool done = false;
	int ret;

	ret = rlog_snapshot_dec_begin(&dec);
	if (ret)
		return ret;
	for (off = 0; !ret && off < c->image_len; off += k) {
		k = c->image_len - off < 1000 ? c->image_len - off : 1000;
		ret = rlog_snapshot_dec_feed(dec, c->image + off, k, &done);
	}
	if (!ret)
		ret = done ? rlog_snapshot_dec_finish(dec, &c->out, &gen) : -EBADMSG;
	rlog_snapshot_dec_free(dec);
	if (ret)
		c->out = NULL;
	else
		assert_int_equal(gen, 7);
	return ret;
}

static void test_decode(void **state)
{
	struct log_ctx c;
	struct alloc_case ac = {"snapshot decode", op_decode, done_same_log, unchanged_log, &c};

	(void)state;
	log_ctx_init(&c);
	assert_int_equal(op_encode(&c), 0); /* unarmed: the image to decode */
	run_case(&ac);
	log_ctx_fini(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create), cmocka_unit_test(test_mark),
		cmocka_unit_test(test_resize), cmocka_unit_test(test_clone),
		cmocka_unit_test(test_encode), cmocka_unit_test(test_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
