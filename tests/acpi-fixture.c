/* tests/acpi-fixture.c: writes ACPI tables (good or deliberately broken) for QEMU's loader device. */
/*
 * usage: acpi-fixture KIND BASE > file.bin
 *   KIND: good | bad-madt-checksum | no-madt | bad-madt-entry
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

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: acpi-fixture good|bad-madt-checksum|no-madt|bad-madt-entry BASE\n");
        return 2;
    }
    const char *kind = argv[1];
    uint32_t base = (uint32_t)strtoul(argv[2], NULL, 16);
    int no_madt = strcmp(kind, "no-madt") == 0;

    if (strcmp(kind, "good") && strcmp(kind, "bad-madt-checksum") && !no_madt &&
        strcmp(kind, "bad-madt-entry")) {
        fprintf(stderr, "acpi-fixture: unknown kind '%s'; valid: good, bad-madt-checksum, no-madt, bad-madt-entry\n", kind);
        return 2;
    }

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

    /* MADT: LAPIC address, flags, then a local APIC (type 0) and an IOAPIC (type 1). */
    uint8_t *madt = blob + 0x100;
    uint32_t len = 44 + 8 + 12;
    table_header(madt, no_madt ? "SSDT" : "APIC", len);
    put32(madt + 36, 0xfee00000);
    put32(madt + 40, 1);                        /* PCAT_COMPAT */
    uint8_t *e = madt + 44;
    e[0] = 0; e[1] = 8; e[2] = 0; e[3] = 0; put32(e + 4, 1);         /* CPU 0, APIC id 0, enabled */
    e += 8;
    e[0] = 1; e[1] = 12; e[2] = 0; put32(e + 4, 0xfec00000); put32(e + 8, 0);
    if (strcmp(kind, "bad-madt-entry") == 0)
        madt[44 + 1] = 0;                       /* first entry claims length 0 */
    fix_checksum(madt, len, 9);
    if (strcmp(kind, "bad-madt-checksum") == 0)
        madt[9] += 0x5a;                        /* break it after the fact: the sum is now 0x5a */

    fwrite(blob, 1, sizeof blob, stdout);
    return 0;
}
