/* arch/x86_64/cpufeature.c: reads the CPU's vendor, brand string and feature bits from CPUID. */
#include "arch/x86_64/cpufeature.h"
#include "arch/x86_64/cpu.h"
#include "kernel/string.h"

enum cpuid_reg { REG_ECX, REG_EDX };

/*
 * Where CPUID reports each feature: leaf, output register and bit
 * (Intel SDM Vol. 2A, CPUID, Tables 3-10 and 3-11 for leaf 1, and the
 * leaf 80000001H entry of Table 3-8).
 */
static const struct {
    const char *name;
    unsigned leaf;
    enum cpuid_reg reg;
    unsigned bit;
} features[NR_CPU_FEATURES] = {
    [X86_FEATURE_FPU]          = { "fpu",          0x1,        REG_EDX, 0 },
    [X86_FEATURE_TSC]          = { "tsc",          0x1,        REG_EDX, 4 },
    [X86_FEATURE_MSR]          = { "msr",          0x1,        REG_EDX, 5 },
    [X86_FEATURE_PAE]          = { "pae",          0x1,        REG_EDX, 6 },
    [X86_FEATURE_APIC]         = { "apic",         0x1,        REG_EDX, 9 },
    [X86_FEATURE_SSE]          = { "sse",          0x1,        REG_EDX, 25 },
    [X86_FEATURE_SSE2]         = { "sse2",         0x1,        REG_EDX, 26 },
    [X86_FEATURE_X2APIC]       = { "x2apic",       0x1,        REG_ECX, 21 },
    [X86_FEATURE_TSC_DEADLINE] = { "tsc-deadline", 0x1,        REG_ECX, 24 },
    /* Intel documents ECX bit 31 as "not used, always 0"; hypervisors set it
     * so a guest can tell it is virtualized (Linux's X86_FEATURE_HYPERVISOR). */
    [X86_FEATURE_HYPERVISOR]   = { "hypervisor",   0x1,        REG_ECX, 31 },
    [X86_FEATURE_NX]           = { "nx",           0x80000001, REG_EDX, 20 },
    [X86_FEATURE_PDPE1GB]      = { "pdpe1gb",      0x80000001, REG_EDX, 26 },
    [X86_FEATURE_LM]           = { "lm",           0x80000001, REG_EDX, 29 },
};

/*
 * Whether the CPU implements `leaf`. Leaf 0 returns the highest basic leaf
 * in EAX, and leaf 80000000H the highest extended one (SDM Vol. 2A, CPUID);
 * asking for a leaf above those returns data of some other leaf, not zeros.
 */
static bool cpuid_has_leaf(uint32_t leaf)
{
    uint32_t max, b, c, d;

    cpuid(leaf & 0x80000000, &max, &b, &c, &d);
    return leaf <= max;
}

void cpu_get_vendor(char out[13])
{
    uint32_t a, b, c, d;

    /* Leaf 0 spells the vendor in EBX, EDX, ECX, in that order. */
    cpuid(0, &a, &b, &c, &d);
    memcpy(out, &b, 4);
    memcpy(out + 4, &d, 4);
    memcpy(out + 8, &c, 4);
    out[12] = '\0';
}

void cpu_get_brand(char out[49])
{
    uint32_t regs[12];

    out[0] = '\0';
    if (!cpuid_has_leaf(0x80000004))
        return;
    /* Leaves 80000002H-80000004H each return 16 bytes of the brand string
     * in EAX, EBX, ECX, EDX; together they are 48 bytes, NUL-padded. */
    for (uint32_t i = 0; i < 3; i++)
        cpuid(0x80000002 + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);

    /* Some Intel CPUs right-justify the string with leading spaces; skip them as Linux does. */
    const char *s = (const char *)regs;
    size_t skip = 0;
    while (skip < sizeof regs && s[skip] == ' ')
        skip++;
    memcpy(out, s + skip, sizeof regs - skip);
    out[sizeof regs - skip] = '\0';
}

void cpu_get_hypervisor_vendor(char out[13])
{
    uint32_t a, b, c, d;

    out[0] = '\0';
    if (!cpu_has(X86_FEATURE_HYPERVISOR))
        return;
    /* The SDM (Vol. 2A, CPUID) promises that no Intel CPU will ever answer
     * leaves 40000000H-4FFFFFFFH, which is why hypervisors took them: EAX is
     * their highest such leaf, EBX ECX EDX spell their name. */
    cpuid(0x40000000, &a, &b, &c, &d);
    memcpy(out, &b, 4);
    memcpy(out + 4, &c, 4);
    memcpy(out + 8, &d, 4);
    out[12] = '\0';
}

bool cpu_has(enum cpu_feature f)
{
    uint32_t r[4];      /* EAX, EBX, ECX, EDX */

    if ((unsigned)f >= NR_CPU_FEATURES || !cpuid_has_leaf(features[f].leaf))
        return false;
    cpuid(features[f].leaf, &r[0], &r[1], &r[2], &r[3]);
    uint32_t v = features[f].reg == REG_ECX ? r[2] : r[3];
    return (v >> features[f].bit) & 1;
}

const char *cpu_feature_name(enum cpu_feature f)
{
    if ((unsigned)f >= NR_CPU_FEATURES)
        return "?";
    return features[f].name;
}
