"""LoRA: the published examples (Hu et al. 2021 on GPT-3 175B, seed 004's 2dr + d, Dettmers et al. 2023's
double-quantization figure), the rectangular and bias cases, the memory convention, the named mistakes, and the
torch verifier on real modules."""

from __future__ import annotations

from fractions import Fraction

import pytest

from conftest import needs, wrong
from exgen.generate import generate, solve_givens
from exgen.topics import get
from exgen.topics import lora
from exgen.topics.base import DIFFICULTIES, InvalidGivens

# GPT-3 175B (Brown et al. 2020, Table 2.1): 96 layers, d_model = 12288.
GPT3 = {"d_model": 12288, "layers": 96, "model_params": 175e9}


def answers(variant, givens):
    return {p.id: p.answer.value for p in solve_givens("lora", variant, givens).solution.parts}


def test_gpt3_parameter_budget_of_hu_et_al_section_7_1():
    """Hu et al. 2021, §7.1 and Table 5: "a parameter budget of 18M (roughly 35MB if stored in FP16) on GPT-3
    175B, which corresponds to r = 8 if we adapt one type of attention weights or r = 4 if we adapt two types,
    for all 96 layers": 2 x 2 x 12288 x 4 x 96 = 18,874,368 (the paper writes 18M; 37.7 MB in FP16, 36 MiB)."""
    two = answers("params", {**GPT3, "rank": 4, "targets": "q,v"})
    one = answers("params", {**GPT3, "rank": 8, "targets": "q"})
    assert two["total"] == one["total"] == 18_874_368
    assert two["total"] * 2 / 2**20 == pytest.approx(36, abs=0.1)


def test_gpt3_table_4_lora_4_7m_is_rank_1_on_wq_wv():
    """Hu et al. 2021, Table 4 lists LoRA on GPT-3 with 4.7M trainable parameters; by the paper's |Θ| = 2 x L̂ x
    d_model x r (§5.5) with Wq and Wv adapted in 96 layers (L̂ = 192), that is r = 1: 4,718,592. (r = 4 on Wq,
    Wv is the 18M of Table 5, not 4.7M.)"""
    assert answers("params", {**GPT3, "rank": 1, "targets": "q,v"})["total"] == 4_718_592


def test_seed_004_2dr_plus_d_per_linear_layer():
    """Seed 004: a d x d linear layer trains d^2 + d in full, 2dr + d with LoRA (its bias trained)."""
    a = answers("params", {"d_model": 1000, "layers": 1, "rank": 8, "targets": "q", "bias": "trained",
                           "model_params": 1001000})
    assert a["per_layer"] == 2 * 1000 * 8 + 1000
    assert a["percent"] == pytest.approx(100 * 17000 / 1001000)


def test_rectangular_projections_count_r_times_d_in_plus_d_out():
    a = answers("params", {"d_model": 4096, "d_kv": 1024, "d_ff": 14336, "layers": 32, "rank": 16,
                           "targets": "q,k,v,o,up,down", "model_params": 7.2e9})
    assert a["per_layer"] == 16 * (2 * 8192 + 2 * 5120 + 2 * (4096 + 14336))


def test_memory_convention_16_bytes_per_trained_parameter():
    """Mixed precision: 16 B per trained parameter (2 + 2 + 4 + 8), 2 B per frozen weight."""
    a = answers("memory", {"d_model": 4096, "layers": 32, "rank": 8, "targets": "q,v", "model_params": 7e9,
                           "precision": "mixed"})
    p = 32 * 2 * 8 * 8192
    assert a["trainable"] == p
    assert a["full"] == pytest.approx(7e9 * 16 / 1e9)
    assert a["lora"] == pytest.approx((7e9 * 2 + p * 16) / 1e9)


def test_qlora_double_quantization_figure():
    """Dettmers et al. 2023, §3 "Double Quantization": blocksize 64 with fp32 constants costs 32/64 = 0.5 bits
    per parameter; with 8-bit constants and blocksize 256 for the second level, 8/64 + 32/(64 x 256) = 0.127
    bits: a saving of 0.373 bits per parameter, "approximately 3 GB for a 65B model"."""
    plain = answers("qlora", {"params": 65e9, "block": 64, "double_quant": "no"})
    double = answers("qlora", {"params": 65e9, "block": 64, "double_quant": "yes", "block2": 256})
    assert plain["bits_per_param"] == 4.5
    assert double["bits_per_param"] - 4 == pytest.approx(0.127, abs=5e-4)
    assert plain["base"] - double["base"] == pytest.approx(3.0, abs=0.05)


def test_mistakes_name_the_wrong_answers():
    topic = get("lora")
    g = {**GPT3, "rank": 4, "targets": "q,v", "d_kv": 0, "d_ff": 0, "bias": "frozen"}
    one = next(m for m in topic.mistakes if m.name == "one_factor_only")
    assert wrong("lora", one, "params", g) == 2 * 4 * 12288


@pytest.mark.parametrize("givens", [{"targets": "q,up"}, {"targets": "q,k,v,o,up,down"}, {"rank": 5000}])
def test_bad_givens_are_refused(givens):
    with pytest.raises(InvalidGivens):
        solve_givens("lora", "params", {"d_model": 512, "layers": 2, "rank": 4, "targets": "q",
                                        "model_params": 1e6, **givens})


@needs("torch")
def test_the_verifier_counts_the_gpt3_adapters_on_real_modules():
    import torch

    from exgen.verify.lora import reproduce
    got = reproduce("params", {**GPT3, "rank": 4, "targets": "q,v"}, torch.device("cpu"))
    assert got["total"] == 18_874_368


@needs("torch")
@pytest.mark.parametrize("precision", ["mixed", "fp32"])
def test_the_verifier_measures_16_bytes_per_trained_parameter(precision):
    import torch

    from exgen.verify.lora import _bytes_per_trained_parameter
    trained, frozen = _bytes_per_trained_parameter({"d_model": 256, "rank": 4, "targets": "q,v",
                                                    "precision": precision}, torch.device("cpu"))
    assert trained == 16 and frozen == (2 if precision == "mixed" else 4)


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_sampled_adapters_are_a_small_share(difficulty):
    for seed in range(20):
        problem = generate("lora", "params", difficulty, seed)
        assert 0 < problem.solution.part("percent").answer.value < 5


@pytest.mark.parametrize("value", [0, 1, 7, 2**60, 0.1, 2.5, 12.5, 1e-3, 123456789.0, 4.5e15, float(2**52 - 1), float(2**52), float(2**52 + 2),
                          1e16, 1e22, 6.7e9, 1.2345678901234567e10, 99.999])
def test_a_given_is_the_exact_decimal_it_is_written_as(value):
    """The fast conversions (ints, whole floats below 2^52, a cache) give what Fraction(str(x)) gives."""
    assert lora._exact(value) == Fraction(str(value))
    assert lora._exact(value) == Fraction(str(value))  # and again, from the cache


def test_the_share_and_the_bits_grade_with_their_units():
    """Review A1: the question asks the share in percent and the bits per weight; "0.0331 %" and "4.5 bits" are
    the answers as written, and a fraction is still the named mistake."""
    from exgen.grading.grade import grade_part, mistakes_of
    from exgen.generate import solve_givens
    params = solve_givens("lora", "params", {"d_model": 12288, "layers": 77, "rank": 32, "targets": "v", "d_kv": 0,
                                              "d_ff": 0, "model_params": 183e9, "bias": "frozen"})
    part, wrong = params.solution.part("percent"), mistakes_of(params)
    for text in ("0.0331 %", "0.0331%", "0.0331"):
        assert grade_part("1.percent", part, text, wrong.get("percent", [])).points == 1, text
    assert grade_part("1.percent", part, "0.000331", wrong.get("percent", [])).points == 0
    qlora = solve_givens("lora", "qlora", {"params": 7e9, "block": 64, "double_quant": "no"})
    for text in ("4.5 bits", "4.5 bit", "4.5"):
        assert grade_part("1.bits_per_param", qlora.solution.part("bits_per_param"), text).points == 1, text
