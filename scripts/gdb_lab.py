#!/usr/bin/env python3
"""scripts/gdb_lab.py: gdb with irqlab's toolkit (scripts/gdb/irqlab.py): attach to a waiting QEMU, or run one lab under gdb.

    gdb_lab.py attach --port PORT          make gdb: attach to the QEMU that `make qemu-gdb` started
    gdb_lab.py lab [--cpus N] [--serial FILE] [--linux-thresholds] -- KEY=VALUE...
                                           make gdb-lab: start QEMU halted in the background, attach,
                                           and stop QEMU when gdb exits

QEMU's flags come from qemu.py; gdb's command line is built here only
(gdb_argv()), for both targets and for the gdb tests of `make test`, which
drive whole sessions in batch mode through session().
"""
import argparse
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402

TOP = qemu.TOP
MODULE = os.path.join(TOP, "scripts", "gdb", "irqlab.py")
KERNEL = os.path.join(TOP, "build", "kernel.elf")


def gdb_argv(target, batch=False, commands=()):
    """gdb with the kernel's symbols and the toolkit loaded (-x: no auto-load safe-path to set), attached
    to target (host:port or a Unix socket's path); then each command, as -ex."""
    argv = ["gdb", "-q"] + (["-batch", "-nx", "-ex", "set pagination off"] if batch else [])
    argv += ["-x", MODULE, "-ex", f"target remote {target}"]
    for c in commands:
        argv += ["-ex", c]
    return argv + [KERNEL]


def listening(port):
    """Is a TCP socket listening on this port (on any address)? Read from /proc/net/tcp{,6}, without
    connecting: a connection would stop a running QEMU (its gdb stub pauses the machine on connect)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = [line.split() for line in f.readlines()[1:]]
        except OSError:
            continue
        if any(int(r[1].rsplit(":", 1)[1], 16) == port and r[3] == "0A" for r in rows):   # 0A: LISTEN
            return True
    return False


def attach(port):
    """make gdb: exec gdb attached to localhost:port, or say at once that nothing listens there."""
    if not listening(port):
        sys.exit(f"irqlab: no QEMU is waiting for gdb on port {port}. Start one first, in another terminal:\n"
                 f"    make qemu-gdb [LAB=name VARIANT=v CPUS=n]\n"
                 f"or start QEMU and gdb together, in this terminal (QEMU stops when gdb exits):\n"
                 f"    make gdb-lab LAB=name VARIANT=v CPUS=n")
    os.execvp("gdb", gdb_argv(f"localhost:{port}"))


def start_qemu(cmdline, cpus, sock, serial, mode, accel="tcg", stderr=None):
    """QEMU halted before its first instruction, gdb stub on the Unix socket sock, serial console to
    a file; in a session of its own, so that Ctrl-C in gdb (which interrupts the guest) does not kill it.
    Returns the Popen once the socket exists."""
    if os.path.exists(sock):
        os.unlink(sock)
    argv = qemu.qemu_argv(cpus, accel, "kernel", cmdline, kernel=KERNEL, mode=mode, gdb=sock, serial=serial)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stderr or subprocess.DEVNULL,
                            stderr=stderr or subprocess.DEVNULL, start_new_session=True, env=qemu.qemu_env())
    deadline = time.monotonic() + 10
    while not os.path.exists(sock) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if not os.path.exists(sock):
        stop_qemu(proc)
        raise RuntimeError(f"QEMU did not open its gdb socket {sock} (status {proc.returncode})")
    return proc


def stop_qemu(proc):
    if proc.poll() is None:
        proc.kill()
    return proc.wait()


def keep_stall(cmdline):
    """The command line plus detector_stop=off and lab_deadline=0 (unless it sets them itself): a stall
    then goes on after its reports, instead of ending the run, until you are done looking."""
    keys = {w.split("=", 1)[0] for w in cmdline.split()}
    return " ".join([cmdline] * bool(cmdline) + [w for w in ("detector_stop=off", "lab_deadline=0")
                                                 if w.split("=")[0] not in keys])


def lab(a, cmdline):
    """make gdb-lab: QEMU in the background, gdb in the foreground; QEMU stops when gdb exits."""
    out = os.path.dirname(os.path.abspath(a.serial))
    os.makedirs(out, exist_ok=True)
    sock = os.path.join(out, f"gdb-{os.getpid()}.sock")
    cmdline = keep_stall(qemu.with_linux_thresholds(cmdline) if a.linux_thresholds else cmdline)
    mode = qemu.default_mode(a.accel)
    with open(os.path.join(out, "qemu-stderr.log"), "w") as err:
        proc = start_qemu(cmdline, a.cpus, sock, a.serial, mode, a.accel, stderr=err)
    print(f"irqlab: QEMU is halted before its first instruction: {a.cpus} CPUs, {mode}, command line: {cmdline}\n"
          f"        serial console: {a.serial} (tail -f it in another terminal; il-dmesg shows it in gdb)\n"
          f"        il-stall runs to a stall and explains it; il-cpus, il-lapic, il-sti-break, il-window,\n"
          f"        il-dmesg, il-boot32, $percpu(\"field\"): `help il-cpus` and so on. Quitting gdb stops QEMU.")
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)      # Ctrl-C is gdb's: it interrupts the guest
    try:
        subprocess.call(gdb_argv(sock))
    finally:
        signal.signal(signal.SIGINT, old)
        status = proc.poll()
        stop_qemu(proc)
        if os.path.exists(sock):
            os.unlink(sock)
    if status is not None:
        print(f"irqlab: {qemu.explain(status)}")
    print(f"irqlab: QEMU stopped; the serial console is in {a.serial}")


def session(cmdline, cpus, commands, log, timeout=30, mode="deterministic"):
    """One batch gdb session for the tests: QEMU halted with cmdline (plus detector_stop=off), gdb
    running `commands`, both under a hard timeout. Returns (gdb's output, the serial console, seconds).
    Files: log + .gdb.log and .serial.log."""
    start = time.monotonic()
    sock = f"{log}.sock"
    serial = f"{log}.serial.log"
    proc = start_qemu(keep_stall(cmdline), cpus, sock, serial, mode)
    try:
        p = subprocess.run(gdb_argv(sock, batch=True, commands=commands), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, errors="replace", timeout=timeout)
        out = p.stdout
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace") + f"\n(gdb killed by the {timeout} s timeout)\n"
    finally:
        stop_qemu(proc)
        if os.path.exists(sock):
            os.unlink(sock)
    with open(f"{log}.gdb.log", "w") as f:
        f.write(out)
    text = open(serial, errors="replace").read() if os.path.exists(serial) else ""
    return out, text, time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description="gdb with irqlab's toolkit: attach to QEMU, or run a lab under gdb.")
    sub = ap.add_subparsers(dest="how", required=True)
    at = sub.add_parser("attach", help="attach to the QEMU `make qemu-gdb` started (make gdb)")
    at.add_argument("--port", type=int, required=True)
    lb = sub.add_parser("lab", help="start QEMU halted, attach gdb, stop QEMU when gdb exits (make gdb-lab)")
    lb.add_argument("--cpus", type=int, default=int(os.environ.get("CPUS", 2)))
    lb.add_argument("--accel", default=os.environ.get("ACCEL", "tcg"))
    lb.add_argument("--serial", default=os.path.join("build", "gdb-lab", "serial.log"),
                    help="the file the serial console goes to")
    lb.add_argument("--linux-thresholds", action="store_true",
                    help="add Linux's default detector thresholds to the command line (those it does not set)")
    lb.add_argument("cmdline", nargs="*", metavar="KEY=VALUE")
    a = ap.parse_args()
    if a.how == "attach":
        attach(a.port)
    try:
        lab(a, " ".join(a.cmdline))
    except (ValueError, RuntimeError) as e:
        sys.exit(f"gdb_lab.py: {e}")


if __name__ == "__main__":
    main()
