"""Named mistakes of the linear variants and storage (k-means' appended), each recomputed with the one wrong
step (a zero point rounded the other way, 2^b levels, the other absmax convention, GiB for GB, ...)."""

from __future__ import annotations

from typing import Any

from exgen.problem import Solution
from exgen.topics.base import Mistake
from exgen.topics.quantization import kmeans
from exgen.topics.quantization.common import BYTES_PER_GB, BYTES_PER_GIB, int_range
from exgen.topics.quantization.linear import _absmax_ints, _affine_ints, _grid
from exgen.topics.quantization.storage import _storage_sizes


# ---- named mistakes --------------------------------------------------------------------------------


def _zero_other_way(variant: str, g: dict[str, Any], solution: Solution) -> int:
    zero = solution.value("zero_point")
    *_, zn, zd, _ = _affine_ints(g)  # Z before rounding, exactly: the key holds only the rounded Z
    return zero + 1 if zn > zero * zd else zero - 1


def _levels_2b(variant: str, g: dict[str, Any], solution: Solution) -> float:
    sn, sd = _affine_ints(g, levels=2 ** int(g["bits"]))[4:6]
    return sn / sd


def _unsigned_for_signed(variant: str, g: dict[str, Any], solution: Solution) -> int | None:
    if g["signed"] != "signed":
        return None
    return _affine_ints(g, signed=False)[8]


def _own_range_for_calibrated(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    if not g.get("calibration"):
        return None
    sn, sd = _affine_ints(g, own_range=True)[4:6]
    return sn / sd


def _other_convention(variant: str, g: dict[str, Any], solution: Solution) -> float:
    *_, sn, sd = _absmax_ints(g, convention="qmin" if g["convention"] == "qmax" else "qmax")
    return sn / sd


def _clip_ignored(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    if not g.get("clip"):
        return None
    *_, sn, sd = _absmax_ints(g, clip=False)
    return sn / sd


def _unclamped(variant: str, g: dict[str, Any], solution: Solution) -> list[list[int]] | None:
    d, a, _, sn, sd = _absmax_ints(g)
    qmin, qmax = int_range(int(g["bits"]), True)
    raw = [list(r) for r in _grid(d, a, sn, sd, 0, qmin, qmax)["raw"]]  # unclamped: the key holds q, clamped
    return raw if raw != solution.value("q") else None


def _without_group_overhead(variant: str, g: dict[str, Any], solution: Solution) -> float:
    """The size after quantization with no per-group scale (or zero point) counted, in GB (from the solver's
    cached sizes: the key does not hold this one)."""
    sizes = _storage_sizes(g)
    return sizes["without_overhead"] / (8 * sizes["d"] * BYTES_PER_GB)


MISTAKES = (
    Mistake("zero_point_rounded_other_way", "zero_point",
            "The zero point was rounded to the other neighbouring integer: Z = round(q_min − r_min/S).",
            ("affine",), _zero_other_way),
    Mistake("levels_2_to_the_b", "scale",
            "The scale divides by 2^b; the number of steps between q_min and q_max is 2^b − 1.",
            ("affine",), _levels_2b),
    Mistake("unsigned_range_for_signed", "zero_point",
            "The unsigned range [0, 2^b − 1] was used for a signed integer type.",
            ("affine",), _unsigned_for_signed),
    Mistake("own_range_for_calibrated", "scale", "The question gives a calibrated range: S and Z come from it, not "
            "from the extremes of X.", ("affine",), _own_range_for_calibrated),
    Mistake("absmax_convention_mixed_up", "scale",
            "The other absmax convention was used (|r|max/q_max versus −|r|max/q_min); the question states which.",
            ("absmax",), _other_convention),
    Mistake("clip_ignored", "scale", "The scale uses the clipping threshold c in place of |r|max: entries beyond "
            "±c saturate at the ends of the range.", ("absmax",), _clip_ignored),
    Mistake("not_clamped", "q",
            "r/S was rounded but not clamped to [q_min, q_max]: with S = −|r|max/q_min the largest value maps to "
            "2^(b−1), one past q_max.",
            ("absmax",), _unclamped),
    Mistake("gib_for_gb", "after",
            "The size was divided by 2^30 (GiB) instead of 10^9 (GB).",
            ("storage",), lambda v, g, s: s.value("after") * BYTES_PER_GB / BYTES_PER_GIB),
    Mistake("bits_for_bytes", "after",
            "Bits were counted as bytes: b bits per weight is b/8 bytes.",
            ("storage",), lambda v, g, s: s.value("after") * 8),
    Mistake("scales_forgotten", "after",
            "The per-group scales were left out of the size.",
            ("storage",), _without_group_overhead),
    *kmeans.MISTAKES,
)
