"""Benchmark ``painclf label`` end to end on a generated ticket export, against two baselines.

It writes N generated tickets (``ticket_id,created_at,text``) to a CSV file, then
runs, each in its own subprocess and on the same file:

- ``painclf label FILE -o OUT.csv --jobs 1`` and ``--jobs 2``;
- the word TF-IDF + logistic regression baseline, scoring the file with pandas
  (read in chunks, ``predict_proba``, write a CSV with the label and probabilities);
- spaCy's bag-of-words ``textcat`` baseline via ``nlp.pipe``, the same way.

For each it reports rows per second of wall time (process start to exit: import,
model loading, reading and writing included), the CPU seconds the process and
its workers used, the CPUs other programs kept busy meanwhile (a run on a busy
machine says so), and peak memory, measured two ways from the same psutil
samples (every 50 ms): the peak of the summed RSS of the process and all its
descendants (what the machine must have free), and the peak RSS of the largest
single process. (``ru_maxrss`` is not used: on Linux a child inherits the
high-water mark of the process that forked it, here this script with its
generated texts.) It prints a table and writes it as JSON; it never asserts
anything about the numbers.

    python benchmarks/bench_label.py               # 200,000 rows
    python benchmarks/bench_label.py --rows 1000000
    python benchmarks/bench_label.py --rows 100000 1000000   # memory at both sizes
    python benchmarks/bench_label.py --quick       # 20,000 rows
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import pickle
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classifier.config import LABELS

# Only light imports at the top: the baseline scoring subprocesses run this file too,
# and their memory must not include painclf's model or spaCy when they do not use it.
try:
    from generate import generate_tickets
except ModuleNotFoundError:  # imported by pytest (--import-mode=importlib), not run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from generate import generate_tickets

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "label.json"
DEFAULT_ROWS = 200_000
QUICK_ROWS = 20_000
BASELINE_CHUNK_SIZE = 10_000
TEXTCAT_PIPE_BATCH_SIZE = 1000  # as classifier.baselines.TextcatBaseline
SAMPLE_INTERVAL_S = 0.05
GENERATE_BATCH = 100_000
# Other programs using more than this many CPUs on average during a run get a warning.
BUSY_OTHER_CPUS = 0.2
# The aims on its 2-core machine, printed next to the measured figures.
AIM_ROWS_PER_S = 15_000
AIM_PEAK_MB_1M = 400
AIM_SPEEDUP_JOBS2 = 1.8  # issue 10 (issue 7 asked for 1.7)


@dataclass(frozen=True)
class Run:
    """One command's figures."""

    name: str
    command: str
    rows: int
    seconds: float
    rows_per_s: float
    peak_tree_rss_mb: float
    peak_process_rss_mb: float
    exit_code: int
    cpu_seconds: float
    other_cpus: float
    output_rows: int | None = None
    speedup_vs_jobs1: float | None = None


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the generated export ---------------------------------------------------------------------


def write_tickets(path: Path, rows: int, seed: int) -> None:
    """Write ``rows`` generated tickets as CSV: ``ticket_id,created_at,text`` (text quoted).

    Generated in batches with consecutive seeds so that 1M rows never sit in memory twice.
    """
    stamps = random.Random(seed)
    created = datetime(2026, 1, 1, 8, 0, 0)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticket_id", "created_at", "text"])
        for batch, start in enumerate(range(0, rows, GENERATE_BATCH)):
            texts = generate_tickets(min(GENERATE_BATCH, rows - start), seed=seed + batch)
            for offset, text in enumerate(texts):
                created += timedelta(seconds=stamps.randint(1, 90))
                writer.writerow([f"T{start + offset + 1:08d}", created.isoformat(), text])


# --- measuring a subprocess -------------------------------------------------------------------


def _rss_sample(process: Any) -> tuple[int, int]:
    """Summed and largest RSS in bytes of ``process`` and its descendants, now."""
    import psutil

    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    sizes = []
    for member in members:
        with contextlib.suppress(psutil.Error):  # a worker that just exited
            sizes.append(member.memory_info().rss)
    return sum(sizes), max(sizes, default=0)


def _busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (steal included: lost to us)."""
    import psutil

    times = psutil.cpu_times()
    fields = ("user", "nice", "system", "irq", "softirq", "steal")
    return sum(getattr(times, name, 0.0) for name in fields)


def _self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(name: str, command: list[str], rows: int, output: Path | None = None) -> Run:
    """Run ``command`` to completion; time it and track its memory."""
    import psutil

    say(f"{name}: {' '.join(command[-6:])}")
    busy_before, self_before = _busy_cpu_seconds(), _self_cpu_seconds()
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    watched = psutil.Process(child.pid)
    peak_tree = peak_process = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree, peak_process
        while not done.is_set():
            tree, largest = _rss_sample(watched)
            peak_tree, peak_process = max(peak_tree, tree), max(peak_process, largest)
            done.wait(SAMPLE_INTERVAL_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # wait4's CPU times cover the child and every descendant it waited for (its workers).
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    cpu_seconds = usage.ru_utime + usage.ru_stime
    # CPU time the machine spent on anything but this command and this script.
    others = _busy_cpu_seconds() - busy_before - cpu_seconds
    others -= _self_cpu_seconds() - self_before
    output_rows = count_rows(output) if output is not None and output.exists() else None
    if child.returncode != 0:
        say(f"{name}: exit code {child.returncode}")
    return Run(
        name=name,
        command=" ".join(command),
        rows=rows,
        seconds=seconds,
        rows_per_s=rows / seconds,
        peak_tree_rss_mb=peak_tree / 2**20,
        peak_process_rss_mb=peak_process / 2**20,
        exit_code=child.returncode,
        cpu_seconds=cpu_seconds,
        other_cpus=max(0.0, others / seconds),
        output_rows=output_rows,
    )


def count_rows(path: Path) -> int:
    """Rows in a CSV or Parquet output (to check that no row went missing)."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return sum(len(chunk) for chunk in pd.read_csv(path, usecols=[0], chunksize=200_000))


# --- the baselines, run in their own process --------------------------------------------------


def train_baseline_files(folder: Path, seed: int) -> dict[str, Path]:
    """Train both baselines on ``data/seed``; save them for the scoring processes to load."""
    from classifier.baselines import train_textcat_baseline, train_tfidf_baseline
    from classifier.config import SEED_DIR
    from classifier.dataset import load_labeled

    frame, _, _ = load_labeled([SEED_DIR])
    texts, labels = frame["text"].tolist(), frame["label"].tolist()
    tfidf = folder / "tfidf.pkl"
    # A file this script just wrote itself, so unpickling it is safe.
    tfidf.write_bytes(pickle.dumps(train_tfidf_baseline(texts, labels)))
    textcat = folder / "textcat"
    train_textcat_baseline(texts, labels, seed=seed).to_disk(textcat)
    return {"tfidf": tfidf, "textcat": textcat}


def score_with_baseline(kind: str, model: Path, source: Path, target: Path, chunk: int) -> None:
    """Label ``source`` into ``target`` with a bare baseline: pandas chunks in, CSV chunks out.

    Only what the baseline needs is imported (scikit-learn, or spaCy), so its
    memory and start-up are the baseline's own.
    """
    if kind == "tfidf":
        pipeline = pickle.loads(model.read_bytes())
        order = [list(pipeline.classes_).index(label) for label in LABELS]

        def predict_proba(texts: list[str]) -> np.ndarray:
            return pipeline.predict_proba(texts)[:, order]
    else:
        import spacy

        nlp = spacy.load(model)

        def predict_proba(texts: list[str]) -> np.ndarray:
            docs = nlp.pipe(texts, batch_size=TEXTCAT_PIPE_BATCH_SIZE)
            return np.array([[doc.cats[label] for label in LABELS] for doc in docs])

    with target.open("w", newline="", encoding="utf-8") as handle:
        for number, frame in enumerate(pd.read_csv(source, dtype=str, chunksize=chunk)):
            probabilities = predict_proba(frame["text"].fillna("").tolist())
            frame["label"] = np.asarray(LABELS)[probabilities.argmax(axis=1)]
            for column, label in enumerate(LABELS):
                frame[f"p_{label}"] = probabilities[:, column]
            frame.to_csv(handle, header=number == 0, index=False)


# --- the benchmark ----------------------------------------------------------------------------


def painclf_command() -> list[str]:
    """The installed ``painclf`` script next to this Python, or the same entry point via ``-c``."""
    script = Path(sys.executable).parent / "painclf"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from classifier.cli import main; main()"]


def resolve_model(model: str | None) -> str:
    """The model directory every run uses: ``model``, else CURRENT, else the shipped model."""
    from classifier.predict import ensure_model

    return str(ensure_model(model).path)


def run(
    rows: int,
    seed: int = 0,
    model: str | None = None,
    jobs: Sequence[int] = (1, 2),
    chunk_size: int | None = None,
    workdir: Path | None = None,
    baselines: bool = True,
) -> dict[str, Any]:
    """Generate the export, time every command on it; return machine facts, settings, runs."""
    if workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="bench_label.", dir=workdir))
    try:
        model_path = resolve_model(model)
        source = folder / "tickets.csv"
        say(f"writing {rows:,} tickets to {source}...")
        write_tickets(source, rows, seed)
        size_mb = source.stat().st_size / 2**20
        runs: list[Run] = []
        for job_count in jobs:
            target = folder / f"labeled-jobs{job_count}.csv"
            command = [*painclf_command(), "label", str(source), "-o", str(target)]
            command += ["--jobs", str(job_count), "--quiet", "--force", "--model", model_path]
            if chunk_size:
                command += ["--chunk-size", str(chunk_size)]
            runs.append(measure(f"painclf label --jobs {job_count}", command, rows, target))
            target.unlink(missing_ok=True)
        if baselines:
            say("training the baselines on data/seed (not timed)...")
            models = train_baseline_files(folder, seed)
            names = {"tfidf": "tfidf-logreg (pandas)", "textcat": "spacy textcat bow (nlp.pipe)"}
            for kind, path in models.items():
                target = folder / f"labeled-{kind}.csv"
                command = [sys.executable, str(Path(__file__).resolve()), "_baseline", kind]
                command += [str(path), str(source), str(target), str(BASELINE_CHUNK_SIZE)]
                runs.append(measure(names[kind], command, rows, target))
                target.unlink(missing_ok=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    first = next((r for r in runs if r.name == "painclf label --jobs 1"), None)
    if first is not None and first.exit_code == 0:
        runs = [
            Run(**{**asdict(r), "speedup_vs_jobs1": r.rows_per_s / first.rows_per_s})
            if r.name.startswith("painclf") and r.exit_code == 0
            else r
            for r in runs
        ]
    return {
        "benchmark": "label",
        "machine": all_machine_facts(),
        "settings": {
            "rows": rows,
            "seed": seed,
            "input_mb": round(size_mb, 1),
            "model": model_path,
            "chunk_size": chunk_size,
            "baseline_chunk_size": BASELINE_CHUNK_SIZE,
            "memory": "psutil samples every "
            f"{SAMPLE_INTERVAL_S * 1000:.0f} ms; peak_tree_rss_mb: peak of the summed RSS of "
            "the process and its descendants; peak_process_rss_mb: peak RSS of the largest "
            "single process",
        },
        "results": [asdict(r) for r in runs],
    }


def all_machine_facts() -> dict[str, Any]:
    """``bench_predict``'s machine facts, plus memory size and the I/O packages' versions."""
    from bench_predict import machine_facts

    return {**machine_facts(), **extra_facts()}


def extra_facts() -> dict[str, Any]:
    """Memory size and the versions of the I/O packages the label command uses."""
    import psutil

    packages = {}
    for name in ("pandas", "pyarrow", "joblib", "psutil"):
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = None
    return {"memory_gb": round(psutil.virtual_memory().total / 2**30, 1), "io_packages": packages}


def format_table(report: dict[str, Any]) -> str:
    """The runs as a fixed-width text table, with the machine and the issue's aims under it."""
    header = (
        f"{'command':<30} {'rows/s':>9} {'seconds':>8} {'CPU s':>7} {'peak RSS tree MB':>17} "
        f"{'largest process MB':>19} {'vs jobs 1':>9} {'rows out':>9} {'other CPUs':>10}"
    )
    lines = [header, "-" * len(header)]
    for row in report["results"]:
        speedup = f"{row['speedup_vs_jobs1']:.2f}x" if row["speedup_vs_jobs1"] else ""
        rows_out = f"{row['output_rows'] or 0:,}"
        rate = f"{row['rows_per_s']:,.0f}"
        if row["exit_code"]:
            rows_out, rate = "-", f"exit {row['exit_code']}"
        lines.append(
            f"{row['name']:<30} {rate:>9} {row['seconds']:>8.1f} {row['cpu_seconds']:>7.1f} "
            f"{row['peak_tree_rss_mb']:>17.0f} {row['peak_process_rss_mb']:>19.0f} "
            f"{speedup:>9} {rows_out:>9} {row['other_cpus']:>10.2f}"
        )
    machine, settings = report["machine"], report["settings"]
    lines.append(
        f"\n{settings['rows']:,} rows ({settings['input_mb']} MB CSV); {machine['nproc']} CPUs "
        f"({machine['cpu_model']}), {machine['memory_gb']} GB RAM, Python {machine['python']}"
    )
    busiest = max((row["other_cpus"] for row in report["results"]), default=0.0)
    if busiest > BUSY_OTHER_CPUS:
        lines.append(
            f"warning: other programs kept {busiest:.2f} of the {machine['nproc']} CPUs busy "
            "during a run (column 'other CPUs'): its figures are low"
        )
    lines.append(
        f"aims: --jobs 1 >= {AIM_ROWS_PER_S:,} rows/s; peak < {AIM_PEAK_MB_1M} MB at 1M rows; "
        f"--jobs 2 >= {AIM_SPEEDUP_JOBS2}x --jobs 1"
    )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows",
        type=int,
        nargs="+",
        help=f"tickets to label (default {DEFAULT_ROWS:,}); several sizes are run one after "
        "another, with the peak memory of each side by side",
    )
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_ROWS:,} rows")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated tickets")
    parser.add_argument("--model", help="painclf model version or path (default: CURRENT)")
    parser.add_argument(
        "--jobs", type=int, nargs="+", default=[1, 2], help="--jobs values to time (default 1 2)"
    )
    parser.add_argument("--chunk-size", type=int, help="passed to painclf label (default: its own)")
    parser.add_argument(
        "--no-baselines", dest="baselines", action="store_false", help="time painclf only"
    )
    parser.add_argument(
        "--workdir", type=Path, help="where the generated CSV and outputs go (default: $TMPDIR)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help="JSON file to write")
    args = parser.parse_args(argv)
    if args.rows is None:
        args.rows = [QUICK_ROWS if args.quick else DEFAULT_ROWS]
    if any(r < 1 for r in args.rows) or any(j < 1 for j in args.jobs):
        parser.error("--rows and --jobs must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_baseline"]:  # a scoring subprocess started by `measure`
        kind, model, source, target, chunk = argv[1:6]
        score_with_baseline(kind, Path(model), Path(source), Path(target), int(chunk))
        return 0
    args = parse_args(argv)
    reports = []
    for rows in args.rows:
        report = run(
            rows=rows,
            seed=args.seed,
            model=args.model,
            jobs=args.jobs,
            chunk_size=args.chunk_size,
            workdir=args.workdir,
            baselines=args.baselines,
        )
        print(format_table(report) + "\n", flush=True)
        reports.append(report)
    if len(reports) > 1:
        print(format_memory_by_size(reports))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    output = reports[0] if len(reports) == 1 else {"benchmark": "label", "sizes": reports}
    args.output.write_text(json.dumps(output, indent=2) + "\n")
    say(f"wrote {args.output}")
    return 0


def format_memory_by_size(reports: Sequence[dict[str, Any]]) -> str:
    """Peak memory of each command at each size: flat memory shows as equal columns."""
    sizes = [report["settings"]["rows"] for report in reports]
    header = f"{'largest process MB':<30}" + "".join(f"{n:>12,}" for n in sizes)
    lines = [header, "-" * len(header)]
    names = [row["name"] for row in reports[0]["results"]]
    for name in names:
        cells = []
        for report in reports:
            row = next((r for r in report["results"] if r["name"] == name), None)
            cells.append(f"{row['peak_process_rss_mb']:>12.0f}" if row else f"{'-':>12}")
        lines.append(f"{name:<30}" + "".join(cells))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
