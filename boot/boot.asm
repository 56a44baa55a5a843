; boot/boot.asm: 32-bit multiboot entry; checks the CPU, builds boot page tables, enters long mode.

; The loader leaves us in 32-bit protected mode with paging off, EAX = the
; multiboot magic and EBX = the physical address of its information block
; (multiboot spec 3.2). To run C at -2 GiB we must (Intel SDM Vol. 3A 10.8.5,
; "Initializing IA-32e Mode"): enable PAE, load CR3 with a 4-level table,
; set EFER.LME, enable paging, then far-jump into a 64-bit code segment.

KERNEL_VMA     equ 0xffffffff80000000
COM1           equ 0x3f8
QEMU_EXIT_PORT equ 0xf4          ; isa-debug-exit, see drivers/qemu_exit.h
QEMU_EXIT_FAIL equ 0x11

extern kernel_main
global start32
global boot_pml4
extern boot_stack_top_ptr

section .boot.text
bits 32
start32:
    cli
    cld
    mov esp, boot32_stack_top    ; a tiny stack for the checks below
    mov edi, eax                 ; keep the magic and info pointer for C
    mov esi, ebx

    call serial32_init

    ; Long mode needs CPUID leaf 0x80000001 EDX bit 29 (SDM Vol. 2A, CPUID).
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_long_mode
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29
    jz .no_long_mode

    call build_page_tables

    mov eax, cr4
    or eax, 1 << 5               ; CR4.PAE
    mov cr4, eax
    mov eax, boot_pml4
    mov cr3, eax
    mov ecx, 0xc0000080          ; IA32_EFER
    rdmsr
    or eax, 1 << 8               ; EFER.LME: long mode enable
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | (1 << 16); CR0.PG, and CR0.WP so read-only pages bind the kernel too
    mov cr0, eax

    lgdt [boot_gdt_ptr]
    jmp 0x10:start64_low         ; selector 0x10 = 64-bit kernel code, as in Linux

.no_long_mode:
    mov esi, msg_no_long_mode
    jmp boot32_fail

; Identity-map the first 4 GiB (so this code, the multiboot information and
; the APIC registers stay reachable) and map the first 2 GiB again at
; KERNEL_VMA, all with 2 MiB pages. kernel/main.c replaces these tables with
; the final ones (arch/x86_64/paging.c) as soon as C runs.
build_page_tables:
    mov dword [boot_pml4], boot_pdpt_low + 3           ; present | writable
    mov dword [boot_pml4 + 511 * 8], boot_pdpt_high + 3
    mov ecx, 0
.pdpt:
    mov eax, ecx
    shl eax, 12
    add eax, boot_pd + 3
    mov [boot_pdpt_low + ecx * 8], eax                 ; 0..3 -> four PDs
    inc ecx
    cmp ecx, 4
    jne .pdpt
    mov dword [boot_pdpt_high + 510 * 8], boot_pd + 3            ; -2 GiB -> 0 GiB
    mov dword [boot_pdpt_high + 511 * 8], boot_pd + 4096 + 3     ; -1 GiB -> 1 GiB
    mov ecx, 0
.pd:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83                 ; present | writable | 2 MiB page (PS)
    mov [boot_pd + ecx * 8], eax
    mov eax, ecx
    shr eax, 11                  ; high half of the physical address (above 4 GiB: none)
    mov [boot_pd + ecx * 8 + 4], eax
    inc ecx
    cmp ecx, 2048                ; 4 PDs of 512 entries = 4 GiB
    jne .pd
    ret

; Print the NUL-terminated message at ESI on COM1, then leave QEMU with the
; failure code (if isa-debug-exit is present) or halt.
boot32_fail:
    mov ebx, msg_prefix
    call serial32_puts
    mov ebx, esi
    call serial32_puts
    mov dx, QEMU_EXIT_PORT
    mov al, QEMU_EXIT_FAIL
    out dx, al
.halt:
    hlt
    jmp .halt

serial32_init:                   ; 115200 8N1, FIFOs on; same settings as drivers/serial.c
    mov dx, COM1 + 1
    xor al, al
    out dx, al                   ; no UART interrupts
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al                   ; DLAB on
    mov dx, COM1
    mov al, 1
    out dx, al                   ; divisor 1 = 115200 baud
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x03
    out dx, al                   ; 8N1, DLAB off
    ret

serial32_puts:                   ; EBX = string
    mov al, [ebx]
    test al, al
    jz .done
    mov ah, al
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20                ; transmit holding register empty
    jz .wait
    mov dx, COM1
    mov al, ah
    out dx, al
    inc ebx
    jmp serial32_puts
.done:
    ret

bits 64
start64_low:
    ; Still running at the low (identity) address; jump to the -2 GiB alias.
    mov rax, start64_high
    jmp rax

section .text
start64_high:
    mov ax, 0x18                 ; kernel data segment
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor ax, ax
    mov fs, ax
    mov gs, ax
    mov rsp, [boot_stack_top_ptr] ; CPU 0's kernel stack (arch/x86_64/stacks.c)
    xor ebp, ebp                 ; ends the frame-pointer chain for backtraces
    ; kernel_main(uint32_t magic, uint64_t info_phys): System V ABI, EDI and RSI.
    mov edi, edi
    mov esi, esi
    call kernel_main
.halt:
    cli
    hlt
    jmp .halt

section .boot.data
msg_prefix:       db "irqlab: cannot boot: ", 0
msg_no_long_mode: db "this CPU has no 64-bit long mode (CPUID 0x80000001 EDX bit 29)", 13, 10, 0

align 8
boot_gdt:
    dq 0                         ; 0x00 null
    dq 0                         ; 0x08 unused (Linux keeps a 32-bit code segment here)
    dq 0x00af9a000000ffff        ; 0x10 64-bit code: L=1, present, DPL 0
    dq 0x00cf92000000ffff        ; 0x18 data: writable, present
boot_gdt_end:
boot_gdt_ptr:
    dw boot_gdt_end - boot_gdt - 1
    dd boot_gdt

align 16
    times 256 db 0
boot32_stack_top:

align 4096
boot_pml4:      times 4096 db 0
boot_pdpt_low:  times 4096 db 0
boot_pdpt_high: times 4096 db 0
boot_pd:        times 4 * 4096 db 0

; No executable stack (silences ld's warning; the kernel has no such thing as a user stack).
section .note.GNU-stack noalloc noexec nowrite progbits
