"""Building PDFs: latexmk where present, else pdflatex run until its .aux settles (page totals and the points
table need a second pass); many documents in parallel, each bounded in time.

The work happens in the pdflatex child processes, so a thread pool that starts and waits for them keeps all
cores busy without pickling anything (a process pool of Python workers would only add start-up time).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

TIME_LIMIT_S = 120          # per document, all passes together
MAX_PASSES = 4
INSTALL_HINT = ("pdflatex is not installed: the .tex files are written; to build PDFs install TeX, e.g. "
                "apt-get install --no-install-recommends texlive-latex-base texlive-latex-recommended "
                "texlive-latex-extra lmodern (or MacTeX / MiKTeX), or compile them yourself")


@dataclass(frozen=True)
class Built:
    tex: Path
    ok: bool
    message: str = ""       # the first LaTeX error, or why the build stopped


def available() -> bool:
    return shutil.which("pdflatex") is not None


def _first_error(log: str) -> str:
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("!"):
            return " ".join(l.strip() for l in lines[i:i + 3])[:300]
    return log.strip().splitlines()[-1][:300] if log.strip() else "no output"


def build_one(tex: Path, timeout: float = TIME_LIMIT_S) -> Built:
    """Compile one .tex beside itself (auxiliary files are removed afterwards, the .tex and .pdf kept)."""
    tex = Path(tex).resolve()
    flags = ["-interaction=nonstopmode", "-halt-on-error"]
    # Same input, same PDF bytes: pdfTeX takes its creation date and the file's /ID from SOURCE_DATE_EPOCH when
    # it is set (no document of ours prints the date).
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0"}
    # pdfTeX writes its log in the input's bytes, split at its line length: an accented name (UTF-8) can come out
    # cut mid-character, so the output is read with replacement, never decoded strictly (a roster exam crashed).
    try:
        if shutil.which("latexmk"):
            run = subprocess.run(["latexmk", "-pdf", "-silent", *flags, tex.name], cwd=tex.parent,
                                 capture_output=True, text=True, errors="replace", timeout=timeout, env=env)
            ok, output = run.returncode == 0, run.stdout
        else:
            aux, previous, ok, output = tex.with_suffix(".aux"), None, True, ""
            for _ in range(MAX_PASSES):
                run = subprocess.run(["pdflatex", *flags, tex.name], cwd=tex.parent, capture_output=True,
                                     text=True, errors="replace", timeout=timeout, env=env)
                ok, output = run.returncode == 0, run.stdout
                current = aux.read_bytes() if aux.exists() else b""
                if not ok or current == previous:
                    break
                previous = current
    except subprocess.TimeoutExpired:
        return Built(tex, False, f"pdflatex took longer than {timeout:g} s")
    except OSError as e:
        return Built(tex, False, f"could not run pdflatex: {e}")
    finally:
        for suffix in (".aux", ".log", ".fls", ".fdb_latexmk", ".out"):
            tex.with_suffix(suffix).unlink(missing_ok=True)
    ok = ok and tex.with_suffix(".pdf").exists()
    return Built(tex, ok, "" if ok else _first_error(output))


def build_all(paths: list[Path], jobs: int | None = None) -> list[Built]:
    """Compile many documents in parallel (`jobs` at a time; default: the available cores)."""
    if not jobs:
        jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(build_one, paths))
