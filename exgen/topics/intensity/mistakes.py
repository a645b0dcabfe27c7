"""Named mistakes of the intensity topic: each a wrong value under one changed convention (FMA as one FLOP,
elements for bytes, an operand or the KV cache forgotten, the roofline misread), None where it changes nothing."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from exgen.exact import decimal as _f
from exgen.problem import Solution
from exgen.topics.base import Mistake
from exgen.topics.intensity.formulas import (
    BYTES, COUNTS, ELEMENTWISE, SINGLE_INPUT, bound, critical_batch, fma_from_peak, is_sparse, linear_intensity,
    op_counts, out_bytes, peak_tflops, ridge, weight_bytes)
from exgen.topics.intensity.model_decode import model_decode_numbers


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
    def wrong(variant: str, g: dict[str, Any], solution: Solution) -> Any:
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
    def wrong(variant: str, g: dict[str, Any], solution: Solution) -> str | None:
        if "flops_per_fma" in change and g["op"] in ELEMENTWISE:
            return None
        verdict = bound(_op_ai(g, **change), ridge(g["peak_tflops"], g["bandwidth_gbs"]))
        return verdict if verdict != solution.value("bound") else None
    return wrong


def _peak_assumed(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    memory_bound = solution.value("bound") == "memory-bound"
    return float(g["peak_tflops"]) if memory_bound else None


def _not_capped(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    if solution.value("bound") != "compute-bound":
        return None
    return float(_op_ai(g) * _f(g["bandwidth_gbs"]) / 1000)  # the exact intensity: the answer holds it rounded


def _decode_part(part: str, s: int | None = None, flops_per_fma: int = 2, other_count: bool = False,
                 weight_as_activation: bool = False):
    def wrong(variant: str, g: dict[str, Any], solution: Solution) -> Any:
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
        return n if n is not None and n != solution.value("critical_batch") else None
    return wrong


def _layernorm_one_flop(part: str):
    def wrong(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        if g["op"] != "layernorm":
            return None
        m, n = int(g["m"]), int(g["n"])
        _, moved = op_counts("layernorm", m, n, 1, BYTES[g["dtype"]], s_out=out_bytes(g))
        return m * n if part == "flops" else float(Fraction(m * n, moved))
    return wrong


def _pool_output_full(part: str):
    """2x2 pooling's output counted at the input's size (m x n instead of m/2 x n/2)."""
    def wrong(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        if g["op"] != "maxpool":
            return None
        m, n = int(g["m"]), int(g["n"])
        flops, _ = op_counts("maxpool", m, n, 1, BYTES[g["dtype"]])
        moved = m * n * BYTES[g["dtype"]] + m * n * out_bytes(g)
        return moved if part == "bytes" else float(Fraction(flops, moved))
    return wrong


def _model_part(part: str, **change):
    """A model_decode part under a changed convention (None where it changes nothing)."""
    def wrong(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        if "weight_bytes_" in change and g["weight_dtype"] in ("fp16", "bf16"):
            return None
        if "with_batch" in change and int(g["batch"]) == 1:
            return None
        x = model_decode_numbers(g, **change)
        value = float(x[figure] / 10**9 if scale == "giga" else x[figure] * 1000 if scale == "milli" else x[figure])
        return None if value == solution.value(part) else value  # the key's, computed the same way
    figure, scale = {"kv_cache_gb": ("kv", "giga"), "step_gb": ("step", "giga"), "latency_ms": ("latency", "milli"),
                     "flops_per_token": ("flops", "")}[part]
    return wrong


def _latency_summed(variant: str, g: dict[str, Any], solution: Solution) -> float:
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
            "inputs' dtype.", ("op",), lambda v, g, s: _op_part("bytes", s_out=BYTES[g["dtype"]])(v, g, s)),
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
            ("gpu_peak",),
            lambda v, g, s: float(peak_tflops(int(g["sms"]), int(g["fma_per_clock"]), g["clock_ghz"], 1,
                                              is_sparse(g)))),
    Mistake("fma_as_one_flop", "ridge", "A multiply-add is 2 FLOPs, so the peak and the ratio are twice that.",
            ("gpu_peak",),
            lambda v, g, s: float(ridge(peak_tflops(int(g["sms"]), int(g["fma_per_clock"]), g["clock_ghz"], 1,
                                                    is_sparse(g)), g["bandwidth_gbs"]))),
    Mistake("sparsity_ignored", "peak", "With 2:4 structured sparsity the quoted rate is twice the dense one.",
            ("gpu_peak",),
            lambda v, g, s: float(peak_tflops(int(g["sms"]), int(g["fma_per_clock"]), g["clock_ghz"])) if is_sparse(g)
            else None),
    Mistake("fma_as_one_flop", "fma_per_clock", "A multiply-add is 2 FLOPs (2 operations for int8): divide the "
            "peak by 2 per FMA.", ("fma_per_clock",),
            lambda v, g, s: float(fma_from_peak(g["peak_tflops"], int(g["sms"]), g["clock_ghz"], is_sparse(g), 1))),
    Mistake("sparsity_ignored", "fma_per_clock", "A peak quoted with 2:4 sparsity is twice the dense rate: halve it "
            "before dividing.", ("fma_per_clock",),
            lambda v, g, s: float(fma_from_peak(g["peak_tflops"], int(g["sms"]), g["clock_ghz"]))
            if is_sparse(g) else None),
    Mistake("not_divided_by_sms", "fma_per_clock", "The peak is the whole GPU's: divide by the number of SMs.",
            ("fma_per_clock",),
            lambda v, g, s: float(fma_from_peak(g["peak_tflops"], 1, g["clock_ghz"], is_sparse(g)))),
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
