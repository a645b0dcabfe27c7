"""LaTeX sheets fit their pages: every topic × variant × difficulty (three seeds, one document per topic, with
solutions) compiles with no box wider than the line by more than 1 pt (a display or an answer tag in the
margin) and no page or framed solution taller than the page (a frame running over the footer), as pdflatex
reports them in its log.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from conftest import needs
from exgen.generate import generate
from exgen.render import Renderer
from exgen.topics import TOPIC_NAMES, get
from exgen.topics.base import DIFFICULTIES

SEEDS = (7, 3, 20240)
OVERFULL = re.compile(r"^Overfull \\([hv])box \(([\d.]+)pt too \w+\) (.*)$", re.M)


def overfull(log: str) -> list[str]:
    """The overfull boxes that show: any vbox, an hbox over 1 pt (TeX's own \\hfuzz is 0.1 pt)."""
    return [f"{m[0][:90]}" for m in OVERFULL.finditer(log) if m[1] == "v" or float(m[2]) > 1.0]


@pytest.mark.slow
@needs("pdflatex")
@pytest.mark.parametrize("topic", TOPIC_NAMES)
def test_every_sheet_fits_its_pages(topic, tmp_path):
    problems = [generate(topic, v.name, d, seed) for seed in SEEDS for v in get(topic).variants for d in DIFFICULTIES]
    (tmp_path / "sheet.tex").write_text(Renderer("tex").document(problems, title=topic, solutions=True),
                                        encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "sheet.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, [line for line in run.stdout.splitlines() if line.startswith("!")]
    log = (tmp_path / "sheet.log").read_text(encoding="utf-8", errors="replace")
    assert overfull(log) == []


def test_the_log_scan_finds_overfull_boxes():
    log = ("Overfull \\hbox (28.54033pt too wide) in paragraph at lines 46--47\n"
           "Overfull \\hbox (0.49274pt too wide) in paragraph at lines 9--9\n"
           "Overfull \\vbox (3.09184pt too high) detected at line 427\n")
    assert len(overfull(log)) == 2 and "28.54033pt" in overfull(log)[0] and "vbox" in overfull(log)[1]
