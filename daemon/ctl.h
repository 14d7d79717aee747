/*
 * ctl.h: cmlogd's control socket server (libqb IPC), queried by cmlogctl(8).
 *
 * A self-contained module: the daemon fills a struct ctl_provider with callbacks that
 * describe its state into a json-c object, using the ctl_*_add/set builders below so the
 * JSON schema (documented in cmlogctl(8)) lives in one place. ctl owns the socket, the
 * peer credential check, request decoding, the envelope and the reply.
 *
 * Access: uid 0 always; members (primary or supplementary) of the configured read-only
 * group may run every query (all requests are read-only today); anyone else is refused
 * at connect with -EACCES, and the refusal is recorded in the flight recorder.
 */
#ifndef CMLOG_DAEMON_CTL_H
#define CMLOG_DAEMON_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <qb/qbloop.h>

struct flight;
struct ctl;
struct ctl_deferred;

struct ctl_cfg {
	const char *service;	    /**< libqb IPC name; NULL = CTL_DEFAULT_SERVICE ("cmlogd") */
	bool has_ro_group;	    /**< ro_gid is valid */
	gid_t ro_gid;		    /**< read-only query group (cmlogd.conf socket_group) */
	const char *daemon_version; /**< reported by `cmlogctl version` (PACKAGE_VERSION) */
	struct flight *flight;	    /**< optional: refused peers and bad requests go here */
};

/**
 * Callbacks the daemon provides. Each fills @out (the reply object; "api_version" and
 * "command" are already set) and returns 0 or -errno; -ENOENT from show means "no such
 * log" (cmlogctl exit 3). A NULL callback answers -EOPNOTSUPP. They run on the loop
 * thread, must not block, and must not keep @out.
 */
struct ctl_provider {
	/** status: ctl_status_set_daemon() once, ctl_status_add_log() per log instance. */
	int (*status)(void *ctx, struct json_object *out);
	/** status --cluster: ctl_cluster_add_node() per node (each a status object). */
	int (*cluster)(void *ctx, struct json_object *out);
	/** show UUID: ctl_show_set_log() for each instance with that uuid, else -ENOENT. */
	int (*show)(void *ctx, const char *uuid, struct json_object *out);
	/** members: ctl_members_set(). */
	int (*members)(void *ctx, struct json_object *out);
	/** dump: usually ctl_dump_flight() on the daemon's recorder. */
	int (*dump)(void *ctx, struct json_object *out);
	/**
	 * status --cluster, answered later (it needs the other nodes): return 0 and call
	 * ctl_deferred_finish(@d, ...) exactly once from the loop thread, or return -errno
	 * (then ctl answers the error and frees @d). Used instead of cluster when set.
	 */
	int (*cluster_async)(void *ctx, struct ctl_deferred *d);
};

/** The reply object of a deferred request ("api_version" and "command" already set). */
struct json_object *ctl_deferred_body(struct ctl_deferred *d);
/**
 * Send the deferred reply (@err 0: the body as filled; else an error reply) and free @d.
 * A client that went away meanwhile is simply not answered. Must be called before
 * ctl_close (which answers every still-deferred request with -ECANCELED and frees it).
 */
void ctl_deferred_finish(struct ctl_deferred *d, int err);

/**
 * Create the IPC service @cfg->service, hook it into @loop and start serving.
 * @p and @ctx must outlive the ctl. Only one loop per process may be used (libqb's
 * poll handlers carry no loop pointer). Returns 0, -EINVAL, -EBUSY (a ctl on another
 * loop exists), -EADDRINUSE (service name taken) or -ENOMEM.
 */
int ctl_open(struct ctl **out, qb_loop_t *loop, const struct ctl_cfg *cfg,
	     const struct ctl_provider *p, void *ctx);
/** Change the read-only group at run time (SIGHUP); applies to new connections. */
void ctl_set_ro_group(struct ctl *c, bool has_ro_group, gid_t ro_gid);
/** Stop serving, disconnect clients and free. NULL is fine. */
void ctl_close(struct ctl *c);

/* ---- schema builders (see cmlogctl(8), "JSON OUTPUT") ---- */

struct ctl_daemon_info {
	const char *version;
	pid_t pid;
	uint32_t node_id;
	uint64_t uptime_s;
	const char *log_level; /**< "err", "warning", "info", "debug" */
	bool corosync_connected;
	bool quorate;
	const char *ring_id;	   /**< "nodeid.seq" as corosync-quorumtool prints it, or NULL */
	uint32_t protocol_version; /**< daemon-wide negotiated version, 0 = none yet */
};

enum ctl_log_state {
	CTL_LOG_CONSTRUCTED = 0,
	CTL_LOG_JOINING,
	CTL_LOG_RESUMED,
	CTL_LOG_SUSPENDED,
};

enum ctl_disk_state {
	CTL_DISK_NONE = 0, /**< core log: no disk */
	CTL_DISK_ALIVE,	   /**< "A" as in dm status */
	CTL_DISK_DEAD,	   /**< "D": a disk write failed */
};

struct ctl_node_marks {
	uint32_t node_id;
	uint64_t regions; /**< rlog_node_mark_count() */
};

struct ctl_log_info {
	const char *uuid;
	uint64_t luid;
	bool disk;	       /**< "disk" (clustered-disk) or "core" */
	uint64_t region_size;  /**< bytes */
	uint64_t region_count; /**< rlog region count */
	uint64_t sync_count;   /**< rlog_sync_count() */
	bool recovering;       /**< a region is being recovered */
	uint64_t recovering_region;
	uint32_t recovering_node;
	enum ctl_log_state state;
	enum ctl_disk_state disk_state;
	uint32_t writer; /**< group_status.writer, 0 none */
	uint32_t protocol_version;
	uint64_t gen;
	uint64_t pending_requests;
	uint32_t n_members;
	const uint32_t *members;
	uint32_t n_marks;
	const struct ctl_node_marks *marks;
	bool has_digest;	    /**< digest is valid (the replica exists) */
	uint64_t digest;	    /**< rlog_digest() of the replica: "digest" as 16 hex digits */
	uint64_t commits_sent;	    /**< group_status.commits_sent */
	uint64_t rejected_messages; /**< group_status.bad_messages: cluster messages rejected */
	bool synced;		    /**< group_status.synced */
	uint64_t requests;	    /**< kernel requests handled for this instance */
	uint64_t hot_requests;	    /**< of which hot-path ones (not in the flight recorder) */
};

struct ctl_member {
	uint32_t node_id;
	bool local;
	uint32_t protocol_max; /**< highest protocol version the node advertises */
	uint32_t n_logs;       /**< logs the node has joined */
};

/** Set out.daemon and out.corosync from @d. Returns 0 or -ENOMEM. */
int ctl_status_set_daemon(struct json_object *out, const struct ctl_daemon_info *d);
/** Append @l to out.logs (created on first use). Returns 0 or -ENOMEM/-EINVAL. */
int ctl_status_add_log(struct json_object *out, const struct ctl_log_info *l);
/** show: append @l to out.logs (one entry per luid with that uuid). */
int ctl_show_set_log(struct json_object *out, const struct ctl_log_info *l);
/** Set out.protocol_version, out.quorate and out.members[] from @n members. */
int ctl_members_set(struct json_object *out, uint32_t protocol_version, bool quorate,
		    const struct ctl_member *m, uint32_t n);
/**
 * Append a node to out.nodes: {node_id, reachable, error, status}. @status (a status
 * object, may be NULL when unreachable) is taken over; @error may be NULL.
 */
int ctl_cluster_add_node(struct json_object *out, uint32_t node_id, bool reachable,
			 const char *error, struct json_object *status);
/** Fill out.capacity, out.dropped and out.events[] (oldest first) from @f. */
int ctl_dump_flight(struct json_object *out, const struct flight *f);

const char *ctl_log_state_str(enum ctl_log_state s);

#endif /* CMLOG_DAEMON_CTL_H */
