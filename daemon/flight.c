/*
 * flight.c: the flight recorder ring (style.md rule 35).
 *
 * Owns a fixed array of struct flight_event allocated once at creation. Invariants:
 * - append is O(1): it formats straight into the slot after the newest one and never
 *   allocates, so it is safe to call from any code path of the single-threaded loop,
 *   including error paths under memory pressure;
 * - `head` is the slot of the oldest held event and `count` the number held, so readers
 *   walk head, head+1, ... (mod capacity) and always see oldest-first order;
 * - every event gets the next sequence number, so a reader can tell how many were lost.
 */
#include "daemon/flight.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct flight {
	size_t capacity;
	size_t head;  /* slot of the oldest event */
	size_t count; /* events held */
	uint64_t next_seq;
	uint64_t dropped;
	struct flight_event ev[];
};

static const char *const kind_names[FLIGHT_KIND_COUNT] = {
	[FLIGHT_REQUEST] = "request", [FLIGHT_REPLY] = "reply", [FLIGHT_MEMBERSHIP] = "membership",
	[FLIGHT_ERROR] = "error",     [FLIGHT_DISK] = "disk",
};

const char *flight_kind_str(enum flight_kind kind)
{
	if ((unsigned)kind >= FLIGHT_KIND_COUNT)
		return "?";
	return kind_names[kind];
}

int flight_create(struct flight **out, size_t capacity)
{
	struct flight *f;

	*out = NULL;
	if (capacity == 0 || capacity > FLIGHT_MAX_CAPACITY)
		return -EINVAL;
	f = calloc(1, sizeof(*f) + capacity * sizeof(f->ev[0]));
	if (!f)
		return -ENOMEM;
	f->capacity = capacity;
	f->next_seq = 1;
	*out = f;
	return 0;
}

void flight_destroy(struct flight *f)
{
	free(f);
}

void flight_add(struct flight *f, uint64_t time_ms, enum flight_kind kind, const char *uuid,
		const char *fmt, ...)
{
	struct flight_event *e;
	va_list ap;
	size_t slot;
	int n;

	if (f->count < f->capacity) {
		slot = (f->head + f->count) % f->capacity;
		f->count++;
	} else {
		/* Full: the oldest slot becomes the newest. */
		slot = f->head;
		f->head = (f->head + 1) % f->capacity;
		f->dropped++;
	}
	e = &f->ev[slot];
	e->seq = f->next_seq++;
	e->time_ms = time_ms;
	e->kind = (unsigned)kind < FLIGHT_KIND_COUNT ? kind : FLIGHT_ERROR;
	e->truncated = false;
	e->uuid[0] = '\0';
	if (uuid) {
		size_t ul = strlen(uuid);

		if (ul >= sizeof(e->uuid)) {
			ul = sizeof(e->uuid) - 1;
			e->truncated = true;
		}
		memcpy(e->uuid, uuid, ul);
		e->uuid[ul] = '\0';
	}
	va_start(ap, fmt);
	n = vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	if (n < 0) {
		e->text[0] = '\0';
		e->truncated = true;
	} else if ((size_t)n >= sizeof(e->text)) {
		e->truncated = true;
	}
}

size_t flight_count(const struct flight *f)
{
	return f->count;
}

size_t flight_capacity(const struct flight *f)
{
	return f->capacity;
}

uint64_t flight_dropped(const struct flight *f)
{
	return f->dropped;
}

const struct flight_event *flight_get(const struct flight *f, size_t i)
{
	if (i >= f->count)
		return NULL;
	return &f->ev[(f->head + i) % f->capacity];
}

int flight_print(const struct flight *f, FILE *out)
{
	size_t i;

	if (fprintf(out, "# flight recorder: %zu events, %llu dropped\n", f->count,
		    (unsigned long long)f->dropped) < 0)
		return -EIO;
	for (i = 0; i < f->count; i++) {
		const struct flight_event *e = flight_get(f, i);

		if (fprintf(out, "%llu %llu.%03llu %s %s %s%s\n", (unsigned long long)e->seq,
			    (unsigned long long)(e->time_ms / 1000),
			    (unsigned long long)(e->time_ms % 1000), flight_kind_str(e->kind),
			    e->uuid[0] ? e->uuid : "-", e->text,
			    e->truncated ? " [truncated]" : "") < 0)
			return -EIO;
	}
	return fflush(out) == 0 ? 0 : -EIO;
}
