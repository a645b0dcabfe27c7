"""Parallelism: `solve` — completes and checks a variant's givens and runs its solver."""

from __future__ import annotations

from typing import Any

from exgen.problem import Solution
from exgen.topics.parallelism.collectives import _solve_collectives, _solve_ring, _solve_schedules, _solve_zero
from exgen.topics.parallelism.data import _solve_data_parallel, _solve_fsdp
from exgen.topics.parallelism.givens import _DEFAULTED, _SPECS, _check
from exgen.topics.parallelism.homework2 import _solve_homework2
from exgen.topics.parallelism.pipeline import _solve_bubble, _solve_layout, _solve_pipeline
from exgen.topics.parallelism.tensor import _solve_sequence_parallel, _solve_tensor_parallel


_SOLVERS = {"data_parallel": _solve_data_parallel, "pipeline": _solve_pipeline,
            "tensor_parallel": _solve_tensor_parallel, "sequence_parallel": _solve_sequence_parallel,
            "fsdp": _solve_fsdp, "ring": _solve_ring, "collectives": _solve_collectives, "zero_volume": _solve_zero,
            "bubble_schedules": _solve_schedules,
            "bubble": _solve_bubble, "layout_3d": _solve_layout, "homework2": _solve_homework2}


def solve(variant: str, givens: dict[str, Any]) -> Solution:
    # a copy, with the optional twists' defaults (givens the sampler completed already have every one)
    g = dict(givens) if _DEFAULTED[variant].issubset(givens) else _SPECS[variant].complete(givens)
    _check(variant, g)
    return _SOLVERS[variant](g)

