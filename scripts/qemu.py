#!/usr/bin/env python3
"""scripts/qemu.py: boot irqlab in QEMU once, and say what its exit status means.

The one place that knows how irqlab is started: QEMU's flags, the GRUB
configuration, and the exit statuses (read from drivers/qemu_exit.h, so the
kernel and the host tools cannot disagree). The Makefile, `make test`,
`make grade` and `make lab-repeat` all boot through it.

As a command it boots once and exits with QEMU's own status:

    scripts/qemu.py [--cpus N] [--boot kernel|iso] [--timeout S] [--log FILE] KEY=VALUE...
    scripts/qemu.py --cpus 2 lab=selfdeadlock variant=plain_lock; echo $?     # 41

    scripts/qemu.py --make-iso build/run.iso -- lab=stall     # the GRUB ISO; first entry: lab=stall

Two ways to run the guest's clock (`DETERMINISTIC=1|0`, see `clock_args()`):
deterministic (icount: guest time counts instructions, the vCPUs take turns
on one host thread, the host's load no longer changes what a run prints) and parallel
(multi-threaded TCG: real concurrency, guest time is the host's).

The serial console goes to stdout (and to --log). Statuses: see `exit_statuses()`
(33 pass, 35 fail, 37 bad boot, 39 detector stop, 41 reproduced, 43 not
reproduced), 124 when the hard timeout killed QEMU, 0 when the machine reset
(triple fault or reboot: QEMU runs with -no-reboot). --interactive attaches
the terminal (`make run`): the QEMU monitor is on Ctrl-A C; at the end it
prints what the status means and exits 0 if the run itself went right.
"""
import argparse
import os
import re
import select
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXIT_HEADER = os.path.join(TOP, "drivers", "qemu_exit.h")
TIMEOUT_STATUS = 124
MEMORY = "128M"

# Deterministic mode: -icount makes guest time follow the instruction
# count, 2^ICOUNT_SHIFT ns per instruction, and runs every vCPU in turn on
# one host thread (round-robin TCG); sleep=off skips the time the guest
# spends idle instead of waiting for it in real time. Why shift 9 (512 ns
# per instruction: a 1.95 MIPS machine whose TSC and LAPIC bus run at 1 GHz),
# measured on this tree (docs/deterministic.md): a CPU spinning on `pause`
# ends its turn at every `pause`, so a stall's guest second costs host time
# in proportion to the instructions in it, and each step of the shift halves
# that; shift 9 is the largest at which the TSC still calibrates cleanly, on
# Linux's 50 ms second-try PIT shots (kernel/time.c).
ICOUNT_SHIFT = 9
MODES = ("deterministic", "parallel")

# Linux's default detector thresholds (kernel/watchdog.c watchdog_thresh,
# CONFIG_RCU_CPU_STALL_TIMEOUT, kernel/smp.c csd_lock_timeout). The labs use
# shorter ones so that make test stays fast; `make run LAB=...` in
# deterministic mode, where a stall's guest seconds cost less wall time,
# boots with these so a student reads Linux's timings (docs/deterministic.md).
LINUX_THRESHOLDS = ("watchdog_thresh=10", "rcu_cpu_stall_timeout=21", "csd_lock_timeout=5000")


def with_linux_thresholds(cmdline):
    """cmdline plus Linux's default for every detector threshold it does not set itself."""
    keys = {w.split("=", 1)[0] for w in cmdline.split()}
    return " ".join([cmdline] * bool(cmdline) + [t for t in LINUX_THRESHOLDS if t.split("=")[0] not in keys])


def run_cmdline(lab, variant, kargs=""):
    """The command line `make run LAB= VARIANT= KARGS=` boots in deterministic mode (the Makefile's
    RUN_CMDLINE with --linux-thresholds; tools/make-run-cmdline holds the two together)."""
    return with_linux_thresholds(" ".join(w for w in (f"lab={lab}", f"variant={variant}", kargs) if w))


def clock_args(mode, accel="tcg"):
    """The QEMU flags of a clock mode: 'deterministic' (icount) or 'parallel' (multi-threaded TCG, or KVM)."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not valid; use deterministic or parallel")
    if mode == "parallel":
        return []
    if accel != "tcg":
        raise ValueError("DETERMINISTIC=1 needs ACCEL=tcg (icount counts TCG's instructions); "
                         "use DETERMINISTIC=0 with kvm")
    return ["-icount", f"shift={ICOUNT_SHIFT},sleep=off"]


def default_mode(accel="tcg"):
    """The mode $DETERMINISTIC chooses: 1 (the default with tcg) or 0 (the default with kvm)."""
    value = os.environ.get("DETERMINISTIC", "")
    if value == "":
        return "parallel" if accel == "kvm" else "deterministic"
    if value not in ("0", "1"):
        raise ValueError(f"DETERMINISTIC={value} is not valid; use 1 (icount: guest time counts instructions) "
                         "or 0 (multi-threaded TCG: real parallelism)")
    return "deterministic" if value == "1" else "parallel"


def exit_statuses():
    """{status: (name, meaning)} from drivers/qemu_exit.h's QEMU_EXIT_* lines.

    The device makes QEMU exit with (value << 1) | 1; the name is the
    macro's suffix in lower case with '-' for '_' (QEMU_EXIT_NOT_REPRODUCED:
    'not-reproduced'); the meaning is the comment after "status N: ".
    """
    found = {}
    with open(EXIT_HEADER) as f:
        for line in f:
            m = re.match(r"#define QEMU_EXIT_(\w+)\s+0x([0-9a-fA-F]+)\s+/\*\s*status (\d+): (.*?)\s*\*/", line)
            if not m:
                continue
            name, value, status, meaning = m.group(1), int(m.group(2), 16), int(m.group(3)), m.group(4)
            if (value << 1) | 1 != status:
                sys.exit(f"{EXIT_HEADER}: QEMU_EXIT_{name} is {value:#x}, which exits {(value << 1) | 1}, "
                         f"but its comment says status {status}")
            found[status] = (name.lower().replace("_", "-"), meaning)
    if not found:
        sys.exit(f"{EXIT_HEADER}: no QEMU_EXIT_* lines with a 'status N:' comment")
    return found


def exit_port():
    with open(EXIT_HEADER) as f:
        m = re.search(r"#define QEMU_EXIT_PORT\s+(0x[0-9a-fA-F]+)", f.read())
    return m.group(1)


def status_name(status, qemu_log=None):
    """The name of a QEMU exit status: 'pass', 'reproduced', ..., 'timeout', 'triplefault', 'reboot'."""
    if status in exit_statuses():
        return exit_statuses()[status][0]
    if status in (TIMEOUT_STATUS, -9, 137):
        return "timeout"
    if status == 0:
        if qemu_log and os.path.exists(qemu_log) and "Triple fault" in open(qemu_log, errors="replace").read():
            return "triplefault"
        return "reboot"
    return f"status{status}"


# Statuses after which `make run` says the run itself went right: a clean
# poweroff and either lab verdict. Anything else (an oops, a refused boot,
# a detector stop outside a lab, a reset, a timeout) is a failed run.
GOOD_RUN = ("pass", "reproduced", "not-reproduced")


def explain(status, qemu_log=None):
    name = status_name(status, qemu_log)
    if status in exit_statuses():
        return f"QEMU exited with status {status} ({name}): {exit_statuses()[status][1]}"
    if name == "timeout":
        return "QEMU was killed by the hard timeout: the machine hung and nothing ended the run"
    if name == "triplefault":
        return "QEMU exited with status 0: a triple fault reset the CPU (see the -d log)"
    if name == "reboot":
        return "QEMU exited with status 0: the machine rebooted (QEMU runs with -no-reboot)"
    return f"QEMU exited with status {status}, which irqlab never uses (did QEMU itself fail?)"


def qemu_argv(cpus=2, accel="tcg", boot="kernel", cmdline="", iso=None, kernel=None, extra=(), qemu_log=None,
              interactive=False, mode="deterministic", gdb=None, serial=None, trace=None):
    """The QEMU command line for one boot (the only copy of irqlab's QEMU flags).

    gdb: start halted, with a gdb stub on this TCP port (a number) or Unix socket (a path).
    serial: the serial console goes to this file instead of stdio (and has no input).
    trace: QEMU's debugcon (port 0xe9) writes to this file: the kernel's trace (kernel/trace.h, docs/trace.md)
    goes there, at the end of a lab run and on `trace dump`, so the console stays readable."""
    if not 1 <= cpus <= 8:
        raise ValueError(f"CPUS={cpus} is not valid; use 1 to 8")
    if accel not in ("tcg", "kvm"):
        raise ValueError(f"ACCEL={accel} is not valid; use tcg or kvm")
    # No VGA card and no network card: irqlab has a serial console and no driver for either, and their
    # option ROMs cost the firmware about 40 ms of host time per boot.
    argv = ["qemu-system-x86_64", "-m", MEMORY, "-smp", str(cpus), "-accel", accel, "-no-reboot", "-vga", "none",
            "-nic", "none", "-device", f"isa-debug-exit,iobase={exit_port()},iosize=0x04"] + clock_args(mode, accel)
    if interactive:
        argv += ["-nographic"]          # serial and QEMU's monitor on this terminal (Ctrl-A C)
    else:
        argv += ["-display", "none", "-monitor", "none", "-serial", f"file:{serial}" if serial else "stdio"]
    if gdb is not None:
        argv += ["-S", "-gdb", f"tcp::{gdb}" if str(gdb).isdigit() else f"unix:{gdb},server=on,wait=off"]
    if trace:
        argv += ["-debugcon", f"file:{trace}"]
    if qemu_log:
        argv += ["-d", "cpu_reset,guest_errors", "-D", qemu_log]
    if boot == "kernel":
        # qboot, the minimal firmware QEMU ships, rather than SeaBIOS: it starts the kernel after 46 ms of
        # guest time, the same in every run, where SeaBIOS took 3.46 s and now and then a few ms more, as
        # the host's timing leaked into it; with 2 CPUs or more the whole run then differed
        # (docs/deterministic.md). It also saves about 90 ms of host time per boot. GRUB (boot="iso")
        # needs a BIOS that boots CDs: SeaBIOS, QEMU's default.
        argv += ["-bios", "qboot.rom", "-kernel", kernel or os.path.join("build", "kernel.elf"), "-append", cmdline]
    elif boot == "iso":
        argv += ["-cdrom", iso]
    else:
        raise ValueError(f"boot must be kernel or iso, not {boot!r}")
    return argv + list(extra)


def qemu_env():
    """The environment QEMU runs in: ours, plus glibc's malloc asked to back its large allocations with
    transparent huge pages. QEMU copies and zeroes the kernel's whole image (11 MB, most of it .bss)
    several times over as it loads it; in 4 KiB pages that is about 8000 page faults per boot, 3500
    with the tunable. Measured on a 2-core VM (medians of 40 interleaved boots to a refused command line):
    231 ms per boot without, 162 ms with (QEMU's CPU time: 238 and 171 ms); make test boots about 280
    times. The guest sees nothing of it: the same machine, the same bytes out (a 1-CPU test=all run is
    identical either way). glibc before 2.35 ignores the tunable."""
    env = dict(os.environ)
    env["GLIBC_TUNABLES"] = ":".join(t for t in (env.get("GLIBC_TUNABLES"), "glibc.malloc.hugetlb=1") if t)
    return env


def grub_cfg(entries, timeout=0):
    """GRUB's configuration: serial console, then one menu entry per (title, command line)."""
    lines = ["serial --unit=0 --speed=115200", "terminal_input serial", "terminal_output serial",
             f"set timeout={timeout}", "set default=0"]
    for title, args in entries:
        lines += [f'menuentry "{title}" {{', f"    multiboot2 /boot/kernel.elf {args}".rstrip(), "}"]
    return "\n".join(lines) + "\n"


def lab_variants(top=TOP):
    """[(lab, variant)] from the LAB_VARIANT(lab, variant, ...) lines of labs/*/*.c, in file order."""
    found = []
    labs_dir = os.path.join(top, "labs")
    for lab in sorted(os.listdir(labs_dir)):
        d = os.path.join(labs_dir, lab)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith(".c"):
                with open(os.path.join(d, name)) as f:
                    found += re.findall(r"^LAB_VARIANT\((\w+),\s*(\w+),", f.read(), re.M)
    return found


def make_iso(iso, cmdline=None, kernel=os.path.join("build", "kernel.elf"), timeout=0):
    """Write a GRUB ISO: the first entry boots `cmdline` (if given), then the monitor, the
    self-tests and one entry per lab variant."""
    root = iso + ".d"
    os.makedirs(os.path.join(root, "boot", "grub"), exist_ok=True)
    entries = [(f"irqlab: {cmdline or 'monitor'}", cmdline)] if cmdline is not None else []
    entries += [("irqlab: monitor", ""), ("irqlab: self-tests", "test=all")]
    entries += [(f"irqlab lab: {lab}/{v}", f"lab={lab} variant={v}") for lab, v in lab_variants()]
    with open(os.path.join(root, "boot", "grub", "grub.cfg"), "w") as f:
        f.write(grub_cfg(entries, timeout))
    with open(kernel, "rb") as src, open(os.path.join(root, "boot", "kernel.elf"), "wb") as dst:
        dst.write(src.read())
    r = subprocess.run(["grub-mkrescue", "-d", "/usr/lib/grub/i386-pc", "-o", iso, root],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        sys.exit(f"grub-mkrescue failed:\n{r.stdout}")


def boot(cmdline="", cpus=2, accel="tcg", boot="kernel", timeout=60, log=None, input_bytes=b"", extra=(),
         echo=False, kernel=None, iso=None, mode="deterministic", trace=None):
    """Boot once, feed input_bytes to the serial console, wait at most `timeout` s.

    Returns (status, serial text with \\r removed and then whatever QEMU itself printed, elapsed
    seconds). With `log`, the serial output goes to that file and QEMU's -d log next to it
    (LOG.qemu.log). With echo, the serial output is copied to stdout as it comes. With trace, the
    kernel's trace goes to that file (qemu_argv()).

    Without input, the console is a regular file, not a pipe. QEMU's serial port writes to its
    chardev without blocking; when a pipe is full, it keeps the UART's transmitter busy until its
    main loop sees the pipe drain, and the guest's putc spins for as long as the host took to read:
    a deterministic run is then no longer one (docs/deterministic.md). A write to a regular file
    always completes. QEMU 7.2's file chardev has no input, so a run fed input keeps stdio; its
    bytes reach the guest whenever QEMU's main loop reads them, so such a run depends on the host's
    timing anyway.
    """
    qemu_log = (log[:-4] if log and log.endswith(".log") else log) + ".qemu.log" if log else None
    if boot == "iso" and not iso:
        iso = (log or os.path.join("build", "boot")) + ".iso"
        make_iso(iso, cmdline, kernel=kernel or os.path.join("build", "kernel.elf"))
    with tempfile.TemporaryDirectory(prefix="irqlab-console-") as tmp:
        console = None if input_bytes else os.path.join(tmp, "console")
        if console:
            open(console, "wb").close()
        argv = qemu_argv(cpus, accel, boot, cmdline, iso=iso, kernel=kernel, extra=extra, qemu_log=qemu_log,
                         mode=mode, trace=trace, serial=console)
        start = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=qemu_env())
        out, own = bytearray(), bytearray()    # the console; what QEMU itself printed (if console is a file)

        def take(chunk, into=out):
            if chunk:
                into.extend(chunk)
                if echo:
                    sys.stdout.buffer.write(chunk)
                    sys.stdout.flush()

        exited = os.pidfd_open(proc.pid)   # readable once QEMU has exited
        con = open(console, "rb") if console else proc.stdout
        try:
            if input_bytes:
                proc.stdin.write(input_bytes)
            proc.stdin.close()
            os.set_blocking(proc.stdout.fileno(), False)
            # Collect the console every 10 ms (QEMU writes it a byte at a time: waking for each write cost
            # ktest at 8 CPUs 0.5 s of CPU, a quarter of the run's), and see QEMU's exit at once.
            while (left := start + timeout - time.monotonic()) > 0 and not select.select(
                    [exited], [], [], min(left, 0.01))[0]:
                take(con.read())
                if console:
                    take(proc.stdout.read(), own)
            timed_out = proc.poll() is None
        finally:
            os.close(exited)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        os.set_blocking(proc.stdout.fileno(), True)
        take(con.read())
        if console:
            take(proc.stdout.read(), own)
            con.close()
        proc.stdout.close()
    if own:
        out.extend(b"\n" + own if out and not out.endswith(b"\n") else own)
    status = TIMEOUT_STATUS if timed_out else proc.returncode
    text = out.decode("utf-8", errors="replace").replace("\r", "")
    if log:
        with open(log, "w") as f:
            f.write(text)
    return status, text, time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description="Boot irqlab once in QEMU; exit with QEMU's status.")
    ap.add_argument("--cpus", type=int, default=int(os.environ.get("CPUS", 2)), help="1 to 8 (default $CPUS or 2)")
    ap.add_argument("--accel", default=os.environ.get("ACCEL", "tcg"), help="tcg (default) or kvm")
    ap.add_argument("--mode", choices=MODES, help="the guest's clock (default from $DETERMINISTIC: 1 deterministic, "
                    "0 parallel; 1 unless ACCEL=kvm)")
    ap.add_argument("--boot", default="kernel", choices=("kernel", "iso"),
                    help="kernel: qemu -kernel (multiboot1, fast); iso: the GRUB ISO (multiboot2)")
    ap.add_argument("--iso", help="with --interactive: the ISO to boot (its first entry carries the command line)")
    ap.add_argument("--timeout", type=float, default=120, help="hard limit in seconds (default 120)")
    ap.add_argument("--log", help="also write the serial output to this file")
    ap.add_argument("--interactive", action="store_true",
                    help="the terminal is the serial console (Ctrl-A X quits); explain the status at the end")
    ap.add_argument("--gdb", metavar="PORT", help="with --interactive: start halted, gdb stub on this port")
    ap.add_argument("--make-iso", metavar="ISO", help="write the GRUB ISO instead of booting; with a command line, "
                    "its first entry boots that (make run)")
    ap.add_argument("--trace", metavar="FILE", help="QEMU's debugcon writes to FILE: the kernel's interrupt trace "
                    "(docs/trace.md), at the end of a lab run and on `trace dump`")
    ap.add_argument("--linux-thresholds", action="store_true",
                    help="add Linux's default detector thresholds to the command line (those it does not set)")
    ap.add_argument("cmdline", nargs="*", metavar="KEY=VALUE", help="the kernel command line")
    a = ap.parse_args()
    cmdline = " ".join(a.cmdline)
    if a.linux_thresholds:
        cmdline = with_linux_thresholds(cmdline)
    if a.make_iso:
        make_iso(a.make_iso, cmdline if "--" in sys.argv else None)
        return
    try:
        mode = a.mode or default_mode(a.accel)
        if a.interactive:
            argv = qemu_argv(a.cpus, a.accel, "iso" if a.iso else "kernel", cmdline, iso=a.iso, mode=mode,
                             interactive=True, gdb=a.gdb, trace=a.trace)
            status = subprocess.call(argv, env=qemu_env())
            print(f"irqlab: {explain(status)}")
            sys.exit(0 if status_name(status) in GOOD_RUN else 1)
        status, _, _ = boot(cmdline, a.cpus, a.accel, a.boot, a.timeout, a.log, echo=True, mode=mode, trace=a.trace)
    except ValueError as e:
        sys.exit(f"qemu.py: {e}")
    if status == TIMEOUT_STATUS:
        print(f"\nirqlab: {explain(status)} (after {a.timeout:g} s)", file=sys.stderr)
    sys.exit(status)


if __name__ == "__main__":
    main()
