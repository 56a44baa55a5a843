/* kernel/boot_stop.c: end a boot that cannot go on, always saying why. */
#include "kernel/boot_stop.h"
#include "drivers/qemu_exit.h"
#include "kernel/printk.h"
#include "kernel/vsprintf.h"

void boot_stop(const char *fmt, ...)
{
    char why[1280];            /* room for a list of every test or lab variant */
    va_list ap;

    va_start(ap, fmt);
    kvsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    console_verbose();
    pr_emerg("%s\n", why);
    pr_emerg("irqlab: boot stopped\n");
    qemu_exit(QEMU_EXIT_BADBOOT);
}
