"""The schema of what `exgen exam` adds to a key's meta, checked once when a grader loads the key:

    "versions": {"A": [1, 2], "B": [3, 4]}          every problem belongs to exactly one version
    "points":   {"3": {"scale": 2, "q": 1.5}}        a known problem and part, 0 < points <= 1000
    "choices":  {"3": {"scale": {"options": [...], "correct": "B", "from": ["key", ...]}}}
                                                    2..26 options, the letter of one of them, one origin each
    "questions": {"3": 2, "4": 1}                  shuffled papers: each problem's question number in the
                                                    spec's order, a permutation of 1..n on every paper

A KeyFileError names the field (`meta.points.3.scale: ...`), so a hand-edited key is refused before grading
rather than crashing in the middle of a class.
"""

from __future__ import annotations

import math
import re
from typing import Any

from exgen.manifest import Key, KeyFileError

VERSION = re.compile(r"^[A-Z]{1,2}$")
MAX_POINTS = 1000
MAX_OPTIONS = 26
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _fail(where: str, what: str) -> KeyFileError:
    return KeyFileError(f"key meta.{where}: {what}")


def _part_ids(key: Key, number: str, where: str) -> set[str]:
    if not (number.isdigit() and 1 <= int(number) <= len(key.problems)):
        raise _fail(where, f"no problem {number[:20]!r} in this key (it has {len(key.problems)})")
    return {p.id for p in key.problems[int(number) - 1].solution.parts}


def check_exam_meta(key: Key) -> None:
    """Raise KeyFileError for a versions, points or choices map that does not fit the key's problems."""
    meta = key.meta if isinstance(key.meta, dict) else {}
    count = len(key.problems)
    if "versions" in meta:
        versions = meta["versions"]
        if not isinstance(versions, dict) or not versions:
            raise _fail("versions", "expected an object of version letters")
        owner: dict[int, str] = {}
        for letter, numbers in versions.items():
            if not VERSION.match(str(letter)):
                raise _fail("versions", f"{str(letter)[:20]!r} is not a version letter")
            if not isinstance(numbers, list) or not numbers:
                raise _fail(f"versions.{letter}", "expected a list of problem numbers")
            for n in numbers:
                if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= count:
                    raise _fail(f"versions.{letter}", f"expected problem numbers 1..{count}, got {str(n)[:20]}")
                if n in owner:
                    raise _fail(f"versions.{letter}", f"problem {n} is already version {owner[n]}'s")
                owner[n] = letter
    points = meta.get("points", {})
    if not isinstance(points, dict):
        raise _fail("points", "expected an object of problem numbers")
    for number, parts in points.items():
        ids = _part_ids(key, str(number), f"points.{number}")
        if not isinstance(parts, dict):
            raise _fail(f"points.{number}", "expected an object of part ids")
        for pid, value in parts.items():
            if pid not in ids:
                raise _fail(f"points.{number}", f"problem {number} has no part {str(pid)[:40]!r}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or not 0 < value <= MAX_POINTS:
                raise _fail(f"points.{number}.{pid}", f"expected points in (0, {MAX_POINTS}], got {str(value)[:20]}")
    _check_questions(key, meta)
    choices = meta.get("choices", {})
    if not isinstance(choices, dict):
        raise _fail("choices", "expected an object of problem numbers")
    for number, parts in choices.items():
        ids = _part_ids(key, str(number), f"choices.{number}")
        if not isinstance(parts, dict):
            raise _fail(f"choices.{number}", "expected an object of part ids")
        for pid, choice in parts.items():
            where = f"choices.{number}.{pid}"
            if pid not in ids:
                raise _fail(f"choices.{number}", f"problem {number} has no part {str(pid)[:40]!r}")
            _check_choice(choice, where)


def _check_questions(key: Key, meta: dict) -> None:
    """Each paper's question numbers are a permutation of 1..n (every problem of the key has one)."""
    if "questions" not in meta:
        return
    questions = meta["questions"]
    papers = meta.get("versions") or meta.get("students")
    if not isinstance(questions, dict) or not isinstance(papers, dict):
        raise _fail("questions", "expected an object of problem numbers, in a key with versions or students")
    for number, question in questions.items():
        _part_ids(key, str(number), f"questions.{number}")
        if isinstance(question, bool) or not isinstance(question, int) or not 1 <= question <= len(key.problems):
            raise _fail(f"questions.{number}", f"expected a question number, got {str(question)[:20]}")
    for label, numbers in papers.items():
        if not isinstance(numbers, list) or sorted(questions.get(str(n), 0) for n in numbers) != list(
                range(1, len(numbers) + 1)):
            raise _fail("questions", f"{str(label)[:20]}'s problems are not questions 1, 2, ... of the exam")


def _check_choice(choice: Any, where: str) -> None:
    if not isinstance(choice, dict) or set(choice) != {"options", "correct", "from"}:
        raise _fail(where, "expected an object with options, correct and from")
    options, origins = choice["options"], choice["from"]
    if not isinstance(options, list) or not 2 <= len(options) <= MAX_OPTIONS:
        raise _fail(f"{where}.options", f"expected a list of 2..{MAX_OPTIONS} options")
    if choice["correct"] not in LETTERS[:len(options)]:
        raise _fail(f"{where}.correct", f"expected one of the letters A..{LETTERS[len(options) - 1]}")
    if not isinstance(origins, list) or len(origins) != len(options) or \
            not all(isinstance(o, str) and len(o) <= 100 for o in origins):
        raise _fail(f"{where}.from", "expected one short text per option")
