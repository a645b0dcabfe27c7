"""The solvers: the forward and reverse tables, the Jacobian and its passes, a partly filled table, and a linear
layer's backward (seed 001: dL/dW = X^T dL/dY, dL/dX = dL/dY W^T, 4mnp FLOPs); worked solutions are built on
first read."""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

from exgen import numfmt as nf
from exgen.givens import check
from exgen.problem import Answer, Part, Solution, Step
from exgen.topics.autodiff.arithmetic import Undefined, Value
from exgen.topics.autodiff.display import answer, partial_tex, show, tangent_tex
from exgen.topics.autodiff.givens import VARIANTS, adjoint_seeds, seed_vector, sweep_name
from exgen.topics.autodiff.graph import _SHIFT, Graph, _lines, numbered, vid, vtex
from exgen.topics.autodiff.instance import (Instance, exact_adjoints, exact_tangents, instance, jacobian, unit)
from exgen.topics.autodiff.tables import (CONVENTION, Cell, _adjoint_cell, _aligned, _shown, _tangent_cell,
                                          _worked, adjoint_cells, forward_table, graph_table, primal_cells,
                                          reverse_table, tangent_cells)
from exgen.topics.autodiff.trace import AdjointRow, adjoint_ids
from exgen.topics.base import InvalidGivens


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
            Step(f"For $f: \\mathbb{{R}}^{{{n}}} \\to \\mathbb{{R}}^{{{m}}}$ forward mode needs $n = {n}$ {nf.plural(n, 'pass', 'passes')} and "
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

    def steps() -> tuple[Step, ...]:  # built on first read
        dims = rf"{rows} \times {D1} \times {D2}"
        out = (Step(f"$X$ holds $B \\cdot S = {B} \\times {S} = {rows}$ token rows."),) if S > 1 else ()
        out += (
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
        return out

    parts = (
        Part("dW_shape", r"shape of $\partial L / \partial W$ (rows, columns)", Answer("vector", a["dW_shape"])),
        Part("dX_shape", r"shape of $\partial L / \partial X$ (rows, columns)", Answer("vector", a["dX_shape"])),
        Part("flops_dW", r"FLOPs of $\partial L / \partial W$", Answer("number", float(a["flops_dW"]), unit="FLOP", sig=4)),
        Part("flops_dX", r"FLOPs of $\partial L / \partial X$", Answer("number", float(a["flops_dX"]), unit="FLOP", sig=4)),
        Part("flops_backward", "FLOPs of the backward pass",
             Answer("number", float(a["flops_backward"]), unit="FLOP", sig=4)),
    )
    return Solution(parts, steps)


_VARIANTS = {v.name: v for v in VARIANTS}
_SOLVERS = {"forward": _solve_forward, "reverse": _solve_reverse, "jacobian": _solve_jacobian, "fill": _solve_fill,
            "linear_layer": _solve_linear}


def solve(variant: str, givens: dict[str, Any]) -> Solution:
    check(_VARIANTS[variant], givens)
    try:
        with numbered(givens):
            return _SOLVERS[variant](givens)
    except Undefined as e:
        raise InvalidGivens(f"the graph cannot be evaluated at x: {e}") from None
