"""Parallelism: the solver of the course's Homework 2 Q2 (seed 001): bytes of DP, PP, TP and FSDP, numeric and
symbolic."""

from __future__ import annotations

from typing import Any

from exgen import numfmt as nf
from exgen.problem import Answer, Part, Solution, Step
from exgen.topics.parallelism.common import _b, _bytes, _dtype_step, monomial, param_count


# The symbols the question offers for every formula: a formula's own (DP uses N_layer and D) are not told apart,
# so writing B/B is still an answer, and the answer sheet does not give away which ones a formula needs.
SYMBOLS = ("N_layer", "B", "L", "D")


def _formula(text: str) -> Answer:
    return Answer("expression", text, choices=SYMBOLS)


def _solve_homework2(g: dict[str, Any]) -> Solution:
    n, bsz, seq, d, b = g["n_layer"], g["batch"], g["seq_len"], g["d_model"], _bytes(g)
    k = g.get("layers_per_stage", 4)
    psi = b * param_count(n, d)
    gathers = 1 if g["convention"] == "once" else 2
    act = b * bsz * seq * d
    tp = 4 * n * act
    c12, c4 = 12 * b, 4 * b

    def steps() -> tuple[Step, ...]:
        return (
            _dtype_step(g),
            Step("Data parallelism: the AllReduce after the backward pass aggregates every gradient once:",
                 rf"{b} \times N_{{\text{{layer}}}} (D^2 + D^2 + D^2 + D^2 + 4D^2 + 4D^2) = {c12} N_{{\text{{layer}}}} "
                 rf"D^2 = {c12} \times {n} \times {d}^2 = {nf.sig(psi, 6)}\ \text{{B}}"),
            Step(f"Pipeline parallelism (GPipe, {k} layer{'s' if k != 1 else ''} per stage): forward, stage $i$ sends stage $i+1$ the "
                 "activations; backward, stage $i+1$ sends stage $i$ their gradients; each direction:",
                 rf"{b} B L D = {b} \times {bsz} \times {seq} \times {d} = {nf.sig(act, 6)}\ \text{{B}}"),
            Step("Tensor parallelism: per layer one AllReduce for attention and one for the MLP in the forward pass, "
                 "the same in the backward pass:",
                 rf"N_{{\text{{layer}}}} \times 4 \times {b} B L D = {c4} N_{{\text{{layer}}}} B L D "
                 rf"= {c4} \times {n} \times {bsz} \times {seq} \times {d} = {nf.sig(tp, 6)}\ \text{{B}}"),
            Step("Fully sharded data parallelism, AllGather of the parameters counted once (as the question states) "
                 "and ReduceScatter of the gradients once:",
                 rf"{c12} N_{{\text{{layer}}}} D^2 = {c12} \times {n} \times {d}^2 = {nf.sig(psi, 6)}\ \text{{B each}}")
            if gathers == 1 else
            Step("Fully sharded data parallelism, the parameters freed after each layer's forward computation: the "
                 "AllGather runs in the forward and again in the backward pass (the ReduceScatter of the gradients "
                 "once, the DP bytes above):",
                 rf"2 \times {c12} N_{{\text{{layer}}}} D^2 = {2 * c12} \times {n} \times {d}^2 = "
                 rf"{nf.sig(2 * psi, 6)}\ \text{{B}}"),
        )
    parts = (
        Part("dp_bytes", "DP AllReduce bytes", _b(psi)),
        Part("dp_expr", "DP as an expression", _formula(monomial(c12, N_layer=1, D=2))),
        Part("pp_bytes", "PP bytes per direction", _b(act)),
        Part("pp_expr", "PP as an expression", _formula(monomial(b, B=1, L=1, D=1))),
        Part("tp_bytes", "TP AllReduce bytes", _b(tp)),
        Part("tp_expr", "TP as an expression", _formula(monomial(c4, N_layer=1, B=1, L=1, D=1))),
        Part("allgather_bytes", "FSDP AllGather bytes", _b(gathers * psi)),
        Part("reducescatter_bytes", "FSDP ReduceScatter bytes", _b(psi)),
        Part("fsdp_expr", "FSDP AllGather as an expression",
             _formula(monomial(gathers * c12, N_layer=1, D=2))),
    )
    return Solution(parts, steps)
