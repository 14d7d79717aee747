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

/*
 * Sync state files (daemon restart survival, man cmlogd.8). One small file per log uuid in
 * the daemon's state directory records which regions were in sync, so that a restarted
 * daemon answers a still-running kernel (reconnect CTR + RESUME) with the sync state the
 * kernel itself still believes (it never asks for resync work again until a mirror resume).
 *
 * Format (little-endian): "CMLOGSYN" magic, le32 version (1), le32 flags (0), le64 region
 * count, le64 sync count, the sync bitmap (ceil(regions/8) bytes, little-endian bit order,
 * padding bits zero), le32 CRC-32 (IEEE) of everything before it.
 */
#define DISK_STATE_MAGIC    "CMLOGSYN"
#define DISK_STATE_VERSION  1u
#define DISK_STATE_HDR	    32u
#define DISK_STATE_PATH_MAX 4096u

struct disk_state_writer;

/** "<dir>/sync-<sanitized uuid>-<hash>": distinct uuids never share a file. */
int disk_state_path(const char *dir, const char *uuid, char *out, size_t cap);

/** Encoded size for @region_count regions. */
size_t disk_state_size(uint64_t region_count);

/** Encode into @buf (@cap >= disk_state_size): returns the length, or -errno. */
int disk_state_encode(uint64_t region_count, const uint8_t *sync_bits, uint8_t *buf, size_t cap);

/**
 * Decode a whole file. @bits (@bits_len >= ceil(@region_count/8)) receives the bitmap.
 * 0 when valid for @region_count; -EINVAL (malformed, truncated, bad checksum or version),
 * -ESTALE (valid but for another region count); @why gets a one-line reason.
 */
int disk_state_decode(const uint8_t *buf, size_t len, uint64_t region_count, uint8_t *bits,
		      size_t bits_len, char *why, size_t why_len);

/**
 * Read and decode @path (synchronous: the state writer's worker runs it for
 * disk_state_load_submit; tools and tests may call it). -ENOENT when there is none.
 */
int disk_state_load(const char *path, uint64_t region_count, uint8_t *bits, size_t bits_len,
		    char *why, size_t why_len);

#define DISK_STATE_WHY_MAX 160u
/**
 * Result of a load: @error 0 with @bits (ceil(regions/8) bytes, ownership passed to the
 * callee), or -errno (-ENOENT: no file; -EINVAL, -ESTALE: see disk_state_decode) with @bits
 * NULL; @why is the one-line reason or summary, valid during the call.
 */
typedef void (*disk_state_load_cb)(void *ctx, int error, uint8_t *bits, const char *why);

/** One worker thread that writes state files atomically (tmp, fsync, rename, dir fsync). */
int disk_state_writer_create(struct disk_state_writer **out);
/** Writes everything still queued, then stops the thread. */
void disk_state_writer_destroy(struct disk_state_writer *w);
/**
 * Queue @buf (copied) for @path, replacing a write to the same path not yet started;
 * @buf NULL queues an unlink. Never blocks on I/O. 0 or -errno.
 */
int disk_state_submit(struct disk_state_writer *w, const char *path, const uint8_t *buf,
		      size_t len);
/**
 * Queue the sync bitmap @bits (ceil(@region_count/8) bytes, ownership taken, freed on every
 * path) for @path; the worker encodes it (disk_state_encode: popcount, CRC), so a 2^31-region
 * log costs the loop only the bitmap export. Replaces a queued write of the same path.
 */
int disk_state_submit_bits(struct disk_state_writer *w, const char *path, uint64_t region_count,
			   uint8_t *bits);
/** Writes that failed since the last call (and the last error), for the loop to report. */
unsigned int disk_state_take_errors(struct disk_state_writer *w, int *last_error);
/**
 * Queue a load of @path for @region_count regions on the writer's thread, after every write
 * queued before it (a reconnect RESUME reads a 2^31-region file off the loop). @cb runs from
 * disk_state_complete on the loop thread. 0 or -errno.
 */
int disk_state_load_submit(struct disk_state_writer *w, const char *path, uint64_t region_count,
			   disk_state_load_cb cb, void *ctx);
/** No callback will run for the loads of @ctx (queued, running or done). */
void disk_state_load_cancel(struct disk_state_writer *w, const void *ctx);
/** The fd the loop polls (POLLIN): a load is done. */
int disk_state_event_fd(const struct disk_state_writer *w);
/** Run the callbacks of finished loads (loop thread). */
void disk_state_complete(struct disk_state_writer *w);

#endif /* CMLOG_DAEMON_DISK_H */
