/*
 * ctr: the constructor string of a clustered mirror log and its status strings. Pure.
 *
 * The kernel sends "<target_len_sectors> <log args...>" (kernel-protocol.md s5); LVM's log
 * args are "clustered-core <region_size> [sync|nosync] [block_on_error]" or
 * "clustered-disk <dev path|maj:min> <region_size> [sync|nosync] [block_on_error]".
 */
#ifndef CMLOG_DAEMON_CTR_H
#define CMLOG_DAEMON_CTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/rlog.h"

#define CTR_DEV_MAX 128 /* DM_NAME_LEN, including the NUL: the kernel's CTR reply capacity */

struct ctr_args {
	uint64_t target_len;   /**< sectors, > 0 */
	bool disk;	       /**< clustered-disk (else clustered-core) */
	char dev[CTR_DEV_MAX]; /**< disk only: "/dev/..." or "maj:min" as given */
	uint64_t region_size;  /**< sectors: a power of two, 1 .. min(target_len, 2^31) */
	enum rlog_sync_mode sync;
	bool block_on_error;
	uint64_t region_count; /**< ceil(target_len / region_size), as the kernel computes */
	bool reconnect;	       /**< payload ended in NUL: the kernel's reconnect CTR */
};

enum ctr_error {
	CTR_OK = 0,
	CTR_E_EMPTY,		/**< no tokens */
	CTR_E_NUL,		/**< NUL byte inside the string */
	CTR_E_TARGET_LEN,	/**< target length not a decimal number in 1..2^64-1 */
	CTR_E_TYPE,		/**< missing or unknown log type */
	CTR_E_DEV,		/**< clustered-disk device missing, too long or not path/maj:min */
	CTR_E_REGION_SIZE,	/**< region size missing or not a decimal number */
	CTR_E_REGION_POW2,	/**< region size 0 or not a power of two */
	CTR_E_REGION_RANGE,	/**< region size above the target length or above 2^31 */
	CTR_E_TOO_MANY_REGIONS, /**< region count above RLOG_MAX_REGIONS */
	CTR_E_UNKNOWN_ARG,	/**< an argument that is not sync/nosync/block_on_error */
	CTR_E_DUPLICATE_ARG,	/**< the same option twice */
	CTR_E_SYNC_CONFLICT,	/**< both sync and nosync */
	CTR_E_COUNT
};

/** Human-readable text for an enum ctr_error. */
const char *ctr_strerror(enum ctr_error e);

/**
 * Parse a CTR payload of @len bytes (not necessarily NUL-terminated). A single trailing NUL
 * marks the reconnect CTR (args->reconnect). Tokens are separated by one or more spaces.
 * Returns 0, or -EINVAL (the error to send to the kernel) with *why set (why may be NULL).
 * *args is zeroed first and only meaningful on success.
 */
int ctr_parse(const void *payload, size_t len, struct ctr_args *args, enum ctr_error *why);

/** Parse "maj:min" (decimal, each < 2^32); returns 0 or -EINVAL. */
int ctr_parse_majmin(const char *s, uint32_t *maj, uint32_t *min);

/**
 * STATUS_TABLE text: "clustered-core <rs> [sync |nosync ][block_on_error ]" or
 * "clustered-disk <dev> <rs> [sync |nosync ][block_on_error ]" (cmirrord's format, note the
 * trailing space after each item). Returns 0 or -ENOSPC.
 */
int ctr_status_table(const struct ctr_args *args, char *buf, size_t len);

/**
 * STATUS_INFO text: "1 clustered-core" or "3 clustered-disk <maj:min> <A|D>" (A = alive,
 * D = @dev_failed). @majmin is the log device as "maj:min" (the daemon resolves a path with
 * stat); NULL uses args->dev. Returns 0 or -ENOSPC.
 */
int ctr_status_info(const struct ctr_args *args, const char *majmin, bool dev_failed, char *buf,
		    size_t len);

#endif /* CMLOG_DAEMON_CTR_H */
