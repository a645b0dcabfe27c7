"""Arithmetic intensity and the roofline: FLOPs per byte moved, a GPU's ops:byte ratio, memory- vs compute-bound.

Formulas and their sources:
    arithmetic intensity   AI = #FLOPs / #bytes moved; an op is math-limited when AI > BW_math / BW_mem,
                           the GPU's ops:byte ratio (seed 001, "Arithmetic Intensity", after NVIDIA's
                           "GPU Performance Background" guide)
    counting convention    an FMA is 2 FLOPs (seed 001: "counted as two float operations"); an addition 1 FLOP;
                           bytes moved = every input read once and the output written once, in the stated
                           dtype (fp32 4 B, fp16/bf16 2 B); caches and reuse between ops ignored
    ops                    C = AB (m×n · n×p): 2mnp FLOPs, (mn + np + mp)·s bytes
                           y = Ax (m×n · n):   2mn FLOPs,  (mn + n + m)·s bytes
                           C = A + B (m×n):     mn FLOPs,   3mn·s bytes
                           (hard: an fp32 output of half-precision inputs counts its own 4 bytes per element)
                           ReLU: mn FLOPs (comparisons), 2mn·s bytes; LayerNorm: 7mn FLOPs, (2mn + 2n)·s bytes
                           (γ, β read); 2x2 max pooling, stride 2: 3·(m/2)(n/2) FLOPs, (mn + mn/4)·s bytes
    peak dtypes            tensor cores fp64/tf32/fp16/bf16/fp8/int8 (int8 in TOPS), fp32 on the CUDA cores; a
                           rate quoted with 2:4 structured sparsity is twice the dense one (NVIDIA datasheets);
                           `fma_per_clock` inverts the peak for the FMA rate per SM (and per unit)
    model decoding         2P FLOPs per token, KV cache 2·L·kv_dim·T·B·bytes, a step reads the weights and the
                           cache once and takes max(B·2P/peak, bytes/bandwidth) (model_decode)
    peak                   SMs × FMA/clock/SM × 2 × clock (seed 001's A100 table: 108 × 1024 × 2 × 1.41 GHz
                           ≈ 312 TFLOP/s fp16, the A100 datasheet's figure)
    roofline               attainable = min(peak, AI × bandwidth) (Williams, Waterman, Patterson 2009)
    decoding               a d×d weight applied to n token vectors: AI = 2nd² / (s(d² + 2nd)) counting weights
                           and activations, or 2n/s counting the weights only (the usual back-of-envelope,
                           e.g. kipp.ly "Transformer inference arithmetic"); decoding has n = batch size
                           (one token per sequence per step), prefill n = batch × prompt length; a weight
                           stored in int8/int4 (weight-only quantization) moves w = 1 or 1/2 byte per element:
                           AI = 2nd² / (w·d² + 2nd·s).
    square matmul          n×n by n×n, inputs of s bytes, output of s_out bytes per element: AI = 2n/(2s + s_out),
                           compute-bound iff n > r(2s + s_out)/2 (hard: the output in fp32, s_out = 4).
Exact arithmetic (Fractions) decides every comparison; a tie counts as memory-bound (compute-bound iff AI > r),
and the question says so. Sampled instances keep away from the ridge and from integer thresholds, and each
StudentPath (reported, rounded earlier answers) must land in tolerance. Decisions: docs/decisions/intensity.md.

The topic is a package with one module per job: `formulas` (constants and the exact computations), `variants`
(givens, variants, the givens check), `solvers` (solvers and worked steps), `model_decode` (a whole model's
decoding step and its solver), `sampler`, `mistakes` and `paths`. This module assembles them into TOPIC.
"""

from __future__ import annotations

from typing import Any

from exgen.problem import Solution
from exgen.topics.base import Topic
from exgen.topics.intensity.formulas import (  # noqa: F401  (re-exported: tests use them)
    BYTES, INTEGER_MARGIN, OPS, critical_threshold, op_counts, ridge)
from exgen.topics.intensity.mistakes import MISTAKES
from exgen.topics.intensity.model_decode import _solve_model_decode
from exgen.topics.intensity.paths import PATHS
from exgen.topics.intensity.sampler import sample
from exgen.topics.intensity.solvers import _solve_bound, _solve_decode, _solve_fma_per_clock, _solve_gpu_peak, _solve_op
from exgen.topics.intensity.variants import VARIANTS, _check

_SOLVERS = {"op": _solve_op, "model_decode": _solve_model_decode, "gpu_peak": _solve_gpu_peak,
            "fma_per_clock": _solve_fma_per_clock, "bound": _solve_bound, "decode": _solve_decode}


def solve(variant: str, givens: dict[str, Any]) -> Solution:
    _check(variant, givens)
    return _SOLVERS[variant](givens)


TOPIC = Topic(
    name="intensity",
    description="arithmetic intensity, a GPU's peak and ops:byte ratio, memory- vs compute-bound, roofline, decoding",
    variants=VARIANTS,
    sample=sample,
    solve=solve,
    mistakes=MISTAKES,
    paths=PATHS,
)
