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


def farthest(values: Any, key: Any) -> float:
    """Of the values a student may write for one entry, the one farther from the key's entry."""
    return max(values, key=lambda v: abs(v - float(key)))


def reported(rows: list[list[float]], key: list[list[Any]], dec: int) -> list[list[float]]:
    """A matrix as the student reports it, each entry to `dec` decimals, at a tie the neighbour farther from the
    key's entry: entries are graded one by one, so this misses the tolerance exactly when some way of rounding
    the ties does."""
    return [[farthest(nf.held(v, decimals=dec), k) for v, k in zip(*t)] for t in zip(rows, key)]


def _error_from_rounded(variant: str, g: dict[str, Any], solution: Solution) -> Any:
    """The error matrix from the reconstruction as reported (rounded to the asked decimals, ties either way)."""
    dec = int(g["decimals"])
    xhat, key = solution.value("reconstruction"), solution.value("error")
    return [[farthest([e for h in nf.held(v, decimals=dec) for e in nf.held(r - h, decimals=dec)], k)
             for r, v, k in zip(*t)] for t in zip(g["X"], xhat, key)]
