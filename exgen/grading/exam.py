"""Per-student exam variants: every student on a roster gets their own problems, seeded by an HMAC of the
course secret (rng.student_seed), so a printed sheet plus the public code does not reveal the answers.

One combined key holds all students' problems; its meta maps each student to their problem numbers:
    {"students": {"alice": [1, 2, 3], "bob": [4, 5, 6]}, "sheet": "…", "exam": {...}}
and `exgen grade` reads a submission's "1.scale" as the first of that student's problems. Keys without
"students" are shared sheets (backwards compatible: nothing else in the key format changes).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from exgen.problem import Problem

# Letters are those of the Latin alphabets that pdflatex's T1 fonts print (Latin-1 and Latin Extended-A: é, ø, ł,
# ő; not × or ÷): an id is printed on its paper (exam.latex.tex_text) and names its folder (DIR/students/ID).
_LETTER = "A-Za-z0-9\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f"
STUDENT_ID = re.compile(f"^[{_LETTER}][{_LETTER}._@+-]{{0,63}}$")
MIN_SECRET_BYTES = 16
MAX_ROSTER_BYTES = 4 * 1024 * 1024


class RosterError(ValueError):
    """A roster or secret file that cannot be used; the message says why."""


def read_roster(path: Path) -> list[str]:
    """Student ids, one per line (further comma-separated columns are ignored; '#' lines and blank lines
    skipped; a first line 'student' or 'id' is a header). Ids are letters (Latin, accented too: `zoë`), digits
    and . _ @ + -, read in Unicode's composed form (NFC); two that differ only in case are refused: their folders
    would be one on a case-insensitive disk, and `exgen grade` matches a sheet's student without case."""
    import unicodedata

    from exgen.files import read_regular

    try:
        text = read_regular(Path(path), MAX_ROSTER_BYTES, what="roster").decode("utf-8-sig")
    except OSError as e:
        raise RosterError(f"cannot read roster {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise RosterError(f"cannot read roster {path}: not UTF-8 text") from None
    ids: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        first = unicodedata.normalize("NFC", line.split(",")[0].strip())
        if not first or first.startswith("#") or (not ids and first.lower() in ("student", "id", "student_id")):
            continue
        if not STUDENT_ID.match(first):
            raise RosterError(f"roster line {number}: {first[:40]!r} is not a usable student id (letters of the "
                              "Latin alphabet, accented ones too, digits and . _ @ + -, starting with a letter or "
                              "digit, at most 64)")
        same = next((i for i in ids if i.casefold() == first.casefold()), None)
        if same is not None:
            raise RosterError(f"roster line {number}: student {first!r} is listed twice"
                              + (f" (as {same!r}: two ids must differ in more than letter case)" if same != first
                                 else ""))
        ids.append(first)
    if not ids:
        raise RosterError(f"roster {path} lists no students")
    return ids


def read_secret(path: Path) -> bytes:
    from exgen.files import read_regular

    try:
        secret = read_regular(Path(path), 64 * 1024, what="secret file").strip()
    except OSError as e:
        raise RosterError(f"cannot read secret file {path}: {e.strerror or e}") from None
    if len(secret) < MIN_SECRET_BYTES:
        raise RosterError(f"the course secret in {path} is too short ({len(secret)} bytes; use at least "
                          f"{MIN_SECRET_BYTES}, e.g. python -c 'import secrets; print(secrets.token_hex(32))')")
    return secret


def student_problems(topics: list[str], variant: str | None, difficulty: str, n: int, secret: bytes,
                     student: str, taken: set[str] | None = None) -> list[Problem]:
    """`n` distinct problems of each topic for one student, seeded by an HMAC of the course secret; `taken`
    (see `generate.distinct_problems`) makes them differ from the other students' too."""
    from exgen.generate import distinct_problems
    from exgen.rng import student_seed

    return distinct_problems(topics, variant, difficulty, n, lambda index: student_seed(secret, student, index),
                             taken)


def exam_problems(topics: list[str], variant: str | None, difficulty: str, n: int, secret: bytes,
                  students: list[str]) -> dict[str, list[Problem]]:
    """Every student's problems, in roster order: no two problems of the exam share an instance while the
    variants' spaces allow it (a repeat is redrawn from the student's HMAC stream, "slot.attempt"), so
    neighbours cannot copy. `generate.count_repeats` over all of them says how many could not be made new."""
    taken: set[str] = set()
    return {sid: student_problems(topics, variant, difficulty, n, secret, sid, taken) for sid in students}


def sheet_id(problems: list[Problem]) -> str:
    """A short fingerprint of a key's problems, printed on answer sheets so grading can tell a sheet from
    another key's."""
    doc = json.dumps([p.record for p in problems], sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(doc.encode()).hexdigest()[:12]
