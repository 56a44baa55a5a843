/* arch/x86_64/smpboot.h: starting the application processors (INIT-SIPI-SIPI) and the CPU list. */
#ifndef ARCH_X86_64_SMPBOOT_H
#define ARCH_X86_64_SMPBOOT_H

/*
 * The physical page the APs start in (boot/trampoline.asm, which has the
 * same number): below 1 MiB, as a SIPI vector can only name pages there.
 * On QEMU's pc machine 0x8000 is usable RAM, under the EBDA (0x9fc00), and
 * below where QEMU's multiboot loader puts its information block (0x9000),
 * which the kernel has copied by then anyway.
 */
#define TRAMPOLINE_BASE 0x8000

/* nr_cpus=: boot at most this many CPUs (1..NR_CPUS); 0 = not given, all of them. */
extern int param_nr_cpus;

/* Start every enabled CPU the MADT lists (at most nr_cpus=); mark them online. BSP, IRQs on. */
void smp_boot_cpus(void);

#endif
