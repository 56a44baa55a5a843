/* drivers/serial.c: the 16550 UART on COM1 at 115200 baud, 8N1: polled output, interrupt-driven input with flow control. */
#include "drivers/serial.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/irq_vectors.h"
#include "arch/x86_64/irqflags.h"
#include "arch/x86_64/percpu.h"
#include "kernel/hardirq.h"
#include "kernel/irqflags.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/time.h"

#include <stdbool.h>
#include <stdint.h>

#define COM1 0x3f8

/* Register offsets from COM1 (PC16550D data sheet). */
#define UART_DATA 0     /* receive buffer / transmit holding; divisor low with DLAB */
#define UART_IER  1     /* interrupt enable; divisor high with DLAB */
#define UART_IIR  2     /* interrupt identification (read) */
#define UART_FCR  2     /* FIFO control (write) */
#define UART_LCR  3     /* line control; bit 7 = DLAB */
#define UART_MCR  4     /* modem control */
#define UART_LSR  5     /* line status */

#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

void serial_init(void)
{
    outb(COM1 + UART_IER, 0x00);    /* polled for now: no UART interrupts */
    outb(COM1 + UART_LCR, 0x80);    /* DLAB on to reach the divisor latch */
    outb(COM1 + UART_DATA, 1);      /* 115200 / 1 = 115200 baud */
    outb(COM1 + UART_IER, 0);
    outb(COM1 + UART_LCR, 0x03);    /* 8 data bits, no parity, 1 stop bit, DLAB off */
    outb(COM1 + UART_FCR, 0x07);    /* enable and clear both FIFOs */
    outb(COM1 + UART_MCR, 0x0b);    /* DTR, RTS, and OUT2 (gates the IRQ line on PCs) */
}

static void serial_put_raw(char c)
{
    while (!(inb(COM1 + UART_LSR) & LSR_THR_EMPTY))
        cpu_relax();
    outb(COM1 + UART_DATA, (unsigned char)c);
}

void serial_putc(char c)
{
    if (c == '\n')
        serial_put_raw('\r');
    serial_put_raw(c);
}

void serial_write(const char *s, unsigned long len)
{
    for (unsigned long i = 0; i < len; i++)
        serial_putc(s[i]);
}

#define COM1_IRQ 4
#define IER_RX_AVAILABLE 0x01
#define IER_THR_EMPTY    0x02
#define IIR_NO_INT       0x01   /* bit 0 set: the UART requests no interrupt */

/*
 * Bytes the interrupt handler took from the UART, for serial_getc() to
 * consume. Only CPU 0 receives the interrupt and only CPU 0 runs the
 * monitor, so the handler (producer) and reader (consumer) never run at the
 * same time on two CPUs; the reader turns IRQs off while it looks.
 *
 * Flow control: when the ring is full the handler stops reading the UART
 * and turns its receive interrupt off (rx_throttled). The bytes then wait in
 * the UART's FIFO, and QEMU's 16550 takes a byte from its chardev only when
 * the FIFO has room, so a paste waits in the host instead of being dropped
 * (the facts: a 4 KiB paste lost 3,800 bytes to a ring that dropped). The
 * reader turns the interrupt back on once the ring has room for a FIFO's
 * worth; re-enabling it with data waiting raises the interrupt again.
 */
#define UART_FIFO_SIZE 16
static char rx_buf[256];
static volatile unsigned rx_head, rx_tail;     /* head: next write; tail: next read */
static bool rx_irq_enabled;                    /* false: polled (no IRQ 4 route) */
static bool rx_throttled;
static struct task_struct *rx_waiter;          /* the task asleep in serial_getc(), if any */
static volatile bool irq_test_seen;            /* the route test's interrupt came from the UART */

/* How long serial_enable_irq() waits for the test interrupt, in guest time
 * (the TSC): QEMU raises it during the IER write, so it arrives within a
 * few instructions when the route is right. */
#define IRQ_TEST_MS 10

/* Without an interrupt, a task looks at the UART this often; the FIFO (and
 * QEMU, behind it) holds what arrives in between. */
#define RX_POLL_MS 1

static int uart_read_byte(void)
{
    if (!(inb(COM1 + UART_LSR) & LSR_DATA_READY))
        return -1;
    return inb(COM1 + UART_DATA);
}

/* ISA IRQ 4: move what the UART holds into rx_buf while it has room.
 * Before the route is known to work (!rx_irq_enabled), it only answers
 * serial_enable_irq()'s test. */
static void serial_interrupt(struct pt_regs *regs)
{
    int c;

    (void)regs;
    if (!rx_irq_enabled) {
        /* The UART's own word that it raised the line: IIR bit 0 clear
         * (PC16550D data sheet, 8.6), so another device's interrupt on a
         * wrong route does not count. IER 0 drops the request. */
        if (!(inb(COM1 + UART_IIR) & IIR_NO_INT))
            irq_test_seen = true;
        outb(COM1 + UART_IER, 0);
        apic_eoi();
        return;
    }
    while (rx_head - rx_tail < sizeof rx_buf && (c = uart_read_byte()) >= 0)
        rx_buf[rx_head++ % sizeof rx_buf] = (char)c;
    if (rx_head - rx_tail == sizeof rx_buf) {
        rx_throttled = true;
        outb(COM1 + UART_IER, 0);
    }
    if (rx_waiter)
        wake_up_process(rx_waiter);
    apic_eoi();
}

/*
 * Does the route just programmed deliver COM1's interrupt? The MADT can
 * send IRQ 4 to an IOAPIC input the UART is not wired to (an override to
 * another GSI, an IOAPIC whose GSIs start above 0), and nothing in the
 * tables gives that away. So raise the UART's interrupt once, as Linux's
 * 8250 driver does to probe its IRQ: with THR empty, enabling the
 * transmit-empty interrupt requests it at once (PC16550D data sheet, 8.6;
 * QEMU's 16550 does the same). Waits at most IRQ_TEST_MS of guest time,
 * with interrupts on. Returns whether it arrived; leaves IER 0.
 */
static bool com1_irq_arrives(void)
{
    uint64_t deadline;

    irq_test_seen = false;
    outb(COM1 + UART_IER, IER_THR_EMPTY);
    deadline = ktime_get_ns() + IRQ_TEST_MS * NSEC_PER_MSEC;
    while (!irq_test_seen && ktime_get_ns() < deadline)
        cpu_relax();
    outb(COM1 + UART_IER, 0);
    return irq_test_seen;
}

void serial_enable_irq(void)
{
    request_vector(ISA_IRQ_VECTOR(COM1_IRQ), serial_interrupt, "COM1 serial");
    if (!ioapic_route_isa_irq(COM1_IRQ, ISA_IRQ_VECTOR(COM1_IRQ), this_cpu_read(apic_id))) {
        pr_warn("serial: COM1's IRQ %u has no route; the console is polled every %d ms\n", COM1_IRQ,
                RX_POLL_MS);
        return;
    }
    if (!com1_irq_arrives()) {
        ioapic_mask_isa_irq(COM1_IRQ);
        pr_warn("serial: COM1's IRQ %u did not arrive within %d ms of a transmit-empty interrupt: the MADT's route "
                "does not reach COM1 (QEMU wires it to GSI 4); the console is polled every %d ms\n",
                COM1_IRQ, IRQ_TEST_MS, RX_POLL_MS);
        return;
    }
    rx_irq_enabled = true;
    outb(COM1 + UART_IER, IER_RX_AVAILABLE);
}

int serial_getc_nonblock(void)
{
    if (!rx_irq_enabled)
        return uart_read_byte();
    unsigned long flags;
    raw_local_irq_save(flags);
    int c = -1;
    if (rx_tail != rx_head)
        c = (unsigned char)rx_buf[rx_tail++ % sizeof rx_buf];
    if (rx_throttled && sizeof rx_buf - (rx_head - rx_tail) >= UART_FIFO_SIZE) {
        rx_throttled = false;
        outb(COM1 + UART_IER, IER_RX_AVAILABLE);
    }
    raw_local_irq_restore(flags);
    return c;
}

/* A task may sleep here: in task context, preemptible, IRQs on. */
static bool can_sleep(void)
{
    return current && in_task() && preempt_count() == 0 && !raw_irqs_disabled();
}

int serial_getc(void)
{
    for (;;) {
        int c = serial_getc_nonblock();
        if (c >= 0)
            return c;
        if (!rx_irq_enabled) {
            if (can_sleep())
                msleep(RX_POLL_MS);
            else
                cpu_relax();
            continue;
        }
        if (raw_irqs_disabled()) {
            cpu_relax();
            continue;
        }
        if (can_sleep()) {
            /* A task sleeps until the interrupt handler wakes it. Setting the
             * state before the last look at the buffer closes the race: a
             * byte arriving in between makes the task runnable again, and
             * schedule() returns at once. */
            set_current_state(TASK_INTERRUPTIBLE);
            rx_waiter = current;
            if (rx_tail == rx_head)
                schedule();
            set_current_state(TASK_RUNNING);
            rx_waiter = NULL;
            continue;
        }
        /* No task to put to sleep (early boot): check and halt without a
         * gap: with IF=0, test the buffer, then sti;hlt, so a byte arriving
         * in between wakes the hlt (SDM Vol. 2B, STI: interrupts are
         * recognised only after the next instruction). */
        raw_local_irq_disable();
        if (rx_tail == rx_head)
            raw_safe_halt();
        else
            raw_local_irq_enable();
    }
}
