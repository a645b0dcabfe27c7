"""Exact arithmetic of a trace: values are Fractions while only +, -, x, / and squares are involved, floats once
a transcendental op enters; Python's own operators on them, faster (the same values and types), a bound on a
value's size, and the domain error of an elementary op."""

from __future__ import annotations

import math
from fractions import Fraction

Value = Fraction | float
MAX_MAGNITUDE = 1e12  # no value of a user's trace beyond this (40 chained squarings would never end)
MAX_BITS = 256       # an exact fraction with more bits than this continues as a float


ZERO, ONE, MINUS_ONE, TWO = Fraction(0), Fraction(1), Fraction(-1), Fraction(2)  # built once: Fraction() is slow


class Undefined(ArithmeticError):
    """An elementary op outside its domain (log of a non-positive number, division by zero, overflow)."""


def _exact(v: Value) -> Value:
    return v


def _bounded_value(v: Value) -> Value:
    """A value kept small enough to compute with: an exact fraction whose digits grow (chained squarings of a
    short decimal) continues as a float; a magnitude beyond MAX_MAGNITUDE is refused (it is no table cell)."""
    if type(v) is float:
        if -MAX_MAGNITUDE <= v <= MAX_MAGNITUDE:
            return v
        raise Undefined(f"a value exceeds {MAX_MAGNITUDE:g} in magnitude")
    if v is ZERO or v is ONE or v is MINUS_ONE:
        return v
    if type(v) is Fraction:
        n, d = v.as_integer_ratio()
        try:
            if n.bit_length() > MAX_BITS or d.bit_length() > MAX_BITS:
                v = n / d  # float(v)
                f = v
            else:
                f = n / d
        except OverflowError:
            raise Undefined(f"a value exceeds {MAX_MAGNITUDE:g} in magnitude") from None
    else:
        try:
            f = float(v)
        except OverflowError:
            raise Undefined(f"a value exceeds {MAX_MAGNITUDE:g} in magnitude") from None
    if not -MAX_MAGNITUDE <= f <= MAX_MAGNITUDE:
        raise Undefined(f"a value exceeds {MAX_MAGNITUDE:g} in magnitude")
    return v


# Python's own arithmetic on a Fraction or float, faster: each gives the value AND the type the plain operator
# gives, so every trace stays byte-identical.  Shortcuts for what a trace hits most (a tangent seeded on one input
# is 0 on every node that does not depend on it; add and sub have partials ±1): 1 * f is f for every float too,
# but 0 * f is not 0 for a float f (its sign and inf/nan survive), so only an exact 0 is shortcut.  Two Fractions
# are multiplied and added as fractions.py does it (Fraction._mul, Fraction._add), without its operator dispatch.
def _coprime(n: int, d: int) -> Fraction:
    """n/d, already in lowest terms with d > 0, as a Fraction without normalising it again (what Python 3.12's
    Fraction._from_coprime_ints does)."""
    f = _new(Fraction)
    f._numerator = n  # type: ignore[attr-defined]
    f._denominator = d  # type: ignore[attr-defined]
    return f


_new, _gcd = object.__new__, math.gcd


def _mul(a: Value, b: Value) -> Value:
    if a is ONE:
        return b
    if b is ONE:
        return a
    if type(a) is Fraction and type(b) is Fraction:
        na, da, nb, db = a._numerator, a._denominator, b._numerator, b._denominator  # type: ignore[attr-defined]
        if not na or not nb:
            return ZERO
        g1 = _gcd(na, db)
        if g1 > 1:
            na //= g1
            db //= g1
        g2 = _gcd(nb, da)
        if g2 > 1:
            nb //= g2
            da //= g2
        return _coprime(na * nb, da * db)
    if type(a) is float and type(b) is Fraction:  # a Fraction meets a float as its float, n / d
        return a * (b._numerator / b._denominator)  # type: ignore[attr-defined]
    if type(b) is float and type(a) is Fraction:
        return (a._numerator / a._denominator) * b  # type: ignore[attr-defined]
    return a * b


def _add(a: Value, b: Value) -> Value:
    if type(a) is Fraction and type(b) is Fraction:
        na, da, nb, db = a._numerator, a._denominator, b._numerator, b._denominator  # type: ignore[attr-defined]
        if not na:
            return b
        if not nb:
            return a
        g = _gcd(da, db)
        if g == 1:
            return _coprime(na * db + da * nb, da * db)
        s = da // g
        t = na * (db // g) + nb * s
        g2 = _gcd(t, g)
        if g2 == 1:
            return _coprime(t, s * db)
        return _coprime(t // g2, s * (db // g2))
    if type(a) is float and type(b) is Fraction:
        return a + b._numerator / b._denominator  # type: ignore[attr-defined]
    if type(b) is float and type(a) is Fraction:
        return a._numerator / a._denominator + b  # type: ignore[attr-defined]
    return a + b


def _sub(a: Value, b: Value) -> Value:
    if type(a) is Fraction and type(b) is Fraction:
        return _add(a, _coprime(-b._numerator, b._denominator))  # type: ignore[attr-defined]
    return a - b


def _fraction_slots_work() -> bool:
    """Whether Fraction keeps its integers in the slots read and written above (CPython 3.10 to 3.13 do)."""
    try:
        a, b = Fraction(-3, 4), Fraction(5, 6)
        return (_mul(a, b) == a * b and _add(a, b) == a + b and _sub(a, b) == a - b
                and str(_coprime(-3, 4)) == "-3/4" and hash(_coprime(-3, 4)) == hash(a))
    except (AttributeError, TypeError):
        return False


FAST_FRACTIONS = _fraction_slots_work()
if not FAST_FRACTIONS:  # Python's own operators: slower, the same values
    def _mul(a: Value, b: Value) -> Value:  # noqa: F811
        return a * b

    def _add(a: Value, b: Value) -> Value:  # noqa: F811
        return a + b

    def _sub(a: Value, b: Value) -> Value:  # noqa: F811
        return a - b


def _float(v: Value) -> float:
    """float(v), a Fraction's integers divided directly (what float() does, without numbers.Rational's path)."""
    return v.numerator / v.denominator if type(v) is Fraction else float(v)
