"""Benchmark how fast painclf starts: `painclf --help`, `--version`, `import classifier` and a
first `predict`, each in a fresh process, against baselines timed in the same run.

The baselines are the bare interpreter (`python -c pass`), `import typer` (the floor of any
typer CLI) and importing everything the CLI used to import up front (`classifier.batch`,
spaCy, scikit-learn, pandas), so the numbers can be read on any machine. The aim of issue 9
is `painclf --help` in at most 0.5 s. It prints a table and writes JSON; it asserts nothing.

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


def commands() -> dict[str, list[str]]:
    python = sys.executable
    painclf = shutil.which("painclf") or str(Path(python).with_name("painclf"))
    return {
        "baseline: python -c pass": [python, "-c", "pass"],
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
        "first predict (shipped model)": [
            python,
            "-c",
            "from classifier import predict; predict('my back is sore after squats')",
        ],
    }


def time_command(argv: list[str], runs: int, env: dict[str, str]) -> list[float]:
    subprocess.run(argv, capture_output=True, env=env, check=True)  # warm the file cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, env=env, check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as empty:
        # An empty registry: the first predict uses the shipped model, as on a fresh clone.
        env = {**os.environ, "PAINCLF_MODELS_DIR": empty}
        rows = []
        for name, argv in commands().items():
            times = time_command(argv, args.runs, env)
            rows.append(
                {
                    "what": name,
                    "median_s": statistics.median(times),
                    "min_s": min(times),
                    "max_s": max(times),
                }
            )
    print(f"{'what':<46} {'median':>8} {'min':>8} {'max':>8}   ({args.runs} runs each)")
    for row in rows:
        print(
            f"{row['what']:<46} {row['median_s']:>7.3f}s {row['min_s']:>7.3f}s "
            f"{row['max_s']:>7.3f}s"
        )
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    print(f"machine: {machine}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "startup.json"
    out.write_text(json.dumps({"machine": machine, "runs": args.runs, "rows": rows}, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
