"""Inference memory and latency: Llama-2's published shapes, the conventions, the mistakes, torch's cache bytes."""

from __future__ import annotations

from fractions import Fraction

import pytest

from conftest import needs
from exgen.generate import generate, solve_givens
from exgen.grading.compare import matches
from exgen.topics import get
from exgen.topics import inference as inf
from exgen.topics.base import DIFFICULTIES, InvalidGivens

# Llama 2 (Touvron et al. 2023, "Llama 2: Open Foundation and Fine-Tuned Chat Models", Table 1 and Section 2.2;
# the released config.json): 70B has 80 layers, 64 query heads of dimension 128 and grouped-query attention with
# 8 KV heads; 7B has 32 layers and 32 heads of dimension 128 with multi-head attention; both have a 4096 context.
LLAMA2_70B = {"n_layer": 80, "n_heads": 64, "n_kv_heads": 8, "head_dim": 128, "kv_dtype": "fp16"}
LLAMA2_7B = {"n_layer": 32, "n_heads": 32, "n_kv_heads": 32, "head_dim": 128, "kv_dtype": "fp16"}


def answers(variant, givens):
    return {p.id: p.answer.value for p in solve_givens("inference", variant, givens).solution.parts}


def test_llama2_70b_kv_cache_per_token_published_config():
    """2 x 80 layers x 8 KV heads x 128 x 2 bytes = 327,680 B (320 KiB) per token; a full 4096-token context
    is 1.34 GB — 8x less than multi-head attention would need (GQA's motivation, Ainslie et al. 2023)."""
    a = answers("kv_cache", {**LLAMA2_70B, "seq_len": 4096, "batch": 1})
    assert a["per_token"] == 327_680 == 320 * 1024
    assert a["total"] == pytest.approx(1.342177280)
    mha = answers("kv_cache", {**LLAMA2_70B, "n_kv_heads": 64, "seq_len": 4096, "batch": 1})
    assert mha["per_token"] == 8 * a["per_token"]


def test_llama2_7b_kv_cache_is_half_a_mebibyte_per_token():
    """Multi-head attention: 2 x 32 x 32 x 128 x 2 = 524,288 B = 0.5 MiB per token; 2 GiB at 4096 tokens."""
    a = answers("kv_cache", {**LLAMA2_7B, "seq_len": 4096, "batch": 1})
    assert a["per_token"] == 2**19
    assert a["total"] * 1e9 == pytest.approx(2 * 2**30)


def test_multi_query_attention_caches_one_head():
    a = answers("kv_cache", {**LLAMA2_70B, "n_kv_heads": 1, "seq_len": 1, "batch": 1})
    assert a["per_token"] == 2 * 80 * 128 * 2


def test_budget_and_gpus_are_whole_numbers():
    a = answers("kv_cache", {**LLAMA2_70B, "seq_len": 4096, "batch": 1, "budget_gb": 10})
    assert a["max_tokens"] == 10**10 // 327_680
    m = answers("memory", {"params_b": 70, "w_dtype": "fp16", **LLAMA2_70B, "seq_len": 4096, "batch": 8,
                           "gpu_gb": 80})
    assert m["weights"] == 140 and m["total"] == pytest.approx(140 + 8 * 1.34217728)
    assert m["gpus"] == 2


def test_max_batch_on_an_80_gb_gpu():
    """Llama-2-7B in fp16 (13.5 GB... here 7 billion x 2 = 14 GB) on an 80 GB GPU at 4096 tokens: 66 GB of
    cache room, 2.147 GB per sequence, so 30 sequences."""
    a = answers("max_batch", {"gpu_gb": 80, "params_b": 7, "w_dtype": "fp16", **LLAMA2_7B, "seq_len": 4096})
    assert a["free"] == 66 and a["max_batch"] == 30
    with pytest.raises(InvalidGivens):
        answers("max_batch", {"gpu_gb": 16, "params_b": 7, "w_dtype": "fp16", **LLAMA2_7B, "seq_len": 4096})


def test_decode_is_bandwidth_bound():
    """7B in fp16 read once per step at 2000 GB/s: 7 ms per step, 142.857 tokens/s for one sequence and
    batch x that for a batch (the weights are read once for all of it)."""
    one = answers("decode", {"params_b": 7, "w_dtype": "fp16", "bandwidth_gbs": 2000, "batch": 1})
    assert one["step_ms"] == pytest.approx(7) and one["tokens_per_s"] == pytest.approx(1000 / 7)
    eight = answers("decode", {"params_b": 7, "w_dtype": "int4", "bandwidth_gbs": 2000, "batch": 8,
                               "kv_bytes_per_token": 524_288, "context": 1000})
    assert eight["step_ms"] == pytest.approx((3.5e9 + 8 * 1000 * 524_288) / 2e12 * 1000)
    with pytest.raises(InvalidGivens):
        answers("decode", {"params_b": 7, "w_dtype": "fp16", "bandwidth_gbs": 2000, "kv_bytes_per_token": 5})


def test_prefill_vs_decode():
    """2 x 7e9 x 1000 FLOPs at 312 TFLOP/s = 44.9 ms; a decode step 14 GB / 2039 GB/s = 6.87 ms."""
    a = answers("prefill", {"params_b": 7, "w_dtype": "fp16", "bandwidth_gbs": 2039, "peak_tflops": 312,
                            "prompt": 1000, "new_tokens": 100})
    assert a["prefill_ms"] == pytest.approx(2 * 7e9 * 1000 / 312e12 * 1000)
    assert a["decode_ms"] == pytest.approx(14 / 2039 * 1000)
    assert a["total_s"] == pytest.approx((a["prefill_ms"] + 100 * a["decode_ms"]) / 1000)


def test_named_mistakes_are_outside_tolerance_for_llama2_70b():
    g = {**LLAMA2_70B, "seq_len": 4096, "batch": 4, "budget_gb": 0}
    key = solve_givens("inference", "kv_cache", g).solution
    for m in inf.TOPIC.mistakes_for("kv_cache"):
        wrong = m.wrong("kv_cache", g, key)
        assert wrong is not None and not matches(key.part(m.part).answer, wrong), m.name


@needs("torch")
def test_verifier_measures_the_published_cache_on_a_real_decoder():
    """The verifier's decoder layers (meta tensors) cache 327,680 B per token for Llama-2-70B, and the cache of
    a batch scales with batch x tokens."""
    from exgen.verify import inference as v

    assert v.per_token(LLAMA2_70B) == 327_680
    assert v.cache_bytes(LLAMA2_70B, 2, 4096) == 2 * 4096 * 327_680
    assert v.per_token({**LLAMA2_70B, "kv_dtype": "fp8"}) == 327_680 // 2
    assert v.prefill_flops(7, 1000) == 2 * 7 * 10**9 * 1000


@needs("torch")
def test_verifier_decoder_caches_what_a_real_forward_attends_over():
    """On small real CPU tensors, the cached layer's decoding output equals a full recomputation."""
    import torch

    from exgen.verify.inference import Attention

    torch.manual_seed(0)
    layer = Attention(4, 2, 8, torch.float32)
    layer.to_empty(device="cpu")
    for p in layer.parameters():
        torch.nn.init.normal_(p)
    layer.float()
    x = torch.randn(1, 6, 32)
    full = layer(x)
    layer.cache = {}
    layer(x[:, :5])
    step = layer(x[:, 5:])
    assert torch.allclose(step, full[:, 5:], atol=1e-4)
    assert layer.cache["k"].shape == (1, 2, 6, 8)


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_generation_never_formats_the_worked_solution(difficulty):
    """Issue 12: the worked solution is built when first read; sampling, the named mistakes and the student paths
    read the key only, so a rejected draw costs no formatting."""
    for variant in get("inference").variants:
        for seed in range(4):
            solution = generate("inference", variant.name, difficulty, seed).solution
            assert callable(solution.__dict__["_steps"]), variant.name
            assert solution.steps and all(step.text for step in solution.steps)


@pytest.mark.parametrize("value", [0, 1, 7, 2**60, 0.1, 2.5, 12.5, 1e-3, 123456789.0, 4.5e15, float(2**52 - 1), float(2**52), float(2**52 + 2),
                          1e16, 1e22, 6.7e9, 1.2345678901234567e10, 99.999])
def test_a_given_is_the_exact_decimal_it_is_written_as(value):
    """The fast conversions (ints, whole floats below 2^52, a cache) give what Fraction(str(x)) gives."""
    assert inf._f(value) == Fraction(str(value))
    assert inf._f(value) == Fraction(str(value))  # and again, from the cache


@pytest.mark.parametrize("variant,givens,student", [
    # review A3 (decode easy, seed 202, problem 12): 1000 / 17.2 ms = 58.14, written 58.1; key 58.2067 ± 0.1
    ("decode", {"kv_bytes_per_token": 0, "context": 0, "params_b": 32.9, "w_dtype": "bf16", "bandwidth_gbs": 3830,
                "batch": 1}, 58.1),
    # review A4 (max_batch hard, seed 9090, problem 34): 41.15 GB rounded half up is 41.2; 41.2 / 1.03 → 40, key 39
    ("max_batch", {"reserve_gb": 1, "gpu_gb": 80, "params_b": 75.7, "w_dtype": "int4", "n_layer": 94, "n_heads": 64,
                   "n_kv_heads": 1, "head_dim": 128, "kv_dtype": "fp32", "seq_len": 10699}, 40),
    # review A4 (prefill easy, seed 9090, problem 17): 59.2 ms + 256 × 16.7 ms = 4.33 s; key 4.3437 ± 0.01
    ("prefill", {"batch": 1, "params_b": 40, "w_dtype": "fp16", "bandwidth_gbs": 4780, "peak_tflops": 2250,
                 "prompt": 1664, "new_tokens": 256}, 4.33),
])
def test_reviewers_rounded_routes_are_rejected_by_the_sampler(variant, givens, student):
    """A student working from their own 3-figure answers (a tie rounded half up), and writing the result to 3
    figures, misses these keys: the student path now sees it, so the sampler never asks these instances."""
    from exgen.generate import path_failures
    from exgen.topics.base import answers_of
    problem = solve_givens("inference", variant, givens)
    path = next(p for p in get("inference").paths_for(variant))
    assert student in answers_of(path.value(variant, givens, problem.solution))
    assert not matches(problem.solution.part(path.part).answer, student)
    assert path_failures(get("inference"), variant, givens, problem.solution) == [path.name]
