"""The analysis and predictions of the snapshot corpus are what they were when it was frozen.

``tests/make_snapshot.py`` wrote the snapshot; a difference here is a regression unless it is
a fix you can name, and then the snapshot is regenerated with that script (see its docstring).
Every text of the corpus is checked (about 5,000: seed, real posts, sample tickets and the
texts of the other tests). Texts are matched by their hash: a test text added since the
snapshot was written is not checked (regenerate to include it), one removed is skipped, but
every text of the data files must still be there.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

_SCRIPT = Path(__file__).resolve().parent / "make_snapshot.py"


def _load_script() -> Any:
    spec = importlib.util.spec_from_file_location("painclf_make_snapshot", _SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


snapshot = _load_script()


@pytest.fixture(scope="module")
def frozen() -> tuple[list[str], list[dict[str, Any]]]:
    """The corpus texts that are in the snapshot, and their frozen records, in one order."""
    rows = {row["hash"]: row for row in snapshot.read()}
    texts = [text for _, text in snapshot.corpus() if snapshot.text_hash(text) in rows]
    return texts, [rows[snapshot.text_hash(text)] for text in texts]


def test_every_data_file_text_is_checked(frozen: tuple[list[str], list[dict[str, Any]]]) -> None:
    _, expected = frozen
    found = {row["hash"] for row in expected}
    missing = [
        row["hash"]
        for row in snapshot.read()
        if row["source"].startswith("data/") and row["hash"] not in found
    ]
    assert not missing, (
        f"{len(missing)} texts of the data files are no longer in the corpus: if a data file "
        "changed on purpose, regenerate the snapshot with `python tests/make_snapshot.py`"
    )


def test_analysis_and_predictions_match_the_snapshot(
    frozen: tuple[list[str], list[dict[str, Any]]],
) -> None:
    texts, expected = frozen
    actual = snapshot.records(texts)
    diff = snapshot.differences(expected, actual, texts)
    shown = "\n".join(diff[:10])
    assert not diff, f"{len(diff)} of {len(texts)} texts differ from the snapshot:\n{shown}"
