"""The verifier: an independent torch reproduction of every answer in a key.

Each topic has a module here with `reproduce(variant, givens, device) -> {part id: value}` written from
the formulas' definitions with torch's own ops (quantize kernels, autograd, flop counters, collectives).
It never imports the topic's solver: agreement of two independent computations is what makes a key
trustworthy.  Imported only by `exgen verify` (torch is heavy).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from exgen.grading.compare import matches
from exgen.problem import Problem


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


def reproduce(problem: Problem, device: torch.device) -> dict[str, Any]:
    module = importlib.import_module(f"exgen.verify.{problem.topic}")
    return module.reproduce(problem.variant, problem.givens, device)


def verify_problems(problems: Sequence[Problem], device: str = "auto") -> tuple[list[Row], str]:
    """One row per part of every problem: the key, torch's value, and whether they agree in tolerance."""
    dev = resolve_device(device)
    rows = []
    for number, problem in enumerate(problems, 1):
        values = reproduce(problem, dev)
        for part in problem.solution.parts:
            got = values.get(part.id)
            rows.append(Row(f"{number}.{part.id}", _shorten(plain(part.answer.value)), _shorten(plain(got)),
                            got is not None and matches(part.answer, got)))
    used = str(dev)
    if any(p.topic == "parallelism" for p in problems):
        from exgen.verify.parallelism import use_device

        used += f"; collectives measured with {use_device(dev)}"
    return rows, used
