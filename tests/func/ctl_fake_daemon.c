/*
 * ctl_fake_daemon.c: a stand-in for cmlogd that serves fixed synthetic state through the
 * real control socket module (daemon/ctl.c), so cmlogctl and the OCF agent are tested over
 * the real socket before the daemon is wired up.
 *
 * It behaves like cmlogd on the outside: daemonizes unless -f (the parent returns once the
 * socket is served), writes --pidfile, honours -c FILE (ctl_service, socket_group, pidfile,
 * flight_events), -n (config check), SIGHUP (re-read the file), exits cleanly on
 * SIGTERM/SIGINT and removes its pid file. -s overrides ctl_service (tests only). The synthetic state: node 1 of a
 * three-node cluster with three logs; log B resyncs by --resync-step regions every 100 ms
 * (0 = frozen), so `cmlogctl watch` sees progress and finishes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <qb/qbdefs.h>
#include <qb/qbloop.h>

#include "daemon/conf.h"
#include "daemon/ctl.h"
#include "daemon/flight.h"

#define UUID_A "LVM-fakeA9Jm0d3vH0c8k2Qz7wYtq1eRrPpXxL0a2b3c4d5e6f7g8h9i0jKkLlMmNn"
#define UUID_B "LVM-fakeB7Qx1s9kR4t6u8v0w2x4y6z8A0B2C4D6E8F0G2H4I6J8K0L2M4N6O8P0Q2"
#define UUID_C "LVM-fakeC3Zr5t7u9v1w3x5y7z9A1B3C5D7E9F1G3H5I7J9K1L3M5N7O9P1Q3R5S7"

struct fake {
	qb_loop_t *loop;
	struct flight *flight;
	struct ctl *ctl;
	time_t started;
	uint64_t b_sync;
	uint64_t step;
	bool disk_failed;
	qb_loop_timer_handle tick;
	const char *conf;
};

static const uint32_t members3[] = {1, 2, 3};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The logs as node @node sees them (node 2 lags a little on log B). */
static int add_logs(struct fake *f, struct json_object *out, uint32_t node, const char *only)
{
	static const struct ctl_node_marks marks_a[] = {{1, 0}, {2, 0}, {3, 0}};
	static const struct ctl_node_marks marks_b[] = {{1, 3}, {2, 1}};
	struct ctl_log_info a = {
		.uuid = UUID_A,
		.luid = 1,
		.disk = true,
		.region_size = 524288,
		.region_count = 2048,
		.sync_count = 2048,
		.state = CTL_LOG_RESUMED,
		.disk_state = CTL_DISK_ALIVE,
		.writer = 1,
		.protocol_version = 1,
		.gen = 7,
		.pending_requests = 0,
		.n_members = 3,
		.members = members3,
		.n_marks = 3,
		.marks = marks_a,
	};
	struct ctl_log_info b = {
		.uuid = UUID_B,
		.luid = 2,
		.disk = false,
		.region_size = 65536,
		.region_count = 1000,
		.sync_count = f->b_sync,
		.state = CTL_LOG_RESUMED,
		.disk_state = CTL_DISK_NONE,
		.writer = 0,
		.protocol_version = 1,
		.gen = 3,
		.pending_requests = 2,
		.n_members = 2,
		.members = members3,
		.n_marks = 2,
		.marks = marks_b,
	};
	struct ctl_log_info c = {
		.uuid = UUID_C,
		.luid = 3,
		.disk = true,
		.region_size = 1048576,
		.region_count = 10,
		.sync_count = 10,
		.state = CTL_LOG_SUSPENDED,
		.disk_state = f->disk_failed ? CTL_DISK_DEAD : CTL_DISK_ALIVE,
		.writer = 1,
		.protocol_version = 1,
		.gen = 1,
		.n_members = 1,
		.members = members3,
	};
	int r = 0;

	if (b.sync_count < b.region_count) {
		b.recovering = true;
		b.recovering_region = b.sync_count;
		b.recovering_node = 2;
	}
	if (node == 2 && b.sync_count >= 10)
		b.sync_count -= 10;
	if (!only || strcmp(only, UUID_A) == 0)
		r = r ? r : ctl_status_add_log(out, &a);
	if (!only || strcmp(only, UUID_B) == 0)
		r = r ? r : ctl_status_add_log(out, &b);
	if (!only || strcmp(only, UUID_C) == 0)
		r = r ? r : ctl_status_add_log(out, &c);
	return r;
}

static int node_status(struct fake *f, struct json_object *out, uint32_t node)
{
	struct ctl_daemon_info d = {
		.version = "0.1.0-fake",
		.pid = node == 1 ? getpid() : 4242,
		.node_id = node,
		.uptime_s = (uint64_t)(time(NULL) - f->started),
		.log_level = "info",
		.corosync_connected = true,
		.quorate = true,
		.ring_id = "1.12",
		.protocol_version = 1,
	};
	int r = ctl_status_set_daemon(out, &d);

	return r ? r : add_logs(f, out, node, NULL);
}

static int p_status(void *ctx, struct json_object *out)
{
	struct fake *f = ctx;

	flight_add(f->flight, now_ms(), FLIGHT_REQUEST, NULL, "control: status");
	return node_status(f, out, 1);
}

static int p_cluster(void *ctx, struct json_object *out)
{
	struct fake *f = ctx;
	struct json_object *s;
	uint32_t n;
	int r;

	flight_add(f->flight, now_ms(), FLIGHT_REQUEST, NULL, "control: status --cluster");
	for (n = 1; n <= 2; n++) {
		s = json_object_new_object();
		if (!s)
			return -ENOMEM;
		r = node_status(f, s, n);
		if (r) {
			json_object_put(s);
			return r;
		}
		r = ctl_cluster_add_node(out, n, true, NULL, s);
		if (r)
			return r;
	}
	return ctl_cluster_add_node(out, 3, false, "no answer within 2000 ms", NULL);
}

static int p_show(void *ctx, const char *uuid, struct json_object *out)
{
	struct fake *f = ctx;

	flight_add(f->flight, now_ms(), FLIGHT_REQUEST, uuid, "control: show");
	if (strcmp(uuid, UUID_A) && strcmp(uuid, UUID_B) && strcmp(uuid, UUID_C))
		return -ENOENT;
	return add_logs(f, out, 1, uuid);
}

static int p_members(void *ctx, struct json_object *out)
{
	static const struct ctl_member m[] = {{1, true, 1, 3}, {2, false, 1, 2}, {3, false, 2, 1}};

	return ctl_members_set(out, 1, true, m, 3);
}

static int p_dump(void *ctx, struct json_object *out)
{
	struct fake *f = ctx;

	return ctl_dump_flight(out, f->flight);
}

static const struct ctl_provider provider = {
	.status = p_status,
	.cluster = p_cluster,
	.show = p_show,
	.members = p_members,
	.dump = p_dump,
};

static void on_tick(void *data)
{
	struct fake *f = data;
	uint64_t before = f->b_sync;

	f->b_sync = f->b_sync + f->step > 1000 ? 1000 : f->b_sync + f->step;
	if (before < 1000 && f->b_sync == 1000)
		flight_add(f->flight, now_ms(), FLIGHT_REPLY, UUID_B, "resync complete");
	if (f->b_sync < 1000)
		qb_loop_timer_add(f->loop, QB_LOOP_LOW, 100 * QB_TIME_NS_IN_MSEC, f, on_tick,
				  &f->tick);
}

/* SIGHUP: what cmlogd does on reload, re-read the configuration file (checked first). */
static int32_t on_hup(int32_t sig, void *data)
{
	struct fake *f = data;
	struct conf c;
	char err[512];

	conf_defaults(&c);
	if (f->conf && conf_parse_file(&c, f->conf, err, sizeof(err)) < 0)
		flight_add(f->flight, now_ms(), FLIGHT_ERROR, NULL, "reload failed: %s", err);
	else
		flight_add(f->flight, now_ms(), FLIGHT_MEMBERSHIP, NULL,
			   "reload: configuration re-read");
	return 0;
}

static int32_t on_signal(int32_t sig, void *data)
{
	struct fake *f = data;

	qb_loop_stop(f->loop);
	return 0;
}

static int write_pidfile(const char *path)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -EIO;
	}
	return close(fd) == 0 ? 0 : -errno;
}

/* Tell the waiting parent (not in -f mode) whether start-up worked: 0 yes, 1 no. */
static void notify_parent(int *fd, char status)
{
	if (*fd < 0)
		return;
	if (write(*fd, &status, 1) != 1)
		fprintf(stderr, "ctl_fake_daemon: parent gone: %s\n", strerror(errno));
	close(*fd);
	*fd = -1;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"pidfile", required_argument, NULL, 'p'},
		{"config", required_argument, NULL, 'c'},
		{"foreground", no_argument, NULL, 'f'},
		{"resync-step", required_argument, NULL, 'r'},
		{"disk-failed", no_argument, NULL, 'D'},
		{NULL, 0, NULL, 0},
	};
	struct fake f = {.b_sync = 400, .step = 0};
	struct conf cfg;
	struct ctl_cfg cc = {.daemon_version = "0.1.0-fake"};
	const char *conf = NULL, *service = NULL, *pidfile = NULL;
	bool foreground = false, check = false, has_group = false;
	char err[512];
	int ready[2], ch, r;
	gid_t gid = 0;

	while ((ch = getopt_long(argc, argv, "fnc:s:p:", lo, NULL)) != -1) {
		switch (ch) {
		case 'f':
			foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'c':
			conf = optarg;
			break;
		case 's':
			service = optarg;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'r':
			f.step = strtoull(optarg, NULL, 10);
			break;
		case 'D':
			f.disk_failed = true;
			break;
		default:
			fprintf(stderr,
				"usage: ctl_fake_daemon [-f] [-n] [-c FILE] [-s SERVICE] "
				"[-p|--pidfile PIDFILE] [--resync-step N] [--disk-failed]\n");
			return 2;
		}
	}
	if (check)
		return conf_check(conf ? conf : CONF_DEFAULT_PATH, stdout, stderr) ? 1 : 0;
	conf_defaults(&cfg);
	if (conf && conf_parse_file(&cfg, conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "ctl_fake_daemon: %s\n", err);
		return 1;
	}
	if (conf_resolve_group(&cfg, &has_group, &gid, err, sizeof(err)) < 0) {
		fprintf(stderr, "ctl_fake_daemon: %s\n", err);
		return 1;
	}
	if (!pidfile)
		pidfile = cfg.pidfile;

	/* Daemonize the way cmlogd does: the parent returns once the socket is served. */
	ready[0] = ready[1] = -1;
	if (!foreground && pipe(ready) < 0)
		return 1;
	if (!foreground) {
		pid_t pid = fork();
		char c = 1;

		if (pid < 0)
			return 1;
		if (pid > 0) {
			close(ready[1]);
			return read(ready[0], &c, 1) == 1 && c == 0 ? 0 : 1;
		}
		setsid();
		if (!freopen("/dev/null", "r", stdin))
			return 1;
	}
	if (ready[0] >= 0)
		close(ready[0]);

	f.started = time(NULL);
	f.conf = conf;
	f.loop = qb_loop_create();
	if (flight_create(&f.flight, cfg.flight_events) < 0 || !f.loop)
		goto fail;
	flight_add(f.flight, now_ms(), FLIGHT_MEMBERSHIP, NULL,
		   "daemon group: joined, members 1 2 3, protocol 1");
	flight_add(f.flight, now_ms(), FLIGHT_MEMBERSHIP, UUID_B, "log group: node 2 joined");
	if (f.disk_failed)
		flight_add(f.flight, now_ms(), FLIGHT_DISK, UUID_C, "disk write failed: -EIO");
	cc.service = service ? service : cfg.ctl_service;
	cc.has_ro_group = has_group;
	cc.ro_gid = gid;
	cc.flight = f.flight;
	r = ctl_open(&f.ctl, f.loop, &cc, &provider, &f);
	if (r < 0) {
		fprintf(stderr, "ctl_fake_daemon: control socket '%s': %s\n", cc.service,
			strerror(-r));
		goto fail;
	}
	if (write_pidfile(pidfile) < 0) {
		fprintf(stderr, "ctl_fake_daemon: pid file %s: %s\n", pidfile, strerror(errno));
		goto fail;
	}
	qb_loop_signal_add(f.loop, QB_LOOP_HIGH, SIGTERM, &f, on_signal, NULL);
	qb_loop_signal_add(f.loop, QB_LOOP_HIGH, SIGINT, &f, on_signal, NULL);
	qb_loop_signal_add(f.loop, QB_LOOP_HIGH, SIGHUP, &f, on_hup, NULL);
	if (f.step)
		qb_loop_timer_add(f.loop, QB_LOOP_LOW, 100 * QB_TIME_NS_IN_MSEC, &f, on_tick,
				  &f.tick);
	notify_parent(&ready[1], 0);
	/*
	 * Detach from the caller's output once started, as a daemon must: an agent that
	 * captures our output (ocf_run) would otherwise wait for EOF forever.
	 */
	if (!foreground &&
	    (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)))
		goto fail;
	qb_loop_run(f.loop);
	ctl_close(f.ctl);
	unlink(pidfile);
	flight_destroy(f.flight);
	qb_loop_destroy(f.loop);
	return 0;
fail : {
	char c = 1;

	if (write(ready[1], &c, 1) != 1)
		(void)0;
}
	return 1;
}
