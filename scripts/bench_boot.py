#!/usr/bin/env python3
"""scripts/bench_boot.py: wall time from starting QEMU to the monitor prompt, through GRUB and through -kernel,
in each clock mode (deterministic and parallel).

    scripts/bench_boot.py [RUNS]      (CPUS and ACCEL from the environment; default 4 and tcg)

Prints the median and the range over RUNS boots for each path. A benchmark,
not a test: the numbers go into notes, nothing asserts on them.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402


def time_to_prompt(argv):
    start = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         env=qemu.qemu_env())
    seen = b""
    try:
        while b"irqlab> " not in seen:
            chunk = p.stdout.read1(4096)
            if not chunk or time.monotonic() - start > 20:
                return None
            seen += chunk
        return (time.monotonic() - start) * 1000
    finally:
        p.kill()
        p.wait()


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    cpus, accel = int(os.environ.get("CPUS", 4)), os.environ.get("ACCEL", "tcg")
    paths = (("GRUB ISO (multiboot2)", "iso", {"iso": os.path.join("build", "irqlab.iso")}),
             ("qemu -kernel (multiboot1)", "kernel", {}))
    modes = qemu.MODES if accel == "tcg" else ("parallel",)
    for (label, boot, extra), mode in ((p, m) for m in modes for p in paths):
        label = f"{label}, {mode}"
        argv = qemu.qemu_argv(cpus, accel, boot, "", mode=mode, **extra)
        times = sorted(t for t in (time_to_prompt(argv) for _ in range(runs)) if t is not None)
        if not times:
            print(f"{label}: no prompt within 20 s")
            continue
        print(f"{label}: median {times[len(times) // 2]:.0f} ms, min {times[0]:.0f} ms, max {times[-1]:.0f} ms "
              f"({len(times)} of {runs} runs, CPUS={cpus}, {accel})")


if __name__ == "__main__":
    main()
