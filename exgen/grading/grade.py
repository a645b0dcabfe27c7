"""Grading submissions against a key: verdicts and points per part, named mistakes, feedback, gradebook.

Per part (1 point each):
    correct   the value matches the key within the tolerance the question's precision implies
    partial   a matrix or vector with some entries right: points = the fraction of entries right
    wrong     readable but not the key (a blank, a wrong shape, a refused unit, a named mistake: 0 points)
    invalid   not readable (the message says why); 0 points
A value that matches one of the topic's named mistakes scores 0 on that part — per-entry credit rewards
slips, not a wrong method — and the feedback names the mistake.

A key made with `--roster` holds every student's problems; its meta maps each student to their problem
numbers ({"students": {"alice": [1, 2, 3], ...}}), and a submission's "1.scale" means the first of *its
student's* problems. A key without that map is one sheet for everybody.

Everything here is deterministic: same key and submissions, same bytes out (rows sorted by student and file).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from exgen.grading.compare import entry_results, matches
from exgen.grading.parse import ParseError, is_blank, parse_answer
from exgen.grading.sheet import Submission, SubmissionError, read_submission
from exgen.manifest import Key
from exgen.problem import Answer, Part, Problem

VERDICTS = ("correct", "partial", "wrong", "invalid")
POINTS_PER_PART = 1.0

# exit codes of `exgen grade` (documented in its --help and docs/decisions/grading.md)
EXIT_OK = 0
EXIT_WITH_ERRORS = 1


@dataclass(frozen=True)
class PartGrade:
    part: str            # as the student wrote it: "1.scale"
    label: str
    verdict: str
    points: float
    max_points: float
    answer: str          # the student's text, as submitted (shortened for display)
    expected: str
    tolerance: str
    message: str = ""
    mistake: str = ""    # the named mistake this answer matches, if any


@dataclass(frozen=True)
class StudentGrade:
    student: str
    source: str
    parts: tuple[PartGrade, ...] = ()
    error: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def total(self) -> float:
        return sum(p.points for p in self.parts)

    @property
    def max_points(self) -> float:
        return sum(p.max_points for p in self.parts)


# ---- formatting ------------------------------------------------------------------------------------


def points_text(x: float) -> str:
    """Points as short, deterministic text: 1, 0.5, 0.6667."""
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _num(value: Any, answer: Answer) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    value = float(value)
    if answer.decimals is not None:
        return f"{value:.{answer.decimals}f}"
    if answer.sig is not None:
        text = f"{value:#.{answer.sig}g}"
        return text.rstrip(".") if "e" not in text else text.replace(".e", "e")
    return repr(value)  # exact: every digit


def expected_text(answer: Answer) -> str:
    v = answer.value
    if answer.kind == "matrix":
        return "; ".join(" ".join(_num(x, answer) for x in row) for row in v)
    if answer.kind == "vector":
        return ", ".join(_num(x, answer) for x in v)
    if answer.kind in ("number", "integer"):
        return _num(v, answer) + (f" {answer.unit}" if answer.unit else "")
    return str(v)


def _shown(raw: Any, limit: int = 120) -> str:
    if raw is None:
        return ""
    if isinstance(raw, list):
        text = "; ".join(" ".join(map(str, r)) if isinstance(r, list) else str(r) for r in raw)
    else:
        text = str(raw)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


# ---- named mistakes --------------------------------------------------------------------------------


def mistakes_of(problem: Problem) -> dict[str, list[tuple[Any, Any]]]:
    """{part id: [(Mistake, wrong value)]} for the problem's topic, skipping mistakes that do not apply or
    cannot be computed (a key from another exgen version, a topic no longer registered)."""
    from exgen.topics import TOPIC_NAMES, get

    if problem.topic not in TOPIC_NAMES:
        return {}
    out: dict[str, list[tuple[Any, Any]]] = {}
    for mistake in get(problem.topic).mistakes_for(problem.variant):
        try:
            wrong = mistake.wrong(problem.variant, problem.givens)
        except Exception:  # a topic's mistake function failing must not stop grading  # noqa: BLE001
            continue
        if wrong is not None:
            out.setdefault(mistake.part, []).append((mistake, wrong))
    return out


def _matches_mistake(answer: Answer, wrong: Any, value: Any) -> bool:
    try:
        as_key = dataclasses.replace(answer, value=wrong)
    except (ValueError, TypeError):
        return False
    try:
        return matches(as_key, value)
    except (ValueError, TypeError, ArithmeticError):
        return False


# ---- one part --------------------------------------------------------------------------------------


def _hint(answer: Answer, value: Any) -> str:
    """A cheap hint for a wrong number: a power-of-ten factor (a unit prefix) or a sign."""
    if answer.kind != "number" or not isinstance(value, (int, float)) or not answer.value:
        return ""
    key = float(answer.value)
    if value and math.isfinite(value):
        if matches(answer, -value):
            return " The sign is wrong."
        ratio = value / key
        k = round(math.log10(abs(ratio))) if ratio > 0 else 0
        if k and matches(answer, value / 10**k):
            return f" It is off by a factor of 10^{k}: check the unit prefixes and powers of ten."
    return ""


def grade_part(qualified: str, part: Part, raw: Any, mistakes: list[tuple[Any, Any]] = ()) -> PartGrade:
    """The verdict, points and feedback for one answer (`raw`: text, or rows for a matrix)."""
    answer = part.answer
    base = dict(part=qualified, label=part.label, max_points=POINTS_PER_PART, answer=_shown(raw),
                expected=expected_text(answer), tolerance=answer.tolerance_text())
    if is_blank(raw):
        return PartGrade(verdict="wrong", points=0.0, message="No answer.", **base)
    try:
        reading = parse_answer(answer, raw)
    except ParseError as e:
        return PartGrade(verdict="invalid", points=0.0, message=f"Could not read the answer: {e}.", **base)
    value = reading.value
    notes = "".join(f" (Read as: {n}.)" for n in reading.notes)
    if reading.refused:
        return PartGrade(verdict="wrong", points=0.0, message=f"{reading.refused[0].upper()}{reading.refused[1:]}."
                         + notes, **base)
    if answer.kind in ("matrix", "vector"):
        results = entry_results(answer, value)
        fraction = sum(results) / len(results) if results else 0.0
        ok = bool(results) and all(results)
    else:
        ok = matches(answer, value)
        fraction = 1.0 if ok else 0.0
    if ok:
        return PartGrade(verdict="correct", points=POINTS_PER_PART, message="Correct." + notes, **base)
    for mistake, wrong in mistakes:
        if _matches_mistake(answer, wrong, value):
            return PartGrade(verdict="wrong", points=0.0, mistake=mistake.name,
                             message=f"This is a known mistake ({mistake.name.replace('_', ' ')}): "
                                     f"{mistake.explanation}" + notes, **base)
    if answer.kind in ("matrix", "vector") and not results:
        return PartGrade(verdict="wrong", points=0.0, message=_shape_message(answer, value) + notes, **base)
    if 0 < fraction < 1:
        right = sum(results)
        message = f"{right} of {len(results)} entries are right (credit per entry)."
        if answer.kind == "matrix" and _transposed(answer, value):
            message += " Your matrix is the transpose of the expected one."
        return PartGrade(verdict="partial", points=round(POINTS_PER_PART * fraction, 6), message=message + notes,
                         **base)
    message = "Not the expected value within the tolerance." + _hint(answer, value)
    if answer.kind == "matrix" and _transposed(answer, value):
        message += " Your matrix is the transpose of the expected one."
    return PartGrade(verdict="wrong", points=0.0, message=message + notes, **base)


def _shape(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], list):
        return f"{len(value)}x{len(value[0])}"
    return f"{len(value)}" if isinstance(value, list) else "?"


def _transposed(answer: Answer, value: Any) -> bool:
    if not (isinstance(value, list) and value and isinstance(value[0], list)):
        return False
    t = [list(col) for col in zip(*value)]
    results = entry_results(answer, t)
    return bool(results) and all(results)


def _shape_message(answer: Answer, value: Any) -> str:
    if answer.kind == "vector":
        return f"Expected {len(answer.value)} entries, got {_shape(value)}."
    message = f"Expected a {_shape(answer.value)} matrix, got {_shape(value)}."
    if _transposed(answer, value):
        message += " Your matrix is the transpose of the expected one."
    return message


# ---- a submission ----------------------------------------------------------------------------------


class Grader:
    """Grades submissions against one key; named mistakes are computed once per problem."""

    def __init__(self, key: Key):
        self.key = key
        self._mistakes: dict[int, dict[str, list]] = {}
        students = key.meta.get("students") if isinstance(key.meta, dict) else None
        self.students: dict[str, list[int]] | None = students if isinstance(students, dict) else None

    def problems_of(self, student: str) -> list[int]:
        """The (1-based) key problem numbers a student answers, in the order of their sheet."""
        if self.students is None:
            return list(range(1, len(self.key.problems) + 1))
        if student not in self.students:
            raise SubmissionError(f"student {student!r} is not on this exam's roster")
        return list(self.students[student])

    def mistakes(self, number: int) -> dict[str, list]:
        if number not in self._mistakes:
            self._mistakes[number] = mistakes_of(self.key.problems[number - 1])
        return self._mistakes[number]

    def expected_parts(self, student: str) -> list[tuple[str, Part, int]]:
        """(qualified id as on the student's sheet, part, key problem number)."""
        out = []
        for local, number in enumerate(self.problems_of(student), 1):
            for part in self.key.problems[number - 1].solution.parts:
                out.append((f"{local}.{part.id}", part, number))
        return out

    def grade(self, submission: Submission) -> StudentGrade:
        expected = self.expected_parts(submission.student)
        notes = []
        sheet_id = self.key.meta.get("sheet") if isinstance(self.key.meta, dict) else None
        if sheet_id and submission.sheet and submission.sheet != sheet_id:
            raise SubmissionError(f"this answer sheet belongs to another key (sheet {submission.sheet!r}, "
                                  f"key {sheet_id!r})")
        known = {q for q, _, _ in expected}
        unknown = sorted(set(submission.answers) - known) + list(submission.ignored)
        if unknown:
            notes.append("Ignored entries that are not parts of this sheet: " + ", ".join(unknown[:20])
                         + (" …" if len(unknown) > 20 else ""))
        parts = tuple(grade_part(q, part, submission.answers.get(q), self.mistakes(n).get(part.id, ()))
                      for q, part, n in expected)
        return StudentGrade(submission.student, submission.source, parts, notes=tuple(notes))

    def grade_files(self, paths: Iterable[Path]) -> list[StudentGrade]:
        """Every file gets a row: graded, or an error row; duplicates of a student are all error rows."""
        rows: list[StudentGrade] = []
        readings: list[tuple[str, Submission | None, str]] = []
        for path in paths:
            try:
                readings.append((str(path), read_submission(Path(path)), ""))
            except SubmissionError as e:
                readings.append((str(path), None, str(e)))
        by_student: dict[str, list[str]] = {}
        for source, sub, _ in readings:
            if sub is not None:
                by_student.setdefault(sub.student, []).append(source)
        for source, sub, error in readings:
            if sub is None:
                rows.append(StudentGrade("", source, error=error))
                continue
            others = [s for s in by_student[sub.student] if s != source]
            if others:
                rows.append(StudentGrade(sub.student, source, error=f"student {sub.student!r} also submitted "
                                         + ", ".join(sorted(others)) + "; not graded until one is removed"))
                continue
            try:
                rows.append(self.grade(sub))
            except SubmissionError as e:
                rows.append(StudentGrade(sub.student, source, error=str(e)))
        return sorted(rows, key=lambda r: (r.student == "", r.student, r.source))


# ---- outputs ---------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP CSV injection): a leading ' where needed."""
    text = str(text).replace("\x00", "")
    return "'" + text if text.startswith(_FORMULA_START) else text


def _part_sort_key(qualified: str) -> tuple[int, str]:
    number, _, _ = qualified.partition(".")
    return (int(number) if number.isdigit() else 0, "")


def gradebook_csv(rows: list[StudentGrade]) -> str:
    """One row per submission: student, file, status, total, max, then points per part, then the error."""
    columns: list[str] = []
    seen: set[str] = set()
    for row in rows:
        for p in row.parts:
            if p.part not in seen:
                seen.add(p.part)
                columns.append(p.part)
    columns.sort(key=_part_sort_key)  # stable: within a problem, the key's part order
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["student", "submission", "status", "total", "max", *columns, "error"])
    for row in rows:
        points = {p.part: points_text(p.points) for p in row.parts}
        status = "error" if row.error else "graded"
        writer.writerow([safe_cell(row.student), safe_cell(row.source), status,
                         points_text(row.total) if not row.error else "",
                         points_text(row.max_points) if not row.error else "",
                         *[points.get(c, "") for c in columns], safe_cell(row.error)])
    return out.getvalue()


def _code(text: str) -> str:
    """Student text shown verbatim in Markdown: an inline code span with a fence longer than any run of
    backticks inside (so it cannot close early or inject Markdown/HTML)."""
    if not text:
        return "(blank)"
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]$|~#!])")


def _text(text: str) -> str:
    """Prose that may quote a student (an error, a note, a message naming what they typed) as Markdown that
    renders as the same text: one line, HTML's &, < and > as entities, Markdown's link, emphasis, code,
    math and table characters backslash-escaped — so `](javascript:…)` or `<img onerror=…>` stay text."""
    text = " ".join(str(text).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def feedback_markdown(row: StudentGrade) -> str:
    """A student's feedback as Markdown: what they typed is fenced as code (`_code`), prose that quotes
    them is escaped (`_text`), so no student text becomes a link, an image or HTML when rendered."""
    who = _code(row.student) if row.student else "the submission " + _code(row.source)
    lines = [f"# Feedback for {who}", "", f"Submission: {_code(row.source)}", ""]
    if row.error:
        lines += [f"**Not graded:** {_text(row.error)}", ""]
        return "\n".join(lines)
    lines += [f"**Score: {points_text(row.total)} / {points_text(row.max_points)}**", ""]
    for note in row.notes:
        lines += [f"Note: {_text(note)}", ""]
    lines += ["| part | verdict | points |", "|---|---|---|"]
    lines += [f"| {p.part} | {p.verdict} | {points_text(p.points)} / {points_text(p.max_points)} |"
              for p in row.parts]
    lines.append("")
    for p in row.parts:
        lines += [f"## {p.part}: {_text(p.label)} ({p.verdict})", "",
                  f"- Your answer: {_code(p.answer)}",
                  f"- Expected: {_code(p.expected)} (tolerance: {_text(p.tolerance)})",
                  f"- {_text(p.message)}", ""]
    return "\n".join(lines)


def feedback_filename(student: str, source: str, unique: bool = True) -> str:
    """A safe file name for a student's feedback: student text never becomes a path as is; a name that had
    to be changed, a missing student, or a student with several rows gets a hash suffix (no collisions)."""
    import hashlib

    name = student or Path(source).stem
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:60] or "submission"
    if slug != name or not student or not unique:
        slug += "-" + hashlib.sha256(f"{student}\x1f{source}".encode()).hexdigest()[:8]
    return slug + ".md"


def feedback_files(rows: list[StudentGrade]) -> list[tuple[str, StudentGrade]]:
    """(file name, row) for every row, names unique."""
    from collections import Counter

    counts = Counter(r.student for r in rows)
    return [(feedback_filename(r.student, r.source, counts[r.student] == 1), r) for r in rows]


def gradescope_json(row: StudentGrade) -> str:
    """Gradescope's autograder results.json for one submission (one test per part)."""
    if row.error:
        doc: dict[str, Any] = {"score": 0, "output": f"Not graded: {row.error}", "tests": []}
    else:
        doc = {
            "score": round(row.total, 4),
            "output": f"Score {points_text(row.total)} / {points_text(row.max_points)}",
            "tests": [{"name": f"{p.part}: {p.label}", "number": p.part, "score": round(p.points, 4),
                       "max_score": p.max_points, "status": "passed" if p.verdict == "correct" else "failed",
                       "output": f"{p.verdict}. Your answer: {p.answer or '(blank)'}. {p.message}"}
                      for p in row.parts],
        }
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def compare_lines(before: list[StudentGrade], after: list[StudentGrade]) -> list[str]:
    """A dry run for an edited key: one line per submission whose points (or graded/error status) differ
    between grading with the old key (`before`) and the new one (`after`), same submissions in both."""
    def score(row: StudentGrade | None) -> str:
        if row is None or row.error:
            return "error"
        return f"{points_text(row.total)} / {points_text(row.max_points)}"

    old = {(r.student, r.source): r for r in before}
    lines = []
    for row in after:
        was = old.get((row.student, row.source))
        if score(was) == score(row):
            continue
        delta = "" if row.error or was is None or was.error else f" ({'+' if row.total >= was.total else ''}" \
            f"{points_text(row.total - was.total)})"
        lines.append(f"{row.student or '-'}\t{score(was)} -> {score(row)}{delta}\t{row.source}")
    return lines


def summary_line(rows: list[StudentGrade]) -> str:
    graded = [r for r in rows if not r.error]
    errors = len(rows) - len(graded)
    return (f"graded {len(graded)} submission(s)" + (f", {errors} with errors" if errors else "")
            + (f"; mean {points_text(sum(r.total for r in graded) / len(graded))} / "
               f"{points_text(graded[0].max_points)}" if graded and len({r.max_points for r in graded}) == 1 else ""))
