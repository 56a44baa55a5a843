/* drivers/serial.h: the 16550 UART on COM1, the console of irqlab. */
#ifndef DRIVERS_SERIAL_H
#define DRIVERS_SERIAL_H

#include <stdbool.h>

void serial_init(void);
void serial_putc(char c);            /* '\n' goes out as "\r\n" */
void serial_write(const char *s, unsigned long len);
int  serial_getc_nonblock(void);     /* a received byte, or -1 if none is waiting */

/* Take COM1's receive interrupt (ISA IRQ 4) through the IOAPIC; afterwards
 * serial_getc_nonblock() reads what the handler buffered. Without a route
 * for IRQ 4 (the MADT has none) the console stays polled, and says so. */
void serial_enable_irq(void);
/* Wait for a byte; with the IRQ on, the task sleeps until one comes; polled,
 * it looks every millisecond and sleeps in between. */
int  serial_getc(void);

#endif
