// ACPI table discovery: validate the RSDP, RSDT/XSDT and MADT, and parse the MADT.
//
// Section numbers refer to the ACPI 6.x specification, chapter 5.2.
// ACPI structures are packed and may sit at any byte address, so every
// multi-byte field is read with memcpy rather than through a struct
// pointer; x86 is little-endian, like ACPI, so no byte swapping is needed.

#include <stdarg.h>

#include "kernel/acpi.h"
#include "kernel/string.h"

// RSDP layout (5.2.5.3). The first 20 bytes are the ACPI 1.0 structure;
// revision 2 added the fields from offset 20 on.
#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36
#define RSDP_OEMID 9
#define RSDP_REVISION 15
#define RSDP_RSDT_ADDR 16
#define RSDP_LENGTH 20
#define RSDP_XSDT_ADDR 24

// System description table header, shared by every table (5.2.6).
#define SDT_HEADER_LEN 36
#define SDT_LENGTH 4
#define SDT_MAX_LEN (1024 * 1024)   // no sane table is bigger; stops a wild length early

// MADT layout (5.2.12): header, local APIC address, flags, then entries.
#define MADT_LAPIC_ADDR 36
#define MADT_FLAGS 40
#define MADT_ENTRIES 44
#define MADT_PCAT_COMPAT 0x1

// MADT entry types we use, their minimum lengths, and names for messages.
#define MADT_LAPIC 0            // 5.2.12.2 Processor Local APIC
#define MADT_IOAPIC 1           // 5.2.12.3 I/O APIC
#define MADT_ISO 2              // 5.2.12.5 Interrupt Source Override
#define MADT_LAPIC_NMI 4        // 5.2.12.7 Local APIC NMI
#define MADT_LAPIC_OVERRIDE 5   // 5.2.12.8 Local APIC Address Override
#define MADT_X2APIC 9           // 5.2.12.12 Processor Local x2APIC

static const struct {
    uint8_t type;
    uint8_t min_len;
    const char *name;
} madt_types[] = {
    { MADT_LAPIC, 8, "local APIC" },
    { MADT_IOAPIC, 12, "IOAPIC" },
    { MADT_ISO, 10, "interrupt source override" },
    { MADT_LAPIC_NMI, 6, "local APIC NMI" },
    { MADT_LAPIC_OVERRIDE, 12, "local APIC address override" },
    { MADT_X2APIC, 16, "local x2APIC" },
};

// The x2APIC ID that addresses every CPU (SDM Vol. 3A 11.12.9).
#define X2APIC_BROADCAST_ID 0xffffffffu

// Local APIC flags (5.2.12.2, table "Local APIC Flags"). An online-capable
// CPU is present but switched off; we treat it as not enabled.
#define LAPIC_ENABLED 0x1

// BIOS areas searched for the RSDP (5.2.5.1).
#define BDA_EBDA_SEGMENT 0x40E
#define EBDA_SEARCH_LEN 1024
#define BIOS_ROM_START 0xE0000
#define BIOS_ROM_LEN 0x20000

static uint8_t
read8(const uint8_t *p, size_t off)
{
    return p[off];
}

static uint16_t
read16(const uint8_t *p, size_t off)
{
    uint16_t v;
    memcpy(&v, p + off, sizeof v);
    return v;
}

static uint32_t
read32(const uint8_t *p, size_t off)
{
    uint32_t v;
    memcpy(&v, p + off, sizeof v);
    return v;
}

static uint64_t
read64(const uint8_t *p, size_t off)
{
    uint64_t v;
    memcpy(&v, p + off, sizeof v);
    return v;
}

// Sum of len bytes, modulo 256. ACPI checksums are chosen so that the
// sum over the whole structure, checksum byte included, is 0.
static uint8_t
checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += p[i];
    return sum;
}

// Error messages are built here. There is one buffer, so a message is
// valid until the next call into this file.
static char errbuf[160];

// Append the number v in the given base (10 or 16) at errbuf[*pos].
static void
put_number(size_t *pos, uint64_t v, unsigned base)
{
    char digits[20];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    while (n > 0 && *pos < sizeof errbuf - 1)
        errbuf[(*pos)++] = digits[--n];
}

// A tiny printf into errbuf: %s, %u, %x, %lu and %lx only; output that
// does not fit is cut off. The format attribute lets the compiler check
// our calls. Returns errbuf.
__attribute__((format(printf, 1, 2)))
static const char *
fail(const char *fmt, ...)
{
    va_list ap;
    size_t pos = 0;

    va_start(ap, fmt);
    for (const char *f = fmt; *f != '\0' && pos < sizeof errbuf - 1; f++) {
        if (*f != '%') {
            errbuf[pos++] = *f;
            continue;
        }
        f++;
        bool is_long = (*f == 'l');
        if (is_long)
            f++;
        if (*f == 's') {
            for (const char *s = va_arg(ap, const char *); *s != '\0' && pos < sizeof errbuf - 1; s++)
                errbuf[pos++] = *s;
        } else if (*f == 'u' || *f == 'x') {
            uint64_t v = is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            put_number(&pos, v, *f == 'u' ? 10 : 16);
        } else {
            break;  // unknown conversion: a bug in this file, so stop rather than misread ap
        }
    }
    va_end(ap);
    errbuf[pos] = '\0';
    return errbuf;
}

// Map the table at phys, check that it has the 4-byte signature sig, a
// sane length and a zero checksum (5.2.6), and store a pointer to the whole
// table in *table and its length in *len. name is used in messages.
// Returns NULL on success or an error message.
static const char *
map_table(acpi_map_fn map, uint64_t phys, const char *sig, const char *name,
          const uint8_t **table, uint32_t *len)
{
    const uint8_t *hdr = map(phys, SDT_HEADER_LEN);
    if (hdr == NULL)
        return fail("ACPI: cannot map %s header at 0x%lx; table refused", name, (unsigned long)phys);
    if (memcmp(hdr, sig, 4) != 0)
        return fail("ACPI: %s signature is not '%s'; table refused", name, sig);

    uint32_t length = read32(hdr, SDT_LENGTH);
    if (length < SDT_HEADER_LEN || length > SDT_MAX_LEN)
        return fail("ACPI: %s length is %u, must be %u to %u; table refused",
                    name, length, SDT_HEADER_LEN, SDT_MAX_LEN);

    // The header told us the real length; map the whole table.
    const uint8_t *t = map(phys, length);
    if (t == NULL)
        return fail("ACPI: cannot map %s (%u bytes at 0x%lx); table refused",
                    name, length, (unsigned long)phys);
    uint8_t sum = checksum(t, length);
    if (sum != 0)
        return fail("ACPI: %s checksum is 0x%x, should sum to 0; table refused", name, sum);

    *table = t;
    *len = length;
    return NULL;
}

// Minimum length of a MADT entry of the given type, or 0 if we do not use
// that type. Sets *name for messages.
static uint8_t
madt_min_len(uint8_t type, const char **name)
{
    for (size_t i = 0; i < sizeof madt_types / sizeof madt_types[0]; i++) {
        if (madt_types[i].type == type) {
            *name = madt_types[i].name;
            return madt_types[i].min_len;
        }
    }
    return 0;
}

// Record a CPU, or count it as skipped when the array is full.
static void
add_cpu(struct acpi_info *out, uint8_t acpi_id, uint32_t apic_id, uint32_t flags, bool x2apic)
{
    if (out->cpu_count == ACPI_MAX_CPUS) {
        out->skipped_entries++;
        return;
    }
    struct acpi_cpu *c = &out->cpus[out->cpu_count++];
    c->acpi_id = acpi_id;
    c->apic_id = apic_id;
    c->enabled = (flags & LAPIC_ENABLED) != 0;
    c->x2apic_entry = x2apic;
}

// Record one MADT entry e of type `type`, already checked to fit in the
// table and to be at least the minimum length for its type.
static void
madt_entry(struct acpi_info *out, uint8_t type, const uint8_t *e)
{
    switch (type) {
    case MADT_LAPIC:
        // UID at 2, APIC ID at 3, flags at 4.
        add_cpu(out, read8(e, 2), read8(e, 3), read32(e, 4), false);
        break;
    case MADT_X2APIC:
        // Reserved at 2, x2APIC ID at 4, flags at 8, UID (32 bits) at 12.
        // 0xffffffff is x2APIC's broadcast ID (SDM Vol. 3A 11.12.9), never
        // one CPU's: Linux's acpi_parse_x2apic() ignores the entry ("Ignore
        // invalid ID"), and so do we, counted as skipped.
        if (read32(e, 4) == X2APIC_BROADCAST_ID) {
            out->skipped_entries++;
            break;
        }
        add_cpu(out, (uint8_t)read32(e, 12), read32(e, 4), read32(e, 8), true);
        break;
    case MADT_IOAPIC:
        // ID at 2, reserved at 3, address at 4, GSI base at 8.
        if (out->ioapic_count == ACPI_MAX_IOAPICS) {
            out->skipped_entries++;
            break;
        }
        out->ioapics[out->ioapic_count].id = read8(e, 2);
        out->ioapics[out->ioapic_count].addr = read32(e, 4);
        out->ioapics[out->ioapic_count].gsi_base = read32(e, 8);
        out->ioapic_count++;
        break;
    case MADT_ISO:
        // Bus at 2 (always 0, ISA), source IRQ at 3, GSI at 4, flags at 8.
        if (out->iso_count == ACPI_MAX_ISOS) {
            out->skipped_entries++;
            break;
        }
        out->isos[out->iso_count].bus = read8(e, 2);
        out->isos[out->iso_count].source = read8(e, 3);
        out->isos[out->iso_count].gsi = read32(e, 4);
        out->isos[out->iso_count].flags = read16(e, 8);
        out->iso_count++;
        break;
    case MADT_LAPIC_NMI:
        // UID at 2 (0xFF means all CPUs), flags at 3, LINT# at 5.
        // We keep only the first; firmware normally wires NMI to the
        // same LINT on every CPU.
        if (out->has_lapic_nmi) {
            out->skipped_entries++;
            break;
        }
        out->lapic_nmi_lint = read8(e, 5);
        out->has_lapic_nmi = true;
        break;
    case MADT_LAPIC_OVERRIDE:
        // Reserved at 2, 64-bit address at 4. Replaces the 32-bit one
        // in the MADT header (5.2.12.8).
        out->lapic_addr = read64(e, 4);
        break;
    default:
        out->skipped_entries++;
        break;
    }
}

// What the kernel maps and programs must make sense before it touches it:
// a checksum only says the firmware meant to write these bytes.
#define IOAPIC_ALIGN 16             // IOREGSEL and IOWIN are 32-bit registers 16 bytes apart
#define XAPIC_BROADCAST_ID 0xff     // an xAPIC ID that addresses every CPU, never one

// Do [a, a+alen) and [b, b+blen) share a byte?
static bool
overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

// Check the MADT's contents (not its form, which parse_madt checked):
// addresses present, aligned and apart; CPUs present and told apart;
// interrupt source overrides for ISA IRQs with defined flags. Returns NULL
// or a message naming the entry and what would be valid.
static const char *
check_madt(const struct acpi_info *m)
{
    unsigned enabled = 0;

    if (m->lapic_addr == 0 || m->lapic_addr % ACPI_LAPIC_WINDOW != 0)
        return fail("ACPI: MADT local APIC address 0x%lx is not valid (needs a nonzero, 4 KiB-aligned "
                    "address, normally 0xfee00000); table refused", (unsigned long)m->lapic_addr);
    for (unsigned i = 0; i < m->ioapic_count; i++) {
        const struct acpi_ioapic *io = &m->ioapics[i];

        if (io->addr == 0 || io->addr % IOAPIC_ALIGN != 0)
            return fail("ACPI: MADT IOAPIC %u address 0x%x is not valid (needs a nonzero, 16-byte-aligned "
                        "address, normally 0xfec00000); table refused", io->id, io->addr);
        if (overlaps(io->addr, ACPI_IOAPIC_WINDOW, m->lapic_addr, ACPI_LAPIC_WINDOW))
            return fail("ACPI: MADT IOAPIC %u at 0x%x overlaps the local APIC's registers at 0x%lx; "
                        "table refused", io->id, io->addr, (unsigned long)m->lapic_addr);
        for (unsigned j = 0; j < i; j++)
            if (overlaps(io->addr, ACPI_IOAPIC_WINDOW, m->ioapics[j].addr, ACPI_IOAPIC_WINDOW))
                return fail("ACPI: MADT IOAPICs %u and %u overlap (0x%x and 0x%x, 1 KiB each); table refused",
                            m->ioapics[j].id, io->id, m->ioapics[j].addr, io->addr);
    }
    for (unsigned i = 0; i < m->cpu_count; i++) {
        const struct acpi_cpu *c = &m->cpus[i];

        if (!c->enabled)
            continue;
        enabled++;
        if (!c->x2apic_entry && c->apic_id == XAPIC_BROADCAST_ID)
            return fail("ACPI: MADT local APIC entry %u has APIC ID 0xff, the broadcast ID; table refused", i);
        for (unsigned j = 0; j < i; j++)
            if (m->cpus[j].enabled && m->cpus[j].apic_id == c->apic_id)
                return fail("ACPI: MADT lists APIC ID %u twice (entries %u and %u); table refused",
                            c->apic_id, j, i);
    }
    if (enabled == 0)
        return fail("ACPI: MADT lists no enabled CPU; table refused");
    for (unsigned i = 0; i < m->iso_count; i++) {
        const struct acpi_iso *iso = &m->isos[i];

        // MPS INTI flags: polarity (bits 1:0) and trigger (bits 3:2) are
        // 0 conforming, 1 high/edge, 3 low/level; 2 is reserved (5.2.12.5).
        if (iso->bus != 0 || iso->source > 15 || (iso->flags & 0x3) == 2 || ((iso->flags >> 2) & 0x3) == 2)
            return fail("ACPI: MADT interrupt source override bus %u irq %u flags 0x%x is not valid (needs bus 0, "
                        "an ISA IRQ 0-15, polarity and trigger 0, 1 or 3); table refused",
                        iso->bus, iso->source, iso->flags);
    }
    return NULL;
}

// Parse the MADT (5.2.12), len bytes at t, already validated by map_table.
// Returns NULL on success or an error message.
static const char *
parse_madt(const uint8_t *t, uint32_t len, struct acpi_info *out)
{
    if (len < MADT_ENTRIES)
        return fail("ACPI: MADT (APIC) length is %u, needs at least %u; table refused",
                    len, MADT_ENTRIES);
    out->lapic_addr = read32(t, MADT_LAPIC_ADDR);
    out->pcat_compat = (read32(t, MADT_FLAGS) & MADT_PCAT_COMPAT) != 0;

    // Entries follow one another; each starts with a type byte and a
    // length byte (5.2.12, "Interrupt Controller Structure Types").
    // A bad length would make us read garbage or loop forever, so any
    // doubt refuses the whole table.
    uint32_t off = MADT_ENTRIES;
    while (off < len) {
        if (len - off < 2)
            return fail("ACPI: MADT entry at offset %u is cut off by the table end at %u; table refused",
                        off, len);
        uint8_t type = read8(t, off);
        uint8_t elen = read8(t, off + 1);
        if (elen < 2)
            return fail("ACPI: MADT entry at offset %u has length %u; table refused", off, elen);
        if (elen > len - off)
            return fail("ACPI: MADT entry at offset %u has length %u, overruns the table end at %u; table refused",
                        off, elen, len);

        const char *name;
        uint8_t need = madt_min_len(type, &name);
        if (elen < need)
            return fail("ACPI: MADT %s entry at offset %u has length %u, needs %u; table refused",
                        name, off, elen, need);

        madt_entry(out, type, t + off);
        off += elen;
    }
    return check_madt(out);
}

// HPET description table (IA-PC HPET specification 1.0a, 3.2.4): the header,
// the Event Timer Block ID, then the block's address as a Generic Address
// Structure (ACPI 5.2.3.2: address space id, bit width, bit offset, access
// size, 64-bit address).
#define HPET_TABLE_LEN 56
#define HPET_ID 36
#define HPET_GAS_SPACE 40
#define HPET_GAS_ADDR 44
#define GAS_SYSTEM_MEMORY 0
#define HPET_BLOCK_ALIGN 0x400      // the register block is 1 KiB (HPET 1.0a, 2.3)

// Parse the HPET table at phys into out->hpet_addr and hpet_id, or say in
// out->hpet_refused why not. Never fails the whole parse: the HPET is a
// timer the kernel can boot without.
static void
parse_hpet(acpi_map_fn map, uint64_t phys, struct acpi_info *out)
{
    const uint8_t *t;
    uint32_t len;
    const char *err = map_table(map, phys, "HPET", "HPET", &t, &len);
    uint64_t addr = 0;

    if (err == NULL && len < HPET_TABLE_LEN)
        err = fail("ACPI: HPET length is %u, must be at least %u; table refused", len, HPET_TABLE_LEN);
    if (err == NULL && t[HPET_GAS_SPACE] != GAS_SYSTEM_MEMORY)
        err = fail("ACPI: HPET block is in address space %u, must be %u (memory); table refused",
                   t[HPET_GAS_SPACE], GAS_SYSTEM_MEMORY);
    if (err == NULL) {
        addr = read64(t, HPET_GAS_ADDR);
        if (addr == 0 || addr % HPET_BLOCK_ALIGN != 0)
            err = fail("ACPI: HPET block address 0x%lx is not a nonzero multiple of 0x%x; table refused",
                       (unsigned long)addr, HPET_BLOCK_ALIGN);
    }
    if (err != NULL) {
        size_t n = strlen(err) < sizeof out->hpet_refused - 1 ? strlen(err) : sizeof out->hpet_refused - 1;
        memcpy(out->hpet_refused, err, n);
        out->hpet_refused[n] = '\0';
        return;
    }
    out->hpet_addr = addr;
    out->hpet_id = read32(t, HPET_ID);
}

// Validate the RSDP (5.2.5.3), walk the XSDT (5.2.8) or RSDT (5.2.7) to the
// MADT, and parse it. See acpi.h for the contract.
const char *
acpi_parse_rsdp(const void *rsdp, size_t rsdp_len, acpi_map_fn map, struct acpi_info *out)
{
    const uint8_t *r = rsdp;

    if (r == NULL || rsdp_len < RSDP_V1_LEN)
        return fail("ACPI: RSDP is %lu bytes, needs at least %u", (unsigned long)rsdp_len, RSDP_V1_LEN);
    if (memcmp(r, "RSD PTR ", 8) != 0)
        return fail("ACPI: RSDP signature is not 'RSD PTR '");
    uint8_t sum = checksum(r, RSDP_V1_LEN);
    if (sum != 0)
        return fail("ACPI: RSDP checksum is 0x%x, should sum to 0", sum);

    // Revision 0 is ACPI 1.0 (only the RSDT). Revision 2 and up adds a
    // length, the XSDT address and a checksum over the whole structure.
    uint8_t revision = read8(r, RSDP_REVISION);
    if (revision >= 2) {
        if (rsdp_len < RSDP_V2_LEN)
            return fail("ACPI: RSDP revision %u is %lu bytes, needs at least %u",
                        revision, (unsigned long)rsdp_len, RSDP_V2_LEN);
        uint32_t length = read32(r, RSDP_LENGTH);
        if (length < RSDP_V2_LEN || length > rsdp_len)
            return fail("ACPI: RSDP length is %u, must be %u to %lu",
                        length, RSDP_V2_LEN, (unsigned long)rsdp_len);
        sum = checksum(r, length);
        if (sum != 0)
            return fail("ACPI: RSDP extended checksum is 0x%x, should sum to 0", sum);
    }

    memset(out, 0, sizeof *out);
    out->rsdp_revision = revision;
    memcpy(out->oem_id, r + RSDP_OEMID, 6);
    out->oem_id[6] = '\0';

    // Prefer the XSDT: its entries are 64-bit addresses. The RSDT holds
    // 32-bit ones and is all ACPI 1.0 firmware has.
    uint64_t root_addr;
    size_t entry_size;
    const char *root_name;
    if (revision >= 2 && read64(r, RSDP_XSDT_ADDR) != 0) {
        root_addr = read64(r, RSDP_XSDT_ADDR);
        entry_size = 8;
        root_name = "XSDT";
    } else {
        root_addr = read32(r, RSDP_RSDT_ADDR);
        entry_size = 4;
        root_name = "RSDT";
    }

    const uint8_t *root;
    uint32_t root_len;
    const char *err = map_table(map, root_addr, root_name, root_name, &root, &root_len);
    if (err != NULL)
        return err;

    // The entries fill the table after the header; a trailing fragment
    // shorter than one entry is ignored. The first MADT and the first HPET
    // table count.
    size_t n = (root_len - SDT_HEADER_LEN) / entry_size;
    uint64_t madt_addr = 0;
    bool hpet_seen = false;
    for (size_t i = 0; i < n; i++) {
        size_t off = SDT_HEADER_LEN + i * entry_size;
        uint64_t addr = entry_size == 8 ? read64(root, off) : read32(root, off);

        // Look at the signature first, so that a broken table we do not
        // use cannot stop the boot.
        const uint8_t *hdr = map(addr, SDT_HEADER_LEN);
        if (hdr == NULL)
            return fail("ACPI: cannot map %s entry %lu header at 0x%lx; table refused",
                        root_name, (unsigned long)i, (unsigned long)addr);
        if (memcmp(hdr, "HPET", 4) == 0 && !hpet_seen) {
            hpet_seen = true;
            parse_hpet(map, addr, out);
        } else if (memcmp(hdr, "APIC", 4) == 0 && madt_addr == 0) {
            madt_addr = addr;
        }
    }
    if (madt_addr == 0)
        return fail("ACPI: no MADT (APIC) table in the %s", root_name);

    const uint8_t *madt;
    uint32_t madt_len;
    err = map_table(map, madt_addr, "APIC", "MADT (APIC)", &madt, &madt_len);
    if (err != NULL)
        return err;
    return parse_madt(madt, madt_len, out);
}

// Return the physical address of the first RSDP in the len bytes at p
// (physical address base), checking 16-byte boundaries; 0 if none.
static uint64_t
scan_rsdp(const uint8_t *p, uint64_t base, size_t len)
{
    for (size_t off = 0; off + RSDP_V1_LEN <= len; off += 16) {
        if (memcmp(p + off, "RSD PTR ", 8) == 0 && checksum(p + off, RSDP_V1_LEN) == 0)
            return base + off;
    }
    return 0;
}

// Search the two BIOS areas where 5.2.5.1 says the RSDP may be.
// See acpi.h for the contract.
uint64_t
acpi_find_rsdp_bios(acpi_map_fn map)
{
    // The BIOS data area holds the EBDA's real-mode segment; zero means
    // there is no EBDA.
    const uint8_t *bda = map(BDA_EBDA_SEGMENT, 2);
    if (bda != NULL) {
        uint64_t ebda = (uint64_t)read16(bda, 0) << 4;
        const uint8_t *p = ebda != 0 ? map(ebda, EBDA_SEARCH_LEN) : NULL;
        if (p != NULL) {
            uint64_t found = scan_rsdp(p, ebda, EBDA_SEARCH_LEN);
            if (found != 0)
                return found;
        }
    }

    const uint8_t *rom = map(BIOS_ROM_START, BIOS_ROM_LEN);
    if (rom == NULL)
        return 0;
    return scan_rsdp(rom, BIOS_ROM_START, BIOS_ROM_LEN);
}
