"""K-means (weight-sharing) quantization of a matrix: indices, reconstruction, error, storage, one Lloyd step.

Seeds 000/003 ("K-Means" slide, after Han et al. 2016, Deep Compression): every weight is replaced by the index
of its nearest centroid in a floating-point codebook of k = 2^b entries; the indices are stored at b bits each
and the codebook at a stated float width, against the original matrix at that width.  Hard gives the *initial*
centroids and asks for one Lloyd iteration: assign each weight to its nearest centroid, then move each centroid
to the mean of its weights (a centroid with no weight keeps its value; the sampler never asks one).  The solver
works in exact decimals (integers over the common denominator of weights and centroids).  The sampler redraws any
weight that is equally close to two centroids, so the assignment never depends on a tie rule (the solver and
torch's argmin both take the lower index where a user's own instance has a tie, and the question then says so),
and it uses every centroid.
Decisions: docs/decisions/quantization.md ("K-means").
"""

from __future__ import annotations

import math
from bisect import bisect_left
from fractions import Fraction
from typing import Any

from exgen import numfmt as nf
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.quantization import _fast
from exgen.topics.quantization._fast import fr
from exgen.topics.quantization.linear import _terms
from exgen.topics.base import Given, InvalidGivens, Mistake, Rejected, StudentPath, Variant, each

ERROR_METRICS = ("max_abs", "frobenius", "mse")
METRIC_TEX = {
    "max_abs": r"\max_{ij} |W_{ij} - \hat W_{ij}|",
    "frobenius": r"\lVert W - \hat W \rVert_F",
    "mse": r"\frac{1}{mn} \sum_{ij} (W_{ij} - \hat W_{ij})^2",
}
CENTROID_DECIMALS = 3  # a Lloyd step's new centroids (and the reconstruction from them) are asked to 3 decimals

VARIANT = Variant(
    "kmeans", "k-means quantization with a given codebook: indices, reconstruction, error, storage; hard: one "
    "Lloyd step from initial centroids", (
        Given("W", "the real matrix to quantize (rows separated by ';', entries by ',')", "matrix",
              low=-1e6, high=1e6, max_size=64),
        Given("centroids", "the codebook c_0, c_1, ..., c_(k-1), k = 2^b entries (k = 2, 4, 8 or 16); index i "
              "means c_i", "vector", low=-1e6, high=1e6, max_size=16),
        Given("float_bits", "bits per float, of the original weights and of each codebook entry", "integer",
              choices=("16", "32"), low=16, high=32),
        Given("metric", "error metric to report", "choice", choices=ERROR_METRICS),
        Given("lloyd", "'no': the centroids are final; 'one step': they are initial, do one Lloyd iteration",
              "choice", choices=("no", "one step"), default="no"),
    ))


def _exact(values) -> list[Fraction]:
    return [fr(v) for v in values]


def nearest(w: Fraction, centroids: list[Fraction]) -> tuple[int, bool]:
    """The index of the nearest centroid (the lower index on a tie), and whether there was a tie."""
    distances = [abs(w - c) for c in centroids]
    best = min(distances)
    return distances.index(best), distances.count(best) > 1


def storage_bits(n: int, k: int, float_bits: int) -> tuple[int, int, int]:
    """(b, bits before, bits after): n floats, against n b-bit indices plus a k-entry codebook of floats."""
    b = k.bit_length() - 1
    return b, n * float_bits, n * b + k * float_bits


def _check(g: dict[str, Any]) -> None:
    w, c = g["W"], g["centroids"]
    if not w or any(len(row) != len(w[0]) or not row for row in w):
        raise InvalidGivens("W must be a non-empty rectangular matrix")
    k = len(c)
    if k not in (2, 4, 8, 16):
        raise InvalidGivens("the codebook must have k = 2^b entries: 2, 4, 8 or 16 centroids")
    if len(set(c)) != k:
        raise InvalidGivens("the centroids must be distinct")


def _core(wkey: tuple, ckey: tuple, lloyd: bool) -> dict[str, Any]:
    """The assignment, the (updated) centroids and W − Ŵ exactly, in integers over the common denominator D of
    the weights and the centroids: a centroid is a pair (p, q) = p/q, W − Ŵ is nums/e."""
    d, rows = _fast.scaled(wkey + (ckey,))
    a, c = rows[:-1], rows[-1]
    k = len(c)
    idx, tie = [], False
    for row in a:
        irow = []
        for v in row:
            dist = [abs(v - cj) for cj in c]
            best = min(dist)
            irow.append(dist.index(best))
            tie = tie or dist.count(best) > 1
        idx.append(irow)
    sums, counts = [0] * k, [0] * k
    for row, irow in zip(a, idx):
        for v, i in zip(row, irow):
            sums[i] += v
            counts[i] += 1
    cs = [(sums[j], d * counts[j]) if lloyd and counts[j] else (c[j], d) for j in range(k)]
    lcm = 1
    for _, q in cs:
        lcm = math.lcm(lcm, q)
    nums = [v * lcm - cs[i][0] * (lcm // cs[i][1]) * d for row, irow in zip(a, idx)
            for v, i in zip(row, irow)]
    return {"d": d, "a": a, "c": c, "idx": idx, "tie": tie, "sums": sums, "counts": counts, "cs": cs,
            "nums": nums, "e": d * lcm}


def _key(g: dict[str, Any]) -> tuple:
    return tuple(map(tuple, g["W"])), tuple(g["centroids"]), g["lloyd"] == "one step"


def solve(g: dict[str, Any]) -> Solution:
    _check(g)
    core = _core(*_key(g))
    k, fb, metric, lloyd = len(g["centroids"]), int(g["float_bits"]), g["metric"], g["lloyd"] == "one step"
    idx, tie, cs_pairs = core["idx"], core["tie"], core["cs"]
    cs = [p / q for p, q in cs_pairs]
    what = [[cs[i] for i in row] for row in idx]
    err = _fast.error_of(core["nums"], core["e"], metric)
    n = len(idx) * len(idx[0])
    b, before, after = storage_bits(n, k, fb)

    def steps() -> tuple[Step, ...]:
        c0 = _exact(g["centroids"])
        order = sorted(range(k), key=lambda j: c0[j])
        bounds = ", ".join(rf"({nf.num(c0[a])} + {nf.signed(nf.num(c0[z]))})/2 = {nf.num((c0[a] + c0[z]) / 2)}"
                           for a, z in zip(order, order[1:]))
        out = [Step("Each weight goes to its nearest centroid" + (" (a tie to the lower index)" if tie else "")
                    + "; in one dimension the boundaries between neighbouring centroids are their midpoints:",
                    bounds + r" \;\Rightarrow\; \text{indices} = " + _fast.text_matrix(idx))]
        if lloyd:
            lines = []
            for j in range(k):
                m = core["counts"][j]
                lines.append(rf"c_{j}' &= \tfrac{{{nf.num(Fraction(core['sums'][j], core['d']))}}}{{{m}}} = "
                             rf"{nf.sig(cs[j], 6)}"
                             rf"&&\text{{({m} weight{'s' if m > 1 else ''} with index {j})}}" if m
                             else rf"c_{j}' &= c_{j} = {nf.num(c0[j])}&&\text{{(no weight)}}")
            out.append(Step("Update: each centroid moves to the mean of the weights assigned to it (their sum over "
                            "their count):",
                            r"\begin{aligned}" + r"\\ ".join(lines) + r"\end{aligned}"))
        shown_c = cs if lloyd else c0
        fmt = (lambda v: nf.fixed(v, CENTROID_DECIMALS)) if lloyd else nf.num
        bit = "bits" if b > 1 else "bit"
        out += [
            Step("The reconstruction replaces each index by its " + ("new " if lloyd else "") + "centroid:",
                 r"c = (" + ", ".join(fmt(v) for v in shown_c) + r") \;\Rightarrow\; \hat W = "
                 + (_fast.fixed_matrix(what, CENTROID_DECIMALS) if lloyd
                    else nf.matrix([[shown_c[i] for i in row] for row in idx], fmt))),
            Step("Error of the reconstruction, from the entries of $W - \\hat W$:",
                 f"{METRIC_TEX[metric]} = {_terms(metric, [v / core['e'] for v in core['nums']])} = "
                 f"{nf.sig(err, 6)}"),
            Step(f"Storage: ${k} = 2^{{{b}}}$ centroids need $b = {b}$ {bit} per index. Before, {n} weights at "
                 f"{fb} bits; after, {n} indices at {b} {bit} plus {k} codebook entries at {fb} bits:",
                 rf"{n} \times {fb} = {before}\ \text{{bits}},\qquad {n} \times {b} + {k} \times {fb} = {after}"
                 rf"\ \text{{bits}},\qquad {before} / {after} = {nf.sig(Fraction(before, after), 4)}"),
        ]
        return tuple(out)
    METRIC_TEX[metric]  # an unknown metric is refused here, as when the steps were built eagerly
    parts = [Part("indices", "index matrix", Answer("matrix", [list(r) for r in idx]))]
    if lloyd:
        parts.append(Part("centroids", "centroids after one Lloyd step",
                          Answer("vector", list(cs), decimals=CENTROID_DECIMALS)))
    parts += [
        Part("reconstruction", "reconstruction",
             Answer("matrix", what, decimals=CENTROID_DECIMALS if lloyd else _places(g["centroids"]))),
        Part("error", "quantization error",
             Answer("number", err, sig=3) if err else Answer("number", 0.0, decimals=6)),
        Part("before", "storage before", Answer("integer", before, unit="bit")),
        Part("after", "storage after", Answer("integer", after, unit="bit")),
        Part("ratio", "compression ratio", Answer("number", before / after, sig=3)),
    ]
    shown = (Step("A weight exactly halfway between two centroids goes to the lower index."),) if tie else ()
    return Solution(tuple(parts), steps, shown)


def _places(values) -> int:
    """Decimals that show every given centroid exactly (the reconstruction is the centroids themselves)."""
    return max(len(f"{float(v):.10f}".rstrip("0").split(".")[1]) for v in values)


# ---- sampling --------------------------------------------------------------------------------------

# difficulty: (shapes, value decimals, |value| bound, codebook sizes, Lloyd step)
SHAPES = {
    "easy": (((3, 3), (3, 4), (4, 3)), 1, 3, (2, 4), False),
    "medium": (((4, 4), (3, 5), (4, 5)), 2, 2.5, (4,), False),
    "hard": (((4, 4), (4, 5), (3, 5)), 2, 2.5, (4,), True),
}
MIN_GAP = Fraction(1, 2)


def sample(rng: Rng, difficulty: str) -> dict[str, Any]:
    """Centroids and weights are rng.decimal's integers (the same randint), in units of 10^-places (a centroid
    on the 0.1 grid is 10^(places−1) units); distances, ties and means are compared in integers."""
    shapes, places, bound, ks, lloyd = SHAPES[difficulty]
    rows, cols = rng.choice(shapes)
    k = rng.choice(ks)
    unit = 10 ** (places - 1)
    # the codebook on a 0.1 grid: rng.decimal(-bound, bound, 1)
    centroids = sorted(rng.randint(round(-bound * 10), round(bound * 10)) for _ in range(k))
    if any(b - a < 5 for a, b in zip(centroids, centroids[1:])):  # closer than MIN_GAP = 0.5
        raise Rejected("two centroids closer than 0.5")
    c = [v * unit for v in centroids]
    # the codebook is sorted and its entries distinct: a weight's nearest centroid is the number of midpoints
    # below it, and it is equally close to two centroids exactly on a midpoint (2v = c_j + c_(j+1))
    mids = [a + b for a, b in zip(c, c[1:])]
    on_mid = set(mids)
    lo, hi = round(-bound * 10**places), round(bound * 10**places)  # rng.decimal(-bound, bound, places)
    randint = rng.randint
    w, idx = [], []
    for _ in range(rows):
        row, irow = [], []
        for _ in range(cols):
            for _ in range(20):  # redraw a weight equally close to two centroids
                v = randint(lo, hi)
                if 2 * v not in on_mid:
                    break
            else:
                raise Rejected("no weight away from a tie")
            row.append(v)
            irow.append(bisect_left(mids, 2 * v))
        w.append(row)
        idx.append(irow)
    if len({i for irow in idx for i in irow}) < k:
        raise Rejected("a centroid has no weight")
    if lloyd:
        sums, counts = [0] * k, [0] * k
        for row, irow in zip(w, idx):
            for v, i in zip(row, irow):
                sums[i] += v
                counts[i] += 1
        if all(sums[j] == c[j] * counts[j] for j in range(k)):
            raise Rejected("the Lloyd step moves no centroid")
    return {"W": [[v / 10**places for v in row] for row in w], "centroids": [v / 10 for v in centroids],
            "float_bits": rng.choice((16, 32)), "metric": rng.choice(ERROR_METRICS),
            "lloyd": "one step" if lloyd else "no"}


# ---- student paths and mistakes ----------------------------------------------------------------------


def _error_from_rounded_centroids(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    """The error from the new centroids as the student reported them (3 decimals), at 3 significant figures."""
    if g["lloyd"] != "one step":
        return None
    w, indices = tuple(map(tuple, g["W"])), solution.value("indices")

    def error(*cs: float) -> tuple[float, ...]:
        d, rows = _fast.scaled(w + (cs,))
        a, c = rows[:-1], rows[-1]
        err = _fast.error_of([v - c[i] for row, irow in zip(a, indices) for v, i in zip(row, irow)], d, g["metric"])
        return nf.held(err, 3)
    return each(error, *(nf.held(v, decimals=CENTROID_DECIMALS) for v in solution.value("centroids")))


def _ratio_of(variant: str, g: dict[str, Any], solution: Solution) -> float:
    return nf.held(solution.value("before") / solution.value("after"), 3)


PATHS = (
    StudentPath("error_from_rounded_centroids", "error", "The error computed from the new centroids rounded to 3 "
                "decimals, as the previous part reports them.", ("kmeans",), _error_from_rounded_centroids),
    StudentPath("ratio_of_reported_sizes", "ratio", "The ratio of the two sizes as reported (exact integers), "
                "rounded to 3 significant figures.", ("kmeans",), _ratio_of),
)


def _sizes(g: dict[str, Any]) -> tuple[int, int, int, int]:
    n, k = len(g["W"]) * len(g["W"][0]), len(g["centroids"])
    return n, k, *storage_bits(n, k, int(g["float_bits"]))[1:]


def _codebook_forgotten(variant: str, g: dict[str, Any], solution: Solution) -> float:
    before, after = solution.value("before"), solution.value("after")
    return before / (after - len(g["centroids"]) * int(g["float_bits"]))


def _k_bits_per_index(variant: str, g: dict[str, Any], solution: Solution) -> int:
    n, k, _, _ = _sizes(g)
    return n * k + k * int(g["float_bits"])


def _midpoint_for_mean(variant: str, g: dict[str, Any], solution: Solution) -> list[float] | None:
    if g["lloyd"] != "one step":
        return None
    d, rows = _fast.scaled(tuple(map(tuple, g["W"])) + (tuple(g["centroids"]),))
    a, c = rows[:-1], rows[-1]
    k = len(c)
    lows, highs, sums, counts = [None] * k, [None] * k, [0] * k, [0] * k
    for row, irow in zip(a, solution.value("indices")):  # the key's assignment
        for v, i in zip(row, irow):
            lows[i] = v if lows[i] is None or v < lows[i] else lows[i]
            highs[i] = v if highs[i] is None or v > highs[i] else highs[i]
            sums[i] += v
            counts[i] += 1
    # the midpoint (lo + hi)/2D against the mean sum/(count·D); an empty cluster keeps its centroid in both
    if all(lows[j] is None or (lows[j] + highs[j]) * counts[j] == 2 * sums[j] for j in range(k)):
        return None
    return [(lows[j] + highs[j]) / (2 * d) if lows[j] is not None else c[j] / d for j in range(k)]


MISTAKES = (
    Mistake("codebook_forgotten", "ratio", "The codebook was left out of the compressed size: its k entries at the "
            "float width are stored too.", ("kmeans",), _codebook_forgotten),
    Mistake("k_bits_per_index", "after", "Each index was given k bits; an index into k = 2^b centroids needs only "
            "b = log2 k bits.", ("kmeans",), _k_bits_per_index),
    Mistake("midpoint_for_mean", "centroids", "Each centroid was moved to the midpoint of its cluster's smallest "
            "and largest weight; the Lloyd update is the mean of all its weights.", ("kmeans",), _midpoint_for_mean),
)
