"""``painclf review``: correct the model's answers one text at a time in a local web page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from classifier.cli import ModelOption, TextColumnOption, app, handle_errors


def _err(message: str) -> None:
    typer.echo(message, err=True)


@app.command()
def review(
    file: Annotated[
        Path, typer.Argument(help="Tickets (CSV/TSV/JSONL/Parquet/TXT) or a `suggest` output.")
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Labeled CSV the answers are appended to (default: <FILE stem>.reviewed.csv "
            "next to FILE). Run again with the same file to continue.",
        ),
    ] = None,
    text_column: TextColumnOption = None,
    select: Annotated[
        str,
        typer.Option(
            "--select",
            "-s",
            help="flagged: urgent or needs-review answers; suggest: the texts most worth "
            "labeling (as `painclf suggest`); all: every text.",
        ),
    ] = "flagged",
    count: Annotated[
        int | None, typer.Option("--count", "-n", min=1, help="At most this many texts.")
    ] = None,
    port: Annotated[
        int, typer.Option("--port", "-p", min=0, help="Port on 127.0.0.1 (default: a free one).")
    ] = 0,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open the page in a browser.")
    ] = False,
    model: ModelOption = None,
) -> None:
    """Review the model's answers in a local web page, one text at a time, keyboard only.

    Keys: 1 soreness, 2 pain, 3 other, u toggle urgent, s skip, z undo. Every answer is
    appended at once to OUTPUT, a labeled file for `painclf validate` and
    `painclf train --data`; the page links to the labeling guide.
    """
    from classifier.review import (
        ReviewError,
        ReviewLog,
        ReviewSession,
        build_queue,
        make_server,
    )

    output = output or file.with_name(f"{file.stem}.reviewed.csv")
    try:
        with handle_errors():
            log = ReviewLog(output)
            items = build_queue(file, text_column, select=select, count=count, model=model)
    except ReviewError as error:
        _err(f"painclf: error: {error}")
        raise typer.Exit(1) from None
    session = ReviewSession(items, log, source=str(file))
    already = len(session.state()["answered"])
    server = make_server(session, port)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    typer.echo(
        f"painclf review: {url}  ({len(items)} texts, {already} already answered; "
        f"answers go to {output}; Ctrl-C stops)"
    )
    if not no_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    answers = len(log.rows())
    _err(f"stopped; {answers} answer(s) in {output}: painclf validate {output}")
