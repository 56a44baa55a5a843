/* arch/x86_64/paging.c: builds the kernel's final page tables: direct map, image with W^X, guard pages. */
#include "arch/x86_64/paging.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/stacks.h"
#include "kernel/multiboot.h"
#include "kernel/panic.h"
#include "kernel/printk.h"

#define ENTRIES 512
#define KERNEL_PTS 8                     /* 8 page tables x 2 MiB = 16 MiB of image */

typedef uint64_t table_t[ENTRIES] __attribute__((aligned(PAGE_SIZE)));

static table_t pml4;
static table_t direct_pdpt;
static table_t direct_pd[DIRECT_MAP_MAX >> 30];
static table_t kernel_pdpt;
static table_t kernel_pd;
static table_t kernel_pt[KERNEL_PTS];

static uint64_t direct_map_size;

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
    map_direct(bi, nx);
    map_image(nx);
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
