/* kernel/strlcpy.c: kstrlcpy, BSD's strlcpy; linked into both the kernel and the host tests. */
#include "kernel/string.h"

size_t kstrlcpy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);

    if (size > 0) {
        size_t n = len < size - 1 ? len : size - 1;

        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}
