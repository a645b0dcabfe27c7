"""The linear variants' givens (affine, absmax, per_channel, storage; k-means' from kmeans.py) and the check of
a user's givens (_check), with messages a TA can act on."""

from __future__ import annotations

from typing import Any

from exgen.givens import check
from exgen.topics.base import Given, InvalidGivens, Variant
from exgen.topics.quantization import kmeans
from exgen.topics.quantization.common import ERROR_METRICS, _transpose, flat


# ---- givens ----------------------------------------------------------------------------------------

# Bounds keep every computation small and every answer finite: at most 64 entries of magnitude at most 10^6
# (so S, every r/S and every error is a finite float), a handful of decimals, and storage sizes a verifier can
# build a block of (group ≤ 65536 weights) for a model of at most 10^15 parameters.
MAX_ENTRIES = 64
_X = Given("X", "the real matrix to quantize (rows separated by ';', entries by ',')", "matrix",
           low=-1e6, high=1e6, max_size=MAX_ENTRIES)
_DECIMALS = Given("decimals", "decimal places asked for in the reconstruction", "integer", default=2, low=0, high=8)
_BITS = Given("bits", "bit width b of the integers", "integer", choices=("2", "3", "4", "8"), low=2, high=8)
_SIGNED = Given("signed", "integer type: signed (two's complement) or unsigned", "choice",
                choices=("signed", "unsigned"))
_METRIC = Given("metric", "error metric to report", "choice", choices=ERROR_METRICS)
_CONVENTION = Given("convention", "absmax scale: |r|max/qmax, or -|r|max/qmin with clamping", "choice",
                    choices=("qmax", "qmin"))

VARIANTS = (
    Variant("affine", "asymmetric min-max quantization: scale, zero point, integers, reconstruction, error",
            (_X, _BITS, _SIGNED, _METRIC, _DECIMALS,
             Given("calibration", "a calibrated range 'r_min, r_max' used instead of X's own extremes (omit: X's "
                   "own)", "vector", default=[], low=-1e6, high=1e6, max_size=2))),
    Variant("absmax", "symmetric absmax quantization (zero point 0) under a stated scale convention",
            (_X, _BITS, _CONVENTION, _METRIC, _DECIMALS,
             Given("clip", "clipping threshold c used in place of |r|max in the scale (0: no clipping)", "number",
                   default=0, low=0, high=1e6))),
    Variant("per_channel", "absmax per tensor vs per channel (rows, or columns): scales, integers, Frobenius "
            "errors and their ratio", (_X, _BITS, Given("axis", "the channels: rows (one scale per row) or columns "
                                                        "(one per column)", "choice", choices=("rows", "columns"),
                                                        default="rows"))),
    Variant("storage", "storage of a model's weights at a given bit width with per-group fp16 scales", (
        Given("params", "number of parameters", "number", low=1, high=1e15),
        Given("source_bits", "bits per parameter before quantization (16 for fp16/bf16, 32 for fp32)",
              "integer", choices=("16", "32"), low=16, high=32),
        Given("bits", "bits per quantized weight", "integer", choices=("2", "3", "4", "8"), low=2, high=8),
        Given("group", "weights sharing one 16-bit scale", "integer", low=1, high=65536),
        Given("zero_points", "per-group zero points: none (symmetric), or one b-bit integer per group "
              "(asymmetric)", "choice", choices=("none", "b-bit"), default="none"),
        Given("kept_params", "parameters kept at the source precision (embeddings, norms), not quantized",
              "number", default=0, low=0, high=1e15),
    )),
    kmeans.VARIANT,
)


def _check(variant: str, g: dict[str, Any]) -> None:
    """Validate a user's givens with a message a TA can act on (the declared bounds included, so a solver
    called directly is as safe as `exgen solve`)."""
    check(next(v for v in VARIANTS if v.name == variant), g)
    if variant == "kmeans":
        return
    if variant == "storage":
        if g["kept_params"] > g["params"]:
            raise InvalidGivens("kept_params cannot exceed params")
        return
    x = g["X"]
    if not x or any(len(row) != len(x[0]) or not row for row in x):
        raise InvalidGivens("X must be a non-empty rectangular matrix")
    if min(flat(x)) == max(flat(x)):
        raise InvalidGivens("X has all entries equal: its range is zero and the scale undefined")
    calibration = g.get("calibration") or []
    if calibration and (len(calibration) != 2 or not calibration[0] < calibration[1]):
        raise InvalidGivens("calibration must be two numbers 'r_min, r_max' with r_min < r_max")
    if variant == "per_channel":
        columns = g.get("axis", "rows") == "columns"
        if any(max(abs(v) for v in row) == 0 for row in (_transpose(x) if columns else x)):
            raise InvalidGivens(f"a {'column' if columns else 'row'} of X is all zeros: its scale is undefined")
