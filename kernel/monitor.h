/* kernel/monitor.h: the serial monitor (irqlab> prompt) and how subsystems add commands to it. */
#ifndef KERNEL_MONITOR_H
#define KERNEL_MONITOR_H

/*
 * A command. MONITOR_COMMAND() places one in the .monitor_cmds section
 * (linker.ld), so a subsystem adds its command next to its own code:
 *
 *     MONITOR_COMMAND(cpus, "list every CPU with its APIC id and state")
 *     {
 *         ... argc/argv as in C's main(); return 0 on success ...
 *     }
 */
struct monitor_cmd {
    const char *name;
    const char *help;
    int (*fn)(int argc, char **argv);
};

#define MONITOR_COMMAND(cname, chelp)                                          \
    static int monitor_cmd_fn_##cname(int argc, char **argv);                  \
    __attribute__((used, section(".monitor_cmds"), aligned(8)))                \
    static const struct monitor_cmd monitor_cmd_##cname = {                    \
        #cname, chelp, monitor_cmd_fn_##cname };                               \
    static int monitor_cmd_fn_##cname(int argc, char **argv)

/* Print the prompt, read lines, run commands; never returns. */
__attribute__((noreturn)) void monitor_run(void);

#endif
