"""How numbers and formulas are written: a cell's key (4 significant figures), an intermediate value in a worked
solution (6 figures) and what a student carries (6 figures), a node's formulas in LaTeX, an answer box."""

from __future__ import annotations

import re
from fractions import Fraction

from exgen import numfmt as nf
from exgen.problem import Answer
from exgen.topics.autodiff.arithmetic import Value, _float
from exgen.topics.autodiff.graph import _SHIFT, Node, vtex
from exgen.topics.autodiff.ops import OPS, TANGENT_TEX

SIG = 4            # significant figures asked for every table cell
ZERO_DECIMALS = 4  # a cell whose key is 0 is asked to 4 decimal places (absolute tolerance)
SHOW = 6           # figures shown for intermediate values in worked solutions
_SHOW_SPEC = f".{SHOW}g"


_PLACEHOLDER = re.compile(r"\{(a|b|A|da|db)\}")
_SEGMENTS: dict[str, list[str]] = {}


def _fill(template: str, symbols: dict[str, str]) -> str:
    """The template with each {a}, {b}, {A}, {da}, {db} that `symbols` names replaced (no symbol holds one)."""
    parts = _SEGMENTS.get(template)
    if parts is None:  # literal, key, literal, key, ..., literal
        parts = _SEGMENTS[template] = _PLACEHOLDER.split(template)
    out = [parts[0]]
    for i in range(1, len(parts), 2):
        key = parts[i]
        out.append(symbols[key] if key in symbols else "{" + key + "}")
        out.append(parts[i + 1])
    return "".join(out)


_TEX: dict[tuple, str] = {}  # a node's formulas, by numbering: a worked solution writes each several times


def _tex(kind: str, nd: Node, slot: int = 0) -> str:
    key = (kind, _SHIFT.get(), nd, slot)
    found = _TEX.get(key)
    if found is None:
        a, b = vtex(nd.args[0]), vtex(nd.args[-1])
        if kind == "primal":
            found = f"{vtex(nd.index)} = " + _fill(OPS[nd.op].primal_tex, {"a": a, "b": b})
        elif kind == "tangent":
            found = f"{vtex(nd.index, 'dot')} = " + _fill(TANGENT_TEX[nd.op], {
                "a": a, "b": b, "da": vtex(nd.args[0], "dot"), "db": vtex(nd.args[-1], "dot")})
        else:
            found = _fill(OPS[nd.op].partials_tex[slot], {"a": a, "b": b})
        if len(_TEX) > 4096:
            _TEX.clear()
        _TEX[key] = found
    return found


def primal_tex(nd: Node) -> str:
    return _tex("primal", nd)


def tangent_tex(nd: Node) -> str:
    return _tex("tangent", nd)


def partial_tex(nd: Node, slot: int) -> str:
    return _tex("partial", nd, slot)


def show(v: Value) -> str:
    """An intermediate value in a worked solution (6 significant figures, exact integers bare)."""
    if type(v) is Fraction:
        if v.denominator == 1:
            return str(v.numerator)
        x = v.numerator / v.denominator
    else:
        x = float(v)
    text = format(x, _SHOW_SPEC)  # nf.sig(x, SHOW) without its cases that cannot arise here: no trailing '.', no '-0'
    if "e" in text or not nf.float_rounding_agrees(x, SHOW):
        return nf.sig(v, SHOW)  # ×10^k, or a tie rounded half away from zero
    return "0" if x == 0 else text


_ANSWERS: dict[float, Answer] = {}  # an Answer is immutable; the sampler and the solver ask for the same keys


def answer(v: Value) -> Answer:
    """A table cell's key: 4 significant figures, or 4 decimals when the key is 0."""
    f = _float(v)
    found = _ANSWERS.get(f)
    if found is None:
        if len(_ANSWERS) > 4096:
            _ANSWERS.clear()
        found = _ANSWERS[f] = (Answer("number", 0.0, decimals=ZERO_DECIMALS) if abs(f) < 1e-12
                               else Answer("number", f, sig=SIG))
    return found


_TOLERANCES: dict[float, tuple[Answer, float]] = {}


def tolerance(v: Value) -> tuple[Answer, float]:
    """answer(v) and its allowance (Answer.allowance of its value), computed once per key: the sampler checks
    every asked cell of every draw against the 6-figure student."""
    f = _float(v)
    found = _TOLERANCES.get(f)
    if found is None:
        if len(_TOLERANCES) > 4096:
            _TOLERANCES.clear()
        key = answer(v)
        found = _TOLERANCES[f] = (key, key.allowance(key.value))
    return found


def box(cell_id: str) -> str:
    return r"\boxed{\mathtt{" + cell_id.replace("_", r"\_") + "}}"


def carry6(v: Value) -> float:
    """What a student carries into the next row: the value to 6 significant figures (the figures the tables
    show, and the least the question allows)."""
    return float(format(v if type(v) is float else _float(v), _SHOW_SPEC))
