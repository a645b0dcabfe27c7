"""LMS exports: Moodle XML, Canvas (QTI 1.2 zip) and QTI 2.1 content packages — drivers over the problem model.

A driver reads Problems (parts, answers, tolerances, worked solutions) from a key or from `generate()`, and the
named mistakes through `exgen.grading.grade.mistakes_of`; it never calls a topic's math of its own.  Each
instance is frozen: the LMS compares a response with a stored value and tolerance, and evaluates nothing.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from exgen.problem import Problem

FORMATS = ("moodle", "canvas", "qti21")
SUFFIX = {"moodle": ".xml", "canvas": ".zip", "qti21": ".zip"}


@dataclass(frozen=True)
class Exported:
    data: bytes
    notes: tuple[str, ...]   # parts left out, each named, and other things the user should know


def ordered(problems: Sequence[Problem]) -> list[tuple[int, Problem]]:
    """(number in the key, problem), grouped by topic/variant in the order each bank first appears."""
    numbered = list(enumerate(problems, 1))
    first: dict[str, int] = {}
    for i, p in numbered:
        first.setdefault(f"{p.topic}/{p.variant}", i)
    return sorted(numbered, key=lambda ip: (first[f"{ip[1].topic}/{ip[1].variant}"], ip[0]))


def export(fmt: str, problems: Sequence[Problem], points: Sequence[dict[str, float]] | None = None,
           per_part: bool = False) -> Exported:
    """The file for `fmt` holding `problems`, and notes naming what it could not express. `points[i]` gives
    problem i's points per part id (an exam spec's); a part it does not name is worth 1. `per_part` (Moodle):
    one question per part instead of one cloze question per problem."""
    from exgen.grading.grade import mistakes_of

    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    items = ordered(problems)
    mistakes = {n: mistakes_of(p) for n, p in items}
    if fmt == "moodle":
        from exgen.export import moodle as driver
    elif fmt == "canvas":
        from exgen.export import canvas as driver  # type: ignore[no-redef]
    else:
        from exgen.export import qti21 as driver  # type: ignore[no-redef]
    worth = {n: dict(points[n - 1]) if points else {} for n, _ in items}
    data, notes = driver.build(items, mistakes, worth, per_part) if fmt == "moodle" else \
        driver.build(items, mistakes, worth)
    return Exported(data, tuple(notes))


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically: all of it, or the previous file untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.exgen-{os.getpid()}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


MAX_PER_VARIANT = 200


def problems_from_spec(spec, n: int, seed: int | None = None) -> tuple[list[Problem], list[dict[str, float]]]:
    """`n` distinct instances of every variant an exam spec's sections name (all of a topic's variants where a
    section names none), at the section's difficulty, and their points per part as the exam gives them
    (`points` split over the parts in half points, or `points_per_part`); seeds derive from the spec's seed (or
    `seed`), the topic, the variant and the difficulty, so the same spec and options give the same bank."""
    from exgen.exam.build import split_points
    from exgen.generate import distinct_problems
    from exgen.rng import problem_seed
    from exgen.topics import get

    base = spec.seed if seed is None else seed
    problems: list[Problem] = []
    points: list[dict[str, float]] = []
    seen: set[tuple[str, str, str]] = set()
    for section in spec.sections:
        for variant in section.variants or tuple(v.name for v in get(section.topic).variants):
            if (section.topic, variant, section.difficulty) in seen:
                continue
            seen.add((section.topic, variant, section.difficulty))
            tag = f"export/{section.topic}/{variant}/{section.difficulty}"
            drawn = distinct_problems([section.topic], variant, section.difficulty, n,
                                      lambda index, tag=tag: problem_seed(base, f"{tag}/{index}"))
            for problem in drawn:
                ids = [p.id for p in problem.solution.parts]
                where = f"{spec.source}, line {section.line}: section {section.topic} ({variant})"
                shares = split_points(section.points, len(ids), where) if section.points is not None \
                    else [float(section.points_per_part)] * len(ids)
                points.append(dict(zip(ids, shares)))
            problems += drawn
    return problems, points
