"""LoRA reproduced on real torch modules, independently of the solver.

params / memory: one transformer layer's adapted projections are built as modules: the frozen base weight, LoRA
factors A (d_in × r) and B (r × d_out) and the bias (trained or not).  The trainable parameters are counted with
`requires_grad` on the meta device (shapes and flags without memory: a 12288 × 49152 MLP weight would take 2.4 GB).
For memory one real training step (forward, backward, Adam) is taken on the same layer with real adapters (every
dimension capped at 1024: bytes per parameter do not depend on the shape) and the bytes of the trained tensors,
their gradients, the fp32 master copies (mixed precision) and Adam's state are read off the tensors, per trained
parameter; frozen weights cost their dtype's element size.  Counts scale by L (identical
layers) and by the model's parameter count.
qlora: a real block of weights is quantized to NF4 (the 16 NormalFloat levels of Dettmers et al. 2023 /
bitsandbytes), packed two codes per byte, with fp32 absmax constants, or with those quantized to 8 bits per group
of block2 with fp32 second-level scales; bytes per weight are measured and scaled to the model.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

NF4 = torch.tensor([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
                    -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
                    0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                    0.7229568362236023, 1.0])


class LoRALinear(nn.Module):
    """y = x W + b + x A B with W frozen (meta), A and B trained; the bias trained or frozen."""

    def __init__(self, d_in: int, d_out: int, r: int, train_bias: bool, dtype: torch.dtype, device: torch.device):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(d_in, d_out, dtype=dtype, device="meta"), requires_grad=False)
        self.bias = nn.Parameter(torch.zeros(d_out, dtype=dtype, device=device), requires_grad=train_bias)
        self.A = nn.Parameter(torch.randn(d_in, r, dtype=dtype, device=device) * 0.01)
        self.B = nn.Parameter(torch.randn(r, d_out, dtype=dtype, device=device) * 0.01)

    def adapter(self, x: torch.Tensor) -> torch.Tensor:  # the trained path (W is frozen and has no data here)
        return x @ self.A @ self.B + self.bias


def _layer(g: dict[str, Any], dtype: torch.dtype, device: torch.device, cap: int | None = None) -> nn.ModuleDict:
    """One layer's adapted projections; `cap` bounds every dimension (and the rank) for a real training step."""
    d = int(g["d_model"])
    dkv, dff = int(g.get("d_kv") or d), int(g.get("d_ff") or 0)
    table = {"q": (d, d), "k": (d, dkv), "v": (d, dkv), "o": (d, d), "up": (d, dff), "down": (dff, d)}
    bias = g.get("bias", "frozen") == "trained"
    small = (lambda n: min(n, cap)) if cap else (lambda n: n)
    return nn.ModuleDict({t: LoRALinear(small(table[t][0]), small(table[t][1]), small(int(g["rank"])), bias, dtype,
                                        device) for t in g["targets"].split(",")})


def _trainable(layer: nn.Module) -> int:
    return sum(p.numel() for p in layer.parameters() if p.requires_grad)


def _params(g: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """Counted on the meta device: `requires_grad` and shapes without memory, whatever the dimensions."""
    per_layer = _trainable(_layer(g, torch.float32, torch.device("meta")))
    total = per_layer * int(g["layers"])
    return {"per_layer": per_layer, "total": total, "percent": 100 * total / float(g["model_params"])}


def _bytes_per_trained_parameter(g: dict[str, Any], device: torch.device) -> tuple[float, float]:
    """(bytes per trained parameter, bytes per frozen weight), measured after one Adam step on a real layer."""
    mixed = g["precision"] == "mixed"
    dtype = torch.bfloat16 if mixed else torch.float32
    layer = _layer(g, dtype, device, cap=1024)  # bytes per parameter do not depend on the shape
    trained = [p for p in layer.parameters() if p.requires_grad]
    master = [p.detach().float().clone().requires_grad_() for p in trained] if mixed else trained
    optimizer = torch.optim.Adam(master, lr=1e-3)
    for m in layer.values():
        m.adapter(torch.ones(1, m.A.shape[0], dtype=dtype, device=device)).sum().backward()
    if mixed:
        for p, q in zip(trained, master):
            q.grad = p.grad.float()
    optimizer.step()
    if mixed:
        for p, q in zip(trained, master):
            q.grad = None  # the fp32 gradient is a transient copy, not held
    count = sum(p.numel() for p in trained)
    held = sum(p.nbytes + p.grad.nbytes for p in trained)
    held += sum(q.nbytes for q in master) if mixed else 0
    held += sum(t.nbytes for state in optimizer.state.values() for k, t in state.items() if k != "step")
    frozen = layer[g["targets"].split(",")[0]].weight.element_size()
    return held / count, frozen


def _memory(g: dict[str, Any], device: torch.device) -> dict[str, Any]:
    p = _params(g, device)["total"]
    n = float(g["model_params"])
    trained, frozen = _bytes_per_trained_parameter(g, device)
    full, lora = n * trained, n * frozen + p * trained
    return {"trainable": p, "full": full / 1e9, "lora": lora / 1e9, "ratio": full / lora}


def _qlora(g: dict[str, Any], device: torch.device) -> dict[str, Any]:
    block, block2 = int(g["block"]), int(g.get("block2", 256))
    dq = g["double_quant"] == "yes"
    blocks = 2 * block2  # a whole number of second-level groups
    w = torch.randn(blocks, block, generator=torch.Generator().manual_seed(0)).to(device)
    absmax = w.abs().amax(dim=1)  # fp32, one per block
    codes = (w / absmax[:, None]).reshape(-1, 1).sub(NF4.to(device)).abs().argmin(dim=1).to(torch.uint8)
    packed = (codes[0::2] << 4) | codes[1::2]  # two 4-bit codes per byte
    stored = packed.nbytes
    if dq:
        groups = absmax.reshape(-1, block2)
        scale2 = groups.abs().amax(dim=1) / 127  # fp32 second-level constants
        q8 = torch.round(groups / scale2[:, None]).to(torch.int8)
        stored += q8.nbytes + scale2.nbytes
    else:
        stored += absmax.nbytes
    bits = 8 * stored / w.numel()
    n = float(g["params"])
    base = n * bits / 8
    half = torch.empty(0, dtype=torch.bfloat16).element_size()
    out = {"bits_per_param": bits, "base": base / 1e9, "ratio": 8 * half / bits}
    extra = float(g.get("kept_params", 0)) + float(g.get("lora_params", 0))
    if extra:
        out["total"] = (base + extra * half) / 1e9
    return out


_REPRODUCERS = {"params": _params, "memory": _memory, "qlora": _qlora}


def reproduce(variant: str, givens: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return _REPRODUCERS[variant](givens, device)
