/*
 * ctr: parse the dm userspace log constructor string and format the status strings.
 *
 * Owns the exact grammar (kernel-protocol.md s5, cmirrord.md s3.2):
 *   "<target_len> clustered-core <region_size> [sync|nosync] [block_on_error]"
 *   "<target_len> clustered-disk <dev> <region_size> [sync|nosync] [block_on_error]"
 * Invariants kept (s14.8): the target length comes first; region_size is a power of two
 * (the kernel uses __ffs(region_size) as a shift, and does no validation for userspace logs),
 * at least 1, at most the target length and at most 2^31 (GET_REGION_SIZE is truncated to u32
 * by the kernel); region_count = ceil(len / region_size) exactly as the kernel computes it.
 * Why accept region_size 1 when dm-log's core/disk logs require >= 2: the userspace log has
 * no such check, a shift of 0 maps regions correctly, and refusing a table the kernel
 * accepted would only fail the activation. Numbers are decimal only (the kernel prints %llu,
 * LVM prints %u); cmirrord's strtoll base 0 also took hex/octal, which we do not need.
 * Pure: no I/O.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/ctr.h"

#define CTR_MAX_TOKENS 8

static const char *const ctr_text[CTR_E_COUNT] = {
	[CTR_OK] = "ok",
	[CTR_E_EMPTY] = "empty constructor string",
	[CTR_E_NUL] = "NUL byte inside the constructor string",
	[CTR_E_TARGET_LEN] = "target length is not a decimal number above 0",
	[CTR_E_TYPE] = "log type missing or not clustered-core/clustered-disk",
	[CTR_E_DEV] = "log device missing, too long, or not a path or maj:min",
	[CTR_E_REGION_SIZE] = "region size missing or not a decimal number",
	[CTR_E_REGION_POW2] = "region size is not a power of two",
	[CTR_E_REGION_RANGE] = "region size above the target length or above 2^31",
	[CTR_E_TOO_MANY_REGIONS] = "too many regions",
	[CTR_E_UNKNOWN_ARG] = "unknown argument",
	[CTR_E_DUPLICATE_ARG] = "argument given twice",
	[CTR_E_SYNC_CONFLICT] = "both sync and nosync given",
};

const char *ctr_strerror(enum ctr_error e)
{
	if ((unsigned)e >= CTR_E_COUNT)
		return "unknown constructor error";
	return ctr_text[e];
}

struct token {
	const char *p;
	size_t n;
};

static bool tok_is(const struct token *t, const char *s)
{
	return t->n == strlen(s) && memcmp(t->p, s, t->n) == 0;
}

/* Decimal u64, no sign, no leading '+', no overflow. */
static bool tok_u64(const struct token *t, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (t->n == 0 || t->n > 20)
		return false;
	for (i = 0; i < t->n; i++) {
		unsigned d;

		if (t->p[i] < '0' || t->p[i] > '9')
			return false;
		d = (unsigned)(t->p[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

static bool parse_u32_part(const char *s, size_t n, uint32_t *v)
{
	struct token t = {s, n};
	uint64_t x;

	if (!tok_u64(&t, &x) || x > UINT32_MAX)
		return false;
	*v = (uint32_t)x;
	return true;
}

int ctr_parse_majmin(const char *s, uint32_t *maj, uint32_t *min)
{
	const char *colon = s ? strchr(s, ':') : NULL;

	if (!colon)
		return -EINVAL;
	if (!parse_u32_part(s, (size_t)(colon - s), maj) ||
	    !parse_u32_part(colon + 1, strlen(colon + 1), min))
		return -EINVAL;
	return 0;
}

static bool dev_ok(const struct token *t)
{
	char tmp[CTR_DEV_MAX];
	uint32_t a, b;

	if (t->n == 0 || t->n >= CTR_DEV_MAX)
		return false;
	if (t->p[0] == '/')
		return true;
	memcpy(tmp, t->p, t->n);
	tmp[t->n] = '\0';
	return ctr_parse_majmin(tmp, &a, &b) == 0;
}

static int fail(enum ctr_error e, enum ctr_error *why)
{
	if (why)
		*why = e;
	return -EINVAL;
}

int ctr_parse(const void *payload, size_t len, struct ctr_args *args, enum ctr_error *why)
{
	const char *s = payload;
	struct token tok[CTR_MAX_TOKENS];
	size_t ntok = 0, i = 0, k;
	bool seen_sync = false, seen_nosync = false, seen_block = false;

	memset(args, 0, sizeof(*args));
	if (why)
		*why = CTR_OK;
	if (!s || len == 0)
		return fail(CTR_E_EMPTY, why);
	if (s[len - 1] == '\0') {
		/* The reconnect CTR (base.c:userspace_do_request) sends strlen + 1 bytes. */
		args->reconnect = true;
		len--;
	}
	if (memchr(s, '\0', len))
		return fail(CTR_E_NUL, why);

	while (i < len) {
		size_t start;

		while (i < len && s[i] == ' ')
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && s[i] != ' ')
			i++;
		if (ntok == CTR_MAX_TOKENS)
			return fail(CTR_E_UNKNOWN_ARG, why); /* more than the grammar allows */
		tok[ntok].p = s + start;
		tok[ntok].n = i - start;
		ntok++;
	}
	if (ntok == 0)
		return fail(CTR_E_EMPTY, why);

	if (!tok_u64(&tok[0], &args->target_len) || args->target_len == 0)
		return fail(CTR_E_TARGET_LEN, why);
	if (ntok < 2)
		return fail(CTR_E_TYPE, why);
	if (tok_is(&tok[1], "clustered-disk"))
		args->disk = true;
	else if (!tok_is(&tok[1], "clustered-core"))
		return fail(CTR_E_TYPE, why);
	k = 2;
	if (args->disk) {
		if (k >= ntok || !dev_ok(&tok[k]))
			return fail(CTR_E_DEV, why);
		memcpy(args->dev, tok[k].p, tok[k].n);
		args->dev[tok[k].n] = '\0';
		k++;
	}
	if (k >= ntok || !tok_u64(&tok[k], &args->region_size))
		return fail(CTR_E_REGION_SIZE, why);
	k++;
	if (args->region_size == 0 || (args->region_size & (args->region_size - 1)) != 0)
		return fail(CTR_E_REGION_POW2, why);
	if (args->region_size > args->target_len || args->region_size > (UINT64_C(1) << 31))
		return fail(CTR_E_REGION_RANGE, why);

	for (; k < ntok; k++) {
		if (tok_is(&tok[k], "sync")) {
			if (seen_sync)
				return fail(CTR_E_DUPLICATE_ARG, why);
			seen_sync = true;
		} else if (tok_is(&tok[k], "nosync")) {
			if (seen_nosync)
				return fail(CTR_E_DUPLICATE_ARG, why);
			seen_nosync = true;
		} else if (tok_is(&tok[k], "block_on_error")) {
			if (seen_block)
				return fail(CTR_E_DUPLICATE_ARG, why);
			seen_block = true;
		} else {
			return fail(CTR_E_UNKNOWN_ARG, why);
		}
	}
	if (seen_sync && seen_nosync)
		return fail(CTR_E_SYNC_CONFLICT, why);
	args->sync = seen_sync ? RLOG_SYNC_FORCE : seen_nosync ? RLOG_SYNC_NONE : RLOG_SYNC_DEFAULT;
	args->block_on_error = seen_block;

	/* dm-raid1: region_count = dm_sector_div_up(ti->len, region_size). */
	args->region_count =
		args->target_len / args->region_size + (args->target_len % args->region_size != 0);
	if (args->region_count > RLOG_MAX_REGIONS)
		return fail(CTR_E_TOO_MANY_REGIONS, why);
	return 0;
}

static int fmt_done(int n, size_t len)
{
	return (n < 0 || (size_t)n >= len) ? -ENOSPC : 0;
}

int ctr_status_table(const struct ctr_args *args, char *buf, size_t len)
{
	const char *sync = args->sync == RLOG_SYNC_FORCE  ? "sync "
			   : args->sync == RLOG_SYNC_NONE ? "nosync "
							  : "";
	const char *boe = args->block_on_error ? "block_on_error " : "";
	int n;

	if (!buf || len == 0)
		return -ENOSPC;
	if (args->disk)
		n = snprintf(buf, len, "clustered-disk %s %llu %s%s", args->dev,
			     (unsigned long long)args->region_size, sync, boe);
	else
		n = snprintf(buf, len, "clustered-core %llu %s%s",
			     (unsigned long long)args->region_size, sync, boe);
	return fmt_done(n, len);
}

int ctr_status_info(const struct ctr_args *args, const char *majmin, bool dev_failed, char *buf,
		    size_t len)
{
	int n;

	if (!buf || len == 0)
		return -ENOSPC;
	if (args->disk)
		n = snprintf(buf, len, "3 clustered-disk %s %c", majmin ? majmin : args->dev,
			     dev_failed ? 'D' : 'A');
	else
		n = snprintf(buf, len, "1 clustered-core");
	return fmt_done(n, len);
}
