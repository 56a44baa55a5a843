#!/usr/bin/env python3
"""scripts/lab_repeat.py: run one lab variant N times and count its verdicts; any disagreement is a failure.

    scripts/lab_repeat.py [--cpus N] [-n RUNS] LAB VARIANT     (make lab-repeat LAB=... VARIANT=... CPUS=... N=...)
"""
import argparse
import collections
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import console  # noqa: E402
import qemu  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("-n", type=int, default=20, help="runs (default 20)")
    ap.add_argument("--timeout", type=float, default=180)
    ap.add_argument("lab")
    ap.add_argument("variant")
    a = ap.parse_args()
    if not a.lab or not a.variant:
        sys.exit("lab-repeat: give LAB= and VARIANT= (the monitor's `labs` lists them)")
    try:
        mode = qemu.default_mode(os.environ.get("ACCEL", "tcg"))
    except ValueError as e:
        sys.exit(f"lab-repeat: {e}")
    os.makedirs(os.path.join("build", "test-logs"), exist_ok=True)
    seen = collections.Counter()
    for i in range(1, a.n + 1):
        log = os.path.join("build", "test-logs", f"repeat-{a.lab}-{a.variant}-{a.cpus}-{i}.log")
        status, text, _ = qemu.boot(f"lab={a.lab} variant={a.variant}", a.cpus, timeout=a.timeout, log=log, mode=mode)
        # The verdict may come from any CPU: it is read after the printk prefix.
        verdict_re = re.compile(rf"({re.escape(a.lab)}/{re.escape(a.variant)}: (?:REPRODUCED|NOT REPRODUCED|INVALID))")
        found = [m.group(1) for m in map(verdict_re.match, console.lines(text)) if m]
        verdict = found[-1] if found else f"no verdict ({qemu.explain(status)})"
        seen[verdict] += 1
        print(f"run {i}: {verdict}", flush=True)
    print(f"--- {a.lab}/{a.variant} at CPUS={a.cpus}, {mode} mode, {a.n} runs:")
    for v, n in seen.items():
        print(f"  {n} x {v}")
    sys.exit(0 if len(seen) == 1 and not next(iter(seen)).startswith("no verdict") else 1)


if __name__ == "__main__":
    main()
