/*
 * conf.c: the strict parser for cmlogd.conf(5).
 *
 * Owns the key table (name, type, range, default) and nothing else: the daemon reads the
 * resulting struct conf once at start. Invariants:
 * - a parse either applies every setting of the file or none (it works on a copy);
 * - every rejected line names file:line and the problem, and is never silently skipped:
 *   unknown key, bad value, out-of-range number, duplicate key, missing '=';
 * - the defaults here are the ones documented in man/cmlogd.conf.5 and conf/cmlogd.conf.
 */
#include "daemon/conf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A config file is a handful of lines; anything bigger is a mistake (wrong file). */
#define CONF_FILE_MAX (64 * 1024)

enum conf_type {
	CT_LEVEL,
	CT_NAME,
	CT_BOOL,
	CT_U32,
	CT_PATH,
};

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t off;
	uint32_t min, max;
	bool zero_ok; /* CT_U32: 0 allowed below min (0 = disabled) */
};

#define U32KEY(n, lo, hi, z)                                    \
	{                                                       \
#n, CT_U32, offsetof(struct conf, n), lo, hi, z \
	}
static const struct conf_key keys[] = {
	{"log_level", CT_LEVEL, offsetof(struct conf, log_level), 0, 0, false},
	{"ctl_service", CT_NAME, offsetof(struct conf, ctl_service), 0, 0, false},
	{"socket_group", CT_NAME, offsetof(struct conf, socket_group), 0, 0, false},
	{"userspace_peer", CT_BOOL, offsetof(struct conf, userspace_peer), 0, 0, false},
	U32KEY(rcvbuf_bytes, 65536, 67108864, false),
	{"pidfile", CT_PATH, offsetof(struct conf, pidfile), 0, 0, false},
	U32KEY(blackbox_size, 4096, 67108864, true),
	U32KEY(flight_events, 16, 1048576, false),
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = CONF_LOG_INFO;
	strcpy(c->ctl_service, "cmlogd");
	c->socket_group[0] = '\0';
	c->userspace_peer = false;
	c->rcvbuf_bytes = 2097152;
	strcpy(c->pidfile, "/run/cmlogd.pid");
	c->blackbox_size = 1048576;
	c->flight_events = 1024;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char *level_names[] = {[CONF_LOG_ERR] = "err",
				    [CONF_LOG_WARNING] = "warning",
				    [CONF_LOG_INFO] = "info",
				    [CONF_LOG_DEBUG] = "debug"};

/* Service and group names: what abstract socket names and getgrnam accept without quoting. */
static bool name_ok(const char *v)
{
	size_t i, n = strlen(v);

	if (n == 0 || n >= CONF_NAME_MAX || v[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && v[i] != '_' && v[i] != '-' && v[i] != '.')
			return false;
	return true;
}

static bool path_ok(const char *v)
{
	size_t i, n = strlen(v);

	if (n < 2 || n >= CONF_PATH_MAX || v[0] != '/' || v[n - 1] == '/')
		return false;
	for (i = 0; i < n; i++)
		if (!isgraph((unsigned char)v[i]))
			return false;
	return true;
}

static bool u32_parse(const char *v, uint32_t *out)
{
	unsigned long long x = 0;
	size_t i;

	if (!v[0] || strlen(v) > 10)
		return false;
	for (i = 0; v[i]; i++) {
		if (!isdigit((unsigned char)v[i]))
			return false;
		x = x * 10 + (unsigned)(v[i] - '0');
	}
	if (x > UINT32_MAX)
		return false;
	*out = (uint32_t)x;
	return true;
}

/* Apply one value; on error write the problem (without file:line) to @why. */
static int set_value(struct conf *c, const struct conf_key *k, const char *v, char *why,
		     size_t whylen)
{
	char *p = (char *)c + k->off;
	uint32_t u;
	size_t i;

	switch (k->type) {
	case CT_LEVEL:
		for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
			if (level_names[i] && strcmp(v, level_names[i]) == 0) {
				*(enum conf_log_level *)(void *)p = (enum conf_log_level)i;
				return 0;
			}
		}
		seterr(why, whylen, "bad value '%s' for %s (expected err, warning, info or debug)",
		       v, k->name);
		return -EINVAL;
	case CT_NAME:
		if (!name_ok(v)) {
			seterr(why, whylen,
			       "bad value '%s' for %s (expected 1-%d characters of A-Z a-z 0-9 _ . "
			       "-, "
			       "not starting with -)",
			       v, k->name, CONF_NAME_MAX - 1);
			return -EINVAL;
		}
		strcpy(p, v);
		return 0;
	case CT_PATH:
		if (!path_ok(v)) {
			seterr(why, whylen,
			       "bad value '%s' for %s (expected an absolute file path)", v,
			       k->name);
			return -EINVAL;
		}
		strcpy(p, v);
		return 0;
	case CT_BOOL:
		if (strcmp(v, "yes") == 0 || strcmp(v, "no") == 0) {
			*(bool *)(void *)p = v[0] == 'y';
			return 0;
		}
		seterr(why, whylen, "bad value '%s' for %s (expected yes or no)", v, k->name);
		return -EINVAL;
	case CT_U32:
		if (!u32_parse(v, &u) || ((u < k->min || u > k->max) && !(u == 0 && k->zero_ok))) {
			seterr(why, whylen, "bad value '%s' for %s (expected %s%u..%u)", v, k->name,
			       k->zero_ok ? "0 or " : "", k->min, k->max);
			return -EINVAL;
		}
		*(uint32_t *)(void *)p = u;
		return 0;
	}
	seterr(why, whylen, "internal: bad key type for %s", k->name);
	return -EINVAL;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

int conf_parse_buf(struct conf *c, const char *name, const char *buf, size_t len, char *err,
		   size_t errlen)
{
	struct conf tmp = *c;
	bool seen[N_KEYS] = {false};
	unsigned lineno = 0;
	size_t pos = 0;
	char line[1024], why[256];

	while (pos < len) {
		size_t end = pos, n, ks, ke, vs, ve, i;
		const struct conf_key *k = NULL;
		char *eq;

		lineno++;
		while (end < len && buf[end] != '\n')
			end++;
		n = end - pos;
		if (n >= sizeof(line)) {
			seterr(err, errlen, "%s:%u: line too long (more than %zu characters)", name,
			       lineno, sizeof(line) - 1);
			return -EINVAL;
		}
		if (memchr(buf + pos, '\0', n)) {
			seterr(err, errlen, "%s:%u: NUL byte in line", name, lineno);
			return -EINVAL;
		}
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		pos = end + 1;

		for (ks = 0; is_blank(line[ks]); ks++)
			;
		if (line[ks] == '\0' || line[ks] == '#')
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			seterr(err, errlen, "%s:%u: expected 'key = value'", name, lineno);
			return -EINVAL;
		}
		ke = (size_t)(eq - line);
		while (ke > ks && is_blank(line[ke - 1]))
			ke--;
		for (vs = ke; line[vs] != '='; vs++)
			;
		for (vs++; is_blank(line[vs]); vs++)
			;
		for (ve = strlen(line); ve > vs && is_blank(line[ve - 1]); ve--)
			;
		line[ke] = '\0';
		line[ve] = '\0';
		if (ke == ks) {
			seterr(err, errlen, "%s:%u: missing key before '='", name, lineno);
			return -EINVAL;
		}
		for (i = 0; i < N_KEYS; i++) {
			if (strcmp(keys[i].name, line + ks) == 0) {
				k = &keys[i];
				break;
			}
		}
		if (!k) {
			seterr(err, errlen, "%s:%u: unknown key '%s'", name, lineno, line + ks);
			return -EINVAL;
		}
		if (seen[i]) {
			seterr(err, errlen, "%s:%u: duplicate key '%s'", name, lineno, k->name);
			return -EINVAL;
		}
		seen[i] = true;
		if (line[vs] == '\0') {
			seterr(err, errlen, "%s:%u: missing value for '%s'", name, lineno, k->name);
			return -EINVAL;
		}
		if (set_value(&tmp, k, line + vs, why, sizeof(why)) < 0) {
			seterr(err, errlen, "%s:%u: %s", name, lineno, why);
			return -EINVAL;
		}
	}
	*c = tmp;
	return 0;
}

int conf_parse_file(struct conf *c, const char *path, char *err, size_t errlen)
{
	char *buf;
	size_t len = 0;
	ssize_t r;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		seterr(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	buf = malloc(CONF_FILE_MAX + 1);
	if (!buf) {
		ret = -ENOMEM;
		seterr(err, errlen, "%s: out of memory", path);
		goto err_close;
	}
	for (;;) {
		r = read(fd, buf + len, CONF_FILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			seterr(err, errlen, "%s: %s", path, strerror(-ret));
			goto err_free;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > CONF_FILE_MAX) {
			ret = -EFBIG;
			seterr(err, errlen, "%s: larger than %d bytes, not a cmlogd.conf", path,
			       CONF_FILE_MAX);
			goto err_free;
		}
	}
	ret = conf_parse_buf(c, path, buf, len, err, errlen);
err_free:
	free(buf);
err_close:
	close(fd);
	return ret;
}

int conf_resolve_group(const struct conf *c, bool *has_group, gid_t *gid, char *err, size_t errlen)
{
	struct group gr, *res = NULL;
	char buf[4096];
	int rc;

	*has_group = false;
	if (c->socket_group[0] == '\0')
		return 0;
	rc = getgrnam_r(c->socket_group, &gr, buf, sizeof(buf), &res);
	if (rc != 0 || !res) {
		seterr(err, errlen, "socket_group '%s': no such group", c->socket_group);
		return -ENOENT;
	}
	*has_group = true;
	*gid = res->gr_gid;
	return 0;
}

void conf_print(const struct conf *c, FILE *out)
{
	fprintf(out, "log_level = %s\n", level_names[c->log_level]);
	fprintf(out, "ctl_service = %s\n", c->ctl_service);
	if (c->socket_group[0])
		fprintf(out, "socket_group = %s\n", c->socket_group);
	else
		fprintf(out, "# socket_group unset: root only\n");
	fprintf(out, "userspace_peer = %s\n", c->userspace_peer ? "yes" : "no");
	fprintf(out, "rcvbuf_bytes = %u\n", c->rcvbuf_bytes);
	fprintf(out, "pidfile = %s\n", c->pidfile);
	fprintf(out, "blackbox_size = %u\n", c->blackbox_size);
	fprintf(out, "flight_events = %u\n", c->flight_events);
}

int conf_check(const char *path, FILE *out, FILE *errout)
{
	struct conf c;
	char err[512];
	bool has_group;
	gid_t gid;
	int ret;

	conf_defaults(&c);
	ret = conf_parse_file(&c, path, err, sizeof(err));
	if (ret == 0)
		ret = conf_resolve_group(&c, &has_group, &gid, err, sizeof(err));
	if (ret < 0) {
		if (errout)
			fprintf(errout, "cmlogd: %s\n", err);
		return ret;
	}
	if (out)
		conf_print(&c, out);
	return 0;
}
