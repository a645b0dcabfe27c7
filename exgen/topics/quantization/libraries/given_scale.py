"""given_scale: PyTorch's quantize and fake-quantize with a given S, Z, quant_min and quant_max (round half to
even; torch.fake_quantize_per_tensor_affine / per_channel_affine), per tensor or per channel: the check, the exact
computation, the solver, the sampler (with exact ties placed on purpose), the float path and the mistakes."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from exgen import numfmt as nf
from exgen.givens import check
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Rejected, Variant
from exgen.topics.quantization import _fast
from exgen.topics.quantization._fast import fr
from exgen.topics.quantization.common import clamp, flat
from exgen.topics.quantization.libraries.common import (
    AXES, MAX_ENTRIES, _X, _mat, _matrix_ok, channel_word, channels, per_entry, reported)


_DECIMALS = Given("decimals", "decimal places asked for in the reconstruction and the error matrix", "integer",
                  default=4, low=0, high=8)

GIVEN_SCALE = Variant(
    "given_scale", "quantize and fake-quantize with a given scale, zero point and quant_min/quant_max (PyTorch: "
    "round half to even), per tensor or per channel along rows or columns: integers, reconstruction, error matrix",
    (_X,
     Given("scale", "the scale S: one number per tensor, or one per channel", "vector", low=1e-6, high=1e6,
           max_size=MAX_ENTRIES),
     Given("zero_point", "the zero point Z (an integer): one per tensor, or one per channel", "vector",
           low=-65536, high=65535, max_size=MAX_ENTRIES),
     Given("quant_min", "smallest integer q_min (quint8: 0, qint8: -128)", "integer", low=-65536, high=65535),
     Given("quant_max", "largest integer q_max (quint8: 255, qint8: 127)", "integer", low=-65536, high=65535),
     Given("axis", "tensor (one S, Z), rows (one per row: PyTorch axis 0) or columns (one per column: axis 1)",
           "choice", choices=AXES, default="tensor"),
     _DECIMALS))


def _check_given_scale(g: dict[str, Any]) -> None:
    check(GIVEN_SCALE, g)
    x = g["X"]
    _matrix_ok(x)
    if not g["quant_min"] < g["quant_max"]:
        raise InvalidGivens("quant_min must be below quant_max")
    n = len(channels(x, g["axis"]))
    for name in ("scale", "zero_point"):
        if len(g[name]) != n:
            raise InvalidGivens(f"{name}: expected {n} value(s), one per {channel_word(g['axis'])}")
    if any(s <= 0 for s in g["scale"]):
        raise InvalidGivens("scale: every scale must be positive")
    if any(not float(z).is_integer() or not g["quant_min"] <= z <= g["quant_max"] for z in g["zero_point"]):
        raise InvalidGivens("zero_point: integers within [quant_min, quant_max]")


def _gs_key(g: dict[str, Any]) -> tuple:
    return (tuple(map(tuple, g["X"])), tuple(g["scale"]), tuple(g["zero_point"]), int(g["quant_min"]),
            int(g["quant_max"]), g["axis"])


@_fast.memo(16)  # kept: the mistakes redo the rounding from exact entries (a·d, b·c, Z) that the key lacks
def _gs_core(key: tuple) -> dict[str, Any]:
    """The exact computation in integers (x = a/b, S = c/d, so r/S = ad/(bc)): per entry (a·d, b·c, a, b, c, d,
    Z), and the ratios, integers, reconstruction and error matrix as the solver shows them (floats of the exact
    values, which is all the formatting reads)."""
    x, scales, zeros, lo, hi, axis = key
    sf = [fr(v) for v in scales]
    zi = [int(v) for v in zeros]
    entries, ratio, raw, q, xhat, err = [], [], [], [], [], []
    ties = False
    for i, row in enumerate(x):
        e_row, ra_row, rw_row, q_row, xh_row, er_row = [], [], [], [], [], []
        for j, v in enumerate(row):
            ch = 0 if axis == "tensor" else i if axis == "rows" else j
            s, z = sf[ch], zi[ch]
            c, d = s.numerator, s.denominator
            xv = fr(v)
            a, b = xv.numerator, xv.denominator
            num, den = a * d, b * c
            rv = _fast.round_even(num, den) + z
            qv = lo if rv < lo else hi if rv > hi else rv
            ties = ties or 2 * (num % den) == den
            e_row.append((num, den, a, b, c, d, z))
            ra_row.append(num / den)
            rw_row.append(rv)
            q_row.append(qv)
            xh_row.append(c * (qv - z) / d)
            er_row.append((a * d - c * (qv - z) * b) / (b * d))
        entries.append(e_row)
        ratio.append(ra_row)
        raw.append(rw_row)
        q.append(q_row)
        xhat.append(xh_row)
        err.append(er_row)
    return {"entries": entries, "ratio": ratio, "raw": raw, "q": q, "xhat": xhat, "err": err, "ties": ties,
            "lo": lo, "hi": hi}


def _gs_quantize(g: dict[str, Any], rounder=_fast.round_even, sign: int = 1, clamped: bool = True) -> list[list[int]]:
    core = _gs_core(_gs_key(g))
    lo, hi = core["lo"], core["hi"]
    out = []
    for row in core["entries"]:
        values = [rounder(e[0], e[1]) + sign * e[6] for e in row]
        out.append([clamp(v, lo, hi) for v in values] if clamped else values)
    return out


def _solve_given_scale(g: dict[str, Any]) -> Solution:
    _check_given_scale(g)
    axis, dec = g["axis"], int(g["decimals"])
    lo, hi = int(g["quant_min"]), int(g["quant_max"])
    core = _gs_core(_gs_key(g))
    ratio, raw, q, xhat, err, ties = (core[k] for k in ("ratio", "raw", "q", "xhat", "err", "ties"))

    def steps() -> tuple[Step, ...]:
        marked = [[rf"\boxed{{{b}}}" if a != b else str(b) for a, b in zip(ra, rb)] for ra, rb in zip(raw, q)]
        where = "" if axis == "tensor" else f" (one $S$, $Z$ per {channel_word(axis)})"
        return (
            Step(f"The integer range is $[q_{{\\min}}, q_{{\\max}}] = [{lo}, {hi}]$; the scale and zero point{where}: "
                 f"$S = {nf.vector([fr(v) for v in g['scale']]) if axis != 'tensor' else nf.num(g['scale'][0])}$, "
                 f"$Z = {nf.vector([int(v) for v in g['zero_point']]) if axis != 'tensor' else int(g['zero_point'][0])}$."),
            Step("Divide each entry by its scale:", "r/S = " + _mat(ratio, 3)),
            Step("Round to the nearest integer, halves to the even neighbour"
                 + (" (some entries are exact halves)" if ties else "") + ", add the zero point, and clamp to "
                 "$[q_{\\min}, q_{\\max}]$"
                 + (" (boxed entries were clamped)" if raw != q else "; no entry needs clamping") + ":",
                 rf"q = \operatorname{{round}}(r/S) + {_gs_show(g, 'zero_point', axis)} = "
                 + _fast.text_matrix(marked)),
            Step(r"Fake-quantize (dequantize): $\hat X = S\,(q - Z)$, and the error matrix $X - \hat X$:",
                 rf"\hat X = {_gs_show(g, 'scale', axis)} \odot (q - {_gs_show(g, 'zero_point', axis)}) = "
                 rf"{_mat(xhat, dec)}, "
                 rf"\quad X - \hat X = {_mat(err, dec)}"),
        )
    if axis != "tensor":
        channel_word(axis)  # an unknown axis is refused here, as when the steps were built eagerly
    parts = (
        Part("q", "integer matrix q", Answer("matrix", [list(r) for r in q])),
        Part("fake_quant", "fake-quantized matrix", Answer("matrix", [list(r) for r in xhat], decimals=dec)),
        Part("error", "error matrix", Answer("matrix", [list(r) for r in err], decimals=dec)),
    )
    return Solution(parts, steps)


# (shape, ranges, axes) per difficulty; ranges by name: quint8, qint8, 4-bit unsigned/signed
_RANGES = {"quint8": (0, 255), "qint8": (-128, 127), "uint4": (0, 15), "int4": (-8, 7)}
_GS_SHAPES = {"easy": ((2, 3), ("quint8", "qint8"), ("tensor",)),
              "medium": ((3, 3), ("quint8", "qint8", "uint4", "int4"), ("tensor",)),
              "hard": ((3, 4), ("quint8", "qint8", "uint4", "int4"), ("rows", "columns"))}
_SCALES = {8: ("0.1", "0.05", "0.02", "0.04", "0.2", "0.25", "0.5", "0.03", "0.08", "0.06"),
           4: ("0.1", "0.2", "0.25", "0.5", "0.3", "0.4", "0.15", "0.6", "0.75")}
_DYADIC = (Fraction(1, 2), Fraction(1, 4))


_SCALE_VALUES = {text: Fraction(text) for texts in _SCALES.values() for text in texts}


def _sample_given_scale(rng: Rng, difficulty: str) -> dict[str, Any]:
    """Entries are kept as integers in 800ths (a 0.01 grid, and the halves of S = 1/2 or 1/4 for the ties), and
    an entry's tie test is r/S in integers; the draws are rng.decimal's, made with the same randint."""
    (rows, cols), ranges, axes = _GS_SHAPES[difficulty]
    name = rng.choice(ranges)
    lo, hi = _RANGES[name]
    axis = rng.choice(axes)
    n = {"tensor": 1, "rows": rows, "columns": cols}[axis]
    bits = 8 if name in ("quint8", "qint8") else 4
    scales = [_SCALE_VALUES[rng.choice(_SCALES[bits])] for _ in range(n)]
    ties_wanted = difficulty != "easy" and rng.randint(0, 1) == 1
    zeros = []
    for sv in scales:
        span = hi - lo
        z = rng.randint(lo + span // 4, hi - span // 4) if name in ("quint8", "uint4") else rng.randint(-span // 8, span // 8)
        if ties_wanted and sv in _DYADIC and z % 2:
            z += 1 if z + 1 <= hi else -1
        zeros.append(z)
    x = [[0] * cols for _ in range(rows)]  # in 800ths
    chan = per_entry(x, axis, list(range(n)))  # the channel of each entry
    overshoot = 0 if difficulty == "easy" else 15  # hundredths of the range's width, at each end
    grids = []  # per channel: rng.decimal's integer range (hundredths), and S = c/d
    for sv, zv in zip(scales, zeros):
        c, d = sv.numerator, sv.denominator
        den = 100 * d  # a = S(lo − Z) − 0.15·S(hi − lo), b = S(hi − Z) + 0.15·S(hi − lo), over den
        a = 100 * c * (lo - zv) - overshoot * c * (hi - lo)
        b = 100 * c * (hi - zv) + overshoot * c * (hi - lo)
        if difficulty == "easy" or bits == 8:  # 8-bit ranges are wide: keep entries within a few units
            a, b = max(a, -4 * den), min(b, 4 * den)
        # rng.decimal(float(a), float(b), 2)'s range; r = m/100 and r/S = m·d/Q with Q = 100·c
        grids.append((round(a / den * 100), round(b / den * 100), d, 100 * c, 2000 * c, 200 * c))
    randint = rng.randint
    for i in range(rows):
        for j in range(cols):
            glo, ghi, d, big_q, q20, q2 = grids[chan[i][j]]
            for _ in range(40):
                m = randint(glo, ghi)
                if m != 0 and not abs(40 * (m * d % big_q) - q20) < q2:  # _fast.near_tie(m·d, Q), inlined
                    break
            else:
                raise Rejected("no entry away from a rounding boundary")
            x[i][j] = 8 * m
    if ties_wanted:  # an exact half for PyTorch's even rounding (power-of-two S, even Z: exact in float32)
        dyadic = [sv in _DYADIC and zv % 2 == 0 for sv, zv in zip(scales, zeros)]
        spots = [(i, j) for i in range(rows) for j in range(cols) if dyadic[chan[i][j]]]
        if not spots:
            raise Rejected("no power-of-two scale for a tie")
        for _ in range(rng.randint(1, 2)):
            i, j = rng.choice(spots)
            sv, zv = scales[chan[i][j]], zeros[chan[i][j]]
            k = rng.randint(max(lo - zv, -6), min(hi - zv, 6) - 1)
            x[i][j] = int(sv * 400) * (2 * k + 1)  # S·(k + 1/2) in 800ths
    values = flat(x)
    if len(set(values)) < len(values) // 2:
        raise Rejected("near-constant matrix")
    dec = max([_fast.decimals_of_den(800 // math.gcd(v, 800)) for v in values]
              + [_fast.decimals_of_den(sv.denominator) for sv in scales])
    return {"X": [[v / 800 for v in row] for row in x], "scale": [float(v) for v in scales], "zero_point": zeros,
            "quant_min": lo, "quant_max": hi, "axis": axis, "decimals": max(dec, 1)}


@_fast.memo(16)
def _gs_float(x: tuple, scales: tuple, zeros: tuple, axis: str) -> tuple[list, list, list]:
    """round(r/S) + Z in floats before the clamp, and S, Z at each entry."""
    s = per_entry(x, axis, [float(v) for v in scales])
    z = per_entry(x, axis, [int(v) for v in zeros])
    return [[round(r / sv) + zv for r, sv, zv in zip(*t)] for t in zip(x, s, z)], s, z


def _float_given_scale(part: str):
    """Float arithmetic (Python's round is half to even): what numpy or a calculator gives."""
    def value(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        raw, s, z = _gs_float(tuple(map(tuple, g["X"])), tuple(g["scale"]), tuple(g["zero_point"]), g["axis"])
        q = [[clamp(v, g["quant_min"], g["quant_max"]) for v in row] for row in raw]
        if part == "q":
            return q
        xhat = [[sv * (v - zv) for v, sv, zv in zip(*t)] for t in zip(q, s, z)]
        dec = int(g["decimals"])
        if part == "fake_quant":
            return reported(xhat, solution.value(part), dec)
        return reported([[r - v for r, v in zip(ra, rb)] for ra, rb in zip(g["X"], xhat)], solution.value(part), dec)
    return value


def _gs_mistake(fn):
    def wrong(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        right = {part: solution.value(part) for part in ("q", "fake_quant", "error")}
        value = fn(g, right)
        return None if value is None or value == right.get(_gs_part[fn]) else value
    return wrong


def _half_away(g, right):
    return _gs_quantize(g, rounder=_fast.round_away)


def _unclamped(g, right):
    return _gs_quantize(g, clamped=False)


def _zero_subtracted(g, right):
    return _gs_quantize(g, sign=-1) if any(g["zero_point"]) else None


def _zero_kept(g, right):
    if not any(g["zero_point"]):
        return None
    return [[e[4] * v / e[5] for e, v in zip(er, qr)] for er, qr in zip(_gs_core(_gs_key(g))["entries"], right["q"])]


def _error_flipped(g, right):
    return [[-v for v in row] for row in right["error"]] if any(flat(right["error"])) else None


_gs_part = {_half_away: "q", _unclamped: "q", _zero_subtracted: "q", _zero_kept: "fake_quant",
            _error_flipped: "error"}


def _gs_show(g: dict[str, Any], name: str, axis: str) -> str:
    """A given scale or zero point substituted: one number per tensor, or its vector per channel."""
    values = [fr(v) for v in g[name]] if name == "scale" else [int(v) for v in g[name]]
    return nf.num(values[0]) if axis == "tensor" else nf.vector(values)
