"""The problem model: Problem, Part, Answer, Step — plain dataclasses with a JSON round-trip.

An answer carries its own precision; the tolerance a grader applies is derived from it in one place
(`Answer.allowance`), so the precision a question asks for and the tolerance it is graded with agree.
"""

from __future__ import annotations

import copy
import functools
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from exgen.units import shown

Kind = Literal["number", "integer", "vector", "matrix", "choice", "expression"]
KINDS: tuple[str, ...] = ("number", "integer", "vector", "matrix", "choice", "expression")


@dataclass(frozen=True)
class Answer:
    """The key of one part.

    value: a float (number), int (integer), list (vector), list of rows (matrix), str (choice/expression).
    sig / decimals: the precision the question asks for (at most one); neither means exact.
    unit: a pint unit string ("" for dimensionless); convertible: whether an answer in another unit of the
    same dimension is accepted.
    """

    kind: Kind
    value: Any
    unit: str = ""
    sig: int | None = None
    decimals: int | None = None
    choices: tuple[str, ...] = ()
    convertible: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown answer kind {self.kind!r}")
        if self.sig is not None and self.decimals is not None:
            raise ValueError("an answer has significant figures or decimals, not both")
        if self.sig is not None and self.sig < 1 or self.decimals is not None and self.decimals < 0:
            raise ValueError("significant figures must be at least 1 and decimals at least 0")
        if self.sig is not None and self.kind in ("number", "vector", "matrix"):
            for entry in _entries(self.value):
                self.allowance(entry)  # a zero or non-finite entry cannot be asked to significant figures
        if self.kind == "choice" and self.value not in self.choices:
            raise ValueError(f"choice {self.value!r} is not among {self.choices}")

    def allowance(self, entry: float) -> float:
        """The absolute tolerance around one exact key entry: one unit in the last place the question asks for.

        `decimals` d: 10^(−d).  `sig` s: one unit of the s-th significant figure of the entry itself,
        10^(⌊log10|entry|⌋ − s + 1), whatever its leading digit (0.931 to 3 figures accepts 0.930…0.932).
        Exact answers: 0.  A key of 0 has no significant figures, so it must ask for decimals.
        """
        if self.decimals is not None:
            return 10.0 ** (-self.decimals)
        if self.sig is not None:
            magnitude = abs(float(entry))
            if magnitude == 0 or not math.isfinite(magnitude):
                raise ValueError("a key of 0 (or a non-finite key) cannot be asked to significant figures; "
                                 "ask for decimals")
            return 10.0 ** (math.floor(math.log10(magnitude)) - self.sig + 1)
        return 0.0

    def tolerance_text(self) -> str:
        """The tolerance in the words a question and a feedback file use."""
        if self.kind == "expression":
            return "symbolic equivalence"
        if self.kind == "choice":
            return "exact choice"
        unit = f" {shown(self.unit)}" if self.unit else ""
        if self.sig is not None:
            if self.kind == "number":
                return f"±{self.allowance(self.value):g}{unit} (one unit in the {_ordinal(self.sig)} significant figure)"
            return f"one unit in the {_ordinal(self.sig)} significant figure of each entry"
        if self.decimals is not None:
            return f"±{self.allowance(0):g}{unit} (one unit in the {_ordinal(self.decimals)} decimal place)"
        return "exact"

    @property
    def precision(self) -> str:
        """How the question phrases the precision it expects."""
        if self.sig is not None:
            return f"{self.sig} significant figures"
        if self.decimals is not None:
            return f"{self.decimals} decimal place" + ("s" if self.decimals != 1 else "")
        if self.kind in ("integer", "matrix", "vector"):
            return "exact integers" if self.kind != "integer" else "an exact integer"
        return "exactly"

    def to_dict(self) -> dict[str, Any]:
        # What dataclasses.asdict gives (containers copied, choices as a list), without its generic walk:
        # a key of a thousand problems calls this tens of thousands of times (issue 12).
        return {"kind": self.kind, "value": _plain(self.value), "unit": self.unit, "sig": self.sig,
                "decimals": self.decimals, "choices": list(self.choices), "convertible": self.convertible}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Answer:
        return cls(**{**d, "choices": tuple(d.get("choices", ()))})


@dataclass(frozen=True)
class Part:
    """One answerable part; `id` is stable and unique within its problem."""

    id: str
    label: str
    answer: Answer

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "answer": self.answer.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Part:
        return cls(id=d["id"], label=d["label"], answer=Answer.from_dict(d["answer"]))


@dataclass(frozen=True)
class Step:
    """One step of a worked solution: prose (inline math in $…$) and an optional display equation (LaTeX)."""

    text: str
    math: str = ""


class _BuiltOnRead:
    """A field that may be given as a function of no arguments building its tuple: the function runs on the
    first read and its result is kept.  A sampler rejects most drawn instances on their key alone, so a solver
    that hands its worked solution over this way never formats steps for an instance no one sees (issue 12)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return ()  # the dataclass default
        value = obj.__dict__[self.slot]
        if callable(value):
            value = tuple(value())
            obj.__dict__[self.slot] = value
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.slot] = value if callable(value) else tuple(value)


@dataclass(frozen=True)
class Solution:
    """The key (parts), the worked solution (steps), and `shown`: material the *question* displays that the
    solver computes (an autodiff table with blanks) — so no template ever recomputes a value.

    `steps` and `shown` may be given as functions that build them, run on first read (`_BuiltOnRead`): the key
    is all that generation needs to accept or reject an instance."""

    parts: tuple[Part, ...]
    steps: tuple[Step, ...] = _BuiltOnRead()  # type: ignore[assignment]
    shown: tuple[Step, ...] = _BuiltOnRead()  # type: ignore[assignment]

    def part(self, part_id: str) -> Part:
        for p in self.parts:
            if p.id == part_id:
                return p
        raise KeyError(part_id)

    def value(self, part_id: str) -> Any:
        """The key's value of one part: what a named mistake or a student path starts from."""
        return self.part(part_id).answer.value

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (to another process: `exgen stress --jobs`) and deep-copied with its steps built: a function
        that would build them is a closure over the solver's locals, which pickle cannot carry."""
        return {"parts": self.parts, "_steps": self.steps, "_shown": self.shown}


@dataclass(frozen=True)
class Problem:
    """A problem instance: fixed by (topic, variant, difficulty, seed), or by givens a user typed in."""

    topic: str
    variant: str
    difficulty: str
    seed: int | None
    givens: dict[str, Any]
    solution: Solution = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The problem as key.json records it (a fresh dict, its own to change; givens shared)."""
        return {
            "topic": self.topic,
            "variant": self.variant,
            "difficulty": self.difficulty,
            "seed": self.seed,
            "givens": self.givens,
            "parts": [p.to_dict() for p in self.solution.parts],
            "steps": [{"text": s.text, "math": s.math} for s in self.solution.steps],
            "shown": [{"text": s.text, "math": s.math} for s in self.solution.shown],
        }

    @functools.cached_property
    def instance(self) -> str:
        """What the problem asks, as text (topic, variant, givens; not the seed): two problems with the same
        instance are the same question, which a sheet or an exam avoids handing out twice."""
        return json.dumps([self.topic, self.variant, self.givens], sort_keys=True)

    @functools.cached_property
    def record(self) -> dict[str, Any]:
        """`to_dict()`, built once and shared: read it, never change it.  A sheet serializes each problem
        twice (key.json, and the sheet id printed on answer sheets), so it is built once (issue 12)."""
        return self.to_dict()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Problem:
        solution = Solution(
            parts=tuple(Part.from_dict(p) for p in d["parts"]),
            steps=tuple(Step(**s) for s in d.get("steps", ())),
            shown=tuple(Step(**s) for s in d.get("shown", ())),
        )
        return cls(d["topic"], d["variant"], d["difficulty"], d.get("seed"), d["givens"], solution)


_ATOMS = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    """A copy of a value as `dataclasses.asdict` copies it: lists, tuples and dicts rebuilt, atoms shared."""
    if type(value) in _ATOMS:
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return type(value)((_plain(k), _plain(v)) for k, v in value.items())
    return copy.deepcopy(value)


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _entries(value: Any) -> list[Any]:
    """The entries of a number, vector or matrix value, flattened."""
    if isinstance(value, (list, tuple)):
        return [e for v in value for e in _entries(v)]
    return [value]
