"""Labeling a DataFrame: the text of each row, the output columns, inputs and outputs joined."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from classifier.batch.columns import find_text_columns
from classifier.batch.common import (
    EMPTY_TEXT,
    INPUT_PREFIX,
    NO_WORDS,
    OUTPUT_COLUMNS,
    PROBABILITY_DECIMALS,
    STATUS_ERROR,
    STATUS_OK,
)
from classifier.config import LABELS, MAX_TEXT_CHARS
from classifier.textnorm import (
    NOTE_CONFUSABLE,
    NOTE_INVISIBLE,
    NOTE_NFKC,
    NOTE_SURROGATE,
    NOTE_SYMBOL_RUN,
)

if TYPE_CHECKING:
    from classifier.predict import Classifier, Prediction


_LETTER = re.compile(r"[^\W\d_]")


def is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _pieces(cells: Sequence[Any]) -> tuple[list[str], list[Any]]:
    """The non-blank texts of a row's cells, and the cells that are not text."""
    pieces: list[str] = []
    non_text: list[Any] = []
    for value in cells:
        if isinstance(value, str):
            if value.strip():
                pieces.append(value)
        elif isinstance(value, bytes | bytearray):
            decoded = bytes(value).decode("utf-8", errors="replace")
            if decoded.strip():
                pieces.append(decoded)
        elif not is_missing(value):
            non_text.append(value)
            pieces.append(str(value))
    return pieces, non_text


def row_texts(
    frame: pd.DataFrame,
    text_columns: Sequence[Any],
    max_chars: int,
    fallback_columns: Sequence[Any] = (),
) -> tuple[list[str], list[str], list[bool]]:
    """The text to classify for each row, a note or error for it, and whether it is usable.

    Several text columns are joined with a newline, skipping blank cells. A row whose
    text columns are all empty is read from the first ``fallback_columns`` cell that
    holds text, with a note naming both columns.
    """
    columns = [frame[c].tolist() for c in text_columns]
    fallbacks = [(c, frame[c].tolist()) for c in fallback_columns]
    texts: list[str] = []
    notes: list[str] = []
    usable: list[bool] = []
    for row, cells in enumerate(zip(*columns, strict=True)):
        pieces, non_text = _pieces(cells)
        fell_back = ""
        if not pieces:
            for name, values in fallbacks:
                pieces, non_text = _pieces([values[row]])
                if pieces and not non_text:
                    fell_back = f"{', '.join(map(str, text_columns))} empty: text read from {name}"
                    break
                pieces, non_text = [], []
        text = "\n".join(pieces)
        if not pieces:
            texts.append("")
            notes.append(EMPTY_TEXT)
            usable.append(False)
        elif len(non_text) == len(pieces) or not _LETTER.search(text):
            # A cell that is only a number (or another non-text value) is no ticket.
            texts.append("")
            numbers = non_text and all(
                isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_)
                for v in non_text
            )
            if len(non_text) == len(pieces):
                kind = "a number" if numbers else f"a {type(non_text[0]).__name__}"
                notes.append(f"{kind}, not text ({text[:40]})")
            else:
                notes.append(NO_WORDS)
            usable.append(False)
        elif len(text) > max_chars:
            texts.append(text[:max_chars])
            notes.append(f"text cut to its first {max_chars} characters (was {len(text)})")
            usable.append(True)
        else:
            texts.append(text)
            notes.append(fell_back)
            usable.append(True)
    return texts, notes, usable


NORMALISATION_NOTES = frozenset(
    {NOTE_SURROGATE, NOTE_INVISIBLE, NOTE_NFKC, NOTE_CONFUSABLE, NOTE_SYMBOL_RUN}
)


def _predict_rows(
    classifier: Classifier,
    texts: list[str],
    today: date | None,
    notes: list[str],
    usable: list[bool],
) -> list[Prediction]:
    """Predictions for every row; a row that cannot be analysed becomes an error row.

    ``notes`` and ``usable`` are updated in place: a row whose analysis ran past its
    time budget, or raised, gets the reason and is not usable. One hostile row never
    aborts the chunk: after a failure the rows are predicted one by one.
    """
    from classifier.analysis import NOTE_OVER_BUDGET

    try:
        predictions = classifier.predict_many(texts, today=today)
    except Exception:
        predictions = []
        for i, text in enumerate(texts):
            try:
                predictions.append(classifier.predict(text, today=today))
            except Exception as error:
                predictions.append(classifier.predict("", today=today))
                notes[i] = f"could not analyse this row ({type(error).__name__}: {error})"[:300]
                usable[i] = False
    for i, prediction in enumerate(predictions):
        if usable[i]:
            budget = next((n for n in prediction.notes if n.startswith(NOTE_OVER_BUDGET)), None)
            if budget is not None:
                notes[i], usable[i] = budget, False
                continue
            # What normalisation changed is worth knowing (a hidden character may be an
            # attempt to hide a red flag): it goes in the error column of an ok row.
            changed = [n for n in prediction.notes if n in NORMALISATION_NOTES]
            if changed:
                notes[i] = "; ".join([n for n in [notes[i], *changed] if n])
    return predictions


def label_outputs(
    frame: pd.DataFrame,
    text_columns: Sequence[Any],
    classifier: Classifier,
    max_chars: int = MAX_TEXT_CHARS,
    today: date | None = None,
    unreadable: Sequence[str] | None = None,
    as_lists: bool = False,
    fallback_columns: Sequence[Any] = (),
) -> pd.DataFrame:
    """Only the output columns for ``frame`` (same index): what a worker sends back.

    ``unreadable`` holds, per row, why the row itself could not be read ("" when it
    was read); such rows get no label and ``status`` ``error``. ``as_lists``: the
    ``urgent_reasons`` and ``evidence`` cells are lists (for JSON Lines and Parquet
    output) instead of ``"; "``-joined strings. ``fallback_columns``: text columns
    read, with a note, for a row whose ``text_columns`` are all empty.
    """
    if len(frame) == 0:
        return empty_outputs(frame.index)
    texts, notes, usable = row_texts(frame, text_columns, max_chars, fallback_columns)
    if unreadable is not None:
        for i, problem in enumerate(unreadable):
            if problem:
                texts[i], notes[i], usable[i] = "", problem, False
    predictions = _predict_rows(classifier, texts, today, notes, usable)
    read = np.array(
        [not problem for problem in unreadable] if unreadable else [True] * len(texts), dtype=bool
    )
    ok = np.array(usable, dtype=bool)
    probabilities = np.array(
        [[p.probabilities.get(label, 0.0) for label in LABELS] for p in predictions], dtype=float
    ).reshape(len(predictions), len(LABELS))
    confidence = np.array([p.confidence for p in predictions], dtype=float)
    probabilities[~read] = np.nan
    confidence[~read] = np.nan
    columns: dict[str, Any] = {
        "label": [p.label if r else None for p, r in zip(predictions, read, strict=True)]
    }
    for index, label in enumerate(LABELS):
        columns[f"p_{label}"] = np.round(probabilities[:, index], PROBABILITY_DECIMALS)
    columns["confidence"] = np.round(confidence, PROBABILITY_DECIMALS)
    columns["urgent"] = np.array([bool(p.urgent) for p in predictions], dtype=bool) & ok
    join: Any = list if as_lists else "; ".join
    columns["urgent_reasons"] = [
        join(p.urgent_reasons) if good else join(())
        for p, good in zip(predictions, ok, strict=True)
    ]
    columns["needs_review"] = np.array([p.needs_review for p in predictions], dtype=bool) | ~ok
    columns["evidence"] = [
        join(p.evidence) if good else join(()) for p, good in zip(predictions, ok, strict=True)
    ]
    columns["duration_days"] = np.array(
        [
            p.duration_days if p.duration_days is not None and good else np.nan
            for p, good in zip(predictions, ok, strict=True)
        ],
        dtype=float,
    )
    columns["status"] = [STATUS_OK if good else STATUS_ERROR for good in ok]
    columns["error"] = notes
    outputs = pd.DataFrame(columns, index=frame.index)
    return outputs


def empty_outputs(index: pd.Index) -> pd.DataFrame:
    floats = {f"p_{label}" for label in LABELS} | {"confidence", "duration_days"}
    dtypes = {name: "float64" if name in floats else object for name in OUTPUT_COLUMNS}
    dtypes.update(urgent=bool, needs_review=bool)
    return pd.DataFrame(
        {name: pd.Series(dtype=dtype, index=index) for name, dtype in dtypes.items()}
    )


def renamed_inputs(columns: Sequence[Any]) -> dict[Any, str]:
    """Input columns that clash with an output column, and their new names (``input_label``)."""
    taken = {str(c) for c in columns}
    renames: dict[Any, str] = {}
    for column in columns:
        if str(column) in OUTPUT_COLUMNS:
            new = f"{INPUT_PREFIX}{column}"
            while new in taken:
                new = f"{INPUT_PREFIX}{new}"
            taken.add(new)
            renames[column] = new
    return renames


def combine(frame: pd.DataFrame, outputs: pd.DataFrame) -> pd.DataFrame:
    renames = renamed_inputs(frame.columns)
    combined = frame.rename(columns=renames) if renames else frame.copy()
    for column in OUTPUT_COLUMNS:
        # Same index object: assigned by position, whatever the index holds (duplicates too).
        combined[column] = outputs[column].set_axis(combined.index)
    return combined


def label_frame(
    frame: pd.DataFrame,
    text_columns: Sequence[str],
    classifier: Classifier | None = None,
    max_chars: int = MAX_TEXT_CHARS,
    *,
    today: date | None = None,
) -> pd.DataFrame:
    """Label every row of a DataFrame; never raises on a bad cell.

    Parameters
    ----------
    frame : DataFrame
        The tickets; any columns.
    text_columns : sequence of str
        The column(s) holding the text (see ``find_text_columns``); several are
        joined with a newline.
    classifier : Classifier, optional
        The model; default the current one (``get_classifier()``).
    max_chars : int
        Longer texts are classified from their first ``max_chars`` characters and
        the ``error`` column says so.
    today : date, optional
        Reference date for durations such as "since Monday"; default today.

    Returns
    -------
    DataFrame
        The input columns unchanged (one named like an output column gets the
        prefix ``input_``), then ``OUTPUT_COLUMNS``; same index and row order.
        ``urgent_reasons`` and ``evidence`` are joined with ``"; "``.
        Probabilities are rounded to 4 decimals.

    Examples
    --------
    >>> tickets = pd.DataFrame({"id": [1, 2], "body": ["How do I cancel my plan?", "  "]})
    >>> labeled = label_frame(tickets, ["body"])  # doctest: +SKIP
    >>> labeled[["id", "label", "status", "error"]].values.tolist()  # doctest: +SKIP
    [[1, 'other', 'ok', ''], [2, 'other', 'error', 'empty text']]
    """
    if classifier is None:
        from classifier.predict import get_classifier

        classifier = get_classifier()
    names = {str(c): c for c in frame.columns}
    chosen = [names[c] for c in find_text_columns(list(names), list(text_columns))]
    outputs = label_outputs(frame, chosen, classifier, max_chars=max_chars, today=today)
    return combine(frame, outputs)
