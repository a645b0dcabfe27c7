"""Exact values of the givens, converted once: `Fraction(str(v))` (the decimal a student reads) costs tens of
microseconds, and a sampled instance reads the same few hundred grid values again and again (issue 12)."""

from __future__ import annotations

import functools
import math
from functools import lru_cache
from typing import Any

from exgen import numfmt
from exgen.exact import decimal as fr

_LIMIT = 100_000




def ratio(v: Any) -> tuple[int, int]:
    """The exact decimal of a given as (numerator, denominator), denominator > 0, in lowest terms."""
    f = fr(v)
    return f.numerator, f.denominator


def memo(maxsize: int = 256):
    """lru_cache for a computation keyed on givens: a sampled instance is solved, checked against its mistakes
    and its student paths from one computation.  A key that cannot be hashed (a list passed where a choice
    belongs, by a caller that skipped `exgen.givens`) is computed uncached, as before the cache."""
    def wrap(fn):
        cached = lru_cache(maxsize=maxsize)(fn)

        @functools.wraps(fn)
        def call(*args):
            try:
                return cached(*args)
            except TypeError:
                return fn(*args)
        call.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        return call
    return wrap


# ---- rounding p/q (q > 0) in integers: what the solvers' Fraction rounding gives, without a Fraction ------


def round_away(p: int, q: int) -> int:
    """round(p/q), halves away from zero."""
    n = (2 * abs(p) + q) // (2 * q)
    return n if p >= 0 else -n


def round_even(p: int, q: int) -> int:
    """round(p/q), halves to even (Python's round of a Fraction)."""
    fl, rem = divmod(p, q)
    twice = 2 * rem
    if twice < q:
        return fl
    if twice > q:
        return fl + 1
    return fl + (fl & 1)


def near_tie(p: int, q: int, m_num: int = 1, m_den: int = 20) -> bool:
    """Whether p/q lies within m_num/m_den of a .5 boundary: |frac(p/q) − 1/2| < m, in integers."""
    return abs(2 * m_den * (p % q) - m_den * q) < 2 * m_num * q


# ---- the bounds check of a given, without re-parsing a value that is already of its kind -------------------

_NUMBER = (float, int)


_PAIRS: dict[float, tuple[int, int]] = {}


def _pair(v: Any) -> tuple[int, int]:
    f = fr(v)
    pair = f.numerator, f.denominator
    if type(v) is float:
        if len(_PAIRS) >= _LIMIT:
            _PAIRS.clear()
        _PAIRS[v] = pair
    return pair


@memo(16)
def scaled(rows: tuple[tuple[Any, ...], ...]) -> tuple[int, tuple[tuple[int, ...], ...]]:
    """A matrix given as integers over one common denominator D: (D, rows of numerators), exactly the decimals
    the student reads (x_ij = A_ij / D)."""
    get = _PAIRS.get
    d = 1
    pairs = []
    for row in rows:
        out = []
        for v in row:
            pair = get(v) if type(v) is float else None
            if pair is None:
                pair = _pair(v)
            if d % pair[1]:
                d = math.lcm(d, pair[1])
            out.append(pair)
        pairs.append(out)
    return d, tuple(tuple(n * (d // q) for n, q in row) for row in pairs)


def decimals_of_den(den: int, cap: int = 6) -> int:
    """The fewest decimals that write a value of (lowest-terms) denominator `den` exactly, at most `cap`."""
    for d in range(cap + 1):
        if 10**d % den == 0:
            return d
    return cap


def error_of(nums: list[int], e: int, metric: str) -> float:
    """The error of a matrix difference given exactly as nums/e (e > 0): the largest |entry|, the mean of the
    squares, or the Frobenius norm — the float of the exact value, as the Fraction computation gives it."""
    if metric == "max_abs":
        return max(abs(v) for v in nums) / e
    squares = sum(v * v for v in nums)
    if metric == "mse":
        return squares / (e * e * len(nums))
    return math.sqrt(squares / (e * e))


# ---- LaTeX matrices as numfmt.matrix writes them, without a call per entry --------------------------------


def fixed_matrix(rows: Any, decimals: int) -> str:
    """numfmt.matrix(rows, lambda v: numfmt.fixed(v, decimals)) for a matrix of floats (a tie is numfmt's)."""
    spec = f".{decimals}f"
    lines = []
    for row in rows:
        cells = [format(v, spec) if numfmt.float_rounding_agrees(v, decimals=decimals) else numfmt.fixed(v, decimals)
                 for v in row]
        for i, t in enumerate(cells):
            if t[0] == "-" and not t.strip("-0."):  # "-0.00" is written "0.00"
                cells[i] = t[1:]
        lines.append(" & ".join(cells))
    return r"\begin{bmatrix} " + r" \\ ".join(lines) + r" \end{bmatrix}"


def text_matrix(rows: Any) -> str:
    """numfmt.matrix(rows, str) (and numfmt.matrix(rows) for a matrix of ints)."""
    return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(map(str, row)) for row in rows) + r" \end{bmatrix}"
