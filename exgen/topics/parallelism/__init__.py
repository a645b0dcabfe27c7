"""Bytes moved by data, pipeline, tensor and fully sharded data parallelism; ring AllReduce; pipeline bubble.

The model is a stack of N_layer transformer layers (batch B, sequence L, model dimension D) with the
embeddings and everything else ignored, as in seed 001's Homework 2 Q2. Formulas and their sources:
    parameters per layer  12·D²  (Q, K, V, O: 4·D²; MLP D→4D→D: 8·D²)           seed 001, HW2 Q2
    data parallelism      AllReduce payload = gradients = b·12·N_layer·D²        seed 001 (fp16: 24·N_layer·D²)
    pipeline (GPipe)      stage i → i+1: activations b·B·L·D forward; i+1 → i: their gradients, the same
                          backward; split into m micro-batches of (B/m, L, D)    seed 001; seed 000 (32,128,768)
    tensor (Megatron-LM)  2 AllReduces forward + 2 backward per layer, each of the B×L×D activation
                          → 4·N_layer·b·B·L·D (fp16: 8·N_layer·B·L·D)           Shoeybi et al. 2019, Fig. 3/4
    sequence parallelism  each of those AllReduces becomes a ReduceScatter + AllGather pair (g, ḡ), each of
                          the full B×L×D tensor: 4 AG + 4 RS per layer, payloads 8·N_layer·b·B·L·D; bytes
                          each GPU sends in a ring equal TP's (an AllReduce IS RS + AG); LayerNorm/dropout
                          inputs sharded along L: b·B·L·D/t per GPU    Korthikanti et al. 2022, Sec. 4.2.2
    FSDP / ZeRO-3         ReduceScatter of gradients b·12·N_layer·D²; AllGather of parameters, counted once
                          (seed 001) or in forward and backward (ZeRO: 3Ψ = Ψ RS + 2Ψ AG vs DP's 2Ψ AllReduce,
                          Rajbhandari et al. 2020, Sec. 7.2)
    ring AllReduce        time 2(k−1)N/(kB); each GPU sends 2(k−1)N/k; AllGather / ReduceScatter: (k−1)N/k
                          (seed 001; Patarasuk & Yuan 2009); NCCL tests: busbw = algbw·2(k−1)/k
    pipeline bubble       (p−1)/(m+p−1) of the iteration's time (GPipe, Huang et al. 2019)
    3-D layout            GPUs = TP × PP × DP (seed 004, Korthikanti et al. 2022's table)
    time on the wire      (hard) what ONE GPU sends / its link's bandwidth, all links at once   seed 001
"Payload" is the size of the buffer a collective reduces or produces (the seed's "bytes aggregated"); bytes
on the wire per GPU follow from the ring algorithm. All arithmetic is exact (integers and Fractions).
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction
from typing import Any

from exgen import numfmt as nf
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.base import Given, InvalidGivens, Mistake, Rejected, StudentPath, Topic, Variant
from exgen.topics.parallelism.collectives import _solve_collectives, _solve_schedules, _solve_zero  # noqa: F401
from exgen.topics.parallelism.common import (  # noqa: F401 — re-exported: tests and the verifier use par.X
    DTYPE_BYTES,
    PARAMS_PER_LAYER,
    ALLREDUCES_PER_LAYER,
    SP_COLLECTIVES_PER_LAYER,
    SYMBOLS,
    CONVENTIONS,
    COLLECTIVES,
    ZERO_STAGES,
    SCHEDULES,
    MB,
    GB,
    MS,
    exact,
    monomial,
    param_count,
    ring_factor,
    bus_factor,
    zero_volume,
    schedule_bubble,
    bubble_fraction,
    _bytes,
    _b,
    _on_the_wire,
    _dtype_step,
)



# ---- givens ----------------------------------------------------------------------------------------

# Bounds keep every answer finite and every computation O(1) (issue 10): a user's instance outside them is
# refused before any work; the sampler's ranges (SIZES) lie well inside.
_N_LAYER = Given("n_layer", "number of transformer layers N_layer", "integer", low=1, high=1000)
_D = Given("d_model", "model dimension D", "integer", low=1, high=10**6)
_B = Given("batch", "training batch size B (sequences per iteration)", "integer", low=1, high=10**6)
_L = Given("seq_len", "sequence length L", "integer", low=1, high=10**7)
_DTYPE = Given("dtype", "number format of parameters, activations and gradients", "choice",
               choices=tuple(DTYPE_BYTES), default="fp16")
_GPUS = Given("gpus", "number of GPUs k", "integer", low=2, high=10**6)
_HEADS = Given("heads", "attention heads n_H", "integer", low=1, high=10**5)
# Hard twists are optional givens (0: not asked), drawn only at `hard`: the time the collectives take on each
# GPU's link (what one GPU sends / B, not the payload / B), and a batch the micro-batches must split evenly.
_LINK = Given("link_gbps", "bandwidth of each GPU's link in GB/s; asks the collectives' time on the wire (0: not "
              "asked)", "number", unit="GB/s", default=0, low=1e-3, high=1e6)
_LAYERS_PER_STAGE = Given("layers_per_stage", "transformer layers per pipeline stage", "integer", low=1, high=1000)

VARIANTS = (
    Variant("data_parallel", "data parallelism: AllReduce payload of the gradients, ring bytes per GPU",
            (_N_LAYER, _D, _DTYPE, _GPUS, _LINK)),
    Variant("pipeline", "GPipe pipeline: micro-batch shape and p2p bytes between stages i and i+1", (
        _N_LAYER, _LAYERS_PER_STAGE, _B, _L, _D, _DTYPE,
        Given("micro_batches", "micro-batches m the batch is split into", "integer", low=1, high=10**6), _LINK)),
    Variant("tensor_parallel", "Megatron tensor parallelism: AllReduces (forward and backward) and their bytes per "
            "iteration", (
        _N_LAYER, _B, _L, _D, _HEADS, _DTYPE,
        Given("tp", "tensor-parallel degree (at least 2: one GPU moves nothing)", "integer", low=2, high=10**4),
        _LINK)),
    Variant("sequence_parallel", "Megatron sequence parallelism: AllGather/ReduceScatter bytes vs TP, "
            "LayerNorm activation memory", (
        _N_LAYER, _B, _L, _D, _HEADS, _DTYPE,
        Given("tp", "tensor- (and sequence-) parallel degree t", "integer", low=2, high=10**4), _LINK)),
    Variant("fsdp", "fully sharded data parallelism (ZeRO-3): AllGather and ReduceScatter bytes", (
        _N_LAYER, _D, _DTYPE, _GPUS,
        Given("convention", "AllGather counted once (parameters kept from forward to backward, as in the course's "
              "Homework 2) or in both passes (ZeRO, FSDP resharding)",
              "choice", choices=CONVENTIONS), _LINK)),
    Variant("ring", "ring AllReduce: time, bytes each GPU sends, algorithm vs bus bandwidth", (
        Given("size_mb", "bytes N to aggregate, in MB (10^6 bytes); 0: the gradients of params_m instead", "number",
              unit="MB", default=0, low=1e-3, high=1e9),
        _GPUS,
        Given("link_gbps", "bandwidth B of each ring link, in GB/s", "number", unit="GB/s", low=1e-3, high=1e6),
        Given("measured_ms", "an observed AllReduce time of the same buffer, in ms", "number", unit="ms",
              low=1e-6, high=1e9),
        Given("params_m", "hard twist: the buffer is the gradients of a model of this many million parameters "
              "(0: size_mb is given instead)", "number", default=0, low=1e-3, high=1e7), _DTYPE)),
    Variant("collectives", "one NCCL collective (AllReduce, AllGather, ReduceScatter, Broadcast, Reduce, AlltoAll, "
            "send/recv): bytes each GPU sends, time, algorithm and bus bandwidth with its bus factor", (
        Given("collective", "the collective the benchmark runs", "choice", choices=COLLECTIVES),
        Given("size_mb", "the benchmark's size S in MB (10^6 bytes): the buffer AllReduce, Broadcast, Reduce and "
              "send/recv move, AllGather's output, ReduceScatter's input, each GPU's AlltoAll send buffer",
              "number", unit="MB", low=1e-3, high=1e9),
        _GPUS,
        Given("link_gbps", "bandwidth B of each GPU's link, in GB/s", "number", unit="GB/s", low=1e-3, high=1e6),
        Given("measured_ms", "an observed time of the same collective, in ms", "number", unit="ms",
              low=1e-6, high=1e9))),
    Variant("zero_volume", "ZeRO's communication volume per GPU in units of Psi, stages 1-3, and its large-k limit", (
        Given("stage", "ZeRO stage (1, 2: optimizer states / + gradients sharded; 3: + parameters)", "choice",
              choices=tuple(str(x) for x in ZERO_STAGES)),
        Given("params_b", "parameters of the model, in billions", "number", low=1e-3, high=1e5), _GPUS, _DTYPE)),
    Variant("bubble_schedules", "pipeline bubble of GPipe, 1F1B (Narayanan's (p-1)/m) and interleaved 1F1B "
            "((p-1)/(v m))", (
        Given("stages", "pipeline stages (devices) p", "integer", low=2, high=1024),
        Given("micro_batches", "micro-batches m per iteration", "integer", low=1, high=10**6),
        Given("chunks", "model chunks (virtual stages) v per device in the interleaved schedule", "integer",
              low=2, high=64),
        Given("step_ms", "ideal time of one iteration without a bubble (forward and backward of all m "
              "micro-batches on one device), in ms", "number", unit="ms", low=1e-3, high=1e9))),
    Variant("bubble", "GPipe pipeline bubble: idle fraction and micro-batches for a target", (
        Given("stages", "pipeline stages p", "integer", low=2, high=1024),
        Given("micro_batches", "micro-batches m", "integer", low=1, high=10**6),
        Given("target", "largest acceptable bubble fraction", "number", low=0.001, high=0.999),
        Given("batch", "sequences per batch that the micro-batches must split evenly (0: any m)", "integer",
              default=0, low=1, high=10**7))),
    Variant("layout_3d", "a 3-D layout GPUs = TP x PP x DP: degrees, layers per stage, micro-batches, bubble", (
        Given("gpus", "number of GPUs", "integer", low=1, high=10**6),
        Given("tp", "tensor-parallel degree", "integer", low=1, high=1024),
        Given("pp", "pipeline-parallel degree (stages)", "integer", low=1, high=1024), _N_LAYER,
        Given("global_batch", "global batch size (sequences per iteration)", "integer", low=1, high=10**9),
        Given("micro_batch", "micro-batch size (sequences)", "integer", low=1, high=10**9),
        Given("target", "largest acceptable bubble fraction; asks the largest micro-batch size that meets it (0: "
              "not asked)", "number", default=0, low=0.001, high=0.999))),
    Variant("homework2", "the course's Homework 2 Q2: bytes of DP, PP, TP and FSDP, numeric and symbolic", (
        _N_LAYER, _B, _L, _D, _DTYPE, replace(_LAYERS_PER_STAGE, default=4),
        Given("convention", "FSDP AllGather counted once (the course's Homework 2) or in both passes (hard twist: ZeRO, "
              "FSDP resharding)", "choice", choices=CONVENTIONS, default="once"))),
)
_SPECS = {v.name: v for v in VARIANTS}


_REQUIRED = {v.name: frozenset(x.name for x in v.givens if x.default is None) for v in VARIANTS}
_DEFAULTED = {v.name: frozenset(x.name for x in v.givens if x.default is not None) for v in VARIANTS}
_NUMERIC = {v.name: tuple(x for x in v.givens if x.kind in ("integer", "number")) for v in VARIANTS}


def _check(variant: str, g: dict[str, Any]) -> None:
    """Validate a user's givens with a message a TA can act on."""
    if not _REQUIRED[variant].issubset(g):
        _SPECS[variant].require(g)  # names every missing given
    for spec in _NUMERIC[variant]:
        value = g[spec.name]
        if not (value > 0 or value == 0 == spec.default):
            raise InvalidGivens(f"{spec.name} must be positive" + (" (or 0: not asked)" if spec.default == 0 else ""))
        if spec.kind == "integer" and int(value) != value:
            raise InvalidGivens(f"{spec.name} must be an integer")
    if "dtype" in g and g["dtype"] not in DTYPE_BYTES:
        raise InvalidGivens(f"dtype must be one of {', '.join(DTYPE_BYTES)}")

    def divides(a: str, b: str, what: str) -> None:
        if g[b] % g[a]:
            raise InvalidGivens(f"{a} = {g[a]} must divide {b} = {g[b]} ({what})")

    if variant == "ring" and bool(g.get("size_mb")) == bool(g.get("params_m")):
        raise InvalidGivens("give exactly one of size_mb (the buffer in MB) and params_m (a model's gradients)")
    if variant == "collectives" and g["collective"] not in COLLECTIVES:
        raise InvalidGivens(f"collective must be one of {', '.join(COLLECTIVES)}")
    if variant == "zero_volume" and str(g["stage"]) not in ("1", "2", "3"):
        raise InvalidGivens("stage must be 1, 2 or 3")
    if variant == "bubble_schedules":
        if g["stages"] < 2:
            raise InvalidGivens("a pipeline needs at least two stages")
        divides("stages", "micro_batches", "the interleaved schedule runs micro-batches in groups of p")
    if variant in ("data_parallel", "fsdp", "ring", "collectives", "zero_volume") and g["gpus"] < 2:
        raise InvalidGivens("gpus must be at least 2 for a collective")
    if variant == "pipeline":
        divides("layers_per_stage", "n_layer", "every stage holds whole layers")
        divides("micro_batches", "batch", "micro-batches of equal size")
        if g["n_layer"] // g["layers_per_stage"] < 2:
            raise InvalidGivens("a pipeline needs at least two stages")
    if variant == "homework2":
        g.setdefault("layers_per_stage", 4)
        divides("layers_per_stage", "n_layer", "every stage holds whole layers")
    if variant in ("tensor_parallel", "sequence_parallel"):
        divides("heads", "d_model", "D = n_H x H")
        divides("tp", "heads", "Megatron splits whole heads across GPUs")
    if variant == "sequence_parallel":
        divides("tp", "seq_len", "the sequence is split into equal shards")
        if g["tp"] < 2:
            raise InvalidGivens("tp must be at least 2 for a collective")
    if variant == "bubble":
        if g["stages"] < 2:
            raise InvalidGivens("a pipeline needs at least two stages")
        if not 0 < g["target"] < 1:
            raise InvalidGivens("target must lie strictly between 0 and 1")
        if g.get("batch") and g["batch"] % g["micro_batches"]:
            raise InvalidGivens(f"micro_batches = {g['micro_batches']} must divide batch = {g['batch']}")
        if g.get("batch") and g["batch"] < min_micro_batches(g["stages"], exact(g["target"])):
            raise InvalidGivens("batch has fewer sequences than the target needs micro-batches")
    if variant == "layout_3d":
        if g["gpus"] % (g["tp"] * g["pp"]):
            raise InvalidGivens(f"tp x pp = {g['tp'] * g['pp']} must divide gpus = {g['gpus']}")
        divides("pp", "n_layer", "every stage holds whole layers")
        dp = g["gpus"] // (g["tp"] * g["pp"])
        if g["global_batch"] % (dp * g["micro_batch"]):
            raise InvalidGivens("dp x micro_batch must divide global_batch")
        if g.get("target") and g["global_batch"] // dp < min_micro_batches(g["pp"], exact(g["target"])):
            raise InvalidGivens("a replica's batch is smaller than the micro-batches the target needs")


# ---- solvers ---------------------------------------------------------------------------------------


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
        Part("sent_per_gpu", "bytes each GPU sends (ring)", _b(sent)),
    )
    return _on_the_wire(g, Solution(parts, steps), sent, "the bytes each GPU sends")


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
            Step("Forward: stage $i$ sends stage $i+1$ the output activations of its last layer, one message per "
                 "micro-batch:",
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
        Part("forward_bytes", "bytes i to i+1 (forward)", _b(x["forward"])),
        Part("backward_bytes", "bytes i+1 to i (backward)", _b(x["forward"])),
        Part("total_bytes", "bytes both directions", _b(2 * x["forward"])),
        Part("forward_expr", "forward bytes as an expression",
             Answer("expression", monomial(b, B=1, L=1, D=1))),
    )
    return _on_the_wire(g, Solution(parts, steps), x["forward"], "the forward bytes of all micro-batches",
                        "Stage $i$ sends to stage $i+1$ over one link, so")


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
                 "AllReduce $g$ after a row-parallel matrix becomes a ReduceScatter into sequence shards, the "
                 "identity $f$ before a column-parallel matrix becomes an AllGather of the shards ($\\bar g$), and "
                 "the backward pass does the conjugates. Per layer (attention and MLP) in one iteration:",
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
        Part("sent_per_gpu", "bytes each GPU sends (ring)", _b(x["sent"])),
        Part("tp_sent_per_gpu", "bytes each GPU sends with tensor parallelism alone", _b(x["tp_sent"])),
        Part("ln_bytes_tp", "LayerNorm input per GPU without SP", _b(x["one"])),
        Part("ln_bytes_sp", "LayerNorm input per GPU with SP", _b(x["ln_sp"])),
    )
    return _on_the_wire(g, Solution(parts, steps), x["sent"], "the bytes each GPU sends with sequence parallelism")


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
        Part("sent_per_gpu", "bytes each GPU sends (ring)", _b(x["sent"])),
        Part("ratio_to_dp", "ratio to data parallelism", Answer("number", float(x["ratio"]), sig=3)),
    )
    return _on_the_wire(g, Solution(parts, steps), x["sent"], "the bytes each GPU sends")


def _ring_numbers(g: dict[str, Any], factor: Fraction | None = None) -> dict[str, Fraction]:
    k = g["gpus"]
    factor = ring_factor("allreduce", k) if factor is None else factor
    n = exact(g["size_mb"]) * MB if g.get("size_mb") else exact(g["params_m"]) * MB * _bytes(g)
    bw = exact(g["link_gbps"]) * GB
    sent = factor * n
    algbw = n / (exact(g["measured_ms"]) * MS)
    return {"n": n, "sent": sent, "time": sent / bw, "algbw": algbw, "busbw": algbw * factor}


def _solve_ring(g: dict[str, Any]) -> Solution:
    x = _ring_numbers(g)
    k = g["gpus"]

    def steps() -> tuple[Step, ...]:
        size = rf"{nf.sig(x['n'] / MB, 6)}\ \text{{MB}}"
        gradients = (_dtype_step(g), Step(
            "The buffer holds one gradient per parameter:",
            rf"N = {_bytes(g)} \times {nf.num(g['params_m'])} \times 10^6\ \text{{B}} = {size}")) if g.get("params_m") else ()
        return gradients + (
            Step(f"The buffer is split into $k = {k}$ chunks of $N/k$. The reduce-scatter phase takes $k-1$ steps "
                 "and the all-gather phase another $k-1$; in every step each GPU sends one chunk to its neighbour, "
                 "all links busy at once:",
                 rf"\frac{{2(k-1)}}{{k}} N = \frac{{2 \times {k - 1}}}{{{k}}} \times {size} = "
                 rf"{nf.sig(x['sent'] / MB, 6)}\ \text{{MB}}"),
            Step("Time at link bandwidth $B$:",
                 rf"T = \frac{{2(k-1) N}}{{k B}} = \frac{{{nf.sig(x['sent'] / MB, 6)}\ \text{{MB}}}}"
                 rf"{{{nf.num(g['link_gbps'])}\ \text{{GB/s}}}} = {nf.sig(x['time'] / MS, 6)}\ \text{{ms}}"),
            Step("Algorithm bandwidth (what the application sees):",
                 rf"\text{{algbw}} = \frac{{N}}{{t}} = \frac{{{size}}}"
                 rf"{{{nf.num(g['measured_ms'])}\ \text{{ms}}}} = {nf.sig(x['algbw'] / GB, 6)}\ \text{{GB/s}}"),
            Step("Bus bandwidth (NCCL tests: what each link carried, comparable with $B$):",
                 rf"\text{{busbw}} = \text{{algbw}} \times \frac{{2(k-1)}}{{k}} = {nf.sig(x['busbw'] / GB, 6)}\ "
                 rf"\text{{GB/s}}"),
        )
    parts = (
        Part("sent_per_gpu", "bytes each GPU sends", Answer("number", float(x["sent"] / MB), unit="MB", sig=3)),
        Part("time", "ideal ring time", Answer("number", float(x["time"] / MS), unit="ms", sig=3)),
        Part("algbw", "algorithm bandwidth", Answer("number", float(x["algbw"] / GB), unit="GB/s", sig=3)),
        Part("busbw", "bus bandwidth", Answer("number", float(x["busbw"] / GB), unit="GB/s", sig=3)),
    )
    return Solution(parts, steps)



def min_micro_batches(p: int, target: Fraction) -> int:
    """Smallest m with (p−1)/(m+p−1) ≤ target: m ≥ (p−1)(1−f)/f, for f = a/b ⌈(p−1)(b−a)/a⌉ in integers."""
    if type(target) is Fraction and target.numerator > 0:
        a, b = target.numerator, target.denominator
        return max(1, -(-(p - 1) * (b - a) // a))
    return max(1, math.ceil((p - 1) * (1 - target) / target))


def smallest_split(m: int, batch: int) -> int:
    """Smallest number of equal micro-batches of a batch (a divisor of it) that is at least m; 0: any m."""
    if not batch:
        return m
    divisors = {d for i in range(1, math.isqrt(batch) + 1) if batch % i == 0 for d in (i, batch // i)}
    return min(d for d in divisors if d >= m)


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


def largest_micro_batch(replica: int, m: int) -> int:
    """Largest micro-batch size that splits `replica` sequences into at least m equal micro-batches: the largest
    divisor of `replica` up to replica // m, searched from the top (the first one found)."""
    for b in range(replica // m, 0, -1):
        if replica % b == 0:
            return b
    return max(b for b in range(1, replica // m + 1) if replica % b == 0)  # none: max()'s error, as before


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
            Step("Every GPU has one coordinate in each of the three dimensions, so GPUs = TP x PP x DP:",
                 rf"\text{{DP}} = \frac{{{g['gpus']}}}{{{g['tp']} \times {g['pp']}}} = {x['dp']}"),
            Step(f"Each of the {g['pp']} stages holds ${g['n_layer']} / {g['pp']} = {x['layers']}$ layers."),
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
            Step(f"Pipeline parallelism (GPipe, {k} layers per stage): forward, stage $i$ sends stage $i+1$ the "
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
        Part("dp_expr", "DP as an expression", Answer("expression", monomial(c12, N_layer=1, D=2))),
        Part("pp_bytes", "PP bytes per direction", _b(act)),
        Part("pp_expr", "PP as an expression", Answer("expression", monomial(b, B=1, L=1, D=1))),
        Part("tp_bytes", "TP AllReduce bytes", _b(tp)),
        Part("tp_expr", "TP as an expression", Answer("expression", monomial(c4, N_layer=1, B=1, L=1, D=1))),
        Part("allgather_bytes", "FSDP AllGather bytes", _b(gathers * psi)),
        Part("reducescatter_bytes", "FSDP ReduceScatter bytes", _b(psi)),
        Part("fsdp_expr", "FSDP AllGather as an expression",
             Answer("expression", monomial(gathers * c12, N_layer=1, D=2))),
    )
    return Solution(parts, steps)


_SOLVERS = {"data_parallel": _solve_data_parallel, "pipeline": _solve_pipeline,
            "tensor_parallel": _solve_tensor_parallel, "sequence_parallel": _solve_sequence_parallel,
            "fsdp": _solve_fsdp, "ring": _solve_ring, "collectives": _solve_collectives, "zero_volume": _solve_zero,
            "bubble_schedules": _solve_schedules,
            "bubble": _solve_bubble, "layout_3d": _solve_layout, "homework2": _solve_homework2}


def solve(variant: str, givens: dict[str, Any]) -> Solution:
    # a copy, with the optional twists' defaults (givens the sampler completed already have every one)
    g = dict(givens) if _DEFAULTED[variant].issubset(givens) else _SPECS[variant].complete(givens)
    _check(variant, g)
    solution = _SOLVERS[variant](g)
    if len(_SOLVED) >= 256:
        _SOLVED.clear()
    try:
        _SOLVED[_key(variant, givens)] = solution
    except TypeError:  # a user's unhashable given: not kept
        pass
    return solution


def _key(variant: str, givens: dict[str, Any]) -> tuple:
    return variant, tuple(givens.items()), tuple(map(type, givens.values()))


# The last instances solved, by (variant, givens in their order, their types), for the named mistakes: the
# sampler solves an instance, and its mistakes read that solution instead of solving it again (a float 1.0 and an
# int 1 are different keys: they may print apart; the same givens in another order are solved again, only slower).
_SOLVED: dict[tuple, Solution] = {}


# ---- sampling --------------------------------------------------------------------------------------

# Continuous model sizes per difficulty (inclusive ranges): D and L are multiples of a unit so `easy` stays
# calculator-friendly; every dtype at every difficulty (the expression's coefficient is the dtype's bytes).
SIZES = {
    "easy": {"n_layer": (2, 72), "d": (64, 4, 64), "batch": 64, "seq": (64, 1, 32), "heads": 32,
             "gpus": (2, 3, 4, 5, 6, 8, 10, 12, 16), "tp": (2, 4, 8), "stages": 24, "micro": 96, "ring_mb": 1000},
    "medium": {"n_layer": (4, 96), "d": (64, 8, 128), "batch": 128, "seq": (128, 1, 64), "heads": 64,
               "gpus": tuple(range(2, 33)), "tp": (2, 4, 8), "stages": 32, "micro": 128, "ring_mb": 8192},
    "hard": {"n_layer": (8, 128), "d": (128, 8, 128), "batch": 64, "seq": (256, 1, 32), "heads": 128,
             "gpus": tuple(range(2, 65)), "tp": (2, 4, 8, 16), "stages": 64, "micro": 256, "ring_mb": 65536},
}
RING_LINKS = (12.5, 25, 50, 100, 150, 200, 300, 400, 450, 900)  # GB/s: PCIe, InfiniBand and NVLink generations


def _multiple(rng: Rng, spec: tuple[int, int, int]) -> int:
    unit, low, high = spec
    return unit * rng.randint(low, high)


def _model(rng: Rng, size: dict[str, Any]) -> dict[str, Any]:
    return {"n_layer": rng.randint(*size["n_layer"]), "d_model": _multiple(rng, size["d"]),
            "dtype": rng.choice(tuple(DTYPE_BYTES))}


def _measured_ms(factor: Fraction, mb: int, link: Any, percent: int) -> float:
    """The ideal time factor · mb MB / (link GB/s) in ms over an efficiency of percent %, as a float: one correctly
    rounded division of integers, the float the Fraction gives."""
    bw = exact(link)
    return (factor.numerator * mb * MB * bw.denominator * MS.denominator * 100
            / (factor.denominator * bw.numerator * GB * MS.numerator * percent))


def sample(rng: Rng, variant: str, difficulty: str) -> dict[str, Any]:
    size = SIZES[difficulty]
    twist = {"link_gbps": rng.choice(RING_LINKS)} if difficulty == "hard" else {}  # time on the wire
    if variant in ("data_parallel", "fsdp"):
        g = {**_model(rng, size), "gpus": rng.choice(size["gpus"]), **twist}
        return {**g, "convention": rng.choice(CONVENTIONS)} if variant == "fsdp" else g
    if variant == "pipeline":
        k, m = rng.randint(1, 8), rng.randint(2, 16)
        n = k * rng.randint(2, max(2, size["n_layer"][1] // k))
        return {"n_layer": n, "layers_per_stage": k, "batch": m * rng.randint(1, max(1, size["batch"] // m)),
                "seq_len": _multiple(rng, size["seq"]), "d_model": _multiple(rng, size["d"]),
                "dtype": rng.choice(tuple(DTYPE_BYTES)), "micro_batches": m, **twist}
    if variant in ("tensor_parallel", "sequence_parallel"):
        tp = rng.choice(size["tp"])
        heads = tp * rng.randint(1, size["heads"] // tp)
        return {"n_layer": rng.randint(*size["n_layer"]), "batch": rng.randint(1, size["batch"]),
                "seq_len": _multiple(rng, size["seq"]), "d_model": heads * rng.choice((64, 128)), "heads": heads,
                "dtype": rng.choice(tuple(DTYPE_BYTES)), "tp": tp, **twist}
    if variant == "homework2":
        k = rng.randint(1, 8)
        return {"n_layer": k * rng.randint(1, max(1, size["n_layer"][1] // k)), "batch": rng.randint(1, size["batch"]),
                "seq_len": _multiple(rng, size["seq"]), "d_model": _multiple(rng, size["d"]),
                "dtype": rng.choice(tuple(DTYPE_BYTES)), "layers_per_stage": k,
                "convention": rng.choice(CONVENTIONS) if difficulty == "hard" else "once"}  # twist: either convention
    if variant == "ring":
        k = rng.choice(size["gpus"])
        mb = 10 * rng.randint(1, size["ring_mb"] // 10) if difficulty == "easy" else rng.randint(1, size["ring_mb"])
        buffer = {"size_mb": mb}
        if difficulty == "hard":  # twist: the buffer is a model's gradients, in millions of parameters and a dtype
            dtype = rng.choice(tuple(DTYPE_BYTES))
            buffer = {"params_m": 25 * rng.randint(1, 400), "dtype": dtype}
            mb = buffer["params_m"] * DTYPE_BYTES[dtype]
        link = rng.choice(RING_LINKS[1:] if difficulty == "easy" else RING_LINKS)
        measured = float(f"{_measured_ms(Fraction(2 * (k - 1), k), mb, link, rng.randint(50, 95)):.3g}")
        return {**buffer, "gpus": k, "link_gbps": link, "measured_ms": measured}
    if variant == "collectives":
        k, c = rng.choice(size["gpus"]), rng.choice(COLLECTIVES)
        mb = 10 * rng.randint(1, size["ring_mb"] // 10) if difficulty == "easy" else rng.randint(1, size["ring_mb"])
        link = rng.choice(RING_LINKS[1:] if difficulty == "easy" else RING_LINKS)
        measured = float(f"{_measured_ms(bus_factor(c, k), mb, link, rng.randint(50, 95)):.3g}")
        return {"collective": c, "size_mb": mb, "gpus": k, "link_gbps": link, "measured_ms": measured}
    if variant == "zero_volume":
        params = rng.randint(2, 2000) / 2 \
            if difficulty == "easy" else round(rng.randint(1, 2000) / 10, 1)
        return {"stage": rng.choice(("1", "2", "3")), "params_b": params, "gpus": rng.choice(size["gpus"]),
                "dtype": rng.choice(tuple(DTYPE_BYTES))}
    if variant == "bubble_schedules":
        p, v = rng.randint(2, size["stages"]), rng.randint(2, 8)
        step = rng.randint(100, 5000) if difficulty == "easy" else round(rng.randint(1000, 99999) / 10, 1)
        return {"stages": p, "micro_batches": p * rng.randint(1, max(1, size["micro"] // p)), "chunks": v,
                "step_ms": step}
    if variant == "bubble":
        p, per_mille = rng.randint(2, size["stages"]), rng.randint(10, 500)
        if (p - 1) * (1000 - per_mille) % per_mille == 0:
            raise Rejected("the target sits exactly on a bubble: floating-point evaluation orders disagree there")
        g = {"stages": p, "micro_batches": rng.randint(1, size["micro"]), "target": per_mille / 1000}
        if difficulty == "hard":  # twist: the micro-batches must split a batch evenly (m divides it)
            need = min_micro_batches(p, Fraction(per_mille, 1000))
            unit = rng.choice((6, 8, 10, 12, 16, 18, 20, 24, 30, 32, 36, 48))  # batches with many divisors
            g["batch"] = unit * rng.randint(-(-need // unit), -(-need // unit) + 8)
            g["micro_batches"] = rng.choice(sorted({d for d in range(2, min(g["batch"], 256) + 1)
                                                    if g["batch"] % d == 0}))
        return g
    # layout_3d: TP x PP x DP with a real pipeline (PP >= 2: a layout without one has no bubble to ask about)
    tp, pp, dp = rng.choice((1, 2, 4, 8)), rng.randint(2, size["stages"]), rng.randint(1, 32)
    micro, m = rng.choice((1, 2, 4, 8)), rng.randint(1, size["micro"])
    g = {"gpus": tp * pp * dp, "tp": tp, "pp": pp, "n_layer": pp * rng.randint(1, 8),
         "global_batch": dp * micro * m, "micro_batch": micro}
    if difficulty == "hard":  # twist: the largest micro-batch size whose bubble meets a target
        low = -(-1000 * (pp - 1) // (micro * m + pp - 1))  # a target the replica's batch can meet
        if low > 500:
            raise Rejected("the replica's batch cannot meet any target in the range")
        per_mille = rng.randint(max(10, low), 500)
        if (pp - 1) * (1000 - per_mille) % per_mille == 0:
            raise Rejected("the target sits exactly on a bubble: floating-point evaluation orders disagree there")
        g["target"] = per_mille / 1000
    return g


# ---- named mistakes --------------------------------------------------------------------------------


def _value(variant: str, g: dict[str, Any], part: str, **change) -> Any:
    """A part of the instance's key (or of the instance with `change`), from the solution `solve` keeps: the named
    mistakes of one instance share it, solved once."""
    givens = {**g, **change} if change else g
    try:
        solution = _SOLVED.get(_key(variant, givens)) or solve(variant, givens)
    except TypeError:  # a user's unhashable given
        solution = solve(variant, givens)
    return solution.part(part).answer.value


def _elements(part: str, expression: bool = False):
    """Forgetting ×b bytes per element: the answer counts elements (fp16: half the bytes)."""
    def wrong(variant: str, g: dict[str, Any]) -> Any:
        value = _value(variant, g, part)
        if expression:
            coefficient, rest = value.split("*", 1)
            return f"{int(coefficient) // _bytes(g)}*{rest}"
        return value / _bytes(g)
    return wrong


def _ring_k(part: str):
    """k instead of k−1: 2N (AllReduce) or N (AllGather/ReduceScatter) per GPU, as if k chunks were sent."""
    def wrong(variant: str, g: dict[str, Any]) -> Any:
        k = g["gpus"]
        return _value(variant, g, part) * k / (k - 1)
    return wrong


def _times_gpus(part: str):
    def wrong(variant: str, g: dict[str, Any]) -> Any:
        return _value(variant, g, part) * g["gpus"]
    return wrong


def _forward_only(part: str):
    return lambda variant, g: _value(variant, g, part) / 2


def _other_convention(part: str):
    def wrong(variant: str, g: dict[str, Any]) -> Any:
        if part == "allgather_bytes":  # fsdp's and homework2's AllGather payload (the key's float), not re-solved
            return float((2 if g["convention"] == "once" else 1) * _bytes(g) * param_count(g["n_layer"], g["d_model"]))
        return _value(variant, g, part, convention="both_passes" if g["convention"] == "once" else "once")
    return wrong


def _micro_floor(g: dict[str, Any]) -> int:
    replica = g["global_batch"] * g["tp"] * g["pp"] // g["gpus"]
    return replica // min_micro_batches(g["pp"], exact(g["target"]))


def _payload_time(variant: str, g: dict[str, Any]) -> float:
    payload = {"data_parallel": ("grad_bytes",), "tensor_parallel": ("allreduce_bytes",),
               "sequence_parallel": ("collective_bytes",), "fsdp": ("allgather_bytes", "reducescatter_bytes")}
    return sum(_value(variant, g, part) for part in payload[variant]) / (g["link_gbps"] * GB) * 1000


_EXPLAIN = {
    "elements": "The count is of elements, not bytes: every fp16/bf16 number takes 2 bytes (fp32: 4).",
    "ring_k": "The ring sends k−1 chunks of N/k per phase, not k: the factor is (k−1)/k per phase.",
    "total": "This is the sum over all k GPUs; the question asks per GPU.",
    "forward_only": "Only the forward pass was counted; the backward pass communicates as much again.",
    "sp_extra": "Sequence parallelism replaces each AllReduce by a ReduceScatter + AllGather pair, which is what a "
                "ring AllReduce does anyway; it adds no communication on top of tensor parallelism.",
}

MISTAKES = (
    Mistake("elements_not_bytes", "grad_bytes", _EXPLAIN["elements"], ("data_parallel",), _elements("grad_bytes")),
    Mistake("elements_not_bytes_expr", "grad_expr", _EXPLAIN["elements"], ("data_parallel",),
            _elements("grad_expr", True)),
    Mistake("ring_k_not_k_minus_1", "sent_per_gpu", _EXPLAIN["ring_k"], ("data_parallel", "fsdp", "ring", "collectives"),
            lambda v, g: None if v == "collectives" and bus_factor(g["collective"], g["gpus"]) == 1 else
            _ring_k("sent_per_gpu")(v, g)),
    Mistake("total_not_per_gpu", "sent_per_gpu", _EXPLAIN["total"], ("data_parallel", "fsdp", "ring", "collectives"),
            _times_gpus("sent_per_gpu")),
    Mistake("payload_summed_over_gpus", "grad_bytes",
            "The payload is the gradient buffer that is aggregated (once per iteration), not k copies of it.",
            ("data_parallel",), _times_gpus("grad_bytes")),
    Mistake("elements_not_bytes", "forward_bytes", _EXPLAIN["elements"], ("pipeline",), _elements("forward_bytes")),
    Mistake("one_micro_batch_only", "forward_bytes",
            "Only one micro-batch's message was counted; the m micro-batches each cross the stage boundary.",
            ("pipeline",), lambda v, g: _value(v, g, "message_bytes")),
    Mistake("forward_only", "total_bytes", _EXPLAIN["forward_only"], ("pipeline",), _forward_only("total_bytes")),
    Mistake("elements_not_bytes", "allreduce_bytes", _EXPLAIN["elements"], ("tensor_parallel",),
            _elements("allreduce_bytes")),
    Mistake("forward_only", "allreduce_bytes", _EXPLAIN["forward_only"], ("tensor_parallel",),
            _forward_only("allreduce_bytes")),
    Mistake("per_layer_not_stack", "backward_allreduces",
            "Two AllReduces per layer in the backward pass; the stack has N_layer layers.", ("tensor_parallel",),
            lambda v, g: ALLREDUCES_PER_LAYER["backward"]),
    Mistake("both_passes", "backward_bytes", "Only the backward pass was asked; the forward pass's AllReduces "
            "are as many again.", ("tensor_parallel",), lambda v, g: _value(v, g, "allreduce_bytes")),
    Mistake("forward_only_count", "allreduces", _EXPLAIN["forward_only"], ("tensor_parallel",),
            lambda v, g: _value(v, g, "allreduces") // 2),
    Mistake("elements_not_bytes", "collective_bytes", _EXPLAIN["elements"], ("sequence_parallel",),
            _elements("collective_bytes")),
    Mistake("forward_only", "collective_bytes", _EXPLAIN["forward_only"], ("sequence_parallel",),
            _forward_only("collective_bytes")),
    Mistake("forward_only_count", "allgathers", _EXPLAIN["forward_only"], ("sequence_parallel",),
            lambda v, g: _value(v, g, "allgathers") // 2),
    Mistake("payload_divided_by_t", "payload_bytes",
            "The payload is the full B x L x D tensor the collective gathers or reduces, not one GPU's 1/t shard.",
            ("sequence_parallel",), lambda v, g: _value(v, g, "payload_bytes") / g["tp"]),
    Mistake("sp_on_top_of_tp", "sent_per_gpu", _EXPLAIN["sp_extra"], ("sequence_parallel",),
            lambda v, g: 2 * _value(v, g, "sent_per_gpu")),
    Mistake("allreduce_one_phase", "tp_sent_per_gpu",
            "A ring AllReduce is two phases (reduce-scatter, then all-gather): each GPU sends 2(t−1)/t of the "
            "payload, not (t−1)/t.", ("sequence_parallel",), lambda v, g: _value(v, g, "tp_sent_per_gpu") / 2),
    Mistake("ring_t_not_t_minus_1", "sent_per_gpu", _EXPLAIN["ring_k"], ("sequence_parallel",),
            lambda v, g: _value(v, g, "sent_per_gpu") * g["tp"] / (g["tp"] - 1)),
    Mistake("activations_not_sharded", "ln_bytes_sp",
            "Sequence parallelism shards the LayerNorm and dropout inputs along the sequence: each GPU holds L/t "
            "of the positions.", ("sequence_parallel",), lambda v, g: _value(v, g, "ln_bytes_tp")),
    Mistake("elements_not_bytes", "allgather_bytes", _EXPLAIN["elements"], ("fsdp",),
            _elements("allgather_bytes")),
    Mistake("allgather_convention", "allgather_bytes",
            "The other AllGather convention was used; the question states whether the backward pass re-gathers.",
            ("fsdp",), _other_convention("allgather_bytes")),
    Mistake("elements_not_bytes", "sent_per_gpu", _EXPLAIN["elements"], ("ring",),
            lambda v, g: _value(v, g, "sent_per_gpu") / _bytes(g) if g.get("params_m") else None),
    Mistake("ring_k_not_k_minus_1_time", "time", _EXPLAIN["ring_k"], ("ring",), _ring_k("time")),
    Mistake("busbw_factor_k", "busbw", _EXPLAIN["ring_k"], ("ring",), _ring_k("busbw")),
    Mistake("time_from_payload", "comm_ms",
            "The time on the wire is what ONE GPU sends over its own link (all links work at once), not the "
            "collective's payload over one link.", ("data_parallel", "tensor_parallel", "sequence_parallel", "fsdp"),
            lambda v, g: _payload_time(v, g) if g.get("link_gbps") else None),
    Mistake("one_micro_batch_only", "comm_ms",
            "Only one micro-batch's message was timed; all m messages cross the same link.", ("pipeline",),
            lambda v, g: _value(v, g, "message_bytes") / (g["link_gbps"] * GB) * 1000 if g.get("link_gbps") else None),
    Mistake("micro_batch_not_a_divisor", "max_micro_batch",
            "The micro-batches must be equal: the micro-batch size must divide a replica's sequences, not just "
            "fit the number of micro-batches the target needs.", ("layout_3d",),
            lambda v, g: _micro_floor(g) if g.get("target") else None),
    Mistake("split_ignored", "min_micro_batches",
            "The micro-batches must split the batch evenly: m must divide the batch, so the smallest m that meets "
            "the target is rounded up to a divisor.", ("bubble",),
            lambda v, g: min_micro_batches(g["stages"], exact(g["target"])) if g.get("batch") else None),
    Mistake("p_not_p_minus_1", "bubble", "The bubble is p−1 slots of m+p−1, not p of m+p.", ("bubble",),
            lambda v, g: g["stages"] / (g["micro_batches"] + g["stages"])),
    Mistake("bubble_over_compute", "bubble",
            "(p−1)/m is the bubble relative to the useful compute time; the question asks for the fraction of the "
            "whole iteration.", ("bubble",), lambda v, g: (g["stages"] - 1) / g["micro_batches"]),
    Mistake("allreduce_bus_factor", "busbw",
            "2(k−1)/k is AllReduce's bus factor (two ring phases); AllGather, ReduceScatter and AlltoAll have "
            "(k−1)/k, Broadcast, Reduce and send/recv 1.", ("collectives",),
            lambda v, g: None if g["collective"] == "allreduce" else
            _value(v, g, "algbw") * 2 * (g["gpus"] - 1) / g["gpus"]),
    Mistake("busbw_is_algbw", "busbw", "The bus bandwidth is the algorithm bandwidth times the bus factor.",
            ("collectives",),
            lambda v, g: None if bus_factor(g["collective"], g["gpus"]) == 1 else _value(v, g, "algbw")),
    Mistake("time_from_size", "time",
            "The time is what the busiest GPU sends over its link, the bus factor times S, not S itself.",
            ("collectives",), lambda v, g: None if bus_factor(g["collective"], g["gpus"]) == 1 else
            g["size_mb"] / g["link_gbps"]),
    Mistake("large_k_limit", "volume_psi",
            "2Ψ and 3Ψ are the limits for many GPUs; on k GPUs each collective sends (k−1)/k of its payload.",
            ("zero_volume",), lambda v, g: _value(v, g, "limit_psi")),
    Mistake("stage3_as_dp", "volume_psi",
            "Stage 3 gathers the parameters in the backward pass again: three collectives of Ψ, not two.",
            ("zero_volume",), lambda v, g: 2 * (g["gpus"] - 1) / g["gpus"] if str(g["stage"]) == "3" else None),
    Mistake("elements_not_bytes", "volume_bytes", _EXPLAIN["elements"], ("zero_volume",), _elements("volume_bytes")),
    Mistake("bubble_over_compute", "gpipe_fraction",
            "(p−1)/m is the bubble relative to the useful compute time; GPipe's fraction is of the whole "
            "iteration, (p−1)/(m+p−1).", ("bubble_schedules",),
            lambda v, g: (g["stages"] - 1) / g["micro_batches"]),
    Mistake("fraction_of_iteration", "bubble_1f1b",
            "Narayanan et al. state the bubble relative to the ideal compute time, (p−1)/m, not as a fraction of "
            "the iteration.", ("bubble_schedules",),
            lambda v, g: (g["stages"] - 1) / (g["micro_batches"] + g["stages"] - 1)),
    Mistake("chunks_ignored", "bubble_interleaved",
            "With v chunks per device each ramp slot is 1/v of a stage's time: the bubble is (p−1)/(v·m).",
            ("bubble_schedules",), lambda v, g: (g["stages"] - 1) / g["micro_batches"]),
    Mistake("chunks_ignored", "iteration_ms",
            "With v chunks per device each ramp slot is 1/v of a stage's time: the bubble is (p−1)/(v·m).",
            ("bubble_schedules",), lambda v, g: g["step_ms"] * (1 + (g["stages"] - 1) / g["micro_batches"])),
    Mistake("bubble_only", "iteration_ms", "The iteration takes the ideal time plus the bubble, not the bubble alone.",
            ("bubble_schedules",), lambda v, g: g["step_ms"] * (g["stages"] - 1) / (g["chunks"] * g["micro_batches"])),
    Mistake("dp_forgot_pp", "dp", "GPUs = TP x PP x DP: the pipeline degree divides the GPUs too.", ("layout_3d",),
            lambda v, g: g["gpus"] // g["tp"]),
    Mistake("elements_not_bytes", "dp_bytes", _EXPLAIN["elements"], ("homework2",), _elements("dp_bytes")),
    Mistake("forward_only", "tp_bytes", _EXPLAIN["forward_only"], ("homework2",), _forward_only("tp_bytes")),
    Mistake("allgather_convention", "allgather_bytes",
            "The other AllGather convention was used; the question states whether the backward pass re-gathers "
            "(counted once: the parameters stay gathered; both passes: ZeRO's 2Ψ).", ("homework2",),
            _other_convention("allgather_bytes")),
)

# ---- student paths: correct ways to compute a part from what the page shows ------------------------
# Every question asks for each part from the givens ("not from a rounded answer to an earlier part"), and the
# byte counts are exact products of integers, so the remaining ways a careful student can differ from the key
# are floating-point ones: at the "at most" boundary of the bubble target (p−1)(1−f)/f is an integer that a
# float computation lands just above, and its ceiling is one too many (issue 9: p = 4, f = 0.2 gives
# 12.000000000000002, so ceil gives 13).  The paths below declare two such ways; since other evaluation orders
# round differently again, the sampler draws no target that sits exactly on a bubble (`sample`, Rejected).


def _answer_from(variant: str, g: dict[str, Any], m: int) -> int | None:
    """What the student answers from their smallest m: bubble's split of the batch, or layout's micro-batch size."""
    if variant == "bubble":
        return smallest_split(m, g.get("batch", 0))
    replica = g["global_batch"] * g["tp"] * g["pp"] // g["gpus"]
    return largest_micro_batch(replica, m) if g.get("target") and m <= replica else None


def _float_ceil(variant: str, g: dict[str, Any], solution: Any) -> int | None:
    """m = ceil((p−1)(1−f)/f) evaluated in floating point, as a calculator or Python does."""
    p, f = g.get("stages", g.get("pp")), float(g.get("target") or 0.5)
    return _answer_from(variant, g, max(1, math.ceil((p - 1) * (1 - f) / f)))


def _float_scan(variant: str, g: dict[str, Any], solution: Any) -> int | None:
    """The first m whose bubble (p−1)/(m+p−1), evaluated in floating point, is at most f."""
    p, f = g.get("stages", g.get("pp")), float(g.get("target") or 0.5)
    m = max(1, math.floor((p - 1) * (1 - f) / f) - 2)
    while (p - 1) / (m + p - 1) > f:
        m += 1
    return _answer_from(variant, g, m)


PATHS = (
    StudentPath("float_ceiling", "min_micro_batches", _float_ceil.__doc__, ("bubble",), _float_ceil),
    StudentPath("float_scan", "min_micro_batches", _float_scan.__doc__, ("bubble",), _float_scan),
    StudentPath("float_ceiling", "max_micro_batch", _float_ceil.__doc__, ("layout_3d",), _float_ceil),
    StudentPath("float_scan", "max_micro_batch", _float_scan.__doc__, ("layout_3d",), _float_scan),
)


TOPIC = Topic(
    name="parallelism",
    description="bytes moved by data, pipeline, tensor, sequence and fully sharded parallelism; ring AllReduce; "
                "bubbles",
    variants=VARIANTS,
    sample=sample,
    solve=solve,
    mistakes=MISTAKES,
    paths=PATHS,
)
