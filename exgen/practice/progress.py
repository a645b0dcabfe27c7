"""A student's practice record: every checked part, in a local SQLite file (the user's data directory).

One row per part of the problem at each check: (topic, variant, difficulty, seed, submission, part, verdict,
time), a part left blank as `unanswered`; showing the solution adds one row per part with the verdict `shown`.
A problem is its (topic, variant, difficulty, seed). The rules, so that practice cannot inflate them:

- an attempt is a problem checked or whose solution was shown, however often it was checked;
- a part is right when some check answered it right before the solution was shown; checks after the solution
  was shown are graded but not recorded;
- a problem is solved when every part is right; the streak is the solved problems in a row, newest first,
  not counting the newest one while it is still open (neither solved nor shown).

"Weakest first" uses the smoothed share of parts not right. Each request opens its own connection (two tabs,
two threads); WAL mode lets a reader and a writer work at once.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS checks (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    variant TEXT NOT NULL,
    difficulty TEXT NOT NULL,
    seed INTEGER NOT NULL,
    submission INTEGER NOT NULL,   -- one per click on "check" (or "show solution"): its parts share it
    part TEXT NOT NULL,
    verdict TEXT NOT NULL,         -- the grader's, or unanswered, or shown
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
    attempts: int  # problems checked or shown
    parts: int  # their parts
    correct: int  # parts right before the solution was shown
    streak: int  # problems solved in a row, most recent first

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

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection closed after use (`with sqlite3.connect()` ends a transaction, not the connection: each
        request leaked one); an uncommitted transaction is rolled back by the close."""
        db = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    def record(self, topic: str, variant: str, difficulty: str, seed: int, verdicts: dict[str, str]) -> bool:
        """One check: the verdict of every part of the problem (`unanswered` for a blank one). Not recorded,
        and False, once the problem's solution was shown."""
        return self._add(topic, variant, difficulty, seed, verdicts)

    def reveal(self, topic: str, variant: str, difficulty: str, seed: int, parts: Iterable[str]) -> None:
        """The solution was shown: later checks of this problem are not recorded."""
        self._add(topic, variant, difficulty, seed, dict.fromkeys(parts, "shown"))

    def _add(self, topic: str, variant: str, difficulty: str, seed: int, verdicts: dict[str, str]) -> bool:
        now = time.time()
        problem = (topic, variant, difficulty, seed)
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            shown = db.execute("SELECT 1 FROM checks WHERE topic = ? AND variant = ? AND difficulty = ? AND seed = ? "
                               "AND verdict = 'shown' LIMIT 1", problem).fetchone()
            if shown:
                db.execute("ROLLBACK")
                return False
            (last,) = db.execute("SELECT COALESCE(MAX(submission), 0) FROM checks").fetchone()
            db.executemany("INSERT INTO checks (topic, variant, difficulty, seed, submission, part, verdict, at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           [(*problem, last + 1, part, verdict, now) for part, verdict in verdicts.items()])
            db.execute("COMMIT")
        return True

    def stats(self, variants: Iterable[tuple[str, str]]) -> list[VariantStats]:
        """Stats for each (topic, variant), in the order given (untried ones with zeros)."""
        with self._connect() as db:
            rows = db.execute("SELECT topic, variant, COUNT(DISTINCT part), "
                              "COUNT(DISTINCT CASE WHEN verdict = 'correct' THEN part END), MAX(verdict = 'shown') "
                              "FROM checks GROUP BY topic, variant, difficulty, seed "
                              "ORDER BY MIN(submission) DESC").fetchall()
        per: dict[tuple[str, str], list[tuple[int, int, bool]]] = {}
        for topic, variant, parts, correct, shown in rows:  # a problem each, most recently started first
            per.setdefault((topic, variant), []).append((parts, correct, bool(shown)))
        out = []
        for topic, variant in variants:
            problems = per.get((topic, variant), [])
            solved = [correct == parts for parts, correct, _ in problems]
            if problems and not solved[0] and not problems[0][2]:
                solved = solved[1:]  # the newest problem is still open: it neither counts nor breaks the streak
            streak = next((i for i, s in enumerate(solved) if not s), len(solved))
            out.append(VariantStats(topic, variant, len(problems), sum(p for p, _, _ in problems),
                                    sum(c for _, c, _ in problems), streak))
        return out

    def weakest(self, variants: list[tuple[str, str]]) -> tuple[str, str]:
        """The variant most in need of practice (ties: fewer attempts, then the order given)."""
        order = {v: i for i, v in enumerate(variants)}
        weakest = min(self.stats(variants), key=lambda s: (-s.weakness, s.attempts, order[(s.topic, s.variant)]))
        return weakest.topic, weakest.variant

    def reset(self) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM checks")
