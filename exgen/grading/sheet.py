"""Answer sheets (YAML): the blank sheet `exgen make` writes, and reading a filled one (a submission).

Why YAML rather than CSV: a sheet must carry a student's name, one entry per part, the expected unit and
precision *as comments beside each entry*, and matrices — YAML does all of that in a file any editor opens
(`1.q: [[1, -2], [0, 3]]` or `1.q: 1 -2; 0 3`), and a JSON export from an LMS is valid YAML too. CSV has no
comments and makes matrices awkward.

Reading is defensive: a size limit before decoding, UTF-8 only (a BOM is allowed, CRLF is fine), no NUL
bytes, and the document is built from the YAML *event stream* by our own small composer, so every scalar
stays text (never YAML 1.1's guesses: `7.3e22` a string, `7.3e+22` a float, `no` a boolean), tags are
ignored, aliases are refused (no "billion laughs") and duplicate entries are an error, not a silent overwrite.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exgen.problem import Answer, Problem
from exgen.units import shown

MAX_SUBMISSION_BYTES = 512 * 1024
MAX_DEPTH = 4
MAX_STUDENT_LENGTH = 100
PART_ID = re.compile(r"^(\d{1,5})\.([A-Za-z_][A-Za-z0-9_]*)$")
META_FIELDS = ("student", "sheet", "version")


class SubmissionError(ValueError):
    """A submission that cannot be graded at all (unreadable, not a sheet, no student)."""


@dataclass(frozen=True)
class Submission:
    source: str
    student: str
    answers: dict[str, Any]          # "1.scale" -> text, or a list (rows) for matrices/vectors
    sheet: str = ""
    ignored: tuple[str, ...] = field(default=())  # entries that are not answers (reported in feedback)
    version: str = ""                             # an exam version's letter (exgen exam --versions)


# ---- writing ---------------------------------------------------------------------------------------


def describe(answer: Answer) -> str:
    """How an answer is to be written, for the sheet's comment (kind, shape, unit, precision)."""
    if answer.kind == "matrix":
        rows, cols = len(answer.value), len(answer.value[0]) if answer.value else 0
        what = f"{rows}x{cols} matrix ({answer.precision}), rows by ';' e.g. 1 -2; 0 3"
    elif answer.kind == "vector":
        example = "3, 7" if all(isinstance(v, int) for v in answer.value) else "1.5, -2"
        what = f"vector of {len(answer.value)} ({answer.precision}), e.g. {example}"
    elif answer.kind == "choice" and all(len(c) == 1 and c.isupper() for c in answer.choices):  # an exam's letters
        letters = ", ".join(answer.choices[:-1]) + " or " * (len(answer.choices) > 1) + answer.choices[-1]
        what = f"the letter of your choice, {letters} (or the option's text as printed)"
    elif answer.kind == "choice":
        what = "one of: " + " | ".join(answer.choices)
    elif answer.kind == "expression":
        from exgen.grading.compare import expression_symbols

        what = "expression in " + ", ".join(expression_symbols(answer)) + " with + - * / ^, e.g. 2*N*D^2"
    elif answer.kind == "integer":
        what = "integer"
    else:
        what = f"number, {answer.precision}"
    if answer.unit:
        what += f"; in {shown(answer.unit)}" + ("" if answer.convertible else " (this unit only)")
    return what


# A label's inline math ($\dot v_{3}$) as plain text for the places people read it unrendered (sheet comments,
# feedback headings, `exgen check`): accents as combining marks, a few symbols as unicode, other commands by name.
_ACCENTS = {"dot": "\u0307", "bar": "\u0304", "hat": "\u0302", "tilde": "\u0303", "vec": "\u20d7"}
_SYMBOLS = {"partial": "∂", "nabla": "∇", "times": "×", "cdot": "·", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥",
            "approx": "≈", "infty": "∞", "ell": "ℓ", "sum": "Σ", "alpha": "α", "beta": "β", "gamma": "γ",
            "delta": "δ", "epsilon": "ε", "eta": "η", "theta": "θ", "lambda": "λ", "mu": "μ", "pi": "π",
            "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "psi": "ψ", "Psi": "Ψ", "Delta": "Δ", "Sigma": "Σ"}
_ACCENT = re.compile(r"\\(" + "|".join(_ACCENTS) + r")\s*(?:\{([^{}]*)\}|([A-Za-z]))")
_COMMAND = re.compile(r"\\([A-Za-z]+)\s?")
_INLINE_MATH = re.compile(r"\$([^$]+)\$")


def _plain_math(math: str) -> str:
    math = _ACCENT.sub(lambda m: "".join(c + _ACCENTS[m.group(1)] if c.isalnum() else c
                                         for c in (m.group(2) if m.group(2) is not None else m.group(3))), math)
    math = re.sub(r"\\(?:mathrm|text|mathit|operatorname|mathbf)\s*\{([^{}]*)\}", r"\1", math)
    math = re.sub(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"(\1)/(\2)", math)
    math = re.sub(r"\\sqrt\s*\{([^{}]*)\}", r"√(\1)", math)
    math = re.sub(r"\\(?:left|right)\b", "", math)
    math = re.sub(r"\\[,;:! ]", " ", math)
    math = _COMMAND.sub(lambda m: _SYMBOLS.get(m.group(1), m.group(1)), math)
    math = re.sub(r"([_^])\{([^{}]*)\}", r"\1\2", math).replace("{", "").replace("}", "")
    return re.sub(r" {2,}", " ", math).strip()


@functools.lru_cache(maxsize=4096)
def plain_label(label: str) -> str:
    """A part's label with its `$…$` math as readable plain text: '$\\dot v_{3}$' is 'v̇_3', '$\\bar v_{-1}$'
    is 'v̄_-1'. The LaTeX stays in the key and wherever it is rendered as math (worksheets, HTML)."""
    return _INLINE_MATH.sub(lambda m: _plain_math(m.group(1)), label) if "$" in label else label


def blank_sheet(problems: list[Problem], *, student: str = "", sheet_id: str = "", title: str = "",
                version: str = "") -> str:
    """A blank answer sheet: one entry per part, qualified 'problem.part' ('3.scale'); an exam version's
    sheet names its version (the grader reads that version's problems)."""
    entries = [(f"{i}.{part.id}", f"{plain_label(part.label)}: {describe(part.answer)}", i, problem)
               for i, problem in enumerate(problems, 1) for part in problem.solution.parts]
    width = max([len(e[0]) for e in entries] + [8]) + 3  # two spaces before '#' at least: an answer typed after
    # ': ' still leaves one before the comment
    lines = [
        f"# exgen answer sheet{': ' + title if title else ''}",
        "# Write each answer after its colon; keep the names and leave a blank for a part you skip.",
        "# Numbers: 0.0123, 1.23e-2, 7.3 x 10^22. A unit is optional: without one, the unit named in the",
        "# comment is meant. Matrices: rows separated by ';' (1 -2; 0 3) or [[1, -2], [0, 3]].",
        "# Text after ' #' is a comment. Save the file as UTF-8.",
        f"student: {_yaml_text(student)}",
    ]
    if sheet_id:
        lines.append(f"sheet: {sheet_id}            # identifies the answer key; do not change")
    if version:
        lines.append(f"version: {_yaml_text(version)}               # the version printed on the exam; do not change")
    current = 0
    for qualified, comment, number, problem in entries:
        if number != current:
            current = number
            lines += ["", f"# Problem {number} ({problem.topic}, {problem.variant})"]
        lines.append(f"{qualified + ':':<{width}}# {comment}")
    return "\n".join(lines) + "\n"


def _yaml_text(text: str) -> str:
    return '""' if not text else text if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@+-]*", text) else \
        '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---- reading ---------------------------------------------------------------------------------------


class Folded(str):
    """A scalar typed over several lines that YAML folded into one (`1.q: 1 -2 0` then `  0 1 -1` on the next
    line reads as '1 -2 0 0 1 -1'). `lines` are the lines as typed — a plain scalar's, recovered from the
    source — or empty where they cannot be (quoted or '>' scalars); a matrix reads them as rows, or refuses."""

    lines: tuple[str, ...] = ()


def _folded(value: str, style: str | None, start, end, source: list[str]) -> str:
    """`value`, marked as Folded when its scalar spans several lines (a '|' block keeps its newlines)."""
    if start is None or end is None or start.line == end.line or style == "|":
        return value
    folded = Folded(value)
    if not style and end.line < len(source):  # plain: the lines as typed (no comment can sit inside one)
        typed = [source[start.line][start.column:]] + source[start.line + 1:end.line] + [source[end.line][:end.column]]
        folded.lines = tuple(line.strip() for line in typed if line.strip())
    return folded


class Lined(list):
    """A flow list typed over several lines (`1.q: [1, -2, 0,` then `  0, 1, -1]`): `rows` holds its entries by
    the line each was typed on, which a matrix reads as its rows (as it reads a Folded scalar's lines)."""

    rows: list[list[str]] | None = None


def _lined(seq: list, lines: list[int]) -> list:
    if len(set(lines)) > 1 and all(type(v) is str for v in seq):
        by_line: dict[int, list[str]] = {}
        for value, line in zip(seq, lines):
            by_line.setdefault(line, []).append(value)
        seq = Lined(seq)
        seq.rows = list(by_line.values())
    return seq


def _compose(events, source: list[str] = ()) -> Any:
    """Build str / list / dict from YAML events; aliases refused, duplicate keys refused, depth bounded;
    `source`, the sheet's lines, lets a scalar typed over several lines keep them (Folded)."""
    import yaml

    stack: list[Any] = []
    keys: list[Any] = []
    lines: list[list[int] | None] = []  # for each open flow list, the line of each of its entries
    root: Any = None

    def add(value: Any, line: int) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        top = stack[-1]
        if isinstance(top, list):
            top.append(value)
            if lines[-1] is not None:
                lines[-1].append(line)
        elif keys[-1] is _NO_KEY:
            if not isinstance(value, str):
                raise SubmissionError(f"line {line}: an entry's name must be plain text")
            if value in top:
                raise SubmissionError(f"line {line}: {value!r} appears twice")
            keys[-1] = value
        else:
            top[keys[-1]] = value
            keys[-1] = _NO_KEY

    for event in events:
        line = (event.start_mark.line + 1) if event.start_mark else 0
        if isinstance(event, yaml.AliasEvent):
            raise SubmissionError(f"line {line}: YAML aliases (*name) are not allowed in an answer sheet")
        if isinstance(event, yaml.ScalarEvent):
            add(_folded(event.value, event.style, event.start_mark, event.end_mark, source), line)
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            if len(stack) >= MAX_DEPTH:
                raise SubmissionError(f"line {line}: nested too deeply")
            container: Any = [] if isinstance(event, yaml.SequenceStartEvent) else {}
            add(container, line)
            stack.append(container)
            keys.append(_NO_KEY)
            lines.append([] if isinstance(event, yaml.SequenceStartEvent) and event.flow_style else None)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            done, typed = stack.pop(), lines.pop()
            keys.pop()
            if typed:
                _replace(stack[-1] if stack else None, done, _lined(done, typed))
        elif isinstance(event, yaml.DocumentStartEvent) and root is not None:
            raise SubmissionError("one answer sheet per file (found a second YAML document)")
    return root


_NO_KEY = object()


def _replace(parent: Any, old: list, new: list) -> None:
    """Put `new` where `old`, the container just closed, sits in `parent` (its last entry)."""
    if new is old or parent is None:
        return
    if isinstance(parent, list):
        parent[-1] = new
    else:
        parent[next(k for k in reversed(parent) if parent[k] is old)] = new


# An answer line as people type it: '3.scale:1.8' (no space after the colon) or '3.scale: 1.8# comment' (the
# comment glued on). No answer holds a '#', so both are read as if spaced; YAML would refuse the whole sheet.
_GLUED_VALUE = re.compile(r"^([ \t]*\d+\.[A-Za-z_][A-Za-z0-9_]*):(?=[^\s])", re.M)
_GLUED_COMMENT = re.compile(r"^([ \t]*\d+\.[A-Za-z_][A-Za-z0-9_]*:[^#\n]*\S)#", re.M)
# A matrix typed as its rows in brackets without the outer pair ('1.q: [2, 0, 1], [0, 0, 3]'): YAML refuses the
# line, and with it the whole sheet; the rows are read as if bracketed ('[[2, 0, 1], [0, 0, 3]]').
_BARE_ROWS = re.compile(r"^([ \t]*\d+\.[A-Za-z_][A-Za-z0-9_]*:[ \t]*)(\[[^\[\]#\n]*\](?:[ \t]*,[ \t]*\[[^\[\]#\n]*\])+)"
                        r"(?=[ \t]*(?:#|$))", re.M)


def parse_sheet(text: str, source: str = "<text>") -> Submission:
    """A filled answer sheet from its text."""
    import yaml

    text = _BARE_ROWS.sub(r"\1[\2]", _GLUED_COMMENT.sub(r"\1 #", _GLUED_VALUE.sub(r"\1: ", text)))

    loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
    try:
        doc = _compose(yaml.parse(text, Loader=loader), text.split("\n"))
    except yaml.YAMLError as e:
        mark = getattr(e, "context_mark", None) or getattr(e, "problem_mark", None)  # where the bad entry starts
        where = f"line {mark.line + 1}: " if mark else ""
        raise SubmissionError(f"{where}not a readable answer sheet ({getattr(e, 'problem', None) or e})") from None
    except RecursionError:
        raise SubmissionError("nested too deeply") from None
    if doc is None or doc == "":
        raise SubmissionError("the answer sheet is empty")
    if not isinstance(doc, dict):
        raise SubmissionError("not an answer sheet (expected 'student: …' and one 'problem.part: answer' per line)")
    student = doc.get("student")
    if not isinstance(student, str) or not student.strip():
        raise SubmissionError("the sheet does not name its student (fill in 'student:')")
    student = unicodedata.normalize("NFC", student.strip())  # 'zoë' typed as e + U+0308 is the roster's 'zoë'
    if len(student) > MAX_STUDENT_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in student):
        raise SubmissionError("the student name is too long or contains control characters")
    sheet = doc.get("sheet", "")
    version = doc.get("version", "")
    answers, ignored = {}, []
    for name, value in doc.items():
        if name in META_FIELDS:
            continue
        if PART_ID.match(name):
            answers[name] = value
        else:
            ignored.append(name)
    return Submission(source, student, answers, sheet if isinstance(sheet, str) else "", tuple(ignored),
                      version.strip().upper() if isinstance(version, str) else "")  # letters: 'b' is B


def read_submission(path: Path) -> Submission:
    """A filled answer sheet from a file. Raises SubmissionError with a one-line reason."""
    from exgen.files import read_regular

    try:
        data = read_regular(Path(path), MAX_SUBMISSION_BYTES, what="answer sheet")
    except OSError as e:
        raise SubmissionError(f"cannot read the file ({e.strerror or e})") from None
    if not data.strip():
        raise SubmissionError("the file is empty")
    if b"\x00" in data:
        raise SubmissionError("a binary file, not a text answer sheet")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SubmissionError("not UTF-8 text (save the answer sheet as UTF-8)") from None
    return parse_sheet(text.replace("\r\n", "\n").replace("\r", "\n"), str(path))
