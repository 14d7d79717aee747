/*
 * mlog: kernel mirror-log instances keyed by (uuid, luid), and the request router.
 *
 * Owns: the instance table, each instance's constructor arguments, log device (daemon/disk.c),
 * replicated group (cluster/group.h) and cluster transport handle, the table of requests
 * waiting for the group (token -> copy of the kernel request), and the queue of kernel replies.
 *
 * Invariants (kernel-protocol.md s4-s6, s14):
 *  - exactly one reply per kernel request: every request is either answered at once (queued),
 *    or parked in exactly one list (waiting for the group, held until the group exists, or a
 *    RESUME waiter) from which it leaves only by being answered;
 *  - instances are keyed by (uuid, luid): two luids of one uuid coexist during a reload;
 *  - R-type requests for an unknown (uuid, luid) get -ESRCH (the kernel then re-CTRs and
 *    RESUMEs, which is how a restarted daemon recovers); DTR of an unknown log gets 0;
 *  - the sync bitmap of every resumed, synced replica is queued to its state file (off the
 *    loop) when the sync count drops or reaches the region count at once, else debounced;
 *    only a RESUME after a reconnect CTR uses the file (master resume: recorded in-sync
 *    regions handed over as clean); a fresh activation keeps sync := clean;
 *  - a known instance the kernel post-suspended never gets -ESRCH (its RESUME could not be
 *    answered during a reload): payload-less FLUSH and CLEAR succeed, marks get -EIO;
 *  - the device name is returned only to an initial CTR of protocol version >= 2 (never to
 *    the reconnect CTR, whose capacity is 0);
 *  - GET_SYNC_COUNT, STATUS_INFO, GET_REGION_SIZE are answered for constructed-but-not-resumed
 *    and suspended logs; the sync count before the first RESUME is 0 unless nosync;
 *  - IN_SYNC never fails for a known log with an in-range region;
 *  - DTR never writes the log device; a FLUSH with regions is "mark, then commit";
 *  - structural teardown (leaving a group, destroying it) happens only in the before-sleep
 *    phase, never inside a group or transport callback.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "daemon/ctr.h"
#include "daemon/disk.h"
#include "daemon/mlog.h"
#include "daemon/ulog_codec.h"

/* A kernel request parked until the group (or the resume) answers it. */
struct mlog_pending {
	struct mlog_pending *next;
	uint64_t token;
	struct ulog_msg msg;
};

/* A reply waiting for the before-sleep phase. */
struct mlog_reply {
	struct mlog_reply *next;
	struct ulog_msg req;
	int error;
	size_t len;
	uint8_t data[];
};

struct mlog {
	struct mlog *next; /* table list, sorted by (uuid, luid) */
	struct mlog_table *t;
	char uuid[ULOG_UUID_LEN];
	uint64_t luid;
	struct ctr_args args;
	enum mlog_state state;
	bool presuspended;
	bool postsuspended; /* the kernel sent POSTSUSPEND and no RESUME since */
	bool disk_failed;
	struct disk *disk;
	bool disk_in_loop;
	struct group *group;
	void *transport;
	bool rejoin_wanted;  /* this node was excluded: rejoin from the before-sleep phase */
	bool transport_down; /* lost and not yet restored */
	bool transport_left; /* leave finished: destroy the handle at reap */
	bool want_leave;     /* POSTSUSPEND answered: leave at reap */
	bool need_group;     /* resume waiting for a node id or the disk read */
	struct mlog_pending *waiting; /* handed to the group */
	struct mlog_pending *held;    /* arrived before the group existed */
	struct mlog_pending *resumes; /* RESUME requests answered together */
	uint64_t resume_token;
	uint8_t *image; /* clean bitmap for group_start (disk read or reload) */
	uint64_t image_regions;
	uint8_t *sync_image; /* group_start_sync: a restart's state file (in sync, not clean) */
	uint64_t sync_image_regions;
	uint8_t *saved_clean; /* clean bits at the last suspend (core reload) */
	uint64_t saved_regions;
	uint64_t saved_sync_count;
	bool have_saved;
	bool saved_disk_failed; /* the log device had failed when saved_clean was taken */
	uint64_t requests;
	uint64_t hot_requests;
	bool reconnected;    /* created by a reconnect CTR: the kernel outlived a daemon */
	bool state_loading;  /* MLOG_READING: its sync state file is being read off the loop */
	uint64_t ss_count;   /* sync count in the last state file queued (SS_NONE: none) */
	uint64_t ss_changed; /* ms when the sync count first differed from ss_count */
	bool ss_changing;
	bool ss_use_image; /* reconnect with a state file: master resume uses the image */
	/* rejected cluster messages: a flooding peer must not flood the log (bad_message) */
	uint64_t bad_window;	     /* ms when the current window began */
	unsigned int bad_lines;	     /* lines written in it */
	unsigned int bad_suppressed; /* rejected messages not written since the last line */
	uint64_t bad_last_node;
};

#define SS_NONE	       UINT64_MAX
#define SS_DEBOUNCE_MS 5000u
/* At most BAD_LOG_BURST lines on rejected messages per BAD_LOG_WINDOW_MS and log. */
#define BAD_LOG_BURST	  5u
#define BAD_LOG_WINDOW_MS 10000u

struct mlog_table {
	struct mlog_env env;
	struct mlog *list;
	struct mlog_reply *rq_head, *rq_tail;
	uint64_t next_token;
	bool quorate;
	uint32_t nodeid; /* last node id any transport reported */
	uint64_t now_ms; /* time of the last mlog_table_tick (0: none yet) */
	bool reap_needed;
};

static const struct group_ops mlog_group_ops;

static void kick(struct mlog_table *t)
{
	if (t->env.kick)
		t->env.kick(t->env.kick_ctx);
}

const char *mlog_state_str(enum mlog_state s)
{
	switch (s) {
	case MLOG_CONSTRUCTED:
		return "constructed";
	case MLOG_READING:
		return "reading-disk";
	case MLOG_RESUMING:
		return "resuming";
	case MLOG_RESUMED:
		return "resumed";
	case MLOG_SUSPENDING:
		return "suspending";
	case MLOG_SUSPENDED:
		return "suspended";
	}
	return "?";
}

static void set_state(struct mlog *m, enum mlog_state s, const char *why)
{
	if (m->state != s)
		qb_log(LOG_INFO, "log %s/%llx: %s -> %s (%s)", m->uuid, (unsigned long long)m->luid,
		       mlog_state_str(m->state), mlog_state_str(s), why);
	m->state = s;
}

static void record(struct mlog_table *t, enum mlog_record kind, const char *uuid, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));
static void record(struct mlog_table *t, enum mlog_record kind, const char *uuid, const char *fmt,
		   ...)
{
	char text[192];
	va_list ap;

	if (!t->env.record)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	t->env.record(t->env.record_ctx, kind, uuid, text);
}

/* Requests recorded one by one; the others are the hot path and only counted. */
static bool is_recorded_type(uint32_t type)
{
	switch (type) {
	case ULOG_CTR:
	case ULOG_DTR:
	case ULOG_PRESUSPEND:
	case ULOG_POSTSUSPEND:
	case ULOG_RESUME:
	case ULOG_STATUS_INFO:
	case ULOG_STATUS_TABLE:
	case ULOG_GET_REGION_SIZE:
		return true;
	default:
		return false;
	}
}

/* ---- replies ------------------------------------------------------------------------------ */

static void queue_reply(struct mlog_table *t, const struct ulog_msg *req, int error,
			const void *data, size_t len)
{
	struct mlog_reply *r;

	if (error)
		len = 0; /* kernel-protocol.md s14.3: data_size 0 on error */
	if (error && error != -EAGAIN)
		record(t, MLOG_REC_ERROR, req->uuid, "reply %s seq %u: error %d (%s)",
		       ulog_type_str(req->type), req->seq, error, strerror(-error));
	else if (is_recorded_type(req->type))
		record(t, MLOG_REC_REPLY, req->uuid, "reply %s seq %u: ok, %zu bytes",
		       ulog_type_str(req->type), req->seq, len);
	r = malloc(sizeof(*r) + len);
	if (!r) {
		/* No memory for the reply: the kernel resends after 15 s. */
		qb_log(LOG_ERR, "out of memory queueing a reply to seq %u", req->seq);
		return;
	}
	r->next = NULL;
	r->req = *req;
	r->error = error;
	r->len = len;
	if (len)
		memcpy(r->data, data, len);
	if (t->rq_tail)
		t->rq_tail->next = r;
	else
		t->rq_head = r;
	t->rq_tail = r;
	kick(t);
}

static void reply_u64(struct mlog_table *t, const struct ulog_msg *req, uint64_t v)
{
	queue_reply(t, req, 0, &v, sizeof(v));
}

static void reply_s64(struct mlog_table *t, const struct ulog_msg *req, int64_t v)
{
	queue_reply(t, req, 0, &v, sizeof(v));
}

static void reply_pair(struct mlog_table *t, const struct ulog_msg *req, int64_t a, uint64_t b)
{
	uint8_t buf[16];

	memcpy(buf, &a, 8);
	memcpy(buf + 8, &b, 8);
	queue_reply(t, req, 0, buf, sizeof(buf));
}

static void reply_str(struct mlog_table *t, const struct ulog_msg *req, const char *s)
{
	queue_reply(t, req, 0, s, strlen(s) + 1);
}

void mlog_table_flush_replies(struct mlog_table *t)
{
	struct mlog_reply *r;

	while ((r = t->rq_head) != NULL) {
		t->rq_head = r->next;
		if (!t->rq_head)
			t->rq_tail = NULL;
		t->env.reply(t->env.reply_ctx, &r->req, r->error, r->len ? r->data : NULL, r->len);
		free(r);
	}
}

/* ---- parked requests ------------------------------------------------------------------------ */

static struct mlog_pending *park(struct mlog_pending **list, const struct ulog_msg *msg,
				 uint64_t token)
{
	struct mlog_pending *p = malloc(sizeof(*p)), **pp;

	if (!p)
		return NULL;
	p->next = NULL;
	p->token = token;
	p->msg = *msg;
	for (pp = list; *pp; pp = &(*pp)->next)
		;
	*pp = p;
	return p;
}

static struct mlog_pending *unpark(struct mlog_pending **list, uint64_t token)
{
	struct mlog_pending **pp, *p;

	for (pp = list; (p = *pp) != NULL; pp = &p->next) {
		if (p->token == token) {
			*pp = p->next;
			return p;
		}
	}
	return NULL;
}

static void fail_list(struct mlog_table *t, struct mlog_pending **list, int error)
{
	struct mlog_pending *p;

	while ((p = *list) != NULL) {
		*list = p->next;
		queue_reply(t, &p->msg, error, NULL, 0);
		free(p);
	}
}

/* ---- instances ------------------------------------------------------------------------------ */

static int key_cmp(const char *uuid_a, uint64_t luid_a, const char *uuid_b, uint64_t luid_b)
{
	int c = strcmp(uuid_a, uuid_b);

	if (c)
		return c;
	return luid_a < luid_b ? -1 : luid_a > luid_b ? 1 : 0;
}

static struct mlog *find(struct mlog_table *t, const char *uuid, uint64_t luid)
{
	struct mlog *m;

	for (m = t->list; m; m = m->next)
		if (m->luid == luid && strcmp(m->uuid, uuid) == 0)
			return m;
	return NULL;
}

static void insert(struct mlog_table *t, struct mlog *m)
{
	struct mlog **pp;

	for (pp = &t->list; *pp && key_cmp((*pp)->uuid, (*pp)->luid, m->uuid, m->luid) < 0;
	     pp = &(*pp)->next)
		;
	m->next = *pp;
	*pp = m;
}

static int32_t disk_fd_cb(int32_t fd, int32_t revents, void *data)
{
	struct mlog *m = data;

	if (m->disk)
		disk_complete(m->disk);
	return 0;
}

static void close_disk(struct mlog *m)
{
	if (!m->disk)
		return;
	if (m->disk_in_loop)
		qb_loop_poll_del(m->t->env.loop, disk_event_fd(m->disk));
	m->disk_in_loop = false;
	/* Never writes: DTR must not touch the log device (kernel-protocol.md s14.24). */
	disk_close(m->disk);
	m->disk = NULL;
}

static int open_disk(struct mlog *m)
{
	int r = disk_open(&m->disk, m->args.dev, m->args.region_count);

	if (r) {
		qb_log(LOG_ERR, "log %s: cannot use log device %s: %s", m->uuid, m->args.dev,
		       strerror(-r));
		m->disk = NULL;
		return r;
	}
	if (m->t->env.loop) {
		if (qb_loop_poll_add(m->t->env.loop, QB_LOOP_HIGH, disk_event_fd(m->disk), POLLIN,
				     m, disk_fd_cb) != 0) {
			disk_close(m->disk);
			m->disk = NULL;
			return -ENOMEM;
		}
		m->disk_in_loop = true;
	}
	qb_log(LOG_INFO, "log %s: log device %s (%s), block size %u", m->uuid, m->args.dev,
	       disk_path(m->disk), disk_block_size(m->disk));
	return 0;
}

static void drop_group(struct mlog *m)
{
	if (m->group) {
		group_destroy(m->group);
		m->group = NULL;
	}
}

static void drop_transport(struct mlog *m)
{
	if (m->transport) {
		m->t->env.transport->destroy(m->transport);
		m->transport = NULL;
	}
	m->transport_left = false;
	m->transport_down = false;
}

/* No load of the state file may call back into @m any more (freed or resume given up). */
static void cancel_sync_state_load(struct mlog *m)
{
	if (m->state_loading && m->t->env.state_writer)
		disk_state_load_cancel(m->t->env.state_writer, m);
	m->state_loading = false;
}

static void mlog_free(struct mlog *m, int error)
{
	struct mlog_table *t = m->t;

	fail_list(t, &m->waiting, error);
	fail_list(t, &m->held, error);
	fail_list(t, &m->resumes, error);
	drop_group(m);
	drop_transport(m);
	close_disk(m);
	free(m->image);
	free(m->sync_image);
	free(m->saved_clean);
	cancel_sync_state_load(m);
	free(m);
}

static void unlink_instance(struct mlog_table *t, struct mlog *m)
{
	struct mlog **pp;

	for (pp = &t->list; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			return;
		}
	}
}

/* ---- resume ---------------------------------------------------------------------------------- */

static void route_to_group(struct mlog *m, const struct ulog_msg *msg);

static uint32_t my_nodeid(struct mlog *m)
{
	uint32_t id = 0;

	if (m->transport)
		id = m->t->env.transport->nodeid(m->transport);
	if (id)
		m->t->nodeid = id;
	if (!id)
		id = m->t->nodeid ? m->t->nodeid : m->t->env.nodeid;
	return id;
}

/* Build the group once the node id and the start image are known; replay held requests. */
static void start_group(struct mlog *m)
{
	struct group_params p;
	struct mlog_pending *h;
	struct group_req req;
	int r;

	/*
	 * The transport is created here, right before the group, and never earlier: its first
	 * confchg is dispatched from the loop, so the group must exist before we return to it
	 * (a disk read in between would lose the confchg).
	 */
	if (!m->transport) {
		r = m->t->env.transport->create(m->t->env.transport_ctx, m->uuid, m, &m->transport);
		if (r) {
			qb_log(LOG_ERR, "log %s: cannot create its cluster transport: %s", m->uuid,
			       strerror(-r));
			m->transport = NULL;
			free(m->image);
			m->image = NULL;
			free(m->sync_image);
			m->sync_image = NULL;
			fail_list(m->t, &m->resumes, r);
			fail_list(m->t, &m->held, -ESRCH);
			set_state(m, MLOG_SUSPENDED, "no transport");
			return;
		}
	}
	memset(&p, 0, sizeof(p));
	snprintf(p.uuid, sizeof(p.uuid), "%s", m->uuid);
	p.type = m->args.disk ? GROUP_LOG_DISK : GROUP_LOG_CORE;
	p.region_count = m->args.region_count;
	p.sync_mode = m->ss_use_image && m->args.sync == RLOG_SYNC_FORCE ? RLOG_SYNC_DEFAULT
									 : m->args.sync;
	m->ss_use_image = false;
	p.block_size = m->disk ? disk_block_size(m->disk) : 512;
	p.my_nodeid = my_nodeid(m);
	if (!p.my_nodeid) {
		/* corosync unreachable: wait for mlog_transport_restored. */
		m->need_group = true;
		return;
	}
	m->need_group = false;
	r = group_create(&m->group, &p, &mlog_group_ops, m);
	if (r == 0)
		r = group_start(m->group, m->image, m->image_regions);
	if (r == 0 && m->sync_image)
		r = group_start_sync(m->group, m->sync_image, m->sync_image_regions);
	/*
	 * The group's clock starts at 0 until its first tick: writes before it would look 2 s
	 * idle at that tick (GROUP_AL_IDLE_MS) and their deferred clears leave at once.
	 */
	if (r == 0 && m->t->now_ms)
		group_tick(m->group, m->t->now_ms);
	free(m->image);
	m->image = NULL;
	m->image_regions = 0;
	free(m->sync_image);
	m->sync_image = NULL;
	m->sync_image_regions = 0;
	if (r) {
		qb_log(LOG_ERR, "log %s: cannot create its group: %s", m->uuid, strerror(-r));
		drop_group(m);
		fail_list(m->t, &m->resumes, r);
		fail_list(m->t, &m->held, -ESRCH);
		m->want_leave = true;
		m->t->reap_needed = true;
		set_state(m, MLOG_SUSPENDED, "group failed");
		return;
	}
	group_set_quorate(m->group, m->t->quorate);
	if (m->transport_down)
		group_transport_lost(m->group);
	set_state(m, MLOG_RESUMING, "group started");
	memset(&req, 0, sizeof(req));
	req.type = GROUP_REQ_RESUME;
	req.token = m->resume_token;
	group_request(m->group, &req);
	/* Requests that arrived while the disk was read, in arrival order. */
	while ((h = m->held) != NULL) {
		m->held = h->next;
		route_to_group(m, &h->msg);
		free(h);
	}
}

/* ---- sync state files (restart survival) --------------------------------------------------- */

/* Queue the replica's sync bitmap for this uuid's state file (written off the loop). */
static void persist_sync(struct mlog *m, const struct rlog *rl)
{
	char path[DISK_STATE_PATH_MAX];
	uint64_t n = rlog_region_count(rl);
	size_t bytes = (size_t)((n + 7) / 8);
	uint8_t *bits;

	if (!m->t->env.state_writer || !m->t->env.state_dir ||
	    disk_state_path(m->t->env.state_dir, m->uuid, path, sizeof(path)) != 0)
		return;
	/*
	 * The loop only copies the bitmap out (one pass, no per-region call); the writer
	 * thread encodes it (popcount, CRC) and writes it, so a 2^31-region log never stalls
	 * the loop here.
	 */
	bits = malloc(bytes ? bytes : 1);
	if (!bits)
		return;
	if (rlog_sync_bitmap_read(rl, 0, bits, bytes) != 0) {
		free(bits);
		return;
	}
	if (disk_state_submit_bits(m->t->env.state_writer, path, n, bits) == 0) {
		m->ss_count = rlog_sync_count(rl);
		m->ss_changing = false;
		qb_log(LOG_DEBUG, "log %s: sync state (%llu/%llu in sync) queued for %s", m->uuid,
		       (unsigned long long)m->ss_count, (unsigned long long)n, path);
	}
}

/*
 * Keep the state file close to the replica. A sync count that went DOWN (a region left sync:
 * a write error, a node's crash recovery) is written at once, because a stale file would call
 * that region in sync after a restart; one that reached region_count is written at once (the
 * state the kernel stops asking about); other increases are debounced: a lost increase only
 * costs a conservative answer.
 */
static void check_persist(struct mlog *m, uint64_t now_ms)
{
	struct group_status st;
	const struct rlog *rl;
	uint64_t c;

	if (!m->t->env.state_writer || !m->group || m->state != MLOG_RESUMED)
		return;
	group_get_status(m->group, &st);
	rl = group_rlog(m->group);
	if (!st.synced || st.settling || !rl)
		return;
	c = rlog_sync_count(rl);
	if (c == m->ss_count) {
		m->ss_changing = false;
		return;
	}
	if (m->ss_count == SS_NONE || c < m->ss_count || c == rlog_region_count(rl)) {
		persist_sync(m, rl);
		return;
	}
	if (!m->ss_changing) {
		m->ss_changing = true;
		m->ss_changed = now_ms;
	} else if (now_ms - m->ss_changed >= SS_DEBOUNCE_MS) {
		persist_sync(m, rl);
	}
}

/*
 * A RESUME after a reconnect CTR: the kernel outlived the previous daemon. Its mirror keeps
 * its own idea of what is in sync and (in_sync_hint == region_count once it was in sync)
 * never asks for resync work again until a real mirror resume. A master resume sets
 * sync := clean, so every region dirty on the log (written recently) would be reported out
 * of sync forever: the kernel writes those to the primary leg only and nothing resyncs them.
 * So the regions the state file records in sync are handed to the master resume as in sync
 * (group_start_sync), while the clean bits stay those of the log device's image:
 * sync := clean OR file, clean := disk (rlog_resume_master_sync).
 *
 * Such a region is dirty because the live kernel marked it for writes (or cleared it after
 * the old daemon's last commit): those writes go to every leg, and until the kernel CLEARs
 * the region (an unmarked region in sync then turns clean) a crash of this node resyncs it
 * at the next activation. The cost: a region the kernel had already cleared stays dirty
 * until the next activation resyncs it (bounded by the deferred clears and the writes in
 * flight across the restart). Only a master resume uses the images; a member that joins a
 * live group receives the replicated state instead.
 *
 * Without a valid file the behaviour stays conservative, with a warning.
 */
static void warn_no_sync_state(const struct mlog *m, int r, const char *why)
{
	qb_log(LOG_WARNING,
	       "log %s/%llx: reconnect after a daemon restart without a usable sync state file "
	       "(%s%s%s): dirty regions are out of sync and the kernel will not resync them "
	       "until the next mirror resume (suspend + resume the device)",
	       m->uuid, (unsigned long long)m->luid, r == -ENOENT ? "none: " : "", why,
	       r == -ESTALE ? ", ignored" : "");
}

static void resume_read_done(struct mlog *m, const char *why)
{
	set_state(m, MLOG_RESUMING, why);
	start_group(m);
	kick(m->t);
}

/* The state writer's thread has read the file (disk_state_load_submit). */
static void on_sync_state(void *ctx, int r, uint8_t *bits, const char *why)
{
	struct mlog *m = ctx;

	m->state_loading = false;
	if (m->state != MLOG_READING) {
		free(bits);
		return;
	}
	if (r) {
		warn_no_sync_state(m, r, why);
	} else {
		/*
		 * The file's in-sync regions stay in sync, but only the log device's image says
		 * which are clean: the live kernel may still write a region the file records in
		 * sync, so it must not read clean (a crash now must resync it). sync := clean OR
		 * file, clean := disk (rlog_resume_master_sync, at the group's start).
		 */
		free(m->sync_image);
		m->sync_image = bits;
		m->sync_image_regions = m->args.region_count;
		/* "sync" would force a full resync the live kernel never asks for: use the file. */
		m->ss_use_image = true;
		qb_log(LOG_NOTICE,
		       "log %s/%llx: reconnect after a daemon restart: sync state from its file "
		       "(%s); "
		       "regions dirty on the log but in sync there stay in sync (and dirty)",
		       m->uuid, (unsigned long long)m->luid, why);
	}
	resume_read_done(m, "sync state read");
}

/*
 * At a reconnect RESUME: queue the read of the state file on the state writer's thread (a
 * 2^31-region file is 256 MiB: never on the loop). true: the resume goes on in
 * on_sync_state; false: go on now (nothing to read, or conservative, with a warning).
 */
static bool load_persisted_sync(struct mlog *m)
{
	char path[DISK_STATE_PATH_MAX];
	int r;

	if (!m->reconnected)
		return false;
	m->reconnected = false;
	if (m->args.sync == RLOG_SYNC_NONE)
		return false; /* everything is in sync anyway */
	if (!m->t->env.state_dir || !m->t->env.state_writer ||
	    disk_state_path(m->t->env.state_dir, m->uuid, path, sizeof(path)) != 0) {
		warn_no_sync_state(m, -ENOENT,
				   m->t->env.state_writer ? "no state directory"
							  : "the state writer did not start");
		return false;
	}
	r = disk_state_load_submit(m->t->env.state_writer, path, m->args.region_count,
				   on_sync_state, m);
	if (r) {
		warn_no_sync_state(m, r, strerror(-r));
		return false;
	}
	m->state_loading = true;
	return true;
}

/* The device is gone (DTR of the last instance of its uuid): so is its state file. */
static void forget_sync_state(struct mlog_table *t, const struct mlog *m)
{
	char path[DISK_STATE_PATH_MAX];
	const struct mlog *o;

	if (!t->env.state_writer || !t->env.state_dir)
		return;
	for (o = t->list; o; o = o->next)
		if (o != m && strcmp(o->uuid, m->uuid) == 0)
			return;
	if (disk_state_path(t->env.state_dir, m->uuid, path, sizeof(path)) == 0)
		disk_state_submit(t->env.state_writer, path, NULL, 0);
}

/*
 * The first RESUME after the log device failed (this instance's, or a reloaded twin's): the
 * marks committed while the device failed never reached it, so the device may call their
 * regions clean. The mirror got -EIO for those FLUSHes, but a kernel without handle_errors
 * wrote the regions anyway. A region is clean only when the device AND the replica kept at
 * the suspend both say so: those regions resync after the repair.
 */
static void keep_failed_marks(struct mlog *m)
{
	struct mlog *o, *src = m->have_saved && m->saved_disk_failed ? m : NULL;
	uint64_t kept, n;

	for (o = m->t->list; !src && o; o = o->next)
		if (o != m && o->have_saved && o->saved_disk_failed && o->state == MLOG_SUSPENDED &&
		    strcmp(o->uuid, m->uuid) == 0)
			src = o;
	if (!src || !m->image)
		return; /* no image: every region is dirty anyway */
	n = m->image_regions < src->saved_regions ? m->image_regions : src->saved_regions;
	kept = rlog_image_intersect(m->image, src->saved_clean, n);
	qb_log(LOG_NOTICE,
	       "log %s/%llx: the log device had failed: %llu regions marked since are kept dirty",
	       m->uuid, (unsigned long long)m->luid, (unsigned long long)kept);
}

static void on_disk_read(void *ctx, const struct disk_read_result *res)
{
	struct mlog *m = ctx;
	uint64_t n = 0, bytes;

	if (m->state != MLOG_READING)
		return;
	if (res->error) {
		/*
		 * dm-log.c disk_resume: a failed read fails the log device ('D', a table event
		 * for the operator) and the log starts as a new one, every region out of sync
		 * (the bitmap is unknown). The resume itself succeeds; flushes work as long as
		 * the device takes writes.
		 */
		qb_log(LOG_ERR,
		       "log %s: log device %s unreadable (%s): starting a FRESH log, full resync; "
		       "log device failed (D)",
		       m->uuid, m->args.dev, strerror(-res->error));
		record(m->t, MLOG_REC_DISK, m->uuid,
		       "read of log device %s failed: %s: fresh log, full resync (D)", m->args.dev,
		       strerror(-res->error));
		m->disk_failed = true;
	} else if (res->decode_error) {
		qb_log(LOG_WARNING,
		       "log %s: log device %s has no valid header (%s): starting a FRESH log, "
		       "full resync",
		       m->uuid, m->args.dev, rlog_disk_strerror(res->decode_error));
	} else {
		n = res->nr_regions;
		bytes = (n + 7) / 8;
		m->image = malloc(bytes ? bytes : 1);
		if (!m->image) {
			qb_log(LOG_ERR, "log %s: no memory for the disk image: fresh log", m->uuid);
			n = 0;
		} else {
			memcpy(m->image, res->clean, bytes);
			qb_log(LOG_INFO, "log %s: read %llu regions from %s", m->uuid,
			       (unsigned long long)n, m->args.dev);
		}
	}
	m->image_regions = m->image ? n : 0;
	keep_failed_marks(m);
	if (load_persisted_sync(m))
		return; /* on_sync_state goes on */
	resume_read_done(m, "disk read");
}

/* The clean bits a core log starts from: its own at the last suspend, or a reloaded twin's. */
static void take_core_image(struct mlog *m)
{
	struct mlog *o, *src = m->have_saved ? m : NULL;
	uint64_t bytes;

	for (o = m->t->list; !src && o; o = o->next)
		if (o != m && o->have_saved && o->state == MLOG_SUSPENDED &&
		    strcmp(o->uuid, m->uuid) == 0)
			src = o;
	if (!src)
		return;
	bytes = (src->saved_regions + 7) / 8;
	m->image = malloc(bytes ? bytes : 1);
	if (!m->image)
		return;
	memcpy(m->image, src->saved_clean, bytes);
	m->image_regions = src->saved_regions;
	qb_log(LOG_INFO, "log %s/%llx: starting from the clean bits of %s/%llx (%llu regions)",
	       m->uuid, (unsigned long long)m->luid, src->uuid, (unsigned long long)src->luid,
	       (unsigned long long)src->saved_regions);
}

/*
 * A write-path request for an instance the kernel has post-suspended (kernel-protocol.md s7,
 * s9). With integrated_flush, userspace_dtr (and a flush_work racing postsuspend) runs a
 * pending delayed FLUSH - no payload - after POSTSUSPEND. -ESRCH here would be fatal: the
 * kernel would loop CTR + RESUME for the old luid of a reload, and that RESUME can never be
 * honoured while the new luid holds the group, so `dmsetup resume` hangs. So:
 *  - FLUSH without payload: 0. Every mark of this instance was committed before its
 *    POSTSUSPEND was answered (the group finishes the suspend only after the last commit);
 *  - CLEAR_REGION: 0. Clears are lazy; a dirty bit left on the log costs a resync, no data;
 *  - MARK_REGION, FLUSH with payload, SET_REGION_SYNC: cannot be sent by a 6.1 kernel after
 *    POSTSUSPEND (dm core drained every bio and mirror_presuspend stopped recovery before
 *    POSTSUSPEND; marks are queued only by writes). Should one arrive anyway we cannot make
 *    it durable (no group), so -EIO: the mirror records a log failure instead of writing
 *    regions it believes are marked, and no reconnect loop starts.
 */
static void do_after_postsuspend(struct mlog *m, const struct ulog_msg *msg)
{
	if ((msg->type == ULOG_FLUSH && msg->data_size == 0) || msg->type == ULOG_CLEAR_REGION) {
		qb_log(LOG_DEBUG, "log %s/%llx: %s after POSTSUSPEND: nothing to do", m->uuid,
		       (unsigned long long)m->luid, ulog_type_str(msg->type));
		queue_reply(m->t, msg, 0, NULL, 0);
		return;
	}
	qb_log(LOG_WARNING,
	       "log %s/%llx: %s after POSTSUSPEND (%u bytes): cannot be made durable: -EIO",
	       m->uuid, (unsigned long long)m->luid, ulog_type_str(msg->type), msg->data_size);
	queue_reply(m->t, msg, -EIO, NULL, 0);
}

static void do_resume(struct mlog *m, const struct ulog_msg *msg)
{
	struct mlog_table *t = m->t;
	int r;

	switch (m->state) {
	case MLOG_RESUMED:
		/* Duplicate RESUME (reconnect loops): success, no reload (cmirrord does the same). */
		m->presuspended = false;
		queue_reply(t, msg, 0, NULL, 0);
		return;
	case MLOG_READING:
	case MLOG_RESUMING:
		if (!park(&m->resumes, msg, 0))
			queue_reply(t, msg, -ENOMEM, NULL, 0);
		return;
	case MLOG_SUSPENDING:
		/* The group is still finishing the suspend: treat as a new resume after it. */
		break;
	case MLOG_CONSTRUCTED:
	case MLOG_SUSPENDED:
		break;
	}
	if (m->want_leave || m->group || m->transport) {
		/* Previous group of this instance still being torn down: finish it now. */
		fail_list(t, &m->waiting, -ESRCH);
		drop_group(m);
		drop_transport(m);
		m->want_leave = false;
	}
	if (!park(&m->resumes, msg, 0)) {
		queue_reply(t, msg, -ENOMEM, NULL, 0);
		return;
	}
	m->presuspended = false;
	m->postsuspended = false;
	m->disk_failed = false;
	m->resume_token = ++t->next_token;
	if (m->args.disk) {
		if (!m->disk && open_disk(m) != 0) {
			fail_list(t, &m->resumes, -EIO);
			return;
		}
		set_state(m, MLOG_READING, "RESUME");
		r = disk_read_log(m->disk, m->args.region_count, on_disk_read, m);
		if (r) {
			qb_log(LOG_ERR, "log %s: cannot queue the disk read: %s", m->uuid,
			       strerror(-r));
			set_state(m, MLOG_RESUMING, "disk read failed");
			start_group(m);
		}
		return;
	}
	take_core_image(m);
	if (load_persisted_sync(m)) {
		set_state(m, MLOG_READING, "RESUME: reading the sync state file");
		return; /* on_sync_state goes on */
	}
	set_state(m, MLOG_RESUMING, "RESUME");
	start_group(m);
}

/* ---- group glue -------------------------------------------------------------------------- */

static int g_send(void *ctx, const struct iovec *iov, unsigned int n_iov)
{
	struct mlog *m = ctx;

	if (!m->transport)
		return -ENOTCONN;
	return m->t->env.transport->send(m->transport, iov, n_iov);
}

static void g_reply(void *ctx, uint64_t token, const struct group_reply *r)
{
	struct mlog *m = ctx;
	struct mlog_table *t = m->t;
	struct mlog_pending *p;

	if (token == m->resume_token && m->resumes) {
		if (r->error == 0)
			set_state(m, MLOG_RESUMED, "group synced");
		else
			qb_log(LOG_ERR, "log %s: resume failed: %s", m->uuid, strerror(-r->error));
		fail_list(t, &m->resumes, r->error);
		return;
	}
	p = unpark(&m->waiting, token);
	if (!p) {
		qb_log(LOG_ERR, "log %s: group answered unknown token %llu", m->uuid,
		       (unsigned long long)token);
		return;
	}
	if (r->error) {
		queue_reply(t, &p->msg, r->error, NULL, 0);
	} else {
		switch (p->msg.type) {
		case ULOG_IS_CLEAN:
		case ULOG_IN_SYNC:
			/* dm_rh_get_state tests == 1: exactly 0 or 1 */
			reply_s64(t, &p->msg, r->value ? 1 : 0);
			break;
		case ULOG_GET_RESYNC_WORK:
			reply_pair(t, &p->msg, r->value ? 1 : 0, r->value ? r->value2 : 0);
			break;
		case ULOG_IS_REMOTE_RECOVERING:
			reply_pair(t, &p->msg, r->value ? 1 : 0, r->value2);
			break;
		case ULOG_GET_SYNC_COUNT:
			reply_u64(t, &p->msg, r->value2);
			break;
		default:
			queue_reply(t, &p->msg, 0, NULL, 0);
			break;
		}
	}
	if (p->msg.type == ULOG_POSTSUSPEND) {
		/* The group finished: leave at the next before-sleep phase (not from here). */
		m->want_leave = true;
		t->reap_needed = true;
	}
	free(p);
}

static void on_disk_written(void *ctx, uint64_t cookie, int error)
{
	struct mlog *m = ctx;

	if (error) {
		qb_log(LOG_ERR, "log %s: write to log device %s failed: %s", m->uuid, m->args.dev,
		       strerror(-error));
		record(m->t, MLOG_REC_DISK, m->uuid, "write to log device %s failed: %s",
		       m->args.dev, strerror(-error));
	} else
		qb_log(LOG_DEBUG, "log %s: disk write %llu durable", m->uuid,
		       (unsigned long long)cookie);
	if (m->group)
		group_disk_done(m->group, cookie, error);
	kick(m->t);
}

static int g_disk_write(void *ctx, uint64_t cookie, const uint8_t *buf, uint64_t off, size_t len)
{
	struct mlog *m = ctx;
	int r;

	if (!m->disk)
		return -ENODEV;
	r = disk_write(m->disk, cookie, buf, off, len, on_disk_written, m);
	qb_log(r ? LOG_ERR : LOG_DEBUG, "log %s: disk write %llu: %zu bytes at %llu: %s", m->uuid,
	       (unsigned long long)cookie, len, (unsigned long long)off,
	       r ? strerror(-r) : "queued");
	return r;
}

/* The summary of the rejected messages a window did not write, when it ends. */
static void bad_message_summary(struct mlog *m, uint64_t now_ms)
{
	if (now_ms - m->bad_window < BAD_LOG_WINDOW_MS)
		return;
	if (m->bad_suppressed) {
		qb_log(LOG_WARNING,
		       "log %s: rejected %u more messages (the last from node %llu) in %u s",
		       m->uuid, m->bad_suppressed, (unsigned long long)m->bad_last_node,
		       (unsigned int)((now_ms - m->bad_window) / 1000));
		record(m->t, MLOG_REC_ERROR, m->uuid, "rejected %u more messages (last node %llu)",
		       m->bad_suppressed, (unsigned long long)m->bad_last_node);
	}
	m->bad_window = now_ms;
	m->bad_lines = 0;
	m->bad_suppressed = 0;
}

/*
 * GROUP_EV_BAD_MESSAGE: one line per rejected message, but at most BAD_LOG_BURST per
 * BAD_LOG_WINDOW_MS; the rest are counted and summed up when the window ends (at the next
 * rejected message or tick after it). The group drops every such message either way.
 */
static void bad_message(struct mlog *m, uint64_t node)
{
	bad_message_summary(m, m->t->now_ms);
	m->bad_last_node = node;
	if (m->bad_lines >= BAD_LOG_BURST) {
		m->bad_suppressed++;
		return;
	}
	m->bad_lines++;
	qb_log(LOG_WARNING, "log %s: rejected a message from node %llu%s", m->uuid,
	       (unsigned long long)node,
	       m->bad_lines == BAD_LOG_BURST ? " (more are counted, not logged, for a while)" : "");
	record(m->t, MLOG_REC_ERROR, m->uuid, "rejected a message from node %llu",
	       (unsigned long long)node);
}

/* GROUP_EV_INCOMPATIBLE: loud, naming the node, what it sent and what we speak. */
static void log_incompatible(struct mlog *m, uint64_t arg)
{
	static const char *const why[] = {
		"?",
		"a message shorter than the header",
		"a message with foreign magic",
		"a protocol version we cannot speak",
		"a header naming another node",
		"another member excluded it",
		"a STATE that does not decode",
		"no STATE within GROUP_SILENT_MS of a barrier",
		"it could not apply an ordered change (out of memory): its replica differs",
	};
	unsigned int node = (unsigned int)(arg & 0xffffffffu);
	unsigned int ver = (unsigned int)(arg >> 32 & 0xffffu);
	unsigned int reason = (unsigned int)(arg >> 48 & 0xffu);
	const char *r = reason < sizeof(why) / sizeof(why[0]) ? why[reason] : why[0];
	char v[16] = "none";

	if (ver != 0xffffu)
		snprintf(v, sizeof(v), "%u", ver);
	qb_log(LOG_ERR,
	       "log %s: node %u is INCOMPATIBLE (%s; its header version %s, we speak %u..%u): "
	       "excluded from the barrier, the synced set and the writer choice until it leaves",
	       m->uuid, node, r, v, GROUP_PROTO_VERSION_MIN, GROUP_PROTO_VERSION_MAX);
	record(m->t, MLOG_REC_ERROR, m->uuid, "node %u incompatible (%s, version %s)", node, r, v);
}

static void g_event(void *ctx, enum group_event ev, uint64_t arg)
{
	struct mlog *m = ctx;

	switch (ev) {
	case GROUP_EV_SYNCED:
		qb_log(LOG_INFO, "log %s: synced", m->uuid);
		record(m->t, MLOG_REC_MEMBERSHIP, m->uuid, "synced");
		break;
	case GROUP_EV_MASTER:
		qb_log(LOG_INFO, "log %s: master resume", m->uuid);
		record(m->t, MLOG_REC_MEMBERSHIP, m->uuid, "master resume");
		break;
	case GROUP_EV_WRITER:
		qb_log(LOG_INFO, "log %s: disk writer is node %llu", m->uuid,
		       (unsigned long long)arg);
		record(m->t, MLOG_REC_MEMBERSHIP, m->uuid, "disk writer is node %llu",
		       (unsigned long long)arg);
		break;
	case GROUP_EV_BAD_MESSAGE:
		bad_message(m, arg);
		break;
	case GROUP_EV_DISK_FAILED:
		qb_log(LOG_ERR, "log %s: log device failed", m->uuid);
		record(m->t, MLOG_REC_DISK, m->uuid, "log device failed (D)");
		m->disk_failed = true;
		break;
	case GROUP_EV_NODE_LEFT:
		qb_log(LOG_NOTICE, "log %s: node %llu left", m->uuid, (unsigned long long)arg);
		record(m->t, MLOG_REC_MEMBERSHIP, m->uuid, "node %llu left",
		       (unsigned long long)arg);
		break;
	case GROUP_EV_NODE_JOINED:
		qb_log(LOG_NOTICE, "log %s: node %llu joined", m->uuid, (unsigned long long)arg);
		record(m->t, MLOG_REC_MEMBERSHIP, m->uuid, "node %llu joined",
		       (unsigned long long)arg);
		break;
	case GROUP_EV_STATE_DROPPED:
		qb_log(LOG_WARNING, "log %s: lost a merge, rejoining clean", m->uuid);
		record(m->t, MLOG_REC_ERROR, m->uuid, "lost a merge, rejoining clean");
		break;
	case GROUP_EV_INCOMPATIBLE:
		log_incompatible(m, arg);
		/*
		 * Ourselves (stuck for GROUP_SILENT_MS in a barrier, e.g. stopped or starved, or
		 * out of memory applying an ordered change, GROUP_INCOMPAT_LOCAL): an
		 * excluded member stays excluded until it leaves, so leave and join again as a new
		 * member, from the before-sleep phase (never inside the transport's callback).
		 */
		if (m->transport && (uint32_t)arg == m->t->env.transport->nodeid(m->transport))
			m->rejoin_wanted = true;
		break;
	}
}

static const struct group_ops mlog_group_ops = {
	.send = g_send,
	.reply = g_reply,
	.disk_write = g_disk_write,
	.event = g_event,
};

void mlog_transport_deliver(struct mlog *m, uint32_t nodeid, const void *buf, size_t len)
{
	if (m->group)
		group_deliver(m->group, nodeid, buf, len);
	kick(m->t);
}

void mlog_transport_confchg(struct mlog *m, const uint32_t *members, size_t n_members,
			    const uint32_t *left, size_t n_left, const uint32_t *joined,
			    size_t n_joined)
{
	/* group.h: quorum of a ring before its confchg (the two come over different IPCs). */
	if (m->t->env.sync_quorum)
		m->t->env.sync_quorum(m->t->env.sync_quorum_ctx);
	record(m->t, MLOG_REC_MEMBERSHIP, m->uuid, "confchg: %zu members, %zu left, %zu joined",
	       n_members, n_left, n_joined);
	if (m->group)
		group_confchg(m->group, members, n_members, left, n_left, joined, n_joined);
	kick(m->t);
}

void mlog_transport_lost(struct mlog *m)
{
	m->transport_down = true;
	if (m->group)
		group_transport_lost(m->group);
	kick(m->t);
}

void mlog_transport_restored(struct mlog *m)
{
	bool was_down = m->transport_down;

	m->transport_down = false;
	if (m->group && was_down)
		group_transport_restored(m->group);
	else if (m->need_group)
		start_group(m);
	kick(m->t);
}

void mlog_transport_retry(struct mlog *m)
{
	if (m->group)
		group_pump(m->group);
	kick(m->t);
}

void mlog_transport_left(struct mlog *m)
{
	m->transport_left = true;
	m->t->reap_needed = true;
	kick(m->t);
}

/* ---- request routing ---------------------------------------------------------------------- */

static bool region_ok(const struct mlog *m, uint64_t r)
{
	return r < m->args.region_count;
}

/* Hand a validated request to the group (or hold it until the group exists). */
static void route_to_group(struct mlog *m, const struct ulog_msg *msg)
{
	struct mlog_table *t = m->t;
	struct group_req req;
	struct mlog_pending *p;
	uint64_t v;

	if (!m->group) {
		if (!park(&m->held, msg, 0))
			queue_reply(t, msg, -ENOMEM, NULL, 0);
		return;
	}
	memset(&req, 0, sizeof(req));
	switch (msg->type) {
	case ULOG_IS_CLEAN:
		req.type = GROUP_REQ_IS_CLEAN;
		break;
	case ULOG_IN_SYNC:
		req.type = GROUP_REQ_IN_SYNC;
		break;
	case ULOG_FLUSH:
		req.type = GROUP_REQ_FLUSH;
		break;
	case ULOG_MARK_REGION:
		req.type = GROUP_REQ_MARK;
		break;
	case ULOG_CLEAR_REGION:
		req.type = GROUP_REQ_CLEAR;
		break;
	case ULOG_GET_RESYNC_WORK:
		req.type = GROUP_REQ_GET_RESYNC_WORK;
		break;
	case ULOG_SET_REGION_SYNC:
		req.type = GROUP_REQ_SET_REGION_SYNC;
		break;
	case ULOG_GET_SYNC_COUNT:
		req.type = GROUP_REQ_GET_SYNC_COUNT;
		break;
	case ULOG_IS_REMOTE_RECOVERING:
		req.type = GROUP_REQ_IS_REMOTE_RECOVERING;
		break;
	case ULOG_POSTSUSPEND:
		req.type = GROUP_REQ_POSTSUSPEND;
		break;
	default:
		queue_reply(t, msg, -EINVAL, NULL, 0);
		return;
	}
	switch (msg->type) {
	case ULOG_FLUSH:
	case ULOG_MARK_REGION:
	case ULOG_CLEAR_REGION:
		/* A FLUSH carrying regions is "mark these, then commit", whatever the table says. */
		req.n_regions = (uint32_t)ulog_get_regions(msg, req.regions, RLOG_MAX_BATCH);
		break;
	case ULOG_SET_REGION_SYNC:
		ulog_get_u64(msg, 0, &req.region);
		ulog_get_u64(msg, 1, &v);
		req.in_sync = v != 0;
		break;
	case ULOG_IS_CLEAN:
	case ULOG_IN_SYNC:
	case ULOG_IS_REMOTE_RECOVERING:
		ulog_get_u64(msg, 0, &req.region);
		break;
	default:
		break;
	}
	req.token = ++t->next_token;
	p = park(&m->waiting, msg, req.token);
	if (!p) {
		queue_reply(t, msg, -ENOMEM, NULL, 0);
		return;
	}
	group_request(m->group, &req);
}

/* -EINVAL unless every region the request names is below region_count. */
static int check_regions(const struct mlog *m, const struct ulog_msg *msg)
{
	uint64_t regions[RLOG_MAX_BATCH], v;
	size_t n, i;

	switch (msg->type) {
	case ULOG_FLUSH:
	case ULOG_MARK_REGION:
	case ULOG_CLEAR_REGION:
		if (msg->data_size % 8 || msg->data_size > RLOG_MAX_BATCH * 8)
			return -EINVAL;
		n = ulog_get_regions(msg, regions, RLOG_MAX_BATCH);
		for (i = 0; i < n; i++)
			if (!region_ok(m, regions[i]))
				return -EINVAL;
		return 0;
	case ULOG_IS_CLEAN:
	case ULOG_IN_SYNC:
	case ULOG_IS_REMOTE_RECOVERING:
	case ULOG_SET_REGION_SYNC:
		if (!ulog_get_u64(msg, 0, &v) || !region_ok(m, v))
			return -EINVAL;
		return 0;
	default:
		return 0;
	}
}

static uint64_t conservative_sync_count(const struct mlog *m)
{
	if (m->have_saved)
		return m->saved_sync_count;
	/* Before the first RESUME: == region_count would set ms->in_sync for good. */
	return m->args.sync == RLOG_SYNC_NONE ? m->args.region_count : 0;
}

/* 'D': this node's read failed at RESUME, or the group learned of a failed write (by a
 * DISK_FAILED message, or from the snapshot a joining node received). */
static bool mlog_disk_failed(const struct mlog *m)
{
	struct group_status st;

	if (m->disk_failed)
		return true;
	if (!m->group)
		return false;
	group_get_status(m->group, &st);
	return st.disk_failed;
}

static void do_status(struct mlog *m, const struct ulog_msg *msg)
{
	char buf[ULOG_CAP_STATUS];
	const char *majmin = NULL;
	int r;

	if (msg->type == ULOG_STATUS_TABLE) {
		r = ctr_status_table(&m->args, buf, sizeof(buf));
	} else {
		/* "maj:min" when the device is a block device; else (test files) the arg. */
		if (m->disk && disk_name(m->disk)[0] != '/')
			majmin = disk_name(m->disk);
		r = ctr_status_info(&m->args, majmin, mlog_disk_failed(m), buf, sizeof(buf));
	}
	if (r)
		queue_reply(m->t, msg, r, NULL, 0);
	else
		reply_str(m->t, msg, buf);
}

static void do_ctr(struct mlog_table *t, struct mlog *m, const struct ulog_msg *msg)
{
	struct ctr_args args;
	enum ctr_error why = CTR_OK;
	const char *name;
	int r;

	r = ctr_parse(msg->data, msg->data_size, &args, &why);
	if (r) {
		qb_log(LOG_ERR, "log %s: bad constructor \"%.*s\": %s", msg->uuid,
		       (int)msg->data_size, (const char *)msg->data, ctr_strerror(why));
		queue_reply(t, msg, r, NULL, 0);
		return;
	}
	if (m && m->state == MLOG_CONSTRUCTED && !args.reconnect &&
	    (args.disk != m->args.disk || args.region_count != m->args.region_count ||
	     args.region_size != m->args.region_size || strcmp(args.dev, m->args.dev) != 0)) {
		/* A reused luid (the kernel freed a context without DTR): replace it. */
		qb_log(LOG_NOTICE, "log %s/%llx: constructor replaces a never-resumed instance",
		       m->uuid, (unsigned long long)m->luid);
		unlink_instance(t, m);
		mlog_free(m, -ESRCH);
		m = NULL;
	}
	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m) {
			queue_reply(t, msg, -ENOMEM, NULL, 0);
			return;
		}
		m->t = t;
		snprintf(m->uuid, sizeof(m->uuid), "%s", msg->uuid);
		m->luid = msg->luid;
		m->args = args;
		m->state = MLOG_CONSTRUCTED;
		m->reconnected = args.reconnect;
		m->ss_count = SS_NONE;
		if (args.disk) {
			r = open_disk(m);
			if (r) {
				free(m);
				queue_reply(t, msg, r, NULL, 0);
				return;
			}
		}
		insert(t, m);
		qb_log(LOG_INFO, "log %s/%llx: constructed (%s, %llu regions of %llu sectors%s)",
		       m->uuid, (unsigned long long)m->luid,
		       args.disk ? "clustered-disk" : "clustered-core",
		       (unsigned long long)args.region_count, (unsigned long long)args.region_size,
		       args.sync == RLOG_SYNC_NONE    ? ", nosync"
		       : args.sync == RLOG_SYNC_FORCE ? ", sync"
						      : "");
	} else {
		qb_log(LOG_INFO, "log %s/%llx: %s constructor for a known instance: accepted",
		       m->uuid, (unsigned long long)m->luid,
		       args.reconnect ? "reconnect" : "repeated");
	}
	m->requests++;
	/*
	 * Device name only where the kernel has room for it: an initial CTR (no trailing NUL)
	 * of version >= 2. The reconnect CTR has capacity 0 (kernel-protocol.md s6).
	 */
	name = m->disk ? disk_name(m->disk) : NULL;
	if (name && !args.reconnect && ulog_reply_capacity(msg) > strlen(name))
		reply_str(t, msg, name);
	else
		queue_reply(t, msg, 0, NULL, 0);
}

static bool is_r_type(uint32_t type)
{
	switch (type) {
	case ULOG_IS_CLEAN:
	case ULOG_IN_SYNC:
	case ULOG_FLUSH:
	case ULOG_MARK_REGION:
	case ULOG_CLEAR_REGION:
	case ULOG_GET_RESYNC_WORK:
	case ULOG_SET_REGION_SYNC:
	case ULOG_GET_SYNC_COUNT:
	case ULOG_STATUS_INFO:
	case ULOG_IS_REMOTE_RECOVERING:
		return true;
	default:
		return false;
	}
}

void mlog_table_request(struct mlog_table *t, const struct ulog_msg *msg)
{
	struct mlog *m = find(t, msg->uuid, msg->luid);
	uint64_t v;
	int r;

	if (is_recorded_type(msg->type))
		record(t, MLOG_REC_REQUEST, msg->uuid, "%s seq %u luid %llx, %u bytes",
		       ulog_type_str(msg->type), msg->seq, (unsigned long long)msg->luid,
		       msg->data_size);
	if (msg->type == ULOG_CTR) {
		do_ctr(t, m, msg);
		return;
	}
	if (!m) {
		if (msg->type == ULOG_DTR) {
			queue_reply(t, msg, 0, NULL, 0);
			return;
		}
		/* Unknown log (e.g. we restarted): -ESRCH makes the kernel re-CTR + RESUME. */
		qb_log(is_r_type(msg->type) ? LOG_INFO : LOG_WARNING,
		       "log %s/%llx: %s for an unknown log: -ESRCH", msg->uuid,
		       (unsigned long long)msg->luid, ulog_type_str(msg->type));
		queue_reply(t, msg, -ESRCH, NULL, 0);
		return;
	}
	m->requests++;
	if (!is_recorded_type(msg->type))
		m->hot_requests++;
	r = check_regions(m, msg);
	if (r) {
		qb_log(LOG_WARNING, "log %s: %s with a region out of range (count %llu): -EINVAL",
		       m->uuid, ulog_type_str(msg->type), (unsigned long long)m->args.region_count);
		queue_reply(t, msg, r, NULL, 0);
		return;
	}
	switch (msg->type) {
	case ULOG_DTR:
		qb_log(LOG_INFO, "log %s/%llx: destroyed (state %s)", m->uuid,
		       (unsigned long long)m->luid, mlog_state_str(m->state));
		unlink_instance(t, m);
		forget_sync_state(t, m);
		mlog_free(m, -ESRCH);
		queue_reply(t, msg, 0, NULL, 0);
		return;
	case ULOG_GET_REGION_SIZE:
		reply_u64(t, msg, m->args.region_size);
		return;
	case ULOG_STATUS_INFO:
	case ULOG_STATUS_TABLE:
		do_status(m, msg);
		return;
	case ULOG_PRESUSPEND:
		/* Local flag only: MARK/CLEAR/FLUSH keep coming while I/O drains. */
		m->presuspended = true;
		if (m->group)
			group_presuspend(m->group);
		queue_reply(t, msg, 0, NULL, 0);
		return;
	case ULOG_POSTSUSPEND:
		m->postsuspended = true;
		if (m->state == MLOG_RESUMED && m->group) {
			set_state(m, MLOG_SUSPENDING, "POSTSUSPEND");
			route_to_group(m, msg);
			return;
		}
		if (m->state == MLOG_READING || m->state == MLOG_RESUMING) {
			/* Suspended before the resume finished: give the resume up. */
			cancel_sync_state_load(m);
			fail_list(t, &m->resumes, -EINTR);
			fail_list(t, &m->held, -ESRCH);
			m->want_leave = true;
			t->reap_needed = true;
			set_state(m, MLOG_SUSPENDED, "POSTSUSPEND during resume");
		}
		queue_reply(t, msg, 0, NULL, 0);
		return;
	case ULOG_RESUME:
		do_resume(m, msg);
		return;
	default:
		break;
	}
	if (m->state == MLOG_READING || m->state == MLOG_RESUMING || m->state == MLOG_RESUMED ||
	    m->state == MLOG_SUSPENDING) {
		if (m->group || m->state == MLOG_READING || m->need_group) {
			route_to_group(m, msg);
			return;
		}
	}
	/* Not resumed (constructed, or suspended): answer what is safe locally. */
	switch (msg->type) {
	case ULOG_GET_SYNC_COUNT:
		reply_u64(t, msg, conservative_sync_count(m));
		return;
	case ULOG_IN_SYNC:
	case ULOG_IS_CLEAN:
		/* Never an error for a known log; conservative without a replica. */
		reply_s64(t, msg, m->args.sync == RLOG_SYNC_NONE ? 1 : 0);
		return;
	case ULOG_GET_RESYNC_WORK:
		reply_pair(t, msg, 0, 0);
		return;
	case ULOG_IS_REMOTE_RECOVERING:
		ulog_get_u64(msg, 0, &v);
		reply_pair(t, msg, 0, conservative_sync_count(m) == m->args.region_count ? v : 0);
		return;
	default:
		break;
	}
	if (m->postsuspended) {
		do_after_postsuspend(m, msg);
		return;
	}
	switch (msg->type) {
	default:
		/*
		 * MARK/CLEAR/FLUSH/SET_REGION_SYNC for a log that is constructed but not resumed,
		 * or whose group failed under a resumed kernel: we cannot make them durable;
		 * -ESRCH makes the kernel re-CTR and RESUME (which this instance will answer:
		 * it is not post-suspended), then retry. This is how a concurrent kernel thread
		 * catches up when another one is in the middle of the reconnect CTR + RESUME.
		 */
		qb_log(LOG_WARNING, "log %s: %s while %s: -ESRCH", m->uuid,
		       ulog_type_str(msg->type), mlog_state_str(m->state));
		queue_reply(t, msg, -ESRCH, NULL, 0);
		return;
	}
}

/* ---- before-sleep, ticks, reaping ---------------------------------------------------------- */

/* Keep what a later RESUME (or a reloaded twin) starts from, then drop the group. */
static void save_and_drop_group(struct mlog *m)
{
	const struct rlog *rl;
	uint64_t bytes;

	if (!m->group)
		return;
	rl = group_rlog(m->group);
	if (rl) {
		struct group_status st;

		group_get_status(m->group, &st);
		if (st.synced && !st.settling)
			persist_sync(m, rl);
		bytes = (rlog_region_count(rl) + 7) / 8;
		free(m->saved_clean);
		m->saved_clean = malloc(bytes ? bytes : 1);
		if (m->saved_clean && rlog_disk_bitmap_read(rl, 0, m->saved_clean, bytes) == 0) {
			m->saved_disk_failed = m->disk_failed || st.disk_failed;
			m->saved_regions = rlog_region_count(rl);
			m->saved_sync_count = rlog_sync_count(rl);
			m->have_saved = true;
		} else {
			free(m->saved_clean);
			m->saved_clean = NULL;
			m->have_saved = false;
		}
	}
	drop_group(m);
}

/* Answer parked requests again from the instance's current (local) state. */
static void redispatch_list(struct mlog_table *t, struct mlog_pending **list)
{
	struct mlog_pending *p, *all = *list;

	*list = NULL;
	while ((p = all) != NULL) {
		all = p->next;
		mlog_table_request(t, &p->msg);
		free(p);
	}
}

static void reap(struct mlog_table *t)
{
	struct mlog *m;

	t->reap_needed = false;
	for (m = t->list; m; m = m->next) {
		if (m->want_leave) {
			m->want_leave = false;
			fail_list(t, &m->held, -ESRCH);
			save_and_drop_group(m);
			if (m->state == MLOG_SUSPENDING)
				set_state(m, MLOG_SUSPENDED, "group finished");
			/*
			 * Stragglers after the suspend finished (status-driven GET_SYNC_COUNT, a
			 * delayed FLUSH racing POSTSUSPEND): answered as a post-suspended
			 * instance answers them, never -ESRCH (see do_after_postsuspend).
			 */
			if (m->postsuspended && m->state == MLOG_SUSPENDED)
				redispatch_list(t, &m->waiting);
			fail_list(t, &m->waiting, -ESRCH);
			if (m->transport)
				t->env.transport->leave(m->transport);
		}
		if (m->transport_left)
			drop_transport(m);
	}
}

void mlog_table_pump(struct mlog_table *t)
{
	struct mlog *m;

	if (t->reap_needed)
		reap(t);
	for (m = t->list; m; m = m->next) {
		if (m->rejoin_wanted) {
			m->rejoin_wanted = false;
			if (m->transport && m->t->env.transport->rejoin) {
				qb_log(LOG_WARNING,
				       "log %s: this node was excluded from the log's group; "
				       "rejoining it as a new member",
				       m->uuid);
				record(t, MLOG_REC_ERROR, m->uuid, "excluded: rejoining the group");
				m->t->env.transport->rejoin(m->transport);
			}
		}
		if (m->group && group_wants_pump(m->group))
			group_pump(m->group);
	}
}

bool mlog_table_has_work(const struct mlog_table *t)
{
	const struct mlog *m;

	if (t->rq_head || t->reap_needed)
		return true;
	for (m = t->list; m; m = m->next)
		if (m->rejoin_wanted || (m->group && group_wants_pump(m->group)))
			return true;
	return false;
}

void mlog_table_tick(struct mlog_table *t, uint64_t now_ms)
{
	struct mlog *m;
	int err = 0;
	unsigned int failed;

	t->now_ms = now_ms;
	for (m = t->list; m; m = m->next) {
		if (m->group)
			group_tick(m->group, now_ms);
		check_persist(m, now_ms);
		if (m->bad_suppressed)
			bad_message_summary(m, now_ms);
	}
	if (t->env.state_writer) {
		failed = disk_state_take_errors(t->env.state_writer, &err);
		if (failed)
			qb_log(LOG_ERR,
			       "%u sync state file writes in %s failed (last: %s): a daemon "
			       "restart may not keep in-sync regions",
			       failed, t->env.state_dir, strerror(-err));
	}
}

void mlog_table_poll_disks(struct mlog_table *t)
{
	struct mlog *m, *next;

	for (m = t->list; m; m = next) {
		next = m->next;
		if (m->disk)
			disk_complete(m->disk);
	}
}

void mlog_table_set_quorate(struct mlog_table *t, bool quorate)
{
	struct mlog *m;

	t->quorate = quorate;
	for (m = t->list; m; m = m->next)
		if (m->group)
			group_set_quorate(m->group, quorate);
}

size_t mlog_table_count(const struct mlog_table *t)
{
	size_t n = 0;

	for (const struct mlog *m = t->list; m; m = m->next)
		n++;
	return n;
}

size_t mlog_table_active(const struct mlog_table *t)
{
	size_t n = 0;

	for (const struct mlog *m = t->list; m; m = m->next)
		if (m->state == MLOG_RESUMED || m->state == MLOG_RESUMING ||
		    m->state == MLOG_READING || m->state == MLOG_SUSPENDING)
			n++;
	return n;
}

void mlog_table_status_fill(const struct mlog_table *t,
			    void (*fn)(void *ctx, const struct mlog_info *info), void *ctx)
{
	const struct mlog *m;
	const struct mlog_pending *p;
	struct mlog_info *info = malloc(sizeof(*info));

	if (!info)
		return;
	for (m = t->list; m; m = m->next) {
		memset(info, 0, sizeof(*info));
		snprintf(info->uuid, sizeof(info->uuid), "%s", m->uuid);
		info->luid = m->luid;
		info->state = m->state;
		info->disk = m->args.disk;
		snprintf(info->dev, sizeof(info->dev), "%s", m->args.dev);
		info->region_size = m->args.region_size;
		info->region_count = m->args.region_count;
		info->presuspended = m->presuspended;
		info->disk_failed = m->disk_failed;
		info->requests = m->requests;
		info->hot_requests = m->hot_requests;
		for (p = m->waiting; p; p = p->next)
			info->outstanding++;
		for (p = m->held; p; p = p->next)
			info->outstanding++;
		if (m->group) {
			info->has_group = true;
			group_get_status(m->group, &info->group);
			info->sync_count =
				group_rlog(m->group) ? rlog_sync_count(group_rlog(m->group)) : 0;
			info->disk_failed = info->disk_failed || info->group.disk_failed;
			if (group_rlog(m->group)) {
				const struct rlog *rl = group_rlog(m->group);
				uint32_t k;

				info->has_digest = true;
				info->digest = rlog_digest(rl);
				info->recovering = rlog_assignment(rl, &info->recovering_region,
								   &info->recovering_node);
				for (k = 0; k < info->group.n_members && k < GROUP_MAX_MEMBERS;
				     k++) {
					uint32_t node = info->group.members[k];

					info->marks[k].node = node;
					info->marks[k].regions = rlog_node_mark_count(rl, node);
				}
				info->n_marks = k;
			}
		} else {
			info->sync_count = conservative_sync_count(m);
		}
		fn(ctx, info);
	}
	free(info);
}

int mlog_table_create(struct mlog_table **out, const struct mlog_env *env)
{
	struct mlog_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->env = *env;
	t->nodeid = env->nodeid;
	*out = t;
	return 0;
}

void mlog_table_destroy(struct mlog_table *t)
{
	struct mlog *m;

	if (!t)
		return;
	while ((m = t->list) != NULL) {
		t->list = m->next;
		/* Clean shutdown: the last sync state, for the kernel the next daemon will serve. */
		if (m->group && m->state == MLOG_RESUMED) {
			struct group_status st;

			group_get_status(m->group, &st);
			if (st.synced && !st.settling && group_rlog(m->group))
				persist_sync(m, group_rlog(m->group));
		}
		if (m->transport && !m->transport_left)
			t->env.transport->leave(m->transport);
		mlog_free(m, -ESRCH);
	}
	/* Replies still queued would answer requests of logs that are gone: drop them. */
	while (t->rq_head) {
		struct mlog_reply *r = t->rq_head;

		t->rq_head = r->next;
		free(r);
	}
	free(t);
}
