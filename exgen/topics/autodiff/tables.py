"""The tables as a question shows them and the worked lines of a solution: each cell's formula and
substituted form, the forward, reverse and graph tables (LaTeX arrays), and the reverse-order convention."""

from __future__ import annotations

from typing import NamedTuple, Sequence

from exgen import numfmt as nf
from exgen.topics.autodiff.arithmetic import Value
from exgen.topics.autodiff.display import _fill, box, partial_tex, primal_tex, show, tangent_tex
from exgen.topics.autodiff.graph import Graph, Node, vid, vtex
from exgen.topics.autodiff.instance import Instance
from exgen.topics.autodiff.ops import PARTIAL_NUM, PRIMAL_NUM, TANGENT_NUM
from exgen.topics.autodiff.trace import AdjointRow, adjoint_ids


class Cell(NamedTuple):
    """One table cell: id, the row's formula (LaTeX), the substituted worked form, the value (a part's label is
    the solver's: solvers._primal_keys and the like)."""

    id: str
    formula: str
    worked: str
    value: Value
    text: str  # the value as a worked solution shows it: show(value)


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
        cells.append(Cell(vid(k), formula, f"{formula} = {sub}", vals[k], sv[k]))
    for j, k in enumerate(graph.outputs, 1):
        f = f"y_{{{j}}} = {vtex(k)}"
        cells.append(Cell(f"y{j}", f, f, vals[k], sv[k]))
    return cells


def _tangent_cell(nd: Node, dots: dict[int, Value], sv: dict[int, str], sd: dict[int, str]) -> Cell:
    """The tangent row of node `nd`; sv, sd: the shown primal values and tangents (of its operands and itself)."""
    a, b, k = nd.args[0], nd.args[-1], nd.index
    sub = _fill(TANGENT_NUM[nd.op], {"a": _signed(sv[a]), "A": sv[a], "b": _signed(sv[b]),
                                     "da": _signed(sd[a]), "db": _signed(sd[b])})
    formula = tangent_tex(nd)
    return Cell(f"d{vid(k)}", formula, f"{formula} = {sub}", dots[k], sd[k])


def tangent_cells(graph: Graph, vals: dict[int, Value], dots: dict[int, Value],
                  sv: dict[int, str] | None = None) -> list[Cell]:
    sv = _shown(vals) if sv is None else sv
    sd = _shown(dots)
    cells = [_tangent_cell(nd, dots, sv, sd) for nd in graph.nodes]
    for j, k in enumerate(graph.outputs, 1):
        f = rf"\dot y_{{{j}}} = {vtex(k, 'dot')}"
        cells.append(Cell(f"dy{j}", f, f, dots[k], sd[k]))
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
    return Cell(cid, formula, worked, r.value, show(r.value))


def adjoint_cells(graph: Graph, vals: dict[int, Value], rows: Sequence[AdjointRow], bar: dict[int, Value],
                  sv: dict[int, str] | None = None) -> list[Cell]:
    sv = _shown(vals) if sv is None else sv
    cells = [_adjoint_cell(graph, r, cid, sv) for cid, r in zip(adjoint_ids(rows), rows)]
    for i in range(1, graph.n + 1):
        f = rf"\bar x_{{{i}}} = {vtex(i - graph.n, 'bar')}"
        v = bar[i - graph.n]
        cells.append(Cell(f"bar_x{i}", f, f, v, show(v)))
    return cells


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


CONVENTION = ("Reverse order: nodes from the highest index down; each sends $\\bar v_k \\times "
              "\\partial v_k / \\partial v_a$ to its operands in order; a variable's first contribution assigns, "
              "later ones add.")
