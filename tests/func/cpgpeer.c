/*
 * cpgpeer: a foreign member of a log's CPG group, for tests/func/test_cluster_badpeer.sh.
 *
 *   cpgpeer --uuid U [--linger-ms N] [KIND...]
 *
 * Joins the group of log U (the name cmlogd uses: cluster/cpg.c cmcpg_group_name), waits for
 * its own join, multicasts one crafted message per KIND in agreed order, stays joined for
 * --linger-ms (default 1000) and leaves; without KINDs it only joins and stays silent.
 * KINDs (include/cluster_wire.h):
 *   version    a well-formed STATE header and payload in protocol version 77
 *   magic      a STATE with foreign magic
 *   spoof      a well-formed version-1 STATE whose header names node 1 (not us)
 *   short      10 bytes (shorter than the header)
 *   truncated  a version-1 COMMIT header whose mh_len claims more bytes than follow
 *   oversized  a version-1 COMMIT of 200 KiB (over CMSG_MAX_SIZE, mh_len consistent)
 *   commit     a well-formed version-1 COMMIT marking region 8000 (applied only if a member
 *              accepted us: the test checks it is not)
 * Prints "joined NAME as node N" and one "sent KIND LEN" line per message. Exit 0 when every
 * message was sent. It owns no state; it only speaks CPG (libcpg) and writes bytes by hand.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <corosync/cpg.h>

#include "cluster/cpg.h"
#include "cluster_wire.h"

#define PEER_BIG (200u * 1024u)

static bool joined;
static uint32_t my_nodeid;

static void on_deliver(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid, uint32_t pid,
		       void *msg, size_t len)
{
	(void)h;
	(void)group;
	(void)nodeid;
	(void)pid;
	(void)msg;
	(void)len;
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *group,
		       const struct cpg_address *members, size_t n_members,
		       const struct cpg_address *left, size_t n_left,
		       const struct cpg_address *joinedl, size_t n_joined)
{
	size_t i;

	(void)h;
	(void)group;
	(void)left;
	(void)n_left;
	(void)joinedl;
	(void)n_joined;
	for (i = 0; i < n_members; i++)
		if (members[i].nodeid == my_nodeid && members[i].pid == (uint32_t)getpid())
			joined = true;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static size_t hdr(uint8_t *b, uint32_t magic, uint16_t version, uint16_t type, uint32_t nodeid,
		  uint32_t plen)
{
	static uint32_t seq;

	put32(b, magic);
	put16(b + 4, version);
	put16(b + 6, type);
	put32(b + 8, nodeid);
	put32(b + 12, ++seq);
	put32(b + 16, plen);
	return CMSG_HDR_SIZE;
}

/* A STATE payload naming only @member (decodable; the group ignores its content). */
static size_t state(uint8_t *b, uint32_t member)
{
	memset(b, 0, CMSG_STATE_FIXED + 4);
	put32(b, 1);	 /* max_version */
	b[4] = 0;	 /* synced */
	b[5] = 1;	 /* quorate */
	put32(b + 8, 1); /* n_members */
	put32(b + CMSG_STATE_FIXED, member);
	return CMSG_STATE_FIXED + 4;
}

/* Build message @kind into @b; returns its length, 0 for an unknown kind. */
static size_t build(const char *kind, uint8_t *b)
{
	size_t n;

	if (!strcmp(kind, "version") || !strcmp(kind, "magic") || !strcmp(kind, "spoof")) {
		n = state(b + CMSG_HDR_SIZE, my_nodeid);
		hdr(b, strcmp(kind, "magic") ? CMSG_MAGIC : 0x21444142u,
		    (uint16_t)(strcmp(kind, "version") ? 1 : 77), CMSG_STATE,
		    strcmp(kind, "spoof") ? my_nodeid : 1u, (uint32_t)n);
		return CMSG_HDR_SIZE + n;
	}
	if (!strcmp(kind, "short")) {
		memset(b, 0x5a, 10);
		return 10;
	}
	if (!strcmp(kind, "truncated")) {
		hdr(b, CMSG_MAGIC, 1, CMSG_COMMIT, my_nodeid, CMSG_COMMIT_FIXED + 8);
		memset(b + CMSG_HDR_SIZE, 0, 8);
		return CMSG_HDR_SIZE + 8;
	}
	if (!strcmp(kind, "oversized")) {
		hdr(b, CMSG_MAGIC, 1, CMSG_COMMIT, my_nodeid, PEER_BIG - CMSG_HDR_SIZE);
		memset(b + CMSG_HDR_SIZE, 0, PEER_BIG - CMSG_HDR_SIZE);
		return PEER_BIG;
	}
	if (!strcmp(kind, "commit")) {
		hdr(b, CMSG_MAGIC, 1, CMSG_COMMIT, my_nodeid, CMSG_COMMIT_FIXED + 8);
		put64(b + CMSG_HDR_SIZE, 1);	  /* commit_id */
		put32(b + CMSG_HDR_SIZE + 8, 1);  /* n_marks */
		put32(b + CMSG_HDR_SIZE + 12, 0); /* n_clears */
		put64(b + CMSG_HDR_SIZE + 16, 8000);
		return CMSG_HDR_SIZE + CMSG_COMMIT_FIXED + 8;
	}
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Dispatch CPG events for @ms (or until @until becomes true). */
static int pump(cpg_handle_t h, int fd, int ms, const bool *until)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	struct pollfd p = {.fd = fd, .events = POLLIN};

	while (now_ms() < end && !(until && *until)) {
		if (poll(&p, 1, 50) > 0 && cpg_dispatch(h, CS_DISPATCH_ALL) != CS_OK)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	cpg_callbacks_t cb = {.cpg_deliver_fn = on_deliver, .cpg_confchg_fn = on_confchg};
	const char *uuid = NULL;
	int linger = 1000, i, fd = -1, ret = 1, tries;
	cpg_handle_t h;
	struct cpg_name name;
	unsigned int local = 0;
	uint8_t *buf = NULL;
	size_t len;
	cs_error_t e;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--uuid"))
			uuid = argv[i + 1];
		else if (!strcmp(argv[i], "--linger-ms"))
			linger = atoi(argv[i + 1]);
		else
			break;
	}
	if (!uuid) {
		fprintf(stderr, "usage: cpgpeer --uuid U [--linger-ms N] [KIND...]\n");
		return 2;
	}
	memset(&name, 0, sizeof(name));
	len = cmcpg_group_name(uuid, name.value, sizeof(name.value));
	if (!len) {
		fprintf(stderr, "cpgpeer: no group name for '%s'\n", uuid);
		return 2;
	}
	name.length = (uint32_t)len; /* with the NUL, as cluster/cpg.c joins */
	buf = calloc(1, PEER_BIG);
	if (!buf)
		return 1;
	if (cpg_initialize(&h, &cb) != CS_OK) {
		fprintf(stderr, "cpgpeer: cpg_initialize failed (corosync running?)\n");
		free(buf);
		return 1;
	}
	if (cpg_local_get(h, &local) != CS_OK || cpg_fd_get(h, &fd) != CS_OK ||
	    cpg_join(h, &name) != CS_OK) {
		fprintf(stderr, "cpgpeer: cannot join %s\n", name.value);
		goto out;
	}
	my_nodeid = local;
	if (pump(h, fd, 10000, &joined) || !joined) {
		fprintf(stderr, "cpgpeer: own join not seen\n");
		goto out;
	}
	printf("joined %s as node %u\n", name.value, my_nodeid);
	ret = 0;
	for (; i < argc; i++) {
		struct iovec iov;

		len = build(argv[i], buf);
		if (!len) {
			fprintf(stderr, "cpgpeer: unknown kind '%s'\n", argv[i]);
			ret = 2;
			break;
		}
		iov.iov_base = buf;
		iov.iov_len = len;
		for (tries = 0; tries < 100; tries++) {
			e = cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1);
			if (e != CS_ERR_TRY_AGAIN)
				break;
			pump(h, fd, 20, NULL);
		}
		if (e != CS_OK) {
			fprintf(stderr, "cpgpeer: send %s: cs error %d\n", argv[i], (int)e);
			ret = 1;
			break;
		}
		printf("sent %s %zu\n", argv[i], len);
		pump(h, fd, 100, NULL);
	}
	pump(h, fd, linger, NULL);
	cpg_leave(h, &name);
	pump(h, fd, 200, NULL);
out:
	cpg_finalize(h);
	free(buf);
	return ret;
}
