#!/bin/bash
# tests/lab-repeat.sh: runs one lab variant N times and counts its verdicts; any disagreement is a failure.
#
# usage: tests/lab-repeat.sh LAB VARIANT CPUS N    (make lab-repeat LAB=... VARIANT=... CPUS=... N=...)
set -u
lab=$1; variant=$2; cpus=$3; n=$4
[ -n "$lab" ] && [ -n "$variant" ] || { echo "lab-repeat: give LAB= and VARIANT= (see the monitor's labs)"; exit 2; }
mkdir -p build/test-logs
declare -A seen
for i in $(seq "$n"); do
    log=build/test-logs/repeat-$lab-$variant-$cpus-$i.log
    timeout --kill-after=5 180 qemu-system-x86_64 -m 128M -smp "$cpus" -no-reboot -display none -monitor none \
        -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -kernel build/kernel.elf -append "lab=$lab variant=$variant" < /dev/null > "$log" 2>&1
    status=$?
    # The verdict may come from any CPU: lines from CPUs other than 0 carry a "[Cn] " prefix.
    verdict=$(tr -d '\r' < "$log" | grep -oE "^(\[C[0-9]+\] )?$lab/$variant: (REPRODUCED|NOT REPRODUCED)" |
              sed -E 's/^\[C[0-9]+\] //' | tail -1)
    [ -n "$verdict" ] || verdict="no verdict (QEMU status $status)"
    seen[$verdict]=$(( ${seen[$verdict]:-0} + 1 ))
    echo "run $i: $verdict"
done
echo "--- $lab/$variant at CPUS=$cpus, $n runs:"
for v in "${!seen[@]}"; do echo "  ${seen[$v]} x $v"; done
[ ${#seen[@]} = 1 ] && [[ "${!seen[*]}" != "no verdict"* ]]
