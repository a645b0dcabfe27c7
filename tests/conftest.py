"""Shared test helpers.

`needs(tool)`: a test that needs an external tool (pdflatex, torch) skips when it is missing on a developer's
machine, and fails in CI (CI=true), where .ci/run installs it: CI never passes by skipping.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

from exgen.topics import TOPIC_NAMES, get
from exgen.topics.base import DIFFICULTIES

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _available(tool: str) -> bool:
    return importlib.util.find_spec(tool) is not None if tool == "torch" else shutil.which(tool) is not None


def needs(tool: str):
    if _available(tool) or IN_CI:
        return lambda test: test  # in CI a missing tool fails the test loudly
    return pytest.mark.skip(reason=f"{tool} is not installed (CI installs it)")


def variant_cases() -> list[tuple[str, str]]:
    return [(t, v.name) for t in TOPIC_NAMES for v in get(t).variants]


def variant_difficulty_cases() -> list[tuple[str, str, str]]:
    return [(t, v, d) for t, v in variant_cases() for d in DIFFICULTIES]


def wrong(topic: str, mistake, variant: str, givens: dict):
    """A named mistake's value for a user's givens, handed the key's solution of them as generation hands it."""
    t = get(topic)
    return mistake.wrong(variant, givens, t.solve(variant, t.variant(variant).complete(givens)))
