"""Parallelism: the named mistakes, each the key of a slip computed from the instance's solution."""

from __future__ import annotations

from typing import Any

from exgen.problem import Solution
from exgen.topics.base import Mistake
from exgen.topics.parallelism.common import (ALLREDUCES_PER_LAYER, GB, _bytes, bus_factor, exact, min_micro_batches,
                                             param_count)


def _elements(part: str, expression: bool = False):
    """Forgetting ×b bytes per element: the answer counts elements (fp16: half the bytes)."""
    def wrong(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        value = solution.value(part)
        if expression:
            coefficient, rest = value.split("*", 1)
            return f"{int(coefficient) // _bytes(g)}*{rest}"
        return value / _bytes(g)
    return wrong


def _ring_k(part: str):
    """k instead of k−1: 2N (AllReduce) or N (AllGather/ReduceScatter) per GPU, as if k chunks were sent."""
    def wrong(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        k = g["gpus"]
        return solution.value(part) * k / (k - 1)
    return wrong


def _times_gpus(part: str):
    def wrong(variant: str, g: dict[str, Any], solution: Solution) -> Any:
        return solution.value(part) * g["gpus"]
    return wrong


def _forward_only(part: str):
    return lambda v, g, s: s.value(part) / 2


def _other_convention(variant: str, g: dict[str, Any], solution: Solution) -> float:
    """fsdp's and homework2's AllGather payload under the convention the question does not state (the key's
    float type), from the givens."""
    return float((2 if g["convention"] == "once" else 1) * _bytes(g) * param_count(g["n_layer"], g["d_model"]))


def _micro_floor(g: dict[str, Any]) -> int:
    replica = g["global_batch"] * g["tp"] * g["pp"] // g["gpus"]
    return replica // min_micro_batches(g["pp"], exact(g["target"]))


def _payload_time(variant: str, g: dict[str, Any], solution: Solution) -> float:
    payload = {"data_parallel": ("grad_bytes",), "tensor_parallel": ("allreduce_bytes",),
               "sequence_parallel": ("collective_bytes",), "fsdp": ("allgather_bytes", "reducescatter_bytes")}
    return sum(solution.value(part) for part in payload[variant]) / (g["link_gbps"] * GB) * 1000


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
            lambda v, g, s: None if v == "collectives" and bus_factor(g["collective"], g["gpus"]) == 1 else
            _ring_k("sent_per_gpu")(v, g, s)),
    Mistake("total_not_per_gpu", "sent_per_gpu", _EXPLAIN["total"], ("data_parallel", "fsdp", "ring", "collectives"),
            _times_gpus("sent_per_gpu")),
    Mistake("payload_summed_over_gpus", "grad_bytes",
            "The payload is the gradient buffer that is aggregated (once per iteration), not k copies of it.",
            ("data_parallel",), _times_gpus("grad_bytes")),
    Mistake("elements_not_bytes", "forward_bytes", _EXPLAIN["elements"], ("pipeline",), _elements("forward_bytes")),
    Mistake("one_micro_batch_only", "forward_bytes",
            "Only one micro-batch's message was counted; the m micro-batches each cross the stage boundary.",
            ("pipeline",), lambda v, g, s: s.value("message_bytes")),
    Mistake("forward_only", "total_bytes", _EXPLAIN["forward_only"], ("pipeline",), _forward_only("total_bytes")),
    Mistake("elements_not_bytes", "allreduce_bytes", _EXPLAIN["elements"], ("tensor_parallel",),
            _elements("allreduce_bytes")),
    Mistake("forward_only", "allreduce_bytes", _EXPLAIN["forward_only"], ("tensor_parallel",),
            _forward_only("allreduce_bytes")),
    Mistake("per_layer_not_stack", "backward_allreduces",
            "Two AllReduces per layer in the backward pass; the stack has N_layer layers.", ("tensor_parallel",),
            lambda v, g, s: ALLREDUCES_PER_LAYER["backward"]),
    Mistake("both_passes", "backward_bytes", "Only the backward pass was asked; the forward pass's AllReduces "
            "are as many again.", ("tensor_parallel",), lambda v, g, s: s.value("allreduce_bytes")),
    Mistake("forward_only_count", "allreduces", _EXPLAIN["forward_only"], ("tensor_parallel",),
            lambda v, g, s: s.value("allreduces") // 2),
    Mistake("elements_not_bytes", "collective_bytes", _EXPLAIN["elements"], ("sequence_parallel",),
            _elements("collective_bytes")),
    Mistake("forward_only", "collective_bytes", _EXPLAIN["forward_only"], ("sequence_parallel",),
            _forward_only("collective_bytes")),
    Mistake("forward_only_count", "allgathers", _EXPLAIN["forward_only"], ("sequence_parallel",),
            lambda v, g, s: s.value("allgathers") // 2),
    Mistake("payload_divided_by_t", "payload_bytes",
            "The payload is the full B x L x D tensor the collective gathers or reduces, not one GPU's 1/t shard.",
            ("sequence_parallel",), lambda v, g, s: s.value("payload_bytes") / g["tp"]),
    Mistake("sp_on_top_of_tp", "sent_per_gpu", _EXPLAIN["sp_extra"], ("sequence_parallel",),
            lambda v, g, s: 2 * s.value("sent_per_gpu")),
    Mistake("allreduce_one_phase", "tp_sent_per_gpu",
            "A ring AllReduce is two phases (reduce-scatter, then all-gather): each GPU sends 2(t−1)/t of the "
            "payload, not (t−1)/t.", ("sequence_parallel",), lambda v, g, s: s.value("tp_sent_per_gpu") / 2),
    Mistake("ring_t_not_t_minus_1", "sent_per_gpu", _EXPLAIN["ring_k"], ("sequence_parallel",),
            lambda v, g, s: s.value("sent_per_gpu") * g["tp"] / (g["tp"] - 1)),
    Mistake("activations_not_sharded", "ln_bytes_sp",
            "Sequence parallelism shards the LayerNorm and dropout inputs along the sequence: each GPU holds L/t "
            "of the positions.", ("sequence_parallel",), lambda v, g, s: s.value("ln_bytes_tp")),
    Mistake("elements_not_bytes", "allgather_bytes", _EXPLAIN["elements"], ("fsdp",),
            _elements("allgather_bytes")),
    Mistake("allgather_convention", "allgather_bytes",
            "The other AllGather convention was used; the question states whether the backward pass re-gathers.",
            ("fsdp",), _other_convention),
    Mistake("elements_not_bytes", "sent_per_gpu", _EXPLAIN["elements"], ("ring",),
            lambda v, g, s: s.value("sent_per_gpu") / _bytes(g) if g.get("params_m") else None),
    Mistake("ring_k_not_k_minus_1_time", "time", _EXPLAIN["ring_k"], ("ring",), _ring_k("time")),
    Mistake("busbw_factor_k", "busbw", _EXPLAIN["ring_k"], ("ring",), _ring_k("busbw")),
    Mistake("time_from_payload", "comm_ms",
            "The time on the wire is what ONE GPU sends over its own link (all links work at once), not the "
            "collective's payload over one link.", ("data_parallel", "tensor_parallel", "sequence_parallel", "fsdp"),
            lambda v, g, s: _payload_time(v, g, s) if g.get("link_gbps") else None),
    Mistake("one_micro_batch_only", "comm_ms",
            "Only one micro-batch's message was timed; all m messages cross the same link.", ("pipeline",),
            lambda v, g, s: s.value("message_bytes") / (g["link_gbps"] * GB) * 1000 if g.get("link_gbps") else None),
    Mistake("micro_batch_not_a_divisor", "max_micro_batch",
            "The micro-batches must be equal: the micro-batch size must divide a replica's sequences, not just "
            "fit the number of micro-batches the target needs.", ("layout_3d",),
            lambda v, g, s: _micro_floor(g) if g.get("target") else None),
    Mistake("split_ignored", "min_micro_batches",
            "The micro-batches must split the batch evenly: m must divide the batch, so the smallest m that meets "
            "the target is rounded up to a divisor.", ("bubble",),
            lambda v, g, s: min_micro_batches(g["stages"], exact(g["target"])) if g.get("batch") else None),
    Mistake("p_not_p_minus_1", "bubble", "The bubble is p−1 slots of m+p−1, not p of m+p.", ("bubble",),
            lambda v, g, s: g["stages"] / (g["micro_batches"] + g["stages"])),
    Mistake("bubble_over_compute", "bubble",
            "(p−1)/m is the bubble relative to the useful compute time; the question asks for the fraction of the "
            "whole iteration.", ("bubble",), lambda v, g, s: (g["stages"] - 1) / g["micro_batches"]),
    Mistake("allreduce_bus_factor", "busbw",
            "2(k−1)/k is AllReduce's bus factor (two ring phases); AllGather, ReduceScatter and AlltoAll have "
            "(k−1)/k, Broadcast, Reduce and send/recv 1.", ("collectives",),
            lambda v, g, s: None if g["collective"] == "allreduce" else
            s.value("algbw") * 2 * (g["gpus"] - 1) / g["gpus"]),
    Mistake("busbw_is_algbw", "busbw", "The bus bandwidth is the algorithm bandwidth times the bus factor.",
            ("collectives",),
            lambda v, g, s: None if bus_factor(g["collective"], g["gpus"]) == 1 else s.value("algbw")),
    Mistake("time_from_size", "time",
            "The time is what the busiest GPU sends over its link, the bus factor times S, not S itself.",
            ("collectives",), lambda v, g, s: None if bus_factor(g["collective"], g["gpus"]) == 1 else
            g["size_mb"] / g["link_gbps"]),
    Mistake("large_k_limit", "volume_psi",
            "2Ψ and 3Ψ are the limits for many GPUs; on k GPUs each collective sends (k−1)/k of its payload.",
            ("zero_volume",), lambda v, g, s: s.value("limit_psi")),
    Mistake("stage3_as_dp", "volume_psi",
            "Stage 3 gathers the parameters in the backward pass again: three collectives of Ψ, not two.",
            ("zero_volume",), lambda v, g, s: 2 * (g["gpus"] - 1) / g["gpus"] if str(g["stage"]) == "3" else None),
    Mistake("elements_not_bytes", "volume_bytes", _EXPLAIN["elements"], ("zero_volume",), _elements("volume_bytes")),
    Mistake("bubble_over_compute", "gpipe_fraction",
            "(p−1)/m is the bubble relative to the useful compute time; GPipe's fraction is of the whole "
            "iteration, (p−1)/(m+p−1).", ("bubble_schedules",),
            lambda v, g, s: (g["stages"] - 1) / g["micro_batches"]),
    Mistake("fraction_of_iteration", "bubble_1f1b",
            "Narayanan et al. state the bubble relative to the ideal compute time, (p−1)/m, not as a fraction of "
            "the iteration.", ("bubble_schedules",),
            lambda v, g, s: (g["stages"] - 1) / (g["micro_batches"] + g["stages"] - 1)),
    Mistake("chunks_ignored", "bubble_interleaved",
            "With v chunks per device each ramp slot is 1/v of a stage's time: the bubble is (p−1)/(v·m).",
            ("bubble_schedules",), lambda v, g, s: (g["stages"] - 1) / g["micro_batches"]),
    Mistake("chunks_ignored", "iteration_ms",
            "With v chunks per device each ramp slot is 1/v of a stage's time: the bubble is (p−1)/(v·m).",
            ("bubble_schedules",), lambda v, g, s: g["step_ms"] * (1 + (g["stages"] - 1) / g["micro_batches"])),
    Mistake("bubble_only", "iteration_ms", "The iteration takes the ideal time plus the bubble, not the bubble alone.",
            ("bubble_schedules",), lambda v, g, s: g["step_ms"] * (g["stages"] - 1) / (g["chunks"] * g["micro_batches"])),
    Mistake("dp_forgot_pp", "dp", "GPUs = TP x PP x DP: the pipeline degree divides the GPUs too.", ("layout_3d",),
            lambda v, g, s: g["gpus"] // g["tp"]),
    Mistake("elements_not_bytes", "dp_bytes", _EXPLAIN["elements"], ("homework2",), _elements("dp_bytes")),
    Mistake("forward_only", "tp_bytes", _EXPLAIN["forward_only"], ("homework2",), _forward_only("tp_bytes")),
    Mistake("allgather_convention", "allgather_bytes",
            "The other AllGather convention was used; the question states whether the backward pass re-gathers "
            "(counted once: the parameters stay gathered; both passes: ZeRO's 2Ψ).", ("homework2",),
            _other_convention),
)
