"""Not a test: one digest of everything exgen writes per topic x variant x difficulty, to show that a change
meant to make exgen faster (issue 12) changed no byte of its output.

    python benchmarks/output_digest.py --save before.json          # on the old code
    python benchmarks/output_digest.py --compare before.json       # on the new code: lists every row that differs

Each row hashes, for --seeds seeds, the problem's key record (givens, parts, steps, shown, as key.json writes
it) and its question and worked solution in every format.  The goldens pin a few sheets byte for byte; this
covers every variant at every difficulty, far more instances than a test can afford to store.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from exgen.generate import generate  # noqa: E402
from exgen.manifest import dumps_indented  # noqa: E402
from exgen.render import FORMATS, Renderer  # noqa: E402
from exgen.topics import TOPIC_NAMES, get  # noqa: E402
from exgen.topics.base import DIFFICULTIES  # noqa: E402


def digests(topics: list[str], seeds: int) -> dict[str, str]:
    renderers = [Renderer(fmt) for fmt in FORMATS]
    rows = {}
    for topic in topics:
        for variant in get(topic).variants:
            for difficulty in DIFFICULTIES:
                h = hashlib.sha256()
                for seed in range(seeds):
                    problem = generate(topic, variant.name, difficulty, seed)
                    h.update(dumps_indented(problem.to_dict()).encode())
                    for r in renderers:
                        h.update(r.question(problem).encode())
                        h.update(r.solution(problem).encode())
                rows[f"{topic}/{variant.name}/{difficulty}"] = h.hexdigest()[:16]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", action="append", help="only these topics (repeatable); default: all")
    parser.add_argument("--seeds", type=int, default=100, help="instances per row")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path)
    group.add_argument("--compare", type=Path)
    args = parser.parse_args()
    rows = digests(args.topic or list(TOPIC_NAMES), args.seeds)
    if args.save:
        args.save.write_text(json.dumps(rows, indent=1) + "\n")
        print(f"{len(rows)} rows saved to {args.save}")
        return
    before = json.loads(args.compare.read_text())
    differ = [row for row in rows if row in before and before[row] != rows[row]]
    missing = [row for row in rows if row not in before]
    for row in differ:
        print(f"DIFFERS  {row}")
    for row in missing:
        print(f"new      {row}")
    print(f"{len(rows) - len(differ) - len(missing)} of {len(rows)} rows identical")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
