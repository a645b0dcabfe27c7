"""The `exgen` command line: thin click commands over the library.

Nothing heavy is imported at start-up: topics are imported when used, torch only by `exgen verify`.
"""

from __future__ import annotations

import contextlib
import gc
import json
import secrets
import sys
from pathlib import Path
from typing import Iterator

import click

from exgen import __version__
from exgen.topics import TOPIC_NAMES
from exgen.topics.base import DIFFICULTIES


class UserError(click.ClickException):
    """A failure the user can fix (bad input, an unwritable output): one line on stderr, exit status 2."""

    exit_code = 2


def _os_message(e: OSError) -> str:
    where = f"{e.filename}: " if e.filename else ""
    return f"{where}{e.strerror or e}"


@contextlib.contextmanager
def no_collector_pauses() -> Iterator[None]:
    """Python's cycle collector paused while a batch of problems is built and written: every problem stays
    alive until its files are written, so each collection rescans all of them (10–15 % of `exgen make --n
    1000`, issue 12). What a pause leaves (a rejected draw's traceback) is collected when it ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the library's user-facing errors into one clear line (and exit status 2) instead of a traceback."""
    from exgen.files import OutputRefused
    from exgen.manifest import KeyFileError
    from exgen.topics.base import InvalidGivens

    try:
        yield
    except (InvalidGivens, KeyFileError, OutputRefused, KeyError, ValueError) as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        raise UserError(str(message)) from None


# The status a shell reports for a command stopped by a closed pipe (128 + SIGPIPE), as `yes | head -1` gives.
EXIT_PIPE_CLOSED = 141


def _quiet_output() -> None:
    """After a reader closed the pipe: standard output and error go to /dev/null, so that nothing (not even
    Python's flush at exit) reports the closed pipe."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError, AttributeError):  # not a real file (a test runner's buffer)
            pass
    os.close(devnull)


class _Group(click.Group):
    """The one error path: whatever a command raises reaches the user as one line and exit status 2 (usage
    errors, unreadable inputs, unwritable or full outputs); 1 stays "completed with errors". Set
    EXGEN_DEBUG=1 to see the traceback of an unexpected error."""

    def invoke(self, ctx: click.Context):
        import os

        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:  # the reader stopped early (`exgen verify key.json | head -1`): not an error
            _quiet_output()
            raise click.exceptions.Exit(EXIT_PIPE_CLOSED) from None
        except OSError as e:
            raise UserError(_os_message(e)) from None
        except (ValueError, KeyError) as e:  # a library error no command translated (bad input)
            raise UserError(str(e.args[0] if isinstance(e, KeyError) and e.args else e)) from None
        except Exception as e:  # noqa: BLE001 -- the promise: no traceback reaches a user
            if os.environ.get("EXGEN_DEBUG"):
                raise
            raise UserError(f"internal error ({type(e).__name__}: {str(e)[:200]}); please report it "
                            "(EXGEN_DEBUG=1 shows the traceback)") from None


def _templates_option(f):
    return click.option("--templates", "templates", type=click.Path(exists=True, file_okay=False, path_type=Path),
                        help="A folder with your own templates/ and solutions/ (searched before the built-in ones).")(f)


def _format_option(f):
    return click.option("--format", "fmt", type=click.Choice(["md", "tex", "html"]), default="md", show_default=True,
                        help="Markdown; a LaTeX document (exam class) that pdflatex compiles; or a self-contained "
                             "HTML page whose math KaTeX renders offline.")(f)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
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
                                                 _default_text(g),
                                                 _bounds_text(g)]))
                click.echo(f"      {g.name} ({detail}): {g.meaning}")
        click.echo()


def _default_text(g) -> str:
    """'default 1', or for an empty default what leaving the given out means ('optional')."""
    if g.default is None:
        return ""
    return "optional" if g.default in ("", []) else f"default {g.default}"


def _bounds_text(g) -> str:
    """A given's declared bounds, as `exgen topics` prints them."""
    words = []
    if g.low is not None or g.high is not None:
        low = "" if g.low is None else f"{g.low:g}"
        high = "" if g.high is None else f"{g.high:g}"
        words.append(f"{'entries ' if g.kind in ('matrix', 'vector') else ''}in [{low or '-inf'}, {high or 'inf'}]")
    if g.max_size is not None:
        words.append(f"at most {g.max_size} {'characters' if g.kind not in ('matrix', 'vector') else 'entries'}")
    return ", ".join(words)


def _check_variant(topics_: tuple[str, ...], variant: str | None) -> None:
    """A named variant must exist in every requested topic (KeyError names the topic's variants)."""
    from exgen.topics import get

    for t in topics_ if variant else ():
        get(t).variant(variant)


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
              help="Write worksheet, solutions, key.json and a blank answers.yaml into this folder instead of "
                   "printing the worksheet.")
@click.option("--force", is_flag=True, help="Replace the sheet already in the --out folder (the whole set, in one "
              "step; a folder that also holds other files is never replaced).")
@click.option("--solutions", is_flag=True, help="Print the worked solutions under each question.")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Exam mode: a file of student ids (one per line); each student gets their own problems, "
                   "in DIR/students/ID/, and key.json holds them all. Needs --secret-file and --out.")
@click.option("--secret-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The course secret (at least 16 bytes) that seeds each student's problems by HMAC; keep it "
                   "private: with the public code it regenerates every answer.")
@_templates_option
@no_collector_pauses()
def make(topics_, variant, n, seed, difficulty, fmt, out, force, solutions, roster, secret_file, templates) -> None:
    """Make a worksheet, its worked solutions, its answer key and a blank answer sheet.

    With --out, DIR/answers.yaml is the sheet students fill in and hand back for `exgen grade`. With
    --roster and --secret-file, every student gets their own exam (seeds from an HMAC of the secret, never
    printed) in DIR/students/ID/, and one combined DIR/key.json grades them all.

    \b
    Examples:
      exgen make --topic quantization --n 10
      exgen make --topic quantization --variant affine --n 5 --seed 7 --format tex --out sheet/
      exgen make --topic quantization --n 3 --roster roster.txt --secret-file course.secret --out exam/
    """
    from exgen.files import atomic_write_all
    from exgen.generate import count_repeats, sheet
    from exgen.grading.exam import sheet_id
    from exgen.grading.sheet import blank_sheet
    from exgen.manifest import Key
    from exgen.render import Renderer

    if (roster is None) != (secret_file is None):
        raise click.UsageError("--roster and --secret-file go together")
    if roster is not None:
        if out is None:
            raise click.UsageError("an exam (--roster) needs --out DIR for the students' sheets")
        if seed is not None:
            raise click.UsageError("--seed does not apply to --roster: each student's seeds come from the secret")
        return _make_exam(topics_, variant, n, difficulty, fmt, out, force, roster, secret_file, templates)
    if seed is None:
        seed = secrets.randbelow(10**6)
    with user_errors():
        _check_variant(topics_, variant)
        problems = sheet(list(topics_), variant, difficulty, seed, n)
        renderer = Renderer(fmt, templates)
    command = _regenerate_command(topics_, variant, n, seed, difficulty)
    title = "Worksheet: " + ", ".join(topics_)
    click.echo(f"seed {seed} (regenerate with: {command})", err=True)
    repeats = count_repeats(problems)
    if repeats:
        click.echo(f"note: {repeats} problem(s) repeat an earlier one: this topic has few distinct instances at "
                   f"--difficulty {difficulty}; a harder difficulty draws from a larger space", err=True)
    if out is None:
        click.echo(renderer.document(problems, title=title, solutions=solutions, regenerate=command), nl=False)
        return
    worksheet, answers = f"worksheet.{fmt}", f"solutions.{fmt}"
    ident = sheet_id(problems)

    def files(folder: Path) -> Iterator[tuple[Path, str]]:
        yield folder / worksheet, renderer.document(problems, title=title, solutions=False, regenerate=command)
        yield folder / answers, renderer.document(problems, title=title + " (solutions)", solutions=True,
                                                  regenerate=command)
        yield folder / "key.json", Key(tuple(problems), meta={"seed": seed, "command": command,
                                                              "sheet": ident}).to_json()
        yield folder / "answers.yaml", blank_sheet(problems, sheet_id=ident, title=title)

    def build(folder: Path) -> None:
        atomic_write_all(files(folder))

    _write_set(out, build, force)
    click.echo(f"wrote {out / worksheet}, {out / answers}, {out / 'key.json'}, {out / 'answers.yaml'}", err=True)


_SHEET_FILES = {"worksheet.md", "worksheet.tex", "worksheet.html", "solutions.md", "solutions.tex", "solutions.html",
                "key.json", "answers.yaml", "students"}


def _write_set(out: Path, build, force: bool) -> None:
    """Write a sheet's files into `out` as one set (exgen.files.replace_folder)."""
    from exgen.files import replace_folder

    with user_errors():
        replace_folder(out, build, force=force, ours=_SHEET_FILES.__contains__)


def _make_exam(topics_, variant, n, difficulty, fmt, out, force, roster, secret_file, templates) -> None:
    """`exgen make --roster`: one exam per student, one combined key."""
    from exgen.files import atomic_write_all
    from exgen.generate import count_repeats
    from exgen.grading.exam import RosterError, exam_problems, read_roster, read_secret, sheet_id
    from exgen.grading.sheet import blank_sheet
    from exgen.manifest import Key
    from exgen.render import Renderer

    try:
        students, secret = read_roster(roster), read_secret(secret_file)
    except RosterError as e:
        raise click.UsageError(str(e)) from None
    with user_errors():
        _check_variant(topics_, variant)
        renderer = Renderer(fmt, templates)
        exams = exam_problems(list(topics_), variant, difficulty, n, secret, students)
    problems, numbers = [], {}
    for sid, mine in exams.items():
        numbers[sid] = list(range(len(problems) + 1, len(problems) + len(mine) + 1))
        problems += mine
    repeats = count_repeats(problems)
    if repeats:
        click.echo(f"note: {repeats} of the {len(problems)} problems repeat another's instance: too few distinct "
                   f"instances at --difficulty {difficulty} for {len(students)} students", err=True)
    ident = sheet_id(problems)
    command = " ".join(["exgen make"] + [f"--topic {t}" for t in topics_] + ([f"--variant {variant}"] if variant else [])
                       + [f"--n {n}", f"--difficulty {difficulty}", "--roster …", "--secret-file …"])
    title = "Exam: " + ", ".join(topics_)
    meta = {"command": command, "sheet": ident, "students": numbers,
            "exam": {"topics": list(topics_), "variant": variant, "n": n, "difficulty": difficulty}}

    def files(root: Path) -> Iterator[tuple[Path, str]]:
        for sid, mine in exams.items():
            folder = root / "students" / sid
            yield folder / f"worksheet.{fmt}", renderer.document(mine, title=f"{title} ({sid})", solutions=False)
            yield folder / f"solutions.{fmt}", renderer.document(mine, title=f"{title} ({sid}, solutions)",
                                                                 solutions=True)
            yield folder / "answers.yaml", blank_sheet(mine, student=sid, sheet_id=ident, title=title)
        yield root / "key.json", Key(tuple(problems), meta=meta).to_json()

    def build(root: Path) -> None:
        atomic_write_all(files(root))  # one flush to disk for all students' files, not three fsyncs each

    _write_set(out, build, force)
    exams = "1 exam" if len(students) == 1 else f"{len(students)} exams"
    click.echo(f"wrote {exams} under {out / 'students'} and the combined key {out / 'key.json'}", err=True)


@cli.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The folder for the papers, solutions, answer sheets and key.json.")
@click.option("--versions", type=click.IntRange(1, 26), default=1, show_default=True,
              help="Versions A, B, ... with different instances (the same variants and points).")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="One exam per student instead of versions (a file of student ids); needs --secret-file.")
@click.option("--secret-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The course secret that seeds each student's problems by HMAC (at least 16 bytes).")
@click.option("--jobs", type=click.IntRange(1, 64), help="PDFs built at once (default: the available cores).")
@click.option("--no-pdf", is_flag=True, help="Write the .tex files only (compile them yourself).")
@click.option("--force", is_flag=True, help="Replace the exam already in the --out folder (the whole set, in one "
              "step: no version or key of the old exam is left; a folder that also holds other files is never "
              "replaced).")
@_templates_option
@no_collector_pauses()
def exam(spec, out, versions, roster, secret_file, jobs, no_pdf, force, templates) -> None:
    """Build a printable exam from a YAML spec: papers, solutions, answer sheets and one key.

    Per version (DIR/A/, DIR/B/, ...) or student (DIR/students/ID/): exam.pdf, solutions.pdf, their .tex,
    and answers.yaml; DIR/key.json grades them all (`exgen grade DIR/key.json sheets/`). A mistake in the
    spec is reported with its line before anything is written. Without pdflatex the .tex files are written
    and the exit status is 2.

    \b
    Examples:
      exgen exam examples/midterm.yaml --out midterm/
      exgen exam examples/midterm.yaml --versions 4 --out midterm/
      exgen exam examples/midterm.yaml --roster roster.txt --secret-file course.secret --out midterm/
    """
    import time

    from exgen.exam import SpecError, prepare, read_spec, write
    from exgen.exam import pdf
    from exgen.grading.exam import RosterError, read_roster, read_secret

    if (roster is None) != (secret_file is None):
        raise click.UsageError("--roster and --secret-file go together")
    if roster is not None and versions != 1:
        raise click.UsageError("--versions does not apply to --roster: every student gets their own exam")
    try:
        students = read_roster(roster) if roster else None
        secret = read_secret(secret_file) if secret_file else None
        with user_errors():
            prepared = prepare(read_spec(spec), versions=versions, students=students, secret=secret,
                               templates=templates)
    except (SpecError, RosterError) as e:
        raise click.UsageError(str(e)) from None
    with user_errors():
        write(prepared, out, force=force)
    papers = len(prepared.papers)
    click.echo(f"wrote {papers} {prepared.who}(s), answer sheets and {out / 'key.json'} "
               f"({prepared.papers[0].total:g} points each)" if len({p.total for p in prepared.papers}) == 1 else
               f"wrote {papers} {prepared.who}(s), answer sheets and {out / 'key.json'}", err=True)
    if prepared.repeats:
        click.echo(f"note: {prepared.repeats} problem(s) repeat another paper's instance (small instance space "
                   "at this difficulty)", err=True)
    if prepared.unmatched:
        click.echo(f"note: {prepared.unmatched} problem(s) could not take the form of their slot "
                   "(its operation, dtype, metric...) and ask another", err=True)
    if no_pdf:
        return
    if not pdf.available():
        click.echo(f"error: {pdf.INSTALL_HINT}", err=True)
        sys.exit(2)
    start = time.monotonic()
    built = pdf.build_all([out / t for t in prepared.tex], jobs)
    failed = [b for b in built if not b.ok]
    for b in failed:
        click.echo(f"error: {b.tex}: {b.message}", err=True)
    click.echo(f"built {len(built) - len(failed)} of {len(built)} PDFs in {time.monotonic() - start:.1f} s", err=True)
    if failed:
        sys.exit(1)


def _some(names: list[str], most: int = 5) -> str:
    """'a.md, b.md and 3 more': the first few of a list of names, for a one-line message."""
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


def _submission_files(paths: tuple[Path, ...]) -> list[Path]:
    """Files as given; a folder stands for its *.yaml, *.yml and *.json files (sorted). The other files of a
    folder are named on stderr, so a sheet saved as carol.txt does not vanish from the gradebook unseen."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            files += [p for p in inside if p.suffix.lower() in (".yaml", ".yml", ".json")]
            skipped = [p.name for p in inside if p.suffix.lower() not in (".yaml", ".yml", ".json")]
            if skipped:
                click.echo(f"note: not graded, not .yaml/.yml/.json: {_some(skipped)} (in {path})", err=True)
        else:
            files.append(path)
    return files


@cli.command()
@click.argument("key", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("submissions", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the gradebook CSV here (one row per submission; written atomically).")
@click.option("--feedback", type=click.Path(file_okay=False, path_type=Path),
              help="Write one Markdown feedback file per student into this folder (the files an earlier run "
                   "wrote there with this key for submissions not graded this time are removed, if unchanged).")
@click.option("--gradescope", type=click.Path(dir_okay=False, path_type=Path),
              help="Write Gradescope's results.json for the (single) submission here.")
@click.option("--compare", "old_key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A dry run after editing a key: grade with both keys and print whose points change (and by "
                   "how much) between OLD_KEY and KEY; writes nothing.")
@click.option("--force", is_flag=True, help="Replace feedback files in the --feedback folder that were edited since "
              "exgen wrote them, or that exgen did not write (without it such a run is refused and writes nothing).")
def grade(key, submissions, out, feedback, gradescope, old_key, force) -> None:
    """Grade filled answer sheets against a key: points per part, feedback, a gradebook.

    SUBMISSIONS are answer sheets (answers.yaml filled in) or folders of them. Each part is correct,
    partial (matrices: credit per entry), wrong (named mistakes are called out) or invalid (unreadable).
    A submission that cannot be read at all, or a student who submitted twice, gets an error row and the
    others are still graded. Exit status: 0 all graded, 1 completed with errors (see the error column),
    2 a usage error (unreadable key, bad option, an output that would overwrite an input).

    A feedback file due to be rewritten that was edited since exgen wrote it (a TA's note added), or that
    exgen did not write, is never replaced silently: the run names it and writes nothing (exit 2) unless
    --force is given. Move the file away, or pass --force to replace it.

    \b
    Examples:
      exgen grade sheet/key.json submissions/ --out grades.csv --feedback feedback/
      exgen grade sheet/key.json submissions/ --compare old-key.json
    """
    from exgen.files import atomic_write_all, refuse_overlap
    from exgen.grading.grade import (EXIT_OK, EXIT_WITH_ERRORS, FEEDBACK_MANIFEST, Grader, compare_lines,
                                     edited_feedback, feedback_files, feedback_manifest, feedback_markdown,
                                     graded_with_another_key,
                                     gradebook_csv, gradescope_json, points_text, remove_stale_feedback,
                                     summary_line)
    from exgen.manifest import read_key

    with user_errors():
        grader = Grader(read_key(key))
    files = _submission_files(submissions)
    if not files:
        raise click.UsageError("no submissions found (give answer sheets, or folders of *.yaml files)")
    if gradescope is not None and len(files) != 1:
        raise click.UsageError("--gradescope writes one submission's results.json; give exactly one submission")
    if old_key is not None:
        if out or feedback or gradescope or force:
            raise click.UsageError("--compare is a dry run: it writes nothing (drop --out, --feedback, --gradescope, "
                                   "--force)")
        with user_errors():
            before = Grader(read_key(old_key))
        sheets = [g.key.meta.get("sheet") for g in (before, grader)]
        if sheets[0] != sheets[1]:
            click.echo(f"note: {old_key} and {key} are keys of different sheets ({sheets[0] or 'no id'} and "
                       f"{sheets[1] or 'no id'}): a sheet matches one of them only", err=True)
        lines = compare_lines(before.grade_files(files), grader.grade_files(files))
        for line in lines:
            click.echo(line)
        click.echo(f"{len(lines)} submission(s) change between {old_key} and {key}; nothing written", err=True)
        return
    if force and feedback is None:
        raise click.UsageError("--force replaces edited feedback files: it goes with --feedback")
    rows = grader.grade_files(files)
    named = feedback_files(rows) if feedback is not None else []
    with user_errors():
        refuse_overlap([out, gradescope] + [feedback / name for name, _ in named]
                       + ([feedback / FEEDBACK_MANIFEST] if feedback is not None else []), [key, *files])
    texts = [(name, feedback_markdown(row)) for name, row in named]
    edited = edited_feedback(feedback, texts) if feedback is not None and not force else []
    if edited:
        raise UserError(f"not replacing {_some(edited)} in {feedback}: edited since exgen wrote it, or not written by "
                        "exgen; nothing written (move the file away, or pass --force to replace it)")
    others = graded_with_another_key(feedback, texts, grader.digest) if feedback is not None else []
    if others:  # the same student in another exam, or this exam before its key was corrected
        click.echo(f"note: replacing {_some(others)} in {feedback}, "
                   "written with another key (another exam's, or this one's before it changed)", err=True)
    writes = [(out, gradebook_csv(rows))] if out is not None else []
    stale: list[str] = []
    if feedback is not None:  # with a record of what it wrote, so that the next run removes what it no longer writes
        manifest, stale, kept = feedback_manifest(feedback, texts, grader.digest)
        writes += [(feedback / name, text) for name, text in texts] + [(feedback / FEEDBACK_MANIFEST, manifest)]
        if kept:
            click.echo(f"note: kept {', '.join(kept)} in {feedback}: an earlier run's feedback, changed since",
                       err=True)
    if gradescope is not None:
        writes.append((gradescope, gradescope_json(rows[0])))
    atomic_write_all(writes)
    removed = remove_stale_feedback(feedback, stale) if stale else []
    if removed:
        click.echo(f"removed {len(removed)} feedback file(s) of an earlier run for submissions not graded this "
                   f"time: {', '.join(removed)}", err=True)
    # the rows are printed once the files are written: a reader closing the pipe early (`| head`) stops
    # the printing, never the gradebook
    for row in rows:
        if row.error:
            click.echo(f"ERROR {row.source}: {row.error}")
        else:
            problems = "  ".join(f"{n}: {points_text(got)}/{points_text(most)}"
                                 for n, (got, most) in row.problems().items())
            click.echo(f"{row.student}\t{points_text(row.total)} / {points_text(row.max_points)}\t{row.source}"
                       f"\t(problem {problems})")
            for note in row.notes:  # ignored entries: said here too, not only in the student's feedback
                click.echo(f"note: {row.source}: {note}", err=True)
    click.echo(summary_line(rows), err=True)
    sys.exit(EXIT_WITH_ERRORS if any(r.error for r in rows) else EXIT_OK)


@cli.command()
@click.argument("key", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("part")
@click.argument("value")
@click.option("--student", help="On an exam key (made with --roster): the student whose sheet PART is from.")
@click.option("--version", "version", help="On an exam key with versions: the version (A, B, ...) PART is from.")
@click.option("--reveal", is_flag=True, help="Also print the expected answer.")
def check(key, part, value, student, version, reveal) -> None:
    """Check one answer while practising: prints the verdict and feedback.

    PART is the id on the answer sheet (problem number, '.', part id). A VALUE starting with '-' goes
    after '--' (exgen check key.json 1.zero_point -- -1). Exit status 0 when correct, 1 otherwise, 2 on a
    usage error.

    \b
    Example:
      exgen check sheet/key.json 1.scale "1.07"
      exgen check sheet/key.json 1.q "1 -2 0; 0 1 -1; 2 0 1"
    """
    from exgen.grading.grade import Grader, points_text
    from exgen.grading.sheet import SubmissionError
    from exgen.manifest import read_key

    with user_errors():
        grader = Grader(read_key(key))
    if grader.students is not None and student is None:
        raise click.UsageError("this key is a roster exam's: name the student the answer is from with --student")
    if grader.versions is not None and not version and len(grader.versions) == 1:
        version = next(iter(grader.versions))  # one version: there is no other the answer could be from
    if grader.versions is not None and not version:
        raise click.UsageError(f"this key holds versions {', '.join(grader.versions)}: name the one the answer is "
                               "from with --version")
    try:
        expected = grader.expected_parts(student, (version or "").strip().upper())
    except SubmissionError as e:
        raise click.UsageError(str(e)) from None
    found = [(q, p, n) for q, p, n in expected if q == part]
    if not found:
        ids = ", ".join(q for q, _, _ in expected[:12]) + (" …" if len(expected) > 12 else "")
        raise click.UsageError(f"no part {part!r} on this sheet (parts: {ids})")
    qualified, the_part, number = found[0]
    result = grader.grade_entry(qualified, the_part, number, value)
    click.echo(f"{result.part} ({result.label}): {result.verdict}, {points_text(result.points)} / "
               f"{points_text(result.max_points)}")
    click.echo(result.message)
    click.echo(f"tolerance: {result.tolerance}")
    if reveal:
        click.echo(f"expected: {result.expected}")
    sys.exit(0 if result.verdict == "correct" else 1)


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
    Example (the 4x4 matrix of the course's quantization slides, 2-bit signed):
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

    from exgen.grading.examkey import check_exam_meta

    with user_errors():
        whole = read_key(key)
        check_exam_meta(whole)  # an exam key's choices are checked too: the grader marks by their letters
        problems = whole.problems
    try:
        from exgen.verify import verify_problems
    except ImportError as e:
        raise UserError(f"exgen verify needs torch ({e}); install it with: pip install 'exgen[verify]'")
    with user_errors():
        rows, used = verify_problems(problems, device, whole.meta.get("choices"))
    click.echo(f"{'part':<24} {'key':>28} {'reproduced':>28}  agree")
    for row in rows:
        click.echo(f"{row.part:<24} {row.key:>28} {row.reproduced:>28}  {'yes' if row.agree else 'NO'}")
    from exgen.manifest import regenerated_differs

    stale = [str(i) for i, p in enumerate(problems, 1) if regenerated_differs(p)]
    if stale:
        click.echo(f"note: problem(s) {', '.join(stale)} differ from what this exgen ({__version__}) generates "
                   "for their seeds: an edited key, or another version; verified as written", err=True)
    bad = sum(not r.agree for r in rows)
    click.echo(f"{len(rows) - bad} of {len(rows)} parts agree ({len(problems)} problems, torch on {used})")
    if bad:
        sys.exit(1)


@cli.command("export")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(["moodle", "canvas", "qti21"]))
@click.argument("source", metavar="SPEC_OR_KEY", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write: Moodle XML (.xml), or a zip for canvas and qti21 (written atomically).")
@click.option("--n-per-variant", "n", type=click.IntRange(1, 200), help="From a spec: instances per variant "
              "(default 5), each a frozen question the LMS draws one of.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), help="From a spec: the seed instances derive from "
              "(default: the spec's seed).")
@click.option("--per-part", is_flag=True, help="moodle: one question per part (numerical with units, multiple "
              "choice, a matrix as a grid) in a category per topic/variant/part, instead of one cloze per problem.")
@no_collector_pauses()
def export_(fmt, source, out, n, seed, per_part) -> None:
    """Export questions for an LMS: Moodle XML, Canvas (QTI 1.2 zip) or a QTI 2.1 package.

    From a KEY (key.json of `exgen make`, or of `exgen exam` with its points), those problems; from an exam
    SPEC (YAML, as for `exgen exam`), N instances of every variant its sections name. One bank (category,
    question group, section) per topic/variant; tolerances, named-mistake feedback and the worked solution come
    from the key. A part a format cannot grade as `exgen check` does (a formula) is named on stderr and left
    out; the rest is exported. See the README for importing each file into Moodle and Canvas.

    \b
    Examples:
      exgen export moodle sheet/key.json --out bank.xml
      exgen export canvas examples/midterm.yaml --n-per-variant 10 --out canvas.zip
      exgen export qti21 examples/midterm.yaml --out qti21.zip
    """
    from exgen.export import export, problems_from_spec, write_bytes
    from exgen.files import refuse_overlap
    from exgen.manifest import read_key

    with open(source, "rb") as f:
        is_key = source.suffix.lower() == ".json" or f.read(64).lstrip().startswith(b"{")
    if per_part and fmt != "moodle":
        raise click.UsageError("--per-part is for moodle (canvas always asks one part per item; qti21 never)")
    if is_key and (n is not None or seed is not None):
        raise click.UsageError("--n-per-variant and --seed apply to a spec; a key's problems are exported as they are")
    with user_errors():
        refuse_overlap([out], [source])
        if is_key:
            key = read_key(source)
            problems, points = list(key.problems), _exam_points(key)
        else:
            from exgen.exam.spec import read_spec

            problems, points = problems_from_spec(read_spec(source), n or 5, seed)
        result = export(fmt, problems, points, per_part)
    write_bytes(out, result.data)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"wrote {out} ({len(problems)} problems, {fmt})", err=True)


def _exam_points(key) -> list[dict[str, float]] | None:
    """An exam key's points per part, problem by problem (as its spec gave them); None for a `make` key (one
    point a part)."""
    from exgen.grading.examkey import check_exam_meta

    check_exam_meta(key)  # a hand-edited points map is refused, naming the field
    points = key.meta.get("points") if isinstance(key.meta, dict) else None
    return [dict(points.get(str(i), {})) for i in range(1, len(key.problems) + 1)] if points else None


@cli.command()
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="What to measure (auto: cuda when torch sees one).")
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), help="Also draw the roofline here (PNG).")
@click.option("--quick", is_flag=True, help="Small sizes: seconds instead of tens of seconds, less accurate.")
def roofline(device, png, quick) -> None:
    """Measure this machine's roofline: achieved bandwidth and FLOP/s against the GPU's datasheet.

    Times a large copy (memory-bound) and a large matmul (compute-bound) with torch — CUDA events on a GPU,
    wall time on a CPU (labelled as a CPU measurement) — and places a few ops of known arithmetic intensity
    on the measured roofline.

    \b
    Example:
      exgen roofline --device cuda --png roofline.png
    """
    try:
        from exgen import roofline as measured
    except ImportError as e:
        raise UserError(f"exgen roofline needs torch ({e}); install it with: pip install 'exgen[verify]'")
    with user_errors():
        result = measured.measure(device, quick=quick)
    click.echo(measured.report(result), nl=False)
    if png is not None:
        try:
            measured.plot(result, png)
        except ImportError as e:
            raise UserError(f"--png needs matplotlib ({e}): pip install 'exgen[verify]'")
        click.echo(f"wrote {png}", err=True)


@cli.command()
@click.option("--topic", "topics_", multiple=True, type=click.Choice(TOPIC_NAMES),
              help="Topic to audit; repeat for several (default: all).")
@click.option("--variant", help="One variant (it must exist in every topic audited; default: all).")
@click.option("--difficulty", type=click.Choice(DIFFICULTIES), help="One difficulty (default: all).")
@click.option("--n", "n", type=click.IntRange(1, 100000), default=1000, show_default=True,
              help="Instances per topic × variant × difficulty.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="Instance i of a row is problem i of `exgen make … --seed SEED`.")
@click.option("--latex/--no-latex", default=True, show_default=True,
              help="Compile a few instances per row (with solutions) with pdflatex: errors and overfull boxes fail.")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON instead of a table.")
def stress(topics_, variant, difficulty, n, seed, latex, jobs, as_json) -> None:
    """Audit variants: variety, rejections, constant parts, student paths, LaTeX; exit 1 when a bar fails.

    One row per topic × variant × difficulty: instances, distinct givens and answers, sampler draws per
    accepted instance (and rejections by cause: sampler / mistake inside / path outside), parts constant
    over every instance, student-path failures, LaTeX problems, time per instance. Bars: ≥ 99% distinct
    givens, ≥ 95% distinct answers, no constant part, no path failure, LaTeX without errors or overfull boxes.

    \b
    Example:
      exgen stress --topic intensity --difficulty easy --n 200
    """
    from exgen import stress as st

    if latex and not st.latex_available():
        raise click.UsageError("--latex needs pdflatex on PATH (or pass --no-latex)")
    with user_errors():
        triples = st.cases(topics_, variant, difficulty)
    rows = st.run(triples, n, seed, latex=st.LATEX_PER_ROW if latex else 0, jobs=jobs)
    click.echo(st.as_json(rows) if as_json else st.report(rows), nl=False)
    sys.exit(1 if any(r.failures() for r in rows) else 0)


@cli.command()
@click.option("--topic", "topics_", multiple=True, type=click.Choice(TOPIC_NAMES),
              help="Topics to preselect (repeatable; default: all).")
@click.option("--difficulty", type=click.Choice([*DIFFICULTIES, "mixed"]), default="easy", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--no-browser", is_flag=True, help="Do not open a browser window.")
@click.option("--data", "data_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to keep your progress (default: progress.sqlite in your user data folder).")
def practice(topics_, difficulty, port, no_browser, data_file) -> None:
    """Practise in the browser: a fresh problem, answer boxes, instant feedback that names the mistake.

    Serves a page on 127.0.0.1 (this machine only). Progress (attempts, parts right, streaks) is kept in a
    local SQLite file; "weakest first" draws the variants you get wrong most.

    \b
    Example:
      exgen practice --topic quantization --difficulty medium
    """
    import errno
    import socket
    import threading
    import webbrowser

    try:
        from exgen.practice.app import create_app
        from exgen.practice.progress import default_path
    except ImportError as e:
        raise UserError(f"exgen practice needs Flask ({e}); install exgen again: pip install exgen")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # as the server's socket does (socketserver's allow_reuse_address): a port left in TIME-WAIT by the
        # last run's connections is free to listen on, one that something listens on is still refused
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise UserError(f"cannot listen on 127.0.0.1:{port}: {e.strerror}") from None
            raise UserError(f"port {port} is busy (another exgen practice?); try --port {port + 1}") from None
    path = data_file or default_path()
    try:
        app = create_app(path, topics_ or TOPIC_NAMES, difficulty)
    except OSError as e:
        raise UserError(f"cannot keep progress in {path}: {e.strerror or e}") from None
    url = f"http://127.0.0.1:{port}/"
    click.echo(f"exgen practice on {url} (progress in {path}); Ctrl-C stops it", err=True)
    if not no_browser:
        threading.Timer(0.8, webbrowser.open, (url,)).start()
    # werkzeug's server without Flask's start-up banner ("WARNING: This is a development server…"): it is
    # right here (one student, on 127.0.0.1 only), and the warning, meant for deployments, misled students
    from werkzeug.serving import make_server

    make_server("127.0.0.1", port, app, threaded=True).serve_forever()  # Ctrl-C ends it (and closes it)


def main() -> None:
    # A terminal or pipe that is not UTF-8 (LANG=C, PYTHONIOENCODING=ascii) must not lose a run over a
    # student named `Zoë ✓`: characters it cannot show are escaped (files are always written as UTF-8).
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    cli(prog_name="exgen")
