"""Decoding a whole model at the roofline (variant model_decode): the exact figures of one decoding step (2P FLOPs
per token, the KV cache, the bytes a step reads, compute and memory time) and the solver."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from exgen import numfmt as nf
from exgen.exact import decimal as _f
from exgen.problem import Answer, Part, Solution, Step
from exgen.topics.intensity.formulas import BOUNDS, SIG

MODEL_WEIGHT_BYTES = {"fp16": Fraction(2), "bf16": Fraction(2), "int8": Fraction(1), "int4": Fraction(1, 2)}
KV_BYTES = {"fp16": 2, "bf16": 2, "fp8": 1, "int8": 1}


def model_decode_numbers(g: dict[str, Any], kv_factor: int = 2, with_batch: bool = True,
                        weight_bytes_: Fraction | None = None, read_kv: bool = True,
                        flops_per_param: int = 2) -> dict[str, Fraction]:
    """Exact figures of one decoding step (a mistake changes one convention through the keywords); the sampler's
    check, times_added and the latency path need them exact, where the key's Solution holds floats."""
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
