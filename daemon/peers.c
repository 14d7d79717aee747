/*
 * peers: cmlogd's daemon-wide CPG group "cmlog!daemon" (operator queries across nodes).
 *
 * Owns the group's transport (one struct cmcpg, cluster/cpg.c), its member list with what
 * each member announced, an outbox for sends refused with -EAGAIN, and the pending cluster
 * queries with their timers. Invariants:
 *  - every callback runs on the loop thread; a query's done callback runs exactly once
 *    (all answered, timeout, or destroy);
 *  - input from the group is decoded by peers_msg_decode and a sender field that differs
 *    from the CPG-delivered node id is dropped: a reply is never attributed to another node;
 *  - a reply is only accepted from a node the query was waiting for, once;
 *  - this group carries no log state: losing it or a malformed message never touches a log.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>
#include <qb/qbutil.h>

#include "cluster/cpg.h"
#include "cluster/group.h"
#include "daemon/peers.h"
#include "peers_wire.h"

struct peers_out {
	struct peers_out *next;
	size_t len;
	uint8_t buf[];
};

struct peers_query {
	struct peers *p;
	struct peers_query *next;
	uint64_t id;
	peers_done_fn done;
	void *ctx;
	qb_loop_timer_handle timer;
	size_t n, n_answered;
	struct peers_answer a[PEERS_MAX_MEMBERS];
};

struct peers {
	qb_loop_t *loop;
	struct peers_ops ops;
	void *ctx;
	struct cmcpg *cpg;
	bool up;
	size_t n_members;
	struct peers_member members[PEERS_MAX_MEMBERS];
	struct peers_out *out_head, *out_tail;
	struct peers_query *queries;
	uint64_t next_id;
	uint64_t bad_messages;
};

static void flush_outbox(struct peers *p)
{
	struct peers_out *o;
	struct iovec iov;
	int r;

	while ((o = p->out_head) != NULL) {
		iov.iov_base = o->buf;
		iov.iov_len = o->len;
		r = cmcpg_send(p->cpg, &iov, 1);
		if (r == -EAGAIN)
			return; /* ops->retry calls us again */
		if (r)
			qb_log(LOG_DEBUG, "daemon group: message dropped: %s", strerror(-r));
		p->out_head = o->next;
		if (!p->out_head)
			p->out_tail = NULL;
		free(o);
	}
}

static void drop_outbox(struct peers *p)
{
	struct peers_out *o;

	while ((o = p->out_head) != NULL) {
		p->out_head = o->next;
		free(o);
	}
	p->out_tail = NULL;
}

static int send_msg(struct peers *p, const struct peers_msg *m)
{
	size_t cap = PEERS_HDR_LEN + 8u + (m->type == PEERS_REPLY ? m->json_len : 0);
	struct peers_out *o = malloc(sizeof(*o) + cap);
	int n;

	if (!o)
		return -ENOMEM;
	n = peers_msg_encode(o->buf, cap, m);
	if (n < 0) {
		free(o);
		return n;
	}
	o->len = (size_t)n;
	o->next = NULL;
	if (p->out_tail)
		p->out_tail->next = o;
	else
		p->out_head = o;
	p->out_tail = o;
	flush_outbox(p);
	return 0;
}

static void announce(struct peers *p)
{
	struct peers_msg m;

	if (!p->up)
		return;
	memset(&m, 0, sizeof(m));
	m.type = PEERS_ANNOUNCE;
	m.sender = cmcpg_local_nodeid(p->cpg);
	m.protocol_max = GROUP_PROTO_VERSION_MAX;
	m.n_logs = p->ops.n_logs ? p->ops.n_logs(p->ctx) : 0;
	send_msg(p, &m);
}

void peers_announce(struct peers *p)
{
	announce(p);
}

/* ---- queries ---- */

static void query_complete(struct peers_query *q, int err)
{
	struct peers *p = q->p;
	struct peers_query **pp;
	size_t i;

	for (pp = &p->queries; *pp; pp = &(*pp)->next) {
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	}
	if (q->timer)
		qb_loop_timer_del(p->loop, q->timer);
	for (i = 0; i < q->n; i++)
		if (!q->a[i].answered && !q->a[i].error)
			q->a[i].error = "no answer";
	q->done(q->ctx, err, q->a, q->n);
	/* The receiver took the status objects over. */
	free(q);
}

static void query_timeout(void *data)
{
	struct peers_query *q = data;

	qb_log(LOG_INFO, "cluster query %llu: %zu of %zu nodes answered within %u ms",
	       (unsigned long long)q->id, q->n_answered, q->n, PEERS_QUERY_TIMEOUT_MS);
	q->timer = 0;
	query_complete(q, 0);
}

static int cmp_answer(const void *a, const void *b)
{
	uint32_t x = ((const struct peers_answer *)a)->node_id;
	uint32_t y = ((const struct peers_answer *)b)->node_id;

	return x < y ? -1 : x > y;
}

int peers_query(struct peers *p, peers_done_fn done, void *ctx)
{
	struct peers_query *q = calloc(1, sizeof(*q));
	struct peers_msg m;
	size_t i;
	int r;

	if (!q)
		return -ENOMEM;
	q->p = p;
	q->id = ++p->next_id;
	q->done = done;
	q->ctx = ctx;
	if (!p->up || p->n_members == 0) {
		/* No daemon group (corosync down): the local node is all we can show. */
		q->n = 1;
		q->a[0].node_id = cmcpg_local_nodeid(p->cpg);
		q->a[0].status = p->ops.local_status(p->ctx);
		q->a[0].answered = q->a[0].status != NULL;
		q->a[0].error = q->a[0].status ? NULL : "out of memory";
		done(ctx, 0, q->a, 1);
		free(q);
		return 0;
	}
	for (i = 0; i < p->n_members; i++)
		q->a[i].node_id = p->members[i].node_id;
	q->n = p->n_members;
	qsort(q->a, q->n, sizeof(q->a[0]), cmp_answer);
	memset(&m, 0, sizeof(m));
	m.type = PEERS_QUERY;
	m.sender = cmcpg_local_nodeid(p->cpg);
	m.asker = m.sender;
	m.id = q->id;
	r = send_msg(p, &m);
	if (r) {
		free(q);
		return r;
	}
	q->next = p->queries;
	p->queries = q;
	qb_loop_timer_add(p->loop, QB_LOOP_MED,
			  (uint64_t)PEERS_QUERY_TIMEOUT_MS * QB_TIME_NS_IN_MSEC, q, query_timeout,
			  &q->timer);
	return 0;
}

static void answer_query(struct peers *p, const struct peers_msg *qm)
{
	struct json_object *st = p->ops.local_status(p->ctx);
	struct peers_msg m;
	const char *s;
	size_t len;

	memset(&m, 0, sizeof(m));
	m.type = PEERS_REPLY;
	m.sender = cmcpg_local_nodeid(p->cpg);
	m.asker = qm->asker;
	m.id = qm->id;
	s = st ? json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE)
	       : NULL;
	len = s ? strlen(s) : 0;
	if (!s || len > PEERS_JSON_MAX) {
		m.flags = PEERS_REPLY_TOO_LARGE;
	} else {
		m.json = s;
		m.json_len = (uint32_t)len;
	}
	if (send_msg(p, &m) != 0)
		qb_log(LOG_WARNING, "daemon group: cannot answer query %llu of node %u",
		       (unsigned long long)qm->id, qm->asker);
	json_object_put(st);
}

static void take_reply(struct peers *p, const struct peers_msg *m)
{
	struct peers_query *q;
	struct peers_answer *a = NULL;
	size_t i;

	if (m->asker != cmcpg_local_nodeid(p->cpg))
		return; /* somebody else's query */
	for (q = p->queries; q; q = q->next)
		if (q->id == m->id)
			break;
	if (!q)
		return; /* timed out already */
	for (i = 0; i < q->n; i++)
		if (q->a[i].node_id == m->sender)
			a = &q->a[i];
	if (!a || a->answered || a->error)
		return;
	if (m->flags & PEERS_REPLY_TOO_LARGE) {
		a->error = "status too large to send";
	} else {
		struct json_tokener *tok = json_tokener_new();
		struct json_object *o = NULL;

		if (tok) {
			o = json_tokener_parse_ex(tok, m->json, (int)m->json_len);
			if (json_tokener_get_error(tok) != json_tokener_success) {
				json_object_put(o);
				o = NULL;
			}
			json_tokener_free(tok);
		}
		if (o && json_object_is_type(o, json_type_object)) {
			a->status = o;
			a->answered = true;
		} else {
			json_object_put(o);
			a->error = "malformed status";
		}
	}
	q->n_answered++;
	if (q->n_answered == q->n)
		query_complete(q, 0);
}

/* ---- transport callbacks ---- */

static void t_deliver(void *ctx, uint32_t nodeid, const void *buf, size_t len)
{
	struct peers *p = ctx;
	struct peers_msg m;
	size_t i;
	int r = peers_msg_decode(buf, len, &m);

	if (r == 0 && m.sender != nodeid)
		r = -EBADMSG;
	if (r) {
		p->bad_messages++;
		qb_log(LOG_WARNING, "daemon group: rejected a message from node %u (%zu bytes): %s",
		       nodeid, len, strerror(-r));
		return;
	}
	switch (m.type) {
	case PEERS_ANNOUNCE:
		for (i = 0; i < p->n_members; i++) {
			if (p->members[i].node_id == nodeid) {
				p->members[i].announced = true;
				p->members[i].protocol_max = m.protocol_max;
				p->members[i].n_logs = m.n_logs;
			}
		}
		break;
	case PEERS_QUERY:
		answer_query(p, &m);
		break;
	case PEERS_REPLY:
		take_reply(p, &m);
		break;
	}
}

static int cmp_member(const void *a, const void *b)
{
	uint32_t x = ((const struct peers_member *)a)->node_id;
	uint32_t y = ((const struct peers_member *)b)->node_id;

	return x < y ? -1 : x > y;
}

static void t_confchg(void *ctx, const uint32_t *members, size_t n_members, const uint32_t *left,
		      size_t n_left, const uint32_t *joined, size_t n_joined)
{
	struct peers *p = ctx;
	struct peers_member old[PEERS_MAX_MEMBERS];
	size_t n_old = p->n_members, i, k;
	struct peers_query *q;

	memcpy(old, p->members, sizeof(old[0]) * n_old);
	p->n_members = 0;
	for (i = 0; i < n_members && i < PEERS_MAX_MEMBERS; i++) {
		struct peers_member *pm = &p->members[p->n_members++];

		memset(pm, 0, sizeof(*pm));
		pm->node_id = members[i];
		for (k = 0; k < n_old; k++)
			if (old[k].node_id == members[i])
				*pm = old[k];
	}
	qsort(p->members, p->n_members, sizeof(p->members[0]), cmp_member);
	p->up = true;
	/* A node that left cannot answer: stop waiting for it. */
	for (q = p->queries; q;) {
		struct peers_query *next = q->next;

		for (i = 0; i < n_left; i++) {
			for (k = 0; k < q->n; k++) {
				if (q->a[k].node_id == left[i] && !q->a[k].answered &&
				    !q->a[k].error) {
					q->a[k].error = "left the daemon group";
					q->n_answered++;
				}
			}
		}
		if (q->n_answered == q->n)
			query_complete(q, 0);
		q = next;
	}
	if (p->ops.membership)
		p->ops.membership(p->ctx, members, n_members, left, n_left, joined, n_joined);
	announce(p);
}

static void t_lost(void *ctx)
{
	struct peers *p = ctx;

	qb_log(LOG_WARNING, "daemon group: connection to corosync lost; reconnecting");
	p->up = false;
	p->n_members = 0;
	drop_outbox(p);
}

static void t_restored(void *ctx)
{
	qb_log(LOG_NOTICE, "daemon group: joined again");
}

static void t_retry(void *ctx)
{
	flush_outbox(ctx);
}

static const struct cmcpg_ops peers_cpg_ops = {
	.deliver = t_deliver,
	.confchg = t_confchg,
	.lost = t_lost,
	.restored = t_restored,
	.retry = t_retry,
};

int peers_create(struct peers **out, qb_loop_t *loop, const struct peers_ops *ops, void *ctx)
{
	struct peers *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->loop = loop;
	p->ops = *ops;
	p->ctx = ctx;
	r = cmcpg_create(&p->cpg, loop, NULL, &peers_cpg_ops, p);
	if (r) {
		free(p);
		return r;
	}
	*out = p;
	return 0;
}

void peers_destroy(struct peers *p)
{
	if (!p)
		return;
	/* Unlink each before completing it, so the loop never looks at a freed entry. */
	while (p->queries) {
		struct peers_query *q = p->queries;

		p->queries = q->next;
		q->next = NULL;
		query_complete(q, -ECANCELED);
	}
	drop_outbox(p);
	/* cmcpg_destroy finalizes the handle: corosync removes us from the group. */
	cmcpg_destroy(p->cpg);
	free(p);
}

size_t peers_members(const struct peers *p, struct peers_member *out, size_t cap)
{
	size_t i;

	for (i = 0; i < p->n_members && i < cap; i++)
		out[i] = p->members[i];
	return i;
}

bool peers_is_up(const struct peers *p)
{
	return p->up;
}

bool peers_ring(const struct peers *p, uint32_t *nodeid, uint64_t *seq)
{
	return p->cpg && p->up && cmcpg_ring(p->cpg, nodeid, seq);
}

uint32_t peers_local_nodeid(const struct peers *p)
{
	return cmcpg_local_nodeid(p->cpg);
}
