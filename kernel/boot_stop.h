/* kernel/boot_stop.h: stop a boot that cannot go on, with a reason printed whatever loglevel= says. */
#ifndef KERNEL_BOOT_STOP_H
#define KERNEL_BOOT_STOP_H

/*
 * Print "<reason>" and "irqlab: boot stopped" at KERN_EMERG, then leave
 * QEMU with QEMU_EXIT_BADBOOT (status 37). For bad boot information: an
 * unknown test or lab, broken ACPI tables, hardware that does not answer
 * where the firmware says it is. The reason is shown even under
 * loglevel=0 (console_verbose(), as Linux's panic() does): a boot that
 * ends must say why. Never returns.
 */
__attribute__((noreturn, format(printf, 1, 2))) void boot_stop(const char *fmt, ...);

#endif
