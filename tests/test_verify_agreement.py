"""Solver and torch verifier agree: two independent computations of every answer, over many random seeds."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from click.testing import CliRunner

from conftest import needs, variant_cases
from exgen.cli import cli
from exgen.generate import generate
from exgen.topics import TOPIC_NAMES, get
from exgen.topics.base import DIFFICULTIES

# Topics whose verifier spawns process groups, counts FLOPs of 96-layer models or runs 126-layer decoders are
# checked on fewer seeds here (their own test files go deeper).
EXAMPLES = {"parallelism": 3, "compute": 25, "inference": 25}


@needs("torch")
@pytest.mark.parametrize("topic,variant", variant_cases())
def test_solver_and_verifier_agree(topic, variant):
    import torch

    from exgen.verify import agrees, reproduce

    @settings(max_examples=EXAMPLES.get(topic, 75), deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(seed=st.integers(0, 2**32 - 1), difficulty=st.sampled_from(DIFFICULTIES))
    def agree(seed, difficulty):
        problem = generate(topic, variant, difficulty, seed)
        values = reproduce(problem, torch.device("cpu"))
        for part in problem.solution.parts:
            assert part.id in values and agrees(part.answer, values[part.id]), (part.id, seed, difficulty)

    agree()


def one_unit_off(answer):
    """The key edited by one unit in the last asked place (an exact number by 1, a choice to another one)."""
    if answer.kind == "choice":
        return replace(answer, value=next(c for c in answer.choices if c != answer.value))
    if answer.kind == "expression":
        return replace(answer, value=f"2*({answer.value})")
    first = answer.value
    while isinstance(first, list):
        first = first[0]
    step = answer.allowance(first) or 1
    edit = lambda v: v + step if isinstance(v, float) else v + int(step)  # noqa: E731
    if answer.kind == "vector":
        return replace(answer, value=[edit(answer.value[0]), *answer.value[1:]])
    if answer.kind == "matrix":
        return replace(answer, value=[[edit(answer.value[0][0]), *answer.value[0][1:]], *answer.value[1:]])
    return replace(answer, value=edit(answer.value))


@needs("torch")
@pytest.mark.parametrize("topic", TOPIC_NAMES)
def test_a_key_off_by_one_unit_in_the_last_asked_place_is_caught(topic):
    """The grader would accept one unit off; the verifier holds a key to its own float64 tolerance."""
    import torch

    from exgen.verify import agrees, reproduce

    for variant in get(topic).variants:
        problem = generate(topic, variant.name, "hard", 7)
        values = reproduce(problem, torch.device("cpu"))
        for part in problem.solution.parts:
            assert agrees(part.answer, values[part.id]), (variant.name, part.id)
            assert not agrees(one_unit_off(part.answer), values[part.id]), (variant.name, part.id)


def verify_givens(tmp_path, topic, variant, *givens):
    """A TA's givens through the CLI: `exgen solve --json`, then `exgen verify` of that one-problem key."""
    args = ["solve", topic, "--variant", variant, "--json", *(a for g in givens for a in ("--given", g))]
    solved = CliRunner().invoke(cli, args)
    assert solved.exit_code == 0, solved.output
    problem = {**json.loads(solved.stdout), "difficulty": "medium"}  # solve says "custom", which a key does not take
    (tmp_path / "key.json").write_text(json.dumps({"format": "exgen-key/1", "problems": [problem]}))
    return CliRunner().invoke(cli, ["verify", "--device", "cpu", str(tmp_path / "key.json")])


TA_GIVENS = [
    # halves away from zero, as the question says (torch's kernels round half to even)
    ("quantization", "affine", "X=0,0.5,1.5,2.5,3", "bits=2", "signed=unsigned", "metric=max_abs"),
    ("quantization", "absmax", "X=-0.5,0.5,1.5,2.5,127", "bits=8", "convention=qmax", "metric=mse"),
    ("quantization", "per_channel", "X=2.6,-1.0,1.3;3.5,3.4,1.4;0.1,1.7,0.8", "bits=3", "axis=rows"),
    # an r/S a hair above a half, which float32 kernels round down
    ("quantization", "absmax", "X=1000000,3937.0079", "bits=8", "convention=qmax", "metric=max_abs"),
    # a factor rounded to decimals at an exact half (13.335/127 = 0.105 → 0.10; float64 says 0.10500000000000001)
    ("quantization", "absmax_int8", "X=13.335,1", "bits=8", "axis=tensor", "form=scale", "factor_decimals=2"),
    ("quantization", "affine_channel", "X=34.425,0;1,2", "bits=8", "signed=signed", "axis=tensor", "scale_decimals=2"),
    # halves to even where the scale is no float (7/8 of 4 is 3.5; the float32 kernel says 3.4999998)
    ("quantization", "absmax_int8", "X=-29,4;-40,8", "bits=4", "axis=columns", "form=multiplier"),
    ("quantization", "affine_channel", "X=1000000,-1000000;3,7", "bits=8", "signed=signed"),
    # given_scale: an x/S within float32 error of a half (0.145/0.01), halves to even on the decimals given,
    # where torch's float32 kernel says 16 and -30
    ("quantization", "given_scale", "X=0.145,-0.305", "scale=0.01", "zero_point=1", "quant_min=-128",
     "quant_max=127"),
    ("quantization", "given_scale", "X=0.145,-0.305;0.25,0.35", "scale=0.01,0.1", "zero_point=1,0",
     "quant_min=-128", "quant_max=127", "axis=rows"),
    # x a hair above a tie: float64 → float32 → format would round twice
    ("formats", "nearest", "format=fp16", "x=1.000488281251"),
    ("formats", "nearest", "format=fp8_e4m3", "x=1.0625000001"),
    ("formats", "nearest", "format=bf16", "x=1.00390625000001"),
    # overflow is "above the largest finite value", though these casts round to it
    ("formats", "range", "format=fp16", "amax=65519", "amin=1"),
    ("formats", "range", "format=fp8_e4m3", "amax=450", "amin=1"),
    ("formats", "range", "format=fp8_e4m3", "amax=464", "amin=1"),
    # FP32 has no enumerated table: its neighbours come from nextafter
    ("formats", "nearest", "format=fp32", "x=1.1"),
    ("formats", "nearest", "format=fp32", "x=-3e-42"),
    ("formats", "range", "format=fp32", "amax=1e30", "amin=1e-30"),
    # the decimal typed, just above FLT_MAX though its float64 is FLT_MAX: overflow, scaled by 2^-1
    ("formats", "range", "format=fp32", "amax=3.4028234663852886e38", "amin=1"),
    # large custom formats (2^26 and 2^34 codes): neighbours from the layout, no table enumerated
    ("formats", "nearest", "format=custom", "exp_bits=8", "man_bits=18", "x=1.1"),
    ("formats", "nearest", "format=custom", "exp_bits=11", "man_bits=23", "x=-3.3e-300"),
    ("formats", "nearest", "format=custom", "exp_bits=8", "man_bits=23", "x=3.4028234663852884e38"),
    ("formats", "range", "format=custom", "exp_bits=11", "man_bits=23", "amax=1e40", "amin=1e-40"),
    ("formats", "layout", "format=custom", "exp_bits=11", "man_bits=23", "bits=10000000000100000000000000000000001"),
    # the largest finite value itself: the gap of its binade
    ("formats", "nearest", "format=fp8_e4m3", "x=448"),
    ("formats", "nearest", "format=fp16", "x=65504"),
    ("formats", "nearest", "format=fp4_e2m1", "x=6"),
    # products past int64's elements (32768 x 1024 tokens x 405e9 parameters; 10^6 x 10^7 x 10^6 activations):
    # counted in blocks of tokens, split along the batch only
    ("inference", "prefill", "params_b=405", "prompt=32768", "batch=1024", "bandwidth_gbs=3350", "new_tokens=100",
     "peak_tflops=989", "w_dtype=fp16"),
    ("inference", "prefill", "params_b=405", "prompt=1e6", "batch=64", "bandwidth_gbs=3350", "new_tokens=100",
     "peak_tflops=989", "w_dtype=fp16"),
    ("inference", "kv_cache", "n_layer=2", "n_heads=1024", "n_kv_heads=8", "head_dim=4096", "seq_len=10000000",
     "batch=1000000", "kv_dtype=fp16"),
    ("inference", "decode", "params_b=0.001", "w_dtype=int4", "bandwidth_gbs=1000000", "batch=1000000",
     "kv_bytes_per_token=1000000000", "context=10000000"),
    ("parallelism", "pipeline", "n_layer=1000", "layers_per_stage=1", "batch=1000000", "seq_len=10000000",
     "d_model=1000000", "dtype=fp32", "micro_batches=1000000"),
    # an exact fit: 4.1 GB is 4,100,000,000 B, not 4.1 * 1e9 in floats
    ("inference", "max_batch", "gpu_gb=4.1", "params_b=0.01", "w_dtype=fp16", "n_layer=1", "n_heads=1",
     "n_kv_heads=1", "head_dim=125", "seq_len=2040", "kv_dtype=fp16"),
]


@needs("torch")
@pytest.mark.parametrize("case", TA_GIVENS, ids=lambda c: f"{c[1]}:{','.join(c[2:4])}")
def test_a_tas_givens_verify_without_a_false_alarm(tmp_path, case):
    result = verify_givens(tmp_path, *case)
    assert result.exit_code == 0 and " NO" not in result.stdout, result.output


@needs("torch")
def test_a_hand_edited_nearest_above_the_largest_finite_value_is_a_disagreement_not_a_crash(tmp_path):
    """The givens check refuses such x now; an older key's spacing there (no finite neighbour above) disagrees."""
    result = verify_givens(tmp_path, "formats", "nearest", "format=fp8_e4m3", "x=440")
    assert result.exit_code == 0
    key = json.loads((tmp_path / "key.json").read_text())
    key["problems"][0]["givens"]["x"] = 460.0
    (tmp_path / "key.json").write_text(json.dumps(key))
    result = CliRunner().invoke(cli, ["verify", "--device", "cpu", str(tmp_path / "key.json")])
    assert result.exit_code == 1 and "internal error" not in result.output
    spacing = result.stdout.splitlines()[1].split()
    assert spacing[0] == "1.spacing" and spacing[-2:] == ["inf", "NO"]


@needs("torch")
def test_the_cells_a_fill_table_shows_are_checked_too(tmp_path):
    """A pre-filled value is part of the key: one edited by one unit in its 6th figure is a disagreement."""
    from exgen.verify.autodiff import _table_cells

    problem = generate("autodiff", "fill", "hard", 5).to_dict()
    key = {"format": "exgen-key/1", "problems": [problem]}
    (tmp_path / "key.json").write_text(json.dumps(key))
    result = CliRunner().invoke(cli, ["verify", "--device", "cpu", str(tmp_path / "key.json")])
    assert result.exit_code == 0 and result.stdout.count("(shown)") == len(problem["givens"]["shown"]) == 5
    table = next(s for s in problem["shown"] if "array" in s["math"])
    assert _table_cells(table["math"])["bar_v6"] == "-6.61912"
    table["math"] = table["math"].replace(r"\times 1 & -6.61912", r"\times 1 & -6.61913", 1)  # v̄6, not v̄7
    (tmp_path / "key.json").write_text(json.dumps(key))
    result = CliRunner().invoke(cli, ["verify", "--device", "cpu", str(tmp_path / "key.json")])
    assert result.exit_code == 1
    assert [line.split()[-1] for line in result.stdout.splitlines() if "(shown)" in line].count("NO") == 1
    assert "bar_v6 (shown)" in next(line for line in result.stdout.splitlines() if line.endswith("NO"))


@needs("torch")
def test_an_edited_precision_cannot_loosen_the_verifiers_tolerance():
    """The tolerance is the verifier's (relative 1e-9), capped by a fraction of the asked unit, never widened by it."""
    from exgen.problem import Answer
    from exgen.verify import agrees

    assert agrees(Answer("number", 0.5875, sig=4), 0.5875 * (1 + 1e-12))
    for loose in (Answer("number", 0.5876, sig=1), Answer("number", 0.5876, decimals=0)):
        assert not agrees(loose, 0.5875)
    assert not agrees(Answer("number", 0.0, decimals=0), 1e-6)  # a key of 0: 1e-9 absolute, whatever the decimals
    assert not agrees(Answer("vector", [1.0, 2.0001], decimals=0), [1.0, 2.0])
    assert not agrees(Answer("integer", 4000), 3999) and agrees(Answer("integer", 4000), 4000.0)


@pytest.fixture(scope="module")
def midterm_key(tmp_path_factory):
    """examples/midterm.yaml built with --versions 4: its key with meta.choices."""
    out = tmp_path_factory.mktemp("midterm")
    built = CliRunner().invoke(cli, ["exam", "examples/midterm.yaml", "--versions", "4", "--no-pdf",
                                     "--out", str(out / "exam")])
    assert built.exit_code == 0, built.output
    return json.loads((out / "exam" / "key.json").read_text())


def verify_key(tmp_path, key):
    (tmp_path / "key.json").write_text(json.dumps(key))
    return CliRunner().invoke(cli, ["verify", "--device", "cpu", str(tmp_path / "key.json")])


@needs("torch")
def test_every_choice_of_an_unedited_exam_key_is_verified_and_agrees(tmp_path, midterm_key):
    result = verify_key(tmp_path, midterm_key)
    asked = sum(len(parts) for parts in midterm_key["meta"]["choices"].values())
    assert asked and result.stdout.count(" (choice ") == asked
    assert result.exit_code == 0 and " NO" not in result.stdout, result.output


@needs("torch")
def test_an_edited_choice_letter_or_option_is_caught(tmp_path, midterm_key):
    """The grader marks a choice by its letter: a letter moved to a distractor, the correct option changed, or a
    distractor moved within 3 units of the answer (two letters right) are each a disagreement."""
    number, parts = next((n, p) for n, p in midterm_key["meta"]["choices"].items()
                         if any(isinstance(c["options"][0], (int, float)) for c in p.values()))
    pid, choice = next((pid, c) for pid, c in parts.items() if isinstance(c["options"][0], (int, float)))
    right = ord(choice["correct"]) - ord("A")
    wrong = (right + 1) % len(choice["options"])
    key_value = choice["options"][right]

    def edited(change):
        key = json.loads(json.dumps(midterm_key))
        change(key["meta"]["choices"][number][pid])
        result = verify_key(tmp_path, key)
        assert result.exit_code == 1, result.output
        bad = [line for line in result.stdout.splitlines() if line.endswith("NO")]
        assert len(bad) == 1 and bad[0].startswith(f"{number}.{pid} (choice "), result.output
        return bad[0]

    edited(lambda c: c.update(correct=chr(ord("A") + wrong)))
    edited(lambda c: c["options"].__setitem__(right, key_value * (1 + 1e-6)))
    assert "too close" in edited(lambda c: c["options"].__setitem__(wrong, key_value * (1 + 1e-9) or 1e-12))
