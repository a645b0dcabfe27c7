"""Batch arithmetic: micro-batch, gradient accumulation, data parallelism, optimizer steps (seed 002).

    global batch (sequences)   B = b_micro × k_accum × N_dp      each optimizer step sums k gradients of
                                                                 b-sequence micro-batches on each of N_dp GPUs
    global batch (tokens)      B × S                             S tokens per sequence
    steps per epoch            floor(D_data / (B·S))             a final incomplete batch is dropped
    steps for a token budget   ceil(T / (B·S))                   the last step is a whole batch
    micro-steps per GPU        k_accum × steps                   forward/backward passes each GPU runs
Every answer is an exact integer.
"""

from __future__ import annotations

from typing import Any

from exgen import numfmt as nf
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, Mistake, Rejected, Variant


def batch_counts(micro: int, accum: int, dp: int, seq: int, dataset: int, budget: int) -> dict[str, int]:
    sequences = micro * accum * dp
    tokens = sequences * seq
    steps = -(-budget // tokens)
    return {"global_batch": sequences, "batch_tokens": tokens, "epoch_steps": dataset // tokens,
            "budget_steps": steps, "micro_steps": steps * accum}


VARIANTS = (
    Variant("batch", "global batch from micro-batch, gradient accumulation and data parallelism; optimizer steps "
            "per epoch and for a token budget", (
                Given("micro_batch", "sequences per micro-batch on one GPU", "integer", low=1, high=10**5),
                Given("accum", "gradient-accumulation steps per optimizer step", "integer", low=1, high=10**5),
                Given("dp", "data-parallel GPUs (replicas)", "integer", low=1, high=10**6),
                Given("seq_len", "tokens per sequence", "integer", low=1, high=10**7),
                Given("dataset_tokens", "tokens in one epoch of the dataset", "integer", low=1, high=10**15),
                Given("budget_tokens", "training-token budget", "integer", low=1, high=10**15))),
)


def _ints(g: dict[str, Any]) -> tuple[int, ...]:
    return tuple(int(g[k]) for k in ("micro_batch", "accum", "dp", "seq_len", "dataset_tokens", "budget_tokens"))


def _count(n: int) -> str:
    """A token count as the question prints it: exactly, in scientific notation (6.759 × 10^11)."""
    return nf.sig(n, max(1, len(str(n).rstrip("0"))))


def _quotient(x: float) -> str:
    """A quotient with enough figures that its floor or ceiling is plain to see."""
    return nf.sig(x, max(6, len(str(int(x))) + 3))


def _solve_batch(g: dict[str, Any]) -> Solution:
    micro, accum, dp, seq, dataset, budget = _ints(g)
    c = batch_counts(micro, accum, dp, seq, dataset, budget)
    tokens = c["batch_tokens"]

    def steps() -> tuple[Step, ...]:
        return (
            Step("Each optimizer step sums the gradients of $k$ micro-batches of $b$ sequences on each of the "
                 "$N_{dp}$ GPUs:", rf"B = b \times k \times N_{{dp}} = {micro} \times {accum} \times {dp} = "
                                   rf"{c['global_batch']}\ \text{{sequences}}"),
            Step(f"Each sequence has $S = {seq}$ tokens:",
                 rf"B \times S = {c['global_batch']} \times {seq} = {tokens}\ \text{{tokens}}"),
            Step("Whole optimizer steps in one epoch (the final incomplete batch is dropped):",
                 rf"\left\lfloor \frac{{{_count(dataset)}}}{{{tokens}}} \right\rfloor = "
                 rf"\lfloor {_quotient(dataset / tokens)} \rfloor = {c['epoch_steps']}"),
            Step("Optimizer steps to cover the token budget (rounded up: the last step is a whole batch):",
                 rf"\left\lceil \frac{{{_count(budget)}}}{{{tokens}}} \right\rceil = "
                 rf"\lceil {_quotient(budget / tokens)} \rceil = {c['budget_steps']}"),
            Step("Each optimizer step runs $k$ forward/backward passes (micro-steps) on every GPU:",
                 rf"{accum} \times {c['budget_steps']} = {c['micro_steps']}"),
        )

    labels = {"global_batch": "global batch in sequences", "batch_tokens": "global batch in tokens",
              "epoch_steps": "optimizer steps per epoch", "budget_steps": "optimizer steps for the budget",
              "micro_steps": "micro-steps per GPU for the budget"}
    return Solution(tuple(Part(k, label, Answer("integer", c[k])) for k, label in labels.items()), steps)


SOLVERS = {"batch": _solve_batch}


# ---- sampling --------------------------------------------------------------------------------------
SEQ_LENS = (512, 1024, 2048, 4096, 8192)


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    """Powers of two at easy (the usual configurations); any micro-batch and GPU count above; token counts
    of 2 to 4 significant figures, so the divisions rarely come out even."""
    easy, hard = difficulty == "easy", difficulty == "hard"
    micro = 2 ** rng.randint(0, 5) if easy else rng.randint(1, 32)
    accum = 2 ** rng.randint(0, 5) if easy else rng.randint(1, 64)
    dp = 2 ** rng.randint(0, 10) if easy else 8 * rng.randint(1, 512) if hard else rng.randint(1, 256)
    seq = rng.choice(SEQ_LENS) if not hard else 256 * rng.randint(2, 64)
    figures = 2 if easy else 3 if difficulty == "medium" else 4
    dataset = rng.randint(10 ** (figures - 1), 10**figures - 1) * 10 ** rng.randint(10 - figures, 13 - figures)
    budget = rng.randint(10 ** (figures - 1), 10**figures - 1) * 10 ** rng.randint(10 - figures, 14 - figures)
    g = {"micro_batch": micro, "accum": accum, "dp": dp, "seq_len": seq, "dataset_tokens": dataset,
         "budget_tokens": budget}
    c = batch_counts(micro, accum, dp, seq, dataset, budget)
    if c["epoch_steps"] < 10 or c["budget_steps"] < 10 or accum == 1 and micro == 1:
        raise Rejected("fewer than ten steps, or no batch arithmetic to do")
    return g


# ---- named mistakes --------------------------------------------------------------------------------


def _counts(g: dict[str, Any], **change: int) -> dict[str, int]:
    micro, accum, dp, seq, dataset, budget = _ints(g)
    args = {"micro": micro, "accum": accum, "dp": dp, "seq": seq, "dataset": dataset, "budget": budget, **change}
    return batch_counts(**args)


def _unless_same(g: dict[str, Any], part: str, value: int) -> int | None:
    return None if value == _counts(g)[part] else value


MISTAKES = (
    Mistake("accumulation_forgotten", "global_batch", "Each optimizer step sums k micro-batches: B = b k N_dp.",
            ("batch",), lambda v, g, s: _unless_same(g, "global_batch", _counts(g, accum=1)["global_batch"])),
    Mistake("data_parallelism_forgotten", "global_batch", "Every one of the N_dp GPUs contributes its own "
            "micro-batches to the step: B = b k N_dp.", ("batch",),
            lambda v, g, s: _unless_same(g, "global_batch", _counts(g, dp=1)["global_batch"])),
    Mistake("micro_steps_as_optimizer_steps", "epoch_steps", "One optimizer step takes k micro-batches per GPU: "
            "divide by the global batch, not by b N_dp.", ("batch",),
            lambda v, g, s: _unless_same(g, "epoch_steps", _counts(g, accum=1)["epoch_steps"])),
    Mistake("data_parallelism_forgotten", "budget_steps", "The global batch includes every data-parallel GPU.",
            ("batch",), lambda v, g, s: _unless_same(g, "budget_steps", _counts(g, dp=1)["budget_steps"])),
    Mistake("rounded_down", "budget_steps", "Covering the whole budget takes the next whole step: round up.",
            ("batch",), lambda v, g, s: _unless_same(g, "budget_steps", int(g["budget_tokens"]) //
                                                  _counts(g)["batch_tokens"])),
    Mistake("accumulation_forgotten", "micro_steps", "Each optimizer step is k forward/backward passes.",
            ("batch",), lambda v, g, s: _unless_same(g, "micro_steps", _counts(g)["budget_steps"])),
)
