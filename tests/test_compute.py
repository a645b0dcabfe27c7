"""Compute and memory (6ND): the published examples, the conventions, the named mistakes, and torch's counts."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import needs, wrong
from exgen.generate import generate, path_failures, solve_givens
from exgen.givens import coerce
from exgen.grading.compare import matches
from exgen.render import Renderer
from exgen.topics import compute, get
from exgen.topics.base import InvalidGivens

HYPERCLOVA = {"params": 82e9, "tokens": 150e9, "gpus": 1024, "peak_tflops": 312}
ZERO_FIGURE_1 = {"params": 7.5e9, "gpus": 64, "unit": "GB"}
GPT3_SHAPES = {"layers": 96, "d_model": 12288, "vocab": 50257, "embeddings": "included", "tokens": 300e9}


def answers(variant, givens):
    return {p.id: p.answer.value for p in solve_givens("compute", variant, givens).solution.parts}


def mistake(variant, part, name):
    return next(m for m in compute.MISTAKES if m.name == name and m.part == part and variant in m.variants)


def wrong_value(variant, part, name, givens):
    """The named mistake's value for these givens, handed the key's solution of them."""
    return wrong("compute", mistake(variant, part, name), variant, givens)


# ---- published examples ------------------------------------------------------------------------------


def test_hyperclova_training_time_at_peak_seed_000():
    """Seed 000, "Estimating training time": 6 × 82e9 × 150e9 = 7.38e22 FLOPs on 1024 A100s at 312 TFLOP/s
    takes 2.67 days (the slide rounds C to 7.3e22 and the time to 2.7 days)."""
    a = answers("training_time", {**HYPERCLOVA, "mfu": 100})
    assert a["flops"] == pytest.approx(7.38e22)
    assert a["days"] == pytest.approx(6 * 82e9 * 150e9 / (312e12 * 1024) / 86400)
    assert round(a["days"], 2) == 2.67 and round(a["days"], 1) == 2.7


def test_hyperclova_mfu_from_the_observed_13_4_days_seed_000():
    """Seed 000: "training took 13.4 days" — the run sustained about 20 % of peak (2.67 / 13.4)."""
    a = answers("mfu", {**HYPERCLOVA, "observed_days": 13.4})
    assert a["ideal_days"] == pytest.approx(2.6735, rel=1e-4)
    assert a["mfu"] == pytest.approx(19.95, rel=1e-3)


def test_gpt3_training_compute_brown_et_al_2020():
    """Brown et al. 2020 (GPT-3, Table D.1): 175B parameters, 300B tokens, 3.14e23 FLOPs. 6ND with N = 175e9
    gives 3.15e23 exactly; the paper's 3.14e23 follows from the real count N = 12LD² + VD = 174.6B
    (L = 96, D = 12288, V = 50257)."""
    a = answers("training_time", {"params": 175e9, "tokens": 300e9, "gpus": 1024, "peak_tflops": 312, "mfu": 100})
    assert a["flops"] == pytest.approx(3.15e23)
    b = answers("params", GPT3_SHAPES)
    assert b["params"] == pytest.approx(174.56e9, rel=1e-4)
    assert b["train_flops"] == pytest.approx(3.14e23, rel=1e-3)


def test_zero_figure_1_rajbhandari_et_al_2020():
    """ZeRO, Figure 1: Ψ = 7.5B, N_d = 64, K = 12: 120 GB baseline, 31.4 / 16.6 / 1.9 GB for stages 1–3
    (1.875 GB exactly; the figure rounds it to 1.9)."""
    a = answers("zero", ZERO_FIGURE_1)
    assert a == pytest.approx({"baseline": 120.0, "stage1": 31.40625, "stage2": 16.640625, "stage3": 1.875})
    assert [round(a[k], 1) for k in ("baseline", "stage1", "stage2", "stage3")] == [120.0, 31.4, 16.6, 1.9]


def test_mixed_precision_adam_is_16_bytes_per_parameter_and_fp32_weights_4():
    """ZeRO paper, Section 3.1: 2 + 2 + 12 bytes per parameter; seed 000's table: 7B in fp32 is 28 GB."""
    a = answers("memory", {"params": 7e9, "dtype": "fp32", "unit": "GB"})
    assert a == pytest.approx({"weights": 28.0, "training": 112.0})


def test_gb_and_gib_are_asked_explicitly():
    gb = answers("memory", {"params": 7e9, "dtype": "fp16", "unit": "GB"})
    gib = answers("memory", {"params": 7e9, "dtype": "fp16", "unit": "GiB"})
    assert gb["weights"] == pytest.approx(14.0)
    assert gib["weights"] == pytest.approx(14e9 / 2**30)
    assert solve_givens("compute", "memory", {"params": 7e9, "dtype": "fp16", "unit": "GiB"}) \
        .solution.part("weights").answer.unit == "GiB"


def test_matmul_counts_seed_000():
    """Seed 000: A (m×n) x is 2mn FLOPs, A (m×n) B (n×p) is 2mnp (an FMA is a multiply and an add); the
    backward is twice the forward, so a training step is 6 × batch × |W|."""
    a = answers("matmul", {"m": 3, "n": 4, "p": 5})
    assert a == {"matvec": 24, "forward": 120, "backward": 240, "training": 360}


def test_twelve_l_d_squared_from_the_block_table_seed_001():
    """Seed 001's block table: Q, K, V, O are D×D, the MLP D×4D and 4D×D: 12 D² per block."""
    a = answers("params", {"layers": 12, "d_model": 768, "vocab": 50257, "embeddings": "excluded", "tokens": 1e9})
    assert a["per_layer"] == 12 * 768**2
    assert a["params"] == 12 * 12 * 768**2
    assert a["train_flops"] == pytest.approx(6 * 12 * 12 * 768**2 * 1e9)


def test_the_parameter_count_is_asked_exactly_so_the_compute_built_on_it_needs_no_rounding():
    """The question says C ≈ 6NT "with N your answer to the second part": N is an exact integer, so a student
    who uses their answer uses the key's N."""
    problem = solve_givens("compute", "params", GPT3_SHAPES)
    assert problem.solution.part("params").answer.kind == "integer"
    assert problem.solution.part("params").answer.value == 96 * 12 * 12288**2 + 50257 * 12288


# ---- named mistakes ----------------------------------------------------------------------------------


def test_named_mistakes_give_the_typical_wrong_values():
    g = {**HYPERCLOVA, "mfu": 40}
    days = answers("training_time", g)["days"]
    assert wrong_value("training_time", "days", "2ND_instead_of_6ND", g) == pytest.approx(days / 3)
    assert wrong_value("training_time", "days", "mfu_forgotten", g) == pytest.approx(days * 0.4)
    assert wrong_value("training_time", "days", "mfu_forgotten", {**g, "mfu": 100}) is None
    assert wrong_value("matmul", "forward", "fma_as_one_flop", {"m": 3, "n": 4, "p": 5, "batch": 1}) == 60
    g = {"params": 7e9, "dtype": "fp16", "unit": "GB", "optimizer": "adam"}
    assert wrong_value("memory", "weights", "gb_gib_confused", g) == pytest.approx(14e9 / 2**30)
    assert wrong_value("memory", "weights", "bits_for_bytes", g) == pytest.approx(112.0)
    zero = {**ZERO_FIGURE_1, "optimizer": "adam"}
    assert wrong_value("zero", "stage2", "gradients_not_sharded", zero) == pytest.approx(31.40625)



def test_answers_carry_units_pint_understands():
    from exgen.units import registry

    for variant in (v.name for v in compute.VARIANTS):
        for part in generate("compute", variant, "medium", 1).solution.parts:
            if part.answer.unit:
                registry()(part.answer.unit)  # parses


def test_invalid_givens_are_refused_with_a_message():
    with pytest.raises(InvalidGivens, match=r"mfu: 120 is outside \[0.01, 100\]"):
        solve_givens("compute", "training_time", {**HYPERCLOVA, "mfu": 120})
    with pytest.raises(InvalidGivens, match="gpus: 0 is outside"):
        solve_givens("compute", "zero", {**ZERO_FIGURE_1, "gpus": 0})


def test_importing_the_topic_imports_neither_torch_nor_pint():
    code = "import sys, exgen.topics.compute; print('torch' in sys.modules, 'pint' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# ---- the torch verifier ------------------------------------------------------------------------------


@needs("torch")
def test_flop_counter_weight_flops_are_2nt_forward_and_6nt_training():
    """A real small transformer on CPU (explicit matmul attention, tied embedding): aten.mm FLOPs are exactly
    2NT forward and 6NT forward + backward; attention's bmm FLOPs are separate."""
    import torch

    from exgen.verify import compute as vc

    torch.manual_seed(0)
    layers, d, vocab, tokens = 2, 32, 100, 8
    model = vc.Transformer(layers, d, vocab, embeddings=True)
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.02)
    n = sum(p.numel() for p in model.parameters())
    assert n == layers * 12 * d * d + vocab * d
    assert vc.weight_flops(model, tokens, d, "cpu", backward=False) == 2 * n * tokens
    assert vc.weight_flops(model, tokens, d, "cpu") == 6 * n * tokens
    assert vc.flops_per_token_per_param() == (2.0, 6.0)


@needs("torch")
def test_verifier_reproduces_the_published_examples():
    import torch

    from exgen.verify.compute import reproduce

    cpu = torch.device("cpu")
    assert reproduce("mfu", {**HYPERCLOVA, "observed_days": 13.4}, cpu)["mfu"] == pytest.approx(19.95, rel=1e-3)
    assert reproduce("zero", ZERO_FIGURE_1, cpu) == pytest.approx(
        {"baseline": 120.0, "stage1": 31.40625, "stage2": 16.640625, "stage3": 1.875})
    gpt3 = reproduce("params", GPT3_SHAPES, cpu)  # counted on the meta device at full size
    assert gpt3["params"] == 96 * 12 * 12288**2 + 50257 * 12288
    assert gpt3["train_flops"] == pytest.approx(3.142e23, rel=1e-3)


@needs("torch")
def test_measured_adam_state_is_16_bytes_per_parameter():
    from exgen.verify.compute import adam_bytes_per_param

    assert adam_bytes_per_param() == {"params": 2.0, "grads": 2.0, "optimizer": 12.0}


@needs("torch")
@settings(max_examples=40, deadline=None, derandomize=True)
@given(m=st.integers(1, 5000), n=st.integers(1, 5000), p=st.integers(1, 5000))
def test_solver_and_flop_counter_agree_on_any_matmul_shape(m, n, p):
    import torch

    from exgen.verify.compute import reproduce

    problem = solve_givens("compute", "matmul", {"m": m, "n": n, "p": p})
    got = reproduce("matmul", problem.givens, torch.device("cpu"))
    assert all(matches(part.answer, got[part.id]) for part in problem.solution.parts)



# ---- what the question states (issue 9) ---------------------------------------------------------------


def question(variant, givens):
    return Renderer("md").question(solve_givens("compute", variant, givens))


@pytest.mark.parametrize("dtype,size", [("fp64", "8 bytes (64 bits)"), ("fp32", "4 bytes (32 bits)"),
                                        ("bf16", "2 bytes (16 bits)"), ("fp8", "1 byte (8 bits)")])
def test_memory_questions_state_the_bytes_of_the_dtype(dtype, size):
    text = question("memory", {"params": 7e9, "dtype": dtype, "unit": "GB"})
    assert f"count {dtype} as {size} per parameter" in text
    assert "2 bytes each" in text and "4 bytes each" in text  # mixed-precision Adam's states


def test_the_zero_solution_substitutes_the_numbers_into_each_stage():
    """Issue 11: "2Ψ+2Ψ+KΨ/N_d = 56.875 GB" gave no numbers; each stage now shows Ψ and N_d substituted."""
    steps = " ".join(s.math for s in solve_givens("compute", "zero", ZERO_FIGURE_1).solution.steps if s.math)
    assert r"2 \times 7.5 \times 10^{9} + 2 \times 7.5 \times 10^{9} + \frac{12 \times 7.5 \times 10^{9}}{64}" in steps
    assert r"\frac{16 \times 7.5 \times 10^{9}}{64}" in steps
    assert r"1.875 \times 10^{9}\ \text{B} = \frac{1.875 \times 10^{9}}{10^9}\ \text{GB} = 1.875\ \text{GB}" in steps


# ---- student paths ----------------------------------------------------------------------------------


def path(name):
    return next(p for p in compute.PATHS if p.name == name)


def test_the_mfu_paths_compute_what_they_say_on_hyperclova():
    """C = 7.38e22 exactly (4 figures: 7.380e22); at peak 7.38e22 / (1024 × 312e12) s = 2.6735 days → 2.674;
    MFU from the answered 2.674 days over 13.4: 19.955 % → 20.0 (half up)."""
    problem = solve_givens("compute", "mfu", {**HYPERCLOVA, "observed_days": 13.4})
    g, s = problem.givens, problem.solution
    assert path("ideal_days_from_the_rounded_compute").value("mfu", g, s) == 2.674
    assert path("mfu_from_the_rounded_ideal_time").value("mfu", g, s) == 20.0
    assert path_failures(get("compute"), "mfu", g, s) == []


def test_a_training_count_built_from_the_rounded_forward_is_caught():
    """m = n = p = 1664: forward 2 × 1664³ = 9.2149e9 → 9.215e9 (4 figures), 3 × 9.215e9 = 2.7645e10, a tie
    written 2.765e10 or 2.764e10, and the exact 6 × 1664³ = 2.76447e10: both inside one unit (10^7). m = 1344, n = p = 2048: forward
    1.12743e10 → 1.127e10, 3 × 1.127e10 = 3.381e10 against 3.38229e10: 1.3 units out, so the sampler does not
    ask this instance."""
    ok = solve_givens("compute", "matmul", {"m": 1664, "n": 1664, "p": 1664})
    assert path("training_as_three_rounded_forwards").value("matmul", ok.givens, ok.solution) == (2.765e10, 2.764e10)
    assert path_failures(get("compute"), "matmul", ok.givens, ok.solution) == []
    bad = solve_givens("compute", "matmul", {"m": 1344, "n": 2048, "p": 2048})
    assert path("training_as_three_rounded_forwards").value("matmul", bad.givens, bad.solution) == 3.381e10
    assert path_failures(get("compute"), "matmul", bad.givens, bad.solution) == [
        "training_as_three_rounded_forwards"]


def test_exact_counts_need_no_path():
    small = solve_givens("compute", "matmul", {"m": 3, "n": 4, "p": 5})
    assert path("backward_as_twice_the_rounded_forward").value("matmul", small.givens, small.solution) is None


# ---- variety (issue 9) ------------------------------------------------------------------------------


# ---- bounds (issue 10) ------------------------------------------------------------------------------


@pytest.mark.parametrize("variant,name,value", [("memory", "params", 1e300), ("training_time", "peak_tflops", 1e-300),
                                                ("mfu", "tokens", 1e300), ("matmul", "m", 10**12)])
def test_extreme_givens_from_the_issue_are_refused(variant, name, value):
    spec = get("compute").variant(variant)
    with pytest.raises(InvalidGivens):
        coerce(next(g for g in spec.givens if g.name == name), value)
    base = generate("compute", variant, "medium", 0).givens
    with pytest.raises(InvalidGivens):
        solve_givens("compute", variant, {**base, name: value})


@pytest.mark.parametrize("variant", ["training_time", "mfu", "zero"])
def test_hard_clusters_are_stated_in_nodes_of_8_gpus(variant):
    """Hard adds a step: the student multiplies nodes by 8 before the formula."""
    for seed in range(5):
        problem = generate("compute", variant, "hard", seed)
        assert f"{problem.givens['gpus'] // 8} nodes of 8 GPUs" in Renderer("md").question(problem)
        assert problem.givens["gpus"] % 8 == 0
    easy = generate("compute", variant, "easy", 0)
    assert "nodes of" not in Renderer("md").question(easy)


def test_sgd_with_momentum_keeps_8_bytes_of_optimizer_state():
    """Hard memory and ZeRO questions may train with SGD with momentum: an fp32 master copy and momentum,
    K = 8, so 12 bytes per parameter; the question lists the states and leaves K to the student."""
    a = answers("zero", {**ZERO_FIGURE_1, "optimizer": "sgd_momentum"})
    assert a == pytest.approx({"baseline": 90.0, "stage1": 30 + 7.5 * 8 / 64, "stage2": 15 + 7.5 * 10 / 64,
                               "stage3": 7.5 * 12 / 64})
    assert answers("memory", {"params": 7e9, "dtype": "fp16", "unit": "GB", "optimizer": "sgd_momentum"}) == \
        pytest.approx({"weights": 14.0, "training": 84.0})
    g = {"params": 7e9, "dtype": "fp16", "unit": "GB", "optimizer": "sgd_momentum"}
    assert wrong_value("memory", "training", "adam_states_for_sgd", g) == pytest.approx(112.0)
    hard = next(p for p in (generate("compute", "zero", "hard", s) for s in range(40))
                if p.givens["optimizer"] == "sgd_momentum")
    text = Renderer("md").question(hard)
    assert "$K$ bytes of optimizer state: an fp32 master copy of the parameters and momentum, 4 bytes each" in text
    assert "K = 8" not in text


@needs("torch")
def test_measured_sgd_momentum_state_is_12_bytes_per_parameter():
    from exgen.verify.compute import optimizer_bytes_per_param

    assert optimizer_bytes_per_param("sgd_momentum") == {"params": 2.0, "grads": 2.0, "optimizer": 8.0}


def test_hard_parameter_counts_state_heads_so_d_is_a_step():
    for seed in range(5):
        problem = generate("compute", "params", "hard", seed)
        d = problem.givens["d_model"]
        text = Renderer("md").question(problem)
        assert f"{d // 128} attention heads of dimension 128" in text and f"D = {d}" not in text
        assert rf"$D = {d // 128} \times 128 = {d}$" in Renderer("md").solution(problem)


def test_a_parameter_count_that_gives_d_derives_no_heads():
    """Review C11: where the question gives D directly (easy, medium), the solution shows no heads × 128 line."""
    for difficulty in ("easy", "medium"):
        for seed in range(5):
            problem = generate("compute", "params", difficulty, seed)
            assert r"\times 128 =" not in Renderer("md").solution(problem)


def test_a_batch_of_products_counts_the_weight_gradient_once_per_item():
    """Hard: A multiplies b matrices B_i. Forward 2mnpb; backward dL/dA = Σ_i dL/dY_i B_iᵀ is b products plus
    the b products dL/dB_i: 4mnpb (not 2mnp + 2mnpb); training 6mnpb. 3 × 4 × 5 with b = 7: 840, 1680, 2520."""
    a = answers("matmul", {"m": 3, "n": 4, "p": 5, "batch": 7})
    assert a == {"matvec": 24, "forward": 840, "backward": 1680, "training": 2520}
    g = {"m": 3, "n": 4, "p": 5, "batch": 7}
    assert wrong_value("matmul", "backward", "weight_gradient_counted_once", g) == 120 + 840
    assert wrong_value("matmul", "forward", "batch_forgotten", g) == 120
    assert wrong_value("matmul", "forward", "batch_forgotten", {**g, "batch": 1}) is None
    hard = generate("compute", "matmul", "hard", 0)
    assert hard.givens["batch"] > 1 and f"$b = {hard.givens['batch']}$ matrices" in Renderer("md").question(hard)
    assert generate("compute", "matmul", "medium", 0).givens["batch"] == 1


@needs("torch")
def test_the_flop_counter_agrees_on_a_batch_of_products():
    import torch

    from exgen.verify.compute import reproduce

    assert reproduce("matmul", {"m": 3, "n": 4, "p": 5, "batch": 7}, torch.device("cpu")) == {
        "matvec": 24, "forward": 840, "backward": 1680, "training": 2520}


def test_hard_memory_questions_state_the_dtype_in_bits_only():
    for seed in range(5):
        problem = generate("compute", "memory", "hard", seed)
        bits = 8 * compute.BYTES_PER_DTYPE[problem.givens["dtype"]]
        text = Renderer("md").question(problem)
        assert f"as {bits} bits per parameter (8 bits to a byte)" in text and "byte (" not in text


def test_gpt3_with_its_learned_position_embeddings_is_174_6_billion_parameters():
    """Brown et al. 2020 (GPT-3 175B: 96 layers, d_model 12288, n_ctx 2048, vocabulary 50257 as in GPT-2, learned
    position embeddings as in GPT-2): 12LD^2 + VD + n_ctx D = 174,588,899,328, the paper's "175B"."""
    a = answers("params", {**GPT3_SHAPES, "positions": 2048})
    assert a["params"] == 12 * 96 * 12288**2 + 50257 * 12288 + 2048 * 12288 == 174_588_899_328
    assert wrong_value("params", "params", "position_embeddings_left_out", {**GPT3_SHAPES, "positions": 2048}) == \
        answers("params", GPT3_SHAPES)["params"]


def test_zero_positions_means_none_and_negative_is_refused():
    assert answers("params", {**GPT3_SHAPES, "positions": 0}) == answers("params", GPT3_SHAPES)
    with pytest.raises(InvalidGivens):
        solve_givens("compute", "params", {**GPT3_SHAPES, "positions": -1})
