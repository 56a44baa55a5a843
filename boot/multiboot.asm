; boot/multiboot.asm: the multiboot2 header GRUB reads, and a multiboot1 header for `qemu -kernel`.

; Both live in .multiboot, which the linker puts first in the image so the
; loaders find them: multiboot1 searches the first 8 KiB of the file
; (4-byte aligned), multiboot2 the first 32 KiB (8-byte aligned).

extern start32
extern __image_phys_start
extern __data_end_phys
extern __image_end_phys

section .multiboot

; --- Multiboot2 (GRUB's `multiboot2` command), spec section 3.1 ---
MB2_MAGIC equ 0xe85250d6
MB2_ARCH  equ 0                  ; i386 protected mode
align 8
global mb1_header, mb2_header
mb2_header:
    dd MB2_MAGIC
    dd MB2_ARCH
    dd mb2_header_end - mb2_header
    dd -(MB2_MAGIC + MB2_ARCH + (mb2_header_end - mb2_header))
    ; No address or framebuffer tags: GRUB loads the ELF segments at their
    ; physical addresses, jumps to the ELF entry and leaves VGA text mode.
    align 8
    dw 0, 0                      ; end tag: type 0, flags 0
    dd 8                         ; size 8
mb2_header_end:

; --- Multiboot1 with the address fields (flags bit 16), spec section 3.1.1 ---
; QEMU's -kernel loader refuses 64-bit ELF files but accepts any image whose
; header gives these physical addresses: it copies the file from the header's
; position onward to load_addr, zeroes up to bss_end_addr and jumps to
; entry_addr in 32-bit protected mode, like GRUB does.
MB1_MAGIC equ 0x1badb002
MB1_FLAGS equ (1 << 1) | (1 << 16)   ; memory map wanted, address fields valid
align 4
mb1_header:
    dd MB1_MAGIC
    dd MB1_FLAGS
    dd -(MB1_MAGIC + MB1_FLAGS)
    dd mb1_header                ; header_addr (.boot is linked at its physical address)
    dd __image_phys_start        ; load_addr
    dd __data_end_phys           ; load_end_addr
    dd __image_end_phys          ; bss_end_addr
    dd start32                   ; entry_addr

; No executable stack (silences ld's warning; the kernel has no such thing as a user stack).
section .note.GNU-stack noalloc noexec nowrite progbits
