"""``painclf review``: a local web page to correct the model one text at a time.

The page shows the texts most worth a human look (urgent or needs-review answers, or the
picks of ``painclf suggest``) one at a time with the model's label, probabilities, urgent
reasons and highlighted evidence. Keys: 1/2/3 soreness/pain/other, u toggles urgent, s
skips, z undoes the last answer. Every answer is appended at once to a labeled CSV file
that ``painclf validate`` accepts and ``painclf train --data`` takes.

Crash safety: an answer is written (one ``write`` of a whole CSV line to a file opened for
appending) and ``fsync``-ed before the page is told it was saved, so a killed server or
machine loses nothing that was acknowledged. Writes are serialised by a lock and an
``flock`` on the file, so two tabs (or two servers) on one file cannot interleave lines;
a text already answered in another tab is refused, not written twice. Undo rewrites the
file without that answer into a temporary file that replaces it atomically.

The server is the standard library's ``ThreadingHTTPServer`` bound to 127.0.0.1 on a free
port: no build step, no network, nothing downloaded.
"""

from __future__ import annotations

import csv
import fcntl
import html
import io
import json
import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from classifier.config import LABELS, PROJECT_ROOT, URGENT_ALLOWED_LABELS

OUTPUT_COLUMNS = (
    "text",
    "label",
    "urgent",
    "urgent_reasons",
    "ticket_id",
    "source_line",
    "model_label",
    "model_confidence",
    "answered_at",
    "answer_id",
)
SELECTIONS = ("flagged", "suggest", "all")
GUIDE_PATH = PROJECT_ROOT / "docs" / "labeling-guide.md"
MAX_BODY_BYTES = 64 * 1024


class ReviewError(ValueError):
    """A request the review page must refuse; the message is shown to the reviewer."""


@dataclass
class ReviewItem:
    """One text to review, with the model's answer."""

    key: str
    text: str
    shown_text: str
    ticket_id: str
    source_line: int
    label: str
    probabilities: dict[str, float]
    confidence: float
    urgent: bool
    urgent_reasons: list[str]
    urgent_flags: list[str]
    evidence: list[str]
    spans: list[tuple[int, int, str]]
    needs_review: bool
    why: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_queue(
    path: str | Path,
    text_columns: Sequence[str] | None = None,
    select: str = "flagged",
    count: int | None = None,
    model: str | None = None,
) -> list[ReviewItem]:
    """The texts of ``path`` worth a look, most urgent and least confident first.

    ``select``: ``flagged`` (urgent or needs review), ``suggest`` (``painclf suggest``'s
    least confident, diverse picks), ``all`` (every text, in file order). ``count``
    keeps the first so many.
    """
    from classifier.analysis import analyze_many
    from classifier.lifecycle import read_tickets
    from classifier.lifecycle import suggest as suggest_texts
    from classifier.predict import evidence_spans, get_classifier

    if select not in SELECTIONS:
        raise ReviewError(f"unknown selection {select!r}: use one of {', '.join(SELECTIONS)}")
    tickets = read_tickets(path, text_columns)
    classifier = get_classifier(model)
    rows = list(range(len(tickets.texts)))
    if select == "suggest":
        picked = suggest_texts(
            classifier,
            tickets.texts,
            n=count or 50,
            lines=tickets.lines,
            ids=[str(i) for i in rows],
            id_column="_row",
        )
        rows = [int(i) for i in picked["_row"]]
    analyses = analyze_many([tickets.texts[i] for i in rows])
    predictions = classifier.predict_analyses(analyses)
    items = []
    for row, analysis, prediction in zip(rows, analyses, predictions, strict=True):
        why = "urgent" if prediction.urgent else "needs review" if prediction.needs_review else ""
        if select == "flagged" and not why:
            continue
        items.append(
            ReviewItem(
                key=str(tickets.lines[row]),
                text=tickets.texts[row],
                shown_text=analysis.text,
                ticket_id=tickets.ids[row] if tickets.ids else "",
                source_line=tickets.lines[row],
                label=prediction.label,
                probabilities=prediction.probabilities,
                confidence=prediction.confidence,
                urgent=prediction.urgent,
                urgent_reasons=list(prediction.urgent_reasons),
                urgent_flags=list(prediction.urgent_flags),
                evidence=list(prediction.evidence),
                spans=evidence_spans(analysis, classifier.rules),
                needs_review=prediction.needs_review,
                why=why or ("suggested" if select == "suggest" else "in the file"),
            )
        )
    if select == "flagged":
        items.sort(key=lambda item: (not item.urgent, item.confidence))
    return items[:count] if count else items


@dataclass
class ReviewLog:
    """The labeled file the answers go to: appended to, one fsync-ed line per answer."""

    path: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if self.path.exists():
            with self.path.open(encoding="utf-8", newline="") as handle:
                header = next(csv.reader(handle), None)
            if header is not None and header != list(OUTPUT_COLUMNS):
                raise ReviewError(
                    f"{self.path} exists and is not a painclf review file (its columns are "
                    f"{header}); choose another --output"
                )

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """This process's lock and an exclusive flock (other servers on the same file)."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock_path = self.path.with_name(f".{self.path.name}.lock")
            with lock_path.open("a") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)

    def rows(self) -> list[dict[str, str]]:
        """The answers written so far, in order."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    def answered_keys(self) -> set[str]:
        return {_answer_key(row["text"]) for row in self.rows()}

    def append(self, item: ReviewItem, label: str, urgent: bool) -> dict[str, str]:
        """Write one answer durably; refuse a text already answered (e.g. in another tab)."""
        if label not in LABELS:
            raise ReviewError(f"unknown label {label!r}; labels are {', '.join(LABELS)}")
        if urgent and label not in URGENT_ALLOWED_LABELS:
            raise ReviewError("an urgent text is never soreness: choose pain or other")
        reasons = item.urgent_flags if urgent else []
        row = {
            "text": item.text,
            "label": label,
            "urgent": "1" if urgent else "0",
            "urgent_reasons": ";".join(reasons),
            "ticket_id": item.ticket_id,
            "source_line": str(item.source_line),
            "model_label": item.label,
            "model_confidence": f"{item.confidence:.4f}",
            "answered_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "answer_id": uuid.uuid4().hex,
        }
        with self._locked():
            if _answer_key(item.text) in self.answered_keys():
                raise ReviewError("this text was already answered (in another tab?)")
            data = _csv_line(row)
            if not self.path.exists() or self.path.stat().st_size == 0:
                data = _csv_line(dict(zip(OUTPUT_COLUMNS, OUTPUT_COLUMNS, strict=True))) + data
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                _write_all(fd, data.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        return row

    def undo(self, answer_id: str) -> dict[str, str]:
        """Remove one answer: the file is rewritten without it and atomically replaced."""
        with self._locked():
            rows = self.rows()
            kept = [row for row in rows if row.get("answer_id") != answer_id]
            if len(kept) == len(rows):
                raise ReviewError("nothing to undo: that answer is not in the file")
            removed = next(row for row in rows if row.get("answer_id") == answer_id)
            staging = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.tmp")
            content = _csv_line(dict(zip(OUTPUT_COLUMNS, OUTPUT_COLUMNS, strict=True)))
            content += "".join(_csv_line(row) for row in kept)
            fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                _write_all(fd, content.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(staging, self.path)
        return removed


def _answer_key(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _csv_line(row: dict[str, str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([row.get(c, "") for c in OUTPUT_COLUMNS])
    return buffer.getvalue()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class ReviewSession:
    """The queue and the labeled file behind one review page."""

    def __init__(self, items: list[ReviewItem], log: ReviewLog, source: str) -> None:
        self.items = {item.key: item for item in items}
        self.order = [item.key for item in items]
        self.log = log
        self.source = source

    def state(self) -> dict[str, Any]:
        answered = self.log.answered_keys()
        return {
            "source": self.source,
            "output": str(self.log.path),
            "labels": list(LABELS),
            "items": [self.items[key].to_dict() for key in self.order],
            "answered": [k for k in self.order if _answer_key(self.items[k].text) in answered],
            "answers_in_file": len(self.log.rows()),
        }

    def answer(self, key: str, label: str, urgent: bool) -> dict[str, str]:
        item = self.items.get(key)
        if item is None:
            raise ReviewError(f"no text {key!r} in this review")
        return self.log.append(item, label, urgent)


def _page() -> str:
    return resources.files("classifier.resources").joinpath("review.html").read_text("utf-8")


def _guide_page() -> str:
    if not GUIDE_PATH.is_file():
        return "<p>The labeling guide is docs/labeling-guide.md in the painclf repository.</p>"
    text = html.escape(GUIDE_PATH.read_text(encoding="utf-8"))
    return (
        "<!doctype html><meta charset=utf-8><title>painclf labeling guide</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:48em;margin:2em auto;"
        "padding:0 1em}pre{white-space:pre-wrap;font:inherit}</style>"
        f"<pre>{text}</pre>"
    )


def make_handler(session: ReviewSession) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to ``session``."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "painclf-review"

        def log_message(self, format: str, *args: Any) -> None:  # no access log on stderr
            return

        def _send(self, status: int, body: str, content_type: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(data)

        def _json(self, status: int, payload: Any) -> None:
            self._send(status, json.dumps(payload, ensure_ascii=False), "application/json")

        def do_GET(self) -> None:
            if self.path == "/":
                self._send(HTTPStatus.OK, _page(), "text/html")
            elif self.path == "/guide":
                self._send(HTTPStatus.OK, _guide_page(), "text/html")
            elif self.path == "/api/state":
                self._json(HTTPStatus.OK, session.state())
            else:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no page {self.path}"})

        def do_POST(self) -> None:
            # A page from another site must not post answers: JSON only, same origin only.
            origin = self.headers.get("Origin")
            host = self.headers.get("Host", "")
            if origin is not None and origin != f"http://{host}":
                self._json(HTTPStatus.FORBIDDEN, {"error": "cross-origin request refused"})
                return
            if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
                self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "send JSON"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "request too large"})
                return
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path == "/api/answer":
                    row = session.answer(
                        str(body.get("key")), str(body.get("label")), bool(body.get("urgent"))
                    )
                    self._json(HTTPStatus.OK, {"answer_id": row["answer_id"], "row": row})
                elif self.path == "/api/undo":
                    row = session.log.undo(str(body.get("answer_id")))
                    self._json(HTTPStatus.OK, {"undone": row})
                else:
                    self._json(HTTPStatus.NOT_FOUND, {"error": f"no action {self.path}"})
            except ReviewError as error:
                self._json(HTTPStatus.CONFLICT, {"error": str(error)})
            except (json.JSONDecodeError, AttributeError):
                self._json(HTTPStatus.BAD_REQUEST, {"error": "malformed request"})

    return Handler


def make_server(session: ReviewSession, port: int = 0) -> ThreadingHTTPServer:
    """A server for ``session`` on 127.0.0.1 (``port`` 0: a free port)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(session))
    server.daemon_threads = True
    return server
