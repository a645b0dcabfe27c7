"""Parallelism, issue 17: one NCCL collective with its bus factor (NCCL-tests PERFORMANCE.md), ZeRO's
communication volume in units of Psi (Rajbhandari et al. 2020, Sec. 7), and the pipeline bubbles of GPipe,
1F1B and interleaved 1F1B (Narayanan et al. 2021, Sec. 2.2); and the ring AllReduce's time, bytes and
bandwidths (seed 001; Patarasuk & Yuan 2009). Solvers only; givens, sampling and mistakes are in the
package's `givens`, `sampler` and `mistakes` with the other variants."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from exgen import numfmt as nf
from exgen.problem import Answer, Part, Solution, Step
from exgen.topics.parallelism.common import (GB, MB, MS, _b, _bytes, _dtype_step, bus_factor, exact, ring_factor,
                                             schedule_bubble, zero_volume)


_COLLECTIVE_WORDS = {"allreduce": "AllReduce", "allgather": "AllGather", "reducescatter": "ReduceScatter",
                     "broadcast": "Broadcast", "reduce": "Reduce", "alltoall": "AlltoAll", "sendrecv": "Send/recv"}
_HOW = {  # how the busiest GPU's bytes arise, per byte of S (the algorithms NCCL uses for large sizes); the text
    # follows "moves its data by", the formula (LaTeX) is the bus factor in k ("1": the busiest GPU sends all of S)
    "allreduce": ("a ring: a reduce-scatter phase and an all-gather phase of $k-1$ steps each, one chunk of "
                  "$S/k$ per step", r"\frac{2(k-1)}{k}"),
    "allgather": ("a ring of $k-1$ steps; in each a GPU forwards one GPU's share, $S/k$ of the gathered output",
                  r"\frac{k-1}{k}"),
    "reducescatter": ("a ring of $k-1$ steps; in each a GPU sends one partially reduced chunk of $S/k$",
                      r"\frac{k-1}{k}"),
    "broadcast": ("a pipelined chain: the buffer goes in small chunks from the root through every GPU, each GPU "
                  "but the last forwarding all of it", "1"),
    "reduce": ("a pipelined chain towards the root: every GPU but the root sends its partial sums of the whole "
               "buffer once", "1"),
    "alltoall": ("direct sends: each GPU sends the $k-1$ blocks of $S/k$ meant for the other GPUs and keeps its "
                 "own",
                 r"\frac{k-1}{k}"),
    "sendrecv": ("direct sends: every GPU sends its whole buffer to the next GPU (and receives one from the "
                 "previous), whatever $k$ is", "1"),
}


def _collective_numbers(g: dict[str, Any]) -> dict[str, Fraction]:
    factor = bus_factor(g["collective"], g["gpus"])
    n = exact(g["size_mb"]) * MB
    sent = factor * n
    algbw = n / (exact(g["measured_ms"]) * MS)
    return {"factor": factor, "n": n, "sent": sent, "time": sent / (exact(g["link_gbps"]) * GB),
            "algbw": algbw, "busbw": algbw * factor}


def _solve_collectives(g: dict[str, Any]) -> Solution:
    x = _collective_numbers(g)
    c, k = g["collective"], g["gpus"]
    how, formula = _HOW[c]
    size = rf"{nf.sig(x['n'] / MB, 6)}\ \text{{MB}}"
    # a factor of 1 is shown as the busiest GPU's bytes over S, not as "1 = 1"
    factor = (rf"{formula} = {formula.replace('k', str(k))} = {nf.sig(x['factor'], 6)}" if formula != "1" else
              rf"\frac{{{size}}}{{{size}}} = {nf.sig(x['factor'], 6)}")
    share = f"${formula}$ of $S$" if formula != "1" else "all of $S$, once"

    def steps() -> tuple[Step, ...]:
        return (
            Step(f"{_COLLECTIVE_WORDS[c]} over $k = {k}$ GPUs moves its data by {how}. The busiest GPU sends "
                 f"{share}; per byte of $S$, that is the bus factor (NCCL tests, PERFORMANCE.md):", factor),
            Step("Bytes the busiest GPU sends:",
                 rf"{nf.sig(x['factor'], 6)} \times {size} = {nf.sig(x['sent'] / MB, 6)}\ \text{{MB}}"),
            Step("Every GPU sends over its own link at once, so the time is what the busiest GPU sends over $B$:",
                 rf"T = \frac{{{nf.sig(x['sent'] / MB, 6)}\ \text{{MB}}}}{{{nf.num(g['link_gbps'])}\ \text{{GB/s}}}} "
                 rf"= {nf.sig(x['time'] / MS, 6)}\ \text{{ms}}"),
            Step("Algorithm bandwidth of the measured run:",
                 rf"\text{{algbw}} = \frac{{S}}{{t}} = \frac{{{size}}}{{{nf.num(g['measured_ms'])}\ \text{{ms}}}} = "
                 rf"{nf.sig(x['algbw'] / GB, 6)}\ \text{{GB/s}}"),
            Step("Bus bandwidth: the algorithm bandwidth times the bus factor:",
                 rf"\text{{busbw}} = {nf.sig(x['algbw'] / GB, 6)} \times {nf.sig(x['factor'], 6)} = "
                 rf"{nf.sig(x['busbw'] / GB, 6)}\ \text{{GB/s}}"),
        )
    parts = (
        Part("bus_factor", "bus factor", Answer("number", float(x["factor"]), sig=3)),
        Part("sent_per_gpu", "bytes the busiest GPU sends", Answer("number", float(x["sent"] / MB), unit="MB", sig=3)),
        Part("time", "ideal time", Answer("number", float(x["time"] / MS), unit="ms", sig=3)),
        Part("algbw", "algorithm bandwidth", Answer("number", float(x["algbw"] / GB), unit="GB/s", sig=3)),
        Part("busbw", "bus bandwidth", Answer("number", float(x["busbw"] / GB), unit="GB/s", sig=3)),
    )
    return Solution(parts, steps)


def _zero_numbers(g: dict[str, Any]) -> dict[str, Any]:
    stage, k = int(g["stage"]), g["gpus"]
    params = exact(g["params_b"]) * 10**9
    volume = zero_volume(stage, k)
    return {"stage": stage, "params": params, "psi_bytes": params * _bytes(g), "volume": volume,
            "bytes": volume * params * _bytes(g), "limit": 3 if stage == 3 else 2}


def _solve_zero(g: dict[str, Any]) -> Solution:
    x = _zero_numbers(g)
    k, b = g["gpus"], _bytes(g)
    collectives = ("a ReduceScatter of the gradients (each GPU keeps the sum of its shard) and, after the "
                   "optimizer step on the shards, an AllGather of the updated parameters: $\\Psi + \\Psi$ of "
                   "payload, as much as the AllReduce of plain data parallelism" if x["stage"] < 3 else
                   "an AllGather of the parameters in the forward pass, another in the backward pass (they are "
                   "freed after use), and a ReduceScatter of the gradients: $\\Psi + \\Psi + \\Psi$ of payload")
    n_coll = x["limit"]

    def steps() -> tuple[Step, ...]:
        return (
            _dtype_step(g),
            Step(f"Stage {x['stage']} per iteration runs {collectives}.",),
            Step(f"In a ring over $k = {k}$ GPUs each AllGather or ReduceScatter sends $(k-1)/k$ of its payload from "
                 "every GPU, so each GPU sends, in units of $\\Psi$ elements:",
                 rf"{n_coll} \times \frac{{k-1}}{{k}} = {n_coll} \times \frac{{{k - 1}}}{{{k}}} = {nf.sig(x['volume'], 6)}"),
            Step("As $k$ grows, $(k-1)/k \\to 1$: the volume tends to "
                 f"${n_coll}\\Psi$ (ZeRO, Rajbhandari et al. 2020, Sec. 7)."),
            Step(f"With ${b}$ {nf.plural(b, 'byte')} per element, the $\\Psi$ parameters take ${b}\\Psi$ bytes:",
                 rf"{b}\Psi = {nf.num(g['params_b'])} \times 10^9 \times {b}\ \text{{B}} = {nf.sig(x['psi_bytes'], 6)}\ "
                 rf"\text{{B}}, \quad {nf.sig(x['volume'], 6)} \times {nf.sig(x['psi_bytes'], 6)} = "
                 rf"{nf.sig(x['bytes'], 6)}\ \text{{B}}"),
        )
    parts = (
        Part("volume_psi", "elements each GPU sends, in units of Psi", Answer("number", float(x["volume"]), sig=3)),
        Part("limit_psi", "the large-k limit, in units of Psi", Answer("integer", x["limit"])),
        Part("psi_bytes", "the parameters in bytes", _b(x["psi_bytes"])),
        Part("volume_bytes", "bytes each GPU sends per iteration", _b(x["bytes"])),
    )
    return Solution(parts, steps)


def _schedule_numbers(g: dict[str, Any]) -> dict[str, Fraction]:
    p, m, v = g["stages"], g["micro_batches"], g["chunks"]
    ideal = exact(g["step_ms"])
    inter = schedule_bubble("interleaved", p, m, v)
    return {"gpipe": schedule_bubble("gpipe", p, m), "1f1b": schedule_bubble("1f1b", p, m), "interleaved": inter,
            "iteration": ideal * (1 + inter)}


def _solve_schedules(g: dict[str, Any]) -> Solution:
    x = _schedule_numbers(g)
    p, m, v = g["stages"], g["micro_batches"], g["chunks"]

    def steps() -> tuple[Step, ...]:
        return (
            Step(f"GPipe: a flush pipeline of $p = {p}$ stages spends $p - 1$ of $m + p - 1$ slots idle, as a fraction "
                 "of the whole iteration:",
                 rf"\frac{{p-1}}{{m+p-1}} = \frac{{{p - 1}}}{{{m + p - 1}}} = {nf.sig(x['gpipe'], 6)}"),
            Step("1F1B (PipeDream-Flush) has the same bubble time, $(p-1)$ forward and backward slots; Narayanan et al. "
                 "2021 state it relative to the ideal compute time of the $m$ micro-batches:",
                 rf"\frac{{p-1}}{{m}} = \frac{{{p - 1}}}{{{m}}} = {nf.sig(x['1f1b'], 6)}"),
            Step(f"Interleaved 1F1B: each device holds $v = {v}$ model chunks, so a slot of the ramp costs $1/v$ of a "
                 "stage's time and the bubble shrinks by $v$:",
                 rf"\frac{{p-1}}{{v\,m}} = \frac{{{p - 1}}}{{{v} \times {m}}} = {nf.sig(x['interleaved'], 6)}"),
            Step("An iteration with the interleaved schedule takes the ideal time plus its bubble:",
                 rf"{nf.num(g['step_ms'])}\ \text{{ms}} \times (1 + {nf.sig(x['interleaved'], 6)}) = "
                 rf"{nf.sig(x['iteration'], 6)}\ \text{{ms}}"),
        )
    parts = (
        Part("gpipe_fraction", "GPipe bubble fraction of the iteration", Answer("number", float(x["gpipe"]), sig=3)),
        Part("bubble_1f1b", "1F1B bubble over ideal compute", Answer("number", float(x["1f1b"]), sig=3)),
        Part("bubble_interleaved", "interleaved bubble over ideal compute",
             Answer("number", float(x["interleaved"]), sig=3)),
        Part("iteration_ms", "iteration time, interleaved", Answer("number", float(x["iteration"]), unit="ms", sig=3)),
    )
    return Solution(parts, steps)


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
