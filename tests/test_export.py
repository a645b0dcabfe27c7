"""LMS exports: each file read back the way its importer reads it, and graded the way its LMS grades it.

No IMS schema ships in a package registry (docs/decisions.md, "LMS export"), so the QTI files are checked
against the element and attribute rules the importers rely on.  The Moodle file is parsed with a port of Moodle's
own cloze regular expressions (qtype_multianswer_extract_question).  Three small scorers — Moodle's numerical
matching (with unit multipliers), QTI 2.1 response processing, QTI 1.2 response conditions — apply every exported rule to the key, to
values just inside and just outside the tolerance, to each named mistake and to each choice; their verdicts must
be `exgen check`'s (grade_part) for every topic and variant.
"""

from __future__ import annotations

import html as htmllib
import io
import re
import subprocess
import sys
import zipfile
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pytest
from lxml import etree

from exgen.export import common as c
from exgen.export import export, moodle, ordered, problems_from_spec
from exgen.generate import generate
from exgen.grading.compare import entry_results
from exgen.grading.grade import grade_part, mistakes_of
from exgen.manifest import Key
from exgen.topics import TOPIC_NAMES, get

SEEDS = (1, 2)
ROOT = Path(__file__).resolve().parent.parent


# instances with answers or tolerances below 1e-4, which Canvas asks in a scaled unit
SMALL_WANTED = 3  # instances whose answers (or tolerances) fall below Canvas's ~1e-4 floor


@lru_cache(maxsize=1)
def small() -> tuple:
    """The first few instances with a tiny answer or tolerance (quantization errors, autodiff tangents), found by
    search so that a change in sampling never leaves the Canvas rescaling untested."""
    from exgen.export.canvas import scale_exponent

    found = []
    for seed in range(200):
        for args in (("quantization", "absmax", "medium", seed), ("quantization", "affine", "hard", seed),
                     ("autodiff", "forward", "hard", seed)):
            problem = generate(*args)
            if any(scale_exponent(box) for part in problem.solution.parts
                   if part.answer.kind in ("number", "vector", "matrix") for box in c.entries(part)):
                found.append(problem)
            if len(found) == SMALL_WANTED:
                return tuple(found)
    raise AssertionError("no instance with a tiny answer in 200 seeds: widen the search")


@lru_cache(maxsize=1)
def bank():
    """Every topic x variant, two seeds each, and a few with tiny answers, as one key would hold them."""
    return [generate(t, v.name, "easy", seed) for t in TOPIC_NAMES for v in get(t).variants for seed in SEEDS] \
        + list(small())


def per_bank() -> dict[str, int]:
    counts: dict[str, int] = {}
    for p in bank():
        counts[c.category(p)] = counts.get(c.category(p), 0) + 1
    return counts


@lru_cache(maxsize=None)
def exported(fmt: str):
    return export(fmt, bank())


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


# ---- the responses every rule is tried on, and what exgen check says --------------------------------


def _text(value) -> str:
    if isinstance(value, list):
        rows = value if value and isinstance(value[0], list) else [value]
        return "; ".join(" ".join(c.number_text(x) for x in row) for row in rows)
    return value if isinstance(value, str) else c.number_text(value)


def _near(entry: c.Entry, side: float, outside: bool) -> float:
    """A value just inside (or just outside) the tolerance around this box's key, on one side."""
    key, allowance = float(entry.value), entry.allowance
    if allowance == 0:
        return key + side * (1 if outside else 0)
    return key + side * allowance * ((1 + 1e-4) if outside else (1 - 1e-6))


def _replace(value, index, new):
    if not index:
        return new
    copy = [list(r) if isinstance(r, list) else r for r in value]
    if len(index) == 2:
        copy[index[0]][index[1]] = new
    else:
        copy[index[0]] = new
    return copy


def candidates(problem, part):
    """(name, response value) to try on a part: the key, values at the tolerance, the mistakes, the choices."""
    answer = part.answer
    out = [("key", answer.value)]
    if answer.kind == "choice":
        out += [(f"choice {ch}", ch) for ch in answer.choices if ch != answer.value]
    else:
        first = c.entries(part)[0]
        for side in (-1, 1):
            for outside in (False, True):
                value = _near(first, side, outside)
                if answer.kind == "integer" and not outside:
                    value = answer.value
                out.append((f"{'out' if outside else 'in'}{side:+d}", _replace(answer.value, first.index, value)))
    for mistake, wrong in mistakes_of(problem).get(part.id, []):
        out.append((f"mistake {mistake.name}", wrong))
    return out


def verdict(points: float) -> str:
    return "correct" if points == pytest.approx(1) else "wrong" if points == pytest.approx(0) else "partial"


def expected(problem, part, name, value, fmt, text=None):
    """exgen check's verdict and named mistake for `text` (default: the value in the key's unit); for a matrix or
    vector mistake, Moodle and Canvas (one box per entry, no rule across a whole matrix) give credit per entry
    instead, and a Canvas numerical question names no mistake (it holds correct answers only) — the documented
    differences."""
    g = grade_part("1." + part.id, part, text or _text(value), mistakes_of(problem).get(part.id, []))
    if fmt in ("moodle", "canvas") and part.answer.kind in ("matrix", "vector") and name.startswith("mistake"):
        results = entry_results(part.answer, value)
        return verdict(sum(results) / len(results) if results else 0.0), "", g.points
    if fmt == "canvas" and part.answer.kind != "choice":
        return g.verdict, "", g.points
    return g.verdict, g.mistake.replace("_", " "), g.points


def _box_value(value, entry: c.Entry):
    for i in entry.index:
        value = value[i]
    return value


# ---- Moodle: its importer's cloze parser and its numerical grading ----------------------------------

FRACTION = r"=|%(-?[0-9]+(?:[.,][0-9]*)?)%"
ANSWER = r".+?(?<!\\)(?<!&)(?<!&amp;)(?=[~#}]|$)"
FEEDBACK = r".*?(?<!\\)(?=[~}]|$)"
ALT = "(" + FRACTION + ")?(" + ANSWER + ")(#(" + FEEDBACK + "))?"
NUMBER = r"-?(([0-9]+[.,]?[0-9]*|[.,][0-9]+)([eE][-+]?[0-9]+)?)"
NUMERICAL_ALT = "^(" + NUMBER + ")(:" + NUMBER + ")?$"
ALT_ANY = r"(?:=|%-?[0-9]+(?:[.,][0-9]*)?%)?(?:" + ANSWER + ")(?:#(?:" + FEEDBACK + "))?"
TOKEN = re.compile(r"\{([0-9]*):(NUMERICAL|NM|MULTICHOICE|MC|SHORTANSWER|SA):(" + ALT_ANY + "(?:~" + ALT_ANY
                   + r")*)\}", re.S)


def moodle_subquestions(questiontext: str):
    """Moodle's reading of a cloze question: [(weight, type, [(fraction, answer, tolerance, feedback)])]."""
    subs = []
    text = questiontext
    while (m := TOKEN.search(text)):
        weight, qtype, remaining = int(m.group(1) or 1), m.group(2), m.group(3)
        answers = []
        while (a := re.search("~?" + ALT, remaining, re.S)):
            fraction = 1.0 if a.group(1) == "=" else 0.01 * float(a.group(2).replace(",", ".")) if a.group(2) else 0.0
            feedback = htmllib.unescape(a.group(5) or "").replace("\\}", "}").replace("\\#", "#")
            if qtype == "NUMERICAL":
                n = re.match(NUMERICAL_ALT, a.group(3), re.S)
                assert n, f"Moodle refuses the numerical answer {a.group(3)!r}"
                answers.append((fraction, float(n.group(1)), float(n.group(6) or 0), feedback))
            else:
                answers.append((fraction, htmllib.unescape(a.group(3)).replace("\\}", "}").replace("\\#", "#"),
                                None, feedback))
            remaining = remaining.split(a.group(0), 1)[1]
        subs.append((weight, qtype, answers))
        text = text.replace(m.group(0), f"{{#{len(subs)}}}", 1)
    return subs, text


def moodle_grade(answers, response):
    """qtype_numerical / qtype_multichoice: the first answer the response matches (Moodle widens a nominal
    tolerance by 10^-14 of the answer, its float precision), and its fraction and feedback."""
    for fraction, value, tolerance, feedback in answers:
        if tolerance is None:
            if response == value:
                return fraction, feedback
        elif abs(float(response) - value) <= tolerance + 1e-14 * max(1.0, abs(value)):
            return fraction, feedback
    return 0.0, ""


def moodle_questions():
    return moodle_questions_of(exported("moodle").data)


def moodle_questions_of(data: bytes):
    root = etree.fromstring(data)
    category, out = None, []
    for q in root:
        assert q.tag == "question"
        if q.get("type") == "category":
            category = q.findtext("category/text")
            continue
        out.append((category, q))
    return out


def test_moodle_reads_back_as_its_importer_reads_it():
    """Categories per topic/variant holding their instances, cloze questions whose tokens Moodle parses into one
    sub-question per box (weights: 1 point per part), fractions from Moodle's grade list, the solution as general
    feedback, and math for MathJax."""
    questions = moodle_questions()
    assert len(questions) == len(bank())
    for (category, q), (number, problem) in zip(questions, ordered(bank())):
        assert category == f"$course$/top/exgen/{problem.topic}/{problem.variant}"
        assert q.get("type") == "cloze"
        assert q.find("questiontext").get("format") == "html"
        subs, rest = moodle_subquestions(q.findtext("questiontext/text"))
        parts = [p for p in problem.solution.parts if p.answer.kind != "expression"]
        boxes = [b for p in parts for b in c.entries(p)]
        assert len(subs) == len(boxes)
        assert "{1:" not in rest and ":NUMERICAL:" not in rest
        weights = {}
        for (weight, qtype, answers), box in zip(subs, boxes):
            assert qtype == ("MULTICHOICE" if box.part.answer.kind == "choice" else "NUMERICAL")
            assert all(moodle.fraction_allowed(100 * f) for f, *_ in answers)
            assert max(f for f, *_ in answers) == 1.0
            weights.setdefault(box.part.id, []).append(weight)
        assert len({sum(w) for w in weights.values()}) == 1, "every part weighs the same"
        assert "\\(" in rest and "$" not in re.sub(r"\$course\$", "", rest)
        solution = q.findtext("generalfeedback/text")
        assert "Answers" in solution and "\\[" in solution or "\\(" in solution
        assert q.findtext("name/text") == c.title(problem, number)


def test_moodle_scores_every_part_as_exgen_check_does():
    checked = 0
    for (_, q), (number, problem) in zip(moodle_questions(), ordered(bank())):
        subs, _ = moodle_subquestions(q.findtext("questiontext/text"))
        i = 0
        for part in problem.solution.parts:
            if part.answer.kind == "expression":
                continue
            boxes = c.entries(part)
            mine, i = subs[i:i + len(boxes)], i + len(boxes)
            for name, value in candidates(problem, part):
                points, mistake = 0.0, ""
                for (weight, _, answers), box in zip(mine, boxes):
                    fraction, feedback = moodle_grade(answers, _box_value(value, box))
                    points += weight * fraction / sum(w for w, _, _ in mine)
                    found = re.search(r"known mistake \(([^)]*)\)", feedback)
                    mistake = mistake or (found.group(1) if found else "")
                want_verdict, want_mistake, _ = expected(problem, part, name, value, "moodle")
                assert (verdict(points), mistake) == (want_verdict, want_mistake), \
                    f"{problem.topic}/{problem.variant} seed {problem.seed} {part.id} {name}"
                checked += 1
    assert checked > 500


def moodle_single_grade(q, response: str):
    """qtype_numerical with units (a response in unit u is divided by u's multiplier; no unit is the first
    unit) and qtype_multichoice (the chosen answer's fraction)."""
    answers = q.findall("answer")
    if q.get("type") == "multichoice":
        return next((float(a.get("fraction")) / 100, a.findtext("feedback/text")) for a in answers
                    if a.findtext("text") == response)
    number, _, unit = response.partition(" ")
    multipliers = {u.findtext("unit_name"): float(u.findtext("multiplier")) for u in q.iter("unit")}
    value = float(number) / (multipliers[unit] if unit else 1.0)
    return moodle_grade([(float(a.get("fraction")) / 100, float(a.findtext("text")), float(a.findtext("tolerance")),
                          a.findtext("feedback/text")) for a in answers], value)


def test_moodle_per_part_questions_score_as_exgen_check_does():
    """--per-part: numerical questions with unit multipliers, multichoice, cloze grids; a response in any listed
    unit, a mistake, a value at the tolerance: Moodle's verdict is exgen check's."""
    questions = {q.findtext("name/text"): (category, q)
                 for category, q in moodle_questions_of(export("moodle", bank(), per_part=True).data)}
    checked = converted = 0
    for number, problem in ordered(bank()):
        for part in problem.solution.parts:
            if part.answer.kind == "expression":
                continue
            category, q = questions.pop(f"{c.title(problem, number)} {part.id}")
            assert category == f"$course$/top/exgen/{problem.topic}/{problem.variant}/{part.id}"
            kind = part.answer.kind
            assert q.get("type") == {"choice": "multichoice", "number": "numerical", "integer": "numerical"}.get(
                kind, "cloze")
            assert all(moodle.fraction_allowed(a.get("fraction")) for a in q.findall("answer"))
            tries = [(name, value, _text(value)) for name, value in candidates(problem, part)]
            if q.get("type") == "numerical":
                units = [(u.findtext("unit_name"), float(u.findtext("multiplier"))) for u in q.iter("unit")]
                assert not units or units[0] == (moodle.unit_name(part.answer), 1.0)
                # integer keys: exgen check multiplies a converted answer in floats, and 9.6e-7 GFLOP misses 960
                # FLOP by one ulp (a grading issue reported, not the export's); numbers are compared in tolerance
                for unit, multiplier in units[1:4] if kind == "number" else ():
                    for name, value in candidates(problem, part)[:4]:
                        exact = Decimal(c.number_text(value)) * Decimal(c.number_text(multiplier))  # as typed
                        tries.append((name, value, f"{exact.normalize()} {unit}"))
                        converted += 1
            for name, value, text in tries:
                if q.get("type") == "cloze":
                    subs, _ = moodle_subquestions(q.findtext("questiontext/text"))
                    boxes = c.entries(part)
                    points = sum(w * moodle_grade(answers, _box_value(value, b))[0]
                                 for (w, _, answers), b in zip(subs, boxes)) / sum(w for w, _, _ in subs)
                    feedback = ""
                else:
                    points, feedback = moodle_single_grade(q, text)
                found = re.search(r"known mistake \(([^)]*)\)", feedback or "")
                want_verdict, want_mistake, _ = expected(problem, part, name, value, "moodle", text)
                assert (verdict(points), found.group(1) if found else "") == (want_verdict, want_mistake), \
                    f"{problem.topic}/{problem.variant} seed {problem.seed} {part.id} {name}: {text!r}"
                checked += 1
    assert not questions and checked > 500 and converted > 100


def moodle_mark(q) -> int:
    """The mark Moodle's importer gives a cloze question: import_multianswer reads no <defaultgrade>, and
    qtype_multianswer_extract_question sums its sub-questions' weights (an empty weight is 1)."""
    return sum(weight for weight, _, _ in moodle_subquestions(q.findtext("questiontext/text"))[0])


def whole_k(shares) -> int:
    """The smallest whole k that makes every share (a part's points over its boxes) an integer."""
    from fractions import Fraction
    from math import lcm

    return lcm(*(Fraction(s).limit_denominator(1000).denominator for s in shares))


def test_a_moodle_cloze_question_s_mark_is_its_points():
    """Moodle's mark is the sum of the weights: it equals the spec's points wherever they split into whole boxes
    (a 4-point problem of two 2-point numbers is worth 4, not 2), else the least multiple of them that does, and
    one note names those questions."""
    from exgen.exam.spec import parse_spec

    spec = parse_spec("title: Q\nseed: 5\nsections:\n  - topic: compute\n    variant: memory\n    points: 6\n"
                      "  - topic: intensity\n    variant: bound\n    points_per_part: 2\n"
                      "  - topic: quantization\n    variant: affine\n    points_per_part: 2\n")
    problems, points = problems_from_spec(spec, 2)
    for split in (False, True):
        result = export("moodle", problems, points, per_part=split)
        questions = [q for _, q in moodle_questions_of(result.data)]
        inexact = []
        for number, problem in ordered(problems):
            parts = [p for p in problem.solution.parts if p.answer.kind != "expression"]
            groups = [[p] for p in parts if p.answer.kind in ("matrix", "vector")] if split else [parts]
            for group in groups:
                q = next(q for q in questions if q.findtext("name/text").startswith(c.title(problem, number))
                         and (not split or q.findtext("name/text").endswith(" " + group[0].id)))
                assert q.find("defaultgrade") is None, "Moodle ignores it for a cloze question"
                worth = sum(points[number - 1][p.id] for p in group)
                k = whole_k(points[number - 1][p.id] / len(c.entries(p)) for p in group)
                assert moodle_mark(q) == pytest.approx(k * worth)
                if k > 1:
                    inexact.append(q.findtext("name/text"))
        assert {n.startswith(f"{len(inexact)} cloze question") for n in result.notes if "cloze" in n} \
            == ({True} if inexact else set())
        if not split:
            assert [moodle_mark(q) for q in questions[:2]] == [6, 6] and len(inexact) < len(questions)


# ---- QTI 2.1: structure and a response-processing interpreter --------------------------------------

NS = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
ITEM_ORDER = ["responseDeclaration", "outcomeDeclaration", "itemBody", "responseProcessing", "modalFeedback"]
INLINE_ONLY = {"p", "strong", "code", "li"}     # elements whose content model is inline (li: ours are)
BLOCK = {"p", "div", "table", "ul"}


def qti21_items():
    files = members(exported("qti21").data)
    manifest = etree.fromstring(files["imsmanifest.xml"])
    resources = manifest.findall(f"{CP}resources/{CP}resource")
    items = {r.get("identifier"): r.get("href") for r in resources if r.get("type") == "imsqti_item_xmlv2p1"}
    return files, manifest, resources, items


def test_qti21_package_follows_the_rules_its_importers_read():
    files, manifest, resources, items = qti21_items()
    assert [r.get("type") for r in resources].count("imsqti_test_xmlv2p1") == 1
    for r in resources:
        for f in r.findall(f"{CP}file"):
            assert f.get("href") in files
    assert len(items) == len(bank())
    test = etree.fromstring(files["test.xml"])
    assert test.tag == NS + "assessmentTest"
    sections = test.findall(f"{NS}testPart/{NS}assessmentSection")
    assert len(sections) == sum(len(get(t).variants) for t in TOPIC_NAMES)
    for section in sections:
        assert section[0].tag == NS + "selection" and section[0].get("select") == "1"
        refs = section.findall(f"{NS}assessmentItemRef")
        assert len(refs) == per_bank()[section.get("title")]
        assert all(items[r.get("identifier")] == r.get("href") for r in refs)
    for ident, href in items.items():
        item = etree.fromstring(files[href])
        assert item.tag == NS + "assessmentItem" and item.get("identifier") == ident
        assert {"title", "adaptive", "timeDependent"} <= set(item.attrib)
        order = [ITEM_ORDER.index(child.tag[len(NS):]) for child in item]
        assert order == sorted(order), "children in the order the XSD's sequence fixes"
        for el in item.iter():
            assert isinstance(el.tag, str) and el.tag.startswith(NS), el.tag
        for el in item.iter(*(NS + t for t in INLINE_ONLY)):
            assert not any(child.tag[len(NS):] in BLOCK for child in el), f"block inside <{el.tag}> in {href}"
        declared = {d.get("identifier") for d in item.findall(f"{NS}responseDeclaration")}
        used = {i.get("responseIdentifier") for i in item.iter(NS + "textEntryInteraction",
                                                               NS + "inlineChoiceInteraction")}
        assert declared == used
        shown = {f.get("identifier") for f in item.findall(f"{NS}modalFeedback")}
        set_ = {b.text for b in item.iter(NS + "baseValue") if b.get("baseType") == "identifier"
                and b.getparent().tag == NS + "multiple"}
        assert shown == set_


def qti21_run(item, responses: dict) -> tuple[float, set]:
    """QTI 2.1 response processing, for the operators the export writes."""
    values = {"SCORE": 0.0, "FEEDBACK": set(), **responses}

    def ev(el):
        tag = el.tag[len(NS):]
        if tag == "variable":
            return values.get(el.get("identifier"))
        if tag == "baseValue":
            return float(el.text) if el.get("baseType") == "float" else el.text
        args = [ev(ch) for ch in el]
        if tag == "and":
            return None if None in args else all(args)
        if tag == "sum":
            return sum(args)
        if tag == "multiple":
            return set(args[0]) | {args[1]}
        if None in args:
            return None
        if tag == "match":
            return args[0] == args[1]
        if tag == "equal":
            x, y = float(args[0]), float(args[1])
            if el.get("toleranceMode") == "exact":
                return x == y
            t0, t1 = (float(t) for t in (el.get("tolerance").split() * 2)[:2])
            low_ok = x >= y - t0 if el.get("includeLowerBound", "true") == "true" else x > y - t0
            high_ok = x <= y + t1 if el.get("includeUpperBound", "true") == "true" else x < y + t1
            return low_ok and high_ok
        raise AssertionError(f"unexpected operator {tag}")

    def run(rule):
        tag = rule.tag[len(NS):]
        if tag == "setOutcomeValue":
            values[rule.get("identifier")] = ev(rule[0])
        elif tag == "responseCondition":
            for branch in rule:
                kind = branch.tag[len(NS):]
                if kind == "responseElse" or ev(branch[0]):
                    for r in (branch if kind == "responseElse" else branch[1:]):
                        run(r)
                    return
        else:
            raise AssertionError(f"unexpected rule {tag}")

    for rule in item.find(f"{NS}responseProcessing"):
        run(rule)
    return values["SCORE"], values["FEEDBACK"]


def test_qti21_scores_every_part_as_exgen_check_does():
    from exgen.export.qti21 import choice_id, response_id

    files, _, _, items = qti21_items()
    checked = 0
    for number, problem in ordered(bank()):
        item = etree.fromstring(files[items[f"item-{number}"]])
        feedback = {f.get("identifier"): "".join(f.itertext()) for f in item.findall(f"{NS}modalFeedback")}
        for part in problem.solution.parts:
            if part.answer.kind == "expression":
                continue
            for name, value in candidates(problem, part):
                responses = {}
                try:
                    for box in c.entries(part):
                        v = _box_value(value, box)
                        responses[response_id(box)] = choice_id(part.answer, v) if part.answer.kind == "choice" \
                            else float(v)
                except (IndexError, TypeError):
                    continue  # a mistake of another shape: not a response these boxes can hold
                score, shown = qti21_run(item, responses)
                assert "SOLUTION" in shown
                mistakes = {re.search(r"known mistake \(([^)]*)\)", feedback[f]).group(1)
                            for f in shown - {"SOLUTION"}}
                want_verdict, want_mistake, want_points = expected(problem, part, name, value, "qti21")
                got = (verdict(score), next(iter(mistakes), ""))
                assert got == (want_verdict, want_mistake), \
                    f"{problem.topic}/{problem.variant} seed {problem.seed} {part.id} {name}"
                assert score == pytest.approx(want_points)
                checked += 1
    assert checked > 500


def test_qti21_shows_the_worked_solution_after_the_attempt_and_names_parts_by_their_letter():
    """The worked solution (the text Moodle and Canvas show as general feedback, the same rendering) is a modal
    feedback that response processing always selects, so a player shows it once the attempt is submitted; the
    test part lets feedback show after the last attempt (QTI's default hides it); mistake feedback is titled by
    the part's letter and label, as the student sees the part."""
    files, _, _, items = qti21_items()
    test = etree.fromstring(files["test.xml"])
    assert test.find(f"{NS}testPart/{NS}itemSessionControl").get("showFeedback") == "true"
    moodle_solution = {q.findtext("name/text"): q.findtext("generalfeedback/text") for _, q in moodle_questions()}
    flat = lambda text: re.sub(r"\s+", "", htmllib.unescape(re.sub(r"<[^>]+>", "", text)))
    for number, problem in ordered(bank()):
        item = etree.fromstring(files[items[f"item-{number}"]])
        solution = item.find(f"{NS}modalFeedback[@identifier='SOLUTION']")
        assert solution.get("outcomeIdentifier") == "FEEDBACK" and solution.get("showHide") == "show"
        assert flat("".join(solution.itertext())) == flat(moodle_solution[c.title(problem, number)])
        assert "Answers" in "".join(solution.itertext())
        assert qti21_run(item, {})[1] == {"SOLUTION"}, "shown whatever the response, even none"
        letters = c.letters(c.MarkedRenderer().question(problem))
        for fb in item.findall(f"{NS}modalFeedback"):
            if fb is solution:
                continue
            part = problem.solution.part(fb.get("identifier")[2:].rsplit("_", 1)[0])
            assert fb.get("title") == f"Part ({letters[part.id]}): {part.label}"


# ---- Canvas QTI 1.2: structure and a response-condition interpreter ---------------------------------

Q12 = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CC = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"
META = "{http://canvas.instructure.com/xsd/cccv1p0}"


def canvas_files():
    files = members(exported("canvas").data)
    return files, etree.fromstring(files["exgen_bank/exgen_bank.xml"])


def test_canvas_package_follows_the_rules_its_importer_reads():
    files, root = canvas_files()
    manifest = etree.fromstring(files["imsmanifest.xml"])
    resources = manifest.findall(f"{CC}resources/{CC}resource")
    assert {r.get("type") for r in resources} == {"imsqti_xmlv1p2",
                                                 "associatedcontent/imscc_xmlv1p1/learning-application-resource"}
    for r in resources:
        for f in r.findall(f"{CC}file"):
            assert f.get("href") in files
    assert root.tag == Q12 + "questestinterop"
    groups = root.findall(f"{Q12}assessment/{Q12}section/{Q12}section")
    total = 0.0
    for group in groups:
        selection = group.find(f"{Q12}selection_ordering/{Q12}selection")
        assert selection.findtext(f"{Q12}selection_number") == "1"
        per_item = float(selection.findtext(f"{Q12}selection_extension/{Q12}points_per_item"))
        total += per_item
        items = group.findall(f"{Q12}item")
        assert 1 <= len(items) <= max(per_bank().values())
        for item in items:
            fields = {f.findtext(f"{Q12}fieldlabel"): f.findtext(f"{Q12}fieldentry")
                      for f in item.iter(Q12 + "qtimetadatafield")}
            assert fields["question_type"] in ("numerical_question", "multiple_choice_question")
            assert float(fields["points_possible"]) == per_item
            presentation = item.find(f"{Q12}presentation")
            assert presentation.find(f"{Q12}material/{Q12}mattext").get("texttype") == "text/html"
            if fields["question_type"] == "numerical_question":
                assert presentation.find(f"{Q12}response_str/{Q12}render_fib").get("fibtype") == "Decimal"
            else:
                assert len(presentation.findall(f"{Q12}response_lid/{Q12}render_choice/{Q12}response_label")) >= 2
            feedback = {f.get("ident") for f in item.findall(f"{Q12}itemfeedback")}
            for link in item.iter(Q12 + "displayfeedback"):
                assert link.get("linkrefid") in feedback
            for value in item.iter(Q12 + "varequal", Q12 + "vargte", Q12 + "varlte"):
                if fields["question_type"] == "numerical_question":
                    assert float(value.text) == 0 or abs(float(value.text)) >= 1e-4 * 0.999 or \
                        value.tag != Q12 + "varequal"
    meta = etree.fromstring(files["exgen_bank/assessment_meta.xml"])
    assert float(meta.findtext(f"{META}points_possible")) == pytest.approx(total)


def canvas_run(item, response) -> tuple[float, list[str]]:
    """An item as Canvas imports and scores it (canvas-lms, qti_exporter). A numerical question is a list of
    correct answers, each worth full marks: an <or> holding a <varequal> is an exact answer with the margin its
    <varlte> gives, any other <and> a range answer, and a bare <varequal> is no answer; it shows no per-answer
    feedback. A multiple-choice question runs its conditions in order, `continue="No"` stopping."""
    kind = next(f.findtext(f"{Q12}fieldentry") for f in item.iter(f"{Q12}qtimetadatafield")
                if f.findtext(f"{Q12}fieldlabel") == "question_type")
    if kind == "numerical_question":
        for cond in item.findall(f"{Q12}resprocessing/{Q12}respcondition"):
            var = cond.find(f"{Q12}conditionvar")
            or_, and_ = var.find(f"{Q12}or"), var.find(f".//{Q12}and")
            if or_ is not None and or_.find(f"{Q12}varequal") is not None:
                exact = float(or_.findtext(f"{Q12}varequal"))
                upper = or_.findtext(f"{Q12}and/{Q12}varlte")
                margin = float(upper) - exact if upper is not None else 0.0
                if abs(float(response) - exact) <= margin or float(response) == exact:
                    return 1.0, []
            elif and_ is not None:
                if float(and_.findtext(f"{Q12}vargte")) <= float(response) <= float(and_.findtext(f"{Q12}varlte")):
                    return 1.0, []
        return 0.0, []
    score, shown = 0.0, []

    def ev(el):
        tag = el.tag[len(Q12):]
        if tag in ("conditionvar", "and"):
            return all(ev(ch) for ch in el)
        if tag == "or":
            return any(ev(ch) for ch in el)
        if tag == "varequal":
            return response == el.text if isinstance(response, str) else float(response) == float(el.text)
        raise AssertionError(f"unexpected condition {tag}")

    for cond in item.findall(f"{Q12}resprocessing/{Q12}respcondition"):
        if ev(cond.find(f"{Q12}conditionvar")):
            for setvar in cond.findall(f"{Q12}setvar"):
                score = float(setvar.text)
            shown += [d.get("linkrefid") for d in cond.findall(f"{Q12}displayfeedback")]
            if cond.get("continue") == "No":
                break
    return score / 100, shown


def test_canvas_scores_every_part_as_exgen_check_does():
    from exgen.export.canvas import scale_exponent

    _, root = canvas_files()
    items = {item.get("ident"): item for item in root.iter(Q12 + "item")}
    checked = 0
    for number, problem in ordered(bank()):
        for part in problem.solution.parts:
            if part.answer.kind == "expression":
                continue
            boxes = c.entries(part)
            for name, value in candidates(problem, part):
                points, mistake = 0.0, ""
                for box in boxes:
                    item = items[f"i{number}_{box.label.replace('[', '_').replace(']', '').replace(',', '_')}"]
                    v = _box_value(value, box)
                    if part.answer.kind == "choice":
                        response = f"c{part.answer.choices.index(v) + 1}"
                    else:
                        response = float(v) * 10.0 ** scale_exponent(box)   # as the item asks
                    fraction, shown = canvas_run(item, response)
                    points += fraction / len(boxes)
                    texts = {f.get("ident"): "".join(f.itertext()) for f in item.findall(f"{Q12}itemfeedback")}
                    for ident in shown:
                        found = re.search(r"known mistake \(([^)]*)\)", texts[ident])
                        mistake = mistake or (found.group(1) if found else "")
                want_verdict, want_mistake, _ = expected(problem, part, name, value, "canvas")
                assert (verdict(points), mistake) == (want_verdict, want_mistake), \
                    f"{problem.topic}/{problem.variant} seed {problem.seed} {part.id} {name}"
                checked += 1
    assert checked > 500


def test_canvas_asks_tiny_answers_in_a_scaled_unit_and_says_so():
    _, root = canvas_files()
    from exgen.export.canvas import scale_exponent

    scaled = 0
    for number, problem in ordered(bank()):
        for part in problem.solution.parts:
            if part.answer.kind not in ("number", "vector", "matrix"):
                continue
            for box in c.entries(part):
                k = scale_exponent(box)
                assert abs(float(box.value)) * 10**k >= 1e-4 or box.value == 0
                assert box.allowance == 0 or box.allowance * 10**k >= 1e-4 * 0.999
                if k:
                    scaled += 1
                    item = next(i for i in root.iter(Q12 + "item") if i.get("ident").startswith(f"i{number}_"))
                    text = "".join(it.findtext(f"{Q12}presentation/{Q12}material/{Q12}mattext")
                                   for it in root.iter(Q12 + "item")
                                   if it.get("ident").startswith(f"i{number}_{part.id}"))
                    assert f"10^{{{k}}}" in text and item is not None
    assert scaled >= SMALL_WANTED


# ---- all formats ------------------------------------------------------------------------------------


def test_a_correct_matrix_scores_full_marks_in_every_format():
    """Every entry of a matrix or vector moved inside its own tolerance (alternating sides) is exgen check's
    full marks, and Moodle's, Canvas's and QTI 2.1's: no entry's rule is narrower than exgen's."""
    from exgen.export.canvas import scale_exponent
    from exgen.export.qti21 import response_id

    subs_of = {q.findtext("name/text"): moodle_subquestions(q.findtext("questiontext/text"))[0]
               for _, q in moodle_questions()}
    canvas = {i.get("ident"): i for i in canvas_files()[1].iter(Q12 + "item")}
    files, _, _, items = qti21_items()
    checked = 0
    for number, problem in ordered(bank()):
        subs = iter(subs_of[c.title(problem, number)])
        qti = etree.fromstring(files[items[f"item-{number}"]])
        for part in (p for p in problem.solution.parts if p.answer.kind != "expression"):
            boxes = c.entries(part)
            mine = [next(subs) for _ in boxes]
            if part.answer.kind not in ("matrix", "vector"):
                continue
            value = part.answer.value
            for k, box in enumerate(boxes):
                value = _replace(value, box.index, _near(box, (-1) ** k, False))
            assert grade_part("1." + part.id, part, _text(value), []).points == 1
            moodle_points = sum(w * moodle_grade(answers, _box_value(value, b))[0]
                                for (w, _, answers), b in zip(mine, boxes)) / sum(w for w, _, _ in mine)
            idents = [f"i{number}_{b.label.replace('[', '_').replace(']', '').replace(',', '_')}" for b in boxes]
            canvas_points = [canvas_run(canvas[ident], float(_box_value(value, b)) * 10.0 ** scale_exponent(b))[0]
                             for ident, b in zip(idents, boxes)]
            qti_points, _ = qti21_run(qti, {response_id(b): float(_box_value(value, b)) for b in boxes})
            assert (moodle_points, canvas_points, qti_points) == (pytest.approx(1), [1.0] * len(boxes), 1.0), \
                f"{problem.topic}/{problem.variant} seed {problem.seed} {part.id}"
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("fmt", ["moodle", "canvas", "qti21"])
def test_formula_parts_are_named_and_the_rest_exported(fmt):
    notes = [n for n in exported(fmt).notes if "formula" in n]
    formulas = [(p, part) for p in bank() for part in p.solution.parts if part.answer.kind == "expression"]
    assert formulas and len(notes) == len(formulas)
    for (problem, part), note in zip(sorted(formulas, key=lambda pp: ordered(bank()).index(
            next(x for x in ordered(bank()) if x[1] is pp[0]))), notes):
        assert f"part {part.id!r}" in note and "formula" in note


@pytest.mark.parametrize("fmt", ["moodle", "canvas", "qti21"])
def test_same_problems_same_bytes(fmt):
    again = export(fmt, [generate(p.topic, p.variant, p.difficulty, p.seed) for p in bank()[:6]])
    assert again.data == export(fmt, bank()[:6]).data


def test_text_is_escaped_and_cannot_forge_a_cloze_token():
    hostile = "A <script>alert(1)</script> & ]]> {1:NUMERICAL:=0} $x < y$ **(a)** `<b>`"
    html = c.html_text(c.html(hostile))
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp;" in html
    cloze = moodle.cloze_html(html, [])
    subs, _ = moodle_subquestions(cloze)
    assert subs == []
    quiz = etree.Element("quiz")
    moodle._text(quiz, "t", cloze)
    assert etree.fromstring(etree.tostring(quiz)).findtext("t/text") == cloze


def test_export_from_a_spec_and_from_a_key_on_the_command_line(tmp_path):
    spec = tmp_path / "exam.yaml"
    spec.write_text("title: Quiz\nseed: 7\nsections:\n  - topic: intensity\n    variant: bound\n"
                    "  - topic: quantization\n    variants: [affine, storage]\n")
    run = lambda *args: subprocess.run([sys.executable, "-m", "exgen", *map(str, args)], cwd=ROOT,
                                       capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    result = run("export", "qti21", spec, "--n-per-variant", "3", "--out", tmp_path / "q.zip")
    assert result.returncode == 0, result.stderr
    names = members((tmp_path / "q.zip").read_bytes())
    assert len([n for n in names if n.startswith("items/")]) == 9
    key = tmp_path / "key.json"
    Key(tuple(bank()[:3])).write(key)
    for fmt, out in (("moodle", "bank.xml"), ("canvas", "canvas.zip")):
        result = run("export", fmt, key, "--out", tmp_path / out)
        assert result.returncode == 0, result.stderr
    assert run("export", "moodle", key, "--n-per-variant", "2", "--out", tmp_path / "x.xml").returncode == 2


def test_a_spec_bank_is_deterministic_and_distinct():
    from exgen.exam.spec import parse_spec

    spec = parse_spec("title: Q\nseed: 3\nsections:\n  - topic: compute\n    variant: memory\n")
    (first, points), (second, _) = problems_from_spec(spec, 4), problems_from_spec(spec, 4)
    assert [p.givens for p in first] == [p.givens for p in second]
    assert len({str(p.givens) for p in first}) == 4
    assert {p.variant for p in first} == {"memory"}
    assert points == [{p.id: 1.0 for p in problem.solution.parts} for problem in first]


def test_a_spec_s_points_are_each_format_s_points():
    """Points from the spec: `points: 5` split in half points over a problem's parts, `points_per_part: 2`."""
    from exgen.exam.spec import parse_spec

    spec = parse_spec("title: Q\nseed: 5\nsections:\n  - topic: quantization\n    variant: absmax\n    points: 5\n"
                      "  - topic: intensity\n    variant: bound\n    points_per_part: 2\n")
    problems, points = problems_from_spec(spec, 2)
    assert [sum(p.values()) for p in points] == [5, 5, 8, 8]
    (_, absmax), (_, bound) = moodle_questions_of(export("moodle", problems, points).data)[::2]
    for (q, problem, worth) in ((absmax, problems[0], points[0]), (bound, problems[2], points[2])):
        subs, _ = moodle_subquestions(q.findtext("questiontext/text"))
        boxes = [b for part in problem.solution.parts for b in c.entries(part)]
        per_part: dict[str, int] = {}
        for (weight, _, _), box in zip(subs, boxes):
            per_part[box.part.id] = per_part.get(box.part.id, 0) + weight
        unit = sum(per_part.values()) / sum(worth.values())
        assert per_part == {pid: pytest.approx(w * unit) for pid, w in worth.items()}
    files = members(export("qti21", problems, points).data)
    assert [etree.fromstring(files[f"items/item-{i}.xml"]).findtext(f"{NS}outcomeDeclaration[@identifier='MAXSCORE']"
                                                                    f"/{NS}defaultValue/{NS}value")
            for i in (1, 3)] == ["5.0", "8.0"]
    files = members(export("canvas", problems, points).data)
    meta = etree.fromstring(files["exgen_bank/assessment_meta.xml"])
    assert float(meta.findtext(f"{META}points_possible")) == pytest.approx(5 + 8)


def test_an_exam_key_exports_with_the_points_its_spec_gave(tmp_path):
    """`exgen export moodle exam/key.json` weighs each question by the points the exam recorded in its key (it
    gave every part 1 point, so a 6-point problem of two parts imported worth 2)."""
    from click.testing import CliRunner

    from exgen.cli import cli

    (tmp_path / "exam.yaml").write_text("title: Q\nseed: 5\nsections:\n  - topic: compute\n    variant: memory\n"
                                        "    points: 6\n  - topic: intensity\n    variant: bound\n"
                                        "    points_per_part: 2\n")
    runner = CliRunner()
    assert runner.invoke(cli, ["exam", str(tmp_path / "exam.yaml"), "--out", str(tmp_path / "out"),
                               "--no-pdf"]).exit_code == 0
    result = runner.invoke(cli, ["export", "moodle", str(tmp_path / "out" / "key.json"),
                                 "--out", str(tmp_path / "bank.xml")])
    assert result.exit_code == 0, result.output
    from exgen.manifest import read_key

    key = read_key(tmp_path / "out" / "key.json")
    marks = [moodle_mark(q) for _, q in moodle_questions_of((tmp_path / "bank.xml").read_bytes())]
    assert marks == [sum(key.meta["points"][str(n)].values()) for n in (1, 2)] == [6, 8]
