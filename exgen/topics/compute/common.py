"""Shared pieces of the compute topic: constants, exact helpers, the generic givens check."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable

from exgen import numfmt as nf
from exgen.givens import check as check_givens
from exgen.problem import Answer, Solution
from exgen.topics.base import Given, Variant, each

BYTES_PER_DTYPE = {"fp64": 8, "fp32": 4, "fp16": 2, "bf16": 2, "fp8": 1, "int8": 1}
UNIT_BYTES = {"GB": 10**9, "GiB": 2**30}
ADAM_K = 12  # fp32 master weights + momentum + variance, bytes per parameter (ZeRO paper)
# K of each optimizer, and what its fp32 states are, in the question's words
OPTIMIZER_K = {"adam": ADAM_K, "sgd_momentum": 8}
OPTIMIZER_TEXT = {"adam": ("Adam", "an fp32 master copy of the parameters, momentum and variance"),
                  "sgd_momentum": ("SGD with momentum", "an fp32 master copy of the parameters and momentum")}
SECONDS_PER_DAY = 86400
FLOP_SIG = 4  # FLOP counts are asked to 4 significant figures
SIG = 3
IDEAL_SIG = 4  # the time at peak, which the MFU part builds on, carries one figure more
EXACT_BELOW = 10**10  # matmul FLOP counts below this are asked as exact integers





def _scaled(mantissa: int, exponent: int) -> float:
    """mantissa × 10^exponent, integers, as the correctly rounded float: what float(Fraction) gives, by one
    integer conversion or division (both correctly rounded in Python)."""
    return float(mantissa * 10**exponent) if exponent >= 0 else mantissa / 10**-exponent


# ---- givens shared by several variants --------------------------------------------------------------
# Bounds keep every answer finite and every count small (exact integers stay below 10^30); a model of 10^15
# parameters or 10^18 tokens is far beyond any trained so far.

_PARAMS = Given("params", "number of parameters N (e.g. 82e9)", "number", low=1e3, high=1e15)
_TOKENS = Given("tokens", "number of training tokens D (e.g. 150e9)", "number", low=1e3, high=1e18)
_GPUS = Given("gpus", "number of GPUs", "integer", low=1, high=10**7)
_PEAK = Given("peak_tflops", "peak throughput of one GPU", "number", unit="TFLOP/s", low=1e-3, high=1e6)
_UNIT = Given("unit", "memory unit the answers are asked in (GB = 10^9 B, GiB = 2^30 B)", "choice",
              choices=("GB", "GiB"))
_DIM = dict(kind="integer", low=1, high=10**6)
_OPTIMIZER = Given("optimizer", "optimizer of mixed-precision training: adam (fp32 master copy, momentum, variance: "
                   "K = 12 bytes) or sgd_momentum (fp32 master copy, momentum: K = 8 bytes)", "choice",
                   choices=tuple(OPTIMIZER_K), default="adam")


# Every variant of the topic, its solver and its extra checks, filled in by the variant-group modules.
VARIANTS: dict[str, Variant] = {}
SOLVERS: dict[str, Callable[[dict[str, Any]], Solution]] = {}
CHECKS: dict[str, Callable[[str, dict[str, Any]], None]] = {}


def check(variant: str, g: dict[str, Any]) -> None:
    """The givens' declared kinds and bounds (exgen.givens.check), then the variant's own rules (CHECKS)."""
    check_givens(VARIANTS[variant], g)
    if variant in CHECKS:
        CHECKS[variant](variant, g)


def _flop(value: Any, exact: bool = False) -> Answer:
    """A FLOP count: an exact integer for hand-sized products, else to FLOP_SIG significant figures."""
    if exact:
        return Answer("integer", int(value), unit="FLOP")
    return Answer("number", float(value), unit="FLOP", sig=FLOP_SIG)

def _days(seconds: Fraction) -> float:
    return float(seconds / SECONDS_PER_DAY)

def _bytes_in(value: Fraction, unit: str) -> float:
    return float(value / UNIT_BYTES[unit])


def _unit_size(unit: str) -> str:
    return "10^9" if unit == "GB" else "2^{30}"


def _other_value(variant: str, g: dict[str, Any], part: str) -> Any:
    """A part's answer for other givens (a mistake's: the key's givens with one changed), solved afresh: no memo,
    as a solve takes tens of microseconds."""
    return SOLVERS[variant](dict(g)).value(part)


def _shown(solution: Solution, part: str) -> tuple[float, ...]:
    """A part's answer as the student writes it, rounded to the precision the question asks: at a tie either
    neighbour (`nf.held`)."""
    answer = solution.part(part).answer
    return (answer.value,) if answer.sig is None else nf.held(answer.value, answer.sig)


def _as_asked(solution: Solution, part: str, value: float) -> tuple[float, ...]:
    answer = solution.part(part).answer
    return (value,) if answer.sig is None else nf.held(value, answer.sig)


def _from_shown(solution: Solution, part: str, route: Callable[..., float], *shown: str) -> Any:
    """A student path's answer to `part`: `route` of the named parts as the student wrote them, rounded as
    asked, over every neighbour of a tie (`each`)."""
    return each(lambda *xs: _as_asked(solution, part, route(*xs)), *(_shown(solution, p) for p in shown))
