"""Grading submissions against a key: verdicts and points per part, named mistakes, feedback, gradebook.

Per part (1 point each, or the points the key's meta gives it: {"points": {"3": {"scale": 2}}}):
    correct   the value matches the key within the tolerance the question's precision implies
    partial   a matrix or vector with some entries right: points = the part's points × the fraction right
    wrong     readable but not the key (a blank, a wrong shape, a refused unit, a named mistake: 0 points)
    invalid   not readable (the message says why); 0 points
A value that matches one of the topic's named mistakes scores 0 on that part — per-entry credit rewards
slips, not a wrong method — and the feedback names the mistake.

A key made with `--roster` holds every student's problems; its meta maps each student to their problem
numbers ({"students": {"alice": [1, 2, 3], ...}}), and a submission's "1.scale" means the first of *its
student's* problems. An exam with versions maps version letters the same way ({"versions": {"A": [1, 2]}})
and a submission names its version. A key without either map is one sheet for everybody.

A part `exgen exam` asked as multiple choice ({"choices": {"3": {"scale": {"options": [...], "correct":
"B", "from": [...]}}}}) is graded by its letter; a letter whose option came from a named mistake gets that
mistake's feedback.

Everything here is deterministic: same key and submissions, same bytes out (rows sorted by student and file).
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from exgen.grading.compare import entry_results, matches
from exgen.numfmt import plural
from exgen.grading.parse import ParseError, holds_row, is_blank, parse_answer, read_printed_expression
from exgen.grading.sheet import Submission, SubmissionError, plain_label, read_submission
from exgen.units import shown
from exgen.manifest import Key
from exgen import __version__
from exgen import numfmt as nf
from exgen.problem import Answer, Part, Problem

VERDICTS = ("correct", "partial", "wrong", "invalid")
POINTS_PER_PART = 1.0
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

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
    column: str = ""     # the gradebook's column where it differs from `part`: "q2.scale" for the spec's
    #                      question 2, which a shuffled paper printed as problem 1

    @property
    def question(self) -> str:
        """The part as the gradebook lines it up across papers (the spec's question number, then the part)."""
        return self.column or self.part


@dataclass(frozen=True)
class StudentGrade:
    student: str
    source: str
    parts: tuple[PartGrade, ...] = ()
    error: str = ""
    notes: tuple[str, ...] = field(default=())
    version: str = ""
    key: str = ""        # the SHA-256 of the key graded against (key_digest)

    def problems(self, by_question: bool = False) -> dict[int, tuple[float, float]]:
        """{problem number on the sheet (`by_question`: the spec's question number): (points, max points)}."""
        out: dict[int, tuple[float, float]] = {}
        for p in self.parts:
            number = _part_sort_key(p.question if by_question else p.part)[0]
            got, most = out.get(number, (0.0, 0.0))
            out[number] = (got + p.points, most + p.max_points)
        return out

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
        return f"{nf.rounded(value, decimals=answer.decimals):.{answer.decimals}f}"
    if answer.sig is not None:
        text = f"{nf.rounded(value, answer.sig):#.{answer.sig}g}"  # a tie half away from zero, as keys print
        return text.rstrip(".") if "e" not in text else text.replace(".e", "e")
    return repr(value)  # exact: every digit


def expected_text(answer: Answer) -> str:
    v = answer.value
    if answer.kind == "matrix":
        return "; ".join(" ".join(_num(x, answer) for x in row) for row in v)
    if answer.kind == "vector":
        return ", ".join(_num(x, answer) for x in v)
    if answer.kind in ("number", "integer"):
        return _num(v, answer) + (f" {shown(answer.unit)}" if answer.unit else "")
    return str(v)


def _shown(raw: Any, limit: int = 120) -> str:
    if raw is None:
        return ""
    if getattr(raw, "lines", None):  # typed over several lines (sheet.Folded): shown as its rows
        text = "; ".join(raw.lines)
    elif isinstance(raw, list) and not any(isinstance(r, list) or holds_row(r) for r in raw):
        text = ", ".join(map(str, raw))  # a flat list is one row, as it is read: '2, 0, 1', not '2; 0; 1'
    elif isinstance(raw, list):
        text = "; ".join(" ".join(map(str, r)) if isinstance(r, list) else str(r) for r in raw)
    else:
        text = str(raw)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


# ---- named mistakes --------------------------------------------------------------------------------


def mistakes_of(problem: Problem) -> dict[str, list[tuple[Any, Any]]]:
    """{part id: [(Mistake, wrong value)]} for the problem's topic, skipping mistakes that do not apply or
    cannot be computed (a key from another exgen version, a topic no longer registered). Mistakes of a part
    that give the same value are one entry naming each: the answer cannot tell which one a student made."""
    from exgen.topics import TOPIC_NAMES, get

    if problem.topic not in TOPIC_NAMES:
        return {}
    out: dict[str, list[tuple[Any, Any]]] = {}
    for mistake in get(problem.topic).mistakes_for(problem.variant):
        try:
            wrong = mistake.wrong(problem.variant, problem.givens, problem.solution)
        except Exception:  # a topic's mistake function failing must not stop grading  # noqa: BLE001
            continue
        if wrong is None:
            continue
        found = out.setdefault(mistake.part, [])
        same = next((i for i, (_, w) in enumerate(found) if w == wrong), None)
        if same is None:
            found.append((mistake, wrong))
        else:
            found[same] = (_either(found[same][0], mistake), wrong)
    return out


def _either(first: Any, other: Any) -> Any:
    """One named mistake standing for two that give the same wrong value."""
    return dataclasses.replace(first, name=f"{first.name}_or_{other.name}",
                               explanation=f"{first.explanation} Or: {other.explanation}")


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
        if k == -2 and answer.unit == "percent" and matches(answer, value * 100):
            return " It looks like a fraction: this answer is in percent (0.25 is 25 %)."
        if k and matches(answer, value / 10**k):
            return f" It is off by a factor of 10^{k}: check the unit prefixes and powers of ten."
    return ""


_LETTER = re.compile(r"(?:option\s*)?[(\[]?\s*([A-Za-z])\s*[)\].:]?", re.I)


def choice_letter(raw: Any, options: list, key: Answer) -> tuple[Any, str, str]:
    """(what to grade, a note, an error) for a multiple-choice answer: a letter in any of its spellings is
    the letter; other text is read as the part's own answer and is the letter of the one option it matches
    (within the key's tolerance). Matching two options, or none, is an error saying to write the letter."""
    if is_blank(raw):
        return raw, "", ""
    if isinstance(raw, str):
        m = _LETTER.fullmatch(raw.strip())
        if m:
            return m.group(1).upper(), "", ""
    try:
        reading = parse_answer(key, raw)
    except ParseError as e:
        if key.kind != "expression":
            return raw, "", ""  # neither a letter nor an option: the letter key's own message says so
        try:  # an expression option typed as printed: '24 N_layer D^2'
            reading = read_printed_expression(key, raw)
        except ParseError:
            return raw, "", (f"{_shown(raw).strip()!r} is neither a letter nor an expression in the question's "
                             f"symbols ({e})")
    letters = LETTERS[:len(options)]
    hits = [letter for letter, option in zip(letters, options) if not reading.refused
            and _matches_option(key, option, reading.value)]
    if len(hits) == 1:
        return hits[0], f"option {hits[0]}", ""
    which = f"options {' and '.join(hits)}" if hits else f"none of the options {letters[0]}-{letters[-1]}"
    return raw, "", f"{_shown(raw).strip()!r} matches {which}: write the letter of your choice"


def _matches_option(key: Answer, option: Any, value: Any) -> bool:
    try:
        return matches(dataclasses.replace(key, value=option), value)
    except (ValueError, TypeError, ArithmeticError):
        return False


def choice_key(options: int, correct: str) -> Answer:
    """The key of a part asked as multiple choice: one of the letters A, B, ... (the correct one)."""
    return Answer("choice", correct, choices=tuple(LETTERS[:options]))


_KEY_TEXTS: dict[int, tuple[Part, str, str]] = {}


def _key_texts(part: Part) -> tuple[str, str]:
    """A part's expected text and tolerance text, computed once per key part rather than once per student
    (a Part is frozen; the cache holds the part itself, so its id cannot be reused while cached)."""
    cached = _KEY_TEXTS.get(id(part))
    if cached is None or cached[0] is not part:
        if len(_KEY_TEXTS) > 4096:
            _KEY_TEXTS.clear()
        cached = _KEY_TEXTS[id(part)] = (part, expected_text(part.answer), part.answer.tolerance_text())
    return cached[1], cached[2]


def grade_part(qualified: str, part: Part, raw: Any, mistakes: list[tuple[Any, Any]] = (),
               points: float = POINTS_PER_PART) -> PartGrade:
    """The verdict, points and feedback for one answer (`raw`: text, or rows for a matrix); partial credit
    is the part's `points` times the fraction of entries right."""
    answer = part.answer
    expected, tolerance = _key_texts(part)
    base = dict(part=qualified, label=plain_label(part.label), max_points=points, answer=_shown(raw),
                expected=expected, tolerance=tolerance)
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
        return PartGrade(verdict="correct", points=points, message="Correct." + notes, **base)
    for mistake, wrong in mistakes:
        if _matches_mistake(answer, wrong, value):
            return PartGrade(verdict="wrong", points=0.0, mistake=mistake.name,
                             message=f"This is a known mistake ({mistake.name.replace('_', ' ')}): "
                                     f"{mistake.explanation}" + notes, **base)
    if answer.kind in ("matrix", "vector") and not results:
        return PartGrade(verdict="wrong", points=0.0, message=_shape_message(answer, value) + notes, **base)
    if 0 < fraction < 1:
        right = sum(results)
        message = f"{right} of {len(results)} entries are right (credit per entry); {_wrong_entries(answer, results)}."
        if answer.kind == "matrix" and _transposed(answer, value):
            message += " Your matrix is the transpose of the expected one."
        return PartGrade(verdict="partial", points=round(points * fraction, 6), message=message + notes,
                         **base)
    message = _coarser(answer, value, raw) or "Not the expected value within the tolerance." + _hint(answer, value)
    if answer.kind == "matrix" and _transposed(answer, value):
        message += " Your matrix is the transpose of the expected one."
    return PartGrade(verdict="wrong", points=0.0, message=message + notes, **base)


def _wrong_entries(answer: Answer, results: list[bool]) -> str:
    """Where the wrong entries are (row and column of a matrix, position in a vector), the first four."""
    cols = len(answer.value[0]) if answer.kind == "matrix" else 0
    wrong = [i for i, ok in enumerate(results) if not ok]
    where = [f"row {i // cols + 1}, column {i % cols + 1}" if cols else f"entry {i + 1}" for i in wrong[:4]]
    more = f" and {len(wrong) - 4} more" if len(wrong) > 4 else ""
    return f"wrong: {'; '.join(where)}{more}"


# The mantissa as written: its digits, and whether anything (an exponent, a unit) follows it
_WRITTEN = re.compile(r"\s*[-+\u2212]?\s*(\d+)(?:\.(\d*))?(.*)", re.S)


def _written(raw: Any, sig: bool) -> int | None:
    """The figures (sig) or decimal places the student wrote, trailing zeros included ('1.930e8' is 4 figures,
    '3.140' 3 places); None where the text does not show them (no decimal point, or an exponent after places)."""
    m = _WRITTEN.fullmatch(raw) if isinstance(raw, str) else None
    if not m or m.group(2) is None:
        return None
    if sig:
        return len((m.group(1) + m.group(2)).lstrip("0")) or None
    return None if m.group(3).strip() else len(m.group(2))


def _coarser(answer: Answer, value: Any, raw: Any = None) -> str:
    """For a number given with fewer digits than asked, the key correctly rounded (1.93e8 for 1.927e8 to 4
    significant figures): the message says so and names the precision the question asks. The digits are
    counted as written: '1.930e8' gives 4 figures, the last one wrong, and gets no such message."""
    if answer.kind != "number" or not isinstance(value, (int, float)) or not math.isfinite(value) or not value:
        return ""
    if answer.sig is not None:
        asked, what = answer.sig, "significant figure"
        given = next((d for d in range(1, asked) if math.isclose(float(f"{value:.{d - 1}e}"), value,
                                                                 rel_tol=1e-12)), None)
        coarser = dataclasses.replace(answer, sig=given) if given else None
    elif answer.decimals:
        asked, what = answer.decimals, "decimal place"
        given = next((d for d in range(asked) if math.isclose(round(value, d), value, rel_tol=1e-12)), None)
        coarser = dataclasses.replace(answer, decimals=given) if given is not None else None
    else:
        return ""
    written = _written(raw, answer.sig is not None)
    if given is not None and written is not None and written > given:  # more figures written than right
        return ""
    key = float(answer.value)  # the key rounded to the digits given, not merely within one unit of them
    if coarser is None or abs(value - key) > coarser.allowance(key) / 2 * (1 + 1e-9):
        return ""
    return (f"Right to {given} {plural(given, what)}, but the question asks for {asked}: give {asked} "
            f"{plural(asked, what)}.")


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
    elif len(value) == 1 and len(answer.value) > 1 and len(value[0]) == len(answer.value) * len(answer.value[0]):
        message += " Its entries were read as one row: separate the rows with ';' (1 -2; 0 3)."
    return message


# ---- a submission ----------------------------------------------------------------------------------


class Grader:
    """Grades submissions against one key; named mistakes are computed once per problem."""

    def __init__(self, key: Key):
        from exgen.grading.examkey import check_exam_meta

        check_exam_meta(key)  # raises KeyFileError naming the field
        self.key = key
        self.digest = key_digest(key)
        self._mistakes: dict[int, dict[str, list]] = {}
        meta = key.meta if isinstance(key.meta, dict) else {}
        students, versions = meta.get("students"), meta.get("versions")
        self.students: dict[str, list[int]] | None = students if isinstance(students, dict) else None
        self.versions: dict[str, list[int]] | None = versions if isinstance(versions, dict) else None
        self.points: dict[str, dict[str, float]] = meta.get("points") if isinstance(meta.get("points"), dict) else {}
        self.choices: dict[str, dict[str, Any]] = meta.get("choices") if isinstance(meta.get("choices"), dict) else {}
        self.questions: dict[str, int] = meta.get("questions") if isinstance(meta.get("questions"), dict) else {}

    def problems_of(self, student: str | None, version: str = "") -> list[int]:
        """The (1-based) key problem numbers a student answers, in the order of their sheet (None: every
        problem of the key, numbered as in the key)."""
        if self.students is not None and student is not None:
            return list(self.students[self.roster_id(student)])
        if self.versions is not None and (student is not None or version):
            if version not in self.versions:
                letters = ", ".join(self.versions)
                raise SubmissionError(f"the sheet names version {version!r}; this exam's versions are {letters} "
                                      "(fill in 'version:' with the letter printed on the exam)")
            return list(self.versions[version])
        return list(range(1, len(self.key.problems) + 1))

    def roster_id(self, student: str) -> str:
        """The roster's id for a sheet's student: the same id, or the one id equal to it without case (`Ann-Lee`
        for `ann-lee`; a roster refuses two ids differing only in case). Several, or none: SubmissionError."""
        import unicodedata

        if student in self.students:
            return student
        folded = unicodedata.normalize("NFC", student).casefold()
        found = [s for s in self.students if unicodedata.normalize("NFC", s).casefold() == folded]
        if len(found) == 1:
            return found[0]
        if found:
            raise SubmissionError(f"student {student!r} is not on this exam's roster; it matches "
                                  f"{' and '.join(map(repr, found))} without case: write the one printed on your exam")
        raise SubmissionError(f"student {student!r} is not on this exam's roster")

    def mistakes(self, number: int) -> dict[str, list]:
        """{part id: [(Mistake, wrong value)]}; for a multiple-choice part the wrong value is the letter of
        the option the mistake produced."""
        if number not in self._mistakes:
            found = mistakes_of(self.key.problems[number - 1])
            for pid, choice in self.choices.get(str(number), {}).items():
                origins = list(choice.get("from", ()))
                found[pid] = [(m, LETTERS[origins.index(m.name)]) for m, _ in found.get(pid, ())
                              if m.name in origins]
            self._mistakes[number] = found
        return self._mistakes[number]

    def part_points(self, number: int, part_id: str) -> float:
        return float(self.points.get(str(number), {}).get(part_id, POINTS_PER_PART))

    def presented(self, number: int, part: Part) -> Part:
        """The part as the sheet asks it: a multiple-choice part's key is its letter."""
        choice = self.choices.get(str(number), {}).get(part.id)
        if choice is None:
            return part
        return dataclasses.replace(part, answer=choice_key(len(choice["options"]), choice["correct"]))

    def expected_parts(self, student: str | None, version: str = "") -> list[tuple[str, Part, int]]:
        """(qualified id as on the student's sheet, part as asked, key problem number)."""
        out = []
        for local, number in enumerate(self.problems_of(student, version), 1):
            for part in self.key.problems[number - 1].solution.parts:
                out.append((f"{local}.{part.id}", self.presented(number, part), number))
        return out

    def grade_entry(self, qualified: str, part: Part, number: int, raw: Any) -> PartGrade:
        """One answer to part `part` (as asked) of key problem `number`; a multiple-choice part is answered
        by its letter ("B", "b", "(B)", "B.", "Option B") or by its option as printed ("8.933 FLOP/byte"),
        and its expected answer names the letter and the option's value."""
        choice = self.choices.get(str(number), {}).get(part.id)
        note = error = ""
        if choice is not None:
            key = self.key.problems[number - 1].solution.part(part.id).answer
            shown_raw = raw
            raw, note, error = choice_letter(raw, choice["options"], key)
        result = grade_part(qualified, part, raw, self.mistakes(number).get(part.id, ()),
                            self.part_points(number, part.id))
        if choice is not None:
            result = dataclasses.replace(result, expected=f"{choice['correct']} ({expected_text(key)})",
                                         answer=_shown(shown_raw))
            if error:
                result = dataclasses.replace(result, verdict="invalid", points=0.0, mistake="",
                                             message=f"Could not read the answer: {error}.")
            elif note:
                result = dataclasses.replace(result, message=f"{result.message} (Read as: {note}.)")
        return result

    def grade(self, submission: Submission) -> StudentGrade:
        notes = []
        if self.students is not None and submission.student not in self.students:
            sid = self.roster_id(submission.student)
            notes.append(f"The sheet's student {submission.student!r} is the roster's {sid!r}.")
            submission = dataclasses.replace(submission, student=sid)
        expected = self.expected_parts(submission.student, submission.version)
        sheet_id = self.key.meta.get("sheet") if isinstance(self.key.meta, dict) else None
        if sheet_id and submission.sheet and submission.sheet != sheet_id:
            raise SubmissionError(f"this answer sheet belongs to another key (sheet {submission.sheet!r}, "
                                  f"key {sheet_id!r})")
        known = {q for q, _, _ in expected}
        if len(set(submission.answers) - known) * 2 > len(submission.answers):
            raise SubmissionError(self._misfit(submission, known))
        unknown = sorted(set(submission.answers) - known) + list(submission.ignored)
        if unknown:
            notes.append("Ignored entries that are not parts of this sheet: " + ", ".join(unknown[:20])
                         + (" …" if len(unknown) > 20 else ""))
        parts = tuple(self.grade_entry(q, part, n, submission.answers.get(q)) for q, part, n in expected)
        better = self._better_version(submission, parts)
        if better:  # graded as the sheet says: a weak sheet can fit another version by chance (multiple choice)
            notes.append(better)
        if self.questions:  # a shuffled exam: the gradebook lines answers up by the spec's question numbers
            parts = tuple(dataclasses.replace(p, column=f"q{self.questions[str(n)]}.{part.id}")
                          for p, (_, part, n) in zip(parts, expected))
        return StudentGrade(submission.student, submission.source, parts, notes=tuple(notes),
                            version=submission.version, key=self.digest)

    def _better_version(self, submission: Submission, parts: tuple[PartGrade, ...]) -> str:
        """Unshuffled versions share their entry names, so a miscopied letter grades the answers against the
        other version's numbers. A sheet scoring under half its points that scores over half, and at least
        double, on another version's paper gets a note naming it, for the TA to check; it is still graded as the
        sheet says (a student guessing multiple-choice letters fits another version that well about one time
        in ten). Only then are the other versions graded: a fast path."""
        got, most = sum(p.points for p in parts), sum(p.max_points for p in parts)
        if self.versions is None or not submission.version or got * 2 >= most:
            return ""
        entries = set(submission.answers)
        for version in self.versions:
            if version == submission.version:
                continue
            expected = self.expected_parts(None, version)
            if not entries <= {q for q, _, _ in expected}:
                continue
            other = [self.grade_entry(q, part, n, submission.answers.get(q)) for q, part, n in expected]
            score, top = sum(p.points for p in other), sum(p.max_points for p in other)
            if score * 2 > top and score >= 2 * got:
                return (f"the answers score {points_text(got)} / {points_text(most)} on version "
                        f"{submission.version}'s paper but {points_text(score)} / {points_text(top)} on version "
                        f"{version}'s; graded as version {submission.version}, as the sheet says: check that its "
                        "letter is not miscopied")
        return ""

    def _misfit(self, submission: Submission, known: set[str]) -> str:
        """Why most of a sheet's entries are not parts of its paper, naming the papers they fit instead: a
        miscopied version letter (with shuffled versions every entry is then unknown) is an error row, never
        a silent 0."""
        entries = set(submission.answers)
        off = len(entries - known)
        if self.versions is not None and submission.version:
            mine, others = f"version {submission.version}'s paper", [
                f"version {v}" for v in self.versions if v != submission.version
                and entries <= {q for q, _, _ in self.expected_parts(None, v)}]
        elif self.students is not None:
            mine, others = f"the paper of {submission.student!r}", [
                repr(s) for s in self.students if s != submission.student
                and entries <= {q for q, _, _ in self.expected_parts(s)}]
        else:
            mine, others = "this key's sheet", []
        message = f"{off} of the sheet's {len(entries)} entries are not parts of {mine}"
        if not others:
            return message + " (is it a sheet for another key?); not graded"
        named = " or ".join(others[:3]) + (f" (and {len(others) - 3} more)" if len(others) > 3 else "")
        says = f"version: {submission.version}" if self.versions is not None and submission.version \
            else f"student: {submission.student}"
        return f"{message}; they fit the paper of {named}, and the sheet says '{says}': is it miscopied? Not graded"

    def grade_files(self, paths: Iterable[Path]) -> list[StudentGrade]:
        """Every file gets a row: graded, or an error row; duplicates of a student are all error rows."""
        rows: list[StudentGrade] = []
        readings: list[tuple[str, Submission | None, str]] = []
        for path in paths:
            try:
                readings.append((str(path), read_submission(Path(path)), ""))
            except SubmissionError as e:
                readings.append((str(path), None, str(e)))
        by_student: dict[str, list[str]] = {}  # by the name without case: 'Alice' and 'alice' are one student
        for source, sub, _ in readings:
            if sub is not None:
                by_student.setdefault(sub.student.casefold(), []).append(source)
        for source, sub, error in readings:
            if sub is None:
                rows.append(StudentGrade("", source, error=error, key=self.digest))
                continue
            others = [s for s in by_student[sub.student.casefold()] if s != source]
            if others:
                rows.append(StudentGrade(sub.student, source, error=f"student {sub.student!r} also submitted "
                                         + ", ".join(sorted(others)) + "; not graded until one is removed",
                                         key=self.digest))
                continue
            try:
                rows.append(self.grade(sub))
            except SubmissionError as e:
                rows.append(StudentGrade(sub.student, source, error=str(e), key=self.digest))
        return sorted(rows, key=lambda r: (r.student == "", r.student, r.source))


# ---- outputs ---------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP CSV injection): a leading ' where needed."""
    text = str(text).replace("\x00", "")
    return "'" + text if text.startswith(_FORMULA_START) else text


def _part_sort_key(qualified: str) -> tuple[int, str]:
    number, _, _ = qualified.removeprefix("q").partition(".")
    return (int(number) if number.isdigit() else 0, "")


def key_digest(key: Key) -> str:
    """The SHA-256 of the key as exgen writes it (equal to `sha256sum key.json` of a key exgen wrote)."""
    import hashlib

    return hashlib.sha256(key.to_json().encode("utf-8")).hexdigest()


def gradebook_csv(rows: list[StudentGrade]) -> str:
    """One row per submission: student, file, version, status, total, max, points per problem ("problem 1"),
    points per part, the error, and the key's SHA-256 and the grading exgen's version (so a row can be traced
    to what graded it). A shuffled exam's columns are its questions in the spec's order ("question 1",
    "q1.scale"), whatever number each paper printed them under (PartGrade.question)."""
    columns: list[str] = []
    seen: set[str] = set()
    for row in rows:
        for p in row.parts:
            if p.question not in seen:
                seen.add(p.question)
                columns.append(p.question)
    columns.sort(key=_part_sort_key)  # stable: within a problem, the key's part order
    problems = sorted({_part_sort_key(c)[0] for c in columns})
    shuffled = any(c.startswith("q") for c in columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["student", "submission", "version", "status", "total", "max",
                     *[f"{'question' if shuffled else 'problem'} {n}" for n in problems], *columns, "error",
                     "key_sha256", "exgen_version"])
    for row in rows:
        points = {p.question: points_text(p.points) for p in row.parts}
        per_problem = {n: points_text(got) for n, (got, _) in row.problems(by_question=True).items()}
        status = "error" if row.error else "graded"
        writer.writerow([safe_cell(row.student), safe_cell(row.source), safe_cell(row.version), status,
                         points_text(row.total) if not row.error else "",
                         points_text(row.max_points) if not row.error else "",
                         *[per_problem.get(n, "") for n in problems],
                         *[points.get(c, "") for c in columns], safe_cell(row.error), row.key, __version__])
    return out.getvalue()


def _code(text: str) -> str:
    """Student text shown verbatim in Markdown: an inline code span with a fence longer than any run of
    backticks inside (so it cannot close early or inject Markdown/HTML)."""
    if not text:
        return "(blank)"
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0) if "`" in text else 0
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]$|~#!])")


def _text(text: str) -> str:
    text = text if isinstance(text, str) else str(text)
    return _prose_cached(text) if len(text) <= 500 else _prose(text)


def _prose(text: str) -> str:
    """Prose that may quote a student (an error, a note, a message naming what they typed) as Markdown that
    renders as the same text: one line, HTML's &, < and > as entities, Markdown's link, emphasis, code,
    math and table characters backslash-escaped — so `](javascript:…)` or `<img onerror=…>` stay text."""
    text = " ".join(text.split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


_prose_cached = functools.lru_cache(maxsize=8192)(_prose)  # labels, tolerances, most messages repeat per student


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
    """A safe file name for a student's feedback: student text never becomes a path as is (Latin letters, as a
    roster id has them: zoë.md); a name that had to be changed, a missing student, or a student with several
    rows (in any case: Ann-Lee and ann-lee are one file on a case-insensitive disk) gets a hash suffix."""
    import hashlib

    name = unicodedata.normalize("NFC", student or Path(source).stem)
    slug = re.sub(rf"[^A-Za-z0-9{_LATIN}._-]+", "_", name).strip("._")[:60] or "submission"
    if slug != name or not student or not unique:
        slug += "-" + hashlib.sha256(f"{student}\x1f{source}".encode()).hexdigest()[:8]
    return slug + ".md"


def feedback_files(rows: list[StudentGrade]) -> list[tuple[str, StudentGrade]]:
    """(file name, row) for every row, names unique."""
    from collections import Counter

    counts = Counter(r.student.casefold() for r in rows)
    return [(feedback_filename(r.student, r.source, counts[r.student.casefold()] == 1), r) for r in rows]


# The feedback folder's record of the files `exgen grade --feedback` wrote there, with what it wrote in each: a
# later run that no longer writes one (a student missing this time) removes it, if it is still as written.
FEEDBACK_MANIFEST = ".exgen-feedback"
_LATIN = "À-ÖØ-öø-ſ"  # the accented Latin letters a roster id may hold (Latin-1 and Latin Extended-A, no × ÷)
_MANIFEST_LINE = re.compile(rf"([0-9a-f]{{64}})  ([A-Za-z0-9{_LATIN}_-][A-Za-z0-9{_LATIN}._-]{{0,90}}\.md)"
                            r"(?:  ([0-9a-f]{64}))?")  # the file's sha256, its name, the key it was graded with
_MAX_FEEDBACK_BYTES = 4 << 20


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _regular_bytes(path: Path) -> bytes | None:
    """A regular file's bytes (not a link, not too large), or None."""
    import os
    import stat

    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_FEEDBACK_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None


def feedback_manifest(folder: Path, files: list[tuple[str, str]], key: str = "") -> tuple[str, list[str], list[str]]:
    """(the manifest to write with this run's feedback `files` (name, text), graded with the key whose sha256 is
    `key`; the earlier run's files to remove once these are written; those kept). A file is removed only if the
    folder's manifest lists it as graded with the same key, this run does not write it, and it still holds what
    exgen wrote: an edited one is kept (it is the user's now), and so is every file the manifest does not name.
    Another key's files (another exam graded into the same folder) stay, and stay listed. Files due for removal
    stay listed, so a run stopped before removing them removes them next time."""
    written = {name: (_sha256(text.encode("utf-8")), key) for name, text in files}
    earlier = {name: entry for name, entry in _manifest_entries(folder).items() if name not in written}
    stale, others, kept = {}, {}, []
    for name, (digest, graded_with) in sorted(earlier.items()):
        path = Path(folder) / name
        if key and graded_with and graded_with != key:  # another exam's feedback: not this run's to judge
            if path.exists() or path.is_symlink():
                others[name] = (digest, graded_with)
            continue
        current = _regular_bytes(path)
        unchanged = current is not None and _sha256(current) == digest
        if unchanged and key and graded_with == key:
            stale[name] = (digest, graded_with)
        elif unchanged:
            others[name] = (digest, graded_with)  # listed without a key (an earlier manifest): left alone
        elif current is not None or path.is_symlink():
            kept.append(name)
    listed = sorted({**written, **stale, **others}.items())
    text = ("# exgen grade --feedback: the files it wrote in this folder (sha256, name, the key's sha256). A later\n"
            "# run with the same key removes those it no longer writes, if they are unchanged. Do not edit.\n"
            + "".join(f"{digest}  {name}" + (f"  {graded_with}" if graded_with else "") + "\n"
                      for name, (digest, graded_with) in listed))
    return text, sorted(stale), kept


def graded_with_another_key(folder: Path, files: list[tuple[str, str]], key: str) -> list[str]:
    """The names among this run's feedback `files` that the folder's manifest lists as graded with another key
    (another exam with the same student, or this exam before its key was corrected): replaced, and said so."""
    entries = _manifest_entries(folder)
    return sorted(name for name, _ in files if name in entries and entries[name][1] and entries[name][1] != key
                  and (Path(folder) / name).exists())


def _manifest_entries(folder: Path) -> dict[str, tuple[str, str]]:
    """{name: (sha256, the key's sha256 or "")} of the files the folder's manifest lists (none without one)."""
    data = _regular_bytes(Path(folder) / FEEDBACK_MANIFEST) or b""
    return {m.group(2): (m.group(1), m.group(3) or "")
            for m in map(_MANIFEST_LINE.fullmatch, data.decode("utf-8", "replace").splitlines()) if m}


def _manifest_digests(folder: Path) -> dict[str, str]:
    """{name: sha256} of the files the folder's manifest lists (none without a manifest)."""
    return {name: digest for name, (digest, _) in _manifest_entries(folder).items()}


def edited_feedback(folder: Path, files: list[tuple[str, str]]) -> list[str]:
    """The names among this run's feedback `files` (name, text) that exist in `folder` and are not as exgen
    wrote them: edited since (their sha256 is not the manifest's), or not on the manifest at all (the user's own
    file, or one from before exgen kept a manifest, which may have been edited anywhere): replacing one could
    lose the user's text. A file already holding exactly this run's text is no loss."""
    listed = _manifest_digests(folder)
    out = []
    for name, text in files:
        path = Path(folder) / name
        if not (path.exists() or path.is_symlink()):
            continue
        current = _regular_bytes(path)
        if current is None:  # a link, a folder, a huge file: not exgen's
            out.append(name)
        elif current == text.encode("utf-8"):
            continue
        elif name not in listed or _sha256(current) != listed[name]:
            out.append(name)
    return sorted(out)


def remove_stale_feedback(folder: Path, names: list[str]) -> list[str]:
    """Remove the earlier run's feedback files `feedback_manifest` found (after this run's are written); the
    names removed."""
    removed = []
    for name in names:
        try:
            (Path(folder) / name).unlink()
            removed.append(name)
        except FileNotFoundError:
            pass
    return removed


def gradescope_json(row: StudentGrade) -> str:
    """Gradescope's autograder results.json for one submission: one test per problem, worth its points, its
    output one line per part."""
    if row.error:
        doc: dict[str, Any] = {"score": 0, "output": f"Not graded: {row.error}", "tests": []}
    else:
        tests = []
        for number, (got, most) in sorted(row.problems().items()):
            parts = [p for p in row.parts if _part_sort_key(p.part)[0] == number]
            tests.append({"name": f"Problem {number}", "number": str(number), "score": round(got, 4),
                          "max_score": round(most, 4), "status": "passed" if got >= most else "failed",
                          "output": "\n".join(f"{p.part} ({p.label}): {p.verdict}, {points_text(p.points)} / "
                                              f"{points_text(p.max_points)}. Your answer: {p.answer or '(blank)'}. "
                                              f"{p.message}" for p in parts)})
        doc = {"score": round(row.total, 4),
               "output": f"Score {points_text(row.total)} / {points_text(row.max_points)}", "tests": tests}
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def compare_lines(before: list[StudentGrade], after: list[StudentGrade]) -> list[str]:
    """A dry run for an edited key: one line per submission whose points (or graded/error status) differ
    between grading with the old key (`before`) and the new one (`after`), same submissions in both."""
    def score(row: StudentGrade | None) -> str:
        if row is None:
            return "error"
        if row.error:
            return f"error ({row.error})"
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
