"""An instance: the parsed graph and its exact values, cached by givens, with its passes computed once (partials,
tangents, adjoint sweeps, the Jacobian, the 6-figure student's carried trace)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Sequence

from exgen.exact import decimal as _fraction
from exgen.topics.autodiff.arithmetic import ONE, ZERO, Undefined, Value, _exact
from exgen.topics.autodiff.display import carry6
from exgen.topics.autodiff.graph import Graph, numbered, parse_graph
from exgen.topics.autodiff.trace import (adjoint_rows, final_adjoints, local_partials, primal_values,
                                          swapped_partials, tangent_columns, tangent_values)
from exgen.topics.base import InvalidGivens


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
    if swapped:  # only a product's and a quotient's partials differ: the others are the right ones, computed once
        return _memo(inst, ("partials", True), lambda: swapped_partials(inst.graph, inst.vals, exact_partials(inst)))
    return _memo(inst, ("partials", False), lambda: local_partials(inst.graph, inst.vals))


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
