"""Cue features: negation-aware cue counts, duration bucket and text signals for the model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from classifier.analysis import Analysis, analyze_many
from classifier.cue_counts import column_index, cue_counts
from classifier.cue_counts import duration_bucket as duration_bucket  # the featurizer's buckets
from classifier.rules import BUILTIN_CATEGORIES, MODIFIER_CATEGORIES, load_rules

DURATION_BUCKETS = ("none", "<=2d", "3-7d", "8-30d", "31-365d", ">365d")
TEXT_SIGNALS = (
    "question",
    "first_person",
    "impersonal_question",
    "no_words",
    "short_text",
    "long_text",
)


def as_texts(X: Any) -> list[Any]:
    """Validate that ``X`` is a 1-D collection of texts and return it as a list.

    A 2-D input with one column is accepted (a one-column DataFrame); a bare
    string is refused, as scikit-learn's text vectorizers do.
    """
    if isinstance(X, str | bytes):
        raise ValueError("Iterable over raw text documents expected, string object received.")
    if hasattr(X, "ndim") and getattr(X, "ndim", 1) == 2:
        if X.shape[1] != 1:
            raise ValueError(f"Expected a 1-D collection of texts, got shape {X.shape}.")
        X = np.asarray(X)[:, 0]
    try:
        texts = list(X)
    except TypeError:
        raise ValueError(f"Expected a 1-D collection of texts, got {type(X).__name__}.") from None
    return texts


class CueFeaturizer(TransformerMixin, BaseEstimator):
    """Turn texts into cue features: for each cue category, how often it is current,
    negated, hypothetical, past or about another person; the duration bucket;
    and whether the text is a question, in the first person, or empty.

    The spaCy pipeline is built lazily from the shipped rule files and never stored
    on the estimator, so ``clone`` and persistence handle plain Python data only.

    Parameters
    ----------
    max_count : int, default=2
        Counts are capped at ``max_count`` and scaled to [0, 1].

    Attributes
    ----------
    feature_names_ : ndarray of str
        Names of the output columns.
    rules_fingerprint_ : str
        SHA-256 of the rule files the featurizer was fitted with.

    Examples
    --------
    >>> featurizer = CueFeaturizer().fit(["my back is sore after the gym"])
    >>> X = featurizer.transform(["no numbness, just sore after squats"])
    >>> names = featurizer.get_feature_names_out()
    >>> sorted(str(n) for n, v in zip(names, X.toarray()[0]) if v and n.startswith("cue:numb"))
    ['cue:numbness:negated']
    """

    def __init__(self, max_count: int = 2) -> None:
        self.max_count = max_count

    def fit(self, X: Any, y: Any = None) -> CueFeaturizer:
        """Fix the feature columns from the rule files; ``X`` is only validated."""
        as_texts(X)
        if not isinstance(self.max_count, int) or self.max_count < 1:
            raise ValueError(f"max_count must be a positive integer, got {self.max_count!r}")
        rules = load_rules()
        names = []
        for category in (*rules.categories, *BUILTIN_CATEGORIES):
            names.append(f"cue:{category}")
            names.extend(f"cue:{category}:{m.lower()}" for m in MODIFIER_CATEGORIES)
        names.extend(f"duration:{bucket}" for bucket in DURATION_BUCKETS)
        names.extend(f"text:{signal}" for signal in TEXT_SIGNALS)
        self.feature_names_ = np.array(names, dtype=object)
        self.rules_fingerprint_ = rules.fingerprint
        return self

    def transform(self, X: Any) -> sparse.csr_matrix:
        """Analyse the texts and return their cue features as a sparse matrix."""
        check_is_fitted(self, "feature_names_")
        return self.transform_analyses(analyze_many(as_texts(X)))

    def transform_analyses(self, analyses: Sequence[Analysis]) -> sparse.csr_matrix:
        """Cue features of texts that were already analysed (no second spaCy pass)."""
        check_is_fitted(self, "feature_names_")
        cue_columns, name_columns = column_index(self.feature_names_)
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        cap = float(self.max_count)
        for row, analysis in enumerate(analyses):
            counts = cue_counts(analysis, cue_columns, name_columns, self.max_count)
            for column, count in counts.items():
                rows.append(row)
                cols.append(column)
                vals.append(min(count, cap) / cap)
        return sparse.csr_matrix(
            (np.asarray(vals, dtype=np.float64), (rows, cols)),
            shape=(len(analyses), len(self.feature_names_)),
        )

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "feature_names_")
        return self.feature_names_.copy()

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
