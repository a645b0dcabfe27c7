"""A tiny synthetic topic for tests of the machinery (generate, roster exams, stress) that must not depend on
how large a real variant's instance space happens to be."""

from __future__ import annotations

from exgen.problem import Answer, Part, Solution
from exgen.topics.base import Given, StudentPath, Topic, Variant


def counting_topic(size: int, paths: tuple[StudentPath, ...] = (), name: str = "counting") -> Topic:
    """Variant "third": givens x in 1..size, one part: x/3 to 3 significant figures."""

    def sample(rng, variant, difficulty):
        return {"x": rng.randint(1, size)}

    def solve(variant, givens):
        return Solution(parts=(Part("third", "a third of x", Answer("number", givens["x"] / 3, sig=3)),))

    variant = Variant("third", "a third of a whole number", (Given("x", "the number", "integer", low=1, high=size),))
    return Topic(name, "a topic for tests", (variant,), sample, solve, paths=paths)


def use_topic(monkeypatch, topic: Topic) -> None:
    """Make the registry answer `topic` for its own name (the real topics stay as they are)."""
    import exgen.generate
    import exgen.stress
    import exgen.topics

    real = exgen.topics.get

    def get(name):
        return topic if name == topic.name else real(name)

    for module in (exgen.generate, exgen.stress, exgen.topics):
        monkeypatch.setattr(module, "get", get)
