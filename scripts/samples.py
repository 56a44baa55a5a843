#!/usr/bin/env python3
"""scripts/samples.py: the lab pages' sample output, made by booting exactly what `make run` boots.

    scripts/samples.py [--check] [README.md...]      (make samples; make test checks them)

A lab page (labs/NAME/README.md) shows what a run prints between two marker
lines, which name the run:

    <!-- BEGIN OUTPUT make run LAB=stall VARIANT=lock_spin CPUS=4 -->
    ```
    ...
    ```
    <!-- END OUTPUT -->

`make samples` boots each named run the way `make run` does in deterministic
mode (the kernel directly, Linux's detector thresholds: qemu.run_cmdline()) and
writes the lab's part of the output between the markers: the lab's own
lines, its timeline and its verdict. With --check it writes nothing and
fails if a page differs from what the runs print now.

A student's `make run` prints the same. At one CPU that holds to the byte;
with more, QEMU's round-robin can move a stamp (docs/deterministic.md), and
two events close in time can swap places, so the check holds the text of
every line and lets only the numbers and that order differ.
"""
import argparse
import concurrent.futures
import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import console  # noqa: E402
import qemu  # noqa: E402

BEGIN = re.compile(r"^<!-- BEGIN OUTPUT make run LAB=(\w+) VARIANT=(\w+) CPUS=([1-8]) -->$")
END = "<!-- END OUTPUT -->"
NUMBER = re.compile(r"0x[0-9a-f]+|\d+(?:\.\d+)?")     # hex too: code offsets move when the kernel changes
MATCH = {"identical": "the page's lines, to the byte", "numbers": "the page's lines; only numbers differ",
         "order": "the page's lines; numbers differ, and lines close in time swapped places"}


class Sample:
    """One marked block of a page: the run it names and the lines it shows now."""

    def __init__(self, page, lab, variant, cpus, begin, end, shown):
        self.page, self.lab, self.variant, self.cpus = page, lab, variant, cpus
        self.begin, self.end, self.shown = begin, end, shown     # marker line indexes; the lines between the fences

    @property
    def name(self):
        return f"{self.lab}/{self.variant}-cpus{self.cpus}"


def find(page):
    """The samples of one page, in order; raises ValueError naming the line of a broken marker."""
    lines = open(page).read().splitlines()
    samples, i = [], 0
    while i < len(lines):
        m = BEGIN.match(lines[i])
        if lines[i].startswith("<!-- BEGIN OUTPUT") and not m:
            raise ValueError(f"{page}:{i + 1}: a BEGIN OUTPUT marker must read "
                             "'<!-- BEGIN OUTPUT make run LAB=name VARIANT=name CPUS=1..8 -->'")
        if m:
            end = next((j for j in range(i + 1, len(lines)) if lines[j] == END), None)
            if end is None:
                raise ValueError(f"{page}:{i + 1}: BEGIN OUTPUT without an {END}")
            body = lines[i + 1:end]
            shown = body[1:-1] if len(body) >= 2 and body[0] == "```" and body[-1] == "```" else body
            samples.append(Sample(page, m.group(1), m.group(2), int(m.group(3)), i, end, shown))
            i = end
        i += 1
    return samples


def excerpt(text, lab, variant):
    """The lab's part of a run's output, as printed (printk prefix included): its own lines ("lab: ..."),
    its timeline rows and its verdict line."""
    keep, in_timeline = [], False
    for line in text.splitlines():
        said = console.strip(line)
        if said.startswith("lab: "):
            keep.append(line)
            in_timeline = "lab: timeline" in said
        elif in_timeline and re.match(r"\s+\d+\.\d+\s+CPU\d+ ", said):
            keep.append(line)
        elif re.match(rf"{re.escape(lab)}/{re.escape(variant)}: [A-Z][A-Z ]*: ", said):
            keep.append(line)
            in_timeline = False
        else:
            in_timeline = False
    return keep


def boot(sample, logdir):
    """Boot the sample's run as `make run LAB= VARIANT= CPUS=` does (deterministic); returns (status, text)."""
    log = os.path.join(logdir, f"sample-{sample.lab}-{sample.variant}-cpus{sample.cpus}.log")
    status, text, _ = qemu.boot(qemu.run_cmdline(sample.lab, sample.variant), sample.cpus, timeout=120, log=log,
                                mode="deterministic")
    return status, text, log


def compare(sample, got):
    """How the run's lines `got` match the page: "identical", "numbers" (only numbers differ), "order"
    (and two lines close in time swapped places), or None if the text differs (see the docstring)."""
    if sample.shown == got:
        return "identical"
    shown, ran = [shape(line) for line in sample.shown], [shape(line) for line in got]
    if shown == ran:
        return "numbers"
    if sorted(shown) == sorted(ran):
        return "order"
    return None


def shape(line):
    """A line with its numbers masked, and the padding that right-aligns them collapsed."""
    return re.sub(r" +", " ", NUMBER.sub("#", line))


def difference(sample, got):
    """The first line where the page and the run differ in more than numbers, for a failure message."""
    for n, (a, b) in enumerate(zip(sample.shown, got), 1):
        if shape(a) != shape(b):
            return f"line {n} of the block:\n  page: {a}\n  run:  {b}"
    return f"the page shows {len(sample.shown)} lines, the run printed {len(got)}"


def rewrite(page, results):
    """Write each sample's new lines into its page (results: [(sample, lines)] of that page)."""
    lines = open(page).read().splitlines()
    for sample, got in sorted(results, key=lambda r: -r[0].begin):
        lines[sample.begin + 1:sample.end] = ["```"] + got + ["```"]
    with open(page, "w") as f:
        f.write("\n".join(lines) + "\n")


def pages():
    return sorted(glob.glob(os.path.join(qemu.TOP, "labs", "*", "README.md")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="write nothing; fail if a page is out of date")
    ap.add_argument("pages", nargs="*", help="lab pages (default: labs/*/README.md)")
    a = ap.parse_args()
    try:
        samples = [s for p in (a.pages or pages()) for s in find(p)]
    except (OSError, ValueError) as e:
        sys.exit(f"samples: {e}")
    logdir = os.path.join("build", "samples")
    os.makedirs(logdir, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:      # deterministic: two QEMUs, one per host core
        runs = list(pool.map(lambda s: boot(s, logdir), samples))
    bad, by_page = 0, {}
    for s, (status, text, log) in zip(samples, runs):
        got = excerpt(text, s.lab, s.variant)
        if qemu.status_name(status) not in ("reproduced", "not-reproduced") or not got:
            print(f"samples: {s.name}: the run gave no verdict ({qemu.explain(status)}); log: {log}")
            bad += 1
            continue
        if a.check:
            how = compare(s, got)
            print(f"samples: {s.name}: {MATCH[how] if how else 'out of date: ' + difference(s, got)}")
            bad += how is None
        else:
            by_page.setdefault(s.page, []).append((s, got))
    for page, results in by_page.items():
        rewrite(page, results)
        print(f"samples: wrote {len(results)} sample(s) to {os.path.relpath(page)}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
