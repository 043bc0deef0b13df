/*
 * wire/wire.c: the mpqemu codec. Runs inside the sandboxed remote, where
 * the peer is assumed compromised: every header is checked against the
 * command table before its body is read, and every fd that arrives with a
 * message that is then refused is closed before we return.
 */
#include "wire/wire.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/*
 * Room for twice the fds any command takes: a peer that sends 9..16 fds is
 * told "too many fds" (and all of them are closed); beyond that the kernel
 * truncates the control message itself and discards the rest.
 */
#define CMSG_FDS_ROOM (2 * WIRE_MAX_FDS)
/* What wire_send_raw() can put on the wire, to provoke the truncation. */
#define SEND_FDS_ROOM 64

struct cmd_row {
	const char *name;
	uint32_t body_size;
	int32_t alt_body_size; /* a second accepted size, or -1 */
	uint8_t min_fds;
	uint8_t max_fds;
};

/*
 * What each command may carry. QEMU's validator checks less (it ignores fds
 * on config accesses and any size on DEVICE_RESET); we accept exactly what
 * QEMU 7.2 sends.
 */
static const struct cmd_row cmd_table[WIRE_CMD_MAX] = {
	[WIRE_SYNC_SYSMEM] = { "SYNC_SYSMEM", 192, -1, 1, WIRE_MAX_FDS },
	/* RET carries a u64, except the reply to DEVICE_RESET: no body. */
	[WIRE_RET] = { "RET", 8, 0, 0, 0 },
	[WIRE_PCI_CFGWRITE] = { "PCI_CFGWRITE", 12, -1, 0, 0 },
	[WIRE_PCI_CFGREAD] = { "PCI_CFGREAD", 12, -1, 0, 0 },
	[WIRE_BAR_WRITE] = { "BAR_WRITE", 24, -1, 0, 0 },
	[WIRE_BAR_READ] = { "BAR_READ", 24, -1, 0, 0 },
	[WIRE_SET_IRQFD] = { "SET_IRQFD", 0, -1, 2, 2 },
	[WIRE_DEVICE_RESET] = { "DEVICE_RESET", 0, -1, 0, 0 },
};

/* The 16-byte header: int cmd, 4 bytes of padding, size_t size. */
struct wire_hdr {
	uint32_t cmd;
	uint32_t pad;
	uint64_t size;
};
_Static_assert(sizeof(struct wire_hdr) == WIRE_HDR_SIZE, "header size");

const char *
wire_cmd_name(uint32_t cmd)
{
	if (cmd >= WIRE_CMD_MAX)
		return "?";
	return cmd_table[cmd].name;
}

const char *
wire_strerror(int err)
{
	switch (err) {
	case WIRE_E_TOO_BIG: return "size field larger than any message body";
	case WIRE_E_BAD_SIZE: return "size field wrong for this command";
	case WIRE_E_TRUNCATED: return "peer closed inside a message";
	case WIRE_E_UNKNOWN_CMD: return "unknown command";
	case WIRE_E_TOO_MANY_FDS: return "more fds than the command allows";
	case WIRE_E_UNEXPECTED_FDS: return "fds on a command that takes none";
	case WIRE_E_MISSING_FDS: return "fewer fds than the command needs";
	case WIRE_E_CTRUNC: return "control message truncated";
	case WIRE_E_BAD_CMSG: return "unexpected control data";
	case WIRE_E_TIMEOUT: return "deadline passed";
	case WIRE_E_TRAILING: return "bytes past the end of a reply";
	default: return strerror(-err);
	}
}

static void
close_fds(int *fds, unsigned int *nfds)
{
	for (unsigned int i = 0; i < *nfds; i++)
		close(fds[i]);
	*nfds = 0;
}

void
wire_msg_close_fds(struct wire_msg *m)
{
	close_fds(m->fds, &m->nfds);
}

void
wire_msg_init(struct wire_msg *m, enum wire_cmd cmd)
{
	memset(m, 0, sizeof(*m));
	m->cmd = cmd;
	if (cmd < WIRE_CMD_MAX)
		m->size = cmd_table[cmd].body_size;
}

void
wire_msg_ret(struct wire_msg *m, uint64_t val)
{
	wire_msg_init(m, WIRE_RET);
	m->body.ret = val;
}

static int
check_size_and_fds(uint32_t cmd, uint64_t size, unsigned int nfds)
{
	const struct cmd_row *row;

	if (size > WIRE_BODY_MAX)
		return WIRE_E_TOO_BIG;
	if (cmd >= WIRE_CMD_MAX)
		return WIRE_E_UNKNOWN_CMD;
	row = &cmd_table[cmd];
	if (size != row->body_size &&
	    (row->alt_body_size < 0 || size != (uint64_t)row->alt_body_size))
		return WIRE_E_BAD_SIZE;
	if (nfds > row->max_fds)
		return row->max_fds == 0 ? WIRE_E_UNEXPECTED_FDS
		    : WIRE_E_TOO_MANY_FDS;
	if (nfds < row->min_fds)
		return WIRE_E_MISSING_FDS;
	return 0;
}

int
wire_validate(const struct wire_msg *m)
{
	return check_size_and_fds(m->cmd, m->size, m->nfds);
}

/* Milliseconds on the monotonic clock. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
deadline_at(int deadline_ms)
{
	return deadline_ms < 0 ? -1 : now_ms() + deadline_ms;
}

/*
 * Wait until sock is ready for `events` or the absolute deadline passes.
 * Only called after a MSG_DONTWAIT call said EAGAIN.
 */
static int
wait_ready(int sock, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = sock, .events = events };
	struct timespec ts;
	int64_t left;
	int r;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return WIRE_E_TIMEOUT;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		r = ppoll(&pfd, 1, &ts, NULL);
		if (r > 0)
			return 0; /* ready, or an error the next call reports */
		if (r == 0)
			return WIRE_E_TIMEOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/*
 * Pull every fd out of a received control block into fds[] (room for
 * CMSG_FDS_ROOM). Anything but SCM_RIGHTS is refused; the fds still
 * count, so that the caller closes them.
 */
static int
collect_fds(struct msghdr *mh, int *fds, unsigned int *nfds)
{
	int err = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			err = WIRE_E_BAD_CMSG;
			continue;
		}
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n && *nfds < CMSG_FDS_ROOM; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			fds[(*nfds)++] = fd;
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		err = WIRE_E_CTRUNC;
	return err;
}

/*
 * One read of at most len bytes (at least one, unless the peer closed):
 * 0 on EOF, or a negative error. fds are appended as in recv_exact().
 */
static ssize_t
recv_some(int sock, void *buf, size_t len, int *fds, unsigned int *nfds,
    int64_t deadline)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * CMSG_FDS_ROOM)];
		struct cmsghdr align;
	} ctl;
	int flags = MSG_CMSG_CLOEXEC | (deadline >= 0 ? MSG_DONTWAIT : 0);

	for (;;) {
		struct iovec iov = { buf, len };
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		ssize_t r = recvmsg(sock, &mh, flags);
		int e;

		if (r < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			if ((err == EAGAIN || err == EWOULDBLOCK) && deadline >= 0) {
				int w = wait_ready(sock, POLLIN, deadline);

				if (w < 0)
					return w;
				continue;
			}
			return -err;
		}
		e = collect_fds(&mh, fds, nfds);
		if (e)
			return e;
		return r;
	}
}

/*
 * Read exactly len bytes. fds that arrive are appended to fds[]/nfds; the
 * caller decides whether they were allowed. Returns len, 0 when the peer
 * closed before the first byte, or a negative error.
 */
static ssize_t
recv_exact(int sock, void *buf, size_t len, int *fds, unsigned int *nfds,
    int64_t deadline)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = recv_some(sock, (char *)buf + got, len - got, fds,
		    nfds, deadline);

		if (r < 0)
			return r;
		if (r == 0)
			return got == 0 ? 0 : WIRE_E_TRUNCATED;
		got += (size_t)r;
	}
	return (ssize_t)len;
}

int
wire_recv(int sock, struct wire_msg *m, int deadline_ms)
{
	int64_t deadline = deadline_at(deadline_ms);
	int fds[CMSG_FDS_ROOM];
	unsigned int nfds = 0, body_nfds = 0;
	struct wire_hdr hdr;
	ssize_t r;
	int err;

	memset(m, 0, sizeof(*m));
	r = recv_exact(sock, &hdr, sizeof(hdr), fds, &nfds, deadline);
	if (r <= 0) {
		close_fds(fds, &nfds);
		return (int)r;
	}
	/* Size and command first: never read a body the table does not know. */
	err = check_size_and_fds(hdr.cmd, hdr.size, 0);
	if (err == WIRE_E_TOO_BIG || err == WIRE_E_UNKNOWN_CMD)
		goto fail;
	if (hdr.size > 0) {
		int body_fds[CMSG_FDS_ROOM];

		r = recv_exact(sock, m->body.raw, (size_t)hdr.size, body_fds,
		    &body_nfds, deadline);
		if (body_nfds > 0) {
			/* fds belong on the header's first byte, as QEMU sends. */
			close_fds(body_fds, &body_nfds);
			if (r >= 0)
				r = WIRE_E_BAD_CMSG;
		}
		if (r == 0)
			r = WIRE_E_TRUNCATED;
		if (r < 0) {
			err = (int)r;
			goto fail;
		}
	}
	err = check_size_and_fds(hdr.cmd, hdr.size, nfds);
	if (err)
		goto fail;
	m->cmd = hdr.cmd;
	m->size = (uint32_t)hdr.size;
	memcpy(m->fds, fds, nfds * sizeof(int));
	m->nfds = nfds;
	return 1;
fail:
	close_fds(fds, &nfds);
	memset(m, 0, sizeof(*m));
	return err;
}

int
wire_recv_reply(int sock, struct wire_msg *m, int deadline_ms)
{
	int64_t deadline = deadline_at(deadline_ms);
	uint8_t buf[WIRE_HDR_SIZE + WIRE_BODY_MAX];
	int fds[CMSG_FDS_ROOM];
	unsigned int nfds = 0;
	struct wire_hdr hdr;
	size_t got = 0, total;
	ssize_t r;
	int err;

	memset(m, 0, sizeof(*m));
	if (deadline >= 0) {
		err = wait_ready(sock, POLLIN, deadline);
		if (err < 0)
			return err;
	}
	/* One read for whatever has arrived, up to the largest message. */
	r = recv_some(sock, buf, sizeof(buf), fds, &nfds, deadline);
	if (r <= 0) {
		close_fds(fds, &nfds);
		return (int)r;
	}
	got = (size_t)r;
	if (got < sizeof(hdr)) {
		r = recv_exact(sock, buf + got, sizeof(hdr) - got, fds, &nfds,
		    deadline);
		if (r <= 0) {
			err = r == 0 ? WIRE_E_TRUNCATED : (int)r;
			goto fail;
		}
		got = sizeof(hdr);
	}
	memcpy(&hdr, buf, sizeof(hdr));
	err = check_size_and_fds(hdr.cmd, hdr.size, 0);
	if (err == WIRE_E_TOO_BIG || err == WIRE_E_UNKNOWN_CMD)
		goto fail;
	total = sizeof(hdr) + (size_t)hdr.size;
	if (got > total) {
		err = WIRE_E_TRAILING;
		goto fail;
	}
	if (got < total) {
		int body_fds[CMSG_FDS_ROOM];
		unsigned int body_nfds = 0;

		r = recv_exact(sock, buf + got, total - got, body_fds,
		    &body_nfds, deadline);
		if (body_nfds > 0) {
			close_fds(body_fds, &body_nfds);
			if (r >= 0)
				r = WIRE_E_BAD_CMSG;
		}
		if (r <= 0) {
			err = r == 0 ? WIRE_E_TRUNCATED : (int)r;
			goto fail;
		}
	}
	err = check_size_and_fds(hdr.cmd, hdr.size, nfds);
	if (err)
		goto fail;
	m->cmd = hdr.cmd;
	m->size = (uint32_t)hdr.size;
	memcpy(m->body.raw, buf + sizeof(hdr), (size_t)hdr.size);
	memcpy(m->fds, fds, nfds * sizeof(int));
	m->nfds = nfds;
	return 1;
fail:
	close_fds(fds, &nfds);
	memset(m, 0, sizeof(*m));
	return err;
}

/* sendmsg until every byte is out; fds ride on the first call only. */
static int
send_iov(int sock, struct iovec *iov, int iovcnt, const int *fds,
    unsigned int nfds, int64_t deadline)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SEND_FDS_ROOM)];
		struct cmsghdr align;
	} ctl;
	int flags = MSG_NOSIGNAL | (deadline >= 0 ? MSG_DONTWAIT : 0);
	bool fds_sent = nfds == 0;

	if (nfds > SEND_FDS_ROOM)
		return -EINVAL;
	memset(&ctl, 0, sizeof(ctl));
	while (iovcnt > 0) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };
		ssize_t r;

		if (!fds_sent) {
			struct cmsghdr *c;

			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		r = sendmsg(sock, &mh, flags);
		if (r < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			if ((err == EAGAIN || err == EWOULDBLOCK) && deadline >= 0) {
				int w = wait_ready(sock, POLLOUT, deadline);

				if (w < 0)
					return w;
				continue;
			}
			return -err;
		}
		fds_sent = true;
		/* Skip what went out; a short write leaves a partial iov. */
		while (iovcnt > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

int
wire_send(int sock, const struct wire_msg *m, int deadline_ms)
{
	struct wire_hdr hdr = { .cmd = m->cmd, .size = m->size };
	struct iovec iov[2] = {
		{ &hdr, sizeof(hdr) },
		{ (void *)m->body.raw, m->size },
	};
	int err = wire_validate(m);

	if (err)
		return err;
	return send_iov(sock, iov, m->size ? 2 : 1, m->fds, m->nfds,
	    deadline_at(deadline_ms));
}

int
wire_send_raw(int sock, const void *buf, size_t len, const int *fds,
    unsigned int nfds, int deadline_ms)
{
	struct iovec iov = { (void *)buf, len };

	return send_iov(sock, &iov, len ? 1 : 0, fds, nfds,
	    deadline_at(deadline_ms));
}
