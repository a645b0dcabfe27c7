"""compute/batch: micro-batch, gradient accumulation, data parallelism and optimizer steps (issue 16, item 5)."""

from __future__ import annotations

import pytest

from conftest import needs
from exgen.generate import solve_givens

# Pythia (Biderman et al. 2023, Section 2 and the EleutherAI/pythia README): every model trained 143,000 steps at a
# batch of 1024 sequences of 2048 tokens = 2,097,152 tokens, 299,892,736,000 tokens in all; the deduplicated Pile
# holds 207B tokens per epoch. Only the product b k N_dp = 1024 is published; 8 x 1 x 128 is our split of it.
PYTHIA = {"micro_batch": 8, "accum": 1, "dp": 128, "seq_len": 2048, "dataset_tokens": 207 * 10**9,
          "budget_tokens": 299_892_736_000}


def answers(givens):
    return {p.id: p.answer.value for p in solve_givens("compute", "batch", givens).solution.parts}


def test_pythia_143000_steps_of_2097152_tokens_biderman_et_al_2023():
    a = answers(PYTHIA)
    assert a["global_batch"] == 1024 and a["batch_tokens"] == 2_097_152
    assert a["budget_steps"] == 143_000 and a["micro_steps"] == 143_000
    assert a["epoch_steps"] == 98_705  # 207e9 / 2,097,152 = 98,705.4: about 1.45 epochs of the deduped Pile


def test_accumulation_and_data_parallelism_multiply_and_the_budget_rounds_up():
    a = answers({**PYTHIA, "micro_batch": 4, "accum": 2, "budget_tokens": 299_892_736_001})
    assert a["global_batch"] == 1024 and a["budget_steps"] == 143_001 and a["micro_steps"] == 286_002


@needs("torch")
def test_the_training_loop_counts_steps_and_its_accumulated_gradient_is_the_large_batch_gradient():
    from exgen.verify.compute import accumulation_loop

    loop = accumulation_loop(3, 4, 2, 3 * 24 + 13)
    assert loop == {"steps": 3, "seen": 72, "gradient_matches": True}


@needs("torch")
def test_the_verifier_reproduces_pythia():
    import torch

    from exgen.verify.compute import reproduce

    assert reproduce("batch", PYTHIA, torch.device("cpu")) == answers(PYTHIA)
