#!/usr/bin/env python3
"""scripts/lab_campaign.py: every lab variant N times at each CPU count, the host busy or not; count the verdicts.

    scripts/lab_campaign.py [-n RUNS] [--cpus 2 4] [--hog] [--only PATTERN]
    make lab-campaign N=20 CAMPAIGN_CPUS="2 4" HOG=1 [JOBS=1] [DETERMINISTIC=0]

Two QEMUs at a time (--jobs), in the mode $DETERMINISTIC chooses
(deterministic by default: guest time is virtual, so a neighbour cannot
change a verdict; DETERMINISTIC=0: the CPUs run in parallel on host time,
where a busy host truly changes the timings). --hog runs a busy loop on every host
core for the whole campaign, the host as busy as it gets. Each variant's
runs must all reach the verdict its LAB_VARIANT line expects; a variant
that needs more CPUs than a count gives must be refused, every time. Prints
one row per variant and CPU count and exits 1 if any row disagrees.
"""
import argparse
import collections
import concurrent.futures
import fnmatch
import multiprocessing
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import console  # noqa: E402
import qemu  # noqa: E402

EXPECTED = {"LAB_REPRODUCED": "REPRODUCED", "LAB_NOT_REPRODUCED": "NOT REPRODUCED", "LAB_INVALID": "INVALID"}


def variants(top=qemu.TOP):
    """[(lab, variant, min_cpus, expected verdict)] from the LAB_VARIANT lines of labs/*/*.c."""
    found = []
    for lab, variant in qemu.lab_variants(top):
        for name in sorted(os.listdir(os.path.join(top, "labs", lab))):
            if not name.endswith(".c"):
                continue
            text = open(os.path.join(top, "labs", lab, name)).read()
            m = re.search(rf"^LAB_VARIANT\({lab},\s*{variant},\s*(\d+),\s*(\w+)", text, re.M)
            if m:
                found.append((lab, variant, int(m.group(1)), EXPECTED[m.group(2)]))
                break
    return found


def verdict(lab, variant, status, text):
    """What one run ended with: its verdict, "refused" (the lab would not start), or what else happened."""
    pattern = re.compile(rf"{re.escape(lab)}/{re.escape(variant)}: (REPRODUCED|NOT REPRODUCED|INVALID)")
    found = [m.group(1) for m in map(pattern.match, console.lines(text)) if m]
    if found:
        return found[-1]
    if qemu.status_name(status) == "badboot" and "needs" in text:
        return "refused"
    return f"no verdict ({qemu.status_name(status)})"


def hog():
    while True:
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=20, help="runs per variant and CPU count (default 20)")
    ap.add_argument("--cpus", type=int, nargs="+", default=[2, 4])
    ap.add_argument("--hog", action="store_true", help="a busy loop on every host core meanwhile")
    ap.add_argument("--only", default="", help="only lab/variant names matching this glob")
    ap.add_argument("--timeout", type=float, default=180)
    ap.add_argument("--jobs", type=int, choices=[1, 2], default=2,
                    help="QEMUs at a time: 2 (default) or 1 when the other host core is someone else's")
    a = ap.parse_args()
    runs = [(lab, v, cpus, need, want) for lab, v, need, want in variants() for cpus in a.cpus
            if not a.only or fnmatch.fnmatch(f"{lab}/{v}", a.only)]
    if not runs:
        sys.exit(f"lab-campaign: no variant matches '{a.only}'")
    try:
        mode = qemu.default_mode()
    except ValueError as e:
        sys.exit(f"lab-campaign: {e}")
    logdir = os.path.join("build", "campaign")
    os.makedirs(logdir, exist_ok=True)
    hogs = [multiprocessing.Process(target=hog, daemon=True) for _ in range(os.cpu_count() or 1)] if a.hog else []
    for h in hogs:
        h.start()

    def one(job):
        (lab, v, cpus, _, _), i = job
        log = os.path.join(logdir, f"{lab}-{v}-cpus{cpus}-{i}.log")
        status, text, _ = qemu.boot(f"lab={lab} variant={v}", cpus, timeout=a.timeout, log=log,
                                    mode=mode)
        return verdict(lab, v, status, text)

    start = time.monotonic()
    seen = collections.defaultdict(collections.Counter)
    jobs = [(r, i) for r in runs for i in range(1, a.n + 1)]
    try:
        with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
            for (r, _), got in zip(jobs, pool.map(one, jobs)):
                seen[r][got] += 1
    finally:
        for h in hogs:
            h.terminate()
    bad = 0
    print(f"{'variant':48s} cpus  expected         seen")
    for r in runs:
        lab, v, cpus, need, want = r
        expect = "refused" if cpus < need else want
        ok = set(seen[r]) == {expect}
        bad += not ok
        counts = ", ".join(f"{n} x {what}" for what, n in seen[r].most_common())
        print(f"{lab + '/' + v:48s} {cpus:4d}  {expect:15s}  {counts}{'' if ok else '   <-- DISAGREES'}")
    print(f"--- {len(jobs)} runs of {len(runs)} variant/CPU pairs, {a.n} each, "
          f"{mode} mode, {'with' if a.hog else 'without'} a busy loop on each of {os.cpu_count()} host cores, "
          f"in {time.monotonic() - start:.0f} s: {len(runs) - bad} pairs agree, {bad} disagree")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
