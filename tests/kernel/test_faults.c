/* tests/kernel/test_faults.c: deliberate faults; each must end in its own oops report and a failure exit. */
#include "kernel/ktest.h"

#include <stdint.h>

/*
 * These cases are KTEST_FATAL: never part of test=all, run one per boot by
 * tests/checks/boot.toml, which checks the headline and the failure exit.
 * `volatile` keeps the compiler from folding the faults away at build time.
 */

__attribute__((noinline)) static int fault_divide_by(volatile int d)
{
    volatile int n = 42;
    return n / d;
}

KTEST_FATAL(fault_divide)
{
    KTEST_EXPECT(t, fault_divide_by(0) == 0);     /* not reached */
}

KTEST_FATAL(fault_invalid_opcode)
{
    __asm__ volatile("ud2");
    KTEST_EXPECT(t, false);
}

KTEST_FATAL(fault_general_protection)
{
    /* Bits 63..47 of an address must all be equal (canonical form, SDM Vol. 1
     * 3.3.7.1); this one is not, so the access raises #GP, not #PF. */
    volatile uint64_t *p = (volatile uint64_t *)0x8000000000000000UL;
    KTEST_EXPECT(t, *p == 0);
}

KTEST_FATAL(fault_page_fault)
{
    volatile uint64_t *p = (volatile uint64_t *)0xdeadb000UL;   /* nothing maps it */
    KTEST_EXPECT(t, *p == 0);
}

/* Each level keeps a frame of ~512 bytes alive, so 16 KiB run out in ~32 calls. */
__attribute__((noinline)) static int recurse(int depth)
{
    volatile char frame[512];

    frame[0] = (char)depth;
    if (depth == 0)
        return frame[0];
    return recurse(depth - 1) + frame[0];
}

KTEST_FATAL(fault_stack_overflow)
{
    KTEST_EXPECT(t, recurse(1 << 20) != 0);
}
