"""Batch labeling: stream a ticket export in chunks, label every row, write it back out in order.

The flow, one module per step: ``formats`` (what a file is) -> ``readers`` (one
streaming reader per format, each an iterator of chunks) -> ``columns`` (which column
holds the text) -> ``frame`` (label a chunk) / ``workers`` (in worker processes) ->
``writers`` (exclusive, atomic output files) -> ``label`` (the loop, resume, split
files, the ``summary``). ``common`` holds the shared names.

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

from classifier.batch.columns import TEXT_COLUMN_NAMES, find_text_columns
from classifier.batch.common import (
    CONFIDENCE_BINS,
    DEFAULT_CHUNK_SIZE,
    INPUT_FORMATS,
    OUTPUT_COLUMNS,
    SPLIT_BY,
    STATUS_ERROR,
    STATUS_OK,
    LabelError,
    LabelInterrupted,
)
from classifier.batch.formats import FileFormat, format_from_name
from classifier.batch.frame import label_frame, label_outputs
from classifier.batch.label import label_file
from classifier.batch.readers import Chunk
from classifier.batch.summary import LabelSummary

__all__ = [
    "CONFIDENCE_BINS",
    "DEFAULT_CHUNK_SIZE",
    "INPUT_FORMATS",
    "OUTPUT_COLUMNS",
    "SPLIT_BY",
    "STATUS_ERROR",
    "STATUS_OK",
    "TEXT_COLUMN_NAMES",
    "Chunk",
    "FileFormat",
    "LabelError",
    "LabelInterrupted",
    "LabelSummary",
    "find_text_columns",
    "format_from_name",
    "label_file",
    "label_frame",
    "label_outputs",
]
