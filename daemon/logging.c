/*
 * logging: where cmlogd's qb_log records go.
 *
 * Owns the qb_log target configuration. Invariant: the blackbox target is enabled with a
 * debug-level filter for the whole life of the daemon, whatever -d says, so a dump after an
 * incident always has the detail.
 */
#include "config.h"

#include <stdio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon/logging.h"

void logging_init(const char *name, bool to_stderr, bool debug)
{
	int level = debug ? LOG_DEBUG : LOG_INFO;

	qb_log_init(name, LOG_DAEMON, level);
	qb_log_format_set(QB_LOG_SYSLOG, "%b");
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, to_stderr ? QB_FALSE : QB_TRUE);
	qb_log_filter_ctl(QB_LOG_SYSLOG, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", level);
	if (to_stderr) {
		qb_log_format_set(QB_LOG_STDERR, "%t [%N:%P] %p %b");
		qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", level);
		qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
	}
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, LOGGING_BLACKBOX_SIZE);
	qb_log_format_set(QB_LOG_BLACKBOX, "%t %p %f:%l %b");
	qb_log_filter_ctl(QB_LOG_BLACKBOX, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_DEBUG);
	(void)logging_blackbox_enable(name);
}

/*
 * libqb keeps the blackbox ring in two files named for the process, "<name>-<pid>-blackbox"
 * plus "-header"/"-data": /dev/shm/qb-<that> first, else <that> in libqb's run directory
 * (/tmp here), both created exclusively, so a name that exists fails the blackbox. A process
 * killed with SIGKILL leaves its files behind, and once the pid numbers wrap a new daemon
 * meets files carrying its own pid. No live process in this pid namespace has our pid, so
 * they are a dead process's: remove them before libqb creates ours.
 */
static const struct {
	const char *dir, *prefix, *part;
} blackbox_ring[LOGGING_BLACKBOX_RING_FILES] = {
	{"/dev/shm", "qb-", "header"},
	{"/dev/shm", "qb-", "data"},
	{"/tmp", "", "header"},
	{"/tmp", "", "data"},
};

bool logging_blackbox_ring_path(char *buf, size_t cap, size_t i, const char *name, long pid)
{
	int n;

	if (i >= LOGGING_BLACKBOX_RING_FILES)
		return false;
	n = snprintf(buf, cap, "%s/%s%s-%ld-blackbox-%s", blackbox_ring[i].dir,
		     blackbox_ring[i].prefix, name, pid, blackbox_ring[i].part);
	return n >= 0 && (size_t)n < cap;
}

int logging_blackbox_remove_stale(const char *name, long pid)
{
	char path[256];
	int removed = 0;
	size_t i;

	for (i = 0; i < LOGGING_BLACKBOX_RING_FILES; i++)
		if (logging_blackbox_ring_path(path, sizeof(path), i, name, pid) &&
		    unlink(path) == 0)
			removed++;
	return removed;
}

bool logging_blackbox_enable(const char *name)
{
	int removed = logging_blackbox_remove_stale(name, (long)getpid());

	if (removed > 0)
		qb_log(LOG_NOTICE,
		       "blackbox: removed %d ring file(s) a dead process with our pid %ld left in "
		       "/dev/shm or /tmp",
		       removed, (long)getpid());
	if (qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_TRUE) == 0)
		return true;
	qb_log(LOG_WARNING,
	       "blackbox: cannot create its ring (/dev/shm/qb-%s-%ld-blackbox-*); running without "
	       "the flight recorder",
	       name, (long)getpid());
	return false;
}

size_t logging_blackbox_path(char *buf, size_t cap, const char *dir)
{
	int n = snprintf(buf, cap, "%s/cmlogd-blackbox-%ld-%lld", dir, (long)getpid(),
			 (long long)time(NULL));

	return n < 0 ? 0 : (size_t)n;
}

int logging_blackbox_dump(const char *path)
{
	ssize_t n = qb_log_blackbox_write_to_file(path);

	if (n < 0)
		return (int)n;
	qb_log(LOG_NOTICE, "blackbox written to %s (%zd bytes)", path, n);
	return 0;
}

void logging_fini(void)
{
	qb_log_fini();
}
