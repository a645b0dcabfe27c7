"""Arithmetic intensity reproduced with torch, independently of the solver.

- FLOPs are counted by `torch.utils.flop_counter.FlopCounterMode` while the op actually runs, on `meta`
  tensors of the question's shapes and dtype (only shapes are needed, so any size is counted as given).
  The counter has no formula for `aten.mv` or element-wise ops: Ax runs as A times an n×1 matrix (the same
  multiply-adds), and the element-wise sum is counted through the counter's `custom_mapping` with one FLOP
  per output element of the `aten.add` it dispatches (our convention, stated in the question).
- Bytes moved are the `nbytes` of the tensors the op reads and writes (inputs read once, output written
  once; for decoding, the weight alone or with the activations, as the question says).
- A GPU's peak: FLOPs per FMA are counted (a 1×k by k×1 product is k FMAs), then SMs × FMA/clock × that
  × clock. The roofline is min(peak, AI × bandwidth); the critical decoding batch is found by bisection
  on counted intensities, and so is the smallest compute-bound square matmul.
No GPU is used: on one, timing the op (or a sweep of batch sizes) would confirm the classification
empirically; that is left to a machine with a GPU.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def _add_flops(a_shape, b_shape, *args, out_shape=None, **kwargs) -> int:
    """One FLOP per output element of an element-wise add."""
    return int(torch.Size(out_shape).numel())


def _relu_flops(x_shape, *args, out_shape=None, **kwargs) -> int:
    """One comparison with 0 per element."""
    return int(torch.Size(out_shape).numel())


def _layer_norm_flops(x_shape, *args, out_shape=None, **kwargs) -> int:
    """7 FLOPs per element of X (mean 1, variance 3, 1/sigma 1, gamma and beta 2), as the question counts."""
    return 7 * int(torch.Size(x_shape).numel())


def _max_pool_flops(x_shape, kernel_size, *args, out_shape=None, **kwargs) -> int:
    """A window of k x k values takes k*k - 1 comparisons, once per output element."""
    window = kernel_size[0] * kernel_size[-1] if len(kernel_size) > 1 else kernel_size[0] ** 2
    return (window - 1) * int(torch.Size(out_shape[0]).numel())


_MAPPING = {torch.ops.aten.add: _add_flops, torch.ops.aten.relu: _relu_flops,
            torch.ops.aten.native_layer_norm: _layer_norm_flops,
            torch.ops.aten.max_pool2d_with_indices: _max_pool_flops}


def counted_flops(fn) -> int:
    with FlopCounterMode(display=False, custom_mapping=_MAPPING) as counter:
        fn()
    return counter.get_total_flops()


def _tensor(*shape: int, dtype: str) -> torch.Tensor:
    return torch.empty(*shape, dtype=DTYPES[dtype], device="meta")


def op_flops_bytes(op: str, m: int, n: int, p: int, dtype: str, out_dtype: str = "same") -> tuple[int, int]:
    """FLOPs counted while the op runs; bytes: the inputs' nbytes plus the output's, written in `out_dtype`."""
    if op in ("relu", "layernorm", "maxpool"):
        x = _tensor(m, n, dtype=dtype)
        params = [_tensor(n, dtype=dtype), _tensor(n, dtype=dtype)] if op == "layernorm" else []
        run = {"relu": lambda: torch.relu(x),
               "layernorm": lambda: torch.nn.functional.layer_norm(x, (n,), *params),
               "maxpool": lambda: torch.nn.functional.max_pool2d(x[None, None], 2, 2)}[op]
        out1: list[torch.Tensor] = []
        flops = counted_flops(lambda: out1.append(run()))
        written = out1[0] if out_dtype == "same" else out1[0].to(DTYPES[out_dtype])
        return flops, x.nbytes + sum(t.nbytes for t in params) + written.nbytes
    if op == "matmul":
        a, b = _tensor(m, n, dtype=dtype), _tensor(n, p, dtype=dtype)
    elif op == "matvec":
        a, b = _tensor(m, n, dtype=dtype), _tensor(n, 1, dtype=dtype)
    else:
        a, b = _tensor(m, n, dtype=dtype), _tensor(m, n, dtype=dtype)
    out: list[torch.Tensor] = []
    flops = counted_flops(lambda: out.append(a @ b if op != "elementwise" else a + b))
    written = out[0] if out_dtype == "same" else out[0].to(DTYPES[out_dtype])
    return flops, a.nbytes + b.nbytes + written.nbytes


@lru_cache(maxsize=None)
def flops_per_fma() -> float:
    """FLOPs the counter assigns to one multiply-add: a (1×k)(k×1) product is k FMAs."""
    k = 1024
    return counted_flops(lambda: _tensor(1, k, dtype="fp32") @ _tensor(k, 1, dtype="fp32")) / k


def _weight(d: int, dtype: str, weight_dtype: str) -> torch.Tensor:
    """The d×d weight as stored: in the activations' dtype, int8, or int4 packed two per uint8 byte."""
    if weight_dtype == "int8":
        return torch.empty(d, d, dtype=torch.int8, device="meta")
    if weight_dtype == "int4":
        return torch.empty(d, (d + 1) // 2, dtype=torch.uint8, device="meta")
    return _tensor(d, d, dtype=dtype)


@lru_cache(maxsize=None)
def linear_intensity(tokens: int, d: int, dtype: str, count: str, weight_dtype: str = "same") -> float:
    """FLOPs counted on the matmul in the activations' dtype (a quantized weight is dequantized first); bytes
    are the stored weight's nbytes, plus X's and Y's when activations count."""
    x, w = _tensor(tokens, d, dtype=dtype), _tensor(d, d, dtype=dtype)
    out: list[torch.Tensor] = []
    flops = counted_flops(lambda: out.append(x @ w))
    moved = _weight(d, dtype, weight_dtype).nbytes + (x.nbytes + out[0].nbytes if count == "weights+activations" else 0)
    return flops / moved


def _classify(ai: float, ridge: float) -> str:
    return "compute-bound" if ai > ridge else "memory-bound"


def _op(g: dict[str, Any]) -> dict[str, Any]:
    flops, moved = op_flops_bytes(g["op"], int(g["m"]), int(g["n"]), int(g.get("p", 1)), g["dtype"],
                                  g.get("out_dtype", "same"))
    return {"flops": flops, "bytes": moved, "intensity": flops / moved}


# tf32 operands live in memory as fp32; tf32 and fp64 matmuls are counted on fp32/fp64 meta tensors.
_STORED = {"fp16": torch.float16, "bf16": torch.bfloat16, "tf32": torch.float32, "fp64": torch.float64,
           "fp8": torch.float8_e4m3fn, "int8": torch.int8, "fp32": torch.float32}


def _square_intensity(n: int, dtype: str, fp32_output: bool) -> float:
    a, b = (torch.empty(n, n, dtype=_STORED[dtype], device="meta") for _ in range(2))
    out: list[torch.Tensor] = []
    flops = counted_flops(lambda: out.append(a @ b))
    wide = torch.int32 if dtype == "int8" else torch.float32  # a 32-bit output: int32 accumulators for int8
    written = out[0].to(wide) if fp32_output else out[0]
    return flops / (a.nbytes + b.nbytes + written.nbytes)


def _smallest_above(intensity, ridge: float) -> int | None:
    """The smallest n ≥ 1 with intensity(n) > ridge, by doubling then bisection (intensity grows with n)."""
    lo, hi = 0, 1
    while intensity(hi) <= ridge:
        lo, hi = hi, hi * 2
        if hi > 2**40:
            return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if intensity(mid) <= ridge else (lo, mid)
    return hi


def _sparse_factor(g: dict[str, Any]) -> int:
    """A rate quoted with 2:4 structured sparsity counts the dense product's FLOPs in half the tensor-core work:
    twice the dense rate (NVIDIA's datasheets). The dense FLOPs of a 2:4-pruned product are counted below."""
    if g.get("sparsity", "dense") != "2:4":
        return 1
    k = 64
    dense = counted_flops(lambda: _tensor(8, k, dtype="fp32") @ _tensor(k, 8, dtype="fp32"))
    issued = dense // 2  # half the multiply-adds meet a nonzero weight (two of every four are zero)
    return dense // issued


def _gpu_peak(g: dict[str, Any]) -> dict[str, Any]:
    peak = int(g["sms"]) * int(g["fma_per_clock"]) * flops_per_fma() * float(g["clock_ghz"]) * 1e9 \
        * _sparse_factor(g)  # FLOP/s
    ridge = peak / (float(g["bandwidth_gbs"]) * 1e9)
    got = {"peak": peak / 1e12, "ridge": ridge}
    if g.get("square", "no") != "no":
        fp32_output = g["square"] == "fp32-output"
        got["square_n"] = _smallest_above(lambda n: _square_intensity(n, g["dtype"], fp32_output), ridge)
    return got


def _bound(g: dict[str, Any]) -> dict[str, Any]:
    ai = _op(g)["intensity"]
    peak, bandwidth = float(g["peak_tflops"]) * 1e12, float(g["bandwidth_gbs"]) * 1e9
    return {"intensity": ai, "ridge": peak / bandwidth, "bound": _classify(ai, peak / bandwidth),
            "attainable": min(peak, ai * bandwidth) / 1e12}


def _decode(g: dict[str, Any]) -> dict[str, Any]:
    d, b, t, dtype, count = int(g["d_model"]), int(g["batch"]), int(g["prompt"]), g["dtype"], g["count"]
    wd = g.get("weight_dtype", "same")
    ridge = float(g["peak_tflops"]) * 1e12 / (float(g["bandwidth_gbs"]) * 1e9)
    dec, pre = linear_intensity(b, d, dtype, count, wd), linear_intensity(b * t, d, dtype, count, wd)
    critical = _smallest_above(lambda n: linear_intensity(n, d, dtype, count, wd), ridge)
    return {"decode_intensity": dec, "prefill_intensity": pre, "decode_bound": _classify(dec, ridge),
            "prefill_bound": _classify(pre, ridge), "critical_batch": critical}


def _fma_per_clock(g: dict[str, Any]) -> dict[str, Any]:
    """Inverts the peak: the FMA rate r with SMs x r x (FLOPs per FMA, counted) x clock (x 2 sparse) = quoted peak,
    found by bisection on the forward formula rather than by dividing."""
    def peak(rate: float) -> float:
        return int(g["sms"]) * rate * flops_per_fma() * float(g["clock_ghz"]) * 1e9 * _sparse_factor(g)
    target, lo, hi = float(g["peak_tflops"]) * 1e12, 0.0, 1.0
    while peak(hi) < target:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if peak(mid) < target else (lo, mid)
    got = {"fma_per_clock": (lo + hi) / 2}
    if int(g.get("units_per_sm", 0)):
        got["fma_per_unit"] = got["fma_per_clock"] / int(g["units_per_sm"])
    return got


_KV = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp8": torch.float8_e4m3fn, "int8": torch.int8}


def _model_weights(count: int, weight_dtype: str) -> torch.Tensor:
    """All P weights as stored, on meta: fp16/bf16, int8, or int4 packed two per uint8."""
    if weight_dtype == "int4":
        return torch.empty((count + 1) // 2, dtype=torch.uint8, device="meta")
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "int8": torch.int8}[weight_dtype]
    return torch.empty(count, dtype=dtype, device="meta")


def _model_decode(g: dict[str, Any]) -> dict[str, Any]:
    """One decoding step on meta tensors: the step's FLOPs counted on B token vectors through a 1 x P weight row
    (one multiply-add per parameter and token); the weights' and the KV cache's (2, L, B, T, kv_dim) nbytes."""
    P = round(float(g["params_b"]) * 1e9)
    B, L, T, kv_dim = int(g["batch"]), int(g["layers"]), int(g["context"]), int(g["kv_dim"])
    x, w = torch.empty(B, 1, dtype=torch.float16, device="meta"), torch.empty(1, P, dtype=torch.float16, device="meta")
    step_flops = counted_flops(lambda: x @ w)
    cache = torch.empty(2, L, B, T, kv_dim, dtype=_KV[g.get("kv_dtype", "fp16")], device="meta")
    step_bytes = _model_weights(P, g["weight_dtype"]).nbytes + cache.nbytes
    t_compute = step_flops / (float(g["peak_tflops"]) * 1e12)
    t_memory = step_bytes / (float(g["bandwidth_gbs"]) * 1e9)
    return {"flops_per_token": step_flops / B, "kv_cache_gb": cache.nbytes / 1e9, "step_gb": step_bytes / 1e9,
            "decode_bound": _classify(t_compute, t_memory), "latency_ms": max(t_compute, t_memory) * 1000}


_REPRODUCERS = {"op": _op, "model_decode": _model_decode, "gpu_peak": _gpu_peak, "fma_per_clock": _fma_per_clock,
                "bound": _bound, "decode": _decode}


def reproduce(variant: str, givens: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return _REPRODUCERS[variant](givens)
