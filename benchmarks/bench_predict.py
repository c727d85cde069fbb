"""Benchmark prediction speed of painclf against its two baselines, on one machine and one set of
generated tickets.

For each model it measures the warm latency of classifying one text (median and
95th percentile over many different texts, after a warm-up) and the throughput of
classifying many texts at once (texts per second, in chunks). It prints a table
and writes it as JSON; it never asserts anything about the numbers.

    python benchmarks/bench_predict.py            # 100,000 texts, 1,000 latency calls
    python benchmarks/bench_predict.py --quick    # smoke run: 5,000 texts, 200 calls
    python benchmarks/bench_predict.py --large    # 200,000 texts (the issue's throughput aim)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from classifier.baselines import TextcatBaseline, TfidfBaseline
from classifier.config import SEED_DIR
from classifier.dataset import load_labeled
from classifier.predict import get_classifier

try:
    from generate import generate_tickets
except ModuleNotFoundError:  # imported by pytest (--import-mode=importlib), not run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from generate import generate_tickets

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "predict.json"
FULL = {"n": 100_000, "latency_calls": 1000, "warmup": 100}
QUICK = {"n": 5000, "latency_calls": 200, "warmup": 20}
LARGE_N = 200_000  # --large: the throughput aim is stated for 200,000 texts
DEFAULT_CHUNK_SIZE = 10_000
REFERENCE = "tfidf-logreg"
# Issue 10's latency aim is for one short text: these, cycled, after the same warm-up.
SHORT_TEXTS = (
    "my back is sore after squats",
    "sore quads after leg day",
    "lower back hurts",
    "can't log in to the app",
    "sharp pain down my leg",
    "neck stiff since yesterday",
    "how do I cancel?",
    "my hamstrings are killing me",
    "numbness in my foot",
    "is soreness normal?",
)


@dataclass(frozen=True)
class Candidate:
    """A model to time: how it classifies one text, and how it classifies a chunk of texts."""

    name: str
    predict_one: Callable[[str], Any]
    predict_chunk: Callable[[list[str]], Any]


@dataclass(frozen=True)
class Timing:
    """One model's numbers."""

    model: str
    predict_median_ms: float
    predict_p95_ms: float
    short_median_ms: float
    latency_calls: int
    predict_many_texts_per_s: float
    predict_many_seconds: float
    predict_many_texts: int
    predict_many_us_per_text: float
    latency_vs_tfidf: float | None = None
    throughput_vs_tfidf: float | None = None


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, or the platform's guess elsewhere."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_facts() -> dict[str, Any]:
    """The facts to quote next to any number this script prints."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": usable,
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {
            name: version(name) for name in ("spacy", "scikit-learn", "numpy", "scipy", "thinc")
        },
    }


def time_latency(
    predict_one: Callable[[str], Any], texts: Sequence[str], warmup: int
) -> np.ndarray:
    """Milliseconds per call, one call per text in ``texts[warmup:]``, after ``warmup`` calls."""
    for text in texts[:warmup]:
        predict_one(text)
    gc.collect()
    timings = []
    for text in texts[warmup:]:
        start = time.perf_counter_ns()
        predict_one(text)
        timings.append(time.perf_counter_ns() - start)
    return np.asarray(timings, dtype=float) / 1e6


def time_throughput(
    predict_chunk: Callable[[list[str]], Any], texts: Sequence[str], chunk_size: int
) -> float:
    """Seconds to classify all ``texts``, ``chunk_size`` at a time (results are dropped)."""
    gc.collect()
    start = time.perf_counter()
    for begin in range(0, len(texts), chunk_size):
        predict_chunk(list(texts[begin : begin + chunk_size]))
    return time.perf_counter() - start


def candidates(model: str | None, seed: int) -> list[Candidate]:
    """painclf and the baselines, trained on the seed data, ready to time."""
    say("loading painclf (trains the default model first if there is none)...")
    classifier = get_classifier(model)
    say(f"painclf model {classifier.version}; training the baselines on {SEED_DIR}...")
    frame, _, _ = load_labeled([SEED_DIR])
    texts, labels = frame["text"].tolist(), frame["label"].tolist()
    pipeline = TfidfBaseline.train(texts, labels).pipeline
    textcat = TextcatBaseline.train(texts, labels, seed=seed)
    nlp, batch_size = textcat.nlp, textcat.batch_size
    return [
        Candidate(f"painclf {classifier.version}", classifier.predict, classifier.predict_many),
        Candidate(
            REFERENCE,
            lambda text: pipeline.predict_proba([text]),
            pipeline.predict_proba,
        ),
        Candidate(
            textcat.name,
            lambda text: nlp(text).cats,
            lambda chunk: [doc.cats for doc in nlp.pipe(chunk, batch_size=batch_size)],
        ),
    ]


def run(
    n: int,
    latency_calls: int,
    warmup: int,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    seed: int = 0,
    model: str | None = None,
) -> dict[str, Any]:
    """Time every candidate; return the machine facts, settings and timings."""
    models = candidates(model, seed)
    say(f"generating {n} tickets (seed {seed})...")
    texts = generate_tickets(n, seed=seed)
    # Latency texts come from another seed, so no timed call repeats a warm-up text.
    latency_texts = generate_tickets(warmup + latency_calls, seed=seed + 1)
    timings: list[Timing] = []
    for candidate in models:
        say(f"{candidate.name}: {latency_calls} single-text calls...")
        latencies = time_latency(candidate.predict_one, latency_texts, warmup)
        short_texts = [SHORT_TEXTS[i % len(SHORT_TEXTS)] for i in range(warmup + latency_calls)]
        short = time_latency(candidate.predict_one, short_texts, warmup)
        say(f"{candidate.name}: {n} texts in chunks of {chunk_size}...")
        seconds = time_throughput(candidate.predict_chunk, texts, chunk_size)
        timings.append(
            Timing(
                model=candidate.name,
                predict_median_ms=float(np.median(latencies)),
                predict_p95_ms=float(np.percentile(latencies, 95)),
                short_median_ms=float(np.median(short)),
                latency_calls=len(latencies),
                predict_many_texts_per_s=n / seconds if seconds > 0 else float("inf"),
                predict_many_seconds=seconds,
                predict_many_texts=n,
                predict_many_us_per_text=seconds / n * 1e6,
            )
        )
    reference = next(t for t in timings if t.model == REFERENCE)
    timings = [
        Timing(
            **{
                **asdict(t),
                "latency_vs_tfidf": t.predict_median_ms / reference.predict_median_ms,
                "throughput_vs_tfidf": t.predict_many_texts_per_s
                / reference.predict_many_texts_per_s,
            }
        )
        for t in timings
    ]
    return {
        "benchmark": "predict",
        "machine": machine_facts(),
        "settings": {
            "n": n,
            "latency_calls": latency_calls,
            "warmup": warmup,
            "chunk_size": chunk_size,
            "seed": seed,
        },
        "results": [asdict(t) for t in timings],
    }


def format_table(report: dict[str, Any]) -> str:
    """The timings as a fixed-width text table."""
    header = (
        f"{'model':<28} {'predict median ms':>17} {'p95 ms':>8} {'short ms':>8} "
        f"{'predict_many texts/s':>20} {'us/text':>8} {'throughput vs tfidf':>19}"
    )
    lines = [header, "-" * len(header)]
    for row in report["results"]:
        lines.append(
            f"{row['model']:<28} {row['predict_median_ms']:>17.3f} {row['predict_p95_ms']:>8.3f} "
            f"{row['short_median_ms']:>8.3f} "
            f"{row['predict_many_texts_per_s']:>20,.0f} {row['predict_many_us_per_text']:>8.1f} "
            f"{row['throughput_vs_tfidf']:>18.3f}x"
        )
    machine = report["machine"]
    settings = report["settings"]
    lines.append(
        f"\n{settings['n']:,} texts, {settings['latency_calls']} latency calls; "
        f"{machine['nproc']} CPUs ({machine['cpu_model']}), Python {machine['python']}"
    )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, help=f"texts for predict_many (default {FULL['n']:,})")
    parser.add_argument(
        "--latency-calls",
        type=int,
        help=f"timed single-text calls (default {FULL['latency_calls']})",
    )
    parser.add_argument(
        "--warmup", type=int, help=f"untimed calls first (default {FULL['warmup']})"
    )
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated tickets")
    parser.add_argument("--model", help="painclf model version or path (default: CURRENT)")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help="JSON file to write")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK['n']:,} texts, {QUICK['latency_calls']} latency calls",
    )
    parser.add_argument(
        "--large", action="store_true", help=f"{LARGE_N:,} texts for predict_many (--n wins)"
    )
    args = parser.parse_args(argv)
    if args.large and args.n is None:
        args.n = LARGE_N
    defaults = QUICK if args.quick else FULL
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.n < 1 or args.latency_calls < 1 or args.warmup < 0 or args.chunk_size < 1:
        parser.error("--n, --latency-calls and --chunk-size must be positive, --warmup >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report = run(
        n=args.n,
        latency_calls=args.latency_calls,
        warmup=args.warmup,
        chunk_size=args.chunk_size,
        seed=args.seed,
        model=args.model,
    )
    print(format_table(report))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    say(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
