"""compute/activations: activation memory (Korthikanti et al. 2022) and 24 bytes per parameter (seed 000)."""

from __future__ import annotations

import pytest

from conftest import needs
from exgen.generate import solve_givens
from exgen.topics.base import InvalidGivens

# GPT-3 175B as Korthikanti et al. 2022 analyse it (Table 3: 96 layers, h = 12288, a = 96, s = 2048, t = 8).
GPT3 = {"seq_len": 2048, "micro_batch": 1, "hidden": 12288, "heads": 96, "layers": 96, "tp": 8, "unit": "GB"}


def answers(**givens):
    return {p.id: p.answer.value for p in solve_givens("compute", "activations", {**GPT3, **givens}).solution.parts}


def test_table_2_of_korthikanti_et_al_2022_on_gpt3():
    """Table 2's per-layer formulas; for GPT-3, 5as/h = 80 (Section 4.1: the attention term outweighs the 34)."""
    s, b, h, a, t = 2048, 1, 12288, 96, 8
    sbh = s * b * h
    assert 5 * a * s / h == 80
    expected = {"none": sbh * (34 + 80), "tp": sbh * (10 + 24 / t + 80 / t), "tp_sp": sbh * (34 / t + 80 / t),
                "tp_selective": sbh * (10 + 24 / t), "tp_sp_selective": sbh * 34 / t, "full": 2 * sbh}
    for scheme, per_layer in expected.items():
        tp = 1 if scheme == "none" else t
        a_ = answers(scheme=scheme, tp=tp)
        assert a_["per_layer"] == pytest.approx(per_layer / 1e9, rel=1e-12), scheme
        assert a_["per_model"] == pytest.approx(96 * per_layer / 1e9, rel=1e-12), scheme
    # sequence parallelism with selective recomputation is 114/4.25 ≈ 27 times less than no parallelism
    assert expected["none"] / expected["tp_sp_selective"] == pytest.approx(114 / 4.25)


def test_model_states_follow_the_lectures_24_bytes_per_parameter():
    """Seed 000's table: GPT-3 175B takes 4200 GB to train (24 x 175e9 B); 12Lh^2 = 173.9e9 gives 4175 GB."""
    a = answers(scheme="none", tp=1)
    assert a["states"] == pytest.approx(24 * 12 * 96 * 12288**2 / 1e9) and round(a["states"]) == 4175
    assert answers(scheme="tp")["states"] == pytest.approx(a["states"] / 8)


def test_no_parallelism_means_tp_1():
    with pytest.raises(InvalidGivens):
        solve_givens("compute", "activations", {**GPT3, "scheme": "none"})


@needs("torch")
@pytest.mark.parametrize("scheme,t,law", [("none", 1, (34, 5)), ("tp", 8, (13, 0.625)), ("tp_sp", 4, (8.5, 1.25)),
                                          ("tp_selective", 2, (22, 0)), ("tp_sp_selective", 8, (4.25, 0)),
                                          ("full", 4, (2, 0))])
def test_a_real_layer_saves_what_table_2_counts(scheme, t, law):
    """Bytes kept for backward, measured with saved_tensors_hooks on a layer built to the paper's structure,
    follow c1·sbh + c2·as²b with the paper's coefficients."""
    from exgen.verify.compute import activation_law

    assert activation_law(scheme, t) == pytest.approx(law, abs=1e-9)


@needs("torch")
def test_torch_cpu_dropout_and_layer_norm_keep_more_than_the_paper_counts():
    """What plain torch keeps on CPU besides the paper's count: F.dropout's mask in bf16 (one more byte per
    element than a bool mask: 2sbh + as²b) and LayerNorm's mean and rstd (4 per token: 8sb bytes)."""
    from torch.nn import functional as F

    from exgen.verify import compute as vc

    s, b, h, a = 16, 2, 32, 4
    layer = vc.KorthikantiLayer(h, a, 1, False, False)
    paper = vc.saved_bytes(layer, s, b, False)
    assert paper == 34 * s * b * h + 5 * a * s * s * b
    with_stats = vc.saved_bytes(layer, s, b, False, per_token_stats=True)
    assert with_stats - paper == 4 * s * b * 2
    original = vc._BoolMaskDropout.apply
    try:
        vc._BoolMaskDropout.apply = staticmethod(lambda x, p: F.dropout(x, p, True))
        torch_dropout = vc.saved_bytes(layer, s, b, False)
    finally:
        vc._BoolMaskDropout.apply = original
    assert torch_dropout - paper == 2 * s * b * h + a * s * s * b
