"""Benchmark (not a test): issue 12's three figures in one table, against a floor measured in the same run.

    python benchmarks/bench_speed.py [--topic T ...] [--repeat 5] [--skip-grade] [--root CHECKOUT]

--root times another checkout's exgen (a "before" column: `git archive COMMIT | tar -x -C /tmp/before`);
the default is the checkout this file is in. Every process runs outside the checkout, with that root first
on PYTHONPATH, so the code timed is the code named.

1. Start-up: `exgen make --topic T --n 10` in a fresh process (median of --repeat runs) as a ratio to the
   floor, a fresh process that only imports numpy, jinja2 and click (target: at most 1.2).
2. Throughput: `exgen make --topic T --difficulty D --n 1000 --out DIR` (fresh process, every file written),
   as problems per second for the whole command and past start-up (its time less the `--n 10` run's).
   Target: 2,000 problems/s.
3. Grading: `exgen grade` of 1,000 submissions x 20 parts with a gradebook and 1,000 feedback files, the
   fixture of bench_grade.py (target: 1 s).

Every figure is given twice: wall-clock seconds, and CPU seconds (user + system of the child process, from
getrusage). On a shared machine the wall clock counts other people's work; CPU time is what one core spends.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FLOOR = [sys.executable, "-c", "import numpy, jinja2, click"]
EXGEN = [sys.executable, "-m", "exgen"]
ENV = dict(os.environ)
CWD = tempfile.gettempdir()  # not a checkout: `python -m` puts the working folder first on sys.path


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one fresh process."""
    cpu, start = _cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, cwd=CWD)
    return time.perf_counter() - start, _cpu() - cpu


def median_run(cmd: list[str], repeat: int) -> tuple[float, float]:
    runs = [run(cmd) for _ in range(repeat)]
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", action="append", help="only these topics (repeatable); default: all")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--n", type=int, default=1000, help="problems per throughput run")
    parser.add_argument("--skip-grade", action="store_true")
    parser.add_argument("--root", type=Path, default=HERE.parent, help="the checkout whose exgen is timed")
    args = parser.parse_args()
    root = str(args.root.resolve())
    ENV["PYTHONPATH"] = os.pathsep.join([root] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    sys.path.insert(0, root)
    from exgen.topics import TOPIC_NAMES

    print(f"exgen from {root}")

    topics = args.topic or list(TOPIC_NAMES)
    floor_wall, floor_cpu = median_run(FLOOR, args.repeat)
    print(f"floor (python -c 'import numpy, jinja2, click'): {floor_wall * 1000:.0f} ms wall, "
          f"{floor_cpu * 1000:.0f} ms CPU (median of {args.repeat})\n")
    print(f"| topic | make --n 10: ms wall (ratio) | ms CPU (ratio) | difficulty | --n {args.n} --out: /s wall "
          "| /s CPU | /s CPU past start-up |")
    print("|---|---|---|---|---|---|---|")
    tmp = Path(tempfile.mkdtemp(prefix="exgen-bench-"))
    try:
        for topic in topics:
            wall10, cpu10 = median_run([*EXGEN, "make", "--topic", topic, "--n", "10", "--seed", "1"], args.repeat)
            start = (f"{wall10 * 1000:.0f} ({wall10 / floor_wall:.2f})", f"{cpu10 * 1000:.0f} ({cpu10 / floor_cpu:.2f})")
            for difficulty in ("easy", "medium", "hard"):
                out = tmp / f"{topic}-{difficulty}"
                wall, cpu = run([*EXGEN, "make", "--topic", topic, "--n", str(args.n), "--seed", "1",
                                 "--difficulty", difficulty, "--out", str(out)])
                past = (args.n - 10) / max(cpu - cpu10, 1e-9)
                print(f"| {topic} | {start[0]} | {start[1]} | {difficulty} | {args.n / wall:.0f} | "
                      f"{args.n / cpu:.0f} | {past:.0f} |", flush=True)
                start = ("", "")
                shutil.rmtree(out, ignore_errors=True)
        if not args.skip_grade:
            print()
            grade(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def grade(tmp: Path) -> None:
    sys.path.insert(0, str(HERE))
    from bench_grade import key_of_20_parts, submission  # the same fixture as bench_grade.py

    from exgen.grading.grade import Grader

    key = key_of_20_parts()
    key.write(tmp / "key.json")
    subs = tmp / "subs"
    subs.mkdir()
    mistakes = Grader(key).mistakes
    for i in range(1000):
        (subs / f"s{i:05d}.yaml").write_text(submission(key, "", i, mistakes))
    cmd = [*EXGEN, "grade", str(tmp / "key.json"), str(subs), "--out", str(tmp / "grades.csv"),
           "--feedback", str(tmp / "fb")]
    cpu, start = _cpu(), time.perf_counter()
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, cwd=CWD)
    wall, cpu = time.perf_counter() - start, _cpu() - cpu
    files = len(os.listdir(tmp / "fb"))
    print(f"exgen grade, 1000 submissions x 20 parts, gradebook + {files} feedback files: "
          f"{wall:.2f} s wall, {cpu:.2f} s CPU")


if __name__ == "__main__":
    main()
