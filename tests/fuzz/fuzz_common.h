/*
 * fuzz_common.h: helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * A target reads its input through struct fuzz_in, which never fails: past the end every
 * getter returns zeros, so any byte string is a valid (if short) program. Violations of a
 * checked property print what failed and trap, which libFuzzer reports as a crash and saves
 * as a reproducer; the same check then fails the corpus replay (tests/fuzz/replay.c).
 */
#ifndef CMLOG_TESTS_FUZZ_COMMON_H
#define CMLOG_TESTS_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The libFuzzer entry point every target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline void fin_init(struct fuzz_in *in, const uint8_t *p, size_t n)
{
	in->p = p;
	in->n = n;
}

static inline bool fin_empty(const struct fuzz_in *in)
{
	return in->n == 0;
}

static inline uint8_t fin_u8(struct fuzz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint16_t fin_u16(struct fuzz_in *in)
{
	uint16_t lo = fin_u8(in);

	return (uint16_t)(lo | (uint16_t)(fin_u8(in) << 8));
}

static inline uint32_t fin_u32(struct fuzz_in *in)
{
	uint32_t lo = fin_u16(in);

	return lo | (uint32_t)fin_u16(in) << 16;
}

static inline uint64_t fin_u64(struct fuzz_in *in)
{
	uint64_t lo = fin_u32(in);

	return lo | (uint64_t)fin_u32(in) << 32;
}

/** Borrow up to @want bytes; *got is how many there were. */
static inline const uint8_t *fin_bytes(struct fuzz_in *in, size_t want, size_t *got)
{
	const uint8_t *p = in->p;

	*got = want < in->n ? want : in->n;
	in->p += *got;
	in->n -= *got;
	return p;
}

__attribute__((noreturn)) static inline void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: checked property violated: %s\n", file, line, what);
	fflush(stderr);
	__builtin_trap();
}

/* A property every input must keep; a violation is a finding (trap = crash to libFuzzer). */
#define FUZZ_CHECK(cond)                                      \
	do {                                                  \
		if (!(cond))                                  \
			fuzz_fail(__FILE__, __LINE__, #cond); \
	} while (0)

#endif /* CMLOG_TESTS_FUZZ_COMMON_H */
