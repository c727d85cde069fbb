"""Benchmark the per-text analysis on its compiled path and its pure-Python path, against the
word TF-IDF + logistic regression baseline timed in the same run on the same texts.

Each path runs in its own fresh process (``PAINCLF_PURE_PYTHON=1`` for the pure one), so both
start equal; the baseline is timed in each process too, so every ratio compares numbers taken
minutes apart at most. CPU time (``time.process_time``) is reported, best of ``--repeats``,
which is steadier than wall time on a shared machine. Nothing is asserted.

    python benchmarks/bench_analysis.py                 # 4,000 tickets + 1,000 real posts
    python benchmarks/bench_analysis.py --tickets 20000 --real 0 --repeats 3

For each path and each text set it prints microseconds per text of

- ``analysis``: ``analyze_many`` (cleaning, tokenizer, cue and context matching, combos,
  durations: what the rule layer and the cue features read);
- ``durations``: ``find_durations`` alone on the cleaned texts (a part of ``analysis``);
- ``predict_many``: ``Classifier.predict_many`` with the shipped model, end to end;
- ``tfidf-logreg``: the baseline's ``pipeline.predict_proba`` on the same texts;

and the throughput of ``predict_many`` as a multiple of the baseline's. On the compiled path
it also times a first ``analysis`` pass with the compiled tokenizer's table of chunks emptied
(``cold``: every chunk is new, as in the first minutes of a stream), and counts the texts the
tokenizer gave whole to spaCy's (its fallback) in that pass and in the warm ones.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "analysis.json"
REAL_POSTS = ROOT / "data" / "real" / "reddit_top_2013.csv"


def texts_for(tickets: int, real: int, seed: int) -> dict[str, list[str]]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from generate import generate_tickets

    sets = {"tickets": generate_tickets(tickets, seed=seed)} if tickets else {}
    if real:
        with REAL_POSTS.open(newline="", encoding="utf-8") as handle:
            sets["real posts"] = [row["text"] for row in csv.DictReader(handle)][:real]
    return sets


def best_cpu_seconds(run: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        started = time.process_time()
        run()
        best = min(best, time.process_time() - started)
    return best


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run in the child process: time one path on every text set."""
    from classifier.analysis import analyze_many, clean_text
    from classifier.baselines import TfidfBaseline
    from classifier.config import SEED_DIR
    from classifier.dataset import load_labeled
    from classifier.duration import find_durations
    from classifier.fastpath import compiled
    from classifier.predict import Classifier

    frame, _, _ = load_labeled([SEED_DIR])
    baseline = TfidfBaseline.train(frame["text"].tolist(), frame["label"].tolist()).pipeline
    model = Classifier.load("shipped")
    model.predict_many(["warm up: my back is sore since Monday"])
    out: dict[str, Any] = {"path": "compiled" if compiled() is not None else "pure", "sets": {}}
    from classifier.nlp import chunk_tokenizer

    tokenizer = chunk_tokenizer() if compiled() is not None else None
    for name, texts in texts_for(args.tickets, args.real, args.seed).items():
        n = len(texts)
        tokens: dict[str, Any] = {}
        if tokenizer is not None:
            tokenizer.clear()
            tokenizer.fallbacks = tokenizer.chunks_alone = 0
            tokens["cold_analysis_us"] = best_cpu_seconds(lambda t=texts: analyze_many(t), 1)
            tokens["cold_analysis_us"] *= 1e6 / n
            tokens["cold_fallback_share"] = tokenizer.fallbacks / n
            tokens["cold_chunks_alone"] = tokenizer.chunks_alone
            tokenizer.fallbacks = 0
        analysis = best_cpu_seconds(lambda t=texts: analyze_many(t), args.repeats)
        cleaned = [clean_text(text).text for text in texts]
        durations = best_cpu_seconds(
            lambda t=cleaned: [find_durations(text) for text in t], args.repeats
        )
        if tokenizer is not None:
            tokens["warm_fallback_share"] = tokenizer.fallbacks / (n * args.repeats)
        predict = best_cpu_seconds(lambda t=texts: model.predict_many(t), args.repeats)
        tfidf = best_cpu_seconds(lambda t=texts: baseline.predict_proba(t), args.repeats)
        out["sets"][name] = {
            "texts": n,
            "analysis_us": analysis / n * 1e6,
            "durations_us": durations / n * 1e6,
            "predict_many_us": predict / n * 1e6,
            "tfidf_us": tfidf / n * 1e6,
            **tokens,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=4000, help="generated tickets")
    parser.add_argument("--real", type=int, default=1000, help="real posts from data/real")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS_FILE)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args)))
        return 0
    results = []
    for pure in (False, True):
        env = {**os.environ, "PAINCLF_PURE_PYTHON": "1" if pure else "0"}
        command = [sys.executable, __file__, "--child", *(argv or sys.argv[1:])]
        print(f"timing the {'pure-Python' if pure else 'compiled'} path...", file=sys.stderr)
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    header = (
        "| path | texts | analysis µs | of it durations µs | predict_many µs | tfidf-logreg µs "
        "| analysis vs tfidf | predict_many vs tfidf |"
    )
    print(header)
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for result in results:
        for name, row in result["sets"].items():
            ratio = row["tfidf_us"] / row["predict_many_us"]
            print(
                f"| {result['path']} | {name} ({row['texts']:,}) | {row['analysis_us']:.0f} "
                f"| {row['durations_us']:.1f} | {row['predict_many_us']:.0f} "
                f"| {row['tfidf_us']:.0f} | {row['analysis_us'] / row['tfidf_us']:.1f}x "
                f"| {ratio:.2f}x |"
            )
    for result in results:
        for name, row in result["sets"].items():
            if "cold_analysis_us" in row:
                print(
                    f"{result['path']} {name}: analysis with the chunk table emptied first "
                    f"{row['cold_analysis_us']:.0f} µs a text; texts tokenized whole by spaCy "
                    f"{row['cold_fallback_share']:.2%} in that pass "
                    f"({row['cold_chunks_alone']:,} new chunks asked alone), "
                    f"{row['warm_fallback_share']:.2%} warm"
                )
    print(f"CPU time per text, best of {args.repeats}; {os.cpu_count()} CPUs", file=sys.stderr)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
