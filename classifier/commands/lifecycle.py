"""The ``painclf models``, ``promote``, ``diff`` and ``suggest`` commands (the model lifecycle)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from classifier.cli import (
    ForceOption,
    JsonOption,
    ModelOption,
    TextColumnOption,
    app,
    emit_json,
    handle_errors,
)

models_app = typer.Typer(
    help="Look at the model registry: versions, metrics, model cards.", no_args_is_help=True
)
app.add_typer(models_app, name="models")

ModelsDirOption = Annotated[
    Path | None,
    typer.Option(
        "--models-dir", help="Registry directory (default: models/, or $PAINCLF_MODELS_DIR)."
    ),
]


def _err(message: str) -> None:
    typer.echo(message, err=True)


@models_app.command("list")
def models_list(
    models_dir: ModelsDirOption = None,
    json_out: JsonOption = None,
) -> None:
    """List model versions: created, training data, cross-validated and gold metrics."""
    from classifier.lifecycle import format_overview, registry_overview

    overview = registry_overview(models_dir)
    if json_out is not None:
        emit_json(json.dumps(overview.to_dict(), indent=2), json_out)
    else:
        typer.echo(format_overview(overview))


@models_app.command("current")
def models_current(
    models_dir: ModelsDirOption = None,
    json_out: JsonOption = None,
) -> None:
    """Which model predict and label use: version, path, training data, metrics."""
    from classifier.lifecycle import current_model, format_current_model

    with handle_errors():
        info = current_model(models_dir)
    if json_out is not None:
        emit_json(json.dumps(info, indent=2), json_out)
    else:
        typer.echo(format_current_model(info))


@models_app.command("show")
def models_show(
    version: Annotated[str, typer.Argument(help="Version name, model directory, or CURRENT.")],
    models_dir: ModelsDirOption = None,
) -> None:
    """Print a version's model card (MODEL_CARD.md)."""
    from classifier.lifecycle import model_card

    with handle_errors():
        typer.echo(model_card(version, models_dir))


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="The version to make current.")],
    gold: Annotated[Path, typer.Option("--gold", help="Labeled file both models are measured on.")],
    force: Annotated[
        bool, typer.Option("--force", help="Promote even if the gate refuses (logged).")
    ] = False,
    models_dir: ModelsDirOption = None,
) -> None:
    """Make VERSION current if it is not worse than the current model on the gold file.

    The gate: macro-F1 at most 0.01 below the current model's, and urgent recall not
    lower at all. A refusal exits with status 1 and prints both models side by side.
    """
    from classifier.lifecycle import promote as promote_version

    with handle_errors():
        result = promote_version(version, gold, root=models_dir, force=force)
    typer.echo(result.format())
    if not result.promoted:
        raise typer.Exit(1)


@app.command()
def diff(
    old: Annotated[str, typer.Argument(help="The old version (or CURRENT).")],
    new: Annotated[str, typer.Argument(help="The new version (or CURRENT).")],
    file: Annotated[Path, typer.Argument(help="CSV/TSV/JSONL/Parquet/TXT file of texts.")],
    text_column: TextColumnOption = None,
    top: Annotated[int, typer.Option("--top", help="How many changed rows to show.")] = 15,
    json_out: JsonOption = None,
    models_dir: ModelsDirOption = None,
) -> None:
    """Label FILE with two versions: what changed, OLD x NEW table, urgent flips, rows to check."""
    from classifier.lifecycle import diff_predictions, load_classifier, read_texts

    with handle_errors():
        old_model = load_classifier(old, models_dir)
        new_model = load_classifier(new, models_dir)
        texts, lines = read_texts(file, text_column)
        report = diff_predictions(old_model, new_model, texts, lines, file=str(file))
    if json_out is not None:
        emit_json(json.dumps(report.to_dict(top=top), indent=2, ensure_ascii=False), json_out)
    else:
        typer.echo(report.format(top=top))


@app.command()
def suggest(
    tickets: Annotated[Path, typer.Argument(help="CSV/TSV/JSONL/Parquet/TXT file of texts.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV (or .jsonl) to write.")],
    count: Annotated[
        int, typer.Option("--count", "-n", min=1, help="How many texts to suggest.")
    ] = 50,
    text_column: TextColumnOption = None,
    strategy: Annotated[
        str, typer.Option("--strategy", help="Uncertainty measure: margin or entropy.")
    ] = "margin",
    exclude: Annotated[
        list[Path] | None,
        typer.Option(
            "--exclude", "-x", help="Labeled file or directory whose texts to skip (repeatable)."
        ),
    ] = None,
    force: ForceOption = False,
    model: ModelOption = None,
    models_dir: ModelsDirOption = None,
) -> None:
    """Pick the N texts most worth labeling next: least confident, and unlike each other.

    OUTPUT has the ticket id (when the input has an id column), text, an empty label,
    urgent and urgent_reasons to fill in (a blank urgent means 0), and the model's answer
    as hint_ columns; fill it in (or use `painclf review`) and pass it to
    `painclf validate` and `painclf train --data`.
    """
    from classifier.lifecycle import (
        labeled_texts,
        load_classifier,
        read_tickets,
        write_suggestions,
    )
    from classifier.lifecycle import suggest as suggest_texts

    if strategy not in ("margin", "entropy"):
        _err(f"painclf: error: unknown strategy {strategy!r}: use margin or entropy")
        raise typer.Exit(1)
    if output.exists() and not force:
        _err(f"painclf: error: {output} exists; pass --force to overwrite it")
        raise typer.Exit(1)
    with handle_errors():
        classifier = load_classifier(model, models_dir)
        rows = read_tickets(tickets, text_column)
        skip = labeled_texts(exclude) if exclude else []
        chosen = suggest_texts(
            classifier,
            rows.texts,
            n=count,
            lines=rows.lines,
            strategy=strategy,
            exclude=skip,
            ids=rows.ids,
            id_column=rows.id_column or "id",
        )
        write_suggestions(chosen, output, force=force)
    short = f" (only {len(chosen)} distinct unlabeled texts)" if len(chosen) < count else ""
    columns = " + ".join(rows.text_columns) or "one text per line"
    ids = f", ids from {rows.id_column!r}" if rows.id_column else ""
    _err(
        f"{len(chosen)} texts to label written to {output}{short} (text from {columns}{ids}; "
        f"model {classifier.version}); fill in the label column, "
        f"then: painclf validate {output} && painclf train --data ... --data {output}"
    )
