"""Units: the scales solvers convert with, and the one pint registry graders parse with.

Solvers convert between a handful of units (bytes to GB or GiB, seconds to days, TFLOP/s·s to FLOP).
Those scales are exact constants in `SCALES` — so `exgen make` never imports pint, whose import and
registry cost more than the rest of start-up together (issue 12; figures in docs/decisions.md).  Anything
else, and every unit a *student* writes, goes through pint: FLOP as a unit of its own dimension, bytes and
bits (pint's: 1 byte = 8 bit, GB = 10^9 B, GiB = 2^30 B), and the FLOP/s prefixes.  A test checks that
every constant here agrees with pint.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

_DECIMAL = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50}


def _prefixed(dimension: str, *names: str, binary: bool = False) -> dict[str, tuple[str, Fraction]]:
    prefixes = {**_DECIMAL, **(_BINARY if binary else {})}
    return {p + n: (dimension, Fraction(scale)) for p, scale in prefixes.items() for n in names}


# unit name -> (dimension, scale to the dimension's base unit), exact.
SCALES: dict[str, tuple[str, Fraction]] = {
    **_prefixed("information", "B", binary=True), "byte": ("information", Fraction(1)),
    "bit": ("information", Fraction(1, 8)),
    **_prefixed("computation", "FLOP"),
    **_prefixed("rate", "FLOP/s"),
    "s": ("time", Fraction(1)), "second": ("time", Fraction(1)), "ms": ("time", Fraction(1, 1000)),
    "minute": ("time", Fraction(60)), "hour": ("time", Fraction(3600)), "day": ("time", Fraction(86400)),
}

# Every unit a solver asks an answer in: a key's units are told valid without building pint's registry, which
# costs a grader more than reading and grading a class's sheets (issue 12). Any other unit (a hand-edited key's)
# goes through the grammar and pint. tests/test_units.py holds this set to every topic's answers and to pint.
ANSWER_UNITS = frozenset(SCALES) | {"FLOP/byte", "GB/s", "MWh", "PFLOP/s*day", "percent", "t", "token/s"}


# A unit as the questions name it, where a key writes it in the unit grammar: what a key, an answer sheet's
# comment, feedback and a tolerance print (the key file keeps the grammar's spelling; the grader reads both).
# `hour` is GPU-hours: the only answer in hours (tests/test_units.py holds every topic to that).
_SHOWN = {"PFLOP/s*day": "PF-days", "hour": "GPU-hours", "t": "tonnes CO2e", "day": "days", "B": "bytes",
          "byte": "bytes", "bit": "bits", "token/s": "tokens/s"}


def shown(unit: str) -> str:
    """The unit as a student reads it in the questions: PF-days for the key's PFLOP/s*day, tonnes CO2e for t."""
    return _SHOWN.get(unit, unit)


def convert(value: float, unit: str, to: str) -> float:
    """`value` in `unit`, expressed in `to`: exact scales for the units in SCALES, pint for any other
    (raises ValueError, or pint's DimensionalityError, if the two do not measure the same thing)."""
    if unit in SCALES and to in SCALES:
        (dim_from, scale_from), (dim_to, scale_to) = SCALES[unit], SCALES[to]
        if dim_from != dim_to:
            raise ValueError(f"cannot convert {unit} ({dim_from}) to {to} ({dim_to})")
        return float(value) * float(scale_from / scale_to)
    return float(quantity(value, unit).to(to).magnitude)


# Units of 1 naming what an answer counts, so that "7.95e11 tokens" or "3 GPUs" reads as a plain number.
COUNTED = ("token", "parameter", "GPU", "sequence", "weight", "element", "entry", "step")
_COUNTED_ALIASES = {"parameter": " = param", "token": " = _ = tok", "GPU": " = _ = gpu"}


@lru_cache(maxsize=1)
def registry():
    """pint's registry with FLOP defined (built on first use: ~0.3 s including pint's import)."""
    import pint

    ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    ureg.define("FLOP = [computation] = flop = FLOPs")
    ureg.define("FLOPS = FLOP / second = flops")
    for counted in COUNTED:  # what an answer counts: "4.6e9 params", "3 GPUs", "1500 tok/s", "gpu hours"
        ureg.define(f"{counted} = 1" + _COUNTED_ALIASES.get(counted, ""))
    return ureg


def quantity(value: float, unit: str):
    return registry().Quantity(value, unit)
