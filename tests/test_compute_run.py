"""compute/recompute and compute/energy: issue 17's PF-days, recomputation time, energy and carbon."""

from __future__ import annotations

import pytest

from conftest import needs, wrong
from exgen.generate import solve_givens


def answers(variant, givens):
    return {p.id: p.answer.value for p in solve_givens("compute", variant, givens).solution.parts}


def test_gpt3_in_pf_days_brown_et_al_2020_table_d1():
    """Brown et al. 2020, Table D.1: GPT-3 175B (174.6B parameters, 300B tokens) took 3.14E+23 FLOP = 3.64E+03
    PF-days."""
    a = answers("recompute", {"params": 174.6e9, "tokens": 300e9, "gpus": 1024, "achieved_tflops": 140,
                              "recompute": "none"})
    assert a["ratio"] == 2
    assert round(a["flops"], -21) == 3.14e23 and round(a["pf_days"], -1) == 3640


def test_gpt3_takes_34_days_with_recomputation_narayanan_et_al_2021():
    """Narayanan et al. 2021, Section 5.1: t = 8TP/(nX); GPT-3 (P = 175B, T = 300B) on n = 1024 A100s at
    X = 140 TFLOP/s per GPU takes about 34 days."""
    a = answers("recompute", {"params": 175e9, "tokens": 300e9, "gpus": 1024, "achieved_tflops": 140,
                              "recompute": "full"})
    assert a["ratio"] == 3 and a["flops"] == pytest.approx(4.2e23)
    assert a["days"] == pytest.approx(33.9, abs=0.05)


def test_llama_65b_energy_and_carbon_touvron_et_al_2023():
    """Touvron et al. 2023 (LLaMA), Table 15: 65B, 1,022,362 GPU-hours at 400 W, PUE 1.1, 0.385 kg CO2eq/kWh:
    449 MWh and 173 tCO2eq."""
    a = answers("energy", {"gpus": 2048, "days": 1022362 / (2048 * 24), "power_w": 400, "pue": 1.1,
                           "intensity": 0.385})
    assert a["gpu_hours"] == pytest.approx(1022362)
    assert int(a["mwh"]) == 449 and round(a["tco2"]) == 173


@needs("torch")
def test_checkpointing_a_real_transformer_counts_8_flops_per_token_per_parameter():
    from exgen.verify.compute import recompute_flops_per_token_per_param

    assert recompute_flops_per_token_per_param("none") == pytest.approx((2, 6))
    assert recompute_flops_per_token_per_param("full") == pytest.approx((2, 8))


# PaLM 540B (Chowdhery et al. 2022, Section 4 and Appendix B): L = 118, H = 48, Q = 256, T = 2048; 238.3K tokens/s
# on 6144 TPU v4 chips of 275 TFLOP/s peak; 780B tokens; MFU 46.2 %.
PALM = {"params": 540.35e9, "layers": 118, "heads": 48, "head_dim": 256, "seq_len": 2048,
        "tokens_per_s": 238.3e3 / 6144, "gpus": 6144, "peak_tflops": 275, "tokens": 780e9}


def test_palm_540b_mfu_is_46_2_percent_chowdhery_et_al_2022():
    a = answers("mfu_tokens", PALM)
    assert a["flops_per_token"] == pytest.approx(6 * 540.35e9 + 12 * 118 * 48 * 256 * 2048)
    assert round(a["mfu"], 1) == 46.2
    assert a["days"] == pytest.approx(780e9 / 238.3e3 / 86400)  # 37.9 days of pure training throughput


@needs("torch")
def test_the_verifier_counts_palms_attention_term_on_a_real_attention_core():
    import torch

    from exgen.verify.compute import reproduce

    assert reproduce("mfu_tokens", PALM, torch.device("cpu")) == pytest.approx(answers("mfu_tokens", PALM))


def test_megatron_lm_76_percent_scaling_efficiency_shoeybi_et_al_2019():
    """Shoeybi et al. 2019 (Megatron-LM), abstract and Section 5.1: 39 TFLOP/s on one GPU, 15.1 PFLOP/s on 512
    GPUs, 76 % scaling efficiency."""
    a = answers("scaling", {"base_gpus": 1, "base_tflops": 39, "gpus": 512, "pflops": 15.1})
    assert round(a["efficiency"]) == 76 and a["per_gpu"] == pytest.approx(15100 / 512)
    assert a["speedup"] == pytest.approx(15100 / 39)


# HFU against MFU (Chowdhery et al. 2022, PaLM, Section 4 and Appendix B): MFU counts the model's FLOPs, 6N + 12LHQT
# per token; HFU counts what the hardware runs, rematerialisation included. PaLM 540B reports MFU 46.2 % and HFU
# 57.8 %; the paper does not state how much of the forward it rematerialised, so 57.8 % follows from no formula
# here: it lies between the two policies' HFU, none (46.2 %, HFU = MFU) and full (61.6 %, 8/6 of MFU).
PALM_HFU = {k: PALM[k] for k in ("params", "layers", "heads", "head_dim", "seq_len", "tokens_per_s",
                                 "peak_tflops")}


def test_palm_540b_hfu_bounds_chowdhery_et_al_2022():
    none = answers("hfu", {**PALM_HFU, "recompute": "none"})
    full = answers("hfu", {**PALM_HFU, "recompute": "full"})
    assert round(none["mfu"], 1) == round(full["mfu"], 1) == 46.2
    assert none["hfu"] == none["mfu"] and none["ratio"] == 1
    assert full["ratio"] == pytest.approx(4 / 3) and round(full["hfu"], 1) == 61.6
    assert full["hardware"] == pytest.approx(8 * 540.35e9 + 16 * 118 * 48 * 256 * 2048)
    assert none["hfu"] < 57.8 < full["hfu"]  # PaLM's reported HFU: partial rematerialisation


def test_hfu_mistakes_are_named():
    from exgen.topics.compute import TOPIC

    g = {**PALM_HFU, "recompute": "full"}
    values = {m.name: wrong("compute", m, "hfu", g) for m in TOPIC.mistakes_for("hfu") if m.part == "hfu"}
    assert values["recomputation_ignored"] == pytest.approx(answers("hfu", g)["mfu"])


# Serving memory with an overhead factor: S. Stoelinga, "Calculating GPU memory for serving LLMs" (Substratus.AI,
# 2023), M = P × (Q/8) bytes × 1.2: Llama 2 70B in 16 bit needs 168 GB; in 4 bit 42 GB, which fits on 2 × L4 24 GB.
# (The post calls 2 × A100 80 GB enough for the 168 GB, which its own formula does not give: 168 > 160, so 3.)
def test_llama_70b_serving_memory_stoelinga_2023():
    a = answers("serving_memory", {"params": 70e9, "dtype": "fp16", "overhead": 1.2, "gpu_memory": 80,
                                   "unit": "GB"})
    assert a == {"weights": 140, "serving": pytest.approx(168), "gpus": 3}
    a = answers("serving_memory", {"params": 70e9, "dtype": "int4", "overhead": 1.2, "gpu_memory": 24,
                                   "unit": "GB"})
    assert a == {"weights": 35, "serving": pytest.approx(42), "gpus": 2}


def test_serving_memory_that_fits_exactly_needs_no_extra_gpu():
    a = answers("serving_memory", {"params": 100e9, "dtype": "fp16", "overhead": 1.2, "gpu_memory": 80,
                                   "unit": "GB"})
    assert a["serving"] == 240 and a["gpus"] == 3


@needs("torch")
def test_checkpointed_attention_core_counts_16_lhqt():
    from exgen.verify.compute import attention_flops_per_token

    assert attention_flops_per_token(4, 8, 32, "none") == 12 * 4 * 8 * 32
    assert attention_flops_per_token(4, 8, 32, "full") == 16 * 4 * 8 * 32


def test_efficiency_from_the_rounded_speedup_is_a_student_path():
    """Review A3 (scaling easy, seed 202, problem 6): the speedup as answered, 20.1, over 32 GPUs gives 62.8 %
    against a key of 62.96 % ± 0.1; the solution calls this route equivalent, so the sampler now rejects it."""
    from exgen.generate import path_failures
    from exgen.topics import get
    givens = {"base_gpus": 1, "base_tflops": 340.0, "gpus": 32, "pflops": 6.85}
    problem = solve_givens("compute", "scaling", givens)
    assert "efficiency_from_the_rounded_speedup" in path_failures(get("compute"), "scaling", givens,
                                                                  problem.solution)
