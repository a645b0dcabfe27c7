"""Benchmark (not a test): the full `exgen stress` run over every topic, variant and difficulty.

    python benchmarks/bench_stress.py [--n 1000] [--jobs 1]

Runs `exgen stress --n N --json` in a fresh process and prints the wall time, the mean generation time per
instance, and the failing rows (issue 9's "done when": none, exit 0, at --n 1000).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "exgen", "stress", "--n", str(args.n), "--jobs", str(args.jobs),
                          "--json"], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    rows = json.loads(run.stdout)
    failing = [r for r in rows if r["failures"]]
    generation = sum(r["seconds_per_instance"] * r["instances"] for r in rows)
    print(f"exgen stress --n {args.n} --jobs {args.jobs}: {seconds:.0f} s wall, exit {run.returncode}; "
          f"{len(rows)} rows, {sum(r['instances'] for r in rows)} instances, generation {generation:.0f} s "
          f"({generation / max(sum(r['instances'] for r in rows), 1) * 1000:.2f} ms per instance)")
    print(f"{len(rows) - len(failing)} of {len(rows)} rows pass")
    for r in failing:
        print(f"  {r['topic']} {r['variant']} {r['difficulty']}: " + "; ".join(r["failures"]))


if __name__ == "__main__":
    main()
