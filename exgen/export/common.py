"""What every LMS driver shares: a problem's question and worked solution as HTML fragments (built with lxml,
math as MathJax's `\\(…\\)` and `\\[…\\]`), the answer boxes placed where the template puts each part, the
parts a format can grade, and the named mistakes — read from the key, never recomputed.

The question is the topic's own template rendered as Markdown (exgen.render), with each part's text followed by
a marker; `html()` turns that small Markdown subset (paragraphs, `$…$`, `$$…$$`, **bold**, `code`, `- ` lists)
into elements and lets the driver put its answer box (a cloze token, a QTI interaction, nothing) at each marker.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from html import escape
from typing import Any, Callable, Iterable

from lxml import etree

from exgen.problem import Answer, Part, Problem
from exgen.render import MARKDOWN, Format, Renderer, environment
from exgen.units import shown

MARK = "\u2063exgen-part:{}\u2063"   # an invisible separator around the part id: never in template text
_MARK = re.compile("\u2063exgen-part:([A-Za-z0-9_]+)\u2063")


class NotExpressible(ValueError):
    """A part a format cannot grade the way `exgen check` does; the message names it and says why."""


@dataclass(frozen=True)
class Entry:
    """One gradeable box: a part, or one entry of a matrix or vector part (`index` row-major)."""

    part: Part
    index: tuple[int, ...] = ()

    @property
    def value(self) -> Any:
        v = self.part.answer.value
        for i in self.index:
            v = v[i]
        return v

    @property
    def allowance(self) -> float:
        """The absolute tolerance of this box: one unit in the last asked place (Answer.allowance)."""
        return self.part.answer.allowance(self.value) if self.part.answer.kind != "choice" else 0.0

    @property
    def label(self) -> str:
        if not self.index:
            return self.part.id
        return self.part.id + "[" + ",".join(str(i + 1) for i in self.index) + "]"


def entries(part: Part) -> list[Entry]:
    """A part's boxes: one for a number, integer or choice; one per entry of a vector or matrix."""
    kind, value = part.answer.kind, part.answer.value
    if kind == "vector":
        return [Entry(part, (i,)) for i in range(len(value))]
    if kind == "matrix":
        return [Entry(part, (i, j)) for i, row in enumerate(value) for j in range(len(row))]
    return [Entry(part)]


def expressible(part: Part, fmt: str) -> None:
    """Raise NotExpressible for a part no LMS format here can grade as `exgen check` does."""
    if part.answer.kind == "expression":
        raise NotExpressible(f"part {part.id!r} ({part.label}) asks for a formula, which exgen grades by symbolic "
                             f"equivalence; {fmt} can only compare text or numbers, so it is left out")


def mistake_values(problem: Problem, mistakes: dict[str, list], entry: Entry) -> list[tuple[Any, Any]]:
    """(Mistake, wrong value of this box) for the named mistakes of the entry's part. A matrix or vector mistake
    is per part: its value at this entry (the driver decides whether it can use it)."""
    out = []
    for mistake, wrong in mistakes.get(entry.part.id, ()):
        v = wrong
        try:
            for i in entry.index:
                v = v[i]
        except (IndexError, TypeError):
            continue
        out.append((mistake, v))
    return out


def number_text(x: Any) -> str:
    """A number as exact text for an answer field: integers bare, floats as the shortest round-trip."""
    if isinstance(x, int) and not isinstance(x, bool):
        return str(x)
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"not a finite number: {x!r}")
    return repr(x)


def mistake_feedback(mistake: Any) -> str:
    """The feedback `exgen check` gives for a named mistake (grade.grade_part's words)."""
    return f"This is a known mistake ({mistake.name.replace('_', ' ')}): {mistake.explanation}"


def unit_words(answer: Answer) -> str:
    return {"percent": "%", "B": "bytes", "byte": "bytes"}.get(answer.unit, shown(answer.unit))


# ---- the question and solution as HTML ------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _marked_format() -> Format:  # one Format, so every MarkedRenderer shares one compiled environment
    return Format(name="md", display=MARKDOWN.display, parts=MARKDOWN.parts, tt=MARKDOWN.tt,
                  part_markup=lambda letter, pid, text: f"\n**({letter})** {text.strip()} {MARK.format(pid)}\n")


class MarkedRenderer(Renderer):
    """exgen's Markdown renderer, with a marker after each part's text where a driver puts its answer box."""

    def __init__(self) -> None:
        super().__init__("md")
        self.format = _marked_format()
        self.env = environment(self.format)


_INLINE = re.compile(r"\$([^$]+)\$|\*\*(.+?)\*\*|`([^`]+)`")


def _inline(parent: etree._Element, text: str, slot: Callable[[str], Iterable[Any]],
            make: Callable[[str], etree._Element] = etree.Element) -> None:
    """Append inline text to `parent`: `$…$` as \\(…\\), **bold**, `code`, and part markers via `slot`."""
    pieces = re.split(_MARK, text)
    for k, piece in enumerate(pieces):
        if k % 2:
            for thing in slot(piece):
                _append(parent, thing)
            continue
        pos = 0
        for m in _INLINE.finditer(piece):
            _append(parent, piece[pos:m.start()])
            if m.group(1) is not None:
                _append(parent, r"\(" + m.group(1) + r"\)")
            elif m.group(2) is not None:
                strong = _sub(parent, make, "strong")
                _inline(strong, m.group(2), slot, make)
            else:
                _sub(parent, make, "code").text = m.group(3)
            pos = m.end()
        _append(parent, piece[pos:])


def _append(parent: etree._Element, thing: Any) -> None:
    """Append text or an element at the end of `parent` (text goes to the last child's tail)."""
    if isinstance(thing, str):
        if not thing:
            return
        if len(parent):
            parent[-1].tail = (parent[-1].tail or "") + thing
        else:
            parent.text = (parent.text or "") + thing
    else:
        parent.append(thing)


def html(markdown: str, slot: Callable[[str], Iterable[Any]] = lambda pid: (), *,
         make: Callable[[str], etree._Element] = lambda tag: etree.Element(tag)) -> etree._Element:
    """The Markdown subset exgen's templates write, as a <div> of block elements (`make` builds each block, so
    a driver can give them a namespace). `slot(part_id)` yields the text/elements that stand for a part's
    answer box."""
    root = make("div")
    blocks = re.split(r"\n\s*\n", markdown.strip())
    for block in blocks:
        block = block.strip()
        if not block:
            continue
        if block.startswith("$$") and block.endswith("$$") and len(block) >= 4:
            p = _sub(root, make, "p")
            p.text = r"\[" + block[2:-2].strip() + r"\]"
        elif all(line.lstrip().startswith("- ") for line in block.splitlines()):
            ul = _sub(root, make, "ul")
            for line in block.splitlines():
                _inline(_sub(ul, make, "li"), line.lstrip()[2:], slot, make)
        else:  # a part (its answer box may be a grid) is a <div>: a <p> holds inline content only
            _inline(_sub(root, make, "div" if _MARK.search(block) else "p"), " ".join(block.splitlines()), slot, make)
    return root


def _sub(parent: etree._Element, make: Callable[[str], etree._Element], tag: str) -> etree._Element:
    child = make(tag)
    parent.append(child)
    return child


def html_text(element: etree._Element) -> str:
    """An HTML fragment as text (the children of a <div>), for formats that carry HTML as escaped text."""
    out = escape(element.text or "", quote=False)
    for child in element:
        out += etree.tostring(child, encoding="unicode", method="html")
    return out.strip()


def plain_html(text: str) -> str:
    """Feedback text (may hold `$…$`) as inline HTML."""
    span = etree.Element("span")
    _inline(span, text, lambda pid: ())
    return html_text(span)


def worth(points: dict[str, float], part: Part) -> float:
    """The points of a part: an exam spec's, or 1 (exgen grade's one point per part)."""
    return float(points.get(part.id, 1.0))


def letters(markdown: str) -> dict[str, str]:
    """Each part's letter, (a), (b), … in the order the question shows them (as exgen.render numbers them)."""
    ids = _MARK.findall(markdown)
    return {pid: (chr(97 + i) if i < 26 else chr(96 + i // 26) + chr(97 + i % 26)) for i, pid in enumerate(ids)}


def part_stem(problem: Problem, asked: str, note: str,
              box: Callable[[], Iterable[Any]] = lambda: ()) -> etree._Element:
    """The whole question, for a format that asks one part per question: the asked part is marked (and gets
    `box()`, its answer box, if any), and a closing line says which part to answer, then `note`."""
    markdown = MarkedRenderer().question(problem)

    def slot(pid: str):
        if pid == asked:
            yield " \u2190 this question asks this part"
            yield from box()

    body = html(markdown, slot)
    p = etree.SubElement(body, "p")
    strong = etree.SubElement(p, "strong")
    strong.text = f"Answer part ({letters(markdown)[asked]})"
    strong.tail = note
    return body


def category(problem: Problem) -> str:
    """The bank a problem belongs to: topic/variant (each holds its N instances)."""
    return f"{problem.topic}/{problem.variant}"


def title(problem: Problem, number: int) -> str:
    return f"{problem.topic} {problem.variant} {number}"
