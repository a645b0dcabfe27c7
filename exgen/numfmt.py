"""Number formatting shared by solvers (worked-solution steps) and renderers (givens, keys).

Everything goes through Python's own correctly rounded float formatting, which is identical on every
platform, so rendered bytes are deterministic.  Output is LaTeX math (valid inside $…$ in Markdown too).
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Iterable, Sequence

Real = float | int | Fraction


def _clean(text: str) -> str:
    return "0" + text[2:] if text.startswith("-0") and not any(c in "123456789" for c in text) else text


def _float(x: Real) -> float:
    """float(x); a Fraction divides its integers directly (what `float` does, without numbers.Rational's
    generic path: solvers format hundreds of thousands of exact values, issue 12)."""
    return x.numerator / x.denominator if type(x) is Fraction else float(x)


def fixed(x: Real, decimals: int) -> str:
    """`x` with exactly `decimals` decimals ("-0.00" is written "0.00")."""
    return _clean(f"{_float(x):.{decimals}f}")


def round_sig(x: Real, figures: int) -> float:
    """`x` rounded to `figures` significant figures, as a number (what a student who reports it writes down)."""
    return float(f"{float(x):.{figures - 1}e}")


def sig(x: Real, figures: int, trim: bool = True) -> str:
    """`x` to `figures` significant figures in LaTeX (×10^k outside 1e-4..1e6); `trim=False` keeps the
    trailing zeros that make the stated precision visible (1.70 to 3 figures)."""
    x = _float(x)
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
