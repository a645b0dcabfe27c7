"""Parallelism: the givens of every variant (their bounds), the variants, and the check of a user's givens."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from exgen.givens import check
from exgen.topics.base import Given, InvalidGivens, Variant
from exgen.topics.parallelism.common import (COLLECTIVES, CONVENTIONS, DTYPE_BYTES, ZERO_STAGES, exact,
                                             min_micro_batches)


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


_DEFAULTED = {v.name: frozenset(x.name for x in v.givens if x.default is not None) for v in VARIANTS}


def _check(variant: str, g: dict[str, Any]) -> None:
    """The givens' declared kinds and bounds (exgen.givens.check), then what no single given's bounds say, with a
    message a TA can act on."""
    check(_SPECS[variant], g)

    def divides(a: str, b: str, what: str) -> None:
        if g[b] % g[a]:
            raise InvalidGivens(f"{a} = {g[a]} must divide {b} = {g[b]} ({what})")

    if variant == "ring" and bool(g.get("size_mb")) == bool(g.get("params_m")):
        raise InvalidGivens("give exactly one of size_mb (the buffer in MB) and params_m (a model's gradients)")
    if variant == "bubble_schedules":
        divides("stages", "micro_batches", "the interleaved schedule runs micro-batches in groups of p")
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
    if variant == "bubble":
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
