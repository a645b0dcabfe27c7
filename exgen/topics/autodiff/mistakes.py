"""The named mistakes: the tangent seed on the wrong input, a chain-rule factor paired wrongly (forward and
reverse), adjoints not accumulated, the adjoint seeds ignored, a Jacobian column mixed up, and a linear layer's
backward FLOPs and gradient shape."""

from __future__ import annotations

import math
from typing import Any

from exgen.topics.autodiff.arithmetic import Value
from exgen.topics.autodiff.givens import adjoint_seeds, seed_vector
from exgen.topics.autodiff.graph import Graph
from exgen.topics.autodiff.instance import (_exact_jacobian, exact_adjoints, exact_final_adjoints, exact_tangents,
                                            instance, unit)
from exgen.problem import Solution
from exgen.topics.base import Mistake


def _applies(variant: str, g: dict[str, Any], table: str) -> bool:
    return variant == table or (variant == "fill" and g.get("table") == table)


def _seed_wrong_input(variant: str, g: dict[str, Any], solution: Solution) -> Value | None:
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


def _factor_wrong_forward(variant: str, g: dict[str, Any], solution: Solution) -> Value | None:
    if not _applies(variant, g, "forward"):
        return None
    inst = instance(g)
    if not _has_product_or_quotient(inst.graph, inst.graph.outputs[0]):
        return None
    return float(exact_tangents(inst, seed_vector(g, inst.graph.n), swapped=True)[inst.graph.outputs[0]])


def _factor_wrong_reverse(variant: str, g: dict[str, Any], solution: Solution) -> Value | None:
    if not _applies(variant, g, "reverse"):
        return None
    inst = instance(g)
    j = adjoint_seeds(g, inst.graph)
    if not any(w and _has_product_or_quotient(inst.graph, k) for w, k in zip(j, inst.graph.outputs)):
        return None
    return float(exact_final_adjoints(inst, j, swapped=True)[1 - inst.graph.n])


def _not_accumulated(variant: str, g: dict[str, Any], solution: Solution) -> Value | None:
    if not _applies(variant, g, "reverse"):
        return None
    inst = instance(g)
    j = adjoint_seeds(g, inst.graph)
    if not any(r.accumulates for r in exact_adjoints(inst, j)[1]):
        return None
    return float(exact_final_adjoints(inst, j, accumulate=False)[1 - inst.graph.n])


def _adjoint_seed_ignored(variant: str, g: dict[str, Any], solution: Solution) -> Value | None:
    """The weights ȳ ignored: the sweep run for y1 alone (seed 1 on y1, 0 elsewhere)."""
    if not _applies(variant, g, "reverse") or not g.get("ybar"):
        return None
    inst = instance(g)
    return float(exact_final_adjoints(inst, unit(len(inst.graph.outputs), 0))[1 - inst.graph.n])


def _jacobian_columns_swapped(variant: str, g: dict[str, Any], solution: Solution) -> Value | None:
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
            ("linear_layer",), lambda v, g, s: float(2 * math.prod(_linear(g)))),
    Mistake("fma_as_one_flop", "flops_dW",
            "A fused multiply-add is 2 FLOPs (one multiply, one add): a product is 2·B·D1·D2, not B·D1·D2.",
            ("linear_layer",), lambda v, g, s: float(math.prod(_linear(g)))),
    Mistake("sequence_length_forgotten", "flops_dW",
            "X has one row per token, B·S rows: the products are 2·(B·S)·D1·D2 FLOPs, not 2·B·D1·D2.",
            ("linear_layer",), lambda v, g, s: float(2 * int(g["B"]) * int(g["D1"]) * int(g["D2"]))
            if int(g.get("S", 1)) > 1 else None),
    Mistake("gradient_shape_transposed", "dW_shape",
            "dL/dW has the shape of W (D1 x D2): X^T dL/dY is (D1 x B)(B x D2).",
            ("linear_layer",), lambda v, g, s: [int(g["D2"]), int(g["D1"])]),
)

# No mistake needs the numbering: each gives a number, and instance() reads the graph in the givens' numbering.
# None reads the key's solution either: each runs a pass of its own on the instance (which instance() keeps
# parsed, with its passes, for the draw's solver, mistakes and paths).
