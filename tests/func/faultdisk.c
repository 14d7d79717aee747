/*
 * faultdisk: an LD_PRELOAD shim that makes cmlogd's log device, or its sync state files,
 * fail on demand, for the functional tests of the disk-error paths
 * (tests/func/test_single_diskfault.sh, tests/func/test_cluster_diskfault.sh,
 * tests/func/test_single_statefault.sh).
 *
 *   LD_PRELOAD=tests/func/faultdisk.so CMLOG_FAULT_PATH=<device or file>
 *   CMLOG_FAULT_CTL=<control file> cmlogd ...
 *   LD_PRELOAD=tests/func/faultdisk.so CMLOG_FAULT_STATE_DIR=<state directory>
 *   CMLOG_FAULT_CTL=<control file> cmlogd ...
 *
 * With CMLOG_FAULT_STATE_DIR the targets are the sync state files in that directory (names
 * "sync-*", the temporary "*.tmp" included) and the shim also wraps write and read, which the
 * state writer uses (without it those two pass straight through).
 *
 * Owns: nothing but its interposed calls. It wraps the calls daemon/disk.c makes on the log
 * device (pread, pwrite, fdatasync: the worker thread, O_DIRECT) and their aliases a build
 * may bind to instead (pread64, __pread_chk, __pread64_chk, pwrite64, pwritev, pwritev64,
 * fsync). A call is faulted only when its fd names CMLOG_FAULT_PATH (readlink of
 * /proc/self/fd/N, resolved at every call, so a reused fd number is never misjudged); the
 * mode is read from CMLOG_FAULT_CTL at every call, so a test switches faults while the daemon
 * runs. Modes (first word of the file; missing or unreadable file = ok):
 *   ok           transparent: every call goes to libc unchanged
 *   eio-write    writes fail with EIO, nothing written
 *   short-write  writes write half of the request (whole 512-byte blocks) and return that
 *   enospc       writes fail with ENOSPC, nothing written
 *   eio-sync     writes succeed, fdatasync/fsync fail with EIO
 *   eio-read     reads fail with EIO
 *   short-read   the device seems to end after its first 512 bytes (reads past it return 0)
 * Every injected fault is reported on stderr ("faultdisk: ...") so a test can show that the
 * fault really happened.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum fd_mode {
	FD_OK,
	FD_EIO_WRITE,
	FD_SHORT_WRITE,
	FD_ENOSPC,
	FD_EIO_SYNC,
	FD_EIO_READ,
	FD_SHORT_READ
};

#define FD_SHORT_END 512 /* short-read: where the device seems to end */

/* The fortified entry points: no header declares them in this (unfortified) build. */
ssize_t __pread_chk(int fd, void *buf, size_t len, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t len, off_t off, size_t buflen);

typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);
typedef int (*sync_fn)(int);

static void *real(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (!p) {
		fprintf(stderr, "faultdisk: %s not found in libc\n", name);
		abort();
	}
	return p;
}

/* Is @path a sync state file in CMLOG_FAULT_STATE_DIR? */
static int is_state_file(const char *path)
{
	const char *dir = getenv("CMLOG_FAULT_STATE_DIR");
	char canon[PATH_MAX];
	size_t n;

	if (!dir || !dir[0] || !realpath(dir, canon))
		return 0;
	n = strlen(canon);
	return !strncmp(path, canon, n) && !strncmp(path + n, "/sync-", 6) &&
	       !strchr(path + n + 1, '/');
}

/* Is @fd the device (or a state file) under test? Asked at every call: fd numbers are reused. */
static int is_target(int fd)
{
	const char *want = getenv("CMLOG_FAULT_PATH");
	char link[64], got[PATH_MAX], canon[PATH_MAX];
	ssize_t n;

	if (fd < 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, got, sizeof(got) - 1);
	if (n <= 0)
		return 0;
	got[n] = '\0';
	if (is_state_file(got))
		return 1;
	if (!want || !want[0])
		return 0;
	if (!strcmp(got, want))
		return 1;
	/* the test may name the device through a symlink or a relative path */
	return realpath(want, canon) && !strcmp(got, canon);
}

static enum fd_mode mode_of(int fd)
{
	static const struct {
		const char *name;
		enum fd_mode mode;
	} names[] = {{"eio-write", FD_EIO_WRITE}, {"short-write", FD_SHORT_WRITE},
		     {"enospc", FD_ENOSPC},	  {"eio-sync", FD_EIO_SYNC},
		     {"eio-read", FD_EIO_READ},	  {"short-read", FD_SHORT_READ}};
	const char *ctl = getenv("CMLOG_FAULT_CTL");
	char word[32];
	ssize_t n;
	size_t i;
	int cfd;

	if (!ctl || !is_target(fd))
		return FD_OK;
	cfd = open(ctl, O_RDONLY | O_CLOEXEC);
	if (cfd < 0)
		return FD_OK;
	n = read(cfd, word, sizeof(word) - 1);
	close(cfd);
	if (n <= 0)
		return FD_OK;
	word[n] = '\0';
	word[strcspn(word, " \t\r\n")] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(word, names[i].name))
			return names[i].mode;
	return FD_OK;
}

static void report(const char *call, int fd, size_t len, off_t off, const char *what)
{
	fprintf(stderr, "faultdisk: %s(fd %d, %zu bytes at %lld): %s\n", call, fd, len,
		(long long)off, what);
}

static ssize_t fault_read(const char *call, pread_fn fn, int fd, void *buf, size_t len, off_t off)
{
	switch (mode_of(fd)) {
	case FD_EIO_READ:
		report(call, fd, len, off, "EIO");
		errno = EIO;
		return -1;
	case FD_SHORT_READ:
		if (off >= FD_SHORT_END) {
			report(call, fd, len, off, "end of device (0)");
			return 0;
		}
		if ((size_t)(FD_SHORT_END - off) < len) {
			report(call, fd, len, off, "short read");
			len = (size_t)(FD_SHORT_END - off);
		}
		break;
	default:
		break;
	}
	return fn(fd, buf, len, off);
}

/* The fault for a write of @len bytes: 0 = none, -1 = fail (errno set), or the short length. */
static ssize_t write_fault(const char *call, int fd, size_t *len, off_t off)
{
	switch (mode_of(fd)) {
	case FD_EIO_WRITE:
		report(call, fd, *len, off, "EIO");
		errno = EIO;
		return -1;
	case FD_ENOSPC:
		report(call, fd, *len, off, "ENOSPC");
		errno = ENOSPC;
		return -1;
	case FD_SHORT_WRITE:
		report(call, fd, *len, off, "short write");
		*len = (*len / 2) & ~(size_t)511;
		return 1;
	default:
		return 0;
	}
}

static ssize_t fault_write(const char *call, pwrite_fn fn, int fd, const void *buf, size_t len,
			   off_t off)
{
	ssize_t f = write_fault(call, fd, &len, off);

	if (f < 0)
		return -1;
	if (f > 0 && len == 0)
		return 0; /* less than one block: nothing reaches the device */
	return fn(fd, buf, len, off);
}

ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	static pread_fn fn;

	if (!fn)
		fn = (pread_fn)real("pread");
	return fault_read("pread", fn, fd, buf, len, off);
}

ssize_t pread64(int fd, void *buf, size_t len, off_t off)
{
	static pread_fn fn;

	if (!fn)
		fn = (pread_fn)real("pread64");
	return fault_read("pread64", fn, fd, buf, len, off);
}

ssize_t __pread_chk(int fd, void *buf, size_t len, off_t off, size_t buflen)
{
	if (len > buflen)
		abort(); /* what the fortified libc does */
	return pread(fd, buf, len, off);
}

ssize_t __pread64_chk(int fd, void *buf, size_t len, off_t off, size_t buflen)
{
	if (len > buflen)
		abort();
	return pread64(fd, buf, len, off);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	static pwrite_fn fn;

	if (!fn)
		fn = (pwrite_fn)real("pwrite");
	return fault_write("pwrite", fn, fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	static pwrite_fn fn;

	if (!fn)
		fn = (pwrite_fn)real("pwrite64");
	return fault_write("pwrite64", fn, fd, buf, len, off);
}

static ssize_t fault_writev(const char *call, pwritev_fn fn, int fd, const struct iovec *iov, int n,
			    off_t off)
{
	size_t len = 0, keep;
	struct iovec v[64];
	ssize_t f;
	int i;

	for (i = 0; i < n; i++)
		len += iov[i].iov_len;
	f = write_fault(call, fd, &len, off);
	if (f < 0)
		return -1;
	if (f == 0 || n > 64)
		return fn(fd, iov, n, off);
	if (len == 0)
		return 0;
	/* short: the first len bytes of the vector */
	for (i = 0, keep = len; i < n && keep; i++) {
		v[i] = iov[i];
		if (v[i].iov_len > keep)
			v[i].iov_len = keep;
		keep -= v[i].iov_len;
	}
	return fn(fd, v, i, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	static pwritev_fn fn;

	if (!fn)
		fn = (pwritev_fn)real("pwritev");
	return fault_writev("pwritev", fn, fd, iov, n, off);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int n, off_t off)
{
	static pwritev_fn fn;

	if (!fn)
		fn = (pwritev_fn)real("pwritev64");
	return fault_writev("pwritev64", fn, fd, iov, n, off);
}

static int fault_sync(const char *call, sync_fn fn, int fd)
{
	if (mode_of(fd) == FD_EIO_SYNC) {
		report(call, fd, 0, 0, "EIO");
		errno = EIO;
		return -1;
	}
	return fn(fd);
}

int fdatasync(int fd)
{
	static sync_fn fn;

	if (!fn)
		fn = (sync_fn)real("fdatasync");
	return fault_sync("fdatasync", fn, fd);
}

int fsync(int fd)
{
	static sync_fn fn;

	if (!fn)
		fn = (sync_fn)real("fsync");
	return fault_sync("fsync", fn, fd);
}

/*
 * write and read: only the state writer's calls on state files are faulted; without
 * CMLOG_FAULT_STATE_DIR these pass through without looking at the fd (the log device uses
 * pread/pwrite, above). The offset a report names is the file position.
 */
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*read_fn)(int, void *, size_t);

static int state_faults(void)
{
	const char *dir = getenv("CMLOG_FAULT_STATE_DIR");

	return dir && dir[0];
}

ssize_t write(int fd, const void *buf, size_t len)
{
	static write_fn fn;
	ssize_t f;

	if (!fn)
		fn = (write_fn)real("write");
	/* only a state file's position is asked (lseek would clobber errno on sockets) */
	if (!state_faults() || fd <= 2 || !is_target(fd))
		return fn(fd, buf, len);
	f = write_fault("write", fd, &len, lseek(fd, 0, SEEK_CUR));
	if (f < 0)
		return -1;
	if (f > 0 && len == 0) {
		/* less than one block: a short write of nothing is an I/O error for write(2) */
		errno = EIO;
		return -1;
	}
	return fn(fd, buf, len);
}

ssize_t read(int fd, void *buf, size_t len)
{
	static read_fn fn;

	if (!fn)
		fn = (read_fn)real("read");
	if (!state_faults() || fd <= 2)
		return fn(fd, buf, len);
	switch (mode_of(fd)) {
	case FD_EIO_READ:
		report("read", fd, len, lseek(fd, 0, SEEK_CUR), "EIO");
		errno = EIO;
		return -1;
	case FD_SHORT_READ:
		report("read", fd, len, lseek(fd, 0, SEEK_CUR), "end of file (0)");
		return 0;
	default:
		return fn(fd, buf, len);
	}
}
