/*
 * cpgfloor: the CPG "floor" of the benchmark (issue 8): what bare corosync CPG costs, with no
 * cmlog code in the path, so cmlogd's numbers can be read against it.
 *
 *   cpgfloor ping   [opts]  send one message (AGREED), wait for its own delivery, repeat; the
 *                           round trip of each is one sample (CLOCK_MONOTONIC)
 *   cpgfloor flood  [opts]  keep W messages outstanding; throughput plus per-message latency
 *                           (send to own delivery) under load
 *   cpgfloor member [opts]  stay joined and deliver (for the other nodes of a measurement)
 *
 * Prints one human line and one JSON line on stdout. Messages carry a small header (magic,
 * version, sender nodeid and pid, sequence) encoded and decoded through include/wire.h; a
 * delivered message that does not decode is counted and ignored. Keeps one rule of the
 * project: on CS_ERR_TRY_AGAIN it polls and dispatches before retrying, never spins.
 * Own deliveries must arrive in sequence order (CPG's per-sender FIFO); a gap is an error.
 */
#include "config.h"

#include <corosync/cpg.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

#define FLOOR_MAGIC	 0x46504743u /* "CGPF" in little-endian bytes */
#define FLOOR_VERSION	 1
#define FLOOR_HDR_SIZE	 24
#define FLOOR_DEF_GROUP	 "cmlog_floor"
#define FLOOR_INIT_TRIES 30
#define FLOOR_NODES_MAX	 CPG_MEMBERS_MAX
#define NSEC_PER_SEC	 1000000000ull
#define NSEC_PER_MSEC	 1000000ull

enum floor_mode {
	FLOOR_PING,
	FLOOR_FLOOD,
	FLOOR_MEMBER,
};

struct floor_opts {
	enum floor_mode mode;
	const char *group;
	size_t size;
	uint64_t count;
	uint64_t warmup;
	uint32_t window;
	uint32_t members;
	unsigned int timeout_s;
	unsigned int run_s;
	const char *label;
};

/* Decoded message header (host order). */
struct floor_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t flags;
	uint32_t nodeid;
	uint32_t pid;
	uint64_t seq;
};

struct floor {
	struct floor_opts o;
	cpg_handle_t h;
	int fd;
	struct cpg_name group;
	uint32_t nodeid;
	uint32_t pid;
	bool joined;	       /* our own join confchg arrived */
	bool lost;	       /* dispatch failed: local corosync gone */
	bool evicted;	       /* a confchg no longer lists us */
	bool bad_order;	       /* own deliveries out of sequence */
	uint32_t members;      /* processes in the group (last confchg) */
	uint32_t nodes;	       /* distinct nodes among them */
	uint32_t peak_members; /* largest group seen (member mode reports it) */
	uint32_t peak_nodes;
	uint64_t confchgs;
	uint64_t own_delivered; /* own messages delivered; equals the next expected seq */
	uint64_t all_delivered;
	uint64_t bad_msgs;
	uint64_t try_again;
	uint64_t *send_ns;     /* per seq, flood mode */
	uint64_t *lat_ns;      /* per measured message */
	uint64_t measure_from; /* first seq that is a sample (after warm-up) */
	uint8_t *buf;
};

static volatile sig_atomic_t floor_stop;

static void floor_on_signal(int sig)
{
	(void)sig;
	floor_stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static int floor_encode(struct floor *f, uint64_t seq)
{
	struct wire_wr w;

	wire_wr_init(&w, f->buf, f->o.size);
	wire_put_le32(&w, FLOOR_MAGIC);
	wire_put_le16(&w, FLOOR_VERSION);
	wire_put_le16(&w, 0);
	wire_put_le32(&w, f->nodeid);
	wire_put_le32(&w, f->pid);
	wire_put_le64(&w, seq);
	/* The rest is padding: its content does not matter, its size does. */
	wire_put_zero(&w, f->o.size - FLOOR_HDR_SIZE);
	return w.err ? -EMSGSIZE : 0;
}

static int floor_decode(const void *msg, size_t len, struct floor_hdr *hd)
{
	struct wire_rd r;

	memset(hd, 0, sizeof(*hd));
	wire_rd_init(&r, msg, len);
	wire_get_le32(&r, &hd->magic);
	wire_get_le16(&r, &hd->version);
	wire_get_le16(&r, &hd->flags);
	wire_get_le32(&r, &hd->nodeid);
	wire_get_le32(&r, &hd->pid);
	wire_get_le64(&r, &hd->seq);
	if (r.err || hd->magic != FLOOR_MAGIC || hd->version != FLOOR_VERSION)
		return -EBADMSG;
	return 0;
}

static void floor_deliver(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid,
			  uint32_t pid, void *msg, size_t len)
{
	struct floor *f = NULL;
	struct floor_hdr hd;
	uint64_t t = now_ns();

	if (cpg_context_get(h, (void **)&f) != CS_OK || !f)
		return;
	f->all_delivered++;
	if (floor_decode(msg, len, &hd) < 0 || hd.nodeid != nodeid || hd.pid != pid) {
		f->bad_msgs++;
		return;
	}
	if (nodeid != f->nodeid || pid != f->pid)
		return;
	if (hd.seq != f->own_delivered) {
		fprintf(stderr,
			"cpgfloor: own message %" PRIu64 " delivered, expected %" PRIu64 "\n",
			hd.seq, f->own_delivered);
		f->bad_order = true;
		return;
	}
	if (f->send_ns && hd.seq >= f->measure_from)
		f->lat_ns[hd.seq - f->measure_from] = t - f->send_ns[hd.seq];
	f->own_delivered++;
}

static void floor_confchg(cpg_handle_t h, const struct cpg_name *group,
			  const struct cpg_address *members, size_t n_members,
			  const struct cpg_address *left, size_t n_left,
			  const struct cpg_address *joined, size_t n_joined)
{
	struct floor *f = NULL;
	uint32_t seen[FLOOR_NODES_MAX];
	uint32_t nodes = 0;
	bool self = false;
	size_t i, j;

	if (cpg_context_get(h, (void **)&f) != CS_OK || !f)
		return;
	for (i = 0; i < n_members; i++) {
		if (members[i].nodeid == f->nodeid && members[i].pid == f->pid)
			self = true;
		for (j = 0; j < nodes; j++)
			if (seen[j] == members[i].nodeid)
				break;
		if (j == nodes && nodes < FLOOR_NODES_MAX)
			seen[nodes++] = members[i].nodeid;
	}
	f->confchgs++;
	f->members = (uint32_t)n_members;
	f->nodes = nodes;
	if (f->members > f->peak_members)
		f->peak_members = f->members;
	if (nodes > f->peak_nodes)
		f->peak_nodes = nodes;
	if (self)
		f->joined = true;
	else if (f->joined)
		f->evicted = true;
}

/*
 * Wait up to @timeout_ms for the CPG fd and dispatch what is queued. Returns 0, or -EPIPE
 * when the local corosync is gone, -EINTR on a stop signal.
 */
static int floor_pump(struct floor *f, int timeout_ms)
{
	struct pollfd pfd = {.fd = f->fd, .events = POLLIN};
	cs_error_t err;
	int n;

	if (floor_stop)
		return -EINTR;
	n = poll(&pfd, 1, timeout_ms);
	if (n < 0)
		return errno == EINTR ? (floor_stop ? -EINTR : 0) : -errno;
	if (n == 0)
		return 0;
	err = cpg_dispatch(f->h, CS_DISPATCH_ALL);
	if (err != CS_OK && err != CS_ERR_TRY_AGAIN) {
		fprintf(stderr, "cpgfloor: cpg_dispatch: error %d (corosync gone?)\n", err);
		f->lost = true;
		return -EPIPE;
	}
	if (pfd.revents & (POLLHUP | POLLERR)) {
		fprintf(stderr, "cpgfloor: corosync connection closed\n");
		f->lost = true;
		return -EPIPE;
	}
	return 0;
}

static int floor_check(const struct floor *f)
{
	if (f->lost)
		return -EPIPE;
	if (f->evicted) {
		fprintf(stderr, "cpgfloor: evicted from the group\n");
		return -ENOTCONN;
	}
	if (f->bad_order)
		return -EPROTO;
	return 0;
}

/*
 * Multicast message @seq. Returns 1 when sent, 0 when corosync said TRY_AGAIN (the caller
 * pumps and retries), or -errno.
 */
static int floor_send_once(struct floor *f, uint64_t seq)
{
	struct iovec iov;
	cs_error_t err;
	int ret;

	ret = floor_encode(f, seq);
	if (ret < 0)
		return ret;
	iov.iov_base = f->buf;
	iov.iov_len = f->o.size;
	err = cpg_mcast_joined(f->h, CPG_TYPE_AGREED, &iov, 1);
	if (err == CS_OK)
		return 1;
	if (err == CS_ERR_TRY_AGAIN) {
		f->try_again++;
		return 0;
	}
	fprintf(stderr, "cpgfloor: cpg_mcast_joined: error %d\n", err);
	return -EIO;
}

/* Send @seq, retrying TRY_AGAIN after a short poll + dispatch; bounded by the timeout. */
static int floor_send(struct floor *f, uint64_t seq)
{
	uint64_t deadline = now_ns() + (uint64_t)f->o.timeout_s * NSEC_PER_SEC;
	int ret;

	for (;;) {
		ret = floor_send_once(f, seq);
		if (ret != 0)
			return ret < 0 ? ret : 0;
		if (now_ns() > deadline) {
			fprintf(stderr, "cpgfloor: TRY_AGAIN for %u s, giving up\n",
				f->o.timeout_s);
			return -ETIMEDOUT;
		}
		ret = floor_pump(f, 1);
		if (ret < 0)
			return ret;
		ret = floor_check(f);
		if (ret < 0)
			return ret;
	}
}

/* Pump until our own deliveries reach @target; bounded by the timeout. */
static int floor_wait_own(struct floor *f, uint64_t target)
{
	uint64_t deadline = now_ns() + (uint64_t)f->o.timeout_s * NSEC_PER_SEC;
	int ret;

	while (f->own_delivered < target) {
		if (now_ns() > deadline) {
			fprintf(stderr,
				"cpgfloor: own message %" PRIu64 " not delivered within %u s\n",
				f->own_delivered, f->o.timeout_s);
			return -ETIMEDOUT;
		}
		ret = floor_pump(f, 100);
		if (ret < 0)
			return ret;
		ret = floor_check(f);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int floor_connect(struct floor *f)
{
	cpg_model_v1_data_t model;
	uint32_t max_msg = 0;
	cs_error_t err = CS_OK;
	unsigned int tries;

	memset(&model, 0, sizeof(model));
	model.model = CPG_MODEL_V1;
	model.cpg_deliver_fn = floor_deliver;
	model.cpg_confchg_fn = floor_confchg;

	/* corosync may still be starting or syncing: retry as testcpg does, with growing sleeps. */
	for (tries = 0; tries < FLOOR_INIT_TRIES; tries++) {
		err = cpg_model_initialize(&f->h, CPG_MODEL_V1, (cpg_model_data_t *)&model, f);
		if (err != CS_ERR_TRY_AGAIN && err != CS_ERR_LIBRARY)
			break;
		usleep(100000u * (tries < 10 ? tries + 1 : 10));
	}
	if (err != CS_OK) {
		fprintf(stderr, "cpgfloor: cpg_model_initialize: error %d (is corosync running?)\n",
			err);
		return -ENOTCONN;
	}
	if (cpg_local_get(f->h, &f->nodeid) != CS_OK || cpg_fd_get(f->h, &f->fd) != CS_OK) {
		fprintf(stderr, "cpgfloor: cpg_local_get/cpg_fd_get failed\n");
		return -EIO;
	}
	if (cpg_max_atomic_msgsize_get(f->h, &max_msg) == CS_OK && max_msg && f->o.size > max_msg) {
		fprintf(stderr, "cpgfloor: size %zu exceeds the atomic message size %" PRIu32 "\n",
			f->o.size, max_msg);
		return -EMSGSIZE;
	}
	for (tries = 0; tries < FLOOR_INIT_TRIES; tries++) {
		err = cpg_join(f->h, &f->group);
		if (err != CS_ERR_TRY_AGAIN)
			break;
		usleep(100000u * (tries < 10 ? tries + 1 : 10));
	}
	if (err != CS_OK) {
		fprintf(stderr, "cpgfloor: cpg_join: error %d\n", err);
		return -EIO;
	}
	return 0;
}

/* Wait for our own join and at least o.members processes in the group. */
static int floor_wait_members(struct floor *f)
{
	uint64_t deadline = now_ns() + (uint64_t)f->o.timeout_s * NSEC_PER_SEC;
	int ret;

	while (!f->joined || f->members < f->o.members) {
		if (now_ns() > deadline) {
			fprintf(stderr, "cpgfloor: %u member(s) in %s after %u s, wanted %u\n",
				f->members, f->o.group, f->o.timeout_s, f->o.members);
			return -ETIMEDOUT;
		}
		ret = floor_pump(f, 100);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int floor_warmup(struct floor *f)
{
	uint64_t seq;
	int ret;

	for (seq = 0; seq < f->o.warmup; seq++) {
		ret = floor_send(f, seq);
		if (ret < 0)
			return ret;
		ret = floor_wait_own(f, seq + 1);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int floor_run_ping(struct floor *f, uint64_t *elapsed)
{
	uint64_t i, seq, t0, start;
	int ret;

	start = now_ns();
	for (i = 0; i < f->o.count; i++) {
		seq = f->measure_from + i;
		t0 = now_ns();
		ret = floor_send(f, seq);
		if (ret < 0)
			return ret;
		ret = floor_wait_own(f, seq + 1);
		if (ret < 0)
			return ret;
		f->lat_ns[i] = now_ns() - t0;
	}
	*elapsed = now_ns() - start;
	return 0;
}

static int floor_run_flood(struct floor *f, uint64_t *elapsed)
{
	uint64_t end = f->measure_from + f->o.count;
	uint64_t sent = f->measure_from;
	uint64_t start, deadline;
	bool blocked;
	int ret;

	start = now_ns();
	deadline = start + (uint64_t)f->o.timeout_s * NSEC_PER_SEC;
	while (f->own_delivered < end) {
		blocked = false;
		while (sent < end && sent - f->own_delivered < f->o.window) {
			f->send_ns[sent] = now_ns();
			ret = floor_send_once(f, sent);
			if (ret < 0)
				return ret;
			if (ret == 0) {
				blocked = true;
				break;
			}
			sent++;
			deadline = now_ns() + (uint64_t)f->o.timeout_s * NSEC_PER_SEC;
		}
		/* Window full or TRY_AGAIN: let deliveries drain before sending more. */
		ret = floor_pump(f, blocked ? 1 : 100);
		if (ret < 0)
			return ret;
		ret = floor_check(f);
		if (ret < 0)
			return ret;
		if (f->own_delivered < end && now_ns() > deadline) {
			fprintf(stderr,
				"cpgfloor: no progress for %u s (%" PRIu64 " of %" PRIu64
				" delivered)\n",
				f->o.timeout_s, f->own_delivered - f->measure_from, f->o.count);
			return -ETIMEDOUT;
		}
	}
	*elapsed = now_ns() - start;
	return 0;
}

static int floor_run_member(struct floor *f, uint64_t *elapsed)
{
	uint64_t start = now_ns();
	uint64_t stop_at = f->o.run_s ? start + (uint64_t)f->o.run_s * NSEC_PER_SEC : 0;
	int ret;

	while (!floor_stop && (!stop_at || now_ns() < stop_at)) {
		ret = floor_pump(f, 200);
		if (ret == -EINTR)
			break;
		if (ret < 0)
			return ret;
		ret = floor_check(f);
		if (ret < 0)
			return ret;
	}
	*elapsed = now_ns() - start;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array, in microseconds. */
static double pct_us(const uint64_t *v, uint64_t n, double q)
{
	uint64_t rank = (uint64_t)(q * (double)n + 0.999999);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)v[rank - 1] / 1000.0;
}

static const char *mode_name(enum floor_mode m)
{
	switch (m) {
	case FLOOR_PING:
		return "ping";
	case FLOOR_FLOOD:
		return "flood";
	case FLOOR_MEMBER:
		return "member";
	}
	return "?";
}

static void floor_report(struct floor *f, uint64_t elapsed)
{
	double secs = (double)elapsed / (double)NSEC_PER_SEC;
	const char *label = f->o.label ? f->o.label : "";
	double p50 = 0, p99 = 0, max = 0, mean = 0, rate;
	uint64_t i, n = f->o.count, sum = 0;

	if (f->o.mode == FLOOR_MEMBER) {
		rate = secs > 0 ? (double)f->all_delivered / secs : 0;
		/* The rate is over the whole stay, idle time included: a sanity figure only. */
		printf("cpgfloor member%s%s: peak_members=%u peak_nodes=%u delivered=%" PRIu64
		       " in %.2f s (%.0f msg/s) bad=%" PRIu64 " confchg=%" PRIu64 "\n",
		       *label ? " " : "", label, f->peak_members, f->peak_nodes, f->all_delivered,
		       secs, rate, f->bad_msgs, f->confchgs);
		printf("{\"tool\":\"cpgfloor\",\"mode\":\"member\",\"label\":\"%s\","
		       "\"peak_members\":%u,\"peak_nodes\":%u,\"delivered\":%" PRIu64
		       ",\"elapsed_s\":%.3f,\"msgs_per_s\":%.1f,\"bad\":%" PRIu64
		       ",\"confchg\":%" PRIu64 "}\n",
		       label, f->peak_members, f->peak_nodes, f->all_delivered, secs, rate,
		       f->bad_msgs, f->confchgs);
		return;
	}
	for (i = 0; i < n; i++)
		sum += f->lat_ns[i];
	if (n)
		qsort(f->lat_ns, n, sizeof(*f->lat_ns), cmp_u64);
	if (n) {
		p50 = pct_us(f->lat_ns, n, 0.50);
		p99 = pct_us(f->lat_ns, n, 0.99);
		max = (double)f->lat_ns[n - 1] / 1000.0;
		mean = (double)sum / (double)n / 1000.0;
	}
	rate = secs > 0 ? (double)n / secs : 0;
	printf("cpgfloor %s%s%s: members=%u nodes=%u size=%zu count=%" PRIu64 " window=%u "
	       "latency_us p50=%.1f p99=%.1f max=%.1f mean=%.1f rate=%.0f msg/s (%.2f MB/s) "
	       "try_again=%" PRIu64 " elapsed=%.2f s\n",
	       mode_name(f->o.mode), *label ? " " : "", label, f->members, f->nodes, f->o.size, n,
	       f->o.window, p50, p99, max, mean, rate, rate * (double)f->o.size / 1e6, f->try_again,
	       secs);
	printf("{\"tool\":\"cpgfloor\",\"mode\":\"%s\",\"label\":\"%s\",\"members\":%u,\"nodes\":%"
	       "u,"
	       "\"size\":%zu,\"count\":%" PRIu64 ",\"window\":%u,\"p50_us\":%.1f,\"p99_us\":%.1f,"
	       "\"max_us\":%.1f,\"mean_us\":%.1f,\"msgs_per_s\":%.1f,\"mb_per_s\":%.3f,"
	       "\"try_again\":%" PRIu64 ",\"elapsed_s\":%.3f,\"confchg\":%" PRIu64 "}\n",
	       mode_name(f->o.mode), label, f->members, f->nodes, f->o.size, n, f->o.window, p50,
	       p99, max, mean, rate, rate * (double)f->o.size / 1e6, f->try_again, secs,
	       f->confchgs);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cpgfloor ping|flood|member [options]\n"
		"  -g NAME   CPG group (default " FLOOR_DEF_GROUP ")\n"
		"  -s BYTES  message size, >= %d (default 64)\n"
		"  -n COUNT  measured messages (default 10000 ping, 100000 flood)\n"
		"  -u COUNT  warm-up round trips before measuring (default 100)\n"
		"  -w W      flood: messages outstanding (default 64)\n"
		"  -m N      wait for N processes in the group before starting (default 1)\n"
		"  -W SECS   bound on every wait: join, members, one delivery (default 30)\n"
		"  -t SECS   member: exit after SECS (default 0: on SIGTERM/SIGINT)\n"
		"  -l LABEL  free text copied into the output lines\n"
		"Output: one human line, then one JSON line. Exit 0, 1 on error, 2 on usage.\n",
		FLOOR_HDR_SIZE);
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct floor_opts *o)
{
	uint64_t v;
	bool count_set = false, window_set = false;
	int c;

	if (argc < 2)
		return -EINVAL;
	if (!strcmp(argv[1], "ping"))
		o->mode = FLOOR_PING;
	else if (!strcmp(argv[1], "flood"))
		o->mode = FLOOR_FLOOD;
	else if (!strcmp(argv[1], "member") || !strcmp(argv[1], "echo"))
		o->mode = FLOOR_MEMBER;
	else
		return -EINVAL;
	o->group = FLOOR_DEF_GROUP;
	o->size = 64;
	o->count = 10000;
	o->warmup = 100;
	o->window = 1;
	o->members = 1;
	o->timeout_s = 30;
	o->run_s = 0;
	o->label = NULL;
	optind = 2;
	while ((c = getopt(argc, argv, "g:s:n:u:w:m:W:t:l:h")) != -1) {
		switch (c) {
		case 'g':
			if (strlen(optarg) == 0 || strlen(optarg) >= CPG_MAX_NAME_LENGTH)
				return -EINVAL;
			o->group = optarg;
			break;
		case 's':
			if (parse_u64(optarg, FLOOR_HDR_SIZE, 1u << 20, &v) < 0)
				return -EINVAL;
			o->size = (size_t)v;
			break;
		case 'n':
			if (parse_u64(optarg, 1, 100000000, &v) < 0)
				return -EINVAL;
			o->count = v;
			count_set = true;
			break;
		case 'u':
			if (parse_u64(optarg, 0, 1000000, &v) < 0)
				return -EINVAL;
			o->warmup = v;
			break;
		case 'w':
			if (parse_u64(optarg, 1, 1000000, &v) < 0)
				return -EINVAL;
			o->window = (uint32_t)v;
			window_set = true;
			break;
		case 'm':
			if (parse_u64(optarg, 1, CPG_MEMBERS_MAX, &v) < 0)
				return -EINVAL;
			o->members = (uint32_t)v;
			break;
		case 'W':
			if (parse_u64(optarg, 1, 3600, &v) < 0)
				return -EINVAL;
			o->timeout_s = (unsigned int)v;
			break;
		case 't':
			if (parse_u64(optarg, 0, 86400, &v) < 0)
				return -EINVAL;
			o->run_s = (unsigned int)v;
			break;
		case 'l':
			/* Copied into JSON verbatim: keep it to characters that need no escaping. */
			if (strpbrk(optarg, "\"\\") || strlen(optarg) > 200)
				return -EINVAL;
			o->label = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind != argc)
		return -EINVAL;
	if (o->mode == FLOOR_FLOOD) {
		if (!count_set)
			o->count = 100000;
		if (!window_set)
			o->window = 64;
	} else {
		o->window = 1; /* ping has exactly one message in flight */
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct floor f;
	struct sigaction sa;
	uint64_t elapsed = 0;
	int ret;

	memset(&f, 0, sizeof(f));
	f.fd = -1;
	f.h = 0;
	if (parse_args(argc, argv, &f.o) < 0) {
		usage(stderr);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = floor_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	f.pid = (uint32_t)getpid();
	f.group.length = (uint32_t)strlen(f.o.group);
	memcpy(f.group.value, f.o.group, f.group.length);
	f.buf = calloc(1, f.o.size);
	if (f.o.mode != FLOOR_MEMBER) {
		f.lat_ns = calloc(f.o.count, sizeof(*f.lat_ns));
		if (f.o.mode == FLOOR_FLOOD)
			f.send_ns = calloc(f.o.warmup + f.o.count, sizeof(*f.send_ns));
	}
	if (!f.buf || (f.o.mode != FLOOR_MEMBER && !f.lat_ns) ||
	    (f.o.mode == FLOOR_FLOOD && !f.send_ns)) {
		fprintf(stderr, "cpgfloor: out of memory\n");
		ret = -ENOMEM;
		goto out;
	}

	ret = floor_connect(&f);
	if (ret < 0)
		goto out;
	ret = floor_wait_members(&f);
	if (ret < 0)
		goto out;
	f.confchgs = 0;
	f.measure_from = f.o.warmup;
	if (f.o.mode != FLOOR_MEMBER) {
		ret = floor_warmup(&f);
		if (ret < 0)
			goto out;
	}
	switch (f.o.mode) {
	case FLOOR_PING:
		ret = floor_run_ping(&f, &elapsed);
		break;
	case FLOOR_FLOOD:
		ret = floor_run_flood(&f, &elapsed);
		break;
	case FLOOR_MEMBER:
		ret = floor_run_member(&f, &elapsed);
		break;
	}
	if (ret == 0)
		floor_report(&f, elapsed);
	else if (ret == -EINTR)
		fprintf(stderr, "cpgfloor: interrupted\n");
	fflush(stdout);
out:
	if (f.h) {
		cpg_leave(f.h, &f.group);
		cpg_finalize(f.h);
	}
	free(f.buf);
	free(f.lat_ns);
	free(f.send_ns);
	return ret == 0 ? 0 : 1;
}
