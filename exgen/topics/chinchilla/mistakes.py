"""The chinchilla topic's named mistakes: most re-run the solver with one knob turned (2ND for 6ND, N and D
swapped, …); the closed form's work on its numbers."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from exgen.problem import Solution
from exgen.topics.base import Mistake
from exgen.topics.chinchilla.formulas import KEY
from exgen.topics.chinchilla.solvers import _closed_form_numbers_at_six, _solve

Wrong = Callable[[str, dict[str, Any], Solution], Any]


def _turned(part: str, **knobs: Any) -> Wrong:
    """The part's value with one knob turned, or None where it is the key's (the solution's) value."""
    wrong_knobs = replace(KEY, **knobs)

    def wrong(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        if "method" in knobs and g.get("method") == knobs["method"]:
            return None
        value = _solve(variant, g, wrong_knobs).value(part)
        return None if value == solution.value(part) else value

    return wrong


def _method_only(asked: str, part: str, **knobs: Any) -> Wrong:
    """A mistake that only exists when the question asks for method `asked`."""
    inner = _turned(part, **knobs)
    return lambda variant, g, s: inner(variant, g, s) if g["method"] == asked else None


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

    def at_six(part: str) -> Wrong:
        return lambda v, g, s: None if float(g["flops_per_token"]) == 6 else _closed_form_numbers_at_six(g)[part]

    out += [
        Mistake("exponents_swapped", "a", "a = beta/(alpha+beta) is N_opt's exponent: the larger the data exponent "
                "beta, the faster N_opt grows.", _cf, lambda v, g, s: s.value("b")),
        Mistake("exponents_swapped", "b", "b = alpha/(alpha+beta) is D_opt's exponent.", _cf,
                lambda v, g, s: s.value("a")),
        Mistake("G_inverted", "G", "G = (alpha A / (beta B))^(1/(alpha+beta)): alpha A over beta B, not the inverse.",
                _cf, lambda v, g, s: 1 / s.value("G")),
        Mistake("G_root_forgotten", "G", "G is alpha A / (beta B) raised to 1/(alpha+beta).", _cf,
                lambda v, g, s: float(g["alpha"]) * float(g["A"]) / (float(g["beta"]) * float(g["B"]))),
        Mistake("six_nd_assumed", "N_opt", "The question counts C = kND with its own k, not 6ND.", _cf,
                at_six("N_opt")),
        Mistake("six_nd_assumed", "D_opt", "The question counts C = kND with its own k, not 6ND.", _cf,
                at_six("D_opt")),
        Mistake("six_nd_assumed", "rule_compute", "The question counts C = kND with its own k, not 6ND.", _cf,
                at_six("rule_compute")),
        Mistake("ratio_inverted", "tokens_per_param", "Tokens per parameter is D_opt / N_opt, not its inverse.",
                _cf, lambda v, g, s: 1 / s.value("tokens_per_param")),
        Mistake("rule_assumed_exact", "rule_ratio", "The rule is a rounding: 0.1 x 1.7 = 0.17, so its N and D cost "
                "k x 0.17 C, not exactly C.", _cf, lambda v, g, s: 1.0),
    ]
    return tuple(out)


MISTAKES = _mistakes()
