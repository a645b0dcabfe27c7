"""A real torch.distributed process group that counts the bytes parallel training moves.

`measure(plan)` starts `world` ranks as fresh `python -m exgen.verify.distributed` processes (gloo on 127.0.0.1,
or NCCL with one GPU per rank where `backend_for` finds enough GPUs; the rendezvous is a TCPStore the parent
opens on a free port, so there is no port race), runs every `Config` of the plan in that ONE process group, and returns
what rank 0 counted.  Each config trains ONE iteration (forward + backward) of a small transformer-like stack
with the structure the questions describe (per layer: fused QKV D→3D, O D→D, MLP D→4D→D, no biases, norms
without parameters), on the first `k` ranks:

    dp         DistributedDataParallel; a comm hook adds up the gradient buckets it is handed (the payload)
    tp         parallelize_module with Megatron's plan (QKV and MLP-up column-parallel, O and MLP-down
               row-parallel); a TorchDispatchMode logs every c10d / functional-collective op and its tensors
    sp         Megatron sequence parallelism: parallelize_module with SequenceParallel on the two LayerNorms,
               QKV/MLP-up ColwiseParallel(input_layouts=Shard(1)), O/MLP-down RowwiseParallel(output_layouts=
               Shard(1)); the residual stream is a sequence shard (B, L/k, D) on every rank; the same dispatch
               logger counts the AllGathers/ReduceScatters; a forward pre-hook measures one LayerNorm's input
               per rank, with the SP plan and with the plain TP plan on the same block
    fsdp_once  FSDP2 fully_shard per layer, reshard_after_forward=False (parameters gathered once)
    fsdp_both  the same with reshard_after_forward=True (gathered again in the backward pass)
    pp         torch.distributed.pipelining: two PipelineStages, ScheduleGPipe with m micro-batches; the
               second iteration is logged (the first also exchanges shape metadata)
    ring       a ring AllReduce written with send/recv (reduce-scatter then all-gather phase), checked
               against dist.all_reduce; the bytes each rank sends are logged per phase
    coll       one of AllGather, ReduceScatter (rings), Broadcast, Reduce (pipelined chains from/to rank 0 in
               chunks), AlltoAll (direct sends), send/recv, written with send/recv and checked against
               torch.distributed's own collective; the most bytes any rank sent (an all_reduce MAX after the log)

Payload conventions of the log: AllReduce = its tensor; AllGather = the gathered (output) tensor;
ReduceScatter = the full (input) tensor; send/recv = the tensor sent.  Short process-group timeouts make
a mismatched collective fail in seconds; `measure` has an overall deadline and terminates every rank it
started (join, then terminate, then kill) whatever happens.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}
HEADS = 4
COLLECTIVE_TIMEOUT_S = 30
DEVICE = torch.device("cpu")  # this rank's device: set by _worker (cuda:rank under NCCL)


def backend_for(device: str, world: int) -> tuple[str, str]:
    """(backend, why) for a process group of `world` ranks asked to run on `device` ("cpu" or "cuda").

    NCCL needs a GPU of its own per rank (ranks sharing one GPU are refused by NCCL), so with fewer GPUs than
    ranks the measurement falls back to gloo on CPU — byte counts do not depend on the transport — and says so."""
    if device != "cuda":
        return "gloo", "gloo on CPU"
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if not dist.is_nccl_available():
        return "gloo", "gloo on CPU (this torch has no NCCL)"
    if gpus < world:
        return "gloo", f"gloo on CPU (NCCL needs {world} GPUs, one per rank; {gpus} here)"
    return "nccl", f"NCCL on {world} GPUs"


@dataclass(frozen=True)
class Config:
    """One measurement: a scheme on the first k ranks at small dimensions (pp: n_layer over 2 stages)."""

    scheme: str
    k: int = 2
    dtype: str = "fp16"
    n_layer: int = 1
    batch: int = 4
    seq: int = 3
    d: int = 12
    micro: int = 2
    size: int = 0  # ring, coll: elements of the buffer (the benchmark's size S)
    op: str = ""  # coll: the collective written by hand


# ---- the model: a transformer-like stack with the questions' structure -------------------------------


class Block(nn.Module):
    """Pre-norm layer: x + O(attn(QKV(norm x))), then x + down(gelu(up(norm x))). 12·D² parameters.

    QKV is one D→3D matrix whose rows are grouped per head ([q_h; k_h; v_h] for each head h, Megatron's
    layout), so a column-parallel split hands every rank whole heads."""

    def __init__(self, d: int, heads: int = HEADS) -> None:
        super().__init__()
        self.head_dim = d // heads
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.o = nn.Linear(d, d, bias=False)
        self.up = nn.Linear(d, 4 * d, bias=False)
        self.down = nn.Linear(4 * d, d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, l, d = x.shape  # (B, L, D)
        qkv = self.qkv(F.layer_norm(x, (d,)))  # (B, L, 3·D/tp): whole local heads
        q, k, v = qkv.view(b, l, -1, 3, self.head_dim).permute(3, 0, 2, 1, 4).unbind(0)  # (B, h, L, hd)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, l, -1)
        x = x + self.o(a)
        return x + self.down(F.gelu(self.up(F.layer_norm(x, (d,)))))


class SPBlock(Block):
    """The same layer (same weights for the same seed: LayerNorms without parameters draw no random numbers)
    with its two LayerNorms as modules, so that a SequenceParallel plan can name them."""

    def __init__(self, d: int, heads: int = HEADS) -> None:
        super().__init__(d, heads)
        self.ln1 = nn.LayerNorm(d, elementwise_affine=False)
        self.ln2 = nn.LayerNorm(d, elementwise_affine=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        qkv = self.qkv(self.ln1(x))  # (B, L, 3·D/tp) after the AllGather of the sequence shards
        b, l, _ = qkv.shape
        q, k, v = qkv.view(b, l, -1, 3, self.head_dim).permute(3, 0, 2, 1, 4).unbind(0)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, l, -1)
        x = x + self.o(a)  # (B, L/tp, D) after the ReduceScatter
        return x + self.down(F.gelu(self.up(self.ln2(x))))


def stack(n_layer: int, d: int, dtype: torch.dtype, block: type[Block] = Block) -> nn.Sequential:
    torch.manual_seed(0)  # every rank builds identical weights (on the CPU, then moved: the same on any device)
    return nn.Sequential(*[block(d) for _ in range(n_layer)]).to(DEVICE, dtype)


# ---- counting ----------------------------------------------------------------------------------------


def _nbytes(x: Any) -> int:
    if isinstance(x, torch.Tensor):
        return x.numel() * x.element_size()
    if isinstance(x, (list, tuple)):
        return sum(_nbytes(t) for t in x)
    return 0


class CommLog(TorchDispatchMode):
    """Logs (phase, kind, payload bytes) for every collective and p2p op dispatched while active."""

    KINDS = {
        "c10d.allreduce_": ("allreduce", 0), "_c10d_functional.all_reduce": ("allreduce", 0),
        "c10d._allgather_base_": ("allgather", 0), "_c10d_functional.all_gather_into_tensor": ("allgather", -1),
        "c10d._reduce_scatter_base_": ("reducescatter", 1),
        "_c10d_functional.reduce_scatter_tensor": ("reducescatter", 0),
        "c10d.send": ("send", 0), "c10d.recv_": ("recv", 0),
    }

    def __init__(self) -> None:
        super().__init__()
        self.phase = "forward"
        self.records: list[tuple[str, str, int]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = str(func.overloadpacket) if hasattr(func, "overloadpacket") else str(func)
        if name in self.KINDS:
            kind, index = self.KINDS[name]
            # functional all_gather returns the gathered tensor: its payload is the output
            payload = _nbytes(out) if index == -1 else _nbytes(args[index])
            self.records.append((self.phase, kind, payload))
        return out

    def total(self, kind: str, phase: str | None = None) -> int:
        return sum(b for p, k, b in self.records if k == kind and (phase is None or p == phase))

    def count(self, kind: str, phase: str | None = None) -> int:
        return sum(1 for p, k, _ in self.records if k == kind and (phase is None or p == phase))


def _batch(cfg: Config, requires_grad: bool = False) -> torch.Tensor:
    torch.manual_seed(1)
    x = torch.randn(cfg.batch, cfg.seq, cfg.d, dtype=DTYPES[cfg.dtype]).to(DEVICE)
    return x.requires_grad_(requires_grad)


# ---- one measurement per scheme (run on ranks 0..k-1 of the group) -----------------------------------


def _dp(cfg: Config, group, mesh) -> dict[str, int]:
    from torch.nn.parallel import DistributedDataParallel as DDP

    model = DDP(stack(cfg.n_layer, cfg.d, DTYPES[cfg.dtype]), process_group=group)
    buckets: list[int] = []

    def hook(state, bucket):
        buf = bucket.buffer()
        buckets.append(_nbytes(buf))
        return dist.all_reduce(buf, group=group, async_op=True).get_future().then(lambda f: f.value()[0])

    model.register_comm_hook(None, hook)
    model(_batch(cfg)).float().sum().backward()
    return {"allreduce": sum(buckets), "buckets": len(buckets)}


def _tp(cfg: Config, group, mesh) -> dict[str, int]:
    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

    model = stack(cfg.n_layer, cfg.d, DTYPES[cfg.dtype])
    plan = {"qkv": ColwiseParallel(), "o": RowwiseParallel(), "up": ColwiseParallel(), "down": RowwiseParallel()}
    for block in model:
        parallelize_module(block, mesh, plan)
    x = _batch(cfg, requires_grad=True)  # stands for the embedding output, which needs a gradient
    with CommLog() as log:
        y = model(x)
        log.phase = "backward"
        y.float().sum().backward()
    return {"calls_forward": log.count("allreduce", "forward"), "calls_backward": log.count("allreduce", "backward"),
            "calls": log.count("allreduce"), "bytes_forward": log.total("allreduce", "forward"),
            "bytes_backward": log.total("allreduce", "backward"), "bytes": log.total("allreduce"),
            "local_heads": model[0].qkv.weight.to_local().shape[0] // (3 * (cfg.d // HEADS))}


def _sp(cfg: Config, group, mesh) -> dict[str, int]:
    from torch.distributed.tensor import Shard
    from torch.distributed.tensor.parallel import (ColwiseParallel, RowwiseParallel, SequenceParallel,
                                                   parallelize_module)

    rank, dtype = dist.get_rank(group), DTYPES[cfg.dtype]
    ln_input: list[int] = []

    def record(module, args) -> None:
        x = args[0]
        ln_input.append(_nbytes(x.to_local() if hasattr(x, "to_local") else x))

    # tensor parallelism alone on the same block: the LayerNorm sees the whole (B, L, D) activation
    tp_model = stack(cfg.n_layer, cfg.d, dtype, SPBlock)
    tp_plan = {"qkv": ColwiseParallel(), "o": RowwiseParallel(), "up": ColwiseParallel(), "down": RowwiseParallel()}
    for block in tp_model:
        parallelize_module(block, mesh, tp_plan)
    hook = tp_model[0].ln1.register_forward_pre_hook(record)
    with torch.no_grad():
        tp_model(_batch(cfg))
    hook.remove()

    model = stack(cfg.n_layer, cfg.d, dtype, SPBlock)
    with torch.no_grad():
        reference = model(_batch(cfg)).tensor_split(cfg.k, dim=1)[rank]  # the unsharded layer, this rank's shard
    plan = {"ln1": SequenceParallel(use_local_output=True), "ln2": SequenceParallel(use_local_output=True),
            "qkv": ColwiseParallel(input_layouts=Shard(1)), "o": RowwiseParallel(output_layouts=Shard(1)),
            "up": ColwiseParallel(input_layouts=Shard(1)), "down": RowwiseParallel(output_layouts=Shard(1))}
    for block in model:
        parallelize_module(block, mesh, plan)
    model[0].ln1.register_forward_pre_hook(record)
    x = _batch(cfg).tensor_split(cfg.k, dim=1)[rank].clone().requires_grad_(True)  # this rank's sequence shard
    with CommLog() as log:
        y = model(x)
        log.phase = "backward"
        y.float().sum().backward()
    tolerance = 1e-4 if cfg.dtype == "fp32" else 5e-2
    return {"allgather": log.total("allgather"), "reducescatter": log.total("reducescatter"),
            "allgather_calls": log.count("allgather"), "reducescatter_calls": log.count("reducescatter"),
            "allgather_forward": log.count("allgather", "forward"),
            "reducescatter_forward": log.count("reducescatter", "forward"), "allreduce": log.total("allreduce"),
            "ln_input_tp": ln_input[0], "ln_input_sp": ln_input[1],
            "correct": int(tuple(y.shape) == tuple(reference.shape)
                           and torch.allclose(y.float(), reference.float(), atol=tolerance, rtol=tolerance))}


def _fsdp(cfg: Config, group, mesh) -> dict[str, int]:
    from torch.distributed.fsdp import fully_shard

    reshard = cfg.scheme == "fsdp_both"
    model = stack(cfg.n_layer, cfg.d, DTYPES[cfg.dtype])
    for block in model:
        fully_shard(block, mesh=mesh, reshard_after_forward=reshard)
    fully_shard(model, mesh=mesh, reshard_after_forward=reshard)
    with CommLog() as log:
        y = model(_batch(cfg))
        log.phase = "backward"
        y.float().sum().backward()
    return {"allgather": log.total("allgather"), "allgather_forward": log.total("allgather", "forward"),
            "allgather_backward": log.total("allgather", "backward"), "reducescatter": log.total("reducescatter")}


def _pp(cfg: Config, group, mesh) -> dict[str, int]:
    from torch.distributed.pipelining import PipelineStage, ScheduleGPipe

    rank, stages = dist.get_rank(group), dist.get_world_size(group)
    layers = list(stack(cfg.n_layer, cfg.d, DTYPES[cfg.dtype]))
    per = cfg.n_layer // stages
    stage = PipelineStage(nn.Sequential(*layers[rank * per:(rank + 1) * per]), rank, stages, DEVICE, group=group)
    schedule = ScheduleGPipe(stage, n_microbatches=cfg.micro, loss_fn=lambda y, t: y.float().sum())

    def step() -> None:
        if rank == 0:
            schedule.step(_batch(cfg))
        else:
            schedule.step(target=torch.zeros(cfg.batch, device=DEVICE))

    step()  # the first iteration also exchanges shape metadata
    with CommLog() as log:
        step()
    # rank 0 is stage i: it sends activations (forward) and receives their gradients (backward)
    return {"forward": log.total("send"), "backward": log.total("recv"), "messages_forward": log.count("send"),
            "messages_backward": log.count("recv")}


def _ring(cfg: Config, group, mesh) -> dict[str, int]:
    """Ring AllReduce by hand: k−1 reduce-scatter steps, then k−1 all-gather steps, one chunk per step."""
    k, r = cfg.k, dist.get_rank(group)
    right, left = (r + 1) % k, (r - 1) % k
    x = (torch.arange(cfg.size, dtype=torch.float32, device=DEVICE) + r)  # integers: every summation order is exact
    expected = x.clone()
    dist.all_reduce(expected, group=group)
    chunks = list(x.chunk(k))

    def exchange(send: torch.Tensor, recv: torch.Tensor) -> None:
        request = dist.isend(send.contiguous(), dst=right, group=group)
        dist.recv(recv, src=left, group=group)
        request.wait()

    with CommLog() as log:
        log.phase = "reduce_scatter"
        for s in range(k - 1):
            incoming = torch.empty_like(chunks[(r - s - 1) % k])
            exchange(chunks[(r - s) % k], incoming)
            chunks[(r - s - 1) % k] += incoming
        log.phase = "all_gather"
        for s in range(k - 1):
            incoming = torch.empty_like(chunks[(r - s) % k])
            exchange(chunks[(r + 1 - s) % k], incoming)
            chunks[(r - s) % k].copy_(incoming)
    return {"payload": _nbytes(x), "sent": log.total("send"), "sent_reduce_scatter": log.total("send", "reduce_scatter"),
            "sent_all_gather": log.total("send", "all_gather"), "steps": log.count("send"),
            "correct": int(torch.equal(torch.cat(chunks), expected))}


def _coll(cfg: Config, group, mesh) -> dict[str, int]:
    """A collective by hand with send/recv, checked against torch.distributed's, logging what each rank sends."""
    k, r, n, op = cfg.k, dist.get_rank(group), cfg.size, cfg.op
    right, left = (r + 1) % k, (r - 1) % k
    x = torch.arange(n, dtype=torch.float32, device=DEVICE) + 100 * r  # integers: every summation order is exact
    chunks = list(x.clone().chunk(k))  # S/k blocks (ring steps, AlltoAll blocks, chain pieces)
    pieces = 4  # the chain pipelines the buffer in this many chunks

    def exchange(send: torch.Tensor, recv: torch.Tensor) -> None:
        request = dist.isend(send.contiguous(), dst=right, group=group)
        dist.recv(recv, src=left, group=group)
        request.wait()

    with CommLog() as log:
        if op == "allgather":  # S = the gathered output; each rank starts with its block r
            own = chunks[r].clone()
            out = [torch.zeros_like(c) for c in chunks]
            out[r] = own
            for s in range(k - 1):
                exchange(out[(r - s) % k], out[(r - s - 1) % k])
            result = torch.cat(out)
        elif op == "reducescatter":  # S = the full input; rank r keeps the sum of block r
            for s in range(k - 1):
                incoming = torch.empty_like(chunks[(r - s - 2) % k])
                exchange(chunks[(r - s - 1) % k], incoming)
                chunks[(r - s - 2) % k] += incoming
            result = chunks[r]
        elif op in ("broadcast", "reduce"):  # a chain 0 → 1 → … → k−1 (broadcast) or k−1 → … → 0 (reduce)
            parts = list(x.clone().chunk(pieces))
            for piece in parts:
                if op == "broadcast":
                    if r > 0:
                        dist.recv(piece, src=r - 1, group=group)
                    if r < k - 1:
                        dist.send(piece, dst=r + 1, group=group)
                else:
                    if r < k - 1:
                        incoming = torch.empty_like(piece)
                        dist.recv(incoming, src=r + 1, group=group)
                        piece += incoming
                    if r > 0:
                        dist.send(piece, dst=r - 1, group=group)
            result = torch.cat(parts)
        elif op == "alltoall":  # S = each rank's send buffer; block j goes to rank j
            out = [torch.empty_like(c) for c in chunks]
            out[r] = chunks[r].clone()
            for shift in range(1, k):
                dst, src = (r + shift) % k, (r - shift) % k
                request = dist.isend(chunks[dst].contiguous(), dst=dst, group=group)
                dist.recv(out[src], src=src, group=group)
                request.wait()
            result = torch.cat(out)
        elif op == "sendrecv":  # rank 0 sends S to rank 1
            result = x.clone()
            if r == 0:
                dist.send(result, dst=1, group=group)
            elif r == 1:
                dist.recv(result, src=0, group=group)
        else:
            raise ValueError(f"unknown collective {op!r}")
    # torch.distributed's own collective on the same inputs, for the check
    if op == "allgather":
        gathered = [torch.empty_like(c) for c in x.chunk(k)]
        dist.all_gather(gathered, x.chunk(k)[r].contiguous(), group=group)
        expected = torch.cat(gathered)
    elif op == "reducescatter":
        total = x.clone()
        dist.all_reduce(total, group=group)
        expected = total.chunk(k)[r]
    elif op == "broadcast":
        expected = x.clone()
        dist.broadcast(expected, src=0, group=group)
    elif op == "reduce":
        expected = x.clone()
        dist.all_reduce(expected, group=group)  # the root's value; other ranks hold partial sums
        if r != 0:
            expected = result
    elif op == "alltoall":
        expected = torch.empty_like(x)
        dist.all_to_all_single(expected, x.clone(), group=group)
    else:
        expected = x - 100 * r if r == 1 else x
    sent = torch.tensor([log.total("send")], dtype=torch.float64, device=DEVICE)
    dist.all_reduce(sent, op=dist.ReduceOp.MAX, group=group)
    correct = torch.tensor([int(torch.equal(result, expected))], dtype=torch.float64, device=DEVICE)
    dist.all_reduce(correct, op=dist.ReduceOp.MIN, group=group)
    return {"payload": _nbytes(x), "sent_max": int(sent.item()), "correct": int(correct.item())}


MEASURE = {"dp": _dp, "tp": _tp, "sp": _sp, "fsdp_once": _fsdp, "fsdp_both": _fsdp, "pp": _pp, "ring": _ring, "coll": _coll}


# ---- the process group -------------------------------------------------------------------------------


def _worker(rank: int, world: int, port: int, plan: list[Config], out_path: str | None,
            backend: str = "gloo") -> None:
    """One rank: join the group, run the whole plan, rank 0 writes its counters as JSON."""
    global DEVICE
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    if backend == "nccl":
        torch.cuda.set_device(rank)
        DEVICE = torch.device("cuda", rank)
    timeout = datetime.timedelta(seconds=COLLECTIVE_TIMEOUT_S)
    store = dist.TCPStore("127.0.0.1", port, None, False, timeout=timeout)
    dist.init_process_group(backend, store=store, rank=rank, world_size=world, timeout=timeout)
    from torch.distributed.device_mesh import DeviceMesh

    sizes = sorted({c.k for c in plan})
    groups = {k: dist.new_group(list(range(k))) for k in sizes}  # every rank takes part in every new_group
    meshes = {k: DeviceMesh.from_group(groups[k], DEVICE.type) if rank < k else None for k in sizes}
    out = []
    for cfg in plan:
        if rank < cfg.k:
            value = MEASURE[cfg.scheme](cfg, groups[cfg.k], meshes[cfg.k])
            out.append([asdict(cfg), value])
    dist.barrier()
    if rank == 0 and out_path:
        tmp = out_path + ".part"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(out, f)
        os.replace(tmp, out_path)
    dist.destroy_process_group()


class MeasurementError(RuntimeError):
    """The process group failed, timed out, or measured something that contradicts a scaling law."""


def measure(plan: list[Config], world: int | None = None, deadline_s: float = 300,
            backend: str = "gloo") -> dict[Config, dict[str, int]]:
    """Run every config of the plan in one process group of `world` ranks (each a fresh `python -m` process,
    so nothing depends on the caller's __main__) on `backend` (see backend_for); rank 0's counters per config."""
    world = world or max(c.k for c in plan)
    store = dist.TCPStore("127.0.0.1", 0, None, True, timeout=datetime.timedelta(seconds=COLLECTIVE_TIMEOUT_S),
                          wait_for_workers=False)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="exgen-pg-") as tmp:
        plan_path, out_path = os.path.join(tmp, "plan.json"), os.path.join(tmp, "out.json")
        with open(plan_path, "w", encoding="utf-8") as f:
            json.dump([asdict(c) for c in plan], f)
        logs = [open(os.path.join(tmp, f"rank{r}.log"), "w+", encoding="utf-8") for r in range(world)]
        try:
            for r in range(world):
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "exgen.verify.distributed", str(r), str(world), str(store.port),
                     plan_path, out_path, backend], stdout=logs[r], stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    env=env))
            end = time.monotonic() + deadline_s
            while any(p.poll() is None for p in procs):
                failed = [r for r, p in enumerate(procs) if p.poll() not in (None, 0)]
                if failed:
                    logs[failed[0]].seek(0)
                    tail = logs[failed[0]].read()[-3000:]
                    raise MeasurementError(f"rank {failed[0]} failed (exit {procs[failed[0]].returncode}):\n{tail}")
                if time.monotonic() > end:
                    raise MeasurementError(f"the process group did not finish within {deadline_s:.0f} s")
                time.sleep(0.05)
            failed = [r for r, p in enumerate(procs) if p.returncode != 0]
            if failed or not os.path.exists(out_path):
                r = failed[0] if failed else 0
                logs[r].seek(0)
                raise MeasurementError(f"rank {r} failed:\n{logs[r].read()[-3000:]}")
            with open(out_path, encoding="utf-8") as f:
                return {Config(**c): v for c, v in json.load(f)}
        finally:
            for p in procs:  # only the processes started here, by their handles
                if p.poll() is None:
                    p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            for log in logs:
                log.close()
            del store


if __name__ == "__main__":
    _rank, _world, _port, _plan, _out, _backend = sys.argv[1:7]
    with open(_plan, encoding="utf-8") as _f:
        _configs = [Config(**c) for c in json.load(_f)]
    _worker(int(_rank), int(_world), int(_port), _configs, _out, _backend)
