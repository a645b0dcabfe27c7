"""Parallelism: the solvers of the GPipe pipeline (p2p bytes between stages, seed 001), its bubble and the
micro-batches a target needs (Huang et al. 2019), and the 3-D layout GPUs = TP x PP x DP (seed 004)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from exgen import numfmt as nf
from exgen.problem import Answer, Part, Solution, Step
from exgen.topics.parallelism.common import (_b, _bytes, _dtype_step, _on_the_wire, bubble_fraction, exact,
                                             largest_micro_batch, min_micro_batches, monomial, smallest_split)


def _pipeline_numbers(g: dict[str, Any]) -> dict[str, Any]:
    b, m = _bytes(g), g["micro_batches"]
    activation = b * g["batch"] * g["seq_len"] * g["d_model"]
    return {"stages": g["n_layer"] // g["layers_per_stage"], "micro": g["batch"] // m,
            "forward": activation, "message": Fraction(activation, m)}


def _solve_pipeline(g: dict[str, Any]) -> Solution:
    x = _pipeline_numbers(g)
    n, k, bsz, seq, d, m, b = (g["n_layer"], g["layers_per_stage"], g["batch"], g["seq_len"], g["d_model"],
                               g["micro_batches"], _bytes(g))

    def steps() -> tuple[Step, ...]:
        return (
            _dtype_step(g),
            Step(f"Stages: $N_{{\\text{{layer}}}} / {k} = {n} / {k} = {x['stages']}$."),
            Step(f"The batch $({bsz}, {seq}, {d})$ is split along the batch dimension into $m = {m}$ micro-batch{'es' if m != 1 else ''} "
                 f"of shape $(B/m, L, D) = ({bsz}/{m}, {seq}, {d}) = ({x['micro']}, {seq}, {d})$; one message, the "
                 "activations of one micro-batch:",
                 rf"{b} \cdot \frac{{B}}{{m}} L D = {b} \times {x['micro']} \times {seq} \times {d} = "
                 rf"{nf.sig(x['message'], 6)}\ \text{{B}}"),
            Step(f"Forward: stage $i$ sends stage $i+1$ the output activations of its {'last ' if k != 1 else ''}layer, "
                 "one message per micro-batch:",
                 rf"m \times {b} \cdot \frac{{B}}{{m}} L D = {m} \times {nf.sig(x['message'], 6)} = {b} \times {bsz} "
                 rf"\times {seq} \times {d} = {nf.sig(x['forward'], 6)}\ \text{{B}}"),
            Step("Backward: stage $i+1$ sends stage $i$ the gradient of those activations, the same shape, so the "
                 f"same ${nf.sig(x['forward'], 6)}$ B; both directions together:",
                 rf"2 \times {nf.sig(x['forward'], 6)}\ \text{{B}} = {nf.sig(2 * x['forward'], 6)}\ \text{{B}}"),
        )
    parts = (
        Part("stages", "number of stages", Answer("integer", x["stages"])),
        Part("micro_shape", "micro-batch shape", Answer("vector", [x["micro"], seq, d])),
        Part("message_bytes", "bytes of one forward message", _b(x["message"])),
        Part("forward_bytes", "bytes i to i+1, forward", _b(x["forward"])),
        Part("backward_bytes", "bytes i+1 to i, backward", _b(x["forward"])),
        Part("total_bytes", "bytes both directions", _b(2 * x["forward"])),
        Part("forward_expr", "forward bytes as an expression",
             Answer("expression", monomial(b, B=1, L=1, D=1))),
    )
    return _on_the_wire(g, Solution(parts, steps), x["forward"], "the forward bytes of all micro-batches",
                        "Stage $i$ sends to stage $i+1$ over one link, so")


def _solve_bubble(g: dict[str, Any]) -> Solution:
    p, m, f = g["stages"], g["micro_batches"], exact(g["target"])
    bubble = bubble_fraction(p, m)
    m_min = min_micro_batches(p, f)
    split = smallest_split(m_min, g["batch"])

    def steps() -> tuple[Step, ...]:
        return (
            Step(f"With $p = {p}$ stages and $m = {m}$ micro-batch{'es' if m != 1 else ''}, a pass (forward or backward) takes $m + p - 1$ "
                 "slots of one micro-batch's stage time; each stage works in $m$ of them and idles in $p - 1$:",
                 rf"\frac{{p-1}}{{m+p-1}} = \frac{{{p - 1}}}{{{m + p - 1}}} = {nf.sig(bubble, 6)}"),
            Step(f"For a bubble of at most ${nf.num(g['target'])}$:",
                 rf"\frac{{p-1}}{{m+p-1}} \le f \iff m \ge \frac{{(p-1)(1-f)}}{{f}} = "
                 rf"{nf.sig(Fraction(p - 1) * (1 - f) / f, 6)} \implies m \ge {m_min}"),
        ) + ((Step(f"The {g['batch']} sequences must split into equal micro-batches, so $m$ divides {g['batch']}: the "
                   f"smallest divisor of {g['batch']} that is at least {m_min}:",
                   rf"m = \min\{{m' : m' \mid {g['batch']},\ m' \ge {m_min}\}} = {split}"),) if g["batch"] else ())
    parts = (
        Part("bubble", "bubble fraction", Answer("number", float(bubble), sig=3)),
        Part("min_micro_batches", "smallest m for the target", Answer("integer", split)),
    )
    return Solution(parts, steps)


def _layout_numbers(g: dict[str, Any]) -> dict[str, Any]:
    dp = g["gpus"] // (g["tp"] * g["pp"])
    m = g["global_batch"] // (dp * g["micro_batch"])
    return {"dp": dp, "layers": g["n_layer"] // g["pp"], "m": m, "bubble": bubble_fraction(g["pp"], m)}


def _layout_target(g: dict[str, Any], x: dict[str, Any]) -> tuple[Any, tuple[Part, ...]]:
    """Hard twist: the largest micro-batch size that keeps the bubble at most the target (its step built on read)."""
    if not g.get("target"):
        return tuple, ()
    f = exact(g["target"])
    replica, need = g["global_batch"] // x["dp"], min_micro_batches(g["pp"], f)
    size = largest_micro_batch(replica, need)

    def steps() -> tuple[Step, ...]:
        bound = nf.sig((g["pp"] - 1) * (1 - f) / f, 6)
        return (Step(f"For a bubble of at most $f = {nf.num(g['target'])}$ a replica needs $m \\ge (p-1)(1-f)/f = "
                     f"{g['pp'] - 1} \\times (1 - {nf.num(g['target'])}) / {nf.num(g['target'])} = {bound}$, i.e. at "
                     f"least {need} micro-batches of its ${g['global_batch']} / {x['dp']} = {replica}$ sequences, so a "
                     f"micro-batch holds at most ${replica} / {need} = {nf.sig(Fraction(replica, need), 6)}$ "
                     f"sequences and must divide {replica}:",
                     rf"b = \max\{{b' : b' \mid {replica},\ b' \le {nf.sig(Fraction(replica, need), 6)}\}} = {size}"),)
    return steps, (Part("max_micro_batch", "largest micro-batch size for the target", Answer("integer", size)),)


def _solve_layout(g: dict[str, Any]) -> Solution:
    x = _layout_numbers(g)
    twist_steps, twist_parts = _layout_target(g, x)

    def steps() -> tuple[Step, ...]:
        return (
            Step("Every GPU has one coordinate in each of the three dimensions, so "
                 r"$\text{GPUs} = \text{TP} \times \text{PP} \times \text{DP}$:",
                 rf"\text{{DP}} = \frac{{{g['gpus']}}}{{{g['tp']} \times {g['pp']}}} = {x['dp']}"),
            Step(f"{'Each of the ' + str(g['pp']) + ' stages holds' if g['pp'] != 1 else 'The one stage holds'} "
                 f"${g['n_layer']} / {g['pp']} = {x['layers']}$ layer{'s' if x['layers'] != 1 else ''}."),
            Step("Each data-parallel replica (one pipeline) processes $\\text{global batch} / \\text{DP}$ sequences "
                 "in micro-batches:",
                 rf"m = \frac{{{g['global_batch']}}}{{{x['dp']} \times {g['micro_batch']}}} = {x['m']}"),
            Step("GPipe bubble:", rf"\frac{{p-1}}{{m+p-1}} = \frac{{{g['pp'] - 1}}}{{{x['m'] + g['pp'] - 1}}} "
                                  rf"= {nf.sig(x['bubble'], 6)}"),
        )
    parts = (
        Part("dp", "data-parallel degree", Answer("integer", x["dp"])),
        Part("layers_per_stage", "layers per stage", Answer("integer", x["layers"])),
        Part("micro_batches", "micro-batches per pipeline", Answer("integer", x["m"])),
        # no pipeline (PP = 1) has no bubble: a key of 0 is asked to decimals (DESIGN.md, "Answers")
        Part("bubble", "bubble fraction", Answer("number", float(x["bubble"]), **({"sig": 3} if x["bubble"] else
                                                                                  {"decimals": 3}))),
    )
    return Solution(parts + twist_parts, (lambda: steps() + twist_steps()) if twist_parts else steps)
