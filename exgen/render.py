"""Rendering: one format-neutral template per topic, three drivers (Markdown, LaTeX, HTML).

Templates use non-brace delimiters (`<< x >>`, `<% tag %>`, `<# comment #>`) so LaTeX's braces need no
escaping, and the same template source serves both formats (R/exams' "a question knows nothing about
output formats").  What differs between formats is supplied as callables: `part` (a numbered, id-tagged
sub-question), `parts` (the list around them), `display` (display math), `answer` (a key value).
Math is LaTeX in every format: GitHub Markdown renders `$…$` and `$$…$$` (the Markdown driver rewrites the
few constructs GitHub-style renderers break on), and an HTML page renders it with the KaTeX shipped in
exgen/_static/katex, so it works offline.
"""

from __future__ import annotations

import base64
import functools
import html
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import jinja2

from exgen import numfmt as nf
from exgen.problem import Answer, Problem
from exgen.units import shown

FORMATS = ("md", "tex", "html")


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
    unit = rf"\ \text{{{shown(answer.unit)}}}" if answer.unit else ""
    return fmt(answer.value) + unit


@dataclass(frozen=True)
class Format:
    """What one output format contributes to the shared templates."""

    name: str
    display: Callable[[str], str]
    parts: Callable[..., str]
    part_markup: Callable[[str, str, str], str]  # (letter, id, text)
    tt: Callable[[str], str]
    finish: Callable[[str], str] = lambda text: text  # applied to each rendered question and solution


def _tex_tt(text: str) -> str:
    """Typewriter text: escape underscores, and break `--` so T1 fonts do not set it as an en dash."""
    return r"\texttt{" + text.replace("_", r"\_").replace("-", "-{}") + "}"


_TEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
                "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}"}


def tex_text(text: str) -> str:
    """Plain text (a title with a roster id such as `jo_smith`) as LaTeX that prints it as written."""
    return "".join(_TEX_SPECIAL.get(c, c) for c in text)


# Markdown: math spans as GitHub finds them (code spans first, then $$…$$ and $…$).
_MD_SPANS = re.compile(r"(`[^`\n]*`)|\$\$(.+?)\$\$|\$([^$]+?)\$", re.S)
_INLINE_BREAK = re.compile(r"\\\\\s*")
_NUMBER_BEFORE = re.compile(r"(?<![\w.])\d+(?:\.\d+)?$")  # a whole number, not the 16 of fp16


def _md_math(tex: str, inline: bool) -> str:
    r"""Math that GitHub-style renderers display: they read `\_` as a Markdown escape (so `_` reaches the
    math as a subscript), and `\\` in inline math as an escaped backslash. An underscore is drawn as an
    underlined space, and an inline row break is TeX's `\cr` (KaTeX and MathJax accept both)."""
    if "\\_" in tex:
        tex = tex.replace(r"\_", r"\underline{\hspace{0.5em}}")
    return _INLINE_BREAK.sub(r"\\cr ", tex) if inline and "\\\\" in tex else tex


def _markdown_finish(text: str) -> str:
    """Rewrite the math of rendered Markdown (see `_md_math`); a number right before inline math
    (`100$\\,\\%$`, which GitHub does not open as math) moves inside it. Only the spans that change are
    rebuilt (most have no underscore, row break or number before them: issue 12)."""
    out: list[str] = []
    pos = 0        # how much of `text` is in `out`
    previous = 0   # where the previous span ended
    for m in _MD_SPANS.finditer(text):
        code, display, inline = m.groups()
        start = m.start()
        if display is not None and "\\_" in display:
            out += [text[pos:start], "$$" + _md_math(display, inline=False) + "$$"]
            pos = m.end()
        elif inline is not None and ("\\_" in inline or "\\\\" in inline
                                     or (start > previous and text[start - 1].isdigit())):
            before = text[previous:start]
            number = _NUMBER_BEFORE.search(before) if before[-1:].isdigit() else None
            lead = number.group() if number else ""
            out += [text[pos:start - len(lead)], "$" + lead + _md_math(inline, inline=True) + "$"]
            pos = m.end()
        previous = m.end()
    return "".join(out) + text[pos:] if out else text


MARKDOWN = Format(
    name="md",
    display=lambda m: f"\n$$\n{m}\n$$\n",
    parts=lambda caller: caller(),
    part_markup=lambda letter, pid, text: f"\n**({letter})** {text.strip()} `[{pid}]`\n",
    tt=lambda t: f"`{t}`",
    finish=_markdown_finish,
)

_ALIGNED = re.compile(r"\\begin\{aligned\}(.*)\\end\{aligned\}", re.S)


def _tex_display(math: str) -> str:
    """A display: one `aligned` block becomes `align*`, whose rows break across pages (a solution's trace can
    be longer than what is left of the page); any other display is scaled down to the line width only when
    it is wider (\\exgendisplay in _document.tex.j2). No blank line before it: a display that opens a paragraph
    leaves an empty line above it."""
    aligned = _ALIGNED.fullmatch(math.strip())
    if aligned and "aligned" not in aligned[1]:
        return f"\\begin{{align*}}\n{aligned[1].strip()}\n\\end{{align*}}\n"
    return f"\\exgendisplay{{%\n{math}\n}}\n"


LATEX = Format(
    name="tex",
    display=_tex_display,
    parts=lambda caller: "\n\\begin{parts}" + caller() + "\\end{parts}\n",
    # \answertag (in _document.tex.j2) sets the id at the right of the last line, or on a line of its own.
    part_markup=lambda letter, pid, text: f"\n\\part {text.strip()} \\answertag{{{_tex_tt('[' + pid + ']')}}}\n",
    tt=_tex_tt,
)


class TemplateProblem(ValueError):
    """A template that cannot be rendered (a syntax error, an unknown name, an unsafe attribute)."""


# HTML: the template renders to light markup (the Markdown subset the templates use: paragraphs, `code`,
# **bold**, "- " lists, $math$), in which the driver's own elements are raw HTML between two private-use
# characters. `_html_finish` escapes everything else and turns the light markup into HTML.
_RAW_OPEN, _RAW_CLOSE = "\ue000", "\ue001"
_RAW = re.compile(f"{_RAW_OPEN}(.*?){_RAW_CLOSE}", re.S)
_HTML_MATH = re.compile(r"(\$\$.+?\$\$|\$[^$]+?\$|\\\[.+?\\\]|\\\(.+?\\\))", re.S)
_HTML_INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*", re.S)


def _raw(markup: str) -> str:
    return _RAW_OPEN + markup + _RAW_CLOSE


def _html_inline(text: str) -> str:
    """Escaped text with `code` and **bold**; math is left for KaTeX (escaped, so the browser reads it back)."""
    pieces = _HTML_MATH.split(text)
    out = []
    for i, piece in enumerate(pieces):
        if i % 2:
            out.append(html.escape(piece, quote=False))
            continue
        pos, done = 0, []
        for m in _HTML_INLINE.finditer(piece):
            done.append(html.escape(piece[pos:m.start()], quote=False))
            done.append(f"<code>{html.escape(m[1], quote=False)}</code>" if m[1] is not None
                        else f"<strong>{_html_inline(m[2])}</strong>")
            pos = m.end()
        out.append("".join(done) + html.escape(piece[pos:], quote=False))
    return "".join(out)


def _html_blocks(text: str) -> str:
    """Paragraphs separated by blank lines; a block whose lines all start with "- " is a list."""
    blocks = []
    for chunk in re.split(r"\n\s*\n", text):
        lines = chunk.strip().splitlines()
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            blocks.append("<ul>" + "".join(f"<li>{_html_inline(line[2:])}</li>" for line in lines) + "</ul>")
        else:
            blocks.append(f"<p>{_html_inline(chr(10).join(lines))}</p>")
    return "\n".join(blocks)


def _html_finish(text: str) -> str:
    pieces = _RAW.split(text)
    return "\n".join(p if i % 2 else _html_blocks(p) for i, p in enumerate(pieces) if p.strip()).strip()


def _html_part(letter: str, pid: str, text: str) -> str:
    head = f'<li class="part" data-letter="{letter}"><code class="pid">[{html.escape(pid)}]</code>'
    return _raw(head) + "\n\n" + text.strip() + "\n\n" + _raw("</li>")


HTML = Format(
    name="html",
    # Display math in its own box: KaTeX's .katex-display scrolls sideways when wider than the screen.
    display=lambda m: "\n" + _raw(f'<div class="display">\\[{html.escape(m, quote=False)}\\]</div>') + "\n",
    parts=lambda caller: _raw('<ol class="parts">') + caller() + _raw("</ol>"),
    part_markup=_html_part,
    tt=lambda t: f"`{t}`",
    finish=_html_finish,
)

DRIVERS = {f.name: f for f in (MARKDOWN, LATEX, HTML)}

KATEX = Path(__file__).parent / "_static" / "katex"


@functools.lru_cache(maxsize=1)
def katex_assets() -> dict[str, str]:
    """KaTeX's stylesheet (fonts inlined as woff2 data: URLs) and scripts, for a page that works offline."""
    def font(m: re.Match[str]) -> str:
        data = base64.b64encode((KATEX / "fonts" / f"{m[1]}.woff2").read_bytes()).decode()
        return f'url(data:font/woff2;base64,{data}) format("woff2")'

    css = (KATEX / "katex.min.css").read_text(encoding="utf-8")
    css = re.sub(r'url\(fonts/([\w-]+)\.woff2\) format\("woff2"\)(?:,url\(fonts/[\w.-]+\) format\("\w+"\))*',
                 font, css)
    if "url(fonts/" in css:
        raise RuntimeError("KaTeX stylesheet refers to a font that is not inlined")
    return {"css": css, "js": (KATEX / "katex.min.js").read_text(encoding="utf-8"),
            "auto_render": (KATEX / "contrib" / "auto-render.min.js").read_text(encoding="utf-8")}


def environment(fmt: Format, templates: Path | None = None) -> jinja2.Environment:
    """A strict environment over the user's template folder (if any) and the built-in one.

    With a user's folder it is Jinja's SandboxedEnvironment: a TA's template is text, not a program, so
    `<< ''.__class__.__mro__ >>` and the like fail (SecurityError) instead of reaching Python.  The built-in
    templates' environment is made once per format and shared, so each template is compiled once per
    process (an LMS bank renders hundreds of questions through as many renderers: issue 12).
    """
    return _environment(fmt, templates) if templates is not None else _builtin_environment(fmt)


@functools.lru_cache(maxsize=None)
def _builtin_environment(fmt: Format) -> jinja2.Environment:
    env = _environment(fmt, None)
    env.bytecode_cache = _template_cache()
    return env


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja's on-disk cache of compiled templates, which never makes a command fail: a cache folder that
    cannot be read or written means compiling again, nothing more."""

    def load_bytecode(self, bucket: Any) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 -- a damaged entry: compile afresh
            bucket.reset()

    def dump_bytecode(self, bucket: Any) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


@functools.lru_cache(maxsize=1)
def _template_cache() -> jinja2.BytecodeCache | None:
    """The built-in templates compiled once per user and kept (~/.cache/exgen/templates on Linux): compiling
    a topic's template took 10–40 ms of every command's start (issue 12). An entry is keyed by the template's
    path and checked against its source, Jinja's bytecode version and Python's, so a changed template or
    another Python compiles anew. Only the built-in environment uses it: a TA's templates are compiled per run."""
    from platformdirs import user_cache_path

    folder = user_cache_path("exgen") / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return _QuietBytecodeCache(str(folder))


def _environment(fmt: Format, templates: Path | None) -> jinja2.Environment:
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
        auto_reload=templates is not None,  # built-in templates: compiled once, no stat per problem (issue 12)
    )
    env.globals.update(display=fmt.display, parts=fmt.parts, tt=fmt.tt, fmt=fmt.name, answer=answer_math)
    env.filters.update(num=nf.num, sig=nf.sig, fixed=nf.fixed, matrix=nf.matrix, vector=nf.vector, plural=nf.plural)
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
        self.format = DRIVERS[fmt]
        self.env = environment(self.format, templates)
        self.user_templates = templates is not None
        self._templates: dict[str, jinja2.Template] = {}
        # The questions of the last document, by id() of the problem (held, so the id stays its own): a
        # worksheet and its solutions show the same questions, rendered once (issue 12).
        self._last_questions: dict[int, tuple[Problem, str]] = {}

    def _context(self, problem: Problem) -> dict[str, Any]:
        letter = _letters()
        answers = {p.id: p.answer for p in problem.solution.parts}

        def part(pid: str, caller: Callable[[], str]) -> str:
            if pid not in answers:
                raise KeyError(f"template asks for part {pid!r}, which the solver does not produce")
            return self.format.part_markup(letter(), pid, caller())

        from exgen.topics import get

        shown = get(problem.topic).question_values
        return {
            "p": problem,
            "g": problem.givens,
            "q": shown(problem.variant, problem.givens, problem.difficulty) if shown else {},
            "variant": problem.variant,
            "difficulty": problem.difficulty,
            "precision": {pid: a.precision for pid, a in answers.items()},
            "units": {pid: a.unit for pid, a in answers.items()},
            "part": part,
            "solution": problem.solution,
        }

    def _render(self, name: str, context: dict[str, Any]) -> str:
        try:
            template = self._templates.get(name)
            if template is None:
                template = self._templates[name] = self.env.get_template(name)
            return template.render(context)
        except Exception as e:  # noqa: BLE001 -- a user's template failing in any way is the template's fault
            if not isinstance(e, jinja2.TemplateError) and not self.user_templates:
                raise  # a built-in template failing is exgen's bug: let it surface as one
            where = f"{e.filename or name}" + (f", line {e.lineno}" if getattr(e, "lineno", None) else "") \
                if isinstance(e, jinja2.TemplateSyntaxError) else name
            raise TemplateProblem(f"template {where}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") \
                from None

    def question(self, problem: Problem) -> str:
        return self.format.finish(self._render(f"templates/{problem.topic}.j2", self._context(problem)).strip())

    def solution(self, problem: Problem) -> str:
        return self.format.finish(self._render(f"solutions/{problem.topic}.j2", self._context(problem)).strip())

    def document(self, problems: Sequence[Problem], *, title: str, solutions: bool, regenerate: str = "") -> str:
        """A whole worksheet; `regenerate` is the command that reproduces it (printed under the title)."""
        previous, questions = self._last_questions, {}
        for p in problems:
            hit = previous.get(id(p))
            questions[id(p)] = hit if hit is not None and hit[0] is p else (p, self.question(p))
        self._last_questions = questions
        items = [{"question": questions[id(p)][1], "solution": self.solution(p) if solutions else "",
                  "problem": p} for p in problems]
        if self.format is LATEX:
            title = tex_text(title)
        extra = {"katex": katex_assets(), "escape": html.escape} if self.format is HTML else {}
        return self._render(f"templates/_document.{self.format.name}.j2",
                            dict(items=items, title=title, solutions=solutions, regenerate=regenerate, **extra))
