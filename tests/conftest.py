"""Shared fixtures: a throwaway registry and one model trained from the seed data per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from classifier import config as painclf_config
from classifier import registry
from classifier.predict import Classifier
from classifier.registry import current_version
from classifier.train import train


@pytest.fixture(scope="session", autouse=True)
def isolated_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point the default registry at a temporary directory for the whole session.

    ``classifier.config.MODELS_DIR`` is read when the package is imported, before
    this fixture runs, so the module constants are patched too: a code path that
    takes no ``root=`` then writes here and never to the repository's ``models/``.
    """
    path = tmp_path_factory.mktemp("default-models-dir")
    repo_models = painclf_config.PROJECT_ROOT / "models"
    before = _listing(repo_models)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PAINCLF_MODELS_DIR", str(path))
        patch.setattr(painclf_config, "MODELS_DIR", path)
        patch.setattr(registry, "MODELS_DIR", path)
        yield path
    assert _listing(repo_models) == before, f"the tests wrote to {repo_models}"


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.is_dir() else []


@pytest.fixture(scope="session")
def trained_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry holding one model trained from ``data/seed`` (the only seed training run)."""
    root = tmp_path_factory.mktemp("trained-models")
    train(root=root, quiet=True)
    return root


@pytest.fixture(scope="session")
def model_dir(trained_models_dir: Path) -> Path:
    """The version directory of the session model (what ``--model`` accepts)."""
    version = current_version(trained_models_dir)
    assert version is not None, "the first model trained must become CURRENT"
    return trained_models_dir / version


@pytest.fixture(scope="session")
def classifier(trained_models_dir: Path) -> Classifier:
    """The session model, loaded through the registry as a user would load it."""
    return Classifier.load(root=trained_models_dir)
