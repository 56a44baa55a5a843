"""The serial console's line format: Linux's printk prefix, and reading lines without it.

Every kernel message line starts "[    5.034954][    C0] ": seconds since
boot, then the CPU that printed it (kernel/printk.c). What a script looks
for in a line (a verdict, a KTAP result, a monitor answer) comes after it.
The monitor's prompt and the echo of a typed line carry no prefix.
"""
import re

PREFIX = re.compile(r"^\[ *\d+\.\d{6}\]\[ *C(\d+)\] ")


def strip(line):
    """The line without its printk prefix (a line without one is returned as it is)."""
    return PREFIX.sub("", line, count=1)


def lines(text):
    """The text's lines, each without its printk prefix."""
    return [strip(line) for line in text.splitlines()]


def cpu(line):
    """The CPU that printed the line, or None for a line without the prefix."""
    m = PREFIX.match(line)
    return int(m.group(1)) if m else None
