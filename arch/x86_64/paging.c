/* arch/x86_64/paging.c: builds the kernel's final page tables: direct map, image with W^X, guard pages. */
#include "arch/x86_64/paging.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/stacks.h"
#include "kernel/multiboot.h"
#include "kernel/page_alloc.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"

#define ENTRIES 512
#define KERNEL_PTS 8                     /* 8 page tables x 2 MiB = 16 MiB of image */

typedef uint64_t table_t[ENTRIES] __attribute__((aligned(PAGE_SIZE)));

static table_t pml4;
static table_t direct_pdpt;
static table_t direct_pd[DIRECT_MAP_MAX >> 30];
static table_t kernel_pdpt;
static table_t kernel_pd;
static table_t kernel_pt[KERNEL_PTS];
static table_t vmalloc_pdpt;

static uint64_t direct_map_size;
static uint64_t pte_nx;                  /* PTE_NX if the CPU has it, else 0 */
static raw_spinlock_t pgtable_lock = __RAW_SPIN_LOCK_UNLOCKED;   /* vmalloc-area tables */

/* Linker-script symbols: their addresses are what matter. */
extern char __image_phys_start[], __text_start[], __text_end[], __rodata_start[],
            __data_start[], __image_end[];

uint64_t virt_to_phys(const void *virt)
{
    uint64_t v = (uint64_t)virt;

    if (v >= KERNEL_VMA)
        return v - KERNEL_VMA;
    return v - PAGE_OFFSET;
}

static unsigned idx(uint64_t virt, int level)
{
    return (virt >> (12 + 9 * level)) & (ENTRIES - 1);
}

/* Does [start, end) overlap usable RAM in the memory map? */
static bool range_has_ram(const struct boot_info *bi, uint64_t start, uint64_t end)
{
    for (unsigned i = 0; i < bi->mmap_count; i++) {
        const struct boot_mmap_entry *e = &bi->mmap[i];
        if (e->type == 1 && e->addr < end && e->addr + e->len > start)
            return true;
    }
    return false;
}

static void map_direct(const struct boot_info *bi, uint64_t nx)
{
    uint64_t top = 4UL << 30;           /* always cover the APIC and IOAPIC registers */

    for (unsigned i = 0; i < bi->mmap_count; i++) {
        const struct boot_mmap_entry *e = &bi->mmap[i];
        if (e->type == 1 && e->addr + e->len > top)
            top = e->addr + e->len;
    }
    if (top > DIRECT_MAP_MAX) {
        pr_warn("paging: RAM above %lu GiB is not mapped\n", DIRECT_MAP_MAX >> 30);
        top = DIRECT_MAP_MAX;
    }
    direct_map_size = (top + (1UL << 30) - 1) & ~((1UL << 30) - 1);

    pml4[idx(PAGE_OFFSET, 3)] = virt_to_phys(direct_pdpt) | PTE_PRESENT | PTE_WRITE;
    for (uint64_t gb = 0; gb < direct_map_size >> 30; gb++) {
        direct_pdpt[gb] = virt_to_phys(direct_pd[gb]) | PTE_PRESENT | PTE_WRITE;
        for (unsigned i = 0; i < ENTRIES; i++) {
            uint64_t pa = (gb << 30) | ((uint64_t)i << 21);
            uint64_t e = pa | PTE_PRESENT | PTE_WRITE | PTE_HUGE | nx;
            /* Memory-mapped registers (LAPIC, IOAPIC, PCI) must not be cached
             * (SDM Vol. 3A 11.3): anything that is not RAM gets PCD|PWT. */
            if (!range_has_ram(bi, pa, pa + (2UL << 20)))
                e |= PTE_PCD | PTE_PWT;
            direct_pd[gb][i] = e;
        }
    }
}

static void map_image(uint64_t nx)
{
    uint64_t first = (uint64_t)__image_phys_start;
    uint64_t last = virt_to_phys(__image_end);

    if (last > (uint64_t)KERNEL_PTS << 21)
        panic("paging: the kernel image ends at %lu KiB, past the %u MiB its page tables cover",
              last >> 10, KERNEL_PTS * 2);

    pml4[idx(KERNEL_VMA, 3)] = virt_to_phys(kernel_pdpt) | PTE_PRESENT | PTE_WRITE;
    kernel_pdpt[idx(KERNEL_VMA, 2)] = virt_to_phys(kernel_pd) | PTE_PRESENT | PTE_WRITE;
    for (unsigned t = 0; t < KERNEL_PTS; t++)
        kernel_pd[t] = virt_to_phys(kernel_pt[t]) | PTE_PRESENT | PTE_WRITE;

    for (uint64_t pa = first; pa < last; pa += PAGE_SIZE) {
        uint64_t va = pa + KERNEL_VMA;
        bool text = va >= (uint64_t)__text_start && va < (uint64_t)__text_end;
        bool writable = va >= (uint64_t)__data_start;

        /* W^X: code is read-only and executable, everything else is
         * no-execute, and only .data/.bss are writable. */
        uint64_t flags = PTE_PRESENT | (text ? 0 : nx) | (writable ? PTE_WRITE : 0);
        kernel_pt[pa >> 21][idx(va, 0)] = pa | flags;
    }
}

static void unmap_guard(uint64_t guard_page)
{
    bool huge;
    uint64_t *pte = paging_lookup(guard_page, &huge);

    if (pte && !huge)
        *pte = 0;
}

void paging_init(const struct boot_info *bi)
{
    uint32_t a, b, c, d;
    uint64_t nx = 0;

    /* No-execute needs EFER.NXE, which exists when CPUID 0x80000001 EDX bit 20 says so. */
    cpuid(0x80000001, &a, &b, &c, &d);
    if (d & (1u << 20)) {
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
        nx = PTE_NX;
    }
    pte_nx = nx;
    map_direct(bi, nx);
    map_image(nx);
    /* The vmalloc area's PML4 entry exists from the start, so the PML4
     * itself never changes after boot (see map_kernel_page()). */
    pml4[idx(VMALLOC_START, 3)] = virt_to_phys(vmalloc_pdpt) | PTE_PRESENT | PTE_WRITE;
    stacks_for_each_guard(unmap_guard);
    /* The boot tables' identity map of low memory ends here: from now on a
     * stray low pointer (NULL + small offset) faults instead of reading RAM. */
    write_cr3(virt_to_phys(pml4));
    pr_info("paging: direct map of %lu GiB at %016lx, kernel image %lu KiB at %016lx, NX %s\n",
            direct_map_size >> 30, PAGE_OFFSET,
            (virt_to_phys(__image_end) - (uint64_t)__image_phys_start) >> 10,
            (uint64_t)__image_phys_start + KERNEL_VMA, nx ? "on" : "off");
}

uint64_t paging_kernel_cr3(void)
{
    return virt_to_phys(pml4);
}

bool phys_range_mapped(uint64_t phys, size_t len)
{
    return phys < direct_map_size && len <= direct_map_size - phys;
}

/*
 * The virtual address of a page table. The static tables live in the kernel
 * image, reachable before and after the switch to these tables; any other
 * table is reached through the direct map.
 */
static uint64_t *table_virt(uint64_t phys)
{
    if (phys >= (uint64_t)__image_phys_start && phys < virt_to_phys(__image_end))
        return (uint64_t *)(phys + KERNEL_VMA);
    return phys_to_virt(phys);
}

uint64_t *paging_lookup(uint64_t virt, bool *huge)
{
    uint64_t *table = pml4;

    *huge = false;
    for (int level = 3; level > 0; level--) {
        uint64_t e = table[idx(virt, level)];
        if (!(e & PTE_PRESENT))
            return NULL;
        if (level == 1 && (e & PTE_HUGE)) {
            *huge = true;
            return &table[idx(virt, level)];
        }
        table = table_virt(e & PTE_ADDR);
    }
    return &table[idx(virt, 0)];
}

/*
 * The vmalloc area.
 *
 * Every CPU runs on the same CR3 (paging_kernel_cr3()), so there is one
 * PML4, and the PDPT, PD and PT pages below it are shared as well: a table
 * that one CPU adds is at once in every CPU's page walk. Adding a table, or
 * filling a not-present PTE, needs no flush anywhere, because neither the
 * TLB nor the paging-structure caches keep not-present entries (Intel SDM
 * Vol. 3A 4.10.2.3, 4.10.3.1); at worst, a CPU racing to use the address
 * while it is being mapped takes one spurious page fault (4.10.4.3).
 * What every CPU may cache is a PRESENT leaf translation: changing or
 * clearing a present PTE is the only change that needs a shootdown.
 * Tables, once added, are never freed, so no CPU can walk through a freed
 * table; freeing one would also need a flush of every CPU's
 * paging-structure caches. (Linux pre-populates its vmalloc PGD
 * entries for a different reason: each process has its own PGD holding
 * copies of them. irqlab has one PML4, filled in by paging_init().)
 */

/* Store a page-table entry in one 8-byte write (the CPU's walker may read it
 * at any time), after everything written before it, e.g. a new table's zeros. */
static void set_pte(uint64_t *pte, uint64_t val)
{
    __atomic_store_n(pte, val, __ATOMIC_RELEASE);
}

static bool vmalloc_addr(uint64_t va)
{
    return va >= VMALLOC_START && va < VMALLOC_END && !(va & (PAGE_SIZE - 1));
}

/*
 * The PTE for va in the vmalloc area. Missing PD and PT pages are allocated
 * (zeroed: all entries not present) when alloc is set; otherwise, or when
 * memory is out, the answer is NULL. Caller holds pgtable_lock.
 */
static uint64_t *vmalloc_pte(uint64_t va, bool alloc)
{
    uint64_t *table = pml4;

    for (int level = 3; level > 0; level--) {
        uint64_t *e = &table[idx(va, level)];
        if (!(*e & PTE_PRESENT)) {
            uint64_t pa = alloc ? alloc_page() : 0;
            if (!pa)
                return NULL;
            /* Permissive upper levels: the leaf PTE alone decides write
             * and execute (the SDM combines the levels, 4.6). */
            set_pte(e, pa | PTE_PRESENT | PTE_WRITE);
        }
        table = table_virt(*e & PTE_ADDR);
    }
    return &table[idx(va, 0)];
}

/* Write va's PTE: when it is present (replace) or not (map); -1 otherwise. */
static int set_kernel_page(uint64_t va, uint64_t val, bool replace)
{
    unsigned long flags;
    uint64_t *pte;
    int ret = -1;

    if (!vmalloc_addr(va))
        return -1;
    raw_spin_lock_irqsave(&pgtable_lock, flags);
    pte = vmalloc_pte(va, !replace);
    if (pte && !!(*pte & PTE_PRESENT) == replace) {
        set_pte(pte, val);
        ret = 0;
    }
    raw_spin_unlock_irqrestore(&pgtable_lock, flags);
    return ret;
}

/* A leaf PTE. Without EFER.NXE bit 63 is reserved and would fault, so drop it. */
static uint64_t leaf_pte(uint64_t pa, uint64_t flags)
{
    if (!pte_nx)
        flags &= ~PTE_NX;
    return pa | flags | PTE_PRESENT;
}

int map_kernel_page(uint64_t va, uint64_t pa, uint64_t flags)
{
    if (pa & ~PTE_ADDR)
        return -1;
    return set_kernel_page(va, leaf_pte(pa, flags), false);
}

int remap_kernel_page(uint64_t va, uint64_t pa, uint64_t flags)
{
    if (pa & ~PTE_ADDR)
        return -1;
    return set_kernel_page(va, leaf_pte(pa, flags), true);
}

int unmap_kernel_page(uint64_t va)
{
    return set_kernel_page(va, 0, true);
}
