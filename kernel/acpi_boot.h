/* kernel/acpi_boot.h: finding and checking the ACPI tables at boot; the CPUs and IOAPICs they describe. */
#ifndef KERNEL_ACPI_BOOT_H
#define KERNEL_ACPI_BOOT_H

#include "kernel/acpi.h"

/* What the MADT (and the HPET table) said, valid after acpi_boot_init(). */
extern struct acpi_info acpi_info;

/* The acpi_rsdp= parameter: 0, or the RSDP's physical address (as Linux's). */
extern uint64_t param_acpi_rsdp;

/*
 * Find the RSDP (acpi_rsdp=, then the multiboot2 tag, then the BIOS areas),
 * validate the tables and parse the MADT. A missing or bad table stops the
 * boot with a message naming it: irqlab cannot find its CPUs or IOAPIC
 * without one.
 */
void acpi_boot_init(void);

#endif
