/* arch/x86_64/idt.c: the interrupt descriptor table shared by all CPUs. */
#include "arch/x86_64/idt.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/stacks.h"
#include "arch/x86_64/traps.h"

#include <stdint.h>

/* A 64-bit IDT gate (Intel SDM Vol. 3A 6.14.1, Figure 6-8). */
struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t  ist;               /* bits 0-2: IST slot, 0 = stay on the current stack */
    uint8_t  type_attr;         /* present, DPL, type */
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
} __attribute__((packed));

/*
 * Type 0xE is an interrupt gate: the CPU clears IF when it enters through
 * it, so every handler starts with interrupts off, and iretq restores the
 * interrupted IF. (A trap gate, type 0xF, would leave IF alone; irqlab uses
 * none, as Linux uses none for external interrupts.)
 */
#define GATE_INTERRUPT 0x8e     /* present, DPL 0, 64-bit interrupt gate */

static struct idt_gate idt[256];
extern const uint64_t isr_stub_table[256];   /* arch/x86_64/entry.asm */

static void set_gate(unsigned vector, uint64_t handler, unsigned ist)
{
    idt[vector] = (struct idt_gate){
        .offset_low  = handler & 0xffff,
        .selector    = __KERNEL_CS,
        .ist         = ist,
        .type_attr   = GATE_INTERRUPT,
        .offset_mid  = (handler >> 16) & 0xffff,
        .offset_high = handler >> 32,
    };
}

void idt_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, isr_stub_table[v], 0);
    /* As Linux does: these must work on a broken or overflowed stack. */
    set_gate(X86_TRAP_NMI, isr_stub_table[X86_TRAP_NMI], IST_NMI);
    set_gate(X86_TRAP_DF, isr_stub_table[X86_TRAP_DF], IST_DF);
    set_gate(X86_TRAP_MC, isr_stub_table[X86_TRAP_MC], IST_MC);
}

void idt_load(void)
{
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = {
        sizeof(idt) - 1, (uint64_t)idt
    };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}
