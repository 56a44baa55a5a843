/* arch/x86_64/cpu.h: one-instruction helpers for ports, MSRs, control registers and CPUID. */
#ifndef ARCH_X86_64_CPU_H
#define ARCH_X86_64_CPU_H

#include <stdint.h>

/* RFLAGS bits (Intel SDM Vol. 1, 3.4.3). */
#define X86_EFLAGS_CF   (1UL << 0)
#define X86_EFLAGS_PF   (1UL << 2)
#define X86_EFLAGS_AF   (1UL << 4)
#define X86_EFLAGS_ZF   (1UL << 6)
#define X86_EFLAGS_SF   (1UL << 7)
#define X86_EFLAGS_TF   (1UL << 8)
#define X86_EFLAGS_IF   (1UL << 9)   /* maskable interrupts enabled */
#define X86_EFLAGS_DF   (1UL << 10)
#define X86_EFLAGS_OF   (1UL << 11)
#define X86_EFLAGS_NT   (1UL << 14)
#define X86_EFLAGS_RF   (1UL << 16)
#define X86_EFLAGS_AC   (1UL << 18)
#define X86_EFLAGS_ID   (1UL << 21)

#define MSR_EFER        0xc0000080
#define MSR_FS_BASE     0xc0000100
#define MSR_GS_BASE     0xc0000101
#define EFER_NXE        (1UL << 11)

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }

static inline void write_cr3(uint64_t v)
{
    /* Writing CR3 also flushes every non-global TLB entry (SDM Vol. 3A 4.10.4.1). */
    __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    cpuid_count(leaf, 0, a, b, c, d);
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* A spin-wait hint: tells the CPU (and QEMU) that this loop is waiting. */
static inline void cpu_relax(void)
{
    __asm__ volatile("pause" : : : "memory");
}

static inline void halt(void)
{
    __asm__ volatile("hlt" : : : "memory");
}

static inline void invlpg(uint64_t vaddr)
{
    __asm__ volatile("invlpg (%0)" : : "r"(vaddr) : "memory");
}

/* Stop this CPU for good: interrupts off, then halt (an NMI may still wake it). */
__attribute__((noreturn)) static inline void cpu_halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt" : : : "memory");
}

#endif
