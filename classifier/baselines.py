"""Reference models that painclf is compared against: TF-IDF with logistic regression, and spaCy's
bag-of-words text classifier, both trained on the same labeled texts.

Both are plain text in, ``LABELS`` out, with no rules, cues or calibration, so
benchmarks and ``painclf evaluate --baselines`` show what painclf's extra
machinery buys. Nothing is downloaded: the spaCy model is ``spacy.blank("en")``
with a ``textcat`` component.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import spacy
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from spacy.language import Language
from spacy.training import Example
from spacy.util import fix_random_seed, minibatch

from classifier.config import LABELS, RANDOM_SEED

TEXTCAT_ARCHITECTURE = "spacy.TextCatBOW.v3"
TEXTCAT_NGRAM_SIZE = 2
TEXTCAT_EPOCHS = 5
TEXTCAT_TRAIN_BATCH_SIZE = 16
TEXTCAT_PIPE_BATCH_SIZE = 1000


def _check_texts(texts: Sequence[str]) -> list[str]:
    # A bare string is a sequence of one-letter texts; refuse it as predict_many does.
    if isinstance(texts, str | bytes):
        raise TypeError("expected a sequence of texts, got a single string")
    return list(texts)


def _check_training_data(
    texts: Sequence[str], labels: Sequence[str]
) -> tuple[list[str], list[str]]:
    texts = _check_texts(texts)
    labels = [str(label) for label in _check_texts(labels)]
    if len(texts) != len(labels):
        raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
    if not texts:
        raise ValueError("no training texts")
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise ValueError(f"unknown label(s) {unknown}; expected some of {list(LABELS)}")
    return texts, labels


def train_tfidf_baseline(
    texts: Sequence[str], labels: Sequence[str], random_state: int = RANDOM_SEED
) -> Pipeline:
    """Fit word uni- and bigram TF-IDF with a class-balanced logistic regression.

    Parameters
    ----------
    texts : sequence of str
        Training texts.
    labels : sequence of str
        One label from ``LABELS`` per text.
    random_state : int
        Seed of the logistic regression, for reproducible fits.

    Returns
    -------
    Pipeline
        A fitted scikit-learn pipeline (``tfidf``, ``classifier``) that takes raw texts.

    Raises
    ------
    ValueError
        If the lengths differ, there are no texts, or a label is not in ``LABELS``.

    Examples
    --------
    >>> pipeline = train_tfidf_baseline(
    ...     ["legs sore after squats", "sharp pain down my leg", "cannot log in to the app"],
    ...     ["soreness", "pain", "other"],
    ... )
    >>> pipeline.predict(["cannot log in"]).tolist()
    ['other']
    """
    texts, labels = _check_training_data(texts, labels)
    pipeline = Pipeline(
        [
            ("tfidf", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            (
                "classifier",
                LogisticRegression(
                    class_weight="balanced", max_iter=5000, random_state=random_state
                ),
            ),
        ]
    )
    return pipeline.fit(texts, labels)


def train_textcat_baseline(
    texts: Sequence[str],
    labels: Sequence[str],
    epochs: int = TEXTCAT_EPOCHS,
    seed: int = RANDOM_SEED,
    batch_size: int = TEXTCAT_TRAIN_BATCH_SIZE,
) -> Language:
    """Train spaCy's bag-of-words text classifier (``spacy.TextCatBOW.v3``, uni- and bigrams).

    Training is deterministic: the seed is fixed with ``spacy.util.fix_random_seed``
    before the weights are initialised, and the examples are shuffled each epoch
    by a generator seeded with ``seed``.

    Parameters
    ----------
    texts : sequence of str
        Training texts.
    labels : sequence of str
        One label from ``LABELS`` per text.
    epochs : int
        Passes over the training data.
    seed : int
        Random seed for initialisation and shuffling.
    batch_size : int
        Examples per update.

    Returns
    -------
    Language
        ``spacy.blank("en")`` with a trained ``textcat`` component; every label in
        ``LABELS`` is one of its exclusive classes, in ``doc.cats``.

    Raises
    ------
    ValueError
        If the lengths differ, there are no texts, a label is not in ``LABELS``,
        or ``epochs`` or ``batch_size`` is below 1.

    Examples
    --------
    >>> nlp = train_textcat_baseline(
    ...     ["legs sore after squats", "sharp pain down my leg", "cannot log in to the app"],
    ...     ["soreness", "pain", "other"],
    ... )
    >>> cats = nlp("cannot log in to the app").cats
    >>> max(cats, key=cats.get)
    'other'
    """
    texts, labels = _check_training_data(texts, labels)
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be at least 1, got {epochs}, {batch_size}")
    fix_random_seed(seed)
    nlp = spacy.blank("en")
    textcat = nlp.add_pipe(
        "textcat",
        config={
            "model": {
                "@architectures": TEXTCAT_ARCHITECTURE,
                "exclusive_classes": True,
                "ngram_size": TEXTCAT_NGRAM_SIZE,
                "no_output_layer": False,
            }
        },
    )
    for label in LABELS:
        textcat.add_label(label)
    examples = [
        Example.from_dict(
            nlp.make_doc(text), {"cats": {name: float(name == label) for name in LABELS}}
        )
        for text, label in zip(texts, labels, strict=True)
    ]
    optimizer = nlp.initialize(lambda: examples)
    shuffler = random.Random(seed)
    for _ in range(epochs):
        shuffler.shuffle(examples)
        for batch in minibatch(examples, size=batch_size):
            nlp.update(batch, sgd=optimizer, losses={})
    return nlp


@runtime_checkable
class Baseline(Protocol):
    """What every baseline offers: a name, labels, and probabilities in ``LABELS`` order."""

    name: str

    def predict_labels(self, texts: Sequence[str]) -> list[str]: ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


def _labels_of(probabilities: np.ndarray) -> list[str]:
    return [LABELS[int(i)] for i in np.argmax(probabilities, axis=1)]


@dataclass(frozen=True)
class TfidfBaseline:
    """The TF-IDF and logistic regression baseline behind the ``Baseline`` interface.

    Parameters
    ----------
    pipeline : Pipeline
        A pipeline from ``train_tfidf_baseline``.
    name : str
        The name shown in reports.

    Examples
    --------
    >>> baseline = TfidfBaseline.train(
    ...     ["legs sore after squats", "sharp pain down my leg", "cannot log in to the app"],
    ...     ["soreness", "pain", "other"],
    ... )
    >>> baseline.predict_labels(["my legs are sore after squats"])
    ['soreness']
    >>> baseline.predict_proba(["cannot log in"]).shape
    (1, 3)
    """

    pipeline: Pipeline
    name: str = "tfidf-logreg"

    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[str]) -> TfidfBaseline:
        """Train with ``train_tfidf_baseline``."""
        return cls(train_tfidf_baseline(texts, labels))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities of shape (n_texts, len(LABELS)), columns in ``LABELS`` order.

        A label that was absent from the training data has probability 0.
        """
        texts = _check_texts(texts)
        probabilities = np.zeros((len(texts), len(LABELS)))
        if texts:
            classes = [str(c) for c in self.pipeline.classes_]
            model_proba = self.pipeline.predict_proba(texts)
            for column, label in enumerate(classes):
                probabilities[:, LABELS.index(label)] = model_proba[:, column]
        return probabilities

    def predict_labels(self, texts: Sequence[str]) -> list[str]:
        """The most probable label of each text."""
        return _labels_of(self.predict_proba(texts))


@dataclass(frozen=True)
class TextcatBaseline:
    """spaCy's bag-of-words ``textcat`` baseline behind the ``Baseline`` interface.

    Parameters
    ----------
    nlp : Language
        A pipeline from ``train_textcat_baseline``.
    batch_size : int
        Texts per batch in ``nlp.pipe``.
    name : str
        The name shown in reports.

    Examples
    --------
    >>> baseline = TextcatBaseline.train(
    ...     ["legs sore after squats", "sharp pain down my leg", "cannot log in to the app"],
    ...     ["soreness", "pain", "other"],
    ... )
    >>> baseline.predict_labels(["sharp pain down my leg"])
    ['pain']
    >>> round(float(baseline.predict_proba(["cannot log in"]).sum()), 6)
    1.0
    """

    nlp: Language
    batch_size: int = TEXTCAT_PIPE_BATCH_SIZE
    name: str = "spacy-textcat-bow"

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        epochs: int = TEXTCAT_EPOCHS,
        seed: int = RANDOM_SEED,
    ) -> TextcatBaseline:
        """Train with ``train_textcat_baseline``."""
        return cls(train_textcat_baseline(texts, labels, epochs=epochs, seed=seed))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities of shape (n_texts, len(LABELS)), columns in ``LABELS`` order."""
        texts = _check_texts(texts)
        rows = [
            [doc.cats.get(label, 0.0) for label in LABELS]
            for doc in self.nlp.pipe(texts, batch_size=self.batch_size)
        ]
        return np.array(rows, dtype=float).reshape(len(texts), len(LABELS))

    def predict_labels(self, texts: Sequence[str]) -> list[str]:
        """The most probable label of each text."""
        return _labels_of(self.predict_proba(texts))


def train_baselines(
    texts: Sequence[str], labels: Sequence[str], seed: int = RANDOM_SEED
) -> list[Baseline]:
    """Train every baseline on the same texts.

    Parameters
    ----------
    texts : sequence of str
        Training texts.
    labels : sequence of str
        One label from ``LABELS`` per text.
    seed : int
        Random seed of the textcat baseline.

    Returns
    -------
    list of Baseline
        ``TfidfBaseline`` then ``TextcatBaseline``.

    Examples
    --------
    >>> baselines = train_baselines(
    ...     ["legs sore after squats", "sharp pain down my leg", "cannot log in to the app"],
    ...     ["soreness", "pain", "other"],
    ... )
    >>> [b.name for b in baselines]
    ['tfidf-logreg', 'spacy-textcat-bow']
    """
    return [TfidfBaseline.train(texts, labels), TextcatBaseline.train(texts, labels, seed=seed)]
