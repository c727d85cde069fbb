"""Batch labeling: stream a ticket export in chunks, label every row, write it back out in order.

``label_frame`` labels a DataFrame in memory (one ``predict_many`` call); ``label_file``
streams a CSV/TSV (optionally gzipped), JSON Lines or Parquet file through it chunk by
chunk, in one process or in ``jobs`` worker processes, and writes a file of the same
shape with the output columns added. ``painclf label`` is a thin wrapper around
``label_file``.

Row statuses, as users see them in the ``status`` and ``error`` columns:

- ``ok``: the text was classified. ``error`` is empty, or holds a note about the
  input (a text longer than ``max_chars`` is classified from its first ``max_chars``
  characters, and the note says so).
- ``error`` with a label: the text cell is empty, blank, missing (NaN/null), a number,
  or has no words. Nothing can be classified, so the row is labeled ``other`` with
  ``needs_review`` set, as ``painclf predict`` does, and ``error`` says why.
- ``error`` without a label: the row itself could not be read (a CSV row with the
  wrong number of fields or an unbalanced quote, an invalid JSON line). Its
  readable fields are kept, ``label`` is empty, ``needs_review`` is set and ``error``
  names the line.

Every input row comes out, in input order, with a status: no row is ever dropped.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from classifier.atomic import atomic_path, atomic_write_text
from classifier.config import LABELS, MAX_TEXT_CHARS

if TYPE_CHECKING:
    import pyarrow as pa

    from classifier.predict import Classifier

OUTPUT_COLUMNS = (
    "label",
    "p_soreness",
    "p_pain",
    "p_other",
    "confidence",
    "urgent",
    "urgent_reasons",
    "needs_review",
    "evidence",
    "duration_days",
    "status",
    "error",
)
# Column names recognised as the ticket text when --text-column is not given.
TEXT_COLUMN_NAMES = (
    "text",
    "body",
    "message",
    "description",
    "complaint",
    "ticket_text",
    "ticket_body",
    "message_body",
    "message_text",
    "complaint_text",
    "customer_message",
    "comment",
    "content",
    "details",
)
# Input columns with these names are renamed so that they do not clash with the output.
INPUT_PREFIX = "input_"
DEFAULT_CHUNK_SIZE = 5_000
INPUT_FORMATS = ("csv", "tsv", "jsonl", "parquet")
SPLIT_BY = ("label",)
STATUS_OK = "ok"
STATUS_ERROR = "error"
EMPTY_TEXT = "empty text"
NO_WORDS = "no words to classify"
CONFIDENCE_BINS = 20
PROBABILITY_DECIMALS = 4
MAX_PROBLEMS_KEPT = 1_000
MAX_URGENT_LISTED = 500
URGENT_TEXT_CHARS = 300
# A quoted CSV field may hold a 5 MB ticket; an unclosed quote stops at this size
# instead of swallowing the rest of the file into one field.
CSV_FIELD_LIMIT = 64 * 1024 * 1024
_PROGRESS_SCHEMA = 1
_PARTIAL_SUFFIX = ".painclf-partial"
_PROGRESS_SUFFIX = ".painclf-progress.json"
_ID_COLUMNS = ("ticket_id", "ticket", "id", "case_id", "ticket_number", "reference", "key")
_LETTER = re.compile(r"[^\W\d_]")
_NAME_FOLD = re.compile(r"[\s\-.]+")


class LabelError(ValueError):
    """The input or output cannot be used; the message names the file or column and the fix."""


class LabelInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C (or SIGTERM) after ``rows_done`` rows; ``--resume`` continues it.

    A subclass of ``KeyboardInterrupt``, so callers that catch that still do.
    """

    def __init__(self, rows_done: int, output: str, resumable: bool) -> None:
        self.rows_done = rows_done
        self.output = output
        self.resumable = resumable
        super().__init__(f"interrupted after {rows_done} rows")


# --- text columns ---------------------------------------------------------------------------


def _fold(name: str) -> str:
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
    classifier.batch.LabelError: no text column found; ... (columns found: id, notes)
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
            folded = [n for n in names if _fold(n) == _fold(wanted)]
            if len(folded) != 1:
                raise LabelError(f"no column {wanted!r} in the input (columns found: {found})")
            chosen.append(folded[0])
        return chosen
    known = {name: rank for rank, name in enumerate(TEXT_COLUMN_NAMES)}
    matches = [n for n in names if _fold(n) in known]
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


# --- labeling a frame -----------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _row_texts(
    frame: pd.DataFrame, text_columns: Sequence[Any], max_chars: int
) -> tuple[list[str], list[str], list[bool]]:
    """The text to classify for each row, a note or error for it, and whether it is usable.

    Several text columns are joined with a newline, skipping blank cells.
    """
    columns = [frame[c].tolist() for c in text_columns]
    texts: list[str] = []
    notes: list[str] = []
    usable: list[bool] = []
    for cells in zip(*columns, strict=True):
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
            elif not _is_missing(value):
                non_text.append(value)
                pieces.append(str(value))
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
            notes.append("")
            usable.append(True)
    return texts, notes, usable


def label_outputs(
    frame: pd.DataFrame,
    text_columns: Sequence[Any],
    classifier: Classifier,
    max_chars: int = MAX_TEXT_CHARS,
    today: date | None = None,
    unreadable: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Only the output columns for ``frame`` (same index): what a worker sends back.

    ``unreadable`` holds, per row, why the row itself could not be read ("" when it
    was read); such rows get no label and ``status`` ``error``.
    """
    if len(frame) == 0:
        return _empty_outputs(frame.index)
    texts, notes, usable = _row_texts(frame, text_columns, max_chars)
    if unreadable is not None:
        for i, problem in enumerate(unreadable):
            if problem:
                texts[i], notes[i], usable[i] = "", problem, False
    predictions = classifier.predict_many(texts, today=today)
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
    columns["urgent_reasons"] = [
        "; ".join(p.urgent_reasons) if good else "" for p, good in zip(predictions, ok, strict=True)
    ]
    columns["needs_review"] = np.array([p.needs_review for p in predictions], dtype=bool) | ~ok
    columns["evidence"] = [
        "; ".join(p.evidence) if good else "" for p, good in zip(predictions, ok, strict=True)
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


def _empty_outputs(index: pd.Index) -> pd.DataFrame:
    floats = {f"p_{label}" for label in LABELS} | {"confidence", "duration_days"}
    dtypes = {name: "float64" if name in floats else object for name in OUTPUT_COLUMNS}
    dtypes.update(urgent=bool, needs_review=bool)
    return pd.DataFrame(
        {name: pd.Series(dtype=dtype, index=index) for name, dtype in dtypes.items()}
    )


def _renamed_inputs(columns: Sequence[Any]) -> dict[Any, str]:
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


def _combine(frame: pd.DataFrame, outputs: pd.DataFrame) -> pd.DataFrame:
    renames = _renamed_inputs(frame.columns)
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
    return _combine(frame, outputs)


# --- file formats ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileFormat:
    """How a file is stored: ``csv`` (with its delimiter), ``jsonl`` or ``parquet``; gzipped?"""

    kind: str
    delimiter: str = ","
    gzip: bool = False

    @property
    def name(self) -> str:
        if self.kind == "csv" and self.delimiter == "\t":
            return "tsv"
        return self.kind


def format_from_name(name: str) -> FileFormat | None:
    """The format a file name implies, or None.

    Examples
    --------
    >>> format_from_name("export.tsv.gz")
    FileFormat(kind='csv', delimiter='\\t', gzip=True)
    >>> format_from_name("export.xlsx") is None
    True
    """
    lower = name.lower()
    compressed = lower.endswith(".gz")
    if compressed:
        lower = lower[:-3]
    suffix = Path(lower).suffix
    if suffix in (".csv", ".txt"):
        return FileFormat("csv", ",", compressed)
    if suffix in (".tsv", ".tab"):
        return FileFormat("csv", "\t", compressed)
    if suffix in (".jsonl", ".ndjson"):
        return FileFormat("jsonl", ",", compressed)
    if suffix in (".parquet", ".pq") and not compressed:
        return FileFormat("parquet")
    return None


def _format_from_option(value: str, compressed: bool = False) -> FileFormat:
    if value not in INPUT_FORMATS:
        raise LabelError(f"unknown format {value!r}; formats are {', '.join(INPUT_FORMATS)}")
    if value == "tsv":
        return FileFormat("csv", "\t", compressed)
    return FileFormat(value, ",", compressed and value != "parquet")


def _split_name(path: Path) -> tuple[str, str]:
    """A file name's stem and its format suffixes: ``out.csv.gz`` -> ``("out", ".csv.gz")``."""
    name = path.name
    extra = ".gz" if name.lower().endswith(".gz") else ""
    base = name[: len(name) - len(extra)]
    suffix = Path(base).suffix
    return base[: len(base) - len(suffix)], suffix + extra


# --- readers --------------------------------------------------------------------------------


def _decode_legacy(raw: bytes) -> str:
    # Windows-1252 is what "Latin-1" exports usually are; it leaves five bytes undefined.
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class _Lines:
    """Decoded lines of a byte stream, with push-back and the lines of the current record.

    Each line is read as UTF-8 (a leading BOM is dropped); a line that is not valid
    UTF-8 is read as Windows-1252/Latin-1 and counted, so one stray byte does not
    stop the file.
    """

    def __init__(self, raw: Iterable[bytes]) -> None:
        self._raw = iter(raw)
        self._pushed: deque[str] = deque()
        self.record: list[str] = []
        self.line = 0
        self._raw_line = 0
        self.bytes_read = 0
        self.legacy_lines = 0
        self.first_legacy: int | None = None

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._pushed:
            text = self._pushed.popleft()
        else:
            raw = next(self._raw)
            self.bytes_read += len(raw)
            self._raw_line += 1
            if self._raw_line == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = _decode_legacy(raw)
                self.legacy_lines += 1
                if self.first_legacy is None:
                    self.first_legacy = self._raw_line
        self.line += 1
        self.record.append(text)
        return text

    def push_back(self, lines: Sequence[str]) -> None:
        self._pushed.extendleft(reversed(lines))
        self.line -= len(lines)

    def encoding_note(self, name: str) -> str | None:
        if not self.legacy_lines:
            return None
        return (
            f"{name}: {self.legacy_lines} line(s) are not valid UTF-8 (first: line "
            f"{self.first_legacy}); they were read as Windows-1252/Latin-1"
        )


@dataclass(slots=True)
class Chunk:
    """Rows read from the input: the frame (index = row number in the file, from 0),
    why each row could not be read ("" when it could), and the problems found."""

    frame: pd.DataFrame
    unreadable: list[str]
    problems: list[str]


class _Source:
    """An open input: its columns, and its rows as chunks."""

    name: str
    format: FileFormat
    columns: list[str]
    arrow_schema: pa.Schema | None = None
    total_rows: int | None = None
    total_bytes: int | None = None
    rows_read: int = 0

    def __init__(self) -> None:
        self.notes: list[str] = []
        self._closers: list[IO[Any]] = []

    def chunks(self) -> Iterator[Chunk]:
        raise NotImplementedError

    def bytes_read(self) -> int:
        return 0

    def file_notes(self) -> list[str]:
        return list(self.notes)

    def close(self) -> None:
        for handle in reversed(self._closers):
            with contextlib.suppress(Exception):
                handle.close()

    def _frame(self, rows: list[list[Any]]) -> pd.DataFrame:
        start = self.rows_read
        self.rows_read += len(rows)
        return pd.DataFrame(
            rows, columns=self.columns, dtype=object, index=pd.RangeIndex(start, self.rows_read)
        )


def _unique_names(names: list[str], source: str, notes: list[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for name in names:
        new, counter = name, 1
        while new in seen:
            new, counter = f"{name}.{counter}", counter + 1
        if new != name:
            notes.append(f"{source}: duplicate column {name!r} renamed {new!r}")
        seen.add(new)
        result.append(new)
    return result


def _sniff_delimiter(line: str) -> str:
    """The delimiter a header line uses: the most frequent of , tab ; | (default ,)."""
    counts = {d: line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _describe_csv_error(error: csv.Error, start: int, end: int) -> str:
    message = str(error)
    if "unexpected end of data" in message:
        return "unbalanced quote: the quoted field opened here never closes"
    if "expected after" in message:
        if end > start:
            return f"unbalanced quote: the quoted field opened here runs on to line {end}"
        return "stray quote: text follows the closing quote of a field"
    if "field larger than field limit" in message:
        return f"a field longer than {CSV_FIELD_LIMIT:,} characters (unbalanced quote?)"
    return f"malformed CSV ({message})"


def _preview(values: Sequence[str], limit: int = 120) -> str:
    text = ", ".join(repr(v) for v in values)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _TextSource(_Source):
    """A source read line by line (CSV, JSON Lines): chunking and the encoding note."""

    chunk_size: int
    lines: _Lines

    def _rows(self) -> Iterator[tuple[list[Any], str, list[str]]]:
        """Each row's fields, why it could not be read ("" if it could), and problems."""
        raise NotImplementedError

    def chunks(self) -> Iterator[Chunk]:
        rows: list[list[Any]] = []
        unreadable: list[str] = []
        problems: list[str] = []
        for fields, reason, messages in self._rows():
            rows.append(fields)
            unreadable.append(reason)
            problems.extend(messages)
            if len(rows) == self.chunk_size:
                yield Chunk(self._frame(rows), unreadable, problems)
                rows, unreadable, problems = [], [], []
        if rows:
            yield Chunk(self._frame(rows), unreadable, problems)

    def bytes_read(self) -> int:
        return self.lines.bytes_read

    def file_notes(self) -> list[str]:
        note = self.lines.encoding_note(self.name)
        return [*self.notes, *([note] if note else [])]


class _CsvSource(_TextSource):
    def __init__(
        self, name: str, raw: Iterable[bytes], fmt: FileFormat | None, chunk_size: int
    ) -> None:
        super().__init__()
        self.name = name
        self.chunk_size = chunk_size
        self.lines = _Lines(raw)
        csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
        peeked = []
        for line in self.lines:
            peeked.append(line)
            if line.strip():
                break
        self.lines.push_back(peeked)
        delimiter = fmt.delimiter if fmt is not None and fmt.name == "tsv" else None
        if delimiter is None:
            delimiter = _sniff_delimiter(peeked[-1]) if peeked else ","
        self.format = FileFormat("csv", delimiter, fmt.gzip if fmt else False)
        self.delimiter = delimiter
        self._reader = csv.reader(self.lines, delimiter=delimiter, strict=True)
        header = self._header()
        self.columns = _unique_names(header, name, self.notes)

    def _header(self) -> list[str]:
        while True:
            self.lines.record = []
            try:
                fields = next(self._reader)
            except StopIteration:
                raise LabelError(f"{self.name} is empty: no header row and no rows") from None
            except csv.Error as error:
                raise LabelError(
                    f"{self.name}: line {self.lines.line}: cannot read the header row: "
                    f"{_describe_csv_error(error, self.lines.line, self.lines.line)}"
                ) from None
            if fields:
                return fields

    def _records(self) -> Iterator[tuple[list[str], str]]:
        width = len(self.columns)
        lines, reader, delimiter = self.lines, self._reader, self.delimiter
        while True:
            lines.record = []
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                # Blame the line where the record started and read on from the next one:
                # an unclosed quote must not swallow the rows after it.
                record = lines.record
                end = lines.line
                start = end - len(record) + 1
                lines.push_back(record[1:])
                first = record[0] if record else ""
                try:
                    fields = next(csv.reader([first], delimiter=delimiter))
                except csv.Error:
                    fields = [first]
                if fields:
                    fields[-1] = fields[-1].rstrip("\r\n")
                message = f"line {start}: {_describe_csv_error(error, start, end)}; row not labeled"
                yield _fit(fields, width), message
                continue
            if not fields:
                continue  # a blank line is not a row
            if len(fields) != width:
                start = lines.line - len(lines.record) + 1
                message = (
                    f"line {start}: {len(fields)} field{'s' if len(fields) != 1 else ''} "
                    f"where the header has {width}; "
                    "row not labeled"
                )
                if len(fields) > width:
                    message += f" (extra fields: {_preview(fields[width:])})"
                yield _fit(fields, width), message
            else:
                yield fields, ""

    def _rows(self) -> Iterator[tuple[list[Any], str, list[str]]]:
        for fields, problem in self._records():
            yield fields, problem, [f"{self.name}: {problem}"] if problem else []


def _fit(fields: list[str], width: int) -> list[str]:
    return (fields + [""] * width)[:width]


class _JsonlSource(_TextSource):
    def __init__(self, name: str, raw: Iterable[bytes], gz: bool, chunk_size: int) -> None:
        super().__init__()
        self.name = name
        self.format = FileFormat("jsonl", ",", gz)
        self.chunk_size = chunk_size
        self.lines = _Lines(raw)
        self._items = self._parse()
        # The columns are the keys of the first rows (all of the first chunk).
        self._buffer: list[tuple[int, dict[str, Any] | None, str]] = []
        seen: dict[str, None] = {}
        for item in self._items:
            self._buffer.append(item)
            if item[1] is not None:
                seen.update(dict.fromkeys(item[1]))
            if len(self._buffer) >= chunk_size and seen:
                break
        if not self._buffer:
            raise LabelError(f"{name} is empty: no JSON lines")
        self.columns = list(seen)

    def _parse(self) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
        for text in self.lines:
            number = self.lines.line
            self.lines.record = []
            stripped = text.strip()
            if not stripped:
                continue
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError as error:
                yield (
                    number,
                    None,
                    f"line {number}: invalid JSON ({error.msg}, column {error.colno}); "
                    "row not labeled",
                )
                continue
            if not isinstance(value, dict):
                kind = type(value).__name__
                yield number, None, f"line {number}: a JSON {kind}, not an object; row not labeled"
                continue
            yield number, value, ""

    def _rows(self) -> Iterator[tuple[list[Any], str, list[str]]]:
        columns = self.columns
        known = set(columns)
        items = [*self._buffer]
        self._buffer = []
        for number, record, problem in _chain(items, self._items):
            if record is None:
                yield [None] * len(columns), problem, [f"{self.name}: {problem}"]
                continue
            messages = []
            if not known.issuperset(record):
                extra = [k for k in record if k not in known]
                messages.append(
                    f"{self.name}: line {number}: key(s) {_preview(extra)} are not "
                    "among the columns of the first rows; left out"
                )
            yield [record.get(c) for c in columns], "", messages


def _chain(first: list[Any], rest: Iterator[Any]) -> Iterator[Any]:
    yield from first
    yield from rest


class _ParquetSource(_Source):
    def __init__(self, path: Path, chunk_size: int) -> None:
        super().__init__()
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.name = str(path)
        self.format = FileFormat("parquet")
        self.chunk_size = chunk_size
        try:
            self.file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as error:
            raise LabelError(
                f"cannot read {path} as Parquet ({error}); is the file truncated or not Parquet?"
            ) from None
        self._closers.append(self.file)
        self.arrow_schema = self.file.schema_arrow
        self.columns = list(self.arrow_schema.names)
        self.total_rows = self.file.metadata.num_rows

    def chunks(self) -> Iterator[Chunk]:
        import pyarrow as pa

        pending: list[pa.RecordBatch] = []
        buffered = 0
        batches = self.file.iter_batches(batch_size=self.chunk_size)
        while True:
            try:
                batch = next(batches, None)
            except (pa.ArrowException, OSError) as error:
                raise LabelError(
                    f"{self.name}: cannot read the rows after row {self.rows_read + buffered} "
                    f"({error}); is the file truncated?"
                ) from None
            if batch is not None:
                pending.append(batch)
                buffered += batch.num_rows
            while buffered >= self.chunk_size or (batch is None and buffered):
                table = pa.Table.from_batches(pending, schema=self.arrow_schema)
                size = min(self.chunk_size, buffered)
                yield self._chunk(table.slice(0, size))
                rest = table.slice(size)
                pending = rest.to_batches() if rest.num_rows else []
                buffered -= size
            if batch is None:
                return

    def _chunk(self, table: pa.Table) -> Chunk:
        frame = table.to_pandas()
        start = self.rows_read
        self.rows_read += len(frame)
        frame.index = pd.RangeIndex(start, self.rows_read)
        return Chunk(frame, [""] * len(frame), [])

    def bytes_read(self) -> int:
        return self.rows_read


def _open_source(
    input: str | Path, input_format: str | None, chunk_size: int
) -> tuple[_Source, Path | None]:
    """Open the input for reading in chunks; read its header (or first rows)."""
    if str(input) == "-":
        stream = sys.stdin.buffer
        given = _format_from_option(input_format) if input_format else None
        if given is not None and given.kind == "parquet":
            raise LabelError("Parquet cannot be read from stdin; give the file name")
        head: list[bytes] = []
        for raw in stream:
            head.append(raw)
            if raw.strip():
                break
        raw_lines = _chain(head, iter(stream))
        if given is None:
            first = head[-1].lstrip(codecs.BOM_UTF8).lstrip() if head else b""
            given = FileFormat("jsonl") if first.startswith(b"{") else FileFormat("csv")
        if given.kind == "jsonl":
            return _JsonlSource("<stdin>", raw_lines, False, chunk_size), None
        return _CsvSource("<stdin>", raw_lines, given, chunk_size), None
    path = Path(input)
    if not path.exists():
        raise LabelError(f"input file {path} not found")
    if path.is_dir():
        raise LabelError(
            f"{path} is a directory; label a directory of files with --engine dask "
            "(painclf label-dask)"
        )
    fmt = (
        _format_from_option(input_format, path.name.lower().endswith(".gz"))
        if input_format
        else format_from_name(path.name)
    )
    if fmt is None:
        raise LabelError(
            f"cannot tell the format of {path} from its name; use --format "
            f"({', '.join(INPUT_FORMATS)})"
        )
    total_bytes = path.stat().st_size
    if total_bytes == 0:
        raise LabelError(f"{path} is empty: no header row and no rows")
    if fmt.kind == "parquet":
        source: _Source = _ParquetSource(path, chunk_size)
        source.total_bytes = total_bytes
        return source, path
    handle = path.open("rb")
    stream: IO[bytes] = handle
    if fmt.gzip or handle.read(2) == b"\x1f\x8b":
        handle.seek(0)
        stream = gzip.GzipFile(fileobj=handle, mode="rb")
        fmt = FileFormat(fmt.kind, fmt.delimiter, True)
    else:
        handle.seek(0)
    raw_lines = _guarded(stream, path)
    try:
        if fmt.kind == "jsonl":
            source = _JsonlSource(str(path), raw_lines, fmt.gzip, chunk_size)
        else:
            source = _CsvSource(str(path), raw_lines, fmt, chunk_size)
    except BaseException:
        handle.close()
        raise
    source._closers.extend([handle, stream] if stream is not handle else [handle])
    if fmt.gzip:
        source.bytes_read = handle.tell  # type: ignore[method-assign]
    source.total_bytes = total_bytes
    return source, path


def _guarded(stream: IO[bytes], path: Path) -> Iterator[bytes]:
    """The stream's lines; a damaged gzip stream becomes a ``LabelError`` naming the file."""
    try:
        yield from stream
    except (OSError, EOFError, zlib.error) as error:
        raise LabelError(f"cannot read {path}: {error} (is the file truncated?)") from None


# --- writers --------------------------------------------------------------------------------


def _output_arrow_fields() -> list[pa.Field]:
    import pyarrow as pa

    types = {
        "label": pa.string(),
        "urgent": pa.bool_(),
        "urgent_reasons": pa.string(),
        "needs_review": pa.bool_(),
        "evidence": pa.string(),
        "status": pa.string(),
        "error": pa.string(),
    }
    return [pa.field(name, types.get(name, pa.float64())) for name in OUTPUT_COLUMNS]


def _output_schema(source: _Source) -> pa.Schema | None:
    """The Arrow schema of the output when the input's types are known (CSV, Parquet)."""
    import pyarrow as pa

    renames = _renamed_inputs(source.columns)
    if source.arrow_schema is not None:
        fields = [
            field.with_name(renames.get(field.name, field.name))
            for field in source.arrow_schema.remove_metadata()
        ]
    elif source.format.kind == "csv":
        fields = [pa.field(renames.get(c, c), pa.string()) for c in source.columns]
    else:
        return None
    return pa.schema([*fields, *_output_arrow_fields()])


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, pd.Timestamp | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _jsonl_bytes(frame: pd.DataFrame) -> bytes:
    columns = [str(c) for c in frame.columns]
    lines = [
        json.dumps(
            dict(zip(columns, map(_jsonable, row), strict=True)),
            ensure_ascii=False,
            default=_json_default,
        )
        for row in frame.itertuples(index=False, name=None)
    ]
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def _nested_as_json(frame: pd.DataFrame) -> pd.DataFrame:
    """JSON objects and arrays (from JSON Lines input) as JSON text, for CSV cells."""
    nested = [
        c
        for c in frame.columns
        if frame[c].dtype == object and any(isinstance(v, dict | list) for v in frame[c])
    ]
    if not nested:
        return frame
    frame = frame.copy()
    for column in nested:
        frame[column] = [
            json.dumps(v, ensure_ascii=False, default=_json_default)
            if isinstance(v, dict | list)
            else v
            for v in frame[column]
        ]
    return frame


def _csv_bytes(frame: pd.DataFrame, delimiter: str, header: bool, nested: bool) -> bytes:
    text = (_nested_as_json(frame) if nested else frame).to_csv(
        index=False, header=header, sep=delimiter, lineterminator="\n"
    )
    return text.encode("utf-8")


def _stringify(frame: pd.DataFrame, columns: Sequence[Any]) -> pd.DataFrame:
    frame = frame.copy()
    for column in columns:
        frame[column] = [
            None
            if _is_missing(v)
            else v
            if isinstance(v, str)
            else json.dumps(v, ensure_ascii=False, default=_json_default)
            for v in frame[column]
        ]
    return frame


def _arrow_table(frame: pd.DataFrame, schema: pa.Schema | None) -> pa.Table:
    """``frame`` as an Arrow table with ``schema`` (or one inferred, outputs typed)."""
    import pyarrow as pa

    if schema is not None:
        try:
            # No pandas metadata: every part of one output must carry the same schema.
            table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
            return table.replace_schema_metadata(None)
        except (pa.ArrowException, TypeError, ValueError) as error:
            raise LabelError(
                f"cannot write these rows with the Parquet schema of the first rows ({error}); "
                "a column changes type: write CSV or JSON Lines instead"
            ) from None
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError):
        inputs = [c for c in frame.columns if c not in OUTPUT_COLUMNS and frame[c].dtype == object]
        table = pa.Table.from_pandas(_stringify(frame, inputs), preserve_index=False)
    outputs = {f.name: f for f in _output_arrow_fields()}
    fields = [
        outputs.get(f.name, pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f)
        for f in table.schema.remove_metadata()
    ]
    return table.cast(pa.schema(fields))


class _Sink:
    """One output file built in a hidden partial file next to it, renamed into place at the end.

    CSV and JSON Lines are appended to the partial file (gzip: one member per
    chunk, so a resumed file is byte-identical); Parquet goes to one part file per
    chunk in a partial directory, merged into row groups at the end. ``size`` is
    what the progress file records after each chunk; ``start(size)`` cuts the
    partial output back to it.
    """

    def __init__(
        self,
        target: Path,
        fmt: FileFormat,
        columns: list[str],
        schema: pa.Schema | None,
        nested: bool = False,
    ) -> None:
        self.target = target
        self.nested = nested  # cells may hold JSON objects or arrays (JSON Lines input)
        self.format = fmt
        self.columns = columns
        self.schema = schema
        self.partial = target.with_name(f".{target.name}{_PARTIAL_SUFFIX}")
        self._handle: IO[bytes] | None = None
        self._parts = 0
        self._written = 0

    def size(self) -> int:
        return self._parts if self.format.kind == "parquet" else self._written

    def can_restore(self, size: int) -> bool:
        """Whether the partial output still holds ``size`` (bytes or parts) to resume from."""
        if self.format.kind == "parquet":
            return all(self._part(number).is_file() for number in range(size))
        return size == 0 or (self.partial.is_file() and self.partial.stat().st_size >= size)

    def start(self, size: int = 0) -> None:
        if self.format.kind == "parquet":
            if size == 0:
                shutil.rmtree(self.partial, ignore_errors=True)
                self.partial.unlink(missing_ok=True)
            self.partial.mkdir(exist_ok=True)
            for part in self.partial.glob("part-*.parquet"):
                if int(part.stem.split("-")[1]) >= size:
                    part.unlink()
            self._parts = size
            if size:
                import pyarrow.parquet as pq

                self.schema = pq.read_schema(self._part(0)).remove_metadata()
            return
        if size == 0:
            if self.partial.is_dir():
                shutil.rmtree(self.partial)
            self._handle = self.partial.open("wb")
        else:
            self._handle = self.partial.open("r+b")
            self._handle.truncate(size)
            self._handle.seek(size)
        self._written = size

    def _part(self, number: int) -> Path:
        return self.partial / f"part-{number:06d}.parquet"

    def _encode(self, data: bytes) -> bytes:
        return gzip.compress(data, mtime=0) if self.format.gzip and data else data

    def append(self, frame: pd.DataFrame) -> None:
        if self.format.kind == "parquet":
            import pyarrow.parquet as pq

            table = _arrow_table(frame, self.schema)
            if self.schema is None:
                self.schema = table.schema
            pq.write_table(table, self._part(self._parts), row_group_size=max(1, len(frame)))
            self._parts += 1
            return
        assert self._handle is not None
        if self.format.kind == "csv":
            data = _csv_bytes(frame, self.format.delimiter, self._written == 0, self.nested)
        else:
            data = _jsonl_bytes(frame)
        data = self._encode(data)
        self._handle.write(data)
        self._handle.flush()
        self._written += len(data)

    def finish(self, empty: pd.DataFrame) -> None:
        """Rename the complete output into place (``empty``: the columns, for a file of no rows)."""
        if self.format.kind == "parquet":
            import pyarrow.parquet as pq

            if self._parts == 0:
                self.append(empty)
            schema = self.schema
            with (
                atomic_path(self.target, suffix=".parquet") as tmp,
                pq.ParquetWriter(tmp, schema) as writer,
            ):
                for number in range(self._parts):
                    writer.write_table(pq.read_table(self._part(number), schema=schema))
            shutil.rmtree(self.partial)
            return
        assert self._handle is not None
        if self._written == 0 and self.format.kind == "csv":
            self.append(empty)
        self._handle.close()
        os.replace(self.partial, self.target)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()

    def discard(self) -> None:
        self.close()
        if self.partial.is_dir():
            shutil.rmtree(self.partial, ignore_errors=True)
        else:
            self.partial.unlink(missing_ok=True)


class _StdoutSink(_Sink):
    """Output to stdout: written as it comes, nothing to rename or resume."""

    def __init__(self, fmt: FileFormat, columns: list[str], nested: bool = False) -> None:
        super().__init__(Path("-"), fmt, columns, None, nested)

    def start(self, size: int = 0) -> None:
        sys.stdout.flush()
        self._handle = sys.stdout.buffer

    def finish(self, empty: pd.DataFrame) -> None:
        if self._written == 0 and self.format.kind == "csv":
            self.append(empty)
        assert self._handle is not None
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.flush()

    def discard(self) -> None:
        self.close()


# --- summary --------------------------------------------------------------------------------


@dataclass
class LabelSummary:
    """What a run did: counts per label, urgent, needs review, errors, speed, and problems.

    ``labels`` counts the rows given each label (rows with an empty text are
    ``other`` and also counted in ``errors``); ``unlabeled`` rows could not be read.
    ``problems`` keeps the first 1,000 line-numbered problems, ``problem_count`` all.
    """

    input: str
    output: str
    text_columns: list[str] = field(default_factory=list)
    model_version: str = ""
    rows: int = 0
    labels: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LABELS, 0))
    urgent: int = 0
    needs_review: int = 0
    errors: int = 0
    noted: int = 0
    resumed_rows: int = 0
    elapsed_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    notes: list[str] = field(default_factory=list)
    confidence_histogram: list[int] = field(default_factory=lambda: [0] * CONFIDENCE_BINS)
    urgent_tickets: list[dict[str, Any]] = field(default_factory=list)
    split_files: list[str] = field(default_factory=list)
    report: str | None = None

    @property
    def labeled(self) -> int:
        """Rows whose text was classified (status ``ok``)."""
        return self.rows - self.errors

    @property
    def unlabeled(self) -> int:
        """Rows that could not be read at all (no label)."""
        return self.rows - sum(self.labels.values())

    @property
    def rows_per_second(self) -> float:
        done = self.rows - self.resumed_rows
        return done / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    def share(self, count: int) -> float:
        return count / self.rows if self.rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, with the derived figures."""
        data = asdict(self)
        data["labeled"] = self.labeled
        data["unlabeled"] = self.unlabeled
        data["rows_per_second"] = round(self.rows_per_second, 1)
        data["shares"] = {label: round(self.share(n), 4) for label, n in self.labels.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabelSummary:
        names = {f.name for f in cls.__dataclass_fields__.values()}
        return cls(**{k: v for k, v in data.items() if k in names})

    def format(self) -> str:
        """The summary printed on stderr at the end of ``painclf label``."""
        resumed = f" ({self.resumed_rows:,} done by an earlier run)" if self.resumed_rows else ""
        lines = [
            f"labeled {self.rows:,} rows{resumed} from {self.input} into {self.output} "
            f"in {self.elapsed_seconds:.1f} s ({self.rows_per_second:,.0f} rows/s)"
        ]
        counts = [*self.labels.items()]
        if self.unlabeled:
            counts.append(("(unread)", self.unlabeled))
        counts += [
            ("urgent", self.urgent),
            ("needs review", self.needs_review),
            ("errors", self.errors),
        ]
        width = max(len(name) for name, _ in counts)
        lines += [
            f"  {name:<{width}}  {count:>9,}  {100 * self.share(count):5.1f}%"
            for name, count in counts
        ]
        if self.noted:
            lines.append(f"  {self.noted:,} labeled row(s) carry a note in the error column")
        for note in self.notes:
            lines.append(f"note: {note}")
        for path in self.split_files:
            lines.append(f"wrote {path}")
        if self.report:
            lines.append(f"report: {self.report}")
        return "\n".join(lines)

    def add(
        self,
        inputs: pd.DataFrame,
        outputs: pd.DataFrame,
        text_columns: Sequence[Any],
        id_column: Any | None,
        problems: Sequence[str],
    ) -> None:
        """Count one labeled chunk."""
        self.rows += len(outputs)
        counts = outputs["label"].value_counts()
        for label in self.labels:
            self.labels[label] += int(counts.get(label, 0))
        ok = (outputs["status"] == STATUS_OK).to_numpy()
        urgent = outputs["urgent"].to_numpy(dtype=bool)
        self.urgent += int(urgent.sum())
        self.needs_review += int(outputs["needs_review"].sum())
        self.errors += int((~ok).sum())
        self.noted += int((ok & (outputs["error"] != "").to_numpy()).sum())
        histogram, _ = np.histogram(
            outputs["confidence"].to_numpy()[ok], bins=CONFIDENCE_BINS, range=(0.0, 1.0)
        )
        self.confidence_histogram = [
            a + int(b) for a, b in zip(self.confidence_histogram, histogram, strict=True)
        ]
        room = MAX_URGENT_LISTED - len(self.urgent_tickets)
        if room > 0 and urgent.any():
            rows = np.flatnonzero(urgent)[:room]
            subset = inputs.iloc[rows]
            texts, _, _ = _row_texts(subset, text_columns, URGENT_TEXT_CHARS)
            for position, text in zip(rows, texts, strict=True):
                ident = inputs[id_column].iat[position] if id_column is not None else None
                self.urgent_tickets.append(
                    {
                        "row": int(inputs.index[position]) + 1,
                        "id": None if _is_missing(ident) else str(ident),
                        "text": text,
                        "reasons": str(outputs["urgent_reasons"].iat[position]),
                    }
                )
        self.problem_count += len(problems)
        self.problems.extend(problems[: max(0, MAX_PROBLEMS_KEPT - len(self.problems))])


def _id_column(columns: Sequence[str]) -> str | None:
    folded = {_fold(c): c for c in reversed(columns)}
    return next((folded[name] for name in _ID_COLUMNS if name in folded), None)


# --- worker processes -----------------------------------------------------------------------

_worker_classifiers: dict[str, Classifier] = {}


def _label_in_worker(
    frame: pd.DataFrame,
    text_columns: list[Any],
    model: str | Classifier,
    max_chars: int,
    today: date,
    unreadable: list[str],
) -> pd.DataFrame:
    """Label one chunk in a worker process; the model is loaded once per process."""
    if isinstance(model, str):
        if model not in _worker_classifiers:
            from classifier.predict import Classifier

            _worker_classifiers[model] = Classifier.load(model)
        classifier = _worker_classifiers[model]
    else:
        classifier = model
    return label_outputs(frame, text_columns, classifier, max_chars, today, unreadable)


def _labeled_chunks(
    chunks: Iterator[Chunk],
    text_columns: list[Any],
    classifier: Classifier | None,
    model_path: str | None,
    jobs: int,
    max_chars: int,
    today: date,
) -> Iterator[tuple[Chunk, pd.DataFrame]]:
    """Each chunk with its outputs, in input order; with ``jobs > 1`` in worker processes.

    At most ``2 * jobs`` chunks are in flight, so memory stays flat however far the
    reader could run ahead. Workers get only the text columns.
    """
    if jobs <= 1:
        for chunk in chunks:
            texts = chunk.frame[text_columns]
            yield (
                chunk,
                label_outputs(texts, text_columns, classifier, max_chars, today, chunk.unreadable),
            )
        return
    from joblib.externals.loky import get_reusable_executor

    executor = get_reusable_executor(max_workers=jobs)
    model = model_path if model_path is not None else classifier
    assert model is not None, "worker processes need a model path or a classifier"
    pending: deque[tuple[Chunk, Any]] = deque()
    finished = False
    try:
        for chunk in chunks:
            future = executor.submit(
                _label_in_worker,
                chunk.frame[text_columns],
                text_columns,
                model,
                max_chars,
                today,
                chunk.unreadable,
            )
            pending.append((chunk, future))
            if len(pending) >= 2 * jobs:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
        finished = True
    finally:
        if not finished:
            for _, future in pending:
                future.cancel()
            # Stop the workers now rather than let them finish chunks nobody will write.
            executor.shutdown(wait=False, kill_workers=True)


# --- label_file -----------------------------------------------------------------------------


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
    stem, suffix = _split_name(path)
    return str(path.with_name(f"{stem}.labeled{suffix}"))


def _output_format(output: str, source: _Source) -> FileFormat:
    if output == "-":
        if source.format.kind == "parquet":
            raise LabelError("Parquet cannot be written to stdout; give -o FILE")
        return FileFormat(source.format.kind, source.format.delimiter)
    fmt = format_from_name(Path(output).name)
    if fmt is None:
        raise LabelError(
            f"cannot tell the output format from {output!r}; end it in .csv, .tsv, .csv.gz, "
            ".jsonl or .parquet"
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
    stem, suffix = _split_name(target)
    names = [*LABELS, "urgent", "errors"]
    return {name: target.with_name(f"{stem}.{name}{suffix}") for name in names}


def _split_rows(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    if name == "urgent":
        return frame[frame["urgent"].to_numpy(dtype=bool)]
    if name == "errors":
        return frame[(frame["status"] == STATUS_ERROR).to_numpy()]
    return frame[(frame["label"] == name).to_numpy()]


def _progress_path(target: Path) -> Path:
    return target.with_name(f".{target.name}{_PROGRESS_SUFFIX}")


def _fingerprint(input_path: Path | None, source: _Source, **options: Any) -> dict[str, Any]:
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
        ``.parquet``; ``"-"`` reads CSV or JSON Lines from stdin.
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
    input_format : {"csv", "tsv", "jsonl", "parquet"}, optional
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
    source, input_path = _open_source(input, input_format, chunk_size)
    sinks: dict[str, _Sink] = {}
    progress_file: Path | None = None
    try:
        chosen = find_text_columns(source.columns, text_columns)
        output_name = (
            str(output) if output is not None else _default_output(input_path, source.format)
        )
        out_format = _output_format(output_name, source)
        to_stdout = output_name == "-"
        target = None if to_stdout else Path(output_name)
        if to_stdout and (resume or split_by):
            raise LabelError("--resume and --split-by need an output file (-o FILE), not stdout")
        if resume and input_path is None:
            raise LabelError("--resume needs an input file: stdin cannot be read twice")
        if target is not None:
            _check_directory(target.parent if str(target.parent) else Path("."), "output")
            if input_path is not None and target.resolve() == input_path.resolve():
                raise LabelError(f"the output {target} is the input file; choose another -o")
        split = _split_targets(target) if (split_by and target is not None) else {}
        report_path = Path(report) if report is not None else None
        if report_path is not None:
            _check_directory(report_path.parent, "report")
        existing = [p for p in [target, *split.values(), report_path] if p and p.exists()]
        if existing and not force:
            raise LabelError(
                f"{existing[0]} already exists; use --force to overwrite"
                + (f" ({len(existing)} files)" if len(existing) > 1 else "")
            )

        if classifier is None:
            from classifier.predict import ensure_model, get_classifier

            ref = ensure_model(model)
            model_path: str | None = str(ref.path.resolve())
            model_version = ref.version
            # With worker processes only the workers need the model in memory.
            classifier = get_classifier(model_path) if jobs <= 1 else None
        else:
            model_path = None
            model_version = classifier.version
        renamed = _renamed_inputs(source.columns)
        out_columns = [renamed.get(c, c) for c in source.columns] + list(OUTPUT_COLUMNS)
        schema = _output_schema(source) if out_format.kind == "parquet" else None
        nested = source.format.kind == "jsonl"
        if to_stdout:
            sinks["main"] = _StdoutSink(out_format, out_columns, nested)
        else:
            assert target is not None
            sinks["main"] = _Sink(target, out_format, out_columns, schema, nested)
            for name, path in split.items():
                sinks[name] = _Sink(path, out_format, out_columns, schema, nested)

        summary = LabelSummary(
            input=str(input),
            output="<stdout>" if to_stdout else str(target),
            text_columns=list(chosen),
            model_version=model_version,
        )
        fingerprint = _fingerprint(
            input_path,
            source,
            text_columns=chosen,
            chunk_size=chunk_size,
            max_chars=max_chars,
            model_version=model_version,
            output_format=[out_format.kind, out_format.delimiter, out_format.gzip],
            split_by=split_by,
        )
        progress_file = _progress_path(target) if target is not None else None
        skip_chunks = 0
        run_today = today or date.today()
        state = _load_progress(progress_file) if progress_file is not None else None
        if state is not None and not all(
            name in state["sizes"] and sink.can_restore(int(state["sizes"][name]))
            for name, sink in sinks.items()
        ):
            state = None  # its partial files are gone or cut short: start anew
        if resume and state is not None:
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
            run_today = stored
            skip_chunks = int(state["chunks"])
            summary = LabelSummary.from_dict(state["summary"])
            summary.resumed_rows = summary.rows
            for name, sink in sinks.items():
                sink.start(int(state["sizes"][name]))
        else:
            if resume:
                summary.notes.append(f"no interrupted run of {target} to resume; started anew")
            elif state is not None:
                summary.notes.append(
                    f"discarded the partial output of an interrupted run of {target}"
                )
            if progress_file is not None:
                progress_file.unlink(missing_ok=True)
            for sink in sinks.values():
                sink.start(0)

        text_keys = list(chosen)
        id_column = _id_column(source.columns)
        empty = _combine(
            pd.DataFrame(columns=source.columns, dtype=object)
            if source.arrow_schema is None
            else source.arrow_schema.empty_table().to_pandas(),
            _empty_outputs(pd.RangeIndex(0)),
        )
        chunks_done = skip_chunks
        chunk_iter = source.chunks()
        for _ in range(skip_chunks):
            if next(chunk_iter, None) is None:
                raise LabelError(f"cannot resume {target}: the input has fewer rows than before")
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
        try:
            labeled = _labeled_chunks(
                chunk_iter, text_keys, classifier, model_path, jobs, max_chars, run_today
            )
            try:
                for chunk, outputs in labeled:
                    combined = _combine(chunk.frame, outputs)
                    sinks["main"].append(combined)
                    for name, sink in sinks.items():
                        if name != "main":
                            rows = _split_rows(name, combined)
                            if len(rows):
                                sink.append(rows)
                    summary.add(chunk.frame, outputs, text_keys, id_column, chunk.problems)
                    chunks_done += 1
                    if progress_file is not None:
                        atomic_write_text(
                            progress_file,
                            json.dumps(
                                {
                                    "schema": _PROGRESS_SCHEMA,
                                    "fingerprint": fingerprint,
                                    "today": run_today.isoformat(),
                                    "chunks": chunks_done,
                                    "sizes": {n: s.size() for n, s in sinks.items()},
                                    "summary": summary.to_dict(),
                                }
                            ),
                        )
                    bar.update(len(outputs))
                    if source.total_rows is None and source.total_bytes and source.bytes_read():
                        # An estimate from the bytes read so far gives the bar an ETA.
                        estimate = source.rows_read * source.total_bytes / source.bytes_read()
                        bar.total = max(int(estimate), summary.rows)
                    if on_chunk is not None:
                        on_chunk(chunks_done, summary.rows)
            finally:
                labeled.close()
        except KeyboardInterrupt:
            for sink in sinks.values():
                sink.close()
            raise LabelInterrupted(
                summary.rows, summary.output, resumable=progress_file is not None
            ) from None
        finally:
            bar.close()

        summary.notes.extend(source.file_notes())
        if not summary.rows:
            summary.notes.append(f"{input} has no rows: nothing to label")
        for name, sink in sinks.items():
            sink.finish(_split_rows(name, empty) if name != "main" else empty)
        summary.split_files = [str(sinks[name].target) for name in split]
        if progress_file is not None:
            progress_file.unlink(missing_ok=True)
        summary.elapsed_seconds = time.perf_counter() - started
        if report_path is not None:
            from classifier.report import write_report

            summary.report = str(report_path)
            write_report(summary, report_path)
        return summary
    except BaseException as error:
        resumable = progress_file is not None and progress_file.exists()
        for sink in sinks.values():
            # Keep what a later --resume can use; drop partial files nothing refers to.
            if resumable and isinstance(error, KeyboardInterrupt | LabelError | OSError):
                sink.close()
            else:
                sink.discard()
        if progress_file is not None and not resumable:
            progress_file.unlink(missing_ok=True)
        raise
    finally:
        source.close()
