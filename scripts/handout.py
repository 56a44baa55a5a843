#!/usr/bin/env python3
"""scripts/handout.py: write the student tree: solutions replaced by their stubs, teacher material left out.

    scripts/handout.py OUTDIR        (make handout: build/handout)

One source, two trees. In a student's file the reference solution sits
between two marker lines, and the code the student starts from follows as
STUB lines, commented out in the full tree:

    // BEGIN SOLUTION
    spin_lock_irqsave(&dev_lock, flags);
    // END SOLUTION
    // STUB: /* TODO: take dev_lock so that the handler cannot interrupt you holding it */
    // STUB: spin_lock(&dev_lock);

The handout drops the solution lines (markers included) and uncomments the
STUB lines (the text after "STUB: ", at the marker's indentation). Only
files whose first line says "STUDENT FILE" are rewritten so. A file whose
first line says "teacher-only" (the answers, hidden checks) is left out.
Everything else is copied as it is: the files git tracks, and new ones
it does not ignore.
"""
import os
import re
import shutil
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = re.compile(r"^\s*(//|#|/\*)\s*BEGIN SOLUTION\b"), re.compile(r"^\s*(//|#|/\*)\s*END SOLUTION\b")
STUB = re.compile(r"^(\s*)(//|#) STUB: ?(.*)$")


def source_files(top):
    """The tree's files: git's tracked and untracked-but-not-ignored ones, or every file outside build/."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=top, check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode()
        return sorted(p for p in out.split("\0") if p and os.path.isfile(os.path.join(top, p)))
    except (OSError, subprocess.CalledProcessError):
        return sorted(os.path.relpath(os.path.join(d, n), top) for d, _, names in os.walk(top)
                      if not os.path.relpath(d, top).split(os.sep)[0] in ("build", ".git") for n in names)


def first_line(path):
    with open(path, "rb") as f:
        return f.readline()


def strip_solutions(path, text):
    """The student's version of a file; raises ValueError on unbalanced markers."""
    out, inside, begin_line = [], False, 0
    for n, line in enumerate(text.splitlines(keepends=True), 1):
        if BEGIN.match(line):
            if inside:
                raise ValueError(f"{path}:{n}: BEGIN SOLUTION inside the solution that began at line {begin_line}")
            inside, begin_line = True, n
        elif END.match(line):
            if not inside:
                raise ValueError(f"{path}:{n}: END SOLUTION without a BEGIN SOLUTION")
            inside = False
        elif not inside:
            m = STUB.match(line)
            out.append(m.group(1) + m.group(3) + "\n" if m else line)
    if inside:
        raise ValueError(f"{path}:{begin_line}: BEGIN SOLUTION without an END SOLUTION")
    return "".join(out)


def write_handout(outdir, top=TOP):
    """Write the student tree to outdir (replacing what was there). Returns (files written, files left out)."""
    if os.path.exists(outdir):
        shutil.rmtree(outdir)
    written, left_out = [], []
    for rel in source_files(top):
        src = os.path.join(top, rel)
        head = first_line(src)
        if b"teacher-only" in head:
            left_out.append(rel)
            continue
        dst = os.path.join(outdir, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if b"STUDENT FILE" in head:
            with open(src, "rb") as f:
                data = strip_solutions(rel, f.read().decode()).encode()
            with open(dst, "wb") as f:
                f.write(data)
            shutil.copymode(src, dst)
        else:
            shutil.copy2(src, dst)      # with its times: objects built from it stay up to date
        written.append(rel)
    return written, left_out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: scripts/handout.py OUTDIR")
    outdir = os.path.abspath(sys.argv[1])
    if os.path.commonpath([outdir, TOP]) == TOP and not outdir.startswith(os.path.join(TOP, "build") + os.sep):
        sys.exit(f"handout: {sys.argv[1]} is inside the source tree; give a path under build/ or outside it")
    try:
        written, left_out = write_handout(outdir)
    except ValueError as e:
        sys.exit(f"handout: {e}")
    print(f"handout: wrote the student tree to {outdir} ({len(written)} files; left out, teacher-only: "
          f"{', '.join(left_out) or 'none'})")


if __name__ == "__main__":
    main()
