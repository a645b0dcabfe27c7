"""Moodle XML: one question category per topic/variant holding its instances, one question per instance.

Every problem is a `cloze` (multianswer) question: each number, integer or matrix entry a
NUMERICAL sub-question, each choice a MULTICHOICE one (Moodle's cloze syntax, parsed on import by
qtype_multianswer_extract_question).  Per sub-question, the answers are, in order: the key with its tolerance
(100 %), then each named mistake with its own tolerance and `exgen check`'s feedback (0 %) — Moodle takes the
first answer whose interval holds the response, as `exgen check` tests the key before the mistakes.
With `--per-part` every part is a question of its own instead, in a category per topic/variant/part: a number
is a `numerical` question whose units carry Moodle multipliers (exact, from exgen.units.SCALES) where the key
accepts conversions, a choice a `multichoice`, a matrix a cloze grid.  The worked solution is the general
feedback.  Nothing is evaluated inside Moodle: every value is frozen.

Weights: exgen gives each part 1 point (or an exam spec's points) and a matrix or vector entry 1/n of them.  Moodle's
importer (qtype_multianswer_extract_question) reads a cloze weight as a whole number and makes the question's mark
the sum of the weights; it reads no <defaultgrade> for a cloze question.  So each box weighs its points times the
smallest whole k that makes every weight an integer: the mark is the points wherever they split into whole boxes,
else k times the points (and a note says so).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

from lxml import etree

from exgen.export import common as c
from exgen.problem import Problem

# Moodle's grade list (question_bank::fraction_options_full), in percent: the only fractions its importer keeps.
GRADES = (100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20, 16.66667, 14.28571, 12.5,
          11.11111, 10, 5, 0)
PENALTY = "0.3333333"
ROOT = "$course$/top/exgen"
TOKEN = "\u2063cloze:{}\u2063"


def _text(parent: etree._Element, tag: str, text: str, fmt: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, tag, **({"format": fmt} if fmt else {}))
    etree.SubElement(el, "text").text = text
    return el


def _cloze_escape(html: str) -> str:
    """Feedback or choice text inside a cloze token: Moodle ends a token's feedback at an unescaped `~` or `}`,
    and an answer at `#`, `~` or `}`; it html-entity-decodes both, so those characters (and `&`, to keep the
    HTML's own entities) travel as entities."""
    return (html.replace("&", "&amp;").replace("}", "&#125;").replace("~", "&#126;").replace("#", "&#35;")
            .replace("{", "&#123;"))


def _numerical_token(entry: c.Entry, weight: int, mistakes: list) -> str:
    alts = [f"={c.number_text(entry.value)}:{c.number_text(entry.allowance)}#{_cloze_escape('Correct.')}"]
    answer = entry.part.answer
    for mistake, wrong in mistakes:
        if answer.sig is not None and not wrong:
            continue  # a mistake of 0 has no significant figures: exgen cannot match it either
        as_key = answer.allowance(wrong) if answer.sig is not None else entry.allowance
        alts.append(f"%0%{c.number_text(wrong)}:{c.number_text(as_key)}#"
                    + _cloze_escape(c.plain_html(c.mistake_feedback(mistake))))
    return "{" + f"{weight}:NUMERICAL:" + "~".join(alts) + "}"


def _choice_token(entry: c.Entry, weight: int, mistakes: list) -> str:
    feedback = {wrong: c.mistake_feedback(m) for m, wrong in mistakes}
    alts = []
    for choice in entry.part.answer.choices:
        mark = "=" if choice == entry.part.answer.value else "%0%"
        fb = "Correct." if mark == "=" else feedback.get(choice, "Not the expected choice.")
        alts.append(f"{mark}{_cloze_escape(choice)}#{_cloze_escape(c.plain_html(fb))}")
    return "{" + f"{weight}:MULTICHOICE:" + "~".join(alts) + "}"


def weights(parts, points: dict[str, float]) -> dict[str, int]:
    """Each part's weight per box: its points over its boxes (exgen's credit per entry) times the smallest
    whole k that makes them all integers, so that Moodle's mark, the sum of the weights, is k times the points
    (k = 1 where the points split into whole boxes)."""
    exact = {p.id: Fraction(c.worth(points, p)).limit_denominator(1000) / len(c.entries(p)) for p in parts}
    k = math.lcm(*(f.denominator for f in exact.values())) if exact else 1
    return {pid: int(f * k) for pid, f in exact.items()}


def mark(parts, weight: dict[str, int]) -> int:
    """The mark Moodle's importer gives a cloze question: the sum of its box weights."""
    return sum(weight[p.id] * len(c.entries(p)) for p in parts)


def _cloze(problem: Problem, number: int, mistakes: dict, points: dict, notes: list[str],
           inexact: list[str]) -> etree._Element:
    gradeable = []
    for part in problem.solution.parts:
        try:
            c.expressible(part, "Moodle")
            gradeable.append(part)
        except c.NotExpressible as e:
            notes.append(f"{c.title(problem, number)}: {e}")
    ids = {p.id for p in gradeable}
    weight = weights(gradeable, points)
    _check_mark(c.title(problem, number), gradeable, weight, points, inexact)
    tokens: list[str] = []   # cloze tokens are Moodle's own syntax inside the HTML: placed after serialising

    def placeholder(token: str) -> str:
        tokens.append(token)
        return TOKEN.format(len(tokens) - 1)

    def slot(pid: str):
        if pid not in ids:
            yield " (not graded online)"
            return
        part = problem.solution.part(pid)
        boxes = c.entries(part)
        share = weight[pid]

        def token(entry: c.Entry) -> str:
            wrong = c.mistake_values(problem, mistakes, entry) if not entry.index else []
            if part.answer.kind == "choice":
                return _choice_token(entry, share, wrong)
            return _numerical_token(entry, share, wrong)

        if part.answer.kind in ("number", "integer", "choice"):
            unit = c.unit_words(part.answer)
            yield " " + placeholder(token(boxes[0])) + (f" {unit}" if unit else "")
            return
        yield _grid(part, lambda entry: placeholder(token(entry)))

    body = c.html(c.MarkedRenderer().question(problem), slot)
    q = etree.Element("question", type="cloze")
    _text(q, "name", c.title(problem, number))
    _text(q, "questiontext", cloze_html(c.html_text(body), tokens), "html")
    _text(q, "generalfeedback", c.html_text(c.html(c.MarkedRenderer().solution(problem))), "html")
    etree.SubElement(q, "penalty").text = PENALTY
    etree.SubElement(q, "hidden").text = "0"
    etree.SubElement(q, "idnumber").text = _idnumber(problem, number)
    return q


def _check_mark(name: str, parts, weight: dict[str, int], points: dict, inexact: list[str]) -> None:
    total = sum(Fraction(c.worth(points, p)).limit_denominator(1000) for p in parts)
    if mark(parts, weight) != total:
        inexact.append(f"{name} ({mark(parts, weight)} for {float(total):g})")


def _grid(part, cell) -> etree._Element:
    """A matrix or vector part's boxes as a table, `cell(entry)` the text of each cell."""
    table = etree.Element("table", {"class": "exgen-grid"})
    rows = part.answer.value if part.answer.kind == "matrix" else [part.answer.value]
    for i, row in enumerate(rows):
        tr = etree.SubElement(table, "tr")
        for j in range(len(row)):
            etree.SubElement(tr, "td").text = cell(c.Entry(part, (i, j) if part.answer.kind == "matrix" else (j,)))
    return table


# ---- one question per part (--per-part) ------------------------------------------------------------


def unit_name(answer) -> str:
    """The key's unit as a student types it."""
    return "%" if answer.unit == "percent" else answer.unit


def units(answer) -> list[tuple[str, float]]:
    """(unit, Moodle multiplier) for a numerical question: the key's unit (multiplier 1) and, where the key
    accepts conversions, every unit of the same dimension in exgen.units.SCALES (exact factors); Moodle divides
    a response in unit u by its multiplier, so the multiplier is how many u make one key unit."""
    from exgen.units import SCALES

    if not answer.unit:
        return []
    out = [(unit_name(answer), 1.0)]
    if answer.convertible and answer.unit in SCALES:
        dimension, scale = SCALES[answer.unit]
        out += [(u, float(scale / s)) for u, (d, s) in SCALES.items() if d == dimension and u != answer.unit]
    return out


def _answer(q: etree._Element, fraction: str, value: str, tolerance: str | None, feedback: str) -> None:
    a = etree.SubElement(q, "answer", fraction=fraction, format="html")
    etree.SubElement(a, "text").text = value
    if tolerance is not None:
        etree.SubElement(a, "tolerance").text = tolerance
    _text(a, "feedback", feedback, "html")


def _single(qtype: str, problem: Problem, number: int, part, text: str, points: float) -> etree._Element:
    q = etree.Element("question", type=qtype)
    _text(q, "name", f"{c.title(problem, number)} {part.id}")
    _text(q, "questiontext", text, "html")
    _text(q, "generalfeedback", c.html_text(c.html(c.MarkedRenderer().solution(problem))), "html")
    etree.SubElement(q, "defaultgrade").text = c.number_text(points)
    etree.SubElement(q, "penalty").text = PENALTY
    etree.SubElement(q, "hidden").text = "0"
    etree.SubElement(q, "idnumber").text = f"{_idnumber(problem, number)}-{part.id}"
    return q


def _numerical(problem: Problem, number: int, part, mistakes: list, points: float) -> etree._Element:
    answer, entry = part.answer, c.Entry(part)
    accepted = units(answer)
    note = (f", in {c.unit_words(answer)}" if answer.unit else "") + "." + \
        (" You may write the answer with a unit: " + ", ".join(u for u, _ in accepted) + "." if len(accepted) > 1
         else "")
    q = _single("numerical", problem, number, part, c.html_text(c.part_stem(problem, part.id, note)), points)
    _answer(q, "100", c.number_text(entry.value), c.number_text(entry.allowance), "Correct.")
    for mistake, wrong in mistakes:
        if answer.sig is not None and not wrong:
            continue
        as_key = answer.allowance(wrong) if answer.sig is not None else entry.allowance
        _answer(q, "0", c.number_text(wrong), c.number_text(as_key), c.plain_html(c.mistake_feedback(mistake)))
    if accepted:
        element = etree.SubElement(q, "units")
        for name, multiplier in accepted:
            unit = etree.SubElement(element, "unit")
            etree.SubElement(unit, "multiplier").text = c.number_text(multiplier)
            etree.SubElement(unit, "unit_name").text = name
    for tag, value in (("unitgradingtype", "0"), ("unitpenalty", "0"), ("showunits", "0" if accepted else "3"),
                       ("unitsleft", "0")):
        etree.SubElement(q, tag).text = value
    return q


def _multichoice(problem: Problem, number: int, part, mistakes: list, points: float) -> etree._Element:
    answer = part.answer
    q = _single("multichoice", problem, number, part, c.html_text(c.part_stem(problem, part.id, ".")), points)
    for tag, value in (("single", "true"), ("shuffleanswers", "false"), ("answernumbering", "abc")):
        etree.SubElement(q, tag).text = value
    feedback = {wrong: c.mistake_feedback(m) for m, wrong in mistakes}
    for choice in answer.choices:
        right = choice == answer.value
        _answer(q, "100" if right else "0", choice, None,
                "Correct." if right else c.plain_html(feedback.get(choice, "Not the expected choice.")))
    return q


def _grid_question(problem: Problem, number: int, part, points: float, inexact: list[str]) -> etree._Element:
    tokens: list[str] = []
    weight = weights([part], {part.id: points})
    _check_mark(f"{c.title(problem, number)} {part.id}", [part], weight, {part.id: points}, inexact)
    share = weight[part.id]

    def cell(entry: c.Entry) -> str:
        tokens.append(_numerical_token(entry, share, []))
        return TOKEN.format(len(tokens) - 1)

    body = c.part_stem(problem, part.id, ", one box per entry.", box=lambda: [_grid(part, cell)])
    q = _single("cloze", problem, number, part, cloze_html(c.html_text(body), tokens), points)
    q.remove(q.find("defaultgrade"))  # Moodle reads none for a cloze question: its mark is the weights' sum
    return q


def per_part(problem: Problem, number: int, mistakes: dict, points: dict, notes: list[str],
             inexact: list[str]) -> list[tuple[str, etree._Element]]:
    """(category, question) for each part a student answers on its own: numerical (with units), multichoice,
    or a cloze grid for a matrix or vector."""
    out = []
    for part in problem.solution.parts:
        try:
            c.expressible(part, "Moodle")
        except c.NotExpressible as e:
            notes.append(f"{c.title(problem, number)}: {e}")
            continue
        wrong = c.mistake_values(problem, mistakes, c.Entry(part)) if part.answer.kind not in ("matrix", "vector") \
            else []
        worth = c.worth(points, part)
        if part.answer.kind == "choice":
            q = _multichoice(problem, number, part, wrong, worth)
        elif part.answer.kind in ("number", "integer"):
            q = _numerical(problem, number, part, wrong, worth)
        else:
            q = _grid_question(problem, number, part, worth, inexact)
        out.append((f"{c.category(problem)}/{part.id}", q))
    return out


def cloze_html(html: str, tokens: list[str]) -> str:
    """The question's HTML with its cloze tokens in place. Every `{` of the question itself becomes `&#123;`
    (the same character to a browser and to MathJax), so no text of the question can ever read as a token."""
    return re.sub(TOKEN.format("([0-9]+)"), lambda m: tokens[int(m.group(1))], html.replace("{", "&#123;"))


def _idnumber(problem: Problem, number: int) -> str:
    return f"exgen-{problem.topic}-{problem.variant}-{number}"


def build(problems: list[tuple[int, Problem]], mistakes: dict[int, dict], points: dict[int, dict],
          split: bool = False) -> tuple[bytes, list[str]]:
    """The Moodle XML document for `problems` ((number, problem), grouped by category) and the notes about
    parts left out: one cloze question per problem, or with `split` one question per part."""
    quiz = etree.Element("quiz")
    notes: list[str] = []
    inexact: list[str] = []
    banks: dict[str, list[etree._Element]] = {}
    for number, problem in problems:
        if split:
            for bank, q in per_part(problem, number, mistakes[number], points[number], notes, inexact):
                banks.setdefault(bank, []).append(q)
        else:
            banks.setdefault(c.category(problem), []).append(_cloze(problem, number, mistakes[number],
                                                                    points[number], notes, inexact))
    if inexact:
        notes.append(f"{len(inexact)} cloze question(s) cannot weigh their boxes in whole points (Moodle's "
                     "weights are integers and its mark is their sum), so their mark is a multiple of their "
                     "points, in proportion: " + ", ".join(inexact[:3]) + (", ..." if len(inexact) > 3 else "")
                     + "; set the quiz slot's mark to the points")
    for bank, questions in banks.items():
        cat = etree.SubElement(quiz, "question", type="category")
        _text(cat, "category", f"{ROOT}/{bank}")
        _text(cat, "info", f"exgen {bank}: frozen instances with checked keys; draw one with a random question "
                           "from this category.", "html")
        quiz.extend(questions)
    return etree.tostring(quiz, xml_declaration=True, encoding="UTF-8", pretty_print=True), notes


def fraction_allowed(percent: Any) -> bool:
    """Whether Moodle's importer keeps this fraction (percent) as written."""
    return any(abs(float(percent) - g) < 1e-4 for g in GRADES)
