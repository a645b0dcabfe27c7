"""`--format html` in a real browser: Debian's headless chromium, driven by selenium, loads one page per topic
holding every variant at every difficulty (with solutions), at a phone's width.

Specification: KaTeX renders every formula (no `.katex-error`), no `$` or `\\` is left in the text a student
reads, and nothing widens the page past the screen (wide math scrolls inside its own box). On a wide screen a
display wider than the text column uses the room beside it, and the text keeps its measure. Printed, each
problem starts a new page, no number of a solution is lost off the paper's edge, and an Answers list is never
split over two pages; `exgen make --format html --out` writes pages that fetch nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter

import pytest

from conftest import IN_CI, needs
from exgen.generate import generate
from exgen.render import Renderer
from exgen.topics import TOPIC_NAMES, get
from exgen.topics.base import DIFFICULTIES

pytestmark = pytest.mark.slow
PHONE_WIDTH = 400
SCREENSHOTS = os.environ.get("EXGEN_SCREENSHOTS")  # a folder: save one screenshot per page there

# The text a student reads: the page without rendered math, code and scripts.
READ_TEXT = """
const copy = document.body.cloneNode(true);
copy.querySelectorAll('.katex, code, script, style').forEach(e => e.remove());
return copy.textContent;
"""
# Elements that stick out of the screen, unless a box that scrolls sideways (or clips) contains them (KaTeX's MathML copy,
# for screen readers, is clipped to nothing and not drawn).
OVERFLOWING = """
const width = document.documentElement.clientWidth;
const scrolls = e => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(e).overflowX);
const confined = e => { for (let p = e.parentElement; p; p = p.parentElement) if (scrolls(p)) return true; return false; };
return [...document.body.querySelectorAll('*')]
  .filter(e => !e.closest('.katex-mathml') && e.getBoundingClientRect().right > width + 0.5 && !confined(e))
  .slice(0, 5).map(e => e.outerHTML.slice(0, 160));
"""


def document(topic: str, fmt: str) -> str:
    problems = [generate(topic, v.name, d, 11) for v in get(topic).variants for d in DIFFICULTIES]
    return Renderer(fmt).document(problems, title=f"Every {topic} variant", solutions=True)


def page(topic: str) -> str:
    return document(topic, "html")


# The math of the Markdown and LaTeX documents, as a renderer finds it (code spans skipped; in LaTeX the body
# only, where displays are the driver's \exgendisplay{…} and align* blocks).
MATH = {"md": re.compile(r"`[^`\n]*`|\$\$(.+?)\$\$|\$([^$]+?)\$", re.S),
        "tex": re.compile(r"\\exgendisplay\{%\n(.+?)\n\}\n|(?<!\\)\$([^$]+?)\$"
                          r"|\\begin\{align\*\}\n(.+?)\n\\end\{align\*\}", re.S)}


def formulas(text: str, fmt: str) -> list[tuple[str, bool]]:
    """(TeX, display?) for each formula; an align* block is checked as the `aligned` it came from."""
    body = text.split("\\begin{document}")[-1]
    found = []
    for m in MATH[fmt].finditer(body):
        display, inline, *aligned = m.groups()
        if aligned and aligned[0] is not None:
            found.append((f"\\begin{{aligned}}{aligned[0]}\\end{{aligned}}", True))
        elif display is not None or inline is not None:
            found.append((display if display is not None else inline, display is not None))
    return found


KATEX_ERRORS = """
const errors = [];
for (const [tex, display] of arguments[0]) {
  try { katex.renderToString(tex, {displayMode: display, throwOnError: true}); }
  catch (e) { errors.push(e.message + ' in ' + tex.slice(0, 120)); }
}
return errors;
"""


def phone(driver, height: int) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": PHONE_WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": True})


@pytest.fixture(scope="module")
def browser():
    if not IN_CI:  # CI installs the test extra; elsewhere a missing selenium skips, as a missing chromium does
        pytest.importorskip("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=800,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver") or "chromedriver"))
    phone(driver, 900)  # a window cannot be this narrow: emulate a phone's screen
    yield driver
    driver.quit()


@needs("chromium")
@needs("chromedriver")
@pytest.mark.parametrize("topic", TOPIC_NAMES)
def test_every_formula_renders_and_fits_a_phone_screen(topic, browser, tmp_path):
    path = tmp_path / f"{topic}.html"
    path.write_text(page(topic), encoding="utf-8")
    browser.get(path.as_uri())
    assert browser.execute_script("return document.documentElement.clientWidth") <= PHONE_WIDTH
    formulas = browser.execute_script("return document.querySelectorAll('.katex').length")
    assert formulas > 10 * len(get(topic).variants)  # KaTeX ran (offline: everything it needs is in the page)
    errors = browser.execute_script(
        "return [...document.querySelectorAll('.katex-error')].map(e => e.title + ' in ' + e.textContent)")
    assert errors == []
    text = browser.execute_script(READ_TEXT)
    leftovers = [text[max(0, i - 60):i + 60] for i, c in enumerate(text) if c in "$\\"]
    assert leftovers == []
    assert browser.execute_script(OVERFLOWING) == []
    assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE_WIDTH
    if SCREENSHOTS:
        height = browser.execute_script("return document.documentElement.scrollHeight")
        phone(browser, min(height, 16000))
        browser.save_screenshot(os.path.join(SCREENSHOTS, f"{topic}.png"))
        phone(browser, 900)


@needs("chromium")
@needs("chromedriver")
@pytest.mark.parametrize("fmt", ["md", "tex"])
@pytest.mark.parametrize("topic", TOPIC_NAMES)
def test_markdown_and_latex_math_is_valid_katex(topic, fmt, browser, tmp_path):
    """The same KaTeX renders every formula of the Markdown and LaTeX documents without an error."""
    path = tmp_path / "katex.html"
    path.write_text(Renderer("html").document([], title="KaTeX", solutions=False), encoding="utf-8")
    browser.get(path.as_uri())
    found = formulas(document(topic, fmt), fmt)
    assert sum(display for _, display in found) > 3 * len(get(topic).variants)
    assert browser.execute_script(KATEX_ERRORS, found) == []


@needs("chromium")
@needs("chromedriver")
def test_printing_starts_each_problem_on_a_new_page(browser, tmp_path):
    import base64

    from selenium.webdriver.common.print_page_options import PrintOptions

    problems = [generate("compute", "matmul", "easy", seed) for seed in (1, 2, 3)]
    path = tmp_path / "print.html"
    path.write_text(Renderer("html").document(problems, title="t", solutions=False), encoding="utf-8")
    browser.get(path.as_uri())
    pdf = base64.b64decode(browser.print_page(PrintOptions()))
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == len(problems)  # each fits one page, each starts one


def test_make_html_writes_self_contained_pages_beside_the_key(tmp_path):
    from click.testing import CliRunner

    from exgen.cli import cli

    args = ["make", "--topic", "intensity", "--n", "2", "--seed", "4", "--format", "html", "--out", str(tmp_path)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert {"worksheet.html", "solutions.html", "key.json", "answers.yaml"} <= {p.name for p in tmp_path.iterdir()}
    worksheet, solutions = ((tmp_path / n).read_text(encoding="utf-8") for n in ("worksheet.html", "solutions.html"))
    assert "<h3>Solution</h3>" in solutions and "<h3>Solution</h3>" not in worksheet
    for page_ in (worksheet, solutions):  # nothing is fetched: no external script, stylesheet or font
        assert not re.search(r"<script[^>]+src=|<link\b|url\((?!data:)", page_)
    again = tmp_path / "again"
    CliRunner().invoke(cli, args[:-1] + [str(again)])
    assert (again / "solutions.html").read_bytes() == (tmp_path / "solutions.html").read_bytes()


def test_html_escapes_text_and_keeps_math_for_katex():
    from exgen.render import HTML

    body = HTML.finish("If $a < b$ & **c** use `x<y`:\n\n- one $x_1$\n- two" + HTML.display(r"a \\ b & c"))
    assert body == ("<p>If $a &lt; b$ &amp; <strong>c</strong> use <code>x&lt;y</code>:</p>\n"
                    "<ul><li>one $x_1$</li><li>two</li></ul>\n"
                    '<div class="display">\\[a \\\\ b &amp; c\\]</div>')


# Sheets whose solutions hold displays wider than a printed page (chromium cut them off at the paper's edge).
WIDE_SHEETS = [
    ["--topic", "quantization", "--topic", "compute", "--topic", "autodiff", "--difficulty", "hard", "--seed", "9"],
    ["--topic", "quantization", "--variant", "per_channel", "--difficulty", "hard", "--seed", "101"],
    ["--topic", "quantization", "--variant", "per_channel", "--difficulty", "medium", "--seed", "202"],
    ["--topic", "quantization", "--variant", "affine_channel", "--difficulty", "hard", "--seed", "202"],
]
DESKTOP_WIDTH = 1280


def solutions_page(args: list[str], folder) -> str:
    from click.testing import CliRunner

    from exgen.cli import cli

    result = CliRunner().invoke(cli, ["make", *args, "--n", "2", "--format", "html", "--out", str(folder)])
    assert result.exit_code == 0, result.output
    return (folder / "solutions.html").as_uri()


def printed_pages(browser, uri: str, folder, paper: tuple[float, float] = (21.0, 29.7)) -> list[str]:
    """The text of each page of `uri` printed (A4 unless told, in cm: narrower than Letter), default margins."""
    import base64

    from selenium.webdriver.common.print_page_options import PrintOptions

    browser.get(uri)
    options = PrintOptions()
    options.page_width, options.page_height = paper
    pdf = folder / "printed.pdf"
    pdf.write_bytes(base64.b64decode(browser.print_page(options)))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


def decimals(text: str) -> Counter:
    return Counter(re.findall(r"(?<![\d.])\d+\.\d+", text))


def matrix_entries(source: str) -> Counter:
    """Every entry of every matrix on the page, as KaTeX prints it (a minus as U+2212)."""
    cells = [c for m in re.findall(r"\\begin\{bmatrix\}(.+?)\\end\{bmatrix\}", source)
             for c in re.split(r"&amp;|\\\\", m)]
    return Counter(c.strip().replace("-", "\u2212") for c in cells)


@needs("chromium")
@needs("chromedriver")
@needs("pdftotext")
@pytest.mark.parametrize("args", WIDE_SHEETS, ids=["mixed-9", "per_channel-hard-101", "per_channel-medium-202",
                                                    "affine_channel-hard-202"])
def test_a_printed_key_keeps_every_number_of_its_wide_displays(args, browser, tmp_path):
    """A display wider than the paper is scaled down (or wrapped) to fit: none of its numbers runs off the page."""
    uri = solutions_page(args, tmp_path)
    source = (tmp_path / "solutions.html").read_text(encoding="utf-8")
    body = re.sub(r"<[^>]+>", " ", source.split("<body>")[1].split("<script>")[0])
    pdf = "\n".join(printed_pages(browser, uri, tmp_path))
    lost = {n: k for n, k in decimals(body).items()
            if len(re.findall(rf"(?<![\d.]){re.escape(n)}", pdf)) < k}
    assert lost == {}
    assert matrix_entries(source) - Counter(re.findall(r"(?<![\d.])\u2212?\d+(?:\.\d+)?(?![\d.])", pdf)) == Counter()


@needs("chromium")
@needs("chromedriver")
@needs("pdftotext")
def test_a_printed_answers_list_stays_on_one_page(browser, tmp_path):
    """The last answer of a solution never lands alone on a page of its own (Letter: where it did)."""
    uri = solutions_page(WIDE_SHEETS[0], tmp_path)
    source = (tmp_path / "solutions.html").read_text(encoding="utf-8")
    pages = printed_pages(browser, uri, tmp_path, paper=(21.59, 27.94))
    problems = source.split('<section class="problem"')[1:]
    starts = [next(n for n, text in enumerate(pages) if f"Problem {k}\n" in text)
              for k in range(1, len(problems) + 1)]
    for problem, first, end in zip(problems, starts, starts[1:] + [len(pages)]):
        answers = [f"{i} ({label}" for i, label in re.findall(r"<li><code>([^<]+)</code> \(([^$<]{0,20})", problem)]
        where = {a: [n for n in range(first, end) if a in pages[n]] for a in answers}
        assert len(answers) > 1 and len({tuple(n) for n in where.values()}) == 1, where


# Between the lines of each wrapped display, the gap from the lowest piece above to a line's first piece.
LINE_GAPS = """
return [...document.querySelectorAll('.katex-display .katex-html')].flatMap(html => {
  let last = null, bottom = -Infinity;
  const gaps = [];
  for (const piece of html.querySelectorAll(':scope > .katex-base')) {
    const box = piece.getBoundingClientRect();
    if (last && box.left < last.left) gaps.push(box.top - bottom);
    bottom = Math.max(bottom, box.bottom);
    last = box;
  }
  return gaps;
});
"""


@needs("chromium")
@needs("chromedriver")
def test_a_printed_display_too_wide_to_scale_wraps_onto_spaced_lines(browser, tmp_path):
    """Print styles on a phone's narrow page: past 0.8 of the text's size a display wraps after its = signs."""
    browser.get(solutions_page(WIDE_SHEETS[0], tmp_path))
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        gaps = browser.execute_script(LINE_GAPS)
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert gaps and min(gaps) >= 2  # a matrix does not touch the line above it


WIDE_LAYOUT = """
const width = document.documentElement.clientWidth, px = e => e.getBoundingClientRect();
return {
  pageScrolls: document.documentElement.scrollWidth > width,
  widestText: Math.max(...[...document.querySelectorAll('p, h2, li.part')].map(e => px(e).width)),
  scrollingInlineMatrices: [...document.querySelectorAll('.katex:not(.katex-display > .katex):has(.mtable)')]
    .filter(e => e.scrollWidth > e.clientWidth).length,
  displaysScrollingWithRoomLeft: [...document.querySelectorAll('.katex-display')]
    .filter(e => e.scrollWidth > e.clientWidth && px(e).right < width - 48).map(e => e.textContent.slice(0, 60)),
  displaysWidened: [...document.querySelectorAll('.katex-display')].filter(e => px(e).width > 770).length,
};
"""


@needs("chromium")
@needs("chromedriver")
def test_a_wide_screen_gives_wide_displays_its_room_and_text_its_measure(browser, tmp_path):
    """At 1280 px a display wider than the column runs on into the margin before it scrolls; no useless scrollbar."""
    uri = solutions_page(WIDE_SHEETS[0], tmp_path)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": DESKTOP_WIDTH, "height": 900, "deviceScaleFactor": 1, "mobile": False})
    try:
        browser.get(uri)
        layout = browser.execute_script(WIDE_LAYOUT)
    finally:
        phone(browser, 900)
    assert layout.pop("widestText") <= 48 * 16  # a readable measure: 48rem
    widened = layout.pop("displaysWidened")
    assert layout == {"pageScrolls": False, "scrollingInlineMatrices": 0, "displaysScrollingWithRoomLeft": []}
    assert widened > 0
