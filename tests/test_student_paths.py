"""Student paths: every correct way a careful student computes a part from what the page shows lands inside
the key's tolerance (issue 9, DESIGN.md "Fair questions"). Registry-driven: a topic's new paths are checked
for free; and the machinery itself, on a tiny synthetic topic."""

from __future__ import annotations

import pytest

from conftest import variant_cases, variant_difficulty_cases
from exgen import numfmt as nf
from exgen.generate import generate, generate_counted, path_failures
from exgen.grading.compare import matches
from exgen.topics import TOPIC_NAMES, get
from exgen.topics.base import DIFFICULTIES, StudentPath, answers_of, each
from synthetic import counting_topic, use_topic

SEEDS = range(50)


@pytest.mark.parametrize("topic", TOPIC_NAMES)
def test_paths_name_real_variants_and_parts(topic):
    t = get(topic)
    for path in t.paths:
        assert path.variants and path.explanation, path.name
        for variant in path.variants:  # a part may be asked at one difficulty only (a hard twist)
            parts = {p.id for d in DIFFICULTIES for p in generate(topic, variant, d, 0).solution.parts}
            assert path.part in parts, (path.name, variant)


@pytest.mark.parametrize("topic,variant,difficulty", variant_difficulty_cases())
def test_every_student_path_lands_inside_the_tolerance(topic, variant, difficulty):
    t = get(topic)
    for seed in SEEDS:
        problem = generate(topic, variant, difficulty, seed)
        for path in t.paths_for(variant):
            for value in answers_of(path.value(variant, problem.givens, problem.solution)):
                assert matches(problem.solution.part(path.part).answer, value), (path.name, seed, value)


@pytest.mark.parametrize("topic,variant", variant_cases())
def test_every_path_applies_to_some_problem(topic, variant):
    """A path that returns None on every problem audits nothing: it is dead or its condition is wrong."""
    paths = get(topic).paths_for(variant)
    applied = {p.name for p in paths if any(p.value(variant, pr.givens, pr.solution) is not None
                                               for pr in (generate(topic, variant, d, s)
                                                          for d in DIFFICULTIES for s in range(10)))}
    assert applied == {p.name for p in paths}


def _path(name, value):
    return StudentPath(name, "third", "a test path", ("third",), value)


def test_generate_rejects_an_instance_where_a_path_lands_outside(monkeypatch):
    """The path is off by five units of the last place for even x: only odd x are ever asked."""
    def off_for_even(variant, givens, solution):
        answer = solution.part("third").answer
        return answer.value + (5 * answer.allowance(answer.value) if givens["x"] % 2 == 0 else 0)

    topic = counting_topic(100, paths=(_path("off for even x", off_for_even),))
    use_topic(monkeypatch, topic)
    rejected = 0
    for seed in range(40):
        problem, draws = generate_counted("counting", "third", "easy", seed)
        assert problem.givens["x"] % 2 == 1
        assert draws.draws == 1 + draws.path and draws.sampler == draws.mistake == 0
        rejected += draws.path
    assert rejected > 0  # some even x were drawn and refused
    for x, failed in ((3, []), (4, ["off for even x"])):
        assert path_failures(topic, "third", {"x": x}, topic.solve("third", {"x": x})) == failed


def test_a_path_that_returns_none_is_ignored(monkeypatch):
    use_topic(monkeypatch, counting_topic(100, paths=(_path("never applies", lambda v, g, s: None),)))
    for seed in range(20):
        _, draws = generate_counted("counting", "third", "easy", seed)
        assert draws.draws == 1 and draws.path == 0


# ---- ties: a student may hold either neighbour -------------------------------------------------------------


@pytest.mark.parametrize("x,figures,decimals,held", [
    (41.15, 3, None, (41.2, 41.1)),  # the float is 41.1499…: the decimal meant is a tie
    (0.8125, 3, None, (0.813, 0.812)),  # an exact binary tie, which the float's formatting sends to even
    (6125.0, 3, None, (6130.0, 6120.0)),
    (-2.5, None, 0, (-3.0, -2.0)),
    (0.0017250000000000024, 3, None, (0.00173, 0.00172)),  # 0.0069/4 in floats: exactly 0.001725
    (41.16, 3, None, (41.2,)), (6125.000001, 3, None, (6130.0,)), (0.0, 3, None, (0.0,)),
])
def test_held_is_the_one_rounding_or_both_neighbours_of_a_tie(x, figures, decimals, held):
    """The printed rounding (half away from zero) first; the other neighbour only at a tie."""
    assert nf.held(x, figures, decimals) == held
    assert held[0] == nf.rounded(x, figures, decimals)


def test_each_runs_a_route_over_every_value_a_student_may_hold():
    assert each(lambda a, b: a + b, (1, 2), (10,)) == (11, 12)
    assert each(lambda a: (a, a + 1), (1, 2)) == (1, 2, 3)  # a route's own alternatives, without repeats
    assert each(lambda a: a * 2, (3,)) == 6  # one value stays a value
    assert answers_of((1, 2)) == (1, 2) and answers_of(5) == (5,) and answers_of(None) == ()


def test_a_path_with_an_alternative_outside_the_tolerance_fails():
    def one_outside(variant, givens, solution):
        answer = solution.part("third").answer
        return (answer.value, answer.value + (5 * answer.allowance(answer.value) if givens["x"] % 2 == 0 else 0))

    topic = counting_topic(100, paths=(_path("either", one_outside),))
    for x, failed in ((3, []), (4, ["either"])):
        assert path_failures(topic, "third", {"x": x}, topic.solve("third", {"x": x})) == failed


def test_a_sampled_instance_at_a_tie_is_refused_for_either_neighbour():
    """Problem seed 27 of compute/zero/medium (`generate("compute", "zero", "medium", 27)`) drew Adam,
    Ψ = 9.205e12 on 24 GPUs in GB: the baseline 147280 GB is answered 147000, and 147000/24 = 6125 is a tie. Rounded half up it is
    6130, inside the key 6136.67 ± 10; rounded to even (or as the float formats it) 6120, outside. The path
    held only 6130 before, and the sampler asked the instance."""
    givens = {"optimizer": "adam", "params": 9.205e12, "gpus": 24, "unit": "GB"}
    topic = get("compute")
    solution = topic.solve("zero", givens)
    path = next(p for p in topic.paths_for("zero") if p.name == "stage3_from_the_rounded_baseline")
    assert path.value("zero", givens, solution) == (6130.0, 6120.0)
    assert path_failures(topic, "zero", givens, solution) == ["stage3_from_the_rounded_baseline"]
    assert generate("compute", "zero", "medium", 27).givens != givens


def test_a_sampled_instance_whose_earlier_answer_is_a_tie_is_refused_for_either_neighbour():
    """Problem seed 19 of quantization/absmax/medium drew S = 2.31/8 = 0.28875, so the reconstruction entry
    -4S = -1.155 is a tie at the 2 decimals asked: the sheet prints -1.16, a student rounding to even (or the
    float, -1.15499…) writes -1.15. The error from the reported reconstruction is 0.342 with -1.16 but 0.345 with
    -1.15, outside the key 0.34233 ± 0.001; the path held only one of them before, and the instance was asked."""
    x = [[1.41, -1.61, 2.13, -0.12], [-0.45, -1.86, 0.51, -0.09], [-0.59, -1.27, -1.71, 0.36],
         [0.52, -2.31, 0.32, 0.08]]
    givens = {"decimals": 2, "clip": 0, "X": x, "bits": 4, "convention": "qmin", "metric": "frobenius"}
    topic = get("quantization")
    solution = topic.solve("absmax", givens)
    assert solution.value("reconstruction")[2][1] == pytest.approx(-1.155)
    assert nf.held(solution.value("reconstruction")[2][1], decimals=2) == (-1.16, -1.15)
    path = next(p for p in topic.paths_for("absmax") if p.name == "error_of_rounded_reconstruction")
    assert path.value("absmax", givens, solution) == (0.342, 0.345)
    assert path_failures(topic, "absmax", givens, solution) == ["error_of_rounded_reconstruction"]
    assert generate("quantization", "absmax", "medium", 19).givens != givens
