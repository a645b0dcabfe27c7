"""FLOPs and time: matmuls, C = 6ND, training time and MFU, transformer parameter counts."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from exgen import numfmt as nf
from exgen.exact import decimal as _f
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Mistake, Rejected, StudentPath, Variant
from exgen.topics.compute.common import (
    EXACT_BELOW, IDEAL_SIG, SECONDS_PER_DAY, SIG, _DIM, _GPUS, _PARAMS, _PEAK, _TOKENS, _days, _flop,
    _from_shown, _scaled)


def matmul_flops(m: int, n: int, p: int, flops_per_fma: int = 2, batch: int = 1) -> dict[str, int]:
    """FLOPs of A x, of Y_i = A B_i for `batch` matrices B_i, of the backward (dA = Σ_i dY_i B_iᵀ, one product
    per item, and every dB_i = Aᵀ dY_i) and of the training step."""
    fma = batch * m * n * p
    return {"matvec": flops_per_fma * m * n, "forward": flops_per_fma * fma,
            "backward": 2 * flops_per_fma * fma, "training": 3 * flops_per_fma * fma}


def training_flops(params: Any, tokens: Any, per_token_per_param: int = 6) -> Fraction:
    return per_token_per_param * _f(params) * _f(tokens)


def training_seconds(flops: Fraction, gpus: int, peak_tflops: Any, mfu_percent: Any) -> Fraction:
    return flops / (gpus * _f(peak_tflops) * 10**12 * _f(mfu_percent) / 100)


def block_params(d_model: int, mlp_ratio: int = 4) -> int:
    """Q, K, V, O projections (D×D each) and the MLP (D×4D, 4D×D): 12 D² for mlp_ratio 4."""
    return 4 * d_model**2 + 2 * mlp_ratio * d_model**2


def model_params(layers: int, d_model: int, vocab: int, embeddings: str, mlp_ratio: int = 4,
                 positions: int = 0) -> int:
    """12LD² (+ VD for a counted tied embedding) + T_ctx·D for a learned position-embedding table."""
    return (layers * block_params(d_model, mlp_ratio) + (vocab * d_model if embeddings == "included" else 0)
            + positions * d_model)


VARIANTS = (
    Variant("matmul", "FLOPs of a matrix-vector product, a matrix product, its backward and a training step", (
        Given("m", "rows of A", **_DIM), Given("n", "columns of A = rows of B", **_DIM),
        Given("p", "columns of B", **_DIM),
        Given("batch", "number b of matrices B_i that A multiplies (Y_i = A B_i)", "integer", default=1, low=1,
              high=10**4))),
    Variant("training_time", "training compute C = 6ND and training time on a cluster at a given MFU",
            (_PARAMS, _TOKENS, _GPUS, _PEAK, Given("mfu", "model FLOPs utilisation in percent", "number",
                                                    unit="percent", low=0.01, high=100))),
    Variant("mfu", "model FLOPs utilisation from an observed training time",
            (_PARAMS, _TOKENS, _GPUS, _PEAK, Given("observed_days", "observed training time", "number",
                                                    unit="day", low=1e-6, high=1e6))),
    Variant("params", "parameter count of a transformer (12 L D^2, embeddings optional) and its training compute", (
        Given("layers", "number of transformer blocks L", "integer", low=1, high=1000),
        Given("d_model", "model dimension D", "integer", low=1, high=10**5),
        Given("vocab", "vocabulary size V", "integer", low=1, high=10**7),
        Given("embeddings", "whether the (tied) token embedding V x D is counted", "choice",
              choices=("excluded", "included")),
        _TOKENS,
        Given("positions", "context length T_ctx of learned position embeddings, a T_ctx x D table counted in N "
              "(0: none, e.g. rotary)", "integer", default=0, low=0, high=10**7))),
)


def _solve_matmul(g: dict[str, Any]) -> Solution:
    m, n, p, b = int(g["m"]), int(g["n"]), int(g["p"]), int(g["batch"])
    f = matmul_flops(m, n, p, batch=b)
    sizes = rf"{m} \times {n} \times {p}" + (rf" \times {b}" if b > 1 else "")
    times_b = "b" if b > 1 else ""

    def steps() -> list[Step]:
        steps = [
            Step("Each output entry is a dot product of length $n$: $n$ multiplications and $n$ additions, i.e. "
                 "$n$ fused multiply-adds (FMAs), each counted as 2 FLOPs."),
            Step(f"Matrix-vector product $Ax$ ($m = {m}$ outputs):",
                 rf"2mn = 2 \times {m} \times {n} = {nf.sig(f['matvec'], 6)}\ \text{{FLOP}}"),
        ]
        if b > 1:
            steps += [
                Step(f"The $b = {b}$ products $Y_i = AB_i$ ($mp$ outputs each):",
                     rf"2mnpb = 2 \times {sizes} = {nf.sig(f['forward'], 6)}\ \text{{FLOP}}"),
                Step(r"Backward: $\partial L/\partial A = \sum_i (\partial L/\partial Y_i) B_i^\top$ takes one product "
                     r"of a single item's size per item ($b$ in all; the sum's additions are ignored), and the $b$ "
                     r"products $\partial L/\partial B_i = A^\top (\partial L/\partial Y_i)$ as many again:",
                     rf"2 \times 2mnpb = 4 \times {sizes} = {nf.sig(f['backward'], 6)}\ \text{{FLOP}}")]
        else:
            steps += [
                Step("Matrix product $AB$ ($mp$ outputs):",
                     rf"2mnp = 2 \times {sizes} = {nf.sig(f['forward'], 6)}\ \text{{FLOP}}"),
                Step(r"Backward: $\partial L/\partial A = (\partial L/\partial Y) B^\top$ and "
                     r"$\partial L/\partial B = A^\top (\partial L/\partial Y)$, two products of the same size:",
                     rf"2 \times 2mnp = 4 \times {sizes} = {nf.sig(f['backward'], 6)}\ \text{{FLOP}}")]
        steps.append(Step("A training step (forward + backward):",
                          rf"6mnp{times_b} = 6 \times {sizes} = {nf.sig(f['training'], 6)}\ \text{{FLOP}}"))
        return steps

    exact = f["training"] < EXACT_BELOW
    parts = tuple(Part(k, label, _flop(f[k], exact)) for k, label in (
        ("matvec", "FLOPs of A x"), ("forward", "FLOPs of A B"), ("backward", "FLOPs of the backward of A B"),
        ("training", "FLOPs of forward + backward")))
    return Solution(parts, steps)


def _cost_steps(g: dict[str, Any], flops: Fraction) -> list[Step]:
    return [Step("Training compute, forward $2ND$ plus backward $4ND$:",
                 rf"C \approx 6ND = 6 \times {nf.sig(g['params'], 6)} \times {nf.sig(g['tokens'], 6)} = "
                 rf"{nf.sig(flops, 6)}\ \text{{FLOP}}")]


def _solve_training_time(g: dict[str, Any]) -> Solution:
    flops = training_flops(g["params"], g["tokens"])
    seconds = training_seconds(flops, int(g["gpus"]), g["peak_tflops"], g["mfu"])
    days = _days(seconds)
    rate = int(g["gpus"]) * _f(g["peak_tflops"]) * 10**12 * _f(g["mfu"]) / 100

    def steps() -> list[Step]:
        return _cost_steps(g, flops) + [
            Step(f"Sustained cluster throughput, {nf.num(g['gpus'])} {nf.plural(g['gpus'], 'GPU')} at {nf.num(g['mfu'])} percent of "
                 f"{nf.num(g['peak_tflops'])} TFLOP/s:",
                 rf"{nf.num(g['gpus'])} \times {nf.num(g['peak_tflops'])} \times 10^{{12}} \times "
                 rf"{nf.num(g['mfu'])}/100 = {nf.sig(rate, 6)}\ \text{{FLOP/s}}"),
            Step("Training time (1 day = 86400 s):",
                 rf"\frac{{{nf.sig(flops, 6)}}}{{{nf.sig(rate, 6)}}} = {nf.sig(seconds, 6)}\ \text{{s}} = "
                 rf"\frac{{{nf.sig(seconds, 6)}}}{{86400}}\ \text{{days}} = {nf.sig(days, 6)}\ \text{{days}}"),
        ]

    return Solution((Part("flops", "training compute C", _flop(flops)),
                     Part("days", "training time", Answer("number", days, unit="day", sig=SIG))), steps)


def _solve_mfu(g: dict[str, Any]) -> Solution:
    flops = training_flops(g["params"], g["tokens"])
    ideal = _days(training_seconds(flops, int(g["gpus"]), g["peak_tflops"], 100))
    mfu = 100 * ideal / float(g["observed_days"])
    if mfu > 100:
        raise InvalidGivens(f"the observed time is shorter than the {float(ideal):.3g} days at peak: no run "
                            "sustains more than 100 % of peak")

    def steps() -> list[Step]:
        return _cost_steps(g, flops) + [
            Step("Time at 100 percent of peak (1 day = 86400 s):",
                 rf"\frac{{{nf.sig(flops, 6)}}}{{{nf.num(g['gpus'])} \times {nf.num(g['peak_tflops'])} \times "
                 rf"10^{{12}}\ \text{{FLOP/s}} \times 86400\ \text{{s/day}}}} = {nf.sig(ideal, 6)}\ \text{{days}}"),
            Step("MFU is the fraction of peak the run sustained: ideal time over observed time.",
                 rf"\text{{MFU}} = 100 \times \frac{{{nf.sig(ideal, 6)}}}{{{nf.num(g['observed_days'])}}} = "
                 rf"{nf.sig(mfu, 6)}\,\%"),
        ]

    return Solution((Part("flops", "training compute C", _flop(flops)),
                     Part("ideal_days", "time at peak", Answer("number", ideal, unit="day", sig=IDEAL_SIG)),
                     Part("mfu", "MFU", Answer("number", mfu, unit="percent", sig=SIG))), steps)


def _solve_params(g: dict[str, Any]) -> Solution:
    layers, d, vocab, emb = int(g["layers"]), int(g["d_model"]), int(g["vocab"]), g["embeddings"]
    positions = int(g.get("positions", 0))
    per_layer = block_params(d)
    n = model_params(layers, d, vocab, emb, positions=positions)
    without = n - positions * d
    flops = training_flops(n, g["tokens"])

    def steps() -> list[Step]:
        steps = [
            Step(f"One block ($D = {d}$): $W^Q, W^K, W^V, W^O$ are $D \\times D$; the MLP has $D \\times 4D$ and "
                 "$4D \\times D$:",
                 rf"4D^2 + 8D^2 = 12D^2 = 12 \times {d}^2 = {per_layer}"),
            Step(f"All {layers} blocks:", rf"12LD^2 = {layers} \times {per_layer} = {layers * per_layer}"),
        ]
        total = "" if positions else "N = "  # with position embeddings, N comes one step later
        if emb == "included":
            steps.append(Step("Plus the tied token embedding, counted once:",
                              rf"{total}12LD^2 + VD = {layers * per_layer} + {vocab} \times {d} = {without}"))
        elif positions:
            steps.append(Step(f"Token embeddings are not counted: $12LD^2 = {without}$."))
        else:
            steps.append(Step(f"Embeddings are not counted, so $N = 12LD^2 = {n}$."))
        if positions:
            steps.append(Step("Plus the learned position embeddings, a $T_{ctx} \\times D$ table:",
                              rf"N = {without} + {positions} \times {d} = {n}"))
        steps.append(Step("Training compute:", rf"C \approx 6NT = 6 \times {n} \times "
                                               rf"{nf.sig(g['tokens'], 6)} = {nf.sig(flops, 6)}\ \text{{FLOP}}"))
        return steps

    return Solution((Part("per_layer", "parameters per block", Answer("integer", per_layer)),
                     Part("params", "parameters N", Answer("integer", n)),
                     Part("train_flops", "training compute", _flop(flops))), steps)


SOLVERS = {"matmul": _solve_matmul, "training_time": _solve_training_time, "mfu": _solve_mfu,
           "params": _solve_params}


# ---- sampling --------------------------------------------------------------------------------------
# Spaces are wide enough that 1,000 draws of any variant × difficulty repeat fewer than 1 % of instances:
# model sizes are continuous (3 or 4 significant figures), GPU counts and peaks vary, and `easy` keeps
# numbers a calculator handles without scientific notation tricks.

# peak dense fp16/bf16 tensor-core TFLOP/s: datasheet figures (exgen.gpus) beside hypothetical GPUs
PEAKS_EASY = (100, 125, 150, 200, 250, 300, 312, 400, 500, 600, 800, 1000)
PEAKS = (125, 312, 989.4, 1979, 2250, 90.5, 137.5, 181, 275, 420, 512, 655.4, 750, 1200, 1500)
GPU_COUNTS_EASY = (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
MAX_CLUSTER = 65536


def _token_count(rng: Rng, difficulty: str) -> float:
    figures = 2 if difficulty == "easy" else 3
    return _scaled(rng.randint(10 ** (figures - 1), 10**figures - 1), rng.randint(
        11 - figures, 13 - figures))


def _sample_run(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    """A plausible run: 100M to 999B parameters, 5 to 200 tokens per parameter, and a cluster of 1 to
    MAX_CLUSTER GPUs sized (a power of two at easy, a multiple of 8 otherwise, from 8 GPUs on) so the run
    takes roughly 3 to 200 days."""
    easy = difficulty == "easy"
    figures = 3 if easy else 4
    params = _scaled(rng.randint(10 ** (figures - 1), 10**figures - 1), rng.randint(
        9 - figures, 12 - figures))
    tokens = nf.round_sig(params * 10 ** (rng.randint(700, 2300) / 1000), 2 if easy else 3)
    peak = rng.choice(PEAKS_EASY if easy else PEAKS)
    mfus = (20, 25, 30, 35, 40, 45, 50, 55, 60) + ((100,) if variant == "training_time" else ())
    mfu = rng.choice(mfus) if easy else float(rng.decimal(20, 65, 1))
    target_days = 10 ** (rng.randint(500, 2300) / 1000)
    wanted = float(training_flops(params, tokens)) / (peak * 1e12 * mfu / 100 * target_days * SECONDS_PER_DAY)
    if not 1 <= wanted <= MAX_CLUSTER:
        raise Rejected("a run for less than one GPU, or for a larger cluster than any built so far")
    if difficulty == "hard":  # stated as nodes of 8 GPUs
        gpus = 8 * max(2, round(wanted / 8))
    else:
        gpus = round(wanted) if wanted < 8 else 2 ** round(math.log2(wanted)) if easy else 8 * round(wanted / 8)
    givens = {"params": params, "tokens": tokens, "gpus": gpus, "peak_tflops": peak}
    if variant == "training_time":
        return {**givens, "mfu": mfu}
    ideal = float(training_seconds(training_flops(params, tokens), gpus, peak, 100)) / SECONDS_PER_DAY
    return {**givens, "observed_days": nf.round_sig(ideal / (mfu / 100), 3)}  # rounded as a report would be


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    easy = difficulty == "easy"
    if variant == "matmul":
        low, high, step = {"easy": (2, 60, 1), "medium": (1, 128, 8), "hard": (1, 256, 64)}[difficulty]
        dims = {k: rng.randint(low, high) * step for k in ("m", "n", "p")}
        return {**dims, "batch": rng.randint(2, 64) if difficulty == "hard" else 1}  # hard: a batch of B_i
    if variant in ("training_time", "mfu"):
        return _sample_run(rng, variant, difficulty)
    if variant == "params":
        layers = rng.randint(2, 48) if easy else rng.randint(8, 128)
        d = 64 * rng.randint(4, 64) if easy else 128 * rng.randint(8, 128)
        return {"layers": layers, "d_model": d,
                "vocab": rng.choice((32000, 32768, 50257, 51200, 65536, 100277, 128256, 151936, 256000)),
                "embeddings": rng.choice(("excluded", "included")), "tokens": _token_count(rng, difficulty),
                **({"positions": rng.choice((0, 1024, 2048, 4096, 8192))} if difficulty == "hard" else {})}
    raise KeyError(variant)


def _fma_one(variant: str, g: dict[str, Any], part: str) -> float:
    return float(matmul_flops(int(g["m"]), int(g["n"]), int(g["p"]), 1, int(g["batch"]))[part])


def _batch_forgotten(variant: str, g: dict[str, Any], part: str) -> int | None:
    """The count of a single product: the batch's b was left out."""
    m, n, p, b = (int(g[k]) for k in ("m", "n", "p", "batch"))
    return None if b == 1 else matmul_flops(m, n, p)[part]


def _weight_gradient_once(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    """dA counted as one product of a single item's size, dB_i for every item: 2mnp + 2mnpb."""
    m, n, p, b = (int(g[k]) for k in ("m", "n", "p", "batch"))
    return None if b == 1 else float(2 * m * n * p + 2 * m * n * p * b)


def _two_nd(variant: str, g: dict[str, Any], solution: Solution, part: str) -> float:
    """2ND instead of 6ND: the compute is a third, the time a third, the MFU a third."""
    return solution.value(part) / 3


def _mfu_forgotten(variant: str, g: dict[str, Any], solution: Solution) -> float | None:
    return None if _f(g["mfu"]) == 100 else solution.value("days") * float(g["mfu"]) / 100


def _mlp_forgotten(variant: str, g: dict[str, Any], solution: Solution) -> int:
    return 4 * int(g["d_model"]) ** 2


def _positions_left_out(variant: str, g: dict[str, Any], solution: Solution) -> int | None:
    positions = int(g.get("positions", 0))
    return solution.value("params") - positions * int(g["d_model"]) if positions else None


def _embeddings_left_out(variant: str, g: dict[str, Any], solution: Solution) -> int | None:
    return 12 * int(g["layers"]) * int(g["d_model"]) ** 2 if g["embeddings"] == "included" else None


MISTAKES = (
    Mistake("fma_as_one_flop", "matvec", "A fused multiply-add was counted as 1 FLOP; it is a multiplication "
            "and an addition, 2 FLOPs: 2mn.", ("matmul",), lambda v, g, s: _fma_one(v, g, "matvec")),
    Mistake("fma_as_one_flop", "forward", "A fused multiply-add was counted as 1 FLOP: the product takes 2mnp.",
            ("matmul",), lambda v, g, s: _fma_one(v, g, "forward")),
    Mistake("backward_as_forward", "backward", "The backward needs two products of the forward's size "
            "(dL/dA and dL/dB): 4mnp, not 2mnp.", ("matmul",), lambda v, g, s: _fma_one(v, g, "backward")),
    Mistake("forward_only", "training", "A training step is forward plus backward: 6mnp, not 2mnp.",
            ("matmul",), lambda v, g, s: float(2 * int(g["m"]) * int(g["n"]) * int(g["p"]) * int(g["batch"]))),
    Mistake("batch_forgotten", "forward", "A multiplies each of the b matrices B_i: b products, 2mnpb.",
            ("matmul",), lambda v, g, s: _batch_forgotten(v, g, "forward")),
    Mistake("weight_gradient_counted_once", "backward", "dL/dA = sum_i dL/dY_i B_i^T is one product per item "
            "(b of them), besides the b products for the dL/dB_i: 4mnpb.", ("matmul",), _weight_gradient_once),
    Mistake("2ND_instead_of_6ND", "flops", "2ND counts the forward pass only; training adds the backward (4ND): "
            "C = 6ND.", ("training_time", "mfu"), lambda v, g, s: _two_nd(v, g, s, "flops")),
    Mistake("2ND_instead_of_6ND", "days", "The time was computed from 2ND (forward only) instead of 6ND.",
            ("training_time",), lambda v, g, s: _two_nd(v, g, s, "days")),
    Mistake("mfu_forgotten", "days", "The cluster runs at the given MFU, not at peak: divide by the MFU too.",
            ("training_time",), _mfu_forgotten),
    Mistake("2ND_instead_of_6ND", "mfu", "The ideal time was computed from 2ND instead of 6ND.",
            ("mfu",), lambda v, g, s: _two_nd(v, g, s, "mfu")),
    Mistake("mlp_forgotten", "per_layer", "The MLP's two matrices (D x 4D and 4D x D, 8D^2) were left out.",
            ("params",), _mlp_forgotten),
    Mistake("embeddings_left_out", "params", "The question counts the tied token embedding (V x D) too.",
            ("params",), _embeddings_left_out),
    Mistake("position_embeddings_left_out", "params", "The learned position embeddings (T_ctx x D) are "
            "parameters too.", ("params",), _positions_left_out),
    Mistake("2ND_instead_of_6ND", "train_flops", "Training compute is 6NT (forward 2NT + backward 4NT).",
            ("params",), lambda v, g, s: _two_nd(v, g, s, "train_flops")),
)


# ---- student paths ---------------------------------------------------------------------------------
# Correct routes from what the page shows; the sampler rejects an instance where one lands outside the
# tolerance.  Memory and ZeRO questions say to work every part from Ψ, which excludes building on a rounded
# earlier answer; the parameter count is asked exactly, so the compute built on it needs no path.


def _backward_from_forward(v: str, g: dict[str, Any], s: Solution) -> float | None:
    return None if s.part("forward").answer.sig is None else _from_shown(s, "backward", lambda f: 2 * f, "forward")


def _training_from_parts(v: str, g: dict[str, Any], s: Solution) -> float | None:
    if s.part("forward").answer.sig is None:
        return None
    return _from_shown(s, "training", lambda f, b: f + b, "forward", "backward")


def _training_from_forward(v: str, g: dict[str, Any], s: Solution) -> float | None:
    return None if s.part("forward").answer.sig is None else _from_shown(s, "training", lambda f: 3 * f, "forward")


def _days_from_rounded_c(v: str, g: dict[str, Any], s: Solution) -> float:
    rate = int(g["gpus"]) * float(g["peak_tflops"]) * 1e12 * float(g["mfu"]) / 100
    return _from_shown(s, "days", lambda c: c / rate / SECONDS_PER_DAY, "flops")


def _ideal_from_rounded_c(v: str, g: dict[str, Any], s: Solution) -> float:
    return _from_shown(s, "ideal_days", lambda c: c / (int(g["gpus"]) * float(g["peak_tflops"]) * 1e12)
                       / SECONDS_PER_DAY, "flops")


def _mfu_from_rounded_ideal(v: str, g: dict[str, Any], s: Solution) -> float:
    return _from_shown(s, "mfu", lambda ideal: 100 * ideal / float(g["observed_days"]), "ideal_days")


PATHS = (
    StudentPath("backward_as_twice_the_rounded_forward", "backward", "The backward is two products of the "
                "forward's size: 2 x the forward count as answered (4 significant figures).", ("matmul",),
                _backward_from_forward),
    StudentPath("training_as_rounded_forward_plus_backward", "training", "Forward plus backward, each as "
                "answered.", ("matmul",), _training_from_parts),
    StudentPath("training_as_three_rounded_forwards", "training", "3 x the forward count as answered.",
                ("matmul",), _training_from_forward),
    StudentPath("days_from_the_rounded_compute", "days", "C as answered (4 significant figures) divided by the "
                "sustained throughput, in days.", ("training_time",), _days_from_rounded_c),
    StudentPath("ideal_days_from_the_rounded_compute", "ideal_days", "C as answered divided by the peak "
                "throughput, in days.", ("mfu",), _ideal_from_rounded_c),
    StudentPath("mfu_from_the_rounded_ideal_time", "mfu", "The time at peak as answered (4 significant "
                "figures) over the observed time.", ("mfu",), _mfu_from_rounded_ideal),
)
