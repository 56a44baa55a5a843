; arch/x86_64/entry.asm: the 256 IDT entry stubs; each saves a full struct pt_regs and calls C.

; On an interrupt or exception the CPU pushes SS, RSP, RFLAGS, CS, RIP and,
; for some exceptions, an error code (Intel SDM Vol. 3A 6.14.2, "64-Bit Mode
; Stack Frame"). Each stub below makes the frame uniform (a 0 error code where
; the CPU pushes none), pushes its vector number, and jumps to common code
; that saves the general registers in the order of struct pt_regs
; (arch/x86_64/traps.h) and calls x86_dispatch(regs).

extern x86_dispatch
global isr_stub_table
global isr_return_address

section .text
bits 64

; Vectors for which the CPU pushes an error code: #DF 8, #TS 10, #NP 11,
; #SS 12, #GP 13, #PF 14, #AC 17, #CP 21, #VC 29, #SX 30.
%assign v 0
%rep 256
align 16
isr_stub_%[v]:
%if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30
%else
    push 0                       ; no error code from the CPU: keep the frame uniform
%endif
    push v                       ; vector number
    jmp isr_common
%assign v v + 1
%endrep

isr_common:
    ; Save the general registers; struct pt_regs lists them in reverse.
    push rdi
    push rsi
    push rdx
    push rcx
    push rax
    push r8
    push r9
    push r10
    push r11
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    cld                          ; the C ABI wants DF clear on entry
    mov rdi, rsp                 ; x86_dispatch(struct pt_regs *regs)
    ; 22 quadwords are on the stack and the CPU aligned RSP to 16 before
    ; pushing its frame, so RSP is 16-byte aligned here, as calls need.
    call x86_dispatch
isr_return_address:              ; the unwinder recognises interrupt frames by this return address
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    pop r11
    pop r10
    pop r9
    pop r8
    pop rax
    pop rcx
    pop rdx
    pop rsi
    pop rdi
    add rsp, 16                  ; drop vector and error code
    iretq                        ; restores RIP, CS, RFLAGS (and so IF), RSP, SS

section .rodata
align 8
isr_stub_table:
%assign v 0
%rep 256
    dq isr_stub_%[v]
%assign v v + 1
%endrep

; No executable stack (silences ld's warning; the kernel has no such thing as a user stack).
section .note.GNU-stack noalloc noexec nowrite progbits
