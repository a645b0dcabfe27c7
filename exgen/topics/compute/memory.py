"""Memory: weights by dtype, mixed-precision training memory, ZeRO stages, and serving memory with an overhead
factor: weights × bytes per parameter × an overhead factor (1.2 in the rule of thumb of S. Stoelinga, "Calculating
GPU memory for serving LLMs", Substratus.AI 2023), and the GPUs of a given memory needed to hold it. The KV cache
of a served batch is the `inference` topic's; here it is part of what the overhead factor covers."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from exgen import numfmt as nf
from exgen.exact import decimal as _f
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Mistake, StudentPath, Variant, each
from exgen.topics.compute.common import (
    ADAM_K, BYTES_PER_DTYPE, OPTIMIZER_K, OPTIMIZER_TEXT, SIG, UNIT_BYTES, _GPUS, _OPTIMIZER, _PARAMS, _UNIT,
    _bytes_in, _from_shown, _other_value, _scaled, _shown, _unit_size)


def zero_bytes(params: Any, gpus: int, k: int = ADAM_K) -> dict[str, Fraction]:
    """Per-GPU model-state bytes of ZeRO-DP (Rajbhandari et al. 2020, Figure 1)."""
    psi = _f(params)
    return {"baseline": (2 + 2 + k) * psi,
            "stage1": 2 * psi + 2 * psi + k * psi / gpus,
            "stage2": 2 * psi + (2 + k) * psi / gpus,
            "stage3": (2 + 2 + k) * psi / gpus}



# Serving dtypes: int4 packs two parameters in a byte (Stoelinga's 4-bit example).
SERVE_BYTES = {"fp32": Fraction(4), "fp16": Fraction(2), "bf16": Fraction(2), "fp8": Fraction(1),
               "int8": Fraction(1), "int4": Fraction(1, 2)}
SERVE_BITS = {d: int(8 * b) for d, b in SERVE_BYTES.items()}


def serving_bytes(params: Any, dtype: str, overhead: Any) -> dict[str, Fraction]:
    weights = _f(params) * SERVE_BYTES[dtype]
    return {"weights": weights, "serving": weights * _f(overhead)}


VARIANTS = (
    Variant("memory", "weight memory by dtype and mixed-precision training memory (2 + 2 + K bytes/parameter)", (
        _PARAMS, Given("dtype", "dtype of the weights for inference", "choice", choices=tuple(BYTES_PER_DTYPE)),
        _UNIT, _OPTIMIZER)),
    Variant("zero", "per-GPU model-state memory under ZeRO stages 1, 2, 3 (mixed-precision training, K bytes of "
            "optimizer state)", (_PARAMS, _GPUS, _UNIT, _OPTIMIZER)),
    Variant("serving_memory", "serving memory: weights (parameters × bytes of the dtype) times an overhead factor "
            "(e.g. 1.2), and the number of GPUs of a given memory that hold it", (
                _PARAMS, Given("dtype", "dtype of the served weights (int4: two parameters per byte)", "choice",
                               choices=tuple(SERVE_BYTES)),
                Given("overhead", "overhead factor on the weights for activations, KV cache and the framework "
                      "(e.g. 1.2)", "number", low=1, high=10),
                Given("gpu_memory", "memory of one GPU, in the answers' unit", "number", low=0.1, high=1e5),
                _UNIT)),
)




def _solve_memory(g: dict[str, Any]) -> Solution:
    psi, dtype, unit = _f(g["params"]), g["dtype"], g["unit"]
    per = BYTES_PER_DTYPE[dtype]
    k = OPTIMIZER_K[g["optimizer"]]
    weights, training = psi * per, psi * (2 + 2 + k)
    name, states = OPTIMIZER_TEXT[g["optimizer"]]

    def steps() -> tuple[Step, ...]:
        return (
            Step(f"{dtype} stores each parameter in {8 * per} bits = {per} byte{'s' if per > 1 else ''}; "
                 f"1 {unit} $= {_unit_size(unit)}$ bytes:",
                 rf"{nf.sig(psi, 6)} \times {per}\ \text{{B}} = {nf.sig(weights, 6)}\ \text{{B}} = "
                 rf"\frac{{{nf.sig(weights, 6)}}}{{{_unit_size(unit)}}}\ \text{{{unit}}} = "
                 rf"{nf.sig(_bytes_in(weights, unit), 6)}\ \text{{{unit}}}"),
            Step(f"Mixed-precision {name} keeps fp16 parameters (2 bytes) and gradients (2 bytes), and "
                 f"{states} ($K = {k}$ bytes): {4 + k} bytes per parameter.",
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
    in_unit = {stage: _bytes_in(size, unit) for stage, size in b.items()}

    def steps() -> list[Step]:
        name, states = OPTIMIZER_TEXT[g["optimizer"]]
        steps = [Step(rf"$\Psi = {nf.sig(psi, 6)}$ parameters, $N_d = {gpus}$ {nf.plural(gpus, 'GPU')}, and $K = {k}$ bytes of "
                      rf"optimizer state per parameter ({name}: {states}, 4 bytes each); 1 {unit} $= "
                      rf"{_unit_size(unit)}$ bytes.")]
        shown = nf.sig(psi, 6)
        for stage, size in b.items():  # two displays per stage, so none runs past a printed page
            size_tex = nf.sig(size, 6)
            steps += [Step(ZERO_TEXT[stage], rf"{ZERO_TEX[stage]} = {_zero_substituted(stage, shown, gpus, k)}"),
                      Step("that is", rf"{size_tex}\ \text{{B}} = \frac{{{size_tex}}}{{{_unit_size(unit)}}}"
                                      rf"\ \text{{{unit}}} = {nf.sig(in_unit[stage], 6)}\ \text{{{unit}}}.")]
        return steps
    parts = tuple(Part(s, label, Answer("number", in_unit[s], unit=unit, sig=SIG)) for s, label in (
        ("baseline", "baseline per GPU"), ("stage1", "ZeRO stage 1 per GPU"), ("stage2", "ZeRO stage 2 per GPU"),
        ("stage3", "ZeRO stage 3 per GPU")))
    return Solution(parts, steps)


def _solve_serving(g: dict[str, Any]) -> Solution:
    dtype, unit = g["dtype"], g["unit"]
    b = serving_bytes(g["params"], dtype, g["overhead"])
    weights, serving = (b[k] / UNIT_BYTES[unit] for k in ("weights", "serving"))
    per_gpu = _f(g["gpu_memory"])
    gpus = math.ceil(serving / per_gpu)
    if gpus > 10**5:
        raise InvalidGivens(f"{gpus} GPUs: more than 10^5")
    per, bits = SERVE_BYTES[dtype], SERVE_BITS[dtype]

    def steps() -> tuple[Step, ...]:
        return (
            Step(f"{dtype} stores each parameter in {bits} bits = {nf.num(float(per))} byte{'s' if per != 1 else ''}; "
                 f"1 {unit} $= {_unit_size(unit)}$ bytes:",
                 rf"{nf.sig(g['params'], 6)} \times {nf.num(float(per))}\ \text{{B}} = {nf.sig(b['weights'], 6)}\ "
                 rf"\text{{B}} = {nf.sig(weights, 6)}\ \text{{{unit}}}"),
            Step("Serving memory: the weights times the overhead factor:",
                 rf"{nf.sig(weights, 6)} \times {nf.num(g['overhead'])} = {nf.sig(serving, 6)}\ \text{{{unit}}}"),
            Step(f"GPUs of {nf.num(g['gpu_memory'])} {unit}: the smallest whole number whose memory together holds it:",
                 rf"\left\lceil \frac{{{nf.sig(serving, 6)}}}{{{nf.num(g['gpu_memory'])}}} \right\rceil = "
                 rf"\lceil {nf.sig(serving / per_gpu, 6)} \rceil = {gpus}"),
        )

    return Solution((
        Part("weights", f"{dtype} weights", Answer("number", float(weights), unit=unit, sig=SIG)),
        Part("serving", "serving memory", Answer("number", float(serving), unit=unit, sig=SIG)),
        Part("gpus", "GPUs needed", Answer("integer", gpus))), steps)


SOLVERS = {"memory": _solve_memory, "zero": _solve_zero, "serving_memory": _solve_serving}


# ---- sampling --------------------------------------------------------------------------------------

ZERO_GPUS = (4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024)


def _model_size(rng: Rng, difficulty: str) -> float:
    """Parameters: 1.00M to 9.99T with 3 significant figures (easy) or 1.000B to 9.999T with 4."""
    if difficulty == "easy":
        return _scaled(rng.randint(100, 999), rng.randint(4, 10))
    return _scaled(rng.randint(1000, 9999), rng.randint(6, 9))


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    if variant == "serving_memory":
        return _sample_serving(rng, difficulty)
    if variant == "memory":
        return {"params": _model_size(rng, difficulty), "dtype": rng.choice(tuple(BYTES_PER_DTYPE)),
                "unit": rng.choice(tuple(UNIT_BYTES)), "optimizer": _optimizer(rng, difficulty)}
    gpus = 8 * rng.randint(2, 128) if difficulty == "hard" else rng.choice(ZERO_GPUS)  # hard: nodes of 8
    return {"params": _model_size(rng, difficulty), "gpus": gpus, "unit": rng.choice(tuple(UNIT_BYTES)),
            "optimizer": _optimizer(rng, difficulty)}


GPU_MEMORY = (16, 24, 32, 40, 48, 80, 94, 141, 192)


def _sample_serving(rng: Rng, difficulty: str) -> dict[str, Any]:
    """1.00B to 999B parameters (3 significant figures) or 1.000B to 999.9B (4); a GPU of a common size; an
    overhead factor of 1.1 to 1.5 (1.05 to 1.60 at hard)."""
    if difficulty == "easy":
        params = _scaled(rng.randint(100, 999), rng.randint(7, 9))
        overhead = rng.choice((1.1, 1.2, 1.25, 1.3, 1.5))
    else:
        params = _scaled(rng.randint(1000, 9999), rng.randint(6, 8))
        overhead = float(rng.decimal(1.05, 1.6, 2))
    return {"params": params, "dtype": rng.choice(tuple(SERVE_BYTES)), "overhead": overhead,
            "gpu_memory": rng.choice(GPU_MEMORY), "unit": rng.choice(tuple(UNIT_BYTES))}


def _optimizer(rng: Rng, difficulty: str) -> str:
    """Adam or SGD with momentum; a hard ZeRO question lists the states and leaves K to the student."""
    return rng.choice(tuple(OPTIMIZER_K))



def _other_unit(variant: str, g: dict[str, Any], solution: Solution, part: str) -> float:
    """The bytes divided by the other unit's size: 10^9 for GiB, or 2^30 for GB."""
    other = "GiB" if g["unit"] == "GB" else "GB"
    return solution.value(part) * UNIT_BYTES[g["unit"]] / UNIT_BYTES[other]


def _adam_for_sgd(variant: str, g: dict[str, Any], part: str) -> float | None:
    return None if g["optimizer"] == "adam" else _other_value(variant, {**g, "optimizer": "adam"}, part)


def _gpus_for(variant: str, g: dict[str, Any], solution: Solution, part: str) -> int | None:
    wrong = math.ceil(solution.value(part) / float(g["gpu_memory"]))
    return None if wrong == solution.value("gpus") else wrong


def _gpus_rounded_down(variant: str, g: dict[str, Any], solution: Solution) -> int | None:
    wrong = math.floor(solution.value("serving") / float(g["gpu_memory"]))
    return None if wrong == solution.value("gpus") else wrong


MISTAKES = (
    Mistake("gb_gib_confused", "weights", "GB is 10^9 bytes and GiB is 2^30 bytes; the other one was used.",
            ("memory",), lambda v, g, s: _other_unit(v, g, s, "weights")),
    Mistake("bits_for_bytes", "weights", "The bit width was used as bytes: a b-bit parameter takes b/8 bytes.",
            ("memory",), lambda v, g, s: s.value("weights") * 8),
    Mistake("optimizer_states_forgotten", "training", "The optimizer's fp32 states (K bytes per parameter: 12 "
            "for Adam, 8 for SGD with momentum) were left out; only fp16 weights and gradients were counted.",
            ("memory",), lambda v, g, s: s.value("training") * 4 / (4 + OPTIMIZER_K[g["optimizer"]])),
    Mistake("adam_states_for_sgd", "training", "SGD with momentum keeps an fp32 master copy and momentum only "
            "(K = 8); Adam's variance (K = 12) was counted too.",
            ("memory",), lambda v, g, s: _adam_for_sgd(v, g, "training")),
    Mistake("adam_states_for_sgd", "baseline", "SGD with momentum keeps an fp32 master copy and momentum only "
            "(K = 8); Adam's variance (K = 12) was counted too.",
            ("zero",), lambda v, g, s: _adam_for_sgd(v, g, "baseline")),
    Mistake("gb_gib_confused", "baseline", "GB is 10^9 bytes and GiB is 2^30 bytes; the other one was used.",
            ("zero",), lambda v, g, s: _other_unit(v, g, s, "baseline")),
    Mistake("master_copy_forgotten", "baseline", "K includes the fp32 master copy of the parameters (4 bytes) "
            "besides the optimizer's own states (Adam's momentum and variance, or SGD's momentum).",
            ("zero",), lambda v, g, s: _bytes_in(OPTIMIZER_K[g["optimizer"]] * _f(g["params"]), g["unit"])),
    Mistake("gradients_not_sharded", "stage2", "Stage 2 shards the gradients too: 2Psi + (2 + K) Psi / N_d.",
            ("zero",), lambda v, g, s: s.value("stage1")),
    Mistake("gb_gib_confused", "weights", "GB is 10^9 bytes and GiB is 2^30 bytes; the other one was used.",
            ("serving_memory",), lambda v, g, s: _other_unit(v, g, s, "weights")),
    Mistake("bits_for_bytes", "weights", "The bit width was used as bytes: a b-bit parameter takes b/8 bytes.",
            ("serving_memory",), lambda v, g, s: s.value("weights") * 8),
    Mistake("overhead_forgotten", "serving", "Serving memory is the weights times the overhead factor.",
            ("serving_memory",), lambda v, g, s: None if float(g["overhead"]) == 1 else s.value("weights")),
    Mistake("overhead_forgotten", "gpus", "The GPUs must hold the weights times the overhead factor, not the "
            "weights alone.", ("serving_memory",), lambda v, g, s: _gpus_for(v, g, s, "weights")),
    Mistake("gpus_rounded_down", "gpus", "A fraction of a GPU is a whole GPU: round the count up.",
            ("serving_memory",), lambda v, g, s: _gpus_rounded_down(v, g, s)),
    Mistake("parameters_not_sharded", "stage3", "Stage 3 shards the fp16 parameters too: (2 + 2 + K) Psi / N_d.",
            ("zero",), lambda v, g, s: s.value("stage2")),
)


def _serving_from_rounded_weights(v: str, g: dict[str, Any], s: Solution) -> float:
    return _from_shown(s, "serving", lambda weights: weights * float(g["overhead"]), "weights")


def _gpus_from_rounded_serving(v: str, g: dict[str, Any], s: Solution) -> int:
    return each(lambda serving: math.ceil(serving / float(g["gpu_memory"])), _shown(s, "serving"))


def _stage3_from_rounded_baseline(v: str, g: dict[str, Any], s: Solution) -> float:
    return _from_shown(s, "stage3", lambda baseline: baseline / int(g["gpus"]), "baseline")


PATHS = (
    StudentPath("stage3_from_the_rounded_baseline", "stage3", "The baseline as answered over N_d (stage 3 shards "
                "every model state).", ("zero",), _stage3_from_rounded_baseline),
    StudentPath("serving_from_the_rounded_weights", "serving", "The weights as answered times the overhead "
                "factor.", ("serving_memory",), _serving_from_rounded_weights),
    StudentPath("gpus_from_the_rounded_serving_memory", "gpus", "The serving memory as answered over one GPU's "
                "memory, rounded up.", ("serving_memory",), _gpus_from_rounded_serving),
)
