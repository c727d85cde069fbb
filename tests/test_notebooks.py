"""The notebooks run from top to bottom against the session model, so they cannot rot."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from classifier.config import PROJECT_ROOT

NOTEBOOKS = PROJECT_ROOT / "notebooks"
TIMEOUT_SECONDS = 600


def execute(name: str, folder: Path) -> nbformat.NotebookNode:
    """Run a notebook in ``folder`` with the ``python3`` kernel; raise on the first error."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=TIMEOUT_SECONDS,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    return notebook


def stream_text(notebook: nbformat.NotebookNode) -> str:
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "stream"
    )


def images(notebook: nbformat.NotebookNode) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


@pytest.fixture
def notebook_env(trained_models_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The kernel inherits the environment: it uses the session model and trains nothing."""
    monkeypatch.setenv("PAINCLF_MODELS_DIR", str(trained_models_dir))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return tmp_path


@pytest.mark.parametrize("name", ["01-seed-data.ipynb", "02-error-analysis.ipynb"])
def test_notebooks_are_stored_without_outputs(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


def test_the_seed_data_notebook_runs_and_draws(notebook_env: Path) -> None:
    notebook = execute("01-seed-data.ipynb", notebook_env)
    assert "texts after validation" in stream_text(notebook)
    assert images(notebook) >= 5


def test_the_error_analysis_notebook_runs_on_the_repository_alone(notebook_env: Path) -> None:
    """On a fresh clone it analyses data/gold/gold.csv: no file outside the repository."""
    notebook = execute("02-error-analysis.ipynb", notebook_env)
    text = stream_text(notebook)
    assert "gold.csv" in text and "macro-F1" in text and "labeled texts" in text
    assert images(notebook) >= 3


def test_the_error_analysis_notebook_runs_on_the_dev_set(
    notebook_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev = PROJECT_ROOT.parent / "shared" / "eval" / "dev.csv"
    if not dev.is_file():
        pytest.skip(f"{dev} is not in this checkout (the repository's gold file is tested above)")
    monkeypatch.setenv("PAINCLF_DEV_FILE", str(dev))
    notebook = execute("02-error-analysis.ipynb", notebook_env)
    assert "dev.csv" in stream_text(notebook)


def test_the_error_analysis_notebook_says_when_the_dev_set_is_missing(
    notebook_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = notebook_env / "no-such-dev.csv"
    monkeypatch.setenv("PAINCLF_DEV_FILE", str(missing))
    notebook = execute("02-error-analysis.ipynb", notebook_env)
    assert f"{missing} is missing" in stream_text(notebook)
    assert images(notebook) == 0
