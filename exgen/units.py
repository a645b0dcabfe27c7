"""The one unit registry (pint) with the units this course needs: FLOP as a unit of its own dimension,
bytes and bits (pint's: 1 byte = 8 bit, GB = 10^9 B, GiB = 2^30 B), and the FLOP/s prefixes.

Imported lazily (pint takes ~0.2 s to build a registry): only topics and graders that handle units do.
"""

from __future__ import annotations

from functools import lru_cache

import pint


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    ureg.define("FLOP = [computation] = flop = FLOPs")
    ureg.define("FLOPS = FLOP / second = flops")
    return ureg


def quantity(value: float, unit: str) -> pint.Quantity:
    return registry().Quantity(value, unit)


def convert(value: float, unit: str, to: str) -> float:
    """`value` in `unit`, expressed in `to` (raises pint's DimensionalityError if they do not match)."""
    return float(quantity(value, unit).to(to).magnitude)
