"""Linear quantization: the published worked examples, the conventions, and the sampler's rejections."""

from __future__ import annotations

from fractions import Fraction

import pytest

from conftest import needs, wrong
from exgen.generate import generate, path_failures, solve_givens
from exgen.render import Renderer
from exgen.rng import Rng
from exgen.topics import quantization as qz
from exgen.topics.base import InvalidGivens, Rejected

# Seed 003 ("Model efficiency"), Linear Quantization slides: the 4x4 matrix quantized to 2-bit signed integers.
SEED_003_X = [[2.09, -0.98, 1.48, 0.09], [0.05, -0.14, -1.08, 2.12], [-0.91, 1.92, 0, -1.03], [1.87, 0, 1.53, 1.49]]
SEED_003_Q = [[1, -2, 0, -1], [-1, -1, -2, 1], [-2, 1, -1, -2], [1, -1, 0, 0]]


def answers(problem):
    return {p.id: p.answer.value for p in problem.solution.parts}


def test_seed_003_affine_example_scale_zero_point_and_integers():
    """Seed 003: S = (2.12 − (−1.08)) / (1 − (−2)) ≈ 1.07, Z = −1, and the slide's integer matrix."""
    a = answers(solve_givens("quantization", "affine",
                             {"X": SEED_003_X, "bits": 2, "signed": "signed", "metric": "frobenius"}))
    assert a["scale"] == pytest.approx(3.2 / 3)
    assert round(a["scale"], 2) == 1.07
    assert a["zero_point"] == -1
    assert a["q"] == SEED_003_Q


def test_seed_003_reconstruction_uses_the_unrounded_scale():
    """The slide reconstructs with S rounded to 1.07 (2.14); carrying S unrounded gives 2.1333 — seeds/README.md."""
    a = answers(solve_givens("quantization", "affine",
                             {"X": SEED_003_X, "bits": 2, "signed": "signed", "metric": "frobenius"}))
    assert a["reconstruction"][0][:2] == pytest.approx([2 * 3.2 / 3, -3.2 / 3])


def test_seed_003_per_channel_example():
    """Seed 003, Per-Channel Quantization slide (rows as channels, S = |r|max/q_max, 2-bit): the per-channel integers."""
    x = [[2.09, -0.98, 1.98, 0.09], [0.05, -0.14, -1.08, 2.12], [-0.91, 1.92, 0, -1.03], [1.87, 0, 1.53, 1.49]]
    a = answers(solve_givens("quantization", "per_channel", {"X": x, "bits": 2}))
    assert a["q_rows"] == [[1, 0, 1, 0], [0, 0, -1, 1], [0, 1, 0, -1], [1, 0, 1, 1]]
    assert a["scale_rows"] == pytest.approx([2.09, 2.12, 1.92, 1.87])
    # The slide's per-tensor reconstruction maps -1.03 to -2.12, but -1.03 / 2.12 = -0.486 rounds to 0: its
    # numbers do not all follow from its formulas (seeds/README.md), so the key follows the formulas.
    assert a["q_tensor"][2] == [0, 1, 0, 0]


def test_absmax_conventions_differ_as_the_seeds_do():
    """|r|max/q_max (PyTorch, LLM.int8: 127 for int8) vs −|r|max/q_min = |r|max/128 (seeds 000/003)."""
    g = {"X": [[1.27, -0.5]], "bits": 8, "metric": "max_abs"}
    qmax = answers(solve_givens("quantization", "absmax", {**g, "convention": "qmax"}))
    qmin = answers(solve_givens("quantization", "absmax", {**g, "convention": "qmin"}))
    assert qmax["scale"] == pytest.approx(0.01) and qmax["q"] == [[127, -50]]
    assert qmin["scale"] == pytest.approx(1.27 / 128) and qmin["q"] == [[127, -50]]  # 128 clamped to 127


def test_storage_of_a_7b_model_at_4_bits_with_group_scales():
    a = answers(solve_givens("quantization", "storage", {"params": 7e9, "source_bits": 16, "bits": 4, "group": 128}))
    assert a["before"] == pytest.approx(14.0)
    assert a["after"] == pytest.approx(3.5 + 7e9 / 128 * 2 / 1e9)


def test_integer_ranges():
    assert qz.int_range(2, True) == (-2, 1)
    assert qz.int_range(8, True) == (-128, 127)
    assert qz.int_range(4, False) == (0, 15)


def test_rounding_is_half_away_from_zero_for_user_instances():
    assert [qz.round_half_away(Fraction(n, 2)) for n in (-3, -1, 1, 3)] == [-2, -1, 1, 2]


def test_the_sampler_rejects_values_near_a_rounding_boundary():
    with pytest.raises(Rejected):
        qz._reject_ties([Fraction(1, 2) + Fraction(1, 100)])
    qz._reject_ties([Fraction(1, 2) + Fraction(1, 10)])  # far enough


def test_sampled_matrices_straddle_zero_and_avoid_ties():
    for seed in range(50):
        p = generate("quantization", "affine", "medium", seed)
        flat = [v for row in p.givens["X"] for v in row]
        assert min(flat) < 0 < max(flat)
        scale = Fraction(str(max(flat))) - Fraction(str(min(flat)))
        scale /= (2 ** p.givens["bits"] - 1)
        assert not any(qz.near_tie(Fraction(str(v)) / scale) for v in flat)


def test_easy_questions_are_exam_friendly():
    """Easy: a 3x3 matrix of one-decimal numbers, 2-bit integers (a non-programmable calculator suffices)."""
    for seed in range(20):
        p = generate("quantization", "affine", "easy", seed)
        assert len(p.givens["X"]) == 3 and p.givens["bits"] == 2
        assert all(round(v, 1) == v for row in p.givens["X"] for v in row)


def test_named_mistakes_give_the_typical_wrong_values():
    g = {"X": SEED_003_X, "bits": 2, "signed": "signed", "metric": "frobenius"}
    by_name = {m.name: m for m in qz.MISTAKES}

    def named(name: str, variant: str, givens: dict) -> object:
        return wrong("quantization", by_name[name], variant, givens)

    assert named("zero_point_rounded_other_way", "affine", g) == 0  # Z_exact = -0.9875 -> 0 instead of -1
    assert named("levels_2_to_the_b", "affine", g) == pytest.approx(3.2 / 4)
    assert named("unsigned_range_for_signed", "affine", g) == 1  # round(0 + 1.08/1.0667)
    absmax = {"X": [[1.28, -0.5]], "bits": 8, "convention": "qmin", "metric": "max_abs"}
    assert named("not_clamped", "absmax", absmax) == [[128, -50]]
    assert named("absmax_convention_mixed_up", "absmax", absmax) == pytest.approx(1.28 / 127)


@pytest.mark.parametrize("givens,message", [
    ({"X": [[1, 1], [1, 1]], "bits": 2, "signed": "signed", "metric": "mse"}, "all entries equal"),
    ({"X": [[1, 2], [3]], "bits": 2, "signed": "signed", "metric": "mse"}, "rectangular|same number of entries"),
    ({"X": [[1, -2]], "bits": 5, "signed": "signed", "metric": "mse"}, "bits: 5 is not one of 2, 3, 4, 8"),
    ({"X": [[1, -2]], "bits": 2, "metric": "mse"}, "missing given"),
])
def test_bad_user_givens_are_explained(givens, message):
    with pytest.raises(InvalidGivens, match=message):
        solve_givens("quantization", "affine", givens)


def test_rng_decimal_is_exact():
    value = Rng("x").decimal(-2, 2, 2)
    assert isinstance(value, Fraction) and value.denominator in (1, 2, 4, 5, 10, 20, 25, 50, 100)


def test_a_sampled_all_zero_row_is_rejected_not_divided_by():
    """Seed 21485's stream draws a 3x3 easy matrix with a zero row (it divided by zero before the fix)."""
    p = generate("quantization", "per_channel", "easy", 21485)
    assert all(max(abs(v) for v in row) > 0 for row in p.givens["X"])


# ---- fair questions (issue 9): the error's reconstruction, the tie rule, student paths -------------------

MEDIUM_X = [[1.37, -2.21, 0.48, 2.05], [-0.66, 1.12, -1.74, 0.31], [2.38, -0.09, -1.27, 0.93],
            [-2.46, 0.75, 1.61, -0.52]]


def question(problem):
    from exgen.render import Renderer

    return Renderer("md").question(problem)


@pytest.mark.parametrize("variant,extra", [("affine", {"signed": "signed"}), ("absmax", {"convention": "qmin"})])
def test_the_error_part_says_which_reconstruction_it_means(variant, extra):
    """Issue 9: 'the error part does not say whether X̂ is the 2-decimal reconstruction or the exact one'."""
    problem = solve_givens("quantization", variant, {"X": MEDIUM_X, "bits": 4, "metric": "mse", **extra})
    assert "unrounded reconstruction" in question(problem)


@pytest.mark.parametrize("variant", ["affine", "absmax"])
@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_a_student_using_the_rounded_reconstruction_is_never_marked_wrong(variant, difficulty):
    """Issue 9 (seeds 8001, 8011): the error computed from the reconstruction as reported lands inside the
    tolerance in every sampled problem, as does the 6-figure-scale calculator path for every part."""
    for seed in range(8000, 8030):
        problem = generate("quantization", variant, difficulty, seed)
        assert path_failures(qz.TOPIC, variant, problem.givens, problem.solution) == [], seed


def test_a_rounded_reconstruction_can_move_the_error_so_unfair_instances_are_rejected():
    """The path is real: on a hand instance it falls outside the tolerance, and `generate` would refuse it."""
    x = [[0.83, -1.57], [1.12, 0.04]]
    problem = solve_givens("quantization", "absmax", {"X": x, "bits": 2, "convention": "qmax", "metric": "mse"})
    # S = 1.57, q = [[1, -1], [1, 0]], X̂ = [[1.57, -1.57], [1.57, 0]]: rounding changes nothing here…
    assert qz._error_of_rounded_reconstruction("absmax", problem.givens, problem.solution) == \
        float(f"{problem.solution.part('error').answer.value:.2e}")
    x = [[0.83, -1.5], [1.12, 0.04]]
    problem = solve_givens("quantization", "absmax", {"X": x, "bits": 4, "convention": "qmax", "metric": "mse",
                                                       "decimals": 1})
    # …but with S = 1.5/7 and X̂ to 1 decimal, the mean squared error of the rounded entries differs.
    # X̂ = [[0.9, -1.5], [1.1, 0]]: (0.07² + 0 + 0.02² + 0.04²)/4 = 0.001725 exactly, a tie at 3 figures that
    # the float 0.0017250000000000024 hides: the student may write either neighbour
    rounded = [[round(v, 1) for v in row] for row in problem.solution.part("reconstruction").answer.value]
    assert rounded == [[0.9, -1.5], [1.1, 0.0]]
    assert qz._error_of_rounded_reconstruction("absmax", problem.givens, problem.solution) == (0.00173, 0.00172)
    assert "error_of_rounded_reconstruction" in path_failures(qz.TOPIC, "absmax", problem.givens, problem.solution)


def test_solve_states_the_tie_rule_and_rounds_half_away_from_zero():
    """Issue 9: `exgen solve` claimed 'no value lies exactly halfway' when one did. X = [-1, 0.25, 1] to 2-bit
    signed absmax (qmax): S = 1, r/S = 0.25 → 0; with X = [-1, 0.5, 1], 0.5 lies exactly halfway → 1."""
    problem = solve_givens("quantization", "absmax", {"X": [[-1, 0.5, 1]], "bits": 2, "convention": "qmax",
                                                       "metric": "max_abs"})
    assert problem.solution.part("q").answer.value == [[-1, 1, 1]]
    text = question(problem)
    assert "halfway rounds away from zero" in text and "no value" not in text


def test_calculator_path_carries_the_scale_to_6_figures():
    """The path computes what it says: S = 3.2/3 → 1.06667, Z = round(−2 + 1.08/1.06667) = −1 (seed 003)."""
    g = {"X": SEED_003_X, "bits": 2, "signed": "signed", "metric": "frobenius", "decimals": 2}
    (got,) = qz._calculator("affine", g)  # 1.06667 is no tie: one scale
    assert got["zero_point"] == -1 and got["q"] == SEED_003_Q
    assert got["reconstruction"][0][0] == pytest.approx(1.06667 * 2)


def test_storage_ratio_path_uses_the_reported_sizes():
    """7e9 fp16 parameters at 4 bits, groups of 128: 14.0 GB and 3.609375 GB, reported 14.0 and 3.61 → 3.88."""
    problem = solve_givens("quantization", "storage", {"params": 7e9, "source_bits": 16, "bits": 4, "group": 128})
    assert qz._from_rounded("ratio", "before", "after")("storage", problem.givens, problem.solution) == 3.88


def test_storage_zero_points_and_kept_parameters():
    """Hard storage: 10e9 fp16 parameters, 1e9 kept in fp16, 9e9 quantized to 4 bits with a 2-byte scale and a
    4-bit zero point per 64 weights: 4.5e9 + (9e9/64)(2 + 0.5) + 2e9 bytes."""
    a = answers(solve_givens("quantization", "storage", {"params": 10e9, "source_bits": 16, "bits": 4, "group": 64,
                                                         "zero_points": "b-bit", "kept_params": 1e9}))
    assert a["after"] == pytest.approx((4.5e9 + 9e9 / 64 * 2.5 + 2e9) / 1e9)
    assert a["before"] == pytest.approx(20.0)


def test_per_channel_asks_the_error_ratio_which_varies():
    """Issue 9: per_channel easy always preferred per-channel, so its choice part was constant. It now asks the
    ratio of the two errors, which differs from problem to problem and is below 1 when per-channel wins."""
    ratios = {generate("quantization", "per_channel", "easy", seed).solution.part("error_ratio").answer.value
              for seed in range(40)}
    assert len(ratios) > 30
    a = answers(solve_givens("quantization", "per_channel", {"X": SEED_003_X, "bits": 2}))
    assert a["error_ratio"] == pytest.approx(a["error_rows"] / a["error_tensor"])


# ---- variety (issue 9) ----------------------------------------------------------------------------------


# ---- bounds (issue 10) ----------------------------------------------------------------------------------


def test_a_1000_by_1000_matrix_and_negative_decimals_are_refused():
    """Issue 10: `exgen solve` with bits of a 1000×1000 matrix, or decimals=-1."""
    big = [[0.5] * 1000 for _ in range(1000)]
    with pytest.raises(InvalidGivens, match="at most 64 entries"):
        solve_givens("quantization", "absmax", {"X": big, "bits": 4, "convention": "qmax", "metric": "mse"})
    with pytest.raises(InvalidGivens, match="decimals"):
        solve_givens("quantization", "affine", {"X": MEDIUM_X, "bits": 4, "signed": "signed", "metric": "mse",
                                                "decimals": -1})


# ---- hard adds a step (issue 9) ---------------------------------------------------------------------------


def test_absmax_with_a_clipping_threshold():
    """Hard absmax may clip: S = c/q_max with c = 1 for 4 bits gives S = 1/7; 1.5/S = 10.5 → 11 → clamped to 7,
    −2/S = −14 → clamped to −8; ignoring the threshold is a named mistake."""
    g = {"X": [[1.5, -2.0], [0.3, 0.7]], "bits": 4, "convention": "qmax", "metric": "max_abs", "clip": 1}
    a = answers(solve_givens("quantization", "absmax", g))
    assert a["scale"] == pytest.approx(1 / 7)
    assert a["q"] == [[7, -8], [2, 5]]
    by_name = {m.name: m for m in qz.MISTAKES}
    assert wrong("quantization", by_name["clip_ignored"], "absmax", g) == pytest.approx(2 / 7)
    assert any(generate("quantization", "absmax", "hard", seed).givens["clip"] for seed in range(10))


def test_per_channel_along_columns_is_per_row_of_the_transpose():
    x = [[2.09, -0.98, 1.98], [0.05, -0.14, -1.08], [-0.91, 1.92, 0.4]]
    by_columns = answers(solve_givens("quantization", "per_channel", {"X": x, "bits": 4, "axis": "columns"}))
    transposed = [list(col) for col in zip(*x)]
    by_rows = answers(solve_givens("quantization", "per_channel", {"X": transposed, "bits": 4}))
    assert by_columns["scale_rows"] == by_rows["scale_rows"] == pytest.approx([2.09 / 7, 1.92 / 7, 1.98 / 7])
    assert by_columns["q_rows"] == [list(col) for col in zip(*by_rows["q_rows"])]
    assert by_columns["error_ratio"] == pytest.approx(by_rows["error_ratio"])
    assert {generate("quantization", "per_channel", "hard", seed).givens["axis"] for seed in range(10)} == \
        {"rows", "columns"}


@needs("torch")
def test_the_storage_verifier_measures_a_huge_group_without_allocating_it():
    """Issue 10: a hand-edited key with group = 10**10 made the verifier allocate 320 GB. It measures a block of
    at most 8 × 4096 weights and spreads each group's scale over the stated group size."""
    import torch

    from exgen.verify.quantization import reproduce

    got = reproduce("storage", {"params": 7e9, "source_bits": 16, "bits": 4, "group": 10**10}, torch.device("cpu"))
    assert got["after"] == pytest.approx(3.5 + 7e9 / 1e10 * 2 / 1e9)
    small = reproduce("storage", {"params": 7e9, "source_bits": 16, "bits": 4, "group": 128,
                                  "zero_points": "b-bit", "kept_params": 1e9}, torch.device("cpu"))
    assert small["after"] == pytest.approx((6e9 * 0.5 + 6e9 / 128 * 2.5 + 2e9) / 1e9)


def test_affine_with_a_calibrated_range():
    """Hard affine may give a range calibrated on other data: X = [−1, 0, 2.2] to 2-bit unsigned with [r_min,
    r_max] = [−1, 1.4]: S = 2.4/3 = 0.8, Z = round(1.25) = 1, and 2.2/0.8 + 1 = 3.75 → 4, clamped to 3.
    Using X's own extremes is a named mistake."""
    g = {"X": [[-1, 0, 2.2]], "bits": 2, "signed": "unsigned", "metric": "max_abs", "calibration": [-1, 1.4]}
    a = answers(solve_givens("quantization", "affine", g))
    assert a["scale"] == pytest.approx(0.8) and a["zero_point"] == 1 and a["q"] == [[0, 1, 3]]
    assert a["reconstruction"][0] == pytest.approx([-0.8, 0, 1.6])
    own_range = {m.name: m for m in qz.MISTAKES}["own_range_for_calibrated"]
    assert wrong("quantization", own_range, "affine", g) == pytest.approx(3.2 / 3)
    assert any(generate("quantization", "affine", "hard", seed).givens["calibration"] for seed in range(10))
    with pytest.raises(InvalidGivens, match="calibration"):
        solve_givens("quantization", "affine", {**g, "calibration": [1.4, -1]})


def test_a_range_that_leaves_out_zero_clamps_the_zero_point_as_the_question_says():
    """A review found the key clamping Z for an all-positive X while the question's formula did not say so:
    the question states Z = clamp(round(q_min - r_min/S), q_min, q_max), and the worked solution shows it."""
    problem = solve_givens("quantization", "affine", {"X": [[1, 2], [3, 4]], "bits": 8, "signed": "signed",
                                                      "metric": "mse"})
    assert problem.solution.part("zero_point").answer.value == -128
    assert r"\operatorname{clamp}(-213,\ -128,\ 127) = -128" in " ".join(s.math for s in problem.solution.steps)
    assert r"Z = \operatorname{clamp}" in Renderer("md").question(problem)


def test_the_working_at_an_exact_half_rounds_r_over_s_before_adding_the_zero_point():
    """q = round(r/S) + Z: r/S = −0.5 gives −1 + 50 = 49, where round(r/S + Z) = round(49.5) would give 50. A custom
    instance (`exgen solve`) may hold such a tie; the worked step then shows r/S itself and says which comes first."""
    problem = solve_givens("quantization", "affine", {"X": [[-0.5, 2.05], [-0.005, 1.0]], "bits": 8,
                                                      "signed": "unsigned", "metric": "max_abs"})
    assert answers(problem)["zero_point"] == 50 and answers(problem)["q"] == [[0, 255], [49, 150]]
    step = next(s for s in problem.solution.steps if s.math.startswith("r/S"))
    assert "round $r/S$ itself" in step.text and "then add the zero point $Z = 50$" in step.text
    assert step.math.startswith(r"r/S = \begin{bmatrix} -50.000 & 205.000 \\ -0.500 & 100.000")


def test_the_working_without_a_tie_adds_the_zero_point_before_rounding():
    """Sampled instances hold no tie (the sampler refuses them): their step shows r/S + Z, as before."""
    problem = generate("quantization", "affine", "medium", 1)  # Z = 2
    step = next(s for s in problem.solution.steps if s.math.startswith("r/S"))
    assert step.math.startswith(r"r/S + 2 = \begin{bmatrix}")
    assert "add the zero point, then round" in step.text
