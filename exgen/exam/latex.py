"""The exam document: a LaTeX driver beside render.py that lays a paper out for printing.

It reuses the topics' format-neutral question templates (through `Renderer`) and changes only what a part
looks like on an exam: its points (`\\part[2]`), its answer space sized to its kind (a box for a number, a
row of cells for a vector, a grid for a matrix, check boxes for a choice, lettered options for a multiple-
choice part), and, in the solutions, the key in that space.  The page (cover with name and ID fields,
instructions, duration, the exam class's points table; version and page number in every header; no question
split across pages unless it is longer than one) is `templates/_exam.tex.j2`.

Everything from the spec or a roster is escaped (`tex_text`): a title with `&` or an id like `jo_smith`
is text, never LaTeX.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Callable

from exgen.exam.build import LETTERS, Choice, ExamProblem, Paper, option_text
from exgen.exam.spec import ExamSpec
from exgen.problem import Answer, Step
from exgen.units import shown
from exgen.render import Renderer, _tex_tt, answer_math

_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
             "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}",
             ">": r"\textgreater{}", "|": r"\textbar{}", "-": "-{}"}
# Characters pdflatex sets with [utf8]{inputenc} and T1 fonts: Latin-1, Latin Extended-A, common punctuation.
_PRINTABLE = re.compile(r"[\u0020-\u007e\u00a0-\u017f\u2013\u2014\u2018\u2019\u201c\u201d\u2026\u20ac]")


def tex_text(text: str) -> str:
    """Plain text (a title, an id, an instruction) as LaTeX that prints exactly it: specials escaped, `--`
    kept as two hyphens, characters the fonts lack replaced by '?'."""
    return "".join(_SPECIALS.get(c, c) if _PRINTABLE.fullmatch(c) else "?" for c in text)


def _line(text: str) -> str:
    """A one-line field (title, course, date, duration): whitespace collapsed, then escaped."""
    return tex_text(" ".join(text.split()))


def tex_paragraphs(text: str) -> str:
    """Instructions: blank lines separate paragraphs; a block whose first line starts with '- ' is a list, each
    '- ' line opening an item and any other line continuing it (a long item wrapped in the spec)."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if lines and lines[0].startswith("- "):
            items: list[str] = []
            for line in lines:
                if line.startswith("- "):
                    items.append(line[2:])
                else:
                    items[-1] += " " + line
            out.append("\\begin{itemize}\n" + "\n".join(r"\item " + tex_text(item) for item in items)
                       + "\n\\end{itemize}")
        else:
            out.append(tex_text(" ".join(lines)))
    return "\n\n".join(out)


def points_tex(points: float) -> str:
    """Points as the exam class reads them: 2, 1\\half."""
    whole, half = divmod(round(2 * points), 2)
    return (f"{whole}" if whole or not half else "") + (r"\half" if half else "")  # \half alone, not 0\half


# ---- answer space ----------------------------------------------------------------------------------


def _unit(answer: Answer) -> str:
    return rf"\,\text{{{tex_text(shown(answer.unit))}}}" if answer.unit else ""


def _grid(rows: int, cols: int) -> str:
    """An empty grid of answer cells, one per entry (narrower cells for a wide matrix, to fit the line)."""
    width = min(1.7, 14.0 / max(cols, 1))
    spec = "|" + "|".join([f"p{{{width:.2f}cm}}"] * cols) + "|"
    row = " & ".join([r"\rule{0pt}{0.8cm}"] * cols)
    body = "".join(f"{row} \\\\ \\hline\n" for _ in range(rows))
    return f"\\begin{{tabular}}{{{spec}}}\\hline\n{body}\\end{{tabular}}"


def answer_space(answer: Answer, choice: Choice | None, solutions: bool) -> str:
    """The space a student writes a part's answer in, sized to its kind; with `solutions`, the key in it."""
    if choice is not None:
        wide = answer.kind in ("matrix", "vector")
        env = "choices" if wide else "oneparchoices"
        items = []
        for letter_index, value in enumerate(choice.values):
            text = tex_text(str(value)) if answer.kind == "choice" else f"${option_text(answer, value)}$"
            if not wide:
                text = rf"\mbox{{{text}}}"  # an option on one line: 1.50 × 10^3 FLOP/byte never breaks inside
            mark = r"\CorrectChoice" if choice.correct == LETTERS[letter_index] else r"\choice"
            items.append(f"{mark} {text}")
        options = f"\\begin{{{env}}}\n" + "\n".join(items) + f"\n\\end{{{env}}}"
        return f"\n\n{_ragged(options) if not wide else options}\n"
    if answer.kind == "choice":
        items = [(r"\CorrectChoice " if c == answer.value else r"\choice ") + tex_text(c) for c in answer.choices]
        return "\n\n" + _ragged("\\begin{oneparcheckboxes}\n" + "\n".join(items) + "\n\\end{oneparcheckboxes}") + "\n"
    if answer.kind in ("matrix", "vector"):
        rows = answer.value if answer.kind == "matrix" else [answer.value]
        if solutions:
            return _right(f"$\\boxed{{{answer_math(answer)}}}$")
        return _right(_grid(len(rows), len(rows[0]) if rows else 1) + _unit(answer))
    width = "9cm" if answer.kind == "expression" else "5cm"
    inside = r"\rule[-0.3cm]{0pt}{0.8cm}" + (f"${answer_math(_without_unit(answer))}$" if solutions else "")
    return _right(f"\\framebox[{width}]{{{inside}}}{_unit(answer)}")


def _ragged(options: str) -> str:
    """Options in one paragraph, ragged right, on as few lines as they fit: a line breaks between two options only
    where the next does not fit. (Justified, TeX found no acceptable break and ran the last option past the margin
    by up to 20pt; ragged right alone, the exam class's -50 penalty before each option broke at every one, so a
    line costs far more than that bonus: \\linepenalty.)"""
    return "{\\raggedright\\linepenalty=3000\n" + options + "\\par}"


def _right(material: str) -> str:
    """A line of its own with `material` flush right (within the margin, unit included)."""
    return f"\n\n\\noindent\\makebox[\\linewidth][r]{{{material}}}\n"


def _without_unit(answer: Answer) -> Answer:
    """The key without its unit (the unit is printed once, after the box)."""
    return dataclasses.replace(answer, unit="")


def _cell_markup(pid: str) -> str:
    """How shown material (an autodiff table) marks the blank cell of part `pid`."""
    return r"\boxed{\mathtt{" + pid.replace("_", r"\_") + "}}"


def _writable_cells(shown: tuple[Step, ...], answers: dict[str, Answer], exclude: set[str]):
    """The shown material with every blank cell that names a part widened to hold a handwritten answer, and
    the ids of those parts (asked as entries: a multiple-choice part keeps its options)."""
    cells = {pid for pid in answers if pid not in exclude and any(_cell_markup(pid) in s.math for s in shown)}
    widened = []
    for step in shown:
        math = step.math
        for pid in cells:
            math = math.replace(_cell_markup(pid), r"\boxed{\rule{0pt}{0.5cm}\makebox[2.4cm][l]{$\mathtt{"
                                + pid.replace("_", r"\_") + "}$}}")
        widened.append(dataclasses.replace(step, math=math))
    return tuple(widened), cells


# ---- the document ----------------------------------------------------------------------------------


class ExamRenderer(Renderer):
    """Renders papers of an exam (questions through the topics' own templates, parts the exam's way)."""

    def __init__(self, templates: Path | None = None) -> None:
        super().__init__("tex", templates)

    def exam_question(self, ep: ExamProblem, solutions: bool) -> str:
        context = self._context(ep.problem)
        answers = {p.id: p.answer for p in ep.problem.solution.parts}
        shown, cells = _writable_cells(ep.problem.solution.shown, answers, exclude=set(ep.choices))

        def part(pid: str, caller: Callable[[], str]) -> str:
            if pid not in answers:
                raise KeyError(f"template asks for part {pid!r}, which the solver does not produce")
            head = f"\n\\part[{points_tex(ep.points[pid])}] {caller().strip()}"
            # the tag at the end of the part's last line, or on a line of its own: never into the margin
            tag = f" \\answertag{{{_tex_tt('[' + pid + ']')}}}"
            if pid in cells:  # answered in its cell of the table the question shows
                return head + (f" \\quad $\\boxed{{{answer_math(answers[pid])}}}$" if solutions else "") + tag + "\n"
            return head + tag + answer_space(answers[pid], ep.choices.get(pid), solutions)

        context["part"] = part
        context["solution"] = dataclasses.replace(ep.problem.solution, shown=shown)
        return self.env.get_template(f"templates/{ep.problem.topic}.j2").render(context).strip()

    def paper(self, spec: ExamSpec, paper: Paper, *, who: str, solutions: bool) -> str:
        """One paper as a complete LaTeX document. `who`: "version" or "student"."""
        items = [{"question": self.exam_question(ep, solutions),
                  "solution": self.solution(ep.problem) if solutions else "",
                  "choices": [(p.id, ep.choices[p.id].correct) for p in ep.problem.solution.parts  # part order
                              if p.id in ep.choices]} for ep in paper.problems]
        template = self.env.get_template("templates/_exam.tex.j2")
        label = f"Version {paper.label}" if who == "version" else f"Student {paper.label}"
        return template.render(
            items=items, solutions=solutions, title=_line(spec.title), course=_line(spec.course),
            date=_line(spec.date), duration=_line(spec.duration),
            instructions=tex_paragraphs(spec.instructions), label=tex_text(label),
            student=tex_text(paper.label) if who == "student" else "", rows=-(-len(items) // 12),
            total=paper.total, points_tex=points_tex, tt=_tex_tt,
            has_choices=any(ep.choices for ep in paper.problems))

