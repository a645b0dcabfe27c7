"""The intensity topic's givens and variants, and the check of a user's givens (declared bounds and the
combinations a variant cannot ask)."""

from __future__ import annotations

from typing import Any

from exgen import gpus as gpu_table
from exgen.givens import check
from exgen.topics.base import Given, InvalidGivens, Variant
from exgen.topics.intensity.formulas import (
    BYTES, COUNTS, OPS, SPARSITY, STORAGE_BYTES, TENSOR_DTYPES, WEIGHT_BYTES, critical_threshold, is_sparse, ridge,
    weight_bytes)
from exgen.topics.intensity.model_decode import KV_BYTES, MODEL_WEIGHT_BYTES

# Bounds keep every count an exact integer of modest size and every answer a finite float: dimensions up to
# 10^7 (a 10^21-FLOP matmul), peaks from 10^-3 to 10^6 TFLOP/s and bandwidths from 1 GB/s to 10^7 GB/s (ratios
# between 10^-4 and 10^9 FLOP/byte), GPUs of at most 10^4 SMs at 0.01 to 10 GHz.
MAX_DIM = 10**7
_OP = Given("op", "the operation: C = AB, y = Ax, C = A + B (element-wise), relu (Y = max(0, X), 1 FLOP per "
            "element), layernorm (each row of X over its n entries, learned gamma and beta of n each read too; 7 FLOPs "
            "per element), or maxpool (2x2 windows, stride 2, m and n even; 3 comparisons per output)", "choice",
            choices=OPS)
_M = Given("m", "rows of A", "integer", low=1, high=MAX_DIM)
_N = Given("n", "columns of A", "integer", low=1, high=MAX_DIM)
_P = Given("p", "columns of B (matmul only)", "integer", default=1, low=1, high=MAX_DIM)
_DTYPE = Given("dtype", "dtype of every operand (fp32: 4 bytes, fp16/bf16: 2 bytes)", "choice", choices=tuple(BYTES))
_OUT = Given("out_dtype", "dtype the output is written in: the inputs' dtype, or fp32 (accumulated and stored in "
             "fp32, as mixed-precision kernels may)", "choice", choices=("same", "fp32"), default="same")
_GPU = Given("gpu", "the GPU's name (for the text; the numbers are the givens below)", "choice",
             choices=tuple(gpu_table.GPUS) + ("custom",), default="custom")
_PEAK = Given("peak_tflops", "peak throughput for the dtype", "number", unit="TFLOP/s", low=1e-3, high=1e6)
_BW = Given("bandwidth_gbs", "memory bandwidth", "number", unit="GB/s", low=1, high=1e7)

_PEAK_DTYPE = Given("dtype", "the dtype: a tensor-core dtype (fp64, tf32, fp16, bf16, fp8, int8) or fp32 on the CUDA "
                    "cores (non-tensor)", "choice", choices=tuple(STORAGE_BYTES))
_SMS = Given("sms", "number of streaming multiprocessors", "integer", low=1, high=10**4)
_CLOCK = Given("clock_ghz", "clock rate", "number", unit="GHz", low=0.01, high=10)
_SPARSITY = Given("sparsity", "dense, or 2:4 structured sparsity (tensor cores skip the zero half of a 2:4-sparse "
                  "operand: the quoted rate, counting the dense product's FLOPs, doubles)", "choice",
                  choices=SPARSITY, default="dense")

VARIANTS = (
    Variant("op", "FLOPs, bytes moved and arithmetic intensity of a matmul, matrix-vector or element-wise op",
            (_OP, _M, _N, _P, _DTYPE, _OUT)),
    Variant("gpu_peak", "a GPU's peak FLOP/s from SMs x FMA/clock/SM x 2 x clock, its ops:byte ratio, and "
            "the smallest square matmul that is compute-bound on it", (
        _GPU, _PEAK_DTYPE, _SMS,
        Given("fma_per_clock", "dense FMAs per clock per SM for the dtype", "integer", low=1, high=10**5),
        _CLOCK, _BW,
        Given("square", "also ask the smallest n for which an n x n by n x n matmul in the dtype is compute-bound: "
              "no, yes (output in the dtype), or fp32-output (output written in 32 bits: fp32, int32 for int8; "
              "dense only)", "choice", choices=("no", "yes", "fp32-output"), default="no"), _SPARSITY)),
    Variant("fma_per_clock", "solve a quoted peak for the FMAs per clock per SM (and per tensor core) it implies", (
        _GPU, _PEAK_DTYPE, _SMS, _CLOCK,
        Given("peak_tflops", "the quoted peak for the dtype (TOPS for int8), with sparsity when sparsity is 2:4",
              "number", unit="TFLOP/s", low=1e-3, high=1e6),
        Given("units_per_sm", "tensor cores per SM (or fp32 CUDA cores for fp32); 0: not asked", "integer",
              default=0, low=0, high=1024), _SPARSITY)),
    Variant("bound", "memory- or compute-bound on a GPU, and the roofline's attainable FLOP/s",
            (_OP, _M, _N, _P, _DTYPE, _OUT, _GPU, _PEAK, _BW)),
    Variant("decode", "decoding vs prefill through a d x d weight: intensities, bounds, and the batch size at "
            "which decoding turns compute-bound", (
                Given("d_model", "the weight is d x d", "integer", low=1, high=10**6),
                Given("batch", "sequences decoded together (one token each per step)", "integer", low=1,
                      high=MAX_DIM),
                Given("prompt", "prompt length of each sequence (prefill)", "integer", low=1, high=MAX_DIM),
                Given("dtype", "dtype of weights and activations", "choice", choices=("fp16", "bf16")),
                Given("count", "bytes counted: the weights only, or weights and activations", "choice",
                      choices=COUNTS),
                Given("weight_dtype", "the weight's storage: as the activations, or int8 / packed int4 weight-only "
                      "quantization (1 or 0.5 byte per weight, dequantized on the fly)", "choice",
                      choices=("same",) + tuple(WEIGHT_BYTES), default="same"),
                _GPU, _PEAK, _BW)),
)


VARIANTS = VARIANTS + (
    Variant("model_decode", "decoding a whole model at the roofline: 2P FLOPs per token, the KV cache's bytes, "
            "the bytes one step reads, and the per-token latency", (
                Given("params_b", "the model's parameters P, in billions", "number", low=1e-3, high=1e5),
                Given("weight_dtype", "the weights' storage: fp16/bf16 (2 bytes), int8 (1) or packed int4 (0.5)",
                      "choice", choices=tuple(MODEL_WEIGHT_BYTES)),
                Given("layers", "transformer layers L", "integer", low=1, high=1000),
                Given("kv_dim", "width of K (and of V) per layer and token: KV heads x head dimension (d_model "
                      "without grouped-query attention)", "integer", low=1, high=10**6),
                Given("kv_dtype", "the KV cache's dtype (fp16/bf16 2 bytes, fp8/int8 1)", "choice",
                      choices=tuple(KV_BYTES), default="fp16"),
                Given("context", "tokens already in each sequence's KV cache", "integer", low=1, high=10**7),
                Given("batch", "sequences decoded together (one new token each per step)", "integer", low=1,
                      high=10**5),
                _GPU, _PEAK, _BW)),
)


_SPEC = {v.name: v for v in VARIANTS}


def _check(variant: str, g: dict[str, Any]) -> None:
    """Validate a user's givens (the declared bounds included, so a solver called directly is as safe as
    `exgen solve`)."""
    check(_SPEC[variant], g)
    if variant in ("op", "bound") and g.get("op") == "maxpool" and (int(g["m"]) % 2 or int(g["n"]) % 2):
        raise InvalidGivens("maxpool: 2x2 windows with stride 2 need m and n even")
    if variant in ("gpu_peak", "fma_per_clock") and is_sparse(g) and g["dtype"] not in TENSOR_DTYPES:
        raise InvalidGivens("sparsity 2:4 is a tensor-core feature: fp32 on the CUDA cores is dense")
    if variant == "gpu_peak" and is_sparse(g) and g.get("square", "no") != "no":
        raise InvalidGivens("square: the square-matmul part counts dense operands; ask it with sparsity dense")
    if variant == "decode":
        r = ridge(g["peak_tflops"], g["bandwidth_gbs"])
        if critical_threshold(int(g["d_model"]), BYTES[g["dtype"]], r, g["count"], w=weight_bytes(g)) is None:
            raise InvalidGivens("with activations counted, a d x d weight's intensity never exceeds d/s FLOP/byte, "
                                "which is below this GPU's ops:byte ratio: decoding never turns compute-bound")
