/* arch/x86_64/ioapic.h: the I/O APIC, which turns device interrupt lines into vectors on a chosen CPU. */
#ifndef ARCH_X86_64_IOAPIC_H
#define ARCH_X86_64_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Find the first IOAPIC in the MADT and mask all its inputs. BSP, once. */
void ioapic_init(void);

/*
 * Route legacy ISA interrupt `irq` to `vector` on the CPU with `apic_id`,
 * honouring the MADT's interrupt source overrides (the ISA IRQ may arrive on
 * another IOAPIC input, with another polarity or trigger mode). Returns
 * false, having said why, when no IOAPIC input carries it.
 */
bool ioapic_route_isa_irq(unsigned irq, unsigned vector, uint32_t apic_id);

/* Route ISA IRQ `irq` to the CPU with `apic_id` as an NMI (delivery mode
 * NMI, edge). Returns false, having said why, when it cannot. */
bool ioapic_route_isa_irq_nmi(unsigned irq, uint32_t apic_id);

/* Mask the IOAPIC input that ioapic_route_isa_irq() chose for `irq`. */
void ioapic_mask_isa_irq(unsigned irq);

#endif
