/* arch/x86_64/gdt.c: per-CPU GDT and TSS; the TSS carries the IST stacks for NMI, #DF and #MC. */
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/stacks.h"

#include <stdint.h>

/* 64-bit TSS (Intel SDM Vol. 3A 8.7, Figure 8-11). Long mode uses it only for stack pointers. */
struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];            /* stacks for privilege changes: unused, no user mode */
    uint64_t reserved1;
    uint64_t ist[7];            /* IST1..IST7 */
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

#define GDT_ENTRIES 6           /* null, unused, code, data, TSS (two slots) */

struct cpu_tables {
    uint64_t gdt[GDT_ENTRIES];
    struct tss64 tss;
} __attribute__((aligned(16)));

static struct cpu_tables cpu_tables[NR_CPUS];

/* A 16-byte system descriptor for the TSS (SDM Vol. 3A 8.2.3, Figure 8-4). */
static void set_tss_descriptor(uint64_t *slot, uint64_t base, uint32_t limit)
{
    slot[0] = (limit & 0xffff)
            | ((base & 0xffffff) << 16)
            | (0x89UL << 40)                     /* present, type 9: available 64-bit TSS */
            | ((uint64_t)((limit >> 16) & 0xf) << 48)
            | (((base >> 24) & 0xff) << 56);
    slot[1] = base >> 32;
}

void gdt_init_cpu(unsigned cpu)
{
    struct cpu_tables *t = &cpu_tables[cpu];

    t->gdt[0] = 0;
    t->gdt[1] = 0;
    t->gdt[2] = 0x00af9a000000ffff;     /* __KERNEL_CS: 64-bit code (L=1), present, DPL 0 */
    t->gdt[3] = 0x00cf92000000ffff;     /* __KERNEL_DS: data, writable, present */
    t->tss.ist[IST_NMI - 1] = ist_stack_top(cpu, IST_NMI);
    t->tss.ist[IST_DF - 1]  = ist_stack_top(cpu, IST_DF);
    t->tss.ist[IST_MC - 1]  = ist_stack_top(cpu, IST_MC);
    t->tss.iomap_base = sizeof(struct tss64);   /* no I/O permission bitmap */
    set_tss_descriptor(&t->gdt[4], (uint64_t)&t->tss, sizeof(struct tss64) - 1);

    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr = {
        sizeof(t->gdt) - 1, (uint64_t)t->gdt
    };
    /*
     * lgdt does not touch the segment registers' hidden parts, so reload
     * them: CS through a far return, the data segments by plain moves.
     * FS and GS stay 0; GS's base comes from the MSR (percpu.c).
     */
    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq %1\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movw %w2, %%ds\n\t"
        "movw %w2, %%es\n\t"
        "movw %w2, %%ss\n\t"
        "ltr %w3\n\t"
        : : "m"(gdtr), "i"(__KERNEL_CS), "r"(__KERNEL_DS), "r"(GDT_TSS_SEL) : "rax", "memory");
}
