/*
 * loadgen: the benchmark's load generator (issue 8). It plays the kernel's dm-log-userspace
 * client against the cmlogd of its network namespace over real netlink (tests/func/
 * standin_lib.h), so everything cmlogd does for a request is in the measured path: the
 * connector socket, the decoder, the group, CPG, the disk writer.
 *
 *   loadgen [options]            see usage() below, or `loadgen --help`
 *
 * It activates K logs as dm-raid1 does (CTR, GET_REGION_SIZE, GET_SYNC_COUNT, RESUME), then
 * runs one mode with W concurrent "writers" (pipelined slots, each with one request in flight,
 * the way W kernel threads would be):
 *   write   new regions: MARK(r) -> FLUSH (the write's wait, timed), then CLEAR(r) -> FLUSH;
 *           --integrated: FLUSH carrying r (timed), then CLEAR(r) alone (the kernel's clears
 *           ride on the next FLUSH)
 *   hot     the same over a working set of --hot-set regions (default 256) that keep coming back
 *   read    IN_SYNC(r) round trips at random regions
 *   resync  GET_RESYNC_WORK -> SET_REGION_SYNC(r, 1) -> GET_SYNC_COUNT (one recovery in flight
 *           per log, as kmirrord) until GET_SYNC_COUNT == region count
 *   join    the time from RESUME sent until answered, and until the first IN_SYNC and the first
 *           MARK+FLUSH after it are answered
 *   dirty   mark --count regions (runs of 16 at random places, batches of 32 per MARK, FLUSH
 *           after each) and leave them marked: the "realistic dirty pattern" a joiner receives
 * Each request's answer is checked as the kernel would see it (kernel-protocol.md s3/s4); an
 * unexpected answer is an error (reported; --check exits 1 on the first). -EAGAIN is resent
 * at once with a new seq, a request unanswered for --resend-ms is resent (the kernel's 15 s).
 *
 * Output: a progress line on stderr every second, then a human summary and ONE JSON line on
 * stdout (the last line). Latencies are exact: every sample is kept and sorted at the end.
 * Exit: 0 ok, 1 errors with --check or a failed activation, 2 bad usage or not in a netns.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/func/standin_lib.h"
#include "wire.h"

#define LG_MAX_SLOTS 1024
#define LG_MAX_LOGS  4096
#define LG_RUN	     16 /* dirty mode: regions per run */
#define LG_BATCH     32 /* the kernel's largest MARK/CLEAR group */

enum lg_mode { LG_WRITE, LG_HOT, LG_READ, LG_RESYNC, LG_JOIN, LG_DIRTY };
static const char *const mode_names[] = {"write", "hot", "read", "resync", "join", "dirty"};

enum lg_state {
	ST_IDLE,
	ST_MARK,    /* MARK(r) sent */
	ST_WFLUSH,  /* the write's FLUSH sent (plain, or integrated with r) */
	ST_CLEAR,   /* CLEAR(r) sent */
	ST_CFLUSH,  /* the clear's FLUSH sent */
	ST_READ,    /* IN_SYNC sent */
	ST_WORK,    /* GET_RESYNC_WORK sent */
	ST_SETSYNC, /* SET_REGION_SYNC sent */
	ST_COUNT,   /* GET_SYNC_COUNT sent */
	ST_WAIT,    /* resync: nothing handed out to us, poll again later */
	ST_DONE,
};

struct lg_opts {
	enum lg_mode mode;
	const char *prefix;
	unsigned int logs;
	uint64_t regions;
	uint32_t region_size;
	unsigned int writers;
	double duration;
	uint64_t count;
	bool integrated;
	const char *dev;
	bool nosync;
	bool keep;
	bool check;
	uint32_t portid;
	unsigned int hot_set;
	bool random;
	unsigned int node;  /* 0-based stripe index among the nodes */
	unsigned int nodes; /* stripe count: regions of different nodes never collide */
	const char *label;
	const char *ready_file;
	const char *go_file;
	double start_at; /* wall clock (epoch seconds) to start the load at, 0 = now */
	int resend_ms;
	uint64_t seed;
	bool quiet;
	bool no_activate; /* the logs are already active here (a previous --keep run) */
	uint64_t luid_base;
};

struct lg_log {
	char uuid[160];
	uint64_t luid;
	char dev[512];
	bool done; /* resync: GET_SYNC_COUNT == regions */
	bool busy; /* resync: a slot is working on it */
};

struct lg_slot {
	enum lg_state st;
	uint32_t seq;
	uint32_t type;
	uint8_t data[16];
	uint32_t len;
	uint64_t t_sent;  /* this request */
	uint64_t t_start; /* this transition */
	uint64_t t_wake;  /* ST_WAIT: when to poll again */
	unsigned int log;
	uint64_t region;
	uint64_t k; /* transitions started by this slot */
	bool pending_send;
};

/* Exact latency samples (ns), sorted at the end. */
struct lg_lat {
	uint64_t *v;
	size_t n, cap;
};

struct lg {
	struct lg_opts o;
	struct standin *s;
	struct lg_log *logs;
	struct lg_slot *slots;
	unsigned int nslots;
	uint64_t rng;
	struct lg_lat lat;   /* the mode's timed operation */
	struct lg_lat clat;  /* write/hot: the clear transition */
	uint64_t ops;	     /* timed operations completed */
	uint64_t started;    /* timed operations started (--count) */
	uint64_t requests;   /* requests sent (resends included) */
	uint64_t errors;     /* unexpected answers */
	uint64_t eagain;     /* -EAGAIN answers (resent) */
	uint64_t resends;    /* resent after --resend-ms without an answer */
	uint64_t strays;     /* answers matching nothing outstanding */
	uint64_t sync_count; /* resync: the last GET_SYNC_COUNT seen */
	char first_error[256];
	uint64_t t_begin, t_last_op;
	bool stopping;
	/* join */
	uint64_t join_resume_ns, join_first_read_ns, join_first_write_ns;
};

static volatile sig_atomic_t lg_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	lg_interrupted = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(struct lg *g)
{
	/* xorshift64*: reproducible with --seed, good enough to pick regions */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545F4914F6CDD1Dull;
}

static int lat_add(struct lg_lat *l, uint64_t ns)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 65536;
		uint64_t *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = ns;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples, in microseconds. */
static double lat_pct(const struct lg_lat *l, double p)
{
	size_t i;

	if (!l->n)
		return 0;
	i = (size_t)(p / 100.0 * (double)l->n + 0.999999);
	if (i < 1)
		i = 1;
	if (i > l->n)
		i = l->n;
	return (double)l->v[i - 1] / 1000.0;
}

static double lat_mean(const struct lg_lat *l)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < l->n; i++)
		sum += (double)l->v[i];
	return l->n ? sum / (double)l->n / 1000.0 : 0;
}

static void note_error(struct lg *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note_error(struct lg *g, const char *fmt, ...)
{
	va_list ap;
	char buf[256];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!g->errors)
		snprintf(g->first_error, sizeof(g->first_error), "%s", buf);
	g->errors++;
	if (g->o.check || g->errors <= 5)
		fprintf(stderr, "loadgen[%s]: error: %s\n", g->o.label, buf);
	if (g->o.check)
		g->stopping = true;
}

static size_t reply_cap(uint32_t type)
{
	switch (type) {
	case SI_GET_REGION_SIZE:
	case SI_IN_SYNC:
	case SI_IS_CLEAN:
	case SI_GET_SYNC_COUNT:
		return 8;
	case SI_GET_RESYNC_WORK:
	case SI_IS_REMOTE_RECOVERING:
		return 16;
	case SI_CTR:
		return 128;
	default:
		return 0;
	}
}

static uint64_t get_u64(const struct standin_reply *rep, size_t off)
{
	struct wire_rd r;
	uint64_t v = 0;

	wire_rd_init(&r, rep->data, rep->data_size);
	if (!wire_skip(&r, off) || !wire_get_h64(&r, &v))
		return UINT64_MAX;
	return v;
}

/* ---- synchronous calls (activation, join) ---------------------------------------------- */

static int call(struct lg *g, const struct lg_log *l, uint32_t type, const void *data, uint32_t len,
		struct standin_reply *rep)
{
	struct standin_req rq = {
		.luid = l->luid, .uuid = l->uuid, .type = type, .data = data, .data_size = len};
	int r, tries;

	for (tries = 0; tries < 100; tries++) {
		g->requests++;
		r = standin_call(g->s, &rq, rep, g->o.resend_ms);
		if (r == -ETIMEDOUT) {
			g->resends++;
			continue;
		}
		if (r)
			return r;
		if (rep->violation[0]) {
			note_error(g, "%s type %u: contract violation: %s", l->uuid, type,
				   rep->violation);
			return -EPROTO;
		}
		r = standin_kernel_result(rep, reply_cap(type));
		if (r != -EAGAIN)
			return r;
		g->eagain++;
	}
	return -ETIMEDOUT;
}

static int activate(struct lg *g, struct lg_log *l, uint64_t *resume_ns)
{
	struct standin_reply rep;
	char ctr[700];
	uint64_t t0, v;
	int r;

	if (g->o.dev)
		snprintf(ctr, sizeof(ctr), "%" PRIu64 " clustered-disk %s %u%s",
			 g->o.regions * g->o.region_size, l->dev, g->o.region_size,
			 g->o.nosync ? " nosync" : "");
	else
		snprintf(ctr, sizeof(ctr), "%" PRIu64 " clustered-core %u%s",
			 g->o.regions * g->o.region_size, g->o.region_size,
			 g->o.nosync ? " nosync" : "");
	r = call(g, l, SI_CTR, ctr, (uint32_t)strlen(ctr), &rep);
	if (r) {
		note_error(g, "%s: CTR \"%s\": %s", l->uuid, ctr, strerror(-r));
		return r;
	}
	r = call(g, l, SI_GET_REGION_SIZE, NULL, 0, &rep);
	v = r ? 0 : get_u64(&rep, 0);
	if (r || v != g->o.region_size) {
		note_error(g, "%s: GET_REGION_SIZE: result %d, value %" PRIu64, l->uuid, r, v);
		return r ? r : -EPROTO;
	}
	r = call(g, l, SI_GET_SYNC_COUNT, NULL, 0, &rep);
	if (r) {
		note_error(g, "%s: GET_SYNC_COUNT before RESUME: %s", l->uuid, strerror(-r));
		return r;
	}
	t0 = now_ns();
	r = call(g, l, SI_RESUME, NULL, 0, &rep);
	if (resume_ns)
		*resume_ns = now_ns() - t0;
	if (r) {
		note_error(g, "%s: RESUME: %s", l->uuid, strerror(-r));
		return r;
	}
	return 0;
}

static int deactivate(struct lg *g, struct lg_log *l)
{
	static const uint32_t types[] = {SI_PRESUSPEND, SI_POSTSUSPEND, SI_DTR};
	struct standin_reply rep;
	size_t i;
	int r;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		r = call(g, l, types[i], NULL, 0, &rep);
		if (r) {
			note_error(g, "%s: teardown request %u: %s", l->uuid, types[i],
				   strerror(-r));
			return r;
		}
	}
	return 0;
}

/* ---- the pipelined engine ---------------------------------------------------------------- */

static void slot_send(struct lg *g, struct lg_slot *sl, uint32_t type, const void *data,
		      uint32_t len)
{
	struct lg_log *l = &g->logs[sl->log];
	struct standin_req rq = {
		.luid = l->luid, .uuid = l->uuid, .type = type, .data = sl->data, .data_size = len};
	int r;

	if (data && data != sl->data)
		memcpy(sl->data, data, len);
	sl->type = type;
	sl->len = len;
	sl->t_sent = now_ns();
	r = standin_send(g->s, &rq, &sl->seq);
	g->requests++;
	/* a full socket buffer: try again on the next turn of the loop */
	sl->pending_send = r == -EAGAIN || r == -ENOBUFS || r == -ENOMEM;
	if (r && !sl->pending_send)
		note_error(g, "send type %u: %s", type, strerror(-r));
}

static void slot_resend(struct lg *g, struct lg_slot *sl)
{
	slot_send(g, sl, sl->type, sl->data, sl->len);
}

static void put_region(struct lg_slot *sl, uint64_t r)
{
	struct wire_wr w;

	wire_wr_init(&w, sl->data, sizeof(sl->data));
	wire_put_h64(&w, r);
}

/* The region of a slot's next transition: disjoint across slots, nodes and in-flight use. */
static uint64_t pick_region(struct lg *g, struct lg_slot *sl, unsigned int idx)
{
	uint64_t stripes = (uint64_t)g->nslots * g->o.nodes;
	uint64_t me = (uint64_t)g->o.node * g->nslots + idx;
	uint64_t per, k;

	if (g->o.mode == LG_HOT) {
		per = g->o.hot_set / stripes;
		if (!per)
			per = 1;
		k = g->o.random ? rnd(g) % per : sl->k % per;
	} else {
		per = g->o.regions / stripes;
		if (!per)
			per = 1;
		k = g->o.random ? rnd(g) % per : sl->k % per;
	}
	return (k * stripes + me) % g->o.regions;
}

static bool want_more(struct lg *g)
{
	if (g->stopping || lg_interrupted)
		return false;
	if (g->o.count)
		return g->started < g->o.count;
	return (double)(now_ns() - g->t_begin) / 1e9 < g->o.duration;
}

/* Start the next transition of a slot, or park it. */
static void slot_next(struct lg *g, struct lg_slot *sl, unsigned int idx)
{
	uint64_t r;

	if (g->o.mode == LG_RESYNC) {
		/* one recovery in flight per log, as kmirrord: move to the next log not done */
		unsigned int i;

		g->logs[sl->log].busy = false;
		if (!want_more(g)) {
			sl->st = ST_DONE;
			return;
		}
		for (i = 1; i <= g->o.logs; i++) {
			unsigned int c = (sl->log + i) % g->o.logs;

			if (!g->logs[c].done && !g->logs[c].busy) {
				sl->log = c;
				g->logs[c].busy = true;
				g->started++;
				sl->t_start = now_ns();
				slot_send(g, sl, SI_GET_RESYNC_WORK, NULL, 0);
				sl->st = ST_WORK;
				return;
			}
		}
		sl->st = ST_DONE;
		return;
	}
	if (!want_more(g)) {
		sl->st = ST_DONE;
		return;
	}
	sl->log = (unsigned int)((idx + sl->k * g->nslots) % g->o.logs);
	r = pick_region(g, sl, idx);
	if (g->o.mode == LG_READ)
		r = rnd(g) % g->o.regions;
	sl->region = r;
	sl->k++;
	g->started++;
	sl->t_start = now_ns();
	put_region(sl, r);
	if (g->o.mode == LG_READ) {
		slot_send(g, sl, SI_IN_SYNC, sl->data, 8);
		sl->st = ST_READ;
	} else if (g->o.integrated) {
		slot_send(g, sl, SI_FLUSH, sl->data, 8);
		sl->st = ST_WFLUSH;
	} else {
		slot_send(g, sl, SI_MARK_REGION, sl->data, 8);
		sl->st = ST_MARK;
	}
}

static void op_done(struct lg *g, struct lg_lat *l, uint64_t t_start)
{
	uint64_t t = now_ns();

	if (lat_add(l, t - t_start))
		note_error(g, "out of memory for latency samples");
	if (l == &g->lat) {
		g->ops++;
		g->t_last_op = t;
	}
}

/* An answer for a slot: check it as the kernel would, then advance the slot. */
static void slot_answer(struct lg *g, struct lg_slot *sl, unsigned int idx,
			const struct standin_reply *rep)
{
	struct lg_log *l = &g->logs[sl->log];
	int r = rep->violation[0] ? -EPROTO : standin_kernel_result(rep, reply_cap(sl->type));
	uint64_t v = 0, reg;

	if (r == -EAGAIN) {
		g->eagain++;
		slot_resend(g, sl);
		return;
	}
	if (r) {
		note_error(g, "%s %s region %" PRIu64 ": %s%s%s", l->uuid,
			   standin_type_name(sl->type), sl->region, strerror(-r),
			   rep->violation[0] ? ": " : "", rep->violation);
		/* carry on with the next transition: one bad answer must not stall the run */
		slot_next(g, sl, idx);
		return;
	}
	switch (sl->st) {
	case ST_MARK:
		slot_send(g, sl, SI_FLUSH, NULL, 0);
		sl->st = ST_WFLUSH;
		break;
	case ST_WFLUSH:
		op_done(g, &g->lat, sl->t_start);
		sl->t_start = now_ns();
		put_region(sl, sl->region);
		slot_send(g, sl, SI_CLEAR_REGION, sl->data, 8);
		sl->st = ST_CLEAR;
		break;
	case ST_CLEAR:
		if (g->o.integrated) {
			/* the kernel sends no FLUSH for clears alone: they ride on the next one */
			op_done(g, &g->clat, sl->t_start);
			slot_next(g, sl, idx);
		} else {
			slot_send(g, sl, SI_FLUSH, NULL, 0);
			sl->st = ST_CFLUSH;
		}
		break;
	case ST_CFLUSH:
		op_done(g, &g->clat, sl->t_start);
		slot_next(g, sl, idx);
		break;
	case ST_READ:
		v = get_u64(rep, 0);
		if (rep->data_size != 8 || v > 1)
			note_error(g, "%s IN_SYNC(%" PRIu64 "): %u bytes, value %" PRIu64, l->uuid,
				   sl->region, rep->data_size, v);
		else
			op_done(g, &g->lat, sl->t_start);
		slot_next(g, sl, idx);
		break;
	case ST_WORK:
		v = get_u64(rep, 0);
		reg = get_u64(rep, 8);
		if (rep->data_size != 16 || v > 1 || (v && reg >= g->o.regions)) {
			note_error(g, "%s GET_RESYNC_WORK: %u bytes, i %" PRIu64 " r %" PRIu64,
				   l->uuid, rep->data_size, v, reg);
			slot_next(g, sl, idx);
		} else if (v) {
			uint8_t b[16];
			struct wire_wr w;

			sl->region = reg;
			wire_wr_init(&w, b, sizeof(b));
			wire_put_h64(&w, reg);
			wire_put_h64(&w, 1);
			slot_send(g, sl, SI_SET_REGION_SYNC, b, 16);
			sl->st = ST_SETSYNC;
		} else {
			slot_send(g, sl, SI_GET_SYNC_COUNT, NULL, 0);
			sl->st = ST_COUNT;
			sl->region = UINT64_MAX; /* nothing handed out: poll after the count */
		}
		break;
	case ST_SETSYNC:
		op_done(g, &g->lat, sl->t_start);
		sl->region = 0;
		slot_send(g, sl, SI_GET_SYNC_COUNT, NULL, 0);
		sl->st = ST_COUNT;
		break;
	case ST_COUNT:
		v = get_u64(rep, 0);
		if (rep->data_size != 8 || v > g->o.regions) {
			note_error(g, "%s GET_SYNC_COUNT: %u bytes, value %" PRIu64, l->uuid,
				   rep->data_size, v);
			slot_next(g, sl, idx);
			break;
		}
		g->sync_count = v;
		if (v == g->o.regions) {
			l->done = true;
			slot_next(g, sl, idx);
		} else if (sl->region == UINT64_MAX) {
			/* the rest is with other nodes: ask again in 10 ms, as kmirrord would */
			sl->st = ST_WAIT;
			sl->t_wake = now_ns() + 10000000ull;
		} else {
			slot_next(g, sl, idx);
		}
		break;
	default:
		note_error(g, "answer for slot %u in state %d", idx, sl->st);
		break;
	}
}

static void progress(struct lg *g, uint64_t *last_ops, uint64_t *last_t, size_t *last_n)
{
	uint64_t t = now_ns();
	double dt = (double)(t - *last_t) / 1e9, sum = 0;
	size_t i;

	for (i = *last_n; i < g->lat.n; i++)
		sum += (double)g->lat.v[i];
	fprintf(stderr,
		"loadgen[%s] %5.1fs %s: %" PRIu64
		" ops, %.0f/s now, mean %.0f us now, errors %" PRIu64,
		g->o.label, (double)(t - g->t_begin) / 1e9, mode_names[g->o.mode], g->ops,
		(double)(g->ops - *last_ops) / dt,
		g->lat.n > *last_n ? sum / (double)(g->lat.n - *last_n) / 1000.0 : 0.0, g->errors);
	if (g->o.mode == LG_RESYNC)
		fprintf(stderr, ", sync count %" PRIu64 "/%" PRIu64, g->sync_count, g->o.regions);
	fputc('\n', stderr);
	*last_ops = g->ops;
	*last_t = t;
	*last_n = g->lat.n;
}

static int run_pipelined(struct lg *g)
{
	struct standin_reply *rep = malloc(sizeof(*rep));
	uint64_t last_ops = 0, last_t, next_progress;
	size_t last_n = 0;
	unsigned int i;

	if (!rep)
		return -ENOMEM;
	g->t_begin = g->t_last_op = last_t = now_ns();
	next_progress = g->t_begin + 1000000000ull;
	for (i = 0; i < g->nslots; i++) {
		g->slots[i].log = i % g->o.logs;
		if (g->o.mode == LG_RESYNC) {
			g->slots[i].log = (i + g->o.logs - 1) % g->o.logs;
			g->logs[g->slots[i].log].busy = false;
		}
		slot_next(g, &g->slots[i], i);
	}
	for (;;) {
		bool active = false;
		uint64_t t = now_ns();
		uint32_t seq;
		int r;

		for (i = 0; i < g->nslots; i++) {
			struct lg_slot *sl = &g->slots[i];

			if (sl->st == ST_DONE || sl->st == ST_IDLE)
				continue;
			active = true;
			if (sl->pending_send) {
				slot_resend(g, sl);
			} else if (sl->st == ST_WAIT) {
				if (t >= sl->t_wake)
					slot_next(g, sl, i);
			} else if (t - sl->t_sent > (uint64_t)g->o.resend_ms * 1000000ull) {
				/* the kernel resends after 15 s with a new seq */
				g->resends++;
				fprintf(stderr, "loadgen[%s]: %s unanswered for %d ms, resent\n",
					g->o.label, standin_type_name(sl->type), g->o.resend_ms);
				slot_resend(g, sl);
			}
		}
		if (!active)
			break;
		if (!g->o.quiet && t >= next_progress) {
			progress(g, &last_ops, &last_t, &last_n);
			next_progress += 1000000000ull;
		}
		r = standin_recv(g->s, rep, 20);
		if (r == -ETIMEDOUT)
			continue;
		if (r) {
			note_error(g, "receive: %s", strerror(-r));
			break;
		}
		seq = rep->ack_only ? rep->cn_seq : rep->seq;
		for (i = 0; i < g->nslots; i++) {
			struct lg_slot *sl = &g->slots[i];

			if (sl->st != ST_DONE && sl->st != ST_IDLE && sl->st != ST_WAIT &&
			    !sl->pending_send && sl->seq == seq) {
				slot_answer(g, sl, i, rep);
				break;
			}
		}
		if (i == g->nslots)
			g->strays++;
	}
	free(rep);
	return 0;
}

/* ---- join and dirty modes ---------------------------------------------------------------- */

static int run_join(struct lg *g)
{
	struct standin_reply rep;
	struct lg_log *l = &g->logs[0];
	uint64_t t0, reg = g->o.regions / 2, v;
	uint8_t b[8];
	struct wire_wr w;
	int r;

	/* RESUME is timed inside activate(); the clock for the first answers starts with it */
	r = activate(g, l, &g->join_resume_ns);
	if (r)
		return r;
	t0 = now_ns() - g->join_resume_ns;
	wire_wr_init(&w, b, sizeof(b));
	wire_put_h64(&w, reg);
	r = call(g, l, SI_IN_SYNC, b, 8, &rep);
	g->join_first_read_ns = now_ns() - t0;
	v = r ? 0 : get_u64(&rep, 0);
	if (r || rep.data_size != 8 || v > 1) {
		note_error(g, "%s: first IN_SYNC after RESUME: result %d, value %" PRIu64, l->uuid,
			   r, v);
		return r ? r : -EPROTO;
	}
	r = call(g, l, SI_MARK_REGION, b, 8, &rep);
	if (!r)
		r = call(g, l, SI_FLUSH, NULL, 0, &rep);
	g->join_first_write_ns = now_ns() - t0;
	if (r) {
		note_error(g, "%s: first MARK+FLUSH after RESUME: %s", l->uuid, strerror(-r));
		return r;
	}
	r = call(g, l, SI_CLEAR_REGION, b, 8, &rep);
	if (r)
		note_error(g, "%s: CLEAR after the join: %s", l->uuid, strerror(-r));
	g->ops = 1;
	(void)lat_add(&g->lat, g->join_resume_ns);
	return r;
}

static int run_dirty(struct lg *g)
{
	uint64_t marked = 0, regs[LG_BATCH];
	struct standin_reply rep;
	unsigned int li = 0;
	int r;

	g->t_begin = now_ns();
	while (marked < g->o.count && !lg_interrupted) {
		struct lg_log *l = &g->logs[li++ % g->o.logs];
		uint64_t start = rnd(g) % g->o.regions;
		unsigned int n = 0, i;
		uint64_t t0;

		for (i = 0; i < LG_RUN && n < LG_BATCH && marked < g->o.count; i++, marked++)
			regs[n++] = (start + i) % g->o.regions;
		t0 = now_ns();
		r = call(g, l, SI_MARK_REGION, regs, n * 8, &rep);
		if (!r)
			r = call(g, l, SI_FLUSH, NULL, 0, &rep);
		if (r) {
			note_error(g, "%s: dirty MARK+FLUSH: %s", l->uuid, strerror(-r));
			return r;
		}
		(void)lat_add(&g->lat, now_ns() - t0);
		g->ops += n;
	}
	g->t_last_op = now_ns();
	return 0;
}

/* ---- output -------------------------------------------------------------------------------- */

static void report(struct lg *g)
{
	struct standin_counters c;
	double secs = (double)(g->t_last_op - g->t_begin) / 1e9;
	double rate = secs > 0 ? (double)g->ops / secs : 0;
	bool write = g->o.mode == LG_WRITE || g->o.mode == LG_HOT;

	standin_get_counters(g->s, &c);
	/* qsort's pointer must not be NULL even for 0 elements (UBSan) */
	if (g->lat.n)
		qsort(g->lat.v, g->lat.n, sizeof(uint64_t), cmp_u64);
	if (g->clat.n)
		qsort(g->clat.v, g->clat.n, sizeof(uint64_t), cmp_u64);
	printf("loadgen %s [%s]: %u log(s) of %" PRIu64 " regions, %s, %u writer(s)%s\n",
	       mode_names[g->o.mode], g->o.label, g->o.logs, g->o.regions,
	       g->o.dev ? "clustered-disk" : "clustered-core", g->nslots,
	       g->o.integrated ? ", integrated flush" : "");
	if (g->o.mode == LG_JOIN) {
		printf("  RESUME answered after %.0f us; first IN_SYNC answered %.0f us and first "
		       "MARK+FLUSH %.0f us after RESUME was sent\n",
		       (double)g->join_resume_ns / 1000.0, (double)g->join_first_read_ns / 1000.0,
		       (double)g->join_first_write_ns / 1000.0);
	} else {
		printf("  %" PRIu64 " %s in %.2f s = %.0f/s; latency us p50 %.0f p99 %.0f max %.0f "
		       "mean %.0f\n",
		       g->ops,
		       write		       ? "writes"
		       : g->o.mode == LG_READ  ? "reads"
		       : g->o.mode == LG_DIRTY ? "regions marked"
					       : "regions resynced",
		       secs, rate, lat_pct(&g->lat, 50), lat_pct(&g->lat, 99),
		       lat_pct(&g->lat, 100), lat_mean(&g->lat));
		if (write)
			printf("  clears: %zu, latency us p50 %.0f p99 %.0f max %.0f\n", g->clat.n,
			       lat_pct(&g->clat, 50), lat_pct(&g->clat, 99),
			       lat_pct(&g->clat, 100));
	}
	printf("  requests %" PRIu64 ", errors %" PRIu64 ", EAGAIN %" PRIu64 ", resent %" PRIu64
	       ", stray answers %" PRIu64 ", contract violations %" PRIu64 "%s%s\n",
	       g->requests, g->errors, g->eagain, g->resends, g->strays + c.strays, c.violations,
	       g->errors ? "; first error: " : "", g->first_error);
	printf("{\"tool\":\"loadgen\",\"label\":\"%s\",\"mode\":\"%s\",\"log_type\":\"%s\","
	       "\"integrated\":%s,\"logs\":%u,\"regions\":%" PRIu64 ",\"region_size\":%u,"
	       "\"writers\":%u,\"node\":%u,\"nodes\":%u,\"ops\":%" PRIu64 ",\"seconds\":%.3f,"
	       "\"ops_per_s\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,"
	       "\"mean_us\":%.1f,\"clears\":%zu,\"clear_p50_us\":%.1f,\"clear_p99_us\":%.1f,"
	       "\"clear_max_us\":%.1f,\"requests\":%" PRIu64 ",\"errors\":%" PRIu64
	       ",\"eagain\":%" PRIu64 ",\"resent\":%" PRIu64 ",\"strays\":%" PRIu64
	       ",\"violations\":%" PRIu64 ",\"sync_count\":%" PRIu64 ",\"resume_us\":%.1f,"
	       "\"first_read_us\":%.1f,\"first_write_us\":%.1f,\"first_error\":\"",
	       g->o.label, mode_names[g->o.mode], g->o.dev ? "clustered-disk" : "clustered-core",
	       g->o.integrated ? "true" : "false", g->o.logs, g->o.regions, g->o.region_size,
	       g->nslots, g->o.node, g->o.nodes, g->ops, secs, rate, lat_pct(&g->lat, 50),
	       lat_pct(&g->lat, 99), lat_pct(&g->lat, 100), lat_mean(&g->lat), g->clat.n,
	       lat_pct(&g->clat, 50), lat_pct(&g->clat, 99), lat_pct(&g->clat, 100), g->requests,
	       g->errors, g->eagain, g->resends, g->strays + c.strays, c.violations, g->sync_count,
	       (double)g->join_resume_ns / 1000.0, (double)g->join_first_read_ns / 1000.0,
	       (double)g->join_first_write_ns / 1000.0);
	for (const char *p = g->first_error; *p; p++)
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if ((unsigned char)*p >= 0x20)
			putchar(*p);
	printf("\"}\n");
	fflush(stdout);
}

/* ---- options ------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: loadgen [options]   (inside the network namespace of a cmlogd started "
		"with\n"
		"                            --userspace-peer; it plays the kernel over netlink)\n"
		"  --mode M            write|hot|read|resync|join|dirty (default write)\n"
		"  --uuid-prefix P     logs are P-0 .. P-(K-1) (default \"bench\"); the same "
		"uuids\n"
		"                      on every node = the same mirror log active everywhere\n"
		"  --logs K            number of logs (default 1)\n"
		"  --regions N         regions per log (default 1048576)\n"
		"  --region-size S     region size in 512-byte sectors, a power of two (default "
		"1024)\n"
		"  --writers W         concurrent writers/readers (pipelined slots, default 1)\n"
		"  --duration S        run for S seconds (default 10)\n"
		"  --count N           or stop after N operations (dirty: regions to mark)\n"
		"  --integrated        integrated flush: FLUSH carries the region, no MARK\n"
		"  --random            random regions instead of sequential\n"
		"  --hot-set N         hot mode: working-set size in regions (default 256)\n"
		"  --dev PATH          clustered-disk log on PATH (a file or a block device or\n"
		"                      maj:min); with K > 1 logs, %%d in PATH is the log index, "
		"else\n"
		"                      \".<index>\" is appended\n"
		"  --nosync            CTR with nosync (the log starts in sync)\n"
		"  --keep              leave the logs active at the end (no suspend/DTR)\n"
		"  --no-activate       the logs are already active here (left by --keep with the\n"
		"                      same --luid-base)\n"
		"  --luid-base N       luid of log 0 (log i: N + i; default from the pid)\n"
		"  --check             exit 1 on the first unexpected answer\n"
		"  --portid P          unicast to netlink port P (default: multicast to group 7)\n"
		"  --node I --nodes N  this node's 0-based index among N loaded nodes (regions of\n"
		"                      different nodes never collide)\n"
		"  --label L           label of the output lines\n"
		"  --ready-file F      create F once the logs are active ...\n"
		"  --go-file F         ... and wait for F to exist before the load starts\n"
		"  --start-at T        start the load at wall-clock time T (epoch seconds; for\n"
		"                      nodes of a real cluster started by hand)\n"
		"  --resend-ms MS      resend a request unanswered for MS (default 15000, the "
		"kernel's)\n"
		"  --seed N            random seed (default: from the pid)\n"
		"  --quiet             no progress lines\n"
		"Prints a progress line on stderr every second, then a summary and one JSON "
		"line.\n");
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-')
		return -EINVAL;
	*v = x;
	return 0;
}

static int parse_opts(struct lg_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{"mode", required_argument, NULL, 'm'},
		{"uuid-prefix", required_argument, NULL, 'u'},
		{"logs", required_argument, NULL, 'K'},
		{"regions", required_argument, NULL, 'N'},
		{"region-size", required_argument, NULL, 'S'},
		{"writers", required_argument, NULL, 'W'},
		{"duration", required_argument, NULL, 'D'},
		{"count", required_argument, NULL, 'C'},
		{"integrated", no_argument, NULL, 'I'},
		{"random", no_argument, NULL, 'R'},
		{"hot-set", required_argument, NULL, 'H'},
		{"dev", required_argument, NULL, 'd'},
		{"nosync", no_argument, NULL, 'n'},
		{"keep", no_argument, NULL, 'k'},
		{"no-activate", no_argument, NULL, 'A'},
		{"check", no_argument, NULL, 'c'},
		{"portid", required_argument, NULL, 'p'},
		{"node", required_argument, NULL, 'i'},
		{"nodes", required_argument, NULL, 'j'},
		{"label", required_argument, NULL, 'l'},
		{"ready-file", required_argument, NULL, 'r'},
		{"go-file", required_argument, NULL, 'g'},
		{"start-at", required_argument, NULL, 'T'},
		{"resend-ms", required_argument, NULL, 't'},
		{"seed", required_argument, NULL, 's'},
		{"luid-base", required_argument, NULL, 'L'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint64_t v;
	int c;
	size_t i;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		const char *a = optarg;

		switch (c) {
		case 'm':
			for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
				if (!strcmp(a, mode_names[i]))
					break;
			if (i == sizeof(mode_names) / sizeof(mode_names[0])) {
				fprintf(stderr, "loadgen: unknown mode '%s'\n", a);
				return -EINVAL;
			}
			o->mode = (enum lg_mode)i;
			break;
		case 'u':
			o->prefix = a;
			break;
		case 'd':
			o->dev = a;
			break;
		case 'l':
			o->label = a;
			break;
		case 'r':
			o->ready_file = a;
			break;
		case 'g':
			o->go_file = a;
			break;
		case 'I':
			o->integrated = true;
			break;
		case 'R':
			o->random = true;
			break;
		case 'n':
			o->nosync = true;
			break;
		case 'k':
			o->keep = true;
			break;
		case 'A':
			o->no_activate = true;
			break;
		case 'c':
			o->check = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'D': {
			char *end;

			o->duration = strtod(a, &end);
			if (*end || o->duration <= 0) {
				fprintf(stderr, "loadgen: bad --duration '%s'\n", a);
				return -EINVAL;
			}
			break;
		}
		case 'T': {
			char *end;

			o->start_at = strtod(a, &end);
			if (*end || o->start_at <= 0) {
				fprintf(stderr, "loadgen: bad --start-at '%s'\n", a);
				return -EINVAL;
			}
			break;
		}
		case 'h':
			usage(stdout);
			exit(0);
		case 'K':
		case 'N':
		case 'S':
		case 'W':
		case 'C':
		case 'H':
		case 'p':
		case 'i':
		case 'j':
		case 't':
		case 's':
		case 'L':
			if (parse_u64(a, &v)) {
				fprintf(stderr, "loadgen: bad number '%s'\n", a);
				return -EINVAL;
			}
			if (c == 'K')
				o->logs = (unsigned int)v;
			else if (c == 'N')
				o->regions = v;
			else if (c == 'S')
				o->region_size = (uint32_t)v;
			else if (c == 'W')
				o->writers = (unsigned int)v;
			else if (c == 'C')
				o->count = v;
			else if (c == 'H')
				o->hot_set = (unsigned int)v;
			else if (c == 'p')
				o->portid = (uint32_t)v;
			else if (c == 'i')
				o->node = (unsigned int)v;
			else if (c == 'j')
				o->nodes = (unsigned int)v;
			else if (c == 't')
				o->resend_ms = (int)v;
			else if (c == 'L')
				o->luid_base = v;
			else
				o->seed = v;
			break;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc || !o->logs || o->logs > LG_MAX_LOGS || !o->regions || !o->writers ||
	    o->writers > LG_MAX_SLOTS || !o->nodes || o->node >= o->nodes || !o->region_size ||
	    (o->region_size & (o->region_size - 1)) || o->resend_ms <= 0 || !o->hot_set) {
		fprintf(stderr, "loadgen: bad arguments (see --help)\n");
		return -EINVAL;
	}
	if (o->mode == LG_DIRTY && !o->count) {
		fprintf(stderr, "loadgen: --mode dirty needs --count (regions to mark)\n");
		return -EINVAL;
	}
	return 0;
}

static int wait_go(const struct lg_opts *o)
{
	struct stat st;
	FILE *f;

	if (o->ready_file) {
		f = fopen(o->ready_file, "w");
		if (!f || fclose(f)) {
			fprintf(stderr, "loadgen: cannot create %s\n", o->ready_file);
			return -EIO;
		}
	}
	if (o->start_at > 0) {
		struct timespec ts;
		double now;

		clock_gettime(CLOCK_REALTIME, &ts);
		now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		if (o->start_at - now > 3600) {
			fprintf(stderr, "loadgen: --start-at is more than an hour away\n");
			return -EINVAL;
		}
		while (!lg_interrupted && o->start_at > now) {
			double d = o->start_at - now;

			usleep(d > 0.1 ? 100000 : (useconds_t)(d * 1e6));
			clock_gettime(CLOCK_REALTIME, &ts);
			now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		}
	}
	if (!o->go_file)
		return 0;
	/* bounded: the driver script has 10 minutes to start every node */
	for (int i = 0; i < 60000 && !lg_interrupted; i++) {
		if (!stat(o->go_file, &st))
			return 0;
		usleep(10000);
	}
	fprintf(stderr, "loadgen: %s never appeared\n", o->go_file);
	return -ETIMEDOUT;
}

int main(int argc, char **argv)
{
	struct lg g = {.o = {.mode = LG_WRITE,
			     .prefix = "bench",
			     .logs = 1,
			     .regions = 1048576,
			     .region_size = 1024,
			     .writers = 1,
			     .duration = 10,
			     .hot_set = 256,
			     .nodes = 1,
			     .label = "",
			     .resend_ms = 15000}};
	struct standin_cfg cfg = {0};
	struct sigaction sa = {.sa_handler = on_signal};
	char why[200], label[64];
	unsigned int i;
	uint64_t luid_base;
	int r, rc = 0;

	if (parse_opts(&g.o, argc, argv))
		return 2;
	luid_base = g.o.luid_base ? g.o.luid_base
				  : 0x10000000ull + ((uint64_t)(getpid() & 0xffff) << 12);
	if (!g.o.label[0]) {
		snprintf(label, sizeof(label), "node%u", g.o.node + 1);
		g.o.label = label;
	}
	if (standin_netns_check(why, sizeof(why)) != 0) {
		fprintf(stderr, "loadgen: refusing to run: %s\n", why);
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	g.rng = g.o.seed ? g.o.seed : ((uint64_t)getpid() << 20) ^ now_ns();
	if (!g.rng)
		g.rng = 1;
	cfg.dest_portid = g.o.portid;
	cfg.timeout_ms = g.o.resend_ms;
	cfg.rcvbuf = 16 << 20;
	r = standin_open(&g.s, &cfg);
	if (r) {
		fprintf(stderr, "loadgen: cannot open the netlink socket: %s\n", strerror(-r));
		return 1;
	}
	g.nslots = g.o.writers;
	if (g.o.mode == LG_RESYNC && g.nslots > g.o.logs)
		g.nslots = g.o.logs; /* one recovery in flight per log */
	g.logs = calloc(g.o.logs, sizeof(*g.logs));
	g.slots = calloc(g.nslots, sizeof(*g.slots));
	if (!g.logs || !g.slots) {
		fprintf(stderr, "loadgen: out of memory\n");
		free(g.logs);
		free(g.slots);
		return 1;
	}
	for (i = 0; i < g.o.logs; i++) {
		struct lg_log *l = &g.logs[i];

		snprintf(l->uuid, sizeof(l->uuid), "%s-%u", g.o.prefix, i);
		/* the kernel's luid is a pointer: unique per log instance on this node */
		l->luid = luid_base + i;
		if (g.o.dev && g.o.logs > 1 && strstr(g.o.dev, "%d")) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			snprintf(l->dev, sizeof(l->dev), g.o.dev, (int)i);
#pragma GCC diagnostic pop
		} else if (g.o.dev && g.o.logs > 1) {
			snprintf(l->dev, sizeof(l->dev), "%s.%u", g.o.dev, i);
		} else if (g.o.dev) {
			snprintf(l->dev, sizeof(l->dev), "%s", g.o.dev);
		}
	}
	if (g.o.mode == LG_JOIN) {
		if (g.o.logs != 1) {
			fprintf(stderr, "loadgen: join mode times one log (--logs 1)\n");
			rc = 2;
			goto out;
		}
		if (wait_go(&g.o)) {
			rc = 1;
			goto out;
		}
		g.t_begin = now_ns();
		r = run_join(&g);
		g.t_last_op = now_ns();
		if (r)
			rc = 1;
	} else {
		uint64_t t0 = now_ns();

		for (i = 0; i < g.o.logs && !g.o.no_activate; i++) {
			r = activate(&g, &g.logs[i], NULL);
			if (r) {
				report(&g);
				rc = 1;
				goto out;
			}
		}
		if (!g.o.quiet)
			fprintf(stderr, "loadgen[%s]: %u log(s) active in %.2f s\n", g.o.label,
				g.o.logs, (double)(now_ns() - t0) / 1e9);
		if (wait_go(&g.o)) {
			rc = 1;
			goto out;
		}
		r = g.o.mode == LG_DIRTY ? run_dirty(&g) : run_pipelined(&g);
		if (r)
			rc = 1;
		if (g.o.integrated && !g.stopping) {
			/* the kernel's delayed FLUSH for the last clears */
			struct standin_reply rep;

			for (i = 0; i < g.o.logs; i++)
				(void)call(&g, &g.logs[i], SI_FLUSH, NULL, 0, &rep);
		}
	}
	if (!g.o.keep)
		for (i = 0; i < g.o.logs; i++)
			if (deactivate(&g, &g.logs[i]))
				break;
	report(&g);
	if (g.errors && g.o.check)
		rc = 1;
	if (lg_interrupted)
		rc = rc ? rc : 130;
out:
	standin_close(g.s);
	free(g.lat.v);
	free(g.clat.v);
	free(g.logs);
	free(g.slots);
	return rc;
}
