/* arch/x86_64/paging.h: the kernel's four-level page tables, the direct map, and address conversion. */
#ifndef ARCH_X86_64_PAGING_H
#define ARCH_X86_64_PAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct boot_info;

/*
 * Two views of memory, with Linux's addresses:
 *  - the direct map: physical address p is at PAGE_OFFSET + p (2 MiB pages);
 *  - the kernel image: physical p is at KERNEL_VMA + p (4 KiB pages, so
 *    text can be read-only, data no-execute and guard pages unmapped).
 */
#define PAGE_OFFSET      0xffff888000000000UL
#define KERNEL_VMA       0xffffffff80000000UL
#define DIRECT_MAP_MAX   (16UL << 30)

/*
 * A third view: the kernel's area for dynamic 4 KiB mappings, at Linux's
 * vmalloc base. It is one PML4 slot (512 GiB); paging_init() installs that
 * slot, and map_kernel_page() allocates the tables below it on demand.
 */
#define VMALLOC_START    0xffffc90000000000UL
#define VMALLOC_END      (VMALLOC_START + (512UL << 30))

/* Page-table entry bits (Intel SDM Vol. 3A 4.5, Tables 4-15 to 4-20). */
#define PTE_PRESENT  (1UL << 0)
#define PTE_WRITE    (1UL << 1)
#define PTE_PWT      (1UL << 3)
#define PTE_PCD      (1UL << 4)
#define PTE_HUGE     (1UL << 7)   /* PS: this PD entry maps a 2 MiB page */
#define PTE_NX       (1UL << 63)
#define PTE_ADDR     0x000ffffffffff000UL

static inline void *phys_to_virt(uint64_t phys)
{
    return (void *)(phys + PAGE_OFFSET);
}

/* Physical address of a direct-map or kernel-image address. */
uint64_t virt_to_phys(const void *virt);

/* Build the final tables from the memory map and switch CR3 to them. Boot CPU, once. */
void paging_init(const struct boot_info *bi);

/* Load the kernel's tables on another CPU (the APs). */
uint64_t paging_kernel_cr3(void);

/* Is [phys, phys + len) inside the direct map? */
bool phys_range_mapped(uint64_t phys, size_t len);

/* The last-level entry that maps virt (a 4 KiB PTE or a 2 MiB PDE), or NULL. */
uint64_t *paging_lookup(uint64_t virt, bool *huge);

/*
 * Dynamic mappings in [VMALLOC_START, VMALLOC_END), one 4 KiB page each.
 * flags are PTE_* bits (PTE_PRESENT is implied; PTE_NX is dropped when the
 * CPU has no NX). All three return 0, or -1 when va is outside the area or
 * not page-aligned, or as noted. Any context; a raw spinlock guards the
 * tables.
 *
 * None of them flushes the TLB, on purpose: the caller decides.
 *  - map_kernel_page() fills a not-present PTE (-1 if it is present, or no
 *    memory for a table). No flush is needed: a TLB caches only present
 *    translations (Intel SDM Vol. 3A 4.10.2.3).
 *  - remap_kernel_page() points a present PTE at another page (-1 if not
 *    present), and unmap_kernel_page() clears it (-1 if not present).
 *    Every CPU may still hold the old translation: before the old page is
 *    reused, flush it everywhere with flush_tlb_range() (arch/x86_64/tlb.h).
 */
int map_kernel_page(uint64_t va, uint64_t pa, uint64_t flags);
int remap_kernel_page(uint64_t va, uint64_t pa, uint64_t flags);
int unmap_kernel_page(uint64_t va);

#endif
