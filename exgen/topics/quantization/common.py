"""What the linear variants (affine, absmax, per_channel, storage) share: the tie margin, the error metrics and
byte units, integer ranges and the hand rounding rule (half away from zero), and small matrix helpers."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from exgen import numfmt as nf

TIE_MARGIN = Fraction(1, 20)
ERROR_METRICS = ("max_abs", "frobenius", "mse")
BYTES_PER_GB = 10**9
BYTES_PER_GIB = 2**30


# ---- integer ranges and rounding -------------------------------------------------------------------


def int_range(bits: int, signed: bool) -> tuple[int, int]:
    """[q_min, q_max] of a b-bit integer: signed is two's complement."""
    return (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)


def range_sentence(bits: int, signed: bool) -> str:
    """'An 8-bit signed integer takes values q_min = -128 to q_max = 127.' (the article read aloud: an eight)."""
    qmin, qmax = int_range(bits, signed)
    return (f"{nf.article(bits).capitalize()} {bits}-bit {'signed' if signed else 'unsigned'} integer takes values $q_{{\\min}} = {qmin}$ "
            f"to $q_{{\\max}} = {qmax}$.")


def round_half_away(x: Fraction | float) -> int:
    """Round to nearest, ties away from zero (the hand convention, stated in every question)."""
    if isinstance(x, float):
        n = math.floor(abs(x) + 0.5)
    else:  # floor(|p/q| + 1/2) in integers: Fraction arithmetic dominates sampling time otherwise
        n = (2 * abs(x.numerator) + x.denominator) // (2 * x.denominator)
    return n if x >= 0 else -n


def near_tie(x: Fraction, margin: Fraction = TIE_MARGIN) -> bool:
    """Whether x lies within margin of a .5 boundary: |frac(x) − 1/2| < m, in integers."""
    p, q = x.numerator, x.denominator
    m = margin
    return abs(2 * m.denominator * (p % q) - m.denominator * q) < 2 * m.numerator * q


def clamp(q: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, q))


def flat(m: list[list[Any]]) -> list[Any]:
    return [v for row in m for v in row]


METRIC_TEX = {
    "max_abs": r"\max_{ij} |X_{ij} - \hat X_{ij}|",
    "frobenius": r"\lVert X - \hat X \rVert_F = \sqrt{\textstyle\sum_{ij} (X_{ij} - \hat X_{ij})^2}",
    "mse": r"\frac{1}{mn} \sum_{ij} (X_{ij} - \hat X_{ij})^2",
}


def _transpose(m: list[list[Any]]) -> list[list[Any]]:
    return [list(col) for col in zip(*m)]
