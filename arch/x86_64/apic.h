/* arch/x86_64/apic.h: the local APIC (xAPIC over MMIO or x2APIC over MSRs): EOI, IPIs, timer registers. */
#ifndef ARCH_X86_64_APIC_H
#define ARCH_X86_64_APIC_H

#include <stdbool.h>
#include <stdint.h>

struct cpumask;

/* Register offsets in the xAPIC MMIO page (Intel SDM Vol. 3A 11.4.1, Table 11-1).
 * In x2APIC mode register r is MSR 0x800 + (r >> 4) (SDM 11.12.1.2). */
#define APIC_ID         0x020
#define APIC_LVR        0x030   /* version; bits 16-23: number of LVT entries - 1 */
#define APIC_TASKPRI    0x080   /* TPR */
#define APIC_PROCPRI    0x0a0   /* PPR, read-only */
#define APIC_EOI        0x0b0
#define APIC_SPIV       0x0f0   /* spurious vector; bit 8 = APIC software enable */
#define APIC_ISR        0x100   /* in-service, 8 registers 0x10 apart */
#define APIC_TMR        0x180
#define APIC_IRR        0x200   /* requested, 8 registers */
#define APIC_ESR        0x280
#define APIC_ICR        0x300   /* low half; writing it sends in xAPIC mode */
#define APIC_ICR2       0x310   /* destination (bits 24-31), xAPIC only */
#define APIC_LVTT       0x320   /* timer */
#define APIC_LVTTHMR    0x330
#define APIC_LVTPC      0x340
#define APIC_LVT0       0x350   /* LINT0 */
#define APIC_LVT1       0x360   /* LINT1 */
#define APIC_LVTERR     0x370
#define APIC_TMICT      0x380   /* timer initial count */
#define APIC_TMCCT      0x390   /* timer current count */
#define APIC_TDCR       0x3e0   /* timer divide configuration */

#define APIC_LVT_MASKED         (1U << 16)
#define APIC_LVT_TIMER_PERIODIC (1U << 17)
#define APIC_TDR_DIV_16         0x3
#define APIC_DM_FIXED           (0U << 8)
#define APIC_DM_NMI             (4U << 8)
#define APIC_DM_INIT            (5U << 8)
#define APIC_DM_STARTUP         (6U << 8)
#define APIC_ICR_BUSY           (1U << 12)   /* delivery status, xAPIC only */
#define APIC_INT_ASSERT         (1U << 14)
#define APIC_INT_LEVELTRIG      (1U << 15)
#define APIC_DEST_SELF          (1U << 18)
#define APIC_DEST_ALLBUT        (3U << 18)

enum apic_mode { APIC_MODE_XAPIC, APIC_MODE_X2APIC };
extern enum apic_mode apic_mode;

/* Choose the mode (x2APIC when CPUID offers it and x2apic=off is not given),
 * and enable the boot CPU's local APIC. lapic_phys comes from the MADT. */
void apic_init_bsp(uint64_t lapic_phys, bool allow_x2apic);
/* Enable the calling AP's local APIC in the mode the BSP chose. */
void apic_init_ap(void);

uint32_t apic_read(uint32_t reg);
void apic_write(uint32_t reg, uint32_t value);
uint32_t apic_read_id(void);            /* this CPU's APIC id */
const char *apic_mode_name(void);

/*
 * The highest APIC ID an IPI can name in the current mode, as Linux's
 * apic->max_apic_id: xAPIC's ICR destination is 8 bits and 0xff is its
 * broadcast (SDM Vol. 3A 11.6.1), so 0xfe; x2APIC's is 32 bits with
 * broadcast 0xffffffff (SDM Vol. 3A 11.12.9), so 0xfffffffe.
 */
uint32_t apic_max_apic_id(void);
/* Linux's apic_id_valid(): can an IPI reach the local APIC with this ID? */
static inline bool apic_id_valid(uint32_t apic_id)
{
    return apic_id <= apic_max_apic_id();
}

/* End of interrupt: clears the highest in-service bit (SDM 11.8.5). */
void apic_eoi(void);

/* Is `vector` set in this CPU's interrupt request register (IRR)? */
bool apic_vector_pending(unsigned vector);

/* Send an interrupt command; xAPIC waits until the previous one was accepted. */
void apic_icr_write(uint32_t low, uint32_t dest_apicid);

/* IPIs by logical CPU number (percpu apic_id). */
void apic_send_IPI(unsigned cpu, unsigned vector);
void apic_send_IPI_mask(const struct cpumask *mask, unsigned vector);
void apic_send_IPI_allbutself(unsigned vector);
void apic_send_NMI(unsigned cpu);

#endif
