"""`exgen exam`: one spec file -> printed exams (versions or one per student), solutions, answer sheets and
one combined key, built to PDF.

    spec.py   the YAML schema, validated with line numbers before anything is written
    build.py  papers: problems per version/student, points per part, multiple-choice options; the key's meta
    latex.py  the exam document (a LaTeX driver beside render.py)
    pdf.py    pdflatex/latexmk in parallel, bounded in time

Output (DIR): key.json; per version DIR/A/ (or per student DIR/students/ID/): exam.tex, exam.pdf,
solutions.tex, solutions.pdf, answers.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from exgen.exam.build import Paper, build_papers, key_meta, version_labels
from exgen.exam.spec import ExamSpec, SpecError, read_spec

__all__ = ["ExamSpec", "SpecError", "read_spec", "prepare", "write", "ours", "Prepared"]


@dataclass
class Prepared:
    """Everything an exam writes, computed before the first file is written."""

    spec: ExamSpec
    papers: list[Paper]
    who: str                                   # "version" or "student"
    files: dict[Path, str] = field(default_factory=dict)   # relative path -> text
    tex: list[Path] = field(default_factory=list)          # relative .tex paths to build
    repeats: int = 0
    unmatched: int = 0                         # problems that could not take their slot's form (build.form)


def prepare(spec: ExamSpec, *, versions: int = 1, students: list[str] | None = None, secret: bytes | None = None,
            templates: Path | None = None) -> Prepared:
    """Papers, documents, answer sheets and key as text; raises SpecError (nothing written yet)."""
    from exgen.exam.latex import ExamRenderer
    from exgen.grading.exam import sheet_id
    from exgen.grading.sheet import blank_sheet
    from exgen.manifest import Key

    who = "student" if students is not None else "version"
    labels = students if students is not None else version_labels(versions)
    papers, repeats, unmatched = build_papers(spec, labels, secret)
    problems, meta = key_meta(spec, papers, "students" if who == "student" else "versions")
    ident = sheet_id(problems)
    meta["sheet"] = ident
    prepared = Prepared(spec, papers, who, repeats=repeats, unmatched=unmatched)
    renderer = ExamRenderer(templates)
    for paper in papers:
        folder = Path("students", paper.label) if who == "student" else Path(paper.label)
        for name, solutions in (("exam", False), ("solutions", True)):
            prepared.files[folder / f"{name}.tex"] = renderer.paper(spec, paper, who=who, solutions=solutions)
            prepared.tex.append(folder / f"{name}.tex")
        shown = [_presented(ep) for ep in paper.problems]
        prepared.files[folder / "answers.yaml"] = blank_sheet(
            shown, student=paper.label if who == "student" else "", sheet_id=ident, title=spec.title,
            version=paper.label if who == "version" else "")
    prepared.files[Path("key.json")] = Key(tuple(problems), meta=meta).to_json()
    return prepared


def _presented(ep):
    """The problem as its answer sheet asks it: multiple-choice parts take a letter."""
    import dataclasses

    from exgen.grading.grade import choice_key

    if not ep.choices:
        return ep.problem
    parts = tuple(dataclasses.replace(p, answer=choice_key(len(ep.choices[p.id].values), ep.choices[p.id].correct))
                  if p.id in ep.choices else p for p in ep.problem.solution.parts)
    return dataclasses.replace(ep.problem, solution=dataclasses.replace(ep.problem.solution, parts=parts))


def ours(name: str) -> bool:
    """Whether a name in an exam's folder is one `write` puts there: key.json, students/, version folders."""
    return name in ("key.json", "students") or name.isalpha() and name.isupper() and len(name) <= 2


def write(prepared: Prepared, out: Path, *, force: bool = False) -> None:
    """Write every file under `out` as one set (exgen.files.replace_folder): a folder holding an exam is
    replaced only with `force`, whole — so no version or key of an earlier exam is left beside the new one,
    and a key already handed out is not overwritten by accident."""
    from exgen.files import atomic_write_all, replace_folder

    def build(folder: Path) -> None:
        atomic_write_all((folder / relative, text) for relative, text in prepared.files.items())

    replace_folder(out, build, force=force, ours=ours)
