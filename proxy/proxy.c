/*
 * proxy/proxy.c: libmpjail-proxy, the VMM end of the mpqemu protocol.
 * Runs in the VMM or a test; the remote on the other end may be hostile
 * or dead, so every wait has a deadline and no reply is taken on trust.
 */
#include "mpjail-proxy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

#define PUBLIC __attribute__((visibility("default")))
#define DEFAULT_TIMEOUT_MS 5000u

struct proxy_dev {
	int sock;
	int timeout_ms;
	bool broken; /* out of step with the remote: refuse further calls */
};

PUBLIC int
proxy_attach(struct proxy_dev **out, int sock, unsigned int timeout_ms)
{
	struct proxy_dev *d;

	if (!out || sock < 0 || timeout_ms > 3600u * 1000u)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->sock = sock;
	d->timeout_ms = (int)(timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS);
	*out = d;
	return 0;
}

PUBLIC void
proxy_detach(struct proxy_dev *dev)
{
	free(dev);
}

PUBLIC int
proxy_fd(const struct proxy_dev *dev)
{
	return dev->sock;
}

/* Map codec errors onto the library's documented set. */
static int
link_error(struct proxy_dev *dev, int err)
{
	dev->broken = true;
	if (err == -ETIMEDOUT)
		return -ETIMEDOUT;
	if (err == -EPIPE || err == -ECONNRESET || err == 0)
		return -EPIPE;
	return -EPROTO;
}

static int
send_only(struct proxy_dev *dev, const struct wire_msg *m)
{
	int err;

	if (dev->broken)
		return -EPIPE;
	err = wire_send(dev->sock, m, dev->timeout_ms);
	return err ? link_error(dev, err) : 0;
}

/*
 * Send and wait for the RET. *val gets its value (0 for an empty RET);
 * the error value becomes -EIO.
 */
static int
round_trip(struct proxy_dev *dev, const struct wire_msg *m, uint64_t *val)
{
	struct wire_msg reply;
	int err;

	err = send_only(dev, m);
	if (err)
		return err;
	err = wire_recv_reply(dev->sock, &reply, dev->timeout_ms);
	if (err <= 0)
		return link_error(dev, err);
	if (reply.cmd != WIRE_RET) {
		wire_msg_close_fds(&reply);
		return link_error(dev, -EPROTO);
	}
	if (val)
		*val = reply.size ? reply.body.ret : 0;
	if (reply.size && reply.body.ret == WIRE_RET_ERROR)
		return -EIO;
	return 0;
}

static bool
config_len_ok(unsigned int len)
{
	return len == 1 || len == 2 || len == 4;
}

static int
config_access(struct proxy_dev *dev, enum wire_cmd cmd, uint32_t addr,
    unsigned int len, uint32_t wval, uint64_t *rval)
{
	struct wire_msg m;

	if (!dev || !config_len_ok(len) || addr > 255u)
		return -EINVAL;
	wire_msg_init(&m, cmd);
	m.body.conf.addr = addr;
	m.body.conf.val = wval;
	m.body.conf.len = (int32_t)len;
	return round_trip(dev, &m, rval);
}

PUBLIC int
proxy_config_read(struct proxy_dev *dev, uint32_t addr, unsigned int len,
    uint32_t *val)
{
	uint64_t v = 0;
	int err;

	if (!val)
		return -EINVAL;
	err = config_access(dev, WIRE_PCI_CFGREAD, addr, len, 0, &v);
	if (!err)
		*val = (uint32_t)v;
	return err;
}

PUBLIC int
proxy_config_write(struct proxy_dev *dev, uint32_t addr, unsigned int len,
    uint32_t val)
{
	return config_access(dev, WIRE_PCI_CFGWRITE, addr, len, val, NULL);
}

static int
bar_access(struct proxy_dev *dev, enum wire_cmd cmd, enum proxy_space space,
    uint64_t addr, unsigned int size, uint64_t wval, uint64_t *rval)
{
	struct wire_msg m;

	if (!dev || (space != PROXY_SPACE_IO && space != PROXY_SPACE_MEMORY) ||
	    (size != 1 && size != 2 && size != 4 && size != 8))
		return -EINVAL;
	wire_msg_init(&m, cmd);
	m.body.bar.addr = addr;
	m.body.bar.val = wval;
	m.body.bar.size = size;
	m.body.bar.memory = space == PROXY_SPACE_MEMORY;
	return round_trip(dev, &m, rval);
}

PUBLIC int
proxy_bar_read(struct proxy_dev *dev, enum proxy_space space, uint64_t addr,
    unsigned int size, uint64_t *val)
{
	if (!val)
		return -EINVAL;
	return bar_access(dev, WIRE_BAR_READ, space, addr, size, 0, val);
}

PUBLIC int
proxy_bar_write(struct proxy_dev *dev, enum proxy_space space, uint64_t addr,
    unsigned int size, uint64_t val)
{
	return bar_access(dev, WIRE_BAR_WRITE, space, addr, size, val, NULL);
}

PUBLIC int
proxy_bar_sizing(struct proxy_dev *dev, unsigned int n, uint32_t *orig,
    uint32_t *sizing)
{
	uint32_t reg = 0x10u + 4u * n, o;
	int err;

	if (n > 5 || !sizing)
		return -EINVAL;
	err = proxy_config_read(dev, reg, 4, &o);
	if (!err)
		err = proxy_config_write(dev, reg, 4, 0xffffffffu);
	if (!err)
		err = proxy_config_read(dev, reg, 4, sizing);
	if (!err)
		err = proxy_config_write(dev, reg, 4, o);
	if (!err && orig)
		*orig = o;
	return err;
}

PUBLIC int
proxy_sync_sysmem(struct proxy_dev *dev, const struct proxy_region *r,
    unsigned int n)
{
	struct wire_msg m;

	if (!dev || !r || n == 0 || n > PROXY_MAX_REGIONS)
		return -EINVAL;
	wire_msg_init(&m, WIRE_SYNC_SYSMEM);
	for (unsigned int i = 0; i < n; i++) {
		if (r[i].fd < 0)
			return -EINVAL;
		m.body.sysmem.gpa[i] = r[i].gpa;
		m.body.sysmem.size[i] = r[i].size;
		m.body.sysmem.offset[i] = r[i].offset;
		m.fds[i] = r[i].fd;
	}
	m.nfds = n;
	return send_only(dev, &m);
}

PUBLIC int
proxy_set_irqfd(struct proxy_dev *dev, int irqfd, int resamplefd)
{
	struct wire_msg m;

	if (!dev || irqfd < 0 || resamplefd < 0)
		return -EINVAL;
	wire_msg_init(&m, WIRE_SET_IRQFD);
	m.fds[0] = irqfd;
	m.fds[1] = resamplefd;
	m.nfds = 2;
	return send_only(dev, &m);
}

PUBLIC int
proxy_device_reset(struct proxy_dev *dev)
{
	struct wire_msg m;

	if (!dev)
		return -EINVAL;
	wire_msg_init(&m, WIRE_DEVICE_RESET);
	return round_trip(dev, &m, NULL);
}
