"""Parallelism: student paths — correct floating-point ways to the bubble target's micro-batches."""

from __future__ import annotations

import math
from typing import Any

from exgen.problem import Solution
from exgen.topics.base import StudentPath
from exgen.topics.parallelism.common import largest_micro_batch, smallest_split


# Correct ways to compute a part from what the page shows.
# Every question asks for each part from the givens ("not from a rounded answer to an earlier part"), and the
# byte counts are exact products of integers, so the remaining ways a careful student can differ from the key
# are floating-point ones: at the "at most" boundary of the bubble target (p−1)(1−f)/f is an integer that a
# float computation lands just above, and its ceiling is one too many (issue 9: p = 4, f = 0.2 gives
# 12.000000000000002, so ceil gives 13).  The paths below declare two such ways; since other evaluation orders
# round differently again, the sampler draws no target that sits exactly on a bubble (`sample`, Rejected).


def _answer_from(variant: str, g: dict[str, Any], m: int) -> int | None:
    """What the student answers from their smallest m: bubble's split of the batch, or layout's micro-batch size."""
    if variant == "bubble":
        return smallest_split(m, g.get("batch", 0))
    replica = g["global_batch"] * g["tp"] * g["pp"] // g["gpus"]
    return largest_micro_batch(replica, m) if g.get("target") and m <= replica else None


def _float_ceil(variant: str, g: dict[str, Any], solution: Solution) -> int | None:
    """m = ceil((p−1)(1−f)/f) evaluated in floating point, as a calculator or Python does."""
    p, f = g.get("stages", g.get("pp")), float(g.get("target") or 0.5)
    return _answer_from(variant, g, max(1, math.ceil((p - 1) * (1 - f) / f)))


def _float_scan(variant: str, g: dict[str, Any], solution: Solution) -> int | None:
    """The first m whose bubble (p−1)/(m+p−1), evaluated in floating point, is at most f."""
    p, f = g.get("stages", g.get("pp")), float(g.get("target") or 0.5)
    m = max(1, math.floor((p - 1) * (1 - f) / f) - 2)
    while (p - 1) / (m + p - 1) > f:
        m += 1
    return _answer_from(variant, g, m)


PATHS = (
    StudentPath("float_ceiling", "min_micro_batches", _float_ceil.__doc__, ("bubble",), _float_ceil),
    StudentPath("float_scan", "min_micro_batches", _float_scan.__doc__, ("bubble",), _float_scan),
    StudentPath("float_ceiling", "max_micro_batch", _float_ceil.__doc__, ("layout_3d",), _float_ceil),
    StudentPath("float_scan", "max_micro_batch", _float_scan.__doc__, ("layout_3d",), _float_scan),
)
