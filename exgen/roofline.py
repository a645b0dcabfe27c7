"""A measured roofline: the bandwidth and FLOP/s this device achieves, against its spec, with ops placed on it.

The roofline model (Williams, Waterman & Patterson, CACM 2009): an op of arithmetic intensity I (FLOP per
byte moved) attains at most min(peak FLOP/s, I × bandwidth).  We measure both ceilings on real tensors:

- bandwidth: a large device-to-device copy, which reads and writes every byte once (2 × size bytes moved);
- peak: a large square matmul, 2n³ FLOPs (a fused multiply-add is 2 FLOPs), in the dtype the device is fast
  at (bf16 on a GPU, fp32 on a CPU);

timed with CUDA events on a GPU and `time.perf_counter` on a CPU (best of several repetitions after warm-up).
A GPU is identified by `torch.cuda.get_device_name` and compared with its datasheet figures from
`exgen/gpus.py`; a CPU measurement is labelled as one, with no spec to compare against.  Then a few ops of
known intensity are timed and placed on the measured roofline.  Imported only by `exgen roofline` (torch).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from exgen import gpus


@dataclass(frozen=True)
class Sizes:
    """Problem sizes: large enough to reach the ceilings, small enough for the device's memory and patience."""

    copy_bytes: int
    matmul_n: int
    repeats: int

    @classmethod
    def for_device(cls, device: torch.device, quick: bool = False) -> Sizes:
        if device.type == "cuda":
            return cls(copy_bytes=2**30, matmul_n=8192, repeats=20) if not quick else cls(2**26, 2048, 5)
        return cls(copy_bytes=2**28, matmul_n=2048, repeats=5) if not quick else cls(2**24, 512, 3)


@dataclass(frozen=True)
class OpPoint:
    """One op on the roofline: its intensity, what it achieved, and what the measured roofline allows."""

    name: str
    intensity: float  # FLOP / byte
    achieved: float  # FLOP/s
    attainable: float  # min(measured peak, intensity × measured bandwidth)


@dataclass(frozen=True)
class Roofline:
    device: str  # what was measured, in words ("NVIDIA H100 80GB HBM3 (cuda)", "CPU (4 threads)")
    is_gpu: bool
    dtype: str
    bandwidth: float  # measured, bytes/s
    peak: float  # measured, FLOP/s
    spec: gpus.GPU | None  # the datasheet entry, when the GPU is one exgen knows
    ops: tuple[OpPoint, ...] = field(default=())

    @property
    def ridge(self) -> float:
        """The intensity where the two ceilings meet: below it an op is memory-bound."""
        return self.peak / self.bandwidth

    def attainable(self, intensity: float) -> float:
        return min(self.peak, intensity * self.bandwidth)


def _timer(device: torch.device) -> Callable[[Callable[[], None], int], float]:
    """Best wall time of `repeats` runs of fn, in seconds, after one warm-up run."""

    def cpu(fn: Callable[[], None], repeats: int) -> float:
        fn()
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        return best

    def cuda(fn: Callable[[], None], repeats: int) -> float:
        fn()
        torch.cuda.synchronize(device)
        best = float("inf")
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize(device)
            best = min(best, start.elapsed_time(end) / 1000)  # elapsed_time is in milliseconds
        return best

    return cuda if device.type == "cuda" else cpu


def measure_bandwidth(device: torch.device, size_bytes: int, repeats: int) -> float:
    """Bytes/s of a copy between two buffers of `size_bytes`: each byte read once and written once."""
    src = torch.empty(size_bytes, dtype=torch.uint8, device=device).fill_(1)
    dst = torch.empty_like(src)
    seconds = _timer(device)(lambda: dst.copy_(src), repeats)
    return 2 * size_bytes / seconds


def measure_matmul(device: torch.device, n: int, dtype: torch.dtype, repeats: int) -> float:
    """FLOP/s of an n×n by n×n matmul, counted as 2n³ FLOPs."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    out = torch.empty(n, n, device=device, dtype=dtype)
    seconds = _timer(device)(lambda: torch.matmul(a, b, out=out), repeats)
    return 2 * n**3 / seconds


def _ops(device: torch.device, dtype: torch.dtype, sizes: Sizes) -> list[tuple[str, float, float]]:
    """(name, FLOP/byte, measured FLOP/s) for ops from memory-bound to compute-bound.  Each memory-bound op
    touches as many bytes as the bandwidth copy, so no cache serves it faster than the measured ceiling."""
    timer, item = _timer(device), torch.tensor([], dtype=dtype).element_size()
    n = math.isqrt(sizes.copy_bytes // item)
    elements = sizes.copy_bytes // item
    x = torch.randn(elements, device=device).to(dtype)
    y = torch.randn(elements, device=device).to(dtype)
    z = torch.empty_like(x)
    m = torch.randn(n, n, device=device).to(dtype)
    v = torch.randn(n, device=device).to(dtype)
    w = torch.empty(n, device=device, dtype=dtype)
    thin = torch.randn(n, 16, device=device).to(dtype)
    thin_out = torch.empty(n, 16, device=device, dtype=dtype)
    results = []
    # z = x + y: 1 FLOP per element, 3 elements moved (two reads, one write)
    seconds = timer(lambda: torch.add(x, y, out=z), sizes.repeats)
    results.append(("vector add", 1 / (3 * item), elements / seconds))
    # w = M v: 2n² FLOPs over n² + 2n elements
    seconds = timer(lambda: torch.mv(m, v, out=w), sizes.repeats)
    results.append(("matrix-vector", 2 * n * n / ((n * n + 2 * n) * item), 2 * n * n / seconds))
    # M (n×n) times an n×16 block: 2·n²·16 FLOPs over n² + 2·16n elements
    seconds = timer(lambda: torch.matmul(m, thin, out=thin_out), sizes.repeats)
    results.append(("matrix × 16 columns", 2 * n * n * 16 / ((n * n + 32 * n) * item), 2 * n * n * 16 / seconds))
    # the square matmul, as measured for the peak: 2n³ over 3n² elements
    big = sizes.matmul_n
    results.append(("square matmul", 2 * big**3 / (3 * big * big * item), None))
    return results


def measure(device_name: str = "auto", quick: bool = False) -> Roofline:
    """Measure the roofline of `device_name` (auto: cuda when torch sees one)."""
    if device_name == "auto":
        device_name = "cuda" if torch.cuda.is_available() else "cpu"
    if device_name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: torch sees no CUDA device here")
    device = torch.device(device_name)
    sizes = Sizes.for_device(device, quick)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    bandwidth = measure_bandwidth(device, sizes.copy_bytes, sizes.repeats)
    peak = measure_matmul(device, sizes.matmul_n, dtype, sizes.repeats)
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        described, spec = f"{name} (cuda)", gpus.by_device_name(name)
    else:
        described, spec = f"CPU ({torch.get_num_threads()} threads) — a CPU measurement, not a GPU", None
    base = Roofline(described, device.type == "cuda", str(dtype).removeprefix("torch."), bandwidth, peak, spec)
    points = tuple(OpPoint(name, intensity, peak if achieved is None else achieved, base.attainable(intensity))
                   for name, intensity, achieved in _ops(device, dtype, sizes))
    return Roofline(base.device, base.is_gpu, base.dtype, bandwidth, peak, spec, points)


def report(r: Roofline) -> str:
    """The summary table a user reads."""
    lines = [f"device: {r.device}", f"dtype of the compute ceiling: {r.dtype}", ""]
    spec_bw = r.spec.bandwidth if r.spec else None
    spec_peak = r.spec.peak.get(r.dtype) if r.spec else None
    lines.append(f"{'ceiling':<28} {'measured':>14} {'spec':>14} {'fraction':>9}")
    for label, measured, spec, unit in (("memory bandwidth", r.bandwidth, spec_bw, 1e9),
                                        (f"peak ({r.dtype})", r.peak, spec_peak, 1e12)):
        suffix = " GB/s" if unit == 1e9 else " TFLOP/s"
        spec_text = f"{spec / unit:,.4g}" if spec else "—"
        fraction = f"{measured / spec:.0%}" if spec else "—"
        lines.append(f"{label:<28} {measured / unit:>14,.4g} {spec_text:>14} {fraction:>9}{suffix}")
    lines.append(f"{'ridge point':<28} {r.ridge:>14,.1f} {'':>14} {'':>9} FLOP/byte")
    if r.spec is None and r.is_gpu:
        lines.append("(this GPU is not in exgen/gpus.py: no datasheet figures to compare with)")
    lines += ["", f"{'op':<24} {'FLOP/byte':>10} {'achieved':>12} {'roofline':>12} {'bound':>9}  (GFLOP/s)"]
    for op in r.ops:
        bound = "memory" if op.intensity < r.ridge else "compute"
        lines.append(f"{op.name:<24} {op.intensity:>10.3g} {op.achieved / 1e9:>12,.1f} {op.attainable / 1e9:>12,.1f} "
                     f"{bound:>9}")
    return "\n".join(lines) + "\n"


def plot(r: Roofline, path) -> None:
    """Draw the roofline (log–log) with the ops on it, as a PNG; matplotlib is imported only here."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    low = min([op.intensity for op in r.ops] + [r.ridge]) / 4
    high = max([op.intensity for op in r.ops] + [r.ridge]) * 4
    xs = [low * (high / low) ** (i / 200) for i in range(201)]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    ax.loglog(xs, [r.attainable(x) / 1e12 for x in xs], color="black", label="measured roofline")
    if r.spec and r.spec.peak.get(r.dtype):
        peak, bw = r.spec.peak[r.dtype], r.spec.bandwidth
        ax.loglog(xs, [min(peak, x * bw) / 1e12 for x in xs], color="gray", linestyle="--",
                  label=f"{r.spec.name} datasheet")
    for op in r.ops:
        ax.scatter([op.intensity], [op.achieved / 1e12], zorder=3)
        ax.annotate(op.name, (op.intensity, op.achieved / 1e12), textcoords="offset points", xytext=(6, -10),
                    fontsize=8)
    ax.axvline(r.ridge, color="tab:red", linewidth=0.8, linestyle=":")
    ax.set_xlabel("arithmetic intensity (FLOP / byte)")
    ax.set_ylabel(f"attainable TFLOP/s ({r.dtype})")
    ax.set_title(f"Roofline: {r.device}", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, which="both", linewidth=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
