/* kernel/acpi_boot.c: finds the ACPI tables at boot, refuses bad ones by name, and reports the MADT. */
#include "kernel/acpi_boot.h"
#include "kernel/bootparams.h"
#include "kernel/printk.h"
#include "arch/x86_64/paging.h"
#include "kernel/boot_stop.h"

struct acpi_info acpi_info;
uint64_t param_acpi_rsdp;

/* ACPI tables are in RAM or firmware areas, all inside the direct map. */
static const void *acpi_map(uint64_t phys, size_t len)
{
    if (!phys_range_mapped(phys, len))
        return NULL;
    return phys_to_virt(phys);
}

#define ACPI_STOP_WHY "\nirqlab: cannot find the CPUs and interrupt controllers without a valid MADT"

__attribute__((noreturn)) static void acpi_stop(const char *why)
{
    boot_stop("%s" ACPI_STOP_WHY, why);
}

#define acpi_stop_fmt(fmt, ...) boot_stop(fmt ACPI_STOP_WHY, __VA_ARGS__)

/*
 * The kernel is about to map [phys, phys + len) uncached and write to it:
 * refuse unless it is inside the direct map and clear of usable RAM (the
 * boot loader's memory map), where register writes would corrupt memory.
 */
static const struct boot_mmap_entry *usable_ram_at(uint64_t phys, uint64_t len)
{
    for (unsigned i = 0; i < boot_info.mmap_count; i++) {
        const struct boot_mmap_entry *e = &boot_info.mmap[i];

        if (e->type == 1 && phys < e->addr + e->len && e->addr < phys + len)
            return e;
    }
    return NULL;
}

static void check_mmio(const char *what, uint64_t phys, uint64_t len)
{
    const struct boot_mmap_entry *e;

    if (!phys_range_mapped(phys, len))
        acpi_stop_fmt("ACPI: MADT %s at %#lx is outside the physical memory irqlab maps; table refused",
                      what, phys);
    if ((e = usable_ram_at(phys, len)))
        acpi_stop_fmt("ACPI: MADT %s at %#lx lies in usable RAM [mem 0x%016lx-0x%016lx]; registers cannot "
                      "be there; table refused", what, phys, e->addr, e->addr + e->len - 1);
}

/* The HPET is optional: a table that is refused, or a block irqlab cannot
 * map, only costs the labs their NMI backstop (kernel/lab.c), so say so
 * and boot on. */
static void check_hpet(void)
{
    const char *no = "; no HPET: a lab whose CPUs all spin with IF=0 ends only at the host's timeout";

    if (acpi_info.hpet_refused[0]) {
        pr_warn("%s%s\n", acpi_info.hpet_refused, no);
    } else if (acpi_info.hpet_addr && (!phys_range_mapped(acpi_info.hpet_addr, ACPI_HPET_WINDOW) ||
                                       usable_ram_at(acpi_info.hpet_addr, ACPI_HPET_WINDOW))) {
        pr_warn("ACPI: HPET block at %#lx is outside the memory irqlab maps or in usable RAM; table refused%s\n",
                acpi_info.hpet_addr, no);
        acpi_info.hpet_addr = 0;
    } else if (acpi_info.hpet_addr) {
        pr_info("ACPI: HPET id: %#x base: %#lx\n", acpi_info.hpet_id, acpi_info.hpet_addr);
    }
}

void acpi_boot_init(void)
{
    const char *err;
    const void *rsdp;
    size_t len;

    if (param_acpi_rsdp) {
        /* As Linux's acpi_rsdp=: trust the given address over everything. */
        len = 36;
        rsdp = acpi_map(param_acpi_rsdp, len);
        if (!rsdp)
            acpi_stop("ACPI: acpi_rsdp= points outside memory");
        pr_info("ACPI: RSDP at %#lx (from acpi_rsdp=)\n", param_acpi_rsdp);
    } else if (boot_info.has_rsdp) {
        rsdp = boot_info.rsdp;
        len = boot_info.rsdp_len;
        pr_info("ACPI: RSDP from the boot loader (multiboot2 tag)\n");
    } else {
        uint64_t phys = acpi_find_rsdp_bios(acpi_map);
        if (!phys)
            acpi_stop("ACPI: no RSDP: none from the boot loader, none in the EBDA or at 0xE0000-0xFFFFF");
        len = 36;
        rsdp = acpi_map(phys, len);
        pr_info("ACPI: RSDP at %#lx (BIOS area scan)\n", phys);
    }
    err = acpi_parse_rsdp(rsdp, len, acpi_map, &acpi_info);
    if (err)
        acpi_stop(err);
    check_mmio("local APIC", acpi_info.lapic_addr, ACPI_LAPIC_WINDOW);
    for (unsigned i = 0; i < acpi_info.ioapic_count; i++)
        check_mmio("IOAPIC", acpi_info.ioapics[i].addr, ACPI_IOAPIC_WINDOW);

    pr_info("ACPI: RSDP revision %u, OEM '%s'\n", acpi_info.rsdp_revision, acpi_info.oem_id);
    for (unsigned i = 0; i < acpi_info.cpu_count; i++) {
        const struct acpi_cpu *c = &acpi_info.cpus[i];
        pr_info("ACPI: %s (acpi_id[0x%02x] lapic_id[0x%02x] %s)\n",
                c->x2apic_entry ? "X2APIC" : "LAPIC", c->acpi_id, c->apic_id,
                c->enabled ? "enabled" : "disabled");
    }
    for (unsigned i = 0; i < acpi_info.ioapic_count; i++) {
        const struct acpi_ioapic *io = &acpi_info.ioapics[i];
        pr_info("ACPI: IOAPIC (id[0x%02x] address[0x%08x] gsi_base[%u])\n", io->id, io->addr, io->gsi_base);
    }
    for (unsigned i = 0; i < acpi_info.iso_count; i++) {
        const struct acpi_iso *iso = &acpi_info.isos[i];
        pr_info("ACPI: INT_SRC_OVR (bus %u bus_irq %u global_irq %u flags %#x)\n",
                iso->bus, iso->source, iso->gsi, iso->flags);
    }
    check_hpet();
    if (acpi_info.skipped_entries)
        pr_warn("ACPI: %u MADT entries skipped (unknown type, x2APIC ID 0xffffffff, or beyond irqlab's limits)\n",
                acpi_info.skipped_entries);
}
