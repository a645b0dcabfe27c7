"""Deterministic, version-proof randomness.

numpy's distributions and most of `random`'s helpers may change between releases, so every draw here is
built on SHA-256 in counter mode: the stream for a seed is fixed by the hash alone, on every machine and
every Python.  Seeds for the problems of a sheet are derived by hashing, so problem i does not depend on
how many draws problem i-1 needed.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from fractions import Fraction
from typing import Sequence, TypeVar

T = TypeVar("T")

_WORDS = 1 << 64  # how many 64-bit words there are
_FOUR_WORDS = struct.Struct(">4Q")  # a SHA-256 digest as four big-endian 64-bit words
_LIMITS: dict[int, int] = {}  # span -> the rejection bound of `below`


class Rng:
    """A stream of 64-bit words from SHA-256(key ‖ counter)."""

    def __init__(self, *key: object) -> None:
        self._key = "\x1f".join(str(k) for k in key).encode()
        self._counter = 0
        self._buffer: list[int] = []

    def _refill(self) -> list[int]:
        """The next block's four words, in the order they are handed out (last first)."""
        digest = hashlib.sha256(self._key + b"\x00" + self._counter.to_bytes(8, "big")).digest()
        self._counter += 1
        self._buffer = list(_FOUR_WORDS.unpack(digest))
        return self._buffer

    def _word(self) -> int:
        return (self._buffer or self._refill()).pop()

    def randint(self, low: int, high: int) -> int:
        """Uniform integer in [low, high], by rejection (no modulo bias)."""
        if high < low:
            raise ValueError(f"empty range [{low}, {high}]")
        return low + self.below(high - low + 1)

    def below(self, span: int) -> int:
        """Uniform integer in [0, span): `randint(0, span - 1)`, the same words, without its argument check
        (a sampler drawing a random graph calls it ~40 times)."""
        limit = _LIMITS.get(span)
        if limit is None:
            if span < 1:
                raise ValueError(f"empty range [0, {span})")
            if len(_LIMITS) >= 1024:
                _LIMITS.clear()
            limit = _LIMITS[span] = _WORDS - _WORDS % span  # the largest multiple of span up to 2^64
        while True:
            w = (self._buffer or self._refill()).pop()  # _word, inlined: samplers call this ~100 times a problem
            if w < limit:
                return w % span

    def choice(self, items: Sequence[T]) -> T:
        return items[self.randint(0, len(items) - 1)]

    def decimal(self, low: float, high: float, places: int) -> Fraction:
        """A number with `places` decimals, uniform on the grid over [low, high], as an exact Fraction."""
        scale = 10**places
        return Fraction(self.randint(round(low * scale), round(high * scale)), scale)

    def shuffle(self, items: list[T]) -> list[T]:
        """A new list in Fisher–Yates order."""
        out = list(items)
        for i in range(len(out) - 1, 0, -1):
            j = self.randint(0, i)
            out[i], out[j] = out[j], out[i]
        return out


def problem_seed(sheet_seed: int, index: int | str) -> int:
    """The seed of problem `index` of a sheet: a hash, so problems are independent of each other."""
    digest = hashlib.sha256(f"exgen-sheet\x1f{sheet_seed}\x1f{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def student_seed(secret: bytes, student: str, index: int | str) -> int:
    """An exam seed: HMAC of the course secret, so the public code and a printed sheet do not reveal it."""
    digest = hmac.new(secret, f"{student}\x1f{index}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big")
