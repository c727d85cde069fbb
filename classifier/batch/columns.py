"""Which input columns hold the ticket text, and which one identifies a ticket."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from classifier.batch.common import TEXT_COLUMN_NAMES, LabelError

if TYPE_CHECKING:
    pass


_ID_COLUMNS = ("ticket_id", "ticket", "id", "case_id", "ticket_number", "reference", "key")


_NAME_FOLD = re.compile(r"[\s\-.]+")


def fold_name(name: str) -> str:
    return _NAME_FOLD.sub("_", str(name).strip().lower())


def find_text_columns(columns: Sequence[str], requested: Sequence[str] | None = None) -> list[str]:
    """The columns that hold the ticket text.

    Parameters
    ----------
    columns : sequence of str
        The input's columns.
    requested : sequence of str, optional
        Columns named by the user (``--text-column``); matched exactly, else ignoring
        case, spaces and hyphens. Without it, exactly one column must have a common
        text-column name (``text``, ``body``, ``message``, ``description``...).

    Returns
    -------
    list of str
        Column names as spelled in ``columns``, in the order requested.

    Raises
    ------
    ValueError
        A requested column is missing, or no or several columns look like text; the
        message lists the columns found.

    Examples
    --------
    >>> find_text_columns(["ticket_id", "Subject", "Body"])
    ['Body']
    >>> find_text_columns(["ticket_id", "Subject", "Body"], ["subject", "body"])
    ['Subject', 'Body']
    >>> find_text_columns(["id", "notes"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    classifier.batch.common.LabelError: no text column found; ... (columns found: id, notes)
    """
    names = [str(c) for c in columns]
    found = ", ".join(names) if names else "none"
    if isinstance(requested, str):
        requested = [requested]
    if requested:
        chosen = []
        for wanted in requested:
            if wanted in names:
                chosen.append(wanted)
                continue
            folded = [n for n in names if fold_name(n) == fold_name(wanted)]
            if len(folded) != 1:
                raise LabelError(f"no column {wanted!r} in the input (columns found: {found})")
            chosen.append(folded[0])
        return chosen
    known = {name: rank for rank, name in enumerate(TEXT_COLUMN_NAMES)}
    matches = [n for n in names if fold_name(n) in known]
    if len(matches) == 1:
        return matches
    if not matches:
        raise LabelError(
            f"no text column found; name it with --text-column (columns found: {found})"
        )
    raise LabelError(
        f"several columns could hold the text ({', '.join(matches)}); choose with "
        f"--text-column, repeated to join several (columns found: {found})"
    )


def find_id_column(columns: Sequence[str]) -> str | None:
    folded = {fold_name(c): c for c in reversed(columns)}
    return next((folded[name] for name in _ID_COLUMNS if name in folded), None)


# Columns that may hold a ticket's text when its main text column is empty, after the
# other TEXT_COLUMN_NAMES: a subject line or title is better than nothing.
FALLBACK_COLUMN_NAMES = ("subject", "title", "summary", "short_description", "notes", "note")


def find_fallback_columns(columns: Sequence[str], chosen: Sequence[str]) -> list[str]:
    """Other columns that look like text, best first: read when ``chosen`` are empty.

    Examples
    --------
    >>> find_fallback_columns(["id", "Subject", "Description"], ["Description"])
    ['Subject']
    """
    ranks = {name: rank for rank, name in enumerate((*TEXT_COLUMN_NAMES, *FALLBACK_COLUMN_NAMES))}
    candidates = [str(c) for c in columns if str(c) not in chosen and fold_name(c) in ranks]
    return sorted(candidates, key=lambda c: ranks[fold_name(c)])
