/*
 * sim: an in-process simulated agreed-order transport for tests (tests/sim).
 *
 * N configured nodes, each with its own struct group for one mirror log and a record of
 * the requests its "kernel" sent. Every partition component has one agreed order (a FIFO of
 * messages delivered to all its members at once). Membership changes follow extended
 * virtual synchrony: before a confchg the messages already sent in the component are
 * delivered to every member that stays (a crashed node's undelivered messages are either
 * lost to everyone or delivered to everyone, by coin), then a left-only or joined-only
 * confchg. A partition side is quorate iff it holds a strict majority of the configured
 * nodes. One log device is modelled for clustered-disk logs: writes land after a random
 * delay and may be made to fail. Everything random comes from one seeded PRNG
 * (splitmix64), so a seed reproduces a run exactly.
 */
#ifndef CMLOG_CLUSTER_SIM_H
#define CMLOG_CLUSTER_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/group.h"

#define SIM_MAX_NODES 16u

struct sim;

/** Called on every reply (after it is recorded). */
typedef void (*sim_reply_fn)(void *arg, uint32_t node, const struct group_req *req,
			     const struct group_reply *r);

struct sim_params {
	unsigned n_nodes; /**< configured nodes, ids 1..n_nodes */
	enum group_log_type type;
	uint64_t region_count;
	enum rlog_sync_mode sync_mode;
	uint32_t block_size; /**< disk logs; 0 = 512 */
	uint64_t seed;
	unsigned eagain_pct;	 /**< chance (0..100) that a send is refused */
	unsigned disk_delay_max; /**< a write lands 1..max steps after it is issued */
	bool trace;		 /**< print confchgs and group events on stderr */
	uint32_t max_version[SIM_MAX_NODES + 1]; /**< per node (0 = default), test hook */
	const char *uuid;			 /**< the log's uuid (NULL: from region_count) */
	sim_reply_fn on_reply;
	void *arg;
};

struct sim_reply_rec {
	uint32_t node;
	struct group_req req;
	bool done;
	unsigned count; /**< replies received (must end up exactly 1) */
	struct group_reply r;
};

int sim_create(struct sim **out, const struct sim_params *p);
void sim_destroy(struct sim *s);

/** splitmix64 of the sim's seed. */
uint64_t sim_rand(struct sim *s);
/** Uniform in [0, n) (n > 0). */
uint64_t sim_below(struct sim *s, uint64_t n);

/** Start the log on @node (joins its component) and send RESUME. Returns the RESUME token. */
uint64_t sim_start(struct sim *s, uint32_t node);
/** Graceful leave: the daemon leaves the group (call after POSTSUSPEND was answered). */
void sim_leave(struct sim *s, uint32_t node);
/** Crash @node: its group and its kernel's outstanding requests vanish. */
void sim_crash(struct sim *s, uint32_t node);
/** Bring a crashed node back (in the first component) without starting the log. */
void sim_revive(struct sim *s, uint32_t node);
/** The local corosync of @node dies: the group holds everything; the others see it leave. */
void sim_disconnect(struct sim *s, uint32_t node);
/** Corosync is back on @node: it joins again (unsynced until the barrier). */
void sim_reconnect(struct sim *s, uint32_t node);
/** Split the nodes in @side away from the rest of their components. */
void sim_partition(struct sim *s, const uint32_t *side, size_t n);
/** Merge every component into one. */
void sim_heal(struct sim *s);

/** Send a kernel request on @node; returns its token (req->token is ignored). */
uint64_t sim_request(struct sim *s, uint32_t node, const struct group_req *req);
const struct sim_reply_rec *sim_reply(const struct sim *s, uint64_t token);
/** Deliver a raw message into @node's component as if @sender sent it. */
void sim_inject(struct sim *s, uint32_t node, uint32_t sender, const void *buf, size_t len);

/** One random action (deliver, complete a write, pump a node, tick). False when idle. */
bool sim_step(struct sim *s);
/** Pump every live node once. */
void sim_pump_all(struct sim *s);
/** Run until idle (time advances so deferred clears leave); false if @max_steps ran out. */
bool sim_settle(struct sim *s, unsigned max_steps);

void sim_set_eagain(struct sim *s, unsigned pct);
void sim_disk_fail(struct sim *s, bool fail);
const uint8_t *sim_disk_image(const struct sim *s, size_t *len);
/** Test setup: write @len bytes at @off of the log device directly. */
int sim_disk_poke(struct sim *s, uint64_t off, const void *buf, size_t len);

struct group *sim_group(const struct sim *s, uint32_t node);
bool sim_node_up(const struct sim *s, uint32_t node);
/** Component id of @node (nodes with the same id see each other). */
unsigned sim_component(const struct sim *s, uint32_t node);
unsigned sim_n_nodes(const struct sim *s);
/** Protocol errors the sim saw: double replies, replies to unknown tokens. */
unsigned sim_errors(const struct sim *s);
/** Total messages delivered (to anyone) and multicasts accepted. */
uint64_t sim_sent(const struct sim *s);

#endif /* CMLOG_CLUSTER_SIM_H */
