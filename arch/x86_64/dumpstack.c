/* arch/x86_64/dumpstack.c: register dumps, symbolized backtraces and the oops report. */
#include "arch/x86_64/dumpstack.h"
#include "kernel/sched.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/stacks.h"
#include "kernel/ksyms.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/vsprintf.h"

void format_eflags(char *buf, unsigned long size, uint64_t rflags)
{
    static const struct { uint64_t bit; const char *name; } names[] = {
        { X86_EFLAGS_ID, "ID" }, { X86_EFLAGS_AC, "AC" }, { X86_EFLAGS_RF, "RF" },
        { X86_EFLAGS_NT, "NT" }, { X86_EFLAGS_OF, "OF" }, { X86_EFLAGS_DF, "DF" },
        { X86_EFLAGS_IF, "IF" }, { X86_EFLAGS_TF, "TF" }, { X86_EFLAGS_SF, "SF" },
        { X86_EFLAGS_ZF, "ZF" }, { X86_EFLAGS_AF, "AF" }, { X86_EFLAGS_PF, "PF" },
        { X86_EFLAGS_CF, "CF" },
    };
    unsigned long used = 0;

    buf[0] = '\0';
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        if ((rflags & names[i].bit) && used < size)
            used += (unsigned long)ksnprintf(buf + used, size - used, "%s%s",
                                             used ? " " : "", names[i].name);
    }
}

void show_regs(const struct pt_regs *regs)
{
    char flags[64];

    format_eflags(flags, sizeof flags, regs->rflags);
    printk(KERN_EMERG "RIP: %04lx:%pS\n", regs->cs, (void *)regs->rip);
    /* Linux prints EFLAGS as a number; irqlab names the bits, IF first of all,
     * because whether interrupts were on is the question in every lab. */
    printk(KERN_EMERG "RSP: %04lx:%016lx EFLAGS: %08lx [%s%s ] IF=%d (interrupts %s)\n",
           regs->ss, regs->rsp, regs->rflags, flags[0] ? " " : "", flags,
           (regs->rflags & X86_EFLAGS_IF) ? 1 : 0,
           (regs->rflags & X86_EFLAGS_IF) ? "enabled" : "disabled");
    printk(KERN_EMERG "RAX: %016lx RBX: %016lx RCX: %016lx\n", regs->rax, regs->rbx, regs->rcx);
    printk(KERN_EMERG "RDX: %016lx RSI: %016lx RDI: %016lx\n", regs->rdx, regs->rsi, regs->rdi);
    printk(KERN_EMERG "RBP: %016lx R08: %016lx R09: %016lx\n", regs->rbp, regs->r8, regs->r9);
    printk(KERN_EMERG "R10: %016lx R11: %016lx R12: %016lx\n", regs->r10, regs->r11, regs->r12);
    printk(KERN_EMERG "R13: %016lx R14: %016lx R15: %016lx\n", regs->r13, regs->r14, regs->r15);
    printk(KERN_EMERG "CR0: %016lx CR2: %016lx CR3: %016lx\n", read_cr0(), read_cr2(), read_cr3());
    printk(KERN_EMERG "CR4: %016lx GS base: %016lx\n", read_cr4(), rdmsr(MSR_GS_BASE));
}

/* One backtrace line. A return address points after its call, so look up
 * addr - 1 (the call itself) but show the real offset, as Linux's %pB does. */
static void print_frame(uint64_t addr, bool is_return)
{
    uint64_t off;
    const struct ksym *s = ksym_lookup(is_return ? addr - 1 : addr, &off);

    if (!s)
        printk(KERN_EMERG " 0x%016lx\n", addr);
    else
        printk(KERN_EMERG " %s+0x%lx/0x%lx\n", s->name, off + (is_return ? 1 : 0), s->size);
}

#define MAX_FRAMES 32

/*
 * Follow the frame-pointer chain (every C function starts with
 * push %rbp; mov %rsp,%rbp, thanks to -fno-omit-frame-pointer): at [rbp]
 * the caller's rbp, at [rbp + 8] the return address. Trust a frame only if
 * it lies on the stack that holds rsp, above the previous one, and aligned,
 * so a corrupt chain ends the walk instead of faulting inside an oops.
 */
static unsigned unwind(uint64_t rbp, uint64_t rsp, uint64_t *out, uint64_t *out_rbp, unsigned max)
{
    struct stack_info info;
    unsigned n = 0;

    /* After a stack overflow RSP is already in the guard page; the frames
     * are still on the stack, so find it through RBP instead. */
    if (!stack_lookup(rsp, &info) && !stack_lookup(rbp, &info))
        return 0;
    while (n < max) {
        if (rbp < info.begin || rbp + 16 > info.end || (rbp & 7))
            break;
        uint64_t ret = ((uint64_t *)rbp)[1];
        uint64_t next = ((uint64_t *)rbp)[0];
        if (ret == 0)
            break;
        if (out_rbp)
            out_rbp[n] = rbp;
        out[n++] = ret;
        if (next <= rbp)
            break;
        rbp = next;
    }
    return n;
}

unsigned stack_trace_save(uint64_t *entries, unsigned max)
{
    uint64_t rbp, rsp;

    __asm__ volatile("mov %%rbp, %0; mov %%rsp, %1" : "=r"(rbp), "=r"(rsp));
    return unwind(rbp, rsp, entries, NULL, max);
}

extern const char isr_return_address[];     /* arch/x86_64/entry.asm */

void show_trace(uint64_t rip, uint64_t rbp, uint64_t rsp)
{
    struct stack_info info;
    bool known = stack_lookup(rsp, &info) || stack_lookup(rbp, &info);
    const char *kind = known ? stack_kind_name(info.kind) : "?";
    uint64_t frames[MAX_FRAMES], frame_rbp[MAX_FRAMES];
    unsigned n = unwind(rbp, rsp, frames, frame_rbp, MAX_FRAMES);

    printk(KERN_EMERG "Call Trace:\n");
    printk(KERN_EMERG " <%s>\n", kind);
    print_frame(rip, false);
    for (unsigned i = 0; i < n; i++) {
        print_frame(frames[i], true);
        /*
         * Interrupts run on the stack they arrive on, so the chain goes on
         * into the code they interrupted. A return into the entry stub marks
         * the spot: x86_dispatch's frame sits right on top of the saved
         * struct pt_regs, whose RIP is where the interrupt landed.
         */
        if (frames[i] == (uint64_t)isr_return_address) {
            const struct pt_regs *regs = (const struct pt_regs *)(frame_rbp[i] + 16);
            printk(KERN_EMERG " --- interrupt: vector %#lx, arrived with IF=%d ---\n",
                   regs->vector, (regs->rflags & X86_EFLAGS_IF) ? 1 : 0);
            print_frame(regs->rip, false);
        }
    }
    printk(KERN_EMERG " </%s>\n", kind);
}

void dump_stack(void)
{
    uint64_t rbp, rsp;

    __asm__ volatile("mov %%rbp, %0; mov %%rsp, %1" : "=r"(rbp), "=r"(rsp));
    printk(KERN_EMERG "CPU: %u PID: %d Comm: %s\n", smp_processor_id(), current_pid(), current_comm());
    /* Start at our caller: its return address, and its frame (saved at [rbp]). */
    show_trace((uint64_t)__builtin_return_address(0), ((uint64_t *)rbp)[0], rsp);
}

static int die_counter;

void die(const char *str, struct pt_regs *regs, uint64_t err)
{
    unsigned cpu = smp_processor_id();

    die_counter++;
    if (str)
        printk(KERN_EMERG "Oops: %s: %04lx [#%d] SMP\n", str, err & 0xffff, die_counter);
    else
        printk(KERN_EMERG "Oops: %04lx [#%d] SMP\n", err & 0xffff, die_counter);
    printk(KERN_EMERG "CPU: %u PID: %d Comm: %s\n", cpu, current_pid(), current_comm());
    show_regs(regs);
    show_trace(regs->rip, regs->rbp, regs->rsp);
    printk(KERN_EMERG "---[ end trace %016lx ]---\n", rdtsc());
    panic("Fatal exception");
}
