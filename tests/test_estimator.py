"""Tests for ``classifier.PainClassifier``: a scikit-learn estimator over raw texts."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks as checks

from classifier import PainClassifier
from classifier.config import SEED_DIR
from classifier.dataset import load_labeled

# The checks of sklearn.utils.estimator_checks that apply to an estimator over texts: they
# look at the estimator's API (parameters, cloning, tags, repr, unfitted errors), not at
# what it does with numeric data.
APPLICABLE_CHECKS = [
    checks.check_estimator_cloneable,
    checks.check_estimator_repr,
    checks.check_estimator_tags_renamed,
    checks.check_valid_tag_types,
    checks.check_no_attributes_set_in_init,
    checks.check_parameters_default_constructible,
    checks.check_get_params_invariance,
    checks.check_set_params,
    checks.check_do_not_raise_errors_in_init_or_set_params,
    checks.check_mixin_order,
    checks.check_estimators_unfitted,
]

# The checks that do not apply, and why. Where the property still makes sense for texts,
# the test named in brackets checks it on texts.
NUMERIC_X = (
    "feeds a numeric 2-D array as X; PainClassifier takes raw texts and refuses numbers "
    "with a clear error (test_numeric_input_is_refused)"
)
NOT_APPLICABLE = {
    "check_estimators_fit_returns_self": NUMERIC_X + " [test_fit_returns_self_and_keeps_params]",
    "check_estimators_overwrite_params": NUMERIC_X + " [test_fit_returns_self_and_keeps_params]",
    "check_dont_overwrite_parameters": NUMERIC_X + " [test_fit_returns_self_and_keeps_params]",
    "check_fit_idempotent": NUMERIC_X + " [test_fit_is_idempotent]",
    "check_estimators_pickle": NUMERIC_X + " [test_pickle_and_clone]",
    "check_methods_sample_order_invariance": NUMERIC_X + " [test_order_and_subset_invariance]",
    "check_methods_subset_invariance": NUMERIC_X + " [test_order_and_subset_invariance]",
    "check_fit_check_is_fitted": NUMERIC_X + " [test_unfitted_estimator_refuses_to_predict]",
    "check_pipeline_consistency": NUMERIC_X + " [test_works_in_a_pipeline]",
    "check_fit_score_takes_y": NUMERIC_X + " [test_cross_val_score]",
    "check_classifiers_train": NUMERIC_X,
    "check_classifiers_classes": NUMERIC_X,
    "check_classifiers_one_label": NUMERIC_X,
    "check_classifiers_regression_target": NUMERIC_X,
    "check_supervised_y_2d": NUMERIC_X,
    "check_estimators_dtypes": NUMERIC_X,
    "check_dtype_object": NUMERIC_X,
    "check_f_contiguous_array_estimator": NUMERIC_X,
    "check_readonly_memmap_input": NUMERIC_X,
    "check_inplace_ensure_writeable": NUMERIC_X,
    "check_fit2d_predict1d": NUMERIC_X,
    "check_fit2d_1sample": NUMERIC_X,
    "check_fit2d_1feature": NUMERIC_X,
    "check_estimators_empty_data_messages": NUMERIC_X,
    "check_estimators_nan_inf": "NaN and inf are numbers; a missing text (None or NaN) is "
    "read as an empty text and labeled like one (test_missing_texts_are_empty_texts)",
    "check_positive_only_tag_during_fit": NUMERIC_X,
    "check_n_features_in": "texts have no fixed number of features, so there is no "
    "n_features_in_ (as for scikit-learn's own TfidfVectorizer)",
    "check_estimator_sparse_array": "sparse matrices are numeric features, not texts",
    "check_estimator_sparse_matrix": "sparse matrices are numeric features, not texts",
    "check_estimator_sparse_tag": "sparse matrices are numeric features, not texts",
    "check_sample_weights_list": "fit takes no sample_weight: the model balances classes "
    "itself (class_weight='balanced') and its calibration has no use for weights",
    "check_sample_weights_shape": "fit takes no sample_weight (see check_sample_weights_list)",
    "check_sample_weights_pandas_series": "fit takes no sample_weight",
    "check_sample_weights_not_an_array": "fit takes no sample_weight",
    "check_sample_weights_not_overwritten": "fit takes no sample_weight",
    "check_param_validation": "parameter constraints are private scikit-learn API "
    "(_parameter_constraints); bad values fail in the logistic regression instead",
}


@pytest.fixture(scope="module")
def seed_sample() -> tuple[list[str], list[str]]:
    """180 seed texts, 60 of each label, in file order."""
    frame, _, _ = load_labeled([SEED_DIR])
    sample = frame.groupby("label", sort=True).head(60)
    return sample["text"].tolist(), sample["label"].tolist()


@pytest.fixture(scope="module")
def fitted(seed_sample: tuple[list[str], list[str]]) -> PainClassifier:
    return PainClassifier().fit(*seed_sample)


@pytest.mark.parametrize("check", APPLICABLE_CHECKS, ids=lambda check: check.__name__)
def test_applicable_estimator_checks(check) -> None:
    check("PainClassifier", PainClassifier())


def test_not_applicable_checks_exist_and_are_not_also_run() -> None:
    applicable = {check.__name__ for check in APPLICABLE_CHECKS}
    for name in NOT_APPLICABLE:
        assert hasattr(checks, name), f"{name} is not a scikit-learn check (renamed?)"
        assert name not in applicable


def test_check_estimator_sees_text_input_tags() -> None:
    tags = PainClassifier().__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array
    assert tags.estimator_type == "classifier"


def test_fit_predict_proba(fitted: PainClassifier) -> None:
    texts = [
        "my quads are sore two days after leg day",
        "sharp stabbing pain in my lower back since I fell off the ladder",
        "how do I change my email address?",
    ]
    assert fitted.classes_.tolist() == ["other", "pain", "soreness"]
    proba = fitted.predict_proba(texts)
    assert proba.shape == (3, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    predicted = fitted.predict(texts)
    assert predicted.tolist() == ["soreness", "pain", "other"]
    assert (predicted == fitted.classes_[proba.argmax(axis=1)]).all()
    assert fitted.score(texts, ["soreness", "pain", "other"]) == 1.0


def test_guide_rules_apply_on_top(fitted: PainClassifier) -> None:
    text = ["my legs are sore from squats and now I can't control my bladder"]
    soreness = fitted.classes_.tolist().index("soreness")
    assert fitted.predict_proba(text)[0, soreness] == 0.0  # an urgent text is never soreness
    raw = clone(fitted).set_params(apply_rules=False)
    raw.pipeline_, raw.classes_ = fitted.pipeline_, fitted.classes_
    assert raw.predict_proba(text)[0, soreness] > 0.0


def test_fit_returns_self_and_keeps_params(seed_sample: tuple[list[str], list[str]]) -> None:
    model = PainClassifier(c=2.0, cue_weight=1.5)
    before = model.get_params()
    assert model.fit(*seed_sample) is model
    assert model.get_params() == before
    public = {k for k in vars(model) if not k.startswith("_")}
    assert public - set(before) == {"pipeline_", "classes_"}  # learned state ends in _


def test_fit_is_idempotent(
    fitted: PainClassifier, seed_sample: tuple[list[str], list[str]]
) -> None:
    texts = seed_sample[0][:20]
    again = clone(fitted).fit(*seed_sample)
    np.testing.assert_array_equal(again.predict_proba(texts), fitted.predict_proba(texts))


def test_order_and_subset_invariance(
    fitted: PainClassifier, seed_sample: tuple[list[str], list[str]]
) -> None:
    texts = seed_sample[0][::9]
    whole = fitted.predict_proba(texts)
    order = np.random.default_rng(0).permutation(len(texts))
    np.testing.assert_allclose(fitted.predict_proba([texts[i] for i in order]), whole[order])
    np.testing.assert_allclose(fitted.predict_proba(texts[:3]), whole[:3])


def test_pickle_and_clone(fitted: PainClassifier) -> None:
    texts = ["sore after pilates", "my back hurts when I cough"]
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(texts), fitted.predict_proba(texts))
    fresh = clone(fitted)
    assert fresh.get_params() == fitted.get_params()
    assert not hasattr(fresh, "pipeline_")


def test_unfitted_estimator_refuses_to_predict() -> None:
    with pytest.raises(NotFittedError):
        PainClassifier().predict(["my back hurts"])


def test_numeric_input_is_refused(seed_sample: tuple[list[str], list[str]]) -> None:
    with pytest.raises(ValueError, match="one-dimensional"):
        PainClassifier().fit(np.zeros((6, 3)), [0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match=r"X\[0\] is a int"):
        PainClassifier().fit([1, 2, 3], ["pain", "other", "soreness"])
    with pytest.raises(ValueError, match="not one string"):
        PainClassifier().fit("my back hurts", ["pain"])
    with pytest.raises(ValueError, match="apply_rules=False"):
        PainClassifier().fit(seed_sample[0], ["a" if i % 2 else "b" for i in range(180)])


def test_missing_texts_are_empty_texts(fitted: PainClassifier) -> None:
    proba = fitted.predict_proba([None, float("nan"), ""])
    np.testing.assert_allclose(proba, np.repeat(proba[[2]], 3, axis=0))
    assert fitted.predict([None]).tolist() == ["other"]


def test_other_labels_without_rules(seed_sample: tuple[list[str], list[str]]) -> None:
    texts, labels = seed_sample
    binary = ["complaint" if label != "other" else "no complaint" for label in labels]
    model = PainClassifier(apply_rules=False).fit(texts, binary)
    assert model.classes_.tolist() == ["complaint", "no complaint"]
    assert model.predict(["sore hamstrings after the run"]).tolist() == ["complaint"]


def test_cross_val_score(seed_sample: tuple[list[str], list[str]]) -> None:
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    scores = cross_val_score(PainClassifier(), *seed_sample, cv=folds, scoring="f1_macro")
    assert len(scores) == 3
    assert scores.mean() > 0.7, scores


def test_works_in_a_pipeline_and_grid_search(seed_sample: tuple[list[str], list[str]]) -> None:
    texts, labels = seed_sample

    def first_line(values: list[str]) -> list[str]:
        return [str(value).splitlines()[0] if value else "" for value in values]

    pipeline = Pipeline(
        [("first_line", FunctionTransformer(first_line)), ("painclf", PainClassifier())]
    )
    search = GridSearchCV(
        pipeline, {"painclf__c": [1.0, 4.0]}, cv=StratifiedKFold(3), scoring="accuracy"
    )
    search.fit(texts, labels)
    assert search.best_params_["painclf__c"] in (1.0, 4.0)
    assert search.predict(["calves sore after the hill run\nthanks"]).tolist() == ["soreness"]
