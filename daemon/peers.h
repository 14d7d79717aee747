/*
 * peers: the daemon-wide CPG group "cmlog!daemon" that every cmlogd joins at start, for
 * operator queries across nodes (`cmlogctl status --cluster`, `cmlogctl members`).
 *
 * Mechanism (include/peers_wire.h has the format): after every membership change each
 * daemon multicasts ANNOUNCE{protocol_max, n_logs}. A cluster query multicasts QUERY{id};
 * every daemon, the asker included, answers with REPLY{id, its status JSON}; the asker
 * collects the replies of every member of the daemon group as it was when the query was
 * sent, and completes when all answered or after PEERS_QUERY_TIMEOUT_MS (members that did
 * not answer, or left meanwhile, are reported as unanswered). Nothing blocks the loop: the
 * completion is a callback. The group carries no log state, so it cannot disturb a log.
 */
#ifndef CMLOG_DAEMON_PEERS_H
#define CMLOG_DAEMON_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <qb/qbloop.h>

/**
 * The uuid-part of the daemon group's CPG name: "cmlog:" + this. A mirror log whose dm uuid
 * is literally "daemon" would share the name; dm uuids of LVM start with "LVM-".
 */
#define PEERS_QUERY_TIMEOUT_MS 2000u
/** Most members tracked (CPG_MEMBERS_MAX). */
#define PEERS_MAX_MEMBERS 128u

struct peers;

struct peers_ops {
	/** This node's status object (a new reference), or NULL on no memory. */
	struct json_object *(*local_status)(void *ctx);
	/** Number of local log instances (for ANNOUNCE). */
	uint32_t (*n_logs)(void *ctx);
	/** The daemon group's membership changed (flight recorder, logging). May be NULL. */
	void (*membership)(void *ctx, const uint32_t *members, size_t n, const uint32_t *left,
			   size_t n_left, const uint32_t *joined, size_t n_joined);
};

/** One node's part of a cluster query result. */
struct peers_answer {
	uint32_t node_id;
	bool answered;
	struct json_object *status; /**< owned by the receiver of the callback; NULL if none */
	const char *error;	    /**< why not answered (or "status too large"), else NULL */
};

/**
 * Called once per query with the answers sorted by node id; @err is 0, or -ECANCELED when
 * the peers module is destroyed first. The receiver takes over every answer's status.
 */
typedef void (*peers_done_fn)(void *ctx, int err, struct peers_answer *a, size_t n);

/** Create and start joining the daemon group (retried in the background). */
int peers_create(struct peers **out, qb_loop_t *loop, const struct peers_ops *ops, void *ctx);
/** Leave, cancel pending queries (their callbacks run with -ECANCELED) and free. */
void peers_destroy(struct peers *p);

/**
 * Start a cluster query. Returns 0 (@done follows, possibly before this returns when the
 * daemon group is not joined: then only the local node answers) or -ENOMEM.
 */
int peers_query(struct peers *p, peers_done_fn done, void *ctx);

/** Tell the others our log count changed (a new ANNOUNCE). */
void peers_announce(struct peers *p);

struct peers_member {
	uint32_t node_id;
	bool announced;
	uint32_t protocol_max;
	uint32_t n_logs;
};

/** Current members of the daemon group (sorted by node id); returns how many (<= cap). */
size_t peers_members(const struct peers *p, struct peers_member *out, size_t cap);
/** True while joined; local node id (0 until known). */
bool peers_is_up(const struct peers *p);
/** The daemon group's current totem ring ("nodeid.seq"); false when not connected. */
bool peers_ring(const struct peers *p, uint32_t *nodeid, uint64_t *seq);
uint32_t peers_local_nodeid(const struct peers *p);

#endif /* CMLOG_DAEMON_PEERS_H */
