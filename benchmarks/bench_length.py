"""Benchmark how analysis time grows with the length of one text, for the worst inputs known.

For each hostile pattern of issue 7 (a "<" followed by spaces, runs of "!", "&", "'",
quotes, brackets, alternating punctuation, emoji) and, as the baseline in the same run,
ordinary English prose, it times ``analyze_many([text])`` (cleaning, normalisation,
tokenizer, cue matcher, ConText, durations: the whole per-row path) at 1,000, 10,000
and 20,000 characters, and prints milliseconds and the growth exponent ``k`` in
``time ~ length**k`` between 1k and 20k: 1 is linear, 2 quadratic. The row budget is
switched off, so a slow pattern shows its real time. It never asserts the numbers.

    python benchmarks/bench_length.py            # best of 5 runs per point
    python benchmarks/bench_length.py --quick    # best of 2
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from collections.abc import Callable
from pathlib import Path

from classifier.analysis import analyze_many

LENGTHS = (1_000, 10_000, 20_000)
PROSE = (
    "My lower back has been sore since I moved the couch on Saturday, and it is worse "
    "when I bend over to tie my shoes. No numbness, just a dull ache. "
)
PATTERNS: dict[str, Callable[[int], str]] = {
    "prose (baseline)": lambda n: (PROSE * (n // len(PROSE) + 1))[:n],
    "'<' + spaces (HTML tag regex)": lambda n: "<" + " " * (n - 1),
    "'!' run": lambda n: "!" * n,
    "'&' run": lambda n: "&" * n,
    '"\'" run': lambda n: "'" * n,
    "'\"' run": lambda n: '"' * n,
    "'(' run": lambda n: "(" * n,
    "'!?' alternating": lambda n: "!?" * (n // 2),
    "emoji run": lambda n: "😀" * n,
    "prose with a '!' run": lambda n: PROSE + "!" * (n - 2 * len(PROSE)) + PROSE,
}


def time_once(text: str) -> float:
    started = time.perf_counter()
    analyze_many([text], budget_seconds=None)
    return time.perf_counter() - started


def measure(repeats: int) -> list[dict[str, object]]:
    analyze_many(["warm up the pipeline: my back is sore"], budget_seconds=None)
    rows = []
    for name, make in PATTERNS.items():
        times = {n: min(time_once(make(n)) for _ in range(repeats)) for n in LENGTHS}
        first, last = LENGTHS[0], LENGTHS[-1]
        exponent = math.log(max(times[last], 1e-9) / max(times[first], 1e-9)) / math.log(
            last / first
        )
        rows.append(
            {
                "pattern": name,
                **{f"ms_{n}": round(1000 * t, 2) for n, t in times.items()},
                "growth_exponent": round(exponent, 2),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="best of 2 instead of 5")
    parser.add_argument("--json", type=Path, help="also write the table as JSON here")
    args = parser.parse_args()
    rows = measure(2 if args.quick else 5)
    baseline = rows[0]
    print(f"analysis time per text ({platform.python_version()}, {platform.machine()})")
    header = f"{'pattern':<32}" + "".join(f"{f'{n:,} ch ms':>13}" for n in LENGTHS)
    print(header + f"{'k':>7}{'20k vs prose':>14}")
    for row in rows:
        cells = "".join(f"{row[f'ms_{n}']:>13.2f}" for n in LENGTHS)
        ratio = float(row[f"ms_{LENGTHS[-1]}"]) / max(float(baseline[f"ms_{LENGTHS[-1]}"]), 1e-6)
        print(f"{row['pattern']:<32}{cells}{row['growth_exponent']:>7.2f}{ratio:>13.2f}x")
    print("k: exponent of time ~ length**k between 1k and 20k characters (1 linear, 2 quadratic)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
