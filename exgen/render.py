"""Rendering: one format-neutral template per topic, two drivers (Markdown, LaTeX).

Templates use non-brace delimiters (`<< x >>`, `<% tag %>`, `<# comment #>`) so LaTeX's braces need no
escaping, and the same template source serves both formats (R/exams' "a question knows nothing about
output formats").  What differs between formats is supplied as callables: `part` (a numbered, id-tagged
sub-question), `parts` (the list around them), `display` (display math), `answer` (a key value).
Math is LaTeX in both formats: GitHub Markdown renders `$…$` and `$$…$$`.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import jinja2

from exgen import numfmt as nf
from exgen.problem import Answer, Problem

FORMATS = ("md", "tex")


def data_root() -> Path:
    """Where templates/ and solutions/ live: inside the installed wheel, or at the top of a checkout."""
    installed = Path(__file__).parent / "_data"
    return installed if installed.is_dir() else Path(__file__).resolve().parent.parent


def answer_math(answer: Answer) -> str:
    """A key value as LaTeX math, at the precision the question asks for."""
    if answer.sig is not None:
        fmt: Callable[[Any], str] = lambda v: nf.sig(v, answer.sig, trim=False)
    elif answer.decimals is not None:
        fmt = lambda v: nf.fixed(v, answer.decimals)
    else:
        fmt = nf.num
    if answer.kind == "matrix":
        return nf.matrix(answer.value, fmt)
    if answer.kind == "vector":
        return nf.vector(answer.value, fmt)
    if answer.kind == "choice":
        return rf"\text{{{answer.value}}}"
    if answer.kind == "expression":
        return nf.expression(answer.value)
    unit = rf"\ \text{{{answer.unit}}}" if answer.unit else ""
    return fmt(answer.value) + unit


@dataclass(frozen=True)
class Format:
    """What one output format contributes to the shared templates."""

    name: str
    display: Callable[[str], str]
    parts: Callable[..., str]
    part_markup: Callable[[str, str, str], str]  # (letter, id, text)
    tt: Callable[[str], str]


def _tex_tt(text: str) -> str:
    """Typewriter text: escape underscores, and break `--` so T1 fonts do not set it as an en dash."""
    return r"\texttt{" + text.replace("_", r"\_").replace("-", "-{}") + "}"


_TEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
                "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}"}


def tex_text(text: str) -> str:
    """Plain text (a title with a roster id such as `jo_smith`) as LaTeX that prints it as written."""
    return "".join(_TEX_SPECIAL.get(c, c) for c in text)


MARKDOWN = Format(
    name="md",
    display=lambda m: f"\n$$\n{m}\n$$\n",
    parts=lambda caller: caller(),
    part_markup=lambda letter, pid, text: f"\n**({letter})** {text.strip()} `[{pid}]`\n",
    tt=lambda t: f"`{t}`",
)

LATEX = Format(
    name="tex",
    display=lambda m: f"\n\\[\n{m}\n\\]\n",
    parts=lambda caller: "\n\\begin{parts}" + caller() + "\\end{parts}\n",
    part_markup=lambda letter, pid, text: f"\n\\part {text.strip()} \\hfill {_tex_tt('[' + pid + ']')}\n",
    tt=_tex_tt,
)


class TemplateProblem(ValueError):
    """A template that cannot be rendered (a syntax error, an unknown name, an unsafe attribute)."""


def environment(fmt: Format, templates: Path | None = None) -> jinja2.Environment:
    """A strict environment over the user's template folder (if any) and the built-in one.

    With a user's folder it is Jinja's SandboxedEnvironment: a TA's template is text, not a program, so
    `<< ''.__class__.__mro__ >>` and the like fail (SecurityError) instead of reaching Python.
    """
    from jinja2.sandbox import SandboxedEnvironment

    roots = ([str(templates)] if templates else []) + [str(data_root())]
    env = (SandboxedEnvironment if templates else jinja2.Environment)(
        loader=jinja2.FileSystemLoader(roots),
        undefined=jinja2.StrictUndefined,
        block_start_string="<%",
        block_end_string="%>",
        variable_start_string="<<",
        variable_end_string=">>",
        comment_start_string="<#",
        comment_end_string="#>",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.globals.update(display=fmt.display, parts=fmt.parts, tt=fmt.tt, fmt=fmt.name, answer=answer_math)
    env.filters.update(num=nf.num, sig=nf.sig, fixed=nf.fixed, matrix=nf.matrix, vector=nf.vector)
    return env


def _letters() -> Callable[[], str]:
    count = iter(range(26 * 26))
    alphabet = string.ascii_lowercase

    def next_letter() -> str:
        i = next(count)
        return alphabet[i] if i < 26 else alphabet[i // 26 - 1] + alphabet[i % 26]

    return next_letter


class Renderer:
    """Renders problems and whole documents in one format."""

    def __init__(self, fmt: str = "md", templates: Path | None = None) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        self.format = MARKDOWN if fmt == "md" else LATEX
        self.env = environment(self.format, templates)
        self.user_templates = templates is not None

    def _context(self, problem: Problem) -> dict[str, Any]:
        letter = _letters()
        answers = {p.id: p.answer for p in problem.solution.parts}

        def part(pid: str, caller: Callable[[], str]) -> str:
            if pid not in answers:
                raise KeyError(f"template asks for part {pid!r}, which the solver does not produce")
            return self.format.part_markup(letter(), pid, caller())

        return {
            "p": problem,
            "g": problem.givens,
            "variant": problem.variant,
            "difficulty": problem.difficulty,
            "precision": {pid: a.precision for pid, a in answers.items()},
            "units": {pid: a.unit for pid, a in answers.items()},
            "part": part,
            "solution": problem.solution,
        }

    def _render(self, name: str, context: dict[str, Any]) -> str:
        try:
            return self.env.get_template(name).render(context)
        except Exception as e:  # noqa: BLE001 -- a user's template failing in any way is the template's fault
            if not isinstance(e, jinja2.TemplateError) and not self.user_templates:
                raise  # a built-in template failing is exgen's bug: let it surface as one
            where = f"{e.filename or name}" + (f", line {e.lineno}" if getattr(e, "lineno", None) else "") \
                if isinstance(e, jinja2.TemplateSyntaxError) else name
            raise TemplateProblem(f"template {where}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") \
                from None

    def question(self, problem: Problem) -> str:
        return self._render(f"templates/{problem.topic}.j2", self._context(problem)).strip()

    def solution(self, problem: Problem) -> str:
        return self._render(f"solutions/{problem.topic}.j2", self._context(problem)).strip()

    def document(self, problems: Sequence[Problem], *, title: str, solutions: bool, regenerate: str = "") -> str:
        """A whole worksheet; `regenerate` is the command that reproduces it (printed under the title)."""
        items = [{"question": self.question(p), "solution": self.solution(p) if solutions else "",
                  "problem": p} for p in problems]
        if self.format is LATEX:
            title = tex_text(title)
        return self._render(f"templates/_document.{self.format.name}.j2",
                            dict(items=items, title=title, solutions=solutions, regenerate=regenerate))
