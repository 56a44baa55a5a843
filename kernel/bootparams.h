/* kernel/bootparams.h: irqlab's kernel command-line parameters and the boot information. */
#ifndef KERNEL_BOOTPARAMS_H
#define KERNEL_BOOTPARAMS_H

#include <stdbool.h>
#include "kernel/multiboot.h"

/* What the boot loader told us, copied before its memory could be reused. */
extern struct boot_info boot_info;

/* Parameter values after parsing; empty strings mean "not given". */
extern char param_lab[32];
extern char param_variant[32];
extern char param_test[64];
extern bool param_x2apic;

/*
 * Parse boot_info.cmdline into the parameters (and console_loglevel).
 * Problems are printed, one line each, naming the valid keys or values;
 * a bad value leaves that parameter at its default. Returns the number of
 * problems.
 */
int bootparams_parse(void);
/* Did the command line (or `run`) give `key` a valid value? Only parameters
 * with a .given flag in the table can say yes. */
bool bootparam_given(const char *key);
/* The same for a string of key=value words (the monitor's `run`). */
int bootparams_parse_string(const char *line);

#endif
