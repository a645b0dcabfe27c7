"""Number formats: the published constants (IEEE 754, OCP FP8 / Micikevicius et al. 2022, OCP MX), rounding,
scaling, the mistakes, and torch's casts."""

from __future__ import annotations

from fractions import Fraction

import pytest

from conftest import needs, wrong
from exgen.generate import solve_givens
from exgen.topics import formats as fm
from exgen.topics.base import InvalidGivens

# (format, bias, largest finite, log2 smallest normal, log2 smallest subnormal, log2 epsilon)
# IEEE 754-2019 Table 3.5 (binary32, binary16); bfloat16 (Kalamkar et al. 2019); FP8: Micikevicius et al. 2022,
# "FP8 Formats for Deep Learning", Table 1 (E4M3 max 448, min normal 2^-6, min subnormal 2^-9; E5M2 max 57344,
# 2^-14, 2^-16); FP4 E2M1: OCP Microscaling Formats (MX) v1.0, Table 5 (max 6, min normal 1, min subnormal 0.5),
# and seed 003's number line 0 ... 4 6.
PUBLISHED = [
    ("fp32", 127, (2 - Fraction(1, 2**23)) * 2**127, -126, -149, -23),
    ("fp16", 15, 65504, -14, -24, -10),
    ("bf16", 127, (2 - Fraction(1, 2**7)) * 2**127, -126, -133, -7),
    ("fp8_e4m3", 7, 448, -6, -9, -3),
    ("fp8_e5m2", 15, 57344, -14, -16, -2),
    ("fp4_e2m1", 1, 6, 0, -1, -1),
]


def answers(variant, givens):
    return {p.id: p.answer.value for p in solve_givens("formats", variant, givens).solution.parts}


def _one(name):
    f = fm.FORMATS[name]
    return "0" + "0" + "1" * (f.exp_bits - 1) + "0" * f.man_bits  # exponent field = bias: the value 1


@pytest.mark.parametrize("name,bias,mx,min_normal,min_sub,eps", PUBLISHED)
def test_published_format_constants(name, bias, mx, min_normal, min_sub, eps):
    a = answers("layout", {"format": name, "bits": _one(name)})
    assert a["bias"] == bias and a["max"] == float(mx)
    assert (a["min_normal_exp"], a["min_subnormal_exp"], a["epsilon_exp"]) == (min_normal, min_sub, eps)
    assert a["value"] == 1.0


def test_fp8_maxima_of_micikevicius_et_al_2022():
    """E4M3 uses the all-ones exponent for numbers (only S.1111.111 is NaN): 1.75 x 2^8 = 448, where the IEEE
    rule would give 240; E5M2 keeps IEEE's rule: 1.75 x 2^15 = 57344."""
    assert fm.FORMATS["fp8_e4m3"].max == 448 and fm.FORMATS["fp8_e5m2"].max == 57344
    ieee_e4m3 = fm.Format("E4M3 as IEEE", 4, 3, "ieee")
    assert ieee_e4m3.max == 240
    mistake = next(m for m in fm.MISTAKES if m.name == "ieee_rule_assumed")
    assert wrong("formats", mistake, "range", {"format": "fp8_e4m3", "amax": 1000.0, "amin": 0.01}) == 240


def test_bit_patterns():
    assert answers("layout", {"format": "fp16", "bits": "0111101111111111"})["value"] == 65504
    assert answers("layout", {"format": "fp16", "bits": "0000000000000001"})["value"] == pytest.approx(2**-24)
    assert answers("layout", {"format": "bf16", "bits": "1100000001001001"})["value"] == -3.140625
    assert answers("layout", {"format": "fp4_e2m1", "bits": "0111"})["value"] == 6
    assert answers("layout", {"format": "custom", "exp_bits": 2, "man_bits": 1, "bits": "0101"})["value"] == 3
    with pytest.raises(InvalidGivens):
        answers("layout", {"format": "fp16", "bits": "0111110000000000"})  # +inf
    with pytest.raises(InvalidGivens):
        answers("layout", {"format": "fp16", "bits": "0101"})


@pytest.mark.parametrize("fmt,x", [("fp8_e4m3", 460), ("fp16", 65519), ("fp4_e2m1", 6.5), ("fp8_e4m3", -449)])
def test_nearest_refuses_x_above_the_largest_finite_value(fmt, x):
    """Above max no two consecutive representable numbers enclose x, so "the spacing" is undefined (x = max is
    fine: the gap of its binade)."""
    with pytest.raises(InvalidGivens, match="largest finite value"):
        answers("nearest", {"format": fmt, "x": x})
    assert answers("nearest", {"format": fmt, "x": x / abs(x) * {"fp8_e4m3": 448, "fp16": 65504,
                                                                    "fp4_e2m1": 6}[fmt]})["spacing"] > 0


def test_nearest_rounds_to_even_and_reports_the_error():
    a = answers("nearest", {"format": "fp16", "x": 0.1})
    assert a["nearest"] == pytest.approx(0.0999755859375) and a["spacing"] == 2**-14
    assert a["rel_error"] == pytest.approx(abs(0.0999755859375 - 0.1) / 0.1)
    assert answers("nearest", {"format": "fp4_e2m1", "x": 2.5})["nearest"] == 2  # a tie: to the even code
    assert answers("nearest", {"format": "fp4_e2m1", "x": 0.3})["spacing"] == 0.5  # subnormal spacing
    assert answers("nearest", {"format": "bf16", "x": 3.14159})["nearest"] == 3.140625


def test_range_scaling():
    """E4M3, amax 2000: overflows; 448 / 2000 = 0.224, so k = -3 (2000 / 8 = 250 <= 448 < 500)."""
    a = answers("range", {"format": "fp8_e4m3", "amax": 2000, "amin": 0.01})
    assert a["overflow"] == "yes" and a["scale_exp"] == -3
    assert a["scaled_min"] == pytest.approx(0.00125) and a["min_class"] == "subnormal"
    b = answers("range", {"format": "fp16", "amax": 0.5, "amin": 1e-13})
    assert b["overflow"] == "no" and b["scale_exp"] == 16 and b["min_class"] == "zero"


@needs("torch")
def test_torch_agrees_with_the_published_constants():
    import torch

    from exgen.verify import formats as v

    assert torch.finfo(torch.float8_e4m3fn).max == 448 and torch.finfo(torch.float8_e5m2).max == 57344
    for name, bias, mx, min_normal, min_sub, eps in PUBLISHED:
        got = v.reproduce("layout", {"format": name, "exp_bits": 0, "man_bits": 0, "bits": _one(name)}, None)
        assert (got["bias"], got["max"], got["min_normal_exp"], got["min_subnormal_exp"], got["epsilon_exp"]) == \
            (bias, float(mx), min_normal, min_sub, eps), name


@needs("torch")
def test_fp4_table_enumerated_by_the_verifier_matches_the_spec():
    """OCP MX v1.0: the eight E2M1 magnitudes are 0, 0.5, 1, 1.5, 2, 3, 4, 6."""
    from exgen.verify import formats as v

    assert v.table(("fp4_e2m1", 2, 1, "none")).tolist() == [0, 0.5, 1, 1.5, 2, 3, 4, 6]
