"""The `exgen` command line: thin click commands over the library.

Nothing heavy is imported at start-up: topics are imported when used, torch only by `exgen verify`.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sys
from pathlib import Path
from typing import Iterator

import click

from exgen import __version__
from exgen.topics import TOPIC_NAMES
from exgen.topics.base import DIFFICULTIES


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the library's user-facing errors into one clear line (and exit status 2) instead of a traceback."""
    from exgen.manifest import KeyFileError
    from exgen.topics.base import InvalidGivens

    try:
        yield
    except (InvalidGivens, KeyFileError, KeyError, ValueError) as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        raise click.UsageError(str(message)) from None


def _templates_option(f):
    return click.option("--templates", "templates", type=click.Path(exists=True, file_okay=False, path_type=Path),
                        help="A folder with your own templates/ and solutions/ (searched before the built-in ones).")(f)


def _format_option(f):
    return click.option("--format", "fmt", type=click.Choice(["md", "tex"]), default="md", show_default=True,
                        help="Markdown, or a LaTeX document (exam class) that pdflatex compiles.")(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="exgen")
def cli() -> None:
    """Exam-practice exercises with checked answer keys for the systems side of LLMs.

    \b
    Example:
      exgen make --topic quantization --n 10
    """


@cli.command()
@click.argument("topic", required=False, type=click.Choice(TOPIC_NAMES))
def topics(topic: str | None) -> None:
    """List topics, their variants, and each variant's givens.

    \b
    Example:
      exgen topics quantization
    """
    from exgen.topics import get

    for name in [topic] if topic else TOPIC_NAMES:
        t = get(name)
        click.echo(f"{t.name}: {t.description}")
        for v in t.variants:
            click.echo(f"  --variant {v.name}: {v.description}")
            for g in v.givens:
                detail = ", ".join(filter(None, [g.kind, g.unit and f"unit {g.unit}",
                                                 g.choices and "one of " + "|".join(g.choices),
                                                 g.default is not None and f"default {g.default}"]))
                click.echo(f"      {g.name} ({detail}): {g.meaning}")
        click.echo()


def _regenerate_command(topics_: tuple[str, ...], variant: str | None, n: int, seed: int, difficulty: str) -> str:
    words = ["exgen make"] + [f"--topic {t}" for t in topics_]
    words += [f"--variant {variant}"] if variant else []
    words += [f"--n {n}", f"--difficulty {difficulty}", f"--seed {seed}"]
    return " ".join(words)


@cli.command()
@click.option("--topic", "topics_", multiple=True, required=True, type=click.Choice(TOPIC_NAMES),
              help="Topic to draw from; repeat for a mixed sheet (N problems of each).")
@click.option("--variant", help="One variant of the topic (default: drawn per problem; see `exgen topics`).")
@click.option("--n", "n", type=click.IntRange(1, 10000), default=10, show_default=True, help="Problems per topic.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), help="Sheet seed; the same seed gives the same bytes. "
              "Default: a fresh one, printed so the sheet can be regenerated.")
@click.option("--difficulty", type=click.Choice(DIFFICULTIES), default="easy", show_default=True)
@_format_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Write worksheet, solutions and key.json into this folder instead of printing the worksheet.")
@click.option("--solutions", is_flag=True, help="Print the worked solutions under each question.")
@_templates_option
def make(topics_, variant, n, seed, difficulty, fmt, out, solutions, templates) -> None:
    """Make a worksheet, its worked solutions and its answer key.

    \b
    Examples:
      exgen make --topic quantization --n 10
      exgen make --topic quantization --variant affine --n 5 --seed 7 --format tex --out sheet/
    """
    from exgen.generate import sheet
    from exgen.manifest import Key
    from exgen.render import Renderer
    from exgen.topics import get

    if seed is None:
        seed = secrets.randbelow(10**6)
    with user_errors():
        if variant:
            for t in topics_:
                get(t).variant(variant)
        problems = sheet(list(topics_), variant, difficulty, seed, n)
        renderer = Renderer(fmt, templates)
    command = _regenerate_command(topics_, variant, n, seed, difficulty)
    title = "Worksheet: " + ", ".join(topics_)
    click.echo(f"seed {seed} (regenerate with: {command})", err=True)
    if out is None:
        click.echo(renderer.document(problems, title=title, solutions=solutions, regenerate=command), nl=False)
        return
    from exgen.files import atomic_write

    worksheet, answers = out / f"worksheet.{fmt}", out / f"solutions.{fmt}"
    atomic_write(worksheet, renderer.document(problems, title=title, solutions=False, regenerate=command))
    atomic_write(answers, renderer.document(problems, title=title + " (solutions)", solutions=True,
                                            regenerate=command))
    Key(tuple(problems), meta={"seed": seed, "command": command}).write(out / "key.json")
    click.echo(f"wrote {worksheet}, {answers}, {out / 'key.json'}", err=True)


@cli.command()
@click.argument("topic", type=click.Choice(TOPIC_NAMES))
@click.option("--variant", required=True, help="The variant (see `exgen topics TOPIC`).")
@click.option("--given", "pairs", multiple=True, metavar="NAME=VALUE",
              help="One given; matrices as '1.5,-0.2;0.3,2' (rows by ';').")
@click.option("--givens", "givens_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A JSON or YAML file of givens.")
@click.option("--json", "as_json", is_flag=True, help="Print the problem, answers and steps as JSON.")
@_format_option
@_templates_option
def solve(topic, variant, pairs, givens_file, as_json, fmt, templates) -> None:
    """Solve your own instance: the worked solution and the answers.

    \b
    Example (seed 003's 4x4 matrix, 2-bit signed):
      exgen solve quantization --variant affine --given bits=2 --given signed=signed \\
        --given metric=frobenius \\
        --given X='2.09,-0.98,1.48,0.09; 0.05,-0.14,-1.08,2.12; -0.91,1.92,0,-1.03; 1.87,0,1.53,1.49'
    """
    from exgen.generate import solve_givens
    from exgen.givens import collect
    from exgen.render import Renderer
    from exgen.topics import get

    with user_errors():
        givens = collect(get(topic).variant(variant), pairs, givens_file)
        problem = solve_givens(topic, variant, givens)
        if as_json:
            click.echo(json.dumps(problem.to_dict(), indent=1, sort_keys=True))
            return
        renderer = Renderer(fmt, templates)
        click.echo(renderer.document([problem], title=f"{topic} ({variant})", solutions=True), nl=False)


@cli.command()
@click.argument("key", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="Where torch reproduces the answers (auto: cuda when available).")
def verify(key, device) -> None:
    """Reproduce every answer of a key independently with torch; exit 1 on any disagreement.

    \b
    Example:
      exgen make --topic quantization --n 100 --seed 1 --out sheet/ && exgen verify sheet/key.json
    """
    from exgen.manifest import read_key

    with user_errors():
        problems = read_key(key).problems
    try:
        from exgen.verify import verify_problems
    except ImportError as e:
        raise click.ClickException(f"exgen verify needs torch ({e}); install it with: pip install 'exgen[verify]'")
    with user_errors():
        rows, used = verify_problems(problems, device)
    click.echo(f"{'part':<24} {'key':>28} {'reproduced':>28}  agree")
    for row in rows:
        click.echo(f"{row.part:<24} {row.key:>28} {row.reproduced:>28}  {'yes' if row.agree else 'NO'}")
    from exgen.manifest import regenerated_differs

    stale = [str(i) for i, p in enumerate(problems, 1) if regenerated_differs(p)]
    if stale:
        click.echo(f"note: this exgen ({__version__}) would generate other instances for problem(s) "
                   f"{', '.join(stale)} from their seeds; the key still stands as written", err=True)
    bad = sum(not r.agree for r in rows)
    click.echo(f"{len(rows) - bad} of {len(rows)} parts agree ({len(problems)} problems, torch on {used})")
    if bad:
        sys.exit(1)


def main() -> None:
    cli(prog_name="exgen")
