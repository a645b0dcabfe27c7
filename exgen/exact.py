"""The exact value of a number a problem gives: the decimal it is written as.

Solvers compute keys in exact arithmetic from the givens as a student reads them — 0.1 is 1/10, not the
binary double nearest to it — so a given converts as `Fraction(str(x))` (a float's shortest repr).  Parsing
that string is slow, and one draw converts the same few givens many times (its sampler, solver, named
mistakes and student paths: issue 12), so the last conversions are kept.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

_KEPT = 4096  # conversions kept: a quantization sheet reads a few thousand grid values again and again
_DECIMALS: dict[tuple[type, Any], Fraction] = {}


def decimal(x: Any) -> Fraction:
    """`Fraction(str(x))`, remembered by type and value (1 and 1.0 are equal keys but are written differently
    in general, so the type is part of the key).  Whatever Fraction refuses, this refuses the same way."""
    key = (x.__class__, x)
    try:
        value = _DECIMALS.get(key)
    except TypeError:  # unhashable (a list where a number belongs): Fraction names the problem
        return Fraction(str(x))
    if value is None:
        if len(_DECIMALS) >= _KEPT:
            _DECIMALS.clear()
        value = _DECIMALS[key] = Fraction(str(x))
    return value
