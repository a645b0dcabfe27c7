"""Grading, as a grader uses it: `exgen make` → filled answer sheets → `exgen grade` → gradebook and feedback;
`exgen check` for a student; exams with a roster. And, for every topic in the registry: the key scores full
marks, each named mistake scores zero with its feedback, a value just outside the tolerance scores zero."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import variant_cases
from exgen.cli import cli
from exgen.generate import generate
from exgen.grading.grade import Grader, expected_text, grade_part, gradebook_csv, mistakes_of, safe_cell
from exgen.grading.sheet import blank_sheet, parse_sheet
from exgen.grading.sheet import describe as blank_sheet_comment
from exgen.manifest import Key
from exgen.problem import Answer, Part
from exgen.topics import get


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def fill(sheet: str, answers: dict[str, str], student: str = "") -> str:
    """A blank sheet with answers written after the colons (as a student does in an editor)."""
    out = []
    for line in sheet.splitlines():
        m = re.match(r"^(\S+):(\s*)(#.*)?$", line)
        if m and m.group(1) in answers:
            line = f"{m.group(1)}: {answers[m.group(1)]}  {m.group(3) or ''}"
        elif student and line.startswith("student:"):
            line = f"student: {student}"
        out.append(line)
    return "\n".join(out) + "\n"


def key_answers(key_path: Path) -> dict[str, str]:
    key = json.loads(key_path.read_text())
    out = {}
    for i, problem in enumerate(key["problems"], 1):
        for part in problem["parts"]:
            out[f"{i}.{part['id']}"] = expected_text(Answer.from_dict(part["answer"]))
    return out


@pytest.fixture
def sheet(tmp_path):
    out = tmp_path / "sheet"
    result = run("make", "--topic", "quantization", "--n", "4", "--seed", "5", "--out", out)
    assert result.exit_code == 0, result.output
    return out


def test_make_writes_a_blank_answer_sheet_with_every_part_and_its_unit(sheet):
    text = (sheet / "answers.yaml").read_text()
    blank = parse_sheet(text.replace('student: ""', "student: x"))
    assert set(blank.answers) == set(key_answers(sheet / "key.json"))
    assert all(v == "" for v in blank.answers.values())
    key = json.loads((sheet / "key.json").read_text())
    assert blank.sheet == key["meta"]["sheet"]
    for i, problem in enumerate(key["problems"], 1):
        for part in problem["parts"]:
            line = next(l for l in text.splitlines() if l.startswith(f"{i}.{part['id']}:"))
            if part["answer"]["unit"]:
                assert f"in {part['answer']['unit']}" in line


def test_from_make_to_gradebook_with_feedback(sheet, tmp_path):
    blank = (sheet / "answers.yaml").read_text()
    answers = key_answers(sheet / "key.json")
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice.yaml").write_text(fill(blank, answers, "alice"))
    first = next(iter(answers))
    (subs / "bob.yaml").write_text(fill(blank, {first: answers[first]}, "bob"))
    result = run("grade", sheet / "key.json", subs, "--out", tmp_path / "grades.csv", "--feedback", tmp_path / "fb")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "grades.csv").read_text())))
    by = {r["student"]: r for r in rows}
    n = len(answers)
    assert by["alice"]["total"] == str(n) and by["alice"]["max"] == str(n) and by["alice"]["status"] == "graded"
    assert by["bob"]["total"] == "1" and by["bob"][first] == "1"
    feedback = (tmp_path / "fb" / "bob.md").read_text()
    assert "Score: 1 /" in feedback and "No answer." in feedback and "tolerance" in feedback


def test_grading_twice_gives_identical_bytes(sheet, tmp_path):
    blank = (sheet / "answers.yaml").read_text()
    for name in ("c", "a", "b"):
        (tmp_path / f"{name}.yaml").write_text(fill(blank, {"1.scale": "1.0", "2.q": "1 2; 3 4"}, name))
    outputs = []
    for attempt in range(2):
        out, fb = tmp_path / f"g{attempt}.csv", tmp_path / f"fb{attempt}"
        result = run("grade", sheet / "key.json", *sorted(tmp_path.glob("*.yaml")), "--out", out, "--feedback", fb)
        assert result.exit_code == 0
        outputs.append((out.read_bytes(), {p.name: p.read_bytes() for p in fb.iterdir()}, result.stdout))
    assert outputs[0] == outputs[1]


def test_broken_submissions_get_error_rows_and_the_rest_are_graded(sheet, tmp_path):
    blank = (sheet / "answers.yaml").read_text()
    answers = key_answers(sheet / "key.json")
    files = {
        "good.yaml": fill(blank, answers, "good").encode(),
        "empty.yaml": b"",
        "binary.yaml": bytes(range(256)) * 4,
        "huge.yaml": b"student: huge\n1.scale: " + b"1" * 2_000_000 + b"\n",
        "malformed.yaml": b"student: m\n1.q: [[1, 2\n",
        "noname.yaml": fill(blank, answers).encode(),
        "crlf.yaml": b"\xef\xbb\xbf" + fill(blank, answers, "crlf").replace("\n", "\r\n").encode(),
        "dup1.yaml": fill(blank, answers, "twin").encode(),
        "dup2.yaml": fill(blank, {}, "twin").encode(),
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    result = run("grade", sheet / "key.json", *[tmp_path / n for n in files], tmp_path / "missing.yaml",
                 "--out", tmp_path / "grades.csv")
    assert result.exit_code == 1  # completed with errors
    rows = {Path(r["submission"]).name: r for r in csv.DictReader(io.StringIO((tmp_path / "grades.csv").read_text()))}
    assert len(rows) == len(files) + 1
    assert rows["good.yaml"]["status"] == rows["crlf.yaml"]["status"] == "graded"
    assert rows["good.yaml"]["total"] == rows["crlf.yaml"]["total"] == str(len(answers))
    for name, message in [("empty.yaml", "empty"), ("binary.yaml", "binary"), ("huge.yaml", "larger than"),
                          ("malformed.yaml", "line 2"), ("noname.yaml", "student"), ("dup1.yaml", "also submitted"),
                          ("dup2.yaml", "also submitted"), ("missing.yaml", "cannot read")]:
        assert rows[name]["status"] == "error" and message in rows[name]["error"], (name, rows[name]["error"])


def test_gradebook_cells_are_safe_in_a_spreadsheet(sheet, tmp_path):
    blank = (sheet / "answers.yaml").read_text()
    (tmp_path / "evil.yaml").write_text(fill(blank, {}, "\"=HYPERLINK(\\\"http://x\\\")\""))
    result = run("grade", sheet / "key.json", tmp_path / "evil.yaml", "--out", tmp_path / "g.csv")
    assert result.exit_code == 0
    row = next(csv.DictReader(io.StringIO((tmp_path / "g.csv").read_text())))
    assert row["student"].startswith("'=")
    for text in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]:
        assert safe_cell(text).startswith("'")
    assert safe_cell("alice") == "alice"


def test_a_submission_for_another_key_is_refused(sheet, tmp_path):
    text = fill((sheet / "answers.yaml").read_text(), {}, "alice")
    text = re.sub(r"sheet: \w+", "sheet: 000000000000", text)
    (tmp_path / "a.yaml").write_text(text)
    result = run("grade", sheet / "key.json", tmp_path / "a.yaml", "--out", tmp_path / "g.csv")
    assert result.exit_code == 1 and "another key" in result.output


def test_gradescope_results_json(sheet, tmp_path):
    answers = key_answers(sheet / "key.json")
    (tmp_path / "a.yaml").write_text(fill((sheet / "answers.yaml").read_text(), answers, "alice"))
    result = run("grade", sheet / "key.json", tmp_path / "a.yaml", "--gradescope", tmp_path / "results.json")
    assert result.exit_code == 0
    doc = json.loads((tmp_path / "results.json").read_text())
    problems = {q.split(".")[0] for q in answers}
    assert doc["score"] == len(answers) and len(doc["tests"]) == len(problems)  # one test per problem
    for test in doc["tests"]:  # worth its parts' points (1 each on a `make` key)
        parts = [q for q in answers if q.split(".")[0] == test["number"]]
        assert test["status"] == "passed" and test["max_score"] == test["score"] == len(parts)
        assert all(q in test["output"] for q in parts)
    two = run("grade", sheet / "key.json", tmp_path / "a.yaml", tmp_path / "a.yaml", "--gradescope", tmp_path / "r")
    assert two.exit_code == 2


def test_check_one_answer(sheet):
    answers = key_answers(sheet / "key.json")
    part = next(iter(answers))
    good = run("check", sheet / "key.json", part, answers[part])
    assert good.exit_code == 0 and "correct" in good.output
    bad = run("check", sheet / "key.json", part, "__import__('os')")
    assert bad.exit_code == 1 and "invalid" in bad.output and "expected" not in bad.output
    revealed = run("check", sheet / "key.json", part, "12345", "--reveal")
    assert revealed.exit_code == 1 and "expected:" in revealed.output
    assert run("check", sheet / "key.json", "99.nope", "1").exit_code == 2


def test_check_names_a_known_mistake():
    """Seed 003's storage-style mistake: GiB for GB (quantization storage variant)."""
    problem = generate("quantization", "storage", "easy", 1)
    grader = Grader(Key((problem,)))
    mistakes = grader.mistakes(1)["after"]
    wrong = next(w for m, w in mistakes if m.name == "gib_for_gb")
    result = grade_part("1.after", problem.solution.part("after"), repr(wrong), mistakes)
    assert result.verdict == "wrong" and result.mistake == "gib_for_gb" and "2^30" in result.message


# ---- exams -----------------------------------------------------------------------------------------

def test_exam_with_roster_and_secret(tmp_path):
    (tmp_path / "roster.txt").write_text("student\nalice\nbob,Bob B.\n# a comment\ncarol@uni.edu\n")
    (tmp_path / "course.secret").write_text("correct horse battery staple 42\n")
    out = tmp_path / "exam"
    result = run("make", "--topic", "quantization", "--n", "2", "--roster", tmp_path / "roster.txt",
                 "--secret-file", tmp_path / "course.secret", "--out", out)
    assert result.exit_code == 0, result.output
    key = json.loads((out / "key.json").read_text())
    assert key["meta"]["students"] == {"alice": [1, 2], "bob": [3, 4], "carol@uni.edu": [5, 6]}
    assert "secret" not in json.dumps(key["meta"]) or "--secret-file …" in key["meta"]["command"]
    problems = key["problems"]
    assert problems[0]["givens"] != problems[2]["givens"]  # students get their own instances
    for sid in ("alice", "bob"):
        worksheet = (out / "students" / sid / "worksheet.md").read_text()
        for p in problems:
            assert str(p["seed"]) not in worksheet  # the derived seeds are never printed
    # bob fills in his own sheet with his own answers
    bob_answers = {}
    for local, number in enumerate(key["meta"]["students"]["bob"], 1):
        for part in problems[number - 1]["parts"]:
            bob_answers[f"{local}.{part['id']}"] = expected_text(Answer.from_dict(part["answer"]))
    (tmp_path / "bob.yaml").write_text(fill((out / "students" / "bob" / "answers.yaml").read_text(), bob_answers))
    (tmp_path / "mallory.yaml").write_text(fill((out / "students" / "bob" / "answers.yaml").read_text(), bob_answers)
                                           .replace("student: bob", "student: mallory"))
    graded = run("grade", out / "key.json", tmp_path / "bob.yaml", tmp_path / "mallory.yaml", "--out", tmp_path / "g.csv")
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO((tmp_path / "g.csv").read_text()))}
    assert rows["bob"]["total"] == rows["bob"]["max"] == str(len(bob_answers))
    assert rows["mallory"]["status"] == "error" and "roster" in rows["mallory"]["error"]
    assert graded.exit_code == 1
    # the same roster and secret give the same exams; another secret gives others
    again = tmp_path / "again"
    run("make", "--topic", "quantization", "--n", "2", "--roster", tmp_path / "roster.txt",
        "--secret-file", tmp_path / "course.secret", "--out", again)
    assert (again / "key.json").read_bytes() == (out / "key.json").read_bytes()
    (tmp_path / "other.secret").write_text("another secret, also long enough\n")
    run("make", "--topic", "quantization", "--n", "2", "--roster", tmp_path / "roster.txt",
        "--secret-file", tmp_path / "other.secret", "--out", tmp_path / "other")
    assert json.loads((tmp_path / "other" / "key.json").read_text())["problems"] != problems


@pytest.mark.parametrize("roster,secret,message", [
    ("alice\nalice\n", "x" * 32, "listed twice"),
    ("alice\n../etc\n", "x" * 32, "not a usable student id"),
    ("alice\n", "short", "too short"),
    ("\n# nobody\n", "x" * 32, "no students"),
])
def test_bad_rosters_and_secrets_are_one_clear_line(tmp_path, roster, secret, message):
    (tmp_path / "r").write_text(roster)
    (tmp_path / "s").write_text(secret)
    result = run("make", "--topic", "quantization", "--roster", tmp_path / "r", "--secret-file", tmp_path / "s",
                 "--out", tmp_path / "o")
    assert result.exit_code == 2 and message in result.output


def test_roster_needs_secret_and_out_and_no_seed(tmp_path):
    (tmp_path / "r").write_text("alice\n")
    (tmp_path / "s").write_text("x" * 32)
    assert run("make", "--topic", "quantization", "--roster", tmp_path / "r").exit_code == 2
    assert run("make", "--topic", "quantization", "--roster", tmp_path / "r", "--secret-file", tmp_path / "s").exit_code == 2
    assert run("make", "--topic", "quantization", "--roster", tmp_path / "r", "--secret-file", tmp_path / "s",
               "--seed", "1", "--out", tmp_path / "o").exit_code == 2


def test_keys_without_sheet_or_students_still_grade(tmp_path):
    """Backwards compatible: a key written before answer sheets existed (meta has neither)."""
    problem = generate("quantization", "storage", "easy", 3)
    path = tmp_path / "key.json"
    Key((problem,), meta={"seed": 3}).write(path)
    sheet = blank_sheet([problem])
    answers = {f"1.{p.id}": expected_text(p.answer) for p in problem.solution.parts}
    (tmp_path / "a.yaml").write_text(fill(sheet, answers, "alice"))
    result = run("grade", path, tmp_path / "a.yaml")
    assert result.exit_code == 0 and f"{len(answers)} / {len(answers)}" in result.output


# ---- every topic in the registry -------------------------------------------------------------------

def value_text(answer: Answer, value) -> str:
    """A value as a student would type it: full precision (so matching is decided by the tolerance alone)."""
    if answer.kind == "matrix":
        return "; ".join(" ".join(repr(v) for v in row) for row in value)
    if answer.kind == "vector":
        return ", ".join(repr(v) for v in value)
    if answer.kind in ("number", "integer"):
        return repr(value)
    return str(value)


def just_outside(answer: Answer, value):
    def shifted(v):
        allowance = answer.allowance(v)
        return v + 1.5 * allowance + (0 if allowance else 1)

    if answer.kind in ("matrix", "vector"):
        rows = value if answer.kind == "matrix" else [value]
        moved = [[shifted(v) for v in row] for row in rows]
        return moved if answer.kind == "matrix" else moved[0]
    return shifted(value)


@pytest.mark.parametrize("topic,variant", variant_cases())
def test_every_topic_key_scores_full_marks_mistakes_and_near_misses_score_zero(topic, variant):
    t = get(topic)
    for difficulty in ("easy", "medium", "hard"):
        for seed in range(3):
            problem = generate(topic, variant, difficulty, seed)
            grader = Grader(Key((problem,)))
            mistakes = grader.mistakes(1)
            for part in problem.solution.parts:
                answer, q = part.answer, f"1.{part.id}"
                # the key, as printed (rounded to the asked precision), and at full precision
                for text in (expected_text(answer), value_text(answer, answer.value)):
                    result = grade_part(q, part, text, mistakes.get(part.id, ()))
                    assert result.verdict == "correct" and result.points == 1, (q, text, result.message)
                if answer.kind in ("number", "integer", "matrix", "vector"):
                    near = grade_part(q, part, value_text(answer, just_outside(answer, answer.value)),
                                      mistakes.get(part.id, ()))
                    assert near.points == 0, (q, near.message)
            for mistake in t.mistakes_for(variant):
                wrong = mistake.wrong(variant, problem.givens, problem.solution)
                if wrong is None:
                    continue
                part = problem.solution.part(mistake.part)
                result = grade_part(f"1.{part.id}", part, value_text(part.answer, wrong), mistakes[part.id])
                assert result.points == 0 and result.verdict == "wrong", (mistake.name, seed)
                # its feedback names it (or another named mistake giving the same value here)
                named = {m.name: m for m, _ in mistakes[part.id]}
                assert result.mistake in named, (mistake.name, result.message)
                assert named[result.mistake].explanation in result.message


def test_gradebook_columns_follow_the_key_order():
    problem = generate("quantization", "affine", "easy", 1)
    grader = Grader(Key((problem,)))
    from exgen.grading.sheet import Submission

    row = grader.grade(Submission("s.yaml", "alice", {}))
    header = gradebook_csv([row]).splitlines()[0].split(",")
    assert header[:7] == ["student", "submission", "version", "status", "total", "max", "problem 1"]
    assert header[7:-3] == [f"1.{p.id}" for p in problem.solution.parts]
    assert header[-3:] == ["error", "key_sha256", "exgen_version"]


def test_two_mistakes_with_the_same_wrong_value_are_both_named():
    """A review found a student who counted only the forward pass told that they counted elements, not bytes:
    both mistakes give the same number here, so the feedback names both."""
    problem = generate("parallelism", "tensor_parallel", "easy", 11)
    named = mistakes_of(problem)["allreduce_bytes"]
    (mistake, wrong), = [(m, w) for m, w in named if "forward_only" in m.name]
    assert "elements_not_bytes" in mistake.name
    result = grade_part("1.allreduce_bytes", problem.solution.part("allreduce_bytes"), str(wrong), named)
    assert result.verdict == "wrong" and "Or: Only the forward pass was counted" in result.message


def test_a_share_given_as_a_fraction_of_a_percent_key_is_told_so():
    part = Part("mfu", "MFU", Answer("number", 22.2, unit="percent", sig=3))
    result = grade_part("1.mfu", part, "0.222")
    assert result.verdict == "wrong" and "this answer is in percent" in result.message


def test_a_file_of_another_kind_in_a_submissions_folder_is_named_not_silently_skipped(tmp_path):
    """A review found carol.txt left out of the gradebook without a word."""
    from click.testing import CliRunner

    from exgen.cli import cli

    sheet = tmp_path / "sheet"
    assert CliRunner().invoke(cli, ["make", "--topic", "compute", "--n", "1", "--out", str(sheet)]).exit_code == 0
    subs = tmp_path / "subs"
    subs.mkdir()
    text = (sheet / "answers.yaml").read_text().replace('student: ""', "student: alice")
    (subs / "alice.yaml").write_text(text)
    (subs / "carol.txt").write_text(text.replace("alice", "carol"))
    result = CliRunner().invoke(cli, ["grade", str(sheet / "key.json"), str(subs)])
    assert "not graded, not .yaml/.yml/.json: carol.txt" in result.output


def test_a_student_who_submits_twice_in_another_case_is_caught(tmp_path):
    problem = generate("compute", "matmul", "easy", 1)
    grader = Grader(Key((problem,), meta={}))
    for name in ("Alice", "alice"):
        (tmp_path / f"{name}1.yaml").write_text(f"student: {name}\n")
    rows = grader.grade_files(sorted(tmp_path.iterdir()))
    assert all("also submitted" in row.error for row in rows)


def test_autodiff_labels_read_as_plain_text_where_they_are_not_rendered(tmp_path):
    """The sheet's comments, the feedback headings and `exgen check` showed raw LaTeX ($\\dot v_{3}$); the key
    keeps the LaTeX (the worksheet and HTML render it as math)."""
    sheet = tmp_path / "sheet"
    assert run("make", "--topic", "autodiff", "--variant", "forward", "--n", "1", "--seed", "3",
               "--out", sheet).exit_code == 0
    blank = (sheet / "answers.yaml").read_text()
    assert "# v\u0307_3: number" in blank and "\\" not in blank and "$" not in blank
    assert "\\dot v_{3}" in (sheet / "key.json").read_text()
    (tmp_path / "alice.yaml").write_text(fill(blank, {"1.dv3": "1"}, "alice"))
    result = run("grade", sheet / "key.json", tmp_path / "alice.yaml", "--out", tmp_path / "g.csv",
                 "--feedback", tmp_path / "fb")
    assert result.exit_code == 0, result.output
    feedback = (tmp_path / "fb" / "alice.md").read_text()
    assert "## 1.dv3: v\u0307\\_3 (wrong)" in feedback and "\\dot" not in feedback
    assert "1.dv3 (v\u0307_3):" in run("check", sheet / "key.json", "1.dv3", "1").output


@pytest.mark.parametrize("label,plain", [
    ("$\\bar v_{-1}$, contribution 1 (from $v_{3}$)", "v\u0304_-1, contribution 1 (from v_3)"),
    ("$\\partial y_{1} / \\partial x_{2}$", "\u2202y_1 / \u2202x_2"), ("FLOPs of $\\partial L / \\partial W$", "FLOPs of \u2202L / \u2202W"),
    ("$\\dot{v}_3$", "v\u0307_3"), ("scale", "scale"), ("cost in $", "cost in $"),
])
def test_plain_label(label, plain):
    from exgen.grading.sheet import plain_label

    assert plain_label(label) == plain


@pytest.fixture(scope="module")
def choice_exam(tmp_path_factory):
    """An exam with one problem (intensity/bound) asked as multiple choice, and its options."""
    out = tmp_path_factory.mktemp("mc")
    spec = out / "spec.yaml"
    spec.write_text("title: MC\nseed: 7\nsections:\n  - topic: intensity\n    variant: bound\n    count: 1\n"
                    "    answer: choice\n")
    assert run("exam", spec, "--out", out / "exam", "--no-pdf").exit_code == 0
    key = out / "exam" / "key.json"
    return key, json.loads(key.read_text())["meta"]["choices"]["1"]


def _printed(key_path: Path, part: str, letter: str) -> str:
    """The option as the exam prints it (the part's own precision and unit, as plain text)."""
    from exgen.exam.build import option_text

    from exgen.manifest import read_key

    answer = read_key(key_path).problems[0].solution.part(part).answer
    choice = json.loads(key_path.read_text())["meta"]["choices"]["1"][part]
    text = option_text(answer, choice["options"]["ABCDEF".index(letter)])
    text = re.sub(r"(?:\\ )?\\text\{([^}]*)\}", r" \1", text)
    return re.sub(r"\^\{(-?\d+)\}", r"^\1", text).replace("\\times", "×").strip()


@pytest.mark.parametrize("spelling", ["{L}", "({L})", "{l})", "{L}.", "Option {L}", "option {l}", "[{L}]"])
def test_a_multiple_choice_letter_in_the_ways_people_write_it(choice_exam, spelling):
    key, choices = choice_exam
    for part, choice in choices.items():
        for letter in "ABCDEF"[:len(choice["options"])]:
            text = spelling.format(L=letter, l=letter.lower())
            a = run("check", key, f"1.{part}", text).output.splitlines()[0]
            b = run("check", key, f"1.{part}", letter).output.splitlines()[0]
            assert a == b, (part, text)


def test_a_multiple_choice_option_written_as_printed_gets_its_letters_verdict(choice_exam):
    key, choices = choice_exam
    for part, choice in choices.items():
        for letter in "ABCDEF"[:len(choice["options"])]:
            text = _printed(key, part, letter)
            by_text = run("check", key, f"1.{part}", text).output.splitlines()
            by_letter = run("check", key, f"1.{part}", letter).output.splitlines()
            assert by_text[0] == by_letter[0] and f"Read as: option {letter}" in by_text[1], (part, text)


def test_multiple_choice_on_a_sheet_by_letter_spelling_and_option_text(choice_exam, tmp_path):
    key, choices = choice_exam
    blank = (key.parent / "A" / "answers.yaml").read_text()
    part = next(p for p, c in choices.items() if not isinstance(c["options"][0], str))
    correct = choices[part]["correct"]
    for name, text in (("ann", f"Option {correct}"), ("bea", _printed(key, part, correct)), ("cy", correct)):
        (tmp_path / f"{name}.yaml").write_text(fill(blank, {f"1.{part}": text}, name))
    result = run("grade", key, *sorted(tmp_path.glob("*.yaml")), "--out", tmp_path / "g.csv")
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO((tmp_path / "g.csv").read_text()))}
    assert rows["ann"][f"1.{part}"] == rows["bea"][f"1.{part}"] == rows["cy"][f"1.{part}"] != "0", result.output


def test_the_blank_sheet_says_a_multiple_choice_part_asks_for_a_letter(choice_exam):
    """It said only 'one of: A | B | C | D', and a student could not tell a letter was asked (or that the
    option's text is also read)."""
    key, choices = choice_exam
    blank = (key.parent / "A" / "answers.yaml").read_text()
    lines = [line for line in blank.splitlines() if any(f".{part}:" in line for part in choices)]
    assert lines and all(re.search(r"the letter of your choice, A(, [B-Z])* or [B-Z] \(or the option's text as "
                                   r"printed\)$", line) for line in lines), lines
    topic_choice = Answer("choice", "memory-bound", choices=("memory-bound", "compute-bound"))
    assert blank_sheet_comment(topic_choice) == "one of: memory-bound | compute-bound"  # words are not letters


def test_an_option_text_matching_two_options_or_none_is_unreadable_and_says_write_the_letter():
    problem = generate("intensity", "bound", "easy", 1)
    part = next(p for p in problem.solution.parts if p.answer.kind == "number")
    value = part.answer.value
    options = [value, value * 1.0001, value * 3]  # B is within the key's tolerance of A: no text tells them apart
    grader = Grader(Key((problem,), meta={"choices": {"1": {part.id: {
        "options": options, "correct": "A", "from": ["key", "perturbed", "perturbed"]}}}}))
    asked = grader.presented(1, part)
    both = grader.grade_entry(f"1.{part.id}", asked, 1, str(value))
    assert both.verdict == "invalid" and "options A and B: write the letter" in both.message
    none = grader.grade_entry(f"1.{part.id}", asked, 1, str(value * 7))
    assert none.verdict == "invalid" and "none of the options A-C: write the letter" in none.message
    assert grader.grade_entry(f"1.{part.id}", asked, 1, str(value * 3)).message.endswith("(Read as: option C.)")


def _expression_choice():
    """A data-parallel problem whose expression part is asked as multiple choice (options as exgen exam makes)."""
    problem = generate("parallelism", "data_parallel", "easy", 1)
    part = next(p for p in problem.solution.parts if p.answer.kind == "expression")
    key = part.answer.value  # '48*N_layer*D^2' or the like
    options = [f"({key})/4", key, f"2*({key})", f"({key})/2"]
    grader = Grader(Key((problem,), meta={"choices": {"1": {part.id: {
        "options": options, "correct": "B", "from": ["perturbed", "key", "perturbed", "perturbed"]}}}}))
    return grader, part, grader.presented(1, part)


def test_an_expression_option_typed_as_printed_is_its_letter():
    """A review found '24 N_layer D^2', the option as printed, refused as 'not one of the choices'."""
    from exgen.exam.build import option_text

    grader, part, asked = _expression_choice()
    printed = option_text(part.answer, part.answer.value)  # $48\,N_{\text{layer}}\,D^{2}$
    coefficient = re.match(r"\$?(\d+)", printed).group(1)
    for text in (printed, f"{coefficient} N_layer D^2", f"{coefficient} N layer D^2", f"{coefficient} N\\_{{layer}} D^2",
                 f"2 ({coefficient} N_layer D^2)"):
        graded = grader.grade_entry(f"1.{part.id}", asked, 1, text)
        letter = "C" if text.startswith("2 (") else "B"
        assert graded.message.endswith(f"(Read as: option {letter}.)"), (text, graded.message)
    lost = grader.grade_entry(f"1.{part.id}", asked, 1, f"{coefficient} N_layer D 2")  # a superscript lost: not read
    assert lost.verdict == "invalid" and "write * between factors" in lost.message


def test_a_multiple_choice_refusal_echoes_the_text_as_typed():
    answer = Answer("choice", "B", choices=("A", "B"))
    graded = grade_part("1.x", Part("x", "x", answer), r"$8\,N_{\text{layer}}$")
    assert r"'$8\,N_{\text{layer}}$' is not one of the choices" in graded.message


def test_a_second_feedback_run_removes_only_the_files_exgen_wrote_that_it_no_longer_writes(sheet, tmp_path,
                                                                                           monkeypatch):
    """A review found a run with fewer students left the first run's files for the others looking current."""
    import exgen.files

    blank = (sheet / "answers.yaml").read_text()
    subs, fb = tmp_path / "subs", tmp_path / "fb"
    subs.mkdir()
    for name in ("alice", "bob", "carl", "dana"):
        (subs / f"{name}.yaml").write_text(fill(blank, {"1.scale": "1.0"}, name))
    assert run("grade", sheet / "key.json", subs, "--feedback", fb).exit_code == 0
    assert sorted(p.name for p in fb.iterdir()) == [".exgen-feedback", "alice.md", "bob.md", "carl.md", "dana.md"]
    (fb / "notes.md").write_text("my own notes")                                   # the user's own file
    (fb / "carl.md").write_text((fb / "carl.md").read_text() + "\nTA: see me\n")  # edited since: the user's now
    for name in ("bob", "carl", "dana"):
        (subs / f"{name}.yaml").unlink()

    def broken(items):
        raise OSError("disk full")

    monkeypatch.setattr(exgen.files, "atomic_write_all", broken)  # a failed run removes nothing
    run("grade", sheet / "key.json", subs, "--feedback", fb)
    assert (fb / "bob.md").exists() and (fb / "dana.md").exists()
    monkeypatch.undo()

    result = run("grade", sheet / "key.json", subs, "--feedback", fb)
    assert result.exit_code == 0
    assert sorted(p.name for p in fb.iterdir()) == [".exgen-feedback", "alice.md", "carl.md", "notes.md"]
    assert "removed 2 feedback file(s)" in result.output and "bob.md, dana.md" in result.output
    assert "kept carl.md" in result.output and (fb / "notes.md").read_text() == "my own notes"
    assert "carl.md" not in (fb / ".exgen-feedback").read_text()  # kept once: not exgen's any more


def test_an_edited_feedback_file_is_not_replaced_without_force(sheet, tmp_path):
    """A review found a TA's line added to bob.md lost, exit 0, when bob was graded again."""
    blank = (sheet / "answers.yaml").read_text()
    subs, fb, out = tmp_path / "subs", tmp_path / "fb", tmp_path / "g.csv"
    subs.mkdir()
    for name in ("alice", "bob"):
        (subs / f"{name}.yaml").write_text(fill(blank, {"1.scale": "1.0"}, name))
    assert run("grade", sheet / "key.json", subs, "--out", out, "--feedback", fb).exit_code == 0
    assert run("grade", sheet / "key.json", subs, "--out", out, "--feedback", fb).exit_code == 0  # unchanged: fine
    edited = (fb / "bob.md").read_text() + "TA: see me\n"
    (fb / "bob.md").write_text(edited)
    (subs / "alice.yaml").write_text(fill(blank, {"1.scale": "2.0"}, "alice"))
    before = {p.name: p.read_bytes() for p in fb.iterdir()}, out.read_bytes()
    result = run("grade", sheet / "key.json", subs, "--out", out, "--feedback", fb)
    assert result.exit_code == 2 and "bob.md" in result.output and "--force" in result.output
    assert ({p.name: p.read_bytes() for p in fb.iterdir()}, out.read_bytes()) == before  # nothing written at all
    result = run("grade", sheet / "key.json", subs, "--out", out, "--feedback", fb, "--force")
    assert result.exit_code == 0 and "TA: see me" not in (fb / "bob.md").read_text()


def test_a_feedback_file_exgen_has_no_record_of_is_not_replaced_without_force(sheet, tmp_path):
    """A folder from before the manifest: a file there may have been edited anywhere (a review lost a TA's line
    below exgen's header), so one whose text would change is replaced only with --force; an unchanged one is
    no loss."""
    blank = (sheet / "answers.yaml").read_text()
    subs, fb = tmp_path / "subs", tmp_path / "fb"
    subs.mkdir()
    for name in ("alice", "bob"):
        (subs / f"{name}.yaml").write_text(fill(blank, {"1.scale": "1.0"}, name))
    assert run("grade", sheet / "key.json", subs, "--feedback", fb).exit_code == 0
    (fb / ".exgen-feedback").unlink()  # a folder written before the manifest existed
    assert run("grade", sheet / "key.json", subs, "--feedback", fb).exit_code == 0  # the same texts: no loss
    (fb / ".exgen-feedback").unlink()
    (fb / "bob.md").write_text((fb / "bob.md").read_text() + "TA: see me\n")  # below exgen's header
    result = run("grade", sheet / "key.json", subs, "--feedback", fb)
    assert result.exit_code == 2 and "bob.md" in result.output and "alice.md" not in result.output
    assert "TA: see me" in (fb / "bob.md").read_text()
    assert run("grade", sheet / "key.json", subs, "--feedback", fb, "--force").exit_code == 0
    (fb / ".exgen-feedback").unlink()
    (fb / "bob.md").write_text("# My notes on bob\n")  # the user's own file, under the name exgen would use
    result = run("grade", sheet / "key.json", subs, "--feedback", fb)
    assert result.exit_code == 2 and "bob.md" in result.output
    assert (fb / "bob.md").read_text() == "# My notes on bob\n"


def _shuffled_versions_key() -> Key:
    """Versions A and B of a shuffled exam: A asks quantization then compute, B compute then quantization."""
    q1, c1 = generate("quantization", "affine", "easy", 1), generate("compute", "training_time", "easy", 1)
    q2, c2 = generate("quantization", "affine", "easy", 2), generate("compute", "training_time", "easy", 2)
    return Key((q1, c1, c2, q2), meta={"versions": {"A": [1, 2], "B": [3, 4]}})


def test_a_sheet_whose_entries_fit_another_version_is_an_error_naming_it_not_a_silent_zero(tmp_path):
    """A review copied version A's sheet with 'version: B': with shuffled versions no entry is a part of B's
    paper, and it scored 0 with nothing said at the console."""
    key = _shuffled_versions_key()
    grader = Grader(key)
    answers = {q: expected_text(p.answer) for q, p, _ in grader.expected_parts(None, "A")}
    text = fill(blank_sheet(list(key.problems[:2]), version="A"), answers, "alice")
    (tmp_path / "key.json").write_text(key.to_json())
    (tmp_path / "alice.yaml").write_text(text.replace("version: A", "version: B"))
    result = run("grade", tmp_path / "key.json", tmp_path / "alice.yaml", "--out", tmp_path / "g.csv")
    assert result.exit_code == 1, result.output
    assert "ERROR" in result.stdout and "fit the paper of version A" in result.stdout
    assert "the sheet says 'version: B'" in result.stdout
    row = next(csv.DictReader(io.StringIO((tmp_path / "g.csv").read_text())))
    assert row["status"] == "error" and row["total"] == ""
    (tmp_path / "alice.yaml").write_text(text)  # the right letter: full marks
    assert run("grade", tmp_path / "key.json", tmp_path / "alice.yaml").exit_code == 0


def test_a_sheet_mostly_of_entries_no_paper_has_is_an_error_and_a_few_ignored_ones_are_said_on_stderr(sheet,
                                                                                                     tmp_path):
    blank = (sheet / "answers.yaml").read_text()
    (tmp_path / "few.yaml").write_text(fill(blank, {"1.scale": "1.0"}, "few") + "9.scale: 1\nremark: hi\n")
    first = next(iter(key_answers(sheet / "key.json")))
    foreign = "student: many\n" + "".join(f"{n}.other: 1\n" for n in range(1, 30)) + f"{first}: 1.0\n"
    (tmp_path / "many.yaml").write_text(foreign)
    result = run("grade", sheet / "key.json", tmp_path / "few.yaml", tmp_path / "many.yaml")
    assert result.exit_code == 1
    assert "note: " in result.stderr and "Ignored entries that are not parts of this sheet: 9.scale, remark" \
        in result.stderr
    assert "29 of the sheet's 30 entries are not parts of this key's sheet" in result.stdout


def test_a_sheet_scoring_far_better_on_another_unshuffled_version_is_graded_as_it_says_with_a_note(tmp_path):
    """Unshuffled versions share entry names: a miscopied letter grades A's answers against B's numbers. The TA
    is told, but the sheet is graded as it says: a weak student guessing multiple-choice letters fits another
    version that well about one time in ten (a review graded 300 such sheets), and must not lose their points."""
    q1, q2 = generate("quantization", "affine", "easy", 1), generate("quantization", "affine", "easy", 2)
    grader = Grader(Key((q1, q2), meta={"versions": {"A": [1], "B": [2]}}))
    answers = {q: expected_text(p.answer) for q, p, _ in grader.expected_parts(None, "A")}
    text = fill(blank_sheet([q1], version="A"), answers, "alice")
    miscopied = grader.grade(parse_sheet(text.replace("version: A", "version: B")))
    assert miscopied.version == "B" and miscopied.total < 5
    assert any("5 / 5 on version A's; graded as version B, as the sheet says: check that its letter" in note
               for note in miscopied.notes), miscopied.notes
    assert grader.grade(parse_sheet(text)).total == 5 and not grader.grade(parse_sheet(text)).notes
    first = next(iter(answers))  # a weak sheet of B's scores little on A's paper too: graded as it says
    weak = fill(blank_sheet([q2], version="B"), {first: answers[first]}, "bob")
    assert grader.grade(parse_sheet(weak)).version == "B"


@pytest.mark.parametrize("key,text,hint", [
    (Answer("number", 1.927e8, sig=4), "1.93e8", "Right to 3 significant figures"),
    (Answer("number", 1.927e8, sig=4), "1.930e8", None),    # 4 figures written, the 4th wrong: not 'right to 3'
    (Answer("number", 1.927e8, sig=4), "1.9300e8", None),
    (Answer("number", 30.24, unit="GB", sig=4), "30.20 GB", None),
    (Answer("number", 3.14159, decimals=3), "3.14", "Right to 2 decimal places"),
    (Answer("number", 3.14159, decimals=3), "3.140", None),  # 3 places written, the 3rd wrong
])
def test_right_to_fewer_figures_counts_the_figures_as_written(key, text, hint):
    result = grade_part("1.x", Part("x", "x", key), text)
    assert result.verdict == "wrong"
    assert (hint in result.message) if hint else ("Right to" not in result.message)


def test_feedback_files_keep_a_name_s_latin_letters_and_never_collide_by_case():
    """zoë's feedback is zoë.md (it was zo-<hash>.md); Ann-Lee and ann-lee, two error rows of one student, get
    two files that differ on a case-insensitive disk too."""
    from exgen.grading.grade import StudentGrade, feedback_files

    names = [n for n, _ in feedback_files([StudentGrade("zoë", "z.yaml"), StudentGrade("łukasz", "l.yaml"),
                                           StudentGrade("Ann-Lee", "a.yaml"), StudentGrade("ann-lee", "b.yaml")])]
    assert names[:2] == ["zoë.md", "łukasz.md"]
    assert len({n.casefold() for n in names}) == 4 and all(n.startswith(("Ann-Lee-", "ann-lee-")) for n in names[2:])


def test_grading_another_key_into_the_same_feedback_folder_removes_none_of_the_first_key_s_files(sheet, tmp_path):
    """A review found the midterm's grading delete the roster exam's feedback from a reused folder: a file is
    stale only for the key it was graded with; another exam's files stay, listed, and are still exgen's."""
    other = tmp_path / "other"
    assert run("make", "--topic", "compute", "--n", "2", "--seed", "3", "--out", other).exit_code == 0
    subs_a, subs_b, fb = tmp_path / "a", tmp_path / "b", tmp_path / "fb"
    for subs, key, names in ((subs_a, sheet, ("alice", "bob")), (subs_b, other, ("carl",))):
        subs.mkdir()
        for name in names:
            (subs / f"{name}.yaml").write_text(fill((key / "answers.yaml").read_text(), {}, name))
    assert run("grade", sheet / "key.json", subs_a, "--feedback", fb).exit_code == 0
    result = run("grade", other / "key.json", subs_b, "--feedback", fb)
    assert result.exit_code == 0 and "removed" not in result.output
    assert sorted(p.name for p in fb.iterdir()) == [".exgen-feedback", "alice.md", "bob.md", "carl.md"]
    (subs_a / "bob.yaml").unlink()  # the first exam again, without bob: his file goes, carl's stays
    result = run("grade", sheet / "key.json", subs_a, "--feedback", fb)
    assert result.exit_code == 0 and "bob.md" in result.output
    assert sorted(p.name for p in fb.iterdir()) == [".exgen-feedback", "alice.md", "carl.md"]


def test_the_same_student_in_another_exam_does_not_silently_replace_the_first_exam_s_feedback(sheet, tmp_path):
    """A review graded a midterm and a final, both with 'ann', into one folder: the final replaced the midterm's
    ann.md without a word. It is replaced (refusing also refused every regrade after a key was corrected), and
    said so; a TA's edited file is still refused."""
    other = tmp_path / "other"
    assert run("make", "--topic", "compute", "--n", "2", "--seed", "3", "--out", other).exit_code == 0
    fb = tmp_path / "fb"
    for key, folder in ((sheet, tmp_path / "a"), (other, tmp_path / "b")):
        folder.mkdir()
        (folder / "ann.yaml").write_text(fill((key / "answers.yaml").read_text(), {}, "ann"))
    assert run("grade", sheet / "key.json", tmp_path / "a", "--feedback", fb).exit_code == 0
    first = (fb / "ann.md").read_text()
    result = run("grade", other / "key.json", tmp_path / "b", "--feedback", fb)
    assert result.exit_code == 0 and "replacing ann.md" in result.output and "another key" in result.output
    assert (fb / "ann.md").read_text() != first
    (fb / "ann.md").write_text((fb / "ann.md").read_text() + "TA: see me\n")
    assert run("grade", sheet / "key.json", tmp_path / "a", "--feedback", fb).exit_code == 2  # edited: refused
