/* tests/host/test_multiboot.c: host unit tests for kernel/multiboot.c, with information blocks built in fake memory. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kernel/multiboot.h"
#include "kernel/string.h"
#include "tests/host/check.h"

/* ---- fake physical memory: MEM_SIZE bytes at physical address BASE ---- */

#define BASE 0x10000u                   /* so that address 0 is out of reach */
#define MEM_SIZE (128u * 1024)

static _Alignas(8) uint8_t mem[MEM_SIZE];

static const void *fake_phys(uint64_t addr, size_t len)
{
    if (addr < BASE || addr - BASE > MEM_SIZE || len > MEM_SIZE - (addr - BASE))
        return NULL;
    return &mem[addr - BASE];
}

static void put32(size_t off, uint32_t v)
{
    memcpy(&mem[off], &v, sizeof v);
}

static void put64(size_t off, uint64_t v)
{
    memcpy(&mem[off], &v, sizeof v);
}

static struct boot_info bi;

/* The memory map the builders write: entry i is 1 MiB apart, type 1 or 2. */
static uint64_t entry_addr(size_t i) { return 0x100000 * (uint64_t)i; }
static uint64_t entry_len(size_t i) { return 0x1000 * ((uint64_t)i + 1); }
static uint32_t entry_type(size_t i) { return i % 2 == 0 ? 1 : 2; }

/* Check that bi.mmap holds the first n entries the builders write. */
static void check_mmap(size_t n, const char *file, int line)
{
    check_int_eq(bi.mmap_count, (long long)n, "bi.mmap_count", file, line);
    for (size_t i = 0; i < n && i < bi.mmap_count; i++) {
        check_hex_eq(bi.mmap[i].addr, entry_addr(i), "bi.mmap[i].addr", file, line);
        check_hex_eq(bi.mmap[i].len, entry_len(i), "bi.mmap[i].len", file, line);
        check_int_eq(bi.mmap[i].type, entry_type(i), "bi.mmap[i].type", file, line);
    }
}
#define CHECK_MMAP(n) check_mmap((n), __FILE__, __LINE__)

/* ---- building Multiboot 2 blocks at mem[0] (physical BASE) ---- */

static size_t mb2_len;                  /* bytes written so far */

static void mb2_begin(void)
{
    memset(mem, 0, sizeof mem);
    mb2_len = 8;                        /* total_size and reserved */
}

/* Append a tag whose size field says size (which may lie), followed by its
 * payload, then pad to the next 8-byte boundary as the specification says. */
static void mb2_raw_tag(uint32_t type, uint32_t size, const void *payload, size_t len)
{
    put32(mb2_len, type);
    put32(mb2_len + 4, size);
    if (len > 0)
        memcpy(&mem[mb2_len + 8], payload, len);
    mb2_len += (8 + len + 7) / 8 * 8;
}

static void mb2_tag(uint32_t type, const void *payload, size_t len)
{
    mb2_raw_tag(type, (uint32_t)(8 + len), payload, len);
}

static void mb2_string_tag(uint32_t type, const char *s)
{
    mb2_tag(type, s, strlen(s) + 1);
}

/* A memory map tag of n entries of entry_size bytes each. */
static void mb2_mmap_tag_sized(size_t n, uint32_t entry_size)
{
    static uint8_t payload[8 + 200 * 40];

    memset(payload, 0, sizeof payload);
    memcpy(&payload[0], &entry_size, 4);    /* entry_version stays 0 */
    for (size_t i = 0; i < n; i++) {
        uint8_t *e = &payload[8 + i * entry_size];
        uint64_t addr = entry_addr(i), len = entry_len(i);
        uint32_t type = entry_type(i);

        memcpy(e, &addr, 8);
        memcpy(e + 8, &len, 8);
        memcpy(e + 16, &type, 4);
    }
    mb2_tag(6, payload, 8 + n * entry_size);
}

static void mb2_mmap_tag(size_t n)
{
    mb2_mmap_tag_sized(n, 24);
}

/* An RSDP-like payload of len bytes: the signature, then a byte pattern. */
static void mb2_rsdp_tag(uint32_t type, size_t len, uint8_t fill)
{
    uint8_t rsdp[64];

    memset(rsdp, fill, sizeof rsdp);
    memcpy(rsdp, "RSD PTR ", 8);
    mb2_tag(type, rsdp, len);
}

/* Append the end tag and set total_size to cover everything. */
static void mb2_finish(void)
{
    mb2_tag(0, NULL, 0);
    put32(0, (uint32_t)mb2_len);
}

static const char *parse_mb2(void)
{
    return multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, BASE, fake_phys, &bi);
}

/* A block as GRUB would give it. */
static void mb2_typical(void)
{
    mb2_begin();
    mb2_string_tag(1, "/boot/irqlab.elf lab=3");
    mb2_string_tag(2, "GRUB 2.06");
    mb2_mmap_tag(3);
    mb2_rsdp_tag(14, 20, 0x14);
    mb2_rsdp_tag(15, 36, 0x15);
}

/* ---- Multiboot 2: valid blocks ---- */

static void mb2_typical_block_is_copied(void)
{
    mb2_typical();
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), NULL);
    CHECK_INT_EQ(bi.protocol, 2);
    CHECK_STR_EQ(bi.cmdline, "/boot/irqlab.elf lab=3");
    CHECK_STR_EQ(bi.loader, "GRUB 2.06");
    CHECK_MMAP(3);
    CHECK(!bi.mmap_truncated);
    CHECK(bi.has_rsdp);
    CHECK_INT_EQ(bi.rsdp_len, 36);
    CHECK(memcmp(bi.rsdp, "RSD PTR ", 8) == 0);
    CHECK_INT_EQ(bi.rsdp[35], 0x15);
}

static void mb2_minimal_block_has_only_a_memory_map(void)
{
    mb2_begin();
    mb2_mmap_tag(1);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), NULL);
    CHECK_STR_EQ(bi.cmdline, "");
    CHECK_STR_EQ(bi.loader, "");
    CHECK_MMAP(1);
    CHECK(!bi.has_rsdp);
    CHECK_INT_EQ(bi.rsdp_len, 0);
}

static void mb2_old_rsdp_alone_is_used(void)
{
    mb2_begin();
    mb2_mmap_tag(1);
    mb2_rsdp_tag(14, 20, 0x14);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), NULL);
    CHECK(bi.has_rsdp);
    CHECK_INT_EQ(bi.rsdp_len, 20);
    CHECK_INT_EQ(bi.rsdp[19], 0x14);
}

static void mb2_new_rsdp_preferred_whatever_the_order(void)
{
    mb2_begin();
    mb2_rsdp_tag(15, 36, 0x15);
    mb2_rsdp_tag(14, 20, 0x14);
    mb2_mmap_tag(1);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), NULL);
    CHECK_INT_EQ(bi.rsdp_len, 36);
    CHECK_INT_EQ(bi.rsdp[19], 0x15);
}

static void mb2_unknown_tags_are_skipped(void)
{
    static const uint8_t junk[13] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };

    mb2_begin();
    mb2_tag(8, junk, sizeof junk);          /* framebuffer info, say: not ours */
    mb2_tag(21, junk, 3);
    mb2_mmap_tag(2);
    mb2_tag(99, NULL, 0);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), NULL);
    CHECK_MMAP(2);
}

static void mb2_odd_sized_tags_are_padded_to_8(void)
{
    mb2_begin();
    mb2_string_tag(1, "a");                 /* size 10, so 6 bytes of padding follow */
    mb2_string_tag(2, "xyz");
    mb2_mmap_tag(1);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), NULL);
    CHECK_STR_EQ(bi.cmdline, "a");
    CHECK_STR_EQ(bi.loader, "xyz");
}

static void mb2_mmap_longer_than_64_is_truncated(void)
{
    mb2_begin();
    mb2_mmap_tag(100);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), NULL);
    CHECK_MMAP(BOOT_MMAP_MAX);
    CHECK(bi.mmap_truncated);
}

static void mb2_mmap_of_exactly_64_is_not_truncated(void)
{
    mb2_begin();
    mb2_mmap_tag(BOOT_MMAP_MAX);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), NULL);
    CHECK_MMAP(BOOT_MMAP_MAX);
    CHECK(!bi.mmap_truncated);
}

static void mb2_mmap_with_larger_entry_size(void)
{
    mb2_begin();
    mb2_mmap_tag_sized(5, 40);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), NULL);
    CHECK_MMAP(5);
}

static void mb2_long_loader_name_is_cut_short(void)
{
    char name[100];

    memset(name, 'g', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    mb2_begin();
    mb2_string_tag(2, name);
    mb2_mmap_tag(1);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), NULL);
    CHECK_INT_EQ((long long)strlen(bi.loader), 63);
}

static void mb2_cmdline_of_511_bytes_fits(void)
{
    char line[512];

    memset(line, 'c', 511);
    line[511] = '\0';
    mb2_begin();
    mb2_string_tag(1, line);
    mb2_mmap_tag(1);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), NULL);
    CHECK_STR_EQ(bi.cmdline, line);
}

static void mb2_cmdline_of_512_bytes_is_too_long(void)
{
    char line[513];

    memset(line, 'c', 512);
    line[512] = '\0';
    mb2_begin();
    mb2_string_tag(1, line);
    mb2_mmap_tag(1);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), "multiboot2: command line is 512 bytes, longer than the 511 supported");
}

/* ---- Multiboot 2: malformed blocks ---- */

static void wrong_magic(void)
{
    mb2_typical();
    mb2_finish();
    CHECK_STR_EQ(multiboot_parse(0x12345678, BASE, fake_phys, &bi),
                 "multiboot: bad magic 0x12345678; expected 0x2badb002 (multiboot1) "
                 "or 0x36d76289 (multiboot2)");
    CHECK_STR_EQ(multiboot_parse(0, BASE, fake_phys, &bi),
                 "multiboot: bad magic 0x0; expected 0x2badb002 (multiboot1) "
                 "or 0x36d76289 (multiboot2)");
}

static void info_address_zero(void)
{
    CHECK_STR_EQ(multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, 0, fake_phys, &bi),
                 "multiboot2: info block address is 0");
    CHECK_STR_EQ(multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, 0, fake_phys, &bi),
                 "multiboot1: info block address is 0");
}

static void mb2_info_out_of_reach(void)
{
    CHECK_STR_EQ(multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, 0x8000, fake_phys, &bi),
                 "multiboot2: cannot read the info block at 0x8000");
    CHECK_STR_EQ(multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, UINT64_MAX - 7, fake_phys, &bi),
                 "multiboot2: cannot read the info block at 0xfffffffffffffff8");
}

static void mb2_info_running_off_readable_memory(void)
{
    /* The header is readable but the total_size bytes it claims are not. */
    memset(mem, 0, sizeof mem);
    put32(MEM_SIZE - 8, 64);
    CHECK_STR_EQ(multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, BASE + MEM_SIZE - 8, fake_phys, &bi),
                 "multiboot2: cannot read the 64-byte info block at 0x2fff8");
}

static void mb2_info_misaligned(void)
{
    CHECK_STR_EQ(multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, BASE + 4, fake_phys, &bi),
                 "multiboot2: info block at 0x10004 is not 8-byte aligned");
}

static void mb2_total_size_smaller_than_header(void)
{
    mb2_begin();
    put32(0, 4);
    CHECK_STR_EQ(parse_mb2(), "multiboot2: info block total_size 4 is smaller than its 8-byte header");
    put32(0, 0);
    CHECK_STR_EQ(parse_mb2(), "multiboot2: info block total_size 0 is smaller than its 8-byte header");
}

static void mb2_total_size_huge(void)
{
    mb2_typical();
    mb2_finish();
    put32(0, 0xffffffff);
    CHECK_STR_EQ(parse_mb2(), "multiboot2: info block total_size 4294967295 is larger than 1 MiB");
    put32(0, 1024 * 1024 + 1);
    CHECK_STR_EQ(parse_mb2(), "multiboot2: info block total_size 1048577 is larger than 1 MiB");
}

static void mb2_header_only_has_no_end_tag(void)
{
    mb2_begin();
    put32(0, 8);
    CHECK_STR_EQ(parse_mb2(), "multiboot2: no end tag (type 0) within total_size 8");
}

static void mb2_truncated_before_end_tag(void)
{
    mb2_typical();
    mb2_finish();
    put32(0, (uint32_t)mb2_len - 8);        /* total_size stops just before the end tag */
    CHECK_STR_EQ(parse_mb2(), "multiboot2: no end tag (type 0) within total_size 232");
}

static void mb2_no_end_tag(void)
{
    mb2_begin();
    mb2_mmap_tag(1);
    put32(0, (uint32_t)mb2_len);
    CHECK_STR_EQ(parse_mb2(), "multiboot2: no end tag (type 0) within total_size 48");
}

static void mb2_partial_tag_header_at_the_end(void)
{
    mb2_begin();
    mb2_mmap_tag(1);
    put32(0, (uint32_t)mb2_len + 4);        /* 4 bytes left: not even a tag header */
    CHECK_STR_EQ(parse_mb2(), "multiboot2: no end tag (type 0) within total_size 52");
}

static void mb2_tag_overruns_total_size(void)
{
    mb2_begin();
    mb2_mmap_tag(1);
    mb2_raw_tag(1, 64, "abc", 4);           /* claims 64 bytes; only 16 remain */
    put32(0, (uint32_t)mb2_len);
    CHECK_STR_EQ(parse_mb2(),
                 "multiboot2: tag type 1 at offset 48 has size 64, overrunning total_size 64");
}

static void mb2_tag_with_huge_size(void)
{
    mb2_begin();
    mb2_raw_tag(6, 0xfffffff8, NULL, 0);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(),
                 "multiboot2: tag type 6 at offset 8 has size 4294967288, overrunning total_size 24");
}

static void mb2_zero_size_tag(void)
{
    mb2_begin();
    mb2_raw_tag(1, 0, NULL, 0);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(),
                 "multiboot2: tag type 1 at offset 8 has size 0, less than its 8-byte header");
}

static void mb2_tag_size_below_header(void)
{
    mb2_begin();
    mb2_mmap_tag(1);
    mb2_raw_tag(2, 7, NULL, 0);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(),
                 "multiboot2: tag type 2 at offset 48 has size 7, less than its 8-byte header");
}

static void mb2_end_tag_with_wrong_size(void)
{
    mb2_begin();
    mb2_mmap_tag(1);
    mb2_raw_tag(0, 16, "padding", 8);
    put32(0, (uint32_t)mb2_len);
    CHECK_STR_EQ(parse_mb2(), "multiboot2: end tag at offset 48 has size 16, not 8");
}

static void mb2_misaligned_tag_is_not_followed(void)
{
    /* A loader that forgot the padding: the next tag starts 2 bytes after
     * "a" (size 10) instead of at the 8-byte boundary. Reading at the
     * boundary finds garbage, which must be reported, not trusted. */
    mb2_begin();
    mb2_raw_tag(1, 10, "a", 2);             /* mb2_len is now 24, padded */
    mb2_len -= 6;                           /* undo the padding */
    mb2_mmap_tag(1);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(),
                 "multiboot2: tag type 1572864 at offset 24 has size 0, less than its 8-byte header");
}

static void mb2_unterminated_cmdline(void)
{
    mb2_begin();
    mb2_tag(1, "lab=3", 5);                 /* no NUL */
    mb2_mmap_tag(1);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), "multiboot2: command line tag is not NUL-terminated");
}

static void mb2_empty_cmdline_tag(void)
{
    mb2_begin();
    mb2_tag(1, NULL, 0);                    /* no room even for the NUL */
    mb2_mmap_tag(1);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), "multiboot2: command line tag is not NUL-terminated");
}

static void mb2_cmdline_too_long(void)
{
    char line[601];

    memset(line, 'c', 600);
    line[600] = '\0';
    mb2_begin();
    mb2_string_tag(1, line);
    mb2_mmap_tag(1);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), "multiboot2: command line is 600 bytes, longer than the 511 supported");
}

static void mb2_unterminated_loader_name(void)
{
    mb2_begin();
    mb2_tag(2, "GRUB", 4);
    mb2_mmap_tag(1);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), "multiboot2: boot loader name tag is not NUL-terminated");
}

static void mb2_no_memory_map(void)
{
    mb2_begin();
    mb2_string_tag(1, "lab=1");
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), "multiboot2: no memory map tag (type 6)");
}

static void mb2_mmap_tag_too_small(void)
{
    mb2_begin();
    mb2_tag(6, "\x18\0\0\0", 4);           /* entry_size, but no entry_version */
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), "multiboot2: memory map tag has size 12, less than its 16-byte header");
}

static void mb2_mmap_entry_size_too_small(void)
{
    mb2_begin();
    mb2_mmap_tag_sized(2, 16);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), "multiboot2: memory map entry_size 16 is less than 24");
    mb2_begin();
    mb2_mmap_tag_sized(0, 0);               /* 0 would divide by zero */
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), "multiboot2: memory map entry_size 0 is less than 24");
}

static void mb2_mmap_size_not_whole_entries(void)
{
    uint8_t payload[8 + 24 + 5] = { 24 };

    mb2_begin();
    mb2_tag(6, payload, sizeof payload);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(),
                 "multiboot2: memory map tag size 45 is not 16 plus a multiple of entry_size 24");
}

static void mb2_mmap_with_no_entries_is_accepted(void)
{
    mb2_begin();
    mb2_mmap_tag(0);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(), NULL);
    CHECK_INT_EQ(bi.mmap_count, 0);
}

static void mb2_acpi_tags_too_small(void)
{
    mb2_begin();
    mb2_mmap_tag(1);
    mb2_rsdp_tag(14, 12, 0);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(),
                 "multiboot2: ACPI tag type 14 holds 12 bytes, less than the 20 of an RSDP");
    mb2_begin();
    mb2_mmap_tag(1);
    mb2_rsdp_tag(15, 20, 0);
    mb2_finish();
    CHECK_STR_EQ(parse_mb2(),
                 "multiboot2: ACPI tag type 15 holds 20 bytes, less than the 36 of an RSDP");
}

static void random_blocks_never_crash(void)
{
    uint32_t x = 2463534242u;

    /* A valid start, then random bytes; a simple xorshift generator makes
     * the same blocks every run. Sanitizers catch any bad access. */
    for (int round = 0; round < 2000; round++) {
        mb2_typical();
        mb2_finish();
        for (int i = 0; i < 8; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            size_t off = 8 + x % (mb2_len - 8);
            /* Small values in size fields are the interesting ones. */
            mem[off] = (uint8_t)(x >> 24) % (i % 2 ? 64 : 256);
        }
        const char *err = parse_mb2();
        CHECK(err == NULL || strncmp(err, "multiboot2: ", 12) == 0);
        CHECK(bi.mmap_count <= BOOT_MMAP_MAX);
        CHECK(strlen(bi.cmdline) < sizeof bi.cmdline);
        CHECK(bi.rsdp_len <= sizeof bi.rsdp);
    }
}

/* ---- building Multiboot 1 blocks: info at mem[0], strings and map after ---- */

#define MB1_CMDLINE_OFF 0x200
#define MB1_LOADER_OFF  0x400
#define MB1_MMAP_OFF    0x800

static size_t mb1_mmap_len;

/* Start an info structure with the given flags, pointing at the command
 * line, loader name and (still empty) memory map. */
static void mb1_begin(uint32_t flags)
{
    memset(mem, 0, sizeof mem);
    put32(0, flags);
    put32(16, BASE + MB1_CMDLINE_OFF);
    put32(48, BASE + MB1_MMAP_OFF);
    put32(64, BASE + MB1_LOADER_OFF);
    mb1_mmap_len = 0;
    put32(44, 0);
}

/* Append memory map entry i with the given size field (20 normally). */
static void mb1_mmap_entry(size_t i, uint32_t size)
{
    size_t off = MB1_MMAP_OFF + mb1_mmap_len;

    put32(off, size);
    put64(off + 4, entry_addr(i));
    put64(off + 12, entry_len(i));
    put32(off + 20, entry_type(i));
    mb1_mmap_len += 4 + size;
    put32(44, (uint32_t)mb1_mmap_len);
}

static const char *parse_mb1(void)
{
    return multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, BASE, fake_phys, &bi);
}

#define MB1_CMDLINE (1u << 2)
#define MB1_MMAP    (1u << 6)
#define MB1_LOADER  (1u << 9)

/* ---- Multiboot 1 ---- */

static void mb1_typical_block_is_copied(void)
{
    mb1_begin(MB1_CMDLINE | MB1_MMAP | MB1_LOADER);
    strcpy((char *)&mem[MB1_CMDLINE_OFF], "build/irqlab.elf lab=2");
    strcpy((char *)&mem[MB1_LOADER_OFF], "qemu");
    for (size_t i = 0; i < 6; i++)
        mb1_mmap_entry(i, 20);
    CHECK_STR_EQ(parse_mb1(), NULL);
    CHECK_INT_EQ(bi.protocol, 1);
    CHECK_STR_EQ(bi.cmdline, "build/irqlab.elf lab=2");
    CHECK_STR_EQ(bi.loader, "qemu");
    CHECK_MMAP(6);
    CHECK(!bi.mmap_truncated);
    CHECK(!bi.has_rsdp);
}

static void mb1_without_cmdline_flag_has_empty_cmdline(void)
{
    mb1_begin(MB1_MMAP);
    strcpy((char *)&mem[MB1_CMDLINE_OFF], "ignored");
    mb1_mmap_entry(0, 20);
    CHECK_STR_EQ(parse_mb1(), NULL);
    CHECK_STR_EQ(bi.cmdline, "");
    CHECK_STR_EQ(bi.loader, "");
}

static void mb1_without_mmap_flag(void)
{
    mb1_begin(MB1_CMDLINE);
    CHECK_STR_EQ(parse_mb1(), "multiboot1: no memory map (flags 0x4 lacks bit 6)");
}

static void mb1_mmap_entries_with_larger_size_field(void)
{
    mb1_begin(MB1_MMAP);
    mb1_mmap_entry(0, 20);
    mb1_mmap_entry(1, 28);                  /* stride 32: 8 bytes the parser must skip */
    mb1_mmap_entry(2, 20);
    CHECK_STR_EQ(parse_mb1(), NULL);
    CHECK_MMAP(3);
}

static void mb1_mmap_longer_than_64_is_truncated(void)
{
    mb1_begin(MB1_MMAP);
    for (size_t i = 0; i < 70; i++)
        mb1_mmap_entry(i, 20);
    CHECK_STR_EQ(parse_mb1(), NULL);
    CHECK_MMAP(BOOT_MMAP_MAX);
    CHECK(bi.mmap_truncated);
}

static void mb1_mmap_entry_size_too_small(void)
{
    mb1_begin(MB1_MMAP);
    mb1_mmap_entry(0, 20);
    mb1_mmap_entry(1, 12);
    CHECK_STR_EQ(parse_mb1(), "multiboot1: memory map entry at offset 24 has size 12, less than 20");
}

static void mb1_mmap_entry_overruns_length(void)
{
    mb1_begin(MB1_MMAP);
    mb1_mmap_entry(0, 20);
    mb1_mmap_entry(1, 20);
    put32(44, 40);                          /* cuts the second entry short */
    CHECK_STR_EQ(parse_mb1(), "multiboot1: memory map entry at offset 24 overruns mmap_length 40");
    put32(44, 26);                          /* not even its size field fits */
    CHECK_STR_EQ(parse_mb1(), "multiboot1: memory map entry at offset 24 overruns mmap_length 26");
}

static void mb1_mmap_out_of_reach(void)
{
    mb1_begin(MB1_MMAP);
    mb1_mmap_entry(0, 20);
    put32(48, 0x1000);
    CHECK_STR_EQ(parse_mb1(), "multiboot1: cannot read the 24-byte memory map at 0x1000");
}

static void mb1_mmap_length_huge(void)
{
    mb1_begin(MB1_MMAP);
    put32(44, 0x80000000);
    CHECK_STR_EQ(parse_mb1(), "multiboot1: memory map length 2147483648 is larger than 1 MiB");
}

static void mb1_info_out_of_reach(void)
{
    CHECK_STR_EQ(multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, 0x2000, fake_phys, &bi),
                 "multiboot1: cannot read the info block at 0x2000");
    CHECK_STR_EQ(multiboot_parse(MULTIBOOT1_BOOTLOADER_MAGIC, BASE + MEM_SIZE - 60, fake_phys, &bi),
                 "multiboot1: cannot read the info block at 0x2ffc4");
}

static void mb1_cmdline_out_of_reach(void)
{
    mb1_begin(MB1_CMDLINE | MB1_MMAP);
    mb1_mmap_entry(0, 20);
    put32(16, 0x500);
    CHECK_STR_EQ(parse_mb1(), "multiboot1: cannot read the command line at 0x500");
}

static void mb1_cmdline_running_off_memory(void)
{
    /* No NUL before the end of readable memory. */
    mb1_begin(MB1_CMDLINE | MB1_MMAP);
    mb1_mmap_entry(0, 20);
    memset(&mem[MEM_SIZE - 10], 'x', 10);
    put32(16, BASE + MEM_SIZE - 10);
    CHECK_STR_EQ(parse_mb1(), "multiboot1: cannot read the command line at 0x2fff6");
}

static void mb1_cmdline_too_long(void)
{
    mb1_begin(MB1_CMDLINE | MB1_MMAP);
    mb1_mmap_entry(0, 20);
    memset(&mem[MB1_MMAP_OFF + 0x100], 'c', 600);
    put32(16, BASE + MB1_MMAP_OFF + 0x100);
    CHECK_STR_EQ(parse_mb1(), "multiboot1: command line at 0x10900 is longer than the 511 supported");
}

static void mb1_cmdline_of_511_bytes_fits(void)
{
    mb1_begin(MB1_CMDLINE | MB1_MMAP);
    mb1_mmap_entry(0, 20);
    memset(&mem[MB1_MMAP_OFF + 0x100], 'c', 511);
    put32(16, BASE + MB1_MMAP_OFF + 0x100);
    CHECK_STR_EQ(parse_mb1(), NULL);
    CHECK_INT_EQ((long long)strlen(bi.cmdline), 511);
}

static void mb1_cmdline_of_512_bytes_is_too_long(void)
{
    mb1_begin(MB1_CMDLINE | MB1_MMAP);
    mb1_mmap_entry(0, 20);
    memset(&mem[MB1_MMAP_OFF + 0x100], 'c', 512);
    put32(16, BASE + MB1_MMAP_OFF + 0x100);
    CHECK_STR_EQ(parse_mb1(), "multiboot1: command line at 0x10900 is longer than the 511 supported");
}

static void mb1_long_loader_name_is_cut_short(void)
{
    mb1_begin(MB1_MMAP | MB1_LOADER);
    mb1_mmap_entry(0, 20);
    memset(&mem[MB1_LOADER_OFF], 'q', 100);
    CHECK_STR_EQ(parse_mb1(), NULL);
    CHECK_INT_EQ((long long)strlen(bi.loader), 63);
}

static void mb1_loader_name_out_of_reach(void)
{
    mb1_begin(MB1_MMAP | MB1_LOADER);
    mb1_mmap_entry(0, 20);
    put32(64, 0xdead0000);
    CHECK_STR_EQ(parse_mb1(), "multiboot1: cannot read the boot loader name at 0xdead0000");
}

static const struct test tests[] = {
    TEST(mb2_typical_block_is_copied),
    TEST(mb2_minimal_block_has_only_a_memory_map),
    TEST(mb2_old_rsdp_alone_is_used),
    TEST(mb2_new_rsdp_preferred_whatever_the_order),
    TEST(mb2_unknown_tags_are_skipped),
    TEST(mb2_odd_sized_tags_are_padded_to_8),
    TEST(mb2_mmap_longer_than_64_is_truncated),
    TEST(mb2_mmap_of_exactly_64_is_not_truncated),
    TEST(mb2_mmap_with_larger_entry_size),
    TEST(mb2_long_loader_name_is_cut_short),
    TEST(mb2_cmdline_of_511_bytes_fits),
    TEST(mb2_cmdline_of_512_bytes_is_too_long),
    TEST(wrong_magic),
    TEST(info_address_zero),
    TEST(mb2_info_out_of_reach),
    TEST(mb2_info_running_off_readable_memory),
    TEST(mb2_info_misaligned),
    TEST(mb2_total_size_smaller_than_header),
    TEST(mb2_total_size_huge),
    TEST(mb2_header_only_has_no_end_tag),
    TEST(mb2_truncated_before_end_tag),
    TEST(mb2_no_end_tag),
    TEST(mb2_partial_tag_header_at_the_end),
    TEST(mb2_tag_overruns_total_size),
    TEST(mb2_tag_with_huge_size),
    TEST(mb2_zero_size_tag),
    TEST(mb2_tag_size_below_header),
    TEST(mb2_end_tag_with_wrong_size),
    TEST(mb2_misaligned_tag_is_not_followed),
    TEST(mb2_unterminated_cmdline),
    TEST(mb2_empty_cmdline_tag),
    TEST(mb2_cmdline_too_long),
    TEST(mb2_unterminated_loader_name),
    TEST(mb2_no_memory_map),
    TEST(mb2_mmap_tag_too_small),
    TEST(mb2_mmap_entry_size_too_small),
    TEST(mb2_mmap_size_not_whole_entries),
    TEST(mb2_mmap_with_no_entries_is_accepted),
    TEST(mb2_acpi_tags_too_small),
    TEST(random_blocks_never_crash),
    TEST(mb1_typical_block_is_copied),
    TEST(mb1_without_cmdline_flag_has_empty_cmdline),
    TEST(mb1_without_mmap_flag),
    TEST(mb1_mmap_entries_with_larger_size_field),
    TEST(mb1_mmap_longer_than_64_is_truncated),
    TEST(mb1_mmap_entry_size_too_small),
    TEST(mb1_mmap_entry_overruns_length),
    TEST(mb1_mmap_out_of_reach),
    TEST(mb1_mmap_length_huge),
    TEST(mb1_info_out_of_reach),
    TEST(mb1_cmdline_out_of_reach),
    TEST(mb1_cmdline_running_off_memory),
    TEST(mb1_cmdline_too_long),
    TEST(mb1_cmdline_of_511_bytes_fits),
    TEST(mb1_cmdline_of_512_bytes_is_too_long),
    TEST(mb1_long_loader_name_is_cut_short),
    TEST(mb1_loader_name_out_of_reach),
};

int main(void)
{
    return run_tests(tests, sizeof tests / sizeof tests[0]);
}
