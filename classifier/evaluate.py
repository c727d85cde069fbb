"""Evaluation: metrics of predictions against labeled texts, and a readable report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from classifier.config import LABELS


def compute_metrics(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    urgent_true: Sequence[int] | None = None,
    urgent_pred: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Per-label precision/recall/F1, macro-F1, accuracy, confusion matrix and urgent metrics.

    Examples
    --------
    >>> m = compute_metrics(["pain", "other"], ["pain", "pain"], [1, 0], [1, 0])
    >>> m["accuracy"], m["urgent"]["recall"]
    (0.5, 1.0)
    """
    y_true = list(y_true)
    y_pred = list(y_pred)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=list(LABELS), zero_division=0
    )
    per_label = {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(LABELS)
    }
    present = [label for label in LABELS if per_label[label]["support"] > 0]
    metrics: dict[str, Any] = {
        "n": len(y_true),
        "accuracy": float(np.mean([t == p for t, p in zip(y_true, y_pred, strict=True)]))
        if y_true
        else 0.0,
        "macro_f1": float(np.mean([per_label[label]["f1"] for label in present]))
        if present
        else 0.0,
        "per_label": per_label,
        "confusion": {
            "labels": list(LABELS),
            "matrix": confusion_matrix(y_true, y_pred, labels=list(LABELS)).tolist(),
        },
    }
    if urgent_true is not None and urgent_pred is not None:
        truth = np.asarray(urgent_true, dtype=bool)
        predicted = np.asarray(urgent_pred, dtype=bool)
        true_positive = int((truth & predicted).sum())
        metrics["urgent"] = {
            "support": int(truth.sum()),
            "flagged": int(predicted.sum()),
            "recall": float(true_positive / truth.sum()) if truth.sum() else None,
            "precision": float(true_positive / predicted.sum()) if predicted.sum() else None,
        }
    return metrics


def reliability_table(
    confidence: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> dict[str, Any]:
    """Top-label reliability: accuracy against mean confidence in equal-width bins, and the ECE.

    The expected calibration error (ECE) is the gap between confidence and
    accuracy, averaged over bins weighted by their size; 0 is perfectly calibrated.

    Examples
    --------
    >>> table = reliability_table([0.9, 0.9, 0.6, 0.6], [True, True, True, False], bins=5)
    >>> round(table["ece"], 3)
    0.1
    """
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    ece = 0.0
    for b in range(bins):
        mask = index == b
        if not mask.any():
            continue
        mean_conf = float(confidence[mask].mean())
        accuracy = float(correct[mask].mean())
        ece += mask.mean() * abs(mean_conf - accuracy)
        rows.append(
            {
                "low": float(edges[b]),
                "high": float(edges[b + 1]),
                "count": int(mask.sum()),
                "confidence": mean_conf,
                "accuracy": accuracy,
            }
        )
    return {"bins": rows, "ece": float(ece)}


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.3f}"


def format_metrics(metrics: dict[str, Any], title: str = "") -> str:
    """A plain-text table of ``compute_metrics`` output."""
    lines = [title] if title else []
    lines.append(f"{'label':<10} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}")
    for label, row in metrics["per_label"].items():
        lines.append(
            f"{label:<10} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1']:>6.3f} "
            f"{row['support']:>8d}"
        )
    lines.append(
        f"macro-F1 {metrics['macro_f1']:.3f}   accuracy {metrics['accuracy']:.3f}   "
        f"n {metrics['n']}"
    )
    urgent = metrics.get("urgent")
    if urgent:
        lines.append(
            f"urgent: recall {_fmt(urgent['recall']).strip()} ({urgent['support']} urgent), "
            f"precision {_fmt(urgent['precision']).strip()} ({urgent['flagged']} flagged)"
        )
    labels = metrics["confusion"]["labels"]
    lines.append("confusion (rows = true, columns = predicted):")
    lines.append(" " * 10 + "".join(f"{label:>10}" for label in labels))
    for label, row in zip(labels, metrics["confusion"]["matrix"], strict=True):
        lines.append(f"{label:<10}" + "".join(f"{value:>10d}" for value in row))
    return "\n".join(lines)


@dataclass
class EvaluationReport:
    """Metrics of a model on a labeled file, and its most confident mistakes."""

    file: str
    model_version: str
    metrics: dict[str, Any]
    subsets: dict[str, dict[str, Any]]
    mistakes: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "model_version": self.model_version,
            "metrics": self.metrics,
            "subsets": self.subsets,
            "worst_mistakes": self.mistakes.to_dict("records"),
        }

    def format(self) -> str:
        parts = [format_metrics(self.metrics, f"{self.file} — model {self.model_version}")]
        for name, metrics in self.subsets.items():
            parts.append(format_metrics(metrics, f"subset: {name}"))
        if len(self.mistakes):
            lines = ["most confident mistakes:"]
            for row in self.mistakes.itertuples(index=False):
                text = " ".join(str(row.text).split())
                text = text if len(text) <= 100 else text[:97] + "..."
                lines.append(
                    f"  {row.confidence:.2f} predicted {row.predicted:<8} true {row.label:<8} "
                    f"line {row.line}: {text}"
                )
            parts.append("\n".join(lines))
        return "\n\n".join(parts)


def evaluate_frame(
    frame: pd.DataFrame, classifier: Any, file: str = "", worst: int = 15
) -> EvaluationReport:
    """Evaluate ``classifier`` (a ``classifier.predict.Classifier``) on labeled rows.

    ``frame`` needs ``text`` and ``label``; ``urgent`` and ``ambiguous`` are used
    when present (metrics are also reported on the rows with ``ambiguous == 0``).
    """
    predictions = classifier.predict_many(frame["text"].tolist())
    predicted = [p.label for p in predictions]
    urgent_true = frame["urgent"].astype(int).tolist() if "urgent" in frame else None
    urgent_pred = [int(p.urgent) for p in predictions]
    metrics = compute_metrics(frame["label"], predicted, urgent_true, urgent_pred)
    subsets = {}
    if "ambiguous" in frame and frame["ambiguous"].notna().any():
        ambiguous = pd.to_numeric(frame["ambiguous"], errors="coerce").fillna(0)
        mask = ambiguous.eq(0).to_numpy()
        subsets["ambiguous == 0"] = compute_metrics(
            frame["label"][mask],
            np.asarray(predicted)[mask],
            None if urgent_true is None else np.asarray(urgent_true)[mask],
            np.asarray(urgent_pred)[mask],
        )
    result = pd.DataFrame(
        {
            "line": frame["line"] if "line" in frame else np.arange(2, len(frame) + 2),
            "text": frame["text"],
            "label": frame["label"],
            "predicted": predicted,
            "confidence": [p.confidence for p in predictions],
            "evidence": ["; ".join(p.evidence) for p in predictions],
        }
    )
    wrong = result[result["label"] != result["predicted"]]
    mistakes = wrong.sort_values("confidence", ascending=False, kind="stable").head(worst)
    return EvaluationReport(
        file=file,
        model_version=classifier.version,
        metrics=metrics,
        subsets=subsets,
        mistakes=mistakes.reset_index(drop=True),
    )


def read_evaluation_rows(path: str | Path) -> pd.DataFrame:
    """Every valid row of a labeled CSV/JSONL/Parquet file (duplicates kept).

    Raises
    ------
    DataError
        If the file cannot be read or has invalid rows; the message names the file
        and line of each.
    """
    from classifier.dataset import DataError, read_labeled, validate_labeled

    frame, problems, _ = read_labeled([path], keep=("ambiguous",))
    clean, more = validate_labeled(frame, check_duplicates=False)
    errors = [p for p in (*problems, *more) if p.severity == "error"]
    if errors:
        raise DataError(errors)
    return clean


def evaluate_file(path: str | Path, classifier: Any, worst: int = 15) -> EvaluationReport:
    """Read a labeled file (``read_evaluation_rows``) and evaluate on every valid row."""
    return evaluate_frame(read_evaluation_rows(path), classifier, file=str(path), worst=worst)


def compare_baselines(rows: pd.DataFrame, report: EvaluationReport) -> dict[str, dict[str, Any]]:
    """Metrics of painclf (``report``) and of the two seed-trained baselines on ``rows``.

    The baselines (word TF-IDF + logistic regression, spaCy textcat bag-of-words)
    are trained on the seed data here, so the comparison is like for like.
    """
    from classifier.baselines import train_baselines
    from classifier.config import SEED_DIR
    from classifier.dataset import load_labeled

    seed, _, _ = load_labeled([SEED_DIR])
    results = {f"painclf {report.model_version}": report.metrics}
    for baseline in train_baselines(seed["text"].tolist(), seed["label"].tolist()):
        predicted = baseline.predict_labels(rows["text"].tolist())
        results[baseline.name] = compute_metrics(rows["label"], predicted)
    return results


def format_comparison(results: dict[str, dict[str, Any]]) -> str:
    """A table of accuracy, macro-F1 and urgent recall per model."""
    lines = [f"{'model':<32} {'accuracy':>9} {'macro-F1':>9} {'urgent recall':>14}"]
    for name, metrics in results.items():
        urgent = metrics.get("urgent", {}).get("recall")
        shown = "n/a (no flag)" if urgent is None else f"{urgent:.3f}"
        lines.append(
            f"{name:<32} {metrics['accuracy']:>9.3f} {metrics['macro_f1']:>9.3f} {shown:>14}"
        )
    return "\n".join(lines)
