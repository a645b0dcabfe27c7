"""Benchmark (not a test): how fast exgen starts, makes worksheets, and verifies keys.

    python benchmarks/bench_make.py [--topic quantization] [--repeat 5]

Reports the wall time of `exgen make --topic T --n 10` as a user runs it (a fresh process, median of
--repeat runs), `exgen --help`, and problems per second for `--n 1000` (fresh process, output discarded).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def wall(args: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "exgen", *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", default="quantization")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    t = args.topic
    print(f"exgen --help                          {wall(['--help'], args.repeat) * 1000:7.0f} ms")
    print(f"exgen make --topic {t} --n 10   {wall(['make', '--topic', t, '--n', '10', '--seed', '1'], args.repeat) * 1000:7.0f} ms")
    for difficulty in ("easy", "medium", "hard"):
        seconds = wall(["make", "--topic", t, "--n", "1000", "--seed", "1", "--difficulty", difficulty], 1)
        print(f"exgen make --n 1000 ({difficulty:<6})          {1000 / seconds:7.0f} problems/s  ({seconds:.2f} s)")


if __name__ == "__main__":
    main()
