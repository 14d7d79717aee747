/*
 * sim.c: the simulated transport, kernel request record and log-device model for tests
 * (see cluster/sim.h). Owns: components and their agreed orders, confchg delivery per
 * extended virtual synchrony, quorum, the disk image, the seeded PRNG. Keeps: a seed
 * reproduces a run exactly (no clock, no rand(), iteration in node-id order only).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/sim.h"
#include "log/rlog.h"

struct sim_msg {
	unsigned comp;
	uint32_t sender;
	uint8_t *buf;
	size_t len;
};

struct sim_write {
	uint32_t node;
	uint64_t cookie;
	uint64_t off;
	uint8_t *data;
	size_t len;
	uint64_t due;
};

struct sim_node {
	struct sim *s;
	uint32_t id;
	bool up;
	unsigned comp;
	struct group *g;
	bool cut; /* its transport is lost: not a member */
	uint64_t now_ms;
};

struct sim {
	struct sim_params p;
	uint64_t rng;
	struct sim_node nodes[SIM_MAX_NODES + 1];
	struct sim_msg *q;
	size_t qn, qcap;
	struct sim_write *w;
	size_t wn, wcap;
	struct sim_reply_rec *rec;
	size_t recn, reccap;
	uint8_t *disk;
	size_t disk_len;
	bool disk_fail;
	uint64_t steps;
	uint64_t now_ms;
	unsigned next_comp;
	unsigned errors;
	uint64_t sent;
};

uint64_t sim_rand(struct sim *s)
{
	uint64_t z = (s->rng += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

uint64_t sim_below(struct sim *s, uint64_t n)
{
	return n ? sim_rand(s) % n : 0;
}

static bool grow(void **v, size_t *cap, size_t n, size_t elem)
{
	void *nv;
	size_t nc;

	if (n < *cap)
		return true;
	nc = *cap ? *cap * 2 : 16;
	nv = realloc(*v, nc * elem);
	if (!nv)
		return false;
	*v = nv;
	*cap = nc;
	return true;
}

/* ---- group ops --------------------------------------------------------------------------- */

static int op_send(void *ctx, const struct iovec *iov, unsigned int n_iov)
{
	struct sim_node *nd = ctx;
	struct sim *s = nd->s;
	struct sim_msg m = {.comp = nd->comp, .sender = nd->id};
	size_t len = 0, i;

	if (nd->cut)
		return -ENOTCONN;
	if (s->p.eagain_pct && sim_below(s, 100) < s->p.eagain_pct)
		return -EAGAIN;
	for (i = 0; i < n_iov; i++)
		len += iov[i].iov_len;
	m.buf = malloc(len ? len : 1);
	if (!m.buf || !grow((void **)&s->q, &s->qcap, s->qn, sizeof(*s->q))) {
		free(m.buf);
		return -ENOMEM;
	}
	m.len = 0;
	for (i = 0; i < n_iov; i++) {
		memcpy(m.buf + m.len, iov[i].iov_base, iov[i].iov_len);
		m.len += iov[i].iov_len;
	}
	s->q[s->qn++] = m;
	s->sent++;
	return 0;
}

static void op_reply(void *ctx, uint64_t token, const struct group_reply *r)
{
	struct sim_node *nd = ctx;
	struct sim *s = nd->s;
	struct sim_reply_rec *rec;

	if (token == 0 || token > s->recn || s->rec[token - 1].node != nd->id) {
		fprintf(stderr, "sim: node %u replied to unknown token %llu\n", nd->id,
			(unsigned long long)token);
		s->errors++;
		return;
	}
	rec = &s->rec[token - 1];
	rec->count++;
	if (rec->count > 1) {
		fprintf(stderr, "sim: node %u replied twice to token %llu (type %d)\n", nd->id,
			(unsigned long long)token, (int)rec->req.type);
		s->errors++;
		return;
	}
	rec->done = true;
	rec->r = *r;
	if (s->p.on_reply)
		s->p.on_reply(s->p.arg, nd->id, &rec->req, r);
}

static int op_disk_write(void *ctx, uint64_t cookie, const uint8_t *buf, uint64_t off, size_t len)
{
	struct sim_node *nd = ctx;
	struct sim *s = nd->s;
	struct sim_write w = {.node = nd->id, .cookie = cookie, .off = off, .len = len};

	if (off + len > s->disk_len)
		return -EINVAL;
	w.data = malloc(len ? len : 1);
	if (!w.data || !grow((void **)&s->w, &s->wcap, s->wn, sizeof(*s->w))) {
		free(w.data);
		return -ENOMEM;
	}
	memcpy(w.data, buf, len);
	if (s->p.trace)
		fprintf(stderr, "  sim: node %u disk write cookie %llu off %llu len %zu\n", nd->id,
			(unsigned long long)cookie, (unsigned long long)off, len);
	w.due = s->steps + 1 + sim_below(s, s->p.disk_delay_max ? s->p.disk_delay_max : 1);
	s->w[s->wn++] = w;
	return 0;
}

static void op_event(void *ctx, enum group_event ev, uint64_t arg)
{
	struct sim_node *nd = ctx;

	if (nd->s->p.trace)
		fprintf(stderr, "  sim: node %u event %d arg %llu\n", nd->id, (int)ev,
			(unsigned long long)arg);
}

static const struct group_ops sim_ops = {
	.send = op_send,
	.reply = op_reply,
	.disk_write = op_disk_write,
	.event = op_event,
};

/* ---- membership -------------------------------------------------------------------------- */

static unsigned members_of(const struct sim *s, unsigned comp, uint32_t *out)
{
	unsigned i, n = 0;

	for (i = 1; i <= s->p.n_nodes; i++)
		if (s->nodes[i].up && s->nodes[i].g && !s->nodes[i].cut && s->nodes[i].comp == comp)
			out[n++] = i;
	return n;
}

static void set_quorum(struct sim *s)
{
	unsigned i, j;
	uint64_t nr = 0;

	for (i = 1; i <= s->p.n_nodes; i++) {
		unsigned up = 0;
		struct group_status st;

		if (!s->nodes[i].up || !s->nodes[i].g)
			continue;
		for (j = 1; j <= s->p.n_nodes; j++)
			if (s->nodes[j].up && s->nodes[j].comp == s->nodes[i].comp)
				up++;
		group_get_status(s->nodes[i].g, &st);
		/* the daemon re-reads the log device when quorum comes back */
		if (!st.quorate && up * 2 > s->p.n_nodes && s->p.type == GROUP_LOG_DISK &&
		    rlog_disk_decode_header(s->disk, s->disk_len, &nr) == RLOG_DISK_OK)
			group_start(s->nodes[i].g, s->disk + RLOG_DISK_BITMAP_OFFSET, nr);
		if (s->p.trace && st.quorate != (up * 2 > s->p.n_nodes))
			fprintf(stderr, "  sim: node %u quorate %d\n", i, up * 2 > s->p.n_nodes);
		group_set_quorate(s->nodes[i].g, up * 2 > s->p.n_nodes);
	}
}

static void deliver_at(struct sim *s, size_t k)
{
	struct sim_msg m = s->q[k];
	uint32_t mem[SIM_MAX_NODES];
	unsigned n, i;

	memmove(s->q + k, s->q + k + 1, (s->qn - k - 1) * sizeof(*s->q));
	s->qn--;
	n = members_of(s, m.comp, mem);
	for (i = 0; i < n; i++)
		if (s->nodes[mem[i]].g)
			group_deliver(s->nodes[mem[i]].g, m.sender, m.buf, m.len);
	free(m.buf);
}

/* EVS: everything already sent in @comp reaches its current members before a confchg. */
static void flush_comp(struct sim *s, unsigned comp)
{
	size_t k = 0;

	while (k < s->qn) {
		if (s->q[k].comp == comp)
			deliver_at(s, k);
		else
			k++;
	}
}

static void confchg_comp(struct sim *s, unsigned comp, const uint32_t *left, unsigned n_left,
			 const uint32_t *joined, unsigned n_joined)
{
	uint32_t mem[SIM_MAX_NODES];
	unsigned n = members_of(s, comp, mem), i;

	if (s->p.trace) {
		fprintf(stderr, "  sim: comp %u confchg members", comp);
		for (i = 0; i < n; i++)
			fprintf(stderr, " %u", mem[i]);
		fprintf(stderr, " left %u joined %u\n", n_left ? left[0] : 0,
			n_joined ? joined[0] : 0);
	}

	for (i = 0; i < n; i++)
		group_confchg(s->nodes[mem[i]].g, mem, n, left, n_left, joined, n_joined);
}

uint64_t sim_start(struct sim *s, uint32_t node)
{
	struct sim_node *nd = &s->nodes[node];
	struct group_params gp;
	struct group_req req;
	uint64_t nr = 0;

	if (!nd->up || nd->g)
		return 0;
	memset(&gp, 0, sizeof(gp));
	if (s->p.uuid)
		snprintf(gp.uuid, sizeof(gp.uuid), "%s", s->p.uuid);
	else
		snprintf(gp.uuid, sizeof(gp.uuid), "LVM-sim-log-%llu",
			 (unsigned long long)s->p.region_count);
	gp.type = s->p.type;
	gp.region_count = s->p.region_count;
	gp.sync_mode = s->p.sync_mode;
	gp.block_size = s->p.block_size;
	gp.my_nodeid = node;
	if (group_create(&nd->g, &gp, &sim_ops, nd))
		return 0;
	if (s->p.max_version[node])
		group_set_max_version(nd->g, s->p.max_version[node]);
	if (s->p.type == GROUP_LOG_DISK &&
	    rlog_disk_decode_header(s->disk, s->disk_len, &nr) == RLOG_DISK_OK)
		group_start(nd->g, s->disk + RLOG_DISK_BITMAP_OFFSET, nr);
	else
		group_start(nd->g, NULL, 0);
	group_tick(nd->g, s->now_ms);
	flush_comp(s, nd->comp);
	set_quorum(s);
	confchg_comp(s, nd->comp, NULL, 0, &node, 1);
	memset(&req, 0, sizeof(req));
	req.type = GROUP_REQ_RESUME;
	return sim_request(s, node, &req);
}

static void drop_node(struct sim *s, uint32_t node)
{
	struct sim_node *nd = &s->nodes[node];
	size_t i;

	group_destroy(nd->g);
	nd->g = NULL;
	nd->cut = false;
	/* the kernel of this node is gone or detached: its requests need no reply any more */
	for (i = 0; i < s->recn; i++)
		if (s->rec[i].node == node && !s->rec[i].done)
			s->rec[i].count = 1;
}

void sim_leave(struct sim *s, uint32_t node)
{
	struct sim_node *nd = &s->nodes[node];
	unsigned comp = nd->comp;

	if (!nd->g)
		return;
	flush_comp(s, comp);
	drop_node(s, node);
	set_quorum(s);
	confchg_comp(s, comp, &node, 1, NULL, 0);
}

void sim_disconnect(struct sim *s, uint32_t node)
{
	struct sim_node *nd = &s->nodes[node];
	size_t k;

	if (!nd->g || nd->cut)
		return;
	/* its messages not yet ordered are lost with the local corosync */
	for (k = 0; k < s->qn;) {
		if (s->q[k].sender == node && s->q[k].comp == nd->comp) {
			free(s->q[k].buf);
			memmove(s->q + k, s->q + k + 1, (s->qn - k - 1) * sizeof(*s->q));
			s->qn--;
		} else {
			k++;
		}
	}
	flush_comp(s, nd->comp);
	group_transport_lost(nd->g);
	nd->cut = true;
	confchg_comp(s, nd->comp, &node, 1, NULL, 0);
}

void sim_reconnect(struct sim *s, uint32_t node)
{
	struct sim_node *nd = &s->nodes[node];

	if (!nd->g || !nd->cut)
		return;
	flush_comp(s, nd->comp);
	group_transport_restored(nd->g);
	nd->cut = false;
	set_quorum(s);
	confchg_comp(s, nd->comp, NULL, 0, &node, 1);
}

void sim_crash(struct sim *s, uint32_t node)
{
	struct sim_node *nd = &s->nodes[node];
	unsigned comp = nd->comp;
	bool lose = sim_below(s, 2) == 0;
	bool had = nd->g != NULL;
	size_t k;

	if (!nd->up)
		return;
	/* its undelivered messages: lost to everyone or delivered to everyone */
	for (k = 0; k < s->qn;) {
		if (lose && s->q[k].sender == node && s->q[k].comp == comp) {
			free(s->q[k].buf);
			memmove(s->q + k, s->q + k + 1, (s->qn - k - 1) * sizeof(*s->q));
			s->qn--;
		} else {
			k++;
		}
	}
	/* its writes in flight land or not */
	for (k = 0; k < s->wn;) {
		if (s->w[k].node == node) {
			if (sim_below(s, 2))
				memcpy(s->disk + s->w[k].off, s->w[k].data, s->w[k].len);
			free(s->w[k].data);
			memmove(s->w + k, s->w + k + 1, (s->wn - k - 1) * sizeof(*s->w));
			s->wn--;
		} else {
			k++;
		}
	}
	if (had)
		drop_node(s, node);
	nd->up = false;
	flush_comp(s, comp);
	set_quorum(s);
	if (had)
		confchg_comp(s, comp, &node, 1, NULL, 0);
}

void sim_revive(struct sim *s, uint32_t node)
{
	struct sim_node *nd = &s->nodes[node];
	unsigned i, comp = 0;
	bool found = false;

	if (nd->up)
		return;
	for (i = 1; i <= s->p.n_nodes && !found; i++)
		if (s->nodes[i].up) {
			comp = s->nodes[i].comp;
			found = true;
		}
	nd->up = true;
	nd->comp = found ? comp : s->next_comp++;
	set_quorum(s);
}

void sim_partition(struct sim *s, const uint32_t *side, size_t n)
{
	uint32_t a[SIM_MAX_NODES], b[SIM_MAX_NODES];
	unsigned na, nb, i, comps[SIM_MAX_NODES], nc = 0, c, newc;
	size_t k;

	/* every component that loses nodes splits in two */
	for (k = 0; k < n; k++) {
		unsigned cc = s->nodes[side[k]].comp;
		bool seen = false;

		if (!s->nodes[side[k]].up)
			continue;
		for (i = 0; i < nc; i++)
			seen |= comps[i] == cc;
		if (!seen)
			comps[nc++] = cc;
	}
	for (c = 0; c < nc; c++) {
		flush_comp(s, comps[c]);
		newc = s->next_comp++;
		for (k = 0; k < n; k++)
			if (s->nodes[side[k]].up && s->nodes[side[k]].comp == comps[c])
				s->nodes[side[k]].comp = newc;
		set_quorum(s);
		na = members_of(s, newc, a);
		nb = members_of(s, comps[c], b);
		if (na && nb) {
			confchg_comp(s, newc, b, nb, NULL, 0);
			confchg_comp(s, comps[c], a, na, NULL, 0);
		}
	}
}

void sim_heal(struct sim *s)
{
	uint32_t all[SIM_MAX_NODES], joined[SIM_MAX_NODES];
	unsigned i, j, n_all, n_j, target = 0, old[SIM_MAX_NODES + 1] = {0};
	bool found = false;

	for (i = 1; i <= s->p.n_nodes; i++) {
		old[i] = s->nodes[i].comp;
		if (s->nodes[i].up) {
			flush_comp(s, s->nodes[i].comp);
			if (!found)
				target = s->nodes[i].comp;
			found = true;
		}
	}
	for (i = 1; i <= s->p.n_nodes; i++)
		if (s->nodes[i].up)
			s->nodes[i].comp = target;
	set_quorum(s);
	n_all = members_of(s, target, all);
	/* joined-only confchg: each old component sees the others join */
	for (i = 0; i < n_all; i++) {
		uint32_t me = all[i];

		n_j = 0;
		for (j = 0; j < n_all; j++)
			if (old[all[j]] != old[me])
				joined[n_j++] = all[j];
		if (n_j && s->p.trace)
			fprintf(stderr, "  sim: heal: node %u sees %u joined\n", me, n_j);
		if (n_j)
			group_confchg(s->nodes[me].g, all, n_all, NULL, 0, joined, n_j);
	}
}

/* ---- requests ----------------------------------------------------------------------------- */

uint64_t sim_request(struct sim *s, uint32_t node, const struct group_req *req)
{
	struct sim_reply_rec rec;
	uint64_t token;

	if (!s->nodes[node].g || !grow((void **)&s->rec, &s->reccap, s->recn, sizeof(*s->rec)))
		return 0;
	memset(&rec, 0, sizeof(rec));
	rec.node = node;
	rec.req = *req;
	token = s->recn + 1;
	rec.req.token = token;
	s->rec[s->recn++] = rec;
	if (s->p.trace)
		fprintf(stderr, "  sim: node %u request type %d tok %llu reg %llu\n", node,
			(int)req->type, (unsigned long long)token, (unsigned long long)req->region);
	group_request(s->nodes[node].g, &s->rec[token - 1].req);
	return token;
}

const struct sim_reply_rec *sim_reply(const struct sim *s, uint64_t token)
{
	if (token == 0 || token > s->recn)
		return NULL;
	return &s->rec[token - 1];
}

void sim_inject(struct sim *s, uint32_t node, uint32_t sender, const void *buf, size_t len)
{
	struct sim_msg m = {.comp = s->nodes[node].comp, .sender = sender, .len = len};

	m.buf = malloc(len ? len : 1);
	if (!m.buf || !grow((void **)&s->q, &s->qcap, s->qn, sizeof(*s->q))) {
		free(m.buf);
		return;
	}
	memcpy(m.buf, buf, len);
	s->q[s->qn++] = m;
}

/* ---- stepping ----------------------------------------------------------------------------- */

static bool complete_write(struct sim *s, bool force)
{
	size_t k, best = SIZE_MAX;
	struct sim_write w;

	for (k = 0; k < s->wn; k++)
		if ((force || s->w[k].due <= s->steps) &&
		    (best == SIZE_MAX || s->w[k].due < s->w[best].due))
			best = k;
	if (best == SIZE_MAX)
		return false;
	w = s->w[best];
	memmove(s->w + best, s->w + best + 1, (s->wn - best - 1) * sizeof(*s->w));
	s->wn--;
	if (!s->disk_fail)
		memcpy(s->disk + w.off, w.data, w.len);
	if (s->p.trace)
		fprintf(stderr, "  sim: node %u disk done cookie %llu%s\n", w.node,
			(unsigned long long)w.cookie, s->disk_fail ? " FAILED" : "");
	free(w.data);
	if (s->nodes[w.node].g)
		group_disk_done(s->nodes[w.node].g, w.cookie, s->disk_fail ? -EIO : 0);
	return true;
}

void sim_pump_all(struct sim *s)
{
	unsigned i;

	for (i = 1; i <= s->p.n_nodes; i++)
		if (s->nodes[i].g)
			group_pump(s->nodes[i].g);
}

static bool wants(const struct sim *s)
{
	unsigned i;

	for (i = 1; i <= s->p.n_nodes; i++)
		if (s->nodes[i].g && group_wants_pump(s->nodes[i].g))
			return true;
	return false;
}

bool sim_step(struct sim *s)
{
	unsigned choice = (unsigned)sim_below(s, 10), i;

	s->steps++;
	if (choice < 5 && s->qn) {
		/* deliver the head of a random component's order */
		size_t k = sim_below(s, s->qn);
		unsigned comp = s->q[k].comp;

		for (k = 0; s->q[k].comp != comp; k++)
			;
		deliver_at(s, k);
		return true;
	}
	if (choice < 7 && s->wn && complete_write(s, false))
		return true;
	if (choice < 9) {
		uint32_t node = 1 + (uint32_t)sim_below(s, s->p.n_nodes);

		if (s->nodes[node].g && group_wants_pump(s->nodes[node].g)) {
			group_pump(s->nodes[node].g);
			return true;
		}
	}
	if (s->qn || s->wn || wants(s)) {
		if (!s->qn && s->wn)
			complete_write(s, true);
		else if (s->qn)
			deliver_at(s, 0);
		else
			sim_pump_all(s);
		return true;
	}
	/* idle: time passes */
	s->now_ms += 500;
	for (i = 1; i <= s->p.n_nodes; i++)
		if (s->nodes[i].g)
			group_tick(s->nodes[i].g, s->now_ms);
	return s->qn || s->wn || wants(s);
}

bool sim_settle(struct sim *s, unsigned max_steps)
{
	unsigned i, idle = 0;

	for (i = 0; i < max_steps; i++) {
		if (sim_step(s))
			idle = 0;
		else if (++idle > (GROUP_AL_IDLE_MS / 500) + 2)
			return true;
	}
	return false;
}

/* ---- setup and queries ----------------------------------------------------------------------- */

int sim_create(struct sim **out, const struct sim_params *p)
{
	struct sim *s;
	unsigned i;

	if (!p->n_nodes || p->n_nodes > SIM_MAX_NODES)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->p = *p;
	if (!s->p.block_size)
		s->p.block_size = 512;
	s->rng = p->seed;
	for (i = 1; i <= p->n_nodes; i++) {
		s->nodes[i].s = s;
		s->nodes[i].id = i;
		s->nodes[i].up = true;
		s->nodes[i].comp = 0;
	}
	s->next_comp = 1;
	if (p->type == GROUP_LOG_DISK) {
		s->disk_len = (size_t)rlog_disk_size(p->region_count, s->p.block_size);
		s->disk = calloc(1, s->disk_len);
		if (!s->disk) {
			free(s);
			return -ENOMEM;
		}
	}
	*out = s;
	return 0;
}

void sim_destroy(struct sim *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 1; i <= s->p.n_nodes; i++)
		group_destroy(s->nodes[i].g);
	for (i = 0; i < s->qn; i++)
		free(s->q[i].buf);
	for (i = 0; i < s->wn; i++)
		free(s->w[i].data);
	free(s->q);
	free(s->w);
	free(s->rec);
	free(s->disk);
	free(s);
}

void sim_set_eagain(struct sim *s, unsigned pct)
{
	s->p.eagain_pct = pct;
}

void sim_disk_fail(struct sim *s, bool fail)
{
	s->disk_fail = fail;
}

const uint8_t *sim_disk_image(const struct sim *s, size_t *len)
{
	*len = s->disk_len;
	return s->disk;
}

int sim_disk_poke(struct sim *s, uint64_t off, const void *buf, size_t len)
{
	if (off > s->disk_len || len > s->disk_len - off)
		return -EINVAL;
	memcpy(s->disk + off, buf, len);
	return 0;
}

struct group *sim_group(const struct sim *s, uint32_t node)
{
	return node >= 1 && node <= s->p.n_nodes ? s->nodes[node].g : NULL;
}

bool sim_node_up(const struct sim *s, uint32_t node)
{
	return node >= 1 && node <= s->p.n_nodes && s->nodes[node].up;
}

unsigned sim_component(const struct sim *s, uint32_t node)
{
	return s->nodes[node].comp;
}

unsigned sim_n_nodes(const struct sim *s)
{
	return s->p.n_nodes;
}

unsigned sim_errors(const struct sim *s)
{
	return s->errors;
}

uint64_t sim_sent(const struct sim *s)
{
	return s->sent;
}
