"""LoRA: trainable parameters, training memory against full fine-tuning, and QLoRA storage of the frozen base.

Formulas (seed 004, "LoRA": ΔW = AB with A d×r and B r×d, so a d×d linear layer trains 2dr (+ d with its
bias) instead of d² + d; Hu et al. 2021, §4.1 and Table 5: |Θ| = 2 × L̂ × d_model × r over the L̂ adapted
square matrices):
    one adapted d_in × d_out matrix:  r (d_in + d_out)  (+ d_out when its bias is trained)
    memory (stated convention, Rajbhandari et al. 2020's 16 bytes per trained parameter with Adam):
        mixed precision: 2 B weight (every parameter); per trained parameter + 2 B gradient + 4 B fp32 master
        copy + 8 B Adam moments (two fp32) = 16 B.  fp32: 4 B weight; + 4 B gradient + 8 B moments = 16 B.
    QLoRA (Dettmers et al. 2023, §3): 4-bit NF4 weights, one absmax constant per block of B weights: 32/B bits
        per weight at fp32, or with double quantization 8/B + 32/(B·B2) bits (8-bit constants, one fp32
        constant per B2 of them).
Every count is an exact integer (or an exact ratio of integers); the sampler draws realistic model shapes.
Decisions: docs/decisions/lora.md.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Any

from exgen import numfmt as nf
from exgen.exact import decimal
from exgen.givens import check
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Mistake, Rejected, StudentPath, Topic, Variant, each

BYTES_PER_GB = 10**9
TARGETS = ("q", "v", "q,v", "q,k,v,o", "q,k,v,o,up,down")
NAMES = {"q": "query", "k": "key", "v": "value", "o": "output", "up": "MLP up", "down": "MLP down"}
# precision: (bytes of every weight, bytes added per trained parameter)
PRECISIONS = {"mixed": (2, 14), "fp32": (4, 12)}
NF4_BITS = 4

# ---- givens ----------------------------------------------------------------------------------------

_D = Given("d_model", "hidden size d of the model", "integer", low=1, high=65536)
_L = Given("layers", "number of transformer layers N_layer", "integer", low=1, high=1000)
_R = Given("rank", "LoRA rank r", "integer", low=1, high=4096)
_TARGETS = Given("targets", "adapted projections in every layer: q, k, v, o (attention, d × d unless d_kv says "
                 "otherwise), up (d × d_ff) and down (d_ff × d)", "choice", choices=TARGETS)
_DKV = Given("d_kv", "output width of the key and value projections (d for multi-head attention, smaller with "
             "grouped-query attention; 0: d)", "integer", default=0, low=0, high=65536)
_DFF = Given("d_ff", "inner width of the MLP (only needed when up/down are adapted; 0: not given)", "integer",
             default=0, low=0, high=262144)
_N = Given("model_params", "parameters of the base model", "number", low=1, high=1e15)

VARIANTS = (
    Variant("params", "trainable parameters of LoRA on chosen projections, and their fraction of the model", (
        _D, _L, _R, _TARGETS, _DKV, _DFF, _N,
        Given("bias", "whether the adapted layers' biases are trained too (then each adapted layer trains "
              "2dr + d parameters, as the course's LoRA notes count them)", "choice",
              choices=("frozen", "trained"), default="frozen"))),
    Variant("memory", "training memory (weights, gradients, Adam states) of full fine-tuning against LoRA", (
        _D, _L, _R, _TARGETS, _DKV, _DFF, _N,
        Given("precision", "mixed: 16-bit weights and gradients, fp32 master copy and Adam moments; fp32: "
              "everything in fp32", "choice", choices=tuple(PRECISIONS)))),
    Variant("qlora", "QLoRA: the frozen base in 4-bit NF4 with block-wise absmax constants, double quantization", (
        Given("params", "parameters of the base model quantized to NF4", "number", low=1, high=1e15),
        Given("block", "weights per block sharing one absmax constant", "integer", low=1, high=4096),
        Given("double_quant", "no: one fp32 constant per block; yes: 8-bit constants, one fp32 constant per "
              "block2 of them", "choice", choices=("no", "yes")),
        Given("block2", "first-level constants per fp32 second-level constant (double quantization)", "integer",
              default=256, low=1, high=4096),
        Given("kept_params", "parameters kept in 16 bits (embeddings, output head, norms)", "number", default=0,
              low=0, high=1e15),
        Given("lora_params", "LoRA adapter parameters, stored in 16 bits", "number", default=0, low=0,
              high=1e15))),
)


def shapes(g: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(name, d_in, d_out) of every adapted matrix in one layer."""
    d = int(g["d_model"])
    return list(_shapes(g["targets"], d, int(g.get("d_kv") or d), int(g.get("d_ff") or 0)))


@lru_cache(maxsize=4096)
def _shapes(targets: str, d: int, dkv: int, dff: int) -> tuple[tuple[str, int, int], ...]:
    table = {"q": (d, d), "k": (d, dkv), "v": (d, dkv), "o": (d, d), "up": (d, dff), "down": (dff, d)}
    return tuple((t, *table[t]) for t in targets.split(","))


def per_matrix(d_in: int, d_out: int, r: int, bias: bool = False) -> int:
    return r * (d_in + d_out) + (d_out if bias else 0)


def trainable(g: dict[str, Any], bias: bool | None = None) -> tuple[int, int]:
    """(per layer, whole model)."""
    b = g.get("bias", "frozen") == "trained" if bias is None else bias
    d = int(g["d_model"])
    layer = _per_layer(g["targets"], d, int(g.get("d_kv") or d), int(g.get("d_ff") or 0), int(g["rank"]), b)
    return layer, layer * int(g["layers"])


@lru_cache(maxsize=4096)
def _per_layer(targets: str, d: int, dkv: int, dff: int, r: int, bias: bool) -> int:
    """Trainable parameters of one layer, kept per shape: a draw's check, solver, mistakes and sampler all ask
    (issue 12)."""
    return sum(per_matrix(i, o, r, bias) for _, i, o in _shapes(targets, d, dkv, dff))


_SPECS = {v.name: v for v in VARIANTS}


def _check(variant: str, g: dict[str, Any]) -> None:
    check(_SPECS[variant], g)
    if variant == "qlora":
        if g.get("double_quant") not in ("no", "yes"):
            raise InvalidGivens("double_quant must be 'no' or 'yes'")
        return
    if g["targets"] not in TARGETS:
        raise InvalidGivens(f"targets must be one of {', '.join(TARGETS)}")
    if "up" in g["targets"] and not g.get("d_ff"):
        raise InvalidGivens("adapting up/down needs d_ff")
    if trainable(g)[1] >= float(g["model_params"]):
        raise InvalidGivens("the adapters would have more parameters than the model")


def _exact(x: Any) -> int | Fraction:
    """A given as the exact decimal it is written as (`Fraction(str(x))`), as an int when it is whole.

    Issue 12: a whole value stays an int, so the solvers' exact products are integer products, and a key's float
    is one correctly rounded int / int division, the very float the Fraction would give (`Fraction.__float__`
    divides its numerator by its denominator)."""
    if type(x) is int:
        return x
    if type(x) is float and x.is_integer() and -2**52 < x < 2**52:
        return int(x)  # what Fraction(str(x)) gives: repr writes such a float as its exact integer
    exact = decimal(x)
    return exact.numerator if exact.denominator == 1 else exact




# ---- solvers ---------------------------------------------------------------------------------------


def _count_steps(g: dict[str, Any]) -> list[Step]:
    r, bias = int(g["rank"]), g.get("bias", "frozen") == "trained"
    rows = []
    for name, i, o in shapes(g):
        extra = f" + {o}" if bias else ""
        rows.append(rf"W_{{{name}}}\ ({i} \times {o}) &: {r} \times ({i} + {o}){extra} = "
                    rf"{per_matrix(i, o, r, bias)}")
    layer, total = trainable(g)
    what = (r"A matrix $d_{\text{in}} \times d_{\text{out}}$ gets $A$ ($d_{\text{in}} \times r$) and $B$ "
            r"($r \times d_{\text{out}}$): $r\,(d_{\text{in}} + d_{\text{out}})$ trainable parameters"
            + (r", plus its bias of $d_{\text{out}}$" if bias else "") + ":")
    return [Step(what, r"\begin{aligned}" + r"\\ ".join(rows) + r"\end{aligned}"),
            *([Step("Per layer, the adapted matrices together:",
                    " + ".join(str(per_matrix(i, o, r, bias)) for _, i, o in shapes(g)) + f" = {layer}")]
              if len(shapes(g)) > 1 else []),
            Step(f"Per layer ${layer}$; over $N_{{\\text{{layer}}}} = {g['layers']}$ layers:",
                 rf"{layer} \times {g['layers']} = {total}")]


def _percent(g: dict[str, Any]) -> tuple[int, int, int | Fraction, float | Fraction]:
    """(per layer, total, model parameters, the adapters' share in percent: exact, or the correctly rounded float
    of it where the model's parameters are whole)."""
    layer, total = trainable(g)
    n = _exact(g["model_params"])
    return layer, total, n, total * 100 / n


def _solve_params(g: dict[str, Any]) -> Solution:
    layer, total, n, pct = _percent(g)

    def steps() -> tuple[Step, ...]:  # built when first read (issue 12)
        return (*_count_steps(g),
                Step("As a share of the base model:",
                     rf"\frac{{{total}}}{{{nf.sig(n, 6)}}} \times 100\,\% = {nf.sig(pct, 6)}\,\%"))
    parts = (Part("per_layer", "trainable parameters per layer", Answer("integer", layer)),
             Part("total", "trainable parameters", Answer("integer", total)),
             Part("percent", "share of the model", Answer("number", float(pct), unit="percent", sig=3)))
    return Solution(parts, steps)


def _solve_memory(g: dict[str, Any]) -> Solution:
    _, p = trainable(g)
    n = _exact(g["model_params"])
    w, extra = PRECISIONS[g["precision"]]
    full = n * (w + extra)
    lora = (n + p) * w + p * extra

    def steps() -> tuple[Step, ...]:  # built when first read (issue 12)
        gb = lambda b: nf.sig(b / BYTES_PER_GB, 6)  # noqa: E731
        per = ("2 bytes (16-bit weight) + 2 (16-bit gradient) + 4 (fp32 master copy) + 8 (two fp32 Adam moments)"
               if g["precision"] == "mixed" else "4 bytes (weight) + 4 (gradient) + 8 (two Adam moments)")
        return (*_count_steps(g),
                Step(f"A trained parameter costs {per} $= {w + extra}$ bytes; a frozen one only its weight, "
                     f"${w}$ bytes."),
                Step("Full fine-tuning trains every parameter:",
                     rf"{nf.sig(n, 6)} \times {w + extra}\ \text{{B}} = {gb(full)}\ \text{{GB}}"),
                Step("LoRA: every weight (base and adapters) plus the training state of the adapters:",
                     rf"({nf.sig(n, 6)} + {p}) \times {w} + {p} \times {extra} = {nf.sig(lora, 6)}\ \text{{B}} = "
                     rf"{gb(lora)}\ \text{{GB}}"),
                Step("Ratio of the unrounded totals:",
                     rf"\frac{{{gb(full)}}}{{{gb(lora)}}} = {nf.sig(full / lora, 4)}"))
    parts = (Part("trainable", "LoRA trainable parameters", Answer("integer", p)),
             Part("full", "memory, full fine-tuning", Answer("number", float(full / BYTES_PER_GB), unit="GB", sig=3)),
             Part("lora", "memory, LoRA", Answer("number", float(lora / BYTES_PER_GB), unit="GB", sig=3)),
             Part("ratio", "full / LoRA", Answer("number", float(full / lora), sig=3)))
    return Solution(parts, steps)


@lru_cache(maxsize=1024)
def qlora_bits(block: int, double_quant: bool, block2: int) -> Fraction:
    """Bits per quantized weight: 4 (NF4) plus its share of the block constants."""
    if double_quant:
        return NF4_BITS + Fraction(8, block) + Fraction(32, block * block2)
    return NF4_BITS + Fraction(32, block)


def _solve_qlora(g: dict[str, Any]) -> Solution:
    n = _exact(g["params"])
    block, dq, block2 = int(g["block"]), g["double_quant"] == "yes", int(g.get("block2", 256))
    kept, adapters = _exact(g.get("kept_params", 0)), _exact(g.get("lora_params", 0))
    bits = qlora_bits(block, dq, block2)
    # base = n * bits / 8 = base_top / base_bottom; every float below is one division of the exact quantities
    base_top, base_bottom = n * bits.numerator, 8 * bits.denominator
    parts = [Part("bits_per_param", "bits per quantized weight", Answer("number", float(bits), unit="bit", sig=4)),
             Part("base", "quantized base",
                  Answer("number", float(base_top / (base_bottom * BYTES_PER_GB)), unit="GB", sig=3)),
             Part("ratio", "16-bit size / NF4 size", Answer("number", float(16 * bits.denominator / bits.numerator),
                                                              sig=3))]
    if kept or adapters:
        total_top = base_top + 2 * (kept + adapters) * base_bottom
        parts.append(Part("total", "stored model",
                          Answer("number", float(total_top / (base_bottom * BYTES_PER_GB)), unit="GB", sig=3)))

    def steps() -> tuple[Step, ...]:  # built when first read (issue 12)
        base = n * bits / 8
        total = base + 2 * (kept + adapters)
        constants = (rf"\frac{{8}}{{{block}}} + \frac{{32}}{{{block} \times {block2}}}" if dq
                     else rf"\frac{{32}}{{{block}}}")
        gb = lambda b: nf.sig(b / BYTES_PER_GB, 6)  # noqa: E731
        shown = (Step("Each weight takes 4 bits, plus its share of the constants of its block"
                      + (" (8-bit constants, and one fp32 constant per " f"{block2} of those)" if dq
                         else " (one fp32 constant)") + ":",
                      rf"4 + {constants} = {nf.sig(bits, 6)}\ \text{{bits}}"),
                 Step("The quantized base:", rf"{nf.sig(n, 6)} \times {nf.sig(bits, 6)} / 8 = {gb(base)}\ \text{{GB}}"),
                 Step("Against 16 bits per weight:", rf"\frac{{16}}{{{nf.sig(bits, 6)}}} = {nf.sig(16 / bits, 4)}"))
        if not (kept or adapters):
            return shown
        extra = (rf"({nf.sig(kept, 6)} + {nf.sig(adapters, 6)})" if kept and adapters
                 else nf.sig(kept or adapters, 6))
        return shown + (Step("Plus the 16-bit (2-byte) parameters"
                             + (", kept and adapters:" if kept and adapters else ":"),
                             rf"{gb(base)} + 2 \times {extra} / 10^9 = {gb(total)}\ \text{{GB}}"),)
    return Solution(tuple(parts), steps)


_SOLVERS = {"params": _solve_params, "memory": _solve_memory, "qlora": _solve_qlora}


def solve(variant: str, givens: dict[str, Any]) -> Solution:
    _check(variant, givens)
    return _SOLVERS[variant](givens)


# ---- sampling --------------------------------------------------------------------------------------

HEAD_DIM = 128
WIDTHS = (2048, 2560, 3072, 4096, 5120, 6144, 7168, 8192, 12288)
RANKS = (1, 2, 4, 8, 16, 32, 64, 128)


def _round_ratio(x: Fraction, times: int, over: int) -> int:
    """round(x * times / over) as Python rounds a Fraction (half to even), in integers."""
    whole, rest = divmod(x.numerator * times, x.denominator * over)
    twice, unit = 2 * rest, x.denominator * over
    return whole + 1 if twice > unit or twice == unit and whole % 2 else whole


def _model(rng: Rng, difficulty: str, targets: tuple[str, ...]) -> dict[str, Any]:
    """A decoder shape: d, L, GQA key/value width (medium and hard), d_ff, and its parameter count (12 L d²
    for attention and a 4d MLP scaled to its d_ff, plus a vocabulary of 32k to 256k embeddings), to 3 figures."""
    d = rng.choice(WIDTHS)
    layers = rng.randint(12, 96)
    heads = d // HEAD_DIM
    kv = heads if difficulty == "easy" else rng.choice(tuple(h for h in (1, 2, 4, 8) if h < heads))
    dff = 256 * _round_ratio(rng.decimal(2.5, 4, 2), d, 256)
    vocab = rng.randint(32, 256) * 1000
    exact = layers * (2 * d * d + 2 * d * kv * HEAD_DIM + 3 * d * dff) + vocab * d
    n = float(f"{exact:.2e}")
    return {"d_model": d, "layers": layers, "rank": rng.choice(RANKS), "targets": rng.choice(targets),
            "d_kv": kv * HEAD_DIM if kv != heads else 0, "d_ff": dff, "model_params": n}


def _sample_qlora(rng: Rng, difficulty: str) -> dict[str, Any]:
    n = rng.decimal(1, 99.999, 3) if difficulty == "easy" else rng.decimal(0.5, 199.99, 2)
    g = {"params": n.numerator * 10**9 / n.denominator, "block": rng.choice((32, 64, 128, 256)),
         "double_quant": "no" if difficulty == "easy" else rng.choice(("no", "yes")) if difficulty == "medium"
         else "yes", "block2": rng.choice((128, 256, 512)) if difficulty == "hard" else 256,
         "kept_params": 0, "lora_params": 0}
    if difficulty != "easy":  # embeddings and head kept in 16 bits; hard also stores the adapters
        kept = rng.decimal(0.01, 2, 2)
        g["kept_params"] = kept.numerator * 10**9 / kept.denominator  # float(kept * 10^9): one rounded division
    if difficulty == "hard":
        g["lora_params"] = float(rng.randint(1, 999) * 10**5)
    return g


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    if variant == "qlora":
        return _sample_qlora(rng, difficulty)
    if difficulty == "easy":
        targets = ("q", "v", "q,v")
    elif difficulty == "medium":
        targets = ("q,v", "q,k,v,o")
    else:
        targets = ("q,k,v,o", "q,k,v,o,up,down")
    g = _model(rng, difficulty, targets)
    if "up" not in g["targets"]:
        g["d_ff"] = 0
    if variant == "params":
        g["bias"] = "trained" if difficulty == "hard" and rng.randint(0, 1) else "frozen"
    else:
        g["precision"] = "fp32" if difficulty == "easy" else rng.choice(tuple(PRECISIONS))
    if trainable(g)[1] * 20 > g["model_params"]:
        raise Rejected("adapters over 5% of the model: not a LoRA setting")
    return g


# ---- student paths and mistakes ----------------------------------------------------------------------


def _ratio_of_reported(variant: str, g: dict[str, Any], solution: Solution) -> float:
    return each(lambda full, lora: nf.held(full / lora, 3), nf.held(solution.value("full"), 3),
                nf.held(solution.value("lora"), 3))


def _total_of_reported(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    """The total from the base as reported (3 figures) plus the 16-bit parameters."""
    if not g.get("kept_params") and not g.get("lora_params"):
        return None
    extra = 2 * (float(g["kept_params"]) + float(g["lora_params"])) / BYTES_PER_GB
    return each(lambda base: nf.held(base + extra, 3), nf.held(solution.value("base"), 3))


def _bits_rounded(variant: str, g: dict[str, Any], solution: Solution) -> float:
    """The base from the bits per weight as reported (4 figures)."""
    return each(lambda bits: nf.held(float(g["params"]) * bits / 8 / BYTES_PER_GB, 3),
                nf.held(solution.value("bits_per_param"), 4))


PATHS = (
    StudentPath("ratio_of_reported_sizes", "ratio", "The ratio of the two memories as reported (3 significant "
                "figures each).", ("memory",), _ratio_of_reported),
    StudentPath("base_from_reported_bits", "base", "The base size from the bits per weight as reported (4 "
                "significant figures).", ("qlora",), _bits_rounded),
    StudentPath("total_from_reported_base", "total", "The total from the base size as reported plus the 16-bit "
                "parameters.", ("qlora",), _total_of_reported),
)


def _one_factor(variant: str, g: dict[str, Any], solution: Solution) -> int:
    return sum(int(g["rank"]) * max(i, o) for _, i, o in shapes(g))


def _square_kv(variant: str, g: dict[str, Any], solution: Solution) -> int | None:
    if not g.get("d_kv") or not set(g["targets"].split(",")) & {"k", "v"}:
        return None
    return trainable({**g, "d_kv": 0})[0]


def _bias_forgotten(variant: str, g: dict[str, Any], solution: Solution) -> int | None:
    return trainable(g, bias=False)[0] if g.get("bias") == "trained" else None


def _frozen_states_counted(variant: str, g: dict[str, Any], solution: Solution) -> float:
    """LoRA memory with the gradients and optimizer states of every parameter, as in full fine-tuning."""
    p = solution.value("trainable")
    n = float(g["model_params"])
    return (n + p) * sum(PRECISIONS[g["precision"]]) / BYTES_PER_GB


def _no_master(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    if g["precision"] != "mixed":
        return None
    return float(g["model_params"]) * 12 / BYTES_PER_GB


MISTAKES = (
    Mistake("one_factor_only", "per_layer", "Only one of the two factors was counted: A (d_in × r) and B (r × "
            "d_out) are both trained, r (d_in + d_out) per matrix.", ("params",), _one_factor),
    Mistake("kv_as_square", "per_layer", "The key and value projections were taken as d × d; with grouped-query "
            "attention they are d × d_kv.", ("params",), _square_kv),
    Mistake("bias_forgotten", "per_layer", "The trained biases (d_out per adapted matrix) were left out.",
            ("params",), _bias_forgotten),
    Mistake("percent_as_fraction", "percent", "The share was given as a fraction, not in percent.", ("params",),
            lambda v, g, s: s.value("percent") / 100),
    Mistake("states_for_frozen_weights", "lora", "Gradients and optimizer states were counted for the frozen "
            "weights too: LoRA keeps them only for the adapters.", ("memory",), _frozen_states_counted),
    Mistake("master_copy_forgotten", "full", "The fp32 master copy of mixed-precision training (4 B per trained "
            "parameter) was left out: 12 B instead of 16 B.", ("memory",), _no_master),
    Mistake("constants_forgotten", "base", "The block constants were left out: only 4 bits per weight.",
            ("qlora",), lambda v, g, s: float(g["params"]) * 4 / 8 / BYTES_PER_GB),
    Mistake("second_level_forgotten", "bits_per_param", "With double quantization the fp32 second-level constants "
            "(32 bits per block × block2 weights) count too.", ("qlora",),
            lambda v, g, s: 4 + 8 / int(g["block"]) if g["double_quant"] == "yes" else None),
)

TOPIC = Topic(
    name="lora",
    description="LoRA: trainable parameters, training memory against full fine-tuning, QLoRA storage",
    variants=VARIANTS,
    sample=sample,
    solve=solve,
    mistakes=MISTAKES,
    paths=PATHS,
)
