"""The ``painclf`` command line: thin wrappers around the package's functions.

Importing this module is cheap (typer and the standard library only): every command
imports what it needs when it runs, and the command modules whose imports are heavy
(``label`` needs pandas) are imported only when their command is called, so that
``painclf --help`` and ``painclf --version`` answer at once.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import json
import sys
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

import classifier
from classifier.config import DEFAULT_TRAINING_DATA

if TYPE_CHECKING:
    from classifier.predict import Prediction

# Commands defined in modules that are imported only when the command runs:
# command name -> (module, name of the function that implements it).
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "label": ("classifier.commands.label", "label_command"),
    "label-dask": ("classifier.commands.dask_label", "label_dask_command"),
}
JSON_OPTION = "--json"
JSON_STDOUT = "-"


@cache
def _docstring_summary(module: str, function: str) -> str:
    """The first line of a function's docstring, read from its source without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return ""
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return (ast.get_docstring(node) or "").strip().split("\n")[0]
    return ""


class _LazyCommand(TyperCommand):
    """Stands for a command whose module is not imported yet: listed in ``--help`` with
    its docstring's first line, and replaced by the real command when it is called."""

    def __init__(self, name: str, module: str, function: str) -> None:
        summary = _docstring_summary(module, function)
        super().__init__(name=name, help=summary, short_help=summary)
        self.module = module

    def load(self) -> Any:
        importlib.import_module(self.module)
        command = typer.main.get_command(app)
        assert isinstance(command, TyperGroup)
        return command.commands[str(self.name)]

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra):
        return self.load().make_context(info_name, args, parent=parent, **extra)


def normalise_json_option(args: Sequence[str]) -> list[str]:
    """``--json`` alone prints JSON on stdout; ``--json PATH`` writes it to PATH.

    Only a following argument that names a ``.json``/``.jsonl`` file (or ``-``) is taken
    as the path, so ``painclf predict --json "my back hurts"`` still classifies the text;
    ``--json=PATH`` writes to any path.

    Examples
    --------
    >>> normalise_json_option(["predict", "--json", "my back"])
    ['predict', '--json=-', 'my back']
    >>> normalise_json_option(["evaluate", "gold.csv", "--json", "out/report.json"])
    ['evaluate', 'gold.csv', '--json', 'out/report.json']
    """
    result: list[str] = []
    args = list(args)
    for index, arg in enumerate(args):
        if arg == JSON_OPTION:
            following = args[index + 1] if index + 1 < len(args) else None
            takes_path = following is not None and (
                following == JSON_STDOUT or following.lower().endswith((".json", ".jsonl"))
            )
            if not takes_path:
                result.append(f"{JSON_OPTION}={JSON_STDOUT}")
                continue
        if arg == "--":
            result.extend(args[index:])
            break
        result.append(arg)
    return result


class _PainclfGroup(TyperGroup):
    """The root command: lazy command modules and one meaning of ``--json``."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        return names + [name for name in LAZY_COMMANDS if name not in names]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in LAZY_COMMANDS:
            command = _LazyCommand(cmd_name, *LAZY_COMMANDS[cmd_name])
        return command

    def main(self, args: Sequence[str] | None = None, *rest: Any, **extra: Any) -> Any:
        args = sys.argv[1:] if args is None else args
        return super().main(normalise_json_option(args), *rest, **extra)


app = typer.Typer(
    name="painclf",
    cls=_PainclfGroup,
    help="Tell muscle soreness from pain in free-text complaints, and flag red flags.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"painclf {classifier.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_show_version,
            is_eager=True,
            help="Print the painclf version and exit.",
        ),
    ] = False,
) -> None:
    """Tell muscle soreness from pain in free-text complaints, and flag red flags."""


ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Model version, directory or file, or 'shipped' (default: CURRENT, else the "
        "model shipped with painclf).",
    ),
]
TextColumnOption = Annotated[
    list[str] | None,
    typer.Option(
        "--text-column",
        "-t",
        help="Column holding the text (repeat to join several). Default: found by name.",
    ),
]
JsonOption = Annotated[
    str | None,
    typer.Option(
        JSON_OPTION,
        metavar="[PATH]",
        help="JSON instead of text: alone it prints JSON; with a .json/.jsonl path "
        "(or --json=PATH) it writes it there.",
    ),
]
ForceOption = Annotated[
    bool, typer.Option("--force", "-f", help="Overwrite an existing output file.")
]


def emit_json(text: str, destination: str | None) -> None:
    """Print ``text`` (``--json`` alone) or write it atomically to the ``--json`` path."""
    if destination in (None, JSON_STDOUT):
        typer.echo(text)
        return
    from classifier.atomic import atomic_write_text

    atomic_write_text(Path(destination), text if text.endswith("\n") else text + "\n")
    _err(f"JSON written to {destination}")


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
        typer.Option(
            "--data",
            "-d",
            help="Labeled file or directory (repeatable). Default: "
            + ", ".join(p.name for p in DEFAULT_TRAINING_DATA)
            + " (the data the shipped model is built from).",
        ),
    ] = None,
    gold: Annotated[
        list[Path] | None,
        typer.Option("--gold", "-g", help="Fixed labeled file to report metrics on (repeatable)."),
    ] = None,
    models_dir: Annotated[
        Path | None, typer.Option("--models-dir", help="Registry directory (default: models/).")
    ] = None,
    inverse_regularization: Annotated[
        float | None,
        typer.Option(
            "--inverse-regularization",
            help="C of the logistic regression: higher fits the training data more closely "
            "(default 4.0).",
        ),
    ] = None,
    cue_weight: Annotated[
        float | None,
        typer.Option("--cue-weight", help="Weight of the cue features (default 2.0)."),
    ] = None,
) -> None:
    """Validate labeled data, cross-validate, and save a new model version."""
    from classifier.model import DEFAULT_C, DEFAULT_CUE_WEIGHT
    from classifier.train import train as train_model

    with handle_errors():
        result = train_model(
            data=data or list(DEFAULT_TRAINING_DATA),
            gold=gold or [],
            root=models_dir,
            c=DEFAULT_C if inverse_regularization is None else inverse_regularization,
            cue_weight=DEFAULT_CUE_WEIGHT if cue_weight is None else cue_weight,
        )
    typer.echo(result.ref.version)


def _read_texts(texts: list[str]) -> list[str]:
    if texts == ["-"]:
        return [line.rstrip("\n") for line in sys.stdin]
    return texts


@app.command()
def predict(
    texts: Annotated[
        list[str] | None, typer.Argument(help="Texts to classify; '-' reads lines from stdin.")
    ] = None,
    json_out: JsonOption = None,
    model: ModelOption = None,
) -> None:
    """Classify texts and print a readable table (or JSON Lines, one object per text)."""
    from classifier.predict import get_classifier

    if not texts:
        _err("painclf: error: give one or more texts, or '-' to read lines from stdin")
        raise typer.Exit(2)
    inputs = _read_texts(texts)
    with handle_errors():
        classifier_ = get_classifier(model)
        predictions = classifier_.predict_many(inputs)
    if json_out is not None:
        lines = [json.dumps(p.to_dict(), ensure_ascii=False) for p in predictions]
        emit_json("\n".join(lines), json_out)
        return
    for text, prediction in zip(inputs, predictions, strict=True):
        typer.echo(format_prediction(text, prediction))
    _err(f"{len(predictions)} text(s) classified by model {classifier_.version}")


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
    json_out: JsonOption = None,
    worst: Annotated[
        int, typer.Option("--worst", "-w", help="How many confident mistakes to list.")
    ] = 15,
    baselines: Annotated[
        bool, typer.Option("--baselines", help="Also score the two seed-trained baselines.")
    ] = False,
    model: ModelOption = None,
) -> None:
    """Measure a model on a labeled file: per-label metrics, urgent recall, worst mistakes."""
    from classifier.evaluate import evaluate_frame, read_evaluation_rows
    from classifier.predict import get_classifier

    with handle_errors():
        rows = read_evaluation_rows(file)
        classifier_ = get_classifier(model)
        report = evaluate_frame(rows, classifier_, file=str(file), worst=worst)
        data = report.to_dict()
        if json_out != JSON_STDOUT:
            typer.echo(f"model {classifier_.version}\n" + report.format())
        if baselines:
            from classifier.evaluate import compare_baselines, format_comparison

            comparison = compare_baselines(rows, report)
            if json_out != JSON_STDOUT:
                typer.echo("\n" + format_comparison(comparison))
            data["baselines"] = comparison
        if json_out is not None:
            emit_json(json.dumps(data, indent=2, default=str), json_out)


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
# from here, so they come after it is defined. These are cheap to import; the heavy
# ones are in LAZY_COMMANDS.
from classifier.commands import lifecycle as _lifecycle  # noqa: E402,F401
from classifier.commands import review as _review  # noqa: E402,F401

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
