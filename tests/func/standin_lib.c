/*
 * standin_lib: the kernel's side of the dm-log-userspace protocol, for tests only.
 *
 * Owns a NETLINK_CONNECTOR socket in a test network namespace, the request frame builder and
 * the reply parser. It deliberately shares no code with daemon/ulog_codec: offsets and rules
 * are written out again from kernel-protocol.md s2-s4 so that a daemon tested through it is
 * checked against the contract, not against itself. Reply handling follows the kernel
 * (transfer.c:cn_ulog_callback): full replies match req.seq, ack-only replies match
 * cn_msg.seq with -ack as the error; frames with a wrong connector id or 0 < cn_msg.len < 160
 * are dropped (the kernel would drop them too) and counted as violations.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "tests/func/standin_lib.h"

#define SI_NETLINK_CONNECTOR 11
#define SI_GROUP_BIT	     (1u << (7 - 1))
#define SI_INIT_NET_INO	     0xEFFFFFF9u /* PROC_NET_INIT_INO on kernels that fix it */

struct standin {
	int fd;
	uint32_t portid;
	uint32_t dest;
	int timeout_ms;
	uint32_t seq;
	struct standin_counters c;
	union {
		uint64_t align;
		uint8_t b[SI_MAX_FRAME];
	} rx;
	uint8_t tx[SI_MAX_FRAME];
};

/* ---- the namespace guard --------------------------------------------------------------- */

int standin_netns_check(char *why, size_t len)
{
	struct stat self, init;
	FILE *f;
	char line[256];

	f = fopen("/proc/net/connector", "r");
	if (f) {
		bool dm = false;

		while (fgets(line, sizeof(line), f))
			if (strstr(line, "cn_dm_log_userspace"))
				dm = true;
		fclose(f);
		snprintf(why, len,
			 dm ? "the real dm-log-userspace kernel module is listening "
			      "(/proc/net/connector lists cn_dm_log_userspace): refusing to run"
			    : "/proc/net/connector exists, so this is the initial network "
			      "namespace: run inside 'unshare -n' or 'ip netns exec'");
		return -1;
	}
	if (stat("/proc/self/ns/net", &self) != 0) {
		snprintf(why, len, "cannot stat /proc/self/ns/net: %s", strerror(errno));
		return -1;
	}
	if (stat("/proc/1/ns/net", &init) == 0 && init.st_dev == self.st_dev &&
	    init.st_ino == self.st_ino) {
		snprintf(why, len,
			 "running in the network namespace of pid 1: run inside "
			 "'unshare -n' or 'ip netns exec'");
		return -1;
	}
	if (self.st_ino == SI_INIT_NET_INO) {
		snprintf(why, len, "running in the initial network namespace (inode 0x%x)",
			 SI_INIT_NET_INO);
		return -1;
	}
	return 0;
}

/* ---- socket --------------------------------------------------------------------------- */

const char *standin_type_name(uint32_t t)
{
	static const char *const n[] = {"TYPE0",
					"CTR",
					"DTR",
					"PRESUSPEND",
					"POSTSUSPEND",
					"RESUME",
					"GET_REGION_SIZE",
					"IS_CLEAN",
					"IN_SYNC",
					"FLUSH",
					"MARK_REGION",
					"CLEAR_REGION",
					"GET_RESYNC_WORK",
					"SET_REGION_SYNC",
					"GET_SYNC_COUNT",
					"STATUS_INFO",
					"STATUS_TABLE",
					"IS_REMOTE_RECOVERING"};

	return (t & 0xff) < sizeof(n) / sizeof(n[0]) ? n[t & 0xff] : "TYPE?";
}

int standin_open(struct standin **out, const struct standin_cfg *cfg)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	socklen_t sl = sizeof(sa);
	struct standin *s;
	int rcvbuf, e;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, SI_NETLINK_CONNECTOR);
	if (s->fd < 0)
		goto fail;
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto fail;
	if (getsockname(s->fd, (struct sockaddr *)&sa, &sl) != 0)
		goto fail;
	s->portid = sa.nl_pid;
	rcvbuf = cfg && cfg->rcvbuf > 0 ? cfg->rcvbuf : 4 * 1024 * 1024;
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
		(void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	s->dest = cfg ? cfg->dest_portid : 0;
	s->timeout_ms = cfg && cfg->timeout_ms > 0 ? cfg->timeout_ms : 2000;
	s->seq = cfg && cfg->first_seq ? cfg->first_seq
				       : (uint32_t)getpid() * 7919u + (uint32_t)time(NULL);
	*out = s;
	return 0;
fail:
	e = errno;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return -e;
}

void standin_close(struct standin *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s);
}

uint32_t standin_portid(const struct standin *s)
{
	return s->portid;
}

int standin_fd(const struct standin *s)
{
	return s->fd;
}

void standin_set_dest(struct standin *s, uint32_t portid)
{
	s->dest = portid;
}

uint32_t standin_next_seq(struct standin *s)
{
	return s->seq++;
}

void standin_get_counters(const struct standin *s, struct standin_counters *c)
{
	*c = s->c;
}

/* ---- frames ---------------------------------------------------------------------------- */

static void w32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void w16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static uint32_t r32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t r16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

int standin_build(const struct standin_req *rq, uint32_t seq, uint8_t *buf, size_t cap)
{
	uint32_t nlen = SI_HDR + rq->data_size;
	size_t dlen = (nlen + 3u) & ~3u;
	size_t ul = rq->uuid ? strlen(rq->uuid) : 0;

	if (dlen > cap || rq->data_size > 0xffff - 160)
		return -ENOSPC;
	memset(buf, 0, dlen);
	/* nlmsghdr: cn_netlink_send uses NLMSG_DONE, seq = msg seq, pid 0 */
	w32(buf + 0, nlen);
	w16(buf + 4, 3);
	w32(buf + 8, seq);
	/* cn_msg {7, 1}, seq, ack 0, len */
	w32(buf + 16, 7);
	w32(buf + 20, 1);
	w32(buf + 24, seq);
	w16(buf + 32, (uint16_t)(160 + rq->data_size));
	/* dm_ulog_request */
	memcpy(buf + 36, &rq->luid, 8);
	memcpy(buf + 44, rq->uuid ? rq->uuid : "", ul > 128 ? 128 : ul);
	w32(buf + 176, rq->version ? rq->version : 3);
	w32(buf + 184, seq);
	w32(buf + 188, rq->type);
	w32(buf + 192, rq->data_size);
	if (rq->data_size)
		memcpy(buf + SI_HDR, rq->data, rq->data_size);
	return (int)dlen;
}

int standin_send_raw(struct standin *s, const void *buf, size_t len)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	ssize_t n;

	if (s->dest) {
		sa.nl_pid = s->dest;
	} else {
		sa.nl_pid = 0;
		sa.nl_groups = SI_GROUP_BIT;
	}
	do {
		n = sendto(s->fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa));
	} while (n < 0 && errno == EINTR);
	/*
	 * Multicast: the group copy is delivered first, then the unicast leg to port 0 finds no
	 * kernel socket in this namespace and fails with ECONNREFUSED (kernel-protocol.md s13).
	 */
	if (n < 0 && !(errno == ECONNREFUSED && !s->dest))
		return -errno;
	s->c.sent++;
	return 0;
}

int standin_send(struct standin *s, const struct standin_req *rq, uint32_t *seq)
{
	uint32_t q = standin_next_seq(s);
	int n = standin_build(rq, q, s->tx, sizeof(s->tx));

	if (n < 0)
		return n;
	if (seq)
		*seq = q;
	return standin_send_raw(s, s->tx, (size_t)n);
}

/* Parse a received frame as the kernel would; false when the kernel would drop it. */
static bool parse_reply(const uint8_t *b, size_t len, struct standin_reply *rep, char *why,
			size_t wl)
{
	uint32_t nlen, idx, val;
	uint16_t clen;

	memset(rep, 0, sizeof(*rep));
	why[0] = '\0';
	if (len < 36) {
		snprintf(why, wl, "reply of %zu bytes is shorter than nlmsghdr + cn_msg", len);
		return false;
	}
	nlen = r32(b);
	idx = r32(b + 16);
	val = r32(b + 20);
	clen = r16(b + 32);
	if (nlen < 36 || nlen > len) {
		snprintf(why, wl, "reply nlmsg_len %u with %zu bytes received", nlen, len);
		return false;
	}
	if (idx != 7 || val != 1) {
		snprintf(why, wl, "reply connector id {%u,%u}, not {7,1}", idx, val);
		return false;
	}
	if (nlen < 36u + clen) {
		snprintf(why, wl, "reply nlmsg_len %u < 36 + cn_msg.len %u", nlen, clen);
		return false;
	}
	rep->cn_seq = r32(b + 24);
	if (clen == 0) {
		rep->ack_only = true;
		rep->ack = r32(b + 28);
		rep->error = -(int32_t)rep->ack;
		if (nlen != 36)
			snprintf(why, wl, "ack-only reply with nlmsg_len %u, not 36", nlen);
		else if (r16(b + 4) != 3)
			snprintf(why, wl, "reply nlmsg_type %u, not NLMSG_DONE", r16(b + 4));
		return true;
	}
	if (clen < 160) {
		snprintf(why, wl,
			 "reply cn_msg.len %u: the kernel logs 'Incomplete message' and "
			 "drops it",
			 clen);
		return false;
	}
	rep->error = (int32_t)r32(b + 180);
	rep->seq = r32(b + 184);
	rep->type = r32(b + 188);
	rep->data_size = r32(b + 192);
	if (rep->data_size > clen - 160u) {
		snprintf(why, wl,
			 "reply data_size %u beyond cn_msg.len %u (the kernel would copy "
			 "bytes that were not sent)",
			 rep->data_size, clen);
		rep->data_size = clen - 160u;
	} else if (rep->data_size != clen - 160u) {
		snprintf(why, wl, "reply cn_msg.len %u != 160 + data_size %u", clen,
			 rep->data_size);
	} else if (nlen != 36u + clen) {
		snprintf(why, wl, "reply nlmsg_len %u != NLMSG_LENGTH(20 + %u)", nlen, clen);
	} else if (r16(b + 4) != 3) {
		snprintf(why, wl, "reply nlmsg_type %u, not NLMSG_DONE", r16(b + 4));
	} else if (rep->error > 0) {
		snprintf(why, wl, "reply error %d is positive (the kernel takes it as success)",
			 rep->error);
	} else if (rep->error == -EAGAIN) {
		snprintf(why, wl, "full reply with -EAGAIN (shrinks the resend's capacity to 0)");
	} else if (rep->error != 0 && rep->data_size != 0) {
		snprintf(why, wl, "error reply %d with data_size %u", rep->error, rep->data_size);
	}
	if (rep->data_size > SI_MAX_DATA) {
		snprintf(why, wl, "reply data_size %u larger than any capacity", rep->data_size);
		rep->data_size = SI_MAX_DATA;
	}
	memcpy(rep->data, b + SI_HDR, rep->data_size);
	return true;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Receive one frame within @ms: 1 = got one (parsed into rep, ok says if the kernel would
 * accept it), 0 = none, -1 = our own receive queue overflowed (replies lost, keep going).
 */
static int recv_one(struct standin *s, int ms, struct standin_reply *rep, bool *ok)
{
	struct pollfd p = {.fd = s->fd, .events = POLLIN};
	char why[200];
	ssize_t n;
	int r;

	r = poll(&p, 1, ms < 0 ? 0 : ms);
	if (r <= 0)
		return 0;
	n = recv(s->fd, s->rx.b, sizeof(s->rx.b), MSG_DONTWAIT);
	if (n < 0)
		return errno == ENOBUFS ? -1 : 0;
	*ok = parse_reply(s->rx.b, (size_t)n, rep, why, sizeof(why));
	if (why[0]) {
		s->c.violations++;
		snprintf(s->c.last_violation, sizeof(s->c.last_violation), "%s", why);
		if (*ok)
			snprintf(rep->violation, sizeof(rep->violation), "%s", why);
	}
	return 1;
}

int standin_wait(struct standin *s, uint32_t seq, struct standin_reply *rep, int timeout_ms)
{
	int64_t deadline = now_ms() + (timeout_ms < 0 ? s->timeout_ms : timeout_ms);

	for (;;) {
		int64_t left = deadline - now_ms();
		bool ok = false;

		if (left <= 0)
			return -ETIMEDOUT;
		if (recv_one(s, (int)left, rep, &ok) <= 0 || !ok)
			continue;
		if ((rep->ack_only && rep->cn_seq == seq) || (!rep->ack_only && rep->seq == seq)) {
			s->c.replies++;
			return 0;
		}
		s->c.strays++;
	}
}

int standin_recv(struct standin *s, struct standin_reply *rep, int timeout_ms)
{
	int64_t deadline = now_ms() + (timeout_ms < 0 ? s->timeout_ms : timeout_ms);

	for (;;) {
		int64_t left = deadline - now_ms();
		bool ok = false;

		if (left <= 0)
			return -ETIMEDOUT;
		if (recv_one(s, (int)left, rep, &ok) > 0 && ok) {
			s->c.replies++;
			return 0;
		}
	}
}

int standin_call(struct standin *s, const struct standin_req *rq, struct standin_reply *rep,
		 int timeout_ms)
{
	uint32_t seq;
	int r = standin_send(s, rq, &seq);

	if (r < 0)
		return r;
	return standin_wait(s, seq, rep, timeout_ms);
}

int standin_kernel_result(const struct standin_reply *rep, size_t cap)
{
	if (rep->ack_only)
		return -(int)rep->ack;
	if (rep->error == 0 && rep->data_size > cap)
		return -ENOSPC;
	return rep->error;
}

size_t standin_capacity(const struct standin_req *rq)
{
	const uint8_t *d = rq->data;

	switch (rq->type & 0xff) { /* the kernel masks the type, the capacity follows the call */
	case SI_CTR:
		if ((rq->version && rq->version < 2) ||
		    (rq->data_size && d && d[rq->data_size - 1] == '\0'))
			return 0;
		return 128;
	case SI_GET_REGION_SIZE:
	case SI_IS_CLEAN:
	case SI_IN_SYNC:
	case SI_GET_SYNC_COUNT:
		return 8;
	case SI_GET_RESYNC_WORK:
	case SI_IS_REMOTE_RECOVERING:
		return 16;
	case SI_STATUS_INFO:
	case SI_STATUS_TABLE:
		return SI_CAP_STATUS;
	default:
		return 0;
	}
}

int standin_expect_silence(struct standin *s, int ms)
{
	int64_t deadline = now_ms() + ms;
	int got = 0;

	for (;;) {
		int64_t left = deadline - now_ms();
		struct standin_reply rep;
		bool ok = false;

		if (left <= 0)
			return got;
		if (recv_one(s, (int)left, &rep, &ok) > 0)
			got++;
	}
}

int standin_drain(struct standin *s, int ms, int quiet_ms)
{
	int64_t deadline = now_ms() + ms;
	int got = 0;

	for (;;) {
		int64_t left = deadline - now_ms();
		struct standin_reply rep;
		bool ok = false;
		int r;

		if (left <= 0)
			return got;
		r = recv_one(s, left < quiet_ms ? (int)left : quiet_ms, &rep, &ok);
		if (r == 0)
			return got;
		if (r < 0)
			continue;
		got++;
	}
}
