/*
 * cluster_drv: the kernel stand-in's side of the multi-node functional tests and the demo
 * (tests/func/test_cluster_*.sh, tools/demo.sh): one mirror log seen from one node's kernel.
 *
 *   cluster_drv --uuid U --luid L [--timeout-ms N] CMD [ARGS]
 *     activate "CTR STRING"   CTR + RESUME (the RESUME of a joining node waits for the state
 *                             transfer); prints the RESUME latency
 *     load SECONDS REGIONS W  W pipelined writers for SECONDS over regions [0, REGIONS): each
 *                             MARK r, FLUSH, IN_SYNC r, CLEAR r, FLUSH (writer k only touches
 *                             regions == k mod W, as the kernel never marks a region twice);
 *                             every FLUSH/MARK/CLEAR must answer 0, IN_SYNC 0 or 1, nothing
 *                             may time out. Prints counts, the slowest FLUSH, the longest
 *                             time any request waited for its answer (max_latency_ms) and the
 *                             longest time nothing was answered while requests were outstanding.
 *                             --stop-file F: also stop starting writes once F exists.
 *                             --reconnect CTR: behave like the kernel across cmlogd restarts:
 *                             a request unanswered for --resend-ms (default 1000; the kernel
 *                             waits 15 s) is resent with a new seq, and an -ESRCH answer (or a
 *                             send nobody receives) runs the reconnect: CTR with the trailing
 *                             NUL until it answers 0 (every 100 ms; the kernel sleeps 2 s),
 *                             RESUME, then every outstanding request is resent; --timeout-ms
 *                             then bounds each request from its first send
 *     dump N [FIRST]          GET_SYNC_COUNT, then IN_SYNC and IS_CLEAN of regions
 *                             [FIRST, FIRST + N) (FIRST default 0):
 *                             prints one "state ..." line with hashes of both bitmaps, for
 *                             comparing the replicas of the nodes
 *     resync SECONDS COUNT    recover like dm-raid1: GET_RESYNC_WORK, SET_REGION_SYNC(r, 1),
 *                             CLEAR r, FLUSH, until GET_SYNC_COUNT == COUNT (or time is up)
 *     held-flush REGION       print "sent", MARK REGION, FLUSH, each waiting up to
 *                             --timeout-ms (a held request); prints when they were answered
 *     mark R,R,A-B...         MARK each region, then FLUSH: they stay marked by this node
 *     sync-count              print GET_SYNC_COUNT
 *     burst N RESEND_MS       N requests sent back to back without waiting (MARK r, IN_SYNC
 *                             r, GET_SYNC_COUNT, FLUSH for r = 0.. N/4 - 1): a burst far larger
 *                             than a small cmlogd receive buffer. Unanswered requests are resent
 *                             after RESEND_MS with a new seq (the kernel's 15 s resend); then
 *                             10 answered ones are sent again with their old seq. Every answer
 *                             must carry a seq we sent and the type of that request, no seq
 *                             may be answered twice except the deliberate same-seq duplicates,
 *                             and every answer must be right for its request (MARK/FLUSH 0,
 *                             IN_SYNC 0|1, GET_SYNC_COUNT the log's count); --timeout-ms bounds
 *                             the whole burst. --stop-pid P: SIGSTOP P (cmlogd) while the
 *                             burst is sent, SIGCONT after. Prints resends, answers, duplicates
 * Exit 0 when every answer was what the kernel expects, 1 otherwise, 2 when it refuses to run
 * outside a network namespace (standin_lib.h SAFETY).
 *
 * Built on libstandin (independent frame codec): it checks cmlogd, it does not share its code.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/func/standin_lib.h"

#define DRV_MAX_WRITERS 64
#define DRV_DUMP_WINDOW 64

struct drv {
	struct standin *s;
	const char *uuid;
	uint64_t luid;
	int timeout_ms;
	const char *stop_file;	      /* load: stop starting writes when it exists */
	const char *reconnect;	      /* load: the CTR string of the kernel's reconnect, or NULL */
	int resend_ms;		      /* load with --reconnect: resend after this long */
	uint64_t resends, reconnects; /* load with --reconnect */
	int stop_pid;		      /* burst: SIGSTOP this process while sending */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void req_init(const struct drv *d, struct standin_req *rq, uint32_t type, const void *data,
		     uint32_t len)
{
	memset(rq, 0, sizeof(*rq));
	rq->luid = d->luid;
	rq->uuid = d->uuid;
	rq->type = type;
	rq->data = data;
	rq->data_size = len;
}

/* One request, the kernel's view of the answer (0, -errno, -ETIMEDOUT, -EPROTO). */
static int call(struct drv *d, uint32_t type, const void *data, uint32_t len,
		struct standin_reply *rep, int timeout_ms)
{
	struct standin_req rq;
	int r;

	req_init(d, &rq, type, data, len);
	r = standin_call(d->s, &rq, rep, timeout_ms);
	if (r)
		return r;
	if (rep->violation[0]) {
		printf("# contract violation: %s\n", rep->violation);
		return -EPROTO;
	}
	return standin_kernel_result(rep, standin_capacity(&rq));
}

/* A request answered with one 8-byte value. */
static int call_u64(struct drv *d, uint32_t type, const void *data, uint32_t len, uint64_t *v)
{
	struct standin_reply rep;
	int r = call(d, type, data, len, &rep, d->timeout_ms);

	if (r)
		return r;
	if (rep.ack_only || rep.data_size != 8)
		return -EBADMSG;
	memcpy(v, rep.data, 8);
	return 0;
}

static int fail(const char *what, int r)
{
	printf("not ok - %s: %d (%s)\n", what, r, strerror(r < 0 ? -r : r));
	return 1;
}

static int cmd_activate(struct drv *d, const char *ctr)
{
	struct standin_reply rep;
	uint64_t t0;
	int r;

	r = call(d, SI_CTR, ctr, (uint32_t)strlen(ctr), &rep, d->timeout_ms);
	if (r)
		return fail("CTR", r);
	t0 = now_ms();
	r = call(d, SI_RESUME, NULL, 0, &rep, d->timeout_ms);
	if (r)
		return fail("RESUME", r);
	printf("ok - activate: RESUME answered in %" PRIu64 " ms\n", now_ms() - t0);
	return 0;
}

/* ---- load ---------------------------------------------------------------------------------- */

enum wstep { W_MARK, W_FLUSH1, W_INSYNC, W_CLEAR, W_FLUSH2 };

struct writer {
	enum wstep step;
	uint64_t region;
	uint32_t seq; /* outstanding request */
	uint64_t sent_ms;
	uint64_t first_ms; /* first send of this request (resends keep it) */
	bool busy;
};

struct load {
	uint64_t marks, clears, flushes, insyncs, insync_zero, errors, timeouts;
	uint64_t max_flush_ms, sum_flush_ms, max_gap_ms, max_lat_ms;
};

static uint32_t wstep_type(enum wstep s)
{
	switch (s) {
	case W_MARK:
		return SI_MARK_REGION;
	case W_CLEAR:
		return SI_CLEAR_REGION;
	case W_INSYNC:
		return SI_IN_SYNC;
	default:
		return SI_FLUSH;
	}
}

static int writer_send(struct drv *d, struct writer *w)
{
	struct standin_req rq;
	uint32_t type = wstep_type(w->step);
	bool has_region = type != SI_FLUSH;
	int r;

	req_init(d, &rq, type, has_region ? &w->region : NULL, has_region ? 8u : 0u);
	r = standin_send(d->s, &rq, &w->seq);
	w->sent_ms = now_ms();
	if (!w->busy)
		w->first_ms = w->sent_ms;
	if (r && !d->reconnect)
		return r;
	/* with --reconnect a send nobody received is resent after --resend-ms */
	w->busy = true;
	return 0;
}

/*
 * The kernel's -ESRCH reconnect (kernel-protocol.md s6): CTR with the trailing NUL until it
 * answers 0, then RESUME. Other writers' answers arriving meanwhile are dropped by
 * standin_call (counted as strays); their requests are resent afterwards.
 */
static int reconnect(struct drv *d, uint64_t deadline)
{
	struct standin_reply rep;
	int r;

	d->reconnects++;
	for (;;) {
		r = call(d, SI_CTR, d->reconnect, (uint32_t)strlen(d->reconnect) + 1, &rep, 1000);
		if (!r && rep.data_size != 0)
			return -EPROTO; /* a device name to a capacity-0 CTR: -ENOSPC forever */
		/* RESUME waits for the state transfer; a daemon killed meanwhile: start again */
		if (!r)
			r = call(d, SI_RESUME, NULL, 0, &rep, 3000);
		if (!r)
			return 0;
		if (now_ms() > deadline)
			return r;
		usleep(100 * 1000);
	}
}

/* Check one answer of writer @w and advance it; false when it broke the contract. */
static bool writer_answer(struct writer *w, const struct standin_reply *rep, struct load *st,
			  uint64_t t)
{
	uint32_t type = wstep_type(w->step);
	int res = rep->ack_only ? -(int)rep->ack : rep->error;
	bool ok = res == 0 && !rep->violation[0];

	if (rep->violation[0])
		printf("# contract violation: %s\n", rep->violation);
	if (type == SI_IN_SYNC) {
		int64_t v = -1;

		if (ok && !rep->ack_only && rep->data_size == 8)
			memcpy(&v, rep->data, 8);
		ok = v == 0 || v == 1;
		st->insyncs++;
		st->insync_zero += v == 0;
	} else if (type == SI_FLUSH) {
		uint64_t lat = t - w->first_ms;

		ok = ok && rep->data_size == 0;
		st->flushes++;
		st->sum_flush_ms += lat;
		if (lat > st->max_flush_ms)
			st->max_flush_ms = lat;
	} else {
		ok = ok && rep->data_size == 0;
		if (type == SI_MARK_REGION)
			st->marks++;
		else
			st->clears++;
	}
	if (!ok) {
		st->errors++;
		printf("not ok - writer region %" PRIu64 " step %d: error %d, %u bytes\n",
		       w->region, (int)w->step, res, rep->data_size);
	}
	if (t - w->first_ms > st->max_lat_ms)
		st->max_lat_ms = t - w->first_ms;
	w->busy = false;
	w->step = w->step == W_FLUSH2 ? W_MARK : w->step + 1;
	return ok;
}

static int cmd_load(struct drv *d, unsigned int seconds, uint64_t regions, unsigned int nw)
{
	struct writer w[DRV_MAX_WRITERS];
	struct standin_reply rep;
	struct load st;
	uint64_t start = now_ms(), last_answer, t;
	unsigned int k, busy;
	uint64_t rnd = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull ^ start;
	bool stopping = false;
	int r;

	if (nw == 0 || nw > DRV_MAX_WRITERS || regions < nw) {
		fprintf(stderr, "cluster_drv: load: 1..%d writers, at least one region each\n",
			DRV_MAX_WRITERS);
		return 1;
	}
	memset(&st, 0, sizeof(st));
	memset(w, 0, sizeof(w));
	last_answer = start;
	for (;;) {
		t = now_ms();
		busy = 0;
		if (d->stop_file && !stopping && access(d->stop_file, F_OK) == 0) {
			stopping = true;
			seconds = (unsigned int)((t - start) / 1000u);
		}
		for (k = 0; k < nw; k++) {
			if (!w[k].busy && w[k].step == W_MARK && t - start < seconds * 1000ull) {
				/* next region of this writer's residue class */
				rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
				w[k].region = ((rnd >> 33) % (regions / nw)) * nw + k;
			}
			if (!w[k].busy && (w[k].step != W_MARK || t - start < seconds * 1000ull)) {
				r = writer_send(d, &w[k]);
				if (r)
					return fail("send", r);
			}
			busy += w[k].busy;
		}
		if (!busy)
			break;
		r = standin_recv(d->s, &rep, 200);
		t = now_ms();
		if (r == -ETIMEDOUT && d->reconnect) {
			/* the kernel resends an unanswered request (new seq) */
			for (k = 0; k < nw; k++)
				if (w[k].busy && t - w[k].sent_ms > (uint64_t)d->resend_ms &&
				    t - w[k].first_ms <= (uint64_t)d->timeout_ms) {
					d->resends++;
					writer_send(d, &w[k]);
				}
		}
		if (r == -ETIMEDOUT) {
			for (k = 0; k < nw; k++)
				if (w[k].busy && t - w[k].first_ms > (uint64_t)d->timeout_ms) {
					st.timeouts++;
					printf("not ok - no answer for %" PRIu64
					       " ms (writer %u, region %" PRIu64 ", step %d)\n",
					       t - w[k].sent_ms, k, w[k].region, (int)w[k].step);
					goto out;
				}
			continue;
		}
		for (k = 0; k < nw; k++)
			if (w[k].busy && (rep.ack_only ? rep.cn_seq : rep.seq) == w[k].seq)
				break;
		if (k == nw)
			continue; /* a late duplicate: libstandin counts it */
		if (d->reconnect && (rep.ack_only ? -(int)rep.ack : rep.error) == -ESRCH) {
			/* cmlogd restarted and does not know the log: reconnect, resend all */
			r = reconnect(d, w[k].first_ms + (uint64_t)d->timeout_ms);
			if (r) {
				st.errors++;
				printf("not ok - reconnect: %d\n", r);
				goto out;
			}
			for (k = 0; k < nw; k++)
				if (w[k].busy) {
					d->resends++;
					writer_send(d, &w[k]);
				}
			continue;
		}
		if (t - last_answer > st.max_gap_ms)
			st.max_gap_ms = t - last_answer;
		last_answer = t;
		writer_answer(&w[k], &rep, &st, t);
	}
out:
	printf("%s - load: %u s, %u writers, %" PRIu64 " marks, %" PRIu64 " clears, %" PRIu64
	       " flushes, %" PRIu64 " in_sync (%" PRIu64 " answered 0), %" PRIu64
	       " errors, %" PRIu64 " timeouts; flush avg %" PRIu64 " ms max %" PRIu64
	       " ms; max_gap_ms=%" PRIu64 " max_latency_ms=%" PRIu64 "\n",
	       st.errors || st.timeouts ? "not ok" : "ok", seconds, nw, st.marks, st.clears,
	       st.flushes, st.insyncs, st.insync_zero, st.errors, st.timeouts,
	       st.flushes ? st.sum_flush_ms / st.flushes : 0, st.max_flush_ms, st.max_gap_ms,
	       st.max_lat_ms);
	if (d->reconnect)
		printf("# reconnects=%" PRIu64 " resends=%" PRIu64 "\n", d->reconnects, d->resends);
	return st.errors || st.timeouts || st.flushes == 0;
}

/* ---- dump ---------------------------------------------------------------------------------- */

/* FNV-1a 64 over one bit per region, in region order. */
static void fnv_bit(uint64_t *h, int bit)
{
	*h ^= (uint64_t)(bit & 1);
	*h *= 0x100000001b3ull;
}

/* The answers (0/1) of @type for regions [0, n), DRV_DUMP_WINDOW requests in flight. */
static int read_bits(struct drv *d, uint32_t type, uint64_t start, uint64_t n, uint8_t *out)
{
	uint32_t seqs[DRV_DUMP_WINDOW];
	uint64_t regs[DRV_DUMP_WINDOW];
	uint64_t next = 0, done = 0;
	struct standin_req rq;
	struct standin_reply rep;
	unsigned int k, inflight = 0;
	int r;

	while (done < n) {
		while (inflight < DRV_DUMP_WINDOW && next < n) {
			/* slots [0, inflight) are busy: answered ones are compacted away */
			regs[inflight] = start + next;
			req_init(d, &rq, type, &regs[inflight], 8);
			r = standin_send(d->s, &rq, &seqs[inflight]);
			if (r)
				return r;
			inflight++;
			next++;
		}
		r = standin_recv(d->s, &rep, d->timeout_ms);
		if (r)
			return r;
		for (k = 0; k < inflight; k++)
			if (rep.seq == seqs[k] && !rep.ack_only)
				break;
		if (k == inflight)
			continue;
		if (rep.error || rep.data_size != 8 || rep.violation[0])
			return -EBADMSG;
		{
			int64_t v;

			memcpy(&v, rep.data, 8);
			if (v != 0 && v != 1)
				return -EBADMSG;
			out[regs[k] - start] = (uint8_t)v;
		}
		/* compact: move the last in-flight slot into k */
		inflight--;
		seqs[k] = seqs[inflight];
		regs[k] = regs[inflight];
		done++;
	}
	return 0;
}

static int cmd_dump(struct drv *d, uint64_t n, uint64_t start)
{
	uint8_t *in_sync = calloc(n ? n : 1, 1), *clean = calloc(n ? n : 1, 1);
	uint64_t count = 0, h1 = 0xcbf29ce484222325ull, h2 = h1, ns = 0, nc = 0, i;
	int r, ret = 1;

	if (!in_sync || !clean)
		goto out;
	r = call_u64(d, SI_GET_SYNC_COUNT, NULL, 0, &count);
	if (r) {
		fail("GET_SYNC_COUNT", r);
		goto out;
	}
	r = read_bits(d, SI_IN_SYNC, start, n, in_sync);
	if (r) {
		fail("IN_SYNC sweep", r);
		goto out;
	}
	r = read_bits(d, SI_IS_CLEAN, start, n, clean);
	if (r) {
		fail("IS_CLEAN sweep", r);
		goto out;
	}
	for (i = 0; i < n; i++) {
		fnv_bit(&h1, in_sync[i]);
		fnv_bit(&h2, clean[i]);
		ns += in_sync[i];
		nc += clean[i];
	}
	printf("state sync_count=%" PRIu64 " first=%" PRIu64 " regions=%" PRIu64 " in_sync=%" PRIu64
	       " in_sync_hash=%016" PRIx64 " clean=%" PRIu64 " clean_hash=%016" PRIx64 "\n",
	       count, start, n, ns, h1, nc, h2);
	ret = 0;
out:
	free(in_sync);
	free(clean);
	return ret;
}

/* ---- resync -------------------------------------------------------------------------------- */

static int cmd_resync(struct drv *d, unsigned int seconds, uint64_t want)
{
	struct standin_reply rep;
	uint64_t start = now_ms(), count = 0, recovered = 0, srs[2], t, lat[3] = {0, 0, 0};
	uint64_t idle = 0;
	int64_t found;
	uint64_t region;
	int r;

	for (;;) {
		r = call_u64(d, SI_GET_SYNC_COUNT, NULL, 0, &count);
		if (r)
			return fail("GET_SYNC_COUNT", r);
		if (count == want)
			break;
		if (now_ms() - start > seconds * 1000ull) {
			printf("not ok - resync: GET_SYNC_COUNT %" PRIu64
			       " after %u s, want %" PRIu64 "\n",
			       count, seconds, want);
			return 1;
		}
		t = now_ms();
		r = call(d, SI_GET_RESYNC_WORK, NULL, 0, &rep, d->timeout_ms);
		lat[0] += now_ms() - t;
		if (r)
			return fail("GET_RESYNC_WORK", r);
		if (rep.ack_only || rep.data_size != 16)
			return fail("GET_RESYNC_WORK reply size", -EBADMSG);
		memcpy(&found, rep.data, 8);
		memcpy(&region, rep.data + 8, 8);
		if (found != 0 && found != 1)
			return fail("GET_RESYNC_WORK flag", -EBADMSG);
		if (!found) {
			/* handed back (a co-marking node's write in flight) or another node's turn */
			struct timespec ts = {0, 50 * 1000 * 1000};

			nanosleep(&ts, NULL);
			idle++;
			continue;
		}
		srs[0] = region;
		srs[1] = 1;
		t = now_ms();
		r = call(d, SI_SET_REGION_SYNC, srs, 16, &rep, d->timeout_ms);
		lat[1] += now_ms() - t;
		if (r)
			return fail("SET_REGION_SYNC", r);
		r = call(d, SI_CLEAR_REGION, &region, 8, &rep, d->timeout_ms);
		if (r)
			return fail("CLEAR_REGION", r);
		t = now_ms();
		r = call(d, SI_FLUSH, NULL, 0, &rep, d->timeout_ms);
		lat[2] += now_ms() - t;
		if (r)
			return fail("FLUSH after recovery", r);
		recovered++;
	}
	printf("ok - resync: %" PRIu64 " regions recovered here, GET_SYNC_COUNT %" PRIu64
	       " in %" PRIu64 " ms (total ms in GET_RESYNC_WORK %" PRIu64
	       ", SET_REGION_SYNC %" PRIu64 ", FLUSH %" PRIu64 "; %" PRIu64 " times no work)\n",
	       recovered, count, now_ms() - start, lat[0], lat[1], lat[2], idle);
	return 0;
}

static int cmd_held_flush(struct drv *d, uint64_t region)
{
	struct standin_reply rep;
	uint64_t t0;
	int r;

	printf("sent\n");
	fflush(stdout);
	t0 = now_ms();
	r = call(d, SI_MARK_REGION, &region, 8, &rep, d->timeout_ms);
	if (r)
		return fail("MARK", r);
	printf("# MARK answered 0 after %" PRIu64 " ms\n", now_ms() - t0);
	r = call(d, SI_FLUSH, NULL, 0, &rep, d->timeout_ms);
	if (r)
		return fail("held FLUSH", r);
	printf("ok - held-flush: MARK + FLUSH answered 0 after %" PRIu64 " ms\n", now_ms() - t0);
	r = call(d, SI_CLEAR_REGION, &region, 8, &rep, 5000);
	if (!r)
		r = call(d, SI_FLUSH, NULL, 0, &rep, 5000);
	return r ? fail("CLEAR + FLUSH", r) : 0;
}

/* MARK every region of "R,R,..." (or "A-B"), then FLUSH: they stay marked by this node. */
static int cmd_mark(struct drv *d, const char *list)
{
	struct standin_reply rep;
	uint64_t a, b, n = 0;
	char *end;
	int r;

	while (*list) {
		a = b = strtoull(list, &end, 10);
		if (*end == '-')
			b = strtoull(end + 1, &end, 10);
		for (; a <= b; a++, n++) {
			r = call(d, SI_MARK_REGION, &a, 8, &rep, d->timeout_ms);
			if (r)
				return fail("MARK", r);
		}
		if (*end != ',')
			break;
		list = end + 1;
	}
	r = call(d, SI_FLUSH, NULL, 0, &rep, d->timeout_ms);
	if (r)
		return fail("FLUSH", r);
	printf("ok - %" PRIu64 " regions marked and flushed\n", n);
	return 0;
}

/* ---- burst (receive-buffer overflow) ------------------------------------------------------ */

struct bsent {
	uint32_t seq;
	uint32_t req;	  /* index into the request table */
	unsigned answers; /* answers seen for this seq */
	bool dup;	  /* a deliberate same-seq duplicate was sent */
};

struct breq {
	uint32_t type;
	uint64_t region;
	bool answered;
	uint64_t last_send_ms;
	int64_t value; /* IN_SYNC / GET_SYNC_COUNT answer */
};

static int burst_send(struct drv *d, struct breq *q, uint32_t idx, struct bsent *sent,
		      size_t *n_sent, size_t cap)
{
	struct standin_req rq;
	bool has_region = q[idx].type == SI_MARK_REGION || q[idx].type == SI_IN_SYNC;
	int r;

	if (*n_sent == cap)
		return -ENOSPC;
	req_init(d, &rq, q[idx].type, has_region ? &q[idx].region : NULL, has_region ? 8u : 0u);
	r = standin_send(d->s, &rq, &sent[*n_sent].seq);
	if (r)
		return r;
	sent[*n_sent].req = idx;
	sent[*n_sent].answers = 0;
	sent[*n_sent].dup = false;
	(*n_sent)++;
	q[idx].last_send_ms = now_ms();
	return 0;
}

/* Check one answer; false when it is wrong for the request it names. */
static bool burst_answer(struct breq *q, struct bsent *sent, size_t n_sent,
			 const struct standin_reply *rep, uint64_t sync_count, uint64_t *dups)
{
	uint32_t seq = rep->ack_only ? rep->cn_seq : rep->seq;
	int res = rep->ack_only ? -(int)rep->ack : rep->error;
	struct breq *b;
	int64_t v = -1;
	size_t k;

	for (k = 0; k < n_sent && sent[k].seq != seq; k++)
		;
	if (k == n_sent) {
		printf("not ok - an answer to seq %u, which we never sent\n", seq);
		return false;
	}
	b = &q[sent[k].req];
	if (++sent[k].answers > 1 + (sent[k].dup ? 1u : 0u)) {
		printf("not ok - seq %u answered %u times\n", seq, sent[k].answers);
		return false;
	}
	if (sent[k].answers > 1)
		(*dups)++;
	if (rep->violation[0] || (!rep->ack_only && rep->type != b->type) || res != 0) {
		printf("not ok - seq %u (%s): error %d type %u%s%s\n", seq,
		       standin_type_name(b->type), res, rep->ack_only ? 0 : rep->type,
		       rep->violation[0] ? ": " : "", rep->violation);
		return false;
	}
	if (b->type == SI_IN_SYNC || b->type == SI_GET_SYNC_COUNT) {
		if (rep->ack_only || rep->data_size != 8) {
			printf("not ok - seq %u (%s): %u bytes\n", seq, standin_type_name(b->type),
			       rep->data_size);
			return false;
		}
		memcpy(&v, rep->data, 8);
		if ((b->type == SI_IN_SYNC && v != 0 && v != 1) ||
		    (b->type == SI_GET_SYNC_COUNT && (uint64_t)v != sync_count) ||
		    (b->answered && v != b->value)) {
			printf("not ok - seq %u (%s): value %" PRId64 "\n", seq,
			       standin_type_name(b->type), v);
			return false;
		}
		b->value = v;
	} else if (rep->data_size != 0) {
		printf("not ok - seq %u (%s): %u bytes of data\n", seq, standin_type_name(b->type),
		       rep->data_size);
		return false;
	}
	b->answered = true;
	return true;
}

static int cmd_burst(struct drv *d, uint32_t n, int resend_ms)
{
	struct standin_reply rep;
	struct breq *q = NULL;
	struct bsent *sent = NULL;
	size_t n_sent = 0, cap = (size_t)n * 8 + 64, k;
	uint64_t sync_count = 0, start, t, resends = 0, dups = 0, answers = 0;
	uint32_t i, left, ndup = 0;
	int r, ret = 1;

	if (n < 4 || resend_ms <= 0) {
		fprintf(stderr, "cluster_drv: burst: N >= 4, RESEND_MS > 0\n");
		return 1;
	}
	r = call_u64(d, SI_GET_SYNC_COUNT, NULL, 0, &sync_count);
	if (r)
		return fail("GET_SYNC_COUNT", r);
	q = calloc(n, sizeof(*q));
	sent = calloc(cap, sizeof(*sent));
	if (!q || !sent)
		goto out;
	for (i = 0; i < n; i++) {
		static const uint32_t types[] = {SI_MARK_REGION, SI_IN_SYNC, SI_GET_SYNC_COUNT,
						 SI_FLUSH};

		q[i].type = types[i % 4];
		q[i].region = i / 4;
	}
	start = now_ms();
	/* a stopped cmlogd cannot drain its socket: the overflow does not depend on timing */
	if (d->stop_pid > 0 && kill(d->stop_pid, SIGSTOP)) {
		fail("SIGSTOP", -errno);
		goto out;
	}
	for (i = 0; i < n; i++) {
		r = burst_send(d, q, i, sent, &n_sent, cap);
		if (r) {
			fail("send", r);
			if (d->stop_pid > 0)
				kill(d->stop_pid, SIGCONT);
			goto out;
		}
		/* keep our own receive queue short; cmlogd's is what overflows */
		while (i % 64 == 63 && standin_recv(d->s, &rep, 1) == 0) {
			answers++;
			if (!burst_answer(q, sent, n_sent, &rep, sync_count, &dups))
				goto out;
		}
	}
	if (d->stop_pid > 0 && kill(d->stop_pid, SIGCONT)) {
		fail("SIGCONT", -errno);
		goto out;
	}
	printf("# burst: %u requests sent in %" PRIu64 " ms\n", n, now_ms() - start);
	for (;;) {
		for (i = 0, left = 0; i < n; i++)
			left += !q[i].answered;
		if (!left)
			break;
		t = now_ms();
		if (t - start > (uint64_t)d->timeout_ms) {
			printf("not ok - %u requests unanswered after %d ms\n", left,
			       d->timeout_ms);
			goto out;
		}
		r = standin_recv(d->s, &rep, 50);
		if (r == 0) {
			answers++;
			if (!burst_answer(q, sent, n_sent, &rep, sync_count, &dups))
				goto out;
			continue;
		}
		/* the kernel resends what was not answered in time, with a new seq */
		for (i = 0; i < n; i++)
			if (!q[i].answered && t - q[i].last_send_ms > (uint64_t)resend_ms) {
				r = burst_send(d, q, i, sent, &n_sent, cap);
				if (r) {
					fail("resend", r);
					goto out;
				}
				resends++;
			}
	}
	/* same-seq duplicates of answered requests: at most one more, consistent answer */
	for (k = 0; k < n_sent && ndup < 10; k++)
		if (sent[k].answers == 1 && k % 7 == 0) {
			struct standin_req rq;
			uint8_t frame[SI_MAX_FRAME];
			struct breq *b = &q[sent[k].req];
			bool has_region = b->type == SI_MARK_REGION || b->type == SI_IN_SYNC;
			int len;

			req_init(d, &rq, b->type, has_region ? &b->region : NULL,
				 has_region ? 8u : 0u);
			len = standin_build(&rq, sent[k].seq, frame, sizeof(frame));
			if (len < 0 || standin_send_raw(d->s, frame, (size_t)len)) {
				fail("duplicate", len < 0 ? len : -EIO);
				goto out;
			}
			sent[k].dup = true;
			ndup++;
		}
	/* late answers (resent requests whose first copy was only slow, the duplicates) */
	t = now_ms();
	while (now_ms() - t < 1500)
		if (standin_recv(d->s, &rep, 100) == 0) {
			answers++;
			if (!burst_answer(q, sent, n_sent, &rep, sync_count, &dups))
				goto out;
		}
	{
		struct standin_counters c;

		standin_get_counters(d->s, &c);
		if (c.violations) {
			printf("not ok - %" PRIu64 " answers the kernel would drop: %s\n",
			       c.violations, c.last_violation);
			goto out;
		}
	}
	printf("ok - burst: %u requests, %" PRIu64 " resends (new seq), %u same-seq duplicates, "
	       "%" PRIu64 " answers, %" PRIu64 " second answers, all matching their request\n",
	       n, resends, ndup, answers, dups);
	ret = 0;
out:
	free(q);
	free(sent);
	return ret;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: cluster_drv --uuid U --luid L [--timeout-ms N] [--stop-file F]\n"
		"                   [--reconnect CTR [--resend-ms N]] [--stop-pid P] CMD [ARGS]\n"
		"  activate CTR | load SECONDS REGIONS WRITERS | dump N [FIRST] |\n"
		"  resync SECONDS COUNT | held-flush REGION | mark R[,R|A-B...] | sync-count |\n"
		"  burst N RESEND_MS\n");
}

int main(int argc, char **argv)
{
	struct standin_cfg cfg = {0};
	struct drv d = {.timeout_ms = 10000, .resend_ms = 1000};
	char why[256];
	const char *cmd;
	uint64_t v;
	int i, ret = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--uuid"))
			d.uuid = argv[i + 1];
		else if (!strcmp(argv[i], "--luid"))
			d.luid = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--timeout-ms"))
			d.timeout_ms = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--stop-file"))
			d.stop_file = argv[i + 1];
		else if (!strcmp(argv[i], "--reconnect"))
			d.reconnect = argv[i + 1];
		else if (!strcmp(argv[i], "--resend-ms"))
			d.resend_ms = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--stop-pid"))
			d.stop_pid = atoi(argv[i + 1]);
		else
			break;
	}
	if (!d.uuid || i >= argc || d.timeout_ms <= 0) {
		usage();
		return 1;
	}
	cmd = argv[i++];
	if (standin_netns_check(why, sizeof(why))) {
		fprintf(stderr, "cluster_drv: refusing to run: %s\n", why);
		return 2;
	}
	cfg.timeout_ms = d.timeout_ms;
	cfg.rcvbuf = 16 << 20; /* burst: our queue must never be the one that overflows */
	if (standin_open(&d.s, &cfg)) {
		fprintf(stderr, "cluster_drv: cannot open the netlink socket\n");
		return 1;
	}
	if (!strcmp(cmd, "activate") && argc - i == 1) {
		ret = cmd_activate(&d, argv[i]);
	} else if (!strcmp(cmd, "load") && argc - i == 3) {
		ret = cmd_load(&d, (unsigned int)atoi(argv[i]), strtoull(argv[i + 1], NULL, 0),
			       (unsigned int)atoi(argv[i + 2]));
	} else if (!strcmp(cmd, "dump") && (argc - i == 1 || argc - i == 2)) {
		ret = cmd_dump(&d, strtoull(argv[i], NULL, 0),
			       argc - i == 2 ? strtoull(argv[i + 1], NULL, 0) : 0);
	} else if (!strcmp(cmd, "resync") && argc - i == 2) {
		ret = cmd_resync(&d, (unsigned int)atoi(argv[i]), strtoull(argv[i + 1], NULL, 0));
	} else if (!strcmp(cmd, "held-flush") && argc - i == 1) {
		ret = cmd_held_flush(&d, strtoull(argv[i], NULL, 0));
	} else if (!strcmp(cmd, "mark") && argc - i == 1) {
		ret = cmd_mark(&d, argv[i]);
	} else if (!strcmp(cmd, "burst") && argc - i == 2) {
		ret = cmd_burst(&d, (uint32_t)strtoul(argv[i], NULL, 0), atoi(argv[i + 1]));
	} else if (!strcmp(cmd, "sync-count") && argc - i == 0) {
		ret = call_u64(&d, SI_GET_SYNC_COUNT, NULL, 0, &v);
		if (ret)
			ret = fail("GET_SYNC_COUNT", ret);
		else
			printf("%" PRIu64 "\n", v);
	} else {
		usage();
	}
	standin_close(d.s);
	return ret;
}
