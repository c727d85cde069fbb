"""Benchmark how fast painclf starts: `painclf --help`, `--version`, `import classifier` and a
first `predict`, each in a fresh process, against baselines timed in the same run.

The baselines are the bare interpreter (`python -c pass`), `import sklearn`, `import typer`
(the floor of any typer CLI) and importing everything the CLI used to import up front
(`classifier.batch`, spaCy, scikit-learn, pandas), so the numbers can be read on any machine.
The commands take turns, one run of each per round. The aim of issue 9 is `painclf --help`
in at most 0.5 s; that of issue 10 a cold start (`python -c "from classifier import predict;
predict('x')"`: import, model load, first answer) within 1.5 times `python -c "import
sklearn"`. It prints a table and writes JSON; it asserts nothing.

    python benchmarks/bench_startup.py            # 15 runs of each
    python benchmarks/bench_startup.py --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
COLD_START = "first predict (shipped model)"
SKLEARN = "baseline: import sklearn"
# Issue 10: import + model load + first answer within 1.5 times `import sklearn`.
AIM_COLD_START_VS_SKLEARN = 1.5


def commands() -> dict[str, list[str]]:
    python = sys.executable
    painclf = shutil.which("painclf") or str(Path(python).with_name("painclf"))
    return {
        "baseline: python -c pass": [python, "-c", "pass"],
        "baseline: import sklearn": [python, "-c", "import sklearn"],
        "baseline: import typer": [python, "-c", "import typer"],
        "baseline: eager imports (old painclf --help)": [
            python,
            "-c",
            "import typer, classifier.batch, classifier.predict, classifier.lifecycle, "
            "classifier.train",
        ],
        "painclf --help": [painclf, "--help"],
        "painclf --version": [painclf, "--version"],
        "import classifier": [python, "-c", "import classifier"],
        COLD_START: [python, "-c", "from classifier import predict; predict('x')"],
    }


def time_commands(
    commands: dict[str, list[str]], runs: int, env: dict[str, str]
) -> dict[str, list[float]]:
    """Seconds of each run of each command. The commands take turns (one run of each, then
    the next round), so a burst of load from other programs falls on all of them alike."""
    for argv in commands.values():
        subprocess.run(argv, capture_output=True, env=env, check=True)  # warm the file cache
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, capture_output=True, env=env, check=True)
            times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as empty:
        # An empty registry: the first predict uses the shipped model, as on a fresh clone.
        env = {**os.environ, "PAINCLF_MODELS_DIR": empty}
        timings = time_commands(commands(), args.runs, env)
    rows = [
        {
            "what": name,
            "median_s": statistics.median(times),
            "min_s": min(times),
            "max_s": max(times),
        }
        for name, times in timings.items()
    ]
    print(f"{'what':<46} {'median':>8} {'min':>8} {'max':>8}   ({args.runs} runs each)")
    for row in rows:
        print(
            f"{row['what']:<46} {row['median_s']:>7.3f}s {row['min_s']:>7.3f}s "
            f"{row['max_s']:>7.3f}s"
        )
    median = {row["what"]: row["median_s"] for row in rows}
    cold, sklearn = median[COLD_START], median[SKLEARN]
    print(
        f"cold start (import + load + first answer) / import sklearn: {cold / sklearn:.2f}x "
        f"(aim: at most {AIM_COLD_START_VS_SKLEARN}x)"
    )
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    print(f"machine: {machine}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "startup.json"
    report = {
        "machine": machine,
        "runs": args.runs,
        "rows": rows,
        "cold_start_vs_import_sklearn": cold / sklearn,
    }
    out.write_text(json.dumps(report, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
