/* arch/x86_64/reboot.h: restart the machine. */
#ifndef ARCH_X86_64_REBOOT_H
#define ARCH_X86_64_REBOOT_H

/*
 * Reset the machine: the keyboard controller, then the PCI reset register,
 * then a triple fault, stopping at the first that works. Never returns.
 * QEMU run with -no-reboot exits instead of resetting.
 */
__attribute__((noreturn)) void machine_restart(void);

#endif
