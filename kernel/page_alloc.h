/* kernel/page_alloc.h: the physical page-frame allocator: 4 KiB pages of usable RAM, one at a time. */
#ifndef KERNEL_PAGE_ALLOC_H
#define KERNEL_PAGE_ALLOC_H

#include <stdint.h>

struct boot_info;

/*
 * Hand every usable page of the memory map to the allocator: RAM (type 1)
 * at or above 1 MiB, inside the direct map, outside the kernel image.
 * Boot CPU, once, right after paging_init() (the free list lives in the
 * direct map).
 */
void page_alloc_init(const struct boot_info *bi);

/* A zeroed 4 KiB page: its physical address, or 0 when memory is exhausted. Any context. */
uint64_t alloc_page(void);

/* Give back a page from alloc_page(). Warns (and ignores it) on a double free or a bad address. */
void free_page(uint64_t phys);

/* Pages on the free list now, and pages the allocator manages in all. */
unsigned long nr_free_pages(void);
unsigned long nr_total_pages(void);

#endif
