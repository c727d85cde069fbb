"""``PainClassifier``: the painclf model as a scikit-learn estimator over raw texts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from classifier.config import LABELS
from classifier.model import DEFAULT_C, DEFAULT_CUE_WEIGHT


def _texts(X: Any, name: str = "X") -> list[str]:
    """The texts of ``X``: a list, tuple, 1-D array or Series of strings (None counts as "")."""
    if isinstance(X, str | bytes):
        raise ValueError(
            f"{name} must be a sequence of texts, not one string: wrap it in a list, e.g. [text]"
        )
    if hasattr(X, "ndim") and X.ndim != 1:
        if X.ndim == 2 and X.shape[1] == 1:
            X = np.asarray(X).ravel()  # one text column, e.g. a DataFrame's column selection
        else:
            raise ValueError(
                f"{name} must be one-dimensional (one text per sample); got an array of "
                f"shape {X.shape}. Pass a list of strings or one text column."
            )
    if not isinstance(X, Iterable):
        raise TypeError(f"{name} must be a sequence of texts, got {type(X).__name__}")
    texts = []
    for index, value in enumerate(X):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            texts.append("")
        elif isinstance(value, str):
            texts.append(value)
        else:
            raise ValueError(
                f"{name}[{index}] is a {type(value).__name__}, not a text: PainClassifier "
                "takes raw texts (strings), not numeric features"
            )
    return texts


class PainClassifier(ClassifierMixin, BaseEstimator):
    """Soreness / pain / other from raw texts, with calibrated probabilities.

    The same model as ``painclf train`` builds (word n-grams joined with negation-aware
    cue features, a class-balanced logistic regression calibrated by temperature
    scaling), and by default the labeling guide's rules on top of its probabilities
    (an urgent text is never soreness, ...). Works with ``clone``, ``cross_val_score``,
    ``GridSearchCV`` and ``Pipeline``; the spaCy pipeline is built on first use and is
    never part of the estimator's state.

    Parameters
    ----------
    c : float, default=4.0
        Inverse regularisation strength of the logistic regression.
    cue_weight : float, default=2.0
        Weight of the cue features against the word features.
    apply_rules : bool, default=True
        Apply the labeling guide's rules to the probabilities. Needs the labels
        ``soreness``, ``pain`` and ``other``; set False to learn other labels.

    Attributes
    ----------
    classes_ : ndarray of str
        The labels seen in ``fit``, sorted.
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted model (what ``classifier.model.build_model`` builds).

    Examples
    --------
    >>> from classifier import PainClassifier
    >>> texts = ["sore legs after squats", "sharp pain down my leg", "cancel my plan"] * 5
    >>> labels = ["soreness", "pain", "other"] * 5
    >>> model = PainClassifier().fit(texts, labels)
    >>> model.classes_.tolist()
    ['other', 'pain', 'soreness']
    >>> model.predict(["my calves are sore after the hill run", "how do I cancel?"]).tolist()
    ['soreness', 'other']
    """

    def __init__(
        self, c: float = DEFAULT_C, cue_weight: float = DEFAULT_CUE_WEIGHT, apply_rules: bool = True
    ) -> None:
        self.c = c
        self.cue_weight = cue_weight
        self.apply_rules = apply_rules

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = True
        return tags

    def fit(self, X: Any, y: Any) -> PainClassifier:
        """Fit the model on texts ``X`` and their labels ``y``.

        Returns
        -------
        self
        """
        from classifier.analysis import analyze_many
        from classifier.model import build_model

        texts = _texts(X)
        labels = np.asarray(y, dtype=object)
        if labels.ndim != 1 or len(labels) != len(texts):
            raise ValueError(
                f"y must hold one label per text: {len(texts)} texts, y of shape {labels.shape}"
            )
        labels = labels.astype(str)
        if len(set(labels)) < 2:
            raise ValueError("PainClassifier needs at least two classes in y")
        if self.apply_rules and not set(labels) <= set(LABELS):
            raise ValueError(
                f"with apply_rules=True the labels must be among {list(LABELS)}, got "
                f"{sorted(set(labels) - set(LABELS))}; pass apply_rules=False to learn them"
            )
        analyses = analyze_many(texts)
        self.pipeline_ = build_model(self.c, self.cue_weight).fit(
            [a.text for a in analyses], labels
        )
        self.classes_ = np.asarray(self.pipeline_.classes_)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probability of each class (columns in ``classes_`` order) for texts ``X``."""
        return self._decide(X)[0]

    def predict(self, X: Any) -> np.ndarray:
        """The most probable label of each text in ``X``."""
        return self._decide(X)[1]

    def _decide(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self)
        from classifier.analysis import analyze_many
        from classifier.model import decide, feature_matrix
        from classifier.rules import load_rules

        texts = _texts(X)
        if not texts:
            return np.zeros((0, len(self.classes_))), np.asarray([], dtype=self.classes_.dtype)
        analyses = analyze_many(texts)
        matrix = feature_matrix(self.pipeline_, [a.text for a in analyses], analyses)
        proba = self.pipeline_.named_steps["classifier"].predict_proba(matrix)
        if self.apply_rules:
            classes = [str(c) for c in self.classes_]
            decisions = decide(proba, classes, analyses, load_rules())
            proba = np.array([[d.probabilities[c] for c in classes] for d in decisions])
        return proba, self.classes_[np.argmax(proba, axis=1)]
