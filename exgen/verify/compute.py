"""Compute and memory reproduced with torch, independently of the solver.

- FLOPs are counted by `torch.utils.flop_counter.FlopCounterMode` on real modules and tensors. Shapes of
  any size are counted on the `meta` device (no memory is allocated; the counter only needs shapes), so a
  question's own dimensions are counted as given, not extrapolated. FlopCounterMode has no formula for
  `aten.mv`, so Ax is counted as A times an n×1 matrix (the same multiply-adds).
- A transformer's weight FLOPs are the `aten.mm` FLOPs of a real model built from the question's shapes
  (Q, K, V, O, the MLP, and the tied unembedding when embeddings count). Attention scores and the weighted
  sum run as explicit batched matmuls (`aten.bmm`) — not SDPA, which the CPU counter would miss — and are
  excluded, as the question says. The input activations require grad (as the embedding output does in a
  real model), so every weight matmul has both of its backward products.
- Training time and MFU: the per-token per-parameter rule (6 FLOPs for forward + backward) is measured on a
  small real transformer on CPU and the counted ratio is applied to the question's N and D (a model of
  82B parameters is not built); the duration is converted with `datetime.timedelta`.
- Memory: bytes per parameter are measured on real tensors — the dtype's element size, and for
  mixed-precision training an fp16 model's parameters and gradients after a backward pass plus the fp32
  master copy and the optimizer's own state after a step (`torch.optim.Adam`'s exp_avg / exp_avg_sq, or
  `torch.optim.SGD`'s momentum_buffer; the step counter excluded) — and scaled to the question's Ψ.
  ZeRO's shards are those measured bytes divided by N_d for the sharded states.
Measured ratios are cached for the run. No GPU is needed; on one, a timed roofline could also confirm the
intensity topic's classifications (not done here).
"""

from __future__ import annotations

import datetime
from functools import lru_cache
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode

UNIT_BYTES = {"GB": 1000**3, "GiB": 1024**3}
DTYPES = {"fp64": torch.float64, "fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16,
          "fp8": torch.float8_e4m3fn, "int8": torch.int8}


def counted(fn) -> dict[str, int]:
    """FLOPs per aten op of everything fn() runs."""
    with FlopCounterMode(display=False) as counter:
        fn()
    return {str(op): n for op, n in counter.get_flop_counts().get("Global", {}).items()}


# ---- a real transformer built from the question's shapes ------------------------------------------------


class Block(nn.Module):
    """Seed 001's block: Q, K, V, O (D×D) and the MLP (D×4D, 4D×D), no biases; matmul attention."""

    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        # nn.Linear's weights (out × in) without its initialisation, which is slow on `meta` for big shapes
        self.q, self.k, self.v, self.o = (nn.Parameter(torch.empty(d, d)) for _ in range(4))
        self.w1, self.w2 = nn.Parameter(torch.empty(4 * d, d)), nn.Parameter(torch.empty(d, 4 * d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (T, D)
        t, d = x.shape
        split = lambda y: y.view(t, self.heads, d // self.heads).transpose(0, 1)  # (heads, T, H)
        q, k, v = split(F.linear(x, self.q)), split(F.linear(x, self.k)), split(F.linear(x, self.v))
        scores = torch.softmax(q @ k.transpose(1, 2) / (d // self.heads) ** 0.5, dim=-1)  # bmm: not weight FLOPs
        z = (scores @ v).transpose(0, 1).reshape(t, d)
        x = x + F.linear(z, self.o)
        return x + F.linear(torch.relu(F.linear(x, self.w1)), self.w2)


class Transformer(nn.Module):
    def __init__(self, layers: int, d: int, vocab: int, embeddings: bool) -> None:
        super().__init__()
        heads = next(h for h in (16, 8, 4, 2, 1) if d % h == 0)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.embed = nn.Embedding(vocab, d, _weight=torch.empty(vocab, d)) if embeddings else None  # tied: also the output layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x) if self.embed is not None else x
        for block in self.blocks:
            h = block(h)
        return h @ self.embed.weight.T if self.embed is not None else h


def _inputs(model: Transformer, tokens: int, d: int, device: torch.device | str) -> torch.Tensor:
    if model.embed is not None:
        return torch.zeros(tokens, dtype=torch.long, device=device)
    return torch.randn(tokens, d, device=device, requires_grad=True)  # the embedding output needs its grad


def weight_flops(model: Transformer, tokens: int, d: int, device: torch.device | str,
                 backward: bool = True) -> int:
    """aten.mm FLOPs of the forward (and backward) pass over `tokens` tokens."""
    x = _inputs(model, tokens, d, device)
    return counted(lambda: model(x).sum().backward() if backward else model(x))["aten.mm"]


@lru_cache(maxsize=None)
def flops_per_token_per_param() -> tuple[float, float]:
    """(forward, training) weight FLOPs per token per parameter, counted on a small real model on CPU."""
    torch.manual_seed(0)
    layers, d, tokens = 2, 64, 16
    model = Transformer(layers, d, vocab=0, embeddings=False)
    n = sum(p.numel() for p in model.parameters())
    for p in model.parameters():
        nn.init.normal_(p, std=0.02)
    forward, total = weight_flops(model, tokens, d, "cpu", False), weight_flops(model, tokens, d, "cpu")
    return forward / (n * tokens), total / (n * tokens)


# ---- the variants ----------------------------------------------------------------------------------------


def _matmul(g: dict[str, Any]) -> dict[str, Any]:
    """A batch of b matrices B_i is one (b, n, p) tensor: torch broadcasts A over it (and folds the batch
    into aten.mm, whose FLOPs the counter reports)."""
    m, n, p, batch = int(g["m"]), int(g["n"]), int(g["p"]), int(g.get("batch", 1))
    a = torch.empty(m, n, device="meta", requires_grad=True)
    b = torch.empty(*((batch,) if batch > 1 else ()), n, p, device="meta", requires_grad=True)
    x = torch.empty(n, 1, device="meta")
    matvec = counted(lambda: a @ x)["aten.mm"]
    forward = sum(counted(lambda: a @ b).values())
    y = a @ b
    backward = sum(counted(lambda: y.backward(torch.empty(y.shape, device="meta"))).values())
    return {"matvec": matvec, "forward": forward, "backward": backward, "training": forward + backward}


def _days(flops: float, gpus: int, peak_tflops: float, mfu_percent: float) -> float:
    seconds = flops / (gpus * peak_tflops * 1e12 * mfu_percent / 100)
    return datetime.timedelta(seconds=seconds) / datetime.timedelta(days=1)


def _training_time(g: dict[str, Any]) -> dict[str, Any]:
    flops = flops_per_token_per_param()[1] * float(g["params"]) * float(g["tokens"])
    return {"flops": flops, "days": _days(flops, int(g["gpus"]), float(g["peak_tflops"]), float(g["mfu"]))}


def _mfu(g: dict[str, Any]) -> dict[str, Any]:
    flops = flops_per_token_per_param()[1] * float(g["params"]) * float(g["tokens"])
    ideal = _days(flops, int(g["gpus"]), float(g["peak_tflops"]), 100.0)
    return {"flops": flops, "ideal_days": ideal, "mfu": 100 * ideal / float(g["observed_days"])}


@lru_cache(maxsize=None)
def transformer_counts(layers: int, d: int, vocab: int, embeddings: bool) -> tuple[int, int, float]:
    """(parameters per block, parameters, training weight FLOPs per token) of the model on `meta`."""
    with torch.device("meta"):
        model = Transformer(layers, d, vocab, embeddings)
    tokens = 4
    total = weight_flops(model, tokens, d, "meta")
    return (sum(p.numel() for p in model.blocks[0].parameters()),
            sum(p.numel() for p in model.parameters()),  # a tied weight is one parameter
            total / tokens)


def _params(g: dict[str, Any]) -> dict[str, Any]:
    """A learned position-embedding table is a real nn.Embedding(T_ctx, D) counted with the model's parameters.
    A lookup does no matmul, so the counter gives it no FLOPs; the question's C = 6NT charges every parameter 6
    FLOPs per token, and that convention is added for the table (6 × its measured size × T)."""
    per_layer, n, per_token = transformer_counts(int(g["layers"]), int(g["d_model"]), int(g["vocab"]),
                                                 g["embeddings"] == "included")
    positions = int(g.get("positions", 0))
    table = nn.Embedding(positions, int(g["d_model"]), device="meta").weight.numel() if positions else 0
    return {"per_layer": per_layer, "params": n + table,
            "train_flops": (per_token + 6 * table) * float(g["tokens"])}


OPTIMIZERS = {"adam": lambda params: torch.optim.Adam(params, lr=1e-3),
              "sgd_momentum": lambda params: torch.optim.SGD(params, lr=1e-3, momentum=0.9)}


@lru_cache(maxsize=None)
def optimizer_bytes_per_param(optimizer: str = "adam") -> dict[str, float]:
    """Bytes per parameter of mixed-precision training's model states, measured after one real step of the
    torch optimizer: fp16 parameters and gradients, the fp32 master copy, and every tensor the optimizer keeps
    per parameter (Adam's exp_avg and exp_avg_sq, SGD's momentum_buffer; not the step counter)."""
    torch.manual_seed(0)
    master = nn.Sequential(nn.Linear(32, 48), nn.ReLU(), nn.Linear(48, 16))
    work = nn.Sequential(nn.Linear(32, 48), nn.ReLU(), nn.Linear(48, 16)).half()
    work.load_state_dict({k: v.half() for k, v in master.state_dict().items()})
    work(torch.randn(8, 32, dtype=torch.float16)).float().pow(2).mean().backward()
    step = OPTIMIZERS[optimizer](master.parameters())
    for p32, p16 in zip(master.parameters(), work.parameters()):
        p32.grad = p16.grad.float()
    step.step()
    n = sum(p.numel() for p in master.parameters())
    states = sum(t.nbytes for state in step.state.values() for name, t in state.items()
                 if torch.is_tensor(t) and name != "step")
    return {"params": sum(p.nbytes for p in work.parameters()) / n,
            "grads": sum(p.grad.nbytes for p in work.parameters()) / n,
            "optimizer": (states + sum(p.nbytes for p in master.parameters())) / n}


def adam_bytes_per_param() -> dict[str, float]:
    return optimizer_bytes_per_param("adam")


def _memory(g: dict[str, Any]) -> dict[str, Any]:
    psi, unit = float(g["params"]), UNIT_BYTES[g["unit"]]
    per_weight = torch.empty(1024, dtype=DTYPES[g["dtype"]]).nbytes / 1024
    states = optimizer_bytes_per_param(g.get("optimizer", "adam"))
    return {"weights": psi * per_weight / unit, "training": psi * sum(states.values()) / unit}


def _zero(g: dict[str, Any]) -> dict[str, Any]:
    psi, nd, unit = float(g["params"]), int(g["gpus"]), UNIT_BYTES[g["unit"]]
    b = optimizer_bytes_per_param(g.get("optimizer", "adam"))
    sharded = {"baseline": (), "stage1": ("optimizer",), "stage2": ("optimizer", "grads"),
               "stage3": ("optimizer", "grads", "params")}
    return {stage: psi * sum(v / nd if k in which else v for k, v in b.items()) / unit
            for stage, which in sharded.items()}


_REPRODUCERS = {"matmul": _matmul, "training_time": _training_time, "mfu": _mfu, "params": _params,
                "memory": _memory, "zero": _zero}


def reproduce(variant: str, givens: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return _REPRODUCERS[variant](givens)


# ---- batch arithmetic: a real training loop with gradient accumulation ----------------------------------


@lru_cache(maxsize=None)
def accumulation_loop(micro: int, accum: int, dp: int, sequences: int) -> dict[str, Any]:
    """A real data-parallel training loop, run in one process: `dp` replicas of a small model each read their
    shard of a dataset of `sequences` samples (DistributedSampler, drop_last) in micro-batches of `micro`
    (DataLoader, drop_last), accumulate `accum` backward passes, average the replicas' gradients (what an
    AllReduce does) and take an optimizer step. Counts the optimizer steps and the samples seen, and checks that
    the first step's accumulated gradient equals the gradient of the loss over the same samples as one batch."""
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

    torch.manual_seed(0)
    data = TensorDataset(torch.randn(sequences, 6, dtype=torch.float64), torch.randn(sequences, dtype=torch.float64))
    base = nn.Linear(6, 1, dtype=torch.float64)
    replicas = [nn.Linear(6, 1, dtype=torch.float64) for _ in range(dp)]
    loaders = [iter(DataLoader(data, batch_size=micro, drop_last=True, sampler=DistributedSampler(
        data, num_replicas=dp, rank=r, shuffle=False, drop_last=True))) for r in range(dp)]
    optimizer = torch.optim.SGD(base.parameters(), lr=0.01)
    steps = seen = 0
    gradient_matches = True
    while True:
        for replica in replicas:
            replica.load_state_dict(base.state_dict())
            replica.zero_grad()
        try:
            batches = [[next(loader) for _ in range(accum)] for loader in loaders]
        except StopIteration:
            break
        for replica, mine in zip(replicas, batches):
            for x, y in mine:  # mean loss over the global batch: each micro-batch's share is 1/(accum·dp)
                (F.mse_loss(replica(x).squeeze(-1), y) / (accum * dp)).backward()
        for p, *ps in zip(base.parameters(), *(r.parameters() for r in replicas)):
            p.grad = sum(q.grad for q in ps)  # each replica's loss already carries its 1/N_dp share
        if steps == 0:  # the same samples as one large batch
            xs = torch.cat([x for mine in batches for x, _ in mine])
            ys = torch.cat([y for mine in batches for _, y in mine])
            big = nn.Linear(6, 1, dtype=torch.float64)
            big.load_state_dict(base.state_dict())
            F.mse_loss(big(xs).squeeze(-1), ys).backward()
            gradient_matches = all(torch.allclose(p.grad, q.grad, rtol=1e-12, atol=1e-14)
                                   for p, q in zip(base.parameters(), big.parameters()))
        optimizer.step()
        optimizer.zero_grad()
        steps += 1
        seen += sum(len(x) for mine in batches for x, _ in mine)
    return {"steps": steps, "seen": seen, "gradient_matches": gradient_matches}


def _batch(g: dict[str, Any]) -> dict[str, Any]:
    """The question's counts come from torch's own samplers over the question's sizes: a DistributedSampler's
    shard length and a BatchSampler's length over `range` (no samples are materialised). The loop above, run on
    a scaled-down copy of the configuration (the same b, k, N_dp capped at 4, and a dataset of three global
    batches and a remainder one sample short of a fourth), checks that this counting is what a training loop
    with gradient accumulation does, and that the accumulated gradient is the large-batch gradient; the answers
    are withheld otherwise."""
    from torch.utils.data import BatchSampler, DistributedSampler

    micro, accum, dp, seq = (int(g[k]) for k in ("micro_batch", "accum", "dp", "seq_len"))
    small = [min(x, 4) for x in (micro, accum, dp)]
    batch = small[0] * small[1] * small[2]
    loop = accumulation_loop(*small, 4 * batch - 1)  # three whole steps and a remainder one short of a fourth
    if not (loop["gradient_matches"] and loop["steps"] == 3 and loop["seen"] == 3 * batch):
        return {}
    sequences = int(g["dataset_tokens"]) // seq
    shard = len(DistributedSampler(range(sequences), num_replicas=dp, rank=0, shuffle=False, drop_last=True))
    micro_batches = len(BatchSampler(range(shard), micro, drop_last=True))
    epoch_steps = len(BatchSampler(range(micro_batches), accum, drop_last=True))
    global_batch = micro * accum * dp
    budget_steps = len(BatchSampler(range(int(g["budget_tokens"])), global_batch * seq, drop_last=False))
    return {"global_batch": global_batch, "batch_tokens": global_batch * seq, "epoch_steps": epoch_steps,
            "budget_steps": budget_steps, "micro_steps": budget_steps * accum}


_REPRODUCERS["batch"] = _batch


# ---- attention: FLOPs of a real block by component --------------------------------------------------------


class SdpaBlock(nn.Module):
    """Seed 001's block as torch runs it: nn.Linear projections (no biases) and
    F.scaled_dot_product_attention, which the math backend computes with batched matmuls."""

    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d, bias=False) for _ in range(4))
        self.w1, self.w2 = nn.Linear(d, 4 * d, bias=False), nn.Linear(4 * d, d, bias=False)

    def split(self, y: torch.Tensor) -> torch.Tensor:  # (B, L, D) -> (B, n_h, L, H)
        b, length, d = y.shape
        return y.view(b, length, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from torch.nn.attention import SDPBackend, sdpa_kernel

        with sdpa_kernel(SDPBackend.MATH):
            z = F.scaled_dot_product_attention(self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x)))
        x = x + self.o(z.transpose(1, 2).reshape(x.shape))
        return x + self.w2(torch.relu(self.w1(x)))


def _module_flops(fn) -> dict[str, int]:
    with FlopCounterMode(display=False) as counter:
        fn()
    return {module: sum(ops.values()) for module, ops in counter.get_flop_counts().items()}


@lru_cache(maxsize=256)
def attention_counts(b: int, length: int, d: int, heads: int) -> dict[str, int]:
    """Forward FLOPs of each module of the block and of the attention core, training FLOPs of the whole block,
    counted on `meta` (shapes only). The core runs inside the block's own module, so its FLOPs are the block's
    total less its Linear children; the score and value products are separated by counting the same SDPA call
    once more with V twice as wide (only the value product grows)."""
    with torch.device("meta"):
        block = SdpaBlock(d, heads)
        x = torch.empty(b, length, d, requires_grad=True)
        forward = _module_flops(lambda: block(x))
        training = _module_flops(lambda: block(x).sum().backward())["Global"]
        q = torch.empty(b, heads, length, d // heads)
        wide = torch.empty(b, heads, length, 2 * (d // heads))
        from torch.nn.attention import SDPBackend, sdpa_kernel

        with sdpa_kernel(SDPBackend.MATH):
            narrow_core = _module_flops(lambda: F.scaled_dot_product_attention(q, q, q))["Global"]
            wide_core = _module_flops(lambda: F.scaled_dot_product_attention(q, q, wide))["Global"]
    name = type(block).__name__
    core = forward["Global"] - sum(forward[f"{name}.{m}"] for m in ("q", "k", "v", "o", "w1", "w2"))
    values = wide_core - narrow_core
    return {"qkv": sum(forward[f"{name}.{m}"] for m in ("q", "k", "v")), "scores": narrow_core - values,
            "values": values, "core": core, "out": forward[f"{name}.o"],
            "mlp": forward[f"{name}.w1"] + forward[f"{name}.w2"], "forward": forward["Global"], "training": training}


def _attention(g: dict[str, Any]) -> dict[str, Any]:
    b, length, d, heads = (int(g[k]) for k in ("batch", "seq_len", "d_model", "heads"))
    c = attention_counts(b, length, d, heads)
    if c["core"] != c["scores"] + c["values"]:  # the block's own core is what the split measured
        return {}
    return {**{k: c[k] for k in ("qkv", "scores", "values", "out", "mlp", "forward", "training")},
            "attn_share": 100 * c["core"] / c["forward"], "score_entries": score_entries(b, length, d, heads)}


@lru_cache(maxsize=256)
def score_entries(b: int, length: int, d: int, heads: int) -> int:
    """Entries of the softmax outputs (the score matrices) the real block computes, recorded by a dispatch mode
    as SDPA's math backend runs on `meta`."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Softmaxes(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.entries = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if "softmax" in str(func):
                self.entries += out.numel()
            return out

    with torch.device("meta"):
        block, x = SdpaBlock(d, heads), torch.empty(b, length, d)
        with Softmaxes() as seen:
            block(x)
    return seen.entries


_REPRODUCERS["attention"] = _attention


# ---- activations: bytes saved for backward by a real layer ------------------------------------------------
# A layer built to Korthikanti et al.'s structure (pre-LN attention and GeLU MLP, dropout after the softmax and
# after each block, no biases), in bf16, runs forward under torch.autograd.graph.saved_tensors_hooks, which sees
# every tensor autograd keeps for the backward pass; parameters are excluded and tensors sharing storage counted
# once. What torch keeps on CPU differs from the paper's count in two places, both measured and documented in
# docs/decisions/compute-and-intensity.md: F.dropout on CPU keeps its mask in the activation dtype (2 bytes an
# element; CUDA's fused kernel keeps a 1-byte bool mask, as the paper counts), and LayerNorm keeps a mean and a
# reciprocal standard deviation per token (the paper ignores them). The layer below therefore uses a dropout that
# keeps a bool mask, as the CUDA kernel does, and the per-token statistics are left out of the sum. Tensor
# parallelism is rank 0's shard (a/t heads, 4h/t MLP columns); sequence parallelism splits the sequence for the
# layer norms and dropouts and fuses the all-gather into the next linear, which keeps only its shard (as Megatron
# does); selective recomputation checkpoints the attention core, full recomputation the whole layer.


class _BoolMaskDropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p):
        mask = torch.rand(x.shape) >= p
        ctx.save_for_backward(mask)
        ctx.scale = 1 / (1 - p)
        return x * mask * ctx.scale

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask * ctx.scale, None


class _GatheredLinear(torch.autograd.Function):
    """Sequence parallelism's all-gather fused into a linear layer: the forward gathers the t sequence shards (in
    one process: t copies of this rank's shard, the same bytes) and multiplies; only the shard is kept, and the
    backward gathers it again."""

    @staticmethod
    def forward(ctx, shard, weight, t):
        ctx.save_for_backward(shard, weight)
        ctx.t = t
        return F.linear(torch.cat([shard] * t), weight)

    @staticmethod
    def backward(ctx, grad):
        shard, weight = ctx.saved_tensors
        full = torch.cat([shard] * ctx.t)
        return (grad @ weight)[: shard.shape[0]], grad.flatten(0, -2).T @ full.flatten(0, -2), None


class KorthikantiLayer(nn.Module):
    def __init__(self, h: int, a: int, t: int, sp: bool, selective: bool, p: float = 0.1) -> None:
        super().__init__()
        dt = torch.bfloat16
        self.h, self.a, self.t, self.sp, self.selective, self.p = h, a, t, sp, selective, p
        self.ln1, self.ln2 = nn.LayerNorm(h, dtype=dt), nn.LayerNorm(h, dtype=dt)
        self.qkv, self.o = nn.Linear(h, 3 * h // t, bias=False, dtype=dt), nn.Linear(h // t, h, bias=False, dtype=dt)
        self.w1 = nn.Linear(h, 4 * h // t, bias=False, dtype=dt)
        self.w2 = nn.Linear(4 * h // t, h, bias=False, dtype=dt)

    def _column(self, y: torch.Tensor, linear: nn.Linear) -> torch.Tensor:
        return _GatheredLinear.apply(y, linear.weight, self.t) if self.sp else linear(y)

    def _row_out(self, y: torch.Tensor) -> torch.Tensor:  # reduce-scatter (SP) or all-reduce, then dropout
        return _BoolMaskDropout.apply(y[: y.shape[0] // self.t] if self.sp else y, self.p)

    def core(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        scores = torch.softmax((q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5, dim=-1)
        return _BoolMaskDropout.apply(scores, self.p) @ v

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (s, b, h), or (s/t, b, h) with SP
        from torch.utils.checkpoint import checkpoint

        y = self._column(self.ln1(x), self.qkv)
        s, b = y.shape[:2]
        heads, hd = self.a // self.t, self.h // self.a
        q, k, v = (z.reshape(s, b, heads, hd).permute(1, 2, 0, 3).contiguous() for z in y.chunk(3, dim=-1))
        z = checkpoint(self.core, q, k, v, use_reentrant=True) if self.selective else self.core(q, k, v)
        x = x + self._row_out(self.o(z.permute(2, 0, 1, 3).reshape(s, b, self.h // self.t)))
        return x + self._row_out(self.w2(F.gelu(self._column(self.ln2(x), self.w1))))


SCHEME_LAYER = {"none": (False, False, False), "tp": (False, False, False), "tp_sp": (True, False, False),
                "tp_selective": (False, True, False), "tp_sp_selective": (True, True, False),
                "full": (False, False, True)}  # (sequence parallel, selective, full)


def saved_bytes(layer: KorthikantiLayer, s: int, b: int, full: bool, per_token_stats: bool = False) -> int:
    """Bytes autograd keeps for the backward of one forward pass of `layer` (parameters excluded, shared storage
    once; LayerNorm's per-token mean and rstd only when `per_token_stats`)."""
    from torch.utils.checkpoint import checkpoint

    params = {p.data_ptr() for p in layer.parameters()}
    kept: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        stats = t.dim() == 3 and t.shape[-1] == 1
        if t.data_ptr() not in params and (per_token_stats or not stats):
            kept[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    torch.manual_seed(0)
    x = torch.randn(s // layer.t if layer.sp else s, b, layer.h, dtype=torch.bfloat16, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = checkpoint(layer, x, use_reentrant=True) if full else layer(x)
    out.float().sum().backward()  # the kept tensors serve a real backward pass
    return sum(kept.values())


@lru_cache(maxsize=64)
def activation_law(scheme: str, t: int) -> tuple[float, float]:
    """(c1, c2) with bytes per layer = c1·sbh + c2·as²b, fitted from layers measured at two sizes and checked at a
    third (b = 2, h = 16t, s = 8 or 16, a = 2t or 4t); NaN when the third point is off the law."""
    sp, selective, full = SCHEME_LAYER[scheme]

    def measure(s: int, a: int) -> int:
        torch.manual_seed(0)
        return saved_bytes(KorthikantiLayer(16 * t, a, t, sp, selective), s, 2, full)

    h, b = 16 * t, 2
    m1, m2, m3 = measure(8, 2 * t), measure(16, 2 * t), measure(16, 4 * t)
    # m = c1·s·b·h + c2·a·s²·b at (8, 2t) and (16, 2t): two equations in c1, c2
    system = torch.tensor([[8 * b * h, 2 * t * 64 * b], [16 * b * h, 2 * t * 256 * b]], dtype=torch.float64)
    c1, c2 = torch.linalg.solve(system, torch.tensor([m1, m2], dtype=torch.float64)).tolist()
    if abs(c1 * 16 * b * h + c2 * 4 * t * 256 * b - m3) > 1e-6 * m3:
        return float("nan"), float("nan")
    return c1, c2


def _activations(g: dict[str, Any]) -> dict[str, Any]:
    s, b, h, a, layers, t = (int(g[k]) for k in ("seq_len", "micro_batch", "hidden", "heads", "layers", "tp"))
    c1, c2 = activation_law(g["scheme"], t)
    unit = UNIT_BYTES[g["unit"]]
    per_layer = c1 * s * b * h + c2 * a * s * s * b
    # model states: the lecture's 24 bytes per parameter over the parameters of rank 0's shard of real layers
    with torch.device("meta"):
        shard = KorthikantiLayer(h, a, t, False, False)
    weights = sum(p.numel() for name, p in shard.named_parameters() if not name.startswith("ln"))
    states = 24 * layers * weights
    return {"per_layer": per_layer / unit, "per_model": layers * per_layer / unit, "states": states / unit,
            "total": (states + layers * per_layer) / unit}


_REPRODUCERS["activations"] = _activations


# ---- issue 17: recomputation and PF-days, energy and carbon ----------------------------------------------


@lru_cache(maxsize=None)
def recompute_flops_per_token_per_param(recompute: str) -> tuple[float, float]:
    """(forward, training) weight FLOPs per token per parameter of a small real transformer, counted with
    FlopCounterMode; with full recomputation every block runs under torch.utils.checkpoint, so the counter sees
    the forward that the backward pass runs again. Early stopping is switched off: by default torch stops the
    recomputation once the last tensor the backward needs is back, which skips each block's final MLP product
    (measured: 7.33 FLOPs per token per parameter instead of 8); Narayanan et al.'s 8ND counts the whole forward,
    as Megatron's checkpointing runs it."""
    from torch.utils.checkpoint import checkpoint, set_checkpoint_early_stop

    torch.manual_seed(0)
    layers, d, tokens = 2, 64, 16
    model = Transformer(layers, d, vocab=0, embeddings=False)
    for p in model.parameters():
        nn.init.normal_(p, std=0.02)
    n = sum(p.numel() for p in model.parameters())
    x = torch.randn(tokens, d, requires_grad=True)

    def run() -> torch.Tensor:
        h = x
        for block in model.blocks:
            h = checkpoint(block, h, use_reentrant=False) if recompute == "full" else block(h)
        return h

    forward = counted(run)["aten.mm"]
    with set_checkpoint_early_stop(False):
        training = counted(lambda: run().sum().backward())["aten.mm"]
    return forward / (n * tokens), training / (n * tokens)


def _recompute(g: dict[str, Any]) -> dict[str, Any]:
    forward, training = recompute_flops_per_token_per_param(g["recompute"])
    flops = training * float(g["params"]) * float(g["tokens"])
    pf_day = 1e15 * datetime.timedelta(days=1).total_seconds()
    return {"ratio": round((training - forward) / forward, 9), "flops": flops, "pf_days": flops / pf_day,
            "days": _days(flops, int(g["gpus"]), float(g["achieved_tflops"]), 100.0)}


def _energy(g: dict[str, Any]) -> dict[str, Any]:
    """GPU-hours from a timedelta; energy and carbon as float64 tensors in SI units (J, kg)."""
    hours = int(g["gpus"]) * datetime.timedelta(days=float(g["days"])) / datetime.timedelta(hours=1)
    joules = torch.tensor(hours * 3600, dtype=torch.float64) * float(g["power_w"]) * float(g["pue"])
    kwh = joules / 3.6e6
    return {"gpu_hours": hours, "mwh": float(kwh / 1000), "tco2": float(kwh * float(g["intensity"]) / 1000)}


_REPRODUCERS.update(recompute=_recompute, energy=_energy)


@lru_cache(maxsize=256)
def attention_training_flops_per_token(heads: int, head_dim: int, seq_len: int) -> float:
    """Forward + backward FLOPs per token of one layer's attention core (scores and weighted sum), counted by
    FlopCounterMode on F.scaled_dot_product_attention (MATH backend, no causal mask, as PaLM counts) on `meta`."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with torch.device("meta"), sdpa_kernel(SDPBackend.MATH):
        q, k, v = (torch.empty(1, heads, seq_len, head_dim, requires_grad=True) for _ in range(3))
        flops = sum(counted(lambda: F.scaled_dot_product_attention(q, k, v).sum().backward()).values())
    return flops / seq_len


def _mfu_tokens(g: dict[str, Any]) -> dict[str, Any]:
    """6N from the per-token per-parameter training FLOPs counted on a small real transformer, applied to the
    question's N (which may include parameters the shape does not show); the attention term counted on a real
    attention core of the question's heads, head dimension and sequence length, times its layers."""
    per_token = (flops_per_token_per_param()[1] * float(g["params"]) + int(g["layers"]) *
                 attention_training_flops_per_token(int(g["heads"]), int(g["head_dim"]), int(g["seq_len"])))
    achieved = per_token * float(g["tokens_per_s"]) / 1e12
    seconds = float(g["tokens"]) / (float(g["tokens_per_s"]) * int(g["gpus"]))
    return {"flops_per_token": per_token, "achieved": achieved, "mfu": 100 * achieved / float(g["peak_tflops"]),
            "days": datetime.timedelta(seconds=seconds) / datetime.timedelta(days=1)}


_REPRODUCERS["mfu_tokens"] = _mfu_tokens


def _scaling(g: dict[str, Any]) -> dict[str, Any]:
    """Rates per GPU as float64 tensors (there is no cluster to measure here; the definitions are applied to
    the reported totals: 1 PFLOP/s = 10^15 FLOP/s, 1 TFLOP/s = 10^12 FLOP/s)."""
    base = torch.tensor(float(g["base_tflops"]) * 1e12, dtype=torch.float64)
    scaled = torch.tensor(float(g["pflops"]) * 1e15, dtype=torch.float64)
    per_gpu = scaled / int(g["gpus"])
    return {"per_gpu": float(per_gpu / 1e12), "speedup": float(scaled / base),
            "efficiency": float(100 * per_gpu / (base / int(g["base_gpus"])))}


_REPRODUCERS["scaling"] = _scaling


# ---- issue 17: HFU against MFU, serving memory with an overhead factor -----------------------------------


@lru_cache(maxsize=256)
def attention_flops_per_token(heads: int, head_dim: int, seq_len: int, recompute: str) -> float:
    """Forward + backward (+ the recomputed forward under full recomputation) FLOPs per token of one layer's
    attention core, counted by FlopCounterMode on F.scaled_dot_product_attention (MATH backend, no causal mask)
    run under torch.utils.checkpoint when recomputing, on `meta`."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.checkpoint import checkpoint, set_checkpoint_early_stop

    def core(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v)

    with torch.device("meta"), sdpa_kernel(SDPBackend.MATH), set_checkpoint_early_stop(False):
        q, k, v = (torch.empty(1, heads, seq_len, head_dim, requires_grad=True) for _ in range(3))
        run = (lambda: checkpoint(core, q, k, v, use_reentrant=False)) if recompute == "full" else (
            lambda: core(q, k, v))
        flops = sum(counted(lambda: run().sum().backward()).values())
    return flops / seq_len


def _hfu(g: dict[str, Any]) -> dict[str, Any]:
    """Model FLOPs as for mfu_tokens (no recomputation counted); hardware FLOPs from the same real modules run
    under checkpointing when the question recomputes: the weights' per-token per-parameter FLOPs and the
    attention core's, both counted while the backward pass runs the forward again."""
    heads, q, t, layers = int(g["heads"]), int(g["head_dim"]), int(g["seq_len"]), int(g["layers"])
    params, rate, peak = float(g["params"]), float(g["tokens_per_s"]), float(g["peak_tflops"]) * 1e12
    model = (recompute_flops_per_token_per_param("none")[1] * params
             + layers * attention_flops_per_token(heads, q, t, "none"))
    hardware = (recompute_flops_per_token_per_param(g["recompute"])[1] * params
                + layers * attention_flops_per_token(heads, q, t, g["recompute"]))
    mfu, hfu = 100 * model * rate / peak, 100 * hardware * rate / peak
    return {"mfu": mfu, "hardware": hardware, "hfu": hfu, "ratio": hfu / mfu}


def weight_bytes_per_param(dtype: str) -> float:
    """Bytes per parameter measured on a real tensor of the dtype; int4 as two 4-bit values packed in a uint8
    (torch has no packed 4-bit storage: torch.uint4 takes a byte per element)."""
    n = 1024
    if dtype == "int4":
        nibbles = torch.randint(0, 16, (n,), dtype=torch.uint8)
        return (nibbles[0::2] | (nibbles[1::2] << 4)).nbytes / n
    return torch.empty(n, dtype=DTYPES[dtype]).nbytes / n


def _serving_memory(g: dict[str, Any]) -> dict[str, Any]:
    weights = float(g["params"]) * weight_bytes_per_param(g["dtype"]) / UNIT_BYTES[g["unit"]]
    serving = torch.tensor(weights, dtype=torch.float64) * float(g["overhead"])
    gpus = torch.ceil(torch.round(serving / float(g["gpu_memory"]), decimals=9))  # exact fits stay exact
    return {"weights": weights, "serving": float(serving), "gpus": int(gpus)}


_REPRODUCERS.update(hfu=_hfu, serving_memory=_serving_memory)
