"""Problem generation: sample, solve, and keep only instances a grader can tell apart from mistakes."""

from __future__ import annotations

import json
from typing import Callable

from exgen.grading.compare import matches
from exgen.problem import Answer, Problem, Solution
from exgen.rng import Rng, problem_seed
from exgen.topics import get
from exgen.topics.base import DIFFICULTIES, Rejected, Topic

MAX_ATTEMPTS = 1000
MAX_REDRAWS = 50


def _distinguishable(topic: Topic, variant: str, givens: dict, answers: dict[str, Answer]) -> bool:
    """Every named mistake that applies must give a value outside the key's tolerance."""
    for mistake in topic.mistakes_for(variant):
        wrong = mistake.wrong(variant, givens)
        if wrong is not None and matches(answers[mistake.part], wrong):
            return False
    return True


def path_failures(topic: Topic, variant: str, givens: dict, solution: Solution) -> list[str]:
    """The student paths (correct ways to compute a part from what the page shows) that land outside the
    key's tolerance for this instance: an instance with any is unfair and is not asked."""
    answers = {p.id: p.answer for p in solution.parts}
    failed = []
    for path in topic.paths_for(variant):
        value = path.value(variant, givens, solution)
        if value is not None and not matches(answers[path.part], value):
            failed.append(path.name)
    return failed


def generate(topic_name: str, variant: str | None, difficulty: str, seed: int) -> Problem:
    """The problem fixed by (topic, variant, difficulty, seed); variant None picks one from the seed."""
    topic = get(topic_name)
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, not {difficulty!r}")
    # The variant is drawn from a stream of its own, so a problem regenerates identically whether its
    # variant was named or drawn.
    chosen = variant or Rng("exgen-variant", topic.name, difficulty, seed).choice([v.name for v in topic.variants])
    rng = Rng("exgen", topic.name, chosen, difficulty, seed)
    spec = topic.variant(chosen)
    for _ in range(MAX_ATTEMPTS):
        try:
            givens = spec.complete(topic.sample(rng, chosen, difficulty))
        except Rejected:
            continue
        solution = topic.solve(chosen, givens)
        answers = {p.id: p.answer for p in solution.parts}
        if _distinguishable(topic, chosen, givens, answers) and not path_failures(topic, chosen, givens, solution):
            return Problem(topic.name, chosen, difficulty, seed, givens, solution)
    raise RuntimeError(f"no acceptable {topic.name}/{chosen} instance in {MAX_ATTEMPTS} attempts (seed {seed})")


def solve_givens(topic_name: str, variant: str, givens: dict) -> Problem:
    """A user's own instance (a TA's slide): no sampling, no seed."""
    topic = get(topic_name)
    givens = topic.variant(variant).complete(givens)
    return Problem(topic.name, variant, "custom", None, givens, topic.solve(variant, givens))


def distinct_problems(topics: list[str], variant: str | None, difficulty: str, n: int,
                      seed_for: Callable[[int | str], int]) -> list[Problem]:
    """`n` problems of each topic, distinct where possible: slot i is drawn from seed_for(i), and a slot whose
    givens repeat an earlier problem's is redrawn from seed_for("i.attempt") (deterministically). A topic
    that yields no new instance in MAX_REDRAWS draws has run out (easy instance spaces are small on
    purpose), and its later slots take what they draw: `count_repeats` tells the caller."""
    problems: list[Problem] = []
    seen: set[str] = set()
    exhausted: set[str] = set()
    for slot, topic in enumerate(t for t in topics for _ in range(n)):
        for attempt in range(1 if topic in exhausted else MAX_REDRAWS):
            problem = generate(topic, variant, difficulty, seed_for(slot if not attempt else f"{slot}.{attempt}"))
            fingerprint = _fingerprint(problem)
            if fingerprint not in seen:
                break
        else:
            exhausted.add(topic)
        seen.add(fingerprint)
        problems.append(problem)
    return problems


def _fingerprint(problem: Problem) -> str:
    return json.dumps([problem.topic, problem.variant, problem.givens], sort_keys=True)


def count_repeats(problems: list[Problem]) -> int:
    """How many problems repeat an earlier one's instance."""
    return len(problems) - len({_fingerprint(p) for p in problems})


def sheet(topics: list[str], variant: str | None, difficulty: str, seed: int, n: int) -> list[Problem]:
    """A practice sheet: problem seeds derived from the printed sheet seed."""
    return distinct_problems(topics, variant, difficulty, n, lambda index: problem_seed(seed, index))
