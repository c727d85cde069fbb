"""Prediction: label, calibrated probabilities, urgent flag with reasons, and the evidence."""

from __future__ import annotations

import gc
import hashlib
import math
import sys
import threading
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from functools import cache
from itertools import islice
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np

from classifier._quiet_spacy import import_spacy_without_cli

# spaCy's own import pulls in its command line (typer, weasel, requests...); predicting
# never runs it, so it is skipped (see classifier._quiet_spacy).
import_spacy_without_cli()

from classifier.analysis import (  # noqa: E402
    NOTE_NOT_ENGLISH,
    Analysis,
    analyze_many,
    collector_paused,
)
from classifier.config import LABELS  # noqa: E402
from classifier.context import Cue  # noqa: E402
from classifier.lean import (  # noqa: E402
    LeanModel,
    UnsupportedModel,
    ensure_model,
    post_module,
)
from classifier.model import DecidedRow, decide_rows  # noqa: E402
from classifier.registry import ModelError, ModelRef, load_pipeline  # noqa: E402
from classifier.rules import RuleSet, load_rules  # noqa: E402

# Cue groups that explain a decision; sites and helper cues are left out of the evidence.
_EVIDENCE_SKIP_GROUPS = frozenset({"site", "helper"})
_EVIDENCE_SKIP = frozenset({"spine_complaint", "msk_complaint", "nonmsk_complaint"})
DEFAULT_REVIEW_THRESHOLD = 0.6
# A long text can match hundreds of cues; evidence is for a person to read.
MAX_EVIDENCE = 25
# Texts analysed and scored at a time by predict_many and predict_iter: large enough
# that per-chunk costs vanish, small enough that a chunk's analyses (a few MB) are all
# that is held besides the results.
DEFAULT_CHUNK_SIZE = 5_000

# A short text with no cue and no word the model knows gets needs_review: its answer is the
# model's prior alone (longer ones are caught by the language check of the analysis).
UNKNOWN_WORDS_MAX_TOKENS = 8
NOTE_UNKNOWN_WORDS = "no word of this text is known to the model: its answer is only a guess"


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


# The slots' own setters, in field order: a frozen dataclass's __init__ sets each field
# through object.__setattr__, which costs more than the rest of building a prediction.
_PREDICTION_SETTERS = tuple(getattr(Prediction, name).__set__ for name in Prediction.__slots__)


def _new_prediction(*values: Any) -> Prediction:
    """``Prediction(*values)`` (values in field order), built without its __init__."""
    prediction = object.__new__(Prediction)
    for setter, value in zip(_PREDICTION_SETTERS, values, strict=True):
        setter(prediction, value)
    return prediction


@cache
def _hidden_categories(rules: RuleSet) -> frozenset[str]:
    """Cue categories left out of the evidence: sites, helpers, derived complaints."""
    groups = {lexicon.category: lexicon.group for lexicon in rules.lexicons}
    groups.update({combo.category: combo.group for combo in rules.combos})
    hidden = {c for c, group in groups.items() if group in _EVIDENCE_SKIP_GROUPS}
    return frozenset(hidden | _EVIDENCE_SKIP)


def evidence_of(analysis: Analysis, rules: RuleSet) -> tuple[str, ...]:
    """Readable evidence: cues in text order (one per span), then the durations."""
    if not analysis.cues and not analysis.durations:
        return ()
    return _evidence(analysis, _hidden_categories(rules), post_module())


def _evidence(analysis: Analysis, hidden: frozenset[str], compiled: Any) -> tuple[str, ...]:
    """The evidence by the compiled builder when there is one, else in Python."""
    if compiled is not None:
        return compiled.evidence(analysis.cues, analysis.durations, hidden, MAX_EVIDENCE)
    return evidence_python(analysis, hidden)


def evidence_python(analysis: Analysis, hidden: frozenset[str]) -> tuple[str, ...]:
    """``evidence_of`` in Python (``classifier._post.evidence`` is the compiled form)."""
    cues, mentions = analysis.cues, analysis.durations
    durations = [(m.start, m.end) for m in mentions] if mentions else None
    spans: list[Cue] = []
    for cue in cues:
        if cue.category in hidden:
            continue
        if durations is not None:
            start_char, end_char = cue.start_char, cue.end_char
            if any(start <= start_char and end_char <= end for start, end in durations):
                continue  # shown with its duration below
        start, end = cue.start, cue.end
        if spans:
            if any(start >= s.start and end <= s.end for s in spans):
                continue
            spans = [s for s in spans if not (s.start >= start and s.end <= end)]
        spans.append(cue)
    if len(spans) > 1:
        spans.sort(key=_cue_start)
    # Interned: the same few hundred cue words recur in every batch, and a million
    # predictions kept in a list should hold one copy of "sore", not a million.
    shown: list[str] = []
    seen: set[str] = set()
    for text in [*(c.describe() for c in spans), *(m.describe() for m in mentions)]:
        if text not in seen:
            seen.add(text)
            shown.append(sys.intern(text))
    if len(shown) > MAX_EVIDENCE:
        shown = [*shown[:MAX_EVIDENCE], f"... and {len(shown) - MAX_EVIDENCE} more"]
    return tuple(shown)


_cue_start = attrgetter("start")


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
    single = _threshold(manifest.get("needs_review_threshold", DEFAULT_REVIEW_THRESHOLD), "")
    per_label = manifest.get("needs_review_thresholds") or {}
    if not isinstance(per_label, dict):
        raise ModelError(
            f"manifest: needs_review_thresholds must map labels to numbers, got {per_label!r}"
        )
    chosen = {str(label): _threshold(value, str(label)) for label, value in per_label.items()}
    fallback = min(chosen.values(), default=single)
    return {label: chosen.get(label, fallback) for label in LABELS}


def _threshold(value: Any, label: str) -> float:
    """A review threshold from a manifest: a number from 0 to 1, or a ModelError."""
    key = f"needs_review_thresholds[{label!r}]" if label else "needs_review_threshold"
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not 0.0 <= number <= 1.0:
        raise ModelError(f"manifest: {key} must be a number from 0 to 1, got {value!r}")
    return number


class Classifier:
    """A loaded model with its rules: the object behind ``predict``, ``predict_many`` and
    ``predict_iter``.

    Probabilities come from ``classifier.lean.LeanModel``: the pipeline's own numbers
    (to 1e-12) computed with numpy, without scikit-learn's per-call input validation.
    A model the lean path cannot compute (another calibration, another vectoriser)
    is predicted with its scikit-learn pipeline.

    Parameters
    ----------
    pipeline : Pipeline or None
        The fitted scikit-learn pipeline (``classifier.model.build_model``). None
        when ``lean`` and ``ref`` are given: the pipeline is then loaded from ``ref``
        the first time ``pipeline`` is read.
    manifest : dict
        The model's manifest (version, classes, needs-review threshold).
    lean : LeanModel, optional
        The model as arrays; by default built from ``pipeline``.
    ref : ModelRef, optional
        Where the model was loaded from.
    """

    def __init__(
        self,
        pipeline: Any,
        manifest: dict[str, Any],
        *,
        lean: LeanModel | None = None,
        ref: ModelRef | None = None,
    ) -> None:
        if pipeline is None and (lean is None or ref is None):
            raise ValueError("Classifier needs a pipeline, or a lean model and its ModelRef")
        self._pipeline = pipeline
        self.ref = ref
        self.manifest = manifest
        self.rules = load_rules()
        if lean is None:
            lean = _lean_from_pipeline(pipeline)
        self.lean = lean
        self.classes = (
            list(lean.classes) if lean is not None else [str(c) for c in pipeline.classes_]
        )
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

    @property
    def pipeline(self) -> Any:
        """The fitted scikit-learn pipeline (loaded on first use when the model was read
        as a lean model)."""
        if self._pipeline is None:
            assert self.ref is not None
            self._pipeline = load_pipeline(self.ref)
        return self._pipeline

    @classmethod
    def load(cls, model: str | Path | None = None, root: Path | None = None) -> Classifier:
        """Load a model by version, directory or ``model.skops`` path; default ``CURRENT``,
        else the model shipped with painclf.

        The model file is checked against its manifest's SHA-256 and read as plain
        arrays (``LeanModel.from_skops``), which imports neither scikit-learn nor
        skops; a model of another shape is loaded with skops (``load_pipeline``).
        """
        return cls.from_ref(ensure_model(model, root))

    @classmethod
    def from_ref(cls, ref: ModelRef) -> Classifier:
        """Load the model ``ref`` points to (see ``load``)."""
        lean = _lean_from_file(ref)
        if lean is None:
            return cls(load_pipeline(ref), ref.manifest, ref=ref)
        return cls(None, ref.manifest, lean=lean, ref=ref)

    def probabilities(self, analyses: Sequence[Analysis]) -> np.ndarray:
        """The model's calibrated probabilities (before the guide's rules), columns in
        ``classes`` order."""
        texts = [a.text for a in analyses]
        if self.lean is not None:
            return self.lean.predict_proba(texts, analyses)
        from classifier.model import feature_matrix

        matrix = feature_matrix(self.pipeline, texts, analyses)
        return self.pipeline.named_steps["classifier"].predict_proba(matrix)

    def _knows_no_word(self, text: str) -> bool:
        """Whether none of the words of ``text`` is in the model's vocabulary (lean models;
        a scikit-learn pipeline passed in directly is not checked)."""
        return self.lean is not None and not self.lean.word_counts(text)

    def predict_analyses(self, analyses: Sequence[Analysis]) -> list[Prediction]:
        """Predictions for texts that were already analysed."""
        if not analyses:
            return []
        rows = decide_rows(self.probabilities(analyses), self.classes, analyses, self.rules)
        compiled, hidden = post_module(), _hidden_categories(self.rules)
        if compiled is not None:
            return compiled.predictions(
                list(analyses),
                rows,
                list(self.classes),
                dict(self.thresholds),
                self.version,
                hidden,
                MAX_EVIDENCE,
                self._knows_no_word,
                UNKNOWN_WORDS_MAX_TOKENS,
                NOTE_NOT_ENGLISH,
                NOTE_UNKNOWN_WORDS,
                Prediction,
                _PREDICTION_SETTERS,
            )
        return self._predictions_python(analyses, rows, hidden)

    def _predictions_python(
        self, analyses: Sequence[Analysis], rows: list[DecidedRow], hidden: frozenset[str]
    ) -> list[Prediction]:
        """``predict_analyses`` after ``decide_rows``, in Python (the reference of
        ``classifier._post.predictions``)."""
        predictions: list[Prediction] = []
        append = predictions.append
        classes, thresholds, version = self.classes, self.thresholds, self.version
        for analysis, (column, probabilities, findings, decision_notes) in zip(
            analyses, rows, strict=True
        ):
            label = classes[column]
            confidence = probabilities[label]
            notes = analysis.notes
            unusable = not analysis.has_words or NOTE_NOT_ENGLISH in notes
            if (
                not unusable
                and not analysis.cues
                and analysis.n_tokens <= UNKNOWN_WORDS_MAX_TOKENS
                and self._knows_no_word(analysis.text)
            ):
                # "aaaaaaa", "qwrtz": no cue and no word the model has seen, so its answer
                # is its prior alone, however confident that looks.
                unusable = True
                notes = (*notes, NOTE_UNKNOWN_WORDS)
            unsure = confidence < thresholds[label]
            if unsure:
                notes = (
                    *notes,
                    *decision_notes,
                    f"confidence {confidence:.2f} is below the review threshold for "
                    f"{label} ({thresholds[label]:.2f})",
                )
            elif decision_notes or type(notes) is not tuple:
                notes = (*notes, *decision_notes)
            append(
                _new_prediction(
                    label,
                    probabilities,
                    confidence,
                    bool(findings),
                    tuple([f.describe() for f in findings]) if findings else (),
                    tuple([f.flag for f in findings]) if findings else (),
                    evidence_python(analysis, hidden),
                    analysis.duration_days,
                    unsure or unusable,
                    notes,
                    version,
                )
            )
        return predictions

    def predict_iter(
        self,
        texts: Iterable[Any],
        today: date | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> Iterator[Prediction]:
        """Predict a stream of texts lazily, ``chunk_size`` at a time, in input order.

        Only one chunk of texts and its analyses is held at a time, so a generator of a
        million texts (lines of a file, rows of a database cursor) runs in the memory
        of one chunk plus whatever the caller keeps of the predictions.

        Parameters
        ----------
        texts : iterable
            Any iterable of texts: a list, a pandas Series, a generator. Any value is
            accepted (see ``predict``); a bare string is refused.
        today : date, optional
            Reference date for durations such as "since Monday"; default today.
        chunk_size : int, default 5000
            Texts analysed and scored together. Results do not depend on it.

        Yields
        ------
        Prediction
            One per text, in order.

        Examples
        --------
        >>> classifier = get_classifier()
        >>> lines = (line for line in ["sore quads after leg day", "how do I log in?"])
        >>> [p.label for p in classifier.predict_iter(lines, chunk_size=1)]
        ['soreness', 'other']
        """
        if isinstance(texts, str | bytes | bytearray):
            raise TypeError("predict_iter takes an iterable of texts; use predict for one text")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        return self._predict_chunks(iter(texts), today, chunk_size)

    def _predict_chunks(
        self, texts: Iterator[Any], today: date | None, chunk_size: int
    ) -> Iterator[Prediction]:
        while chunk := list(islice(texts, chunk_size)):
            # A chunk's analyses die with it, unseen by the cyclic collector (scoring and
            # building predictions make no cycles either); paused only between yields.
            with collector_paused():
                predictions = self.predict_analyses(analyze_many(chunk, today=today))
            yield from predictions

    def predict_many(
        self,
        texts: Iterable[Any],
        today: date | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> list[Prediction]:
        """Predict many texts: a list of ``Prediction``, in input order.

        The texts are analysed and scored ``chunk_size`` at a time (``predict_iter``),
        so the memory used besides the returned list stays that of one chunk however
        many texts there are. The list itself grows with the input (about 640 bytes a
        kept prediction); for a stream whose results are written out as they come, use
        ``predict_iter``.

        Parameters
        ----------
        texts : iterable
            A list, a pandas Series, a generator... Any value is accepted: ``None``,
            numbers and empty strings come back as ``other`` with ``needs_review`` and a
            note. A bare string is refused (``TypeError``).
        today : date, optional
            Reference date for durations such as "since Monday"; default today.
        chunk_size : int, default 5000
            Texts analysed and scored together. Results do not depend on it.

        Returns
        -------
        list of Prediction
            One per text, in order; the same as ``predict`` on each text.
        """
        if isinstance(texts, str | bytes | bytearray):
            raise TypeError("predict_many takes a sequence of texts; use predict for one text")
        return list(self.predict_iter(texts, today=today, chunk_size=chunk_size))

    def predict(self, text: Any, today: date | None = None) -> Prediction:
        """Predict one text."""
        return self.predict_analyses(analyze_many([text], today=today))[0]

    def predict_proba_texts(self, texts: Sequence[Any]) -> np.ndarray:
        """Probabilities after the guide's rules, columns in ``LABELS`` order.

        No ``Prediction`` (nor its evidence) is built: only the decisions.
        """
        rows: list[list[float]] = []
        iterator = iter(texts)
        while chunk := list(islice(iterator, DEFAULT_CHUNK_SIZE)):
            analyses = analyze_many(chunk)
            decided = decide_rows(self.probabilities(analyses), self.classes, analyses, self.rules)
            rows.extend([shown[label] for label in LABELS] for _, shown, _, _ in decided)
        return np.array(rows, dtype=float).reshape(len(rows), len(LABELS))


def _lean_from_pipeline(pipeline: Any) -> LeanModel | None:
    """The lean form of a fitted pipeline, or None when it is of another shape."""
    try:
        return LeanModel.from_pipeline(pipeline)
    except (UnsupportedModel, AttributeError, KeyError, TypeError):
        return None


def _lean_from_file(ref: ModelRef) -> LeanModel | None:
    """The lean model read from ``ref``'s model file, or None: then ``load_pipeline``
    loads it, or says why it must not be loaded (hash, types, a missing file)."""
    from classifier.registry import _model_file

    try:
        data = _model_file(ref).read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != ref.manifest.get("model_sha256"):
        return None
    try:
        return LeanModel.from_skops(data)
    except UnsupportedModel:
        return None


_default: dict[str, Classifier] = {}
_lock = threading.Lock()


def get_classifier(model: str | Path | None = None) -> Classifier:
    """The classifier for ``model`` (default: CURRENT), loaded once per process.

    Without a registry model this is the shipped default model (see ``ensure_model``).
    """
    key = str(model) if model is not None else ""
    with _lock:
        if key not in _default:
            _default[key] = Classifier.from_ref(ensure_model(model))
            settle()
        return _default[key]


def settle() -> None:
    """After loading a model: build the text pipeline now and freeze the heap.

    The first analysis builds spaCy's pipeline and compiles the lexicons; doing it here
    keeps that cost out of the first text's time. ``gc.freeze()`` then moves everything
    loaded so far (spaCy, the rules, the model's vocabulary) out of the garbage
    collector's sight: those objects live as long as the process, and the collector
    would otherwise walk all of them on every full collection while predictions are
    being made.
    """
    analyze_many(["my back is sore"])
    gc.freeze()


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


def predict_many(
    texts: Iterable[Any],
    model: str | Path | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> list[Prediction]:
    """Classify many texts (see ``predict``): a list of ``Prediction``, in input order.

    Any iterable is accepted (a list, a pandas Series, a generator). The texts are
    processed ``chunk_size`` at a time, so the memory used besides the returned list is
    that of one chunk; for a stream too long to keep every result, use ``predict_iter``.

    Examples
    --------
    >>> [p.label for p in predict_many(["sore after the gym yesterday", "can't log in"])]
    ['soreness', 'other']
    """
    return get_classifier(model).predict_many(texts, chunk_size=chunk_size)


def predict_iter(
    texts: Iterable[Any],
    model: str | Path | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[Prediction]:
    """Classify a stream of texts lazily: one ``Prediction`` per text, in input order.

    Texts are read from ``texts`` ``chunk_size`` at a time, and a chunk's predictions are
    yielded before the next chunk is read, so memory stays flat however long the
    stream is (see ``Classifier.predict_iter``).

    Examples
    --------
    >>> tickets = iter(["sore quads after leg day", "how do I log in?"])  # a file, a cursor...
    >>> [p.label for p in predict_iter(tickets)]
    ['soreness', 'other']
    """
    return get_classifier(model).predict_iter(texts, chunk_size=chunk_size)
