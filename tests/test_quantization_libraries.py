"""Issue 17's quantization variants: the published examples they reproduce, PyTorch's conventions, gemmlowp's
integer requantization, and the named mistakes."""

from __future__ import annotations

import pytest

from conftest import needs, wrong
from exgen.generate import solve_givens
from exgen.topics.quantization import libraries as qe
from exgen.topics.base import InvalidGivens

SEED_003_X = [[2.09, -0.98, 1.48, 0.09], [0.05, -0.14, -1.08, 2.12], [-0.91, 1.92, 0, -1.03], [1.87, 0, 1.53, 1.49]]


def approx(m):
    """pytest.approx for a matrix (it takes flat sequences only)."""
    return [pytest.approx(row) for row in m]


def answers(variant, givens):
    return {p.id: p.answer.value for p in solve_givens("quantization", variant, givens).solution.parts}


def test_pytorch_quantize_per_tensor_docs_example():
    """torch.quantize_per_tensor docs: quantize_per_tensor(tensor([-1., 0., 1., 2.]), 0.1, 10, torch.quint8)
    has int_repr [0, 10, 20, 30] and dequantizes to [-1., 0., 1., 2.]."""
    a = answers("given_scale", {"X": [[-1.0, 0.0, 1.0, 2.0]], "scale": [0.1], "zero_point": [10], "quant_min": 0,
                                "quant_max": 255})
    assert a["q"] == [[0, 10, 20, 30]]
    assert a["fake_quant"] == approx([[-1.0, 0.0, 1.0, 2.0]])
    assert a["error"] == approx([[0, 0, 0, 0]])


def test_pytorch_quantize_per_channel_docs_example():
    """torch.quantize_per_channel docs: x = [[-1., 0.], [1., 2.]], scales [0.1, 0.01], zero points [10, 0],
    axis 0, quint8: int_repr [[0, 10], [100, 200]], dequantized [[-1., 0.], [1., 2.]]."""
    a = answers("given_scale", {"X": [[-1.0, 0.0], [1.0, 2.0]], "scale": [0.1, 0.01], "zero_point": [10, 0],
                                "quant_min": 0, "quant_max": 255, "axis": "rows"})
    assert a["q"] == [[0, 10], [100, 200]]
    assert a["fake_quant"] == approx([[-1.0, 0.0], [1.0, 2.0]])


def test_channels_along_columns_is_pytorch_axis_1():
    a = answers("given_scale", {"X": [[-1.0, 1.0], [0.0, 2.0]], "scale": [0.1, 0.01], "zero_point": [10, 0],
                                "quant_min": 0, "quant_max": 255, "axis": "columns"})
    assert a["q"] == [[0, 100], [10, 200]]


def test_ties_round_to_even_and_the_clamp_applies():
    """PyTorch rounds halves to even (torch.round, nearbyint): 0.5 → 0, 1.5 → 2, 2.5 → 2, −0.5 → 0; 9.5 → 10
    then clamps to quant_max = 7 (4-bit signed, as fake_quantize_per_tensor_affine with [-8, 7])."""
    a = answers("given_scale", {"X": [[0.25, 0.75, 1.25, -0.25, 4.75]], "scale": [0.5], "zero_point": [0],
                                "quant_min": -8, "quant_max": 7, "decimals": 2})
    assert a["q"] == [[0, 2, 2, 0, 7]]
    assert a["error"] == approx([[0.25, -0.25, 0.25, -0.25, 1.25]])


def test_given_scale_mistakes_name_the_usual_slips():
    g = {"X": [[0.25, 1.25, 4.75]], "scale": [0.5], "zero_point": [2], "quant_min": 0, "quant_max": 7,
         "axis": "tensor", "decimals": 2}
    by_name = {m.name: m for m in qe.MISTAKES}
    assert wrong("quantization", by_name["ties_away_from_zero"], "given_scale", g) == [[3, 5, 7]]  # key [[2, 4, 7]]
    assert wrong("quantization", by_name["clamp_forgotten"], "given_scale", g) == [[2, 4, 12]]
    assert wrong("quantization", by_name["zero_point_subtracted"], "given_scale", g) == [[0, 0, 7]]  # −2, 0, 8 clamped


@pytest.mark.parametrize("bad, message", [
    ({"scale": [0.1, 0.2]}, "one per tensor"), ({"scale": [0]}, "outside"), ({"zero_point": [300]}, "zero_point"),
    ({"quant_min": 5, "quant_max": 5}, "below"), ({"zero_point": [1.5]}, "zero_point")])
def test_given_scale_refuses_inconsistent_givens(bad, message):
    g = {"X": [[1.0, 2.0]], "scale": [0.1], "zero_point": [0], "quant_min": 0, "quant_max": 255, **bad}
    with pytest.raises(InvalidGivens, match=message):
        solve_givens("quantization", "given_scale", g)


def test_seed_003_outlier_example_llm_int8_multiplier():
    """Seed 003, "Outlier Activations": 15, 0.1, 0.02, 1.0, 0.01 -> 127, 1, 0, 8, 0 (c = 127/15, as LLM.int8()'s
    127/absmax; everything under 0.05 maps to 0)."""
    a = answers("absmax_int8", {"X": [[15, 0.1, 0.02, 1.0, 0.01]], "decimals": 3})
    assert a["absmax"] == 15
    assert a["factor"] == pytest.approx(127 / 15)
    assert a["q"] == [[127, 1, 0, 8, 0]]
    assert a["reconstruction"] == approx([[15, 15 / 127, 0, 8 * 15 / 127, 0]])


def test_restricted_range_never_uses_minus_128_and_vector_wise_scales():
    """LLM.int8() vector-wise: one 127/max|X| per row; the range is [-127, 127]."""
    a = answers("absmax_int8", {"X": [[-2.0, 1.0], [0.5, -0.25]], "axis": "rows"})
    assert a["absmax"] == [2.0, 0.5]
    assert a["factor"] == pytest.approx([63.5, 254.0])
    assert a["q"] == [[-127, 64], [127, -64]]  # 63.5 rounds to the even 64
    s = answers("absmax_int8", {"X": [[-2.0, 1.0], [0.5, -0.25]], "axis": "columns", "form": "scale"})
    assert s["factor"] == pytest.approx([2 / 127, 1 / 127])


def test_rounded_factor_is_used_from_then_on_and_the_clamp_catches_its_overshoot():
    """Rounding c = 127/15 = 8.4667 to 8.47 first: 15·8.47 = 127.05 → 127; 1.0 → 8.47 → 8; x̂ = q/8.47."""
    a = answers("absmax_int8", {"X": [[15, 1.0, -7.5]], "factor_decimals": 2, "decimals": 4})
    assert a["factor"] == pytest.approx(8.47)
    assert a["q"] == [[127, 8, -64]]
    assert a["reconstruction"] == approx([[127 / 8.47, 8 / 8.47, -64 / 8.47]])
    over = answers("absmax_int8", {"X": [[1.0, 0.5]], "bits": 4, "factor_decimals": 0, "form": "multiplier"})
    assert over["q"] == [[7, 4]]  # 3.5 → 4 (even)


def test_seed_003_affine_with_the_slides_rounded_scale():
    """Seed 003, Linear Quantization: S = 3.2/3 rounded to 1.07, Z = -1, and the slide's reconstruction
    (2.14, -1.07, …), which only follows from the rounded S (seeds/README.md)."""
    a = answers("affine_channel", {"X": SEED_003_X, "bits": 2, "signed": "signed", "axis": "tensor",
                                   "scale_decimals": 2})
    assert a["scales"] == [1.07] and a["zero_points"] == [-1]
    assert a["q"] == [[1, -2, 0, -1], [-1, -1, -2, 1], [-2, 1, -1, -2], [1, -1, 0, 0]]
    assert a["reconstruction"] == approx([[2.14, -1.07, 1.07, 0], [0, 0, -1.07, 2.14],
                                                 [-1.07, 2.14, 0, -1.07], [2.14, 0, 1.07, 1.07]])


def test_per_channel_affine_has_a_scale_and_zero_point_per_row():
    a = answers("affine_channel", {"X": [[-1.0, 2.0, 0.5], [-0.3, 0.0, 0.3]], "bits": 8, "signed": "unsigned"})
    assert a["scales"] == pytest.approx([3 / 255, 0.6 / 255])
    assert a["zero_points"] == [85, 128]  # round(0 + 1/(3/255)) = 85; round(0.3·255/0.6) = round(127.5) = 128
    assert a["q"][0] == [0, 255, 127]  # 0.5/(3/255) = 42.5 → 42 (even), + 85


def test_jacob_2018_multiplier_normalisation():
    """Jacob et al. (2018), §2.2 eq. (6): M = 2^-n M0 with M0 in [0.5, 1); gemmlowp (doc/quantization.md eq. (7),
    QuantizeMultiplierSmallerThanOne in doc/quantization_example.cc) stores M0 as round(M0·2^31). Neither gives
    a worked number, so these pin the rule on round values: 0.25 = 2^-1·0.5, 0.002 = 2^-8·0.512."""
    a = answers("requant", {"s_in": 0.5, "s_w": 0.5, "s_out": 1, "acc": 10})
    assert (a["M"], a["n"], a["M0"], a["q31"], a["q_out"]) == (0.25, 1, 0.5, 2**30, 3)  # 2.5 → 3 (away)
    b = answers("requant", {"s_in": 0.02, "s_w": 0.01, "s_out": 0.1, "acc": 1000, "z_out": 128})
    assert b["M"] == pytest.approx(0.002) and b["n"] == 8 and b["M0"] == pytest.approx(0.512)
    assert b["q31"] == round(0.512 * 2**31) and b["q_out"] == 130


def test_requant_q31_is_worked_from_m0_to_10_figures_not_from_part_c():
    """Review A1 (hard, seed 11): M0 = 0.706322 to 6 figures gives round(M0·2^31) = 1516814945, the key
    1516814948. The question now says to carry M0 from the scales to at least 10 figures, and the path doing
    so lands on the key in every generated instance."""
    from exgen.generate import sheet
    from exgen.render import Renderer

    problem = sheet(["quantization"], "requant", "hard", 11, 1)[0]
    g, sol = problem.givens, problem.solution
    assert round(0.706322 * 2**31) != sol.part("q31").answer.value  # what part (c)'s rounding would give
    assert qe._q31_from_10_figures("requant", g, sol) == sol.part("q31").answer.value
    assert "at least 10 significant figures" in Renderer("md").question(problem)


def test_gemmlowp_integer_primitives():
    """gemmlowp: SaturatingRoundingDoublingHighMul rounds halves upward (its nudge is 2^30 or 1 − 2^30), RoundingDivideByPOT
    away from zero; INT32_MIN·INT32_MIN saturates."""
    assert qe.srdhm(2**30, 2**30) == 2**29
    assert qe.srdhm(-(2**31), -(2**31)) == 2**31 - 1
    assert qe.srdhm(3, 2**30) == 2 and qe.srdhm(-3, 2**30) == -1  # ties upward: 1.5 → 2, −1.5 → −1
    assert [qe.rounding_divide_by_pot(x, 1) for x in (5, -5, 4, -4, 3)] == [3, -3, 2, -2, 2]


def test_requant_refuses_a_multiplier_of_one_or_more():
    with pytest.raises(InvalidGivens, match=r"\(0, 1\)"):
        solve_givens("quantization", "requant", {"s_in": 1, "s_w": 1, "s_out": 0.5, "acc": 1})


@needs("torch")
def test_verifier_runs_torch_kernels_on_the_published_examples():
    import torch

    from exgen.verify.quantization_libraries import REPRODUCERS

    cpu = torch.device("cpu")
    docs = {"X": [[-1.0, 0.0], [1.0, 2.0]], "scale": [0.1, 0.01], "zero_point": [10, 0], "quant_min": 0,
            "quant_max": 255, "axis": "rows", "decimals": 4}
    assert REPRODUCERS["given_scale"](docs, cpu)["q"] == [[0, 10], [100, 200]]
    tie = {"X": [[0.25, 0.75, 1.25]], "scale": [0.5], "zero_point": [0], "quant_min": -8, "quant_max": 7,
           "axis": "tensor", "decimals": 2}
    assert REPRODUCERS["given_scale"](tie, cpu)["q"] == [[0, 2, 2]]
    seed = {"X": [[15, 0.1, 0.02, 1.0, 0.01]], "bits": 8, "axis": "tensor", "form": "multiplier",
            "factor_decimals": 0, "decimals": 3}
    assert REPRODUCERS["absmax_int8"](seed, cpu)["q"] == [[127, 1, 0, 8, 0]]
    rq = REPRODUCERS["requant"]({"s_in": 0.02, "s_w": 0.01, "s_out": 0.1, "acc": 1000, "z_out": 128,
                                 "quant_min": 0, "quant_max": 255}, cpu)
    assert (rq["n"], rq["q31"], rq["q_out"]) == (8, round(0.512 * 2**31), 130)


def test_mistake_and_path_names_are_unique_in_the_topic():
    """The grader names a mistake by its name: the libraries' names must not shadow the linear variants'."""
    from exgen.topics import get

    topic = get("quantization")
    names = [m.name for m in topic.mistakes]
    assert len(names) == len(set(names))
    assert {v.name for v in qe.VARIANTS} <= {v.name for v in topic.variants}


def test_affine_working_at_an_exact_half_rounds_r_over_s_before_adding_the_zero_point():
    """round(r/S) + Z with halves to even: r/S = −0.5 gives 0 + 51 = 51, where round(r/S + Z) = round(50.5) = 50.
    A custom instance may hold such a tie; the worked step then shows r/S itself and says which comes first."""
    problem = solve_givens("quantization", "affine_channel", {"X": [[-0.51, 2.04], [-0.005, 1.0]], "bits": 8,
                                                              "signed": "unsigned", "axis": "tensor"})
    assert problem.solution.value("q") == [[0, 255], [51, 151]]
    step = next(s for s in problem.solution.steps if s.math.startswith("r/S"))
    assert "round $r/S$ itself" in step.text
    assert step.math.startswith(r"r/S = \begin{bmatrix} -51.000 & 204.000 \\ -0.500 & 100.000")


@pytest.mark.parametrize("variant,givens", [
    ("absmax_int8", {"X": [[1.5, 2], [3, 4]], "factor_decimals": 1}),
    ("affine_channel", {"X": [[15, 20], [30, 41]], "bits": 4, "signed": "unsigned", "scale_decimals": 1,
                        "decimals": 1}),
])
def test_one_decimal_place_is_singular_in_the_question_and_the_solution(variant, givens):
    from exgen.render import Renderer

    text = Renderer("md", None).document([solve_givens("quantization", variant, givens)], title="t", solutions=True)
    assert "1 decimal place first" in text and "Rounded to 1 decimal" in text
    assert "1 decimal places" not in text and "1 decimals" not in text


# ---- a factor or scale rounded to decimals: exactly halfway rounds up, as stated, in the key and the verifier ---

HALF_UP = [  # (variant, givens as `--given`, the part, the rounded factor or scales)
    # S = 13.335/127 = 0.105 exactly (review): 0.11, not the even 0.10
    ("absmax_int8", ("X=13.335,1", "bits=8", "axis=tensor", "form=scale", "factor_decimals=2"), "factor", 0.11),
    # S = 18.415/127 = 0.145, which float64 holds as 0.14499999999999998
    ("absmax_int8", ("X=18.415,1", "form=scale", "factor_decimals=2"), "factor", 0.15),
    # c = 127/1016 = 0.125, an exact float half: torch.round would give the even 0.12
    ("absmax_int8", ("X=1016,1", "form=multiplier", "factor_decimals=2"), "factor", 0.13),
    # row 1: S = 0.315/3 = 0.105 (review)
    ("affine_channel", ("X=0,0.315,0.1;0,0.3,0.2", "bits=2", "signed=unsigned", "scale_decimals=2"), "scales",
     [0.11, 0.1]),
]


@pytest.mark.parametrize("variant,givens,part,rounded", HALF_UP, ids=lambda c: str(c)[:24])
def test_a_factor_exactly_halfway_rounds_up_as_the_question_states(variant, givens, part, rounded):
    from exgen.render import Renderer

    g = {k: int(v) if v.isdigit() else v for k, v in (a.split("=", 1) for a in givens)}
    g["X"] = [[float(v) for v in row.split(",")] for row in g["X"].split(";")]
    problem = solve_givens("quantization", variant, g)
    assert problem.solution.value(part) == pytest.approx(rounded)
    text = Renderer("md", None).document([problem], title="t", solutions=True)
    assert "exactly halfway rounds up, as by hand: $0.015 \\to 0.02$" in text  # the question states the rule
    assert "decimals (halves up)" in text  # and the worked solution follows it


def test_the_reviewers_absmax_tie_carries_the_rounded_up_scale_into_every_later_part():
    a = answers("absmax_int8", {"X": [[13.335, 1]], "bits": 8, "axis": "tensor", "form": "scale",
                                "factor_decimals": 2})
    assert a["q"] == [[121, 9]]  # 13.335/0.11 = 121.2, 1/0.11 = 9.09
    assert a["reconstruction"] == approx([[13.31, 0.99]])
    assert a["error"] == approx([[0.025, 0.01]])


@needs("torch")
@pytest.mark.parametrize("variant,givens,part,rounded", HALF_UP, ids=lambda c: str(c)[:24])
def test_the_verifier_rounds_a_factor_at_a_tie_as_the_key_does(tmp_path, variant, givens, part, rounded):
    import json

    from click.testing import CliRunner

    from exgen.cli import cli

    solved = CliRunner().invoke(cli, ["solve", "quantization", "--variant", variant, "--json",
                                      *(a for g in givens for a in ("--given", g))])
    assert solved.exit_code == 0, solved.output
    problem = {**json.loads(solved.stdout), "difficulty": "medium"}
    (tmp_path / "key.json").write_text(json.dumps({"format": "exgen-key/1", "problems": [problem]}))
    result = CliRunner().invoke(cli, ["verify", "--device", "cpu", str(tmp_path / "key.json")])
    assert result.exit_code == 0 and " NO" not in result.stdout, result.output
