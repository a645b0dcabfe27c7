"""Worked solutions show their working (issue 11, item 1): every answer value appears in the solution's steps
as the result of a formula with numbers substituted — not only in the final "Answers" list.

The criterion, precisely.  A *formula* is one line (rows split at `\\\\`; a matrix stays whole) of a step's
display math or of an inline `$…$` span of its text, split at relation signs (`=`, `\\approx`, `\\le`, `\\ge`,
`<`, `>`, `\\to`) into segments.  A key is *shown with its working* when some formula has a segment, right of at
least one relation, that

- for a number or integer key: begins with a number (after `(`, `-`, spaces; written `a \\times 10^{k}` or
  with `\\,` digit groups too) equal to the key within the key's own allowance (one unit in the asked place;
  exact keys: to the 6 significant figures the steps carry);
- for a vector or matrix key: holds every entry, in order, as its numbers (the matrix itself is the result),
  or else every entry is shown with its working as a number key would be (a Lloyd step's centroids);

and some *earlier* segment of the same formula holds a substituted number: a numeral that is not a subscript
or exponent of a symbol (`N_1`, `x^2`) and not a coefficient written against a symbol (`2\\Psi`, `3x`).  So
`2\\Psi + 2\\Psi + K\\Psi/N_d = 56.875\\ \\text{GB}` fails and `2 \\cdot 7 + 2 \\cdot 7 + 12 \\cdot 7/8 = 38.5` passes.

A choice key must be named in the steps (prose or math): its working is the comparison the steps state, which
no pattern tells from a bare claim.  Expression keys (symbolic answers) are exempt: their working is the
derivation, not a number; so are the counts named in `COUNTS` (autodiff's number of passes is the number of
inputs or outputs, read off the function).
"""

from __future__ import annotations

import math
import re

import pytest

from conftest import variant_difficulty_cases
from exgen.generate import generate
from exgen.problem import Answer, Problem

SEEDS = range(3)

_RELATION = re.compile(r"=|\\approx\b|\\le(?:q)?\b|\\ge(?:q)?\b|(?<!\\)[<>]|\\to\b|\\mapsto\b")
_INLINE = re.compile(r"\$([^$]+)\$")
_NUMBER = re.compile(
    r"(?<![A-Za-z_^\d.])(-?\d+(?:\.\d+)?)(?:\s*\\times\s*10\^\{(-?\d+)\})?")
_GREEK = ("alpha|beta|gamma|delta|epsilon|varepsilon|eta|theta|lambda|mu|nu|pi|rho|sigma|tau|phi|psi|omega|"
          "Gamma|Delta|Theta|Lambda|Pi|Sigma|Phi|Psi|Omega|mathit|mathrm|mathbf|operatorname")
_COEFFICIENT = re.compile(rf"\s*(?:[A-Za-z]|\\(?:{_GREEK})\b)")
_SUBSCRIPT = re.compile(r"[_^]\{[^{}]*\}|[_^]\w")


def _normalise(tex: str) -> str:
    """Digit groups `67\\,108\\,864` / `67{,}108{,}864` as one numeral."""
    tex = re.sub(r"(?<=\d)(?:\\,|\{,\}|\\;|~)(?=\d{3})", "", tex)
    return tex.replace("\\!", "")


_MATRIX = re.compile(r"\\begin\{[bp]matrix\}.*?\\end\{[bp]matrix\}", re.S)
_LINE_BREAK = re.compile(r"\\\\")


def _lines(tex: str) -> list[str]:
    """One formula per line of an alignment (a matrix's rows stay whole)."""
    matrices: list[str] = []
    held = _MATRIX.sub(lambda m: matrices.append(m.group()) or f"\x00{len(matrices) - 1}\x00", tex)
    return [re.sub(r"\x00(\d+)\x00", lambda m: matrices[int(m.group(1))], line) for line in _LINE_BREAK.split(held)]


def formulas(problem: Problem) -> list[str]:
    out = []
    for step in problem.solution.steps:
        for tex in ([step.math] if step.math else []) + _INLINE.findall(step.text):
            out += _lines(_normalise(tex))
    return out


def _numbers(segment: str) -> list[float]:
    values = []
    for m in _NUMBER.finditer(segment):
        mantissa, exponent = m.groups()
        values.append(float(mantissa) * (10 ** int(exponent) if exponent else 1))
    return values


def _substituted(segment: str) -> bool:
    """Whether a segment holds a substituted number (not a subscript, exponent or coefficient of a symbol)."""
    bare = _SUBSCRIPT.sub(" ", segment)
    bare = re.sub(r"\\text\{[^{}]*\}|\\mathrm\{[^{}]*\}|\\operatorname\{[^{}]*\}", " ", bare)
    for m in _NUMBER.finditer(bare):
        if not _COEFFICIENT.match(bare, m.end()):
            return True
    return False


def _close(answer: Answer, key: float, shown: float) -> bool:
    allowance = answer.allowance(key) if (answer.sig or answer.decimals is not None) else 0.0
    slack = max(allowance, abs(key) * 5e-6)  # the 6 significant figures the steps carry
    return math.isfinite(shown) and abs(shown - float(key)) <= slack * (1 + 1e-9)


def _flat(value) -> list[float]:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flat(v)]
    return [float(value)]


def _result_matches(answer: Answer, segment: str) -> bool:
    numbers = _numbers(segment)
    if answer.kind in ("number", "integer"):
        lead = re.match(r"[\s(\-{]*(?:\\left\(|\\bigl\()?\s*", segment)
        first = _NUMBER.match(segment, lead.end() if lead else 0)
        return bool(first) and bool(numbers) and _close(answer, answer.value, numbers[0])
    keys = _flat(answer.value)
    return len(numbers) >= len(keys) and any(
        all(_close(answer, k, s) for k, s in zip(keys, numbers[i:i + len(keys)]))
        for i in range(len(numbers) - len(keys) + 1))


def _entry_answer(answer: Answer, entry) -> Answer:
    if answer.sig is not None and float(entry) == 0:
        return Answer("number", 0.0, decimals=6)
    return Answer("integer" if isinstance(entry, int) else "number", entry, sig=answer.sig, decimals=answer.decimals)


def shown_with_working(answer: Answer, problem: Problem) -> bool:
    if answer.kind in ("vector", "matrix") and _shown(answer, problem):
        return True
    if answer.kind in ("vector", "matrix"):
        return all(_shown(_entry_answer(answer, e), problem) for e in _flat_raw(answer.value))
    return _shown(answer, problem)


def _flat_raw(value) -> list:
    return [x for v in value for x in _flat_raw(v)] if isinstance(value, (list, tuple)) else [value]


def _shown(answer: Answer, problem: Problem) -> bool:
    if answer.kind == "choice":
        return any(str(answer.value) in step.text or str(answer.value) in step.math
                   for step in problem.solution.steps)
    for formula in formulas(problem):
        segments = _RELATION.split(formula)
        for i in range(1, len(segments)):
            if _result_matches(answer, segments[i]) and any(_substituted(s) for s in segments[:i]):
                return True
    return False


CASES = variant_difficulty_cases()
# Counts read off the problem's statement, with nothing to substitute: exempt by name, so nothing else is.
COUNTS = {("autodiff", "jacobian"): {"passes_forward", "passes_reverse"}}


@pytest.mark.parametrize("topic,variant,difficulty", CASES)
def test_every_answer_follows_a_substituted_formula(topic, variant, difficulty):
    """Each part of three instances shows its value after a substituted formula (the module's criterion)."""
    missing = set()
    for seed in SEEDS:
        problem = generate(topic, variant, difficulty, seed)
        for part in problem.solution.parts:
            if part.answer.kind == "expression" or part.id in COUNTS.get((topic, variant), ()):
                continue
            if not shown_with_working(part.answer, problem):
                missing.add(part.id)
    assert not missing, f"parts whose value no substituted formula shows: {sorted(missing)}"


def test_the_criterion_tells_working_from_a_bare_result():
    from exgen.problem import Part, Solution, Step
    key = Answer("number", 38.5, "GB", sig=3)

    def problem(*steps):
        return Problem("t", "v", "easy", 0, {}, Solution((Part("a", "a", key),), tuple(steps)))

    assert not shown_with_working(key, problem(Step("Total:", r"2\Psi + 2\Psi + K\Psi/N_d = 38.5\ \text{GB}")))
    assert not shown_with_working(key, problem(Step("The answer is $38.5$ GB.")))
    assert shown_with_working(key, problem(Step("", r"M = 2 \cdot 7 + 2 \cdot 7 + 12 \cdot 7/8 = 38.5\ \text{GB}")))
    assert shown_with_working(key, problem(Step(r"So $M = 77/2 = 38.50$ GB.")))
    assert not shown_with_working(key, problem(Step("", r"M_{1} = 38.6")))
