"""Compute-optimal scaling (Chinchilla): N and D for a budget C, predicted loss, comparing allocations,
over-training, and budgets given as GPUs × days.

Formulas and sources:
    C = 6 N D                               training FLOPs (seed 002, "Chinchilla Scaling Laws": C ≃ 6ND)
    L(N, D) = E + A / N^α + B / D^β         the parametric fit, E = 1.69, A = 406.4, B = 410.7, α = 0.34,
                                            β = 0.28 (Hoffmann et al. 2022, eq. 2 and §3.3; seeds 001/002)
    N_opt = G (C/6)^a,  D_opt = G^{-1} (C/6)^b,  G = (αA / (βB))^{1/(α+β)},  a = β/(α+β),  b = α/(α+β)
                                            minimising L(N, C/(6N)) (Hoffmann et al. 2022, eq. 4, Appendix D.2)
    N_opt = 0.1 C^0.5,  D_opt = 1.7 C^0.5   the rule of seed 001 ("Chinchilla Scaling Law" slide); note
                                            0.1 × 1.7 = 0.17 ≠ 1/6, i.e. ~17 tokens per parameter
    D = 20 N with C = 6 N D → N = sqrt(C / 120)   the "~20 tokens per parameter" heuristic
    C = GPUs × days × 86 400 s/day × peak FLOP/s × MFU   (peak from exgen.gpus, stated in the question)
The three methods are different conventions (seeds/README.md): the question names the one it asks for.
Arithmetic is float64 (powers with non-integer exponents); answers are asked to 3 significant figures, loss
to 3 decimals.  The mistake functions re-run the solver with one "knob" turned (2ND for 6ND, N and D
swapped, …), so a mistake is always the same computation as the key with exactly one thing changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from typing import Any, Callable

from exgen import numfmt as nf
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Mistake, Rejected, StudentPath, Topic, Variant
from exgen.topics.compute import half_up

METHODS = ("fit", "rule", "tokens20")
RULE_N, RULE_D = 0.1, 1.7  # seed 001: N_opt = 0.1 C^0.5, D_opt = 1.7 C^0.5
TOKENS_PER_PARAM = 20
SECONDS_PER_DAY = 86_400
PF_DAY = 10**15 * SECONDS_PER_DAY  # FLOP: one petaFLOP/s sustained for a day (Brown et al. 2020's unit)
LOSS_DECIMALS = 3
SIG = 3
TIE_MARGIN = 0.01  # compare: the two losses must differ by at least this (10x the loss tolerance)
MIN_OVERTRAINING = 1.5  # overtrained: tokens per parameter at least this multiple of the optimum's
MAX_TOKENS_PER_PARAM = 4000  # overtrained: at most this (Llama 3 8B: 15e12 / 8e9 = 1875)

# Hoffmann et al. 2022's fitted coefficients as published (rounded), and as seeds 001/002 quote them.
FIT = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


@dataclass(frozen=True)
class Fit:
    E: float
    A: float
    B: float
    alpha: float
    beta: float

    @classmethod
    def of(cls, g: dict[str, Any]) -> Fit:
        values = (float(g["E"]), float(g["A"]), float(g["B"]), float(g["alpha"]), float(g["beta"]))
        fit = _FITS.get(values)
        if fit is None:  # most instances use the published fit: its G is computed once
            if len(_FITS) > 256:
                _FITS.clear()
            fit = _FITS[values] = cls(*values)
        return fit

    @cached_property
    def G(self) -> float:
        return (self.alpha * self.A / (self.beta * self.B)) ** (1 / (self.alpha + self.beta))

    @cached_property
    def a(self) -> float:
        return self.beta / (self.alpha + self.beta)

    @cached_property
    def b(self) -> float:
        return self.alpha / (self.alpha + self.beta)


@dataclass(frozen=True)
class Knobs:
    """What the computation assumes; the key uses the defaults, each named mistake turns one knob."""

    flops_per_param_token: int = 6  # 2 for "2ND", 1 for "ND"
    method: str | None = None  # another method than the question asks for
    rule_swapped: bool = False  # N = 1.7 C^0.5, D = 0.1 C^0.5
    fit_exponents_swapped: bool = False  # N_opt with exponent b, D_opt with a
    loss_exponents_swapped: bool = False  # A / N^β + B / D^α
    irreducible_forgotten: bool = False  # L without E
    mfu_forgotten: bool = False
    seconds_per_day: int = SECONDS_PER_DAY  # 3600 for "hours for days"
    factor_inverted: bool = False  # optimum's tokens per parameter over the model's


KEY = Knobs()
# The mistakes' knobs (each turns one knob off its default), by id, holding each (so its id is never reused):
# telling one from the key then needs no comparison of every field on every solve.
_MISTAKE_KNOBS: dict[int, Knobs] = {}


def _is_key(kn: Knobs) -> bool:
    return kn is KEY or id(kn) not in _MISTAKE_KNOBS and kn == KEY
_FITS: dict[tuple[float, ...], Fit] = {}


# ---- the computations ------------------------------------------------------------------------------


def loss(n: float, d: float, fit: Fit, knobs: Knobs = KEY) -> tuple[float, float, float]:
    """(A/N^α, B/D^β, L) of the parametric fit."""
    ea, eb = (fit.beta, fit.alpha) if knobs.loss_exponents_swapped else (fit.alpha, fit.beta)
    model, data = fit.A / n**ea, fit.B / d**eb
    return model, data, (0.0 if knobs.irreducible_forgotten else fit.E) + model + data


def optimum(c: float, method: str, fit: Fit, knobs: Knobs = KEY) -> tuple[float, float]:
    """(N_opt, D_opt) for budget C by the method the question names (or the mistaken one)."""
    method = knobs.method or method
    k = knobs.flops_per_param_token
    if method == "fit":
        a, b = (fit.b, fit.a) if knobs.fit_exponents_swapped else (fit.a, fit.b)
        return fit.G * (c / k) ** a, (c / k) ** b / fit.G
    if method == "rule":
        n, d = RULE_N * math.sqrt(c), RULE_D * math.sqrt(c)
        return (d, n) if knobs.rule_swapped else (n, d)
    n = math.sqrt(c / (k * TOKENS_PER_PARAM))
    return n, TOKENS_PER_PARAM * n


def gpu_budget(g: dict[str, Any], knobs: Knobs = KEY) -> float:
    """C = GPUs × days × s/day × peak (TFLOP/s = 10^12 FLOP/s) × MFU, in FLOP (float64: a relative error
    of 10^-15, far below the 3 figures asked)."""
    c = g["gpus"] * g["days"] * knobs.seconds_per_day * g["peak"] * 1e12
    return c if knobs.mfu_forgotten else c * g["mfu"]


# ---- worked-solution steps -------------------------------------------------------------------------

_S6_TEXT: dict[tuple[type, Any], str] = {}


def S6(x: Any) -> str:
    """An intermediate value to 6 significant figures. A worked solution writes the same value several times
    (C/6, G, a, b; the fit's constants in every instance), so the last texts are kept, keyed by type and value
    (what the text depends on; 0.0 and -0.0 both read "0")."""
    key = (x.__class__, x)
    text = _S6_TEXT.get(key)
    if text is None:
        if len(_S6_TEXT) > 1024:
            _S6_TEXT.clear()
        text = _S6_TEXT[key] = nf.sig(x, 6)
    return text


def _optimum_steps(c: float, method: str, fit: Fit, n: float, d: float) -> list[Step]:
    """One display per line, so none runs past a printed page (issue 11)."""
    if method == "fit":
        total = nf.num(round(fit.alpha + fit.beta, 12))
        return [
            Step(r"Minimising $L(N, D)$ subject to $C = 6ND$ (set $\partial L / \partial N = 0$ with "
                 r"$D = C/(6N)$) gives the closed form (Hoffmann et al. 2022, Appendix D):",
                 r"N_{\mathrm{opt}} = G \left(\frac{C}{6}\right)^{a}, \quad D_{\mathrm{opt}} = G^{-1} "
                 r"\left(\frac{C}{6}\right)^{b},"),
            Step("where", r"G = \left(\frac{\alpha A}{\beta B}\right)^{1/(\alpha+\beta)}, \quad "
                          r"a = \frac{\beta}{\alpha+\beta}, \quad b = \frac{\alpha}{\alpha+\beta}."),
            Step("With the stated coefficients:",
                 rf"G = \left(\frac{{{nf.num(fit.alpha)} \times {nf.num(fit.A)}}}{{{nf.num(fit.beta)} \times "
                 rf"{nf.num(fit.B)}}}\right)^{{1/{total}}} = {S6(fit.G)},"),
            Step("and", rf"a = \frac{{{nf.num(fit.beta)}}}{{{total}}} = {S6(fit.a)}, \quad "
                        rf"b = \frac{{{nf.num(fit.alpha)}}}{{{total}}} = {S6(fit.b)}."),
            Step(f"The budget over six is $C/6 = {S6(c / 6)}$ FLOP, so",
                 rf"N_{{\mathrm{{opt}}}} = {S6(fit.G)} \times ({S6(c / 6)})^{{{S6(fit.a)}}} = {S6(n)},"),
            Step("and", rf"D_{{\mathrm{{opt}}}} = \frac{{({S6(c / 6)})^{{{S6(fit.b)}}}}}{{{S6(fit.G)}}} = {S6(d)}."),
        ]
    if method == "rule":
        return [Step(r"The rule gives both directly from $\sqrt{C} = " + S6(math.sqrt(c)) + "$:",
                     rf"N_{{\mathrm{{opt}}}} = 0.1\,\sqrt{{C}} = 0.1 \times {S6(math.sqrt(c))} = {S6(n)},"),
                Step("and", rf"D_{{\mathrm{{opt}}}} = 1.7\,\sqrt{{C}} = 1.7 \times {S6(math.sqrt(c))} = {S6(d)}.")]
    return [Step(r"With $D = 20N$, the budget is $C = 6N \cdot 20N = 120 N^2$, so",
                 rf"N_{{\mathrm{{opt}}}} = \sqrt{{\frac{{C}}{{120}}}} = \sqrt{{{S6(c / 120)}}} = {S6(n)},"),
            Step("and", rf"D_{{\mathrm{{opt}}}} = 20\,N_{{\mathrm{{opt}}}} = {S6(d)}.")]


def _pf_day_step(c: float) -> Step:
    """The budget in both units a question may state it in (hard questions give PF-days)."""
    return Step(r"The budget, with 1 PF-day $= 10^{15}\ \text{FLOP/s} \times 86400\ \text{s} = 8.64 \times "
                r"10^{19}$ FLOP:", rf"C = {S6(c / PF_DAY)}\ \text{{PF-days}} \times 8.64 \times 10^{{19}}\ "
                                    rf"\text{{FLOP/PF-day}} = {S6(c)}\ \text{{FLOP}}")


def _loss_step(label: str, n: float, d: float, fit: Fit, terms: tuple[float, float, float]) -> Step:
    model, data, total = terms
    return Step(f"Predicted loss {label}:",
                rf"L(N, D) = {nf.num(fit.E)} + \frac{{{nf.num(fit.A)}}}{{({S6(n)})^{{{nf.num(fit.alpha)}}}}} + "
                rf"\frac{{{nf.num(fit.B)}}}{{({S6(d)})^{{{nf.num(fit.beta)}}}}} = {nf.num(fit.E)} + {S6(model)} + "
                rf"{S6(data)} = {nf.fixed(total, 5)}")


# A solver lists its parts as (id, label, answer) with the answer as a spec: ("sig", value, unit, figures) for a
# number to significant figures, ("loss", value) for a loss to LOSS_DECIMALS, or an Answer. The key's solution
# makes Answers of them; a mistake's (knobs other than the key's) needs the values only (issue 12).
AnswerSpec = Any


def _num(value: float, unit: str = "", sig: int = SIG) -> AnswerSpec:
    return ("sig", value, unit, sig)


def _loss_answer(value: float) -> AnswerSpec:
    return ("loss", value)


def _answer(spec: AnswerSpec) -> Answer:
    if isinstance(spec, Answer):
        return spec
    if spec[0] == "loss":
        return Answer("number", spec[1], decimals=LOSS_DECIMALS)
    return Answer("number", spec[1], unit=spec[2], sig=spec[3])


class _Values:
    """A mistake's solution: the value of each part, no Answer built."""

    def __init__(self, parts: tuple[tuple[str, str, AnswerSpec], ...]) -> None:
        self.parts = parts

    def value(self, part: str) -> Any:
        for pid, _, spec in self.parts:
            if pid == part:
                return spec.value if isinstance(spec, Answer) else spec[1]
        raise KeyError(part)


# ---- solvers ---------------------------------------------------------------------------------------


def _solution(parts: tuple[tuple[str, str, AnswerSpec], ...], steps: Callable[[], list[Step]],
              kn: Knobs) -> Solution | _Values:
    """The solution, its worked steps built on first read; a mistake's (knobs other than the key's) needs its
    values only."""
    if _is_key(kn):
        return Solution(tuple(Part(part, label, _answer(spec)) for part, label, spec in parts), steps)
    return _Values(parts)


def _solve_optimum(g: dict[str, Any], kn: Knobs) -> Solution:
    fit, c, method = Fit.of(g), float(g["C"]), g["method"]
    n, d = optimum(c, method, fit, kn)
    terms = loss(n, d, fit, kn)
    steps = lambda: [_pf_day_step(c), *_optimum_steps(c, method, fit, n, d),  # noqa: E731 — key only
                     _loss_step("of this allocation", n, d, fit, terms)]
    parts = (("N_opt", "compute-optimal parameters", _num(n)),
             ("D_opt", "compute-optimal training tokens", _num(d)),
             ("loss", "predicted loss", _loss_answer(terms[2])))
    return _solution(parts, steps, kn)


def _solve_gpu_budget(g: dict[str, Any], kn: Knobs) -> Solution:
    fit, method = Fit.of(g), g["method"]
    c = gpu_budget(g, kn)
    n, d = optimum(c, method, fit, kn)
    steps = lambda: [  # noqa: E731 — the steps are built for the key only
        Step(f"One day is ${SECONDS_PER_DAY}$ s, and the cluster sustains MFU $\\times$ peak:",
             rf"C = {g['gpus']} \times {nf.num(g['days'])} \times {SECONDS_PER_DAY}\ \text{{s}} \times "
             rf"{nf.num(g['peak'])} \times 10^{{12}}\ \text{{FLOP/s}} \times {nf.num(g['mfu'])} = {S6(c)}\ \text{{FLOP}}")
    ] + _optimum_steps(c, method, fit, n, d)
    parts = (("compute", "training compute", _num(c, "FLOP")),
             ("N_opt", "compute-optimal parameters", _num(n)),
             ("D_opt", "compute-optimal training tokens", _num(d)))
    return _solution(parts, steps, kn)


def _solve_loss(g: dict[str, Any], kn: Knobs) -> Solution:
    fit, n, d = Fit.of(g), float(g["N"]), float(g["D"])
    model, data, total = terms = loss(n, d, fit, kn)
    steps = lambda: [  # noqa: E731 — the steps are built for the key only
        Step("The model-size term and the data term:",
             rf"\frac{{A}}{{N^\alpha}} = \frac{{{nf.num(fit.A)}}}{{({S6(n)})^{{{nf.num(fit.alpha)}}}}} = {S6(model)},"
             rf" \quad \frac{{B}}{{D^\beta}} = \frac{{{nf.num(fit.B)}}}{{({S6(d)})^{{{nf.num(fit.beta)}}}}} = "
             rf"{S6(data)}"),
        _loss_step("with the irreducible term $E$", n, d, fit, terms),
    ]
    parts = (("model_term", "model-size term", _num(model)),
             ("data_term", "data term", _num(data)),
             ("loss", "predicted loss", _loss_answer(total)))
    return _solution(parts, steps, kn)


def _solve_compare(g: dict[str, Any], kn: Knobs) -> Solution:
    fit, c, k = Fit.of(g), float(g["C"]), kn.flops_per_param_token
    n_a, n_b = float(g["N_A"]), float(g["N_B"])
    d_a, d_b = c / (k * n_a), c / (k * n_b)
    t_a, t_b = loss(n_a, d_a, fit, kn), loss(n_b, d_b, fit, kn)
    if t_a[2] == t_b[2] and _is_key(kn):
        raise InvalidGivens("the two models have the same predicted loss: neither is lower")
    better = "A" if t_a[2] < t_b[2] else "B"
    steps = lambda: [  # noqa: E731 — the steps are built for the key only
        _pf_day_step(c),
        Step("Each model's tokens from $C = 6ND$:",
             rf"D_A = \frac{{C}}{{6 N_A}} = \frac{{{S6(c)}}}{{6 \times {S6(n_a)}}} = {S6(d_a)}, \quad "
             rf"D_B = \frac{{{S6(c)}}}{{6 \times {S6(n_b)}}} = {S6(d_b)}"),
        _loss_step("of model A", n_a, d_a, fit, t_a),
        _loss_step("of model B", n_b, d_b, fit, t_b),
        Step(f"Model {better} has the lower predicted loss, by ${nf.fixed(abs(t_a[2] - t_b[2]), 4)}$."),
    ]
    parts = (("D_A", "training tokens of model A", _num(d_a)),
             ("D_B", "training tokens of model B", _num(d_b)),
             ("loss_A", "predicted loss of model A", _loss_answer(t_a[2])),
             ("loss_B", "predicted loss of model B", _loss_answer(t_b[2])),
             ("better", "lower predicted loss", Answer("choice", better, choices=("A", "B"))))
    return _solution(parts, steps, kn)


def _solve_overtrained(g: dict[str, Any], kn: Knobs) -> Solution:
    fit, n, d, method = Fit.of(g), float(g["N"]), float(g["D"]), g["method"]
    c = kn.flops_per_param_token * n * d
    ratio = d / n
    n_opt, d_opt = optimum(c, method, fit, kn)
    ratio_opt = d_opt / n_opt
    factor = ratio_opt / ratio if kn.factor_inverted else ratio / ratio_opt
    steps = lambda: [  # noqa: E731 — the steps are built for the key only
        Step("Training compute, and the model's tokens per parameter:",
             rf"C = 6ND = 6 \times {S6(n)} \times {S6(d)} = {S6(c)}\ \text{{FLOP}},"),
        Step("and", rf"\frac{{D}}{{N}} = \frac{{{S6(d)}}}{{{S6(n)}}} = {S6(ratio)}."),
        *_optimum_steps(c, method, fit, n_opt, d_opt),
        Step("The compute-optimal tokens per parameter,",
             rf"\frac{{D_{{\mathrm{{opt}}}}}}{{N_{{\mathrm{{opt}}}}}} = \frac{{{S6(d_opt)}}}{{{S6(n_opt)}}} = "
             rf"{S6(ratio_opt)},"),
        Step("and how far the model is over-trained:",
             rf"\frac{{D/N}}{{D_{{\mathrm{{opt}}}}/N_{{\mathrm{{opt}}}}}} = \frac{{{S6(ratio)}}}{{{S6(ratio_opt)}}} = "
             rf"{S6(ratio / ratio_opt)}."),
    ]
    parts = (("compute", "training compute", _num(c, "FLOP")),
             ("tokens_per_param", "tokens per parameter of the model", _num(ratio)),
             ("N_opt", "compute-optimal parameters at the same compute", _num(n_opt)),
             ("opt_tokens_per_param", "compute-optimal tokens per parameter", _num(ratio_opt)),
             ("factor", "over-training factor", _num(factor)))
    return _solution(parts, steps, kn)


ACCOUNTING = {6: "6ND", 8: "8ND"}  # FLOP accountings a question words (others: "k N D")


def _closed_form_numbers(g: dict[str, Any]) -> dict[str, float]:
    """The closed form's numbers (read only: kept for the draw's solver, mistakes and paths)."""
    memo = _memo_for("closed_form", g)
    numbers = memo.get("numbers")
    if numbers is None:
        numbers = memo["numbers"] = _closed_form_numbers_of(g)
    return numbers


def _closed_form_numbers_at_six(g: dict[str, Any]) -> dict[str, float]:
    """The closed form's numbers under C = 6ND whatever the question's k (the six_nd_assumed mistakes)."""
    memo = _memo_for("closed_form", g)
    numbers = memo.get("numbers at 6")
    if numbers is None:
        numbers = memo["numbers at 6"] = _closed_form_numbers_of({**g, "flops_per_token": 6})
    return numbers


def _closed_form_numbers_of(g: dict[str, Any]) -> dict[str, float]:
    fit, c, k = Fit.of(g), float(g["C"]), float(g["flops_per_token"])
    n, d = fit.G * (c / k) ** fit.a, (c / k) ** fit.b / fit.G
    n_rule, d_rule = RULE_N * math.sqrt(c), RULE_D * math.sqrt(c)
    return {"a": fit.a, "b": fit.b, "G": fit.G, "N_opt": n, "D_opt": d, "tokens_per_param": d / n,
            "rule_compute": k * n_rule * d_rule, "rule_ratio": k * n_rule * d_rule / c, "n_rule": n_rule,
            "d_rule": d_rule}


def _solve_closed_form(g: dict[str, Any], kn: Knobs) -> Solution:
    fit, c, k = Fit.of(g), float(g["C"]), float(g["flops_per_token"])
    x = _closed_form_numbers(g)
    total = nf.num(round(fit.alpha + fit.beta, 12))
    kk = nf.num(g["flops_per_token"])
    steps = lambda: [  # noqa: E731 — the steps are built for the key only
        _pf_day_step(c),
        Step(rf"Minimising $L(N, C/({kk}N))$ over $N$ ($dL/dN = 0$; Hoffmann et al. 2022, Appendix D.2):",
             rf"N_{{\mathrm{{opt}}}} = G \left(\frac{{C}}{{{kk}}}\right)^{{a}}, \ D_{{\mathrm{{opt}}}} = G^{{-1}} "
             rf"\left(\frac{{C}}{{{kk}}}\right)^{{b}}, \ G = \left(\frac{{\alpha A}}{{\beta B}}\right)^"
             r"{1/(\alpha+\beta)}, \ a = \frac{\beta}{\alpha+\beta}, \ b = \frac{\alpha}{\alpha+\beta}"),
        Step("The constants:", rf"a = \frac{{{nf.num(fit.beta)}}}{{{total}}} = {S6(fit.a)}, \ "
                               rf"b = \frac{{{nf.num(fit.alpha)}}}{{{total}}} = {S6(fit.b)}, \ "
                               rf"G = \left(\frac{{{nf.num(fit.alpha)} \times {nf.num(fit.A)}}}{{{nf.num(fit.beta)} "
                               rf"\times {nf.num(fit.B)}}}\right)^{{1/{total}}} = {S6(fit.G)}"),
        Step(f"With $C/{kk} = {S6(c / k)}$:",
             rf"N_{{\mathrm{{opt}}}} = {S6(fit.G)} \times ({S6(c / k)})^{{{S6(fit.a)}}} = {S6(x['N_opt'])}, \ "
             rf"D_{{\mathrm{{opt}}}} = \frac{{({S6(c / k)})^{{{S6(fit.b)}}}}}{{{S6(fit.G)}}} = {S6(x['D_opt'])}, \ "
             rf"\frac{{D_{{\mathrm{{opt}}}}}}{{N_{{\mathrm{{opt}}}}}} = {S6(x['tokens_per_param'])}"),
        Step(rf"The rule gives $N = 0.1\sqrt{{C}} = {S6(x['n_rule'])}$, $D = 1.7\sqrt{{C}} = {S6(x['d_rule'])}$, "
             "which cost",
             rf"{kk} N D = {kk} \times 0.17\, C = {S6(x['rule_compute'])}\ \text{{FLOP}} = {S6(x['rule_ratio'])}\, C"),
    ]
    parts = (("a", "exponent a of the optimal N", _num(x["a"])),
             ("b", "exponent b of the optimal D", _num(x["b"])),
             ("G", "coefficient G", _num(x["G"])),
             ("N_opt", "compute-optimal parameters", _num(x["N_opt"])),
             ("D_opt", "compute-optimal training tokens", _num(x["D_opt"])),
             ("tokens_per_param", "tokens per parameter at the optimum", _num(x["tokens_per_param"])),
             ("rule_compute", "compute the rule's allocation costs", _num(x["rule_compute"], "FLOP")),
             ("rule_ratio", "the rule's compute over the budget", _num(x["rule_ratio"])))
    return _solution(parts, steps, kn)


_SOLVERS: dict[str, Callable[[dict[str, Any], Knobs], Solution]] = {
    "optimum": _solve_optimum, "gpu_budget": _solve_gpu_budget, "loss": _solve_loss, "compare": _solve_compare,
    "overtrained": _solve_overtrained, "closed_form": _solve_closed_form,
}


# ---- givens ----------------------------------------------------------------------------------------

# Bounds keep every power finite: G = (αA/(βB))^(1/(α+β)) stays within 10^±53 for these coefficients, and a
# budget of 10^30 FLOP or a model of 10^15 parameters is far beyond any trained so far.
_FIT_GIVENS = (
    Given("E", "irreducible loss E of the fit", default=FIT["E"], low=0, high=10),
    Given("A", "coefficient A of the model-size term", default=FIT["A"], low=1, high=1e4),
    Given("B", "coefficient B of the data term", default=FIT["B"], low=1, high=1e4),
    Given("alpha", "exponent alpha of N", default=FIT["alpha"], low=0.05, high=1),
    Given("beta", "exponent beta of D", default=FIT["beta"], low=0.05, high=1),
)
_METHOD = Given("method", "how the optimum is found: the fit's closed form, the rule N=0.1C^0.5, D=1.7C^0.5, "
                          "or 20 tokens per parameter", "choice", choices=METHODS)
_C = Given("C", "training compute budget", unit="FLOP", low=1e10, high=1e30)
_N = Given("N", "model parameters", low=1e6, high=1e15)
_D = Given("D", "training tokens", low=1e6, high=1e16)

VARIANTS = (
    Variant("optimum", "compute-optimal N and D for a budget C by a stated method, and the predicted loss",
            (_C, _METHOD, *_FIT_GIVENS)),
    Variant("gpu_budget", "a budget as GPUs x days x peak x MFU, then the compute-optimal N and D", (
        Given("gpu", "the GPU (its name only words the question; peak is the figure used)", "choice",
              choices=("V100", "A100-40GB", "A100-80GB", "H100", "H200")),
        Given("dtype", "the precision the peak is quoted for", "choice", choices=("fp16", "bf16")),
        Given("peak", "dense peak throughput per GPU", unit="TFLOP/s", low=1e-3, high=1e5),
        Given("gpus", "number of GPUs", "integer", low=1, high=10**7),
        Given("days", "training time", unit="day", low=1e-3, high=3650),
        Given("mfu", "model FLOPs utilisation, a fraction in (0, 1]", low=1e-3, high=1),
        _METHOD, *_FIT_GIVENS)),
    Variant("loss", "the loss L(N, D) predicted by the parametric fit", (_N, _D, *_FIT_GIVENS)),
    Variant("compare", "two allocations of the same compute: tokens, predicted losses, which is better", (
        _C, Given("N_A", "parameters of model A", low=1e6, high=1e15),
        Given("N_B", "parameters of model B", low=1e6, high=1e15), *_FIT_GIVENS)),
    Variant("overtrained", "how far a model trained on D tokens is over-trained versus the compute optimum",
            (_N, _D, _METHOD, *_FIT_GIVENS)),
    Variant("closed_form", "the fit's closed form: exponents a, b, coefficient G, N_opt, D_opt and D/N at the "
            "optimum under a stated FLOP accounting C = kND; the 0.1/1.7 rule checked against it", (
        _C, Given("flops_per_token", "FLOPs per parameter per training token k in C = kND (6: forward 2 + "
                  "backward 4; 8: with activation recomputation)", default=6, low=1, high=100), *_FIT_GIVENS)),
)


_SPEC = {v.name: v for v in VARIANTS}
_NUMERIC = {v.name: tuple(x for x in v.givens if x.kind in ("number", "integer")) for v in VARIANTS}


def _check(variant: str, g: dict[str, Any]) -> None:
    spec = _SPEC[variant]
    spec.require(g)
    numeric = _NUMERIC[variant]
    bad = [x.name for x in numeric if not (isinstance(g[x.name], (int, float)) and math.isfinite(g[x.name]))]
    if bad:
        raise InvalidGivens(f"{', '.join(bad)} must be finite numbers")
    if "method" in g and g["method"] not in METHODS:
        raise InvalidGivens(f"method must be one of {', '.join(METHODS)}")
    if variant == "gpu_budget" and g["mfu"] > 1:
        raise InvalidGivens("mfu is a fraction of the peak: at most 1 (write 40 percent as 0.4)")
    outside = [f"{x.name} in [{x.low:g}, {x.high:g}]" for x in numeric if not x.low <= g[x.name] <= x.high]
    if outside:
        raise InvalidGivens(f"{', '.join(outside)} required")
    if variant == "compare" and g["N_A"] == g["N_B"]:
        raise InvalidGivens("N_A and N_B are equal: there is nothing to compare")



def _solve(variant: str, g: dict[str, Any], knobs: Knobs = KEY) -> Solution:
    return _SOLVERS[variant](g, knobs)


def solve(variant: str, givens: dict[str, Any]) -> Solution:
    _check(variant, givens)
    return _solved(variant, givens, KEY)


# The solutions of the last instance, under the key's knobs and each mistake's: the sampler (compare), the
# solver and every mistake of one draw start from the same givens, so each computation runs once per draw.
# An instance is the same when its givens hold the very same values (identity: a completed copy of the
# sampled givens matches; a changed dict does not).
# One immutable state, replaced whole (never changed in place), so that threads (the practice server's) each
# read a consistent one: (variant, a copy of the givens, the givens dict, the memo of those givens).
_memo_state: tuple[Any, dict[str, Any], Any, dict[Any, Any]] = (None, {}, None, {})


def _memo_for(variant: str, g: dict[str, Any]) -> dict[Any, Any]:
    state = _memo_state
    last_variant, last, last_g, memo = state
    if last_variant == variant:
        if last_g is g and last == g:
            return memo
        if len(last) == len(g) and all(g.get(k, state) is v for k, v in last.items()):
            _set_memo_state((variant, last, g, memo))  # the same values in another dict (the completed copy)
            return memo
    memo = {}
    _set_memo_state((variant, dict(g), g, memo))
    return memo


def _set_memo_state(state: tuple[Any, dict[str, Any], Any, dict[Any, Any]]) -> None:
    global _memo_state
    _memo_state = state


def _solved(variant: str, g: dict[str, Any], knobs: Knobs) -> Any:
    """The solution under `knobs` (kept per knobs object: they are the module's own, living as long as it)."""
    memo = _memo_for(variant, g)
    solution = memo.get(id(knobs))
    if solution is None:
        solution = memo[id(knobs)] = _solve(variant, g, knobs)
    return solution


# ---- sampling --------------------------------------------------------------------------------------
# Budgets and model sizes are continuous (3 or 4 significant figures) so that 1,000 draws of any variant ×
# difficulty repeat fewer than 1 % of instances; what changes with difficulty is the reasoning asked (the
# closed form is shown below `hard`) and the figures carried.


def _scaled(mantissa: Fraction | int, exponent: int, factor: int = 1) -> float:
    """mantissa × 10^exponent (× an integer factor) as the correctly rounded float (what the student reads):
    one integer division, which Python rounds correctly, as float(Fraction) does."""
    m = Fraction(mantissa)
    if exponent >= 0:
        return m.numerator * factor * 10**exponent / m.denominator
    return m.numerator * factor / (m.denominator * 10**-exponent)


def _mantissa(rng: Rng, difficulty: str) -> Fraction:
    """1.00–9.99 (3 significant figures), or 1.000–9.999 at hard."""
    return rng.decimal(1, 9.999, 3) if difficulty == "hard" else rng.decimal(1, 9.99, 2)


def _budget(rng: Rng, difficulty: str) -> float:
    """C to 4 figures; at hard a whole number of 4-figure PF-days (0.1160 to 9,999 PF-days), which the
    question states in PF-days, so the student converts first."""
    if difficulty == "hard":
        mantissa = rng.decimal(1, 9.999, 3)
        return _scaled(mantissa, rng.randint(-1, 3), PF_DAY)
    return _scaled(rng.decimal(1, 9.999, 3), rng.randint(19, 25))


def _params(rng: Rng, difficulty: str) -> float:
    return _scaled(_mantissa(rng, difficulty), rng.randint(8, 11))


def _model_for(rng: Rng, c: float, difficulty: str) -> float:
    """A model size for budget C at 1 to 10^4 tokens per parameter (log-uniform), shown to 2 significant
    figures (3 at hard), as a lab would round it."""
    ratio = 10 ** (rng.randint(0, 4000) / 1000)
    return float(f"{math.sqrt(c / (6 * ratio)):.{2 if difficulty == 'hard' else 1}e}")


def _with_fit(g: dict[str, Any]) -> dict[str, Any]:
    return {**g, **FIT}


GPU_DTYPES = {"V100": "fp16", "A100-40GB": "bf16", "A100-80GB": "bf16", "H100": "bf16", "H200": "bf16"}


def _sample_gpu_budget(rng: Rng, difficulty: str) -> dict[str, Any]:
    from exgen.gpus import get as gpu_spec

    gpu = rng.choice(tuple(GPU_DTYPES))
    if difficulty == "easy":
        gpus, days = 64 * rng.randint(1, 64), rng.randint(1, 60)
        mfu = float(Fraction(rng.randint(6, 12), 20))  # 0.30, 0.35, ..., 0.60
    else:
        gpus, days = 8 * rng.randint(8, 1024), rng.randint(1, 120)
        mfu = float(rng.decimal(0.3, 0.6, 2 if difficulty == "medium" else 3))
    dtype = GPU_DTYPES[gpu]
    peak = gpu_spec(gpu).peak[dtype] / 1e12
    return _with_fit({"gpu": gpu, "dtype": dtype, "peak": round(peak, 1), "gpus": gpus, "days": days,
                      "mfu": mfu, "method": rng.choice(METHODS)})


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    if variant == "optimum":
        return _with_fit({"C": _budget(rng, difficulty), "method": rng.choice(METHODS)})
    if variant == "gpu_budget":
        return _sample_gpu_budget(rng, difficulty)
    if variant == "loss":
        n = _params(rng, difficulty)
        if difficulty == "hard":  # stated as tokens per parameter: the student finds D = k N first
            mantissa, exponent = _mantissa(rng, difficulty), rng.randint(8, 11)
            n = _scaled(mantissa, exponent)
            d = _scaled(mantissa * rng.randint(2, 2000), exponent)
        else:
            d = _scaled(_mantissa(rng, difficulty), rng.randint(10, 13))
        if not 1 <= d / n <= 10_000:
            raise Rejected("tokens per parameter outside any realistic range")
        return _with_fit({"N": n, "D": d})
    if variant == "compare":
        c = _budget(rng, difficulty)
        n_a, n_b = (_model_for(rng, c, difficulty) for _ in range(2))
        g = _with_fit({"C": c, "N_A": n_a, "N_B": n_b})
        if n_a == n_b or not all(1 <= c / (6 * n * n) <= 10_000 for n in (n_a, n_b)):
            raise Rejected("equal models, or tokens per parameter outside any realistic range")
        s = _solved("compare", g, KEY)
        if abs(s.part("loss_A").answer.value - s.part("loss_B").answer.value) < TIE_MARGIN:
            raise Rejected("the two losses are too close to call")
        return g
    if variant == "closed_form":  # another fit than the published one, so a, b and G vary (Besiroglu et al.'s
        # replication: alpha 0.35, beta 0.37, A 482, B 2085)
        alpha, beta = (float(rng.decimal(0.25, 0.45, 3 if difficulty == "hard" else 2)) for _ in range(2))
        big_a, big_b = (float(rng.decimal(100, 2500, 1)) for _ in range(2))
        g = {**FIT, "C": _budget(rng, difficulty), "flops_per_token": rng.choice((6, 8)), "alpha": alpha,
             "beta": beta, "A": big_a, "B": big_b}
        x = _closed_form_numbers(g)
        if not 5 <= x["tokens_per_param"] <= 500:
            raise Rejected("tokens per parameter at the optimum outside any realistic range")
        return g
    # overtrained: Llama-2-7B-like, e.g. 7e9 parameters on 2e12 tokens
    n = _scaled(_mantissa(rng, difficulty), rng.randint(8, 10))
    d = _scaled(_mantissa(rng, difficulty), rng.randint(11, 12))  # up to 10T tokens (Llama 3: 15T)
    if d / n > MAX_TOKENS_PER_PARAM:
        raise Rejected("more tokens per parameter than any published model")
    g = _with_fit({"N": n, "D": d, "method": rng.choice(METHODS)})
    n_opt, d_opt = optimum(6 * n * d, g["method"], Fit.of(g))
    if (d / n) / (d_opt / n_opt) < MIN_OVERTRAINING:
        raise Rejected("not over-trained enough to ask how far")
    return g


# ---- named mistakes --------------------------------------------------------------------------------


def _turned(part: str, **knobs: Any) -> Callable[[str, dict[str, Any]], Any]:
    """The part's value with one knob turned, or None where that makes no difference."""
    wrong_knobs = replace(KEY, **knobs)
    if wrong_knobs != KEY:
        _MISTAKE_KNOBS[id(wrong_knobs)] = wrong_knobs

    def wrong(variant: str, g: dict[str, Any]) -> Any:
        if "method" in knobs and g.get("method") == knobs["method"]:
            return None
        value = _solved(variant, g, wrong_knobs).value(part)
        return None if value == _solved(variant, g, KEY).part(part).answer.value else value

    return wrong


def _method_only(asked: str, part: str, **knobs: Any) -> Callable[[str, dict[str, Any]], Any]:
    """A mistake that only exists when the question asks for method `asked`."""
    inner = _turned(part, **knobs)
    return lambda variant, g: inner(variant, g) if g["method"] == asked else None


_OPT = ("optimum", "gpu_budget")
_OPT_ALL = ("optimum", "gpu_budget", "overtrained")


def _mistakes() -> tuple[Mistake, ...]:
    out: list[Mistake] = []

    def add(name, explanation, parts_variants, wrong_for):
        for part, variants in parts_variants:
            out.append(Mistake(name, part, explanation, variants, wrong_for(part)))

    add("two_nd_for_six_nd", "Training compute was taken as 2ND (the forward pass only); with backward it is "
        "C = 6ND.", [("N_opt", _OPT_ALL), ("D_opt", _OPT), ("compute", ("overtrained",)), ("D_A", ("compare",)),
                     ("D_B", ("compare",))], lambda p: _turned(p, flops_per_param_token=2))
    add("nd_for_six_nd", "Training compute was taken as ND; each parameter costs 6 FLOPs per token "
        "(2 forward, 4 backward): C = 6ND.", [("N_opt", _OPT_ALL), ("D_opt", _OPT), ("compute", ("overtrained",)),
                                             ("D_A", ("compare",)), ("D_B", ("compare",))],
        lambda p: _turned(p, flops_per_param_token=1))
    add("rule_n_d_swapped", "N and D were swapped in the rule: N_opt = 0.1 C^0.5 is the smaller one, "
        "D_opt = 1.7 C^0.5 the larger.", [("N_opt", _OPT_ALL), ("D_opt", _OPT)],
        lambda p: _method_only("rule", p, rule_swapped=True))
    add("tokens20_for_rule", "The 20-tokens-per-parameter heuristic was used where the rule N = 0.1 C^0.5, "
        "D = 1.7 C^0.5 (about 17 tokens per parameter) was asked.",
        [("N_opt", _OPT_ALL), ("D_opt", _OPT), ("opt_tokens_per_param", ("overtrained",))],
        lambda p: _method_only("rule", p, method="tokens20"))
    add("rule_for_tokens20", "The rule N = 0.1 C^0.5, D = 1.7 C^0.5 was used where 20 tokens per parameter "
        "(D = 20N, so N = sqrt(C/120)) was asked.",
        [("N_opt", _OPT_ALL), ("D_opt", _OPT), ("opt_tokens_per_param", ("overtrained",))],
        lambda p: _method_only("tokens20", p, method="rule"))
    add("fit_exponents_swapped", "The exponents of the closed form were swapped: N_opt grows as (C/6)^a with "
        "a = beta/(alpha+beta), D_opt as (C/6)^b with b = alpha/(alpha+beta).",
        [("N_opt", _OPT_ALL), ("D_opt", _OPT)], lambda p: _method_only("fit", p, fit_exponents_swapped=True))
    add("loss_exponents_swapped", "alpha and beta were swapped in L: alpha belongs to N (A/N^alpha), beta to D "
        "(B/D^beta).", [("loss", ("optimum", "loss")), ("model_term", ("loss",)), ("data_term", ("loss",)),
                        ("loss_A", ("compare",)), ("loss_B", ("compare",))],
        lambda p: _turned(p, loss_exponents_swapped=True))
    add("irreducible_loss_forgotten", "The irreducible term E was left out of L(N, D).",
        [("loss", ("loss",))], lambda p: _turned(p, irreducible_forgotten=True))
    add("mfu_forgotten", "The budget used the GPUs' peak throughput; the cluster only sustains MFU x peak.",
        [("compute", ("gpu_budget",))], lambda p: _turned(p, mfu_forgotten=True))
    add("hours_for_days", "A day was converted as 3600 s (an hour); a day is 86 400 s.",
        [("compute", ("gpu_budget",))], lambda p: _turned(p, seconds_per_day=3600))
    add("factor_inverted", "The over-training factor was inverted: it is the model's tokens per parameter "
        "divided by the optimum's.", [("factor", ("overtrained",))], lambda p: _turned(p, factor_inverted=True))
    _cf = ("closed_form",)

    def cf(part: str, f: Callable[[dict[str, Any], dict[str, float]], Any]) -> Callable[[str, dict[str, Any]], Any]:
        return lambda v, g: f(g, _closed_form_numbers(g))

    def at_six(part: str) -> Callable[[str, dict[str, Any]], Any]:
        return lambda v, g: None if float(g["flops_per_token"]) == 6 else _closed_form_numbers_at_six(g)[part]

    out += [
        Mistake("exponents_swapped", "a", "a = beta/(alpha+beta) is N_opt's exponent: the larger the data exponent "
                "beta, the faster N_opt grows.", _cf, cf("a", lambda g, x: x["b"])),
        Mistake("exponents_swapped", "b", "b = alpha/(alpha+beta) is D_opt's exponent.", _cf,
                cf("b", lambda g, x: x["a"])),
        Mistake("G_inverted", "G", "G = (alpha A / (beta B))^(1/(alpha+beta)): alpha A over beta B, not the inverse.",
                _cf, cf("G", lambda g, x: 1 / x["G"])),
        Mistake("G_root_forgotten", "G", "G is alpha A / (beta B) raised to 1/(alpha+beta).", _cf,
                cf("G", lambda g, x: (float(g["alpha"]) * float(g["A"]) / (float(g["beta"]) * float(g["B"]))))),
        Mistake("six_nd_assumed", "N_opt", "The question counts C = kND with its own k, not 6ND.", _cf,
                at_six("N_opt")),
        Mistake("six_nd_assumed", "D_opt", "The question counts C = kND with its own k, not 6ND.", _cf,
                at_six("D_opt")),
        Mistake("six_nd_assumed", "rule_compute", "The question counts C = kND with its own k, not 6ND.", _cf,
                at_six("rule_compute")),
        Mistake("ratio_inverted", "tokens_per_param", "Tokens per parameter is D_opt / N_opt, not its inverse.",
                _cf, cf("tokens_per_param", lambda g, x: 1 / x["tokens_per_param"])),
        Mistake("rule_assumed_exact", "rule_ratio", "The rule is a rounding: 0.1 x 1.7 = 0.17, so its N and D cost "
                "k x 0.17 C, not exactly C.", _cf, cf("rule_ratio", lambda g, x: 1.0)),
    ]
    return tuple(out)


MISTAKES = _mistakes()


# ---- student paths ---------------------------------------------------------------------------------
# Correct routes from what the page shows; the sampler rejects an instance where one lands outside the
# tolerance.  Parts the question tells to use an unrounded earlier value (the loss at N_opt, D_opt; N_opt
# from the unrounded C; a model's loss from the unrounded D) need no path.


def _shown(s: Solution, part: str) -> Decimal:
    """A part's answer as the student writes it: rounded (half up) to the precision the question asks."""
    answer = s.part(part).answer
    return half_up(answer.value, answer.sig, answer.decimals)


def _as_asked(s: Solution, part: str, value: Decimal | float) -> float:
    answer = s.part(part).answer
    return float(half_up(value, answer.sig, answer.decimals))


def _loss_from_rounded_terms(v: str, g: dict[str, Any], s: Solution) -> float:
    """Added exactly, as on paper: E + the terms as answered, then rounded to the decimals asked."""
    return _as_asked(s, "loss", Decimal(repr(float(g["E"]))) + _shown(s, "model_term") + _shown(s, "data_term"))


RATIO = {"rule": Decimal(17), "tokens20": Decimal(TOKENS_PER_PARAM)}  # D_opt / N_opt


def _d_opt_from_rounded_n_opt(v: str, g: dict[str, Any], s: Solution) -> float | None:
    ratio = RATIO.get(g["method"])
    return None if ratio is None else _as_asked(s, "D_opt", ratio * _shown(s, "N_opt"))


def _d_opt_from_the_budget(v: str, g: dict[str, Any], s: Solution) -> float | None:
    """C = 6ND solved for D with N_opt as answered (the fit and the heuristic satisfy C = 6ND; the rule does
    not). A GPU budget's C is taken as answered too."""
    if g["method"] == "rule":
        return None
    c = _shown(s, "compute") if v == "gpu_budget" else Decimal(repr(float(g["C"])))
    return _as_asked(s, "D_opt", c / (6 * _shown(s, "N_opt")))


def _six_figures(x: float) -> float:
    return float(half_up(x, 6))


def _fit_carried(part: str) -> Callable[[str, dict[str, Any], Solution], float | None]:
    """The closed form with G, a, b and C/6 carried to 6 significant figures, as the question allows."""

    def value(v: str, g: dict[str, Any], s: Solution) -> float | None:
        if g["method"] != "fit":
            return None
        memo = _memo_for(v, g)
        carried = memo.get("carried")
        if carried is None:  # both paths share it
            fit = Fit.of(g)
            c = float(g["C"]) if v == "optimum" else gpu_budget(g)
            carried = memo["carried"] = tuple(_six_figures(x) for x in (fit.G, fit.a, fit.b, c / 6))
        big_g, a, b, c6 = carried
        return _as_asked(s, part, big_g * c6**a if part == "N_opt" else c6**b / big_g)

    return value


def _n_opt_from_rounded_compute(v: str, g: dict[str, Any], s: Solution) -> float:
    return _as_asked(s, "N_opt", optimum(float(_shown(s, "compute")), g["method"], Fit.of(g))[0])


def _factor_from_rounded_ratios(v: str, g: dict[str, Any], s: Solution) -> float:
    return _as_asked(s, "factor", _shown(s, "tokens_per_param") / _shown(s, "opt_tokens_per_param"))


def _closed_form_carried(part: str) -> Callable[[str, dict[str, Any], Solution], float]:
    """N_opt, D_opt or D/N with G, a, b and C/k carried to 6 significant figures, as the question allows."""

    def value(v: str, g: dict[str, Any], s: Solution) -> float:
        memo = _memo_for(v, g)
        carried = memo.get("carried")
        if carried is None:  # the three paths share it
            fit = Fit.of(g)
            big_g, a, b, ck = (_six_figures(x) for x in (fit.G, fit.a, fit.b,
                                                         float(g["C"]) / float(g["flops_per_token"])))
            n, d = big_g * ck**a, ck**b / big_g
            carried = memo["carried"] = {"N_opt": n, "D_opt": d, "tokens_per_param": d / n}
        return _as_asked(s, part, carried[part])

    return value


PATHS = (
    StudentPath("loss_from_the_rounded_terms", "loss", "E plus the two terms as answered.", ("loss",),
                _loss_from_rounded_terms),
    StudentPath("d_opt_from_the_rounded_n_opt", "D_opt", "The rule's or the heuristic's tokens per parameter "
                "(17 or 20) times N_opt as answered.", ("optimum", "gpu_budget"), _d_opt_from_rounded_n_opt),
    StudentPath("d_opt_from_the_budget_and_the_rounded_n_opt", "D_opt", "D_opt = C / (6 N_opt) with N_opt (and "
                "a GPU budget's C) as answered.", ("optimum", "gpu_budget"), _d_opt_from_the_budget),
    StudentPath("n_opt_carried_to_6_figures", "N_opt", "G (C/6)^a with G, a and C/6 carried to 6 significant "
                "figures.", ("optimum", "gpu_budget"), _fit_carried("N_opt")),
    StudentPath("d_opt_carried_to_6_figures", "D_opt", "(C/6)^b / G with G, b and C/6 carried to 6 significant "
                "figures.", ("optimum", "gpu_budget"), _fit_carried("D_opt")),
    StudentPath("n_opt_from_the_rounded_compute", "N_opt", "The optimum of C as answered.", ("overtrained",),
                _n_opt_from_rounded_compute),
    *(StudentPath(f"{part}_carried_to_6_figures", part, "G, a, b and C/k carried to 6 significant figures.",
                  ("closed_form",), _closed_form_carried(part)) for part in ("N_opt", "D_opt", "tokens_per_param")),
    StudentPath("factor_from_the_rounded_ratios", "factor", "The model's tokens per parameter over the "
                "optimum's, both as answered.", ("overtrained",), _factor_from_rounded_ratios),
)

def question_values(variant: str, g: dict[str, Any], difficulty: str) -> dict[str, Any]:
    """What the question shows that follows from the givens: the fit's law with its coefficients, a budget in
    PF-days, a cluster in 8-GPU nodes, tokens per parameter, and a model card's billions of parameters and
    trillions of tokens."""
    shown: dict[str, Any] = {}
    if variant in ("optimum", "loss", "compare", "closed_form") or g.get("method") == "fit":  # the fit's law
        shown["fit_law"] = (rf"L(N, D) = E + \frac{{A}}{{N^{{\alpha}}}} + \frac{{B}}{{D^{{\beta}}}}, \qquad "
                            rf"E = {nf.num(g['E'])},\ A = {nf.num(g['A'])},\ B = {nf.num(g['B'])},\ "
                            rf"\alpha = {nf.num(g['alpha'])},\ \beta = {nf.num(g['beta'])}.")
    if "C" in g:
        shown["pf_days"] = g["C"] / 86400e15
    if "gpus" in g:  # a hard question states whole 8-GPU nodes
        shown["nodes"] = g["gpus"] // 8 if difficulty == "hard" and g["gpus"] % 8 == 0 and g["gpus"] > 8 else 0
    if "N" in g:
        shown["n_billion"] = g["N"] / 1e9
        if "D" in g:
            shown["tokens_per_param"] = int(round(g["D"] / g["N"]))
            shown["d_trillion"] = g["D"] / 1e12
    return shown


TOPIC = Topic(
    name="chinchilla",
    description="compute-optimal model size and tokens (Chinchilla), predicted loss, over-training, GPU budgets",
    variants=VARIANTS,
    sample=sample,
    solve=solve,
    mistakes=MISTAKES,
    paths=PATHS,
    question_values=question_values,
)
