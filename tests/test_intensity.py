"""Arithmetic intensity and the roofline: NVIDIA's A100 figures, the counting conventions, rejections, mistakes."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import needs, wrong
from exgen.generate import generate, path_failures, solve_givens
from exgen.grading.compare import matches
from exgen.topics import intensity as it
from exgen.topics.base import InvalidGivens, Rejected
from exgen.topics.intensity import paths, sampler

A100 = {"gpu": "A100-40GB", "sms": 108, "clock_ghz": 1.41, "bandwidth_gbs": 1555}
A100_ROOF = {"gpu": "A100-40GB", "peak_tflops": 312, "bandwidth_gbs": 1555}


def answers(variant, givens):
    return {p.id: p.answer.value for p in solve_givens("intensity", variant, givens).solution.parts}


def mistake(variant, part, name):
    return next(m for m in it.MISTAKES if m.name == name and m.part == part and variant in m.variants)


def mistaken(variant, part, name, givens):
    """The named mistake's value for these givens (handed the key's solution of them)."""
    return wrong("intensity", mistake(variant, part, name), variant, givens)


# ---- NVIDIA's A100 figures (seed 001's table; A100 datasheet) ---------------------------------------


@pytest.mark.parametrize("dtype,fma,datasheet", [("fp16", 1024, 312), ("tf32", 512, 156), ("fp64", 64, 19.5)])
def test_a100_peak_from_the_fma_table_seed_001(dtype, fma, datasheet):
    """Seed 001: 108 SMs × FMA/clock/SM × 2 × 1.41 GHz; the A100 datasheet's dense tensor-core peaks
    (312 fp16, 156 tf32, 19.5 fp64 TFLOP/s) to 3 significant figures."""
    a = answers("gpu_peak", {**A100, "dtype": dtype, "fma_per_clock": fma})
    assert a["peak"] == pytest.approx(108 * fma * 2 * 1.41e9 / 1e12)
    assert a["peak"] == pytest.approx(datasheet, rel=1e-2)


def test_a100_ops_to_byte_ratio():
    """312 TFLOP/s over 1555 GB/s (A100 40 GB datasheet): about 200 FLOP per byte."""
    a = answers("gpu_peak", {**A100, "dtype": "fp16", "fma_per_clock": 1024})
    assert a["ridge"] == pytest.approx(311.86944e12 / 1555e9)
    assert round(a["ridge"]) == 201  # 200.56


def test_peaks_in_the_gpu_table_follow_from_their_sm_counts():
    from exgen.gpus import GPUS

    for spec in GPUS.values():
        derived = spec.sms * spec.fp16_fma_per_clock_per_sm * 2 * spec.clock_hz
        assert derived == pytest.approx(spec.peak["fp16"], rel=5e-3), spec.name


# ---- counting conventions --------------------------------------------------------------------------


def test_intensity_of_the_three_ops():
    """C = AB: 2mnp / ((mn + np + mp) s); y = Ax: 2mn / ((mn + n + m) s); C = A + B: mn / (3mn s)."""
    n = 1024
    assert answers("op", {"op": "matmul", "m": n, "n": n, "p": n, "dtype": "fp16"})["intensity"] == \
        pytest.approx(n / 3)
    mv = answers("op", {"op": "matvec", "m": n, "n": n, "dtype": "fp16"})
    assert mv["flops"] == 2 * n * n and mv["bytes"] == 2 * (n * n + 2 * n)
    assert mv["intensity"] == pytest.approx(1.0, rel=3e-3)  # about 1 FLOP/byte: memory-bound everywhere
    assert answers("op", {"op": "elementwise", "m": n, "n": n, "dtype": "fp32"})["intensity"] == pytest.approx(1 / 12)


def test_roofline_classification_and_attainable_throughput():
    small = answers("bound", {"op": "matmul", "m": 16, "n": 4096, "p": 4096, "dtype": "fp16", **A100_ROOF})
    assert small["bound"] == "memory-bound"
    assert small["attainable"] == pytest.approx(small["intensity"] * 1555 / 1000)
    big = answers("bound", {"op": "matmul", "m": 4096, "n": 4096, "p": 4096, "dtype": "fp16", **A100_ROOF})
    assert big["bound"] == "compute-bound" and big["attainable"] == 312


def test_decoding_turns_compute_bound_at_the_ops_to_byte_ratio():
    """Counting weights only, a fp16 d×d weight on n tokens has AI = n: decoding on an A100 (ratio 200.6)
    is compute-bound from a batch of 201. Counting activations too needs a larger batch."""
    g = {"d_model": 4096, "batch": 8, "prompt": 512, "dtype": "fp16", **A100_ROOF}
    w = answers("decode", {**g, "count": "weights"})
    assert w["decode_intensity"] == 8 and w["prefill_intensity"] == 4096
    assert (w["decode_bound"], w["prefill_bound"]) == ("memory-bound", "compute-bound")
    assert w["critical_batch"] == 201
    wa = answers("decode", {**g, "count": "weights+activations"})
    r = Fraction(312 * 10**12, 1555 * 10**9)
    assert wa["critical_batch"] == int(r * 2 * 4096 / (2 * 4096 - 4 * r)) + 1 == 223


def test_a_weight_too_narrow_never_turns_compute_bound():
    """With activations counted, AI < d/s: for d = 256 in fp16 that is below an A100's ratio."""
    with pytest.raises(InvalidGivens, match="never"):
        solve_givens("intensity", "decode", {"d_model": 256, "batch": 8, "prompt": 64, "dtype": "fp16",
                                             "count": "weights+activations", **A100_ROOF})


# ---- sampling rules --------------------------------------------------------------------------------


def test_sampled_ops_stay_away_from_the_ridge():
    for seed in range(40):
        g = generate("intensity", "bound", "hard", seed).givens
        flops, moved = it.op_counts(g["op"], g["m"], g["n"], g.get("p", 1), it.BYTES[g["dtype"]])
        ratio = Fraction(flops, moved) / it.ridge(g["peak_tflops"], g["bandwidth_gbs"])
        assert not (Fraction(4, 5) <= ratio <= Fraction(5, 4))
    with pytest.raises(Rejected):
        sampler._away_from_ridge(Fraction(210), Fraction(200))


def test_sampled_critical_batches_are_not_near_a_tie():
    for seed in range(40):
        g = generate("intensity", "decode", "medium", seed).givens
        x = it.critical_threshold(g["d_model"], 2, it.ridge(g["peak_tflops"], g["bandwidth_gbs"]), g["count"])
        assert abs(x - round(x)) >= it.INTEGER_MARGIN


def test_every_variant_samples_at_every_difficulty():
    for variant in ("op", "gpu_peak", "bound", "decode"):
        for difficulty in ("easy", "medium", "hard"):
            it.TOPIC.solve(variant, generate("intensity", variant, difficulty, 3).givens)
    # An A100 80 GB counting weights only has threshold 312/2.039 = 153.02, too near 153: never sampled.
    for seed in range(60):
        g = generate("intensity", "decode", "easy", seed).givens
        assert not (g["gpu"] == "A100-80GB" and g["count"] == "weights")


# ---- named mistakes --------------------------------------------------------------------------------


def test_named_mistakes():
    g = {"op": "matmul", "m": 64, "n": 4096, "p": 4096, "dtype": "fp16"}
    a = answers("op", g)
    assert mistaken("op", "intensity", "elements_for_bytes", g) == pytest.approx(2 * a["intensity"])
    assert mistaken("op", "bytes", "one_operand_only", g) == 2 * 64 * 4096
    assert mistaken("op", "flops", "fma_as_one_flop", g) == a["flops"] / 2
    assert mistaken("op", "flops", "fma_as_one_flop", {**g, "op": "elementwise"}) is None
    peak = mistaken("gpu_peak", "peak", "fma_as_one_flop", {**A100, "dtype": "fp16", "fma_per_clock": 1024})
    assert peak == pytest.approx(156, rel=1e-2)



# ---- the torch verifier ------------------------------------------------------------------------------


@needs("torch")
def test_the_flop_counter_counts_an_fma_as_two_flops_and_bytes_are_nbytes():
    from exgen.verify import intensity as vi

    assert vi.flops_per_fma() == 2.0
    assert vi.op_flops_bytes("elementwise", 4, 5, 1, "fp16") == (20, 3 * 20 * 2)
    assert vi.op_flops_bytes("matmul", 2, 3, 4, "bf16") == (48, 2 * (6 + 12 + 8))


@needs("torch")
def test_verifier_reproduces_the_a100_figures():
    import torch

    from exgen.verify.intensity import reproduce

    got = reproduce("gpu_peak", {**A100, "dtype": "fp16", "fma_per_clock": 1024}, torch.device("cpu"))
    assert got["peak"] == pytest.approx(311.86944)
    got = reproduce("decode", {"d_model": 4096, "batch": 8, "prompt": 512, "dtype": "fp16", "count": "weights",
                               **A100_ROOF}, torch.device("cpu"))
    assert got["critical_batch"] == 201


@needs("torch")
@settings(max_examples=40, deadline=None, derandomize=True)
@given(op=st.sampled_from(it.OPS), m=st.integers(1, 20000), n=st.integers(1, 20000), p=st.integers(1, 20000),
       dtype=st.sampled_from(tuple(it.BYTES)))
def test_solver_and_verifier_agree_on_any_op(op, m, n, p, dtype):
    import torch

    from exgen.verify.intensity import reproduce

    if op == "maxpool":  # 2x2 windows with stride 2: m and n even (odd ones are refused, as they should be)
        m, n = m + m % 2, n + n % 2
    problem = solve_givens("intensity", "op", {"op": op, "m": m, "n": n, "p": p, "dtype": dtype})
    got = reproduce("op", problem.givens, torch.device("cpu"))
    assert all(matches(part.answer, got[part.id]) for part in problem.solution.parts)


# ---- fair questions (issue 9): ties, carrying, student paths -----------------------------------------------


def question(problem):
    from exgen.render import Renderer

    return Renderer("md").question(problem)


def test_an_intensity_equal_to_the_ratio_is_memory_bound_and_the_question_says_so():
    """Issue 9: `bound` did not say which side a tie falls on. An fp16 1536² matmul has AI = 1536/3 = 512; on a
    GPU of 512 TFLOP/s and 1000 GB/s the ratio is 512 too: memory-bound, and the question states the rule."""
    problem = solve_givens("intensity", "bound", {"op": "matmul", "m": 1536, "n": 1536, "p": 1536, "dtype": "fp16",
                                                  "peak_tflops": 512, "bandwidth_gbs": 1000})
    a = {p.id: p.answer.value for p in problem.solution.parts}
    assert a["intensity"] == a["ridge"] == 512 and a["bound"] == "memory-bound"
    assert "equals the ratio exactly counts as memory-bound" in question(problem)


@pytest.mark.parametrize("variant", ["op", "gpu_peak", "bound", "decode"])
@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_student_paths_land_inside_the_tolerance(variant, difficulty):
    """Every declared path (rounded earlier answers, a 6-figure ratio) agrees with the key in sampled problems."""
    for seed in range(40):
        problem = generate("intensity", variant, difficulty, seed)
        assert path_failures(it.TOPIC, variant, problem.givens, problem.solution) == [], seed


def test_paths_compute_what_they_say():
    """A100 (108 SMs, 1024 FMA/clock, 1.41 GHz, 1555 GB/s): peak 311.86944 → reported 312 → 312000/1555 = 200.6
    → 201; the square-matmul threshold 3 × 2 × 200.559/2 = 601.68 → n = 602."""
    problem = solve_givens("intensity", "gpu_peak", {**A100, "dtype": "fp16", "fma_per_clock": 1024, "square": "yes"})
    assert paths._ratio_from_rounded_peak("gpu_peak", problem.givens, problem.solution) == 201
    assert paths._square_from_6_figure_ratio("gpu_peak", problem.givens, problem.solution) == 602
    assert problem.solution.part("square_n").answer.value == 602
    fp32_out = solve_givens("intensity", "gpu_peak", {**A100, "dtype": "fp16", "fma_per_clock": 1024,
                                                      "square": "fp32-output"})
    assert fp32_out.solution.part("square_n").answer.value == 803  # AI = 2n/(2·2 + 4) > 200.559 ⇔ n > 802.2
    bound = solve_givens("intensity", "bound", {"op": "matvec", "m": 4096, "n": 4096, "dtype": "fp16", **A100_ROOF})
    # the intensity 0.99951 is reported as 1.00, and 1.00 × 1555/1000 = 1.555 is a tie: either neighbour
    assert f"{bound.solution.part('intensity').answer.value:.2e}" == "1.00e+00"
    assert paths._attainable_from_rounded_intensity("bound", bound.givens, bound.solution) == (1.56, 1.55)


def test_a_rounded_peak_can_move_the_ratio_so_such_instances_are_not_sampled():
    """The path is real: 100 SMs × 1000 FMA × 2 × 1.0028 GHz = 200.56 TFLOP/s, reported as 201; over 2345 GB/s
    the key 85.527 accepts 85.4…85.6 (3 figures), and the reported peak gives 201000/2345 = 85.7."""
    problem = solve_givens("intensity", "gpu_peak", {"dtype": "fp16", "sms": 100, "fma_per_clock": 1000,
                                                     "clock_ghz": 1.0028, "bandwidth_gbs": 2345})
    assert paths._ratio_from_rounded_peak("gpu_peak", problem.givens, problem.solution) == 85.7
    assert path_failures(it.TOPIC, "gpu_peak", problem.givens, problem.solution) == ["ratio_from_rounded_peak"]


# ---- variety (issue 9) ---------------------------------------------------------------------------------------


def test_decoding_is_sometimes_compute_bound_and_prefill_sometimes_memory_bound():
    """Issue 9: decode easy was always memory-bound."""
    verdicts = {(p.solution.part("decode_bound").answer.value, p.solution.part("prefill_bound").answer.value)
                for p in (generate("intensity", "decode", "easy", seed) for seed in range(300))}
    assert {v for v, _ in verdicts} == {"memory-bound", "compute-bound"}
    assert {v for _, v in verdicts} == {"memory-bound", "compute-bound"}


# ---- bounds (issue 10) -----------------------------------------------------------------------------------


def test_a_vanishing_peak_is_refused():
    with pytest.raises(InvalidGivens, match="peak_tflops"):
        solve_givens("intensity", "bound", {"op": "matmul", "m": 8, "n": 8, "p": 8, "dtype": "fp16",
                                            "peak_tflops": 1e-300, "bandwidth_gbs": 1000})


# ---- hard adds a step (issue 9) ------------------------------------------------------------------------------


def test_hard_op_may_write_its_output_in_fp32():
    """fp16 inputs, fp32 output: a 64×4096 by 4096×4096 matmul moves (64·4096 + 4096²)·2 + 64·4096·4 bytes, and
    counting the output at 2 bytes is a named mistake."""
    g = {"op": "matmul", "m": 64, "n": 4096, "p": 4096, "dtype": "fp16", "out_dtype": "fp32"}
    a = answers("op", g)
    assert a["bytes"] == (64 * 4096 + 4096 * 4096) * 2 + 64 * 4096 * 4
    assert mistaken("op", "bytes", "output_in_input_dtype", g) == (64 * 4096 + 4096 * 4096 + 64 * 4096) * 2
    assert any(generate("intensity", "op", "hard", seed).givens["out_dtype"] == "fp32" for seed in range(20))


def test_hard_decode_may_store_the_weight_in_int8_or_int4():
    """Weight-only quantization: counting the weight only, AI = 2n/w, so on an A100 (ratio 200.6) an int8 weight
    turns decoding compute-bound at n = 101 (half the fp16 batch, 201) and an int4 weight at n = 51."""
    g = {"d_model": 4096, "batch": 8, "prompt": 512, "dtype": "fp16", "count": "weights", **A100_ROOF}
    assert answers("decode", {**g, "weight_dtype": "int8"})["critical_batch"] == 101
    assert answers("decode", {**g, "weight_dtype": "int4"})["critical_batch"] == 51
    assert answers("decode", {**g, "weight_dtype": "int4"})["decode_intensity"] == 32
    kinds = {generate("intensity", "decode", "hard", seed).givens["weight_dtype"] for seed in range(30)}
    assert kinds == {"same", "int8", "int4"}


# ---- issue 17: int8 / fp8 tensor cores, non-tensor fp32, 2:4 sparsity, solving for the FMA rate ---------------


@pytest.mark.parametrize("gpu,dtype,fma,sparsity,datasheet", [
    ("A100-40GB", "int8", 2048, "dense", 624),   # A100 datasheet: INT8 Tensor Core 624 TOPS (dense)
    ("A100-40GB", "fp32", 64, "dense", 19.5),    # A100 datasheet: FP32 19.5 TFLOPS (CUDA cores, non-tensor)
    ("A100-40GB", "fp16", 1024, "2:4", 624),     # A100 datasheet: FP16 Tensor Core 312 | 624* (*with sparsity)
    ("A100-40GB", "int8", 2048, "2:4", 1248),    # A100 datasheet: INT8 Tensor Core 624 | 1,248 TOPS*
])
def test_a100_datasheet_peaks_from_the_whitepaper_fma_table(gpu, dtype, fma, sparsity, datasheet):
    """NVIDIA A100 datasheet and whitepaper (Table: FMA/clock/SM; 108 SMs at 1.41 GHz), seed 001's table."""
    a = answers("gpu_peak", {**A100, "dtype": dtype, "fma_per_clock": fma, "sparsity": sparsity})
    assert a["peak"] == pytest.approx(datasheet, rel=1e-2)


def test_h100_fp8_peak_dense_and_sparse():
    """NVIDIA H100 SXM datasheet: FP8 Tensor Core 3,958 TFLOPS with sparsity (1,979 dense): 132 SMs x 4096 dense
    FP8 FMA/clock/SM x 2 x 1.83 GHz."""
    h100 = {"gpu": "H100", "sms": 132, "clock_ghz": 1.83, "bandwidth_gbs": 3350, "dtype": "fp8", "fma_per_clock": 4096}
    assert answers("gpu_peak", h100)["peak"] == pytest.approx(1978.9, rel=1e-3)
    assert answers("gpu_peak", {**h100, "sparsity": "2:4"})["peak"] == pytest.approx(3958, rel=1e-3)


@pytest.mark.parametrize("gpu,sms,clock,dtype,peak,sparsity,units,fma,per_unit", [
    ("A100-40GB", 108, 1.41, "fp16", 312, "dense", 4, 1024, 256),   # A100 whitepaper: 256 FP16 FMA/clock/tensor core
    ("A100-40GB", 108, 1.41, "int8", 1248, "2:4", 4, 2048, 512),
    ("A100-40GB", 108, 1.41, "fp32", 19.5, "dense", 64, 64, 1),     # one FP32 FMA per CUDA core per clock
    ("H100", 132, 1.83, "fp8", 3957.8, "2:4", 4, 4096, 1024),       # H100 datasheet (sparse FP8)
    ("V100", 80, 1.53, "fp16", 125, "dense", 8, 512, 64),           # Volta whitepaper: 64 FMA/clock/tensor core
])
def test_fma_per_clock_from_a_quoted_peak(gpu, sms, clock, dtype, peak, sparsity, units, fma, per_unit):
    """Datasheet peaks solved back for the FMA rate their whitepapers state (to the quote's rounding)."""
    a = answers("fma_per_clock", {"gpu": gpu, "sms": sms, "clock_ghz": clock, "dtype": dtype, "peak_tflops": peak,
                                  "sparsity": sparsity, "units_per_sm": units})
    assert a["fma_per_clock"] == pytest.approx(fma, rel=4e-3)
    assert a["fma_per_unit"] == pytest.approx(per_unit, rel=4e-3)


def test_sparsity_is_refused_where_it_does_not_apply():
    with pytest.raises(InvalidGivens, match="tensor-core"):
        answers("gpu_peak", {**A100, "dtype": "fp32", "fma_per_clock": 64, "sparsity": "2:4"})
    with pytest.raises(InvalidGivens, match="dense"):
        answers("gpu_peak", {**A100, "dtype": "fp16", "fma_per_clock": 1024, "sparsity": "2:4", "square": "yes"})


def test_sparsity_and_fma_mistakes():
    g = {**A100, "dtype": "fp16", "fma_per_clock": 1024, "sparsity": "2:4"}
    assert mistaken("gpu_peak", "peak", "sparsity_ignored", g) == pytest.approx(311.86944)
    q = {"sms": 108, "clock_ghz": 1.41, "dtype": "fp16", "peak_tflops": 624, "sparsity": "2:4"}
    assert mistaken("fma_per_clock", "fma_per_clock", "sparsity_ignored", q) == pytest.approx(2048.9, rel=1e-3)
    assert mistaken("fma_per_clock", "fma_per_clock", "not_divided_by_sms", q) == \
        pytest.approx(1024.4 * 108, rel=1e-3)


def test_int8_fp8_and_fp32_are_sampled_and_sparsity_at_hard():
    dtypes = {generate("intensity", "gpu_peak", "medium", s).givens["dtype"] for s in range(60)}
    assert {"int8", "fp8", "fp32"} <= dtypes
    assert any(generate("intensity", "gpu_peak", "hard", s).givens["sparsity"] == "2:4" for s in range(30))
    assert any(generate("intensity", "fma_per_clock", "medium", s).givens["gpu"] != "custom" for s in range(400))


# ---- issue 17: element-wise ops (ReLU, LayerNorm, pooling), their counting stated -----------------------------


def test_elementwise_ops_intensities():
    """ReLU: mn FLOPs over 2mn·s bytes = 1/(2s); LayerNorm: 7mn over (2mn + 2n)·s; 2x2 max pooling: 3 comparisons
    per output over (mn + mn/4)·s = 3/(5s). NVIDIA's "GPU Performance Background User's Guide" (Table 1) lists
    ReLU activation at 0.25 FLOPS/B in fp16 and layer normalization below 10, both memory-limited on a V100."""
    relu = answers("op", {"op": "relu", "m": 1024, "n": 4096, "dtype": "fp16"})
    assert relu["flops"] == 1024 * 4096 and relu["bytes"] == 2 * 2 * 1024 * 4096 and relu["intensity"] == 0.25
    ln = answers("op", {"op": "layernorm", "m": 1024, "n": 4096, "dtype": "fp16"})
    assert ln["intensity"] < 10
    assert ln["flops"] == 7 * 1024 * 4096 and ln["bytes"] == (2 * 1024 * 4096 + 2 * 4096) * 2
    pool = answers("op", {"op": "maxpool", "m": 1024, "n": 4096, "dtype": "fp32"})
    assert pool["flops"] == 3 * 512 * 2048 and pool["intensity"] == pytest.approx(3 / 20)
    with pytest.raises(InvalidGivens, match="even"):
        answers("op", {"op": "maxpool", "m": 7, "n": 8, "dtype": "fp16"})
    bound = answers("bound", {"op": "relu", "m": 4096, "n": 4096, "dtype": "fp16", **A100_ROOF})
    assert bound["bound"] == "memory-bound" and bound["attainable"] == pytest.approx(0.25 * 1.555)


def test_elementwise_mistakes():
    g = {"op": "layernorm", "m": 1024, "n": 4096, "dtype": "fp16", "out_dtype": "same"}
    assert mistaken("op", "flops", "layernorm_one_flop_per_element", g) == 1024 * 4096
    p = {"op": "maxpool", "m": 1024, "n": 4096, "dtype": "fp16", "out_dtype": "same"}
    assert mistaken("op", "bytes", "pool_output_full_size", p) == 4 * 1024 * 4096
    assert mistaken("op", "flops", "fma_as_one_flop", {**p, "p": 1}) is None


def test_every_op_is_sampled():
    ops = {generate("intensity", "op", "medium", s).givens["op"] for s in range(60)}
    assert {"relu", "layernorm", "maxpool"} <= ops
    bound_ops = {generate("intensity", "bound", "medium", s).givens["op"] for s in range(80)}
    assert {"relu", "layernorm", "maxpool"} <= bound_ops


# ---- issue 17: decoding a whole model at the roofline -----------------------------------------------------------

OPT_13B = {"params_b": 13, "weight_dtype": "fp16", "layers": 40, "kv_dim": 5120, "context": 2048, "batch": 1,
           "gpu": "A100-40GB", "peak_tflops": 312, "bandwidth_gbs": 1555}


def test_vllm_opt_13b_kv_cache():
    """Kwon et al. 2023 (vLLM, Section 3): OPT-13B's KV cache takes 2 (key and value) x 5120 (hidden size) x 40
    (layers) x 2 (bytes per FP16) = 800 KB per token, and up to 1.6 GB for a 2048-token request (binary units:
    800 KiB, 1600 MiB)."""
    a = answers("model_decode", OPT_13B)
    assert a["kv_cache_gb"] * 1e9 == 800 * 1024 * 2048 == 1600 * 2**20
    assert a["flops_per_token"] == 2 * 13e9  # Kaplan et al. 2020, Table 1: C_forward ≈ 2N per token


def test_decoding_latency_is_the_larger_of_compute_and_memory_time():
    """Batch 1: memory-bound, t = (2P + KV) bytes / bandwidth (13B fp16 on an A100 40 GB: 27.68 GB / 1555 GB/s);
    a large batch of short contexts turns compute-bound: t = B x 2P / peak."""
    a = answers("model_decode", OPT_13B)
    assert a["decode_bound"] == "memory-bound" and a["latency_ms"] == pytest.approx(27.6777216 / 1555 * 1000)
    big = answers("model_decode", {**OPT_13B, "batch": 512, "context": 16})
    assert big["decode_bound"] == "compute-bound"
    assert big["latency_ms"] == pytest.approx(512 * 26e9 / 312e12 * 1000)
    int4 = answers("model_decode", {**OPT_13B, "weight_dtype": "int4"})
    assert int4["step_gb"] == pytest.approx(6.5 + 1.6777216)


def test_model_decode_mistakes():
    g = {**OPT_13B, "batch": 4, "weight_dtype": "int8"}
    kv = 1.6777216  # GB for one 2048-token sequence
    assert mistaken("model_decode", "kv_cache_gb", "keys_only", g) == pytest.approx(4 * kv / 2)
    assert mistaken("model_decode", "kv_cache_gb", "one_sequence_only", g) == pytest.approx(kv)
    assert mistaken("model_decode", "step_gb", "weights_at_16_bits", g) == \
        pytest.approx(26 + 4 * 1.6777216)
    assert mistaken("model_decode", "step_gb", "weights_at_16_bits", OPT_13B) is None
