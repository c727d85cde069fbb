"""Benchmark the peak memory of ``predict_many`` and ``predict_iter`` at 10k, 100k and 1M texts,
against the word TF-IDF + logistic regression baseline, each run in a fresh process.

For every size and mode a new interpreter loads the model, makes the generated
tickets and classifies them; it reports its peak resident memory (``VmHWM`` from
``/proc/self/status``: the high-water mark of this process alone, which, unlike
``ru_maxrss``, a child does not inherit from the script that started it), the memory
it held before classifying (model and input loaded), and the time.

Modes:

- ``predict_many``: the texts as one list (as ``predict_many(df.text)`` gets them),
  all ``Prediction`` objects returned in one list, which is kept until the end;
- ``predict_iter``: the texts generated as a stream (10,000 at a time) and each
  ``Prediction`` dropped once counted: what a stream written out as it goes costs;
- ``tfidf-logreg``: the baseline's ``predict_proba`` on the same list, in chunks of
  10,000 (probabilities kept, as painclf's predictions are kept).

It prints a table and writes JSON; it never asserts anything about the numbers.

    python benchmarks/bench_memory.py                      # 10k, 100k and 1M texts
    python benchmarks/bench_memory.py --sizes 10000 100000 # a shorter run
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

try:
    from generate import generate_tickets
except ModuleNotFoundError:  # imported by pytest (--import-mode=importlib), not run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from generate import generate_tickets

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "memory.json"
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
MODES = ("predict_many", "predict_iter", "tfidf-logreg")
GENERATE_BATCH = 10_000
BASELINE_CHUNK_SIZE = 10_000


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def rss_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process in MB, from /proc/self/status."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KB


def ticket_stream(n: int, seed: int) -> Iterator[str]:
    """``n`` generated tickets, made ``GENERATE_BATCH`` at a time (consecutive seeds)."""
    for batch, start in enumerate(range(0, n, GENERATE_BATCH)):
        yield from generate_tickets(min(GENERATE_BATCH, n - start), seed=seed + batch)


def measure_in_this_process(mode: str, n: int, seed: int, baseline: Path | None) -> dict[str, Any]:
    """Load, generate, classify; return this process's figures (run in a fresh process)."""
    started = time.perf_counter()
    if mode == "tfidf-logreg":
        assert baseline is not None
        pipeline = pickle.loads(baseline.read_bytes())  # written by this script just now
    else:
        from classifier.predict import get_classifier

        classifier = get_classifier()
    loaded_mb = rss_mb("VmRSS")
    texts: Any = ticket_stream(n, seed) if mode == "predict_iter" else list(ticket_stream(n, seed))
    held_mb = rss_mb("VmRSS")
    start = time.perf_counter()
    if mode == "predict_many":
        results = classifier.predict_many(texts)
        count = len(results)
    elif mode == "predict_iter":
        # Each prediction is dropped once counted, as a stream written out as it goes.
        count = sum(1 for _ in classifier.predict_iter(texts))
    else:
        results = [
            pipeline.predict_proba(texts[begin : begin + BASELINE_CHUNK_SIZE])
            for begin in range(0, n, BASELINE_CHUNK_SIZE)
        ]
        count = sum(len(r) for r in results)
    seconds = time.perf_counter() - start
    return {
        "mode": mode,
        "texts": n,
        "classified": count,
        "loaded_mb": round(loaded_mb, 1),
        "input_held_mb": round(held_mb, 1),
        "peak_mb": round(rss_mb("VmHWM"), 1),
        "end_mb": round(rss_mb("VmRSS"), 1),
        "classify_seconds": round(seconds, 2),
        "texts_per_s": round(n / seconds, 1) if seconds > 0 else None,
        "process_seconds": round(time.perf_counter() - started, 2),
    }


def train_baseline(folder: Path) -> Path:
    """The TF-IDF baseline trained on ``data/seed``, pickled for the measuring processes."""
    from classifier.baselines import train_tfidf_baseline
    from classifier.config import SEED_DIR
    from classifier.dataset import load_labeled

    frame, _, _ = load_labeled([SEED_DIR])
    path = folder / "tfidf.pkl"
    model = train_tfidf_baseline(frame["text"].tolist(), frame["label"].tolist())
    path.write_bytes(pickle.dumps(model))
    return path


def run(sizes: Sequence[int], modes: Sequence[str], seed: int) -> dict[str, Any]:
    """Every size and mode in its own fresh process; return the figures."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_memory.") as folder:
        baseline = train_baseline(Path(folder)) if "tfidf-logreg" in modes else None
        for n in sizes:
            for mode in modes:
                say(f"{mode}: {n:,} texts...")
                command = [sys.executable, str(Path(__file__).resolve()), "_measure", mode]
                command += [str(n), str(seed), str(baseline or "")]
                result = subprocess.run(command, capture_output=True, text=True, env=os.environ)
                if result.returncode != 0:
                    say(result.stderr[-2000:])
                    rows.append({"mode": mode, "texts": n, "exit_code": result.returncode})
                    continue
                rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
    first = {row["mode"]: row for row in rows if row["texts"] == min(sizes) and "peak_mb" in row}
    for row in rows:
        base = first.get(row["mode"])
        if base is not None and "peak_mb" in row:
            row["peak_vs_smallest"] = round(row["peak_mb"] / base["peak_mb"], 2)
    from bench_predict import machine_facts

    return {
        "benchmark": "memory",
        "machine": machine_facts(),
        "settings": {"sizes": list(sizes), "seed": seed, "memory": "VmHWM of the process"},
        "results": rows,
    }


def format_table(report: dict[str, Any]) -> str:
    header = (
        f"{'mode':<14} {'texts':>10} {'peak MB':>8} {'x smallest':>10} {'model MB':>9} "
        f"{'+input MB':>9} {'texts/s':>8} {'seconds':>8}"
    )
    lines = [header, "-" * len(header)]
    for row in report["results"]:
        if "peak_mb" not in row:
            lines.append(f"{row['mode']:<14} {row['texts']:>10,} exit {row.get('exit_code')}")
            continue
        lines.append(
            f"{row['mode']:<14} {row['texts']:>10,} {row['peak_mb']:>8.0f} "
            f"{row.get('peak_vs_smallest', 0):>9.2f}x {row['loaded_mb']:>9.0f} "
            f"{row['input_held_mb'] - row['loaded_mb']:>9.0f} {row['texts_per_s'] or 0:>8,.0f} "
            f"{row['classify_seconds']:>8.1f}"
        )
    machine = report["machine"]
    lines.append(
        f"\n{machine['nproc']} CPUs ({machine['cpu_model']}), Python {machine['python']}; "
        "peak MB: VmHWM of the measuring process; model MB: RSS after loading; "
        "+input MB: what the input list adds (0 for the stream)"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_measure"]:  # a measuring subprocess started by `run`
        mode, n, seed, baseline = argv[1], int(argv[2]), int(argv[3]), argv[4]
        figures = measure_in_this_process(mode, n, seed, Path(baseline) if baseline else None)
        print(json.dumps(figures))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=RESULTS_FILE)
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.sizes):
        parser.error("--sizes must be positive")
    report = run(args.sizes, args.modes, args.seed)
    print(format_table(report))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    say(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
