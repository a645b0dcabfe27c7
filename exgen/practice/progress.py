"""A student's practice record: every checked part, in a local SQLite file (the user's data directory).

One row per part checked: (topic, variant, difficulty, seed, submission, part, verdict, time).  From it:
attempts, parts correct and the current streak (fully correct submissions in a row) per topic and variant,
and the weakest variants first.  Each request opens its own connection (two tabs, two threads); WAL mode
lets a reader and a writer work at once.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

SCHEMA = """
CREATE TABLE IF NOT EXISTS checks (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    variant TEXT NOT NULL,
    difficulty TEXT NOT NULL,
    seed INTEGER NOT NULL,
    submission INTEGER NOT NULL,   -- one per click on "check": its parts share it
    part TEXT NOT NULL,
    verdict TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS checks_by_variant ON checks (topic, variant, submission);
"""


def default_path() -> Path:
    """progress.sqlite in the user's data directory (platformdirs: ~/.local/share/exgen on Linux)."""
    from platformdirs import user_data_path

    return user_data_path("exgen", appauthor=False) / "progress.sqlite"


@dataclass(frozen=True)
class VariantStats:
    topic: str
    variant: str
    attempts: int  # submissions
    parts: int  # parts answered
    correct: int  # parts correct
    streak: int  # fully correct submissions in a row, most recent first

    @property
    def weakness(self) -> float:
        """How much practice this variant needs: the smoothed share of parts not yet right (Laplace's rule,
        so an untried variant counts as half right)."""
        return 1 - (self.correct + 1) / (self.parts + 2)


class Progress:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5, isolation_level=None)

    def record(self, topic: str, variant: str, difficulty: str, seed: int, verdicts: dict[str, str]) -> None:
        """One submission: the verdict of every part the student answered."""
        now = time.time()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            (last,) = db.execute("SELECT COALESCE(MAX(submission), 0) FROM checks").fetchone()
            db.executemany("INSERT INTO checks (topic, variant, difficulty, seed, submission, part, verdict, at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           [(topic, variant, difficulty, seed, last + 1, part, verdict, now)
                            for part, verdict in verdicts.items()])
            db.execute("COMMIT")

    def stats(self, variants: Iterable[tuple[str, str]]) -> list[VariantStats]:
        """Stats for each (topic, variant), in the order given (untried ones with zeros)."""
        with self._connect() as db:
            rows = db.execute("SELECT topic, variant, submission, SUM(verdict = 'correct'), COUNT(*) FROM checks "
                              "GROUP BY topic, variant, submission ORDER BY submission DESC").fetchall()
        per: dict[tuple[str, str], list[tuple[int, int]]] = {}
        for topic, variant, _, correct, parts in rows:
            per.setdefault((topic, variant), []).append((correct, parts))
        out = []
        for topic, variant in variants:
            subs = per.get((topic, variant), [])
            streak = 0
            for correct, parts in subs:  # most recent first
                if correct != parts:
                    break
                streak += 1
            out.append(VariantStats(topic, variant, len(subs), sum(p for _, p in subs), sum(c for c, _ in subs),
                                    streak))
        return out

    def weakest(self, variants: list[tuple[str, str]]) -> tuple[str, str]:
        """The variant most in need of practice (ties: fewer attempts, then the order given)."""
        order = {v: i for i, v in enumerate(variants)}
        weakest = min(self.stats(variants), key=lambda s: (-s.weakness, s.attempts, order[(s.topic, s.variant)]))
        return weakest.topic, weakest.variant

    def reset(self) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM checks")
