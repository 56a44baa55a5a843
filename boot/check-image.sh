#!/bin/sh
# boot/check-image.sh: checks the linked kernel is loadable by both loaders and its symbol table is right.
#
# usage: boot/check-image.sh build/kernel.elf build/kernel.pass1.elf
#  1. QEMU's multiboot1 loader copies the file as one flat range, so every
#     loadable segment must sit at the same (file offset - physical address).
#  2. The multiboot1 header must lie in the first 8 KiB, the multiboot2
#     header in the first 32 KiB of the file.
#  3. The embedded symbol table was made from the first link; the final link
#     must have every text symbol at the same address, or backtraces would lie.
set -eu
elf=$1
pass1=$2
fail() { echo "check-image: $elf: $*" >&2; exit 1; }

# Plain sh arithmetic, not gawk's strtonum: Debian's default awk is mawk.
deltas=$(readelf -lW "$elf" | awk '$1 == "LOAD" { print $2, $4, $5 }' |
         while read -r offset paddr filesz; do
             [ $((filesz)) -gt 0 ] && echo $((offset - paddr))
         done | sort -u)
[ -n "$deltas" ] || fail "no loadable segments"
[ "$(echo "$deltas" | wc -l)" -eq 1 ] || fail "segments are not linear in the file (offset - paddr differs: $deltas); see linker.ld"

off() { # file offset of symbol $1 in section .boot
    addr=$(nm "$elf" | awk -v s="$1" '$3 == s { print $1 }')
    [ -n "$addr" ] || fail "symbol $1 missing"
    echo $(( 0x$addr + $deltas ))
}
[ "$(off mb1_header)" -lt 8192 ] || fail "multiboot1 header past the first 8 KiB"
[ "$(off mb2_header)" -lt 32768 ] || fail "multiboot2 header past the first 32 KiB"

textsyms() { nm -n "$1" | awk '$2 == "t" || $2 == "T"' | grep -v ksym_ ; }
textsyms "$pass1" > "$elf.syms1"
textsyms "$elf" > "$elf.syms2"
cmp -s "$elf.syms1" "$elf.syms2" || { diff "$elf.syms1" "$elf.syms2" | head -5 >&2; fail "text symbols moved between the two links"; }
rm -f "$elf.syms1" "$elf.syms2"
