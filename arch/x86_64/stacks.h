/* arch/x86_64/stacks.h: every kernel stack, its guard page, and lookup by address for the unwinder. */
#ifndef ARCH_X86_64_STACKS_H
#define ARCH_X86_64_STACKS_H

#include <stdbool.h>
#include <stdint.h>

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

/* Top of CPU `cpu`'s kernel stack, and of its IST stack for `slot`. */
uint64_t kernel_stack_top(unsigned cpu);
uint64_t ist_stack_top(unsigned cpu, enum ist_slot slot);

/* Which stack holds addr? Fills *info and returns true, or returns false. */
bool stack_lookup(uint64_t addr, struct stack_info *info);

/* Is addr inside one of the unmapped guard pages? Fills *info with the stack it guards. */
bool stack_guard_lookup(uint64_t addr, struct stack_info *info);

/* Calls fn for the virtual address of every guard page (paging_init leaves them unmapped). */
void stacks_for_each_guard(void (*fn)(uint64_t guard_page));

const char *stack_kind_name(enum stack_kind kind);

#endif
