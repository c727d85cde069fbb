"""Tests for classifier.lean: the lean model gives the scikit-learn pipeline's probabilities."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from classifier.analysis import analyze_many
from classifier.config import LABELS, RULE_ALONE_WEIGHT, SEED_DIR
from classifier.cue_counts import duration_bucket as _duration_bucket
from classifier.dataset import load_labeled
from classifier.features import DURATION_BUCKETS, TEXT_SIGNALS, duration_bucket
from classifier.lean import LeanModel, UnsupportedModel, WordAnalyzer, read_skops
from classifier.model import decide, feature_matrix
from classifier.predict import Classifier
from classifier.registry import _model_file
from classifier.rules import load_rules
from classifier.urgent import find_red_flags

ODD_TEXTS = [
    "",
    "   ",
    "12345",
    "Café naïve: ÀÉÎ ﬁne résumé",
    "sore sore sore sore sore sore sore sore sore back back",
    "Is back pain with a fever an emergency?",
    "No numbness, no tingling, just sore quads for 3 days after squats",
    "my dad had sciatica for 20 years",
    "x" * 3000,
]


@pytest.fixture(scope="module")
def seed_texts() -> list[str]:
    frame, _, _ = load_labeled([SEED_DIR])
    return [*frame["text"].tolist(), *ODD_TEXTS]


@pytest.fixture(scope="module")
def analyses(seed_texts: list[str]) -> list:
    return analyze_many(seed_texts)


@pytest.fixture(scope="module")
def sklearn_proba(classifier: Classifier, analyses: list) -> np.ndarray:
    pipeline = classifier.pipeline
    matrix = feature_matrix(pipeline, [a.text for a in analyses], analyses)
    return pipeline.named_steps["classifier"].predict_proba(matrix)


def test_the_classifier_predicts_with_the_lean_model(classifier: Classifier) -> None:
    assert classifier.lean is not None


@pytest.mark.parametrize("source", ["skops file", "pipeline object"])
def test_lean_probabilities_are_the_pipelines_to_1e_12(
    classifier: Classifier, analyses: list, sklearn_proba: np.ndarray, source: str
) -> None:
    if source == "skops file":
        assert classifier.ref is not None
        lean = LeanModel.from_skops(_model_file(classifier.ref))
    else:
        lean = LeanModel.from_pipeline(classifier.pipeline)
    assert lean.classes == [str(c) for c in classifier.pipeline.classes_]
    texts = [a.text for a in analyses]
    batch = lean.predict_proba(texts, analyses)
    assert batch.shape == sklearn_proba.shape
    np.testing.assert_allclose(batch, sklearn_proba, rtol=0, atol=1e-12)


def test_one_text_alone_scores_exactly_as_in_a_batch(
    classifier: Classifier, analyses: list
) -> None:
    lean = classifier.lean
    assert lean is not None
    texts = [a.text for a in analyses]
    batch = lean.predict_proba(texts, analyses)
    alone = np.vstack([lean.predict_proba([t], [a]) for t, a in zip(texts, analyses, strict=True)])
    assert np.array_equal(alone, batch)  # bit for bit, not merely close


def test_the_word_analyzer_is_scikit_learns(classifier: Classifier, seed_texts: list[str]) -> None:
    vectorizer = classifier.pipeline.named_steps["features"].transformer_list[0][1]
    theirs = vectorizer.build_analyzer()
    lean = classifier.lean
    assert lean is not None
    for text in seed_texts:
        assert lean.analyzer(text) == theirs(text), text


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 3), (2, 3)])
def test_the_word_analyzer_handles_other_ngram_ranges(ngram_range: tuple[int, int]) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    text = "My lower back is sore after the gym, très fatigué"
    theirs = TfidfVectorizer(ngram_range=ngram_range, strip_accents="unicode").build_analyzer()
    ours = WordAnalyzer(True, "unicode", r"(?u)\b\w\w+\b", ngram_range)
    assert ours(text) == theirs(text)


def test_cue_features_are_the_featurizers(classifier: Classifier, analyses: list) -> None:
    union = classifier.pipeline.named_steps["features"]
    featurizer = dict(union.transformer_list)["cues"]
    weight = union.transformer_weights["cues"]
    expected = (featurizer.transform_analyses(analyses) * weight).toarray()
    lean = classifier.lean
    assert lean is not None
    offset = len(lean.vocabulary)
    for row, analysis in enumerate(analyses):
        got = np.zeros(expected.shape[1])
        for column, value in lean.cue_features(analysis).items():
            got[column - offset] = value
        np.testing.assert_array_equal(got, expected[row])


def test_duration_buckets_and_signals_are_the_featurizers() -> None:
    for days in [None, 0, 1, 2, 2.5, 3, 7, 7.5, 8, 30, 31, 365, 366, 10_000]:
        assert _duration_bucket(days) == duration_bucket(days)
    lean_signals = {"question", "first_person", "impersonal_question", "no_words"}
    assert lean_signals | {"short_text", "long_text"} == set(TEXT_SIGNALS)
    assert len(DURATION_BUCKETS) == 6


def _reference_decide(probabilities, classes, analyses, rules):
    """``decide`` as it was written with a numpy row per text (before it used plain floats)."""
    column = {label: i for i, label in enumerate(classes)}
    out = []
    for row, analysis in zip(probabilities, analyses, strict=True):
        proba = np.asarray(row, dtype=float).copy()
        notes = []
        findings = tuple(find_red_flags(analysis, rules))
        excluded = {}
        if not analysis.has_words:
            excluded["soreness"] = excluded["pain"] = "no words to classify"
        if findings:
            excluded.setdefault("soreness", "an urgent text is never soreness")
        definitional = set(excluded)
        current = analysis.current_categories
        for rule in rules.label_rules:
            if rule.excludes not in excluded and rule.applies(current, analysis.n_tokens):
                excluded[rule.excludes] = rule.reason
        removed = 0.0
        for label, reason in excluded.items():
            index = column.get(label)
            if index is None or proba[index] == 0.0:
                continue
            if int(np.argmax(proba)) == index:
                notes.append(f"not {label}: {reason}")
            removed += proba[index]
            proba[index] = 0.0
        allowed = [i for label, i in column.items() if label not in excluded]
        if removed > 0 and allowed:
            proba[allowed] += removed / len(allowed)
        if not allowed:
            proba[:] = 0.0
            proba[column.get("other", 0)] = 1.0
        proba /= proba.sum()
        if removed > 0 and len(allowed) == 1 and len(excluded) > len(definitional):
            model = np.asarray(row, dtype=float).copy()
            for label in definitional:
                if label in column:
                    model[column[label]] = 0.0
            if model.sum() > 0:
                model /= model.sum()
                proba = RULE_ALONE_WEIGHT * proba + (1.0 - RULE_ALONE_WEIGHT) * model
        label = classes[int(np.argmax(proba))]
        probabilities_ = {lab: float(proba[column[lab]]) for lab in LABELS if lab in column}
        out.append((label, probabilities_, findings, tuple(notes)))
    return out


def test_decide_gives_the_numpy_versions_results_exactly(
    classifier: Classifier, analyses: list, sklearn_proba: np.ndarray
) -> None:
    rules = load_rules()
    rng = np.random.default_rng(0)
    # The model's own probabilities, random ones and ties, so every rule path is taken.
    random_rows = rng.dirichlet([0.5, 0.5, 0.5], size=len(analyses))
    ties = np.tile([1 / 3, 1 / 3, 1 / 3], (len(analyses), 1))
    for probabilities in (sklearn_proba, random_rows, ties):
        ours = decide(probabilities, classifier.classes, analyses, rules)
        theirs = _reference_decide(probabilities, classifier.classes, analyses, rules)
        assert [(d.label, d.probabilities, d.urgent, d.notes) for d in ours] == theirs


def _schema(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("schema.json"))


def _rewrite(path: Path, schema: dict) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(output, "w") as target:
        for name in source.namelist():
            if name != "schema.json":
                target.writestr(name, source.read(name))
        target.writestr("schema.json", json.dumps(schema))
    return output.getvalue()


def test_read_skops_refuses_nodes_that_would_run_code(classifier: Classifier) -> None:
    assert classifier.ref is not None
    path = _model_file(classifier.ref)
    schema = _schema(path)
    hostile = copy.deepcopy(schema)
    hostile["content"]["content"]["memory"] = {
        "__class__": "system",
        "__module__": "os",
        "__loader__": "FunctionNode",
        "content": {"module_path": "os", "function": "system"},
    }
    with pytest.raises(UnsupportedModel, match="FunctionNode"):
        read_skops(_rewrite(path, hostile))


def test_an_object_of_a_foreign_type_is_refused(classifier: Classifier) -> None:
    assert classifier.ref is not None
    path = _model_file(classifier.ref)
    foreign = copy.deepcopy(_schema(path))
    union = foreign["content"]["content"]["steps"]["content"][0]["content"][1]
    union["content"]["content"]["n_jobs"] = {
        "__class__": "Popen",
        "__module__": "subprocess",
        "__loader__": "ObjectNode",
        "content": {
            "__class__": "dict",
            "__module__": "builtins",
            "__loader__": "DictNode",
            "content": {},
            "key_types": {
                "__class__": "list",
                "__module__": "builtins",
                "__loader__": "ListNode",
                "content": [],
            },
        },
    }
    data = _rewrite(path, foreign)
    assert read_skops(data).attrs  # plain reading builds no object, whatever the type
    with pytest.raises(UnsupportedModel, match=r"subprocess\.Popen"):
        LeanModel.from_skops(data)


def test_a_model_of_another_shape_is_refused_by_the_lean_reader(classifier: Classifier) -> None:
    assert classifier.ref is not None
    path = _model_file(classifier.ref)
    schema = _schema(path)
    other = copy.deepcopy(schema)
    calibrated = other["content"]["content"]["steps"]["content"][1]["content"][1]
    member = calibrated["content"]["content"]["calibrated_classifiers_"]["content"][0]
    member["content"]["content"]["method"]["content"] = json.dumps("sigmoid")
    with pytest.raises(UnsupportedModel, match="sigmoid"):
        LeanModel.from_skops(_rewrite(path, other))


def test_a_pipeline_the_lean_model_cannot_compute_is_predicted_with_scikit_learn(
    classifier: Classifier,
) -> None:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    from classifier.model import build_model, fit_on_analyses

    frame, _, _ = load_labeled([SEED_DIR])
    texts, labels = frame["text"].tolist()[::5], frame["label"].tolist()[::5]
    pipeline = build_model()
    pipeline.set_params(
        classifier=CalibratedClassifierCV(LinearSVC(random_state=0), method="sigmoid", cv=3)
    )
    fit_on_analyses(pipeline, texts, analyze_many(texts), labels)
    sigmoid = Classifier(pipeline, {"version": "sigmoid"})
    assert sigmoid.lean is None
    prediction = sigmoid.predict("my lower back is sore after deadlifts")
    assert prediction.label in LABELS
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0)
