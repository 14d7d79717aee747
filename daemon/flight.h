/*
 * flight.h: the always-on flight recorder (style.md rule 35).
 *
 * A fixed-size in-memory ring of recent events (requests, replies, membership changes,
 * errors, disk events). Appending is O(1) and never allocates; the oldest event is
 * overwritten once the ring is full. `cmlogctl dump` reads it oldest-first over the
 * control socket, and the daemon writes it out on fatal paths.
 */
#ifndef CMLOG_DAEMON_FLIGHT_H
#define CMLOG_DAEMON_FLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** Longest uuid kept (dm uuids are at most 128 characters plus NUL, DM_UUID_LEN). */
#define FLIGHT_UUID_LEN 129
/** Longest event text kept, NUL included; longer texts are truncated and flagged. */
#define FLIGHT_TEXT_LEN 160

enum flight_kind {
	FLIGHT_REQUEST = 0,
	FLIGHT_REPLY,
	FLIGHT_MEMBERSHIP,
	FLIGHT_ERROR,
	FLIGHT_DISK,
	FLIGHT_KIND_COUNT,
};

struct flight_event {
	uint64_t seq;	  /**< 1-based position in the stream of all events ever added */
	uint64_t time_ms; /**< caller's clock (the daemon passes CLOCK_REALTIME ms) */
	enum flight_kind kind;
	bool truncated; /**< text (or uuid) was longer than the slot and was cut */
	char uuid[FLIGHT_UUID_LEN];
	char text[FLIGHT_TEXT_LEN];
};

struct flight;

/**
 * Create a recorder holding the last @capacity events (1..FLIGHT_MAX_CAPACITY).
 * Returns 0, -EINVAL on a bad capacity or -ENOMEM. Free with flight_destroy().
 */
#define FLIGHT_MAX_CAPACITY 1048576u
int flight_create(struct flight **out, size_t capacity);
void flight_destroy(struct flight *f);

/**
 * Append one event, overwriting the oldest when full. O(1), no allocation. @uuid may be
 * NULL (daemon-wide event). Text longer than FLIGHT_TEXT_LEN - 1 is truncated.
 */
void flight_add(struct flight *f, uint64_t time_ms, enum flight_kind kind, const char *uuid,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/** Events currently held (<= capacity). */
size_t flight_count(const struct flight *f);
size_t flight_capacity(const struct flight *f);
/** Events overwritten since creation (lost to wraparound). */
uint64_t flight_dropped(const struct flight *f);
/** The @i-th held event, oldest first (i < flight_count), or NULL when out of range. */
const struct flight_event *flight_get(const struct flight *f, size_t i);

/** "request", "reply", "membership", "error", "disk" ("?" for an unknown value). */
const char *flight_kind_str(enum flight_kind kind);

/**
 * Write every held event oldest-first as text lines ("seq time kind uuid text") to @out,
 * for fatal paths and SIGUSR1. Returns 0 or -EIO.
 */
int flight_print(const struct flight *f, FILE *out);

#endif /* CMLOG_DAEMON_FLIGHT_H */
