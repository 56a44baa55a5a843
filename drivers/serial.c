/* drivers/serial.c: polled driver for the 16550 UART on COM1 at 115200 baud, 8N1. */
#include "drivers/serial.h"
#include "arch/x86_64/cpu.h"

#define COM1 0x3f8

/* Register offsets from COM1 (PC16550D data sheet). */
#define UART_DATA 0     /* receive buffer / transmit holding; divisor low with DLAB */
#define UART_IER  1     /* interrupt enable; divisor high with DLAB */
#define UART_FCR  2     /* FIFO control */
#define UART_LCR  3     /* line control; bit 7 = DLAB */
#define UART_MCR  4     /* modem control */
#define UART_LSR  5     /* line status */

#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

void serial_init(void)
{
    outb(COM1 + UART_IER, 0x00);    /* polled for now: no UART interrupts */
    outb(COM1 + UART_LCR, 0x80);    /* DLAB on to reach the divisor latch */
    outb(COM1 + UART_DATA, 1);      /* 115200 / 1 = 115200 baud */
    outb(COM1 + UART_IER, 0);
    outb(COM1 + UART_LCR, 0x03);    /* 8 data bits, no parity, 1 stop bit, DLAB off */
    outb(COM1 + UART_FCR, 0x07);    /* enable and clear both FIFOs */
    outb(COM1 + UART_MCR, 0x0b);    /* DTR, RTS, and OUT2 (gates the IRQ line on PCs) */
}

static void serial_put_raw(char c)
{
    while (!(inb(COM1 + UART_LSR) & LSR_THR_EMPTY))
        cpu_relax();
    outb(COM1 + UART_DATA, (unsigned char)c);
}

void serial_putc(char c)
{
    if (c == '\n')
        serial_put_raw('\r');
    serial_put_raw(c);
}

void serial_write(const char *s, unsigned long len)
{
    for (unsigned long i = 0; i < len; i++)
        serial_putc(s[i]);
}

int serial_getc_nonblock(void)
{
    if (!(inb(COM1 + UART_LSR) & LSR_DATA_READY))
        return -1;
    return inb(COM1 + UART_DATA);
}
