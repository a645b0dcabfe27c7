"""Comparison of a value with a key, within the tolerance the key's precision implies.

Never `==` on floats: a number matches when |got − key| ≤ the key's allowance (one unit in the last asked
place, `Answer.allowance`); integers and
integer matrices match exactly; choices match by name; expressions (the key's value is an expression in
the restricted grammar of expr.py) match when symbolically equivalent.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

from exgen.problem import Answer


def close(key: float, got: float, allowance: float) -> bool:
    if not (math.isfinite(key) and math.isfinite(got)):
        return False
    slack = 1e-12 * abs(key)  # the key's own float representation error (relative: tiny keys stay gradable)
    return abs(got - key) <= allowance * (1 + 1e-9) + slack


def _entry_matches(answer: Answer, key: Any, got: Any) -> bool:
    if isinstance(key, int) and answer.sig is None and answer.decimals is None:
        return isinstance(got, (int, float)) and float(got).is_integer() and int(got) == key
    return isinstance(got, (int, float)) and close(float(key), float(got), answer.allowance(key))


def entry_results(answer: Answer, got: Any) -> list[bool]:
    """Per-entry verdicts for a vector or matrix (flattened, row-major); empty if the shapes differ."""
    if answer.kind == "vector":
        keys, gots = answer.value, got
    else:
        if not isinstance(got, (list, tuple)) or len(got) != len(answer.value):
            return []
        if any(not isinstance(g, (list, tuple)) or len(g) != len(k) for k, g in zip(answer.value, got)):
            return []
        keys = [v for row in answer.value for v in row]
        gots = [v for row in got for v in row]
    if not isinstance(gots, (list, tuple)) or len(gots) != len(keys):
        return []
    if answer.sig is not None:
        return [_entry_matches(answer, k, g) for k, g in zip(keys, gots)]
    # `_entry_matches` with what is the same for every entry hoisted out (a class's matrices: issue 12)
    allowance = answer.allowance(0.0)  # decimals: 10^-d for every entry; exact: 0
    exact = answer.decimals is None
    return [(isinstance(g, (int, float)) and float(g).is_integer() and int(g) == k) if exact and isinstance(k, int)
            else isinstance(g, (int, float)) and close(float(k), float(g), allowance)
            for k, g in zip(keys, gots)]


def expression_symbols(answer: Answer) -> tuple[str, ...]:
    """The names an expression answer may use: the key's own symbols, plus any listed in `choices`."""
    from exgen.grading.expr import names_in

    return tuple(dict.fromkeys((*answer.choices, *names_in(answer.value))))


@lru_cache(maxsize=4096)
def key_expression(text: str, symbols: tuple[str, ...]):
    """A key's expression, parsed once (the key is trusted, but goes through the same grammar)."""
    from exgen.grading.expr import parse_expression

    return parse_expression(text, symbols)


_MONOMIAL = re.compile(r"([1-9]\d*)((?:\*[A-Za-z_]\w*(?:\^\d+)?)*)")


def monomial(text: str) -> tuple[int, dict[str, int]] | None:
    """'24*N_layer*D^2' as (24, {'N_layer': 1, 'D': 2}); None for text that is not such a product."""
    found = _MONOMIAL.fullmatch(text)
    if not found:
        return None
    powers: dict[str, int] = {}
    for factor in found.group(2).split("*")[1:]:
        name, _, exponent = factor.partition("^")
        powers[name] = powers.get(name, 0) + int(exponent or 1)
    return int(found.group(1)), {name: e for name, e in powers.items() if e}


def expression_matches(answer: Answer, got: Any) -> bool:
    """`got`: a sympy expression from parse_expression, or text in the grammar (a mistake's wrong value).
    Two monomials in text (a generator checking a mistake) are compared without sympy, so generating a
    problem never imports it; everything else is compared symbolically."""
    if isinstance(got, str):
        key, other = monomial(answer.value), monomial(got)
        if key is not None and other is not None:
            return key == other
    from exgen.grading.expr import ExpressionError, equivalent, parse_expression, symbol_table

    symbols = expression_symbols(answer)
    key = key_expression(answer.value, symbols)
    if isinstance(got, str):
        try:
            got = parse_expression(got, symbol_table(symbols))
        except ExpressionError:
            return False
    if not hasattr(got, "free_symbols"):
        return False
    return equivalent(key, got)


def matches(answer: Answer, got: Any) -> bool:
    """Whether `got` (already parsed into the key's unit) is the key within tolerance."""
    if answer.kind in ("number", "integer"):
        return _entry_matches(answer, answer.value, got)
    if answer.kind in ("vector", "matrix"):
        results = entry_results(answer, got)
        return bool(results) and all(results)
    if answer.kind == "expression":
        return expression_matches(answer, got)
    return got == answer.value
