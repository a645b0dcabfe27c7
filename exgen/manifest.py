"""Answer-key manifests: the frozen record a grader reads (givens, answers, tolerances, exgen version).

Grading reads the manifest and never regenerates; `regenerated_differs` tells when this exgen version
would produce a different problem for the same seed (a warning, not an error: the key still stands).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exgen import __version__
from exgen.files import atomic_write
from exgen.problem import KINDS, Answer, Part, Problem, Solution, Step

FORMAT = "exgen-key/1"


class KeyFileError(ValueError):
    """A key file that cannot be read; the message says why."""


@dataclass(frozen=True)
class Key:
    problems: tuple[Problem, ...]
    version: str = __version__
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        doc = {"format": FORMAT, "exgen_version": self.version, "meta": self.meta,
               "problems": [p.record for p in self.problems]}
        return dumps_indented(doc) + "\n"

    def write(self, path: Path) -> None:
        atomic_write(path, self.to_json())

    def part(self, qualified: str):
        """(problem, part) for an id like '3.scale' (problem 3, part 'scale')."""
        number, _, part_id = qualified.partition(".")
        if not number.isdigit() or not 1 <= int(number) <= len(self.problems):
            raise KeyFileError(f"no problem {number!r} in this key (it has {len(self.problems)}); ids look like 1.scale")
        problem = self.problems[int(number) - 1]
        try:
            return problem, problem.solution.part(part_id)
        except KeyError:
            ids = ", ".join(f"{number}.{p.id}" for p in problem.solution.parts)
            raise KeyFileError(f"problem {number} has no part {part_id!r} (parts: {ids})") from None


_encode_str = json.encoder.encode_basestring  # the C escaper json.dumps(ensure_ascii=False) uses


def _float_text(x: float) -> str:
    if x != x:
        return "NaN"
    if x in (math.inf, -math.inf):
        return "Infinity" if x > 0 else "-Infinity"
    return float.__repr__(x)


def _indented(value: Any, pad: str, out: list[str]) -> None:
    t = type(value)
    if t is str:
        out.append(_encode_str(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif t is int:
        out.append(int.__repr__(value))
    elif t is float:
        out.append(_float_text(value))
    elif t is list or t is tuple:
        if not value:
            out.append("[]")
            return
        inner = pad + " "
        out.append("[\n" + inner)
        first = True
        for v in value:
            if not first:
                out.append(",\n" + inner)
            first = False
            _indented(v, inner, out)
        out.append("\n" + pad + "]")
    elif t is dict:
        if not value:
            out.append("{}")
            return
        inner = pad + " "
        out.append("{\n" + inner)
        first = True
        for k in sorted(value):
            if type(k) is not str:
                raise TypeError(k)
            if not first:
                out.append(",\n" + inner)
            first = False
            out.append(_encode_str(k) + ": ")
            _indented(value[k], inner, out)
        out.append("\n" + pad + "}")
    else:
        raise TypeError(t)


def dumps_indented(doc: Any) -> str:
    """`json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False)`, byte for byte, in a third of the time:
    with an indent, json falls back to its pure-Python encoder (issue 12). Anything this writer does not know
    (a non-string key, a subclass) goes to json itself."""
    out: list[str] = []
    try:
        _indented(doc, "", out)
    except TypeError:
        return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False)
    return "".join(out)


MAX_KEY_BYTES = 64 * 1024 * 1024   # a 500-student exam key is a few MB
MAX_PROBLEMS = 100_000
MAX_PARTS = 200                    # parts of one problem
MAX_STEPS = 2_000                  # steps (or shown lines) of one worked solution
MAX_TEXT = 100_000                 # characters of one label, step or expression
MAX_CHOICES = 100
MAX_SIG = 15                       # a float carries 15-17 significant digits; more is not a question
MAX_DECIMALS = 15
PART_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class _Bad(Exception):
    """One field of a key document that is not as the schema says: (where, what)."""


def read_key(path: Path) -> Key:
    """A key file, checked against the key schema before anything uses it (grade, check, verify, export).

    Every field is checked for type and range, givens are re-read through their topic's Given specs (so a
    hand-edited `group=10**10` is refused before a verifier allocates anything), units must be in the
    answer-unit grammar (never free text for pint), and the roster map must give every problem to exactly
    one student. A KeyFileError names the field: `key.json: problems[3].parts[1].answer.sig: …` (indices
    count from 0, as in the JSON).
    """
    from exgen.files import read_regular

    try:
        data = read_regular(Path(path), MAX_KEY_BYTES, what="key")
        doc = json.loads(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        raise KeyFileError(f"cannot read key {path}: {getattr(e, 'strerror', None) or e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise KeyFileError(f"{path} is not an exgen key (expected format {FORMAT!r})")
    try:
        return _key(doc)
    except _Bad as e:
        where, what = e.args
        raise KeyFileError(f"{path}: {where}: {what}") from None


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _expect(ok: bool, where: str, wanted: str, value: Any) -> None:
    if not ok:
        raise _Bad(where, f"expected {wanted}, got {_show(value)}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return _is_int(v) and abs(v) < 10**300 or isinstance(v, float) and math.isfinite(v)


def _text(doc: dict, name: str, where: str, limit: int = MAX_TEXT, default: Any = None) -> str:
    value = doc.get(name, default)
    _expect(isinstance(value, str) and len(value) <= limit, f"{where}.{name}", f"text of at most {limit} characters",
            value)
    return value


def _list(value: Any, where: str, low: int, high: int) -> list:
    _expect(isinstance(value, list) and low <= len(value) <= high, where, f"a list of {low}..{high} items", value)
    return value


def _key(doc: dict) -> Key:
    _text(doc, "exgen_version", "exgen_version", 100, "?")
    meta = doc.get("meta", {})
    _expect(isinstance(meta, dict), "meta", "an object", meta)
    raw = _list(doc.get("problems"), "problems", 1, MAX_PROBLEMS)
    problems = tuple(_problem(p, f"problems[{i}]") for i, p in enumerate(raw))
    _meta(meta, len(problems))
    return Key(problems, doc.get("exgen_version", "?"), meta)


def _meta(meta: dict, count: int) -> None:
    """The roster map of an exam key: every problem belongs to exactly one student."""
    from exgen.grading.exam import STUDENT_ID

    if "sheet" in meta:
        _text(meta, "sheet", "meta", 100)
    if "students" not in meta:
        return
    students = meta["students"]
    _expect(isinstance(students, dict) and students, "meta.students", "an object of student ids", students)
    owner: dict[int, str] = {}
    for sid, numbers in students.items():
        where = f"meta.students.{sid}"
        _expect(bool(STUDENT_ID.match(sid)), where, "a student id (Latin letters, digits and . _ @ + -)", sid)
        for number in _list(numbers, where, 1, count):
            _expect(_is_int(number) and 1 <= number <= count, where, f"problem numbers 1..{count}", number)
            if number in owner:
                raise _Bad(where, f"problem {number} is already {owner[number]!r}'s")
            owner[number] = sid
    orphans = sorted(set(range(1, count + 1)) - set(owner))
    if orphans:
        raise _Bad("meta.students", f"problem {orphans[0]} belongs to no student")


def _problem(d: Any, where: str) -> Problem:
    from exgen.givens import coerce
    from exgen.topics import TOPIC_NAMES, get
    from exgen.topics.base import DIFFICULTIES, InvalidGivens

    _expect(isinstance(d, dict), where, "an object", d)
    topic = d.get("topic")
    _expect(isinstance(topic, str) and topic in TOPIC_NAMES, f"{where}.topic", "one of " + ", ".join(TOPIC_NAMES),
            topic)
    variants = {v.name: v for v in get(topic).variants}
    variant = d.get("variant")
    _expect(isinstance(variant, str) and variant in variants, f"{where}.variant", "one of " + ", ".join(variants),
            variant)
    difficulty = d.get("difficulty")
    _expect(isinstance(difficulty, str) and difficulty in DIFFICULTIES, f"{where}.difficulty",
            "one of " + ", ".join(DIFFICULTIES), difficulty)
    seed = d.get("seed")
    _expect(seed is None or _is_int(seed) and 0 <= seed < 2**64, f"{where}.seed", "null or an integer 0..2^64-1",
            seed)
    givens = d.get("givens")
    _expect(isinstance(givens, dict), f"{where}.givens", "an object", givens)
    specs = {g.name: g for g in variants[variant].givens}
    checked = {}
    for name, value in givens.items():
        _expect(name in specs, f"{where}.givens", f"only the givens of {topic} {variant} ({', '.join(specs)})", name)
        try:
            checked[name] = coerce(specs[name], value)
        except InvalidGivens as e:
            raise _Bad(f"{where}.givens.{name}", str(e)) from None
    try:
        variants[variant].require(checked)
    except InvalidGivens as e:
        raise _Bad(f"{where}.givens", str(e)) from None
    parts = [_part(p, f"{where}.parts[{i}]") for i, p in enumerate(_list(d.get("parts"), f"{where}.parts", 1,
                                                                             MAX_PARTS))]
    ids = [p.id for p in parts]
    if len(set(ids)) != len(ids):
        raise _Bad(f"{where}.parts", f"part id {next(i for i in ids if ids.count(i) > 1)!r} appears twice")
    steps = {name: tuple(_step(s, f"{where}.{name}[{i}]") for i, s in
                         enumerate(_list(d.get(name, []), f"{where}.{name}", 0, MAX_STEPS)))
             for name in ("steps", "shown")}
    return Problem(topic, variant, difficulty, seed, checked,
                   Solution(tuple(parts), steps["steps"], steps["shown"]))


def _step(d: Any, where: str) -> Step:
    _expect(isinstance(d, dict) and set(d) <= {"text", "math"}, where, "an object with text and math", d)
    return Step(_text(d, "text", where), _text(d, "math", where, default=""))


def _part(d: Any, where: str) -> Part:
    _expect(isinstance(d, dict), where, "an object", d)
    part_id = d.get("id")
    _expect(isinstance(part_id, str) and bool(PART_ID.match(part_id)), f"{where}.id",
            "a part id (letters, digits and _)", part_id)
    return Part(part_id, _text(d, "label", where), _answer(d.get("answer"), f"{where}.answer"))


def _answer(d: Any, where: str) -> Answer:
    from exgen.grading.parse import MAX_ENTRIES, ParseError, parse_unit
    from exgen.units import ANSWER_UNITS

    _expect(isinstance(d, dict), where, "an object", d)
    unknown = set(d) - {"kind", "value", "unit", "sig", "decimals", "choices", "convertible"}
    _expect(not unknown, where, "only kind, value, unit, sig, decimals, choices, convertible", sorted(unknown))
    kind = d.get("kind")
    _expect(isinstance(kind, str) and kind in KINDS, f"{where}.kind", "one of " + ", ".join(KINDS), kind)
    for name, low, high in (("sig", 1, MAX_SIG), ("decimals", 0, MAX_DECIMALS)):
        v = d.get(name)
        _expect(v is None or _is_int(v) and low <= v <= high, f"{where}.{name}", f"an integer {low}..{high}", v)
    unit = _text(d, "unit", where, 40, "")
    if unit and unit not in ANSWER_UNITS:
        try:
            parse_unit(unit)
        except ParseError as e:
            raise _Bad(f"{where}.unit", str(e)) from None
    _expect(isinstance(d.get("convertible", True), bool), f"{where}.convertible", "true or false",
            d.get("convertible"))
    choices = _list(d.get("choices", []), f"{where}.choices", 0, MAX_CHOICES)
    _expect(all(isinstance(c, str) and len(c) <= 200 for c in choices), f"{where}.choices", "short texts", choices)
    value = d.get("value")
    if kind == "number":
        _expect(_is_number(value), f"{where}.value", "a finite number", value)
    elif kind == "integer":
        _expect(_is_int(value) and abs(value) < 10**40, f"{where}.value", "an integer", value)
    elif kind == "vector":
        _expect(isinstance(value, list) and 1 <= len(value) <= MAX_ENTRIES and all(map(_is_number, value)),
                f"{where}.value", f"a list of 1..{MAX_ENTRIES} finite numbers", value)
    elif kind == "matrix":
        _expect(isinstance(value, list) and value and all(isinstance(r, list) and r for r in value)
                and len({len(r) for r in value}) == 1 and len(value) * len(value[0]) <= MAX_ENTRIES
                and all(_is_number(x) for r in value for x in r), f"{where}.value",
                f"equal rows of finite numbers, at most {MAX_ENTRIES} entries", value)
    else:
        _expect(isinstance(value, str) and len(value) <= 2000, f"{where}.value", "text", value)
    try:
        return Answer.from_dict(d)
    except (ValueError, TypeError) as e:
        raise _Bad(where, str(e)) from None


def regenerated_differs(problem: Problem) -> bool:
    """Whether this exgen would generate something else for the problem's seed."""
    from exgen.generate import generate

    if problem.seed is None:
        return False
    again = generate(problem.topic, problem.variant, problem.difficulty, problem.seed)
    return again.to_dict() != problem.to_dict()
