"""Student paths: the careful student who works from the table as printed, carries 6 significant figures and
rounds each answer as asked; the sampler replays it on every asked cell."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable

from exgen import numfmt as nf
from exgen.grading.compare import close
from exgen.problem import Answer, Solution
from exgen.topics.autodiff.arithmetic import Value
from exgen.topics.autodiff.display import carry6, tolerance
from exgen.topics.autodiff.givens import adjoint_seeds, seed_vector
from exgen.topics.autodiff.graph import _SHIFT, _in_numbering
from exgen.topics.autodiff.instance import Instance, _memo, _seed_key, carried_trace, instance, jacobian
from exgen.topics.autodiff.trace import adjoint_rows, cell_values, tangent_values
from exgen.topics.base import StudentPath, each


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
    return _misses(_carried_cells(inst, table, seeds, mode), asked)


def _misses(carried: dict[str, float], asked: dict[str, Value]) -> list[str]:
    """The asked cells (id -> exact value) whose carried value, rounded as asked, is outside the key's tolerance:
    matches(key, rounded) for a number key, its allowance computed once per key."""
    out = []
    for cid, exact in asked.items():
        key, allowance = tolerance(exact)
        if not all(close(key.value, r, allowance) for r in _rounded_as_asked(key, carried[cid])):
            out.append(cid)
    return out


def _rounded_as_asked(key: Answer, value: float) -> tuple[float, ...]:
    """The carried value rounded as asked: at a tie either neighbour (`nf.held`)."""
    return nf.held(value, key.sig, key.decimals)


def carried_failures(variant: str, g: dict[str, Any], asked: dict[str, Value]) -> list[str]:
    """The asked cells (id -> exact value) where the 6-figure student's rounded answer misses the tolerance."""
    return _misses(carried_values(variant, g), asked)


# (the solution last audited, its carried cell values): read and replaced as one tuple, so a thread (the practice
# server's) never pairs one solution with another's values
_carried: tuple[Solution | None, dict[str, float]] = (None, {})


def _carried_answer(cell_id: str) -> Callable[[str, dict[str, Any], Solution], float | None]:
    def value(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        global _carried
        key = next((p.answer for p in solution.parts if p.id == cell_id), None)
        if key is None:
            return None
        audited, values = _carried
        if audited is not solution:
            token = _SHIFT.set(0)  # the ids these paths read name no node: the cells as the sampler kept them
            try:
                values = _carried_for(variant, g)
            finally:
                _SHIFT.reset(token)
            _carried = (solution, values)
        return each(lambda v: v, _rounded_as_asked(key, values[cell_id]))
    return value


CARRIED = ("Works from the table's values as printed (6 significant figures), carries 6 figures into later rows, "
           "evaluates sin, cos, exp and ln on a calculator, and rounds the answer as asked.")
# Parts every question of these variants asks (forward and fill: y1; reverse: n >= 2). The first node is v1 or
# v_{n+1} as the numbering goes, so it is not named here: the sampler replays the path on every cell anyway.
PATHS = tuple(StudentPath(f"carries_6_figures_{cid}", cid, CARRIED, variants, _carried_answer(cid))
              for cid, variants in (("y1", ("forward", "fill")),
                                    ("dy1", ("forward",)), ("bar_x1", ("reverse",)), ("bar_x2", ("reverse",)),
                                    ("J_1_1", ("jacobian",))))
