#!/usr/bin/env python3
"""scripts/grade.py: `make grade`: run the labs' graded checks and score them, in the style of 6.1810's gradelib.

    scripts/grade.py [--lab NAME] [--json FILE] [--logdir DIR]

A graded check is a [[check]] with points in a lab's checks*.toml (see
scripts/checks.py). Each prints `title: OK (points, time)` or `title: FAIL` with
what was expected and what was seen, then the total: `Score: X/Y`. The
same results go to a Gradescope results.json (--json; default
build/grade/results.json). Exits 1 unless every point was scored.
"""
import argparse
import concurrent.futures
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
import qemu  # noqa: E402


def graded(labs):
    return [c for c in checks.all_checks(labs=labs) if c.points > 0]


def grade(selected, logdir, out=sys.stdout):
    """Run every graded check; print gradelib-style lines; return the Gradescope tests list.

    Deterministic runs go two at a time (a neighbour cannot change what they
    print); the lines still come out in check order."""
    mode = qemu.default_mode(os.environ.get("ACCEL", "tcg"))
    plan = [(c, [r for r in c.runs if r.mode == mode] or c.runs) for c in selected]
    jobs = min(2, os.cpu_count() or 1) if mode == "deterministic" else 1
    tests = []
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        futures = [[pool.submit(checks.execute, run, logdir) for run in runs] for _, runs in plan]
        for (c, runs), done in zip(plan, futures):
            out.write(f"{c.id}: {c.title}: ")
            out.flush()
            lines, seconds, ok = [], 0.0, True
            for run, future in zip(runs, done):
                results, log, elapsed, _ = future.result()
                seconds += elapsed
                failures = [msg or f"KTAP case failed: {name}" for case_ok, name, msg in results if not case_ok]
                if failures:
                    ok = False
                    lines.append(f"    {run.id} (log: {log}):")
                    lines += ["        " + m for f in failures for m in f.splitlines()]
            if ok:
                out.write(f"OK ({c.points}/{c.points} points, {seconds:.1f}s)\n")
            else:
                out.write(f"FAIL (0/{c.points} points)\n" + "\n".join(lines) + "\n")
                if c.hint:
                    out.write(f"    hint: {c.hint}\n")
            tests.append({"name": f"{c.id}: {c.title}", "score": c.points if ok else 0, "max_score": c.points,
                          "output": "OK" if ok else "\n".join(lines + ([f"hint: {c.hint}"] if c.hint else []))})
    return tests


def main():
    ap = argparse.ArgumentParser(description="Grade the labs' exercises (make grade [LAB=name]).")
    ap.add_argument("--lab", default=os.environ.get("LAB", ""), help="grade one lab (default: every lab)")
    ap.add_argument("--json", default=os.path.join("build", "grade", "results.json"),
                    help="where to write the Gradescope results.json")
    ap.add_argument("--logdir", default=os.path.join("build", "grade"), help="serial logs of the runs")
    a = ap.parse_args()
    labs = checks.lab_names()
    if a.lab and a.lab not in labs:
        sys.exit(f"grade: no lab '{a.lab}'; valid: {', '.join(labs)}")
    try:
        selected = graded([a.lab] if a.lab else labs)
    except ValueError as e:
        sys.exit(f"grade: {e}")
    tests = grade(selected, a.logdir)
    score, possible = sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)
    print(f"Score: {score}/{possible}")
    os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump({"score": score, "tests": tests}, f, indent=2)
    print(f"grade: results for Gradescope in {a.json}")
    sys.exit(0 if score == possible else 1)


if __name__ == "__main__":
    main()
