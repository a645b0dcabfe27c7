"""QTI 2.1 content package (IMS CP): one assessmentItem per instance, and a test with one section per
topic/variant that selects one of its instances (OpenOlat, ILIAS, Inspera and other QTI 2.1 players).

Each number, integer or matrix entry is a float textEntryInteraction compared with `equal` — toleranceMode
"absolute" with the key's allowance on both sides (bounds included), or "exact" for exact keys; each choice is
an inlineChoiceInteraction.  Response processing follows `exgen check`: a part is correct (1 point) when every
box matches the key; otherwise a named mistake that matches sets its modal feedback and scores 0; otherwise a
matrix or vector earns 1/n per entry right.  A part is worth 1 point, or an exam spec's points.
Response processing also always adds SOLUTION to FEEDBACK, so the worked solution (rendered as for Canvas and
Moodle) is a modal feedback shown once the attempt is submitted; the test part sets showFeedback, whose default
(false) would hide every modal feedback after the last (here the only) attempt.
"""

from __future__ import annotations

import io
import zipfile

from lxml import etree

from exgen.export import common as c
from exgen.problem import Problem

NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
LOCATION = f"{NS} http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
CP = "http://www.imsglobal.org/xsd/imscp_v1p1"
CP_LOCATION = f"{CP} http://www.imsglobal.org/xsd/imscp_v1p1.xsd"
SOLUTION = "SOLUTION"   # the worked solution's feedback identifier (part ids make M_<part>_<k>)


def q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def E(tag: str, *children, **attrs) -> etree._Element:
    el = etree.Element(q(tag), {k.rstrip("_"): str(v) for k, v in attrs.items()}, nsmap={None: NS, "xsi": XSI})
    for child in children:
        if isinstance(child, str):
            el.text = (el.text or "") + child
        else:
            el.append(child)
    return el


def response_id(entry: c.Entry) -> str:
    return "R_" + entry.part.id + "".join(f"_{i + 1}" for i in entry.index)


def choice_id(answer, choice: str) -> str:
    return f"C{answer.choices.index(choice) + 1}"


def _matches(entry: c.Entry, value, allowance: float) -> etree._Element:
    """The condition `response equals value` as exgen compares it (Answer.allowance around `value`)."""
    if entry.part.answer.kind == "choice":
        return E("match", E("variable", identifier=response_id(entry)),
                 E("baseValue", choice_id(entry.part.answer, value), baseType="identifier"))
    if allowance == 0:
        return E("equal", E("variable", identifier=response_id(entry)),
                 E("baseValue", c.number_text(float(value)), baseType="float"), toleranceMode="exact")
    return E("equal", E("variable", identifier=response_id(entry)),
             E("baseValue", c.number_text(float(value)), baseType="float"), toleranceMode="absolute",
             tolerance=f"{c.number_text(allowance)} {c.number_text(allowance)}", includeLowerBound="true",
             includeUpperBound="true")


def _all(conditions: list[etree._Element]) -> etree._Element:
    return conditions[0] if len(conditions) == 1 else E("and", *conditions)


def _add(identifier: str, value: etree._Element) -> etree._Element:
    op = "sum" if identifier == "SCORE" else "multiple"
    return E("setOutcomeValue", E(op, E("variable", identifier=identifier), value), identifier=identifier)


def _score(points: float) -> etree._Element:
    return _add("SCORE", E("baseValue", c.number_text(float(points)), baseType="float"))


def _part_rule(part, mistakes: list, feedback_ids: list[str], points: float) -> etree._Element:
    boxes = c.entries(part)
    correct = _all([_matches(b, b.value, b.allowance) for b in boxes])
    rule = E("responseCondition", E("responseIf", correct, _score(points)))
    for (mistake, wrong), fid in zip(mistakes, feedback_ids):
        try:
            conds = []
            for b in boxes:
                v = wrong
                for i in b.index:
                    v = v[i]
                if part.answer.kind == "choice":
                    conds.append(_matches(b, v, 0))
                else:
                    if part.answer.sig is not None and not v:
                        raise ValueError("a 0 has no significant figures")
                    conds.append(_matches(b, v, part.answer.allowance(v)))
        except (IndexError, TypeError, ValueError):
            continue  # a mistake of another shape (or a 0 asked to figures) cannot match, as in exgen check
        rule.append(E("responseElseIf", _all(conds),
                      _add("FEEDBACK", E("baseValue", fid, baseType="identifier"))))
    if len(boxes) > 1:
        share = points / len(boxes)
        rule.append(E("responseElse", *[E("responseCondition",
                                            E("responseIf", _matches(b, b.value, b.allowance), _score(share)))
                                          for b in boxes]))
    return rule


def item(problem: Problem, number: int, mistakes: dict, points: dict, notes: list[str]) -> tuple[str, bytes]:
    ident = f"item-{number}"
    gradeable = []
    for part in problem.solution.parts:
        try:
            c.expressible(part, "QTI 2.1")
            gradeable.append(part)
        except c.NotExpressible as e:
            notes.append(f"{c.title(problem, number)}: {e}")
    ids = {p.id for p in gradeable}
    root = E("assessmentItem", identifier=ident, title=c.title(problem, number), adaptive="false",
             timeDependent="false")
    root.set(f"{{{XSI}}}schemaLocation", LOCATION)
    for part in gradeable:
        for b in c.entries(part):
            base = "identifier" if part.answer.kind == "choice" else "float"
            value = choice_id(part.answer, b.value) if base == "identifier" else c.number_text(float(b.value))
            root.append(E("responseDeclaration", E("correctResponse", E("value", value)),
                          identifier=response_id(b), cardinality="single", baseType=base))
    root.append(E("outcomeDeclaration", E("defaultValue", E("value", "0")), identifier="SCORE",
                  cardinality="single", baseType="float"))
    maximum = sum(c.worth(points, p) for p in gradeable)
    root.append(E("outcomeDeclaration", E("defaultValue", E("value", c.number_text(maximum))),
                  identifier="MAXSCORE", cardinality="single", baseType="float"))
    root.append(E("outcomeDeclaration", identifier="FEEDBACK", cardinality="multiple", baseType="identifier"))

    def slot(pid: str):
        if pid not in ids:
            yield " (not graded online)"
            return
        part = problem.solution.part(pid)
        answer = part.answer
        boxes = c.entries(part)
        if answer.kind == "choice":
            yield " "
            yield E("inlineChoiceInteraction", *[E("inlineChoice", ch, identifier=choice_id(answer, ch))
                                                 for ch in answer.choices],
                    responseIdentifier=response_id(boxes[0]), shuffle="false")
            return
        if answer.kind in ("number", "integer"):
            yield " "
            yield E("textEntryInteraction", responseIdentifier=response_id(boxes[0]), expectedLength="15")
            unit = c.unit_words(answer)
            if unit:
                yield f" {unit}"
            return
        rows = answer.value if answer.kind == "matrix" else [answer.value]
        table = E("table")
        for i, row in enumerate(rows):
            tr = etree.SubElement(table, q("tr"))
            for j in range(len(row)):
                index = (i, j) if answer.kind == "matrix" else (j,)
                td = etree.SubElement(tr, q("td"))
                td.append(E("textEntryInteraction", responseIdentifier=response_id(c.Entry(part, index)),
                            expectedLength="8"))
        yield table

    markdown = c.MarkedRenderer().question(problem)
    letter = c.letters(markdown)
    body = c.html(markdown, slot, make=lambda tag: E(tag))
    root.append(E("itemBody", *list(body)))
    processing = E("responseProcessing", _add("FEEDBACK", E("baseValue", SOLUTION, baseType="identifier")))
    feedback = []
    for part in gradeable:
        wrongs = mistakes.get(part.id, [])
        fids = [f"M_{part.id}_{k + 1}" for k in range(len(wrongs))]
        processing.append(_part_rule(part, wrongs, fids, c.worth(points, part)))
        for (mistake, _), fid in zip(wrongs, fids):
            fb = E("modalFeedback", outcomeIdentifier="FEEDBACK", identifier=fid, showHide="show",
                   title=f"Part ({letter[part.id]}): {part.label}")
            fb.append(E("p", c.mistake_feedback(mistake)))
            feedback.append(fb)
    solution = E("modalFeedback", outcomeIdentifier="FEEDBACK", identifier=SOLUTION, showHide="show",
                 title="Worked solution")
    solution.extend(list(c.html(c.MarkedRenderer().solution(problem), make=lambda tag: E(tag))))
    root.append(processing)
    for fb in feedback + [solution]:
        root.append(fb)
    etree.cleanup_namespaces(root)
    return ident, etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def build(problems: list[tuple[int, Problem]], mistakes: dict[int, dict],
          points: dict[int, dict]) -> tuple[bytes, list[str]]:
    notes: list[str] = []
    files: dict[str, bytes] = {}
    sections: dict[str, list[str]] = {}
    for number, problem in problems:
        ident, data = item(problem, number, mistakes[number], points[number], notes)
        files[f"items/{ident}.xml"] = data
        sections.setdefault(c.category(problem), []).append(ident)
    test = E("assessmentTest", identifier="exgen-test", title="exgen question bank")
    test.set(f"{{{XSI}}}schemaLocation", LOCATION)
    test.append(E("outcomeDeclaration", identifier="SCORE", cardinality="single", baseType="float"))
    part = E("testPart", E("itemSessionControl", showFeedback="true"), identifier="part-1",
             navigationMode="nonlinear", submissionMode="individual")
    for bank, idents in sections.items():
        section = E("assessmentSection", E("selection", select="1"), identifier="S-" + bank.replace("/", "-"),
                    title=bank, visible="true")
        for ident in idents:
            section.append(E("assessmentItemRef", identifier=ident, href=f"items/{ident}.xml"))
        part.append(section)
    test.append(part)
    test.append(E("outcomeProcessing", E("setOutcomeValue", E("sum", E("testVariables", variableIdentifier="SCORE")),
                                         identifier="SCORE")))
    etree.cleanup_namespaces(test)
    files["test.xml"] = etree.tostring(test, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    files = {"imsmanifest.xml": manifest(files, [i for ids in sections.values() for i in ids]), **files}
    return zip_bytes(files), notes


def manifest(files: dict[str, bytes], items: list[str]) -> bytes:
    m = etree.Element(f"{{{CP}}}manifest", nsmap={None: CP, "xsi": XSI}, identifier="exgen-package")
    m.set(f"{{{XSI}}}schemaLocation", CP_LOCATION)
    meta = etree.SubElement(m, f"{{{CP}}}metadata")
    etree.SubElement(meta, f"{{{CP}}}schema").text = "QTIv2.1 Package"
    etree.SubElement(meta, f"{{{CP}}}schemaversion").text = "1.0.0"
    etree.SubElement(m, f"{{{CP}}}organizations")
    resources = etree.SubElement(m, f"{{{CP}}}resources")
    test = etree.SubElement(resources, f"{{{CP}}}resource", identifier="exgen-test", type="imsqti_test_xmlv2p1",
                            href="test.xml")
    etree.SubElement(test, f"{{{CP}}}file", href="test.xml")
    for ident in items:
        etree.SubElement(test, f"{{{CP}}}dependency", identifierref=ident)
    for ident in items:
        r = etree.SubElement(resources, f"{{{CP}}}resource", identifier=ident, type="imsqti_item_xmlv2p1",
                             href=f"items/{ident}.xml")
        etree.SubElement(r, f"{{{CP}}}file", href=f"items/{ident}.xml")
    return etree.tostring(m, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A zip with fixed timestamps and order: the same problems give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buffer.getvalue()
