"""The model: word n-grams joined with cue features, a calibrated linear classifier, and the
guide's rules applied on top of its probabilities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

from classifier.analysis import COMPLAINT_WORDS, PAIN_WORDS, Analysis
from classifier.config import LABELS, LONG_DURATION_DAYS, RANDOM_SEED, RULE_ALONE_WEIGHT
from classifier.lean import post_module
from classifier.rules import LabelRule, RuleSet
from classifier.urgent import UrgentFinding, _flag_categories, find_red_flags

# scikit-learn and SciPy are imported where a pipeline is built or fitted: predicting
# (``decide``, and ``classifier.lean`` for the probabilities) needs neither.
if TYPE_CHECKING:
    from scipy import sparse
    from sklearn.pipeline import Pipeline

DEFAULT_C = 0.5
DEFAULT_CUE_WEIGHT = 2.0
# Labels the guide rules out by definition, with the reason shown when that changes the label.
NO_WORDS_EXCLUDED = (("soreness", "no words to classify"), ("pain", "no words to classify"))
URGENT_EXCLUDED = ("soreness", "an urgent text is never soreness")


def build_model(c: float = DEFAULT_C, cue_weight: float = DEFAULT_CUE_WEIGHT) -> Pipeline:
    """The painclf pipeline, unfitted.

    Word uni- and bigram TF-IDF and the cue features are joined in a
    ``FeatureUnion``; a class-balanced linear support vector machine is calibrated
    with temperature scaling on cross-validated decision values, which keeps its
    ranking and makes its probabilities honest. It trains several times faster than
    a logistic regression on the same features (about 1 s against 9 s a fit on seed
    and real data), which keeps ``painclf train`` under two minutes.

    Parameters
    ----------
    c : float
        Inverse regularisation strength of the linear model.
    cue_weight : float
        Weight of the cue block against the word block.

    Examples
    --------
    >>> [name for name, _ in build_model().steps]
    ['features', 'classifier']
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    from classifier.features import CueFeaturizer

    words = TfidfVectorizer(
        ngram_range=(1, 2),
        min_df=2,
        sublinear_tf=True,
        strip_accents="unicode",
        dtype=np.float64,
    )
    features = FeatureUnion(
        [("words", words), ("cues", CueFeaturizer())],
        transformer_weights={"words": 1.0, "cues": cue_weight},
    )
    classifier = CalibratedClassifierCV(
        LinearSVC(C=c, class_weight="balanced", random_state=RANDOM_SEED),
        method="temperature",
        cv=StratifiedKFold(n_splits=5, shuffle=True, random_state=RANDOM_SEED),
        ensemble=False,
    )
    return Pipeline([("features", features), ("classifier", classifier)])


def fit_on_analyses(
    pipeline: Pipeline, texts: Sequence[str], analyses: Sequence[Analysis], labels: Sequence[str]
) -> Pipeline:
    """Fit ``pipeline`` on texts that were already analysed (no second spaCy pass).

    The same fitted pipeline as ``pipeline.fit(texts, labels)``, but the cue block
    comes from ``analyses``: training analyses every text once, not once a fold.
    """
    union = pipeline.named_steps["features"]
    for _, transformer in union.transformer_list:
        if transformer != "drop":
            transformer.fit(texts, labels)
    matrix = feature_matrix(pipeline, texts, analyses)
    pipeline.named_steps["classifier"].fit(matrix, np.asarray(labels))
    return pipeline


def feature_matrix(
    pipeline: Pipeline, texts: Sequence[str], analyses: Sequence[Analysis]
) -> sparse.csr_matrix:
    """The model's input matrix, reusing analyses instead of running spaCy a second time.

    This is what ``pipeline[:-1].transform(texts)`` computes, but the cue block
    comes from ``analyses`` that the rule layer needs anyway.
    """
    from scipy import sparse

    from classifier.features import CueFeaturizer

    union = pipeline.named_steps["features"]
    weights = union.transformer_weights or {}
    blocks = []
    for name, transformer in union.transformer_list:
        if transformer == "drop":
            continue
        if isinstance(transformer, CueFeaturizer):
            block = transformer.transform_analyses(analyses)
        else:
            block = transformer.transform(texts)
        weight = weights.get(name)
        blocks.append(block * weight if weight is not None else block)
    return sparse.hstack(blocks, format="csr")


@dataclass(frozen=True, slots=True)
class Decision:
    """The final decision for one text: probabilities after the guide's rules."""

    label: str
    probabilities: dict[str, float]
    urgent: tuple[UrgentFinding, ...]
    notes: tuple[str, ...]


def decide(
    probabilities: np.ndarray, classes: Sequence[str], analyses: Sequence[Analysis], rules: RuleSet
) -> list[Decision]:
    """Apply the guide's rules to the model's probabilities.

    A rule that excludes a label (``label_rules.json``; an urgent text is never
    soreness; a text with no words is ``other``) sets that label's probability to
    zero, so the label shown is always the most probable label the guide allows.
    The excluded probability is shared equally among the allowed labels: the model
    said nothing about which of them is right, so a rule that overrules the model's
    answer ("soreness" 0.95, but no activity is named) leaves an uncertain answer
    (pain 0.51, other 0.49) that goes to review, not a certain one. When the rules
    leave a single label, its answer is a mix of the rule (weight ``RULE_ALONE_WEIGHT``)
    and the model's own probabilities: the label is the rule's, and the confidence is
    high only when the model agrees. Labels ruled out by definition (an urgent text is
    never soreness; a text without words is other) stay at zero.

    Parameters
    ----------
    probabilities : ndarray of shape (n_texts, n_classes)
        Calibrated model probabilities, columns in ``classes`` order.
    classes : sequence of str
        The model's class order.
    analyses : sequence of Analysis
        The text analysis of each row.
    rules : RuleSet
        The loaded rules.
    """
    return [
        Decision(classes[label], shown, urgent, notes)
        for label, shown, urgent, notes in decide_rows(probabilities, classes, analyses, rules)
    ]


DecidedRow = tuple[int, dict[str, float], tuple[UrgentFinding, ...], tuple[str, ...]]


def decide_rows(
    probabilities: np.ndarray, classes: Sequence[str], analyses: Sequence[Analysis], rules: RuleSet
) -> list[DecidedRow]:
    """``decide`` as plain tuples: ``(label column, probabilities by label, red-flag
    findings, notes)`` per text, for callers that build their own objects from them.

    Computed by ``classifier._post.Decider`` when it is built (the same rows, bit for
    bit), else in Python."""
    probabilities = np.asarray(probabilities, dtype=float)
    decider = _decider(tuple(classes), rules.label_rules)
    if decider is not None and probabilities.ndim == 2 and probabilities.shape[1] == len(classes):
        return decider.decide(
            probabilities, list(analyses), rules, _flag_categories(rules), find_red_flags
        )
    return _decide_rows_python(probabilities, classes, analyses, rules)


def _decide_rows_python(
    probabilities: np.ndarray, classes: Sequence[str], analyses: Sequence[Analysis], rules: RuleSet
) -> list[DecidedRow]:
    """``decide_rows`` in Python (the reference of the compiled ``Decider``)."""
    column, label_columns, other = _class_columns(tuple(classes))
    label_rules = _label_rules(rules.label_rules)
    decisions: list[DecidedRow] = []
    append = decisions.append
    no_notes: tuple[str, ...] = ()
    # Plain floats, not a numpy row each: the same IEEE arithmetic in the same order
    # (numpy sums three values left to right too), at a fraction of the cost per text.
    for row, analysis in zip(probabilities.tolist(), analyses, strict=True):
        findings = tuple(find_red_flags(analysis, rules))
        excluded: dict[str, str] = {}
        if not analysis.has_words:
            excluded.update(NO_WORDS_EXCLUDED)
        if findings:
            excluded.setdefault(*URGENT_EXCLUDED)
        # Labels the guide rules out by definition; the label rules below are judgements.
        n_definitional = len(excluded)
        current = analysis.current_categories
        n_tokens = analysis.n_tokens
        for excludes, reason, if_any, unless_any, max_tokens in label_rules:
            # LabelRule.applies, inlined: a few rules are tried on every text.
            if (
                excludes not in excluded
                and (max_tokens is None or n_tokens <= max_tokens)
                and (if_any is None or not current.isdisjoint(if_any))
                and current.isdisjoint(unless_any)
            ):
                excluded[excludes] = reason
        if not excluded:
            # Nothing ruled out (most texts): only the normalisation below.
            total = 0.0
            for value in row:
                total += value
            proba = [value / total for value in row]
            append(
                (
                    _argmax(proba),
                    {label: proba[index] for label, index in label_columns},
                    findings,
                    no_notes,
                )
            )
            continue
        proba = row.copy()
        notes: list[str] = []
        removed = 0.0
        for label, reason in excluded.items():
            index = column.get(label)
            if index is None or proba[index] == 0.0:
                continue
            if _argmax(proba) == index:
                notes.append(f"not {label}: {reason}")
            removed += proba[index]
            proba[index] = 0.0
        allowed = [i for label, i in column.items() if label not in excluded]
        if removed > 0 and allowed:
            share = removed / len(allowed)
            for index in allowed:
                proba[index] += share
        if not allowed:
            proba = [0.0] * len(proba)
            proba[other] = 1.0
        total = 0.0
        for value in proba:
            total += value
        proba = [value / total for value in proba]
        if removed > 0 and len(allowed) == 1 and len(excluded) > n_definitional:
            # A label rule decided the label alone: keep the model's doubt in the answer,
            # among the labels the guide does not rule out by definition.
            definitional = set(list(excluded)[:n_definitional])
            model = [0.0 if classes[i] in definitional else value for i, value in enumerate(row)]
            total = 0.0
            for value in model:
                total += value
            if total > 0:
                proba = [
                    RULE_ALONE_WEIGHT * value + (1.0 - RULE_ALONE_WEIGHT) * (own / total)
                    for value, own in zip(proba, model, strict=True)
                ]
        append(
            (
                _argmax(proba),
                {label: proba[index] for label, index in label_columns},
                findings,
                tuple(notes),
            )
        )
    return decisions


@cache
def _class_columns(
    classes: tuple[str, ...],
) -> tuple[dict[str, int], list[tuple[str, int]], int]:
    """The column of each class, ``(label, column)`` in ``LABELS`` order, and the column
    of ``other`` (0 without one): read once per class order, not once per call."""
    column = {label: i for i, label in enumerate(classes)}
    label_columns = [(label, column[label]) for label in LABELS if label in column]
    return column, label_columns, column.get("other", 0)


_LabelRuleRow = tuple[str, str, "frozenset[str] | None", "frozenset[str]", "int | None"]


# id of a label_rules tuple -> (that tuple, its rows); the tuple is kept so its id is not reused.
_LABEL_RULE_ROWS: dict[int, tuple[Any, tuple[_LabelRuleRow, ...]]] = {}


def _label_rules(label_rules: tuple[LabelRule, ...]) -> tuple[_LabelRuleRow, ...]:
    """The label rules in file order as ``(excludes, reason, if_any or None, unless_any,
    max_tokens)``: what ``LabelRule.applies`` reads, as sets built once.

    Kept by the identity of the rules tuple, not by the ``RuleSet`` (rule sets compare by
    their files' fingerprint, and one with its label rules replaced has the same) nor by
    the rules' value (hashing them costs more than deciding one short text).
    """
    cached = _LABEL_RULE_ROWS.get(id(label_rules))
    if cached is not None and cached[0] is label_rules:
        return cached[1]
    rows = _label_rule_rows(label_rules)
    if len(_LABEL_RULE_ROWS) > 64:
        _LABEL_RULE_ROWS.clear()
    _LABEL_RULE_ROWS[id(label_rules)] = (label_rules, rows)
    return rows


# (id of a label_rules tuple, class order) -> (that tuple, its compiled Decider or None).
_DECIDERS: dict[tuple[int, tuple[str, ...]], tuple[Any, Any]] = {}


def _decider(classes: tuple[str, ...], label_rules: tuple[LabelRule, ...]) -> Any:
    """The compiled ``decide_rows`` for a class order and label rules, or None (not built,
    ``PAINCLF_PURE_PYTHON``, or rules larger than it handles); kept as ``_label_rules``."""
    post = post_module()
    if post is None:
        return None
    key = (id(label_rules), classes)
    cached = _DECIDERS.get(key)
    if cached is not None and cached[0] is label_rules:
        return cached[1]
    rows = _label_rules(label_rules)
    decider = None
    if post.Decider.fits(classes, rows):
        _, label_columns, other = _class_columns(classes)
        decider = post.Decider(
            classes,
            label_columns,
            other,
            rows,
            LONG_DURATION_DAYS,
            RULE_ALONE_WEIGHT,
            COMPLAINT_WORDS,
            PAIN_WORDS,
            Analysis,
            NO_WORDS_EXCLUDED,
            URGENT_EXCLUDED,
        )
    if len(_DECIDERS) > 64:
        _DECIDERS.clear()
    _DECIDERS[key] = (label_rules, decider)
    return decider


def _label_rule_rows(label_rules: tuple[LabelRule, ...]) -> tuple[_LabelRuleRow, ...]:
    return tuple(
        (
            rule.excludes,
            rule.reason,
            frozenset(rule.if_any) if rule.if_any else None,
            frozenset(rule.unless_any),
            rule.max_tokens,
        )
        for rule in label_rules
    )


def _argmax(values: list[float]) -> int:
    """The index of the first largest value (as ``np.argmax``; NaN counts as largest)."""
    best = 0
    for index in range(1, len(values)):
        value = values[index]
        if value > values[best] or (value != value and values[best] == values[best]):
            best = index
    return best
