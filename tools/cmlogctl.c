/*
 * cmlogctl.c: the status and control CLI for cmlogd (cmlogctl(8)).
 *
 * Owns argument parsing, one libqb IPC round trip per query (ctl_wire.h) and the text
 * rendering of the JSON replies. Invariants:
 * - the exit code tells scripts and the OCF agent what happened: 0 ok, 1 daemon not
 *   running, 2 usage, 3 not found, 4 permission denied, 5 protocol or other error;
 * - a reply is decoded (size, header, JSON) before anything in it is used, and a missing
 *   key renders as "-" instead of crashing;
 * - with -j the daemon's JSON object is printed as is (the schema in cmlogctl(8)).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <qb/qbipcc.h>

#include "ctl_wire.h"
#include "daemon/conf.h"

enum {
	EXIT_OK = 0,
	EXIT_NOT_RUNNING = 1,
	EXIT_USAGE = 2,
	EXIT_NOT_FOUND = 3,
	EXIT_PERM = 4,
	EXIT_ERROR = 5,
};

struct opts {
	bool json;
	bool cluster;
	const char *service;
	const char *config;
	bool conf_explicit;
	char group[CONF_NAME_MAX];
	int timeout_ms;
	double interval;
	long count;
	const char *cmd;
	const char *uuid;
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	interrupted = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: cmlogctl [OPTIONS] COMMAND [ARGS]\n"
		"Commands:\n"
		"  status [--cluster]      daemon, corosync and every log (--cluster: all nodes)\n"
		"  logs                    one line per log\n"
		"  show UUID               one log in detail\n"
		"  members                 daemon-wide cluster membership\n"
		"  dump                    the flight recorder (recent events)\n"
		"  watch [UUID] [--interval S] [--count N]   resync progress until in sync\n"
		"  version                 client and daemon versions\n"
		"Options:\n"
		"  -j, --json              JSON output (schema in cmlogctl(8))\n"
		"  -s, --service NAME      control socket name (default: ctl_service or cmlogd)\n"
		"  -c, --config FILE       read ctl_service/socket_group from FILE\n"
		"                          (default " CONF_DEFAULT_PATH " if it exists)\n"
		"  -t, --timeout MS        reply timeout (default 5000)\n"
		"  -h, --help              this text\n"
		"Exit: 0 ok, 1 daemon not running, 2 usage, 3 not found, 4 permission denied,\n"
		"      5 protocol or other error.\n");
}

static int die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("cmlogctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'cmlogctl --help'.\n", stderr);
	return EXIT_USAGE;
}

/* ---- one request over the control socket ---- */

struct conn {
	qb_ipcc_connection_t *c;
	char *buf;
};

/* Report an error; with -j also as a JSON object on stdout, so scripts see one format. */
static int fail(const struct opts *o, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(const struct opts *o, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "cmlogctl: %s\n", msg);
	if (o->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "api_version", json_object_new_int(CTL_API_VERSION));
		json_object_object_add(j, "command", json_object_new_string(o->cmd ? o->cmd : ""));
		json_object_object_add(j, "error", json_object_new_string(msg));
		json_object_object_add(j, "exit_code", json_object_new_int(code));
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
		json_object_put(j);
	}
	return code;
}

static int conn_open(struct conn *k, const struct opts *o)
{
	k->buf = malloc(CTL_MAX_MSG);
	if (!k->buf)
		return fail(o, EXIT_ERROR, "out of memory");
	k->c = qb_ipcc_connect(o->service, CTL_MAX_MSG);
	if (k->c)
		return EXIT_OK;
	if (errno == EACCES || errno == EPERM) {
		if (o->group[0])
			return fail(
				o, EXIT_PERM,
				"permission denied: cmlogctl needs root or membership in group %s",
				o->group);
		return fail(
			o, EXIT_PERM,
			"permission denied: cmlogctl needs root (no socket_group is configured)");
	}
	return fail(o, EXIT_NOT_RUNNING, "cmlogd is not running (control socket '%s': %s)",
		    o->service, strerror(errno));
}

static void conn_close(struct conn *k)
{
	if (k->c)
		qb_ipcc_disconnect(k->c);
	free(k->buf);
	k->c = NULL;
	k->buf = NULL;
}

/* Send one request and decode the reply into *@reply. Returns an exit code. */
static int conn_query(struct conn *k, const struct opts *o, uint32_t id, const char *arg,
		      struct json_object **reply)
{
	uint64_t req[(CTL_REQ_MAXLEN + 7) / 8];
	struct iovec iov;
	struct wire_rd rd;
	struct json_tokener *tok;
	struct json_object *j, *e;
	uint32_t rid, rsize, rerr;
	ssize_t n;
	int len;

	*reply = NULL;
	len = ctl_req_encode(req, sizeof(req), id, arg);
	if (len < 0)
		return fail(o, EXIT_USAGE, "invalid argument '%s'", arg ? arg : "");
	iov.iov_base = req;
	iov.iov_len = (size_t)len;
	n = qb_ipcc_sendv_recv(k->c, &iov, 1, k->buf, CTL_MAX_MSG, o->timeout_ms);
	if (n == -ENOTCONN || n == -ECONNRESET || n == -EPIPE || n == -ESHUTDOWN)
		return fail(o, EXIT_NOT_RUNNING, "cmlogd closed the control socket");
	if (n == -ETIMEDOUT || n == -EAGAIN)
		return fail(o, EXIT_ERROR, "cmlogd did not answer within %d ms", o->timeout_ms);
	if (n < 0)
		return fail(o, EXIT_ERROR, "control socket: %s", strerror((int)-n));
	wire_rd_init(&rd, k->buf, (size_t)n);
	if (!wire_get_h32(&rd, &rid) || !wire_skip(&rd, 4) || !wire_get_h32(&rd, &rsize) ||
	    !wire_skip(&rd, 4) || !wire_get_h32(&rd, &rerr) || !wire_skip(&rd, 4) ||
	    rsize != (uint32_t)n || rid != id)
		return fail(o, EXIT_ERROR, "malformed reply from cmlogd (%zd bytes)", n);
	tok = json_tokener_new();
	if (!tok)
		return fail(o, EXIT_ERROR, "out of memory");
	j = json_tokener_parse_ex(tok, k->buf + CTL_RESP_HDR, (int)(n - (ssize_t)CTL_RESP_HDR));
	if (!j || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(j, json_type_object)) {
		json_tokener_free(tok);
		json_object_put(j);
		return fail(o, EXIT_ERROR, "reply from cmlogd is not a JSON object");
	}
	json_tokener_free(tok);
	if ((int32_t)rerr != 0) {
		const char *msg = json_object_object_get_ex(j, "error", &e)
					  ? json_object_get_string(e)
					  : strerror(-(int32_t)rerr);
		int code = (int32_t)rerr == -ENOENT   ? EXIT_NOT_FOUND
			   : (int32_t)rerr == -EACCES ? EXIT_PERM
						      : EXIT_ERROR;
		int ret = fail(o, code, "%s", msg);

		json_object_put(j);
		return ret;
	}
	*reply = j;
	return EXIT_OK;
}

/* Connect, ask once, disconnect. */
static int query_once(const struct opts *o, uint32_t id, const char *arg, struct json_object **r)
{
	struct conn k = {NULL, NULL};
	int ret;

	ret = conn_open(&k, o);
	if (ret == EXIT_OK)
		ret = conn_query(&k, o, id, arg, r);
	conn_close(&k);
	return ret;
}

/* ---- JSON accessors that tolerate missing keys ---- */

static struct json_object *jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);

	if (!v || json_object_is_type(v, json_type_null))
		return "-";
	return json_object_get_string(v);
}

static uint64_t ju64(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);

	return v ? json_object_get_uint64(v) : 0;
}

static double jdbl(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);

	return v ? json_object_get_double(v) : 0.0;
}

static const char *jyes(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);

	if (!v)
		return "-";
	return json_object_get_boolean(v) ? "yes" : "no";
}

static size_t jlen(struct json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static void print_json(struct json_object *j)
{
	printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* ---- text rendering ---- */

static void print_size(uint64_t bytes)
{
	if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
		printf("%" PRIu64 " MiB", bytes / (1024 * 1024));
	else if (bytes >= 1024 && bytes % 1024 == 0)
		printf("%" PRIu64 " KiB", bytes / 1024);
	else
		printf("%" PRIu64 " B", bytes);
}

static void print_log_block(struct json_object *l)
{
	struct json_object *a, *rec;
	size_t i;

	printf("log %s (luid %" PRIu64 ")\n", jstr(l, "uuid"), ju64(l, "luid"));
	printf("  type        %s\n", jstr(l, "type"));
	printf("  state       %s\n", jstr(l, "state"));
	printf("  regions     %" PRIu64 " x ", ju64(l, "region_count"));
	print_size(ju64(l, "region_size"));
	printf("\n");
	printf("  in sync     %" PRIu64 "/%" PRIu64 " (%.2f%%)\n", ju64(l, "sync_count"),
	       ju64(l, "region_count"), jdbl(l, "sync_percent"));
	rec = jget(l, "recovering");
	if (rec && json_object_is_type(rec, json_type_object))
		printf("  recovering  region %" PRIu64 " by node %" PRIu64 "\n",
		       ju64(rec, "region"), ju64(rec, "node_id"));
	else
		printf("  recovering  none\n");
	printf("  members    ");
	a = jget(l, "members");
	for (i = 0; i < jlen(a); i++)
		printf(" %" PRIu64, json_object_get_uint64(json_object_array_get_idx(a, i)));
	printf("%s\n", jlen(a) ? "" : " none");
	if (ju64(l, "writer"))
		printf("  writer      node %" PRIu64 "\n", ju64(l, "writer"));
	else
		printf("  writer      none\n");
	printf("  disk        %s\n", jstr(l, "disk_state"));
	printf("  marks      ");
	a = jget(l, "marks");
	for (i = 0; i < jlen(a); i++) {
		struct json_object *m = json_object_array_get_idx(a, i);

		printf("%s node %" PRIu64 ": %" PRIu64, i ? "," : "", ju64(m, "node_id"),
		       ju64(m, "regions"));
	}
	printf("%s\n", jlen(a) ? "" : " none");
	printf("  pending     %" PRIu64 "\n", ju64(l, "pending_requests"));
	printf("  protocol    %" PRIu64 " (gen %" PRIu64 ")\n", ju64(l, "protocol_version"),
	       ju64(l, "gen"));
	printf("  digest      %s\n", jstr(l, "digest"));
}

static void print_status(struct json_object *j)
{
	struct json_object *d = jget(j, "daemon"), *c = jget(j, "corosync"),
			   *logs = jget(j, "logs");
	size_t i;

	printf("Daemon\n");
	printf("  version:    %s\n", jstr(d, "version"));
	printf("  pid:        %s\n", jstr(d, "pid"));
	printf("  node id:    %s\n", jstr(d, "node_id"));
	printf("  uptime:     %s s\n", jstr(d, "uptime_s"));
	printf("  log level:  %s\n", jstr(d, "log_level"));
	printf("Corosync\n");
	printf("  connected:  %s\n", jyes(c, "connected"));
	printf("  quorate:    %s\n", jyes(c, "quorate"));
	printf("  ring id:    %s\n", jstr(c, "ring_id"));
	printf("  protocol:   %s\n", jstr(c, "protocol_version"));
	printf("Logs: %zu\n", jlen(logs));
	for (i = 0; i < jlen(logs); i++) {
		printf("\n");
		print_log_block(json_object_array_get_idx(logs, i));
	}
}

static void print_logs(struct json_object *logs)
{
	size_t i;

	printf("%-6s %-5s %-12s %-4s %8s  %s\n", "LUID", "TYPE", "STATE", "DISK", "SYNC%", "UUID");
	for (i = 0; i < jlen(logs); i++) {
		struct json_object *l = json_object_array_get_idx(logs, i);

		printf("%-6" PRIu64 " %-5s %-12s %-4s %7.2f%%  %s\n", ju64(l, "luid"),
		       jstr(l, "type"), jstr(l, "state"), jstr(l, "disk_state"),
		       jdbl(l, "sync_percent"), jstr(l, "uuid"));
	}
}

static void print_members(struct json_object *j)
{
	struct json_object *m = jget(j, "members");
	size_t i;

	printf("Protocol version: %s\n", jstr(j, "protocol_version"));
	printf("Quorate:          %s\n", jyes(j, "quorate"));
	printf("\n%6s %8s %5s\n", "Nodeid", "Protocol", "Logs");
	for (i = 0; i < jlen(m); i++) {
		struct json_object *n = json_object_array_get_idx(m, i);
		struct json_object *loc = jget(n, "local");

		printf("%6" PRIu64 " %8" PRIu64 " %5" PRIu64 "%s\n", ju64(n, "node_id"),
		       ju64(n, "protocol_max"), ju64(n, "logs"),
		       loc && json_object_get_boolean(loc) ? " (local)" : "");
	}
}

static void print_dump(struct json_object *j)
{
	struct json_object *ev = jget(j, "events");
	size_t i;

	printf("# flight recorder: %zu events, %" PRIu64 " dropped, capacity %" PRIu64 "\n",
	       jlen(ev), ju64(j, "dropped"), ju64(j, "capacity"));
	for (i = 0; i < jlen(ev); i++) {
		struct json_object *e = json_object_array_get_idx(ev, i);
		uint64_t ms = ju64(e, "time_ms");
		time_t t = (time_t)(ms / 1000);
		struct tm tm;
		char ts[32];
		struct json_object *tr = jget(e, "truncated");

		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		printf("%" PRIu64 " %s.%03" PRIu64 "Z %-10s %s %s%s\n", ju64(e, "seq"), ts,
		       ms % 1000, jstr(e, "kind"), jstr(e, "uuid"), jstr(e, "text"),
		       tr && json_object_get_boolean(tr) ? " [truncated]" : "");
	}
}

/* Side by side: one column per node, one row per (uuid, luid) seen on any node. */
static void print_cluster(struct json_object *j)
{
	struct json_object *nodes = jget(j, "nodes");
	size_t n = jlen(nodes), i, k, r;
	struct {
		const char *uuid;
		uint64_t luid;
	} rows[256];
	size_t nrows = 0;

	printf("Cluster view: %zu node%s\n\n", n, n == 1 ? "" : "s");
	printf("%-6s %-10s %-10s %-8s %-8s %s\n", "NODE", "REACHABLE", "CONNECTED", "QUORATE",
	       "PROTOCOL", "LOGS");
	for (i = 0; i < n; i++) {
		struct json_object *nd = json_object_array_get_idx(nodes, i);
		struct json_object *st = jget(nd, "status"), *c = jget(st, "corosync");
		struct json_object *logs = jget(st, "logs");

		printf("%-6" PRIu64 " %-10s %-10s %-8s %-8s %zu", ju64(nd, "node_id"),
		       jyes(nd, "reachable"), jyes(c, "connected"), jyes(c, "quorate"),
		       jstr(c, "protocol_version"), jlen(logs));
		if (jget(nd, "error") && !json_object_is_type(jget(nd, "error"), json_type_null))
			printf("  (%s)", jstr(nd, "error"));
		printf("\n");
		for (k = 0; k < jlen(logs); k++) {
			struct json_object *l = json_object_array_get_idx(logs, k);
			const char *u = jstr(l, "uuid");
			uint64_t luid = ju64(l, "luid");

			for (r = 0; r < nrows; r++)
				if (rows[r].luid == luid && strcmp(rows[r].uuid, u) == 0)
					break;
			if (r == nrows && nrows < sizeof(rows) / sizeof(rows[0])) {
				rows[nrows].uuid = u;
				rows[nrows].luid = luid;
				nrows++;
			}
		}
	}
	if (nrows == 0)
		return;
	printf("\n");
	for (i = 0; i < n; i++)
		printf("node %-14" PRIu64 " ",
		       ju64(json_object_array_get_idx(nodes, i), "node_id"));
	printf("LOG\n");
	for (r = 0; r < nrows; r++) {
		for (i = 0; i < n; i++) {
			struct json_object *logs =
				jget(jget(json_object_array_get_idx(nodes, i), "status"), "logs");
			char cell[64] = "-";

			for (k = 0; k < jlen(logs); k++) {
				struct json_object *l = json_object_array_get_idx(logs, k);

				if (ju64(l, "luid") == rows[r].luid &&
				    strcmp(jstr(l, "uuid"), rows[r].uuid) == 0) {
					snprintf(cell, sizeof(cell), "%s %.1f%%%s",
						 jstr(l, "state"), jdbl(l, "sync_percent"),
						 strcmp(jstr(l, "disk_state"), "D") == 0 ? " D"
											 : "");
					break;
				}
			}
			printf("%-19s ", cell);
		}
		printf("%s/%" PRIu64 "\n", rows[r].uuid, rows[r].luid);
	}
}

/* ---- watch ---- */

struct watch_prev {
	char uuid[CTL_ARG_MAX + 1];
	uint64_t luid, sync_count;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void draw_bar(double pct)
{
	const int width = 30;
	int fill = (int)(pct / 100.0 * width + 0.5), i;

	if (fill > width)
		fill = width;
	if (fill < 0)
		fill = 0;
	putchar('[');
	for (i = 0; i < width; i++)
		putchar(i < fill ? '#' : '.');
	putchar(']');
}

static int cmd_watch(struct opts *o)
{
	struct watch_prev prev[64];
	size_t nprev = 0, i, k;
	struct conn k0 = {NULL, NULL};
	double last = 0;
	long round;
	int ret, lines_drawn = 0;
	bool tty = isatty(STDOUT_FILENO);

	ret = conn_open(&k0, o);
	if (ret != EXIT_OK)
		goto out;
	for (round = 1;; round++) {
		struct json_object *j, *logs, *jl = NULL, *outarr = NULL;
		bool all_sync = true;
		double now, dt;

		ret = conn_query(&k0, o, o->uuid ? CTL_REQ_SHOW : CTL_REQ_STATUS, o->uuid, &j);
		if (ret != EXIT_OK)
			goto out;
		now = mono_s();
		dt = round > 1 ? now - last : 0;
		last = now;
		logs = jget(j, "logs");
		if (o->json) {
			jl = json_object_new_object();
			outarr = json_object_new_array();
			json_object_object_add(jl, "api_version",
					       json_object_new_int(CTL_API_VERSION));
			json_object_object_add(jl, "command", json_object_new_string("watch"));
			json_object_object_add(jl, "round", json_object_new_int64(round));
		} else if (tty && lines_drawn) {
			printf("\033[%dA\033[J", lines_drawn);
		} else if (!tty) {
			printf("-- refresh %ld\n", round);
		}
		lines_drawn = 0;
		for (i = 0; i < jlen(logs); i++) {
			struct json_object *l = json_object_array_get_idx(logs, i);
			const char *uuid = jstr(l, "uuid");
			uint64_t luid = ju64(l, "luid"), sc = ju64(l, "sync_count");
			uint64_t rc = ju64(l, "region_count");
			double pct = jdbl(l, "sync_percent"), rate = -1;

			if (sc != rc)
				all_sync = false;
			for (k = 0; k < nprev; k++)
				if (prev[k].luid == luid && strcmp(prev[k].uuid, uuid) == 0)
					break;
			if (k < nprev && dt > 0)
				rate = ((double)sc - (double)prev[k].sync_count) / dt;
			if (k == nprev && nprev < sizeof(prev) / sizeof(prev[0])) {
				snprintf(prev[k].uuid, sizeof(prev[k].uuid), "%s", uuid);
				prev[k].luid = luid;
				nprev++;
			}
			if (k < nprev)
				prev[k].sync_count = sc;
			if (o->json) {
				struct json_object *e = json_object_new_object();

				json_object_object_add(e, "uuid", json_object_new_string(uuid));
				json_object_object_add(e, "luid", json_object_new_uint64(luid));
				json_object_object_add(e, "sync_count", json_object_new_uint64(sc));
				json_object_object_add(e, "region_count",
						       json_object_new_uint64(rc));
				json_object_object_add(e, "sync_percent",
						       json_object_new_double(pct));
				json_object_object_add(
					e, "rate", rate >= 0 ? json_object_new_double(rate) : NULL);
				json_object_array_add(outarr, e);
				continue;
			}
			printf("%s/%" PRIu64 "\n  ", uuid, luid);
			draw_bar(pct);
			printf(" %6.2f%% %" PRIu64 "/%" PRIu64, pct, sc, rc);
			if (rate >= 0)
				printf("  %.1f regions/s", rate);
			printf("%s\n", sc == rc ? "  in sync" : "");
			lines_drawn += 2;
		}
		if (o->json) {
			json_object_object_add(jl, "logs", outarr);
			json_object_object_add(jl, "in_sync", json_object_new_boolean(all_sync));
			printf("%s\n", json_object_to_json_string_ext(jl, JSON_C_TO_STRING_PLAIN));
			json_object_put(jl);
		} else if (jlen(logs) == 0) {
			printf("no logs\n");
			lines_drawn++;
		}
		fflush(stdout);
		json_object_put(j);
		if (all_sync || (o->count > 0 && round >= o->count) || interrupted)
			break;
		{
			struct timespec ts = {(time_t)o->interval,
					      (long)((o->interval - floor(o->interval)) * 1e9)};

			/* SIGINT cuts the sleep short (no SA_RESTART); we then stop cleanly. */
			nanosleep(&ts, NULL);
		}
		if (interrupted)
			break;
	}
	ret = EXIT_OK;
out:
	conn_close(&k0);
	return ret;
}

/* ---- main ---- */

static int load_config(struct opts *o)
{
	struct conf c;
	char err[512];
	int r;

	conf_defaults(&c);
	r = conf_parse_file(&c, o->config, err, sizeof(err));
	if (r == -ENOENT && !o->conf_explicit)
		c.socket_group[0] = '\0'; /* no config installed: defaults */
	else if (r < 0) {
		fprintf(stderr, "cmlogctl: %s\n", err);
		return EXIT_USAGE;
	}
	snprintf(o->group, sizeof(o->group), "%s", c.socket_group);
	if (!o->service) {
		static char svc[CONF_NAME_MAX];

		snprintf(svc, sizeof(svc), "%s", c.ctl_service);
		o->service = svc;
	}
	return EXIT_OK;
}

/* One option, before or after the command. Returns -1 to go on, else an exit code. */
static int handle_opt(int ch, struct opts *o, bool *have_interval, bool *have_count)
{
	char *end;

	switch (ch) {
	case 'j':
		o->json = true;
		return -1;
	case 's':
		if (!optarg[0] || strlen(optarg) >= CONF_NAME_MAX)
			return die_usage("bad service name '%s'", optarg);
		o->service = optarg;
		return -1;
	case 'c':
		o->config = optarg;
		o->conf_explicit = true;
		return -1;
	case 't':
		o->timeout_ms = (int)strtol(optarg, &end, 10);
		if (*end || o->timeout_ms <= 0 || o->timeout_ms > 600000)
			return die_usage("bad timeout '%s' (1..600000 ms)", optarg);
		return -1;
	case 'h':
		usage(stdout);
		return EXIT_OK;
	case 'C':
		o->cluster = true;
		return -1;
	case 'i':
		o->interval = strtod(optarg, &end);
		if (*end || !(o->interval >= 0.01 && o->interval <= 3600))
			return die_usage("bad interval '%s' (0.01..3600 seconds)", optarg);
		*have_interval = true;
		return -1;
	case 'n':
		o->count = strtol(optarg, &end, 10);
		if (*end || o->count < 1 || o->count > 1000000)
			return die_usage("bad count '%s' (1..1000000)", optarg);
		*have_count = true;
		return -1;
	default:
		fputs("Try 'cmlogctl --help'.\n", stderr);
		return EXIT_USAGE;
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"json", no_argument, NULL, 'j'},
		{"service", required_argument, NULL, 's'},
		{"config", required_argument, NULL, 'c'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{"cluster", no_argument, NULL, 'C'},
		{"interval", required_argument, NULL, 'i'},
		{"count", required_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {.config = CONF_DEFAULT_PATH, .timeout_ms = 5000, .interval = 1.0};
	bool have_interval = false, have_count = false;
	struct json_object *j = NULL;
	struct sigaction sa;
	int ch, ret, nargs;

	while ((ch = getopt_long(argc, argv, "+js:c:t:h", lo, NULL)) != -1) {
		ret = handle_opt(ch, &o, &have_interval, &have_count);
		if (ret >= 0)
			return ret;
	}
	if (optind >= argc)
		return die_usage("missing command");
	o.cmd = argv[optind++];
	/* Command options and arguments, in any order. */
	nargs = 0;
	while (optind < argc) {
		ch = getopt_long(argc, argv, "+js:c:t:h", lo, NULL);
		if (ch == -1) {
			if (nargs++ > 0 ||
			    (strcmp(o.cmd, "show") != 0 && strcmp(o.cmd, "watch") != 0))
				return die_usage("unexpected argument '%s'", argv[optind]);
			o.uuid = argv[optind++];
			continue;
		}
		ret = handle_opt(ch, &o, &have_interval, &have_count);
		if (ret >= 0)
			return ret;
	}
	if (o.cluster && strcmp(o.cmd, "status") != 0)
		return die_usage("--cluster only goes with status");
	if ((have_interval || have_count) && strcmp(o.cmd, "watch") != 0)
		return die_usage("--interval and --count only go with watch");
	if (strcmp(o.cmd, "show") == 0 && !o.uuid)
		return die_usage("show needs a UUID");
	if (o.uuid && (strlen(o.uuid) > CTL_ARG_MAX ||
		       strspn(o.uuid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
				      "nopqrstuvwxyz0123456789-_.:+=#@") != strlen(o.uuid)))
		return die_usage("bad UUID '%s'", o.uuid);
	if (strcmp(o.cmd, "status") && strcmp(o.cmd, "logs") && strcmp(o.cmd, "show") &&
	    strcmp(o.cmd, "members") && strcmp(o.cmd, "dump") && strcmp(o.cmd, "watch") &&
	    strcmp(o.cmd, "version"))
		return die_usage("unknown command '%s'", o.cmd);
	ret = load_config(&o);
	if (ret != EXIT_OK)
		return ret;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (strcmp(o.cmd, "watch") == 0)
		return cmd_watch(&o);
	if (strcmp(o.cmd, "version") == 0) {
		ret = query_once(&o, CTL_REQ_VERSION, NULL, &j);
		if (o.json && ret == EXIT_OK) {
			json_object_object_add(j, "client_version",
					       json_object_new_string(PACKAGE_VERSION));
			print_json(j);
		} else if (!o.json) {
			printf("cmlogctl %s (api %u)\n", PACKAGE_VERSION, CTL_API_VERSION);
			if (ret == EXIT_OK)
				printf("cmlogd %s (api %s)\n", jstr(j, "version"),
				       jstr(j, "api_version"));
		}
		json_object_put(j);
		return ret;
	}
	if (strcmp(o.cmd, "status") == 0)
		ret = query_once(&o, o.cluster ? CTL_REQ_CLUSTER : CTL_REQ_STATUS, NULL, &j);
	else if (strcmp(o.cmd, "logs") == 0)
		ret = query_once(&o, CTL_REQ_STATUS, NULL, &j);
	else if (strcmp(o.cmd, "show") == 0)
		ret = query_once(&o, CTL_REQ_SHOW, o.uuid, &j);
	else if (strcmp(o.cmd, "members") == 0)
		ret = query_once(&o, CTL_REQ_MEMBERS, NULL, &j);
	else
		ret = query_once(&o, CTL_REQ_DUMP, NULL, &j);
	if (ret != EXIT_OK)
		return ret;

	if (strcmp(o.cmd, "logs") == 0) {
		struct json_object *logs = jget(j, "logs");

		if (o.json) {
			struct json_object *e = json_object_new_object();

			json_object_object_add(e, "api_version",
					       json_object_new_int(CTL_API_VERSION));
			json_object_object_add(e, "command", json_object_new_string("logs"));
			json_object_object_add(
				e, "logs", logs ? json_object_get(logs) : json_object_new_array());
			print_json(e);
			json_object_put(e);
		} else {
			print_logs(logs);
		}
	} else if (o.json) {
		print_json(j);
	} else if (strcmp(o.cmd, "status") == 0) {
		if (o.cluster)
			print_cluster(j);
		else
			print_status(j);
	} else if (strcmp(o.cmd, "show") == 0) {
		struct json_object *logs = jget(j, "logs");
		size_t i;

		for (i = 0; i < jlen(logs); i++) {
			if (i)
				printf("\n");
			print_log_block(json_object_array_get_idx(logs, i));
		}
	} else if (strcmp(o.cmd, "members") == 0) {
		print_members(j);
	} else {
		print_dump(j);
	}
	json_object_put(j);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_ERROR;
}
