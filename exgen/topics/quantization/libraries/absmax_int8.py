"""absmax_int8: symmetric quantization to the restricted range [−q_max, q_max] as in LLM.int8(), per tensor or
vector-wise, the factor as a multiplier c = q_max/max|X| or a scale S = max|X|/q_max, optionally rounded first:
the check, the exact computation, the solver, the sampler, the float path and the mistakes."""

from __future__ import annotations

import itertools
from typing import Any

from exgen import numfmt as nf
from exgen.givens import check
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Rejected, Variant, each
from exgen.topics.quantization import _fast
from exgen.topics.quantization.common import clamp, flat
from exgen.topics.quantization.libraries.common import (
    AXES, _X, _mat, _matrix_ok, channel_word, channels, per_entry, reported)


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
     Given("factor_decimals", "round the factor to this many decimals (halves up) and use the rounded factor from "
           "then on (0: carry it unrounded)", "integer", default=0, low=0, high=8),
     Given("decimals", "decimal places asked for in the reconstruction and the error matrix", "integer", default=2,
           low=0, high=8)))


def _check_absmax(g: dict[str, Any]) -> None:
    check(ABSMAX_INT8, g)
    _matrix_ok(g["X"])
    if any(max(abs(v) for v in ch) == 0 for ch in channels(g["X"], g["axis"])):
        raise InvalidGivens(f"a {channel_word(g['axis'])} of X is all zeros: its max|X| is 0 and the factor undefined")
    if int(g["factor_decimals"]):
        _absmax_factors(g)  # refuses a factor rounded to zero


@_fast.memo(16)
def _ab_factors(xkey: tuple, qmax: int, axis: str, form: str, k: int) -> tuple[list[int], list[tuple[int, int]], int]:
    """(max|X| per channel as integers over D, the factor per channel as an integer pair (p, q) = p/q, D),
    exactly; the factor rounded to k decimals if k, halves up as the question states (never met when sampled)."""
    d, a = _fast.scaled(xkey)
    amax, factors = _factor_pairs(channels(a, axis), d, qmax, form, k)
    return amax, factors, d


def _factor_pairs(chans, d: int, qmax: int, form: str, k: int) -> tuple[list[int], list[tuple[int, int]]]:
    """_ab_factors of channels given as integers over D: (max|X|·D per channel, the factor pairs)."""
    amax = [max(abs(v) for v in ch) for ch in chans]
    factors = [(qmax * d, m) if form == "multiplier" else (m, qmax * d) for m in amax]
    if k:
        factors = [(_fast.round_away(p * 10**k, q), 10**k) for p, q in factors]  # p/q > 0: halves up
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
            out.append(Step(f"Rounded to {k} decimal{'' if k == 1 else 's'} (halves up), and used from here on:",
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
def _ab_float(xkey: tuple, bits: int, axis: str, form: str) -> tuple[tuple[list[list[int]], list[list[float]]], ...]:
    """(q, x̂) in floats with each factor carried to 6 figures, once per way of holding the factors (both
    neighbours of a tie)."""
    qmax = 2 ** (bits - 1) - 1
    mult = form == "multiplier"
    amax = [max(abs(v) for v in ch) for ch in channels(xkey, axis)]
    ways = []
    for fs in itertools.product(*(nf.held(qmax / a if mult else a / qmax, 6) for a in amax)):
        f = per_entry(xkey, axis, list(fs))
        q = [[clamp(round(r * fv if mult else r / fv), -qmax, qmax) for r, fv in zip(*t)] for t in zip(xkey, f)]
        ways.append((q, [[v / fv if mult else v * fv for v, fv in zip(*t)] for t in zip(q, f)]))
    return tuple(ways)


def _absmax_float(part: str):
    """Float arithmetic with the factor carried to 6 significant figures (when it is not rounded as asked)."""
    def value(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        if int(g["factor_decimals"]):
            return None
        dec = int(g["decimals"])

        def one(q: list[list[int]], xhat: list[list[float]]) -> Any:
            if part == "q":
                return [list(r) for r in q]
            if part == "reconstruction":
                return reported(xhat, solution.value(part), dec)
            return reported([[r - v for r, v in zip(*t)] for t in zip(g["X"], xhat)], solution.value(part), dec)
        return each(lambda way: one(*way), _ab_float(tuple(map(tuple, g["X"])), int(g["bits"]), g["axis"], g["form"]))
    return value


def _ab_other_convention(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    _, f, _ = _absmax_factors(g, qmax=2 ** (int(g["bits"]) - 1))
    vals = [p / q for p, q in f]
    return vals[0] if g["axis"] == "tensor" else vals


def _ab_signed_max(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    d, a = _fast.scaled(tuple(map(tuple, g["X"])))
    m = [max(ch) / d for ch in channels(a, g["axis"])]
    right = solution.value("absmax")
    wrong = m[0] if g["axis"] == "tensor" else m
    return None if wrong == right else wrong


def _ab_per_tensor(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    if g["axis"] == "tensor":
        return None
    _, f, _ = _absmax_factors(g, axis="tensor")
    n = len(channels(g["X"], g["axis"]))
    wrong = [f[0][0] / f[0][1]] * n
    return None if wrong == solution.value("factor") else wrong


def _ab_multiplied_back(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    _, f, _ = _absmax_factors(g)
    return [list(r) for r in _absmax_compute(g, f, multiply_back=True)["xhat"]]


def _ab_unrounded_factor(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    if not int(g["factor_decimals"]):
        return None
    _, f, _ = _absmax_factors(g, rounded=False)
    return [list(r) for r in _absmax_compute(g, f)["xhat"]]
