"""Quantization reproduced with torch, independently of the solver.

The integer range comes from torch.iinfo for 8 bits and from the two's-complement definition for narrower
widths.  affine, absmax and per_channel state their own rounding rule, halves away from zero, on the decimals
given; torch's quantize kernels round half to even in float32, so a tie or an r/S within float32 error of a
half (a TA's givens; the sampler keeps 0.05 from every boundary) came out otherwise.  Their integers are that
rule applied by torch in float64, and decided exactly on the given decimals (Fractions, as many digits as a TA
types) only where r/S lies within float64's error of a half; scales, reconstructions and errors are float64
tensors.  The kernels still reproduce
given_scale, whose question is PyTorch's kernel (quantization_libraries.py).  Storage is measured on real
tensors: a block of weights quantized per group, bit-packed into uint8, plus the fp16 scales, and its bytes
scaled up to the model.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import torch

from exgen.verify.quantization_libraries import REPRODUCERS as REPRODUCERS_EXT

def _range(bits: int, signed: bool) -> tuple[int, int]:
    if bits == 8:
        info = torch.iinfo(torch.int8 if signed else torch.uint8)
        return info.min, info.max
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


def _errors(x: torch.Tensor, xhat: torch.Tensor) -> dict[str, float]:
    d = (x - xhat).double()
    return {"max_abs": d.abs().max().item(), "frobenius": torch.linalg.norm(d).item(),
            "mse": (d * d).mean().item()}


def _rows(t: torch.Tensor) -> list:
    return t.cpu().tolist()


def _decimal(v: Any) -> Fraction:
    """A given as the decimal a student reads (a key's float written back in its shortest form)."""
    return Fraction(repr(float(v)))


def _away(r: Fraction) -> int:
    """The question's rounding: to nearest, halves away from zero."""
    n = math.floor(abs(r) + Fraction(1, 2))
    return n if r >= 0 else -n


def _integers(x: list, inv, zero, qmin: int, qmax: int, device: torch.device, even: bool = False) -> torch.Tensor:
    """q = clamp(round(r/S) + Z) with the question's rule, halves away from zero (or `even`: halves to even), inv =
    1/S exactly and zero = Z, each a value or a function of (i, j) per channel; rounded by torch in float64. torch's
    kernels round half to even, in float32, so a tie or an r/S within float32 error of a half (a TA's givens; the
    sampler avoids both) came out otherwise; an r/S within float64's error of a half is decided exactly on the
    decimals given."""
    per = inv if callable(inv) else lambda i, j: inv
    at = zero if callable(zero) else lambda i, j: zero
    cells = [[(i, j) for j in range(len(row))] for i, row in enumerate(x)]
    inv64 = torch.tensor([[float(per(*c)) for c in row] for row in cells], dtype=torch.float64, device=device)
    z = torch.tensor([[at(*c) for c in row] for row in cells], dtype=torch.long, device=device)
    r = torch.tensor(x, dtype=torch.float64, device=device) * inv64
    q = torch.round(r) if even else torch.sign(r) * torch.floor(r.abs() + 0.5)
    for i, j in near_halves(r, 1e-9):
        exact = _decimal(x[i][j]) * per(i, j)
        q[i, j] = round(exact) if even else _away(exact)  # (round: a Fraction's halves go to even)
    return torch.clamp(q.long() + z, qmin, qmax)


def near_halves(r: torch.Tensor, rel: float) -> list[list[int]]:
    """The (i, j) of a matrix r = x/S within rel·max(|r|, 1) of a half: where a float computation of x/S (rel:
    its error) may round either way, so the caller decides them exactly on the decimals given."""
    return (((r.abs() - r.abs().floor()) - 0.5).abs() <= rel * r.abs().clamp(min=1)).nonzero().tolist()


def _affine(g: dict[str, Any], device: torch.device) -> dict[str, Any]:
    x64 = torch.tensor(g["X"], dtype=torch.float64, device=device)
    bits, signed = int(g["bits"]), g["signed"] == "signed"
    qmin, qmax = _range(bits, signed)
    calibration = g.get("calibration")  # a calibrated range replaces X's own
    lo, hi = (_decimal(v) for v in calibration) if calibration else \
        (min(_decimal(v) for row in g["X"] for v in row), max(_decimal(v) for row in g["X"] for v in row))
    inv = Fraction(qmax - qmin) / (hi - lo)  # 1/S
    zero = min(max(_away(qmin - lo * inv), qmin), qmax)
    q = _integers(g["X"], inv, zero, qmin, qmax, device)
    scale = float(1 / inv)
    xhat = (q.double() - zero) * scale
    return {"scale": scale, "zero_point": zero, "q": _rows(q), "reconstruction": _rows(xhat),
            "error": _errors(x64, xhat)[g["metric"]]}


def _absmax(g: dict[str, Any], device: torch.device) -> dict[str, Any]:
    x64 = torch.tensor(g["X"], dtype=torch.float64, device=device)
    bits = int(g["bits"])
    qmin, qmax = _range(bits, True)
    amax = _decimal(g.get("clip", 0)) or max(abs(_decimal(v)) for row in g["X"] for v in row)  # clip replaces |r|max
    inv = (qmax if g["convention"] == "qmax" else -qmin) / amax  # 1/S
    q = _integers(g["X"], inv, 0, qmin, qmax, device)
    scale = float(1 / inv)
    xhat = q.double() * scale
    return {"scale": scale, "q": _rows(q), "reconstruction": _rows(xhat), "error": _errors(x64, xhat)[g["metric"]]}


def _per_channel(g: dict[str, Any], device: torch.device) -> dict[str, Any]:
    x64 = torch.tensor(g["X"], dtype=torch.float64, device=device)
    bits = int(g["bits"])
    axis = 1 if g.get("axis", "rows") == "columns" else 0  # torch's channel axis
    qmin, qmax = _range(bits, True)
    s_tensor = x64.abs().max().item() / qmax
    s_rows = x64.abs().amax(dim=1 - axis) / qmax
    x = [[_decimal(v) for v in row] for row in g["X"]]
    amax = [max(abs(v) for v in row) for row in (x if axis == 0 else zip(*x))]  # per channel, exactly
    q_tensor = _integers(g["X"], qmax / max(amax), 0, qmin, qmax, device)  # halves away from zero, as stated
    q_rows = _integers(g["X"], lambda i, j: qmax / amax[i if axis == 0 else j], 0, qmin, qmax, device)
    e_tensor = _errors(x64, q_tensor.double() * s_tensor)["frobenius"]
    e_rows = _errors(x64, q_rows.double() * (s_rows[:, None] if axis == 0 else s_rows[None, :]))["frobenius"]
    return {"scale_tensor": s_tensor, "scale_rows": _rows(s_rows), "q_tensor": _rows(q_tensor),
            "q_rows": _rows(q_rows), "error_tensor": e_tensor, "error_rows": e_rows,
            "error_ratio": e_rows / e_tensor}


def _pack(q: torch.Tensor, bits: int) -> torch.Tensor:
    """Pack non-negative b-bit integers densely into bytes (little-endian bit order)."""
    bit_planes = (q.reshape(-1, 1) >> torch.arange(bits, device=q.device)) & 1
    stream = bit_planes.reshape(-1, 8)
    return (stream << torch.arange(8, device=q.device)).sum(dim=1).to(torch.uint8)


def _storage(g: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """Bytes per weight measured on a real block of 8 groups (at most 8 × 4096 weights, so a huge group size in a
    hand-edited key allocates nothing large): packed weights per weight, plus each group's fp16 scale (and packed
    zero point) times the number of groups, ⌈quantized weights / group size⌉."""
    params, bits, group = float(g["params"]), int(g["bits"]), int(g["group"])
    kept = float(g.get("kept_params", 0))
    source = {16: torch.float16, 32: torch.float32}[int(g["source_bits"])]
    block_group = min(group, 4096)
    block = 8 * block_group  # a whole number of groups and of bytes
    weights = torch.randn(block, generator=torch.Generator().manual_seed(0)).to(device)
    grouped = weights.reshape(-1, block_group)
    scales = (grouped.abs().amax(dim=1) / ((1 << (bits - 1)) - 1)).to(torch.float16)
    q = torch.clamp(torch.round(grouped / scales.float()[:, None]),
                    -(1 << (bits - 1)), (1 << (bits - 1)) - 1).long() + (1 << (bits - 1))  # offset to unsigned
    per_group = scales.nbytes / 8
    if g.get("zero_points", "none") == "b-bit":  # one b-bit zero point per group, packed like the weights
        zeros = torch.full((8,), 1 << (bits - 1), dtype=torch.long, device=device)
        per_group += _pack(zeros, bits).nbytes / 8
    groups = math.ceil((Fraction(str(params)) - Fraction(str(kept))) / group)  # a partial last group has a scale
    per_weight_before = weights.to(source).nbytes / block
    before = params * per_weight_before
    after = (params - kept) * (_pack(q, bits).nbytes / block) + groups * per_group + kept * per_weight_before
    return {"before": before / 1e9, "after": after / 1e9, "ratio": before / after}


_REPRODUCERS = {"affine": _affine, "absmax": _absmax, "per_channel": _per_channel, "storage": _storage,
                **REPRODUCERS_EXT}  # issue 17's variants: exgen/verify/quantization_libraries.py


def reproduce(variant: str, givens: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return _REPRODUCERS[variant](givens, device)


def _kmeans(g: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """Nearest centroids with torch.cdist and argmin (argmin takes the first index on a tie), a Lloyd update with
    scatter sums and counts, and the storage counted on real tensors: the weights and the codebook at their
    float dtype, the indices at log2(k) bits each."""
    w = torch.tensor(g["W"], dtype=torch.float64, device=device)
    c = torch.tensor(g["centroids"], dtype=torch.float64, device=device)
    idx = torch.cdist(w.reshape(-1, 1), c.reshape(-1, 1)).argmin(dim=1)
    out: dict[str, Any] = {"indices": _rows(idx.reshape(w.shape))}
    if g.get("lloyd", "no") == "one step":
        sums = torch.zeros_like(c).scatter_add_(0, idx, w.reshape(-1))
        counts = torch.zeros_like(c).scatter_add_(0, idx, torch.ones_like(w.reshape(-1)))
        c = torch.where(counts > 0, sums / counts.clamp(min=1), c)
        out["centroids"] = _rows(c)
    what = c[idx].reshape(w.shape)
    out["reconstruction"] = _rows(what)
    out["error"] = _errors(w, what)[g["metric"]]
    dtype = {16: torch.float16, 32: torch.float32}[int(g["float_bits"])]
    index_bits = (c.numel() - 1).bit_length()
    out["before"] = w.to(dtype).nbytes * 8
    out["after"] = idx.numel() * index_bits + c.to(dtype).nbytes * 8
    out["ratio"] = out["before"] / out["after"]
    return out


_REPRODUCERS["kmeans"] = _kmeans
