"""Linear quantization of a matrix: affine (min–max), symmetric absmax, per-tensor vs per-channel, storage;
k-means quantization (weight sharing) lives in kmeans.py.

Formulas (seed 003, "Model efficiency", Linear Quantization slides; seed 000 for absmax):
    r = S (q − Z)                          the affine map between real r and integer q
    S = (r_max − r_min) / (q_max − q_min)  Z = round(q_min − r_min / S)
    q = clamp(round(r / S) + Z, q_min, q_max)
    absmax (Z = 0): S = |r|_max / q_max  ("qmax" convention, PyTorch/LLM.int8: 127 for int8)
                or  S = −|r|_max / q_min = |r|_max / 2^(b−1)  ("qmin" convention, seeds 000/003), clamped.
The solver works in exact rational arithmetic (the givens are short decimals, written as integers over their
common denominator), so every rounding decision is exact; ties round half away from zero, and the question says
so.  The sampler keeps every value to be rounded at least TIE_MARGIN from a .5 boundary (redrawing the offending
entry), so neither a calculator, a student carrying 6 significant figures of S, nor torch's float32 kernels can
land on the other side; and it keeps only instances where each StudentPath (rounded earlier answers, a 6-figure
scale) lands in tolerance.
Hard adds a step: an absmax clipping threshold c (S from c, the outliers clamp), channels along the columns, or
zero points and unquantized parameters in storage.  Decisions: docs/decisions/quantization.md.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Iterable

from exgen import numfmt as nf
from exgen.givens import coerce
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.quantization import _fast
from exgen.topics.quantization._fast import fr
from exgen.topics.quantization import libraries as ext  # issue 17's variants (libraries.py)
from exgen.topics.base import Given, InvalidGivens, Mistake, Rejected, StudentPath, Topic, Variant
from exgen.topics.quantization import kmeans

TIE_MARGIN = Fraction(1, 20)
ERROR_METRICS = ("max_abs", "frobenius", "mse")
BYTES_PER_GB = 10**9
BYTES_PER_GIB = 2**30


# ---- integer ranges and rounding -------------------------------------------------------------------


def int_range(bits: int, signed: bool) -> tuple[int, int]:
    """[q_min, q_max] of a b-bit integer: signed is two's complement."""
    return (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)


def round_half_away(x: Fraction | float) -> int:
    """Round to nearest, ties away from zero (the hand convention, stated in every question)."""
    if isinstance(x, float):
        n = math.floor(abs(x) + 0.5)
    else:  # floor(|p/q| + 1/2) in integers: Fraction arithmetic dominates sampling time otherwise
        n = (2 * abs(x.numerator) + x.denominator) // (2 * x.denominator)
    return n if x >= 0 else -n


def near_tie(x: Fraction) -> bool:
    """Whether x lies within TIE_MARGIN of a .5 boundary: |frac(x) − 1/2| < m, in integers."""
    p, q = x.numerator, x.denominator
    m = TIE_MARGIN
    return abs(2 * m.denominator * (p % q) - m.denominator * q) < 2 * m.numerator * q


def clamp(q: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, q))


def flat(m: list[list[Any]]) -> list[Any]:
    return [v for row in m for v in row]


METRIC_TEX = {
    "max_abs": r"\max_{ij} |X_{ij} - \hat X_{ij}|",
    "frobenius": r"\lVert X - \hat X \rVert_F = \sqrt{\textstyle\sum_{ij} (X_{ij} - \hat X_{ij})^2}",
    "mse": r"\frac{1}{mn} \sum_{ij} (X_{ij} - \hat X_{ij})^2",
}


# ---- givens ----------------------------------------------------------------------------------------

# Bounds keep every computation small and every answer finite: at most 64 entries of magnitude at most 10^6
# (so S, every r/S and every error is a finite float), a handful of decimals, and storage sizes a verifier can
# build a block of (group ≤ 65536 weights) for a model of at most 10^15 parameters.
MAX_ENTRIES = 64
_X = Given("X", "the real matrix to quantize (rows separated by ';', entries by ',')", "matrix",
           low=-1e6, high=1e6, max_size=MAX_ENTRIES)
_DECIMALS = Given("decimals", "decimal places asked for in the reconstruction", "integer", default=2, low=0, high=8)
_BITS = Given("bits", "bit width b of the integers", "integer", choices=("2", "3", "4", "8"), low=2, high=8)
_SIGNED = Given("signed", "integer type: signed (two's complement) or unsigned", "choice",
                choices=("signed", "unsigned"))
_METRIC = Given("metric", "error metric to report", "choice", choices=ERROR_METRICS)
_CONVENTION = Given("convention", "absmax scale: |r|max/qmax, or -|r|max/qmin with clamping", "choice",
                    choices=("qmax", "qmin"))

VARIANTS = (
    Variant("affine", "asymmetric min-max quantization: scale, zero point, integers, reconstruction, error",
            (_X, _BITS, _SIGNED, _METRIC, _DECIMALS,
             Given("calibration", "a calibrated range 'r_min, r_max' used instead of X's own extremes (omit: X's "
                   "own)", "vector", default=[], low=-1e6, high=1e6, max_size=2))),
    Variant("absmax", "symmetric absmax quantization (zero point 0) under a stated scale convention",
            (_X, _BITS, _CONVENTION, _METRIC, _DECIMALS,
             Given("clip", "clipping threshold c used in place of |r|max in the scale (0: no clipping)", "number",
                   default=0, low=0, high=1e6))),
    Variant("per_channel", "absmax per tensor vs per channel (rows, or columns): scales, integers, Frobenius "
            "errors and their ratio", (_X, _BITS, Given("axis", "the channels: rows (one scale per row) or columns "
                                                        "(one per column)", "choice", choices=("rows", "columns"),
                                                        default="rows"))),
    Variant("storage", "storage of a model's weights at a given bit width with per-group fp16 scales", (
        Given("params", "number of parameters", "number", low=1, high=1e15),
        Given("source_bits", "bits per parameter before quantization (16 for fp16/bf16, 32 for fp32)",
              "integer", choices=("16", "32"), low=16, high=32),
        Given("bits", "bits per quantized weight", "integer", choices=("2", "3", "4", "8"), low=2, high=8),
        Given("group", "weights sharing one 16-bit scale", "integer", low=1, high=65536),
        Given("zero_points", "per-group zero points: none (symmetric), or one b-bit integer per group "
              "(asymmetric)", "choice", choices=("none", "b-bit"), default="none"),
        Given("kept_params", "parameters kept at the source precision (embeddings, norms), not quantized",
              "number", default=0, low=0, high=1e15),
    )),
    kmeans.VARIANT,
)


def _check(variant: str, g: dict[str, Any]) -> None:
    """Validate a user's givens with a message a TA can act on (the declared bounds included, so a solver
    called directly is as safe as `exgen solve`)."""
    spec = next(v for v in VARIANTS if v.name == variant)
    spec.require(g)
    for given in spec.givens:
        if given.name in g and given.kind != "choice" and not _fast.plainly_valid(given, g[given.name]):
            coerce(given, g[given.name])
    if variant == "kmeans":
        return
    if variant == "storage":
        if g["kept_params"] > g["params"]:
            raise InvalidGivens("kept_params cannot exceed params")
        return
    x = g["X"]
    if not x or any(len(row) != len(x[0]) or not row for row in x):
        raise InvalidGivens("X must be a non-empty rectangular matrix")
    if min(flat(x)) == max(flat(x)):
        raise InvalidGivens("X has all entries equal: its range is zero and the scale undefined")
    calibration = g.get("calibration") or []
    if calibration and (len(calibration) != 2 or not calibration[0] < calibration[1]):
        raise InvalidGivens("calibration must be two numbers 'r_min, r_max' with r_min < r_max")
    if variant == "per_channel":
        columns = g.get("axis", "rows") == "columns"
        if any(max(abs(v) for v in row) == 0 for row in (_transpose(x) if columns else x)):
            raise InvalidGivens(f"a {'column' if columns else 'row'} of X is all zeros: its scale is undefined")


# ---- solvers ---------------------------------------------------------------------------------------


def _range_step(bits: int, signed: bool) -> Step:
    qmin, qmax = int_range(bits, signed)
    kind = "signed" if signed else "unsigned"
    return Step(f"A {bits}-bit {kind} integer takes values $q_{{\\min}} = {qmin}$ to $q_{{\\max}} = {qmax}$.")


def _terms(metric: str, diffs: list[float]) -> str:
    """The error with the error matrix's numbers substituted: the largest |entry|, or the sum of squares, from the
    entries of X − X̂ (floats of the exact values, row by row)."""
    if metric == "max_abs":
        return rf"\left|{nf.sig(max(diffs, key=abs), 6)}\right|"
    squares = nf.sig(sum(d * d for d in diffs), 6)
    return rf"\sqrt{{{squares}}}" if metric == "frobenius" else rf"\frac{{{squares}}}{{{len(diffs)}}}"


def _error_step(metric: str, value: float, diffs: list[float]) -> Step:
    where = "the largest entry of $X - \\hat X$ in magnitude" if metric == "max_abs" else \
        "the squares of the entries of $X - \\hat X$ summed"
    return Step(f"Error of the reconstruction, from {where}:",
                f"{METRIC_TEX[metric]} = {_terms(metric, diffs)} = {nf.sig(value, 6)}")


# ---- the computations in integers: X = A/D over the common denominator of its decimals, S = sn/sd ----------
# Every rounding decision and every key is the exact rational value (a float of it is the int quotient, which
# Python rounds correctly, as float(Fraction) does); a sampled instance is solved once, and its mistakes and
# paths read the cached result (issue 12).


def _ints(g: dict[str, Any], extra: tuple = ()) -> tuple[int, tuple[tuple[int, ...], ...], tuple[int, ...]]:
    """(D, A, E): X = A/D, and the `extra` values (a calibration, a clip) over the same D."""
    xkey = tuple(map(tuple, g["X"]))
    if extra:
        d, rows = _fast.scaled(xkey + (tuple(extra),))
        return d, rows[:-1], rows[-1]
    d, rows = _fast.scaled(xkey)
    return d, rows, ()


@_fast.memo(16)
def _grid(d: int, a: tuple, sn: int, sd: int, zero: int, qmin: int, qmax: int) -> dict[str, Any]:
    """q = clamp(round(r/S) + Z) (halves away from zero) for r = A/D, S = sn/sd; the reconstruction
    X̂ = S (q − Z) and X − X̂ = diff/E (E = D·sd) exactly, with the floats the key and the steps show."""
    ratio, raw, q, xhat, diffs, nums = [], [], [], [], [], []
    e = d * sd
    for row in a:
        ra_row, rw_row, q_row, xh_row, df_row = [], [], [], [], []
        for v in row:
            num, den = v * sd, d * sn  # r/S
            rv = _fast.round_away(num, den) + zero
            qv = qmin if rv < qmin else qmax if rv > qmax else rv
            diff = v * sd - sn * (qv - zero) * d
            ra_row.append((num + zero * den) / den)
            rw_row.append(rv)
            q_row.append(qv)
            xh_row.append(sn * (qv - zero) / sd)
            df_row.append(diff / e)
            nums.append(diff)
        ratio.append(ra_row)
        raw.append(rw_row)
        q.append(q_row)
        xhat.append(xh_row)
        diffs.append(df_row)
    return {"ratio": ratio, "raw": raw, "q": q, "xhat": xhat, "diff": diffs, "nums": nums, "e": e}


def _affine_ints(g: dict[str, Any], levels: int | None = None, signed: bool | None = None,
                 own_range: bool = False) -> tuple[int, tuple, int, int, int, int, int, int, int]:
    """(D, A, r_min·D, r_max·D, sn, sd, zn, zd, Z): S = sn/sd, Z before rounding = zn/zd, exactly."""
    calibration = () if own_range else tuple(g.get("calibration") or ())
    qmin, qmax = int_range(int(g["bits"]), (g["signed"] == "signed") if signed is None else signed)
    return _affine_core(tuple(map(tuple, g["X"])), calibration, qmin, qmax, levels)


@_fast.memo(16)
def _affine_core(xkey: tuple, calibration: tuple, qmin: int, qmax: int, levels: int | None):
    if calibration:
        d, rows = _fast.scaled(xkey + (calibration,))
        a, (rmin, rmax) = rows[:-1], rows[-1]
    else:
        d, a = _fast.scaled(xkey)
        rmin, rmax = min(v for row in a for v in row), max(v for row in a for v in row)
    sn, sd = rmax - rmin, d * (levels if levels is not None else qmax - qmin)
    zn, zd = qmin * d * sn - rmin * sd, d * sn  # q_min − r_min/S
    z = _fast.round_away(zn, zd)
    return d, a, rmin, rmax, sn, sd, zn, zd, qmin if z < qmin else qmax if z > qmax else z


def _absmax_ints(g: dict[str, Any], convention: str | None = None,
                 clip: bool = True) -> tuple[int, tuple, int, int, int]:
    """(D, A, |r|max·D or c·D, sn, sd): the absmax scale S = sn/sd from the clipping threshold if one is given."""
    c = g.get("clip", 0) if clip else 0
    d, a, extra = _ints(g, (c,) if c else ())
    amax = extra[0] if c else max(abs(v) for row in a for v in row)
    bits = int(g["bits"])
    divisor = 2 ** (bits - 1) - 1 if (convention or g["convention"]) == "qmax" else 2 ** (bits - 1)
    return d, a, amax, amax, d * divisor


def _working_steps(grid: dict[str, Any], sn: int, sd: int, zero: int, dec: int) -> list[Step]:
    """r/S (+ Z), the rounded and clamped integers with clamped entries boxed, the reconstruction and the error
    matrix — the working a student is expected to show (issue 11)."""
    raw, q = grid["raw"], grid["q"]
    scale = sn / sd
    shift = f" {'+' if zero >= 0 else '-'} {abs(zero)}" if zero else ""
    clamped = raw != q
    marked = [[rf"\boxed{{{b}}}" if a != b else str(b) for a, b in zip(ra, rb)] for ra, rb in zip(raw, q)]
    ratios = rf"r/S{shift} = " + _fast.fixed_matrix(grid["ratio"], 3)
    rounded = "q = " + _fast.text_matrix(marked)
    substituted = rf"{nf.sig(scale, 6)} \times (q {'+' if zero < 0 else '-'} {abs(zero)})" if zero else \
        rf"{nf.sig(scale, 6)}\,q"
    recon = rf"\hat X = {substituted} = " + _fast.fixed_matrix(grid["xhat"], dec)
    diff = r"X - \hat X = " + _fast.fixed_matrix(grid["diff"], dec + 2)
    clamp_note = " (boxed entries were clamped)" if clamped else "; no entry needs clamping"
    divide = f"Divide by the scale{', add the zero point' if zero else ''}, then round (halves away from zero) " \
        f"and clamp to $[q_{{\\min}}, q_{{\\max}}]${clamp_note}:"
    label = r"Reconstruction $\hat X = S\,(q - Z)$" if zero else r"Reconstruction $\hat X = S\,q$"
    # Pairs of matrices share a display: a solution is one frame in LaTeX, and a display wider than the line is
    # scaled down to fit (the document's \exgendisplay), while a taller solution would run past the page.
    return [Step(divide, rf"{ratios} \;\to\; {rounded}"),
            Step(f"{label}, and the error matrix $X - \\hat X$ from the unrounded reconstruction:",
                 rf"{recon}, \quad {diff}")]


def _error_answer(value: float) -> Answer:
    """An error to 3 significant figures; an exact reconstruction (error 0, only in a user's own instance) to
    6 decimals, since a key of 0 has no significant figures."""
    return Answer("number", value, sig=3) if value else Answer("number", 0.0, decimals=6)


def _solve_affine(g: dict[str, Any]) -> Solution:
    bits, signed, metric = int(g["bits"]), g["signed"] == "signed", g["metric"]
    qmin, qmax = int_range(bits, signed)
    calibration = bool(g.get("calibration"))
    d, a, rmin, rmax, sn, sd, zn, zd, zero = _affine_ints(g)
    dec = int(g["decimals"])
    grid = _grid(d, a, sn, sd, zero, qmin, qmax)
    err = _fast.error_of(grid["nums"], grid["e"], metric)

    def steps() -> tuple[Step, ...]:
        lo, hi, scale = nf.num(rmin / d), nf.num(rmax / d), nf.sig(sn / sd, 6)
        return (
            _range_step(bits, signed),
            Step(("The calibrated range (not the extremes of $X$)" if calibration else "The range of $X$")
                 + f": $r_{{\\min}} = {lo}$, $r_{{\\max}} = {hi}$."),
            Step("Scale:", rf"S = \frac{{r_{{\max}} - r_{{\min}}}}{{q_{{\max}} - q_{{\min}}}} = "
                 rf"\frac{{{hi} - {nf.signed(lo)}}}{{{qmax} - {nf.signed(str(qmin))}}}"
                 rf" = {scale}"),
            Step("Zero point (rounded to the nearest integer):",
                 rf"Z = \operatorname{{round}}\left(q_{{\min}} - \frac{{r_{{\min}}}}{{S}}\right) = "
                 rf"\operatorname{{round}}\left({qmin} - \frac{{{lo}}}{{{scale}}}\right) = "
                 rf"\operatorname{{round}}({nf.sig(zn / zd, 6)}) = {zero}"),
            *_working_steps(grid, sn, sd, zero, dec),
            _error_step(metric, err, [v for row in grid["diff"] for v in row]),
        )
    METRIC_TEX[metric]  # an unknown metric is refused here, as when the steps were built eagerly
    parts = (
        Part("scale", "scale S", Answer("number", sn / sd, sig=4)),
        Part("zero_point", "zero point Z", Answer("integer", zero)),
        Part("q", "integer matrix q", Answer("matrix", [list(r) for r in grid["q"]])),
        Part("reconstruction", "reconstructed matrix", Answer("matrix", [list(r) for r in grid["xhat"]],
                                                              decimals=dec)),
        Part("error", "quantization error", _error_answer(err)),
    )
    return Solution(parts, steps)


def _solve_absmax(g: dict[str, Any]) -> Solution:
    bits, convention, metric = int(g["bits"]), g["convention"], g["metric"]
    clip = g.get("clip", 0)
    qmin, qmax = int_range(bits, True)
    d, a, amax, sn, sd = _absmax_ints(g)
    dec = int(g["decimals"])
    grid = _grid(d, a, sn, sd, 0, qmin, qmax)
    err = _fast.error_of(grid["nums"], grid["e"], metric)

    def steps() -> tuple[Step, ...]:
        top = nf.num(amax / d)
        name = "c" if clip else r"|r|_{\max}"
        formula = (rf"S = \frac{{{name}}}{{q_{{\max}}}} = \frac{{{top}}}{{{qmax}}}" if convention == "qmax"
                   else rf"S = \frac{{-{name}}}{{q_{{\min}}}} = \frac{{{top}}}{{{-qmin}}}")
        return (
            _range_step(bits, True),
            Step("Scale (symmetric, so $Z = 0$" + (", clipped at $c$ instead of $|r|_{\\max}$" if clip else "")
                 + "):", f"{formula} = {nf.sig(sn / sd, 6)}"),
            *_working_steps(grid, sn, sd, 0, dec),
            _error_step(metric, err, [v for row in grid["diff"] for v in row]),
        )
    METRIC_TEX[metric]  # an unknown metric is refused here, as when the steps were built eagerly
    parts = (
        Part("scale", "scale S", Answer("number", sn / sd, sig=4)),
        Part("q", "integer matrix q", Answer("matrix", [list(r) for r in grid["q"]])),
        Part("reconstruction", "reconstructed matrix", Answer("matrix", [list(r) for r in grid["xhat"]],
                                                              decimals=dec)),
        Part("error", "quantization error", _error_answer(err)),
    )
    return Solution(parts, steps)


def _transpose(m: list[list[Any]]) -> list[list[Any]]:
    return [list(col) for col in zip(*m)]


def _solve_per_channel(g: dict[str, Any]) -> Solution:
    """Per-channel quantization is computed row by row; channels along columns transpose X first and back."""
    columns = g.get("axis", "rows") == "columns"
    bits = int(g["bits"])
    d, a, _ = _ints(g)
    a = tuple(zip(*a)) if columns else a
    qmin, qmax = int_range(bits, True)
    amax = max(abs(v) for row in a for v in row)
    row_max = [max(abs(v) for v in row) for row in a]
    sd = d * qmax  # every scale is (max |x|)/q_max: sn/sd with sn = max |x|·D
    tensor = _grid(d, a, amax, sd, 0, qmin, qmax)
    rows = [_grid(d, (row,), m, sd, 0, qmin, qmax) for row, m in zip(a, row_max)]
    q_tensor, q_rows = tensor["q"], [r["q"][0] for r in rows]
    xhat_tensor, xhat_rows = tensor["xhat"], [r["xhat"][0] for r in rows]
    diff_tensor, diff_rows = tensor["diff"], [r["diff"][0] for r in rows]
    e_tensor = _fast.error_of(tensor["nums"], tensor["e"], "frobenius")
    e_rows = _fast.error_of([v for r in rows for v in r["nums"]], tensor["e"], "frobenius")
    if columns:
        q_tensor, q_rows = _transpose(q_tensor), _transpose(q_rows)
        xhat_tensor, xhat_rows = _transpose(xhat_tensor), _transpose(xhat_rows)
        diff_tensor, diff_rows = _transpose(diff_tensor), _transpose(diff_rows)
    if e_tensor == 0:
        raise InvalidGivens("the per-tensor reconstruction is exact: there is no error to compare")
    ratio = e_rows / e_tensor
    s_tensor, s_rows = amax / sd, [m / sd for m in row_max]

    def steps() -> tuple[Step, ...]:
        st = nf.sig(s_tensor, 6)
        diag = r"\operatorname{diag}(" + ", ".join(nf.sig(v, 6) for v in s_rows) + ")"
        recon_t = rf"\hat X_{{\text{{tensor}}}} = {st}\,q = " + _fast.fixed_matrix(xhat_tensor, 4)
        recon_c = (r"\hat X_{\text{channel}} = " + (rf"q\,{diag}" if columns else rf"{diag}\,q") + " = "
                   + _fast.fixed_matrix(xhat_rows, 4))
        maxes = nf.vector([m / d for m in row_max], lambda v: nf.num(float(v)))  # each channel's max |X|
        scales = rf"S = \frac{{{maxes}}}{{{qmax}}} = " + nf.vector(s_rows, lambda v: nf.sig(v, 6))
        q_t = rf"q = \operatorname{{clamp}}(\operatorname{{round}}(X / {st})) = " + _fast.text_matrix(q_tensor)
        q_c = (r"q = \operatorname{clamp}(\operatorname{round}("
               + (rf"X\,{diag}^{{-1}}" if columns else rf"{diag}^{{-1}} X") + ")) = " + _fast.text_matrix(q_rows))
        per_channel = (r"Per channel, one scale per column $S_j = \max_i |X_{ij}| / q_{\max}$" if columns else
                       r"Per channel, one scale per row $S_i = \max_j |X_{ij}| / q_{\max}$")
        per_tensor = (r"Per tensor: one scale, $q = \operatorname{clamp}(\operatorname{round}(X/S))$ and "
                      r"$\hat X_{\text{tensor}} = S\,q$:")
        working = [Step(per_tensor, rf"S = \frac{{|r|_{{\max}}}}{{q_{{\max}}}} = \frac{{{nf.num(amax / d)}}}{{{qmax}}}"
                        rf" = {st},\quad " + q_t + r",\quad " + recon_t),
                   Step(per_channel + ":", scales),
                   Step("Each " + ("column" if columns else "row") + r" of $\hat X_{\text{channel}}$ is its scale "
                        "times its integers:", q_c + r",\quad " + recon_c)]
        terms_t = _terms("frobenius", [v for row in diff_tensor for v in row])
        terms_c = _terms("frobenius", [v for row in diff_rows for v in row])
        return (
            _range_step(bits, True),
            *working,
            Step("Frobenius errors of the reconstructions, and their ratio:",
                 rf"e_{{\text{{tensor}}}} = {terms_t} = {nf.sig(e_tensor, 6)},\quad "
                 rf"e_{{\text{{channel}}}} = {terms_c} = {nf.sig(e_rows, 6)},"
                 rf"\quad \frac{{e_{{\text{{channel}}}}}}{{e_{{\text{{tensor}}}}}} = "
                 rf"\frac{{{nf.sig(e_rows, 6)}}}{{{nf.sig(e_tensor, 6)}}} = {nf.sig(ratio, 4)}"),
        )
    parts = (
        Part("scale_tensor", "per-tensor scale", Answer("number", s_tensor, sig=4)),
        Part("scale_rows", "per-channel scales", Answer("vector", list(s_rows), sig=4)),
        Part("q_tensor", "per-tensor integers", Answer("matrix", [list(r) for r in q_tensor])),
        Part("q_rows", "per-channel integers", Answer("matrix", [list(r) for r in q_rows])),
        Part("error_tensor", "per-tensor Frobenius error", _error_answer(e_tensor)),
        Part("error_rows", "per-channel Frobenius error", _error_answer(e_rows)),
        Part("error_ratio", "per-channel error / per-tensor error",
             Answer("number", ratio, sig=2) if ratio else Answer("number", 0.0, decimals=2)),
    )
    return Solution(parts, steps)


@_fast.memo(16)
def _storage_core(params: Any, src: int, bits: int, group: int, zeros: str, kept: Any) -> dict[str, int]:
    """The sizes in integers: with D the common denominator of params and kept (P = params·D, K = kept·D),
    every size in bytes is its value here over 8·D, exactly."""
    p, k = fr(params), fr(kept)
    d = math.lcm(p.denominator, k.denominator)
    big_p, big_k = p.numerator * (d // p.denominator), k.numerator * (d // k.denominator)
    quantized = big_p - big_k
    groups = -(-quantized // (d * group))  # ceil((p − k)/group)
    per_group = 16 + (bits if zeros == "b-bit" else 0)  # eighths of a byte: a 2-byte scale (+ a b-bit zero)
    return {"d": d, "p": big_p, "k": big_k, "groups": groups, "before": big_p * src,
            "after": quantized * bits + groups * per_group * d + big_k * src,
            "without_overhead": quantized * bits + big_k * src}


def _storage_sizes(g: dict[str, Any]) -> dict[str, int]:
    return _storage_core(g["params"], int(g["source_bits"]), int(g["bits"]), int(g["group"]), g["zero_points"],
                         g["kept_params"])


def _solve_storage(g: dict[str, Any]) -> Solution:
    src, bits, group = int(g["source_bits"]), int(g["bits"]), int(g["group"])
    zeros = g["zero_points"]
    sizes = _storage_sizes(g)
    d, e = sizes["d"], 8 * sizes["d"]  # sizes in bytes are over e
    before_n, after_n = sizes["before"], sizes["after"]

    def steps() -> tuple[Step, ...]:
        p, k, groups = sizes["p"] / d, sizes["k"], sizes["groups"]
        before, after, ratio = before_n / e, after_n / e, before_n / after_n
        kept = k / d
        quantized = nf.sig((sizes["p"] - k) / d, 6)
        gb = lambda n: nf.sig(n / (e * BYTES_PER_GB), 6)  # noqa: E731
        per_group = "a 2-byte scale" + (f" and a {bits}-bit (${nf.num(bits / 8)}$-byte) zero point"
                                        if zeros == "b-bit" else "")
        group_bytes = "2" if zeros == "none" else rf"\left(2 + {nf.num(bits / 8)}\right)"
        out = [Step(f"Before: {src} bits = {src // 8} bytes per parameter:",
                    rf"{nf.sig(p, 6)} \times {src // 8}\ \text{{B}} = {nf.sig(before, 6)}\ \text{{B}} = "
                    rf"{gb(before_n)}\ \text{{GB}}")]
        if k:
            out.append(Step(f"Kept at {src} bits: ${nf.sig(kept, 6)}$ parameters, "
                            f"${nf.sig(kept, 6)} \\times {src // 8} = {nf.sig(k * src / e, 6)}$ B; quantized: "
                            f"${nf.sig(p, 6)} - {nf.sig(kept, 6)} = {quantized}$ weights."))
        out += [
            Step(f"Groups of {group} quantized weights (a partial group still has its own scale):",
                 rf"\left\lceil \frac{{{quantized}}}{{{group}}} \right\rceil = {nf.sig(groups, 9)}"),
            Step(f"After: {bits} bits per weight is ${nf.num(bits / 8)}$ B, plus {per_group} per group"
                 + (", plus the kept parameters" if k else "") + ":",
                 rf"{quantized} \times {nf.num(bits / 8)} + {nf.sig(groups, 9)} \times {group_bytes}"
                 + (rf" + {nf.sig(k * src / e, 6)}" if k else "")
                 + rf" = {nf.sig(after, 6)}\ \text{{B}}"),
            Step(f"In GB ($10^9$ bytes): ${nf.sig(after, 6)} / 10^9 = {gb(after_n)}$ GB."),
            Step("Compression ratio of the unrounded sizes:",
                 rf"\frac{{{gb(before_n)}}}{{{gb(after_n)}}} = {nf.sig(ratio, 4)}"),
        ]
        return tuple(out)
    parts = (
        Part("before", "size before", Answer("number", before_n / (e * BYTES_PER_GB), unit="GB", sig=3)),
        Part("after", "size after", Answer("number", after_n / (e * BYTES_PER_GB), unit="GB", sig=3)),
        Part("ratio", "compression ratio", Answer("number", before_n / after_n, sig=3)),
    )
    return Solution(parts, steps)


_SOLVERS = {"affine": _solve_affine, "absmax": _solve_absmax, "per_channel": _solve_per_channel,
            "storage": _solve_storage, "kmeans": kmeans.solve}


def solve(variant: str, givens: dict[str, Any]) -> Solution:
    if variant in ext.SOLVERS:  # issue 17's variants live in libraries.py
        return ext.SOLVERS[variant](givens)
    _check(variant, givens)
    return _SOLVERS[variant](givens)


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


def _sample_storage(rng: Rng, difficulty: str) -> dict[str, Any]:
    """Continuous model sizes (1.00 to 99.99 billion at easy, on a 0.01-billion grid), every bit width, group
    sizes from 16 to 1024; medium adds per-group zero points; hard also keeps some parameters unquantized."""
    easy = difficulty == "easy"
    params = rng.decimal(1, 99.99, 2) if easy else rng.decimal(0.5, 199.99, 2)
    g = {"params": float(params * 10**9), "source_bits": rng.choice((16, 32)), "bits": rng.choice((2, 3, 4, 8)),
         "group": rng.choice((32, 64, 128, 256) if easy else (16, 32, 64, 128, 256, 512, 1024)),
         "zero_points": "none" if easy else rng.choice(("none", "b-bit")), "kept_params": 0}
    if difficulty == "hard":
        g["kept_params"] = float(rng.decimal(0.01, float(params) / 5, 2) * 10**9)
    return g


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


# ---- student paths: correct ways from what the page shows ------------------------------------------


def _at_precision(answer: Answer, value: float) -> float:
    """A value rounded the way the question asks the student to report it."""
    if answer.sig is not None and value:
        return nf.round_sig(value, answer.sig)
    return round(value, answer.decimals if answer.decimals is not None else 12)


def _calculator(variant: str, g: dict[str, Any]) -> dict[str, Any]:
    return _calculator_cached(variant, tuple(map(tuple, g["X"])), g["bits"], g.get("signed"), g.get("convention"),
                              tuple(g.get("calibration") or ()), g.get("clip", 0), g.get("axis", "rows"),
                              g.get("metric"))


@_fast.memo(16)
def _calculator_cached(variant: str, xkey: tuple, bits: Any, signed: Any, convention: Any, calibration: tuple,
                       clip: Any, axis: str, metric: Any) -> dict[str, Any]:
    """The whole computation in floats with the scale carried to 6 significant figures (the question's
    carrying rule), each answer rounded as asked: what a student with a calculator writes.  Keyed on the
    givens it reads."""
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
        s_t = nf.round_sig(max(abs(v) for v in values) / qmax, 6)
        s_r = [nf.round_sig(max(abs(v) for v in row) / qmax, 6) for row in x]
        q_t, q_r = integers(x, [s_t] * len(x), 0), integers(x, s_r, 0)
        e_t, e_r = err(q_t, [s_t] * len(x), 0, "frobenius"), err(q_r, s_r, 0, "frobenius")
        if axis == "columns":
            q_t, q_r = _transpose(q_t), _transpose(q_r)
        return {"q_tensor": q_t, "q_rows": q_r, "error_tensor": e_t, "error_rows": e_r, "error_ratio": e_r / e_t}
    if variant == "affine":
        rmin, rmax = calibration or (min(values), max(values))
        scale = nf.round_sig((rmax - rmin) / (qmax - qmin), 6)
        zero = clamp(round_half_away(qmin - rmin / scale), qmin, qmax)
    else:
        amax = float(clip) or max(abs(v) for v in values)
        scale = nf.round_sig(amax / qmax if convention == "qmax" else amax / 2 ** (bits - 1), 6)
        zero = 0
    q = integers(x, [scale] * len(x), zero)
    return {"zero_point": zero, "q": q, "reconstruction": [[scale * (v - zero) for v in row] for row in q],
            "error": err(q, [scale] * len(x), zero, metric)}


def _calculator_path(part: str):
    def value(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        got = _calculator(variant, g)[part]
        answer = solution.part(part).answer
        if answer.kind == "matrix" and answer.decimals is not None:
            return [[round(v, answer.decimals) for v in row] for row in got]
        return got if answer.kind in ("integer", "matrix") else _at_precision(answer, got)
    return value


def _error_of_rounded_reconstruction(variant: str, g: dict[str, Any], solution: Solution) -> float:
    """The error computed from the reconstruction as the student reported it (rounded to `decimals`)."""
    dec = int(g["decimals"])
    d = [float(r) - round(v, dec) for row, hrow in zip(g["X"], solution.part("reconstruction").answer.value)
         for r, v in zip(row, hrow)]
    metric = g["metric"]
    value = max(abs(e) for e in d) if metric == "max_abs" else sum(e * e for e in d) / len(d) if metric == "mse" \
        else math.sqrt(sum(e * e for e in d))
    return _at_precision(solution.part("error").answer, value)


def _from_rounded(part: str, numerator: str, denominator: str):
    """A ratio computed from the student's own rounded answers to two earlier parts."""
    def value(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
        num, den = (solution.part(p).answer for p in (numerator, denominator))
        top, bottom = _at_precision(num, num.value), _at_precision(den, den.value)
        return _at_precision(solution.part(part).answer, top / bottom) if bottom else None
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


# ---- named mistakes --------------------------------------------------------------------------------


def _zero_other_way(variant: str, g: dict[str, Any]) -> int:
    *_, zn, zd, zero = _affine_ints(g)
    return zero + 1 if zn > zero * zd else zero - 1


def _levels_2b(variant: str, g: dict[str, Any]) -> float:
    sn, sd = _affine_ints(g, levels=2 ** int(g["bits"]))[4:6]
    return sn / sd


def _unsigned_for_signed(variant: str, g: dict[str, Any]) -> int | None:
    if g["signed"] != "signed":
        return None
    return _affine_ints(g, signed=False)[8]


def _own_range_for_calibrated(variant: str, g: dict[str, Any]) -> float | None:
    if not g.get("calibration"):
        return None
    sn, sd = _affine_ints(g, own_range=True)[4:6]
    return sn / sd


def _other_convention(variant: str, g: dict[str, Any]) -> float:
    *_, sn, sd = _absmax_ints(g, convention="qmin" if g["convention"] == "qmax" else "qmax")
    return sn / sd


def _clip_ignored(variant: str, g: dict[str, Any]) -> float | None:
    if not g.get("clip"):
        return None
    *_, sn, sd = _absmax_ints(g, clip=False)
    return sn / sd


def _unclamped(variant: str, g: dict[str, Any]) -> list[list[int]] | None:
    d, a, _, sn, sd = _absmax_ints(g)
    qmin, qmax = int_range(int(g["bits"]), True)
    grid = _grid(d, a, sn, sd, 0, qmin, qmax)
    return [list(r) for r in grid["raw"]] if grid["raw"] != grid["q"] else None


def _without_group_overhead(g: dict[str, Any]) -> float:
    """The size after quantization with no per-group scale (or zero point) counted, in GB."""
    sizes = _storage_sizes(g)
    return sizes["without_overhead"] / (8 * sizes["d"] * BYTES_PER_GB)


def _storage(variant: str, g: dict[str, Any], part: str) -> float:
    """A size as the solver's key gives it, in GB (the cached sizes, not a second solve)."""
    sizes = _storage_sizes(g)
    return sizes[part] / (8 * sizes["d"] * BYTES_PER_GB)


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
            ("storage",), lambda v, g: _storage(v, g, "after") * BYTES_PER_GB / BYTES_PER_GIB),
    Mistake("bits_for_bytes", "after",
            "Bits were counted as bytes: b bits per weight is b/8 bytes.",
            ("storage",), lambda v, g: _storage(v, g, "after") * 8),
    Mistake("scales_forgotten", "after",
            "The per-group scales were left out of the size.",
            ("storage",), lambda v, g: _without_group_overhead(g)),
    *kmeans.MISTAKES,
)

VARIANTS, MISTAKES, PATHS = VARIANTS + ext.VARIANTS, MISTAKES + ext.MISTAKES, PATHS + ext.PATHS  # libraries.py
def question_values(variant: str, g: dict[str, Any], difficulty: str) -> dict[str, Any]:
    """What the question shows that follows from the givens: the codebook's last index, a packed weight's
    bytes, and the restricted range's q_max = 2^(b−1) − 1 with the unused −q_max − 1."""
    shown: dict[str, Any] = {}
    if "centroids" in g:
        shown["k"] = len(g["centroids"])
        shown["last_index"] = shown["k"] - 1
    if "bits" in g:
        shown["packed_bytes"] = g["bits"] / 8
        shown["qmax"] = 2 ** (g["bits"] - 1) - 1
        shown["unused"] = -shown["qmax"] - 1
    return shown


TOPIC = Topic(
    name="quantization",
    description="linear and k-means quantization of a matrix: scale, zero point, integers, codebook, "
                "reconstruction, error, storage",
    variants=VARIANTS,
    sample=sample,
    solve=solve,
    mistakes=MISTAKES,
    paths=PATHS,
    question_values=question_values,
)
