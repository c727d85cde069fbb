"""The model lifecycle: list versions, gate promotions on a gold file, diff two versions, and
pick the tickets most worth labeling next.

Every function here is pure apart from ``promote`` (which may move ``CURRENT``) and
``write_suggestions`` (which writes one file atomically); the ``painclf models``,
``promote``, ``diff`` and ``suggest`` commands only wrap them.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classifier.config import CURRENT_FILE_NAME, LABELS, MODEL_CARD_NAME
from classifier.dataset import DataError, Problem, normalise_text, read_labeled
from classifier.registry import (
    ModelError,
    ModelRef,
    current_version,
    load_pipeline,
    models_dir,
    read_manifest,
    set_current,
)

# The gate of the issue: a candidate may lose at most this much macro-F1 on the gold file.
DEFAULT_F1_TOLERANCE = 0.01
# Float noise must not turn "equal" into "lower" (metrics come from different code paths).
_EPSILON = 1e-9
CURRENT_ALIASES = frozenset({"CURRENT", "current"})
# Cosine distance on word TF-IDF below which two texts count as near-copies for `suggest`.
NEAR_COPY_DISTANCE = 0.1
SUGGESTION_COLUMNS = (
    "text",
    "label",
    "urgent",
    "urgent_reasons",
    "hint_label",
    "hint_confidence",
    "hint_urgent",
    "hint_urgent_flags",
    "source_line",
)


# --- the registry at a glance -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionSummary:
    """One model directory as ``painclf models list`` shows it.

    ``error`` is set (and the metrics left empty) when the directory cannot be read.
    """

    version: str
    path: Path
    current: bool = False
    created: str | None = None
    training_files: tuple[tuple[str, int], ...] = ()
    training_rows: int | None = None
    cv_macro_f1: float | None = None
    cv_urgent_recall: float | None = None
    gold: dict[str, dict[str, float | None]] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "version": self.version,
            "path": str(self.path),
            "current": self.current,
            "created": self.created,
            "training_files": [{"path": p, "rows": r} for p, r in self.training_files],
            "training_rows": self.training_rows,
            "cv_macro_f1": self.cv_macro_f1,
            "cv_urgent_recall": self.cv_urgent_recall,
            "gold": self.gold,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class RegistryOverview:
    """Every model directory in a registry, which one is current, and what is wrong."""

    root: Path
    versions: list[VersionSummary]
    current: str | None
    problems: list[str]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "root": str(self.root),
            "current": self.current,
            "versions": [v.to_dict() for v in self.versions],
            "problems": self.problems,
        }


def _urgent_recall(metrics: Mapping[str, Any] | None) -> float | None:
    urgent = (metrics or {}).get("urgent") or {}
    recall = urgent.get("recall")
    return None if recall is None else float(recall)


def summarize_version(ref: ModelRef, current: bool = False) -> VersionSummary:
    """The key facts of a model version, from its manifest only (the model is not loaded)."""
    manifest = ref.manifest
    metrics = manifest.get("metrics") or {}
    cv = metrics.get("cross_validation") or {}
    gold = {
        str(path): {"macro_f1": m.get("macro_f1"), "urgent_recall": _urgent_recall(m)}
        for path, m in (metrics.get("gold") or {}).items()
    }
    files = tuple(
        (str(source.get("path", "?")), int(source.get("rows", 0)))
        for source in manifest.get("training_data") or []
    )
    return VersionSummary(
        version=ref.version,
        path=ref.path,
        current=current,
        created=manifest.get("created"),
        training_files=files,
        training_rows=manifest.get("training_rows"),
        cv_macro_f1=cv.get("macro_f1"),
        cv_urgent_recall=_urgent_recall(cv),
        gold=gold,
    )


def registry_overview(root: Path | None = None) -> RegistryOverview:
    """Summaries of every model directory under ``root``, oldest first.

    Unlike ``registry.list_versions``, unreadable directories are kept (with the
    reason), and a ``CURRENT`` that names a missing version is reported, so that
    ``painclf models list`` shows what needs fixing.
    """
    base = models_dir(root)
    current = current_version(root)
    problems: list[str] = []
    versions: list[VersionSummary] = []
    if not base.is_dir():
        problems.append(f"no models directory at {base}: run `painclf train` first")
        return RegistryOverview(base, versions, current, problems)
    for path in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            ref = ModelRef(path, read_manifest(path))
        except ModelError as error:
            versions.append(
                VersionSummary(path.name, path, current=path.name == current, error=str(error))
            )
            problems.append(f"{path.name}: {error}")
            continue
        versions.append(summarize_version(ref, current=path.name == current))
    if current is None:
        problems.append(f"no {CURRENT_FILE_NAME} model: promote one with `painclf promote VERSION`")
    elif not (base / current).is_dir():
        problems.append(
            f"{CURRENT_FILE_NAME} names version {current!r}, which does not exist: "
            "promote an existing version with `painclf promote VERSION --gold FILE --force`"
        )
    return RegistryOverview(base, versions, current, problems)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _short_path(path: str) -> str:
    """``seed/pain.csv`` rather than a long absolute path, yet unlike another ``pain.csv``."""
    parts = Path(path).parts
    return "/".join(parts[-2:])


def format_overview(overview: RegistryOverview) -> str:
    """The ``painclf models list`` table; ``*`` marks the current version."""
    lines = [f"models in {overview.root}"]
    if overview.versions:
        lines.append(
            f"  {'version':<22} {'created':<20} {'rows':>5} {'cv-F1':>6} {'cv-urg':>6}  "
            "training data / gold metrics"
        )
    for item in overview.versions:
        mark = "*" if item.current else " "
        if item.error:
            lines.append(f"{mark} {item.version:<22} UNREADABLE: {item.error}")
            continue
        created = (item.created or "-").replace("T", " ")[:19]
        rows = "-" if item.training_rows is None else str(item.training_rows)
        files = ", ".join(f"{_short_path(p)}:{n}" for p, n in item.training_files) or "-"
        lines.append(
            f"{mark} {item.version:<22} {created:<20} {rows:>5} {_number(item.cv_macro_f1):>6} "
            f"{_number(item.cv_urgent_recall):>6}  {files}"
        )
        for path, scores in item.gold.items():
            lines.append(
                f"  {'':<22} {'':<20} {'':>5} {'':>6} {'':>6}  gold {_short_path(path)}: "
                f"macro-F1 {_number(scores['macro_f1'])}, "
                f"urgent recall {_number(scores['urgent_recall'])}"
            )
    if not overview.versions:
        lines.append("  (no model versions)")
    lines.append("* = CURRENT; cv-F1 and cv-urg: cross-validated macro-F1 and urgent recall")
    lines.extend(f"warning: {problem}" for problem in overview.problems)
    return "\n".join(lines)


def model_card(model: str | Path, root: Path | None = None) -> str:
    """The ``MODEL_CARD.md`` of a model version, directory or file.

    Raises
    ------
    ModelError
        If the model does not exist, its manifest is unreadable, or it has no card.
    """
    ref = resolve_model(model, root)
    card = ref.path / MODEL_CARD_NAME
    if not card.is_file():
        raise ModelError(f"{ref.path} has no {MODEL_CARD_NAME}: the model directory is incomplete")
    return card.read_text(encoding="utf-8")


def resolve_model(model: str | Path | None, root: Path | None = None) -> ModelRef:
    """``registry.resolve``, with ``CURRENT`` accepted as a name for the current model, and
    the shipped model (``shipped``, or the default when the registry has no ``CURRENT``)."""
    from classifier.predict import ensure_model

    if model is not None and str(model) in CURRENT_ALIASES:
        model = None
    return ensure_model(model, root)


def current_model(root: Path | None = None) -> dict[str, Any]:
    """What ``painclf models current`` says: the model that predict and label use.

    Raises
    ------
    ModelError
        If there is no usable model.
    """
    from classifier import __version__
    from classifier.config import SHIPPED_MODEL_DIR

    ref = resolve_model(None, root)
    manifest = ref.manifest
    metrics = manifest.get("metrics") or {}
    shipped = ref.path.resolve() == SHIPPED_MODEL_DIR.resolve()
    return {
        "painclf": __version__,
        "version": ref.version,
        "source": "shipped with painclf (no CURRENT in the registry)"
        if shipped
        else f"{CURRENT_FILE_NAME} of the registry {models_dir(root)}",
        "path": str(ref.path),
        "created": manifest.get("created"),
        "training_data": [
            {k: source.get(k) for k in ("path", "rows", "sha256")}
            for source in manifest.get("training_data") or []
        ],
        "training_rows": manifest.get("training_rows"),
        "label_counts": manifest.get("label_counts"),
        "needs_review_threshold": manifest.get("needs_review_thresholds")
        or manifest.get("needs_review_threshold"),
        "cross_validation": _headline(metrics.get("cross_validation")),
        "gold": {str(path): _headline(m) for path, m in (metrics.get("gold") or {}).items()},
    }


def _headline(metrics: Mapping[str, Any] | None) -> dict[str, float | None]:
    metrics = metrics or {}
    urgent = metrics.get("urgent") or {}
    return {
        "macro_f1": metrics.get("macro_f1"),
        "accuracy": metrics.get("accuracy"),
        "urgent_recall": urgent.get("recall"),
        "urgent_precision": urgent.get("precision"),
    }


def format_current_model(info: Mapping[str, Any]) -> str:
    """The ``painclf models current`` text."""

    def scores(values: Mapping[str, float | None]) -> str:
        return (
            f"macro-F1 {_number(values['macro_f1'])}, accuracy {_number(values['accuracy'])}, "
            f"urgent recall {_number(values['urgent_recall'])}, "
            f"urgent precision {_number(values['urgent_precision'])}"
        )

    lines = [
        f"model      {info['version']}  (painclf {info['painclf']})",
        f"from       {info['source']}",
        f"path       {info['path']}",
        f"created    {info['created'] or '-'}",
        f"trained on {info['training_rows']} rows: "
        + ", ".join(f"{k} {v}" for k, v in (info["label_counts"] or {}).items()),
    ]
    lines += [
        f"           {source['path']} ({source['rows']} rows, sha256 {str(source['sha256'])[:12]})"
        for source in info["training_data"]
    ]
    lines.append(f"cv         {scores(info['cross_validation'])}")
    lines += [f"gold       {path}: {scores(values)}" for path, values in info["gold"].items()]
    review = info["needs_review_threshold"]
    if isinstance(review, Mapping):
        review = ", ".join(f"{value} for {label}" for label, value in review.items())
    lines.append(f"review     needs_review below confidence {review}")
    return "\n".join(lines)


def load_classifier(model: str | Path | None, root: Path | None = None) -> Any:
    """A ``classifier.predict.Classifier`` for ``model`` in the registry at ``root``.

    Unlike ``predict.get_classifier`` it never trains a missing model and caches nothing:
    the lifecycle commands compare exactly the versions they were given.
    """
    from classifier.predict import Classifier

    ref = resolve_model(model, root)
    return Classifier(load_pipeline(ref), ref.manifest)


# --- the promotion gate ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GateDecision:
    """Whether a candidate passes the promotion gate, and why."""

    passed: bool
    reasons: tuple[str, ...]


def promotion_gate(
    candidate: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    f1_tolerance: float = DEFAULT_F1_TOLERANCE,
) -> GateDecision:
    """Compare two models' metrics on the same gold file (``evaluate.compute_metrics`` output).

    The candidate passes when its macro-F1 is at least the current model's minus
    ``f1_tolerance`` and its urgent recall is not lower at all: a missed red flag
    costs more than a mislabeled complaint.

    Examples
    --------
    >>> current = {"macro_f1": 0.90, "urgent": {"recall": 1.0}}
    >>> promotion_gate({"macro_f1": 0.895, "urgent": {"recall": 1.0}}, current).passed
    True
    >>> decision = promotion_gate({"macro_f1": 0.95, "urgent": {"recall": 0.9}}, current)
    >>> decision.passed, decision.reasons[-1]
    (False, 'urgent recall 0.900 is lower than the current 1.000')
    """
    if current is None:
        return GateDecision(True, ("no current model to compare with",))
    reasons = []
    passed = True
    new_f1, old_f1 = float(candidate["macro_f1"]), float(current["macro_f1"])
    if new_f1 + _EPSILON >= old_f1:
        reasons.append(f"macro-F1 {new_f1:.3f} is not lower than the current {old_f1:.3f}")
    elif new_f1 + _EPSILON >= old_f1 - f1_tolerance:
        reasons.append(
            f"macro-F1 {new_f1:.3f} is below the current {old_f1:.3f} by no more than "
            f"the tolerated {f1_tolerance:g}"
        )
    else:
        passed = False
        reasons.append(
            f"macro-F1 {new_f1:.3f} is more than {f1_tolerance:g} below the current {old_f1:.3f}"
        )
    new_recall, old_recall = _urgent_recall(candidate), _urgent_recall(current)
    if old_recall is None:
        reasons.append("the gold file has no urgent texts: urgent recall was not compared")
    elif new_recall is not None and new_recall + _EPSILON >= old_recall:
        reasons.append(
            f"urgent recall {new_recall:.3f} is not lower than the current {old_recall:.3f}"
        )
    else:
        passed = False
        shown = "n/a" if new_recall is None else f"{new_recall:.3f}"
        reasons.append(f"urgent recall {shown} is lower than the current {old_recall:.3f}")
    return GateDecision(passed, tuple(reasons))


@dataclass(frozen=True, slots=True)
class PromotionResult:
    """What ``promote`` decided and did."""

    candidate: str
    current: str | None
    gold: str
    candidate_metrics: dict[str, Any]
    current_metrics: dict[str, Any] | None
    decision: GateDecision
    promoted: bool
    forced: bool
    note: str = ""

    def table(self) -> str:
        """The two models side by side on the gold file."""
        return comparison_table(
            self.candidate, self.candidate_metrics, self.current, self.current_metrics
        )

    def format(self) -> str:
        """Table, gate reasons and outcome, as ``painclf promote`` prints them."""
        if self.promoted and self.candidate == self.current:
            return f"{self.candidate} is already the current model; nothing changed"
        lines = [f"gold file {self.gold}", self.table(), ""]
        verdict = "passes" if self.decision.passed else "FAILS"
        lines.append(f"gate: {self.candidate} {verdict}")
        lines.extend(f"  - {reason}" for reason in self.decision.reasons)
        if self.promoted and self.forced and not self.decision.passed:
            lines.append(f"FORCED: {self.candidate} is now current despite the gate (logged)")
        elif self.promoted:
            lines.append(f"promoted: {self.candidate} is now current")
        else:
            lines.append(
                f"refused: {self.current} stays current "
                f"(override with --force; it is recorded in the registry log)"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "candidate": self.candidate,
            "current": self.current,
            "gold": self.gold,
            "candidate_metrics": self.candidate_metrics,
            "current_metrics": self.current_metrics,
            "passed": self.decision.passed,
            "reasons": list(self.decision.reasons),
            "promoted": self.promoted,
            "forced": self.forced,
            "note": self.note,
        }


def comparison_table(
    candidate: str,
    candidate_metrics: Mapping[str, Any],
    current: str | None,
    current_metrics: Mapping[str, Any] | None,
) -> str:
    """Macro-F1, accuracy, per-label F1 and urgent recall of two models, side by side."""
    columns = [(f"{candidate} (candidate)", candidate_metrics)]
    if current_metrics is not None:
        columns.insert(0, (f"{current} (current)", current_metrics))
    width = max(14, *(len(name) for name, _ in columns))

    def row(name: str, values: Iterable[float | None]) -> str:
        return f"{name:<16}" + "".join(f" {_number(v):>{width}}" for v in values)

    metrics = [m for _, m in columns]
    lines = [f"{'':<16}" + "".join(f" {name:>{width}}" for name, _ in columns)]
    lines.append(row("macro-F1", (m["macro_f1"] for m in metrics)))
    lines.append(row("accuracy", (m["accuracy"] for m in metrics)))
    lines.extend(
        row(f"F1 {label}", (m["per_label"][label]["f1"] for m in metrics)) for label in LABELS
    )
    lines.append(row("urgent recall", (_urgent_recall(m) for m in metrics)))
    support = (metrics[0].get("urgent") or {}).get("support", 0)
    lines.append(f"{'':<16} ({metrics[0]['n']} texts, {support} urgent)")
    return "\n".join(lines)


def promote(
    version: str,
    gold: str | Path,
    root: Path | None = None,
    force: bool = False,
    f1_tolerance: float = DEFAULT_F1_TOLERANCE,
) -> PromotionResult:
    """Make ``version`` current if it passes the promotion gate on ``gold`` (or ``force``).

    Both the candidate and the current model are evaluated on the labeled ``gold``
    file; see ``promotion_gate``. With no current model, the candidate is promoted.
    Each promotion is appended to the registry log, a forced one marked ``FORCED``.

    Raises
    ------
    ModelError
        If the candidate is missing or unreadable, is not a version of this registry,
        or the current model cannot be loaded (without ``force``). ``CURRENT`` is
        left unchanged.
    DataError
        If the gold file cannot be read or has invalid rows.
    """
    from classifier.evaluate import evaluate_file

    base = models_dir(root)
    ref = resolve_model(version, root)
    if ref.path.resolve().parent != base.resolve():
        raise ModelError(
            f"{ref.path} is not a version in {base}: copy it there first, or pass --models-dir"
        )
    name = ref.path.name
    current = current_version(root)
    candidate = load_classifier(name, root)
    if name == current:
        already = GateDecision(True, ("already current",))
        return PromotionResult(name, current, str(gold), {}, None, already, True, False)
    candidate_report = evaluate_file(gold, candidate)
    current_metrics = None
    unusable = ""
    if current is not None:
        try:
            current_metrics = evaluate_file(gold, load_classifier(None, root)).metrics
        except ModelError as error:
            unusable = str(error)
    if unusable and not force:
        raise ModelError(
            f"the current model cannot be loaded, so there is nothing to compare {name} with: "
            f"{unusable}. To make {name} current anyway, re-run with --force (it is logged)."
        )
    decision = promotion_gate(candidate_report.metrics, current_metrics, f1_tolerance)
    if unusable:
        decision = GateDecision(False, (f"current model {current!r} unusable: {unusable}",))
    promoted = decision.passed or force
    note = ""
    if promoted:
        summary = (
            f"gold {gold}: macro-F1 {candidate_report.metrics['macro_f1']:.3f}"
            f" (current {_number(current_metrics['macro_f1'] if current_metrics else None)}), "
            f"urgent recall {_number(_urgent_recall(candidate_report.metrics))}"
            f" (current {_number(_urgent_recall(current_metrics))})"
        )
        if decision.passed:
            note = f"promoted, gate passed; {summary}"
        else:
            note = f"FORCED past the gate ({'; '.join(decision.reasons)}); {summary}"
        set_current(name, root, note=note)
    return PromotionResult(
        name,
        current,
        str(gold),
        candidate_report.metrics,
        current_metrics,
        decision,
        promoted=promoted,
        forced=force,
        note=note,
    )


# --- unlabeled texts ---------------------------------------------------------------------


# A ticket id column: "id", "ticket_id", "Ticket ID", "case number", "request-no"...
_ID_COLUMN = re.compile(r"^(ticket|case|request|issue|conversation|message)?[ _-]?(id|number|no)$")


def _pick_columns(columns: Sequence[str], requested: Sequence[str] | None, path: Path) -> list[str]:
    """The text columns, found the way ``painclf label`` finds them."""
    from classifier.batch import find_text_columns

    try:
        return find_text_columns(columns, list(requested) if requested else None)
    except ValueError as error:
        raise DataError([Problem(str(path), 1, str(error))]) from None


def find_id_column(columns: Sequence[str], text_columns: Sequence[str] = ()) -> str | None:
    """The column that identifies a ticket (``id``, ``ticket_id``, ``Case Number``...), if any.

    Examples
    --------
    >>> find_id_column(["Ticket ID", "Subject", "Description"])
    'Ticket ID'
    >>> find_id_column(["text", "label"]) is None
    True
    """
    for name in columns:
        if name not in text_columns and _ID_COLUMN.match(name.strip().lower()):
            return name
    return None


@dataclass
class Tickets:
    """Texts read from a file of tickets: text, line number and id of each row."""

    texts: list[str]
    lines: list[int]
    ids: list[str] | None = None
    id_column: str | None = None
    text_columns: list[str] = field(default_factory=list)


def read_texts(
    path: str | Path, column: str | Sequence[str] | None = None
) -> tuple[list[str], list[int]]:
    """The texts of a CSV/TSV, JSON Lines, Parquet or plain-text file, with their line numbers.

    See ``read_tickets``, which also returns each row's ticket id.
    """
    tickets = read_tickets(path, column)
    return tickets.texts, tickets.lines


def read_tickets(path: str | Path, columns: str | Sequence[str] | None = None) -> Tickets:
    """The texts of a CSV/TSV, JSON Lines, Parquet or plain-text file, with line numbers and ids.

    The text column is each of ``columns`` (several are joined with a blank line), or the
    one column named like a text column (``text``, ``body``, ``message``..., as ``painclf
    label`` finds it). The id column is the one named like ``id``/``ticket_id``. A
    ``.txt`` file holds one text per line. Missing values become "".

    Raises
    ------
    DataError
        If the file is missing, unreadable, or has no such column.
    """
    path = Path(path)
    requested = [columns] if isinstance(columns, str) else list(columns or [])
    if not path.is_file():
        raise DataError([Problem(str(path), None, "file not found")])
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv"):
            names, records = _read_csv_records(path, "\t" if suffix == ".tsv" else ",")
        elif suffix in (".jsonl", ".ndjson"):
            names, records = _read_jsonl_records(path)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
            names = [str(c) for c in frame.columns]
            frame.columns = names
            records = list(enumerate(frame.to_dict(orient="records"), start=2))
        elif suffix == ".txt":
            lines = path.read_text(encoding="utf-8-sig").splitlines()
            kept = [(i, line) for i, line in enumerate(lines, start=1) if line.strip()]
            return Tickets([t for _, t in kept], [i for i, _ in kept])
        else:
            raise DataError(
                [
                    Problem(
                        str(path),
                        None,
                        f"unknown file type {suffix!r} (csv, tsv, jsonl, parquet, txt)",
                    )
                ]
            )
    except DataError:
        raise
    except UnicodeDecodeError:
        raise DataError([Problem(str(path), None, "not valid UTF-8; save it as UTF-8")]) from None
    except (csv.Error, OSError, ValueError) as error:  # pyarrow's errors are ValueErrors too
        raise DataError([Problem(str(path), None, f"cannot read: {error}")]) from None
    if not names:
        return Tickets([], [])
    text_columns = _pick_columns(names, requested, path)
    id_column = find_id_column(names, text_columns)
    texts = [
        "\n\n".join(t for t in (_as_text(r.get(c)) for c in text_columns) if t.strip())
        for _, r in records
    ]
    ids = [_as_text(r.get(id_column)) for _, r in records] if id_column else None
    return Tickets(texts, [n for n, _ in records], ids, id_column, text_columns)


def _as_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _read_csv_records(path: Path, delimiter: str) -> tuple[list[str], list[tuple[int, dict]]]:
    content = path.read_bytes().decode("utf-8-sig")
    reader = csv.reader(content.splitlines(keepends=True), delimiter=delimiter, strict=True)
    header = next(reader, None)
    if header is None:
        return [], []
    names = [h.strip() for h in header]
    records = []
    start = reader.line_num + 1
    for fields in reader:
        if fields and any(f.strip() for f in fields):
            records.append((start, dict(zip(names, fields, strict=False))))
        start = reader.line_num + 1
    return names, records


def _read_jsonl_records(path: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    names: dict[str, None] = {}
    records = []
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                problem = Problem(str(path), number, f"invalid JSON: {error.msg}")
                raise DataError([problem]) from None
            if not isinstance(record, dict):
                raise DataError([Problem(str(path), number, "a JSON line must be an object")])
            names.update(dict.fromkeys(str(k) for k in record))
            records.append((number, {str(k): v for k, v in record.items()}))
    return list(names), records


# --- what changed between two versions ----------------------------------------------------


@dataclass
class DiffReport:
    """How two model versions label the same texts differently."""

    old_version: str
    new_version: str
    file: str
    n: int
    changed: int
    confusion: pd.DataFrame
    urgent_flips: pd.DataFrame
    rows: pd.DataFrame
    mean_shift: float

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        """A JSON-ready dict; ``rows`` holds the changed rows, largest shift first."""
        rows = self.rows if top is None else self.rows.head(top)
        return {
            "old": self.old_version,
            "new": self.new_version,
            "file": self.file,
            "n": self.n,
            "changed": self.changed,
            "mean_probability_shift": self.mean_shift,
            "confusion": {
                "rows_old_columns_new": list(LABELS),
                "matrix": self.confusion.to_numpy().tolist(),
            },
            "urgent_flips": self.urgent_flips.to_dict("records"),
            "changed_rows": rows.to_dict("records"),
        }

    def format(self, top: int = 15) -> str:
        """The report as ``painclf diff`` prints it."""
        share = self.changed / self.n if self.n else 0.0
        lines = [
            f"{self.file}: {self.n} texts; labels changed on {self.changed} ({share:.1%}) "
            f"from {self.old_version} to {self.new_version}; "
            f"mean probability shift {self.mean_shift:.3f}",
            "",
            f"labels (rows = {self.old_version}, columns = {self.new_version}):",
            " " * 10 + "".join(f"{label:>10}" for label in LABELS),
        ]
        for label in LABELS:
            lines.append(
                f"{label:<10}" + "".join(f"{int(v):>10d}" for v in self.confusion.loc[label])
            )
        lines.append("")
        if len(self.urgent_flips):
            lines.append(f"urgent flips: {len(self.urgent_flips)}")
            for row in self.urgent_flips.itertuples(index=False):
                lines.append(
                    f"  line {row.line}: urgent {row.old_urgent} -> {row.new_urgent}: "
                    f"{_short(row.text)}"
                )
        else:
            lines.append("urgent flips: none")
        if len(self.rows):
            lines.append("")
            lines.append(f"changed rows, largest probability shift first (top {top}):")
            for row in self.rows.head(top).itertuples(index=False):
                lines.append(
                    f"  line {row.line}: {row.old_label} {row.old_confidence:.2f} -> "
                    f"{row.new_label} {row.new_confidence:.2f} (shift {row.shift:.2f}): "
                    f"{_short(row.text)}"
                )
        return "\n".join(lines)


def _short(text: str, width: int = 90) -> str:
    shown = " ".join(str(text).split())
    return shown if len(shown) <= width else shown[: width - 3] + "..."


def diff_predictions(
    old: Any, new: Any, texts: Sequence[Any], lines: Sequence[int] | None = None, file: str = ""
) -> DiffReport:
    """Label ``texts`` with two classifiers and compare the answers.

    Parameters
    ----------
    old, new : Classifier
        The two models (``classifier.predict.Classifier``).
    texts : sequence
        The texts; any value ``predict_many`` accepts.
    lines : sequence of int, optional
        Where each text is in its file, for the report; default 1, 2, ...
    file : str
        The file's name, for the report.

    Returns
    -------
    DiffReport
        The changed rows are sorted by probability shift (total variation distance
        between the two probability vectors), largest first.
    """
    from classifier.analysis import analyze_many

    analyses = analyze_many(list(texts))  # one spaCy pass serves both models
    before = old.predict_analyses(analyses)
    after = new.predict_analyses(analyses)
    lines = list(lines) if lines is not None else list(range(1, len(analyses) + 1))
    p_old = np.array([[p.probabilities[label] for label in LABELS] for p in before])
    p_new = np.array([[p.probabilities[label] for label in LABELS] for p in after])
    shift = 0.5 * np.abs(p_old - p_new).sum(axis=1) if len(analyses) else np.zeros(0)
    table = pd.DataFrame(
        {
            "line": lines,
            "text": [_as_text(text) for text in texts],
            "old_label": [p.label for p in before],
            "new_label": [p.label for p in after],
            "old_confidence": [p.confidence for p in before],
            "new_confidence": [p.confidence for p in after],
            "shift": shift,
            "old_urgent": [int(p.urgent) for p in before],
            "new_urgent": [int(p.urgent) for p in after],
            "old_urgent_flags": [";".join(p.urgent_flags) for p in before],
            "new_urgent_flags": [";".join(p.urgent_flags) for p in after],
        }
    )
    confusion = pd.crosstab(
        pd.Categorical(table["old_label"], categories=LABELS),
        pd.Categorical(table["new_label"], categories=LABELS),
        dropna=False,
    )
    confusion.index, confusion.columns = list(LABELS), list(LABELS)
    changed_label = table["old_label"] != table["new_label"]
    flipped = table["old_urgent"] != table["new_urgent"]
    rows = table[changed_label | flipped].sort_values("shift", ascending=False, kind="stable")
    return DiffReport(
        old_version=old.version,
        new_version=new.version,
        file=file,
        n=len(table),
        changed=int(changed_label.sum()),
        confusion=confusion,
        urgent_flips=table[flipped].reset_index(drop=True),
        rows=rows.reset_index(drop=True),
        mean_shift=float(shift.mean()) if len(shift) else 0.0,
    )


# --- active learning ----------------------------------------------------------------------


def uncertainty(probabilities: np.ndarray, strategy: str = "margin") -> np.ndarray:
    """How unsure each prediction is, from 0 (certain) to 1 (no idea).

    ``margin`` is one minus the gap between the two most probable labels;
    ``entropy`` is the entropy of the probabilities divided by its maximum.

    Examples
    --------
    >>> uncertainty(np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])).round(2).tolist()
    [0.0, 1.0]
    >>> float(uncertainty(np.array([[1/3, 1/3, 1/3]]), "entropy")[0].round(6))
    1.0
    """
    proba = np.asarray(probabilities, dtype=float)
    if strategy == "margin":
        top_two = np.sort(proba, axis=1)[:, -2:]
        return 1.0 - (top_two[:, 1] - top_two[:, 0])
    if strategy == "entropy":
        safe = np.clip(proba, 1e-12, 1.0)
        return -(proba * np.log(safe)).sum(axis=1) / math.log(proba.shape[1])
    raise ValueError(f"unknown strategy {strategy!r}: use 'margin' or 'entropy'")


def farthest_point_order(
    vectors: Any, priority: Sequence[float], n: int, near_copy: float = NEAR_COPY_DISTANCE
) -> list[int]:
    """Priority-weighted greedy farthest-point selection of ``n`` L2-normalised ``vectors``.

    Starts from the row with the highest ``priority``, then repeatedly adds the row
    whose cosine distance to the nearest row chosen so far, times its priority, is
    largest: far from everything chosen and still worth having. Rows closer than
    ``near_copy`` to a chosen row come last, so near-copies are picked only when
    nothing else is left.

    Examples
    --------
    >>> import numpy as np
    >>> vectors = np.array([[1.0, 0.0], [0.99, 0.14], [0.0, 1.0]])
    >>> farthest_point_order(vectors, [0.9, 0.8, 0.1], 2)
    [0, 2]
    """
    priority = np.asarray(priority, dtype=float)
    count = len(priority)
    n = min(n, count)
    if n <= 0:
        return []
    chosen = [int(np.argmax(priority))]
    nearest = np.full(count, np.inf)
    # A certain row (priority 0) may still be picked, after every uncertain one.
    weight = np.maximum(priority, 1e-6)
    while len(chosen) < n:
        similarity = vectors @ vectors[chosen[-1]].T
        similarity = np.asarray(
            similarity.toarray() if hasattr(similarity, "toarray") else similarity
        ).ravel()
        nearest = np.minimum(nearest, np.clip(1.0 - similarity, 0.0, 1.0))
        # Rounded so that rows equal in score are ranked by priority.
        score = np.round(nearest * weight, 6) + 1e-9 * priority
        score[nearest < near_copy] -= 2.0
        score[chosen] = -np.inf
        chosen.append(int(np.argmax(score)))
    return chosen


def suggest(
    classifier: Any,
    texts: Sequence[Any],
    n: int = 50,
    lines: Sequence[int] | None = None,
    strategy: str = "margin",
    pool_factor: int = 5,
    exclude: Iterable[str] = (),
    ids: Sequence[str] | None = None,
    id_column: str = "id",
) -> pd.DataFrame:
    """The ``n`` texts most worth labeling: unsure predictions that are unlike each other.

    Texts are deduplicated (after folding case, accents and punctuation) and those in
    ``exclude`` (e.g. already labeled texts) dropped. The ``pool_factor * n`` texts the
    model is least sure of form a pool, from which ``farthest_point_order`` picks ``n``
    diverse ones on word TF-IDF vectors.

    Returns
    -------
    DataFrame
        Columns ``SUGGESTION_COLUMNS``: ``label``, ``urgent`` and ``urgent_reasons`` are
        empty, to fill in and feed to ``painclf train --data``; the ``hint_`` columns hold
        the model's answer; ``source_line`` says where the text came from. With
        ``ids``, the ticket id comes first, in a column named ``id_column``. Least
        confident first.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    if n < 1:
        raise ValueError("n must be at least 1")
    lines = list(lines) if lines is not None else list(range(1, len(texts) + 1))
    seen = {normalise_text(text) for text in exclude}
    unique_texts: list[str] = []
    unique_lines: list[int] = []
    unique_ids: list[str] = []
    row_ids = list(ids) if ids is not None else [""] * len(texts)
    for text, line, row_id in zip(texts, lines, row_ids, strict=True):
        text = _as_text(text)
        key = normalise_text(text)
        if not key or key in seen:
            continue
        seen.add(key)
        unique_texts.append(text)
        unique_lines.append(line)
        unique_ids.append(row_id)
    columns = [id_column, *SUGGESTION_COLUMNS] if ids is not None else list(SUGGESTION_COLUMNS)
    if not unique_texts:
        return pd.DataFrame(columns=columns)
    predictions = classifier.predict_many(unique_texts)
    probabilities = np.array([[p.probabilities[label] for label in LABELS] for p in predictions])
    unsure = uncertainty(probabilities, strategy)
    pool = np.argsort(-unsure, kind="stable")[: max(n, pool_factor * n)]
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode")
    try:
        vectors = vectorizer.fit_transform([unique_texts[i] for i in pool])
    except ValueError:  # no word in any text (all emoji or digits): nothing to spread over
        vectors = np.eye(len(pool))
    picked = [int(pool[i]) for i in farthest_point_order(vectors, unsure[pool], n)]
    picked.sort(key=lambda i: (predictions[i].confidence, i))
    return pd.DataFrame(
        {
            "text": [unique_texts[i] for i in picked],
            "label": "",
            "urgent": "",
            "urgent_reasons": "",
            "hint_label": [predictions[i].label for i in picked],
            "hint_confidence": [round(predictions[i].confidence, 4) for i in picked],
            "hint_urgent": [int(predictions[i].urgent) for i in picked],
            "hint_urgent_flags": [";".join(predictions[i].urgent_flags) for i in picked],
            "source_line": [unique_lines[i] for i in picked],
            id_column: [unique_ids[i] for i in picked],
        },
        columns=columns,
    )


def labeled_texts(paths: Iterable[str | Path]) -> list[str]:
    """Texts of labeled files (``painclf validate`` format), e.g. to exclude from suggestions."""
    frame, problems, _ = read_labeled(paths)
    if errors := [p for p in problems if p.severity == "error"]:
        raise DataError(errors)
    return [text for text in frame["text"] if isinstance(text, str)]


def write_suggestions(frame: pd.DataFrame, path: str | Path, force: bool = False) -> None:
    """Write suggestions atomically as CSV (or ``.jsonl``); refuse to overwrite without ``force``.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``force`` is false.
    """
    from classifier.atomic import atomic_path

    path = Path(path)
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; pass --force to overwrite it")
    with atomic_path(path, suffix=path.suffix) as tmp:
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
        else:
            frame.to_csv(tmp, index=False)
