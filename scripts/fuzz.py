#!/usr/bin/env python3
"""scripts/fuzz.py: boot irqlab with mutated command lines, ACPI tables and monitor input, and judge each outcome.

    scripts/fuzz.py [--seed S] [--cmdlines N] [--tables N] [--monitor-lines N] [--jobs J]
    make fuzz N=1000 SEED=1          (N command lines, 3N/10 tables, N monitor lines)

The same seed makes the same cases (and, in deterministic mode, the same
boots). Every boot ends in one of these outcomes:

    message   the kernel named what it refused (or accepted the input) and carried on
    stop      the boot stopped with its reason printed (QEMU status 37, "irqlab: boot stopped")
    FAILURE   an oops, panic, WARNING or BUG; a triple fault or reset; a hang
              (the hard timeout); lost input (a typed line without its prompt, or
              the closing poweroff never ran); silent acceptance (a bad word or
              line with no message naming it); a stop nobody asked for, or none
              where one was due

What is bad input, and what the kernel must say about it, is written here
from the README's promises, not from the kernel's code: the oracle for a
command-line word is its key's documented values, for a table the kernel's
duty to boot or refuse by name, for a monitor line the command's usage.
Failures print their reproducer; logs go to build/fuzz/. Exits 1 if any
case failed. `make test` runs a small slice (quick_slice(), scripts/test.py).
"""
import argparse
import concurrent.futures
import os
import random
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import console  # noqa: E402
import qemu  # noqa: E402

TOP = qemu.TOP
OUT = os.path.join("build", "fuzz")
FIXTURE = os.path.join("build", "host", "acpi-fixture")
RSDP_BASE = 0x4000000
CPUS = 2
BOOT_TIMEOUT = 20
PROMPT = "irqlab> "
FAILURE_LINES = ("Oops", "Kernel panic", "BUG:", "WARNING:", "general protection", "double fault")

# ---------------------------------------------------------------- command lines

# key: (kind, valid values to draw from, invalid values to draw from). Valid
# values keep the boot short (test=boot_sanity closes every command line).
PARAMS = {
    "loglevel": ("int", ["0", "3", "4", "5", "7", "8"], ["9", "-1", "high", "0x", "99999999999", "7x"]),
    "nr_cpus": ("int", ["1", "2"], ["0", "-2", "two", "1.5", "99"]),
    "hz": ("int", ["10", "100", "250", "1000"], ["9", "1001", "0", "fast", "100hz"]),
    "x2apic": ("bool", ["on", "off", "0", "1", "yes", "no", "true", "false"], ["maybe", "2", "onn", "ON!"]),
    "nmi_watchdog": ("bool", ["on", "off"], ["sometimes", "-1"]),
    "soft_watchdog": ("bool", ["on", "off"], ["y e s", "offf"]),
    "lockdep": ("enum", ["on", "off", "keep"], ["forever", "1", "reset"]),
    "detector_stop": ("enum", ["auto", "on", "off"], ["never", "yes", "autoo"]),
    "watchdog_thresh": ("int", ["0", "4", "10", "60"], ["61", "-4", "ten"]),
    "rcu_cpu_stall_timeout": ("int", ["0", "3", "21", "300"], ["301", "-3", "3s"]),
    "csd_lock_timeout": ("int", ["0", "2000", "600000"], ["600001", "-1", "5e3"]),
    "panic_on_ipistall": ("int", ["0", "100"], ["600001", "x"]),
    "acpi_rsdp": ("u64", [], ["0", "-1", "0x", "zz", "0x4000000x"]),
    "variant": ("string", [], [""]),
}
# Words the kernel must stop at: more CPUs than the machine has, unknown
# tests and labs, lab= with test=, refused lab=/variant=/test= values.
STOP_WORDS = ["nr_cpus=3", "nr_cpus=8", "test=nosuch_{n}", "lab=nosuch_{n}", "lab=stall variant=plain_lock", "lab=selfdeadlock test=all",
              "lab=stall variant=", "lab=", "test=", 'lab="stall', "test=" + "t" * 80]


def rand_word(rng, n):
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz_0123456789") for _ in range(n))


def cmdline_case(rng):
    """A command line and its oracle: (the line, bad keys the kernel must name, must it stop?, may it hush?)."""
    words, bad, stop, quiet = [], [], False, False
    too_many_cpus = False               # the last nr_cpus= the parser took asks for more CPUs than there are
    for _ in range(rng.randint(1, 5)):
        roll = rng.random()
        key = rng.choice(sorted(PARAMS))
        kind, good, wrong = PARAMS[key]
        if roll < 0.35 and good:
            value = rng.choice(good)
            words.append(f"{key}={value}")
            too_many_cpus = too_many_cpus and key != "nr_cpus"
            quiet |= key == "loglevel" and int(value) <= 4     # hides pr_warn (4); pr_err (3) below 4
        elif roll < 0.7:
            words.append(f"{key}={rng.choice(wrong)}")
            bad.append(key)
        elif roll < 0.8:
            k = "zz" + rand_word(rng, rng.randint(1, 10))
            words.append(f"{k}={rand_word(rng, 3)}" if rng.random() < 0.7 else k)
            bad.append(k)
        elif roll < 0.88:
            words.append(f'{key}="{rand_word(rng, 4)}')          # unterminated quote: eats the rest
            bad.append(key)
            break
        elif roll < 0.93:
            words.append(f"{key}=" + "9" * rng.randint(70, 120))   # too long
            bad.append(key)
        else:
            word = rng.choice(STOP_WORDS).format(n=rand_word(rng, 5))
            words.append(word)
            if word.startswith("nr_cpus="):
                too_many_cpus = True
            else:
                stop = True
    if any(w.startswith("variant=") for w in words) and not any(w.startswith("lab=") for w in words):
        bad.append("variant")
    # test=boot_sanity ends the boot; first, so that a later test= (the last
    # one counts) or a quote that swallows the rest still acts
    return " ".join(["test=boot_sanity"] + words), bad, stop or too_many_cpus, quiet


def judge_cmdline(case, status, text):
    cmdline, bad, stop, quiet = case
    fail = common_failure(status, text)
    if fail:
        return "FAILURE", fail
    name = qemu.status_name(status)
    if name == "badboot":
        return ("stop", "") if clear_stop(text) and stop else \
            ("FAILURE", "a stop with no reason printed, or one nobody asked for")
    if stop:
        return "FAILURE", f"ended '{name}' where the boot had to stop"
    if name != "pass":
        return "FAILURE", f"ended '{name}', expected pass"
    if not quiet:
        said = [l for l in console.lines(text) if l.startswith("cmdline:")]
        for key in bad:
            if not any(f"'{key}" in l or f"{key}=" in l for l in said):
                return "FAILURE", f"silent acceptance: nothing names '{key}'"
    return "message", ""


# ---------------------------------------------------------------- ACPI tables

GOOD_ENTRIES = [("cpu", 0, 0, 1), ("cpu", 1, 1, 1), ("ioapic", 0, 0xfec00000, 0), ("iso", 0, 0, 2, 0),
                ("iso", 0, 9, 9, 0xd)]
ADDRS = [0, 0xfee00000, 0xfec00004, 0x2000000, 0xfeb00000, 0xfec00400, 0xfec00800, 0xfffffff0, 0x9f000, 0xfed00000]


def mutate_entries(rng, entries):
    """Apply one mutation to a list of MADT entries (as in GOOD_ENTRIES); returns the new list."""
    e = list(entries)
    pick = lambda kind: [i for i, x in enumerate(e) if x[0] == kind]      # noqa: E731
    m = rng.randrange(10)
    if m == 0 and pick("ioapic"):                       # move the IOAPIC
        i = rng.choice(pick("ioapic"))
        e[i] = ("ioapic", e[i][1], rng.choice(ADDRS), e[i][3])
    elif m == 1 and pick("ioapic"):                     # its GSIs start elsewhere
        i = rng.choice(pick("ioapic"))
        e[i] = ("ioapic", e[i][1], e[i][2], rng.choice([4, 5, 16, 24, 0xffffffff]))
    elif m == 2 and pick("ioapic"):                     # no IOAPIC
        e = [x for x in e if x[0] != "ioapic"]
    elif m == 3:                                        # a second IOAPIC
        e.append(("ioapic", 1, rng.choice([0xfec01000, 0xfec00000, 0xfec00200] + ADDRS), rng.choice([24, 0, 16])))
    elif m == 4 and pick("cpu"):                        # a CPU's APIC ID or flags
        i = rng.choice(pick("cpu"))
        e[i] = ("cpu", e[i][1], rng.choice([e[i][2], 0, 1, 0xff, 7]), rng.choice([e[i][3], 0, 2, 3]))
    elif m == 5:                                        # an override
        e.append(("iso", rng.choice([0, 0, 1]), rng.choice([0, 4, 9, 15, 16, 200]),
                  rng.choice([2, 4, 9, 23, 1000]), rng.choice([0, 0x5, 0xd, 0xf, 0x2, 0x8])))
    elif m == 6:                                        # a LAPIC address override
        e.append(("lapic_override", rng.choice([0xfee00000, 0, 0x123456789000, 0xfed00000])))
    elif m == 7:                                        # an entry of another, or no, type and length
        e.insert(rng.randrange(len(e) + 1), ("raw", bytes([rng.randrange(0x80), rng.choice([0, 1, 2, 5, 40])]) +
                                            bytes(rng.randrange(5))))
    elif m == 8 and pick("cpu"):                        # no CPU at all
        e = [x for x in e if x[0] != "cpu"]
    else:                                               # an x2APIC CPU
        e.append(("x2cpu", rng.choice([2, 0, 0x100, 0xffffffff]), rng.choice([1, 0])))
    return e


def madt_bytes(entries):
    body = bytearray()
    for x in entries:
        if x[0] == "cpu":
            body += struct.pack("<BBBBI", 0, 8, x[1], x[2], x[3])
        elif x[0] == "ioapic":
            body += struct.pack("<BBBBII", 1, 12, x[1], 0, x[2], x[3])
        elif x[0] == "iso":
            body += struct.pack("<BBBBIH", 2, 10, x[1], x[2], x[3], x[4])
        elif x[0] == "lapic_override":
            body += struct.pack("<BBHQ", 5, 12, 0, x[1])
        elif x[0] == "x2cpu":
            body += struct.pack("<BBHIII", 9, 16, 0, x[1], x[2], 9)
        else:
            body += x[1]
    return bytes(body)


def table_case(rng, base):
    """A blob: the good fixture's RSDP and RSDT, and a MADT with 0-3 mutations (checksummed, mostly)."""
    entries = GOOD_ENTRIES
    for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):
        entries = mutate_entries(rng, entries)
    madt = bytearray(base[0x100:0x100 + 44]) + madt_bytes(entries)
    lapic = 0xfee00000 if rng.random() < 0.8 else rng.choice([0, 0xfed00000, 0xfee00800, 0x1000, 0xfffff000])
    struct.pack_into("<I", madt, 4, len(madt))
    struct.pack_into("<II", madt, 36, lapic, rng.choice([1, 1, 0]))
    if rng.random() < 0.05:                                        # a byte flipped after the header
        madt[rng.randrange(36, len(madt))] = rng.randrange(256)
    if rng.random() < 0.05:                                        # a length that lies
        struct.pack_into("<I", madt, 4, rng.choice([0, 36, 43, len(madt) - 1, len(madt) + 8, 0x200000]))
    madt[9] = 0
    if rng.random() < 0.97:
        madt[9] = (-sum(madt[:min(len(madt), struct.unpack_from("<I", madt, 4)[0])])) & 0xff
    return bytes(base[:0x100] + madt + bytes(64))


def judge_table(status, text):
    fail = common_failure(status, text)
    if fail:
        return "FAILURE", fail
    name = qemu.status_name(status)
    if name == "badboot":
        return ("stop", "") if clear_stop(text) else ("FAILURE", "a stop with no reason printed")
    if name != "pass" or "irqlab: power off" not in text:
        return "FAILURE", f"ended '{name}' without answering the monitor (deaf console?)"
    return "message", ""


# ---------------------------------------------------------------- monitor lines

# (line, max arguments) of the commands a fuzzed line may run; poweroff,
# reboot and run only ever with arguments they must refuse.
COMMANDS = {"help": 0, "info": 0, "cpus": 0, "irqs": 0, "irqtrace": 0, "time": 0, "ps": 0, "locks": 0, "mem": 0,
            "tlb": 0, "labs": 0, "hooks": 0, "rcu": 0, "poweroff": 0, "reboot": 0, "nmi": 1, "lockdep": 1,
            "watchdog": 2}
REFUSALS = ("unknown command", "takes no arguments", "too many arguments", "too few arguments", "is not valid",
            "unknown argument", "is not a CPU", "is not online", "cannot set", "line too long", "run: ",
            "too many arguments (at most")
HARMLESS = ["help", "time", "cpus", "mem", "labs", "nmi", "nmi 1", "lockdep", "locks", "irqs", "watchdog", "rcu",
            "tlb", "ps", "hooks", "info", "irqtrace"]
ESCAPES = ["\x1b", "\x1b[", "\x1b[1;5", "\x1bO", "\x1b(", "\x1b[A", "\x1b[15~", "\x1bOP", "\x1b\x1b"]


def junk(rng, n):
    pool = [chr(c) for c in range(0x20, 0x7f)] + ["\t", "\x7f", "\x08", "\x01", "\x1b", "\x80", "\xff"]
    return "".join(rng.choice(pool) for _ in range(n))


def monitor_line(rng):
    """One typed line (without its Enter) and whether the monitor must refuse it by name."""
    roll = rng.random()
    cmd = rng.choice(sorted(COMMANDS))
    if roll < 0.3:                                     # too many arguments
        extra = [rng.choice(["1", "-5", "on", "x", "99", "thresh", "2"]) for _ in range(COMMANDS[cmd] + rng.randint(1, 3))]
        return " ".join([cmd] + extra), True
    if roll < 0.4:                                     # bad values for commands that take some
        return rng.choice(["nmi 9", "nmi -1", "nmi x", "nmi 1x", "lockdep bogus", "lockdep ON", "watchdog 1",
                           "watchdog thresh 0", "watchdog thresh 61", "watchdog thresh x", "watchdog x 2",
                           "run", "run nosuch", "run stall variant=", "run stall variant=plain_lock",
                           "run stall hz=10", "run stall variant=nosuch", "run selfdeadlock variant=deadlock"]), True
    if roll < 0.5:                                     # unknown commands
        return "zz" + rand_word(rng, rng.randint(1, 8)), True
    if roll < 0.6:                                     # too long
        return cmd + " " + "a" * rng.randint(130, 600), True
    if roll < 0.75:                                    # a command wrapped in escape sequences
        return rng.choice(ESCAPES) + rng.choice(HARMLESS) + rng.choice(ESCAPES), False
    if roll < 0.85:                                    # a valid command
        return rng.choice(HARMLESS), False
    line = junk(rng, rng.randint(0, 60))
    if re.match(r"\s*(poweroff|reboot|run)\s*$", line) or re.match(r"\s*run\s", line):
        line = "zz" + line
    return line, False


def monitor_case(rng, n):
    lines = [monitor_line(rng) for _ in range(n)]
    enter = lambda: rng.choice(["\n", "\r", "\r\n"])      # noqa: E731
    typed = "\n" + "".join(l + enter() for l, _ in lines) + "poweroff\n"
    return lines, typed.encode("latin-1")


def judge_monitor(case, status, text):
    lines, _ = case
    fail = common_failure(status, text)
    if fail:
        return ["FAILURE"] * len(lines), fail
    segments = text.split(PROMPT)[1:]                  # the first prompt's banner goes
    if qemu.status_name(status) != "pass" or "irqlab: power off" not in text:
        return ["FAILURE"] * len(lines), f"ended '{qemu.status_name(status)}': the closing poweroff never ran " \
                                         f"(lost input?), {len(segments) - 1} of {len(lines)} lines answered"
    if len(segments) != len(lines) + 1:
        return ["FAILURE"] * len(lines), f"lost input: {len(segments) - 1} prompts for {len(lines)} lines"
    outcomes, why = [], ""
    for (line, must_refuse), seg in zip(lines, segments):
        if must_refuse and not any(r in seg for r in REFUSALS):
            outcomes.append("FAILURE")
            why = why or f"silent acceptance of {line[:60]!r}: {seg[:120]!r}"
        else:
            outcomes.append("message")
    return outcomes, why


# ---------------------------------------------------------------- common

def common_failure(status, text):
    name = qemu.status_name(status)
    if name == "timeout":
        return "hang: the hard timeout ended QEMU"
    if name in ("triplefault", "reboot"):
        return f"{name}: the machine reset"
    hit = next((l for l in text.splitlines() if any(f in l for f in FAILURE_LINES)), None)
    if hit:
        return f"crash: {hit.strip()}"
    return ""


def clear_stop(text):
    lines = [l for l in console.lines(text) if l.strip()]
    i = next((n for n, l in enumerate(lines) if "irqlab: boot stopped" in l), None)
    return i is not None and i > 0 and len(lines[i - 1]) > 20


KERNEL = None                   # --kernel: another build/kernel.elf (e.g. an older tree's, to see what it misses)


def boot(cmdline, input_bytes=b"", extra=(), log=None):
    return qemu.boot(cmdline, CPUS, timeout=BOOT_TIMEOUT, input_bytes=input_bytes, extra=list(extra), log=log,
                     mode="deterministic", kernel=KERNEL)[:2]


def make_cases(seed, n_cmdlines, n_tables, n_monitor, batch):
    """Every case of a campaign, in a fixed order for the seed: (kind, index, case, boot arguments)."""
    rng = random.Random(seed)
    os.makedirs(OUT, exist_ok=True)
    cases = []
    for i in range(n_cmdlines):
        c = cmdline_case(rng)
        # the monitor powers off a boot whose test= a quote swallowed
        cases.append(("cmdline", i, c, dict(cmdline=c[0], input_bytes=b"\npoweroff\n")))
    if n_tables:
        base = subprocess.run([FIXTURE, "good", hex(RSDP_BASE)], stdout=subprocess.PIPE, check=True).stdout
        for i in range(n_tables):
            path = os.path.join(OUT, f"table-{seed}-{i}.bin")
            with open(path, "wb") as f:
                f.write(table_case(rng, base))
            cases.append(("table", i, path, dict(
                cmdline=f"acpi_rsdp={RSDP_BASE:#x}", input_bytes=b"\ntime\ncpus\npoweroff\n",
                extra=["-device", f"loader,file={path},addr={RSDP_BASE:#x},force-raw=on"])))
    for i in range(0, n_monitor, batch):
        c = monitor_case(rng, min(batch, n_monitor - i))
        cases.append(("monitor", i, c, dict(cmdline="", input_bytes=c[1])))
    return cases


def run_case(kind, index, case, args, seed):
    log = os.path.join(OUT, f"{kind}-{seed}-{index}.log")
    status, text = boot(log=log, **args)
    if kind == "cmdline":
        outcome, why = judge_cmdline(case, status, text)
        return [outcome], why, f"cmdline: {case[0]!r}", log
    if kind == "table":
        outcome, why = judge_table(status, text)
        return [outcome], why, f"table: {case} (loaded at {RSDP_BASE:#x}, acpi_rsdp={RSDP_BASE:#x})", log
    outcomes, why = judge_monitor(case, status, text)
    return outcomes, why, f"monitor input: {case[1]!r}"[:2000], log


def campaign(seed, n_cmdlines, n_tables, n_monitor, jobs=1, batch=100, quiet=False):
    """Run every case; returns {kind: {outcome: count}} and a list of failure descriptions."""
    counts = {k: {"message": 0, "stop": 0, "FAILURE": 0} for k in ("cmdline", "table", "monitor")}
    failures = []
    cases = make_cases(seed, n_cmdlines, n_tables, n_monitor, batch)
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        results = pool.map(lambda c: (c[0], c[1]) + run_case(*c, seed), cases)
        for done, (kind, index, outcomes, why, repro, log) in enumerate(results, 1):
            for o in outcomes:
                counts[kind][o] += 1
            if "FAILURE" in outcomes:
                failures.append(f"{kind} #{index}: {why}\n  reproduce with {repro}\n  log: {log}")
            if not quiet and done % 50 == 0:
                print(f"fuzz: {done}/{len(cases)} boots, {len(failures)} failed", flush=True)
    return counts, failures


def quick_slice():
    """make test's slice: a fixed seed, eight boots (one of them 100 monitor lines), two QEMUs at a time."""
    return campaign(seed=15, n_cmdlines=4, n_tables=3, n_monitor=100, jobs=2, batch=100, quiet=True)


def summary(counts):
    return "; ".join(f"{k}: {sum(c.values())} ({c['message']} message, {c['stop']} stop, {c['FAILURE']} failed)"
                     for k, c in counts.items())


def main():
    ap = argparse.ArgumentParser(description="Fuzz irqlab's command line, ACPI tables and monitor; judge each boot.")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cmdlines", type=int, default=1000)
    ap.add_argument("--tables", type=int, default=300)
    ap.add_argument("--monitor-lines", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=100, help="monitor lines per boot (default 100)")
    ap.add_argument("--jobs", type=int, default=1, help="QEMUs at a time (default 1)")
    ap.add_argument("--kernel", help="the kernel to boot (default build/kernel.elf)")
    a = ap.parse_args()
    global KERNEL
    KERNEL = a.kernel
    counts, failures = campaign(a.seed, a.cmdlines, a.tables, a.monitor_lines, a.jobs, a.batch)
    for f in failures:
        print(f"FAIL {f}")
    print(f"fuzz seed {a.seed}: {summary(counts)}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
