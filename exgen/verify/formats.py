"""Number formats reproduced with torch, independently of the solver.

- FP32, FP16, BF16, FP8 E4M3 (`torch.float8_e4m3fn`) and FP8 E5M2 (`torch.float8_e5m2`): every finite value
  of the format is obtained by viewing all its bit patterns (`torch.arange` as an integer tensor, `.view(dtype)`)
  — for FP32 only the 2^16 patterns with the low mantissa bits zero plus the few needed are viewed. Largest
  finite and smallest normal come from `torch.finfo` (`max`, `smallest_normal`), epsilon from `finfo.eps`, the
  smallest subnormal from the bit pattern 0...01 viewed as the dtype, the bias from the smallest normal
  (2^(1 - bias)).  A bit pattern's value is the integer viewed as the dtype.  Rounding is a real cast,
  `torch.tensor(x, dtype=float64).to(dtype)`, and the spacing around x is the gap between the two neighbouring
  values found in the enumerated table (for FP32, `torch.nextafter`).  torch casts float64 to the narrow formats
  through float32, rounding twice; the cast is fed x rounded to odd in float32, so it rounds once.  Overflow is
  the question's definition, amax above `finfo.max` (a cast of amax just above it rounds to max instead).
- FP4 E2M1 has no torch dtype in every version, and the custom formats none at all: a code's value comes from
  its bit layout (sign, exponent field, mantissa field; all-ones exponent reserved for IEEE-style formats, none
  reserved for E2M1), and rounding is a binary search over the codes, which are in order of value, for the
  nearest value (ties to the code with an even mantissa).  The codes are never all enumerated: E11M23 has 2^34.
"""

from __future__ import annotations

import bisect
import math
from fractions import Fraction
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


class Codes:
    """The finite non-negative values of a bit layout in code order (which is value order), computed per code
    from the layout on demand: a table that is never enumerated.  Indexing gives a float64 0-d tensor."""

    def __init__(self, e_bits: int, m_bits: int, special: str) -> None:
        self.e_bits, self.m_bits, self.bias = e_bits, m_bits, 2 ** (e_bits - 1) - 1
        top = (1 << e_bits) - (1 if special == "ieee" else 0)  # IEEE-style: the all-ones exponent is inf/NaN
        self.count = top << m_bits

    def __len__(self) -> int:
        return self.count

    def tolist(self) -> list[float]:
        """Every value, enumerated (for a small format's table)."""
        return [float(self[code]) for code in range(self.count)]

    def __getitem__(self, code: int) -> torch.Tensor:
        code = code + self.count if code < 0 else code
        if not 0 <= code < self.count:
            raise IndexError(code)
        e, m = code >> self.m_bits, code & ((1 << self.m_bits) - 1)
        frac = torch.tensor(m, dtype=torch.float64) / 2**self.m_bits
        return torch.ldexp(frac if e == 0 else 1 + frac, torch.tensor(max(e, 1) - self.bias))


def _search(values, a: float, right: bool = False) -> int:
    """torch.searchsorted of a in a sorted table (an enumerated tensor, or Codes by bisection)."""
    if isinstance(values, torch.Tensor):
        return int(torch.searchsorted(values, torch.tensor([a], dtype=torch.float64), right=right).item())
    return bisect.bisect_right(values, a, key=float) if right else bisect.bisect_left(values, a, key=float)


@lru_cache(maxsize=None)
def table(key: tuple[str, int, int, str]):
    """The sorted finite non-negative values of a format (float64): a torch dtype's, enumerated; a bit layout's,
    as `Codes`."""
    name, e_bits, m_bits, special = key
    if special != "torch":
        return Codes(e_bits, m_bits, special)
    dtype = TORCH[name]
    width = torch.finfo(dtype).bits
    if width == 32:  # too many patterns: the neighbours needed are found by nextafter instead
        return torch.empty(0, dtype=torch.float64)
    codes = torch.arange(0, 1 << (width - 1), dtype=torch.int32).to(INT_OF_WIDTH[width])
    values = codes.view(dtype).double()
    return torch.sort(values[torch.isfinite(values)]).values


def constants(key: tuple[str, int, int, str]) -> dict[str, float]:
    name, e_bits, m_bits, special = key
    if special == "torch":
        info, dtype = torch.finfo(TORCH[name]), TORCH[name]
        return {"max": float(info.max), "min_normal": float(info.smallest_normal), "eps": float(info.eps),
                "min_subnormal": view(1, dtype)}
    values = table(key)
    bias = 2 ** (e_bits - 1) - 1
    one = _search(values, 1.0)
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


def _odd32(x: float) -> torch.Tensor:
    """x rounded to float32 *to odd* (toward zero, last bit set when inexact).  torch casts float64 to the narrow
    formats through float32, rounding twice (fp16 1.000488281251 → 1.0 instead of 1.0009765625); from x rounded to
    odd with at least two more bits than the target, a round to nearest even is the single rounding of x."""
    t = torch.tensor([x], dtype=torch.float64)
    f = t.float()
    if f.double().item() == x or not math.isfinite(f.item()):
        return f
    if abs(f.double().item()) > abs(x):
        f = torch.nextafter(f, torch.zeros_like(f))
    return (f.view(torch.int32) | 1).view(torch.float32)


def cast(key: tuple[str, int, int, str], x: float) -> float:
    """x stored in the format: a real torch cast (from float64 in one rounding), or the nearest table entry (ties
    to an even code)."""
    if key[3] == "torch":
        single = torch.tensor([x], dtype=torch.float64).float() if key[0] == "fp32" else _odd32(x)
        return single.to(TORCH[key[0]]).double().item()
    values = table(key)
    a = abs(x)
    if a > values[-1].item():
        return math.nan if key[3] == "none" else math.copysign(math.inf, x)
    i = _search(values, a)
    lo, hi = values[max(i - 1, 0)].item(), values[min(i, len(values) - 1)].item()
    if a - lo < hi - a or (a - lo == hi - a and (i - 1) % 2 == 0):
        pick = lo
    else:
        pick = hi
    return math.copysign(pick, x)


def neighbours(key: tuple[str, int, int, str], x: float) -> tuple[float, float]:
    """The representable numbers a <= |x| < b; at the largest finite value, the last gap (a < |x| = b, as in its
    binade); above it, b is inf (no finite neighbour: the question is not defined there)."""
    if key[0] == "fp32":  # no table: torch.nextafter in float32 around |x|
        f = torch.tensor([abs(x)], dtype=torch.float64).float()
        if f.double().item() > abs(x):
            f = torch.nextafter(f, torch.zeros_like(f))
        a, b = f.double().item(), torch.nextafter(f, torch.full_like(f, math.inf)).double().item()
        top = float(torch.finfo(torch.float32).max)
        return (float(torch.nextafter(f, torch.zeros_like(f)).item()), a) if a == abs(x) == top else (a, b)
    values = table(key)
    i = _search(values, abs(x), right=True)
    if i == len(values):
        return (values[-2].item(), values[-1].item()) if abs(x) == values[-1].item() else (values[-1].item(), math.inf)
    return values[i - 1].item(), values[i].item()


def _nearest(g: dict[str, Any]) -> dict[str, Any]:
    key, x = _key(g), float(g["x"])
    a, b = neighbours(key, x)
    decimal = Fraction(repr(x))  # the decimal given, whose float64 may land exactly on a tie or an edge it misses
    if decimal != Fraction(x) and (abs(x) == a or abs(x) - a == b - abs(x)):
        x = math.nextafter(x, math.inf if decimal > Fraction(x) else -math.inf)  # the side the decimal is on
        a, b = neighbours(key, x)
    y = cast(key, x)
    # of the decimal given, exactly: |y − x| of a float64 x carries x's own rounding, 1e-3 of a 1e-13 error
    return {"spacing": b - a, "nearest": y, "rel_error": float(abs(Fraction(y) - decimal) / abs(decimal))}


def _range(g: dict[str, Any]) -> dict[str, Any]:
    key = _key(g)
    c = constants(key)
    amin = float(g["amin"])
    # amax as the decimal given, exactly: 3.4028234663852886e38 is above FP32's max though its float64 is it
    amax, top = Fraction(repr(float(g["amax"]))), Fraction(c["max"])
    overflow = amax > top  # the question's definition: above the largest finite value (not what a cast does)
    k = 0  # largest k with amax * 2^k <= max, by stepping
    while amax * Fraction(2) ** k > top:
        k -= 1
    while amax * Fraction(2) ** (k + 1) <= top:
        k += 1
    scaled = amin * 2.0**k
    stored = cast(key, scaled)
    cls = "zero" if stored == 0 else "subnormal" if stored < c["min_normal"] else "normal"
    return {"max": c["max"], "overflow": "yes" if overflow else "no", "scale_exp": k, "scaled_min": scaled,
            "min_class": cls}


_REPRODUCERS = {"layout": _layout, "nearest": _nearest, "range": _range}


def reproduce(variant: str, givens: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return _REPRODUCERS[variant](givens)
