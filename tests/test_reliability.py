"""What exgen promises under bad input and faults (README, "What exgen promises"), one test per promise.

No input makes exgen print a traceback, hang or exit with anything but 0, 1 or 2; no output lands on an
input; a folder that holds a sheet is replaced whole or not at all; a kill -9 or a full disk leaves the
previous outputs; student text never becomes Markdown, HTML or LaTeX; re-running gives the same bytes.
benchmarks/reliability.py runs a bigger battery of the same kinds.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import IN_CI
from exgen.cli import cli

ROOT = Path(__file__).resolve().parent.parent
HOSTILE_NAMES = ['"](javascript:alert(1)) [click', "<img src=x onerror=alert(1)>", "**bold** `code` $x$ | a"]


def run(*args: str):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert "Traceback" not in result.output and result.exit_code in (0, 1, 2), result.output
    assert "internal error" not in result.output, result.output  # the catch-all is a last resort, not a path
    return result


def exgen(*args, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **kwargs.pop("env", {})}
    return subprocess.run([sys.executable, "-m", "exgen", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, **kwargs)


def one_line_error(result, *fragments: str) -> None:
    """Exit status 2, no traceback, and the reason on one line."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


@pytest.fixture(scope="module")
def sheet(tmp_path_factory):
    out = tmp_path_factory.mktemp("sheet") / "s"
    assert run("make", "--topic", "quantization", "--variant", "affine", "--n", "2", "--seed", "3",
               "--out", out).exit_code == 0
    return out


def key_doc(sheet: Path) -> dict:
    return json.loads((sheet / "key.json").read_text())


def write_key(tmp_path: Path, doc) -> Path:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


def filled(tmp_path: Path, sheet: Path, student: str = "alice", name: str = "alice.yaml") -> Path:
    text = (sheet / "answers.yaml").read_text().replace('student: ""', f"student: {json.dumps(student)}")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---- the key schema ----------------------------------------------------------------------------------


def _set(doc: dict, where: str, value) -> dict:
    """doc with the field at a path like 'problems.0.parts.1.answer.sig' set (or deleted for ...)."""
    *parents, last = where.split(".")
    node = doc
    for name in parents:
        node = node[int(name)] if isinstance(node, list) else node[name]
    if value is ...:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return doc


KEY_EDITS = [
    ("problems.0.parts.0.answer.value", None, "problems[0].parts[0].answer.value: expected a finite number"),
    ("problems.0.parts.0.answer.sig", "3", 'problems[0].parts[0].answer.sig: expected an integer 1..15, got "3"'),
    ("problems.0.parts.0.answer.sig", 16, "problems[0].parts[0].answer.sig: expected an integer 1..15, got 16"),
    ("problems.0.parts.0.answer.unit", "2**2**2**30", "problems[0].parts[0].answer.unit"),
    ("problems.0.parts.0.answer.unit", "furlong_per_fortnight", "problems[0].parts[0].answer.unit"),
    ("problems.0.topic", "../../os", "problems[0].topic: expected one of quantization"),
    ("problems.0.variant", "nope", "problems[0].variant"),
    ("problems.0.difficulty", "brutal", "problems[0].difficulty"),
    ("problems.0.seed", "7", "problems[0].seed"),
    ("problems.0.givens.bits", 5, "problems[0].givens.bits"),
    ("problems.0.givens.X", [[1.0] * 200] * 200, "problems[0].givens.X: X: at most 64 entries"),
    ("problems.0.givens.X", "1,2;3", "problems[0].givens.X"),
    ("problems.0.givens.evil", 1, "problems[0].givens: expected only the givens"),
    ("problems.0.givens.bits", ..., "problems[0].givens: missing given(s): bits"),
    ("problems.0.parts", [], "problems[0].parts: expected a list of 1..200 items"),
    ("problems.0.parts.0.answer.kind", "code", "problems[0].parts[0].answer.kind"),
    ("problems", [], "problems: expected a list of 1..100000 items"),
    ("meta", [], "meta: expected an object"),
]


@pytest.mark.parametrize("where, value, message", KEY_EDITS, ids=[f"{w}={str(v)[:12]}" for w, v, _ in KEY_EDITS])
def test_a_hand_edited_key_is_refused_naming_the_field(sheet, tmp_path, where, value, message):
    key = write_key(tmp_path, _set(key_doc(sheet), where, value))
    start = time.monotonic()
    for args in (["grade", key, filled(tmp_path, sheet)], ["check", key, "1.scale", "1"], ["verify", key]):
        one_line_error(run(*args), f"{key}: {message}")
    assert time.monotonic() - start < 20


def test_a_nan_key_value_and_absurd_decimals_are_key_errors(sheet, tmp_path):
    doc = key_doc(sheet)
    part = next(i for i, p in enumerate(doc["problems"][0]["parts"]) if p["answer"]["kind"] == "number")
    text = json.dumps(_set(doc, f"problems.0.parts.{part}.answer.value", math.nan))
    assert "NaN" in text
    one_line_error(run("grade", write_key(tmp_path, text), filled(tmp_path, sheet)), "answer.value")
    doc = _set(key_doc(sheet), f"problems.0.parts.{part}.answer.sig", None)
    doc = _set(doc, f"problems.0.parts.{part}.answer.decimals", 10_000_000)
    one_line_error(run("grade", write_key(tmp_path, doc), filled(tmp_path, sheet)), "answer.decimals")


def test_a_zero_key_asked_to_significant_figures_is_a_key_error(sheet, tmp_path):
    doc = key_doc(sheet)
    part = next(i for i, p in enumerate(doc["problems"][0]["parts"]) if p["answer"]["kind"] == "number")
    _set(doc, f"problems.0.parts.{part}.answer.value", 0.0)
    _set(doc, f"problems.0.parts.{part}.answer.decimals", None)
    _set(doc, f"problems.0.parts.{part}.answer.sig", 3)
    one_line_error(run("grade", write_key(tmp_path, doc), filled(tmp_path, sheet)),
                   f"problems[0].parts[{part}].answer: a key of 0", "ask for decimals")


@pytest.mark.parametrize("students, message", [
    ({"alice": [1], "bob": [1, 2]}, "meta.students.bob: problem 1 is already 'alice''s"),
    ({"alice": [1, 1], "bob": [2]}, "meta.students.alice: problem 1 is already 'alice''s"),
    ({"alice": [1]}, "meta.students: problem 2 belongs to no student"),
    ({"alice": []}, "meta.students.alice: expected a list of 1..2 items"),
    ({"alice": [1, 3]}, "meta.students.alice: expected problem numbers 1..2"),
    ({"../x": [1, 2]}, "meta.students.../x: expected a student id"),
])
def test_an_inconsistent_roster_map_is_refused(sheet, tmp_path, students, message):
    doc = key_doc(sheet)
    doc["meta"]["students"] = students
    one_line_error(run("grade", write_key(tmp_path, doc), filled(tmp_path, sheet)), message)


def test_keys_of_every_variant_pass_their_own_schema(tmp_path):
    """What exgen writes, exgen reads: a sampled given beyond its declared bound made a key exgen grade refused."""
    from exgen.generate import generate
    from exgen.manifest import Key, read_key
    from exgen.rng import problem_seed
    from exgen.topics import TOPIC_NAMES, get

    problems = tuple(generate(t, v.name, d, problem_seed(9, i)) for t in TOPIC_NAMES for v in get(t).variants
                     for d in ("easy", "medium", "hard") for i in range(5))
    Key(problems).write(tmp_path / "key.json")
    assert [p.to_dict() for p in read_key(tmp_path / "key.json").problems] == [p.to_dict() for p in problems]


def test_a_huge_key_is_refused_by_its_size_before_reading(tmp_path):
    key = tmp_path / "key.json"
    with open(key, "wb") as f:
        f.truncate(65 * 1024 * 1024)  # sparse: nothing to read unless exgen reads it
    one_line_error(run("grade", key, key), "too large for a key")


# ---- never lose a file -------------------------------------------------------------------------------


@pytest.mark.parametrize("option, target", [("--out", "key"), ("--out", "sheet"), ("--gradescope", "key"),
                                            ("--gradescope", "sheet"), ("--out", "symlink"), ("--out", "hardlink")])
def test_an_output_never_lands_on_an_input(sheet, tmp_path, option, target):
    key = tmp_path / "key.json"
    key.write_bytes((sheet / "key.json").read_bytes())
    sub = filled(tmp_path, sheet)
    before = {p: p.read_bytes() for p in (key, sub)}
    out = {"key": key, "sheet": sub, "symlink": tmp_path / "link.csv", "hardlink": tmp_path / "hard.csv"}[target]
    if target == "symlink":
        out.symlink_to(key)
    if target == "hardlink":
        os.link(key, out)
    one_line_error(run("grade", key, sub, option, out), "refusing to write", "it is an input")
    assert {p: p.read_bytes() for p in (key, sub)} == before


def test_make_refuses_to_replace_a_sheet_unless_forced_then_replaces_the_whole_set(tmp_path):
    out = tmp_path / "sheet"
    run("make", "--topic", "quantization", "--n", "2", "--seed", "1", "--out", out)
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    one_line_error(run("make", "--topic", "compute", "--n", "1", "--seed", "2", "--out", out), "--force")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    assert run("make", "--topic", "compute", "--n", "1", "--seed", "2", "--format", "tex", "--out", out,
               "--force").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["answers.yaml", "key.json", "solutions.tex", "worksheet.tex"]
    assert json.loads((out / "key.json").read_text())["meta"]["seed"] == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_a_folder_with_other_files_is_never_replaced_and_gets_a_sheet_beside_them(tmp_path):
    out = tmp_path / "course"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert run("make", "--topic", "quantization", "--n", "1", "--seed", "1", "--out", out).exit_code == 0
    assert (out / "notes.txt").read_text() == "mine" and (out / "key.json").exists()
    one_line_error(run("make", "--topic", "quantization", "--n", "1", "--seed", "2", "--out", out, "--force"),
                   "files exgen did not write", "notes.txt")
    assert json.loads((out / "key.json").read_text())["meta"]["seed"] == 1


def test_outputs_get_the_users_permissions_not_0600(tmp_path, sheet):
    old = os.umask(0o022)
    try:
        run("make", "--topic", "quantization", "--n", "1", "--seed", "1", "--out", tmp_path / "s")
        run("grade", sheet / "key.json", filled(tmp_path, sheet), "--out", tmp_path / "g.csv")
    finally:
        os.umask(old)
    for path in [tmp_path / "g.csv", *(tmp_path / "s").iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    assert stat.S_IMODE((tmp_path / "s").stat().st_mode) == 0o755


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temporaries_of_a_dead_run_are_removed_by_the_next_run_and_a_live_runs_are_kept(sheet, tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    strays = [tmp_path / f".g.csv.exgen-{dead}-abc.tmp", tmp_path / f".s.exgen-new-{dead}-xyz"]
    live = tmp_path / f".g.csv.exgen-{alive}-abc.tmp"
    strays[0].write_text("half")
    strays[1].mkdir()
    live.write_text("in progress")
    run("grade", sheet / "key.json", filled(tmp_path, sheet), "--out", tmp_path / "g.csv")
    run("make", "--topic", "quantization", "--n", "1", "--seed", "1", "--out", tmp_path / "s")
    assert not any(p.exists() for p in strays) and live.exists()


def test_a_run_killed_between_the_two_renames_of_a_swap_gets_its_old_set_back(tmp_path):
    out = tmp_path / "s"
    run("make", "--topic", "quantization", "--n", "1", "--seed", "1", "--out", out)
    old = tmp_path / f".s.exgen-old-{_dead_pid()}-abc"
    os.replace(out, old)  # what a kill -9 after the first rename leaves
    one_line_error(run("make", "--topic", "quantization", "--n", "1", "--seed", "2", "--out", out), "--force")
    assert json.loads((out / "key.json").read_text())["meta"]["seed"] == 1 and not old.exists()


def _consistent_set(out: Path) -> int | None:
    """The seed of a complete sheet in `out` (worksheet, solutions, key and answers of one seed), or None if
    there is no folder; fails on a half-written or mixed set."""
    if not out.exists():
        return None
    assert sorted(p.name for p in out.iterdir()) == ["answers.yaml", "key.json", "solutions.md", "worksheet.md"]
    key = json.loads((out / "key.json").read_text())
    seed = key["meta"]["seed"]
    assert f"--seed {seed}`" in (out / "worksheet.md").read_text()
    assert f"sheet: {key['meta']['sheet']}" in (out / "answers.yaml").read_text()
    return seed


@pytest.mark.slow
def test_kill_9_of_make_at_random_points_leaves_the_previous_set_or_the_new_one(tmp_path):
    from exgen.files import clean_strays

    out = tmp_path / "s"
    assert exgen("make", "--topic", "quantization", "--n", "40", "--seed", "1", "--out", out).returncode == 0
    rng = random.Random(10)
    for seed in range(2, 6):
        child = subprocess.Popen([sys.executable, "-m", "exgen", "make", "--topic", "quantization", "--n", "40",
                                  "--seed", str(seed), "--out", str(out), "--force"], env={**os.environ,
                                 "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 2.5))
        child.send_signal(signal.SIGKILL)
        child.wait()
        clean_strays(tmp_path, "s")  # what the next run does first
        assert _consistent_set(out) in (seed - 1, seed)
        done = exgen("make", "--topic", "quantization", "--n", "40", "--seed", str(seed), "--out", out, "--force")
        assert done.returncode == 0, done.stderr
        assert _consistent_set(out) == seed
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.slow
def test_kill_9_of_grade_leaves_the_previous_gradebook_or_the_new_one(sheet, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for i in range(150):
        filled(subs, sheet, f"s{i:03}", f"s{i:03}.yaml")
    grades = tmp_path / "grades.csv"
    grades.write_text("previous\n")
    new = exgen("grade", sheet / "key.json", subs, "--out", tmp_path / "reference.csv")
    expected = (tmp_path / "reference.csv").read_text()
    rng = random.Random(3)
    for _ in range(3):
        child = subprocess.Popen([sys.executable, "-m", "exgen", "grade", str(sheet / "key.json"), str(subs),
                                  "--out", str(grades)], env={**os.environ, "PYTHONPATH": str(ROOT)},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 2.0))
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert grades.read_text() in ("previous\n", expected)
    assert new.returncode == 0
    assert exgen("grade", sheet / "key.json", subs, "--out", grades).returncode == 0
    assert grades.read_text() == expected
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_rerun_gives_identical_outputs(sheet, tmp_path):
    for name in ("a", "b"):
        run("make", "--topic", "quantization", "--topic", "compute", "--n", "3", "--seed", "4", "--out",
            tmp_path / name)
        run("grade", tmp_path / name / "key.json", filled(tmp_path, tmp_path / name), "--out",
            tmp_path / f"{name}.csv", "--feedback", tmp_path / f"{name}-fb")
    for name in ("worksheet.md", "solutions.md", "key.json", "answers.yaml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


# ---- faults: read-only and full file systems ---------------------------------------------------------


@pytest.fixture
def tmpfs(tmp_path):
    """A small tmpfs (64 KiB), mounted where the machine allows (root with mount); required in CI."""
    where = tmp_path / "mnt"
    where.mkdir()
    ok = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)],
                                               capture_output=True).returncode == 0
    if not ok:
        if IN_CI:
            pytest.fail("CI must be able to mount a tmpfs (run as root) for the full-disk tests")
        pytest.skip("mounting a tmpfs needs root")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_leaves_the_previous_set_whole_and_no_temporaries(tmpfs):
    out = tmpfs / "s"
    assert run("make", "--topic", "quantization", "--n", "1", "--seed", "1", "--out", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    one_line_error(run("make", "--topic", "quantization", "--n", "60", "--seed", "2", "--out", out, "--force"),
                   "No space left on device")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmpfs.iterdir()] == ["s"]


def test_a_read_only_folder_is_one_clear_line(tmpfs, sheet):
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    one_line_error(run("make", "--topic", "quantization", "--n", "1", "--out", tmpfs / "s"), "Read-only file system")
    one_line_error(run("grade", sheet / "key.json", sheet / "answers.yaml", "--out", tmpfs / "g.csv"),
                   "Read-only file system")


def test_an_output_path_that_is_a_folder_or_under_a_file_is_one_clear_line(sheet, tmp_path):
    (tmp_path / "file").write_text("x")
    sub = filled(tmp_path, sheet)
    one_line_error(run("grade", sheet / "key.json", sub, "--out", tmp_path / "file" / "g.csv"))
    one_line_error(run("make", "--topic", "quantization", "--n", "1", "--out", tmp_path / "file" / "s"))
    assert (tmp_path / "file").read_text() == "x"


# ---- inputs that are not files, or too big, or odd ---------------------------------------------------


def test_a_fifo_as_a_submission_or_key_is_refused_instead_of_blocking(sheet, tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    result = exgen("grade", sheet / "key.json", fifo, timeout=30)
    assert result.returncode == 1 and "not a regular file" in result.stdout
    result = exgen("grade", fifo, fifo, timeout=30)
    assert result.returncode == 2 and "not a regular file" in result.stderr and "Traceback" not in result.stderr
    result = exgen("solve", "quantization", "--variant", "affine", "--givens", "/dev/zero", timeout=30)
    assert result.returncode == 2 and "not a regular file" in result.stderr


def test_a_non_utf8_terminal_does_not_lose_the_run(sheet, tmp_path):
    sub = filled(tmp_path, sheet, "Zoë ✓")
    for env in ({"PYTHONIOENCODING": "ascii"}, {"LANG": "C", "LC_ALL": "C", "PYTHONIOENCODING": ""}):
        result = exgen("grade", sheet / "key.json", sub, "--out", tmp_path / "g.csv", env=env)
        assert result.returncode == 0, result.stderr
        assert "Zo" in result.stdout and "Traceback" not in result.stderr
        assert "Zoë ✓" in (tmp_path / "g.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize("text", ["1: 2\n", "[1, 2]\n", "a: &a [1]\nb: *a\n", "bits: !!python/object:os.system x\n",
                                  "X: 1,2;3,4\nbits: 2\nsigned: signed\nmetric: mse\ndecimals: -1\n", "\xff"])
def test_odd_givens_files_are_one_clear_line(tmp_path, text):
    path = tmp_path / "g.yaml"
    path.write_text(text, encoding="latin-1")
    one_line_error(run("solve", "quantization", "--variant", "affine", "--givens", path))


# ---- student text is escaped wherever it lands ---------------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_student_text_in_feedback_is_escaped(sheet, tmp_path, name):
    from exgen.grading.grade import Grader, feedback_markdown
    from exgen.manifest import read_key

    text = (sheet / "answers.yaml").read_text().replace('student: ""', f"student: {json.dumps(name)}")
    text = text.replace("1.scale:", f"1.scale: {json.dumps('3 ' + name)}", 1) + f"{json.dumps(name)}: 1\n"
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "dup.yaml").write_text(f"student: x\n{json.dumps(name)}: 1\n{json.dumps(name)}: 2\n")
    grader = Grader(read_key(sheet / "key.json"))
    rows = grader.grade_files([tmp_path / "a.yaml", tmp_path / "dup.yaml"])
    exam = key_doc(sheet)
    exam["meta"]["students"] = {"bob": [1, 2]}
    roster_rows = Grader(read_key(write_key(tmp_path, exam))).grade_files([tmp_path / "a.yaml"])
    for row in rows + roster_rows:
        markdown = feedback_markdown(row)
        body = "\n".join(line for line in markdown.splitlines() if not line.startswith(("# Feedback", "Submission:",
                                                                                        "- Your answer:")))
        unescaped = re.sub(r"\\.", "", body)  # what a Markdown renderer treats as syntax
        assert "<img" not in unescaped and "](" not in unescaped and "[click" not in unescaped, body
        assert "**bold**" not in unescaped and "$x$" not in unescaped and "`code`" not in unescaped, body
    visible = re.sub(r"\\(.)", r"\1", feedback_markdown(rows[0])).replace("&lt;", "<").replace("&gt;", ">")
    assert name in visible.replace("&amp;", "&")  # the escaped text still shows what the student wrote


def test_a_roster_id_with_an_underscore_is_escaped_in_latex(tmp_path):
    from exgen.render import tex_text

    assert tex_text("Exam: x (jo_smith, 50% & #1)") == r"Exam: x (jo\_smith, 50\% \& \#1)"
    (tmp_path / "roster.txt").write_text("jo_smith\n")
    (tmp_path / "secret").write_text("s" * 32)
    run("make", "--topic", "compute", "--n", "1", "--format", "tex", "--roster", tmp_path / "roster.txt",
        "--secret-file", tmp_path / "secret", "--out", tmp_path / "exam")
    tex = (tmp_path / "exam" / "students" / "jo_smith" / "worksheet.tex").read_text()
    assert r"(jo\_smith)" in tex and "(jo_smith)" not in tex


def test_a_templates_folder_is_text_not_a_program(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "compute.j2").write_text("<< ''.__class__.__mro__[1].__subclasses__() >>\n")
    one_line_error(run("make", "--topic", "compute", "--n", "1", "--templates", tmp_path), "SecurityError")


def test_the_sandbox_renders_the_built_in_templates_byte_for_byte(tmp_path):
    from exgen.generate import sheet
    from exgen.render import Renderer
    from exgen.topics import TOPIC_NAMES

    problems = sheet(list(TOPIC_NAMES), None, "medium", 5, 2)
    for fmt in ("md", "tex"):
        plain = Renderer(fmt).document(problems, title="t", solutions=True)
        assert Renderer(fmt, tmp_path).document(problems, title="t", solutions=True) == plain


# ---- a dry run for an edited key ----------------------------------------------------------------------


def test_compare_prints_whose_points_change_and_writes_nothing(sheet, tmp_path):
    from exgen.grading.grade import expected_text
    from exgen.manifest import read_key

    key = read_key(sheet / "key.json")
    first = key.problems[0].solution.parts[0]
    sub = filled(tmp_path, sheet)
    sub.write_text(sub.read_text().replace(f"1.{first.id}:", f"1.{first.id}: {expected_text(first.answer)}", 1))
    other = filled(tmp_path, sheet, "bob", "bob.yaml")
    doc = key_doc(sheet)
    doc["problems"][0]["parts"][0]["answer"]["value"] = first.answer.value * 3 + 1
    edited = write_key(tmp_path, doc)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run("grade", edited, sub, other, "--compare", sheet / "key.json")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [f"alice\t1 / {result.stdout.split('/ ')[1].split(' ')[0]} -> 0 / "
                                          f"{result.stdout.split('/ ')[1].split(' ')[0]} (-1)\t{sub}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    one_line_error(run("grade", edited, sub, "--compare", sheet / "key.json", "--out", tmp_path / "g.csv"))


# ---- answers as students type them --------------------------------------------------------------------


@pytest.mark.parametrize("typed, unit, key, read", [
    ("128 Gb", "GB", 16.0, 16.0), ("8 Gb/s", "GB/s", 1.0, 1.0), ("1 Gib", "GiB", 0.125, 0.125),
    ("3.76×", "", 3.76, 3.76), ("3.76x", "", 3.76, 3.76), ("３．７６", "", 3.76, 3.76),
    ("3．76 ＊ 10^2", "", 376.0, 376.0),
])
def test_units_and_typography_as_students_type_them(typed, unit, key, read):
    from exgen.grading.parse import parse_answer
    from exgen.problem import Answer

    assert parse_answer(Answer("number", key, unit=unit, sig=3), typed).value == pytest.approx(read)


# ---- property tests: no traceback, exit 0/1/2, bounded time --------------------------------------------

PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                    max_size=4), max_leaves=12)


@PROPERTY
@given(givens=st.dictionaries(st.sampled_from(["X", "bits", "signed", "metric", "decimals", "other"]), JSONISH,
                              max_size=6))
def test_any_givens_file_is_solved_or_refused_in_one_line(tmp_path_factory, givens):
    path = tmp_path_factory.mktemp("g") / "g.json"
    path.write_text(json.dumps(givens))
    start = time.monotonic()
    result = run("solve", "quantization", "--variant", "affine", "--givens", path)
    assert result.exit_code in (0, 2) and time.monotonic() - start < 10


@PROPERTY
@given(data=st.data())
def test_any_edit_of_a_key_grades_or_is_refused_in_one_line(sheet, tmp_path_factory, data):
    doc = key_doc(sheet)
    paths = ["problems.0.topic", "problems.0.variant", "problems.0.seed", "problems.0.givens.bits",
             "problems.0.givens.X", "problems.0.parts.0.answer.value", "problems.0.parts.0.answer.sig",
             "problems.0.parts.0.answer.decimals", "problems.0.parts.0.answer.unit", "problems.0.parts.0.id",
             "problems.1.parts.2.answer.kind", "meta.students", "meta.sheet", "problems.1"]
    for where in data.draw(st.lists(st.sampled_from(paths), min_size=1, max_size=3)):
        try:
            _set(doc, where, data.draw(JSONISH))
        except (KeyError, IndexError, TypeError, ValueError):
            pass  # an earlier edit replaced a parent of this field (e.g. problems.1 by a number): nothing to edit
    folder = tmp_path_factory.mktemp("k")
    key = write_key(folder, json.dumps(doc, allow_nan=True))
    start = time.monotonic()
    for args in (["grade", key, sheet / "answers.yaml"], ["check", key, "1.scale", "1"]):
        assert run(*args).exit_code in (0, 1, 2)
    assert time.monotonic() - start < 20


@PROPERTY
@given(text=st.text(max_size=300), answers=st.lists(st.text(max_size=40), max_size=6))
def test_any_answer_sheet_grades_or_gets_an_error_row(sheet, tmp_path_factory, text, answers):
    folder = tmp_path_factory.mktemp("a")
    body = "student: pat\n" + "".join(f"1.scale: {json.dumps(a)}\n2.{i}x: {a!r}\n" for i, a in enumerate(answers))
    (folder / "a.yaml").write_text(body + text, encoding="utf-8", errors="surrogatepass") \
        if "\ud800" not in text else (folder / "a.yaml").write_bytes(b"\xff")
    result = run("grade", sheet / "key.json", folder / "a.yaml", "--feedback", folder / "fb")
    assert result.exit_code in (0, 1)


# ---- every given is bounded, and solving at the bounds stays finite, fast and refused just outside (issue 10) --


def _corners(given) -> list:
    """The extreme values of one given: each end of a number's range; a matrix of all-low, all-high and
    alternating entries at its largest square size; a vector of either end at length 1 and at its maximum."""
    if given.kind in ("number", "integer"):
        return [given.low, given.high]
    if given.kind == "matrix":
        side = max(1, int(math.isqrt(given.max_size)))
        return [[[v] * side for _ in range(side)] for v in (given.low, given.high)] + \
            [[[[given.low, given.high][(i + j) % 2] for j in range(side)] for i in range(side)]]
    if given.kind == "vector":
        return [[v] * n for v in (given.low, given.high) for n in (1, given.max_size)]
    return list(given.choices) or ([given.default] if given.default is not None else [])


def _outside(given) -> list:
    """Values just beyond a number's bounds (a default, an optional twist's "0: not asked", is valid as it stands)."""
    if given.kind not in ("number", "integer") or given.choices:
        return []
    step = (lambda b: 1) if given.kind == "integer" else (lambda b: abs(b) * 1e-3 or 1e-3)
    return [v for v in (given.low - step(given.low), given.high + step(given.high)) if v != given.default]


def _finite(value) -> bool:
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


def _bound_cases():
    from exgen.generate import generate
    from exgen.topics import TOPIC_NAMES, get
    from exgen.topics.base import DIFFICULTIES

    for name in TOPIC_NAMES:
        for variant in get(name).variants:
            for difficulty in DIFFICULTIES:
                yield pytest.param(name, variant, generate(name, variant.name, difficulty, 0).givens,
                                   id=f"{name}-{variant.name}-{difficulty}")


def test_every_given_declares_its_bounds():
    """Every number/integer given has low and high; every matrix/vector/text given has max_size."""
    from exgen.topics import TOPIC_NAMES, get

    unbounded = []
    for name in TOPIC_NAMES:
        for variant in get(name).variants:
            for g in variant.givens:
                if g.kind in ("number", "integer") and not g.choices and (g.low is None or g.high is None):
                    unbounded.append(f"{name}.{variant.name}.{g.name} (low/high)")
                if g.kind in ("matrix", "vector", "text") and g.max_size is None:
                    unbounded.append(f"{name}.{variant.name}.{g.name} (max_size)")
    assert not unbounded, "givens without bounds: " + ", ".join(unbounded)


@pytest.mark.parametrize("name,variant,base", list(_bound_cases()))
def test_solving_at_the_corners_of_the_bounds_is_finite_fast_or_refused(name, variant, base):
    """From a generated instance at each difficulty: each given at each of its corners, then every number
    given at its low and at its high end together, gives finite answers in under a second or InvalidGivens —
    never an overflow, a hang or an exception of another kind; a value just outside a bound is refused."""
    from exgen.generate import solve_givens
    from exgen.givens import coerce
    from exgen.topics.base import InvalidGivens

    numbers = [g for g in variant.givens if g.kind in ("number", "integer") and not g.choices]
    cases = [{**base, g.name: corner} for g in variant.givens for corner in _corners(g)]
    cases += [{**base, **{g.name: getattr(g, end) for g in numbers}} for end in ("low", "high")]
    for givens in cases:
        start = time.monotonic()
        try:
            problem = solve_givens(name, variant.name, givens)
        except InvalidGivens:
            continue
        finally:
            assert time.monotonic() - start < 1.0, givens
        for part in problem.solution.parts:
            assert _finite(part.answer.value), (part.id, givens)
    for g in variant.givens:
        for value in _outside(g):
            with pytest.raises(InvalidGivens, match="outside"):
                coerce(g, value)
            with pytest.raises(InvalidGivens, match=f"^{g.name}: .* is outside"):  # the solver says what coerce says
                solve_givens(name, variant.name, {**base, g.name: value})
        if g.kind == "choice":
            with pytest.raises(InvalidGivens, match=f"^{g.name}: .* is not one of"):
                solve_givens(name, variant.name, {**base, g.name: "none of these"})


def test_exgen_topics_prints_each_givens_bounds():
    from exgen.cli import _bounds_text
    from exgen.topics import TOPIC_NAMES, get
    from exgen.topics.base import Given

    assert _bounds_text(Given("n", "count", kind="integer", low=1, high=1e6)) == "in [1, 1e+06]"
    assert _bounds_text(Given("X", "m", kind="matrix", low=-100, high=100, max_size=64)) == \
        "entries in [-100, 100], at most 64 entries"
    assert _bounds_text(Given("p", "positive", low=1e-3)) == "in [0.001, inf]"
    output = run("topics").output
    for g in (g for t in TOPIC_NAMES for v in get(t).variants for g in v.givens if _bounds_text(g)):
        assert f"{_bounds_text(g)}" in output, g.name


# ---- the README's commands are what CI runs ---------------------------------------------------------


def test_ci_runs_the_readmes_two_commands_in_a_virtual_environment():
    script = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    env = {**os.environ, "PATH": os.environ["PATH"]}
    extract = script[script.index("readme_command() {"):script.index("\n}\n") + 3]
    commands = {}
    for name in ("make", "test"):
        out = subprocess.run(["bash", "-c", extract + f"readme_command {name}"], cwd=ROOT, capture_output=True,
                             text=True, env=env, check=True).stdout.strip()
        commands[name] = out
        assert out and out in readme and 'bash -euo pipefail -c "$command"' in script
    assert commands["make"].startswith("python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/exgen make")
    assert "python3-venv" in commands["test"] and "python3 -m venv .venv" in commands["test"]
    assert ".venv/bin/pip install torch==2.13.0 && .venv/bin/pip install -e" in commands["test"]
    assert commands["test"].endswith(".venv/bin/python -m pytest")
    assert " pip install" not in commands["test"].replace(".venv/bin/pip install", "")
