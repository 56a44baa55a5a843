; boot/trampoline.asm: the application processors' first code: real mode -> protected mode -> long mode -> C.

; An AP that receives a Startup IPI begins in real mode at CS:IP = VV00:0000,
; physical address VV000h, where VV is the SIPI's vector (Intel SDM Vol. 3A
; 9.4.4, "MP Initialization Example", and 9.4.4.2 "Typical AP Initialization
; Sequence"; editions before the APIC chapter became 11 number every chapter
; cited here one lower: 8.4.4, 9.9.1, 9.8.5). So this code must run from a
; page below 1 MiB. It is assembled into the kernel image (read-only, never
; run there) and arch/x86_64/smpboot.c copies it to TRAMPOLINE_BASE before
; the first SIPI. The whole thing is smaller than one page.
;
; Because it runs at TRAMPOLINE_BASE and not where the linker put it, every
; address below is written as TRAMPOLINE_BASE + (label - trampoline_start),
; a constant: the trampoline needs no relocation.
;
; The BSP fills the data area at the end (struct trampoline_data in
; smpboot.c, same layout) before each INIT-SIPI-SIPI: one AP at a time.

TRAMPOLINE_BASE equ 0x8000      ; must equal TRAMPOLINE_BASE in arch/x86_64/smpboot.h

CR0_PE   equ 1 << 0             ; protection enable
CR0_ET   equ 1 << 4             ; extension type (hard-wired to 1 on every CPU since the 486)
CR0_WP   equ 1 << 16            ; write protect: read-only pages bind the kernel too (as boot.asm)
CR0_PG   equ 1 << 31            ; paging
CR4_PAE  equ 1 << 5
MSR_EFER equ 0xc0000080

; Selectors in the temporary GDT below.
TR_CODE32 equ 0x08
TR_DATA   equ 0x10
TR_CODE64 equ 0x18

%define TR_ADDR(label) (TRAMPOLINE_BASE + ((label) - trampoline_start))

global trampoline_start
global trampoline_end
global trampoline_data

section .rodata
align 16
bits 16
trampoline_start:
    ; Real mode, CS = TRAMPOLINE_BASE >> 4, IP = 0. INIT left IF clear, but
    ; say so: nothing may interrupt us until the kernel's IDT is loaded.
    ; (An NMI cannot be masked; nobody sends one to a CPU that is booting.)
    cli
    mov ax, cs
    mov ds, ax                  ; so the lgdt operand below is an offset in this page

    ; Real mode -> protected mode (SDM Vol. 3A 10.9.1, "Switching to
    ; Protected Mode"): load a GDT, set CR0.PE, then a far jump at once, which
    ; loads CS from the new GDT and flushes the real-mode prefetch. The o32
    ; prefix makes lgdt take a full 32-bit base.
    o32 lgdt [tr_gdt_ptr - trampoline_start]
    ; Writing CR0 whole (not OR-ing into it) also clears CD and NW, which
    ; INIT leaves as they were (set at power-up; SDM Vol. 3A 10.1.1, Table
    ; 10-1): whatever the firmware did, the AP runs with its caches on.
    mov eax, CR0_PE | CR0_ET
    mov cr0, eax
    jmp dword TR_CODE32:TR_ADDR(tr_start32)

bits 32
tr_start32:
    mov ax, TR_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor ax, ax
    mov fs, ax
    mov gs, ax

    ; Protected mode -> IA-32e mode (SDM Vol. 3A 10.8.5, "Initializing IA-32e
    ; Mode"), the same four steps as boot/boot.asm: PAE on, CR3 = a PML4,
    ; EFER.LME, then CR0.PG, which activates long mode (EFER.LMA becomes 1).
    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax

    ; The boot tables (boot_pml4, boot/boot.asm): they identity-map the
    ; first 4 GiB, so this page stays where it is when paging turns on, and
    ; map the kernel at -2 GiB, where we jump next. They lie below 4 GiB, as
    ; a 32-bit mov to CR3 requires.
    mov eax, [TR_ADDR(tr_cr3)]
    mov cr3, eax

    ; EFER as the BSP has it, with LME, and NXE if the BSP uses no-execute
    ; page bits: without NXE, the kernel's tables (which set bit 63) would be
    ; reserved-bit page faults on this CPU.
    mov ecx, MSR_EFER
    mov eax, [TR_ADDR(tr_efer)]
    mov edx, [TR_ADDR(tr_efer) + 4]
    wrmsr

    mov eax, CR0_PE | CR0_ET | CR0_WP | CR0_PG
    mov cr0, eax

    ; Paging is on and we run in compatibility mode; a far jump to a code
    ; segment with L=1 enters 64-bit mode.
    jmp TR_CODE64:TR_ADDR(tr_start64)

bits 64
tr_start64:
    mov ax, TR_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax

    ; This CPU's kernel stack, and its C entry at -2 GiB (smpboot.c:
    ; start_secondary(cpu)), which never returns. The pushed 0 takes the
    ; place of a return address: with RBP = 0 it ends the frame-pointer chain,
    ; so a backtrace on this CPU stops there (dumpstack.c) instead of showing
    ; an address in this page, which the kernel's page tables do not map.
    ; The data area's absolute addresses are below 2 GiB: they fit a disp32.
    mov rsp, [TR_ADDR(tr_stack_top)]
    xor ebp, ebp
    mov edi, [TR_ADDR(tr_cpu)]
    mov rax, [TR_ADDR(tr_entry)]
    push 0
    jmp rax

; The temporary GDT: just what the mode switches need. gdt_init_cpu() in C
; replaces it with this CPU's own GDT and TSS.
align 16
tr_gdt:
    dq 0                        ; null
    dq 0x00cf9a000000ffff       ; 0x08 32-bit code, base 0, limit 4 GiB
    dq 0x00cf92000000ffff       ; 0x10 data, base 0, limit 4 GiB
    dq 0x00af9a000000ffff       ; 0x18 64-bit code (L=1)
tr_gdt_end:
tr_gdt_ptr:
    dw tr_gdt_end - tr_gdt - 1
    dd TR_ADDR(tr_gdt)

; The data area: struct trampoline_data in arch/x86_64/smpboot.c.
align 8
trampoline_data:
tr_base:      dd TRAMPOLINE_BASE ; where this code expects to run; smpboot.c checks it
tr_cr3:       dd 0               ; physical address of boot_pml4
tr_efer:      dq 0               ; the BSP's EFER, without LMA (the CPU sets that)
tr_stack_top: dq 0               ; top of this AP's kernel stack
tr_entry:     dq 0               ; the C entry point, a -2 GiB address
tr_cpu:       dq 0               ; this AP's logical CPU number
trampoline_end:

; No executable stack (silences ld's warning).
section .note.GNU-stack noalloc noexec nowrite progbits
