"""Parallelism: the solvers of data parallelism (the AllReduce of the gradients, seed 001) and fully sharded data
parallelism (ZeRO-3: AllGather and ReduceScatter, Rajbhandari et al. 2020, Sec. 7.2)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from exgen import numfmt as nf
from exgen.problem import Answer, Part, Solution, Step
from exgen.topics.parallelism.common import (_b, _bytes, _dtype_step, _on_the_wire, monomial, param_count,
                                             ring_factor)


def _solve_data_parallel(g: dict[str, Any]) -> Solution:
    n, d, b, k = g["n_layer"], g["d_model"], _bytes(g), g["gpus"]
    payload = b * param_count(n, d)
    sent = ring_factor("allreduce", k) * payload

    def steps() -> tuple[Step, ...]:
        return (
            _dtype_step(g),
            Step("Parameters per layer: $Q, K, V, O$ are $D \\times D$ each, the MLP is $D \\times 4D$ and "
                 "$4D \\times D$; the gradients have the same size:",
                 rf"D^2 + D^2 + D^2 + D^2 + 4D^2 + 4D^2 = 12D^2 = 12 \times {d}^2 = {nf.num(12 * d * d)}"),
            Step("The AllReduce after the backward pass aggregates every gradient once:",
                 rf"{b} \times N_{{\text{{layer}}}} \times 12 D^2 = {b} \times {n} \times {nf.num(12 * d * d)} "
                 rf"= {nf.sig(payload, 6)}\ \text{{B}}"),
            Step(f"A ring AllReduce over $k = {k}$ GPUs runs a reduce-scatter and an all-gather phase of $k - 1$ "
                 "steps each; every step a GPU sends one chunk of $N/k$ bytes:",
                 rf"\frac{{2(k-1)}}{{k}} N = \frac{{2 \times {k - 1}}}{{{k}}} \times {nf.sig(payload, 6)} "
                 rf"= {nf.sig(sent, 6)}\ \text{{B}}"),
        )
    parts = (
        Part("grad_bytes", "AllReduce payload per iteration", _b(payload)),
        Part("grad_expr", "payload as an expression", Answer("expression", monomial(b * 12, N_layer=1, D=2))),
        Part("sent_per_gpu", "bytes each GPU sends in the ring", _b(sent)),
    )
    return _on_the_wire(g, Solution(parts, steps), sent, "the bytes each GPU sends")


def _fsdp_numbers(g: dict[str, Any]) -> dict[str, Any]:
    psi = _bytes(g) * param_count(g["n_layer"], g["d_model"])
    gathers = 1 if g["convention"] == "once" else 2
    k = g["gpus"]
    sent = ring_factor("allgather", k) * (gathers * psi + psi)
    return {"psi": psi, "allgather": gathers * psi, "reducescatter": psi, "sent": sent,
            "ratio": Fraction(gathers * psi + psi, 2 * psi), "gathers": gathers}


def _solve_fsdp(g: dict[str, Any]) -> Solution:
    x = _fsdp_numbers(g)
    n, d, b, k = g["n_layer"], g["d_model"], _bytes(g), g["gpus"]
    when = ("once, in the forward pass (the parameters stay gathered until the backward pass uses them)"
            if x["gathers"] == 1 else
            "twice: in the forward pass, and again in the backward pass (they are freed after each layer's "
            "forward)")

    def steps() -> tuple[Step, ...]:
        return (
            _dtype_step(g),
            Step(f"The parameters of the stack, $\\Psi$ of them, take ${b}\\Psi$ bytes (the gradients the same):",
                 rf"\Psi = 12 N_{{\text{{layer}}}} D^2 = 12 \times {n} \times {d}^2 = {nf.num(param_count(n, d))}, "
                 rf"\quad {b}\Psi = {b} \times {nf.num(param_count(n, d))} = {nf.sig(x['psi'], 6)}\ \text{{B}}"),
            Step(f"AllGather: every layer's parameters are gathered {when}:",
                 rf"{x['gathers']} \times {nf.sig(x['psi'], 6)}\ \text{{B}} = {nf.sig(x['allgather'], 6)}\ \text{{B}}"
                 if x["gathers"] != 1 else rf"{b}\Psi = {nf.sig(x['allgather'], 6)}\ \text{{B}}"),
            Step("ReduceScatter: the gradients are reduced and scattered once, in the backward pass:",
                 rf"{b}\Psi = {nf.sig(x['reducescatter'], 6)}\ \text{{B}}"),
            Step(f"In a ring over $k = {k}$ GPUs each AllGather or ReduceScatter sends $(k-1)/k$ of its payload "
                 "from every GPU:",
                 rf"\frac{{{k - 1}}}{{{k}}} \times ({nf.sig(x['allgather'], 6)} + {nf.sig(x['reducescatter'], 6)}) "
                 rf"= {nf.sig(x['sent'], 6)}\ \text{{B}}"),
            Step(f"Data parallelism's ring AllReduce sends $2(k-1)/k \\cdot {b}\\Psi$ bytes per GPU, so the ratio is",
                 rf"\frac{{({x['gathers']} + 1) \cdot {b}\Psi}}{{2 \cdot {b}\Psi}} = \frac{{{x['gathers'] + 1}}}{{2}} = "
                 rf"{nf.sig(x['ratio'], 6)}"),
        )
    parts = (
        Part("allgather_bytes", "AllGather payload per iteration", _b(x["allgather"])),
        Part("reducescatter_bytes", "ReduceScatter payload per iteration", _b(x["reducescatter"])),
        Part("allgather_expr", "AllGather payload as an expression",
             Answer("expression", monomial(x["gathers"] * 12 * b, N_layer=1, D=2))),
        Part("sent_per_gpu", "bytes each GPU sends in the ring", _b(x["sent"])),
        Part("ratio_to_dp", "ratio to data parallelism", Answer("number", float(x["ratio"]), sig=3)),
    )
    return _on_the_wire(g, Solution(parts, steps), x["sent"], "the bytes each GPU sends")
