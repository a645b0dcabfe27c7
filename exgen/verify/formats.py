"""Number formats reproduced with torch, independently of the solver.

- FP32, FP16, BF16, FP8 E4M3 (`torch.float8_e4m3fn`) and FP8 E5M2 (`torch.float8_e5m2`): every finite value
  of the format is obtained by viewing all its bit patterns (`torch.arange` as an integer tensor, `.view(dtype)`)
  — for FP32 only the 2^16 patterns with the low mantissa bits zero plus the few needed are viewed. Largest
  finite and smallest normal come from `torch.finfo` (`max`, `smallest_normal`), epsilon from `finfo.eps`, the
  smallest subnormal from the bit pattern 0...01 viewed as the dtype, the bias from the smallest normal
  (2^(1 - bias)).  A bit pattern's value is the integer viewed as the dtype.  Rounding is a real cast,
  `torch.tensor(x, dtype=float64).to(dtype)`, and the spacing around x is the gap between the two neighbouring
  values found in the enumerated table.  Overflow: the cast of amax is not finite (inf for IEEE formats, NaN
  for E4M3 under some versions), or the value saturates at the largest finite one (torch 2.x clamps E4M3 to
  448): the stored value lies further from amax than half the last gap of the format.
- FP4 E2M1 has no torch dtype in every version, and the custom formats none at all: their 2^(1+E+M) codes are
  enumerated here from the bit layout (sign, exponent field, mantissa field; all-ones exponent reserved for
  IEEE-style formats, none reserved for E2M1), and rounding is a search of that table for the nearest value
  (ties to the code with an even mantissa).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import torch

TORCH = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16, "fp8_e4m3": torch.float8_e4m3fn,
         "fp8_e5m2": torch.float8_e5m2}
INT_OF_WIDTH = {8: torch.uint8, 16: torch.int16, 32: torch.int32}
LAYOUT = {"fp4_e2m1": (2, 1, "none")}


def _key(g: dict[str, Any]) -> tuple[str, int, int, str]:
    if g["format"] == "custom":
        return ("custom", int(g["exp_bits"]), int(g["man_bits"]), "ieee")
    if g["format"] in LAYOUT:
        return (g["format"], *LAYOUT[g["format"]])
    return (g["format"], 0, 0, "torch")


def _signed(code: int, width: int) -> int:
    return code - (1 << width) if width > 8 and code >= 1 << (width - 1) else code


def view(code: int, dtype: torch.dtype) -> float:
    width = torch.finfo(dtype).bits
    return torch.tensor([_signed(code, width)], dtype=INT_OF_WIDTH[width]).view(dtype).double().item()


@lru_cache(maxsize=None)
def table(key: tuple[str, int, int, str]) -> torch.Tensor:
    """The sorted finite non-negative values of a format (float64)."""
    name, e_bits, m_bits, special = key
    if special == "torch":
        dtype = TORCH[name]
        width = torch.finfo(dtype).bits
        if width == 32:  # too many patterns: the neighbours needed are found by nextafter instead
            return torch.empty(0, dtype=torch.float64)
        codes = torch.arange(0, 1 << (width - 1), dtype=torch.int32).to(INT_OF_WIDTH[width])
        values = codes.view(dtype).double()
    else:
        codes = torch.arange(0, 1 << (e_bits + m_bits), dtype=torch.int64)
        e, m = codes >> m_bits, codes & ((1 << m_bits) - 1)
        bias = 2 ** (e_bits - 1) - 1
        frac = m.double() / 2**m_bits
        values = torch.where(e == 0, frac * 2.0 ** (1 - bias), (1 + frac) * torch.pow(2.0, (e - bias).double()))
        if special == "ieee":
            values = values[e < (1 << e_bits) - 1]
    return torch.sort(values[torch.isfinite(values)]).values


def constants(key: tuple[str, int, int, str]) -> dict[str, float]:
    name, e_bits, m_bits, special = key
    if special == "torch":
        info, dtype = torch.finfo(TORCH[name]), TORCH[name]
        return {"max": float(info.max), "min_normal": float(info.smallest_normal), "eps": float(info.eps),
                "min_subnormal": view(1, dtype)}
    values = table(key)
    bias = 2 ** (e_bits - 1) - 1
    one = int(torch.searchsorted(values, torch.tensor([1.0], dtype=torch.float64)).item())
    return {"max": float(values[-1]), "min_normal": float(values[1 << m_bits]), "eps": float(values[one + 1] - 1),
            "min_subnormal": float(values[1]), "bias": bias}


def _log2(x: float) -> int:
    k = round(math.log2(x))
    assert 2.0**k == x, x
    return k


def _layout(g: dict[str, Any]) -> dict[str, Any]:
    key = _key(g)
    c = constants(key)
    bits = str(g["bits"]).replace(" ", "").replace("_", "")
    if key[3] == "torch":
        value = view(int(bits, 2), TORCH[key[0]])
    else:  # sign, then the magnitude's code in the enumerated table (codes in order of value)
        magnitude = table(key)[int(bits[1:], 2)].item()
        value = -magnitude if bits[0] == "1" else magnitude
    return {"bias": 1 - _log2(c["min_normal"]), "max": c["max"], "min_normal_exp": _log2(c["min_normal"]),
            "min_subnormal_exp": _log2(c["min_subnormal"]), "epsilon_exp": _log2(c["eps"]), "value": value}


def cast(key: tuple[str, int, int, str], x: float) -> float:
    """x stored in the format: a real torch cast, or the nearest table entry (ties to an even code)."""
    if key[3] == "torch":
        return torch.tensor([x], dtype=torch.float64).to(TORCH[key[0]]).double().item()
    values = table(key)
    a = abs(x)
    if a > values[-1].item():
        return math.nan if key[3] == "none" else math.copysign(math.inf, x)
    i = int(torch.searchsorted(values, torch.tensor([a], dtype=torch.float64)).item())
    lo, hi = values[max(i - 1, 0)].item(), values[min(i, len(values) - 1)].item()
    if a - lo < hi - a or (a - lo == hi - a and (i - 1) % 2 == 0):
        pick = lo
    else:
        pick = hi
    return math.copysign(pick, x)


def neighbours(key: tuple[str, int, int, str], x: float) -> tuple[float, float]:
    """The representable numbers a <= |x| < b."""
    values = table(key)
    i = int(torch.searchsorted(values, torch.tensor([abs(x)], dtype=torch.float64), right=True).item())
    return values[i - 1].item(), values[i].item()


def _nearest(g: dict[str, Any]) -> dict[str, Any]:
    key, x = _key(g), float(g["x"])
    y = cast(key, x)
    a, b = neighbours(key, x)
    return {"spacing": b - a, "nearest": y, "rel_error": abs(y - x) / abs(x)}


def _range(g: dict[str, Any]) -> dict[str, Any]:
    key = _key(g)
    c = constants(key)
    amax, amin = float(g["amax"]), float(g["amin"])
    stored, top = cast(key, amax), table(key)[-2:]
    # overflow: the cast gives inf or NaN, or saturates (torch's E4M3 cast clamps to 448): the stored value is
    # further from amax than half the format's last gap
    overflow = not math.isfinite(stored) or abs(stored - amax) > (top[1] - top[0]).item() / 2
    k = 0  # largest k with amax * 2^k <= max, by stepping
    while amax * 2.0**k > c["max"]:
        k -= 1
    while amax * 2.0 ** (k + 1) <= c["max"]:
        k += 1
    scaled = amin * 2.0**k
    stored = cast(key, scaled)
    cls = "zero" if stored == 0 else "subnormal" if stored < c["min_normal"] else "normal"
    return {"max": c["max"], "overflow": "yes" if overflow else "no", "scale_exp": k, "scaled_min": scaled,
            "min_class": cls}


_REPRODUCERS = {"layout": _layout, "nearest": _nearest, "range": _range}


def reproduce(variant: str, givens: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return _REPRODUCERS[variant](givens)
