"""Tests for chunked ``predict_many``, the ``predict_iter`` stream and what predicting imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from classifier.config import SEED_DIR
from classifier.dataset import load_labeled
from classifier.predict import Classifier, predict_iter, predict_many

# Texts of every kind: the seed data's first rows, and inputs that are no text at all.
ODD_INPUTS = [None, "", "   ", 42, 3.5, float("nan"), b"sore back", "<p>sore</p>", "\u200b"]


@pytest.fixture(scope="module")
def texts() -> list:
    frame, _, _ = load_labeled([SEED_DIR])
    return [*frame["text"].tolist()[:230], *ODD_INPUTS]


def test_predict_many_over_several_chunks_equals_predict_one_by_one(
    classifier: Classifier, texts: list
) -> None:
    one_by_one = [classifier.predict(text) for text in texts]
    assert classifier.predict_many(texts, chunk_size=50) == one_by_one
    assert classifier.predict_many(texts) == one_by_one  # one chunk


def test_chunk_size_does_not_change_any_prediction(classifier: Classifier, texts: list) -> None:
    reference = classifier.predict_many(texts, chunk_size=len(texts))
    for chunk_size in (1, 7, 64):
        assert classifier.predict_many(texts, chunk_size=chunk_size) == reference


def test_predict_many_takes_a_generator_and_a_series(classifier: Classifier, texts: list) -> None:
    import pandas as pd

    reference = classifier.predict_many(texts)
    assert classifier.predict_many(text for text in texts) == reference
    series = pd.Series(texts, index=range(1000, 1000 + len(texts)), dtype=object)
    assert classifier.predict_many(series, chunk_size=100) == reference


def test_predict_iter_reads_its_input_one_chunk_at_a_time(classifier: Classifier) -> None:
    pulled = 0

    def stream() -> Iterator[str]:
        nonlocal pulled
        for number in range(10_000_000):  # far more than could be held: it must be lazy
            pulled += 1
            yield f"my back is sore after squats, day {number}"

    predictions = classifier.predict_iter(stream(), chunk_size=20)
    assert pulled == 0  # nothing is read before the first prediction is asked for
    first = next(predictions)
    assert first.label == "soreness"
    assert pulled == 20
    rest = [next(predictions) for _ in range(29)]
    assert pulled == 40
    assert {p.label for p in rest} == {"soreness"}
    predictions.close()


def test_predict_iter_refuses_a_bare_string_at_once(classifier: Classifier) -> None:
    with pytest.raises(TypeError, match="iterable of texts"):
        classifier.predict_iter("my back hurts")
    with pytest.raises(ValueError, match="chunk_size"):
        classifier.predict_iter(["my back hurts"], chunk_size=0)


def test_the_package_exports_predict_iter() -> None:
    import classifier

    assert classifier.predict_iter is predict_iter
    assert "predict_iter" in classifier.__all__


def test_module_level_predict_iter_and_predict_many(model_dir: Path) -> None:
    texts = ["sore quads after leg day", "how do I cancel my plan?"]
    streamed = list(predict_iter(iter(texts), model=str(model_dir), chunk_size=1))
    assert streamed == predict_many(texts, model=str(model_dir))
    assert [p.label for p in streamed] == ["soreness", "other"]


def test_predict_proba_texts_matches_the_predictions(classifier: Classifier, texts: list) -> None:
    probabilities = classifier.predict_proba_texts(texts)
    predictions = classifier.predict_many(texts)
    assert probabilities.shape == (len(texts), 3)
    for row, prediction in zip(probabilities, predictions, strict=True):
        assert list(row) == [
            prediction.probabilities[label] for label in ("soreness", "pain", "other")
        ]


def test_a_lean_classifier_loads_its_pipeline_when_asked(model_dir: Path) -> None:
    loaded = Classifier.load(model_dir)
    assert loaded.lean is not None and loaded._pipeline is None
    assert [str(c) for c in loaded.pipeline.classes_] == loaded.classes


# Run in a fresh interpreter: the test process itself has imported pandas, typer...
COLD_START = """
import json, sys
from classifier import predict
prediction = predict("My legs are sore from squats and now I can't control my bladder")
heavy = ["pandas", "pyarrow", "matplotlib", "cleanlab", "typer", "sklearn", "skops", "scipy"]
print(json.dumps({
    "label": prediction.label,
    "urgent": prediction.urgent,
    "imported": [name for name in heavy if name in sys.modules],
}))
"""


def test_predicting_imports_only_what_predicting_needs(tmp_path: Path) -> None:
    env = {**os.environ, "PAINCLF_MODELS_DIR": str(tmp_path)}  # empty: the shipped model
    result = subprocess.run(
        [sys.executable, "-c", COLD_START], capture_output=True, text=True, env=env, check=True
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {"label": "pain", "urgent": True, "imported": []}


def test_spacys_command_line_still_imports_after_predicting(tmp_path: Path) -> None:
    code = COLD_START + "\nimport spacy.cli, spacy\nprint(spacy.cli.info.__module__)"
    env = {**os.environ, "PAINCLF_MODELS_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "spacy.cli.info"
