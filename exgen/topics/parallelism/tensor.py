"""Parallelism: the solvers of Megatron tensor parallelism (Shoeybi et al. 2019, Fig. 3/4) and sequence
parallelism (Korthikanti et al. 2022, Sec. 4.2.2): the collectives of a layer, their payloads and ring bytes."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from exgen import numfmt as nf
from exgen.problem import Answer, Part, Solution, Step
from exgen.topics.parallelism.common import (ALLREDUCES_PER_LAYER, SP_COLLECTIVES_PER_LAYER, _b, _bytes, _dtype_step,
                                             _on_the_wire, monomial, ring_factor)


def _solve_tensor_parallel(g: dict[str, Any]) -> Solution:
    n, bsz, seq, d, b, tp = g["n_layer"], g["batch"], g["seq_len"], g["d_model"], _bytes(g), g["tp"]
    per_layer = sum(ALLREDUCES_PER_LAYER.values())
    fwd, bwd = ALLREDUCES_PER_LAYER["forward"], ALLREDUCES_PER_LAYER["backward"]
    one = b * bsz * seq * d
    total = per_layer * n * one

    def steps() -> tuple[Step, ...]:
        return (
            _dtype_step(g),
            Step(f"Megatron-LM splits the attention heads (${g['heads']} / {tp} = {g['heads'] // tp}$ per GPU) and the "
                 "MLP's hidden units across the GPUs (column-parallel first matrix, row-parallel second). Per layer, "
                 "the forward pass all-reduces the outputs of the attention block and of the MLP ($g$), and the "
                 "backward pass all-reduces the gradients of their inputs ($f$): $2 + 2 = 4$ AllReduces, "
                 f"${per_layer} \\times {n} = {per_layer * n}$ per iteration: ${fwd} \\times {n} = {fwd * n}$ in the "
                 f"forward pass and ${bwd} \\times {n} = {bwd * n}$ in the backward pass."),
            Step("Each AllReduce aggregates one $B \\times L \\times D$ activation (or its gradient):",
                 rf"{b} \cdot B L D = {b} \times {bsz} \times {seq} \times {d} = {nf.sig(one, 6)}\ \text{{B}}"),
            Step("In total per iteration:",
                 rf"4 N_{{\text{{layer}}}} \times {b} B L D = {per_layer * n} \times {nf.sig(one, 6)} "
                 rf"= {nf.sig(total, 6)}\ \text{{B}}"),
            Step("Of these, the backward pass's:",
                 rf"{bwd} N_{{\text{{layer}}}} \times {b} B L D = {bwd * n} \times {nf.sig(one, 6)} "
                 rf"= {nf.sig(bwd * n * one, 6)}\ \text{{B}}"),
        )
    parts = (
        Part("heads_per_gpu", "attention heads per GPU", Answer("integer", g["heads"] // tp)),
        Part("allreduces", "AllReduces per iteration", Answer("integer", per_layer * n)),
        Part("allreduce_bytes", "AllReduce payload per iteration", _b(total)),
        Part("forward_allreduces", "AllReduces of the forward pass", Answer("integer", fwd * n)),
        Part("backward_allreduces", "AllReduces of the backward pass", Answer("integer", bwd * n)),
        Part("allreduce_expr", "payload as an expression",
             Answer("expression", monomial(per_layer * b, N_layer=1, B=1, L=1, D=1))),
        Part("backward_bytes", "AllReduce payload of the backward pass", _b(bwd * n * one)),
    )
    sent = ring_factor("allreduce", tp) * total  # the twist's extra step: ring AllReduces over the t GPUs

    def with_ring() -> tuple[Step, ...]:
        return steps() + (Step(
            f"In a ring over $t = {tp}$ GPUs each AllReduce sends $2(t-1)/t$ of its payload from every GPU:",
            rf"\frac{{2 \times {tp - 1}}}{{{tp}}} \times {nf.sig(total, 6)} = {nf.sig(sent, 6)}\ \text{{B}}"),)
    return _on_the_wire(g, Solution(parts, with_ring if g.get("link_gbps") else steps), sent,
                        "the bytes each GPU sends")


def _sp_numbers(g: dict[str, Any]) -> dict[str, Any]:
    n, t, b = g["n_layer"], g["tp"], _bytes(g)
    one = b * g["batch"] * g["seq_len"] * g["d_model"]
    ag = sum(SP_COLLECTIVES_PER_LAYER["allgather"].values())
    rs = sum(SP_COLLECTIVES_PER_LAYER["reducescatter"].values())
    total = (ag + rs) * n * one
    sent = ring_factor("allgather", t) * total
    tp_sent = ring_factor("allreduce", t) * sum(ALLREDUCES_PER_LAYER.values()) * n * one
    return {"one": one, "ag": ag, "rs": rs, "total": total, "sent": sent, "tp_sent": tp_sent,
            "ln_sp": Fraction(one, t)}


def _solve_sequence_parallel(g: dict[str, Any]) -> Solution:
    x = _sp_numbers(g)
    n, bsz, seq, d, b, t = g["n_layer"], g["batch"], g["seq_len"], g["d_model"], _bytes(g), g["tp"]

    def steps() -> tuple[Step, ...]:
        return (
            _dtype_step(g),
            Step("Megatron sequence parallelism (Korthikanti et al. 2022, Sec. 4.2.2) keeps tensor parallelism inside "
                 "attention and the MLP, and shards the LayerNorm and dropout regions along the sequence. The "
                 "AllReduce after a row-parallel matrix becomes a ReduceScatter into sequence shards (the paper's "
                 "$\\bar g$), the identity before a column-parallel matrix becomes an AllGather of the shards (its "
                 "$g$), and the backward pass runs each one's conjugate (a ReduceScatter for an AllGather and the "
                 "reverse); the re-gathers of saved inputs that Megatron-LM's code adds are not counted, as the "
                 "question says. Per layer (attention and MLP) in one iteration:",
                 rf"\text{{AllGather}}: 2_{{\text{{fwd}}}} + 2_{{\text{{bwd}}}} = {x['ag']}, \quad "
                 rf"\text{{ReduceScatter}}: 2_{{\text{{fwd}}}} + 2_{{\text{{bwd}}}} = {x['rs']}"),
            Step(f"Over the stack of $N_{{\\text{{layer}}}} = {n}$ layers: ${x['ag']} \\times {n} = {x['ag'] * n}$ "
                 f"AllGathers and ${x['rs']} \\times {n} = {x['rs'] * n}$ ReduceScatters per iteration."),
            Step("Each gathers or reduces the full $B \\times L \\times D$ activation (or its gradient):",
                 rf"{b} \cdot B L D = {b} \times {bsz} \times {seq} \times {d} = {nf.sig(x['one'], 6)}\ \text{{B}}"),
            Step("Sum of the payloads per iteration:",
                 rf"({x['ag']} + {x['rs']}) N_{{\text{{layer}}}} \times {b} B L D = {(x['ag'] + x['rs']) * n} \times "
                 rf"{nf.sig(x['one'], 6)} = {nf.sig(x['total'], 6)}\ \text{{B}}"),
            Step(f"In a ring over $t = {t}$ GPUs each AllGather or ReduceScatter sends $(t-1)/t$ of its payload from "
                 "every GPU:",
                 rf"\frac{{{t - 1}}}{{{t}}} \times {nf.sig(x['total'], 6)} = {nf.sig(x['sent'], 6)}\ \text{{B}}"),
            Step("Tensor parallelism alone: $4 N_{\\text{layer}}$ ring AllReduces of the same tensor, each "
                 "$2(t-1)/t$ of its payload per GPU (a ring AllReduce is a reduce-scatter then an all-gather phase):",
                 rf"4 \times {n} \times \frac{{2 \times {t - 1}}}{{{t}}} \times {nf.sig(x['one'], 6)} = "
                 rf"{nf.sig(x['tp_sent'], 6)}\ \text{{B}}"),
            Step("The same bytes per GPU as with sequence parallelism: a ring AllReduce is itself a reduce-scatter "
                 "phase followed by an all-gather phase, so replacing it by a ReduceScatter and an AllGather moves "
                 "nothing extra (Korthikanti et al. 2022: the same communication volume)."),
            Step("A LayerNorm input without sequence parallelism is the whole activation on every GPU; with it, one "
                 "sequence shard:",
                 rf"{b} B L D = {nf.sig(x['one'], 6)}\ \text{{B}}, \quad \frac{{{b} B L D}}{{t}} = "
                 rf"\frac{{{nf.sig(x['one'], 6)}}}{{{t}}} = {nf.sig(x['ln_sp'], 6)}\ \text{{B}}"),
        )
    parts = (
        Part("allgathers", "AllGathers per iteration", Answer("integer", x["ag"] * n)),
        Part("reducescatters", "ReduceScatters per iteration", Answer("integer", x["rs"] * n)),
        Part("payload_bytes", "payload of one collective", _b(x["one"])),
        Part("collective_bytes", "sum of the payloads per iteration", _b(x["total"])),
        Part("total_expr", "payload sum as an expression",
             Answer("expression", monomial((x["ag"] + x["rs"]) * b, N_layer=1, B=1, L=1, D=1))),
        Part("sent_per_gpu", "bytes each GPU sends in the ring", _b(x["sent"])),
        Part("tp_sent_per_gpu", "bytes each GPU sends with tensor parallelism alone", _b(x["tp_sent"])),
        Part("ln_bytes_tp", "LayerNorm input per GPU without SP", _b(x["one"])),
        Part("ln_bytes_sp", "LayerNorm input per GPU with SP", _b(x["ln_sp"])),
    )
    return _on_the_wire(g, Solution(parts, steps), x["sent"], "the bytes each GPU sends with sequence parallelism")
