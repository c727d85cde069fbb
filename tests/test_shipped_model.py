"""The default model shipped in the package: used without training, reproduced by `painclf train`,
and a fresh start that imports only what it needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import classifier
from classifier.cli import app
from classifier.config import (
    DEFAULT_TRAINING_DATA,
    MODEL_FILE_NAME,
    PROJECT_ROOT,
    SHIPPED_MODEL_DIR,
)
from classifier.dataset import sha256_file
from classifier.predict import Classifier, ensure_model
from classifier.registry import current_version, load_pipeline
from classifier.ship import shipped_ref

runner = CliRunner()


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Python in a fresh process with an empty registry, as on a fresh clone."""
    env = {"PAINCLF_MODELS_DIR": str(tmp_path / "empty-registry"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )


def test_painclf_train_reproduces_the_shipped_model_byte_for_byte(
    trained_models_dir: Path,
) -> None:
    """The session model is `painclf train` on the default data; it must be the shipped file.

    When this fails after a change to the training data, the rules or the model, rebuild
    the shipped model with `python -m classifier.ship` and commit it.
    """
    trained = trained_models_dir / str(current_version(trained_models_dir)) / MODEL_FILE_NAME
    shipped = SHIPPED_MODEL_DIR / MODEL_FILE_NAME
    assert trained.read_bytes() == shipped.read_bytes(), (
        "the shipped model is out of date: run `python -m classifier.ship`"
    )


def test_shipped_manifest_names_its_data_and_hash() -> None:
    ref = shipped_ref()
    assert ref is not None
    manifest = ref.manifest
    assert manifest["model_sha256"] == sha256_file(SHIPPED_MODEL_DIR / MODEL_FILE_NAME)
    assert ref.version == f"shipped-{manifest['model_sha256'][:12]}"
    expected = {
        p.relative_to(PROJECT_ROOT).as_posix() + "/" for p in DEFAULT_TRAINING_DATA if p.is_dir()
    }
    for source in manifest["training_data"]:
        assert not Path(source["path"]).is_absolute()
        assert any(source["path"].startswith(prefix) for prefix in expected) or expected == set()
    assert (SHIPPED_MODEL_DIR / "MODEL_CARD.md").is_file()


def test_no_registry_model_means_the_shipped_one(tmp_path: Path) -> None:
    ref = ensure_model(None, root=tmp_path)
    assert ref.path == SHIPPED_MODEL_DIR
    loaded = Classifier(load_pipeline(ref), ref.manifest)
    assert loaded.predict("sore quads after squats").label == "soreness"
    assert ensure_model("shipped").path == SHIPPED_MODEL_DIR
    assert not list(tmp_path.iterdir()), "nothing may be trained or written"


def test_first_predict_imports_only_what_it_needs(tmp_path: Path) -> None:
    """No training, no traceback, and none of the batch/training/plotting dependencies.

    pandas, pyarrow, typer and dask are not in the list: scikit-learn imports pandas (and
    through it pyarrow) whenever it is installed (sklearn/utils/fixes.py) and dask from its
    array API support when that is installed, and spaCy imports typer for its own CLI, so
    any use of the model loads them.
    """
    code = (
        "import sys, json\n"
        "from classifier import predict\n"
        "p = predict('x')\n"
        "heavy = ['matplotlib', 'cleanlab', 'classifier.batch', 'classifier.train',\n"
        "         'classifier.lifecycle']\n"
        "print(json.dumps({'label': p.label, 'model': p.model_version,\n"
        "                  'loaded': [m for m in heavy if m in sys.modules]}))\n"
    )
    result = _run(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", "a first run prints nothing (no training, no traceback)"
    report = json.loads(result.stdout)
    assert report["loaded"] == []
    assert report["model"].startswith("shipped-")
    assert not (tmp_path / "empty-registry").exists()


def test_import_classifier_and_the_cli_are_light(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "import classifier, classifier.cli\n"
        "heavy = ['spacy', 'sklearn', 'pandas', 'pyarrow', 'numpy', 'skops', 'matplotlib']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    result = _run(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_version_option() -> None:
    for option in ("--version", "-V"):
        result = runner.invoke(app, [option])
        assert result.exit_code == 0
        assert result.stdout.strip() == f"painclf {classifier.__version__}"


def test_help_lists_the_lazy_commands_with_their_summaries() -> None:
    result = runner.invoke(app, ["-h"])
    assert result.exit_code == 0
    assert "label" in result.stdout and "Label every row of a ticket export" in result.stdout
    assert "review" in result.stdout and "models" in result.stdout


def test_models_current_names_the_shipped_model(tmp_path: Path) -> None:
    result = runner.invoke(app, ["models", "current", "--models-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "shipped with painclf" in result.stdout
    assert str(SHIPPED_MODEL_DIR) in result.stdout
    assert "data/seed/" in result.stdout and "macro-F1" in result.stdout
    as_json = runner.invoke(app, ["models", "current", "--models-dir", str(tmp_path), "--json"])
    info = json.loads(as_json.stdout)
    assert info["version"].startswith("shipped-")
    assert info["cross_validation"]["macro_f1"] > 0.5


def test_models_current_names_the_registry_model(trained_models_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "current.json"
    result = runner.invoke(
        app, ["models", "current", "--models-dir", str(trained_models_dir), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    info = json.loads(out.read_text(encoding="utf-8"))
    assert info["version"] == current_version(trained_models_dir)
    assert info["source"].startswith("CURRENT of the registry")


def test_training_dates_its_texts_on_a_fixed_day(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Labeled texts have no date: "since Monday" must count the same days whatever day
    training runs on, or the shipped model could not be reproduced tomorrow."""
    import importlib

    train_module = importlib.import_module("classifier.train")  # the package exports train()
    from classifier.config import TRAINING_REFERENCE_DATE

    seen: list[object] = []

    class Stop(Exception):
        pass

    def analyze_many(texts: object, today: object = None, **kwargs: object) -> None:
        seen.append(today)
        raise Stop

    monkeypatch.setattr(train_module, "analyze_many", analyze_many)
    with pytest.raises(Stop):
        train_module.train(root=tmp_path, quiet=True)
    assert seen == [TRAINING_REFERENCE_DATE]
