"""Label partitioned ticket exports on a Dask cluster, with the same rows out as ``painclf label``.

The input is a directory, a glob or a list of Parquet or CSV files; each Parquet
row group (or each CSV file) is one partition, labeled by ``label_frame`` on a
worker. The output is a directory of Parquet files, one per partition, in input
order; its index ``input_row`` numbers the rows 0, 1, 2... across all files, so
``pandas.read_parquet(output)`` gives the input's rows in the input's order.
The rows are ``label_frame``'s: the input columns (one named like an output column
gets the prefix ``input_``), then ``OUTPUT_COLUMNS``.

Dask is optional (``pip install 'painclf[dask]'``): it is imported only when
``label_dask`` runs.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from classifier.config import LABELS, MAX_TEXT_CHARS

if TYPE_CHECKING:
    from distributed import Client

    from classifier.batch import LabelSummary
    from classifier.predict import Classifier

ROW_INDEX = "input_row"
DEFAULT_WORKERS = 2
PARQUET_SUFFIXES = (".parquet", ".pq")
# A CSV partition is a whole file: splitting a file by bytes would cut through
# quoted texts that span lines, which tickets often do.
CSV_SEPARATORS = {".csv": ",", ".tsv": "\t"}
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zst")
PART_NAME = "part.{:05d}.parquet"
WORKER_TIMEOUT_S = 60

INSTALL_HINT = "the dask engine needs the optional extra: pip install 'painclf[dask]'"


class DaskEngineError(RuntimeError):
    """The Dask run cannot start or finish: missing extra, bad input, unusable output or cluster."""


def require_dask() -> tuple[Any, Any, Any]:
    """Import ``dask``, ``dask.dataframe`` and ``distributed``, or explain how to install them.

    Raises
    ------
    DaskEngineError
        If any of them is missing, with the ``pip install 'painclf[dask]'`` hint.
    """
    try:
        import dask
        import dask.dataframe as dd
        import distributed
    except ImportError as error:
        raise DaskEngineError(f"{INSTALL_HINT} ({error})") from None
    return dask, dd, distributed


def _natural_key(path: Path) -> list[Any]:
    # part.2 before part.10, as Dask and most exporters number their files.
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def _kind_of(path: Path) -> str | None:
    """``parquet``, ``.csv`` or ``.tsv`` (the separator's key), or None for other files."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    if not suffixes:
        return None
    if suffixes[-1] in PARQUET_SUFFIXES:
        return "parquet"
    return suffixes[-1] if suffixes[-1] in CSV_SEPARATORS else None


def find_input_files(source: str | Path | Sequence[str | Path]) -> tuple[list[Path], str]:
    """The input files in input order, and their kind (``parquet``, ``.csv`` or ``.tsv``).

    Parameters
    ----------
    source : str, Path or sequence of them
        A directory (its Parquet/CSV/TSV files, not its subdirectories; names
        starting with ``.`` or ``_`` are skipped), a glob such as
        ``exports/2026-*.parquet``, a single file, or a list of these.

    Returns
    -------
    files : list of Path
        Sorted naturally within each source (``part.2`` before ``part.10``).
    kind : str
        ``parquet``, ``.csv`` or ``.tsv``; all files must be of one kind.

    Raises
    ------
    DaskEngineError
        If nothing matches or the files mix kinds.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("part.10.csv", "part.2.csv", "_SUCCESS", "notes.txt"):
    ...     _ = (folder / name).write_text("text\\nhi\\n")
    >>> files, kind = find_input_files(folder)
    >>> [f.name for f in files], kind
    (['part.2.csv', 'part.10.csv'], '.csv')
    """
    sources = [source] if isinstance(source, str | Path) else list(source)
    files: list[Path] = []
    for item in sources:
        path = Path(item)
        if path.is_dir():
            found = [
                p
                for p in path.iterdir()
                if p.is_file() and not p.name.startswith((".", "_")) and _kind_of(p)
            ]
        elif path.is_file():
            found = [path]
        else:
            found = [Path(p) for p in glob.glob(str(item), recursive=True)]
            found = [p for p in found if p.is_file() and _kind_of(p)]
        if not found:
            raise DaskEngineError(
                f"no Parquet, CSV or TSV files in {item}"
                if path.is_dir()
                else f"no input files match {item}"
            )
        files.extend(sorted(found, key=_natural_key))
    kinds = {_kind_of(p) for p in files}
    if None in kinds:
        unknown = next(p for p in files if _kind_of(p) is None)
        raise DaskEngineError(f"{unknown}: not a Parquet (.parquet, .pq), CSV or TSV file")
    if len(kinds) > 1:
        raise DaskEngineError(
            f"the input mixes file kinds ({', '.join(sorted(str(k) for k in kinds))}); "
            "label each kind separately"
        )
    return files, str(kinds.pop())


def output_dtypes() -> dict[str, Any]:
    """The dtype of each output column, the same in every partition (and every Parquet file)."""
    try:
        text: Any = pd.StringDtype(na_value=np.nan)  # pandas 3's default "str" dtype
    except TypeError:  # pandas < 2.3: text columns are object columns
        text = object
    dtypes: dict[str, Any] = {
        "label": text,
        **{f"p_{label}": "float64" for label in LABELS},
        "confidence": "float64",
        "urgent": "bool",
        "urgent_reasons": text,
        "needs_review": "bool",
        "evidence": text,
        "duration_days": "float64",
        "status": text,
        "error": text,
    }
    from classifier.batch import OUTPUT_COLUMNS

    missing = [c for c in OUTPUT_COLUMNS if c not in dtypes]
    if missing:
        raise RuntimeError(f"dask_engine has no dtype for output column(s) {missing}")
    return {column: dtypes[column] for column in OUTPUT_COLUMNS}


class _NoModel:
    """Stands in for a model when ``label_frame`` only has to show the output's columns."""

    version = "none"

    def predict_many(self, texts: Sequence[Any], today: date | None = None) -> list[Any]:
        if len(texts):
            raise RuntimeError("_NoModel cannot label rows")
        return []


def output_meta(input_meta: pd.DataFrame, text_columns: Sequence[str]) -> pd.DataFrame:
    """The empty frame Dask needs: ``label_frame``'s columns, with fixed output dtypes."""
    from classifier.batch import label_frame

    if ROW_INDEX in input_meta.columns:
        raise DaskEngineError(
            f"the input has a column {ROW_INDEX!r}, the name of the output's row index; "
            "rename it first"
        )
    meta = label_frame(input_meta.iloc[:0], text_columns, classifier=_NoModel())  # type: ignore[arg-type]
    meta = meta.astype(output_dtypes())
    meta.index = pd.RangeIndex(0, name=ROW_INDEX)
    return meta


# --- on the workers --------------------------------------------------------------------------

_worker_classifiers: dict[str, Classifier] = {}
_worker_locks: dict[str, threading.Lock] = {}
_worker_lock = threading.Lock()


def worker_classifier(model_path: str) -> tuple[Classifier, threading.Lock]:
    """The classifier at ``model_path``, loaded once per worker process, and its lock.

    Tasks carry the model's path, never the model: each worker loads it on its
    first task and keeps it. The lock serialises labeling in a worker that runs
    several threads (spaCy pipelines are not shared safely between threads, and
    the GIL would gain nothing anyway).
    """
    with _worker_lock:
        if model_path not in _worker_classifiers:
            from classifier.predict import Classifier

            _worker_classifiers[model_path] = Classifier.load(model_path)
            _worker_locks[model_path] = threading.Lock()
        return _worker_classifiers[model_path], _worker_locks[model_path]


def prepare_worker(model_path: str, output_dir: str) -> str:
    """Load the model and check the output directory on one worker; return a problem or ``""``."""
    if not os.path.isdir(output_dir):
        return f"cannot see the output directory {output_dir} (use storage every worker shares)"
    try:
        worker_classifier(model_path)
    except Exception as error:  # reported to the client, which stops the run
        return f"cannot load the model {model_path}: {error}"
    return ""


def label_partition(
    partition: pd.DataFrame,
    text_columns: list[str],
    model_path: str,
    offsets: list[int],
    max_chars: int,
    today: date,
    partition_info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Label one partition on a worker; index it by its rows' numbers in the whole input."""
    from classifier.batch import label_frame

    classifier, lock = worker_classifier(model_path)
    with lock:
        labeled = label_frame(
            partition, text_columns, classifier=classifier, max_chars=max_chars, today=today
        )
    # Same dtypes in every partition, whatever its values (a partition without one
    # urgent row must not give urgent_reasons another type than the next one).
    labeled = labeled.astype(output_dtypes())
    if partition_info is None:  # Dask passes it to functions that take it
        raise RuntimeError("label_partition needs Dask's partition_info to number the rows")
    start = offsets[partition_info["number"]]
    labeled.index = pd.RangeIndex(start, start + len(labeled), name=ROW_INDEX)
    return labeled


def _partition_length(partition: pd.DataFrame) -> int:
    return len(partition)


# --- on the client ---------------------------------------------------------------------------


@contextlib.contextmanager
def dask_client(
    scheduler: str | Client | None, n_workers: int = DEFAULT_WORKERS
) -> Iterator[Client]:
    """A client of ``scheduler``, or of a local cluster of ``n_workers`` processes started here.

    A local cluster runs one thread per worker process (the labeling holds the
    GIL) and is shut down on exit; an existing scheduler is left running.
    """
    _, _, distributed = require_dask()
    if scheduler is not None and not isinstance(scheduler, str):
        yield scheduler  # a Client the caller owns
        return
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout=WORKER_TIMEOUT_S, set_as_default=False)
        except OSError as error:
            raise DaskEngineError(f"cannot reach the Dask scheduler {scheduler}: {error}") from None
        with client:
            yield client
        return
    if n_workers < 1:
        raise DaskEngineError(f"--workers must be at least 1, got {n_workers}")
    with (
        distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: 8787 may be another cluster's
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        yield client


def _resolve_model(model: str | Path | None) -> tuple[str, str]:
    """The model's absolute directory and version, resolved once so every worker loads the same."""
    from classifier.registry import ModelError, current_version, resolve

    try:
        ref = resolve(model)
    except ModelError:
        if model is not None or current_version() is not None:
            raise
        # No model yet: train the default one, as `painclf label` does on a fresh checkout.
        from classifier.predict import get_classifier

        get_classifier(None)
        ref = resolve(None)
    return str(ref.path.resolve()), str(ref.manifest.get("version", ref.path.name))


def _check_output(output: Path, force: bool) -> None:
    if output.exists() and not output.is_dir():
        raise DaskEngineError(f"{output} exists and is not a directory")
    if output.exists() and not force:
        raise DaskEngineError(f"{output} exists; use --force to replace it")
    if not output.parent.is_dir():
        raise DaskEngineError(f"the output's parent directory {output.parent} does not exist")
    if not os.access(output.parent, os.W_OK):
        raise DaskEngineError(f"cannot write to {output.parent}")


def _replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``; an old ``target`` is moved aside first, then deleted."""
    if not target.exists():
        os.replace(new, target)
        return
    old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _csv_options(kind: str) -> dict[str, Any]:
    # Every CSV cell is read as text: a column's type cannot change from one file
    # to the next, and ids like 007 keep their zeros.
    # Empty cells stay "" and "NA" stays "NA", as `painclf label` reads them.
    return {
        "sep": CSV_SEPARATORS[kind],
        "dtype": str,
        "keep_default_na": False,
        "na_values": [],
        "encoding": "utf-8-sig",
    }


def _check_parquet_footers(files: list[Path]) -> None:
    """Name a truncated or foreign Parquet file now, not as an anonymous error on a worker."""
    import pyarrow.parquet as pq

    for path in files:
        try:
            pq.read_metadata(path)
        except (OSError, ValueError) as error:
            raise DaskEngineError(f"{path}: not a readable Parquet file ({error})") from None


def _read(dd: Any, files: list[Path], kind: str) -> Any:
    names = [str(f) for f in files]
    if kind == "parquet":
        _check_parquet_footers(files)
        return dd.read_parquet(names)
    return dd.read_csv(names, blocksize=None, compression="infer", **_csv_options(kind))


def _first_bad_csv(files: list[Path], kind: str) -> str | None:
    """``file: problem`` for the first CSV file pandas cannot read, or None."""
    for path in files:
        try:
            pd.read_csv(path, **_csv_options(kind))
        except (ValueError, OSError, UnicodeDecodeError) as error:
            return f"{path}: {error}"
    return None


def _summarise(summary: LabelSummary, output: Path) -> LabelSummary:
    """Count the written output, one Parquet file at a time (the client never holds it all)."""
    import pyarrow.parquet as pq

    from classifier.batch import CONFIDENCE_BINS, STATUS_OK

    columns = ["label", "confidence", "urgent", "needs_review", "status", "error"]
    histogram = np.zeros(CONFIDENCE_BINS, dtype=int)
    for part in sorted(output.glob("part.*.parquet")):
        frame = pq.read_table(part, columns=columns).to_pandas()
        counts = frame["label"].value_counts()
        for label in LABELS:
            summary.labels[label] = summary.labels.get(label, 0) + int(counts.get(label, 0))
        ok = (frame["status"] == STATUS_OK).to_numpy()
        summary.rows += len(frame)
        summary.urgent += int(frame["urgent"].sum())
        summary.needs_review += int(frame["needs_review"].sum())
        summary.errors += int((~ok).sum())
        summary.noted += int((ok & (frame["error"] != "").to_numpy()).sum())
        counted, _ = np.histogram(
            frame["confidence"].to_numpy()[ok], bins=CONFIDENCE_BINS, range=(0.0, 1.0)
        )
        histogram += counted
    summary.confidence_histogram = [int(n) for n in histogram]
    return summary


def label_dask(
    input: str | Path | Sequence[str | Path],
    output_dir: str | Path,
    *,
    text_columns: Sequence[str] | None = None,
    scheduler: str | Client | None = None,
    n_workers: int = DEFAULT_WORKERS,
    model: str | Path | None = None,
    force: bool = False,
    max_chars: int = MAX_TEXT_CHARS,
    today: date | None = None,
    progress: bool = False,
) -> LabelSummary:
    """Label partitioned Parquet or CSV files on a Dask cluster into a directory of Parquet files.

    Each partition goes through ``classifier.batch.label_frame`` on a worker, so
    the rows are those ``painclf label`` writes for the same input: the input
    columns, then ``OUTPUT_COLUMNS``. The output is written to a temporary
    directory beside ``output_dir`` and renamed into place only when every
    partition is written; on any failure (Ctrl-C included) nothing is left.

    Parameters
    ----------
    input : str, Path or sequence of them
        A directory, glob or file of Parquet (``.parquet``, ``.pq``) or CSV/TSV
        files (optionally compressed), or a list of them; see ``find_input_files``.
        A Parquet row group or a whole CSV file is one partition: split a big
        CSV export into several files to spread it over the workers. CSV cells
        are read as text, empty cells as ``""``, as ``painclf label`` reads them.
    output_dir : str or Path
        The directory to create: ``part.00000.parquet``, ``part.00001.parquet``...
        in input order, indexed by ``input_row`` (0, 1, 2... over the whole input).
    text_columns : sequence of str, optional
        The text column(s); several are joined. Default: recognised by name
        (``find_text_columns``).
    scheduler : str or distributed.Client, optional
        ``tcp://host:port`` of a running scheduler (its workers need painclf
        installed and must see ``input``, the model and ``output_dir`` at the same
        paths), or a client. Default: a local cluster started for this run.
    n_workers : int
        Worker processes of the local cluster (one thread each); ignored with ``scheduler``.
    model : str or Path, optional
        Model version, directory or file; default CURRENT. It is resolved here,
        once, and each worker loads it once.
    force : bool
        Replace an existing ``output_dir``.
    max_chars : int
        Longer texts are labeled from their first ``max_chars`` characters.
    today : date, optional
        Reference date for durations such as "since Monday"; default today, the
        same on every worker.
    progress : bool
        Show Dask's progress bar on stderr (when it is a terminal).

    Returns
    -------
    LabelSummary
        As ``label_file``'s; its notes say how many partitions and workers ran.

    Raises
    ------
    DaskEngineError
        Dask missing, no input, unreadable input, a CSV row that does not parse,
        missing text column, existing output without ``force``, unwritable
        output, or no usable worker.
    """
    dask, dd, _ = require_dask()
    from classifier.batch import LabelSummary, find_text_columns

    started = time.perf_counter()
    output = Path(output_dir).absolute()
    _check_output(output, force)
    files, kind = find_input_files(input)
    inside = [f for f in files if f.absolute().is_relative_to(output)]
    if inside:
        raise DaskEngineError(f"the input file {inside[0]} is inside the output {output}")
    run_today = today or date.today()
    with dask.config.set({"dataframe.convert-string": False}):
        # Dask would turn text columns into pyarrow strings with pd.NA; pandas'
        # own "str" dtype (NaN for missing) keeps the rows equal to label_frame's.
        try:
            frame = _read(dd, files, kind)
        except (ValueError, OSError, UnicodeDecodeError) as error:
            # Dask reads the first file's head here to learn the columns.
            raise DaskEngineError(f"cannot read {files[0]}: {error}") from None
        try:
            columns = find_text_columns(list(frame.columns), text_columns)
        except ValueError as error:
            raise DaskEngineError(str(error)) from None
        meta = output_meta(frame._meta, columns)
        model_path, model_version = _resolve_model(model)
        with dask_client(scheduler, n_workers) as client:
            workers = _ready_workers(client)
            tmp = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}.tmp-"))
            try:
                problems = {
                    worker: problem
                    for worker, problem in client.run(prepare_worker, model_path, str(tmp)).items()
                    if problem
                }
                if problems:
                    shown = "; ".join(f"{w}: {p}" for w, p in sorted(problems.items()))
                    raise DaskEngineError(f"workers are not ready: {shown}")
                # Row numbers need each partition's length first: a cheap pass that
                # only parses, so that every output row carries its input position.
                lengths = _compute(
                    client,
                    frame.map_partitions(_partition_length, meta=(None, "int64")),
                    kind,
                    files,
                )
                offsets = [0]
                for length in list(lengths)[:-1]:
                    offsets.append(offsets[-1] + int(length))
                labeled = frame.map_partitions(
                    label_partition,
                    columns,
                    model_path,
                    offsets,
                    max_chars,
                    run_today,
                    meta=meta,
                    align_dataframes=False,
                )
                write = labeled.to_parquet(
                    str(tmp),
                    write_index=True,
                    write_metadata_file=False,
                    name_function=PART_NAME.format,
                    compute=False,
                )
                _compute(client, write, kind, files, progress=progress)
                _replace_dir(tmp, output)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            address = client.scheduler.address
    summary = LabelSummary(
        input=", ".join(str(f) for f in files) if len(files) <= 3 else f"{len(files)} files",
        output=str(output),
        text_columns=list(columns),
        model_version=model_version,
    )
    summary.notes.append(
        f"dask: {len(files)} input file(s) in {len(lengths)} partition(s) on {workers} "
        f"worker(s) at {address}"
    )
    summary = _summarise(summary, output)
    summary.elapsed_seconds = time.perf_counter() - started
    return summary


def _ready_workers(client: Client) -> int:
    """How many workers the scheduler has; wait a little for the first one."""
    try:
        client.wait_for_workers(1, timeout=WORKER_TIMEOUT_S)
    except TimeoutError:
        raise DaskEngineError(
            f"the Dask scheduler {client.scheduler.address} has no workers "
            f"after {WORKER_TIMEOUT_S} s"
        ) from None
    return len(client.scheduler_info(n_workers=-1)["workers"])


def _compute(
    client: Client, collection: Any, kind: str, files: list[Path], progress: bool = False
) -> Any:
    """Compute on ``client``; input errors raised on a worker become a ``DaskEngineError``."""
    future = client.compute(collection)
    if progress and sys.stderr.isatty():
        from distributed import progress as show_progress

        show_progress(future)
    try:
        return future.result()
    except (ValueError, OSError, UnicodeDecodeError) as error:
        # A worker's parser error does not say which file it was reading: find it.
        culprit = _first_bad_csv(files, kind) if kind != "parquet" else None
        raise DaskEngineError(
            f"cannot read {culprit}"
            if culprit
            else f"labeling failed: {type(error).__name__}: {error}"
        ) from None
