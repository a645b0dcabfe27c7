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

from conftest import needs
from exgen.cli import cli
from exgen.generate import generate, solve_givens
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
    assert mistake("adjoint_not_accumulated").wrong("reverse", BAYDIN) == pytest.approx(0.5)


def test_chain_rule_factor_wrong_in_both_modes():
    """∂(v−1 v0)/∂v−1 taken as v−1 = 2 instead of v0 = 5: x̄1 = 2 + 0.5 and v̇5 = 2 + 0.5."""
    assert mistake("chain_rule_factor_wrong_reverse").wrong("reverse", BAYDIN) == pytest.approx(2.5)
    assert mistake("chain_rule_factor_wrong").wrong("forward", BAYDIN) == pytest.approx(2.5)


def test_tangent_seed_on_the_wrong_input_gives_the_other_partial():
    assert mistake("seed_on_wrong_input").wrong("forward", BAYDIN) == pytest.approx(2 - math.cos(5))


def test_mistakes_that_do_not_apply_say_so():
    assert mistake("adjoint_not_accumulated").wrong("forward", BAYDIN) is None
    assert mistake("chain_rule_factor_wrong").wrong("forward", {**HW1_Q4, "xdot": [1, 0]}) is None  # no product
    assert mistake("seed_on_wrong_input").wrong("fill", {**BAYDIN, "table": "reverse"}) is None


def test_linear_layer_mistakes():
    g = {"B": 8, "D1": 128, "D2": 64}
    assert mistake("backward_one_matmul").wrong("linear_layer", g) == 2 * 8 * 128 * 64
    assert mistake("fma_as_one_flop").wrong("linear_layer", g) == 8 * 128 * 64
    assert mistake("gradient_shape_transposed").wrong("linear_layer", g) == [64, 128]


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
