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

The topic is a package with one job per module: `common` (constants and the exact formulas), `givens` (the
variants, their givens and the check of a user's), the solvers by kind of parallelism (`data`, `tensor`,
`pipeline`, `collectives`, `homework2`), `dispatch` (`solve`), `sampler`, `mistakes` and `student_paths`.
This module assembles them into TOPIC.
"""

from __future__ import annotations

from exgen.topics.base import Topic
from exgen.topics.parallelism.common import (  # noqa: F401 — re-exported: tests read par.CONVENTIONS and the like
    ALLREDUCES_PER_LAYER,
    COLLECTIVES,
    CONVENTIONS,
    DTYPE_BYTES,
    GB,
    MB,
    MS,
    PARAMS_PER_LAYER,
    SCHEDULES,
    SP_COLLECTIVES_PER_LAYER,
    SYMBOLS,
    ZERO_STAGES,
    bubble_fraction,
    bus_factor,
    exact,
    largest_micro_batch,
    min_micro_batches,
    monomial,
    param_count,
    ring_factor,
    schedule_bubble,
    smallest_split,
    zero_volume,
)
from exgen.topics.parallelism.dispatch import solve
from exgen.topics.parallelism.givens import VARIANTS
from exgen.topics.parallelism.mistakes import MISTAKES
from exgen.topics.parallelism.sampler import RING_LINKS, SIZES, sample  # noqa: F401 — re-exported ranges
from exgen.topics.parallelism.student_paths import PATHS

__all__ = [  # the topic, its parts, and the constants and formulas tests and other modules read as par.X
    "TOPIC", "VARIANTS", "MISTAKES", "PATHS", "SIZES", "RING_LINKS", "sample", "solve",
    "ALLREDUCES_PER_LAYER", "COLLECTIVES", "CONVENTIONS", "DTYPE_BYTES", "GB", "MB", "MS", "PARAMS_PER_LAYER",
    "SCHEDULES", "SP_COLLECTIVES_PER_LAYER", "SYMBOLS", "ZERO_STAGES", "bubble_fraction", "bus_factor", "exact",
    "largest_micro_batch", "min_micro_batches", "monomial", "param_count", "ring_factor", "schedule_bubble",
    "smallest_split", "zero_volume",
]


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
