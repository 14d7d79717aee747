/*
 * main: cmlogd's process life cycle and event loop wiring.
 *
 * Owns: options, the pid file lock, daemonizing, the qb loop and its signal handlers, the
 * kernel link (daemon/kern.c), the quorum tracker and the CPG transports (cluster/cpg.c)
 * as seen by the instance table (daemon/mlog.c), and the before-sleep phase.
 *
 * Also owns the configuration (daemon/conf.c: read at start, re-read on SIGHUP), the flight
 * recorder (daemon/flight.c, fed from mlog and the daemon group), the control socket
 * (daemon/ctl.c) and its provider, and the daemon-wide group (daemon/peers.c).
 *
 * Init order: configuration, logging, pid file, loop, signals, flight recorder, instance
 * table, quorum, daemon group, control socket, kernel link (last: requests may arrive as soon
 * as it is open). Teardown in reverse. Corosync being down is not a startup error: the quorum
 * tracker and every CPG transport reconnect in the background.
 *
 * SIGTERM/SIGINT policy: with no active (resumed) log the daemon exits at once. With active
 * logs the first signal only logs "logs are active" and is refused; a second one within
 * CMLOGD_TERM_WINDOW_S seconds exits anyway. Exiting is recoverable by design: the kernel
 * gets -ESRCH (no listener, or our -ESRCH for unknown logs after a restart), re-sends CTR
 * every 2 s and RESUMEs; core logs then rebuild from the other members or resync fully,
 * disk logs reread the log device. Exiting leaves each CPG group cleanly.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <qb/qbloop.h>
#include <qb/qbutil.h>

#include "cluster/cpg.h"
#include "daemon/conf.h"
#include "daemon/ctl.h"
#include "daemon/flight.h"
#include "daemon/kern.h"
#include "daemon/logging.h"
#include "daemon/disk.h"
#include "daemon/mlog.h"
#include "daemon/peers.h"
#include "daemon/ulog_codec.h"

#define CMLOGD_DEFAULT_STATEDIR "/var/lib/cmlog"
#define CMLOGD_TERM_WINDOW_S	5
#define CMLOGD_TICK_MS		100u

struct daemon_opts {
	bool foreground;
	bool debug;
	bool userspace_peer;
	bool check_only;      /* -n */
	const char *pidfile;  /* NULL: cmlogd.conf pidfile */
	const char *config;   /* NULL: CONF_DEFAULT_PATH when it exists */
	bool config_explicit; /* -c given: a missing file is an error */
	const char *state_dir;
};

struct daemon {
	struct daemon_opts opts;
	qb_loop_t *loop;
	struct kern *kern;
	struct mlog_table *table;
	struct disk_state_writer *state_writer; /* sync state files, written off the loop */
	struct cmcpg_quorum *quorum;
	struct conf conf;
	bool has_ro_group;
	gid_t ro_gid;
	struct flight *flight;
	struct peers *peers;
	struct ctl *ctl;
	time_t started;
	size_t announced_logs;
	int pid_fd;
	bool job_pending;
	/*
	 * Log every kernel request and reply (qb_log at LOG_DEBUG): only while the effective
	 * level is debug. Checked before qb_log because libqb formats and serialises a debug
	 * line into the blackbox whatever the syslog/stderr level, which was 39% of the
	 * daemon's instructions under write load (BENCHMARKS.md "Profile").
	 */
	bool trace_requests;
	time_t last_term;
	int exit_code;
	qb_loop_timer_handle tick_timer;
	qb_loop_signal_handle sig_term, sig_int, sig_usr1, sig_hup;
};

/* Only for the fatal-signal path, which has no context argument. */
static char fatal_dump_dir[1024] = "/tmp";
static struct flight *fatal_flight;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: cmlogd [-f|--foreground] [-d|--debug] [--userspace-peer]\n"
		"              [--pidfile PATH] [--state-dir DIR] [-c|--config FILE] [-n]\n"
		"  -f, --foreground   stay in the foreground and log to stderr\n"
		"  -d, --debug        log debug messages (overrides log_level)\n"
		"  --userspace-peer   accept requests from user-space netlink senders\n"
		"                     (tests only: a kernel stand-in in a network namespace)\n"
		"  --pidfile PATH     pid file and single-instance lock (cmlogd.conf pidfile)\n"
		"  --state-dir DIR    where blackbox dumps go (" CMLOGD_DEFAULT_STATEDIR ")\n"
		"  -c, --config FILE  configuration file (default " CONF_DEFAULT_PATH
		" if it exists)\n"
		"  -n, --check        check the configuration, print it and exit (0 ok, 1 bad)\n");
}

static int parse_opts(int argc, char **argv, struct daemon_opts *o)
{
	static const struct option lo[] = {
		{"foreground", no_argument, NULL, 'f'},
		{"debug", no_argument, NULL, 'd'},
		{"userspace-peer", no_argument, NULL, 'U'},
		{"pidfile", required_argument, NULL, 'p'},
		{"state-dir", required_argument, NULL, 's'},
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->state_dir = CMLOGD_DEFAULT_STATEDIR;
	while ((c = getopt_long(argc, argv, "fdc:nhV", lo, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->foreground = true;
			break;
		case 'd':
			o->debug = true;
			break;
		case 'U':
			o->userspace_peer = true;
			break;
		case 'p':
			o->pidfile = optarg;
			break;
		case 's':
			o->state_dir = optarg;
			break;
		case 'c':
			o->config = optarg;
			o->config_explicit = true;
			break;
		case 'n':
			o->check_only = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("cmlogd %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "cmlogd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* ---- pid file ------------------------------------------------------------------------------- */

/* Who holds the lock on @path (0 when nobody or unknown). */
static pid_t pidfile_holder(const char *path)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	pid_t pid = 0;

	if (fd < 0)
		return 0;
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
		pid = fl.l_pid;
	close(fd);
	return pid;
}

static int pidfile_lock(const char *path, int *out_fd)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char buf[32];
	int fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		int e = errno;

		close(fd);
		return (e == EAGAIN || e == EACCES) ? -EBUSY : -e;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		int e = errno;

		close(fd);
		return -e;
	}
	*out_fd = fd;
	return 0;
}

/* ---- daemonizing ------------------------------------------------------------------------------ */

/*
 * Double fork; the original parent waits on a pipe until the daemon says it is ready (one
 * byte: its exit code), so `cmlogd && use-it` works and startup failures reach the shell.
 */
static int daemonize(int *ready_fd)
{
	int p[2];
	pid_t pid;
	unsigned char code = 1;

	if (pipe(p) != 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &code, 1) != 1) {
			fprintf(stderr, "cmlogd: the daemon exited during startup (see syslog)\n");
			_exit(1);
		}
		if (code)
			fprintf(stderr, "cmlogd: startup failed (see syslog)\n");
		_exit(code);
	}
	close(p[0]);
	if (setsid() < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		return -errno;
	umask(022);
	*ready_fd = p[1];
	return 0;
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

static void notify_ready(int *ready_fd, unsigned char code)
{
	if (*ready_fd < 0)
		return;
	if (write(*ready_fd, &code, 1) != 1) {
		/* parent gone: nothing to tell */
	}
	close(*ready_fd);
	*ready_fd = -1;
}

/* ---- blackbox ---------------------------------------------------------------------------------- */

/* The flight recorder as text next to the blackbox: <dir>/cmlogd-flight-<pid>-<time>. */
static int dump_flight(const struct flight *f, const char *dir, char *path, size_t cap)
{
	FILE *out;
	int r;

	if (!f)
		return -EINVAL;
	snprintf(path, cap, "%s/cmlogd-flight-%ld-%lld", dir, (long)getpid(),
		 (long long)time(NULL));
	out = fopen(path, "we");
	if (!out)
		return -errno;
	r = flight_print(f, out);
	if (fclose(out) != 0 && r == 0)
		r = -EIO;
	return r;
}

static void dump_blackbox(const char *dir)
{
	char path[1200];

	logging_blackbox_path(path, sizeof(path), dir);
	if (logging_blackbox_dump(path) != 0)
		qb_log(LOG_ERR, "cannot write the blackbox to %s", path);
}

/*
 * Fatal signals: write the flight recorder, then die with the same signal (SA_RESETHAND).
 * qb_log_blackbox_write_to_file is not async-signal-safe; like corosync and pacemaker we
 * accept that risk on a path that is dying anyway, for the chance of a post-mortem.
 */
static void fatal_signal(int sig)
{
	char path[1200];

	logging_blackbox_path(path, sizeof(path), fatal_dump_dir);
	qb_log_blackbox_write_to_file(path);
	dump_flight(fatal_flight, fatal_dump_dir, path, sizeof(path));
	raise(sig);
}

static void install_fatal_handlers(void)
{
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fatal_signal;
	sa.sa_flags = (int)SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ---- before-sleep phase ------------------------------------------------------------------------- */

/*
 * Runs once after the handlers that made work (a HIGH priority zero-delay timer). The order is the
 * promise we make to the kernel (style.md rule 11):
 *   (a) groups hand their batched commit messages to CPG (group_pump);
 *   (b) dirty bitmap writes were queued to the disk worker by the groups as commits were
 *       delivered; a FLUSH whose promise needs them is answered only from its completion;
 *   (c) only then the queued kernel replies go out, so no FLUSH reply can precede the send of
 *       the commit it depends on.
 */
static void before_sleep(void *data)
{
	struct daemon *d = data;

	d->job_pending = false;
	mlog_table_pump(d->table); /* (a), (b) */
	/* (c), in order, as one sendmmsg per batch instead of one sendto per reply. */
	if (d->kern)
		kern_cork(d->kern);
	mlog_table_flush_replies(d->table);
	if (d->kern)
		kern_uncork(d->kern);
}

static void kick(void *ctx)
{
	struct daemon *d = ctx;

	if (d->job_pending || !d->loop)
		return;
	/*
	 * A zero-delay timer, not a loop job: libqb 2.x polls the fds for up to 50 ms before it
	 * runs jobs when only jobs are pending (lib/loop.c, "Jobs can spin out of control"),
	 * which delayed every kernel reply and every commit send by up to 50 ms. An expired
	 * timer makes the next poll non-blocking.
	 *
	 * HIGH, not LOW: qb_loop_run runs the LOW level only on every third pass (p_stop cycles
	 * HIGH, MED, LOW), so a LOW timer cost up to two extra passes (epoll_wait(0) each)
	 * between a request and its reply; measured at N=3 W=1, recv -> reply send of a local
	 * MARK 58 -> 10 us and recv -> commit send of a FLUSH 54 -> 15 us. The batch is what one
	 * pass of handlers made (a kernel wakeup reads up to 64 requests, a CPG wakeup up to 64
	 * messages): the timer expires on the next pass, its job queued before that pass's fd
	 * events.
	 */
	if (qb_loop_timer_add(d->loop, QB_LOOP_HIGH, 0, d, before_sleep, NULL) == 0)
		d->job_pending = true;
}

/* ---- kernel link ---------------------------------------------------------------------------------- */

static void kern_log(void *ctx, int prio, const char *msg)
{
	qb_log(prio, "kern: %s", msg);
}

static void on_kernel_request(void *ctx, const struct ulog_msg *req)
{
	struct daemon *d = ctx;

	if (d->trace_requests)
		qb_log(LOG_DEBUG, "request %s seq %u log %s/%llx size %u", ulog_type_str(req->type),
		       req->seq, req->uuid, (unsigned long long)req->luid, req->data_size);
	mlog_table_request(d->table, req);
	kick(d);
}

static void send_reply(void *ctx, const struct ulog_msg *req, int error, const void *data,
		       size_t len)
{
	struct daemon *d = ctx;
	int r;

	if (!d->kern)
		return;
	if (error == -EAGAIN) {
		/* Only as ack-only: a full EAGAIN reply shrinks the resend's capacity. */
		r = kern_ack(d->kern, req, EAGAIN);
	} else {
		r = kern_reply(d->kern, req, error, data, len);
		if (r == -EINVAL) {
			/* The codec refused a reply the kernel would misread: a daemon bug. Answer
			 * with a plain error rather than leave the kernel waiting. */
			qb_log(LOG_ERR,
			       "refused reply to %s seq %u (error %d, %zu bytes): sending -EIO",
			       ulog_type_str(req->type), req->seq, error, len);
			r = kern_reply(d->kern, req, -EIO, NULL, 0);
		}
	}
	if (r)
		qb_log(LOG_WARNING, "reply to %s seq %u not sent: %s", ulog_type_str(req->type),
		       req->seq, strerror(-r));
	else if (d->trace_requests)
		qb_log(LOG_DEBUG, "reply %s seq %u error %d size %zu", ulog_type_str(req->type),
		       req->seq, error, len);
}

/* A sync state file read (a reconnect RESUME) is done: its log's resume goes on. */
static int32_t state_fd_cb(int32_t fd, int32_t revents, void *data)
{
	struct daemon *d = data;

	disk_state_complete(d->state_writer);
	kick(d);
	return 0;
}

static int32_t kern_fd_cb(int32_t fd, int32_t revents, void *data)
{
	struct daemon *d = data;
	int r;

	r = kern_dispatch(d->kern);
	if (r < 0) {
		qb_log(LOG_CRIT, "kernel link broken: %s; exiting", strerror(-r));
		d->exit_code = 1;
		qb_loop_stop(d->loop);
		return -1;
	}
	kick(d);
	return 0;
}

/* ---- CPG transport glue ------------------------------------------------------------------------ */

static void t_deliver(void *ctx, uint32_t nodeid, const void *buf, size_t len)
{
	mlog_transport_deliver(ctx, nodeid, buf, len);
}

static void t_confchg(void *ctx, const uint32_t *m, size_t nm, const uint32_t *l, size_t nl,
		      const uint32_t *j, size_t nj)
{
	mlog_transport_confchg(ctx, m, nm, l, nl, j, nj);
}

static void t_lost(void *ctx)
{
	mlog_transport_lost(ctx);
}

static void t_restored(void *ctx)
{
	mlog_transport_restored(ctx);
}

static void t_retry(void *ctx)
{
	mlog_transport_retry(ctx);
}

static const struct cmcpg_ops cpg_ops = {
	.deliver = t_deliver,
	.confchg = t_confchg,
	.lost = t_lost,
	.restored = t_restored,
	.retry = t_retry,
};

static int tr_create(void *env_ctx, const char *uuid, struct mlog *owner, void **handle)
{
	struct daemon *d = env_ctx;
	struct cmcpg *c;
	int r = cmcpg_create(&c, d->loop, uuid, &cpg_ops, owner);

	if (r == 0)
		*handle = c;
	return r;
}

static int tr_send(void *h, const struct iovec *iov, unsigned int n)
{
	return cmcpg_send(h, iov, n);
}

static void tr_left(void *ctx)
{
	mlog_transport_left(ctx);
}

static void tr_leave(void *h)
{
	cmcpg_leave(h, tr_left);
}

static void tr_destroy(void *h)
{
	cmcpg_destroy(h);
}

static uint32_t tr_nodeid(void *h)
{
	return cmcpg_local_nodeid(h);
}

static void tr_rejoin(void *h)
{
	cmcpg_rejoin(h, "this node was excluded from the group: rejoining as a new member");
}

static const struct mlog_transport_ops transport_ops = {
	.create = tr_create,
	.send = tr_send,
	.leave = tr_leave,
	.destroy = tr_destroy,
	.nodeid = tr_nodeid,
	.rejoin = tr_rejoin,
};

static void on_quorum(void *ctx, bool quorate)
{
	struct daemon *d = ctx;

	if (d->table) {
		mlog_table_set_quorate(d->table, quorate);
		kick(d);
	}
}

static void sync_quorum(void *ctx)
{
	struct daemon *d = ctx;

	if (d->quorum)
		cmcpg_quorum_refresh(d->quorum);
}

/* ---- timers and signals ---------------------------------------------------------------------------- */

static void tick_cb(void *data)
{
	struct daemon *d = data;

	mlog_table_tick(d->table, qb_util_nano_current_get() / QB_TIME_NS_IN_MSEC);
	if (mlog_table_has_work(d->table))
		kick(d);
	if (d->peers && mlog_table_count(d->table) != d->announced_logs) {
		d->announced_logs = mlog_table_count(d->table);
		peers_announce(d->peers);
	}
	qb_loop_timer_add(d->loop, QB_LOOP_MED, (uint64_t)CMLOGD_TICK_MS * QB_TIME_NS_IN_MSEC, d,
			  tick_cb, &d->tick_timer);
}

static void log_instance(void *ctx, const struct mlog_info *i)
{
	qb_log(LOG_NOTICE, "log %s/%llx: %s, %s, %llu regions, %llu in sync, %llu waiting%s%s",
	       i->uuid, (unsigned long long)i->luid, mlog_state_str(i->state),
	       i->disk ? "clustered-disk" : "clustered-core", (unsigned long long)i->region_count,
	       (unsigned long long)i->sync_count, (unsigned long long)i->outstanding,
	       i->has_group ? (i->group.synced ? ", synced" : ", not synced") : "",
	       i->disk_failed ? ", DISK FAILED" : "");
}

static int32_t sig_usr1(int32_t sig, void *data)
{
	struct daemon *d = data;
	char path[1200];
	int r;

	qb_log(LOG_NOTICE, "SIGUSR1: %zu logs, %zu active", mlog_table_count(d->table),
	       mlog_table_active(d->table));
	mlog_table_status_fill(d->table, log_instance, d);
	dump_blackbox(d->opts.state_dir);
	r = dump_flight(d->flight, d->opts.state_dir, path, sizeof(path));
	if (r)
		qb_log(LOG_ERR, "cannot write the flight recorder to %s: %s", path, strerror(-r));
	else
		qb_log(LOG_NOTICE, "flight recorder written to %s", path);
	return 0;
}

static int32_t sig_term(int32_t sig, void *data)
{
	struct daemon *d = data;
	size_t active = mlog_table_active(d->table);
	time_t now = time(NULL);

	if (active && (d->last_term == 0 || now - d->last_term > CMLOGD_TERM_WINDOW_S)) {
		d->last_term = now;
		qb_log(LOG_WARNING,
		       "%s refused: %zu logs are active; send it again within %d s to exit anyway "
		       "(the kernel reconnects to a restarted cmlogd)",
		       strsignal(sig), active, CMLOGD_TERM_WINDOW_S);
		return 0;
	}
	qb_log(LOG_NOTICE, "%s: exiting (%zu active logs)", strsignal(sig), active);
	qb_loop_stop(d->loop);
	return 0;
}

/* ---- configuration ------------------------------------------------------------------------------ */

/* The file to read: -c FILE, else CONF_DEFAULT_PATH when it exists, else none (defaults). */
static const char *config_path(const struct daemon_opts *o)
{
	struct stat st;

	if (o->config)
		return o->config;
	return stat(CONF_DEFAULT_PATH, &st) == 0 ? CONF_DEFAULT_PATH : NULL;
}

/* Parse the configuration over the defaults into @c; @err gets "file:line: problem". */
static int load_config(const struct daemon_opts *o, struct conf *c, bool *has_group, gid_t *gid,
		       char *err, size_t errlen)
{
	const char *path = config_path(o);
	int r;

	conf_defaults(c);
	if (path) {
		r = conf_parse_file(c, path, err, errlen);
		if (r)
			return r;
	}
	return conf_resolve_group(c, has_group, gid, err, errlen);
}

static const char *level_name(int level)
{
	switch (level) {
	case LOG_ERR:
		return "err";
	case LOG_WARNING:
		return "warning";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

static int effective_level(const struct daemon *d)
{
	return d->opts.debug ? LOG_DEBUG : (int)d->conf.log_level;
}

/*
 * log_level: the syslog and stderr filters (the blackbox always keeps debug), and whether
 * every kernel request and reply is logged (only at debug: the hot path).
 */
static void apply_log_level(struct daemon *d)
{
	static const int targets[] = {QB_LOG_SYSLOG, QB_LOG_STDERR};
	size_t i;

	d->trace_requests = effective_level(d) == LOG_DEBUG;
	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		qb_log_filter_ctl(targets[i], QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "*", 0);
		qb_log_filter_ctl(targets[i], QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
				  (uint8_t)effective_level(d));
	}
}

/* blackbox_size: 0 turns the qb blackbox off; otherwise resize it (re-enable). */
static void apply_blackbox_size(const struct daemon *d)
{
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_FALSE);
	if (d->conf.blackbox_size == 0)
		return;
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, (int32_t)d->conf.blackbox_size);
	if (!logging_blackbox_enable("cmlogd"))
		qb_log(LOG_WARNING, "cannot enable a %u byte blackbox", d->conf.blackbox_size);
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * SIGHUP: re-read the file. log_level and socket_group apply at once; every other key is
 * read at start only (a change is logged as needing a restart). A bad file changes nothing.
 */
static int32_t sig_hup(int32_t sig, void *data)
{
	struct daemon *d = data;
	struct conf c;
	bool has_group = false;
	gid_t gid = 0;
	char err[512];
	int r = load_config(&d->opts, &c, &has_group, &gid, err, sizeof(err));

	if (r) {
		qb_log(LOG_ERR, "SIGHUP: configuration not reloaded: %s", err);
		flight_add(d->flight, wall_ms(), FLIGHT_ERROR, NULL, "SIGHUP: reload failed: %s",
			   err);
		return 0;
	}
	if (strcmp(c.ctl_service, d->conf.ctl_service) != 0 ||
	    c.rcvbuf_bytes != d->conf.rcvbuf_bytes || c.userspace_peer != d->conf.userspace_peer ||
	    strcmp(c.pidfile, d->conf.pidfile) != 0 || c.blackbox_size != d->conf.blackbox_size ||
	    c.flight_events != d->conf.flight_events)
		qb_log(LOG_WARNING,
		       "SIGHUP: ctl_service, rcvbuf_bytes, userspace_peer, pidfile, "
		       "blackbox_size and flight_events take effect at the next start");
	d->conf.log_level = c.log_level;
	snprintf(d->conf.socket_group, sizeof(d->conf.socket_group), "%s", c.socket_group);
	d->has_ro_group = has_group;
	d->ro_gid = gid;
	apply_log_level(d);
	if (d->ctl)
		ctl_set_ro_group(d->ctl, has_group, gid);
	qb_log(LOG_NOTICE, "SIGHUP: configuration reloaded (log level %s, socket group %s)",
	       level_name(effective_level(d)), c.socket_group[0] ? c.socket_group : "none");
	flight_add(d->flight, wall_ms(), FLIGHT_REQUEST, NULL,
		   "SIGHUP: reloaded (log level %s, socket group %s)",
		   level_name(effective_level(d)), c.socket_group[0] ? c.socket_group : "none");
	return 0;
}

/* ---- flight recorder feed --------------------------------------------------------------------- */

static void on_record(void *ctx, enum mlog_record kind, const char *uuid, const char *text)
{
	static const enum flight_kind map[] = {
		[MLOG_REC_REQUEST] = FLIGHT_REQUEST,
		[MLOG_REC_REPLY] = FLIGHT_REPLY,
		[MLOG_REC_MEMBERSHIP] = FLIGHT_MEMBERSHIP,
		[MLOG_REC_ERROR] = FLIGHT_ERROR,
		[MLOG_REC_DISK] = FLIGHT_DISK,
	};
	struct daemon *d = ctx;

	if ((unsigned)kind >= sizeof(map) / sizeof(map[0]))
		return;
	flight_add(d->flight, wall_ms(), map[kind], uuid, "%s", text);
}

/* ---- control socket provider ------------------------------------------------------------------ */

static uint32_t local_nodeid(const struct daemon *d)
{
	return d->peers ? peers_local_nodeid(d->peers) : 0;
}

/* Daemon-wide protocol version: the lowest every daemon-group member announced (0: none). */
static uint32_t daemon_protocol(const struct daemon *d, uint32_t *n_members)
{
	struct peers_member m[PEERS_MAX_MEMBERS];
	size_t n = d->peers ? peers_members(d->peers, m, PEERS_MAX_MEMBERS) : 0, i;
	uint32_t v = 0;

	for (i = 0; i < n; i++) {
		if (!m[i].announced)
			continue;
		if (v == 0 || m[i].protocol_max < v)
			v = m[i].protocol_max;
	}
	if (n_members)
		*n_members = (uint32_t)n;
	return v;
}

static enum ctl_log_state ctl_state(enum mlog_state s)
{
	switch (s) {
	case MLOG_CONSTRUCTED:
		return CTL_LOG_CONSTRUCTED;
	case MLOG_READING:
	case MLOG_RESUMING:
		return CTL_LOG_JOINING;
	case MLOG_RESUMED:
		return CTL_LOG_RESUMED;
	case MLOG_SUSPENDING:
	case MLOG_SUSPENDED:
		return CTL_LOG_SUSPENDED;
	}
	return CTL_LOG_CONSTRUCTED;
}

struct fill_ctx {
	struct json_object *out;
	const char *uuid; /* show: only this uuid */
	size_t matched;
	int err;
};

static void fill_log(void *ctx, const struct mlog_info *i)
{
	struct fill_ctx *f = ctx;
	struct ctl_node_marks marks[GROUP_MAX_MEMBERS];
	struct ctl_log_info l;
	uint32_t k;
	int r;

	if (f->uuid && strcmp(f->uuid, i->uuid) != 0)
		return;
	memset(&l, 0, sizeof(l));
	l.uuid = i->uuid;
	l.luid = i->luid;
	l.disk = i->disk;
	l.region_size = i->region_size * 512u; /* sectors to bytes */
	l.region_count = i->region_count;
	l.sync_count = i->sync_count;
	l.recovering = i->recovering;
	l.recovering_region = i->recovering_region;
	l.recovering_node = i->recovering_node;
	l.state = ctl_state(i->state);
	l.disk_state = !i->disk ? CTL_DISK_NONE : i->disk_failed ? CTL_DISK_DEAD : CTL_DISK_ALIVE;
	l.pending_requests = i->outstanding;
	l.has_digest = i->has_digest;
	l.requests = i->requests;
	l.hot_requests = i->hot_requests;
	l.digest = i->digest;
	if (i->has_group) {
		l.writer = i->group.writer;
		l.protocol_version = i->group.version;
		l.gen = i->group.gen;
		l.pending_requests += i->group.pending_requests;
		l.n_members = i->group.n_members;
		l.members = i->group.members;
		l.commits_sent = i->group.commits_sent;
		l.rejected_messages = i->group.bad_messages;
		l.synced = i->group.synced;
	}
	for (k = 0; k < i->n_marks && k < GROUP_MAX_MEMBERS; k++) {
		marks[k].node_id = i->marks[k].node;
		marks[k].regions = i->marks[k].regions;
	}
	l.n_marks = k;
	l.marks = marks;
	r = f->uuid ? ctl_show_set_log(f->out, &l) : ctl_status_add_log(f->out, &l);
	if (r && !f->err)
		f->err = r;
	f->matched++;
}

static int fill_status(struct daemon *d, struct json_object *out)
{
	struct ctl_daemon_info di;
	struct fill_ctx f = {.out = out};
	struct json_object *logs;
	char ring[48];
	uint64_t seq;
	uint32_t rep;
	int r;

	memset(&di, 0, sizeof(di));
	di.version = PACKAGE_VERSION;
	di.pid = getpid();
	di.node_id = local_nodeid(d);
	di.uptime_s = (uint64_t)(time(NULL) - d->started);
	di.log_level = level_name(effective_level(d));
	di.corosync_connected = d->peers && peers_is_up(d->peers);
	di.quorate = d->quorum && cmcpg_quorum_is_quorate(d->quorum);
	di.protocol_version = daemon_protocol(d, NULL);
	if (d->peers && peers_ring(d->peers, &rep, &seq)) {
		snprintf(ring, sizeof(ring), "%u.%llu", rep, (unsigned long long)seq);
		di.ring_id = ring;
	}
	r = ctl_status_set_daemon(out, &di);
	if (r)
		return r;
	mlog_table_status_fill(d->table, fill_log, &f);
	if (f.err)
		return f.err;
	/* An empty list rather than a missing key when there are no logs. */
	if (!json_object_object_get_ex(out, "logs", &logs) &&
	    json_object_object_add(out, "logs", json_object_new_array()) != 0)
		return -ENOMEM;
	return 0;
}

static int p_status(void *ctx, struct json_object *out)
{
	return fill_status(ctx, out);
}

static int p_show(void *ctx, const char *uuid, struct json_object *out)
{
	struct daemon *d = ctx;
	struct fill_ctx f = {.out = out, .uuid = uuid};

	mlog_table_status_fill(d->table, fill_log, &f);
	if (f.err)
		return f.err;
	return f.matched ? 0 : -ENOENT;
}

static int p_members(void *ctx, struct json_object *out)
{
	struct daemon *d = ctx;
	struct peers_member pm[PEERS_MAX_MEMBERS];
	struct ctl_member m[PEERS_MAX_MEMBERS];
	size_t n = peers_members(d->peers, pm, PEERS_MAX_MEMBERS), i;
	uint32_t me = local_nodeid(d);

	for (i = 0; i < n; i++) {
		m[i].node_id = pm[i].node_id;
		m[i].local = pm[i].node_id == me;
		m[i].protocol_max = m[i].local ? GROUP_PROTO_VERSION_MAX : pm[i].protocol_max;
		m[i].n_logs = m[i].local ? (uint32_t)mlog_table_count(d->table) : pm[i].n_logs;
	}
	return ctl_members_set(out, daemon_protocol(d, NULL),
			       d->quorum && cmcpg_quorum_is_quorate(d->quorum), m, (uint32_t)n);
}

static int p_dump(void *ctx, struct json_object *out)
{
	struct daemon *d = ctx;

	return ctl_dump_flight(out, d->flight);
}

static void cluster_done(void *ctx, int err, struct peers_answer *a, size_t n)
{
	struct ctl_deferred *def = ctx;
	struct json_object *out = ctl_deferred_body(def);
	size_t i;
	int r = err;

	for (i = 0; i < n; i++) {
		if (r == 0)
			r = ctl_cluster_add_node(out, a[i].node_id, a[i].answered, a[i].error,
						 a[i].status);
		else
			json_object_put(a[i].status);
		a[i].status = NULL;
	}
	ctl_deferred_finish(def, r);
}

static int p_cluster_async(void *ctx, struct ctl_deferred *def)
{
	struct daemon *d = ctx;

	return peers_query(d->peers, cluster_done, def);
}

static const struct ctl_provider ctl_provider = {
	.status = p_status,
	.show = p_show,
	.members = p_members,
	.dump = p_dump,
	.cluster_async = p_cluster_async,
};

/* ---- daemon group ----------------------------------------------------------------------------- */

static struct json_object *peers_local_status(void *ctx)
{
	struct json_object *o = json_object_new_object();

	if (o && fill_status(ctx, o) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static uint32_t peers_n_logs(void *ctx)
{
	struct daemon *d = ctx;

	return (uint32_t)mlog_table_count(d->table);
}

static void peers_membership(void *ctx, const uint32_t *m, size_t n, const uint32_t *l, size_t nl,
			     const uint32_t *j, size_t nj)
{
	struct daemon *d = ctx;
	char text[FLIGHT_TEXT_LEN];
	size_t i, off;

	off = (size_t)snprintf(text, sizeof(text), "daemon group: %zu members", n);
	for (i = 0; i < nl && off < sizeof(text); i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, ", %u left", l[i]);
	for (i = 0; i < nj && off < sizeof(text); i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, ", %u joined", j[i]);
	qb_log(LOG_INFO, "%s", text);
	flight_add(d->flight, wall_ms(), FLIGHT_MEMBERSHIP, NULL, "%s", text);
}

static const struct peers_ops peers_ops = {
	.local_status = peers_local_status,
	.n_logs = peers_n_logs,
	.membership = peers_membership,
};

/* ---- main -------------------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct daemon d;
	struct kern_cfg kcfg;
	struct mlog_env env;
	struct ctl_cfg ccfg;
	struct peers *peers = NULL;
	char err[512];
	int ready_fd = -1;
	pid_t holder;
	int r;

	memset(&d, 0, sizeof(d));
	d.pid_fd = -1;
	d.exit_code = 1; /* until the loop runs */
	if (parse_opts(argc, argv, &d.opts) != 0)
		return 1;
	if (d.opts.check_only) {
		const char *path = config_path(&d.opts);

		if (!path) {
			/* Nothing installed: the defaults are what would run. */
			conf_defaults(&d.conf);
			printf("# %s not found: built-in defaults\n", CONF_DEFAULT_PATH);
			conf_print(&d.conf, stdout);
			return 0;
		}
		return conf_check(path, stdout, stderr) == 0 ? 0 : 1;
	}
	/* The configuration is read before forking so that its errors reach the terminal. */
	r = load_config(&d.opts, &d.conf, &d.has_ro_group, &d.ro_gid, err, sizeof(err));
	if (r) {
		fprintf(stderr, "cmlogd: %s\n", err);
		return 1;
	}
	if (!d.opts.pidfile)
		d.opts.pidfile = d.conf.pidfile;
	/* Check the lock before forking so the refusal reaches the terminal. */
	holder = pidfile_holder(d.opts.pidfile);
	if (holder > 0) {
		fprintf(stderr, "cmlogd: another cmlogd (pid %ld) is running: %s is locked\n",
			(long)holder, d.opts.pidfile);
		return 1;
	}
	if (!d.opts.foreground) {
		r = daemonize(&ready_fd);
		if (r) {
			fprintf(stderr, "cmlogd: cannot daemonize: %s\n", strerror(-r));
			return 1;
		}
	}
	logging_init("cmlogd", d.opts.foreground, d.opts.debug);
	apply_log_level(&d);
	apply_blackbox_size(&d);
	d.started = time(NULL);
	if (!d.opts.foreground)
		detach_stdio();
	snprintf(fatal_dump_dir, sizeof(fatal_dump_dir), "%s", d.opts.state_dir);
	if (mkdir(d.opts.state_dir, 0700) != 0 && errno != EEXIST) {
		qb_log(LOG_WARNING, "cannot create %s (%s): blackbox dumps go to /tmp",
		       d.opts.state_dir, strerror(errno));
		d.opts.state_dir = "/tmp";
		snprintf(fatal_dump_dir, sizeof(fatal_dump_dir), "/tmp");
	}
	install_fatal_handlers();
	r = pidfile_lock(d.opts.pidfile, &d.pid_fd);
	if (r == -EBUSY) {
		qb_log(LOG_ERR, "another cmlogd (pid %ld) is running: %s is locked",
		       (long)pidfile_holder(d.opts.pidfile), d.opts.pidfile);
		goto err_log;
	} else if (r) {
		qb_log(LOG_ERR, "cannot lock pid file %s: %s", d.opts.pidfile, strerror(-r));
		goto err_log;
	}
	if (d.conf.userspace_peer)
		d.opts.userspace_peer = true;
	qb_log(LOG_NOTICE, "cmlogd %s starting (pid %ld, configuration %s, log level %s)%s",
	       PACKAGE_VERSION, (long)getpid(),
	       config_path(&d.opts) ? config_path(&d.opts) : "defaults",
	       level_name(effective_level(&d)),
	       d.opts.userspace_peer ? " ACCEPTING USER-SPACE PEERS (test mode)" : "");
	r = flight_create(&d.flight, d.conf.flight_events);
	if (r) {
		qb_log(LOG_ERR, "cannot create the flight recorder: %s", strerror(-r));
		goto err_pid;
	}
	flight_add(d.flight, wall_ms(), FLIGHT_REQUEST, NULL, "cmlogd %s starting (pid %ld)",
		   PACKAGE_VERSION, (long)getpid());
	fatal_flight = d.flight;

	d.loop = qb_loop_create();
	if (!d.loop) {
		qb_log(LOG_ERR, "cannot create the event loop");
		goto err_pid;
	}
	qb_loop_signal_add(d.loop, QB_LOOP_HIGH, SIGTERM, &d, sig_term, &d.sig_term);
	qb_loop_signal_add(d.loop, QB_LOOP_HIGH, SIGINT, &d, sig_term, &d.sig_int);
	qb_loop_signal_add(d.loop, QB_LOOP_LOW, SIGUSR1, &d, sig_usr1, &d.sig_usr1);
	qb_loop_signal_add(d.loop, QB_LOOP_LOW, SIGHUP, &d, sig_hup, &d.sig_hup);

	memset(&env, 0, sizeof(env));
	env.loop = d.loop;
	env.transport = &transport_ops;
	env.transport_ctx = &d;
	env.reply = send_reply;
	env.reply_ctx = &d;
	env.kick = kick;
	env.kick_ctx = &d;
	env.sync_quorum = sync_quorum;
	env.sync_quorum_ctx = &d;
	env.record = on_record;
	env.record_ctx = &d;
	r = disk_state_writer_create(&d.state_writer);
	if (r == 0 && qb_loop_poll_add(d.loop, QB_LOOP_HIGH, disk_state_event_fd(d.state_writer),
				       POLLIN, &d, state_fd_cb) != 0) {
		disk_state_writer_destroy(d.state_writer);
		d.state_writer = NULL;
		r = -ENOMEM;
	}
	if (r)
		qb_log(LOG_WARNING,
		       "cannot start the sync state writer (%s): a daemon restart will not keep "
		       "in-sync regions",
		       strerror(-r));
	env.state_writer = d.state_writer;
	env.state_dir = d.opts.state_dir;
	r = mlog_table_create(&d.table, &env);
	if (r) {
		qb_log(LOG_ERR, "cannot create the log table: %s", strerror(-r));
		goto err_loop;
	}
	r = cmcpg_quorum_create(&d.quorum, d.loop, on_quorum, &d);
	if (r) {
		qb_log(LOG_ERR, "cannot track quorum: %s", strerror(-r));
		goto err_table;
	}
	mlog_table_set_quorate(d.table, cmcpg_quorum_is_quorate(d.quorum));

	r = peers_create(&peers, d.loop, &peers_ops, &d);
	if (r) {
		qb_log(LOG_ERR, "cannot create the daemon group: %s", strerror(-r));
		goto err_quorum;
	}
	d.peers = peers;
	memset(&ccfg, 0, sizeof(ccfg));
	ccfg.service = d.conf.ctl_service;
	ccfg.has_ro_group = d.has_ro_group;
	ccfg.ro_gid = d.ro_gid;
	ccfg.daemon_version = PACKAGE_VERSION;
	ccfg.flight = d.flight;
	r = ctl_open(&d.ctl, d.loop, &ccfg, &ctl_provider, &d);
	if (r) {
		qb_log(LOG_ERR, "cannot open the control socket '%s': %s", d.conf.ctl_service,
		       strerror(-r));
		goto err_peers;
	}

	memset(&kcfg, 0, sizeof(kcfg));
	kcfg.userspace_peer = d.opts.userspace_peer;
	kcfg.rcvbuf = (int)d.conf.rcvbuf_bytes;
	kcfg.log = kern_log;
	r = kern_open(&d.kern, &kcfg, on_kernel_request, &d);
	if (r) {
		qb_log(LOG_ERR, "cannot open the kernel link (netlink connector): %s",
		       strerror(-r));
		goto err_ctl;
	}
	if (qb_loop_poll_add(d.loop, QB_LOOP_HIGH, kern_fd(d.kern), POLLIN, &d, kern_fd_cb) != 0) {
		qb_log(LOG_ERR, "cannot poll the kernel link");
		goto err_kern;
	}
	qb_loop_timer_add(d.loop, QB_LOOP_MED, (uint64_t)CMLOGD_TICK_MS * QB_TIME_NS_IN_MSEC, &d,
			  tick_cb, &d.tick_timer);

	qb_log(LOG_NOTICE, "ready: netlink port %u", kern_portid(d.kern));
	d.exit_code = 0;
	notify_ready(&ready_fd, 0);
	qb_loop_run(d.loop);

	qb_log(LOG_NOTICE, "shutting down: %zu logs (%zu active)", mlog_table_count(d.table),
	       mlog_table_active(d.table));
	/* Answer what is already queued, then leave every group. */
	mlog_table_flush_replies(d.table);
	qb_loop_poll_del(d.loop, kern_fd(d.kern));
err_kern:
	mlog_table_destroy(d.table);
	d.table = NULL;
	kern_close(d.kern);
	d.kern = NULL;
err_ctl:
	/* Pending cluster queries answer their clients (-ECANCELED) before ctl goes. */
	peers_destroy(d.peers);
	d.peers = NULL;
	ctl_close(d.ctl);
	d.ctl = NULL;
err_peers:
	peers_destroy(d.peers);
	d.peers = NULL;
err_quorum:
	cmcpg_quorum_destroy(d.quorum);
err_table:
	if (d.table)
		mlog_table_destroy(d.table);
err_loop:
	/* After the table: its last sync state files are written before we exit. */
	if (d.state_writer)
		qb_loop_poll_del(d.loop, disk_state_event_fd(d.state_writer));
	disk_state_writer_destroy(d.state_writer);
	qb_loop_destroy(d.loop);
err_pid:
	fatal_flight = NULL;
	flight_destroy(d.flight);
	unlink(d.opts.pidfile);
	close(d.pid_fd);
err_log:
	qb_log(LOG_NOTICE, "cmlogd exiting (code %d)", d.exit_code);
	logging_fini();
	notify_ready(&ready_fd, 1);
	return d.exit_code;
}
