/*
 * remote/irq.h: the INTx line, delivered as QEMU's proxy expects it: a
 * write to the interrupt eventfd on each rising edge, and again after the
 * resample eventfd fires while the line is still high (level semantics on
 * top of KVM's edge-triggered irqfd). Inside the sandbox.
 */
#ifndef MPJAIL_REMOTE_IRQ_H
#define MPJAIL_REMOTE_IRQ_H

#include <stdbool.h>
#include <stddef.h>

struct irq_line {
	int irqfd;       /* -1 until SET_IRQFD */
	int resamplefd;  /* -1 until SET_IRQFD */
	bool level;
};

void irq_init(struct irq_line *irq);

/*
 * Take the two fds of SET_IRQFD (consumed: kept or closed on every path).
 * Both must be eventfds; anything else is refused with a reason, and the
 * old pair is kept. A second SET_IRQFD replaces the first.
 */
int irq_set_fds(struct irq_line *irq, int irqfd, int resamplefd, char *why,
    size_t whylen);

/* Drive the line; a rising edge signals the irqfd. */
void irq_set_level(struct irq_line *irq, bool level);

/* The resample fd is readable: drain it, and re-signal if still high. */
void irq_resample(struct irq_line *irq);

/* Close the fds. */
void irq_close(struct irq_line *irq);

#endif
