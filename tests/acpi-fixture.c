/* tests/acpi-fixture.c: writes ACPI tables (good or deliberately broken) for QEMU's loader device. */
/*
 * usage: acpi-fixture KIND BASE > file.bin
 *   KIND: one of kinds[] below (good, bad-madt-checksum, ...)
 *   BASE: the guest physical address the blob will be loaded at (hex)
 * The blob holds an RSDP (revision 0) at BASE, an RSDT at BASE+0x40 and,
 * unless KIND is no-madt, a MADT at BASE+0x100 describing one CPU and one
 * IOAPIC. tests/checks/boot.toml loads it with
 *   -device loader,file=...,addr=BASE,force-raw=on
 * and boots with acpi_rsdp=BASE, so the kernel parses these tables instead
 * of QEMU's, and must refuse the broken ones by name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t blob[0x200];

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* Make the bytes [p, p+len) sum to zero by setting the byte at p[at]. */
static void fix_checksum(uint8_t *p, size_t len, size_t at)
{
    uint8_t sum = 0;

    p[at] = 0;
    for (size_t i = 0; i < len; i++)
        sum += p[i];
    p[at] = (uint8_t)-sum;
}

/* The 36-byte header every ACPI table starts with (ACPI 6.x, 5.2.6). */
static void table_header(uint8_t *t, const char *sig, uint32_t length)
{
    memcpy(t, sig, 4);
    put32(t + 4, length);
    t[8] = 1;                                   /* revision */
    memcpy(t + 10, "IRQLAB", 6);                /* OEM id */
    memcpy(t + 16, "FIXTURE ", 8);
}

/* The kinds: each says how its MADT differs from the good one (see main). */
static const char *const kinds[] = {
    "good",
    "bad-madt-checksum",    /* the MADT's checksum is off by 0x5a */
    "no-madt",              /* the RSDT lists an SSDT, no MADT */
    "bad-madt-entry",       /* the first entry claims length 0 */
    "ioapic-at-lapic",      /* the IOAPIC at the local APIC's 0xfee00000 */
    "lapic-zero",           /* local APIC address 0 */
    "lapic-moved",          /* local APIC at 0xfed00000, where the CPU's is not */
    "ioapic-zero",          /* IOAPIC address 0 */
    "ioapic-absent",        /* IOAPIC at 0xfeb00000, where nothing answers */
    "ioapic-in-ram",        /* IOAPIC at 0x2000000, in the machine's RAM */
    "no-ioapic",            /* no IOAPIC entry: no route for IRQ 4 */
    "gsi-base-high",        /* the IOAPIC's GSIs start at 24: no route for IRQ 4 */
    "x2apic-high-ids",      /* two more CPUs as x2APIC entries: IDs 0x100 and 0xffffffff (broadcast) */
    "com1-gsi-23",          /* an override sends IRQ 4 to GSI 23 (level, active low), where COM1 is not wired */
};

int main(int argc, char **argv)
{
    size_t k = 0;

    while (argc == 3 && k < sizeof kinds / sizeof kinds[0] && strcmp(argv[1], kinds[k]) != 0)
        k++;
    if (argc != 3 || k == sizeof kinds / sizeof kinds[0]) {
        fprintf(stderr, "usage: acpi-fixture KIND BASE; valid KINDs:");
        for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
            fprintf(stderr, " %s", kinds[k]);
        fprintf(stderr, "\n");
        return 2;
    }
    const char *kind = argv[1];
    uint32_t base = (uint32_t)strtoul(argv[2], NULL, 16);
    int no_madt = strcmp(kind, "no-madt") == 0;
    int no_ioapic = strcmp(kind, "no-ioapic") == 0;
    uint32_t lapic = strcmp(kind, "lapic-zero") == 0 ? 0 : strcmp(kind, "lapic-moved") == 0 ? 0xfed00000 : 0xfee00000;
    uint32_t ioapic = strcmp(kind, "ioapic-at-lapic") == 0 ? 0xfee00000 : strcmp(kind, "ioapic-zero") == 0 ? 0 :
                      strcmp(kind, "ioapic-absent") == 0 ? 0xfeb00000 :
                      strcmp(kind, "ioapic-in-ram") == 0 ? 0x2000000 : 0xfec00000;
    uint32_t gsi_base = strcmp(kind, "gsi-base-high") == 0 ? 24 : 0;
    int x2apic_cpus = strcmp(kind, "x2apic-high-ids") == 0;
    int com1_override = strcmp(kind, "com1-gsi-23") == 0;

    /* RSDP, revision 0: "RSD PTR ", checksum, OEM id, revision, RSDT address. */
    uint8_t *rsdp = blob;
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "IRQLAB", 6);
    put32(rsdp + 16, base + 0x40);
    fix_checksum(rsdp, 20, 8);

    /* RSDT with one entry: the MADT, or (no-madt) a table of another kind. */
    uint8_t *rsdt = blob + 0x40;
    table_header(rsdt, "RSDT", 36 + 4);
    put32(rsdt + 36, base + 0x100);
    fix_checksum(rsdt, 40, 9);

    /* MADT: LAPIC address, flags, then a local APIC (type 0) and an IOAPIC
     * (type 1), and for some kinds local x2APICs (type 9) or an interrupt
     * source override (type 2). */
    uint8_t *madt = blob + 0x100;
    uint32_t len = 44 + 8 + (no_ioapic ? 0 : 12) + (x2apic_cpus ? 2 * 16 : 0) + (com1_override ? 10 : 0);
    table_header(madt, no_madt ? "SSDT" : "APIC", len);
    put32(madt + 36, lapic);
    put32(madt + 40, 1);                        /* PCAT_COMPAT */
    uint8_t *e = madt + 44;
    e[0] = 0; e[1] = 8; e[2] = 0; e[3] = 0; put32(e + 4, 1);         /* CPU 0, APIC id 0, enabled */
    e += 8;
    if (!no_ioapic) {
        e[0] = 1; e[1] = 12; e[2] = 0; put32(e + 4, ioapic); put32(e + 8, gsi_base);
        e += 12;
    }
    for (uint32_t i = 0; x2apic_cpus && i < 2; i++, e += 16) {
        /* reserved, x2APIC ID, flags (enabled), UID (ACPI 6.x 5.2.12.12) */
        e[0] = 9; e[1] = 16; put32(e + 4, i == 0 ? 0x100 : 0xffffffff); put32(e + 8, 1); put32(e + 12, 1 + i);
    }
    if (com1_override) {
        /* bus 0, ISA IRQ 4, GSI 23, flags 0xf: level, active low (5.2.12.5) */
        e[0] = 2; e[1] = 10; e[2] = 0; e[3] = 4; put32(e + 4, 23); e[8] = 0x0f; e[9] = 0;
    }
    if (strcmp(kind, "bad-madt-entry") == 0)
        madt[44 + 1] = 0;                       /* first entry claims length 0 */
    fix_checksum(madt, len, 9);
    if (strcmp(kind, "bad-madt-checksum") == 0)
        madt[9] += 0x5a;                        /* break it after the fact: the sum is now 0x5a */

    fwrite(blob, 1, sizeof blob, stdout);
    return 0;
}
