"""Checking givens (exgen.givens.check): what a solver called directly refuses is what `coerce` refuses; the
fast path that lets a sampled value through without parsing it never lets through a value coerce would refuse."""

from __future__ import annotations

import pytest

from exgen.generate import generate
from exgen.givens import _plainly_valid, check, coerce
from exgen.topics import TOPIC_NAMES, get
from exgen.topics.base import InvalidGivens

ODD = [0, 1, -1, 8, 8.0, 2.5, -0.0, 1e7, -1e7, 10**30, 2**53, float("nan"), float("inf"), True, "8", None,
       [0.5], [0.1, float("nan")], [[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0]], [[1.0, float("inf")]],
       [[True, 1.0]], [[1, 2]], [[10**30, 1.0]], [], [[]], "1,2;3,4", [[-1e6, 1e6]], [[1.0] * 65], [[1e308, 1e308]]]

GIVENS = [(f"{t}/{v.name}/{g.name}", g) for t in TOPIC_NAMES for v in get(t).variants for g in v.givens
          if g.kind != "choice"]


@pytest.mark.parametrize("name,given", GIVENS, ids=[n for n, _ in GIVENS])
def test_the_fast_path_only_passes_what_coerce_accepts(name, given):
    samples = ODD + [given.low, given.high] + ([given.low - 1, given.high + 1] if given.low is not None
                                              and given.high is not None else [])
    for value in samples:
        if _plainly_valid(given, value):
            coerce(given, value)  # must not raise


def test_check_refuses_a_missing_given_and_a_value_out_of_bounds():
    variant = get("quantization").variant("affine")
    with pytest.raises(InvalidGivens, match="missing given"):
        check(variant, {})
    x = next(g for g in variant.givens if g.name == "X")
    with pytest.raises(InvalidGivens, match="outside"):
        check(variant, {"X": [[1.0, x.high * 10]], "bits": 8, "signed": "signed", "metric": "mse"})
    check(variant, {"X": [[1.0, x.high]], "bits": 8, "signed": "signed", "metric": "mse"})  # the bound itself


def test_check_refuses_a_choice_that_is_not_offered_and_reads_one_as_text():
    memory = get("compute").variant("memory")
    givens = {"params": 7e9, "dtype": "fp16", "unit": "GB", "optimizer": "adam"}
    check(memory, givens)
    with pytest.raises(InvalidGivens, match="^dtype: 'fp12' is not one of"):
        check(memory, {**givens, "dtype": "fp12"})
    stage = generate("parallelism", "zero_volume", "easy", 1).givens  # stage is a choice of "1", "2", "3"
    check(get("parallelism").variant("zero_volume"), {**stage, "stage": 2})


def test_a_default_typed_out_is_the_default_even_outside_the_bounds_of_an_asked_value():
    """budget_gb's default 0 means "not asked"; a TA typing budget_gb=0 was told 0 is outside [0.001, 1e+06]."""
    budget = next(g for g in get("inference").variant("kv_cache").givens if g.name == "budget_gb")
    assert budget.default == 0 and coerce(budget, "0") == 0
    with pytest.raises(InvalidGivens, match="outside"):
        coerce(budget, "0.0001")
