/*
 * ctl.c: the control socket server (libqb IPC) behind cmlogctl(8).
 *
 * Owns the qb_ipcs service, the peer check, request decoding and the JSON envelope; the
 * daemon's state comes only through struct ctl_provider. Invariants:
 * - a peer is accepted only when uid 0 or a member of the read-only group; the refusal
 *   (-EACCES) happens in connection_accept, before any request is read;
 * - every request gets exactly one response, with error 0 or -errno and a JSON body
 *   that always carries "api_version" and "command" (and "error" when error != 0);
 * - a malformed request is answered (-EBADMSG) and recorded, never trusted or asserted on;
 * - nothing here blocks: providers read in-memory state on the loop thread.
 */
#include "daemon/ctl.h"

#include <errno.h>
#include <grp.h>
#include <math.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <qb/qbipcs.h>

#include "ctl_wire.h"
#include "daemon/flight.h"

struct ctl_deferred {
	struct ctl *ctl;
	qb_ipcs_connection_t *conn; /* referenced until finished */
	int32_t id;
	struct json_object *out;
	struct ctl_deferred *next;
};

struct ctl {
	qb_ipcs_service_t *svc;
	struct ctl_cfg cfg;
	char service[128];
	const struct ctl_provider *p;
	void *ctx;
	struct ctl_deferred *deferred; /* requests answered later (status --cluster) */
};

/* libqb's poll-handler callbacks carry no loop pointer, so the loop is module state. */
static qb_loop_t *ctl_loop;
static unsigned ctl_open_count;

static const char *const req_names[CTL_REQ_MAX + 1] = {
	[CTL_REQ_STATUS] = "status",   [CTL_REQ_CLUSTER] = "cluster", [CTL_REQ_SHOW] = "show",
	[CTL_REQ_MEMBERS] = "members", [CTL_REQ_DUMP] = "dump",	      [CTL_REQ_VERSION] = "version",
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- qb_loop glue ---- */

static int32_t ph_job_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn)
{
	return qb_loop_job_add(ctl_loop, p, data, fn);
}

static int32_t ph_dispatch_add(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
			       qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_add(ctl_loop, p, fd, events, data, fn);
}

static int32_t ph_dispatch_mod(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
			       qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_mod(ctl_loop, p, fd, events, data, fn);
}

static int32_t ph_dispatch_del(int32_t fd)
{
	return qb_loop_poll_del(ctl_loop, fd);
}

/* ---- access ---- */

/* True when @uid (primary group @gid) is in @want, directly or as a supplementary group. */
static bool in_group(uid_t uid, gid_t gid, gid_t want)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	gid_t groups[256];
	int n = (int)(sizeof(groups) / sizeof(groups[0])), i;

	if (gid == want)
		return true;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return false;
	/* A user in more than 256 groups gets -1 here and is refused: fail closed. */
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		return false;
	for (i = 0; i < n; i++)
		if (groups[i] == want)
			return true;
	return false;
}

static int32_t on_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	struct ctl *ctl = qb_ipcs_connection_service_context_get(c);

	if (uid == 0 || (ctl->cfg.has_ro_group && in_group(uid, gid, ctl->cfg.ro_gid)))
		return 0;
	if (ctl->cfg.flight)
		flight_add(ctl->cfg.flight, now_ms(), FLIGHT_ERROR, NULL,
			   "control: refused peer uid %u gid %u (needs root or the socket group)",
			   (unsigned)uid, (unsigned)gid);
	return -EACCES;
}

static void on_created(qb_ipcs_connection_t *c)
{
}

static int32_t on_closed(qb_ipcs_connection_t *c)
{
	return 0;
}

static void on_destroyed(qb_ipcs_connection_t *c)
{
}

/* ---- replies ---- */

static void send_reply(qb_ipcs_connection_t *c, int32_t id, int32_t error, struct json_object *o)
{
	struct qb_ipc_response_header h;
	struct iovec iov[2];
	const char *s;
	size_t len;

	s = json_object_to_json_string_ext(o,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	len = s ? strlen(s) : 0;
	if (!s || CTL_RESP_HDR + len > CTL_MAX_MSG) {
		/* Too large for the IPC buffer: replace the body with a short error. */
		error = -EMSGSIZE;
		s = "{\"api_version\":1,\"error\":\"reply too large for the control socket\"}";
		len = strlen(s);
	}
	memset(&h, 0, sizeof(h));
	h.id = id;
	h.size = (int32_t)(CTL_RESP_HDR + len);
	h.error = error;
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = (void *)(uintptr_t)s;
	iov[1].iov_len = len;
	/* A client that went away is not our problem; libqb cleans the connection up. */
	(void)qb_ipcs_response_sendv(c, iov, 2);
}

static struct json_object *error_body(const char *command, const char *error)
{
	struct json_object *out = json_object_new_object();

	if (!out)
		return NULL;
	json_object_object_add(out, "api_version", json_object_new_int(CTL_API_VERSION));
	json_object_object_add(out, "command", json_object_new_string(command));
	json_object_object_add(out, "error", json_object_new_string(error));
	return out;
}

static const char *err_text(int err, const struct ctl_req *r, char *buf, size_t len)
{
	switch (err) {
	case -ENOENT:
		snprintf(buf, len, "no log with uuid %s", r->arg);
		return buf;
	case -EOPNOTSUPP:
		return "not supported by this daemon";
	case -EPROTONOSUPPORT:
		return "client api version newer than the daemon's";
	case -EBADMSG:
		return "malformed request";
	case -EINVAL:
		return "invalid request";
	default:
		return strerror(-err);
	}
}

static int dispatch(struct ctl *ctl, const struct ctl_req *r, struct json_object *out)
{
	const struct ctl_provider *p = ctl->p;

	switch (r->id) {
	case CTL_REQ_STATUS:
		return p->status ? p->status(ctl->ctx, out) : -EOPNOTSUPP;
	case CTL_REQ_CLUSTER:
		return p->cluster ? p->cluster(ctl->ctx, out) : -EOPNOTSUPP;
	case CTL_REQ_SHOW:
		if (r->arglen == 0)
			return -EINVAL;
		return p->show ? p->show(ctl->ctx, r->arg, out) : -EOPNOTSUPP;
	case CTL_REQ_MEMBERS:
		return p->members ? p->members(ctl->ctx, out) : -EOPNOTSUPP;
	case CTL_REQ_DUMP:
		return p->dump ? p->dump(ctl->ctx, out) : -EOPNOTSUPP;
	case CTL_REQ_VERSION:
		if (json_object_object_add(out, "version",
					   json_object_new_string(ctl->cfg.daemon_version
									  ? ctl->cfg.daemon_version
									  : "unknown")))
			return -ENOMEM;
		return 0;
	}
	return -EINVAL;
}

static int32_t on_msg(qb_ipcs_connection_t *c, void *data, size_t size)
{
	struct ctl *ctl = qb_ipcs_connection_service_context_get(c);
	struct json_object *out;
	struct ctl_req r;
	int32_t id = 0;
	char ebuf[CTL_ARG_MAX + 64];
	int err;

	memset(&r, 0, sizeof(r));
	if (size >= sizeof(int32_t))
		memcpy(&id, data, sizeof(id));
	err = ctl_req_decode(data, size, &r);
	if (err == 0 && !ctl_req_id_valid(r.id))
		err = -EINVAL;
	if (err == 0 && r.api > CTL_API_VERSION)
		err = -EPROTONOSUPPORT;
	if (err == 0 && r.id != CTL_REQ_SHOW && r.arglen != 0)
		err = -EINVAL;

	out = json_object_new_object();
	if (!out)
		return 0; /* no memory for a reply: the client times out and reports it */
	json_object_object_add(out, "api_version", json_object_new_int(CTL_API_VERSION));
	json_object_object_add(out, "command",
			       json_object_new_string(err == 0 ? req_names[r.id] : "invalid"));
	if (err == 0 && r.id == CTL_REQ_CLUSTER && ctl->p->cluster_async) {
		struct ctl_deferred *d = calloc(1, sizeof(*d));

		if (d) {
			d->ctl = ctl;
			d->conn = c;
			d->id = id;
			d->out = out;
			qb_ipcs_connection_ref(c);
			d->next = ctl->deferred;
			ctl->deferred = d;
			err = ctl->p->cluster_async(ctl->ctx, d);
			if (err == 0)
				return 0; /* answered by ctl_deferred_finish */
			ctl->deferred = d->next;
			qb_ipcs_connection_unref(c);
			free(d);
		} else {
			err = -ENOMEM;
		}
	} else if (err == 0) {
		err = dispatch(ctl, &r, out);
		if (err > 0)
			err = -EINVAL; /* a provider must return 0 or -errno */
	}
	if (err != 0) {
		/* Drop whatever the provider half-filled: an error body carries only the error. */
		json_object_put(out);
		out = error_body(ctl_req_id_valid(r.id) ? req_names[r.id] : "invalid",
				 err_text(err, &r, ebuf, sizeof(ebuf)));
		if (!out)
			return 0;
		if (ctl->cfg.flight && err != -ENOENT)
			flight_add(ctl->cfg.flight, now_ms(), FLIGHT_ERROR, NULL,
				   "control: request %d failed: %s", id,
				   err_text(err, &r, ebuf, sizeof(ebuf)));
	}
	send_reply(c, id, err, out);
	json_object_put(out);
	return 0;
}

struct json_object *ctl_deferred_body(struct ctl_deferred *d)
{
	return d->out;
}

void ctl_deferred_finish(struct ctl_deferred *d, int err)
{
	struct ctl_deferred **pp;
	struct ctl *ctl = d->ctl;

	for (pp = &ctl->deferred; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	if (err > 0)
		err = -EINVAL;
	if (err != 0) {
		json_object_put(d->out);
		d->out = error_body("cluster", strerror(-err));
	}
	/* A client that disconnected meanwhile makes the send fail; the ref keeps it valid. */
	if (d->out)
		send_reply(d->conn, d->id, err, d->out);
	json_object_put(d->out);
	qb_ipcs_connection_unref(d->conn);
	free(d);
}

int ctl_open(struct ctl **out, qb_loop_t *loop, const struct ctl_cfg *cfg,
	     const struct ctl_provider *p, void *ctx)
{
	static struct qb_ipcs_service_handlers sh = {
		.connection_accept = on_accept,
		.connection_created = on_created,
		.msg_process = on_msg,
		.connection_closed = on_closed,
		.connection_destroyed = on_destroyed,
	};
	static struct qb_ipcs_poll_handlers ph = {
		.job_add = ph_job_add,
		.dispatch_add = ph_dispatch_add,
		.dispatch_mod = ph_dispatch_mod,
		.dispatch_del = ph_dispatch_del,
	};
	const char *service;
	struct ctl *ctl;
	int ret;

	*out = NULL;
	if (!loop || !cfg || !p)
		return -EINVAL;
	service = cfg->service ? cfg->service : CTL_DEFAULT_SERVICE;
	if (service[0] == '\0' || strlen(service) >= sizeof(ctl->service))
		return -EINVAL;
	if (ctl_open_count > 0 && ctl_loop != loop)
		return -EBUSY;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	strcpy(ctl->service, service);
	ctl->cfg = *cfg;
	ctl->cfg.service = ctl->service;
	ctl->p = p;
	ctl->ctx = ctx;
	ctl->svc = qb_ipcs_create(ctl->service, 0, QB_IPC_SOCKET, &sh);
	if (!ctl->svc) {
		ret = -ENOMEM;
		goto err_free;
	}
	qb_ipcs_service_context_set(ctl->svc, ctl);
	/* Clients ask for CTL_MAX_MSG too; enforcing it keeps a dump from being cut short. */
	qb_ipcs_enforce_buffer_size(ctl->svc, CTL_MAX_MSG);
	ctl_loop = loop;
	ctl_open_count++;
	qb_ipcs_poll_handlers_set(ctl->svc, &ph);
	ret = qb_ipcs_run(ctl->svc);
	if (ret < 0) {
		/*
		 * libqb reports a name in use as -EADDRINUSE (abstract socket bind). A failed
		 * qb_ipcs_run has already dropped the service's last reference (libqb 2.0),
		 * so destroying it here would be a double unref.
		 */
		ctl_open_count--;
		goto err_free;
	}
	*out = ctl;
	return 0;

err_free:
	free(ctl);
	return ret;
}

void ctl_set_ro_group(struct ctl *ctl, bool has_ro_group, gid_t ro_gid)
{
	ctl->cfg.has_ro_group = has_ro_group;
	ctl->cfg.ro_gid = ro_gid;
}

void ctl_close(struct ctl *ctl)
{
	if (!ctl)
		return;
	/* Unlink each before finishing it, so the loop never looks at a freed entry. */
	while (ctl->deferred) {
		struct ctl_deferred *d = ctl->deferred;

		ctl->deferred = d->next;
		d->next = NULL;
		ctl_deferred_finish(d, -ECANCELED);
	}
	qb_ipcs_destroy(ctl->svc);
	ctl_open_count--;
	free(ctl);
}

/* ---- schema builders ---- */

const char *ctl_log_state_str(enum ctl_log_state s)
{
	switch (s) {
	case CTL_LOG_CONSTRUCTED:
		return "constructed";
	case CTL_LOG_JOINING:
		return "joining";
	case CTL_LOG_RESUMED:
		return "resumed";
	case CTL_LOG_SUSPENDED:
		return "suspended";
	}
	return "unknown";
}

/* json-c's add fails only on allocation; collect failures and report once. */
struct jb {
	bool fail;
};

static void jadd(struct jb *b, struct json_object *o, const char *key, struct json_object *v)
{
	if (!v || json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		b->fail = true;
	}
}

static void jpush(struct jb *b, struct json_object *arr, struct json_object *v)
{
	if (!v || json_object_array_add(arr, v) != 0) {
		json_object_put(v);
		b->fail = true;
	}
}

int ctl_status_set_daemon(struct json_object *out, const struct ctl_daemon_info *d)
{
	struct json_object *dm = json_object_new_object(), *cs = json_object_new_object();
	struct jb b = {false};

	if (!dm || !cs) {
		json_object_put(dm);
		json_object_put(cs);
		return -ENOMEM;
	}
	jadd(&b, dm, "version", json_object_new_string(d->version ? d->version : "unknown"));
	jadd(&b, dm, "pid", json_object_new_int64(d->pid));
	jadd(&b, dm, "node_id", json_object_new_int64(d->node_id));
	jadd(&b, dm, "uptime_s", json_object_new_uint64(d->uptime_s));
	jadd(&b, dm, "log_level", json_object_new_string(d->log_level ? d->log_level : "info"));
	jadd(&b, cs, "connected", json_object_new_boolean(d->corosync_connected));
	jadd(&b, cs, "quorate", json_object_new_boolean(d->quorate));
	if (d->ring_id)
		jadd(&b, cs, "ring_id", json_object_new_string(d->ring_id));
	else
		json_object_object_add(cs, "ring_id", NULL);
	jadd(&b, cs, "protocol_version", json_object_new_int64(d->protocol_version));
	jadd(&b, out, "daemon", dm);
	jadd(&b, out, "corosync", cs);
	return b.fail ? -ENOMEM : 0;
}

static struct json_object *log_to_json(const struct ctl_log_info *l, struct jb *b)
{
	struct json_object *o = json_object_new_object(), *arr, *rec;
	char pbuf[32];
	double pct;
	uint32_t i;

	if (!o) {
		b->fail = true;
		return NULL;
	}
	pct = l->region_count ? 100.0 * (double)l->sync_count / (double)l->region_count : 100.0;
	jadd(b, o, "uuid", json_object_new_string(l->uuid));
	jadd(b, o, "luid", json_object_new_uint64(l->luid));
	jadd(b, o, "type", json_object_new_string(l->disk ? "disk" : "core"));
	jadd(b, o, "state", json_object_new_string(ctl_log_state_str(l->state)));
	jadd(b, o, "region_size", json_object_new_uint64(l->region_size));
	jadd(b, o, "region_count", json_object_new_uint64(l->region_count));
	jadd(b, o, "sync_count", json_object_new_uint64(l->sync_count));
	/*
	 * Two decimals, rounded down so 99.999% never shows as 100.00 while a region is still
	 * out of sync; serialized from our own text so the JSON does not carry binary noise.
	 */
	pct = floor(pct * 100.0) / 100.0;
	snprintf(pbuf, sizeof(pbuf), "%.2f", pct);
	jadd(b, o, "sync_percent", json_object_new_double_s(pct, pbuf));
	jadd(b, o, "in_sync", json_object_new_boolean(l->sync_count == l->region_count));
	if (l->recovering) {
		rec = json_object_new_object();
		if (rec) {
			jadd(b, rec, "region", json_object_new_uint64(l->recovering_region));
			jadd(b, rec, "node_id", json_object_new_int64(l->recovering_node));
		}
		jadd(b, o, "recovering", rec);
	} else {
		json_object_object_add(o, "recovering", NULL);
	}
	if (l->disk_state == CTL_DISK_NONE)
		json_object_object_add(o, "disk_state", NULL);
	else
		jadd(b, o, "disk_state",
		     json_object_new_string(l->disk_state == CTL_DISK_DEAD ? "D" : "A"));
	jadd(b, o, "writer", json_object_new_int64(l->writer));
	jadd(b, o, "protocol_version", json_object_new_int64(l->protocol_version));
	jadd(b, o, "gen", json_object_new_uint64(l->gen));
	jadd(b, o, "pending_requests", json_object_new_uint64(l->pending_requests));
	jadd(b, o, "synced", json_object_new_boolean(l->synced));
	jadd(b, o, "commits_sent", json_object_new_uint64(l->commits_sent));
	jadd(b, o, "rejected_messages", json_object_new_uint64(l->rejected_messages));
	jadd(b, o, "requests", json_object_new_uint64(l->requests));
	jadd(b, o, "hot_requests", json_object_new_uint64(l->hot_requests));
	if (l->has_digest) {
		snprintf(pbuf, sizeof(pbuf), "%016llx", (unsigned long long)l->digest);
		jadd(b, o, "digest", json_object_new_string(pbuf));
	} else {
		json_object_object_add(o, "digest", NULL);
	}
	arr = json_object_new_array();
	for (i = 0; arr && i < l->n_members; i++)
		jpush(b, arr, json_object_new_int64(l->members[i]));
	jadd(b, o, "members", arr);
	arr = json_object_new_array();
	for (i = 0; arr && i < l->n_marks; i++) {
		struct json_object *m = json_object_new_object();

		if (m) {
			jadd(b, m, "node_id", json_object_new_int64(l->marks[i].node_id));
			jadd(b, m, "regions", json_object_new_uint64(l->marks[i].regions));
		}
		jpush(b, arr, m);
	}
	jadd(b, o, "marks", arr);
	return o;
}

static int add_log(struct json_object *out, const struct ctl_log_info *l)
{
	struct json_object *logs;
	struct jb b = {false};

	if (!l->uuid)
		return -EINVAL;
	if (!json_object_object_get_ex(out, "logs", &logs)) {
		logs = json_object_new_array();
		if (!logs || json_object_object_add(out, "logs", logs) != 0) {
			json_object_put(logs);
			return -ENOMEM;
		}
	}
	jpush(&b, logs, log_to_json(l, &b));
	return b.fail ? -ENOMEM : 0;
}

int ctl_status_add_log(struct json_object *out, const struct ctl_log_info *l)
{
	return add_log(out, l);
}

int ctl_show_set_log(struct json_object *out, const struct ctl_log_info *l)
{
	return add_log(out, l);
}

int ctl_members_set(struct json_object *out, uint32_t protocol_version, bool quorate,
		    const struct ctl_member *m, uint32_t n)
{
	struct json_object *arr = json_object_new_array();
	struct jb b = {false};
	uint32_t i;

	if (!arr)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		if (o) {
			jadd(&b, o, "node_id", json_object_new_int64(m[i].node_id));
			jadd(&b, o, "local", json_object_new_boolean(m[i].local));
			jadd(&b, o, "protocol_max", json_object_new_int64(m[i].protocol_max));
			jadd(&b, o, "logs", json_object_new_int64(m[i].n_logs));
		}
		jpush(&b, arr, o);
	}
	jadd(&b, out, "protocol_version", json_object_new_int64(protocol_version));
	jadd(&b, out, "quorate", json_object_new_boolean(quorate));
	jadd(&b, out, "members", arr);
	return b.fail ? -ENOMEM : 0;
}

int ctl_cluster_add_node(struct json_object *out, uint32_t node_id, bool reachable,
			 const char *error, struct json_object *status)
{
	struct json_object *nodes, *o;
	struct jb b = {false};

	if (!json_object_object_get_ex(out, "nodes", &nodes)) {
		nodes = json_object_new_array();
		if (!nodes || json_object_object_add(out, "nodes", nodes) != 0) {
			json_object_put(nodes);
			json_object_put(status);
			return -ENOMEM;
		}
	}
	o = json_object_new_object();
	if (!o) {
		json_object_put(status);
		return -ENOMEM;
	}
	jadd(&b, o, "node_id", json_object_new_int64(node_id));
	jadd(&b, o, "reachable", json_object_new_boolean(reachable));
	if (error)
		jadd(&b, o, "error", json_object_new_string(error));
	else
		json_object_object_add(o, "error", NULL);
	if (status)
		jadd(&b, o, "status", status);
	else
		json_object_object_add(o, "status", NULL);
	jpush(&b, nodes, o);
	return b.fail ? -ENOMEM : 0;
}

int ctl_dump_flight(struct json_object *out, const struct flight *f)
{
	struct json_object *arr = json_object_new_array();
	struct jb b = {false};
	size_t i, n = flight_count(f);

	if (!arr)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct flight_event *e = flight_get(f, i);
		struct json_object *o = json_object_new_object();

		if (o) {
			jadd(&b, o, "seq", json_object_new_uint64(e->seq));
			jadd(&b, o, "time_ms", json_object_new_uint64(e->time_ms));
			jadd(&b, o, "kind", json_object_new_string(flight_kind_str(e->kind)));
			if (e->uuid[0])
				jadd(&b, o, "uuid", json_object_new_string(e->uuid));
			else
				json_object_object_add(o, "uuid", NULL);
			jadd(&b, o, "text", json_object_new_string(e->text));
			jadd(&b, o, "truncated", json_object_new_boolean(e->truncated));
		}
		jpush(&b, arr, o);
	}
	jadd(&b, out, "capacity", json_object_new_uint64(flight_capacity(f)));
	jadd(&b, out, "dropped", json_object_new_uint64(flight_dropped(f)));
	jadd(&b, out, "events", arr);
	return b.fail ? -ENOMEM : 0;
}
