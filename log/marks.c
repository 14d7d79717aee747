/*
 * marks.c: the node-slot table and the region -> slot-mask hash of one rlog.
 *
 * Invariants kept: an entry's mask is never 0 (empty entries are removed at once by
 * backward-shift deletion, so no tombstones and every probe chain is contiguous); the load
 * stays at most 1/2; slot_count[s] is the number of entries with bit s; total is the sum of
 * all slot counts; a slot is used whenever its node may hold marks. The hash function is a
 * fixed mix of the region number, so the layout depends only on the operation history,
 * and no caller derives a replicated result from the storage order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log/marks.h"

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static inline size_t home_of(const struct rlog_marks *m, uint64_t region)
{
	return (size_t)(mix64(region) & (m->cap - 1));
}

void rlog_marks_init(struct rlog_marks *m)
{
	memset(m, 0, sizeof(*m));
}

void rlog_marks_fini(struct rlog_marks *m)
{
	free(m->tab);
	memset(m, 0, sizeof(*m));
}

void rlog_marks_reset(struct rlog_marks *m)
{
	if (m->tab)
		memset(m->tab, 0, m->cap * sizeof(*m->tab));
	m->used = 0;
	m->total = 0;
	m->slot_used = 0;
	memset(m->slot_count, 0, sizeof(m->slot_count));
	memset(m->slot_node, 0, sizeof(m->slot_node));
}

int rlog_marks_clone(const struct rlog_marks *src, struct rlog_marks *dst)
{
	*dst = *src;
	dst->tab = NULL;
	if (src->cap) {
		dst->tab = malloc(src->cap * sizeof(*dst->tab));
		if (!dst->tab)
			return -ENOMEM;
		memcpy(dst->tab, src->tab, src->cap * sizeof(*dst->tab));
	}
	return 0;
}

int rlog_marks_slot_find(const struct rlog_marks *m, uint32_t node)
{
	int s;

	for (s = 0; s < RLOG_MAX_NODES; s++)
		if ((m->slot_used >> s & 1) && m->slot_node[s] == node)
			return s;
	return -1;
}

int rlog_marks_slot_get(struct rlog_marks *m, uint32_t node)
{
	int s = rlog_marks_slot_find(m, node);

	if (s >= 0)
		return s;
	if (m->slot_used == ~UINT64_C(0))
		return -ENOSPC;
	s = __builtin_ctzll(~m->slot_used);
	m->slot_used |= UINT64_C(1) << s;
	m->slot_node[s] = node;
	m->slot_count[s] = 0;
	return s;
}

void rlog_marks_slot_free(struct rlog_marks *m, int slot)
{
	m->slot_used &= ~(UINT64_C(1) << slot);
	m->slot_node[slot] = 0;
	m->slot_count[slot] = 0;
}

/* Insert an entry known to be absent into a table with room (no counters touched). */
static void raw_insert(struct rlog_marks *m, uint64_t region, uint64_t mask)
{
	size_t i = home_of(m, region);

	while (m->tab[i].mask)
		i = (i + 1) & (m->cap - 1);
	m->tab[i].region = region;
	m->tab[i].mask = mask;
}

int rlog_marks_reserve(struct rlog_marks *m, size_t extra)
{
	size_t need = m->used + extra, ncap = m->cap ? m->cap : 16, i, ocap = m->cap;
	struct rlog_mark_ent *nt, *ot = m->tab;

	if (need < m->used)
		return -ENOMEM;
	while (need > ncap / 2) {
		if (ncap > SIZE_MAX / 2 / sizeof(*nt))
			return -ENOMEM;
		ncap *= 2;
	}
	if (ncap == m->cap)
		return 0;
	nt = calloc(ncap, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	m->tab = nt;
	m->cap = ncap;
	for (i = 0; i < ocap; i++)
		if (ot[i].mask)
			raw_insert(m, ot[i].region, ot[i].mask);
	free(ot);
	return 0;
}

/* Index of @region's entry, or SIZE_MAX. */
static size_t lookup(const struct rlog_marks *m, uint64_t region)
{
	size_t i;

	if (!m->cap)
		return SIZE_MAX;
	for (i = home_of(m, region); m->tab[i].mask; i = (i + 1) & (m->cap - 1))
		if (m->tab[i].region == region)
			return i;
	return SIZE_MAX;
}

uint64_t rlog_marks_get(const struct rlog_marks *m, uint64_t region)
{
	size_t i = lookup(m, region);

	return i == SIZE_MAX ? 0 : m->tab[i].mask;
}

/*
 * Remove entry @i and close the gap: move later entries of the probe run back into the hole
 * when their home position allows it (Knuth's algorithm R), so no tombstones are needed.
 */
static void remove_at(struct rlog_marks *m, size_t i)
{
	size_t mask = m->cap - 1, j = i, h;

	for (;;) {
		j = (j + 1) & mask;
		if (!m->tab[j].mask)
			break;
		h = home_of(m, m->tab[j].region);
		/* The entry at j may move to i unless its home lies cyclically in (i, j]. */
		if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
			continue;
		m->tab[i] = m->tab[j];
		i = j;
	}
	m->tab[i].mask = 0;
	m->tab[i].region = 0;
	m->used--;
}

bool rlog_marks_add(struct rlog_marks *m, uint64_t region, int slot)
{
	uint64_t bit = UINT64_C(1) << slot;
	size_t i = lookup(m, region);

	if (i != SIZE_MAX) {
		if (m->tab[i].mask & bit)
			return false;
		m->tab[i].mask |= bit;
	} else {
		raw_insert(m, region, bit);
		m->used++;
	}
	m->slot_count[slot]++;
	m->total++;
	return true;
}

bool rlog_marks_del(struct rlog_marks *m, uint64_t region, int slot)
{
	uint64_t bit = UINT64_C(1) << slot;
	size_t i = lookup(m, region);

	if (i == SIZE_MAX || !(m->tab[i].mask & bit))
		return false;
	m->tab[i].mask &= ~bit;
	if (!m->tab[i].mask)
		remove_at(m, i);
	m->slot_count[slot]--;
	m->total--;
	return true;
}

/*
 * Visit every entry once while removing some. Backward shifts only move entries into the
 * hole being visited (re-examined) or, on wrap-around, move entries already visited; an
 * entry already handled no longer matches @keep's test, so it is skipped when seen again.
 * Returns through @fn for each entry whose mask changed.
 */
static void sweep(struct rlog_marks *m, uint64_t slot_bits, uint64_t limit,
		  void (*fn)(void *ctx, uint64_t region), void *ctx)
{
	size_t i = 0;
	uint64_t drop, region;
	int s;

	while (i < m->cap) {
		struct rlog_mark_ent *e = &m->tab[i];

		if (!e->mask) {
			i++;
			continue;
		}
		drop = e->region >= limit ? e->mask : (e->mask & slot_bits);
		if (!drop) {
			i++;
			continue;
		}
		region = e->region;
		e->mask &= ~drop;
		while (drop) {
			s = __builtin_ctzll(drop);
			drop &= drop - 1;
			m->slot_count[s]--;
			m->total--;
		}
		if (!e->mask)
			remove_at(m, i); /* re-examine i: another entry may have moved in */
		else
			i++;
		if (fn)
			fn(ctx, region);
	}
}

void rlog_marks_drop_slot(struct rlog_marks *m, int slot, void (*fn)(void *ctx, uint64_t region),
			  void *ctx)
{
	if (m->slot_count[slot])
		sweep(m, UINT64_C(1) << slot, UINT64_MAX, fn, ctx);
}

void rlog_marks_drop_from(struct rlog_marks *m, uint64_t limit)
{
	if (m->used)
		sweep(m, 0, limit, NULL, NULL);
}

static int cmp_ent(const void *a, const void *b)
{
	const struct rlog_mark_ent *x = a, *y = b;

	return x->region < y->region ? -1 : x->region > y->region;
}

int rlog_marks_sorted(const struct rlog_marks *m, struct rlog_mark_ent **out, size_t *n)
{
	struct rlog_mark_ent *a;
	size_t i, k = 0;

	*out = NULL;
	*n = 0;
	if (!m->used)
		return 0;
	a = malloc(m->used * sizeof(*a));
	if (!a)
		return -ENOMEM;
	for (i = 0; i < m->cap; i++)
		if (m->tab[i].mask)
			a[k++] = m->tab[i];
	qsort(a, k, sizeof(*a), cmp_ent);
	*out = a;
	*n = k;
	return 0;
}
