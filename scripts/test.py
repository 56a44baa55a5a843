#!/usr/bin/env python3
"""scripts/test.py: `make test`: host unit tests, every check of tests/checks/ and labs/*/, and the handout's grade.

    scripts/test.py [HOST_TEST_BINARY...]      (make test [ONLY=pattern])

Prints one line per result, "PASS name (time)" or "FAIL name: why" with the
log's path and its last lines, and ends with "N passed, M failed".
ONLY=pattern runs the checks whose name contains the pattern (or matches it
as a glob), and skips the host tests unless it names them ("host").

How the work shares the host (run_jobs()): deterministic QEMUs go two at a
time, one per core (guest time is virtual, so a neighbour cannot change what
a run prints); the parallel-mode runs go first, each alone, with no other
QEMU beside it. The host-only work (host tests, the tools' tests, the
handout's build) runs meanwhile in a process of its own at idle priority
(HostWork), on the core a parallel-mode run mostly leaves idle.

The lab pages' sample runs (scripts/samples.py) run with the deterministic
checks: samples/LAB/VARIANT-cpusN passes when the run prints the lines the
page shows.

Two results about `make grade`:
  grade/full-tree   the graded checks that just ran scored full marks;
  handout/...       the student tree (scripts/handout.py) builds, and its
                    `make grade` fails every exercise check and passes every other.
"""
import concurrent.futures
import fnmatch
import json
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
import qemu  # noqa: E402
import samples  # noqa: E402

LOGDIR = os.path.join("build", "test-logs")
JOBS = min(2, os.cpu_count() or 1)      # QEMUs at once in deterministic mode: one per host core
DURATIONS = os.path.join(LOGDIR, "durations.json")     # each job's seconds in the last run (run_jobs())
HANDOUT = os.path.join("build", "handout")
HANDOUT_LOG = os.path.join(LOGDIR, "handout-grade.log")
passed = failed = 0
collected = None                        # in the host-work process: what report() would print (HostWork)


def report(ok, name, why="", log=None):
    global passed, failed
    if collected is not None:
        collected.append((ok, name, why, log))
        return
    if ok:
        passed += 1
        print(f"PASS {name}{f' ({why})' if why else ''}", flush=True)
        return
    failed += 1
    first, *rest = (why or "failed").splitlines()
    print(f"FAIL {name}: {first}")
    for line in rest:
        print(f"     {line}")
    if log and os.path.exists(log):
        print(f"     log: {log}")
        for line in open(log, errors="replace").read().splitlines()[-15:]:
            print(f"     | {line}")
    sys.stdout.flush()


def selected(name, only):
    return not only or only in name or fnmatch.fnmatch(name, only)


def collect(fn, *args):
    """In the host-work process: run fn; return what it returned and what it reported."""
    global collected
    collected = []
    return fn(*args), collected


class HostWork:
    """The host-only work (no QEMU), in one process of its own at SCHED_IDLE priority, from the start. It
    gets a core only when no QEMU wants one, so it fills the core a parallel-mode run leaves idle (most of
    them keep one of the two busy) and never takes one from a QEMU; being another process, it never holds
    the GIL that the threads reading the QEMUs' consoles need. One task at a time (one worker; the
    handout builds with one compiler): measured beside a parallel-mode run, one such idle-priority task
    cost lock_spin at 4 CPUs 2% of its time (7.41 -> 7.58 s) and ktest-concurrent nothing, two of them
    5% and 15%. Its results are printed by drain()."""

    def __init__(self):
        sys.stdout.flush()              # the process is forked at the first submit(): nothing to print twice
        self.pool = concurrent.futures.ProcessPoolExecutor(1, initializer=os.sched_setscheduler,
                                                           initargs=(0, os.SCHED_IDLE, os.sched_param(0)))
        self.pending = []

    def submit(self, fn, *args):
        """Run fn(*args) there; its future's result is (what fn returned, what it reported)."""
        future = self.pool.submit(collect, fn, *args)
        self.pending.append(future)
        return future

    def drain(self, wait=False):
        """Print the results of the work that is over, in the order it was submitted; wait: all of it."""
        while self.pending and (wait or self.pending[0].done()):
            for r in self.pending.pop(0).result()[1]:
                report(*r)

    def close(self):
        """Print the rest and end the process (before exit: left to the interpreter's exit, the executor's
        clean-up can race its own thread and print an OSError)."""
        self.drain(wait=True)
        self.pool.shutdown()


class Job:
    """A piece of make test's QEMU work: run() in a thread of its own, keeping `width` host cores busy
    (exclusive: all of them, and no other QEMU beside it); done(what run returned) reports it."""

    def __init__(self, name, run, done, width=1, exclusive=False):
        self.name, self.run, self.done, self.exclusive = name, run, done, exclusive
        self.width = JOBS if exclusive else min(width, JOBS)


def run_jobs(jobs, host):
    """Run the jobs, each as soon as `width` of the JOBS slots are free, in this order: the exclusive ones,
    then the wider, then the longer as the last run timed them (DURATIONS; untimed ones first, in the order
    given), so that no long job is left alone at the end while the other core idles. Each job's done() is
    called in the main thread, in that order, as soon as the job and those before it are over, after the
    results of the host work that is over by then."""
    try:
        with open(DURATIONS) as f:
            durations = json.load(f)
    except (OSError, ValueError):
        durations = {}
    jobs = sorted(jobs, key=lambda j: (not j.exclusive, -j.width, -durations.get(j.name, math.inf)))
    free, stop = threading.Semaphore(JOBS), threading.Event()
    futures = [concurrent.futures.Future() for _ in jobs]

    def one(job, future):
        start = time.monotonic()
        try:
            result = job.run()
            durations[job.name] = time.monotonic() - start
            future.set_result(result)
        except BaseException as e:
            future.set_exception(e)
        for _ in range(job.width):
            free.release()

    def dispatch():
        for job, future in zip(jobs, futures):
            for _ in range(job.width):
                free.acquire()
            if stop.is_set():           # the main thread gave up (an exception, Ctrl-C): start nothing more
                return
            threading.Thread(target=one, args=(job, future)).start()

    threading.Thread(target=dispatch, daemon=True).start()
    try:
        for job, future in zip(jobs, futures):
            result = future.result()
            host.drain()
            job.done(result)
    finally:
        stop.set()
    with open(DURATIONS, "w") as f:
        json.dump(durations, f, indent=0, sort_keys=True)


def host_tests(binaries):
    """Host unit tests print KTAP; each case is one result."""
    for b in binaries:
        t = os.path.basename(b)
        p = subprocess.run([b], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
        with open(os.path.join(LOGDIR, t + ".log"), "w") as f:
            f.write(p.stdout)
        cases = re.findall(r"^(not )?ok \d+ (.*)$", p.stdout, re.M)
        for bad, case in cases:
            report(not bad, f"host/{t}/{case}", "" if not bad else "failed (see the log)",
                   None if not bad else os.path.join(LOGDIR, t + ".log"))
        if p.returncode and not any(bad for bad, _ in cases):
            report(False, f"host/{t}", f"exited with status {p.returncode} and no failing case (crash?)",
                   os.path.join(LOGDIR, t + ".log"))
        if not cases:
            report(False, f"host/{t}", "reported no test cases")


def tool_tests():
    """The host tools' own rules: the handout's markers and the check format's refusals."""
    import handout
    src = "a\n    // BEGIN SOLUTION\n    secret();\n    // END SOLUTION\n    // STUB: return 0;\nb\n"
    out = handout.strip_solutions("x.c", src)
    report(out == "a\n    return 0;\nb\n", "tools/handout-markers", "" if out == "a\n    return 0;\nb\n" else
           f"stripped to {out!r}")
    for bad, why in (("// BEGIN SOLUTION\nx\n", "without an END SOLUTION"), ("// END SOLUTION\n", "without a BEGIN")):
        try:
            handout.strip_solutions("x.c", bad)
            report(False, "tools/handout-unbalanced", f"accepted {bad!r}")
        except ValueError as e:
            report(why in str(e) and "x.c:1" in str(e), "tools/handout-unbalanced", "" if why in str(e) else str(e))
    import lab_campaign
    listed = [(lab, v) for lab, v, _, _ in lab_campaign.variants()]
    report(listed == qemu.lab_variants(), "tools/campaign-variants", "" if listed == qemu.lab_variants() else
           f"read expected verdicts for {len(listed)} of {len(qemu.lab_variants())} LAB_VARIANT lines")
    texts = ((41, "[    1.000000][    C2] stall/lock_spin: REPRODUCED: x\n", "REPRODUCED"),
             (37, "[    0.900000][    C0] lab: irq_inversion/deadlock needs 3 CPUs and this machine has 2 online\n",
              "refused"),
             (124, "[    0.9][    C0] stall/lock_spin: REPRODUCED in a comment\n", "no verdict (timeout)"))
    got = [lab_campaign.verdict(*name.split("/"), status, text) for name, (status, text, _) in
           zip(("stall/lock_spin", "irq_inversion/deadlock", "stall/lock_spin"), texts)]
    want = [w for _, _, w in texts]
    report(got == want, "tools/campaign-verdicts", "" if got == want else f"read {got}, expected {want}")
    path = os.path.join(LOGDIR, "bad-check.toml")
    for body, why, name in (('expct = ["typo"]\n', "unknown field(s) expct", "tools/check-unknown-field"),
                            ('modes = ["fast"]\n', "modes must be a list of deterministic and parallel",
                             "tools/check-bad-mode"),
                            ('parallel_cpus = [2]\n', "parallel_cpus without", "tools/check-parallel-cpus-alone")):
        refused(name, path, '[[check]]\nname = "x"\ncmdline = ""\n' + body, checks.load, why)
    bench_tests()


BENCH_LOG = os.path.join("tests", "tools", "bench-tcg-8cpus.log")     # a recorded `make bench` console (TCG)
BENCH_ROWS = (["tsc_pair"] + [f"{p}/{v}" for p in ("irqsave", "counted", "spin_lock", "spin_lock_irqsave")
                              for v in ("lockdep", "nolockdep")] + ["ipi"] + [f"shootdown/{n}" for n in range(1, 8)])


def bench_rows_ok(result):
    """'' when result (bench.parse()) has every row of an 8-CPU bench=all, in order, none skipped; else why not."""
    names = [r["name"] for r in result["rows"]]
    if names != BENCH_ROWS or result["skipped"]:
        return f"rows {names}, skipped {result['skipped']}; expected {BENCH_ROWS}"
    return ""


def bench_tests():
    """scripts/bench.py on a recorded table: the parser, its refusals, and the writer (text, JSON, PNG, SVG)."""
    import bench
    import xml.etree.ElementTree as ET
    text = open(BENCH_LOG).read()
    try:
        result = bench.parse(text)
        why = bench_rows_ok(result) or ("" if result["machine"]["cpus"] == 8 and
                                        result["machine"]["hypervisor"].startswith("TCG") else
                                        f"machine line read as {result['machine']}")
    except ValueError as e:
        why = str(e)
    report(not why, "tools/bench-parse", why)
    row = next(line for line in text.splitlines() if "bench: ipi " in line)
    for name, bad, want in (
            ("tools/bench-unfinished", text[:text.index("bench: shootdown/7")], "no 'bench: done' line"),
            ("tools/bench-row-missing", text.replace(row + "\n", ""), "'bench: done' says 17 rows"),
            ("tools/bench-bad-row", text.replace(row, row.replace(" 101  ", " 101 ")), "is not a line of the bench"),
            ("tools/bench-unordered", text.replace(row, row.replace("120393", "999999999")), "p10 <= median"),
            ("tools/bench-no-start", text.replace("bench: irqlab bench:", "bench: irqlab bunch:"), "not a line")):
        try:
            bench.parse(bad)
            report(False, name, "accepted")
        except ValueError as e:
            report(want in str(e), name, "" if want in str(e) else f"refused, but with {e}")
    out = os.path.join(LOGDIR, "bench")
    shutil.rmtree(out, ignore_errors=True)
    # The writer draws with matplotlib, which Debian's interpreter has (make deps), as `make bench` runs it.
    p = subprocess.run(["/usr/bin/python3", os.path.join("scripts", "bench.py"), "--from-log", BENCH_LOG, "--out", out],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    why = "" if p.returncode == 0 else f"exited {p.returncode}:\n{p.stdout[-2000:]}"
    try:
        if not why:
            with open(os.path.join(out, "bench.json")) as f:
                why = bench_rows_ok(json.load(f))
            with open(os.path.join(out, "bench.png"), "rb") as f:
                why = why or ("" if f.read(8) == b"\x89PNG\r\n\x1a\n" else "bench.png is not a PNG")
            root = ET.parse(os.path.join(out, "bench.svg")).getroot()
            why = why or ("" if root.tag.endswith("svg") else f"bench.svg's root is {root.tag}")
            txt = open(os.path.join(out, "bench.txt")).read().splitlines()
            why = why or ("" if txt == result["lines"] else "bench.txt is not the table as the kernel printed it")
            why = why or ("" if all(f"wrote {os.path.join(out, n)}" in p.stdout for n in
                                    ("bench.txt", "bench.json", "bench.png", "bench.svg")) else
                          f"did not print the four paths:\n{p.stdout[-500:]}")
    except (OSError, ValueError, ET.ParseError) as e:
        why = str(e)
    report(not why, "tools/bench-write", why)


def bench_table_test(outcome):
    """The bench-all check's fresh console, read by scripts/bench.py's parser: every row in the line format."""
    if "bench-all" not in outcome:
        return
    import bench
    log = os.path.join(LOGDIR, "bench-all.log")
    try:
        why = bench_rows_ok(bench.parse(open(log, errors="replace").read()))
    except (OSError, ValueError) as e:
        why = str(e)
    report(not why, "bench-all/table", why, log if why else None)


def trace_tool_tests():
    """scripts/trace.py on two small recorded traces (tests/trace/, cut from real runs of the stall lab): the
    story's assertions hold where they should and fail where they should not, the Chrome JSON has the
    slices and the IPI's flow, the picture (Debian's matplotlib, $PLOT_PY) parses, and bad input gets a
    message naming the file and line or the valid forms."""
    import xml.etree.ElementTree as ET
    import trace as trace_tool          # scripts/trace.py
    spin, window = (trace_tool.parse(os.path.join("tests", "trace", n)) for n in ("lock_spin.txt",
                                                                                   "broken_restore.txt"))
    cases = ((spin, "ipi 1->0 never entered", True), (spin, "ipi 1->0 entered inside 0xec", False),
             (window, "ipi 1->0 entered inside 0xec", True), (window, "ipi 1->0 never entered", False),
             (spin, "event detector", True), (window, "event detector", False), (spin, "ipi 0->1 never entered", False))
    bad = [f"{'lock_spin' if tr is spin else 'broken_restore'}: {x!r} gave {trace_tool.check(tr, x)}, expected {want}"
           for tr, x, want in cases if trace_tool.check(tr, x)[0] != want]
    report(not bad, "tools/trace-expect", "\n".join(bad))
    problems = []
    cpu0_open = [i for i in spin.irqs if i[0] == 0 and not i[5]]
    if [i[1] for i in cpu0_open] != [0xec]:
        problems.append(f"lock_spin: CPU 0's unreturned handlers {cpu0_open}, expected the timer's (0xec)")
    if not any(c == 0 and t1 == spin.end for c, _, t1 in spin.if_off):
        problems.append("lock_spin: CPU 0 is not IF=0 to the end")
    if not any(c == 0 and contended and t2 == spin.end for c, _, _, _, t2, contended in spin.locks):
        problems.append("lock_spin: CPU 0 does not spin on a lock to the end")
    events = trace_tool.chrome_json(window)["traceEvents"]
    if not any(e["ph"] == "X" and e["name"].startswith("irq 0xfb") and e["args"]["depth"] == 2 for e in events):
        problems.append("broken_restore JSON: no 0xfb slice at depth 2")
    flows = [e for e in events if e["ph"] in ("s", "f")]
    if sorted((e["ph"], e["pid"]) for e in flows if e["name"].startswith("IPI 0xfb CPU1->CPU0")) != [("f", 0), ("s", 1)]:
        problems.append(f"broken_restore JSON: the IPI's flow is not CPU 1 -> CPU 0: {flows}")
    json.loads(json.dumps(trace_tool.chrome_json(spin)))
    report(not problems, "tools/trace-model-json", "\n".join(problems))
    prefix = os.path.join(LOGDIR, "trace-broken_restore")
    p = subprocess.run([os.environ.get("PLOT_PY", "/usr/bin/python3"), "scripts/trace.py", "tests/trace/broken_restore.txt",
                        "--out", prefix, "--focus", "ipi"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        ok = p.returncode == 0 and ET.parse(prefix + ".svg") and open(prefix + ".png", "rb").read(4) == b"\x89PNG"
        why = "" if ok else f"status {p.returncode}: {p.stdout}"
    except (OSError, ET.ParseError) as e:
        ok, why = False, f"{e}\n{p.stdout}"
    report(ok, "tools/trace-picture", why)
    path = os.path.join(LOGDIR, "bad-trace.txt")
    good_head = "# irqlab trace 1\n# zero 0\n# cpus 1\n"
    for name, text, why in (("empty", "", "not an irqlab trace"),
                            ("bad-line", good_head + "12 0 irq_handler_entry vector=0xec depth=1\nhello\n# end\n",
                             "bad-trace.txt:5: not an event line"),
                            ("unknown-event", good_head + "12 0 irq_party\n# end\n", "unknown event 'irq_party'; valid:"),
                            ("cut-short", good_head + "12 0 irq_handler_entry vector=0xec depth=1\n", "no '# end' line")):
        refused(f"tools/trace-refuses-{name}", path, text, trace_tool.parse, why)
    try:
        trace_tool.check(spin, "ipi one->zero")
        report(False, "tools/trace-refuses-expectation", "accepted 'ipi one->zero'")
    except trace_tool.TraceError as e:
        report("valid: ipi S->D never entered" in str(e), "tools/trace-refuses-expectation", str(e))
    p = subprocess.run([sys.executable, "scripts/trace.py", path, "--expect", "ipi 1->0 never entered"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    report(p.returncode == 1 and p.stdout.startswith("trace.py: ") and "Traceback" not in p.stdout,
           "tools/trace-cli-message", "" if p.returncode == 1 else f"status {p.returncode}: {p.stdout}")


def refused(name, path, text, load, why):
    """The result `name`: load(path) must refuse `text` (written to path) with a message containing `why`."""
    with open(path, "w") as f:
        f.write(text)
    try:
        load(path)
        report(False, name, f"accepted:\n{text}")
    except ValueError as e:
        report(why in str(e), name, "" if why in str(e) else str(e))


def sample_tests():
    """The samples' comparison (scripts/samples.py): numbers, their padding and the order of lines may differ,
    text may not; a broken marker is refused by line."""
    page = samples.Sample("x.md", "stall", "lock_spin", 4, 0, 0,
                          ["lab: stall/lock_spin: x", "       9.308  CPU0  task  IF=1  at setup+0x61/0x7d",
                           "stall/lock_spin: REPRODUCED: CPU 1 waited 5 ms"])
    cases = (("identical", page.shown),
             ("numbers", [page.shown[0], "      10.077  CPU0  task  IF=1  at setup+0x61/0x82", page.shown[2]]),
             ("order", [page.shown[1], page.shown[0], page.shown[2]]),
             (None, [page.shown[0], page.shown[1], "stall/lock_spin: NOT REPRODUCED: CPU 1 waited 5 ms"]),
             (None, page.shown[:2]))
    bad = [f"{got!r}: {samples.compare(page, got)!r}, expected {want!r}" for want, got in cases
           if samples.compare(page, got) != want]
    report(not bad, "tools/samples-compare", "\n".join(bad))
    path = os.path.join(LOGDIR, "bad-sample.md")
    refused("tools/samples-bad-marker", path, "text\n<!-- BEGIN OUTPUT make run LAB=stall -->\n<!-- END OUTPUT -->\n",
            samples.find, f"{path}:2: a BEGIN OUTPUT marker must read")


def threshold_tests():
    """make run LAB=... in deterministic mode boots with Linux's detector thresholds, keeping any KARGS sets."""
    got = qemu.with_linux_thresholds("lab=stall watchdog_thresh=2")
    want = "lab=stall watchdog_thresh=2 rcu_cpu_stall_timeout=21 csd_lock_timeout=5000"
    report(got == want, "tools/linux-thresholds", "" if got == want else f"{got!r}, expected {want!r}")
    # a make of its own: not the DETERMINISTIC (or other variables) `make test` was given
    env = {k: v for k, v in os.environ.items() if k not in ("DETERMINISTIC", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    # the sample runs on the lab pages (scripts/samples.py) boot what make run boots: the kernel directly
    p = subprocess.run(["make", "-n", "--no-print-directory", "run", "LAB=stall", "VARIANT=lock_spin", "KARGS=hz=100"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    m = re.search(r"qemu\.py --interactive --linux-thresholds (?!.*--iso).*-- (.*)", p.stdout)
    got = qemu.with_linux_thresholds(m.group(1).strip()) if m else None
    want = qemu.run_cmdline("stall", "lock_spin", "hz=100")
    report(got == want, "tools/make-run-cmdline", "" if got == want else
           f"make run boots {got!r} (or not directly), qemu.run_cmdline() (the lab pages' samples) says "
           f"{want!r}, booted directly:\n{p.stdout}")
    for args, expect in ((["LAB=stall"], True), (["LAB=stall", "DETERMINISTIC=0"], False), ([], False)):
        p = subprocess.run(["make", "-n", "--no-print-directory", "run"] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=env)
        has = "--linux-thresholds" in p.stdout
        report(has == expect, f"tools/make-run-thresholds{''.join('-' + a for a in args)}",
               "" if has == expect else f"make -n run {' '.join(args)}: Linux's thresholds "
               f"{'missing' if expect else 'added'}:\n{p.stdout}")


# The command line and CPU counts determinism_tests() boots twice each: idle CPUs poll (idle=poll), since
# QEMU 7.2 can move its clock by host timing when a vCPU halts (docs/deterministic.md).
DETERMINISM_BOOTS = [("test=all idle=poll", cpus) for cpus in (1, 2, 4)]


def determinism_tests(outs):
    """Deterministic mode's own promises (docs/deterministic.md): with idle=poll, a run boots twice to the
    same bytes at 1, 2 and 4 CPUs, and under icount the TSC calibrates to the virtual clock's 1 GHz and
    the LAPIC timer to its 62.5 MHz (1 GHz / 16). With idle=halt (the default) a vCPU's halt can let the
    host's timing in, so the other checks hold the verdicts and checked lines instead.
    outs: for each of DETERMINISM_BOOTS, its two boots, (QEMU's status, the console), in deterministic mode."""
    for (cmdline, cpus), ((st1, a), (st2, b)) in zip(DETERMINISM_BOOTS, outs):
        name = f"determinism/ktest-cpus{cpus}"
        log = os.path.join(LOGDIR, name.replace("/", "-"))
        for k, text in (("1", a), ("2", b)):
            with open(f"{log}.{k}.log", "w") as f:
                f.write(text)
        if a == b and st1 == st2:
            report(True, name, f"{len(a)} bytes, the same twice")
        else:
            line = next((n for n, (x, y) in enumerate(zip(a.splitlines(), b.splitlines()), 1) if x != y), None)
            report(False, name, f"two deterministic runs of '{cmdline}' differ (status {st1} and {st2}; first at "
                   f"line {line}): diff {log}.1.log {log}.2.log")
    (_, a), _ = outs[0]
    log = os.path.join(LOGDIR, "determinism-ktest-cpus1")
    tsc = re.search(r"tsc: calibrated against the PIT: (\d+) kHz", a)
    lapic = re.search(r"LAPIC timer: (\d+) kHz after divide-by-16", a)
    problems = []
    if not tsc or abs(int(tsc.group(1)) - 1000000) > 1000:
        problems.append(f"TSC: {tsc.group(1) + ' kHz' if tsc else 'no calibration line'}, expected 1000000 kHz +-1000 ppm")
    if not lapic or abs(int(lapic.group(1)) - 62500) > 63:
        problems.append(f"LAPIC timer: {lapic.group(1) + ' kHz' if lapic else 'no line'}, expected 62500 kHz +-1000 ppm")
    if "no clean PIT shot" in a:
        problems.append("the calibration found no clean PIT shot (is the icount shift too large?)")
    report(not problems, "determinism/calibration", "TSC 1 GHz, LAPIC 62.5 MHz" if not problems else
           "\n".join(problems), f"{log}.1.log")


def gdb_jobs(only):
    """The gdb toolkit (scripts/gdb/irqlab.py) in batch sessions (scripts/gdb_lab.py), at 2 and 4 CPUs, as
    deterministic runs (every stop is an event, not a moment: no host timing involved):
    il-stall names the waiter, the target, the function and the lock; `bt` on the stuck CPU crosses the
    interrupt frame into the interrupted code; il-window lets the call-function IPI in through
    broken_restore's window; il-sti-break never stops in real_restore, which runs to its verdict; il-cpus shows
    a tasklet's CPU in softirq context, over the interrupt whose exit runs it."""
    import gdb_lab
    sessions = {
        "stall-explained": ("lab=stall variant=lock_spin", ["il-stall", "thread 1", "bt"], [
            r"CPU 1, running stall_flush/1 \(pid \d+\), waits in csd_lock_wait for CPU 0's flush_tlb_func",
            r"CPU 0 has IF=0 in hardirq.* in the hrtimer callback stall_advance_sched, spinning on sched_lock "
            r"held by CPU 1\.",
            r"--- interrupt: vector 0xec \(.*\), arrived with IF=1 --- .*\n#\d+ +0x[0-9a-f]+ in [a-z_]\w* \("], []),
        "window": ("lab=stall variant=broken_restore", ["hbreak stall_rendezvous", "continue", "delete",
                                                         "il-sti-break 0", "continue", "il-window"], [
            r"il-window: vector 0xf[bc] \((Single function call|Function call) interrupts, class 0xf\) came in",
            r"QEMU's step flags are back to 0x7"], []),
        "softirq-context": ("test=softirq_raise_runs_on_irq_exit", ["hbreak record_fn", "continue", "il-cpus"], [
            r"CPU 0 \(thread \d+, APIC id 0\): IF=1 in softirq run at the exit of vector 0x46 \(softirq test\), "
            r"at record_fn",
            r"preempt_count 0x00000100: preempt 0, softirq serving \+ BH-disable depth 0",
            r"softirqs: pending none; ksoftirqd/0 sleeping; runs: 1 at irq exit",
            r"interrupt: vector 0x46 \(softirq test\) arrived with IF=1"], []),
        "no-sti-in-hardirq": ("lab=stall variant=real_restore", ["il-sti-break", "hbreak qemu_exit", "continue",
                                                                  "il-dmesg 1"], [
            r"il-sti-break: stopping before each sti in hardirq", r"Breakpoint \d+, qemu_exit \(",
            r"stall/real_restore: NOT REPRODUCED"], [r"il-sti-break: CPU \d"]),
    }

    def job(name, cpus):
        cmdline, commands, expect, reject = sessions[name]
        log = os.path.join(LOGDIR, f"gdb-{name}-cpus{cpus}")

        def done(session):
            out, _, elapsed = session
            problems = [f"missing: {e}" for e in expect if not re.search(e, out)]
            problems += [f"unexpected: {r}" for r in reject if re.search(r, out)]
            report(not problems, f"gdb/{name}-cpus{cpus}", f"{elapsed * 1000:.0f} ms" if not problems else
                   "\n".join(problems), f"{log}.gdb.log")
        return Job(f"gdb/{name}-cpus{cpus}", lambda: gdb_lab.session(cmdline, cpus, commands, log, timeout=30), done)

    return [job(name, cpus) for name in sessions for cpus in (2, 4) if selected(f"gdb/{name}-cpus{cpus}", only)]


def fuzz_job():
    """A small seeded slice of scripts/fuzz.py (make fuzz runs the long campaign): mutated command lines,
    ACPI tables and monitor lines, each boot judged clear message, clear stop, or failure. Two QEMUs at a
    time (fuzz.quick_slice())."""
    import fuzz

    def run():
        start = time.monotonic()
        return fuzz.quick_slice(), time.monotonic() - start

    def done(result):
        (counts, failures), seconds = result
        report(not failures, "fuzz/slice", f"{fuzz.summary(counts)}; {seconds:.1f} s" if not failures
               else "\n".join(failures))
    return Job("fuzz/slice", run, done, width=2)


def run_all(all_checks, only, host, tree):
    """Every QEMU of make test, through run_jobs(): the selected checks, the lab pages' sample runs, the
    determinism boots, the fuzz slice, the gdb sessions, and (tree: the future of handout_tree()) the
    student tree's grade. Returns {check id: True if all its runs passed}."""
    runs = [r for c in all_checks for r in c.runs if selected(r.id, only)]
    try:
        sample_runs = [s for p in samples.pages() for s in samples.find(p) if selected(f"samples/{s.name}", only)]
    except (OSError, ValueError) as e:
        report(False, "samples", str(e))
        sample_runs = []
    outcome, ended = {}, {}             # ended: run id -> (QEMU's status, the console log)

    def check_job(run):
        def done(executed):
            results, log, elapsed, status = executed
            for i, (ok, name, msg) in enumerate(results):
                report(ok, name, f"{elapsed * 1000:.0f} ms" if ok and i == 0 else msg, log)
            outcome[run.check.id] = outcome.get(run.check.id, True) and all(ok for ok, _, _ in results)
            ended[run.id] = status, log
        return Job(run.id, lambda: checks.execute(run, LOGDIR), done, exclusive=run.mode == "parallel")

    def record_sample(sample, text, log, how_it_ended):
        got = samples.excerpt(text, sample.lab, sample.variant)
        how = samples.compare(sample, got) if got else None
        why = (f"{os.path.relpath(sample.page)} is out of date ({samples.difference(sample, got)}); `make samples` "
               "rewrites it") if got else f"the run printed no verdict ({how_it_ended})"
        report(how is not None, f"samples/{sample.name}", samples.MATCH[how] if how else why, log)

    def sample_job(sample):
        def done(booted):
            status, text, log = booted
            record_sample(sample, text, log, qemu.explain(status))
        return Job(f"samples/{sample.name}", lambda: samples.boot(sample, LOGDIR), done)

    # A boot that a deterministic check makes anyway (the same command line and CPUs, booted directly, with
    # nothing typed, no other QEMU arguments and no trace, which turns the tracer on) is not made twice: a
    # sample is judged from that check's log, and determinism_tests() compares it with a second boot.
    same_boot = {(r.fill(r.check.cmdline), r.cpus): r for r in runs if r.mode == "deterministic" and
                 r.check.boot == "kernel" and not r.check.qemu_args and not r.check.input and not r.check.trace_expect}
    shared = {s: same_boot.get((qemu.run_cmdline(s.lab, s.variant), s.cpus)) for s in sample_runs}
    # determinism_tests()' two boots of each: a check's, or one of its own (None)
    determinism = [(boot, k, same_boot.get(boot) if k == 0 else None) for boot in DETERMINISM_BOOTS for k in (0, 1)
                   ] if selected("determinism", only) else []
    booted = {}

    def determinism_job(boot, k):
        def run():
            return qemu.boot(*boot, timeout=60, mode="deterministic")[:2]

        def done(out):
            booted[boot, k] = out
        return Job(f"determinism/cpus{boot[1]}-boot{k}", run, done)

    # In the order run_jobs() keeps for what the last run did not time: the parallel-mode runs, the wide
    # jobs, the samples (Linux's detector thresholds: up to 7 s), then the runs with the most CPUs.
    jobs = [check_job(r) for r in runs if r.mode == "parallel"]
    jobs += [handout_grade_job(tree)] if tree else []
    jobs += [fuzz_job()] if selected("fuzz", only) else []
    jobs += [sample_job(s) for s in sample_runs if not shared[s]]
    jobs += [check_job(r) for r in sorted(runs, key=lambda r: -r.cpus) if r.mode == "deterministic"]
    jobs += gdb_jobs(only)
    jobs += [determinism_job(boot, k) for boot, k, run in determinism if not run]
    run_jobs(jobs, host)
    for sample, run in shared.items():
        if run:
            log = ended[run.id][1]
            record_sample(sample, open(log, errors="replace").read(), log, f"see {run.id}")
    if determinism:
        outs = [(ended[run.id][0], open(ended[run.id][1], errors="replace").read()) if run else booted[boot, k]
                for boot, k, run in determinism]
        determinism_tests(list(zip(outs[::2], outs[1::2])))
    return outcome


def full_tree_grade(all_checks, outcome):
    graded = [c for c in all_checks if c.points > 0]
    if not graded or any(c.id not in outcome for c in graded):
        return                          # ONLY= left some out: no grade to speak of
    score = sum(c.points for c in graded if outcome[c.id])
    possible = sum(c.points for c in graded)
    missed = [c.id for c in graded if not outcome[c.id]]
    report(score == possible, "grade/full-tree", f"Score: {score}/{possible}" if score == possible else
           f"Score: {score}/{possible}, expected full marks; failed: {', '.join(missed)}")


def reuse_objects(tree):
    """Seed the student tree's build/ with this tree's kernel objects, times kept. The handout copies
    every unchanged source with its time, so make rebuilds only the student files (whose stubs make them
    newer) and what includes them, then relinks: the same build as from scratch, in a fraction of the time."""
    for d, _, names in os.walk("build"):
        if os.path.relpath(d, "build").split(os.sep)[0] in ("handout", "host", "test-logs", "grade", "acpi"):
            continue
        for n in names:
            if n.endswith((".o", ".d")) and not (d == "build" and n.startswith("ksyms")):
                dst = os.path.join(tree, d)
                os.makedirs(dst, exist_ok=True)
                shutil.copy2(os.path.join(d, n), os.path.join(dst, n))


def handout_tree():
    """Host work: write the student tree and build its kernel (HANDOUT_LOG), one compiler at a time, so that
    the host work never wants more than the one core a parallel-mode run leaves idle. Returns make's
    status, or None if the tree could not be written."""
    p = subprocess.run([sys.executable, "scripts/handout.py", HANDOUT], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    report(p.returncode == 0, "handout/written", p.stdout.strip().splitlines()[-1] if p.returncode else "")
    if p.returncode:
        return None
    reuse_objects(HANDOUT)
    with open(HANDOUT_LOG, "w") as f:
        return subprocess.run(["make", "-C", HANDOUT, "--no-print-directory", "build/kernel.elf"], stdout=f,
                              stderr=subprocess.STDOUT).returncode


def handout_grade_job(tree):
    """The student tree's `make grade` (two QEMUs at a time), once handout_tree() (its future: tree) has
    built it; then each graded check held to what it should do there."""
    def run():
        status = tree.result()[0]
        start = time.monotonic()
        if status == 0:
            with open(HANDOUT_LOG, "a") as f:
                status = subprocess.run(["make", "-C", HANDOUT, "--no-print-directory", "grade"], stdout=f,
                                        stderr=subprocess.STDOUT).returncode
        return status, time.monotonic() - start

    def done(graded):
        status, seconds = graded
        if status is None:
            return                      # not written: handout/written said so
        results = os.path.join(HANDOUT, "build", "grade", "results.json")
        if not os.path.exists(results):
            report(False, "handout/grade", f"make grade in the student tree wrote no results (status {status})",
                   HANDOUT_LOG)
            return
        report(True, "handout/grade", f"{seconds:.1f} s, {json.load(open(results))['score']} points")
        tests = {t["name"].split(": ")[0]: t for t in json.load(open(results))["tests"]}
        tree_top = os.path.abspath(HANDOUT)
        for c in checks.all_checks(top=tree_top, labs=checks.lab_names(tree_top)):
            if c.points == 0:
                continue
            t = tests.get(c.id)
            if t is None:
                report(False, f"handout/{c.id}", "the student tree's grade did not run it", HANDOUT_LOG)
            elif c.exercise:
                report(t["score"] == 0, f"handout/{c.id}", "" if t["score"] == 0 else
                       "an exercise check passed with the starter code: it cannot tell a solution from none",
                       HANDOUT_LOG)
            else:
                report(t["score"] == t["max_score"], f"handout/{c.id}", "" if t["score"] == t["max_score"] else
                       f"a check that does not depend on the exercise failed in the student tree:\n{t['output']}",
                       HANDOUT_LOG)
    return Job("handout/grade", run, done, width=2)


def main():
    only = os.environ.get("ONLY", "")
    os.makedirs(LOGDIR, exist_ok=True)
    host = HostWork()
    tree = host.submit(handout_tree) if selected("handout", only) else None     # first: the grade waits for it
    if selected("host", only):
        host.submit(host_tests, sys.argv[1:])
    if selected("tools", only):
        for tests in (tool_tests, trace_tool_tests, sample_tests, threshold_tests):
            host.submit(tests)
    try:
        all_checks = checks.all_checks()
    except ValueError as e:
        report(False, "checks", str(e))
        all_checks = []
    outcome = run_all(all_checks, only, host, tree)
    bench_table_test(outcome)
    full_tree_grade(all_checks, outcome)
    host.close()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
