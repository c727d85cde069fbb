"""File formats: what a file name or ``--format`` says a file is, and the names of its parts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from classifier.batch.common import INPUT_FORMATS, LabelError


@dataclass(frozen=True, slots=True)
class FileFormat:
    """How a file is stored: ``csv`` (with its delimiter), ``jsonl``, ``parquet`` or ``xlsx``;
    gzipped?"""

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
    >>> format_from_name("export.xlsx")
    FileFormat(kind='xlsx', delimiter=',', gzip=False)
    >>> format_from_name("export.xls") is None  # the old binary format: save it as .xlsx
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
    if suffix == ".xlsx" and not compressed:
        return FileFormat("xlsx")
    return None


def format_from_option(value: str, compressed: bool = False) -> FileFormat:
    if value not in INPUT_FORMATS:
        raise LabelError(f"unknown format {value!r}; formats are {', '.join(INPUT_FORMATS)}")
    if value == "tsv":
        return FileFormat("csv", "\t", compressed)
    return FileFormat(value, ",", compressed and value not in ("parquet", "xlsx"))


def split_name(path: Path) -> tuple[str, str]:
    """A file name's stem and its format suffixes: ``out.csv.gz`` -> ``("out", ".csv.gz")``."""
    name = path.name
    extra = ".gz" if name.lower().endswith(".gz") else ""
    base = name[: len(name) - len(extra)]
    suffix = Path(base).suffix
    return base[: len(base) - len(suffix)], suffix + extra
