"""``label_file``: the labeling loop, resume after an interruption, split files and the summary."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from classifier.atomic import atomic_write_text
from classifier.batch.columns import find_fallback_columns, find_id_column, find_text_columns
from classifier.batch.common import (
    DEFAULT_CHUNK_SIZE,
    OUTPUT_COLUMNS,
    SPLIT_BY,
    STATUS_ERROR,
    LabelError,
    LabelInterrupted,
)
from classifier.batch.formats import FileFormat, format_from_name, split_name
from classifier.batch.frame import combine, empty_outputs, renamed_inputs
from classifier.batch.readers import Source, open_source
from classifier.batch.summary import LabelSummary
from classifier.batch.workers import labeled_chunks, start_workers, stop_workers
from classifier.batch.writers import OutputLock, Sink, StdoutSink, output_schema
from classifier.config import LABELS, MAX_TEXT_CHARS

if TYPE_CHECKING:
    from classifier.predict import Classifier


_PROGRESS_SCHEMA = 1


_PROGRESS_SUFFIX = ".painclf-progress.json"


def _check_directory(directory: Path, what: str) -> None:
    if not directory.exists():
        raise LabelError(f"{what} directory {directory} does not exist")
    if not directory.is_dir():
        raise LabelError(f"{what} directory {directory} is not a directory")
    try:
        handle, name = tempfile.mkstemp(dir=directory, prefix=".painclf-probe-")
    except OSError as error:
        raise LabelError(
            f"cannot write to the {what} directory {directory}: {error.strerror or error}"
        ) from None
    os.close(handle)
    os.unlink(name)


def _default_output(path: Path | None, fmt: FileFormat) -> str:
    if path is None:
        return "-"
    stem, suffix = split_name(path)
    return str(path.with_name(f"{stem}.labeled{suffix}"))


def _output_format(output: str, source: Source) -> FileFormat:
    if output == "-":
        if source.format.kind in ("parquet", "xlsx"):
            raise LabelError(f"{source.format.kind} cannot be written to stdout; give -o FILE")
        return FileFormat(source.format.kind, source.format.delimiter)
    fmt = format_from_name(Path(output).name)
    if fmt is None:
        raise LabelError(
            f"cannot tell the output format from {output!r}; end it in .csv, .tsv, .csv.gz, "
            ".jsonl, .parquet or .xlsx"
        )
    # A ";"-separated export stays ";"-separated (spreadsheets in many locales expect it).
    if (
        fmt.kind == "csv"
        and fmt.delimiter == ","
        and source.format.kind == "csv"
        and source.format.delimiter != "\t"
    ):
        fmt = FileFormat("csv", source.format.delimiter, fmt.gzip)
    return fmt


def _split_targets(target: Path) -> dict[str, Path]:
    stem, suffix = split_name(target)
    names = [*LABELS, "urgent", "errors"]
    return {name: target.with_name(f"{stem}.{name}{suffix}") for name in names}


def _split_rows(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of one split file; the files partition the rows, each row in one file.

    An error row goes to ``errors`` only, an urgent row to ``urgent`` only, every
    other row to the file of its label.
    """
    errors = (frame["status"] == STATUS_ERROR).to_numpy()
    if name == "errors":
        return frame[errors]
    urgent = frame["urgent"].to_numpy(dtype=bool) & ~errors
    if name == "urgent":
        return frame[urgent]
    return frame[(frame["label"] == name).to_numpy() & ~urgent & ~errors]


def _progress_path(target: Path) -> Path:
    return target.with_name(f".{target.name}{_PROGRESS_SUFFIX}")


def _fingerprint(input_path: Path | None, source: Source, **options: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"input": str(input_path.resolve()) if input_path else "-"}
    if input_path is not None:
        stat = input_path.stat()
        data.update(input_size=stat.st_size, input_mtime_ns=stat.st_mtime_ns)
    data["input_format"] = [source.format.kind, source.format.delimiter, source.format.gzip]
    data.update({k: v for k, v in options.items()})
    return json.loads(json.dumps(data))


def _load_progress(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("schema") == _PROGRESS_SCHEMA else None


def label_file(
    input: str | Path,
    output: str | Path | None = None,
    *,
    text_columns: Sequence[str] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    jobs: int = 1,
    force: bool = False,
    resume: bool = False,
    split_by: str | None = None,
    report: str | Path | None = None,
    quiet: bool = False,
    model: str | Path | None = None,
    classifier: Classifier | None = None,
    input_format: str | None = None,
    max_chars: int = MAX_TEXT_CHARS,
    today: date | None = None,
    on_chunk: Callable[[int, int], None] | None = None,
) -> LabelSummary:
    """Label every row of a CSV/TSV, JSON Lines or Parquet file, streaming it in chunks.

    Parameters
    ----------
    input : str or Path
        ``.csv``/``.tsv`` (delimiter sniffed; ``.gz`` read as gzip), ``.jsonl`` or
        ``.parquet`` or ``.xlsx`` (the first sheet); ``"-"`` reads CSV or JSON Lines
        from stdin.
    output : str or Path, optional
        Where to write; its extension sets the format. Default ``<stem>.labeled<ext>``
        next to the input (stdout for stdin input); ``"-"`` is stdout.
    text_columns : sequence of str, optional
        Text column(s), joined with a newline; default found by ``find_text_columns``.
    chunk_size : int
        Rows read, labeled and written at a time; also the unit ``resume`` restarts from.
    jobs : int
        Worker processes (joblib/loky); each loads the model once.
    force : bool
        Overwrite existing output files.
    resume : bool
        Continue an interrupted run from its last complete chunk; the result is
        byte-identical to an uninterrupted run.
    split_by : {"label"}, optional
        Also write ``<stem>.soreness<ext>``, ``.pain``, ``.other``, ``.urgent`` and
        ``.errors`` next to the output.
    report : str or Path, optional
        Write a self-contained HTML report there.
    quiet : bool
        No progress bar (it is also hidden when stderr is not a terminal).
    model : str or Path, optional
        Model version or directory; default CURRENT.
    classifier : Classifier, optional
        An already loaded model (takes precedence over ``model``).
    input_format : {"csv", "tsv", "jsonl", "parquet", "xlsx"}, optional
        For stdin or a file whose name does not say.
    max_chars : int
        Longer texts are labeled from their first ``max_chars`` characters.
    today : date, optional
        Reference date for durations such as "since Monday"; default today (a
        resumed run reuses the first run's date).
    on_chunk : callable, optional
        Called as ``on_chunk(chunks_done, rows_done)`` after each chunk is safely written.

    Returns
    -------
    LabelSummary

    Raises
    ------
    LabelError
        The input cannot be read, a text column is missing, or the output cannot be
        written (missing or read-only directory, exists without ``force``).
    LabelInterrupted
        On Ctrl-C; the finished chunks are kept for ``resume``, nothing is left at
        the destination.
    """
    started = time.perf_counter()
    if chunk_size < 1 or jobs < 1:
        raise LabelError("chunk_size and jobs must be at least 1")
    if split_by is not None and split_by not in SPLIT_BY:
        raise LabelError(f"cannot split by {split_by!r}; choose from {', '.join(SPLIT_BY)}")
    source, input_path = open_source(input, input_format, chunk_size)
    run: _Run | None = None
    started_workers = False
    try:
        plan = _plan(source, input, input_path, output, text_columns, split_by, report, force)
        if plan.lock is not None:
            plan.lock.acquire()
        if resume and (plan.target is None or input_path is None):
            raise LabelError(
                "--resume needs an input file and an output file (-o FILE): "
                "stdin cannot be read twice, stdout cannot be rewound"
            )
        model_path, model_version, classifier = _load_model(model, classifier, jobs)
        if jobs > 1 and model_path is not None:
            started_workers = True
            start_workers(jobs, model_path)
        run = _Run(plan, source, _open_sinks(plan, source), str(input), model_version)
        fingerprint = _fingerprint(
            input_path,
            source,
            text_columns=plan.text_columns,
            fallback_columns=plan.fallback_columns,
            chunk_size=chunk_size,
            max_chars=max_chars,
            model_version=model_version,
            output_format=[plan.format.kind, plan.format.delimiter, plan.format.gzip],
            split_by=split_by,
        )
        skip_chunks, run_today = run.restore_or_start(fingerprint, resume, today)
        run.label_chunks(
            skip_chunks, classifier, model_path, jobs, max_chars, run_today, quiet, on_chunk
        )
        run.finish()
        summary = run.summary
        summary.elapsed_seconds = time.perf_counter() - started
        if plan.report is not None:
            from classifier.report import write_report

            summary.report = str(plan.report)
            write_report(summary, plan.report)
        return summary
    except BaseException as error:
        if started_workers:
            stop_workers(jobs)
        if run is not None:
            run.abandon(keep_for_resume=isinstance(error, KeyboardInterrupt))
        if isinstance(error, OSError):
            raise _write_error(error, run) from None
        raise
    finally:
        source.close()
        if run is not None and run.plan.lock is not None:
            run.plan.lock.release()


@dataclass
class _Plan:
    """Where a run reads and writes, checked before anything is written."""

    text_columns: list[str]
    fallback_columns: list[str]
    format: FileFormat
    target: Path | None  # None: stdout
    split: dict[str, Path]
    report: Path | None
    lock: OutputLock | None


def _plan(
    source: Source,
    input: str | Path,
    input_path: Path | None,
    output: str | Path | None,
    text_columns: Sequence[str] | None,
    split_by: str | None,
    report: str | Path | None,
    force: bool,
) -> _Plan:
    chosen = find_text_columns(source.columns, text_columns)
    # Columns the user named are read as named; found ones fall back to the next text column.
    fallback = [] if text_columns else find_fallback_columns(source.columns, chosen)
    output_name = str(output) if output is not None else _default_output(input_path, source.format)
    out_format = _output_format(output_name, source)
    target = None if output_name == "-" else Path(output_name)
    if target is None and split_by:
        raise LabelError("--split-by needs an output file (-o FILE), not stdout")
    if target is not None:
        _check_directory(target.parent if str(target.parent) else Path("."), "output")
        if input_path is not None and target.resolve() == input_path.resolve():
            raise LabelError(f"the output {target} is the input file; choose another -o")
    split = _split_targets(target) if (split_by and target is not None) else {}
    report_path = Path(report) if report is not None else None
    if report_path is not None:
        _check_directory(report_path.parent, "report")
    outputs = [p for p in [target, *split.values(), report_path] if p is not None]
    for path in outputs:
        if path.is_dir() and not path.is_symlink():
            raise LabelError(f"the output {path} is a directory; choose a file name with -o")
    existing = [p for p in outputs if p.exists() or p.is_symlink()]
    if existing and not force:
        raise LabelError(
            f"{existing[0]} already exists; use --force to overwrite"
            + (f" ({len(existing)} files)" if len(existing) > 1 else "")
        )
    lock = OutputLock(target) if target is not None else None
    return _Plan(list(chosen), fallback, out_format, target, split, report_path, lock)


def _load_model(
    model: str | Path | None, classifier: Classifier | None, jobs: int
) -> tuple[str | None, str, Classifier | None]:
    """The model's path (for worker processes), its version, and the loaded classifier."""
    if classifier is not None:
        return None, classifier.version, classifier
    # Found without importing classifier.predict (spaCy, the analysis): with worker
    # processes only the workers need the model, and the main process predicts nothing.
    from classifier.lean import ensure_model

    ref = ensure_model(model)
    model_path = str(ref.path.resolve())
    if jobs > 1:
        return model_path, ref.version, None
    from classifier.predict import get_classifier

    return model_path, ref.version, get_classifier(model_path)


def _open_sinks(plan: _Plan, source: Source) -> dict[str, Sink]:
    renamed = renamed_inputs(source.columns)
    out_columns = [renamed.get(c, c) for c in source.columns] + list(OUTPUT_COLUMNS)
    schema = output_schema(source) if plan.format.kind == "parquet" else None
    nested = source.format.kind == "jsonl"
    if plan.target is None:
        return {"main": StdoutSink(plan.format, out_columns, nested)}
    sinks: dict[str, Sink] = {"main": Sink(plan.target, plan.format, out_columns, schema, nested)}
    for name, path in plan.split.items():
        sinks[name] = Sink(path, plan.format, out_columns, schema, nested)
    return sinks


class _Run:
    """One labeling run: its sinks, its progress file and its summary."""

    def __init__(
        self,
        plan: _Plan,
        source: Source,
        sinks: dict[str, Sink],
        input_name: str,
        model_version: str,
    ) -> None:
        self.plan = plan
        self.source = source
        self.sinks = sinks
        self.summary = LabelSummary(
            input=input_name,
            output="<stdout>" if plan.target is None else str(plan.target),
            text_columns=list(plan.text_columns),
            fallback_columns=list(plan.fallback_columns),
            model_version=model_version,
        )
        self.progress_file = _progress_path(plan.target) if plan.target is not None else None
        self.fingerprint: dict[str, Any] = {}
        self.today = date.today()
        self.chunks_done = 0

    def restore_or_start(
        self, fingerprint: dict[str, Any], resume: bool, today: date | None
    ) -> tuple[int, date]:
        """Reopen the partial outputs of an interrupted run (``resume``) or start anew.

        Returns the number of chunks already done and the run's reference date.
        """
        self.fingerprint = fingerprint
        target = self.plan.target
        state = _load_progress(self.progress_file) if self.progress_file is not None else None
        partials = state.get("partials", {}) if state is not None else {}
        usable = state is not None and all(
            name in state["sizes"]
            and sink.can_restore(partials.get(name), int(state["sizes"][name]))
            for name, sink in self.sinks.items()
        )
        if resume and state is not None and usable:
            if state["fingerprint"] != fingerprint:
                changed = sorted(
                    k
                    for k in set(fingerprint) | set(state["fingerprint"])
                    if fingerprint.get(k) != state["fingerprint"].get(k)
                )
                raise LabelError(
                    f"cannot resume {target}: the interrupted run used a different "
                    f"{', '.join(changed)}; run without --resume to start over"
                )
            stored = date.fromisoformat(state["today"])
            if today is not None and today != stored:
                raise LabelError(f"cannot resume {target}: it was started with today={stored}")
            self.summary = LabelSummary.from_dict(state["summary"])
            self.summary.resumed_rows = self.summary.rows
            for name, sink in self.sinks.items():
                sink.start(partials[name], int(state["sizes"][name]))
            self.today = stored
            self.chunks_done = int(state["chunks"])
            return self.chunks_done, stored
        if resume:
            self.summary.notes.append(f"no interrupted run of {target} to resume; started anew")
        elif state is not None:
            self.summary.notes.append(
                f"discarded the partial output of an interrupted run of {target}"
            )
        for name, sink in self.sinks.items():
            sink.discard_stale(partials.get(name))
            sink.start()
        if self.progress_file is not None:
            self.progress_file.unlink(missing_ok=True)
        self.today = today or date.today()
        return 0, self.today

    def label_chunks(
        self,
        skip_chunks: int,
        classifier: Classifier | None,
        model_path: str | None,
        jobs: int,
        max_chars: int,
        today: date,
        quiet: bool,
        on_chunk: Callable[[int, int], None] | None,
    ) -> None:
        """Label and write every chunk after the first ``skip_chunks``."""
        source, summary = self.source, self.summary
        text_keys = list(self.plan.text_columns)
        id_column = find_id_column(source.columns)
        chunk_iter = source.chunks()
        for _ in range(skip_chunks):
            if next(chunk_iter, None) is None:
                raise LabelError(
                    f"cannot resume {self.plan.target}: the input has fewer rows than before"
                )
        from tqdm.auto import tqdm

        bar = tqdm(
            total=source.total_rows,
            initial=summary.rows,
            unit="rows",
            unit_scale=True,
            disable=True if quiet else None,
            file=sys.stderr,
            mininterval=0.5,
            desc="labeling",
        )
        labeled = labeled_chunks(
            chunk_iter,
            text_keys,
            classifier,
            model_path,
            jobs,
            max_chars,
            today,
            list(self.plan.fallback_columns),
        )
        try:
            for chunk, outputs in labeled:
                combined = combine(chunk.frame, outputs)
                for name, sink in self.sinks.items():
                    rows = combined if name == "main" else _split_rows(name, combined)
                    if len(rows):
                        sink.append(rows)
                summary.add(chunk.frame, outputs, text_keys, id_column, chunk.problems)
                self.chunks_done += 1
                self._save_progress()
                bar.update(len(outputs))
                if source.total_rows is None and source.total_bytes and source.bytes_read():
                    # An estimate from the bytes read so far gives the bar an ETA.
                    estimate = source.rows_read * source.total_bytes / source.bytes_read()
                    bar.total = max(int(estimate), summary.rows)
                if on_chunk is not None:
                    on_chunk(self.chunks_done, summary.rows)
        except KeyboardInterrupt:
            raise LabelInterrupted(
                summary.rows, summary.output, resumable=self.progress_file is not None
            ) from None
        finally:
            labeled.close()
            bar.close()

    def _save_progress(self) -> None:
        if self.progress_file is None:
            return
        state = {
            "schema": _PROGRESS_SCHEMA,
            "fingerprint": self.fingerprint,
            "today": self.today.isoformat(),
            "chunks": self.chunks_done,
            "sizes": {name: sink.size() for name, sink in self.sinks.items()},
            "partials": {name: sink.partial_name() for name, sink in self.sinks.items()},
            "summary": self.summary.to_dict(),
        }
        atomic_write_text(self.progress_file, json.dumps(state))

    def finish(self) -> None:
        """Rename every complete output into place; drop the progress file."""
        source, summary = self.source, self.summary
        summary.notes.extend(source.file_notes())
        if not summary.rows:
            summary.notes.append(f"{summary.input} has no rows: nothing to label")
        empty = combine(
            pd.DataFrame(columns=source.columns, dtype=object)
            if source.arrow_schema is None
            else source.arrow_schema.empty_table().to_pandas(ignore_metadata=True),
            empty_outputs(pd.RangeIndex(0)),
        )
        for name, sink in self.sinks.items():
            if name == "errors" and summary.errors == 0:
                sink.discard()  # no errors: no empty errors file to open
                continue
            sink.finish(_split_rows(name, empty) if name != "main" else empty)
        summary.split_files = [
            str(self.sinks[name].target)
            for name in self.plan.split
            if name != "errors" or summary.errors
        ]
        if self.progress_file is not None:
            self.progress_file.unlink(missing_ok=True)

    def abandon(self, keep_for_resume: bool) -> None:
        """After an error or an interruption: keep what ``--resume`` can use, drop the rest."""
        resumable = (
            keep_for_resume and self.progress_file is not None and self.progress_file.exists()
        )
        for sink in self.sinks.values():
            if resumable:
                sink.close()
            else:
                sink.discard()
        if self.progress_file is not None and not resumable:
            with contextlib.suppress(OSError):
                self.progress_file.unlink(missing_ok=True)


def _write_error(error: OSError, run: _Run | None) -> LabelError:
    """A failed write as one line: which file, why, and that nothing was left behind."""
    where = error.filename or (run.summary.output if run is not None else "the output")
    reason = error.strerror or str(error)
    if error.errno == errno.ENOSPC:
        reason = "no space left on the device"
    elif error.errno == errno.EDQUOT:
        reason = "disk quota exceeded"
    return LabelError(
        f"cannot write {where}: {reason}; the partial output was removed and nothing was "
        "written to the destination"
    )
