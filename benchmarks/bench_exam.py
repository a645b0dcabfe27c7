"""Benchmark (not a test): how long `exgen exam` takes to build a roster's exams, as a TA runs it.

    python benchmarks/bench_exam.py [--students 30] [--jobs N]

Builds examples/midterm.yaml for a roster of --students ids in a fresh process, once without PDFs (papers,
answer sheets and key only) and once with them (an exam.pdf and a solutions.pdf per student, pdflatex run
--jobs at a time), and prints the wall times.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "roster.txt").write_text("".join(f"student_{i:03d}\n" for i in range(args.students)))
        (folder / "course.secret").write_text("benchmark-secret-" * 2)
        base = [sys.executable, "-m", "exgen", "exam", str(ROOT / "examples" / "midterm.yaml"), "--roster",
                str(folder / "roster.txt"), "--secret-file", str(folder / "course.secret")]
        base += ["--jobs", str(args.jobs)] if args.jobs else []
        for label, extra in (("papers, sheets and key (--no-pdf)", ["--no-pdf"]), ("with PDFs", [])):
            start = time.perf_counter()
            subprocess.run([*base, "--out", str(folder / label.split()[0]), *extra], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            print(f"{args.students} roster exams, {label:<36} {time.perf_counter() - start:6.1f} s")


if __name__ == "__main__":
    main()
