"""Excel (.xlsx) in and out with openpyxl, streamed: read-only rows in, a write-only sheet out.

The first sheet is read row by row (``read_only=True``: memory stays flat however big
the workbook); a row is numbered as Excel numbers it, and a row with cells beyond the
header's last column is an error row that keeps its readable cells, as a CSV row with
extra fields is. The output is written with ``write_only=True`` from the chunks the
sink kept (Parquet parts), so an interrupted run resumes as the other formats do.
Excel cannot hold everything a CSV can: a cell longer than 32,767 characters is cut
and control characters are replaced by U+FFFD, and the row's ``error`` cell says so.
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from classifier.batch.common import EXCEL_MAX_CELL_CHARS, EXCEL_MAX_ROWS, LabelError
from classifier.batch.formats import FileFormat
from classifier.batch.readers import Chunk, Source, preview

_CUT_NOTE = f"a cell longer than Excel's {EXCEL_MAX_CELL_CHARS:,} characters was cut in this file"
_CONTROL_NOTE = "control characters Excel cannot hold were replaced by U+FFFD in this file"


class XlsxSource(Source):
    """The first sheet of a workbook, as chunks of rows."""

    def __init__(self, path: Path, chunk_size: int) -> None:
        super().__init__()
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        self.name = str(path)
        self.format = FileFormat("xlsx")
        self.chunk_size = chunk_size
        try:
            self.book = load_workbook(path, read_only=True, data_only=True)
            sheet = self.book.worksheets[0]
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, IndexError) as error:
            raise LabelError(
                f"cannot read {path} as an Excel workbook ({error}); is it an .xlsx file?"
            ) from None
        self._closers.append(self.book)
        if len(self.book.worksheets) > 1:
            self.notes.append(
                f"{path}: only the first sheet, {sheet.title!r}, was read "
                f"({len(self.book.worksheets)} sheets)"
            )
        self._rows = enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
        header: tuple[Any, ...] = ()
        for _, values in self._rows:
            if any(v is not None and str(v).strip() for v in values):
                header = values
                break
        if not header:
            raise LabelError(f"{path} is empty: no header row and no rows")
        width = max(i for i, v in enumerate(header) if v is not None and str(v).strip()) + 1
        names = [
            str(v).strip() if v is not None and str(v).strip() else f"column_{i + 1}"
            for i, v in enumerate(header[:width])
        ]
        from classifier.batch.readers import _unique_names

        self.columns = _unique_names(names, self.name, self.notes)
        self.total_rows = max(0, (sheet.max_row or 0) - 1) or None

    def chunks(self) -> Iterator[Chunk]:
        width = len(self.columns)
        rows: list[list[Any]] = []
        unreadable: list[str] = []
        problems: list[str] = []
        for number, values in self._rows:
            if not any(v is not None and (not isinstance(v, str) or v.strip()) for v in values):
                continue  # a blank row is not a ticket
            cells = list(values[:width]) + [None] * max(0, width - len(values))
            extra = [v for v in values[width:] if v is not None]
            problem = ""
            if extra:
                problem = (
                    f"row {number}: {len(extra)} cell(s) beyond the header's {width} columns; "
                    f"row not labeled (extra cells: {preview([str(v) for v in extra])})"
                )
                problems.append(f"{self.name}: {problem}")
            rows.append(cells)
            unreadable.append(problem)
            if len(rows) == self.chunk_size:
                yield Chunk(self._frame(rows), unreadable, problems)
                rows, unreadable, problems = [], [], []
        if rows:
            yield Chunk(self._frame(rows), unreadable, problems)

    def bytes_read(self) -> int:
        return self.rows_read


def _cell(value: Any) -> tuple[Any, str]:
    """A value Excel can hold, and a note when it had to be changed."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, ""
    if isinstance(value, list | tuple | dict):
        value = (
            "; ".join(map(str, value))
            if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
            else json.dumps(value, ensure_ascii=False, default=str)
        )
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.isoformat()  # Excel has no time zones
    if isinstance(value, bool | int | float | datetime | date | time):
        return value, ""
    text = str(value)
    note = ""
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
        note = _CONTROL_NOTE
    if len(text) > EXCEL_MAX_CELL_CHARS:
        text = text[:EXCEL_MAX_CELL_CHARS]
        note = _CUT_NOTE
    return text, note


def write_xlsx(target: Path, columns: list[str], parts: list[Path]) -> None:
    """Write the rows of the Parquet ``parts`` into one sheet of a new workbook at ``target``."""
    import pyarrow.parquet as pq
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("labeled")
    sheet.append(columns)
    error_at = columns.index("error") if "error" in columns else None
    rows = 0
    for part in parts:
        for record in pq.read_table(part).to_pylist():
            rows += 1
            if rows >= EXCEL_MAX_ROWS:
                raise LabelError(
                    f"{target}: Excel holds at most {EXCEL_MAX_ROWS - 1:,} rows under a header; "
                    "write CSV or Parquet instead"
                )
            values, notes = [], []
            for value in record.values():
                cell, note = _cell(value)
                values.append(cell)
                if note and note not in notes:
                    notes.append(note)
            if notes and error_at is not None:
                values[error_at] = "; ".join([v for v in [values[error_at], *notes] if v])
            sheet.append(values)
    book.save(target)
