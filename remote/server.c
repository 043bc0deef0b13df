/*
 * remote/server.c: message dispatch for mpjail-lsi. Inside the sandbox:
 * the codec has already matched each message against its table row (size,
 * fd count); the handlers below check every value in the body.
 */
#include "remote/server.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "wire/wire.h"

/*
 * Once a message has begun, the rest must follow promptly, and a reply
 * must be taken: a peer that stalls longer than this is broken or hostile.
 */
#define PEER_DEADLINE_MS 10000

struct handler_ctx {
	struct remote *r;
	struct wire_msg *msg;
	struct wire_msg reply;
	bool has_reply;
	char *why;
	size_t whylen;
};

typedef int handler_fn(struct handler_ctx *c);

static void
reply_u64(struct handler_ctx *c, uint64_t val)
{
	wire_msg_ret(&c->reply, val);
	c->has_reply = true;
}

static int
on_sync_sysmem(struct handler_ctx *c)
{
	const struct wire_sync_sysmem *s = &c->msg->body.sysmem;
	struct dma_region_req req[WIRE_MAX_FDS];
	unsigned int n = c->msg->nfds;
	char detail[160];
	int err;

	for (unsigned int i = 0; i < n; i++) {
		req[i].gpa = s->gpa[i];
		req[i].size = s->size[i];
		req[i].offset = s->offset[i];
		req[i].fd = c->msg->fds[i];
	}
	c->msg->nfds = 0; /* dma_sync owns them now */
	err = dma_sync(&c->r->dma, req, n, detail, sizeof(detail));
	if (err)
		snprintf(c->why, c->whylen, "sync_sysmem: %s", detail);
	return err;
}

static int
on_set_irqfd(struct handler_ctx *c)
{
	int err;

	c->msg->nfds = 0; /* irq_set_fds owns them now */
	err = irq_set_fds(&c->r->irq, c->msg->fds[0], c->msg->fds[1], c->why,
	    c->whylen);
	return err;
}

/* Config errors are answered, not fatal: the peer learns, we go on. */
static int
on_cfg_read(struct handler_ctx *c)
{
	const struct wire_pci_conf *p = &c->msg->body.conf;
	uint32_t val;

	if (pci_config_read(&c->r->pci, p->addr, p->len, &val) < 0)
		reply_u64(c, WIRE_RET_ERROR);
	else
		reply_u64(c, val);
	return 0;
}

static int
on_cfg_write(struct handler_ctx *c)
{
	const struct wire_pci_conf *p = &c->msg->body.conf;

	if (pci_config_write(&c->r->pci, p->addr, p->val, p->len) < 0) {
		reply_u64(c, WIRE_RET_ERROR);
	} else {
		/* INTx Disable may have changed: re-drive the line. */
		lsi_update_irq(&c->r->lsi);
		reply_u64(c, 0);
	}
	return 0;
}

static int
bar_access(struct handler_ctx *c, bool write)
{
	const struct wire_bar *b = &c->msg->body.bar;
	unsigned int bar;
	uint32_t off;
	uint64_t val = 0;
	int err;

	err = pci_bar_lookup(&c->r->pci, b->memory != 0, b->addr, b->size, &bar,
	    &off);
	if (!err && write)
		err = lsi_bar_write(&c->r->lsi, bar, off, b->size, b->val);
	else if (!err)
		err = lsi_bar_read(&c->r->lsi, bar, off, b->size, &val);
	/*
	 * QEMU's remote treats a bad BAR address as fatal; we answer it with
	 * the error value and keep serving, which is what the proxy expects.
	 */
	reply_u64(c, err ? WIRE_RET_ERROR : val);
	return 0;
}

static int
on_bar_read(struct handler_ctx *c)
{
	return bar_access(c, false);
}

static int
on_bar_write(struct handler_ctx *c)
{
	return bar_access(c, true);
}

static int
on_device_reset(struct handler_ctx *c)
{
	/* As in QEMU: the device resets, its config space does not. */
	lsi_reset(&c->r->lsi);
	irq_set_level(&c->r->irq, false);
	pci_set_intx_status(&c->r->pci, false);
	wire_msg_init(&c->reply, WIRE_RET);
	c->reply.size = 0; /* QEMU's reset reply carries no body */
	c->has_reply = true;
	return 0;
}

static int
on_unexpected(struct handler_ctx *c)
{
	snprintf(c->why, c->whylen, "%s: the remote only sends this command",
	    wire_cmd_name(c->msg->cmd));
	return -EPROTO;
}

static const struct {
	handler_fn *fn;
} dispatch[WIRE_CMD_MAX] = {
	[WIRE_SYNC_SYSMEM] = { on_sync_sysmem },
	[WIRE_RET] = { on_unexpected },
	[WIRE_PCI_CFGWRITE] = { on_cfg_write },
	[WIRE_PCI_CFGREAD] = { on_cfg_read },
	[WIRE_BAR_WRITE] = { on_bar_write },
	[WIRE_BAR_READ] = { on_bar_read },
	[WIRE_SET_IRQFD] = { on_set_irqfd },
	[WIRE_DEVICE_RESET] = { on_device_reset },
};

void
srv_init(struct remote *r, int sock)
{
	memset(r, 0, sizeof(*r));
	r->sock = sock;
	pci_init(&r->pci, &lsi_pci_identity);
	irq_init(&r->irq);
	scsi_bus_init(&r->bus);
	lsi_init(&r->lsi, &r->pci, &r->dma, &r->irq);
	lsi_set_scsi(&r->lsi, &scsi_bus_ops, &r->bus);
}

void
srv_fini(struct remote *r)
{
	dma_clear(&r->dma);
	irq_close(&r->irq);
}

/* Read, check and answer one message. 1: go on, 0: peer closed, <0: error */
static int
serve_one(struct remote *r, char *why, size_t whylen)
{
	struct wire_msg msg;
	struct handler_ctx c = { .r = r, .msg = &msg, .why = why,
	    .whylen = whylen };
	int err;

	err = wire_recv(r->sock, &msg, PEER_DEADLINE_MS);
	if (err == 0)
		return 0;
	if (err < 0) {
		snprintf(why, whylen, "receive: %s", wire_strerror(err));
		return err;
	}
	err = dispatch[msg.cmd].fn(&c);
	wire_msg_close_fds(&msg); /* whatever the handler did not take */
	if (err)
		return err;
	if (c.has_reply) {
		err = wire_send(r->sock, &c.reply, PEER_DEADLINE_MS);
		if (err) {
			snprintf(why, whylen, "reply to %s: %s",
			    wire_cmd_name(msg.cmd), wire_strerror(err));
			return err;
		}
	}
	return 1;
}

int
srv_run(struct remote *r, char *why, size_t whylen)
{
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = r->sock, .events = POLLIN },
			{ .fd = r->irq.resamplefd, .events = POLLIN },
		};
		/*
		 * SCRIPTS that yielded after their slice continue here: poll
		 * without sleeping while the device has work, so the socket is
		 * still served between slices.
		 */
		static const struct timespec zero = { 0, 0 };
		bool busy = lsi_pending(&r->lsi);
		int n;

		n = ppoll(pfd, r->irq.resamplefd >= 0 ? 2 : 1, busy ? &zero :
		    NULL, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, whylen, "ppoll: %s", strerror(errno));
			return -errno;
		}
		if (pfd[1].revents & POLLIN)
			irq_resample(&r->irq);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			int ret = serve_one(r, why, whylen);

			if (ret <= 0)
				return ret;
		}
		if (lsi_pending(&r->lsi))
			lsi_run(&r->lsi);
	}
}
