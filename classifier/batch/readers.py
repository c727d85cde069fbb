"""Readers: one streaming reader per input format, each yielding the rows as chunks.

CSV/TSV and JSON Lines are parsed by hand, line by line, with Python's ``csv`` and
``json`` modules: a measured need, since every bad row must come out with the line it
started on and a broken quote must not swallow the rows after it, which pandas' and
pyarrow's CSV readers cannot report (they stop, or skip the row, or name no line).
Lines end at ``\n``, ``\r\n`` or a bare ``\r`` in CSV (as pandas and Python's
``csv`` read them), at ``\n`` in JSON Lines (as pandas reads them); a file that starts
with a UTF-16 or UTF-32 byte order mark is transcoded to UTF-8 as it streams. Parquet
is read with pyarrow's streaming ``iter_batches``; index columns written by pandas
stay ordinary columns, duplicate names are renamed and binary text is decoded.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import json
import re
import sys
import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pandas as pd

from classifier.batch.common import CSV_FIELD_LIMIT, INPUT_FORMATS, LabelError
from classifier.batch.formats import FileFormat, format_from_name, format_from_option

if TYPE_CHECKING:
    import pyarrow as pa


_BLOCK_SIZE = 1 << 16
# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# A JSON string escape of a UTF-16 surrogate; json.loads joins pairs, leaves lone ones.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _blocks(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream in blocks (``read1`` where there is one: a pipe yields what it has)."""
    read = getattr(stream, "read1", None) or stream.read
    while block := read(_BLOCK_SIZE):
        yield block


def _as_utf8(blocks: Iterable[bytes], encodings: list[str]) -> Iterator[bytes]:
    """The blocks as UTF-8: a stream that starts with a UTF-16/32 BOM is transcoded.

    The encoding found is appended to ``encodings`` (for the summary's note).
    """
    blocks = iter(blocks)
    head = b""
    for block in blocks:
        head += block
        if len(head) >= 4:
            break
    encoding = next((name for bom, name in _WIDE_BOMS if head.startswith(bom)), None)
    if encoding is None:
        if head:
            yield head
        yield from blocks
        return
    encodings.append(encoding.upper())
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    yield decoder.decode(head).encode("utf-8")
    for block in blocks:
        yield decoder.decode(block).encode("utf-8")
    yield decoder.decode(b"", final=True).encode("utf-8")


def split_lines(blocks: Iterable[bytes], universal: bool = True) -> Iterator[bytes]:
    r"""Lines of a stream of blocks, each with its line break.

    ``universal``: a line ends at ``\n``, ``\r\n`` or a bare ``\r`` (Python's
    universal newlines, as ``csv`` and pandas read CSV); else at ``\n`` only.
    A line longer than a block is joined once, so a 5 MB field costs linear time.

    Examples
    --------
    >>> list(split_lines([b"a,b\rc,d\r", b"\ne,f"]))
    [b'a,b\r', b'c,d\r\n', b'e,f']
    """
    carry: list[bytes] = []
    for block in blocks:
        if not block:
            continue
        if carry and carry[-1].endswith(b"\r"):
            # A "\r" ended the last block: the line is complete, with a "\n" if one follows.
            line = b"".join(carry)
            carry = []
            if block.startswith(b"\n"):
                line += b"\n"
                block = block[1:]
            yield line
            if not block:
                continue
        pieces = block.splitlines(keepends=True) if universal else block.split(b"\n")
        if not universal:
            pieces = [piece + b"\n" for piece in pieces[:-1]] + [pieces[-1]]
            if not pieces[-1]:
                pieces.pop()
                if not pieces:
                    continue
        for piece in pieces[:-1]:
            if carry:
                carry.append(piece)
                yield b"".join(carry)
                carry = []
            else:
                yield piece
        last = pieces[-1]
        carry.append(last)
        if last.endswith(b"\n"):
            yield b"".join(carry)
            carry = []
    if carry:
        yield b"".join(carry)


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


class Source:
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


def preview(values: Sequence[str], limit: int = 120) -> str:
    text = ", ".join(repr(v) for v in values)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class TextSource(Source):
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


class _CsvSource(TextSource):
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
                    message += f" (extra fields: {preview(fields[width:])})"
                yield _fit(fields, width), message
            else:
                yield fields, ""

    def _rows(self) -> Iterator[tuple[list[Any], str, list[str]]]:
        for fields, problem in self._records():
            yield fields, problem, [f"{self.name}: {problem}"] if problem else []


def _fit(fields: list[str], width: int) -> list[str]:
    return (fields + [""] * width)[:width]


def _parse_json_line(stripped: str, number: int) -> tuple[dict[str, Any] | None, str, str]:
    """One JSON line: the object, why it is not one ("" when it is), and a note."""
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as error:
        return None, f"line {number}: invalid JSON ({error.msg}, column {error.colno})", ""
    except RecursionError:
        return None, f"line {number}: JSON nested too deeply to read", ""
    if not isinstance(value, dict):
        return None, f"line {number}: a JSON {type(value).__name__}, not an object", ""
    note = ""
    if _SURROGATE_ESCAPE.search(stripped):
        value, replaced = _without_lone_surrogates(value)
        if replaced:
            note = f"line {number}: lone surrogate escape(s) such as \\ud83d replaced by U+FFFD"
    return value, "", note


def _without_lone_surrogates(value: Any) -> tuple[Any, bool]:
    """``value`` with every lone surrogate in its strings (keys too) replaced by U+FFFD.

    Such a string cannot be encoded as UTF-8: it would stop any writer.
    """
    if isinstance(value, str):
        fixed = _LONE_SURROGATE.sub("\ufffd", value)
        return fixed, fixed != value
    if isinstance(value, list):
        items = [_without_lone_surrogates(v) for v in value]
        return [v for v, _ in items], any(changed for _, changed in items)
    if isinstance(value, dict):
        items = [
            (_without_lone_surrogates(k), _without_lone_surrogates(v)) for k, v in value.items()
        ]
        changed = any(kc or vc for (_, kc), (_, vc) in items)
        return {k: v for (k, _), (v, _) in items}, changed
    return value, False


def scan_jsonl_keys(lines: Iterable[bytes]) -> list[str]:
    """Every key of every object in a JSON Lines stream, in order of first appearance.

    Read once before labeling so that a key first seen after the first chunk still
    gets its column (nothing left out); unreadable lines are skipped here.
    """
    seen: dict[str, None] = {}
    for raw in lines:
        text = raw.decode("utf-8", errors="replace").strip()
        if not text.startswith("{"):
            continue
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            continue
        if isinstance(value, dict):
            if _SURROGATE_ESCAPE.search(text):
                value, _ = _without_lone_surrogates(value)
            seen.update(dict.fromkeys(value))
    return list(seen)


class _JsonlSource(TextSource):
    def __init__(
        self,
        name: str,
        raw: Iterable[bytes],
        gz: bool,
        chunk_size: int,
        columns: list[str] | None = None,
    ) -> None:
        """``columns``: every key of the file (``scan_jsonl_keys``); for a stream that
        cannot be read twice (stdin), the keys of the first chunk."""
        super().__init__()
        self.name = name
        self.format = FileFormat("jsonl", ",", gz)
        self.chunk_size = chunk_size
        self.lines = _Lines(raw)
        self._items = self._parse()
        self._buffer: list[tuple[int, dict[str, Any] | None, str, str]] = []
        self._complete = columns is not None
        seen: dict[str, None] = dict.fromkeys(columns or [])
        for item in self._items:
            self._buffer.append(item)
            if item[1] is not None:
                seen.update(dict.fromkeys(item[1]))
            if len(self._buffer) >= chunk_size and seen:
                break
        if not self._buffer:
            raise LabelError(f"{name} is empty: no JSON lines")
        self.columns = list(seen)

    def _parse(self) -> Iterator[tuple[int, dict[str, Any] | None, str, str]]:
        for text in self.lines:
            number = self.lines.line
            self.lines.record = []
            stripped = text.strip()
            if not stripped:
                continue
            value, problem, note = _parse_json_line(stripped, number)
            yield number, value, f"{problem}; row not labeled" if problem else "", note

    def _rows(self) -> Iterator[tuple[list[Any], str, list[str]]]:
        columns = self.columns
        known = set(columns)
        items = [*self._buffer]
        self._buffer = []
        for number, record, problem, note in chain(items, self._items):
            if record is None:
                yield [None] * len(columns), problem, [f"{self.name}: {problem}"]
                continue
            messages = [f"{self.name}: {note}"] if note else []
            if not known.issuperset(record):
                extra = [k for k in record if k not in known]
                messages.append(
                    f"{self.name}: line {number}: key(s) {preview(extra)} are not "
                    "among the columns of the first rows (read from stdin); left out"
                )
            yield [record.get(c) for c in columns], "", messages


def chain(first: list[Any], rest: Iterator[Any]) -> Iterator[Any]:
    yield from first
    yield from rest


class _ParquetSource(Source):
    def __init__(self, path: Path, chunk_size: int) -> None:
        super().__init__()
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.name = str(path)
        self.format = FileFormat("parquet")
        self.chunk_size = chunk_size
        try:
            self.file = pq.ParquetFile(path)
            self._file_schema = self.file.schema_arrow
        except (pa.ArrowException, OSError) as error:
            raise LabelError(
                f"cannot read {path} as Parquet ({error}); is the file truncated or not Parquet?"
            ) from None
        self._closers.append(self.file)
        # pandas' index columns (__index_level_0__, a named index) stay ordinary columns:
        # the schema is read without pandas metadata, so nothing moves into the index.
        names = _unique_names([str(n) for n in self._file_schema.names], self.name, self.notes)
        self._binary = [
            i
            for i, f in enumerate(self._file_schema)
            if pa.types.is_binary(f.type)
            or pa.types.is_large_binary(f.type)
            or pa.types.is_fixed_size_binary(f.type)
        ]
        fields = [
            pa.field(name, pa.string() if i in self._binary else f.type, f.nullable)
            for i, (name, f) in enumerate(zip(names, self._file_schema, strict=True))
        ]
        self.arrow_schema = pa.schema(fields)
        self.columns = names
        self.total_rows = self.file.metadata.num_rows
        self._undecodable = 0

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
                table = pa.Table.from_batches(pending, schema=self._file_schema)
                size = min(self.chunk_size, buffered)
                yield self._chunk(table.slice(0, size))
                rest = table.slice(size)
                pending = rest.to_batches() if rest.num_rows else []
                buffered -= size
            if batch is None:
                return

    def _chunk(self, table: pa.Table) -> Chunk:
        import pyarrow as pa

        columns = list(table.columns)
        for i in self._binary:
            try:
                columns[i] = columns[i].cast(pa.string())
            except pa.ArrowInvalid:
                # Not all valid UTF-8: decode value by value, marking the bad bytes.
                values = columns[i].to_pylist()
                self._undecodable += sum(
                    1 for v in values if v is not None and not _is_utf8(bytes(v))
                )
                columns[i] = pa.array(
                    [None if v is None else bytes(v).decode("utf-8", "replace") for v in values],
                    pa.string(),
                )
        table = pa.Table.from_arrays(columns, schema=self.arrow_schema)
        frame = table.to_pandas(ignore_metadata=True)
        start = self.rows_read
        self.rows_read += len(frame)
        frame.index = pd.RangeIndex(start, self.rows_read)
        return Chunk(frame, [""] * len(frame), [])

    def file_notes(self) -> list[str]:
        notes = list(self.notes)
        if self._binary:
            names = ", ".join(self.columns[i] for i in self._binary)
            notes.append(f"{self.name}: binary column(s) {names} read as UTF-8 text")
        if self._undecodable:
            notes.append(
                f"{self.name}: {self._undecodable} binary value(s) are not valid UTF-8; "
                "their bad bytes were read as U+FFFD"
            )
        return notes

    def bytes_read(self) -> int:
        return self.rows_read


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _open_stream(path: Path, gz: bool) -> tuple[IO[bytes], IO[bytes]]:
    """The file's handle and its byte stream (decompressed when gzipped)."""
    handle = path.open("rb")
    if gz:
        return handle, gzip.GzipFile(fileobj=handle, mode="rb")
    return handle, handle


def _text_lines(
    stream: IO[bytes], name: str, universal: bool, encodings: list[str]
) -> Iterator[bytes]:
    return split_lines(_as_utf8(_guarded(_blocks(stream), name), encodings), universal)


def open_source(
    input: str | Path, input_format: str | None, chunk_size: int
) -> tuple[Source, Path | None]:
    """Open the input for reading in chunks; read its header (or first rows)."""
    encodings: list[str] = []
    if str(input) == "-":
        given = format_from_option(input_format) if input_format else None
        if given is not None and given.kind in ("parquet", "xlsx"):
            raise LabelError(f"{given.kind} cannot be read from stdin; give the file name")
        blocks = _as_utf8(_guarded(_blocks(sys.stdin.buffer), "<stdin>"), encodings)
        head: list[bytes] = []
        for block in blocks:
            head.append(block)
            if block.strip():
                break
        if given is None:
            first = b"".join(head).lstrip(codecs.BOM_UTF8).lstrip()
            given = FileFormat("jsonl") if first.startswith(b"{") else FileFormat("csv")
        lines = split_lines(chain(head, blocks), universal=given.kind != "jsonl")
        if given.kind == "jsonl":
            source: Source = _JsonlSource("<stdin>", lines, False, chunk_size)
        else:
            source = _CsvSource("<stdin>", lines, given, chunk_size)
        source.notes.extend(f"<stdin>: read as {e} (byte order mark)" for e in encodings)
        return source, None
    path = Path(input)
    if not path.exists():
        raise LabelError(f"input file {path} not found")
    if path.is_dir():
        raise LabelError(
            f"{path} is a directory; label a directory of files with --engine dask "
            "(painclf label-dask)"
        )
    fmt = (
        format_from_option(input_format, path.name.lower().endswith(".gz"))
        if input_format
        else format_from_name(path.name)
    )
    if fmt is None:
        raise LabelError(
            f"cannot tell the format of {path} from its name; use --format "
            f"({', '.join(INPUT_FORMATS)})"
        )
    try:
        total_bytes = path.stat().st_size
        if fmt.kind in ("parquet", "xlsx"):
            if total_bytes == 0:
                raise LabelError(f"{path} is empty: no header row and no rows")
            if fmt.kind == "xlsx":
                from classifier.batch.excel import XlsxSource

                source = XlsxSource(path, chunk_size)
            else:
                source = _ParquetSource(path, chunk_size)
            source.total_bytes = total_bytes
            return source, path
        with path.open("rb") as probe:
            magic = probe.read(2)
    except OSError as error:
        raise LabelError(f"cannot read {path}: {error.strerror or error}") from None
    if total_bytes == 0:
        raise LabelError(f"{path} is empty: no header row and no rows")
    if fmt.gzip or magic == b"\x1f\x8b":
        fmt = FileFormat(fmt.kind, fmt.delimiter, True)
    handle, stream = _open_stream(path, fmt.gzip)
    try:
        if fmt.kind == "jsonl":
            scan_handle, scan_stream = _open_stream(path, fmt.gzip)
            with scan_handle, scan_stream:
                keys = scan_jsonl_keys(_text_lines(scan_stream, str(path), False, []))
            lines = _text_lines(stream, str(path), False, encodings)
            source = _JsonlSource(str(path), lines, fmt.gzip, chunk_size, columns=keys)
        else:
            lines = _text_lines(stream, str(path), True, encodings)
            source = _CsvSource(str(path), lines, fmt, chunk_size)
    except BaseException:
        stream.close()
        handle.close()
        raise
    source.notes.extend(f"{path}: read as {e} (byte order mark)" for e in encodings)
    source._closers.extend([handle, stream] if stream is not handle else [handle])
    if fmt.gzip:
        source.bytes_read = handle.tell  # type: ignore[method-assign]
    source.total_bytes = total_bytes
    return source, path


def _guarded(blocks: Iterator[bytes], name: str) -> Iterator[bytes]:
    """The blocks; a damaged gzip stream or a read error becomes a ``LabelError``."""
    try:
        yield from blocks
    except (OSError, EOFError, zlib.error) as error:
        raise LabelError(f"cannot read {name}: {error} (is the file truncated?)") from None
