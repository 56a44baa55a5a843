# scripts/gdb/irqlab.py: irqlab's gdb toolkit: il-* commands, $percpu(), and backtraces across interrupt frames.
"""Loaded by `make gdb` and `make gdb-lab` (scripts/gdb_lab.py passes it with -x).

Modelled on Linux's scripts/gdb (lx-dmesg, $lx_per_cpu): the structs are
read from the kernel's own debug information, so the commands follow the
kernel as it changes; only preempt_count's layout (kernel/hardirq.h) and the
entry stubs' push order (arch/x86_64/entry.asm) are known here by heart.

    il-cpus        every CPU: IF, context (softirq too), preempt_count, softirqs, counted disable, held locks, task, CSD wait
    il-lapic       the selected thread's local APIC: IRR, ISR, TPR, PPR, the LVT timer
    il-dmesg       the kernel's log buffer: what the serial console printed
    il-stall       who waits for whom in csd_lock_wait, and why the target does not answer
                   (runs the machine until the CSD lock-wait report when nothing waits yet)
    il-sti-break   stop before every sti executed in hardirq context, on any CPU or one
    il-window      step through the sti window at hand with interrupts let in; say which vector came in
    il-boot32      run to the 32-bit entry (start32); show 16/32-bit code decoded right at every stop
    $percpu("field"[, cpu])   a per-CPU field: this thread's CPU, or CPU cpu

Each virtual CPU is a gdb thread; the kernel's CPU number comes from the
thread's GS base, which points at its struct percpu (arch/x86_64/percpu.h).
"""
import re
import subprocess
import tempfile

import gdb
import gdb.unwinder

# kernel/hardirq.h: the fields of preempt_count.
PREEMPT_MASK, SOFTIRQ_MASK = 0x000000ff, 0x0000ff00
SOFTIRQ_OFFSET, SOFTIRQ_DISABLE_OFFSET = 0x100, 0x200   # serving a softirq; one local_bh_disable()
HARDIRQ_DISABLE_SHIFT, HARDIRQ_SHIFT, NMI_SHIFT = 16, 24, 28
X86_EFLAGS_IF = 0x200
LOCKDEP_CONTEXTS = ("task", "softirq", "hardirq", "NMI")   # enum lockdep_ctx (kernel/lockdep_internals.h)
# kernel/softirq.c: softirq_to_name[]
SOFTIRQ_NAMES = ("HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU")
QEMU_SSTEP_DEFAULT = "0x7"                           # ENABLE | NOIRQ | NOTIMER: QEMU's masking while stepping
WINDOW_MAX_STEPS = 32


# ---------------------------------------------------------------- small readers

def value(expr):
    return gdb.parse_and_eval(expr)


def address_of(symbol):
    return int(value(f"(unsigned long)&{symbol}"))


def symbolize(addr):
    """'function+0xoff' for a code address (or data symbol), or its hex value when gdb knows no symbol."""
    out = gdb.execute(f"info symbol {int(addr):#x}", to_string=True).strip()
    m = re.match(r"(\S+)(?: \+ (\d+))? in section", out)
    if not m:
        return f"{int(addr):#x}"
    return m.group(1) + (f"+{int(m.group(2)):#x}" if m.group(2) else "")


def symbol_name(addr):
    return symbolize(addr).split("+")[0]


def c_string(v):
    return v.string() if int(v) else "?"


def vector_name(vector):
    """The handler's name for an interrupt vector (request_vector()), or the exception's."""
    if vector < 32:
        name = value("'traps.c'::exception_names")[vector]
    else:
        name = value("'irq.c'::vector_names")[vector]
    return c_string(name) if int(name) else ("exception" if vector < 32 else "no handler")


# ---------------------------------------------------------------- CPUs and threads

def percpu_size():
    return int(value("sizeof(struct percpu)"))


def thread_cpu(thread=None):
    """The kernel's CPU number of a gdb thread: its GS base points at percpu_area[cpu].
    Before the CPU set its GS base (early boot), QEMU's CPU index (thread id - 1)."""
    thread = thread or gdb.selected_thread()
    with selected(thread):
        gs = int(gdb.parse_and_eval("$gs_base"))
    base = address_of("percpu_area")
    count = int(value("sizeof(percpu_area)")) // percpu_size()
    if base <= gs < base + count * percpu_size() and (gs - base) % percpu_size() == 0:
        return (gs - base) // percpu_size()
    return thread.ptid[1] - 1


class selected:
    """`with selected(thread):` runs the block with that thread selected, then selects the old one again."""

    def __init__(self, thread):
        self.thread = thread

    def __enter__(self):
        self.old = gdb.selected_thread()
        self.old_frame = gdb.selected_frame() if self.old else None
        if self.thread != self.old:
            self.thread.switch()

    def __exit__(self, *exc):
        if self.old and self.old.is_valid():
            self.old.switch()
            try:
                self.old_frame.select()
            except gdb.error:
                pass


def threads():
    """The inferior's threads, CPU 0's first (gdb lists them newest first)."""
    return sorted(gdb.selected_inferior().threads(), key=lambda t: t.num)


def percpu(cpu):
    return value("percpu_area")[cpu]


class PerCpu(gdb.Function):
    """$percpu("field"[, cpu]): a field of struct percpu: of the selected thread's CPU, or of CPU cpu.

    Usage: p/x $percpu("preempt_count")     p $percpu("current_task")->comm     p $percpu("hardirq_sti_count", 0)"""

    def __init__(self):
        super().__init__("percpu")

    def invoke(self, field, cpu=None):
        n = thread_cpu() if cpu is None else int(cpu)
        return percpu(n)[field.string()]


PerCpu()


# ---------------------------------------------------------------- interrupt frames

def interrupt_frame(pc, sp):
    """Where the interrupted context's registers are, for a frame stopped in an entry stub.

    pc, sp: the frame's. Returns None when pc is
    not in the entry code, else a dict: base (where struct pt_regs starts or
    would start), vector, and saved {register: address} for the registers the
    stub has saved and not yet restored (the others still hold the
    interrupted values). Follows arch/x86_64/entry.asm: the CPU pushes
    SS, RSP, RFLAGS, CS, RIP (and for some exceptions an error code); the stub
    pushes 0 when the CPU did not, then the vector; isr_common pushes rdi
    first and r15 last, so struct pt_regs lists them in reverse.
    """
    name = symbol_name(pc)
    regs = pt_regs_fields()
    gprs = regs[:15]
    if name.startswith("isr_stub_") and name[9:].isdigit():
        vector = int(name[9:])
        pushed = count_insns(address_of(name), pc, "push")
        cpu_error = vector in (8, 10, 11, 12, 13, 14, 17, 21, 29, 30)
        base = sp + 8 * (pushed + cpu_error) - 8 * regs.index("rip")
        return {"base": base, "vector": vector, "saved": {}}
    if name == "isr_common":
        pushed = count_insns(address_of("isr_common"), pc, "push")
        base = sp - 8 * (15 - pushed)
        saved = {r: base + 8 * i for i, r in enumerate(gprs) if i >= 15 - pushed}
    elif name == "isr_return_address":
        popped = count_insns(address_of("isr_return_address"), pc, "pop")
        dropped = 2 if count_insns(address_of("isr_return_address"), pc, "add") else 0
        base = sp - 8 * (popped + dropped)
        saved = {r: base + 8 * i for i, r in enumerate(gprs) if i >= popped}
    else:
        return None
    vector = int(value(f"((struct pt_regs *){base:#x})->vector"))
    return {"base": base, "vector": vector, "saved": saved}


def pt_regs_fields():
    """struct pt_regs's fields in memory order: r15 ... rdi, vector, error_code, rip, cs, rflags, rsp, ss."""
    return [f.name for f in gdb.lookup_type("struct pt_regs").fields()]


def count_insns(start, end, mnemonic):
    """How many `mnemonic` instructions lie in [start, end) (the stubs' straight-line code)."""
    if end <= start:
        return 0
    arch = gdb.selected_inferior().architecture()
    return sum(1 for i in arch.disassemble(start, end - 1) if i["addr"] < end and i["asm"].split()[0] == mnemonic)


class FrameId:
    """What identifies an unwound frame to gdb: its stack address and its function's start (gdb.Values)."""

    def __init__(self, sp, pc):
        self.sp, self.pc = sp, pc


class InterruptUnwinder(gdb.unwinder.Unwinder):
    """Unwinds an entry stub's frame into the code the interrupt interrupted.

    The stubs have no CFI, so gdb's own unwinder stops at isr_common with
    `0x0 in ?? ()`; this one reads the saved struct pt_regs instead (and the
    CPU's frame, in the stubs' first instructions), so `bt` goes on into the
    interrupted code, through nested interrupts too."""

    def __init__(self):
        super().__init__("irqlab interrupt frames")

    def __call__(self, pending):
        try:
            pc = int(pending.read_register("rip"))
            sp = int(pending.read_register("rsp"))
            f = interrupt_frame(pc, sp)
        except gdb.error:
            return None
        if f is None:
            return None
        base, mem = f["base"], gdb.selected_inferior()
        top = base + gdb.lookup_type("struct pt_regs").sizeof       # constant while the stub runs
        info = pending.create_unwind_info(FrameId(gdb.Value(top), gdb.Value(address_of(symbol_name(pc)))))
        regs = pt_regs_fields()

        def slot(name):
            return int.from_bytes(mem.read_memory(base + 8 * regs.index(name), 8), "little")

        def register(reg, v):
            t = pending.read_register(reg).type      # code_ptr, i386_eflags, int32...: built from bytes
            info.add_saved_register(reg, gdb.Value((v & ((1 << 8 * t.sizeof) - 1)).to_bytes(t.sizeof, "little"), t))

        for name in regs[:15]:
            register(name, slot(name) if name in f["saved"] else int(pending.read_register(name)))
        for name, reg in (("rip", "rip"), ("rflags", "eflags"), ("rsp", "rsp"), ("cs", "cs"), ("ss", "ss")):
            register(reg, slot(name))
        return info


gdb.unwinder.register_unwinder(None, InterruptUnwinder(), replace=True)


def frame_interrupt(frame):
    """(vector, interrupted RFLAGS) if this frame is an entry stub's, else None."""
    try:
        pc, sp = frame.pc(), int(frame.read_register("rsp"))
        f = interrupt_frame(pc, sp)
    except gdb.error:
        return None
    if f is None:
        return None
    return f["vector"], int(value(f"((struct pt_regs *){f['base']:#x})->rflags"))


class InterruptDecorator:
    """Names an entry stub's frame after the interrupt: `--- interrupt: vector 0xec (local timer), arrived with IF=1 ---`."""

    def __init__(self, fobj, vector, rflags):
        self.fobj, self.vector, self.rflags = fobj, vector, rflags

    def function(self):
        return (f"--- interrupt: vector {self.vector:#x} ({vector_name(self.vector)}), "
                f"arrived with IF={1 if self.rflags & X86_EFLAGS_IF else 0} ---")

    def __getattr__(self, name):
        return getattr(self.fobj, name)


class InterruptFrameFilter:
    """Marks each interrupt boundary in `bt` with its vector."""

    def __init__(self):
        self.name, self.priority, self.enabled = "irqlab interrupts", 100, True
        gdb.frame_filters[self.name] = self

    def filter(self, frames):
        for fobj in frames:
            hit = frame_interrupt(fobj.inferior_frame())
            yield InterruptDecorator(fobj, *hit) if hit else fobj
            if fobj.inferior_frame().name() in STACK_BOTTOMS:
                return          # what gdb would unwind below these is whatever the stack held before


# Where each kernel stack begins: the boot CPU's, each AP's, each kernel thread's. Nothing called them.
STACK_BOTTOMS = ("start64_high", "tr_start64", "ret_from_kthread")


InterruptFrameFilter()


# ---------------------------------------------------------------- one CPU's state

def frames(limit=64):
    f = gdb.newest_frame()
    while f is not None and limit > 0:
        yield f
        try:
            f = f.older()
        except gdb.error:
            return
        limit -= 1


def frame_var(frame, name):
    try:
        v = frame.read_var(name)
    except (ValueError, gdb.error):
        return None
    return None if v.is_optimized_out else v


class CpuState:
    """What one CPU is doing, read with its thread selected: registers, per-CPU data, lockdep's
    held locks, and from its stack the lock it spins on, the csd it waits for, the hrtimer callback."""

    def __init__(self, thread):
        self.thread, self.csd, self.readable = thread, None, True
        try:
            self.read(thread)
        except gdb.MemoryError:         # before paging: the kernel's addresses are not mapped yet
            self.readable = False
            self.cpu = thread.ptid[1] - 1

    def read(self, thread):
        with selected(thread):
            self.cpu = thread_cpu(thread)
            self.percpu = percpu(self.cpu)
            self.apic_id = int(self.percpu["apic_id"])
            self.rflags = int(gdb.parse_and_eval("$eflags"))
            self.irq_on = bool(self.rflags & X86_EFLAGS_IF)
            self.preempt = int(self.percpu["preempt_count"])
            self.where = symbolize(int(gdb.parse_and_eval("$pc")))
            task = self.percpu["current_task"]
            self.task = f"{task['comm'].string()} (pid {int(task['pid'])})" if int(task) else "none yet"
            self.held = self.read_held()
            self.read_stack()

    # preempt_count's fields (kernel/hardirq.h)
    @property
    def hardirq_depth(self):
        return (self.preempt >> HARDIRQ_SHIFT) & 0xf

    @property
    def nmi_depth(self):
        return self.preempt >> NMI_SHIFT

    @property
    def disable_depth(self):
        return (self.preempt >> HARDIRQ_DISABLE_SHIFT) & 0xff

    @property
    def serving_softirq(self):
        return bool(self.preempt & SOFTIRQ_OFFSET)

    @property
    def bh_disable_depth(self):
        return (self.preempt & SOFTIRQ_MASK) // SOFTIRQ_DISABLE_OFFSET

    @property
    def context(self):
        if self.nmi_depth:
            return f"NMI, depth {self.nmi_depth}"
        if self.hardirq_depth:
            return f"hardirq, depth {self.hardirq_depth}" + (" (over a softirq)" if self.serving_softirq else "")
        if self.serving_softirq:
            return "softirq"
        return "task" + (f", BHs off (depth {self.bh_disable_depth})" if self.bh_disable_depth else "")

    def decoded_preempt(self):
        return (f"{self.preempt:#010x}: preempt {self.preempt & PREEMPT_MASK}, softirq "
                f"{'serving' if self.serving_softirq else 'not serving'} + BH-disable depth "
                f"{self.bh_disable_depth}, irq-disable depth {self.disable_depth}, "
                f"hardirq {self.hardirq_depth}, NMI {self.nmi_depth}")

    def softirq_state(self):
        """'pending TASKLET; ksoftirqd/1 sleeping' from softirq_cpus[cpu] (kernel/softirq.h)."""
        sc = value("softirq_cpus")[self.cpu]
        pending = int(sc["pending"])
        names = [n for i, n in enumerate(SOFTIRQ_NAMES) if pending & (1 << i)]
        kd = sc["ksoftirqd"]
        thread = "no ksoftirqd"
        if int(kd):
            state = {0: "runnable", 1: "sleeping", 2: "dead"}.get(int(kd["state"]), "?")
            thread = f"{kd['comm'].string()} {state}"
        return (f"pending {' '.join(names) if names else 'none'}; {thread}; runs: {int(sc['irq_exit_runs'])} at irq exit, "
                f"{int(sc['bh_enable_runs'])} at local_bh_enable, {int(sc['ksoftirqd_runs'])} in ksoftirqd")

    def read_held(self):
        """{context: [(lock name, where taken)]}: lockdep's held-lock stacks, entries below each depth only."""
        lc = value("lockdep_cpus")[self.cpu]
        self.lockdep_tracking = bool(lc["tracking"])
        held = {}
        for i, ctx in enumerate(LOCKDEP_CONTEXTS):
            held[ctx] = []
            for j in range(int(lc["depth"][i])):
                hl = lc["held"][i][j]
                held[ctx].append((c_string(hl["instance"]["name"]), symbolize(int(hl["trace"]["ip"]))))
        return held

    def read_stack(self):
        """Walk the stack: interrupt boundaries, the innermost lock spin, csd wait and hrtimer callback."""
        self.interrupts, self.spin_lock, self.csd, self.callback = [], None, None, None
        raw = None
        fs = list(frames())
        for i, f in enumerate(fs):
            name = f.name() or ""
            hit = frame_interrupt(f)
            if hit:
                self.interrupts.append((hit[0], bool(hit[1] & X86_EFLAGS_IF),
                                        symbolize(fs[i + 1].pc()) if i + 1 < len(fs) else "?"))
                continue
            if name == "arch_spin_lock" and raw is None and not self.interrupts and self.spin_lock is None:
                raw = frame_var(f, "l")
            if name in ("do_spin_lock", "spin_lock") and raw is not None and self.spin_lock is None:
                lock = frame_var(f, "lock")
                if lock is not None and int(lock) == int(raw):
                    self.spin_lock = lock.dereference()
            if name == "csd_lock_wait" and self.csd is None and frame_var(f, "csd") is not None:
                self.csd = frame_var(f, "csd").dereference()
            if i + 1 < len(fs) and fs[i + 1].name() == "__run_hrtimer" and self.callback is None:
                self.callback = name
        self.raw_spin = raw if raw is not None and self.spin_lock is None else None

    def spinning(self):
        """'spinning on sched_lock held by CPU 1' (or on a raw lock), or None."""
        if self.spin_lock is not None:
            owner = int(self.spin_lock["owner_cpu"])
            name = c_string(self.spin_lock["dep_map"]["name"])
            return f"spinning on {name} held by " + (f"CPU {owner}" if owner >= 0 else "nobody (just released)")
        if self.raw_spin is not None:
            return f"spinning on the raw lock {symbolize(int(self.raw_spin))}"
        return None

    def waits(self):
        """'waits in csd_lock_wait for CPU 0 to run flush_tlb_func', or None."""
        if self.csd is None:
            return None
        return f"waits in csd_lock_wait for CPU {int(self.csd['dst'])} to run {symbol_name(int(self.csd['func']))}"


def describe_context(s):
    """'IF=0 in hardirq, depth 1: vector 0xec (Local timer interrupts)', innermost interrupt first."""
    text = f"IF={int(s.irq_on)} in {s.context}"
    if s.interrupts:
        vectors = " over ".join(f"vector {v:#x} ({vector_name(v)})" for v, _, _ in s.interrupts)
        # A softirq run by irq_exit() is below its interrupt's frame, but no longer in hardirq.
        text += (" run at the exit of " if s.context == "softirq" else ": ") + vectors
    return text


# ---------------------------------------------------------------- il-cpus

class IlCpus(gdb.Command):
    """Every CPU at a glance: IF, context and nesting (softirq and BH-disabled too), preempt_count decoded,
    pending softirqs and ksoftirqd, the counted-disable depth and saved flags, lockdep's held locks per
    context, the current task, and any wait in csd_lock_wait.

Usage: il-cpus"""

    def __init__(self):
        super().__init__("il-cpus", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        for t in threads():
            s = CpuState(t)
            if not s.readable:
                print(f"CPU {s.cpu} (thread {t.num}): the kernel's memory is not mapped yet (early boot)")
                continue
            print(f"CPU {s.cpu} (thread {t.num}, APIC id {s.apic_id}): {describe_context(s)}, at {s.where}")
            print(f"  preempt_count {s.decoded_preempt()}")
            print(f"  softirqs: {s.softirq_state()}")
            if s.disable_depth:
                flags = int(s.percpu["interrupt_disable_flags"])
                print(f"  counted disable: depth {s.disable_depth}, saved flags {flags:#x} "
                      f"(IRQs were {'on' if flags & X86_EFLAGS_IF else 'off'} before the outermost disable)")
            else:
                print("  counted disable: depth 0 (no saved flags in use)")
            for ctx, locks in s.held.items():
                if locks:
                    print(f"  held in {ctx} context: " + ", ".join(f"{n} (at {w})" for n, w in locks))
            if not any(s.held.values()):
                print("  held locks: none")
            if not int(value("debug_locks")):
                print("  (lockdep is off since its report: held locks are what it recorded before"
                      + ("" if s.lockdep_tracking else "; this CPU has taken or dropped locks since") + ")")
            print(f"  task: {s.task}")
            for what in (s.callback and f"in the hrtimer callback {s.callback}", s.spinning(), s.waits()):
                if what:
                    print(f"  {what}")
            if s.interrupts:
                for v, was_on, where in s.interrupts:
                    print(f"  interrupt: vector {v:#x} ({vector_name(v)}) arrived with IF={int(was_on)} at {where}")


IlCpus()


# ---------------------------------------------------------------- il-lapic

def lapic_state(apic_id):
    """QEMU's `info lapic APIC-ID`, parsed: irr and isr (lists of vectors), tpr, ppr, lvtt (raw), timer line."""
    out = gdb.execute(f"monitor info lapic {apic_id}", to_string=True)
    state = {"raw": out}
    for key in ("IRR", "ISR"):
        m = re.search(rf"^{key}\s+(.*)$", out, re.M)
        state[key.lower()] = [int(v) for v in re.findall(r"\d+", m.group(1))] if m and "none" not in m.group(1) else []
    for key in ("TPR", "PPR"):
        m = re.search(rf"\b{key} (0x[0-9a-f]+)", out)
        state[key.lower()] = int(m.group(1), 16) if m else 0
    m = re.search(r"^LVTT\s+(0x[0-9a-f]+)\s+(.*)$", out, re.M)
    state["lvtt"] = (int(m.group(1), 16), " ".join(m.group(2).split())) if m else (0, "?")
    m = re.search(r"^Timer\s+(.*)$", out, re.M)
    state["timer"] = m.group(1).strip() if m else "?"
    return state


class IlLapic(gdb.Command):
    """The selected thread's local APIC (QEMU's `info lapic` for that CPU's APIC id): pending (IRR) and
    in-service (ISR) vectors with their priority classes, TPR and PPR, the LVT timer, and what the CPU
    would take next.

Usage: il-lapic"""

    def __init__(self):
        super().__init__("il-lapic", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        cpu = thread_cpu()
        apic_id = int(percpu(cpu)["apic_id"])
        st = lapic_state(apic_id)
        rflags = int(gdb.parse_and_eval("$eflags"))

        def vectors(vs):
            return ", ".join(f"{v:#04x} (class {v >> 4:#x}, {vector_name(v)})" for v in vs) or "none"

        print(f"CPU {cpu} (thread {gdb.selected_thread().num}, APIC id {apic_id}), IF={int(bool(rflags & X86_EFLAGS_IF))}")
        print(f"  IRR (pending):    {vectors(st['irr'])}")
        print(f"  ISR (in service): {vectors(st['isr'])}")
        print(f"  TPR {st['tpr']:#04x} (class {st['tpr'] >> 4:#x}), PPR {st['ppr']:#04x} (class {st['ppr'] >> 4:#x})")
        lvtt, text = st["lvtt"]
        print(f"  LVT timer {lvtt:#010x}: vector {lvtt & 0xff:#x}, {'masked' if lvtt & 0x10000 else 'not masked'}, "
              f"{'periodic' if lvtt & 0x20000 else 'one-shot'}; {st['timer']}")
        if st["irr"]:
            print(f"  next: {max(st['irr']):#04x}: {pending_reason(st, rflags)}")


IlLapic()


# ---------------------------------------------------------------- il-dmesg

class IlDmesg(gdb.Command):
    """The kernel's log buffer (kernel/printk.c log_buf): everything the serial console printed, the last
    64 KiB of it. With a number N, only the last N lines.

Usage: il-dmesg [N]"""

    def __init__(self):
        super().__init__("il-dmesg", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        size = int(value("sizeof(log_buf)"))
        written = int(value("log_buf_next"))
        raw = bytes(gdb.selected_inferior().read_memory(address_of("log_buf"), size))
        start = written % size
        text = raw[:written] if written <= size else raw[start:] + raw[:start]
        lines = text.decode("utf-8", errors="replace").splitlines()
        if arg.strip():
            lines = lines[-int(arg):]
        print("\n".join(lines))


IlDmesg()


# ---------------------------------------------------------------- il-stall

def explain_stall():
    """The stall, as sentences. First each CPU waiting in csd_lock_wait: whom it waits for and for which
    function, then that target's state (IF, context, the hrtimer callback it is in, the lock it spins
    on and who holds it, why its pending IPI is not taken). Then every other CPU that spins on a lock.
    Then the cycle, when there is one."""
    states = {s.cpu: s for s in map(CpuState, threads()) if s.readable}
    lines, told = [], set()
    for s in states.values():
        if s.csd is None or s.cpu in told:      # told: described already, as the target of another wait
            continue
        dst, func = int(s.csd["dst"]), symbol_name(int(s.csd["func"]))
        running = int(value("'smp.c'::cur_csd")[dst])
        if running == int(s.csd.address):
            started = f"CPU {dst} is running it"
        elif running:
            earlier = symbol_name(int(value("'smp.c'::cur_csd_func")[dst]))
            started = f"CPU {dst} is still in an earlier call, {earlier}"
        else:
            started = f"CPU {dst} has not started it"
        lines.append(f"CPU {s.cpu}, running {s.task}, waits in csd_lock_wait for CPU {dst}'s {func}; {started}.")
        if dst in states and dst not in told:
            lines += describe_stuck(states[dst], pending=True)
            told.add(dst)
        if states.get(dst) is not None and states[dst].csd is not None and int(states[dst].csd["dst"]) == s.cpu:
            lines.append(f"Deadlock: CPU {s.cpu} and CPU {dst} each wait for the other's call.")
    for s in states.values():
        if s.cpu not in told and s.csd is None and s.spinning():
            lines += describe_stuck(s, pending=False)
            told.add(s.cpu)
    for s in states.values():
        owner = int(s.spin_lock["owner_cpu"]) if s.spin_lock is not None else -1
        if owner == s.cpu:
            lines.append(f"Deadlock: CPU {s.cpu} spins on a lock it holds itself, in the code its interrupt "
                         f"interrupted.")
        elif owner in states and (states[owner].csd is not None and int(states[owner].csd["dst"]) == s.cpu):
            lines.append(f"Deadlock: CPU {owner} holds the lock CPU {s.cpu} spins on, and waits for CPU {s.cpu}.")
        elif owner in states and states[owner].spin_lock is not None and \
                int(states[owner].spin_lock["owner_cpu"]) == s.cpu and s.cpu < owner:
            lines.append(f"Deadlock: CPU {s.cpu} and CPU {owner} each spin on a lock the other holds.")
    return lines


def describe_stuck(t, pending):
    """One CPU's state as a sentence ('CPU 0 has IF=0 in hardirq, ..., spinning on sched_lock held by
    CPU 1.'), with pending=True a second line on the IPI waiting in its IRR."""
    doing = [f"CPU {t.cpu} has {describe_context(t)}"]
    if t.callback:
        doing.append(f"in the hrtimer callback {t.callback}")
    doing.append(t.spinning() or t.waits() or f"at {t.where}")
    lines = [", ".join(doing) + "."]
    st = lapic_state(t.apic_id) if pending else {"irr": []}
    if st["irr"]:
        lines.append(f"  pending in CPU {t.cpu}'s IRR: {max(st['irr']):#x}: {pending_reason(st, t.rflags)}")
    return lines


def pending_reason(st, rflags):
    """Why the highest pending vector of a local APIC (lapic_state()) is or is not taken."""
    top, ppr = max(st["irr"]), st["ppr"]
    if top >> 4 <= ppr >> 4:
        also = "; IF=0 keeps it out as well" if not rflags & X86_EFLAGS_IF else ""
        return f"class {top >> 4:#x} is not above PPR's class {ppr >> 4:#x}: it waits for an EOI{also}"
    if not rflags & X86_EFLAGS_IF:
        return f"class {top >> 4:#x} is above PPR's class {ppr >> 4:#x}: only IF=0 keeps it out"
    return "deliverable now (class above PPR's, IF=1)"


class ReportStop(gdb.Breakpoint):
    """A breakpoint on detector_report_begin() (kernel/detector_stop.c), where every hang detector's
    report starts. It stops at the CSD lock-wait report, the one about cross-CPU waits; at any other
    (hard LOCKUP, RCU stall, ...) only while no CPU waits in csd_lock_wait: a stall of locks alone."""

    def __init__(self):
        super().__init__("detector_report_begin", internal=True)
        self.silent, self.report = True, "?"

    def stop(self):
        which = frame_var(gdb.newest_frame(), "which")
        which = which.string() if which is not None else "?"
        if which != "CSD lock" and any(CpuState(t).csd is not None for t in threads()):
            return False
        self.report = f"CPU {thread_cpu()} starts a report: {which}"
        return True


class IlStall(gdb.Command):
    """Explain a stall: each CPU waiting in csd_lock_wait, joined with its target's state
    ("CPU 1 ... waits in csd_lock_wait for CPU 0's flush_tlb_func; ... CPU 0 has IF=0 in hardirq ...,
    spinning on sched_lock held by CPU 1"), every CPU spinning on a lock and who holds it, and the cycle.
    When nothing waits or spins yet, first run the machine until a hang detector starts its report
    (the CSD lock wait after csd_lock_timeout ms, a hard LOCKUP, ...); Ctrl-C gives up.

Usage: il-stall"""

    def __init__(self):
        super().__init__("il-stall", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        lines = explain_stall()
        if not lines:
            print("il-stall: no CPU waits in csd_lock_wait or spins on a lock; running until a hang report...")
            bp = ReportStop()
            try:
                gdb.execute("continue", to_string=True)
            except gdb.error as e:
                print(f"il-stall: the machine ended without a hang report ({e})")
                return
            finally:
                if bp.is_valid():
                    print(f"il-stall: {bp.report}")
                    bp.delete()
            lines = explain_stall()
        print("\n".join(lines) if lines else "il-stall: no CPU waits in csd_lock_wait or spins on a lock")


IlStall()


# ---------------------------------------------------------------- sti in hardirq, and its window

def next_sti(pc, limit=16):
    """The address of the first sti at or after pc, within `limit` instructions, or None."""
    arch = gdb.selected_inferior().architecture()
    for insn in arch.disassemble(pc, count=limit):
        if insn["asm"].split()[0] == "sti":
            return insn["addr"]
    return None


class StiInHardirq(gdb.Breakpoint):
    """A write watchpoint on one CPU's hardirq_sti_count (struct percpu), which arch_note_sti()
    (arch/x86_64/irqflags.h) increments right before every sti the CPU executes in hardirq context.

    Why not a breakpoint on each of the kernel's sti instructions: most of them run in task context,
    and each stop there costs QEMU a flush of all its translated code (twice: gdb lifts the breakpoint
    to step over it), about 20 ms, so a lab run slowed from one second to ten. The counter's write
    happens only in hardirq context: a stop is always one to report."""

    def __init__(self, cpu):
        addr = int(percpu(cpu)["hardirq_sti_count"].address)
        super().__init__(f"*(unsigned long *){addr:#x}", gdb.BP_WATCHPOINT, gdb.WP_WRITE, internal=True)
        self.cpu, self.silent = cpu, True

    def stop(self):
        if thread_cpu() != self.cpu:
            return False
        pc = int(gdb.parse_and_eval("$pc"))
        sti = next_sti(pc)
        depth = (int(percpu(self.cpu)["preempt_count"]) >> HARDIRQ_SHIFT) & 0xf
        where = f"the sti at {symbolize(sti)} ({source_line(sti)})" if sti else f"an sti after {symbolize(pc)}"
        print(f"il-sti-break: CPU {self.cpu} (thread {gdb.selected_thread().num}) is about to execute {where}, "
              f"in hardirq (depth {depth}); il-window steps through the window")
        return True


def source_line(addr):
    sal = gdb.find_pc_line(addr)
    return f"{sal.symtab.filename}:{sal.line}" if sal.symtab else "no line"


class IlStiBreak(gdb.Command):
    """Stop whenever a CPU is about to execute sti in hardirq context: on every CPU, or only on CPU N.
    The stop comes a few instructions before the sti (where arch_note_sti() counts it); the message
    names the sti, and il-window steps to it and through the window. `il-sti-break off` stops watching.
    `il-sti-break in FUNCTION` instead puts an ordinary hbreak on each sti inside FUNCTION (its inlined
    local_irq_enable()s), in any context: `delete` removes them.

Usage: il-sti-break [N | off | in FUNCTION]"""

    def __init__(self):
        super().__init__("il-sti-break", gdb.COMMAND_BREAKPOINTS)
        self.bps = []

    def invoke(self, arg, from_tty):
        for bp in self.bps:
            bp.delete()
        self.bps = []
        if arg.strip() == "off":
            print("il-sti-break: off")
            return
        if arg.split()[:1] == ["in"]:
            for addr in sti_in_function(arg.split()[1]):
                gdb.execute(f"hbreak *{addr:#x}")
            return
        cpus = [int(arg)] if arg.strip() else [t.ptid[1] - 1 for t in threads()]
        self.bps = [StiInHardirq(c) for c in cpus]
        print(f"il-sti-break: stopping before each sti in hardirq on CPU {', '.join(map(str, cpus))}")


IlStiBreak()


def sti_in_function(name):
    """The addresses of the sti instructions in a function's code (inlined ones included)."""
    block = gdb.block_for_pc(address_of(name))
    while block.function is None or block.function.name != name:
        block = block.superblock
    arch = gdb.selected_inferior().architecture()
    found = [i["addr"] for i in arch.disassemble(block.start, block.end - 1) if i["asm"].split()[0] == "sti"]
    if not found:
        raise gdb.GdbError(f"il-sti-break: no sti in {name}")
    return found


def sstep_flags():
    out = gdb.execute("maintenance packet qqemu.sstep", to_string=True)
    m = re.search(r'received: "([^"]*)"', out)
    return m.group(1) if m else "?"


class IlWindow(gdb.Command):
    """Step the selected CPU through the sti window at hand, with interrupts let in
    (`maintenance packet Qqemu.sstep=0x1`): up to the sti if it is a few instructions ahead, over it,
    and on until an interrupt comes in (stop in its entry stub, where `bt` shows the window) or IF is 0
    again (the window closed empty), at most 32 instructions. QEMU's default masking (0x7: no
    interrupts, no timers while stepping) is restored at the end; the other CPUs stay stopped meanwhile.

Usage: il-window"""

    def __init__(self):
        super().__init__("il-window", gdb.COMMAND_RUNNING)

    def invoke(self, arg, from_tty):
        lock = gdb.parameter("scheduler-locking")
        gdb.execute("set scheduler-locking on")
        gdb.execute("maintenance packet Qqemu.sstep=0x1", to_string=True)
        try:
            print(self.step_window())
        finally:
            gdb.execute(f"maintenance packet Qqemu.sstep={QEMU_SSTEP_DEFAULT}", to_string=True)
            gdb.execute(f"set scheduler-locking {lock}")
        print(f"il-window: QEMU's step flags are back to {sstep_flags()} (ENABLE|NOIRQ|NOTIMER)")

    def step_window(self):
        def now():
            return int(gdb.parse_and_eval("$pc")), bool(int(gdb.parse_and_eval("$eflags")) & X86_EFLAGS_IF)

        pc, opened = now()
        sti = None if opened else next_sti(pc)
        if not opened and sti is None:
            return f"il-window: IF=0 and no sti within 16 instructions of {symbolize(pc)}: no window here"
        start = symbolize(sti if sti else pc)
        steps = 0
        while not opened and pc != sti:         # IF=0 up to the sti: nothing can come in yet
            gdb.execute("stepi", to_string=True)
            pc, opened = now()
        for n in range(1, WINDOW_MAX_STEPS + 1):
            before = pc
            gdb.execute("stepi", to_string=True)
            pc, on = now()
            steps = n
            hit = frame_interrupt(gdb.newest_frame())
            if hit and symbol_name(pc).startswith("isr_stub_"):
                v = hit[0]
                return (f"il-window: vector {v:#x} ({vector_name(v)}, class {v >> 4:#x}) came in after "
                        f"{symbolize(before)}, {steps} instructions from the sti at {start}; `bt` shows where")
            if opened and not on:
                return (f"il-window: the window closed empty: IF=0 again at {symbolize(pc)}, "
                        f"{steps} instructions from the sti at {start}; nothing came in")
            opened = opened or on
        return f"il-window: still open after {WINDOW_MAX_STEPS} instructions, at {symbolize(pc)}; nothing came in"


IlWindow()


# ---------------------------------------------------------------- 32-bit boot code

def cpu_mode():
    """'i8086' (real mode: CR0.PE clear), 'i386' (protected mode, EFER.LMA clear) or 'x86-64' (long mode)."""
    if not int(gdb.parse_and_eval("$cr0")) & 1:
        return "i8086"
    return "x86-64" if int(gdb.parse_and_eval("$efer")) & 0x400 else "i386"


def decode(pc, mode, count=4):
    """The next instructions at pc decoded for the CPU's mode, by objdump from the target's own memory
    (gdb decodes as the x86-64 that QEMU reports, which misreads 16- and 32-bit code)."""
    code = bytes(gdb.selected_inferior().read_memory(pc, 15 * count))
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(code)
        f.flush()
        out = subprocess.run(["objdump", "-D", "-b", "binary", "-m", "i386", "-M", mode, f"--adjust-vma={pc:#x}",
                              f.name], stdout=subprocess.PIPE, text=True, check=True).stdout
    insns = re.findall(r"^\s*([0-9a-f]+):\s+(?:[0-9a-f]{2} )+\s*(.*)$", out, re.M)
    return [f"{'=>' if n == 0 else '  '} {int(a, 16):#x}:\t{text.strip()}" for n, (a, text) in enumerate(insns[:count])]


def show_legacy_mode(event):
    """On every stop outside long mode: the instructions at pc, decoded for the mode the CPU is in."""
    try:
        mode = cpu_mode()
        if mode != "x86-64":
            pc = int(gdb.parse_and_eval("$pc"))
            print(f"il-boot32: CPU in {'real' if mode == 'i8086' else '32-bit protected'} mode, decoded as {mode}:")
            print("\n".join(decode(pc, mode)))
    except gdb.error:
        pass


class IlBoot32(gdb.Command):
    """Run to the 32-bit entry point (start32, boot/boot.asm) and, from there on, show at every stop
    outside long mode the next instructions decoded as 32-bit (or 16-bit real-mode, in the AP
    trampoline) code: QEMU reports a 64-bit CPU, so gdb's own x/i decodes them as x86-64, which misreads
    them (0x40-0x4f are REX prefixes there, not inc/dec). `stepi` works as usual; past the far jump to
    start64_low the CPU is in long mode and gdb's decoding is right again. `il-boot32 off` stops showing.

Usage: il-boot32 [off]"""

    def __init__(self):
        super().__init__("il-boot32", gdb.COMMAND_RUNNING)
        self.on = False

    def invoke(self, arg, from_tty):
        if self.on:
            gdb.events.stop.disconnect(show_legacy_mode)
            self.on = False
        if arg.strip() == "off":
            return
        gdb.events.stop.connect(show_legacy_mode)
        self.on = True
        if int(gdb.parse_and_eval("$pc")) != address_of("start32"):
            gdb.execute(f"tbreak *{address_of('start32'):#x}")
            gdb.execute("continue")


IlBoot32()
