"""Roster exams: no two students get the same instance while the variant's space allows it (issue 9), and the
command says so when it cannot. Sheets keep their behaviour."""

from __future__ import annotations

import json

from click.testing import CliRunner

from exgen.cli import cli
from exgen.generate import count_repeats, sheet
from exgen.grading.exam import exam_problems
from synthetic import counting_topic, use_topic

SECRET = b"correct horse battery staple 42"


def _exam(tmp_path, *args, students=30):
    (tmp_path / "roster.txt").write_text("".join(f"student{i}\n" for i in range(students)))
    (tmp_path / "course.secret").write_bytes(SECRET)
    return CliRunner().invoke(cli, ["make", *args, "--roster", str(tmp_path / "roster.txt"), "--secret-file",
                                    str(tmp_path / "course.secret"), "--out", str(tmp_path / "exam")],
                              catch_exceptions=False)


def test_a_30_student_exam_of_one_variant_gives_30_distinct_problems(tmp_path):
    result = _exam(tmp_path, "--topic", "quantization", "--variant", "affine", "--difficulty", "medium", "--n", "1")
    assert result.exit_code == 0 and "repeat" not in result.stderr
    problems = json.loads((tmp_path / "exam" / "key.json").read_text())["problems"]
    assert len(problems) == 30
    assert len({json.dumps(p["givens"], sort_keys=True) for p in problems}) == 30


def _distinct(problems):
    return len({json.dumps(p.givens, sort_keys=True) for p in problems})


def test_a_variant_with_too_few_instances_is_shared_as_little_as_possible(monkeypatch):
    """Three instances for five students: all three are used, and two students share one."""
    use_topic(monkeypatch, counting_topic(3))
    exams = exam_problems(["counting"], None, "easy", 1, SECRET, [f"s{i}" for i in range(5)])
    problems = [p for mine in exams.values() for p in mine]
    assert _distinct(problems) == 3 and count_repeats(problems) == 2
    # two problems each from three instances: each student's own sheet still has two different ones
    exams = exam_problems(["counting"], None, "easy", 2, SECRET, ["ann", "bob"])
    assert all(_distinct(mine) == 2 for mine in exams.values())
    assert count_repeats([p for mine in exams.values() for p in mine]) == 1


def test_the_exam_command_says_when_students_must_share(tmp_path, monkeypatch):
    """The counting topic stands in for a real one (under a real topic's name, with its own template)."""
    use_topic(monkeypatch, counting_topic(3, name="intensity"))
    for folder in ("templates", "solutions"):
        (tmp_path / "tpl" / folder).mkdir(parents=True)
        (tmp_path / "tpl" / folder / "intensity.j2").write_text(
            "Take x = << g.x >>.\n<% call parts() %><% call part('third') %>x/3<% endcall %><% endcall %>\n")
    result = _exam(tmp_path, "--topic", "intensity", "--n", "1", "--templates", str(tmp_path / "tpl"), students=5)
    assert result.exit_code == 0
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert notes == ["note: 2 of the 5 problems repeat another's instance: too few distinct instances at "
                     "--difficulty easy for 5 students"]


def test_a_sheet_takes_each_slots_own_draw_unless_it_repeats_an_earlier_problem(monkeypatch):
    from exgen.generate import generate
    from exgen.rng import problem_seed

    use_topic(monkeypatch, counting_topic(10))
    problems = sheet(["counting"], None, "easy", 7, 8)
    assert _distinct(problems) == 8
    redrawn = 0
    for i, problem in enumerate(problems):
        first = generate("counting", None, "easy", problem_seed(7, i))
        if problem.seed != first.seed:
            assert first.givens in [p.givens for p in problems[:i]], i
            redrawn += 1
    assert redrawn


def test_an_accented_id_makes_its_exam_and_is_graded_and_a_sheet_s_case_is_forgiven(tmp_path):
    """A review found `zoë` refused as not "letters, digits…", and a sheet's `Ann-Lee` against the roster's
    `ann-lee` "not on this exam's roster" with no hint."""
    (tmp_path / "roster.txt").write_text("zoë\nann-lee\n")
    (tmp_path / "course.secret").write_bytes(SECRET)
    result = CliRunner().invoke(cli, ["make", "--topic", "compute", "--n", "1", "--roster", str(tmp_path / "roster.txt"),
                                      "--secret-file", str(tmp_path / "course.secret"), "--out",
                                      str(tmp_path / "exam")])
    assert result.exit_code == 0, result.output
    subs = tmp_path / "subs"
    subs.mkdir()
    for sid, typed in (("zoë", "zoe\u0308"), ("ann-lee", "Ann-Lee")):  # decomposed ë; capitals
        blank = (tmp_path / "exam" / "students" / sid / "answers.yaml").read_text()
        assert f'student: "{sid}"' in blank or f"student: {sid}" in blank
        (subs / f"{sid}.yaml").write_text(blank.replace(f'student: "{sid}"', f'student: "{typed}"')
                                          .replace(f"student: {sid}", f"student: {typed}"))
    result = CliRunner().invoke(cli, ["grade", str(tmp_path / "exam" / "key.json"), str(subs), "--out",
                                      str(tmp_path / "g.csv")])
    assert result.exit_code == 0, result.output
    rows = (tmp_path / "g.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert sorted(r.split(",")[0] for r in rows) == ["ann-lee", "zoë"]  # the roster's ids in the gradebook
    assert "The sheet's student 'Ann-Lee' is the roster's 'ann-lee'" in result.stderr


def test_a_roster_refuses_ids_that_differ_only_in_case_and_names_what_it_accepts(tmp_path):
    import pytest

    from exgen.grading.exam import RosterError, read_roster

    (tmp_path / "r.txt").write_text("Ann\nann\n")
    with pytest.raises(RosterError, match=r"line 2: student 'ann' is listed twice \(as 'Ann'"):
        read_roster(tmp_path / "r.txt")
    (tmp_path / "r.txt").write_text("ζωή\n")  # Greek: T1 fonts cannot print it on the paper
    with pytest.raises(RosterError, match="letters of the Latin alphabet, accented ones too"):
        read_roster(tmp_path / "r.txt")
    (tmp_path / "r.txt").write_text("zoë\nłukasz\nSøren\n")
    assert read_roster(tmp_path / "r.txt") == ["zoë", "łukasz", "Søren"]


def test_a_sheet_matching_two_ids_of_an_old_key_without_case_names_both():
    from exgen.generate import generate
    from exgen.grading.grade import Grader
    from exgen.grading.sheet import SubmissionError
    from exgen.manifest import Key

    import pytest

    problems = (generate("compute", None, "easy", 1), generate("compute", None, "easy", 2))
    grader = Grader(Key(problems, meta={"students": {"Ann": [1], "ann": [2]}}))  # a key from before the rule
    with pytest.raises(SubmissionError, match="matches 'Ann' and 'ann' without case"):
        grader.problems_of("ANN")


def test_a_sheet_with_another_roster_student_s_entries_names_whose_paper_they_fit():
    from exgen.generate import generate
    from exgen.grading.grade import Grader
    from exgen.grading.sheet import blank_sheet, parse_sheet
    from exgen.manifest import Key

    import pytest
    from exgen.grading.sheet import SubmissionError

    q, c = generate("quantization", "affine", "easy", 1), generate("compute", "training_time", "easy", 1)
    grader = Grader(Key((q, c), meta={"students": {"ann": [1], "bob": [2]}}))
    sheet = blank_sheet([q], student="bob")  # ann's paper, bob's name
    with pytest.raises(SubmissionError, match=r"are not parts of the paper of 'bob'; they fit the paper of 'ann'"):
        grader.grade(parse_sheet(sheet))
