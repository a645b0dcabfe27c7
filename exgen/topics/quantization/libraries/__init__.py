"""Quantization as libraries do it (issue 17): PyTorch's quantize/fake-quantize with a given scale and zero
point, LLM.int8()'s symmetric int8, per-channel affine with zero points, and gemmlowp's integer
requantization multiplier.  Registered by exgen/topics/quantization/__init__.py.  A package of its own, beside
kmeans.py: one module per variant (given_scale, absmax_int8, affine_channel, requant), `common` for what they
share, and this module's registration.

Conventions (stated in every question):
    given_scale:    q = clamp(round(r/S) + Z, quant_min, quant_max), round half to even
                    (torch.fake_quantize_per_tensor_affine / per_channel_affine); r̂ = S (q − Z); the error
                    matrix X − r̂.  Per channel: one (S, Z) per row (axis 0) or per column (axis 1).
    absmax_int8:    restricted range [−q_max, q_max] (q_max = 2^(b−1) − 1, 127 for int8); per tensor or per
                    row/column ("vector-wise", LLM.int8()); the factor written as a multiplier c = q_max/max|X|
                    (q = round(c·x), x̂ = q/c) or as a scale S = max|X|/q_max; optionally the factor rounded to
                    k decimals and used from then on (seed 003's slide reconstructs with S rounded to 1.07).
    affine_channel: min–max affine per channel (or per tensor), S_i = (max − min)/(q_max − q_min),
                    Z_i = clamp(round(q_min − min/S_i)); the same optional rounding of S.
    requant:        M = S_in·S_w/S_out = 2^(−n)·M0 with M0 ∈ [1/2, 1) stored as the Q31 integer
                    round(M0·2^31) (Jacob et al. 2018, §2.2; gemmlowp's QuantizeMultiplierSmallerThanOne), and
                    an int32 accumulator requantized with gemmlowp's integer arithmetic.
The solver is exact (integers over the matrix's common denominator; a key is the float of the exact value);
sampled values to be rounded keep TIE_MARGIN from a .5 boundary, except the exact ties given_scale places on
purpose (power-of-two scale, dyadic entry, even zero point: exact in float32, and torch's quantize_per_tensor —
which rounds r/S + Z — agrees with fake_quantize there).
Decisions: docs/decisions/quantization-libraries.md.
"""

from __future__ import annotations

from exgen.topics.base import Mistake, StudentPath
from exgen.topics.quantization.libraries.absmax_int8 import (
    ABSMAX_INT8, _ab_multiplied_back, _ab_other_convention, _ab_per_tensor, _ab_signed_max, _ab_unrounded_factor,
    _absmax_float, _sample_absmax, _solve_absmax)
from exgen.topics.quantization.libraries.affine_channel import (
    AFFINE_CHANNEL, _af_levels, _af_other_way, _af_tensor_range, _af_unrounded, _af_unsigned, _affine_float,
    _sample_affine, _solve_affine)
from exgen.topics.quantization.libraries.common import _error_from_rounded
from exgen.topics.quantization.common import near_tie  # noqa: F401  (re-exported: tests use it)
from exgen.topics.quantization.libraries.given_scale import (
    GIVEN_SCALE, _error_flipped, _float_given_scale, _gs_mistake, _half_away, _sample_given_scale,
    _solve_given_scale, _unclamped, _zero_kept, _zero_subtracted)
from exgen.topics.quantization.libraries.requant import (  # noqa: F401  (srdhm, rounding_divide_by_pot: tests)
    REQUANT, _q31_from_10_figures, _requant_float, _rq_q32, _rq_shift_one_less, _rq_unnormalised, _rq_zero_forgotten, _sample_requant,
    _solve_requant, rounding_divide_by_pot, srdhm)


# ---- registration (read by exgen/topics/quantization/__init__.py) --------------------------------------------------

VARIANTS = (GIVEN_SCALE, ABSMAX_INT8, AFFINE_CHANNEL, REQUANT)
SOLVERS = {"given_scale": _solve_given_scale, "absmax_int8": _solve_absmax, "affine_channel": _solve_affine,
           "requant": _solve_requant}
SAMPLERS = {"given_scale": _sample_given_scale, "absmax_int8": _sample_absmax, "affine_channel": _sample_affine,
            "requant": _sample_requant}

PATHS = (
    *(StudentPath("float_arithmetic", part, "Float arithmetic (round half to even, as Python's round and numpy's "
                  "rint do), each answer rounded as asked.", ("given_scale",), _float_given_scale(part))
      for part in ("q", "fake_quant", "error")),
    *(StudentPath("factor_carried_to_6_figures", part, "Float arithmetic with the multiplier (or scale) carried "
                  "to 6 significant figures, each answer rounded as asked.", ("absmax_int8",), _absmax_float(part))
      for part in ("q", "reconstruction", "error")),
    *(StudentPath("channel_scale_carried_to_6_figures", part, "Float arithmetic with S carried to 6 significant figures, "
                  "each answer rounded as asked.", ("affine_channel",), _affine_float(part))
      for part in ("zero_points", "q", "reconstruction", "error")),
    StudentPath("error_matrix_of_rounded_reconstruction", "error", "The error matrix from the reconstruction as "
                "reported (rounded to the asked decimals).", ("absmax_int8", "affine_channel"), _error_from_rounded),
    StudentPath("one_step_rounding", "q_out", "q_out = Z_out + round(acc·M) with M from the scales in floats, "
                "rounded once (gemmlowp rounds twice, in integers).", ("requant",), _requant_float("q_out")),
    StudentPath("m0_carried_to_10_figures", "q31", "round(M0·2^31) with M0 from the scales carried to 10 "
                "significant figures, as the question allows.", ("requant",), _q31_from_10_figures),
)

MISTAKES = (
    Mistake("ties_away_from_zero", "q", "A half was rounded away from zero; PyTorch rounds halves to the even "
            "integer (2.5 → 2, 3.5 → 4).", ("given_scale",), _gs_mistake(_half_away)),
    Mistake("clamp_forgotten", "q", "round(r/S) + Z was not clamped to [quant_min, quant_max].", ("given_scale",),
            _gs_mistake(_unclamped)),
    Mistake("zero_point_subtracted", "q", "The zero point was subtracted; q = round(r/S) + Z adds it.",
            ("given_scale",), _gs_mistake(_zero_subtracted)),
    Mistake("zero_point_kept", "fake_quant", "The fake-quantized value is S·(q − Z): the zero point must be "
            "subtracted before scaling.", ("given_scale",), _gs_mistake(_zero_kept)),
    Mistake("error_sign_flipped", "error", "The error matrix is X − X̂, not X̂ − X.", ("given_scale",),
            _gs_mistake(_error_flipped)),
    Mistake("full_range_factor", "factor", "2^(b−1) (128 for int8) was used instead of q_max = 2^(b−1) − 1 "
            "(127) in the factor.", ("absmax_int8",), _ab_other_convention),
    Mistake("max_not_absolute", "absmax", "The largest entry was taken instead of the largest absolute value.",
            ("absmax_int8",), _ab_signed_max),
    Mistake("per_tensor_for_per_channel", "factor", "One factor for the whole matrix; the question asks one per "
            "channel.", ("absmax_int8",), _ab_per_tensor),
    Mistake("multiplied_back", "reconstruction", "The reconstruction applied the factor the same way again "
            "(q·c instead of q/c, or q/S instead of S·q).", ("absmax_int8",), _ab_multiplied_back),
    Mistake("unrounded_factor", "reconstruction", "The question rounds the factor first and uses the rounded "
            "factor from then on.", ("absmax_int8",), _ab_unrounded_factor),
    Mistake("channel_levels_2_to_the_b", "scales", "The scale divides by 2^b; there are 2^b − 1 steps between q_min and "
            "q_max.", ("affine_channel",), _af_levels),
    Mistake("channel_unsigned_range_for_signed", "zero_points", "The unsigned range [0, 2^b − 1] was used for a signed "
            "type.", ("affine_channel",), _af_unsigned),
    Mistake("channel_zero_points_rounded_other_way", "zero_points", "The zero points were rounded to the other "
            "neighbouring integer.", ("affine_channel",), _af_other_way),
    Mistake("per_tensor_range", "scales", "The whole matrix's range was used for every channel.",
            ("affine_channel",), _af_tensor_range),
    Mistake("unrounded_scale", "reconstruction", "The question rounds S first and uses the rounded S from then "
            "on.", ("affine_channel",), _af_unrounded),
    Mistake("q31_as_2_to_the_32", "q31", "Q31 has 31 fractional bits: M0·2^31, not M0·2^32.", ("requant",),
            _rq_q32),
    Mistake("unnormalised_multiplier", "q31", "M itself was written in Q31; M is first scaled into [0.5, 1) by "
            "2^n.", ("requant",), _rq_unnormalised),
    Mistake("shift_one_short", "n", "One doubling too few: M0 must lie in [0.5, 1).", ("requant",),
            _rq_shift_one_less),
    Mistake("zero_point_forgotten", "q_out", "The output zero point Z_out is added after the multiplication.",
            ("requant",), _rq_zero_forgotten),
)
