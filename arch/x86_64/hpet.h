/* arch/x86_64/hpet.h: the HPET, used for one thing: a one-shot NMI at a set time, which no IF=0 can hold off. */
#ifndef ARCH_X86_64_HPET_H
#define ARCH_X86_64_HPET_H

#include <stdbool.h>
#include <stdint.h>

/* Probe the HPET the ACPI table describes and route its timer 0 (in legacy
 * replacement mode: ISA IRQ 0) to this CPU as an NMI. Says why when there
 * is none. BSP, once, after ioapic_init(). */
void hpet_enable(void);

/* Raise that NMI once, `ns` from now; false when there is no HPET. Any CPU,
 * IRQs off or on. A later call moves the time. */
bool hpet_nmi_after(uint64_t ns);

#endif
