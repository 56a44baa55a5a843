/* arch/x86_64/idt.h: the interrupt descriptor table shared by all CPUs. */
#ifndef ARCH_X86_64_IDT_H
#define ARCH_X86_64_IDT_H

/* Fill the IDT (once, on the boot CPU). */
void idt_init(void);
/* Load the IDT on the calling CPU. */
void idt_load(void);

#endif
