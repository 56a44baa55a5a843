/* arch/x86_64/gdt.h: per-CPU GDT and TSS (with the IST stacks), and the segment selectors. */
#ifndef ARCH_X86_64_GDT_H
#define ARCH_X86_64_GDT_H

/* Selectors as in Linux, so an oops shows "RIP: 0010:" and "RSP: 0018:". */
#define __KERNEL_CS  0x10
#define __KERNEL_DS  0x18
#define GDT_TSS_SEL  0x20

/* Build and load CPU `cpu`'s GDT and TSS, and reload every segment register. */
void gdt_init_cpu(unsigned cpu);

#endif
