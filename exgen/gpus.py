"""GPU specifications used by the compute, intensity and parallelism topics.

Peak figures are dense (no 2:4 sparsity), in FLOP/s; bandwidth in bytes/s; memory in bytes (GB = 10^9).
Each entry names its source.  Where a peak follows from the SM count (peak = SMs × FMA/clock/SM × 2 ×
clock, seed 001's A100 table), the table keeps those three numbers so a question can derive it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

T = 1e12
G = 1e9


@dataclass(frozen=True)
class GPU:
    name: str
    memory_bytes: float
    bandwidth: float  # bytes/s
    peak: dict[str, float]  # dtype -> dense FLOP/s
    sms: int
    clock_hz: float  # the boost clock the tensor-core peak is quoted at
    fp16_fma_per_clock_per_sm: int  # dense tensor-core FP16 FMAs per SM per clock
    source: str
    notes: str = field(default="")


GPUS: dict[str, GPU] = {
    "V100": GPU(
        "V100 SXM2 32 GB", 32 * G, 900 * G,
        {"fp64": 7.8 * T, "fp32": 15.7 * T, "fp16": 125 * T},
        sms=80, clock_hz=1.53e9, fp16_fma_per_clock_per_sm=512,
        source="NVIDIA Tesla V100 datasheet (SXM2): 7.8/15.7/125 TFLOPS, 900 GB/s; Volta whitepaper: 80 SMs, "
               "1530 MHz, 8 tensor cores/SM x 64 FMA/clock",
    ),
    "A100-40GB": GPU(
        "A100 SXM4 40 GB", 40 * G, 1555 * G,
        {"fp64": 9.7 * T, "fp32": 19.5 * T, "tf32": 156 * T, "fp16": 312 * T, "bf16": 312 * T, "int8": 624 * T},
        sms=108, clock_hz=1.41e9, fp16_fma_per_clock_per_sm=1024,
        source="NVIDIA A100 datasheet: 9.7/19.5/156/312/624 (dense), 1,555 GB/s; A100 whitepaper: 108 SMs, "
               "1410 MHz, 1024 dense FP16 FMA/clock/SM (seed 001's table)",
    ),
    "A100-80GB": GPU(
        "A100 SXM4 80 GB", 80 * G, 2039 * G,
        {"fp64": 9.7 * T, "fp32": 19.5 * T, "tf32": 156 * T, "fp16": 312 * T, "bf16": 312 * T, "int8": 624 * T},
        sms=108, clock_hz=1.41e9, fp16_fma_per_clock_per_sm=1024,
        source="NVIDIA A100 datasheet (80GB SXM): 2,039 GB/s; compute as A100 40 GB",
    ),
    "H100": GPU(
        "H100 SXM5 80 GB", 80 * G, 3350 * G,
        {"fp64": 33.5 * T, "fp32": 66.9 * T, "tf32": 494.7 * T, "fp16": 989.4 * T, "bf16": 989.4 * T,
         "fp8": 1978.9 * T, "int8": 1978.9 * T},
        sms=132, clock_hz=1.83e9, fp16_fma_per_clock_per_sm=2048,
        source="NVIDIA H100 datasheet (SXM): 3.35 TB/s, 1,979 TFLOPS FP16 with sparsity (989.4 dense); Hopper "
               "whitepaper: 132 SMs, 1.83 GHz tensor boost",
    ),
    "H200": GPU(
        "H200 SXM 141 GB", 141 * G, 4800 * G,
        {"fp64": 33.5 * T, "fp32": 66.9 * T, "tf32": 494.7 * T, "fp16": 989.4 * T, "bf16": 989.4 * T,
         "fp8": 1978.9 * T, "int8": 1978.9 * T},
        sms=132, clock_hz=1.83e9, fp16_fma_per_clock_per_sm=2048,
        source="NVIDIA H200 datasheet (SXM): 141 GB HBM3e, 4.8 TB/s; the same GH100 compute as H100 SXM",
    ),
}


def get(name: str) -> GPU:
    try:
        return GPUS[name]
    except KeyError:
        raise KeyError(f"unknown GPU {name!r} (known: {', '.join(GPUS)})") from None


def by_device_name(device_name: str) -> GPU | None:
    """The entry for a name as `torch.cuda.get_device_name` reports it ("NVIDIA A100-SXM4-80GB",
    "NVIDIA H100 80GB HBM3", "Tesla V100-SXM2-32GB"), or None for a GPU exgen has no datasheet for.
    PCIe and other board variants have other clocks and bandwidths, so they are not matched."""
    name = device_name.upper()
    if "PCIE" in name:
        return None
    if "H200" in name:
        return GPUS["H200"]
    if "H100" in name:
        return GPUS["H100"]
    if "A100" in name:
        return GPUS["A100-80GB" if "80G" in name else "A100-40GB"]
    if "V100" in name:
        return GPUS["V100"]
    return None
