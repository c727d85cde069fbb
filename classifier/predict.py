"""Prediction: label, calibrated probabilities, urgent flag with reasons, and the evidence."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from classifier.analysis import NOTE_NOT_ENGLISH, Analysis, analyze_many
from classifier.config import LABELS
from classifier.context import Cue
from classifier.model import decide, feature_matrix
from classifier.registry import ModelError, ModelRef, load_pipeline, resolve
from classifier.rules import RuleSet, load_rules

# Cue groups that explain a decision; sites and helper cues are left out of the evidence.
_EVIDENCE_SKIP_GROUPS = frozenset({"site", "helper"})
_EVIDENCE_SKIP = frozenset({"spine_complaint", "msk_complaint", "nonmsk_complaint"})
DEFAULT_REVIEW_THRESHOLD = 0.6
# A long text can match hundreds of cues; evidence is for a person to read.
MAX_EVIDENCE = 25


@dataclass(frozen=True, slots=True)
class Prediction:
    """The classifier's answer for one text.

    Attributes
    ----------
    label : str
        ``soreness``, ``pain`` or ``other``.
    probabilities : dict of str to float
        Calibrated probability of each label, after the guide's rules.
    confidence : float
        Probability of ``label``.
    urgent : bool
        True when a red flag calls for a clinician, not exercises.
    urgent_reasons : tuple of str
        Each red flag in plain words, with the words that raised it.
    urgent_flags : tuple of str
        The red-flag ids (``bladder_bowel``, ``chest_pain``...).
    evidence : tuple of str
        The cues behind the decision with their modifiers ("numbness (negated)")
        and the durations found ("3 weeks").
    duration_days : float or None
        How long the complaint has lasted, when the text says.
    needs_review : bool
        True when confidence is below the model's threshold or the input was unusable.
    notes : tuple of str
        Why a rule changed the model's answer, or what was wrong with the input.
    model_version : str
        The model that answered.
    """

    label: str
    probabilities: dict[str, float]
    confidence: float
    urgent: bool
    urgent_reasons: tuple[str, ...]
    urgent_flags: tuple[str, ...]
    evidence: tuple[str, ...]
    duration_days: float | None
    needs_review: bool
    notes: tuple[str, ...]
    model_version: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        for key in ("urgent_reasons", "urgent_flags", "evidence", "notes"):
            data[key] = list(data[key])
        return data


@cache
def _hidden_categories(rules: RuleSet) -> frozenset[str]:
    """Cue categories left out of the evidence: sites, helpers, derived complaints."""
    groups = {lexicon.category: lexicon.group for lexicon in rules.lexicons}
    groups.update({combo.category: combo.group for combo in rules.combos})
    hidden = {c for c, group in groups.items() if group in _EVIDENCE_SKIP_GROUPS}
    return frozenset(hidden | _EVIDENCE_SKIP)


def evidence_of(analysis: Analysis, rules: RuleSet) -> tuple[str, ...]:
    """Readable evidence: cues in text order (one per span), then the durations."""
    hidden = _hidden_categories(rules)
    shown: list[str] = []
    spans: list[Cue] = []
    durations = [(m.start, m.end) for m in analysis.durations]
    for cue in analysis.cues:
        if cue.category in hidden:
            continue
        if any(start <= cue.start_char and cue.end_char <= end for start, end in durations):
            continue  # shown with its duration below
        if any(cue.start >= s.start and cue.end <= s.end for s in spans):
            continue
        spans = [s for s in spans if not (s.start >= cue.start and s.end <= cue.end)]
        spans.append(cue)
    for cue in sorted(spans, key=lambda c: c.start):
        text = cue.describe()
        if text not in shown:
            shown.append(text)
    for mention in analysis.durations:
        text = mention.describe()
        if text not in shown:
            shown.append(text)
    if len(shown) > MAX_EVIDENCE:
        shown = [*shown[:MAX_EVIDENCE], f"... and {len(shown) - MAX_EVIDENCE} more"]
    return tuple(shown)


def evidence_spans(analysis: Analysis, rules: RuleSet) -> list[tuple[int, int, str]]:
    """Where the evidence is: ``(start, end, category)`` character spans in ``analysis.text``.

    The cues shown as evidence (sites and helper cues left out) and the durations
    (category ``duration``), in text order; a span inside a longer one is dropped, so
    the spans never overlap and can be highlighted as they are.
    """
    hidden = _hidden_categories(rules)
    found = sorted(
        [(c.start_char, c.end_char, c.category) for c in analysis.cues if c.category not in hidden]
        + [(m.start, m.end, "duration") for m in analysis.durations],
        key=lambda span: (span[0], -span[1]),
    )
    spans: list[tuple[int, int, str]] = []
    for start, end, category in found:
        if spans and start < spans[-1][1]:
            continue  # inside (or overlapping) the previous, longer span
        spans.append((start, end, category))
    return spans


def review_thresholds(manifest: dict[str, Any]) -> dict[str, float]:
    """The needs-review threshold of each label from a model manifest.

    Models trained since 2026-12-01 keep one threshold per label
    (``needs_review_thresholds``); older ones keep a single ``needs_review_threshold``.

    Examples
    --------
    >>> review_thresholds({"needs_review_threshold": 0.7})["pain"]
    0.7
    >>> review_thresholds({"needs_review_thresholds": {"pain": 0.9, "other": 0.7}})["soreness"]
    0.7
    """
    single = float(manifest.get("needs_review_threshold", DEFAULT_REVIEW_THRESHOLD))
    per_label = manifest.get("needs_review_thresholds") or {}
    fallback = min((float(v) for v in per_label.values()), default=single)
    return {label: float(per_label.get(label, fallback)) for label in LABELS}


class Classifier:
    """A loaded model with its rules: the object behind ``predict`` and ``predict_many``.

    Parameters
    ----------
    pipeline : Pipeline
        The fitted scikit-learn pipeline (``classifier.model.build_model``).
    manifest : dict
        The model's manifest (version, classes, needs-review threshold).
    """

    def __init__(self, pipeline: Any, manifest: dict[str, Any]) -> None:
        self.pipeline = pipeline
        self.manifest = manifest
        self.rules = load_rules()
        self.classes = [str(c) for c in pipeline.classes_]
        if sorted(self.classes) != sorted(LABELS):
            raise ModelError(f"model classes {self.classes} are not {list(LABELS)}")
        self.thresholds = review_thresholds(manifest)
        self.version = str(manifest.get("version", "unsaved"))
        trained_with = manifest.get("rules_fingerprint")
        if trained_with and trained_with != self.rules.fingerprint:
            warnings.warn(
                f"model {self.version} was trained with other rule files than the installed "
                "ones; its cue features may be read differently: retrain it (painclf train)",
                UserWarning,
                stacklevel=2,
            )

    @classmethod
    def load(cls, model: str | Path | None = None, root: Path | None = None) -> Classifier:
        """Load a model by version, directory or ``model.skops`` path; default ``CURRENT``,
        else the model shipped with painclf."""
        ref = ensure_model(model, root)
        return cls(load_pipeline(ref), ref.manifest)

    def predict_analyses(self, analyses: Sequence[Analysis]) -> list[Prediction]:
        """Predictions for texts that were already analysed."""
        if not analyses:
            return []
        matrix = feature_matrix(self.pipeline, [a.text for a in analyses], analyses)
        probabilities = self.pipeline.named_steps["classifier"].predict_proba(matrix)
        decisions = decide(probabilities, self.classes, analyses, self.rules)
        predictions = []
        for analysis, decision in zip(analyses, decisions, strict=True):
            confidence = decision.probabilities[decision.label]
            unusable = not analysis.has_words or NOTE_NOT_ENGLISH in analysis.notes
            unsure = confidence < self.thresholds[decision.label]
            needs_review = unsure or unusable
            notes = [*analysis.notes, *decision.notes]
            if unsure:
                notes.append(
                    f"confidence {confidence:.2f} is below the review threshold for "
                    f"{decision.label} ({self.thresholds[decision.label]:.2f})"
                )
            predictions.append(
                Prediction(
                    label=decision.label,
                    probabilities=decision.probabilities,
                    confidence=confidence,
                    urgent=bool(decision.urgent),
                    urgent_reasons=tuple(f.describe() for f in decision.urgent),
                    urgent_flags=tuple(f.flag for f in decision.urgent),
                    evidence=evidence_of(analysis, self.rules),
                    duration_days=analysis.duration_days,
                    needs_review=needs_review,
                    notes=tuple(notes),
                    model_version=self.version,
                )
            )
        return predictions

    def predict_many(self, texts: Sequence[Any], today: date | None = None) -> list[Prediction]:
        """Predict many texts at once: one spaCy pass and one sparse matrix for all.

        Any input is accepted: ``None``, numbers and empty strings come back as
        ``other`` with ``needs_review`` and a note.
        """
        if isinstance(texts, str | bytes | bytearray):
            raise TypeError("predict_many takes a sequence of texts; use predict for one text")
        return self.predict_analyses(analyze_many(list(texts), today=today))

    def predict(self, text: Any, today: date | None = None) -> Prediction:
        """Predict one text."""
        return self.predict_many([text], today=today)[0]

    def predict_proba_texts(self, texts: Sequence[Any]) -> np.ndarray:
        """Probabilities after the guide's rules, columns in ``LABELS`` order."""
        predictions = self.predict_many(texts)
        return np.array([[p.probabilities[label] for label in LABELS] for p in predictions])


_default: dict[str, Classifier] = {}
_lock = threading.Lock()


def ensure_model(model: str | Path | None = None, root: Path | None = None) -> ModelRef:
    """Find ``model`` without loading it: a version, directory or file; by default the
    registry's ``CURRENT`` version, or the default model shipped inside the package when
    the registry has none (a fresh install never trains first). ``"shipped"`` names the
    shipped model explicitly. A registry that holds versions but no ``CURRENT`` is an
    error naming the fix, never a silent switch that would bypass the promotion gate.
    """
    from classifier.config import SHIPPED_MODEL_NAME
    from classifier.ship import shipped_ref

    if model is not None and str(model) == SHIPPED_MODEL_NAME:
        shipped = shipped_ref()
        if shipped is None:
            raise ModelError("this installation of painclf has no shipped model")
        return shipped
    try:
        return resolve(model, root)
    except ModelError:
        from classifier.registry import current_version, has_versions

        if model is not None or current_version(root) is not None or has_versions(root):
            raise
        shipped = shipped_ref()
        if shipped is None:
            raise
        return shipped


def get_classifier(model: str | Path | None = None) -> Classifier:
    """The classifier for ``model`` (default: CURRENT), loaded once per process.

    Without a registry model this is the shipped default model (see ``ensure_model``).
    """
    key = str(model) if model is not None else ""
    with _lock:
        if key not in _default:
            ref = ensure_model(model)
            _default[key] = Classifier(load_pipeline(ref), ref.manifest)
        return _default[key]


def predict(text: Any, model: str | Path | None = None) -> Prediction:
    """Classify one text.

    Parameters
    ----------
    text : str
        A complaint, ticket or message. Any value is accepted; unusable input
        comes back as ``other`` with ``needs_review`` and a note.
    model : str or Path, optional
        A model version, directory or file; default the current model.

    Returns
    -------
    Prediction

    Examples
    --------
    >>> p = predict("My legs are sore from squats and now I can't control my bladder")
    >>> p.label, p.urgent, p.urgent_flags
    ('pain', True, ('bladder_bowel',))
    """
    return get_classifier(model).predict(text)


def predict_many(texts: Sequence[Any], model: str | Path | None = None) -> list[Prediction]:
    """Classify many texts in one vectorised pass (see ``predict``)."""
    return get_classifier(model).predict_many(texts)
