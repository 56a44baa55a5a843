/* arch/x86_64/irq.h: interrupt handlers by vector, the hardirq entry path, and NMI handlers. */
#ifndef ARCH_X86_64_IRQ_H
#define ARCH_X86_64_IRQ_H

#include <stdbool.h>
#include "arch/x86_64/traps.h"

/*
 * Install handler for vector (32..255), with a short name for `irqs`.
 * The handler runs in hardirq context (irq_enter() done), IF=0, and is
 * responsible for its own EOI, because where the EOI goes is part of each
 * handler's design (arch/x86_64/irq_vectors.h).
 */
void request_vector(unsigned vector, vector_handler_t handler, const char *name);
/* The name a vector was requested with (as /proc/interrupts shows it), or NULL. */
const char *irq_vector_name(unsigned vector);

/* Called by x86_dispatch() for vectors 32..255. */
void do_IRQ(struct pt_regs *regs);

/*
 * The registers of the context the running interrupt handler interrupted
 * (Linux's get_irq_regs()): do_IRQ() sets them for its handler, so code
 * called deep inside one (an hrtimer callback, e.g. the soft-lockup
 * detector) can show where the CPU was. NULL outside an interrupt.
 * set_irq_regs() returns the previous value, for the caller to restore.
 */
struct pt_regs *get_irq_regs(void);
struct pt_regs *set_irq_regs(struct pt_regs *regs);

/*
 * NMI handlers are tried in order until one claims the NMI (returns true).
 * They run in NMI context on the NMI IST stack.
 */
typedef bool (*nmi_handler_t)(struct pt_regs *regs);
void register_nmi_handler(nmi_handler_t handler);
void do_NMI(struct pt_regs *regs);

/* Install the APIC's own vectors (spurious, error); called once on the BSP. */
void irq_init(void);

#endif
