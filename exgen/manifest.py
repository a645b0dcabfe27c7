"""Answer-key manifests: the frozen record a grader reads (givens, answers, tolerances, exgen version).

Grading reads the manifest and never regenerates; `regenerated_differs` tells when this exgen version
would produce a different problem for the same seed (a warning, not an error: the key still stands).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exgen import __version__
from exgen.files import atomic_write
from exgen.problem import Problem

FORMAT = "exgen-key/1"


class KeyFileError(ValueError):
    """A key file that cannot be read; the message says why."""


@dataclass(frozen=True)
class Key:
    problems: tuple[Problem, ...]
    version: str = __version__
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        doc = {"format": FORMAT, "exgen_version": self.version, "meta": self.meta,
               "problems": [p.to_dict() for p in self.problems]}
        return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"

    def write(self, path: Path) -> None:
        atomic_write(path, self.to_json())

    def part(self, qualified: str):
        """(problem, part) for an id like '3.scale' (problem 3, part 'scale')."""
        number, _, part_id = qualified.partition(".")
        if not number.isdigit() or not 1 <= int(number) <= len(self.problems):
            raise KeyFileError(f"no problem {number!r} in this key (it has {len(self.problems)}); ids look like 1.scale")
        problem = self.problems[int(number) - 1]
        try:
            return problem, problem.solution.part(part_id)
        except KeyError:
            ids = ", ".join(f"{number}.{p.id}" for p in problem.solution.parts)
            raise KeyFileError(f"problem {number} has no part {part_id!r} (parts: {ids})") from None


def read_key(path: Path) -> Key:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise KeyFileError(f"cannot read key {path}: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise KeyFileError(f"{path} is not an exgen key (expected format {FORMAT!r})")
    try:
        problems = tuple(Problem.from_dict(p) for p in doc["problems"])
    except (KeyError, TypeError, ValueError) as e:
        raise KeyFileError(f"{path} is a damaged key: {e}") from None
    return Key(problems, doc.get("exgen_version", "?"), doc.get("meta", {}))


def regenerated_differs(problem: Problem) -> bool:
    """Whether this exgen would generate something else for the problem's seed."""
    from exgen.generate import generate

    if problem.seed is None:
        return False
    again = generate(problem.topic, problem.variant, problem.difficulty, problem.seed)
    return again.to_dict() != problem.to_dict()
