"""`exgen stress`: audit every topic × variant × difficulty the way R/exams' `stresstest_exercise` does, and
beyond: variety, rejection cost, constant parts, student paths and layout, each against a bar.

Instance i of a row is the problem of seed `problem_seed(seed, i)`, i.e. the first draw of problem i+1 of
`exgen make --topic T --variant V --difficulty D --seed S`. The bars (docs/decisions.md, "exgen stress"):
at least 99% distinct givens and 95% distinct answers, no part with the same value in every instance, no
student path outside the tolerance, and LaTeX (question and solution, exam class) that compiles without an
overfull box. Where a variant's space is small, the variant must widen it: the bars are not relaxed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from exgen.generate import generate_counted, path_failures
from exgen.problem import Problem
from exgen.rng import problem_seed
from exgen.topics import TOPIC_NAMES, get
from exgen.topics.base import DIFFICULTIES

MIN_DISTINCT_GIVENS = 0.99
MIN_DISTINCT_ANSWERS = 0.95
MAX_OVERFULL_PT = 1.0  # TeX reports boxes a hair too wide; anything past 1pt is visible on the page


@dataclass
class Row:
    """The audit of one topic × variant × difficulty over `instances` problems."""

    topic: str
    variant: str
    difficulty: str
    instances: int = 0
    distinct_givens: float = 0.0  # fraction of instances whose givens no earlier instance had
    distinct_answers: float = 0.0  # the same, for the values of all parts together
    draws_per_instance: float = 0.0
    rejected: dict[str, int] = field(default_factory=lambda: {"sampler": 0, "mistake": 0, "path": 0})
    constant_parts: list[str] = field(default_factory=list)
    path_failures: int = 0
    errors: list[str] = field(default_factory=list)  # instances that could not be generated at all
    latex: list[tuple[int, str]] | None = None  # (instance, LaTeX problem); None: LaTeX not checked
    seconds_per_instance: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.topic} {self.variant} {self.difficulty}"

    def failures(self) -> list[str]:
        """Why this row fails its bars (empty when it passes)."""
        reasons = [f"{len(self.errors)} instance(s) not generated: {self.errors[0]}"] if self.errors else []
        if self.distinct_givens < MIN_DISTINCT_GIVENS:
            reasons.append(f"distinct givens {self.distinct_givens:.1%} < {MIN_DISTINCT_GIVENS:.0%}")
        if self.distinct_answers < MIN_DISTINCT_ANSWERS:
            reasons.append(f"distinct answers {self.distinct_answers:.1%} < {MIN_DISTINCT_ANSWERS:.0%}")
        if self.constant_parts:
            reasons.append("constant part(s) " + ", ".join(self.constant_parts))
        if self.path_failures:
            reasons.append(f"{self.path_failures} student path(s) outside the tolerance")
        if self.latex:
            reasons.append(latex_summary(self.latex))
        return reasons


def latex_summary(found: list[tuple[int, str]]) -> str:
    """'LaTeX in instance(s) 1, 3: overfull \\hbox up to 46.1pt; error: …' from (instance, finding) pairs."""
    worst: dict[str, float] = {}
    other: list[str] = []
    for _, what in found:
        if m := re.match(r"(overfull \\[hv]box) ([\d.]+)pt", what):
            worst[m.group(1)] = max(worst.get(m.group(1), 0.0), float(m.group(2)))
        elif what not in other:
            other.append(what)
    instances = ", ".join(str(i) for i in sorted({i for i, _ in found}))
    kinds = [f"{kind} up to {size:.1f}pt" for kind, size in sorted(worst.items())] + other[:2]
    return f"LaTeX in instance(s) {instances}: " + "; ".join(kinds)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def distinct_fraction(items: list[str]) -> float:
    """The share of items that are different from every other: len(set) / len (1.0 for no items)."""
    return len(set(items)) / len(items) if items else 1.0


def constant_parts(problems: list[Problem]) -> list[str]:
    """Part ids that every problem asks and that have the same value in all of them (two problems at least)."""
    if len(problems) < 2:
        return []
    values: dict[str, set[str]] = {}
    for problem in problems:
        for part in problem.solution.parts:
            values.setdefault(part.id, set()).add(canonical(part.answer.value))
    common = set.intersection(*({p.id for p in problem.solution.parts} for problem in problems))
    return [pid for pid in values if pid in common and len(values[pid]) == 1]


def instance_seeds(seed: int, n: int) -> list[int]:
    return [problem_seed(seed, i) for i in range(n)]


def measure(topic: str, variant: str, difficulty: str, n: int, seed: int) -> tuple[Row, list[Problem]]:
    """Generate the row's n instances and compute every metric but LaTeX; also return the problems."""
    row = Row(topic, variant, difficulty)
    problems: list[Problem] = []
    draws = 0
    elapsed = 0.0
    spec = get(topic)
    seeds = instance_seeds(seed, n)
    try:  # warm up (lazy imports, caches) outside the timing
        generate_counted(topic, variant, difficulty, seeds[0])
    except Exception:
        pass  # reported below
    for i, s in enumerate(seeds):
        start = time.perf_counter()
        try:
            problem, counted = generate_counted(topic, variant, difficulty, s)
        except Exception as e:  # a stress run reports a crashing sampler or solver instead of stopping
            row.errors.append(f"instance {i + 1}: {type(e).__name__}: {e}")
            continue
        elapsed += time.perf_counter() - start
        problems.append(problem)
        draws += counted.draws
        for cause in row.rejected:
            row.rejected[cause] += getattr(counted, cause)
        # Recomputed here, not trusted from generate: a path that is not a function of what it is handed
        # (or a solution that changed since) shows up.
        row.path_failures += bool(path_failures(spec, variant, problem.givens, problem.solution))
    row.instances = len(problems)
    row.distinct_givens = distinct_fraction([canonical(p.givens) for p in problems])
    row.distinct_answers = distinct_fraction([canonical([[part.id, part.answer.value] for part in p.solution.parts])
                                              for p in problems])
    row.constant_parts = constant_parts(problems)
    row.draws_per_instance = draws / len(problems) if problems else 0.0
    row.seconds_per_instance = elapsed / len(problems) if problems else 0.0
    return row, problems


# --- LaTeX ---------------------------------------------------------------------------------------------

MARKER = "exgen-stress problem "
_OVERFULL = re.compile(r"^Overfull \\([hv])box \(([\d.]+)pt too (?:wide|high)\) (.*)$")
_LINES = re.compile(r"at lines? (\d+)")


def marked_document(problems: list[Problem]) -> tuple[str, list[int]]:
    """The exam-class document (questions with their solutions), each problem on a page of its own after a
    `\\typeout` marker, and the source line of each marker: a box or error is traced to its problem by the
    source line TeX reports, or, for a page that is too tall, by the last marker TeX read (a page holds one
    problem, and `\\newpage` ships the previous one out before the next marker is read)."""
    from exgen.render import Renderer

    source = Renderer("tex").document(problems, title="exgen stress", solutions=True)
    lines, starts = [], []
    for line in source.split("\n"):
        if line == r"\question":
            starts.append(len(lines) + 1)
            lines.append(r"\newpage\typeout{" + MARKER + f"{len(starts)}" + "}")
        lines.append(line)
    if len(starts) != len(problems):
        raise RuntimeError(f"found {len(starts)} \\question lines for {len(problems)} problems")
    return "\n".join(lines), starts


def latex_problems(log: str, starts: list[int]) -> dict[int | None, list[str]]:
    """What a pdflatex log reports, by problem index (0-based; None: before the first problem, i.e. the
    document itself): errors, and overfull boxes past MAX_OVERFULL_PT."""
    found: dict[int | None, list[str]] = {}
    current: int | None = None

    def at_line(number: int) -> int | None:
        index = None
        for k, start in enumerate(starts):
            if start <= number:
                index = k
        return index

    log_lines = log.splitlines()
    for i, line in enumerate(log_lines):
        if line.startswith(MARKER):
            current = int(line[len(MARKER):]) - 1
        elif m := _OVERFULL.match(line):
            kind, size, where = m.groups()
            if float(size) > MAX_OVERFULL_PT:
                place = _LINES.search(where)
                index = at_line(int(place.group(1))) if place else current
                box = log_lines[i + 1].strip() if kind == "h" and i + 1 < len(log_lines) else ""
                found.setdefault(index, []).append(f"overfull \\{kind}box {float(size):.1f}pt" +
                                                   (f": {box[:80]}" if box else ""))
        elif line.startswith("! "):
            context = next((ln for ln in log_lines[i + 1:i + 12] if re.match(r"^l\.\d+ ", ln)), None)
            index = at_line(int(context[2:].split()[0])) if context else current
            found.setdefault(index, []).append("error: " + line[2:].strip())
    return found


def check_latex(problems: list[Problem]) -> list[list[str]]:
    """Compile the problems (with solutions) as one exam-class document; per problem, what went wrong."""
    source, starts = marked_document(problems)
    with tempfile.TemporaryDirectory(prefix="exgen-stress-") as tmp:
        (Path(tmp) / "stress.tex").write_text(source, encoding="utf-8")
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "stress.tex"], cwd=tmp, capture_output=True,
                             timeout=600, env={**os.environ, "max_print_line": "100000"})  # unwrapped log lines
        log_file = Path(tmp) / "stress.log"
        log = log_file.read_text(encoding="latin-1") if log_file.exists() else ""
        compiled = run.returncode == 0 and (Path(tmp) / "stress.pdf").exists()
    found = latex_problems(log, starts)
    document = found.pop(None, [])
    if not compiled and not any(found.values()):
        document.append(f"pdflatex exit status {run.returncode}")
    return [document + found.get(k, []) for k in range(len(problems))]


def latex_available() -> bool:
    return shutil.which("pdflatex") is not None


# --- the whole run ---------------------------------------------------------------------------------------

def cases(topics: Iterable[str] = (), variant: str | None = None,
          difficulty: str | None = None) -> list[tuple[str, str, str]]:
    """topic × variant × difficulty triples, in registry order (a named variant must exist in every topic)."""
    out = []
    for t in topics or TOPIC_NAMES:
        names = [get(t).variant(variant).name] if variant else [v.name for v in get(t).variants]
        out += [(t, v, d) for v in names for d in ([difficulty] if difficulty else DIFFICULTIES)]
    return out


def _measure(args: tuple[str, str, str, int, int, int]) -> tuple[Row, list[Problem]]:
    """`measure` in a worker: only the problems LaTeX will compile travel back."""
    *row, latex = args
    measured, problems = measure(*row)
    return measured, problems[:latex]


LATEX_PER_ROW = 3


def run(triples: list[tuple[str, str, str]], n: int, seed: int, latex: int = LATEX_PER_ROW, jobs: int = 1) -> list[Row]:
    """Audit each (topic, variant, difficulty): n instances each; `latex` instances per row (0: none) go into
    one LaTeX document per topic. `jobs` worker processes; the rows come back in the order asked."""
    tasks = [(t, v, d, n, seed, latex) for t, v, d in triples]
    with _pool(jobs) as pool:
        measured = list(pool.map(_measure, tasks))
        rows = [row for row, _ in measured]
        if latex:
            by_topic: dict[str, list[tuple[int, Problem]]] = {}
            for r, (row, problems) in enumerate(measured):
                row.latex = []
                by_topic.setdefault(row.topic, []).extend((r, p) for p in problems)
            documents = list(by_topic.values())
            position = {s: i for i, s in enumerate(instance_seeds(seed, n))}
            results = pool.map(check_latex, [[p for _, p in doc] for doc in documents])
            for doc, found in zip(documents, results):
                for (r, problem), what in zip(doc, found):
                    rows[r].latex += [(position[problem.seed] + 1, w) for w in what]
    return rows


class _Serial:
    """A stand-in for a process pool with one job: everything runs here, in order."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    @staticmethod
    def map(function, items):
        return map(function, items)


def _pool(jobs: int):
    return ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else _Serial()


# --- output ----------------------------------------------------------------------------------------------

COLUMNS = ("topic", "variant", "difficulty", "n", "givens", "answers", "draws", "rejected s/m/p", "constant",
           "paths", "latex", "ms/inst")


def cells(row: Row) -> tuple[str, ...]:
    r = row.rejected
    latex = "-" if row.latex is None else ("ok" if not row.latex else f"{len({i for i, _ in row.latex})} bad")
    return (row.topic, row.variant, row.difficulty, str(row.instances), f"{row.distinct_givens:.1%}",
            f"{row.distinct_answers:.1%}", f"{row.draws_per_instance:.2f}",
            f"{r['sampler']}/{r['mistake']}/{r['path']}", str(len(row.constant_parts)),
            str(row.path_failures), latex, f"{row.seconds_per_instance * 1000:.1f}")


def table(rows: list[Row]) -> str:
    """Aligned columns: text left, figures right."""
    body = [COLUMNS] + [cells(r) for r in rows]
    widths = [max(len(line[i]) for line in body) for i in range(len(COLUMNS))]
    left = {0, 1, 2}
    return "\n".join("  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
                     .rstrip() for line in body)


def report(rows: list[Row]) -> str:
    """The table, then the failing rows with their reasons, then one summary line."""
    failing = [r for r in rows if r.failures()]
    lines = [table(rows), ""]
    if failing:
        lines.append("failing rows:")
        lines += [f"  {r.name}: " + "; ".join(r.failures()) for r in failing]
    lines.append(f"{len(rows) - len(failing)} of {len(rows)} rows pass the bars (givens ≥ {MIN_DISTINCT_GIVENS:.0%}, "
                 f"answers ≥ {MIN_DISTINCT_ANSWERS:.0%}, no constant part, 0 path failures, LaTeX clean)")
    return "\n".join(lines) + "\n"


def as_json(rows: list[Row]) -> str:
    return json.dumps([{**asdict(r), "failures": r.failures()} for r in rows], indent=1, sort_keys=True) + "\n"
