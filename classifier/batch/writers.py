"""Writers: output files built in an exclusive temporary file beside the target, renamed at the end.

Every output is first written to a file (Parquet: a directory of parts) created by
``tempfile.mkstemp``/``mkdtemp`` in the destination folder: an unpredictable name,
created with ``O_EXCL``, so a planted symlink is never followed, and two runs never
share one. ``OutputLock`` makes a second run on the same output refuse at once. CSV
is written by pandas, quoting every field that holds a line break (``\r`` too, which
the ``csv`` module leaves bare when lines end in ``\n``), so any reader reads back
exactly the rows written; JSON Lines with ``json``; Parquet with pyarrow.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import fcntl
import gzip
import json
import math
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from classifier.atomic import atomic_path
from classifier.batch.common import OUTPUT_COLUMNS, LabelError
from classifier.batch.formats import FileFormat
from classifier.batch.frame import is_missing, renamed_inputs
from classifier.batch.readers import Source

if TYPE_CHECKING:
    import pyarrow as pa


_PARTIAL_SUFFIX = ".painclf-partial"
_LOCK_SUFFIX = ".painclf-lock"


def _output_arrow_fields() -> list[pa.Field]:
    import pyarrow as pa

    types = {
        "label": pa.string(),
        "urgent": pa.bool_(),
        "urgent_reasons": pa.list_(pa.string()),
        "needs_review": pa.bool_(),
        "evidence": pa.list_(pa.string()),
        "status": pa.string(),
        "error": pa.string(),
    }
    return [pa.field(name, types.get(name, pa.float64())) for name in OUTPUT_COLUMNS]


def output_schema(source: Source) -> pa.Schema | None:
    """The Arrow schema of the output when the input's types are known (CSV, Parquet)."""
    import pyarrow as pa

    renames = renamed_inputs(source.columns)
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


def _holds_carriage_return(frame: pd.DataFrame) -> bool:
    # Text lives in object columns, or in pandas' string dtype (the output columns, Parquet
    # input): searched by Arrow, not value by value (a tenth of the writing time).
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.StringDtype):
            if values.str.contains("\r", regex=False).any():
                return True
        elif values.dtype == object and any(isinstance(v, str) and "\r" in v for v in values):
            return True
    return False


LIST_COLUMNS = ("urgent_reasons", "evidence")


def joined_lists(frame: pd.DataFrame) -> pd.DataFrame:
    """``urgent_reasons`` and ``evidence`` as ``"; "``-joined strings (CSV, Excel cells)."""
    lists = [
        c for c in LIST_COLUMNS if c in frame.columns and any(isinstance(v, list) for v in frame[c])
    ]
    if not lists:
        return frame
    frame = frame.copy()
    for column in lists:
        frame[column] = ["; ".join(v) if isinstance(v, list) else v for v in frame[column]]
    return frame


def _csv_bytes(frame: pd.DataFrame, delimiter: str, header: bool, nested: bool) -> bytes:
    frame = joined_lists(frame)
    frame = _nested_as_json(frame) if nested else frame
    # The csv module quotes a field holding a character of the line terminator ("\n"),
    # not one holding a bare "\r", which every reader takes for a line break. Such
    # chunks (rare) quote every text field instead: the same rows, read back exactly.
    quoting = csv.QUOTE_NONNUMERIC if _holds_carriage_return(frame) else csv.QUOTE_MINIMAL
    text = frame.to_csv(
        index=False, header=header, sep=delimiter, lineterminator="\n", quoting=quoting
    )
    return text.encode("utf-8")


def _stringify(frame: pd.DataFrame, columns: Sequence[Any]) -> pd.DataFrame:
    frame = frame.copy()
    for column in columns:
        frame[column] = [
            None
            if is_missing(v)
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


def _file_mode() -> int:
    """The mode a plain ``open()`` gives a new file (mkstemp makes it private, 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


class OutputLock:
    """An exclusive lock on one output path, held for the whole run.

    A hidden lock file next to the output, opened without following a symlink and
    locked with ``flock``: a second run on the same output fails at once with a clear
    message, and the lock goes away with the process however it ends (``kill -9`` too).
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        self.path = target.with_name(f".{target.name}{_LOCK_SUFFIX}")
        self._fd: int | None = None

    def acquire(self) -> None:
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        while True:
            try:
                fd = os.open(self.path, flags, 0o600)
            except OSError as error:
                if error.errno == errno.ELOOP:
                    raise LabelError(
                        f"{self.path} is a symbolic link; refusing to use it as the lock of "
                        f"{self.target} (remove it)"
                    ) from None
                raise LabelError(
                    f"cannot create the lock file {self.path}: {error.strerror or error}"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = os.read(fd, 32).decode("ascii", "replace").strip()
                os.close(fd)
                who = f" (pid {owner})" if owner.isdigit() else ""
                raise LabelError(
                    f"another painclf run{who} is writing {self.target}; wait for it to "
                    "finish or choose another -o"
                ) from None
            # The run before may have removed the file between our open and our lock:
            # then the lock is on a file nobody else sees; take the one at the path.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path, follow_symlinks=False))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(self._fd)
        self._fd = None


class Sink:
    """One output file built in an exclusive temporary file next to it, renamed at the end.

    CSV and JSON Lines are appended to the partial file (gzip: one member per
    chunk, so a resumed file is byte-identical); Parquet goes to one part file per
    chunk in a partial directory, merged into row groups at the end. ``size`` and
    ``partial_name`` are what the progress file records after each chunk;
    ``start(name, size)`` reopens that partial output and cuts it back to ``size``.
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
        self.partial: Path | None = None
        self._handle: IO[bytes] | None = None
        self._parts = 0
        self._written = 0
        self._pattern = re.compile(
            rf"\.{re.escape(target.name)}\.[A-Za-z0-9_]+{re.escape(_PARTIAL_SUFFIX)}"
        )

    @property
    def _is_dir(self) -> bool:
        # Parquet and Excel are written at the end from one part file per chunk.
        return self.format.kind in ("parquet", "xlsx")

    def size(self) -> int:
        return self._parts if self._is_dir else self._written

    def partial_name(self) -> str | None:
        return self.partial.name if self.partial is not None else None

    def _own_partial(self, name: Any) -> Path | None:
        """The partial output named ``name`` if it is one this sink could have made.

        A name from the progress file is trusted only when it has our pattern, lies in
        the output's folder, is a plain file (Parquet: a directory), not a symlink,
        and belongs to this user.
        """
        if not isinstance(name, str) or not self._pattern.fullmatch(name):
            return None
        path = self.target.with_name(name)
        try:
            info = os.lstat(path)
        except OSError:
            return None
        kind = stat.S_ISDIR if self._is_dir else stat.S_ISREG
        return path if kind(info.st_mode) and info.st_uid == os.getuid() else None

    def can_restore(self, name: Any, size: int) -> bool:
        """Whether the partial output ``name`` still holds ``size`` (bytes or parts)."""
        path = self._own_partial(name)
        if path is None:
            return False
        if self._is_dir:
            return all((path / self._part_name(number)).is_file() for number in range(size))
        return path.stat().st_size >= size

    def discard_stale(self, name: Any) -> None:
        """Remove the partial output of an earlier run that will not be resumed."""
        path = self._own_partial(name)
        if path is not None:
            _remove(path)

    def start(self, name: str | None = None, size: int = 0) -> None:
        """Create a new partial output, or reopen ``name`` cut back to ``size``."""
        directory = self.target.parent
        prefix = f".{self.target.name}."
        restored = self._own_partial(name) if name is not None else None
        if self._is_dir:
            if restored is None:
                self.partial = Path(
                    tempfile.mkdtemp(dir=directory, prefix=prefix, suffix=_PARTIAL_SUFFIX)
                )
                size = 0
            else:
                self.partial = restored
            for part in self.partial.glob("part-*.parquet"):
                if int(part.stem.split("-")[1]) >= size:
                    part.unlink()
            self._parts = size
            if size:
                import pyarrow.parquet as pq

                self.schema = pq.read_schema(self._part(0)).remove_metadata()
            return
        if restored is None:
            fd, path = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=_PARTIAL_SUFFIX)
            self.partial = Path(path)
            self._handle = os.fdopen(fd, "wb")
            size = 0
        else:
            fd = os.open(restored, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
            self.partial = restored
            self._handle = os.fdopen(fd, "r+b")
            self._handle.truncate(size)
            self._handle.seek(size)
        self._written = size

    @staticmethod
    def _part_name(number: int) -> str:
        return f"part-{number:06d}.parquet"

    def _part(self, number: int) -> Path:
        assert self.partial is not None
        return self.partial / self._part_name(number)

    def _encode(self, data: bytes) -> bytes:
        return gzip.compress(data, mtime=0) if self.format.gzip and data else data

    def append(self, frame: pd.DataFrame) -> None:
        if self._is_dir:
            import pyarrow.parquet as pq

            # Excel parts need no common schema: each is read back on its own.
            table = _arrow_table(frame, self.schema if self.format.kind == "parquet" else None)
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
        assert self.partial is not None
        if self.format.kind == "xlsx":
            from classifier.batch.excel import write_xlsx

            parts = [self._part(number) for number in range(self._parts)]
            with atomic_path(self.target, suffix=".xlsx") as tmp:
                write_xlsx(tmp, self.columns, parts)
            shutil.rmtree(self.partial)
            self.partial = None
            return
        if self._is_dir:
            import pyarrow.parquet as pq

            if self._parts == 0:
                self.append(empty)
            # The schema as Parquet stores it (list items named "element"), the same for a
            # run that was resumed and one that was not: the output is byte-identical.
            schema = pq.read_schema(self._part(0)).remove_metadata()
            with (
                atomic_path(self.target, suffix=".parquet") as tmp,
                pq.ParquetWriter(tmp, schema) as writer,
            ):
                for number in range(self._parts):
                    writer.write_table(pq.read_table(self._part(number), schema=schema))
            shutil.rmtree(self.partial)
            self.partial = None
            return
        assert self._handle is not None
        if self._written == 0 and self.format.kind == "csv":
            self.append(empty)
        os.fchmod(self._handle.fileno(), _file_mode())
        self._handle.close()
        self._handle = None
        # rename() replaces a symlink at the target itself, never the file it points to.
        os.replace(self.partial, self.target)
        self.partial = None

    def close(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):  # a full disk fails the last flush too
                self._handle.close()
            self._handle = None

    def discard(self) -> None:
        self.close()
        if self.partial is not None:
            _remove(self.partial)
            self.partial = None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


class StdoutSink(Sink):
    """Output to stdout: written as it comes, nothing to rename or resume."""

    def __init__(self, fmt: FileFormat, columns: list[str], nested: bool = False) -> None:
        super().__init__(Path("-"), fmt, columns, None, nested)

    def start(self, name: str | None = None, size: int = 0) -> None:
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
