"""Compute-optimal scaling (Chinchilla): N and D for a budget C, predicted loss, comparing allocations,
over-training, and budgets given as GPUs × days.

Formulas and sources:
    C = 6 N D                               training FLOPs (seed 002, "Chinchilla Scaling Laws": C ≃ 6ND)
    L(N, D) = E + A / N^α + B / D^β         the parametric fit, E = 1.69, A = 406.4, B = 410.7, α = 0.34,
                                            β = 0.28 (Hoffmann et al. 2022, eq. 2 and §3.3; seeds 001/002)
    N_opt = G (C/6)^a,  D_opt = G^{-1} (C/6)^b,  G = (αA / (βB))^{1/(α+β)},  a = β/(α+β),  b = α/(α+β)
                                            minimising L(N, C/(6N)) (Hoffmann et al. 2022, eq. 4, Appendix D.2)
    N_opt = 0.1 C^0.5,  D_opt = 1.7 C^0.5   the rule of seed 001 ("Chinchilla Scaling Law" slide); note
                                            0.1 × 1.7 = 0.17 ≠ 1/6, i.e. ~17 tokens per parameter
    D = 20 N with C = 6 N D → N = sqrt(C / 120)   the "~20 tokens per parameter" heuristic
    C = GPUs × days × 86 400 s/day × peak FLOP/s × MFU   (peak from exgen.gpus, stated in the question)
The three methods are different conventions (seeds/README.md): the question names the one it asks for.
Arithmetic is float64 (powers with non-integer exponents); answers are asked to 3 significant figures, loss
to 3 decimals.  The mistake functions re-run the solver with one "knob" turned (2ND for 6ND, N and D
swapped, …), so a mistake is always the same computation as the key with exactly one thing changed.

The topic is a package: `formulas` (constants, the fit, the computations), `steps` (worked-solution steps),
`solvers` (one per variant), `givens` (variants and the givens check), `sampler`, `mistakes` and `paths`. This
module assembles them into TOPIC.
"""

from __future__ import annotations

from typing import Any

from exgen import numfmt as nf
from exgen.problem import Solution
from exgen.topics.base import Topic
from exgen.topics.chinchilla.formulas import (  # noqa: F401  (FIT, METHODS, Fit, optimum: re-exported for tests)
    FIT, KEY, METHODS, Fit, optimum)
from exgen.topics.chinchilla.givens import VARIANTS, _check
from exgen.topics.chinchilla.mistakes import MISTAKES
from exgen.topics.chinchilla.paths import PATHS
from exgen.topics.chinchilla.sampler import (  # noqa: F401  (re-exported: tests use them)
    MAX_TOKENS_PER_PARAM, MIN_OVERTRAINING, TIE_MARGIN, sample)
from exgen.topics.chinchilla.solvers import _solve
from exgen.topics.chinchilla.steps import _hard_given_steps


def solve(variant: str, givens: dict[str, Any]) -> Solution:
    _check(variant, givens)
    return _solve(variant, givens, KEY)


def question_values(variant: str, g: dict[str, Any], difficulty: str) -> dict[str, Any]:
    """What the question shows that follows from the givens: the fit's law with its coefficients, a budget in
    PF-days, a cluster in 8-GPU nodes, tokens per parameter, and a model card's billions of parameters and
    trillions of tokens; and at hard the worked solution's first steps, from those to the values the solver uses
    (solutions/chinchilla.j2; the solver does not know the difficulty)."""
    shown: dict[str, Any] = {}
    if variant in ("optimum", "loss", "compare", "closed_form") or g.get("method") == "fit":  # the fit's law
        shown["fit_law"] = (rf"L(N, D) = E + \frac{{A}}{{N^{{\alpha}}}} + \frac{{B}}{{D^{{\beta}}}}, \qquad "
                            rf"E = {nf.num(g['E'])},\ A = {nf.num(g['A'])},\ B = {nf.num(g['B'])},\ "
                            rf"\alpha = {nf.num(g['alpha'])},\ \beta = {nf.num(g['beta'])}.")
    if "C" in g:
        shown["pf_days"] = g["C"] / 86400e15
    if "gpus" in g:  # a hard question states whole 8-GPU nodes
        shown["nodes"] = g["gpus"] // 8 if difficulty == "hard" and g["gpus"] % 8 == 0 and g["gpus"] > 8 else 0
    if "N" in g:
        shown["n_billion"] = g["N"] / 1e9
        if "D" in g:
            shown["tokens_per_param"] = int(round(g["D"] / g["N"]))
            shown["d_trillion"] = g["D"] / 1e12
    if difficulty == "hard":  # the solution's first steps turn what the question states into the solver's values
        shown["given_steps"] = _hard_given_steps(variant, g, shown)
    return shown


TOPIC = Topic(
    name="chinchilla",
    description="compute-optimal model size and tokens (Chinchilla), predicted loss, over-training, GPU budgets",
    variants=VARIANTS,
    sample=sample,
    solve=solve,
    mistakes=MISTAKES,
    paths=PATHS,
    question_values=question_values,
)
