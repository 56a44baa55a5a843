/* kernel/cmdline.c: parse the kernel command line against a table of parameters, reporting every problem. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/cmdline.h"
#include "kernel/string.h"
#include "kernel/vsprintf.h"

/* Room for a message quoting a whole token, plus its explanation. */
#define MSG_MAX (CMDLINE_TOKEN_MAX + 256)

/* How much of a malformed token a message quotes. */
#define QUOTE_MAX 32

struct parser {
    const char *p;              /* the next character of the command line */
    const struct kparam *params;
    size_t n;
    bool seen[KPARAM_MAX];      /* which parameters have had a value, to spot duplicates */
    void (*report)(void *ctx, const char *msg);
    void *ctx;
    int problems;
};

/* Format a message and hand it to the report callback. */
__attribute__((format(printf, 2, 3)))
static void problem(struct parser *ps, const char *fmt, ...)
{
    char msg[MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    kvsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ps->report != NULL)
        ps->report(ps->ctx, msg);
    ps->problems++;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

enum token_status { TOKEN_OK, TOKEN_TOO_LONG, TOKEN_UNTERMINATED };

/*
 * Copy the token at ps->p into tok[CMDLINE_TOKEN_MAX + 1], without its
 * quotes, and step past it. A token runs up to the next blank outside
 * quotes. An overlong token is still consumed whole; tok gets its start.
 */
static enum token_status read_token(struct parser *ps, char *tok)
{
    size_t len = 0;
    bool quoted = false, too_long = false;

    for (; *ps->p != '\0' && (quoted || !is_blank(*ps->p)); ps->p++) {
        if (*ps->p == '"')
            quoted = !quoted;
        else if (len < CMDLINE_TOKEN_MAX)
            tok[len++] = *ps->p;
        else
            too_long = true;
    }
    tok[len] = '\0';
    if (quoted)
        return TOKEN_UNTERMINATED;
    return too_long ? TOKEN_TOO_LONG : TOKEN_OK;
}

/* Boot loaders put the kernel's path first: "/boot/irqlab.elf lab=3". */
static bool is_kernel_path(const char *tok)
{
    return strchr(tok, '=') == NULL && strchr(tok, '/') != NULL;
}

static const struct kparam *find_param(const struct parser *ps, const char *key)
{
    for (size_t i = 0; i < ps->n; i++) {
        if (strcmp(ps->params[i].key, key) == 0)
            return &ps->params[i];
    }
    return NULL;
}

/* The value of a hex or decimal digit, or -1 if c is neither. */
static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parse all of s as a decimal or 0x-hex integer with an optional '-'.
 * Returns false for anything else: junk, an empty number, overflow. */
static bool parse_int(const char *s, int64_t *out)
{
    bool negative = false;
    int base = 10;
    uint64_t magnitude = 0;

    if (*s == '-') {
        negative = true;
        s++;
    }
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (*s == '\0')
        return false;                       /* "", "-" or "0x" */
    for (; *s != '\0'; s++) {
        int d = digit_value(*s);

        if (d < 0 || d >= base)
            return false;
        /* Stop before magnitude * base + d could pass INT64_MAX. */
        if (magnitude > ((uint64_t)INT64_MAX - (uint64_t)d) / (uint64_t)base)
            return false;
        magnitude = magnitude * (uint64_t)base + (uint64_t)d;
    }
    *out = negative ? -(int64_t)magnitude : (int64_t)magnitude;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "1", "on", "yes", "true" };
    static const char *const no[] = { "0", "off", "no", "false" };

    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* Report value as bad for kp, saying what would have been valid. */
static void bad_value(struct parser *ps, const struct kparam *kp, const char *value)
{
    char range[64];
    const char *valid = kp->valid_desc;

    if (valid == NULL && kp->type == KPARAM_INT) {
        ksnprintf(range, sizeof range, "%ld-%ld", kp->min, kp->max);
        valid = range;
    } else if (valid == NULL && kp->type == KPARAM_U64) {
        valid = kp->min > 0 ? "a positive number, decimal or 0x hex" : "a non-negative number, decimal or 0x hex";
    } else if (valid == NULL && kp->type == KPARAM_BOOL) {
        valid = "0, 1, on, off, yes, no, true, false";
    }

    if (valid != NULL)
        problem(ps, "cmdline: bad value '%s' for '%s'; valid: %s", value, kp->key, valid);
    else
        problem(ps, "cmdline: bad value '%s' for '%s'", value, kp->key);
}

/* Check value against kp and store it, or report why not. */
static void set_param(struct parser *ps, const struct kparam *kp, const char *value)
{
    int64_t i;
    bool b, ok = false;

    switch (kp->type) {
    case KPARAM_INT:
        if ((ok = parse_int(value, &i) && i >= kp->min && i <= kp->max))
            *(int *)kp->dest = (int)i;
        else
            bad_value(ps, kp, value);
        break;
    case KPARAM_U64:
        if ((ok = parse_int(value, &i) && i >= 0 && i >= kp->min))
            *(uint64_t *)kp->dest = (uint64_t)i;
        else
            bad_value(ps, kp, value);
        break;
    case KPARAM_BOOL:
        if ((ok = parse_bool(value, &b)))
            *(bool *)kp->dest = b;
        else
            bad_value(ps, kp, value);
        break;
    case KPARAM_STRING:
        if (strlen(value) >= kp->dest_size) {
            problem(ps, "cmdline: value for '%s' is too long (at most %zu characters)",
                    kp->key, kp->dest_size > 0 ? kp->dest_size - 1 : 0);
        } else if (kp->valid != NULL && !kp->valid(value)) {
            bad_value(ps, kp, value);
        } else {
            kstrlcpy(kp->dest, value, kp->dest_size);
            ok = true;
        }
        break;
    }
    if (ok && kp->given)
        *kp->given = true;
    if (!ok && kp->refused)
        *kp->refused = true;
}

/* The names of all parameters, comma-separated, for the "unknown" message. */
static void list_keys(const struct parser *ps, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < ps->n && len < size; i++)
        len += (size_t)ksnprintf(buf + len, size - len, "%s%s", i > 0 ? ", " : "",
                                 ps->params[i].key);
}

/* A malformed token (unterminated, too long) still names its parameter:
 * mark that one refused, so lab="stall is not taken for no lab at all. */
static void refuse_token(struct parser *ps, char *tok)
{
    char *eq = strchr(tok, '=');

    if (eq == NULL)
        return;
    *eq = '\0';
    const struct kparam *kp = find_param(ps, tok);
    if (kp != NULL && kp->refused)
        *kp->refused = true;
}

/* Handle one "key=value" token (tok is modified). */
static void handle_token(struct parser *ps, char *tok)
{
    char *eq = strchr(tok, '=');
    const char *value = "";

    if (eq != NULL) {
        *eq = '\0';                         /* tok is now just the key */
        value = eq + 1;
    }

    const struct kparam *kp = find_param(ps, tok);
    if (kp == NULL) {
        char keys[MSG_MAX / 2];

        list_keys(ps, keys, sizeof keys);
        problem(ps, "cmdline: unknown parameter '%s'; valid parameters: %s", tok, keys);
        return;
    }
    if (*value == '\0') {
        problem(ps, "cmdline: parameter '%s' needs a value (%s=...)", kp->key, kp->key);
        if (kp->refused)
            *kp->refused = true;
        return;
    }

    size_t index = (size_t)(kp - ps->params);
    if (ps->seen[index])
        problem(ps, "cmdline: duplicate parameter '%s'; using the last one", kp->key);
    ps->seen[index] = true;
    set_param(ps, kp, value);
}

int cmdline_parse(const char *cmdline, const struct kparam *params, size_t n,
                  void (*report)(void *ctx, const char *msg), void *ctx)
{
    struct parser ps = {
        .p = cmdline != NULL ? cmdline : "",
        .params = params,
        .n = n,
        .report = report,
        .ctx = ctx,
    };
    char tok[CMDLINE_TOKEN_MAX + 1];

    if (n > KPARAM_MAX) {
        problem(&ps, "cmdline: %zu parameters in the table, more than KPARAM_MAX (%d)",
                n, KPARAM_MAX);
        return ps.problems;
    }

    for (bool first = true;; first = false) {
        while (is_blank(*ps.p))
            ps.p++;
        if (*ps.p == '\0')
            break;

        const char *start = ps.p;
        enum token_status status = read_token(&ps, tok);
        /* Messages about a malformed token quote its raw text, shortened. */
        size_t raw_len = (size_t)(ps.p - start);
        int shown = raw_len > QUOTE_MAX ? QUOTE_MAX : (int)raw_len;
        const char *more = raw_len > QUOTE_MAX ? "..." : "";

        if (status == TOKEN_UNTERMINATED)
            problem(&ps, "cmdline: unterminated quote in '%.*s%s'", shown, start, more);
        else if (status == TOKEN_TOO_LONG)
            problem(&ps, "cmdline: '%.*s%s' is too long (at most %d characters)",
                    shown, start, more, CMDLINE_TOKEN_MAX);
        if (status != TOKEN_OK)
            refuse_token(&ps, tok);
        else if (!(first && is_kernel_path(tok)))
            handle_token(&ps, tok);
    }
    return ps.problems;
}
