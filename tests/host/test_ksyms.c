/* tests/host/test_ksyms.c: host unit tests for kernel/ksyms.c (symbol lookup and printing). */
#include <stdint.h>
#include <stdio.h>

#include "kernel/ksyms.h"
#include "kernel/string.h"
#include "tests/host/check.h"

/* A stand-in for the generated build/ksyms.c: sorted by address, with a
 * symbol of unknown size (0), a gap after "main", and a sized last symbol. */
const struct ksym ksym_table[] = {
    { 0xffffffff80100000, 0x40, "_start" },
    { 0xffffffff80100040, 0,    "no_size" },         /* runs up to "main" */
    { 0xffffffff80100100, 0x20, "main" },            /* gap from ...120 to ...200 */
    { 0xffffffff80100200, 0x10, "last" },
};
const size_t ksym_count = sizeof ksym_table / sizeof ksym_table[0];

/* CHECK_SYM(addr, name, offset): the kernel table maps addr to name+offset. */
#define CHECK_SYM(addr, want_name, want_offset) \
    check_sym((addr), (want_name), (want_offset), __FILE__, __LINE__)

static void check_sym(uint64_t addr, const char *want_name, uint64_t want_offset,
                      const char *file, int line)
{
    uint64_t offset = 0xdead;
    const struct ksym *sym = ksym_lookup(addr, &offset);

    check_str_eq(sym ? sym->name : NULL, want_name, "symbol name", file, line);
    if (sym != NULL)
        check_hex_eq(offset, want_offset, "offset", file, line);
}

static void address_below_first_symbol_is_unknown(void)
{
    CHECK(ksym_lookup(0, NULL) == NULL);
    CHECK(ksym_lookup(0xffffffff800fffff, NULL) == NULL);
}

static void exact_start_address_has_offset_zero(void)
{
    CHECK_SYM(0xffffffff80100000, "_start", 0);
    CHECK_SYM(0xffffffff80100100, "main", 0);
    CHECK_SYM(0xffffffff80100200, "last", 0);
}

static void address_inside_a_symbol(void)
{
    CHECK_SYM(0xffffffff80100001, "_start", 1);
    CHECK_SYM(0xffffffff8010003f, "_start", 0x3f);
    CHECK_SYM(0xffffffff80100110, "main", 0x10);
}

static void one_past_the_end_is_unknown(void)
{
    CHECK(ksym_lookup(0xffffffff80100120, NULL) == NULL);   /* main ends here */
    CHECK(ksym_lookup(0xffffffff801001ff, NULL) == NULL);   /* still in the gap */
    CHECK(ksym_lookup(0xffffffff80100210, NULL) == NULL);   /* last ends here */
    CHECK(ksym_lookup(UINT64_MAX, NULL) == NULL);
}

static void size_zero_runs_up_to_the_next_symbol(void)
{
    CHECK_SYM(0xffffffff80100040, "no_size", 0);
    CHECK_SYM(0xffffffff801000ff, "no_size", 0xbf);
    CHECK_SYM(0xffffffff80100100, "main", 0);
}

static void last_symbol_of_size_zero_covers_only_its_address(void)
{
    static const struct ksym tab[] = {
        { 0x1000, 0x10, "first" },
        { 0x2000, 0, "end_marker" },
    };
    uint64_t offset = 99;

    CHECK(ksym_lookup_in(tab, 2, 0x2000, &offset) == &tab[1]);
    CHECK_HEX_EQ(offset, 0);
    CHECK(ksym_lookup_in(tab, 2, 0x2001, &offset) == NULL);
}

static void empty_table_finds_nothing(void)
{
    uint64_t offset = 99;

    CHECK(ksym_lookup_in(ksym_table, 0, 0xffffffff80100000, &offset) == NULL);
    CHECK(ksym_lookup_in(NULL, 0, 0, &offset) == NULL);
    CHECK_HEX_EQ(offset, 99);                   /* untouched on failure */
}

static void single_entry_table(void)
{
    static const struct ksym tab[] = { { 0x1000, 0x10, "only" } };
    uint64_t offset;

    CHECK(ksym_lookup_in(tab, 1, 0xfff, &offset) == NULL);
    CHECK(ksym_lookup_in(tab, 1, 0x1000, &offset) == &tab[0]);
    CHECK(ksym_lookup_in(tab, 1, 0x100f, &offset) == &tab[0]);
    CHECK_HEX_EQ(offset, 0xf);
    CHECK(ksym_lookup_in(tab, 1, 0x1010, &offset) == NULL);
}

static void symbol_at_top_of_address_space_does_not_wrap(void)
{
    static const struct ksym tab[] = { { 0xfffffffffffffff0, 0x100, "top" } };
    uint64_t offset;

    CHECK(ksym_lookup_in(tab, 1, UINT64_MAX, &offset) == &tab[0]);
    CHECK_HEX_EQ(offset, 0xf);
    CHECK(ksym_lookup_in(tab, 1, 0, &offset) == NULL);
}

/* A linear search, obviously right, to compare the binary search against. */
static const struct ksym *slow_lookup(const struct ksym *tab, size_t n, uint64_t addr)
{
    for (size_t i = n; i > 0; i--) {
        const struct ksym *s = &tab[i - 1];

        if (s->addr <= addr) {
            uint64_t size = s->size != 0 ? s->size : (i < n ? tab[i].addr - s->addr : 1);
            return addr - s->addr < size ? s : NULL;
        }
    }
    return NULL;
}

static void binary_search_agrees_with_linear_search(void)
{
    enum { N = 1000 };
    static struct ksym tab[N];
    uint64_t addr = 0xffffffff80000000;

    /* Symbols of assorted sizes, some 0, with gaps of assorted lengths. */
    for (size_t i = 0; i < N; i++) {
        tab[i].addr = addr;
        tab[i].size = (i % 7 == 0) ? 0 : 16 + (i % 5) * 8;
        tab[i].name = "sym";
        addr += 16 + (i % 5) * 8 + (i % 3) * 16;
    }
    for (size_t n = 0; n <= N; n += (n < 10 ? 1 : 97)) {
        for (uint64_t a = 0xffffffff80000000 - 4; a < addr + 64; a += 3) {
            uint64_t offset = 0;
            const struct ksym *got = ksym_lookup_in(tab, n, a, &offset);
            const struct ksym *want = slow_lookup(tab, n, a);

            if (got != want) {
                printf("# n=%zu addr=%#llx: got entry %td, want entry %td\n", n,
                       (unsigned long long)a, got ? got - tab : -1, want ? want - tab : -1);
                check_failed = true;
                return;
            }
            if (got != NULL && offset != a - got->addr) {
                printf("# n=%zu addr=%#llx: wrong offset %#llx\n", n,
                       (unsigned long long)a, (unsigned long long)offset);
                check_failed = true;
                return;
            }
        }
    }
}

static void snprint_with_offset(void)
{
    char buf[64];

    CHECK_INT_EQ(ksym_snprint(buf, sizeof buf, 0xffffffff80100112, true), 14);
    CHECK_STR_EQ(buf, "main+0x12/0x20");
    ksym_snprint(buf, sizeof buf, 0xffffffff80100000, true);
    CHECK_STR_EQ(buf, "_start+0x0/0x40");
    ksym_snprint(buf, sizeof buf, 0xffffffff80100050, true);
    CHECK_STR_EQ(buf, "no_size+0x10/0x0");
}

static void snprint_without_offset(void)
{
    char buf[64];

    CHECK_INT_EQ(ksym_snprint(buf, sizeof buf, 0xffffffff80100112, false), 4);
    CHECK_STR_EQ(buf, "main");
}

static void snprint_unknown_address_prints_hex(void)
{
    char buf[64];

    CHECK_INT_EQ(ksym_snprint(buf, sizeof buf, 0xffffffff80100150, true), 18);
    CHECK_STR_EQ(buf, "0xffffffff80100150");
    ksym_snprint(buf, sizeof buf, 0x42, false);
    CHECK_STR_EQ(buf, "0x42");
}

static void snprint_truncates_and_returns_full_length(void)
{
    char buf[5];

    CHECK_INT_EQ(ksym_snprint(buf, sizeof buf, 0xffffffff80100112, true), 14);
    CHECK_STR_EQ(buf, "main");
    CHECK_INT_EQ(ksym_snprint(NULL, 0, 0xffffffff80100112, true), 14);
}

static const struct test tests[] = {
    TEST(address_below_first_symbol_is_unknown),
    TEST(exact_start_address_has_offset_zero),
    TEST(address_inside_a_symbol),
    TEST(one_past_the_end_is_unknown),
    TEST(size_zero_runs_up_to_the_next_symbol),
    TEST(last_symbol_of_size_zero_covers_only_its_address),
    TEST(empty_table_finds_nothing),
    TEST(single_entry_table),
    TEST(symbol_at_top_of_address_space_does_not_wrap),
    TEST(binary_search_agrees_with_linear_search),
    TEST(snprint_with_offset),
    TEST(snprint_without_offset),
    TEST(snprint_unknown_address_prints_hex),
    TEST(snprint_truncates_and_returns_full_length),
};

int main(void)
{
    return run_tests(tests, sizeof tests / sizeof tests[0]);
}
