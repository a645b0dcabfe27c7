"""Automatic differentiation: the published tables reproduced cell by cell, the graph grammar, the reverse-order
convention, the named mistakes, the sampler's rejections, and agreement with torch's AD over many random graphs."""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import needs, wrong
from exgen.cli import cli
from exgen.generate import generate, path_failures, solve_givens
from exgen.grading.compare import matches
from exgen.rng import Rng
from exgen.topics import autodiff as ad
from exgen.topics import get
from exgen.topics.base import InvalidGivens, Rejected

# Seed 001 (Midterm review), Homework 1 Q4: y1 = (x1 + x2)^2, y2 = (x1 - x2)^2 at x1 = 2, x2 = 4.
HW1_Q4 = {"graph": ["v1 = v-1 + v0", "v2 = v-1 - v0", "v3 = v1^2", "v4 = v2^2"], "x": [2, 4],
          "outputs": ["v3", "v4"]}
# Baydin et al., "Automatic differentiation in machine learning: a survey", JMLR 18(153), 2018, Tables 2 and 3:
# f(x1, x2) = ln(x1) + x1 x2 - sin(x2) at (2, 5).
BAYDIN = {"graph": "v1 = ln(v-1); v2 = v-1 * v0; v3 = sin(v0); v4 = v1 + v2; v5 = v4 - v3", "x": [2, 5]}


def answers(variant, givens):
    return {p.id: p.answer.value for p in solve_givens("autodiff", variant, givens).solution.parts}


def assert_cells(got, expected):
    """Every listed cell, to the published rounding (the papers print 3 decimals)."""
    for cell, value in expected.items():
        assert got[cell] == pytest.approx(value, rel=0, abs=5e-4), cell


# ---- published examples ------------------------------------------------------------------------------------


def test_seed_001_table_1_forward_mode_with_x1_dot_1():
    assert_cells(answers("forward", {**HW1_Q4, "xdot": [1, 0]}), {
        "v1": 6, "dv1": 1, "v2": -2, "dv2": 1, "v3": 36, "dv3": 12, "v4": 4, "dv4": -4,
        "y1": 36, "dy1": 12, "y2": 4, "dy2": -4})


def test_seed_001_table_2_forward_mode_with_x2_dot_1():
    assert_cells(answers("forward", {**HW1_Q4, "xdot": [0, 1]}), {
        "v1": 6, "dv1": 1, "v2": -2, "dv2": -1, "v3": 36, "dv3": 12, "v4": 4, "dv4": 4,
        "y1": 36, "dy1": 12, "y2": 4, "dy2": 4})


def test_seed_001_table_3_reverse_mode_for_y1():
    """The seed lists the adjoint rows beside the primal rows, to be read bottom-up: v̄2 = v̄4·2v2 = 0,
    v̄1 = v̄3·2v1 = 12, then v̄−1 = v̄2·1 = 0 and v̄0 = v̄2·(−1) = 0, then v̄−1 = v̄−1 + v̄1·1 = 12 and
    v̄0 = v̄0 + v̄1·1 = 12. Executed top-down (highest node first) the rows and values are the same."""
    problem = solve_givens("autodiff", "reverse", {**HW1_Q4, "output": 1})
    table = problem.solution.shown[0].math  # the primal trace is given in the question's table
    for row in ["v_{1} = v_{-1} + v_{0} & 6", "v_{2} = v_{-1} - v_{0} & -2", "v_{3} = (v_{1})^2 & 36",
                "v_{4} = (v_{2})^2 & 4", "y_{1} = v_{3} & 36", "y_{2} = v_{4} & 4"]:
        assert row in table
    assert_cells(answers("reverse", {**HW1_Q4, "output": 1}), {
        "bar_v2": 0, "bar_v1": 12, "bar_vm1_1": 0, "bar_v0_1": 0, "bar_vm1_2": 12, "bar_v0_2": 12,
        "bar_x1": 12, "bar_x2": 12})


def test_seed_001_table_4_reverse_mode_for_y2():
    assert_cells(answers("reverse", {**HW1_Q4, "output": 2}), {
        "bar_v2": -4, "bar_v1": 0, "bar_vm1_1": -4, "bar_v0_1": 4, "bar_vm1_2": -4, "bar_v0_2": 4,
        "bar_x1": -4, "bar_x2": 4})


def test_seed_001_adjoint_table_shows_the_seeds_and_the_accumulation():
    table = solve_givens("autodiff", "reverse", {**HW1_Q4, "output": 1}).solution.shown[0].math
    assert r"\bar v_{3} = \bar y_{1} & 1" in table and r"\bar v_{4} = \bar y_{2} & 0" in table
    assert r"\bar v_{-1} = \bar v_{-1} + \bar v_{1} \times 1" in table
    assert table.index(r"\bar v_{-1} = \bar v_{2} \times 1") < table.index(r"\bar v_{-1} = \bar v_{-1} +")


def test_seed_001_jacobian_and_passes():
    a = answers("jacobian", {**HW1_Q4, "mode": "reverse"})
    assert [a["J_1_1"], a["J_1_2"], a["J_2_1"], a["J_2_2"]] == [12, 12, -4, 4]
    assert (a["passes_forward"], a["passes_reverse"], a["cheaper"]) == (2, 2, "either")


def test_baydin_table_2_forward_mode():
    """Baydin et al. (2018), Table 2 (ẋ1 = 1, ẋ2 = 0): v̇1 = 1/2, v̇2 = 5, v̇3 = 0, v̇4 = 5.5, v̇5 = ẏ = 5.5 = ∂f/∂x1;
    the primal trace ends at f = 11.652."""
    assert_cells(answers("forward", BAYDIN), {
        "v1": 0.693, "dv1": 0.5, "v2": 10, "dv2": 5, "v3": -0.959, "dv3": 0, "v4": 10.693, "dv4": 5.5,
        "v5": 11.652, "dv5": 5.5, "y1": 11.652, "dy1": 5.5})


def test_baydin_table_3_reverse_mode():
    """Baydin et al. (2018), Table 3: v̄5 = 1, v̄4 = 1, v̄3 = −1, v̄1 = 1, v̄2 = 1, v̄0 = −0.284, v̄−1 = 5,
    v̄0 = 1.716, v̄−1 = 5.5: x̄1 = 5.5, x̄2 = 1.716, in the paper's row order."""
    p = solve_givens("autodiff", "reverse", BAYDIN)
    ids = [q.id for q in p.solution.parts]
    assert ids == ["bar_v4", "bar_v3", "bar_v1", "bar_v2", "bar_v0_1", "bar_vm1_1", "bar_v0_2", "bar_vm1_2",
                   "bar_x1", "bar_x2"]
    assert_cells(answers("reverse", BAYDIN), {
        "bar_v4": 1, "bar_v3": -1, "bar_v1": 1, "bar_v2": 1, "bar_v0_1": -0.284, "bar_vm1_1": 5,
        "bar_v0_2": 1.716, "bar_vm1_2": 5.5, "bar_x1": 5.5, "bar_x2": 1.716})


def test_exgen_solve_reproduces_baydin_from_a_givens_file(tmp_path):
    file = tmp_path / "baydin.yaml"
    file.write_text("graph:\n  - v1 = ln(v-1)\n  - v2 = v-1 * v0\n  - v3 = sin(v0)\n  - v4 = v1 + v2\n"
                    "  - v5 = v4 - v3\nx: [2, 5]\noutputs: v5\n")
    result = CliRunner().invoke(cli, ["solve", "autodiff", "--variant", "reverse", "--givens", str(file), "--json"])
    assert result.exit_code == 0, result.output
    parts = {p["id"]: p["answer"]["value"] for p in json.loads(result.output)["parts"]}
    assert parts["bar_x1"] == pytest.approx(5.5) and parts["bar_x2"] == pytest.approx(2 - math.cos(5))


def test_exgen_solve_reads_a_graph_from_the_command_line():
    result = CliRunner().invoke(cli, ["solve", "autodiff", "--variant", "forward", "--given",
                                      "graph=v1 = v-1 + v0; v2 = v-1 - v0; v3 = v1^2; v4 = v2^2", "--given", "x=2,4"])
    assert result.exit_code == 0, result.output
    assert r"\dot v_{3} = 2 v_{1} \dot v_{1}" in result.output


@needs("torch")
def test_the_verifier_reproduces_both_published_examples():
    import torch

    from exgen.verify.autodiff import reproduce

    for variant, g in [("forward", {**HW1_Q4, "xdot": [1, 0]}), ("forward", {**HW1_Q4, "xdot": [0, 1]}),
                       ("reverse", {**HW1_Q4, "output": 1}), ("reverse", {**HW1_Q4, "output": 2}),
                       ("forward", BAYDIN), ("reverse", BAYDIN), ("jacobian", {**BAYDIN, "mode": "forward"})]:
        problem = solve_givens("autodiff", variant, g)
        values = reproduce(variant, g, torch.device("cpu"))
        for part in problem.solution.parts:
            assert matches(part.answer, values[part.id]), (variant, part.id)


# ---- the grammar -------------------------------------------------------------------------------------------


def test_the_grammar_accepts_the_usual_spellings():
    spellings = ["v1 = x1 + x2", "v_{2} = v_{-1} \\times v_{0}", "v3 = (v1)^2", "v4 = ln v3", "v5 = v4 \u2212 v2",
                 "v6 = square(v5)", "v7 = v6 / v1", "v8 = exp(v7)", "v9 = cos(v8)", "v10 = sin v9 ", "v11 = v10 * v2"]
    graph = ad.parse_graph(spellings, 2)
    assert [nd.op for nd in graph.nodes] == ["add", "mul", "sq", "log", "sub", "sq", "div", "exp", "cos", "sin", "mul"]
    assert graph.nodes[0].args == (-1, 0) and graph.nodes[4].args == (4, 2)
    assert graph.outputs == (11,)


@pytest.mark.parametrize("lines, message", [
    (["v1 = v-1 + v0 + v0"], "one elementary operation per line"),
    (["v1 = __import__('os')"], "cannot read"),
    (["v1 = v2 + v0", "v2 = v-1 + v0"], "not an input or an earlier node"),
    (["v2 = v-1 + v0"], "expected v1"),
    (["v1 = v0^2"], "input v-1 (x1) is used by no node"),
    (["v1 = v-1 ** v0"], "one elementary operation per line"),
    (["v1 = tan(v-1)"], "cannot read"),
])
def test_the_grammar_rejects_with_a_clear_message(lines, message):
    with pytest.raises(InvalidGivens, match=re.escape(message)):
        solve_givens("autodiff", "forward", {"graph": lines, "x": [1, 2]})


def test_a_node_that_is_neither_used_nor_an_output_is_refused():
    with pytest.raises(InvalidGivens, match="v3 is used by no node and is not an output"):
        solve_givens("autodiff", "forward", {"graph": ["v1 = v-1 + v0", "v2 = v1 * v0", "v3 = v-1 - v0"],
                                             "x": [1, 2], "outputs": "v2"})


def test_undefined_values_are_rejected_for_user_graphs():
    with pytest.raises(InvalidGivens, match="log of a non-positive"):
        solve_givens("autodiff", "forward", {"graph": ["v1 = v-1 - v0", "v2 = log(v1)"], "x": [1, 2]})
    with pytest.raises(InvalidGivens, match="division by zero"):
        solve_givens("autodiff", "forward", {"graph": ["v1 = v-1 - v-1", "v2 = v0 / v1"], "x": [1, 2]})


def test_sampled_graph_text_parses_back_to_the_same_graph():
    rng = Rng("roundtrip")
    for _ in range(50):
        try:
            graph = ad.random_graph(rng, 3, 7, 3)
        except Rejected:
            continue
        assert ad.parse_graph(ad.graph_lines(graph), 3, [f"v{k}" for k in graph.outputs]) == graph


# ---- conventions -------------------------------------------------------------------------------------------


def test_a_key_of_zero_is_asked_to_decimals_and_others_to_significant_figures():
    parts = solve_givens("autodiff", "reverse", {**HW1_Q4, "output": 1}).solution.parts
    by_id = {p.id: p.answer for p in parts}
    assert by_id["bar_v2"].value == 0 and by_id["bar_v2"].decimals == 4 and by_id["bar_v2"].sig is None
    assert by_id["bar_x1"].sig == 4
    assert all((a.sig, a.decimals) in ((4, None), (None, 4)) for a in by_id.values())


def test_exact_arithmetic_while_no_transcendental_op_enters():
    inst = ad.instance({"graph": ["v1 = v-1 / v0", "v2 = v1 * v1"], "x": [1, 3]})
    assert inst.vals[1] == Fraction(1, 3) and inst.vals[2] == Fraction(1, 9)


def test_an_output_used_by_another_node_starts_from_its_seed_and_accumulates():
    g = {"graph": ["v1 = v-1 * v0", "v2 = v1^2"], "x": [2, 3], "outputs": "v1, v2", "output": 1}
    a = answers("reverse", g)
    # v̄1 starts at ȳ1 = 1, and v2 = v1^2 adds v̄2 · 2 v1 = 0: one accumulating row.
    assert a["bar_v1"] == 1 and a["bar_x1"] == 3 and a["bar_x2"] == 2


def test_linear_layer_shapes_and_flops_follow_seed_001_and_2mnp():
    a = answers("linear_layer", {"B": 8, "D1": 128, "D2": 64})
    assert a["dW_shape"] == [128, 64] and a["dX_shape"] == [8, 128]
    assert a["flops_dW"] == a["flops_dX"] == 2 * 8 * 128 * 64
    assert a["flops_backward"] == 4 * 8 * 128 * 64


# ---- named mistakes ------------------------------------------------------------------------------------------


def mistake(name):
    return next(m for m in get("autodiff").mistakes if m.name == name)


def test_adjoint_not_accumulated_keeps_only_the_last_contribution():
    """Baydin Table 3: overwriting v̄−1 keeps only v̄1/v−1 = 0.5 instead of 5 + 0.5."""
    assert wrong("autodiff", mistake("adjoint_not_accumulated"), "reverse", BAYDIN) == pytest.approx(0.5)


def test_chain_rule_factor_wrong_in_both_modes():
    """∂(v−1 v0)/∂v−1 taken as v−1 = 2 instead of v0 = 5: x̄1 = 2 + 0.5 and v̇5 = 2 + 0.5."""
    assert wrong("autodiff", mistake("chain_rule_factor_wrong_reverse"), "reverse", BAYDIN) == pytest.approx(2.5)
    assert wrong("autodiff", mistake("chain_rule_factor_wrong"), "forward", BAYDIN) == pytest.approx(2.5)


def test_tangent_seed_on_the_wrong_input_gives_the_other_partial():
    assert wrong("autodiff", mistake("seed_on_wrong_input"), "forward", BAYDIN) == pytest.approx(2 - math.cos(5))


def test_mistakes_that_do_not_apply_say_so():
    assert wrong("autodiff", mistake("adjoint_not_accumulated"), "forward", BAYDIN) is None
    assert wrong("autodiff", mistake("chain_rule_factor_wrong"), "forward", {**HW1_Q4, "xdot": [1, 0]}) is None  # no product
    assert wrong("autodiff", mistake("seed_on_wrong_input"), "fill", {**BAYDIN, "table": "reverse"}) is None


def test_linear_layer_mistakes():
    g = {"B": 8, "D1": 128, "D2": 64}
    assert wrong("autodiff", mistake("backward_one_matmul"), "linear_layer", g) == 2 * 8 * 128 * 64
    assert wrong("autodiff", mistake("fma_as_one_flop"), "linear_layer", g) == 8 * 128 * 64
    assert wrong("autodiff", mistake("gradient_shape_transposed"), "linear_layer", g) == [64, 128]


# ---- the sampler -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_sampled_graphs_share_a_variable_and_every_output_depends_on_every_input(difficulty):
    for seed in range(25):
        g = generate("autodiff", "reverse", difficulty, seed).givens
        inst = ad.instance(g)
        graph = inst.graph
        assert any(len(graph.consumers(i)) >= 2 for i in range(1 - graph.n, graph.size + 1))
        for k in graph.outputs:
            assert set(range(1 - graph.n, 1)) <= graph.ancestors(k)
        assert all(v != 0 for v in ad.jacobian(inst)[0])
        rows = ad.adjoint_rows(graph, ad.local_partials(graph, inst.vals), g["output"])[1]
        assert any(r.accumulates for r in rows)


def test_difficulty_sets_inputs_and_graph_size():
    easy = [generate("autodiff", "forward", "easy", s).givens for s in range(15)]
    hard = [generate("autodiff", "forward", "hard", s).givens for s in range(15)]
    assert all(len(g["x"]) == 2 and all(float(v).is_integer() for v in g["x"]) and len(g["graph"]) <= 4 for g in easy)
    assert all(len(g["x"]) == 3 and len(g["graph"]) >= 6 for g in hard)


def test_a_filled_table_shows_some_cells_and_always_asks_the_outputs():
    for seed in range(20):
        problem = generate("autodiff", "fill", "medium", seed)
        asked = {p.id for p in problem.solution.parts}
        assert problem.givens["shown"] and not asked & set(problem.givens["shown"])
        assert any(ad.always_asked(c) for c in asked)
        assert {"dy1"} <= asked if problem.givens["table"] == "forward" else {"bar_x1"} <= asked


def test_showing_an_output_row_is_refused():
    with pytest.raises(InvalidGivens, match="always asked"):
        solve_givens("autodiff", "fill", {**HW1_Q4, "table": "forward", "shown": "v1, dy1"})


def test_the_question_boxes_exactly_the_asked_cells():
    problem = generate("autodiff", "fill", "easy", 3)
    table = problem.solution.shown[0].math
    for part in problem.solution.parts:
        assert ad.box(part.id) in table
    for cell in problem.givens["shown"]:
        assert ad.box(cell) not in table


# ---- agreement with torch ----------------------------------------------------------------------------------


@needs("torch")
def test_solver_and_torch_agree_on_hundreds_of_random_graphs():
    import torch

    from exgen.verify.autodiff import reproduce

    @settings(max_examples=240, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(seed=st.integers(0, 2**32 - 1), difficulty=st.sampled_from(["easy", "medium", "hard"]),
           variant=st.sampled_from(["forward", "reverse", "fill"]))
    def agree(seed, difficulty, variant):
        problem = generate("autodiff", variant, difficulty, seed)
        values = reproduce(variant, problem.givens, torch.device("cpu"))
        for part in problem.solution.parts:
            assert matches(part.answer, values[part.id]), (part.id, seed, difficulty)

    agree()


@needs("torch")
def test_exgen_verify_agrees_on_every_cell_of_a_100_problem_key(tmp_path):
    runner = CliRunner()
    made = runner.invoke(cli, ["make", "--topic", "autodiff", "--n", "100", "--seed", "5", "--difficulty", "medium",
                               "--out", str(tmp_path)])
    assert made.exit_code == 0, made.output
    result = runner.invoke(cli, ["verify", str(tmp_path / "key.json"), "--device", "cpu"])
    assert result.exit_code == 0, result.output[-2000:]
    summary = result.output.strip().splitlines()[-1]
    agreed, total = summary.split(" parts agree")[0].split(" of ")
    assert agreed == total and int(total) > 500


@pytest.mark.parametrize("variant", ["forward", "reverse", "jacobian", "fill"])
def test_a_sampled_question_has_at_most_26_parts(variant):
    for difficulty in ("easy", "medium", "hard"):
        for seed in range(20):
            assert len(generate("autodiff", variant, difficulty, seed).solution.parts) <= ad.MAX_PARTS


# ---- issue 9: unfair instances, giveaways, variety -------------------------------------------------------------

# cos of a product of two short decimals: v1 = 32.3 × 40.2431 = 1299.85213, shown to 6 figures as 1299.85.
LARGE_ANGLE = {"graph": "v1 = v-1 * v0; v2 = cos(v1); v3 = v2 * v0", "x": [32.3, 40.2431], "output": 1}


def test_a_cosine_of_a_large_argument_is_not_determined_by_the_figures_shown():
    """Issue 9: the table shows v4 = 1299.84 and cos v4 = 0.714592, but cos(1299.84) = 0.71136. A student who
    takes the argument as shown lands outside the tolerance: the carried path says so, so the sampler (which
    also keeps every angle within MAX_ANGLE radians) never asks such an instance."""
    problem = solve_givens("autodiff", "reverse", LARGE_ANGLE)
    assert ad.carried_values("reverse", LARGE_ANGLE)["v1"] == 1299.85
    asked = {p.id: p.answer.value for p in problem.solution.parts}
    assert "bar_v1" in ad.carried_failures("reverse", LARGE_ANGLE, asked)  # v̄1 = v̄2 · (−sin v1)
    assert path_failures(get("autodiff"), "reverse", problem.givens, problem.solution)  # and so x̄1, x̄2


def test_sampled_angles_stay_small_and_every_asked_cell_survives_the_carried_path():
    """Every cell a sampled question asks — not only the parts the registry's paths name — is checked."""
    for variant in ("forward", "reverse", "jacobian", "fill"):
        for difficulty in ("easy", "medium", "hard"):
            for seed in range(15):
                problem = generate("autodiff", variant, difficulty, seed)
                inst = ad.instance(problem.givens)
                for nd in inst.graph.nodes:
                    if nd.op in ("sin", "cos"):
                        assert abs(inst.vals[nd.args[0]]) <= ad.MAX_ANGLE
                asked = {p.id: p.answer.value for p in problem.solution.parts if p.answer.kind == "number"}
                assert not ad.carried_failures(variant, problem.givens, asked)


def test_the_registry_paths_name_parts_every_question_of_their_variants_asks():
    for path in get("autodiff").paths:
        for variant in path.variants:
            for difficulty in ("easy", "medium", "hard"):
                for seed in range(10):
                    assert path.part in {p.id for p in generate("autodiff", variant, difficulty, seed).solution.parts}


def test_the_carried_path_rounds_every_row_to_6_figures():
    """Baydin's f at (2, 5): ln 2 → 0.693147, v4 = 10.6931 (not 10.693147), v5 = 10.6931 + 0.958924 = 11.6520,
    where the exact trace gives 11.65207."""
    carried = ad.carried_values("forward", BAYDIN)
    assert carried["v1"] == 0.693147 and carried["v3"] == -0.958924
    assert carried["v4"] == 10.6931 and carried["v5"] == 11.652
    assert answers("forward", BAYDIN)["v5"] == pytest.approx(11.652071, abs=1e-6)


def test_a_key_of_zero_from_cancelling_contributions_is_never_sampled():
    """Issue 9: contributions +189.40 and −189.40 summing to an exact 0 were graded to ±1e-4, but a student's
    running value depends on the digits carried. y = x1·x2 − (x1 + x2) at x2 = 1: x̄1 = 1 − 1 = 0."""
    g = {"graph": "v1 = v-1 * v0; v2 = v-1 + v0; v3 = v1 - v2", "x": [3, 1]}
    inst = ad.instance(g)
    rows = ad.adjoint_rows(inst.graph, ad.local_partials(inst.graph, inst.vals), 1)[1]
    last_to_x1 = [r for r in rows if r.target == -1][-1]
    assert last_to_x1.value == 0 and last_to_x1.contribution == 1 and last_to_x1.before == -1
    with pytest.raises(Rejected, match="cancellation"):
        ad._check_adjoint_rows(rows)
    for variant in ("reverse", "fill", "forward"):
        for seed in range(40):
            problem = generate("autodiff", variant, "medium", seed)
            carried = ad.carried_values(variant, problem.givens)
            for part in problem.solution.parts:
                if part.answer.value == 0:  # a zero that remains is exact on every path (a seed of 0 propagated)
                    assert carried[part.id] == 0, (variant, seed, part.id)


def test_questions_with_sin_or_cos_say_the_angles_are_in_radians():
    from exgen.render import Renderer

    for variant in ("forward", "reverse", "jacobian", "fill"):
        text = Renderer("md").question(solve_givens("autodiff", variant, {**BAYDIN, "mode": "forward",
                                                                          "table": "forward"}))
        assert "radians" in text and "natural logarithm" in text


@pytest.mark.parametrize("table, shown, hidden", [
    ("forward", "v1, v3", "v3"),    # v3 is y1: showing it answers y1
    ("forward", "dv4", "dv4"),      # dv4 is dy2
    ("reverse", "bar_vm1_2", "bar_vm1_2"),  # the last contribution to v-1 is x̄1
])
def test_a_filled_table_never_shows_a_cell_that_gives_an_asked_answer_away(table, shown, hidden):
    with pytest.raises(InvalidGivens, match=f"{hidden} holds an output row's value"):
        solve_givens("autodiff", "fill", {**HW1_Q4, "table": table, "shown": shown})
    assert {p.id for p in solve_givens("autodiff", "fill", {**HW1_Q4, "table": table, "shown": "v1"}).solution.parts}


def test_sampled_filled_tables_show_no_giveaway():
    for seed in range(60):
        g = generate("autodiff", "fill", "medium", seed).givens
        inst = ad.instance(g)
        rows = None if g["table"] == "forward" else ad.adjoint_rows(
            inst.graph, ad.local_partials(inst.graph, inst.vals), g["output"])[1]
        with ad.numbered(g):  # ids as the question numbers its nodes
            assert not set(g["shown"]) & ad.giveaways(inst.graph, rows)


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_the_jacobian_sometimes_favours_forward_mode(difficulty):
    """Forward mode takes n passes (one per input), reverse m (one per output): f: R^1 -> R^2 favours forward."""
    cheaper = {generate("autodiff", "jacobian", difficulty, s).solution.parts[-1].answer.value for s in range(40)}
    assert {"forward", "reverse"} <= cheaper
    one_input = {"graph": "v1 = sin(v0); v2 = v1 * v0; v3 = exp(v0)", "x": [0.5], "mode": "forward"}
    a = answers("jacobian", one_input)
    assert (a["passes_forward"], a["passes_reverse"], a["cheaper"]) == (1, 2, "forward")
    assert a["J_1_1"] == pytest.approx(math.cos(0.5) * 0.5 + math.sin(0.5)) and a["J_2_1"] == pytest.approx(math.exp(0.5))


def test_hard_linear_layers_flatten_sequences_into_rows():
    """B sequences of S tokens: X is (B·S) × D1, so dL/dX is (B·S) × D1 and each product 2·(B·S)·D1·D2 FLOPs."""
    a = answers("linear_layer", {"B": 4, "S": 1024, "D1": 512, "D2": 2048})
    assert a["dW_shape"] == [512, 2048] and a["dX_shape"] == [4096, 512]
    assert a["flops_dW"] == 2 * 4096 * 512 * 2048 and a["flops_backward"] == 4 * 4096 * 512 * 2048
    assert wrong("autodiff", mistake("sequence_length_forgotten"), "linear_layer", {"B": 4, "S": 1024, "D1": 512, "D2": 2048}) \
        == 2 * 4 * 512 * 2048
    assert all("S" in generate("autodiff", "linear_layer", "hard", s).givens for s in range(5))


# ---- issue 10: bounded givens ----------------------------------------------------------------------------------

CORNER_GRAPHS = {
    "forward": {**BAYDIN, "xdot": [1, 0]},
    "reverse": {**HW1_Q4, "output": 1},
    "jacobian": {**HW1_Q4, "mode": "reverse"},
    "fill": {**HW1_Q4, "table": "reverse", "shown": "v1", "output": 1, "xdot": [0, 1]},
    "linear_layer": {"B": 8, "D1": 128, "D2": 64, "S": 2},
}


def _finite(value) -> bool:
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


@pytest.mark.parametrize("variant", list(CORNER_GRAPHS))
def test_solving_at_every_corner_of_the_bounds_is_finite_quick_or_refused(variant):
    import time

    from exgen.givens import coerce

    spec = get("autodiff").variant(variant)
    for given in spec.givens:
        for bound in (given.low, given.high):
            if bound is None:
                continue
            base = CORNER_GRAPHS[variant]
            value = [bound] * len(base.get(given.name) or base["x"]) if given.kind == "vector" else bound
            start = time.perf_counter()
            try:
                problem = solve_givens("autodiff", variant, {**base, given.name: coerce(given, value)})
                assert all(_finite(p.answer.value) for p in problem.solution.parts), (given.name, bound)
            except InvalidGivens:
                pass
            assert time.perf_counter() - start < 2, (given.name, bound)
            outside = bound + (1 if bound == given.high else -1)
            with pytest.raises(InvalidGivens, match="outside"):
                coerce(given, [outside] * 2 if given.kind == "vector" else outside)


def test_forty_chained_squarings_are_refused_or_computed_quickly():
    """Issue 10: 40 chained squarings hung (an exact fraction of 2^40 digits); now a value beyond 10^12 is refused
    and an exact fraction whose digits grow continues as a float."""
    import time

    lines = ["v1 = x1^2"] + [f"v{k} = v{k - 1}^2" for k in range(2, 41)]
    # x = 1.5: v40 = 1.5^(2^40); x = 1: every value is 1 but the tangent is 2^40 > 10^12; x = 0.999: all small
    for x, refused in ((1.5, True), (1, True), (0.999, False)):
        start = time.perf_counter()
        try:
            problem = solve_givens("autodiff", "forward", {"graph": lines, "x": [x]})
            assert not refused and all(math.isfinite(p.answer.value) for p in problem.solution.parts)
        except InvalidGivens as e:
            assert refused and "exceeds" in str(e)
        assert time.perf_counter() - start < 2


def test_a_million_line_graph_is_refused_before_it_is_read():
    from exgen.givens import coerce

    spec = get("autodiff").variant("forward")
    huge = ";".join(f"v{k} = v{k - 1}^2" for k in range(1, 10**6))
    with pytest.raises(InvalidGivens, match="at most"):
        coerce(next(g for g in spec.givens if g.name == "graph"), huge)
    with pytest.raises(InvalidGivens, match="^graph: at most 8160 characters"):
        solve_givens("autodiff", "forward", {"graph": huge, "x": [2]})


# ---- hard adds a step ------------------------------------------------------------------------------------------


def test_hard_forward_seeds_are_directions_and_the_tangent_is_j_times_xdot():
    for seed in range(10):
        problem = generate("autodiff", "forward", "hard", seed)
        xdot = problem.givens["xdot"]
        assert sum(v != 0 for v in xdot) >= 2
        J = ad.jacobian(ad.instance(problem.givens))
        dy1 = next(p.answer.value for p in problem.solution.parts if p.id == "dy1")
        assert dy1 == pytest.approx(sum(float(d) * x for d, x in zip(J[0], xdot)), rel=1e-12)


def test_hard_reverse_sweeps_a_weighted_sum_of_two_outputs():
    """HW1 Q4 with ȳ = (2, −1): x̄ = 2·∇y1 − ∇y2 = 2·(12, 12) − (−4, 4) = (28, 20)."""
    a = answers("reverse", {**HW1_Q4, "ybar": [2, -1]})
    assert (a["bar_x1"], a["bar_x2"]) == (28, 20)
    assert wrong("autodiff", mistake("adjoint_seed_ignored"), "reverse", {**HW1_Q4, "ybar": [2, -1]}) == 12
    for seed in range(8):
        g = generate("autodiff", "reverse", "hard", seed).givens
        assert len(g["ybar"]) == len(g["outputs"]) == 2


def test_an_exact_fraction_too_small_for_a_float_is_refused_not_a_traceback():
    """Found by the fuzz test below: x3 = 1e-300 is exact, but a float divided by it is a ZeroDivisionError."""
    g = {"graph": ["v1 = v-2 * v0", "v2 = v0 * v1", "v3 = v2 * v-1", "v4 = v3 / v0", "v5 = v4 * v2",
                   "v6 = v5 * v-1", "v7 = v4 + v6"], "x": [1000, -1000, 1e-300], "mode": "forward"}
    with pytest.raises(InvalidGivens, match="too small|exceeds|division"):
        solve_givens("autodiff", "jacobian", g)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6), size=st.integers(1, ad.MAX_LINES),
       x=st.lists(st.sampled_from([1e-300, -1000, 1000, 0.5, -3, 999.99, 1]) | st.floats(-1000, 1000), min_size=6,
                  max_size=6),
       variant=st.sampled_from(["forward", "reverse", "jacobian", "fill"]), table=st.sampled_from(["forward", "reverse"]))
def test_any_in_bounds_graph_is_solved_finite_or_refused_in_one_line(seed, n, size, x, variant, table):
    try:
        graph = ad.random_graph(Rng("fuzz", seed), n, size, size, outputs=range(1, ad.MAX_LINES + 1))
    except (Rejected, ValueError):
        return
    g = {"graph": ad.graph_lines(graph), "x": x[:n], "outputs": [f"v{k}" for k in graph.outputs], "mode": table,
         "table": table, "xdot": x[-n:]}
    try:
        problem = solve_givens("autodiff", variant, g)
    except InvalidGivens as e:
        assert "\n" not in str(e)
        return
    assert all(math.isfinite(p.answer.value) for p in problem.solution.parts if p.answer.kind == "number")


def test_a_function_of_a_negative_number_has_one_pair_of_parentheses_and_tables_have_no_frac():
    """Issue 11: `\\exp((-1))`, and quotient-rule tangents set in script size (\\frac) inside tables."""
    problem = solve_givens("autodiff", "forward", {"graph": "v1 = v-1 / v0; v2 = sin(v1); v3 = exp(v-1)", "x": [-2, 3]})
    worked = " ".join(step.math for step in problem.solution.steps)
    assert r"\exp(-2) = 0.135335" in worked and "((" not in worked
    assert r"\frac" not in problem.solution.shown[0].math


# ---- the other numbering: inputs v1..vn, intermediates after them (issue 17) -----------------------------------

# Baydin et al. (2018), Table 2's function f(x1, x2) = ln(x1) + x1 x2 - sin(x2) at (2, 5), written with the inputs
# numbered first (v1 = x1, v2 = x2, intermediates v3..v7), as Wikipedia's "Automatic differentiation" article numbers
# its traces (w1 = x1, w2 = x2, w3 = w1 w2, ...).
BAYDIN_INPUTS_FIRST = {"graph": "v3 = ln(v1); v4 = v1 * v2; v5 = sin(v2); v6 = v3 + v4; v7 = v6 - v5", "x": [2, 5],
                       "numbering": "inputs-first"}


def test_inputs_first_numbering_gives_baydins_table_2_under_shifted_names():
    """Baydin Table 2 (v̇1 = 1/2, v̇2 = 5, v̇3 = 0, v̇4 = v̇5 = ẏ = 5.5) is v̇3..v̇7 once the inputs are v1, v2."""
    a = {p.id: p.answer.value for p in solve_givens("autodiff", "forward", BAYDIN_INPUTS_FIRST).solution.parts}
    b = {p.id: p.answer.value for p in solve_givens("autodiff", "forward", BAYDIN).solution.parts}
    assert (a["dv3"], a["dv4"], a["dv5"], a["dv6"], a["dv7"], a["dy1"]) == (0.5, 5, 0, 5.5, 5.5, 5.5)
    assert a["v7"] == pytest.approx(11.652, abs=5e-4)
    assert {k: v for k, v in a.items() if k in ("y1", "dy1")} == {k: v for k, v in b.items() if k in ("y1", "dy1")}
    assert sorted(a.values()) == sorted(b.values())  # the same cells, renamed
    table = solve_givens("autodiff", "forward", BAYDIN_INPUTS_FIRST).solution.shown[0].math
    assert r"v_{1} = x_{1}" in table and r"v_{3} = \ln v_{1}" in table and "v_{-1}" not in table


def test_wikipedia_forward_example_in_inputs_first_numbering():
    """Wikipedia, "Automatic differentiation", forward accumulation: z = x1 x2 + sin x1 as w3 = w1 w2,
    w4 = sin w1, w5 = w3 + w4; seeded on x1, ẇ5 = x2 + cos x1."""
    g = {"graph": "v3 = v1 * v2; v4 = sin(v1); v5 = v3 + v4", "x": [2, 3], "numbering": "inputs-first"}
    a = {p.id: p.answer.value for p in solve_givens("autodiff", "forward", g).solution.parts}
    assert a["v5"] == pytest.approx(6 + math.sin(2)) and a["dv5"] == pytest.approx(3 + math.cos(2))


def test_inputs_first_reverse_ids_and_refusals():
    a = {p.id: p.answer.value for p in solve_givens("autodiff", "reverse", BAYDIN_INPUTS_FIRST).solution.parts}
    assert a["bar_v1_2"] == pytest.approx(5.5) and a["bar_x2"] == pytest.approx(2 - math.cos(5))
    assert not any(k.startswith("bar_vm") or k == "bar_v0_1" for k in a)
    with pytest.raises(InvalidGivens, match="expected v3"):
        solve_givens("autodiff", "forward", {**BAYDIN_INPUTS_FIRST, "graph": "v1 = ln(v-1)"})
    with pytest.raises(InvalidGivens, match="v1 is not an input or an earlier node|expected v3"):
        solve_givens("autodiff", "forward", {**BAYDIN, "numbering": "inputs-first"})
    with pytest.raises(InvalidGivens, match="numbering"):
        solve_givens("autodiff", "forward", {**BAYDIN, "numbering": "zero-based"})


@pytest.mark.parametrize("variant", ["forward", "reverse", "jacobian", "fill"])
def test_both_numberings_are_sampled_and_ask_the_same_cells_renamed(variant):
    seen = set()
    for seed in range(40):
        problem = generate("autodiff", variant, "medium", seed)
        g = problem.givens
        seen.add(g["numbering"])
        if g["numbering"] == "inputs-first":
            n = len(g["x"])
            assert g["graph"][0].startswith(f"v{n + 1} = ")
        else:  # the same instance, renumbered: the same keys in the same order, under shifted names
            other = solve_givens("autodiff", variant, ad.renumbered(g, "inputs-first")).solution
            assert [p.answer.value for p in other.parts] == [p.answer.value for p in problem.solution.parts]
    assert seen == set(ad.NUMBERINGS)


def test_the_question_states_the_inputs_first_numbering():
    from exgen.render import Renderer

    text = Renderer("md").question(solve_givens("autodiff", "forward", BAYDIN_INPUTS_FIRST))
    assert "numbers the inputs first, $v_i = x_i$" in text and "(here $n = 2$)" in text
    assert "Baydin" not in text
    assert "as in Baydin et al. (2018)" in Renderer("md").question(solve_givens("autodiff", "forward", BAYDIN))


# ---- the fast arithmetic is Python's arithmetic (issue 12) -----------------------------------------------------

_EXACT = st.builds(Fraction, st.integers(-10**6, 10**6), st.integers(1, 10**4))
_VALUES = st.one_of(_EXACT, st.sampled_from([ad.ZERO, ad.ONE, ad.MINUS_ONE, Fraction(0), Fraction(1)]),
                    st.floats(allow_nan=False, width=64), st.sampled_from([0.0, -0.0, 1.0, -1.0]))


def _same(fast, plain):
    """The same type and value; for floats the same bits (signed zeros included)."""
    assert type(fast) is type(plain)
    if isinstance(plain, float):
        assert fast == plain or (math.isnan(fast) and math.isnan(plain))
        assert math.copysign(1, fast) == math.copysign(1, plain)
    else:
        assert (fast.numerator, fast.denominator) == (plain.numerator, plain.denominator)


@settings(max_examples=400, deadline=None)
@given(_VALUES, _VALUES)
def test_fast_products_sums_and_differences_are_pythons(a, b):
    _same(ad._mul(a, b), a * b)
    _same(ad._add(a, b), a + b)
    _same(ad._sub(a, b), a - b)


@settings(max_examples=300, deadline=None)
@given(st.lists(_EXACT | st.floats(-1e6, 1e6), min_size=1, max_size=2), _EXACT | st.floats(-1e6, 1e6))
def test_fast_comparisons_with_float_bounds_are_pythons(terms, total):
    assert ad._cancels(total, terms) == (abs(total) < ad.CANCELLATION * max(abs(t) for t in terms))
    for bound in (ad.MAX_ANGLE, 0.01, float(abs(total)) if total else 1.0):
        assert ad._below(total, bound) == (abs(total) < bound)
        assert ad._above(total, bound) == (abs(total) > bound)


@settings(max_examples=300, deadline=None)
@given(_EXACT | st.floats(-1e15, 1e15))
def test_show_is_six_significant_figures_as_numfmt_writes_them(v):
    from exgen import numfmt as nf

    expected = str(v.numerator) if isinstance(v, Fraction) and v.denominator == 1 else nf.sig(v, ad.SHOW)
    assert ad.show(v) == expected
