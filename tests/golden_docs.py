"""The documents pinned by golden files: per topic, every variant at every difficulty, seed 7, with solutions."""

from __future__ import annotations

from exgen.generate import generate
from exgen.render import Renderer
from exgen.topics import get
from exgen.topics.base import DIFFICULTIES

GOLDEN_SEED = 7


def golden_document(topic: str, fmt: str) -> str:
    problems = [generate(topic, v.name, d, GOLDEN_SEED) for v in get(topic).variants for d in DIFFICULTIES]
    return Renderer(fmt).document(problems, title=f"Golden: {topic}", solutions=True,
                                  regenerate=f"exgen golden {topic} seed {GOLDEN_SEED}")
