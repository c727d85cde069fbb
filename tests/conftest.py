"""Shared fixtures: a throwaway registry and one model trained from the seed data per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from classifier import config as painclf_config
from classifier.cli import app
from classifier.predict import Classifier
from classifier.registry import current_version


@pytest.fixture(scope="session", autouse=True)
def isolated_models_dir() -> Iterator[Path]:
    """The session's default registry: a temporary directory, never the repo's ``models/``.

    The root ``conftest.py`` sets ``PAINCLF_MODELS_DIR`` before ``classifier.config`` is
    imported, so code paths that take no ``root=`` (doctests included) write here.
    """
    path = painclf_config.MODELS_DIR
    repo_models = painclf_config.PROJECT_ROOT / "models"
    assert path != repo_models.resolve(), "PAINCLF_MODELS_DIR was not set for the tests"
    before = _listing(repo_models)
    yield path
    assert _listing(repo_models) == before, f"the tests wrote to {repo_models}"


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.is_dir() else []


@pytest.fixture(scope="session")
def trained_models_dir(isolated_models_dir: Path) -> Path:
    """The session registry holding one model trained by ``painclf train`` from the default
    training data: the suite's one training run, which also checks that it reproduces the
    shipped model byte for byte (tests/test_shipped_model.py).
    """
    if current_version(isolated_models_dir) is None:
        result = CliRunner().invoke(app, ["train", "--models-dir", str(isolated_models_dir)])
        assert result.exit_code == 0, result.output
    return isolated_models_dir


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


CHROMIUM = "/usr/bin/chromium"
# As root Chromium needs --no-sandbox; the rest keeps it off the network and quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium: the Debian package driven by Playwright (``.ci/run`` installs it;
    ``playwright install`` is never run)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
