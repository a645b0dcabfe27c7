"""Number formatting shared by solvers (worked-solution steps) and renderers (givens, keys).

A value printed to a precision (a key, a worked-solution figure) is rounded **half away from zero** (41.15 to
3 figures is 41.2, -2.5 to 0 decimals is -3) — the rule the questions state where they state one — from the
decimal the solver meant rather than the binary float (whose 41.15 is 41.1499…): see `_ratio`.  A question
accepts one unit in its last asked place, so a student who rounds a tie the other way is graded right too.
Rounding is integer arithmetic, and formatting Python's correctly rounded float formatting, both identical on
every platform, so rendered bytes are deterministic.  Output is LaTeX math (valid inside $…$ in Markdown too).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction
from typing import Iterable, Sequence

Real = float | int | Fraction


def _clean(text: str) -> str:
    return "0" + text[2:] if text.startswith("-0") and not any(c in "123456789" for c in text) else text


def _ratio(x: Real) -> tuple[int, int]:
    """The value a solver meant, as numerator and denominator: a Fraction or int exactly; a float as its
    shortest repr, the decimal it was written from when it came from decimal data (41.15, not the 41.1499…
    the float holds).  A float computed in binary steps is within an ulp of its exact value either way, so
    only a tie can read differently, and a key at an exact half is what the solver meant."""
    if type(x) is float:
        return Decimal(repr(x)).as_integer_ratio()
    if isinstance(x, (int, Fraction)):
        return x.numerator, x.denominator
    if isinstance(x, Decimal):  # a student path's exact sum of decimals (chinchilla)
        return x.as_integer_ratio()
    return Decimal(repr(float(x))).as_integer_ratio()


def _half_up(x: Real, exponent: int | None = None, figures: int = 0) -> str:
    """`x` rounded half away from zero to a multiple of 10^exponent (or of one unit in its `figures`-th
    significant figure), exactly, as a decimal string such as "-412e-1"."""
    num, den = _ratio(x)
    a, b = abs(num), den
    if exponent is None:  # floor(log10(a/b)) - figures + 1
        if a == 0:
            return "0"
        e = len(str(a)) - len(str(b))
        exponent = (e if (a >= b * 10**e if e >= 0 else a * 10**-e >= b) else e - 1) - figures + 1
    if exponent >= 0:
        b *= 10**exponent
    else:
        a *= 10**-exponent
    return f"{'-' if num < 0 else ''}{(2 * a + b) // (2 * b)}e{exponent}"


def float_rounding_agrees(x: float, figures: int | None = None, decimals: int | None = None) -> bool:
    """Whether Python's own formatting of the float `x` to `figures` (or `decimals`) prints what `sig` (or
    `fixed`) does: yes unless `x` to one place more ends in 5, where a tie may be near.  The fast path of
    solvers that print hundreds of thousands of values, and of their own matrix formatters."""
    if not math.isfinite(x):
        return True
    if figures is not None:
        text = f"{x:.{figures}e}"
        return text[text.index("e") - 1] != "5"
    return abs(x) < 1e15 and f"{x:.{decimals + 1}f}"[-1] != "5"


def _near(x: Real) -> float | None:
    """`x` as a float for the fast path: within an ulp of an int's or a Fraction's exact value, so that a tie
    of the exact value still shows as a 5 in `float_rounding_agrees` (None: too large for a float)."""
    if type(x) is float:
        return x
    try:
        return x.numerator / x.denominator if type(x) is Fraction else float(x)
    except OverflowError:
        return None


def fixed(x: Real, decimals: int) -> str:
    """`x` with exactly `decimals` decimals, halves away from zero ("-0.00" is written "0.00")."""
    near = _near(x)
    if near is not None and float_rounding_agrees(near, decimals=decimals):
        return _clean(f"{near:.{decimals}f}")
    return _clean(f"{Decimal(_half_up(x, -decimals)):.{decimals}f}")


def rounded(x: Real, figures: int | None = None, decimals: int | None = None) -> float:
    """`x` to `figures` significant figures or `decimals` decimals, halves away from zero, as the float that
    Python's formatting to that precision prints back as the same decimal (for plain-text keys)."""
    if isinstance(x, float) and not math.isfinite(x):
        return x
    return float(_half_up(x, -decimals) if decimals is not None else _half_up(x, figures=figures))


def round_sig(x: Real, figures: int) -> float:
    """`x` rounded to `figures` significant figures the binary float's way (a tie goes to whichever side the
    float lies, or to even), as a number: a sampler's rounded given (a student path uses `held`, both neighbours
    of a tie).  Printing rounds ties half away from zero instead (`sig`); the sampled instances never change with
    it."""
    return float(f"{float(x):.{figures - 1}e}")


def held(x: Real, figures: int | None = None, decimals: int | None = None) -> tuple[float, ...]:
    """The values a student may hold for `x` rounded to `figures` significant figures (or `decimals`): its one
    rounding, or at a tie both neighbours (the printed solutions round it away from zero, ties to even or the
    float's own formatting may go the other way).  A tie is the decimal the solver meant (`_ratio`) at an exact
    half, or a float within 2^-40 of one (a value computed in binary steps whose exact value is a half).  A
    student path evaluates each, so the sampler rejects an instance where either misses the key."""
    if isinstance(x, float) and not math.isfinite(x) or x == 0:
        return (float(x),)
    if type(x) is float and float_rounding_agrees(x, figures, decimals):  # no half within reach: the fast path
        return (float(f"{x:.{figures - 1}e}" if decimals is None else f"{x:.{decimals}f}"),)
    num, den = _ratio(x)
    exponent = -decimals if decimals is not None else int(_half_up(x, figures=figures).partition("e")[2])
    unit = Fraction(10) ** exponent
    q = Fraction(abs(num), den) / unit
    low = math.floor(q)
    if abs(q - low - Fraction(1, 2)) * unit > Fraction(abs(num), den) * Fraction(1, 2**40):
        return (rounded(x, figures, decimals),)
    sign = -1 if num < 0 else 1
    return tuple(float(Decimal(sign * n) * Decimal(10) ** exponent) for n in (low + 1, low))


def sig(x: Real, figures: int, trim: bool = True) -> str:
    """`x` to `figures` significant figures (halves away from zero) in LaTeX, ×10^k where Python's `g` would
    write an exponent; `trim=False` keeps the trailing zeros that make the stated precision visible (1.70 to 3
    figures)."""
    near = _near(x)
    x = near if near is not None and float_rounding_agrees(near, figures) else rounded(x, figures)  # (≤ 15
    # figures: the rounded float prints back as the same decimal)
    if x == 0:
        return "0"
    text = f"{x:{'' if trim else '#'}.{figures}g}".rstrip(".").replace(".e", "e")
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return _clean(text)


def num(x: Real) -> str:
    """A given as the student sees it: integers bare, decimals as short as round-trips."""
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e15):
        return str(int(x))
    return _clean(repr(float(x)))


def plural(n: Real, word: str, words: str | None = None) -> str:
    """`word` after the count `n`: singular for exactly one ("1 byte", "2 bytes", "0.5 bytes")."""
    return word if n == 1 else words or word + "s"


def article(n: Real) -> str:
    """"a" or "an" before the number `n` read aloud: "an" where its first word is eight, eleven or eighteen (an
    8-bit, an 80 GB, an 11-bit, an 18000-token), else "a" (a 16-bit, a 1100-token)."""
    digits = str(abs(n)).split(".")[0]
    lead = digits[:len(digits) % 3 or 3]  # the leading group of thousands: 18 of 18000, 1 of 1100
    return "an" if digits.startswith("8") or lead in ("11", "18") else "a"


def signed(text: str) -> str:
    """Parenthesise a negative number inside a formula: 1 - (-2)."""
    return f"({text})" if text.startswith("-") else text


def matrix(rows: Iterable[Sequence[Real]], fmt=num) -> str:
    """A LaTeX bmatrix."""
    body = r" \\ ".join(" & ".join(fmt(v) for v in row) for row in rows)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


def vector(values: Sequence[Real], fmt=num) -> str:
    """A LaTeX row vector (a 1×n bmatrix)."""
    return matrix([values], fmt)


_EXPR_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)?)|(\*\*|[-+*/^()]))")


def expression(text: str) -> str:
    """An expression key in exgen's grammar (`24*N_layer*D^2`) as LaTeX (`24\\,N_{\\text{layer}}\\,D^{2}`).

    A token-level rewrite of trusted key text (never student input): products become thin spaces,
    `^`/`**` exponents are braced, and a multi-letter subscript is set upright.
    """
    out: list[str] = []
    pos, exponent, depth = 0, False, 0
    closing: list[int] = []  # paren depths at which a braced exponent group ends
    while pos < len(text.rstrip()):
        match = _EXPR_TOKEN.match(text, pos)
        if not match:
            raise ValueError(f"not an expression key: {text!r}")
        pos = match.end()
        number, name, op = match.groups()
        if op in ("^", "**"):
            exponent = True
            continue
        if name:
            base, _, sub = name.partition("_")
            token = base + (rf"_{{\text{{{sub}}}}}" if len(sub) > 1 else f"_{{{sub}}}" if sub else "")
        else:
            token = number or {"*": r"\,", "/": "/"}.get(op, op)
        if op == "(":
            depth += 1
            if exponent:
                closing.append(depth)
                token = "^{" + token
        elif op == ")":
            if closing and closing[-1] == depth:
                closing.pop()
                token += "}"
            depth -= 1
        elif exponent:
            token = f"^{{{token}}}"
        out.append(token)
        exponent = False
    return "".join(out)
