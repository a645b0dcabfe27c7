"""Solver and torch verifier agree: two independent computations of every answer, over many random seeds."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import needs, variant_cases
from exgen.generate import generate
from exgen.topics import TOPIC_NAMES, get
from exgen.topics.base import DIFFICULTIES

# Topics whose verifier spawns process groups, counts FLOPs of 96-layer models or runs 126-layer decoders are
# checked on fewer seeds here (their own test files go deeper).
EXAMPLES = {"parallelism": 3, "compute": 25, "inference": 25}


@needs("torch")
@pytest.mark.parametrize("topic,variant", variant_cases())
def test_solver_and_verifier_agree(topic, variant):
    import torch

    from exgen.verify import agrees, reproduce

    @settings(max_examples=EXAMPLES.get(topic, 75), deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(seed=st.integers(0, 2**32 - 1), difficulty=st.sampled_from(DIFFICULTIES))
    def agree(seed, difficulty):
        problem = generate(topic, variant, difficulty, seed)
        values = reproduce(problem, torch.device("cpu"))
        for part in problem.solution.parts:
            assert part.id in values and agrees(part.answer, values[part.id]), (part.id, seed, difficulty)

    agree()


def one_unit_off(answer):
    """The key edited by one unit in the last asked place (an exact number by 1, a choice to another one)."""
    if answer.kind == "choice":
        return replace(answer, value=next(c for c in answer.choices if c != answer.value))
    if answer.kind == "expression":
        return replace(answer, value=f"2*({answer.value})")
    first = answer.value
    while isinstance(first, list):
        first = first[0]
    step = answer.allowance(first) or 1
    edit = lambda v: v + step if isinstance(v, float) else v + int(step)  # noqa: E731
    if answer.kind == "vector":
        return replace(answer, value=[edit(answer.value[0]), *answer.value[1:]])
    if answer.kind == "matrix":
        return replace(answer, value=[[edit(answer.value[0][0]), *answer.value[0][1:]], *answer.value[1:]])
    return replace(answer, value=edit(answer.value))


@needs("torch")
@pytest.mark.parametrize("topic", TOPIC_NAMES)
def test_a_key_off_by_one_unit_in_the_last_asked_place_is_caught(topic):
    """The grader would accept one unit off; the verifier holds a key to its own float64 tolerance."""
    import torch

    from exgen.verify import agrees, reproduce

    for variant in get(topic).variants:
        problem = generate(topic, variant.name, "hard", 7)
        values = reproduce(problem, torch.device("cpu"))
        for part in problem.solution.parts:
            assert agrees(part.answer, values[part.id]), (variant.name, part.id)
            assert not agrees(one_unit_off(part.answer), values[part.id]), (variant.name, part.id)
