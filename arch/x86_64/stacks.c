/* arch/x86_64/stacks.c: every kernel stack, its guard page, and lookup by address for the unwinder. */
#include "arch/x86_64/stacks.h"
#include "arch/x86_64/percpu.h"
#include "kernel/page_alloc.h"

/*
 * The CPUs' own stacks are static, page aligned, and each sits just above
 * a guard page that paging_init() leaves unmapped (kernel threads' stacks,
 * further down, have guards too). A stack that overflows runs into its
 * guard and page-faults at once instead of silently overwriting whatever lies
 * below. The exceptions that must work even then (#DF, NMI, #MC) run on the
 * Interrupt Stack Table stacks (Intel SDM Vol. 3A 6.14.5), so the report of an
 * overflow has a good stack to run on.
 */
struct cpu_stacks {
    uint8_t kernel_guard[PAGE_SIZE];
    uint8_t kernel[KERNEL_STACK_SIZE];
    uint8_t nmi_guard[PAGE_SIZE];
    uint8_t nmi[IST_STACK_SIZE];
    uint8_t df_guard[PAGE_SIZE];
    uint8_t df[IST_STACK_SIZE];
    uint8_t mc_guard[PAGE_SIZE];
    uint8_t mc[IST_STACK_SIZE];
} __attribute__((aligned(PAGE_SIZE)));

static struct cpu_stacks cpu_stacks[NR_CPUS];

/* boot/boot.asm loads RSP from here before calling kernel_main(). */
uint8_t *const boot_stack_top_ptr = cpu_stacks[0].kernel + KERNEL_STACK_SIZE;

uint64_t kernel_stack_top(unsigned cpu)
{
    return (uint64_t)(cpu_stacks[cpu].kernel + KERNEL_STACK_SIZE);
}

uint64_t ist_stack_top(unsigned cpu, enum ist_slot slot)
{
    struct cpu_stacks *s = &cpu_stacks[cpu];

    switch (slot) {
    case IST_NMI: return (uint64_t)(s->nmi + IST_STACK_SIZE);
    case IST_DF:  return (uint64_t)(s->df + IST_STACK_SIZE);
    case IST_MC:  return (uint64_t)(s->mc + IST_STACK_SIZE);
    }
    return 0;
}

/* The four stacks of one CPU, in a form the lookups can loop over. */
static void cpu_stack_ranges(unsigned cpu, struct stack_info out[4])
{
    struct cpu_stacks *s = &cpu_stacks[cpu];

    out[0] = (struct stack_info){ STACK_KERNEL, cpu, (uint64_t)s->kernel, (uint64_t)s->kernel + KERNEL_STACK_SIZE };
    out[1] = (struct stack_info){ STACK_NMI, cpu, (uint64_t)s->nmi, (uint64_t)s->nmi + IST_STACK_SIZE };
    out[2] = (struct stack_info){ STACK_DF, cpu, (uint64_t)s->df, (uint64_t)s->df + IST_STACK_SIZE };
    out[3] = (struct stack_info){ STACK_MC, cpu, (uint64_t)s->mc, (uint64_t)s->mc + IST_STACK_SIZE };
}

/*
 * Thread stacks are mapped page by page in the vmalloc area instead of being
 * static arrays: only the slots in use cost memory, and the guard page below
 * each is simply never mapped. How many of a slot's pages are mapped so far,
 * and which CPU its thread runs on (for the stack_info of backtraces).
 */
#define THREAD_STACK_PAGES (KERNEL_STACK_SIZE / PAGE_SIZE)

static struct {
    unsigned mapped_pages;      /* 0 = slot never used; THREAD_STACK_PAGES = usable */
    unsigned cpu;
} thread_stacks[NR_THREAD_STACKS];

static uint64_t thread_stack_begin(unsigned slot)
{
    return THREAD_STACK_AREA + slot * THREAD_STACK_SLOT + PAGE_SIZE;   /* above the guard */
}

uint64_t thread_stack_create(unsigned slot, unsigned cpu)
{
    uint64_t begin = thread_stack_begin(slot);

    _Static_assert(THREAD_STACK_AREA >= VMALLOC_START &&
                   THREAD_STACK_AREA + NR_THREAD_STACKS * THREAD_STACK_SLOT <= VMALLOC_END,
                   "thread stacks must lie in the vmalloc area");
    while (thread_stacks[slot].mapped_pages < THREAD_STACK_PAGES) {
        uint64_t pa = alloc_page();
        uint64_t va = begin + thread_stacks[slot].mapped_pages * PAGE_SIZE;
        if (!pa)
            return 0;
        if (map_kernel_page(va, pa, PTE_WRITE | PTE_NX) != 0) {
            free_page(pa);
            return 0;
        }
        thread_stacks[slot].mapped_pages++;
    }
    thread_stacks[slot].cpu = cpu;
    return begin + KERNEL_STACK_SIZE;
}

/* Thread slot `slot` as a stack_info; false if it is not (completely) mapped. */
static bool thread_stack_range(unsigned slot, struct stack_info *out)
{
    if (__atomic_load_n(&thread_stacks[slot].mapped_pages, __ATOMIC_ACQUIRE) != THREAD_STACK_PAGES)
        return false;
    uint64_t begin = thread_stack_begin(slot);
    *out = (struct stack_info){ STACK_KERNEL, thread_stacks[slot].cpu, begin, begin + KERNEL_STACK_SIZE };
    return true;
}

bool stack_lookup(uint64_t addr, struct stack_info *info)
{
    for (unsigned slot = 0; slot < NR_THREAD_STACKS; slot++) {
        struct stack_info r;
        if (thread_stack_range(slot, &r) && addr >= r.begin && addr < r.end) {
            *info = r;
            return true;
        }
    }
    for (unsigned cpu = 0; cpu < NR_CPUS; cpu++) {
        struct stack_info r[4];
        cpu_stack_ranges(cpu, r);
        for (int i = 0; i < 4; i++) {
            if (addr >= r[i].begin && addr < r[i].end) {
                *info = r[i];
                return true;
            }
        }
    }
    return false;
}

bool stack_guard_lookup(uint64_t addr, struct stack_info *info)
{
    for (unsigned slot = 0; slot < NR_THREAD_STACKS; slot++) {
        struct stack_info r;
        if (thread_stack_range(slot, &r) && addr >= r.begin - PAGE_SIZE && addr < r.begin) {
            *info = r;
            return true;
        }
    }
    for (unsigned cpu = 0; cpu < NR_CPUS; cpu++) {
        struct stack_info r[4];
        cpu_stack_ranges(cpu, r);
        for (int i = 0; i < 4; i++) {
            if (addr >= r[i].begin - PAGE_SIZE && addr < r[i].begin) {
                *info = r[i];
                return true;
            }
        }
    }
    return false;
}

void stacks_for_each_guard(void (*fn)(uint64_t guard_page))
{
    for (unsigned cpu = 0; cpu < NR_CPUS; cpu++) {
        fn((uint64_t)cpu_stacks[cpu].kernel_guard);
        fn((uint64_t)cpu_stacks[cpu].nmi_guard);
        fn((uint64_t)cpu_stacks[cpu].df_guard);
        fn((uint64_t)cpu_stacks[cpu].mc_guard);
    }
}

const char *stack_kind_name(enum stack_kind kind)
{
    switch (kind) {
    case STACK_KERNEL: return "TASK";
    case STACK_NMI:    return "NMI";
    case STACK_DF:     return "DF";
    case STACK_MC:     return "MCE";
    case STACK_NONE:   break;
    }
    return "?";
}
