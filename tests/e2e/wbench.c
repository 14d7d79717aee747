/*
 * wbench.c: e2e benchmark tool: O_DIRECT write throughput of a block device, sequential or
 * random, as one result line. Used inside the qemu guest by guest-bench.sh to compare a
 * mirror whose log is cmlogd with one whose log is the kernel's own.
 *
 * Usage: wbench -d DEV -m seq|rand [-b BLOCK_BYTES] [-n OPS] [-S SEED]
 *   seq:  OPS writes of BLOCK bytes from offset 0 (wrapping at the device end)
 *   rand: OPS writes of BLOCK bytes at block-aligned offsets from a seeded xorshift64, so
 *         every run (and every log type) writes the same offsets in the same order
 * Output: "mode=seq bs=B ops=N bytes=X secs=S mib_s=M iops=I"; exit 0, or 1 on any error
 * (a failed write is reported with its offset: for a mirror it is an I/O error that reached
 * the writer).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static double wb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t wb_xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static int wb_parse(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long bs = 4096, ops = 1000, seed = 1;
	const char *dev = NULL, *mode = NULL;
	uint64_t size, blocks, rng, i;
	double t0, secs;
	void *buf = NULL;
	int fd, opt, rnd;

	while ((opt = getopt(argc, argv, "d:m:b:n:S:")) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'b':
			if (wb_parse(optarg, 64ull << 20, &bs) < 0 || bs % 512)
				goto usage;
			break;
		case 'n':
			if (wb_parse(optarg, 1ull << 32, &ops) < 0)
				goto usage;
			break;
		case 'S':
			if (wb_parse(optarg, UINT64_MAX, &seed) < 0)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (!dev || !mode || optind != argc)
		goto usage;
	if (strcmp(mode, "seq") && strcmp(mode, "rand"))
		goto usage;
	rnd = !strcmp(mode, "rand");

	fd = open(dev, O_WRONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "wbench: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
		fprintf(stderr, "wbench: %s: BLKGETSIZE64: %s\n", dev, strerror(errno));
		close(fd);
		return 1;
	}
	blocks = size / bs;
	if (blocks == 0 || posix_memalign(&buf, 4096, bs)) {
		fprintf(stderr, "wbench: %s too small for %llu-byte blocks, or no memory\n", dev,
			bs);
		close(fd);
		return 1;
	}
	memset(buf, 0xa5, bs);
	rng = seed;
	t0 = wb_now();
	for (i = 0; i < ops; i++) {
		uint64_t blk = rnd ? wb_xorshift(&rng) % blocks : i % blocks;
		off_t off = (off_t)(blk * bs);
		ssize_t n = pwrite(fd, buf, bs, off);

		if (n != (ssize_t)bs) {
			fprintf(stderr, "wbench: write at %lld: %s\n", (long long)off,
				n < 0 ? strerror(errno) : "short write");
			free(buf);
			close(fd);
			return 1;
		}
	}
	if (fdatasync(fd) < 0) {
		fprintf(stderr, "wbench: fdatasync: %s\n", strerror(errno));
		free(buf);
		close(fd);
		return 1;
	}
	secs = wb_now() - t0;
	printf("mode=%s bs=%llu ops=%llu bytes=%llu secs=%.3f mib_s=%.2f iops=%.0f\n", mode, bs,
	       ops, bs * ops, secs, (double)(bs * ops) / 1048576.0 / secs, (double)ops / secs);
	free(buf);
	close(fd);
	return 0;

usage:
	fprintf(stderr, "usage: wbench -d DEV -m seq|rand [-b BLOCK_BYTES] [-n OPS] [-S SEED]\n");
	return 1;
}
