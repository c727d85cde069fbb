"""Names shared by the batch modules: output columns, row statuses, limits and the errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


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
INPUT_FORMATS = ("csv", "tsv", "jsonl", "parquet", "xlsx")
# Excel's limits: rows per sheet (the header takes one) and characters per cell.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CELL_CHARS = 32_767
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
