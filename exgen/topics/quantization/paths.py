"""Student paths of the linear variants and storage (k-means' appended): correct ways from what the page shows,
a calculator carrying S to 6 significant figures, or earlier answers as rounded; each must land in tolerance."""

from __future__ import annotations

import itertools
import math
from typing import Any

from exgen import numfmt as nf
from exgen.problem import Answer, Solution
from exgen.topics.base import StudentPath, each
from exgen.topics.quantization import _fast, kmeans
from exgen.topics.quantization.common import _transpose, clamp, int_range, round_half_away


# ---- student paths: correct ways from what the page shows ------------------------------------------


def _at_precision(answer: Answer, value: float) -> tuple[float, ...]:
    """A value rounded the way the question asks the student to report it (at a tie either neighbour)."""
    if answer.sig is not None and value:
        return nf.held(value, answer.sig)
    return nf.held(value, decimals=answer.decimals if answer.decimals is not None else 12)


def _farthest(values: tuple[float, ...], key: float) -> float:
    return max(values, key=lambda v: abs(v - key))


def _matrix_at_decimals(answer: Answer, rows: list[list[float]]) -> list[list[float]]:
    """Each entry rounded to the asked decimals, at a tie the neighbour farther from the key's entry: entries
    are graded one by one, so this matrix misses the tolerance exactly when some way of rounding the ties does."""
    return [[_farthest(nf.held(v, decimals=answer.decimals), float(k)) for v, k in zip(row, krow)]
            for row, krow in zip(rows, answer.value)]


def _calculator(variant: str, g: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    return _calculator_cached(variant, tuple(map(tuple, g["X"])), g["bits"], g.get("signed"), g.get("convention"),
                              tuple(g.get("calibration") or ()), g.get("clip", 0), g.get("axis", "rows"),
                              g.get("metric"))


@_fast.memo(16)
def _calculator_cached(variant: str, xkey: tuple, bits: Any, signed: Any, convention: Any, calibration: tuple,
                       clip: Any, axis: str, metric: Any) -> tuple[dict[str, Any], ...]:
    """The whole computation in floats with the scale carried to 6 significant figures (the question's
    carrying rule): what a student with a calculator works with, once per scale they may hold (both
    neighbours of a tie).  Keyed on the givens it reads."""
    x = [[float(v) for v in row] for row in xkey]
    bits = int(bits)
    qmin, qmax = int_range(bits, variant != "affine" or signed == "signed")
    values = [v for row in x for v in row]

    floor = math.floor

    def integers(rows, scales, zero):  # clamp(round_half_away(r / s) + zero, qmin, qmax), inlined
        out = []
        for row, s in zip(rows, scales):
            q_row = []
            for r in row:
                t = r / s
                n = floor(abs(t) + 0.5)
                v = (n if t >= 0 else -n) + zero
                q_row.append(qmin if v < qmin else qmax if v > qmax else v)
            out.append(q_row)
        return out

    def err(q, scales, zero, metric):
        d = [r - s * (v - zero) for row, qrow, s in zip(x, q, scales) for r, v in zip(row, qrow)]
        if metric == "max_abs":
            return max(abs(e) for e in d)
        return sum(e * e for e in d) / len(d) if metric == "mse" else math.sqrt(sum(e * e for e in d))

    if variant == "per_channel":
        if axis == "columns":
            x = _transpose(x)
        out = []
        for s_t, *s_r in itertools.product(nf.held(max(abs(v) for v in values) / qmax, 6),
                                           *(nf.held(max(abs(v) for v in row) / qmax, 6) for row in x)):
            q_t, q_r = integers(x, [s_t] * len(x), 0), integers(x, s_r, 0)
            e_t, e_r = err(q_t, [s_t] * len(x), 0, "frobenius"), err(q_r, s_r, 0, "frobenius")
            if axis == "columns":
                q_t, q_r = _transpose(q_t), _transpose(q_r)
            out.append({"q_tensor": q_t, "q_rows": q_r, "error_tensor": e_t, "error_rows": e_r,
                        "error_ratio": e_r / e_t})
        return tuple(out)
    if variant == "affine":
        rmin, rmax = calibration or (min(values), max(values))
        scales = nf.held((rmax - rmin) / (qmax - qmin), 6)
    else:
        amax = float(clip) or max(abs(v) for v in values)
        scales = nf.held(amax / qmax if convention == "qmax" else amax / 2 ** (bits - 1), 6)
    out = []
    for scale in scales:
        zero = clamp(round_half_away(qmin - rmin / scale), qmin, qmax) if variant == "affine" else 0
        q = integers(x, [scale] * len(x), zero)
        out.append({"zero_point": zero, "q": q, "reconstruction": [[scale * (v - zero) for v in row] for row in q],
                    "error": err(q, [scale] * len(x), zero, metric)})
    return tuple(out)


def _calculator_path(part: str):
    def value(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        answer = solution.part(part).answer

        def reported(got: Any) -> Any:
            if answer.kind == "matrix" and answer.decimals is not None:
                return _matrix_at_decimals(answer, got)
            return got if answer.kind in ("integer", "matrix") else _at_precision(answer, got)
        return each(reported, tuple(way[part] for way in _calculator(variant, g)))
    return value


def _error_of_rounded_reconstruction(variant: str, g: dict[str, Any], solution: Solution) -> float:
    """The error computed from the reconstruction as the student reported it (rounded to `decimals`)."""
    dec, metric = int(g["decimals"]), g["metric"]
    held = [(float(r), nf.held(v, decimals=dec)) for row, hrow in zip(g["X"], solution.value("reconstruction"))
            for r, v in zip(row, hrow)]

    def error(pick) -> float:  # every metric grows with each |entry|: the extremes pick each entry's extreme
        d = [r - pick(hs, key=lambda h: abs(r - h)) for r, hs in held]
        return max(abs(e) for e in d) if metric == "max_abs" else sum(e * e for e in d) / len(d) \
            if metric == "mse" else math.sqrt(sum(e * e for e in d))
    return each(lambda value: _at_precision(solution.part("error").answer, value), (error(min), error(max)))


def _from_rounded(part: str, numerator: str, denominator: str):
    """A ratio computed from the student's own rounded answers to two earlier parts."""
    def value(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
        num, den = (solution.part(p).answer for p in (numerator, denominator))
        if not _at_precision(den, den.value)[0]:
            return None
        return each(lambda top, bottom: _at_precision(solution.part(part).answer, top / bottom),
                    _at_precision(num, num.value), _at_precision(den, den.value))
    return value


_MATRIX_VARIANTS = ("affine", "absmax")
PATHS = (
    *(StudentPath("scale_carried_to_6_figures", part, "Float arithmetic with S rounded to 6 significant figures "
                  "(the question's carrying rule), each answer rounded as asked.", variants, _calculator_path(part))
      for part, variants in (("zero_point", ("affine",)), ("q", _MATRIX_VARIANTS),
                             ("reconstruction", _MATRIX_VARIANTS), ("error", _MATRIX_VARIANTS),
                             ("q_tensor", ("per_channel",)), ("q_rows", ("per_channel",)),
                             ("error_tensor", ("per_channel",)), ("error_rows", ("per_channel",)),
                             ("error_ratio", ("per_channel",)))),
    StudentPath("error_of_rounded_reconstruction", "error", "The error computed from the reconstruction rounded "
                "to the decimals of the previous part (the question asks for the unrounded one, but both must "
                "agree at the asked precision).", _MATRIX_VARIANTS, _error_of_rounded_reconstruction),
    StudentPath("ratio_of_rounded_errors", "error_ratio", "The ratio of the two errors as reported (3 significant "
                "figures each).", ("per_channel",), _from_rounded("error_ratio", "error_rows", "error_tensor")),
    StudentPath("ratio_of_rounded_sizes", "ratio", "The compression ratio of the two sizes as reported (3 "
                "significant figures each).", ("storage",), _from_rounded("ratio", "before", "after")),
    *kmeans.PATHS,
)
