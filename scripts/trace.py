#!/usr/bin/env python3
"""scripts/trace.py: read irqlab's interrupt trace (docs/trace.md) and draw it, export it, or check its story.

    trace.py TRACE --out PREFIX [--from MS] [--to MS] [--focus ipi]   PREFIX.svg, .png and .json
    trace.py TRACE --json FILE                                        Chrome Trace Event JSON only
    trace.py TRACE --expect "ipi 1->0 never entered" ...              the story's assertions; exit 1 if one fails

The picture has one lane per CPU: IF=0 shaded, hardirq handlers as bars
stacked by nesting depth and labelled with their vector, spinlock spin
(hatched) and hold times under them, IPIs as arrows from sender to
receiver (one never taken: an open, dashed arrow to the end of the trace),
detector reports as labelled markers, the lab's own events as ticks.
Times are milliseconds since the lab started (the trace's "# zero").
The JSON opens in Perfetto (ui.perfetto.dev) and chrome://tracing.

Expectations (--expect, and trace_expect in a check, scripts/checks.py):
    ipi S->D never entered           a call-function IPI CPU S sent to CPU D whose vector D never entered
                                     after it (the call-function vectors: those the header names
                                     "...function call...")
    ipi S->D entered inside VECTOR   one D entered nested in its handler of VECTOR (e.g. 0xec)
    event NAME                       at least one NAME event (irq_handler_entry, detector, ...)

Parsing and the expectations need only Python; the picture needs matplotlib
(Debian's python3-matplotlib, which `make deps` installs for $(PLOT_PY)).
"""
import argparse
import json
import os
import re
import sys

EXPECT_FORMS = ("ipi S->D never entered", "ipi S->D entered inside VECTOR", "event NAME")
TEXT_FIELDS = ("text", "report")        # they run to the end of the line
EVENT_NAMES = ("irq_disable", "irq_enable", "irq_handler_entry", "irq_handler_exit", "ipi_send_cpu",
               "csd_queue_cpu", "csd_function_entry", "csd_function_exit", "csd_unlock", "lock_acquire",
               "lock_contended", "lock_acquired", "lock_release", "hrtimer_expire_entry", "hrtimer_expire_exit",
               "sched_switch", "detector", "lab")


class TraceError(ValueError):
    """A trace or an expectation the tool cannot read: the message names the file and line, or the valid forms."""


class Event:
    __slots__ = ("ns", "cpu", "name", "f", "seq")

    def __init__(self, ns, cpu, name, fields, seq):
        self.ns, self.cpu, self.name, self.f, self.seq = ns, cpu, name, fields, seq


class Trace:
    """A parsed trace: header facts, the events in time order, and the intervals drawn from them."""

    def __init__(self, zero, cpus, vectors, lost, events):
        self.zero, self.cpus, self.vectors, self.lost, self.events = zero, cpus, vectors, lost, events
        self.end = max((e.ns for e in events), default=zero)
        self.build()

    def ms(self, ns):
        return (ns - self.zero) / 1e6

    def vector_name(self, v):
        return self.vectors.get(v, "NMI" if v == 2 else "")

    def call_function(self, v):
        """A call-function vector (smp_call_function_*()): the header names it "...function call..."."""
        return "function call" in self.vector_name(v).lower()

    def build(self):
        """IF=0 spans, hardirq spans (with depth and the vector they nested in), lock spins and holds,
        hrtimer callbacks, IPIs matched to the entry they caused, detector reports and lab events."""
        self.if_off, self.irqs, self.locks, self.timers, self.ipis = [], [], [], [], []
        self.detectors, self.labs = [], []
        first_if = {}                   # the first IF event per CPU: an enable first means IF=0 at the start
        off_since, stack, held, timer_at = {}, {}, {}, {}
        entries = {}                    # (cpu, vector) -> [(ns, enclosing vector)]
        for e in self.events:
            c = e.cpu
            if e.name in ("irq_disable", "irq_enable"):
                if c not in first_if and e.name == "irq_enable":
                    self.if_off.append((c, self.zero, e.ns))     # IF=0 since before the trace began
                first_if.setdefault(c, e.name)
                if e.name == "irq_disable":
                    off_since.setdefault(c, e.ns)
                elif c in off_since:
                    self.if_off.append((c, off_since.pop(c), e.ns))
            elif e.name == "irq_handler_entry":
                st = stack.setdefault(c, [])
                v = int(e.f["vector"], 16)
                entries.setdefault((c, v), []).append((e.ns, st[-1][0] if st else None))
                st.append((v, int(e.f["depth"]), e.ns))
            elif e.name == "irq_handler_exit":
                st = stack.get(c, [])
                if st:                      # an exit with no entry began before the trace: nothing to draw
                    v, depth, start = st.pop()
                    self.irqs.append((c, v, depth, start, e.ns, True))
            elif e.name == "lock_acquire":
                held[(c, e.f["lock"])] = [e.ns, None, False]
            elif e.name == "lock_contended":
                if (c, e.f["lock"]) in held:
                    held[(c, e.f["lock"])][2] = True
            elif e.name == "lock_acquired":
                if (c, e.f["lock"]) in held:
                    held[(c, e.f["lock"])][1] = e.ns
            elif e.name == "lock_release":
                h = held.pop((c, e.f["lock"]), None)
                if h and h[1] is not None:
                    self.locks.append((c, e.f["lock"], h[0], h[1], e.ns, h[2]))
            elif e.name == "hrtimer_expire_entry":
                timer_at.setdefault(c, []).append((e.ns, e.f.get("function", "")))
            elif e.name == "hrtimer_expire_exit":
                if timer_at.get(c):
                    start, fn = timer_at[c].pop()
                    self.timers.append((c, fn, start, e.ns, True))
            elif e.name == "detector":
                self.detectors.append((c, e.ns, int(e.f.get("cpu", -1)), e.f.get("report", "")))
            elif e.name == "lab":
                self.labs.append((c, e.ns, e.f.get("text", "")))
        for c, t in off_since.items():
            self.if_off.append((c, t, self.end))
        for c, st in stack.items():
            self.irqs += [(c, v, depth, start, self.end, False) for v, depth, start in st]
        for (c, lock), (t0, t1, contended) in held.items():
            self.locks.append((c, lock, t0, t1 if t1 is not None else self.end, self.end, contended))
        for c, st in timer_at.items():
            self.timers += [(c, fn, start, self.end, False) for start, fn in st]
        for e in self.events:
            if e.name != "ipi_send_cpu":
                continue
            dst, v = int(e.f["cpu"]), int(e.f["vector"], 16)
            hit = next(((t, outer) for t, outer in entries.get((dst, v), []) if t >= e.ns), None)
            self.ipis.append({"src": e.cpu, "dst": dst, "vector": v, "sent": e.ns,
                              "entered": hit[0] if hit else None, "inside": hit[1] if hit else None})


def parse(path):
    """Read a trace file (docs/trace.md). Raises TraceError naming the file and line of anything malformed."""
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise TraceError(f"{path}: cannot read: {e.strerror}")
    if not lines or lines[0] != "# irqlab trace 1":
        raise TraceError(f"{path}: not an irqlab trace: the first line must be '# irqlab trace 1' "
                         f"(an empty file: the run wrote none; see docs/trace.md)")
    first = max(n for n, line in enumerate(lines) if line == "# irqlab trace 1")    # several dumps: the last
    zero, cpus, vectors, lost, events, ended = None, None, {}, {}, [], False
    for n, line in enumerate(lines[first + 1:], first + 2):
        where = f"{path}:{n}"
        if line.startswith("#"):
            words = line[1:].split()
            try:
                if words[:1] == ["zero"]:
                    zero = int(words[1])
                elif words[:1] == ["cpus"]:
                    cpus = int(words[1])
                elif words[:1] == ["vector"]:
                    vectors[int(words[1], 16)] = " ".join(words[2:])
                elif words[:1] == ["cpu"]:
                    lost[int(words[1])] = int(words[5])
                elif words[:1] == ["end"]:
                    ended = True
            except (IndexError, ValueError):
                raise TraceError(f"{where}: malformed header line: {line!r}")
            continue
        m = re.fullmatch(r"(\d+) (\d+) (\w+)(.*)", line)
        if not m:
            raise TraceError(f"{where}: not an event line 'NS CPU NAME key=value...': {line!r}")
        ns, cpu, name, rest = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4).strip()
        if name not in EVENT_NAMES:
            raise TraceError(f"{where}: unknown event {name!r}; valid: {', '.join(EVENT_NAMES)}")
        fields = {}
        while rest:
            k = re.match(r"(\w+)=", rest)
            if not k:
                raise TraceError(f"{where}: expected key=value, found {rest!r}")
            if k.group(1) in TEXT_FIELDS:
                fields[k.group(1)] = rest[k.end():]
                break
            value, _, rest = rest[k.end():].partition(" ")
            fields[k.group(1)] = value
        try:
            for key in ("vector",):
                if key in fields:
                    int(fields[key], 16)
            for key in ("cpu", "depth"):
                if key in fields:
                    int(fields[key])
        except ValueError:
            raise TraceError(f"{where}: a number field is not a number: {line!r}")
        events.append(Event(ns, cpu, name, fields, len(events)))
    if zero is None or cpus is None:
        raise TraceError(f"{path}: no '# zero' or '# cpus' header line")
    if not ended:
        raise TraceError(f"{path}: no '# end' line: the trace was cut short (did QEMU stop mid-dump?)")
    events.sort(key=lambda e: (e.ns, e.seq))
    return Trace(zero, cpus, vectors, lost, events)


# ---------------------------------------------------------------- the story's assertions

def check(trace, expectation):
    """(ok, what was found) for one expectation; TraceError if it is not one of EXPECT_FORMS."""
    m = re.fullmatch(r"ipi (\d+)->(\d+) (never entered|entered inside (0x[0-9a-fA-F]+))", expectation.strip())
    if m:
        src, dst = int(m.group(1)), int(m.group(2))
        sent = [i for i in trace.ipis if i["src"] == src and i["dst"] == dst and trace.call_function(i["vector"])]
        if not sent:
            return False, f"CPU {src} sent CPU {dst} no call-function IPI"
        if m.group(3) == "never entered":
            lost = [i for i in sent if i["entered"] is None]
            return (bool(lost), f"vector {lost[0]['vector']:#x} sent at {trace.ms(lost[0]['sent']):.3f} ms, never "
                    "entered" if lost else f"all {len(sent)} were entered")
        outer = int(m.group(4), 16)
        nested = [i for i in sent if i["entered"] is not None and i["inside"] == outer]
        seen = ", ".join(f"{i['vector']:#x} " + ("never entered" if i["entered"] is None else
                         f"entered inside {i['inside']:#x}" if i["inside"] is not None else "entered at depth 1")
                         for i in sent)
        return (bool(nested), f"vector {nested[0]['vector']:#x} entered {trace.ms(nested[0]['entered']):.3f} ms "
                f"inside {outer:#x}" if nested else f"none entered inside {outer:#x}: {seen}")
    m = re.fullmatch(r"event (\w+)", expectation.strip())
    if m:
        n = sum(e.name == m.group(1) for e in trace.events)
        if m.group(1) not in EVENT_NAMES:
            raise TraceError(f"expectation {expectation!r}: no event {m.group(1)!r}; valid: {', '.join(EVENT_NAMES)}")
        return n > 0, f"{n} {m.group(1)} events"
    raise TraceError(f"expectation {expectation!r} is not valid; valid: {'; '.join(EXPECT_FORMS)}")


# ---------------------------------------------------------------- Chrome Trace Event JSON

def chrome_json(trace):
    """The trace as Chrome's Trace Event Format (times in microseconds): each CPU a process, its hardirqs,
    timers and csd functions one thread, IF=0 another, locks a third; IPIs as flow arrows."""
    us = lambda ns: (ns - trace.zero) / 1e3     # noqa: E731
    out = []
    for c in range(trace.cpus):
        out.append({"ph": "M", "name": "process_name", "pid": c, "args": {"name": f"CPU {c}"}})
        for tid, name in ((0, "hardirq"), (1, "IF=0"), (2, "locks")):
            out.append({"ph": "M", "name": "thread_name", "pid": c, "tid": tid, "args": {"name": name}})
    for c, t0, t1 in trace.if_off:
        out.append({"ph": "X", "name": "IF=0", "cat": "irqflags", "pid": c, "tid": 1, "ts": us(t0),
                    "dur": (t1 - t0) / 1e3})
    for c, v, depth, t0, t1, done in trace.irqs:
        out.append({"ph": "X", "name": f"irq {v:#x} {trace.vector_name(v)}".strip(), "cat": "irq", "pid": c,
                    "tid": 0, "ts": us(t0), "dur": (t1 - t0) / 1e3,
                    "args": {"vector": f"{v:#x}", "depth": depth, "returned": done}})
    for c, fn, t0, t1, done in trace.timers:
        out.append({"ph": "X", "name": f"hrtimer {fn}", "cat": "hrtimer", "pid": c, "tid": 0, "ts": us(t0),
                    "dur": (t1 - t0) / 1e3, "args": {"returned": done}})
    for c, lock, t0, t1, t2, contended in trace.locks:
        if contended:
            out.append({"ph": "X", "name": f"spin {lock}", "cat": "lock", "pid": c, "tid": 2, "ts": us(t0),
                        "dur": (t1 - t0) / 1e3})
        out.append({"ph": "X", "name": f"hold {lock}", "cat": "lock", "pid": c, "tid": 2, "ts": us(t1),
                    "dur": (t2 - t1) / 1e3})
    for n, i in enumerate(trace.ipis):
        name = f"IPI {i['vector']:#x} CPU{i['src']}->CPU{i['dst']}"
        args = {"vector": f"{i['vector']:#x}", "target": i["dst"], "entered": i["entered"] is not None}
        out.append({"ph": "i", "s": "t", "name": name + ("" if i["entered"] is not None else " (never taken)"),
                    "cat": "ipi", "pid": i["src"], "tid": 0, "ts": us(i["sent"]), "args": args})
        if i["entered"] is not None:
            out.append({"ph": "s", "id": n, "name": name, "cat": "ipi", "pid": i["src"], "tid": 0,
                        "ts": us(i["sent"])})
            out.append({"ph": "f", "bp": "e", "id": n, "name": name, "cat": "ipi", "pid": i["dst"], "tid": 0,
                        "ts": us(i["entered"])})
    for c, t, about, report in trace.detectors:
        out.append({"ph": "i", "s": "g", "name": f"{report} (about CPU {about})", "cat": "detector", "pid": c,
                    "tid": 0, "ts": us(t)})
    for c, t, text in trace.labs:
        out.append({"ph": "i", "s": "p", "name": text, "cat": "lab", "pid": c, "tid": 0, "ts": us(t)})
    return {"traceEvents": out, "displayTimeUnit": "ns",
            "otherData": {"source": "irqlab trace (docs/trace.md)", "lost": {str(k): v for k, v in trace.lost.items()}}}


# ---------------------------------------------------------------- the picture

VECTOR_COLOURS = {0xec: "#4c72b0", 0xfb: "#dd8452", 0xfc: "#dd8452", 0x3b: "#dd8452", 0x3c: "#dd8452",
                  0xfd: "#8172b3", 0x51: "#937860", 2: "#c44e52"}


def focus_window(trace):
    """(from, to) in ms around the call-function IPI that waited longest (never taken: waited to the end)."""
    ipis = [i for i in trace.ipis if trace.call_function(i["vector"])]
    if not ipis:
        raise TraceError("--focus ipi: the trace holds no call-function IPI")
    i = max(ipis, key=lambda i: (i["entered"] or trace.end) - i["sent"])
    t0, t1 = trace.ms(i["sent"]), trace.ms(i["entered"] or trace.end)
    pad = max(0.5, (t1 - t0) * 0.3)
    return t0 - pad, t1 + pad if i["entered"] is not None else trace.ms(trace.end)


def draw(trace, paths, window=None, title=""):
    """Write the picture to each of paths (.svg, .png), zoomed to window (ms, ms) or the whole trace."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    lo, hi = window or (trace.ms(min((e.ns for e in trace.events), default=trace.zero)), trace.ms(trace.end))
    if hi <= lo:
        raise TraceError(f"the window {lo:g}..{hi:g} ms is empty; give --from below --to")
    lane = 4.0                          # lane height; CPU 0 at the top
    y = lambda c: (trace.cpus - 1 - c) * lane      # noqa: E731
    fig, ax = plt.subplots(figsize=(14, 1.6 + 1.5 * trace.cpus))
    span = lambda t0, t1: (max(trace.ms(t0), lo), min(trace.ms(t1), hi) - max(trace.ms(t0), lo))  # noqa: E731
    visible = lambda t0, t1: trace.ms(t1) >= lo and trace.ms(t0) <= hi     # noqa: E731
    for c in range(trace.cpus):
        ax.axhline(y(c), color="#999999", linewidth=0.5)
        spans = [span(t0, t1) for cc, t0, t1 in trace.if_off if cc == c and visible(t0, t1)]
        ax.broken_barh(spans, (y(c), lane * 0.98), facecolors="#f4c7c3", edgecolor="none", zorder=0)
    bars = {}                           # (y, height, colour) -> spans: one collection each, not one per bar
    for c, v, depth, t0, t1, done in trace.irqs:
        if visible(t0, t1):
            x, w = span(t0, t1)
            bars.setdefault((y(c) + 0.9 + (depth - 1) * 0.8, 0.7, VECTOR_COLOURS.get(v, "#55a868")), []).append(
                (x, max(w, (hi - lo) / 20000)))
            if w > (hi - lo) / 25 or (depth > 1 and w > 0):
                ax.text(x + w / 2 if w > (hi - lo) / 25 else x, y(c) + 1.25 + (depth - 1) * 0.8,
                        f"{v:#x}" + (f" {trace.vector_name(v)}" if w > (hi - lo) / 5 else "") +
                        ("" if done else " (never returned)"), ha="left" if w <= (hi - lo) / 25
                        else "center", va="center", fontsize=7, color="black", zorder=5)
    for c, lock, t0, t1, t2, contended in trace.locks:
        if contended and visible(t0, t1):
            ax.broken_barh([span(t0, t1)], (y(c) + 0.3, 0.4), facecolors="none", edgecolor="#c44e52",
                           hatch="////", linewidth=0.5, zorder=2)
            x, w = span(t0, t1)
            ax.text(x + min(w, (hi - lo) / 50), y(c) + 0.5, f"spins on {lock}", fontsize=7, va="center", zorder=5)
        if visible(t1, t2):
            x, w = span(t1, t2)
            bars.setdefault((y(c) + 0.3, 0.4, "#8c8c8c"), []).append((x, max(w, (hi - lo) / 20000)))
            if w > (hi - lo) / 20:
                ax.text(x + w / 2, y(c) + 0.5, f"holds {lock}", fontsize=7, va="center", ha="center", zorder=5)
    for (base, height, colour), spans in bars.items():
        ax.broken_barh(spans, (base, height), facecolors=colour, edgecolor="none", zorder=2)
    labelled = set()                    # (src, dst): only the first never-taken IPI between two CPUs is labelled
    for i in trace.ipis:
        if i["vector"] == 2 or not visible(i["sent"], i["entered"] or trace.end):
            continue
        x0 = trace.ms(i["sent"])
        y0, y1 = y(i["src"]) + lane * 0.5, y(i["dst"]) + lane * 0.75
        if i["entered"] is not None:
            ax.annotate("", xy=(trace.ms(i["entered"]), y1), xytext=(x0, y0), zorder=6,
                        arrowprops=dict(arrowstyle="-|>", color="#dd8452", linewidth=1.2))
        else:
            ax.annotate("", xy=(hi, y1), xytext=(x0, y0), zorder=6,
                        arrowprops=dict(arrowstyle="->", linestyle="--", color="#c44e52", linewidth=1.5))
            if (i["src"], i["dst"]) not in labelled:
                labelled.add((i["src"], i["dst"]))
                ax.text((x0 + hi) / 2, y1 + 0.2, f"IPI {i['vector']:#x} from CPU {i['src']}: never taken",
                        color="#c44e52", fontsize=8, ha="center", zorder=6)
    for k, (c, t, about, report) in enumerate(d for d in trace.detectors if lo <= trace.ms(d[1]) <= hi):
        ax.plot([trace.ms(t)], [y(c) + lane * 0.92], marker="v", color="#c44e52", markersize=8, zorder=7)
        ax.text(trace.ms(t), y(c) + lane * 0.92 - 0.35 - 0.35 * (k % 3), f" {report} (about CPU {about})",
                fontsize=7, color="#c44e52", zorder=7)
    for c, t, text in trace.labs:
        if lo <= trace.ms(t) <= hi:
            ax.plot([trace.ms(t)], [y(c) + 0.1], marker="|", color="black", markersize=6, zorder=4)
    ax.set_xlim(lo, hi)
    ax.set_ylim(-0.2, trace.cpus * lane)
    ax.set_yticks([y(c) + lane / 2 for c in range(trace.cpus)], [f"CPU {c}" for c in range(trace.cpus)])
    ax.set_xlabel("ms since the lab started")
    ax.legend(handles=[Patch(facecolor="#f4c7c3", label="IF=0"),
                       Patch(facecolor="#4c72b0", label="timer interrupt (0xec)"),
                       Patch(facecolor="#dd8452", label="call-function IPI handler"),
                       Patch(facecolor="#8c8c8c", label="lock held"),
                       Patch(facecolor="none", edgecolor="#c44e52", hatch="////", label="spinning on a lock")],
              loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=5, fontsize=8, frameon=False)
    lost = sum(trace.lost.values())
    ax.set_title((title + "\n" if title else "") + "hardirqs stacked by nesting depth; arrows: IPIs; "
                 "triangles: detector reports; ticks: lab events" + (f"; {lost} events lost" if lost else ""),
                 fontsize=9)
    fig.tight_layout()
    for p in paths:
        fig.savefig(p, dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description="Draw, export or check an irqlab interrupt trace (docs/trace.md).")
    ap.add_argument("trace", help="the trace file (make run LAB=...: build/trace/LAB-VARIANT.txt)")
    ap.add_argument("--out", metavar="PREFIX", help="write PREFIX.svg, PREFIX.png and PREFIX.json")
    ap.add_argument("--png", help="write only this picture (PNG)")
    ap.add_argument("--json", help="write the Chrome Trace Event JSON here")
    ap.add_argument("--from", dest="start", type=float, metavar="MS", help="zoom: from this many ms")
    ap.add_argument("--to", dest="stop", type=float, metavar="MS", help="zoom: to this many ms")
    ap.add_argument("--focus", choices=("ipi",), help="zoom to the IPI that waited longest")
    ap.add_argument("--title", default="", help="a title above the picture")
    ap.add_argument("--expect", action="append", default=[], metavar="EXPECTATION",
                    help="assert the story: " + "; ".join(EXPECT_FORMS))
    a = ap.parse_args()
    try:
        trace = parse(a.trace)
        failed = 0
        for x in a.expect:
            ok, found = check(trace, x)
            failed += not ok
            print(f"{'ok' if ok else 'FAILED'}: {x}: {found}")
        if a.focus and (a.start is not None or a.stop is not None):
            raise TraceError("--focus chooses the window itself: give it, or --from/--to, not both")
        window = focus_window(trace) if a.focus else None
        if a.start is not None or a.stop is not None:
            window = (a.start if a.start is not None else trace.ms(trace.events[0].ns if trace.events else trace.zero),
                      a.stop if a.stop is not None else trace.ms(trace.end))
        pictures = [a.out + ".svg", a.out + ".png"] if a.out else [a.png] if a.png else []
        json_path = a.out + ".json" if a.out else a.json
        for p in pictures + [json_path] * bool(json_path):
            os.makedirs(os.path.dirname(p) or ".", exist_ok=True)
        if pictures:
            draw(trace, pictures, window, a.title)
        if json_path:
            with open(json_path, "w") as f:
                json.dump(chrome_json(trace), f)
        for p in pictures + [json_path] * bool(json_path):
            print(f"irqlab: trace: {p}")
    except TraceError as e:
        sys.exit(f"trace.py: {e}")
    except ImportError as e:
        sys.exit(f"trace.py: the picture needs matplotlib ({e}); run with {'/usr/bin/python3'} after `make deps` "
                 "(python3-matplotlib)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
