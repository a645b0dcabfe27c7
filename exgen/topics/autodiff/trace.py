"""The passes over a graph: the primal trace, local partials, tangents (forward mode, Baydin Table 2) and the
adjoint sweep with explicit accumulation (reverse mode, Baydin Table 3), each optionally carried as a student
rounds; and every cell's id and value in table order."""

from __future__ import annotations

from fractions import Fraction
from typing import Callable, NamedTuple, Sequence

from exgen.topics.autodiff.arithmetic import ONE, ZERO, Undefined, Value, _add, _bounded_value, _exact, _mul
from exgen.topics.autodiff.graph import _SHIFT, Graph, vid
from exgen.topics.autodiff.ops import OPS, _swapped_partials


_VALUE = {name: op.value for name, op in OPS.items()}
_PARTIALS = {name: op.partials for name, op in OPS.items()}


def primal_values(graph: Graph, x: Sequence[Value], carry: Callable[[Value], Value] = _exact) -> dict[int, Value]:
    """The primal trace; `carry` is applied to every value a later row uses (a student's rounding)."""
    vals: dict[int, Value] = {i - graph.n: x[i - 1] for i in range(1, graph.n + 1)}
    exact = carry is _exact
    for k, op, args in graph.nodes:
        try:
            v = _bounded_value(_VALUE[op](vals[args[0]], vals[args[1]]) if len(args) == 2
                               else _VALUE[op](vals[args[0]]))
        except (ZeroDivisionError, OverflowError, ValueError) as e:
            raise Undefined(str(e)) from None
        vals[k] = v if exact else carry(v)
    return vals


def local_partials(graph: Graph, vals: dict[int, Value], swapped: bool = False,
                   carry: Callable[[Value], Value] = _exact) -> dict[int, tuple[Value, ...]]:
    out = {}
    exact = carry is _exact
    for k, op, args in graph.nodes:
        if swapped:
            local = _swapped_partials(op, [vals[a] for a in args], vals[k])
        elif len(args) == 2:
            local = _PARTIALS[op](vals[args[0]], vals[args[1]], vals[k])
        else:
            local = _PARTIALS[op](vals[args[0]], vals[k])
        if len(local) == 1:
            p = _bounded_value(local[0])
            out[k] = (p if exact else carry(p),)
        else:
            p, q = _bounded_value(local[0]), _bounded_value(local[1])
            out[k] = (p, q) if exact else (carry(p), carry(q))
    return out


def swapped_partials(graph: Graph, vals: dict[int, Value],
                     partials: dict[int, tuple[Value, ...]]) -> dict[int, tuple[Value, ...]]:
    """local_partials(graph, vals, swapped=True) from the right `partials` (local_partials(graph, vals)): the
    'chain rule factor wrong' mistake changes a product's and a quotient's partials only."""
    out = dict(partials)
    for k, op, args in graph.nodes:
        if op in ("mul", "div"):
            p, q = _swapped_partials(op, [vals[a] for a in args], vals[k])
            out[k] = (_bounded_value(p), _bounded_value(q))
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
