/* arch/x86_64/cpufeature.h: what this CPU is (vendor, brand) and which CPUID features it has. */
#ifndef ARCH_X86_64_CPUFEATURE_H
#define ARCH_X86_64_CPUFEATURE_H

#include <stdbool.h>

/* The features irqlab asks about. cpufeature.c says where CPUID reports each. */
enum cpu_feature {
    X86_FEATURE_FPU,
    X86_FEATURE_TSC,
    X86_FEATURE_MSR,
    X86_FEATURE_PAE,
    X86_FEATURE_APIC,
    X86_FEATURE_SSE,
    X86_FEATURE_SSE2,
    X86_FEATURE_X2APIC,
    X86_FEATURE_TSC_DEADLINE,
    X86_FEATURE_HYPERVISOR,
    X86_FEATURE_NX,
    X86_FEATURE_PDPE1GB,
    X86_FEATURE_LM,
    NR_CPU_FEATURES             /* not a feature: the count, for loops */
};

/* The 12-character vendor id, e.g. "GenuineIntel", NUL-terminated. */
void cpu_get_vendor(char out[13]);

/* The brand string, e.g. "QEMU Virtual CPU version 2.5+", or "" if the CPU has none. */
void cpu_get_brand(char out[49]);

/*
 * The hypervisor's signature from CPUID leaf 40000000H (EBX, ECX, EDX, as
 * Linux's detect_hypervisor_vendor() reads it), e.g. "KVMKVMKVM" or
 * "TCGTCGTCGTCG", when CPUID.1:ECX[31] (X86_FEATURE_HYPERVISOR) is set;
 * "" when it is not (bare metal, or a hypervisor that does not say).
 */
void cpu_get_hypervisor_vendor(char out[13]);

/* Whether this CPU reports feature f. */
bool cpu_has(enum cpu_feature f);

/* The feature's short lower-case name, e.g. "x2apic", as the monitor's `info` prints it. */
const char *cpu_feature_name(enum cpu_feature f);

#endif
