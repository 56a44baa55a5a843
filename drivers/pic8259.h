/* drivers/pic8259.h: the legacy 8259 interrupt controllers, which irqlab only silences. */
#ifndef DRIVERS_PIC8259_H
#define DRIVERS_PIC8259_H

/* Remap the two 8259s away from the exception vectors and mask every line. */
void pic8259_disable(void);

#endif
