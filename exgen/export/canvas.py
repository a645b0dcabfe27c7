"""Canvas (classic quizzes) QTI 1.2 zip: imsmanifest.xml, and one assessment (its QTI file and
assessment_meta.xml) whose question groups draw one item each.

Canvas's numerical_question has one answer box, so each *part* of an instance is an item (each entry of a matrix
or vector is one, at 1/n point), its text the whole question with the part it asks marked; the group of a
topic/variant/part holds that part of each of the N instances and picks one.  Every item is complete on its own
(it shows its instance's question in full), so a student may meet part (a) of one instance and part (b) of
another: each is answerable and graded alone.  Groups are per difficulty, and a matrix part's groups per shape.

A number is an answer with its exact value and the key's margin (or exact); Canvas zeroes answers and margins
below about 1e-4, so such a part is asked in a scaled unit (×10^k) and the item says so.  Named mistakes are
extra response conditions that show `exgen check`'s feedback (no score).  A formula part cannot be expressed.
"""

from __future__ import annotations

import math
import re

from lxml import etree

from exgen.export import common as c
from exgen.export.qti21 import zip_bytes
from exgen.problem import Problem

QTI = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
QTI_LOCATION = f"{QTI} http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd"
CP = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
META = "http://canvas.instructure.com/xsd/cccv1p0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SMALLEST = 1e-4          # Canvas stores numeric answers at about 4 decimals
ASSESSMENT = "exgen_bank"


def _el(parent, tag: str, text: str | None = None, **attrs) -> etree._Element:
    el = etree.SubElement(parent, f"{{{QTI}}}{tag}", {k: str(v) for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def scale_exponent(entry: c.Entry) -> int:
    """k such that the value and margin times 10^k are 0 or at least 1e-4 (0 when they already are)."""
    smallest = min((abs(float(x)) for x in (entry.value, entry.allowance) if x), default=1.0)
    if smallest >= SMALLEST:
        return 0
    return 3 * math.ceil(math.log10(SMALLEST / smallest) / 3)


def _field(parent, label: str, entry: str) -> None:
    f = _el(parent, "qtimetadatafield")
    _el(f, "fieldlabel", label)
    _el(f, "fieldentry", entry)


def _range(parent, low: float, high: float) -> None:
    and_ = _el(parent, "and")
    _el(and_, "vargte", c.number_text(low), respident="response1")
    _el(and_, "varlte", c.number_text(high), respident="response1")


def _number_item(section, problem, number, entry: c.Entry, points: float) -> None:
    answer = entry.part.answer
    k = scale_exponent(entry)
    factor = 10.0 ** k
    unit = c.unit_words(answer)
    where = "" if not entry.index else " entry " + ", ".join(map(str, (i + 1 for i in entry.index))) + \
        (" (row, column)" if len(entry.index) == 2 else "")
    note = f"{where}" + (f", in {unit}" if unit else "") + "."
    if k:
        note += (f" Enter it in units of \\(10^{{-{k}}}\\){' ' + unit if unit else ''}: the value multiplied by "
                 f"\\(10^{{{k}}}\\) (this quiz system cannot store smaller numbers).")
    item = _el(section, "item", ident=f"i{number}_{entry.label.replace('[', '_').replace(']', '').replace(',', '_')}",
               title=f"{c.title(problem, number)} {entry.label}")
    meta = _el(_el(item, "itemmetadata"), "qtimetadata")
    _field(meta, "question_type", "numerical_question")
    _field(meta, "points_possible", c.number_text(points))
    presentation = _el(item, "presentation")
    text = c.html_text(c.part_stem(problem, entry.part.id, note))
    _el(_el(presentation, "material"), "mattext", text, texttype="text/html")
    fib = _el(_el(presentation, "response_str", ident="response1", rcardinality="Single"), "render_fib",
              fibtype="Decimal")
    _el(fib, "response_label", ident="answer1")
    processing = _el(item, "resprocessing")
    _el(_el(processing, "outcomes"), "decvar", maxvalue="100", minvalue="0", varname="SCORE", vartype="Decimal")
    # Canvas reads a numerical item's conditions as its list of *correct* answers: an <or> of the value and a
    # range is an exact answer with that margin (a bare <varequal> is no answer at all), and any other range
    # is a correct range answer (canvas-lms, qti_exporter's NumericInteraction#get_canvas_answers). So the key
    # is written as Canvas itself exports an exact answer, margin 0 included, and a named mistake gets no
    # condition: as a range it would score full marks. Its feedback stays in exgen grade and the other formats.
    value, margin = float(entry.value) * factor, entry.allowance * factor
    condition = _el(processing, "respcondition", **{"continue": "No"})
    or_ = _el(_el(condition, "conditionvar"), "or")
    _el(or_, "varequal", c.number_text(value), respident="response1")
    _range(or_, value - margin, value + margin)
    _el(condition, "setvar", "100", action="Set", varname="SCORE")
    _feedback(item, problem, [])


def _choice_item(section, problem, number, entry: c.Entry, points: float, mistakes: list) -> None:
    answer = entry.part.answer
    item = _el(section, "item", ident=f"i{number}_{entry.label}", title=f"{c.title(problem, number)} {entry.label}")
    meta = _el(_el(item, "itemmetadata"), "qtimetadata")
    _field(meta, "question_type", "multiple_choice_question")
    _field(meta, "points_possible", c.number_text(points))
    presentation = _el(item, "presentation")
    text = c.html_text(c.part_stem(problem, entry.part.id, "."))
    _el(_el(presentation, "material"), "mattext", text, texttype="text/html")
    choice = _el(_el(presentation, "response_lid", ident="response1", rcardinality="Single"), "render_choice")
    for n, text in enumerate(answer.choices, 1):
        label = _el(choice, "response_label", ident=f"c{n}")
        _el(_el(label, "material"), "mattext", text, texttype="text/plain")
    processing = _el(item, "resprocessing")
    _el(_el(processing, "outcomes"), "decvar", maxvalue="100", minvalue="0", varname="SCORE", vartype="Decimal")
    feedbacks = []
    for n, (mistake, wrong) in enumerate(mistakes, 1):
        if wrong in answer.choices and wrong != answer.value:
            cond = _el(processing, "respcondition", **{"continue": "Yes"})
            _el(_el(cond, "conditionvar"), "varequal", f"c{answer.choices.index(wrong) + 1}", respident="response1")
            _el(cond, "displayfeedback", feedbacktype="Response", linkrefid=f"mistake{n}")
            feedbacks.append((f"mistake{n}", c.plain_html(c.mistake_feedback(mistake))))
    cond = _el(processing, "respcondition", **{"continue": "No"})
    _el(_el(cond, "conditionvar"), "varequal", f"c{answer.choices.index(answer.value) + 1}", respident="response1")
    _el(cond, "setvar", "100", action="Set", varname="SCORE")
    _feedback(item, problem, feedbacks)


def _feedback(item, problem: Problem, feedbacks: list[tuple[str, str]]) -> None:
    solution = c.html_text(c.html(c.MarkedRenderer().solution(problem)))
    for ident, html in [("general_fb", solution)] + feedbacks:
        fb = _el(item, "itemfeedback", ident=ident)
        _el(_el(_el(fb, "flow_mat"), "material"), "mattext", html, texttype="text/html")


def build(problems: list[tuple[int, Problem]], mistakes: dict[int, dict],
          points: dict[int, dict]) -> tuple[bytes, list[str]]:
    notes: list[str] = []
    root = etree.Element(f"{{{QTI}}}questestinterop", nsmap={None: QTI, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", QTI_LOCATION)
    assessment = _el(root, "assessment", ident=ASSESSMENT, title="exgen question bank")
    _field(_el(assessment, "qtimetadata"), "cc_maxattempts", "1")
    top = _el(assessment, "section", ident="root_section")
    groups: dict[str, etree._Element] = {}
    shapes: dict[tuple[str, str, str], set[str]] = {}
    total = 0.0
    for number, problem in problems:
        for part in problem.solution.parts:
            try:
                c.expressible(part, "Canvas (QTI 1.2)")
            except c.NotExpressible as e:
                notes.append(f"{c.title(problem, number)}: {e}")
                continue
            boxes = c.entries(part)
            shape = _shape(part)
            worth = c.worth(points[number], part) / len(boxes)
            shapes.setdefault((c.category(problem), problem.difficulty, part.id), set()).add(shape)
            for entry in boxes:
                key = f"{c.category(problem)}/{problem.difficulty}/{part.id}{shape}/{entry.label}" + \
                    (f" ({worth:g} pt)" if worth != 1 else "")
                if key not in groups:
                    total += worth
                    group = _el(top, "section", ident="g_" + re.sub(r"[^A-Za-z0-9_]", "_", key), title=key)
                    selection = _el(_el(group, "selection_ordering"), "selection")
                    _el(selection, "selection_number", "1")
                    _el(_el(selection, "selection_extension"), "points_per_item", c.number_text(worth))
                    groups[key] = group
                if part.answer.kind == "choice":
                    wrongs = c.mistake_values(problem, mistakes[number], entry) if not entry.index else []
                    _choice_item(groups[key], problem, number, entry, worth, wrongs)
                else:
                    _number_item(groups[key], problem, number, entry, worth)
    for (bank, difficulty, pid), seen in shapes.items():
        if len(seen) > 1:
            named = ", ".join(shape or "a single number" for shape in sorted(seen))
            notes.append(f"{bank} ({difficulty}): part {pid!r} has the shapes {named}; "
                         "Canvas asks each entry as an item, so each shape has its own question groups")
    files = {
        "imsmanifest.xml": _manifest(),
        f"{ASSESSMENT}/{ASSESSMENT}.xml": etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                                         pretty_print=True),
        f"{ASSESSMENT}/assessment_meta.xml": _meta(total),
    }
    return zip_bytes(files), notes


def _shape(part) -> str:
    value = part.answer.value
    if part.answer.kind == "matrix":
        return f"[{len(value)}x{len(value[0])}]"
    return f"[{len(value)}]" if part.answer.kind == "vector" else ""


def _meta(points: float) -> bytes:
    quiz = etree.Element(f"{{{META}}}quiz", nsmap={None: META, "xsi": XSI}, identifier=ASSESSMENT)
    quiz.set(f"{{{XSI}}}schemaLocation", f"{META} https://canvas.instructure.com/xsd/cccv1p0.xsd")
    for tag, text in (("title", "exgen question bank"), ("description", ""), ("shuffle_answers", "false"),
                      ("scoring_policy", "keep_highest"), ("quiz_type", "assignment"),
                      ("points_possible", c.number_text(points)), ("show_correct_answers", "true"),
                      ("allowed_attempts", "1")):
        etree.SubElement(quiz, f"{{{META}}}{tag}").text = text
    return etree.tostring(quiz, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _manifest() -> bytes:
    m = etree.Element(f"{{{CP}}}manifest", nsmap={None: CP, "xsi": XSI}, identifier="exgen_manifest")
    meta = etree.SubElement(m, f"{{{CP}}}metadata")
    etree.SubElement(meta, f"{{{CP}}}schema").text = "IMS Content"
    etree.SubElement(meta, f"{{{CP}}}schemaversion").text = "1.1.3"
    etree.SubElement(m, f"{{{CP}}}organizations")
    resources = etree.SubElement(m, f"{{{CP}}}resources")
    r = etree.SubElement(resources, f"{{{CP}}}resource", identifier=ASSESSMENT, type="imsqti_xmlv1p2")
    etree.SubElement(r, f"{{{CP}}}file", href=f"{ASSESSMENT}/{ASSESSMENT}.xml")
    etree.SubElement(r, f"{{{CP}}}dependency", identifierref=f"{ASSESSMENT}_meta")
    meta_r = etree.SubElement(resources, f"{{{CP}}}resource", identifier=f"{ASSESSMENT}_meta",
                              type="associatedcontent/imscc_xmlv1p1/learning-application-resource",
                              href=f"{ASSESSMENT}/assessment_meta.xml")
    etree.SubElement(meta_r, f"{{{CP}}}file", href=f"{ASSESSMENT}/assessment_meta.xml")
    return etree.tostring(m, xml_declaration=True, encoding="UTF-8", pretty_print=True)
