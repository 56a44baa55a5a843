/* arch/x86_64/apic.c: the local APIC in xAPIC (MMIO) or x2APIC (MSR) mode: setup, EOI and IPIs. */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq_vectors.h"
#include "arch/x86_64/irqflags.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "kernel/boot_stop.h"
#include "kernel/cpumask.h"
#include "kernel/printk.h"
#include "kernel/trace.h"

#define MSR_IA32_APICBASE        0x1b
#define APICBASE_ENABLE          (1UL << 11)
#define APICBASE_X2APIC          (1UL << 10)   /* EXTD */
#define APICBASE_ADDR_MASK       0x000ffffffffff000UL   /* bits 12 to MAXPHYADDR-1 (at most 52) */
#define MSR_X2APIC_BASE          0x800
#define MSR_X2APIC_ICR           0x830

enum apic_mode apic_mode;
static volatile uint32_t *apic_mmio;    /* xAPIC registers, through the uncached direct map */

uint32_t apic_read(uint32_t reg)
{
    if (apic_mode == APIC_MODE_X2APIC)
        return (uint32_t)rdmsr(MSR_X2APIC_BASE + (reg >> 4));
    return apic_mmio[reg / 4];
}

void apic_write(uint32_t reg, uint32_t value)
{
    if (apic_mode == APIC_MODE_X2APIC)
        wrmsr(MSR_X2APIC_BASE + (reg >> 4), value);
    else
        apic_mmio[reg / 4] = value;
}

uint32_t apic_read_id(void)
{
    /* xAPIC keeps an 8-bit id in bits 24-31; x2APIC a full 32-bit one. */
    uint32_t id = apic_read(APIC_ID);
    return apic_mode == APIC_MODE_X2APIC ? id : id >> 24;
}

const char *apic_mode_name(void)
{
    return apic_mode == APIC_MODE_X2APIC ? "x2APIC" : "xAPIC";
}

uint32_t apic_max_apic_id(void)
{
    return apic_mode == APIC_MODE_X2APIC ? 0xfffffffeu : 0xfeu;
}

void apic_eoi(void)
{
    apic_write(APIC_EOI, 0);
}

bool apic_vector_pending(unsigned vector)
{
    return (apic_read(APIC_IRR + (vector / 32) * 0x10) >> (vector % 32)) & 1;
}

/* Program this CPU's local APIC: the same for the BSP and every AP. */
static void apic_setup_local(bool is_bsp)
{
    uint64_t base = rdmsr(MSR_IA32_APICBASE) | APICBASE_ENABLE;

    if (apic_mode == APIC_MODE_X2APIC)
        base |= APICBASE_X2APIC;   /* xAPIC -> x2APIC is allowed while enabled (SDM 11.12.5) */
    wrmsr(MSR_IA32_APICBASE, base);

    /* TPR 0: accept every priority class. Set once here and never again, so
     * only IF and the in-service vectors decide what gets through. */
    apic_write(APIC_TASKPRI, 0);
    apic_write(APIC_LVTT, APIC_LVT_MASKED | LOCAL_TIMER_VECTOR);   /* kernel/time.c starts it */
    apic_write(APIC_LVTPC, APIC_LVT_MASKED);
    apic_write(APIC_LVTTHMR, APIC_LVT_MASKED);
    /* The 8259 is masked, so LINT0 (its virtual-wire input) is unused. LINT1
     * carries external NMIs, to the boot CPU only, as Linux does. */
    apic_write(APIC_LVT0, APIC_LVT_MASKED);
    apic_write(APIC_LVT1, is_bsp ? APIC_DM_NMI : APIC_LVT_MASKED);
    apic_write(APIC_LVTERR, ERROR_APIC_VECTOR);
    apic_write(APIC_ESR, 0);           /* writing ESR latches the errors; twice clears them */
    apic_write(APIC_ESR, 0);
    /* Software-enable the APIC and name the spurious vector (SDM 11.9). */
    apic_write(APIC_SPIV, 0x100 | SPURIOUS_APIC_VECTOR);
    apic_eoi();                        /* drop anything left in service by the firmware */
    this_cpu_write(apic_id, apic_read_id());
}

void apic_init_bsp(uint64_t lapic_phys, bool allow_x2apic)
{
    uint32_t a, b, c, d;

    cpuid(1, &a, &b, &c, &d);
    apic_mode = (allow_x2apic && (c & (1U << 21))) ? APIC_MODE_X2APIC : APIC_MODE_XAPIC;
    /* The CPU's registers are where IA32_APIC_BASE says (SDM 11.4.4); an
     * MADT address elsewhere would have us program memory, or nothing, and
     * wait forever for a timer. x2APIC mode reaches them through MSRs. */
    uint64_t msr_base = rdmsr(MSR_IA32_APICBASE) & APICBASE_ADDR_MASK;
    if (apic_mode == APIC_MODE_XAPIC && lapic_phys != msr_base)
        boot_stop("apic: the MADT puts the local APIC at %#lx, but this CPU's IA32_APIC_BASE says %#lx; "
                  "MADT refused", lapic_phys, msr_base);
    apic_mmio = phys_to_virt(lapic_phys);
    apic_setup_local(true);
    pr_info("apic: local APIC at %#lx in %s mode, id %u, version %#x\n",
            lapic_phys, apic_mode_name(), this_cpu_read(apic_id), apic_read(APIC_LVR) & 0xff);
}

void apic_init_ap(void)
{
    apic_setup_local(false);
}

void apic_icr_write(uint32_t low, uint32_t dest_apicid)
{
    if (apic_mode == APIC_MODE_X2APIC) {
        /* One 64-bit MSR write sends it. wrmsr to the x2APIC registers is not
         * serializing, so fence first: the target must see our stores
         * (Linux's weak_wrmsr_fence()). */
        __asm__ volatile("mfence; lfence" : : : "memory");
        wrmsr(MSR_X2APIC_ICR, ((uint64_t)dest_apicid << 32) | low);
        return;
    }
    /* xAPIC: wait until the previous IPI left, then destination, then the
     * low half, whose write sends (SDM 11.6.1). Interrupts must not run in
     * between, or a handler's own IPI could clobber ICR2: callers have IF=0
     * or we save and restore it here. */
    unsigned long flags = arch_local_irq_save();
    while (apic_read(APIC_ICR) & APIC_ICR_BUSY)
        cpu_relax();
    apic_write(APIC_ICR2, dest_apicid << 24);
    apic_write(APIC_ICR, low);
    arch_local_irq_restore(flags);
}

void apic_send_IPI(unsigned cpu, unsigned vector)
{
    trace_event(TRACE_IPI_SEND, cpu, vector, __builtin_return_address(0), NULL);
    apic_icr_write(APIC_DM_FIXED | vector, percpu_area[cpu].apic_id);
}

void apic_send_IPI_mask(const struct cpumask *mask, unsigned vector)
{
    unsigned cpu;

    for_each_cpu(cpu, mask)
        apic_send_IPI(cpu, vector);
}

void apic_send_IPI_allbutself(unsigned vector)
{
    apic_icr_write(APIC_DEST_ALLBUT | APIC_DM_FIXED | vector, 0);
}

void apic_send_NMI(unsigned cpu)
{
    trace_event(TRACE_IPI_SEND, cpu, 2, __builtin_return_address(0), NULL);    /* vector 2: the NMI's */
    apic_icr_write(APIC_DM_NMI, percpu_area[cpu].apic_id);
}
