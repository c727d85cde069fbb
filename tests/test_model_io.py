"""Tests for saving and loading models: identical predictions, determinism, bad files refused."""

from __future__ import annotations

import importlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from classifier.config import (
    CURRENT_FILE_NAME,
    LABELS,
    MANIFEST_FILE_NAME,
    MANIFEST_SCHEMA_VERSION,
    MODEL_FILE_NAME,
    REVIEW_THRESHOLD_BOUNDS,
    SEED_DIR,
)
from classifier.dataset import load_labeled, sha256_file
from classifier.model import build_model
from classifier.predict import Classifier
from classifier.registry import (
    TRUSTED_TYPES,
    ModelError,
    list_versions,
    load_pipeline,
    resolve,
    save_version,
)
from classifier.rules import load_rules

TEXTS = [
    "my calves are tight two days after the hill run",
    "glutes ache after my first pilates class, getting better already",
    "upper back feels worked after rowing, both sides",
    "sore shoulders after painting the fence all weekend",
    "DOMS in my hamstrings from deadlifts",
    "sharp pain in my lower back when I cough",
    "slipped on the stairs and my tailbone hurts",
    "numb toes and a burning feeling down my right leg",
    "my neck has hurt for two months and it's getting worse",
    "the MRI says I have a bulging disc",
    "I can't bend to put my socks on",
    "my back hurts",
    "how do I update my card details",
    "the app crashes when I open day three",
    "thanks, the program is brilliant",
    "what stretches help with posture?",
    "I have a sore throat and a cough",
    "my period cramps go right into my lower back",
    "",
    "Since this morning I can't pee and my back is agony",
]


@pytest.fixture(scope="module")
def seed_rows() -> tuple[list[str], list[str]]:
    """300 seed rows, 100 of each label, in file order."""
    frame, _, _ = load_labeled([SEED_DIR])
    sample = frame.groupby("label", sort=True).head(100)
    assert len(sample) == 300
    return sample["text"].tolist(), sample["label"].tolist()


@pytest.fixture(scope="module")
def small_model(seed_rows: tuple[list[str], list[str]]) -> Pipeline:
    return build_model().fit(*seed_rows)


@pytest.fixture
def model_copy(model_dir: Path, tmp_path: Path) -> Path:
    """A copy of the session model's directory that a test may damage."""
    return Path(shutil.copytree(model_dir, tmp_path / model_dir.name))


# --- identical predictions after saving and loading -------------------------------------------


def test_a_saved_model_loads_with_identical_probabilities(
    small_model: Pipeline, tmp_path: Path
) -> None:
    ref = save_version(small_model, {"classes": list(small_model.classes_)}, root=tmp_path)
    loaded = load_pipeline(resolve(ref.version, root=tmp_path))
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS), small_model.predict_proba(TEXTS))


def test_the_session_model_survives_a_second_save_and_load(
    classifier: Classifier, tmp_path: Path
) -> None:
    manifest = {key: value for key, value in classifier.manifest.items() if key != "version"}
    ref = save_version(classifier.pipeline, manifest, root=tmp_path)
    again = Classifier.load(ref.path)
    np.testing.assert_array_equal(
        again.pipeline.predict_proba(TEXTS), classifier.pipeline.predict_proba(TEXTS)
    )
    assert [p.to_dict() | {"model_version": ""} for p in again.predict_many(TEXTS)] == [
        p.to_dict() | {"model_version": ""} for p in classifier.predict_many(TEXTS)
    ]


def test_training_twice_on_the_same_rows_gives_identical_models(
    small_model: Pipeline, seed_rows: tuple[list[str], list[str]], tmp_path: Path
) -> None:
    second = build_model().fit(*seed_rows)
    np.testing.assert_array_equal(second.predict_proba(TEXTS), small_model.predict_proba(TEXTS))
    # Reproducible down to the bytes: the two saved model files have the same SHA-256.
    classes = list(small_model.classes_)
    first_ref = save_version(small_model, {"classes": classes, "version": "a"}, root=tmp_path)
    second_ref = save_version(second, {"classes": classes, "version": "b"}, root=tmp_path)
    assert first_ref.manifest["model_sha256"] == second_ref.manifest["model_sha256"]


@pytest.mark.parametrize("how", ["version", "directory", "model file"])
def test_a_model_is_found_by_version_directory_or_file(
    trained_models_dir: Path, model_dir: Path, classifier: Classifier, how: str
) -> None:
    model = {
        "version": model_dir.name,
        "directory": str(model_dir),
        "model file": str(model_dir / MODEL_FILE_NAME),
    }[how]
    loaded = Classifier.load(model, root=trained_models_dir)
    assert loaded.version == classifier.version == model_dir.name
    np.testing.assert_array_equal(
        loaded.predict_proba_texts(TEXTS[:5]), classifier.predict_proba_texts(TEXTS[:5])
    )


def test_the_manifest_records_what_the_model_was_made_from(
    classifier: Classifier, model_dir: Path
) -> None:
    manifest = classifier.manifest
    assert manifest["schema_version"] == MANIFEST_SCHEMA_VERSION
    assert manifest["model_sha256"] == sha256_file(model_dir / MODEL_FILE_NAME)
    assert manifest["rules_fingerprint"] == load_rules().fingerprint
    assert sorted(manifest["classes"]) == ["other", "pain", "soreness"]
    assert manifest["training_rows"] == sum(manifest["label_counts"].values())
    assert {Path(item["path"]).name for item in manifest["training_data"]} >= {"pain.csv"}
    low, high = REVIEW_THRESHOLD_BOUNDS
    assert set(manifest["needs_review_thresholds"]) <= set(LABELS)
    assert all(low <= t <= high for t in manifest["needs_review_thresholds"].values())
    assert "scikit-learn" in manifest["environment"]
    assert (model_dir / "MODEL_CARD.md").is_file()


def test_the_first_model_trained_is_current_and_listed(
    trained_models_dir: Path, model_dir: Path
) -> None:
    assert (trained_models_dir / CURRENT_FILE_NAME).read_text().strip() == model_dir.name
    assert [ref.version for ref in list_versions(trained_models_dir)] == [model_dir.name]


# --- what the loader refuses --------------------------------------------------------------------


def test_a_tampered_model_file_is_refused(model_copy: Path) -> None:
    with (model_copy / MODEL_FILE_NAME).open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelError, match="SHA-256") as error:
        Classifier.load(model_copy)
    assert "refusing to load" in str(error.value)


def test_a_manifest_from_a_newer_painclf_is_refused(model_copy: Path) -> None:
    path = model_copy / MANIFEST_FILE_NAME
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["schema_version"] = MANIFEST_SCHEMA_VERSION + 1
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ModelError, match="newer") as error:
        Classifier.load(model_copy)
    assert "upgrade painclf" in str(error.value)


def test_a_directory_without_a_manifest_is_refused(model_copy: Path) -> None:
    (model_copy / MANIFEST_FILE_NAME).unlink()
    with pytest.raises(ModelError, match=r"manifest\.json missing"):
        Classifier.load(model_copy)


def test_a_corrupt_manifest_is_refused(model_copy: Path) -> None:
    (model_copy / MANIFEST_FILE_NAME).write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="corrupt"):
        Classifier.load(model_copy)


def test_a_missing_model_file_is_refused(model_copy: Path) -> None:
    (model_copy / MODEL_FILE_NAME).unlink()
    with pytest.raises(ModelError, match="missing"):
        Classifier.load(model_copy)


def test_current_naming_a_missing_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / CURRENT_FILE_NAME).write_text("v20990101-000000\n", encoding="utf-8")
    with pytest.raises(ModelError, match="'v20990101-000000', which does not exist") as error:
        Classifier.load(root=tmp_path)
    assert "painclf promote" in str(error.value)


def test_an_empty_registry_falls_back_to_the_shipped_model(tmp_path: Path) -> None:
    """Nothing trained yet: the model shipped in the package answers; the registry itself
    still says how to train one."""
    assert Classifier.load(root=tmp_path).version.startswith("shipped-")
    with pytest.raises(ModelError, match="painclf train"):
        resolve(None, root=tmp_path)


def test_an_unknown_model_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no model 'v-nope'"):
        Classifier.load("v-nope", root=tmp_path)


def test_a_model_holding_an_untrusted_type_is_refused(tmp_path: Path) -> None:
    # A file that refers to os.system (stored by name, never called) must not be loaded.
    pipeline = Pipeline([("anything", FunctionTransformer(os.system))])
    ref = save_version(pipeline, {"classes": ["other", "pain", "soreness"]}, root=tmp_path)
    with pytest.raises(ModelError, match="outside painclf's trusted list") as error:
        load_pipeline(ref)
    assert "system" in str(error.value)


def test_save_never_overwrites_a_version(small_model: Pipeline, tmp_path: Path) -> None:
    manifest = {"classes": list(small_model.classes_), "version": "v1"}
    save_version(small_model, manifest, root=tmp_path)
    before = sha256_file(tmp_path / "v1" / MODEL_FILE_NAME)
    with pytest.raises(ModelError, match="already exists"):
        save_version(small_model, manifest, root=tmp_path)
    assert sha256_file(tmp_path / "v1" / MODEL_FILE_NAME) == before
    assert [p.name for p in tmp_path.iterdir()] == ["v1"], "no staging directory is left behind"


def test_trusted_types_cover_every_type_in_the_saved_model(model_dir: Path) -> None:
    untrusted = set(sio.get_untrusted_types(file=model_dir / MODEL_FILE_NAME))
    assert untrusted <= set(TRUSTED_TYPES), sorted(untrusted - set(TRUSTED_TYPES))


def test_trusted_types_are_exactly_what_the_model_file_holds(model_dir: Path) -> None:
    # Fails when a model gains a type (review it, then add it) or the list keeps one
    # that no model holds any more (remove it: every trusted type is an attack surface).
    untrusted = sio.get_untrusted_types(file=model_dir / MODEL_FILE_NAME)
    assert sorted(untrusted) == sorted(TRUSTED_TYPES)


# --- the registry trusts its own files no further than it must --------------------------------


def test_current_pointing_outside_the_registry_is_refused(model_copy: Path, tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    registry.mkdir()
    (registry / CURRENT_FILE_NAME).write_text(f"../{model_copy.name}\n", encoding="utf-8")
    with pytest.raises(ModelError, match="not a valid version name"):
        Classifier.load(root=registry)
    (registry / "v20260101-000000").symlink_to(model_copy)
    (registry / CURRENT_FILE_NAME).write_text("v20260101-000000\n", encoding="utf-8")
    with pytest.raises(ModelError, match="points outside the registry"):
        Classifier.load(root=registry)


def test_a_manifest_model_file_outside_its_directory_is_refused(model_copy: Path) -> None:
    manifest_path = model_copy / MANIFEST_FILE_NAME
    for name in ("../model.skops", "/etc/passwd", ".hidden"):
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest["model_file"] = name
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
        with pytest.raises(ModelError, match="must name a file inside"):
            Classifier.load(model_copy)


def test_a_version_name_is_never_joined_as_a_path(model_copy: Path, tmp_path: Path) -> None:
    registry = tmp_path / "registry" / "models"
    registry.mkdir(parents=True)
    # ../../<copy> would reach the copy from inside the registry: it is not a version.
    escape = os.path.relpath(model_copy, registry)
    assert not Path(escape).is_dir(), "the test needs a path valid only from the registry"
    with pytest.raises(ModelError, match="not a valid version name"):
        resolve(escape, root=registry)


def test_versions_without_current_are_an_error_not_a_silent_retrain(
    model_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The package exports functions named like these modules: import the modules.
    predict_module = importlib.import_module("classifier.predict")
    registry_module = importlib.import_module("classifier.registry")
    registry = tmp_path / "registry"
    registry.mkdir()
    shutil.copytree(model_copy, registry / model_copy.name)
    monkeypatch.setattr(registry_module, "MODELS_DIR", registry)
    trained = []
    train_module = importlib.import_module("classifier.train")
    monkeypatch.setattr(train_module, "train", lambda **kw: trained.append(kw))
    with pytest.raises(ModelError, match="CURRENT is missing") as error:
        predict_module.ensure_model(None)
    assert f"painclf promote {model_copy.name}" in str(error.value)
    assert trained == [], "a registry with versions must never be retrained silently"


def test_two_trainings_in_the_same_second_get_different_versions(
    small_model: Pipeline, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from classifier.registry import new_version_name

    now = datetime(2026, 12, 1, 11, 20, 35, tzinfo=UTC)
    first = new_version_name(tmp_path, now=now)
    second = new_version_name(tmp_path, now=now)  # before the first is saved
    assert first == "v20261201-112035" and second == "v20261201-112035-2"
    classes = list(small_model.classes_)
    save_version(small_model, {"classes": classes, "version": second}, root=tmp_path)
    save_version(small_model, {"classes": classes, "version": first}, root=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [first, second], "no reservation left"


def test_an_invalid_version_name_is_refused_everywhere(
    small_model: Pipeline, tmp_path: Path
) -> None:
    from classifier.registry import set_current

    with pytest.raises(ModelError, match="not a valid version name"):
        save_version(small_model, {"classes": ["a"], "version": "../x"}, root=tmp_path)
    with pytest.raises(ModelError, match="not a valid version name"):
        set_current("../../x", tmp_path)
