/*
 * msg.c: the cluster message codec. Owns the byte layout of include/cluster_wire.h.
 * Keeps: nothing from the network reaches the group unless it decoded completely and
 * exactly (every payload byte consumed, every count within its limit, the claimed sender
 * equal to the transport's sender).
 */
#include <errno.h>
#include <string.h>

#include "cluster/msg.h"
#include "wire.h"

const char *cmsg_strerror(int err)
{
	switch (err) {
	case CMSG_OK:
		return "ok";
	case CMSG_E_SHORT:
		return "shorter than the header";
	case CMSG_E_MAGIC:
		return "bad magic";
	case CMSG_E_VERSION:
		return "unsupported version";
	case CMSG_E_TYPE:
		return "unknown type";
	case CMSG_E_LEN:
		return "length does not match";
	case CMSG_E_SENDER:
		return "sender does not match the transport";
	case CMSG_E_PAYLOAD:
		return "payload size wrong for the type";
	case CMSG_E_COUNT:
		return "count over limit";
	case CMSG_E_VALUE:
		return "invalid field value";
	}
	return "unknown error";
}

static bool get_bool(struct wire_rd *r, bool *v, int *err)
{
	uint8_t b = 0;

	if (!wire_get_u8(r, &b))
		return false;
	if (b > 1)
		*err = CMSG_E_VALUE;
	*v = b == 1;
	return true;
}

static void get_pad(struct wire_rd *r, size_t n, int *err)
{
	const uint8_t *p = wire_get_bytes(r, n);
	size_t i;

	for (i = 0; p && i < n; i++)
		if (p[i])
			*err = CMSG_E_VALUE;
}

static int decode_commit(struct wire_rd *r, struct cmsg_commit *c)
{
	uint32_t i, n;

	if (!wire_get_le64(r, &c->commit_id) || !wire_get_le32(r, &c->n_marks) ||
	    !wire_get_le32(r, &c->n_clears))
		return CMSG_E_PAYLOAD;
	if (c->n_marks > CMSG_COMMIT_MAX_REGIONS || c->n_clears > CMSG_COMMIT_MAX_REGIONS ||
	    c->n_marks + c->n_clears > CMSG_COMMIT_MAX_REGIONS)
		return CMSG_E_COUNT;
	n = c->n_marks + c->n_clears;
	if (wire_rd_left(r) != (size_t)n * 8u)
		return CMSG_E_PAYLOAD;
	for (i = 0; i < n; i++)
		wire_get_le64(r, &c->regions[i]);
	return CMSG_OK;
}

static int decode_state(struct wire_rd *r, struct cmsg_state *s)
{
	int err = CMSG_OK;
	uint32_t i;

	wire_get_le32(r, &s->max_version);
	get_bool(r, &s->synced, &err);
	get_bool(r, &s->quorate, &err);
	get_pad(r, 2, &err);
	wire_get_le32(r, &s->n_members);
	wire_get_le64(r, &s->gen);
	wire_get_le64(r, &s->digest);
	if (!wire_get_le64(r, &s->epoch))
		return CMSG_E_PAYLOAD;
	if (s->n_members == 0 || s->n_members > CMSG_STATE_MAX_MEMBERS)
		return CMSG_E_COUNT;
	if (wire_rd_left(r) != (size_t)s->n_members * 4u)
		return CMSG_E_PAYLOAD;
	for (i = 0; i < s->n_members; i++) {
		wire_get_le32(r, &s->members[i]);
		if (i > 0 && s->members[i] <= s->members[i - 1])
			err = CMSG_E_VALUE;
	}
	if (s->max_version == 0)
		err = CMSG_E_VALUE;
	return err;
}

static int decode_ids(struct wire_rd *r, uint32_t *v, uint32_t n, int *err)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		wire_get_le32(r, &v[i]);
		if (i > 0 && v[i] <= v[i - 1])
			*err = CMSG_E_VALUE;
	}
	return *err;
}

static int decode_exclude(struct wire_rd *r, struct cmsg_exclude *x)
{
	int err = CMSG_OK;
	uint32_t i, j;

	wire_get_le32(r, &x->flags);
	wire_get_le32(r, &x->n_members);
	if (!wire_get_le32(r, &x->n_excluded))
		return CMSG_E_PAYLOAD;
	if (x->flags & ~CMSG_EXCLUDE_SILENT)
		err = CMSG_E_VALUE;
	if (x->n_members == 0 || x->n_members > CMSG_STATE_MAX_MEMBERS || x->n_excluded == 0 ||
	    x->n_excluded > x->n_members)
		return CMSG_E_COUNT;
	if (wire_rd_left(r) != ((size_t)x->n_members + x->n_excluded) * 4u)
		return CMSG_E_PAYLOAD;
	decode_ids(r, x->members, x->n_members, &err);
	decode_ids(r, x->excluded, x->n_excluded, &err);
	for (i = 0; i < x->n_excluded; i++) {
		for (j = 0; j < x->n_members && x->members[j] != x->excluded[i]; j++)
			;
		if (j == x->n_members)
			err = CMSG_E_VALUE; /* only members can be excluded */
	}
	return err;
}

static int decode_snap(struct wire_rd *r, struct cmsg_snap *s)
{
	int err = CMSG_OK;

	wire_get_le32(r, &s->round);
	wire_get_le32(r, &s->index);
	get_bool(r, &s->last, &err);
	get_bool(r, &s->disk_failed, &err);
	get_pad(r, 2, &err);
	wire_get_le32(r, &s->writer);
	wire_get_le64(r, &s->durable_gen);
	if (!wire_get_le32(r, &s->n_bytes))
		return CMSG_E_PAYLOAD;
	if (s->n_bytes > CMSG_SNAP_MAX_BYTES)
		return CMSG_E_COUNT;
	if (wire_rd_left(r) != s->n_bytes)
		return CMSG_E_PAYLOAD;
	s->bytes = wire_get_bytes(r, s->n_bytes);
	return err;
}

static int decode_marks(struct wire_rd *r, struct cmsg_marks *k)
{
	int err = CMSG_OK;
	uint32_t i;

	wire_get_le32(r, &k->index);
	get_bool(r, &k->last, &err);
	get_bool(r, &k->has_rec, &err);
	get_pad(r, 2, &err);
	wire_get_le64(r, &k->rec_region);
	if (!wire_get_le32(r, &k->n_regions))
		return CMSG_E_PAYLOAD;
	if (k->n_regions > CMSG_MARKS_MAX_REGIONS)
		return CMSG_E_COUNT;
	if (wire_rd_left(r) != (size_t)k->n_regions * 8u)
		return CMSG_E_PAYLOAD;
	for (i = 0; i < k->n_regions; i++) {
		wire_get_le64(r, &k->regions[i]);
		if (i > 0 && k->regions[i] <= k->regions[i - 1])
			err = CMSG_E_VALUE;
	}
	/* one encoding: no recovery means region 0 */
	if (!k->has_rec && k->rec_region)
		err = CMSG_E_VALUE;
	return err;
}

/* The highest message type a header of protocol version @v may carry. */
static uint16_t type_max(uint16_t v)
{
	if (v >= 3)
		return CMSG_TYPE_MAX;
	return v == 2 ? CMSG_TYPE_MAX_V2 : CMSG_TYPE_MAX_V1;
}

int cmsg_decode(struct cmsg *m, const void *buf, size_t len, uint32_t sender, uint16_t ver_min,
		uint16_t ver_max)
{
	struct wire_rd r;
	uint32_t magic = 0, plen = 0;
	int err = CMSG_OK;

	if (len < CMSG_HDR_SIZE)
		return CMSG_E_SHORT;
	wire_rd_init(&r, buf, len);
	wire_get_le32(&r, &magic);
	wire_get_le16(&r, &m->version);
	wire_get_le16(&r, &m->type);
	wire_get_le32(&r, &m->nodeid);
	wire_get_le32(&r, &m->seq);
	wire_get_le32(&r, &plen);
	if (magic != CMSG_MAGIC)
		return CMSG_E_MAGIC;
	if (m->version < ver_min || m->version > ver_max)
		return CMSG_E_VERSION;
	if (m->type == 0 || m->type > type_max(m->version))
		return CMSG_E_TYPE;
	if (plen != wire_rd_left(&r))
		return CMSG_E_LEN;
	if (m->nodeid != sender)
		return CMSG_E_SENDER;

	switch (m->type) {
	case CMSG_COMMIT:
		err = decode_commit(&r, &m->u.commit);
		break;
	case CMSG_RESYNC_REQ:
		if (plen != CMSG_RESYNC_SIZE)
			return CMSG_E_PAYLOAD;
		wire_get_le64(&r, &m->u.req.req_id);
		m->u.req.region = 0;
		m->u.req.in_sync = false;
		break;
	case CMSG_SET_SYNC:
		if (plen != CMSG_SET_SYNC_SIZE)
			return CMSG_E_PAYLOAD;
		wire_get_le64(&r, &m->u.req.req_id);
		wire_get_le64(&r, &m->u.req.region);
		get_bool(&r, &m->u.req.in_sync, &err);
		get_pad(&r, 3, &err);
		break;
	case CMSG_REMOTE_REC:
		if (plen != CMSG_REMOTE_REC_SIZE)
			return CMSG_E_PAYLOAD;
		wire_get_le64(&r, &m->u.req.req_id);
		wire_get_le64(&r, &m->u.req.region);
		m->u.req.in_sync = false;
		break;
	case CMSG_DURABLE:
	case CMSG_DISK_FAILED:
		if (plen != CMSG_GEN_SIZE)
			return CMSG_E_PAYLOAD;
		wire_get_le64(&r, &m->u.gen);
		break;
	case CMSG_TAKEOVER:
	case CMSG_HANDOVER:
		if (plen != CMSG_WRITER_SIZE)
			return CMSG_E_PAYLOAD;
		wire_get_le32(&r, &m->u.writer);
		get_pad(&r, 4, &err);
		if (err == CMSG_OK && m->u.writer == 0)
			err = CMSG_E_VALUE;
		break;
	case CMSG_STATE:
		err = decode_state(&r, &m->u.state);
		break;
	case CMSG_SNAP:
		err = decode_snap(&r, &m->u.snap);
		break;
	case CMSG_MARKS:
		err = decode_marks(&r, &m->u.marks);
		break;
	case CMSG_EXCLUDE:
		err = decode_exclude(&r, &m->u.excl);
		break;
	}
	if (err != CMSG_OK)
		return err;
	if (!wire_rd_done(&r))
		return CMSG_E_PAYLOAD;
	return CMSG_OK;
}

static size_t payload_size(const struct cmsg *m)
{
	switch (m->type) {
	case CMSG_COMMIT:
		return CMSG_COMMIT_FIXED +
		       8u * ((size_t)m->u.commit.n_marks + m->u.commit.n_clears);
	case CMSG_RESYNC_REQ:
		return CMSG_RESYNC_SIZE;
	case CMSG_SET_SYNC:
		return CMSG_SET_SYNC_SIZE;
	case CMSG_REMOTE_REC:
		return CMSG_REMOTE_REC_SIZE;
	case CMSG_DURABLE:
	case CMSG_DISK_FAILED:
		return CMSG_GEN_SIZE;
	case CMSG_TAKEOVER:
	case CMSG_HANDOVER:
		return CMSG_WRITER_SIZE;
	case CMSG_STATE:
		return CMSG_STATE_FIXED + 4u * (size_t)m->u.state.n_members;
	case CMSG_SNAP:
		return CMSG_SNAP_FIXED + m->u.snap.n_bytes;
	case CMSG_MARKS:
		return CMSG_MARKS_FIXED + 8u * (size_t)m->u.marks.n_regions;
	case CMSG_EXCLUDE:
		return CMSG_EXCLUDE_FIXED +
		       4u * ((size_t)m->u.excl.n_members + m->u.excl.n_excluded);
	}
	return 0;
}

int cmsg_encode(const struct cmsg *m, const uint64_t *regions, uint8_t *buf, size_t cap,
		size_t *len)
{
	struct wire_wr w;
	size_t plen;
	uint32_t i, n;

	if (m->type == 0 || m->type > type_max(m->version))
		return -EINVAL;
	if ((m->type == CMSG_TAKEOVER || m->type == CMSG_HANDOVER) && m->u.writer == 0)
		return -EINVAL;
	if (m->type == CMSG_COMMIT &&
	    (size_t)m->u.commit.n_marks + m->u.commit.n_clears > CMSG_COMMIT_MAX_REGIONS)
		return -EINVAL;
	if (m->type == CMSG_STATE &&
	    (m->u.state.n_members == 0 || m->u.state.n_members > CMSG_STATE_MAX_MEMBERS))
		return -EINVAL;
	if (m->type == CMSG_SNAP && m->u.snap.n_bytes > CMSG_SNAP_MAX_BYTES)
		return -EINVAL;
	if (m->type == CMSG_MARKS &&
	    (m->version < 2 || m->u.marks.n_regions > CMSG_MARKS_MAX_REGIONS))
		return -EINVAL;
	if (m->type == CMSG_EXCLUDE && (m->u.excl.n_members > CMSG_STATE_MAX_MEMBERS ||
					m->u.excl.n_excluded > CMSG_STATE_MAX_MEMBERS))
		return -EINVAL;
	plen = payload_size(m);
	wire_wr_init(&w, buf, cap);
	wire_put_le32(&w, CMSG_MAGIC);
	wire_put_le16(&w, m->version);
	wire_put_le16(&w, m->type);
	wire_put_le32(&w, m->nodeid);
	wire_put_le32(&w, m->seq);
	wire_put_le32(&w, (uint32_t)plen);
	switch (m->type) {
	case CMSG_COMMIT:
		if (!regions)
			regions = m->u.commit.regions;
		wire_put_le64(&w, m->u.commit.commit_id);
		wire_put_le32(&w, m->u.commit.n_marks);
		wire_put_le32(&w, m->u.commit.n_clears);
		n = m->u.commit.n_marks + m->u.commit.n_clears;
		for (i = 0; i < n; i++)
			wire_put_le64(&w, regions[i]);
		break;
	case CMSG_RESYNC_REQ:
		wire_put_le64(&w, m->u.req.req_id);
		break;
	case CMSG_SET_SYNC:
		wire_put_le64(&w, m->u.req.req_id);
		wire_put_le64(&w, m->u.req.region);
		wire_put_u8(&w, m->u.req.in_sync ? 1 : 0);
		wire_put_zero(&w, 3);
		break;
	case CMSG_REMOTE_REC:
		wire_put_le64(&w, m->u.req.req_id);
		wire_put_le64(&w, m->u.req.region);
		break;
	case CMSG_DURABLE:
	case CMSG_DISK_FAILED:
		wire_put_le64(&w, m->u.gen);
		break;
	case CMSG_TAKEOVER:
	case CMSG_HANDOVER:
		wire_put_le32(&w, m->u.writer);
		wire_put_zero(&w, 4);
		break;
	case CMSG_STATE:
		wire_put_le32(&w, m->u.state.max_version);
		wire_put_u8(&w, m->u.state.synced ? 1 : 0);
		wire_put_u8(&w, m->u.state.quorate ? 1 : 0);
		wire_put_zero(&w, 2);
		wire_put_le32(&w, m->u.state.n_members);
		wire_put_le64(&w, m->u.state.gen);
		wire_put_le64(&w, m->u.state.digest);
		wire_put_le64(&w, m->u.state.epoch);
		for (i = 0; i < m->u.state.n_members; i++)
			wire_put_le32(&w, m->u.state.members[i]);
		break;
	case CMSG_SNAP:
		wire_put_le32(&w, m->u.snap.round);
		wire_put_le32(&w, m->u.snap.index);
		wire_put_u8(&w, m->u.snap.last ? 1 : 0);
		wire_put_u8(&w, m->u.snap.disk_failed ? 1 : 0);
		wire_put_zero(&w, 2);
		wire_put_le32(&w, m->u.snap.writer);
		wire_put_le64(&w, m->u.snap.durable_gen);
		wire_put_le32(&w, m->u.snap.n_bytes);
		wire_put_bytes(&w, m->u.snap.bytes, m->u.snap.n_bytes);
		break;
	case CMSG_MARKS:
		if (!regions)
			regions = m->u.marks.regions;
		wire_put_le32(&w, m->u.marks.index);
		wire_put_u8(&w, m->u.marks.last ? 1 : 0);
		wire_put_u8(&w, m->u.marks.has_rec ? 1 : 0);
		wire_put_zero(&w, 2);
		wire_put_le64(&w, m->u.marks.rec_region);
		wire_put_le32(&w, m->u.marks.n_regions);
		for (i = 0; i < m->u.marks.n_regions; i++)
			wire_put_le64(&w, regions[i]);
		break;
	case CMSG_EXCLUDE:
		wire_put_le32(&w, m->u.excl.flags);
		wire_put_le32(&w, m->u.excl.n_members);
		wire_put_le32(&w, m->u.excl.n_excluded);
		for (i = 0; i < m->u.excl.n_members; i++)
			wire_put_le32(&w, m->u.excl.members[i]);
		for (i = 0; i < m->u.excl.n_excluded; i++)
			wire_put_le32(&w, m->u.excl.excluded[i]);
		break;
	}
	if (w.err)
		return -ENOSPC;
	*len = w.off;
	return 0;
}
