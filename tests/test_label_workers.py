"""Tests for ``painclf label --jobs N``'s worker processes: started early, model loaded in
them only, stopped after an error."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from classifier.batch import LabelError, label_file
from classifier.batch import workers as workers_module

TEXTS = ["my lower back is sore after deadlifts", "how do I reset my password?", "neck pain"]


def _tickets(path: Path, rows: int) -> Path:
    frame = pd.DataFrame(
        {"ticket_id": range(rows), "text": [TEXTS[i % len(TEXTS)] for i in range(rows)]}
    )
    frame.to_csv(path, index=False)
    return path


def test_the_main_process_of_a_jobs_run_loads_no_model(model_dir: Path, tmp_path: Path) -> None:
    source = _tickets(tmp_path / "in.csv", 30)
    script = textwrap.dedent(
        f"""
        import json, sys
        from classifier.batch import label_file
        summary = label_file({str(source)!r}, {str(tmp_path / "out.csv")!r}, jobs=2,
                             chunk_size=7, model={str(model_dir)!r}, quiet=True)
        print(json.dumps({{"rows": summary.rows, "predict": "classifier.predict" in sys.modules}}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=600
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    # The workers predict; the main process reads, writes and never imports the analysis.
    assert answer == {"rows": 30, "predict": False}
    assert len(pd.read_csv(tmp_path / "out.csv")) == 30


def test_workers_started_for_a_run_that_fails_are_stopped(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _tickets(tmp_path / "in.csv", 10)

    def fail(*args: object, **kwargs: object) -> None:
        raise LabelError("the run fails after its workers were started")

    monkeypatch.setattr("classifier.batch.label._Run.restore_or_start", fail)
    with pytest.raises(LabelError, match="after its workers were started"):
        label_file(source, tmp_path / "out.csv", jobs=2, chunk_size=3, model=str(model_dir))
    assert 2 not in workers_module._executors  # shut down, not left to idle
    assert not (tmp_path / "out.csv").exists()
