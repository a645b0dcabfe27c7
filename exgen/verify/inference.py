"""Inference memory and latency reproduced with torch, independently of the solver.

- The KV cache is measured on a real decoder: `n_layer` attention layers (q/k/v/o projections, grouped-query
  attention by repeating K/V heads, softmax(QK^T / sqrt(d_head)) V with a causal mask), built on the `meta`
  device so any size costs nothing. A prefill of one sequence of `seq_len` tokens fills each layer's cache (keys
  and values cast to the cache dtype, as an fp8 cache does); the answer is the sum of the cache tensors' `nbytes`,
  times the batch. Bytes per token: the same model decoding one token for one sequence, so the cache holds
  exactly one token.
- Weights are a `meta` tensor of the model's parameter count in the weights' dtype (int4 packed two to a
  uint8), and their `nbytes` is the memory.
- Decode time: the bytes one step reads (weight and cache tensors' `nbytes`) over the bandwidth.  Prefill
  FLOPs are counted by `FlopCounterMode` while a (tokens x 1) by (1 x parameters) product runs — one
  multiply-add per parameter per token — then divided by the peak.
- The largest batch and the GPUs needed are found by search over counted bytes, not by a floor formula.
No GPU is needed; on one, timing a real decode step against the bandwidth bound is left to future work.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

CACHE_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16, "fp8": torch.float8_e4m3fn}
META = torch.device("meta")


class Attention(nn.Module):
    """One decoder layer's attention with a KV cache (grouped-query when n_kv_heads < n_heads)."""

    def __init__(self, n_heads: int, n_kv_heads: int, head_dim: int, cache_dtype: torch.dtype) -> None:
        super().__init__()
        d = n_heads * head_dim
        self.h, self.kv, self.hd, self.cache_dtype = n_heads, n_kv_heads, head_dim, cache_dtype
        self.q = nn.Linear(d, d, bias=False, device=META, dtype=torch.bfloat16)
        self.k = nn.Linear(d, n_kv_heads * head_dim, bias=False, device=META, dtype=torch.bfloat16)
        self.v = nn.Linear(d, n_kv_heads * head_dim, bias=False, device=META, dtype=torch.bfloat16)
        self.o = nn.Linear(d, d, bias=False, device=META, dtype=torch.bfloat16)
        self.cache: dict[str, torch.Tensor] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q = self.q(x).view(b, t, self.h, self.hd).transpose(1, 2)
        k = self.k(x).view(b, t, self.kv, self.hd).transpose(1, 2).to(self.cache_dtype)
        v = self.v(x).view(b, t, self.kv, self.hd).transpose(1, 2).to(self.cache_dtype)
        if self.cache:
            k, v = torch.cat([self.cache["k"], k], dim=2), torch.cat([self.cache["v"], v], dim=2)
        self.cache = {"k": k, "v": v}
        rep = self.h // self.kv
        kk = k.to(q.dtype).repeat_interleave(rep, dim=1)
        vv = v.to(q.dtype).repeat_interleave(rep, dim=1)
        scores = q @ kk.transpose(-1, -2) / math.sqrt(self.hd)  # (b, h, t, cached tokens)
        if t > 1:  # causal: a prompt token sees the tokens before it
            s = kk.shape[2]
            scores = scores + torch.full((t, s), float("-inf"), device=x.device, dtype=q.dtype).triu(s - t + 1)
        y = scores.softmax(dim=-1) @ vv
        return self.o(y.transpose(1, 2).reshape(b, t, self.h * self.hd))


def cache_bytes(g: dict[str, Any], batch: int, tokens: int) -> int:
    """nbytes of every layer's K and V cache after a prefill of `batch` x `tokens`: one sequence's, `batch` times
    (sequences attend only to themselves; `_max_batch` confirms it at b = 2), since 10^6 sequences of 10^7 tokens
    have more activations than a tensor's element count (int64) holds."""
    return batch * measured_cache(g, 1, tokens)


def measured_cache(g: dict[str, Any], batch: int, tokens: int) -> int:
    """nbytes of every layer's K and V cache after a real prefill of `batch` x `tokens`."""
    layers = [Attention(int(g["n_heads"]), int(g["n_kv_heads"]), int(g["head_dim"]), CACHE_DTYPES[g["kv_dtype"]])
              for _ in range(int(g["n_layer"]))]
    x = torch.empty(batch, tokens, int(g["n_heads"]) * int(g["head_dim"]), dtype=torch.bfloat16, device=META)
    with torch.no_grad():
        for layer in layers:
            x = layer(x)
    return sum(t.nbytes for layer in layers for t in layer.cache.values())


def per_token(g: dict[str, Any]) -> int:
    return cache_bytes(g, 1, 1)


def weight_bytes(params_b: Any, dtype: str) -> int:
    n = round(float(params_b) * 1e9)
    if dtype == "int4":
        return torch.empty(math.ceil(n / 2), dtype=torch.uint8, device=META).nbytes
    dt = {"fp16": torch.float16, "bf16": torch.bfloat16, "int8": torch.int8}[dtype]
    return torch.empty(n, dtype=dt, device=META).nbytes


def _gb(value: Any) -> Fraction:
    """A size given in GB, in bytes exactly as the decimal reads (4.1 GB is 4,100,000,000 B; 4.1 * 1e9 in floats
    is 4099999999.9999995, which moved an exact fit)."""
    return Fraction(repr(float(value or 0))) * 10**9


def _kv_cache(g: dict[str, Any]) -> dict[str, Any]:
    per = per_token(g)
    out = {"per_token": per, "total": cache_bytes(g, int(g["batch"]), int(g["seq_len"])) / 1e9}
    budget = _gb(g.get("budget_gb", 0))
    if budget:
        out["max_tokens"] = _largest(lambda n: n * per <= budget)
    return out


def _largest(fits, start: int = 1) -> int:
    """The largest n >= 0 with fits(n), for a monotone predicate, by doubling and bisection."""
    lo, hi = 0, start
    while fits(hi):
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


def _memory(g: dict[str, Any]) -> dict[str, Any]:
    w = weight_bytes(g["params_b"], g["w_dtype"])
    c = cache_bytes(g, int(g["batch"]), int(g["seq_len"]))
    out = {"weights": w / 1e9, "cache": c / 1e9, "total": (w + c) / 1e9}
    gpu = _gb(g.get("gpu_gb", 0))
    if gpu:
        out["gpus"] = _largest(lambda n: n * gpu < w + c) + 1
    return out


def _max_batch(g: dict[str, Any]) -> dict[str, Any]:
    w = weight_bytes(g["params_b"], g["w_dtype"])
    free = _gb(g["gpu_gb"]) - w - _gb(g.get("reserve_gb", 0))
    one = measured_cache(g, 1, int(g["seq_len"]))
    # the cache of b sequences, measured once at b = 2 to confirm it scales with the batch
    assert measured_cache(g, 2, int(g["seq_len"])) == 2 * one
    return {"free": float(free / 10**9), "per_sequence": one / 1e9, "max_batch": _largest(lambda b: b * one <= free)}


def _decode(g: dict[str, Any]) -> dict[str, Any]:
    w = weight_bytes(g["params_b"], g["w_dtype"])
    kv = int(g.get("kv_bytes_per_token", 0) or 0)
    # one sequence's cache, times the batch: 10^6 x 10^7 tokens x 10^9 B has more elements than int64 holds
    cache = int(g["batch"]) * torch.empty(int(g.get("context", 0) or 0), kv, dtype=torch.uint8, device=META).nbytes
    step = (w + cache) / (float(g["bandwidth_gbs"]) * 1e9)
    return {"step_ms": step * 1000, "tokens_per_s": int(g["batch"]) / step}


def prefill_flops(params_b: Any, tokens: int) -> int:
    """Counted in blocks of tokens (as a chunked prefill runs), each a product whose (block x n) output torch can
    size: 32768 x 1024 tokens of a 405B model is 1.4e19 elements, past int64."""
    n = round(float(params_b) * 1e9)

    def counted(t: int) -> int:
        with FlopCounterMode(display=False) as counter:
            torch.empty(t, 1, device=META) @ torch.empty(1, n, device=META)
        return counter.get_total_flops()

    block = max(1, min(tokens, 2**60 // max(n, 1)))
    whole, rest = divmod(tokens, block)
    return whole * counted(block) + (counted(rest) if rest else 0)


def _prefill(g: dict[str, Any]) -> dict[str, Any]:
    b, p = int(g["batch"]), int(g["prompt"])
    pre = prefill_flops(g["params_b"], b * p) / (float(g["peak_tflops"]) * 1e12)
    dec = weight_bytes(g["params_b"], g["w_dtype"]) / (float(g["bandwidth_gbs"]) * 1e9)
    return {"prefill_ms": pre * 1000, "decode_ms": dec * 1000, "total_s": pre + int(g["new_tokens"]) * dec}


_REPRODUCERS = {"kv_cache": _kv_cache, "memory": _memory, "max_batch": _max_batch, "decode": _decode,
                "prefill": _prefill}


def reproduce(variant: str, givens: dict[str, Any], device: torch.device) -> dict[str, Any]:
    g = {"batch": 1, **givens}
    return _REPRODUCERS[variant](g)
