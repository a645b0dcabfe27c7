"""The chinchilla topic's givens and variants, and the check of a user's givens (types, bounds, method)."""

from __future__ import annotations

from typing import Any

from exgen.givens import check
from exgen.topics.base import Given, InvalidGivens, Variant
from exgen.topics.chinchilla.formulas import FIT, METHODS

# Bounds keep every power finite: G = (αA/(βB))^(1/(α+β)) stays within 10^±53 for these coefficients, and a
# budget of 10^30 FLOP or a model of 10^15 parameters is far beyond any trained so far.
_FIT_GIVENS = (
    Given("E", "irreducible loss E of the fit", default=FIT["E"], low=0, high=10),
    Given("A", "coefficient A of the model-size term", default=FIT["A"], low=1, high=1e4),
    Given("B", "coefficient B of the data term", default=FIT["B"], low=1, high=1e4),
    Given("alpha", "exponent alpha of N", default=FIT["alpha"], low=0.05, high=1),
    Given("beta", "exponent beta of D", default=FIT["beta"], low=0.05, high=1),
)
_METHOD = Given("method", "how the optimum is found: the fit's closed form, the rule N=0.1C^0.5, D=1.7C^0.5, "
                          "or 20 tokens per parameter", "choice", choices=METHODS)
_C = Given("C", "training compute budget", unit="FLOP", low=1e10, high=1e30)
_N = Given("N", "model parameters", low=1e6, high=1e15)
_D = Given("D", "training tokens", low=1e6, high=1e16)

VARIANTS = (
    Variant("optimum", "compute-optimal N and D for a budget C by a stated method, and the predicted loss",
            (_C, _METHOD, *_FIT_GIVENS)),
    Variant("gpu_budget", "a budget as GPUs x days x peak x MFU, then the compute-optimal N and D", (
        Given("gpu", "the GPU (its name only words the question; peak is the figure used)", "choice",
              choices=("V100", "A100-40GB", "A100-80GB", "H100", "H200")),
        Given("dtype", "the precision the peak is quoted for", "choice", choices=("fp16", "bf16")),
        Given("peak", "dense peak throughput per GPU", unit="TFLOP/s", low=1e-3, high=1e5),
        Given("gpus", "number of GPUs", "integer", low=1, high=10**7),
        Given("days", "training time", unit="day", low=1e-3, high=3650),
        Given("mfu", "model FLOPs utilisation, a fraction in (0, 1]", low=1e-3, high=1),
        _METHOD, *_FIT_GIVENS)),
    Variant("loss", "the loss L(N, D) predicted by the parametric fit", (_N, _D, *_FIT_GIVENS)),
    Variant("compare", "two allocations of the same compute: tokens, predicted losses, which is better", (
        _C, Given("N_A", "parameters of model A", low=1e6, high=1e15),
        Given("N_B", "parameters of model B", low=1e6, high=1e15), *_FIT_GIVENS)),
    Variant("overtrained", "how far a model trained on D tokens is over-trained versus the compute optimum",
            (_N, _D, _METHOD, *_FIT_GIVENS)),
    Variant("closed_form", "the fit's closed form: exponents a, b, coefficient G, N_opt, D_opt and D/N at the "
            "optimum under a stated FLOP accounting C = kND; the 0.1/1.7 rule checked against it", (
        _C, Given("flops_per_token", "FLOPs per parameter per training token k in C = kND (6: forward 2 + "
                  "backward 4; 8: with activation recomputation)", default=6, low=1, high=100), *_FIT_GIVENS)),
)


_SPEC = {v.name: v for v in VARIANTS}


def _check(variant: str, g: dict[str, Any]) -> None:
    """The givens' declared kinds and bounds (exgen.givens.check), then what no single given's bounds say."""
    check(_SPEC[variant], g)
    if variant == "compare" and g["N_A"] == g["N_B"]:
        raise InvalidGivens("N_A and N_B are equal: there is nothing to compare")
