/* kernel/multiboot.c: check and copy the boot loader's Multiboot 1 or Multiboot 2 information. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/multiboot.h"
#include "kernel/string.h"
#include "kernel/vsprintf.h"

/* Sanity limit for the sizes the loader claims: real ones are a few KiB. */
#define INFO_MAX (1024 * 1024)

/* Multiboot 2 tag types (Multiboot2 specification, section 3.6). */
#define MB2_TAG_END       0
#define MB2_TAG_CMDLINE   1
#define MB2_TAG_LOADER    2
#define MB2_TAG_MMAP      6
#define MB2_TAG_ACPI_OLD 14             /* holds an ACPI 1.0 RSDP */
#define MB2_TAG_ACPI_NEW 15             /* holds an ACPI 2.0+ RSDP */

#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36

/* Offsets in the Multiboot 1 information structure (specification 3.3). */
#define MB1_FLAGS        0
#define MB1_CMDLINE     16
#define MB1_MMAP_LENGTH 44
#define MB1_MMAP_ADDR   48
#define MB1_LOADER_NAME 64
#define MB1_INFO_LEN    68              /* up to and including boot_loader_name */

#define MB1_FLAG_CMDLINE (1u << 2)
#define MB1_FLAG_MMAP    (1u << 6)
#define MB1_FLAG_LOADER  (1u << 9)

static char message[160];

/* Format an error message into the static buffer and return it. */
__attribute__((format(printf, 1, 2)))
static const char *fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    kvsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return message;
}

/* A malformed block can put fields anywhere, and a misaligned load through
 * a uint32_t pointer is undefined in C; memcpy is always safe. */
static uint32_t read32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof v);
    return v;
}

static uint64_t read64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof v);
    return v;
}

/* Append one memory map entry, or note that there was no room for it. */
static void add_mmap_entry(struct boot_info *out, uint64_t addr, uint64_t len, uint32_t type)
{
    if (out->mmap_count == BOOT_MMAP_MAX) {
        out->mmap_truncated = true;
        return;
    }
    out->mmap[out->mmap_count].addr = addr;
    out->mmap[out->mmap_count].len = len;
    out->mmap[out->mmap_count].type = type;
    out->mmap_count++;
}

/* ---- Multiboot 2 ---- */

/* Tag type 1: the command line, a NUL-terminated string filling the tag. */
static const char *mb2_cmdline(const char *s, size_t len, struct boot_info *out)
{
    size_t n = strnlen(s, len);

    if (n == len)
        return fail("multiboot2: command line tag is not NUL-terminated");
    if (n >= sizeof out->cmdline)
        return fail("multiboot2: command line is %zu bytes, longer than the %zu supported",
                    n, sizeof out->cmdline - 1);
    memcpy(out->cmdline, s, n + 1);
    return NULL;
}

/* Tag type 2: the boot loader's name. Only informative, so a long one is cut short. */
static const char *mb2_loader(const char *s, size_t len, struct boot_info *out)
{
    if (strnlen(s, len) == len)
        return fail("multiboot2: boot loader name tag is not NUL-terminated");
    kstrlcpy(out->loader, s, sizeof out->loader);
    return NULL;
}

/* Tag type 6: the memory map. After the tag header come entry_size and
 * entry_version (4 bytes each), then entries of entry_size bytes:
 * base (8), length (8), type (4), reserved (4), maybe more in the future. */
static const char *mb2_mmap(const uint8_t *p, size_t len, struct boot_info *out)
{
    if (len < 8)
        return fail("multiboot2: memory map tag has size %zu, less than its 16-byte header",
                    len + 8);

    uint32_t entry_size = read32(p);
    size_t entries_len = len - 8;

    if (entry_size < 24)
        return fail("multiboot2: memory map entry_size %u is less than 24", entry_size);
    if (entries_len % entry_size != 0)
        return fail("multiboot2: memory map tag size %zu is not 16 plus a multiple of "
                    "entry_size %u", len + 8, entry_size);

    out->mmap_count = 0;                    /* a second map tag replaces the first */
    out->mmap_truncated = false;
    for (size_t off = 8; off < len; off += entry_size)
        add_mmap_entry(out, read64(p + off), read64(p + off + 8), read32(p + off + 16));
    return NULL;
}

/* Tags 14 and 15: a copy of the ACPI RSDP, 20 bytes (ACPI 1.0) or 36 (2.0+). */
static const char *mb2_rsdp(uint32_t type, const uint8_t *p, size_t len, struct boot_info *out)
{
    size_t need = (type == MB2_TAG_ACPI_NEW) ? RSDP_V2_LEN : RSDP_V1_LEN;

    if (len < need)
        return fail("multiboot2: ACPI tag type %u holds %zu bytes, less than the %zu of an RSDP",
                    type, len, need);
    /* Prefer the new RSDP: an old one never replaces a copy of the new. */
    if (type == MB2_TAG_ACPI_OLD && out->has_rsdp)
        return NULL;
    memcpy(out->rsdp, p, need);
    out->rsdp_len = (unsigned)need;
    out->has_rsdp = true;
    return NULL;
}

/* One tag, given its payload (what follows its 8-byte header). Unknown types are skipped. */
static const char *mb2_tag(uint32_t type, const uint8_t *p, size_t len, struct boot_info *out)
{
    switch (type) {
    case MB2_TAG_CMDLINE:  return mb2_cmdline((const char *)p, len, out);
    case MB2_TAG_LOADER:   return mb2_loader((const char *)p, len, out);
    case MB2_TAG_MMAP:     return mb2_mmap(p, len, out);
    case MB2_TAG_ACPI_OLD:
    case MB2_TAG_ACPI_NEW: return mb2_rsdp(type, p, len, out);
    default:               return NULL;
    }
}

/*
 * The Multiboot 2 information block: total_size (4 bytes), reserved (4),
 * then tags, each starting on an 8-byte boundary with type (4) and size (4,
 * header included, padding not), up to an end tag of type 0 and size 8.
 */
static const char *parse_mb2(uint64_t info_phys, boot_phys_fn phys, struct boot_info *out)
{
    if (info_phys % 8 != 0)
        return fail("multiboot2: info block at 0x%llx is not 8-byte aligned",
                    (unsigned long long)info_phys);

    const uint8_t *header = phys(info_phys, 8);
    if (header == NULL)
        return fail("multiboot2: cannot read the info block at 0x%llx",
                    (unsigned long long)info_phys);

    uint32_t total = read32(header);
    if (total < 8)
        return fail("multiboot2: info block total_size %u is smaller than its 8-byte header",
                    total);
    if (total > INFO_MAX)
        return fail("multiboot2: info block total_size %u is larger than 1 MiB", total);

    const uint8_t *info = phys(info_phys, total);
    if (info == NULL)
        return fail("multiboot2: cannot read the %u-byte info block at 0x%llx", total,
                    (unsigned long long)info_phys);

    bool have_mmap = false;
    size_t off = 8;
    for (;;) {
        if (off + 8 > total)                /* no room left for even a tag header */
            return fail("multiboot2: no end tag (type 0) within total_size %u", total);

        uint32_t type = read32(info + off);
        uint32_t size = read32(info + off + 4);

        if (size < 8)
            return fail("multiboot2: tag type %u at offset %zu has size %u, less than its "
                        "8-byte header", type, off, size);
        if (size > total - off)
            return fail("multiboot2: tag type %u at offset %zu has size %u, overrunning "
                        "total_size %u", type, off, size, total);
        if (type == MB2_TAG_END) {
            if (size != 8)
                return fail("multiboot2: end tag at offset %zu has size %u, not 8", off, size);
            break;
        }

        const char *err = mb2_tag(type, info + off + 8, size - 8, out);
        if (err != NULL)
            return err;
        if (type == MB2_TAG_MMAP)
            have_mmap = true;
        off += (size + 7) & ~(size_t)7;     /* the next tag starts 8-byte aligned */
    }

    if (!have_mmap)
        return fail("multiboot2: no memory map tag (type 6)");
    return NULL;
}

/* ---- Multiboot 1 ---- */

/* Copy the NUL-terminated string at physical address addr into dst[size],
 * a byte at a time, because its length is unknown until the NUL and the
 * bytes after it may not be readable. Returns -1 if a byte could not be
 * read, 0 if the string did not fit (dst holds its start), 1 if all went well. */
static int copy_phys_string(boot_phys_fn phys, uint64_t addr, char *dst, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        const char *c = phys(addr + i, 1);

        if (c == NULL)
            return -1;
        dst[i] = *c;
        if (*c == '\0')
            return 1;
    }
    dst[size - 1] = '\0';
    return 0;
}

/* The memory map: mmap_length bytes of entries, each a size field (4
 * bytes) followed by size bytes: base (8), length (8), type (4), maybe more. */
static const char *mb1_mmap(uint64_t addr, uint32_t length, boot_phys_fn phys,
                            struct boot_info *out)
{
    if (length > INFO_MAX)
        return fail("multiboot1: memory map length %u is larger than 1 MiB", length);

    const uint8_t *map = phys(addr, length);
    if (map == NULL)
        return fail("multiboot1: cannot read the %u-byte memory map at 0x%llx", length,
                    (unsigned long long)addr);

    size_t off = 0;
    while (off < length) {
        if (length - off < 4)
            return fail("multiboot1: memory map entry at offset %zu overruns mmap_length %u",
                        off, length);

        uint32_t size = read32(map + off);

        if (size < 20)
            return fail("multiboot1: memory map entry at offset %zu has size %u, less than 20",
                        off, size);
        if (size > length - off - 4)
            return fail("multiboot1: memory map entry at offset %zu overruns mmap_length %u",
                        off, length);
        add_mmap_entry(out, read64(map + off + 4), read64(map + off + 12),
                       read32(map + off + 20));
        off += 4 + (size_t)size;            /* the size field does not count itself */
    }
    return NULL;
}

static const char *parse_mb1(uint64_t info_phys, boot_phys_fn phys, struct boot_info *out)
{
    const uint8_t *info = phys(info_phys, MB1_INFO_LEN);
    if (info == NULL)
        return fail("multiboot1: cannot read the info block at 0x%llx",
                    (unsigned long long)info_phys);

    uint32_t flags = read32(info + MB1_FLAGS);
    if (!(flags & MB1_FLAG_MMAP))
        return fail("multiboot1: no memory map (flags 0x%x lacks bit 6)", flags);

    const char *err = mb1_mmap(read32(info + MB1_MMAP_ADDR), read32(info + MB1_MMAP_LENGTH),
                               phys, out);
    if (err != NULL)
        return err;

    if (flags & MB1_FLAG_CMDLINE) {
        uint32_t addr = read32(info + MB1_CMDLINE);
        int r = copy_phys_string(phys, addr, out->cmdline, sizeof out->cmdline);

        if (r < 0)
            return fail("multiboot1: cannot read the command line at 0x%x", addr);
        if (r == 0)
            return fail("multiboot1: command line at 0x%x is longer than the %zu supported",
                        addr, sizeof out->cmdline - 1);
    }
    if (flags & MB1_FLAG_LOADER) {
        uint32_t addr = read32(info + MB1_LOADER_NAME);

        /* Only informative, so a long name is simply cut short. */
        if (copy_phys_string(phys, addr, out->loader, sizeof out->loader) < 0)
            return fail("multiboot1: cannot read the boot loader name at 0x%x", addr);
    }
    return NULL;
}

const char *multiboot_parse(uint32_t magic, uint64_t info_phys, boot_phys_fn phys,
                            struct boot_info *out)
{
    memset(out, 0, sizeof *out);

    if (magic != MULTIBOOT1_BOOTLOADER_MAGIC && magic != MULTIBOOT2_BOOTLOADER_MAGIC)
        return fail("multiboot: bad magic 0x%x; expected 0x%x (multiboot1) or 0x%x (multiboot2)",
                    magic, MULTIBOOT1_BOOTLOADER_MAGIC, MULTIBOOT2_BOOTLOADER_MAGIC);
    out->protocol = (magic == MULTIBOOT1_BOOTLOADER_MAGIC) ? 1 : 2;
    if (info_phys == 0)
        return fail("multiboot%d: info block address is 0", out->protocol);
    if (out->protocol == 1)
        return parse_mb1(info_phys, phys, out);
    return parse_mb2(info_phys, phys, out);
}
