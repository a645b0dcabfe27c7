"""The storage variant: a model's weights at b bits with per-group 16-bit scales (and b-bit zero points), some
parameters kept at the source precision; sizes in exact integers (over 8·D bytes), the solver and the sampler."""

from __future__ import annotations

import math
from typing import Any

from exgen import numfmt as nf
from exgen.problem import Answer, Part, Solution, Step
from exgen.rng import Rng
from exgen.topics.quantization import _fast
from exgen.topics.quantization._fast import fr
from exgen.topics.quantization.common import BYTES_PER_GB


@_fast.memo(16)
def _storage_core(params: Any, src: int, bits: int, group: int, zeros: str, kept: Any) -> dict[str, int]:
    """The sizes in integers: with D the common denominator of params and kept (P = params·D, K = kept·D),
    every size in bytes is its value here over 8·D, exactly."""
    p, k = fr(params), fr(kept)
    d = math.lcm(p.denominator, k.denominator)
    big_p, big_k = p.numerator * (d // p.denominator), k.numerator * (d // k.denominator)
    quantized = big_p - big_k
    groups = -(-quantized // (d * group))  # ceil((p − k)/group)
    per_group = 16 + (bits if zeros == "b-bit" else 0)  # eighths of a byte: a 2-byte scale (+ a b-bit zero)
    return {"d": d, "p": big_p, "k": big_k, "groups": groups, "before": big_p * src,
            "after": quantized * bits + groups * per_group * d + big_k * src,
            "without_overhead": quantized * bits + big_k * src}


def _storage_sizes(g: dict[str, Any]) -> dict[str, int]:
    return _storage_core(g["params"], int(g["source_bits"]), int(g["bits"]), int(g["group"]), g["zero_points"],
                         g["kept_params"])


def _solve_storage(g: dict[str, Any]) -> Solution:
    src, bits, group = int(g["source_bits"]), int(g["bits"]), int(g["group"])
    zeros = g["zero_points"]
    sizes = _storage_sizes(g)
    d, e = sizes["d"], 8 * sizes["d"]  # sizes in bytes are over e
    before_n, after_n = sizes["before"], sizes["after"]

    def steps() -> tuple[Step, ...]:
        p, k, groups = sizes["p"] / d, sizes["k"], sizes["groups"]
        before, after, ratio = before_n / e, after_n / e, before_n / after_n
        kept = k / d
        quantized = nf.sig((sizes["p"] - k) / d, 6)
        gb = lambda n: nf.sig(n / (e * BYTES_PER_GB), 6)  # noqa: E731
        per_group = "a 2-byte scale" + (f" and {nf.article(bits)} {bits}-bit (${nf.num(bits / 8)}$-byte) zero point"
                                        if zeros == "b-bit" else "")
        group_bytes = "2" if zeros == "none" else rf"\left(2 + {nf.num(bits / 8)}\right)"
        out = [Step(f"Before: {src} bits = {src // 8} bytes per parameter:",
                    rf"{nf.sig(p, 6)} \times {src // 8}\ \text{{B}} = {nf.sig(before, 6)}\ \text{{B}} = "
                    rf"{gb(before_n)}\ \text{{GB}}")]
        if k:
            out.append(Step(f"Kept at {src} bits: ${nf.sig(kept, 6)}$ parameters, "
                            f"${nf.sig(kept, 6)} \\times {src // 8} = {nf.sig(k * src / e, 6)}$ bytes; quantized: "
                            f"${nf.sig(p, 6)} - {nf.sig(kept, 6)} = {quantized}$ weights."))
        out += [
            Step(f"Groups of {group} quantized weights (a partial group still has its own scale"
                 + (" and zero point" if zeros == "b-bit" else "") + "):",
                 rf"\left\lceil \frac{{{quantized}}}{{{group}}} \right\rceil = {nf.sig(groups, 9)}"),
            Step(f"After: {bits} bits per weight is ${nf.num(bits / 8)}$ {nf.plural(bits / 8, 'byte')}, plus {per_group} per group"
                 + (", plus the kept parameters" if k else "") + ":",
                 rf"{quantized} \times {nf.num(bits / 8)} + {nf.sig(groups, 9)} \times {group_bytes}"
                 + (rf" + {nf.sig(k * src / e, 6)}" if k else "")
                 + rf" = {nf.sig(after, 6)}\ \text{{B}}"),
            Step(f"In GB ($10^9$ bytes): ${nf.sig(after, 6)} / 10^9 = {gb(after_n)}$ GB."),
            Step("Compression ratio of the unrounded sizes:",
                 rf"\frac{{{gb(before_n)}}}{{{gb(after_n)}}} = {nf.sig(ratio, 4)}"),
        ]
        return tuple(out)
    parts = (
        Part("before", "size before", Answer("number", before_n / (e * BYTES_PER_GB), unit="GB", sig=3)),
        Part("after", "size after", Answer("number", after_n / (e * BYTES_PER_GB), unit="GB", sig=3)),
        Part("ratio", "compression ratio", Answer("number", before_n / after_n, sig=3)),
    )
    return Solution(parts, steps)


def _sample_storage(rng: Rng, difficulty: str) -> dict[str, Any]:
    """Continuous model sizes (1.00 to 99.99 billion at easy, on a 0.01-billion grid), every bit width, group
    sizes from 16 to 1024; medium adds per-group zero points; hard also keeps some parameters unquantized."""
    easy = difficulty == "easy"
    params = rng.decimal(1, 99.99, 2) if easy else rng.decimal(0.5, 199.99, 2)
    g = {"params": float(params * 10**9), "source_bits": rng.choice((16, 32)), "bits": rng.choice((2, 3, 4, 8)),
         "group": rng.choice((32, 64, 128, 256) if easy else (16, 32, 64, 128, 256, 512, 1024)),
         "zero_points": "none" if easy else rng.choice(("none", "b-bit")), "kept_params": 0}
    if difficulty == "hard":
        g["kept_params"] = float(rng.decimal(0.01, float(params) / 5, 2) * 10**9)
    return g
