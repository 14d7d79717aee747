/*
 * standin_ref: a single-node reference responder for the stand-in's daemon scenarios.
 *
 *   standin_ref [--peer]
 *
 * Serves the kernel protocol with daemon/libkern.a and one log/rlog per (uuid, luid), as one
 * node that is the only member of every log: no cluster, no disk I/O (a clustered-disk log
 * behaves like a core log whose disk is empty), every answer immediate. It is NOT cmlogd; it
 * exists so the expectations written into tests/func/standin.c (activate, writes, resync,
 * status, reload, suspend, remove, reconnect, badinput, disk) are checked against the real
 * rlog semantics and the real link code before cmlogd runs them.
 * Prints "port N" once listening; SIGTERM/SIGINT ends it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ctr.h"
#include "daemon/kern.h"
#include "daemon/ulog_codec.h"
#include "log/rlog.h"

#define REF_MAX_LOGS 64
#define REF_NODE     1

struct ref_log {
	bool used;
	bool resumed;
	char uuid[ULOG_UUID_LEN];
	uint64_t luid;
	struct ctr_args args;
	struct rlog *rl;
};

struct ref {
	struct kern *k;
	struct ref_log logs[REF_MAX_LOGS];
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
	fprintf(stderr, "standin_ref[%d]: %s\n", prio, msg);
}

static struct ref_log *find(struct ref *f, const struct ulog_msg *m)
{
	int i;

	for (i = 0; i < REF_MAX_LOGS; i++)
		if (f->logs[i].used && f->logs[i].luid == m->luid &&
		    strcmp(f->logs[i].uuid, m->uuid) == 0)
			return &f->logs[i];
	return NULL;
}

static void drop(struct ref_log *l)
{
	rlog_destroy(l->rl);
	memset(l, 0, sizeof(*l));
}

static void do_ctr(struct ref *f, const struct ulog_msg *m)
{
	struct ref_log *l = find(f, m);
	struct ctr_args a;
	int i, r;

	if (ctr_parse(m->data, m->data_size, &a, NULL) < 0) {
		kern_reply(f->k, m, -EINVAL, NULL, 0);
		return;
	}
	if (!l) { /* a CTR for a known (uuid, luid) is a duplicate: keep the state (s6) */
		for (i = 0; !l && i < REF_MAX_LOGS; i++)
			if (!f->logs[i].used)
				l = &f->logs[i];
		if (!l) {
			kern_reply(f->k, m, -ENOMEM, NULL, 0);
			return;
		}
		r = rlog_create(&l->rl, a.region_count, a.sync);
		if (r < 0) {
			kern_reply(f->k, m, r, NULL, 0);
			return;
		}
		l->used = true;
		l->luid = m->luid;
		memcpy(l->uuid, m->uuid, sizeof(l->uuid));
		l->args = a;
	}
	if (a.disk && m->version >= 2 && !a.reconnect)
		kern_reply_str(f->k, m, a.dev);
	else
		kern_reply(f->k, m, 0, NULL, 0);
}

static void on_request(void *ctx, const struct ulog_msg *m)
{
	struct ref *f = ctx;
	struct ref_log *l;
	uint64_t regions[ULOG_MAX_BATCH], region = 0, v;
	size_t n = ulog_get_regions(m, regions, ULOG_MAX_BATCH);
	char s[ULOG_CAP_STATUS];
	bool b, c;
	int r = 0;

	if (m->type == ULOG_CTR) {
		do_ctr(f, m);
		return;
	}
	l = find(f, m);
	if (m->type == ULOG_DTR) {
		if (l)
			drop(l);
		kern_reply(f->k, m, 0, NULL, 0); /* DTR of an unknown log: 0 (s14.18) */
		return;
	}
	if (!l) {
		kern_reply(f->k, m, -ESRCH, NULL, 0); /* makes the kernel re-CTR (s6) */
		return;
	}
	if (n)
		region = regions[0];
	switch (m->type) {
	case ULOG_PRESUSPEND:
		break;
	case ULOG_POSTSUSPEND:
		l->resumed = false;
		break;
	case ULOG_RESUME:
		if (!l->resumed) /* a duplicate RESUME reloads nothing (s14.11) */
			r = rlog_resume_master(l->rl, NULL, 0);
		l->resumed = r == 0;
		break;
	case ULOG_GET_REGION_SIZE:
		kern_reply_u64(f->k, m, l->args.region_size);
		return;
	case ULOG_IS_CLEAN:
		r = rlog_is_clean(l->rl, region, &b);
		if (r == 0) {
			kern_reply_bool(f->k, m, b);
			return;
		}
		break;
	case ULOG_IN_SYNC:
		r = rlog_in_sync(l->rl, region, &b);
		if (r == 0) {
			kern_reply_bool(f->k, m, b);
			return;
		}
		break;
	case ULOG_FLUSH:
		if (n)
			r = rlog_mark(l->rl, REF_NODE, regions, n); /* integrated flush */
		break;
	case ULOG_MARK_REGION:
		r = rlog_mark(l->rl, REF_NODE, regions, n);
		break;
	case ULOG_CLEAR_REGION:
		r = rlog_clear(l->rl, REF_NODE, regions, n);
		break;
	case ULOG_GET_RESYNC_WORK:
		r = rlog_get_resync_work(l->rl, REF_NODE, &v, &b);
		if (r == 0) {
			kern_reply_pair(f->k, m, b, b ? v : 0);
			return;
		}
		break;
	case ULOG_SET_REGION_SYNC:
		r = rlog_set_region_sync(l->rl, REF_NODE, region, n > 1 && regions[1] != 0);
		break;
	case ULOG_GET_SYNC_COUNT:
		kern_reply_u64(f->k, m, rlog_sync_count(l->rl));
		return;
	case ULOG_STATUS_INFO:
		ctr_status_info(&l->args, NULL, false, s, sizeof(s));
		kern_reply_str(f->k, m, s);
		return;
	case ULOG_STATUS_TABLE:
		ctr_status_table(&l->args, s, sizeof(s));
		kern_reply_str(f->k, m, s);
		return;
	case ULOG_IS_REMOTE_RECOVERING:
		r = rlog_is_remote_recovering(l->rl, REF_NODE, region, false, &c, &v);
		if (r == 0) {
			kern_reply_pair(f->k, m, c, v);
			return;
		}
		break;
	default:
		r = -EINVAL;
		break;
	}
	kern_reply(f->k, m, r, NULL, 0);
}

int main(int argc, char **argv)
{
	struct kern_cfg cfg = {.log = log_line};
	struct sigaction sa;
	struct ref *f;
	int r, i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--peer") == 0) {
			cfg.userspace_peer = true;
		} else {
			fprintf(stderr, "usage: standin_ref [--peer]\n");
			return 1;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	f = calloc(1, sizeof(*f));
	if (!f)
		return 1;
	r = kern_open(&f->k, &cfg, on_request, f);
	if (r < 0) {
		fprintf(stderr, "standin_ref: kern_open: %s\n", strerror(-r));
		free(f);
		return 1;
	}
	printf("port %u\n", kern_portid(f->k));
	fflush(stdout);
	while (!quit) {
		struct pollfd p = {.fd = kern_fd(f->k), .events = POLLIN};

		r = poll(&p, 1, 200);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0 && kern_dispatch(f->k) < 0)
			break;
	}
	for (i = 0; i < REF_MAX_LOGS; i++)
		if (f->logs[i].used)
			drop(&f->logs[i]);
	kern_close(f->k);
	free(f);
	return 0;
}
