HOST_TESTS += acpi
host_acpi_SRCS := tests/host/test_acpi.c kernel/acpi.c
