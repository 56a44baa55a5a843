/* kernel/string.c: memory and string functions for the kernel, one simple byte loop each. */
#include "kernel/string.h"

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    for (size_t i = 0; i < n; i++)
        d[i] = s[i];
    return dst;
}

/* Like memcpy, but the two areas may overlap. */
void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (d < s) {
        for (size_t i = 0; i < n; i++)      /* front to back: never overwrites unread bytes */
            d[i] = s[i];
    } else {
        for (size_t i = n; i > 0; i--)      /* back to front, for the same reason */
            d[i - 1] = s[i - 1];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;

    for (size_t i = 0; i < n; i++)
        d[i] = (unsigned char)c;
    return dst;
}

/* Bytes compare as unsigned char, as the C standard requires. */
int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;

    for (size_t i = 0; i < n; i++) {
        if (p[i] != q[i])
            return p[i] < q[i] ? -1 : 1;
    }
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;

    while (s[n] != '\0')
        n++;
    return n;
}

/* The length of s, but never looks at more than maxlen bytes. */
size_t strnlen(const char *s, size_t maxlen)
{
    size_t n = 0;

    while (n < maxlen && s[n] != '\0')
        n++;
    return n;
}

/* Characters compare as unsigned char, as the C standard requires. */
int strcmp(const char *a, const char *b)
{
    for (size_t i = 0;; i++) {
        unsigned char p = (unsigned char)a[i], q = (unsigned char)b[i];

        if (p != q)
            return p < q ? -1 : 1;
        if (p == '\0')
            return 0;
    }
}

/* strcmp, but compares at most n characters. */
int strncmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char p = (unsigned char)a[i], q = (unsigned char)b[i];

        if (p != q)
            return p < q ? -1 : 1;
        if (p == '\0')
            return 0;
    }
    return 0;
}

/* The first c in s, or NULL. The terminating NUL counts: strchr(s, 0) finds it. */
char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (*s == '\0')
            return NULL;
    }
}
