"""Tests for classifier._post: the compiled model arithmetic and evidence give the Python
path's results, bit for bit."""

from __future__ import annotations

import csv
import pickle
from datetime import date

import numpy as np
import pytest

from classifier.analysis import analyze_many
from classifier.config import REAL_DIR, SEED_DIR
from classifier.dataset import load_labeled
from classifier.lean import post_module
from classifier.predict import (
    MAX_EVIDENCE,
    Classifier,
    _hidden_categories,
    evidence_of,
    evidence_python,
)

pytestmark = pytest.mark.skipif(
    post_module() is None, reason="classifier._post was not built (pure-Python install)"
)

ODD_TEXTS = [
    "",
    "   ",
    "12345",
    "Café naïve: ÀÉÎ ﬁne résumé, très fatigué",
    "sore " * 300,  # a count past the tf table: computed, not looked up
    "back back back pain pain sore sore sore after squats",
    "No numbness, no tingling, just sore quads for 3 days after squats since Monday",
    "my dad had sciatica for 20 years, I have had a sore back for 2 weeks, 3 days ago worse",
    "Is back pain with a fever an emergency?",
    "x" * 3000,
]


@pytest.fixture(scope="module")
def analyses() -> list:
    frame, _, _ = load_labeled([SEED_DIR])
    with (REAL_DIR / "reddit_top_2013.csv").open(newline="", encoding="utf-8") as handle:
        real = [row["text"] for row in csv.DictReader(handle)][::4]
    texts = [*frame["text"].tolist(), *real, *ODD_TEXTS]
    return analyze_many(texts, today=date(2026, 12, 1))


def test_the_compiled_decision_values_are_numpys_bit_for_bit(
    classifier: Classifier, analyses: list
) -> None:
    lean = classifier.lean
    assert lean is not None and lean.compiled
    texts = [a.text for a in analyses]
    compiled = lean.decision_function(texts, analyses)
    reference = lean.decision_function_numpy(texts, analyses)
    assert compiled.shape == reference.shape
    assert np.array_equal(compiled, reference)
    alone = np.vstack(
        [lean.decision_function([t], [a]) for t, a in zip(texts, analyses, strict=True)]
    )
    assert np.array_equal(alone, compiled)


def test_the_compiled_evidence_is_pythons(classifier: Classifier, analyses: list) -> None:
    hidden = _hidden_categories(classifier.rules)
    for _ in range(2):  # the second time from the cache of described durations
        for analysis in analyses:
            assert evidence_of(analysis, classifier.rules) == evidence_python(analysis, hidden)
    long = analyze_many(["sore back, stiff neck, tight hips, " * 40 + "for 3 weeks"])[0]
    shown = evidence_of(long, classifier.rules)
    assert shown == evidence_python(long, hidden)
    assert len(shown) <= MAX_EVIDENCE + 1


def test_a_pickled_lean_model_gets_its_compiled_form_back(classifier: Classifier) -> None:
    lean = classifier.lean
    assert lean is not None
    copy = pickle.loads(pickle.dumps(lean))
    assert copy.compiled
    analyses = analyze_many(["my lower back is sore after deadlifts", "how do I log in?"])
    texts = [a.text for a in analyses]
    assert np.array_equal(copy.predict_proba(texts, analyses), lean.predict_proba(texts, analyses))


def test_pure_python_is_forced_by_the_environment(
    classifier: Classifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    lean = classifier.lean
    assert lean is not None
    monkeypatch.setenv("PAINCLF_PURE_PYTHON", "1")
    post_module.cache_clear()
    try:
        assert not pickle.loads(pickle.dumps(lean)).compiled
    finally:
        monkeypatch.delenv("PAINCLF_PURE_PYTHON")
        post_module.cache_clear()
    assert post_module() is not None


def test_a_bigram_of_words_outside_the_vocabulary_is_left_to_numpy(
    classifier: Classifier,
) -> None:
    lean = pickle.loads(pickle.dumps(classifier.lean))
    column = next(iter(lean.vocabulary.values()))
    lean.vocabulary = {**lean.vocabulary, "zzqx qqzx": column}
    assert lean._compile() is None


def test_one_row_is_calibrated_as_numpy_calibrates_a_batch(classifier: Classifier) -> None:
    lean = classifier.lean
    assert lean is not None
    rng = np.random.default_rng(0)
    rows = rng.normal(0.0, 2.0, size=(5000, 3))
    rows[:50] = rng.dirichlet([1.0, 1.0, 1.0], size=50)  # probabilities: numpy's own path
    rows[50] = [np.nan, 0.0, 1.0]
    rows[51] = [40.0, -40.0, 0.0]
    batch = lean.calibrate(rows[50:].copy())
    alone = np.vstack([lean._calibrate_one(rows[i : i + 1].copy()) for i in range(50, 5000)])
    assert np.array_equal(alone, batch, equal_nan=True)
    for i in range(50):
        one = lean._calibrate_one(rows[i : i + 1].copy())
        assert np.array_equal(one, lean.calibrate(rows[i : i + 1].copy()))
