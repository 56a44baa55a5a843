/* tests/kernel/test_boot.c: checks of what the boot set up: tables, stacks, paging, symbols, boot info. */
#include "kernel/ktest.h"
#include "kernel/bootparams.h"
#include "kernel/ksyms.h"
#include "kernel/string.h"
#include "kernel/vsprintf.h"
#include "kernel/hardirq.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/dumpstack.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/stacks.h"

void kernel_main(uint32_t magic, uint64_t info_phys);

static bool contains(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);

    for (; *haystack; haystack++)
        if (strncmp(haystack, needle, n) == 0)
            return true;
    return false;
}

KTEST(boot_sanity)
{
    uint64_t rflags;

    __asm__ volatile("pushfq; popq %0" : "=r"(rflags));
    KTEST_EXPECT(t, smp_processor_id() == 0);
    /* kernel_main() enabled interrupts once the APIC and timer were set up,
     * and tests run in task context. */
    KTEST_EXPECT(t, rflags & X86_EFLAGS_IF);
    KTEST_EXPECT(t, in_task() && preempt_count() == 0);
    KTEST_EXPECT(t, read_cr4() & (1 << 5));                 /* PAE */
    KTEST_EXPECT(t, rdmsr(MSR_EFER) & (1 << 10));           /* LMA: long mode active */
}

KTEST(boot_info_from_loader)
{
    uint64_t usable = 0;

    for (unsigned i = 0; i < boot_info.mmap_count; i++)
        if (boot_info.mmap[i].type == 1)
            usable += boot_info.mmap[i].len;
    /* The harness gives QEMU 128 MiB; the BIOS keeps a little of it. */
    KTEST_EXPECT_MSG(t, usable > (120UL << 20) && usable <= (128UL << 20),
                     "usable RAM %lu KiB, expected about 128 MiB", usable >> 10);
    KTEST_EXPECT(t, boot_info.protocol == 1 || boot_info.protocol == 2);
    /* We are running because the command line said test=... */
    KTEST_EXPECT_MSG(t, contains(boot_info.cmdline, "test="), "cmdline '%s'", boot_info.cmdline);
}

KTEST(gdt_and_tss_loaded)
{
    uint16_t cs, tr;

    __asm__ volatile("mov %%cs, %0; str %1" : "=r"(cs), "=r"(tr));
    KTEST_EXPECT(t, cs == __KERNEL_CS);
    KTEST_EXPECT(t, tr == GDT_TSS_SEL);
}

KTEST(idt_ist_for_nmi_df_mc)
{
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr;

    __asm__ volatile("sidt %0" : "=m"(idtr));
    KTEST_EXPECT(t, idtr.limit == 256 * 16 - 1);
    const uint8_t *gate = (const uint8_t *)idtr.base;
    /* Byte 4 of a gate holds its IST slot, byte 5 its type (SDM Vol. 3A Figure 6-8). */
    KTEST_EXPECT(t, gate[2 * 16 + 4] == IST_NMI);
    KTEST_EXPECT(t, gate[8 * 16 + 4] == IST_DF);
    KTEST_EXPECT(t, gate[18 * 16 + 4] == IST_MC);
    KTEST_EXPECT(t, gate[14 * 16 + 4] == 0);
    for (int v = 0; v < 256; v++)
        KTEST_EXPECT_MSG(t, gate[v * 16 + 5] == 0x8e, "vector %d gate type 0x%x", v, gate[v * 16 + 5]);
}

KTEST(stack_guard_pages_unmapped)
{
    bool huge;
    uint64_t guard = kernel_stack_top(0) - KERNEL_STACK_SIZE - PAGE_SIZE;
    uint64_t *pte = paging_lookup(guard, &huge);
    struct stack_info info;

    KTEST_EXPECT(t, pte == NULL || !(*pte & PTE_PRESENT));
    KTEST_EXPECT(t, stack_guard_lookup(guard, &info) && info.kind == STACK_KERNEL);
    /* The stack itself is mapped and we are on it. */
    uint64_t rsp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    KTEST_EXPECT(t, stack_lookup(rsp, &info) && info.kind == STACK_KERNEL && info.cpu == 0);
}

KTEST(paging_w_xor_x)
{
    bool huge;
    uint64_t *text = paging_lookup((uint64_t)kernel_main, &huge);
    uint64_t *data = paging_lookup((uint64_t)&boot_info, &huge);

    KTEST_EXPECT(t, text && (*text & PTE_PRESENT) && !(*text & PTE_WRITE) && !(*text & PTE_NX));
    KTEST_EXPECT(t, data && (*data & PTE_PRESENT) && (*data & PTE_WRITE));
    if (rdmsr(MSR_EFER) & EFER_NXE)
        KTEST_EXPECT(t, *data & PTE_NX);
    /* The identity map of the boot tables is gone: page 0 is unmapped. */
    KTEST_EXPECT(t, paging_lookup(0, &huge) == NULL);
}

KTEST(direct_map_aliases_image)
{
    static volatile uint64_t cell = 0x1234;
    volatile uint64_t *alias = phys_to_virt(virt_to_phys((const void *)&cell));

    KTEST_EXPECT(t, alias != &cell && *alias == 0x1234);
    *alias = 0x5678;
    KTEST_EXPECT(t, cell == 0x5678);
}

KTEST(ksyms_resolve_kernel)
{
    uint64_t off = 99;
    const struct ksym *s = ksym_lookup((uint64_t)kernel_main + 3, &off);
    char buf[96];

    KTEST_EXPECT(t, ksym_count > 50);
    KTEST_EXPECT(t, s && strcmp(s->name, "kernel_main") == 0 && off == 3);
    ksnprintf(buf, sizeof buf, "%pS", (void *)((uint64_t)kernel_main + 5));
    KTEST_EXPECT_MSG(t, strncmp(buf, "kernel_main+0x5/0x", 18) == 0, "%%pS gave '%s'", buf);
}

/* A three-deep call chain: the unwinder must name every level. */
static uint64_t trace[16];
static unsigned trace_len;

__attribute__((noinline)) static void trace_level_c(void)
{
    trace_len = stack_trace_save(trace, 16);
}

__attribute__((noinline)) static void trace_level_b(void)
{
    trace_level_c();
    __asm__ volatile("");       /* keep the call from becoming a jump */
}

__attribute__((noinline)) static void trace_level_a(void)
{
    trace_level_b();
    __asm__ volatile("");
}

KTEST(backtrace_names_callers)
{
    const char *want[] = { "trace_level_c", "trace_level_b", "trace_level_a" };
    char buf[96];

    trace_level_a();
    KTEST_EXPECT(t, trace_len >= 3);
    for (unsigned i = 0; i < 3 && i < trace_len; i++) {
        ksnprintf(buf, sizeof buf, "%ps", (void *)(trace[i] - 1));
        KTEST_EXPECT_MSG(t, strcmp(buf, want[i]) == 0, "frame %u is '%s', expected '%s'", i, buf, want[i]);
    }
}
