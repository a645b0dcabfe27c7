"""The exam spec: a YAML file a TA writes (see examples/midterm.yaml), validated once on entry.

Every mistake is reported as one line naming the file and the YAML line it is on, before anything is
built or written: the document is composed into YAML *nodes* (which carry their start mark) and checked
field by field against the schema below.  Aliases are refused, the file size is bounded, unknown fields
are errors (with a suggestion), and every number is bounded.

    title: Midterm            # required; everything else has a default
    course: ...; date: ...; duration: 75 minutes; instructions: |- ...
    seed: 2026                # versions A, B, ... derive their problems from it
    shuffle: false            # shuffle the problem order of each version (or student)
    difficulty: easy          # default for the sections
    choices: 4                # options per multiple-choice part
    sections:
      - topic: quantization
        variants: [affine]    # or `variant: affine`; omitted: drawn per problem (the same for every version)
        count: 1
        points_per_part: 2    # or `points: 10` for the whole problem, split over its parts
        answer: choice        # entries (default) or choice; or `choice_parts: [scale]` for some parts only
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_SPEC_BYTES = 256 * 1024
MAX_SECTIONS = 30
MAX_COUNT = 20
MAX_TEXT = 2000
MAX_POINTS = 1000
ANSWER_MODES = ("entries", "choice")

TOP_FIELDS = ("title", "course", "date", "duration", "instructions", "seed", "shuffle", "difficulty", "choices",
              "sections")
SECTION_FIELDS = ("topic", "variant", "variants", "difficulty", "count", "points", "points_per_part", "answer",
                  "choice_parts")


class SpecError(ValueError):
    """A spec that cannot be built; the message names the file and line."""


@dataclass(frozen=True)
class Section:
    topic: str
    variants: tuple[str, ...]       # empty: drawn per problem from the exam seed
    difficulty: str
    count: int
    points: float | None            # for the whole problem (split over its parts) ...
    points_per_part: float | None   # ... or for each part: exactly one is set
    answer: str                     # "entries" or "choice" (every part)
    choice_parts: tuple[str, ...]   # parts asked as a choice when answer is "entries"
    line: int                       # where the section starts in the spec (for later messages)

    def asks_choice(self, part_id: str) -> bool:
        return self.answer == "choice" or part_id in self.choice_parts


@dataclass(frozen=True)
class ExamSpec:
    title: str
    course: str
    date: str
    duration: str
    instructions: str
    seed: int
    shuffle: bool
    choices: int
    sections: tuple[Section, ...]
    source: str = "<spec>"

    def to_dict(self) -> dict[str, Any]:
        """The spec as recorded in the key's meta (JSON-able)."""
        from dataclasses import asdict

        d = asdict(self)
        d.pop("source")
        return d


class _Reader:
    """Turns YAML nodes into checked values; every error names the node's line."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: Any, message: str) -> SpecError:
        line = node.start_mark.line + 1 if node is not None else 1
        return SpecError(f"{self.source}, line {line}: {message}")

    def mapping(self, node: Any, what: str, allowed: tuple[str, ...]) -> dict[str, tuple[Any, Any]]:
        """{field: (key node, value node)}, refusing unknown and repeated fields."""
        import yaml

        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping of fields (field: value)")
        out: dict[str, tuple[Any, Any]] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name not in allowed:
                close = difflib.get_close_matches(str(name), allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f" (fields: {', '.join(allowed)})"
                raise self.fail(key, f"unknown field {str(name)[:40]!r} in {what}{hint}")
            if name in out:
                raise self.fail(key, f"field {name!r} appears twice in {what}")
            out[name] = (key, value)
        return out

    def scalar(self, node: Any, name: str) -> Any:
        import yaml

        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, f"{name} must be a single value, not a list or mapping")
        return yaml.SafeLoader("").construct_object(node)

    def text(self, node: Any, name: str) -> str:
        value = self.scalar(node, name)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) and not hasattr(value, "isoformat"):
            raise self.fail(node, f"{name} must be text")
        value = str(value)
        if len(value) > MAX_TEXT or any(ord(c) < 32 and c not in "\n\t" for c in value):
            raise self.fail(node, f"{name} is longer than {MAX_TEXT} characters or contains control characters")
        return value

    def integer(self, node: Any, name: str, low: int, high: int) -> int:
        value = self.scalar(node, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(node, f"{name} must be a whole number from {low} to {high}")
        return value

    def points(self, node: Any, name: str) -> float:
        value = self.scalar(node, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(node, f"{name} must be a number of points")
        if value <= 0:
            raise self.fail(node, f"{name} must be positive (got {value})")
        if value > MAX_POINTS or (2 * value) != int(2 * value):
            raise self.fail(node, f"{name} must be whole or half points up to {MAX_POINTS} (the exam class counts "
                                  f"halves), got {value}")
        return float(value)

    def names(self, node: Any, name: str) -> list[tuple[str, Any]]:
        """A name or a list of names, each with its node."""
        import yaml

        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if not items:
            raise self.fail(node, f"{name} is empty")
        return [(self.text(item, name), item) for item in items]


def parse_spec(text: str, source: str = "<spec>") -> ExamSpec:
    """A validated exam spec from YAML text; SpecError names the line of the first mistake."""
    import yaml

    from exgen.topics import TOPIC_NAMES, get
    from exgen.topics.base import DIFFICULTIES

    r = _Reader(source)
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):  # an alias could expand a small file hugely
            if isinstance(event, yaml.AliasEvent):
                raise r.fail(event, "YAML aliases (*name) are not allowed in an exam spec")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        raise SpecError(f"{source}, line {mark.line + 1 if mark else 1}: not readable YAML "
                        f"({getattr(e, 'problem', None) or e})") from None
    if root is None:
        raise SpecError(f"{source}: the spec is empty")
    top = r.mapping(root, "the exam", TOP_FIELDS)
    if "title" not in top:
        raise r.fail(root, "the exam needs a title")
    if "sections" not in top:
        raise r.fail(root, "the exam needs sections (a list, each naming a topic)")

    def text_field(name: str, default: str = "") -> str:
        return r.text(top[name][1], name) if name in top else default

    difficulty = text_field("difficulty", "easy")
    if difficulty not in DIFFICULTIES:
        raise r.fail(top["difficulty"][1], f"difficulty must be one of {', '.join(DIFFICULTIES)}, not {difficulty!r}")
    seed = r.integer(top["seed"][1], "seed", 0, 2**32 - 1) if "seed" in top else 0
    choices = r.integer(top["choices"][1], "choices", 2, 6) if "choices" in top else 4
    shuffle = False
    if "shuffle" in top:
        shuffle = r.scalar(top["shuffle"][1], "shuffle")
        if not isinstance(shuffle, bool):
            raise r.fail(top["shuffle"][1], "shuffle must be true or false")

    sections_node = top["sections"][1]
    if not isinstance(sections_node, yaml.SequenceNode) or not sections_node.value:
        raise r.fail(sections_node, "sections must be a non-empty list (each item: topic, count, points, ...)")
    if len(sections_node.value) > MAX_SECTIONS:
        raise r.fail(sections_node, f"at most {MAX_SECTIONS} sections")
    sections = []
    for node in sections_node.value:
        f = r.mapping(node, "a section", SECTION_FIELDS)
        if "topic" not in f:
            raise r.fail(node, "a section needs a topic")
        topic = r.text(f["topic"][1], "topic")
        if topic not in TOPIC_NAMES:
            close = difflib.get_close_matches(topic, TOPIC_NAMES, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"topics: {', '.join(TOPIC_NAMES)}"
            raise r.fail(f["topic"][1], f"unknown topic {topic[:40]!r} ({hint})")
        if "variant" in f and "variants" in f:
            raise r.fail(f["variants"][0], "give variant or variants, not both")
        variants: list[str] = []
        for field in ("variant", "variants"):
            for name, vnode in r.names(f[field][1], field) if field in f else ():
                try:
                    get(topic).variant(name)
                except KeyError as e:
                    raise r.fail(vnode, e.args[0]) from None
                variants.append(name)
        level = r.text(f["difficulty"][1], "difficulty") if "difficulty" in f else difficulty
        if level not in DIFFICULTIES:
            raise r.fail(f["difficulty"][1], f"difficulty must be one of {', '.join(DIFFICULTIES)}, not {level!r}")
        count = r.integer(f["count"][1], "count", 1, MAX_COUNT) if "count" in f else 1
        if "points" in f and "points_per_part" in f:
            raise r.fail(f["points_per_part"][0], "give points (per problem) or points_per_part, not both")
        points = r.points(f["points"][1], "points") if "points" in f else None
        per_part = r.points(f["points_per_part"][1], "points_per_part") if "points_per_part" in f else None
        if points is None and per_part is None:
            per_part = 1.0
        answer = r.text(f["answer"][1], "answer") if "answer" in f else "entries"
        if answer not in ANSWER_MODES:
            raise r.fail(f["answer"][1], f"answer must be one of {', '.join(ANSWER_MODES)}, not {answer!r}")
        choice_parts = tuple(name for name, _ in r.names(f["choice_parts"][1], "choice_parts")) \
            if "choice_parts" in f else ()
        sections.append(Section(topic, tuple(variants), level, count, points, per_part, answer, choice_parts,
                                node.start_mark.line + 1))
    return ExamSpec(title=text_field("title"), course=text_field("course"), date=text_field("date"),
                    duration=text_field("duration"), instructions=text_field("instructions"), seed=seed,
                    shuffle=shuffle, choices=choices, sections=tuple(sections), source=source)


def read_spec(path: Path) -> ExamSpec:
    """Read and validate a spec file (UTF-8, at most MAX_SPEC_BYTES)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_SPEC_BYTES + 1)
    except OSError as e:
        raise SpecError(f"cannot read exam spec {path}: {e.strerror or e}") from None
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError(f"{path}: larger than {MAX_SPEC_BYTES // 1024} KiB; an exam spec is small")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text") from None
    return parse_spec(text, str(path))
