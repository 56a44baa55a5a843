/* arch/x86_64/traps.h: the saved register frame, exception vectors, and the entry point from the stubs. */
#ifndef ARCH_X86_64_TRAPS_H
#define ARCH_X86_64_TRAPS_H

#include <stdint.h>

/*
 * The frame arch/x86_64/entry.asm builds on every interrupt and exception:
 * general registers pushed by the stub (lowest address first), then the
 * vector and error code, then what the CPU itself pushed.
 */
struct pt_regs {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
    uint64_t rax, rcx, rdx, rsi, rdi;
    uint64_t vector;
    uint64_t error_code;        /* 0 for vectors where the CPU pushes none */
    uint64_t rip, cs, rflags, rsp, ss;
};

/* Exception vectors (Intel SDM Vol. 3A 6.3.1, Table 6-1). */
enum {
    X86_TRAP_DE = 0,    /* divide error */
    X86_TRAP_DB = 1,    /* debug */
    X86_TRAP_NMI = 2,   /* non-maskable interrupt */
    X86_TRAP_BP = 3,    /* breakpoint (int3) */
    X86_TRAP_OF = 4,    /* overflow */
    X86_TRAP_BR = 5,    /* bound range */
    X86_TRAP_UD = 6,    /* invalid opcode */
    X86_TRAP_NM = 7,    /* device not available */
    X86_TRAP_DF = 8,    /* double fault */
    X86_TRAP_OLD_MF = 9,
    X86_TRAP_TS = 10,   /* invalid TSS */
    X86_TRAP_NP = 11,   /* segment not present */
    X86_TRAP_SS = 12,   /* stack segment fault */
    X86_TRAP_GP = 13,   /* general protection */
    X86_TRAP_PF = 14,   /* page fault */
    X86_TRAP_MF = 16,   /* x87 floating point */
    X86_TRAP_AC = 17,   /* alignment check */
    X86_TRAP_MC = 18,   /* machine check */
    X86_TRAP_XF = 19,   /* SIMD floating point */
    X86_TRAP_VE = 20,   /* virtualization */
    X86_TRAP_CP = 21,   /* control protection */
    X86_TRAP_VC = 29,   /* VMM communication */
    X86_TRAP_SX = 30,   /* security */
    X86_NR_EXCEPTIONS = 32,
};

/* Called by the entry stubs for every vector, with interrupts off. */
void x86_dispatch(struct pt_regs *regs);

/* A handler for one interrupt vector (arch/x86_64/irq.h). */
typedef void (*vector_handler_t)(struct pt_regs *regs);

#endif
