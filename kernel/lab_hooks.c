/* kernel/lab_hooks.c: the lab hooks' switches and their descriptions (kernel/lab_hooks.h). */
#include "kernel/lab_hooks.h"
#include "kernel/bug.h"
#include "kernel/monitor.h"
#include "kernel/printk.h"
#include "kernel/string.h"

unsigned long lab_hooks;

static const struct {
    const char *name;
    const char *change;         /* what the hook does to the kernel */
    const char *linux_does;     /* what Linux does instead */
} hook_info[NR_LAB_HOOKS] = {
    [LAB_HOOK_IRQ_RESTORE_OPENS_WINDOW] = {
        "irq_restore_opens_window",
        "a restore in hardirq with saved IF=0 executes sti; nop; cli",
        "a restore executes sti only if the saved IF was 1" },
    [LAB_HOOK_LOCKDEP_SKIP_IRQ_SAVE_IN_HARDIRQ] = {
        "lockdep_skip_irq_save_in_hardirq",
        "lock_acquire()/lock_release() skip their irq save/restore in hardirq (seed 000's patch)",
        "they always save and restore" },
    [LAB_HOOK_CALL_FUNCTION_LOWVEC] = {
        "call_function_lowvec",
        "call-function IPIs on vectors 0x3b/0x3c (class 0x3)",
        "0xfb/0xfc (class 0xF, above every device)" },
    [LAB_HOOK_NO_HRTIMER_HANG_GUARD] = {
        "no_hrtimer_hang_guard",
        "hrtimer_interrupt() loops as long as timers keep expiring",
        "three passes, then it prints how long the interrupt took and pushes the next event out" },
};

const char *lab_hook_name(enum lab_hook hook)
{
    return hook < NR_LAB_HOOKS ? hook_info[hook].name : "(no such hook)";
}

char param_lab_hooks[8] = "auto";

bool lab_hooks_param_valid(const char *value)
{
    return strcmp(value, "auto") == 0 || strcmp(value, "off") == 0;
}

void lab_hook_set(enum lab_hook hook, bool on)
{
    if (WARN_ON_ONCE(hook >= NR_LAB_HOOKS))
        return;
    if (on && strcmp(param_lab_hooks, "off") == 0) {
        printk("lab: hook %s stays off (lab_hooks=off): the kernel does what Linux does\n", hook_info[hook].name);
        return;
    }
    if (on) {
        __atomic_fetch_or(&lab_hooks, 1UL << hook, __ATOMIC_SEQ_CST);
        printk("lab: hook %s on: %s; Linux: %s\n", hook_info[hook].name, hook_info[hook].change,
               hook_info[hook].linux_does);
    } else {
        __atomic_fetch_and(&lab_hooks, ~(1UL << hook), __ATOMIC_SEQ_CST);
    }
}

MONITOR_COMMAND(hooks, "the lab hooks: where a lab may make the kernel differ from Linux, and which are on")
{
    (void)argc; (void)argv;
    for (int h = 0; h < NR_LAB_HOOKS; h++)
        printk("%-34s %-3s %s; Linux: %s\n", hook_info[h].name, lab_hook(h) ? "ON" : "off",
               hook_info[h].change, hook_info[h].linux_does);
    return 0;
}
