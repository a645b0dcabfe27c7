"""Parallelism reproduced by counting the bytes that cross real torch.distributed collectives.

How a key at the question's dimensions (D = 4096, 48 layers, …) is verified without running that model:
1. Measure (exgen/verify/distributed.py, ONE process group of 4 gloo ranks for a whole `exgen verify`):
   one training iteration of a small stack with the questions' structure (per layer QKV, O, MLP D→4D→D),
   per scheme, at a base point (N_layer=1, B=4, L=3, D=12, fp16, k=2 ranks), at the base point with each
   dimension doubled, at a check point with all dimensions changed, in bf16 and fp32, and on k=4 ranks.
2. Fit the scaling law: the exponent of each dimension is log2 of the doubled/base ratio and must be an
   integer; the law (a monomial) must predict the check point exactly, and the bytes must not depend on k
   (the payload of a collective is the same on 2 and on 4 GPUs). Anything else raises MeasurementError.
3. Extrapolate: the measured coefficient per dtype times the question's dimensions to the fitted powers.
   Expression answers are written from the fitted law (coefficient and exponents, in the topic's
   `24*N_layer*D^2` form) and re-evaluated by this module's own small parser at every measured point.
Sequence parallelism (`sp`) runs torch's own plans — SequenceParallel on the two LayerNorms and
Colwise/RowwiseParallel with input/output layouts Shard(1) — which DO run on CPU gloo in torch 2.13, so no
hand-written collectives are needed; its base and check points use sequence lengths 4 and 6 (divisible by the
k = 2 and 4 ranks: no padded shards). Each sp run also checks the sharded output against the unsharded layer,
and measures one LayerNorm's input per rank with the SP plan and with the plain TP plan on the same block
(the per-rank share is fitted as c/k from k = 2 and 4). TP's bytes per GPU come from the `tp` harness.
The ring factor (bytes each GPU sends per byte of payload) is measured with a send/recv ring on k = 2, 3, 4
ranks, fitted as a + b/k from k = 2 and 4, checked at k = 3, and evaluated at the question's k. The bubble
is measured on a discrete-event simulation of the GPipe schedule (not torch: the idle time of a schedule
is a property of the schedule, not of a kernel); 3-D layouts by laying ranks out in a torch tensor.
Nothing here imports the topic's solver.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import torch

from exgen.verify.distributed import Config, MeasurementError, backend_for, measure

DIMS = ("n_layer", "batch", "seq", "d")  # Config fields
SYMBOL = {"n_layer": "N_layer", "batch": "B", "seq": "L", "d": "D"}  # in expression answers, in this order
GIVEN = {"n_layer": "n_layer", "batch": "batch", "seq": "seq_len", "d": "d_model"}
BASE = {"n_layer": 1, "batch": 4, "seq": 3, "d": 12}
CHECK = {"n_layer": 3, "batch": 8, "seq": 5, "d": 36}
# sequence parallelism shards L over k = 2 and 4 ranks: sequence lengths divisible by them (no padded shards)
SP_BASE = {**BASE, "seq": 4}
SP_CHECK = {**CHECK, "seq": 6}
POINTS = {"sp": (SP_BASE, SP_CHECK)}  # (base, check) per scheme; the others use (BASE, CHECK)
SCHEMES = ("dp", "tp", "sp", "fsdp_once", "fsdp_both", "pp")
RING_K = (2, 3, 4)
RING_ELEMENTS = (24, 48)
COLLECTIVE_OPS = ("allgather", "reducescatter", "broadcast", "reduce", "alltoall", "sendrecv")  # coll harness


def _config(scheme: str, dims: dict[str, int], dtype: str = "fp16", k: int = 2, micro: int = 2) -> Config:
    dims = dict(dims)
    if scheme == "pp":
        dims["n_layer"] *= 2  # two stages of n_layer layers each
    return Config(scheme, k=k, dtype=dtype, micro=micro, **dims)


def _doubled(x: str, base: dict[str, int] = BASE) -> dict[str, int]:
    return {**base, x: 2 * base[x]}


def plan() -> list[Config]:
    """Every measurement one `exgen verify` needs, whatever its problems: the batch is fixed and small."""
    configs = []
    for s in SCHEMES:
        base, check = POINTS.get(s, (BASE, CHECK))
        configs += [_config(s, base), _config(s, check)] + [_config(s, _doubled(x, base)) for x in DIMS]
        configs += [_config(s, base, dtype) for dtype in ("bf16", "fp32")]
        configs.append(_config(s, base, micro=4) if s == "pp" else _config(s, base, k=4))
    configs += [Config("ring", k=k, dtype="fp32", size=n) for k in RING_K for n in RING_ELEMENTS]
    configs += [Config("coll", k=k, dtype="fp32", size=n, op=op) for op in COLLECTIVE_OPS for k in RING_K
                for n in RING_ELEMENTS]
    return configs


_MEASURED: dict[Config, dict[str, int]] | None = None
_TRANSPORT: tuple[str, str] = ("gloo", "gloo on CPU")  # (backend, in words), chosen by the first device asked


def use_device(device: torch.device) -> str:
    """Run the process group on NCCL when `device` is CUDA and there is a GPU per rank, else on gloo
    (distributed.backend_for); decided once, before the first measurement. Returns the transport in words."""
    global _TRANSPORT
    if _MEASURED is None:
        _TRANSPORT = backend_for(device.type, max(RING_K))
    return _TRANSPORT[1]


def measurements() -> dict[Config, dict[str, int]]:
    """The plan's counters, measured once per process (one process group for a whole worksheet)."""
    global _MEASURED
    if _MEASURED is None:
        _MEASURED = measure(plan(), world=max(RING_K), backend=_TRANSPORT[0])
    return _MEASURED


# ---- scaling laws --------------------------------------------------------------------------------------


class Law:
    """bytes = coefficient[dtype] · Π dim^exponent, fitted from measurements and checked (see module doc)."""

    def __init__(self, scheme: str, quantity: str) -> None:
        m = measurements()
        self.base, self.check = POINTS.get(scheme, (BASE, CHECK))
        base = m[_config(scheme, self.base)][quantity]
        if base <= 0:
            raise MeasurementError(f"{scheme}: nothing measured for {quantity}")
        self.exponents = {}
        for x in DIMS:
            ratio = Fraction(m[_config(scheme, _doubled(x, self.base))][quantity], base)
            e = round(math.log2(ratio)) if ratio > 0 else -1
            if e < 0 or Fraction(2) ** e != ratio:
                raise MeasurementError(f"{scheme}.{quantity}: doubling {x} scaled it by {ratio}, not a power of 2")
            self.exponents[x] = e
        self.coefficient = {}
        for dtype in ("fp16", "bf16", "fp32"):
            value = m[_config(scheme, self.base, dtype)][quantity]
            self.coefficient[dtype] = Fraction(value) / self._powers(self.base)
        predicted = self.at(self.check)
        measured = m[_config(scheme, self.check)][quantity]
        if predicted != measured:
            raise MeasurementError(f"{scheme}.{quantity}: the law predicts {predicted} at {self.check}, "
                                   f"measured {measured}")
        other = _config(scheme, self.base, micro=4) if scheme == "pp" else _config(scheme, self.base, k=4)
        if quantity in ("allreduce", "bytes", "calls", "allgather", "reducescatter", "forward", "backward",
                        "allgather_calls", "reducescatter_calls", "ln_input_tp") \
                and m[other][quantity] != base:
            raise MeasurementError(f"{scheme}.{quantity}: {base} with the base layout but {m[other][quantity]} "
                                   f"with {other}")
        self.points = [(dims, m[_config(scheme, dims)][quantity])
                       for dims in [self.base, self.check] + [_doubled(x, self.base) for x in DIMS]]

    def _powers(self, dims: dict[str, int]) -> int:
        return math.prod(dims[x] ** e for x, e in self.exponents.items())

    def at(self, dims: dict[str, int], dtype: str = "fp16") -> Fraction:
        return self.coefficient[dtype] * self._powers(dims)

    def given(self, g: dict[str, Any]) -> float:
        """The law at a question's givens (dimensions the law does not depend on may be absent)."""
        return float(self.at({x: g[GIVEN[x]] if self.exponents[x] else 1 for x in DIMS}, g.get("dtype", "fp16")))

    def expression(self, dtype: str) -> str:
        """The law as an expression answer; checked by evaluating it at every measured point."""
        c = self.coefficient[dtype]
        if c.denominator != 1:
            raise MeasurementError(f"non-integer coefficient {c}")
        factors = [str(c.numerator)] + [SYMBOL[x] if e == 1 else f"{SYMBOL[x]}^{e}"
                                        for x in DIMS for e in [self.exponents[x]] if e]
        text = "*".join(factors)
        scale = Fraction(self.coefficient[dtype], self.coefficient["fp16"])
        for dims, value in self.points:
            if evaluate(text, {SYMBOL[x]: dims[x] for x in DIMS}) != value * scale:
                raise MeasurementError(f"{text} disagrees with the measurement {value} at {dims}")
        return text


def ring_factor(phase: str, k: int) -> float:
    """Bytes each GPU sends per byte of payload: fitted a + b/k from k = 2, 4, checked at 3 and for size."""
    m = measurements()

    def factor(kk: int, n: int = RING_ELEMENTS[0]) -> Fraction:
        r = m[Config("ring", k=kk, dtype="fp32", size=n)]
        if not r["correct"]:
            raise MeasurementError(f"the hand-written ring AllReduce on {kk} ranks gave a wrong sum")
        return Fraction(r[phase], r["payload"])

    b = (factor(2) - factor(4)) / (Fraction(1, 2) - Fraction(1, 4))
    a = factor(2) - b / 2
    if a + b / 3 != factor(3) or any(factor(kk, RING_ELEMENTS[1]) != factor(kk) for kk in RING_K):
        raise MeasurementError("the ring's bytes per GPU do not follow a + b/k, or depend on the size")
    return float(a + b / k)


def bus_factor(collective: str, k: int) -> float:
    """Most bytes any rank sent per byte of S in the hand-written collective, fitted a + b/k from k = 2, 4 and
    checked at k = 3 and at a second size; AllReduce from the ring harness (both phases)."""
    if collective == "allreduce":
        return ring_factor("sent", k)
    a, b = bus_fit(collective)
    return float(a + b / k)


def bus_fit(collective: str) -> tuple[Fraction, Fraction]:
    """(a, b) of the measured bytes per rank a + b/k of a hand-written collective (a: the many-GPU limit)."""
    m = measurements()

    def factor(kk: int, n: int = RING_ELEMENTS[0]) -> Fraction:
        r = m[Config("coll", k=kk, dtype="fp32", size=n, op=collective)]
        if not r["correct"]:
            raise MeasurementError(f"the hand-written {collective} on {kk} ranks disagrees with torch.distributed's")
        return Fraction(r["sent_max"], r["payload"])

    b = (factor(2) - factor(4)) / (Fraction(1, 2) - Fraction(1, 4))
    a = factor(2) - b / 2
    if a + b / 3 != factor(3) or any(factor(kk, RING_ELEMENTS[1]) != factor(kk) for kk in RING_K):
        raise MeasurementError(f"{collective}: the bytes per rank do not follow a + b/k, or depend on the size")
    return a, b


# ---- a tiny expression evaluator (numbers, symbols, + - * / ^, parentheses), never eval ------------------


def evaluate(text: str, values: dict[str, int | Fraction]) -> Fraction:
    """Recursive descent over: expr := term (('+'|'-') term)*; term := unary (('*'|'/') unary)*;
    unary := '-' unary | power; power := atom ('^' unary)?; atom := number | symbol | '(' expr ')'
    (so -2^2 = -4 and 2^3^2 = 2^9, as in mathematics)."""
    tokens: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c.isdigit() or c == ".":
            j = i
            while j < len(text) and (text[j].isdigit() or text[j] == "."):
                j += 1
            tokens.append(text[i:j])
            i = j
        elif c.isalpha() or c == "_":
            j = i
            while j < len(text) and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(text[i:j])
            i = j
        elif c in "+-*/^()":
            tokens.append(c)
            i += 1
        else:
            raise ValueError(f"unexpected {c!r} in {text!r}")
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError(f"unexpected end of {text!r}")
        pos += 1
        return tokens[pos - 1]

    def expr() -> Fraction:
        value = term()
        while peek() in ("+", "-"):
            value = value + term() if take() == "+" else value - term()
        return value

    def term() -> Fraction:
        value = unary()
        while peek() in ("*", "/"):
            value = value * unary() if take() == "*" else value / unary()
        return value

    def power() -> Fraction:
        base = atom()
        if peek() == "^":
            take()
            exponent = unary()
            if exponent.denominator != 1 or abs(exponent) > 64:
                raise ValueError("exponents must be small integers")
            return base ** int(exponent)
        return base

    def unary() -> Fraction:
        if peek() == "-":
            take()
            return -unary()
        return power()

    def atom() -> Fraction:
        token = take()
        if token == "(":
            value = expr()
            if take() != ")":
                raise ValueError("missing )")
            return value
        if token[0].isdigit() or token[0] == ".":
            return Fraction(token)
        if token in values:
            return Fraction(values[token])
        raise ValueError(f"unknown symbol {token!r}")

    result = expr()
    if pos != len(tokens):
        raise ValueError(f"trailing {tokens[pos]!r} in {text!r}")
    return result


# ---- the bubble of a GPipe schedule, simulated --------------------------------------------------------


def gpipe_idle_fraction(p: int, m: int, t_forward: int = 1, t_backward: int = 2) -> Fraction:
    """Event simulation: stage s runs micro-batch j's forward once stage s−1 has finished it, all forwards
    first (a flush), then the backwards from the last stage down; the idle share of stage 0's timeline."""
    free = [0] * p
    done = [[0] * m for _ in range(p)]
    for j in range(m):
        for s in range(p):
            start = max(free[s], done[s - 1][j] if s else 0)
            free[s] = done[s][j] = start + t_forward
    back = [[0] * m for _ in range(p)]
    for j in range(m):
        for s in reversed(range(p)):
            start = max(free[s], back[s + 1][j] if s < p - 1 else done[p - 1][m - 1])
            free[s] = back[s][j] = start + t_backward
    makespan = max(free)
    busy = m * (t_forward + t_backward)
    return Fraction(makespan - busy, makespan)


def _schedule_order(schedule: str, p: int, m: int, v: int, d: int) -> list[tuple[str, int, int]]:
    """Megatron-LM's op order on device d (schedules.py): ('F'|'B', micro-batch, virtual stage). 1F1B: p−d−1
    warm-up forwards; interleaved: 2(p−d−1) + (v−1)p, micro-batches in groups of p per model chunk."""
    total = m * v

    def op(kind: str, k: int) -> tuple[str, int, int]:
        c = (k // p) % v
        return kind, (k // (p * v)) * p + k % p, (c if kind == "F" else v - 1 - c) * p + d

    warm = min(p - d - 1, m) if schedule == "1f1b" else min(2 * (p - d - 1) + (v - 1) * p, total)
    order, f, b = [op("F", i) for i in range(warm)], warm, 0
    while f < total:
        order += [op("F", f), op("B", b)]
        f, b = f + 1, b + 1
    return order + [op("B", i) for i in range(b, total)]


def schedule_bubble(schedule: str, p: int, m: int, v: int = 1, t_forward: int = 1, t_backward: int = 2) -> Fraction:
    """Event simulation of a 1F1B or interleaved schedule: every device runs its ops in order, each as soon as
    the device is free and its input is ready (the previous virtual stage's forward, the next one's backward);
    returns (makespan − ideal) / ideal, the bubble over the ideal compute time. Virtual stage s lives on device
    s mod p; one chunk's forward takes t_forward, its backward t_backward."""
    v = v if schedule == "interleaved" else 1
    last = p * v - 1
    orders = [_schedule_order(schedule, p, m, v, d) for d in range(p)]
    done: dict[tuple[str, int, int], int] = {}
    free, pos = [0] * p, [0] * p
    left = sum(len(o) for o in orders)
    while left:
        progressed = False
        for d in range(p):
            while pos[d] < len(orders[d]):
                kind, j, s = orders[d][pos[d]]
                dep = (("F", j, s - 1) if s else None) if kind == "F" else \
                    ("B", j, s + 1) if s < last else ("F", j, last)
                if dep is not None and dep not in done:
                    break
                start = max(free[d], done[dep] if dep else 0)
                free[d] = done[(kind, j, s)] = start + (t_forward if kind == "F" else t_backward)
                pos[d], left, progressed = pos[d] + 1, left - 1, True
        if not progressed:
            raise MeasurementError(f"the {schedule} schedule deadlocked at p={p}, m={m}, v={v}")
    ideal = m * v * (t_forward + t_backward)
    return Fraction(max(free) - ideal, ideal)


# ---- reproduction per variant ---------------------------------------------------------------------------


def _on_the_wire(g: dict[str, Any], values: dict[str, Any], sent: float) -> dict[str, Any]:
    """Hard twist: the measured bytes one rank sends, over one link's bandwidth (every rank sends at once)."""
    if g.get("link_gbps"):
        values["comm_ms"] = sent / (g["link_gbps"] * 1e9) * 1e3
    return values


def _data_parallel(g: dict[str, Any]) -> dict[str, Any]:
    law = Law("dp", "allreduce")
    payload = law.given(g)
    sent = ring_factor("sent", g["gpus"]) * payload
    return _on_the_wire(g, {"grad_bytes": payload, "grad_expr": law.expression(g.get("dtype", "fp16")),
                            "sent_per_gpu": sent}, sent)


def _pipeline(g: dict[str, Any]) -> dict[str, Any]:
    forward, backward = Law("pp", "forward"), Law("pp", "backward")
    m = measurements()
    messages = {mb: m[_config("pp", BASE, micro=mb)]["messages_forward"] for mb in (2, 4)}
    if messages != {2: 2, 4: 4}:
        raise MeasurementError(f"GPipe sent {messages} forward messages for 2 and 4 micro-batches")
    stages = len(torch.arange(g["n_layer"]).split(g["layers_per_stage"]))
    # the batch split along its sequences only: 10^6 x 10^7 x 10^6 activations have more elements than int64 holds
    micro = torch.empty(g["batch"], device="meta").tensor_split(g["micro_batches"])
    fwd, bwd = forward.given(g), backward.given(g)
    return _on_the_wire(g, {"stages": stages, "micro_shape": [len(micro[0]), g["seq_len"], g["d_model"]],
                            "message_bytes": fwd / len(micro),
                            "forward_bytes": fwd, "backward_bytes": bwd, "total_bytes": fwd + bwd,
                            "forward_expr": forward.expression(g.get("dtype", "fp16"))}, fwd)


def _tensor_parallel(g: dict[str, Any]) -> dict[str, Any]:
    m = measurements()
    local = {k: m[_config("tp", BASE, k=k)]["local_heads"] for k in (2, 4)}
    if local != {2: 2, 4: 1}:  # the base model has 4 heads
        raise MeasurementError(f"tensor parallelism kept {local} local heads of 4")
    law = Law("tp", "bytes")
    values = {"heads_per_gpu": len(torch.arange(g["heads"]).tensor_split(g["tp"])[0]),
              "allreduces": round(Law("tp", "calls").given(g)), "allreduce_bytes": law.given(g),
              "forward_allreduces": round(Law("tp", "calls_forward").given(g)),
              "backward_allreduces": round(Law("tp", "calls_backward").given(g)),
              "backward_bytes": Law("tp", "bytes_backward").given(g),
              "allreduce_expr": law.expression(g.get("dtype", "fp16"))}
    return _on_the_wire(g, values, ring_factor("sent", g["tp"]) * law.given(g))


def _sequence_parallel(g: dict[str, Any]) -> dict[str, Any]:
    """Megatron-SP measured through torch's own SequenceParallel + Colwise/Rowwise(Shard(1)) plans on gloo."""
    m = measurements()
    sp = [v for c, v in m.items() if c.scheme == "sp"]
    if not all(v["correct"] for v in sp) or any(v["allreduce"] for v in sp):
        raise MeasurementError("sequence parallelism did not reproduce the unsharded layer, or still all-reduced")
    forward = {v["allgather_forward"] * 2 - v["allgather_calls"] for v in sp} | \
        {v["reducescatter_forward"] * 2 - v["reducescatter_calls"] for v in sp}
    if forward != {0}:
        raise MeasurementError("the backward pass did not run as many collectives as the forward pass")
    t, dtype = g["tp"], g.get("dtype", "fp16")
    gather, scatter = Law("sp", "allgather"), Law("sp", "reducescatter")
    ag, rs = gather.given(g), scatter.given(g)
    calls = Law("sp", "allgather_calls"), Law("sp", "reducescatter_calls")
    per_layer = [round(law.given({**g, "n_layer": 1})) for law in calls]
    one = ag / (per_layer[0] * g["n_layer"])  # payload of one collective
    sent = ring_factor("sent_all_gather", t) * ag + ring_factor("sent_reduce_scatter", t) * rs
    tp_sent = ring_factor("sent", t) * Law("tp", "bytes").given(g)  # measured on the tensor-parallel harness
    # one LayerNorm's input per rank: the whole activation with TP alone, 1/k of it with SP (k = 2 and 4 measured)
    base = m[_config("sp", SP_BASE)]
    k4 = m[_config("sp", SP_BASE, k=4)]
    if not base["ln_input_sp"] * 2 == k4["ln_input_sp"] * 4 == base["ln_input_tp"] == k4["ln_input_tp"]:
        raise MeasurementError("the LayerNorm input per rank is not the whole activation / k")
    ln_tp = Law("sp", "ln_input_tp").given(g)
    return _on_the_wire(g, {"allgathers": round(calls[0].given(g)), "reducescatters": round(calls[1].given(g)), "payload_bytes": one,
            "collective_bytes": ag + rs, "total_expr": _sum_expression(gather, scatter, dtype), "sent_per_gpu": sent,
            "tp_sent_per_gpu": tp_sent, "ln_bytes_tp": ln_tp,
            "ln_bytes_sp": Law("sp", "ln_input_sp").given(g) * 2 / t}, sent)


def _sum_expression(a: Law, b: Law, dtype: str) -> str:
    """Two measured laws with the same exponents, added: one monomial, checked at every measured point."""
    if a.exponents != b.exponents or a.base != b.base:
        raise MeasurementError("AllGather and ReduceScatter bytes scale differently")
    coefficient = a.coefficient[dtype] + b.coefficient[dtype]
    if coefficient.denominator != 1:
        raise MeasurementError(f"non-integer coefficient {coefficient}")
    text = f"{coefficient.numerator}*{a.expression(dtype).split('*', 1)[1]}"
    scale = Fraction(coefficient, a.coefficient["fp16"] + b.coefficient["fp16"])
    for (dims, x), (_, y) in zip(a.points, b.points):
        if evaluate(text, {SYMBOL[d]: dims[d] for d in DIMS}) != (x + y) * scale:
            raise MeasurementError(f"{text} disagrees with the measurements {x} + {y} at {dims}")
    return text


def _fsdp(g: dict[str, Any]) -> dict[str, Any]:
    scheme = "fsdp_once" if g["convention"] == "once" else "fsdp_both"
    gather, scatter = Law(scheme, "allgather"), Law(scheme, "reducescatter")
    ag, rs = gather.given(g), scatter.given(g)
    sent = ring_factor("sent_all_gather", g["gpus"]) * ag + ring_factor("sent_reduce_scatter", g["gpus"]) * rs
    dp_sent = ring_factor("sent", g["gpus"]) * Law("dp", "allreduce").given(g)
    return _on_the_wire(g, {"allgather_bytes": ag, "reducescatter_bytes": rs,
                            "allgather_expr": gather.expression(g.get("dtype", "fp16")), "sent_per_gpu": sent,
                            "ratio_to_dp": sent / dp_sent}, sent)


def _ring(g: dict[str, Any]) -> dict[str, Any]:
    k = g["gpus"]
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[g.get("dtype", "fp16")]
    n = g["size_mb"] * 1e6 if g.get("size_mb") else g["params_m"] * 1e6 * torch.empty((), dtype=dtype).element_size()
    sent = ring_factor("sent", k) * n
    algbw = n / (g["measured_ms"] * 1e-3)
    # every GPU sends its chunks over its own link, all links at once: the time is one GPU's bytes / B
    return {"sent_per_gpu": sent / 1e6, "time": sent / (g["link_gbps"] * 1e9) * 1e3, "algbw": algbw / 1e9,
            "busbw": algbw * ring_factor("sent", k) / 1e9}


def _smallest_m(p: int, target: Fraction) -> int:
    """The first m whose simulated GPipe bubble is at most the target."""
    low, high = 0, 1  # the simulated bubble falls as m grows: double, then bisect, to the first m within target
    while gpipe_idle_fraction(p, high) > target:
        low, high = high, 2 * high
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if gpipe_idle_fraction(p, mid) > target else (low, mid)
    return high


def _bubble(g: dict[str, Any]) -> dict[str, Any]:
    p, target = g["stages"], Fraction(str(g["target"]))
    m_min = _smallest_m(p, target)
    if g.get("batch"):  # hard twist: equal micro-batches, so the first m at or above that divides the batch
        m_min = next(mb for mb in range(m_min, g["batch"] + 1) if g["batch"] % mb == 0)
    return {"bubble": float(gpipe_idle_fraction(p, g["micro_batches"])), "min_micro_batches": m_min}


def _layout(g: dict[str, Any]) -> dict[str, Any]:
    ranks = torch.arange(g["gpus"]).reshape(g["pp"], -1, g["tp"])  # (PP, DP, TP) coordinates of every GPU
    dp = ranks.shape[1]
    replica = torch.arange(g["global_batch"]).reshape(dp, -1)[0]  # the sequences one pipeline processes
    m = len(replica.split(g["micro_batch"]))
    values = {"dp": dp, "layers_per_stage": len(torch.arange(g["n_layer"]).tensor_split(g["pp"])[0]),
              "micro_batches": m, "bubble": float(gpipe_idle_fraction(g["pp"], m))}
    if g.get("target"):  # hard twist: the largest equal split of the replica's sequences whose bubble meets it
        sizes = [b for b in range(1, len(replica) + 1) if len(replica) % b == 0]
        values["max_micro_batch"] = max(b for b in sizes if gpipe_idle_fraction(g["pp"], len(replica) // b)
                                        <= Fraction(str(g["target"])))
    return values


def _homework2(g: dict[str, Any]) -> dict[str, Any]:
    dtype = g.get("dtype", "fp16")
    dp, pp, tp = Law("dp", "allreduce"), Law("pp", "forward"), Law("tp", "bytes")
    scheme = "fsdp_both" if g.get("convention") == "both_passes" else "fsdp_once"
    ag, rs = Law(scheme, "allgather"), Law(scheme, "reducescatter")
    return {"dp_bytes": dp.given(g), "dp_expr": dp.expression(dtype), "pp_bytes": pp.given(g),
            "pp_expr": pp.expression(dtype), "tp_bytes": tp.given(g), "tp_expr": tp.expression(dtype),
            "allgather_bytes": ag.given(g), "reducescatter_bytes": rs.given(g), "fsdp_expr": ag.expression(dtype)}


def _collectives(g: dict[str, Any]) -> dict[str, Any]:
    factor = bus_factor(g["collective"], g["gpus"])
    n = g["size_mb"] * 1e6
    algbw = n / (g["measured_ms"] * 1e-3)
    return {"bus_factor": factor, "sent_per_gpu": factor * n / 1e6,
            "time": factor * n / (g["link_gbps"] * 1e9) * 1e3, "algbw": algbw / 1e9, "busbw": algbw * factor / 1e9}


def _zero(g: dict[str, Any]) -> dict[str, Any]:
    """The AllGathers per ReduceScatter measured on FSDP2 (parameters kept from forward to backward for stages 1
    and 2, whose one AllGather after the step moves the same bytes; resharded for stage 3), times the measured
    ring factors of the hand-written AllGather and ReduceScatter."""
    scheme = "fsdp_both" if str(g["stage"]) == "3" else "fsdp_once"
    gathers = Law(scheme, "allgather").at(BASE) / Law(scheme, "reducescatter").at(BASE)
    (a_ag, b_ag), (a_rs, b_rs) = bus_fit("allgather"), bus_fit("reducescatter")
    k = g["gpus"]
    volume = gathers * (a_ag + b_ag / k) + a_rs + b_rs / k
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[g.get("dtype", "fp16")]
    psi = g["params_b"] * 1e9 * torch.empty((), dtype=dtype).element_size()
    limit = gathers * a_ag + a_rs
    return {"volume_psi": float(volume), "limit_psi": int(limit) if limit.denominator == 1 else float(limit), "psi_bytes": psi,
            "volume_bytes": float(volume) * psi}


def _schedules(g: dict[str, Any]) -> dict[str, Any]:
    p, m, v = g["stages"], g["micro_batches"], g["chunks"]
    inter = schedule_bubble("interleaved", p, m, v)
    return {"gpipe_fraction": float(gpipe_idle_fraction(p, m)), "bubble_1f1b": float(schedule_bubble("1f1b", p, m)),
            "bubble_interleaved": float(inter), "iteration_ms": g["step_ms"] * float(1 + inter)}


_REPRODUCERS = {"data_parallel": _data_parallel, "pipeline": _pipeline, "tensor_parallel": _tensor_parallel,
                "sequence_parallel": _sequence_parallel,
                "fsdp": _fsdp, "ring": _ring, "bubble": _bubble, "layout_3d": _layout, "homework2": _homework2,
                "collectives": _collectives, "zero_volume": _zero, "bubble_schedules": _schedules}


def reproduce(variant: str, givens: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """Measured on a real process group: NCCL ranks on a CUDA machine with a GPU per rank, gloo ranks on CPU
    otherwise (byte counts do not depend on the transport; `exgen verify` says which ran)."""
    use_device(device)
    return _REPRODUCERS[variant](givens)
