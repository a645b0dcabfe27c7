"""affine_channel: min–max affine quantization per channel (rows or columns) or per tensor, with zero points and
optionally S rounded first (seed 003's slide): the check, the exact computation, the solver, the sampler, the
float path and the mistakes."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from exgen import numfmt as nf
from exgen.givens import check
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Rejected, Variant, each
from exgen.topics.quantization import _fast
from exgen.topics.quantization.common import clamp, flat, int_range, range_sentence
from exgen.topics.quantization.libraries.common import (
    AXES, _X, _mat, _matrix_ok, channel_word, channels, per_entry, reported)


# ---- affine_channel: min–max affine per channel, with zero points ---------------------------------------

AFFINE_CHANNEL = Variant(
    "affine_channel", "asymmetric (min-max) quantization per channel (rows or columns) or per tensor: a scale and a "
    "zero point per channel, integers, reconstruction, error matrix; optionally with S rounded first, as the "
    "course's worked example does",
    (_X,
     Given("bits", "bit width b of the integers", "integer", choices=("2", "3", "4", "8"), low=2, high=8),
     Given("signed", "integer type: signed (two's complement) or unsigned", "choice",
           choices=("signed", "unsigned")),
     Given("axis", "rows (one S, Z per row), columns (one per column) or tensor (one for the whole matrix)",
           "choice", choices=AXES, default="rows"),
     Given("scale_decimals", "round each S to this many decimals (halves up) and use the rounded S from then on, "
           "as the course's worked example does (0: carry S unrounded)", "integer", default=0, low=0, high=8),
     Given("decimals", "decimal places asked for in the reconstruction and the error matrix", "integer", default=2,
           low=0, high=8)))


def _check_affine(g: dict[str, Any]) -> None:
    check(AFFINE_CHANNEL, g)
    _matrix_ok(g["X"])
    if any(min(ch) == max(ch) for ch in channels(g["X"], g["axis"])):
        raise InvalidGivens(f"a {channel_word(g['axis'])} of X has all entries equal: its range is zero and its "
                            "scale undefined")
    _affine_params(g)


def _affine_params(g: dict[str, Any], levels: int | None = None, signed: bool | None = None,
                   rounded: bool = True, axis: str | None = None) -> tuple[tuple[int, ...], ...]:
    """Per channel, exactly, in integers over the matrix's common denominator D (x = A/D):
    (r_min·D, r_max·D, S = sn/sd as sn, sd, Z before rounding = zn/zd as zn, zd, Z, D)."""
    return _af_params(tuple(map(tuple, g["X"])), int(g["bits"]), g["signed"] == "signed" if signed is None else signed,
                      axis or g["axis"], int(g["scale_decimals"]) if rounded else 0, levels)


@_fast.memo(16)
def _af_params(xkey: tuple, bits: int, signed: bool, axis: str, k: int, levels: int | None):
    d, a = _fast.scaled(xkey)
    return _channel_params(channels(a, axis), d, bits, signed, k, levels)


def _channel_params(chans, d: int, bits: int, signed: bool, k: int, levels: int | None = None):
    """_af_params of channels given as integers over D."""
    qmin, qmax = int_range(bits, signed)
    out = []
    for ch in chans:
        lo, hi = min(ch), max(ch)
        sn, sd = hi - lo, d * (levels if levels is not None else qmax - qmin)
        if k:
            sn, sd = _fast.round_away(sn * 10**k, sd), 10**k  # S > 0: halves up
            if sn == 0:
                raise InvalidGivens("a scale rounds to 0 at scale_decimals: ask for more decimals")
        zn, zd = qmin * d * sn - lo * sd, d * sn  # q_min − r_min/S
        z = _fast.round_even(zn, zd)
        out.append((lo, hi, sn, sd, zn, zd, qmin if z < qmin else qmax if z > qmax else z, d))
    return tuple(out)


@_fast.memo(16)
def _af_compute(xkey: tuple, bits: int, signed: bool, axis: str, params: tuple) -> dict[str, Any]:
    """r/S + Z, the rounded (halves to even) and clamped integers, the reconstruction and the error matrix, as
    floats of their exact values."""
    qmin, qmax = int_range(bits, signed)
    d, a = _fast.scaled(xkey)
    per = per_entry(a, axis, params)
    ratio, plain, raw, q, xhat, err = [], [], [], [], [], []
    ties = False  # an r/S exactly halfway: only custom givens (`exgen solve`) have one, the sampler refuses them
    for ar, pr in zip(a, per):
        ra_row, pl_row, rw_row, q_row, xh_row, er_row = [], [], [], [], [], []
        for v, p in zip(ar, pr):
            sn, sd, z = p[2], p[3], p[6]
            num, den = v * sd, d * sn  # r/S
            rv = _fast.round_even(num, den) + z
            qv = qmin if rv < qmin else qmax if rv > qmax else rv
            ties = ties or (2 * num) % den == 0 and num % den != 0
            pl_row.append(num / den)
            ra_row.append((num + z * den) / den)
            rw_row.append(rv)
            q_row.append(qv)
            xh_row.append(sn * (qv - z) / sd)
            er_row.append((v * sd - sn * (qv - z) * d) / (d * sd))
        ratio.append(ra_row)
        plain.append(pl_row)
        raw.append(rw_row)
        q.append(q_row)
        xhat.append(xh_row)
        err.append(er_row)
    return {"ratio": ratio, "plain": plain, "raw": raw, "q": q, "xhat": xhat, "err": err, "ties": ties}


def _affine_compute(g: dict[str, Any], params) -> dict[str, Any]:
    return _af_compute(tuple(map(tuple, g["X"])), int(g["bits"]), g["signed"] == "signed", g["axis"], tuple(params))


def _solve_affine(g: dict[str, Any]) -> Solution:
    _check_affine(g)
    axis, dec, k = g["axis"], int(g["decimals"]), int(g["scale_decimals"])
    bits, signed = int(g["bits"]), g["signed"] == "signed"
    qmin, qmax = int_range(bits, signed)
    params = _affine_params(g)
    core = _affine_compute(g, params)
    ratio, raw, q, xhat, err = (core[key] for key in ("ratio", "raw", "q", "xhat", "err"))
    scales = [p[2] / p[3] for p in params]

    def steps() -> tuple[Step, ...]:
        unrounded = _affine_params(g, rounded=False)
        word = channel_word(axis)
        vec = lambda vs, f: nf.vector(vs, f)  # noqa: E731
        marked = [[rf"\boxed{{{b}}}" if a != b else str(b) for a, b in zip(ra, rb)] for ra, rb in zip(raw, q)]
        lows, highs = [Fraction(p[0], p[7]) for p in params], [Fraction(p[1], p[7]) for p in params]
        out = [
            Step(range_sentence(bits, signed) + " " + ("The range of $X$:" if axis == "tensor" else f"Each {word}'s range:"),
                 rf"r_{{\min}} = {vec(lows, nf.num)},\quad r_{{\max}} = {vec(highs, nf.num)}"),
            Step("Scales:", rf"S = \frac{{r_{{\max}} - r_{{\min}}}}{{{qmax} - {nf.signed(str(qmin))}}} = "
                 + vec([p[2] / p[3] for p in unrounded], lambda v: nf.sig(v, 6))),
        ]
        if k:
            out.append(Step(f"Rounded to {k} decimal{'' if k == 1 else 's'} (halves up) and used from here on "
                            "(as the course's worked example does):",
                            "S = " + vec(scales, lambda v: nf.fixed(v, k))))
        out += [
            Step("Zero points, rounded to the nearest integer (halves to even) and clamped to the range:",
                 rf"Z = \operatorname{{round}}\left(q_{{\min}} - \frac{{r_{{\min}}}}{{S}}\right) = "
                 rf"\operatorname{{round}}{vec([p[4] / p[5] for p in params], lambda v: nf.sig(v, 6))} = "
                 + vec([p[6] for p in params], str)),
            Step("Divide by the scale, add the zero point, round (halves to even) and clamp"
                 + (" (boxed entries were clamped)" if raw != q else "") + ":",
                 rf"r/S + Z = {_mat(ratio, 3)} \;\to\; q = {_fast.text_matrix(marked)}") if not core["ties"] else
            # round(r/S) + Z, as the key does: round(r/S + Z) differs where r/S is a half and Z is odd
            Step("Divide by the scale and round $r/S$ itself (halves to even; some entries are exact halves, where "
                 "adding $Z$ first could round the other way), then add the zero point and clamp"
                 + (" (boxed entries were clamped)" if raw != q else "") + ":",
                 rf"r/S = {_mat(core['plain'], 3)} \;\to\; q = {_fast.text_matrix(marked)}"),
            Step(r"Reconstruction $\hat X = S\,(q - Z)$ and the error matrix $X - \hat X$ (from the unrounded $\hat X$):",
                 rf"\hat X = {vec(scales, lambda v: nf.fixed(v, k) if k else nf.sig(v, 6))} \odot "
                 rf"(q - {vec([p[6] for p in params], str)}) = {_mat(xhat, dec)}, \quad X - \hat X = {_mat(err, dec)}"),
        ]
        return tuple(out)
    channel_word(axis)  # an unknown axis is refused here, as when the steps were built eagerly
    skw = {"decimals": k} if k else {"sig": 4}
    parts = (
        Part("scales", "scales S", Answer("vector", scales, **skw)),
        Part("zero_points", "zero points Z", Answer("vector", [p[6] for p in params])),
        Part("q", "integer matrix q", Answer("matrix", [list(r) for r in q])),
        Part("reconstruction", "reconstructed matrix", Answer("matrix", [list(r) for r in xhat], decimals=dec)),
        Part("error", "error matrix", Answer("matrix", [list(r) for r in err], decimals=dec)),
    )
    return Solution(parts, steps)


_AF_SHAPES = {"easy": ((2, 4), ("rows",), (2, 3), 0), "medium": ((3, 4), ("rows", "columns"), (2, 3, 4), 1),
              "hard": ((4, 4), ("rows", "columns", "tensor"), (3, 4, 8), 1)}


def _sample_affine(rng: Rng, difficulty: str) -> dict[str, Any]:
    """Entries are drawn as rng.decimal's integers (hundredths) and every tie test is done in integers."""
    (rows, cols), axes, widths, rounding = _AF_SHAPES[difficulty]
    axis, bits = rng.choice(axes), rng.choice(widths)
    signed = rng.choice(("signed", "unsigned"))
    x = [[rng.randint(-300, 300) for _ in range(cols)] for _ in range(rows)]  # rng.decimal(-3, 3, 2), in 0.01s
    for ch in channels(x, axis):
        if not min(ch) < 0 < max(ch):
            raise Rejected("a channel's range must straddle zero")
    values = flat(x)
    if len(set(values)) < len(values) // 2:
        raise Rejected("near-constant matrix")
    k = (2 if bits <= 3 else 3 if bits == 4 else 4) if rounding and (axis == "tensor" or rng.randint(0, 1)) else 0
    chans = channels(x, axis)  # the ties are tested on the hundredths (D = 100): the same rationals
    is_signed = signed == "signed"
    if k and any(_fast.near_tie(p[2] * 10**k, p[3]) for p in _channel_params(chans, 100, bits, is_signed, 0)):
        raise Rejected("a scale lies near a rounding boundary")
    params = _channel_params(chans, 100, bits, is_signed, k)
    if any(_fast.near_tie(p[4], p[5]) for p in params):
        raise Rejected("a zero point lies near a rounding boundary")
    ends = {v for p in params for v in p[:2]}
    # r/S = v·sd/(100·sn): per channel (sd, Q) with the tie test of _fast.near_tie inlined
    per = per_entry(x, axis, [(p[3], 100 * p[2], 2000 * p[2], 200 * p[2]) for p in params])
    for ar, pr in zip(x, per):
        for v, (sd, big_q, q20, q2) in zip(ar, pr):
            if abs(40 * (v * sd % big_q) - q20) < q2 and v not in ends:
                raise Rejected("an entry lies near a rounding boundary")
    return {"X": [[v / 100 for v in r] for r in x], "bits": bits, "signed": signed, "axis": axis,
            "scale_decimals": k, "decimals": 2 if difficulty == "easy" else 3}


def _affine_float(part: str):
    """Float arithmetic with S carried to 6 significant figures (when S is not rounded as asked)."""
    def value(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        if int(g["scale_decimals"]):
            return None
        qmin, qmax = int_range(int(g["bits"]), g["signed"] == "signed")
        chans, dec = channels(g["X"], g["axis"]), int(g["decimals"])

        def one(*ss: float) -> Any:  # the scales as held (each carried to 6 figures)
            zs = [clamp(round(qmin - min(ch) / s), qmin, qmax) for ch, s in zip(chans, ss)]
            if part == "zero_points":
                return zs
            s, z = per_entry(g["X"], g["axis"], list(ss)), per_entry(g["X"], g["axis"], zs)
            q = [[clamp(round(r / sv) + zv, qmin, qmax) for r, sv, zv in zip(*t)] for t in zip(g["X"], s, z)]
            xhat = [[sv * (v - zv) for v, sv, zv in zip(*t)] for t in zip(q, s, z)]
            if part == "q":
                return q
            if part == "reconstruction":
                return reported(xhat, solution.value(part), dec)
            return reported([[r - v for r, v in zip(*t)] for t in zip(g["X"], xhat)], solution.value(part), dec)
        return each(one, *(nf.held((max(ch) - min(ch)) / (qmax - qmin), 6) for ch in chans))
    return value


def _af_levels(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    return [p[2] / p[3] for p in _affine_params(g, levels=2 ** int(g["bits"]))]


def _af_unsigned(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    return [p[6] for p in _affine_params(g, signed=False)] if g["signed"] == "signed" else None


def _af_other_way(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    # the key's zero points, each against its exact value before rounding (zn/zd, which the key does not hold)
    return [z + 1 if p[4] > z * p[5] else z - 1
            for z, p in zip(solution.value("zero_points"), _affine_params(g))]


def _af_tensor_range(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    if g["axis"] == "tensor":
        return None
    p = _affine_params(g, axis="tensor")[0]
    return [p[2] / p[3]] * len(channels(g["X"], g["axis"]))


def _af_unrounded(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    if not int(g["scale_decimals"]):
        return None
    return [list(r) for r in _affine_compute(g, _affine_params(g, rounded=False))["xhat"]]
