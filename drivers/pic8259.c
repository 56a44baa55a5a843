/* drivers/pic8259.c: remaps and masks the legacy 8259 PICs; the IOAPIC delivers device interrupts instead. */
#include "drivers/pic8259.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq_vectors.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1

/*
 * After reset the master 8259 delivers IRQ0-7 on vectors 8-15, on top of
 * the CPU's exceptions (a timer tick would look like a double fault). Even
 * fully masked it can raise a spurious IRQ7, so first move it to the ISA
 * vectors, 0x30-0x3f as in Linux's init_8259A(), with the ICW1-4 sequence
 * (8259A data sheet), then mask all.
 */
void pic8259_disable(void)
{
    outb(PIC1_CMD, 0x11);       /* ICW1: initialise, ICW4 follows */
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, ISA_IRQ_VECTOR(0));     /* ICW2: vector base 0x30 */
    outb(PIC2_DATA, ISA_IRQ_VECTOR(8));     /*       and 0x38 */
    outb(PIC1_DATA, 0x04);      /* ICW3: slave on IRQ2 */
    outb(PIC2_DATA, 0x02);      /*       slave identity 2 */
    outb(PIC1_DATA, 0x01);      /* ICW4: 8086 mode */
    outb(PIC2_DATA, 0x01);
    outb(PIC1_DATA, 0xff);      /* mask everything */
    outb(PIC2_DATA, 0xff);
}
