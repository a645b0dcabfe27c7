"""Linear quantization of a matrix: affine (min–max), symmetric absmax, per-tensor vs per-channel, storage.

Formulas (seed 003, "Model efficiency", Linear Quantization slides; seed 000 for absmax):
    r = S (q − Z)                          the affine map between real r and integer q
    S = (r_max − r_min) / (q_max − q_min)  Z = round(q_min − r_min / S)
    q = clamp(round(r / S) + Z, q_min, q_max)
    absmax (Z = 0): S = |r|_max / q_max  ("qmax" convention, PyTorch/LLM.int8: 127 for int8)
                or  S = −|r|_max / q_min = |r|_max / 2^(b−1)  ("qmin" convention, seeds 000/003), clamped.
The solver works in exact rational arithmetic (the givens are short decimals), so every rounding decision
is exact; the sampler rejects instances within TIE_MARGIN of a rounding boundary, so neither a calculator
nor torch's float32 kernels can land on the other side.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any, Iterable

from exgen import numfmt as nf
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Mistake, Rejected, Topic, Variant

TIE_MARGIN = Fraction(1, 20)
ERROR_METRICS = ("max_abs", "frobenius", "mse")
BYTES_PER_GB = 10**9
BYTES_PER_GIB = 2**30


# ---- integer ranges and rounding -------------------------------------------------------------------


def int_range(bits: int, signed: bool) -> tuple[int, int]:
    """[q_min, q_max] of a b-bit integer: signed is two's complement."""
    return (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)


def round_half_away(x: Fraction) -> int:
    """Round to nearest, ties away from zero (the hand convention; sampled questions have no ties)."""
    n = math.floor(abs(x) + Fraction(1, 2))
    return n if x >= 0 else -n


def near_tie(x: Fraction) -> bool:
    """Whether x lies within TIE_MARGIN of a .5 boundary."""
    return abs(x - math.floor(x) - Fraction(1, 2)) < TIE_MARGIN


def clamp(q: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, q))


def exact(rows: list[list[float]]) -> list[list[Fraction]]:
    """The givens as the student sees them, as exact decimals."""
    return [[Fraction(str(v)) for v in row] for row in rows]


def flat(m: list[list[Any]]) -> list[Any]:
    return [v for row in m for v in row]


# ---- the computations (pure, exact) ----------------------------------------------------------------


def affine_params(x: list[list[Fraction]], qmin: int, qmax: int, levels: int | None = None):
    """(r_min, r_max, S, Z_unrounded, Z). `levels` replaces q_max − q_min (for the 2^b mistake)."""
    rmin, rmax = min(flat(x)), max(flat(x))
    scale = (rmax - rmin) / (levels if levels is not None else qmax - qmin)
    z_exact = qmin - rmin / scale
    return rmin, rmax, scale, z_exact, clamp(round_half_away(z_exact), qmin, qmax)


def quantize(x, scale: Fraction, zero: int, qmin: int, qmax: int, clamped: bool = True) -> list[list[int]]:
    """q = clamp(round(r / S) + Z)."""
    def one(r: Fraction) -> int:
        q = round_half_away(r / scale) + zero
        return clamp(q, qmin, qmax) if clamped else q

    return [[one(r) for r in row] for row in x]


def dequantize(q: list[list[int]], scales: list[Fraction], zero: int) -> list[list[Fraction]]:
    """r̂ = S (q − Z), one scale per row."""
    return [[s * (v - zero) for v in row] for row, s in zip(q, scales)]


def error(x, xhat, metric: str) -> float:
    diffs = [a - b for a, b in zip(flat(x), flat(xhat))]
    if metric == "max_abs":
        return float(max(abs(d) for d in diffs))
    squares = sum(d * d for d in diffs)
    if metric == "mse":
        return float(squares / len(diffs))
    return math.sqrt(squares)


def absmax_scale(values: list[Fraction], bits: int, convention: str) -> Fraction:
    amax = max(abs(v) for v in values)
    return amax / (2 ** (bits - 1) - 1) if convention == "qmax" else amax / 2 ** (bits - 1)


METRIC_TEX = {
    "max_abs": r"\max_{ij} |X_{ij} - \hat X_{ij}|",
    "frobenius": r"\lVert X - \hat X \rVert_F = \sqrt{\textstyle\sum_{ij} (X_{ij} - \hat X_{ij})^2}",
    "mse": r"\frac{1}{mn} \sum_{ij} (X_{ij} - \hat X_{ij})^2",
}


# ---- givens ----------------------------------------------------------------------------------------

_X = Given("X", "the real matrix to quantize (rows separated by ';', entries by ',')", "matrix")
_DECIMALS = Given("decimals", "decimal places asked for in the reconstruction", "integer", default=2)
_BITS = Given("bits", "bit width b of the integers", "integer", choices=("2", "3", "4", "8"))
_SIGNED = Given("signed", "integer type: signed (two's complement) or unsigned", "choice",
                choices=("signed", "unsigned"))
_METRIC = Given("metric", "error metric to report", "choice", choices=ERROR_METRICS)
_CONVENTION = Given("convention", "absmax scale: |r|max/qmax, or -|r|max/qmin with clamping", "choice",
                    choices=("qmax", "qmin"))

VARIANTS = (
    Variant("affine", "asymmetric min-max quantization: scale, zero point, integers, reconstruction, error",
            (_X, _BITS, _SIGNED, _METRIC, _DECIMALS)),
    Variant("absmax", "symmetric absmax quantization (zero point 0) under a stated scale convention",
            (_X, _BITS, _CONVENTION, _METRIC, _DECIMALS)),
    Variant("per_channel", "absmax per tensor vs per row (channel): scales, integers, Frobenius errors",
            (_X, _BITS)),
    Variant("storage", "storage of a model's weights at a given bit width with per-group fp16 scales", (
        Given("params", "number of parameters", "number"),
        Given("source_bits", "bits per parameter before quantization (16 for fp16/bf16, 32 for fp32)",
              "integer", choices=("16", "32")),
        Given("bits", "bits per quantized weight", "integer", choices=("2", "3", "4", "8")),
        Given("group", "weights sharing one 16-bit scale", "integer"),
    )),
)


def _check(variant: str, g: dict[str, Any]) -> None:
    """Validate a user's givens with a message a TA can act on."""
    next(v for v in VARIANTS if v.name == variant).require(g)
    if str(g["bits"]) not in ("2", "3", "4", "8"):
        raise InvalidGivens("bits must be 2, 3, 4 or 8")
    if variant == "storage":
        if g["params"] <= 0 or g["group"] <= 0:
            raise InvalidGivens("params and group must be positive")
        return
    x = g["X"]
    if not x or any(len(row) != len(x[0]) or not row for row in x):
        raise InvalidGivens("X must be a non-empty rectangular matrix")
    if min(flat(x)) == max(flat(x)):
        raise InvalidGivens("X has all entries equal: its range is zero and the scale undefined")
    if variant == "per_channel" and any(max(abs(v) for v in row) == 0 for row in x):
        raise InvalidGivens("a row of X is all zeros: its scale is undefined")


# ---- solvers ---------------------------------------------------------------------------------------


def _range_step(bits: int, signed: bool) -> Step:
    qmin, qmax = int_range(bits, signed)
    kind = "signed" if signed else "unsigned"
    return Step(f"A {bits}-bit {kind} integer takes values $q_{{\\min}} = {qmin}$ to $q_{{\\max}} = {qmax}$.")


def _error_step(metric: str, value: float) -> Step:
    return Step("Error of the reconstruction:", f"{METRIC_TEX[metric]} = {nf.sig(value, 3)}")


def _error_answer(value: float) -> Answer:
    """An error to 3 significant figures; an exact reconstruction (error 0, only in a user's own instance) to
    6 decimals, since a key of 0 has no significant figures."""
    return Answer("number", value, sig=3) if value else Answer("number", 0.0, decimals=6)


def _solve_affine(g: dict[str, Any]) -> Solution:
    x, bits, signed, metric = exact(g["X"]), int(g["bits"]), g["signed"] == "signed", g["metric"]
    qmin, qmax = int_range(bits, signed)
    rmin, rmax, scale, z_exact, zero = affine_params(x, qmin, qmax)
    q = quantize(x, scale, zero, qmin, qmax)
    xhat = dequantize(q, [scale] * len(q), zero)
    err = error(x, xhat, metric)
    dec = int(g["decimals"])
    steps = (
        _range_step(bits, signed),
        Step(f"The range of $X$: $r_{{\\min}} = {nf.num(float(rmin))}$, $r_{{\\max}} = {nf.num(float(rmax))}$."),
        Step("Scale:", rf"S = \frac{{r_{{\max}} - r_{{\min}}}}{{q_{{\max}} - q_{{\min}}}} = "
             rf"\frac{{{nf.num(float(rmax))} - {nf.signed(nf.num(float(rmin)))}}}{{{qmax} - {nf.signed(str(qmin))}}}"
             rf" = {nf.sig(scale, 6)}"),
        Step("Zero point (rounded to the nearest integer):",
             rf"Z = \operatorname{{round}}\left(q_{{\min}} - \frac{{r_{{\min}}}}{{S}}\right) = "
             rf"\operatorname{{round}}({nf.sig(z_exact, 6)}) = {zero}"),
        Step(r"Integers $q = \operatorname{clamp}(\operatorname{round}(r/S) + Z,\ q_{\min},\ q_{\max})$:",
             "q = " + nf.matrix(q)),
        Step(r"Reconstruction $\hat X = S\,(q - Z)$:", r"\hat X = " + nf.matrix(xhat, lambda v: nf.fixed(v, dec))),
        _error_step(metric, err),
    )
    parts = (
        Part("scale", "scale S", Answer("number", float(scale), sig=4)),
        Part("zero_point", "zero point Z", Answer("integer", zero)),
        Part("q", "integer matrix q", Answer("matrix", q)),
        Part("reconstruction", "reconstructed matrix", Answer("matrix", [[float(v) for v in r] for r in xhat],
                                                              decimals=dec)),
        Part("error", "quantization error", _error_answer(err)),
    )
    return Solution(parts, steps)


def _solve_absmax(g: dict[str, Any]) -> Solution:
    x, bits, convention, metric = exact(g["X"]), int(g["bits"]), g["convention"], g["metric"]
    qmin, qmax = int_range(bits, True)
    scale = absmax_scale(flat(x), bits, convention)
    q = quantize(x, scale, 0, qmin, qmax)
    xhat = dequantize(q, [scale] * len(q), 0)
    err = error(x, xhat, metric)
    dec = int(g["decimals"])
    amax = nf.num(float(max(abs(v) for v in flat(x))))
    formula = (rf"S = \frac{{|r|_{{\max}}}}{{q_{{\max}}}} = \frac{{{amax}}}{{{qmax}}}" if convention == "qmax"
               else rf"S = \frac{{-|r|_{{\max}}}}{{q_{{\min}}}} = \frac{{{amax}}}{{{-qmin}}}")
    steps = (
        _range_step(bits, True),
        Step("Scale (symmetric, so $Z = 0$):", f"{formula} = {nf.sig(scale, 6)}"),
        Step(r"Integers $q = \operatorname{clamp}(\operatorname{round}(r/S),\ q_{\min},\ q_{\max})$:",
             "q = " + nf.matrix(q)),
        Step(r"Reconstruction $\hat X = S\,q$:", r"\hat X = " + nf.matrix(xhat, lambda v: nf.fixed(v, dec))),
        _error_step(metric, err),
    )
    parts = (
        Part("scale", "scale S", Answer("number", float(scale), sig=4)),
        Part("q", "integer matrix q", Answer("matrix", q)),
        Part("reconstruction", "reconstructed matrix", Answer("matrix", [[float(v) for v in r] for r in xhat],
                                                              decimals=dec)),
        Part("error", "quantization error", _error_answer(err)),
    )
    return Solution(parts, steps)


def _solve_per_channel(g: dict[str, Any]) -> Solution:
    x, bits = exact(g["X"]), int(g["bits"])
    qmin, qmax = int_range(bits, True)
    s_tensor = absmax_scale(flat(x), bits, "qmax")
    s_rows = [absmax_scale(row, bits, "qmax") for row in x]
    q_tensor = quantize(x, s_tensor, 0, qmin, qmax)
    q_rows = [quantize([row], s, 0, qmin, qmax)[0] for row, s in zip(x, s_rows)]
    e_tensor = error(x, dequantize(q_tensor, [s_tensor] * len(x), 0), "frobenius")
    e_rows = error(x, dequantize(q_rows, s_rows, 0), "frobenius")
    better = "per-channel" if e_rows < e_tensor else "per-tensor"
    steps = (
        _range_step(bits, True),
        Step(rf"Per tensor: $S = |r|_{{\max}} / q_{{\max}} = {nf.sig(s_tensor, 6)}$, and "
             r"$q = \operatorname{clamp}(\operatorname{round}(r/S))$:", "q = " + nf.matrix(q_tensor)),
        Step(r"Per channel, one scale per row $S_i = \max_j |X_{ij}| / q_{\max}$:",
             "S = " + nf.vector(s_rows, lambda v: nf.sig(v, 6)) + r",\quad q = " + nf.matrix(q_rows)),
        Step("Frobenius errors of the reconstructions:",
             rf"e_{{\text{{tensor}}}} = {nf.sig(e_tensor, 3)},\quad e_{{\text{{channel}}}} = {nf.sig(e_rows, 3)}"),
        Step(f"The smaller error is {better}."),
    )
    parts = (
        Part("scale_tensor", "per-tensor scale", Answer("number", float(s_tensor), sig=4)),
        Part("scale_rows", "per-row scales", Answer("vector", [float(s) for s in s_rows], sig=4)),
        Part("q_tensor", "per-tensor integers", Answer("matrix", q_tensor)),
        Part("q_rows", "per-channel integers", Answer("matrix", q_rows)),
        Part("error_tensor", "per-tensor Frobenius error", _error_answer(e_tensor)),
        Part("error_rows", "per-channel Frobenius error", _error_answer(e_rows)),
        Part("better", "lower error", Answer("choice", better, choices=("per-tensor", "per-channel"))),
    )
    return Solution(parts, steps)


def storage_bytes(params: float, bits: int, group: int) -> Fraction:
    """Weights at `bits` each plus one 16-bit scale per `group` weights (ceil: a partial group has one)."""
    p = Fraction(str(params))
    return p * bits / 8 + math.ceil(p / group) * 2


def _solve_storage(g: dict[str, Any]) -> Solution:
    params, src, bits, group = g["params"], int(g["source_bits"]), int(g["bits"]), int(g["group"])
    before = Fraction(str(params)) * src / 8
    after = storage_bytes(params, bits, group)
    ratio = before / after
    steps = (
        Step(f"Before: {src} bits = {src // 8} bytes per parameter:",
             rf"{nf.sig(params, 6)} \times {src // 8}\ \text{{B}} = {nf.sig(before / BYTES_PER_GB, 6)}\ \text{{GB}}"),
        Step(f"After: {bits} bits per weight is ${nf.num(bits / 8)}$ B, plus one 2-byte scale per {group} weights:",
             rf"{nf.sig(params, 6)} \times {nf.num(bits / 8)} + \left\lceil \frac{{{nf.sig(params, 6)}}}{{{group}}} "
             rf"\right\rceil \times 2 = {nf.sig(after / BYTES_PER_GB, 6)}\ \text{{GB}}"),
        Step("Compression ratio:", rf"{nf.sig(before / BYTES_PER_GB, 6)} / {nf.sig(after / BYTES_PER_GB, 6)}"
             rf" = {nf.sig(ratio, 4)}"),
    )
    parts = (
        Part("before", "size before", Answer("number", float(before / BYTES_PER_GB), unit="GB", sig=3)),
        Part("after", "size after", Answer("number", float(after / BYTES_PER_GB), unit="GB", sig=3)),
        Part("ratio", "compression ratio", Answer("number", float(ratio), sig=3)),
    )
    return Solution(parts, steps)


_SOLVERS = {"affine": _solve_affine, "absmax": _solve_absmax, "per_channel": _solve_per_channel,
            "storage": _solve_storage}


def solve(variant: str, givens: dict[str, Any]) -> Solution:
    _check(variant, givens)
    return _SOLVERS[variant](givens)


# ---- sampling --------------------------------------------------------------------------------------

# (rows, cols, value decimals, |value| bound, bit widths, reconstruction decimals) per difficulty
SHAPES = {
    "easy": (3, 3, 1, 3, (2,), 2),
    "medium": (4, 4, 2, 2.5, (2, 4), 2),
    "hard": (4, 5, 2, 5, (4, 8), 3),
}


def _matrix(rng: Rng, difficulty: str) -> tuple[list[list[Fraction]], int, int]:
    rows, cols, places, bound, widths, dec = SHAPES[difficulty]
    x = [[rng.decimal(-bound, bound, places) for _ in range(cols)] for _ in range(rows)]
    values = flat(x)
    if not (min(values) < 0 < max(values)) or len(set(values)) < len(values) // 2:
        raise Rejected("range must straddle zero; no near-constant matrices")
    return x, rng.choice(widths), dec


def _reject_ties(quantities: Iterable[Fraction]) -> None:
    if any(near_tie(v) for v in quantities):
        raise Rejected("a value lies near a rounding boundary")


def _as_floats(x: list[list[Fraction]]) -> list[list[float]]:
    return [[float(v) for v in row] for row in x]


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    if variant == "storage":
        params = rng.choice((1, 3, 7, 8, 13, 34, 70)) * 10**9 if difficulty == "easy" else \
            rng.choice((1.3, 2.7, 6.7, 7.2, 13.4, 46.7, 175.0)) * 10**9
        return {"params": params, "source_bits": rng.choice((16, 32)) if difficulty == "hard" else 16,
                "bits": rng.choice((4, 8) if difficulty == "easy" else (2, 3, 4, 8)),
                "group": rng.choice((64, 128) if difficulty == "easy" else (32, 64, 128, 256))}
    x, bits, dec = _matrix(rng, difficulty)
    if variant == "affine":
        signed = rng.choice(("signed", "unsigned"))
        qmin, qmax = int_range(bits, signed == "signed")
        _, _, scale, z_exact, zero = affine_params(x, qmin, qmax)
        _reject_ties(itertools.chain([z_exact], (r / scale for r in flat(x))))
        return {"X": _as_floats(x), "bits": bits, "signed": signed, "metric": rng.choice(ERROR_METRICS),
                "decimals": dec}
    if variant == "absmax":
        convention = rng.choice(("qmax", "qmin"))
        scale = absmax_scale(flat(x), bits, convention)
        _reject_ties(r / scale for r in flat(x))
        return {"X": _as_floats(x), "bits": bits, "convention": convention, "metric": rng.choice(ERROR_METRICS),
                "decimals": dec}
    # per_channel: every row's scale and the tensor's, and no near-tie between the two errors
    if any(max(abs(v) for v in row) == 0 for row in x):
        raise Rejected("a zero row has no scale")
    s_tensor = absmax_scale(flat(x), bits, "qmax")
    s_rows = [absmax_scale(row, bits, "qmax") for row in x]
    _reject_ties(r / s for s_row, row in zip(s_rows, x) for s in (s_tensor, s_row) for r in row)
    solution = _solve_per_channel({"X": _as_floats(x), "bits": bits})
    e_t, e_r = solution.part("error_tensor").answer.value, solution.part("error_rows").answer.value
    if abs(e_t - e_r) < 0.05 * max(e_t, e_r):
        raise Rejected("the two errors are too close to compare")
    return {"X": _as_floats(x), "bits": bits}


# ---- named mistakes --------------------------------------------------------------------------------


def _zero_other_way(variant: str, g: dict[str, Any]) -> int:
    qmin, qmax = int_range(int(g["bits"]), g["signed"] == "signed")
    *_, z_exact, zero = affine_params(exact(g["X"]), qmin, qmax)
    return zero + 1 if z_exact > zero else zero - 1


def _levels_2b(variant: str, g: dict[str, Any]) -> float:
    bits = int(g["bits"])
    qmin, qmax = int_range(bits, g["signed"] == "signed")
    return float(affine_params(exact(g["X"]), qmin, qmax, levels=2**bits)[2])


def _unsigned_for_signed(variant: str, g: dict[str, Any]) -> int | None:
    if g["signed"] != "signed":
        return None
    qmin, qmax = int_range(int(g["bits"]), False)
    return affine_params(exact(g["X"]), qmin, qmax)[4]


def _other_convention(variant: str, g: dict[str, Any]) -> float:
    other = "qmin" if g["convention"] == "qmax" else "qmax"
    return float(absmax_scale(flat(exact(g["X"])), int(g["bits"]), other))


def _unclamped(variant: str, g: dict[str, Any]) -> list[list[int]] | None:
    x, bits = exact(g["X"]), int(g["bits"])
    qmin, qmax = int_range(bits, True)
    scale = absmax_scale(flat(x), bits, g["convention"])
    wrong = quantize(x, scale, 0, qmin, qmax, clamped=False)
    return wrong if wrong != quantize(x, scale, 0, qmin, qmax) else None


def _storage(variant: str, g: dict[str, Any], part: str, **change) -> float:
    return _solve_storage({**g, **change}).part(part).answer.value


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
    Mistake("absmax_convention_mixed_up", "scale",
            "The other absmax convention was used (|r|max/q_max versus −|r|max/q_min); the question states which.",
            ("absmax",), _other_convention),
    Mistake("not_clamped", "q",
            "r/S was rounded but not clamped to [q_min, q_max]: with S = −|r|max/q_min the largest value maps to "
            "2^(b−1), one past q_max.",
            ("absmax",), _unclamped),
    Mistake("gib_for_gb", "after",
            "The size was divided by 2^30 (GiB) instead of 10^9 (GB).",
            ("storage",), lambda v, g: _storage(v, g, "after") * BYTES_PER_GB / BYTES_PER_GIB),
    Mistake("bits_for_bytes", "after",
            "Bits were counted as bytes: b bits per weight is b/8 bytes.",
            ("storage",), lambda v, g: _storage(v, g, "after") * 8),
    Mistake("scales_forgotten", "after",
            "The per-group scales were left out of the size.",
            ("storage",), lambda v, g: float(Fraction(str(g["params"])) * int(g["bits"]) / 8 / BYTES_PER_GB)),
)

TOPIC = Topic(
    name="quantization",
    description="linear quantization of a matrix: scale, zero point, integers, reconstruction, error, storage",
    variants=VARIANTS,
    sample=sample,
    solve=solve,
    mistakes=MISTAKES,
)
