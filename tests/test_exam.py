"""`exgen exam`, as a TA uses it: a spec -> versions or one exam per student -> PDFs, answer sheets and one key
-> `exgen grade` with points per part and problem, multiple choice graded by letter."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import IN_CI, needs
from exgen.cli import cli
from exgen.exam import prepare
from exgen.exam.build import form, multiple_choice, option_text, split_points
from exgen.exam.latex import tex_paragraphs, tex_text
from exgen.exam.spec import SpecError, parse_spec, read_spec
from exgen.generate import generate
from exgen.grading.compare import matches
from exgen.grading.grade import Grader, expected_text, grade_part
from exgen.manifest import read_key
from exgen.problem import Answer, Part
from exgen.rng import Rng
from exgen.topics import get

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "midterm.yaml"

SPEC = """\
title: Quiz
seed: 7
sections:
  - topic: quantization
    variant: affine
    points_per_part: 2
  - topic: compute
    variants: [training_time, mfu]
    count: 2
    points: 5
  - topic: intensity
    variant: bound
    answer: choice
"""


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def answers_for(grader: Grader, student: str | None, version: str = "") -> dict[str, str]:
    """What a student who gets everything right writes: the key as text, a letter for a choice."""
    return {q: expected_text(part.answer) for q, part, _ in grader.expected_parts(student, version)}


def filled(sheet: str, answers: dict[str, str], student: str) -> str:
    text = sheet.replace('student: ""', f"student: {student}")
    for q, value in answers.items():
        text = re.sub(rf"^{re.escape(q)}:.*$", f"{q}: {json.dumps(value)}", text, flags=re.M)
    return text


# ---- the spec --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mistake, line, words", [
    (("topic: quantization", "topic: quantisation"), 4, "unknown topic 'quantisation' (did you mean 'quantization'?)"),
    (("variant: affine", "variant: afine"), 5, "no variant 'afine'"),
    (("variants: [training_time, mfu]", "variants: [training_time, nope]"), 8, "no variant 'nope'"),
    (("points_per_part: 2", "pionts_per_part: 2"), 6, "unknown field 'pionts_per_part' in a section (did you mean"),
    (("points: 5", "points: -5"), 10, "points must be positive"),
    (("points: 5", "points: 2.25"), 10, "whole or half points"),
    (("answer: choice", "answer: letters"), 13, "answer must be one of entries, choice"),
    (("seed: 7", "seed: seven"), 2, "seed must be a whole number"),
    (("title: Quiz", "titel: Quiz"), 1, "unknown field 'titel' in the exam (did you mean 'title'?)"),
    (("count: 2", "count: 0"), 9, "count must be a whole number from 1 to 20"),
])
def test_a_spec_mistake_is_one_line_naming_its_line_and_nothing_is_written(tmp_path, mistake, line, words):
    spec = tmp_path / "exam.yaml"
    spec.write_text(SPEC.replace(*mistake))
    result = run("exam", spec, "--out", tmp_path / "out", "--no-pdf")
    assert result.exit_code == 2
    message = result.output.strip().splitlines()[-1]
    assert f"exam.yaml, line {line}: " in message and words in message, message
    assert not (tmp_path / "out").exists()


def test_spec_refuses_aliases_and_a_part_no_problem_has(tmp_path):
    with pytest.raises(SpecError, match="line 5: YAML aliases"):
        parse_spec("title: &t Quiz\nsections:\n  - topic: compute\n    variant: matmul\n    count: *t\n")
    spec = tmp_path / "exam.yaml"
    spec.write_text(SPEC.replace("    points: 5\n", "    points: 5\n    choice_parts: [flops, nope]\n"))
    result = run("exam", spec, "--out", tmp_path / "out", "--no-pdf")
    assert result.exit_code == 2 and "line 7: choice_parts names 'nope'" in result.output
    assert not (tmp_path / "out").exists()


def test_points_split_over_parts_in_half_points():
    assert split_points(5, 2) == [2.5, 2.5]
    assert split_points(5, 3) == [2.0, 1.5, 1.5]
    assert sum(split_points(7, 4)) == 7
    with pytest.raises(SpecError, match="cannot give each of its 5 parts at least half a point"):
        split_points(2, 5, "quiz.yaml, line 3")


# ---- versions and rosters --------------------------------------------------------------------------


def test_versions_differ_in_numbers_not_in_what_they_ask_or_are_worth(tmp_path):
    spec = parse_spec(SPEC)
    prepared = prepare(spec, versions=3)
    a, b, c = prepared.papers
    assert [p.label for p in prepared.papers] == ["A", "B", "C"]
    for x, y in [(a, b), (a, c), (b, c)]:
        assert [p.problem.variant for p in x.problems] == [p.problem.variant for p in y.problems]
        assert [form(p.problem) for p in x.problems] == [form(p.problem) for p in y.problems]  # same op, metric...
        assert [p.points for p in x.problems] == [p.points for p in y.problems]
        assert [p.problem.givens for p in x.problems] != [p.problem.givens for p in y.problems]
        assert all(p.problem.givens != q.problem.givens for p, q in zip(x.problems, y.problems))
    assert a.total == 2 * 5 + 5 + 5 + 4  # 2 per part of affine's 5 parts; 5 per compute problem; 1 per part
    assert prepare(spec, versions=3).files == prepared.files  # same spec, same bytes
    assert prepared.unmatched == 0


def test_twenty_six_versions_of_the_midterm_ask_each_slot_in_one_form():
    """A review found versions A and B asking for an MSE and a Frobenius norm: each slot now asks the commonest
    form of its variant (operation, dtype, metric...) on every paper; one not found would be counted."""
    prepared = prepare(read_spec(EXAMPLE), versions=26)
    first = [form(p.problem) for p in prepared.papers[0].problems]
    differing = sum(form(p.problem) != f for paper in prepared.papers for p, f in zip(paper.problems, first))
    assert differing == prepared.unmatched == 0


def test_each_version_is_graded_by_its_own_problems_with_weighted_points(tmp_path):
    spec = tmp_path / "exam.yaml"
    spec.write_text(SPEC)
    assert run("exam", spec, "--out", tmp_path / "out", "--versions", "2", "--no-pdf").exit_code == 0
    out = tmp_path / "out"
    grader = Grader(read_key(out / "key.json"))
    for version, student in (("A", "ann"), ("B", "bob")):
        (tmp_path / f"{student}.yaml").write_text(
            filled((out / version / "answers.yaml").read_text(), answers_for(grader, "x", version), student))
    # Bob answers A's sheet with B's answers: graded against A, he would lose points
    result = run("grade", out / "key.json", tmp_path / "ann.yaml", tmp_path / "bob.yaml", "--out", tmp_path / "g.csv")
    assert result.exit_code == 0, result.output
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO((tmp_path / "g.csv").read_text()))}
    assert rows["ann"]["version"] == "A" and rows["bob"]["version"] == "B"
    assert rows["ann"]["total"] == rows["ann"]["max"] == "24"
    assert [rows["bob"][f"problem {n}"] for n in (1, 2, 3, 4)] == ["10", "5", "5", "4"]
    digest = hashlib.sha256((out / "key.json").read_bytes()).hexdigest()
    assert {r["key_sha256"] for r in rows.values()} == {digest}
    assert all(r["exgen_version"] for r in rows.values())


def test_shuffled_versions_order_their_problems_differently_and_grade_by_their_own_order():
    spec = parse_spec(SPEC.replace("seed: 7", "seed: 7\nshuffle: true"))
    prepared = prepare(spec, versions=4)
    orders = [tuple(ep.section for ep in paper.problems) for paper in prepared.papers]
    assert len(set(orders)) > 1 and all(sorted(o) == [0, 1, 1, 2] for o in orders)
    grader = Grader(read_key_text(prepared.files[Path("key.json")]))
    for paper in prepared.papers:
        for sheet_number, ep in enumerate(paper.problems, 1):
            numbers = {n for q, _, n in grader.expected_parts("x", paper.label) if q.startswith(f"{sheet_number}.")}
            assert [grader.key.problems[n - 1] for n in numbers] == [ep.problem]


def test_a_shuffled_exam_s_gradebook_lines_up_each_question_of_the_spec_whatever_number_a_paper_gave_it(tmp_path):
    """With shuffle, version A may print the spec's question 1 as problem 3 and version B as problem 2; the
    gradebook's "question 1" and "q1.scale" columns are the spec's question 1 on every row (the key says which),
    named apart from the papers' own "problem" numbers."""
    spec = tmp_path / "exam.yaml"
    spec.write_text(SPEC.replace("seed: 7", "seed: 7\nshuffle: true"))
    assert run("exam", spec, "--versions", "3", "--out", tmp_path / "out", "--no-pdf").exit_code == 0
    key = read_key(tmp_path / "out" / "key.json")
    grader = Grader(key)
    orders = {v: [key.meta["questions"][str(n)] for n in key.meta["versions"][v]] for v in ("A", "B", "C")}
    assert len({tuple(o) for o in orders.values()}) > 1  # the seed shuffles the papers differently
    subs = tmp_path / "subs"
    subs.mkdir()
    for version, student in (("A", "ann"), ("B", "bob"), ("C", "cy")):
        answers = answers_for(grader, "x", version)
        sheet_number = orders[version].index(1) + 1  # where this paper printed the spec's question 1
        answers[f"{sheet_number}.scale"] = "12345"    # wrong: question 1 loses its scale's 2 points
        sheet = (tmp_path / "out" / version / "answers.yaml").read_text()
        (subs / f"{student}.yaml").write_text(filled(sheet, answers, student))
    assert run("grade", tmp_path / "out" / "key.json", subs, "--out", tmp_path / "grades.csv").exit_code == 0
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert [r["student"] for r in rows] == ["ann", "bob", "cy"]
    for row in rows:
        assert row["q1.scale"] == "0" and row["q1.zero_point"] == "2", row
        assert row["max"] == "24" and row["question 1"] == "8" and row["question 2"] == "5", row


def test_an_unshuffled_exam_s_key_has_no_question_map():
    prepared = prepare(parse_spec(SPEC), versions=2)
    assert "questions" not in read_key_text(prepared.files[Path("key.json")]).meta


@pytest.mark.parametrize("questions, words", [
    ({"1": 1, "2": 1, "3": 3, "4": 4}, "not questions 1, 2, ..."),
    ({"1": 1, "2": 2, "3": 3}, "not questions 1, 2, ..."),
    ({"1": 1, "2": 2, "3": 3, "4": "4"}, "expected a question number"),
    ({"1": 1, "2": 2, "3": 3, "99": 4}, "no problem '99'"),
])
def test_a_hand_edited_question_map_is_refused_before_grading(questions, words):
    from exgen.manifest import KeyFileError

    prepared = prepare(parse_spec(SPEC), versions=1)
    key = read_key_text(prepared.files[Path("key.json")])
    with pytest.raises(KeyFileError, match=re.escape(words)):
        Grader(dataclasses.replace(key, meta={**key.meta, "questions": questions}))


def test_a_roster_of_30_gets_30_exams_and_one_key(tmp_path):
    students = [f"student_{i:02d}" for i in range(29)] + ["jo_smith"]
    (tmp_path / "roster.txt").write_text("id\n" + "\n".join(students) + "\n")
    (tmp_path / "course.secret").write_text("s" * 32)
    spec = tmp_path / "exam.yaml"
    spec.write_text(SPEC)
    result = run("exam", spec, "--out", tmp_path / "out", "--roster", tmp_path / "roster.txt",
                 "--secret-file", tmp_path / "course.secret", "--no-pdf")
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert sorted(p.name for p in (out / "students").iterdir()) == sorted(students)
    key = read_key(out / "key.json")
    assert len(key.problems) == 30 * 4 and set(key.meta["students"]) == set(students)
    tex = (out / "students" / "jo_smith" / "exam.tex").read_text()
    assert r"Student jo\_smith" in tex and "jo_smith" not in tex
    grader = Grader(key)
    sheet = (out / "students" / "jo_smith" / "answers.yaml").read_text()
    assert "student: jo_smith" in sheet
    (tmp_path / "jo.yaml").write_text(filled(sheet, answers_for(grader, "jo_smith"), "jo_smith"))
    graded = run("grade", out / "key.json", tmp_path / "jo.yaml")
    assert graded.exit_code == 0 and "jo_smith\t24 / 24" in graded.output


def test_without_pdflatex_the_tex_is_written_and_the_exit_status_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = run("exam", EXAMPLE, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "pdflatex is not installed" in result.output and "apt-get install" in result.output
    assert (tmp_path / "out" / "A" / "exam.tex").exists() and (tmp_path / "out" / "key.json").exists()


def test_text_from_a_spec_or_roster_is_escaped_for_latex():
    assert tex_text("R&D: 100% of #1 {jo_smith} \\ ~^ $x$") == (
        r"R\&D: 100\% of \#1 \{jo\_smith\} \textbackslash{} \textasciitilde{}\textasciicircum{} \$x\$")
    assert tex_text("a--b") == "a-{}-{}b" and tex_text("naïve ✓") == "naïve ?"


def test_a_table_question_is_answered_in_its_cells():
    """An autodiff table's blank cells are widened to write in, and their parts get no second answer box."""
    spec = parse_spec("title: T\nsections:\n  - topic: autodiff\n    variant: forward\n")
    prepared = prepare(spec)
    problem = prepared.papers[0].problems[0].problem
    tex = prepared.files[Path("A/exam.tex")]
    cells = [p.id for p in problem.solution.parts]
    assert tex.count(r"\makebox[2.4cm][l]{$\mathtt{") == len(cells) and r"\framebox" not in tex
    assert all(f"[{pid}]" in tex for pid in cells[:2])  # the first node's cells (v1, dv1, or v3, dv3 inputs-first)


# ---- multiple choice -------------------------------------------------------------------------------


@pytest.mark.parametrize("topic, variant, part", [
    ("quantization", "affine", "scale"), ("quantization", "affine", "zero_point"), ("quantization", "affine", "q"),
    ("compute", "training_time", "flops"), ("intensity", "bound", "bound"), ("quantization", "storage", "after"),
    ("intensity", "bound", "intensity"), ("intensity", "bound", "attainable"), ("chinchilla", "loss", "loss"),
])
def test_choices_are_the_key_mistakes_first_then_perturbations_all_distinct_as_printed(topic, variant, part):
    for seed in range(6):
        problem = generate(topic, variant, "easy", seed)
        answer = problem.solution.part(part).answer
        choice = multiple_choice(problem, part, 4, Rng("test", seed))
        assert choice == multiple_choice(problem, part, 4, Rng("test", seed))  # deterministic
        correct = ord(choice.correct) - ord("A")
        assert choice.origins[correct] == "key" and choice.origins.count("key") == 1
        printed = [option_text(answer, v) for v in choice.values]
        assert len(set(printed)) == len(printed)
        wrong = [v for i, v in enumerate(choice.values) if i != correct]
        if answer.kind != "choice":
            assert len(choice.values) == 4 and not any(matches(answer, v) for v in wrong)
            if answer.kind == "number":  # a student within the tolerance, rounded, is nearest the key
                unit = answer.allowance(answer.value)
                for student in (answer.value - unit, answer.value + unit):
                    shown = float(f"{student:.{answer.sig - 1}e}") if answer.sig else round(student, answer.decimals)
                    assert all(abs(shown - answer.value) < abs(shown - v) for v in wrong)
            applicable = [m.name for m in get(topic).mistakes_for(variant)
                          if m.part == part and m.wrong(variant, problem.givens, problem.solution) is not None]
            named = [o for o in choice.origins if o not in ("key", "perturbed")]
            assert set(named) <= set(applicable) and (named or not applicable)


def test_a_distractor_is_more_than_three_units_from_the_key():
    """Within the tolerance (one unit) and rounded (half a unit), a student is nearer the key than any option."""
    from exgen.exam.build import clearly_wrong

    key = Answer("number", 0.9978, sig=3)  # one unit: 0.001
    assert not clearly_wrong(key, 1.00) and not clearly_wrong(key, 0.9948)
    assert clearly_wrong(key, 1.0010) and clearly_wrong(key, 0.4989)
    matrix = Answer("matrix", [[1.5, 2.0]], decimals=1)
    assert not clearly_wrong(matrix, [[1.6, 2.2]]) and clearly_wrong(matrix, [[1.5, 2.5]])
    assert clearly_wrong(Answer("integer", 7), 8)


def test_multiple_choice_grades_by_letter_and_names_the_mistake_behind_a_distractor():
    spec = parse_spec(SPEC.replace("variant: affine\n    points_per_part: 2", "variant: storage\n"
                                   "    points_per_part: 2\n    answer: choice"))
    prepared = prepare(spec, versions=1)
    grader = Grader(read_key_text(prepared.files[Path("key.json")]))
    number, pid = 1, "after"
    choice = grader.choices["1"][pid]
    part = next(p for q, p, n in grader.expected_parts("x", "A") if q == f"{number}.{pid}")
    assert part.answer.kind == "choice" and part.answer.value == choice["correct"]
    for written in (choice["correct"], choice["correct"].lower(), f"({choice['correct']})", f" {choice['correct']}."):
        right = grader.grade_entry("1.after", part, number, written)
        assert right.verdict == "correct" and right.points == 2, written
    named = [(letter, origin) for letter, origin in zip("ABCD", choice["from"]) if origin not in ("key", "perturbed")]
    assert named, choice
    letter, origin = named[0]
    wrong = grader.grade_entry("1.after", part, number, letter)
    assert wrong.verdict == "wrong" and wrong.points == 0 and wrong.mistake == origin
    value = grader.grade_entry("1.after", part, number, "0.5")
    assert value.verdict == "invalid" and value.points == 0  # a printed choice is answered by its letter


def read_key_text(text: str):
    from exgen.manifest import Key
    from exgen.problem import Problem

    doc = json.loads(text)
    return Key(tuple(Problem.from_dict(p) for p in doc["problems"]), doc["exgen_version"], doc["meta"])


def test_partial_credit_scales_with_the_parts_points():
    answer = Answer("matrix", [[1, 2], [3, 4]])
    part = Part("q", "integer matrix q", answer)
    half = grade_part("1.q", part, "1 2; 0 0", points=3)
    assert (half.verdict, half.points, half.max_points) == ("partial", 1.5, 3)
    assert grade_part("1.q", part, "1 2; 3 4").points == 1  # a key without points: 1 per part


@pytest.mark.parametrize("edit, words", [
    (lambda m: m["points"]["1"].update(scale=-2), "meta.points.1.scale: expected points in (0, 1000]"),
    (lambda m: m["points"]["1"].update(nope=2), "meta.points.1: problem 1 has no part 'nope'"),
    (lambda m: m["points"].update({"99": {}}), "meta.points.99: no problem '99'"),
    (lambda m: m["choices"]["4"]["bound"].update(correct="Z"), "meta.choices.4.bound.correct: expected one of"),
    (lambda m: m["choices"]["4"]["bound"].update(options=["x"]), "meta.choices.4.bound.options"),
    (lambda m: m["versions"].update(B=[1]), "meta.versions.B: problem 1 is already version A's"),
])
def test_a_hand_edited_exam_key_is_refused_naming_the_field(tmp_path, edit, words):
    prepared = prepare(parse_spec(SPEC))
    doc = json.loads(prepared.files[Path("key.json")])
    edit(doc["meta"])
    (tmp_path / "key.json").write_text(json.dumps(doc))
    (tmp_path / "a.yaml").write_text("student: ann\nversion: A\n")
    result = run("grade", tmp_path / "key.json", tmp_path / "a.yaml")
    assert result.exit_code == 2 and words in result.output, result.output


# ---- built PDFs ------------------------------------------------------------------------------------


def _pdftext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.slow
@needs("pdflatex")
@needs("pdftotext")
def test_the_example_builds_with_name_field_and_the_specs_points(tmp_path):
    result = run("exam", EXAMPLE, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    out = tmp_path / "out" / "A"
    exam, solutions = _pdftext(out / "exam.pdf"), _pdftext(out / "solutions.pdf")
    assert "Name:" in exam and "Student ID:" in exam and "Version A" in exam and "Page 1 of" in exam
    # the spec's sum: per-part points times each problem's parts, or the problem's points
    spec, key = yaml.safe_load(EXAMPLE.read_text()), read_key(tmp_path / "out" / "key.json")
    problems = iter(key.problems)
    total = 0.0
    for section in spec["sections"]:
        for _ in range(section.get("count", 1)):
            parts = len(next(problems).solution.parts)
            total += section["points"] if "points" in section else section["points_per_part"] * parts
    assert f"Total: {total:g} points" in " ".join(exam.split())
    assert re.search(rf"Points:.*\b{total:g}\b", exam)  # the points table's total
    assert "Solution." in solutions and "(2 points)" in exam
    pages = exam.split("\f")[:-1]
    assert all("Version A" in page and f"Page {i} of {len(pages)}" in page for i, page in enumerate(pages, 1))
    # no question is split across pages (each fits on one): its number and all its part tags on one page
    where: dict[int, set[int]] = {}
    current = 0
    for page_number, page in enumerate(pages, 1):
        for line in page.splitlines():
            start = re.match(r"^\s{0,4}(\d+)\. [A-Z]", line)
            current = int(start.group(1)) if start else current
            if current and (start or re.search(r"\[[a-z_0-9]+\]\s*$", line)):
                where.setdefault(current, set()).add(page_number)
    assert sorted(where) == list(range(1, len(key.problems) + 1))
    assert all(len(on) == 1 for on in where.values()), where


@pytest.mark.slow
@needs("pdflatex")
def test_the_same_exam_builds_the_same_pdf_bytes(tmp_path):
    """README: same input, same bytes — the PDFs too (pdfTeX's dates and /ID come from SOURCE_DATE_EPOCH)."""
    (tmp_path / "exam.yaml").write_text("title: T\nsections:\n  - topic: compute\n    variant: matmul\n")
    for out in ("one", "two"):
        assert run("exam", tmp_path / "exam.yaml", "--out", tmp_path / out).exit_code == 0
    for pdf in ("exam.pdf", "solutions.pdf"):
        assert (tmp_path / "one" / "A" / pdf).read_bytes() == (tmp_path / "two" / "A" / pdf).read_bytes()


@pytest.mark.slow
@needs("pdflatex")
@pytest.mark.parametrize("topics", [("quantization", "autodiff"), ("compute", "chinchilla", "intensity"),
                                    ("parallelism", "inference", "formats", "lora")])
def test_every_variant_fits_an_exam_page_and_its_solution_page(topics, tmp_path):
    """The exam's own layout (part tags, answer grids, framed solutions) at hard, every variant: no overfull box,
    as tests/test_latex_layout.py holds the worksheets (a part's tag once ran 1.5 pt into the margin)."""
    from test_latex_layout import overfull

    sections = [{"topic": t, "variant": v.name} for t in topics for v in get(t).variants]
    (tmp_path / "exam.yaml").write_text(yaml.safe_dump({"title": "Layout", "difficulty": "hard", "sections": sections}))
    assert run("exam", tmp_path / "exam.yaml", "--out", tmp_path / "out", "--no-pdf").exit_code == 0
    for document in ("exam", "solutions"):
        subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{document}.tex"],
                       cwd=tmp_path / "out" / "A", capture_output=True, timeout=300, check=True)
        log = (tmp_path / "out" / "A" / f"{document}.log").read_text(encoding="utf-8", errors="replace")
        assert overfull(log) == [], document


@pytest.mark.slow
@needs("pdflatex")
def test_multiple_choice_options_stay_within_the_margin(tmp_path):
    """The example's multiple-choice parts (options in one paragraph) on three versions, papers and solutions
    (the bold correct option is the widest): no option runs past the margin (they did, by up to 20pt)."""
    from test_latex_layout import overfull

    assert run("exam", EXAMPLE, "--versions", "3", "--out", tmp_path / "out", "--no-pdf").exit_code == 0
    for version in "ABC":
        for document in ("exam", "solutions"):
            subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{document}.tex"],
                           cwd=tmp_path / "out" / version, capture_output=True, timeout=300, check=True)
            log = (tmp_path / "out" / version / f"{document}.log").read_text(encoding="utf-8", errors="replace")
            assert overfull(log) == [], (version, document)


@pytest.mark.slow
@needs("pdflatex")
def test_a_roster_of_long_accented_ids_builds_every_pdf(tmp_path):
    """pdfTeX splits its log lines by bytes, cutting an accented name's UTF-8 mid-character: reading the log
    strictly crashed the whole build ('utf-8' codec can't decode), leaving other students' PDFs unbuilt."""
    students = ["maría-josé.garcía-fernández@estudiantes.universidad.es", "łukasz", "bob"]
    (tmp_path / "roster.txt").write_text("\n".join(students) + "\n", encoding="utf-8")
    (tmp_path / "course.secret").write_text("s" * 32)
    (tmp_path / "exam.yaml").write_text("title: Prüfung für Anfänger\nsections:\n  - topic: compute\n"
                                        "    variant: matmul\n", encoding="utf-8")
    result = run("exam", tmp_path / "exam.yaml", "--out", tmp_path / "out", "--roster", tmp_path / "roster.txt",
                 "--secret-file", tmp_path / "course.secret")
    assert result.exit_code == 0, result.output
    for sid in students:
        assert (tmp_path / "out" / "students" / sid / "exam.pdf").exists()
        assert (tmp_path / "out" / "students" / sid / "solutions.pdf").exists()


def _tex_has(package: str) -> bool:
    found = subprocess.run(["kpsewhich", package], capture_output=True, text=True) if shutil.which("kpsewhich") else None
    return bool(found and found.stdout.strip())


@pytest.mark.slow
@needs("pdflatex")
@needs("pdffonts")
@pytest.mark.skipif(not (_tex_has("lmodern.sty") or IN_CI), reason="TeX's lmodern is not installed (CI installs it)")
def test_exam_pdfs_are_set_in_vector_fonts_so_their_text_can_be_searched(tmp_path):
    """With lmodern (the README installs it) no font is a bitmap (Type 3), whose ligatures a PDF search misses."""
    (tmp_path / "exam.yaml").write_text("title: Final\nsections:\n  - topic: quantization\n    variant: affine\n")
    assert run("exam", tmp_path / "exam.yaml", "--out", tmp_path / "out").exit_code == 0
    for pdf in ("exam.pdf", "solutions.pdf"):
        fonts = subprocess.run(["pdffonts", str(tmp_path / "out" / "A" / pdf)], capture_output=True, text=True,
                               check=True).stdout.splitlines()[2:]
        assert fonts and not [line for line in fonts if "Type 3" in line], fonts
    assert "Final" in _pdftext(tmp_path / "out" / "A" / "exam.pdf")


@needs("pdflatex")
def test_titles_and_ids_with_latex_specials_compile(tmp_path):
    (tmp_path / "exam.yaml").write_text('title: "R&D 101: 100% of #1 {x} \\\\ ~^ $\\n\\nline two"\ncourse: a_b\n'
                                        "sections:\n  - topic: compute\n    variant: matmul\n")
    (tmp_path / "roster.txt").write_text("jo_smith\nann+1@uni.edu\n")
    (tmp_path / "s").write_text("s" * 32)
    result = run("exam", tmp_path / "exam.yaml", "--out", tmp_path / "out", "--roster", tmp_path / "roster.txt",
                 "--secret-file", tmp_path / "s", "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert "built 4 of 4 PDFs" in result.output


def _everything() -> str:
    """A spec asking every variant of every topic twice: with entries, and every part as multiple choice."""
    from exgen.topics import TOPIC_NAMES

    lines = ["title: Everything", "seed: 3", "sections:"]
    for topic in TOPIC_NAMES:
        names = [v.name for v in get(topic).variants]
        for answer in ("entries", "choice"):
            lines += [f"  - topic: {topic}", f"    variants: [{', '.join(names)}]", f"    count: {len(names)}",
                      f"    answer: {answer}"]
    return "\n".join(lines) + "\n"


def test_every_part_of_every_variant_can_be_asked_as_a_choice():
    spec = parse_spec(_everything())
    paper = prepare(spec).papers[0]
    for ep in paper.problems:
        asked = spec.sections[ep.section].answer == "choice"
        assert set(ep.choices) == ({p.id for p in ep.problem.solution.parts} if asked else set())
        for pid, choice in ep.choices.items():
            answer = ep.problem.solution.part(pid).answer
            assert len(choice.values) == (len(answer.choices) if answer.kind == "choice" else 4), (ep.problem, pid)


@pytest.mark.slow
@needs("pdflatex")
def test_every_variant_with_entries_and_as_multiple_choice_compiles(tmp_path):
    (tmp_path / "all.yaml").write_text(_everything())
    result = run("exam", tmp_path / "all.yaml", "--out", tmp_path / "out")
    assert result.exit_code == 0 and "built 2 of 2 PDFs" in result.output, result.output


@pytest.mark.slow
@needs("pdflatex")
def test_a_document_that_does_not_compile_is_named_with_its_first_latex_error(tmp_path):
    ours = tmp_path / "mine" / "templates"
    ours.mkdir(parents=True)
    page = (Path(__file__).resolve().parent.parent / "templates" / "_exam.tex.j2").read_text()
    (ours / "_exam.tex.j2").write_text(page.replace(r"\begin{questions}", r"\undefinedmacro\begin{questions}"))
    (tmp_path / "exam.yaml").write_text("title: T\nsections:\n  - topic: compute\n    variant: matmul\n")
    result = run("exam", tmp_path / "exam.yaml", "--out", tmp_path / "out", "--templates", tmp_path / "mine")
    assert result.exit_code == 1
    assert "exam.tex: ! Undefined control sequence" in result.output and "built 0 of 2 PDFs" in result.output
    assert (tmp_path / "out" / "A" / "exam.tex").exists() and not (tmp_path / "out" / "A" / "exam.aux").exists()


def test_an_exam_folder_is_replaced_whole_and_only_with_force(tmp_path):
    """A second exam into the same folder: refused (its key may be out), then with --force the new set
    replaces the old one entirely — no version C of a four-version exam beside a two-version key."""
    spec = tmp_path / "exam.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    assert run("exam", spec, "--out", out, "--versions", "3", "--no-pdf").exit_code == 0
    first_key = (out / "key.json").read_text()
    result = run("exam", spec, "--out", out, "--versions", "2", "--no-pdf")
    assert result.exit_code == 2 and "--force" in result.output
    assert (out / "key.json").read_text() == first_key and (out / "C").is_dir()
    assert run("exam", spec, "--out", out, "--versions", "2", "--no-pdf", "--force").exit_code == 0
    assert sorted(os.listdir(out)) == ["A", "B", "key.json"]
    assert json.loads((out / "key.json").read_text())["meta"]["versions"].keys() == {"A", "B"}


def test_an_exam_is_never_swapped_into_a_folder_of_the_users_own_files(tmp_path):
    spec = tmp_path / "exam.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "course"
    out.mkdir()
    (out / "notes.md").write_text("mine")
    assert run("exam", spec, "--out", out, "--no-pdf").exit_code == 0  # added beside the user's file
    assert sorted(os.listdir(out)) == ["A", "key.json", "notes.md"]
    result = run("exam", spec, "--out", out, "--no-pdf", "--force")
    assert result.exit_code == 2 and "notes.md" in result.output
    assert (out / "notes.md").read_text() == "mine"


def test_exgen_check_on_a_versions_key_reads_the_version_it_is_told(tmp_path):
    """A review found `exgen check` grading version B's correct answer against version A's problem."""
    out = tmp_path / "out"
    assert run("exam", EXAMPLE, "--versions", "2", "--no-pdf", "--out", out).exit_code == 0
    key = read_key(out / "key.json")
    b_first = key.problems[key.meta["versions"]["B"][0] - 1]
    part = b_first.solution.parts[0]
    text = expected_text(part.answer)
    assert run("check", out / "key.json", f"1.{part.id}", text).exit_code == 2  # which version? it says so
    result = run("check", out / "key.json", "--version", "b", f"1.{part.id}", text)
    assert result.exit_code == 0 and "correct" in result.output


def test_an_instruction_item_wrapped_over_two_lines_stays_one_item():
    text = "Closed book.\n\n- Give every answer at its precision: within one unit\n  of the last place is correct.\n- Circle one letter."
    assert tex_paragraphs(text) == ("Closed book.\n\n\\begin{itemize}\n\\item Give every answer at its precision: "
                                    "within one unit of the last place is correct.\n\\item Circle one letter.\n"
                                    "\\end{itemize}")
