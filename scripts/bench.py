#!/usr/bin/env python3
"""scripts/bench.py: `make bench`: boot bench=all, read its table, write it as text, JSON and a plot.

    scripts/bench.py [--cpus 8] [--accel tcg|kvm] [--samples N] [--bench NAME] [--out build/bench]
    scripts/bench.py --from-log CONSOLE.log [--out DIR]      (no boot: re-read a console log)

Boots the kernel once through scripts/qemu.py in parallel mode (multi-threaded
TCG, or KVM: the CPUs run truly at once and the TSC follows the host's clock;
in deterministic mode it would count instructions) with
`bench=NAME bench_samples=N`, parses the table kernel/bench.c prints (the
line format is in docs/bench.md and in parse() below), and writes into --out:

    bench.txt    the table as the kernel printed it, without the printk prefixes
    bench.json   {"machine": {...}, "rows": [{name, median, p10, p90, min, max, samples, what, median_ns}],
                  "skipped": [{name, why}]}
    bench.png    the plot: shootdown cost against its number of target CPUs (median, p10-p90 bars),
    bench.svg    with the IPI round trip for reference, and the primitive pairs as bars

then prints the table and the paths. parse() and write_text() need only the
standard library (the tests import them); the plot needs matplotlib, which is
why the Makefile runs this with Debian's /usr/bin/python3 ($(PLOT_PY)).
Exits 1 when the boot or the table went wrong, saying why.
"""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import console  # noqa: E402
import qemu  # noqa: E402

FIELDS = ("median", "p10", "p90", "min", "max")
MACHINE = re.compile(r"^bench: irqlab bench: (\d+) CPUs online, TSC (\d+\.\d+) MHz, (\d+) samples a row, "
                     r"(\d+) loops a sample for the pairs; (.*)$")
HYPERVISOR = re.compile(r"^bench: hypervisor: (.*)$")
HEADER = re.compile(r"^bench: row +median +p10 +p90 +min +max +samples +what$")
ROW = re.compile(r"^bench: (\S+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+)  (\S.*)$")
SKIPPED = re.compile(r"^bench: (\S+) +skipped: (.*)$")
DONE = re.compile(r"^bench: done: (\d+) rows, (\d+) skipped$")
# The pairs the kernel times with the lock validator on and off (kernel/bench.c's groups), in plot order.
PAIRS = ("irqsave", "counted", "spin_lock", "spin_lock_irqsave")


def parse(text):
    """The benchmark in a console log: {"machine": {...}, "rows": [...], "skipped": [...], "lines": [...]}.

    Reads the lines that start "bench: " once the printk prefix is stripped:
    the machine line, the hypervisor line, the column header, one line per
    row (name, median, p10, p90, min, max, samples, two blanks, what), one
    per skipped row ("NAME skipped: why"), and "done: R rows, K skipped".
    Raises ValueError, naming the line, for any other "bench: " line, a row
    whose numbers are out of order or whose sample count is not the
    machine line's, a missing line, or counts that disagree with "done".
    """
    machine, rows, skipped, lines, done = None, [], [], [], None
    for n, line in enumerate(console.lines(text), 1):
        if not line.startswith("bench: "):
            continue
        if done is not None:
            raise ValueError(f"line {n}: {line!r} after the 'bench: done' line")
        lines.append(line[len("bench: "):])
        m = MACHINE.match(line)
        if m:
            machine = {"cpus": int(m.group(1)), "tsc_mhz": float(m.group(2)), "samples": int(m.group(3)),
                       "loops": int(m.group(4)), "units": m.group(5), "hypervisor": None}
            continue
        m = HYPERVISOR.match(line)
        if m and machine:
            machine["hypervisor"] = m.group(1)
            continue
        if HEADER.match(line):
            continue
        m = ROW.match(line)
        if m and machine:
            row = {"name": m.group(1), **{f: int(m.group(i)) for i, f in enumerate(FIELDS, 2)},
                   "samples": int(m.group(7)), "what": m.group(8)}
            if not row["min"] <= row["p10"] <= row["median"] <= row["p90"] <= row["max"]:
                raise ValueError(f"line {n}: {line!r}: min <= p10 <= median <= p90 <= max does not hold")
            if row["samples"] != machine["samples"]:
                raise ValueError(f"line {n}: {line!r}: {row['samples']} samples, the machine line says "
                                 f"{machine['samples']}")
            row["median_ns"] = round(row["median"] * 1000 / machine["tsc_mhz"], 1)
            rows.append(row)
            continue
        m = SKIPPED.match(line)
        if m and machine:
            skipped.append({"name": m.group(1), "why": m.group(2)})
            continue
        m = DONE.match(line)
        if m and machine:
            done = (int(m.group(1)), int(m.group(2)))
            continue
        raise ValueError(f"line {n}: {line!r} is not a line of the bench table (docs/bench.md)"
                         + ("" if machine else "; or it comes before the 'bench: irqlab bench:' line"))
    if machine is None:
        raise ValueError("no 'bench: irqlab bench: ...' line: the benchmark did not start")
    if machine["hypervisor"] is None:
        raise ValueError("no 'bench: hypervisor: ...' line")
    if done is None:
        raise ValueError(f"no 'bench: done' line after {len(rows)} rows: the benchmark did not finish")
    if done != (len(rows), len(skipped)):
        raise ValueError(f"'bench: done' says {done[0]} rows and {done[1]} skipped; read {len(rows)} and "
                         f"{len(skipped)}")
    return {"machine": machine, "rows": rows, "skipped": skipped, "lines": lines}


def write_text(result, out):
    """Write bench.txt and bench.json into out; return their paths."""
    os.makedirs(out, exist_ok=True)
    txt, js = os.path.join(out, "bench.txt"), os.path.join(out, "bench.json")
    with open(txt, "w") as f:
        f.write("\n".join(result["lines"]) + "\n")
    with open(js, "w") as f:
        json.dump({k: result[k] for k in ("machine", "rows", "skipped")}, f, indent=1)
        f.write("\n")
    return [txt, js]


def write_plot(result, out):
    """Write bench.png and bench.svg into out (matplotlib); return their paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = {r["name"]: r for r in result["rows"]}
    m = result["machine"]
    shoot = sorted((int(n.split("/")[1]), r) for n, r in rows.items() if n.startswith("shootdown/"))
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [1, 1.2]})

    def spread(rs):
        return [[r["median"] - r["p10"] for r in rs], [r["p90"] - r["median"] for r in rs]]

    if shoot:
        xs, rs = [n for n, _ in shoot], [r for _, r in shoot]
        left.errorbar(xs, [r["median"] for r in rs], yerr=spread(rs), fmt="o-", capsize=4,
                      label="one-page shootdown: median, p10-p90")
        left.set_xticks(xs)
    if "ipi" in rows:
        left.axhline(rows["ipi"]["median"], color="gray", linestyle="--", label="IPI round trip (median)")
    left.set_xlabel("target CPUs")
    left.set_ylabel("TSC cycles")
    left.set_ylim(bottom=0)
    mhz = m["tsc_mhz"]
    left.secondary_yaxis("right", functions=(lambda c: c / mhz, lambda us: us * mhz)).set_ylabel("µs")
    left.set_title("TLB shootdown cost against its targets")
    left.legend(loc="upper left", fontsize=8)

    present = [p for p in PAIRS if f"{p}/lockdep" in rows or f"{p}/nolockdep" in rows]
    width = 0.38
    for k, (suffix, label) in enumerate((("lockdep", "validator on"), ("nolockdep", "validator off"))):
        xs = [i + (k - 0.5) * width for i, p in enumerate(present) if f"{p}/{suffix}" in rows]
        rs = [rows[f"{p}/{suffix}"] for p in present if f"{p}/{suffix}" in rows]
        right.bar(xs, [r["median"] for r in rs], width, yerr=spread(rs), capsize=3, label=f"{label}: median, "
                  "p10-p90")
    if "tsc_pair" in rows:
        right.axhline(rows["tsc_pair"]["median"], color="gray", linestyle=":", label="two TSC reads (median)")
    right.set_xticks(range(len(present)))
    right.set_xticklabels(present, fontsize=8)
    right.set_ylabel("TSC cycles per pair")
    right.set_title("primitive pairs (lock/unlock, save/restore)")
    right.legend(loc="upper left", fontsize=8)

    hv = m["hypervisor"].split(":")[0]
    fig.suptitle(f"irqlab bench: {m['cpus']} CPUs, TSC {m['tsc_mhz']:.0f} MHz, {m['samples']} samples a row, "
                 f"hypervisor {hv}" + (" (emulator costs, not a CPU's)" if hv.startswith("TCG") else ""),
                 fontsize=10)
    fig.tight_layout()
    png, svg = os.path.join(out, "bench.png"), os.path.join(out, "bench.svg")
    fig.savefig(png, dpi=100)
    fig.savefig(svg, metadata={"Date": None})
    plt.close(fig)
    return [png, svg]


def main():
    ap = argparse.ArgumentParser(description="Run irqlab's bench= and write its table as text, JSON and a plot.")
    ap.add_argument("--cpus", type=int, default=8, help="1 to 8 (default 8: shootdowns to 1..7 CPUs)")
    ap.add_argument("--accel", default="tcg", choices=("tcg", "kvm"))
    # Handed to the kernel as they are: its refusal names what is valid (one place for the ranges).
    ap.add_argument("--samples", default="101", help="bench_samples= (default 101)")
    ap.add_argument("--bench", default="all", help="bench= (default all)")
    ap.add_argument("--out", default=os.path.join("build", "bench"), help="where the files go (build/bench)")
    ap.add_argument("--timeout", type=float, default=600, help="hard limit of the boot in seconds (600)")
    ap.add_argument("--from-log", metavar="LOG", help="read this console log instead of booting")
    a = ap.parse_args()

    if a.from_log:
        with open(a.from_log, errors="replace") as f:
            text = f.read()
    else:
        if a.accel == "kvm" and not os.path.exists("/dev/kvm"):
            sys.exit("bench.py: ACCEL=kvm needs /dev/kvm, which this machine does not have; use ACCEL=tcg")
        for key, value in (("bench", a.bench), ("bench_samples", a.samples)):
            if not re.fullmatch(r'[^\s"]+', value):
                sys.exit(f"bench.py: {key}={value!r}: one word, without blanks or quotes (make bench BENCH=all "
                         "BENCH_SAMPLES=101)")
        os.makedirs(a.out, exist_ok=True)
        log = os.path.join(a.out, "console.log")
        cmdline = f"bench={a.bench} bench_samples={a.samples}"
        print(f"irqlab: bench: booting {cmdline} with {a.cpus} CPUs ({a.accel}, parallel); console in {log}",
              flush=True)
        try:
            status, text, secs = qemu.boot(cmdline, a.cpus, a.accel, timeout=a.timeout, log=log, mode="parallel")
        except ValueError as e:
            sys.exit(f"bench.py: {e}")
        if qemu.status_name(status) != "pass":
            tail = "\n".join(text.splitlines()[-15:])
            sys.exit(f"{tail}\nbench.py: the benchmark did not end with the pass status: {qemu.explain(status)}")
    try:
        result = parse(text)
    except ValueError as e:
        sys.exit(f"bench.py: {a.from_log or 'the console'}: {e}")
    paths = write_text(result, a.out) + write_plot(result, a.out)
    print("\n".join(result["lines"]))
    for p in paths:
        print(f"irqlab: bench: wrote {p}")


if __name__ == "__main__":
    main()
