"""Solver and torch verifier agree: two independent computations of every answer, over many random seeds."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import needs, variant_cases
from exgen.generate import generate
from exgen.grading.compare import matches
from exgen.topics.base import DIFFICULTIES

# Topics whose verifier spawns process groups, counts FLOPs of 96-layer models or runs 126-layer decoders are
# checked on fewer seeds here (their own test files go deeper).
EXAMPLES = {"parallelism": 3, "compute": 25, "inference": 25}


@needs("torch")
@pytest.mark.parametrize("topic,variant", variant_cases())
def test_solver_and_verifier_agree(topic, variant):
    import torch

    from exgen.verify import reproduce

    @settings(max_examples=EXAMPLES.get(topic, 75), deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(seed=st.integers(0, 2**32 - 1), difficulty=st.sampled_from(DIFFICULTIES))
    def agree(seed, difficulty):
        problem = generate(topic, variant, difficulty, seed)
        values = reproduce(problem, torch.device("cpu"))
        for part in problem.solution.parts:
            assert part.id in values and matches(part.answer, values[part.id]), (part.id, seed, difficulty)

    agree()
