"""From a validated spec to papers: each version (A, B, ...) or student gets its problems, points per part
and the multiple-choice options of the parts asked as a choice; one combined key grades them all.

Fairness between papers: slot i of a section asks the same variant on every paper (the spec's variants in
turn, or one drawn from the exam seed), and the same form of it: its categorical givens (the operation, the
dtype, the error metric, signed or unsigned, ...) are the commonest among FORM_SAMPLE draws from the exam seed,
and every paper redraws until it has them. So papers differ in their numbers, not in what they ask or what they
are worth (and no paper's rare draw makes every paper ask an unusual form).  A paper's instances are distinct within
it, and differ from other papers' where the topic's instance space allows (a few redraws, then a repeat is
accepted and counted); a form not found in FORM_REDRAWS draws is counted too.
"""

from __future__ import annotations

import dataclasses
import string
from dataclasses import dataclass
from typing import Any

from exgen.exam.spec import ExamSpec, Section, SpecError
from exgen.generate import generate
from exgen.grading.compare import matches
from exgen.problem import Answer, Problem
from exgen.rng import Rng, problem_seed, student_seed
from exgen.topics import get

MAX_REDRAWS = 50      # within one paper (as generate.distinct_problems)
CROSS_REDRAWS = 8     # to avoid repeating another paper's instance
FORM_SAMPLE = 24      # draws that choose a slot's form (the commonest of them)
FORM_REDRAWS = 400    # to find a slot's form on a paper
LETTERS = string.ascii_uppercase


@dataclass(frozen=True)
class Choice:
    """A part asked as multiple choice: option values in letter order (A, B, ...), the correct letter, and
    where each option came from ("key", a named mistake, "perturbed", or "option" for the other options of a
    part that is a choice already)."""

    values: tuple[Any, ...]
    correct: str
    origins: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"options": list(self.values), "correct": self.correct, "from": list(self.origins)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Choice:
        return cls(tuple(d["options"]), d["correct"], tuple(d.get("from", ())))


@dataclass(frozen=True)
class ExamProblem:
    problem: Problem
    points: dict[str, float]        # part id -> points
    choices: dict[str, Choice]      # part id -> options, for the parts asked as a choice
    section: int                    # index into spec.sections
    question: int = 0               # its number in the spec's order (1-based); a shuffled paper prints it elsewhere


@dataclass(frozen=True)
class Paper:
    label: str                      # a version letter, or a student id
    problems: tuple[ExamProblem, ...]

    @property
    def total(self) -> float:
        return sum(sum(p.points.values()) for p in self.problems)


def version_labels(k: int) -> list[str]:
    """A, B, ..., Z, AA, AB, ... (an exam rarely has more than a handful)."""
    return [LETTERS[i] if i < 26 else LETTERS[i // 26 - 1] + LETTERS[i % 26] for i in range(k)]


def split_points(total: float, n: int, where: str = "a problem") -> list[float]:
    """`total` points over `n` parts in half points, as evenly as possible, earlier parts taking the extra
    halves (the exam class counts whole and half points only)."""
    halves = round(2 * total)
    if halves < n:
        raise SpecError(f"{where}: {total:g} points cannot give each of its {n} parts at least half a point "
                        f"(give at least {n / 2:g}, or points_per_part)")
    return [(halves // n + (i < halves % n)) / 2 for i in range(n)]


def _variant_for(spec: ExamSpec, index: int, section: Section, slot: int) -> str:
    if section.variants:
        return section.variants[slot % len(section.variants)]
    names = [v.name for v in get(section.topic).variants]
    return Rng("exgen-exam-variant", spec.seed, index, slot).choice(names)


def form(problem: Problem) -> tuple:
    """What a problem asks beyond its numbers: its variant and its categorical givens (a choice of operation,
    dtype, error metric, a bit width from a short list...)."""
    spec = get(problem.topic).variant(problem.variant)
    return (problem.variant, *((g.name, str(problem.givens.get(g.name))) for g in spec.givens
                               if g.kind == "choice" or g.choices))


def _slot_form(spec: ExamSpec, index: int, section: Section, slot: int, variant: str) -> tuple:
    """The form slot `slot` of section `index` asks on every paper: the commonest form among FORM_SAMPLE draws
    from the exam seed (the first drawn of the commonest, on a tie)."""
    counts: dict[tuple, int] = {}
    for i in range(FORM_SAMPLE):
        seed = problem_seed(spec.seed, f"form\x1f{index}\x1f{slot}\x1f{i}")
        drawn = form(generate(section.topic, variant, section.difficulty, seed))
        counts[drawn] = counts.get(drawn, 0) + 1
    return max(counts, key=counts.__getitem__)  # max keeps the first of equal counts: dicts keep insertion order


def build_papers(spec: ExamSpec, labels: list[str],
                 secret: bytes | None = None) -> tuple[list[Paper], int, int]:
    """One paper per label (version letters from the spec seed; student ids from an HMAC of the secret).
    Returns the papers, how many problems repeat another paper's instance, and how many could not take their
    slot's form."""
    seen_anywhere: set[str] = set()
    forms: dict[tuple[int, int], tuple] = {}
    repeats = unmatched = 0
    papers = []
    for label in labels:
        def seed_for(index: str, label: str = label) -> int:
            if secret is None:
                return problem_seed(spec.seed, f"exam\x1f{label}\x1f{index}")
            return student_seed(secret, label, f"exam\x1f{index}")

        mine: set[str] = set()
        problems: list[ExamProblem] = []
        for s, section in enumerate(spec.sections):
            for slot in range(section.count):
                variant = _variant_for(spec, s, section, slot)
                if (s, slot) not in forms:
                    forms[(s, slot)] = _slot_form(spec, s, section, slot, variant)
                wanted, chosen, other_form, tries = forms[(s, slot)], None, None, 0
                for attempt in range(FORM_REDRAWS):
                    problem = generate(section.topic, variant, section.difficulty,
                                       seed_for(f"{s}.{slot}" + (f".{attempt}" if attempt else "")))
                    if form(problem) != wanted:
                        other_form = other_form or problem
                        continue
                    chosen, fp = problem, problem.instance
                    if fp not in mine and (fp not in seen_anywhere or tries >= CROSS_REDRAWS):
                        break
                    tries += 1
                    if tries >= MAX_REDRAWS:
                        break
                if chosen is None:  # the form is rare in this variant's space: the paper asks another one
                    chosen, unmatched = other_form, unmatched + 1
                problem, fp = chosen, chosen.instance
                repeats += fp in seen_anywhere
                mine.add(fp)
                seen_anywhere.add(fp)
                problems.append(dataclasses.replace(_exam_problem(spec, s, section, problem, label),
                                                    question=len(problems) + 1))
        if spec.shuffle:
            problems = Rng("exgen-exam-order", spec.seed, label).shuffle(problems)
        papers.append(Paper(label, tuple(problems)))
    _check_choice_parts(spec, papers)
    return papers, repeats, unmatched


def _exam_problem(spec: ExamSpec, s: int, section: Section, problem: Problem, label: str) -> ExamProblem:
    parts = problem.solution.parts
    where = f"{spec.source}, line {section.line}: section {section.topic} ({problem.variant})"
    if section.points is not None:
        points = dict(zip((p.id for p in parts), split_points(section.points, len(parts), where)))
    else:
        points = {p.id: float(section.points_per_part) for p in parts}
    choices = {}
    for part in parts:
        if section.asks_choice(part.id):
            rng = Rng("exgen-exam-choice", label, problem.topic, problem.variant, problem.seed, part.id)
            choices[part.id] = multiple_choice(problem, part.id, spec.choices, rng)
    return ExamProblem(problem, points, choices, s)


def _check_choice_parts(spec: ExamSpec, papers: list[Paper]) -> None:
    """A part named in choice_parts must be a part of some problem of its section."""
    for s, section in enumerate(spec.sections):
        ids = {p.id for paper in papers for ep in paper.problems if ep.section == s
               for p in ep.problem.solution.parts}
        unknown = [name for name in section.choice_parts if name not in ids]
        if unknown:
            raise SpecError(f"{spec.source}, line {section.line}: choice_parts names {unknown[0]!r}, which is not a "
                            f"part of this section's problems (parts: {', '.join(sorted(ids))})")


# ---- multiple choice -------------------------------------------------------------------------------


def option_text(answer: Answer, value: Any) -> str:
    """An option as the page shows it (LaTeX math at the precision the question asks for)."""
    from exgen.render import answer_math

    return answer_math(dataclasses.replace(answer, value=value))


def _perturbations(answer: Answer, rng: Rng) -> list[Any]:
    """Wrong values near the key, in a deterministic order: a scaled or shifted number (of the key's sign, so
    no option gives itself away as a negative count), one changed entry of a matrix or vector, a scaled
    expression."""
    value = answer.value
    if answer.kind == "expression":
        return [f"2*({value})", f"({value})/2", f"3*({value})", f"({value})/3"]

    def moved(x: Any) -> list[Any]:
        if isinstance(x, int) and not isinstance(x, bool) and abs(x) < 20:
            candidates = [x + 1, x - 1, x + 2, x - 2, 2 * x, x + 3, x - 3]
        else:
            factors = [1.1, 0.9, 1.25, 0.8, 1.5, 2 / 3, 2.0, 0.5, 10.0, 0.1, 3.0, 1 / 3]
            candidates = [round(x * f) if isinstance(x, int) else x * f for f in factors]
            candidates += [x + 1, x - 1] if abs(x) < 1 else []
            candidates += [0.5, -0.5, 2, -2, 0.25, -0.25] if x == 0 else []
        same_sign = [c for c in candidates if (c > 0) == (x > 0) and (c < 0) == (x < 0) or x == 0]
        return rng.shuffle(same_sign)

    if answer.kind in ("number", "integer"):
        return moved(value)
    flat = [e for row in value for e in row] if answer.kind == "matrix" else list(value)
    out = []
    for _ in range(12):
        i = rng.randint(0, len(flat) - 1)
        for new in moved(flat[i])[:2]:
            changed = flat[:i] + [new] + flat[i + 1:]
            if answer.kind == "matrix":
                width = len(value[0])
                changed = [changed[r * width:(r + 1) * width] for r in range(len(value))]
            out.append(changed)
    return out


MARGIN_UNITS = 3


def clearly_wrong(answer: Answer, value: Any) -> bool:
    """Whether a distractor is more than three units in the last asked place from the key (in some entry).
    A student whose answer is within the tolerance (one unit) and who rounds it to the asked place (half a unit
    more) is then strictly closer to the key than to this option, so the choice is never a coin toss."""
    if answer.kind in ("choice", "expression"):
        return not matches(answer, value)
    if answer.kind in ("number", "integer"):
        keys, values = [answer.value], [value]
    else:
        keys = [e for row in answer.value for e in row] if answer.kind == "matrix" else list(answer.value)
        values = [e for row in value for e in row] if answer.kind == "matrix" else list(value)
        if len(values) != len(keys):
            return True
    return any(abs(float(v) - float(k)) > MARGIN_UNITS * answer.allowance(k) * (1 + 1e-9)
               for k, v in zip(keys, values))


def multiple_choice(problem: Problem, part_id: str, n: int, rng: Rng) -> Choice:
    """Options for one part: the key, the topic's named mistakes for it first, then perturbations, each
    `clearly_wrong` and distinct as printed (after rounding to the asked precision); deterministic shuffle.
    A part that is already a choice (memory- or compute-bound) keeps its own options in their order."""
    answer = problem.solution.part(part_id).answer
    if answer.kind == "choice":
        values = tuple(answer.choices)
        return Choice(values, LETTERS[values.index(answer.value)], tuple("key" if v == answer.value else "option"
                                                                         for v in values))
    options: list[tuple[Any, str]] = [(answer.value, "key")]
    shown = {option_text(answer, answer.value)}

    def offer(value: Any, origin: str) -> None:
        if len(options) >= n or value is None:
            return
        try:
            text = option_text(answer, value)
            if not clearly_wrong(answer, value) or text in shown:
                return
            dataclasses.replace(answer, value=value)  # a value the key's precision can state (no 0 to sig figs)
        except (ValueError, TypeError, ArithmeticError):
            return
        shown.add(text)
        options.append((value, origin))

    topic = get(problem.topic)
    for mistake in topic.mistakes_for(problem.variant):
        if mistake.part == part_id:
            offer(mistake.wrong(problem.variant, problem.givens, problem.solution), mistake.name)
    for value in _perturbations(answer, rng):
        offer(value, "perturbed")
    if len(options) < 2:
        raise SpecError(f"part {part_id!r} of {problem.topic}/{problem.variant} has no distractor to offer "
                        "as a choice; ask it as an entry")
    order = rng.shuffle(options)
    letter = LETTERS[[origin for _, origin in order].index("key")]
    return Choice(tuple(v for v, _ in order), letter, tuple(o for _, o in order))


# ---- the key ---------------------------------------------------------------------------------------


def key_meta(spec: ExamSpec, papers: list[Paper], by: str) -> tuple[list[Problem], dict[str, Any]]:
    """The combined key's problems (papers in order) and meta: which key problems each version or student
    answers (`by`: "versions" or "students"), the points and the choices per key problem number, and, where
    papers are shuffled, each key problem's question number in the spec's order ("questions"), by which the
    gradebook lines up every paper's answers to the same question."""
    problems: list[Problem] = []
    numbers: dict[str, list[int]] = {}
    points: dict[str, dict[str, float]] = {}
    choices: dict[str, dict[str, Any]] = {}
    questions: dict[str, int] = {}
    for paper in papers:
        numbers[paper.label] = []
        for ep in paper.problems:
            problems.append(ep.problem)
            number = str(len(problems))
            numbers[paper.label].append(len(problems))
            points[number] = dict(ep.points)
            questions[number] = ep.question
            if ep.choices:
                choices[number] = {pid: c.to_dict() for pid, c in ep.choices.items()}
    meta = {by: numbers, "points": points, "choices": choices, "exam": spec.to_dict()}
    if any(ep.question != i for paper in papers for i, ep in enumerate(paper.problems, 1)):
        meta["questions"] = questions  # only where an order differs: an unshuffled exam's key is as before
    return problems, meta
