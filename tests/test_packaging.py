"""A non-editable install works: the wheel ships templates/, solutions/ and KaTeX (with its licence) inside the
package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_wheel_ships_the_templates_and_renders_from_them(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("exgen-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(n).name for n in names if "/_data/" in n}
    sources = {p.name for d in ("templates", "solutions") for p in (ROOT / d).iterdir() if p.suffix == ".j2"}
    assert sources <= shipped
    katex = {n.split("/_static/katex/")[1] for n in names if "/_static/katex/" in n}
    fonts = {f"fonts/{p.name}" for p in (ROOT / "exgen" / "_static" / "katex" / "fonts").glob("*.woff2")}
    assert {"LICENSE", "VERSION", "katex.min.js", "katex.min.css", "contrib/auto-render.min.js"} | fonts <= katex
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import exgen.render as r; from exgen.generate import generate; "
            "assert r.data_root().name == '_data', r.data_root(); "
            "print(r.Renderer('md').question(generate('quantization', 'affine', 'easy', 1))[:20]); "
            "page = r.Renderer('html').document([generate('compute', 'zero', 'easy', 1)], title='t', solutions=True); "
            "assert 'renderMathInElement' in page and 'data:font/woff2' in page")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(site)},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
