"""The Dask engine: partitioned Parquet/CSV in, ``label_frame``'s rows out, in input order."""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from classifier.cli import app
from classifier.dask_engine import DaskEngineError, find_input_files, label_dask, require_dask
from classifier.predict import Classifier

ROWS_PER_FILE = 50
COMPLAINTS = (
    "My hamstrings are really sore after yesterday's deadlifts. Is that normal?",
    "Sharp shooting pain down my left leg since Monday, worse when I cough.",
    "How do I change the email address on my account?",
    "Lower back feels stiff and tight after the week 3 core routine.",
    "I was charged twice for March, can you refund one of them?",
    "Burning pain in my lower back for three weeks, it wakes me up at night.",
    "Glutes achy after leg day, nothing sharp, no numbness.",
    "Since this morning I can't control my bladder and my back hurts a lot.",
    'She said "it\'s just DOMS", but my neck is still sore, stiff, and tender.',
    "hey the video for day 12 wont load on my phone\n\nthx\nSam",
    "Quads sore for 2 days after my first spin class.\nShould I skip tomorrow?",
    "Stabbing pain between my shoulder blades, with chest pain and short of breath.",
)
# Cells painclf must label without dropping the row: empty, blank, missing, numbers.
BAD_CELLS: tuple[Any, ...] = ("", "   ", None, "12345", "3.5")


def _texts(file_number: int) -> list[Any]:
    texts: list[Any] = []
    for row in range(ROWS_PER_FILE):
        if row % 9 == 4:
            texts.append(BAD_CELLS[(row + file_number) % len(BAD_CELLS)])
        else:
            complaint = COMPLAINTS[(row * 5 + file_number) % len(COMPLAINTS)]
            texts.append(f"{complaint} (ticket {file_number}-{row})")
    return texts


def _frame(file_number: int) -> pd.DataFrame:
    start = file_number * ROWS_PER_FILE
    return pd.DataFrame(
        {
            "ticket_id": [f"T{start + row:05d}" for row in range(ROWS_PER_FILE)],
            "text": _texts(file_number),
            # Named like an output column: label_frame keeps it as input_status.
            "status": ["open" if row % 3 else "closed" for row in range(ROWS_PER_FILE)],
        }
    )


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Two worker processes with one thread each, shared by the tests of this module."""
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("dask.dataframe")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    ) as local_cluster:
        yield local_cluster


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three Parquet files, named so that plain sorting would put part.10 before part.2."""
    folder = tmp_path_factory.mktemp("parquet-input")
    for number, name in enumerate(("part.1.parquet", "part.2.parquet", "part.10.parquet")):
        # Two row groups in one file: several partitions may come from one file.
        _frame(number).to_parquet(folder / name, index=False, row_group_size=30)
    (folder / "_SUCCESS").write_text("")
    return folder


@pytest.fixture(scope="module")
def csv_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three CSV files with quoted commas and line breaks inside texts, and bare numbers."""
    folder = tmp_path_factory.mktemp("csv-input")
    for number in range(3):
        frame = _frame(number + 3)
        frame["text"] = frame["text"].astype(object)
        frame.loc[7, "text"] = 42  # a bare number in a text column
        frame.to_csv(folder / f"tickets-{number}.csv", index=False)
    return folder


def _read_like_the_engine(files: list[Path]) -> pd.DataFrame:
    """The input as plain pandas reads it: CSV cells as text, files in natural order."""
    frames = [
        pd.read_parquet(f)
        if f.suffix == ".parquet"
        else pd.read_csv(f, dtype=str, keep_default_na=False)
        for f in files
    ]
    return pd.concat(frames, ignore_index=True)


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return abs(left - right) <= 1e-9
    if pd.isna(left) is True or pd.isna(right) is True:
        return pd.isna(left) is True and pd.isna(right) is True
    return bool(left == right)


def assert_same_rows(output_dir: Path, files: list[Path], classifier: Classifier) -> None:
    """The Dask output equals ``label_frame`` on the same rows, row for row, in input order."""
    from classifier.batch import OUTPUT_COLUMNS, label_frame

    expected = label_frame(_read_like_the_engine(files), ["text"], classifier=classifier)
    actual = pd.read_parquet(output_dir)
    assert list(actual.columns) == ["ticket_id", "text", "input_status", *OUTPUT_COLUMNS]
    assert list(actual.columns) == list(expected.columns)
    assert actual.index.name == "input_row"
    assert actual.index.tolist() == list(range(len(expected)))
    for column in actual.columns:
        pairs = zip(actual[column].tolist(), expected[column].tolist(), strict=True)
        mismatched = [row for row, (a, e) in enumerate(pairs) if not _same(a, e)]
        assert not mismatched, f"{column} differs at rows {mismatched[:5]}"


def test_parquet_directory_on_a_running_cluster_matches_label_frame(
    cluster: Any, parquet_dir: Path, model_dir: Path, classifier: Classifier, tmp_path: Path
) -> None:
    output = tmp_path / "labeled"
    summary = label_dask(parquet_dir, output, scheduler=cluster.scheduler_address, model=model_dir)
    files, _ = find_input_files(parquet_dir)
    assert [f.name for f in files] == ["part.1.parquet", "part.2.parquet", "part.10.parquet"]
    assert summary.rows == 3 * ROWS_PER_FILE
    assert sum(summary.labels.values()) == summary.rows
    assert summary.errors > 0  # the empty, blank, missing and numeric cells
    partitions = len(list(output.glob("part.*.parquet")))
    assert f"in {partitions} partition(s) on 2 worker(s)" in summary.notes[0]
    assert_same_rows(output, files, classifier)
    # Nothing but the output is left beside it.
    assert [p.name for p in tmp_path.iterdir()] == ["labeled"]


def test_label_dask_command_with_scheduler_matches_label_frame(
    cluster: Any, csv_dir: Path, model_dir: Path, classifier: Classifier, tmp_path: Path
) -> None:
    output = tmp_path / "labeled"
    pattern = str(csv_dir / "tickets-*.csv")
    arguments = ["label-dask", pattern, "-o", str(output), "--model", str(model_dir)]
    arguments += ["--scheduler", cluster.scheduler_address, "--text-column", "text"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert "labeled 150 rows" in result.output
    files, kind = find_input_files(pattern)
    assert kind == ".csv"
    assert_same_rows(output, files, classifier)
    again = CliRunner().invoke(app, arguments)
    assert again.exit_code == 1
    assert "exists; use --force" in again.output
    forced = CliRunner().invoke(app, [*arguments, "--force", "--quiet"])
    assert forced.exit_code == 0, forced.output
    assert forced.output == ""
    assert_same_rows(output, files, classifier)


def test_local_cluster_started_for_the_run(
    cluster: Any, tmp_path: Path, model_dir: Path, classifier: Classifier
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _frame(7).iloc[:20].to_csv(folder / "small.csv", index=False)
    summary = label_dask(folder, tmp_path / "out", n_workers=1, model=model_dir)
    assert summary.rows == 20
    assert "on 1 worker(s)" in summary.notes[0]
    assert_same_rows(tmp_path / "out", [folder / "small.csv"], classifier)


def test_label_command_with_engine_dask(
    cluster: Any, parquet_dir: Path, model_dir: Path, classifier: Classifier, tmp_path: Path
) -> None:
    output = tmp_path / "labeled"
    arguments = ["label", str(parquet_dir), "-o", str(output), "--engine", "dask"]
    arguments += ["--scheduler", cluster.scheduler_address, "--model", str(model_dir)]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert_same_rows(output, find_input_files(parquet_dir)[0], classifier)


def test_header_only_input_exits_1(cluster: Any, model_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("ticket_id,text\n")
    arguments = ["label-dask", str(tmp_path / "empty.csv"), "-o", str(tmp_path / "out")]
    arguments += ["--scheduler", cluster.scheduler_address, "--model", str(model_dir)]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 1
    assert "nothing could be labeled" in result.output
    assert "it has no rows" in result.output


def test_truncated_parquet_leaves_no_output(
    cluster: Any, parquet_dir: Path, model_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    good = (parquet_dir / "part.1.parquet").read_bytes()
    (folder / "a.parquet").write_bytes(good)
    (folder / "b.parquet").write_bytes(good[: len(good) // 2])
    with pytest.raises(DaskEngineError, match=r"b\.parquet|cannot read"):
        label_dask(folder, tmp_path / "out", scheduler=cluster.scheduler_address, model=model_dir)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_ragged_csv_is_reported_and_leaves_no_output(
    cluster: Any, model_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    # Dask learns the columns from the first file; the second one fails on a worker.
    (folder / "a.csv").write_text("id,text\n1,sore legs\n")
    (folder / "b.csv").write_text("id,text\n2,sore back\n3,back pain,extra,cells\n")
    with pytest.raises(DaskEngineError, match=r"b\.csv.*line 3"):
        label_dask(folder, tmp_path / "out", scheduler=cluster.scheduler_address, model=model_dir)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_missing_text_column_lists_the_columns(
    cluster: Any, model_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "a.csv").write_text("id,notes\n1,sore legs\n")
    result = CliRunner().invoke(
        app, ["label-dask", str(tmp_path / "a.csv"), "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 1
    assert "notes" in result.output
    assert not (tmp_path / "out").exists()


def test_input_that_is_not_there_or_mixed(tmp_path: Path) -> None:
    with pytest.raises(DaskEngineError, match="no input files match"):
        find_input_files(str(tmp_path / "*.parquet"))
    with pytest.raises(DaskEngineError, match="no Parquet, CSV or TSV files"):
        find_input_files(tmp_path)
    (tmp_path / "a.csv").write_text("text\nhi\n")
    (tmp_path / "b.parquet").write_bytes(b"")
    with pytest.raises(DaskEngineError, match="mixes file kinds"):
        find_input_files(tmp_path)


def test_without_dask_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(DaskEngineError, match=r"pip install 'painclf\[dask\]'"):
        require_dask()
    result = CliRunner().invoke(app, ["label-dask", "in", "-o", "out"])
    assert result.exit_code == 1
    assert "painclf[dask]" in result.output
