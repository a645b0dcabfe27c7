"""requant: integer-only requantization, M = S_in·S_w/S_out = 2^(−n)·M0 with M0 ∈ [1/2, 1) stored as a Q31
integer (Jacob et al. 2018, §2.2), and an int32 accumulator requantized with gemmlowp's integer arithmetic
(SaturatingRoundingDoublingHighMul, RoundingDivideByPOT): the solver, the sampler, the one-step-rounding path and
the mistakes."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from exgen import numfmt as nf
from exgen.givens import check
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Rejected, Variant, each
from exgen.topics.quantization import _fast
from exgen.topics.quantization._fast import fr
from exgen.topics.quantization.common import clamp, round_half_away


# ---- requant: the integer multiplier M = 2^-n M0, M0 a Q31 integer (Jacob et al. 2018; gemmlowp) ---------

REQUANT = Variant(
    "requant", "integer-only requantization (Jacob et al. 2018, gemmlowp): M = S_in S_w / S_out = 2^-n M0 with "
    "M0 in [0.5, 1) stored as a Q31 integer, and an int32 accumulator requantized to the output type",
    (Given("s_in", "scale of the input activations S_in", "number", low=1e-6, high=10),
     Given("s_w", "scale of the weights S_w", "number", low=1e-6, high=10),
     Given("s_out", "scale of the output S_out", "number", low=1e-6, high=10),
     Given("acc", "the int32 accumulator (sum of products of zero-point-adjusted integers, plus the int32 bias)",
           "integer", low=-(2**31) + 1, high=2**31 - 1),
     Given("z_out", "the output zero point Z_out", "integer", default=0, low=-128, high=255),
     Given("quant_min", "smallest output integer (uint8: 0)", "integer", default=0, low=-128, high=0),
     Given("quant_max", "largest output integer (uint8: 255)", "integer", default=255, low=127, high=255)))


def _requant_parts(g: dict[str, Any]) -> dict[str, Any]:
    return _requant_core(g["s_in"], g["s_w"], g["s_out"], int(g["acc"]), int(g["z_out"]), int(g["quant_min"]),
                         int(g["quant_max"]))


@_fast.memo(16)
def _requant_core(s_in: Any, s_w: Any, s_out: Any, acc: int, z_out: int, lo: int, hi: int) -> dict[str, Any]:
    """M, the shift n, M0 and its Q31 integer, and the requantized output, exactly; once per instance (the
    sampler, the solver and the mistakes all read it: they need the exact M, M0 and the unclamped output, which
    the key does not hold)."""
    m = fr(s_in) * fr(s_w) / fr(s_out)
    if not 0 < m < 1:
        raise InvalidGivens(f"M = S_in·S_w/S_out = {float(m):.6g} must lie in (0, 1), the case of Jacob et al. (2018)")
    num, den = m.numerator, m.denominator
    n = 0
    while 2 * (num << n) < den:  # double M until M0 = 2^n M lies in [1/2, 1)
        n += 1
    m0 = Fraction(num << n, den)
    q31 = _fast.round_away(num << (n + 31), den)
    if q31 == 2**31:  # gemmlowp: M0 rounded up to 1.0 is halved, one shift less
        q31, n = q31 // 2, n - 1
    if n > 31:
        raise InvalidGivens("M is below 2^-31: the shift would exceed 31 bits")
    high = srdhm(acc, q31)
    out = z_out + rounding_divide_by_pot(high, n)
    return {"M": m, "n": n, "M0": m0, "q31": q31, "high": high, "q_out": clamp(out, lo, hi), "raw": out}


def srdhm(a: int, b: int) -> int:
    """gemmlowp's SaturatingRoundingDoublingHighMul: a·b / 2^31 to the nearest integer, halves upward (the nudge is
    2^30, or 1 − 2^30 for a negative product, and the division truncates)."""
    if a == b == -(2**31):
        return 2**31 - 1
    ab = a * b
    nudge = 2**30 if ab >= 0 else 1 - 2**30
    total = ab + nudge
    return abs(total) // 2**31 * (1 if total >= 0 else -1)  # C division truncates toward zero


def rounding_divide_by_pot(x: int, exponent: int) -> int:
    """gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded to nearest, halves away from zero."""
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def _check_requant(g: dict[str, Any]) -> None:
    check(REQUANT, g)
    if not g["quant_min"] <= g["z_out"] <= g["quant_max"]:
        raise InvalidGivens("z_out must lie within [quant_min, quant_max]")


def _solve_requant(g: dict[str, Any]) -> Solution:
    _check_requant(g)
    r = _requant_parts(g)
    m, n, m0, q31 = r["M"], r["n"], r["M0"], r["q31"]
    acc, z = int(g["acc"]), int(g["z_out"])
    steps = lambda: (  # noqa: E731  (built on first read)
        Step("The real multiplier:", rf"M = \frac{{S_{{\text{{in}}}}\,S_w}}{{S_{{\text{{out}}}}}} = "
             rf"\frac{{{nf.num(g['s_in'])} \times {nf.num(g['s_w'])}}}{{{nf.num(g['s_out'])}}} = {nf.sig(m, 8)}"),
        Step("Double $M$ until it lies in $[0.5, 1)$: the number of doublings $n$ is",
             rf"n = \left\lceil \log_2 \frac{{0.5}}{{{nf.sig(m, 8)}}} \right\rceil = "
             rf"\left\lceil {nf.sig(math.log2(0.5 / float(m)), 6)} \right\rceil = {n}"),
        Step("and the normalised multiplier",
             rf"M_0 = 2^{{n}} M = 2^{{{n}}} \times {nf.sig(m, 8)} = {nf.sig(m0, 8)}"),
        Step("As a Q31 integer (31 fractional bits), rounded to the nearest integer:",
             rf"\operatorname{{round}}(M_0 \cdot 2^{{31}}) = \operatorname{{round}}({nf.sig(m0 * 2**31, 12)}) = {q31}"),
        Step("Requantize the accumulator with integers only: the rounded high half of the doubled product, then a "
             "rounding right shift by $n$ (halves away from zero), then the zero point and the clamp:",
             rf"\operatorname{{round}}\!\left(\frac{{{acc} \times {q31}}}{{2^{{31}}}}\right) = {r['high']},\quad "
             rf"\operatorname{{round}}\!\left(\frac{{{r['high']}}}{{2^{{{n}}}}}\right) + {z} = {r['raw']}"
             rf" \;\to\; q_{{\text{{out}}}} = {r['q_out']}"),
    )
    parts = (
        Part("M", "real multiplier M", Answer("number", float(m), sig=6)),
        Part("n", "right shift n", Answer("integer", n)),
        Part("M0", "normalized multiplier M0", Answer("number", float(m0), sig=6)),
        Part("q31", "M0 as a Q31 integer", Answer("integer", q31)),
        Part("q_out", "output integer", Answer("integer", r["q_out"])),
    )
    return Solution(parts, steps)


_RQ_SCALES = {"easy": (2, 3), "medium": (3, 4), "hard": (3, 5)}


def _sample_requant(rng: Rng, difficulty: str) -> dict[str, Any]:
    """The scales are rng.decimal's integers (the same randint); M and the tie tests in integers."""
    lo_exp, places = _RQ_SCALES[difficulty]
    fine, coarse = 10 ** (places + 1), 10**places
    s_in = rng.randint(round(0.001 * fine), round(0.1 * fine))  # rng.decimal(0.001, 0.1, places + 1), in 1/fine
    s_w = rng.randint(round(0.001 * fine), round(0.05 * fine))
    s_out = rng.randint(round(0.01 * coarse), round(0.5 * coarse))  # in 1/coarse
    if s_in == 0 or s_w == 0 or s_out == 0:
        raise Rejected("zero scale")
    g = {"s_in": s_in / fine, "s_w": s_w / fine, "s_out": s_out / coarse, "acc": 0,
         "z_out": 0 if difficulty == "easy" else rng.randint(0, 255), "quant_min": 0, "quant_max": 255}
    m_num, m_den = s_in * s_w * coarse, s_out * fine * fine  # M = m_num/m_den
    if not m_num < m_den:
        raise Rejected("M must be below 1")
    target = rng.randint(-100, 100) if difficulty != "easy" else rng.randint(1, 200)
    acc = _fast.round_even(target * m_den, m_num) + rng.randint(-3, 3)  # round(target/M), halves to even
    if not -(2**31) < acc < 2**31 or acc == 0:
        raise Rejected("accumulator out of int32")
    g["acc"] = int(acc)
    r = _requant_parts(g)
    m0 = r["M0"]
    if _fast.near_tie(m0.numerator << 31, m0.denominator) or _fast.near_tie(m_num * acc, m_den, 1, 5):
        raise Rejected("a value lies near a rounding boundary")
    if r["raw"] != r["q_out"] and difficulty == "easy":
        raise Rejected("easy: no clamping")
    return g


def _requant_float(part: str):
    """The one-step rounding a student does: q_out = Z + round(acc·M), with M from the scales in floats."""
    def value(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        m = g["s_in"] * g["s_w"] / g["s_out"]
        v = g["acc"] * m
        return clamp(int(g["z_out"]) + (math.floor(abs(v) + 0.5) * (1 if v >= 0 else -1)),
                     int(g["quant_min"]), int(g["quant_max"]))
    return value


def _q31_from_10_figures(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    """The question's route to (d): M0 carried to 10 significant figures (from the scales), times 2^31, rounded
    to the nearest integer (halves away, as the key's round does; gemmlowp's 2^31 halved as the key does)."""
    def q31(m0: float) -> int:
        q = round_half_away(Fraction(m0) * 2**31)
        return q // 2 if q == 2**31 else q
    return each(q31, nf.held(float(_rq(g)["M0"]), 10))  # at a tie either neighbour of M0


def _rq(g, **change) -> dict[str, Any]:
    return _requant_parts({**g, **change})


def _rq_q32(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    return round_half_away(_rq(g)["M0"] * 2**32)


def _rq_unnormalised(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    return round_half_away(_rq(g)["M"] * 2**31) if solution.value("n") else None


def _rq_shift_one_less(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    return solution.value("n") - 1


def _rq_zero_forgotten(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    if not int(g["z_out"]):
        return None
    wrong = clamp(_rq(g)["raw"] - int(g["z_out"]), int(g["quant_min"]), int(g["quant_max"]))
    return None if wrong == solution.value("q_out") else wrong
