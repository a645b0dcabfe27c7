"""The command line, as a student, a TA and a grader use it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import needs
from exgen.cli import cli
from exgen.topics import TOPIC_NAMES

SEED_003 = "2.09,-0.98,1.48,0.09; 0.05,-0.14,-1.08,2.12; -0.91,1.92,0,-1.03; 1.87,0,1.53,1.49"


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_every_command_is_documented_with_an_example():
    for name, command in cli.commands.items():
        result = run(name, "--help")
        assert result.exit_code == 0, name
        assert "Example" in result.output and f"exgen {name}" in result.output, name
    assert "Example" in run("--help").output


def test_make_prints_ten_distinct_questions_and_the_seed():
    result = run("make", "--topic", "quantization", "--n", "10", "--seed", "5")
    assert result.exit_code == 0
    problems = result.stdout.split("## Problem ")[1:]
    assert len(problems) == 10 and len(set(p.split("\n", 1)[1] for p in problems)) == 10
    assert "--seed 5" in result.stdout  # the sheet says how to regenerate it


def test_make_without_a_seed_picks_one_and_says_so():
    result = run("make", "--topic", "quantization", "--n", "1")
    assert result.exit_code == 0 and "regenerate with" in result.stderr


def test_same_seed_same_bytes_in_both_formats():
    for fmt in ("md", "tex"):
        args = ("make", "--topic", "quantization", "--n", "5", "--seed", "11", "--format", fmt, "--solutions")
        assert run(*args).stdout == run(*args).stdout


def test_make_out_writes_worksheet_solutions_and_key(tmp_path):
    result = run("make", "--topic", "quantization", "--n", "3", "--seed", "2", "--out", str(tmp_path))
    assert result.exit_code == 0
    assert {p.name for p in tmp_path.iterdir()} >= {"worksheet.md", "solutions.md", "key.json"}
    key = json.loads((tmp_path / "key.json").read_text())
    assert key["format"] == "exgen-key/1" and len(key["problems"]) == 3
    assert key["exgen_version"] and key["meta"]["seed"] == 2
    assert "### Solution" not in (tmp_path / "worksheet.md").read_text()
    assert "### Solution" in (tmp_path / "solutions.md").read_text()


def test_solve_reproduces_the_seed_003_worked_example():
    result = run("solve", "quantization", "--variant", "affine", "--given", "bits=2", "--given", "signed=signed",
                 "--given", "metric=frobenius", "--given", f"X={SEED_003}", "--json")
    assert result.exit_code == 0
    parts = {p["id"]: p["answer"]["value"] for p in json.loads(result.stdout)["parts"]}
    assert round(parts["scale"], 2) == 1.07 and parts["zero_point"] == -1
    assert parts["q"] == [[1, -2, 0, -1], [-1, -1, -2, 1], [-2, 1, -1, -2], [1, -1, 0, 0]]


def test_solve_prints_a_worked_solution_in_markdown():
    result = run("solve", "quantization", "--variant", "affine", "--given", "bits=2", "--given", "signed=signed",
                 "--given", "metric=frobenius", "--given", f"X={SEED_003}")
    assert result.exit_code == 0 and "Zero point" in result.stdout and "1.067" in result.stdout


def test_solve_reads_givens_from_a_yaml_file(tmp_path):
    file = tmp_path / "slide.yaml"
    file.write_text("X: [[2.09, -0.98], [0.05, 2.12]]\nbits: 2\nsigned: unsigned\nmetric: mse\n")
    assert run("solve", "quantization", "--variant", "affine", "--givens", str(file)).exit_code == 0


@pytest.mark.parametrize("args,message", [
    (("make", "--topic", "nope"), "nope"),
    (("make", "--topic", "quantization", "--variant", "nope"), "has no variant 'nope'"),
    (("solve", "quantization", "--variant", "affine", "--given", "bits=2"), "missing given"),
    (("solve", "quantization", "--variant", "affine", "--given", "X=1,a;2,3", "--given", "bits=2",
      "--given", "signed=signed", "--given", "metric=mse"), "not a number"),
    (("solve", "quantization", "--variant", "affine", "--given", "colour=red"), "unknown given"),
])
def test_user_errors_are_one_clear_line_not_a_traceback(args, message):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_topics_lists_variants_and_their_givens():
    result = run("topics")
    assert "quantization" in result.stdout and "--variant affine" in result.stdout and "bits" in result.stdout


@pytest.mark.parametrize("topic", TOPIC_NAMES)
def test_make_imports_neither_torch_nor_sympy_nor_pint(topic):
    """Start-up (issue 12): generating keys needs none of them — expression keys are compared as monomials,
    units are converted with exact scales."""
    code = ("import sys; from exgen.cli import cli; from click.testing import CliRunner; "
            f"CliRunner().invoke(cli, ['make', '--topic', '{topic}', '--n', '3', '--seed', '1']); "
            "print(sorted(m for m in ('torch', 'sympy', 'pint') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.strip().replace("'", '"')) == []


def test_help_imports_no_topic_at_all():
    code = ("import sys; from exgen.cli import cli; from click.testing import CliRunner; "
            "CliRunner().invoke(cli, ['--help']); print(sorted(m for m in sys.modules if m.startswith('exgen.topics.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['exgen.topics.base']"


@needs("torch")
def test_verify_agrees_on_a_key_and_fails_on_a_tampered_one(tmp_path):
    assert run("make", "--topic", "quantization", "--n", "8", "--seed", "3", "--out", str(tmp_path)).exit_code == 0
    result = run("verify", str(tmp_path / "key.json"))
    assert result.exit_code == 0 and "agree" in result.stdout
    key = json.loads((tmp_path / "key.json").read_text())
    first = key["problems"][0]["parts"][0]["answer"]
    first["value"] = 2 * first["value"] + 1 if not isinstance(first["value"], list) else [[99]]  # far outside
    (tmp_path / "bad.json").write_text(json.dumps(key))
    result = CliRunner().invoke(cli, ["verify", str(tmp_path / "bad.json")])
    assert result.exit_code == 1 and " NO" in result.stdout


@needs("torch")
def test_verify_catches_a_key_one_unit_off_in_the_last_asked_place(tmp_path):
    """The grader accepts one unit off; a key must be exact to the verifier's own tight tolerance."""
    assert run("make", "--topic", "quantization", "--n", "3", "--seed", "7", "--difficulty", "hard",
               "--out", str(tmp_path)).exit_code == 0
    key = json.loads((tmp_path / "key.json").read_text())
    parts = {p["id"]: p["answer"] for p in key["problems"][0]["parts"]}
    for name, edit in (("error", 1e-4), ("scale", 1e-4)):  # 0.0413175 → 0.0414175, 0.5875 → 0.5876
        parts[name]["value"] = round(parts[name]["value"] + edit, 12)
    parts["reconstruction"]["value"][0][0] += 1e-3  # 4.1125 → 4.1135
    (tmp_path / "key.json").write_text(json.dumps(key))
    result = CliRunner().invoke(cli, ["verify", str(tmp_path / "key.json")])
    assert result.exit_code == 1 and "10 of 13 parts agree" in result.stdout
    assert "an edited key, or another version" in result.stderr


def test_verify_rejects_a_file_that_is_not_a_key(tmp_path):
    (tmp_path / "x.json").write_text("{}")
    result = CliRunner().invoke(cli, ["verify", str(tmp_path / "x.json")])
    assert result.exit_code == 2 and "not an exgen key" in result.output


def test_a_sheet_never_repeats_a_question_even_from_a_small_variant():
    result = run("make", "--topic", "quantization", "--variant", "storage", "--n", "10", "--seed", "3")
    problems = result.stdout.split("## Problem ")[1:]
    assert len({p.split("\n", 1)[1] for p in problems}) == 10


def test_a_200_problem_sheet_of_an_easy_variant_repeats_nothing():
    """chinchilla optimum easy used to run out of instances (about 60); issue 9 widened it. The note for a
    variant that does run out needs a synthetic topic (tests/synthetic.py on main)."""
    result = run("make", "--topic", "chinchilla", "--variant", "optimum", "--n", "200", "--seed", "1")
    assert result.exit_code == 0 and "repeat an earlier one" not in result.stderr
    problems = result.stdout.split("## Problem ")[1:]
    assert len({p.split("\n", 1)[1].split("### Solution")[0] for p in problems}) == 200


def _closed_stdout(*args, cwd=None):
    """`exgen ARGS` whose reader has already gone (`… | head -1` after its line): (exit status, stderr)."""
    import os
    from pathlib import Path

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen([sys.executable, "-m", "exgen", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=cwd)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    return proc.wait(), err


def test_a_reader_closing_the_pipe_early_ends_a_command_quietly():
    """A review found `exgen verify key.json | head -1` said "Error: Broken pipe" and exited 2."""
    status, err = _closed_stdout("topics")
    assert status == 141 and err == ""  # what a shell reports for `yes | head -1`; nothing said


def test_a_closed_pipe_never_costs_the_gradebook(tmp_path):
    assert run("make", "--topic", "compute", "--n", "2", "--seed", "1", "--out", str(tmp_path / "s")).exit_code == 0
    sheet = (tmp_path / "s" / "answers.yaml").read_text().replace('student: ""', "student: ann")
    (tmp_path / "ann.yaml").write_text(sheet)
    status, err = _closed_stdout("grade", tmp_path / "s" / "key.json", tmp_path / "ann.yaml", "--out",
                                 tmp_path / "g.csv", "--feedback", tmp_path / "fb")
    assert status == 141 and "Error" not in err
    assert (tmp_path / "g.csv").read_text().count("\n") == 2 and (tmp_path / "fb" / "ann.md").exists()


def test_practice_starts_without_the_development_server_banner(tmp_path, monkeypatch):
    """A review found Flask's "WARNING: This is a development server" on a student's screen: exgen's server is
    local by design (127.0.0.1, one student), so the warning only misled."""
    import socket

    from werkzeug.serving import BaseWSGIServer

    started = []
    monkeypatch.setattr(BaseWSGIServer, "serve_forever", lambda server, *_, **__: (started.append(server.port),
                                                                                  server.server_close()))
    monkeypatch.setattr(BaseWSGIServer, "log_startup", lambda server: started.append("banner"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = CliRunner().invoke(cli, ["practice", "--no-browser", "--port", str(port), "--data",
                                      str(tmp_path / "p.sqlite")])
    assert result.exit_code == 0, result.output
    assert started == [port]  # served, and no start-up banner logged
    assert "Serving Flask app" not in result.output and "development server" not in result.output
    assert f"exgen practice on http://127.0.0.1:{port}/" in result.output
