"""Rendered Markdown uses only math that GitHub-style renderers display.

GitHub finds inline math as `$…$` whose opening `$` is not glued to a preceding digit and does not face a
space, and it reads Markdown escapes before the math: `\\_` reaches the math as a subscript and `\\\\` as a
single backslash. Every topic × variant × difficulty is rendered (two seeds) and scanned for these.
"""

from __future__ import annotations

import re

import pytest

from conftest import variant_difficulty_cases
from exgen.generate import generate
from exgen.render import Renderer

SPANS = re.compile(r"`[^`\n]*`|(\$\$.+?\$\$)|(\$[^$]+?\$)", re.S)


def math_problems(markdown: str) -> list[str]:
    found = []
    for m in SPANS.finditer(markdown):
        display, inline = m.groups()
        tex = display or inline
        if tex is None:
            continue  # a code span
        if r"\_" in tex:
            found.append(f"\\_ in math: {tex[:80]}")
        if inline:
            if "\\\\" in inline:
                found.append(f"row break \\\\ in inline math: {inline[:80]}")
            if m.start() and markdown[m.start() - 1].isdigit():
                found.append(f"inline math right after a digit: {markdown[max(0, m.start() - 10):m.end()][:80]}")
            if inline[1].isspace() or inline[-2].isspace():
                found.append(f"inline math with a space inside its dollar: {inline[:80]}")
    return found


@pytest.mark.parametrize("topic,variant,difficulty", variant_difficulty_cases())
def test_markdown_math_renders_on_github(topic, variant, difficulty):
    renderer = Renderer("md")
    for seed in (3, 20240):
        problem = generate(topic, variant, difficulty, seed)
        text = renderer.document([problem], title="t", solutions=True)
        assert math_problems(text) == []
        assert text.count("$") % 2 == 0  # every math span is closed


@pytest.mark.parametrize("text,problem", [
    (r"at 100$\,\%$ of peak", "after a digit"),
    (r"$\begin{bmatrix} 1 \\ 2 \end{bmatrix}$", "row break"),
    (r"$$\mathtt{bar\_v2}$$", r"\_ in math"),
    (r"$ x$", "space inside"),
])
def test_the_scan_finds_each_construct(text, problem):
    assert problem in " ".join(math_problems(text))


def test_the_markdown_driver_rewrites_each_construct():
    from exgen.render import MARKDOWN

    text = MARKDOWN.finish(r"at 100$\,\%$ and $\begin{bmatrix} 1 \\ 2 \end{bmatrix}$ and $$\mathtt{bar\_v2}$$ `a\_b$`")
    assert math_problems(text) == []
    assert text == (r"at $100\,\%$ and $\begin{bmatrix} 1 \cr 2 \end{bmatrix}$ and "
                    r"$$\mathtt{bar\underline{\hspace{0.5em}}v2}$$ `a\_b$`")


def test_only_a_whole_number_moves_into_the_math():
    from exgen.render import MARKDOWN

    assert MARKDOWN.finish(r"(38.5$\,\%$)") == r"($38.5\,\%$)"
    assert MARKDOWN.finish(r"fp16$^*$") == r"fp16$^*$"  # left for the scan to report, not mangled
