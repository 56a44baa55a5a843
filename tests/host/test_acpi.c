// Host unit tests for kernel/acpi.c: synthetic ACPI tables in fake physical memory.
//
// Output is KTAP (https://docs.kernel.org/dev-tools/ktap.html): a header,
// a plan "1..N", then "ok N name" or "not ok N name" per test, with
// failure details on "#" lines. Exit status is 0 iff every test passed.

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kernel/acpi.h"
#include "kernel/string.h"

// ---- a minimal KTAP harness ----

static bool test_failed;    // set by CHECK in the running test

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            printf("# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            test_failed = true;                                             \
        }                                                                   \
    } while (0)

#define CHECK_EQ(got, want)                                                 \
    do {                                                                    \
        unsigned long long g_ = (got), w_ = (want);                         \
        if (g_ != w_) {                                                     \
            printf("# %s:%d: %s is %#llx, want %#llx\n", __FILE__, __LINE__, \
                   #got, g_, w_);                                           \
            test_failed = true;                                             \
        }                                                                   \
    } while (0)

// got must be an error message starting with want.
#define CHECK_ERR(got, want) check_err((got), (want), __FILE__, __LINE__)

static void
check_err(const char *got, const char *want, const char *file, int line)
{
    if (got == NULL) {
        printf("# %s:%d: got success, want \"%s\"\n", file, line, want);
        test_failed = true;
    } else if (strncmp(got, want, strlen(want)) != 0) {
        printf("# %s:%d: got \"%s\"\n#   want \"%s\"\n", file, line, got, want);
        test_failed = true;
    }
}

// ---- fake physical memory ----

#define MEM_SIZE (2u * 1024 * 1024)
static uint8_t mem[MEM_SIZE];
static uint64_t map_fail_addr;  // map() refuses this address (0 = refuse nothing)

// Physical addresses of the tables the tests build. Some are odd on
// purpose: ACPI fields are unaligned, and UBSan must stay quiet.
#define RSDP_ADDR 0xF0010u
#define RSDT_ADDR 0x100000u
#define XSDT_ADDR 0x100800u
#define MADT_ADDR 0x101003u
#define FACP_ADDR 0x102000u
#define MADT2_ADDR 0x103000u
#define HPET_ADDR 0x104001u

static const void *
fake_map(uint64_t phys, size_t len)
{
    if (map_fail_addr != 0 && phys == map_fail_addr)
        return NULL;
    if (phys > MEM_SIZE || len > MEM_SIZE - phys)
        return NULL;
    return &mem[phys];
}

static void
put16(uint64_t phys, uint16_t v)
{
    memcpy(&mem[phys], &v, sizeof v);
}

static void
put32(uint64_t phys, uint32_t v)
{
    memcpy(&mem[phys], &v, sizeof v);
}

static void
put64(uint64_t phys, uint64_t v)
{
    memcpy(&mem[phys], &v, sizeof v);
}

// Set the byte at phys + sum_off so that the len bytes at phys sum to 0.
static void
fix_checksum(uint64_t phys, size_t len, size_t sum_off)
{
    uint8_t sum = 0;
    mem[phys + sum_off] = 0;
    for (size_t i = 0; i < len; i++)
        sum += mem[phys + i];
    mem[phys + sum_off] = (uint8_t)-sum;
}

// Write an RSDP at phys: revision 0 (ACPI 1.0, 20 bytes) or 2 (36 bytes).
static void
make_rsdp(uint64_t phys, uint8_t revision, uint32_t rsdt, uint64_t xsdt)
{
    memset(&mem[phys], 0, 36);
    memcpy(&mem[phys], "RSD PTR ", 8);
    memcpy(&mem[phys + 9], "IRQLAB", 6);
    mem[phys + 15] = revision;
    put32(phys + 16, rsdt);
    if (revision >= 2) {
        put32(phys + 20, 36);
        put64(phys + 24, xsdt);
    }
    fix_checksum(phys, 20, 8);
    if (revision >= 2)
        fix_checksum(phys, 36, 32);
}

// Write a 36-byte table header; the checksum is fixed later.
static void
make_header(uint64_t phys, const char *sig, uint32_t len)
{
    memset(&mem[phys], 0, 36);
    memcpy(&mem[phys], sig, 4);
    put32(phys + 4, len);
    mem[phys + 8] = 1;
    memcpy(&mem[phys + 10], "IRQLAB", 6);
    memcpy(&mem[phys + 16], "IRQLABTB", 8);
}

// Write an RSDT (entry_size 4) or XSDT (entry_size 8) listing n tables.
static void
make_root(uint64_t phys, const char *sig, size_t entry_size, const uint64_t *tables, size_t n)
{
    uint32_t len = (uint32_t)(36 + n * entry_size);
    make_header(phys, sig, len);
    for (size_t i = 0; i < n; i++) {
        if (entry_size == 8)
            put64(phys + 36 + i * 8, tables[i]);
        else
            put32(phys + 36 + i * 4, (uint32_t)tables[i]);
    }
    fix_checksum(phys, len, 9);
}

// A MADT under construction: entries are appended at madt_end.
static uint64_t madt_at, madt_end;

static void
madt_begin(uint64_t phys, uint32_t lapic_addr, uint32_t flags)
{
    madt_at = phys;
    make_header(phys, "APIC", 0);
    put32(phys + 36, lapic_addr);
    put32(phys + 40, flags);
    madt_end = phys + 44;
}

static void
madt_lapic(uint8_t uid, uint8_t apic_id, uint32_t flags)
{
    mem[madt_end] = 0;
    mem[madt_end + 1] = 8;
    mem[madt_end + 2] = uid;
    mem[madt_end + 3] = apic_id;
    put32(madt_end + 4, flags);
    madt_end += 8;
}

static void
madt_ioapic(uint8_t id, uint32_t addr, uint32_t gsi_base)
{
    mem[madt_end] = 1;
    mem[madt_end + 1] = 12;
    mem[madt_end + 2] = id;
    mem[madt_end + 3] = 0;
    put32(madt_end + 4, addr);
    put32(madt_end + 8, gsi_base);
    madt_end += 12;
}

static void
madt_iso(uint8_t source, uint32_t gsi, uint16_t flags)
{
    mem[madt_end] = 2;
    mem[madt_end + 1] = 10;
    mem[madt_end + 2] = 0;
    mem[madt_end + 3] = source;
    put32(madt_end + 4, gsi);
    put16(madt_end + 8, flags);
    madt_end += 10;
}

static void
madt_nmi(uint8_t uid, uint16_t flags, uint8_t lint)
{
    mem[madt_end] = 4;
    mem[madt_end + 1] = 6;
    mem[madt_end + 2] = uid;
    put16(madt_end + 3, flags);
    mem[madt_end + 5] = lint;
    madt_end += 6;
}

static void
madt_lapic_override(uint64_t addr)
{
    mem[madt_end] = 5;
    mem[madt_end + 1] = 12;
    put16(madt_end + 2, 0);
    put64(madt_end + 4, addr);
    madt_end += 12;
}

static void
madt_x2apic(uint32_t x2apic_id, uint32_t flags, uint32_t uid)
{
    mem[madt_end] = 9;
    mem[madt_end + 1] = 16;
    put16(madt_end + 2, 0);
    put32(madt_end + 4, x2apic_id);
    put32(madt_end + 8, flags);
    put32(madt_end + 12, uid);
    madt_end += 16;
}

// Append raw bytes, for malformed entries.
static void
madt_raw(const uint8_t *bytes, size_t n)
{
    memcpy(&mem[madt_end], bytes, n);
    madt_end += n;
}

// Set the MADT length and checksum; returns the length.
static uint32_t
madt_finish(void)
{
    uint32_t len = (uint32_t)(madt_end - madt_at);
    put32(madt_at + 4, len);
    fix_checksum(madt_at, len, 9);
    return len;
}

// Start every test from zeroed memory, with map() working everywhere.
static void
reset(void)
{
    memset(mem, 0, sizeof mem);
    map_fail_addr = 0;
}

// A QEMU-like MADT with ncpus CPUs (APIC IDs 0..n-1), one IOAPIC, the two
// usual overrides and an NMI on LINT1 for all CPUs.
static void
make_qemu_madt(uint64_t phys, unsigned ncpus)
{
    madt_begin(phys, 0xFEE00000, 1);
    for (unsigned i = 0; i < ncpus; i++)
        madt_lapic((uint8_t)i, (uint8_t)i, 1);
    madt_ioapic(0, 0xFEC00000, 0);
    madt_iso(0, 2, 0x0000);     // IRQ0 (PIT) -> GSI2, bus-default polarity/trigger
    madt_iso(9, 9, 0x000d);     // IRQ9 (SCI) -> GSI9, active high, level
    madt_nmi(0xFF, 0, 1);
    madt_finish();
}

// ACPI 1.0 layout: RSDP rev 0 -> RSDT -> {FACP, APIC}.
static void
make_acpi1(void)
{
    uint64_t tables[2] = { FACP_ADDR, MADT_ADDR };
    make_header(FACP_ADDR, "FACP", 36);
    fix_checksum(FACP_ADDR, 36, 9);
    make_root(RSDT_ADDR, "RSDT", 4, tables, 2);
    make_rsdp(RSDP_ADDR, 0, RSDT_ADDR, 0);
}

// ACPI 2.0 layout: RSDP rev 2 -> XSDT -> {FACP, APIC}; the RSDT lists
// only the FACP, so finding the MADT proves the XSDT was used.
static void
make_acpi2(void)
{
    uint64_t xtables[2] = { FACP_ADDR, MADT_ADDR };
    uint64_t rtables[1] = { FACP_ADDR };
    make_header(FACP_ADDR, "FACP", 36);
    fix_checksum(FACP_ADDR, 36, 9);
    make_root(XSDT_ADDR, "XSDT", 8, xtables, 2);
    make_root(RSDT_ADDR, "RSDT", 4, rtables, 1);
    make_rsdp(RSDP_ADDR, 2, RSDT_ADDR, XSDT_ADDR);
}

static struct acpi_info info;

static const char *
parse(void)
{
    return acpi_parse_rsdp(&mem[RSDP_ADDR], 36, fake_map, &info);
}

// ---- valid tables ----

// ACPI 1.0 layout with an HPET table first: RSDP rev 0 -> RSDT -> {HPET, APIC}.
// The table describes QEMU's block: ID 0x8086a201 at 0xfed00000, in memory.
static void
make_acpi1_hpet(void)
{
    uint64_t tables[2] = { HPET_ADDR, MADT_ADDR };
    make_header(HPET_ADDR, "HPET", 56);
    put32(HPET_ADDR + 36, 0x8086a201);
    mem[HPET_ADDR + 40] = 0;                    // GAS: system memory
    mem[HPET_ADDR + 41] = 64;
    put64(HPET_ADDR + 44, 0xFED00000);
    fix_checksum(HPET_ADDR, 56, 9);
    make_root(RSDT_ADDR, "RSDT", 4, tables, 2);
    make_rsdp(RSDP_ADDR, 0, RSDT_ADDR, 0);
    make_qemu_madt(MADT_ADDR, 2);
}

static void
test_hpet_parsed(void)
{
    reset();
    make_acpi1_hpet();
    CHECK(parse() == NULL);
    CHECK_EQ(info.hpet_addr, 0xFED00000);
    CHECK_EQ(info.hpet_id, 0x8086a201);
    CHECK_EQ(info.hpet_refused[0], 0);
    CHECK_EQ(info.cpu_count, 2);
}

static void
test_hpet_absent(void)
{
    reset();
    make_acpi1();
    make_qemu_madt(MADT_ADDR, 1);
    CHECK(parse() == NULL);
    CHECK_EQ(info.hpet_addr, 0);
    CHECK_EQ(info.hpet_refused[0], 0);
}

// A broken HPET table is refused by name, and the boot goes on with the MADT.
static void
test_hpet_bad_checksum(void)
{
    reset();
    make_acpi1_hpet();
    mem[HPET_ADDR + 50]++;
    CHECK(parse() == NULL);
    CHECK_EQ(info.hpet_addr, 0);
    CHECK_ERR(info.hpet_refused, "ACPI: HPET checksum is 0x");
    CHECK_EQ(info.cpu_count, 2);
}

static void
test_hpet_io_space(void)
{
    reset();
    make_acpi1_hpet();
    mem[HPET_ADDR + 40] = 1;                    // system I/O
    fix_checksum(HPET_ADDR, 56, 9);
    CHECK(parse() == NULL);
    CHECK_EQ(info.hpet_addr, 0);
    CHECK_ERR(info.hpet_refused, "ACPI: HPET block is in address space 1, must be 0 (memory); table refused");
}

static void
test_hpet_unaligned(void)
{
    reset();
    make_acpi1_hpet();
    put64(HPET_ADDR + 44, 0xFED00010);
    fix_checksum(HPET_ADDR, 56, 9);
    CHECK(parse() == NULL);
    CHECK_EQ(info.hpet_addr, 0);
    CHECK_ERR(info.hpet_refused, "ACPI: HPET block address 0xfed00010 is not a nonzero multiple of 0x400");
}

static void
test_hpet_too_short(void)
{
    reset();
    make_acpi1_hpet();
    put32(HPET_ADDR + 4, 40);
    fix_checksum(HPET_ADDR, 40, 9);
    CHECK(parse() == NULL);
    CHECK_EQ(info.hpet_addr, 0);
    CHECK_ERR(info.hpet_refused, "ACPI: HPET length is 40, must be at least 56; table refused");
}

static void
check_qemu_like(unsigned ncpus)
{
    reset();
    make_qemu_madt(MADT_ADDR, ncpus);
    make_acpi1();
    const char *err = parse();
    CHECK(err == NULL);
    if (err != NULL)
        printf("# error: %s\n", err);
    CHECK_EQ(info.rsdp_revision, 0);
    CHECK(memcmp(info.oem_id, "IRQLAB", 7) == 0);
    CHECK_EQ(info.lapic_addr, 0xFEE00000);
    CHECK(info.pcat_compat);
    CHECK_EQ(info.cpu_count, ncpus);
    for (unsigned i = 0; i < ncpus && i < ACPI_MAX_CPUS; i++) {
        CHECK_EQ(info.cpus[i].acpi_id, i);
        CHECK_EQ(info.cpus[i].apic_id, i);
        CHECK(info.cpus[i].enabled);
        CHECK(!info.cpus[i].x2apic_entry);
    }
    CHECK_EQ(info.ioapic_count, 1);
    CHECK_EQ(info.ioapics[0].id, 0);
    CHECK_EQ(info.ioapics[0].addr, 0xFEC00000);
    CHECK_EQ(info.ioapics[0].gsi_base, 0);
    CHECK_EQ(info.iso_count, 2);
    CHECK_EQ(info.isos[0].bus, 0);
    CHECK_EQ(info.isos[0].source, 0);
    CHECK_EQ(info.isos[0].gsi, 2);
    CHECK_EQ(info.isos[0].flags, 0);
    CHECK_EQ(info.isos[1].source, 9);
    CHECK_EQ(info.isos[1].gsi, 9);
    CHECK_EQ(info.isos[1].flags, 0x000d);
    CHECK(info.has_lapic_nmi);
    CHECK_EQ(info.lapic_nmi_lint, 1);
    CHECK_EQ(info.skipped_entries, 0);
}

static void test_rsdt_1cpu(void) { check_qemu_like(1); }
static void test_rsdt_2cpus(void) { check_qemu_like(2); }
static void test_rsdt_4cpus(void) { check_qemu_like(4); }
static void test_rsdt_8cpus(void) { check_qemu_like(8); }

static void
test_xsdt_acpi2(void)
{
    reset();
    make_qemu_madt(MADT_ADDR, 2);
    make_acpi2();
    const char *err = parse();
    CHECK(err == NULL);
    CHECK_EQ(info.rsdp_revision, 2);
    CHECK_EQ(info.cpu_count, 2);
    CHECK_EQ(info.ioapic_count, 1);
    CHECK_EQ(info.iso_count, 2);
}

static void
test_rev2_zero_xsdt_uses_rsdt(void)
{
    reset();
    make_qemu_madt(MADT_ADDR, 1);
    make_acpi1();
    make_rsdp(RSDP_ADDR, 2, RSDT_ADDR, 0);
    CHECK(parse() == NULL);
    CHECK_EQ(info.rsdp_revision, 2);
    CHECK_EQ(info.cpu_count, 1);
}

static void
test_disabled_cpus(void)
{
    reset();
    madt_begin(MADT_ADDR, 0xFEE00000, 0);
    madt_lapic(0, 0, 1);        // enabled
    madt_lapic(1, 1, 0);        // disabled
    madt_lapic(2, 2, 2);        // online capable: present but off
    madt_lapic(3, 3, 3);        // enabled (online-capable bit ignored)
    madt_finish();
    make_acpi1();
    CHECK(parse() == NULL);
    CHECK(!info.pcat_compat);
    CHECK_EQ(info.cpu_count, 4);
    CHECK(info.cpus[0].enabled);
    CHECK(!info.cpus[1].enabled);
    CHECK(!info.cpus[2].enabled);
    CHECK(info.cpus[3].enabled);
    CHECK(!info.has_lapic_nmi);
}

static void
test_x2apic_entries(void)
{
    reset();
    madt_begin(MADT_ADDR, 0xFEE00000, 1);
    madt_lapic(0, 0, 1);
    madt_x2apic(300, 1, 0x1001);
    madt_x2apic(301, 0, 7);
    madt_finish();
    make_acpi2();
    CHECK(parse() == NULL);
    CHECK_EQ(info.cpu_count, 3);
    CHECK(!info.cpus[0].x2apic_entry);
    CHECK(info.cpus[1].x2apic_entry);
    CHECK_EQ(info.cpus[1].apic_id, 300);
    CHECK_EQ(info.cpus[1].acpi_id, 0x01);   // low 8 bits of the 32-bit UID
    CHECK(info.cpus[1].enabled);
    CHECK_EQ(info.cpus[2].apic_id, 301);
    CHECK(!info.cpus[2].enabled);
}

// x2APIC's broadcast ID names no CPU: the entry is skipped, as Linux ignores it.
static void
test_x2apic_broadcast_id_skipped(void)
{
    reset();
    madt_begin(MADT_ADDR, 0xFEE00000, 1);
    madt_lapic(0, 0, 1);
    madt_x2apic(0xffffffff, 1, 5);
    madt_finish();
    make_acpi2();
    CHECK(parse() == NULL);
    CHECK_EQ(info.cpu_count, 1);
    CHECK_EQ(info.skipped_entries, 1);
}

static void
test_lapic_addr_override(void)
{
    reset();
    madt_begin(MADT_ADDR, 0xFEE00000, 1);
    madt_lapic(0, 0, 1);
    madt_lapic_override(0x123456789000ull);
    madt_finish();
    make_acpi1();
    CHECK(parse() == NULL);
    CHECK_EQ(info.lapic_addr, 0x123456789000ull);
}

static void
test_unknown_entry_skipped(void)
{
    static const uint8_t nmi_source[8] = { 3, 8, 0, 0, 0, 0, 0, 0 };
    static const uint8_t future[5] = { 0x7f, 5, 0xaa, 0xbb, 0xcc };
    reset();
    madt_begin(MADT_ADDR, 0xFEE00000, 1);
    madt_lapic(0, 0, 1);
    madt_raw(nmi_source, sizeof nmi_source);
    madt_raw(future, sizeof future);
    madt_lapic(1, 1, 1);
    madt_finish();
    make_acpi1();
    CHECK(parse() == NULL);
    CHECK_EQ(info.cpu_count, 2);
    CHECK_EQ(info.cpus[1].apic_id, 1);
    CHECK_EQ(info.skipped_entries, 2);
}

static void
test_too_many_cpus(void)
{
    reset();
    madt_begin(MADT_ADDR, 0xFEE00000, 1);
    for (unsigned i = 0; i < ACPI_MAX_CPUS + 6; i++)
        madt_lapic((uint8_t)i, (uint8_t)i, 1);
    madt_ioapic(0, 0xFEC00000, 0);
    madt_finish();
    make_acpi1();
    CHECK(parse() == NULL);
    CHECK_EQ(info.cpu_count, ACPI_MAX_CPUS);
    CHECK_EQ(info.cpus[ACPI_MAX_CPUS - 1].apic_id, ACPI_MAX_CPUS - 1);
    CHECK_EQ(info.skipped_entries, 6);
    CHECK_EQ(info.ioapic_count, 1);     // entries after the overflow still count
}

// ---- refusals: RSDP ----

static void
test_bad_rsdp_signature(void)
{
    reset();
    make_qemu_madt(MADT_ADDR, 1);
    make_acpi1();
    mem[RSDP_ADDR + 3] = 'X';
    fix_checksum(RSDP_ADDR, 20, 8);
    CHECK_ERR(parse(), "ACPI: RSDP signature is not 'RSD PTR '");
}

static void
test_bad_rsdp_checksum(void)
{
    reset();
    make_qemu_madt(MADT_ADDR, 1);
    make_acpi1();
    mem[RSDP_ADDR + 8] += 0x10;
    CHECK_ERR(parse(), "ACPI: RSDP checksum is 0x10, should sum to 0");
}

static void
test_bad_extended_checksum(void)
{
    reset();
    make_qemu_madt(MADT_ADDR, 1);
    make_acpi2();
    mem[RSDP_ADDR + 32] += 0x3c;
    CHECK_ERR(parse(), "ACPI: RSDP extended checksum is 0x3c, should sum to 0");
}

static void
test_rsdp_too_short(void)
{
    reset();
    make_qemu_madt(MADT_ADDR, 1);
    make_acpi2();
    CHECK_ERR(acpi_parse_rsdp(&mem[RSDP_ADDR], 19, fake_map, &info),
              "ACPI: RSDP is 19 bytes, needs at least 20");
    CHECK_ERR(acpi_parse_rsdp(&mem[RSDP_ADDR], 20, fake_map, &info),
              "ACPI: RSDP revision 2 is 20 bytes, needs at least 36");
    CHECK_ERR(acpi_parse_rsdp(NULL, 36, fake_map, &info),
              "ACPI: RSDP is 36 bytes, needs at least 20");
}

// ---- refusals: RSDT and XSDT ----

static void
test_rsdt_bad_checksum(void)
{
    reset();
    make_qemu_madt(MADT_ADDR, 1);
    make_acpi1();
    mem[RSDT_ADDR + 9] += 0x3c;
    CHECK_ERR(parse(), "ACPI: RSDT checksum is 0x3c, should sum to 0; table refused");
}

static void
test_xsdt_bad_checksum(void)
{
    reset();
    make_qemu_madt(MADT_ADDR, 1);
    make_acpi2();
    mem[XSDT_ADDR + 9] -= 1;
    CHECK_ERR(parse(), "ACPI: XSDT checksum is 0xff, should sum to 0; table refused");
}

static void
test_rsdt_bad_signature(void)
{
    reset();
    make_qemu_madt(MADT_ADDR, 1);
    make_acpi1();
    memcpy(&mem[RSDT_ADDR], "XSDT", 4);
    fix_checksum(RSDT_ADDR, 36 + 8, 9);
    CHECK_ERR(parse(), "ACPI: RSDT signature is not 'RSDT'; table refused");
}

static void
test_root_unmappable(void)
{
    reset();
    make_qemu_madt(MADT_ADDR, 1);
    make_acpi1();
    map_fail_addr = RSDT_ADDR;
    CHECK_ERR(parse(), "ACPI: cannot map RSDT header at 0x100000; table refused");
}

// ---- refusals: MADT ----

static void
test_madt_bad_checksum(void)
{
    reset();
    make_qemu_madt(MADT_ADDR, 1);
    make_acpi1();
    mem[MADT_ADDR + 9] += 0x3c;
    CHECK_ERR(parse(), "ACPI: MADT (APIC) checksum is 0x3c, should sum to 0; table refused");
}

static void
test_madt_missing(void)
{
    uint64_t only_facp[1] = { FACP_ADDR };
    reset();
    make_qemu_madt(MADT_ADDR, 1);
    make_acpi1();
    make_root(RSDT_ADDR, "RSDT", 4, only_facp, 1);
    CHECK_ERR(parse(), "ACPI: no MADT (APIC) table in the RSDT");

    make_acpi2();
    make_root(XSDT_ADDR, "XSDT", 8, only_facp, 1);
    CHECK_ERR(parse(), "ACPI: no MADT (APIC) table in the XSDT");
}

static void
test_madt_too_short(void)
{
    reset();
    make_header(MADT_ADDR, "APIC", 40);
    fix_checksum(MADT_ADDR, 40, 9);
    make_acpi1();
    CHECK_ERR(parse(), "ACPI: MADT (APIC) length is 40, needs at least 44; table refused");

    make_header(MADT_ADDR, "APIC", 20);
    fix_checksum(MADT_ADDR, 36, 9);
    CHECK_ERR(parse(), "ACPI: MADT (APIC) length is 20, must be 36 to 1048576; table refused");
}

static void
test_madt_too_long(void)
{
    reset();
    make_qemu_madt(MADT_ADDR, 1);
    make_acpi1();
    put32(MADT_ADDR + 4, 1024 * 1024 + 1);
    CHECK_ERR(parse(), "ACPI: MADT (APIC) length is 1048577, must be 36 to 1048576; table refused");
}

static void
test_madt_past_memory(void)
{
    // A length within the limit but past the end of "physical memory":
    // map() cannot provide it.
    reset();
    make_qemu_madt(MADT_ADDR, 1);
    make_acpi1();
    put32(MADT_ADDR + 4, 1024 * 1024);
    CHECK_ERR(parse(), "ACPI: cannot map MADT (APIC) (1048576 bytes at 0x101003); table refused");
}

static void
test_madt_unmappable(void)
{
    reset();
    make_qemu_madt(MADT_ADDR, 1);
    make_acpi1();
    map_fail_addr = MADT_ADDR;
    CHECK_ERR(parse(), "ACPI: cannot map RSDT entry 1 header at 0x101003; table refused");
}

static void
test_entry_length_zero(void)
{
    static const uint8_t bad[2] = { 0, 0 };
    reset();
    madt_begin(MADT_ADDR, 0xFEE00000, 1);
    madt_lapic(0, 0, 1);
    madt_lapic(1, 1, 1);
    madt_raw(bad, sizeof bad);
    madt_lapic(2, 2, 1);
    madt_finish();
    make_acpi1();
    CHECK_ERR(parse(), "ACPI: MADT entry at offset 60 has length 0; table refused");
}

static void
test_entry_overruns_table(void)
{
    static const uint8_t bad[4] = { 1, 12, 0, 0 };  // an IOAPIC entry cut short by the table end
    reset();
    madt_begin(MADT_ADDR, 0xFEE00000, 1);
    madt_lapic(0, 0, 1);
    madt_raw(bad, sizeof bad);
    madt_finish();
    make_acpi1();
    CHECK_ERR(parse(), "ACPI: MADT entry at offset 52 has length 12, overruns the table end at 56; table refused");
}

static void
test_entry_cut_off(void)
{
    static const uint8_t bad[1] = { 0 };            // a lone type byte, no length byte
    reset();
    madt_begin(MADT_ADDR, 0xFEE00000, 1);
    madt_lapic(0, 0, 1);
    madt_raw(bad, sizeof bad);
    madt_finish();
    make_acpi1();
    CHECK_ERR(parse(), "ACPI: MADT entry at offset 52 is cut off by the table end at 53; table refused");
}

static void
test_short_ioapic_entry(void)
{
    static const uint8_t bad[8] = { 1, 8, 0, 0, 0, 0, 0xc0, 0xfe };
    reset();
    madt_begin(MADT_ADDR, 0xFEE00000, 1);
    madt_lapic(0, 0, 1);
    madt_raw(bad, sizeof bad);
    madt_finish();
    make_acpi1();
    CHECK_ERR(parse(), "ACPI: MADT IOAPIC entry at offset 52 has length 8, needs 12; table refused");
}

static void
test_short_x2apic_entry(void)
{
    static const uint8_t bad[12] = { 9, 12 };
    reset();
    madt_begin(MADT_ADDR, 0xFEE00000, 1);
    madt_raw(bad, sizeof bad);
    madt_finish();
    make_acpi2();
    CHECK_ERR(parse(), "ACPI: MADT local x2APIC entry at offset 44 has length 12, needs 16; table refused");
}

// ---- MADT contents: checksummed, well-formed, and still wrong (issue 15) ----

// One CPU, the LAPIC at lapic, an IOAPIC at ioapic (none if 0): parse it.
static const char *
parse_madt_with(uint32_t lapic, uint32_t ioapic)
{
    reset();
    madt_begin(MADT_ADDR, lapic, 1);
    madt_lapic(0, 0, 1);
    if (ioapic)
        madt_ioapic(0, ioapic, 0);
    madt_finish();
    make_acpi1();
    return parse();
}

static void
test_madt_lapic_addr_zero(void)
{
    CHECK_ERR(parse_madt_with(0, 0xFEC00000), "ACPI: MADT local APIC address 0x0 is not valid");
}

static void
test_madt_lapic_addr_unaligned(void)
{
    CHECK_ERR(parse_madt_with(0xFEE00800, 0xFEC00000), "ACPI: MADT local APIC address 0xfee00800 is not valid");
}

static void
test_madt_ioapic_addr_unaligned(void)
{
    CHECK_ERR(parse_madt_with(0xFEE00000, 0xFEC00004), "ACPI: MADT IOAPIC 0 address 0xfec00004 is not valid");
}

static void
test_madt_ioapic_at_lapic(void)
{
    CHECK_ERR(parse_madt_with(0xFEE00000, 0xFEE00000),
              "ACPI: MADT IOAPIC 0 at 0xfee00000 overlaps the local APIC's registers at 0xfee00000");
    // the IOAPIC's 1 KiB window reaching into the LAPIC's page
    CHECK_ERR(parse_madt_with(0xFEE00000, 0xFEDFFC10), "ACPI: MADT IOAPIC 0 at 0xfedffc10 overlaps");
    CHECK(parse_madt_with(0xFEE00000, 0xFEDFFC00) == NULL);
}

static void
test_madt_ioapics_overlap(void)
{
    reset();
    madt_begin(MADT_ADDR, 0xFEE00000, 1);
    madt_lapic(0, 0, 1);
    madt_ioapic(0, 0xFEC00000, 0);
    madt_ioapic(1, 0xFEC00100, 24);
    madt_finish();
    make_acpi1();
    CHECK_ERR(parse(), "ACPI: MADT IOAPICs 0 and 1 overlap (0xfec00000 and 0xfec00100, 1 KiB each)");
}

static void
test_madt_apic_id_twice(void)
{
    reset();
    madt_begin(MADT_ADDR, 0xFEE00000, 1);
    madt_lapic(0, 0, 1);
    madt_lapic(1, 0, 1);
    madt_finish();
    make_acpi1();
    CHECK_ERR(parse(), "ACPI: MADT lists APIC ID 0 twice (entries 0 and 1)");
}

static void
test_madt_apic_id_broadcast(void)
{
    reset();
    madt_begin(MADT_ADDR, 0xFEE00000, 1);
    madt_lapic(0, 0xFF, 1);
    madt_finish();
    make_acpi1();
    CHECK_ERR(parse(), "ACPI: MADT local APIC entry 0 has APIC ID 0xff, the broadcast ID");
}

static void
test_madt_no_enabled_cpu(void)
{
    reset();
    madt_begin(MADT_ADDR, 0xFEE00000, 1);
    madt_lapic(0, 0, 0);
    madt_finish();
    make_acpi1();
    CHECK_ERR(parse(), "ACPI: MADT lists no enabled CPU");
}

static void
test_madt_iso_out_of_range(void)
{
    reset();
    madt_begin(MADT_ADDR, 0xFEE00000, 1);
    madt_lapic(0, 0, 1);
    madt_iso(16, 16, 0);        // not an ISA IRQ
    madt_finish();
    make_acpi1();
    CHECK_ERR(parse(), "ACPI: MADT interrupt source override bus 0 irq 16 flags 0x0 is not valid");
    reset();
    madt_begin(MADT_ADDR, 0xFEE00000, 1);
    madt_lapic(0, 0, 1);
    madt_iso(4, 4, 0x0002);     // polarity 2: reserved
    madt_finish();
    make_acpi1();
    CHECK_ERR(parse(), "ACPI: MADT interrupt source override bus 0 irq 4 flags 0x2 is not valid");
}

// ---- BIOS scan ----

static void
test_bios_scan_e0000(void)
{
    reset();
    make_rsdp(0xE5430, 0, RSDT_ADDR, 0);
    CHECK_EQ(acpi_find_rsdp_bios(fake_map), 0xE5430);
}

static void
test_bios_scan_bad_checksum(void)
{
    reset();
    make_rsdp(0xE1000, 0, RSDT_ADDR, 0);
    mem[0xE1000 + 8] ^= 0xff;                   // looks like an RSDP, but is not
    make_rsdp(0xF0010, 0, RSDT_ADDR, 0);
    CHECK_EQ(acpi_find_rsdp_bios(fake_map), 0xF0010);
}

static void
test_bios_scan_unaligned_ignored(void)
{
    reset();
    make_rsdp(0xE1008, 0, RSDT_ADDR, 0);        // not on a 16-byte boundary
    CHECK_EQ(acpi_find_rsdp_bios(fake_map), 0);
}

static void
test_bios_scan_ebda_first(void)
{
    reset();
    put16(0x40E, 0x9FC0);                       // EBDA at 0x9FC00
    make_rsdp(0x9FC20, 0, RSDT_ADDR, 0);
    make_rsdp(0xF0010, 0, RSDT_ADDR, 0);
    CHECK_EQ(acpi_find_rsdp_bios(fake_map), 0x9FC20);
}

static void
test_bios_scan_none(void)
{
    reset();
    put16(0x40E, 0x9FC0);
    CHECK_EQ(acpi_find_rsdp_bios(fake_map), 0);
    map_fail_addr = 0xE0000;
    CHECK_EQ(acpi_find_rsdp_bios(fake_map), 0);
}

static void
test_bios_scan_then_parse(void)
{
    reset();
    make_qemu_madt(MADT_ADDR, 4);
    make_acpi1();
    uint64_t at = acpi_find_rsdp_bios(fake_map);
    CHECK_EQ(at, RSDP_ADDR);
    CHECK(acpi_parse_rsdp(fake_map(at, 20), 20, fake_map, &info) == NULL);
    CHECK_EQ(info.cpu_count, 4);
}

// ---- runner ----

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    { "rsdt_1cpu", test_rsdt_1cpu },
    { "rsdt_2cpus", test_rsdt_2cpus },
    { "rsdt_4cpus", test_rsdt_4cpus },
    { "rsdt_8cpus", test_rsdt_8cpus },
    { "xsdt_acpi2", test_xsdt_acpi2 },
    { "rev2_zero_xsdt_uses_rsdt", test_rev2_zero_xsdt_uses_rsdt },
    { "disabled_cpus", test_disabled_cpus },
    { "x2apic_entries", test_x2apic_entries },
    { "x2apic_broadcast_id_skipped", test_x2apic_broadcast_id_skipped },
    { "lapic_addr_override", test_lapic_addr_override },
    { "unknown_entry_skipped", test_unknown_entry_skipped },
    { "too_many_cpus", test_too_many_cpus },
    { "bad_rsdp_signature", test_bad_rsdp_signature },
    { "bad_rsdp_checksum", test_bad_rsdp_checksum },
    { "bad_extended_checksum", test_bad_extended_checksum },
    { "rsdp_too_short", test_rsdp_too_short },
    { "rsdt_bad_checksum", test_rsdt_bad_checksum },
    { "xsdt_bad_checksum", test_xsdt_bad_checksum },
    { "rsdt_bad_signature", test_rsdt_bad_signature },
    { "root_unmappable", test_root_unmappable },
    { "madt_bad_checksum", test_madt_bad_checksum },
    { "madt_missing", test_madt_missing },
    { "madt_too_short", test_madt_too_short },
    { "madt_too_long", test_madt_too_long },
    { "madt_past_memory", test_madt_past_memory },
    { "madt_unmappable", test_madt_unmappable },
    { "entry_length_zero", test_entry_length_zero },
    { "entry_overruns_table", test_entry_overruns_table },
    { "entry_cut_off", test_entry_cut_off },
    { "short_ioapic_entry", test_short_ioapic_entry },
    { "short_x2apic_entry", test_short_x2apic_entry },
    { "madt_lapic_addr_zero", test_madt_lapic_addr_zero },
    { "madt_lapic_addr_unaligned", test_madt_lapic_addr_unaligned },
    { "madt_ioapic_addr_unaligned", test_madt_ioapic_addr_unaligned },
    { "madt_ioapic_at_lapic", test_madt_ioapic_at_lapic },
    { "madt_ioapics_overlap", test_madt_ioapics_overlap },
    { "madt_apic_id_twice", test_madt_apic_id_twice },
    { "madt_apic_id_broadcast", test_madt_apic_id_broadcast },
    { "madt_no_enabled_cpu", test_madt_no_enabled_cpu },
    { "madt_iso_out_of_range", test_madt_iso_out_of_range },
    { "bios_scan_e0000", test_bios_scan_e0000 },
    { "bios_scan_bad_checksum", test_bios_scan_bad_checksum },
    { "bios_scan_unaligned_ignored", test_bios_scan_unaligned_ignored },
    { "bios_scan_ebda_first", test_bios_scan_ebda_first },
    { "bios_scan_none", test_bios_scan_none },
    { "bios_scan_then_parse", test_bios_scan_then_parse },
    { "hpet_parsed", test_hpet_parsed },
    { "hpet_absent", test_hpet_absent },
    { "hpet_bad_checksum", test_hpet_bad_checksum },
    { "hpet_io_space", test_hpet_io_space },
    { "hpet_unaligned", test_hpet_unaligned },
    { "hpet_too_short", test_hpet_too_short },
};

int
main(void)
{
    size_t n = sizeof tests / sizeof tests[0];
    bool all_ok = true;

    printf("KTAP version 1\n");
    printf("1..%zu\n", n);
    for (size_t i = 0; i < n; i++) {
        test_failed = false;
        tests[i].fn();
        printf("%s %zu %s\n", test_failed ? "not ok" : "ok", i + 1, tests[i].name);
        if (test_failed)
            all_ok = false;
    }
    return all_ok ? 0 : 1;
}
