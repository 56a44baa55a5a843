/* arch/x86_64/dumpstack.h: register dumps, symbolized backtraces and the oops report. */
#ifndef ARCH_X86_64_DUMPSTACK_H
#define ARCH_X86_64_DUMPSTACK_H

#include "arch/x86_64/traps.h"

/* Print the register block of an oops: RIP, RSP, RFLAGS (decoded), GPRs, CRs. */
void show_regs(const struct pt_regs *regs);

/* Print "Call Trace:" for the frame chain that starts at rip/rbp on the stack holding rsp. */
void show_trace(uint64_t rip, uint64_t rbp, uint64_t rsp);

/*
 * Save up to max return addresses, innermost first: entries[0] points into
 * the function that called stack_trace_save(), entries[1] into its caller,
 * and so on. Returns how many were saved. (Linux's stack_trace_save().)
 */
unsigned stack_trace_save(uint64_t *entries, unsigned max);

/* Backtrace of the caller, as Linux's dump_stack(). */
void dump_stack(void);

/* Print the names of the set RFLAGS bits into buf, e.g. "IF ZF PF". */
void format_eflags(char *buf, unsigned long size, uint64_t rflags);

/*
 * The oops: headline "Oops: <str>: <err> [#n] SMP", the CPU line, registers
 * and backtrace, then "Kernel panic - not syncing: Fatal exception" and the
 * panic policy (kernel/panic.h). str may be NULL (page faults print their
 * own BUG line first, as Linux does). Never returns.
 */
__attribute__((noreturn)) void die(const char *str, struct pt_regs *regs, uint64_t err);

#endif
