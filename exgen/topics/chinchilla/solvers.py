"""The chinchilla topic's solvers, one per variant: each lists its parts and the worked steps, under the key's
knobs or a mistake's."""

from __future__ import annotations

import math
from typing import Any, Callable

from exgen import numfmt as nf
from exgen.problem import Answer, Part, Solution, Step
from exgen.topics.base import InvalidGivens
from exgen.topics.chinchilla.formulas import (
    KEY, LOSS_DECIMALS, RULE_D, RULE_N, SECONDS_PER_DAY, SIG, Fit, Knobs, _is_key, gpu_budget, loss, optimum)
from exgen.topics.chinchilla.steps import S6, _loss_step, _optimum_steps

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
    steps = lambda: [*_optimum_steps(c, method, fit, n, d),  # noqa: E731 — key only
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


def _closed_form_numbers_at_six(g: dict[str, Any]) -> dict[str, float]:
    """The closed form's numbers under C = 6ND whatever the question's k (the six_nd_assumed mistakes)."""
    return _closed_form_numbers({**g, "flops_per_token": 6})


def _closed_form_numbers(g: dict[str, Any]) -> dict[str, float]:
    """The closed form's numbers: the constants, the optimum and the rule's check (the sampler's filter and the
    solver)."""
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


def _solve(variant: str, g: dict[str, Any], knobs: Knobs = KEY) -> Solution | _Values:
    """The key's Solution, or under a mistake's knobs the parts' values only."""
    return _SOLVERS[variant](g, knobs)
