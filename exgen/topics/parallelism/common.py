"""Parallelism: the constants, pure formulas and answer helpers every solver of the topic shares."""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import Any

from exgen import numfmt as nf
from exgen.exact import decimal as exact
from exgen.problem import Answer, Part, Solution, Step

DTYPE_BYTES = {"fp16": 2, "bf16": 2, "fp32": 4}
PARAMS_PER_LAYER = 12  # × D²
ALLREDUCES_PER_LAYER = {"forward": 2, "backward": 2}  # Megatron-LM, Fig. 3 (MLP) and Fig. 4 (attention)
# Megatron sequence parallelism (Korthikanti et al. 2022, Sec. 4.2.2, Fig. 6): per layer and pass, two g's and two ḡ's
SP_COLLECTIVES_PER_LAYER = {"allgather": {"forward": 2, "backward": 2}, "reducescatter": {"forward": 2, "backward": 2}}
SYMBOLS = ("N_layer", "B", "L", "D")  # the order of factors in an expression answer
CONVENTIONS = ("once", "both_passes")
# NCCL-tests PERFORMANCE.md: busbw = algbw x the collective's bus factor, which is also what each GPU sends per
# byte of the benchmark's size S in the ring (or pipelined chain, or direct) algorithm: a link carries that much.
COLLECTIVES = ("allreduce", "allgather", "reducescatter", "broadcast", "reduce", "alltoall", "sendrecv")
ZERO_STAGES = (1, 2, 3)
SCHEDULES = ("gpipe", "1f1b", "interleaved")
MB, GB, MS = 10**6, 10**9, Fraction(1, 1000)


# ---- the formulas (pure, exact) --------------------------------------------------------------------


@lru_cache(maxsize=1024)
def monomial(coefficient: int, **powers: int) -> str:
    """An expression answer in a fixed, simple form: '24*N_layer*D^2' (factors in SYMBOLS order)."""
    factors = [str(coefficient)]
    for name in SYMBOLS:
        e = powers.get(name, 0)
        if e:
            factors.append(name if e == 1 else f"{name}^{e}")
    return "*".join(factors)


def param_count(n_layer: int, d: int) -> int:
    return PARAMS_PER_LAYER * n_layer * d * d


def ring_factor(collective: str, k: int) -> Fraction:
    """Bytes each GPU sends in a ring collective over k GPUs, per byte of payload."""
    return Fraction(2 * (k - 1) if collective == "allreduce" else k - 1, k)  # 2(k−1)/k or (k−1)/k


def bus_factor(collective: str, k: int) -> Fraction:
    """NCCL-tests' bus factor: AllReduce 2(k−1)/k; AllGather, ReduceScatter, AlltoAll (k−1)/k; Broadcast, Reduce,
    send/recv 1 — the bytes the busiest GPU sends per byte of the size S the benchmark reports."""
    if collective == "allreduce":
        return Fraction(2 * (k - 1), k)
    if collective in ("allgather", "reducescatter", "alltoall"):
        return Fraction(k - 1, k)
    return Fraction(1)


def zero_volume(stage: int, k: int) -> Fraction:
    """Bytes each GPU sends per iteration, in units of Ψ (the parameter bytes): stages 1–2 a ReduceScatter of the
    gradients and an AllGather of the parameters (2(k−1)/k·Ψ, DP's AllReduce); stage 3 one more AllGather of the
    parameters (3(k−1)/k·Ψ). The large-k limits are ZeRO's 2Ψ and 3Ψ (Rajbhandari et al. 2020, Sec. 7)."""
    return Fraction(3 if stage == 3 else 2) * Fraction(k - 1, k)


def schedule_bubble(schedule: str, p: int, m: int, v: int = 1) -> Fraction:
    """Bubble time over ideal compute time (Narayanan et al. 2021, Sec. 2.2): 1F1B (p−1)/m, interleaved
    (p−1)/(v·m); GPipe's fraction of the iteration (p−1)/(m+p−1) (Huang et al. 2019)."""
    if schedule == "gpipe":
        return bubble_fraction(p, m)
    return Fraction(p - 1, m * (v if schedule == "interleaved" else 1))


def bubble_fraction(p: int, m: int) -> Fraction:
    """GPipe: each stage idles p−1 of the m+p−1 slots of a pass (forward and backward alike)."""
    return Fraction(p - 1, m + p - 1)


def min_micro_batches(p: int, target: Fraction) -> int:
    """Smallest m with (p−1)/(m+p−1) ≤ target: m ≥ (p−1)(1−f)/f, for f = a/b ⌈(p−1)(b−a)/a⌉ in integers."""
    if type(target) is Fraction and target.numerator > 0:
        a, b = target.numerator, target.denominator
        return max(1, -(-(p - 1) * (b - a) // a))
    return max(1, math.ceil((p - 1) * (1 - target) / target))


def smallest_split(m: int, batch: int) -> int:
    """Smallest number of equal micro-batches of a batch (a divisor of it) that is at least m; 0: any m."""
    if not batch:
        return m
    divisors = {d for i in range(1, math.isqrt(batch) + 1) if batch % i == 0 for d in (i, batch // i)}
    return min(d for d in divisors if d >= m)


def largest_micro_batch(replica: int, m: int) -> int:
    """Largest micro-batch size that splits `replica` sequences into at least m equal micro-batches: the largest
    divisor of `replica` up to replica // m, searched from the top (the first one found)."""
    for b in range(replica // m, 0, -1):
        if replica % b == 0:
            return b
    return max(b for b in range(1, replica // m + 1) if replica % b == 0)  # none: max()'s error, as before


def _bytes(g: dict[str, Any]) -> int:
    return DTYPE_BYTES[g.get("dtype", "fp16")]


def _b(value: int | Fraction) -> Answer:
    """A byte count, asked to 3 significant figures (convertible: 453 MB is accepted for 4.53e8 B)."""
    return Answer("number", float(value), unit="B", sig=3)


def _on_the_wire(g: dict[str, Any], solution: Solution, sent: int | Fraction, what: str,
                 why: str = "Every GPU sends over its own link at the same time, so") -> Solution:
    """Hard twist: every GPU sends over its own link at once (seed 001's ring time 2(k−1)N/(kB)), so the
    collectives take what ONE GPU sends / B; the payload / B is a named mistake."""
    if not g.get("link_gbps"):
        return solution
    link = exact(g["link_gbps"]) * GB
    # float(sent / link / MS) as one correctly rounded division of integers (sent: int or Fraction), the same float
    ms = sent.numerator * link.denominator * MS.denominator / (sent.denominator * link.numerator * MS.numerator)
    part = Part("comm_ms", "time on the wire", Answer("number", ms, unit="ms", sig=3))

    def steps() -> tuple[Step, ...]:  # the solver's steps and this one, built when first read
        return solution.steps + (Step(
            f"{why} the time on the wire is {what} over one link's bandwidth:",
            rf"\frac{{{nf.sig(sent, 6)}\ \text{{B}}}}{{{nf.num(g['link_gbps'])}\ \text{{GB/s}}}} = "
            rf"{nf.sig(sent / link / MS, 6)}\ \text{{ms}}"),)
    return Solution(solution.parts + (part,), steps)


def _dtype_step(g: dict[str, Any]) -> Step:
    b = _bytes(g)
    return Step(f"Every number is {g.get('dtype', 'fp16')}: ${b}$ {nf.plural(b, 'byte')} per element.")
