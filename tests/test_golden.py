"""Golden renders: the same seed gives the same bytes on every machine. Set EXGEN_UPDATE_GOLDEN=1 to rewrite
them after an intended change (and review the diff)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import needs
from exgen.topics import TOPIC_NAMES
from golden_docs import golden_document

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("EXGEN_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("topic", TOPIC_NAMES)
@pytest.mark.parametrize("fmt", ["md", "tex"])
def test_render_matches_golden(topic, fmt):
    path = GOLDEN / f"{topic}.{fmt}"
    text = golden_document(topic, fmt)
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with EXGEN_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.slow
@needs("pdflatex")
@pytest.mark.parametrize("topic", TOPIC_NAMES)
def test_latex_compiles_with_pdflatex(topic, tmp_path):
    """Every topic's golden LaTeX (all variants, all difficulties, with solutions) compiles to a PDF."""
    source = tmp_path / f"{topic}.tex"
    source.write_text(golden_document(topic, "tex"), encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", source.name],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    errors = [line for line in run.stdout.splitlines() if line.startswith("!")]
    assert run.returncode == 0 and (tmp_path / f"{topic}.pdf").exists(), errors or run.stdout[-2000:]


@pytest.mark.slow
@needs("pdflatex")
def test_latex_letters_parts_past_z(tmp_path):
    """The exam class letters parts (a)-(z) only; the layout continues (aa), (ab), ... like the Markdown."""
    from exgen.generate import solve_givens
    from exgen.render import Renderer

    graph = "; ".join(["v1 = v-1 * v0"] + [f"v{i} = v{i - 1} + v{i - 2}" for i in range(2, 16)])
    problem = solve_givens("autodiff", "forward", {"graph": graph, "x": [1, 2], "xdot": [1, 0]})
    assert len(problem.solution.parts) > 26
    (tmp_path / "big.tex").write_text(Renderer("tex").document([problem], title="t", solutions=False))
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "big.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, [line for line in run.stdout.splitlines() if line.startswith("!")]
