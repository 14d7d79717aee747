/*
 * logging: where cmlogd's qb_log records go.
 *
 * Owns the qb_log target configuration. Invariant: the blackbox target is enabled with a
 * debug-level filter for the whole life of the daemon, whatever -d says, so a dump after an
 * incident always has the detail.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon/logging.h"

int logging_init(const char *name, bool to_stderr, bool debug)
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
	if (qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_TRUE) != 0)
		return -ENOMEM;
	return 0;
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
