/*
 * msg: encode and validate cluster messages (include/cluster_wire.h) into host structs.
 *
 * The decoder checks everything before the group looks at a message: magic, a version in
 * the accepted range, a type known in that version (MARKS exists from version 2 on), mh_len equal to the bytes that follow, the exact payload
 * size for the type (every byte consumed), counts within limits, booleans 0|1, padding zero,
 * and the header's sender equal to the transport-delivered sender. A rejected message gets
 * a reason code and is never applied.
 */
#ifndef CMLOG_CLUSTER_MSG_H
#define CMLOG_CLUSTER_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster_wire.h"

enum cmsg_error {
	CMSG_OK = 0,
	CMSG_E_SHORT = -1,   /**< shorter than the header */
	CMSG_E_MAGIC = -2,   /**< wrong magic */
	CMSG_E_VERSION = -3, /**< version outside the accepted range */
	CMSG_E_TYPE = -4,    /**< unknown type */
	CMSG_E_LEN = -5,     /**< mh_len differs from the bytes after the header */
	CMSG_E_SENDER = -6,  /**< mh_nodeid differs from the delivered sender */
	CMSG_E_PAYLOAD = -7, /**< payload size wrong for the type (short or trailing bytes) */
	CMSG_E_COUNT = -8,   /**< a count over its limit */
	CMSG_E_VALUE = -9,   /**< a field with an invalid value (bool, padding, order) */
};

const char *cmsg_strerror(int err);

struct cmsg_commit {
	uint64_t commit_id;
	uint32_t n_marks, n_clears;
	uint64_t regions[CMSG_COMMIT_MAX_REGIONS]; /**< marks first, then clears */
};

struct cmsg_state {
	uint32_t max_version;
	bool synced;
	bool quorate;
	uint32_t n_members;
	uint64_t gen, digest, epoch;
	uint32_t members[CMSG_STATE_MAX_MEMBERS];
};

struct cmsg_exclude {
	uint32_t flags; /**< 0 or CMSG_EXCLUDE_SILENT */
	uint32_t n_members, n_excluded;
	uint32_t members[CMSG_STATE_MAX_MEMBERS];
	uint32_t excluded[CMSG_STATE_MAX_MEMBERS];
};

struct cmsg_snap {
	uint32_t round, index;
	bool last;
	bool disk_failed;
	uint32_t writer;
	uint64_t durable_gen;
	uint32_t n_bytes;
	const uint8_t *bytes; /**< borrowed from the decoded buffer */
};

/** MARKS (version 2): one chunk of a member's outstanding marks, and its kernel's recovery. */
struct cmsg_marks {
	uint32_t index;
	bool last;
	bool has_rec;
	uint64_t rec_region;
	uint32_t n_regions;
	uint64_t regions[CMSG_MARKS_MAX_REGIONS]; /**< strictly ascending */
};

/** A decoded message. Large (a full commit); keep one per group, not on the stack. */
struct cmsg {
	uint16_t version;
	uint16_t type; /**< enum cmsg_type */
	uint32_t nodeid;
	uint32_t seq;
	union {
		struct cmsg_commit commit;
		struct {
			uint64_t req_id;
			uint64_t region;
			bool in_sync;
		} req;		 /**< RESYNC_REQ (req_id), SET_SYNC, REMOTE_REC */
		uint64_t gen;	 /**< DURABLE, DISK_FAILED */
		uint32_t writer; /**< TAKEOVER: the writer asked; HANDOVER: the new writer */
		struct cmsg_state state;
		struct cmsg_snap snap;
		struct cmsg_marks marks;
		struct cmsg_exclude excl;
	} u;
};

/**
 * Decode @buf (@len bytes) delivered from @sender, accepting versions @ver_min..@ver_max.
 * Returns CMSG_OK or an enum cmsg_error; @m is meaningful only on CMSG_OK.
 */
int cmsg_decode(struct cmsg *m, const void *buf, size_t len, uint32_t sender, uint16_t ver_min,
		uint16_t ver_max);

/**
 * Encode @m into @buf (@cap bytes); *len is the size. Returns 0, -EINVAL (counts over limits,
 * unknown type) or -ENOSPC. For COMMIT and MARKS, @regions (if not NULL) replaces
 * m->u.commit.regions / m->u.marks.regions so callers need no full region array.
 */
int cmsg_encode(const struct cmsg *m, const uint64_t *regions, uint8_t *buf, size_t cap,
		size_t *len);

#endif /* CMLOG_CLUSTER_MSG_H */
