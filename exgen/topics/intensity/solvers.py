"""Solvers and worked steps of the op, gpu_peak, fma_per_clock, bound and decode variants (model_decode's is in
model_decode.py)."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from exgen import numfmt as nf
from exgen.problem import Answer, Part, Solution, Step
from exgen.topics.base import InvalidGivens
from exgen.topics.intensity.formulas import (
    BOUNDS, BYTES, EXACT_BELOW, INTEGER_DTYPES, SIG, STORAGE_BYTES, TENSOR_DTYPES, attainable_tflops, bound,
    critical_threshold, fma_from_peak, is_sparse, linear_intensity, op_counts, out_bytes, peak_tflops, ridge,
    square_matmul_threshold, square_out_bytes, weight_bytes)

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
    written = f"the output written once in {g['out_dtype']} ({s_out} {nf.plural(s_out, 'byte')} per element)" if s_out != s else \
        "the output written once"
    inputs = {"relu": "the input", "maxpool": "the input",
              "layernorm": "$X$, $\\gamma$ and $\\beta$"}.get(op, "both inputs")
    steps = [
        Step(f"FLOPs of ${name}$, {what}:", rf"{flops_tex} = {nf.sig(flops, 8)}\ \text{{FLOP}}"),
        Step(f"Bytes moved: {inputs} read once ({s} {nf.plural(s, 'byte')} per {dtype} element) and {written}:",
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
        out = f"the output written in {wide} ({s_out} {nf.plural(s_out, 'byte')})" if s_out != s else "the output in the same dtype"
        peak_steps = steps
        steps = lambda: peak_steps() + [  # noqa: E731
            Step(f"An $n \\times n$ by $n \\times n$ matmul in {g['dtype']} ({s} {nf.plural(s, 'byte')} per input element, {out}) "
                 f"does $2n^3$ FLOPs and moves $2n^2 \\times {s} + n^2 \\times {s_out}$ bytes:",
                 rf"\text{{AI}}(n) = \frac{{2n^3}}{{n^2\,(2 \times {s} + {s_out})}} = \frac{{2n}}{{{2 * s + s_out}}} > "
                 rf"{nf.sig(r, 6)} \iff n > \frac{{{2 * s + s_out} \times {nf.sig(r, 6)}}}{{2}} = {nf.sig(x, 6)}"),
            Step("The smallest such whole $n$:", rf"n = \lfloor {nf.sig(x, 6)} \rfloor + 1 = {n}"),
        ]
        parts.append(Part("square_n", "smallest compute-bound square matmul", Answer("integer", n)))
    return Solution(tuple(parts), steps)


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

    stored = f"$w = {wt}$ {nf.plural(float(w), 'byte')} per weight ({g['weight_dtype']}, weight-only quantization) and $s = {s}$ " \
        f"{nf.plural(s, 'byte')} per activation" if w != s else f"$w = s = {s}$ {nf.plural(s, 'byte')} per element"

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
