"""scripts/checks.py: irqlab's check format: load checks from TOML files, boot each, and judge the output.

One format for `make test` and `make grade` (labs/README.md describes it for
teachers). A file holds [[check]] tables; each boots the kernel once per CPU
count and is judged by QEMU's exit and the lines the serial console printed:

    [[check]]
    name = "plain_lock"                     # unique in the file; -cpusN is added for each CPU count
    title = "a plain spin_lock() in the task deadlocks its own CPU"
    cmdline = "lab=selfdeadlock variant=plain_lock"
    cpus = [2, 4]                           # default [2]
    exit = "reproduced"                     # a name from drivers/qemu_exit.h (default "pass"), or "reboot"
    expect = ["a line that must appear", ...]     # substrings, in any order
    reject = ["a line that must not appear", ...]
    use = ["csd", "ends_cpus{cpus}"]        # add the expect/reject lists of [sets.csd] and [sets.ends_cpus2]
    timeout = 60                            # seconds, hard (default 60)
    points = 5                              # graded by `make grade` when > 0 (default 0: a test only)
    exercise = true                         # depends on the student's code: fails in the handout tree
    hint = "what to look at when it fails"  # printed under a failure
    ktap = true                             # also judge KTAP output, one result per case
    boot = "iso"                            # through GRUB (default "kernel": qemu -kernel)
    input = "\\nhelp\\npoweroff\\n"            # typed into the serial console
    qemu_args = ["-machine", "acpi=off"]    # more QEMU arguments
    modes = ["deterministic", "parallel"]   # the guest's clock (default ["deterministic"]); a run in
                                            # parallel mode, when there are both, gets "-parallel" added
    parallel_cpus = [4]                     # the CPU counts of the parallel-mode runs (default: cpus)
    trace_expect = ["ipi 1->0 never entered"]   # the run writes its interrupt trace (docs/trace.md) next to
                                            # the log; these assertions about it must hold
                                            # (scripts/trace.py lists the forms), and the picture and
                                            # JSON made from it must parse

Deterministic mode (QEMU's icount) makes a run independent of the host's
load; parallel mode (multi-threaded TCG) is for what needs the CPUs truly
concurrent. DETERMINISTIC=0 in the environment runs every check in
parallel mode.

In strings, {cpus} is the CPU count, {last} the last CPU's number,
{buddy} the one before it, and {linux_thresholds} Linux's default detector
thresholds as kernel parameters (qemu.LINUX_THRESHOLDS). A file's
[sets.NAME] tables hold expect/reject lists that checks share through `use`.
"""
import os
import re
import sys

try:
    import tomllib
except ImportError:                     # Python < 3.11: Debian's python3-tomli
    try:
        import tomli as tomllib
    except ImportError:
        sys.exit("irqlab: the checks need Python 3.11, or python3-tomli (apt-get install python3-tomli)")

import console
import qemu
import trace as trace_tool              # scripts/trace.py, not the standard library's

# Debian's interpreter, which has matplotlib (the Makefile's PLOT_PY, exported to make test).
PLOT_PY = os.environ.get("PLOT_PY", "/usr/bin/python3")
EMPTY_TRACE = trace_tool.Trace(0, 1, {}, {}, [])    # to refuse a malformed trace_expect when loading

TOP = qemu.TOP
BANNER = "irqlab: x86-64 teaching kernel, booting on CPU 0"     # kernel/main.c: the kernel's first line
FIELDS = {"name", "title", "cmdline", "cpus", "exit", "expect", "reject", "use", "timeout", "points", "exercise",
          "hint", "ktap", "boot", "input", "qemu_args", "modes", "parallel_cpus", "trace_expect"}


class Run:
    """One boot of one check at one CPU count."""

    def __init__(self, check, cpus, mode, one_count, suffix):
        self.check, self.cpus, self.mode = check, cpus, mode
        self.id = check.id if one_count else f"{check.id}-cpus{cpus}"
        if suffix:
            self.id += f"-{mode}"

    def expect(self):
        return [self.fill(e) for e in self.check.expect + self.from_sets("expect")]

    def reject(self):
        return [self.fill(r) for r in self.check.reject + self.from_sets("reject")]

    def from_sets(self, kind):
        return [line for u in self.check.use for line in self.check.sets[self.fill(u)].get(kind, [])]

    def fill(self, text):
        return (text.replace("{cpus}", str(self.cpus)).replace("{last}", str(self.cpus - 1))
                .replace("{buddy}", str(self.cpus - 2))
                .replace("{linux_thresholds}", " ".join(qemu.LINUX_THRESHOLDS)))


class Check:
    def __init__(self, table, sets, prefix, path):
        where = f"{path}: check {table.get('name', '(no name)')!r}"
        unknown = set(table) - FIELDS
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(FIELDS))}")
        if "name" not in table or "cmdline" not in table:
            raise ValueError(f"{where}: a check needs a name and a cmdline")
        self.path = path
        self.name = table["name"]
        self.id = f"{prefix}/{self.name}" if prefix else self.name
        self.title = table.get("title", self.name)
        self.cmdline = table["cmdline"]
        cpus = table.get("cpus", [2])
        self.cpus = cpus if isinstance(cpus, list) else [cpus]
        if not self.cpus or any(not isinstance(c, int) or not 1 <= c <= 8 for c in self.cpus):
            raise ValueError(f"{where}: cpus must be a CPU count or a list of them, 1 to 8")
        self.exit = table.get("exit", "pass")
        valid_exits = [n for n, _ in qemu.exit_statuses().values()] + ["reboot"]
        if self.exit not in valid_exits:
            raise ValueError(f"{where}: exit {self.exit!r} is not valid; valid: {', '.join(valid_exits)}")
        self.expect = list(table.get("expect", []))
        self.reject = list(table.get("reject", []))
        self.use = list(table.get("use", []))
        self.sets = sets
        for u in self.use:
            if "{" not in u and u not in sets:
                raise ValueError(f"{where}: use {u!r}: no [sets.{u}] in this file")
        self.timeout = table.get("timeout", 60)
        self.points = table.get("points", 0)
        self.exercise = table.get("exercise", False)
        self.hint = table.get("hint", "")
        self.ktap = table.get("ktap", False)
        self.boot = table.get("boot", "kernel")
        self.input = table.get("input", "")
        self.qemu_args = table.get("qemu_args", [])
        self.trace_expect = table.get("trace_expect", [])
        if not isinstance(self.trace_expect, list) or not all(isinstance(x, str) for x in self.trace_expect):
            raise ValueError(f"{where}: trace_expect must be a list of strings: {'; '.join(trace_tool.EXPECT_FORMS)}")
        for x in self.trace_expect:
            try:
                trace_tool.check(EMPTY_TRACE, x)
            except trace_tool.TraceError as e:
                raise ValueError(f"{where}: {e}")
        modes = table.get("modes", ["deterministic"])
        if not isinstance(modes, list) or not modes or any(m not in qemu.MODES for m in modes) \
                or len(set(modes)) != len(modes):
            raise ValueError(f"{where}: modes must be a list of {' and '.join(qemu.MODES)}, each once")
        parallel_cpus = table.get("parallel_cpus", self.cpus)
        parallel_cpus = parallel_cpus if isinstance(parallel_cpus, list) else [parallel_cpus]
        if "parallel_cpus" in table and "parallel" not in modes:
            raise ValueError(f"{where}: parallel_cpus without \"parallel\" in modes")
        if not parallel_cpus or any(not isinstance(c, int) or not 1 <= c <= 8 for c in parallel_cpus):
            raise ValueError(f"{where}: parallel_cpus must be a CPU count or a list of them, 1 to 8")
        if qemu.default_mode(os.environ.get("ACCEL", "tcg")) == "parallel":
            modes = ["parallel"]            # DETERMINISTIC=0 (or kvm): every run in parallel mode
            parallel_cpus = sorted(set(self.cpus) | set(parallel_cpus))
        plan = [(m, c) for m in modes for c in (parallel_cpus if m == "parallel" else self.cpus)]
        one_count = len({c for _, c in plan}) == 1
        self.runs = [Run(self, c, m, one_count, m == "parallel" and len(modes) > 1) for m, c in plan]
        for run in self.runs:
            for u in map(run.fill, self.use):
                if u not in sets:
                    raise ValueError(f"{where}: use {u!r} at {run.cpus} CPUs: no [sets.{u}] in this file")


def load(path, prefix=""):
    """The checks of one file, in file order."""
    with open(path, "rb") as f:
        try:
            data = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"{path}: {e}")
    unknown = set(data) - {"check", "sets"}
    if unknown:
        raise ValueError(f"{path}: unknown table(s) {', '.join(sorted(unknown))}; valid: [[check]], [sets.NAME]")
    checks = [Check(t, data.get("sets", {}), prefix, path) for t in data.get("check", [])]
    ids = [c.id for c in checks]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise ValueError(f"{path}: check names used twice: {', '.join(sorted(dup))}")
    return checks


def lab_names(top=TOP):
    d = os.path.join(top, "labs")
    return sorted(n for n in os.listdir(d) if os.path.isfile(os.path.join(d, n, "checks.toml")))


def lab_check_files(lab, top=TOP):
    """A lab's check files: checks.toml, then any checks-*.toml (a teacher's hidden checks drop in here)."""
    d = os.path.join(top, "labs", lab)
    return [os.path.join(d, n) for n in sorted(os.listdir(d)) if re.fullmatch(r"checks(-[\w-]+)?\.toml", n)]


def all_checks(top=TOP, labs=None):
    """The core checks (tests/checks/*.toml, in name order), then each lab's."""
    checks = []
    if labs is None:
        d = os.path.join(top, "tests", "checks")
        for n in sorted(os.listdir(d)):
            if n.endswith(".toml"):
                checks += load(os.path.join(d, n))
        labs = lab_names(top)
    for lab in labs:
        for path in lab_check_files(lab, top):
            checks += load(path, prefix=lab)
    return checks


def judge(run, status, text, qemu_log=None):
    """Judge one boot. Returns a list of (ok, name, message) results: one for the run, one per KTAP case;
    the message says what was expected and what was seen."""
    c = run.check
    got = qemu.status_name(status, qemu_log)
    results = []
    if got == "timeout":
        return [(False, run.id, f"timed out after {c.timeout} s: the machine hung and nothing ended the run")]
    if got == "triplefault":
        return [(False, run.id, "triple fault: the CPU reset itself")]
    problems = []
    if got != c.exit:
        problems.append(f"QEMU ended with '{got}' (status {status}), expected '{c.exit}'")
    if not c.input:
        problems += unprefixed_lines(text, firmware_prints=c.boot == "iso")
    for e in run.expect():
        if e not in text:
            problems.append(f"missing expected line: {e}")
    for r in run.reject():
        hit = next((line for line in text.splitlines() if r in line), None)
        if hit is not None:
            problems.append(f"unexpected line: {hit}")
    if c.ktap:
        ktap_problems, cases = ktap_results(text)
        problems += ktap_problems
        results += [(ok, f"{run.id}/{case}", "" if ok else f"KTAP case failed: {case}") for ok, case in cases]
    ok = not problems
    if not ok:
        verdicts = [m.group(0) for m in map(re.compile(r"\w+/\w+: (?:(?:NOT )?REPRODUCED|INVALID): .*").fullmatch,
                                            console.lines(text)) if m]
        if verdicts:
            problems.append(f"the lab's verdict: {verdicts[-1]}")
    results.insert(0, (ok, run.id, "\n".join(problems)))
    return results


def unprefixed_lines(text, firmware_prints):
    """Every line the kernel prints is a printk line, with Linux's prefix (kernel/printk.c), in a run
    nobody typed into. A direct boot's firmware (qboot) prints nothing; GRUB's lines come before the
    kernel's first line, so an ISO boot is read from there. Returns the problems."""
    lines = text.splitlines()
    if firmware_prints:
        lines = lines[next((n for n, line in enumerate(lines) if console.strip(line) == BANNER), len(lines)):]
    bad = next((line for line in lines if not console.PREFIX.match(line)), None)
    return [f"a line without the printk prefix '[    s.us][    Cn] ': {bad!r}"] if bad is not None else []


def ktap_results(text):
    """KTAP: a 'KTAP version 1' header, a plan 1..N, then exactly N results numbered 1..N."""
    lines = console.lines(text)
    if "KTAP version 1" not in lines:
        return ["no 'KTAP version 1' header"], []
    plan = next((int(m.group(1)) for m in map(lambda l: re.fullmatch(r"1\.\.(\d+)", l), lines) if m), None)
    if plan is None:
        return ["no KTAP plan line (1..N)"], []
    problems, cases = [], []
    for n, m in enumerate((m for m in map(lambda l: re.match(r"(not )?ok (\d+) (.*)", l), lines) if m), 1):
        if int(m.group(2)) != n:
            problems.append(f"KTAP result numbered {m.group(2)}, expected {n}")
        cases.append((m.group(1) is None, m.group(3)))
    if len(cases) != plan:
        problems.append(f"KTAP plan said {plan} cases, {len(cases)} reported")
    return problems, cases


def execute(run, logdir, kernel=None):
    """Boot one run and judge it. Returns (results as judge() gives them, the serial log's path, seconds,
    QEMU's exit status)."""
    c = run.check
    log = os.path.join(logdir, run.id.replace("/", "-") + ".log")
    os.makedirs(logdir, exist_ok=True)
    trace = log[:-4] + ".trace.txt" if c.trace_expect else None
    if trace and os.path.exists(trace):
        os.remove(trace)
    status, text, elapsed = qemu.boot(run.fill(c.cmdline), run.cpus, os.environ.get("ACCEL", "tcg"), c.boot,
                                      c.timeout, log, c.input.encode("latin-1"),
                                      [run.fill(a) for a in c.qemu_args], kernel=kernel, mode=run.mode, trace=trace)
    results = judge(run, status, text, log[:-4] + ".qemu.log")
    if trace:
        problems = judge_trace(run, trace)
        if problems:
            ok, name, msg = results[0]
            results[0] = (False, name, "\n".join(([msg] if msg else []) + problems))
    return results, log, elapsed, status


def judge_trace(run, path):
    """The run's trace tells the check's story (trace_expect), and scripts/trace.py turns it into a picture
    (SVG and PNG) and Chrome Trace Event JSON that parse. Returns the problems."""
    import json
    import subprocess
    import xml.etree.ElementTree as ET
    try:
        tr = trace_tool.parse(path)
    except trace_tool.TraceError as e:
        return [f"trace: {e}"]
    problems = []
    for x in run.check.trace_expect:
        ok, found = trace_tool.check(tr, run.fill(x))
        if not ok:
            problems.append(f"trace: expected '{run.fill(x)}': {found} ({path})")
    prefix = path[:-len(".txt")]
    p = subprocess.run([PLOT_PY, os.path.join(TOP, "scripts", "trace.py"), path, "--out", prefix],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode:
        return problems + [f"trace.py could not draw or export the trace: {p.stdout.strip()}"]
    try:
        ET.parse(prefix + ".svg")
        with open(prefix + ".png", "rb") as f:
            if f.read(8) != b"\x89PNG\r\n\x1a\n":
                problems.append(f"{prefix}.png is not a PNG")
        events = json.load(open(prefix + ".json"))["traceEvents"]
        if not any(e.get("cat") == "irq" and e.get("ph") == "X" for e in events):
            problems.append(f"{prefix}.json has no interrupt slices")
    except (OSError, ET.ParseError, ValueError, KeyError) as e:
        problems.append(f"trace.py's output does not parse: {e}")
    return problems
