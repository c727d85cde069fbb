"""Tests for CueFeaturizer: scikit-learn conventions and what its columns say."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import NotFittedError, SkipTestWarning
from sklearn.pipeline import Pipeline
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks
from spacy.language import Language
from spacy.tokens import Doc

from classifier.features import CueFeaturizer, duration_bucket
from classifier.model import build_model

TEXTS = [
    "my back is sore after the gym",
    "no numbness, just sore after squats",
    "sharp pain shooting down my left leg for three weeks",
    "how do I change my password?",
    "",
]

# CueFeaturizer reads text, so its tags say two_d_array=False and string=True. scikit-learn
# 1.9 then skips every check that feeds numeric arrays (with a SkipTestWarning) and yields only
# check_estimator_cloneable, which passes: no expected_failed_checks are needed. The API checks
# that need no data run below; the data checks have text equivalents further down.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", SkipTestWarning)
    SKLEARN_CHECKS = parametrize_with_checks([CueFeaturizer()])


@SKLEARN_CHECKS
def test_sklearn_compatible_estimator(estimator: CueFeaturizer, check: object) -> None:
    check(estimator)  # type: ignore[operator]


# The API checks that need no numeric data, run by hand because the tags skip them.
API_CHECKS = [
    "check_no_attributes_set_in_init",
    "check_estimator_repr",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_n_features_in_after_fitting",
]


@pytest.mark.parametrize("check_name", API_CHECKS)
def test_sklearn_api_checks_that_need_no_numeric_data(check_name: str) -> None:
    getattr(estimator_checks, check_name)("CueFeaturizer", CueFeaturizer())


@pytest.fixture(scope="module")
def fitted() -> CueFeaturizer:
    return CueFeaturizer().fit(TEXTS)


def test_clone_copies_parameters_not_state(fitted: CueFeaturizer) -> None:
    copy = clone(CueFeaturizer(max_count=3))
    assert copy.get_params() == {"max_count": 3}
    assert not hasattr(clone(fitted), "feature_names_")


def test_get_params_and_set_params() -> None:
    featurizer = CueFeaturizer()
    assert featurizer.get_params() == {"max_count": 2}
    assert featurizer.set_params(max_count=5) is featurizer
    assert featurizer.max_count == 5
    with pytest.raises(ValueError, match="Invalid parameter"):
        featurizer.set_params(min_count=1)


def test_init_only_stores_parameters() -> None:
    # A bad value is refused by fit, not by __init__ (scikit-learn's convention).
    featurizer = CueFeaturizer(max_count=0)
    with pytest.raises(ValueError, match="max_count"):
        featurizer.fit(TEXTS)


def test_fit_returns_self_and_learned_state_ends_in_underscore() -> None:
    featurizer = CueFeaturizer()
    assert featurizer.fit(TEXTS) is featurizer
    learned = [name for name in vars(featurizer) if name != "max_count"]
    assert learned and all(name.endswith("_") for name in learned)


def test_no_spacy_object_is_kept_after_fit_or_transform(fitted: CueFeaturizer) -> None:
    fitted.transform(TEXTS)
    for name, value in vars(fitted).items():
        assert not isinstance(value, Language | Doc), name
        assert "spacy" not in type(value).__module__, name


def test_a_fitted_featurizer_pickles_small_and_gives_the_same_features(
    fitted: CueFeaturizer,
) -> None:
    data = pickle.dumps(fitted)
    assert len(data) < 200_000, "a spaCy pipeline would weigh megabytes"
    again = pickle.loads(data)
    assert (again.transform(TEXTS) != fitted.transform(TEXTS)).nnz == 0


def test_transform_before_fit_raises_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        CueFeaturizer().transform(TEXTS)
    with pytest.raises(NotFittedError):
        CueFeaturizer().get_feature_names_out()


def test_feature_names_match_the_output_width(fitted: CueFeaturizer) -> None:
    X = fitted.transform(TEXTS)
    names = fitted.get_feature_names_out()
    assert sparse.issparse(X)
    assert X.shape == (len(TEXTS), len(names))
    assert len(set(names)) == len(names)
    # A copy: changing it must not change the featurizer.
    names[0] = "changed"
    assert fitted.get_feature_names_out()[0] != "changed"


def test_values_are_scaled_counts_between_zero_and_one(fitted: CueFeaturizer) -> None:
    X = fitted.transform(TEXTS)
    assert X.min() >= 0.0 and X.max() <= 1.0


@pytest.mark.parametrize("bare", ["my back is sore", b"my back is sore"])
def test_a_bare_string_is_refused(fitted: CueFeaturizer, bare: str | bytes) -> None:
    with pytest.raises(ValueError, match="string object received"):
        fitted.transform(bare)
    with pytest.raises(ValueError, match="string object received"):
        CueFeaturizer().fit(bare)


def test_a_two_column_array_is_refused(fitted: CueFeaturizer) -> None:
    with pytest.raises(ValueError, match="1-D collection of texts"):
        fitted.transform(np.array([["a", "b"], ["c", "d"]]))


def test_one_column_dataframe_list_and_series_give_the_same_features(
    fitted: CueFeaturizer,
) -> None:
    expected = fitted.transform(TEXTS).toarray()
    for X in (pd.Series(TEXTS), pd.DataFrame({"text": TEXTS}), np.array(TEXTS, dtype=object)):
        np.testing.assert_array_equal(fitted.transform(X).toarray(), expected)


def test_rows_do_not_depend_on_the_batch(fitted: CueFeaturizer) -> None:
    together = fitted.transform(TEXTS).toarray()
    reversed_rows = fitted.transform(TEXTS[::-1]).toarray()[::-1]
    one_by_one = np.vstack([fitted.transform([text]).toarray() for text in TEXTS])
    np.testing.assert_array_equal(together, reversed_rows)
    np.testing.assert_array_equal(together, one_by_one)


def test_fit_is_idempotent_and_ignores_the_training_texts() -> None:
    first = CueFeaturizer().fit(TEXTS)
    second = CueFeaturizer().fit(["something else entirely"])
    np.testing.assert_array_equal(first.get_feature_names_out(), second.get_feature_names_out())
    assert first.rules_fingerprint_ == second.rules_fingerprint_


def _row(featurizer: CueFeaturizer, text: str) -> dict[str, float]:
    values = featurizer.transform([text]).toarray()[0]
    return {
        str(name): float(value)
        for name, value in zip(featurizer.get_feature_names_out(), values, strict=True)
        if value
    }


def test_a_negated_cue_lands_in_its_negated_column(fitted: CueFeaturizer) -> None:
    row = _row(fitted, "no numbness, just sore after squats")
    assert "cue:numbness:negated" in row and "cue:numbness" not in row
    assert "cue:soreness_word" in row and "cue:activity" in row


def test_duration_and_text_signals(fitted: CueFeaturizer) -> None:
    row = _row(fitted, "my back has been sore for three weeks")
    assert row.get("duration:8-30d") == 1.0 and "cue:long_duration" in row
    question = _row(fitted, "what causes back pain?")
    assert "text:question" in question and "text:impersonal_question" in question
    assert "text:no_words" in _row(fitted, "🙂🙂")


def test_counts_are_capped_at_max_count() -> None:
    featurizer = CueFeaturizer(max_count=2).fit(TEXTS)
    once = _row(featurizer, "sore")["cue:soreness_word"]
    many = _row(featurizer, "sore, sore, sore and sore")["cue:soreness_word"]
    assert (once, many) == (0.5, 1.0)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(None, "none"), (0.5, "<=2d"), (2, "<=2d"), (5, "3-7d"), (21, "8-30d"), (400, ">365d")],
)
def test_duration_bucket(days: float | None, bucket: str) -> None:
    assert duration_bucket(days) == bucket


# --- the whole model --------------------------------------------------------------------------


def test_build_model_can_be_cloned_and_lists_its_params() -> None:
    model = build_model(c=2.0, cue_weight=0.5)
    assert isinstance(model, Pipeline)
    params = model.get_params()
    assert params["classifier__estimator__C"] == 2.0
    assert params["features__transformer_weights"] == {"words": 1.0, "cues": 0.5}
    assert params["features__cues__max_count"] == 2
    copy = clone(model)
    assert copy is not model
    assert copy.get_params()["classifier__estimator__C"] == 2.0
    copy.set_params(classifier__estimator__C=8.0, features__cues__max_count=3)
    assert model.get_params()["classifier__estimator__C"] == 2.0
    assert model.get_params()["features__cues__max_count"] == 2
