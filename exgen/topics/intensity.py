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
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from exgen import gpus as gpu_table
from exgen import numfmt as nf
from exgen.exact import decimal as _f
from exgen.givens import coerce
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Mistake, Rejected, StudentPath, Topic, Variant

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





# Figures of the last instance (its ops:byte ratio, a decoding step's numbers under each convention): the
# sampler, solver, mistakes and paths of one draw ask for the same ones. An instance is the same when its givens
# hold the very same values (identity: a completed copy of the sampled givens matches; a changed dict does not).
# One immutable state, replaced whole (never changed in place), so that threads (the practice server's) each
# read a consistent one: (a copy of the givens, the givens dict, the memo of those givens).
_memo_state: tuple[dict[str, Any], Any, dict[Any, Any]] = ({}, None, {})


def _memo_for(g: dict[str, Any]) -> dict[Any, Any]:
    global _memo_state
    state = _memo_state
    last, last_g, memo = state
    if last_g is g and last == g:
        return memo
    if len(last) == len(g) and all(g.get(k, state) is v for k, v in last.items()):
        _memo_state = (last, g, memo)  # the same values in another dict (the completed copy of the sampled givens)
        return memo
    memo = {}
    _memo_state = (dict(g), g, memo)
    return memo


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


# ---- givens ----------------------------------------------------------------------------------------

# Bounds keep every count an exact integer of modest size and every answer a finite float: dimensions up to
# 10^7 (a 10^21-FLOP matmul), peaks from 10^-3 to 10^6 TFLOP/s and bandwidths from 1 GB/s to 10^7 GB/s (ratios
# between 10^-4 and 10^9 FLOP/byte), GPUs of at most 10^4 SMs at 0.01 to 10 GHz.
MAX_DIM = 10**7
_OP = Given("op", "the operation: C = AB, y = Ax, C = A + B (element-wise), relu (Y = max(0, X), 1 FLOP per "
            "element), layernorm (each row of X over its n entries, learned gamma and beta of n each read too; 7 FLOPs "
            "per element), or maxpool (2x2 windows, stride 2, m and n even; 3 comparisons per output)", "choice",
            choices=OPS)
_M = Given("m", "rows of A", "integer", low=1, high=MAX_DIM)
_N = Given("n", "columns of A", "integer", low=1, high=MAX_DIM)
_P = Given("p", "columns of B (matmul only)", "integer", default=1, low=1, high=MAX_DIM)
_DTYPE = Given("dtype", "dtype of every operand (fp32: 4 bytes, fp16/bf16: 2 bytes)", "choice", choices=tuple(BYTES))
_OUT = Given("out_dtype", "dtype the output is written in: the inputs' dtype, or fp32 (accumulated and stored in "
             "fp32, as mixed-precision kernels may)", "choice", choices=("same", "fp32"), default="same")
_GPU = Given("gpu", "the GPU's name (for the text; the numbers are the givens below)", "choice",
             choices=tuple(gpu_table.GPUS) + ("custom",), default="custom")
_PEAK = Given("peak_tflops", "peak throughput for the dtype", "number", unit="TFLOP/s", low=1e-3, high=1e6)
_BW = Given("bandwidth_gbs", "memory bandwidth", "number", unit="GB/s", low=1, high=1e7)

_PEAK_DTYPE = Given("dtype", "the dtype: a tensor-core dtype (fp64, tf32, fp16, bf16, fp8, int8) or fp32 on the CUDA "
                    "cores (non-tensor)", "choice", choices=tuple(STORAGE_BYTES))
_SMS = Given("sms", "number of streaming multiprocessors", "integer", low=1, high=10**4)
_CLOCK = Given("clock_ghz", "clock rate", "number", unit="GHz", low=0.01, high=10)
_SPARSITY = Given("sparsity", "dense, or 2:4 structured sparsity (tensor cores skip the zero half of a 2:4-sparse "
                  "operand: the quoted rate, counting the dense product's FLOPs, doubles)", "choice",
                  choices=SPARSITY, default="dense")

VARIANTS = (
    Variant("op", "FLOPs, bytes moved and arithmetic intensity of a matmul, matrix-vector or element-wise op",
            (_OP, _M, _N, _P, _DTYPE, _OUT)),
    Variant("gpu_peak", "a GPU's peak FLOP/s from SMs x FMA/clock/SM x 2 x clock, its ops:byte ratio, and "
            "the smallest square matmul that is compute-bound on it", (
        _GPU, _PEAK_DTYPE, _SMS,
        Given("fma_per_clock", "dense FMAs per clock per SM for the dtype", "integer", low=1, high=10**5),
        _CLOCK, _BW,
        Given("square", "also ask the smallest n for which an n x n by n x n matmul in the dtype is compute-bound: "
              "no, yes (output in the dtype), or fp32-output (output written in 32 bits: fp32, int32 for int8; "
              "dense only)", "choice", choices=("no", "yes", "fp32-output"), default="no"), _SPARSITY)),
    Variant("fma_per_clock", "solve a quoted peak for the FMAs per clock per SM (and per tensor core) it implies", (
        _GPU, _PEAK_DTYPE, _SMS, _CLOCK,
        Given("peak_tflops", "the quoted peak for the dtype (TOPS for int8), with sparsity when sparsity is 2:4",
              "number", unit="TFLOP/s", low=1e-3, high=1e6),
        Given("units_per_sm", "tensor cores per SM (or fp32 CUDA cores for fp32); 0: not asked", "integer",
              default=0, low=0, high=1024), _SPARSITY)),
    Variant("bound", "memory- or compute-bound on a GPU, and the roofline's attainable FLOP/s",
            (_OP, _M, _N, _P, _DTYPE, _OUT, _GPU, _PEAK, _BW)),
    Variant("decode", "decoding vs prefill through a d x d weight: intensities, bounds, and the batch size at "
            "which decoding turns compute-bound", (
                Given("d_model", "the weight is d x d", "integer", low=1, high=10**6),
                Given("batch", "sequences decoded together (one token each per step)", "integer", low=1,
                      high=MAX_DIM),
                Given("prompt", "prompt length of each sequence (prefill)", "integer", low=1, high=MAX_DIM),
                Given("dtype", "dtype of weights and activations", "choice", choices=("fp16", "bf16")),
                Given("count", "bytes counted: the weights only, or weights and activations", "choice",
                      choices=COUNTS),
                Given("weight_dtype", "the weight's storage: as the activations, or int8 / packed int4 weight-only "
                      "quantization (1 or 0.5 byte per weight, dequantized on the fly)", "choice",
                      choices=("same",) + tuple(WEIGHT_BYTES), default="same"),
                _GPU, _PEAK, _BW)),
)


MODEL_WEIGHT_BYTES = {"fp16": Fraction(2), "bf16": Fraction(2), "int8": Fraction(1), "int4": Fraction(1, 2)}
KV_BYTES = {"fp16": 2, "bf16": 2, "fp8": 1, "int8": 1}
VARIANTS = VARIANTS + (
    Variant("model_decode", "decoding a whole model at the roofline: 2P FLOPs per token, the KV cache's bytes, "
            "the bytes one step reads, and the per-token latency", (
                Given("params_b", "the model's parameters P, in billions", "number", low=1e-3, high=1e5),
                Given("weight_dtype", "the weights' storage: fp16/bf16 (2 bytes), int8 (1) or packed int4 (0.5)",
                      "choice", choices=tuple(MODEL_WEIGHT_BYTES)),
                Given("layers", "transformer layers L", "integer", low=1, high=1000),
                Given("kv_dim", "width of K (and of V) per layer and token: KV heads x head dimension (d_model "
                      "without grouped-query attention)", "integer", low=1, high=10**6),
                Given("kv_dtype", "the KV cache's dtype (fp16/bf16 2 bytes, fp8/int8 1)", "choice",
                      choices=tuple(KV_BYTES), default="fp16"),
                Given("context", "tokens already in each sequence's KV cache", "integer", low=1, high=10**7),
                Given("batch", "sequences decoded together (one new token each per step)", "integer", low=1,
                      high=10**5),
                _GPU, _PEAK, _BW)),
)


_SPEC = {v.name: v for v in VARIANTS}


def _plainly_valid(given: Given, value: Any) -> bool:
    """An int, or a finite float for a number, within the given's bounds: what `coerce` accepts as it stands,
    told without parsing its text (the sampler's givens all are)."""
    kind = type(value)
    if not (kind is int or kind is float and given.kind == "number" and math.isfinite(value)):
        return False
    return (given.kind in ("number", "integer") and not given.choices and given.max_size is None
            and given.low is not None and given.high is not None and given.low <= value <= given.high)


def _check(variant: str, g: dict[str, Any]) -> None:
    """Validate a user's givens (the declared bounds included, so a solver called directly is as safe as
    `exgen solve`)."""
    spec = _SPEC[variant]
    spec.require(g)
    for given in spec.givens:
        if given.name in g and given.kind != "choice" and not _plainly_valid(given, g[given.name]):
            coerce(given, g[given.name])
    if variant in ("op", "bound") and g.get("op") == "maxpool" and (int(g["m"]) % 2 or int(g["n"]) % 2):
        raise InvalidGivens("maxpool: 2x2 windows with stride 2 need m and n even")
    if variant in ("gpu_peak", "fma_per_clock") and is_sparse(g) and g["dtype"] not in TENSOR_DTYPES:
        raise InvalidGivens("sparsity 2:4 is a tensor-core feature: fp32 on the CUDA cores is dense")
    if variant == "gpu_peak" and is_sparse(g) and g.get("square", "no") != "no":
        raise InvalidGivens("square: the square-matmul part counts dense operands; ask it with sparsity dense")
    if variant == "decode":
        r = ridge(g["peak_tflops"], g["bandwidth_gbs"])
        if critical_threshold(int(g["d_model"]), BYTES[g["dtype"]], r, g["count"], w=weight_bytes(g)) is None:
            raise InvalidGivens("with activations counted, a d x d weight's intensity never exceeds d/s FLOP/byte, "
                                "which is below this GPU's ops:byte ratio: decoding never turns compute-bound")


# ---- solvers ---------------------------------------------------------------------------------------

OP_TEX = {
    "matmul": (r"C = AB", r"2mnp", r"(mn + np + mp)\,s"),
    "matvec": (r"y = Ax", r"2mn", r"(mn + n + m)\,s"),
    "elementwise": (r"C = A + B", r"mn", r"3mn\,s"),
    "relu": (r"Y = \max(0, X)", r"mn", r"2mn\,s"),
    "layernorm": (r"Y = \mathrm{LayerNorm}(X)", r"7mn", r"(2mn + 2n)\,s"),
    "maxpool": (r"Y = \mathrm{MaxPool}_{2 \times 2}(X)", r"3 \cdot \tfrac{m}{2} \cdot \tfrac{n}{2}",
                r"(mn + \tfrac{m}{2} \cdot \tfrac{n}{2})\,s"),
}


def _count_answer(value: int, unit: str) -> Answer:
    if value < EXACT_BELOW:
        return Answer("integer", int(value), unit=unit)
    return Answer("number", float(value), unit=unit, sig=4)


def _op_numbers(g: dict[str, Any]) -> tuple[int, int, Fraction]:
    """FLOPs, bytes moved and intensity of the instance's op."""
    flops, moved = op_counts(g["op"], int(g["m"]), int(g["n"]), int(g["p"]), BYTES[g["dtype"]], s_out=out_bytes(g))
    return flops, moved, Fraction(flops, moved)


def _op_steps(g: dict[str, Any]) -> list[Step]:
    op, m, n, p, dtype = g["op"], int(g["m"]), int(g["n"]), int(g["p"]), g["dtype"]
    s, s_out = BYTES[dtype], out_bytes(g)
    flops, moved, ai = _op_numbers(g)
    name = OP_TEX[op][0]
    half = f"{m // 2} \\times {n // 2}"
    sizes = {"matmul": (f"{m} \\times {n}", f"{n} \\times {p}", f"{m} \\times {p}"),
             "matvec": (f"{m} \\times {n}", f"{n}", f"{m}"),
             "elementwise": (f"{m} \\times {n}",) * 3,
             "relu": (f"{m} \\times {n}", None, f"{m} \\times {n}"),
             "layernorm": (f"{m} \\times {n}", f"2 \\times {n}", f"{m} \\times {n}"),
             "maxpool": (f"{m} \\times {n}", None, half)}[op]
    flops_tex = {"matmul": rf"2mnp = 2 \times {m} \times {n} \times {p}", "matvec": rf"2mn = 2 \times {m} \times {n}",
                 "elementwise": rf"mn = {m} \times {n}", "relu": rf"mn = {m} \times {n}",
                 "layernorm": rf"7mn = 7 \times {m} \times {n}", "maxpool": rf"3 \times {half}"}[op]
    what = {"elementwise": "one addition per output entry", "relu": "one comparison per element",
            "layernorm": "7 FLOPs per element (mean 1, variance 3, scaling by $1/\\sigma$ 1, $\\gamma$ and $\\beta$ 2)",
            "maxpool": "3 comparisons per $2 \\times 2$ window, one window per output"}.get(
        op, "one FMA (2 FLOPs) per multiply-add of the dot products")
    read = " + ".join(x for x in sizes[:2] if x)
    bytes_tex = rf"({read}) \times {s} + {sizes[2]} \times {s_out}" if s_out != s else \
        rf"({read} + {sizes[2]}) \times {s}"
    written = f"the output written once in {g['out_dtype']} ({s_out} bytes per element)" if s_out != s else \
        "the output written once"
    inputs = {"relu": "the input", "maxpool": "the input",
              "layernorm": "$X$, $\\gamma$ and $\\beta$"}.get(op, "both inputs")
    steps = [
        Step(f"FLOPs of ${name}$, {what}:", rf"{flops_tex} = {nf.sig(flops, 8)}\ \text{{FLOP}}"),
        Step(f"Bytes moved: {inputs} read once ({s} bytes per {dtype} element) and {written}:",
             rf"{bytes_tex} = {nf.sig(moved, 8)}\ \text{{B}}"),
        Step("Arithmetic intensity:", rf"\frac{{{nf.sig(flops, 8)}}}{{{nf.sig(moved, 8)}}} = "
                                      rf"{nf.sig(ai, 6)}\ \text{{FLOP/B}}"),
    ]
    return steps


def _solve_op(g: dict[str, Any]) -> Solution:
    flops, moved, ai = _op_numbers(g)
    return Solution((Part("flops", "FLOPs", _count_answer(flops, "FLOP")),
                     Part("bytes", "bytes moved", _count_answer(moved, "byte")),
                     Part("intensity", "arithmetic intensity", Answer("number", float(ai), unit="FLOP/byte",
                                                                     sig=SIG))), lambda: _op_steps(g))


def square_matmul_threshold(r: Fraction, s: int, s_out: int | None = None) -> Fraction:
    """The real n above which an n×n by n×n matmul is compute-bound: AI = 2n³ / (n²(2s + s_out)) > r."""
    return r * (2 * s + (s if s_out is None else s_out)) / 2


def square_out_bytes(g: dict[str, Any]) -> int:
    """Bytes per output element of the square matmul: the dtype's, or 4 when the output is written in fp32."""
    return 4 if g.get("square", "no") == "fp32-output" else STORAGE_BYTES[g["dtype"]]


def _solve_gpu_peak(g: dict[str, Any]) -> Solution:
    sparse = is_sparse(g)
    peak = peak_tflops(int(g["sms"]), int(g["fma_per_clock"]), g["clock_ghz"], sparse=sparse)
    r = ridge(peak, g["bandwidth_gbs"])
    ops = "operations" if g["dtype"] in INTEGER_DTYPES else "FLOPs"
    times_sparse = r" \times 2" if sparse else ""
    steps = lambda: [  # noqa: E731 — built on first read
        Step(f"An FMA is 2 {ops}, so the peak is SMs $\\times$ FMA/clock/SM $\\times$ 2 $\\times$ clock"
             + (", doubled by 2:4 structured sparsity (the quoted rate counts the dense product's FLOPs):"
                if sparse else ":"),
             rf"{g['sms']} \times {g['fma_per_clock']} \times 2 \times {nf.num(g['clock_ghz'])} \times 10^9\ "
             rf"\text{{s}}^{{-1}}{times_sparse} = {nf.sig(peak * 10**12, 6)}\ \text{{FLOP/s}} = {nf.sig(peak, 6)}\ "
             r"\text{TFLOP/s}"),
        Step("The ops:byte ratio divides the peak by the memory bandwidth:",
             rf"\frac{{{nf.sig(peak * 10**12, 6)}\ \text{{FLOP/s}}}}{{{nf.num(g['bandwidth_gbs'])} \times 10^9\ "
             rf"\text{{B/s}}}} = {nf.sig(r, 6)}\ \text{{FLOP/B}}"),
    ]
    parts = [Part("peak", "peak", Answer("number", float(peak), unit="TFLOP/s", sig=SIG)),
             Part("ridge", "ops:byte ratio", Answer("number", float(r), unit="FLOP/byte", sig=SIG))]
    if g.get("square", "no") != "no":
        s, s_out = STORAGE_BYTES[g["dtype"]], square_out_bytes(g)
        x = square_matmul_threshold(r, s, s_out)
        n = math.floor(x) + 1
        wide = "int32" if g["dtype"] in INTEGER_DTYPES else "fp32"
        out = f"the output written in {wide} ({s_out} bytes)" if s_out != s else "the output in the same dtype"
        peak_steps = steps
        steps = lambda: peak_steps() + [  # noqa: E731
            Step(f"An $n \\times n$ by $n \\times n$ matmul in {g['dtype']} ({s} bytes per input element, {out}) "
                 f"does $2n^3$ FLOPs and moves $2n^2 \\times {s} + n^2 \\times {s_out}$ bytes:",
                 rf"\text{{AI}}(n) = \frac{{2n^3}}{{n^2\,(2 \times {s} + {s_out})}} = \frac{{2n}}{{{2 * s + s_out}}} > "
                 rf"{nf.sig(r, 6)} \iff n > \frac{{{2 * s + s_out} \times {nf.sig(r, 6)}}}{{2}} = {nf.sig(x, 6)}"),
            Step("The smallest such whole $n$:", rf"n = \lfloor {nf.sig(x, 6)} \rfloor + 1 = {n}"),
        ]
        parts.append(Part("square_n", "smallest compute-bound square matmul", Answer("integer", n)))
    return Solution(tuple(parts), steps)


def fma_from_peak(peak_tflops_: Any, sms: int, clock_ghz: Any, sparse: bool = False,
                  flops_per_fma: int = 2) -> Fraction:
    """The FMAs per clock per SM a quoted peak implies: peak / (SMs x 2 x clock), halved for a 2:4-sparse rate."""
    return _f(peak_tflops_) * 1000 / (sms * flops_per_fma * _f(clock_ghz) * (2 if sparse else 1))


def unit_name(g: dict[str, Any]) -> str:
    return "tensor core" if g["dtype"] in TENSOR_DTYPES else "CUDA core"


def _solve_fma_per_clock(g: dict[str, Any]) -> Solution:
    sparse, sms, units = is_sparse(g), int(g["sms"]), int(g.get("units_per_sm", 0))
    fma = fma_from_peak(g["peak_tflops"], sms, g["clock_ghz"], sparse)
    ops = "operations" if g["dtype"] in INTEGER_DTYPES else "FLOPs"
    sparse_tex = r" \times 2" if sparse else ""
    first = lambda: Step(f"The peak is SMs $\\times$ FMA/clock/SM $\\times$ 2 {ops} per FMA $\\times$ clock"
             + (" $\\times$ 2 for 2:4 sparsity" if sparse else "") + ", so",
             rf"\text{{FMA/clock/SM}} = \frac{{{nf.num(g['peak_tflops'])} \times 10^{{12}}}}{{{sms} \times 2 \times "
             rf"{nf.num(g['clock_ghz'])} \times 10^9{sparse_tex}}} = {nf.sig(fma, 6)}")  # noqa: E731
    parts = [Part("fma_per_clock", "FMAs per clock per SM", Answer("number", float(fma), sig=4))]
    if not units:
        return Solution(tuple(parts), lambda: (first(),))
    per = fma / units
    parts.append(Part("fma_per_unit", f"FMAs per clock per {unit_name(g)}", Answer("number", float(per), sig=4)))
    return Solution(tuple(parts), lambda: (first(), Step(f"Shared by the {units} {unit_name(g)}s of an SM:",
                                                         rf"\frac{{{nf.sig(fma, 6)}}}{{{units}}} = {nf.sig(per, 6)}")))


def _ridge_step(g: dict[str, Any], r: Fraction) -> Step:
    return Step("The GPU's ops:byte ratio:", rf"\frac{{{nf.num(g['peak_tflops'])} \times 10^{{12}}\ \text{{FLOP/s}}}}"
                rf"{{{nf.num(g['bandwidth_gbs'])} \times 10^9\ \text{{B/s}}}} = {nf.sig(r, 6)}\ \text{{FLOP/B}}")


def _solve_bound(g: dict[str, Any]) -> Solution:
    _, _, ai = _op_numbers(g)
    r = ridge(g["peak_tflops"], g["bandwidth_gbs"])
    verdict = bound(ai, r)
    att = attainable_tflops(ai, g["peak_tflops"], g["bandwidth_gbs"])
    rel = ">" if ai > r else r"\le"
    steps = lambda: _op_steps(g) + [  # noqa: E731 — built on first read
        _ridge_step(g, r),
        Step(f"${nf.sig(ai, 6)} {rel} {nf.sig(r, 6)}$, so the op is {verdict}."),
        Step("Roofline: attainable throughput is the smaller of the peak and intensity times bandwidth:",
             rf"\min\left({nf.num(g['peak_tflops'])},\ {nf.sig(ai, 6)} \times {nf.num(g['bandwidth_gbs'])} "
             rf"\times 10^{{-3}}\right) = {nf.sig(att, 6)}\ \text{{TFLOP/s}}"),
    ]
    return Solution((Part("intensity", "arithmetic intensity", Answer("number", float(ai), unit="FLOP/byte", sig=SIG)),
                     Part("ridge", "ops:byte ratio", Answer("number", float(r), unit="FLOP/byte", sig=SIG)),
                     Part("bound", "memory- or compute-bound", Answer("choice", verdict, choices=BOUNDS)),
                     Part("attainable", "attainable throughput", Answer("number", float(att), unit="TFLOP/s",
                                                                        sig=SIG))), steps)


def _solve_decode(g: dict[str, Any]) -> Solution:
    d, b, t, count = int(g["d_model"]), int(g["batch"]), int(g["prompt"]), g["count"]
    s, w = BYTES[g["dtype"]], weight_bytes(g)
    r = ridge(g["peak_tflops"], g["bandwidth_gbs"])
    ai_dec, ai_pre = linear_intensity(b, d, s, count, w=w), linear_intensity(b * t, d, s, count, w=w)
    x = critical_threshold(d, s, r, count, w=w)
    if x is None:
        raise InvalidGivens("decoding never turns compute-bound for these givens")
    nstar = math.floor(x) + 1
    wt, rt = nf.num(float(w)), nf.sig(r, 6)
    if count == "weights":
        formula = rf"\frac{{2 n d^2}}{{w\,d^2}} = \frac{{2n}}{{w}} = \frac{{2n}}{{{wt}}}"
        crit = rf"\frac{{2n}}{{{wt}}} > {rt} \iff n > \frac{{{rt} \times {wt}}}{{2}} = {nf.sig(x, 6)}"
    else:
        formula = rf"\frac{{2 n d^2}}{{w\,d^2 + 2nd\,s}} = \frac{{2n \times {d}^2}}{{{wt} \times {d}^2 + 2n \times {d} \times {s}}}"
        crit = (rf"2nd^2 > r\,(w\,d^2 + 2nd\,s) \iff n > \frac{{r\,w\,d}}{{2d - 2rs}} = "
                rf"\frac{{{rt} \times {wt} \times {d}}}{{2 \times {d} - 2 \times {rt} \times {s}}} = {nf.sig(x, 6)}")
    def at(n: int) -> str:  # the formula with the numbers substituted
        if count == "weights":
            return rf"\frac{{2 \times {n}}}{{{wt}}}"
        return rf"\frac{{2 \times {n} \times {d}^2}}{{{wt} \times {d}^2 + 2 \times {n} \times {d} \times {s}}}"

    stored = f"$w = {wt}$ byte per weight ({g['weight_dtype']}, weight-only quantization) and $s = {s}$ bytes per " \
        "activation" if w != s else f"$w = s = {s}$ bytes per element"

    def steps() -> tuple[Step, ...]:
        return (
            Step(f"Multiplying $n$ token vectors by the ${d} \\times {d}$ weight takes $2nd^2$ FLOPs and moves "
                 + ("the weight once" if count == "weights" else "the weight, the $n$ inputs and the $n$ outputs")
                 + f", with {stored}:", rf"\text{{AI}}(n) = {formula}"),
            Step(f"Decoding: each of the {b} sequence{'s' if b != 1 else ''} contributes one token per step, "
                 f"$n = {b}$:",
                 rf"\text{{AI}}({b}) = {at(b)} = {nf.sig(ai_dec, 6)}\ \text{{FLOP/B}}"),
            Step(f"Prefill: all prompt tokens at once, $n = {b} \\times {t} = {b * t}$:",
                 rf"\text{{AI}}({b * t}) = {at(b * t)} = {nf.sig(ai_pre, 6)}\ \text{{FLOP/B}}"),
            _ridge_step(g, r),
            Step(f"So decoding is {bound(ai_dec, r)} and prefill is {bound(ai_pre, r)}. Decoding turns compute-bound "
                 "once its intensity exceeds the ratio:", crit),
            Step("The smallest such whole batch:", rf"n = \lfloor {nf.sig(x, 6)} \rfloor + 1 = {nstar}"),
        )

    return Solution((
        Part("decode_intensity", "decoding intensity", Answer("number", float(ai_dec), unit="FLOP/byte", sig=SIG)),
        Part("prefill_intensity", "prefill intensity", Answer("number", float(ai_pre), unit="FLOP/byte", sig=SIG)),
        Part("decode_bound", "decoding is", Answer("choice", bound(ai_dec, r), choices=BOUNDS)),
        Part("prefill_bound", "prefill is", Answer("choice", bound(ai_pre, r), choices=BOUNDS)),
        Part("critical_batch", "smallest compute-bound decoding batch", Answer("integer", nstar)),
    ), steps)


def model_decode_numbers(g: dict[str, Any], kv_factor: int = 2, with_batch: bool = True,
                        weight_bytes_: Fraction | None = None, read_kv: bool = True,
                        flops_per_param: int = 2) -> dict[str, Fraction]:
    """Exact figures of one decoding step (a mistake changes one convention through the keywords); read only:
    kept for the instance's solver, mistakes and paths."""
    memo = _memo_for(g)
    key = ("model_decode", kv_factor, with_batch, weight_bytes_, read_kv, flops_per_param)
    numbers = memo.get(key)
    if numbers is None:
        numbers = memo[key] = _model_decode_numbers(g, kv_factor, with_batch, weight_bytes_, read_kv,
                                                    flops_per_param)
    return numbers


def _model_decode_numbers(g: dict[str, Any], kv_factor: int, with_batch: bool, weight_bytes_: Fraction | None,
                          read_kv: bool, flops_per_param: int) -> dict[str, Fraction]:
    # Exact, as numerators and denominators (one Fraction built per figure):
    #   P = params_b 10^9, flops = f P, weights = P w, step = P w + kv,
    #   t_compute = B flops / (peak 10^12), t_memory = step / (bandwidth 10^9)
    params = _f(g["params_b"])
    pn, pd = params.numerator * 10**9, params.denominator
    L, kv_dim, T, B = int(g["layers"]), int(g["kv_dim"]), int(g["context"]), int(g["batch"])
    w = MODEL_WEIGHT_BYTES[g["weight_dtype"]] if weight_bytes_ is None else weight_bytes_
    wn, wd = w.numerator, w.denominator
    kv = kv_factor * L * kv_dim * T * (B if with_batch else 1) * KV_BYTES[g.get("kv_dtype", "fp16")]
    sn, sd = pn * wn + (kv * pd * wd if read_kv else 0), pd * wd
    peak, bandwidth = _f(g["peak_tflops"]), _f(g["bandwidth_gbs"])
    t_compute = Fraction(B * flops_per_param * pn * peak.denominator, pd * peak.numerator * 10**12)
    t_memory = Fraction(sn * bandwidth.denominator, sd * bandwidth.numerator * 10**9)
    return {"flops": Fraction(flops_per_param * pn, pd), "kv": Fraction(kv), "weights": Fraction(pn * wn, sd),
            "step": Fraction(sn, sd), "t_compute": t_compute, "t_memory": t_memory,
            "latency": max(t_compute, t_memory)}


def _solve_model_decode(g: dict[str, Any]) -> Solution:
    x = model_decode_numbers(g)
    L, kv_dim, T, B = int(g["layers"]), int(g["kv_dim"]), int(g["context"]), int(g["batch"])
    kvb, w = KV_BYTES[g.get("kv_dtype", "fp16")], MODEL_WEIGHT_BYTES[g["weight_dtype"]]
    P = nf.num(g["params_b"])
    verdict = "compute-bound" if x["t_compute"] > x["t_memory"] else "memory-bound"
    rel = ">" if x["t_compute"] > x["t_memory"] else r"\le"

    def steps() -> tuple[Step, ...]:
        return (
            Step("Each parameter takes part in one multiply-add per token (2 FLOPs):",
                 rf"2P = 2 \times {P} \times 10^9 = {nf.sig(x['flops'], 6)}\ \text{{FLOP}}"),
            Step(f"The KV cache holds a key and a value of width {kv_dim} per layer, token and sequence, {kvb} "
                 f"byte{'s' if kvb != 1 else ''} per element:",
                 rf"2 \times {L} \times {kv_dim} \times {T} \times {B} \times {kvb} = {nf.sig(x['kv'], 6)}\ "
                 rf"\text{{B}} = "
                 rf"{nf.sig(x['kv'] / 10**9, 6)}\ \text{{GB}}"),
            Step(f"One decoding step reads every weight once ({nf.num(float(w))} byte{'s' if w != 1 else ''} each) "
                 "and the "
                 "whole KV cache once:",
                 rf"{P} \times 10^9 \times {nf.num(float(w))} + {nf.sig(x['kv'], 6)} = "
                 rf"{nf.sig(x['step'], 6)}\ \text{{B}} = "
                 rf"{nf.sig(x['step'] / 10**9, 6)}\ \text{{GB}}"),
            Step(f"Compute time of the step ({B} token{'s' if B != 1 else ''}, one per sequence) and memory time:",
                 rf"t_{{\text{{compute}}}} = \frac{{{B} \times {nf.sig(x['flops'], 6)}}}"
                 rf"{{{nf.num(g['peak_tflops'])} \times "
                 rf"10^{{12}}}} = {nf.sig(x['t_compute'] * 1000, 6)}\ \text{{ms}}, \quad t_{{\text{{memory}}}} = "
                 rf"\frac{{{nf.sig(x['step'], 6)}}}{{{nf.num(g['bandwidth_gbs'])} \times 10^9}} = "
                 rf"{nf.sig(x['t_memory'] * 1000, 6)}\ \text{{ms}}"),
            Step(f"$t_{{\\text{{compute}}}} {rel} t_{{\\text{{memory}}}}$, so the step is {verdict}; with compute and "
                 "memory traffic overlapped, it takes the larger of the two:",
                 rf"\max\left({nf.sig(x['t_compute'] * 1000, 6)},\ {nf.sig(x['t_memory'] * 1000, 6)}\right) = "
                 rf"{nf.sig(x['latency'] * 1000, 6)}\ \text{{ms}}"),
        )

    return Solution((
        Part("flops_per_token", "FLOPs per generated token", Answer("number", float(x["flops"]), unit="FLOP", sig=4)),
        Part("kv_cache_gb", "KV cache", Answer("number", float(x["kv"] / 10**9), unit="GB", sig=SIG)),
        Part("step_gb", "bytes read per decoding step", Answer("number", float(x["step"] / 10**9), unit="GB", sig=SIG)),
        Part("decode_bound", "a decoding step is", Answer("choice", verdict, choices=BOUNDS)),
        Part("latency_ms", "per-token latency", Answer("number", float(x["latency"] * 1000), unit="ms", sig=SIG)),
    ), steps)


_SOLVERS = {"op": _solve_op, "model_decode": _solve_model_decode, "gpu_peak": _solve_gpu_peak,
            "fma_per_clock": _solve_fma_per_clock, "bound": _solve_bound, "decode": _solve_decode}


def solve(variant: str, givens: dict[str, Any]) -> Solution:
    _check(variant, givens)
    return _SOLVERS[variant](givens)


# ---- sampling --------------------------------------------------------------------------------------


def _gpu_givens(rng: Rng, dtype: str, difficulty: str, real: bool = True) -> dict[str, Any]:
    """A GPU for bound/decode: a real one (its datasheet peak and bandwidth) in one draw out of four where
    `real`, else a hypothetical one stated by its peak and bandwidth (whole TFLOP/s and multiples of 50 GB/s
    at easy)."""
    if real and rng.randint(1, 4) == 1:
        names = [n for n, spec in gpu_table.GPUS.items() if dtype in spec.peak]
        spec = gpu_table.get(rng.choice(names))
        return {"gpu": next(n for n, v in gpu_table.GPUS.items() if v is spec),
                "peak_tflops": round(spec.peak[dtype] / 1e12, 1), "bandwidth_gbs": round(spec.bandwidth / 1e9)}
    peak = rng.randint(50, 1500) if difficulty == "easy" else float(rng.decimal(50, 2500, 1))
    bandwidth = 50 * rng.randint(10, 120) if difficulty == "easy" else 10 * rng.randint(50, 1000)
    if dtype == "fp32":
        peak = rng.randint(10, 100) if difficulty == "easy" else float(rng.decimal(10, 150, 1))
    return {"gpu": "custom", "peak_tflops": peak, "bandwidth_gbs": bandwidth}


def _away_from_ridge(ai: Fraction, r: Fraction) -> None:
    if r / RIDGE_MARGIN <= ai <= r * RIDGE_MARGIN:
        raise Rejected("the intensity is too close to the ops:byte ratio to classify by hand")


def _away_from_integer(x: Fraction) -> None:
    # min(x - floor x, ceil x - x) < margin, in integers: x = a/b, its distances to the integers around it
    # are r/b and (b - r)/b with r = a mod b (both 0 for an integer)
    a, b = x.numerator, x.denominator
    r = a % b
    if min(r, b - r if r else 0) * INTEGER_MARGIN.denominator < b * INTEGER_MARGIN.numerator:
        raise Rejected("a threshold too near an integer")


# Operand dimensions: (step, largest) — any multiple of `step` up to `largest`.
DIMS = {"easy": (32, 4096), "medium": (16, 8192), "hard": (8, 16384)}


def _dim(rng: Rng, difficulty: str) -> int:
    step, largest = DIMS[difficulty]
    return step * rng.randint(1, largest // step)


def _op_givens(rng: Rng, difficulty: str, op: str) -> dict[str, Any]:
    g: dict[str, Any] = {"op": op, "m": _dim(rng, difficulty), "n": _dim(rng, difficulty),
                         "p": _dim(rng, difficulty) if op == "matmul" else 1}
    if op == "matmul" and rng.randint(1, 3) == 1:  # a few tokens through a weight: the memory-bound side
        g["m"] = rng.randint(1, 64)
    g["dtype"] = rng.choice(("fp16", "bf16", "fp32") if difficulty != "easy" else ("fp16", "fp32"))
    # hard: half-precision inputs with the output written in fp32 (bytes counted per operand)
    g["out_dtype"] = "fp32" if difficulty == "hard" and g["dtype"] != "fp32" and rng.randint(0, 1) else "same"
    return g


def _log_uniform(rng: Rng, low_exp: int, high_exp: int) -> int:
    """An integer in (2^(e−1), 2^e] for e drawn uniformly in [low_exp, high_exp]: small and large equally often."""
    e = rng.randint(low_exp, high_exp)
    return rng.randint(2 ** (e - 1) + 1 if e else 1, 2**e)


def _gpu_peak_givens(rng: Rng, difficulty: str) -> dict[str, Any]:
    """A hypothetical GPU stated by its SMs, FMA rate, clock and bandwidth; at easy and medium one draw in ten
    is a real GPU with its clock locked at a stated value (as `nvidia-smi -lgc` does). Hard adds a part: the
    smallest square matmul that is compute-bound on it, asked at every difficulty; at hard its output is
    written in fp32."""
    if difficulty != "hard" and rng.randint(1, 10) == 1:
        name = rng.choice(tuple(FMA_PER_CLOCK_PER_SM))
        spec = gpu_table.get(name)
        dtype = rng.choice(tuple(FMA_PER_CLOCK_PER_SM[name])) if difficulty == "medium" else "fp16"
        return {"gpu": name, "dtype": dtype, "sms": spec.sms, "fma_per_clock": FMA_PER_CLOCK_PER_SM[name][dtype],
                "clock_ghz": float(rng.decimal(0.9, spec.clock_hz / 1e9, 3)),
                "bandwidth_gbs": round(spec.bandwidth / 1e9), "square": "yes", "sparsity": "dense"}
    # issue 17: int8 / fp8 tensor cores and non-tensor fp32 above easy; 2:4 sparsity in a third of hard draws
    dtype = "fp16" if difficulty == "easy" else rng.choice(("fp16", "bf16", "tf32", "fp8", "int8", "fp32"))
    sparse = difficulty == "hard" and dtype in TENSOR_DTYPES and rng.randint(1, 3) == 1
    g = {"gpu": "custom", "dtype": dtype, "sms": rng.randint(16, 160), "fma_per_clock": rng.choice(_FMA_CHOICES[dtype]),
         "clock_ghz": float(rng.decimal(1, 2.2, 2 if difficulty == "easy" else 3)),
         "bandwidth_gbs": 50 * rng.randint(10, 120) if difficulty == "easy" else 10 * rng.randint(50, 800),
         "square": "no" if sparse else "fp32-output" if difficulty == "hard" else "yes",
         "sparsity": "2:4" if sparse else "dense"}
    return g


# Hypothetical FMA rates per SM and clock by dtype (powers of two around the real ones).
_FMA_CHOICES = {"fp16": (256, 512, 1024, 2048), "bf16": (256, 512, 1024, 2048), "tf32": (128, 256, 512, 1024),
                "fp8": (1024, 2048, 4096), "int8": (1024, 2048, 4096), "fp32": (32, 64, 128), "fp64": (32, 64, 128)}
# Tensor cores per SM (V100: 8; A100, H100: 4) and fp32 CUDA cores per SM (V100, A100: 64; H100: 128).
UNITS_PER_SM = {"V100": (8, 64), "A100-40GB": (4, 64), "A100-80GB": (4, 64), "H100": (4, 128), "H200": (4, 128)}


def _fma_per_clock_givens(rng: Rng, difficulty: str) -> dict[str, Any]:
    """A quoted peak to solve for the FMA rate: a real GPU's datasheet figure (dense, or with sparsity) at its
    boost clock in one draw out of a hundred (there are about 40 such figures, so more would repeat), else a
    hypothetical GPU whose peak is quoted to 4 significant figures."""
    if rng.randint(1, 100) == 1:
        name = rng.choice(tuple(FMA_PER_CLOCK_PER_SM))
        spec = gpu_table.get(name)
        # the datasheet's fp64 is the non-tensor rate, and H100's fp32 is quoted at another clock: not asked
        dtypes = [d for d in FMA_PER_CLOCK_PER_SM[name] if d in spec.peak and d != "fp64"
                  and not (d == "fp32" and name.startswith("H"))]
        dtype = rng.choice(dtypes)
        sparse = difficulty != "easy" and dtype in TENSOR_DTYPES and rng.randint(1, 2) == 1
        units = UNITS_PER_SM[name][0 if dtype in TENSOR_DTYPES else 1]
        return {"gpu": name, "dtype": dtype, "sms": spec.sms, "clock_ghz": spec.clock_hz / 1e9,
                "peak_tflops": round(spec.peak[dtype] / 1e12 * (2 if sparse else 1), 1),
                "units_per_sm": units, "sparsity": "2:4" if sparse else "dense"}
    dtype = "fp16" if difficulty == "easy" else rng.choice(("fp16", "bf16", "tf32", "fp8", "int8", "fp32"))
    sparse = difficulty != "easy" and dtype in TENSOR_DTYPES and rng.randint(1, 3) == 1
    sms, fma = rng.randint(16, 160), rng.choice(_FMA_CHOICES[dtype])
    if difficulty == "easy":  # fp16 only: any multiple of 128 up to 2048, so the answers vary
        fma = 128 * rng.randint(2, 16)
    clock = rng.decimal(1, 2.2, 2 if difficulty == "easy" else 3)
    peak = float(f"{float(peak_tflops(sms, fma, clock, sparse=sparse)):.4g}")  # quoted to 4 figures
    units = rng.choice((2, 4, 8)) if dtype in TENSOR_DTYPES else 0  # a CUDA core does one fp32 FMA per clock
    return {"gpu": "custom", "dtype": dtype, "sms": sms, "clock_ghz": float(clock), "peak_tflops": peak,
            "units_per_sm": units, "sparsity": "2:4" if sparse else "dense"}


def _model_decode_givens(rng: Rng, difficulty: str) -> dict[str, Any]:
    """A hypothetical model (P, layers, KV width as heads x 128) decoding a log-uniform batch at a log-uniform
    context on a GPU; medium adds int8 weights, hard int4 weights and an fp8 KV cache. Steps whose compute and
    memory times are within 25 % of each other are redrawn (the verdict must be clear)."""
    layers = rng.randint(12, 96)
    heads = rng.choice((8, 16, 32, 64)) if difficulty == "easy" else rng.randint(2, 64)
    weight = "fp16" if difficulty == "easy" else \
        rng.choice(("fp16", "bf16", "int8") + (("int4",) if difficulty == "hard" else ()))
    g = {"params_b": float(rng.decimal(0.5, 200, 1)), "weight_dtype": weight, "layers": layers,
         "kv_dim": 128 * heads, "kv_dtype": rng.choice(("fp16", "fp8")) if difficulty == "hard" else "fp16",
         "context": _log_uniform(rng, 7, 15), "batch": _log_uniform(rng, 0, 9), **_gpu_givens(rng, "fp16", difficulty)}
    x = model_decode_numbers(g)
    if RIDGE_MARGIN ** -1 <= x["t_compute"] / x["t_memory"] <= RIDGE_MARGIN:
        raise Rejected("compute and memory times too close to call")
    return g


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    if variant == "op":
        return _op_givens(rng, difficulty, rng.choice(OPS))
    if variant == "gpu_peak":
        g = _gpu_peak_givens(rng, difficulty)
        if g["square"] == "no":
            return g
        peak = peak_tflops(g["sms"], g["fma_per_clock"], g["clock_ghz"])
        _away_from_integer(square_matmul_threshold(ridge(peak, g["bandwidth_gbs"]), STORAGE_BYTES[g["dtype"]],
                                                   square_out_bytes(g)))
        return g
    if variant == "fma_per_clock":
        return _fma_per_clock_givens(rng, difficulty)
    if variant == "model_decode":
        return _model_decode_givens(rng, difficulty)
    if variant == "bound":
        g = _op_givens(rng, difficulty, rng.choice(("matmul", "matmul", "matmul", "matvec", "elementwise", "relu",
                                                    "layernorm", "maxpool")))
        # an element-wise op's intensity depends on its dtype only: on a real GPU it would repeat
        g.update(_gpu_givens(rng, g["dtype"], difficulty, real=g["op"] not in ELEMENTWISE))
        flops, moved = op_counts(g["op"], g["m"], g["n"], g["p"], BYTES[g["dtype"]], s_out=out_bytes(g))
        _away_from_ridge(Fraction(flops, moved), ridge(g["peak_tflops"], g["bandwidth_gbs"]))
        return g
    dtype = rng.choice(("fp16", "bf16"))
    g = {"d_model": 256 * rng.randint(4, 32 if difficulty == "easy" else 64), "batch": _log_uniform(rng, 0, 9),
         "prompt": _log_uniform(rng, 3, 13), "dtype": dtype, "count": rng.choice(COUNTS),
         **_gpu_givens(rng, dtype, difficulty)}
    # hard: the weight is stored in int8 or packed int4 (weight-only quantization), the activations in 16 bits
    g["weight_dtype"] = rng.choice(("same", "int8", "int4")) if difficulty == "hard" else "same"
    s, r, w = BYTES[dtype], ridge(g["peak_tflops"], g["bandwidth_gbs"]), weight_bytes(g)
    x = critical_threshold(g["d_model"], s, r, g["count"], w=w)
    if x is None:
        raise Rejected("decoding never turns compute-bound")
    _away_from_integer(x)
    for tokens in (g["batch"], g["batch"] * g["prompt"]):
        _away_from_ridge(linear_intensity(tokens, g["d_model"], s, g["count"], w=w), r)
    return g


# ---- named mistakes --------------------------------------------------------------------------------


def _widths(g: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """op_counts' keyword arguments for the instance, with a mistake's change (elements for bytes counts every
    operand, the output included, as one byte)."""
    widths = {"s": BYTES[g["dtype"]], "s_out": out_bytes(g)}
    if "s" in change:
        widths["s_out"] = change["s"]
    return {**widths, **change}


def _op_ai(g: dict[str, Any], **change) -> Fraction:
    flops, moved = op_counts(g["op"], int(g["m"]), int(g["n"]), int(g["p"]), **_widths(g, change))
    return Fraction(flops, moved)


def _op_part(part: str, **change):
    """A wrong value of flops / bytes / intensity under a changed counting convention."""
    def wrong(variant: str, g: dict[str, Any]) -> Any:
        if "flops_per_fma" in change and g["op"] in ELEMENTWISE:
            return None  # an addition or comparison is not an FMA
        if change.get("operands") == "first" and g["op"] in SINGLE_INPUT:
            return None  # one input: the same as forgetting the output
        if "s_out" in change and out_bytes(g) == BYTES[g["dtype"]]:
            return None  # the output is in the inputs' dtype: nothing to confuse
        flops, moved = op_counts(g["op"], int(g["m"]), int(g["n"]), int(g["p"]), **_widths(g, change))
        return {"flops": flops, "bytes": moved, "intensity": float(Fraction(flops, moved))}[part]
    return wrong


def _bound_flip(**change):
    def wrong(variant: str, g: dict[str, Any]) -> str | None:
        if "flops_per_fma" in change and g["op"] in ELEMENTWISE:
            return None
        r = ridge(g["peak_tflops"], g["bandwidth_gbs"])
        verdict = bound(_op_ai(g, **change), r)
        return verdict if verdict != bound(_op_ai(g), r) else None
    return wrong


def _peak_assumed(variant: str, g: dict[str, Any]) -> float | None:
    memory_bound = _op_ai(g) <= ridge(g["peak_tflops"], g["bandwidth_gbs"])
    return float(g["peak_tflops"]) if memory_bound else None


def _not_capped(variant: str, g: dict[str, Any]) -> float | None:
    ai = _op_ai(g)
    return float(ai * _f(g["bandwidth_gbs"]) / 1000) if ai > ridge(g["peak_tflops"], g["bandwidth_gbs"]) else None


def _decode_part(part: str, s: int | None = None, flops_per_fma: int = 2, other_count: bool = False,
                 weight_as_activation: bool = False):
    def wrong(variant: str, g: dict[str, Any]) -> Any:
        size = s if s is not None else BYTES[g["dtype"]]
        w = size if s is not None or weight_as_activation else weight_bytes(g)
        if weight_as_activation and w == weight_bytes(g):
            return None
        count = g["count"]
        if other_count:
            count = COUNTS[1 - COUNTS.index(count)]
        d, b = int(g["d_model"]), int(g["batch"])
        if part == "decode_intensity":
            return float(linear_intensity(b, d, size, count, flops_per_fma, w))
        r = ridge(g["peak_tflops"], g["bandwidth_gbs"])
        n = critical_batch(d, size, r, count, flops_per_fma, w)
        right = critical_batch(d, BYTES[g["dtype"]], r, g["count"], w=weight_bytes(g))
        return n if n is not None and n != right else None
    return wrong


def _layernorm_one_flop(part: str):
    def wrong(variant: str, g: dict[str, Any]) -> Any:
        if g["op"] != "layernorm":
            return None
        m, n = int(g["m"]), int(g["n"])
        _, moved = op_counts("layernorm", m, n, 1, BYTES[g["dtype"]], s_out=out_bytes(g))
        return m * n if part == "flops" else float(Fraction(m * n, moved))
    return wrong


def _pool_output_full(part: str):
    """2x2 pooling's output counted at the input's size (m x n instead of m/2 x n/2)."""
    def wrong(variant: str, g: dict[str, Any]) -> Any:
        if g["op"] != "maxpool":
            return None
        m, n = int(g["m"]), int(g["n"])
        flops, _ = op_counts("maxpool", m, n, 1, BYTES[g["dtype"]])
        moved = m * n * BYTES[g["dtype"]] + m * n * out_bytes(g)
        return moved if part == "bytes" else float(Fraction(flops, moved))
    return wrong


def _model_part(part: str, **change):
    """A model_decode part under a changed convention (None where it changes nothing)."""
    def wrong(variant: str, g: dict[str, Any]) -> Any:
        if "weight_bytes_" in change and g["weight_dtype"] in ("fp16", "bf16"):
            return None
        if "with_batch" in change and int(g["batch"]) == 1:
            return None
        x, right = model_decode_numbers(g, **change), model_decode_numbers(g)
        if x[figure] == right[figure]:  # the part is the figure times a constant
            return None
        return float(x[figure] / 10**9 if scale == "giga" else x[figure] * 1000 if scale == "milli" else x[figure])
    figure, scale = {"kv_cache_gb": ("kv", "giga"), "step_gb": ("step", "giga"), "latency_ms": ("latency", "milli"),
                     "flops_per_token": ("flops", "")}[part]
    return wrong


def _latency_summed(variant: str, g: dict[str, Any]) -> float:
    x = model_decode_numbers(g)
    return float((x["t_compute"] + x["t_memory"]) * 1000)


_MD = ("model_decode",)
_OPS = ("op", "bound")
MISTAKES = (
    Mistake("fma_as_one_flop", "flops_per_token", "Each parameter does one multiply-add per token: 2P FLOPs, not P.",
            _MD, _model_part("flops_per_token", flops_per_param=1)),
    Mistake("keys_only", "kv_cache_gb", "The cache holds a key AND a value per layer and token: the factor 2.", _MD,
            _model_part("kv_cache_gb", kv_factor=1)),
    Mistake("one_sequence_only", "kv_cache_gb", "Every sequence of the batch has its own KV cache: times the batch.",
            _MD, _model_part("kv_cache_gb", with_batch=False)),
    Mistake("weights_at_16_bits", "step_gb", "The quantized weights take 1 byte (int8) or half a byte (int4) each, "
            "not 2.", _MD, _model_part("step_gb", weight_bytes_=Fraction(2))),
    Mistake("kv_cache_not_read", "step_gb", "Each step attends over the whole context: the KV cache is read too.",
            _MD, _model_part("step_gb", read_kv=False)),
    Mistake("kv_cache_not_read", "latency_ms", "Each step reads the KV cache as well as the weights.", _MD,
            _model_part("latency_ms", read_kv=False)),
    Mistake("times_added", "latency_ms", "The question overlaps compute and memory traffic: the step takes the "
            "larger of the two times, not their sum.", _MD, _latency_summed),
    Mistake("layernorm_one_flop_per_element", "flops", "The question counts 7 FLOPs per element of a LayerNorm (mean, "
            "variance, scaling, gamma and beta), not 1.", ("op",), _layernorm_one_flop("flops")),
    Mistake("layernorm_one_flop_per_element", "intensity", "A LayerNorm does 7 FLOPs per element as counted here, "
            "not 1.", _OPS, _layernorm_one_flop("intensity")),
    Mistake("pool_output_full_size", "bytes", "2x2 pooling with stride 2 writes an (m/2) x (n/2) output, a quarter "
            "of the input.", ("op",), _pool_output_full("bytes")),
    Mistake("fma_as_one_flop", "flops", "A multiply-add is 2 FLOPs (seed 001), not 1.", ("op",),
            _op_part("flops", flops_per_fma=1)),
    Mistake("elements_for_bytes", "bytes", "Elements were counted instead of bytes: each element of this dtype "
            "takes s bytes (2 for fp16/bf16, 4 for fp32).", ("op",), _op_part("bytes", s=1)),
    Mistake("one_operand_only", "bytes", "Only A's bytes were counted; every input is read and the output "
            "written.", ("op",), _op_part("bytes", operands="first")),
    Mistake("output_not_counted", "bytes", "The output must be written to memory too.", ("op",),
            _op_part("bytes", operands="inputs")),
    Mistake("output_in_input_dtype", "bytes", "The output is written in fp32 (4 bytes per element), not in the "
            "inputs' dtype.", ("op",), lambda v, g: _op_part("bytes", s_out=BYTES[g["dtype"]])(v, g)),
    Mistake("fma_as_one_flop", "intensity", "A multiply-add is 2 FLOPs, not 1: the intensity halves.", _OPS,
            _op_part("intensity", flops_per_fma=1)),
    Mistake("elements_for_bytes", "intensity", "Elements were counted instead of bytes (forgetting x2 bytes for "
            "fp16, x4 for fp32).", _OPS, _op_part("intensity", s=1)),
    Mistake("one_operand_only", "intensity", "Only one operand's bytes were counted.", _OPS,
            _op_part("intensity", operands="first")),
    Mistake("elements_for_bytes", "bound", "Counting elements instead of bytes overstates the intensity and "
            "flips the verdict.", ("bound",), _bound_flip(s=1)),
    Mistake("peak_assumed", "attainable", "A memory-bound op cannot reach the peak: it runs at intensity x "
            "bandwidth.", ("bound",), _peak_assumed),
    Mistake("roofline_not_capped", "attainable", "A compute-bound op is capped at the peak, not intensity x "
            "bandwidth.", ("bound",), _not_capped),
    Mistake("fma_as_one_flop", "peak", "A multiply-add is 2 FLOPs: peak = SMs x FMA/clock x 2 x clock.",
            ("gpu_peak",), lambda v, g: float(peak_tflops(int(g["sms"]), int(g["fma_per_clock"]), g["clock_ghz"], 1,
                                                          is_sparse(g)))),
    Mistake("fma_as_one_flop", "ridge", "A multiply-add is 2 FLOPs, so the peak and the ratio are twice that.",
            ("gpu_peak",), lambda v, g: float(ridge(peak_tflops(int(g["sms"]), int(g["fma_per_clock"]),
                                                                g["clock_ghz"], 1, is_sparse(g)), g["bandwidth_gbs"]))),
    Mistake("sparsity_ignored", "peak", "With 2:4 structured sparsity the quoted rate is twice the dense one.",
            ("gpu_peak",), lambda v, g: float(peak_tflops(int(g["sms"]), int(g["fma_per_clock"]), g["clock_ghz"]))
            if is_sparse(g) else None),
    Mistake("fma_as_one_flop", "fma_per_clock", "A multiply-add is 2 FLOPs (2 operations for int8): divide the "
            "peak by 2 per FMA.", ("fma_per_clock",),
            lambda v, g: float(fma_from_peak(g["peak_tflops"], int(g["sms"]), g["clock_ghz"], is_sparse(g), 1))),
    Mistake("sparsity_ignored", "fma_per_clock", "A peak quoted with 2:4 sparsity is twice the dense rate: halve it "
            "before dividing.", ("fma_per_clock",),
            lambda v, g: float(fma_from_peak(g["peak_tflops"], int(g["sms"]), g["clock_ghz"]))
            if is_sparse(g) else None),
    Mistake("not_divided_by_sms", "fma_per_clock", "The peak is the whole GPU's: divide by the number of SMs.",
            ("fma_per_clock",), lambda v, g: float(fma_from_peak(g["peak_tflops"], 1, g["clock_ghz"], is_sparse(g)))),
    Mistake("elements_for_bytes", "decode_intensity", "Elements were counted instead of bytes (forgetting x2 "
            "bytes for fp16/bf16).", ("decode",), _decode_part("decode_intensity", s=1)),
    Mistake("elements_for_bytes", "critical_batch", "Counting elements instead of bytes halves the batch.",
            ("decode",), _decode_part("critical_batch", s=1)),
    Mistake("fma_as_one_flop", "critical_batch", "A multiply-add is 2 FLOPs; counting 1 doubles the batch.",
            ("decode",), _decode_part("critical_batch", flops_per_fma=1)),
    Mistake("weight_at_activation_width", "decode_intensity", "The quantized weight takes 1 byte (int8) or half a "
            "byte (int4) per element, not the activations' 2.", ("decode",),
            _decode_part("decode_intensity", weight_as_activation=True)),
    Mistake("other_byte_count", "critical_batch", "The question says which bytes count (weights only, or weights "
            "and activations); the other convention was used.", ("decode",),
            _decode_part("critical_batch", other_count=True)),
)

# ---- student paths: correct ways from what the page shows ------------------------------------------


def _reported(solution: Solution, part: str) -> float:
    """A part's value as the student reports it, at the precision the question asks."""
    answer = solution.part(part).answer
    return nf.round_sig(answer.value, answer.sig) if answer.sig else answer.value


def _intensity_from_rounded_counts(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    if solution.part("flops").answer.sig is None and solution.part("bytes").answer.sig is None:
        return None
    return nf.round_sig(_reported(solution, "flops") / _reported(solution, "bytes"), SIG)


def _ratio_from_rounded_peak(variant: str, g: dict[str, Any], solution: Solution) -> float:
    return nf.round_sig(_reported(solution, "peak") * 1000 / float(g["bandwidth_gbs"]), SIG)


def _square_from_6_figure_ratio(variant: str, g: dict[str, Any], solution: Solution) -> int | None:
    if g.get("square", "no") == "no":
        return None
    peak = nf.round_sig(float(peak_tflops(int(g["sms"]), int(g["fma_per_clock"]), g["clock_ghz"])), 6)
    r6 = nf.round_sig(peak * 1000 / float(g["bandwidth_gbs"]), 6)
    return math.floor(r6 * (2 * STORAGE_BYTES[g["dtype"]] + square_out_bytes(g)) / 2) + 1


def _attainable_from_rounded_intensity(variant: str, g: dict[str, Any], solution: Solution) -> float:
    ai = _reported(solution, "intensity")
    return nf.round_sig(min(float(g["peak_tflops"]), ai * float(g["bandwidth_gbs"]) / 1000), SIG)


def _bound_from_rounded(intensity: str, ridge_part: str | None = None):
    """The verdict from the reported intensity and the ratio (reported, or carried to 6 figures)."""
    def value(variant: str, g: dict[str, Any], solution: Solution) -> str:
        r = _reported(solution, ridge_part) if ridge_part else \
            nf.round_sig(float(ridge(g["peak_tflops"], g["bandwidth_gbs"])), 6)
        return "compute-bound" if _reported(solution, intensity) > r else "memory-bound"
    return value


def _critical_from_6_figure_ratio(variant: str, g: dict[str, Any], solution: Solution) -> int | None:
    r6 = Fraction(str(nf.round_sig(float(ridge(g["peak_tflops"], g["bandwidth_gbs"])), 6)))
    return critical_batch(int(g["d_model"]), BYTES[g["dtype"]], r6, g["count"], w=weight_bytes(g))


def _per_unit_from_reported(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    if not int(g.get("units_per_sm", 0)):
        return None
    return nf.round_sig(_reported(solution, "fma_per_clock") / int(g["units_per_sm"]), 4)


def _latency_from_reported_bytes(variant: str, g: dict[str, Any], solution: Solution) -> float:
    """The latency with the step's bytes carried at 6 figures (as the question asks) and the compute time."""
    x = model_decode_numbers(g)
    t_mem = nf.round_sig(float(x["step"]), 6) / (float(g["bandwidth_gbs"]) * 1e9)
    return nf.round_sig(max(float(x["t_compute"]), t_mem) * 1000, SIG)


PATHS = (
    StudentPath("latency_from_6_figure_bytes", "latency_ms", "max(compute time, bytes carried to 6 figures / "
                "bandwidth).", _MD, _latency_from_reported_bytes),
    StudentPath("per_unit_from_reported_rate", "fma_per_unit", "The reported FMA/clock/SM (4 significant figures) "
                "divided by the units per SM.", ("fma_per_clock",), _per_unit_from_reported),
    StudentPath("intensity_from_rounded_counts", "intensity", "FLOPs over bytes as reported (4 significant figures "
                "each when they are not asked exactly).", ("op",), _intensity_from_rounded_counts),
    StudentPath("ratio_from_rounded_peak", "ridge", "The ratio from the peak as reported (3 significant figures).",
                ("gpu_peak",), _ratio_from_rounded_peak),
    StudentPath("square_from_6_figure_ratio", "square_n", "The threshold r(2s + s_out)/2 with the ratio carried to 6 "
                "significant figures, as the question asks.", ("gpu_peak",), _square_from_6_figure_ratio),
    StudentPath("bound_from_rounded_values", "bound", "The reported intensity compared with the reported ratio.",
                ("bound",), _bound_from_rounded("intensity", "ridge")),
    StudentPath("attainable_from_rounded_intensity", "attainable", "min(peak, reported intensity x bandwidth).",
                ("bound",), _attainable_from_rounded_intensity),
    StudentPath("decode_bound_from_rounded_intensity", "decode_bound", "The reported decoding intensity compared "
                "with the ratio carried to 6 figures.", ("decode",), _bound_from_rounded("decode_intensity")),
    StudentPath("prefill_bound_from_rounded_intensity", "prefill_bound", "The reported prefill intensity compared "
                "with the ratio carried to 6 figures.", ("decode",), _bound_from_rounded("prefill_intensity")),
    StudentPath("critical_batch_from_6_figure_ratio", "critical_batch", "The threshold with the ratio carried to "
                "6 significant figures, as the question asks.", ("decode",), _critical_from_6_figure_ratio),
)

TOPIC = Topic(
    name="intensity",
    description="arithmetic intensity, a GPU's peak and ops:byte ratio, memory- vs compute-bound, roofline, decoding",
    variants=VARIANTS,
    sample=sample,
    solve=solve,
    mistakes=MISTAKES,
    paths=PATHS,
)
