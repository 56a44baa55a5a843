/* arch/x86_64/reboot.c: machine_restart(), trying the PC's reset methods in Linux's order. */
#include "arch/x86_64/reboot.h"
#include "arch/x86_64/cpu.h"
#include "kernel/printk.h"

#include <stdint.h>

/* The 8042 keyboard controller's status and command port. */
#define KBD_STATUS_PORT     0x64
#define KBD_STATUS_IBF      0x02    /* input buffer full: not ready for a command */
#define KBD_CMD_PULSE_RESET 0xfe    /* pulse output line 0, wired to the CPU's RESET */

/* The chipset's Reset Control Register (Intel ICH/PCH datasheets, "RST_CNT", I/O port CF9h). */
#define RST_CNT_PORT        0xcf9
#define RST_CNT_SYS_RST     0x02    /* make the next reset a full (hard) reset */
#define RST_CNT_RST_CPU     0x04    /* a 0-to-1 change starts the reset */

/*
 * Wait about n microseconds. A write to port 0x80 (the POST-code port,
 * which nothing listens to) takes about a microsecond on PC hardware;
 * Linux's io_delay() relies on the same thing. We have no timer yet.
 */
static void io_delay(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        outb(0x80, 0);
}

/* Ask the keyboard controller to pulse RESET, as Linux's BOOT_KBD method does. */
static void reset_via_keyboard_controller(void)
{
    /* A command is only accepted once the controller has taken the
     * previous byte; give up after about a tenth of a second rather than hang
     * on a machine without an 8042. */
    for (unsigned i = 0; i < 0x10000; i++) {
        if (!(inb(KBD_STATUS_PORT) & KBD_STATUS_IBF))
            break;
        io_delay(1);
    }
    outb(KBD_STATUS_PORT, KBD_CMD_PULSE_RESET);
    io_delay(50);
}

/* Reset through port CF9h, as Linux's BOOT_CF9_FORCE method does. */
static void reset_via_pci_cf9(void)
{
    /* Select a hard reset first, then raise RST_CPU to start it. */
    outb(RST_CNT_PORT, RST_CNT_SYS_RST);
    io_delay(50);
    outb(RST_CNT_PORT, RST_CNT_SYS_RST | RST_CNT_RST_CPU);
    io_delay(50);
}

/*
 * The method that always works: with an empty IDT, int3 cannot be
 * delivered, which raises #GP; #GP cannot be delivered either, which
 * raises a double fault; and a fault while delivering the double fault is
 * a triple fault, on which the CPU enters shutdown and the chipset resets
 * it (Intel SDM Vol. 3A, 6.15, "Interrupt 8 - Double Fault Exception").
 */
static void reset_via_triple_fault(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } empty_idt = { 0, 0 };

    __asm__ volatile("lidt %0; int3" : : "m"(empty_idt) : "memory");
}

void machine_restart(void)
{
    pr_emerg("irqlab: restarting system\n");
    __asm__ volatile("cli");        /* no interrupt may run once the IDT is gone */
    reset_via_keyboard_controller();
    reset_via_pci_cf9();
    reset_via_triple_fault();
    cpu_halt_forever();             /* not reached: the triple fault resets the CPU */
}
