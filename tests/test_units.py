"""The exact unit scales solvers use agree with pint, which graders use for what students write."""

from __future__ import annotations

import subprocess
import sys

import pytest

from exgen.units import SCALES, convert, registry


@pytest.mark.parametrize("unit", sorted(SCALES))
def test_every_exact_scale_agrees_with_pint(unit):
    dimension, _ = SCALES[unit]
    base = {"information": "byte", "computation": "FLOP", "rate": "FLOP/s", "time": "second"}[dimension]
    assert convert(1.0, unit, base) == pytest.approx(registry().Quantity(1, unit).to(base).magnitude, rel=1e-15)


def test_conversions_between_scales_are_exact_ratios():
    assert convert(14e9, "byte", "GB") == 14.0
    assert convert(2**30, "B", "GiB") == 1.0
    assert convert(86400 * 2.5, "second", "day") == 2.5
    assert convert(1, "PFLOP", "TFLOP") == 1000.0


def test_units_of_different_dimensions_are_refused():
    with pytest.raises(ValueError, match="cannot convert"):
        convert(1.0, "GB", "day")


def test_other_units_fall_back_to_pint():
    assert convert(1.0, "kilobyte", "byte") == pytest.approx(1000.0)


def test_converting_known_units_does_not_import_pint():
    code = ("import sys; from exgen.units import convert; convert(3e9, 'byte', 'GiB'); "
            "convert(5, 'day', 'second'); print('pint' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
