/* drivers/qemu_exit.h: leave QEMU with a status code through the isa-debug-exit device. */
#ifndef DRIVERS_QEMU_EXIT_H
#define DRIVERS_QEMU_EXIT_H

/*
 * QEMU is started with -device isa-debug-exit,iobase=0xf4,iosize=0x04.
 * Writing v to the port makes QEMU exit with status (v << 1) | 1, so a
 * guest can never fake a clean 0 exit; the harness (scripts/qemu.py, which reads these lines)
 * maps these statuses back to names.
 */
#define QEMU_EXIT_PORT     0xf4
#define QEMU_EXIT_PASS     0x10   /* status 33: every test passed / clean poweroff */
#define QEMU_EXIT_FAIL     0x11   /* status 35: a test failed, or an oops under test */
#define QEMU_EXIT_BADBOOT  0x12   /* status 37: bad boot information or command line */
#define QEMU_EXIT_DETECTOR 0x13   /* status 39: a hang detector fired and its stop policy ended the run */
#define QEMU_EXIT_REPRODUCED     0x14   /* status 41: a lab reproduced its bug */
#define QEMU_EXIT_NOT_REPRODUCED 0x15   /* status 43: a lab ran and the bug did not happen */
#define QEMU_EXIT_INVALID  0x16   /* status 45: a lab run showed neither: its claim did not hold, or it missed its deadline */

/* Exit QEMU with `code`. Without the device the write does nothing, so we halt. */
__attribute__((noreturn)) void qemu_exit(unsigned code);

#endif
