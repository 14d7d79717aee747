/*
 * cpg: corosync CPG transport for one log group, and the daemon's quorum tracker.
 *
 * Owns: one CPG handle per log group, its fd registration in the qb loop, and the timers
 * that stand in for every blocking retry (style.md rule 10: no sleep, no spin on TRY_AGAIN).
 *
 * Invariants:
 *  - every callback to the owner runs from the loop, never nested inside a call the owner
 *    made (lost/leave-done are deferred through a zero timer), so the group never sees
 *    re-entrant input;
 *  - TRY_AGAIN from cpg_mcast_joined is -EAGAIN to the caller plus a retry timer
 *    (ops->retry); TRY_AGAIN/EXIST from cpg_join and TRY_AGAIN from cpg_leave are retried
 *    from a timer (EXIST: another local instance of the same uuid is still leaving);
 *  - a lost connection (POLLHUP, CS_ERR_LIBRARY, eviction from our own member list) tears the
 *    handle down, reports ops->lost once and reconnects every CMCPG_RECONNECT_MS; a successful
 *    re-join reports ops->restored.
 *  - group names follow the strlen+1 convention (the NUL is part of the name).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <corosync/corotypes.h>
#include <corosync/cpg.h>
#include <corosync/quorum.h>
#include <qb/qblog.h>
#include <qb/qbutil.h>

#include "cluster/cpg.h"

#define CMCPG_JOIN_RETRY_MS  100u
#define CMCPG_SEND_RETRY_MIN 5u
#define CMCPG_SEND_RETRY_MAX 200u
#define CMCPG_UUID_KEEP	     104u
/* Messages dispatched per wakeup of a group's fd (bounded: the kernel link must get turns). */
#define CMCPG_DISPATCH_BURST 64u

enum cmcpg_state {
	CMCPG_DOWN,    /* no handle: reconnect timer armed */
	CMCPG_JOINING, /* handle open, cpg_join not yet accepted */
	CMCPG_JOINED,  /* cpg_join accepted: sends allowed */
	CMCPG_LEAVING, /* cpg_leave not yet accepted */
	CMCPG_LEFT,    /* left (or given up): nothing more to do */
};

struct cmcpg {
	qb_loop_t *loop;
	struct cmcpg_ops ops;
	void *ctx;
	char uuid[129];
	struct cpg_name name;
	enum cmcpg_state state;
	cpg_handle_t handle;
	bool have_handle;
	int fd;
	bool fd_in_loop;
	uint32_t nodeid;
	uint32_t pid;
	bool seen_self;	    /* our own (nodeid, pid) appeared in a member list */
	bool reported_lost; /* ops->lost was called and ops->restored is owed */
	bool lost_pending;  /* lost must be reported from the deferred timer */
	bool want_leave;
	void (*leave_done)(void *ctx);
	uint32_t send_backoff_ms;
	qb_loop_timer_handle reconnect_timer;
	qb_loop_timer_handle join_timer;
	qb_loop_timer_handle send_timer;
	qb_loop_timer_handle defer_timer;
	struct cpg_ring_id ring;
};

static const char *cs_str(cs_error_t e)
{
	switch (e) {
	case CS_OK:
		return "ok";
	case CS_ERR_LIBRARY:
		return "library (corosync gone)";
	case CS_ERR_TRY_AGAIN:
		return "try again";
	case CS_ERR_INVALID_PARAM:
		return "invalid param";
	case CS_ERR_BAD_HANDLE:
		return "bad handle";
	case CS_ERR_EXIST:
		return "exist";
	case CS_ERR_NOT_EXIST:
		return "not exist";
	case CS_ERR_TOO_BIG:
		return "too big";
	case CS_ERR_QUEUE_FULL:
		return "queue full";
	default:
		return "other";
	}
}

/* FNV-1a 64: a fixed hash so every node derives the same name for a long uuid. */
static uint64_t fnv1a64(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

size_t cmcpg_group_name(const char *uuid, char *name, size_t cap)
{
	size_t ulen;
	int n;

	if (cap < CPG_MAX_NAME_LENGTH)
		return 0;
	memset(name, 0, cap);
	if (!uuid) {
		n = snprintf(name, cap, "%s", CMCPG_DAEMON_GROUP);
		return (size_t)n + 1;
	}
	ulen = strnlen(uuid, 128);
	if (sizeof(CMCPG_NAME_PREFIX) + ulen <= CPG_MAX_NAME_LENGTH) {
		n = snprintf(name, cap, "%s%.*s", CMCPG_NAME_PREFIX, (int)ulen, uuid);
	} else {
		/* 6 + 16 + 1 + 104 + NUL = 128 */
		n = snprintf(name, cap, "%s%016llx:%.*s", CMCPG_HASH_PREFIX,
			     (unsigned long long)fnv1a64(uuid), (int)CMCPG_UUID_KEEP, uuid);
	}
	if (n < 0 || (size_t)n >= CPG_MAX_NAME_LENGTH)
		return 0;
	return (size_t)n + 1;
}

/*
 * Timer handles are tracked here, not with qb_loop_timer_is_running: a timer that has
 * expired but whose callback is still queued as a loop job is "not running" for libqb, yet
 * its callback would run after we freed the object. So a handle stays non-zero from arming
 * until its callback starts (each callback clears it first) or stop_timer deletes it.
 */
static void arm_timer(struct cmcpg *c, qb_loop_timer_handle *h, uint32_t ms, void (*fn)(void *data))
{
	if (*h)
		return;
	if (qb_loop_timer_add(c->loop, QB_LOOP_MED, (uint64_t)ms * QB_TIME_NS_IN_MSEC, c, fn, h) !=
	    0) {
		*h = 0;
		qb_log(LOG_ERR, "cpg %s: cannot arm a timer", c->uuid);
	}
}

static void stop_timer(struct cmcpg *c, qb_loop_timer_handle *h)
{
	if (*h)
		qb_loop_timer_del(c->loop, *h);
	*h = 0;
}

static void teardown_handle(struct cmcpg *c)
{
	if (c->fd_in_loop) {
		qb_loop_poll_del(c->loop, c->fd);
		c->fd_in_loop = false;
	}
	if (c->have_handle) {
		cpg_finalize(c->handle);
		c->have_handle = false;
	}
	c->fd = -1;
	c->seen_self = false;
}

static void reconnect_cb(void *data);
static void join_cb(void *data);

static void send_retry_cb(void *data)
{
	struct cmcpg *c = data;

	c->send_timer = 0;
	if (c->ops.retry)
		c->ops.retry(c->ctx);
}

/* Deferred work: report lost / leave done outside the caller's stack. */
static void defer_cb(void *data)
{
	struct cmcpg *c = data;

	c->defer_timer = 0;
	if (c->lost_pending) {
		c->lost_pending = false;
		if (!c->reported_lost) {
			c->reported_lost = true;
			if (c->ops.lost)
				c->ops.lost(c->ctx);
		}
	}
	if (c->state == CMCPG_LEFT && c->leave_done) {
		void (*done)(void *) = c->leave_done;

		c->leave_done = NULL;
		done(c->ctx);
	}
}

/* The connection is unusable: drop it, report lost (deferred) and reconnect. */
static void cmcpg_fail(struct cmcpg *c, const char *why)
{
	if (c->state == CMCPG_DOWN || c->state == CMCPG_LEFT)
		return;
	qb_log(LOG_WARNING, "cpg %s: transport lost (%s); reconnecting every %u ms", c->uuid, why,
	       CMCPG_RECONNECT_MS);
	teardown_handle(c);
	stop_timer(c, &c->join_timer);
	stop_timer(c, &c->send_timer);
	if (c->want_leave) {
		/* We were leaving anyway: the group is gone for us. */
		c->state = CMCPG_LEFT;
	} else {
		c->state = CMCPG_DOWN;
		c->lost_pending = true;
		arm_timer(c, &c->reconnect_timer, CMCPG_RECONNECT_MS, reconnect_cb);
	}
	arm_timer(c, &c->defer_timer, 0, defer_cb);
}

static void addr_nodeids(const struct cpg_address *a, size_t n, uint32_t *out, size_t *n_out)
{
	size_t i, j;

	*n_out = 0;
	for (i = 0; i < n && i < CPG_MEMBERS_MAX; i++) {
		/* One daemon per node: a node id is a member once, whatever its pids. */
		for (j = 0; j < *n_out; j++)
			if (out[j] == a[i].nodeid)
				break;
		if (j == *n_out)
			out[(*n_out)++] = a[i].nodeid;
	}
}

static void on_deliver(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid, uint32_t pid,
		       void *msg, size_t len)
{
	struct cmcpg *c = NULL;

	if (cpg_context_get(h, (void **)&c) != CS_OK || !c)
		return;
	if (c->state != CMCPG_JOINED && c->state != CMCPG_LEAVING)
		return;
	if (c->ops.deliver)
		c->ops.deliver(c->ctx, nodeid, msg, len);
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *group,
		       const struct cpg_address *members, size_t n_members,
		       const struct cpg_address *left, size_t n_left,
		       const struct cpg_address *joined, size_t n_joined)
{
	struct cmcpg *c = NULL;
	uint32_t m[CPG_MEMBERS_MAX], l[CPG_MEMBERS_MAX], j[CPG_MEMBERS_MAX];
	size_t nm, nl, nj, i;
	bool self = false;

	if (cpg_context_get(h, (void **)&c) != CS_OK || !c)
		return;
	for (i = 0; i < n_members; i++)
		if (members[i].nodeid == c->nodeid && members[i].pid == c->pid)
			self = true;
	qb_log(LOG_INFO, "cpg %s: confchg members %zu left %zu joined %zu%s", c->uuid, n_members,
	       n_left, n_joined, self ? "" : " (self absent)");
	if (c->state == CMCPG_LEAVING || c->state == CMCPG_LEFT)
		return;
	if (!self) {
		if (c->seen_self) {
			/* Evicted from our own group (pacemaker treats this as fatal): rejoin clean. */
			cmcpg_fail(c, "evicted from the group");
		}
		return;
	}
	c->seen_self = true;
	addr_nodeids(members, n_members, m, &nm);
	addr_nodeids(left, n_left, l, &nl);
	addr_nodeids(joined, n_joined, j, &nj);
	/* A node id still in the member list did not leave (another of its pids did). */
	for (i = 0; i < nl;) {
		size_t k;
		bool still = false;

		for (k = 0; k < nm; k++)
			if (m[k] == l[i])
				still = true;
		if (still)
			l[i] = l[--nl];
		else
			i++;
	}
	if (c->ops.confchg)
		c->ops.confchg(c->ctx, m, nm, l, nl, j, nj);
}

static void on_totem(cpg_handle_t h, struct cpg_ring_id ring, uint32_t n, const uint32_t *list)
{
	struct cmcpg *c = NULL;

	if (cpg_context_get(h, (void **)&c) != CS_OK || !c)
		return;
	c->ring = ring;
	qb_log(LOG_DEBUG, "cpg %s: totem ring %u.%llu, %u nodes", c->uuid, ring.nodeid,
	       (unsigned long long)ring.seq, n);
}

static int32_t cpg_fd_cb(int32_t fd, int32_t revents, void *data)
{
	struct cmcpg *c = data;
	cs_error_t e = CS_OK;
	unsigned int i;

	if (revents & POLLIN) {
		/*
		 * Up to CMCPG_DISPATCH_BURST messages per wakeup, one at a time: a burst of
		 * deliveries costs one loop pass instead of one per message, and the bound keeps a
		 * busy group from starving the kernel link (pacemaker dispatches one). Not
		 * CS_DISPATCH_ALL: in corosync 3.1.7 (lib/cpg.c) it never blocks (timeout 0) but
		 * has no bound. ONE_NONBLOCKING answers CS_ERR_TRY_AGAIN once the queue is empty.
		 * A callback that finalizes the handle (eviction) makes the next call fail, which
		 * takes the lost path below exactly as a single dispatch did.
		 */
		for (i = 0; i < CMCPG_DISPATCH_BURST; i++) {
			e = cpg_dispatch(c->handle, CS_DISPATCH_ONE_NONBLOCKING);
			if (e == CS_ERR_TRY_AGAIN)
				return 0;
			if (e != CS_OK)
				break;
		}
		if (e == CS_OK)
			return 0;
		c->fd_in_loop = false;
		cmcpg_fail(c, cs_str(e));
		return -1;
	}
	if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
		c->fd_in_loop = false;
		cmcpg_fail(c, "connection hung up");
		return -1;
	}
	return 0;
}

/* Open the handle and register its fd; then try to join. Failures are retried. */
static void cmcpg_connect(struct cmcpg *c)
{
	cpg_model_v1_data_t model;
	cs_error_t e;
	unsigned int nodeid = 0;

	memset(&model, 0, sizeof(model));
	model.model = CPG_MODEL_V1;
	model.cpg_deliver_fn = on_deliver;
	model.cpg_confchg_fn = on_confchg;
	model.cpg_totem_confchg_fn = on_totem;
	model.flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF;
	e = cpg_model_initialize(&c->handle, CPG_MODEL_V1, (cpg_model_data_t *)&model, c);
	if (e != CS_OK) {
		qb_log(LOG_DEBUG, "cpg %s: cpg_model_initialize: %s", c->uuid, cs_str(e));
		goto fail;
	}
	c->have_handle = true;
	e = cpg_local_get(c->handle, &nodeid);
	if (e != CS_OK)
		goto fail;
	c->nodeid = nodeid;
	e = cpg_fd_get(c->handle, &c->fd);
	if (e != CS_OK)
		goto fail;
	if (qb_loop_poll_add(c->loop, QB_LOOP_HIGH, c->fd, POLLIN, c, cpg_fd_cb) != 0)
		goto fail;
	c->fd_in_loop = true;
	c->state = CMCPG_JOINING;
	join_cb(c);
	return;
fail:
	teardown_handle(c);
	c->state = CMCPG_DOWN;
	if (!c->reported_lost && !c->lost_pending) {
		qb_log(LOG_WARNING, "cpg %s: corosync not reachable; retrying every %u ms", c->uuid,
		       CMCPG_RECONNECT_MS);
		c->lost_pending = true;
		arm_timer(c, &c->defer_timer, 0, defer_cb);
	}
	arm_timer(c, &c->reconnect_timer, CMCPG_RECONNECT_MS, reconnect_cb);
}

static void reconnect_cb(void *data)
{
	struct cmcpg *c = data;

	c->reconnect_timer = 0;
	if (c->state == CMCPG_DOWN && !c->want_leave)
		cmcpg_connect(c);
}

static void join_timer_cb(void *data);

static void join_cb(void *data)
{
	struct cmcpg *c = data;
	cs_error_t e;

	if (c->state != CMCPG_JOINING)
		return;
	e = cpg_join(c->handle, &c->name);
	if (e == CS_ERR_TRY_AGAIN || e == CS_ERR_EXIST || e == CS_ERR_QUEUE_FULL) {
		/* EXIST: a previous local instance of this uuid is still in the group. */
		arm_timer(c, &c->join_timer, CMCPG_JOIN_RETRY_MS, join_timer_cb);
		return;
	}
	if (e != CS_OK) {
		cmcpg_fail(c, cs_str(e));
		return;
	}
	c->state = CMCPG_JOINED;
	c->send_backoff_ms = 0;
	qb_log(LOG_INFO, "cpg %s: joined %s as node %u", c->uuid, c->name.value, c->nodeid);
	if (c->reported_lost || c->lost_pending) {
		/* Also when lost was still pending: the owner may be waiting for a join. */
		bool owed = c->reported_lost || c->lost_pending;

		c->reported_lost = false;
		c->lost_pending = false;
		if (owed && c->ops.restored)
			c->ops.restored(c->ctx);
	}
}

int cmcpg_create(struct cmcpg **out, qb_loop_t *loop, const char *uuid, const struct cmcpg_ops *ops,
		 void *ctx)
{
	struct cmcpg *c;
	size_t len;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	len = cmcpg_group_name(uuid, c->name.value, sizeof(c->name.value));
	if (len == 0) {
		free(c);
		return -EINVAL;
	}
	c->name.length = (uint32_t)len;
	snprintf(c->uuid, sizeof(c->uuid), "%s", uuid ? uuid : CMCPG_DAEMON_GROUP);
	c->loop = loop;
	c->ops = *ops;
	c->ctx = ctx;
	c->fd = -1;
	c->pid = (uint32_t)getpid();
	c->state = CMCPG_DOWN;
	cmcpg_connect(c);
	*out = c;
	return 0;
}

int cmcpg_send(struct cmcpg *c, const struct iovec *iov, unsigned int n_iov)
{
	cs_error_t e;

	if (c->state == CMCPG_JOINING) {
		/* Join still retrying: hold the message and come back when it may be accepted. */
		arm_timer(c, &c->send_timer, CMCPG_JOIN_RETRY_MS, send_retry_cb);
		return -EAGAIN;
	}
	if (c->state != CMCPG_JOINED)
		return -ENOTCONN;
	e = cpg_mcast_joined(c->handle, CPG_TYPE_AGREED, iov, n_iov);
	switch (e) {
	case CS_OK:
		c->send_backoff_ms = 0;
		return 0;
	case CS_ERR_TRY_AGAIN:
	case CS_ERR_QUEUE_FULL:
		/* Back-pressure: the group keeps the message; pacemaker-style timer retry. */
		c->send_backoff_ms =
			c->send_backoff_ms ? c->send_backoff_ms * 2 : CMCPG_SEND_RETRY_MIN;
		if (c->send_backoff_ms > CMCPG_SEND_RETRY_MAX)
			c->send_backoff_ms = CMCPG_SEND_RETRY_MAX;
		arm_timer(c, &c->send_timer, c->send_backoff_ms, send_retry_cb);
		return -EAGAIN;
	case CS_ERR_TOO_BIG:
		return -EMSGSIZE;
	default:
		cmcpg_fail(c, cs_str(e));
		return -ENOTCONN;
	}
}

static void join_timer_cb(void *data)
{
	struct cmcpg *c = data;

	c->join_timer = 0;
	join_cb(c);
}

static void leave_timer_cb(void *data);

static void leave_cb(void *data)
{
	struct cmcpg *c = data;
	cs_error_t e;

	if (c->state != CMCPG_LEAVING)
		return;
	e = cpg_leave(c->handle, &c->name);
	if (e == CS_ERR_TRY_AGAIN || e == CS_ERR_QUEUE_FULL) {
		arm_timer(c, &c->join_timer, CMCPG_JOIN_RETRY_MS, leave_timer_cb);
		return;
	}
	if (e != CS_OK)
		qb_log(LOG_WARNING, "cpg %s: cpg_leave: %s", c->uuid, cs_str(e));
	else
		qb_log(LOG_INFO, "cpg %s: left %s", c->uuid, c->name.value);
	/* Finalize now: peers see LEAVE (or PROCDOWN on error); nothing is delivered to us. */
	teardown_handle(c);
	c->state = CMCPG_LEFT;
	arm_timer(c, &c->defer_timer, 0, defer_cb);
}

static void leave_timer_cb(void *data)
{
	struct cmcpg *c = data;

	c->join_timer = 0;
	leave_cb(c);
}

void cmcpg_leave(struct cmcpg *c, void (*done)(void *ctx))
{
	c->want_leave = true;
	c->leave_done = done;
	stop_timer(c, &c->reconnect_timer);
	stop_timer(c, &c->join_timer);
	stop_timer(c, &c->send_timer);
	switch (c->state) {
	case CMCPG_JOINED:
		c->state = CMCPG_LEAVING;
		leave_cb(c);
		break;
	case CMCPG_LEAVING:
		break;
	default:
		/* Never joined (or transport down): nothing to leave. */
		teardown_handle(c);
		c->state = CMCPG_LEFT;
		arm_timer(c, &c->defer_timer, 0, defer_cb);
		break;
	}
}

void cmcpg_destroy(struct cmcpg *c)
{
	if (!c)
		return;
	stop_timer(c, &c->reconnect_timer);
	stop_timer(c, &c->join_timer);
	stop_timer(c, &c->send_timer);
	stop_timer(c, &c->defer_timer);
	teardown_handle(c);
	free(c);
}

uint32_t cmcpg_local_nodeid(const struct cmcpg *c)
{
	return c->nodeid;
}

void cmcpg_rejoin(struct cmcpg *c, const char *why)
{
	cmcpg_fail(c, why);
}

bool cmcpg_ring(const struct cmcpg *c, uint32_t *nodeid, uint64_t *seq)
{
	if (!c->ring.nodeid)
		return false;
	*nodeid = c->ring.nodeid;
	*seq = c->ring.seq;
	return true;
}

bool cmcpg_is_up(const struct cmcpg *c)
{
	return c->state == CMCPG_JOINED;
}

/* ---- quorum ----------------------------------------------------------------------------- */

struct cmcpg_quorum {
	qb_loop_t *loop;
	void (*changed)(void *ctx, bool quorate);
	void *ctx;
	quorum_handle_t handle;
	bool have_handle;
	int fd;
	bool fd_in_loop;
	bool quorate;
	bool warned;
	qb_loop_timer_handle timer;
};

static void quorum_connect_cb(void *data);

static void quorum_set(struct cmcpg_quorum *q, bool quorate)
{
	if (q->quorate != quorate)
		qb_log(LOG_NOTICE, "quorum: %s", quorate ? "quorate" : "NOT quorate");
	q->quorate = quorate;
	if (q->changed)
		q->changed(q->ctx, quorate);
}

static void quorum_teardown(struct cmcpg_quorum *q)
{
	if (q->fd_in_loop) {
		qb_loop_poll_del(q->loop, q->fd);
		q->fd_in_loop = false;
	}
	if (q->have_handle) {
		quorum_finalize(q->handle);
		q->have_handle = false;
	}
}

static void quorum_lost(struct cmcpg_quorum *q, const char *why)
{
	qb_log(LOG_WARNING, "quorum: lost connection to corosync (%s); reconnecting", why);
	quorum_teardown(q);
	quorum_set(q, false);
	if (!q->timer)
		qb_loop_timer_add(q->loop, QB_LOOP_MED,
				  (uint64_t)CMCPG_RECONNECT_MS * QB_TIME_NS_IN_MSEC, q,
				  quorum_connect_cb, &q->timer);
}

static void on_quorum(quorum_handle_t h, uint32_t quorate, uint64_t ring_seq, uint32_t n,
		      uint32_t *view)
{
	struct cmcpg_quorum *q = NULL;

	if (quorum_context_get(h, (const void **)&q) != CS_OK || !q)
		return;
	qb_log(LOG_DEBUG, "quorum: quorate=%u ring %llu, %u nodes", quorate,
	       (unsigned long long)ring_seq, n);
	quorum_set(q, quorate != 0);
}

static int32_t quorum_fd_cb(int32_t fd, int32_t revents, void *data)
{
	struct cmcpg_quorum *q = data;
	cs_error_t e;

	if (revents & POLLIN) {
		e = quorum_dispatch(q->handle, CS_DISPATCH_ALL);
		if (e == CS_OK || e == CS_ERR_TRY_AGAIN)
			return 0;
		q->fd_in_loop = false;
		quorum_lost(q, cs_str(e));
		return -1;
	}
	if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
		q->fd_in_loop = false;
		quorum_lost(q, "connection hung up");
		return -1;
	}
	return 0;
}

static void quorum_connect_cb(void *data)
{
	struct cmcpg_quorum *q = data;
	quorum_model_v0_data_t model;
	uint32_t type = 0;
	int quorate = 0;
	cs_error_t e;

	q->timer = 0;
	memset(&model, 0, sizeof(model));
	model.model = QUORUM_MODEL_V0;
	model.quorum_notify_fn = on_quorum;
	e = quorum_model_initialize(&q->handle, QUORUM_MODEL_V0, (quorum_model_data_t *)&model,
				    &type, q);
	if (e != CS_OK)
		goto retry;
	q->have_handle = true;
	if (quorum_fd_get(q->handle, &q->fd) != CS_OK)
		goto retry;
	if (qb_loop_poll_add(q->loop, QB_LOOP_HIGH, q->fd, POLLIN, q, quorum_fd_cb) != 0)
		goto retry;
	q->fd_in_loop = true;
	e = quorum_trackstart(q->handle, CS_TRACK_CURRENT | CS_TRACK_CHANGES);
	if (e != CS_OK)
		goto retry;
	if (quorum_getquorate(q->handle, &quorate) == CS_OK)
		quorum_set(q, quorate != 0);
	q->warned = false;
	qb_log(LOG_INFO, "quorum: tracking (provider type %u)", type);
	return;
retry:
	quorum_teardown(q);
	if (!q->warned) {
		qb_log(LOG_WARNING, "quorum: corosync not reachable (%s); retrying", cs_str(e));
		q->warned = true;
	}
	qb_loop_timer_add(q->loop, QB_LOOP_MED, (uint64_t)CMCPG_RECONNECT_MS * QB_TIME_NS_IN_MSEC,
			  q, quorum_connect_cb, &q->timer);
}

int cmcpg_quorum_create(struct cmcpg_quorum **out, qb_loop_t *loop,
			void (*changed)(void *ctx, bool quorate), void *ctx)
{
	struct cmcpg_quorum *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->loop = loop;
	q->changed = changed;
	q->ctx = ctx;
	q->fd = -1;
	quorum_connect_cb(q);
	*out = q;
	return 0;
}

bool cmcpg_quorum_is_quorate(const struct cmcpg_quorum *q)
{
	return q->quorate;
}

void cmcpg_quorum_refresh(struct cmcpg_quorum *q)
{
	int quorate = 0;

	if (!q->have_handle)
		return;
	if (quorum_getquorate(q->handle, &quorate) == CS_OK && (quorate != 0) != q->quorate)
		quorum_set(q, quorate != 0);
}

void cmcpg_quorum_destroy(struct cmcpg_quorum *q)
{
	if (!q)
		return;
	if (q->timer)
		qb_loop_timer_del(q->loop, q->timer);
	quorum_teardown(q);
	free(q);
}
