"""Parallelism: the published examples (seed 001 HW2 Q2, Megatron-LM, ZeRO, GPipe, seed 004's layouts), the
conventions, the named mistakes, and the verifier measuring bytes on a real gloo process group."""

from __future__ import annotations

import json
import math
import re
import time
from fractions import Fraction

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import needs, wrong
from exgen.cli import cli
from exgen.generate import generate, path_failures, solve_givens
from exgen.grading.compare import matches
from exgen.topics import get
from exgen.topics import parallelism as par
from exgen.topics.base import DIFFICULTIES, InvalidGivens

# Seed 001 ("Midterm review"), Homework 2 Q2: N_layer layers, batch B, sequence L, model dimension D, fp16.
# The lecture's example model in seed 000 is (B, L, D) = (32, 128, 768); we give it 12 layers (GPT-2 small).
HW2 = {"n_layer": 12, "batch": 32, "seq_len": 128, "d_model": 768, "dtype": "fp16", "layers_per_stage": 4}


def answers(variant, givens):
    return {p.id: p.answer.value for p in solve_givens("parallelism", variant, givens).solution.parts}


# ---- published examples ----------------------------------------------------------------------------


def test_seed_001_homework2_q2_symbolic_answers():
    """Seed 001 HW2 Q2: DP 24·N_layer·D² (AllReduce of the gradients); PP 2BLD each direction; TP 8·N_layer·BLD;
    FSDP AllGather 24·N_layer·D² and ReduceScatter 24·N_layer·D² — the seed counts the AllGather ONCE although
    it says parameters are gathered in the forward and the backward pass (seeds/README.md)."""
    a = answers("homework2", HW2)
    assert a["dp_expr"] == "24*N_layer*D^2"
    assert a["pp_expr"] == "2*B*L*D"
    assert a["tp_expr"] == "8*N_layer*B*L*D"
    assert a["fsdp_expr"] == "24*N_layer*D^2"
    assert a["dp_bytes"] == a["allgather_bytes"] == a["reducescatter_bytes"] == 24 * 12 * 768**2
    assert a["pp_bytes"] == 2 * 32 * 128 * 768
    assert a["tp_bytes"] == 8 * 12 * 32 * 128 * 768


def test_exgen_solve_reproduces_homework2_q2():
    args = ["solve", "parallelism", "--variant", "homework2"] + [f"--given={k}={v}" for k, v in HW2.items()]
    result = CliRunner().invoke(cli, args + ["--json"])
    assert result.exit_code == 0, result.output
    keys = {p["id"]: p["answer"]["value"] for p in json.loads(result.output)["parts"]}
    assert (keys["dp_expr"], keys["pp_expr"], keys["tp_expr"]) == ("24*N_layer*D^2", "2*B*L*D", "8*N_layer*B*L*D")
    rendered = CliRunner().invoke(cli, args).output  # the worked solution shows them as LaTeX
    assert r"24\,N_{\text{layer}}\,D^{2}" in rendered and r"8\,N_{\text{layer}}\,B\,L\,D" in rendered


def test_seed_000_micro_batches_32_128_768_into_four():
    """Seed 000, "Pipeline Parallelism: Solution": (32, 128, 768) -> 4 x (8, 128, 768)."""
    a = answers("pipeline", {"n_layer": 12, "layers_per_stage": 4, "batch": 32, "seq_len": 128, "d_model": 768,
                             "dtype": "fp16", "micro_batches": 4})
    assert a["micro_shape"] == [8, 128, 768]
    assert a["stages"] == 3
    assert a["message_bytes"] * 4 == a["forward_bytes"] == a["backward_bytes"] == 2 * 32 * 128 * 768
    assert a["forward_expr"] == "2*B*L*D"


def test_megatron_two_allreduces_forward_and_two_backward_per_layer():
    """Shoeybi et al. 2019, Fig. 3 (MLP: g in forward, f in backward) and Fig. 4 (attention: the same)."""
    assert par.ALLREDUCES_PER_LAYER == {"forward": 2, "backward": 2}
    a = answers("tensor_parallel", {"n_layer": 24, "batch": 8, "seq_len": 1024, "d_model": 1024, "heads": 16,
                                    "dtype": "fp16", "tp": 8})
    assert a["allreduces"] == 4 * 24
    assert a["forward_allreduces"] == a["backward_allreduces"] == 2 * 24  # split by pass (issue 17)
    assert a["backward_bytes"] == 2 * 24 * 2 * 8 * 1024 * 1024
    assert a["heads_per_gpu"] == 2
    assert a["allreduce_expr"] == "8*N_layer*B*L*D"


SP = {"n_layer": 24, "batch": 8, "seq_len": 2048, "d_model": 4096, "heads": 32, "dtype": "bf16", "tp": 8}


def test_megatron_sequence_parallelism_same_volume_as_tp_and_activations_over_t():
    """Korthikanti et al. 2022, Sec. 4.2.2 (Fig. 6): with sequence parallelism each of tensor parallelism's
    AllReduces (g, and f in the backward pass) becomes a ReduceScatter + AllGather pair (g, g-bar), so per layer
    2 AllGathers + 2 ReduceScatters forward and as many backward; "the communication bandwidth used for tensor
    parallelism and tensor together with sequence parallelism are the same" (a ring AllReduce IS a
    reduce-scatter followed by an all-gather), while the LayerNorm/dropout activations are divided by t."""
    assert par.SP_COLLECTIVES_PER_LAYER == {"allgather": {"forward": 2, "backward": 2},
                                            "reducescatter": {"forward": 2, "backward": 2}}
    a = answers("sequence_parallel", SP)
    tp = answers("tensor_parallel", SP)
    one = 2 * 8 * 2048 * 4096  # bf16 B x L x D: the payload of every collective is the full tensor
    assert (a["allgathers"], a["reducescatters"]) == (4 * 24, 4 * 24)  # over the stack of 24 layers
    assert a["payload_bytes"] == one
    assert a["collective_bytes"] == 8 * 24 * one == 2 * tp["allreduce_bytes"]  # payloads: a pair per AllReduce ...
    assert a["total_expr"] == "16*N_layer*B*L*D"
    tp_sent = tp["allreduce_bytes"] * 2 * 7 / 8  # ... but the bytes each GPU sends are the same as TP's
    assert a["sent_per_gpu"] == pytest.approx(tp_sent) == a["tp_sent_per_gpu"]
    assert a["ln_bytes_tp"] == one and a["ln_bytes_sp"] == one / 8


def test_sequence_parallel_mistakes():
    by_name = {(m.name, m.part): m for m in get("parallelism").mistakes}

    def sp(name, part):
        return wrong("parallelism", by_name[name, part], "sequence_parallel", SP)

    a = answers("sequence_parallel", SP)
    assert sp("sp_on_top_of_tp", "sent_per_gpu") == 2 * a["sent_per_gpu"]
    assert sp("allreduce_one_phase", "tp_sent_per_gpu") == a["sent_per_gpu"] / 2
    assert sp("payload_divided_by_t", "payload_bytes") == a["payload_bytes"] / 8
    assert sp("forward_only", "collective_bytes") == a["collective_bytes"] / 2
    assert sp("forward_only_count", "allgathers") == 2 * 24
    assert sp("activations_not_sharded", "ln_bytes_sp") == a["ln_bytes_tp"]
    with pytest.raises(InvalidGivens, match="divide seq_len"):
        solve_givens("parallelism", "sequence_parallel", {**SP, "seq_len": 2047})


def test_zero_volumes_2psi_for_dp_and_3psi_for_stage_3():
    """Rajbhandari et al. 2020, Sec. 7.2: DP's AllReduce moves 2Ψ per GPU (reduce-scatter + all-gather);
    ZeRO-3 moves 3Ψ (Ψ ReduceScatter + Ψ AllGather forward + Ψ AllGather backward), 1.5x DP — for large k,
    where the ring's (k−1)/k is 1. Ψ here is the parameter count in fp16 bytes."""
    g = {"n_layer": 24, "d_model": 2048, "dtype": "fp16", "gpus": 8}
    psi = 2 * 12 * 24 * 2048**2
    dp = answers("data_parallel", g)
    zero = answers("fsdp", {**g, "convention": "both_passes"})
    seed = answers("fsdp", {**g, "convention": "once"})
    assert dp["sent_per_gpu"] == pytest.approx(2 * psi * 7 / 8)
    assert zero["sent_per_gpu"] == pytest.approx(3 * psi * 7 / 8)
    assert zero["allgather_bytes"] == 2 * psi and zero["reducescatter_bytes"] == psi
    assert zero["ratio_to_dp"] == 1.5
    assert seed["ratio_to_dp"] == 1.0 and seed["allgather_bytes"] == psi


def test_ring_allreduce_time_and_bus_bandwidth():
    """Seed 001: T = 2(k−1)N/(kB); NCCL tests (PERFORMANCE.md): busbw = algbw · 2(k−1)/k."""
    a = answers("ring", {"size_mb": 400, "gpus": 4, "link_gbps": 100, "measured_ms": 8})
    assert a["sent_per_gpu"] == pytest.approx(600)  # MB
    assert a["time"] == pytest.approx(6)  # ms = 600 MB / 100 GB/s
    assert a["algbw"] == pytest.approx(50)  # GB/s = 400 MB / 8 ms
    assert a["busbw"] == pytest.approx(75)


def test_gpipe_bubble_and_micro_batches_for_a_target():
    """Huang et al. 2019 (GPipe): bubble (p−1)/(m+p−1); with p = 4, m = 8: 3/11."""
    a = answers("bubble", {"stages": 4, "micro_batches": 8, "target": 0.1})
    assert a["bubble"] == pytest.approx(3 / 11)
    assert a["min_micro_batches"] == 27  # 3/(27+3) = 0.1 exactly: "at most" includes it


def test_seed_004_gpt3_layout():
    """Seed 004 (Korthikanti et al. 2022's table): GPT-3 175B, 96 layers, TP 8 x PP 8 on 64 GPUs, global batch 64,
    micro-batch 1 -> DP 1, 12 layers per stage, 64 micro-batches."""
    a = answers("layout_3d", {"gpus": 64, "tp": 8, "pp": 8, "n_layer": 96, "global_batch": 64, "micro_batch": 1})
    assert (a["dp"], a["layers_per_stage"], a["micro_batches"]) == (1, 12, 64)
    assert a["bubble"] == pytest.approx(7 / 71)


def test_nccl_tests_bus_factors_of_every_collective():
    """NCCL tests, PERFORMANCE.md: busbw = algbw x factor — AllReduce 2(n−1)/n, ReduceScatter and AllGather
    (n−1)/n, Broadcast and Reduce 1, AlltoAll (n−1)/n; send/recv 1. On n = 8 GPUs."""
    expected = {"allreduce": 1.75, "allgather": 0.875, "reducescatter": 0.875, "broadcast": 1, "reduce": 1,
                "alltoall": 0.875, "sendrecv": 1}
    for collective, factor in expected.items():
        a = answers("collectives", {"collective": collective, "size_mb": 800, "gpus": 8, "link_gbps": 100,
                                    "measured_ms": 10})
        assert a["bus_factor"] == factor
        assert a["sent_per_gpu"] == pytest.approx(800 * factor)
        assert a["time"] == pytest.approx(8 * factor)  # ms: 800 MB x factor / 100 GB/s
        assert a["algbw"] == pytest.approx(80) and a["busbw"] == pytest.approx(80 * factor)


def test_published_sendrecv_perf_row_on_8_a100():
    """An nccl-tests sendrecv_perf run on 8 A100 (NVLink) published in li-plus/playground, cuda/nccl.md:
    size 1073741824 B, time 5503.4 us, algbw 195.10 GB/s, busbw 195.10 GB/s (bus factor 1)."""
    a = answers("collectives", {"collective": "sendrecv", "size_mb": 1073.741824, "gpus": 8, "link_gbps": 300,
                                "measured_ms": 5.5034})
    assert a["algbw"] == pytest.approx(195.10, rel=1e-4) and a["busbw"] == a["algbw"]  # time printed to 0.1 us


def test_zero_volume_in_units_of_psi_and_its_large_k_limit():
    """Rajbhandari et al. 2020, Sec. 7: stages 1 and 2 move 2Ψ per GPU (as DP), stage 3 3Ψ (1.5x) — the large-k
    limits of 2(k−1)/k·Ψ and 3(k−1)/k·Ψ with ring collectives."""
    for stage, limit in (("1", 2), ("2", 2), ("3", 3)):
        a = answers("zero_volume", {"stage": stage, "params_b": 7.5, "gpus": 64, "dtype": "fp16"})
        assert a["limit_psi"] == limit
        assert a["volume_psi"] == pytest.approx(limit * 63 / 64)
        assert a["psi_bytes"] == 15e9 and a["volume_bytes"] == pytest.approx(limit * 63 / 64 * 15e9)


def test_narayanan_bubble_1f1b_and_interleaved_beside_gpipe():
    """Narayanan et al. 2021 (Megatron-LM at scale), Sec. 2.2: 1F1B bubble time fraction (p−1)/m, interleaved with
    v chunks (p−1)/(v·m); GPipe's share of the iteration (p−1)/(m+p−1) (Huang et al. 2019). p = 8, m = 32, v = 4."""
    a = answers("bubble_schedules", {"stages": 8, "micro_batches": 32, "chunks": 4, "step_ms": 1000})
    assert a["gpipe_fraction"] == pytest.approx(7 / 39)
    assert a["bubble_1f1b"] == pytest.approx(7 / 32)
    assert a["bubble_interleaved"] == pytest.approx(7 / 128)
    assert a["iteration_ms"] == pytest.approx(1000 * (1 + 7 / 128))


def test_simulated_megatron_schedules_give_narayanans_bubbles():
    from exgen.verify.parallelism import schedule_bubble

    for p, m, v in ((2, 4, 2), (4, 8, 2), (4, 12, 3), (8, 16, 4)):
        assert schedule_bubble("1f1b", p, m) == Fraction(p - 1, m)
        assert schedule_bubble("interleaved", p, m, v) == Fraction(p - 1, v * m)


# ---- conventions and mistakes ----------------------------------------------------------------------


def test_fsdp_question_states_its_convention():
    from exgen.render import Renderer

    for convention, phrase in (("once", "all-gathered once per iteration"), ("both_passes", "again in the backward")):
        problem = solve_givens("parallelism", "fsdp", {"n_layer": 12, "d_model": 768, "dtype": "fp16", "gpus": 4,
                                                       "convention": convention})
        assert phrase in " ".join(Renderer("md").question(problem).split())


def test_named_mistakes_give_the_typical_wrong_answers():
    t = get("parallelism")
    by_name = {(m.name, m.part): m for m in t.mistakes}
    g = {"n_layer": 24, "d_model": 1024, "dtype": "fp16", "gpus": 4}

    def of(name, part, variant, givens):
        return wrong("parallelism", by_name[name, part], variant, givens)

    payload = 24 * 24 * 1024**2
    assert of("elements_not_bytes", "grad_bytes", "data_parallel", g) == payload / 2
    assert of("elements_not_bytes_expr", "grad_expr", "data_parallel", g) == "12*N_layer*D^2"
    assert of("ring_k_not_k_minus_1", "sent_per_gpu", "data_parallel", g) == pytest.approx(2 * payload)
    assert of("total_not_per_gpu", "sent_per_gpu", "data_parallel", g) == pytest.approx(4 * 1.5 * payload)
    tp = {"n_layer": 24, "batch": 8, "seq_len": 512, "d_model": 1024, "heads": 16, "dtype": "fp16", "tp": 4}
    assert of("forward_only", "allreduce_bytes", "tensor_parallel", tp) == 4 * 24 * 8 * 512 * 1024
    assert of("forward_only_count", "allreduces", "tensor_parallel", tp) == 48


@pytest.mark.parametrize("variant,bad,message", [
    ("pipeline", {"layers_per_stage": 5}, "divide n_layer"),
    ("pipeline", {"micro_batches": 3}, "divide batch"),
    ("tensor_parallel", {"tp": 5}, "divide heads"),
    ("data_parallel", {"gpus": 1}, r"gpus: 1 is outside \[2, 1000000\]"),
    ("bubble", {"target": 1.5}, r"target: 1.5 is outside \[0.001, 0.999\]"),
    ("layout_3d", {"gpus": 100}, "must divide gpus"),
])
def test_invalid_givens_say_why(variant, bad, message):
    base = {
        "pipeline": {"n_layer": 12, "layers_per_stage": 4, "batch": 32, "seq_len": 128, "d_model": 768,
                     "micro_batches": 4},
        "tensor_parallel": {"n_layer": 12, "batch": 8, "seq_len": 128, "d_model": 768, "heads": 12, "tp": 4},
        "data_parallel": {"n_layer": 12, "d_model": 768, "gpus": 4},
        "bubble": {"stages": 4, "micro_batches": 8, "target": 0.1},
        "layout_3d": {"gpus": 64, "tp": 8, "pp": 8, "n_layer": 96, "global_batch": 64, "micro_batch": 1},
    }[variant]
    with pytest.raises(InvalidGivens, match=message):
        solve_givens("parallelism", variant, {**base, **bad})


def test_expression_answers_use_the_simple_grammar():
    import re

    for v in get("parallelism").variants:
        for seed in range(5):
            for part in generate("parallelism", v.name, "medium", seed).solution.parts:
                if part.answer.kind == "expression":
                    assert re.fullmatch(r"\d+(\*(N_layer|B|L|D)(\^\d)?)+", part.answer.value), part.answer.value


# ---- fair questions (issue 9) ----------------------------------------------------------------------


def test_bubble_target_on_the_boundary_is_never_asked():
    """Issue 9 (`--variant bubble --difficulty easy --n 5 --seed 9000`): with p = 4 and a target of 0.2, m = 12
    gives a bubble of exactly 3/15 = 0.2, so the key is 12, but (p−1)(1−f)/f = 12.000000000000002 in floating
    point and a student's ceiling gives 13. The float paths say so, and the sampler never draws such an instance."""
    topic = get("parallelism")
    problem = solve_givens("parallelism", "bubble", {"stages": 4, "micro_batches": 8, "target": 0.2})
    paths = {p.name: p for p in topic.paths_for("bubble")}
    assert problem.solution.part("min_micro_batches").answer.value == 12
    assert paths["float_ceiling"].value("bubble", problem.givens, problem.solution) == 13  # ceil(12.000000000000002)
    assert paths["float_scan"].value("bubble", problem.givens, problem.solution) == 12  # 3/15 <= 0.2 in floats too
    assert path_failures(topic, "bubble", problem.givens, problem.solution) == ["float_ceiling"]
    # the same boundary in the 3-D layout's twist: a replica of 24 sequences, p = 4, f = 0.2 needs m >= 12 exactly,
    # so micro-batches of 24 / 12 = 2 (key); the float ceiling's 13 micro-batches allow only size 1
    layout = solve_givens("parallelism", "layout_3d", {"gpus": 8, "tp": 1, "pp": 4, "n_layer": 8, "global_batch": 48,
                                                       "micro_batch": 1, "target": 0.2})
    assert layout.solution.part("max_micro_batch").answer.value == 2
    assert path_failures(topic, "layout_3d", layout.givens, layout.solution) == ["float_ceiling"]
    off = solve_givens("parallelism", "bubble", {"stages": 4, "micro_batches": 8, "target": 0.21})
    assert [p.value("bubble", off.givens, off.solution) for p in paths.values()] == [12, 12]  # 11.29 -> 12
    for difficulty in DIFFICULTIES:
        for seed in range(300):
            p = generate("parallelism", "bubble", difficulty, seed)
            exact = Fraction(p.givens["stages"] - 1) * (1 - Fraction(str(p.givens["target"]))) / \
                Fraction(str(p.givens["target"]))
            assert exact.denominator != 1, (difficulty, seed)  # never exactly on the boundary


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_every_variant_varies_in_givens_and_in_every_part(difficulty):
    """Issue 9: data_parallel easy had 27 distinct instances in 1,000 draws; sequence_parallel asked for 4
    AllGathers and a ratio of 1 in every draw. Over 300 draws: 99% distinct givens, no constant part."""
    for v in get("parallelism").variants:
        problems = [generate("parallelism", v.name, difficulty, seed) for seed in range(300)]
        givens = {json.dumps(p.givens, sort_keys=True) for p in problems}
        assert len(givens) >= 0.99 * len(problems), (v.name, len(givens))
        for part in problems[0].solution.parts:
            values = {json.dumps(p.solution.part(part.id).answer.value) for p in problems}
            assert len(values) > 1, (v.name, part.id)


def test_a_30_student_roster_of_any_variant_gets_30_distinct_problems():
    """Issue 9: a 30-student roster exam of data_parallel easy gave 17 distinct problems."""
    from exgen.generate import count_repeats, distinct_problems
    from exgen.rng import student_seed

    for v in get("parallelism").variants:
        roster = distinct_problems(["parallelism"], v.name, "easy", 30,
                                   lambda i: student_seed(b"course secret", f"student{i}", 0))
        assert count_repeats(roster) == 0, v.name


def test_expression_parts_name_only_symbols_the_question_defines():
    """Issue 9: DP and FSDP asked for "an expression in N_layer, B, L and D" but never define B or L."""
    from exgen.render import Renderer

    for v in get("parallelism").variants:
        problem = generate("parallelism", v.name, "medium", 7)
        text = Renderer("md").question(problem)
        for part in problem.solution.parts:
            if part.answer.kind == "expression":
                named = set(re.findall(r"`(N_layer|B|L|D)`", text))
                assert named >= set(re.findall(r"N_layer|B|L|D", part.answer.value))
                defined = {"N_layer": r"N_{\text{layer}} = ", "B": "$B = ", "L": "$L = ", "D": "$D = "}
                assert all(defined[s] in text for s in named), (v.name, named)


def test_student_text_has_no_internal_words_and_no_bad_plural():
    """Issue 9: "seed 001's Homework 2", "the seed's convention", "1 sequences"."""
    from exgen.render import Renderer

    r = Renderer("md")
    texts = []
    for v in get("parallelism").variants:
        for seed in range(10):
            problem = generate("parallelism", v.name, "easy", seed)
            texts += [r.question(problem), r.solution(problem)]
    texts += [m.explanation for m in get("parallelism").mistakes]
    one = solve_givens("parallelism", "layout_3d", {"gpus": 16, "tp": 2, "pp": 4, "n_layer": 8, "global_batch": 2,
                                                    "micro_batch": 1})
    texts.append(r.question(one))
    for text in texts:
        assert "seed" not in text.lower()
        assert not re.search(r"\b1\$? (sequences|micro-batches)\b", text), text
    assert "in micro-batches of 1 sequence." in " ".join(r.question(one).split())


def test_layout_without_a_pipeline_has_no_bubble_and_is_not_sampled():
    """A layout with PP = 1 has a bubble of exactly 0, which has no significant figures: the sampler always
    draws PP >= 2 (the question is about a pipeline), and a user's PP = 1 is answered 0 to 3 decimals."""
    assert all(generate("parallelism", "layout_3d", d, s).givens["pp"] >= 2 for d in DIFFICULTIES for s in range(200))
    flat = solve_givens("parallelism", "layout_3d", {"gpus": 64, "tp": 8, "pp": 1, "n_layer": 48, "global_batch": 64,
                                                     "micro_batch": 1}).solution.part("bubble").answer
    assert (flat.value, flat.decimals, flat.sig) == (0.0, 3, None)


def test_expression_keys_are_compared_without_sympy_when_generating():
    """Issue 12: monomial keys and a mistake's monomial are compared as (coefficient, powers), so `exgen make`
    never imports sympy; the result is the one symbolic equivalence gives."""
    import subprocess
    import sys

    from exgen.grading.compare import expression_matches
    from exgen.problem import Answer

    key = Answer("expression", "24*N_layer*D^2")
    assert expression_matches(key, "24*D^2*N_layer") and expression_matches(key, "24*D*N_layer*D")
    assert not expression_matches(key, "12*N_layer*D^2") and not expression_matches(key, "24*N_layer*D^3")
    code = ("import sys; from exgen.cli import cli; from click.testing import CliRunner; "
            "r = CliRunner().invoke(cli, ['make', '--topic', 'parallelism', '--n', '30', '--seed', '1']); "
            "print(r.exit_code, 'sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", "False"]


def test_hard_adds_a_step_time_on_the_wire_and_equal_micro_batches():
    """At hard, the byte variants also ask the time on each GPU's link (what ONE GPU sends / B — seed 001's ring
    time — not the payload / B), and the bubble's micro-batches must split a batch evenly."""
    g = {"n_layer": 24, "d_model": 2048, "dtype": "fp16", "gpus": 8, "link_gbps": 100}
    a = answers("data_parallel", g)
    assert a["comm_ms"] == pytest.approx(a["sent_per_gpu"] / 100e9 * 1e3)  # 7/4 x 2.42e9 B / 100 GB/s = 42.3 ms
    mistake = {m.name: m for m in get("parallelism").mistakes_for("data_parallel")}["time_from_payload"]
    assert wrong("parallelism", mistake, "data_parallel", g) == pytest.approx(a["grad_bytes"] / 100e9 * 1e3)
    assert "comm_ms" not in answers("data_parallel", {**g, "link_gbps": 0})  # easy and medium: not asked
    tp = answers("tensor_parallel", {"n_layer": 2, "batch": 1, "seq_len": 64, "d_model": 128, "heads": 2, "tp": 2,
                                     "link_gbps": 1})
    assert tp["comm_ms"] == pytest.approx(tp["allreduce_bytes"] * 2 * 1 / 2 / 1e9 * 1e3)
    # p = 4, f = 0.1: m >= 27; a batch of 32 splits into 32 (not 27 or 28 or ...), a batch of 54 into 27
    assert answers("bubble", {"stages": 4, "micro_batches": 8, "target": 0.1, "batch": 32})["min_micro_batches"] == 32
    assert answers("bubble", {"stages": 4, "micro_batches": 6, "target": 0.1, "batch": 54})["min_micro_batches"] == 27
    # 3-D layout: a replica of 164 sequences, p = 8, f = 0.308 needs m >= 15.7, so 16 micro-batches of at most
    # 10.25 sequences; the largest size dividing 164 = 4 x 41 is 4 (10, the floor, is the named mistake)
    layout = {"gpus": 80, "tp": 2, "pp": 8, "n_layer": 48, "global_batch": 820, "micro_batch": 4, "target": 0.308}
    assert answers("layout_3d", layout)["max_micro_batch"] == 4
    by_name = {m.name: m for m in get("parallelism").mistakes_for("layout_3d")}
    assert wrong("parallelism", by_name["micro_batch_not_a_divisor"], "layout_3d", layout) == 10
    # ring: a buffer given as a model's gradients, 7000 million fp32 parameters = 28000 MB over 4 GPUs
    ring = answers("ring", {"params_m": 7000, "dtype": "fp32", "gpus": 4, "link_gbps": 100, "measured_ms": 500})
    assert ring["sent_per_gpu"] == pytest.approx(1.5 * 28000) and ring["algbw"] == pytest.approx(56)
    with pytest.raises(InvalidGivens, match="exactly one"):
        answers("ring", {"size_mb": 10, "params_m": 7000, "gpus": 4, "link_gbps": 100, "measured_ms": 500})
    # homework2: hard also asks the ZeRO convention (gathered in both passes) besides the course's "once"
    both = answers("homework2", {**HW2, "convention": "both_passes"})
    assert both["allgather_bytes"] == 2 * both["reducescatter_bytes"] and both["fsdp_expr"] == "48*N_layer*D^2"
    assert {generate("parallelism", "homework2", "hard", seed).givens["convention"] for seed in range(50)} == \
        set(par.CONVENTIONS)
    assert {generate("parallelism", "homework2", "medium", seed).givens["convention"] for seed in range(50)} == {"once"}
    for seed in range(50):
        assert generate("parallelism", "ring", "hard", seed).givens["params_m"] > 0
        assert "max_micro_batch" in answers("layout_3d", generate("parallelism", "layout_3d", "hard", seed).givens)
        for variant in ("data_parallel", "pipeline", "tensor_parallel", "sequence_parallel", "fsdp"):
            assert "comm_ms" in answers(variant, generate("parallelism", variant, "hard", seed).givens)
        assert generate("parallelism", "bubble", "hard", seed).givens["batch"] > 0


# ---- givens bounds (issue 10) ----------------------------------------------------------------------


@pytest.mark.parametrize("variant", [v.name for v in get("parallelism").variants])
def test_solving_at_the_corners_of_the_bounds_is_finite_and_fast(variant):
    """Every number/integer given is bounded; each at its low and at its high bound (the others as drawn)
    gives finite answers in milliseconds, or a clear InvalidGivens (a divisibility the corner breaks)."""
    from exgen.givens import coerce

    spec = get("parallelism").variant(variant)
    base = generate("parallelism", variant, "medium", 1).givens
    bounded = [g for g in spec.givens if g.kind in ("number", "integer")]
    assert bounded and all(g.low is not None and g.high is not None for g in bounded)
    for given_ in bounded:
        for corner in (given_.low, given_.high):
            givens = {**base, given_.name: coerce(given_, corner)}
            start = time.monotonic()
            try:
                parts = solve_givens("parallelism", variant, givens).solution.parts
            except InvalidGivens:
                continue
            finally:
                assert time.monotonic() - start < 0.5, (given_.name, corner)
            for part in parts:
                values = part.answer.value if isinstance(part.answer.value, list) else [part.answer.value]
                assert all(isinstance(x, str) or math.isfinite(x) for x in values), (given_.name, corner, part.id)
        outside = (given_.low - 1, given_.high + 1) if given_.kind == "integer" else \
            (given_.low * 0.999, given_.high * 1.001)
        for value in outside:
            if value == given_.default:
                continue  # an optional twist's "0: not asked"
            with pytest.raises(InvalidGivens, match="outside"):
                coerce(given_, value)


# ---- the verifier on a real process group ----------------------------------------------------------


@needs("torch")
def test_own_expression_evaluator():
    from exgen.verify.parallelism import evaluate

    assert evaluate("24*N_layer*D^2", {"N_layer": 2, "D": 3}) == 432
    assert evaluate("2*(k-1)*N/k", {"k": 4, "N": 8}) == 12
    assert evaluate("-2^2 + (3)", {}) == -1
    for junk in ("__import__('os')", "2**3", "D;1", "(2", "x"):
        with pytest.raises(ValueError):
            evaluate(junk, {"D": 1})


@needs("torch")
def test_gpipe_schedule_simulation_gives_the_bubble_formula():
    from exgen.verify.parallelism import gpipe_idle_fraction

    for p in (2, 3, 4, 8):
        for m in (1, 2, 4, 7, 16):
            assert gpipe_idle_fraction(p, m) == Fraction(p - 1, m + p - 1)


@pytest.mark.slow
@needs("torch")
def test_measured_bytes_equal_the_formulas_at_the_measured_dimensions():
    """The raw counters of one training iteration on gloo ranks, against the solver's formulas there."""
    from exgen.verify.parallelism import BASE, CHECK, _config, evaluate, measurements

    m = measurements()
    for dims in (BASE, CHECK):
        n, b, l, d = dims["n_layer"], dims["batch"], dims["seq"], dims["d"]
        values = {"N_layer": n, "B": b, "L": l, "D": d}
        assert m[_config("dp", dims)]["allreduce"] == evaluate("24*N_layer*D^2", values)
        tp = m[_config("tp", dims)]
        assert (tp["calls_forward"], tp["calls_backward"]) == (2 * n, 2 * n)  # Megatron: 2 + 2 per layer
        assert tp["bytes"] == evaluate("8*N_layer*B*L*D", values)
        once, both = m[_config("fsdp_once", dims)], m[_config("fsdp_both", dims)]
        assert once["allgather"] == once["reducescatter"] == both["reducescatter"] == 24 * n * d * d
        assert both["allgather_forward"] == both["allgather_backward"] == 24 * n * d * d
        pp = m[_config("pp", dims)]
        assert pp["forward"] == pp["backward"] == evaluate("2*B*L*D", values)
    from exgen.verify.parallelism import SP_BASE, SP_CHECK

    for dims in (SP_BASE, SP_CHECK):  # Megatron-SP through torch's SequenceParallel + Shard(1) plans
        n, values = dims["n_layer"], {"N_layer": dims["n_layer"], "B": dims["batch"], "L": dims["seq"], "D": dims["d"]}
        sp = m[_config("sp", dims)]
        assert sp["correct"] and sp["allreduce"] == 0
        assert (sp["allgather_forward"], sp["reducescatter_forward"]) == (2 * n, 2 * n)
        assert (sp["allgather_calls"], sp["reducescatter_calls"]) == (4 * n, 4 * n)
        assert sp["allgather"] == sp["reducescatter"] == evaluate("8*N_layer*B*L*D", values)
        assert sp["ln_input_tp"] == 2 * sp["ln_input_sp"] == evaluate("2*B*L*D", values)
    for k in (2, 3, 4):
        ring = next(v for c, v in m.items() if c.scheme == "ring" and c.k == k)
        assert Fraction(ring["sent"], ring["payload"]) == Fraction(2 * (k - 1), k) and ring["correct"]


@pytest.mark.slow
@needs("torch")
def test_solver_and_verifier_agree_on_every_variant():
    import torch

    from exgen.verify.parallelism import reproduce

    @settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(seed=st.integers(0, 2**32 - 1), difficulty=st.sampled_from(DIFFICULTIES),
           variant=st.sampled_from([v.name for v in get("parallelism").variants]))
    def agree(seed, difficulty, variant):
        problem = generate("parallelism", variant, difficulty, seed)
        values = reproduce(variant, problem.givens, torch.device("cpu"))
        for part in problem.solution.parts:
            assert matches(part.answer, values[part.id]), (variant, part.id, seed)

    agree()


@pytest.mark.slow
@needs("torch")
def test_a_failing_rank_fails_fast_and_leaves_no_process(monkeypatch):
    """Only the ranks this test starts are checked: other `exgen verify` runs may share the machine."""
    import os
    import subprocess

    from exgen.verify import distributed
    from exgen.verify.distributed import Config, MeasurementError, measure

    started: list[subprocess.Popen] = []

    class Recorded(subprocess.Popen):  # the real Popen, remembering what it started
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(distributed.subprocess, "Popen", Recorded)
    start = time.monotonic()
    with pytest.raises(MeasurementError, match="failed"):
        measure([Config("tp", d=10)])  # 10 is not 4 heads' worth of whole QKV rows per rank: the model raises
    with pytest.raises(MeasurementError, match="did not finish"):
        measure([Config("dp")], deadline_s=0.5)
    assert time.monotonic() - start < 60
    monkeypatch.undo()
    assert len(started) >= 4 and all(p.returncode is not None for p in started)  # every rank reaped
    ours = subprocess.run(["pgrep", "-P", str(os.getpid()), "-f", "exgen.verify.distributed"],
                          capture_output=True, text=True).stdout.split()
    assert ours == []  # no rank of this test is still running (others' verify runs are not our children)


# ---- wording (review C3, C4, B5) ----------------------------------------------------------------------


def _page(variant, givens):
    from exgen.render import Renderer
    problem = solve_givens("parallelism", variant, givens)
    return Renderer("md").question(problem), Renderer("md").solution(problem)


def test_collective_steps_read_as_sentences_and_a_bus_factor_of_one_is_shown_as_bytes_over_s():
    """Review C4: "moves its data by one GPU sends …", and "$1 = 1$" as the bus factor's working."""
    for collective in ("allreduce", "allgather", "reducescatter", "broadcast", "reduce", "alltoall", "sendrecv"):
        _, solution = _page("collectives", {"collective": collective, "size_mb": 800, "gpus": 40, "link_gbps": 100,
                                            "measured_ms": 10})
        assert "by one GPU sends" not in solution and "by each GPU sends" not in solution
        assert not re.search(r"(?m)^1 = 1$", solution)
        if collective in ("broadcast", "reduce", "sendrecv"):
            assert r"\frac{800\ \text{MB}}{800\ \text{MB}} = 1" in solution
        else:
            assert "40" in solution.split("$$")[1]  # k substituted into the factor's formula


def test_send_recv_says_what_the_k_gpus_do():
    """Review C3: a send/recv "over k = 40 GPUs" left k's role unclear; the question now says every GPU sends its
    buffer to the next (nccl-tests' sendrecv), so S is what each GPU sends, whatever k."""
    question, _ = _page("collectives", {"collective": "sendrecv", "size_mb": 800, "gpus": 40, "link_gbps": 100,
                                        "measured_ms": 10})
    assert "every GPU sends a buffer to the next GPU" in question and "the buffer each GPU sends" in question


def test_singular_wording_for_one_layer_per_stage_and_one_allreduce():
    """Review C4: "holds 1 consecutive transformer layers", "GPipe, 1 layers per stage", "do the AllReduce"."""
    question, solution = _page("pipeline", {"n_layer": 8, "layers_per_stage": 1, "batch": 4, "seq_len": 128,
                                            "d_model": 256, "micro_batches": 2})
    assert "holds\n1 transformer layer." in question and "layers" not in question.split("holds")[1][:20]
    assert "its layer," in solution
    question, solution = _page("homework2", {"n_layer": 8, "batch": 4, "seq_len": 128, "d_model": 256,
                                             "layers_per_stage": 1})
    assert "GPipe, 1 layer per stage" in question and "GPipe, 1 layer per stage" in solution
    question, _ = _page("data_parallel", {"n_layer": 8, "d_model": 256, "gpus": 4, "link_gbps": 100})
    assert "does the AllReduce take" in question


def test_sequence_parallel_names_the_papers_count_and_keeps_its_layer_norms():
    """Review B5 and C4: the count follows Korthikanti et al. (one conjugate per forward collective, not
    Megatron-LM's backward re-gather), and the model no longer says "ignore … layer norms" before giving each
    layer two LayerNorms."""
    question, _ = _page("sequence_parallel", {"n_layer": 8, "batch": 4, "seq_len": 128, "d_model": 256,
                                              "heads": 4, "tp": 2})
    assert "Count the collectives of the paper's scheme" in question and "re-gather saved inputs" in question
    assert "ignore biases, the layer norms' parameters" in question and "their\nparameters are ignored" not in question
