"""``painclf label-dask``: label partitioned exports on a Dask cluster (wraps ``label_dask``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from classifier.cli import ModelOption, app, handle_errors
from classifier.config import MAX_TEXT_CHARS
from classifier.dask_engine import DEFAULT_WORKERS

if TYPE_CHECKING:
    from classifier.batch import LabelSummary

EXIT_INTERRUPTED = 130
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Address of a running Dask scheduler (tcp://host:port); "
        "default: start a local cluster.",
    ),
]
WorkersOption = Annotated[
    int,
    typer.Option(
        "--workers", min=1, help="Worker processes of the local cluster (one thread each)."
    ),
]


def run_dask_engine(
    inputs: list[str],
    output: Path | None,
    *,
    text_columns: list[str] | None,
    scheduler: str | None,
    workers: int,
    model: str | None,
    force: bool,
    quiet: bool,
    max_chars: int = MAX_TEXT_CHARS,
) -> LabelSummary:
    """Run ``label_dask`` for a command and print its summary; errors exit 1 with a message.

    As ``painclf label``: exit code 1 when nothing could be labeled (no rows, or
    every row has status error), 130 on Ctrl-C (nothing is left at the output).

    ``painclf label --engine dask`` and ``painclf label-dask`` share this, so both
    check, label and report the same way.
    """
    from classifier.dask_engine import DaskEngineError, label_dask

    if output is None:
        typer.echo("painclf: error: --engine dask needs -o OUTPUT_DIR", err=True)
        raise typer.Exit(1)
    with handle_errors():
        try:
            summary = label_dask(
                inputs[0] if len(inputs) == 1 else inputs,
                output,
                text_columns=text_columns or None,
                scheduler=scheduler,
                n_workers=workers,
                model=model,
                force=force,
                max_chars=max_chars,
                progress=not quiet,
            )
        except DaskEngineError as error:
            typer.echo(f"painclf: error: {error}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("painclf: interrupted; nothing was written", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
    if not quiet:
        typer.echo(summary.format(), err=True)
    if summary.labeled == 0:
        # The output is written, but a script must notice that it holds no labels.
        why = "it has no rows" if summary.rows == 0 else "every row has status error"
        typer.echo(f"painclf: error: nothing could be labeled in {inputs[0]}: {why}", err=True)
        raise typer.Exit(1)
    return summary


@app.command("label-dask")
def label_dask_command(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="Directory, glob or files of Parquet or CSV/TSV (one kind); quote globs."
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Output directory of Parquet files (one per partition)."
        ),
    ],
    text_column: Annotated[
        list[str] | None,
        typer.Option("--text-column", "-t", help="Text column (repeatable: joined)."),
    ] = None,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = DEFAULT_WORKERS,
    model: ModelOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no summary.")] = False,
) -> None:
    """Label partitioned Parquet/CSV exports on a Dask cluster into a directory of Parquet files.

    Rows keep the input's order (files in natural name order); the output's index
    ``input_row`` numbers them. Needs the optional extra: pip install 'painclf\\[dask]'.
    """
    run_dask_engine(
        inputs,
        output,
        text_columns=text_column,
        scheduler=scheduler,
        workers=workers,
        model=model,
        force=force,
        quiet=quiet,
    )
