/*
 * standin: plays the kernel's dm-log-userspace client against a log daemon over a real
 * NETLINK_CONNECTOR socket, inside a network namespace, and checks every answer.
 *
 *   standin [--timeout-ms N] [--uuid U] [--luid L] [--port P] [--dev D] [--stop-pid PID]
 *           [--count N] SCENARIO...
 *
 * Prints "ok N - description" / "not ok N - description: expected X got Y" per check and a
 * final "N passed, N failed" line; exit 0 iff all passed, 2 when it refuses to run (initial
 * network namespace), 1 on usage errors or failed checks.
 *
 * The request sequences are modelled on the real kernel (kernel-protocol.md s5, s8, s9) and
 * the expected answers are those of kernel-protocol.md s4/s14 and of log/rlog.h for a log
 * served by a single daemon. Scenario "link-*" are for tests/func/kern_echo.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "tests/func/standin_lib.h"

struct sc {
	struct standin *s;
	int n, passed, failed;
	int timeout_ms;
	const char *uuid_base;
	uint64_t luid_base;
	unsigned int luid_next;
	const char *dev;
	pid_t stop_pid;
	unsigned int count;
	const char *name; /* current scenario */
};

struct lg {
	uint64_t luid;
	char uuid[129];
};

__attribute__((format(printf, 4, 5))) static bool check(struct sc *c, bool cond, const char *desc,
							const char *fmt, ...)
{
	va_list ap;

	c->n++;
	if (cond) {
		c->passed++;
		printf("ok %d - %s: %s\n", c->n, c->name, desc);
	} else {
		c->failed++;
		printf("not ok %d - %s: %s: ", c->n, c->name, desc);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
	return cond;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static struct lg new_log(struct sc *c, const char *suffix)
{
	struct lg l;

	l.luid = c->luid_base + 0x40u * c->luid_next++;
	snprintf(l.uuid, sizeof(l.uuid), "%s-%s", c->uuid_base, suffix);
	return l;
}

static const char *rc_str(int r)
{
	static char b[4][48];
	static int i;

	i = (i + 1) % 4;
	if (r == -ETIMEDOUT)
		snprintf(b[i], sizeof(b[i]), "no reply (timeout)");
	else if (r == 0)
		snprintf(b[i], sizeof(b[i]), "0");
	else
		snprintf(b[i], sizeof(b[i]), "%d (%s)", r, strerror(r < 0 ? -r : r));
	return b[i];
}

/*
 * One request/answer as the kernel sees it: the kernel's return value (error, -ENOSPC for a
 * reply above the capacity, -ETIMEDOUT for none). A reply that breaks the contract is a
 * failed check of its own.
 */
static int call_v(struct sc *c, const struct lg *l, uint32_t type, uint32_t version, const void *d,
		  uint32_t n, struct standin_reply *rep)
{
	struct standin_req rq = {.luid = l->luid,
				 .uuid = l->uuid,
				 .version = version,
				 .type = type,
				 .data = d,
				 .data_size = n};
	struct standin_reply tmp;
	int r;

	if (!rep)
		rep = &tmp;
	r = standin_call(c->s, &rq, rep, c->timeout_ms);
	if (r < 0)
		return r;
	if (rep->violation[0])
		check(c, false, "reply is well-formed", "%s reply: %s", standin_type_name(type),
		      rep->violation);
	return standin_kernel_result(rep, standin_capacity(&rq));
}

static int call(struct sc *c, const struct lg *l, uint32_t type, const void *d, uint32_t n,
		struct standin_reply *rep)
{
	return call_v(c, l, type, 3, d, n, rep);
}

static bool expect_rc(struct sc *c, const struct lg *l, uint32_t type, const void *d, uint32_t n,
		      int want, const char *desc)
{
	int r = call(c, l, type, d, n, NULL);

	return check(c, r == want, desc, "expected %s got %s", rc_str(want), rc_str(r));
}

static bool expect_ok(struct sc *c, const struct lg *l, uint32_t type, const void *d, uint32_t n,
		      const char *desc)
{
	return expect_rc(c, l, type, d, n, 0, desc);
}

/* A u64-valued request: the kernel result, *v set when it succeeded with exactly 8 bytes. */
static int call_u64(struct sc *c, const struct lg *l, uint32_t type, const void *d, uint32_t n,
		    uint64_t *v, char *got, size_t gl)
{
	struct standin_reply rep;
	int r = call(c, l, type, d, n, &rep);

	if (r == 0 && !rep.ack_only && rep.data_size == 8) {
		memcpy(v, rep.data, 8);
		snprintf(got, gl, "value %" PRIu64, *v);
		return 0;
	}
	snprintf(got, gl, "%s%s with %u bytes", rc_str(r), rep.ack_only ? " (ack-only)" : "",
		 r == -ETIMEDOUT ? 0 : rep.data_size);
	return r ? r : -EBADMSG;
}

static bool get_u64(struct sc *c, const struct lg *l, uint32_t type, const void *d, uint32_t n,
		    uint64_t *v, const char *desc)
{
	char got[96];
	int r = call_u64(c, l, type, d, n, v, got, sizeof(got));

	return check(c, r == 0, desc, "expected success with 8 bytes, got %s", got);
}

static bool expect_u64(struct sc *c, const struct lg *l, uint32_t type, const void *d, uint32_t n,
		       uint64_t want, const char *desc)
{
	char got[96];
	uint64_t v = 0;
	int r = call_u64(c, l, type, d, n, &v, got, sizeof(got));

	return check(c, r == 0 && v == want, desc, "expected value %" PRIu64 " got %s", want, got);
}

/*
 * IS_CLEAN(r) after the last CLEAR + FLUSH of r: 0 or 1 at once, because a clustered daemon
 * may defer clears in a bounded activity set (cluster/group.h "Hot regions": they leave with
 * the next commit, on overflow, or GROUP_AL_IDLE_MS = 2 s after the last write); then 1
 * within 5 s of the last write. IS_CLEAN is a read: polling it does not count as a write.
 */
static void expect_clean_soon(struct sc *c, const struct lg *l, uint64_t r, const char *what)
{
	char got[96], desc[160];
	uint64_t v = 2;
	int rc, polls = 0;

	rc = call_u64(c, l, 7, &r, 8, &v, got, sizeof(got));
	snprintf(desc, sizeof(desc), "IS_CLEAN(%" PRIu64 ") is 0 or 1 right after %s", r, what);
	check(c, rc == 0 && v <= 1, desc, "expected 0 or 1, got %s", got);
	while (rc == 0 && v == 0 && polls < 50) {
		usleep(100 * 1000);
		polls++;
		rc = call_u64(c, l, 7, &r, 8, &v, got, sizeof(got));
	}
	snprintf(desc, sizeof(desc), "IS_CLEAN(%" PRIu64 ") == 1 within 5 s of the last write (%s)",
		 r, what);
	check(c, rc == 0 && v == 1, desc, "after %d polls of 100 ms got %s", polls, got);
	note("IS_CLEAN(%" PRIu64 ") became 1 after %d ms", r, polls * 100);
}

/* {s64, u64} replies: GET_RESYNC_WORK, IS_REMOTE_RECOVERING */
static bool get_pair(struct sc *c, const struct lg *l, uint32_t type, const void *d, uint32_t n,
		     int64_t *a, uint64_t *b, const char *desc)
{
	struct standin_reply rep;
	int r = call(c, l, type, d, n, &rep);

	if (!check(c, r == 0 && !rep.ack_only && rep.data_size == 16, desc,
		   "expected success with 16 bytes, got %s with %u bytes", rc_str(r),
		   rep.data_size))
		return false;
	memcpy(a, rep.data, 8);
	memcpy(b, rep.data + 8, 8);
	return true;
}

static bool expect_str(struct sc *c, const struct lg *l, uint32_t type, const char *want,
		       const char *desc)
{
	struct standin_reply rep;
	int r = call(c, l, type, NULL, 0, &rep);

	if (r != 0)
		return check(c, false, desc, "expected \"%s\" got %s", want, rc_str(r));
	return check(c,
		     !rep.ack_only && rep.data_size == strlen(want) + 1 &&
			     strcmp((char *)rep.data, want) == 0,
		     desc, "expected \"%s\" (%zu bytes with NUL) got \"%s\" (%u bytes%s)", want,
		     strlen(want) + 1, (char *)rep.data, rep.data_size,
		     rep.ack_only ? ", ack-only" : "");
}

/* CTR string with its strlen (no NUL: the initial CTR) */
static int ctr(struct sc *c, const struct lg *l, const char *s, struct standin_reply *rep)
{
	return call(c, l, 1, s, (uint32_t)strlen(s), rep);
}

static bool ctr_ok(struct sc *c, const struct lg *l, const char *s, const char *desc)
{
	struct standin_reply rep;
	int r = ctr(c, l, s, &rep);

	if (!check(c, r == 0, desc, "CTR \"%s\": expected 0 got %s", s, rc_str(r)))
		return false;
	return check(c, rep.data_size == 0, "core CTR reply carries no device name", "got %u bytes",
		     rep.data_size);
}

/* CTR + GET_REGION_SIZE + GET_SYNC_COUNT (before RESUME) + RESUME, as dm activation does. */
static bool activate(struct sc *c, const struct lg *l, const char *ctrs, uint64_t rs,
		     uint64_t count_before)
{
	bool ok = ctr_ok(c, l, ctrs, "CTR");

	ok &= expect_u64(c, l, 6, NULL, 0, rs, "GET_REGION_SIZE right after CTR");
	ok &= expect_u64(c, l, 14, NULL, 0, count_before, "GET_SYNC_COUNT before RESUME");
	ok &= expect_ok(c, l, 5, NULL, 0, "RESUME");
	return ok;
}

/* ---- scenarios modelled on the kernel's sequences ---------------------------------------- */

static void sc_activate(struct sc *c)
{
	struct lg a = new_log(c, "act"), b = new_log(c, "act-nosync");

	/* 1024 sectors / 8 = 128 regions, default sync mode: conservative 0 before resume. */
	activate(c, &a, "1024 clustered-core 8", 8, 0);
	expect_u64(c, &a, 14, NULL, 0, 0, "GET_SYNC_COUNT after RESUME (core, no nosync)");
	expect_str(c, &a, 15, "1 clustered-core", "STATUS_INFO");
	expect_ok(c, &a, 2, NULL, 0, "DTR");

	/* nosync: every region in sync from the start (s5: == region count is safe here). */
	activate(c, &b, "1000 clustered-core 16 nosync", 16, 63);
	expect_u64(c, &b, 14, NULL, 0, 63, "GET_SYNC_COUNT after RESUME (nosync, 63 regions)");
	expect_ok(c, &b, 2, NULL, 0, "DTR");
}

static void sc_writes(struct sc *c)
{
	struct lg l = new_log(c, "writes");
	uint64_t r5 = 5, rs[2] = {7, 9}, v, batch[32], hint;
	int64_t rec;
	int i;

	activate(c, &l, "1024 clustered-core 8 nosync", 8, 128);
	/* First write to a clean region: [IS_REMOTE_RECOVERING] IN_SYNC IN_SYNC MARK FLUSH. */
	if (get_pair(c, &l, 17, &r5, 8, &rec, &hint, "IS_REMOTE_RECOVERING(5)")) {
		check(c, rec == 0, "single node: region 5 is not remotely recovering",
		      "got %" PRId64, rec);
		check(c, hint == 128, "in_sync_hint is region_count when all are in sync",
		      "expected 128 got %" PRIu64, hint);
	}
	expect_u64(c, &l, 8, &r5, 8, 1, "IN_SYNC(5) == 1");
	expect_u64(c, &l, 8, &r5, 8, 1, "IN_SYNC(5) == 1 again");
	expect_ok(c, &l, 10, &r5, 8, "MARK_REGION [5]");
	expect_ok(c, &l, 9, NULL, 0, "FLUSH");
	expect_u64(c, &l, 7, &r5, 8, 0, "IS_CLEAN(5) == 0 while marked");
	expect_ok(c, &l, 10, &r5, 8, "MARK_REGION [5] again (idempotent)");
	/* Writes completed: CLEAR + FLUSH. */
	expect_ok(c, &l, 11, &r5, 8, "CLEAR_REGION [5]");
	expect_ok(c, &l, 9, NULL, 0, "FLUSH");
	expect_clean_soon(c, &l, r5, "CLEAR [5] + FLUSH");
	/* Integrated flush: FLUSH carrying marks = mark + commit. */
	expect_ok(c, &l, 9, rs, 16, "FLUSH with payload [7, 9] (integrated flush)");
	expect_u64(c, &l, 7, &rs[0], 8, 0, "IS_CLEAN(7) == 0 after integrated FLUSH");
	expect_u64(c, &l, 7, &rs[1], 8, 0, "IS_CLEAN(9) == 0 after integrated FLUSH");
	expect_ok(c, &l, 11, rs, 16, "CLEAR_REGION [7, 9]");
	expect_ok(c, &l, 9, NULL, 0, "FLUSH (delayed, no payload)");
	expect_clean_soon(c, &l, rs[0], "CLEAR [7, 9] + FLUSH");
	expect_u64(c, &l, 7, &rs[1], 8, 1, "IS_CLEAN(9) == 1 (cleared with 7)");
	/* Groups of 32 regions (MAX_FLUSH_GROUP_COUNT), most recent first. */
	for (i = 0; i < 32; i++)
		batch[i] = (uint64_t)(127 - i * 3);
	expect_ok(c, &l, 10, batch, sizeof(batch), "MARK_REGION with 32 regions");
	expect_ok(c, &l, 9, NULL, 0, "FLUSH");
	v = 127;
	expect_u64(c, &l, 7, &v, 8, 0, "IS_CLEAN(127) == 0");
	expect_ok(c, &l, 11, batch, sizeof(batch), "CLEAR_REGION with 32 regions");
	expect_ok(c, &l, 9, NULL, 0, "FLUSH");
	expect_clean_soon(c, &l, v, "CLEAR of 32 regions + FLUSH");
	expect_ok(c, &l, 9, NULL, 0, "FLUSH with nothing to do");
	expect_ok(c, &l, 3, NULL, 0, "PRESUSPEND");
	expect_ok(c, &l, 4, NULL, 0, "POSTSUSPEND");
	expect_ok(c, &l, 2, NULL, 0, "DTR");
}

static void sc_resync(struct sc *c)
{
	struct lg l = new_log(c, "resync");
	const uint64_t nreg = 8;
	uint64_t count = 0, region, again, hint, seen = 0, q = 3;
	int64_t found, rec;
	unsigned int i;

	activate(c, &l, "64 clustered-core 8", 8, 0);
	expect_u64(c, &l, 14, NULL, 0, 0, "GET_SYNC_COUNT == 0 after RESUME");
	if (get_pair(c, &l, 17, &q, 8, &rec, &hint, "IS_REMOTE_RECOVERING(3)")) {
		check(c, rec == 0 || rec == 1, "is_recovering is 0 or 1", "got %" PRId64, rec);
		check(c, hint == 0, "in_sync_hint is the lowest region not in sync",
		      "expected 0 got %" PRIu64, hint);
	}
	for (i = 0; i < 2 * nreg + 2; i++) {
		char d[96];
		uint64_t srs[2];

		if (!get_pair(c, &l, 12, NULL, 0, &found, &region, "GET_RESYNC_WORK"))
			break;
		if (!check(c, found == 0 || found == 1, "GET_RESYNC_WORK flag is 0 or 1",
			   "got %" PRId64, found) ||
		    found == 0)
			break;
		snprintf(d, sizeof(d), "resync region %" PRIu64 " is new and below %" PRIu64,
			 region, nreg);
		if (!check(c, region < nreg && !(seen & (1ull << region)), d,
			   "seen mask 0x%" PRIx64, seen))
			break;
		seen |= 1ull << region;
		/* A resend (timeout, new seq) while the assignment is outstanding: same region. */
		if (get_pair(c, &l, 12, NULL, 0, &found, &again, "GET_RESYNC_WORK resend"))
			check(c, found == 1 && again == region,
			      "repeated GET_RESYNC_WORK returns the same region",
			      "expected {1, %" PRIu64 "} got {%" PRId64 ", %" PRIu64 "}", region,
			      found, again);
		srs[0] = region;
		srs[1] = 1;
		expect_ok(c, &l, 13, srs, 16, "SET_REGION_SYNC(region, 1)");
		expect_ok(c, &l, 13, srs, 16, "SET_REGION_SYNC resend (no double count)");
		expect_u64(c, &l, 8, &region, 8, 1, "IN_SYNC(region) == 1 after recovery");
		expect_ok(c, &l, 11, &region, 8, "CLEAR_REGION(region)");
		expect_ok(c, &l, 9, NULL, 0, "FLUSH");
		count++;
		expect_u64(c, &l, 14, NULL, 0, count, "GET_SYNC_COUNT counts the recovered region");
	}
	check(c, count == nreg, "every region was handed out exactly once",
	      "expected %" PRIu64 " got %" PRIu64, nreg, count);
	expect_u64(c, &l, 14, NULL, 0, nreg, "GET_SYNC_COUNT == region_count");
	if (get_pair(c, &l, 17, &q, 8, &rec, &hint, "IS_REMOTE_RECOVERING(3) after resync")) {
		check(c, rec == 0, "in-sync region is not recovering", "got %" PRId64, rec);
		check(c, hint == nreg, "in_sync_hint == region_count when in sync",
		      "expected %" PRIu64 " got %" PRIu64, nreg, hint);
	}
	expect_ok(c, &l, 2, NULL, 0, "DTR");
}

static void sc_status(struct sc *c)
{
	struct lg l = new_log(c, "status");
	uint64_t r0 = 0;

	activate(c, &l, "2048 clustered-core 16 nosync block_on_error", 16, 128);
	expect_str(c, &l, 15, "1 clustered-core", "STATUS_INFO");
	expect_str(c, &l, 16, "clustered-core 16 nosync block_on_error ", "STATUS_TABLE");
	expect_u64(c, &l, 7, &r0, 8, 1, "IS_CLEAN(0) == 1 (nosync log)");
	expect_u64(c, &l, 14, NULL, 0, 128, "GET_SYNC_COUNT == 128");
	expect_ok(c, &l, 2, NULL, 0, "DTR");
}

static void sc_reload(struct sc *c)
{
	struct lg a = new_log(c, "reload"), b = a;
	uint64_t r1 = 1, r2 = 2;

	b.luid = a.luid + 0x1000; /* same uuid, new luid (a new kernel log context) */
	activate(c, &a, "1024 clustered-core 8 nosync", 8, 128);
	expect_ok(c, &a, 10, &r1, 8, "MARK [1] on the old table");
	expect_ok(c, &a, 9, NULL, 0, "FLUSH on the old table");
	/* load: the new table's ctr runs while the old one is live */
	ctr_ok(c, &b, "1024 clustered-core 8 nosync", "CTR of the new table (same uuid)");
	expect_u64(c, &b, 6, NULL, 0, 8, "GET_REGION_SIZE of the new table");
	get_u64(c, &b, 14, NULL, 0, &r2, "GET_SYNC_COUNT of the new table before RESUME");
	r2 = 2;
	/* resume: PRESUSPEND(old), drain, POSTSUSPEND(old), RESUME(new), DTR(old) */
	expect_ok(c, &a, 3, NULL, 0, "PRESUSPEND old");
	expect_ok(c, &a, 11, &r1, 8, "CLEAR [1] on the old table while draining");
	expect_ok(c, &a, 9, NULL, 0, "FLUSH on the old table while draining");
	expect_ok(c, &a, 4, NULL, 0, "POSTSUSPEND old");
	expect_ok(c, &b, 5, NULL, 0, "RESUME new");
	expect_ok(c, &a, 2, NULL, 0, "DTR old (after the new one resumed)");
	expect_u64(c, &b, 8, &r2, 8, 1, "IN_SYNC(2) on the new table");
	expect_ok(c, &b, 10, &r2, 8, "MARK [2] on the new table");
	expect_ok(c, &b, 9, NULL, 0, "FLUSH on the new table");
	expect_ok(c, &b, 11, &r2, 8, "CLEAR [2] on the new table");
	expect_ok(c, &b, 9, NULL, 0, "FLUSH on the new table");
	expect_ok(c, &b, 2, NULL, 0, "DTR new");
}

static void sc_suspend(struct sc *c)
{
	struct lg l = new_log(c, "suspend");
	uint64_t r3 = 3, v;

	activate(c, &l, "1024 clustered-core 8 nosync", 8, 128);
	expect_ok(c, &l, 10, &r3, 8, "MARK [3]");
	expect_ok(c, &l, 9, NULL, 0, "FLUSH");
	expect_ok(c, &l, 3, NULL, 0, "PRESUSPEND");
	/* I/O drains after PRESUSPEND: more log traffic is normal */
	expect_u64(c, &l, 8, &r3, 8, 1, "IN_SYNC(3) after PRESUSPEND");
	expect_ok(c, &l, 11, &r3, 8, "CLEAR [3] after PRESUSPEND");
	expect_ok(c, &l, 9, NULL, 0, "FLUSH after PRESUSPEND");
	expect_ok(c, &l, 4, NULL, 0, "POSTSUSPEND");
	/* status of a suspended device */
	get_u64(c, &l, 14, NULL, 0, &v, "GET_SYNC_COUNT while suspended");
	expect_str(c, &l, 15, "1 clustered-core", "STATUS_INFO while suspended");
	expect_ok(c, &l, 5, NULL, 0, "RESUME");
	expect_u64(c, &l, 7, &r3, 8, 1, "IS_CLEAN(3) after resume");
	expect_ok(c, &l, 10, &r3, 8, "MARK [3] after resume");
	expect_ok(c, &l, 9, NULL, 0, "FLUSH");
	/* a suspend whose drain is interrupted: PRESUSPEND then normal traffic, no POST */
	expect_ok(c, &l, 3, NULL, 0, "PRESUSPEND (to be undone)");
	expect_ok(c, &l, 11, &r3, 8, "CLEAR [3] (suspend undone)");
	expect_ok(c, &l, 9, NULL, 0, "FLUSH");
	expect_u64(c, &l, 8, &r3, 8, 1, "IN_SYNC(3)");
	expect_ok(c, &l, 2, NULL, 0, "DTR");
}

static void sc_remove(struct sc *c)
{
	struct lg l = new_log(c, "remove"), n = new_log(c, "remove-never-resumed");
	uint64_t r0 = 0;

	activate(c, &l, "1024 clustered-core 8 nosync", 8, 128);
	expect_ok(c, &l, 3, NULL, 0, "PRESUSPEND");
	expect_ok(c, &l, 4, NULL, 0, "POSTSUSPEND");
	expect_ok(c, &l, 2, NULL, 0, "DTR");
	expect_rc(c, &l, 8, &r0, 8, -ESRCH, "IN_SYNC after DTR: -ESRCH (unknown log)");
	expect_ok(c, &l, 2, NULL, 0, "DTR of an unknown log: 0");
	/* failed/cleared load: CTR then DTR, never resumed */
	ctr_ok(c, &n, "1024 clustered-core 8", "CTR (load that is cleared)");
	expect_ok(c, &n, 2, NULL, 0, "DTR of a never-resumed log");
}

static void sc_reconnect(struct sc *c)
{
	struct lg l = new_log(c, "reconnect");
	const char s[] = "1024 clustered-core 8 nosync"; /* sizeof includes the NUL */
	struct standin_reply rep;
	uint64_t r4 = 4;
	int r;

	/* a daemon restarted: requests for a log it does not know -> -ESRCH (R calls) */
	expect_rc(c, &l, 8, &r4, 8, -ESRCH, "IN_SYNC for an unknown log: -ESRCH");
	/* the kernel's reconnect: CTR with the NUL (capacity 0), then RESUME, then retry */
	r = call(c, &l, 1, s, sizeof(s), &rep);
	check(c, r == 0 && rep.data_size == 0, "reconnect CTR (trailing NUL): 0, no data",
	      "expected 0 with data_size 0 got %s with %u bytes", rc_str(r), rep.data_size);
	expect_ok(c, &l, 5, NULL, 0, "RESUME after reconnect");
	/* several kernel threads reconnect concurrently: duplicates must succeed */
	r = call(c, &l, 1, s, sizeof(s), &rep);
	check(c, r == 0 && rep.data_size == 0, "duplicate reconnect CTR: 0, no data",
	      "expected 0 got %s with %u bytes", rc_str(r), rep.data_size);
	expect_ok(c, &l, 5, NULL, 0, "duplicate RESUME: 0");
	r = call(c, &l, 8, &r4, 8, &rep);
	check(c, r == 0, "retried IN_SYNC succeeds", "expected 0 got %s", rc_str(r));
	expect_ok(c, &l, 10, &r4, 8, "MARK [4]");
	expect_ok(c, &l, 9, NULL, 0, "FLUSH");
	expect_ok(c, &l, 2, NULL, 0, "DTR");
}

/* ---- bad input --------------------------------------------------------------------------- */

enum bad_expect { BE_SILENT, BE_EAGAIN, BE_EINVAL };

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* Send a (possibly corrupted) frame with request seq @seq and check the kernel-visible answer. */
static void bad_frame(struct sc *c, const uint8_t *f, size_t len, uint32_t seq,
		      enum bad_expect want, const char *desc)
{
	struct standin_reply rep;
	int r, got;

	if (standin_send_raw(c->s, f, len) < 0) {
		check(c, false, desc, "send failed: %s", strerror(errno));
		return;
	}
	switch (want) {
	case BE_SILENT:
		got = standin_expect_silence(c->s, 300);
		check(c, got == 0, desc, "expected no answer, got %d frames", got);
		break;
	case BE_EAGAIN:
		r = standin_wait(c->s, seq, &rep, c->timeout_ms);
		check(c, r == 0 && rep.ack_only && rep.ack == EAGAIN && rep.cn_seq == seq, desc,
		      "expected an ack-only EAGAIN for cn seq %u, got %s%s ack %u error %d", seq,
		      rc_str(r), r == 0 && rep.ack_only ? " ack-only" : " full", rep.ack,
		      rep.error);
		break;
	case BE_EINVAL:
		r = standin_wait(c->s, seq, &rep, c->timeout_ms);
		check(c,
		      r == 0 && !rep.ack_only && rep.error == -EINVAL && rep.data_size == 0 &&
			      rep.seq == seq,
		      desc,
		      "expected a full reply -EINVAL with data_size 0, got %s%s error %d, %u bytes",
		      rc_str(r), r == 0 && rep.ack_only ? " ack-only" : "", rep.error,
		      rep.data_size);
		break;
	}
}

/* Build a valid request frame for @l, return its length; *seq is its seq. */
static size_t frame(struct sc *c, const struct lg *l, uint32_t type, const void *d, uint32_t n,
		    uint8_t *buf, size_t cap, uint32_t *seq)
{
	struct standin_req rq = {
		.luid = l->luid, .uuid = l->uuid, .type = type, .data = d, .data_size = n};
	int len;

	*seq = standin_next_seq(c->s);
	len = standin_build(&rq, *seq, buf, cap);
	return len < 0 ? 0 : (size_t)len;
}

static void bad_request(struct sc *c, const struct lg *l, uint32_t type, const void *d, uint32_t n,
			enum bad_expect want, const char *desc)
{
	uint8_t f[1024];
	uint32_t seq;
	size_t len = frame(c, l, type, d, n, f, sizeof(f), &seq);

	bad_frame(c, f, len, seq, want, desc);
}

static void sc_badinput(struct sc *c)
{
	struct lg l = new_log(c, "badinput");
	uint8_t f[1024], junk[400];
	uint64_t r0 = 0, big[48], two[2] = {5, 128}, srs[2] = {128, 1};
	uint64_t r128 = 128, rhuge = 1ull << 40, r200 = 200;
	uint32_t seq;
	size_t len, i;
	struct standin_reply rep;
	int r;

	memset(big, 0, sizeof(big));
	activate(c, &l, "1024 clustered-core 8 nosync", 8, 128);

	/* frames the daemon must ignore */
	len = frame(c, &l, 8, &r0, 8, f, sizeof(f), &seq);
	put32(f + 16, 1); /* proc connector idx */
	bad_frame(c, f, len, seq, BE_SILENT, "connector id {1,1}: ignored (foreign traffic)");
	len = frame(c, &l, 8, &r0, 8, f, sizeof(f), &seq);
	put32(f + 20, 2);
	bad_frame(c, f, len, seq, BE_SILENT, "connector id {7,2}: ignored");
	(void)frame(c, &l, 8, &r0, 8, f, sizeof(f), &seq);
	bad_frame(c, f, 20, seq, BE_SILENT, "20-byte datagram: ignored");
	len = frame(c, &l, 8, &r0, 8, f, sizeof(f), &seq);
	put16(f + 4, 16);
	bad_frame(c, f, len, seq, BE_SILENT, "nlmsg_type not NLMSG_DONE: ignored");
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 151 + 89);
	bad_frame(c, junk, sizeof(junk), 0, BE_SILENT, "garbage bytes: ignored");

	/* corrupt frames of ours: only cn_msg.seq is trustworthy -> ack-only EAGAIN */
	len = frame(c, &l, 8, &r0, 8, f, sizeof(f), &seq);
	put32(f + 192, 16); /* data_size 16 but cn_msg.len 168 */
	bad_frame(c, f, len, seq, BE_EAGAIN, "cn_msg.len != 160 + data_size: ack EAGAIN");
	len = frame(c, &l, 8, &r0, 8, f, sizeof(f), &seq);
	put16(f + 32, 300); /* cn_msg.len beyond nlmsg_len */
	bad_frame(c, f, len, seq, BE_EAGAIN, "cn_msg.len beyond nlmsg_len: ack EAGAIN");
	(void)frame(c, &l, 8, &r0, 8, f, sizeof(f), &seq);
	bad_frame(c, f, 100, seq, BE_EAGAIN, "truncated datagram (100 of 204 bytes): ack EAGAIN");
	len = frame(c, &l, 8, &r0, 8, f, sizeof(f), &seq);
	memset(f + len, 0x5a, 12);
	bad_frame(c, f, len + 12, seq, BE_EAGAIN, "trailing bytes after the message: ack EAGAIN");
	(void)frame(c, &l, 8, &r0, 8, f, sizeof(f), &seq);
	put16(f + 32, 100);
	put32(f, 136);
	bad_frame(c, f, 136, seq, BE_EAGAIN, "cn_msg.len 100 (< request struct): ack EAGAIN");
	memcpy(f, junk, 200);
	seq = standin_next_seq(c->s);
	put32(f + 16, 7);
	put32(f + 20, 1);
	put32(f + 24, seq);
	put16(f + 4, 3);
	bad_frame(c, f, 200, seq, BE_EAGAIN, "garbage with our connector id: ack EAGAIN");

	/* intact frames with invalid requests -> full reply -EINVAL */
	bad_request(c, &l, 0, NULL, 0, BE_EINVAL, "request type 0: -EINVAL");
	bad_request(c, &l, 18, NULL, 0, BE_EINVAL, "request type 18: -EINVAL");
	bad_request(c, &l, 1, big, 336, BE_EINVAL, "data_size 336 > 332: -EINVAL");
	bad_request(c, &l, 1, NULL, 0, BE_EINVAL, "CTR without payload: -EINVAL");
	bad_request(c, &l, 8, &r0, 4, BE_EINVAL, "IN_SYNC with 4 bytes: -EINVAL");
	bad_request(c, &l, 7, big, 16, BE_EINVAL, "IS_CLEAN with 16 bytes: -EINVAL");
	bad_request(c, &l, 17, NULL, 0, BE_EINVAL, "IS_REMOTE_RECOVERING without payload: -EINVAL");
	bad_request(c, &l, 10, big, 12, BE_EINVAL, "MARK with 12 bytes (not %8): -EINVAL");
	bad_request(c, &l, 10, NULL, 0, BE_EINVAL, "MARK without regions: -EINVAL");
	bad_request(c, &l, 11, big, 264, BE_EINVAL, "CLEAR with 33 regions: -EINVAL");
	bad_request(c, &l, 9, big, 20, BE_EINVAL, "FLUSH with 20 bytes: -EINVAL");
	bad_request(c, &l, 13, big, 8, BE_EINVAL, "SET_REGION_SYNC with 8 bytes: -EINVAL");
	bad_request(c, &l, 14, big, 8, BE_EINVAL, "GET_SYNC_COUNT with payload: -EINVAL");
	bad_request(c, &l, 5, big, 8, BE_EINVAL, "RESUME with payload: -EINVAL");
	len = frame(c, &l, 8, &r0, 8, f, sizeof(f), &seq);
	memset(f + 44, 'U', 129);
	bad_frame(c, f, len, seq, BE_EINVAL, "uuid without NUL: -EINVAL");
	len = frame(c, &l, 8, &r0, 8, f, sizeof(f), &seq);
	put32(f + 176, 0);
	bad_frame(c, f, len, seq, BE_EINVAL, "version 0: -EINVAL");

	/* regions out of range (region_count 128) */
	expect_rc(c, &l, 8, &r128, 8, -EINVAL, "IN_SYNC(128): -EINVAL");
	expect_rc(c, &l, 7, &rhuge, 8, -EINVAL, "IS_CLEAN(2^40): -EINVAL");
	expect_rc(c, &l, 10, two, 16, -EINVAL, "MARK [5, 128]: -EINVAL");
	expect_rc(c, &l, 11, &r200, 8, -EINVAL, "CLEAR [200]: -EINVAL");
	expect_rc(c, &l, 9, &r128, 8, -EINVAL, "FLUSH with [128]: -EINVAL");
	expect_rc(c, &l, 13, srs, 16, -EINVAL, "SET_REGION_SYNC(128): -EINVAL");
	expect_rc(c, &l, 17, &r128, 8, -EINVAL, "IS_REMOTE_RECOVERING(128): -EINVAL");

	/* bad constructor strings */
	{
		static const char *const bad[] = {
			"1024 clustered-core 12",   "1024 clustered-core 8 sync nosync",
			"1024 clustered-core 2048", "garbage",
			"1024 clustered-core 0",    "1024 core 8"};
		struct lg x = new_log(c, "badctr");
		char d[96];

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			r = ctr(c, &x, bad[i], &rep);
			snprintf(d, sizeof(d), "CTR \"%s\": error < 0", bad[i]);
			check(c, r < 0 && r != -ETIMEDOUT, d, "got %s", rc_str(r));
		}
		expect_ok(c, &x, 2, NULL, 0, "DTR of a failed CTR");
	}

	/* the link still works */
	r = call(c, &l, 8, &r0, 8, &rep);
	check(c, r == 0 && rep.data_size == 8, "IN_SYNC(0) still answered after the bad input",
	      "got %s", rc_str(r));
	expect_ok(c, &l, 2, NULL, 0, "DTR");
}

static void sc_disk(struct sc *c)
{
	struct lg l = new_log(c, "disk"), v1 = new_log(c, "disk-v1");
	char s[256], alt[64] = "";
	struct standin_reply rep;
	struct stat st;
	uint64_t r1 = 1;
	int r;

	if (!c->dev) {
		check(c, false, "disk scenario needs --dev", "no device given");
		return;
	}
	if (stat(c->dev, &st) == 0 && S_ISBLK(st.st_mode))
		snprintf(alt, sizeof(alt), "%u:%u", major(st.st_rdev), minor(st.st_rdev));
	snprintf(s, sizeof(s), "1024 clustered-disk %s 8", c->dev);
	/* version >= 2: the reply names the log device (NUL-terminated) for dm_get_device */
	r = ctr(c, &l, s, &rep);
	if (check(c, r == 0, "CTR clustered-disk", "CTR \"%s\": got %s", s, rc_str(r)))
		check(c,
		      rep.data_size > 1 && rep.data_size <= 128 &&
			      rep.data[rep.data_size - 1] == '\0' &&
			      strlen((char *)rep.data) == rep.data_size - 1 &&
			      (strcmp((char *)rep.data, c->dev) == 0 ||
			       strcmp((char *)rep.data, alt) == 0),
		      "CTR reply carries the log device name with its NUL",
		      "expected \"%s\"%s%s%s got %u bytes \"%s\"", c->dev, alt[0] ? " or \"" : "",
		      alt, alt[0] ? "\"" : "", rep.data_size, (char *)rep.data);
	expect_u64(c, &l, 6, NULL, 0, 8, "GET_REGION_SIZE");
	get_u64(c, &l, 14, NULL, 0, &r1, "GET_SYNC_COUNT before RESUME");
	r1 = 1;
	/* the reconnect CTR has capacity 0: a device name there would be -ENOSPC forever */
	{
		size_t n = strlen(s) + 1;

		r = call(c, &l, 1, s, (uint32_t)n, &rep);
		check(c, r == 0 && rep.data_size == 0, "reconnect CTR: 0 and no device name",
		      "got %s with %u bytes", rc_str(r), rep.data_size);
	}
	expect_ok(c, &l, 5, NULL, 0, "RESUME");
	expect_ok(c, &l, 10, &r1, 8, "MARK [1]");
	expect_ok(c, &l, 9, NULL, 0, "FLUSH");
	expect_ok(c, &l, 11, &r1, 8, "CLEAR [1]");
	expect_ok(c, &l, 9, NULL, 0, "FLUSH");
	{
		char info[96];

		snprintf(info, sizeof(info), "3 clustered-disk %s A", alt[0] ? alt : c->dev);
		expect_str(c, &l, 15, info, "STATUS_INFO");
	}
	expect_ok(c, &l, 3, NULL, 0, "PRESUSPEND");
	expect_ok(c, &l, 4, NULL, 0, "POSTSUSPEND");
	expect_ok(c, &l, 2, NULL, 0, "DTR");
	/* protocol version 1: no reply buffer for the CTR */
	r = call_v(c, &v1, 1, 1, s, (uint32_t)strlen(s), &rep);
	check(c, r == 0 && rep.data_size == 0, "version 1 CTR: 0 and no device name",
	      "got %s with %u bytes", rc_str(r), rep.data_size);
	expect_ok(c, &v1, 2, NULL, 0, "DTR (version 1 log)");
}

/* ---- link tests against tests/func/kern_echo --------------------------------------------- */

/* kern_echo answers STATUS_INFO for this uuid with its link counters. */
#define ECHO_STATS_UUID "kern-echo-stats"

static bool echo_stat(struct sc *c, const char *key, uint64_t *v)
{
	struct lg st = {.luid = 1};
	struct standin_reply rep;
	char pat[64];
	const char *p;
	int r;

	snprintf(st.uuid, sizeof(st.uuid), "%s", ECHO_STATS_UUID);
	r = call(c, &st, 15, NULL, 0, &rep);
	if (!check(c, r == 0, "kern_echo counters", "got %s", rc_str(r)))
		return false;
	snprintf(pat, sizeof(pat), "%s=", key);
	p = strstr((char *)rep.data, pat);
	if (!check(c, p != NULL, "kern_echo reports a counter", "no \"%s\" in \"%s\"", key,
		   (char *)rep.data) ||
	    !p)
		return false;
	*v = strtoull(p + strlen(pat), NULL, 10);
	return true;
}

static void sc_link_echo(struct sc *c)
{
	struct lg l = new_log(c, "echo"), ea = new_log(c, "echo");
	struct standin_req rq = {.uuid = l.uuid, .luid = l.luid};
	struct standin_reply rep;
	uint64_t r3 = 3, r4 = 4, r77 = 77, hint, srs[2] = {3, 1}, two[2] = {1, 2};
	int64_t a;
	char maxctr[333];
	uint32_t seq;
	int r;

	ctr_ok(c, &l, "1024 clustered-core 8", "CTR");
	expect_u64(c, &l, 6, NULL, 0, 8, "GET_REGION_SIZE = region size");
	expect_u64(c, &l, 8, &r3, 8, 1, "IN_SYNC(3) = 3 % 2");
	expect_u64(c, &l, 8, &r4, 8, 0, "IN_SYNC(4) = 4 % 2");
	expect_u64(c, &l, 7, &r3, 8, 1, "IS_CLEAN(3) = 3 % 2");
	expect_u64(c, &l, 14, NULL, 0, 128, "GET_SYNC_COUNT = region count");
	rq.type = 12;
	if (check(c, standin_send(c->s, &rq, &seq) == 0, "send GET_RESYNC_WORK", "send failed")) {
		r = standin_wait(c->s, seq, &rep, c->timeout_ms);
		memcpy(&a, rep.data, 8);
		memcpy(&hint, rep.data + 8, 8);
		check(c, r == 0 && rep.data_size == 16 && a == 1 && hint == seq % 128,
		      "GET_RESYNC_WORK = {1, seq % 128}",
		      "expected {1, %u} got %s {%" PRId64 ", %" PRIu64 "}", seq % 128, rc_str(r), a,
		      hint);
	}
	if (get_pair(c, &l, 17, &r77, 8, &a, &hint, "IS_REMOTE_RECOVERING(77)"))
		check(c, a == 0 && hint == 77, "IS_REMOTE_RECOVERING(77) = {0, 77}",
		      "got {%" PRId64 ", %" PRIu64 "}", a, hint);
	r = call(c, &l, 11, &r3, 8, &rep);
	check(c, r == 0 && rep.ack_only && rep.ack == 0, "CLEAR is acked ack-only (kern_ack 0)",
	      "got %s%s", rc_str(r), rep.ack_only ? " ack-only" : " full");
	r = call(c, &l, 13, srs, 16, &rep);
	check(c, r == 0 && rep.ack_only, "SET_REGION_SYNC is acked ack-only", "got %s", rc_str(r));
	r = call(c, &l, 10, two, 16, &rep);
	check(c, r == 0 && !rep.ack_only && rep.data_size == 0 && rep.type == 10,
	      "MARK [1, 2]: full reply, data_size reset to 0", "got %s, %u bytes", rc_str(r),
	      rep.data_size);
	expect_ok(c, &l, 9, two, 16, "FLUSH with payload");
	expect_str(c, &l, 15, "1 clustered-core", "STATUS_INFO");
	expect_str(c, &l, 16, "clustered-core 8 ", "STATUS_TABLE");
	r = call(c, &l, 0x300 | 8, &r3, 8, &rep);
	check(c, r == 0 && rep.data_size == 8, "type 0x308 is IN_SYNC (masked with 0xFF)", "got %s",
	      rc_str(r));
	/* largest CTR payload the kernel sends: 332 bytes */
	memset(maxctr, ' ', sizeof(maxctr));
	memcpy(maxctr, "1024 clustered-core 8", 21);
	r = call(c, &l, 1, maxctr, 332, &rep);
	check(c, r == 0, "332-byte CTR payload", "got %s", rc_str(r));
	/* unicast vs multicast are both fine; the responder uses the sender's port */
	snprintf(ea.uuid, sizeof(ea.uuid), "EAGAIN");
	r = call(c, &ea, 14, NULL, 0, &rep);
	check(c, r == -EAGAIN && rep.ack_only, "ack-only EAGAIN reaches the kernel as -EAGAIN",
	      "got %s", rc_str(r));
	expect_ok(c, &l, 2, NULL, 0, "DTR");
	expect_rc(c, &l, 8, &r3, 8, -ESRCH, "IN_SYNC after DTR: -ESRCH");
}

static void sc_link_flood(struct sc *c)
{
	struct lg l = new_log(c, "flood");
	struct standin_req rq = {.uuid = l.uuid, .luid = l.luid, .type = 8};
	uint64_t r0 = 0, before = 0, after = 0;
	unsigned int i, fails = 0;
	int got;

	rq.data = &r0;
	rq.data_size = 8;
	ctr_ok(c, &l, "1024 clustered-core 8", "CTR");
	echo_stat(c, "overruns", &before);
	if (c->stop_pid > 0)
		check(c, kill(c->stop_pid, SIGSTOP) == 0, "stop the responder", "kill: %s",
		      strerror(errno));
	for (i = 0; i < c->count; i++)
		if (standin_send(c->s, &rq, NULL) < 0)
			fails++;
	check(c, fails == 0, "flood sent", "%u of %u sends failed", fails, c->count);
	if (c->stop_pid > 0)
		check(c, kill(c->stop_pid, SIGCONT) == 0, "continue the responder", "kill: %s",
		      strerror(errno));
	got = standin_drain(c->s, 20000, 1000);
	note("%d of %u flood requests answered", got, c->count);
	if (c->stop_pid > 0) {
		check(c, got < (int)c->count, "some requests were lost to the overrun",
		      "all %d answered", got);
		if (echo_stat(c, "overruns", &after))
			check(c, after > before, "the responder counted the overrun (ENOBUFS)",
			      "overruns %" PRIu64 " -> %" PRIu64, before, after);
	}
	expect_u64(c, &l, 8, &r0, 8, 0, "the link recovers: IN_SYNC(0) answered");
	expect_ok(c, &l, 2, NULL, 0, "DTR");
}

static void sc_link_trunc(struct sc *c)
{
	struct lg l = new_log(c, "trunc");
	static uint8_t big[9000], f[9216];
	uint64_t before = 0, after = 0, r0 = 0;
	uint32_t seq;
	size_t len;
	int got;

	memset(big, ' ', sizeof(big));
	echo_stat(c, "truncated", &before);
	len = frame(c, &l, 1, big, 8804, f, sizeof(f), &seq); /* a 9000-byte datagram */
	check(c, len == 9000, "built a 9000-byte datagram", "got %zu", len);
	standin_send_raw(c->s, f, len);
	got = standin_expect_silence(c->s, 300);
	check(c, got == 0, "a datagram larger than the receive buffer is dropped", "got %d answers",
	      got);
	if (echo_stat(c, "truncated", &after))
		check(c, after == before + 1, "the responder counted MSG_TRUNC",
		      "truncated %" PRIu64 " -> %" PRIu64, before, after);
	ctr_ok(c, &l, "1024 clustered-core 8", "CTR after the truncated datagram");
	expect_u64(c, &l, 8, &r0, 8, 0, "IN_SYNC(0) answered");
	expect_ok(c, &l, 2, NULL, 0, "DTR");
}

/*
 * 40 bad requests at once: each is answered, but the responder logs at most KERN_LOG_BURST
 * lines per second and kind; the test script checks its log for the "suppressed" summary.
 */
static void sc_link_ratelimit(struct sc *c)
{
	struct lg l = new_log(c, "ratelimit");
	struct standin_reply rep;
	int i, answered = 0, r;

	for (i = 0; i < 40; i++) {
		r = call(c, &l, 18, NULL, 0, &rep);
		answered += r == -EINVAL;
	}
	check(c, answered == 40, "40 requests of type 18 each answered -EINVAL", "%d answered",
	      answered);
	usleep(1100 * 1000); /* next rate-limit window: the summary line is due */
	r = call(c, &l, 18, NULL, 0, &rep);
	check(c, r == -EINVAL, "request after the window answered", "got %s", rc_str(r));
}

static void sc_link_silent(struct sc *c)
{
	struct lg l = new_log(c, "silent");
	uint8_t f[512];
	uint64_t r0 = 0;
	uint32_t seq;
	size_t len = frame(c, &l, 8, &r0, 8, f, sizeof(f), &seq);

	bad_frame(c, f, len, seq, BE_SILENT,
		  "a responder without userspace_peer ignores user-space senders");
}

/* ---- CLI ------------------------------------------------------------------------------- */

struct scenario {
	const char *name;
	void (*fn)(struct sc *c);
	bool in_all;
};

static const struct scenario scenarios[] = {
	{"activate", sc_activate, true},
	{"writes", sc_writes, true},
	{"resync", sc_resync, true},
	{"status", sc_status, true},
	{"reload", sc_reload, true},
	{"suspend", sc_suspend, true},
	{"remove", sc_remove, true},
	{"reconnect", sc_reconnect, true},
	{"badinput", sc_badinput, true},
	{"disk", sc_disk, false},
	{"link-echo", sc_link_echo, false},
	{"link-flood", sc_link_flood, false},
	{"link-trunc", sc_link_trunc, false},
	{"link-ratelimit", sc_link_ratelimit, false},
	{"link-silent", sc_link_silent, false},
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: standin [--timeout-ms N] [--uuid U] [--luid L] [--port P] [--dev D]\n"
		   "               [--stop-pid PID] [--count N] SCENARIO...\n"
		   "Plays the kernel's dm-log-userspace client over NETLINK_CONNECTOR inside a\n"
		   "network namespace (refuses to run in the initial one).\n"
		   "  --port P      unicast to netlink port P (default: multicast to group 7)\n"
		   "  --dev D       log device (path or maj:min) for the disk scenario\n"
		   "  --stop-pid P  link-flood: SIGSTOP P while flooding, SIGCONT after\n"
		   "  --count N     link-flood: requests to send (default 2000)\n"
		   "scenarios: all (");
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (scenarios[i].in_all)
			fprintf(f, "%s%s", i ? " " : "", scenarios[i].name);
	fprintf(f, ")");
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!scenarios[i].in_all)
			fprintf(f, " %s", scenarios[i].name);
	fprintf(f, "\n");
}

static bool parse_num(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno == 0 && end != s && *end == '\0';
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"timeout-ms", required_argument, NULL, 't'},
					     {"uuid", required_argument, NULL, 'u'},
					     {"luid", required_argument, NULL, 'l'},
					     {"port", required_argument, NULL, 'p'},
					     {"dev", required_argument, NULL, 'd'},
					     {"stop-pid", required_argument, NULL, 's'},
					     {"count", required_argument, NULL, 'c'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct standin_cfg cfg = {0};
	struct standin_counters cnt;
	struct sc c = {0};
	char uuid_default[64], why[256];
	uint64_t v;
	int o, r, i;
	size_t k;

	c.timeout_ms = 2000;
	c.count = 2000;
	snprintf(uuid_default, sizeof(uuid_default), "STANDIN-%d", (int)getpid());
	c.uuid_base = uuid_default;
	c.luid_base = 0xffff888000000000ull + ((uint64_t)getpid() << 16);
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 't':
			if (!parse_num(optarg, &v) || v == 0 || v > 600000)
				goto bad_usage;
			c.timeout_ms = (int)v;
			break;
		case 'u':
			if (strlen(optarg) > 100)
				goto bad_usage;
			c.uuid_base = optarg;
			break;
		case 'l':
			if (!parse_num(optarg, &c.luid_base))
				goto bad_usage;
			break;
		case 'p':
			if (!parse_num(optarg, &v) || v > UINT32_MAX)
				goto bad_usage;
			cfg.dest_portid = (uint32_t)v;
			break;
		case 'd':
			c.dev = optarg;
			break;
		case 's':
			if (!parse_num(optarg, &v) || v == 0 || v > INT32_MAX)
				goto bad_usage;
			c.stop_pid = (pid_t)v;
			break;
		case 'c':
			if (!parse_num(optarg, &v) || v == 0 || v > 10000000)
				goto bad_usage;
			c.count = (unsigned int)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad_usage;
		}
	}
	if (optind >= argc)
		goto bad_usage;
	for (i = optind; i < argc; i++) {
		bool found = !strcmp(argv[i], "all");

		for (k = 0; k < sizeof(scenarios) / sizeof(scenarios[0]); k++)
			found |= !strcmp(argv[i], scenarios[k].name);
		if (!found) {
			fprintf(stderr, "standin: unknown scenario '%s'\n", argv[i]);
			goto bad_usage;
		}
	}

	if (standin_netns_check(why, sizeof(why)) != 0) {
		fprintf(stderr, "standin: %s\n", why);
		return 2;
	}
	cfg.timeout_ms = c.timeout_ms;
	r = standin_open(&c.s, &cfg);
	if (r < 0) {
		fprintf(stderr, "standin: cannot open a NETLINK_CONNECTOR socket: %s\n",
			strerror(-r));
		return 1;
	}
	note("stand-in port %u, sending to %s", standin_portid(c.s),
	     cfg.dest_portid ? "a unicast port" : "connector group 7");
	for (i = optind; i < argc; i++) {
		bool all = !strcmp(argv[i], "all");

		for (k = 0; k < sizeof(scenarios) / sizeof(scenarios[0]); k++) {
			if (all ? !scenarios[k].in_all : strcmp(argv[i], scenarios[k].name) != 0)
				continue;
			c.name = scenarios[k].name;
			scenarios[k].fn(&c);
		}
	}
	c.name = "end";
	/* late or duplicate replies (the contract: exactly one reply per request) */
	r = standin_drain(c.s, 300, 300);
	standin_get_counters(c.s, &cnt);
	check(&c, cnt.strays == 0 && r == 0, "no unmatched, late or duplicate replies",
	      "%" PRIu64 " stray replies, %d after the last scenario", cnt.strays, r);
	if (cnt.violations)
		note("%" PRIu64 " contract violations, last: %s", cnt.violations,
		     cnt.last_violation);
	standin_close(c.s);
	printf("%d passed, %d failed\n", c.passed, c.failed);
	return c.failed ? 1 : 0;

bad_usage:
	usage(stderr);
	return 1;
}
