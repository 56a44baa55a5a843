/* tests/kernel/test_smp_boot.c: every listed CPU came up, each with its own per-CPU data, GDT, TSS and stack. */
#include "kernel/ktest.h"
#include "kernel/acpi_boot.h"
#include "kernel/cpumask.h"
#include "kernel/smp.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smpboot.h"
#include "arch/x86_64/stacks.h"

/* What lgdt/lidt load and sgdt/sidt store (SDM Vol. 3A 2.4.1). */
struct desc_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

/* What one CPU sees of itself, recorded on that CPU. */
struct cpu_view {
    unsigned cpu;               /* smp_processor_id() */
    uint32_t apic_id;           /* from the local APIC itself */
    uint64_t gs_base;
    uint16_t tr;
    uint64_t tss_base;          /* from the TSS descriptor TR selects in this CPU's GDT */
    uint64_t rsp;
    struct desc_ptr gdt, idt;
    uint64_t cr3, efer;
};

/* The base of the 16-byte TSS descriptor at `sel` in the GDT at gdt_base (SDM Vol. 3A 8.2.3). */
static uint64_t tss_base_of(uint64_t gdt_base, uint16_t sel)
{
    const uint64_t *d = (const uint64_t *)(gdt_base + (sel & ~7u));

    return ((d[0] >> 16) & 0xffffff) | (((d[0] >> 56) & 0xff) << 24) | (d[1] << 32);
}

/* Runs on the CPU under test (in its call-function IPI, or directly on CPU 0). */
static void record_view(void *info)
{
    struct cpu_view *v = info;
    uint64_t rsp;

    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    __asm__ volatile("str %0" : "=r"(v->tr));
    __asm__ volatile("sgdt %0" : "=m"(v->gdt));
    __asm__ volatile("sidt %0" : "=m"(v->idt));
    v->cpu = smp_processor_id();
    v->apic_id = apic_read_id();
    v->gs_base = rdmsr(MSR_GS_BASE);
    v->tss_base = tss_base_of(v->gdt.base, v->tr);
    v->rsp = rsp;
    v->cr3 = read_cr3();
    v->efer = rdmsr(MSR_EFER);
}

/* How many CPUs should be online: every enabled MADT CPU, up to NR_CPUS and nr_cpus=. */
static unsigned expected_cpus(void)
{
    unsigned n = 0;

    for (unsigned i = 0; i < acpi_info.cpu_count; i++)
        if (acpi_info.cpus[i].enabled)
            n++;
    if (n > NR_CPUS)
        n = NR_CPUS;
    if (param_nr_cpus > 0 && (unsigned)param_nr_cpus < n)
        n = (unsigned)param_nr_cpus;
    return n;
}

KTEST(smp_boot_every_listed_cpu_online)
{
    unsigned cpu, want = expected_cpus();

    KTEST_EXPECT_MSG(t, num_online_cpus() == want, "%u CPUs online, expected %u",
                     num_online_cpus(), want);
    /* Logical numbers are dense, 0 is the BSP, and every started CPU answered. */
    KTEST_EXPECT_MSG(t, cpu_online_mask.bits == (1UL << want) - 1, "online mask %#lx",
                     cpu_online_mask.bits);
    KTEST_EXPECT_MSG(t, cpu_possible_mask.bits == cpu_online_mask.bits, "possible %#lx, online %#lx",
                     cpu_possible_mask.bits, cpu_online_mask.bits);
    KTEST_EXPECT(t, percpu_area[0].apic_id == apic_read_id());

    /* Each online CPU has a different APIC id, and the MADT lists it as enabled. */
    for_each_online_cpu(cpu) {
        bool listed = false;
        unsigned other;

        for (unsigned i = 0; i < acpi_info.cpu_count; i++)
            if (acpi_info.cpus[i].enabled && acpi_info.cpus[i].apic_id == percpu_area[cpu].apic_id)
                listed = true;
        KTEST_EXPECT_MSG(t, listed, "CPU%u's APIC id %u is not in the MADT", cpu, percpu_area[cpu].apic_id);
        for_each_online_cpu(other)
            if (other < cpu)
                KTEST_EXPECT_MSG(t, percpu_area[other].apic_id != percpu_area[cpu].apic_id,
                                 "CPU%u and CPU%u share APIC id %u", other, cpu, percpu_area[cpu].apic_id);
    }
}

KTEST(smp_boot_each_cpu_has_its_own_state)
{
    static struct cpu_view views[NR_CPUS];
    struct desc_ptr bsp_idt;
    unsigned cpu;

    __asm__ volatile("sidt %0" : "=m"(bsp_idt));
    for_each_online_cpu(cpu) {
        struct cpu_view *v = &views[cpu];
        struct stack_info si;

        KTEST_EXPECT_MSG(t, smp_call_function_single(cpu, record_view, v, true) == 0,
                         "CPU%u refused the call", cpu);
        KTEST_EXPECT_MSG(t, v->cpu == cpu, "CPU%u says it is CPU%u", cpu, v->cpu);
        KTEST_EXPECT_MSG(t, v->apic_id == percpu_area[cpu].apic_id,
                         "CPU%u: APIC id %u, percpu says %u", cpu, v->apic_id, percpu_area[cpu].apic_id);
        KTEST_EXPECT_MSG(t, v->gs_base == (uint64_t)&percpu_area[cpu],
                         "CPU%u: GS base %#lx, expected %p", cpu, v->gs_base, (void *)&percpu_area[cpu]);
        KTEST_EXPECT_MSG(t, percpu_area[cpu].cpu == cpu && percpu_area[cpu].self == &percpu_area[cpu],
                         "CPU%u: percpu cpu %u self %p", cpu, percpu_area[cpu].cpu, (void *)percpu_area[cpu].self);
        /* Its own TSS: TR selects a descriptor in its own GDT whose TSS holds its own IST stacks. */
        KTEST_EXPECT_MSG(t, v->tr == GDT_TSS_SEL, "CPU%u: TR %#x", cpu, v->tr);
        KTEST_EXPECT_MSG(t, *(const uint64_t *)(v->tss_base + 36) == ist_stack_top(cpu, IST_NMI),
                         "CPU%u: the TSS at %#lx does not hold this CPU's NMI stack", cpu, v->tss_base);
        /* Its own kernel stack: the call ran in its IPI handler, on the stack it idles on. */
        KTEST_EXPECT_MSG(t, stack_lookup(v->rsp, &si) && si.kind == STACK_KERNEL && si.cpu == cpu,
                         "CPU%u: RSP %#lx is not on its kernel stack", cpu, v->rsp);
        /* The shared IDT, the kernel's page tables, and the BSP's EFER (NXE). */
        KTEST_EXPECT_MSG(t, v->idt.base == bsp_idt.base && v->idt.limit == bsp_idt.limit,
                         "CPU%u: IDT %#lx/%#x, CPU0's %#lx/%#x", cpu, v->idt.base, v->idt.limit,
                         bsp_idt.base, bsp_idt.limit);
        KTEST_EXPECT_MSG(t, v->cr3 == paging_kernel_cr3(), "CPU%u: CR3 %#lx", cpu, v->cr3);
        KTEST_EXPECT_MSG(t, (v->efer & EFER_NXE) == (rdmsr(MSR_EFER) & EFER_NXE),
                         "CPU%u: EFER %#lx", cpu, v->efer);
    }
    /* No two CPUs share a GDT, a TSS or a stack. */
    for_each_online_cpu(cpu) {
        unsigned other;

        for_each_online_cpu(other) {
            if (other >= cpu)
                break;
            KTEST_EXPECT_MSG(t, views[other].gdt.base != views[cpu].gdt.base,
                             "CPU%u and CPU%u share a GDT", other, cpu);
            KTEST_EXPECT_MSG(t, views[other].tss_base != views[cpu].tss_base,
                             "CPU%u and CPU%u share a TSS", other, cpu);
        }
    }
}
