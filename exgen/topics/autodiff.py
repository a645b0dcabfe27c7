"""Automatic differentiation by hand: forward (tangent) and reverse (adjoint) evaluation tables of a small
computational graph, the Jacobian and its cost in passes, a partly filled table, and a linear layer's backward.

Sources:
- Baydin, Pearlmutter, Radul, Siskind, "Automatic differentiation in machine learning: a survey", JMLR 18(153),
  2018, Section 3: the numbering (inputs v_{i-n} = x_i, intermediates v_1, v_2, ..., outputs y_j = v_k), Table 2
  (forward mode: each primal v_i carried with its tangent v̇_i = ∂v_i/∂x_1, by the chain rule per elementary op),
  Table 3 (reverse mode: adjoints v̄_i = ∂y_j/∂v_i propagated from the output in reverse order, the contributions
  to a variable used twice summed: v̄_0 = v̄_0 + v̄_2 · ∂v_2/∂v_0), and Section 3.2: the Jacobian of f: R^n -> R^m
  takes n forward passes (one column each) or m reverse passes (one row each).
- Seed 001 (Midterm review), Homework 1 Q4: the four tables for y1 = (x1+x2)^2, y2 = (x1-x2)^2 at (2, 4); the
  seed lists reverse rows in forward order, to be read bottom-up, first contribution written without "+" (we
  render in execution order, which gives the same values: tests pin them).
- Seed 001, "Summary of a Linear Layer Computation": Y = XW, dL/dW = X^T dL/dY, dL/dX = dL/dY W^T; seed 000:
  an (m x n)(n x p) matmul is 2mnp FLOPs (one FMA = 2 FLOPs), so the backward pass is 2 * 2mnp = 4mnp.

Reverse order convention (stated in every question): nodes are processed from the highest index down; node k
sends v̄_k · ∂v_k/∂v_a to each operand a in operand order; the first contribution a variable receives assigns
(v̄_a = ...), later ones accumulate (v̄_a = v̄_a + ...); an output's adjoint starts at its seed ȳ_j.

Values are exact Fractions while only +, -, x, / and squares are involved (short-decimal inputs), floats once a
transcendental op enters; the user's graph is parsed by the small grammar below, never evaluated.
"""

from __future__ import annotations

import math
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, NamedTuple, Sequence

from exgen import numfmt as nf
from exgen.exact import decimal as _fraction
from exgen.grading.compare import matches
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Mistake, Rejected, StudentPath, Topic, Variant

Value = Fraction | float
SIG = 4            # significant figures asked for every table cell
ZERO_DECIMALS = 4  # a cell whose key is 0 is asked to 4 decimal places (absolute tolerance)
SHOW = 6           # figures shown for intermediate values in worked solutions
_SHOW_SPEC = f".{SHOW}g"
MAX_LINES = 40
MAX_MAGNITUDE = 1e12  # no value of a user's trace beyond this (40 chained squarings would never end)
MAX_BITS = 256       # an exact fraction with more bits than this continues as a float
MAX_PARTS = 26     # a sampled question stays one page of parts, (a)-(z); a user's own graph may have more
# The two common numberings of a trace (given `numbering`): Baydin et al. (2018) number the inputs v_{1-n}..v_0
# and the intermediates v_1, v_2, ...; the other (Wikipedia's "Automatic differentiation" w_1 = x_1, ...) numbers
# the inputs v_1..v_n and the intermediates v_{n+1}, ... after them. Internally every node keeps Baydin's index;
# what a student reads and types (node names, cell ids) is shifted by n under the second numbering.
NUMBERINGS = ("baydin", "inputs-first")
_SHIFT: ContextVar[int] = ContextVar("autodiff_numbering_shift", default=0)


def numbering_shift(g: dict[str, Any]) -> int:
    """How far a displayed index is from Baydin's: n under inputs-first numbering, else 0."""
    if g.get("numbering", "baydin") not in NUMBERINGS:
        raise InvalidGivens(f"numbering: one of {', '.join(NUMBERINGS)}")
    x = g.get("x")
    return len(x) if g.get("numbering") == "inputs-first" and isinstance(x, (list, tuple)) else 0


class numbered:
    """Names and ids inside this block follow the numbering the givens choose (`with numbered(g): ...`)."""

    __slots__ = ("shift", "token")

    def __init__(self, g: dict[str, Any]) -> None:
        self.shift = numbering_shift(g)

    def __enter__(self) -> None:
        self.token = _SHIFT.set(self.shift)

    def __exit__(self, *exc: Any) -> None:
        _SHIFT.reset(self.token)


def _in_numbering(fn: Callable) -> Callable:
    """A (variant, givens, ...) function run in the givens' numbering."""
    def run(variant: str, g: dict[str, Any], *rest: Any) -> Any:
        with numbered(g):
            return fn(variant, g, *rest)
    run.__name__ = getattr(fn, "__name__", "run")
    return run


ZERO, ONE, MINUS_ONE, TWO = Fraction(0), Fraction(1), Fraction(-1), Fraction(2)  # built once: Fraction() is slow


class Undefined(ArithmeticError):
    """An elementary op outside its domain (log of a non-positive number, division by zero, overflow)."""


# ---- elementary operations: value, local partial derivatives, and how each is written ----------------------


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
    "add": Op("add", 2, lambda a, b: _add(a, b), lambda a, b, v: (ONE, ONE),
              "{a} + {b}", ("1", "1")),
    "sub": Op("sub", 2, lambda a, b: _sub(a, b), lambda a, b, v: (ONE, MINUS_ONE),
              "{a} - {b}", ("1", "(-1)")),
    "mul": Op("mul", 2, lambda a, b: _mul(a, b), lambda a, b, v: (b, a),
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


# ---- the graph and its grammar -------------------------------------------------------------------------------


class Node(NamedTuple):
    index: int              # this node is v_index
    op: str
    args: tuple[int, ...]   # operand indices (inputs are 1-n .. 0)


@dataclass(frozen=True)
class Graph:
    n: int                       # inputs x_1..x_n are v_{1-n}..v_0
    nodes: tuple[Node, ...]      # v_1..v_K, in order
    outputs: tuple[int, ...]     # y_j = v_{outputs[j-1]}

    @property
    def size(self) -> int:
        return len(self.nodes)

    def node(self, k: int) -> Node:
        return self.nodes[k - 1]

    def consumers(self, a: int) -> list[int]:
        return [nd.index for nd in self.nodes if a in nd.args]

    def ancestors(self, k: int) -> set[int]:
        """Every node (inputs included) that v_k depends on, and k itself."""
        seen, todo = {k}, [k]
        while todo:
            i = todo.pop()
            if i >= 1:
                for a in self.node(i).args:
                    if a not in seen:
                        seen.add(a)
                        todo.append(a)
        return seen


_FUNCS = {"exp": "exp", "log": "log", "ln": "log", "sin": "sin", "cos": "cos", "sq": "sq", "square": "sq"}
_BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div"}
_TOKEN = re.compile(r"""\s*(?:
    (?P<name>[vx]\s*_?\s*(?:\{\s*-?\s*\d{1,3}\s*\}|-?\s*\d{1,3}))
  | (?P<func>square|exp|log|ln|sin|cos|sq)(?![A-Za-z0-9])
  | (?P<sym>[-+*/^=()])
  | (?P<num>\d+)
)""", re.X)
GRAMMAR_HELP = ("one elementary operation per line, 'vK = a + b' (also -, *, /), 'vK = a^2', 'vK = exp(a)', "
                "'log(a)' (natural log), 'sin(a)', 'cos(a)'; operands are earlier nodes: inputs v-1, v0 (or x1, x2), "
                "intermediates v1, v2, ... numbered in order (with numbering inputs-first: inputs v1..vn, "
                "intermediates v(n+1), v(n+2), ...)")


def _tokens(text: str) -> list[tuple[str, str]]:
    text = (text.replace("\u2212", "-").replace("\u00d7", "*").replace("\u00b7", "*").replace("\u00b2", "^2")
            .replace(r"\times", "*").replace(r"\cdot", "*").replace(r"\ln", "ln"))
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise InvalidGivens(f"cannot read {text[pos:].strip()[:20]!r} in {text.strip()!r}: {GRAMMAR_HELP}")
        kind = m.lastgroup
        out.append((kind, re.sub(r"\s", "", m.group(kind))))
        pos = m.end()
    return out


def _name_index(token: str, n: int) -> int:
    """'v-1', 'v_{-1}', 'x1' -> node index (x_i is v_{i-n}); under inputs-first numbering v_i is shifted by n."""
    number = int(token[1:].strip("_").strip("{}"))
    if token[0] == "x":
        if not 1 <= number <= n:
            raise InvalidGivens(f"{token}: there are {n} inputs x1..x{n}")
        return number - n
    return number - _SHIFT.get()


def vname(i: int) -> str:
    """The plain-text name of node i as the question numbers it: v-1, v0, v3 (or v1, v2, v5 inputs-first)."""
    return f"v{i + _SHIFT.get()}"


def parse_line(text: str, n: int, expected: int) -> Node:
    """One line of the trace: 'v3 = v1 * v2' -> Node(3, 'mul', (1, 2))."""
    toks = _tokens(text)
    if len(toks) < 3 or toks[0][0] != "name" or toks[1] != ("sym", "="):
        raise InvalidGivens(f"line {text.strip()!r}: expected '{vname(expected)} = ...': {GRAMMAR_HELP}")
    left = _name_index(toks[0][1], n)
    if toks[0][1][0] != "v" or left != expected:
        raise InvalidGivens(f"line {text.strip()!r}: intermediates are numbered in order; expected {vname(expected)} "
                            "here")
    rhs = toks[2:]
    kinds = [k for k, _ in rhs]
    names = [_name_index(t, n) for k, t in rhs if k == "name"]
    if kinds == ["name", "sym", "name"] and rhs[1][1] in _BINARY:
        op = _BINARY[rhs[1][1]]
    elif kinds in (["func", "sym", "name", "sym"], ["func", "name"]) and (
            kinds == ["func", "name"] or (rhs[1][1], rhs[3][1]) == ("(", ")")):
        op = _FUNCS[rhs[0][1]]
    elif (kinds == ["name", "sym", "num"] and rhs[1][1] == "^" and rhs[2][1] == "2") or (
            kinds == ["sym", "name", "sym", "sym", "num"] and [t for _, t in rhs] == ["(", rhs[1][1], ")", "^", "2"]):
        op = "sq"
    else:
        raise InvalidGivens(f"line {text.strip()!r}: {GRAMMAR_HELP}")
    for a in names:
        if not 1 - n <= a < expected:
            raise InvalidGivens(f"line {text.strip()!r}: {vname(a)} is not an input or an earlier node")
    return Node(expected, op, tuple(names))


def _lines(value: Any, what: str) -> list[str]:
    """A list of strings, or one string with entries separated by newlines or ';' (or ',' for names)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        parts = re.split(r"[;\n]" if what == "graph" else r"[;\n,\s]+", value)
    elif isinstance(value, (list, tuple)) and all(isinstance(v, (str, int)) for v in value):
        parts = [str(v) for v in value]
    else:
        raise InvalidGivens(f"{what}: expected a list of strings or one string")
    return [p.strip() for p in parts if p.strip()]


def parse_graph(lines: Any, n: int, outputs: Any = "") -> Graph:
    if not 1 <= n <= 6:
        raise InvalidGivens("x: between 1 and 6 inputs")
    texts = _lines(lines, "graph")
    if not texts:
        raise InvalidGivens(f"graph: no nodes; {GRAMMAR_HELP}")
    if len(texts) > MAX_LINES or any(len(t) > MAX_LINE for t in texts):
        raise InvalidGivens(f"graph: at most {MAX_LINES} lines of at most {MAX_LINE} characters")
    nodes = tuple(parse_line(t, n, k) for k, t in enumerate(texts, 1))
    used = {a for nd in nodes for a in nd.args}
    sinks = [nd.index for nd in nodes if nd.index not in used]
    names = _lines(outputs, "outputs")
    if names:
        outs = []
        for name in names:
            toks = _tokens(name)
            if len(toks) != 1 or toks[0][0] != "name":
                raise InvalidGivens(f"outputs: {name!r} is not a node name such as v3")
            outs.append(_name_index(toks[0][1], n))
    else:
        outs = sinks
    if len(set(outs)) != len(outs) or any(not 1 <= k <= len(nodes) for k in outs):
        raise InvalidGivens(f"outputs: distinct intermediate nodes ({vname(1)}, {vname(2)}, ...), not inputs")
    dead = [k for k in sinks if k not in outs]
    if dead:
        raise InvalidGivens(f"{vname(dead[0])} is used by no node and is not an output")
    unused = [i for i in range(1 - n, 1) if i not in used]
    if unused:
        raise InvalidGivens(f"input {vname(unused[0])} (x{unused[0] + n}) is used by no node")
    return Graph(n, nodes, tuple(outs))


def graph_lines(graph: Graph) -> list[str]:
    """The canonical text of a graph, as the sampler writes it into the givens."""
    out = []
    for nd in graph.nodes:
        a = [vname(i) for i in nd.args]
        rhs = {"add": f"{a[0]} + {a[-1]}", "sub": f"{a[0]} - {a[-1]}", "mul": f"{a[0]} * {a[-1]}",
               "div": f"{a[0]} / {a[-1]}", "sq": f"{a[0]}^2"}.get(nd.op, f"{nd.op}({a[0]})")
        out.append(f"{vname(nd.index)} = {rhs}")
    return out


# ---- names, ids and LaTeX ------------------------------------------------------------------------------------


def vid(i: int) -> str:
    """The id fragment of v_i as the question numbers it: v3, v0, vm1."""
    i += _SHIFT.get()
    return f"v{i}" if i >= 0 else f"vm{-i}"


def vtex(i: int, mark: str = "") -> str:
    """v_{i}, \\dot v_{i}, \\bar v_{i}, as the question numbers them."""
    i += _SHIFT.get()
    return (rf"\{mark} v_{{{i}}}" if mark else f"v_{{{i}}}")


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
    return "0" if x == 0 else text if "e" not in text else nf.sig(x, SHOW)


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


def box(cell_id: str) -> str:
    return r"\boxed{\mathtt{" + cell_id.replace("_", r"\_") + "}}"


# ---- the traces ------------------------------------------------------------------------------------------------


class Cell(NamedTuple):
    """One table cell: id, the row's formula (LaTeX), its label (prose), the substituted worked form, the value."""

    id: str
    formula: str
    label: str
    worked: str
    value: Value
    text: str  # the value as a worked solution shows it: show(value)


def _exact(v: Value) -> Value:
    return v


def carry6(v: Value) -> float:
    """What a student carries into the next row: the value to 6 significant figures (the figures the tables
    show, and the least the question allows)."""
    return float(format(v if type(v) is float else _float(v), _SHOW_SPEC))


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


if not _fraction_slots_work():  # Python's own operators: slower, the same values
    def _mul(a: Value, b: Value) -> Value:  # noqa: F811
        return a * b

    def _add(a: Value, b: Value) -> Value:  # noqa: F811
        return a + b

    def _sub(a: Value, b: Value) -> Value:  # noqa: F811
        return a - b


def primal_values(graph: Graph, x: Sequence[Value], carry: Callable[[Value], Value] = _exact) -> dict[int, Value]:
    """The primal trace; `carry` is applied to every value a later row uses (a student's rounding)."""
    vals: dict[int, Value] = {i - graph.n: x[i - 1] for i in range(1, graph.n + 1)}
    exact = carry is _exact
    for nd in graph.nodes:
        args = nd.args
        try:
            v = _bounded_value(OPS[nd.op].value(*[vals[a] for a in args]) if len(args) == 2
                               else OPS[nd.op].value(vals[args[0]]))
        except (ZeroDivisionError, OverflowError, ValueError) as e:
            raise Undefined(str(e)) from None
        vals[nd.index] = v if exact else carry(v)
    return vals


def local_partials(graph: Graph, vals: dict[int, Value], swapped: bool = False,
                   carry: Callable[[Value], Value] = _exact) -> dict[int, tuple[Value, ...]]:
    out = {}
    exact = carry is _exact
    for nd in graph.nodes:
        args = [vals[a] for a in nd.args]
        local = (_swapped_partials(nd.op, args, vals[nd.index]) if swapped
                 else OPS[nd.op].partials(*args, vals[nd.index]))
        if len(local) == 1:
            p = _bounded_value(local[0])
            out[nd.index] = (p if exact else carry(p),)
        else:
            p, q = _bounded_value(local[0]), _bounded_value(local[1])
            out[nd.index] = (p, q) if exact else (carry(p), carry(q))
    return out


def tangent_values(graph: Graph, partials: dict[int, tuple[Value, ...]], xdot: Sequence[Value],
                   carry: Callable[[Value], Value] = _exact) -> dict[int, Value]:
    dots: dict[int, Value] = {i - graph.n: xdot[i - 1] for i in range(1, graph.n + 1)}
    exact = carry is _exact
    for nd in graph.nodes:
        local, args = partials[nd.index], nd.args
        # sum(local[i] * dots[args[i]], start=ZERO), term by term: ZERO + t is t for a Fraction, 0.0 + t for a float
        total = _mul(local[0], dots[args[0]])
        if type(total) is not Fraction:
            total = _add(ZERO, total)
        if len(args) == 2:
            total = _add(total, _mul(local[1], dots[args[1]]))
        total = _bounded_value(total)
        dots[nd.index] = total if exact else carry(total)
    return dots


def tangent_columns(graph: Graph, partials: dict[int, tuple[Value, ...]],
                    seeds: Sequence[Sequence[Value]]) -> list[dict[int, Value]]:
    """tangent_values(graph, partials, xdot) for each seed xdot, in one sweep over the nodes (each column the
    same operations in the same order)."""
    n = graph.n
    cols = [{i - n: xdot[i - 1] for i in range(1, n + 1)} for xdot in seeds]
    for nd in graph.nodes:
        k, args, local = nd.index, nd.args, partials[nd.index]
        a, p = args[0], local[0]
        b, q = (args[1], local[1]) if len(args) == 2 else (None, None)
        for dots in cols:
            total = _mul(p, dots[a])
            if type(total) is not Fraction:
                total = _add(ZERO, total)
            if b is not None:
                total = _add(total, _mul(q, dots[b]))
            dots[k] = _bounded_value(total)
    return cols


class AdjointRow(NamedTuple):
    target: int      # a: the variable receiving the contribution
    source: int      # k: the node sending it
    slot: int        # which operand of v_k
    local: Value     # ∂v_k/∂v_a
    source_bar: Value  # v̄_k (final when k sends: every consumer of v_k has a higher index)
    before: Value    # v̄_a before this row (0 for an assignment)
    contribution: Value
    value: Value     # v̄_a after this row
    accumulates: bool  # "v̄_a = v̄_a + ..." (else an assignment)


def adjoint_rows(graph: Graph, partials: dict[int, tuple[Value, ...]], output: int | Sequence[Value],
                 accumulate: bool = True,
                 carry: Callable[[Value], Value] = _exact) -> tuple[dict[int, Value], list[AdjointRow], dict[int, Value]]:
    """Reverse sweep for y_output, or for Σ ȳ_j y_j when `output` is the seeds ȳ: (seeds of the output nodes,
    rows in execution order, final adjoints).
    With accumulate=False each contribution overwrites (the 'adjoint not accumulated' mistake); `carry` is
    applied to every running value (a student's rounding)."""
    weights = [ONE if j == output else ZERO for j in range(1, len(graph.outputs) + 1)] if isinstance(output, int) \
        else output  # output j, or the seeds ȳ of a weighted sum
    seeds = dict(zip(graph.outputs, weights))
    bar: dict[int, Value] = dict(seeds)
    rows = []
    for nd in reversed(graph.nodes):
        k = nd.index
        for slot, a in enumerate(nd.args):
            local = partials[k][slot]
            contribution = _mul(bar[k], local)
            acc = a in bar
            before = bar[a] if (acc and accumulate) else ZERO
            value = _bounded_value(_add(before, contribution))
            if carry is not _exact:
                value = carry(value)
            bar[a] = value
            rows.append(AdjointRow(a, k, slot, local, bar[k], before, contribution, value, acc))
    return seeds, rows, bar


_ADJOINT_IDS: dict[tuple, tuple[str, ...]] = {}  # every sweep of a graph has the same rows: ids once per graph


def final_adjoints(graph: Graph, partials: dict[int, tuple[Value, ...]], seeds: Sequence[Value],
                   accumulate: bool = True) -> dict[int, Value]:
    """adjoint_rows(graph, partials, seeds, accumulate)[2] (the same operations in the same order), without the
    rows: what a named mistake reads."""
    bar: dict[int, Value] = dict(zip(graph.outputs, seeds))
    for nd in reversed(graph.nodes):
        source, local = bar[nd.index], partials[nd.index]
        for slot, a in enumerate(nd.args):
            contribution = _mul(source, local[slot])
            bar[a] = _bounded_value(_add(bar[a], contribution) if accumulate and a in bar
                                    else _add(ZERO, contribution))
    return bar


def adjoint_ids(rows: Sequence[AdjointRow]) -> list[str]:
    """bar_v2 for a variable with one contribution; bar_vm1_1, bar_vm1_2, ... for one that accumulates."""
    key = (_SHIFT.get(), *[r.target for r in rows])
    ids = _ADJOINT_IDS.get(key)
    if ids is None:
        total: dict[int, int] = {}
        for r in rows:
            total[r.target] = total.get(r.target, 0) + 1
        seen: dict[int, int] = {}
        out = []
        for r in rows:
            seen[r.target] = seen.get(r.target, 0) + 1
            out.append(f"bar_{vid(r.target)}" + (f"_{seen[r.target]}" if total[r.target] > 1 else ""))
        if len(_ADJOINT_IDS) > 4096:
            _ADJOINT_IDS.clear()
        ids = _ADJOINT_IDS[key] = tuple(out)
    return list(ids)


def cell_values(graph: Graph, vals: dict[int, Value], dots: dict[int, Value] | None = None,
                rows: Sequence[AdjointRow] | None = None, bar: dict[int, Value] | None = None,
                primal: bool = True) -> dict[str, Value]:
    """Every cell's id and value, in table order, without building its LaTeX (the sampler and the student path
    only need these): primal rows, each beside its tangent (forward), then the adjoint rows (reverse);
    primal=False leaves out the primal rows of a reverse table (shown, not asked)."""
    out: dict[str, Value] = {}
    if primal or dots is not None:
        for nd in graph.nodes:  # a forward table pairs each primal with its tangent
            cid = vid(nd.index)
            out[cid] = vals[nd.index]
            if dots is not None:
                out["d" + cid] = dots[nd.index]
        for j, k in enumerate(graph.outputs, 1):
            out[f"y{j}"] = vals[k]
            if dots is not None:
                out[f"dy{j}"] = dots[k]
    if rows is not None and bar is not None:
        out.update(zip(adjoint_ids(rows), [r.value for r in rows]))
        out.update((f"bar_x{i}", bar[i - graph.n]) for i in range(1, graph.n + 1))
    return out


def _paren(v: Value) -> str:
    return nf.signed(show(v))


def _shown(values: dict[int, Value]) -> dict[int, str]:
    """show() of each node's value, once."""
    return {k: show(v) for k, v in values.items()}


def _signed(text: str) -> str:
    return f"({text})" if text[:1] == "-" else text  # nf.signed


def primal_cells(graph: Graph, vals: dict[int, Value], sv: dict[int, str] | None = None) -> list[Cell]:
    """`sv`: _shown(vals), when the caller has it."""
    sv = _shown(vals) if sv is None else sv
    cells = []
    for nd in graph.nodes:
        a, b, k = nd.args[0], nd.args[-1], nd.index
        sub = _fill(PRIMAL_NUM[nd.op], {"a": _signed(sv[a]), "b": _signed(sv[b]), "A": sv[a]})
        formula = primal_tex(nd)
        cells.append(Cell(vid(k), formula, f"${vtex(k)}$", f"{formula} = {sub}", vals[k], sv[k]))
    for j, k in enumerate(graph.outputs, 1):
        f = f"y_{{{j}}} = {vtex(k)}"
        cells.append(Cell(f"y{j}", f, f"$y_{{{j}}}$", f, vals[k], sv[k]))
    return cells


def _tangent_cell(nd: Node, dots: dict[int, Value], sv: dict[int, str], sd: dict[int, str]) -> Cell:
    """The tangent row of node `nd`; sv, sd: the shown primal values and tangents (of its operands and itself)."""
    a, b, k = nd.args[0], nd.args[-1], nd.index
    sub = _fill(TANGENT_NUM[nd.op], {"a": _signed(sv[a]), "A": sv[a], "b": _signed(sv[b]),
                                     "da": _signed(sd[a]), "db": _signed(sd[b])})
    formula = tangent_tex(nd)
    return Cell(f"d{vid(k)}", formula, f"${vtex(k, 'dot')}$", f"{formula} = {sub}", dots[k], sd[k])


def tangent_cells(graph: Graph, vals: dict[int, Value], dots: dict[int, Value],
                  sv: dict[int, str] | None = None) -> list[Cell]:
    sv = _shown(vals) if sv is None else sv
    sd = _shown(dots)
    cells = [_tangent_cell(nd, dots, sv, sd) for nd in graph.nodes]
    for j, k in enumerate(graph.outputs, 1):
        f = rf"\dot y_{{{j}}} = {vtex(k, 'dot')}"
        cells.append(Cell(f"dy{j}", f, rf"$\dot y_{{{j}}}$", f, dots[k], sd[k]))
    return cells


def _adjoint_cell(graph: Graph, r: AdjointRow, cid: str, sv: dict[int, str]) -> Cell:
    """The adjoint row `r` with id `cid`; sv: the shown primal values."""
    nd = graph.node(r.source)
    a = nd.args[0]
    local_num = _fill(PARTIAL_NUM[nd.op][r.slot], {"a": _signed(sv[a]), "b": _signed(sv[nd.args[-1]]), "A": sv[a]})
    target = vtex(r.target, "bar")
    head = f"{target} = " + (f"{target} + " if r.accumulates else "")
    formula = head + vtex(r.source, "bar") + r" \times " + partial_tex(nd, r.slot)
    prev = f"{_paren(r.before)} + " if r.accumulates else ""
    worked = rf"{formula} = {prev}{_paren(r.source_bar)} \times {local_num}"
    label = f"${target}$"
    if cid.count("_") == 2:
        label += f", contribution {cid.rsplit('_', 1)[1]} (from ${vtex(r.source)}$)"
    return Cell(cid, formula, label, worked, r.value, show(r.value))


def adjoint_cells(graph: Graph, vals: dict[int, Value], rows: Sequence[AdjointRow], bar: dict[int, Value],
                  sv: dict[int, str] | None = None) -> list[Cell]:
    sv = _shown(vals) if sv is None else sv
    cells = [_adjoint_cell(graph, r, cid, sv) for cid, r in zip(adjoint_ids(rows), rows)]
    for i in range(1, graph.n + 1):
        f = rf"\bar x_{{{i}}} = {vtex(i - graph.n, 'bar')}"
        v = bar[i - graph.n]
        cells.append(Cell(f"bar_x{i}", f, rf"$\bar x_{{{i}}}$", f, v, show(v)))
    return cells


# ---- givens ----------------------------------------------------------------------------------------------------

# Bounds (issue 10): at most MAX_LINES lines of at most MAX_LINE characters and 6 inputs (the grammar's own limits,
# checked again by parse_graph), inputs and seeds within ±MAX_INPUT; a value beyond MAX_MAGNITUDE anywhere in the
# trace is refused while it is computed.
MAX_LINE = 200
MAX_INPUT = 1000
_GRAPH = Given("graph", "the evaluation trace, " + GRAMMAR_HELP + " (a list, or one string with lines separated by "
               f"';'; at most {MAX_LINES} lines)", "lines", max_size=MAX_LINES * (MAX_LINE + 4))
_X = Given("x", "input values x1, x2, ... (x_i is v_{i-n}, or v_i inputs-first; at most 6)", "vector",
           low=-MAX_INPUT, high=MAX_INPUT,
           max_size=6)
_OUTPUTS = Given("outputs", "output nodes y1, y2, ... in order, e.g. 'v3, v4' (default: the nodes no other node uses)",
                 "lines", default="", max_size=400)
_XDOT = Given("xdot", "tangent seed (x1dot, x2dot, ...) (default: 1 for x1, 0 for the others)", "vector", default=[],
              low=-MAX_INPUT, high=MAX_INPUT, max_size=6)
_OUTPUT = Given("output", "which output y_j the adjoints are taken for (1 = y1)", "integer", default=1, low=1,
                high=MAX_LINES)
_YBAR = Given("ybar", "adjoint seeds (ybar1, ybar2, ...): the adjoints are of L = sum_j ybar_j y_j, a "
              "vector-Jacobian product (default: 1 on the output asked, 0 on the others)", "vector", default=[],
              low=-MAX_INPUT, high=MAX_INPUT, max_size=MAX_LINES)
_NUMBERING = Given("numbering", "how the trace numbers its nodes: baydin (inputs v_{1-n}..v_0, intermediates v_1, "
                   "v_2, ...; Baydin et al. 2018) or inputs-first (inputs v_1..v_n, intermediates v_{n+1}, v_{n+2}, "
                   "... after them); graph, outputs and shown use it, and so do the cell ids", "choice",
                   choices=NUMBERINGS, default="baydin")
_MODE = Given("mode", "the mode the Jacobian is computed by", "choice", choices=("forward", "reverse"))
_TABLE = Given("table", "which table is partly filled", "choice", choices=("forward", "reverse"))
_SHOWN = Given("shown", "ids of the table cells filled in for the student, e.g. 'v1, dv2' (the others are asked; "
               "the output rows y/dy or bar_x, and cells equal to them, are always asked)", "lines", default="",
               max_size=4000)

VARIANTS = (
    Variant("forward", "forward mode: primal and tangent trace for a given seed direction",
            (_GRAPH, _X, _OUTPUTS, _XDOT, _NUMBERING)),
    Variant("reverse", "reverse mode: the adjoint trace for one output or a weighted sum of outputs (primal trace "
            "given), accumulation explicit",
            (_GRAPH, _X, _OUTPUTS, _OUTPUT, _YBAR, _NUMBERING)),
    Variant("jacobian", "the full Jacobian by one mode, and the passes each mode needs for f: R^n -> R^m",
            (_GRAPH, _X, _OUTPUTS, _MODE, _NUMBERING)),
    Variant("fill", "a partly filled forward or reverse table: complete the blank cells",
            (_GRAPH, _X, _OUTPUTS, _TABLE, _XDOT, _OUTPUT, _YBAR, _SHOWN, _NUMBERING)),
    Variant("linear_layer", "a linear layer Y = XW: gradient shapes and backward-pass FLOPs", (
        Given("B", "rows of X (the batch), or sequences when S is given", "integer", low=1, high=10**6),
        Given("D1", "input features (columns of X, rows of W)", "integer", low=1, high=10**6),
        Given("D2", "output features (columns of W)", "integer", low=1, high=10**6),
        Given("S", "tokens per sequence: X has B·S rows (default 1: B rows)", "integer", default=1, low=1,
              high=10**6),
    )),
)


@dataclass(frozen=True)
class Instance:
    graph: Graph
    x: list[Value]
    vals: dict[int, Value]
    # what solving, mistakes and paths derive from the values (partials, passes, the carried trace), computed
    # once per instance: keys hold internal indices and exact seeds only, never numbering-dependent ids
    memo: dict = field(default_factory=dict, compare=False, repr=False)


_INSTANCES: dict[Any, Instance] = {}  # solving, mistakes and paths read one instance many times
_MAX_CACHED = 64


def _instance_key(g: dict[str, Any]) -> Any:
    """What an instance depends on; types kept (x = [True] is refused, x = [1] is not)."""
    items = (g.get("graph"), g.get("x"), g.get("outputs", ""), g.get("numbering", "baydin"))
    try:
        key = tuple([(type(v), tuple(v), tuple(map(type, v))) if type(v) is list else (type(v), v) for v in items])
        hash(key)
    except TypeError:  # an unhashable entry (a user's odd givens): fall back on the text
        return repr(items)
    return key


def _remember(g: dict[str, Any], inst: Instance) -> None:
    if len(_INSTANCES) >= _MAX_CACHED:
        _INSTANCES.clear()
    _INSTANCES[_instance_key(g)] = inst


def instance(g: dict[str, Any]) -> Instance:
    """The parsed graph and its values; the graph is read in the numbering the givens choose."""
    key = _instance_key(g)
    inst = _INSTANCES.get(key)
    if inst is None:
        with numbered(g):
            inst = _instance(g)
        if len(_INSTANCES) >= _MAX_CACHED:
            _INSTANCES.clear()
        _INSTANCES[key] = inst
    return inst


def _memo(inst: Instance, key: Any, build: Callable[[], Any]) -> Any:
    found = inst.memo.get(key)
    if found is None:
        found = inst.memo[key] = build()
    return found


def _seed_key(seeds: Sequence[Value]) -> tuple:
    """Seeds as a memo key of integers (a Fraction's hash is recomputed at every lookup)."""
    return tuple([s.as_integer_ratio() if type(s) is Fraction else (type(s), s) for s in seeds])


def exact_partials(inst: Instance, swapped: bool = False) -> dict[int, tuple[Value, ...]]:
    return _memo(inst, ("partials", swapped), lambda: local_partials(inst.graph, inst.vals, swapped))


def exact_tangents(inst: Instance, xdot: Sequence[Fraction], swapped: bool = False) -> dict[int, Value]:
    """The tangent pass seeded with `xdot` (exact Fractions)."""
    xdot = tuple(xdot)
    return _memo(inst, ("dots", _seed_key(xdot), swapped),
                 lambda: tangent_values(inst.graph, exact_partials(inst, swapped), xdot))


def exact_adjoints(inst: Instance, seeds: Sequence[Fraction], accumulate: bool = True, swapped: bool = False):
    """The reverse sweep from the output seeds ȳ (exact Fractions): adjoint_rows' (seeds, rows, final adjoints)."""
    seeds = tuple(seeds)
    return _memo(inst, ("adjoints", _seed_key(seeds), accumulate, swapped),
                 lambda: adjoint_rows(inst.graph, exact_partials(inst, swapped), seeds, accumulate))


def exact_final_adjoints(inst: Instance, seeds: Sequence[Fraction], accumulate: bool = True,
                         swapped: bool = False) -> dict[int, Value]:
    """exact_adjoints(...)[2], from its memo when the rows were built, else without them."""
    key = _seed_key(seeds)
    done = inst.memo.get(("adjoints", key, accumulate, swapped))
    if done is not None:
        return done[2]
    return _memo(inst, ("final adjoints", key, accumulate, swapped),
                 lambda: final_adjoints(inst.graph, exact_partials(inst, swapped), seeds, accumulate))


_UNITS: dict[tuple[int, int], tuple[Fraction, ...]] = {}


def unit(n: int, i: int) -> tuple[Fraction, ...]:
    """e_{i+1} of length n."""
    found = _UNITS.get((n, i))
    if found is None:
        found = _UNITS[(n, i)] = tuple(ONE if k == i else ZERO for k in range(n))
    return found


def _instance(g: dict[str, Any]) -> Instance:
    x = g.get("x")
    if not isinstance(x, (list, tuple)) or not x or not all(isinstance(v, (int, float)) for v in x):
        raise InvalidGivens("x: a list of input values such as '2, 4'")
    if not all(math.isfinite(v) for v in x):
        raise InvalidGivens("x: finite numbers")
    graph = parse_graph(g.get("graph"), len(x), g.get("outputs", ""))
    xs = [_fraction(v) for v in x]
    try:
        vals = primal_values(graph, xs)
    except Undefined as e:
        raise InvalidGivens(f"the graph is undefined at x: {e}") from None
    return Instance(graph, xs, vals)


def seed_vector(g: dict[str, Any], n: int) -> list[Fraction]:
    xdot = g.get("xdot") or []
    if not xdot:
        return [ONE if i == 0 else ZERO for i in range(n)]
    if not isinstance(xdot, (list, tuple)) or len(xdot) != n or not all(isinstance(v, (int, float)) for v in xdot):
        raise InvalidGivens(f"xdot: one tangent per input ({n} numbers)")
    return [_fraction(v) for v in xdot]


def output_index(g: dict[str, Any], graph: Graph) -> int:
    j = g.get("output", 1)
    if not isinstance(j, int) or not 1 <= j <= len(graph.outputs):
        raise InvalidGivens(f"output: 1..{len(graph.outputs)} (the graph has {len(graph.outputs)} outputs)")
    return j


def adjoint_seeds(g: dict[str, Any], graph: Graph) -> tuple[Fraction, ...]:
    """ȳ: the given weights `ybar` of L = Σ ȳ_j y_j (a vector-Jacobian product), else 1 on the output asked."""
    ybar = g.get("ybar") or []
    if not ybar:
        j = output_index(g, graph)
        return tuple(ONE if i == j else ZERO for i in range(1, len(graph.outputs) + 1))
    if len(ybar) != len(graph.outputs) or not all(isinstance(v, (int, float)) for v in ybar):
        raise InvalidGivens(f"ybar: one seed per output ({len(graph.outputs)} numbers)")
    return tuple(_fraction(v) for v in ybar)


def sweep_name(g: dict[str, Any], graph: Graph) -> str:
    """What the adjoints are of, in LaTeX: y_j, or the weighted sum L = Σ ȳ_j y_j."""
    return r"L = \sum_j \bar y_j y_j" if g.get("ybar") else f"y_{{{output_index(g, graph)}}}"


# ---- tables as the question shows them -------------------------------------------------------------------------


def _input_rows(inst: Instance, mark: str = "", values: Sequence[Value] | None = None) -> list[list[str]]:
    n = inst.graph.n
    rows = []
    for i in range(1, n + 1):
        sym = vtex(i - n, mark) + " = " + (rf"\{mark} x_{{{i}}}" if mark else f"x_{{{i}}}")
        rows.append([sym, show((inst.x if values is None else values)[i - 1])])
    return rows


def _value_cell(cell: Cell, asked: set[str]) -> str:
    return box(cell.id) if cell.id in asked else cell.text


def _array(columns: str, blocks: Sequence[tuple[Sequence[str], Sequence[Sequence[str]]]]) -> str:
    """A LaTeX array of blocks, each a header row (text) and its rows, separated by rules."""
    lines = []
    for header, rows in blocks:
        lines.append(" & ".join(rf"\text{{{h}}}" for h in header) + r" \\ \hline")
        lines += [" & ".join(row) + r" \\" for row in rows]
        lines[-1] += r" \hline"
    return rf"\begin{{array}}{{{columns}}}" + "\n" + "\n".join(lines) + "\n" + r"\end{array}"


def forward_table(inst: Instance, xdot: Sequence[Value], primal: list[Cell], tangent: list[Cell],
                  asked: set[str]) -> str:
    rows = [s + d for s, d in zip(_input_rows(inst), _input_rows(inst, "dot", xdot))]
    rows += [[p.formula, _value_cell(p, asked), t.formula, _value_cell(t, asked)] for p, t in zip(primal, tangent)]
    return _array("ll|ll", [(["Forward primal trace", "Value", "Forward tangent trace", "Value"], rows)])


def reverse_table(inst: Instance, primal: list[Cell], seeds: dict[int, Value], adjoint: list[Cell],
                  asked: set[str]) -> str:
    forward = _input_rows(inst) + [[c.formula, _value_cell(c, asked)] for c in primal]
    backward = [[rf"{vtex(k, 'bar')} = \bar y_{{{j}}}", show(seeds[k])] for j, k in enumerate(inst.graph.outputs, 1)]
    backward += [[c.formula, _value_cell(c, asked)] for c in adjoint]
    return _array("ll", [(["Forward primal trace", "Value"], forward), (["Reverse adjoint trace", "Value"], backward)])


def graph_table(inst: Instance) -> str:
    rows = [[f"{s} = {v}"] for s, v in _input_rows(inst)] + [[primal_tex(nd)] for nd in inst.graph.nodes]
    rows += [[f"y_{{{j}}} = {vtex(k)}"] for j, k in enumerate(inst.graph.outputs, 1)]
    return _array("l", [(["Evaluation trace"], rows)])


def _aligned(lines: Sequence[str]) -> str:
    body = r" \\ ".join(line.replace(" = ", " &= ", 1) for line in lines)
    return rf"\begin{{aligned}} {body} \end{{aligned}}"


def _worked(cells: Sequence[Cell]) -> str:
    return _aligned([c.worked + (f" = {c.text}" if c.worked.rsplit("= ", 1)[-1] != c.text else "") for c in cells])


def _parts(cells: Sequence[Cell], asked: set[str] | None = None) -> tuple[Part, ...]:
    return tuple(Part(c.id, c.label, answer(c.value)) for c in cells if asked is None or c.id in asked)


CONVENTION = ("Reverse order: nodes from the highest index down; each sends $\\bar v_k \\times "
              "\\partial v_k / \\partial v_a$ to its operands in order; a variable's first contribution assigns, "
              "later ones add.")


# ---- solvers ---------------------------------------------------------------------------------------------------


def _later(build: Callable[[], tuple[tuple[Step, ...], tuple[Step, ...]]]):
    """A solution's (steps, shown) built on first read (generation decides on the key alone), in the numbering
    current now: two functions for Solution's steps and shown."""
    shift, done = _SHIFT.get(), []

    def get() -> tuple[tuple[Step, ...], tuple[Step, ...]]:
        if not done:
            token = _SHIFT.set(shift)
            try:
                done.append(build())
            finally:
                _SHIFT.reset(token)
        return done[0]

    return (lambda: get()[0]), (lambda: get()[1])


def _bare(inst: Instance) -> Instance:
    """The instance without its memo, for a worked solution built later to hold: the passes, the carried trace
    and the mistakes' sweeps would otherwise stay alive with every problem not yet rendered."""
    return Instance(inst.graph, inst.x, inst.vals)


# A table's cells as parts: (id, label, value), the labels those of primal_cells, tangent_cells, adjoint_cells.
def _primal_keys(graph: Graph, vals: dict[int, Value]) -> list[tuple[str, str, Value]]:
    return ([(vid(nd.index), f"${vtex(nd.index)}$", vals[nd.index]) for nd in graph.nodes]
            + [(f"y{j}", f"$y_{{{j}}}$", vals[k]) for j, k in enumerate(graph.outputs, 1)])


def _tangent_keys(graph: Graph, dots: dict[int, Value]) -> list[tuple[str, str, Value]]:
    return ([(f"d{vid(nd.index)}", f"${vtex(nd.index, 'dot')}$", dots[nd.index]) for nd in graph.nodes]
            + [(f"dy{j}", rf"$\dot y_{{{j}}}$", dots[k]) for j, k in enumerate(graph.outputs, 1)])


def _adjoint_keys(graph: Graph, rows: Sequence[AdjointRow], bar: dict[int, Value]) -> list[tuple[str, str, Value]]:
    out = []
    for cid, r in zip(adjoint_ids(rows), rows):
        label = f"${vtex(r.target, 'bar')}$"
        if cid.count("_") == 2:
            label += f", contribution {cid.rsplit('_', 1)[1]} (from ${vtex(r.source)}$)"
        out.append((cid, label, r.value))
    return out + [(f"bar_x{i}", rf"$\bar x_{{{i}}}$", bar[i - graph.n]) for i in range(1, graph.n + 1)]


def _key_parts(keys: Sequence[tuple[str, str, Value]], asked: set[str] | None = None) -> tuple[Part, ...]:
    return tuple(Part(cid, label, answer(v)) for cid, label, v in keys if asked is None or cid in asked)


def _forward_parts(inst: Instance, xdot: Sequence[Value]) -> tuple[list[Cell], list[Cell]]:
    dots = exact_tangents(inst, xdot)
    return primal_cells(inst.graph, inst.vals), tangent_cells(inst.graph, inst.vals, dots)


def _reverse_parts(inst: Instance, output: Sequence[Value]):
    seeds, rows, bar = exact_adjoints(inst, output)
    return primal_cells(inst.graph, inst.vals), seeds, adjoint_cells(inst.graph, inst.vals, rows, bar)


def _seed_text(xdot: Sequence[Value]) -> str:
    return ", ".join(rf"\dot x_{{{i}}} = {show(v)}" for i, v in enumerate(xdot, 1))


def _solve_forward(g: dict[str, Any]) -> Solution:
    inst = instance(g)
    graph = inst.graph
    xdot = seed_vector(g, graph.n)
    dots = exact_tangents(inst, xdot)
    keys = [c for pair in zip(_primal_keys(graph, inst.vals), _tangent_keys(graph, dots)) for c in pair]
    inst = _bare(inst)

    def build():
        sv = _shown(inst.vals)
        primal, tangent = primal_cells(graph, inst.vals, sv), tangent_cells(graph, inst.vals, dots, sv)
        steps = (
            Step("Primal trace: evaluate the rows in order.", _worked(primal)),
            Step(f"Tangent trace with ${_seed_text(xdot)}$: each row by the chain rule for its operation, with "
                 "the primal values above.", _worked(tangent)),
        )
        table = forward_table(inst, xdot, primal, tangent, {c[0] for c in keys})
        return steps, (Step("The table to complete:", table),)

    return Solution(_key_parts(keys), *_later(build))


def _solve_reverse(g: dict[str, Any]) -> Solution:
    inst = instance(g)
    graph = inst.graph
    seeds, rows, bar = exact_adjoints(inst, adjoint_seeds(g, graph))
    keys = _adjoint_keys(graph, rows, bar)  # the primal trace is shown: the question is the adjoint trace
    inst = _bare(inst)

    def build():
        sv = _shown(inst.vals)
        primal, adjoint = primal_cells(graph, inst.vals, sv), adjoint_cells(graph, inst.vals, rows, bar, sv)
        seed_text = ", ".join(rf"\bar y_{{{i}}} = {show(seeds[k])}" for i, k in enumerate(graph.outputs, 1))
        steps = (
            Step("Forward sweep: the primal trace.", _worked(primal)),
            Step(f"Reverse sweep for ${sweep_name(g, graph)}$ (seeds ${seed_text}$). " + CONVENTION,
                 _worked(adjoint)),
        )
        table = reverse_table(inst, primal, seeds, adjoint, {c[0] for c in keys})
        return steps, (Step("The table to complete:", table),)

    return Solution(_key_parts(keys), *_later(build))


def jacobian(inst: Instance, carry: Callable[[Value], Value] = _exact, mode: str = "forward") -> list[list[Value]]:
    """J[j][i] = ∂y_{j+1}/∂x_{i+1}: column by column from forward passes, or row by row from reverse passes;
    `carry` rounds every carried value (a student's path) and starts from the carried primal trace."""
    graph, n = inst.graph, inst.graph.n
    if carry is _exact:
        return [list(row) for row in _exact_jacobian(inst, mode)]
    if carry is carry6:
        vals, partials = carried_trace(inst)
    else:
        vals = primal_values(graph, [float(v) for v in inst.x], carry)
        partials = local_partials(graph, vals, carry=carry)
    if mode == "reverse":
        bars = [adjoint_rows(graph, partials, j, carry=carry)[2] for j in range(1, len(graph.outputs) + 1)]
        return [[bar[i - n] for i in range(1, n + 1)] for bar in bars]
    cols = [tangent_values(graph, partials, [ONE if k == i else ZERO for k in range(n)], carry) for i in range(n)]
    return [[cols[i][k] for i in range(n)] for k in graph.outputs]


def _exact_jacobian(inst: Instance, mode: str = "forward") -> tuple[tuple[Value, ...], ...]:
    def build():
        graph, n = inst.graph, inst.graph.n
        if mode == "reverse":
            bars = [exact_adjoints(inst, [ONE if i == j else ZERO for i in range(1, len(graph.outputs) + 1)])[2]
                    for j in range(1, len(graph.outputs) + 1)]
            return tuple(tuple(bar[i - n] for i in range(1, n + 1)) for bar in bars)
        seeds = [unit(n, i) for i in range(n)]
        keys = [("dots", _seed_key(seed), False) for seed in seeds]
        if any(key not in inst.memo for key in keys):  # the n passes in one sweep over the nodes
            for key, dots in zip(keys, tangent_columns(graph, exact_partials(inst), seeds)):
                inst.memo.setdefault(key, dots)
        cols = [inst.memo[key] for key in keys]
        return tuple(tuple(cols[i][k] for i in range(n)) for k in graph.outputs)
    return _memo(inst, ("jacobian", mode), build)


def carried_trace(inst: Instance) -> tuple[dict[int, float], dict[int, tuple[float, ...]]]:
    """The primal values and local partials as the 6-figure student carries them (floats)."""
    def build():
        vals = primal_values(inst.graph, [float(v) for v in inst.x], carry6)
        return vals, local_partials(inst.graph, vals, carry=carry6)
    return _memo(inst, "carried", build)


def pass_formulas(graph: Graph, mode: str) -> list[str]:
    """The rows one pass evaluates: each tangent by its op's rule (forward), or each variable's final adjoint as
    the sum of what its consumers send, v̄_a = Σ_k v̄_k ∂v_k/∂v_a (reverse, Baydin Table 3 summed)."""
    if mode == "forward":
        return [tangent_tex(nd) for nd in graph.nodes]
    seeds = {k: rf"\bar y_{{{j}}}" for j, k in enumerate(graph.outputs, 1)}
    lines = []
    for a in [nd.index for nd in reversed(graph.nodes)] + list(range(0, -graph.n, -1)):
        terms = [seeds[a]] if a in seeds else []
        terms += [vtex(k, "bar") + r" \times " + partial_tex(graph.node(k), slot)
                  for k in sorted(graph.consumers(a), reverse=True)
                  for slot, arg in enumerate(graph.node(k).args) if arg == a]
        lines.append(f"{vtex(a, 'bar')} = " + " + ".join(terms))
    return lines


def _jacobian_entries(inst: Instance, mode: str, J, sweeps: Sequence[Any]) -> list[str]:
    """`J_{ji} = <output row of pass i (forward) or j (reverse), numbers substituted> = value`, one per entry;
    `sweeps`: each forward pass's tangents, or each reverse pass's rows."""
    graph, lines = inst.graph, []
    m, n = len(graph.outputs), graph.n
    sv = _shown(inst.vals)
    for j in range(1, m + 1):
        for i in range(1, n + 1):
            value = show(J[j - 1][i - 1])
            if mode == "forward":  # the output's row of pass i
                k = graph.outputs[j - 1]
                nd = graph.node(k)
                dots = sweeps[i - 1]
                cell: Cell | None = _tangent_cell(nd, dots, sv, {a: show(dots[a]) for a in (*nd.args, k)})
                name = vtex(k, "dot")
            else:  # the last row of pass j that sends to x_i
                rows = sweeps[j - 1]
                last = next((r for r in reversed(rows) if r.target == i - n), None)
                cell = None if last is None else _adjoint_cell(graph, last, "", sv)
                name = vtex(i - n, "bar")
            work = cell.worked[len(cell.formula) + 3:] if cell is not None and cell.worked != cell.formula else ""
            lines.append(rf"J_{{{j},{i}}} = {name}" + (f" = {work}" if work else "")
                         + (f" = {value}" if work.rsplit("= ", 1)[-1] != value else ""))
    return lines


def _solve_jacobian(g: dict[str, Any]) -> Solution:
    inst = instance(g)
    graph, mode = inst.graph, g.get("mode")
    if mode not in ("forward", "reverse"):
        raise InvalidGivens("mode: forward or reverse")
    n, m = graph.n, len(graph.outputs)
    J = jacobian(inst)
    if mode == "forward":
        passes = sweeps = [exact_tangents(inst, unit(n, i)) for i in range(n)]
    else:
        done = [exact_adjoints(inst, unit(m, j)) for j in range(m)]
        passes, sweeps = [d[2] for d in done], [d[1] for d in done]
    cheaper = "forward" if n < m else "reverse" if m < n else "either"
    inst = _bare(inst)

    def build():
        formulas = pass_formulas(graph, mode)
        if mode == "forward":
            header = [rf"\dot x = e_{{{i}}}" for i in range(1, n + 1)]
            rows = [[f] + [show(p[nd.index]) for p in passes] for f, nd in zip(formulas, graph.nodes)]
            pass_step = Step(f"Forward mode: one pass per input, seeding $\\dot x = e_i$ ({n} pass{'es' * (n != 1)}); pass $i$ gives "
                             "column $i$ of $J$ (the tangents of the outputs); each row by its op's rule:",
                             rf"\begin{{array}}{{l|{'r' * n}}} & " + " & ".join(header) + r" \\ \hline "
                             + r" \\ ".join(" & ".join(r) for r in rows) + r" \end{array}")
        else:
            header = [rf"\bar y = e_{{{j}}}" for j in range(1, m + 1)]
            order = [nd.index for nd in reversed(graph.nodes)] + list(range(0, -n, -1))
            rows = [[f] + [show(p.get(k, 0)) for p in passes] for f, k in zip(formulas, order)]
            pass_step = Step(f"Reverse mode: one pass per output, seeding $\\bar y = e_j$ ({m} pass{'es' * (m != 1)}); pass $j$ gives "
                             "row $j$ of $J$ (the adjoints of the inputs); each adjoint is the sum of what its consumers send, and an "
                             r"output's starts at its seed $\bar y_j$:",
                             rf"\begin{{array}}{{l|{'r' * m}}} & " + " & ".join(header) + r" \\ \hline "
                             + r" \\ ".join(" & ".join(r) for r in rows) + r" \end{array}")
        primal = primal_cells(graph, inst.vals)
        steps = (
            Step("Primal trace:", _worked(primal)),
            pass_step,
            Step("Each entry of $J$ is the last row of its pass, with the numbers substituted:",
                 _aligned(_jacobian_entries(inst, mode, J, sweeps))),
            Step("The Jacobian:", "J = " + nf.matrix(J, show)),
            Step(f"For $f: \\mathbb{{R}}^{{{n}}} \\to \\mathbb{{R}}^{{{m}}}$ forward mode needs $n = {n}$ passes and "
                 f"reverse mode $m = {m}$; " + ("both need the same number: either." if cheaper == "either"
                                                else f"{cheaper} mode needs fewer.")),
        )
        return steps, (Step("The graph:", graph_table(inst)),)

    parts = tuple(Part(f"J_{j}_{i}", rf"$\partial y_{{{j}}} / \partial x_{{{i}}}$", answer(J[j - 1][i - 1]))
                  for j in range(1, m + 1) for i in range(1, n + 1))
    parts += (
        Part("passes_forward", "forward-mode passes for the whole Jacobian", Answer("integer", n)),
        Part("passes_reverse", "reverse-mode passes for the whole Jacobian", Answer("integer", m)),
        Part("cheaper", "the mode with fewer passes", Answer("choice", cheaper, choices=("forward", "reverse", "either"))),
    )
    return Solution(parts, *_later(build))


_OUTPUT_ROW = re.compile(r"(y|dy|bar_x)\d+")


def always_asked(cell_id: str) -> bool:
    """The output rows (the derivatives the table is for) are always asked."""
    return _OUTPUT_ROW.fullmatch(cell_id) is not None


def giveaways(graph: Graph, rows: Sequence[AdjointRow] | None) -> set[str]:
    """The cells whose value *is* an always-asked output row, so showing one gives that answer away: an output
    node's primal (y_j = v_k) and, in a forward table, its tangent (ẏ_j = v̇_k); in a reverse table, the last
    contribution an input receives (x̄_i = v̄_{i-n} after it)."""
    cells = {vid(k) for k in graph.outputs}
    if rows is None:
        return cells | {f"d{vid(k)}" for k in graph.outputs}
    last = {r.target: cid for cid, r in zip(adjoint_ids(rows), rows)}
    return cells | {last[a] for a in range(1 - graph.n, 1) if a in last}


def _solve_fill(g: dict[str, Any]) -> Solution:
    inst = instance(g)
    graph, table = inst.graph, g.get("table")
    if table == "forward":
        xdot = seed_vector(g, graph.n)
        dots = exact_tangents(inst, xdot)
        keys = [c for pair in zip(_primal_keys(graph, inst.vals), _tangent_keys(graph, dots)) for c in pair]
        rows = None
    elif table == "reverse":
        seeds, rows, bar = exact_adjoints(inst, adjoint_seeds(g, graph))
        keys = _primal_keys(graph, inst.vals) + _adjoint_keys(graph, rows, bar)
    else:
        raise InvalidGivens("table: forward or reverse")
    ids = {c[0] for c in keys}
    shown = set(_lines(g.get("shown", ""), "shown"))
    unknown = sorted(shown - ids)
    if unknown:
        raise InvalidGivens(f"shown: no cell {unknown[0]!r} in this table (cells: {', '.join(c[0] for c in keys)})")
    if any(always_asked(c) for c in shown):
        raise InvalidGivens("shown: the output rows (y, dy, bar_x) are what the table is for; they are always asked")
    given_away = sorted(shown & giveaways(graph, rows))
    if given_away:
        raise InvalidGivens(f"shown: {given_away[0]} holds an output row's value (y, dy or bar_x), which is always "
                            "asked; showing it would give that answer away")
    asked = ids - shown
    inst = _bare(inst)

    def build():
        sv = _shown(inst.vals)
        primal = primal_cells(graph, inst.vals, sv)
        if rows is None:
            tangent = tangent_cells(graph, inst.vals, dots, sv)
            table = forward_table(inst, xdot, primal, tangent, asked)
            work = (Step("Primal trace:", _worked(primal)),
                    Step(f"Tangent trace with ${_seed_text(xdot)}$:", _worked(tangent)))
        else:
            adjoint = adjoint_cells(graph, inst.vals, rows, bar, sv)
            table = reverse_table(inst, primal, seeds, adjoint, asked)
            work = (Step("Primal trace:", _worked(primal)),
                    Step(f"Adjoint trace for ${sweep_name(g, graph)}$. " + CONVENTION, _worked(adjoint)))
        return work, (Step("The table as given:", table),)

    return Solution(_key_parts(keys, asked), *_later(build))


def linear_layer(B: int, D1: int, D2: int) -> dict[str, Any]:
    """Seed 001: dL/dW = X^T dL/dY (D1 x D2), dL/dX = dL/dY W^T (B x D1); each a matmul of 2·B·D1·D2 FLOPs."""
    mm = 2 * B * D1 * D2
    return {"dW_shape": [D1, D2], "dX_shape": [B, D1], "flops_dW": mm, "flops_dX": mm, "flops_backward": 2 * mm}


def _solve_linear(g: dict[str, Any]) -> Solution:
    try:
        B, D1, D2, S = (int(g[k]) for k in ("B", "D1", "D2", "S"))
    except (KeyError, TypeError, ValueError):
        raise InvalidGivens("B, D1, D2, S: positive integers") from None
    if min(B, D1, D2, S) < 1:
        raise InvalidGivens("B, D1, D2, S: positive integers")
    rows = B * S
    a = linear_layer(rows, D1, D2)
    dims = rf"{rows} \times {D1} \times {D2}"
    steps = (Step(f"$X$ holds $B \\cdot S = {B} \\times {S} = {rows}$ token rows."),) if S > 1 else ()
    steps += (
        Step(r"$\partial L / \partial W = X^T \, \partial L / \partial Y$: "
             rf"$({D1} \times {rows})({rows} \times {D2})$, so $\partial L / \partial W \in \mathbb{{R}}^{{{D1} \times {D2}}}$, "
             r"the shape of $W$."),
        Step(r"$\partial L / \partial X = \partial L / \partial Y \, W^T$: "
             rf"$({rows} \times {D2})({D2} \times {D1})$, so $\partial L / \partial X \in \mathbb{{R}}^{{{rows} \times {D1}}}$, "
             r"the shape of $X$."),
        Step("Each is one matrix product with the same three dimensions; with an FMA counted as 2 FLOPs:",
             rf"2 \cdot {dims} = {nf.sig(a['flops_dW'], 6)}\ \text{{FLOP}}"),
        Step("The backward pass computes both:",
             rf"2 \cdot (2 \cdot {dims}) = 4 \cdot {dims} = {nf.sig(a['flops_backward'], 6)}\ \text{{FLOP}}"),
    )
    parts = (
        Part("dW_shape", r"shape of $\partial L / \partial W$ (rows, columns)", Answer("vector", a["dW_shape"])),
        Part("dX_shape", r"shape of $\partial L / \partial X$ (rows, columns)", Answer("vector", a["dX_shape"])),
        Part("flops_dW", r"FLOPs of $\partial L / \partial W$", Answer("number", float(a["flops_dW"]), unit="FLOP", sig=4)),
        Part("flops_dX", r"FLOPs of $\partial L / \partial X$", Answer("number", float(a["flops_dX"]), unit="FLOP", sig=4)),
        Part("flops_backward", "FLOPs of the backward pass",
             Answer("number", float(a["flops_backward"]), unit="FLOP", sig=4)),
    )
    return Solution(parts, steps)


_SOLVERS = {"forward": _solve_forward, "reverse": _solve_reverse, "jacobian": _solve_jacobian, "fill": _solve_fill,
            "linear_layer": _solve_linear}


def solve(variant: str, givens: dict[str, Any]) -> Solution:
    try:
        with numbered(givens):
            return _SOLVERS[variant](givens)
    except Undefined as e:
        raise InvalidGivens(f"the graph cannot be evaluated at x: {e}") from None


# ---- sampling --------------------------------------------------------------------------------------------------

# inputs, intermediate nodes, (kind of input values, low, high), transcendental ops allowed, magnitude bound
LEVELS = {
    "easy": ((2,), (3, 4), ("int", -3, 5), 1, 1000),
    "medium": ((2, 3), (4, 6), ("dec1", 0.5, 3.0), 2, 10000),
    "hard": ((3,), (6, 8), ("dec2", 0.25, 3.0), 4, 10000),
}
UNARY_POOL = ("sq", "sq", "exp", "log", "sin", "cos")
OP_POOL = ("add",) * 3 + ("sub",) * 2 + ("mul",) * 3 + ("sq",) * 2 + ("div", "exp", "log", "sin", "cos")
# (inputs n, outputs m) of a Jacobian question: forward mode (n passes) is cheaper in some, reverse in others
JACOBIAN_SHAPES = {
    "easy": ((1, 2), (2, 1), (2, 2)),
    "medium": ((1, 2), (2, 1), (2, 2), (1, 3), (3, 1)),
    "hard": ((1, 3), (3, 1), (2, 3), (3, 2), (3, 3)),
}
SHAPE_TRIES = 50
MAX_ANGLE = 10.0     # |argument| of a sampled sin or cos, in radians
CANCELLATION = 0.05  # a sum smaller than this fraction of its largest term loses digits on a calculator


def _inputs(rng: Rng, n: int, spec: tuple[str, float, float]) -> list[Any]:
    return _draw_inputs(rng, n, spec)[0]


_SMALL = {v: Fraction(v) for v in range(-10, 11)}


def _draw_inputs(rng: Rng, n: int, spec: tuple[str, float, float]) -> tuple[list[Any], list[Fraction]]:
    """The inputs as givens (ints, or floats of short decimals) and exactly (what _fraction reads back from
    them: a short decimal's float prints as that decimal)."""
    kind, lo, hi = spec
    if kind == "int":
        choices = [v for v in range(int(lo), int(hi) + 1) if v != 0]
        xs = [rng.choice(choices) for _ in range(n)]
        exact = [_SMALL[v] if v in _SMALL else Fraction(v) for v in xs]
    else:
        exact = [rng.decimal(lo, hi, 1 if kind == "dec1" else 2) for _ in range(n)]
        xs = [float(v) for v in exact]
    if len(set(xs)) < n:
        raise Rejected("inputs must differ")
    return xs, exact


_ARITY = {name: op.arity for name, op in OPS.items()}
_COMMUTATIVE = ("add", "mul")


def random_graph(rng: Rng, n: int, size: int, transcendental: int, outputs: Sequence[int] = (1, 2)) -> Graph:
    """A random trace of `size` nodes on `n` inputs whose number of outputs (unused nodes) is in `outputs`."""
    randint = rng.randint  # rng.choice(seq) is seq[randint(0, len(seq) - 1)]: the same draws, one call fewer
    uses = {i: 0 for i in range(1 - n, 1)}
    depends = {i: 1 << (i + n - 1) for i in range(1 - n, 1)}  # the inputs each node depends on, as bits
    nodes: list[Node] = []
    seen: set[tuple] = set()
    budget = transcendental
    existing = list(range(1 - n, 1))
    for k in range(1, size + 1):
        unused = [i for i in existing if not uses[i]]
        pool = OP_POOL if len(existing) > 1 else UNARY_POOL  # one input: the first op is unary
        op = pool[randint(0, len(pool) - 1)]
        if op in TRANSCENDENTAL:
            if budget == 0:
                pool = ("add", "mul", "sub") if len(existing) > 1 else ("sq",)
                op = pool[randint(0, len(pool) - 1)]
            else:
                budget -= 1
        if _ARITY[op] == 2:
            a = unused[randint(0, len(unused) - 1)] if unused else existing[randint(0, len(existing) - 1)]
            pool = [i for i in unused if i != a] if randint(0, 1) else []
            if not pool:
                pool = [i for i in existing if i != a]
            b = pool[randint(0, len(pool) - 1)]
            if randint(0, 1):
                a, b = b, a
            args: tuple[int, ...] = (a, b)
            key = (op, (a, b) if a < b or op not in _COMMUTATIVE else (b, a))
            uses[a] += 1
            uses[b] += 1
            depends[k] = depends[a] | depends[b]
        else:
            a = (unused[randint(0, len(unused) - 1)] if unused and randint(0, 2)
                 else existing[randint(0, len(existing) - 1)])
            args = (a,)
            key = (op, args)
            uses[a] += 1
            depends[k] = depends[a]
        if key in seen:
            raise Rejected("a node repeats another")
        seen.add(key)
        uses[k] = 0
        existing.append(k)
        nodes.append(Node(k, op, args))
    if any(uses[i] == 0 for i in range(1 - n, 1)):
        raise Rejected("an input is unused")
    sinks = [k for k in range(1, size + 1) if uses[k] == 0]
    if len(sinks) > max(outputs):
        raise Rejected("too many outputs")
    if not any(uses[i] >= 2 for i in uses):
        raise Rejected("no shared variable: adjoints would not accumulate")
    every = (1 << n) - 1  # inputs <= graph.ancestors(k)
    if any(depends[k] != every for k in sinks):
        raise Rejected("an output does not depend on every input")
    if len(sinks) < min(outputs):  # too few sinks: intermediates that depend on every input are outputs too
        inner = [k for k in range(1, size + 1) if uses[k] > 0 and depends[k] == every]
        if len(inner) < min(outputs) - len(sinks):
            raise Rejected("too few nodes that could be outputs")
        extra = rng.shuffle(inner)[: min(outputs) - len(sinks)]
        return Graph(n, tuple(nodes), tuple(sorted(sinks + extra)))
    return Graph(n, tuple(nodes), tuple(sinks))


def _float(v: Value) -> float:
    """float(v), a Fraction's integers divided directly (what float() does, without numbers.Rational's path)."""
    return v.numerator / v.denominator if type(v) is Fraction else float(v)


def _below(v: Value, threshold: float) -> bool:
    """abs(v) < threshold, decided exactly as Python compares a Fraction with a float: the float of |v| decides
    unless it equals the threshold (rounding is monotone and the threshold is a float)."""
    if type(v) is Fraction:
        f = abs(v.numerator / v.denominator)
        return f < threshold if f != threshold else abs(v) < threshold
    return abs(v) < threshold


def _above(v: Value, threshold: float) -> bool:
    """abs(v) > threshold, as Python decides it (see _below)."""
    if type(v) is Fraction:
        f = abs(v.numerator / v.denominator)
        return f > threshold if f != threshold else abs(v) > threshold
    return abs(v) > threshold


def _cancels(total: Value, terms: Sequence[Value]) -> bool:
    """abs(total) < CANCELLATION * max(abs(t) for t in terms), with Python's semantics for Fractions and floats
    (the max's float, times CANCELLATION, compared with |total| exactly)."""
    return _below(total, CANCELLATION * max(abs(_float(t)) for t in terms))


def _check_values(values: Sequence[Value], limit: float) -> None:
    for v in values:
        f = abs(_float(v))
        if f > limit or (0 < f < 0.01):
            raise Rejected("a value is too large or too close to zero for 4 significant figures")


def _check_sums(graph: Graph, vals: dict[int, Value], partials, dots: dict[int, Value] | None) -> None:
    """No catastrophic cancellation in a primal sum or difference, or in a tangent's sum of terms."""
    for nd in graph.nodes:
        if nd.op in ("add", "sub"):
            if _cancels(vals[nd.index], [vals[a] for a in nd.args]):
                raise Rejected("cancellation")
        if dots is not None and len(nd.args) == 2:
            terms = [_mul(p, dots[a]) for p, a in zip(partials[nd.index], nd.args)]
            if _cancels(dots[nd.index], terms):  # an exact 0 from two nonzero terms too
                raise Rejected("cancellation in a tangent")


def _check_adjoint_rows(rows: Sequence[AdjointRow]) -> None:
    """An accumulation that (nearly) cancels — ±189.40 summing to an exact 0 included — is decided by the
    digits a student carries, not by the method."""
    for r in rows:
        if r.accumulates and _cancels(r.value, (r.before, r.contribution)):
            raise Rejected("cancellation in an accumulation")


def _is_zero(v: Value) -> bool:
    return v.numerator == 0 if type(v) is Fraction else v == 0


def _sample_graph(rng: Rng, difficulty: str, n: int, outputs: Sequence[int] = (1, 2)) -> tuple[list[Any], Instance]:
    """A random graph and inputs that pass every check on the graph alone: (the inputs as givens, the instance)."""
    _, sizes, xspec, transcendental, limit = LEVELS[difficulty]
    graph = random_graph(rng, n, rng.randint(*sizes), transcendental, outputs)
    xs, exact = _draw_inputs(rng, n, xspec)
    vals = primal_values(graph, exact)
    if any(_is_zero(vals[nd.index]) for nd in graph.nodes):
        raise Rejected("a primal value is 0")
    if any(nd.op in ("sin", "cos") and _above(vals[nd.args[0]], MAX_ANGLE) for nd in graph.nodes):
        raise Rejected("an angle a calculator would need more figures of")
    _check_values([vals[nd.index] for nd in graph.nodes], limit)
    inst = Instance(graph, exact, vals)
    _check_sums(graph, vals, exact_partials(inst), None)
    J = _exact_jacobian(inst)
    _check_values([v for row in J for v in row], limit)
    if any(_is_zero(v) for row in J for v in row):
        raise Rejected("a derivative is zero")
    return xs, inst


# (low, high, step) of B, D1 = D2 and, at hard, the tokens per sequence S: hypothetical layers of any width
LINEAR_DIMS = {
    "easy": ((2, 64, 1), (8, 512, 8), None),
    "medium": ((8, 2048, 8), (64, 8192, 64), None),
    "hard": ((1, 64, 1), (256, 16384, 128), (128, 8192, 128)),
}


def _sample_linear(rng: Rng, difficulty: str) -> dict[str, Any]:
    """Easy and medium give B directly; hard gives B sequences of S tokens, so X has B·S rows (one more step)."""
    b_range, d_range, s_range = LINEAR_DIMS[difficulty]

    def draw(low: int, high: int, step: int) -> int:
        return step * rng.randint(-(-low // step), high // step)

    g = {"B": draw(*b_range), "D1": draw(*d_range), "D2": draw(*d_range)}
    if s_range is not None:
        g["S"] = draw(*s_range)
    if len({g["B"] * g.get("S", 1), g["D1"], g["D2"]}) < 3:
        raise Rejected("distinct dimensions, so a transposed shape is told apart")
    return g


def _tangent_seed(rng: Rng, n: int, difficulty: str) -> list[int]:
    """A unit vector on a random input; at hard a direction with at least two nonzero entries in −2..2, so the
    output tangent is a directional derivative J·ẋ that combines partial derivatives (one more step)."""
    if difficulty != "hard":
        i = rng.randint(0, n - 1)
        return [int(k == i) for k in range(n)]
    seed = [rng.randint(-2, 2) for _ in range(n)]
    if sum(v != 0 for v in seed) < 2:
        raise Rejected("a hard seed combines at least two inputs")
    return seed


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    try:
        drawn = _sample(rng, variant, difficulty)
    except Undefined:
        raise Rejected("undefined at the inputs") from None
    if variant == "linear_layer":
        return drawn
    g, inst = drawn
    # drawn last, so an instance's graph and values do not depend on how it is numbered
    g = _renumbered(g, inst.graph, rng.choice(NUMBERINGS))
    _remember(g, inst)  # solving, the mistakes and the paths read it next: the same graph, never parsed again
    return g


_CELL_ID = re.compile(r"(d|bar_)?v(m?)(\d+)(_\d+)?")


def renumbered(g: dict[str, Any], numbering: str) -> dict[str, Any]:
    """Givens written in Baydin's numbering, rewritten in `numbering` (the same graph, values and cells)."""
    return _renumbered(g, instance({k: v for k, v in g.items() if k != "numbering"}).graph, numbering)


def _renumbered(g: dict[str, Any], graph: Graph, numbering: str) -> dict[str, Any]:
    new = {**g, "numbering": numbering}
    with numbered(new):
        shift = _SHIFT.get()

        def cell(cid: str) -> str:
            m = _CELL_ID.fullmatch(cid)
            if not m:
                return cid
            head, minus, number, tail = m.groups()
            return (head or "") + vid((-1 if minus else 1) * int(number)) + (tail or "")

        new.update(graph=graph_lines(graph), outputs=[vname(k) for k in graph.outputs])
        if "shown" in g:
            new["shown"] = [cell(c) for c in g["shown"]]
    assert shift in (0, graph.n)
    return new


def _sample(rng: Rng, variant: str, difficulty: str) -> Any:
    """linear_layer: its givens; a graph variant: its givens and the instance (graph and outputs left for
    _renumbered to write, in the numbering drawn last)."""
    if variant == "linear_layer":
        return _sample_linear(rng, difficulty)
    if variant == "jacobian":
        n, m = rng.choice(JACOBIAN_SHAPES[difficulty])
        for _ in range(SHAPE_TRIES):  # keep the drawn shape, so every shape is asked about equally often
            try:
                xs, inst = _sample_graph(rng, difficulty, n, (m,))
            except (Rejected, Undefined):
                continue
            mode = rng.choice(("forward", "reverse"))
            J = _exact_jacobian(inst)
            if not _carried_misses(inst, "jacobian", (), mode, {f"J_{j}_{i}": J[j - 1][i - 1]
                                                                 for j in range(1, m + 1) for i in range(1, n + 1)}):
                return {"graph": None, "x": xs, "outputs": None, "mode": mode}, inst
        raise Rejected(f"no {n}-input, {m}-output graph in {SHAPE_TRIES} draws")
    table = variant if variant in ("forward", "reverse") else rng.choice(("forward", "reverse"))
    weighted = table == "reverse" and difficulty == "hard"  # hard: adjoints of a weighted sum of two outputs
    xs, inst = _sample_graph(rng, difficulty, rng.choice(LEVELS[difficulty][0]), (2,) if weighted else (1, 2))
    graph, limit = inst.graph, LEVELS[difficulty][4]
    rows = None
    if table == "forward":
        xdot = _tangent_seed(rng, graph.n, difficulty)
        if 2 * (graph.size + len(graph.outputs)) > MAX_PARTS:  # the cells, known before they are computed
            raise Rejected("more cells than a LaTeX exam's parts (a-z)")
        seeds = tuple(_SMALL[v] for v in xdot)
        dots = exact_tangents(inst, seeds)
        _check_sums(graph, inst.vals, exact_partials(inst), dots)
        _check_values(dots.values(), limit)
        extra: dict[str, Any] = {"xdot": xdot}
        values = cell_values(graph, inst.vals, dots=dots)
    else:
        if weighted:
            ybar = [rng.choice((-3, -2, -1, 1, 2, 3)) for _ in graph.outputs]
            extra = {"ybar": ybar}
            seeds = tuple(_SMALL[w] for w in ybar)
        else:
            j = rng.randint(1, len(graph.outputs))
            extra = {"output": j}
            seeds = unit(len(graph.outputs), j - 1)
        cells = sum(len(nd.args) for nd in graph.nodes) + graph.n
        if cells + (graph.size + len(graph.outputs) if variant == "fill" else 0) > MAX_PARTS:
            raise Rejected("more cells than a LaTeX exam's parts (a-z)")
        _, rows, bar = exact_adjoints(inst, seeds)
        if not any(r.accumulates for r in rows):
            raise Rejected("no accumulation in the adjoint trace")
        _check_adjoint_rows(rows)
        _check_values([r.value for r in rows], limit)
        values = cell_values(graph, inst.vals, rows=rows, bar=bar, primal=variant == "fill")
    if variant == "fill":
        hidden = giveaways(graph, rows)
        candidates = [c for c in values if not always_asked(c) and c not in hidden]
        picked = set(rng.shuffle(candidates)[: len(candidates) // 2])
        if not picked:
            raise Rejected("a partly filled table shows some cells and asks others")
        extra.update(table=table, shown=[c for c in candidates if c in picked])
        values = {c: v for c, v in values.items() if c not in picked}
    if _carried_misses(inst, table, seeds, "", values):
        raise Rejected("a student carrying 6 significant figures lands outside the tolerance")
    return {"graph": None, "x": xs, "outputs": None, **extra}, inst  # graph and outputs: written as numbered


# ---- named mistakes --------------------------------------------------------------------------------------------


def _applies(variant: str, g: dict[str, Any], table: str) -> bool:
    return variant == table or (variant == "fill" and g.get("table") == table)


def _seed_wrong_input(variant: str, g: dict[str, Any]) -> Value | None:
    if not _applies(variant, g, "forward"):
        return None
    inst = instance(g)
    xdot = seed_vector(g, inst.graph.n)
    wrong = xdot[-1:] + xdot[:-1]  # the seed moved to the neighbouring input
    if wrong == xdot:
        return None
    return float(exact_tangents(inst, wrong)[inst.graph.outputs[0]])


def _has_product_or_quotient(graph: Graph, k: int) -> bool:
    return any(i >= 1 and graph.node(i).op in ("mul", "div") for i in graph.ancestors(k))


def _factor_wrong_forward(variant: str, g: dict[str, Any]) -> Value | None:
    if not _applies(variant, g, "forward"):
        return None
    inst = instance(g)
    if not _has_product_or_quotient(inst.graph, inst.graph.outputs[0]):
        return None
    return float(exact_tangents(inst, seed_vector(g, inst.graph.n), swapped=True)[inst.graph.outputs[0]])


def _factor_wrong_reverse(variant: str, g: dict[str, Any]) -> Value | None:
    if not _applies(variant, g, "reverse"):
        return None
    inst = instance(g)
    j = adjoint_seeds(g, inst.graph)
    if not any(w and _has_product_or_quotient(inst.graph, k) for w, k in zip(j, inst.graph.outputs)):
        return None
    return float(exact_final_adjoints(inst, j, swapped=True)[1 - inst.graph.n])


def _not_accumulated(variant: str, g: dict[str, Any]) -> Value | None:
    if not _applies(variant, g, "reverse"):
        return None
    inst = instance(g)
    j = adjoint_seeds(g, inst.graph)
    if not any(r.accumulates for r in exact_adjoints(inst, j)[1]):
        return None
    return float(exact_final_adjoints(inst, j, accumulate=False)[1 - inst.graph.n])


def _adjoint_seed_ignored(variant: str, g: dict[str, Any]) -> Value | None:
    """The weights ȳ ignored: the sweep run for y1 alone (seed 1 on y1, 0 elsewhere)."""
    if not _applies(variant, g, "reverse") or not g.get("ybar"):
        return None
    inst = instance(g)
    return float(exact_final_adjoints(inst, unit(len(inst.graph.outputs), 0))[1 - inst.graph.n])


def _jacobian_columns_swapped(variant: str, g: dict[str, Any]) -> Value | None:
    J = _exact_jacobian(instance(g))
    return float(J[0][1]) if len(J[0]) > 1 else None


def _linear(g: dict[str, Any]) -> tuple[int, int, int]:
    """(rows of X, D1, D2)."""
    return int(g["B"]) * int(g.get("S", 1)), int(g["D1"]), int(g["D2"])


MISTAKES = (
    Mistake("seed_on_wrong_input", "dy1",
            "The tangent seed was put on the wrong input (the next one): the table then differentiates with "
            "respect to another variable than the one asked.", ("forward", "fill"), _seed_wrong_input),
    Mistake("chain_rule_factor_wrong", "dy1",
            "A local derivative was paired with the wrong factor: d(ab) = da·b + a·db (each tangent times the "
            "OTHER factor), and the quotient rule's numerator is da·b − a·db, in that order.",
            ("forward", "fill"), _factor_wrong_forward),
    Mistake("chain_rule_factor_wrong_reverse", "bar_x1",
            "A local derivative was paired with the wrong factor: ∂(ab)/∂a = b, not a; ∂(a/b)/∂a = 1/b and "
            "∂(a/b)/∂b = −a/b².", ("reverse", "fill"), _factor_wrong_reverse),
    Mistake("adjoint_not_accumulated", "bar_x1",
            "A variable used by several nodes collects a contribution from each: v̄ = v̄ + v̄_k·∂v_k/∂v; "
            "overwriting keeps only the last one.", ("reverse", "fill"), _not_accumulated),
    Mistake("adjoint_seed_ignored", "bar_x1",
            "The outputs' adjoints start at the seeds ȳ shown (L = Σ ȳ_j y_j), not at 1 for y1 and 0 for the "
            "others.", ("reverse", "fill"), _adjoint_seed_ignored),
    Mistake("jacobian_column_mixed_up", "J_1_1",
            "∂y1/∂x1 was read from the pass seeded on x2 (column 2 of the Jacobian).", ("jacobian",),
            _jacobian_columns_swapped),
    Mistake("backward_one_matmul", "flops_backward",
            "The backward pass computes two products, dL/dW and dL/dX, each 2·B·D1·D2 FLOPs: 4·B·D1·D2 in all.",
            ("linear_layer",), lambda v, g: float(2 * math.prod(_linear(g)))),
    Mistake("fma_as_one_flop", "flops_dW",
            "A fused multiply-add is 2 FLOPs (one multiply, one add): a product is 2·B·D1·D2, not B·D1·D2.",
            ("linear_layer",), lambda v, g: float(math.prod(_linear(g)))),
    Mistake("sequence_length_forgotten", "flops_dW",
            "X has one row per token, B·S rows: the products are 2·(B·S)·D1·D2 FLOPs, not 2·B·D1·D2.",
            ("linear_layer",), lambda v, g: float(2 * int(g["B"]) * int(g["D1"]) * int(g["D2"]))
            if int(g.get("S", 1)) > 1 else None),
    Mistake("gradient_shape_transposed", "dW_shape",
            "dL/dW has the shape of W (D1 x D2): X^T dL/dY is (D1 x B)(B x D2).",
            ("linear_layer",), lambda v, g: [int(g["D2"]), int(g["D1"])]),
)

# No mistake needs the numbering: each gives a number, and instance() reads the graph in the givens' numbering.

# ---- student paths ---------------------------------------------------------------------------------------------
# A careful student works from the table as printed (6 significant figures) and carries at least 6 figures into
# later rows, as every question says; they then round each answer to the precision asked.  The sampler replays
# that for every cell it asks (`carried_failures`), since cell ids differ from graph to graph; the registry's
# StudentPaths below declare the same path on the parts every question of a variant has, for the audit.


@_in_numbering
def carried_values(variant: str, g: dict[str, Any]) -> dict[str, float]:
    """Every cell as a student computes it carrying 6 significant figures (sin, cos, exp, ln on a calculator)."""
    return dict(_carried_for(variant, g))


def _carried_for(variant: str, g: dict[str, Any]) -> dict[str, float]:
    """carried_values, shared with the instance's memo (read it, do not write it)."""
    inst = instance(g)
    table = g.get("table") if variant == "fill" else variant
    if table == "forward":
        return _carried_cells(inst, table, tuple(seed_vector(g, inst.graph.n)), "")
    if table == "reverse":
        return _carried_cells(inst, table, adjoint_seeds(g, inst.graph), "")
    return _carried_cells(inst, "jacobian", (), g.get("mode", "forward"))


def _carried_cells(inst: Instance, table: str, seeds: tuple[Fraction, ...], mode: str) -> dict[str, float]:
    """carried_values of a forward or reverse table seeded with `seeds`, or of the Jacobian by `mode`; the ids
    in the current numbering (kept: the sampler and the paths read it, neither writes)."""
    graph, shift = inst.graph, _SHIFT.get()

    def build() -> dict[str, float]:
        vals, partials = carried_trace(inst)
        if table == "forward":
            dots = _memo(inst, ("carried dots", _seed_key(seeds)),
                         lambda: tangent_values(graph, partials, seeds, carry6))
            cells = cell_values(graph, vals, dots=dots)
        elif table == "reverse":
            _, rows, bar = _memo(inst, ("carried adjoints", _seed_key(seeds)),
                                 lambda: adjoint_rows(graph, partials, seeds, carry=carry6))
            cells = cell_values(graph, vals, rows=rows, bar=bar)
        else:
            J = jacobian(inst, carry=carry6, mode=mode)
            return {f"J_{j}_{i}": float(J[j - 1][i - 1]) for j in range(1, len(J) + 1) for i in range(1, graph.n + 1)}
        return {cid: float(v) for cid, v in cells.items()}

    return _memo(inst, ("carried cells", shift, table, _seed_key(seeds), mode), build)


def _carried_misses(inst: Instance, table: str, seeds: tuple[Fraction, ...], mode: str,
                    asked: dict[str, Value]) -> list[str]:
    carried = _carried_cells(inst, table, seeds, mode)
    return [cid for cid, exact in asked.items()
            if not matches(key := answer(exact), _rounded_as_asked(key, carried[cid]))]


def _rounded_as_asked(key: Answer, value: float) -> float:
    return round(value, key.decimals) if key.decimals is not None else float(f"{value:.{key.sig}g}")


def carried_failures(variant: str, g: dict[str, Any], asked: dict[str, Value]) -> list[str]:
    """The asked cells (id -> exact value) where the 6-figure student's rounded answer misses the tolerance."""
    carried = carried_values(variant, g)
    return [cid for cid, exact in asked.items()
            if not matches(key := answer(exact), _rounded_as_asked(key, carried[cid]))]


_carried: list = [None, {}]  # [the solution last audited, its carried cell values]


def _carried_answer(cell_id: str) -> Callable[[str, dict[str, Any], Solution], float | None]:
    def value(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
        key = next((p.answer for p in solution.parts if p.id == cell_id), None)
        if key is None:
            return None
        if _carried[0] is not solution:
            _carried[:] = [solution, _carried_for(variant, g)]
        return _rounded_as_asked(key, _carried[1][cell_id])
    return value


CARRIED = ("Works from the table's values as printed (6 significant figures), carries 6 figures into later rows, "
           "evaluates sin, cos, exp and ln on a calculator, and rounds the answer as asked.")
# Parts every question of these variants asks (forward and fill: y1; reverse: n >= 2). The first node is v1 or
# v_{n+1} as the numbering goes, so it is not named here: the sampler replays the path on every cell anyway.
PATHS = tuple(StudentPath(f"carries_6_figures_{cid}", cid, CARRIED, variants, _in_numbering(_carried_answer(cid)))
              for cid, variants in (("y1", ("forward", "fill")),
                                    ("dy1", ("forward",)), ("bar_x1", ("reverse",)), ("bar_x2", ("reverse",)),
                                    ("J_1_1", ("jacobian",))))

TOPIC = Topic(
    name="autodiff",
    description="forward- and reverse-mode AD tables of a computational graph, Jacobian cost, linear-layer backward",
    variants=VARIANTS,
    sample=sample,
    solve=solve,
    mistakes=MISTAKES,
    paths=PATHS,
)
