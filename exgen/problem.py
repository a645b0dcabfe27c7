"""The problem model: Problem, Part, Answer, Step — plain dataclasses with a JSON round-trip.

An answer carries its own precision; the tolerance a grader applies is derived from it in one place
(`Answer.tolerance`), so the precision a question asks for and the tolerance it is graded with agree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

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
        if self.kind == "choice" and self.value not in self.choices:
            raise ValueError(f"choice {self.value!r} is not among {self.choices}")

    @property
    def tolerance(self) -> tuple[float, float]:
        """(relative, absolute) tolerance: one unit in the last place the question asks for.

        `sig` s gives a relative 10^(1−s) (a leading digit 1 rounded to s figures errs by at most half of
        that); `decimals` d gives an absolute 10^(−d); exact answers get (0, 0).
        """
        if self.sig is not None:
            return 10.0 ** (1 - self.sig), 0.0
        if self.decimals is not None:
            return 0.0, 10.0 ** (-self.decimals)
        return 0.0, 0.0

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
        d = asdict(self)
        d["choices"] = list(self.choices)
        return d

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


@dataclass(frozen=True)
class Solution:
    """The key (parts), the worked solution (steps), and `shown`: material the *question* displays that the
    solver computes (an autodiff table with blanks) — so no template ever recomputes a value."""

    parts: tuple[Part, ...]
    steps: tuple[Step, ...] = ()
    shown: tuple[Step, ...] = ()

    def part(self, part_id: str) -> Part:
        for p in self.parts:
            if p.id == part_id:
                return p
        raise KeyError(part_id)


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
        return {
            "topic": self.topic,
            "variant": self.variant,
            "difficulty": self.difficulty,
            "seed": self.seed,
            "givens": self.givens,
            "parts": [p.to_dict() for p in self.solution.parts],
            "steps": [asdict(s) for s in self.solution.steps],
            "shown": [asdict(s) for s in self.solution.shown],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Problem:
        solution = Solution(
            parts=tuple(Part.from_dict(p) for p in d["parts"]),
            steps=tuple(Step(**s) for s in d.get("steps", ())),
            shown=tuple(Step(**s) for s in d.get("shown", ())),
        )
        return cls(d["topic"], d["variant"], d["difficulty"], d.get("seed"), d["givens"], solution)
