"""The cue block's counts for one analysed text, without scikit-learn.

``CueFeaturizer`` (training, scikit-learn) and ``LeanModel`` (prediction, numpy only)
both count cues through these functions, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from classifier.config import LONG_DURATION_DAYS

if TYPE_CHECKING:
    from classifier.analysis import Analysis

# Upper bound in days of each duration bucket but the last (">365d").
_DURATION_BUCKETS = ((2, "<=2d"), (7, "3-7d"), (30, "8-30d"), (365, "31-365d"))
DURATION_BUCKET_BOUNDS = tuple(upper for upper, _ in _DURATION_BUCKETS)
# Every bucket, in the featurizer's column order.
DURATION_BUCKET_NAMES = ("none", *(name for _, name in _DURATION_BUCKETS), ">365d")


def duration_bucket(days: float | None) -> str:
    """Bucket a duration in days: soreness lasts up to ~5 days, pain more than a week."""
    if days is None:
        return "none"
    for upper, name in _DURATION_BUCKETS:
        if days <= upper:
            return name
    return ">365d"


def column_index(
    names: Iterable[str], start: int = 0
) -> tuple[dict[tuple[str, str | None], int], dict[str, int]]:
    """The column of each ``(category, modifier or None)`` cue and of each feature name.

    ``names`` are the cue block's feature names (``cue:pain_word``,
    ``cue:numbness:negated``, ``duration:3-7d``, ``text:question``...), numbered from
    ``start``.
    """
    cue_columns: dict[tuple[str, str | None], int] = {}
    name_columns: dict[str, int] = {}
    for column, name in enumerate(names, start=start):
        name_columns[name] = column
        parts = name.split(":")
        if parts[0] == "cue":
            modifier = parts[2].upper() if len(parts) > 2 else None
            cue_columns[(parts[1], modifier)] = column
    return cue_columns, name_columns


def cue_counts(
    analysis: Analysis,
    cue_columns: dict[tuple[str, str | None], int],
    name_columns: dict[str, int],
    cap: int,
) -> dict[int, int]:
    """Column -> count for one text: each cue once per modifier and once more when
    current; the duration bucket and the text signals at ``cap``."""
    counts: dict[int, int] = {}
    for cue in analysis.cues:
        category = cue.category
        modifiers = cue.modifiers
        # Sorted: a set's order follows PYTHONHASHSEED, and the order of the sums
        # decides the last bit of a probability.
        for modifier in sorted(modifiers) if len(modifiers) > 1 else modifiers:
            column = cue_columns.get((category, modifier))
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        if cue.is_current:
            column = cue_columns.get((category, None))
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
    days = analysis.duration_days
    signals = [f"duration:{duration_bucket(days)}"]
    if days is not None and days > LONG_DURATION_DAYS:
        signals.append("cue:long_duration")
    if analysis.is_question:
        signals.append("text:question")
        if not analysis.first_person:
            signals.append("text:impersonal_question")
    if analysis.first_person:
        signals.append("text:first_person")
    if not analysis.has_words:
        signals.append("text:no_words")
    if analysis.n_tokens <= 5:
        signals.append("text:short_text")
    elif analysis.n_tokens > 60:
        signals.append("text:long_text")
    for key in signals:
        column = name_columns.get(key)
        if column is not None:
            counts[column] = max(counts.get(column, 0), cap)
    return counts
