/* arch/x86_64/stacks.h: every kernel stack, its guard page, and lookup by address for the unwinder. */
#ifndef ARCH_X86_64_STACKS_H
#define ARCH_X86_64_STACKS_H

#include <stdbool.h>
#include <stdint.h>
#include "arch/x86_64/paging.h"

#define PAGE_SIZE          4096UL
#define KERNEL_STACK_SIZE  (16 * 1024UL)
#define IST_STACK_SIZE     (8 * 1024UL)

/* The Interrupt Stack Table slots (1-based, as in the IDT gate) and what runs on them. */
enum ist_slot { IST_NMI = 1, IST_DF = 2, IST_MC = 3, IST_COUNT = 3 };

enum stack_kind { STACK_KERNEL, STACK_NMI, STACK_DF, STACK_MC, STACK_NONE };

struct stack_info {
    enum stack_kind kind;
    unsigned cpu;
    uint64_t begin, end;        /* usable bytes [begin, end); the guard page is just below begin */
};

/*
 * Kernel threads' stacks (kernel/sched.c), in the vmalloc area
 * (arch/x86_64/paging.h), one slot of THREAD_STACK_SLOT bytes per task-table
 * entry: an unmapped guard page, the KERNEL_STACK_SIZE stack, and unmapped
 * pages above it up to the next slot's guard. The area starts half-way up
 * the vmalloc area, far from the page-sized mappings of the TLB tests.
 */
#define NR_THREAD_STACKS   64
#define THREAD_STACK_AREA  (VMALLOC_START + (256UL << 30))
#define THREAD_STACK_SLOT  (8 * PAGE_SIZE)

/*
 * Map the stack of thread slot `slot` (fresh zeroed pages, the first time a
 * slot is used; a reused slot keeps its pages) and register it as a STACK_KERNEL
 * of `cpu` for stack_lookup() and stack_guard_lookup(). Returns the stack's
 * top, or 0 when memory ran out (what was mapped stays, for the next try).
 * Task context; callers serialise per slot.
 */
uint64_t thread_stack_create(unsigned slot, unsigned cpu);

/* Top of CPU `cpu`'s kernel stack, and of its IST stack for `slot`. */
uint64_t kernel_stack_top(unsigned cpu);
uint64_t ist_stack_top(unsigned cpu, enum ist_slot slot);

/* Which stack holds addr? Fills *info and returns true, or returns false. */
bool stack_lookup(uint64_t addr, struct stack_info *info);

/* Is addr inside one of the unmapped guard pages? Fills *info with the stack it guards. */
bool stack_guard_lookup(uint64_t addr, struct stack_info *info);

/* Calls fn for the virtual address of every static stack's guard page (paging_init
 * leaves them unmapped; thread stacks' guards are never mapped in the first place). */
void stacks_for_each_guard(void (*fn)(uint64_t guard_page));

const char *stack_kind_name(enum stack_kind kind);

#endif
