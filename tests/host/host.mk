# tests/host/host.mk: the host unit tests of the library code (included by the top Makefile).
# Each program NAME is built as build/host/test_NAME from host_NAME_SRCS.
# Programs that link kernel/vsprintf.c need a ksym_table: test_vsprintf.c and
# test_ksyms.c define small fake ones, the others link tests/host/no_ksyms.c.

HOST_TESTS += string
host_string_SRCS := tests/host/test_string.c kernel/strlcpy.c

HOST_TESTS += vsprintf
host_vsprintf_SRCS := tests/host/test_vsprintf.c kernel/vsprintf.c kernel/ksyms.c kernel/strlcpy.c

HOST_TESTS += ksyms
host_ksyms_SRCS := tests/host/test_ksyms.c kernel/ksyms.c kernel/vsprintf.c kernel/strlcpy.c

HOST_TESTS += cmdline
host_cmdline_SRCS := tests/host/test_cmdline.c kernel/cmdline.c kernel/vsprintf.c \
                     kernel/ksyms.c kernel/strlcpy.c tests/host/no_ksyms.c

HOST_TESTS += multiboot
host_multiboot_SRCS := tests/host/test_multiboot.c kernel/multiboot.c kernel/vsprintf.c \
                       kernel/ksyms.c kernel/strlcpy.c tests/host/no_ksyms.c
