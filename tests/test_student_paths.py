"""Student paths: every correct way a careful student computes a part from what the page shows lands inside
the key's tolerance (issue 9, DESIGN.md "Fair questions"). Registry-driven: a topic's new paths are checked
for free; and the machinery itself, on a tiny synthetic topic."""

from __future__ import annotations

import pytest

from conftest import variant_cases, variant_difficulty_cases
from exgen.generate import generate, generate_counted, path_failures
from exgen.grading.compare import matches
from exgen.topics import TOPIC_NAMES, get
from exgen.topics.base import DIFFICULTIES, StudentPath
from synthetic import counting_topic, use_topic

SEEDS = range(50)


@pytest.mark.parametrize("topic", TOPIC_NAMES)
def test_paths_name_real_variants_and_parts(topic):
    t = get(topic)
    for path in t.paths:
        assert path.variants and path.explanation, path.name
        for variant in path.variants:
            # a part a hard twist adds (layout_3d's max_micro_batch) exists at hard only
            parts = {p.id for d in DIFFICULTIES for p in generate(topic, variant, d, 0).solution.parts}
            assert path.part in parts, (path.name, variant)


@pytest.mark.parametrize("topic,variant,difficulty", variant_difficulty_cases())
def test_every_student_path_lands_inside_the_tolerance(topic, variant, difficulty):
    t = get(topic)
    for seed in SEEDS:
        problem = generate(topic, variant, difficulty, seed)
        for path in t.paths_for(variant):
            value = path.value(variant, problem.givens, problem.solution)
            if value is not None:
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
