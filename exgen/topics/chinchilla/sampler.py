"""The chinchilla topic's sampler: budgets, model sizes and GPU clusters for each variant and difficulty, and the
realism filters that reject a draw."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from exgen.rng import Rng
from exgen.topics.base import Rejected
from exgen.topics.chinchilla.formulas import FIT, KEY, METHODS, PF_DAY, Fit, loss, optimum
from exgen.topics.chinchilla.solvers import _closed_form_numbers

TIE_MARGIN = 0.01  # compare: the two losses must differ by at least this (10x the loss tolerance)
MIN_OVERTRAINING = 1.5  # overtrained: tokens per parameter at least this multiple of the optimum's
MAX_TOKENS_PER_PARAM = 4000  # overtrained: at most this (Llama 3 8B: 15e12 / 8e9 = 1875)

# Budgets and model sizes are continuous (3 or 4 significant figures) so that 1,000 draws of any variant ×
# difficulty repeat fewer than 1 % of instances; what changes with difficulty is the reasoning asked (the
# closed form is shown below `hard`) and the figures carried.


def _scaled(mantissa: Fraction | int, exponent: int, factor: int = 1) -> float:
    """mantissa × 10^exponent (× an integer factor) as the correctly rounded float (what the student reads):
    one integer division, which Python rounds correctly, as float(Fraction) does."""
    m = Fraction(mantissa)
    if exponent >= 0:
        return m.numerator * factor * 10**exponent / m.denominator
    return m.numerator * factor / (m.denominator * 10**-exponent)


def _mantissa(rng: Rng, difficulty: str) -> Fraction:
    """1.00–9.99 (3 significant figures), or 1.000–9.999 at hard."""
    return rng.decimal(1, 9.999, 3) if difficulty == "hard" else rng.decimal(1, 9.99, 2)


def _budget(rng: Rng, difficulty: str) -> float:
    """C to 4 figures; at hard a whole number of 4-figure PF-days (0.1160 to 9,999 PF-days), which the
    question states in PF-days, so the student converts first."""
    if difficulty == "hard":
        mantissa = rng.decimal(1, 9.999, 3)
        return _scaled(mantissa, rng.randint(-1, 3), PF_DAY)
    return _scaled(rng.decimal(1, 9.999, 3), rng.randint(19, 25))


def _params(rng: Rng, difficulty: str) -> float:
    return _scaled(_mantissa(rng, difficulty), rng.randint(8, 11))


def _model_for(rng: Rng, c: float, difficulty: str) -> float:
    """A model size for budget C at 1 to 10^4 tokens per parameter (log-uniform), shown to 2 significant
    figures (3 at hard), as a lab would round it."""
    ratio = 10 ** (rng.randint(0, 4000) / 1000)
    return float(f"{math.sqrt(c / (6 * ratio)):.{2 if difficulty == 'hard' else 1}e}")


def _with_fit(g: dict[str, Any]) -> dict[str, Any]:
    return {**g, **FIT}


GPU_DTYPES = {"V100": "fp16", "A100-40GB": "bf16", "A100-80GB": "bf16", "H100": "bf16", "H200": "bf16"}


def _sample_gpu_budget(rng: Rng, difficulty: str) -> dict[str, Any]:
    from exgen.gpus import get as gpu_spec

    gpu = rng.choice(tuple(GPU_DTYPES))
    if difficulty == "easy":
        gpus, days = 64 * rng.randint(1, 64), rng.randint(1, 60)
        mfu = float(Fraction(rng.randint(6, 12), 20))  # 0.30, 0.35, ..., 0.60
    else:
        gpus, days = 8 * rng.randint(8, 1024), rng.randint(1, 120)
        mfu = float(rng.decimal(0.3, 0.6, 2 if difficulty == "medium" else 3))
    dtype = GPU_DTYPES[gpu]
    peak = gpu_spec(gpu).peak[dtype] / 1e12
    return _with_fit({"gpu": gpu, "dtype": dtype, "peak": round(peak, 1), "gpus": gpus, "days": days,
                      "mfu": mfu, "method": rng.choice(METHODS)})


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    if variant == "optimum":
        return _with_fit({"C": _budget(rng, difficulty), "method": rng.choice(METHODS)})
    if variant == "gpu_budget":
        return _sample_gpu_budget(rng, difficulty)
    if variant == "loss":
        n = _params(rng, difficulty)
        if difficulty == "hard":  # stated as tokens per parameter: the student finds D = k N first
            mantissa, exponent = _mantissa(rng, difficulty), rng.randint(8, 11)
            n = _scaled(mantissa, exponent)
            d = _scaled(mantissa * rng.randint(2, 2000), exponent)
        else:
            d = _scaled(_mantissa(rng, difficulty), rng.randint(10, 13))
        if not 1 <= d / n <= 10_000:
            raise Rejected("tokens per parameter outside any realistic range")
        return _with_fit({"N": n, "D": d})
    if variant == "compare":
        c = _budget(rng, difficulty)
        n_a, n_b = (_model_for(rng, c, difficulty) for _ in range(2))
        g = _with_fit({"C": c, "N_A": n_a, "N_B": n_b})
        if n_a == n_b or not all(1 <= c / (6 * n * n) <= 10_000 for n in (n_a, n_b)):
            raise Rejected("equal models, or tokens per parameter outside any realistic range")
        fit, k = Fit.of(g), KEY.flops_per_param_token  # each loss as the solver computes it
        loss_a, loss_b = (loss(n, c / (k * n), fit)[2] for n in (n_a, n_b))
        if abs(loss_a - loss_b) < TIE_MARGIN:
            raise Rejected("the two losses are too close to call")
        return g
    if variant == "closed_form":  # another fit than the published one, so a, b and G vary (Besiroglu et al.'s
        # replication: alpha 0.35, beta 0.37, A 482, B 2085)
        alpha, beta = (float(rng.decimal(0.25, 0.45, 3 if difficulty == "hard" else 2)) for _ in range(2))
        big_a, big_b = (float(rng.decimal(100, 2500, 1)) for _ in range(2))
        g = {**FIT, "C": _budget(rng, difficulty), "flops_per_token": rng.choice((6, 8)), "alpha": alpha,
             "beta": beta, "A": big_a, "B": big_b}
        x = _closed_form_numbers(g)
        if not 5 <= x["tokens_per_param"] <= 500:
            raise Rejected("tokens per parameter at the optimum outside any realistic range")
        return g
    # overtrained: Llama-2-7B-like, e.g. 7e9 parameters on 2e12 tokens
    n = _scaled(_mantissa(rng, difficulty), rng.randint(8, 10))
    d = _scaled(_mantissa(rng, difficulty), rng.randint(11, 12))  # up to 10T tokens (Llama 3: 15T)
    if d / n > MAX_TOKENS_PER_PARAM:
        raise Rejected("more tokens per parameter than any published model")
    g = _with_fit({"N": n, "D": d, "method": rng.choice(METHODS)})
    n_opt, d_opt = optimum(6 * n * d, g["method"], Fit.of(g))
    if (d / n) / (d_opt / n_opt) < MIN_OVERTRAINING:
        raise Rejected("not over-trained enough to ask how far")
    return g
