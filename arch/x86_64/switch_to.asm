; arch/x86_64/switch_to.asm: the context switch: leave one kernel thread's stack, continue on another's.

; struct task_struct *switch_to(struct task_struct *prev, struct task_struct *next)
;
; Called by __schedule() (kernel/sched.c) with IRQs off and the run queue
; locked. Saves prev's callee-saved registers on prev's own stack, stores
; prev's RSP in prev->rsp, loads next->rsp and pops next's registers: the
; `ret` then returns into wherever next called switch_to() from, long ago.
; It returns prev (in RAX) to next, which has no other way to know who ran
; before it (its own locals say who ran before IT, the last time).
;
; Why only RBX, RBP, R12-R15 (and RSP)? switch_to() is an ordinary function
; call, and the System V AMD64 ABI (3.2.1, "Registers") lets any called
; function clobber RAX, RCX, RDX, RSI, RDI, R8-R11 and the flags: the
; compiler has already kept whatever it needs of them somewhere else before
; the call. Only the callee-saved registers must look unchanged when the
; call returns, and for next they must be what they were when next called
; switch_to(). Nothing else needs saving here either:
;  - the registers of code that an interrupt preempted are already saved in
;    the struct pt_regs on that task's stack (arch/x86_64/entry.asm), and the
;    iretq at the end of that interrupt restores them, RFLAGS (IF) included;
;  - IF itself: every task calls switch_to() with IRQs off and, once back,
;    restores the flags it saved on its own stack (kernel/sched.c);
;  - DF is clear at every call (the ABI again);
;  - no FPU/SSE state (-mgeneral-regs-only), no user mode, one CR3 for all,
;    and a task never changes CPU, so the GS base (per-CPU data) is right.
; The TSS needs no update either: its RSP0 is only used on a switch from
; ring 3, and irqlab has no ring 3; interrupts arrive on the current stack.

; Sizes, so backtraces print "ret_from_kthread+0x8/0xe" like any C function.
global switch_to:function (switch_to.end - switch_to)
global ret_from_kthread:function (ret_from_kthread.end - ret_from_kthread)
extern kthread_start

TASK_RSP equ 0                   ; offsetof(struct task_struct, rsp), checked by kernel/sched.c

section .text
bits 64

switch_to:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov [rdi + TASK_RSP], rsp    ; prev is now frozen: everything it needs is on its stack
    mov rsp, [rsi + TASK_RSP]    ; from here on we run on next's stack
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    mov rax, rdi                 ; return prev
    ret
.end:

; A new thread's first `ret` from switch_to lands here (kernel/sched.c builds
; its stack so): RAX holds prev. kthread_start() finishes the switch, runs
; the thread's function and never returns. RSP is 16-byte aligned here, so
; the call leaves it as the ABI wants at a function's entry.
ret_from_kthread:
    mov rdi, rax                 ; kthread_start(prev)
    call kthread_start
    ud2                          ; not reached
.end:

; No executable stack (silences ld's warning).
section .note.GNU-stack noalloc noexec nowrite progbits
