/* drivers/qemu_exit.c: leave QEMU with a status code through the isa-debug-exit device. */
#include "drivers/qemu_exit.h"
#include "arch/x86_64/cpu.h"

void qemu_exit(unsigned code)
{
    outb(QEMU_EXIT_PORT, (uint8_t)code);
    /* Only reached without isa-debug-exit (for instance on real hardware). */
    cpu_halt_forever();
}
