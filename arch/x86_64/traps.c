/* arch/x86_64/traps.c: what each CPU exception means, and the dispatch of every vector from the entry stubs. */
#include "arch/x86_64/traps.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/dumpstack.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/stacks.h"
#include "kernel/printk.h"

/* The headline Linux prints for each exception (arch/x86/kernel/traps.c). */
static const char *const exception_names[X86_NR_EXCEPTIONS] = {
    [X86_TRAP_DE] = "divide error",
    [X86_TRAP_DB] = "debug",
    [X86_TRAP_NMI] = "NMI",
    [X86_TRAP_BP] = "int3",
    [X86_TRAP_OF] = "overflow",
    [X86_TRAP_BR] = "bounds",
    [X86_TRAP_UD] = "invalid opcode",
    [X86_TRAP_NM] = "device not available",
    [X86_TRAP_DF] = "double fault",
    [X86_TRAP_OLD_MF] = "coprocessor segment overrun",
    [X86_TRAP_TS] = "invalid TSS",
    [X86_TRAP_NP] = "segment not present",
    [X86_TRAP_SS] = "stack segment",
    [X86_TRAP_GP] = "general protection fault",
    [X86_TRAP_PF] = "page fault",
    [X86_TRAP_MF] = "coprocessor error",
    [X86_TRAP_AC] = "alignment check",
    [X86_TRAP_MC] = "machine check",
    [X86_TRAP_XF] = "SIMD coprocessor error",
    [X86_TRAP_VE] = "virtualization exception",
    [X86_TRAP_CP] = "control protection fault",
    [X86_TRAP_VC] = "VMM communication exception",
    [X86_TRAP_SX] = "security exception",
};

/* Page-fault error code bits (Intel SDM Vol. 3A 4.7, Figure 4-12). */
#define PF_PROT  (1 << 0)   /* 0: page not present, 1: protection violation */
#define PF_WRITE (1 << 1)
#define PF_USER  (1 << 2)
#define PF_RSVD  (1 << 3)
#define PF_INSTR (1 << 4)

/*
 * A kernel page fault is always a bug here (no user space, no demand
 * paging). Report it the way Linux's page_fault_oops() does.
 */
static void do_page_fault(struct pt_regs *regs)
{
    uint64_t address = read_cr2();
    uint64_t err = regs->error_code;
    struct stack_info guard;

    if (stack_guard_lookup(address, &guard)) {
        /* Only reached when the fault frame itself still fit on the stack. */
        printk(KERN_EMERG "BUG: %s stack guard page was hit at %px (stack is %px..%px)\n",
               stack_kind_name(guard.kind), (void *)address,
               (void *)guard.begin, (void *)guard.end);
        die("kernel stack overflow", regs, err);
    }
    if (address < PAGE_SIZE)
        printk(KERN_EMERG "BUG: kernel NULL pointer dereference, address: %016lx\n", address);
    else
        printk(KERN_EMERG "BUG: unable to handle page fault for address: %016lx\n", address);
    printk(KERN_EMERG "#PF: supervisor %s access in %s mode\n",
           (err & PF_INSTR) ? "instruction fetch" : (err & PF_WRITE) ? "write" : "read",
           (err & PF_USER) ? "user" : "kernel");
    printk(KERN_EMERG "#PF: error_code(0x%04lx) - %s\n", err,
           !(err & PF_PROT) ? "not-present page" :
           (err & PF_RSVD) ? "reserved bit violation" : "permissions violation");
    die(NULL, regs, err);
}

/*
 * A double fault arrives on its own IST stack. The usual cause in a kernel
 * is a stack overflow: the page fault on the guard page cannot push its own
 * frame onto the full stack, and that second fault becomes #DF (SDM Vol. 3A
 * 6.15, "Interrupt 8"). CR2 still holds the guard-page address.
 */
static void do_double_fault(struct pt_regs *regs)
{
    uint64_t address = read_cr2();
    struct stack_info guard;

    if (stack_guard_lookup(address, &guard)) {
        printk(KERN_EMERG "BUG: %s stack guard page was hit at %px (stack is %px..%px)\n",
               stack_kind_name(guard.kind), (void *)address,
               (void *)guard.begin, (void *)guard.end);
        die("kernel stack overflow (double-fault)", regs, regs->error_code);
    }
    printk(KERN_EMERG "PANIC: double fault, error_code: 0x%lx\n", regs->error_code);
    die("double fault", regs, regs->error_code);
}

static void do_exception(struct pt_regs *regs)
{
    switch (regs->vector) {
    case X86_TRAP_PF:
        do_page_fault(regs);
        break;
    case X86_TRAP_DF:
        do_double_fault(regs);
        break;
    case X86_TRAP_NMI:
        do_NMI(regs);
        break;
    default: {
        const char *name = exception_names[regs->vector];
        die(name ? name : "reserved exception", regs, regs->error_code);
    }
    }
}

void x86_dispatch(struct pt_regs *regs)
{
    if (regs->vector < X86_NR_EXCEPTIONS) {
        do_exception(regs);
        return;
    }
    do_IRQ(regs);
}
