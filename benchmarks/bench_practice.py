"""Benchmark (not a test): server time of `exgen practice` requests, through Flask's test client.

    python benchmarks/bench_practice.py [--n 200]

Reports the first /api/problem (imports, template compilation) and then the median and 95th percentile of
drawing a new problem and of checking a full set of answers, for every topic (issue 15: a new problem in
under 50 ms of server time after the first).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from exgen.practice.app import create_app
from exgen.topics import TOPIC_NAMES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        client = create_app(Path(tmp) / "progress.sqlite").test_client()
        start = time.perf_counter()
        client.post("/api/problem", json={"topics": ["quantization"]})
        print(f"first problem: {(time.perf_counter() - start) * 1000:.0f} ms")
        print(f"{'topic':<14} {'problem p50':>12} {'p95':>8} {'check p50':>10} {'p95':>8}  (ms)")
        for topic in TOPIC_NAMES:
            draw, check = [], []
            for _ in range(args.n):
                t0 = time.perf_counter()
                data = client.post("/api/problem", json={"topics": [topic]}).get_json()
                t1 = time.perf_counter()
                answers = {p["id"]: "1" for p in data["parts"]}
                client.post("/api/check", json={"problem": data["problem"], "answers": answers})
                t2 = time.perf_counter()
                draw.append((t1 - t0) * 1000)
                check.append((t2 - t1) * 1000)
            q = lambda xs: statistics.quantiles(xs, n=20)[18]  # noqa: E731 — the 95th percentile
            print(f"{topic:<14} {statistics.median(draw):>12.1f} {q(draw):>8.1f} {statistics.median(check):>10.1f} "
                  f"{q(check):>8.1f}")


if __name__ == "__main__":
    main()
