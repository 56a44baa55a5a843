/* tests/host/no_ksyms.c: an empty symbol table, for host tests that link vsprintf.c but print no symbols. */
#include "kernel/ksyms.h"

const struct ksym ksym_table[] = { { 0, 0, "" } };    /* C has no empty arrays */
const size_t ksym_count = 0;
