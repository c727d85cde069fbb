"""Tables for looking at labeled data and at mistakes: cue coverage, per-row predictions,
and mistakes grouped by cue or by source (what the notebooks show)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from classifier.analysis import Analysis, analyze_many
from classifier.config import LABELS


def reason_counts(reasons: Sequence[Any]) -> pd.Series:
    """How often each red-flag id occurs in ``;``-separated ``urgent_reasons`` values.

    Examples
    --------
    >>> reason_counts(["chest_pain", "chest_pain;breathing", "", None]).to_dict()
    {'chest_pain': 2, 'breathing': 1}
    """
    ids = [
        reason.strip()
        for value in reasons
        if isinstance(value, str)
        for reason in value.split(";")
        if reason.strip()
    ]
    return pd.Series(ids, dtype=str).value_counts().rename("count").rename_axis("reason")


def current_cue_categories(analysis: Analysis) -> list[str]:
    """The cue categories that are current (not negated, hypothetical or past), sorted."""
    return sorted({cue.category for cue in analysis.cues if cue.is_current})


def cue_coverage(
    analyses: Sequence[Analysis], labels: Sequence[str], top: int | None = None
) -> pd.DataFrame:
    """Share of the texts of each label in which each cue category is found (current cues).

    Returns
    -------
    DataFrame
        One row per cue category, one column per label plus ``all`` (share of all
        texts) and ``texts`` (how many texts have it), most frequent first.

    Examples
    --------
    >>> from classifier.analysis import analyze_many
    >>> table = cue_coverage(analyze_many(["sore after squats", "I can't log in"]),
    ...                      ["soreness", "other"])
    >>> float(table.loc["activity", "soreness"])
    1.0
    """
    rows = [
        {"label": label, "category": category}
        for analysis, label in zip(analyses, labels, strict=True)
        for category in current_cue_categories(analysis)
    ]
    totals = pd.Series(list(labels), dtype=str).value_counts()
    columns = [label for label in LABELS if label in totals.index]
    if not rows:
        return pd.DataFrame(columns=[*columns, "all", "texts"])
    hits = pd.DataFrame(rows).value_counts().unstack("label", fill_value=0)
    hits = hits.reindex(columns=columns, fill_value=0)
    table = hits / totals[columns]
    table["texts"] = hits.sum(axis=1)
    table["all"] = table["texts"] / len(labels)
    table = table.sort_values("texts", ascending=False)[[*columns, "all", "texts"]]
    table.index.name = "category"
    return table.head(top) if top else table


def predictions_table(
    frame: pd.DataFrame, classifier: Any, analyses: Sequence[Analysis] | None = None
) -> pd.DataFrame:
    """One row per labeled text: the true and predicted label, confidence, urgent, cues.

    ``frame`` needs ``text`` and ``label``; ``urgent`` and any other columns (``file``,
    ``line``, ``source``...) are carried over. ``classifier`` is a
    ``classifier.predict.Classifier``.
    """
    analyses = list(analyses) if analyses is not None else analyze_many(frame["text"].tolist())
    predictions = classifier.predict_analyses(analyses)
    table = frame.reset_index(drop=True).copy()
    table["predicted"] = [p.label for p in predictions]
    table["confidence"] = [p.confidence for p in predictions]
    table["correct"] = table["label"] == table["predicted"]
    table["predicted_urgent"] = [int(p.urgent) for p in predictions]
    table["needs_review"] = [p.needs_review for p in predictions]
    table["cues"] = [current_cue_categories(a) for a in analyses]
    return table


def labeled_predictions(
    path: str | Path, classifier: Any, keep: Sequence[str] = ("source", "ambiguous")
) -> pd.DataFrame:
    """``predictions_table`` for every valid row of a labeled file (as ``evaluate_file`` reads it).

    Columns in ``keep`` are carried over when the file has them (else they hold None).

    Raises
    ------
    DataError
        If the file cannot be read or has invalid rows.
    """
    from classifier.dataset import DataError, read_labeled, validate_labeled

    frame, problems, _ = read_labeled([path], keep=tuple(keep))
    clean, more = validate_labeled(frame, check_duplicates=False)
    errors = [p for p in (*problems, *more) if p.severity == "error"]
    if errors:
        raise DataError(errors)
    return predictions_table(clean, classifier)


def mistakes_by(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """Texts, mistakes and error rate per value of ``column`` of a ``predictions_table``.

    Examples
    --------
    >>> table = pd.DataFrame({"source": ["a", "a", "b"], "label": ["pain"] * 3,
    ...                       "predicted": ["pain", "other", "pain"]})
    >>> mistakes_by(table, "source")["error_rate"].tolist()
    [0.5, 0.0]
    """
    wrong = table["label"] != table["predicted"]
    groups = pd.DataFrame({column: table[column].fillna("(none)"), "wrong": wrong})
    summary = groups.groupby(column).agg(texts=("wrong", "size"), mistakes=("wrong", "sum"))
    summary["error_rate"] = summary["mistakes"] / summary["texts"]
    return summary.sort_values(["error_rate", "texts"], ascending=[False, False])


def mistakes_by_cue(table: pd.DataFrame, min_texts: int = 5) -> pd.DataFrame:
    """Error rate of the texts that carry each cue category, and their commonest confusion.

    Categories found in fewer than ``min_texts`` texts are left out: a rate over
    three texts says little.
    """
    exploded = table[["label", "predicted", "cues"]].explode("cues").dropna(subset=["cues"])
    exploded = exploded.rename(columns={"cues": "cue"})
    summary = mistakes_by(exploded, "cue")
    summary = summary[summary["texts"] >= min_texts].copy()
    wrong = exploded[exploded["label"] != exploded["predicted"]]
    confusion = (
        (wrong["label"] + " -> " + wrong["predicted"])
        .groupby(wrong["cue"])
        .agg(lambda values: values.value_counts().index[0])
    )
    summary["commonest_mistake"] = confusion.reindex(summary.index).fillna("")
    return summary
