"""The integer helpers behind quantization's speed (issue 12) agree with the exact Fraction computations and the
shared formatting they replace: rounding, tie tests and matrix formatting."""

from __future__ import annotations

import random
from fractions import Fraction


from exgen import numfmt as nf
from exgen.topics import quantization as qz
from exgen.topics.quantization import _fast
from exgen.topics.quantization import libraries as qe


def _pairs(n: int = 3000):
    rng = random.Random(12)
    for _ in range(n):
        q = rng.choice([1, 2, 3, 4, 7, 10, 100, 800, rng.randint(1, 10**6)])
        p = rng.randint(-50 * q, 50 * q)
        if rng.random() < 0.2:
            p = (2 * rng.randint(-50, 50) + 1) * q // 2 if q % 2 == 0 else p  # exact halves
        yield p, q, rng.randint(1, 9)  # and an unreduced multiple


def test_integer_rounding_and_ties_agree_with_fractions():
    for p, q, k in _pairs():
        x = Fraction(p, q)
        assert _fast.round_away(p * k, q * k) == qz.round_half_away(x)
        assert _fast.round_even(p * k, q * k) == round(x)
        assert _fast.near_tie(p * k, q * k) == qz.near_tie(x) == qe.near_tie(x)
        assert _fast.near_tie(p * k, q * k, 1, 5) == qe.near_tie(x, Fraction(1, 5))


def test_scaled_matrix_is_the_decimals_read():
    rows = ((1.5, -0.25, 3.0), (0.1, 2.0, -0.0), (7, 0.005, -1e-05))
    d, a = _fast.scaled(rows)
    assert all(Fraction(v, d) == Fraction(str(x)) for row, arow in zip(rows, a) for x, v in zip(row, arow))
    assert d == 100000


def test_matrix_formatting_matches_numfmt():
    rng = random.Random(3)
    rows = [[rng.choice([-0.0001, 0.0, -0.0, 1.23456, -2.5, 1e-9, -1e-9, 12345.678]) for _ in range(4)]
            for _ in range(3)]
    for d in range(0, 6):
        assert _fast.fixed_matrix(rows, d) == nf.matrix(rows, lambda v: nf.fixed(v, d))
    ints = [[1, -2, 0], [3, 4, -5]]
    assert _fast.text_matrix(ints) == nf.matrix(ints)
    marked = [[r"\boxed{3}", "1"], ["-2", "0"]]
    assert _fast.text_matrix(marked) == nf.matrix(marked, str)
