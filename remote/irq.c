/*
 * remote/irq.c: INTx over eventfds. Inside the sandbox; the fds come from
 * the untrusted peer, so each is proven to be an eventfd before use.
 */
#include "remote/irq.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
irq_init(struct irq_line *irq)
{
	irq->irqfd = -1;
	irq->resamplefd = -1;
	irq->level = false;
}

/*
 * An eventfd is an anonymous inode (no file type bits) that accepts an
 * 8-byte write of zero, which adds nothing to its counter. Pipes, sockets,
 * files and devices have a file type; the other anonymous inodes (timerfd,
 * signalfd, epoll, inotify, pidfd, io_uring, ...) refuse such a write.
 * We cannot ask /proc: the sandbox has none.
 */
static bool
is_eventfd(int fd)
{
	struct stat st;
	uint64_t zero = 0;

	if (fstat(fd, &st) < 0 || (st.st_mode & S_IFMT) != 0)
		return false;
	return write(fd, &zero, sizeof(zero)) == (ssize_t)sizeof(zero);
}

int
irq_set_fds(struct irq_line *irq, int irqfd, int resamplefd, char *why,
    size_t whylen)
{
	const char *bad = NULL;

	if (!is_eventfd(irqfd))
		bad = "interrupt fd";
	else if (!is_eventfd(resamplefd))
		bad = "resample fd";
	if (bad) {
		snprintf(why, whylen, "set_irqfd: %s is not an eventfd", bad);
		close(irqfd);
		close(resamplefd);
		return -EINVAL;
	}
	/*
	 * Never block on the peer's counters: a hostile peer could drain the
	 * resample fd behind our back or saturate the irqfd. QEMU makes its
	 * eventfds non-blocking already; this changes nothing for it.
	 */
	if (fcntl(irqfd, F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(resamplefd, F_SETFL, O_NONBLOCK) < 0) {
		snprintf(why, whylen, "set_irqfd: F_SETFL: %s", strerror(errno));
		close(irqfd);
		close(resamplefd);
		return -EINVAL;
	}
	irq_close(irq);
	irq->irqfd = irqfd;
	irq->resamplefd = resamplefd;
	/* A line already high must reach the new irqfd. */
	if (irq->level)
		irq_resample(irq);
	return 0;
}

static void
signal_irqfd(const struct irq_line *irq)
{
	uint64_t one = 1;

	/*
	 * A failed write means the counter is saturated, so an interrupt is
	 * already pending; there is nothing better to do.
	 */
	if (irq->irqfd >= 0)
		(void)!write(irq->irqfd, &one, sizeof(one));
}

void
irq_set_level(struct irq_line *irq, bool level)
{
	bool rising = level && !irq->level;

	irq->level = level;
	if (rising)
		signal_irqfd(irq);
}

void
irq_resample(struct irq_line *irq)
{
	uint64_t count;

	if (irq->resamplefd >= 0)
		(void)!read(irq->resamplefd, &count, sizeof(count));
	if (irq->level)
		signal_irqfd(irq);
}

void
irq_close(struct irq_line *irq)
{
	if (irq->irqfd >= 0)
		close(irq->irqfd);
	if (irq->resamplefd >= 0)
		close(irq->resamplefd);
	irq->irqfd = -1;
	irq->resamplefd = -1;
}
