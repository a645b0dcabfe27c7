"""The intensity topic's sampler: givens drawn per variant and difficulty, kept away from the ops:byte ratio and
from integer thresholds so that the verdicts and the whole-number answers are clear by hand."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from exgen import gpus as gpu_table
from exgen.rng import Rng
from exgen.topics.base import Rejected
from exgen.topics.intensity.formulas import (
    BYTES, COUNTS, ELEMENTWISE, FMA_PER_CLOCK_PER_SM, INTEGER_MARGIN, OPS, RIDGE_MARGIN, STORAGE_BYTES,
    TENSOR_DTYPES, critical_threshold, linear_intensity, op_counts, out_bytes, peak_tflops, ridge,
    square_matmul_threshold, square_out_bytes, weight_bytes)
from exgen.topics.intensity.model_decode import model_decode_numbers


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
