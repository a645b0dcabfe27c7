"""The exact formulas of the intensity topic: its constants (bytes per dtype, FMA rates per SM, margins) and the
pure computations (an op's FLOPs and bytes, the ops:byte ratio, the roofline, a GPU's peak, a d×d weight's
decoding intensity and critical batch, the square-matmul threshold). Sources: the package docstring."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from exgen.exact import decimal as _f

BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}
WEIGHT_BYTES = {"int8": 1, "int4": Fraction(1, 2)}  # weight-only quantization (hard decode)
# Bytes per stored element of the gpu_peak dtypes (tf32 operands are stored as fp32; "fp32" is the CUDA cores'
# non-tensor fp32).
STORAGE_BYTES = {"fp16": 2, "bf16": 2, "tf32": 4, "fp64": 8, "fp8": 1, "int8": 1, "fp32": 4}
INTEGER_DTYPES = ("int8",)  # peaks in TOPS (integer operations), a multiply-add counting as 2 operations
TENSOR_DTYPES = ("fp64", "tf32", "fp16", "bf16", "fp8", "int8")  # "fp32" runs on the CUDA cores, not tensor cores
SPARSITY = ("dense", "2:4")  # 2:4 structured sparsity: the tensor cores' quoted (effective) rate doubles
OPS = ("matmul", "matvec", "elementwise", "relu", "layernorm", "maxpool")
ELEMENTWISE = ("elementwise", "relu", "layernorm", "maxpool")  # no multiply-adds: FLOPs per element, stated
SINGLE_INPUT = ("relu", "maxpool")
# LayerNorm FLOPs per element of X (stated in the question): 1 for the mean's sum, 3 for the variance (subtract the
# mean, square, add), 1 to multiply by 1/sigma, 2 for gamma and beta; the per-row divisions, square root and
# reciprocal are not counted.
LAYERNORM_FLOPS = 7
POOL_COMPARISONS = 3  # 2x2 max pooling, stride 2: the maximum of 4 values takes 3 comparisons
BOUNDS = ("memory-bound", "compute-bound")
COUNTS = ("weights", "weights+activations")
# Seed 001: "Ampere A100 GPU FMA per clock on a SM" (tensor cores, dense) — the A100 whitepaper's table.
A100_FMA_PER_CLOCK_PER_SM = {"fp64": 64, "tf32": 512, "fp16": 1024}
# Dense FMAs per clock per SM by GPU and dtype (issue 17: int8, fp8, non-tensor fp32). A100: the A100 whitepaper's
# table (bf16 as fp16; int8 2048 ops -> 624 TOPS; fp32 on 64 CUDA cores -> 19.5 TFLOP/s at 1.41 GHz). H100 SXM:
# the Hopper whitepaper / datasheet (fp16 2048 -> 989.4, fp8 and int8 4096 -> 1978.9, tf32 1024 -> 494.7 at
# 1.83 GHz; 128 fp32 CUDA cores per SM). V100: 8 tensor cores x 64 fp16 FMA, 64 fp32 cores per SM.
FMA_PER_CLOCK_PER_SM = {
    "A100-40GB": {**A100_FMA_PER_CLOCK_PER_SM, "bf16": 1024, "int8": 2048, "fp32": 64},
    "A100-80GB": {**A100_FMA_PER_CLOCK_PER_SM, "bf16": 1024, "int8": 2048, "fp32": 64},
    "H100": {"tf32": 1024, "fp16": 2048, "bf16": 2048, "fp8": 4096, "int8": 4096, "fp32": 128},
    "H200": {"tf32": 1024, "fp16": 2048, "bf16": 2048, "fp8": 4096, "int8": 4096, "fp32": 128},
    "V100": {"fp16": 512, "fp32": 64},
}
RIDGE_MARGIN = Fraction(5, 4)  # sampled ops have AI outside [ridge / 1.25, ridge × 1.25]
INTEGER_MARGIN = Fraction(1, 10)  # a sampled critical batch threshold is at least 0.1 away from an integer
EXACT_BELOW = 10**7
SIG = 3


# ---- the computations (pure, exact) ----------------------------------------------------------------


def op_counts(op: str, m: int, n: int, p: int, s: int, flops_per_fma: int = 2,
              operands: str = "all", s_out: int | None = None) -> tuple[int, int]:
    """(FLOPs, bytes moved). operands: "all" (inputs and output), "first" (A only), "inputs" (no output).
    `s_out`: bytes per output element when the output is written in another dtype (default s)."""
    if op == "matmul":
        flops, sizes = flops_per_fma * m * n * p, (m * n, n * p, m * p)
    elif op == "matvec":
        flops, sizes = flops_per_fma * m * n, (m * n, n, m)
    elif op == "relu":  # one comparison per element; X read, Y written
        flops, sizes = m * n, (m * n, 0, m * n)
    elif op == "layernorm":  # X and the learned gamma, beta (n each) read, Y written
        flops, sizes = LAYERNORM_FLOPS * m * n, (m * n, 2 * n, m * n)
    elif op == "maxpool":  # 2x2 windows, stride 2: an (m/2) x (n/2) output
        flops, sizes = POOL_COMPARISONS * (m // 2) * (n // 2), (m * n, 0, (m // 2) * (n // 2))
    else:
        flops, sizes = m * n, (m * n, m * n, m * n)
    widths = (s, s, s if s_out is None else s_out)
    counted = {"all": 3, "first": 1, "inputs": 2}[operands]
    return flops, sum(w * size for w, size in zip(widths[:counted], sizes[:counted]))


def out_bytes(g: dict[str, Any]) -> int:
    """Bytes per output element: the inputs' dtype, or fp32 when the question says the output is fp32."""
    return BYTES[g["dtype"] if g.get("out_dtype", "same") == "same" else g["out_dtype"]]


_RIDGES: dict[tuple[Any, ...], Fraction] = {}


def ridge(peak_tflops: Any, bandwidth_gbs: Any) -> Fraction:
    """The ops:byte ratio (FLOP/byte): peak FLOP/s over bandwidth in bytes/s, peak 10^12 / (bandwidth 10^9),
    as one Fraction of integers. The ratios of the last GPUs stated by their givens are kept (a draw asks for
    its own a dozen times); a computed peak (a Fraction) is not, hashing it costs more than the division."""
    if type(peak_tflops) is Fraction:
        b = _f(bandwidth_gbs)
        return Fraction(peak_tflops.numerator * 1000 * b.denominator, peak_tflops.denominator * b.numerator)
    key = (peak_tflops.__class__, peak_tflops, bandwidth_gbs.__class__, bandwidth_gbs)
    r = _RIDGES.get(key)
    if r is None:
        if len(_RIDGES) > 256:
            _RIDGES.clear()
        p, b = _f(peak_tflops), _f(bandwidth_gbs)
        r = _RIDGES[key] = Fraction(p.numerator * 1000 * b.denominator, p.denominator * b.numerator)
    return r


def bound(ai: Fraction, r: Fraction) -> str:
    return "compute-bound" if ai > r else "memory-bound"


def attainable_tflops(ai: Fraction, peak_tflops: Any, bandwidth_gbs: Any) -> Fraction:
    return min(_f(peak_tflops), ai * _f(bandwidth_gbs) / 1000)


def peak_tflops(sms: int, fma_per_clock: int, clock_ghz: Any, flops_per_fma: int = 2, sparse: bool = False) -> Fraction:
    """SMs x FMA/clock/SM x 2 x clock, in TFLOP/s (TOPS for integers); doubled under 2:4 structured sparsity."""
    if type(sms) is int and type(fma_per_clock) is int and type(flops_per_fma) is int:  # one Fraction of integers
        c = _f(clock_ghz)
        return Fraction(sms * fma_per_clock * flops_per_fma * c.numerator * (2 if sparse else 1), c.denominator * 1000)
    return sms * fma_per_clock * flops_per_fma * _f(clock_ghz) / 1000 * (2 if sparse else 1)


def is_sparse(g: dict[str, Any]) -> bool:
    return g.get("sparsity", "dense") == "2:4"


def linear_intensity(tokens: int, d: int, s: int, count: str, flops_per_fma: int = 2,
                     w: Fraction | int | None = None) -> Fraction:
    """AI of a d×d weight (w bytes per element, default s) applied to `tokens` vectors of s bytes per element."""
    w = s if w is None else w
    # f n d^2 / (w d^2 + 2 n d s), w = wn/wd: one Fraction of integers
    wn, wd = w.numerator, w.denominator
    moved = wn * d * d + (2 * tokens * d * s * wd if count == "weights+activations" else 0)
    return Fraction(flops_per_fma * tokens * d * d * wd, moved)


def critical_threshold(d: int, s: int, r: Fraction, count: str, flops_per_fma: int = 2,
                       w: Fraction | int | None = None) -> Fraction | None:
    """The real n above which AI(n) > r, or None if AI never exceeds r (AI → f·d/(2s) as n grows)."""
    w = s if w is None else w
    rn, rd, wn, wd = r.numerator, r.denominator, w.numerator, w.denominator  # in integers: one Fraction
    if count == "weights":
        return Fraction(rn * wn, rd * wd * flops_per_fma)
    # f·n·d² > r·(w·d² + 2nd·s)  ⇔  n·(f·d − 2rs) > r·w·d;  rd·(f·d − 2rs) = f·d·rd − 2·rn·s
    slope = flops_per_fma * d * rd - 2 * rn * s
    return Fraction(rn * wn * d, wd * slope) if slope > 0 else None


def critical_batch(d: int, s: int, r: Fraction, count: str, flops_per_fma: int = 2,
                   w: Fraction | int | None = None) -> int | None:
    x = critical_threshold(d, s, r, count, flops_per_fma, w)
    return None if x is None else math.floor(x) + 1


def weight_bytes(g: dict[str, Any]) -> Fraction:
    """Bytes per weight element: the activations' dtype, or int8 (1) / packed int4 (1/2) weight-only
    quantization."""
    return _WEIGHT_FRACTIONS[WEIGHT_BYTES.get(g.get("weight_dtype", "same"), BYTES[g["dtype"]])]


_WEIGHT_FRACTIONS = {x: Fraction(x) for x in (*WEIGHT_BYTES.values(), *BYTES.values())}


def square_matmul_threshold(r: Fraction, s: int, s_out: int | None = None) -> Fraction:
    """The real n above which an n×n by n×n matmul is compute-bound: AI = 2n³ / (n²(2s + s_out)) > r."""
    return r * (2 * s + (s if s_out is None else s_out)) / 2


def square_out_bytes(g: dict[str, Any]) -> int:
    """Bytes per output element of the square matmul: the dtype's, or 4 when the output is written in fp32."""
    return 4 if g.get("square", "no") == "fp32-output" else STORAGE_BYTES[g["dtype"]]


def fma_from_peak(peak_tflops_: Any, sms: int, clock_ghz: Any, sparse: bool = False,
                  flops_per_fma: int = 2) -> Fraction:
    """The FMAs per clock per SM a quoted peak implies: peak / (SMs x 2 x clock), halved for a 2:4-sparse rate."""
    return _f(peak_tflops_) * 1000 / (sms * flops_per_fma * _f(clock_ghz) * (2 if sparse else 1))
