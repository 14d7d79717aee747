/*
 * wire.h: bounds-checked cursors for decoding and encoding wire formats.
 *
 * Decode, don't cast (style.md rule 20): every external byte stream (kernel datagram,
 * cluster message, disk header, snapshot) is read through a struct wire_rd whose getters
 * fail once the buffer is short, and written through a struct wire_wr whose putters fail
 * once it is full. Both remember the first failure, so a codec can run all its getters and
 * check once at the end. Byte order is explicit in the name: _le (little-endian, our
 * cluster and disk formats) and _h (host order, the kernel ABI on the same machine).
 * Header only, libc only, so log/ may use it.
 */
#ifndef CMLOG_INCLUDE_WIRE_H
#define CMLOG_INCLUDE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct wire_rd {
	const uint8_t *buf;
	size_t len;
	size_t off;
	bool err; /* set by the first short read; sticky */
};

struct wire_wr {
	uint8_t *buf;
	size_t cap;
	size_t off;
	bool err; /* set by the first overflow; sticky */
};

static inline void wire_rd_init(struct wire_rd *r, const void *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->off = 0;
	r->err = false;
}

static inline void wire_wr_init(struct wire_wr *w, void *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->off = 0;
	w->err = false;
}

/** Bytes not yet read. */
static inline size_t wire_rd_left(const struct wire_rd *r)
{
	return r->err ? 0 : r->len - r->off;
}

/** True when every byte was consumed and no getter failed (a decoder must use it all). */
static inline bool wire_rd_done(const struct wire_rd *r)
{
	return !r->err && r->off == r->len;
}

/** Borrow @n bytes in place; NULL (and err) when short. */
static inline const uint8_t *wire_get_bytes(struct wire_rd *r, size_t n)
{
	const uint8_t *p;

	if (r->err || n > r->len - r->off) {
		r->err = true;
		return NULL;
	}
	p = r->buf + r->off;
	r->off += n;
	return p;
}

static inline bool wire_get_copy(struct wire_rd *r, void *out, size_t n)
{
	const uint8_t *p = wire_get_bytes(r, n);

	if (!p)
		return false;
	if (n)
		memcpy(out, p, n);
	return true;
}

static inline bool wire_skip(struct wire_rd *r, size_t n)
{
	return wire_get_bytes(r, n) != NULL;
}

static inline bool wire_get_u8(struct wire_rd *r, uint8_t *v)
{
	const uint8_t *p = wire_get_bytes(r, 1);

	if (!p)
		return false;
	*v = p[0];
	return true;
}

static inline bool wire_get_le16(struct wire_rd *r, uint16_t *v)
{
	const uint8_t *p = wire_get_bytes(r, 2);

	if (!p)
		return false;
	*v = (uint16_t)(p[0] | (uint16_t)p[1] << 8);
	return true;
}

static inline bool wire_get_le32(struct wire_rd *r, uint32_t *v)
{
	const uint8_t *p = wire_get_bytes(r, 4);

	if (!p)
		return false;
	*v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return true;
}

static inline bool wire_get_le64(struct wire_rd *r, uint64_t *v)
{
	uint32_t lo, hi;

	if (!wire_get_le32(r, &lo) || !wire_get_le32(r, &hi))
		return false;
	*v = (uint64_t)hi << 32 | lo;
	return true;
}

/* Host-order getters: the kernel ABI is host-endian; memcpy avoids unaligned loads. */
static inline bool wire_get_h16(struct wire_rd *r, uint16_t *v)
{
	return wire_get_copy(r, v, sizeof(*v));
}

static inline bool wire_get_h32(struct wire_rd *r, uint32_t *v)
{
	return wire_get_copy(r, v, sizeof(*v));
}

static inline bool wire_get_h64(struct wire_rd *r, uint64_t *v)
{
	return wire_get_copy(r, v, sizeof(*v));
}

static inline uint8_t *wire_put_space(struct wire_wr *w, size_t n)
{
	uint8_t *p;

	if (w->err || n > w->cap - w->off) {
		w->err = true;
		return NULL;
	}
	p = w->buf + w->off;
	w->off += n;
	return p;
}

static inline bool wire_put_bytes(struct wire_wr *w, const void *src, size_t n)
{
	uint8_t *p = wire_put_space(w, n);

	if (!p)
		return false;
	if (n)
		memcpy(p, src, n);
	return true;
}

static inline bool wire_put_zero(struct wire_wr *w, size_t n)
{
	uint8_t *p = wire_put_space(w, n);

	if (!p)
		return false;
	if (n)
		memset(p, 0, n);
	return true;
}

static inline bool wire_put_u8(struct wire_wr *w, uint8_t v)
{
	return wire_put_bytes(w, &v, 1);
}

static inline bool wire_put_le16(struct wire_wr *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	return wire_put_bytes(w, b, 2);
}

static inline bool wire_put_le32(struct wire_wr *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	return wire_put_bytes(w, b, 4);
}

static inline bool wire_put_le64(struct wire_wr *w, uint64_t v)
{
	return wire_put_le32(w, (uint32_t)v) && wire_put_le32(w, (uint32_t)(v >> 32));
}

static inline bool wire_put_h16(struct wire_wr *w, uint16_t v)
{
	return wire_put_bytes(w, &v, sizeof(v));
}

static inline bool wire_put_h32(struct wire_wr *w, uint32_t v)
{
	return wire_put_bytes(w, &v, sizeof(v));
}

static inline bool wire_put_h64(struct wire_wr *w, uint64_t v)
{
	return wire_put_bytes(w, &v, sizeof(v));
}

#endif /* CMLOG_INCLUDE_WIRE_H */
