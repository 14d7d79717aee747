/*
 * kern: the netlink connector link between cmlogd and the kernel's dm-log-userspace client.
 *
 * Owns the NETLINK_CONNECTOR socket (libnl-3 for setup, plain recvmsg/sendto on its fd for
 * the datagrams: the kernel's messages are NLMSG_DONE, which libnl's receive machinery only
 * hands to NL_CB_FINISH, and we need MSG_TRUNC and the sender address anyway).
 *
 * Invariants kept (kernel-protocol.md s13, s14):
 *   - subscribe with NETLINK_ADD_MEMBERSHIP(7), never a bind mask (a mask of 7 would be groups
 *     1-3 and deliver proc events); never set NETLINK_BROADCAST_ERROR (s14.21); a large
 *     receive buffer, and recv ENOBUFS means "requests lost, keep going";
 *   - every datagram goes through ulog_decode; malformed requests are answered here (error
 *     reply when req.seq is trustworthy, ack EAGAIN when only cn_msg.seq is), foreign
 *     connector traffic is ignored, truncated datagrams (MSG_TRUNC) are dropped;
 *   - only the kernel (port 0) is a legitimate sender; other senders only with the test
 *     switch cfg.userspace_peer;
 *   - one reply per datagram, sent to the sender's port (0 = the kernel), never two replies
 *     in one datagram (the connector core only reads the first message of a datagram);
 *     while corked (kern_cork) replies are queued in order and leave with one sendmmsg per
 *     KERN_TXQ replies, each still its own datagram, in the order they were made;
 *   - a bounded batch per kern_dispatch so one busy socket cannot starve the event loop;
 *     datagrams are received KERN_RXVEC at a time (recvmmsg), and a short batch means the
 *     socket is drained, so an idle socket costs no extra EAGAIN read;
 *   - bad-input log lines are rate limited per kind (KERN_LOG_BURST per second, then a
 *     "suppressed N" summary), so a flood cannot flood the log.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "daemon/kern.h"
#include "daemon/ulog_codec.h"

/* Receive buffer: well above the 528-byte maximum request, so MSG_TRUNC means garbage. */
#define KERN_RXBUF 8192
/* Datagrams per recvmmsg call. */
#define KERN_RXVEC 16
/* Replies queued while corked before they are sent (one sendmmsg). */
#define KERN_TXQ 32

/* Rate-limit kinds: one per decode reason, plus the link's own events. */
enum kern_rl_kind {
	KRL_PEER = ULOG_R_COUNT,
	KRL_TRUNC,
	KRL_OVERRUN,
	KRL_SEND,
	KRL_REFUSED,
	KRL_COUNT
};

struct kern_rl {
	int64_t window; /* CLOCK_MONOTONIC second of the current window */
	unsigned int count;
	uint64_t suppressed;
};

struct kern {
	struct nl_sock *sk;
	int fd;
	struct kern_cfg cfg;
	kern_request_fn fn;
	void *ctx;
	struct kern_stats st;
	struct kern_rl rl[KRL_COUNT];
	union {
		uint64_t align; /* the request's u64 fields sit at offset 36: keep 8-aligned */
		uint8_t b[KERN_RXBUF];
	} rx[KERN_RXVEC];
	uint8_t tx[ULOG_MAX_REPLY];
	/* Corked replies: encoded datagrams waiting for kern_uncork (or a full queue). */
	bool corked;
	unsigned int txn;
	struct {
		uint32_t portid;
		size_t len;
		bool ack; /* counts as an ack, not a full reply, once sent */
		uint8_t b[ULOG_MAX_REPLY];
	} txq[KERN_TXQ];
};

static const char *rl_kind_str(int kind)
{
	switch (kind) {
	case KRL_PEER:
		return "non-kernel sender";
	case KRL_TRUNC:
		return "truncated datagram";
	case KRL_OVERRUN:
		return "receive overrun";
	case KRL_SEND:
		return "send failure";
	case KRL_REFUSED:
		return "refused reply";
	default:
		return ulog_reason_str((enum ulog_reason)kind);
	}
}

__attribute__((format(printf, 3, 0))) static void klog_v(struct kern *k, int prio, const char *fmt,
							 va_list ap)
{
	char line[256];

	if (!k->cfg.log)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	k->cfg.log(k->cfg.log_ctx, prio, line);
}

__attribute__((format(printf, 3, 4))) static void klog(struct kern *k, int prio, const char *fmt,
						       ...)
{
	va_list ap;

	va_start(ap, fmt);
	klog_v(k, prio, fmt, ap);
	va_end(ap);
}

static int64_t now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static void rl_flush(struct kern *k, int kind, int64_t now)
{
	struct kern_rl *r = &k->rl[kind];

	if (r->window == now)
		return;
	if (r->suppressed)
		klog(k, LOG_WARNING, "kernel link: suppressed %llu more '%s' messages",
		     (unsigned long long)r->suppressed, rl_kind_str(kind));
	r->window = now;
	r->count = 0;
	r->suppressed = 0;
}

__attribute__((format(printf, 4, 5))) static void klog_rl(struct kern *k, int kind, int prio,
							  const char *fmt, ...)
{
	struct kern_rl *r = &k->rl[kind];
	va_list ap;

	rl_flush(k, kind, now_sec());
	if (r->count >= KERN_LOG_BURST) {
		r->suppressed++;
		return;
	}
	r->count++;
	va_start(ap, fmt);
	klog_v(k, prio, fmt, ap);
	va_end(ap);
}

static int set_rcvbuf(struct kern *k, int bytes)
{
	/* SO_RCVBUFFORCE ignores rmem_max but needs CAP_NET_ADMIN; fall back to SO_RCVBUF. */
	if (setsockopt(k->fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) == 0)
		return 0;
	if (setsockopt(k->fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) == 0) {
		klog(k, LOG_INFO,
		     "kernel link: SO_RCVBUFFORCE not permitted, receive buffer "
		     "capped by net.core.rmem_max");
		return 0;
	}
	return -errno;
}

int kern_open(struct kern **out, const struct kern_cfg *cfg, kern_request_fn fn, void *ctx)
{
	struct kern *k;
	int r;

	if (!out || !fn)
		return -EINVAL;
	*out = NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	if (cfg)
		k->cfg = *cfg;
	if (k->cfg.rcvbuf <= 0)
		k->cfg.rcvbuf = KERN_DEFAULT_RCVBUF;
	if (k->cfg.batch == 0)
		k->cfg.batch = KERN_DEFAULT_BATCH;
	k->fn = fn;
	k->ctx = ctx;
	k->fd = -1;
	if (k->cfg.no_socket) {
		*out = k;
		return 0;
	}

	k->sk = nl_socket_alloc();
	if (!k->sk) {
		r = -ENOMEM;
		goto err_free;
	}
	/* Kernel requests carry arbitrary seqs and the connector never acks. */
	nl_socket_disable_seq_check(k->sk);
	nl_socket_disable_auto_ack(k->sk);
	r = nl_connect(k->sk, ULOG_NETLINK_CONNECTOR);
	if (r < 0) {
		klog(k, LOG_ERR, "kernel link: cannot open a NETLINK_CONNECTOR socket: %s",
		     nl_geterror(r));
		r = errno ? -errno : -EIO;
		goto err_sock;
	}
	k->fd = nl_socket_get_fd(k->sk);
	r = nl_socket_add_membership(k->sk, ULOG_CN_IDX);
	if (r < 0) {
		klog(k, LOG_ERR, "kernel link: cannot join connector group %d: %s", ULOG_CN_IDX,
		     nl_geterror(r));
		r = errno ? -errno : -EPERM;
		goto err_sock;
	}
	r = nl_socket_set_nonblocking(k->sk);
	if (r < 0) {
		r = errno ? -errno : -EIO;
		goto err_sock;
	}
	r = set_rcvbuf(k, k->cfg.rcvbuf);
	if (r < 0) {
		klog(k, LOG_ERR, "kernel link: cannot set the receive buffer: %s", strerror(-r));
		goto err_sock;
	}
	klog(k, LOG_INFO, "kernel link: listening on connector %d:%d, port %u%s", ULOG_CN_IDX,
	     ULOG_CN_VAL, nl_socket_get_local_port(k->sk),
	     k->cfg.userspace_peer ? " (accepting user-space peers: test mode)" : "");
	*out = k;
	return 0;

err_sock:
	nl_socket_free(k->sk);
err_free:
	free(k);
	return r;
}

void kern_close(struct kern *k)
{
	if (!k)
		return;
	if (k->sk)
		nl_socket_free(k->sk); /* closes the fd */
	free(k);
}

int kern_fd(const struct kern *k)
{
	return k->fd;
}

uint32_t kern_portid(const struct kern *k)
{
	return k->sk ? nl_socket_get_local_port(k->sk) : 0;
}

void kern_get_stats(const struct kern *k, struct kern_stats *st)
{
	*st = k->st;
}

static int send_to(struct kern *k, uint32_t portid, const void *buf, size_t len)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_pid = portid, .nl_groups = 0};
	ssize_t n;

	if (k->cfg.send) {
		int r = k->cfg.send(k->cfg.send_ctx, portid, buf, len);

		if (r < 0) {
			k->st.send_errors++;
			klog_rl(k, KRL_SEND, LOG_ERR, "kernel link: reply to port %u failed: %s",
				portid, strerror(-r));
		}
		return r;
	}
	if (k->fd < 0) {
		k->st.send_errors++;
		return -ENOTCONN;
	}
	do {
		n = sendto(k->fd, buf, len, 0, (const struct sockaddr *)&sa, sizeof(sa));
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;

		k->st.send_errors++;
		klog_rl(k, KRL_SEND, LOG_ERR, "kernel link: reply to port %u failed: %s", portid,
			strerror(e));
		return -e;
	}
	if ((size_t)n != len) {
		k->st.send_errors++;
		return -EIO;
	}
	return 0;
}

/*
 * Send the corked replies in order: one sendmmsg for all of them (the test seam: one
 * cfg.send each). A failed datagram is counted, logged (rate limited) and skipped; the rest
 * still go. Returns 0, or the last send error.
 */
static int txq_flush(struct kern *k)
{
	struct sockaddr_nl sa[KERN_TXQ];
	struct mmsghdr mm[KERN_TXQ];
	struct iovec iov[KERN_TXQ];
	unsigned int i, off = 0, n = k->txn;
	int last = 0, r;

	k->txn = 0;
	if (n == 0)
		return 0;
	if (k->cfg.send || k->fd < 0) {
		for (i = 0; i < n; i++) {
			r = send_to(k, k->txq[i].portid, k->txq[i].b, k->txq[i].len);
			if (r)
				last = r;
			else if (k->txq[i].ack)
				k->st.acks++;
			else
				k->st.replies++;
		}
		return last;
	}
	memset(mm, 0, sizeof(mm[0]) * n);
	for (i = 0; i < n; i++) {
		sa[i] = (struct sockaddr_nl){.nl_family = AF_NETLINK, .nl_pid = k->txq[i].portid};
		iov[i].iov_base = k->txq[i].b;
		iov[i].iov_len = k->txq[i].len;
		mm[i].msg_hdr.msg_name = &sa[i];
		mm[i].msg_hdr.msg_namelen = sizeof(sa[i]);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	while (off < n) {
		r = sendmmsg(k->fd, mm + off, n - off, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* The datagram at @off failed (sendmmsg reports the first failure only
			 * when nothing was sent before it): count it, skip it, send the rest. */
			int e = r < 0 ? errno : EIO;

			k->st.send_errors++;
			klog_rl(k, KRL_SEND, LOG_ERR, "kernel link: reply to port %u failed: %s",
				k->txq[off].portid, strerror(e));
			last = -e;
			off++;
			continue;
		}
		for (i = off; i < off + (unsigned int)r; i++) {
			if (mm[i].msg_len != k->txq[i].len)
				k->st.send_errors++;
			else if (k->txq[i].ack)
				k->st.acks++;
			else
				k->st.replies++;
		}
		off += (unsigned int)r;
	}
	return last;
}

/* Where the next reply is encoded: the next queue slot while corked (full: sent first). */
static uint8_t *tx_buf(struct kern *k)
{
	if (!k->corked)
		return k->tx;
	if (k->txn == KERN_TXQ)
		txq_flush(k);
	return k->txq[k->txn].b;
}

/* The reply just encoded into tx_buf(): send it at once, or keep it while corked. */
static int emit(struct kern *k, uint32_t portid, size_t len, bool ack)
{
	int r;

	if (k->corked) {
		k->txq[k->txn].portid = portid;
		k->txq[k->txn].len = len;
		k->txq[k->txn].ack = ack;
		k->txn++;
		return 0;
	}
	r = send_to(k, portid, k->tx, len);
	if (r == 0) {
		if (ack)
			k->st.acks++;
		else
			k->st.replies++;
	}
	return r;
}

void kern_cork(struct kern *k)
{
	k->corked = true;
}

int kern_uncork(struct kern *k)
{
	k->corked = false;
	return txq_flush(k);
}

int kern_reply(struct kern *k, const struct ulog_msg *req, int error, const void *data, size_t len)
{
	uint8_t *buf = tx_buf(k);
	int n = ulog_encode_reply(buf, ULOG_MAX_REPLY, req, error, data, len);

	if (n < 0) {
		k->st.refused++;
		klog_rl(k, KRL_REFUSED, LOG_ERR,
			"kernel link: refusing to send %s reply seq %u (error %d, %zu bytes): it "
			"would break the kernel's contract",
			ulog_type_str(req->type), req->seq, error, len);
		return n;
	}
	return emit(k, req->src_portid, (size_t)n, false);
}

int kern_ack(struct kern *k, const struct ulog_msg *req, int pos_errno)
{
	uint8_t *buf = tx_buf(k);
	int n = ulog_encode_ack(buf, ULOG_MAX_REPLY, req, pos_errno);

	if (n < 0) {
		k->st.refused++;
		klog_rl(k, KRL_REFUSED, LOG_ERR,
			"kernel link: refusing to send ack %d for %s seq %u", pos_errno,
			ulog_type_str(req->type), req->cn_seq);
		return n;
	}
	return emit(k, req->src_portid, (size_t)n, true);
}

int kern_reply_u64(struct kern *k, const struct ulog_msg *req, uint64_t v)
{
	return kern_reply(k, req, 0, &v, sizeof(v));
}

int kern_reply_bool(struct kern *k, const struct ulog_msg *req, bool v)
{
	int64_t x = v ? 1 : 0;

	return kern_reply(k, req, 0, &x, sizeof(x));
}

int kern_reply_pair(struct kern *k, const struct ulog_msg *req, bool a, uint64_t b)
{
	uint8_t d[16];
	int64_t x = a ? 1 : 0;

	memcpy(d, &x, 8);
	memcpy(d + 8, &b, 8);
	return kern_reply(k, req, 0, d, sizeof(d));
}

int kern_reply_str(struct kern *k, const struct ulog_msg *req, const char *s)
{
	if (!s)
		return -EINVAL;
	return kern_reply(k, req, 0, s, strlen(s) + 1);
}

/* A printable copy of an untrusted uuid for log lines (no control bytes, at most 32). */
static void printable_uuid(const char *uuid, char *out, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len && uuid[i]; i++)
		out[i] = (uuid[i] >= 0x20 && uuid[i] < 0x7f) ? uuid[i] : '?';
	out[i] = '\0';
}

static void handle(struct kern *k, const void *buf, size_t len, uint32_t src)
{
	struct ulog_msg msg;
	enum ulog_reason why;
	char uuid[33];
	int err;

	switch (ulog_decode(buf, len, src, &msg, &err, &why)) {
	case ULOG_OK:
		k->st.requests++;
		k->fn(k->ctx, &msg);
		break;
	case ULOG_REPLY_ERROR:
		k->st.rejected++;
		printable_uuid(msg.uuid, uuid, sizeof(uuid));
		klog_rl(k, (int)why, LOG_WARNING,
			"kernel link: bad %s request seq %u (type 0x%x, %u bytes, uuid '%s'): "
			"%s; answering %d",
			ulog_type_str(msg.type), msg.seq, msg.type, msg.data_size, uuid,
			ulog_reason_str(why), err);
		kern_reply(k, &msg, err, NULL, 0);
		break;
	case ULOG_ACK_EAGAIN:
		k->st.eagain++;
		klog_rl(k, (int)why, LOG_WARNING,
			"kernel link: corrupt datagram (%zu bytes, cn seq %u): %s; asking for a "
			"resend",
			len, msg.cn_seq, ulog_reason_str(why));
		kern_ack(k, &msg, EAGAIN);
		break;
	case ULOG_DROP:
		if (why == ULOG_R_FOREIGN) {
			k->st.foreign++;
			break;
		}
		k->st.dropped++;
		klog_rl(k, (int)why, LOG_WARNING,
			"kernel link: dropped a %zu-byte datagram from port %u: %s", len, src,
			ulog_reason_str(why));
		break;
	}
}

void kern_feed(struct kern *k, const void *buf, size_t len, uint32_t src_portid, bool truncated)
{
	k->st.datagrams++;
	if (truncated) {
		k->st.truncated++;
		klog_rl(k, KRL_TRUNC, LOG_WARNING,
			"kernel link: dropped a datagram larger than %d bytes from port %u",
			KERN_RXBUF, src_portid);
		return;
	}
	if (src_portid != 0 && !k->cfg.userspace_peer) {
		k->st.peer_dropped++;
		klog_rl(k, KRL_PEER, LOG_WARNING,
			"kernel link: ignoring a datagram from user-space port %u (only the kernel "
			"may send requests)",
			src_portid);
		return;
	}
	handle(k, buf, len, src_portid);
}

int kern_dispatch(struct kern *k)
{
	unsigned int done = 0;
	int64_t now = now_sec();
	int i;

	if (k->fd < 0)
		return -ENOTCONN;
	/* Summaries of suppressed lines are due even when that kind of input stopped. */
	for (i = 0; i < KRL_COUNT; i++)
		if (k->rl[i].suppressed)
			rl_flush(k, i, now);

	while (done < k->cfg.batch) {
		struct sockaddr_nl sa[KERN_RXVEC];
		struct iovec iov[KERN_RXVEC];
		struct mmsghdr mm[KERN_RXVEC];
		unsigned int want = k->cfg.batch - done, j;
		int n;

		if (want > KERN_RXVEC)
			want = KERN_RXVEC;
		memset(mm, 0, sizeof(mm[0]) * want);
		memset(sa, 0, sizeof(sa[0]) * want);
		for (j = 0; j < want; j++) {
			iov[j].iov_base = k->rx[j].b;
			iov[j].iov_len = sizeof(k->rx[j].b);
			mm[j].msg_hdr.msg_name = &sa[j];
			mm[j].msg_hdr.msg_namelen = sizeof(sa[j]);
			mm[j].msg_hdr.msg_iov = &iov[j];
			mm[j].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(k->fd, mm, want, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) {
				/* The socket overflowed: the kernel saw -ESRCH for some requests
				 * and will resend or re-CTR them (kernel-protocol.md s6). */
				k->st.overruns++;
				klog_rl(k, KRL_OVERRUN, LOG_WARNING,
					"kernel link: receive buffer overrun, kernel requests lost "
					"(the kernel resends them)");
				done++;
				continue;
			}
			klog(k, LOG_ERR, "kernel link: receive failed: %s", strerror(errno));
			return -errno;
		}
		for (j = 0; j < (unsigned int)n; j++)
			kern_feed(k, k->rx[j].b, mm[j].msg_len, sa[j].nl_pid,
				  (mm[j].msg_hdr.msg_flags & MSG_TRUNC) != 0);
		done += (unsigned int)n;
		/*
		 * Fewer than asked: the socket was empty (recvmmsg stops at EAGAIN; an error
		 * after the first datagram is kept as the socket error, which wakes the poll
		 * and is reported by the next call).
		 */
		if ((unsigned int)n < want)
			break;
	}
	return (int)done;
}
