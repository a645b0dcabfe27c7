"""The topic contract, checked for every topic and variant in the registry (a new topic inherits these)."""

from __future__ import annotations

import json

import pytest

from conftest import variant_cases, variant_difficulty_cases
from exgen.generate import generate, solve_givens
from exgen.givens import collect
from exgen.grading.compare import matches
from exgen.problem import Problem
from exgen.render import Renderer
from exgen.topics import get

SEEDS = range(12)


@pytest.mark.parametrize("topic,variant,difficulty", variant_difficulty_cases())
def test_same_seed_same_problem(topic, variant, difficulty):
    for seed in SEEDS:
        assert generate(topic, variant, difficulty, seed).to_dict() == generate(topic, variant, difficulty, seed).to_dict()


@pytest.mark.parametrize("topic,variant,difficulty", variant_difficulty_cases())
def test_problems_round_trip_through_json(topic, variant, difficulty):
    for seed in SEEDS:
        problem = generate(topic, variant, difficulty, seed)
        again = Problem.from_dict(json.loads(json.dumps(problem.to_dict())))
        assert again.to_dict() == problem.to_dict()


@pytest.mark.parametrize("topic,variant,difficulty", variant_difficulty_cases())
def test_the_key_scores_full_marks_and_a_value_just_outside_tolerance_does_not(topic, variant, difficulty):
    for seed in SEEDS:
        for part in generate(topic, variant, difficulty, seed).solution.parts:
            answer = part.answer
            assert matches(answer, answer.value), part.id
            if answer.kind == "number":
                allowance = answer.allowance(answer.value)
                outside = answer.value + 1.5 * allowance + (0 if allowance else 1)
                assert not matches(answer, outside), part.id


@pytest.mark.parametrize("topic,variant,difficulty", variant_difficulty_cases())
def test_every_applicable_mistake_is_outside_the_tolerance(topic, variant, difficulty):
    t = get(topic)
    for seed in SEEDS:
        problem = generate(topic, variant, difficulty, seed)
        for mistake in t.mistakes_for(variant):
            wrong = mistake.wrong(variant, problem.givens, problem.solution)
            if wrong is not None:
                assert not matches(problem.solution.part(mistake.part).answer, wrong), (mistake.name, seed)


@pytest.mark.parametrize("topic,variant", variant_cases())
def test_sampled_givens_are_documented_and_solve_accepts_them(topic, variant, tmp_path):
    """A user handing a sampled instance to `exgen solve --givens FILE` gets the same answers."""
    spec = get(topic).variant(variant)
    documented = {g.name for g in spec.givens}
    for seed in SEEDS:
        problem = generate(topic, variant, "medium", seed)
        assert set(problem.givens) <= documented
        file = tmp_path / f"{seed}.json"
        file.write_text(json.dumps(problem.givens))
        mine = solve_givens(topic, variant, collect(spec, (), file))
        assert [p.to_dict() for p in mine.solution.parts] == [p.to_dict() for p in problem.solution.parts]


@pytest.mark.parametrize("topic,variant,difficulty", variant_difficulty_cases())
@pytest.mark.parametrize("fmt", ["md", "tex"])
def test_templates_render_strictly_and_ask_for_every_part(topic, variant, difficulty, fmt):
    renderer = Renderer(fmt)
    for seed in range(4):
        problem = generate(topic, variant, difficulty, seed)
        question, solution = renderer.question(problem), renderer.solution(problem)
        for part in problem.solution.parts:
            tag = f"[{part.id}]" if fmt == "md" else "[" + part.id.replace("_", r"\_") + "]"
            assert tag in question, part.id
        assert question and solution


@pytest.mark.parametrize("topic", sorted({t for t, _ in variant_cases()}))
def test_ten_problems_of_a_topic_are_distinct(topic):
    from exgen.rng import problem_seed

    problems = [generate(topic, None, "easy", problem_seed(1, i)).givens for i in range(10)]
    assert len({json.dumps(g, sort_keys=True) for g in problems}) == 10
