/* arch/x86_64/ioapic.c: programs the I/O APIC's redirection table from the MADT. */
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/paging.h"
#include "kernel/acpi_boot.h"
#include "kernel/boot_stop.h"
#include "kernel/monitor.h"
#include "kernel/printk.h"
#include "kernel/vsprintf.h"

/*
 * The IOAPIC has two MMIO registers: IOREGSEL selects a register, IOWIN
 * reads or writes it (82093AA data sheet, 3.0). Redirection entry n is the
 * register pair 0x10 + 2n (low: vector, mode, mask) and 0x11 + 2n (high:
 * destination APIC id in bits 56-63).
 */
#define IOREGSEL   0x00
#define IOWIN      0x10
#define IOAPICVER  0x01
#define IOREDTBL(n) (0x10 + 2 * (n))

#define IOAPIC_VERSION_MIN  0x10      /* 0x1X: discrete IOAPICs; 0x20: chipset ones */
#define IOAPIC_VERSION_MAX  0x20
#define IOAPIC_ENTRIES_MAX  128       /* Linux's MP_MAX_IOAPIC_PIN + 1 */

#define RTE_MASKED       (1U << 16)
#define RTE_LEVEL        (1U << 15)
#define RTE_ACTIVE_LOW   (1U << 13)
#define RTE_DELIVERY_FIXED (0U << 8)  /* delivery mode, bits 8-10 */
#define RTE_DELIVERY_NMI   (4U << 8)

static volatile uint32_t *ioapic_base;
static uint32_t ioapic_gsi_base;
static unsigned ioapic_entries;

static uint32_t ioapic_read(uint32_t reg)
{
    ioapic_base[IOREGSEL / 4] = reg;
    return ioapic_base[IOWIN / 4];
}

static void ioapic_write(uint32_t reg, uint32_t value)
{
    ioapic_base[IOREGSEL / 4] = reg;
    ioapic_base[IOWIN / 4] = value;
}

void ioapic_init(void)
{
    if (acpi_info.ioapic_count == 0) {
        pr_warn("ioapic: the MADT lists no IOAPIC; device interrupts stay off\n");
        return;
    }
    ioapic_base = phys_to_virt(acpi_info.ioapics[0].addr);
    ioapic_gsi_base = acpi_info.ioapics[0].gsi_base;
    /* IOAPICVER: version in bits 0-7 (0x11 on the 82093AA, 0x20 on chipset
     * IOAPICs and QEMU's), PRQ in bit 15, the last redirection entry in
     * 16-23, the rest reserved (0; Linux's union IO_APIC_reg_01). Anything
     * else means no IOAPIC answers at this address: the writes below would
     * land in some other device. */
    uint32_t ver = ioapic_read(IOAPICVER);
    ioapic_entries = ((ver >> 16) & 0xff) + 1;
    if ((ver & 0xff007f00) != 0 || (ver & 0xff) < IOAPIC_VERSION_MIN || (ver & 0xff) > IOAPIC_VERSION_MAX ||
        ioapic_entries > IOAPIC_ENTRIES_MAX)
        boot_stop("ioapic: no IOAPIC answers at %#x (the MADT's): its version register reads %#x; valid: "
                  "version %#x-%#x, 1-%u redirection entries, reserved bits 0; MADT refused",
                  acpi_info.ioapics[0].addr, ver, IOAPIC_VERSION_MIN, IOAPIC_VERSION_MAX, IOAPIC_ENTRIES_MAX);
    for (unsigned i = 0; i < ioapic_entries; i++) {
        ioapic_write(IOREDTBL(i) + 1, 0);
        ioapic_write(IOREDTBL(i), RTE_MASKED);
    }
    pr_info("ioapic: IOAPIC %u at %#x, GSIs %u-%u, all masked\n", acpi_info.ioapics[0].id,
            acpi_info.ioapics[0].addr, ioapic_gsi_base, ioapic_gsi_base + ioapic_entries - 1);
}

/* The GSI that ISA IRQ `irq` arrives on, and in *mode the polarity and
 * trigger bits of its redirection entry. ISA interrupts are edge-triggered
 * and active-high on GSI irq unless an override says otherwise (ACPI 6.x
 * 5.2.12.5, MPS INTI flags). */
static unsigned isa_irq_gsi(unsigned irq, uint32_t *mode)
{
    unsigned gsi = irq;

    *mode = 0;
    for (unsigned i = 0; i < acpi_info.iso_count; i++) {
        const struct acpi_iso *iso = &acpi_info.isos[i];
        if (iso->bus != 0 || iso->source != irq)
            continue;
        gsi = iso->gsi;
        if ((iso->flags & 0x3) == 0x3)
            *mode |= RTE_ACTIVE_LOW;
        if (((iso->flags >> 2) & 0x3) == 0x3)
            *mode |= RTE_LEVEL;
    }
    return gsi;
}

static bool gsi_on_ioapic(unsigned gsi)
{
    return gsi >= ioapic_gsi_base && gsi < ioapic_gsi_base + ioapic_entries;
}

/* Program the redirection entry of ISA IRQ `irq`: `low` holds the vector
 * and delivery mode; the polarity and trigger come from the MADT. */
static bool route_isa_irq(unsigned irq, uint32_t low, uint32_t apic_id, const char *what)
{
    uint32_t mode;
    unsigned gsi = isa_irq_gsi(irq, &mode);

    low |= mode;                        /* physical destination */

    if (!ioapic_base)
        return false;
    if (!gsi_on_ioapic(gsi)) {
        pr_warn("ioapic: ISA IRQ %u maps to GSI %u, which this IOAPIC does not have (GSIs %u-%u)\n", irq, gsi,
                ioapic_gsi_base, ioapic_gsi_base + ioapic_entries - 1);
        return false;
    }
    unsigned pin = gsi - ioapic_gsi_base;
    ioapic_write(IOREDTBL(pin) + 1, apic_id << 24);
    ioapic_write(IOREDTBL(pin), low);   /* unmasked by this write */
    pr_info("ioapic: ISA IRQ %u -> GSI %u -> %s on APIC id %u (%s, %s)\n", irq, gsi, what, apic_id,
            (low & RTE_LEVEL) ? "level" : "edge", (low & RTE_ACTIVE_LOW) ? "active low" : "active high");
    return true;
}

bool ioapic_route_isa_irq(unsigned irq, unsigned vector, uint32_t apic_id)
{
    char what[16];

    ksnprintf(what, sizeof what, "vector %#x", vector);
    return route_isa_irq(irq, vector | RTE_DELIVERY_FIXED, apic_id, what);
}

/* NMI delivery ignores the vector and must be edge-triggered (82093AA data
 * sheet, 3.2.4): an override that makes the line level-triggered is refused. */
bool ioapic_route_isa_irq_nmi(unsigned irq, uint32_t apic_id)
{
    uint32_t mode;

    isa_irq_gsi(irq, &mode);
    if (mode & RTE_LEVEL) {
        pr_warn("ioapic: ISA IRQ %u is level-triggered (MADT override); an NMI line must be edge-triggered\n", irq);
        return false;
    }
    return route_isa_irq(irq, RTE_DELIVERY_NMI, apic_id, "NMI");
}

void ioapic_mask_isa_irq(unsigned irq)
{
    uint32_t mode;
    unsigned gsi = isa_irq_gsi(irq, &mode);

    if (ioapic_base && gsi_on_ioapic(gsi))
        ioapic_write(IOREDTBL(gsi - ioapic_gsi_base), RTE_MASKED);
}
