"""Wording rules the renderers and solvers share: a count of one takes the singular, and the article before a
number is the one it takes read aloud (an 8-bit, a 16-bit). Found by proofreading every topic's text."""

from __future__ import annotations

import pytest

from exgen import numfmt as nf
from exgen.generate import solve_givens
from exgen.render import Renderer


@pytest.mark.parametrize("n,article", [
    (8, "an"), (80, "an"), (800, "an"), (8.5, "an"), (11, "an"), (18, "an"), (11000, "an"), (18000, "an"),
    (1, "a"), (2, "a"), (16, "a"), (110, "a"), (180, "a"), (1100, "a"), (1800, "a"), (0.8, "a"),
])
def test_the_article_before_a_number_is_the_one_it_takes_read_aloud(n, article):
    assert nf.article(n) == article


def test_a_count_of_one_takes_the_singular():
    assert [nf.plural(n, "byte") for n in (1, 2, 0.5, 0)] == ["byte", "bytes", "bytes", "bytes"]
    assert nf.plural(1, "pass", "passes") == "pass" and nf.plural(3, "pass", "passes") == "passes"


def _text(topic: str, variant: str, givens: dict) -> str:
    problem = solve_givens(topic, variant, givens)
    r = Renderer("md")
    return r.question(problem) + r.solution(problem)


@pytest.mark.parametrize("topic,variant,givens,says", [
    ("compute", "training_time", {"params": 3.39e9, "tokens": 1.2e11, "gpus": 1, "peak_tflops": 500, "mfu": 30},
     "Sustained cluster throughput, 1 GPU at"),
    ("intensity", "gpu_peak", {"gpu": "A100-40GB", "sms": 108, "clock_ghz": 1.41, "bandwidth_gbs": 1555,
                               "dtype": "int8", "fma_per_clock": 1024, "square": "yes"}, "(1 byte per input element"),
    ("formats", "layout", {"format": "fp4_e2m1", "bits": "0001"}, "2 exponent bits and 1 mantissa bit;"),
    ("compute", "energy", {"gpus": 1, "days": 3, "power_w": 400, "pue": 1.1, "intensity": 0.4},
     "A model is trained on 1 GPU for 3 days."),
    ("compute", "zero", {"optimizer": "adam", "params": 1e9, "gpus": 1, "unit": "GB"}, "$N_d = 1$ GPU,"),
])
def test_a_count_of_one_reads_in_the_singular(topic, variant, givens, says):
    assert says in _text(topic, variant, givens)
