/*
 * kern_echo: a tiny responder built on daemon/libkern.a (kern.c + ulog_codec.c + ctr.c), so
 * the stand-in can test the real link code over a real NETLINK_CONNECTOR socket.
 *
 *   kern_echo [--peer] [--rcvbuf BYTES] [--batch N]
 *
 * Prints "port N" once listening, serves until SIGTERM/SIGINT, then prints its link counters
 * ("stats: datagrams=.. overruns=.. ...") and exits 0. Its answers are deterministic so the
 * stand-in's link-* scenarios can check them exactly:
 *   CTR: ctr_parse (error -EINVAL), remembered per (uuid, luid); a clustered-disk CTR of
 *        version >= 2 that is not the reconnect CTR returns the device name;
 *   DTR: forget, 0; other requests for an unknown log: -ESRCH; regions >= count: -EINVAL;
 *   GET_REGION_SIZE: region size; IN_SYNC / IS_CLEAN: region % 2; GET_SYNC_COUNT: count;
 *   GET_RESYNC_WORK: {1, seq % count}; IS_REMOTE_RECOVERING(r): {0, r};
 *   CLEAR_REGION, SET_REGION_SYNC: ack-only 0; everything else: full reply 0;
 *   STATUS_INFO / STATUS_TABLE: the ctr status strings;
 *   uuid "EAGAIN": ack-only EAGAIN; uuid "kern-echo-stats" STATUS_INFO: the counters.
 * It is a test tool, not a log: no state beyond the table of constructed logs.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "daemon/ctr.h"
#include "daemon/kern.h"
#include "daemon/ulog_codec.h"

#define ECHO_MAX_LOGS 64

struct echo_log {
	bool used;
	char uuid[ULOG_UUID_LEN];
	uint64_t luid;
	struct ctr_args args;
};

struct echo {
	struct kern *k;
	struct echo_log logs[ECHO_MAX_LOGS];
};

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void log_line(void *ctx, int prio, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "kern_echo[%d]: %s\n", prio, msg);
}

static struct echo_log *find(struct echo *e, const struct ulog_msg *m)
{
	int i;

	for (i = 0; i < ECHO_MAX_LOGS; i++)
		if (e->logs[i].used && e->logs[i].luid == m->luid &&
		    strcmp(e->logs[i].uuid, m->uuid) == 0)
			return &e->logs[i];
	return NULL;
}

static void stats_string(struct echo *e, char *buf, size_t len)
{
	struct kern_stats st;

	kern_get_stats(e->k, &st);
	snprintf(buf, len,
		 "datagrams=%llu requests=%llu replies=%llu acks=%llu rejected=%llu eagain=%llu "
		 "foreign=%llu dropped=%llu peer_dropped=%llu truncated=%llu overruns=%llu "
		 "send_errors=%llu refused=%llu",
		 (unsigned long long)st.datagrams, (unsigned long long)st.requests,
		 (unsigned long long)st.replies, (unsigned long long)st.acks,
		 (unsigned long long)st.rejected, (unsigned long long)st.eagain,
		 (unsigned long long)st.foreign, (unsigned long long)st.dropped,
		 (unsigned long long)st.peer_dropped, (unsigned long long)st.truncated,
		 (unsigned long long)st.overruns, (unsigned long long)st.send_errors,
		 (unsigned long long)st.refused);
}

static void do_ctr(struct echo *e, const struct ulog_msg *m)
{
	struct echo_log *l = find(e, m);
	struct ctr_args a;
	int i;

	if (ctr_parse(m->data, m->data_size, &a, NULL) < 0) {
		kern_reply(e->k, m, -EINVAL, NULL, 0);
		return;
	}
	for (i = 0; !l && i < ECHO_MAX_LOGS; i++)
		if (!e->logs[i].used)
			l = &e->logs[i];
	if (!l) {
		kern_reply(e->k, m, -ENOMEM, NULL, 0);
		return;
	}
	l->used = true;
	l->luid = m->luid;
	memcpy(l->uuid, m->uuid, sizeof(l->uuid));
	l->args = a;
	if (a.disk && m->version >= 2 && !a.reconnect)
		kern_reply_str(e->k, m, a.dev);
	else
		kern_reply(e->k, m, 0, NULL, 0);
}

static bool regions_ok(const struct echo_log *l, const struct ulog_msg *m, size_t first, size_t n)
{
	size_t i;
	uint64_t r;

	for (i = first; i < first + n; i++)
		if (!ulog_get_u64(m, i, &r) || r >= l->args.region_count)
			return false;
	return true;
}

static void on_request(void *ctx, const struct ulog_msg *m)
{
	struct echo *e = ctx;
	struct echo_log *l;
	char s[ULOG_CAP_STATUS];
	uint64_t r = 0;

	if (strcmp(m->uuid, "EAGAIN") == 0) {
		kern_ack(e->k, m, EAGAIN);
		return;
	}
	if (strcmp(m->uuid, "kern-echo-stats") == 0 && m->type == ULOG_STATUS_INFO) {
		stats_string(e, s, sizeof(s));
		kern_reply_str(e->k, m, s);
		return;
	}
	if (m->type == ULOG_CTR) {
		do_ctr(e, m);
		return;
	}
	l = find(e, m);
	if (m->type == ULOG_DTR) {
		if (l)
			l->used = false;
		kern_reply(e->k, m, 0, NULL, 0);
		return;
	}
	if (!l) {
		kern_reply(e->k, m, -ESRCH, NULL, 0);
		return;
	}
	switch (m->type) {
	case ULOG_IS_CLEAN:
	case ULOG_IN_SYNC:
	case ULOG_IS_REMOTE_RECOVERING:
	case ULOG_MARK_REGION:
	case ULOG_CLEAR_REGION:
	case ULOG_FLUSH:
		if (!regions_ok(l, m, 0, ulog_region_count(m))) {
			kern_reply(e->k, m, -EINVAL, NULL, 0);
			return;
		}
		break;
	case ULOG_SET_REGION_SYNC:
		if (!regions_ok(l, m, 0, 1)) {
			kern_reply(e->k, m, -EINVAL, NULL, 0);
			return;
		}
		break;
	default:
		break;
	}
	ulog_get_u64(m, 0, &r);
	switch (m->type) {
	case ULOG_GET_REGION_SIZE:
		kern_reply_u64(e->k, m, l->args.region_size);
		break;
	case ULOG_IS_CLEAN:
	case ULOG_IN_SYNC:
		kern_reply_bool(e->k, m, r % 2 == 1);
		break;
	case ULOG_GET_SYNC_COUNT:
		kern_reply_u64(e->k, m, l->args.region_count);
		break;
	case ULOG_GET_RESYNC_WORK:
		kern_reply_pair(e->k, m, true, m->seq % l->args.region_count);
		break;
	case ULOG_IS_REMOTE_RECOVERING:
		kern_reply_pair(e->k, m, false, r);
		break;
	case ULOG_CLEAR_REGION:
	case ULOG_SET_REGION_SYNC:
		kern_ack(e->k, m, 0);
		break;
	case ULOG_STATUS_INFO:
		ctr_status_info(&l->args, NULL, false, s, sizeof(s));
		kern_reply_str(e->k, m, s);
		break;
	case ULOG_STATUS_TABLE:
		ctr_status_table(&l->args, s, sizeof(s));
		kern_reply_str(e->k, m, s);
		break;
	default:
		kern_reply(e->k, m, 0, NULL, 0);
		break;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"peer", no_argument, NULL, 'p'},
					     {"rcvbuf", required_argument, NULL, 'r'},
					     {"batch", required_argument, NULL, 'b'},
					     {NULL, 0, NULL, 0}};
	struct kern_cfg cfg = {.log = log_line};
	struct sigaction sa;
	struct echo *e;
	char s[512];
	int o, r;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			cfg.userspace_peer = true;
			break;
		case 'r':
			cfg.rcvbuf = atoi(optarg);
			break;
		case 'b':
			cfg.batch = (unsigned int)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: kern_echo [--peer] [--rcvbuf BYTES] [--batch N]\n");
			return 1;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	e = calloc(1, sizeof(*e));
	if (!e)
		return 1;
	r = kern_open(&e->k, &cfg, on_request, e);
	if (r < 0) {
		fprintf(stderr, "kern_echo: kern_open: %s\n", strerror(-r));
		free(e);
		return 1;
	}
	printf("port %u\n", kern_portid(e->k));
	fflush(stdout);
	while (!quit) {
		struct pollfd p = {.fd = kern_fd(e->k), .events = POLLIN};

		r = poll(&p, 1, 200);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0 && kern_dispatch(e->k) < 0)
			break;
	}
	stats_string(e, s, sizeof(s));
	printf("stats: %s\n", s);
	fflush(stdout);
	kern_close(e->k);
	free(e);
	return 0;
}
