"""The topic's sampler: the linear variants' matrices, drawn on a decimal grid with every value to be rounded kept
TIE_MARGIN from a .5 boundary (entries redrawn one at a time); storage, k-means and the libraries' variants
are drawn by their own modules."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Iterable

from exgen.rng import Rng
from exgen.topics.base import Rejected
from exgen.topics.quantization import _fast, kmeans
from exgen.topics.quantization import libraries as ext  # issue 17's variants (libraries/)
from exgen.topics.quantization.common import ERROR_METRICS, _transpose, flat, int_range, near_tie
from exgen.topics.quantization.storage import _sample_storage


# ---- sampling --------------------------------------------------------------------------------------

# (rows, cols, value decimals, |value| bound, bit widths, reconstruction decimals) per difficulty
SHAPES = {
    "easy": (3, 3, 1, 3, (2,), 2),
    "medium": (4, 4, 2, 2.5, (2, 4), 2),
    "hard": (4, 5, 2, 5, (4, 8), 3),
}
REDRAWS = 40


def _matrix(rng: Rng, difficulty: str) -> tuple[list[list[int]], int, int]:
    """The matrix as rng.decimal's integers (units of 10^-places), a bit width and the reconstruction decimals."""
    rows, cols, places, bound, widths, dec = SHAPES[difficulty]
    scale = 10**places
    lo, hi = round(-bound * scale), round(bound * scale)  # rng.decimal(-bound, bound, places)
    x = [[rng.randint(lo, hi) for _ in range(cols)] for _ in range(rows)]
    values = flat(x)
    if not (min(values) < 0 < max(values)) or len(set(values)) < len(values) // 2:
        raise Rejected("range must straddle zero; no near-constant matrices")
    return x, rng.choice(widths), dec


def _reject_ties(quantities: Iterable[Fraction]) -> None:
    if any(near_tie(v) for v in quantities):
        raise Rejected("a value lies near a rounding boundary")


def _untie(rng: Rng, x: list[list[int]], limits, scales) -> None:
    """Redraw (in place) each entry whose r/S lies near a .5 boundary for one of `scales(i)`, uniformly on the
    entry's grid within `limits(i)` = (lo, hi), which keeps every scale unchanged; an entry that fixes a scale
    (it sits on a limit) cannot move, so a tie there rejects the instance.  Redrawing one entry instead of the
    whole matrix keeps sampling fast when a matrix has 20 entries and two scales.  Entries are integers on the
    grid (r = m/10^places) and a scale is given as (p, q) with r/S = m·p/q."""
    randint = rng.randint
    for i, row in enumerate(x):
        lo, hi = limits(i)
        # _fast.near_tie(r·p, q) inlined: |frac(r·p/q) − 1/2| < 1/20  ⇔  |40 (r·p mod q) − 20 q| < 2 q
        pairs = [(p, q, 20 * q, 2 * q) for p, q in scales(i)]
        for j, r in enumerate(row):
            for _ in range(REDRAWS):
                for p, q, q20, q2 in pairs:
                    if abs(40 * (r * p % q) - q20) < q2:
                        break  # near a tie for this scale
                else:
                    break  # away from every tie
                if r == lo or r == hi:
                    raise Rejected("an extreme entry lies near a rounding boundary")
                r = randint(lo, hi)  # rng.decimal(lo, hi, places) on the grid
            else:
                raise Rejected("no entry away from a rounding boundary")
            row[j] = r


def _as_floats(x: list[list[int]], places: int) -> list[list[float]]:
    scale = 10**places
    return [[v / scale for v in row] for row in x]


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    if variant == "kmeans":
        return kmeans.sample(rng, difficulty)
    if variant == "storage":
        return _sample_storage(rng, difficulty)
    if variant in ext.SAMPLERS:
        return ext.SAMPLERS[variant](rng, difficulty)
    x, bits, dec = _matrix(rng, difficulty)
    places = SHAPES[difficulty][2]
    if variant == "affine":
        signed = rng.choice(("signed", "unsigned"))
        qmin, qmax = int_range(bits, signed == "signed")
        rmin, rmax = min(flat(x)), max(flat(x))
        calibration = None
        if difficulty == "hard" and rng.randint(0, 1):  # a range calibrated on other data, narrower at one end:
            shrink = rng.randint(60, 90)                # the entries beyond it clamp (rng.decimal(0.6, 0.9, 2))
            calibration = [rmin, _fast.round_even(rmax * shrink, 100)] if rng.randint(0, 1) \
                else [_fast.round_even(rmin * shrink, 100), rmax]
        lo, hi = calibration or (rmin, rmax)
        levels = qmax - qmin  # S = (hi − lo)/(10^places·levels): r/S = m·levels/(hi − lo)
        if _fast.near_tie(qmin * (hi - lo) - lo * levels, hi - lo):  # Z before rounding
            raise Rejected("a value lies near a rounding boundary")
        _untie(rng, x, lambda i: (rmin, rmax), lambda i: ((levels, hi - lo),))
        return {"X": _as_floats(x, places), "bits": bits, "signed": signed, "metric": rng.choice(ERROR_METRICS),
                "decimals": dec, "calibration": [v / 10**places for v in calibration] if calibration else []}
    if variant == "absmax":
        convention = rng.choice(("qmax", "qmin"))
        amax = max(abs(v) for v in flat(x))
        clip = 0
        if difficulty == "hard" and rng.randint(0, 1):  # clipping: the outliers saturate, the rest gain resolution
            clip = _fast.round_even(amax * rng.randint(60, 90), 100)  # rng.decimal(0.6, 0.9, 2)
        divisor = 2 ** (bits - 1) - 1 if convention == "qmax" else 2 ** (bits - 1)
        _untie(rng, x, lambda i: (-amax, amax), lambda i: ((divisor, clip or amax),))
        return {"X": _as_floats(x, places), "bits": bits, "convention": convention,
                "metric": rng.choice(ERROR_METRICS), "decimals": dec, "clip": clip / 10**places if clip else 0}
    # per_channel: every channel's scale and the tensor's, and a per-tensor reconstruction that is not exact.
    # Hard puts the channels along the columns half the time (a weight's output channels in y = xW).
    axis = "columns" if difficulty == "hard" and rng.randint(0, 1) else "rows"
    x = _transpose(x) if axis == "columns" else x
    row_max = [max(abs(v) for v in row) for row in x]
    if not all(row_max):
        raise Rejected("a zero row has no scale")
    qmax = 2 ** (bits - 1) - 1
    amax = max(row_max)
    _untie(rng, x, lambda i: (-row_max[i], row_max[i]), lambda i: ((qmax, amax), (qmax, row_max[i])))
    if all(r * qmax % amax == 0 for r in flat(x)):
        raise Rejected("the per-tensor reconstruction is exact")
    return {"X": _as_floats(_transpose(x) if axis == "columns" else x, places), "bits": bits, "axis": axis}
