/*
 * disk: clustered-disk log device I/O, off the event loop.
 *
 * Owns: the device fd, one worker pthread, its request queue and completion list, the
 * eventfd that wakes the loop, and the aligned I/O buffers; and the sync state files
 * (codec, atomic writes on their own worker thread: tmp, fsync, rename, directory fsync).
 *
 * Invariants:
 *  - the loop thread never does device I/O after disk_open (the worker does pread, pwrite,
 *    fdatasync); callbacks run on the loop thread only, from disk_complete();
 *  - a write is reported successful only after the full pwrite AND fdatasync succeeded
 *    (kernel-protocol.md s7: marks must be durable before the FLUSH reply); a short write is
 *    -EIO;
 *  - requests run in queue order (a later bitmap write never overtakes an earlier one);
 *  - buffers handed to the device are aligned to max(logical block size, page size) for
 *    O_DIRECT, and lengths/offsets are multiples of the logical block size.
 *  - an unreadable log or a bad header is reported, never fatal: the caller starts a fresh
 *    log with a full resync (dm-log.c disk_resume does the same).
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log/rlog.h"
#include "daemon/disk.h"
#include "wire.h"

enum disk_op { DISK_OP_READ, DISK_OP_WRITE };

struct disk_req {
	struct disk_req *next;
	enum disk_op op;
	uint64_t cookie;
	uint8_t *buf; /* aligned */
	uint64_t off;
	size_t len;
	uint64_t region_count; /* read */
	int error;
	disk_read_cb read_cb;
	disk_write_cb write_cb;
	void *ctx;
};

struct disk {
	int fd;
	int efd;
	char path[4096];
	char name[4096];
	uint32_t block_size;
	size_t align;
	uint64_t size;
	pthread_t thread;
	bool thread_running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	struct disk_req *q_head, *q_tail;	/* queued, worker takes from head */
	struct disk_req *done_head, *done_tail; /* finished, loop takes */
	size_t pending;
};

static void req_free(struct disk_req *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

static int do_pread_all(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, buf + done, len - done, (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

static int do_write(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	ssize_t n;

	do {
		n = pwrite(fd, buf, len, (off_t)off);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* O_DIRECT writes are all-or-nothing per block; a short write means the device
	 * ended or failed part-way: report it, never retry blindly. */
	if ((size_t)n != len)
		return -EIO;
	if (fdatasync(fd) != 0)
		return -errno;
	return 0;
}

static void *worker(void *arg)
{
	struct disk *d = arg;
	struct disk_req *r;
	uint64_t one = 1;

	for (;;) {
		pthread_mutex_lock(&d->lock);
		while (!d->stop && !d->q_head)
			pthread_cond_wait(&d->cond, &d->lock);
		if (d->stop) {
			pthread_mutex_unlock(&d->lock);
			break;
		}
		r = d->q_head;
		d->q_head = r->next;
		if (!d->q_head)
			d->q_tail = NULL;
		pthread_mutex_unlock(&d->lock);

		if (r->op == DISK_OP_READ)
			r->error = do_pread_all(d->fd, r->buf, r->len, r->off);
		else
			r->error = do_write(d->fd, r->buf, r->len, r->off);

		pthread_mutex_lock(&d->lock);
		r->next = NULL;
		if (d->done_tail)
			d->done_tail->next = r;
		else
			d->done_head = r;
		d->done_tail = r;
		pthread_mutex_unlock(&d->lock);
		if (write(d->efd, &one, sizeof(one)) < 0) {
			/* eventfd counter overflow is impossible at our rates; nothing to do */
		}
	}
	return NULL;
}

static void enqueue(struct disk *d, struct disk_req *r)
{
	pthread_mutex_lock(&d->lock);
	r->next = NULL;
	if (d->q_tail)
		d->q_tail->next = r;
	else
		d->q_head = r;
	d->q_tail = r;
	d->pending++;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

static int parse_devno(const char *spec, unsigned int *maj, unsigned int *min)
{
	char *end;
	unsigned long a, b;

	if (!isdigit((unsigned char)spec[0]))
		return -EINVAL;
	errno = 0;
	a = strtoul(spec, &end, 10);
	if (errno || *end != ':' || !isdigit((unsigned char)end[1]))
		return -EINVAL;
	b = strtoul(end + 1, &end, 10);
	if (errno || *end != '\0' || a > 0xfffff || b > 0xfffff)
		return -EINVAL;
	*maj = (unsigned int)a;
	*min = (unsigned int)b;
	return 0;
}

static int scan_dir(const char *dir, dev_t want, char *path, size_t cap)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	struct stat st;
	char p[4096];
	int r = -ENOENT;

	if (!dh)
		return -ENOENT;
	while ((de = readdir(dh)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= (int)sizeof(p))
			continue;
		if (stat(p, &st) != 0 || !S_ISBLK(st.st_mode) || st.st_rdev != want)
			continue;
		if (snprintf(path, cap, "%s", p) < (int)cap)
			r = 0;
		break;
	}
	closedir(dh);
	return r;
}

int disk_resolve_devno(const char *spec, char *path, size_t cap)
{
	unsigned int maj, min;
	char sys[128], line[512];
	struct stat st;
	FILE *f;
	int r;

	r = parse_devno(spec, &maj, &min);
	if (r)
		return r;
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/uevent", maj, min);
	f = fopen(sys, "re");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			size_t n = strcspn(line, "\n");

			line[n] = '\0';
			if (strncmp(line, "DEVNAME=", 8) != 0 || !line[8])
				continue;
			if (snprintf(path, cap, "/dev/%s", line + 8) >= (int)cap)
				break;
			if (stat(path, &st) == 0 && S_ISBLK(st.st_mode) &&
			    st.st_rdev == makedev(maj, min)) {
				fclose(f);
				return 0;
			}
			break;
		}
		fclose(f);
	}
	/* No udev-style name (or a stale one): find the node by device number. */
	if (scan_dir("/dev/mapper", makedev(maj, min), path, cap) == 0)
		return 0;
	return scan_dir("/dev", makedev(maj, min), path, cap);
}

int disk_open(struct disk **out, const char *spec, uint64_t region_count)
{
	struct disk *d;
	struct stat st;
	uint64_t need;
	int r, ssz;

	if (!spec || !spec[0] || region_count == 0)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fd = -1;
	d->efd = -1;
	if (spec[0] != '/' && parse_devno(spec, &(unsigned int){0}, &(unsigned int){0}) == 0) {
		r = disk_resolve_devno(spec, d->path, sizeof(d->path));
		if (r)
			goto err_free;
	} else if (snprintf(d->path, sizeof(d->path), "%s", spec) >= (int)sizeof(d->path)) {
		r = -ENAMETOOLONG;
		goto err_free;
	}
	if (stat(d->path, &st) != 0) {
		r = -errno;
		goto err_free;
	}
	if (S_ISBLK(st.st_mode)) {
		d->fd = open(d->path, O_RDWR | O_DIRECT | O_CLOEXEC);
		if (d->fd < 0) {
			r = -errno;
			goto err_free;
		}
		if (ioctl(d->fd, BLKSSZGET, &ssz) != 0 || ssz < 512) {
			r = -EIO;
			goto err_close;
		}
		d->block_size = (uint32_t)ssz;
		if (ioctl(d->fd, BLKGETSIZE64, &d->size) != 0) {
			r = -EIO;
			goto err_close;
		}
		snprintf(d->name, sizeof(d->name), "%u:%u", major(st.st_rdev), minor(st.st_rdev));
	} else if (S_ISREG(st.st_mode)) {
		d->fd = open(d->path, O_RDWR | O_DIRECT | O_CLOEXEC);
		if (d->fd < 0 && errno == EINVAL) /* tmpfs and friends: no O_DIRECT */
			d->fd = open(d->path, O_RDWR | O_CLOEXEC);
		if (d->fd < 0) {
			r = -errno;
			goto err_free;
		}
		d->block_size = 512;
		d->size = (uint64_t)st.st_size;
		snprintf(d->name, sizeof(d->name), "%s", d->path);
	} else {
		r = -ENOTBLK;
		goto err_free;
	}
	need = rlog_disk_size(region_count, d->block_size);
	if (d->size < need) {
		r = -ENOSPC;
		goto err_close;
	}
	d->align = d->block_size > 4096 ? d->block_size : 4096;
	d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->efd < 0) {
		r = -errno;
		goto err_close;
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	r = -pthread_create(&d->thread, NULL, worker, d);
	if (r)
		goto err_sync;
	d->thread_running = true;
	*out = d;
	return 0;
err_sync:
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	close(d->efd);
err_close:
	close(d->fd);
err_free:
	free(d);
	return r;
}

void disk_close(struct disk *d)
{
	struct disk_req *r, *n;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	if (d->thread_running)
		pthread_join(d->thread, NULL);
	for (r = d->q_head; r; r = n) {
		n = r->next;
		req_free(r);
	}
	for (r = d->done_head; r; r = n) {
		n = r->next;
		req_free(r);
	}
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	close(d->efd);
	close(d->fd);
	free(d);
}

const char *disk_name(const struct disk *d)
{
	return d->name;
}

const char *disk_path(const struct disk *d)
{
	return d->path;
}

uint32_t disk_block_size(const struct disk *d)
{
	return d->block_size;
}

uint64_t disk_size(const struct disk *d)
{
	return d->size;
}

int disk_event_fd(const struct disk *d)
{
	return d->efd;
}

size_t disk_pending(const struct disk *d)
{
	return d->pending;
}

static void complete_read(struct disk *d, struct disk_req *r)
{
	struct disk_read_result res;

	memset(&res, 0, sizeof(res));
	res.error = r->error;
	if (!r->error) {
		res.decode_error = rlog_disk_decode_header(r->buf, r->len, &res.nr_regions);
		if (res.decode_error == RLOG_DISK_OK) {
			res.clean = r->buf + RLOG_DISK_BITMAP_OFFSET;
			res.clean_len = r->len - RLOG_DISK_BITMAP_OFFSET;
			/* Never let a caller read past the buffer for a big on-disk count. */
			if (res.nr_regions > (uint64_t)res.clean_len * 8)
				res.nr_regions = (uint64_t)res.clean_len * 8;
		}
	}
	r->read_cb(r->ctx, &res);
}

void disk_complete(struct disk *d)
{
	struct disk_req *list, *r;
	uint64_t cnt;

	if (read(d->efd, &cnt, sizeof(cnt)) < 0) {
		/* EAGAIN: spurious wakeup; the list below is the truth either way */
	}
	pthread_mutex_lock(&d->lock);
	list = d->done_head;
	d->done_head = d->done_tail = NULL;
	pthread_mutex_unlock(&d->lock);
	while ((r = list) != NULL) {
		list = r->next;
		d->pending--;
		if (r->op == DISK_OP_READ)
			complete_read(d, r);
		else
			r->write_cb(r->ctx, r->cookie, r->error);
		req_free(r);
	}
}

static struct disk_req *req_new(struct disk *d, size_t len)
{
	struct disk_req *r = calloc(1, sizeof(*r));
	void *buf = NULL;

	if (!r)
		return NULL;
	if (posix_memalign(&buf, d->align, len ? len : d->align) != 0) {
		free(r);
		return NULL;
	}
	r->buf = buf;
	r->len = len;
	return r;
}

int disk_read_log(struct disk *d, uint64_t region_count, disk_read_cb cb, void *ctx)
{
	struct disk_req *r;
	uint64_t len = rlog_disk_size(region_count, d->block_size);

	if (len == 0 || len > d->size || len > SIZE_MAX)
		return -EINVAL;
	r = req_new(d, (size_t)len);
	if (!r)
		return -ENOMEM;
	memset(r->buf, 0, (size_t)len);
	r->op = DISK_OP_READ;
	r->off = 0;
	r->region_count = region_count;
	r->read_cb = cb;
	r->ctx = ctx;
	enqueue(d, r);
	return 0;
}

int disk_write(struct disk *d, uint64_t cookie, const uint8_t *buf, uint64_t off, size_t len,
	       disk_write_cb cb, void *ctx)
{
	struct disk_req *r;

	if (len == 0 || off % d->block_size || len % d->block_size)
		return -EINVAL;
	if (off > d->size || len > d->size - off)
		return -ENOSPC;
	r = req_new(d, len);
	if (!r)
		return -ENOMEM;
	/* Copy into an aligned buffer: the caller's memory need not suit O_DIRECT. */
	memcpy(r->buf, buf, len);
	r->op = DISK_OP_WRITE;
	r->cookie = cookie;
	r->off = off;
	r->write_cb = cb;
	r->ctx = ctx;
	enqueue(d, r);
	return 0;
}

/* ---- sync state files -------------------------------------------------------------------- */

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
	}
	return ~c;
}

int disk_state_path(const char *dir, const char *uuid, char *out, size_t cap)
{
	char clean[41];
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 */
	size_t i, n = 0;
	int len;

	for (i = 0; uuid[i]; i++) {
		h = (h ^ (uint8_t)uuid[i]) * 0x100000001b3ull;
		if (n < sizeof(clean) - 1)
			clean[n++] = (isalnum((unsigned char)uuid[i]) || uuid[i] == '-' ||
				      uuid[i] == '_' || uuid[i] == '.')
					     ? uuid[i]
					     : '_';
	}
	clean[n] = '\0';
	len = snprintf(out, cap, "%s/sync-%s-%016llx", dir, clean, (unsigned long long)h);
	return len < 0 || (size_t)len >= cap ? -ENAMETOOLONG : 0;
}

size_t disk_state_size(uint64_t region_count)
{
	return DISK_STATE_HDR + (size_t)((region_count + 7) / 8) + 4;
}

static uint64_t bits_popcount(const uint8_t *bits, uint64_t region_count)
{
	uint64_t i, n = 0;

	for (i = 0; i < region_count / 8; i++)
		n += (uint64_t)__builtin_popcount(bits[i]);
	for (i = region_count & ~UINT64_C(7); i < region_count; i++)
		n += (bits[i / 8] >> (i % 8)) & 1u;
	return n;
}

int disk_state_encode(uint64_t region_count, const uint8_t *sync_bits, uint8_t *buf, size_t cap)
{
	size_t bytes = (size_t)((region_count + 7) / 8);
	struct wire_wr w;
	uint8_t *bm;

	if (region_count == 0 || region_count > RLOG_MAX_REGIONS)
		return -EINVAL;
	wire_wr_init(&w, buf, cap);
	wire_put_bytes(&w, DISK_STATE_MAGIC, 8);
	wire_put_le32(&w, DISK_STATE_VERSION);
	wire_put_le32(&w, 0);
	wire_put_le64(&w, region_count);
	wire_put_le64(&w, bits_popcount(sync_bits, region_count));
	bm = wire_put_space(&w, bytes);
	if (!bm)
		return -ENOSPC;
	memcpy(bm, sync_bits, bytes);
	if (region_count % 8)
		bm[bytes - 1] &= (uint8_t)((1u << (region_count % 8)) - 1u);
	wire_put_le32(&w, crc32_ieee(buf, w.off));
	return w.err ? -ENOSPC : (int)w.off;
}

int disk_state_decode(const uint8_t *buf, size_t len, uint64_t region_count, uint8_t *bits,
		      size_t bits_len, char *why, size_t why_len)
{
	uint32_t version, flags, crc;
	uint64_t regions, count;
	const uint8_t *magic, *bm;
	size_t bytes;
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	magic = wire_get_bytes(&r, 8);
	if (!wire_get_le32(&r, &version) || !wire_get_le32(&r, &flags) ||
	    !wire_get_le64(&r, &regions) || !wire_get_le64(&r, &count) || !magic) {
		snprintf(why, why_len, "truncated header (%zu bytes)", len);
		return -EINVAL;
	}
	if (memcmp(magic, DISK_STATE_MAGIC, 8) != 0) {
		snprintf(why, why_len, "bad magic");
		return -EINVAL;
	}
	if (version != DISK_STATE_VERSION || flags != 0) {
		snprintf(why, why_len, "unknown version %u / flags %#x", version, flags);
		return -EINVAL;
	}
	if (regions == 0 || regions > RLOG_MAX_REGIONS) {
		snprintf(why, why_len, "bad region count %llu", (unsigned long long)regions);
		return -EINVAL;
	}
	bytes = (size_t)((regions + 7) / 8);
	if (len != disk_state_size(regions)) {
		snprintf(why, why_len, "truncated or oversized: %zu bytes, %zu expected", len,
			 disk_state_size(regions));
		return -EINVAL;
	}
	bm = wire_get_bytes(&r, bytes);
	if (!bm || !wire_get_le32(&r, &crc) || crc != crc32_ieee(buf, len - 4)) {
		snprintf(why, why_len, "bad checksum");
		return -EINVAL;
	}
	if ((regions % 8 && (bm[bytes - 1] >> (regions % 8))) ||
	    bits_popcount(bm, regions) != count) {
		snprintf(why, why_len, "inconsistent bitmap (padding or sync count)");
		return -EINVAL;
	}
	if (regions != region_count) {
		snprintf(why, why_len, "recorded for %llu regions, the log has %llu",
			 (unsigned long long)regions, (unsigned long long)region_count);
		return -ESTALE;
	}
	if (bits_len < bytes) {
		snprintf(why, why_len, "no room for the bitmap");
		return -ENOSPC;
	}
	memcpy(bits, bm, bytes);
	snprintf(why, why_len, "%llu of %llu regions in sync", (unsigned long long)count,
		 (unsigned long long)regions);
	return 0;
}

int disk_state_load(const char *path, uint64_t region_count, uint8_t *bits, size_t bits_len,
		    char *why, size_t why_len)
{
	size_t max = disk_state_size(region_count) + 1, got = 0;
	uint8_t *buf;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		snprintf(why, why_len, "%s", strerror(errno));
		return r;
	}
	buf = malloc(max);
	if (!buf) {
		close(fd);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	/* One byte more than a valid file: a longer file is rejected as oversized. */
	while (got < max) {
		n = read(fd, buf + got, max - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			snprintf(why, why_len, "read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	r = disk_state_decode(buf, got, region_count, bits, bits_len, why, why_len);
out:
	free(buf);
	close(fd);
	return r;
}

struct state_job {
	struct state_job *next;
	char path[DISK_STATE_PATH_MAX];
	uint8_t *buf; /* NULL (and no bits): unlink */
	size_t len;
	uint8_t *bits;	  /* or: a sync bitmap the worker encodes (popcount, CRC) off the loop */
	uint64_t regions; /* its region count */
	/* or a load (disk_state_load_submit): the result goes to the done list */
	bool load;
	disk_state_load_cb cb; /* NULL once cancelled */
	void *ctx;
	int result;
	char why[DISK_STATE_WHY_MAX];
};

struct disk_state_writer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct state_job *head;
	struct state_job *cur;	/* the job the worker runs (a load can be cancelled there) */
	struct state_job *done; /* finished loads, oldest first, for disk_state_complete */
	int efd;		/* signalled when a load is done */
	bool stop;
	unsigned int errors;
	int last_error;
};

static int fsync_dir_of(const char *path)
{
	char dir[DISK_STATE_PATH_MAX];
	char *slash;
	int fd, r = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		r = -errno;
	close(fd);
	return r;
}

static int state_write_file(const struct state_job *j)
{
	char tmp[DISK_STATE_PATH_MAX + 8];
	size_t off = 0;
	ssize_t n;
	int fd, r = 0;

	if (!j->buf) {
		if (unlink(j->path) != 0 && errno != ENOENT)
			return -errno;
		return fsync_dir_of(j->path);
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", j->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (off < j->len) {
		n = write(fd, j->buf + off, j->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	if (!r && fsync(fd) != 0)
		r = -errno;
	if (close(fd) != 0 && !r)
		r = -errno;
	if (!r && rename(tmp, j->path) != 0)
		r = -errno;
	if (r) {
		unlink(tmp);
		return r;
	}
	return fsync_dir_of(j->path);
}

/* Worker side of a load: read and decode the file into a fresh bitmap (j->bits). */
static void state_load_job(struct state_job *j)
{
	size_t bytes = (size_t)((j->regions + 7) / 8);

	j->bits = calloc(1, bytes + 1);
	if (!j->bits) {
		j->result = -ENOMEM;
		snprintf(j->why, sizeof(j->why), "out of memory");
		return;
	}
	j->result = disk_state_load(j->path, j->regions, j->bits, bytes, j->why, sizeof(j->why));
	if (j->result) {
		free(j->bits);
		j->bits = NULL;
	}
}

static void state_done(struct disk_state_writer *w, struct state_job *j)
{
	struct state_job **pp;
	uint64_t one = 1;

	j->next = NULL;
	for (pp = &w->done; *pp; pp = &(*pp)->next)
		;
	*pp = j;
	if (write(w->efd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow at our rates; the loop also drains at every tick */
	}
}

static void *state_worker(void *arg)
{
	struct disk_state_writer *w = arg;
	struct state_job *j;
	int r;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->stop && !w->head)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->head)
			break; /* stop, and everything queued is written */
		j = w->head;
		w->head = j->next;
		if (j->load) {
			w->cur = j;
			pthread_mutex_unlock(&w->lock);
			state_load_job(j);
			pthread_mutex_lock(&w->lock);
			w->cur = NULL;
			state_done(w, j);
			continue;
		}
		pthread_mutex_unlock(&w->lock);
		r = 0;
		if (j->bits) {
			/* encoding a 2^31-region bitmap takes long: here, never on the loop */
			size_t size = disk_state_size(j->regions);
			int len;

			j->buf = malloc(size);
			len = j->buf ? disk_state_encode(j->regions, j->bits, j->buf, size)
				     : -ENOMEM;
			if (len < 0)
				r = len;
			else
				j->len = (size_t)len;
		}
		if (!r)
			r = state_write_file(j);
		free(j->bits);
		free(j->buf);
		free(j);
		pthread_mutex_lock(&w->lock);
		if (r) {
			w->errors++;
			w->last_error = r;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int disk_state_writer_create(struct disk_state_writer **out)
{
	struct disk_state_writer *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		r = errno;
		free(w);
		return -r;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	r = pthread_create(&w->thread, NULL, state_worker, w);
	if (r) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		close(w->efd);
		free(w);
		return -r;
	}
	*out = w;
	return 0;
}

void disk_state_writer_destroy(struct disk_state_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	/* loads nobody collected: dropped without callbacks */
	while (w->done) {
		struct state_job *j = w->done;

		w->done = j->next;
		free(j->bits);
		free(j);
	}
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	close(w->efd);
	free(w);
}

static void state_queue(struct disk_state_writer *w, struct state_job *j)
{
	struct state_job **pp;

	pthread_mutex_lock(&w->lock);
	/*
	 * A queued, not yet started write of the same file is superseded: replace it in place.
	 * Loads are never replaced and replace nothing: one queued after a write reads it.
	 */
	for (pp = &w->head; *pp; pp = &(*pp)->next) {
		if (!j->load && !(*pp)->load && !strcmp((*pp)->path, j->path)) {
			j->next = (*pp)->next;
			free((*pp)->buf);
			free((*pp)->bits);
			free(*pp);
			*pp = j;
			goto queued;
		}
	}
	*pp = j;
queued:
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* A new job for @path, or NULL with *err set (-ENAMETOOLONG, -ENOMEM). */
static struct state_job *job_new(const char *path, int *err)
{
	struct state_job *j;

	if (strlen(path) >= DISK_STATE_PATH_MAX) {
		*err = -ENAMETOOLONG;
		return NULL;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		*err = -ENOMEM;
		return NULL;
	}
	snprintf(j->path, sizeof(j->path), "%s", path);
	return j;
}

int disk_state_submit(struct disk_state_writer *w, const char *path, const uint8_t *buf, size_t len)
{
	struct state_job *j;
	int err = 0;

	j = job_new(path, &err);
	if (!j)
		return err;
	if (buf) {
		j->buf = malloc(len ? len : 1);
		if (!j->buf) {
			free(j);
			return -ENOMEM;
		}
		memcpy(j->buf, buf, len);
		j->len = len;
	}
	state_queue(w, j);
	return 0;
}

int disk_state_submit_bits(struct disk_state_writer *w, const char *path, uint64_t region_count,
			   uint8_t *bits)
{
	struct state_job *j;
	int err = 0;

	if (!bits || region_count == 0 || region_count > RLOG_MAX_REGIONS) {
		free(bits);
		return -EINVAL;
	}
	j = job_new(path, &err);
	if (!j) {
		free(bits);
		return err;
	}
	j->bits = bits;
	j->regions = region_count;
	state_queue(w, j);
	return 0;
}

unsigned int disk_state_take_errors(struct disk_state_writer *w, int *last_error)
{
	unsigned int n;

	pthread_mutex_lock(&w->lock);
	n = w->errors;
	*last_error = w->last_error;
	w->errors = 0;
	pthread_mutex_unlock(&w->lock);
	return n;
}

int disk_state_event_fd(const struct disk_state_writer *w)
{
	return w->efd;
}

int disk_state_load_submit(struct disk_state_writer *w, const char *path, uint64_t region_count,
			   disk_state_load_cb cb, void *ctx)
{
	struct state_job *j;
	int err = 0;

	if (!cb || region_count == 0 || region_count > RLOG_MAX_REGIONS)
		return -EINVAL;
	j = job_new(path, &err);
	if (!j)
		return err;
	j->regions = region_count;
	j->load = true;
	j->cb = cb;
	j->ctx = ctx;
	state_queue(w, j);
	return 0;
}

void disk_state_load_cancel(struct disk_state_writer *w, const void *ctx)
{
	struct state_job *j;

	pthread_mutex_lock(&w->lock);
	for (j = w->head; j; j = j->next)
		if (j->load && j->ctx == ctx)
			j->cb = NULL;
	if (w->cur && w->cur->ctx == ctx)
		w->cur->cb = NULL;
	for (j = w->done; j; j = j->next)
		if (j->ctx == ctx)
			j->cb = NULL;
	pthread_mutex_unlock(&w->lock);
}

void disk_state_complete(struct disk_state_writer *w)
{
	disk_state_load_cb cb;
	struct state_job *j;
	uint64_t v;

	if (read(w->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing signalled; the list below is still checked */
	}
	/* One at a time: a callback may cancel the loads of another context (it frees a log). */
	for (;;) {
		pthread_mutex_lock(&w->lock);
		j = w->done;
		if (j) {
			w->done = j->next;
			cb = j->cb;
		}
		pthread_mutex_unlock(&w->lock);
		if (!j)
			return;
		if (cb) {
			cb(j->ctx, j->result, j->bits, j->why); /* the bitmap is the callee's now */
			j->bits = NULL;
		}
		free(j->bits);
		free(j);
	}
}
