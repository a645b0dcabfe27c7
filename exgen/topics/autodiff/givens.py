"""The givens: the variants and their bounds, and reading the seeds (tangent seed ẋ, output asked, adjoint seeds ȳ)
from them."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from exgen.exact import decimal as _fraction
from exgen.topics.autodiff.arithmetic import ONE, ZERO
from exgen.topics.autodiff.graph import GRAMMAR_HELP, MAX_LINE, MAX_LINES, NUMBERINGS, Graph
from exgen.topics.base import Given, InvalidGivens, Variant


# Bounds (issue 10): at most MAX_LINES lines of at most MAX_LINE characters and 6 inputs (the grammar's own limits,
# checked again by parse_graph), inputs and seeds within ±MAX_INPUT; a value beyond MAX_MAGNITUDE anywhere in the
# trace is refused while it is computed.
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
