// ACPI table discovery and MADT parsing: the interface.
#ifndef KERNEL_ACPI_H
#define KERNEL_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Fixed limits, so the kernel needs no allocator this early in boot.
// Entries beyond them are counted in acpi_info.skipped_entries.
#define ACPI_MAX_CPUS 64
#define ACPI_MAX_IOAPICS 8
#define ACPI_MAX_ISOS 24

// The register windows the kernel maps: the xAPIC's page (SDM 11.4.1), and
// for an IOAPIC Linux's IO_APIC_SLOT_SIZE (room for every register).
#define ACPI_LAPIC_WINDOW 0x1000
#define ACPI_HPET_WINDOW 0x400     // the HPET register block (IA-PC HPET 1.0a, 2.3)
#define ACPI_IOAPIC_WINDOW 0x400

// One processor, from a local APIC (type 0) or local x2APIC (type 9) entry.
struct acpi_cpu {
    uint8_t acpi_id;        // ACPI processor UID (low 8 bits for x2APIC entries)
    uint32_t apic_id;       // the ID the CPU's local APIC answers to
    bool enabled;           // usable now; "online capable" CPUs count as not enabled
    bool x2apic_entry;      // came from a type 9 entry
};

// One I/O APIC (type 1 entry).
struct acpi_ioapic {
    uint8_t id;
    uint32_t addr;          // physical address of its register window
    uint32_t gsi_base;      // first global system interrupt it handles
};

// Interrupt source override (type 2): ISA IRQ `source` arrives on `gsi`.
struct acpi_iso {
    uint8_t bus, source;
    uint32_t gsi;
    uint16_t flags;         // MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2
};

// Everything the kernel needs from ACPI to bring up interrupts and CPUs.
struct acpi_info {
    uint8_t rsdp_revision;  // 0 for ACPI 1.0, 2 or more for ACPI 2.0+
    char oem_id[7];         // six characters from the RSDP, NUL-terminated
    uint64_t lapic_addr;    // from MADT, overridden by the 64-bit address override entry (type 5)
    bool pcat_compat;       // MADT flags bit 0: dual 8259s present, must be masked
    struct acpi_cpu cpus[ACPI_MAX_CPUS];
    unsigned cpu_count;     // in MADT order; BSP first by ACPI convention
    struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
    unsigned ioapic_count;
    struct acpi_iso isos[ACPI_MAX_ISOS];
    unsigned iso_count;
    uint32_t lapic_nmi_lint; // from type 4 (LINT number), if any
    bool has_lapic_nmi;
    unsigned skipped_entries; // entries beyond the fixed limits, of unknown type (skipped by length), or x2APIC ID 0xffffffff
    uint64_t hpet_addr;     // the HPET table's event timer block, in memory space; 0: no HPET table, or refused
    uint32_t hpet_id;       // its Event Timer Block ID (the capabilities register's low half)
    char hpet_refused[120]; // why the HPET table was refused ("": it was not); the boot goes on without it
};

// map(addr, len) returns a readable pointer to physical [addr, addr+len) or NULL when it cannot.
typedef const void *(*acpi_map_fn)(uint64_t phys, size_t len);

// Validate the RSDP at rsdp (rsdp_len readable bytes), follow the XSDT
// (revision >= 2 with a nonzero address) or else the RSDT, find the MADT
// ("APIC") and parse it into *out, and the HPET table ("HPET") if there is one:
// a broken HPET table does not stop the boot, it only fills hpet_refused. Every table used is checked for
// signature, length (36 bytes to 1 MiB) and checksum; the MADT's contents
// too: local APIC and IOAPIC addresses nonzero, aligned and not overlapping,
// enabled CPUs present with distinct APIC IDs, overrides only for ISA IRQs
// with defined flags. (Whether the hardware answers there is the kernel's
// to check: kernel/acpi_boot.c, arch/x86_64/apic.c and ioapic.c.)
// Returns NULL on success, or a message naming the table and the fault.
// The message lives in a static buffer that the next call overwrites.
const char *acpi_parse_rsdp(const void *rsdp, size_t rsdp_len, acpi_map_fn map, struct acpi_info *out);

// Scan for the RSDP in the BIOS areas (first KiB of the EBDA whose segment
// is at phys 0x40E, then 0xE0000-0xFFFFF) on 16-byte boundaries, accepting
// only one whose 20-byte checksum is valid.
// Returns its physical address, or 0 if there is none.
uint64_t acpi_find_rsdp_bios(acpi_map_fn map);

#endif
