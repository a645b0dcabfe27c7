"""Topics keep caches of what they compute from the givens (quantization's exact cores, formats' decoded bit
pattern, inference's and lora's per-argument figures). The practice server generates in threads: an instance
generated while other threads generate others must come out as it does alone, and a givens dict changed after
one solve must be solved anew."""

from __future__ import annotations

import sys
import threading
from typing import Callable

import pytest

from exgen.generate import generate
from exgen.manifest import dumps_indented
from exgen.render import Renderer
from exgen.topics import TOPIC_NAMES, get

TOPICS = TOPIC_NAMES


def in_four_threads(work: Callable[[int], None]) -> None:
    """work(0) .. work(3) in four threads at once, switching between them as often as the interpreter allows."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)


SHARED = Renderer("html")  # one renderer for every thread, as the practice server has


def _record(topic: str, variant: str, difficulty: str, seed: int) -> str:
    """The problem's key record, and its question and worked solution as the practice page shows them."""
    problem = generate(topic, variant, difficulty, seed)
    return "\n".join((dumps_indented(problem.to_dict()), SHARED.question(problem), SHARED.solution(problem)))


@pytest.mark.parametrize("topic", TOPICS)
def test_threads_generate_what_one_thread_does(topic: str) -> None:
    jobs = [(topic, v.name, d, seed) for v in get(topic).variants for d in ("easy", "hard") for seed in range(2)]
    alone = [_record(*job) for job in jobs]
    together: list[str | None] = [None] * len(jobs)

    def work(offset: int) -> None:
        for i in range(offset, len(jobs), 4):
            together[i] = _record(*jobs[i])

    in_four_threads(work)
    assert together == alone


@pytest.mark.parametrize("topic", TOPICS)
def test_a_changed_givens_dict_is_solved_anew(topic: str) -> None:
    """The memo is keyed by the givens' values: solving, changing one given in the same dict, and solving again
    gives the new instance's key, not the kept one."""
    topic_ = get(topic)
    for variant in topic_.variants:
        first = generate(topic, variant.name, "medium", 1)
        second = generate(topic, variant.name, "medium", 2)
        if first.givens == second.givens:
            continue
        g = dict(first.givens)
        topic_.solve(variant.name, g)
        g.clear()
        g.update(second.givens)
        again = topic_.solve(variant.name, g)
        assert [p.answer for p in again.parts] == [p.answer for p in second.solution.parts], variant.name
        for mistake in topic_.mistakes_for(variant.name):
            assert mistake.wrong(variant.name, g, again) == \
                mistake.wrong(variant.name, dict(second.givens), second.solution), \
                (variant.name, mistake.name)


@pytest.mark.parametrize("topic", TOPICS)
def test_threads_asking_mistakes_and_paths_of_different_instances_get_each_its_own(topic: str) -> None:
    """Mistakes and student paths of several instances asked at once, from four threads: each answer is the one
    asked alone (autodiff's carried-figures path once paired a solution with another instance's values)."""
    t = get(topic)
    problems = [generate(topic, v.name, "easy", seed) for v in t.variants for seed in (1, 2)]
    asks = [(rule.wrong if hasattr(rule, "wrong") else rule.value, p) for p in problems
            for rule in (*t.mistakes_for(p.variant), *t.paths_for(p.variant))]
    alone = [ask(p.variant, p.givens, p.solution) for ask, p in asks]
    failures: list[str] = []

    def work(offset: int) -> None:
        for _ in range(20):
            for i in range(offset % 2, len(asks)):
                ask, p = asks[i]
                try:
                    if ask(p.variant, p.givens, p.solution) != alone[i]:
                        failures.append(f"{p.variant}: another value")
                except Exception as e:  # noqa: BLE001 -- any failure is the finding
                    failures.append(f"{p.variant}: {e!r}")

    in_four_threads(work)
    assert not failures, failures[:3]
