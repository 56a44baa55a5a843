/* kernel/multiboot.h: what the boot loader tells the kernel, copied out of its Multiboot 1 or 2 information. */
#ifndef KERNEL_MULTIBOOT_H
#define KERNEL_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BOOT_MMAP_MAX 64

/* One range of the physical memory map. */
struct boot_mmap_entry {
    uint64_t addr, len;
    uint32_t type;              /* 1 = usable RAM, as in E820 */
};

/* Everything the kernel keeps from the boot loader. It is a copy, so it
 * stays valid after the memory holding the loader's data is reused. */
struct boot_info {
    int protocol;               /* 1 = Multiboot 1 (qemu -kernel), 2 = Multiboot 2 (GRUB) */
    char cmdline[512];          /* "" if none */
    char loader[64];            /* boot loader name, "" if none; truncated if longer */
    struct boot_mmap_entry mmap[BOOT_MMAP_MAX];
    unsigned mmap_count;
    bool mmap_truncated;        /* the loader gave more than BOOT_MMAP_MAX entries */
    bool has_rsdp;
    uint8_t rsdp[36];           /* the ACPI RSDP from the new (36 bytes) or old (20 bytes) tag */
    unsigned rsdp_len;
};

#define MULTIBOOT1_BOOTLOADER_MAGIC 0x2BADB002
#define MULTIBOOT2_BOOTLOADER_MAGIC 0x36d76289

/* Returns a readable pointer to physical memory [addr, addr + len), or NULL
 * when that range is out of reach. */
typedef const void *(*boot_phys_fn)(uint64_t addr, size_t len);

/*
 * Parse the information block at physical address info_phys, given the
 * magic number the loader left in eax, into *out. Checks everything before
 * trusting it, reading memory only through phys.
 * Returns NULL on success, or a one-line message saying what is wrong, e.g.
 *   "multiboot2: info block total_size 4 is smaller than its 8-byte header"
 * The message is in a static buffer, valid until the next call.
 * A memory map is required; the command line, loader name and RSDP are not.
 */
const char *multiboot_parse(uint32_t magic, uint64_t info_phys, boot_phys_fn phys,
                            struct boot_info *out);

#endif
