"""The verifier: an independent torch reproduction of every answer in a key.

Each topic has a module here with `reproduce(variant, givens, device) -> {part id: value}` written from
the formulas' definitions with torch's own ops (quantize kernels, autograd, flop counters, collectives).
It never imports the topic's solver: agreement of two independent computations is what makes a key
trustworthy.  Imported only by `exgen verify` (torch is heavy).
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from exgen.grading.compare import expression_matches
from exgen.problem import Answer, Problem

# How close torch's value must be to a key's number: far inside the grader's one unit in the last asked place,
# which would let a key off by one unit pass.  Both sides are float64; the largest gaps measured over every
# variant, difficulty and many seeds are 1e-11 relative and 5e-16 absolute at a key of 0 (docs/decisions.md).
REL = 1e-9
ABS = 1e-9  # near 0: an error of 0 computed as x − x̂ from |x| up to 10^6 in float64
FRACTION = 1e-3  # of a unit of the asked place: a key asking for 10+ digits is still held below one unit


@dataclass(frozen=True)
class Row:
    part: str
    key: str
    reproduced: str
    agree: bool


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: torch sees no CUDA device here")
    return torch.device(name)


def plain(value: Any) -> str:
    """A compact one-line rendering of a value for the verify table."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + ", ".join(plain(v) for v in value) + "]"
    return str(value)


def _shorten(text: str, width: int = 28) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _entry_agrees(answer: Answer, key: Any, got: Any) -> bool:
    """A number within REL of the key (ABS near 0), and never more than FRACTION of a unit of the asked place:
    bounded by the verifier, not the key, so an edited sig/decimals can only tighten it.  A key asking for no
    precision is exact."""
    if isinstance(got, bool) or not isinstance(got, (int, float)) or not isinstance(key, (int, float)):
        return False
    if answer.sig is None and answer.decimals is None:
        return float(got) == float(key)
    if not (math.isfinite(key) and math.isfinite(got)):
        return False
    tol = min(max(REL * max(abs(key), abs(got)), ABS), FRACTION * answer.allowance(key))
    return abs(float(got) - float(key)) <= tol


def agrees(answer: Answer, got: Any) -> bool:
    """Whether torch's value is the key: numbers at the verifier's tight tolerance, every other kind exactly
    (choices by name, expressions symbolically)."""
    if answer.kind in ("number", "integer"):
        return _entry_agrees(answer, answer.value, got)
    if answer.kind in ("vector", "matrix"):
        if not isinstance(got, (list, tuple)) or len(got) != len(answer.value):
            return False
        if answer.kind == "matrix" and any(not isinstance(g, (list, tuple)) or len(g) != len(k)
                                           for k, g in zip(answer.value, got)):
            return False
        pairs = zip(answer.value, got)
        if answer.kind == "matrix":
            pairs = ((k, g) for krow, grow in pairs for k, g in zip(krow, grow))
        return all(_entry_agrees(answer, k, g) for k, g in pairs)
    if answer.kind == "expression":
        return expression_matches(answer, got)
    return got == answer.value


def reproduce(problem: Problem, device: torch.device) -> dict[str, Any]:
    module = importlib.import_module(f"exgen.verify.{problem.topic}")
    return module.reproduce(problem.variant, problem.givens, device)


def shown_cells(problem: Problem, values: dict[str, Any]) -> list[tuple[str, Any, bool]]:
    """(cell, value shown, agrees) for the values a question prints for the student (a topic's `shown_cells`)."""
    module = importlib.import_module(f"exgen.verify.{problem.topic}")
    return module.shown_cells(problem, values) if hasattr(module, "shown_cells") else []


def _with_value(answer: Answer, value: Any) -> Answer | None:
    try:
        return dataclasses.replace(answer, value=value)
    except (ValueError, TypeError, ArithmeticError):  # a value the part cannot hold (a 0 asked to sig figs)
        return None


def choice_row(name: str, answer: Answer, choice: dict[str, Any], got: Any) -> Row:
    """A part an exam asks as multiple choice, as the grader marks it (by letter): the option at the correct
    letter agrees with torch's value at the verifier's tolerance (an exam stores the key's value unrounded),
    and every other option is clearly wrong by the exam's own rule (more than 3 units in the last asked place
    from torch's value), so a student who is right picks exactly one letter."""
    from exgen.exam.build import clearly_wrong

    def distinct(option: Any) -> bool:
        try:
            return at_got is not None and clearly_wrong(at_got, option)
        except (ValueError, TypeError, ArithmeticError):  # a hand-edited option that is no value of this part
            return False

    options, letter = choice["options"], choice["correct"]
    index = ord(letter) - ord("A")
    correct = _with_value(answer, options[index])
    at_got = None if got is None else _with_value(answer, got)
    close = [chr(ord("A") + i) for i, option in enumerate(options) if i != index and not distinct(option)]
    ok = got is not None and correct is not None and agrees(correct, got) and not close
    key = f"{letter}: {plain(options[index])}" + (f"; {','.join(close)} too close" if close else "")
    return Row(f"{name} (choice {letter})", _shorten(key), _shorten(plain(got)), ok)


def verify_problems(problems: Sequence[Problem], device: str = "auto",
                    choices: dict[str, dict[str, Any]] | None = None) -> tuple[list[Row], str]:
    """One row per part of every problem (and per value a question shows, and per part an exam key asks as a
    choice, from its `meta.choices`): the key, torch's value, and whether they agree (`agrees`)."""
    dev = resolve_device(device)
    rows = []
    choices = choices or {}
    for number, problem in enumerate(problems, 1):
        values = reproduce(problem, dev)
        for part in problem.solution.parts:
            got = values.get(part.id)
            rows.append(Row(f"{number}.{part.id}", _shorten(plain(part.answer.value)), _shorten(plain(got)),
                            got is not None and agrees(part.answer, got)))
            if part.id in choices.get(str(number), {}):
                rows.append(choice_row(f"{number}.{part.id}", part.answer, choices[str(number)][part.id], got))
        for cell, shown, ok in shown_cells(problem, values):
            rows.append(Row(f"{number}.{cell} (shown)", _shorten(plain(shown)), _shorten(plain(values.get(cell))), ok))
    used = str(dev)
    if any(p.topic == "parallelism" for p in problems):
        from exgen.verify.parallelism import use_device

        used += f"; collectives measured with {use_device(dev)}"
    return rows, used
