"""Problem generation: sample, solve, and keep only instances a grader can tell apart from mistakes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from exgen.grading.compare import matches
from exgen.problem import Answer, Problem, Solution
from exgen.rng import Rng, problem_seed
from exgen.topics import get
from exgen.topics.base import DIFFICULTIES, Rejected, Topic, answers_of

MAX_ATTEMPTS = 1000
MAX_REDRAWS = 50


def _distinguishable(topic: Topic, variant: str, givens: dict, solution: Solution,
                      answers: dict[str, Answer]) -> bool:
    """Every named mistake that applies must give a value outside the key's tolerance."""
    for mistake in topic.mistakes_for(variant):
        wrong = mistake.wrong(variant, givens, solution)
        if wrong is not None and matches(answers[mistake.part], wrong):
            return False
    return True


def path_failures(topic: Topic, variant: str, givens: dict, solution: Solution) -> list[str]:
    """The student paths (correct ways to compute a part from what the page shows) that land outside the
    key's tolerance for this instance (any of a path's alternatives): an instance with any is unfair and is not
    asked."""
    answers = {p.id: p.answer for p in solution.parts}
    failed = []
    for path in topic.paths_for(variant):
        if not all(matches(answers[path.part], v) for v in answers_of(path.value(variant, givens, solution))):
            failed.append(path.name)
    return failed


@dataclass
class Draws:
    """What one accepted instance cost: sampler draws, and the rejected ones by cause (for `exgen stress`)."""

    draws: int = 0
    sampler: int = 0  # the sampler's own checks raised Rejected (tie, degenerate range…)
    mistake: int = 0  # a named mistake landed inside the key's tolerance
    path: int = 0  # a student path landed outside the key's tolerance


def generate(topic_name: str, variant: str | None, difficulty: str, seed: int) -> Problem:
    """The problem fixed by (topic, variant, difficulty, seed); variant None picks one from the seed."""
    return generate_counted(topic_name, variant, difficulty, seed)[0]


def generate_counted(topic_name: str, variant: str | None, difficulty: str, seed: int) -> tuple[Problem, Draws]:
    """`generate`, also returning how many draws the instance took and why the others were rejected."""
    topic = get(topic_name)
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, not {difficulty!r}")
    # The variant is drawn from a stream of its own, so a problem regenerates identically whether its
    # variant was named or drawn.
    chosen = variant or Rng("exgen-variant", topic.name, difficulty, seed).choice([v.name for v in topic.variants])
    rng = Rng("exgen", topic.name, chosen, difficulty, seed)
    spec = topic.variant(chosen)
    draws = Draws()
    for _ in range(MAX_ATTEMPTS):
        draws.draws += 1
        try:
            givens = spec.complete(topic.sample(rng, chosen, difficulty))
        except Rejected:
            draws.sampler += 1
            continue
        solution = topic.solve(chosen, givens)
        answers = {p.id: p.answer for p in solution.parts}
        if not _distinguishable(topic, chosen, givens, solution, answers):
            draws.mistake += 1
        elif path_failures(topic, chosen, givens, solution):
            draws.path += 1
        else:
            return Problem(topic.name, chosen, difficulty, seed, givens, solution), draws
    raise RuntimeError(f"no acceptable {topic.name}/{chosen} instance in {MAX_ATTEMPTS} attempts (seed {seed})")


def solve_givens(topic_name: str, variant: str, givens: dict) -> Problem:
    """A user's own instance (a TA's slide): no sampling, no seed."""
    topic = get(topic_name)
    givens = topic.variant(variant).complete(givens)
    return Problem(topic.name, variant, "custom", None, givens, topic.solve(variant, givens))


def distinct_problems(topics: list[str], variant: str | None, difficulty: str, n: int,
                      seed_for: Callable[[int | str], int], taken: set[str] | None = None) -> list[Problem]:
    """`n` problems of each topic, distinct where possible: slot i is drawn from seed_for(i), and a slot whose
    givens repeat an earlier problem's is redrawn from seed_for("i.attempt") (deterministically). A topic
    that yields no new instance in MAX_REDRAWS draws has run out, and its later slots take what they draw:
    `count_repeats` tells the caller.

    `taken` holds the fingerprints of problems already handed out elsewhere (the other students of an exam):
    a slot avoids those too while the space allows, else takes an instance new to this sheet at least; the
    problems drawn here are added to it."""
    taken = set() if taken is None else taken
    problems: list[Problem] = []
    seen: set[str] = set()
    exhausted: set[str] = set()
    for slot, topic in enumerate(t for t in topics for _ in range(n)):
        fallback = None  # new to this sheet, but handed out elsewhere
        for attempt in range(1 if topic in exhausted else MAX_REDRAWS):
            problem = generate(topic, variant, difficulty, seed_for(slot if not attempt else f"{slot}.{attempt}"))
            fingerprint = problem.instance
            if fingerprint not in seen and fingerprint not in taken:
                break
            if fallback is None and fingerprint not in seen:
                fallback = problem, fingerprint
        else:
            if fallback is None:
                exhausted.add(topic)
            else:
                problem, fingerprint = fallback
        seen.add(fingerprint)
        taken.add(fingerprint)
        problems.append(problem)
    return problems


def count_repeats(problems: list[Problem]) -> int:
    """How many problems repeat an earlier one's instance."""
    return len(problems) - len({p.instance for p in problems})


def sheet(topics: list[str], variant: str | None, difficulty: str, seed: int, n: int) -> list[Problem]:
    """A practice sheet: problem seeds derived from the printed sheet seed."""
    return distinct_problems(topics, variant, difficulty, n, lambda index: problem_seed(seed, index))
