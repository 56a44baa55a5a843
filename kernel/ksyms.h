/* kernel/ksyms.h: the kernel's own symbol table, for turning code addresses into function names. */
#ifndef KERNEL_KSYMS_H
#define KERNEL_KSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ksym {
    uint64_t addr;
    uint64_t size;              /* 0 if nm did not know it */
    const char *name;
};

/* Sorted by addr. Generated at build time by kernel/mksyms.sh (build/ksyms.c). */
extern const struct ksym ksym_table[];
extern const size_t ksym_count;

/* Find the symbol containing addr in tab[0..n), which must be sorted by addr:
 * the one with the greatest addr <= target, provided target < addr + size.
 * A size of 0 means "up to the next symbol" (for the last symbol: only its
 * own address). Returns NULL if no symbol contains addr. Otherwise, if
 * offset is not NULL, sets *offset = target - sym->addr. */
const struct ksym *ksym_lookup_in(const struct ksym *tab, size_t n, uint64_t addr, uint64_t *offset);

/* ksym_lookup_in() on the kernel's own table. */
const struct ksym *ksym_lookup(uint64_t addr, uint64_t *offset);

/* Write "name+0xoff/0xsize" (with_offset) or "name" for addr into buf[0..n),
 * or "0x<hex address>" if no symbol contains it. Same return value and
 * truncation rules as ksnprintf. */
int ksym_snprint(char *buf, size_t n, uint64_t addr, bool with_offset);

#endif
