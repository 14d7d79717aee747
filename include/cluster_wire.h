/*
 * cluster_wire.h: the cluster message wire format (group protocol versions 1 and 2).
 *
 * Every message is one fixed little-endian header followed by a type-specific payload of
 * exactly mh_len bytes. The sizes below are the wire sizes; the structs are never cast onto
 * received bytes (cluster/msg.c decodes with include/wire.h), they only document the layout
 * and let _Static_assert pin the sizes.
 */
#ifndef CMLOG_INCLUDE_CLUSTER_WIRE_H
#define CMLOG_INCLUDE_CLUSTER_WIRE_H

#include <stdint.h>

#define CMSG_MAGIC 0x474C4D43u /* "CMLG" little-endian */

enum cmsg_type {
	CMSG_COMMIT = 1,      /**< marks + clears of one sender, one commit id */
	CMSG_RESYNC_REQ = 2,  /**< GET_RESYNC_WORK */
	CMSG_SET_SYNC = 3,    /**< SET_REGION_SYNC */
	CMSG_REMOTE_REC = 4,  /**< IS_REMOTE_RECOVERING */
	CMSG_DURABLE = 5,     /**< the writer made generation gen durable */
	CMSG_DISK_FAILED = 6, /**< the writer's write of generation gen failed */
	CMSG_STATE = 7,	      /**< membership barrier */
	CMSG_SNAP = 8,	      /**< one state-transfer chunk */
	CMSG_EXCLUDE = 9,     /**< members the sender excluded as incompatible (group.h) */
	CMSG_MARKS = 10,      /**< version 2: a member's kernel marks and recovery, before STATE */
	CMSG_TAKEOVER = 11,   /**< version 3: the preferred writer asks the writer to hand over */
	CMSG_HANDOVER = 12,   /**< version 3: the writer hands the disk log to another member */
	CMSG_TYPE_MAX = 12,
};
/** Highest type of protocol version 1 (a version-1 header with a higher type is rejected). */
#define CMSG_TYPE_MAX_V1 9u
/** Highest type of protocol version 2. */
#define CMSG_TYPE_MAX_V2 10u

/* Fixed header: magic, version, type, sender nodeid, sender seq, payload length. */
struct cmsg_wire_hdr {
	uint32_t mh_magic;
	uint16_t mh_version;
	uint16_t mh_type;
	uint32_t mh_nodeid;
	uint32_t mh_seq;
	uint32_t mh_len;
} __attribute__((packed));
#define CMSG_HDR_SIZE 20u
_Static_assert(sizeof(struct cmsg_wire_hdr) == CMSG_HDR_SIZE, "cluster header is 20 bytes");

/* COMMIT: commit_id, n_marks, n_clears, then n_marks + n_clears le64 regions. */
struct cmsg_wire_commit {
	uint64_t commit_id;
	uint32_t n_marks;
	uint32_t n_clears;
} __attribute__((packed));
#define CMSG_COMMIT_FIXED 16u
_Static_assert(sizeof(struct cmsg_wire_commit) == CMSG_COMMIT_FIXED, "commit fixed part");
/** Most regions (marks + clears) in one COMMIT: keeps a commit at 32 KiB + header. */
#define CMSG_COMMIT_MAX_REGIONS 4096u

/* RESYNC_REQ: the sender's request id. */
struct cmsg_wire_resync {
	uint64_t req_id;
} __attribute__((packed));
#define CMSG_RESYNC_SIZE 8u
_Static_assert(sizeof(struct cmsg_wire_resync) == CMSG_RESYNC_SIZE, "resync req");

/* SET_SYNC: request id, region, in_sync (0|1), 3 zero bytes. */
struct cmsg_wire_set_sync {
	uint64_t req_id;
	uint64_t region;
	uint8_t in_sync;
	uint8_t pad[3];
} __attribute__((packed));
#define CMSG_SET_SYNC_SIZE 20u
_Static_assert(sizeof(struct cmsg_wire_set_sync) == CMSG_SET_SYNC_SIZE, "set sync");

/* REMOTE_REC: request id, region. */
struct cmsg_wire_remote_rec {
	uint64_t req_id;
	uint64_t region;
} __attribute__((packed));
#define CMSG_REMOTE_REC_SIZE 16u
_Static_assert(sizeof(struct cmsg_wire_remote_rec) == CMSG_REMOTE_REC_SIZE, "remote rec");

/* DURABLE and DISK_FAILED: the commit generation. */
struct cmsg_wire_gen {
	uint64_t gen;
} __attribute__((packed));
#define CMSG_GEN_SIZE 8u
_Static_assert(sizeof(struct cmsg_wire_gen) == CMSG_GEN_SIZE, "gen");

/*
 * TAKEOVER and HANDOVER (version 3): a node id and 4 zero bytes. TAKEOVER names the writer the
 * sender asks to hand over; HANDOVER names the member the sending writer hands the log to
 * (cluster/group.h "Writer").
 */
struct cmsg_wire_writer {
	uint32_t node;
	uint8_t pad[4];
} __attribute__((packed));
#define CMSG_WRITER_SIZE 8u
_Static_assert(sizeof(struct cmsg_wire_writer) == CMSG_WRITER_SIZE, "writer");

/*
 * STATE: max_version, synced (0|1), quorate (0|1), 2 zero bytes, n_members, gen, digest,
 * epoch, then
 * n_members le32 node ids (sorted ascending, no duplicates).
 */
struct cmsg_wire_state {
	uint32_t max_version;
	uint8_t synced;
	uint8_t quorate;
	uint8_t pad[2];
	uint32_t n_members;
	uint64_t gen;
	uint64_t digest;
	uint64_t epoch;
} __attribute__((packed));
#define CMSG_STATE_FIXED 36u
_Static_assert(sizeof(struct cmsg_wire_state) == CMSG_STATE_FIXED, "state fixed part");
#define CMSG_STATE_MAX_MEMBERS 128u

/*
 * SNAP: round (the seq of the sender's STATE of the barrier), chunk index, last (0|1),
 * disk_failed (0|1), 2 zero bytes, the writer, the durable generation, n bytes, then n snapshot bytes.
 */
struct cmsg_wire_snap {
	uint32_t round;
	uint32_t index;
	uint8_t last;
	uint8_t disk_failed;
	uint8_t pad[2];
	uint32_t writer;
	uint64_t durable_gen;
	uint32_t n_bytes;
} __attribute__((packed));
#define CMSG_SNAP_FIXED 28u
_Static_assert(sizeof(struct cmsg_wire_snap) == CMSG_SNAP_FIXED, "snap fixed part");
/** Most snapshot bytes in one SNAP. */
#define CMSG_SNAP_MAX_BYTES (60u * 1024u)

/*
 * MARKS (protocol version 2 only): chunk index, last (0|1), has_rec (0|1), 2 zero bytes,
 * rec_region (0 when has_rec is 0), n_regions, then n_regions le64 regions, strictly
 * ascending. One member's list is sent as chunks 0..k (k last), right before its STATE.
 */
struct cmsg_wire_marks {
	uint32_t index;
	uint8_t last;
	uint8_t has_rec;
	uint8_t pad[2];
	uint64_t rec_region;
	uint32_t n_regions;
} __attribute__((packed));
#define CMSG_MARKS_FIXED 20u
_Static_assert(sizeof(struct cmsg_wire_marks) == CMSG_MARKS_FIXED, "marks fixed part");
/** Most regions in one MARKS chunk (32 KiB + header, as a full COMMIT). */
#define CMSG_MARKS_MAX_REGIONS 4096u

/*
 * EXCLUDE: flags, n_members, n_excluded, then n_members le32 node ids (the sender's current
 * member list, sorted ascending, no duplicates) and n_excluded le32 node ids (sorted
 * ascending, each one of the members). Without flags: the members the sender marked
 * incompatible, for members that joined after the message that marked them. With
 * CMSG_EXCLUDE_SILENT: members the sender's barrier waited on for GROUP_SILENT_MS; only those
 * that still sent no valid STATE since the confchg when it is delivered are marked.
 */
struct cmsg_wire_exclude {
	uint32_t flags;
	uint32_t n_members;
	uint32_t n_excluded;
} __attribute__((packed));
#define CMSG_EXCLUDE_FIXED  12u
#define CMSG_EXCLUDE_SILENT 1u /**< the only flag; other bits must be zero */
_Static_assert(sizeof(struct cmsg_wire_exclude) == CMSG_EXCLUDE_FIXED, "exclude fixed part");

/** Largest encoded message. */
#define CMSG_MAX_SIZE (CMSG_HDR_SIZE + CMSG_SNAP_FIXED + CMSG_SNAP_MAX_BYTES)
_Static_assert(CMSG_HDR_SIZE + CMSG_COMMIT_FIXED + 8u * CMSG_COMMIT_MAX_REGIONS <= CMSG_MAX_SIZE,
	       "a full commit fits");
_Static_assert(CMSG_HDR_SIZE + CMSG_MARKS_FIXED + 8u * CMSG_MARKS_MAX_REGIONS <= CMSG_MAX_SIZE,
	       "a full marks chunk fits");

#endif /* CMLOG_INCLUDE_CLUSTER_WIRE_H */
