#!/bin/bash
# tests/qemu-run.sh: boots irqlab once in QEMU with a hard timeout and judges the run.
#
# usage: tests/qemu-run.sh NAME [options] [-- KERNEL COMMAND LINE]
#   --cpus N            vCPUs, 1 to 8 (default: $CPUS or 2)
#   --accel tcg|kvm     accelerator (default: $ACCEL or tcg)
#   --boot kernel|iso   `qemu -kernel build/kernel.elf` (multiboot1, fast) or the GRUB ISO
#   --timeout S         hard limit in seconds (default 60)
#   --exit pass|fail|badboot|detector|reboot|reproduced|not-reproduced   the QEMU exit expected (default pass)
#   --ktap              parse KTAP: plan, every case, numbering; one result line per case
#   --expect TEXT       a line containing TEXT must appear (repeatable, in any order)
#   --reject TEXT       no line may contain TEXT (repeatable)
#   --input FILE        bytes typed into the serial console
#   --qemu-arg ARG      one more QEMU argument (repeatable), e.g. a -device loader
#
# Prints one line per check, "PASS NAME[/case]" or "FAIL NAME[/case]: why",
# which tests/run-all.sh counts; the serial log is kept in build/test-logs/NAME.log.
set -u
name=$1; shift
cpus=${CPUS:-2}; accel=${ACCEL:-tcg}; boot=kernel; timeout=60; want_exit=pass
ktap=0; input=/dev/null; expects=(); rejects=(); extra=(); cmdline=""
while [ $# -gt 0 ]; do
    case $1 in
        --cpus) cpus=$2; shift 2 ;;
        --accel) accel=$2; shift 2 ;;
        --boot) boot=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --exit) want_exit=$2; shift 2 ;;
        --ktap) ktap=1; shift ;;
        --expect) expects+=("$2"); shift 2 ;;
        --reject) rejects+=("$2"); shift 2 ;;
        --input) input=$2; shift 2 ;;
        --qemu-arg) extra+=("$2"); shift 2 ;;
        --) shift; cmdline="$*"; break ;;
        *) echo "qemu-run.sh: unknown option '$1'; see the usage at the top of the script" >&2; exit 2 ;;
    esac
done
case $cpus in [1-8]) ;; *) echo "qemu-run.sh: CPUS=$cpus is not valid; use 1 to 8" >&2; exit 2 ;; esac
case $accel in tcg|kvm) ;; *) echo "qemu-run.sh: ACCEL=$accel is not valid; use tcg or kvm" >&2; exit 2 ;; esac

logdir=build/test-logs
mkdir -p "$logdir"
log=$logdir/$name.log
qlog=$logdir/$name.qemu.log

qemu=(qemu-system-x86_64 -m 128M -smp "$cpus" -accel "$accel" -no-reboot
      -display none -monitor none -serial stdio
      -device isa-debug-exit,iobase=0xf4,iosize=0x04
      -d cpu_reset,guest_errors -D "$qlog" ${extra[@]+"${extra[@]}"})
case $boot in
    kernel) qemu+=(-kernel build/kernel.elf -append "$cmdline") ;;
    iso)    # GRUB boots its first entry; give it one with this command line.
            isodir=build/test-iso/$name
            mkdir -p "$isodir/boot/grub"
            cp build/kernel.elf "$isodir/boot/kernel.elf"
            printf 'serial --unit=0 --speed=115200\nterminal_input serial\nterminal_output serial\nset timeout=0\nmenuentry "irqlab test" {\n    multiboot2 /boot/kernel.elf %s\n}\n' "$cmdline" > "$isodir/boot/grub/grub.cfg"
            grub-mkrescue -d /usr/lib/grub/i386-pc -o "build/test-iso/$name.iso" "$isodir" 2>/dev/null ||
                { echo "FAIL $name: grub-mkrescue failed"; exit 0; }
            qemu+=(-cdrom "build/test-iso/$name.iso") ;;
    *) echo "qemu-run.sh: --boot must be kernel or iso" >&2; exit 2 ;;
esac

start=$(date +%s%N)
timeout --kill-after=5 "$timeout" "${qemu[@]}" < "$input" > "$log" 2>&1
status=$?
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
tr -d '\r' < "$log" > "$log.tmp" && mv "$log.tmp" "$log"

fail() { echo "FAIL $name: $*"; echo "     log: $log"; tail -n 15 "$log" | sed 's/^/     | /'; }

# 1. How did QEMU end? isa-debug-exit gives (code << 1) | 1 (drivers/qemu_exit.h).
case $status in
    33) got=pass ;; 35) got=fail ;; 37) got=badboot ;; 39) got=detector ;;
    41) got=reproduced ;; 43) got=not-reproduced ;;
    124|137) fail "timed out after ${timeout}s (hang or deadlock)"; exit 0 ;;
    0)  if grep -q "Triple fault" "$qlog" 2>/dev/null; then got=triplefault; else got=reboot; fi ;;
    *)  got="status$status" ;;
esac
if [ "$got" = triplefault ]; then
    fail "triple fault: the CPU reset itself (see $qlog)"; exit 0
fi
if [ "$got" != "$want_exit" ]; then
    fail "QEMU ended with '$got' (status $status), expected '$want_exit'"; exit 0
fi

ok=1
for e in "${expects[@]+"${expects[@]}"}"; do
    grep -qF -- "$e" "$log" || { fail "missing expected line: $e"; ok=0; }
done
for r in "${rejects[@]+"${rejects[@]}"}"; do
    grep -qF -- "$r" "$log" && { fail "unexpected line: $(grep -F -m1 -- "$r" "$log")"; ok=0; }
done

# 2. KTAP: "KTAP version 1", a plan "1..N", then exactly N results numbered 1..N.
if [ $ktap = 1 ]; then
    if ! grep -qx "KTAP version 1" "$log"; then fail "no 'KTAP version 1' header"; exit 0; fi
    plan=$(grep -m1 -E '^1\.\.[0-9]+$' "$log" | cut -d. -f3)
    if [ -z "$plan" ]; then fail "no KTAP plan line (1..N)"; exit 0; fi
    n=0
    while read -r line; do
        n=$((n + 1))
        num=$(echo "$line" | sed -E 's/^(not )?ok ([0-9]+) .*/\2/')
        case=$(echo "$line" | sed -E 's/^(not )?ok [0-9]+ //')
        if [ "$num" != "$n" ]; then fail "KTAP result numbered $num, expected $n"; ok=0; fi
        case $line in
            "not ok"*) fail "$case"; ok=0 ;;
            *) echo "PASS $name/$case" ;;
        esac
    done < <(grep -E '^(not )?ok [0-9]+ ' "$log")
    if [ "$n" != "$plan" ]; then fail "KTAP plan said $plan cases, $n reported"; ok=0; fi
fi
[ $ok = 1 ] && echo "PASS $name (${elapsed_ms} ms)"
exit 0
