/* kernel/string.h: memory and string functions (the kernel's own; libc's in host tests). */
#ifndef KERNEL_STRING_H
#define KERNEL_STRING_H

#include <stddef.h>

#if __STDC_HOSTED__
/* Host unit tests use the C library's versions; kernel/string.c is not linked. */
#include <string.h>
/* strnlen is POSIX, so glibc hides it under -std=c11; it is in libc all the same. */
size_t strnlen(const char *s, size_t maxlen);
#else
/* The kernel's versions, in kernel/string.c. GCC itself may emit calls to
 * memcpy, memmove, memset and memcmp (for struct copies, for example), so
 * these must exist even in code that never names them. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t maxlen);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
#endif

/* BSD strlcpy under a name of our own, because glibc before 2.38 lacks
 * strlcpy and newer ones declare it: kstrlcpy is the same in both builds.
 * Copies at most size-1 bytes of src and always NUL-terminates when size > 0.
 * Returns strlen(src), so "return value >= size" means it was truncated. */
size_t kstrlcpy(char *dst, const char *src, size_t size);

#endif
