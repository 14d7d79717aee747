/*
 * conf.h: cmlogd's configuration file (cmlogd.conf(5)).
 *
 * A small "key = value" file: one setting per line, '#' starts a comment line, blank lines
 * are ignored. The parser is strict: an unknown key, a bad value or a duplicate key is an
 * error naming file:line and the problem, and nothing of a failed parse is applied.
 */
#ifndef CMLOG_DAEMON_CONF_H
#define CMLOG_DAEMON_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/** Default configuration file (the daemon's and cmlogctl's -c default). */
#define CONF_DEFAULT_PATH "/etc/cmlog/cmlogd.conf"
#define CONF_NAME_MAX	  64
#define CONF_PATH_MAX	  256

enum conf_log_level {
	CONF_LOG_ERR = 3, /* the syslog priorities, so they can be passed straight on */
	CONF_LOG_WARNING = 4,
	CONF_LOG_INFO = 6,
	CONF_LOG_DEBUG = 7,
};

struct conf {
	enum conf_log_level log_level;	  /* log_level = err|warning|info|debug (info) */
	char ctl_service[CONF_NAME_MAX];  /* ctl_service = control socket name (cmlogd) */
	char socket_group[CONF_NAME_MAX]; /* socket_group = read-only group ("" = root only) */
	bool userspace_peer;		  /* userspace_peer = yes|no (no) */
	uint32_t rcvbuf_bytes;		  /* rcvbuf_bytes = 65536..67108864 (2097152) */
	char pidfile[CONF_PATH_MAX];	  /* pidfile = absolute path (/run/cmlogd.pid) */
	uint32_t blackbox_size;		  /* blackbox_size = 0 or 4096..67108864 (1048576) */
	uint32_t flight_events;		  /* flight_events = 16..1048576 (1024) */
};

/** Fill @c with the documented defaults (cmlogd.conf(5)). */
void conf_defaults(struct conf *c);

/**
 * Parse @len bytes of @buf (named @name in messages) over the current contents of @c.
 * Returns 0, or -EINVAL with "name:line: problem" in @err (@errlen bytes, may be 0); on
 * error @c is left unchanged.
 */
int conf_parse_buf(struct conf *c, const char *name, const char *buf, size_t len, char *err,
		   size_t errlen);

/**
 * Read and parse the file @path over @c (call conf_defaults first). Returns 0, -EINVAL
 * (syntax, message in @err), or the -errno of open/read (message in @err as well).
 */
int conf_parse_file(struct conf *c, const char *path, char *err, size_t errlen);

/**
 * Resolve socket_group to a gid. Returns 0 with *@has_group false when none is set, 0 with
 * the gid, or -ENOENT when the group does not exist (message in @err).
 */
int conf_resolve_group(const struct conf *c, bool *has_group, gid_t *gid, char *err, size_t errlen);

/** Write the effective settings as a valid config file ("key = value" lines) to @out. */
void conf_print(const struct conf *c, FILE *out);

/**
 * `cmlogd -n -c FILE`: parse @path over the defaults, resolve socket_group, and on success
 * print the effective configuration to @out (when non-NULL). Errors go to @errout as
 * "cmlogd: file:line: problem". Returns 0, or the -errno of the first problem.
 */
int conf_check(const char *path, FILE *out, FILE *errout);

#endif /* CMLOG_DAEMON_CONF_H */
