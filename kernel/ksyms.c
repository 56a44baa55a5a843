/* kernel/ksyms.c: look up addresses in the kernel's embedded symbol table. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/ksyms.h"
#include "kernel/vsprintf.h"

const struct ksym *ksym_lookup_in(const struct ksym *tab, size_t n, uint64_t addr, uint64_t *offset)
{
    /* Binary search for the number of symbols that start at or below addr:
     * the answer lies in [lo, hi], and the loop halves that range each time. */
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (tab[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;                        /* addr is below the first symbol */

    const struct ksym *sym = &tab[lo - 1];
    uint64_t off = addr - sym->addr;
    uint64_t size = sym->size;

    if (size == 0)
        size = lo < n ? tab[lo].addr - sym->addr : 1;
    /* Compare the offset, not addr against addr + size, which could wrap. */
    if (off >= size)
        return NULL;
    if (offset != NULL)
        *offset = off;
    return sym;
}

const struct ksym *ksym_lookup(uint64_t addr, uint64_t *offset)
{
    return ksym_lookup_in(ksym_table, ksym_count, addr, offset);
}

int ksym_snprint(char *buf, size_t n, uint64_t addr, bool with_offset)
{
    /* The formatting lives in vsprintf.c, which does the same for %pS and %ps. */
    void *p = (void *)(uintptr_t)addr;

    return with_offset ? ksnprintf(buf, n, "%pS", p) : ksnprintf(buf, n, "%ps", p);
}
