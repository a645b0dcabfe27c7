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
transcendental op enters; the user's graph is parsed by the small grammar in graph.py, never evaluated.

The topic is a package with one module per job: arithmetic (exact values and fast Fraction operators), graph
(nodes, grammar, numbering), ops (elementary operations), display (keys, shown values, LaTeX formulas), trace
(the passes), instance (parsed givens with their passes cached), givens (variants, seeds), tables (cells, tables,
worked lines), solvers, sampler, mistakes, paths. This module assembles them into TOPIC.
"""

from __future__ import annotations

from exgen.topics.autodiff.arithmetic import (  # noqa: F401  (re-exported: tests use them)
    MINUS_ONE, ONE, ZERO, Undefined, Value, _add, _mul, _sub)
from exgen.topics.autodiff.display import SHOW, answer, box, show  # noqa: F401  (re-exported: tests use them)
from exgen.topics.autodiff.givens import VARIANTS
from exgen.topics.autodiff.graph import (  # noqa: F401  (re-exported: tests use them)
    MAX_LINES, NUMBERINGS, Graph, Node, graph_lines, numbered, parse_graph)
from exgen.topics.autodiff.instance import Instance, instance, jacobian  # noqa: F401  (re-exported: tests use them)
from exgen.topics.autodiff.mistakes import MISTAKES
from exgen.topics.autodiff.paths import PATHS, carried_failures, carried_values  # noqa: F401  (re-exported)
from exgen.topics.autodiff.sampler import (  # noqa: F401  (re-exported: tests use them)
    CANCELLATION, MAX_ANGLE, MAX_PARTS, _above, _below, _cancels, _check_adjoint_rows, random_graph, renumbered,
    sample)
from exgen.topics.autodiff.solvers import always_asked, giveaways, linear_layer, solve  # noqa: F401  (re-exported)
from exgen.topics.autodiff.trace import adjoint_rows, local_partials  # noqa: F401  (re-exported: tests use them)
from exgen.topics.base import Topic

TOPIC = Topic(
    name="autodiff",
    description="forward- and reverse-mode AD tables of a computational graph, Jacobian cost, linear-layer backward",
    variants=VARIANTS,
    sample=sample,
    solve=solve,
    mistakes=MISTAKES,
    paths=PATHS,
)
