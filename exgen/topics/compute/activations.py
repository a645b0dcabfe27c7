"""Activation memory of training (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer
Models", Section 4 and Table 2) beside a rule of 24 bytes per parameter for model states (seed 000).

Bytes of activations one transformer layer keeps for the backward pass, 16-bit activations and 1-byte dropout
masks, sequence length s, micro-batch b, hidden size h, a heads, tensor-parallel size t:
    no parallelism                                   sbh(34 + 5as/h)
    tensor parallelism                               sbh(10 + 24/t + 5as/(ht))
    tensor + sequence parallelism                    sbh(34/t + 5as/(ht))
    tensor parallelism + selective recomputation     sbh(10 + 24/t)
    tensor + sequence parallelism + selective        sbh(34/t)
    full recomputation                               2sbh            (only the layer's input)
The model: L × the layer (embeddings, output layer and loss ignored, as the paper's per-layer analysis does).
Model states: 24 bytes per parameter (seed 000's table: Mistral 7B 168 GB, GPT-3 175B 4200 GB), parameters
12Lh² (biases, layer norms and embeddings ignored), divided over the t tensor-parallel GPUs.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from exgen import numfmt as nf
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Mistake, StudentPath, Variant
from exgen.topics.compute.common import SIG, UNIT_BYTES, _bytes_in, _from_shown, _unit_size

STATE_BYTES = 24  # seed 000: training memory = 24 bytes per parameter
SCHEMES = ("none", "tp", "tp_sp", "tp_selective", "tp_sp_selective", "full")
SCHEME_TEXT = {
    "none": "without any parallelism or recomputation",
    "tp": "with tensor parallelism",
    "tp_sp": "with tensor and sequence parallelism",
    "tp_selective": "with tensor parallelism and selective activation recomputation",
    "tp_sp_selective": "with tensor and sequence parallelism and selective activation recomputation",
    "full": "with full activation recomputation",
}
# (per-sbh coefficient as a function of t, whether the 5as/(ht) attention term is kept)
SCHEME_TEX = {
    "none": r"sbh\left(34 + \frac{5as}{h}\right)",
    "tp": r"sbh\left(10 + \frac{24}{t} + \frac{5as}{ht}\right)",
    "tp_sp": r"sbh\left(\frac{34}{t} + \frac{5as}{ht}\right)",
    "tp_selective": r"sbh\left(10 + \frac{24}{t}\right)",
    "tp_sp_selective": r"sbh\,\frac{34}{t}",
    "full": r"2sbh",
}


def layer_bytes(s: int, b: int, h: int, a: int, t: int, scheme: str) -> Fraction:
    sbh, attention = Fraction(s * b * h), Fraction(5 * a * s, h * t)
    return sbh * {"none": 34 + 5 * Fraction(a * s, h), "tp": 10 + Fraction(24, t) + attention,
                  "tp_sp": Fraction(34, t) + attention, "tp_selective": 10 + Fraction(24, t),
                  "tp_sp_selective": Fraction(34, t), "full": Fraction(2)}[scheme]


def state_bytes(layers: int, h: int, t: int) -> Fraction:
    return Fraction(STATE_BYTES * 12 * layers * h * h, t)


VARIANTS = (
    Variant("activations", "activation memory per layer and per model (Korthikanti et al. 2022) with tensor and "
            "sequence parallelism, selective or full recomputation, beside 24 bytes per parameter of model "
            "states", (
                Given("seq_len", "sequence length s", "integer", low=1, high=10**6),
                Given("micro_batch", "micro-batch size b", "integer", low=1, high=10**4),
                Given("hidden", "hidden size h", "integer", low=1, high=10**5),
                Given("heads", "attention heads a", "integer", low=1, high=10**4),
                Given("layers", "transformer layers L", "integer", low=1, high=1000),
                Given("tp", "tensor-parallel size t (1 without tensor parallelism)", "integer", default=1, low=1,
                      high=1024),
                Given("scheme", "none (no parallelism or recomputation), tp (tensor parallelism), tp_sp (tensor and "
                      "sequence parallelism), tp_selective / tp_sp_selective (the same with selective "
                      "recomputation), full (full recomputation)", "choice", choices=SCHEMES),
                Given("unit", "memory unit the answers are asked in (GB = 10^9 B, GiB = 2^30 B)", "choice",
                      choices=("GB", "GiB")))),
)


def check(variant: str, g: dict[str, Any]) -> None:
    if g["scheme"] == "none" and int(g["tp"]) != 1:
        raise InvalidGivens("scheme none has no tensor parallelism: tp must be 1")
    if int(g["hidden"]) % int(g["heads"]) or int(g["heads"]) % int(g["tp"]):
        raise InvalidGivens("heads must divide hidden, and tp must divide heads")


def _g(g: dict[str, Any]) -> tuple[int, ...]:
    return tuple(int(g[k]) for k in ("seq_len", "micro_batch", "hidden", "heads", "layers", "tp"))


def _substituted(scheme: str, s: int, b: int, h: int, a: int, t: int) -> str:
    sbh = rf"{s} \times {b} \times {h}"
    below = rf"{h} \times {t}" if t > 1 else f"{h}"
    att = rf"\frac{{5 \times {a} \times {s}}}{{{below}}}"
    return {"none": rf"{sbh} \times \left(34 + {att}\right)",
            "tp": rf"{sbh} \times \left(10 + \frac{{24}}{{{t}}} + {att}\right)",
            "tp_sp": rf"{sbh} \times \left(\frac{{34}}{{{t}}} + {att}\right)",
            "tp_selective": rf"{sbh} \times \left(10 + \frac{{24}}{{{t}}}\right)",
            "tp_sp_selective": rf"{sbh} \times \frac{{34}}{{{t}}}",
            "full": rf"2 \times {sbh}"}[scheme]


def _solve_activations(g: dict[str, Any]) -> Solution:
    s, b, h, a, layers, t = _g(g)
    scheme, unit = g["scheme"], g["unit"]
    per_layer = layer_bytes(s, b, h, a, t, scheme)
    model, states = layers * per_layer, state_bytes(layers, h, t)
    size = _unit_size(unit)
    v = {"per_layer": _bytes_in(per_layer, unit), "per_model": _bytes_in(model, unit),
         "states": _bytes_in(states, unit), "total": _bytes_in(model + states, unit)}
    per_gpu = " on each GPU" if t > 1 else ""
    states_tex = (rf"\frac{{24 \times 12 \times {layers} \times {h}^2}}{{{t}}}" if t > 1
                  else rf"24 \times 12 \times {layers} \times {h}^2")

    def steps() -> tuple[Step, ...]:
        return (
            Step(f"Per layer {SCHEME_TEXT[scheme]} (Korthikanti et al. 2022, Table 2), in bytes{per_gpu}; "
                 f"1 {unit} $= {size}$ bytes:",
                 rf"{SCHEME_TEX[scheme]} = {_substituted(scheme, s, b, h, a, t)} = {nf.sig(per_layer, 7)}\ \text{{B}}"
                 rf" = {nf.sig(v['per_layer'], 6)}\ \text{{{unit}}}"),
            Step(f"All $L = {layers}$ layers:",
                 rf"{layers} \times {nf.sig(per_layer, 7)}\ \text{{B}} = {nf.sig(model, 7)}\ \text{{B}} = "
                 rf"{nf.sig(v['per_model'], 6)}\ \text{{{unit}}}"),
            Step("Model states at 24 bytes per parameter, $12Lh^2$ parameters" +
                 (f", split over the $t = {t}$ tensor-parallel GPUs:" if t > 1 else ":"),
                 rf"{states_tex} = {nf.sig(states, 7)}\ \text{{B}} = {nf.sig(v['states'], 6)}\ \text{{{unit}}}"),
            Step("Model states plus activations:",
                 rf"{nf.sig(states, 7)} + {nf.sig(model, 7)} = {nf.sig(model + states, 7)}\ \text{{B}} = "
                 rf"{nf.sig(v['total'], 6)}\ \text{{{unit}}}"),
        )

    labels = {"per_layer": "activations per layer", "per_model": "activations of all layers",
              "states": "model states", "total": "states plus activations"}
    return Solution(tuple(Part(k, label, Answer("number", v[k], unit=unit, sig=SIG)) for k, label in labels.items()),
                    steps)


SOLVERS = {"activations": _solve_activations}


# ---- sampling --------------------------------------------------------------------------------------
EASY_SCHEMES = ("none", "full")
MEDIUM_SCHEMES = ("tp", "tp_sp", "none", "full")
HARD_SCHEMES = ("tp_selective", "tp_sp_selective", "tp", "tp_sp")


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    """GPT-like shapes: head dimension 64 to 128, hidden 512 to 16384, sequences of 512 to 8192 tokens."""
    scheme = rng.choice({"easy": EASY_SCHEMES, "medium": MEDIUM_SCHEMES, "hard": HARD_SCHEMES}[difficulty])
    t = 1 if scheme == "none" else rng.choice((1, 2, 4, 8) if scheme == "full" else (2, 4, 8))
    hd = rng.choice((64, 80, 96, 128))
    heads = t * rng.randint(max(1, 8 // t), 128 // t)
    s = 512 * rng.randint(1, 16) if difficulty != "easy" else rng.choice((512, 1024, 2048, 4096))
    return {"seq_len": s, "micro_batch": rng.randint(1, 8 if difficulty == "easy" else 16),
            "hidden": heads * hd, "heads": heads, "layers": rng.randint(4, 128), "tp": t, "scheme": scheme,
            "unit": rng.choice(("GB", "GiB"))}


# ---- named mistakes --------------------------------------------------------------------------------


def _per_layer_with(g: dict[str, Any], scheme: str, t: int | None = None) -> float | None:
    s, b, h, a, _, tp = _g(g)
    if scheme == g["scheme"] and t is None:
        return None
    return _bytes_in(layer_bytes(s, b, h, a, tp if t is None else t, scheme), g["unit"])


def _no_attention_term(v: str, g: dict[str, Any], solution: Solution) -> float | None:
    kept = {"none": "tp_selective", "tp": "tp_selective", "tp_sp": "tp_sp_selective"}
    if g["scheme"] not in kept:
        return None
    return _per_layer_with(g, kept[g["scheme"]], 1 if g["scheme"] == "none" else None)


def _recomputation_ignored(v: str, g: dict[str, Any], solution: Solution) -> float | None:
    stored = {"tp_selective": "tp", "tp_sp_selective": "tp_sp", "full": "tp"}
    if g["scheme"] not in stored:
        return None
    return _per_layer_with(g, stored[g["scheme"]])


def _sequence_parallel_confused(v: str, g: dict[str, Any], solution: Solution) -> float | None:
    other = {"tp": "tp_sp", "tp_sp": "tp", "tp_selective": "tp_sp_selective", "tp_sp_selective": "tp_selective"}
    return _per_layer_with(g, other[g["scheme"]]) if g["scheme"] in other else None


def _other_unit(v: str, g: dict[str, Any], solution: Solution, part: str) -> float:
    other = "GiB" if g["unit"] == "GB" else "GB"
    return solution.value(part) * UNIT_BYTES[g["unit"]] / UNIT_BYTES[other]


MISTAKES = (
    Mistake("attention_scores_forgotten", "per_layer", "The softmax output, its dropout mask and the dropout "
            "output (5as^2b bytes, over t GPUs with tensor parallelism) are stored too.", ("activations",),
            _no_attention_term),
    Mistake("recomputation_ignored", "per_layer", "Recomputed activations are not stored: selective recomputation "
            "drops the 5as^2b attention term, full recomputation keeps only the layer input (2sbh).",
            ("activations",), _recomputation_ignored),
    Mistake("sequence_parallelism_confused", "per_layer", "Sequence parallelism splits the layer norms' and "
            "dropouts' 10sbh over the t GPUs too; plain tensor parallelism does not.", ("activations",),
            _sequence_parallel_confused),
    Mistake("layers_forgotten", "per_model", "Every one of the L layers stores its own activations.",
            ("activations",), lambda v, g, s: None if int(g["layers"]) == 1 else s.value("per_layer")),
    Mistake("zero_papers_16_bytes", "states", "The question counts 24 bytes per parameter, not "
            "the ZeRO paper's 16.", ("activations",),
            lambda v, g, s: s.value("states") * 16 / 24),
    Mistake("tensor_parallel_split_forgotten", "states", "Tensor parallelism splits every weight matrix over the "
            "t GPUs.", ("activations",), lambda v, g, s: None if int(g["tp"]) == 1 else s.value("states") *
            int(g["tp"])),
    Mistake("gb_gib_confused", "per_layer", "GB is 10^9 bytes and GiB is 2^30 bytes; the other one was used.",
            ("activations",), lambda v, g, s: _other_unit(v, g, s, "per_layer")),
)


# ---- student paths ---------------------------------------------------------------------------------


def _per_model_from_rounded_layer(v: str, g: dict[str, Any], solution: Solution) -> float:
    """L times the activations of one layer as answered."""
    return _from_shown(solution, "per_model", lambda layer: int(g["layers"]) * layer, "per_layer")


def _total_from_rounded_parts(v: str, g: dict[str, Any], solution: Solution) -> float:
    """The model states as answered plus the activations of all layers as answered."""
    return _from_shown(solution, "total", lambda states, per_model: states + per_model, "states", "per_model")


PATHS = (
    StudentPath("per_model_from_the_rounded_layer", "per_model", _per_model_from_rounded_layer.__doc__,
                ("activations",), _per_model_from_rounded_layer),
    StudentPath("total_from_the_rounded_parts", "total", _total_from_rounded_parts.__doc__, ("activations",),
                _total_from_rounded_parts),
)
