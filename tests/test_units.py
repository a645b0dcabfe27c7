"""The exact unit scales solvers use agree with pint, which graders use for what students write."""

from __future__ import annotations

import subprocess
import sys

import pytest

from exgen.units import SCALES, convert, registry


@pytest.mark.parametrize("unit", sorted(SCALES))
def test_every_exact_scale_agrees_with_pint(unit):
    dimension, _ = SCALES[unit]
    base = {"information": "byte", "computation": "FLOP", "rate": "FLOP/s", "time": "second"}[dimension]
    assert convert(1.0, unit, base) == pytest.approx(registry().Quantity(1, unit).to(base).magnitude, rel=1e-15)


def test_conversions_between_scales_are_exact_ratios():
    assert convert(14e9, "byte", "GB") == 14.0
    assert convert(2**30, "B", "GiB") == 1.0
    assert convert(86400 * 2.5, "second", "day") == 2.5
    assert convert(1, "PFLOP", "TFLOP") == 1000.0


def test_units_of_different_dimensions_are_refused():
    with pytest.raises(ValueError, match="cannot convert"):
        convert(1.0, "GB", "day")


def test_other_units_fall_back_to_pint():
    assert convert(1.0, "kilobyte", "byte") == pytest.approx(1000.0)


def test_converting_known_units_does_not_import_pint():
    code = ("import sys; from exgen.units import convert; convert(3e9, 'byte', 'GiB'); "
            "convert(5, 'day', 'second'); print('pint' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_every_unit_an_answer_is_asked_in_is_known_to_the_key_reader_and_to_pint():
    """A key's units skip pint when they are in ANSWER_UNITS: every topic's answers use only those (20 instances
    of every variant and difficulty), and each of them is one the unit grammar and pint read."""
    from exgen.generate import generate
    from exgen.grading.parse import parse_unit
    from exgen.topics import TOPIC_NAMES, get
    from exgen.units import ANSWER_UNITS

    used = {part.answer.unit for t in TOPIC_NAMES for v in get(t).variants for d in ("easy", "medium", "hard")
            for seed in range(20) for part in generate(t, v.name, d, seed).solution.parts}
    assert used - {""} <= ANSWER_UNITS
    for unit in ANSWER_UNITS:
        parse_unit(unit)


def test_reading_a_key_does_not_import_pint(tmp_path):
    from exgen.generate import generate
    from exgen.manifest import Key

    Key(tuple(generate(t, None, "medium", 1) for t in ("compute", "intensity", "parallelism"))).write(
        tmp_path / "key.json")
    code = f"import sys; from exgen.manifest import read_key; read_key({str(tmp_path / 'key.json')!r}); " \
           "print('pint' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_an_answer_in_the_unit_its_sheet_names_is_read_without_pint():
    code = ("import sys; from exgen.problem import Answer; from exgen.grading.parse import read_quantity; "
            "r = read_quantity(Answer('number', 14.0, unit='GB', sig=3), '14 GB'); "
            "print(r.value == 14 and not r.notes, 'pint' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False"]


@pytest.mark.parametrize("unit,words", [("t", "tonnes CO2e"), ("hour", "GPU-hours"), ("PFLOP/s*day", "PF-days"),
                                        ("day", "days"), ("B", "bytes"), ("byte", "bytes"), ("bit", "bits"),
                                        ("token/s", "tokens/s"), ("GB", "GB"), ("ms", "ms"), ("percent", "percent")])
def test_a_unit_is_shown_as_the_questions_write_it(unit, words):
    from exgen.units import shown

    assert shown(unit) == words


@pytest.mark.parametrize("unit", ("t", "hour", "PFLOP/s*day", "day", "B", "byte", "bit", "token/s"))
def test_a_student_who_copies_the_shown_unit_is_read_in_the_key_unit(unit):
    """The sheet's comment names the unit as shown; writing it after the number must read as the key's unit."""
    from exgen.grading.parse import parse_answer
    from exgen.problem import Answer
    from exgen.units import shown

    reading = parse_answer(Answer("number", 460.0, unit=unit, sig=3), f"460 {shown(unit)}")
    assert float(reading.value) == 460.0 and not reading.refused


def test_answers_in_hours_are_gpu_hours():
    """`shown` writes hour as GPU-hours: every topic's answer in hours must be a count of GPU-hours."""
    from exgen.generate import generate
    from exgen.topics import TOPIC_NAMES, get

    labels = {part.label for t in TOPIC_NAMES for v in get(t).variants for d in ("easy", "medium", "hard")
              for seed in range(5) for part in generate(t, v.name, d, seed).solution.parts if part.answer.unit == "hour"}
    assert labels == {"GPU-hours"}


def test_keys_feedback_and_sheets_name_the_unit_as_the_question_does():
    from exgen.generate import generate
    from exgen.grading.grade import expected_text
    from exgen.grading.sheet import blank_sheet
    from exgen.render import Renderer

    problem = generate("compute", "energy", "medium", 1)
    answers = {p.id: p.answer for p in problem.solution.parts}
    assert expected_text(answers["tco2"]).endswith(" tonnes CO2e")
    assert "GPU-hours (one unit" in answers["gpu_hours"].tolerance_text()
    assert r"\text{tonnes CO2e}" in Renderer("md").solution(problem)
    sheet = blank_sheet([problem])
    assert "; in tonnes CO2e\n" in sheet and "; in GPU-hours\n" in sheet


def test_a_unit_error_names_the_unit_as_the_question_does():
    from exgen.grading.parse import ParseError, parse_answer
    from exgen.problem import Answer

    with pytest.raises(ParseError, match="in tonnes CO2e"):
        parse_answer(Answer("number", 460.0, unit="t", sig=3), "460 GB")
