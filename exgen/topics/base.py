"""The topic contract: what every topic module declares.

A topic is a plain `Topic` value built from functions (PrairieLearn's generate/grade style):
`sample(rng, variant, difficulty) -> givens` and `solve(variant, givens) -> Solution`, plus the variants'
documented givens (so `exgen solve` accepts a user's own instance) and named mistakes (for feedback and
distractors).  See docs/decisions.md for why a topic is data rather than a class hierarchy.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

from exgen.problem import Solution
from exgen.rng import Rng

_IMMUTABLE = (int, float, str, bool)  # defaults shared as they are; any other is copied per instance

DIFFICULTIES: tuple[str, ...] = ("easy", "medium", "hard")


class Rejected(Exception):
    """Raised by a sampler's checks for an instance that must not be asked (tie, degenerate range…)."""


class InvalidGivens(ValueError):
    """A user's givens do not describe a problem this variant can solve; the message says why."""


@dataclass(frozen=True)
class Given:
    """One documented given. kind: number | integer | matrix | vector | choice; `default` makes it optional.

    `low`/`high` bound a number or integer (and each entry of a matrix or vector) inclusively; `max_size`
    bounds the entries of a matrix or vector, or the characters of a text given.  Bounds are what keeps every
    answer finite and every computation small: a user's instance outside them is refused before any work.
    """

    name: str
    meaning: str
    kind: str = "number"
    unit: str = ""
    choices: tuple[str, ...] = ()
    default: Any = None
    low: float | None = None
    high: float | None = None
    max_size: int | None = None


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    givens: tuple[Given, ...]

    def complete(self, givens: dict[str, Any]) -> dict[str, Any]:
        """The givens with every omitted optional given set to its declared default (copied, so a mutable
        default is never shared): applied once where an instance enters, so no solver re-states a default."""
        defaults = {g.name: g.default if type(g.default) in _IMMUTABLE else copy.deepcopy(g.default)
                    for g in self.givens if g.default is not None}
        return {**defaults, **givens}

    def require(self, givens: dict[str, Any]) -> None:
        """Raise InvalidGivens naming every required given (one without a default) that is missing."""
        if self._required.issubset(givens):  # every draw's check asks this (issue 12)
            return
        missing = sorted(g.name for g in self.givens if g.default is None and g.name not in givens)
        raise InvalidGivens(f"missing given(s): {', '.join(missing)} (see `exgen topics`)")

    @cached_property
    def _required(self) -> frozenset[str]:
        return frozenset(g.name for g in self.givens if g.default is None)


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer to one part: `wrong(variant, givens, solution)` returns the value a student who
    makes it would give, or None where the mistake makes no difference for this instance.  `solution` is the
    key's solution of these givens (generation's, or the one a key file holds): a mistake that starts from the
    key's answers reads them there instead of solving again."""

    name: str
    part: str
    explanation: str
    variants: tuple[str, ...]
    wrong: Callable[[str, dict[str, Any], Solution], Any]


@dataclass(frozen=True)
class StudentPath:
    """A *correct* way a careful student may compute one part from what the question displays — the rounded
    values a table shows, their own rounded answer to an earlier part, float instead of exact arithmetic.
    `value(variant, givens, solution)` returns what that student answers, a tuple of the answers they may
    equally give (a rounded value at a tie held either way: `each`), or None where the path does not apply.
    The sampler rejects an instance where a path (any of its answers) lands outside the key's tolerance
    (DESIGN.md, "Fair questions"); a question that wants one path only says so in its wording instead."""

    name: str
    part: str
    explanation: str
    variants: tuple[str, ...]
    value: Callable[[str, dict[str, Any], Solution], Any]


def answers_of(value: Any) -> tuple:
    """A student path's answers: its tuple of alternatives, or its one value (None: none)."""
    return value if isinstance(value, tuple) else () if value is None else (value,)


def each(route: Callable[..., Any], *held: tuple) -> Any:
    """`route` over every combination of the values a student may hold (each a tuple, as `numfmt.held` gives),
    as a path's answer: the one value, or a tuple of the distinct alternatives (`route` may return a tuple)."""
    out: list = []
    for combo in itertools.product(*held):
        for v in answers_of(route(*combo)):
            if v not in out:
                out.append(v)
    return out[0] if len(out) == 1 else tuple(out)


@dataclass(frozen=True)
class Topic:
    name: str
    description: str
    variants: tuple[Variant, ...]
    sample: Callable[[Rng, str, str], dict[str, Any]]
    solve: Callable[[str, dict[str, Any]], Solution]
    mistakes: tuple[Mistake, ...] = field(default=())
    paths: tuple[StudentPath, ...] = field(default=())
    # (variant, givens, difficulty) -> values the question shows that follow from the givens (a node count,
    # q_max, bytes per dtype): computed by the topic, so no template does arithmetic. Templates read them as `q`.
    question_values: Callable[[str, dict[str, Any], str], dict[str, Any]] | None = None

    def variant(self, name: str) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        known = ", ".join(v.name for v in self.variants)
        raise KeyError(f"topic {self.name!r} has no variant {name!r} (variants: {known})")

    def mistakes_for(self, variant: str) -> tuple[Mistake, ...]:
        return self._by_variant[variant][0] if variant in self._by_variant else ()

    def paths_for(self, variant: str) -> tuple[StudentPath, ...]:
        return self._by_variant[variant][1] if variant in self._by_variant else ()

    @cached_property
    def _by_variant(self) -> dict[str, tuple[tuple[Mistake, ...], tuple[StudentPath, ...]]]:
        """Each variant's mistakes and student paths, sorted out once (generation asks for every draw)."""
        names = {v.name for v in self.variants} | {n for x in (*self.mistakes, *self.paths) for n in x.variants}
        return {name: (tuple(m for m in self.mistakes if name in m.variants),
                       tuple(p for p in self.paths if name in p.variants)) for name in names}
