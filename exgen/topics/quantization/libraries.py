"""Quantization as libraries do it (issue 17): PyTorch's quantize/fake-quantize with a given scale and zero
point, LLM.int8()'s symmetric int8, per-channel affine with zero points, and gemmlowp's integer
requantization multiplier.  Registered by exgen/topics/quantization/__init__.py (a module of its own, beside kmeans.py).

Conventions (stated in every question):
    given_scale:    q = clamp(round(r/S) + Z, quant_min, quant_max), round half to even
                    (torch.fake_quantize_per_tensor_affine / per_channel_affine); r̂ = S (q − Z); the error
                    matrix X − r̂.  Per channel: one (S, Z) per row (axis 0) or per column (axis 1).
    absmax_int8:    restricted range [−q_max, q_max] (q_max = 2^(b−1) − 1, 127 for int8); per tensor or per
                    row/column ("vector-wise", LLM.int8()); the factor written as a multiplier c = q_max/max|X|
                    (q = round(c·x), x̂ = q/c) or as a scale S = max|X|/q_max; optionally the factor rounded to
                    k decimals and used from then on (seed 003's slide reconstructs with S rounded to 1.07).
    affine_channel: min–max affine per channel (or per tensor), S_i = (max − min)/(q_max − q_min),
                    Z_i = clamp(round(q_min − min/S_i)); the same optional rounding of S.
    requant:        M = S_in·S_w/S_out = 2^(−n)·M0 with M0 ∈ [1/2, 1) stored as the Q31 integer
                    round(M0·2^31) (Jacob et al. 2018, §2.2; gemmlowp's QuantizeMultiplierSmallerThanOne), and
                    an int32 accumulator requantized with gemmlowp's integer arithmetic.
The solver is exact (integers over the matrix's common denominator; a key is the float of the exact value);
sampled values to be rounded keep TIE_MARGIN from a .5 boundary, except the exact ties given_scale places on
purpose (power-of-two scale, dyadic entry, even zero point: exact in float32, and torch's quantize_per_tensor —
which rounds r/S + Z — agrees with fake_quantize there).
Decisions: docs/decisions/quantization-libraries.md.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from exgen import numfmt as nf
from exgen.givens import coerce
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Mistake, Rejected, StudentPath, Variant
from exgen.topics.quantization import _fast
from exgen.topics.quantization._fast import fr

TIE_MARGIN = Fraction(1, 20)
MAX_ENTRIES = 64
AXES = ("tensor", "rows", "columns")


# ---- helpers ---------------------------------------------------------------------------------------




def flat(m: list[list[Any]]) -> list[Any]:
    return [v for row in m for v in row]


def transpose(m: list[list[Any]]) -> list[list[Any]]:
    return [list(c) for c in zip(*m)]


def round_away(x: Fraction) -> int:
    n = (2 * abs(x.numerator) + x.denominator) // (2 * x.denominator)
    return n if x >= 0 else -n


def clamp(q: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, q))


def near_tie(x: Fraction, margin: Fraction = TIE_MARGIN) -> bool:
    return abs((x - math.floor(x)) - Fraction(1, 2)) < margin


def channels(x: list[list[Any]], axis: str) -> list[list[Any]]:
    """The channels of x as rows: rows as they are, columns transposed, the tensor as one channel."""
    return transpose(x) if axis == "columns" else [flat(x)] if axis == "tensor" else x


def per_entry(x: list[list[Any]], axis: str, values: list[Any]) -> list[list[Any]]:
    """The channel value that applies at each entry of x."""
    if axis == "tensor":
        return [[values[0]] * len(x[0]) for _ in x]
    if axis == "rows":
        return [[values[i]] * len(x[0]) for i in range(len(x))]
    return [[values[j] for j in range(len(x[0]))] for _ in x]


def channel_word(axis: str) -> str:
    return {"rows": "row", "columns": "column", "tensor": "tensor"}[axis]


def int_range(bits: int, signed: bool) -> tuple[int, int]:
    return (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)


def _matrix_ok(x: Any) -> None:
    if not x or any(not row or len(row) != len(x[0]) for row in x):
        raise InvalidGivens("X must be a non-empty rectangular matrix")


def _check_bounds(spec: Variant, g: dict[str, Any]) -> None:
    spec.require(g)
    for given in spec.givens:
        if given.name in g and given.kind != "choice" and not _fast.plainly_valid(given, g[given.name]):
            coerce(given, g[given.name])


def _mat(m, d: int | None = None) -> str:
    return _fast.fixed_matrix(m, d) if d is not None else nf.matrix(m, nf.num)


# ---- given_scale: PyTorch's quantize and fake-quantize with a given S, Z, quant_min, quant_max ------------

_X = Given("X", "the real matrix (rows separated by ';', entries by ',')", "matrix", low=-1e6, high=1e6,
           max_size=MAX_ENTRIES)
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
    _check_bounds(GIVEN_SCALE, g)
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


@_fast.memo(16)
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
            return [[round(v, dec) for v in row] for row in xhat]
        return [[round(r - v, dec) for r, v in zip(ra, rb)] for ra, rb in zip(g["X"], xhat)]
    return value


def _gs_mistake(fn):
    def wrong(variant: str, g: dict[str, Any]) -> Any:
        core = _gs_core(_gs_key(g))
        right = {"q": core["q"], "fake_quant": core["xhat"], "error": core["err"]}
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


# ---- absmax_int8: restricted-range symmetric, multiplier or scale, per tensor or vector-wise ------------

ABSMAX_INT8 = Variant(
    "absmax_int8", "symmetric quantization to the restricted range [-q_max, q_max] (int8: [-127, 127]) as in "
    "LLM.int8(): max|X| per tensor or per row/column, the multiplier q_max/max|X| (or the scale), integers, "
    "reconstruction, error matrix; optionally with the factor rounded first",
    (_X,
     Given("bits", "bit width b (q_max = 2^(b-1) - 1: 127 for 8 bits)", "integer", choices=("4", "8"), default=8,
           low=4, high=8),
     Given("axis", "tensor (one max|X|), rows (one per row) or columns (one per column)", "choice", choices=AXES,
           default="tensor"),
     Given("form", "the factor as a multiplier c = q_max/max|X| (q = round(c x), x̂ = q/c) or as a scale "
           "S = max|X|/q_max (q = round(x/S), x̂ = S q)", "choice", choices=("multiplier", "scale"),
           default="multiplier"),
     Given("factor_decimals", "round the factor to this many decimals and use the rounded factor from then on "
           "(0: carry it unrounded)", "integer", default=0, low=0, high=8),
     Given("decimals", "decimal places asked for in the reconstruction and the error matrix", "integer", default=2,
           low=0, high=8)))


def _check_absmax(g: dict[str, Any]) -> None:
    _check_bounds(ABSMAX_INT8, g)
    _matrix_ok(g["X"])
    if any(max(abs(v) for v in ch) == 0 for ch in channels(g["X"], g["axis"])):
        raise InvalidGivens(f"a {channel_word(g['axis'])} of X is all zeros: its max|X| is 0 and the factor undefined")
    if int(g["factor_decimals"]):
        _absmax_factors(g)  # refuses a factor rounded to zero


@_fast.memo(16)
def _ab_factors(xkey: tuple, qmax: int, axis: str, form: str, k: int) -> tuple[list[int], list[tuple[int, int]], int]:
    """(max|X| per channel as integers over D, the factor per channel as an integer pair (p, q) = p/q, D),
    exactly; the factor rounded to k decimals if k (ties to even: never met when sampled)."""
    d, a = _fast.scaled(xkey)
    amax, factors = _factor_pairs(channels(a, axis), d, qmax, form, k)
    return amax, factors, d


def _factor_pairs(chans, d: int, qmax: int, form: str, k: int) -> tuple[list[int], list[tuple[int, int]]]:
    """_ab_factors of channels given as integers over D: (max|X|·D per channel, the factor pairs)."""
    amax = [max(abs(v) for v in ch) for ch in chans]
    factors = [(qmax * d, m) if form == "multiplier" else (m, qmax * d) for m in amax]
    if k:
        factors = [(_fast.round_even(p * 10**k, q), 10**k) for p, q in factors]
        if any(p == 0 for p, _ in factors):
            raise InvalidGivens("the factor rounds to 0 at factor_decimals: ask for more decimals")
    return amax, factors


def _absmax_factors(g: dict[str, Any], qmax: int | None = None, rounded: bool = True,
                    axis: str | None = None) -> tuple[list[int], list[tuple[int, int]], int]:
    """(max|X| per channel, the factor per channel, D) exactly: see _ab_factors."""
    qmax = qmax if qmax is not None else 2 ** (int(g["bits"]) - 1) - 1
    return _ab_factors(tuple(map(tuple, g["X"])), qmax, axis or g["axis"], g["form"],
                       int(g["factor_decimals"]) if rounded else 0)


@_fast.memo(16)
def _ab_compute(xkey: tuple, bits: int, axis: str, form: str, factors: tuple[tuple[int, int], ...],
                multiply_back: bool = False) -> dict[str, Any]:
    """r·c (or r/S) per entry, rounded (halves to even) and clamped; the reconstruction and the error matrix as
    floats of their exact values (x = A/D, the factor p/q)."""
    d, a = _fast.scaled(xkey)
    qmax = 2 ** (bits - 1) - 1
    f = per_entry(a, axis, factors)
    mult = form == "multiplier"
    divide = mult != multiply_back  # x̂ = q/c or S·q; the mistake does the other
    ratio, raw, q, xhat, err = [], [], [], [], []
    for ar, fr_ in zip(a, f):
        ra_row, rw_row, q_row, xh_row, er_row = [], [], [], [], []
        for v, (p, pq) in zip(ar, fr_):
            num, den = (v * p, d * pq) if mult else (v * pq, d * p)
            rv = _fast.round_even(num, den)
            qv = -qmax if rv < -qmax else qmax if rv > qmax else rv
            ra_row.append(num / den)
            rw_row.append(rv)
            q_row.append(qv)
            if divide:
                xh_row.append(qv * pq / p)
                er_row.append((v * p - qv * pq * d) / (d * p))
            else:
                xh_row.append(qv * p / pq)
                er_row.append((v * pq - qv * p * d) / (d * pq))
        ratio.append(ra_row)
        raw.append(rw_row)
        q.append(q_row)
        xhat.append(xh_row)
        err.append(er_row)
    return {"ratio": ratio, "raw": raw, "q": q, "xhat": xhat, "err": err}


def _absmax_compute(g: dict[str, Any], factors, multiply_back: bool = False) -> dict[str, Any]:
    return _ab_compute(tuple(map(tuple, g["X"])), int(g["bits"]), g["axis"], g["form"], tuple(factors),
                       multiply_back)


def _solve_absmax(g: dict[str, Any]) -> Solution:
    _check_absmax(g)
    axis, dec, k = g["axis"], int(g["decimals"]), int(g["factor_decimals"])
    qmax = 2 ** (int(g["bits"]) - 1) - 1
    amax_i, factors_i, d = _absmax_factors(g)
    _, unrounded_i, _ = _absmax_factors(g, rounded=False)
    core = _absmax_compute(g, factors_i)
    ratio, raw, q, xhat, err = (core[key] for key in ("ratio", "raw", "q", "xhat", "err"))
    amax = [m / d for m in amax_i]
    fvals = [p / pq for p, pq in factors_i]
    mult = g["form"] == "multiplier"

    def steps() -> tuple[Step, ...]:
        unrounded = [p / pq for p, pq in unrounded_i]
        sym = "c" if mult else "S"
        per = "" if axis == "tensor" else f" per {channel_word(axis)}"
        show = (lambda vs: nf.num(float(vs[0]))) if axis == "tensor" else (lambda vs: nf.vector([float(v) for v in vs]))
        fshow = (lambda vs, f: f(vs[0])) if axis == "tensor" else (lambda vs, f: nf.vector(vs, f))
        formula = rf"c = \frac{{q_{{\max}}}}{{\max|X|}} = \frac{{{qmax}}}{{{show(amax)}}}" if mult else \
            rf"S = \frac{{\max|X|}}{{q_{{\max}}}} = \frac{{{show(amax)}}}{{{qmax}}}"
        d_, a_ = _fast.scaled(tuple(map(tuple, g["X"])))
        chans = channels(a_, axis)
        lows, highs = (show([min(min(c) for c in chans) / d_]), show([max(max(c) for c in chans) / d_])) \
            if axis == "tensor" else (nf.vector([min(c) / d_ for c in chans]), nf.vector([max(c) / d_ for c in chans]))
        out = [
            Step(f"The restricted range is $[-{qmax}, {qmax}]$ ($q_{{\\max}} = 2^{{b-1}} - 1 = {qmax}$); the largest "
                 f"absolute value{per}:", rf"\max|X| = \max\left(\left|{lows}\right|, \left|{highs}\right|\right) = "
                 rf"{show(amax)}"),
            Step(f"The {'multiplier' if mult else 'scale'}{per}:",
                 f"{formula} = {fshow(unrounded, lambda v: nf.sig(v, 6))}"),
        ]
        if k:
            out.append(Step(f"Rounded to {k} decimals, and used from here on:",
                            f"{sym} = {fshow(fvals, lambda v: nf.fixed(v, k))}"))
        marked = [[rf"\boxed{{{b}}}" if a != b else str(b) for a, b in zip(ra, rb)] for ra, rb in zip(raw, q)]
        product = r"c\,x" if mult else "x/S"
        used = fshow(fvals, lambda v: nf.fixed(v, k)) if k else fshow(unrounded, lambda v: nf.sig(v, 6))
        recon_formula = rf"q \oslash {used}" if mult else rf"{used} \odot q"
        out += [
            Step(("Multiply by the multiplier" if mult else "Divide by the scale") + ", round to the nearest integer "
                 "(halves to even) and clamp to the restricted range"
                 + (" (boxed entries were clamped)" if raw != q else "") + ":",
                 rf"{product} = {_mat(ratio, 3)} \;\to\; q = {_fast.text_matrix(marked)}"),
            Step(("Reconstruction $\\hat X = q / c$" if mult else "Reconstruction $\\hat X = S\\,q$")
                 + " and the error matrix $X - \\hat X$ (from the unrounded $\\hat X$):",
                 rf"\hat X = {recon_formula} = {_mat(xhat, dec)}, \quad X - \hat X = {_mat(err, dec)}"),
        ]
        return tuple(out)
    if axis != "tensor":
        channel_word(axis)  # an unknown axis is refused here, as when the steps were built eagerly
    places = _fast.decimals_of_den(d)
    amax_answer = Answer("number", amax[0], decimals=places) if axis == "tensor" else \
        Answer("vector", amax, decimals=places)
    fkw = {"decimals": k} if k else {"sig": 4}
    factor_answer = Answer("number", fvals[0], **fkw) if axis == "tensor" else Answer("vector", list(fvals), **fkw)
    parts = (
        Part("absmax", "max|X|", amax_answer),
        Part("factor", "multiplier c" if mult else "scale S", factor_answer),
        Part("q", "integer matrix q", Answer("matrix", [list(r) for r in q])),
        Part("reconstruction", "reconstructed matrix", Answer("matrix", [list(r) for r in xhat], decimals=dec)),
        Part("error", "error matrix", Answer("matrix", [list(r) for r in err], decimals=dec)),
    )
    return Solution(parts, steps)


_AB_SHAPES = {"easy": ((2, 4), ("tensor",), (8,)), "medium": ((3, 4), ("tensor", "rows"), (8, 4)),
              "hard": ((4, 4), ("rows", "columns"), (8, 4))}


def _sample_absmax(rng: Rng, difficulty: str) -> dict[str, Any]:
    """Entries are drawn as rng.decimal's integers (hundredths) and every tie test is done in integers."""
    (rows, cols), axes, widths = _AB_SHAPES[difficulty]
    axis, bits = rng.choice(axes), rng.choice(widths)
    form = rng.choice(("multiplier", "scale"))
    x = [[rng.randint(-500, 500) for _ in range(cols)] for _ in range(rows)]  # rng.decimal(-5, 5, 2), in 0.01s
    if difficulty != "easy" and rng.randint(0, 2) == 0:  # an outlier, as in LLM.int8(): a channel with large values
        i, j = rng.randint(0, rows - 1), rng.randint(0, cols - 1)
        x[i][j] = 10 * rng.randint(100, 600) * rng.choice((-1, 1))  # rng.decimal(10, 60, 1), in 0.01s
    values = flat(x)
    if any(v == 0 for v in values) or len(set(values)) < len(values) // 2:
        raise Rejected("zero entry or near-constant matrix")
    k = 0
    if difficulty != "easy" and rng.randint(0, 1):
        k = 2 if form == "multiplier" else 4 if bits == 8 else 3
    # the ties are tested on the hundredths (D = 100): the same rationals as the solver's
    qmax = 2 ** (bits - 1) - 1
    amax, unrounded = _factor_pairs(channels(x, axis), 100, qmax, form, 0)
    factors = _factor_pairs(channels(x, axis), 100, qmax, form, k)[1] if k else unrounded
    if k and any(_fast.near_tie(p * 10**k, q) for p, q in unrounded):
        raise Rejected("the factor lies near a rounding boundary")
    # r·c = v·p/(100 q), r/S = v·q/(100 p): per channel (multiplier, Q) with the tie test of _fast.near_tie inlined
    tests = [(p, 100 * q) if form == "multiplier" else (q, 100 * p) for p, q in factors]
    f = per_entry(x, axis, [(k_, big_q, 20 * big_q, 2 * big_q) for k_, big_q in tests])
    for ar, fr_ in zip(x, f):
        for v, (k_, big_q, q20, q2) in zip(ar, fr_):
            if abs(40 * (v * k_ % big_q) - q20) < q2 and abs(v) not in amax:
                raise Rejected("an entry lies near a rounding boundary")
    return {"X": [[v / 100 for v in r] for r in x], "bits": bits, "axis": axis, "form": form,
            "factor_decimals": k, "decimals": 2 if difficulty == "easy" else 3}


@_fast.memo(16)
def _ab_float(xkey: tuple, bits: int, axis: str, form: str) -> tuple[list[list[int]], list[list[float]]]:
    qmax = 2 ** (bits - 1) - 1
    mult = form == "multiplier"
    amax = [max(abs(v) for v in ch) for ch in channels(xkey, axis)]
    fs = [float(f"{(qmax / a if mult else a / qmax):.5e}") for a in amax]
    f = per_entry(xkey, axis, fs)
    q = [[clamp(round(r * fv if mult else r / fv), -qmax, qmax) for r, fv in zip(*t)] for t in zip(xkey, f)]
    xhat = [[v / fv if mult else v * fv for v, fv in zip(*t)] for t in zip(q, f)]
    return q, xhat


def _absmax_float(part: str):
    """Float arithmetic with the factor carried to 6 significant figures (when it is not rounded as asked)."""
    def value(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        if int(g["factor_decimals"]):
            return None
        q, xhat = _ab_float(tuple(map(tuple, g["X"])), int(g["bits"]), g["axis"], g["form"])
        dec = int(g["decimals"])
        if part == "q":
            return [list(r) for r in q]
        if part == "reconstruction":
            return [[round(v, dec) for v in row] for row in xhat]
        return [[round(r - v, dec) for r, v in zip(*t)] for t in zip(g["X"], xhat)]
    return value


def _error_from_rounded(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    """The error matrix from the reconstruction as reported (rounded to the asked decimals)."""
    dec = int(g["decimals"])
    xhat = solution.part("reconstruction").answer.value
    return [[round(r - round(v, dec), dec) for r, v in zip(*t)] for t in zip(g["X"], xhat)]


def _ab_right(g: dict[str, Any], part: str) -> Any:
    """The key of an absmax or factor part, as the solver writes it (floats of the exact values)."""
    amax, factors, d = _absmax_factors(g)
    vals = [m / d for m in amax] if part == "absmax" else [p / q for p, q in factors]
    return vals[0] if g["axis"] == "tensor" else vals


def _ab_other_convention(variant: str, g: dict[str, Any]) -> Any:
    _, f, _ = _absmax_factors(g, qmax=2 ** (int(g["bits"]) - 1))
    vals = [p / q for p, q in f]
    return vals[0] if g["axis"] == "tensor" else vals


def _ab_signed_max(variant: str, g: dict[str, Any]) -> Any:
    d, a = _fast.scaled(tuple(map(tuple, g["X"])))
    m = [max(ch) / d for ch in channels(a, g["axis"])]
    right = _ab_right(g, "absmax")
    wrong = m[0] if g["axis"] == "tensor" else m
    return None if wrong == right else wrong


def _ab_per_tensor(variant: str, g: dict[str, Any]) -> Any:
    if g["axis"] == "tensor":
        return None
    _, f, _ = _absmax_factors(g, axis="tensor")
    n = len(channels(g["X"], g["axis"]))
    wrong = [f[0][0] / f[0][1]] * n
    return None if wrong == _ab_right(g, "factor") else wrong


def _ab_multiplied_back(variant: str, g: dict[str, Any]) -> Any:
    _, f, _ = _absmax_factors(g)
    return [list(r) for r in _absmax_compute(g, f, multiply_back=True)["xhat"]]


def _ab_unrounded_factor(variant: str, g: dict[str, Any]) -> Any:
    if not int(g["factor_decimals"]):
        return None
    _, f, _ = _absmax_factors(g, rounded=False)
    return [list(r) for r in _absmax_compute(g, f)["xhat"]]


# ---- affine_channel: min–max affine per channel, with zero points ---------------------------------------

AFFINE_CHANNEL = Variant(
    "affine_channel", "asymmetric (min-max) quantization per channel (rows or columns) or per tensor: a scale and a "
    "zero point per channel, integers, reconstruction, error matrix; optionally with S rounded first (seed 003)",
    (_X,
     Given("bits", "bit width b of the integers", "integer", choices=("2", "3", "4", "8"), low=2, high=8),
     Given("signed", "integer type: signed (two's complement) or unsigned", "choice",
           choices=("signed", "unsigned")),
     Given("axis", "rows (one S, Z per row), columns (one per column) or tensor (one for the whole matrix)",
           "choice", choices=AXES, default="rows"),
     Given("scale_decimals", "round each S to this many decimals and use the rounded S from then on, as seed "
           "003's slide does (0: carry S unrounded)", "integer", default=0, low=0, high=8),
     Given("decimals", "decimal places asked for in the reconstruction and the error matrix", "integer", default=2,
           low=0, high=8)))


def _check_affine(g: dict[str, Any]) -> None:
    _check_bounds(AFFINE_CHANNEL, g)
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
            sn, sd = _fast.round_even(sn * 10**k, sd), 10**k
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
    ratio, raw, q, xhat, err = [], [], [], [], []
    for ar, pr in zip(a, per):
        ra_row, rw_row, q_row, xh_row, er_row = [], [], [], [], []
        for v, p in zip(ar, pr):
            sn, sd, z = p[2], p[3], p[6]
            num, den = v * sd, d * sn  # r/S
            rv = _fast.round_even(num, den) + z
            qv = qmin if rv < qmin else qmax if rv > qmax else rv
            ra_row.append((num + z * den) / den)
            rw_row.append(rv)
            q_row.append(qv)
            xh_row.append(sn * (qv - z) / sd)
            er_row.append((v * sd - sn * (qv - z) * d) / (d * sd))
        ratio.append(ra_row)
        raw.append(rw_row)
        q.append(q_row)
        xhat.append(xh_row)
        err.append(er_row)
    return {"ratio": ratio, "raw": raw, "q": q, "xhat": xhat, "err": err}


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
            Step(f"A {bits}-bit {'signed' if signed else 'unsigned'} integer takes values $q_{{\\min}} = {qmin}$ to "
                 f"$q_{{\\max}} = {qmax}$. " + ("The range of $X$:" if axis == "tensor" else f"Each {word}'s range:"),
                 rf"r_{{\min}} = {vec(lows, nf.num)},\quad r_{{\max}} = {vec(highs, nf.num)}"),
            Step("Scales:", rf"S = \frac{{r_{{\max}} - r_{{\min}}}}{{{qmax} - {nf.signed(str(qmin))}}} = "
                 + vec([p[2] / p[3] for p in unrounded], lambda v: nf.sig(v, 6))),
        ]
        if k:
            out.append(Step(f"Rounded to {k} decimals and used from here on (as on seed 003's slide):",
                            "S = " + vec(scales, lambda v: nf.fixed(v, k))))
        out += [
            Step("Zero points, rounded to the nearest integer (halves to even) and clamped to the range:",
                 rf"Z = \operatorname{{round}}\left(q_{{\min}} - \frac{{r_{{\min}}}}{{S}}\right) = "
                 rf"\operatorname{{round}}{vec([p[4] / p[5] for p in params], lambda v: nf.sig(v, 6))} = "
                 + vec([p[6] for p in params], str)),
            Step("Divide by the scale, add the zero point, round (halves to even) and clamp"
                 + (" (boxed entries were clamped)" if raw != q else "") + ":",
                 rf"r/S + Z = {_mat(ratio, 3)} \;\to\; q = {_fast.text_matrix(marked)}"),
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
        ss, zs = [], []
        for ch in channels(g["X"], g["axis"]):
            s = float(f"{(max(ch) - min(ch)) / (qmax - qmin):.5e}")
            ss.append(s)
            zs.append(clamp(round(qmin - min(ch) / s), qmin, qmax))
        if part == "zero_points":
            return zs
        s, z = per_entry(g["X"], g["axis"], ss), per_entry(g["X"], g["axis"], zs)
        q = [[clamp(round(r / sv) + zv, qmin, qmax) for r, sv, zv in zip(*t)] for t in zip(g["X"], s, z)]
        xhat = [[sv * (v - zv) for v, sv, zv in zip(*t)] for t in zip(q, s, z)]
        dec = int(g["decimals"])
        if part == "q":
            return q
        if part == "reconstruction":
            return [[round(v, dec) for v in row] for row in xhat]
        return [[round(r - v, dec) for r, v in zip(*t)] for t in zip(g["X"], xhat)]
    return value


def _af_levels(variant: str, g: dict[str, Any]) -> Any:
    return [p[2] / p[3] for p in _affine_params(g, levels=2 ** int(g["bits"]))]


def _af_unsigned(variant: str, g: dict[str, Any]) -> Any:
    return [p[6] for p in _affine_params(g, signed=False)] if g["signed"] == "signed" else None


def _af_other_way(variant: str, g: dict[str, Any]) -> Any:
    return [p[6] + 1 if p[4] > p[6] * p[5] else p[6] - 1 for p in _affine_params(g)]


def _af_tensor_range(variant: str, g: dict[str, Any]) -> Any:
    if g["axis"] == "tensor":
        return None
    p = _affine_params(g, axis="tensor")[0]
    return [p[2] / p[3]] * len(channels(g["X"], g["axis"]))


def _af_unrounded(variant: str, g: dict[str, Any]) -> Any:
    if not int(g["scale_decimals"]):
        return None
    return [list(r) for r in _affine_compute(g, _affine_params(g, rounded=False))["xhat"]]


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
    sampler, the solver and the mistakes all read it)."""
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


def _gs_show(g: dict[str, Any], name: str, axis: str) -> str:
    """A given scale or zero point substituted: one number per tensor, or its vector per channel."""
    values = [fr(v) for v in g[name]] if name == "scale" else [int(v) for v in g[name]]
    return nf.num(values[0]) if axis == "tensor" else nf.vector(values)


def _check_requant(g: dict[str, Any]) -> None:
    _check_bounds(REQUANT, g)
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


def _rq(g, **change) -> dict[str, Any]:
    return _requant_parts({**g, **change})


def _rq_q32(variant: str, g: dict[str, Any]) -> Any:
    return round_away(_rq(g)["M0"] * 2**32)


def _rq_unnormalised(variant: str, g: dict[str, Any]) -> Any:
    r = _rq(g)
    return round_away(r["M"] * 2**31) if r["n"] else None


def _rq_shift_one_less(variant: str, g: dict[str, Any]) -> Any:
    return _rq(g)["n"] - 1


def _rq_zero_forgotten(variant: str, g: dict[str, Any]) -> Any:
    if not int(g["z_out"]):
        return None
    r = _rq(g)
    wrong = clamp(r["raw"] - int(g["z_out"]), int(g["quant_min"]), int(g["quant_max"]))
    return None if wrong == r["q_out"] else wrong


# ---- registration (read by exgen/topics/quantization/__init__.py) --------------------------------------------------

VARIANTS = (GIVEN_SCALE, ABSMAX_INT8, AFFINE_CHANNEL, REQUANT)
SOLVERS = {"given_scale": _solve_given_scale, "absmax_int8": _solve_absmax, "affine_channel": _solve_affine,
           "requant": _solve_requant}
SAMPLERS = {"given_scale": _sample_given_scale, "absmax_int8": _sample_absmax, "affine_channel": _sample_affine,
            "requant": _sample_requant}

PATHS = (
    *(StudentPath("float_arithmetic", part, "Float arithmetic (round half to even, as Python's round and numpy's "
                  "rint do), each answer rounded as asked.", ("given_scale",), _float_given_scale(part))
      for part in ("q", "fake_quant", "error")),
    *(StudentPath("factor_carried_to_6_figures", part, "Float arithmetic with the multiplier (or scale) carried "
                  "to 6 significant figures, each answer rounded as asked.", ("absmax_int8",), _absmax_float(part))
      for part in ("q", "reconstruction", "error")),
    *(StudentPath("channel_scale_carried_to_6_figures", part, "Float arithmetic with S carried to 6 significant figures, "
                  "each answer rounded as asked.", ("affine_channel",), _affine_float(part))
      for part in ("zero_points", "q", "reconstruction", "error")),
    StudentPath("error_matrix_of_rounded_reconstruction", "error", "The error matrix from the reconstruction as "
                "reported (rounded to the asked decimals).", ("absmax_int8", "affine_channel"), _error_from_rounded),
    StudentPath("one_step_rounding", "q_out", "q_out = Z_out + round(acc·M) with M from the scales in floats, "
                "rounded once (gemmlowp rounds twice, in integers).", ("requant",), _requant_float("q_out")),
)

MISTAKES = (
    Mistake("ties_away_from_zero", "q", "A half was rounded away from zero; PyTorch rounds halves to the even "
            "integer (2.5 → 2, 3.5 → 4).", ("given_scale",), _gs_mistake(_half_away)),
    Mistake("clamp_forgotten", "q", "round(r/S) + Z was not clamped to [quant_min, quant_max].", ("given_scale",),
            _gs_mistake(_unclamped)),
    Mistake("zero_point_subtracted", "q", "The zero point was subtracted; q = round(r/S) + Z adds it.",
            ("given_scale",), _gs_mistake(_zero_subtracted)),
    Mistake("zero_point_kept", "fake_quant", "The fake-quantized value is S·(q − Z): the zero point must be "
            "subtracted before scaling.", ("given_scale",), _gs_mistake(_zero_kept)),
    Mistake("error_sign_flipped", "error", "The error matrix is X − X̂, not X̂ − X.", ("given_scale",),
            _gs_mistake(_error_flipped)),
    Mistake("full_range_factor", "factor", "2^(b−1) (128 for int8) was used instead of q_max = 2^(b−1) − 1 "
            "(127) in the factor.", ("absmax_int8",), _ab_other_convention),
    Mistake("max_not_absolute", "absmax", "The largest entry was taken instead of the largest absolute value.",
            ("absmax_int8",), _ab_signed_max),
    Mistake("per_tensor_for_per_channel", "factor", "One factor for the whole matrix; the question asks one per "
            "channel.", ("absmax_int8",), _ab_per_tensor),
    Mistake("multiplied_back", "reconstruction", "The reconstruction applied the factor the same way again "
            "(q·c instead of q/c, or q/S instead of S·q).", ("absmax_int8",), _ab_multiplied_back),
    Mistake("unrounded_factor", "reconstruction", "The question rounds the factor first and uses the rounded "
            "factor from then on.", ("absmax_int8",), _ab_unrounded_factor),
    Mistake("channel_levels_2_to_the_b", "scales", "The scale divides by 2^b; there are 2^b − 1 steps between q_min and "
            "q_max.", ("affine_channel",), _af_levels),
    Mistake("channel_unsigned_range_for_signed", "zero_points", "The unsigned range [0, 2^b − 1] was used for a signed "
            "type.", ("affine_channel",), _af_unsigned),
    Mistake("channel_zero_points_rounded_other_way", "zero_points", "The zero points were rounded to the other "
            "neighbouring integer.", ("affine_channel",), _af_other_way),
    Mistake("per_tensor_range", "scales", "The whole matrix's range was used for every channel.",
            ("affine_channel",), _af_tensor_range),
    Mistake("unrounded_scale", "reconstruction", "The question rounds S first and uses the rounded S from then "
            "on.", ("affine_channel",), _af_unrounded),
    Mistake("q31_as_2_to_the_32", "q31", "Q31 has 31 fractional bits: M0·2^31, not M0·2^32.", ("requant",),
            _rq_q32),
    Mistake("unnormalised_multiplier", "q31", "M itself was written in Q31; M is first scaled into [0.5, 1) by "
            "2^n.", ("requant",), _rq_unnormalised),
    Mistake("shift_one_short", "n", "One doubling too few: M0 must lie in [0.5, 1).", ("requant",),
            _rq_shift_one_less),
    Mistake("zero_point_forgotten", "q_out", "The output zero point Z_out is added after the multiplication.",
            ("requant",), _rq_zero_forgotten),
)
