"""The solvers of the affine, absmax and per_channel variants: the exact computations in integers (X = A/D over
the common denominator of its decimals, S = sn/sd) and the worked steps.  Formulas: see the package docstring
(seed 003's Linear Quantization slides; seed 000 for absmax)."""

from __future__ import annotations

from typing import Any

from exgen import numfmt as nf
from exgen.problem import Answer, Part, Solution, Step
from exgen.topics.base import InvalidGivens
from exgen.topics.quantization import _fast
from exgen.topics.quantization.common import METRIC_TEX, _transpose, int_range, range_sentence


# ---- solvers ---------------------------------------------------------------------------------------


def _range_step(bits: int, signed: bool) -> Step:
    return Step(range_sentence(bits, signed))


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
# Python rounds correctly, as float(Fraction) does); a sampled instance is solved once, and its mistakes read the
# cached result only for what the key they are handed does not hold (Z before rounding, the unclamped q).


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
    ratio, plain, raw, q, xhat, diffs, nums = [], [], [], [], [], [], []
    e = d * sd
    ties = False  # an r/S exactly halfway: only custom givens (`exgen solve`) have one, the sampler refuses them
    for row in a:
        ra_row, pl_row, rw_row, q_row, xh_row, df_row = [], [], [], [], [], []
        for v in row:
            num, den = v * sd, d * sn  # r/S
            rv = _fast.round_away(num, den) + zero
            qv = qmin if rv < qmin else qmax if rv > qmax else rv
            diff = v * sd - sn * (qv - zero) * d
            ties = ties or (2 * num) % den == 0 and num % den != 0
            pl_row.append(num / den)
            ra_row.append((num + zero * den) / den)
            rw_row.append(rv)
            q_row.append(qv)
            xh_row.append(sn * (qv - zero) / sd)
            df_row.append(diff / e)
            nums.append(diff)
        ratio.append(ra_row)
        plain.append(pl_row)
        raw.append(rw_row)
        q.append(q_row)
        xhat.append(xh_row)
        diffs.append(df_row)
    return {"ratio": ratio, "plain": plain, "raw": raw, "q": q, "xhat": xhat, "diff": diffs, "nums": nums, "e": e,
            "ties": ties}


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
    if zero and grid["ties"]:  # round(r/S) + Z, as the key does: round(r/S + Z) differs where r/S is a half
        ratios = "r/S = " + _fast.fixed_matrix(grid["plain"], 3)
        divide = "Divide by the scale and round $r/S$ itself (halves away from zero; some entries are exact halves, " \
            f"where adding $Z$ first could round the other way), then add the zero point $Z = {zero}$ and clamp to " \
            f"$[q_{{\\min}}, q_{{\\max}}]${clamp_note}:"
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
                 rf"\operatorname{{round}}({nf.sig(zn / zd, 6)}) = {_fast.round_away(zn, zd)}"
                 + ("" if _fast.round_away(zn, zd) == zero else  # a range that leaves out 0 (a TA's all-positive X)
                    rf" \;\to\; Z = \operatorname{{clamp}}({_fast.round_away(zn, zd)},\ {qmin},\ {qmax}) = {zero}")),
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
