/*
 * replay: run a fuzz target's seed corpus without libFuzzer (any compiler, valgrind).
 *
 * Linked with one fuzz_<target>.c, this program feeds every file under
 * $top_srcdir/tests/fuzz/corpus/<target>/ (or the files and directories named on the command
 * line) to LLVMFuzzerTestOneInput once. `make check` runs it for every target, so the seeds
 * and the fixed-crash reproducers kept in the corpus stay regression tests in the ordinary
 * gcc build and under valgrind; a violated property traps and fails the test.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz_common.h"

/* The build names the target (-DFUZZ_TARGET='"ulog"'); without it, paths must be given. */
#ifndef FUZZ_TARGET
#define FUZZ_TARGET ""
#endif

static int replay_file(const char *path, unsigned *count)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;
	int rc = -EIO;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out_close;
	/* One extra byte so an empty file still gets a valid pointer. */
	buf = malloc((size_t)len + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto out_close;
	}
	if (fread(buf, 1, (size_t)len, f) != (size_t)len)
		goto out_free;
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	(*count)++;
	rc = 0;
out_free:
	free(buf);
out_close:
	fclose(f);
	if (rc)
		fprintf(stderr, "replay: %s: cannot read\n", path);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of @dir, in name order so runs are reproducible. */
static int replay_dir(const char *dir, unsigned *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL, **grown;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			grown = realloc(names, cap * sizeof(*names));
			if (!grown) {
				rc = -ENOMEM;
				goto out;
			}
			names = grown;
		}
		names[n] = malloc(strlen(dir) + strlen(de->d_name) + 2);
		if (!names[n]) {
			rc = -ENOMEM;
			goto out;
		}
		sprintf(names[n], "%s/%s", dir, de->d_name);
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n && !rc; i++)
		rc = replay_file(names[i], count);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

static int replay_path(const char *path, unsigned *count)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	return S_ISDIR(st.st_mode) ? replay_dir(path, count) : replay_file(path, count);
}

int main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");
	unsigned count = 0;
	char *dir;
	int rc = 0;

	if (argc > 1) {
		for (int i = 1; i < argc && !rc; i++)
			rc = replay_path(argv[i], &count);
	} else if (!FUZZ_TARGET[0]) {
		fprintf(stderr, "usage: %s <corpus file or directory>...\n", argv[0]);
		return 99;
	} else {
		if (!top)
			top = ".";
		dir = malloc(strlen(top) + sizeof("/tests/fuzz/corpus/") + sizeof(FUZZ_TARGET));
		if (!dir)
			return 99;
		sprintf(dir, "%s/tests/fuzz/corpus/%s", top, FUZZ_TARGET);
		rc = replay_dir(dir, &count);
		free(dir);
	}
	printf("replay %s: %u inputs, %s\n", FUZZ_TARGET, count, rc ? "ERROR" : "all passed");
	if (rc)
		return 99;
	/* An empty corpus proves nothing. */
	return count ? 0 : 99;
}
