"""FLOPs of one transformer block by component (seed 001's block table; Narayanan et al. 2021, Section 5.1).

For a batch of B sequences of L tokens, model dimension D = n_h × H, MLP width 4D, an FMA counted as 2 FLOPs:
    Q, K, V projections     3 × 2BLD²  = 6BLD²
    scores Q_i K_iᵀ         n_h × 2BL²H = 2BL²D
    weighted sum score_i V_i  2BL²D
    output projection       2BLD²
    MLP (D×4D, 4D×D)        16BLD²
    forward                 24BLD² + 4BL²D          (Narayanan et al. 2021: 24Bsh² + 4Bs²h per layer)
    training                3 × forward (the backward takes two products of each forward product's size)
Softmax, scaling, masking, layer norms and residuals are not counted.
"""

from __future__ import annotations

from typing import Any

from exgen import numfmt as nf
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Mistake, StudentPath, Variant
from exgen.topics.compute.common import EXACT_BELOW, SIG, _flop, _from_shown

COMPONENTS = ("qkv", "scores", "values", "out", "mlp")


def block_flops(b: int, length: int, d: int) -> dict[str, int]:
    f = {"qkv": 6 * b * length * d * d, "scores": 2 * b * length**2 * d, "values": 2 * b * length**2 * d,
         "out": 2 * b * length * d * d, "mlp": 16 * b * length * d * d}
    forward = sum(f.values())
    return {**f, "forward": forward, "training": 3 * forward}


VARIANTS = (
    Variant("attention", "FLOPs of a transformer block by component (QKV, L^2 D score and value products, output "
            "projection, MLP), the score tensor's size, forward and training", (
                Given("batch", "sequences in the batch B", "integer", low=1, high=10**4),
                Given("seq_len", "tokens per sequence L", "integer", low=1, high=10**6),
                Given("d_model", "model dimension D = n_h H", "integer", low=1, high=10**5),
                Given("heads", "attention heads n_h (dividing D)", "integer", low=1, high=10**4))),
)


def check(variant: str, g: dict[str, Any]) -> None:
    if int(g["d_model"]) % int(g["heads"]):
        raise InvalidGivens("heads must divide d_model (D = n_h H)")


def _solve_attention(g: dict[str, Any]) -> Solution:
    b, length, d, h = (int(g[k]) for k in ("batch", "seq_len", "d_model", "heads"))
    f = block_flops(b, length, d)
    hd = d // h
    exact = f["training"] < EXACT_BELOW
    bl = rf"{b} \times {length}" if b > 1 else f"{length}"
    s = lambda x: nf.sig(x, 7)  # noqa: E731
    attention = f["scores"] + f["values"]

    def steps() -> tuple[Step, ...]:
        return (
            Step(f"The head dimension is $H = D / n_h = {d} / {h} = {hd}$. Each output entry of a product is a dot "
                 "product: one FMA, 2 FLOPs, per term."),
            Step("$Q, K, V$: three $(BL \\times D)(D \\times D)$ products:",
                 rf"3 \times 2BLD^2 = 6 \times {bl} \times {d}^2 = {s(f['qkv'])}"),
            Step("Scores: for each of the $B n_h$ (sequence, head) pairs, $Q_i K_i^\\top$ is $(L \\times H)(H \\times "
                 "L)$; the $n_h$ heads together make $H n_h = D$:",
                 rf"n_h \times 2BL^2H = 2BL^2D = 2 \times {bl} \times {length} \times {d} = {s(f['scores'])}"),
            Step("Weighted sum $\\text{score}_i V_i$: $(L \\times L)(L \\times H)$ per head, the same count:",
                 rf"2BL^2D = {s(f['values'])}"),
            Step("Output projection $ZW^O$ and the MLP ($D \\times 4D$ then $4D \\times D$):",
                 rf"2BLD^2 = 2 \times {bl} \times {d}^2 = {s(f['out'])}, \quad 2 \times 2BL \cdot D \cdot 4D = 16BLD^2 "
                 rf"= 16 \times {bl} \times {d}^2 = {s(f['mlp'])}"),
            Step("Forward pass of the block:",
                 rf"24BLD^2 + 4BL^2D = {s(f['qkv'] + f['out'] + f['mlp'])} + {s(attention)} = {s(f['forward'])}"),
            Step("The $L^2$ products' share of the forward FLOPs:",
                 rf"\frac{{4BL^2D}}{{24BLD^2 + 4BL^2D}} = \frac{{L}}{{6D + L}} = \frac{{{length}}}{{{6 * d + length}}}"
                 rf" = {nf.sig(100 * attention / f['forward'], 6)}\,\%"),
            Step("Training: the backward pass takes two products of each forward product's size:",
                 rf"3 \times {s(f['forward'])} = {s(f['training'])}"),
            Step("The score tensor holds one $L \\times L$ matrix per sequence and head:",
                 rf"B n_h L^2 = {b} \times {h} \times {length}^2 = {b * h * length**2}"),
        )

    labels = {"qkv": "Q, K, V projections", "scores": "score products", "values": "score-value products",
              "out": "output projection", "mlp": "MLP", "forward": "forward pass", "training": "forward + backward"}
    parts = [Part(k, label, _flop(f[k], exact)) for k, label in labels.items()]
    parts.insert(5, Part("attn_share", "share of the quadratic products", Answer(
        "number", 100 * attention / f["forward"], unit="percent", sig=SIG)))
    parts.append(Part("score_entries", "entries of the score tensor", Answer("integer", b * h * length**2)))
    return Solution(tuple(parts), steps)


SOLVERS = {"attention": _solve_attention}


# ---- sampling --------------------------------------------------------------------------------------


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    """Easy: a small model and batch; harder: batches, and GPT-sized dimensions and contexts."""
    if difficulty == "easy":
        hd = rng.choice((16, 32, 48, 64))
        h = rng.randint(2, 16)
        return {"batch": rng.randint(1, 8), "seq_len": 8 * rng.randint(4, 256), "d_model": h * hd, "heads": h}
    hd = rng.choice((64, 80, 96, 128))
    h = rng.randint(8, 96)
    length = 256 * rng.randint(1, 64) if difficulty == "medium" else 1024 * rng.randint(1, 128)
    return {"batch": rng.randint(1, 64), "seq_len": length, "d_model": h * hd, "heads": h}


# ---- named mistakes --------------------------------------------------------------------------------


def _scores_per_head(v: str, g: dict[str, Any], solution: Solution) -> float:
    """One head's product counted for all heads: 2BL²H instead of 2BL²D."""
    return solution.value("scores") / int(g["heads"])


MISTAKES = (
    Mistake("fma_as_one_flop", "qkv", "Each multiply-add is 2 FLOPs: 3 x 2BLD^2.", ("attention",),
            lambda v, g, s: s.value("qkv") / 2),
    Mistake("one_head_only", "scores", "Each of the n_h heads has its own L x L score matrix: n_h x 2BL^2H = "
            "2BL^2D.", ("attention",), _scores_per_head),
    Mistake("mlp_width_forgotten", "mlp", "The MLP's hidden width is 4D: 2 x 2BL D 4D = 16BLD^2.",
            ("attention",), lambda v, g, s: s.value("mlp") / 4),
    Mistake("quadratic_terms_forgotten", "forward", "The score and value products (4BL^2D) belong to the block "
            "too.", ("attention",), lambda v, g, s: 24 * int(g["batch"]) * int(g["seq_len"]) * int(g["d_model"]) ** 2),
    Mistake("backward_as_forward", "training", "The backward takes twice the forward: 3x in all, not 2x.",
            ("attention",), lambda v, g, s: 2 * s.value("forward")),
    Mistake("heads_forgotten", "score_entries", "There is one L x L score matrix per head and sequence.",
            ("attention",), lambda v, g, s: None if int(g["heads"]) == 1 else int(g["batch"]) * int(g["seq_len"]) ** 2),
)


# ---- student paths ---------------------------------------------------------------------------------


def _training_from_rounded_forward(v: str, g: dict[str, Any], solution: Solution) -> float:
    """Three times the forward FLOPs as answered (the question: the backward takes two products per forward
    product)."""
    return _from_shown(solution, "training", lambda forward: 3 * forward, "forward")


PATHS = (
    StudentPath("training_from_the_rounded_forward", "training", _training_from_rounded_forward.__doc__,
                ("attention",), _training_from_rounded_forward),
)
