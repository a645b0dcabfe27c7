"""Issue 17's quantization variants reproduced with torch's own kernels, independently of the solver.

given_scale: the integers from torch.quantize_per_tensor / quantize_per_channel (quint8, qint8) or, for other
ranges, from torch.fake_quantize_per_tensor_affine / per_channel_affine with quant_min/quant_max; the
fake-quantized matrix as those integers times the scale in float64 (fake_quantize_*_affine's own float32
result differs by float32 rounding, far more than the verifier's tolerance).  absmax_int8 and affine_channel:
the factors from torch reductions; their integers (and zero points) are the stated rule, halves to even, on
the given decimals exactly, since their scales (8/7, 2/255) are no floats and the float32 kernels misjudge a
half a TA's givens put there.  requant: torch.frexp splits M into M0·2^-n; gemmlowp's
SaturatingRoundingDoublingHighMul and RoundingDivideByPOT are done with int64 tensors.  Sampled instances keep
values to be rounded 0.05 from a .5 boundary (or put an exact, float32-representable tie there), so for
given_scale the float32 kernels and exact arithmetic agree.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction
from typing import Any

import torch

_DTYPES = {(0, 255): torch.quint8, (-128, 127): torch.qint8}


def _axis(name: str) -> int | None:
    return {"tensor": None, "rows": 0, "columns": 1}[name]


def _fake(x: torch.Tensor, scales: torch.Tensor, zeros: torch.Tensor, axis: int | None, lo: int, hi: int):
    """(fake-quantized x in float32, its integers q)."""
    if axis is None:
        fq = torch.fake_quantize_per_tensor_affine(x, float(scales[0]), int(zeros[0]), lo, hi)
        return fq, torch.round(fq.double() / float(scales[0])).long() + int(zeros[0])
    fq = torch.fake_quantize_per_channel_affine(x, scales.float(), zeros.int(), axis, lo, hi)
    shape = (-1, 1) if axis == 0 else (1, -1)
    return fq, torch.round(fq.double() / scales.double().reshape(shape)).long() + zeros.long().reshape(shape)


def _given_scale(g: dict[str, Any], device: torch.device) -> dict[str, Any]:
    from exgen.verify.quantization import near_halves  # that module imports this one

    x64 = torch.tensor(g["X"], dtype=torch.float64, device=device)
    x = x64.float()
    scales = torch.tensor(g["scale"], dtype=torch.float64, device=device)
    zeros = torch.tensor([int(z) for z in g["zero_point"]], dtype=torch.long, device=device)
    lo, hi, axis = int(g["quant_min"]), int(g["quant_max"]), _axis(g["axis"])
    fq, q = _fake(x, scales, zeros, axis, lo, hi)
    dtype = _DTYPES.get((lo, hi))
    if dtype is not None:  # the real quantize kernels for PyTorch's 8-bit types
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            if axis is None:
                q = torch.quantize_per_tensor(x, float(scales[0]), int(zeros[0]), dtype).int_repr().long()
            else:
                q = torch.quantize_per_channel(x, scales, zeros, axis, dtype).int_repr().long()
    # the kernel's integers back to values in float64: its own float32 fake-quantized matrix is off by 1e-7
    per = (lambda t: t[0]) if axis is None else (lambda t: t.reshape((-1, 1) if axis == 0 else (1, -1)))
    # an x/S within float32 error of a half (0.145/0.01): the kernel rounds float32(x)/S, the question the
    # decimals given, halves to even; those few are decided exactly, the kernel's integers kept elsewhere
    channel = (lambda i, j: 0) if axis is None else (lambda i, j: i if axis == 0 else j)
    for i, j in near_halves(x64 / per(scales), 1e-6):
        c = channel(i, j)
        exact = round(Fraction(repr(float(g["X"][i][j]))) / Fraction(repr(float(g["scale"][c])))) + int(zeros[c])
        q[i, j] = min(max(exact, lo), hi)
    fq64 = (q - per(zeros)).double() * per(scales)
    return {"q": q.tolist(), "fake_quant": fq64.tolist(), "error": (x64 - fq64).tolist()}


def _channel_stat(x: torch.Tensor, axis: str, fn) -> torch.Tensor:
    if axis == "tensor":
        return fn(x.reshape(1, -1), 1)
    return fn(x, 1) if axis == "rows" else fn(x, 0)


def _round_to(v: torch.Tensor, k: int, exact: list[Fraction]) -> torch.Tensor:
    """The factors v rounded to k decimals as the question states, halves up (they are positive); within 1e-6 of a
    half on their exact values (exact: the factors from the given decimals), as 13.335/127 = 0.105 is
    0.10499999999999998 in float64."""
    from exgen.verify.quantization import near_halves  # that module imports this one

    if not k:
        return v
    up = torch.floor(v * 10**k + 0.5)
    flat = up.reshape(-1)
    for _, i in near_halves((v * 10**k).reshape(1, -1), 1e-6):
        flat[i] = math.floor(exact[i] * 10**k + Fraction(1, 2))
    return up / 10**k


def _exact_q(g: dict[str, Any], inv: list[Fraction], zeros: list[int], lo: int, hi: int,
             device: torch.device) -> torch.Tensor:
    """q = clamp(round(x/S) + Z), halves to even (inv: 1/S per channel, from a `_channels` list), by torch in
    float64 and exactly near a half (quantization._integers).  The kernels compute x/S in float32 and misjudge a
    half whose S is no float (S = 8/7: 4/S is 3.5, the kernel's 3.4999998 rounds to 3), which the sampler avoids
    and a TA's givens need not."""
    from exgen.verify.quantization import _integers  # that module imports this one

    axis = _axis(g["axis"])
    channel = (lambda i, j: 0) if axis is None else (lambda i, j: i if axis == 0 else j)
    return _integers(g["X"], lambda i, j: inv[channel(i, j)], lambda i, j: zeros[channel(i, j)], lo, hi, device,
                     even=True)


def _channels(g: dict[str, Any]) -> list[list[Fraction]]:
    """The given decimals of each channel (one for the tensor, each row, or each column)."""
    x = [[Fraction(repr(float(v))) for v in row] for row in g["X"]]
    return {"tensor": [[v for row in x for v in row]], "rows": x, "columns": [list(c) for c in zip(*x)]}[g["axis"]]


def _decimals_of(t: torch.Tensor) -> list[Fraction]:
    """A rounded factor's decimals (torch's float64 rounding to k places, read back in its shortest form)."""
    return [Fraction(repr(v)) for v in t.reshape(-1).tolist()]


def _absmax_int8(g: dict[str, Any], device: torch.device) -> dict[str, Any]:
    x64 = torch.tensor(g["X"], dtype=torch.float64, device=device)
    qmax = (1 << (int(g["bits"]) - 1)) - 1
    amax = _channel_stat(x64.abs(), g["axis"], lambda t, d: t.amax(dim=d))
    mult = g["form"] == "multiplier"
    exact = [qmax / m if mult else m / qmax for m in (max(abs(v) for v in ch) for ch in _channels(g))]
    factor = _round_to(qmax / amax if mult else amax / qmax, int(g["factor_decimals"]), exact)
    scale = 1 / factor if mult else factor
    axis = _axis(g["axis"])
    if int(g["factor_decimals"]):
        inv = [f if mult else 1 / f for f in _decimals_of(factor)]
    else:
        inv = [qmax / max(abs(v) for v in ch) for ch in _channels(g)]
    q = _exact_q(g, inv, [0] * len(inv), -qmax, qmax, device)
    per = scale.reshape(-1, 1) if axis == 0 else scale.reshape(1, -1) if axis == 1 else scale
    xhat = q.double() / (factor.reshape(per.shape)) if mult else q.double() * per
    scalar = g["axis"] == "tensor"
    return {"absmax": amax.item() if scalar else amax.tolist(), "factor": factor.item() if scalar else factor.tolist(),
            "q": q.tolist(), "reconstruction": xhat.tolist(), "error": (x64 - xhat).tolist()}


def _affine_channel(g: dict[str, Any], device: torch.device) -> dict[str, Any]:
    x64 = torch.tensor(g["X"], dtype=torch.float64, device=device)
    bits, signed = int(g["bits"]), g["signed"] == "signed"
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    rmin = _channel_stat(x64, g["axis"], lambda t, d: t.amin(dim=d))
    rmax = _channel_stat(x64, g["axis"], lambda t, d: t.amax(dim=d))
    channels = _channels(g)
    scale = _round_to((rmax - rmin) / (hi - lo), int(g["scale_decimals"]),
                      [(max(c) - min(c)) / (hi - lo) for c in channels])
    axis = _axis(g["axis"])
    exact = _decimals_of(scale) if int(g["scale_decimals"]) else [(max(c) - min(c)) / (hi - lo) for c in channels]
    zero_list = [min(max(round(lo - min(c) / s), lo), hi) for c, s in zip(channels, exact)]
    zeros = torch.tensor(zero_list, dtype=torch.long, device=device)
    q = _exact_q(g, [1 / s for s in exact], zero_list, lo, hi, device)
    shape = (-1, 1) if axis == 0 else (1, -1) if axis == 1 else (1, 1)
    xhat = scale.reshape(shape) * (q.double() - zeros.double().reshape(shape))
    return {"scales": scale.tolist(), "zero_points": zeros.tolist(), "q": q.tolist(), "reconstruction": xhat.tolist(),
            "error": (x64 - xhat).tolist()}


def _requant(g: dict[str, Any], device: torch.device) -> dict[str, Any]:
    m = torch.tensor(float(g["s_in"]), dtype=torch.float64, device=device) * float(g["s_w"]) / float(g["s_out"])
    mantissa, exponent = torch.frexp(m)  # m = mantissa · 2^exponent, mantissa in [0.5, 1)
    n = -int(exponent)
    q31 = int(torch.floor(mantissa * 2**31 + 0.5))
    if q31 == 1 << 31:
        q31, n = q31 // 2, n - 1
    acc = torch.tensor(int(g["acc"]), dtype=torch.long, device=device)
    ab = acc * q31
    nudge = torch.where(ab >= 0, torch.tensor(1 << 30, device=device), torch.tensor(1 - (1 << 30), device=device))
    high = torch.div(ab + nudge, 1 << 31, rounding_mode="trunc")
    mask = (1 << n) - 1
    remainder = torch.bitwise_and(high, mask)
    threshold = (mask >> 1) + (high < 0).long()
    shifted = torch.bitwise_right_shift(high, n) + (remainder > threshold).long()
    out = torch.clamp(shifted + int(g["z_out"]), int(g["quant_min"]), int(g["quant_max"]))
    return {"M": m.item(), "n": n, "M0": mantissa.item(), "q31": q31, "q_out": int(out)}


REPRODUCERS = {"given_scale": _given_scale, "absmax_int8": _absmax_int8, "affine_channel": _affine_channel,
               "requant": _requant}
