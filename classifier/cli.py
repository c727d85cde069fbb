"""The ``painclf`` command line: thin wrappers around the package's functions."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from classifier.config import SEED_DIR
from classifier.model import DEFAULT_C, DEFAULT_CUE_WEIGHT

if TYPE_CHECKING:
    from classifier.predict import Prediction

app = typer.Typer(
    name="painclf",
    help="Tell muscle soreness from pain in free-text complaints, and flag red flags.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ModelOption = Annotated[
    str | None,
    typer.Option("--model", "-m", help="Model version, directory or file (default: CURRENT)."),
]


def _err(message: str) -> None:
    typer.echo(message, err=True)


@contextlib.contextmanager
def handle_errors() -> Iterator[None]:
    """Turn painclf's own errors into a clear message and exit code 1, not a traceback."""
    from classifier.dataset import DataError
    from classifier.registry import ModelError
    from classifier.rules import RuleError

    try:
        yield
    except (DataError, ModelError, RuleError, FileNotFoundError, PermissionError) as error:
        _err(f"painclf: error: {error}")
        raise typer.Exit(1) from None


@app.command()
def train(
    data: Annotated[
        list[Path] | None,
        typer.Option("--data", "-d", help="Labeled file or directory (repeatable)."),
    ] = None,
    gold: Annotated[
        list[Path] | None,
        typer.Option("--gold", help="Fixed labeled file to report metrics on (repeatable)."),
    ] = None,
    models_dir: Annotated[
        Path | None, typer.Option("--models-dir", help="Registry directory (default: models/).")
    ] = None,
    c: Annotated[float, typer.Option(help="Inverse regularisation of the classifier.")] = DEFAULT_C,
    cue_weight: Annotated[
        float, typer.Option(help="Weight of the cue features.")
    ] = DEFAULT_CUE_WEIGHT,
) -> None:
    """Validate labeled data, cross-validate, and save a new model version."""
    from classifier.train import train as train_model

    with handle_errors():
        result = train_model(
            data=data or [SEED_DIR], gold=gold or [], root=models_dir, c=c, cue_weight=cue_weight
        )
    typer.echo(result.ref.version)


def _read_texts(texts: list[str]) -> list[str]:
    if texts == ["-"]:
        return [line.rstrip("\n") for line in sys.stdin]
    return texts


@app.command()
def predict(
    texts: Annotated[
        list[str], typer.Argument(help="Texts to classify; '-' reads lines from stdin.")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON, one object per text.")
    ] = False,
    model: ModelOption = None,
) -> None:
    """Classify texts and print a readable table (or JSON)."""
    from classifier.predict import get_classifier

    inputs = _read_texts(texts)
    with handle_errors():
        predictions = get_classifier(model).predict_many(inputs)
    for text, prediction in zip(inputs, predictions, strict=True):
        if as_json:
            typer.echo(json.dumps(prediction.to_dict(), ensure_ascii=False))
        else:
            typer.echo(format_prediction(text, prediction))


def format_prediction(text: str, prediction: Prediction) -> str:
    """A readable block for one prediction."""
    shown = " ".join(text.split())
    shown = shown if len(shown) <= 90 else shown[:87] + "..."
    probabilities = "  ".join(f"{k} {v:.2f}" for k, v in prediction.probabilities.items())
    review = "  (needs review)" if prediction.needs_review else ""
    urgent = "YES: " + "; ".join(prediction.urgent_reasons) if prediction.urgent else "no"
    lines = [f"text        {shown}"] if shown else []
    lines += [
        f"label       {prediction.label}{review}",
        f"confidence  {prediction.confidence:.2f}   ({probabilities})",
        f"urgent      {urgent}",
        f"evidence    {'; '.join(prediction.evidence) or '-'}",
    ]
    if prediction.duration_days is not None:
        days = prediction.duration_days
        lines.append(f"duration    {days:g} day{'' if days == 1 else 's'}")
    if prediction.notes:
        lines.append(f"notes       {'; '.join(prediction.notes)}")
    return "\n".join(lines) + "\n"


@app.command()
def evaluate(
    file: Annotated[Path, typer.Argument(help="Labeled CSV/JSONL/Parquet: text,label[,urgent].")],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the full report as JSON to this file.")
    ] = None,
    worst: Annotated[int, typer.Option(help="How many confident mistakes to list.")] = 15,
    baselines: Annotated[
        bool, typer.Option("--baselines", help="Also score the two seed-trained baselines.")
    ] = False,
    model: ModelOption = None,
) -> None:
    """Measure a model on a labeled file: per-label metrics, urgent recall, worst mistakes."""
    from classifier.atomic import atomic_write_text
    from classifier.evaluate import evaluate_frame, read_evaluation_rows
    from classifier.predict import get_classifier

    with handle_errors():
        rows = read_evaluation_rows(file)
        report = evaluate_frame(rows, get_classifier(model), file=str(file), worst=worst)
        typer.echo(report.format())
        data = report.to_dict()
        if baselines:
            from classifier.evaluate import compare_baselines, format_comparison

            comparison = compare_baselines(rows, report)
            typer.echo("\n" + format_comparison(comparison))
            data["baselines"] = comparison
        if json_out is not None:
            atomic_write_text(json_out, json.dumps(data, indent=2, default=str) + "\n")
            _err(f"report written to {json_out}")


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Labeled files or directories.")],
) -> None:
    """Check labeled files: unknown labels, empty texts, duplicates, conflicting labels."""
    from classifier.dataset import read_labeled, validate_labeled

    frame, problems, sources = read_labeled(files)
    if len(frame):
        _, more = validate_labeled(frame)
        problems.extend(more)
    for problem in problems:
        typer.echo(str(problem))
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    rows = sum(s.rows for s in sources)
    typer.echo(
        f"{rows} rows in {len(sources)} file(s): {errors} error(s), {warnings} warning(s)",
        err=True,
    )
    if errors:
        raise typer.Exit(1)


# The command modules add their commands to `app` when imported; they import `app`
# from here, so they come after it is defined.
from classifier.commands import dask_label as _dask_label  # noqa: E402,F401
from classifier.commands import label as _label  # noqa: E402,F401
from classifier.commands import lifecycle as _lifecycle  # noqa: E402,F401

DEBUG_FLAG = "--debug"


def main() -> None:
    """Console entry point: no traceback reaches the user unless ``--debug`` is given.

    Every command turns the errors it expects into one line and exit code 1; anything
    else (a bug, or an error nobody foresaw) is also one line, naming the error, with
    exit code 1. ``--debug`` anywhere on the command line shows the traceback instead.
    """
    debug = DEBUG_FLAG in sys.argv[1:]
    if debug:
        sys.argv.remove(DEBUG_FLAG)
    try:
        app()
    except KeyboardInterrupt:
        _err("painclf: interrupted")
        raise SystemExit(130) from None
    except Exception as error:
        if debug:
            raise
        where = f" ({error.filename})" if isinstance(error, OSError) and error.filename else ""
        _err(
            f"painclf: error: {type(error).__name__}{where}: {error} "
            f"(run again with {DEBUG_FLAG} for the traceback)"
        )
        raise SystemExit(1) from None


if __name__ == "__main__":
    # Run as a script this module is __main__, and the command modules registered their
    # commands on classifier.cli's app, a second copy: run that one.
    from classifier.cli import main as registered_main

    registered_main()
