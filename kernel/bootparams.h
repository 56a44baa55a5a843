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
/* lab=, variant= or test= was given with a value the parser refused:
 * the boot must stop rather than run something else (kernel/main.c). */
extern bool param_lab_refused, param_variant_refused, param_test_refused;

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
/*
 * The monitor's `run`: key=value words that may still change after boot
 * (variant= and the detector thresholds; the message for any other key
 * lists these). A watchdog_thresh= goes to *thresh (untouched otherwise),
 * for the caller to apply with watchdog_set_thresh(). Returns the number
 * of problems, each printed.
 */
int bootparams_parse_run(const char *line, int *thresh);

#endif
