/*
 * cnlisten.c: e2e test tool that listens on the dm userspace-log connector group (7) and
 * prints the dm_ulog_requests the real kernel sends, one line each, then exits.
 *
 * It exists to prove, inside the qemu guest, that a `dmsetup create` with a `userspace` log
 * reaches user space over netlink, and to show exactly what the kernel sent (version, type,
 * seq, luid, uuid, payload). By default it never answers (the kernel then resends every 15 s);
 * with -e it answers every request it prints with that error, which proves the reply path
 * (the kernel matches req.seq and fails the table load) and lets dmsetup finish. Every datagram is decoded through the
 * bounds-checked cursors of wire.h (decode, don't cast): nlmsghdr, cn_msg and the
 * dm_ulog_request are read field by field, the lengths are checked against the bytes
 * received, and anything malformed is reported and skipped, never trusted.
 *
 * Usage: cnlisten [-n COUNT] [-t SECONDS] [-r READY_FILE] [-e ERRNO]
 *   -n  requests to print before exiting 0 (default 1)
 *   -e  answer each printed request with error -ERRNO (a full reply, data_size 0)
 *   -t  give up after SECONDS without enough requests: exit 2 (default 30)
 *   -r  create READY_FILE once subscribed, so a test can start the kernel side after it
 * Output line (one per request):
 *   req version=3 type=1(CTR) seq=N luid=0x... uuid=UUID data_size=N pid=0 data="..."
 * Exit: 0 got COUNT requests, 1 usage or socket error, 2 timeout.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/connector.h>
#include <linux/dm-log-userspace.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

#define CNL_GROUP      CN_IDX_DM /* the connector index is also the multicast group */
#define CNL_VAL	       CN_VAL_DM_USERSPACE_LOG
#define CNL_NLMSG_HDR  16u
#define CNL_CN_MSG     20u
#define CNL_ULOG_REQ   160u
#define CNL_UUID_LEN   129u
#define CNL_MAX_DATA   16384u /* CONNECTOR_MAX_MSG_SIZE */
#define CNL_NLMSG_DONE 3u

/* The decoder walks these layouts by hand; make sure they are what the kernel ABI says. */
_Static_assert(sizeof(struct nlmsghdr) == CNL_NLMSG_HDR, "nlmsghdr is 16 bytes");
_Static_assert(sizeof(struct cn_msg) == CNL_CN_MSG, "cn_msg is 20 bytes");
_Static_assert(sizeof(struct dm_ulog_request) == CNL_ULOG_REQ, "dm_ulog_request is 160 bytes");
_Static_assert(sizeof(((struct dm_ulog_request *)0)->uuid) == CNL_UUID_LEN, "uuid is 129 bytes");
_Static_assert(CN_IDX_DM == 7 && CN_VAL_DM_USERSPACE_LOG == 1, "dm connector id is {7,1}");

struct cnl_req {
	uint32_t nl_pid; /* sender port id: 0 for the kernel */
	uint32_t cn_idx, cn_val;
	uint64_t luid;
	char uuid[CNL_UUID_LEN + 1];
	uint32_t version;
	int32_t error;
	uint32_t seq;
	uint32_t request_type;
	uint32_t data_size;
	const uint8_t *data;
};

static const char *cnl_type_str(uint32_t t)
{
	static const char *const names[] = {
		"?",
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
		"IS_REMOTE_RECOVERING",
	};

	t &= 0xffu;
	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

/*
 * Decode one received datagram of @len bytes. Returns 0 and fills @req (data points into
 * @buf), or -EINVAL with @why set when the datagram is not a well-formed dm log request.
 */
static int cnl_decode(const uint8_t *buf, size_t len, struct cnl_req *req, const char **why)
{
	struct wire_rd r;
	uint32_t nlmsg_len = 0, nl_seq = 0;
	uint16_t nl_type = 0, nl_flags = 0, cn_len = 0, cn_flags = 0;
	uint32_t cn_seq = 0, cn_ack = 0;
	const uint8_t *uuid;
	uint32_t err_bits = 0;

	memset(req, 0, sizeof(*req));
	wire_rd_init(&r, buf, len);
	wire_get_h32(&r, &nlmsg_len);
	wire_get_h16(&r, &nl_type);
	wire_get_h16(&r, &nl_flags);
	wire_get_h32(&r, &nl_seq);
	wire_get_h32(&r, &req->nl_pid);
	wire_get_h32(&r, &req->cn_idx);
	wire_get_h32(&r, &req->cn_val);
	wire_get_h32(&r, &cn_seq);
	wire_get_h32(&r, &cn_ack);
	wire_get_h16(&r, &cn_len);
	wire_get_h16(&r, &cn_flags);
	if (r.err) {
		*why = "shorter than nlmsghdr + cn_msg";
		return -EINVAL;
	}
	if (nlmsg_len < CNL_NLMSG_HDR + CNL_CN_MSG || nlmsg_len > len) {
		*why = "nlmsg_len does not fit the datagram";
		return -EINVAL;
	}
	if (nl_type != CNL_NLMSG_DONE) {
		*why = "nlmsg_type is not NLMSG_DONE";
		return -EINVAL;
	}
	if (req->cn_idx != CNL_GROUP || req->cn_val != CNL_VAL) {
		*why = "connector id is not {7,1}";
		return -EINVAL;
	}
	if (cn_len < CNL_ULOG_REQ || (size_t)cn_len > nlmsg_len - CNL_NLMSG_HDR - CNL_CN_MSG) {
		*why = "cn_msg.len does not fit nlmsg_len";
		return -EINVAL;
	}
	/* Only the message's own bytes from here on: padding after nlmsg_len is not ours. */
	wire_rd_init(&r, buf + CNL_NLMSG_HDR + CNL_CN_MSG, cn_len);
	wire_get_h64(&r, &req->luid);
	uuid = wire_get_bytes(&r, CNL_UUID_LEN);
	wire_skip(&r, 3);
	wire_get_h32(&r, &req->version);
	wire_get_h32(&r, &err_bits);
	wire_get_h32(&r, &req->seq);
	wire_get_h32(&r, &req->request_type);
	wire_get_h32(&r, &req->data_size);
	if (r.err || !uuid) {
		*why = "short dm_ulog_request";
		return -EINVAL;
	}
	if (req->data_size != wire_rd_left(&r)) {
		*why = "data_size differs from cn_msg.len - 160";
		return -EINVAL;
	}
	req->error = (int32_t)err_bits; /* two's complement on every Linux ABI */
	req->data = wire_get_bytes(&r, req->data_size);
	memcpy(req->uuid, uuid, CNL_UUID_LEN);
	req->uuid[CNL_UUID_LEN] = '\0'; /* the kernel pads with NULs; never trust that */
	return 0;
}

/* Print the payload: text as is, non-printable bytes (binary region numbers) as \xNN. */
static void cnl_print_data(const uint8_t *d, uint32_t n)
{
	uint32_t i;

	putchar('"');
	for (i = 0; i < n; i++) {
		if (d[i] >= 0x20 && d[i] < 0x7f && d[i] != '"' && d[i] != '\\')
			putchar(d[i]);
		else
			printf("\\x%02x", d[i]);
	}
	putchar('"');
}

/*
 * Answer @req with error -@errnum: nlmsghdr + cn_msg{7,1,seq} + the request header with
 * error set and data_size 0, sent to the kernel (nl_pid 0). The kernel matches req.seq.
 */
static int cnl_reply(int fd, const struct cnl_req *req, int errnum)
{
	uint8_t out[CNL_NLMSG_HDR + CNL_CN_MSG + CNL_ULOG_REQ];
	struct sockaddr_nl to = {.nl_family = AF_NETLINK};
	struct wire_wr w;

	wire_wr_init(&w, out, sizeof(out));
	wire_put_h32(&w, sizeof(out));
	wire_put_h16(&w, CNL_NLMSG_DONE);
	wire_put_h16(&w, 0);
	wire_put_h32(&w, req->seq);
	wire_put_h32(&w, (uint32_t)getpid());
	wire_put_h32(&w, CNL_GROUP);
	wire_put_h32(&w, CNL_VAL);
	wire_put_h32(&w, req->seq);
	wire_put_h32(&w, 0);
	wire_put_h16(&w, CNL_ULOG_REQ);
	wire_put_h16(&w, 0);
	wire_put_h64(&w, req->luid);
	wire_put_bytes(&w, req->uuid, CNL_UUID_LEN);
	wire_put_zero(&w, 3);
	wire_put_h32(&w, req->version);
	wire_put_h32(&w, (uint32_t)-errnum);
	wire_put_h32(&w, req->seq);
	wire_put_h32(&w, req->request_type);
	wire_put_h32(&w, 0);
	if (w.err || w.off != sizeof(out))
		return -EOVERFLOW;
	if (sendto(fd, out, sizeof(out), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	return 0;
}

static int cnl_open(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int fd, group = CNL_GROUP;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (fd < 0)
		return -errno;
	/* Autobind, then join group 7 by number (bind's nl_groups is a mask, see §13). */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static long cnl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cnl_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t buf[CNL_MAX_DATA + 64];
	unsigned long count = 1, secs = 30, got = 0, answer = 0;
	const char *ready = NULL;
	long deadline;
	int fd, opt;

	while ((opt = getopt(argc, argv, "n:t:r:e:")) != -1) {
		switch (opt) {
		case 'n':
			if (cnl_parse_uint(optarg, 100000, &count) < 0)
				goto usage;
			break;
		case 't':
			if (cnl_parse_uint(optarg, 86400, &secs) < 0)
				goto usage;
			break;
		case 'r':
			ready = optarg;
			break;
		case 'e':
			if (cnl_parse_uint(optarg, 4095, &answer) < 0)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;

	fd = cnl_open();
	if (fd < 0) {
		fprintf(stderr, "cnlisten: netlink connector group %u: %s\n", CNL_GROUP,
			strerror(-fd));
		return 1;
	}
	if (ready) {
		int rfd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		if (rfd < 0) {
			fprintf(stderr, "cnlisten: %s: %s\n", ready, strerror(errno));
			close(fd);
			return 1;
		}
		close(rfd);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	deadline = cnl_now_ms() + (long)secs * 1000;
	while (got < count) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		struct sockaddr_nl from = {0};
		socklen_t fromlen = sizeof(from);
		struct cnl_req req = {0};
		const char *why = "";
		long left = deadline - cnl_now_ms();
		ssize_t n;
		int pr;

		if (left <= 0) {
			fprintf(stderr, "cnlisten: timeout after %lus with %lu of %lu requests\n",
				secs, got, count);
			close(fd);
			return 2;
		}
		pr = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (pr < 0 && errno != EINTR) {
			fprintf(stderr, "cnlisten: poll: %s\n", strerror(errno));
			close(fd);
			return 1;
		}
		if (pr <= 0)
			continue;
		n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
		if (n < 0) {
			/* ENOBUFS: we fell behind; the kernel resends, so just go on. */
			if (errno == EINTR || errno == EAGAIN || errno == ENOBUFS)
				continue;
			fprintf(stderr, "cnlisten: recv: %s\n", strerror(errno));
			close(fd);
			return 1;
		}
		if ((size_t)n > sizeof(buf)) {
			fprintf(stderr, "cnlisten: dropped a truncated %zd-byte datagram\n", n);
			continue;
		}
		if (cnl_decode(buf, (size_t)n, &req, &why) < 0) {
			fprintf(stderr, "cnlisten: dropped a %zd-byte datagram: %s\n", n, why);
			continue;
		}
		printf("req version=%u type=%u(%s) seq=%u luid=0x%llx uuid=%s error=%d "
		       "data_size=%u pid=%u data=",
		       req.version, req.request_type, cnl_type_str(req.request_type), req.seq,
		       (unsigned long long)req.luid, req.uuid, req.error, req.data_size,
		       from.nl_pid);
		cnl_print_data(req.data, req.data_size);
		putchar('\n');
		got++;
		if (answer) {
			int err = cnl_reply(fd, &req, (int)answer);

			if (err < 0)
				fprintf(stderr, "cnlisten: reply to seq %u: %s\n", req.seq,
					strerror(-err));
			else
				printf("answered seq=%u error=-%lu\n", req.seq, answer);
		}
	}
	close(fd);
	return 0;

usage:
	fprintf(stderr, "usage: cnlisten [-n COUNT] [-t SECONDS] [-r READY_FILE] [-e ERRNO]\n");
	return 1;
}
