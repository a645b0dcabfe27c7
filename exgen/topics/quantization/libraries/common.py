"""What the library variants (given_scale, absmax_int8, affine_channel, requant) share beyond quantization/common.py
(ties, ranges, rounding, clamp, flat): the axes, channel helpers (a matrix's channels as rows, the channel value at
each entry), the givens check, the matrix X given, and the error-matrix-from-rounded-reconstruction path."""

from __future__ import annotations

from typing import Any

from exgen import numfmt as nf
from exgen.problem import Solution
from exgen.topics.base import Given, InvalidGivens
from exgen.topics.quantization import _fast
from exgen.topics.quantization.common import _transpose, flat


MAX_ENTRIES = 64
AXES = ("tensor", "rows", "columns")


def channels(x: list[list[Any]], axis: str) -> list[list[Any]]:
    """The channels of x as rows: rows as they are, columns transposed, the tensor as one channel."""
    return _transpose(x) if axis == "columns" else [flat(x)] if axis == "tensor" else x


def per_entry(x: list[list[Any]], axis: str, values: list[Any]) -> list[list[Any]]:
    """The channel value that applies at each entry of x."""
    if axis == "tensor":
        return [[values[0]] * len(x[0]) for _ in x]
    if axis == "rows":
        return [[values[i]] * len(x[0]) for i in range(len(x))]
    return [[values[j] for j in range(len(x[0]))] for _ in x]


def channel_word(axis: str) -> str:
    return {"rows": "row", "columns": "column", "tensor": "tensor"}[axis]


def _matrix_ok(x: Any) -> None:
    if not x or any(not row or len(row) != len(x[0]) for row in x):
        raise InvalidGivens("X must be a non-empty rectangular matrix")


def _mat(m, d: int | None = None) -> str:
    return _fast.fixed_matrix(m, d) if d is not None else nf.matrix(m, nf.num)


_X = Given("X", "the real matrix (rows separated by ';', entries by ',')", "matrix", low=-1e6, high=1e6,
           max_size=MAX_ENTRIES)


def _error_from_rounded(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    """The error matrix from the reconstruction as reported (rounded to the asked decimals)."""
    dec = int(g["decimals"])
    xhat = solution.value("reconstruction")
    return [[round(r - round(v, dec), dec) for r, v in zip(*t)] for t in zip(g["X"], xhat)]
