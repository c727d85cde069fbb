"""``painclf label``: label every row of a ticket export (a thin wrapper around ``label_file``)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from classifier.batch import DEFAULT_CHUNK_SIZE
from classifier.cli import ModelOption, app, handle_errors
from classifier.config import MAX_TEXT_CHARS
from classifier.dask_engine import DEFAULT_WORKERS

SHOWN_PROBLEMS = 20
SHOWN_ROWS = 60
EXIT_INTERRUPTED = 130


class InputFormat(StrEnum):
    csv = "csv"
    tsv = "tsv"
    jsonl = "jsonl"
    parquet = "parquet"
    xlsx = "xlsx"


class SplitBy(StrEnum):
    label = "label"


class Engine(StrEnum):
    local = "local"
    dask = "dask"


def _err(message: str) -> None:
    typer.echo(message, err=True)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let ``kill`` stop a run the way Ctrl-C does: finished chunks kept for --resume."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@app.command("label")
def label_command(
    input: Annotated[
        str,
        typer.Argument(
            help="CSV/TSV (.gz too), JSON Lines, Parquet or Excel (.xlsx); '-' reads CSV or "
            "JSONL from stdin.",
            show_default=False,
        ),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Output file; its extension sets the format; '-' is stdout. "
            "Default: <input stem>.labeled.<ext> next to the input.",
        ),
    ] = None,
    text_column: Annotated[
        list[str] | None,
        typer.Option(
            "--text-column",
            "-t",
            help="Column holding the text (repeat to join several). Default: found by name.",
        ),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option(min=1, help="Rows read, labeled and written at a time.")
    ] = DEFAULT_CHUNK_SIZE,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, help="Worker processes (model loaded once each).")
    ] = 1,
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Overwrite existing output files.")
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted run from its last chunk.")
    ] = False,
    split_by: Annotated[
        SplitBy | None,
        typer.Option(help="Also write one file per label, one for urgent and one for errors."),
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write a self-contained HTML report to this file.")
    ] = None,
    input_format: Annotated[
        InputFormat | None,
        typer.Option("--format", help="Input format, when the file name does not say."),
    ] = None,
    max_chars: Annotated[
        int, typer.Option(min=1, help="Longer texts are labeled from their first N characters.")
    ] = MAX_TEXT_CHARS,
    engine: Annotated[
        Engine,
        typer.Option(help="local: this machine; dask: partitioned input on a Dask cluster."),
    ] = Engine.local,
    scheduler: Annotated[
        str | None,
        typer.Option(help="With --engine dask: a running scheduler (tcp://host:port)."),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="With --engine dask: workers of the local cluster.")
    ] = DEFAULT_WORKERS,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")
    ] = False,
    show: Annotated[
        bool,
        typer.Option("--show", help=f"Also print the first {SHOWN_ROWS} labeled rows as a table."),
    ] = False,
    model: ModelOption = None,
) -> None:
    """Label every row of a ticket export: label, probabilities, urgent flag, status.

    Every input row comes out, in order, with status ok or error. Exit code 1 when
    nothing could be labeled (also for an input with no rows).
    """
    if engine is Engine.dask:
        from classifier.commands.dask_label import run_dask_engine

        local_only = {
            "--resume": resume,
            "--split-by": split_by is not None,
            "--report": report is not None,
            "--jobs": jobs != 1,
            "--chunk-size": chunk_size != DEFAULT_CHUNK_SIZE,
            "--format": input_format is not None,
            "--show": show,
        }
        if refused := [name for name, given in local_only.items() if given]:
            _err(
                f"painclf: error: {', '.join(refused)} work with --engine local only "
                "(the Dask engine partitions the input itself and writes Parquet files)"
            )
            raise typer.Exit(2)

        run_dask_engine(
            [input],
            Path(output) if output is not None else None,
            text_columns=text_column,
            scheduler=scheduler,
            workers=workers,
            model=model,
            force=force,
            quiet=quiet,
            max_chars=max_chars,
        )
        return
    from classifier.batch import LabelError, LabelInterrupted, label_file

    try:
        with handle_errors(), _sigterm_as_interrupt():
            summary = label_file(
                input,
                output,
                text_columns=text_column or None,
                chunk_size=chunk_size,
                jobs=jobs,
                force=force,
                resume=resume,
                split_by=split_by.value if split_by else None,
                report=report,
                quiet=quiet,
                model=model,
                input_format=input_format.value if input_format else None,
                max_chars=max_chars,
            )
    except LabelError as error:
        _err(f"painclf: error: {error}")
        raise typer.Exit(1) from None
    except LabelInterrupted as stop:
        how = (
            "run the same command with --resume to finish it"
            if stop.resumable and stop.rows_done
            else "nothing was written"
        )
        _err(f"painclf: interrupted after {stop.rows_done:,} rows; {how}")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except KeyboardInterrupt:
        _err("painclf: interrupted; nothing was written")
        raise typer.Exit(EXIT_INTERRUPTED) from None

    if not quiet:
        for problem in summary.problems[:SHOWN_PROBLEMS]:
            _err(f"warning: {problem}")
        if summary.problem_count > SHOWN_PROBLEMS:
            _err(
                f"warning: ... and {summary.problem_count - SHOWN_PROBLEMS:,} more problem rows "
                "(see the status and error columns)"
            )
        _err(summary.format())
    if show and summary.output != "-":
        typer.echo(format_labeled_rows(Path(summary.output), summary.text_columns, SHOWN_ROWS))
    if summary.labeled == 0:
        why = "it has no rows" if summary.rows == 0 else "every row has status error"
        _err(f"painclf: error: nothing could be labeled in {input}: {why}")
        raise typer.Exit(1)


def format_labeled_rows(path: Path, text_columns: list[str], limit: int) -> str:
    """A compact table of the first ``limit`` rows of a labeled output file."""
    import pandas as pd

    from classifier.batch import format_from_name

    fmt = format_from_name(path.name)
    kind = fmt.name if fmt is not None else None
    if kind == "parquet":
        frame = pd.read_parquet(path).head(limit)
    elif kind == "xlsx":
        frame = pd.read_excel(path, nrows=limit, dtype=str, keep_default_na=False)
    elif kind == "jsonl":
        frame = pd.read_json(path, lines=True, nrows=limit, dtype=False)
    else:
        sep = "\t" if kind == "tsv" else ","
        frame = pd.read_csv(path, sep=sep, nrows=limit, dtype=str, keep_default_na=False)
    first = frame.columns[0]
    lines = [f"{first[:12]:<12} {'label':<9} {'urgent':<6} {'conf':>5}  text"]
    for _, row in frame.iterrows():
        text = " ".join(" ".join(str(row.get(c, "")) for c in text_columns).split())
        text = text if len(text) <= 70 else text[:67] + "..."
        urgent = "YES" if str(row.get("urgent", "")).lower() in ("true", "1") else ""
        review = "?" if str(row.get("needs_review", "")).lower() in ("true", "1") else " "
        try:
            confidence = f"{float(row.get('confidence', '')):.2f}"
        except ValueError:
            confidence = "  -  "
        label = str(row.get("label", "")) or str(row.get("status", ""))
        lines.append(
            f"{str(row[first])[:12]:<12} {label:<9} {urgent:<6} {confidence:>5}{review} {text}"
        )
    lines.append("(? = needs review)")
    return "\n".join(lines)
