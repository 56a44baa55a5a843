/* kernel/cmdline.h: a table-driven parser for the kernel command line ("lab=3 test=smoke"). */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

enum kparam_type { KPARAM_INT, KPARAM_STRING, KPARAM_BOOL, KPARAM_U64 };

/* One parameter the command line may set. */
struct kparam {
    const char *key;
    enum kparam_type type;
    void *dest;                 /* int *, char[dest_size], bool * or uint64_t *; holds the default */
    size_t dest_size;           /* for strings: the size of dest, NUL included */
    long min, max;              /* for ints: the accepted range, inclusive, within int's;
                                 * for u64s: min only (0 or more) */
    /* For strings: whether a value is acceptable; NULL accepts anything non-empty. */
    bool (*valid)(const char *value);
    /* Human text of the valid values for error messages, e.g. "0-7" or
     * "all, smoke, fault_divide"; NULL: derived from the type (ints "min-max",
     * bools the accepted words, strings nothing). */
    const char *valid_desc;
    /* Optional: set to true when the command line gives this parameter a
     * valid value, so code can tell a chosen value from the default. */
    bool *given;
    /* Optional: set to true when the command line names this parameter but
     * its value is refused (missing, bad, too long), so code can stop rather
     * than carry on with a default the user did not ask for. */
    bool *refused;
};

/* The most entries a parameter table may have. */
#define KPARAM_MAX 32

/* The longest token (key=value) the parser accepts, in characters. */
#define CMDLINE_TOKEN_MAX 255

/*
 * Parse cmdline against params[0..n), storing each value in its dest.
 * Tokens are separated by blanks (spaces, tabs, newlines); double quotes
 * let a value contain blanks (test="a b") and are removed. A first token
 * with no '=' that contains a '/' is the kernel's path, which boot loaders
 * put first, and is skipped.
 *
 * Ints accept decimal or 0x hex with an optional '-'; bools accept
 * 0/1/on/off/yes/no/true/false. An empty value ("lab=") counts as missing.
 *
 * The parser never prints: for each problem it calls report(ctx, msg) with
 * a complete one-line message (no '\n') and carries on, and the parameter
 * keeps the value it had:
 *   cmdline: unknown parameter 'foo'; valid parameters: lab, test, loglevel
 *   cmdline: bad value 'x' for 'loglevel'; valid: 0-7
 *   cmdline: parameter 'lab' needs a value (lab=...)
 *   cmdline: duplicate parameter 'test'; using the last one
 *   cmdline: value for 'test' is too long (at most 31 characters)
 *   cmdline: unterminated quote in 'test="a b'
 *   cmdline: 'aaaa...' is too long (at most 255 characters)
 * report may be NULL, to only count. Returns the number of problems.
 * cmdline may be NULL (the same as ""). Any input is safe.
 */
int cmdline_parse(const char *cmdline, const struct kparam *params, size_t n,
                  void (*report)(void *ctx, const char *msg), void *ctx);

#endif
