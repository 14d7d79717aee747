/*
 * disk: the clustered-disk log device, with its I/O on a worker thread.
 *
 * One struct disk per opened log device instance. The loop thread queues reads and writes;
 * one pthread per device performs them (pread; pwrite + fdatasync) and signals completions
 * through an eventfd that the loop polls; disk_complete() then runs the callbacks on the loop
 * thread. Nothing here blocks the loop except disk_open (open + ioctls at CTR time) and
 * disk_close (joins the worker, which may wait for one I/O in flight).
 */
#ifndef CMLOG_DAEMON_DISK_H
#define CMLOG_DAEMON_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct disk;

/** Result of reading the log header and bitmap (valid only during the callback). */
struct disk_read_result {
	int error;	      /**< 0, or -errno of the read: then the log is fresh */
	int decode_error;     /**< RLOG_DISK_OK or an enum rlog_disk_error (then fresh) */
	uint64_t nr_regions;  /**< on-disk region count when error == decode_error == 0 */
	const uint8_t *clean; /**< clean bitmap (little-endian bits) when valid, else NULL */
	size_t clean_len;     /**< bytes readable at @clean */
};

typedef void (*disk_read_cb)(void *ctx, const struct disk_read_result *r);
typedef void (*disk_write_cb)(void *ctx, uint64_t cookie, int error);

/**
 * Open the log device @spec: a path, or "maj:min" (resolved through
 * /sys/dev/block/MAJ:MIN/uevent DEVNAME, else by scanning /dev and /dev/mapper for a block
 * device with that st_rdev). Block devices are opened O_RDWR|O_DIRECT; regular files (for
 * tests) with O_DIRECT when the file system supports it. Checks that the device holds
 * rlog_disk_size(@region_count, block size) bytes (-ENOSPC otherwise) and starts the worker.
 * Returns 0 or -errno; *out is owned by the caller (disk_close).
 */
int disk_open(struct disk **out, const char *spec, uint64_t region_count);

/** Stop the worker (after the I/O in flight), drop queued requests without callbacks, close. */
void disk_close(struct disk *d);

/** The device as the kernel should name it: "maj:min" for a block device, else the path. */
const char *disk_name(const struct disk *d);
/** Path that was opened. */
const char *disk_path(const struct disk *d);
/** Logical block size (BLKSSZGET; 512 for regular files). */
uint32_t disk_block_size(const struct disk *d);
/** Bytes the device holds. */
uint64_t disk_size(const struct disk *d);

/** The fd the loop polls (POLLIN) to learn about completions. */
int disk_event_fd(const struct disk *d);
/** Run the callbacks of finished requests (loop thread). */
void disk_complete(struct disk *d);

/**
 * Queue a read of the header and whole bitmap for @region_count regions; @cb runs from
 * disk_complete. Returns 0 or -ENOMEM.
 */
int disk_read_log(struct disk *d, uint64_t region_count, disk_read_cb cb, void *ctx);

/**
 * Queue a write of @len bytes at @off followed by fdatasync; @buf is copied, so it may be
 * reused at once. @off and @len must be multiples of the block size (-EINVAL). A short
 * write is -EIO. @cb runs from disk_complete with @cookie.
 */
int disk_write(struct disk *d, uint64_t cookie, const uint8_t *buf, uint64_t off, size_t len,
	       disk_write_cb cb, void *ctx);

/** Number of queued or running requests. */
size_t disk_pending(const struct disk *d);

/**
 * Resolve "maj:min" to a device path (into @path, @cap bytes). 0, -ENOENT or -EINVAL.
 * Exposed for tests.
 */
int disk_resolve_devno(const char *spec, char *path, size_t cap);

#endif /* CMLOG_DAEMON_DISK_H */
