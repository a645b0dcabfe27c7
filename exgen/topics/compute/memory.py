"""Memory: weights by dtype, mixed-precision training memory, ZeRO stages."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from exgen import numfmt as nf
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Mistake, Variant
from exgen.topics.compute.common import (
    ADAM_K, BYTES_PER_DTYPE, OPTIMIZER_K, OPTIMIZER_TEXT, SIG, UNIT_BYTES, _GPUS, _OPTIMIZER, _PARAMS, _UNIT,
    _bytes_in, _f, _unit_size, answer as _answer)


def zero_bytes(params: Any, gpus: int, k: int = ADAM_K) -> dict[str, Fraction]:
    """Per-GPU model-state bytes of ZeRO-DP (Rajbhandari et al. 2020, Figure 1)."""
    psi = _f(params)
    return {"baseline": (2 + 2 + k) * psi,
            "stage1": 2 * psi + 2 * psi + k * psi / gpus,
            "stage2": 2 * psi + (2 + k) * psi / gpus,
            "stage3": (2 + 2 + k) * psi / gpus}



VARIANTS = (
    Variant("memory", "weight memory by dtype and mixed-precision training memory (2 + 2 + K bytes/parameter)", (
        _PARAMS, Given("dtype", "dtype of the weights for inference", "choice", choices=tuple(BYTES_PER_DTYPE)),
        _UNIT, _OPTIMIZER)),
    Variant("zero", "per-GPU model-state memory under ZeRO stages 1, 2, 3 (mixed-precision training, K bytes of "
            "optimizer state)", (_PARAMS, _GPUS, _UNIT, _OPTIMIZER)),
)


def check(variant: str, g: dict[str, Any]) -> None:
    if variant == "memory" and g["dtype"] not in BYTES_PER_DTYPE:
        raise InvalidGivens(f"dtype must be one of {', '.join(BYTES_PER_DTYPE)}")
    if variant in ("memory", "zero") and g["unit"] not in UNIT_BYTES:
        raise InvalidGivens("unit must be GB or GiB")
    if variant in ("memory", "zero") and g["optimizer"] not in OPTIMIZER_K:
        raise InvalidGivens(f"optimizer must be one of {', '.join(OPTIMIZER_K)}")



def _solve_memory(g: dict[str, Any]) -> Solution:
    psi, dtype, unit = _f(g["params"]), g["dtype"], g["unit"]
    per = BYTES_PER_DTYPE[dtype]
    k = OPTIMIZER_K[g["optimizer"]]
    weights, training = psi * per, psi * (2 + 2 + k)
    name, states = OPTIMIZER_TEXT[g["optimizer"]]
    steps = (
        Step(f"{dtype} stores each parameter in {8 * per} bits = {per} byte{'s' if per > 1 else ''}; "
             f"1 {unit} $= {_unit_size(unit)}$ bytes:",
             rf"{nf.sig(psi, 6)} \times {per}\ \text{{B}} = {nf.sig(weights, 6)}\ \text{{B}} = "
             rf"\frac{{{nf.sig(weights, 6)}}}{{{_unit_size(unit)}}}\ \text{{{unit}}} = "
             rf"{nf.sig(_bytes_in(weights, unit), 6)}\ \text{{{unit}}}"),
        Step(f"Mixed-precision {name} keeps fp16 parameters (2 B) and gradients (2 B), and {states} "
             f"($K = {k}$ B): {4 + k} bytes per parameter.",
             rf"(2 + 2 + {k}) \times {nf.sig(psi, 6)}\ \text{{B}} = {nf.sig(training, 6)}\ \text{{B}} = "
             rf"\frac{{{nf.sig(training, 6)}}}{{{_unit_size(unit)}}}\ \text{{{unit}}} = "
             rf"{nf.sig(_bytes_in(training, unit), 6)}\ \text{{{unit}}}"),
    )
    return Solution((Part("weights", f"{dtype} weights", Answer("number", _bytes_in(weights, unit), unit=unit,
                                                                 sig=SIG)),
                     Part("training", "training memory", Answer("number", _bytes_in(training, unit), unit=unit,
                                                                 sig=SIG))), steps)


ZERO_TEX = {
    "baseline": r"(2 + 2 + K)\Psi",
    "stage1": r"2\Psi + 2\Psi + \frac{K\Psi}{N_d}",
    "stage2": r"2\Psi + \frac{(2 + K)\Psi}{N_d}",
    "stage3": r"\frac{(2 + 2 + K)\Psi}{N_d}",
}
ZERO_TEXT = {
    "baseline": "Baseline data parallelism: every GPU holds all model states.",
    "stage1": "Stage 1 ($P_{os}$) shards the optimizer states across the $N_d$ GPUs.",
    "stage2": "Stage 2 ($P_{os+g}$) also shards the gradients.",
    "stage3": "Stage 3 ($P_{os+g+p}$) also shards the fp16 parameters.",
}


def _zero_substituted(stage: str, psi: str, gpus: int, k: int) -> str:
    """The stage's formula with Ψ, N_d and K written out (bytes)."""
    return {"baseline": rf"{4 + k} \times {psi}",
            "stage1": rf"2 \times {psi} + 2 \times {psi} + \frac{{{k} \times {psi}}}{{{gpus}}}",
            "stage2": rf"2 \times {psi} + \frac{{{2 + k} \times {psi}}}{{{gpus}}}",
            "stage3": rf"\frac{{{4 + k} \times {psi}}}{{{gpus}}}"}[stage]


def _solve_zero(g: dict[str, Any]) -> Solution:
    psi, gpus, unit = _f(g["params"]), int(g["gpus"]), g["unit"]
    k = OPTIMIZER_K[g["optimizer"]]
    b = zero_bytes(psi, gpus, k)
    name, states = OPTIMIZER_TEXT[g["optimizer"]]
    steps = [Step(rf"$\Psi = {nf.sig(psi, 6)}$ parameters, $N_d = {gpus}$ GPUs, and $K = {k}$ bytes of optimizer "
                  rf"state per parameter ({name}: {states}, 4 bytes each); 1 {unit} $= {_unit_size(unit)}$ "
                  "bytes.")]
    shown, in_unit = nf.sig(psi, 6), {stage: _bytes_in(size, unit) for stage, size in b.items()}
    for stage, size in b.items():  # two displays per stage, so none runs past a printed page
        size_tex = nf.sig(size, 6)
        steps += [Step(ZERO_TEXT[stage], rf"{ZERO_TEX[stage]} = {_zero_substituted(stage, shown, gpus, k)}"),
                  Step("that is", rf"{size_tex}\ \text{{B}} = \frac{{{size_tex}}}{{{_unit_size(unit)}}}"
                                  rf"\ \text{{{unit}}} = {nf.sig(in_unit[stage], 6)}\ \text{{{unit}}}.")]
    parts = tuple(Part(s, label, Answer("number", in_unit[s], unit=unit, sig=SIG)) for s, label in (
        ("baseline", "baseline per GPU"), ("stage1", "ZeRO stage 1 per GPU"), ("stage2", "ZeRO stage 2 per GPU"),
        ("stage3", "ZeRO stage 3 per GPU")))
    return Solution(parts, tuple(steps))


SOLVERS = {"memory": _solve_memory, "zero": _solve_zero}


# ---- sampling --------------------------------------------------------------------------------------

ZERO_GPUS = (4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024)


def _model_size(rng: Rng, difficulty: str) -> float:
    """Parameters: 1.00M to 9.99T with 3 significant figures (easy) or 1.000B to 9.999T with 4."""
    if difficulty == "easy":
        return float(rng.randint(100, 999) * Fraction(10) ** rng.randint(4, 10))
    return float(rng.randint(1000, 9999) * Fraction(10) ** rng.randint(6, 9))


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    if variant == "memory":
        return {"params": _model_size(rng, difficulty), "dtype": rng.choice(tuple(BYTES_PER_DTYPE)),
                "unit": rng.choice(tuple(UNIT_BYTES)), "optimizer": _optimizer(rng, difficulty)}
    gpus = 8 * rng.randint(2, 128) if difficulty == "hard" else rng.choice(ZERO_GPUS)  # hard: nodes of 8
    return {"params": _model_size(rng, difficulty), "gpus": gpus, "unit": rng.choice(tuple(UNIT_BYTES)),
            "optimizer": _optimizer(rng, difficulty)}


def _optimizer(rng: Rng, difficulty: str) -> str:
    """Adam or SGD with momentum; a hard ZeRO question lists the states and leaves K to the student."""
    return rng.choice(tuple(OPTIMIZER_K))



def _other_unit(variant: str, g: dict[str, Any], part: str) -> float:
    """The bytes divided by the other unit's size: 10^9 for GiB, or 2^30 for GB."""
    other = "GiB" if g["unit"] == "GB" else "GB"
    return _answer(variant, g, part) * UNIT_BYTES[g["unit"]] / UNIT_BYTES[other]


def _adam_for_sgd(variant: str, g: dict[str, Any], part: str) -> float | None:
    return None if g["optimizer"] == "adam" else _answer(variant, {**g, "optimizer": "adam"}, part)


MISTAKES = (
    Mistake("gb_gib_confused", "weights", "GB is 10^9 bytes and GiB is 2^30 bytes; the other one was used.",
            ("memory",), lambda v, g: _other_unit(v, g, "weights")),
    Mistake("bits_for_bytes", "weights", "The bit width was used as bytes: a b-bit parameter takes b/8 bytes.",
            ("memory",), lambda v, g: _answer(v, g, "weights") * 8),
    Mistake("optimizer_states_forgotten", "training", "The optimizer's fp32 states (K bytes per parameter: 12 "
            "for Adam, 8 for SGD with momentum) were left out; only fp16 weights and gradients were counted.",
            ("memory",), lambda v, g: _answer(v, g, "training") * 4 / (4 + OPTIMIZER_K[g["optimizer"]])),
    Mistake("adam_states_for_sgd", "training", "SGD with momentum keeps an fp32 master copy and momentum only "
            "(K = 8); Adam's variance (K = 12) was counted too.",
            ("memory",), lambda v, g: _adam_for_sgd(v, g, "training")),
    Mistake("adam_states_for_sgd", "baseline", "SGD with momentum keeps an fp32 master copy and momentum only "
            "(K = 8); Adam's variance (K = 12) was counted too.",
            ("zero",), lambda v, g: _adam_for_sgd(v, g, "baseline")),
    Mistake("gb_gib_confused", "baseline", "GB is 10^9 bytes and GiB is 2^30 bytes; the other one was used.",
            ("zero",), lambda v, g: _other_unit(v, g, "baseline")),
    Mistake("master_copy_forgotten", "baseline", "K includes the fp32 master copy of the parameters (4 bytes) "
            "besides the optimizer's own states (Adam's momentum and variance, or SGD's momentum).",
            ("zero",), lambda v, g: _bytes_in(OPTIMIZER_K[g["optimizer"]] * _f(g["params"]), g["unit"])),
    Mistake("gradients_not_sharded", "stage2", "Stage 2 shards the gradients too: 2Psi + (2 + K) Psi / N_d.",
            ("zero",), lambda v, g: _answer(v, g, "stage1")),
    Mistake("parameters_not_sharded", "stage3", "Stage 3 shards the fp16 parameters too: (2 + 2 + K) Psi / N_d.",
            ("zero",), lambda v, g: _answer(v, g, "stage2")),
)
