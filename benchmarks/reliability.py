"""Reliability battery (not a test): hundreds of hostile, odd and faulty inputs across every command.

    PYTHONPATH=. python3 benchmarks/reliability.py [--timeout 10] [--show 10]

Every case runs the real command line in-process (click's runner) under an alarm. A case passes when the
command exits 0, 1 or 2 within the time limit, prints no traceback and no "internal error", and leaves the
inputs it was given byte-for-byte as they were. Prints a table per command and kind, then the failing cases;
exits 1 if any case failed. tests/test_reliability.py holds the smaller, always-run version of each kind.
Add a case here for every bug found.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from click.testing import CliRunner

from exgen.cli import cli
from exgen.generate import sheet
from exgen.grading.sheet import blank_sheet
from exgen.manifest import Key
from exgen.rng import Rng
from exgen.topics import TOPIC_NAMES, get
from exgen.topics.base import Rejected

HOSTILE_NUMBERS = ["1e300", "-1e300", "1e-300", "-1e-300", "0", "-1", "1e309", "nan", "inf", "-0", "2**64",
                   "9" * 400, "1_000_000_000_000", "0x10", "", "abc", "[1, 2]", "{a: 1}"]
HOSTILE_MATRICES = ["1", "1,2;3", ";;;", "[[1e300, -1e300], [1, 2]]", "[[]]", "nan,1;2,3",
                    ";".join([",".join(["1"] * 300)] * 300)]
HOSTILE_TEXT = ['"](javascript:alert(1)) [click', "<img src=x onerror=alert(1)>", "=cmd|' /C calc'!A0",
                "Zoë ✓", "a" * 5000, "\u202egnp.exe", "../../etc/passwd", "${7*7}", "<< 7*7 >>", "{{7*7}}"]
HOSTILE_ANSWERS = HOSTILE_TEXT + ["128 Gb", "3.76×", "３．７６", "7.3 × 10^22", "1e999999999", "10^10^10",
                                  "2**2**2**30 GB", "1 (((((((((GB)))))))))", "1 m^99999", "1 furlong",
                                  "[" * 500, "1;" * 5000, "\x00", "- - -", "1,2,3;4"]
KEY_VALUES = [None, "3", 3.5, -1, 0, 10**400, 10_000_000, float("nan"), float("inf"), [], {}, "../../os",
              "2**2**2**30", True, [[1e300]], "x" * 200_000]
KEY_FIELDS = ["format", "problems", "meta", "meta.students", "meta.sheet", "problems.0", "problems.0.topic",
              "problems.0.variant", "problems.0.difficulty", "problems.0.seed", "problems.0.givens",
              "problems.0.parts", "problems.0.parts.0", "problems.0.parts.0.id", "problems.0.parts.0.answer",
              "problems.0.parts.0.answer.kind", "problems.0.parts.0.answer.value", "problems.0.parts.0.answer.sig",
              "problems.0.parts.0.answer.decimals", "problems.0.parts.0.answer.unit",
              "problems.0.parts.0.answer.choices", "problems.0.steps"]


class Hang(BaseException):  # not an Exception: the CLI's catch-all must not swallow it
    pass


def _alarm(signum, frame):
    raise Hang()


def run_case(args: list, timeout: int, inputs: list[Path]) -> tuple[str, str]:
    """(outcome, detail): outcome is exit0/exit1/exit2 or FAIL-traceback/FAIL-internal/FAIL-hang/FAIL-input."""
    before = {p: p.read_bytes() for p in inputs if p.is_file()}
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        result = CliRunner().invoke(cli, [str(a) for a in args])
    except Hang:
        return "FAIL-hang", ""
    finally:
        signal.alarm(0)
    if isinstance(result.exception, Hang):
        return "FAIL-hang", ""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return "FAIL-traceback", f"{type(result.exception).__name__}: {result.exception}"[:200]
    if "internal error" in result.output or "Traceback" in result.output:
        return "FAIL-internal", result.output.strip().splitlines()[-1][:200]
    if result.exit_code not in (0, 1, 2):
        return "FAIL-exit", str(result.exit_code)
    if any(p.read_bytes() != data for p, data in before.items()):
        return "FAIL-input", "an input changed"
    return f"exit{result.exit_code}", ""


def _set(doc, where: str, value):
    *parents, last = where.split(".")
    node = doc
    for name in parents:
        node = node[int(name)] if isinstance(node, list) else node[name]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return doc


def cases(tmp: Path):
    """(command, kind, args, inputs) for every case of the battery."""
    # solve: every given of every variant at hostile values, the rest from a sampled instance
    for name in TOPIC_NAMES:
        topic = get(name)
        for variant in topic.variants:
            try:
                base = topic.sample(Rng(7), variant.name, "medium")
            except Rejected:
                continue
            for g in variant.givens:
                values = HOSTILE_MATRICES if g.kind in ("matrix", "vector") else HOSTILE_NUMBERS[:10]
                for i, value in enumerate(values):
                    path = tmp / f"givens-{name}-{variant.name}-{g.name}-{i}.json"
                    givens = {k: v for k, v in base.items() if k in {x.name for x in variant.givens}}
                    path.write_text(json.dumps({**givens, g.name: value}))
                    yield "solve", "extreme given", ["solve", name, "--variant", variant.name, "--givens", path], [path]
    for i, text in enumerate(["1: 2", "[1]", "a: &a [1]\nb: *a", "!!python/object/apply:os.system ['true']",
                              "x: " + "[" * 5000, "\xff\xfe", ""]):
        path = tmp / f"odd-givens-{i}.yaml"
        path.write_bytes(text.encode("utf-8", "surrogateescape") if i != 5 else b"\xff\xfe")
        yield "solve", "odd givens file", ["solve", "quantization", "--variant", "affine", "--givens", path], [path]

    # a sheet to grade against
    problems = sheet(["quantization", "compute", "intensity"], None, "medium", 11, 2)
    key = tmp / "key.json"
    Key(tuple(problems), meta={"seed": 11}).write(key)
    doc = json.loads(key.read_text())
    blank = blank_sheet(problems)
    parts = [line.split(":")[0] for line in blank.splitlines() if line and line[0].isdigit()]

    # grade/check/verify: every key field at hostile values
    for field in KEY_FIELDS:
        for i, value in enumerate(KEY_VALUES):
            path = tmp / f"key-{field}-{i}.json"
            path.write_text(json.dumps(_set(copy.deepcopy(doc), field, value)))
            sub = tmp / "blank.yaml"
            sub.write_text(blank.replace('student: ""', "student: pat"))
            yield "grade", "edited key", ["grade", path, sub], [path, sub]
            yield "check", "edited key", ["check", path, "1.scale", "1"], [path]
            if i % 4 == 0:
                yield "verify", "edited key", ["verify", path], [path]

    # grade: every part answered with hostile text; hostile students and entries
    for i, answer in enumerate(HOSTILE_ANSWERS):
        for part in parts[:: max(1, len(parts) // 6)]:
            path = tmp / f"sheet-{i}-{part}.yaml"
            path.write_text(blank.replace('student: ""', "student: pat")
                            .replace(f"{part}:", f"{part}: {json.dumps(answer)}", 1))
            yield "grade", "hostile answer", ["grade", key, path, "--feedback", tmp / "fb"], [key, path]
    for i, text in enumerate(HOSTILE_TEXT):
        path = tmp / f"student-{i}.yaml"
        path.write_text(f"student: {json.dumps(text[:100])}\n{json.dumps(text)}: 1\n1.scale: {json.dumps(text)}\n")
        yield "grade", "hostile student", ["grade", key, path, "--out", tmp / f"g{i}.csv", "--feedback", tmp / "fb"], \
            [key, path]
        yield "check", "hostile value", ["check", key, "1.scale", text], [key]

    # files: outputs onto inputs, odd inputs
    sub = tmp / "pat.yaml"
    sub.write_text(blank.replace('student: ""', "student: pat"))
    link = tmp / "link.csv"
    link.symlink_to(key)
    for option in ("--out", "--gradescope"):
        for target in (key, sub, link, tmp):
            yield "grade", "output onto input", ["grade", key, sub, option, target], [key, sub]
    fifo = tmp / "fifo.yaml"
    os.mkfifo(fifo)
    for odd in (fifo, Path("/dev/null"), Path("/dev/zero"), tmp, tmp / "missing.yaml"):
        yield "grade", "odd input", ["grade", key, odd], [key]
        yield "grade", "odd key", ["grade", odd, sub], [sub]
    (tmp / "file").write_text("x")
    for out in (tmp / "file", tmp / "file" / "sub", Path("/proc/version"), Path("/dev/full") / "x"):
        yield "make", "odd output", ["make", "--topic", "compute", "--n", "1", "--seed", "1", "--out", out], \
            [tmp / "file"]
    for flags in ([], ["--force"]):
        yield "make", "existing sheet", ["make", "--topic", "compute", "--n", "1", "--seed", "2", "--out",
                                         tmp / "sheet", *flags], []
    for i, text in enumerate(HOSTILE_TEXT[:6] + ["jo_smith", "a b", "", "#x"]):
        roster, secret = tmp / f"roster-{i}.txt", tmp / "secret"
        roster.write_text(text + "\n")
        secret.write_text("s" * 32)
        yield "make", "hostile roster", ["make", "--topic", "compute", "--n", "1", "--format", "tex", "--roster",
                                         roster, "--secret-file", secret, "--out", tmp / f"exam-{i}"], [roster]
    tpl = tmp / "tpl"
    (tpl / "templates").mkdir(parents=True)
    for i, text in enumerate(["<< ''.__class__.__mro__ >>", "<< cycler.__init__.__globals__ >>", "<% for %>",
                              "<< undefined_name >>", "<< g.__class__ >>", "<< range(10**9) | list >>"]):
        (tpl / "templates" / "compute.j2").write_text(text)
        yield "make", "hostile template", ["make", "--topic", "compute", "--n", "1", "--templates", tpl], []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=int, default=30, help="seconds per case")
    parser.add_argument("--show", type=int, default=15, help="failing cases to print")
    options = parser.parse_args()
    table: dict[tuple[str, str], Counter] = defaultdict(Counter)
    failures = []
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        for command, kind, args, inputs in cases(Path(tmp)):
            outcome, detail = run_case(args, options.timeout, inputs)
            table[(command, kind)][outcome] += 1
            if outcome.startswith("FAIL"):
                failures.append((outcome, " ".join(str(a)[:60] for a in args), detail))
    columns = ["exit0", "exit1", "exit2", "FAIL-traceback", "FAIL-internal", "FAIL-hang", "FAIL-input", "FAIL-exit"]
    print(f"{'command':<8} {'kind':<20} {'cases':>6} " + " ".join(f"{c:>14}" for c in columns))
    for (command, kind), counts in sorted(table.items()):
        print(f"{command:<8} {kind:<20} {sum(counts.values()):>6} " + " ".join(f"{counts[c]:>14}" for c in columns))
    total = sum(sum(c.values()) for c in table.values())
    print(f"\n{total} cases in {time.monotonic() - start:.0f} s; {len(failures)} failed")
    for outcome, args, detail in failures[:options.show]:
        print(f"  {outcome}: exgen {args}\n      {detail}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
