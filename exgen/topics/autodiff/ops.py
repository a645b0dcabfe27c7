"""The elementary operations: value, local partial derivatives, and how each is written (symbols and numbers),
and the 'chain rule factor wrong' mistake's partials (Baydin et al. 2018, Tables 2 and 3; seed 001 Table 1)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

from exgen.topics.autodiff.arithmetic import MINUS_ONE, ONE, TWO, ZERO, Undefined, Value, _add, _mul, _sub


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    value: Callable[..., Value]
    partials: Callable[..., tuple[Value, ...]]  # (args..., result) -> ∂v/∂arg per operand slot
    primal_tex: str                              # {a}, {b}: operand symbols
    partials_tex: tuple[str, ...]                # local derivative per slot, in operand symbols ({v}: the node)


def _div(a: Value, b: Value) -> Value:
    if b == 0:
        raise Undefined("division by zero")
    try:
        return a / b
    except ZeroDivisionError:  # a float over an exact fraction too small for a float
        raise Undefined("division by a number too small to compute with") from None


def _exp(a: Value) -> Value:
    if a == 0:
        return ONE
    try:
        return math.exp(a)
    except OverflowError:
        raise Undefined("exp overflows") from None


def _log(a: Value) -> Value:
    if a <= 0:
        raise Undefined("log of a non-positive number")
    return ZERO if a == 1 else math.log(a)


def _sin(a: Value) -> Value:
    return ZERO if a == 0 else math.sin(a)


def _cos(a: Value) -> Value:
    return ONE if a == 0 else math.cos(a)


OPS: dict[str, Op] = {
    "add": Op("add", 2, _add, lambda a, b, v: (ONE, ONE),
              "{a} + {b}", ("1", "1")),
    "sub": Op("sub", 2, _sub, lambda a, b, v: (ONE, MINUS_ONE),
              "{a} - {b}", ("1", "(-1)")),
    "mul": Op("mul", 2, _mul, lambda a, b, v: (b, a),
              r"{a} \times {b}", ("{b}", "{a}")),
    "div": Op("div", 2, _div, lambda a, b, v: (_div(1, b), _div(-a, b * b)),
              "{a} / {b}", ("(1 / {b})", "(-{a} / {b}^2)")),
    "sq": Op("sq", 1, lambda a: _mul(a, a), lambda a, v: (_mul(TWO, a),), "({a})^2", ("2 {a}",)),
    "exp": Op("exp", 1, _exp, lambda a, v: (v,), r"\exp({a})", (r"\exp({a})",)),
    "log": Op("log", 1, _log, lambda a, v: (_div(1, a),), r"\ln {a}", ("(1 / {a})",)),
    "sin": Op("sin", 1, _sin, lambda a, v: (_cos(a),), r"\sin {a}", (r"\cos {a}",)),
    "cos": Op("cos", 1, _cos, lambda a, v: (-_sin(a),), r"\cos {a}", (r"(-\sin {a})",)),
}
TRANSCENDENTAL = ("exp", "log", "sin", "cos")

# Tangent rules as written in the tables (Baydin Table 2, seed 001 Table 1): {da}, {db} are the operand tangents.
TANGENT_TEX = {
    "add": "{da} + {db}",
    "sub": "{da} - {db}",
    "mul": r"{da} \times {b} + {a} \times {db}",
    "div": r"({da} \times {b} - {a} \times {db}) / {b}^2",  # no \frac: it is set in script size in a table
    "sq": "2 {a} {da}",
    "exp": r"\exp({a}) {da}",
    "log": "{da} / {a}",
    "sin": r"\cos({a}) {da}",
    "cos": r"-\sin({a}) {da}",
}


# The same rules with numbers substituted: {a} is parenthesised when negative, {A} (a function's argument,
# already inside its parentheses) never is — sin(-2), not sin((-2)) (issue 11).
PRIMAL_NUM = {"add": "{a} + {b}", "sub": "{a} - {b}", "mul": r"{a} \times {b}", "div": "{a} / {b}", "sq": "{a}^2",
              "exp": r"\exp({A})", "log": r"\ln({A})", "sin": r"\sin({A})", "cos": r"\cos({A})"}
TANGENT_NUM = {
    "add": "{da} + {db}",
    "sub": "{da} - {db}",
    "mul": r"{da} \times {b} + {a} \times {db}",
    "div": r"\frac{{da} \times {b} - {a} \times {db}}{{b}^2}",
    "sq": r"2 \times {a} \times {da}",
    "exp": r"\exp({A}) \times {da}",
    "log": "{da} / {a}",
    "sin": r"\cos({A}) \times {da}",
    "cos": r"-\sin({A}) \times {da}",
}
PARTIAL_NUM = {"add": ("1", "1"), "sub": ("1", "(-1)"), "mul": ("{b}", "{a}"), "div": ("(1 / {b})", "(-{a} / {b}^2)"),
               "sq": (r"2 \times {a}",), "exp": (r"\exp({A})",), "log": ("(1 / {a})",), "sin": (r"\cos({A})",),
               "cos": (r"(-\sin({A}))",)}


def _swapped_partials(op: str, args: Sequence[Value], v: Value) -> tuple[Value, ...]:
    """The 'chain rule factor wrong' mistake: in a product each factor's own value is taken as its derivative
    (∂(ab)/∂a := a), and the quotient rule's numerator is written the wrong way round ((aḃ − ȧb)/b²)."""
    if op == "mul":
        return (args[0], args[1])
    if op == "div":
        a, b = args
        return (_div(-1, b), _div(a, b * b))
    return OPS[op].partials(*args, v)
