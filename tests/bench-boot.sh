#!/bin/bash
# tests/bench-boot.sh: wall time from starting QEMU to the monitor prompt, through GRUB and through -kernel.
#
# usage: tests/bench-boot.sh [RUNS]   (CPUS and ACCEL from the environment; default 4 and tcg)
# Prints the median and the range over RUNS boots for each path. A benchmark,
# not a test: the numbers go into notes, nothing asserts on them.
set -u
runs=${1:-10}; cpus=${CPUS:-4}; accel=${ACCEL:-tcg}
out=$(mktemp); trap 'rm -f "$out"' EXIT

time_to_prompt() { # $@: how to boot
    : > "$out"
    local start=$(date +%s%N)
    qemu-system-x86_64 -m 128M -smp "$cpus" -accel "$accel" -no-reboot -display none -monitor none \
        -serial file:"$out" -device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" 2>/dev/null &
    local pid=$! t=0
    until grep -q "irqlab> " "$out" 2>/dev/null; do
        sleep 0.005
        t=$(( ($(date +%s%N) - start) / 1000000 ))
        [ $t -gt 20000 ] && { echo timeout; kill $pid; wait $pid 2>/dev/null; return; }
    done
    echo $(( ($(date +%s%N) - start) / 1000000 ))
    kill $pid; wait $pid 2>/dev/null
}

report() { # $1: label, then the boot arguments
    local label=$1; shift
    local times=()
    for _ in $(seq "$runs"); do times+=("$(time_to_prompt "$@")"); done
    sorted=($(printf '%s\n' "${times[@]}" | sort -n))
    echo "$label: median ${sorted[$((runs / 2))]} ms, min ${sorted[0]} ms, max ${sorted[$((runs - 1))]} ms ($runs runs, CPUS=$cpus, $accel)"
}

report "GRUB ISO (multiboot2)" -cdrom build/irqlab.iso
report "qemu -kernel (multiboot1)" -kernel build/kernel.elf
