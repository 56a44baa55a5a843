/* kernel/page_alloc.c: physical page frames from the memory map, kept on a free list inside the free pages. */
#include "kernel/page_alloc.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/stacks.h"
#include "kernel/bug.h"
#include "kernel/monitor.h"
#include "kernel/multiboot.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"

/*
 * Why a free list and not a bitmap: a free page is memory nobody uses, so
 * it can hold its own list link. The allocator then needs no metadata of
 * its own whatever the size of RAM, and both alloc_page() and free_page()
 * are O(1): pop or push the head. A bitmap would cost 1 bit per page of
 * static memory and a search on every allocation; what it buys (finding
 * contiguous runs) irqlab does not need, since it allocates one page at a
 * time. Linux's buddy allocator also threads its free lists through the
 * free pages (struct page's lru), with a struct page array beside them.
 *
 * Each free page starts with this header, reached through the direct map.
 * The magic word makes a double free cheap to notice: a page on the list
 * carries it, an allocated page had it wiped when alloc_page() zeroed it.
 * (A page whose owner happened to store exactly the magic at offset 8
 * would be reported falsely: one chance in 2^64 for arbitrary data.)
 */
#define PAGE_FREE_MAGIC 0x9e3779b97f4a7c15ULL   /* arbitrary; unlikely in real data */

struct free_page {
    struct free_page *next;
    uint64_t magic;
};

static raw_spinlock_t page_lock = __RAW_SPIN_LOCK_UNLOCKED;
static struct free_page *free_list;
static unsigned long free_pages, total_pages;
static const struct boot_info *mem_map;      /* the memory map the pages came from */

extern char __image_phys_start[], __image_end[];    /* linker.ld */

/*
 * May the page at phys be handed out? Usable RAM only (E820 type 1), never
 * below 1 MiB (the BIOS data, the ACPI RSDP and the AP trampoline page live
 * there), never the kernel image, and only where the direct map reaches,
 * because that is how the allocator writes to it.
 */
static bool page_usable(uint64_t phys)
{
    uint64_t end = phys + PAGE_SIZE;

    if (phys & (PAGE_SIZE - 1) || phys < (1UL << 20) || !phys_range_mapped(phys, PAGE_SIZE))
        return false;
    if (end > (uint64_t)__image_phys_start && phys < virt_to_phys(__image_end))
        return false;
    for (unsigned i = 0; i < mem_map->mmap_count; i++) {
        const struct boot_mmap_entry *e = &mem_map->mmap[i];
        if (e->type == 1 && phys >= e->addr && end <= e->addr + e->len)
            return true;
    }
    return false;
}

/* Push a page on the free list. Caller holds page_lock. */
static void free_list_push(uint64_t phys)
{
    struct free_page *p = phys_to_virt(phys);

    p->next = free_list;
    p->magic = PAGE_FREE_MAGIC;
    free_list = p;
    free_pages++;
}

void page_alloc_init(const struct boot_info *bi)
{
    mem_map = bi;
    for (unsigned i = 0; i < bi->mmap_count; i++) {
        const struct boot_mmap_entry *e = &bi->mmap[i];
        if (e->type != 1)
            continue;
        /* Whole pages only: round the start up and the end down. */
        uint64_t start = (e->addr + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
        uint64_t end = (e->addr + e->len) & ~(PAGE_SIZE - 1);
        for (uint64_t pa = start; pa < end; pa += PAGE_SIZE) {
            if (page_usable(pa))
                free_list_push(pa);
        }
    }
    total_pages = free_pages;
    pr_info("page_alloc: %lu pages (%lu KiB) of RAM free for allocation\n",
            free_pages, free_pages * (PAGE_SIZE >> 10));
}

uint64_t alloc_page(void)
{
    unsigned long flags;
    struct free_page *p;

    /* irqsave: an interrupt handler on this CPU may allocate too, and
     * taking the lock it interrupted would spin forever. */
    raw_spin_lock_irqsave(&page_lock, flags);
    p = free_list;
    if (p) {
        free_list = p->next;
        free_pages--;
    }
    raw_spin_unlock_irqrestore(&page_lock, flags);
    if (!p)
        return 0;
    memset(p, 0, PAGE_SIZE);            /* outside the lock: the page is ours now */
    return virt_to_phys(p);
}

void free_page(uint64_t phys)
{
    unsigned long flags;

    if (WARN(!page_usable(phys), "page_alloc: free_page(%#lx) of a page it never gave out", phys))
        return;
    raw_spin_lock_irqsave(&page_lock, flags);
    if (WARN(((struct free_page *)phys_to_virt(phys))->magic == PAGE_FREE_MAGIC,
             "page_alloc: double free of page %#lx", phys)) {
        raw_spin_unlock_irqrestore(&page_lock, flags);
        return;
    }
    free_list_push(phys);
    raw_spin_unlock_irqrestore(&page_lock, flags);
}

unsigned long nr_free_pages(void)
{
    return __atomic_load_n(&free_pages, __ATOMIC_RELAXED);
}

unsigned long nr_total_pages(void)
{
    return total_pages;
}

MONITOR_COMMAND(mem, "physical pages: total, free and in use (4 KiB each)")
{
    unsigned long free = nr_free_pages();

    (void)argc; (void)argv;
    printk("Pages: %lu total (%lu KiB), %lu free (%lu KiB), %lu in use\n",
           total_pages, total_pages * (PAGE_SIZE >> 10), free, free * (PAGE_SIZE >> 10),
           total_pages - free);
    return 0;
}
