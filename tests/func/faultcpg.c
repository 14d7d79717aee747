/*
 * faultcpg: an LD_PRELOAD shim that makes libcpg refuse cmlogd's sends and joins the way a
 * busy corosync does (CS_ERR_TRY_AGAIN, CS_ERR_QUEUE_FULL), for the functional test of the
 * back-pressure paths in cluster/cpg.c (tests/func/test_cluster_cpgfault.sh).
 *
 *   LD_PRELOAD=tests/func/faultcpg.so CMLOG_FAULT_CPG_PCT=35 CMLOG_FAULT_CPG_JOIN=3
 *   CMLOG_FAULT_CPG_CTL=<control file> cmlogd ...
 *
 * Owns: nothing but its two interposed calls, found in the process's libcpg through
 * dlsym(RTLD_NEXT) (the shim does not link libcpg itself).
 *   cpg_mcast_joined  CMLOG_FAULT_CPG_PCT (0..100, default 0) percent of the calls are answered
 *                     without sending anything: CS_ERR_QUEUE_FULL for every 4th refused call,
 *                     CS_ERR_TRY_AGAIN for the others. The choice comes from a fixed-seed
 *                     generator (CMLOG_FAULT_CPG_SEED, default 1): the same call sequence is
 *                     refused the same way in every run.
 *   cpg_join          the first CMLOG_FAULT_CPG_JOIN (default 0) calls made while injection is
 *                     on are answered CS_ERR_TRY_AGAIN without joining.
 * CMLOG_FAULT_CPG_CTL names a control file whose first word switches injection: "ok" turns it
 * off, anything else (or no file) leaves it on; without the variable it is always on. The file
 * is read at most every 100 ms (by the call that finds the last read older), so a test switches
 * faults while the daemon runs without an open() per send.
 *
 * Every refusal is accounted for on stderr ("faultcpg: ..."): the first one of each call, then
 * a running count every FCPG_REPORT_EVERY refusals, each switch of the control file and a total
 * at exit, so a test can show from the daemon's log that the paths were taken and how often.
 * The counters sit under one mutex: libcpg calls may come from any thread.
 */
#include "config.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <corosync/corotypes.h>
#include <corosync/cpg.h>

#define FCPG_CTL_PERIOD_MS    100u
#define FCPG_REPORT_EVERY     50u /* not a multiple of 4: both codes get count lines */
#define FCPG_QUEUE_FULL_EVERY 4u

typedef cs_error_t (*mcast_fn)(cpg_handle_t, cpg_guarantee_t, const struct iovec *, unsigned int);
typedef cs_error_t (*join_fn)(cpg_handle_t, const struct cpg_name *);

static pthread_mutex_t fcpg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	bool init;
	unsigned int pct;	 /* CMLOG_FAULT_CPG_PCT */
	unsigned long join_left; /* joins still to refuse */
	const char *ctl;	 /* CMLOG_FAULT_CPG_CTL, or NULL */
	uint64_t rng;		 /* xorshift64 state */
	bool on;		 /* injection switched on (control file) */
	uint64_t ctl_read_ms;	 /* when the control file was last read (0 = never) */
	uint64_t calls, injected, queue_full;
	uint64_t join_calls, join_injected;
} fcpg;

static void *real(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (!p) {
		fprintf(stderr, "faultcpg: %s not found (is the process linked with libcpg?)\n",
			name);
		abort();
	}
	return p;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static unsigned long env_ul(const char *name, unsigned long dflt, unsigned long max)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !s[0])
		return dflt;
	v = strtoul(s, &end, 10);
	if (*end || v > max) {
		fprintf(stderr, "faultcpg: %s=%s: want 0..%lu\n", name, s, max);
		abort();
	}
	return v;
}

/* Called with fcpg_lock held. */
static void fcpg_init(void)
{
	const char *ctl = getenv("CMLOG_FAULT_CPG_CTL");

	if (fcpg.init)
		return;
	fcpg.init = true;
	fcpg.pct = (unsigned int)env_ul("CMLOG_FAULT_CPG_PCT", 0, 100);
	fcpg.join_left = env_ul("CMLOG_FAULT_CPG_JOIN", 0, 1000000);
	/* xorshift64 needs a nonzero state: mix the seed through a golden-ratio multiply */
	fcpg.rng = (env_ul("CMLOG_FAULT_CPG_SEED", 1, ~0ul) + 1) * 0x9e3779b97f4a7c15ull;
	fcpg.ctl = ctl && ctl[0] ? ctl : NULL;
	fcpg.on = true;
	fprintf(stderr, "faultcpg: armed: %u%% of cpg_mcast_joined refused, first %lu cpg_join%s\n",
		fcpg.pct, fcpg.join_left, fcpg.ctl ? " (control file)" : "");
}

/* Called with fcpg_lock held: is injection on? Reads the control file when it is due. */
static bool fcpg_on(void)
{
	char word[16];
	uint64_t t;
	ssize_t n;
	bool on = true;
	int fd;

	if (!fcpg.ctl)
		return true;
	t = now_ms();
	if (fcpg.ctl_read_ms && t - fcpg.ctl_read_ms < FCPG_CTL_PERIOD_MS)
		return fcpg.on;
	fcpg.ctl_read_ms = t ? t : 1;
	fd = open(fcpg.ctl, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, word, sizeof(word) - 1);
		close(fd);
		if (n > 0) {
			word[n] = '\0';
			word[strcspn(word, " \t\r\n")] = '\0';
			on = strcmp(word, "ok") != 0;
		}
	}
	if (on != fcpg.on)
		fprintf(stderr,
			"faultcpg: injection %s (%" PRIu64 " injected of %" PRIu64
			" cpg_mcast_joined calls, %" PRIu64 " of %" PRIu64 " cpg_join)\n",
			on ? "on" : "off", fcpg.injected, fcpg.calls, fcpg.join_injected,
			fcpg.join_calls);
	fcpg.on = on;
	return on;
}

static uint64_t fcpg_next(void)
{
	fcpg.rng ^= fcpg.rng << 13;
	fcpg.rng ^= fcpg.rng >> 7;
	fcpg.rng ^= fcpg.rng << 17;
	return fcpg.rng;
}

cs_error_t cpg_mcast_joined(cpg_handle_t handle, cpg_guarantee_t guarantee,
			    const struct iovec *iovec, unsigned int iov_len)
{
	static mcast_fn fn;
	cs_error_t e = CS_OK;
	bool refuse;

	pthread_mutex_lock(&fcpg_lock);
	if (!fn)
		fn = (mcast_fn)real("cpg_mcast_joined");
	fcpg_init();
	fcpg.calls++;
	/*
	 * Draw on every call, so the sequence does not depend on the control file's timing, and
	 * look at the control file on every call, so a switch is reported by the next send.
	 */
	refuse = fcpg_next() % 100 < fcpg.pct;
	if (fcpg_on() && refuse) {
		fcpg.injected++;
		e = fcpg.injected % FCPG_QUEUE_FULL_EVERY ? CS_ERR_TRY_AGAIN : CS_ERR_QUEUE_FULL;
		fcpg.queue_full += e == CS_ERR_QUEUE_FULL;
		if (fcpg.injected == 1 || (e == CS_ERR_QUEUE_FULL && fcpg.queue_full == 1) ||
		    fcpg.injected % FCPG_REPORT_EVERY == 0)
			fprintf(stderr,
				"faultcpg: cpg_mcast_joined -> %s (%" PRIu64 " injected of %" PRIu64
				" calls, %" PRIu64 " QUEUE_FULL)\n",
				e == CS_ERR_TRY_AGAIN ? "CS_ERR_TRY_AGAIN" : "CS_ERR_QUEUE_FULL",
				fcpg.injected, fcpg.calls, fcpg.queue_full);
	}
	pthread_mutex_unlock(&fcpg_lock);
	if (e != CS_OK)
		return e;
	return fn(handle, guarantee, iovec, iov_len);
}

cs_error_t cpg_join(cpg_handle_t handle, const struct cpg_name *group)
{
	static join_fn fn;
	bool refuse = false;

	pthread_mutex_lock(&fcpg_lock);
	if (!fn)
		fn = (join_fn)real("cpg_join");
	fcpg_init();
	fcpg.join_calls++;
	if (fcpg.join_left > 0 && fcpg_on()) {
		fcpg.join_left--;
		fcpg.join_injected++;
		refuse = true;
		fprintf(stderr,
			"faultcpg: cpg_join(%.*s) -> CS_ERR_TRY_AGAIN (%" PRIu64
			" injected of %" PRIu64 " calls)\n",
			(int)(group->length < CPG_MAX_NAME_LENGTH ? group->length : 0),
			group->value, fcpg.join_injected, fcpg.join_calls);
	}
	pthread_mutex_unlock(&fcpg_lock);
	if (refuse)
		return CS_ERR_TRY_AGAIN;
	return fn(handle, group);
}

/* The total, for a daemon that exits normally (SIGTERM): the last line a test may read. */
__attribute__((destructor)) static void fcpg_report_total(void)
{
	pthread_mutex_lock(&fcpg_lock);
	if (fcpg.init)
		fprintf(stderr,
			"faultcpg: total: %" PRIu64 " injected of %" PRIu64
			" cpg_mcast_joined calls (%" PRIu64 " QUEUE_FULL), %" PRIu64 " of %" PRIu64
			" cpg_join\n",
			fcpg.injected, fcpg.calls, fcpg.queue_full, fcpg.join_injected,
			fcpg.join_calls);
	pthread_mutex_unlock(&fcpg_lock);
}
