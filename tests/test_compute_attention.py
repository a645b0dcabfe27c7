"""compute/attention: FLOPs of a transformer block by component (issue 16, item 7)."""

from __future__ import annotations

import pytest

from conftest import needs
from exgen.generate import solve_givens

# GPT-3 175B (Brown et al. 2020, Table 2.1): d_model 12288, 96 heads, context 2048, 96 layers.
GPT3_LAYER = {"batch": 1, "seq_len": 2048, "d_model": 12288, "heads": 96}


def answers(givens):
    return {p.id: p.answer.value for p in solve_givens("compute", "attention", givens).solution.parts}


def test_a_gpt3_layer_takes_24bsh2_plus_4bs2h_narayanan_et_al_2021():
    """Narayanan et al. 2021 (Megatron-LM on GPU clusters), Section 5.1: a layer's forward pass is
    24Bsh^2 + 4Bs^2h FLOPs, and 96Bslh^2(1 + s/6h + V/16lh) for training with recomputation (4 passes): without
    recomputation and the logit layer, 3 passes give 72Bsh^2(1 + s/6h) per layer."""
    a = answers(GPT3_LAYER)
    s, h = 2048, 12288
    assert a["forward"] == pytest.approx(24 * s * h**2 + 4 * s**2 * h, rel=1e-12)
    assert a["training"] == pytest.approx(72 * s * h**2 * (1 + s / (6 * h)), rel=1e-12)
    assert a["attn_share"] == pytest.approx(100 * 2048 / 75776)  # 2.70 %: s/(6h + s)
    assert a["score_entries"] == 96 * 2048**2


def test_the_components_add_up_to_the_forward_pass():
    a = answers({"batch": 2, "seq_len": 64, "d_model": 128, "heads": 4})
    assert a["qkv"] + a["scores"] + a["values"] + a["out"] + a["mlp"] == a["forward"]
    assert a["qkv"] == 6 * 2 * 64 * 128**2 and a["scores"] == a["values"] == 2 * 2 * 64**2 * 128


@needs("torch")
def test_flop_counter_on_a_real_sdpa_block_agrees_on_gpt3():
    import torch

    from exgen.verify.compute import reproduce

    got = reproduce("attention", GPT3_LAYER, torch.device("cpu"))
    assert got == pytest.approx(answers(GPT3_LAYER), rel=1e-12)
