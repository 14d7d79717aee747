/*
 * group_sync.c: the membership barrier and state transfer of a group (cluster/group.h,
 * "Membership and state transfer").
 *
 * Invariants kept here:
 *   - the barrier point is the delivery of the last STATE of the current member list, the
 *     same point in the agreed order on every member, and every decision taken there uses
 *     only what those STATE messages carry, so every member decides the same;
 *   - a snapshot is a frozen copy (rlog_clone) taken at the barrier point; a receiver queues
 *     every delivery after that point and applies the queue after the last chunk, so its
 *     replica equals the sender's (rule 9);
 *   - no stateful merge: members outside the chosen group drop their state and receive;
 *   - only states of quorate members may win, and the highest epoch wins first, so a stale
 *     side of a healed partition can never overwrite the side that served;
 *   - a master resume keeps what the members' live kernels have in flight: the marks and the
 *     recovery each member carried in its MARKS before its STATE are applied to the resumed
 *     replica before it is frozen for the snapshot (group.h "Fencing").
 *   - a member is marked incompatible only at a delivery (its foreign message, or an EXCLUDE)
 *     and only by rules that read the delivered bytes and the state every member shares at
 *     that point (member list, who sent a valid STATE since the confchg): a local timer only
 *     proposes (EXCLUDE{SILENT}), so every member excludes the same node at the same point.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/group_impl.h"
#include "wire.h"

static void event(struct group *g, enum group_event ev, uint64_t arg)
{
	if (g->ops.event)
		g->ops.event(g->ctx, ev, arg);
}

/* FNV-1a 32 of the uuid: a fixed hash, so every node picks the same writer. */
static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s) {
		h ^= (uint8_t)*s++;
		h *= 16777619u;
	}
	return h;
}

static void drop_state(struct group *g);
static void open_round(struct group *g, uint32_t trigger);
static void decide(struct group *g);
static void drop_ctrl_type(struct group *g, uint16_t type);
static void stop_sending(struct group *g);
static void stop_receiving(struct group *g);

/* ---- incompatible members (group.h "Incompatible members") ------------------------------ */

static bool is_excluded(const struct group *g, uint32_t node)
{
	uint32_t i;

	for (i = 0; i < g->n_excl; i++)
		if (g->excl[i] == node)
			return true;
	return false;
}

/* Version 3: the writer's preferred place (group.h "Writer"), after a membership change. */
static void update_preferred_writer(struct group *g)
{
	uint32_t set[GROUP_MAX_MEMBERS], i, k = 0;

	for (i = 0; i < g->n_members; i++)
		if (!is_excluded(g, g->members[i]))
			set[k++] = g->members[i]; /* members are sorted */
	g->preferred_writer = k ? set[fnv1a(g->p.uuid) % k] : 0;
}

static uint32_t member_index(const struct group *g, uint32_t node)
{
	uint32_t i;

	for (i = 0; i < g->n_members; i++)
		if (g->members[i] == node)
			return i;
	return UINT32_MAX;
}

/*
 * An excluded member counts as a present, quorate, stateless member that limits nothing: the
 * barrier does not wait for it, it never wins, never writes, never lowers the version.
 */
static void neutral_state(struct group *g, uint32_t i)
{
	memset(&g->ms[i].st, 0, sizeof(g->ms[i].st));
	g->ms[i].have = true;
	g->ms[i].seq = 0;
	g->ms[i].st.quorate = true;
	g->ms[i].st.max_version = UINT32_MAX;
}

static bool barrier_complete(const struct group *g)
{
	uint32_t i;

	for (i = 0; i < g->n_members; i++)
		if (!g->ms[i].have)
			return false;
	return true;
}

/* Tell members that joined after the marking message whom we excluded (before our STATE). */
static void send_exclude(struct group *g)
{
	struct cmsg m;

	drop_ctrl_type(g, CMSG_EXCLUDE);
	if (!g->n_excl)
		return;
	memset(&m.u.excl, 0, sizeof(m.u.excl));
	m.type = CMSG_EXCLUDE;
	m.u.excl.flags = 0;
	m.u.excl.n_members = g->n_members;
	memcpy(m.u.excl.members, g->members, g->n_members * sizeof(uint32_t));
	m.u.excl.n_excluded = g->n_excl;
	memcpy(m.u.excl.excluded, g->excl, g->n_excl * sizeof(uint32_t));
	group_queue_ctrl(g, &m);
}

/*
 * Mark @node incompatible at this point of the order. Every member delivers the same message
 * here and judges it with the same rules, so every member marks the same node at the same
 * point; no timer is involved.
 */
static void mark_incompatible(struct group *g, uint32_t node, uint32_t version, uint32_t reason)
{
	uint32_t idx = member_index(g, node), i;

	if (idx == UINT32_MAX || is_excluded(g, node))
		return;
	for (i = g->n_excl; i > 0 && g->excl[i - 1] > node; i--)
		g->excl[i] = g->excl[i - 1];
	g->excl[i] = node;
	g->n_excl++;
	update_preferred_writer(g);
	event(g, GROUP_EV_INCOMPATIBLE,
	      node | (uint64_t)(version & 0xffffu) << 32 | (uint64_t)(reason & 0xffu) << 48);
	if (node == g->me) {
		/* the others no longer count us: hold everything until we leave the group */
		stop_sending(g);
		stop_receiving(g);
		drop_state(g);
		g->in_barrier = false;
		drop_ctrl_type(g, CMSG_STATE);
		drop_ctrl_type(g, CMSG_SNAP);
		drop_ctrl_type(g, CMSG_EXCLUDE);
		return;
	}
	if (is_excluded(g, g->me))
		return;
	if (!g->in_barrier) {
		/* it may have been in the synced set or the writer: decide again without it */
		open_round(g, 0);
		return;
	}
	neutral_state(g, idx);
	if (barrier_complete(g))
		decide(g);
}

/*
 * The others applied an ordered change that this member could not (out of memory), so this
 * replica differs from theirs and must answer nothing more. That is our own exclusion: hold
 * everything (mark_incompatible), and the daemon leaves and joins again as a new member,
 * which takes a state transfer; meanwhile the others see us leave and resync our regions.
 */
void sync_apply_failed(struct group *g)
{
	mark_incompatible(g, g->me, 0xffff, GROUP_INCOMPAT_LOCAL);
}

bool sync_filter(struct group *g, uint32_t sender, const void *buf, size_t len)
{
	struct wire_rd r;
	uint32_t magic = 0, nodeid = 0, reason = 0, idx;
	uint16_t version = 0xffff, type = 0;

	if (is_excluded(g, sender)) {
		g->bad_messages++;
		event(g, GROUP_EV_BAD_MESSAGE, sender);
		return true;
	}
	if (len < CMSG_HDR_SIZE) {
		reason = GROUP_INCOMPAT_SHORT;
	} else {
		wire_rd_init(&r, buf, len);
		wire_get_le32(&r, &magic);
		wire_get_le16(&r, &version);
		wire_get_le16(&r, &type);
		wire_get_le32(&r, &nodeid);
		if (magic != CMSG_MAGIC)
			reason = GROUP_INCOMPAT_MAGIC;
		else if (nodeid != sender)
			reason = GROUP_INCOMPAT_SENDER;
		else if (version < GROUP_PROTO_VERSION_MIN ||
			 ((type == CMSG_STATE || type == CMSG_EXCLUDE) && version > g->max_version))
			reason = GROUP_INCOMPAT_VERSION;
		else if (type == CMSG_STATE &&
			 cmsg_decode(&g->rx, buf, len, sender, GROUP_PROTO_VERSION_MIN,
				     (uint16_t)g->max_version) != CMSG_OK)
			reason = GROUP_INCOMPAT_STATE;
	}
	if (!reason)
		return false;
	g->bad_messages++;
	event(g, GROUP_EV_BAD_MESSAGE, sender);
	/*
	 * A member that sent a valid STATE since the last confchg is a cmlogd of ours: what else
	 * arrives under its node id (another process of that node, cpg.c merges them) is
	 * dropped, and the member stays.
	 */
	idx = member_index(g, sender);
	if (idx != UINT32_MAX && !g->spoke[idx])
		mark_incompatible(g, sender, version, reason);
	return true;
}

void sync_on_exclude(struct group *g, uint32_t sender, const struct cmsg *m)
{
	const struct cmsg_exclude *x = &m->u.excl;
	uint32_t i, idx;
	bool silent = x->flags & CMSG_EXCLUDE_SILENT;

	/* only for the membership it was sent in (the list of the confchg it answers) */
	if (x->n_members != g->n_members ||
	    memcmp(x->members, g->members, g->n_members * sizeof(uint32_t)))
		return;
	(void)sender;
	for (i = 0; i < x->n_excluded; i++) {
		idx = member_index(g, x->excluded[i]);
		/* silent: a STATE delivered before this point wins over the sender's timer */
		if (silent && idx != UINT32_MAX && g->spoke[idx])
			continue;
		mark_incompatible(g, x->excluded[i], 0xffff,
				  silent ? GROUP_INCOMPAT_SILENT : GROUP_INCOMPAT_PEER);
	}
}

void sync_tick(struct group *g)
{
	struct cmsg m;
	uint32_t i, me = member_index(g, g->me);

	if (!g->in_barrier || g->silent_sent)
		return;
	if (!g->round_ms) {
		g->round_ms = g->now_ms ? g->now_ms : 1;
		return;
	}
	/* only a member whose own STATE is in proposes: its clock ran in this round */
	if (me == UINT32_MAX || !g->spoke[me] || is_excluded(g, g->me) ||
	    g->now_ms - g->round_ms < GROUP_SILENT_MS)
		return;
	memset(&m.u.excl, 0, sizeof(m.u.excl));
	m.type = CMSG_EXCLUDE;
	m.u.excl.flags = CMSG_EXCLUDE_SILENT;
	m.u.excl.n_members = g->n_members;
	memcpy(m.u.excl.members, g->members, g->n_members * sizeof(uint32_t));
	for (i = 0; i < g->n_members; i++)
		if (!g->ms[i].have)
			m.u.excl.excluded[m.u.excl.n_excluded++] = g->members[i];
	if (!m.u.excl.n_excluded)
		return;
	g->silent_sent = true;
	group_queue_ctrl(g, &m);
}

static void stop_sending(struct group *g)
{
	if (g->enc)
		rlog_snapshot_end(g->enc);
	g->enc = NULL;
	rlog_destroy(g->frozen);
	g->frozen = NULL;
	g->sending = false;
}

static void stop_receiving(struct group *g)
{
	size_t i;

	if (g->dec)
		rlog_snapshot_dec_free(g->dec);
	g->dec = NULL;
	for (i = 0; i < g->queued.n; i++)
		free(g->queued.v[i].buf);
	g->queued.n = 0;
	g->queued_from.n = 0;
	g->receiving = false;
}

static void drop_ctrl_type(struct group *g, uint16_t type)
{
	size_t i;

	for (i = 0; i < g->ctrl.n;) {
		if (g->ctrl.v[i].type == type) {
			free(g->ctrl.v[i].buf);
			darray_del(g->ctrl.v, &g->ctrl.n, sizeof(g->ctrl.v[0]), i);
		} else {
			i++;
		}
	}
}

/* ---- carried marks and recoveries (group.h "Fencing") -------------------------------- */

static void marks_free(struct group *g)
{
	uint32_t i;

	for (i = 0; i < g->n_mrx; i++)
		free(g->mrx[i].set.v);
	memset(g->mrx, 0, sizeof(g->mrx));
	g->n_mrx = 0;
}

/* Forget the MARKS of nodes that are no longer members (keeps the table <= members). */
static void marks_prune(struct group *g)
{
	uint32_t i = 0;

	while (i < g->n_mrx) {
		if (group_is_member(g, g->mrx[i].nodeid)) {
			i++;
			continue;
		}
		free(g->mrx[i].set.v);
		g->mrx[i] = g->mrx[--g->n_mrx];
		memset(&g->mrx[g->n_mrx], 0, sizeof(g->mrx[0]));
	}
}

static struct marks_rx *marks_find(struct group *g, uint32_t node, bool add)
{
	uint32_t i;

	for (i = 0; i < g->n_mrx; i++)
		if (g->mrx[i].nodeid == node)
			return &g->mrx[i];
	if (!add || g->n_mrx == GROUP_MAX_MEMBERS)
		return NULL;
	g->mrx[g->n_mrx].nodeid = node;
	return &g->mrx[g->n_mrx++];
}

/*
 * One MARKS chunk. Only the member that would do a master resume (the lowest nodeid) keeps
 * them; chunks must come in order from index 0, each region below region_count and above
 * the previous one, or the sender's list is dropped (it carries nothing this round).
 */
void sync_on_marks(struct group *g, uint32_t sender, const struct cmsg *m)
{
	const struct cmsg_marks *k = &m->u.marks;
	struct marks_rx *x;
	uint32_t i;

	if (!g->n_members || g->members[0] != g->me || !group_is_member(g, sender))
		return;
	x = marks_find(g, sender, true);
	if (!x)
		return;
	if (k->index == 0) {
		x->set.n = 0;
		x->next = 0;
		x->complete = false;
	}
	if (k->index != x->next)
		goto broken;
	for (i = 0; i < k->n_regions; i++) {
		uint64_t r = k->regions[i];

		if (r >= g->p.region_count || (x->set.n && r <= x->set.v[x->set.n - 1]))
			goto bad;
		if (x->set.n == x->set.cap &&
		    darray_grow((void **)&x->set.v, &x->set.cap, sizeof(x->set.v[0])))
			goto broken;
		x->set.v[x->set.n++] = r;
	}
	if (k->has_rec && k->rec_region >= g->p.region_count)
		goto bad;
	x->next++;
	if (k->last) {
		x->complete = true;
		x->has_rec = k->has_rec;
		x->rec_region = k->rec_region;
		x->last_seq = m->seq;
	}
	return;
bad:
	g->bad_messages++;
	event(g, GROUP_EV_BAD_MESSAGE, sender);
broken:
	x->complete = false;
	x->next = UINT32_MAX;
}

/* The MARKS that belong to member i's STATE of this round (sent right before it), if any. */
static const struct marks_rx *carried(struct group *g, uint32_t i)
{
	const struct marks_rx *x = marks_find(g, g->members[i], false);

	if (!x || !x->complete || x->last_seq + 1 != g->ms[i].seq)
		return NULL;
	return x;
}

/*
 * The kernel's recovery is held by this node in the state that replaced the replica which
 * granted it (a carried claim, or an assignment the received state still gives us): the
 * state keeps the region out of sync and nobody else's since then, so its end is reported
 * through the order again (no local answer, no second copy). Before this member holds a
 * state its requests are held, so the assignment cannot come from a newer grant.
 */
static void adopt_recovery(struct group *g)
{
	uint64_t r = 0;
	uint32_t n = 0;

	if (g->krec && !g->krec_report && rlog_assignment(g->rl, &r, &n) && n == g->me &&
	    r == g->krec_region)
		g->krec_lineage = g->lineage;
}

/*
 * Master resume: apply every member's carried marks, then its recovery, in member (nodeid)
 * order, to the resumed replica. A mark keeps the region dirty and never handed out to
 * another node; a recovery puts its region out of sync (if the resume made it in sync) and
 * assigns it to the claimant. One recovery per log: the first claim in nodeid order wins,
 * a later claimant's kernel gets its report answered locally (rule 7, stale_recovery_done).
 */
static bool apply_carried(struct group *g)
{
	const struct marks_rx *x;
	uint32_t i;
	size_t j, k;

	for (i = 0; i < g->n_members; i++) {
		x = carried(g, i);
		for (j = 0; x && j < x->set.n; j += k) {
			k = x->set.n - j > RLOG_MAX_BATCH ? RLOG_MAX_BATCH : x->set.n - j;
			/* -ENOSPC past RLOG_MAX_NODES markers: nothing else to do */
			if (rlog_mark(g->rl, g->members[i], x->set.v + j, k) == -ENOMEM) {
				/* a master that lost carried marks must not hand out its replica */
				sync_apply_failed(g);
				return false;
			}
		}
	}
	for (i = 0; i < g->n_members; i++) {
		x = carried(g, i);
		if (x && x->has_rec)
			rlog_set_assignment(g->rl, g->members[i], x->rec_region);
	}
	adopt_recovery(g);
	return true;
}

/*
 * Before our STATE: the marks our kernel holds (marked, or cleared with the clear still
 * deferred) and its recovery in progress, in MARKS chunks, so a master resume keeps them.
 * Only when a master resume can happen this round (we are not eligible ourselves) and the
 * group's version is 2 (every member of the last barrier reads MARKS).
 */
static void send_marks(struct group *g, struct cmsg *m)
{
	const struct rset *a = &g->my_marks, *b = &g->pend_clears;
	size_t ia = 0, ib = 0;
	uint32_t index = 0;
	bool rec = g->krec && !g->krec_report;

	if (g->max_version < 2 || g->version < 2 || (g->at_cc_synced && g->quorate))
		return;
	if (!a->n && !b->n && !rec)
		return;
	do {
		uint32_t n = 0;
		uint64_t last = 0;

		memset(&m->u.marks, 0, offsetof(struct cmsg_marks, regions));
		while (n < CMSG_MARKS_MAX_REGIONS && (ia < a->n || ib < b->n)) {
			uint64_t r;

			if (ib >= b->n || (ia < a->n && a->v[ia] <= b->v[ib]))
				r = a->v[ia++];
			else
				r = b->v[ib++];
			if (n && r == last)
				continue; /* in both sets */
			m->u.marks.regions[n++] = last = r;
		}
		m->type = CMSG_MARKS;
		m->u.marks.index = index++;
		m->u.marks.n_regions = n;
		m->u.marks.last = ia >= a->n && ib >= b->n;
		m->u.marks.has_rec = m->u.marks.last && rec;
		m->u.marks.rec_region = m->u.marks.has_rec ? g->krec_region : 0;
		if (group_queue_ctrl(g, m))
			return; /* out of memory: the STATE goes without (the old behaviour) */
	} while (!m->u.marks.last);
}

void sync_reset(struct group *g)
{
	stop_sending(g);
	stop_receiving(g);
	g->in_barrier = false;
	marks_free(g);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void sync_send_state(struct group *g)
{
	struct cmsg m;

	drop_ctrl_type(g, CMSG_MARKS);
	drop_ctrl_type(g, CMSG_STATE);
	send_marks(g, &m);
	memset(&m.u.state, 0, sizeof(m.u.state));
	m.type = CMSG_STATE;
	m.u.state.max_version = g->max_version;
	m.u.state.synced = g->at_cc_synced;
	m.u.state.quorate = g->quorate;
	m.u.state.n_members = g->n_members;
	memcpy(m.u.state.members, g->members, g->n_members * sizeof(uint32_t));
	m.u.state.gen = g->at_cc_gen;
	m.u.state.digest = g->at_cc_digest;
	m.u.state.epoch = g->at_cc_epoch;
	group_queue_ctrl(g, &m);
}

void sync_confchg(struct group *g, const uint32_t *members, size_t n_members, const uint32_t *left,
		  size_t n_left)
{
	uint32_t sorted[GROUP_MAX_MEMBERS] = {0};
	size_t i, n = 0;

	for (i = 0; i < n_members && n < GROUP_MAX_MEMBERS; i++)
		sorted[n++] = members[i];
	qsort(sorted, n, sizeof(sorted[0]), cmp_u32);

	/* 1. departed members: their marks become resync work (rule 6) */
	for (i = 0; i < n_left; i++) {
		if (g->synced && !g->receiving)
			rlog_node_left(g->rl, left[i]);
		if (left[i] == g->writer)
			g->writer = 0;
		event(g, GROUP_EV_NODE_LEFT, left[i]);
	}

	/* generations are announced again after the barrier, for the replica that survives it */
	drop_ctrl_type(g, CMSG_DURABLE);
	drop_ctrl_type(g, CMSG_DISK_FAILED);
	/* a handover not yet sent is dropped: the barrier decides (group.h "Writer") */
	drop_ctrl_type(g, CMSG_TAKEOVER);
	drop_ctrl_type(g, CMSG_HANDOVER);
	group_handover_reset(g);
	/* a transfer in progress is abandoned: a new round starts */
	stop_sending(g);
	drop_ctrl_type(g, CMSG_SNAP);
	if (g->receiving)
		stop_receiving(g);

	g->n_members = 0;
	for (i = 0; i < n; i++)
		if (!i || sorted[i] != sorted[i - 1])
			g->members[g->n_members++] = sorted[i];
	/* an incompatible member stays excluded until it leaves */
	for (i = 0, n = 0; i < g->n_excl; i++)
		if (group_is_member(g, g->excl[i]))
			g->excl[n++] = g->excl[i];
	g->n_excl = (uint32_t)n;
	update_preferred_writer(g);
	memset(g->spoke, 0, sizeof(g->spoke));
	if (is_excluded(g, g->me))
		return;
	if (!group_is_member(g, g->me)) {
		/* evicted (or a confchg without us): hold everything until we are back */
		drop_state(g);
		g->in_barrier = false;
		drop_ctrl_type(g, CMSG_MARKS);
		drop_ctrl_type(g, CMSG_STATE);
		g->n_members = 0;
		marks_free(g);
		return;
	}
	marks_prune(g);

	/* 2. announce our state as of this confchg (joiners first learn whom we excluded) */
	send_exclude(g);
	open_round(g, 0);
}

/*
 * Open a barrier round at this point of the order: at a confchg, or at the delivery of a
 * STATE outside a round (a member that regained quorum without a membership change asks
 * for one). Our STATE describes the replica as of this point.
 */
static void open_round(struct group *g, uint32_t trigger)
{
	uint32_t i;

	stop_receiving(g);
	stop_sending(g);
	drop_ctrl_type(g, CMSG_SNAP);
	g->in_barrier = true;
	g->round_ms = 0; /* the silence clock starts at the next tick (now_ms may be stale or 0) */
	g->silent_sent = false;
	memset(g->ms, 0, sizeof(g->ms));
	for (i = 0; i < g->n_members; i++) {
		g->ms[i].nodeid = g->members[i];
		if (is_excluded(g, g->members[i]))
			neutral_state(g, i);
	}
	g->at_cc_synced = g->synced && !g->stale;
	g->at_cc_gen = g->synced ? g->gen : 0;
	g->at_cc_digest = g->synced ? rlog_digest(g->rl) : 0;
	g->at_cc_epoch = g->synced ? g->epoch : 0;
	if (trigger != g->me)
		sync_send_state(g);
}

static bool same_members(const struct group *g, const struct cmsg_state *st)
{
	return st->n_members == g->n_members &&
	       !memcmp(st->members, g->members, g->n_members * sizeof(uint32_t));
}

static bool eligible(const struct member_state *s)
{
	return s->st.synced && s->st.quorate;
}

static bool same_key(const struct member_state *a, const struct member_state *b)
{
	return a->st.epoch == b->st.epoch && a->st.gen == b->st.gen && a->st.digest == b->st.digest;
}

static void start_sending(struct group *g, uint32_t round)
{
	if (rlog_clone(g->rl, &g->frozen))
		return; /* receivers wait for the next round (a new confchg) */
	if (rlog_snapshot_begin(g->frozen, g->gen, &g->enc)) {
		rlog_destroy(g->frozen);
		g->frozen = NULL;
		return;
	}
	g->frozen_gen = g->gen;
	g->frozen_durable = g->durable_gen;
	g->frozen_writer = g->writer;
	g->frozen_disk_failed = g->disk_failed;
	g->send_round = round;
	g->send_index = 0;
	g->sending = true;
}

static void start_receiving(struct group *g, uint32_t sender, uint32_t round)
{
	if (rlog_snapshot_dec_begin(&g->dec))
		return;
	g->receiving = true;
	/* a replica received while inquorate may miss what a quorate side serves meanwhile */
	g->stale = !g->quorate;
	g->snap_sender = sender;
	g->snap_round = round;
	g->snap_next = 0;
}

/* The sync image of a restarted daemon describes only the state it first resumes into. */
static void drop_start_sync(struct group *g)
{
	free(g->start_sync);
	g->start_sync = NULL;
	g->start_sync_regions = 0;
}

/*
 * Master resume from the start image; a stale replica of ours adds its dirty regions (it may
 * know marks newer than the image), so a region is clean only when both say clean. A sync
 * image (group_start_sync) keeps its regions in sync but dirty.
 */
static void master_resume(struct group *g, bool had_replica)
{
	uint64_t rc = g->p.region_count, bytes = (rc + 7) / 8, i;
	uint8_t *img = NULL;
	bool combine = had_replica && g->p.type == GROUP_LOG_DISK && g->start_clean;

	if (combine) {
		img = calloc(1, (size_t)bytes);
		if (img && !rlog_disk_bitmap_read(g->rl, 0, img, (size_t)bytes)) {
			uint64_t n = (g->start_regions + 7) / 8;

			for (i = 0; i < bytes; i++)
				img[i] &= i < n ? g->start_clean[i] : 0;
		} else {
			free(img);
			img = NULL;
		}
	}
	if (img) {
		rlog_resume_master_sync(g->rl, img, g->start_regions < rc ? g->start_regions : rc,
					g->start_sync, g->start_sync_regions);
		free(img);
	} else if (combine) {
		/* out of memory for the combined image: no region is known clean (full resync) */
		rlog_resume_master_sync(g->rl, NULL, 0, g->start_sync, g->start_sync_regions);
	} else {
		rlog_resume_master_sync(g->rl, g->start_clean, g->start_regions, g->start_sync,
					g->start_sync_regions);
	}
	drop_start_sync(g);
}

/* The writer repeats what it made durable (its announcement may have been dropped). */
static void announce_written(struct group *g)
{
	struct cmsg m;

	if (g->write_failed) {
		m.type = CMSG_DISK_FAILED;
		m.u.gen = g->write_gen;
	} else if (g->written_gen > g->durable_gen) {
		m.type = CMSG_DURABLE;
		m.u.gen = g->written_gen;
	} else {
		return;
	}
	group_queue_ctrl(g, &m);
}

static void drop_state(struct group *g)
{
	if (!g->synced)
		return;
	g->synced = false;
	event(g, GROUP_EV_STATE_DROPPED, g->me);
	group_revert_local(g);
	/* our generations of the dropped replica must not reach the new one */
	drop_ctrl_type(g, CMSG_DURABLE);
	drop_ctrl_type(g, CMSG_DISK_FAILED);
	drop_ctrl_type(g, CMSG_TAKEOVER);
	drop_ctrl_type(g, CMSG_HANDOVER);
	group_handover_reset(g);
	if (g->disk_busy)
		g->write_stale = true;
	g->write_failed = false;
}

/* 3. every STATE is in: decide, the same way on every member. */
static void decide(struct group *g)
{
	uint32_t n = g->n_members, i, j, best = UINT32_MAX, best_count = 0,
		 version = g->max_version;
	bool all_quorate = true, in_set = false, others = false;
	uint64_t max_epoch = 0;

	for (i = 0; i < n; i++) {
		if (!g->ms[i].st.quorate)
			all_quorate = false;
		if (g->ms[i].st.max_version < version)
			version = g->ms[i].st.max_version;
		if (g->ms[i].st.epoch > max_epoch)
			max_epoch = g->ms[i].st.epoch;
	}
	for (i = 0; i < n; i++) {
		uint32_t count = 0;

		if (!eligible(&g->ms[i]))
			continue;
		for (j = 0; j < n; j++)
			if (eligible(&g->ms[j]) && same_key(&g->ms[i], &g->ms[j]))
				count++;
		/* highest epoch, then the largest group, then the lowest nodeid (first seen) */
		if (best == UINT32_MAX || g->ms[i].st.epoch > g->ms[best].st.epoch ||
		    (g->ms[i].st.epoch == g->ms[best].st.epoch && count > best_count)) {
			best = i;
			best_count = count;
		}
	}
	if (best == UINT32_MAX && !all_quorate)
		return; /* nobody may serve yet: wait for quorum (STATE re-sent) */

	g->in_barrier = false;
	g->version = version < GROUP_PROTO_VERSION_MIN ? GROUP_PROTO_VERSION_MIN : version;
	g->epoch = max_epoch + 1;

	if (best == UINT32_MAX) {
		/* nobody has state: the lowest member does a master resume and sends it */
		uint32_t mi = 0, master;

		while (mi + 1 < n && is_excluded(g, g->members[mi]))
			mi++;
		master = g->members[mi];

		/* a stale replica is replaced everywhere, the master's included */
		bool was_synced = g->synced;

		drop_state(g);

		if (master == g->me) {
			master_resume(g, was_synced);
			if (!apply_carried(g))
				return;
			g->synced = true;
			g->stale = false;
			/*
			 * Disk log: the resumed replica (with the marks carried in MARKS) is
			 * generation 1, made durable by the new writer's full write; a FLUSH of a
			 * carried mark needs no message but must wait for that write (sim seed 215).
			 */
			g->gen = g->p.type == GROUP_LOG_DISK ? 1 : 0;
			g->durable_gen = g->written_gen = 0;
			g->disk_failed = false;
			g->write_failed = false;
			event(g, GROUP_EV_MASTER, g->me);
			event(g, GROUP_EV_SYNCED, g->me);
			if (g->p.type == GROUP_LOG_DISK) {
				g->writer = g->me;
				group_became_writer(g);
			}
			if (n > 1 + g->n_excl)
				start_sending(g, g->ms[mi].seq);
		} else {
			start_receiving(g, master, g->ms[mi].seq);
		}
		return;
	}

	for (i = 0; i < n; i++)
		if (eligible(&g->ms[i]) && same_key(&g->ms[i], &g->ms[best])) {
			if (g->members[i] == g->me)
				in_set = true;
		} else if (!is_excluded(g, g->members[i])) {
			others = true; /* someone to send the state to */
		}
	if (in_set) {
		uint32_t set[GROUP_MAX_MEMBERS], k = 0;
		bool writer_in = false;

		for (i = 0; i < n; i++)
			if (eligible(&g->ms[i]) && same_key(&g->ms[i], &g->ms[best])) {
				set[k++] = g->members[i];
				if (g->members[i] == g->writer)
					writer_in = true;
			}
		/*
		 * Writer: sticky while it stays in the set (two writers with writes in flight
		 * could land an older image after a newer one), else the FNV spread over the set.
		 */
		/* k >= 1: this member is in the set (in_set); said for the analyzer */
		if (g->p.type == GROUP_LOG_DISK && !writer_in && k) {
			g->writer = set[fnv1a(g->p.uuid) % k];
			if (g->writer == g->me)
				group_became_writer(g);
		}
		if (g->p.type == GROUP_LOG_DISK && g->writer == g->me && !g->need_full_write &&
		    !g->disk_busy)
			announce_written(g);
		if (others && g->members[best] == g->me)
			start_sending(g, g->ms[best].seq);
		return;
	}
	/* lost the merge (or stale): no stateful merge, rejoin clean */
	drop_state(g);
	start_receiving(g, g->members[best], g->ms[best].seq);
}

void sync_on_state(struct group *g, uint32_t sender, const struct cmsg *m)
{
	uint32_t i;

	if (!same_members(g, &m->u.state) || is_excluded(g, g->me))
		return; /* a STATE of an older membership, or we are out */
	if (!g->in_barrier)
		open_round(g, sender);
	for (i = 0; i < g->n_members; i++)
		if (g->members[i] == sender)
			break;
	if (i == g->n_members)
		return;
	g->spoke[i] = true;
	g->ms[i].have = true;
	g->ms[i].seq = m->seq;
	g->ms[i].st = m->u.state;
	if (barrier_complete(g))
		decide(g);
}

bool sync_maybe_queue(struct group *g, uint32_t sender, const void *buf, size_t len)
{
	struct outmsg o = {.len = len, .type = 0};

	if (!g->receiving)
		return false;
	o.buf = malloc(len ? len : 1);
	if (!o.buf)
		return true; /* cannot keep it: the replica would diverge; stay unsynced */
	memcpy(o.buf, buf, len);
	if (DARRAY_PUSH(g->queued, o)) {
		free(o.buf);
		return true;
	}
	if (DARRAY_PUSH(g->queued_from, sender)) {
		g->queued.n--;
		free(o.buf);
	}
	return true;
}

static void finish_receiving(struct group *g, const struct cmsg_snap *s)
{
	struct rlog *nrl = NULL;
	uint64_t gen = 0;
	size_t i;

	if (rlog_snapshot_dec_finish(g->dec, &nrl, &gen)) {
		stop_receiving(g);
		g->bad_messages++;
		return;
	}
	rlog_snapshot_dec_free(g->dec);
	g->dec = NULL;
	if (rlog_region_count(nrl) != g->p.region_count) {
		/* a member with another size: never adopt a replica of another shape */
		rlog_destroy(nrl);
		stop_receiving(g);
		g->bad_messages++;
		return;
	}
	rlog_destroy(g->rl);
	g->rl = nrl;
	g->gen = gen;
	g->durable_gen = s->durable_gen;
	g->written_gen = 0;
	g->writer = s->writer;
	g->disk_failed = s->disk_failed;
	g->synced = true;
	/* stays stale if quorum was lost while receiving (group_set_quorate) */
	g->stale = g->stale || !g->quorate;
	g->receiving = false;
	drop_start_sync(g);
	adopt_recovery(g);
	event(g, GROUP_EV_SYNCED, g->me);
	/* 4. apply what the order delivered after the barrier point, in order */
	for (i = 0; i < g->queued.n; i++) {
		if (cmsg_decode(&g->rx, g->queued.v[i].buf, g->queued.v[i].len, g->queued_from.v[i],
				GROUP_PROTO_VERSION_MIN, (uint16_t)g->max_version) == CMSG_OK)
			group_apply(g, g->queued_from.v[i], &g->rx);
		free(g->queued.v[i].buf);
	}
	g->queued.n = 0;
	g->queued_from.n = 0;
}

void sync_on_snap(struct group *g, uint32_t sender, const struct cmsg *m)
{
	const struct cmsg_snap *s = &m->u.snap;
	bool done = false;

	if (!g->receiving || sender != g->snap_sender || s->round != g->snap_round)
		return; /* another round, or not for us */
	if (s->index != g->snap_next ||
	    rlog_snapshot_dec_feed(g->dec, s->bytes, s->n_bytes, &done) || done != s->last) {
		/* malformed transfer: stay unsynced until the next round */
		stop_receiving(g);
		g->bad_messages++;
		return;
	}
	g->snap_next++;
	if (done)
		finish_receiving(g, s);
}

/* Queue the next chunk when the ctrl queue is empty (paced by the transport). */
void sync_pump(struct group *g)
{
	struct cmsg m;
	size_t len = 0;
	bool done = false;

	if (!g->sending || g->ctrl.n)
		return;
	if (rlog_snapshot_next(g->enc, g->chunk, CMSG_SNAP_MAX_BYTES, &len, &done)) {
		stop_sending(g);
		return;
	}
	m.type = CMSG_SNAP;
	m.u.snap.round = g->send_round;
	m.u.snap.index = g->send_index++;
	m.u.snap.last = done;
	m.u.snap.disk_failed = g->frozen_disk_failed;
	m.u.snap.writer = g->frozen_writer;
	m.u.snap.durable_gen = g->frozen_durable;
	m.u.snap.n_bytes = (uint32_t)len;
	m.u.snap.bytes = g->chunk;
	group_queue_ctrl(g, &m);
	if (done)
		stop_sending(g);
}
