"""Student paths of the intensity topic: correct ways from what the page shows (answers as reported, rounded, or a
ratio carried to 6 figures), each of which must land in tolerance."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from exgen import numfmt as nf
from exgen.problem import Solution
from exgen.topics.base import StudentPath, each
from exgen.topics.intensity.formulas import (
    BYTES, SIG, STORAGE_BYTES, critical_batch, ridge, square_out_bytes, weight_bytes)
from exgen.topics.intensity.model_decode import model_decode_numbers


def _reported(solution: Solution, part: str) -> tuple[float, ...]:
    """A part's value as the student reports it, at the precision the question asks (both neighbours of a
    tie: `nf.held`)."""
    answer = solution.part(part).answer
    return nf.held(answer.value, answer.sig) if answer.sig else (answer.value,)


def _six(x: float) -> tuple[float, ...]:
    """A value carried to 6 significant figures, as the questions ask (both neighbours of a tie)."""
    return nf.held(x, 6)


def _ratio6(g: dict[str, Any]) -> tuple[float, ...]:
    """The ratio peak/bandwidth carried to 6 significant figures."""
    return _six(float(ridge(g["peak_tflops"], g["bandwidth_gbs"])))


def _as_asked(x: float, figures: int = SIG) -> tuple[float, ...]:
    return nf.held(x, figures)


def _intensity_from_rounded_counts(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    if solution.part("flops").answer.sig is None and solution.part("bytes").answer.sig is None:
        return None
    return each(lambda f, b: _as_asked(f / b), _reported(solution, "flops"), _reported(solution, "bytes"))


def _ratio_from_rounded_peak(variant: str, g: dict[str, Any], solution: Solution) -> float:
    return each(lambda p: _as_asked(p * 1000 / float(g["bandwidth_gbs"])), _reported(solution, "peak"))


def _square_from_6_figure_ratio(variant: str, g: dict[str, Any], solution: Solution) -> int | None:
    if g.get("square", "no") == "no":
        return None
    per_element = 2 * STORAGE_BYTES[g["dtype"]] + square_out_bytes(g)  # the peak is never sparse here
    return each(lambda peak: each(lambda r6: math.floor(r6 * per_element / 2) + 1,
                                  _six(peak * 1000 / float(g["bandwidth_gbs"]))), _six(solution.value("peak")))


def _attainable_from_rounded_intensity(variant: str, g: dict[str, Any], solution: Solution) -> float:
    return each(lambda ai: _as_asked(min(float(g["peak_tflops"]), ai * float(g["bandwidth_gbs"]) / 1000)),
                _reported(solution, "intensity"))


def _bound_from_rounded(intensity: str, ridge_part: str | None = None):
    """The verdict from the reported intensity and the ratio (reported, or carried to 6 figures)."""
    def value(variant: str, g: dict[str, Any], solution: Solution) -> str | tuple[str, ...]:
        r = _reported(solution, ridge_part) if ridge_part else _ratio6(g)
        return each(lambda ai, r: "compute-bound" if ai > r else "memory-bound", _reported(solution, intensity), r)
    return value


def _critical_from_6_figure_ratio(variant: str, g: dict[str, Any], solution: Solution) -> int | None:
    return each(lambda r6: critical_batch(int(g["d_model"]), BYTES[g["dtype"]], Fraction(str(r6)), g["count"],
                                          w=weight_bytes(g)), _ratio6(g))


def _per_unit_from_reported(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    if not int(g.get("units_per_sm", 0)):
        return None
    return each(lambda r: _as_asked(r / int(g["units_per_sm"]), 4), _reported(solution, "fma_per_clock"))


def _latency_from_reported_bytes(variant: str, g: dict[str, Any], solution: Solution) -> float:
    """The latency with the step's bytes carried at 6 figures (as the question asks) and the compute time."""
    x = model_decode_numbers(g)
    bandwidth = float(g["bandwidth_gbs"]) * 1e9
    return each(lambda step: _as_asked(max(float(x["t_compute"]), step / bandwidth) * 1000), _six(float(x["step"])))


_MD = ("model_decode",)
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
