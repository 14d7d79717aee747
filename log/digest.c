/*
 * digest.c: a 64-bit digest of the replicated state of an rlog, used to prove replicas
 * identical (invariants.md rule 9).
 *
 * Canonical form: region_count, mode, sync_count, every word of the clean and the sync
 * bitmap, the marks as (region, node id) pairs, the assignment, the cursor and the priority
 * queue in FIFO order, and the set of node ids holding mark slots. Marks are folded in with a commutative sum of per-pair hashes, which
 * equals a hash over the pairs sorted by (region, node id) in being independent of the
 * table layout, slot numbers and insertion order. Local bookkeeping (dirty range, hint)
 * is left out. Not cryptographic: it detects divergence, it does not resist forgery.
 */
#include "log/rlog_impl.h"

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

/* Sequential absorb: order matters, as it should for everything but the marks. */
static inline uint64_t absorb(uint64_t h, uint64_t v)
{
	return mix64(h ^ (v + UINT64_C(0x9e3779b97f4a7c15) + (h << 6) + (h >> 2)));
}

uint64_t rlog_digest(const struct rlog *rl)
{
	const struct rlog_marks *m = &rl->marks;
	uint64_t h = UINT64_C(0x636d6c6f67726c67), msum = 0, w;
	size_t i;
	uint32_t k;

	h = absorb(h, rl->region_count);
	h = absorb(h, (uint64_t)rl->mode);
	h = absorb(h, rl->sync_count);
	for (w = 0; w < rl->nwords; w++)
		h = absorb(h, rl->clean[w]);
	for (w = 0; w < rl->nwords; w++)
		h = absorb(h, rl->sync[w]);
	for (i = 0; i < m->cap; i++) {
		uint64_t mask = m->tab[i].mask;

		while (mask) {
			int s = __builtin_ctzll(mask);

			mask &= mask - 1;
			msum += mix64(mix64(m->tab[i].region) ^
				      ((uint64_t)m->slot_node[s] << 1 | 1));
		}
	}
	h = absorb(h, m->total);
	h = absorb(h, msum);
	/* The set of nodes holding slots decides future -ENOSPC answers: fold it in by id. */
	msum = 0;
	for (i = 0; i < RLOG_MAX_NODES; i++)
		if (m->slot_used >> i & 1)
			msum += mix64((uint64_t)m->slot_node[i] + UINT64_C(0x51ab));
	h = absorb(h, msum);
	h = absorb(h, rl->has_assign);
	h = absorb(h, rl->has_assign ? rl->assign_region : 0);
	h = absorb(h, rl->has_assign ? rl->assign_node : 0);
	h = absorb(h, rl->cursor);
	h = absorb(h, rl->prio_len);
	for (k = 0; k < rl->prio_len; k++)
		h = absorb(h, rl->prio[(rl->prio_head + k) % RLOG_MAX_PRIORITY]);
	return h;
}
