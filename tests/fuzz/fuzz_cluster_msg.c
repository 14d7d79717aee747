/*
 * fuzz_cluster_msg: the cluster message decoder (cluster/msg.h, include/cluster_wire.h).
 *
 * Every byte a peer multicasts reaches cmsg_decode before the group sees it, so a corrupt,
 * truncated or hostile message must get a reason code and never a crash or an over-read.
 * Input: one control byte (bit 0: take the transport sender from the header so the sender
 * check passes; bits 1-2: the accepted version range), four bytes of transport sender when
 * bit 0 is clear, then the message. The message is decoded from a heap copy of exactly its
 * length (ASan sees any read past it). When the decoder accepts, the target checks that the
 * decoded message keeps the documented limits (header fields, counts, sorted members and
 * MARKS regions, MARKS from version 2 and TAKEOVER/HANDOVER from version 3 on, borrowed bytes inside the buffer) and that re-encoding gives back the identical bytes:
 * an accepted message has exactly one encoding, so no two nodes can read it differently.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/msg.h"
#include "tests/fuzz/fuzz_common.h"
#include "wire.h"

/* The decoded message is large (a full commit): keep it off the stack. */
static struct cmsg msg;

static void check_accepted(const struct cmsg *m, const uint8_t *buf, size_t len, uint32_t sender,
			   uint16_t ver_min, uint16_t ver_max)
{
	uint8_t *again;
	size_t len2 = 0;

	FUZZ_CHECK(len >= CMSG_HDR_SIZE);
	FUZZ_CHECK(m->version >= ver_min && m->version <= ver_max);
	FUZZ_CHECK(m->type >= 1 && m->type <= CMSG_TYPE_MAX);
	FUZZ_CHECK(m->nodeid == sender);
	switch (m->type) {
	case CMSG_COMMIT:
		FUZZ_CHECK((uint64_t)m->u.commit.n_marks + m->u.commit.n_clears <=
			   CMSG_COMMIT_MAX_REGIONS);
		FUZZ_CHECK(len ==
			   CMSG_HDR_SIZE + CMSG_COMMIT_FIXED +
				   8u * ((size_t)m->u.commit.n_marks + m->u.commit.n_clears));
		break;
	case CMSG_STATE:
		FUZZ_CHECK(m->u.state.n_members >= 1 &&
			   m->u.state.n_members <= CMSG_STATE_MAX_MEMBERS);
		for (uint32_t i = 1; i < m->u.state.n_members; i++)
			FUZZ_CHECK(m->u.state.members[i - 1] < m->u.state.members[i]);
		break;
	case CMSG_EXCLUDE:
		/* members sorted and unique, each excluded node one of them, only known flags */
		FUZZ_CHECK((m->u.excl.flags & ~CMSG_EXCLUDE_SILENT) == 0);
		FUZZ_CHECK(m->u.excl.n_members <= CMSG_STATE_MAX_MEMBERS &&
			   m->u.excl.n_excluded <= m->u.excl.n_members);
		FUZZ_CHECK(len ==
			   CMSG_HDR_SIZE + CMSG_EXCLUDE_FIXED +
				   4u * ((size_t)m->u.excl.n_members + m->u.excl.n_excluded));
		for (uint32_t i = 1; i < m->u.excl.n_members; i++)
			FUZZ_CHECK(m->u.excl.members[i - 1] < m->u.excl.members[i]);
		for (uint32_t i = 1; i < m->u.excl.n_excluded; i++)
			FUZZ_CHECK(m->u.excl.excluded[i - 1] < m->u.excl.excluded[i]);
		break;
	case CMSG_MARKS:
		/* a version-2 message: counts, strictly ascending regions, no stray recovery */
		FUZZ_CHECK(m->version >= 2);
		FUZZ_CHECK(m->u.marks.n_regions <= CMSG_MARKS_MAX_REGIONS);
		FUZZ_CHECK(len ==
			   CMSG_HDR_SIZE + CMSG_MARKS_FIXED + 8u * (size_t)m->u.marks.n_regions);
		for (uint32_t i = 1; i < m->u.marks.n_regions; i++)
			FUZZ_CHECK(m->u.marks.regions[i - 1] < m->u.marks.regions[i]);
		FUZZ_CHECK(m->u.marks.has_rec || m->u.marks.rec_region == 0);
		break;
	case CMSG_TAKEOVER:
	case CMSG_HANDOVER:
		/* version 3 only, a node id that can be a member */
		FUZZ_CHECK(m->version >= 3 && m->u.writer != 0);
		FUZZ_CHECK(len == CMSG_HDR_SIZE + CMSG_WRITER_SIZE);
		break;
	case CMSG_SNAP:
		FUZZ_CHECK(m->u.snap.n_bytes <= CMSG_SNAP_MAX_BYTES);
		FUZZ_CHECK(m->u.snap.n_bytes == 0 ||
			   (m->u.snap.bytes >= buf &&
			    m->u.snap.bytes + m->u.snap.n_bytes == buf + len));
		break;
	default:
		break;
	}

	/* One encoding per accepted message. */
	again = malloc(len);
	FUZZ_CHECK(again != NULL);
	FUZZ_CHECK(cmsg_encode(m, NULL, again, len, &len2) == 0);
	FUZZ_CHECK(len2 == len);
	FUZZ_CHECK(memcmp(again, buf, len) == 0);
	FUZZ_CHECK(cmsg_encode(m, NULL, again, len - 1, &len2) == -ENOSPC);
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in;
	uint8_t ctl, *copy;
	uint32_t sender;
	uint16_t ver_min = 1, ver_max = 1;
	const uint8_t *body;
	size_t len;
	int rc;

	fin_init(&in, data, size);
	ctl = fin_u8(&in);
	sender = (ctl & 1) ? 0 : fin_u32(&in);
	switch ((ctl >> 1) & 3) {
	case 1:
		ver_max = 2;
		break;
	case 2:
		ver_min = 2;
		ver_max = 3;
		break;
	case 3:
		ver_min = 0;
		ver_max = UINT16_MAX;
		break;
	default:
		break;
	}
	body = fin_bytes(&in, in.n, &len);
	if ((ctl & 1) && len >= 12) {
		struct wire_rd rd;

		wire_rd_init(&rd, body + 8, 4);
		wire_get_le32(&rd, &sender);
	}
	copy = malloc(len ? len : 1);
	FUZZ_CHECK(copy != NULL);
	if (len)
		memcpy(copy, body, len);
	rc = cmsg_decode(&msg, copy, len, sender, ver_min, ver_max);
	FUZZ_CHECK(rc <= CMSG_OK && rc >= CMSG_E_VALUE);
	FUZZ_CHECK(cmsg_strerror(rc) != NULL);
	if (len < CMSG_HDR_SIZE)
		FUZZ_CHECK(rc == CMSG_E_SHORT);
	if (rc == CMSG_OK)
		check_accepted(&msg, copy, len, sender, ver_min, ver_max);
	free(copy);
	return 0;
}
