"""Benchmark (not a test): grading 1,000 submissions of a 20-part key.

    python benchmarks/bench_grade.py [--students 1000] [--repeat 3]

The key: four affine quantization problems (5 parts each: scale, zero point, integer matrix,
reconstruction matrix, error) = 20 parts. The submissions mix what a class hands in: the key as printed,
the key in other spellings (7.3 × 10^22, LaTeX, decimal commas), named mistakes, slips in a matrix entry,
blanks and unreadable answers. Reports the in-process figure (read + parse + grade + gradebook CSV) and
the end-to-end `exgen grade` command (a fresh process, writing the gradebook and the feedback files).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from exgen.generate import generate
from exgen.grading.exam import sheet_id
from exgen.grading.grade import Grader, expected_text, gradebook_csv
from exgen.grading.sheet import blank_sheet
from exgen.manifest import Key
from exgen.rng import problem_seed


def key_of_20_parts() -> Key:
    problems = tuple(generate("quantization", "affine", "medium", problem_seed(2024, i)) for i in range(4))
    assert sum(len(p.solution.parts) for p in problems) == 20
    return Key(problems, meta={"sheet": sheet_id(list(problems))})


def spellings(text: str, i: int) -> str:
    if i % 4 == 1 and "e" not in text and ";" not in text:
        return text.replace(".", ",") if text.count(".") == 1 and len(text.split(".")[1]) != 3 else text
    if i % 4 == 2 and ";" in text:
        return "[[" + "], [".join(", ".join(r.split()) for r in text.split("; ")) + "]]"
    if i % 4 == 3 and ";" not in text:
        return f"$ {text} $"
    return text


def submission(key: Key, sheet: str, i: int, mistakes) -> str:
    lines = [f"student: s{i:05d}", f"sheet: {key.meta['sheet']}"]
    for n, problem in enumerate(key.problems, 1):
        for j, part in enumerate(problem.solution.parts):
            text = expected_text(part.answer)
            kind = (i + 3 * n + j) % 10
            named = mistakes(n).get(part.id)
            if kind == 6 and named:
                text = expected_text(replace(part.answer, value=named[0][1]))  # a named mistake
            elif kind == 7:
                text = ""                              # blank
            elif kind == 8:
                text = "not a number"                  # invalid
            elif kind == 9 and ";" in text:
                text = "9 " + text.split(" ", 1)[1]    # one entry wrong in a matrix
            elif kind == 9:
                text = text + "1"                      # a slip
            else:
                text = spellings(text, i)
            lines.append(f"{n}.{part.id}: {text!r}" if text else f"{n}.{part.id}:")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    key = key_of_20_parts()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        key.write(folder / "key.json")
        sheet = blank_sheet(list(key.problems))
        subs = folder / "subs"
        subs.mkdir()
        for i in range(args.students):
            (subs / f"s{i:05d}.yaml").write_text(submission(key, sheet, i, Grader(key).mistakes))
        files = sorted(subs.iterdir())
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            rows = Grader(key).grade_files(files)
            gradebook_csv(rows)
            times.append(time.perf_counter() - start)
        seconds = statistics.median(times)
        verdicts = [p.verdict for r in rows for p in r.parts]
        named = sum(bool(p.mistake) for r in rows for p in r.parts)
        print(f"in-process: {args.students} submissions x 20 parts in {seconds:.2f} s "
              f"= {args.students / seconds:.0f} submissions/s ({args.students * 20 / seconds:.0f} parts/s)")
        print("  verdicts: " + ", ".join(f"{v} {verdicts.count(v)}" for v in ("correct", "partial", "wrong",
                                                                              "invalid")) + f" (named mistakes {named})")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "exgen", "grade", str(folder / "key.json"), str(subs),
                        "--out", str(folder / "grades.csv"), "--feedback", str(folder / "fb")],
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        print(f"exgen grade (fresh process, gradebook + {args.students} feedback files): {wall:.2f} s")


if __name__ == "__main__":
    main()
