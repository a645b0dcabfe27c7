"""Parallelism: the sampler — model sizes and links per difficulty, and one instance of a variant."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from exgen.rng import Rng
from exgen.topics.base import Rejected
from exgen.topics.parallelism.common import (COLLECTIVES, CONVENTIONS, DTYPE_BYTES, GB, MB, MS, bus_factor, exact,
                                             min_micro_batches)


# Continuous model sizes per difficulty (inclusive ranges): D and L are multiples of a unit so `easy` stays
# calculator-friendly; every dtype at every difficulty (the expression's coefficient is the dtype's bytes).
SIZES = {
    "easy": {"n_layer": (2, 72), "d": (64, 4, 64), "batch": 64, "seq": (64, 1, 32), "heads": 32,
             "gpus": (2, 3, 4, 5, 6, 8, 10, 12, 16), "tp": (2, 4, 8), "stages": 24, "micro": 96, "ring_mb": 1000},
    "medium": {"n_layer": (4, 96), "d": (64, 8, 128), "batch": 128, "seq": (128, 1, 64), "heads": 64,
               "gpus": tuple(range(2, 33)), "tp": (2, 4, 8), "stages": 32, "micro": 128, "ring_mb": 8192},
    "hard": {"n_layer": (8, 128), "d": (128, 8, 128), "batch": 64, "seq": (256, 1, 32), "heads": 128,
             "gpus": tuple(range(2, 65)), "tp": (2, 4, 8, 16), "stages": 64, "micro": 256, "ring_mb": 65536},
}
RING_LINKS = (12.5, 25, 50, 100, 150, 200, 300, 400, 450, 900)  # GB/s: PCIe, InfiniBand and NVLink generations


def _multiple(rng: Rng, spec: tuple[int, int, int]) -> int:
    unit, low, high = spec
    return unit * rng.randint(low, high)


def _model(rng: Rng, size: dict[str, Any]) -> dict[str, Any]:
    return {"n_layer": rng.randint(*size["n_layer"]), "d_model": _multiple(rng, size["d"]),
            "dtype": rng.choice(tuple(DTYPE_BYTES))}


def _measured_ms(factor: Fraction, mb: int, link: Any, percent: int) -> float:
    """The ideal time factor · mb MB / (link GB/s) in ms over an efficiency of percent %, as a float: one correctly
    rounded division of integers, the float the Fraction gives."""
    bw = exact(link)
    return (factor.numerator * mb * MB * bw.denominator * MS.denominator * 100
            / (factor.denominator * bw.numerator * GB * MS.numerator * percent))


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    size = SIZES[difficulty]
    twist = {"link_gbps": rng.choice(RING_LINKS)} if difficulty == "hard" else {}  # time on the wire
    if variant in ("data_parallel", "fsdp"):
        g = {**_model(rng, size), "gpus": rng.choice(size["gpus"]), **twist}
        return {**g, "convention": rng.choice(CONVENTIONS)} if variant == "fsdp" else g
    if variant == "pipeline":
        k, m = rng.randint(1, 8), rng.randint(2, 16)
        n = k * rng.randint(2, max(2, size["n_layer"][1] // k))
        return {"n_layer": n, "layers_per_stage": k, "batch": m * rng.randint(1, max(1, size["batch"] // m)),
                "seq_len": _multiple(rng, size["seq"]), "d_model": _multiple(rng, size["d"]),
                "dtype": rng.choice(tuple(DTYPE_BYTES)), "micro_batches": m, **twist}
    if variant in ("tensor_parallel", "sequence_parallel"):
        tp = rng.choice(size["tp"])
        heads = tp * rng.randint(1, size["heads"] // tp)
        return {"n_layer": rng.randint(*size["n_layer"]), "batch": rng.randint(1, size["batch"]),
                "seq_len": _multiple(rng, size["seq"]), "d_model": heads * rng.choice((64, 128)), "heads": heads,
                "dtype": rng.choice(tuple(DTYPE_BYTES)), "tp": tp, **twist}
    if variant == "homework2":
        k = rng.randint(1, 8)
        return {"n_layer": k * rng.randint(1, max(1, size["n_layer"][1] // k)), "batch": rng.randint(1, size["batch"]),
                "seq_len": _multiple(rng, size["seq"]), "d_model": _multiple(rng, size["d"]),
                "dtype": rng.choice(tuple(DTYPE_BYTES)), "layers_per_stage": k,
                "convention": rng.choice(CONVENTIONS) if difficulty == "hard" else "once"}  # twist: either convention
    if variant == "ring":
        k = rng.choice(size["gpus"])
        mb = 10 * rng.randint(1, size["ring_mb"] // 10) if difficulty == "easy" else rng.randint(1, size["ring_mb"])
        buffer = {"size_mb": mb}
        if difficulty == "hard":  # twist: the buffer is a model's gradients, in millions of parameters and a dtype
            dtype = rng.choice(tuple(DTYPE_BYTES))
            buffer = {"params_m": 25 * rng.randint(1, 400), "dtype": dtype}
            mb = buffer["params_m"] * DTYPE_BYTES[dtype]
        link = rng.choice(RING_LINKS[1:] if difficulty == "easy" else RING_LINKS)
        measured = float(f"{_measured_ms(Fraction(2 * (k - 1), k), mb, link, rng.randint(50, 95)):.3g}")
        return {**buffer, "gpus": k, "link_gbps": link, "measured_ms": measured}
    if variant == "collectives":
        k, c = rng.choice(size["gpus"]), rng.choice(COLLECTIVES)
        mb = 10 * rng.randint(1, size["ring_mb"] // 10) if difficulty == "easy" else rng.randint(1, size["ring_mb"])
        link = rng.choice(RING_LINKS[1:] if difficulty == "easy" else RING_LINKS)
        measured = float(f"{_measured_ms(bus_factor(c, k), mb, link, rng.randint(50, 95)):.3g}")
        return {"collective": c, "size_mb": mb, "gpus": k, "link_gbps": link, "measured_ms": measured}
    if variant == "zero_volume":
        params = rng.randint(2, 2000) / 2 \
            if difficulty == "easy" else round(rng.randint(1, 2000) / 10, 1)
        return {"stage": rng.choice(("1", "2", "3")), "params_b": params, "gpus": rng.choice(size["gpus"]),
                "dtype": rng.choice(tuple(DTYPE_BYTES))}
    if variant == "bubble_schedules":
        p, v = rng.randint(2, size["stages"]), rng.randint(2, 8)
        step = rng.randint(100, 5000) if difficulty == "easy" else round(rng.randint(1000, 99999) / 10, 1)
        return {"stages": p, "micro_batches": p * rng.randint(1, max(1, size["micro"] // p)), "chunks": v,
                "step_ms": step}
    if variant == "bubble":
        p, per_mille = rng.randint(2, size["stages"]), rng.randint(10, 500)
        if (p - 1) * (1000 - per_mille) % per_mille == 0:
            raise Rejected("the target sits exactly on a bubble: floating-point evaluation orders disagree there")
        g = {"stages": p, "micro_batches": rng.randint(1, size["micro"]), "target": per_mille / 1000}
        if difficulty == "hard":  # twist: the micro-batches must split a batch evenly (m divides it)
            need = min_micro_batches(p, Fraction(per_mille, 1000))
            unit = rng.choice((6, 8, 10, 12, 16, 18, 20, 24, 30, 32, 36, 48))  # batches with many divisors
            g["batch"] = unit * rng.randint(-(-need // unit), -(-need // unit) + 8)
            g["micro_batches"] = rng.choice(sorted({d for d in range(2, min(g["batch"], 256) + 1)
                                                    if g["batch"] % d == 0}))
        return g
    # layout_3d: TP x PP x DP with a real pipeline (PP >= 2: a layout without one has no bubble to ask about)
    tp, pp, dp = rng.choice((1, 2, 4, 8)), rng.randint(2, size["stages"]), rng.randint(1, 32)
    micro, m = rng.choice((1, 2, 4, 8)), rng.randint(1, size["micro"])
    g = {"gpus": tp * pp * dp, "tp": tp, "pp": pp, "n_layer": pp * rng.randint(1, 8),
         "global_batch": dp * micro * m, "micro_batch": micro}
    if difficulty == "hard":  # twist: the largest micro-batch size whose bubble meets a target
        low = -(-1000 * (pp - 1) // (micro * m + pp - 1))  # a target the replica's batch can meet
        if low > 500:
            raise Rejected("the replica's batch cannot meet any target in the range")
        per_mille = rng.randint(max(10, low), 500)
        if (pp - 1) * (1000 - per_mille) % per_mille == 0:
            raise Rejected("the target sits exactly on a bubble: floating-point evaluation orders disagree there")
        g["target"] = per_mille / 1000
    return g
