"""The practice web app: a fresh problem, answer boxes, instant server-side grading that names the mistake.

Flask (docs/decisions.md says why).  The server keeps no session: a problem is identified by (topic,
variant, difficulty, seed), which the page holds and sends back; the server regenerates the problem from
it (deterministic, milliseconds) to grade or to show the solution, so two tabs never interfere and the
key never reaches the page before the student asks for it.  Every request is validated; a bad one gets a
4xx with a JSON message, never a traceback.  Only the page the server serves may use it: a POST must be JSON
from that page's origin, and every request must name the server's own address as its Host.

    GET  /                      the page
    GET  /api/topics            topics, their variants, difficulties
    POST /api/problem           {topics?, variant?, difficulty, mode: "pick"|"weakest"} -> a new problem
                                (with a variant: drawn among the chosen topics that have it)
    POST /api/check             {problem, answers: {part id: text, or a grid's [[cell text]]}} -> a verdict
                                per answered part, and whether the check was recorded (not once the
                                solution was shown)
    POST /api/solution          {problem} -> the worked solution and the expected answers
    GET  /api/progress          attempts, parts right and streak per topic and variant (progress.py's rules)
    POST /api/reset             forget the progress
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, render_template, request, send_from_directory
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException, UnsupportedMediaType

from exgen.practice.progress import Progress
from exgen.topics import TOPIC_NAMES
from exgen.topics.base import DIFFICULTIES
from exgen.units import shown

MAX_BODY_BYTES = 64 * 1024
MAX_ANSWER_CHARS = 2000
SEED_LIMIT = 2**32
LOCAL_NAMES = ("127.0.0.1", "localhost")  # the names of the address the server listens on
KATEX = Path(__file__).resolve().parent.parent / "_static" / "katex"


class BadInput(BadRequest):
    """A request the app cannot serve; its description is the message the page shows."""


def _problem_id(data: Any) -> tuple[str, str, str, int]:
    """(topic, variant, difficulty, seed) from a request's "problem", validated."""
    from exgen.topics import get

    if not isinstance(data, dict):
        raise BadInput("expected a problem: {topic, variant, difficulty, seed}")
    topic, variant, difficulty, seed = (data.get(k) for k in ("topic", "variant", "difficulty", "seed"))
    if topic not in TOPIC_NAMES:
        raise BadInput(f"unknown topic {str(topic)[:40]!r}")
    if variant not in {v.name for v in get(topic).variants}:
        raise BadInput(f"topic {topic} has no variant {str(variant)[:40]!r}")
    if difficulty not in DIFFICULTIES:
        raise BadInput(f"difficulty must be one of {', '.join(DIFFICULTIES)}")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < SEED_LIMIT:
        raise BadInput("seed must be an integer from 0 to 2^32 - 1")
    return topic, variant, difficulty, seed


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadInput("expected a JSON object")
    return data


def _input_spec(part) -> dict[str, Any]:
    """What the page needs to draw the input for one part: never the key's value, only its shape."""
    from exgen.grading.compare import expression_symbols

    a = part.answer
    spec: dict[str, Any] = {"id": part.id, "label": part.label, "kind": a.kind, "unit": shown(a.unit),
                            "precision": a.precision}
    if a.kind == "matrix":
        spec["shape"] = [len(a.value), len(a.value[0]) if a.value else 0]
    elif a.kind == "vector":
        spec["shape"] = [len(a.value)]
    elif a.kind == "choice":
        spec["choices"] = list(a.choices)
    elif a.kind == "expression":
        spec["symbols"] = list(expression_symbols(a))
    return spec


def _cell_name(part, r: int, c: int) -> str:
    return f"entry {c + 1}" if part.answer.kind == "vector" else f"row {r + 1}, column {c + 1}"


def _grid(pid: str, part, cells: Any) -> tuple[list | None, str]:
    """A matrix or vector typed cell by cell: [[cell text, ...], ...] (a vector is one row). Returns (the
    rows to grade, or None when every cell is blank, and a message naming the cell that cannot be read).
    The grid is rectangular by construction, so a problem is named by its cell, never by row lengths."""
    if part.answer.kind not in ("matrix", "vector"):
        raise BadInput(f"{pid}: this part's answer is text, not a grid")
    if (not isinstance(cells, list) or not all(isinstance(row, list) for row in cells)
            or not all(isinstance(x, str) for row in cells for x in row)
            or sum(len(x) + 1 for row in cells for x in row) > MAX_ANSWER_CHARS):
        raise BadInput(f"{pid}: a grid is a list of rows of cell text, at most {MAX_ANSWER_CHARS} characters")
    rows = [[x.strip() for x in row] for row in cells]
    if all(not x for row in rows for x in row):
        return None, ""
    for r, row in enumerate(rows):
        for c, x in enumerate(row):
            if not x:
                return rows, f"{_cell_name(part, r, c)} is empty: every cell needs a number"
            if re.search(r"[\s,;]", x):
                decimal_comma = re.fullmatch(r"[+-]?\d*,\d+", x)
                comma = f" (write {x.replace(',', '.')}: a decimal point is '.')" if decimal_comma else ""
                return rows, f"{_cell_name(part, r, c)} holds {x[:40]!r}: one number per cell{comma}"
    return rows, ""


def document_css() -> str:
    """The static HTML pages' own stylesheet (the plain `<style>` of templates/_document.html.j2). The page
    shows the same driver's HTML, so it shares the rules that make it fit a phone (a wide display or inline
    matrix scrolls in its own box) rather than a copy of them that would drift."""
    from exgen.render import data_root

    text = (data_root() / "templates" / "_document.html.j2").read_text(encoding="utf-8")
    plain = [b for b in re.findall(r"<style>(.*?)</style>", text, re.S) if "<<" not in b and "<%" not in b]
    if len(plain) != 1:
        raise RuntimeError("_document.html.j2 should hold exactly one <style> without template expressions")
    return plain[0].strip() + "\n"


def create_app(progress_path: Path, topics: tuple[str, ...] = TOPIC_NAMES, difficulty: str = "easy") -> Flask:
    """The app, recording progress in `progress_path`; `topics` and `difficulty` preselect the page's choices."""
    from exgen.generate import generate
    from exgen.render import Renderer
    from exgen.topics import get

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    progress = Progress(progress_path)
    html = Renderer("html")
    all_variants = [(t, v.name) for t in TOPIC_NAMES for v in get(t).variants]

    def problem_for(ident: tuple[str, str, str, int]):
        topic, variant, difficulty_, seed = ident
        return generate(topic, variant, difficulty_, seed)

    @app.before_request
    def same_site_only():
        """Only this server's own page may use it. A Host that is not the address it listens on is another
        site's name resolving here (DNS rebinding); a state-changing request must be JSON, which a browser
        sends cross-site only after a CORS preflight this server never grants, and come from the page's own
        origin when the browser names one (a file:// page sends Origin: null)."""
        port = request.environ.get("SERVER_PORT", "80")
        own = {f"{name}:{port}" for name in LOCAL_NAMES} | (set(LOCAL_NAMES) if port == "80" else set())
        if request.host not in own:
            raise Forbidden(f"this server answers http://127.0.0.1:{port}/ only, not {request.host[:60]!r}")
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            if request.mimetype != "application/json":
                raise UnsupportedMediaType("send JSON (Content-Type: application/json)")
            origin = request.headers.get("Origin")
            if origin is not None and origin != f"http://{request.host}":
                raise Forbidden(f"a request from another page ({origin[:60]!r}) is refused")

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        return jsonify(error=e.description or e.name), e.code

    @app.errorhandler(Exception)
    def unexpected(e: Exception):  # pragma: no cover - a bug; the page still gets a message, not a traceback
        app.logger.exception("practice: unexpected error")
        return jsonify(error=f"internal error ({type(e).__name__}); the problem was not graded"), 500

    @app.get("/")
    def page():
        return render_template("practice.html", topics=list(topics), difficulty=difficulty)

    css = document_css()

    @app.get("/document.css")
    def document_stylesheet():
        return Response(css, mimetype="text/css")

    @app.get("/katex/<path:name>")
    def katex(name: str):
        return send_from_directory(KATEX, name, max_age=86400)

    @app.get("/api/topics")
    def topics_api():
        return jsonify(topics=[{"name": t, "description": get(t).description,
                                "variants": [v.name for v in get(t).variants]} for t in TOPIC_NAMES],
                       difficulties=list(DIFFICULTIES) + ["mixed"], selected=list(topics), difficulty=difficulty)

    @app.post("/api/problem")
    def new_problem():
        data = _body()
        chosen = data.get("topics") or list(topics)
        if (not isinstance(chosen, list) or not chosen or len(chosen) > len(TOPIC_NAMES)
                or any(not isinstance(t, str) or t not in TOPIC_NAMES for t in chosen)):
            raise BadInput(f"topics must be a list of {', '.join(TOPIC_NAMES)}")
        level = data.get("difficulty", difficulty)
        if not isinstance(level, str) or level not in (*DIFFICULTIES, "mixed"):
            raise BadInput("difficulty must be easy, medium, hard or mixed")
        if level == "mixed":
            level = DIFFICULTIES[secrets.randbelow(len(DIFFICULTIES))]
        variant = data.get("variant") or None
        if variant is not None and not isinstance(variant, str):
            raise BadInput("variant must be a variant's name (text), or null for any")
        mode = data.get("mode") or "pick"
        if mode not in ("pick", "weakest"):
            raise BadInput('mode must be "pick" or "weakest"')
        # a variant names a variant of any chosen topic (memory is both compute's and inference's): the draw
        # is among the chosen topics that have it, never a topic that would refuse it
        candidates = [tv for tv in all_variants if tv[0] in chosen and variant in (None, tv[1])]
        if not candidates:
            raise BadInput(f"none of the topics {', '.join(chosen)} has a variant {variant[:40]!r}")
        if mode == "weakest":
            topic, variant = progress.weakest(candidates)
        else:
            having = list(dict.fromkeys(t for t, _ in candidates))
            topic = having[secrets.randbelow(len(having))]
            variant = variant or get(topic).variants[secrets.randbelow(len(get(topic).variants))].name
        seed = secrets.randbelow(10**6)
        problem = problem_for((topic, variant, level, seed))
        command = f"exgen make --topic {topic} --variant {variant} --difficulty {level} --n 1 --seed {seed}"
        return jsonify(problem={"topic": topic, "variant": variant, "difficulty": level, "seed": seed},
                       question=html.question(problem), parts=[_input_spec(p) for p in problem.solution.parts],
                       command=command)

    @app.post("/api/check")
    def check():
        from exgen.grading.grade import grade_part, mistakes_of

        data = _body()
        ident = _problem_id(data.get("problem"))
        answers = data.get("answers")
        if not isinstance(answers, dict) or not answers:
            raise BadInput("expected answers: {part id: text}")
        problem = problem_for(ident)
        parts = {p.id: p for p in problem.solution.parts}
        unknown = [str(k)[:40] for k in answers if k not in parts]
        if unknown:
            raise BadInput(f"no part {unknown[0]!r} in this problem")
        mistakes = mistakes_of(problem)
        results = {}
        for pid, text in answers.items():
            if isinstance(text, list):
                text, unreadable = _grid(pid, parts[pid], text)
                if text is None:
                    continue
                if unreadable:
                    results[pid] = {"verdict": "invalid", "points": 0.0, "mistake": None,
                                    "message": f"Could not read the answer: {unreadable}.",
                                    "tolerance": parts[pid].answer.tolerance_text()}
                    continue
                if parts[pid].answer.kind == "vector":
                    text = [x for row in text for x in row]
            elif not isinstance(text, str) or len(text) > MAX_ANSWER_CHARS:
                raise BadInput(f"{pid}: an answer is text of at most {MAX_ANSWER_CHARS} characters")
            elif not text.strip():
                continue  # not answered yet: no verdict, nothing recorded
            g = grade_part(pid, parts[pid], text, mistakes.get(pid, ()))
            results[pid] = {"verdict": g.verdict, "points": g.points, "message": g.message,
                            "tolerance": g.tolerance, "mistake": g.mistake}
        if not results:
            raise BadInput("answer at least one part")
        recorded = progress.record(*ident, {pid: results[pid]["verdict"] if pid in results else "unanswered"
                                            for pid in parts})
        return jsonify(results=results, recorded=recorded)

    @app.post("/api/solution")
    def solution():
        from exgen.grading.grade import expected_text

        ident = _problem_id(_body().get("problem"))
        problem = problem_for(ident)
        progress.reveal(*ident, [p.id for p in problem.solution.parts])
        return jsonify(solution=html.solution(problem),
                       expected={p.id: expected_text(p.answer) for p in problem.solution.parts})

    @app.get("/api/progress")
    def progress_api():
        rows = [s for s in progress.stats(all_variants)]
        return jsonify(progress=[{"topic": s.topic, "variant": s.variant, "attempts": s.attempts, "parts": s.parts,
                                  "correct": s.correct, "streak": s.streak} for s in rows])

    @app.post("/api/reset")
    def reset():
        progress.reset()
        return jsonify(ok=True)

    return app
