/*
 * main: cmlogd's process life cycle and event loop wiring.
 *
 * Owns: options, the pid file lock, daemonizing, the qb loop and its signal handlers, the
 * kernel link (daemon/kern.c), the quorum tracker and the CPG transports (cluster/cpg.c)
 * as seen by the instance table (daemon/mlog.c), and the before-sleep phase.
 *
 * Init order: logging, pid file, loop, signals, instance table, quorum, kernel link (last:
 * requests may arrive as soon as it is open). Teardown in reverse.
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
#include "daemon/kern.h"
#include "daemon/logging.h"
#include "daemon/mlog.h"
#include "daemon/ulog_codec.h"

#define CMLOGD_DEFAULT_PIDFILE	"/run/cmlogd.pid"
#define CMLOGD_DEFAULT_STATEDIR "/var/lib/cmlog"
#define CMLOGD_TERM_WINDOW_S	5
#define CMLOGD_TICK_MS		100u

struct daemon_opts {
	bool foreground;
	bool debug;
	bool userspace_peer;
	const char *pidfile;
	const char *config;
	const char *state_dir;
};

struct daemon {
	struct daemon_opts opts;
	qb_loop_t *loop;
	struct kern *kern;
	struct mlog_table *table;
	struct cmcpg_quorum *quorum;
	int pid_fd;
	bool job_pending;
	time_t last_term;
	int exit_code;
	qb_loop_timer_handle tick_timer;
	qb_loop_signal_handle sig_term, sig_int, sig_usr1;
};

/* Only for the fatal-signal path, which has no context argument. */
static char fatal_dump_dir[1024] = "/tmp";

static void usage(FILE *f)
{
	fprintf(f, "Usage: cmlogd [-f|--foreground] [-d|--debug] [--userspace-peer]\n"
		   "              [--pidfile PATH] [--state-dir DIR] [-c|--config FILE]\n"
		   "  -f, --foreground   stay in the foreground and log to stderr\n"
		   "  -d, --debug        log debug messages\n"
		   "  --userspace-peer   accept requests from user-space netlink senders\n"
		   "                     (tests only: a kernel stand-in in a network namespace)\n"
		   "  --pidfile PATH     pid file and single-instance lock (" CMLOGD_DEFAULT_PIDFILE
		   ")\n"
		   "  --state-dir DIR    where blackbox dumps go (" CMLOGD_DEFAULT_STATEDIR ")\n"
		   "  -c, --config FILE  configuration file (see cmlogd.conf(5))\n");
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
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->pidfile = CMLOGD_DEFAULT_PIDFILE;
	o->state_dir = CMLOGD_DEFAULT_STATEDIR;
	while ((c = getopt_long(argc, argv, "fdc:hV", lo, NULL)) != -1) {
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
 * Runs once after the handlers that made work (a LOW priority zero-delay timer). The order is the
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
	mlog_table_pump(d->table);	    /* (a), (b) */
	mlog_table_flush_replies(d->table); /* (c) */
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
	 */
	if (qb_loop_timer_add(d->loop, QB_LOOP_LOW, 0, d, before_sleep, NULL) == 0)
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
	else
		qb_log(LOG_DEBUG, "reply %s seq %u error %d size %zu", ulog_type_str(req->type),
		       req->seq, error, len);
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

static const struct mlog_transport_ops transport_ops = {
	.create = tr_create,
	.send = tr_send,
	.leave = tr_leave,
	.destroy = tr_destroy,
	.nodeid = tr_nodeid,
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

	qb_log(LOG_NOTICE, "SIGUSR1: %zu logs, %zu active", mlog_table_count(d->table),
	       mlog_table_active(d->table));
	mlog_table_status_fill(d->table, log_instance, d);
	dump_blackbox(d->opts.state_dir);
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

/* ---- main -------------------------------------------------------------------------------------------- */

static void check_config(const char *path)
{
	struct stat st;

	if (!path)
		return;
	/* The configuration parser is wired in with the control socket (daemon/config.c). */
	if (stat(path, &st) != 0)
		qb_log(LOG_NOTICE, "configuration %s not found: using defaults", path);
	else
		qb_log(LOG_INFO, "configuration %s present; this build uses built-in defaults",
		       path);
}

int main(int argc, char **argv)
{
	struct daemon d;
	struct kern_cfg kcfg;
	struct mlog_env env;
	int ready_fd = -1;
	pid_t holder;
	int r;

	memset(&d, 0, sizeof(d));
	d.pid_fd = -1;
	d.exit_code = 1; /* until the loop runs */
	if (parse_opts(argc, argv, &d.opts) != 0)
		return 1;
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
	if (logging_init("cmlogd", d.opts.foreground, d.opts.debug) != 0) {
		fprintf(stderr, "cmlogd: cannot set up logging\n");
		goto err_ready;
	}
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
	qb_log(LOG_NOTICE, "cmlogd %s starting (pid %ld)%s", PACKAGE_VERSION, (long)getpid(),
	       d.opts.userspace_peer ? " ACCEPTING USER-SPACE PEERS (test mode)" : "");
	check_config(d.opts.config);

	d.loop = qb_loop_create();
	if (!d.loop) {
		qb_log(LOG_ERR, "cannot create the event loop");
		goto err_pid;
	}
	qb_loop_signal_add(d.loop, QB_LOOP_HIGH, SIGTERM, &d, sig_term, &d.sig_term);
	qb_loop_signal_add(d.loop, QB_LOOP_HIGH, SIGINT, &d, sig_term, &d.sig_int);
	qb_loop_signal_add(d.loop, QB_LOOP_LOW, SIGUSR1, &d, sig_usr1, &d.sig_usr1);

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

	memset(&kcfg, 0, sizeof(kcfg));
	kcfg.userspace_peer = d.opts.userspace_peer;
	kcfg.log = kern_log;
	r = kern_open(&d.kern, &kcfg, on_kernel_request, &d);
	if (r) {
		qb_log(LOG_ERR, "cannot open the kernel link (netlink connector): %s",
		       strerror(-r));
		goto err_quorum;
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
err_quorum:
	cmcpg_quorum_destroy(d.quorum);
err_table:
	if (d.table)
		mlog_table_destroy(d.table);
err_loop:
	qb_loop_destroy(d.loop);
err_pid:
	unlink(d.opts.pidfile);
	close(d.pid_fd);
err_log:
	qb_log(LOG_NOTICE, "cmlogd exiting (code %d)", d.exit_code);
	logging_fini();
err_ready:
	notify_ready(&ready_fd, 1);
	return d.exit_code;
}
