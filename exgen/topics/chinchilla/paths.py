"""The chinchilla topic's student paths: correct routes from what the page shows (rounded earlier answers,
constants carried to 6 figures); the sampler rejects an instance where one lands outside the tolerance."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from exgen import numfmt as nf
from exgen.problem import Solution
from exgen.topics.base import StudentPath, each
from exgen.topics.chinchilla.formulas import TOKENS_PER_PARAM, Fit, optimum

# Correct routes from what the page shows; the sampler rejects an instance where one lands outside the
# tolerance.  Parts the question tells to use an unrounded earlier value (the loss at N_opt, D_opt; N_opt
# from the unrounded C; a model's loss from the unrounded D) need no path.


def _shown(s: Solution, part: str) -> tuple[Decimal, ...]:
    """A part's answer as the student writes it, rounded to the precision the question asks (at a tie either
    neighbour: `nf.held`), as the decimal written."""
    answer = s.part(part).answer
    return tuple(Decimal(repr(v)) for v in nf.held(answer.value, answer.sig, answer.decimals))


def _as_asked(s: Solution, part: str, value: Decimal | float) -> tuple[float, ...]:
    answer = s.part(part).answer
    return nf.held(value, answer.sig, answer.decimals)


def _loss_from_rounded_terms(v: str, g: dict[str, Any], s: Solution) -> float:
    """Added exactly, as on paper: E + the terms as answered, then rounded to the decimals asked."""
    e = Decimal(repr(float(g["E"])))
    return each(lambda model, data: _as_asked(s, "loss", e + model + data), _shown(s, "model_term"),
                _shown(s, "data_term"))


RATIO = {"rule": Decimal(17), "tokens20": Decimal(TOKENS_PER_PARAM)}  # D_opt / N_opt


def _d_opt_from_rounded_n_opt(v: str, g: dict[str, Any], s: Solution) -> float | None:
    ratio = RATIO.get(g["method"])
    return None if ratio is None else each(lambda n: _as_asked(s, "D_opt", ratio * n), _shown(s, "N_opt"))


def _d_opt_from_the_budget(v: str, g: dict[str, Any], s: Solution) -> float | None:
    """C = 6ND solved for D with N_opt as answered (the fit and the heuristic satisfy C = 6ND; the rule does
    not). A GPU budget's C is taken as answered too."""
    if g["method"] == "rule":
        return None
    c = _shown(s, "compute") if v == "gpu_budget" else (Decimal(repr(float(g["C"]))),)
    return each(lambda c, n: _as_asked(s, "D_opt", c / (6 * n)), c, _shown(s, "N_opt"))


def _six_figures(x: float) -> tuple[float, ...]:
    return nf.held(x, 6)


def _fit_carried(part: str) -> Callable[[str, dict[str, Any], Solution], float | None]:
    """The closed form with G, a, b and C/6 carried to 6 significant figures, as the question allows."""

    def value(v: str, g: dict[str, Any], s: Solution) -> float | None:
        if g["method"] != "fit":
            return None
        fit = Fit.of(g)  # G, a and b: this variant's solution does not hold them
        c = float(g["C"]) if v == "optimum" else s.value("compute")
        return each(lambda big_g, a, b, c6: _as_asked(s, part, big_g * c6**a if part == "N_opt" else c6**b / big_g),
                    *(_six_figures(x) for x in (fit.G, fit.a, fit.b, c / 6)))

    return value


def _n_opt_from_rounded_compute(v: str, g: dict[str, Any], s: Solution) -> float:
    return each(lambda c: _as_asked(s, "N_opt", optimum(float(c), g["method"], Fit.of(g))[0]), _shown(s, "compute"))


def _factor_from_rounded_ratios(v: str, g: dict[str, Any], s: Solution) -> float:
    return each(lambda model, opt: _as_asked(s, "factor", model / opt), _shown(s, "tokens_per_param"),
                _shown(s, "opt_tokens_per_param"))


def _closed_form_carried(part: str) -> Callable[[str, dict[str, Any], Solution], float]:
    """N_opt, D_opt or D/N with G, a, b and C/k carried to 6 significant figures, as the question allows."""

    def value(v: str, g: dict[str, Any], s: Solution) -> float:
        def route(big_g: float, a: float, b: float, ck: float) -> tuple[float, ...]:
            n, d = big_g * ck**a, ck**b / big_g
            return _as_asked(s, part, {"N_opt": n, "D_opt": d, "tokens_per_param": d / n}[part])

        return each(route, *(_six_figures(x) for x in (s.value("G"), s.value("a"), s.value("b"),
                                                       float(g["C"]) / float(g["flops_per_token"]))))

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
