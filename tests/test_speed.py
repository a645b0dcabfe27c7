"""The speed-ups of issue 12 change no output: the key writer is json.dumps byte for byte, a batch of files
is written as atomically as one, and the overlap check still sees links. (No timings here: the figures are
benchmarks/bench_speed.py's.)"""

from __future__ import annotations

import dataclasses
import json
import os
from fractions import Fraction

import pytest

from exgen.exact import decimal
from exgen.files import OutputRefused, atomic_write_all, refuse_overlap
from exgen.generate import generate
from exgen.manifest import Key, dumps_indented
from exgen.problem import Answer, Part, Solution, Step
from exgen.render import Renderer
from exgen.rng import problem_seed
from exgen.topics import TOPIC_NAMES, get


def _reference(doc) -> str:
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False)


@pytest.mark.parametrize("topic", TOPIC_NAMES)
def test_the_key_writer_is_json_dumps_byte_for_byte(topic):
    problems = tuple(generate(topic, v.name, d, problem_seed(11, i))
                     for v in get(topic).variants for d in ("easy", "hard") for i in range(2))
    key = Key(problems, meta={"seed": 11, "sheet": "abc", "students": {"s1": [1, 2]}})
    doc = json.loads(key.to_json())
    assert key.to_json() == _reference(doc) + "\n"


@pytest.mark.parametrize("doc", [
    {"a": [1.5, float("nan"), float("inf"), -float("inf"), True, False, None, "é\n\"x\\", (1, 2), [], {}],
     "b": {"x": {}}, "": 10**30, "c": -0.0, "d": 1e300, "e": 5e-324},
    {1: "int keys go to json itself", 2: 3},
    [[["deep"]]], "just a string", 3, None,
])
def test_the_key_writer_agrees_on_edge_cases(doc):
    assert dumps_indented(doc) == _reference(doc)


def test_a_problem_dict_copies_its_containers():
    problem = generate("quantization", "affine", "easy", 1)
    d = problem.to_dict()
    d["parts"][2]["answer"]["value"][0][0] = "changed"
    assert problem.solution.parts[2].answer.value[0][0] != "changed"


def test_a_batch_is_written_whole(tmp_path):
    atomic_write_all([(tmp_path / "a.md", "A"), (tmp_path / "sub" / "b.md", "B")])
    assert (tmp_path / "a.md").read_text() == "A" and (tmp_path / "sub" / "b.md").read_text() == "B"


def test_a_failing_batch_leaves_every_previous_file_and_no_temporaries(tmp_path):
    (tmp_path / "a.md").write_text("old a")

    def files():
        yield tmp_path / "a.md", "new a"
        yield tmp_path / "b.md", "new b"
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write_all(files())
    assert sorted(os.listdir(tmp_path)) == ["a.md"] and (tmp_path / "a.md").read_text() == "old a"


def test_the_overlap_check_still_sees_links_and_repeats(tmp_path):
    source = tmp_path / "in.yaml"
    source.write_text("x")
    os.link(source, tmp_path / "hard.yaml")
    (tmp_path / "soft.yaml").symlink_to(source)
    for out in ("hard.yaml", "soft.yaml", "in.yaml"):
        with pytest.raises(OutputRefused, match="an input"):
            refuse_overlap([tmp_path / out], [source])
    with pytest.raises(OutputRefused, match="another output"):
        refuse_overlap([tmp_path / "new.md", tmp_path / "." / "new.md"], [source])
    refuse_overlap([None, tmp_path / "a.md", tmp_path / "b.md"], [source])


def test_make_with_out_imports_none_of_the_heavy_modules(tmp_path):
    """Start-up (issue 12): writing a sheet's files (key, answer sheet) needs no torch, sympy, pint or numpy."""
    import subprocess
    import sys

    code = ("import sys; from exgen.cli import cli; from click.testing import CliRunner; "
            f"r = CliRunner().invoke(cli, ['make', {', '.join(repr(a) for t in TOPIC_NAMES for a in ('--topic', t))}, "
            f"'--n', '2', '--seed', '1', '--out', {str(tmp_path / 'sheet')!r}]); assert r.exit_code == 0, r.output; "
            "print(sorted(m for m in ('torch', 'sympy', 'pint', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert (tmp_path / "sheet" / "key.json").exists()


def test_a_worked_solution_given_as_a_function_is_built_once_on_first_read():
    built = []

    def steps():
        built.append(1)
        return [Step("one"), Step("two", "x = 1")]

    solution = Solution((Part("x", "x", Answer("integer", 1)),), steps)
    assert built == [] and solution.shown == ()
    assert solution.steps == (Step("one"), Step("two", "x = 1")) and solution.steps == solution.steps
    assert built == [1]
    assert solution == Solution(solution.parts, (Step("one"), Step("two", "x = 1")))
    assert dataclasses.replace(solution, shown=[Step("s")]).steps == solution.steps


@pytest.mark.parametrize("topic", TOPIC_NAMES)
def test_generation_reads_no_worked_solution(topic, monkeypatch):
    """Mistakes and student paths judge a draw by its key: no topic's acceptance may depend on its steps,
    which a solver may leave unbuilt (so a rejected draw never pays for them)."""
    import exgen.problem

    def unreadable(self, obj, owner=None):
        if obj is not None:
            raise AssertionError("generation read a worked solution")
        return ()

    problems = []
    with monkeypatch.context() as m:
        m.setattr(exgen.problem._BuiltOnRead, "__get__", unreadable)
        m.setattr(exgen.problem._BuiltOnRead, "__set__", lambda self, obj, value: obj.__dict__.__setitem__(
            self.slot, value))
        for v in get(topic).variants:
            problems += [generate(topic, v.name, d, problem_seed(5, i)) for d in ("easy", "hard") for i in range(3)]
    assert problems and all(p.solution.steps for p in problems)


def test_a_worksheet_and_its_solutions_render_each_question_once(monkeypatch):
    problems = [generate("lora", None, "easy", problem_seed(3, i)) for i in range(4)]
    renderer = Renderer("md")
    questions = [renderer.question(p) for p in problems]
    worksheet = renderer.document(problems, title="t", solutions=False)
    rendered = []
    question = renderer.question
    monkeypatch.setattr(renderer, "question", lambda p: rendered.append(p) or question(p))
    solutions = renderer.document(problems, title="t", solutions=True)
    assert rendered == []
    assert all(q in worksheet and q in solutions for q in questions)
    another = generate("lora", None, "easy", 99)
    renderer.document(problems[:2] + [another], title="t", solutions=False)
    assert rendered == [another]


def test_the_built_in_templates_are_compiled_once_per_process(tmp_path):
    """An LMS bank renders each question through its own renderer: they share one compiled environment per
    format (it compiled every template per question: 17 s for a 20-per-variant Canvas bank, now 0.5 s). A TA's
    template folder keeps an environment of its own, which reloads an edited template."""
    from exgen.export.common import MarkedRenderer

    assert Renderer("md").env is Renderer("md").env and Renderer("tex").env is not Renderer("md").env
    assert MarkedRenderer().env is MarkedRenderer().env
    assert Renderer("md", tmp_path).env is not Renderer("md", tmp_path).env
    assert Renderer("md", tmp_path).env.auto_reload and not Renderer("md").env.auto_reload


@pytest.mark.parametrize("value", [0, 1, 7, 2**60, 0.1, 2.5, 1e-3, 123456789.0, 4.5e15, float(2**52 + 2), 1e22, 6.7e9,
                                   1.2345678901234567e10, 99.999, -0.0, "0.25", Fraction(1, 3)])
def test_a_given_is_the_exact_decimal_it_is_written_as(value):
    """exact.decimal is Fraction(str(x)), remembered: the same value again (from memory), and the same refusal."""
    assert decimal(value) == Fraction(str(value)) and decimal(value) == Fraction(str(value))
    with pytest.raises(ValueError):
        decimal("not a number")
    with pytest.raises(ValueError):
        decimal([1])  # unhashable: not remembered, refused as Fraction refuses it


def _make_in(cache_home, tmp_path, name):
    import subprocess
    import sys

    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    out = tmp_path / name
    subprocess.run([sys.executable, "-m", "exgen", "make", "--topic", "compute", "--n", "3", "--seed", "4", "--out",
                    str(out)], check=True, capture_output=True, env=env, cwd=tmp_path)
    return {f: (out / f).read_bytes() for f in sorted(os.listdir(out))}


def test_compiled_templates_are_kept_per_user_and_a_bad_cache_only_costs_a_compile(tmp_path):
    """Start-up (issue 12): the built-in templates are compiled once and kept in the user's cache folder. A
    damaged entry or a cache folder that cannot be made changes nothing but the time."""
    cache = tmp_path / "cache"
    first = _make_in(cache, tmp_path, "a")
    entries = list((cache / "exgen" / "templates").iterdir())
    assert len(entries) >= 3  # question, solution and document templates
    assert _make_in(cache, tmp_path, "b") == first  # from the cache
    for entry in entries:
        entry.write_bytes(b"not a compiled template")
    assert _make_in(cache, tmp_path, "c") == first
    blocked = tmp_path / "a-file"
    blocked.write_text("the cache folder cannot be made under a file")
    assert _make_in(blocked, tmp_path, "d") == first


@pytest.mark.parametrize("topic", TOPIC_NAMES)
def test_a_problem_with_its_worked_solution_unbuilt_pickles_and_copies_whole(topic):
    """`exgen stress --jobs` sends problems between processes: an unbuilt worked solution travels built."""
    import copy
    import pickle

    for v in get(topic).variants:
        problem = generate(topic, v.name, "hard", problem_seed(8, 0))
        fresh = generate(topic, v.name, "hard", problem_seed(8, 0))
        assert pickle.loads(pickle.dumps(problem)).to_dict() == fresh.to_dict()
        assert copy.deepcopy(fresh).to_dict() == problem.to_dict()
