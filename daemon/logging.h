/*
 * logging: cmlogd's qb_log setup (syslog, stderr, always-on blackbox) and short macros.
 *
 * Every module logs through qb_log; this module only decides where records go. The blackbox
 * (a debug-level flight recorder) is always on and is written to a file on SIGUSR1 and on
 * fatal signals (style.md rule 35).
 */
#ifndef CMLOG_DAEMON_LOGGING_H
#define CMLOG_DAEMON_LOGGING_H

#include <stdbool.h>
#include <stddef.h>

#include <qb/qblog.h>

#define log_err(...)	qb_log(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	qb_log(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) qb_log(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)	qb_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	qb_log(LOG_DEBUG, __VA_ARGS__)

/** Blackbox ring size in bytes. */
#define LOGGING_BLACKBOX_SIZE (4u * 1024u * 1024u)

/**
 * Set up qb_log for @name: syslog unless @to_stderr, stderr with @to_stderr, level debug with
 * @debug (else info), blackbox at debug level (logging_blackbox_enable). A blackbox that
 * cannot be created is a warning, not a reason to stay down.
 */
void logging_init(const char *name, bool to_stderr, bool debug);
/**
 * Enable the blackbox target (size and filter already set), after removing the ring files a
 * dead process with our pid left (logging_blackbox_remove_stale). Returns whether the
 * blackbox is on; logs why not.
 */
bool logging_blackbox_enable(const char *name);
/** libqb's blackbox ring files: header and data, in /dev/shm (qb- prefix) and in /tmp. */
#define LOGGING_BLACKBOX_RING_FILES 4u
/** Path @i (< LOGGING_BLACKBOX_RING_FILES) of "<name>-<pid>-blackbox"'s ring; 0 and 1 are the
 * /dev/shm header and data. Returns false if @i is out of range or @buf too small. */
bool logging_blackbox_ring_path(char *buf, size_t cap, size_t i, const char *name, long pid);
/** Unlink the libqb ring files of "<name>-<pid>-blackbox"; returns how many were removed. */
int logging_blackbox_remove_stale(const char *name, long pid);
/** Write the blackbox to @path (qb-blackbox reads it). Returns 0 or -errno. */
int logging_blackbox_dump(const char *path);
/** Default dump path: <dir>/cmlogd-blackbox-<pid>-<time>; returns the length written. */
size_t logging_blackbox_path(char *buf, size_t cap, const char *dir);
void logging_fini(void);

#endif /* CMLOG_DAEMON_LOGGING_H */
