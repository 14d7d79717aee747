/*
 * daemon_driver: a scripted kernel stand-in for cmlogd's functional tests, for sequences the
 * standin scenarios cannot express because the daemon is killed or inspected in between
 * (SIGKILL + restart of cmlogd, checking the bytes of a disk log after a FLUSH).
 *
 *   daemon_driver --uuid U --luid L [--timeout-ms N] OP...
 *
 * Each OP sends one request the way the kernel does (tests/func/standin_lib.h) and checks the
 * answer as the kernel would see it (kernel-protocol.md s3/s4). OPs:
 *   ctr:STRING          initial CTR (no NUL); expects 0
 *   ctr-reconnect:STRING reconnect CTR (payload with its NUL, capacity 0); expects 0, no data
 *   resume | presuspend | postsuspend | dtr | flush      expect 0
 *   mark:R[,R...] | clear:R[,R...] | flush:R[,R...]      expect 0
 *   in-sync:R=V | is-clean:R=V                            expect value V (0/1)
 *   sync-count=N | sync-count<N                           GET_SYNC_COUNT == N / < N
 *   esrch:in-sync:R | esrch:flush                         expect -ESRCH (unknown log)
 *   eio:flush | eio:flush:R[,R...]                        expect -EIO (log device failed)
 *   status=C                                              STATUS_INFO succeeds, ends in
 *                                                         " C" (disk log health: A or D)
 * Prints one "ok"/"not ok" line per OP; exits 0 when all passed, 1 otherwise, 2 when it
 * refuses to run outside a network namespace.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/func/standin_lib.h"

struct drv {
	struct standin *s;
	const char *uuid;
	uint64_t luid;
	int timeout_ms;
	int failed;
};

static int call(struct drv *d, uint32_t type, const void *data, uint32_t len,
		struct standin_reply *rep)
{
	struct standin_req rq = {
		.luid = d->luid, .uuid = d->uuid, .type = type, .data = data, .data_size = len};
	int r = standin_call(d->s, &rq, rep, d->timeout_ms);

	if (r)
		return r;
	if (rep->violation[0]) {
		printf("# contract violation: %s\n", rep->violation);
		return -EPROTO;
	}
	return standin_kernel_result(rep, standin_capacity(&rq));
}

static size_t parse_regions(const char *s, uint64_t *out, size_t max)
{
	size_t n = 0;
	char *end;

	while (*s && n < max) {
		out[n++] = strtoull(s, &end, 10);
		if (*end != ',')
			break;
		s = end + 1;
	}
	return n;
}

/* @r: the kernel's result; @v: the value answered (or the reply's data size). */
static void result(struct drv *d, bool ok, const char *op, int r, uint64_t v)
{
	if (ok) {
		printf("ok - %s\n", op);
	} else {
		d->failed++;
		printf("not ok - %s: result %d, value/size %" PRIu64 "\n", op, r, v);
	}
	fflush(stdout);
}

static int run_op(struct drv *d, const char *op)
{
	struct standin_reply rep;
	uint64_t regs[32], v = 0, want;
	size_t n;
	int r;

	if (!strncmp(op, "ctr:", 4)) {
		r = call(d, SI_CTR, op + 4, (uint32_t)strlen(op + 4), &rep);
		result(d, r == 0, op, r, 0);
	} else if (!strncmp(op, "ctr-reconnect:", 14)) {
		r = call(d, SI_CTR, op + 14, (uint32_t)strlen(op + 14) + 1, &rep);
		result(d, r == 0 && rep.data_size == 0, op, r, rep.data_size);
	} else if (!strcmp(op, "resume") || !strcmp(op, "presuspend") ||
		   !strcmp(op, "postsuspend") || !strcmp(op, "dtr") || !strcmp(op, "flush")) {
		uint32_t t = !strcmp(op, "resume")	  ? SI_RESUME
			     : !strcmp(op, "presuspend")  ? SI_PRESUSPEND
			     : !strcmp(op, "postsuspend") ? SI_POSTSUSPEND
			     : !strcmp(op, "dtr")	  ? SI_DTR
							  : SI_FLUSH;

		r = call(d, t, NULL, 0, &rep);
		result(d, r == 0, op, r, 0);
	} else if (!strncmp(op, "mark:", 5) || !strncmp(op, "clear:", 6) ||
		   !strncmp(op, "flush:", 6)) {
		uint32_t t = op[0] == 'm'   ? SI_MARK_REGION
			     : op[0] == 'c' ? SI_CLEAR_REGION
					    : SI_FLUSH;

		n = parse_regions(strchr(op, ':') + 1, regs, 32);
		r = call(d, t, regs, (uint32_t)(n * 8), &rep);
		result(d, r == 0, op, r, 0);
	} else if (!strncmp(op, "in-sync:", 8) || !strncmp(op, "is-clean:", 9)) {
		const char *p = strchr(op, ':') + 1;

		regs[0] = strtoull(p, NULL, 10);
		want = strtoull(strchr(p, '=') ? strchr(p, '=') + 1 : "0", NULL, 10);
		r = call(d, op[1] == 'n' ? SI_IN_SYNC : SI_IS_CLEAN, regs, 8, &rep);
		if (r == 0)
			memcpy(&v, rep.data, 8);
		result(d, r == 0 && v == want, op, r, v);
	} else if (!strncmp(op, "sync-count", 10)) {
		want = strtoull(op + 11, NULL, 10);
		r = call(d, SI_GET_SYNC_COUNT, NULL, 0, &rep);
		if (r == 0)
			memcpy(&v, rep.data, 8);
		result(d, r == 0 && (op[10] == '=' ? v == want : v < want), op, r, v);
	} else if (!strncmp(op, "esrch:in-sync:", 14)) {
		regs[0] = strtoull(op + 14, NULL, 10);
		r = call(d, SI_IN_SYNC, regs, 8, &rep);
		result(d, r == -ESRCH, op, r, 0);
	} else if (!strcmp(op, "eio:flush") || !strncmp(op, "eio:flush:", 10)) {
		n = op[9] == ':' ? parse_regions(op + 10, regs, 32) : 0;
		r = call(d, SI_FLUSH, regs, (uint32_t)(n * 8), &rep);
		result(d, r == -EIO, op, r, 0);
	} else if (!strncmp(op, "status=", 7)) {
		size_t want_len = strlen(op + 7), got;

		r = call(d, SI_STATUS_INFO, NULL, 0, &rep);
		got = r == 0 ? strnlen((const char *)rep.data, rep.data_size) : 0;
		if (r == 0)
			printf("# status: %.*s\n", (int)got, (const char *)rep.data);
		result(d,
		       r == 0 && got > want_len && rep.data[got - want_len - 1] == ' ' &&
			       !memcmp(rep.data + got - want_len, op + 7, want_len),
		       op, r, got);
	} else if (!strcmp(op, "esrch:flush")) {
		r = call(d, SI_FLUSH, NULL, 0, &rep);
		result(d, r == -ESRCH, op, r, 0);
	} else {
		fprintf(stderr, "daemon_driver: unknown op '%s'\n", op);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct standin_cfg cfg = {0};
	struct drv d = {.uuid = NULL, .luid = 0, .timeout_ms = 10000};
	char why[200];
	int i;

	for (i = 1; i < argc - 1 && argv[i][0] == '-' && argv[i][1] == '-'; i += 2) {
		if (!strcmp(argv[i], "--uuid"))
			d.uuid = argv[i + 1];
		else if (!strcmp(argv[i], "--luid"))
			d.luid = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--timeout-ms"))
			d.timeout_ms = atoi(argv[i + 1]);
		else
			break;
	}
	if (!d.uuid || !d.luid || i >= argc) {
		fprintf(stderr, "usage: daemon_driver --uuid U --luid L [--timeout-ms N] OP...\n");
		return 1;
	}
	if (standin_netns_check(why, sizeof(why)) != 0) {
		fprintf(stderr, "daemon_driver: refusing to run: %s\n", why);
		return 2;
	}
	if (standin_open(&d.s, &cfg) != 0) {
		fprintf(stderr, "daemon_driver: cannot open the netlink socket\n");
		return 1;
	}
	for (; i < argc; i++)
		if (run_op(&d, argv[i]) != 0) {
			standin_close(d.s);
			return 1;
		}
	standin_close(d.s);
	return d.failed ? 1 : 0;
}
