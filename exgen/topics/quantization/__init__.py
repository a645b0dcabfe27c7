"""Linear quantization of a matrix: affine (min–max), symmetric absmax, per-tensor vs per-channel, storage;
k-means quantization (weight sharing) lives in kmeans.py.

Formulas (seed 003, "Model efficiency", Linear Quantization slides; seed 000 for absmax):
    r = S (q − Z)                          the affine map between real r and integer q
    S = (r_max − r_min) / (q_max − q_min)  Z = round(q_min − r_min / S)
    q = clamp(round(r / S) + Z, q_min, q_max)
    absmax (Z = 0): S = |r|_max / q_max  ("qmax" convention, PyTorch/LLM.int8: 127 for int8)
                or  S = −|r|_max / q_min = |r|_max / 2^(b−1)  ("qmin" convention, seeds 000/003), clamped.
The solver works in exact rational arithmetic (the givens are short decimals, written as integers over their
common denominator), so every rounding decision is exact; ties round half away from zero, and the question says
so.  The sampler keeps every value to be rounded at least TIE_MARGIN from a .5 boundary (redrawing the offending
entry), so neither a calculator, a student carrying 6 significant figures of S, nor torch's float32 kernels can
land on the other side; and it keeps only instances where each StudentPath (rounded earlier answers, a 6-figure
scale) lands in tolerance.
Hard adds a step: an absmax clipping threshold c (S from c, the outliers clamp), channels along the columns, or
zero points and unquantized parameters in storage.  Decisions: docs/decisions/quantization.md.

The topic is a package with one module per job: `common` (constants, integer ranges, rounding), `variants` (the
linear variants' givens and their check), `linear` (the affine/absmax/per_channel solvers and steps), `storage`,
`sampling`, `paths` and `mistakes` for the linear variants; `kmeans`; `libraries/` (issue 17's library variants);
`_fast` (exact values of the givens, cached).  This module assembles them into TOPIC.
"""

from __future__ import annotations

from typing import Any

from exgen.problem import Solution
from exgen.topics.base import Topic
from exgen.topics.quantization import kmeans
from exgen.topics.quantization import libraries as ext  # issue 17's variants (libraries/)
from exgen.topics.quantization.common import (  # noqa: F401  (re-exported: tests use them)
    int_range, near_tie, round_half_away)
from exgen.topics.quantization.linear import _solve_absmax, _solve_affine, _solve_per_channel
from exgen.topics.quantization.mistakes import MISTAKES
from exgen.topics.quantization.paths import (  # noqa: F401  (re-exported: tests call them)
    PATHS, _calculator, _error_of_rounded_reconstruction, _from_rounded)
from exgen.topics.quantization.sampling import _reject_ties, sample  # noqa: F401  (_reject_ties: tests)
from exgen.topics.quantization.storage import _solve_storage
from exgen.topics.quantization.variants import VARIANTS, _check


_SOLVERS = {"affine": _solve_affine, "absmax": _solve_absmax, "per_channel": _solve_per_channel,
            "storage": _solve_storage, "kmeans": kmeans.solve}


def solve(variant: str, givens: dict[str, Any]) -> Solution:
    if variant in ext.SOLVERS:  # issue 17's variants live in libraries/
        return ext.SOLVERS[variant](givens)
    _check(variant, givens)
    return _SOLVERS[variant](givens)


VARIANTS, MISTAKES, PATHS = VARIANTS + ext.VARIANTS, MISTAKES + ext.MISTAKES, PATHS + ext.PATHS  # libraries/


def question_values(variant: str, g: dict[str, Any], difficulty: str) -> dict[str, Any]:
    """What the question shows that follows from the givens: the codebook's last index, a packed weight's
    bytes, and the restricted range's q_max = 2^(b−1) − 1 with the unused −q_max − 1."""
    shown: dict[str, Any] = {}
    if "centroids" in g:
        shown["k"] = len(g["centroids"])
        shown["last_index"] = shown["k"] - 1
    if "bits" in g:
        shown["packed_bytes"] = g["bits"] / 8
        shown["qmax"] = 2 ** (g["bits"] - 1) - 1
        shown["unused"] = -shown["qmax"] - 1
    return shown


TOPIC = Topic(
    name="quantization",
    description="linear and k-means quantization of a matrix: scale, zero point, integers, codebook, "
                "reconstruction, error, storage",
    variants=VARIANTS,
    sample=sample,
    solve=solve,
    mistakes=MISTAKES,
    paths=PATHS,
    question_values=question_values,
)
