/*
 * group.c: one mirror log's replicated protocol (cluster/group.h): routing of kernel
 * requests, group commit, application of ordered deliveries, replies, the disk writer.
 * The membership barrier and state transfer live in group_sync.c.
 *
 * Invariants kept here (invariants.md):
 *   rule 2  IS_REMOTE_RECOVERING is answered from the ordered stream when the group has more
 *           than one member;
 *   rule 3  IN_SYNC / IS_CLEAN are answered from the replica, which is safe because of rule 2;
 *   rule 4  a FLUSH is answered only when every mark it covers is committed: core = its
 *           commit delivered back to us; disk = durable_gen covers the commit's generation;
 *   rule 7  the kernel's report that it finished a recovery granted by a replica this node
 *           has dropped since never puts the region in sync in the new state (another node
 *           may be copying it there): it is answered locally (stale_recovery_done), unless
 *           the new state gives that recovery back to this node (group_sync.c);
 *   rule 9  nothing here reads a clock, a random source or iterates in pointer order: the
 *           state changes only at agreed deliveries, in delivery order.
 * Every request is answered exactly once: each token lives in exactly one of the lists
 * (held, inflight, waiters, resume, postsuspend) until its reply.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/group_impl.h"
#include "wire.h"

/* ---- small containers ----------------------------------------------------------------- */

int darray_grow(void **v, size_t *cap, size_t elem)
{
	size_t ncap = *cap ? *cap * 2 : 8;
	void *nv = realloc(*v, ncap * elem);

	if (!nv)
		return 1;
	*v = nv;
	*cap = ncap;
	return 0;
}

void darray_del(void *v, size_t *n, size_t elem, size_t i)
{
	uint8_t *b = v;

	if (i + 1 < *n)
		memmove(b + i * elem, b + (i + 1) * elem, (*n - i - 1) * elem);
	(*n)--;
}

static size_t rset_pos(const struct rset *s, uint64_t x)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool rset_has(const struct rset *s, uint64_t x)
{
	size_t i = rset_pos(s, x);

	return i < s->n && s->v[i] == x;
}

int rset_add(struct rset *s, uint64_t x)
{
	size_t i = rset_pos(s, x);

	if (i < s->n && s->v[i] == x)
		return 0;
	if (s->n == s->cap && darray_grow((void **)&s->v, &s->cap, sizeof(*s->v)))
		return -ENOMEM;
	memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof(*s->v));
	s->v[i] = x;
	s->n++;
	return 0;
}

bool rset_del(struct rset *s, uint64_t x)
{
	size_t i = rset_pos(s, x);

	if (i >= s->n || s->v[i] != x)
		return false;
	darray_del(s->v, &s->n, sizeof(*s->v), i);
	return true;
}

static void rset_drop_front(struct rset *s, size_t k)
{
	if (k == 0)
		return;
	memmove(s->v, s->v + k, (s->n - k) * sizeof(*s->v));
	s->n -= k;
}

/* ---- helpers -------------------------------------------------------------------------- */

static void event(struct group *g, enum group_event ev, uint64_t arg)
{
	if (g->ops.event)
		g->ops.event(g->ctx, ev, arg);
}

static void reply(struct group *g, uint64_t token, int error, int64_t value, uint64_t value2)
{
	struct group_reply r = {.error = error, .value = value, .value2 = value2};

	g->ops.reply(g->ctx, token, &r);
}

bool group_is_member(const struct group *g, uint32_t node)
{
	uint32_t i;

	for (i = 0; i < g->n_members; i++)
		if (g->members[i] == node)
			return true;
	return false;
}

/* State-changing messages leave only from a synced, quorate member outside a barrier. */
static bool can_send_data(const struct group *g)
{
	return g->synced && !g->stale && g->quorate && g->transport_up && !g->in_barrier &&
	       !g->receiving;
}

/* Answers may be given only from a settled replica (not while a barrier may drop it). */
static bool settled(const struct group *g)
{
	return g->synced && !g->in_barrier && !g->receiving;
}

static void hdr(struct group *g, struct cmsg *m, uint16_t type)
{
	/* STATE must be understood by every member, whatever it supports: the lowest version */
	m->version = (uint16_t)(type == CMSG_STATE || type == CMSG_EXCLUDE ? GROUP_PROTO_VERSION_MIN
									   : g->version);
	m->type = type;
	m->nodeid = g->me;
	m->seq = ++g->seq;
}

/* Encode @m into a new ctrl-queue entry (sent before data by group_pump). */
int group_queue_ctrl(struct group *g, struct cmsg *m)
{
	struct outmsg o = {.type = m->type};
	size_t len;

	hdr(g, m, m->type);
	if (cmsg_encode(m, NULL, g->tx, CMSG_MAX_SIZE, &len))
		return -EINVAL;
	o.buf = malloc(len);
	if (!o.buf)
		return -ENOMEM;
	memcpy(o.buf, g->tx, len);
	o.len = len;
	if (DARRAY_PUSH(g->ctrl, o)) {
		free(o.buf);
		return -ENOMEM;
	}
	/* The buffer now belongs to g->ctrl (cppcheck does not follow DARRAY_PUSH). */
	/* cppcheck-suppress memleak */
	return 0;
}

/* ---- create / destroy ----------------------------------------------------------------- */

int group_create(struct group **out, const struct group_params *p, const struct group_ops *ops,
		 void *ctx)
{
	struct group *g;
	int ret;

	if (!out || !p || !ops || !ops->send || !ops->reply || p->my_nodeid == 0 ||
	    p->region_count == 0 || p->region_count > RLOG_MAX_REGIONS ||
	    (p->type != GROUP_LOG_CORE && p->type != GROUP_LOG_DISK) ||
	    memchr(p->uuid, 0, sizeof(p->uuid)) == NULL)
		return -EINVAL;
	if (p->type == GROUP_LOG_DISK &&
	    (!ops->disk_write || p->block_size < 512 || (p->block_size & (p->block_size - 1))))
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->p = *p;
	g->ops = *ops;
	g->ctx = ctx;
	g->me = p->my_nodeid;
	g->quorate = true;
	g->transport_up = true;
	g->max_version = GROUP_PROTO_VERSION_MAX;
	g->version = GROUP_PROTO_VERSION_MIN;
	g->tx = malloc(CMSG_MAX_SIZE);
	g->chunk = malloc(CMSG_SNAP_MAX_BYTES);
	ret = -ENOMEM;
	if (!g->tx || !g->chunk)
		goto fail;
	ret = rlog_create(&g->rl, p->region_count, p->sync_mode);
	if (ret)
		goto fail;
	*out = g;
	return 0;
fail:
	group_destroy(g);
	return ret;
}

void group_destroy(struct group *g)
{
	size_t i;

	if (!g)
		return;
	sync_reset(g);
	for (i = 0; i < g->ctrl.n; i++)
		free(g->ctrl.v[i].buf);
	free(g->ctrl.v);
	free(g->queued.v);
	free(g->queued_from.v);
	free(g->my_marks.v);
	free(g->pend_marks.v);
	free(g->pend_clears.v);
	free(g->al.v);
	free(g->lru.v);
	free(g->sent_clears.v);
	free(g->waiters.v);
	free(g->held.v);
	free(g->inflight.v);
	free(g->resume_tokens.v);
	free(g->postsuspend_tokens.v);
	free(g->disk_buf);
	free(g->start_clean);
	free(g->start_sync);
	free(g->tx);
	free(g->chunk);
	rlog_destroy(g->rl);
	free(g);
}

int group_start(struct group *g, const uint8_t *clean, uint64_t clean_regions)
{
	free(g->start_clean);
	g->start_clean = NULL;
	g->start_regions = 0;
	if (clean && clean_regions) {
		size_t bytes = (size_t)((clean_regions + 7) / 8);

		g->start_clean = malloc(bytes);
		if (!g->start_clean)
			return -ENOMEM;
		memcpy(g->start_clean, clean, bytes);
		g->start_regions = clean_regions;
	}
	g->started = true;
	return 0;
}

int group_start_sync(struct group *g, const uint8_t *sync, uint64_t sync_regions)
{
	free(g->start_sync);
	g->start_sync = NULL;
	g->start_sync_regions = 0;
	if (sync && sync_regions) {
		size_t bytes = (size_t)((sync_regions + 7) / 8);

		g->start_sync = malloc(bytes);
		if (!g->start_sync)
			return -ENOMEM;
		memcpy(g->start_sync, sync, bytes);
		g->start_sync_regions = sync_regions;
	}
	return 0;
}

/* ---- answering ------------------------------------------------------------------------ */

static bool commits_outstanding(const struct group *g)
{
	return g->commit_queued || g->pend_marks.n || g->pend_clears.n || g->al.n ||
	       g->commit_sent != g->commit_deliv || g->waiters.n;
}

/* The durable generation this node may rely on: the writer knows its own write is done. */
static uint64_t durable_for_me(const struct group *g)
{
	if (g->writer == g->me && g->written_gen > g->durable_gen)
		return g->written_gen;
	return g->durable_gen;
}

/*
 * Disk logs: the generation of our last delivered commit is durable (or the device failed),
 * so the clears that left at POSTSUSPEND are on the log device when the kernel is told the
 * suspend is done, and the next activation does not resync those regions.
 */
static bool own_durable(const struct group *g)
{
	return g->p.type != GROUP_LOG_DISK || g->disk_failed || g->write_failed ||
	       durable_for_me(g) >= g->own_gen;
}

/** Answer everything whose condition now holds (only from a settled replica). */
static void answer_ready(struct group *g)
{
	uint64_t ar = 0;
	uint32_t an = 0;
	bool blocked;
	size_t i;

	if (!settled(g))
		return;
	/*
	 * A FLUSH answer lets the kernel write the marked regions on every leg. If another node
	 * is recovering one of them (it went out of sync while our mark was on its way: a leg
	 * failure elsewhere, rule 3's window), hold the FLUSHes until that recovery is reported,
	 * so the write never races the copy.
	 */
	blocked = rlog_assignment(g->rl, &ar, &an) && an != g->me && rset_has(&g->my_marks, ar);
	for (i = 0; i < g->inflight.n;) {
		struct inflight *f = &g->inflight.v[i];

		if (!f->delivered) {
			i++;
			continue;
		}
		{
			uint64_t token = f->req.token;
			struct group_reply r = f->reply;

			if (f->req.type == GROUP_REQ_GET_RESYNC_WORK && !r.error && r.value) {
				g->krec = true;
				g->krec_region = r.value2;
				g->krec_lineage = g->lineage;
				g->krec_report = 0;
			} else if (g->krec && token == g->krec_report) {
				g->krec = false;
			}
			darray_del(g->inflight.v, &g->inflight.n, sizeof(*f), i);
			g->ops.reply(g->ctx, token, &r);
		}
	}
	for (i = 0; i < g->waiters.n;) {
		struct waiter *w = &g->waiters.v[i];
		int err = 1;

		if (w->stage == FLUSH_DURABLE && !blocked) {
			if (g->p.type == GROUP_LOG_CORE || durable_for_me(g) >= w->need_gen)
				err = 0;
			else if (g->disk_failed)
				err = -EIO;
		}
		if (err == 1) {
			i++;
			continue;
		}
		{
			uint64_t token = w->token;

			darray_del(g->waiters.v, &g->waiters.n, sizeof(*w), i);
			reply(g, token, err, 0, 0);
		}
	}
	while (g->resume_tokens.n) {
		uint64_t token = g->resume_tokens.v[0];

		darray_del(g->resume_tokens.v, &g->resume_tokens.n, sizeof(token), 0);
		reply(g, token, 0, 0, 0);
	}
	/*
	 * POSTSUSPEND: nothing of ours outstanding, and no write of ours in flight: the daemon
	 * leaves the group next, and an old write landing after the new writer's full write
	 * would put an older bitmap on the device.
	 */
	if (g->postsuspend_tokens.n && !commits_outstanding(g) && !g->held.n && !g->inflight.n &&
	    !g->disk_busy && own_durable(g)) {
		while (g->postsuspend_tokens.n) {
			uint64_t token = g->postsuspend_tokens.v[0];

			darray_del(g->postsuspend_tokens.v, &g->postsuspend_tokens.n, sizeof(token),
				   0);
			reply(g, token, 0, 0, 0);
		}
		g->postsuspending = false;
	}
}

/* ---- local requests ------------------------------------------------------------------- */

/* ---- the activity set (deferred clears, see "Hot regions" in group.h) -------------------- */

/*
 * The activity set is a hash of regions (Fibonacci hashing, linear probing): a MARK and a
 * CLEAR of a hot region cost O(1), whatever the set's size. Its slot order is never visible
 * outside: clears leave through pend_clears, which is sorted.
 */
static size_t al_home(const struct group *g, uint64_t r)
{
	return (size_t)((r * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - g->al.bits));
}

/* Slot of @r, or al.cap when it is not in the set. */
static size_t al_find(const struct group *g, uint64_t r)
{
	size_t i, mask = g->al.cap - 1;

	if (!g->al.n)
		return g->al.cap;
	for (i = al_home(g, r); g->al.v[i].key; i = (i + 1) & mask)
		if (g->al.v[i].key == r + 1)
			return i;
	return g->al.cap;
}

/* Place @e in a free slot (the region is not in the set, and the table has room). */
static void al_place(struct group *g, const struct al_entry *e)
{
	size_t i, mask = g->al.cap - 1;

	for (i = al_home(g, e->key - 1); g->al.v[i].key; i = (i + 1) & mask)
		;
	g->al.v[i] = *e;
	g->al.n++;
}

/* A table of 2^@bits slots holding the entries of the current one that @keep selects. */
static int al_rebuild(struct group *g, unsigned bits,
		      bool (*keep)(const struct group *g, const struct al_entry *e, int arg),
		      int arg)
{
	struct al_entry *old = g->al.v;
	size_t i, ocap = g->al.cap;

	g->al.v = calloc((size_t)1 << bits, sizeof(*old));
	if (!g->al.v) {
		g->al.v = old;
		return -ENOMEM;
	}
	g->al.cap = (size_t)1 << bits;
	g->al.bits = bits;
	g->al.n = 0;
	for (i = 0; i < ocap; i++)
		if (old[i].key && (!keep || keep(g, &old[i], arg)))
			al_place(g, &old[i]);
	free(old);
	return 0;
}

/* Empty slot @i, moving later entries of its probe run back (no tombstones). */
static void al_del_at(struct group *g, size_t i)
{
	size_t j = i, k, mask = g->al.cap - 1;

	for (;;) {
		j = (j + 1) & mask;
		if (!g->al.v[j].key)
			break;
		k = al_home(g, g->al.v[j].key - 1);
		/* the entry at j may move to i only if its home is not cyclically in (i, j] */
		if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
			g->al.v[i] = g->al.v[j];
			i = j;
		}
	}
	g->al.v[i].key = 0;
	g->al.n--;
}

static bool al_del(struct group *g, uint64_t r)
{
	size_t i = al_find(g, r);

	if (i >= g->al.cap)
		return false;
	al_del_at(g, i);
	return true;
}

/* Slot in al of the live entry @l stands for, or al.cap when it is stale. */
static size_t lru_live(const struct group *g, const struct al_lru *l)
{
	size_t i = al_find(g, l->region);

	return i < g->al.cap && g->al.v[i].seq == l->seq ? i : g->al.cap;
}

/*
 * Keep the LRU list short: consumed entries go, and when stale entries (regions written
 * again, or released) outnumber live ones, only the live ones are kept. Amortized O(log n)
 * per deferral.
 */
static void lru_compact(struct group *g)
{
	size_t i, k = 0, live = g->lru.n - g->lru_head;

	if (!g->al.n) {
		g->lru.n = g->lru_head = 0;
		return;
	}
	if (live > 2 * g->al.n + 64) {
		for (i = g->lru_head; i < g->lru.n; i++)
			if (lru_live(g, &g->lru.v[i]) < g->al.cap)
				g->lru.v[k++] = g->lru.v[i];
		g->lru.n = k;
		g->lru_head = 0;
	} else if (g->lru_head > 64 && g->lru_head * 2 > g->lru.n) {
		memmove(g->lru.v, g->lru.v + g->lru_head, live * sizeof(g->lru.v[0]));
		g->lru.n = live;
		g->lru_head = 0;
	}
}

/* Slot @i leaves the set: its clear goes with the next commit. */
static void al_release(struct group *g, size_t i)
{
	rset_add(&g->pend_clears, g->al.v[i].key - 1);
	al_del_at(g, i);
}

/*
 * The bound: beyond GROUP_AL_MAX the least recently written regions leave (before a new
 * region enters, so the table never grows beyond 2 * GROUP_AL_MAX slots). Their clears ride
 * with the next commit (a new region's mark usually follows at once) or leave at the next
 * tick on their own (group_tick).
 */
static void al_evict(struct group *g, size_t limit)
{
	while (g->al.n > limit && g->lru_head < g->lru.n) {
		size_t i = lru_live(g, &g->lru.v[g->lru_head++]);

		if (i < g->al.cap)
			al_release(g, i);
	}
}

/* Defer the clear of @r (or refresh its age); -ENOMEM sends it with the next commit. */
static void al_add(struct group *g, uint64_t r)
{
	struct al_entry e = {.key = r + 1, .seq = ++g->al_seq, .since_ms = g->now_ms};
	struct al_lru l = {.region = r, .seq = e.seq};
	size_t i = al_find(g, r);

	lru_compact(g);
	if (i < g->al.cap) {
		if (DARRAY_PUSH(g->lru, l))
			goto fail;
		g->al.v[i] = e;
		return;
	}
	if (g->al.n >= GROUP_AL_MAX)
		al_evict(g, GROUP_AL_MAX - 1);
	/* at most half full: short probe runs */
	if ((g->al.n + 1) * 2 > g->al.cap && al_rebuild(g, g->al.cap ? g->al.bits + 1 : 6, NULL, 0))
		goto fail;
	if (DARRAY_PUSH(g->lru, l))
		goto fail;
	al_place(g, &e);
	return;
fail:
	/* without its entries it could never leave by age or bound: send it instead */
	al_del(g, r);
	rset_add(&g->pend_clears, r);
}

enum al_which { AL_ALL, AL_AGED, AL_UNSYNCED };

static bool al_leaves(const struct group *g, const struct al_entry *e, int which)
{
	bool b = true;

	switch (which) {
	case AL_AGED:
		return g->now_ms >= e->since_ms + GROUP_AL_IDLE_MS;
	case AL_UNSYNCED:
		rlog_in_sync(g->rl, e->key - 1, &b);
		return !b;
	default:
		return true;
	}
}

static bool al_stays(const struct group *g, const struct al_entry *e, int which)
{
	return !al_leaves(g, e, which);
}

/*
 * The entries @which selects leave the set: their clears go with the next commit, queued
 * now. O(table size); called per tick and at rare events.
 *   AL_ALL      POSTSUSPEND, a member left;
 *   AL_AGED     deferred for GROUP_AL_IDLE_MS (group_tick);
 *   AL_UNSYNCED regions out of sync: rlog never hands out for resync a region another member
 *               still marks, so keeping them would only stall that resync.
 */
static void al_release_some(struct group *g, enum al_which which)
{
	size_t i, n = 0;

	for (i = 0; i < g->al.cap; i++)
		if (g->al.v[i].key && al_leaves(g, &g->al.v[i], which)) {
			rset_add(&g->pend_clears, g->al.v[i].key - 1);
			n++;
		}
	if (n == g->al.n) {
		if (g->al.cap)
			memset(g->al.v, 0, g->al.cap * sizeof(g->al.v[0]));
		g->al.n = 0;
	} else if (n && al_rebuild(g, g->al.bits, al_stays, which)) {
		/* no memory for the smaller table: delete one by one (the clears are queued) */
		for (i = 0; i < g->al.cap;)
			if (g->al.v[i].key && rset_has(&g->pend_clears, g->al.v[i].key - 1))
				al_del_at(g, i); /* a later entry may have moved into i */
			else
				i++;
	}
	if (g->pend_clears.n)
		g->commit_queued = true;
}

static bool clear_in_flight(const struct group *g, uint64_t r)
{
	size_t i;

	for (i = 0; i < g->sent_clears.n; i++)
		if (g->sent_clears.v[i].region == r)
			return true;
	return false;
}

/* ---- local requests ------------------------------------------------------------------- */

static void local_mark(struct group *g, uint64_t r)
{
	rset_add(&g->my_marks, r);
	/* a deferred clear of this region, or one not yet sent, is cancelled */
	al_del(g, r);
	rset_del(&g->pend_clears, r);
	/*
	 * No message when the replicated state already holds our mark and no clear of ours that
	 * would remove it is on its way (the commit with our mark was delivered, so the mark is
	 * committed; disk logs still wait for the durable generation at the FLUSH). Not from a
	 * stale replica: a quorate side may have moved on (a master resume there drops the
	 * mark), so the mark is committed again in whatever state this member gets.
	 */
	if (settled(g) && !g->stale && g->quorate && rlog_node_marked(g->rl, g->me, r) &&
	    !clear_in_flight(g, r))
		return;
	rset_add(&g->pend_marks, r);
	/*
	 * Eager commit, for a log written by one writer at a time: the mark leaves in this loop
	 * pass instead of with the FLUSH that follows it. The kernel sends MARK and FLUSH as two
	 * synchronous requests, so the agreed delivery then overlaps the FLUSH's round trip, and
	 * the FLUSH waits for a commit already sent (flush_arrive). Only when nothing of ours is
	 * in flight, no FLUSH waits, and our last commit with marks completed at most one FLUSH:
	 * with several writers, marks wait for their FLUSHes and share one commit (group commit;
	 * eager commits there cost throughput, BENCHMARKS.md).
	 */
	if (g->commit_deliv == g->commit_sent && !g->waiters.n && g->last_batch <= 1)
		g->commit_queued = true;
}

static void local_clear(struct group *g, uint64_t r)
{
	rset_del(&g->my_marks, r);
	rset_del(&g->pend_marks, r);
	if (g->postsuspending) {
		/* nothing of ours outlives the activation */
		rset_add(&g->pend_clears, r);
		g->commit_queued = true;
		return;
	}
	al_add(g, r);
}

static bool unsent_waiter(const struct group *g)
{
	size_t i;

	for (i = 0; i < g->waiters.n; i++)
		if (g->waiters.v[i].stage == FLUSH_UNSENT)
			return true;
	return false;
}

static void add_waiter(struct group *g, uint64_t token, enum flush_stage st, uint64_t commit_id,
		       uint64_t need_gen)
{
	struct waiter w = {
		.token = token, .stage = st, .commit_id = commit_id, .need_gen = need_gen};

	if (DARRAY_PUSH(g->waiters, w))
		reply(g, token, -ENOMEM, 0, 0);
}

/*
 * A FLUSH covers every mark the kernel sent before it: those in pend_marks, those in own
 * commits sent (up to marks_sent) and those the replica already held at the MARK. Commits
 * that carry only clears do not delay it.
 */
static void flush_arrive(struct group *g, uint64_t token)
{
	if (g->pend_marks.n || unsent_waiter(g)) {
		/* group commit: join the one unsent commit */
		g->commit_queued = true;
		add_waiter(g, token, FLUSH_UNSENT, 0, 0);
	} else if (g->commit_deliv < g->marks_sent) {
		/* nothing new: complete once the commits with earlier marks have */
		add_waiter(g, token, FLUSH_SENT, g->marks_sent, 0);
	} else if (g->p.type == GROUP_LOG_DISK && g->synced) {
		add_waiter(g, token, FLUSH_DURABLE, 0, g->gen);
	} else {
		/* nothing of ours is uncommitted (marks are re-sent after any state loss) */
		reply(g, token, 0, 0, 0);
	}
}

static bool regions_ok(const struct group *g, const struct group_req *req)
{
	uint32_t i;

	if (req->n_regions > RLOG_MAX_BATCH)
		return false;
	for (i = 0; i < req->n_regions; i++)
		if (req->regions[i] >= g->p.region_count)
			return false;
	return true;
}

/*
 * The kernel finished copying a region whose recovery a replica granted that this node has
 * dropped since (total loss of quorum, lost merge, lost transport). In the current state
 * another node may hold that recovery, or writes may have gone to the region's primary leg
 * only while we copied: reporting it in sync could let writers use every leg while the
 * other node's copy runs, or keep a stale copy. Answer the kernel without a message: the
 * region stays out of sync and is recovered again (rule 1 keeps writers waiting meanwhile).
 */
static void stale_recovery_done(struct group *g, uint64_t token)
{
	g->krec = false;
	reply(g, token, 0, 0, 0);
}

static void hold(struct group *g, const struct group_req *req)
{
	if (DARRAY_PUSH(g->held, *req))
		reply(g, req->token, -ENOMEM, 0, 0);
}

void group_request(struct group *g, const struct group_req *req)
{
	bool b = false;
	uint32_t i;

	switch (req->type) {
	case GROUP_REQ_IS_CLEAN:
	case GROUP_REQ_IN_SYNC:
	case GROUP_REQ_SET_REGION_SYNC:
	case GROUP_REQ_IS_REMOTE_RECOVERING:
		if (req->region >= g->p.region_count) {
			reply(g, req->token, -EINVAL, 0, 0);
			return;
		}
		break;
	case GROUP_REQ_MARK:
	case GROUP_REQ_CLEAR:
	case GROUP_REQ_FLUSH:
		if (!regions_ok(g, req)) {
			reply(g, req->token, -EINVAL, 0, 0);
			return;
		}
		break;
	default:
		break;
	}

	switch (req->type) {
	case GROUP_REQ_IS_CLEAN:
		/* local replica: the kernel asked the ordered IS_REMOTE_RECOVERING first (rule 3) */
		rlog_is_clean(g->rl, req->region, &b);
		reply(g, req->token, 0, b, 0);
		break;
	case GROUP_REQ_IN_SYNC:
		/* exactly 0 or 1, never failed for a known log (rule 3) */
		rlog_in_sync(g->rl, req->region, &b);
		reply(g, req->token, 0, b, 0);
		break;
	case GROUP_REQ_GET_SYNC_COUNT:
		/* exact count of the replica; see the header comment for why local is safe */
		reply(g, req->token, 0, 0, rlog_sync_count(g->rl));
		break;
	case GROUP_REQ_MARK:
		for (i = 0; i < req->n_regions; i++)
			local_mark(g, req->regions[i]);
		reply(g, req->token, 0, 0, 0);
		break;
	case GROUP_REQ_CLEAR:
		for (i = 0; i < req->n_regions; i++)
			local_clear(g, req->regions[i]);
		reply(g, req->token, 0, 0, 0);
		break;
	case GROUP_REQ_FLUSH:
		for (i = 0; i < req->n_regions; i++)
			local_mark(g, req->regions[i]);
		flush_arrive(g, req->token);
		break;
	case GROUP_REQ_IS_REMOTE_RECOVERING:
		/*
		 * With exactly one member no other node can be recovering anything, and the
		 * local region hash keeps local recovery and local writes apart (invariants.md
		 * rule 1): answer locally, recovering = 0 with the exact hint. Only when nothing
		 * of ours is waiting in the order, so the answer sees every earlier request.
		 */
		if (can_send_data(g) && g->n_members == 1 && g->members[0] == g->me && !g->held.n &&
		    !g->inflight.n) {
			bool rec = false;
			uint64_t hint = 0;

			rlog_is_remote_recovering(g->rl, g->me, req->region, false, &rec, &hint);
			reply(g, req->token, 0, rec, hint);
			break;
		}
		hold(g, req);
		break;
	case GROUP_REQ_SET_REGION_SYNC:
		if (g->krec && req->region == g->krec_region) {
			/* the kernel reports the end of its recovery */
			if (req->in_sync && g->krec_lineage != g->lineage) {
				stale_recovery_done(g, req->token);
				break;
			}
			g->krec_report = req->token;
		}
		hold(g, req);
		break;
	case GROUP_REQ_GET_RESYNC_WORK:
		hold(g, req);
		break;
	case GROUP_REQ_RESUME:
		if (DARRAY_PUSH(g->resume_tokens, req->token))
			reply(g, req->token, -ENOMEM, 0, 0);
		break;
	case GROUP_REQ_POSTSUSPEND:
		g->postsuspending = true;
		al_release_some(g, AL_ALL);
		if (DARRAY_PUSH(g->postsuspend_tokens, req->token))
			reply(g, req->token, -ENOMEM, 0, 0);
		break;
	default:
		reply(g, req->token, -EINVAL, 0, 0);
		return;
	}
	answer_ready(g);
}

/* ---- ordered application -------------------------------------------------------------- */

static bool commit_regions_ok(const struct group *g, const struct cmsg_commit *c)
{
	uint32_t i;

	for (i = 0; i < c->n_marks + c->n_clears; i++)
		if (c->regions[i] >= g->p.region_count)
			return false;
	return true;
}

/*
 * Apply a delivered commit's marks or clears. The errors the state machine can give here
 * (-ENOSPC past RLOG_MAX_NODES markers) are the same on every member; only -ENOMEM is ours
 * alone, and then this replica no longer equals the others: sync_apply_failed. False then.
 */
static bool apply_batches(struct group *g, uint32_t node, const uint64_t *v, uint32_t n, bool mark)
{
	uint32_t i, k;
	int ret;

	for (i = 0; i < n; i += k) {
		k = n - i > RLOG_MAX_BATCH ? RLOG_MAX_BATCH : n - i;
		ret = mark ? rlog_mark(g->rl, node, v + i, k) : rlog_clear(g->rl, node, v + i, k);
		if (ret == -ENOMEM) {
			sync_apply_failed(g);
			return false;
		}
	}
	return true;
}

static struct inflight *find_inflight(struct group *g, uint64_t token, enum group_req_type type)
{
	size_t i;

	for (i = 0; i < g->inflight.n; i++)
		if (g->inflight.v[i].req.token == token && g->inflight.v[i].req.type == type &&
		    !g->inflight.v[i].delivered)
			return &g->inflight.v[i];
	return NULL;
}

static void own_result(struct group *g, uint64_t token, enum group_req_type type, int error,
		       int64_t value, uint64_t value2)
{
	struct inflight *f = find_inflight(g, token, type);

	if (!f)
		return; /* a copy from before a state loss: the re-driven request answers */
	f->delivered = true;
	f->reply.error = error;
	f->reply.value = value;
	f->reply.value2 = value2;
}

static void bad(struct group *g, uint32_t sender)
{
	g->bad_messages++;
	event(g, GROUP_EV_BAD_MESSAGE, sender);
}

/*
 * Writer handover (group.h "Writer"). TAKEOVER changes nothing replicated: only the writer it
 * names acts on it, and only while the sender is still the preferred writer and our disk
 * works; from then on this writer starts no new write (maybe_write) and sends HANDOVER once
 * its write in flight is done (handover_due).
 */
static void on_takeover(struct group *g, uint32_t sender, uint32_t writer)
{
	if (g->p.type != GROUP_LOG_DISK || writer != g->me || g->writer != g->me ||
	    sender == g->me || g->handing_to || g->disk_failed || g->write_failed ||
	    g->preferred_writer != sender)
		return;
	g->handing_to = sender;
}

/*
 * HANDOVER from the current writer naming a current member: every member that applies it
 * makes that member the writer at this point of the order (the same on every member: the
 * writer is replicated, the membership agreed). The new writer writes the whole bitmap and
 * announces it durable (group_became_writer), which completes the FLUSHes that wait on a
 * generation the old writer did not write. Anything else is a handover overtaken by a
 * membership change: ignored everywhere.
 */
static void on_handover(struct group *g, uint32_t sender, uint32_t to)
{
	if (sender == g->me)
		group_handover_reset(g);
	if (g->p.type != GROUP_LOG_DISK || sender != g->writer || to == sender ||
	    !group_is_member(g, to))
		return;
	g->writer = to;
	if (to == g->me)
		group_became_writer(g);
	else
		event(g, GROUP_EV_WRITER, to);
}

void group_handover_reset(struct group *g)
{
	g->handing_to = 0;
	g->handover_queued = false;
	g->takeover_asked = 0;
}

/* The preferred writer asks the writer to hand over (once per configuration and writer). */
static bool takeover_due(const struct group *g)
{
	return g->p.type == GROUP_LOG_DISK && g->version >= 3 && can_send_data(g) && g->writer &&
	       g->writer != g->me && g->takeover_asked != g->writer && !g->disk_failed &&
	       group_is_member(g, g->writer) && g->preferred_writer == g->me;
}

/* The writer that was asked hands over once no write of its own is in flight. */
static bool handover_due(const struct group *g)
{
	return g->handing_to && !g->handover_queued && !g->disk_busy && settled(g) &&
	       g->writer == g->me && g->transport_up;
}

static void writer_move(struct group *g)
{
	struct cmsg m;

	if (takeover_due(g)) {
		m.type = CMSG_TAKEOVER;
		m.u.writer = g->writer;
		if (group_queue_ctrl(g, &m) == 0)
			g->takeover_asked = g->writer;
	}
	if (handover_due(g)) {
		if (!group_is_member(g, g->handing_to)) {
			g->handing_to = 0; /* it left: keep writing */
			return;
		}
		m.type = CMSG_HANDOVER;
		m.u.writer = g->handing_to;
		if (group_queue_ctrl(g, &m) == 0)
			g->handover_queued = true;
	}
}

/** Apply one validated message of the order to the replica (this member is synced). */
void group_apply(struct group *g, uint32_t sender, const struct cmsg *m)
{
	const struct cmsg_commit *c;
	bool found = false, rec = false;
	uint64_t region = 0, hint = 0;
	size_t i, n_done;

	switch (m->type) {
	case CMSG_COMMIT:
		c = &m->u.commit;
		if (!commit_regions_ok(g, c)) {
			bad(g, sender);
			return;
		}
		if (!apply_batches(g, sender, c->regions, c->n_marks, true) ||
		    !apply_batches(g, sender, c->regions + c->n_marks, c->n_clears, false))
			return; /* excluded ourselves: nothing more is answered from this replica */
		/*
		 * Every commit that changes the bitmap is a new generation, clears included:
		 * otherwise clear-only commits (deferred clears, the clears after a resync, the
		 * last ones before POSTSUSPEND) never reach the disk and every region written in
		 * an activation is resynced again at the next one (found by the e2e interop
		 * test). Like the kernel's disk log, a FLUSH that carried clears is answered
		 * once they are written.
		 */
		if ((c->n_marks || c->n_clears) && g->p.type == GROUP_LOG_DISK)
			g->gen++;
		if (sender != g->me)
			break;
		if (c->commit_id > g->commit_deliv)
			g->commit_deliv = c->commit_id;
		g->own_gen = g->gen;
		for (i = 0; i < g->sent_clears.n && g->sent_clears.v[i].commit_id <= c->commit_id;)
			i++;
		if (i) {
			memmove(g->sent_clears.v, g->sent_clears.v + i,
				(g->sent_clears.n - i) * sizeof(g->sent_clears.v[0]));
			g->sent_clears.n -= i;
		}
		n_done = 0;
		for (i = 0; i < g->waiters.n; i++) {
			struct waiter *w = &g->waiters.v[i];

			if (w->stage == FLUSH_SENT && w->commit_id <= c->commit_id) {
				w->stage = FLUSH_DURABLE;
				w->need_gen = g->gen;
				n_done++;
			}
		}
		if (c->n_marks)
			g->last_batch = n_done;
		break;
	case CMSG_RESYNC_REQ:
		/* rlog never hands out a region another member still marks (log/rlog.h). */
		rlog_get_resync_work(g->rl, sender, &region, &found);
		/* another node looks for work: our deferred marks must not stall it */
		if (sender != g->me && g->al.n)
			al_release_some(g, AL_UNSYNCED);
		if (sender == g->me)
			own_result(g, m->u.req.req_id, GROUP_REQ_GET_RESYNC_WORK, 0, found,
				   found ? region : 0);
		break;
	case CMSG_SET_SYNC:
		if (m->u.req.region >= g->p.region_count) {
			bad(g, sender);
			return;
		}
		rlog_set_region_sync(g->rl, sender, m->u.req.region, m->u.req.in_sync);
		if (sender == g->me)
			own_result(g, m->u.req.req_id, GROUP_REQ_SET_REGION_SYNC, 0, 0, 0);
		break;
	case CMSG_REMOTE_REC:
		if (m->u.req.region >= g->p.region_count) {
			bad(g, sender);
			return;
		}
		rlog_is_remote_recovering(g->rl, sender, m->u.req.region, g->n_members > 1, &rec,
					  &hint);
		if (sender == g->me)
			own_result(g, m->u.req.req_id, GROUP_REQ_IS_REMOTE_RECOVERING, 0, rec,
				   hint);
		break;
	case CMSG_DURABLE:
		/* only the writer's, and never beyond what this replica committed */
		if (sender != g->writer || m->u.gen > g->gen) {
			bad(g, sender);
			return;
		}
		if (m->u.gen > g->durable_gen)
			g->durable_gen = m->u.gen;
		break;
	case CMSG_DISK_FAILED:
		if (!g->disk_failed)
			event(g, GROUP_EV_DISK_FAILED, m->u.gen);
		g->disk_failed = true;
		break;
	case CMSG_TAKEOVER:
		on_takeover(g, sender, m->u.writer);
		break;
	case CMSG_HANDOVER:
		on_handover(g, sender, m->u.writer);
		break;
	default:
		break;
	}
}

void group_deliver(struct group *g, uint32_t sender, const void *buf, size_t len)
{
	int err;

	if (!g->transport_up || !group_is_member(g, g->me))
		return;
	/* an incompatible member's messages, or the one that makes it one (group_sync.c) */
	if (sync_filter(g, sender, buf, len)) {
		answer_ready(g);
		return;
	}
	err = cmsg_decode(&g->rx, buf, len, sender, GROUP_PROTO_VERSION_MIN,
			  (uint16_t)g->max_version);
	if (err != CMSG_OK) {
		bad(g, sender);
		return;
	}
	switch (g->rx.type) {
	case CMSG_STATE:
		sync_on_state(g, sender, &g->rx);
		break;
	case CMSG_EXCLUDE:
		sync_on_exclude(g, sender, &g->rx);
		break;
	case CMSG_SNAP:
		sync_on_snap(g, sender, &g->rx);
		break;
	case CMSG_MARKS:
		sync_on_marks(g, sender, &g->rx);
		break;
	default:
		if (sync_maybe_queue(g, sender, buf, len))
			return;
		if (g->synced)
			group_apply(g, sender, &g->rx);
		/* unsynced and not receiving: the snapshot taken at the barrier covers it */
		break;
	}
	answer_ready(g);
}

/* ---- state loss: everything of ours goes back to be driven again ------------------------ */

void group_revert_local(struct group *g)
{
	size_t i;
	DARRAY(struct group_req) h = {0};

	g->lineage++;
	/* requests in flight go back in front of the held ones, in their original order */
	for (i = 0; i < g->inflight.n; i++)
		if (DARRAY_PUSH(h, g->inflight.v[i].req))
			reply(g, g->inflight.v[i].req.token, -ENOMEM, 0, 0);
	for (i = 0; i < g->held.n; i++)
		if (DARRAY_PUSH(h, g->held.v[i]))
			reply(g, g->held.v[i].token, -ENOMEM, 0, 0);
	free(g->held.v);
	g->held.v = h.v;
	g->held.n = h.n;
	g->held.cap = h.cap;
	g->inflight.n = 0;
	/*
	 * The kernel's report of a recovery the dropped replica granted (see
	 * stale_recovery_done); a failed recovery (not in sync) is right in any state.
	 */
	for (i = 0; g->krec && g->krec_report && i < g->held.n; i++)
		if (g->held.v[i].token == g->krec_report) {
			uint64_t token = g->held.v[i].token;

			if (!g->held.v[i].in_sync)
				break;
			darray_del(g->held.v, &g->held.n, sizeof(g->held.v[0]), i);
			stale_recovery_done(g, token);
			break;
		}
	/* FLUSHes not yet answered wait for a commit in the new state */
	for (i = 0; i < g->waiters.n; i++) {
		g->waiters.v[i].stage = FLUSH_UNSENT;
		g->commit_queued = true;
	}
	/* the kernel still holds these marks: commit them again in whatever state we get */
	for (i = 0; i < g->my_marks.n; i++)
		rset_add(&g->pend_marks, g->my_marks.v[i]);
	/* clears that may be lost with the replica leave again (unless marked again since) */
	for (i = 0; i < g->sent_clears.n; i++)
		if (!rset_has(&g->my_marks, g->sent_clears.v[i].region))
			rset_add(&g->pend_clears, g->sent_clears.v[i].region);
	g->sent_clears.n = 0;
	if (g->pend_marks.n || g->pend_clears.n)
		g->commit_queued = true;
	g->commit_deliv = g->commit_sent;
	g->own_gen = 0; /* a generation of the dropped replica; the commits sent again set it */
}

void group_became_writer(struct group *g)
{
	g->need_full_write = true;
	event(g, GROUP_EV_WRITER, g->me);
}

/* ---- sending -------------------------------------------------------------------------- */

static int send_raw(struct group *g, const uint8_t *buf, size_t len)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};

	return g->ops.send(g->ctx, &iov, 1);
}

/* Returns 0, -EAGAIN or another -errno (transport gone). */
static int send_ctrl(struct group *g)
{
	while (g->ctrl.n) {
		int ret = send_raw(g, g->ctrl.v[0].buf, g->ctrl.v[0].len);

		if (ret)
			return ret;
		free(g->ctrl.v[0].buf);
		darray_del(g->ctrl.v, &g->ctrl.n, sizeof(g->ctrl.v[0]), 0);
		if (!g->ctrl.n)
			sync_pump(g); /* next snapshot chunk, if any */
	}
	return 0;
}

static int send_request(struct group *g, const struct group_req *req)
{
	struct cmsg m;
	struct inflight f = {.req = *req};
	size_t len;
	int ret;

	memset(&m.u, 0, sizeof(m.u.req));
	m.u.req.req_id = req->token;
	m.u.req.region = req->region;
	m.u.req.in_sync = req->in_sync;
	switch (req->type) {
	case GROUP_REQ_GET_RESYNC_WORK:
		m.type = CMSG_RESYNC_REQ;
		break;
	case GROUP_REQ_SET_REGION_SYNC:
		m.type = CMSG_SET_SYNC;
		break;
	default:
		m.type = CMSG_REMOTE_REC;
		break;
	}
	hdr(g, &m, m.type);
	if (cmsg_encode(&m, NULL, g->tx, CMSG_MAX_SIZE, &len))
		return -EINVAL;
	ret = send_raw(g, g->tx, len);
	if (ret) {
		g->seq--;
		return ret;
	}
	if (DARRAY_PUSH(g->inflight, f))
		return -ENOMEM;
	return 0;
}

/* One commit message: up to CMSG_COMMIT_MAX_REGIONS marks, then clears. */
static int send_commit(struct group *g)
{
	uint32_t nm, nc, room = CMSG_COMMIT_MAX_REGIONS;
	uint64_t *stage;
	struct cmsg m;
	size_t len, i;
	int ret;

	nm = g->pend_marks.n < room ? (uint32_t)g->pend_marks.n : room;
	room -= nm;
	nc = g->pend_clears.n < room ? (uint32_t)g->pend_clears.n : room;
	if (!nm && !nc && !unsent_waiter(g)) {
		/* what was queued was cancelled (a MARK took back a clear): nothing to send */
		g->commit_queued = false;
		return 0;
	}
	/* every clear sent is recorded (a MARK of it needs a message until it is delivered) */
	while (g->sent_clears.cap - g->sent_clears.n < nc)
		if (darray_grow((void **)&g->sent_clears.v, &g->sent_clears.cap,
				sizeof(g->sent_clears.v[0])))
			return -ENOMEM;
	stage = malloc(((size_t)nm + nc + 1) * sizeof(uint64_t));
	if (!stage)
		return -ENOMEM;
	for (i = 0; i < nm; i++)
		stage[i] = g->pend_marks.v[i];
	for (i = 0; i < nc; i++)
		stage[nm + i] = g->pend_clears.v[i];
	m.type = CMSG_COMMIT;
	m.u.commit.commit_id = g->commit_sent + 1;
	m.u.commit.n_marks = nm;
	m.u.commit.n_clears = nc;
	hdr(g, &m, CMSG_COMMIT);
	ret = cmsg_encode(&m, stage, g->tx, CMSG_MAX_SIZE, &len);
	free(stage);
	if (ret)
		return ret;
	ret = send_raw(g, g->tx, len);
	if (ret) {
		g->seq--;
		return ret;
	}
	g->commit_sent++;
	g->commits_sent++;
	if (nm)
		g->marks_sent = g->commit_sent;
	for (i = 0; i < nc; i++) {
		struct sent_clear sc = {.region = g->pend_clears.v[i], .commit_id = g->commit_sent};

		g->sent_clears.v[g->sent_clears.n++] = sc; /* room reserved above */
	}
	rset_drop_front(&g->pend_marks, nm);
	rset_drop_front(&g->pend_clears, nc);
	if (!g->pend_marks.n) {
		for (i = 0; i < g->waiters.n; i++)
			if (g->waiters.v[i].stage == FLUSH_UNSENT) {
				g->waiters.v[i].stage = FLUSH_SENT;
				g->waiters.v[i].commit_id = g->commit_sent;
			}
	}
	if (!g->pend_marks.n && !g->pend_clears.n)
		g->commit_queued = false;
	return 0;
}

/* ---- the disk writer ------------------------------------------------------------------- */

static void maybe_write(struct group *g)
{
	uint64_t off = 0, len = 0, start, end, size, bm_bytes, s, e;
	uint32_t bs = g->p.block_size;
	struct wire_wr w;
	bool full;
	int ret;

	if (g->p.type != GROUP_LOG_DISK || !settled(g) || g->stale || g->writer != g->me ||
	    !g->quorate || !g->transport_up || g->disk_busy || g->disk_failed || g->write_failed ||
	    g->handing_to)
		return;
	if (!g->need_full_write && g->gen <= g->written_gen)
		return;
	full = g->need_full_write;
	if (full)
		rlog_disk_mark_all_dirty(g->rl);
	g->need_full_write = false;
	g->write_gen = g->gen;
	rlog_disk_take_dirty(g->rl, &off, &len);
	if (!len) {
		/* the bitmap on disk already holds every bit of this generation */
		struct cmsg m;

		g->written_gen = g->write_gen;
		m.type = CMSG_DURABLE;
		m.u.gen = g->write_gen;
		group_queue_ctrl(g, &m);
		answer_ready(g);
		return;
	}
	size = rlog_disk_size(g->p.region_count, bs);
	bm_bytes = (g->p.region_count + 7) / 8;
	if (!g->disk_buf) {
		g->disk_buf = aligned_alloc(bs, (size_t)size);
		if (!g->disk_buf)
			goto failed;
		g->disk_buf_len = (size_t)size;
	}
	start = RLOG_DISK_BITMAP_OFFSET + off;
	end = RLOG_DISK_BITMAP_OFFSET + off + len;
	/* a full write (new writer, resume) rewrites the header block too */
	start = full ? 0 : start & ~(uint64_t)(bs - 1);
	end = (end + bs - 1) & ~(uint64_t)(bs - 1);
	if (end > size)
		end = size;
	memset(g->disk_buf + start, 0, (size_t)(end - start));
	if (start < RLOG_DISK_HEADER_SIZE) {
		wire_wr_init(&w, g->disk_buf, RLOG_DISK_HEADER_SIZE);
		wire_put_le32(&w, RLOG_DISK_MAGIC);
		wire_put_le32(&w, RLOG_DISK_VERSION);
		wire_put_le64(&w, g->p.region_count);
	}
	s = start > RLOG_DISK_BITMAP_OFFSET ? start - RLOG_DISK_BITMAP_OFFSET : 0;
	e = end - RLOG_DISK_BITMAP_OFFSET;
	if (e > bm_bytes)
		e = bm_bytes;
	if (e > s && rlog_disk_bitmap_read(g->rl, s, g->disk_buf + RLOG_DISK_BITMAP_OFFSET + s,
					   (size_t)(e - s)))
		goto failed;
	g->disk_busy = true;
	ret = g->ops.disk_write(g->ctx, ++g->write_cookie, g->disk_buf + start, start,
				(size_t)(end - start));
	if (ret) {
		g->disk_busy = false;
		goto failed;
	}
	return;
failed : {
	struct cmsg m;

	g->write_failed = true;
	m.type = CMSG_DISK_FAILED;
	m.u.gen = g->write_gen;
	group_queue_ctrl(g, &m);
}
}

void group_disk_done(struct group *g, uint64_t cookie, int error)
{
	struct cmsg m;

	if (!g->disk_busy || cookie != g->write_cookie)
		return;
	g->disk_busy = false;
	if (g->write_stale) {
		/* generations of a dropped replica mean nothing in the current one */
		g->write_stale = false;
		return;
	}
	if (g->writer != g->me || !g->synced || g->stale)
		return; /* no longer ours: the current writer rewrote everything */
	m.type = error ? CMSG_DISK_FAILED : CMSG_DURABLE;
	m.u.gen = g->write_gen;
	if (!error)
		g->written_gen = g->write_gen;
	else
		g->write_failed = true; /* the dirty range is spent: never claim it later */
	/* during a barrier the replica may still be dropped: announce after it (decide) */
	if (!g->in_barrier)
		group_queue_ctrl(g, &m);
	answer_ready(g);
}

/* ---- pump, tick, status ----------------------------------------------------------------- */

void group_pump(struct group *g)
{
	int ret = 0;

	if (!g->transport_up)
		return;
	sync_pump(g);
	writer_move(g);
	ret = send_ctrl(g);
	if (ret == 0 && can_send_data(g)) {
		while (g->held.n) {
			ret = send_request(g, &g->held.v[0]);
			if (ret)
				break;
			darray_del(g->held.v, &g->held.n, sizeof(g->held.v[0]), 0);
		}
		while (ret == 0 && g->commit_queued)
			ret = send_commit(g);
	}
	if (ret && ret != -EAGAIN) {
		group_transport_lost(g);
		return;
	}
	maybe_write(g);
	if (ret == 0 && g->ctrl.n)
		send_ctrl(g);
	answer_ready(g);
}

void group_tick(struct group *g, uint64_t now_ms)
{
	g->now_ms = now_ms;
	/* aged clears and those the bound evicted leave now, without waiting for other traffic */
	al_release_some(g, AL_AGED);
	sync_tick(g);
	group_pump(g);
}

bool group_wants_pump(const struct group *g)
{
	if (!g->transport_up)
		return false;
	if (g->ctrl.n || g->sending)
		return true;
	if (can_send_data(g) && (g->held.n || g->commit_queued))
		return true;
	if (takeover_due(g) || handover_due(g))
		return true;
	return g->p.type == GROUP_LOG_DISK && settled(g) && !g->stale && g->writer == g->me &&
	       !g->disk_busy && !g->disk_failed && !g->write_failed && g->quorate &&
	       !g->handing_to && (g->need_full_write || g->gen > g->written_gen);
}

void group_set_quorate(struct group *g, bool quorate)
{
	bool was = g->quorate;

	g->quorate = quorate;
	/*
	 * A replica that lost quorum may miss what a quorate side serves from now on: it keeps
	 * answering local reads but never again wins a barrier (no stale state overwrites the
	 * side that served; see the header, "Membership"). So may a replica still being
	 * received: its source's state is as of the barrier point, and a quorate side may
	 * serve from here on.
	 */
	if (!quorate && (g->synced || g->receiving))
		g->stale = true;
	/*
	 * An undecided barrier waits for members to report quorum again; a stale or stateless
	 * member starts a new round (a STATE outside a barrier opens one at its delivery).
	 */
	if (quorate && !was && g->n_members &&
	    (g->in_barrier || g->stale || (!g->synced && !g->receiving))) {
		if (!g->in_barrier) {
			g->at_cc_synced = false;
			g->at_cc_gen = g->at_cc_digest = g->at_cc_epoch = 0;
		}
		sync_send_state(g);
	}
}

void group_transport_lost(struct group *g)
{
	size_t i;

	if (!g->transport_up)
		return;
	g->transport_up = false;
	if (g->synced)
		event(g, GROUP_EV_STATE_DROPPED, g->me);
	g->synced = false;
	sync_reset(g);
	group_revert_local(g);
	if (g->disk_busy)
		g->write_stale = true;
	g->write_failed = false;
	for (i = 0; i < g->ctrl.n; i++)
		free(g->ctrl.v[i].buf);
	g->ctrl.n = 0;
	g->n_members = 0;
	/* a new CPG session joins as a new member: it learns exclusions again (EXCLUDE) */
	g->n_excl = 0;
	g->preferred_writer = 0;
}

void group_transport_restored(struct group *g)
{
	g->transport_up = true;
}

void group_presuspend(struct group *g)
{
	g->presuspended = true;
}

void group_get_status(const struct group *g, struct group_status *st)
{
	memset(st, 0, sizeof(*st));
	st->synced = g->synced;
	st->quorate = g->quorate;
	st->transport_up = g->transport_up;
	st->disk_failed = g->disk_failed;
	st->settling = g->in_barrier || g->receiving;
	st->epoch = g->epoch;
	st->writer = g->p.type == GROUP_LOG_DISK ? g->writer : 0;
	st->version = g->version;
	st->n_members = g->n_members;
	memcpy(st->members, g->members, g->n_members * sizeof(g->members[0]));
	st->gen = g->gen;
	st->durable_gen = g->durable_gen;
	st->pending_requests = g->held.n + g->inflight.n + g->waiters.n + g->resume_tokens.n +
			       g->postsuspend_tokens.n;
	st->bad_messages = g->bad_messages;
	st->commits_sent = g->commits_sent;
	st->n_excluded = g->n_excl;
	memcpy(st->excluded, g->excl, g->n_excl * sizeof(g->excl[0]));
	st->al_regions = g->al.n;
}

void group_set_max_version(struct group *g, uint32_t v)
{
	g->max_version = v < GROUP_PROTO_VERSION_MIN ? GROUP_PROTO_VERSION_MIN : v;
}

const struct rlog *group_rlog(const struct group *g)
{
	return g->rl;
}

void group_confchg(struct group *g, const uint32_t *members, size_t n_members, const uint32_t *left,
		   size_t n_left, const uint32_t *joined, size_t n_joined)
{
	size_t i;

	if (!g->transport_up)
		return;
	for (i = 0; i < n_joined; i++)
		event(g, GROUP_EV_NODE_JOINED, joined[i]);
	sync_confchg(g, members, n_members, left, n_left);
	/*
	 * A member left: its marked regions are out of sync now and rlog hands none of them out
	 * while we still mark it, so our deferred clears leave at once (after the barrier).
	 */
	if (n_left)
		al_release_some(g, AL_ALL);
	answer_ready(g);
}
