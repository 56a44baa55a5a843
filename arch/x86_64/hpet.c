/* arch/x86_64/hpet.c: HPET timer 0 as a one-shot NMI source (IA-PC HPET specification 1.0a). */
#include "arch/x86_64/hpet.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "kernel/acpi_boot.h"
#include "kernel/bug.h"
#include "kernel/printk.h"

/*
 * Why an HPET: a timer interrupt on the LAPIC is a maskable interrupt, so
 * when every CPU spins with IF=0 no hrtimer fires anywhere, and nothing in
 * the machine can end a lab run. Linux has the perf NMI watchdog for that;
 * TCG has no PMU. An HPET comparator counts on its own, and its line can
 * reach a CPU through the IOAPIC as an NMI (delivery mode NMI, which IF
 * does not block: Intel SDM Vol. 3A, "Masking Maskable Hardware Interrupts"). Old Linux did the same with the
 * PIT (nmi_watchdog=1, the IO-APIC watchdog).
 *
 * Registers (HPET 1.0a, 2.3): a 64-bit main counter that counts up at
 * the period in GCAP_ID, and per timer a configuration register and a
 * comparator; a timer fires when the counter reaches its comparator. In
 * legacy replacement mode timer 0 drives ISA IRQ 0 (the PIT's, which QEMU
 * then disconnects) and timer 1 IRQ 8, whatever their route fields say.
 */
#define HPET_ID             0x000       /* GCAP_ID */
#define HPET_CFG            0x010       /* GEN_CONF */
#define HPET_COUNTER        0x0f0
#define HPET_T0_CFG         0x100
#define HPET_T0_CMP         0x108

#define HPET_ID_REV         0xffULL
#define HPET_ID_NUMBER(id)  ((((id) >> 8) & 0x1f) + 1)
#define HPET_ID_64BIT       (1ULL << 13)
#define HPET_ID_LEGSUP      (1ULL << 15)
#define HPET_ID_PERIOD(id)  ((id) >> 32)        /* femtoseconds per count */
#define HPET_PERIOD_MAX     100000000ULL        /* 10 MHz at least (1.0a, 2.3.4) */

#define HPET_CFG_ENABLE     (1ULL << 0)
#define HPET_CFG_LEGACY     (1ULL << 1)

#define HPET_TN_LEVEL       (1ULL << 1)
#define HPET_TN_ENABLE      (1ULL << 2)
#define HPET_TN_PERIODIC    (1ULL << 3)
#define HPET_TN_32BIT       (1ULL << 8)

#define FSEC_PER_NSEC       1000000ULL

static volatile uint64_t *hpet_base;
static uint64_t hpet_period_fs;
static bool hpet_64bit;                 /* else the comparator has 32 bits and wraps */

static uint64_t hpet_readq(unsigned reg)          { return hpet_base[reg / 8]; }
static void hpet_writeq(unsigned reg, uint64_t v) { hpet_base[reg / 8] = v; }

void hpet_enable(void)
{
    if (!acpi_info.hpet_addr)
        return;                         /* acpi_boot_init() said why */
    hpet_base = phys_to_virt(acpi_info.hpet_addr);
    uint64_t id = hpet_readq(HPET_ID);
    uint64_t period = HPET_ID_PERIOD(id);

    /* An absent block reads all ones or zeros; a real one has a revision,
     * a period within the spec's bound and the legacy route we use. */
    if (!(id & HPET_ID_REV) || period == 0 || period > HPET_PERIOD_MAX || !(id & HPET_ID_LEGSUP)) {
        pr_warn("hpet: no usable HPET at %#lx: GCAP_ID reads %#lx; valid: a revision, a period of 1-%lu fs, "
                "legacy replacement capable; no HPET NMI\n", acpi_info.hpet_addr, id, (unsigned long)HPET_PERIOD_MAX);
        hpet_base = NULL;
        return;
    }
    hpet_period_fs = period;
    hpet_64bit = id & HPET_ID_64BIT;
    /* Stop, legacy replacement on, timer 0 one-shot, edge, off; count from 0. */
    hpet_writeq(HPET_CFG, HPET_CFG_LEGACY);
    hpet_writeq(HPET_T0_CFG, 0);
    hpet_writeq(HPET_COUNTER, 0);
    hpet_writeq(HPET_CFG, HPET_CFG_LEGACY | HPET_CFG_ENABLE);
    if (!ioapic_route_isa_irq_nmi(0, this_cpu_read(apic_id))) {
        hpet_writeq(HPET_CFG, 0);
        hpet_base = NULL;
        return;
    }
    pr_info("hpet0: at MMIO %#lx, IRQs 2, 8, 0\n", acpi_info.hpet_addr);
    pr_info("hpet0: %lu comparators, %d-bit %lu.%06lu MHz counter\n", (unsigned long)HPET_ID_NUMBER(id),
            (id & HPET_ID_64BIT) ? 64 : 32, 1000000000UL / period, (1000000000000000UL / period) % 1000000);
}

bool hpet_nmi_after(uint64_t ns)
{
    if (!hpet_base)
        return false;
    uint64_t counts = ns * (FSEC_PER_NSEC / 1000) / (hpet_period_fs / 1000);

    if (!hpet_64bit && counts > UINT32_MAX)
        return false;                   /* further than a 32-bit comparator reaches */

    /* Off while the comparator changes, so an old one cannot fire half-set. */
    hpet_writeq(HPET_T0_CFG, 0);
    hpet_writeq(HPET_T0_CMP, hpet_readq(HPET_COUNTER) + counts);
    hpet_writeq(HPET_T0_CFG, HPET_TN_ENABLE);
    return true;
}
