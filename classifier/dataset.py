"""Labeled data: read CSV/JSON Lines/Parquet files of ``text,label[,urgent,...]`` and validate them.

Every problem names the file and line, so a broken seed or evaluation file can
be fixed where it is. Training refuses data with errors; warnings are reported.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from classifier.config import LABELS, PROJECT_ROOT
from classifier.registry import sha256_file as sha256_file  # one file hash for data and models
from classifier.rules import load_rules

DATA_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".parquet")
COLUMNS = ("text", "label", "urgent", "urgent_reasons", "rule")
REQUIRED = ("text", "label")
_PUNCT = re.compile(r"[^\w\s]+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a labeled file."""

    file: str
    line: int | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.severity}: {self.message}"


class DataError(ValueError):
    """Labeled data has errors; ``problems`` lists them all."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        shown = "\n".join(f"  {p}" for p in errors[:50])
        more = f"\n  ... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{len(errors)} error(s) in the labeled data:\n{shown}{more}")


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A labeled file that was read: its path, SHA-256 and row count (for manifests)."""

    path: str
    sha256: str
    rows: int


def normalise_text(text: str) -> str:
    """Text as compared for near duplicates: case, accents, punctuation and spacing folded."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _SPACE.sub(" ", _PUNCT.sub(" ", folded)).strip()


def _display_path(path: Path) -> str:
    """A file's path relative to the project when it lies inside it (manifests travel)."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named directly, plus the data files inside named directories (sorted)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in DATA_SUFFIXES))
        else:
            files.append(path)
    return files


def _decode(raw: bytes) -> str:
    """A labeled file's text: UTF-16/32 when it starts with their BOM, else UTF-8 (BOM or not).

    Raises ``UnicodeDecodeError`` for a file that is none of them.
    """
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return raw.decode("utf-32")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    return raw.decode("utf-8-sig")


def _read_csv(path: Path, problems: list[Problem]) -> list[tuple[int, dict[str, str]]]:
    raw = path.read_bytes()
    try:
        content = _decode(raw)
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problems.append(Problem(str(path), line, "not valid UTF-8; save the file as UTF-8"))
        return []
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(content.splitlines(keepends=True), delimiter=delimiter, strict=True)
    records: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    start = 1
    try:
        for fields in reader:
            if header is None:
                header = [name.strip() for name in fields]
            elif fields and any(field.strip() for field in fields):
                if len(fields) != len(header):
                    problems.append(
                        Problem(
                            str(path),
                            start,
                            f"{len(fields)} fields where the header has {len(header)}",
                        )
                    )
                else:
                    records.append((start, dict(zip(header, fields, strict=True))))
            start = reader.line_num + 1
    except csv.Error as error:
        problems.append(Problem(str(path), start, f"malformed CSV: {error}"))
    if header is None:
        problems.append(Problem(str(path), None, "empty file: no header"))
    return records


def _read_jsonl(path: Path, problems: list[Problem]) -> list[tuple[int, dict[str, str]]]:
    records = []
    raw = path.read_bytes()
    try:
        content = _decode(raw)
    except UnicodeDecodeError:
        content = raw.decode("utf-8", errors="replace")
    # JSON Lines end at "\n" (as pandas reads them); a "\r" before it is JSON whitespace.
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(Problem(str(path), number, f"invalid JSON: {error.msg}"))
            continue
        except RecursionError:
            problems.append(Problem(str(path), number, "JSON nested too deeply to read"))
            continue
        if not isinstance(record, dict):
            problems.append(Problem(str(path), number, "a JSON line must be an object"))
            continue
        records.append((number, record))
    return records


def _read_parquet(path: Path, problems: list[Problem]) -> list[tuple[int, dict[str, str]]]:
    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several types for a broken file
        problems.append(Problem(str(path), None, f"cannot read Parquet: {error}"))
        return []
    return [(i + 2, record) for i, record in enumerate(frame.to_dict("records"))]


def read_labeled(
    paths: Iterable[str | Path], keep: Sequence[str] = ()
) -> tuple[pd.DataFrame, list[Problem], list[SourceFile]]:
    """Read labeled files without stopping at the first problem.

    Parameters
    ----------
    paths : iterable of str or Path
        Files (``.csv``, ``.tsv``, ``.jsonl``, ``.parquet``) or directories of them.
    keep : sequence of str
        Further columns to keep when a file has them (e.g. ``ambiguous``).

    Returns
    -------
    frame : DataFrame
        Columns ``text, label, urgent, urgent_reasons, rule, file, line`` and ``keep``; ``line``
        is the line where the record starts (for Parquet: row number + 1).
    problems : list of Problem
        Everything that could not be read, with file and line.
    sources : list of SourceFile
        SHA-256 and row count of each file read.
    """
    problems: list[Problem] = []
    rows: list[dict[str, object]] = []
    sources: list[SourceFile] = []
    files = expand_paths(paths)
    if not files:
        problems.append(Problem("(no files)", None, "no labeled data files were given"))
    for path in files:
        if not path.is_file():
            problems.append(Problem(str(path), None, "file not found"))
            continue
        suffix = path.suffix.lower()
        if suffix in (".csv", ".tsv"):
            records = _read_csv(path, problems)
        elif suffix in (".jsonl", ".ndjson"):
            records = _read_jsonl(path, problems)
        elif suffix == ".parquet":
            records = _read_parquet(path, problems)
        else:
            problems.append(Problem(str(path), None, f"unknown file type {suffix!r}"))
            continue
        missing = [c for c in REQUIRED if records and c not in records[0][1]]
        if missing:
            found = ", ".join(map(str, records[0][1])) or "none"
            problems.append(
                Problem(str(path), 1, f"missing column(s) {missing}; columns found: {found}")
            )
            continue
        sources.append(SourceFile(_display_path(path), sha256_file(path), len(records)))
        for line, record in records:
            row: dict[str, object] = {column: record.get(column) for column in (*COLUMNS, *keep)}
            row["file"] = str(path)
            row["line"] = line
            rows.append(row)
    frame = pd.DataFrame(rows, columns=[*COLUMNS, *keep, "file", "line"])
    return frame, problems, sources


def _parse_urgent(value: object) -> int | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return 0
    text = str(value).strip().lower()
    if text in ("", "0", "false", "no", "0.0"):
        return 0
    if text in ("1", "true", "yes", "1.0"):
        return 1
    return None


def validate_labeled(
    frame: pd.DataFrame, check_duplicates: bool = True
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check labeled rows; return the valid rows and the problems found.

    Errors: empty text, unknown label, ``urgent`` not 0/1, urgent with soreness,
    the same text with conflicting labels. Warnings: unknown red-flag ids, exact
    and near duplicates (same text after folding case, accents and punctuation).
    With ``check_duplicates`` (training), duplicates after the first and all
    conflicting rows are dropped; without it (evaluation) every valid row is kept.

    Examples
    --------
    >>> rows = pd.DataFrame({"text": ["sore", "sore!"], "label": ["pain", "soreness"],
    ...                      "urgent": [0, 0], "urgent_reasons": ["", ""], "rule": ["", ""],
    ...                      "file": ["a.csv", "a.csv"], "line": [2, 3]})
    >>> [p.message[:33] for p in validate_labeled(rows)[1]]
    ['same text with conflicting labels']
    """
    problems: list[Problem] = []
    flags = set(load_rules().flag_reasons())
    clean_rows = []
    extra = [c for c in frame.columns if c not in (*COLUMNS, "file", "line")]
    for row in frame.itertuples(index=False):
        where = (str(row.file), int(row.line))
        text = row.text if isinstance(row.text, str) else ""
        label = str(row.label).strip().lower() if isinstance(row.label, str) else ""
        urgent = _parse_urgent(row.urgent)
        reasons_raw = row.urgent_reasons if isinstance(row.urgent_reasons, str) else ""
        reasons = [r.strip() for r in reasons_raw.split(";") if r.strip()]
        bad = False
        if not text.strip():
            problems.append(Problem(*where, "empty text"))
            bad = True
        if label not in LABELS:
            problems.append(Problem(*where, f"unknown label {row.label!r}; labels are {LABELS}"))
            bad = True
        if urgent is None:
            problems.append(Problem(*where, f"urgent must be 0 or 1, got {row.urgent!r}"))
            bad = True
        elif urgent and label == "soreness":
            problems.append(Problem(*where, "urgent text labeled soreness (the guide forbids it)"))
            bad = True
        if unknown := [r for r in reasons if r not in flags]:
            problems.append(
                Problem(*where, f"unknown urgent reason(s) {unknown}", severity="warning")
            )
        if not bad:
            clean_rows.append(
                {
                    "text": text,
                    "label": label,
                    "urgent": urgent,
                    "urgent_reasons": ";".join(reasons),
                    "rule": row.rule if isinstance(row.rule, str) else "",
                    **{column: getattr(row, column) for column in extra},
                    "file": row.file,
                    "line": row.line,
                }
            )
    clean = pd.DataFrame(clean_rows, columns=[*COLUMNS, *extra, "file", "line"])
    if not check_duplicates:
        return clean, problems
    groups: dict[str, list[int]] = defaultdict(list)
    for position, text in enumerate(clean["text"]):
        groups[normalise_text(text)].append(position)
    drop: list[int] = []
    for positions in groups.values():
        if len(positions) < 2:
            continue
        first = clean.iloc[positions[0]]
        labels = set(clean["label"].iloc[positions])
        places = ", ".join(f"{clean['file'].iat[p]}:{clean['line'].iat[p]}" for p in positions)
        if len(labels) > 1:
            problems.append(
                Problem(
                    str(first["file"]),
                    int(first["line"]),
                    f"same text with conflicting labels {sorted(labels)} at {places}",
                )
            )
            continue
        exact = len(set(clean["text"].iloc[positions])) == 1
        kind = "duplicate" if exact else "near duplicate"
        problems.append(
            Problem(
                str(first["file"]),
                int(first["line"]),
                f"{kind} text at {places}; training keeps the first",
                severity="warning",
            )
        )
        drop.extend(positions[1:])
    conflicting = [
        p
        for positions in groups.values()
        if len(set(clean["label"].iloc[positions])) > 1
        for p in positions
    ]
    clean = clean.drop(index=clean.index[sorted(set(drop) | set(conflicting))])
    return clean.reset_index(drop=True), problems


def load_labeled(
    paths: Iterable[str | Path], keep: Sequence[str] = ()
) -> tuple[pd.DataFrame, list[Problem], list[SourceFile]]:
    """Read and validate labeled files; raise ``DataError`` when any error was found.

    Returns the valid rows (with the further columns ``keep`` where files have them),
    the warnings, and the files read.
    """
    frame, problems, sources = read_labeled(paths, keep=keep)
    clean, more = validate_labeled(frame) if len(frame) else (frame, [])
    problems.extend(more)
    if any(p.severity == "error" for p in problems):
        raise DataError(problems)
    return clean, problems, sources
