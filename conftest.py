"""Test-session setup shared by the doctests in classifier/ and the tests in tests/."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_MODELS_DIR_ENV = "PAINCLF_MODELS_DIR"

# Set at import, before any conftest imports classifier.config: every default registry
# path of the session (doctests included) lands in a temporary directory, never in the
# repo's models/.
os.environ[_MODELS_DIR_ENV] = tempfile.mkdtemp(prefix="painclf-test-models-")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(os.environ.pop(_MODELS_DIR_ENV, ""), ignore_errors=True)
