"""Chinchilla: the published examples, the three conventions for the optimum, the named mistakes, the
sampler's rejections, and the torch verifier (Newton's method on log N) against the closed form."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import needs, wrong
from exgen.generate import generate, path_failures, solve_givens
from exgen.givens import coerce
from exgen.render import Renderer
from exgen.topics import chinchilla as ch
from exgen.topics import get
from exgen.topics.base import DIFFICULTIES, InvalidGivens

GOPHER_BUDGET = 5.76e23  # Hoffmann et al. 2022, §3: Gopher's compute, the budget Chinchilla was sized for
CHINCHILLA_N, CHINCHILLA_D = 70e9, 1.4e12  # Hoffmann et al. 2022, Table 1 / abstract (seed 001's slide)


def answers(variant, givens):
    return {p.id: p.answer.value for p in solve_givens("chinchilla", variant, givens).solution.parts}


# ---- published examples ----------------------------------------------------------------------------


def test_chinchillas_own_budget_is_6ND_and_20_tokens_per_parameter():
    """Chinchilla: 70B parameters on 1.4T tokens, C = 6 · 70e9 · 1.4e12 = 5.88e23 FLOP, 20 tokens/parameter."""
    a = answers("overtrained", {"N": CHINCHILLA_N, "D": CHINCHILLA_D, "method": "tokens20"})
    assert a["compute"] == pytest.approx(5.88e23, rel=1e-12)
    assert a["tokens_per_param"] == pytest.approx(20)
    assert a["N_opt"] == pytest.approx(70e9, rel=1e-12)  # exactly compute-optimal by the heuristic
    assert a["factor"] == pytest.approx(1.0)


def test_the_20_tokens_heuristic_at_chinchillas_budget_gives_back_70B_and_1_4T():
    """N = sqrt(C / 120) = sqrt(4.9e21) = 7e10; D = 20 N = 1.4e12."""
    a = answers("optimum", {"C": 5.88e23, "method": "tokens20"})
    assert a["N_opt"] == pytest.approx(7e10, rel=1e-12)
    assert a["D_opt"] == pytest.approx(1.4e12, rel=1e-12)


def test_rounded_coefficients_give_32B_at_the_gopher_budget_not_40B():
    """seeds/README.md: α = 0.34, β = 0.28 (as published, rounded; seeds 001/002) give N_opt ≈ 32B at
    C = 5.76e23, not the paper's ~40B. The key follows the stated coefficients."""
    a = answers("optimum", {"C": GOPHER_BUDGET, "method": "fit"})
    assert a["N_opt"] == pytest.approx(3.219e10, rel=1e-3)
    assert a["D_opt"] == pytest.approx(2.982e12, rel=1e-3)
    assert a["N_opt"] * a["D_opt"] * 6 == pytest.approx(GOPHER_BUDGET)


def test_less_rounded_exponents_reproduce_the_papers_40B():
    """With α = 0.3392, β = 0.2849 the same closed form gives ≈ 40B (seeds/README.md), and the exponent
    a = β/(α+β) = 0.456 rounds to the 0.46 of Hoffmann et al. 2022 Table 2 (approach 3); the rounded
    α = 0.34, β = 0.28 give a = 0.452, which rounds to 0.45."""
    a = answers("optimum", {"C": GOPHER_BUDGET, "method": "fit", "alpha": 0.3392, "beta": 0.2849})
    assert a["N_opt"] == pytest.approx(40e9, rel=0.01)
    assert round(0.2849 / (0.3392 + 0.2849), 2) == 0.46
    assert round(0.28 / 0.62, 2) == 0.45


def test_the_closed_form_constants_with_the_seed_coefficients():
    """G = (αA/(βB))^(1/(α+β)) = (0.34·406.4 / (0.28·410.7))^(1/0.62); a = 0.28/0.62, b = 0.34/0.62."""
    fit = ch.Fit(**ch.FIT)
    assert fit.G == pytest.approx(1.344711, rel=1e-6)
    assert fit.a == pytest.approx(14 / 31) and fit.b == pytest.approx(17 / 31)


def test_seed_001s_rule_is_17_tokens_per_parameter_and_only_roughly_6ND():
    """Seed 001 gives only the rule (no worked numbers): N = 0.1 C^0.5, D = 1.7 C^0.5. Its tokens per
    parameter are 17 (not 20), and 6·N·D = 6·0.17·C = 1.02·C — the rule is 6ND to 2 percent, and is a
    different convention from the 20-tokens heuristic and from the fit (whose exponents are 0.452/0.548,
    not 0.5/0.5). At Chinchilla's budget it gives 76.7B, near the 70B Chinchilla was trained with."""
    a = answers("optimum", {"C": 5.88e23, "method": "rule"})
    assert a["D_opt"] / a["N_opt"] == pytest.approx(17)
    assert 6 * a["N_opt"] * a["D_opt"] / 5.88e23 == pytest.approx(1.02)
    assert a["N_opt"] == pytest.approx(7.668e10, rel=1e-3)
    o = answers("overtrained", {"N": CHINCHILLA_N, "D": CHINCHILLA_D, "method": "rule"})
    assert o["opt_tokens_per_param"] == pytest.approx(17)


def test_closed_form_variant_gives_table_2s_exponents_and_the_rule_check():
    """Hoffmann et al. 2022, Table 2 (approach 3): a = 0.46, b = 0.54, from α = 0.3392, β = 0.2849 (Appendix D.2,
    as Besiroglu et al. 2024, Table 1 list them); G and D/N at Gopher's budget from the same closed form; the seed
    001 rule's N and D cost 6 · 0.1 · 1.7 C = 1.02 C, and 8ND (activation recomputation) makes it 1.36 C."""
    g = {"C": GOPHER_BUDGET, "flops_per_token": 6, "alpha": 0.3392, "beta": 0.2849, **{k: ch.FIT[k] for k in "EAB"}}
    a = answers("closed_form", g)
    assert (round(a["a"], 2), round(a["b"], 2)) == (0.46, 0.54)
    assert a["G"] == pytest.approx((0.3392 * 406.4 / (0.2849 * 410.7)) ** (1 / 0.6241))
    assert a["N_opt"] == pytest.approx(40e9, rel=0.01)  # the paper's ~40B at Gopher's budget
    assert a["tokens_per_param"] == pytest.approx(a["D_opt"] / a["N_opt"])
    assert a["rule_ratio"] == pytest.approx(1.02) and a["rule_compute"] == pytest.approx(1.02 * GOPHER_BUDGET)
    eight = answers("closed_form", {**g, "flops_per_token": 8})
    assert eight["rule_ratio"] == pytest.approx(1.36)
    assert eight["N_opt"] == pytest.approx(a["N_opt"] * (6 / 8) ** a["a"])  # the budget buys C/8 N·D


def test_closed_form_questions_state_their_flop_accounting():
    for seed in range(40):
        p = generate("chinchilla", "closed_form", "medium", seed)
        text = Renderer("md").question(p)
        k = p.givens["flops_per_token"]
        assert f"C = {k}ND" in text
        if k == 8:
            assert "recomputes activations" in text


def test_closed_form_mistakes():
    g = {"C": 1e23, "flops_per_token": 8, **ch.FIT}
    value = {(m.name, m.part): wrong("chinchilla", m, "closed_form", g)
             for m in get("chinchilla").mistakes_for("closed_form")}
    a = answers("closed_form", g)
    assert value["exponents_swapped", "a"] == pytest.approx(a["b"])
    assert value["G_inverted", "G"] == pytest.approx(1 / a["G"])
    assert value["six_nd_assumed", "N_opt"] == pytest.approx(a["N_opt"] * (8 / 6) ** a["a"])
    assert value["rule_assumed_exact", "rule_ratio"] == 1.0


def test_chinchillas_predicted_loss():
    """L(70e9, 1.4e12) = 1.69 + 406.4/70e9^0.34 + 410.7/1.4e12^0.28 = 1.937 with the stated coefficients."""
    a = answers("loss", {"N": CHINCHILLA_N, "D": CHINCHILLA_D})
    assert a["loss"] == pytest.approx(1.69 + 406.4 / 70e9**0.34 + 410.7 / 1.4e12**0.28)
    assert round(a["loss"], 3) == 1.937


def test_chinchilla_beats_gopher_like_allocations_at_the_same_compute():
    """At C = 5.88e23 a 70B model (1.4T tokens) has a lower predicted loss than a 280B model (350B tokens)."""
    a = answers("compare", {"C": 5.88e23, "N_A": 70e9, "N_B": 280e9})
    assert a["D_A"] == pytest.approx(1.4e12) and a["D_B"] == pytest.approx(3.5e11)
    assert a["better"] == "A" and a["loss_B"] - a["loss_A"] > 0.01


def test_a_gpu_budget_is_gpus_times_seconds_times_peak_times_mfu():
    """1024 A100s (312 TFLOP/s dense bf16, NVIDIA datasheet) for 30 days at MFU 0.5:
    1024 · 30 · 86400 s · 312e12 FLOP/s · 0.5 = 4.141e23 FLOP."""
    g = {"gpu": "A100-80GB", "dtype": "bf16", "peak": 312.0, "gpus": 1024, "days": 30, "mfu": 0.5,
         "method": "rule"}
    a = answers("gpu_budget", g)
    assert a["compute"] == pytest.approx(1024 * 30 * 86400 * 312e12 * 0.5, rel=1e-12)
    assert a["N_opt"] == pytest.approx(0.1 * math.sqrt(a["compute"]))


def test_sampled_gpu_peaks_come_from_the_spec_table():
    from exgen.gpus import get as gpu

    for seed in range(30):
        g = generate("chinchilla", "gpu_budget", "medium", seed).givens
        assert g["peak"] * 1e12 == pytest.approx(gpu(g["gpu"]).peak[g["dtype"]])


# ---- rejections and user givens ----------------------------------------------------------------------


def test_compared_losses_are_never_a_near_tie():
    for seed in range(60):
        p = generate("chinchilla", "compare", DIFFICULTIES[seed % 3], seed)
        loss_a, loss_b = (p.solution.part(x).answer.value for x in ("loss_A", "loss_B"))
        assert abs(loss_a - loss_b) >= ch.TIE_MARGIN


def test_over_training_questions_are_over_trained():
    for seed in range(60):
        p = generate("chinchilla", "overtrained", DIFFICULTIES[seed % 3], seed)
        assert p.solution.part("factor").answer.value >= ch.MIN_OVERTRAINING
        assert p.solution.part("tokens_per_param").answer.value <= ch.MAX_TOKENS_PER_PARAM


@pytest.mark.parametrize("variant,givens,message", [
    ("gpu_budget", {"gpu": "H100", "dtype": "bf16", "peak": 989.4, "gpus": 8, "days": 1, "mfu": 40,
                    "method": "rule"}, r"mfu: 40 is outside \[0.001, 1\]"),
    ("compare", {"C": 1e22, "N_A": 1e9, "N_B": 1e9}, "equal"),
    ("optimum", {"C": -1e22, "method": "fit"}, "C: -1e\\+22 is outside"),
    ("loss", {"N": 1e9}, "missing"),
])
def test_bad_user_givens_get_a_clear_message(variant, givens, message):
    with pytest.raises(InvalidGivens, match=message):
        solve_givens("chinchilla", variant, givens)


# ---- named mistakes --------------------------------------------------------------------------------


def _mistake(name, part):
    return next(m for m in get("chinchilla").mistakes if m.name == name and m.part == part)


def mistaken(name, part, variant, givens):
    """The named mistake's value for these givens (handed the key's solution of them)."""
    return wrong("chinchilla", _mistake(name, part), variant, givens)


def test_the_named_mistakes_give_the_typical_wrong_values():
    c = 9e22  # sqrt(C) = 3e11
    rule = {"C": c, "method": "rule", **ch.FIT}
    assert mistaken("rule_n_d_swapped", "N_opt", "optimum", rule) == pytest.approx(1.7 * 3e11)
    assert mistaken("tokens20_for_rule", "N_opt", "optimum", rule) == pytest.approx(math.sqrt(c / 120))
    assert mistaken("two_nd_for_six_nd", "N_opt", "optimum", rule) is None  # the rule has no 6ND in it
    t20 = {"C": c, "method": "tokens20", **ch.FIT}
    assert mistaken("two_nd_for_six_nd", "N_opt", "optimum", t20) == pytest.approx(math.sqrt(c / 40))
    assert mistaken("rule_for_tokens20", "D_opt", "optimum", t20) == pytest.approx(1.7 * 3e11)
    assert mistaken("rule_n_d_swapped", "N_opt", "optimum", t20) is None
    gpu = {"gpu": "A100-80GB", "dtype": "bf16", "peak": 312.0, "gpus": 1000, "days": 10, "mfu": 0.4,
           "method": "fit", **ch.FIT}
    assert mistaken("mfu_forgotten", "compute", "gpu_budget", gpu) == pytest.approx(1000 * 864000 * 312e12)
    assert mistaken("hours_for_days", "compute", "gpu_budget", gpu) == pytest.approx(
        1000 * 36000 * 312e12 * 0.4)
    loss = {"N": 7e9, "D": 2e12, **ch.FIT}
    assert mistaken("loss_exponents_swapped", "loss", "loss", loss) == pytest.approx(
        1.69 + 406.4 / 7e9**0.28 + 410.7 / 2e12**0.34)


def test_every_mistake_names_a_part_of_each_of_its_variants():
    t = get("chinchilla")
    for m in t.mistakes:
        for v in m.variants:
            assert m.part in {p.id for p in generate("chinchilla", v, "medium", 0).solution.parts}, (m.name, v)
    assert len({(m.name, m.part) for m in t.mistakes}) == len(t.mistakes)


# ---- the verifier ----------------------------------------------------------------------------------


@needs("torch")
@settings(max_examples=200, deadline=None, derandomize=True)
@given(log10_c=st.floats(18, 27), alpha=st.floats(0.2, 0.5), beta=st.floats(0.2, 0.5))
def test_newton_on_log_n_agrees_with_the_closed_form_to_1e_9(log10_c, alpha, beta):
    import torch

    from exgen.verify.chinchilla import _Ctx, newton_optimum

    c = 10.0**log10_c
    g = {**ch.FIT, "alpha": alpha, "beta": beta}
    n, d, steps = newton_optimum(torch.tensor(c, dtype=torch.float64), _Ctx(g, torch.device("cpu")))
    n_closed, d_closed = ch.optimum(c, "fit", ch.Fit.of(g))
    assert n.item() == pytest.approx(n_closed, rel=1e-9)
    assert d.item() == pytest.approx(d_closed, rel=1e-9)
    assert steps < 30


@needs("torch")
def test_solver_and_verifier_agree_over_hundreds_of_seeds():
    import torch

    from exgen.grading.compare import matches
    from exgen.verify import reproduce

    variants = [v.name for v in get("chinchilla").variants]

    @settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(seed=st.integers(0, 2**32 - 1), variant=st.sampled_from(variants), difficulty=st.sampled_from(DIFFICULTIES))
    def agree(seed, variant, difficulty):
        problem = generate("chinchilla", variant, difficulty, seed)
        values = reproduce(problem, torch.device("cpu"))
        for part in problem.solution.parts:
            assert matches(part.answer, values[part.id]), (variant, part.id, seed, difficulty)
            if isinstance(part.answer.value, float):  # far tighter than the key's tolerance
                assert values[part.id] == pytest.approx(part.answer.value, rel=1e-9)

    agree()


@needs("torch")
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_exgen_verify_agrees_on_a_100_problem_key(difficulty, tmp_path):
    from click.testing import CliRunner

    from exgen.cli import cli

    runner = CliRunner()
    made = runner.invoke(cli, ["make", "--topic", "chinchilla", "--n", "100", "--seed", "4",
                               "--difficulty", difficulty, "--out", str(tmp_path)])
    assert made.exit_code == 0, made.output
    checked = runner.invoke(cli, ["verify", str(tmp_path / "key.json"), "--device", "cpu"])
    assert checked.exit_code == 0, checked.output
    last = checked.output.strip().splitlines()[-1]
    agreeing, total = last.split(" parts agree")[0].split(" of ")
    assert agreeing == total and "(100 problems" in last



# ---- student paths (issue 9) --------------------------------------------------------------------------


def _path(name):
    return next(p for p in ch.PATHS if p.name == name)


def test_a_loss_built_from_the_rounded_terms_that_misses_the_tolerance_is_never_asked():
    """Issue 9 (`--variant loss --difficulty hard --n 1000 --seed 505`, problem 414): N = 3.94e10, D = 9.85e12.
    The terms to 3 figures are 0.102 (0.1015044) and 0.0945 (0.0944849); 1.69 + 0.102 + 0.0945 = 1.8865, a tie
    which a student rounds to 1.887 (half up) or 1.886 (to even) — but the exact loss 1.885989 accepts 1.885 to
    1.887 only up to 1.886989. The path finds it, so the sampler rejects this instance."""
    problem = solve_givens("chinchilla", "loss", {"N": 3.94e10, "D": 9.85e12})
    g, s = problem.givens, problem.solution
    assert _path("loss_from_the_rounded_terms").value("loss", g, s) == (1.887, 1.886)
    assert path_failures(get("chinchilla"), "loss", g, s) == ["loss_from_the_rounded_terms"]


def test_d_opt_from_the_rounded_n_opt_is_twenty_times_the_answer():
    """C = 6.006e22 by the heuristic: N_opt = sqrt(C/120) = 2.23718e10 → 2.24e10, and a student writes
    D_opt = 20 × 2.24e10 = 4.48e11 against the exact 4.47437e11 → one unit is 10^9: inside."""
    problem = solve_givens("chinchilla", "optimum", {"C": 6.006e22, "method": "tokens20"})
    g, s = problem.givens, problem.solution
    assert _path("d_opt_from_the_rounded_n_opt").value("optimum", g, s) == 4.48e11
    assert path_failures(get("chinchilla"), "optimum", g, s) == []
    fit = solve_givens("chinchilla", "optimum", {"C": 6.006e22, "method": "fit"})
    assert _path("d_opt_from_the_rounded_n_opt").value("optimum", fit.givens, fit.solution) is None


def test_the_over_training_factor_from_the_rounded_ratios():
    """Llama-2-7B by the heuristic: D/N = 2e12 / 7e9 = 285.714 → 286; the optimum's 20; 286 / 20 = 14.3,
    the same as the exact 14.2857 to 3 figures."""
    problem = solve_givens("chinchilla", "overtrained", {"N": 7e9, "D": 2e12, "method": "tokens20"})
    g, s = problem.givens, problem.solution
    assert _path("factor_from_the_rounded_ratios").value("overtrained", g, s) == 14.3
    assert s.part("factor").answer.value == pytest.approx(14.2857, rel=1e-5)


# ---- wording (issue 9) ----------------------------------------------------------------------------------


def test_hard_fit_questions_do_not_name_exponents_they_never_define():
    text = Renderer("md").question(generate("chinchilla", "optimum", "hard", _seed_with("optimum", "hard", "fit")))
    assert "exponents $a$ and $b$" not in text and r"a = \frac" not in text
    assert "including the exponents of $C$" in text
    seed = _seed_with("optimum", "medium", "fit")
    easier = Renderer("md").question(generate("chinchilla", "optimum", "medium", seed))
    assert r"a = \frac{\beta}{\alpha+\beta}" in easier and "exponents $a$ and $b$" in easier


def test_the_rule_says_it_gives_6nd_equal_to_1_02_c():
    text = Renderer("md").question(generate("chinchilla", "optimum", "easy", _seed_with("optimum", "easy", "rule")))
    assert r"6 \times 0.1 \times 1.7\,C = 1.02\,C" in text
    a = answers("optimum", {"C": 1e24, "method": "rule"})
    assert 6 * a["N_opt"] * a["D_opt"] == pytest.approx(1.02e24)


def _seed_with(variant, difficulty, method):
    return next(s for s in range(100) if generate("chinchilla", variant, difficulty, s).givens["method"] == method)


# ---- variety (issue 9) ------------------------------------------------------------------------------


# ---- bounds (issue 10) ------------------------------------------------------------------------------


@pytest.mark.parametrize("variant,name,value", [("loss", "alpha", 1e300), ("overtrained", "N", 1e-300),
                                                ("optimum", "C", 1e300), ("gpu_budget", "days", 1e300)])
def test_extreme_givens_from_the_issue_are_refused(variant, name, value):
    """alpha = 1e300 overflowed; N = 1e-300 answered D/N = inf."""
    spec = get("chinchilla").variant(variant)
    with pytest.raises(InvalidGivens):
        coerce(next(g for g in spec.givens if g.name == name), value)
    base = generate("chinchilla", variant, "medium", 0).givens
    with pytest.raises(InvalidGivens):
        solve_givens("chinchilla", variant, {**base, name: value})


@pytest.mark.parametrize("variant", [v.name for v in ch.VARIANTS])
def test_corners_of_the_bounds_solve_quickly_to_finite_answers_or_are_refused(variant):
    import time

    spec = get("chinchilla").variant(variant)
    base = generate("chinchilla", variant, "medium", 0).givens
    bounded = [g for g in spec.givens if g.kind in ("number", "integer")]
    assert all(g.low is not None and g.high is not None for g in bounded)
    cases = [{**base, g.name: edge} for g in bounded for edge in (g.low, g.high)]
    cases += [{**base, **{g.name: g.low for g in bounded}}, {**base, **{g.name: g.high for g in bounded}}]
    if variant in ("optimum", "gpu_budget", "overtrained"):
        cases = [{**c, "method": m} for c in cases for m in ch.METHODS]
    for givens in cases:
        start = time.perf_counter()
        try:
            problem = solve_givens("chinchilla", variant, givens)
        except InvalidGivens:
            continue
        assert time.perf_counter() - start < 1.0
        for part in problem.solution.parts:
            if part.answer.kind == "number":
                assert math.isfinite(part.answer.value) and part.answer.value != 0, (givens, part.id)
    for g in bounded:  # just outside each bound is refused where a user's givens enter
        below = g.low - (1 if g.kind == "integer" else abs(g.low) * 1e-3 or 1e-3)
        above = g.high + (1 if g.kind == "integer" else g.high * 1e-3)
        for outside in (below, above):
            with pytest.raises(InvalidGivens):
                coerce(g, outside)


def test_hard_gpu_budgets_state_the_cluster_in_nodes_of_8():
    for seed in range(5):
        problem = generate("chinchilla", "gpu_budget", "hard", seed)
        nodes = f"{problem.givens['gpus'] // 8} nodes of 8 {problem.givens['gpu']} GPUs"
        assert nodes in Renderer("md").question(problem)
    assert "nodes of" not in Renderer("md").question(generate("chinchilla", "gpu_budget", "medium", 0))


def test_hard_loss_questions_give_tokens_per_parameter_so_d_is_a_step():
    for seed in range(5):
        problem = generate("chinchilla", "loss", "hard", seed)
        k = round(problem.givens["D"] / problem.givens["N"])
        assert problem.givens["D"] == pytest.approx(k * problem.givens["N"], rel=1e-15)
        text = Renderer("md").question(problem)
        assert f"trained on {k} tokens per parameter" in text and "$D = " not in text


def test_a_user_compare_with_equal_losses_is_refused_rather_than_claiming_a_lower_one():
    """A = B, α = β, E = 0 and N_B = D_A: the two models mirror each other, the losses are equal, and
    "which has the lower loss" has no answer (the key used to say B)."""
    mirror = {"C": 6e20, "N_A": 1e9, "N_B": 1e11, "E": 0, "A": 400, "B": 400, "alpha": 0.3, "beta": 0.3}
    with pytest.raises(InvalidGivens, match="same predicted loss"):
        solve_givens("chinchilla", "compare", mirror)


@pytest.mark.parametrize("variant", ["optimum", "compare", "closed_form"])
def test_hard_budgets_are_stated_in_pf_days(variant):
    """1 PF-day = 10^15 FLOP/s × 86400 s = 8.64e19 FLOP (the unit of Brown et al. 2020): hard questions state
    C in PF-days, to 4 figures, and the solution converts it. Below hard the question states C in FLOP, and the
    solution shows no PF-days either (review C2: it converted a PF-days value the question never gave)."""
    for seed in range(5):
        problem = generate("chinchilla", variant, "hard", seed)
        pf_days = problem.givens["C"] / 8.64e19
        assert float(f"{pf_days:.3e}") == pytest.approx(pf_days, rel=1e-12)
        assert "PF-days" in Renderer("md").question(problem)
        solution = Renderer("md").solution(problem)
        assert solution.index("PF-days") < solution.index(r"\text{FLOP}")
    for difficulty in ("easy", "medium"):
        problem = generate("chinchilla", variant, difficulty, 11)
        assert "PF-day" not in Renderer("md").question(problem) + Renderer("md").solution(problem)


def test_hard_solutions_first_turn_what_the_question_states_into_the_values_they_use():
    """A hard question states D as tokens per parameter, the cluster in 8-GPU nodes, N and D in billions and
    trillions: its solution derives D, the GPU count and N, D before using them (review C2's kind: a solution
    used a value the question never gave). Below hard the question gives those values, and no such step shows."""
    def solution(variant, difficulty, seed):
        problem = generate("chinchilla", variant, difficulty, seed)
        return problem, Renderer("md").solution(problem)

    for seed in range(5):
        problem, text = solution("loss", "hard", seed)
        assert text.startswith("The training tokens:") and "times N =" in text.split("$$")[1]
        problem, text = solution("overtrained", "hard", seed)
        assert text.startswith("In numbers: $N = ")
        problem, text = solution("gpu_budget", "hard", seed)
        nodes = problem.givens["gpus"] // 8
        if f"{nodes} nodes of 8" in Renderer("md").question(problem):
            assert text.startswith(f"The cluster has ${nodes} \\times 8 = {problem.givens['gpus']}$ GPUs.")
    for variant in ("loss", "overtrained", "gpu_budget"):
        text = solution(variant, "medium", 0)[1]
        assert not text.startswith(("The training tokens:", "In numbers:", "The cluster has"))


def test_hard_over_training_questions_state_sizes_as_a_model_card_does():
    for seed in range(5):
        problem = generate("chinchilla", "overtrained", "hard", seed)
        text = Renderer("md").question(problem)
        billions = float(text.split(" billion parameters")[0].split()[-1])
        trillions = float(text.split(" trillion tokens")[0].split()[-1])
        assert billions * 1e9 == pytest.approx(problem.givens["N"], rel=1e-12)
        assert trillions * 1e12 == pytest.approx(problem.givens["D"], rel=1e-12)
    assert "billion" not in Renderer("md").question(generate("chinchilla", "overtrained", "medium", 0))


def test_d_opt_from_c_over_6_n_opt_with_the_rounded_n_opt():
    """The fit satisfies C = 6ND, so a student may take D_opt = C / (6 N_opt) with their 3-figure N_opt.
    C = 4.346e22: N_opt = 1.00198e10 → 1.00e10, D = 4.346e22 / 6e10 = 7.24333e11 → 7.24e11, but the exact
    D_opt is 7.22902e11 (one unit: 10^9): the sampler does not ask this instance. At Gopher's budget the same
    route gives 5.76e23 / (6 × 3.22e10) = 2.98137e12 → 2.98e12, inside."""
    bad = solve_givens("chinchilla", "optimum", {"C": 4.346e22, "method": "fit"})
    assert _path("d_opt_from_the_budget_and_the_rounded_n_opt").value("optimum", bad.givens, bad.solution) == 7.24e11
    assert path_failures(get("chinchilla"), "optimum", bad.givens, bad.solution) == [
        "d_opt_from_the_budget_and_the_rounded_n_opt"]
    good = solve_givens("chinchilla", "optimum", {"C": GOPHER_BUDGET, "method": "fit"})
    assert _path("d_opt_from_the_budget_and_the_rounded_n_opt").value("optimum", good.givens, good.solution) == 2.98e12
    assert path_failures(get("chinchilla"), "optimum", good.givens, good.solution) == []
    rule = solve_givens("chinchilla", "optimum", {"C": 1e22, "method": "rule"})  # the rule's 6ND is 1.02 C
    assert _path("d_opt_from_the_budget_and_the_rounded_n_opt").value("optimum", rule.givens, rule.solution) is None


def test_the_closed_form_carried_to_6_figures_as_the_question_allows():
    """Gopher's budget: G = 1.34471, a = 0.451613, b = 0.548387, C/6 = 9.6e22 (6 figures each) give
    1.34471 × (9.6e22)^0.451613 = 3.21899e10 → 3.22e10 and (9.6e22)^0.548387 / 1.34471 = 2.98231e12 → 2.98e12."""
    problem = solve_givens("chinchilla", "optimum", {"C": GOPHER_BUDGET, "method": "fit"})
    g, s = problem.givens, problem.solution
    assert _path("n_opt_carried_to_6_figures").value("optimum", g, s) == 3.22e10
    assert _path("d_opt_carried_to_6_figures").value("optimum", g, s) == 2.98e12
