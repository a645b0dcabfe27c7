"""Compute and memory of training: matmul FLOPs, C ≈ 6ND, training time and MFU, parameter counts, memory.

Formulas and their sources:
    A (m×n) · x (n)        2mn FLOPs          one multiply + one add per entry: an FMA is 2 FLOPs (seed 000)
    A (m×n) · B (n×p)      2mnp FLOPs         (seed 000, "FLOPS: Matrix Multiplication")
    backward of Y = AB     4mnp FLOPs         dL/dA = dL/dY Bᵀ and dL/dB = Aᵀ dL/dY (seed 000, seed 001)
    training               C ≈ 6ND            forward 2ND + backward 4ND, weight FLOPs only (seed 000, after
                                              Bahdanau 2022, "The FLOPs Calculus of Language Model Training")
    training time          C / (GPUs × peak × MFU)   (seed 000's HyperCLOVA example, MFU = 100 %)
    parameters             12·L·D² per the block table of seed 001 (Q, K, V, O: D² each; MLP D×4D and 4D×D),
                           biases and layer norms ignored; + V·D for a tied token embedding when counted
    memory                 bytes per parameter by dtype (fp64 8, fp32 4, fp16/bf16 2, fp8/int8 1); mixed-precision
                           training (2 + 2 + K)Ψ: fp16 params and grads, and K bytes of fp32 optimizer state,
                           K = 12 for Adam (master copy, momentum, variance), K = 8 for SGD with momentum
                           (master copy, momentum), and ZeRO stages
                           1/2/3 per GPU: 2Ψ + 2Ψ + KΨ/N_d, 2Ψ + (2 + K)Ψ/N_d, (2 + 2 + K)Ψ/N_d
                           (Rajbhandari et al. 2020, "ZeRO", Section 3 and Figure 1)
Unit conversions are exact arithmetic on Fractions (GB = 10^9 B, GiB = 2^30 B, 1 day = 86400 s): the question
states each factor, and pint's start-up would dominate generation time (a test checks the answers' units parse
in pint).

The topic is a package with one module per group of variants (flops, memory, batch, attention,
activations, run); `common` holds what they share. This module assembles them into TOPIC.
"""

from __future__ import annotations

from typing import Any

from exgen.problem import Solution
from exgen.rng import Rng
from exgen.topics.base import Topic
from exgen.topics.compute import activations, attention, batch, common, flops, memory, run
from exgen.topics.compute.common import (  # noqa: F401  (re-exported: other topics and tests use them)
    ADAM_K, BYTES_PER_DTYPE, OPTIMIZER_K, SECONDS_PER_DAY, UNIT_BYTES)
from exgen.topics.compute.flops import (  # noqa: F401
    block_params, matmul_flops, model_params, training_flops, training_seconds)
from exgen.topics.compute.memory import zero_bytes  # noqa: F401

GROUPS = (flops, memory, batch, attention, activations, run)
VARIANTS = tuple(v for group in GROUPS for v in group.VARIANTS)
MISTAKES = tuple(m for group in GROUPS for m in group.MISTAKES)
PATHS = tuple(p for group in GROUPS for p in getattr(group, "PATHS", ()))
_GROUP_OF = {v.name: group for group in GROUPS for v in group.VARIANTS}
for _group in GROUPS:
    for _v in _group.VARIANTS:
        common.VARIANTS[_v.name] = _v
        common.SOLVERS[_v.name] = _group.SOLVERS[_v.name]
        if hasattr(_group, "check"):
            common.CHECKS[_v.name] = _group.check


def solve(variant: str, givens: dict[str, Any]) -> Solution:
    common.check(variant, givens)
    return common.SOLVERS[variant](givens)


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    return _GROUP_OF[variant].sample(rng, variant, difficulty)


def question_values(variant: str, g: dict[str, Any], difficulty: str) -> dict[str, Any]:
    """What the question shows that follows from the givens: a hard question states a cluster of 8-GPU nodes
    (when its GPUs fill whole nodes), a model width as heads of dimension 128, a dtype's size in bytes and bits."""
    def nodes(gpus: int) -> int:
        return gpus // 8 if difficulty == "hard" and gpus % 8 == 0 and gpus > 8 else 0

    shown: dict[str, Any] = {f"{key}_nodes": nodes(g[key]) for key in ("gpus", "dp") if key in g}
    if "d_model" in g:  # a hard question states the width as heads of dimension 128 where it divides
        shown["heads_of_128"] = g["d_model"] // 128 if difficulty == "hard" and g["d_model"] % 128 == 0 else 0
        if "heads" in g:
            shown["head_dim"] = g["d_model"] // g["heads"]
    if g.get("dtype") in common.BYTES_PER_DTYPE:
        shown["dtype_bytes"] = common.BYTES_PER_DTYPE[g["dtype"]]
        shown["dtype_bits"] = 8 * shown["dtype_bytes"]
    return shown


TOPIC = Topic(
    name="compute",
    description="FLOPs of matmuls, blocks and training (6ND, 8ND), time, MFU and HFU, parameters, memory, ZeRO, "
                "activations, batches, scaling, energy, serving memory",
    variants=VARIANTS,
    sample=sample,
    solve=solve,
    mistakes=MISTAKES,
    paths=PATHS,
    question_values=question_values,
)
