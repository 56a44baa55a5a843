/* kernel/vsprintf.h: snprintf-style formatting into a buffer, with Linux's %pS and %ps. */
#ifndef KERNEL_VSPRINTF_H
#define KERNEL_VSPRINTF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * C's vsnprintf and snprintf, renamed so the host tests can link them next
 * to the C library's. Writes at most size bytes into buf, always ending in a
 * NUL when size > 0, and returns the length the whole output would have had
 * (so a return value >= size means it was truncated; buf may be NULL when
 * size is 0). Returns -1 if that length does not fit in an int.
 *
 * Conversions: %d %i %u %x %X %o %c %s %% %p, with the flags - 0 # space +,
 * a width and a precision (either may be *), and the length modifiers
 * hh h l ll z t. %s of NULL prints "(null)".
 * Pointers print the Linux way:
 *   %p, %px  the address as 16 hex digits, no 0x: ffffffff80101234
 *   %pS      the symbol containing it: "name+0xoff/0xsize"
 *   %ps      just "name"
 * and %pS/%ps print "0x<hex>" for an address that is in no symbol.
 * Anything else (%f, %n, %q, ...) is printed as it stands and consumes no
 * argument, so a mistake in a format shows up in the output instead of
 * crashing the kernel.
 */
__attribute__((format(printf, 3, 0)))
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

__attribute__((format(printf, 3, 4)))
int ksnprintf(char *buf, size_t size, const char *fmt, ...);

#endif
