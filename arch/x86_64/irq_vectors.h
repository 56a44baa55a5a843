/* arch/x86_64/irq_vectors.h: which interrupt vector does what, with Linux's numbers, and where each sends EOI. */
#ifndef ARCH_X86_64_IRQ_VECTORS_H
#define ARCH_X86_64_IRQ_VECTORS_H

/*
 * Vectors 0-31 are the CPU's exceptions (arch/x86_64/traps.h). The rest are
 * interrupts, and their numbers matter: the local APIC delivers a pending
 * vector only when its priority class (vector >> 4) is above the processor
 * priority, PPR = max(TPR, class of the highest vector in service) (Intel SDM
 * Vol. 3A 11.8.3.1). Until a handler sends EOI, its own class and every lower
 * class stay blocked while IF=1; IF=0 blocks them all; an NMI gets through both.
 *
 * Linux places a device's EOI by trigger mode: an edge-triggered or MSI
 * interrupt is acked before its handler (handle_edge_irq() -> irq_ack ->
 * apic_ack_edge()), a level-triggered IOAPIC line after it
 * (handle_fasteoi_irq() -> ioapic_ack_level()). IPIs and the timer go first.
 *
 * The numbers are Linux's (arch/x86/include/asm/irq_vectors.h):
 *
 *  vector  class  name                          EOI sent
 *  0x30+n  0x3    ISA IRQ n via the IOAPIC      edge: Linux acks first; COM1's
 *                 (COM1: IRQ 4, vector 0x34)    short handler (drivers/serial.c)
 *                                               sends it at its end
 *  0x3b    0x3    call-function-single, lowvec  first (the stall lab's "lowvec"
 *  0x3c    0x3    call-function, lowvec         configuration only: kernel/smp.c
 *                                               LAB_HOOK_CALL_FUNCTION_LOWVEC;
 *                                               Linux's ISA IRQ 11 and 12, which
 *                                               irqlab never routes)
 *  0x40-4f 0x4    self-test IPIs (tests/kernel) as each test says
 *  0x51    0x5    the stall lab's NIC           after the handler: it models a
 *                                               level-triggered line, which the
 *                                               lab needs (labs/stall/stall.c)
 *  0x52-54 0x5    the selfdeadlock, irq_inversion after the handler: level-
 *                 and counted_irq labs' devices triggered lines (self-IPIs,
 *                                               defined in each lab)
 *  0xec    0xE    local APIC timer              FIRST, before the hrtimers run,
 *                                               as Linux does: inside a timer
 *                                               callback only IF=0 keeps the
 *                                               (higher-class) IPIs out
 *  0xfb    0xF    call-function-single IPI      first, then the queue is drained
 *  0xfc    0xF    call-function IPI             first, then the queue is drained
 *  0xfd    0xF    reschedule IPI                first
 *  0xfe    0xF    APIC error                    after reading ESR
 *  0xff    0xF    spurious                      NEVER: a spurious interrupt sets no
 *                                               ISR bit (SDM 11.9), so no EOI
 */
#define FIRST_EXTERNAL_VECTOR           0x20
/* Legacy IRQ n (IOAPIC or 8259): Linux rounds up past the first 16 external
 * vectors, so ISA IRQs sit at 0x30-0x3f, one class of their own. */
#define ISA_IRQ_VECTOR(irq)             (((FIRST_EXTERNAL_VECTOR + 16) & ~15) + (irq))
#define LOCAL_TIMER_VECTOR              0xec
/* The stall lab's lowvec configuration: the same two IPIs, class 0x3 (kernel/smp.c). */
#define CALL_FUNCTION_SINGLE_LOW_VECTOR 0x3b
#define CALL_FUNCTION_LOW_VECTOR        0x3c
/* The stall lab's simulated network card: a level-triggered line, EOI after its handler. */
#define STALL_LAB_NIC_VECTOR            0x51
#define CALL_FUNCTION_SINGLE_VECTOR     0xfb
#define CALL_FUNCTION_VECTOR            0xfc
#define RESCHEDULE_VECTOR               0xfd
#define ERROR_APIC_VECTOR               0xfe
#define SPURIOUS_APIC_VECTOR            0xff

#define NR_VECTORS                      256

#endif
