"""The chinchilla topic's worked-solution steps shared by several variants: intermediate values to 6 significant
figures, the optimum by each method, a budget in PF-days, and the predicted loss."""

from __future__ import annotations

import math
from typing import Any

from exgen import numfmt as nf
from exgen.problem import Step
from exgen.topics.chinchilla.formulas import PF_DAY, Fit

def S6(x: Any) -> str:
    """An intermediate value to 6 significant figures (what a worked solution carries)."""
    return nf.sig(x, 6)


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
    """A hard question's budget, stated in PF-days, in FLOP."""
    return Step(r"The budget, with 1 PF-day $= 10^{15}\ \text{FLOP/s} \times 86400\ \text{s} = 8.64 \times "
                r"10^{19}$ FLOP:", rf"C = {S6(c / PF_DAY)}\ \text{{PF-days}} \times 8.64 \times 10^{{19}}\ "
                                    rf"\text{{FLOP/PF-day}} = {S6(c)}\ \text{{FLOP}}")


def _hard_given_steps(variant: str, g: dict[str, Any], shown: dict[str, Any]) -> tuple[Step, ...]:
    """The worked solution's first steps at hard: from what a hard question states (PF-days, 8-GPU nodes, tokens
    per parameter, a model card's billions and trillions) to the values the solver's steps use. Below hard the
    question states those values themselves, so its solution shows none of these (review C2)."""
    if "C" in g:
        return (_pf_day_step(float(g["C"])),)
    if shown.get("nodes"):
        return (Step(f"The cluster has ${shown['nodes']} \\times 8 = {g['gpus']}$ GPUs."),)
    if variant == "loss":
        return (Step("The training tokens:", rf"D = {shown['tokens_per_param']} \times N = {shown['tokens_per_param']} "
                                             rf"\times {S6(g['N'])} = {S6(g['D'])}"),)
    if variant == "overtrained":
        return (Step(f"In numbers: $N = {S6(shown['n_billion'])}$ billion $= {S6(g['N'])}$ parameters and "
                     f"$D = {S6(shown['d_trillion'])}$ trillion $= {S6(g['D'])}$ tokens."),)
    return ()


def _loss_step(label: str, n: float, d: float, fit: Fit, terms: tuple[float, float, float]) -> Step:
    model, data, total = terms
    return Step(f"Predicted loss {label}:",
                rf"L(N, D) = {nf.num(fit.E)} + \frac{{{nf.num(fit.A)}}}{{({S6(n)})^{{{nf.num(fit.alpha)}}}}} + "
                rf"\frac{{{nf.num(fit.B)}}}{{({S6(d)})^{{{nf.num(fit.beta)}}}}} = {nf.num(fit.E)} + {S6(model)} + "
                rf"{S6(data)} = {nf.fixed(total, 5)}")
