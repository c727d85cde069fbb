"""Tests for classifier.baselines: the TF-IDF and spaCy textcat reference models."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from classifier.baselines import (
    Baseline,
    TextcatBaseline,
    TfidfBaseline,
    train_baselines,
    train_tfidf_baseline,
)
from classifier.config import LABELS

SORENESS = [
    "my quads are sore after leg day yesterday",
    "glutes and hamstrings feel stiff and achy after the squats",
    "lower back muscles a bit sore after deadlifts, nothing sharp",
    "sore shoulders the day after my first rowing class",
    "calves tight and tender after running on the hills",
]
PAIN = [
    "sharp shooting pain down the back of my left leg",
    "felt a pop in my back lifting a box and it hurts ever since",
    "stabbing pain in my lower back for three weeks now",
    "pain in my neck spreading into my arm with tingling fingers",
    "twisted my knee and it is swollen and painful to walk on",
]
OTHER = [
    "how do I cancel my subscription",
    "the video for day 4 will not load in the app",
    "I was charged twice this month, please refund",
    "can I change the email address on my account",
    "password reset link never arrives in my inbox",
]
TEXTS = SORENESS + PAIN + OTHER
TRAIN_LABELS = ["soreness"] * len(SORENESS) + ["pain"] * len(PAIN) + ["other"] * len(OTHER)

Trainer = Callable[[Sequence[str], Sequence[str]], Baseline]
TRAINERS: dict[str, Trainer] = {"tfidf": TfidfBaseline.train, "textcat": TextcatBaseline.train}


@pytest.fixture(scope="module", params=sorted(TRAINERS))
def trainer(request: pytest.FixtureRequest) -> Trainer:
    return TRAINERS[request.param]


@pytest.fixture(scope="module")
def baseline(trainer: Trainer) -> Baseline:
    return trainer(TEXTS, TRAIN_LABELS)


@pytest.mark.parametrize(
    ("text", "label"),
    [(SORENESS[0], "soreness"), (PAIN[0], "pain"), (OTHER[0], "other")],
)
def test_predicts_the_label_of_an_obvious_training_text(
    baseline: Baseline, text: str, label: str
) -> None:
    assert baseline.predict_labels([text]) == [label]


def test_probabilities_sum_to_one_in_labels_order(baseline: Baseline) -> None:
    probabilities = baseline.predict_proba(TEXTS)
    assert probabilities.shape == (len(TEXTS), len(LABELS))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    # The predicted label must be the label of the column holding the highest probability.
    best = [LABELS[i] for i in probabilities.argmax(axis=1)]
    assert best == baseline.predict_labels(TEXTS)


def test_tfidf_columns_follow_labels_not_the_pipeline_class_order() -> None:
    pipeline = train_tfidf_baseline(TEXTS, TRAIN_LABELS)
    # scikit-learn sorts classes alphabetically, which is not LABELS order.
    assert list(pipeline.classes_) != list(LABELS)
    ours = TfidfBaseline(pipeline).predict_proba(PAIN[:2])
    theirs = pipeline.predict_proba(PAIN[:2])
    for column, label in enumerate(pipeline.classes_):
        np.testing.assert_array_equal(ours[:, LABELS.index(label)], theirs[:, column])


def test_textcat_columns_follow_labels() -> None:
    baseline = TextcatBaseline.train(TEXTS, TRAIN_LABELS)
    cats = baseline.nlp(PAIN[1]).cats
    np.testing.assert_allclose(
        baseline.predict_proba([PAIN[1]])[0], [cats[label] for label in LABELS], rtol=1e-6
    )


def test_training_twice_gives_identical_predictions(trainer: Trainer) -> None:
    unseen = ["back sore after gardening", "burning pain in my hip", "where is my receipt"]
    first = trainer(TEXTS, TRAIN_LABELS)
    second = trainer(TEXTS, TRAIN_LABELS)
    assert first.predict_labels(unseen) == second.predict_labels(unseen)
    np.testing.assert_array_equal(first.predict_proba(unseen), second.predict_proba(unseen))


def test_no_texts_give_an_empty_matrix(baseline: Baseline) -> None:
    assert baseline.predict_proba([]).shape == (0, len(LABELS))
    assert baseline.predict_labels([]) == []


def test_a_bare_string_is_refused(baseline: Baseline) -> None:
    with pytest.raises(TypeError, match="single string"):
        baseline.predict_labels("my back hurts")


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        (["sore legs", "charged twice"], ["soreness"], "2 texts but 1 labels"),
        (["sore legs"], ["sore"], "unknown label"),
        ([], [], "no training texts"),
    ],
)
def test_bad_training_data_is_refused(
    trainer: Trainer, texts: list[str], labels: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        trainer(texts, labels)


def test_train_baselines_returns_both_behind_one_interface() -> None:
    baselines = train_baselines(TEXTS, TRAIN_LABELS)
    assert [b.name for b in baselines] == ["tfidf-logreg", "spacy-textcat-bow"]
    assert all(isinstance(b, Baseline) for b in baselines)
