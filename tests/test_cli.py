"""Tests for the ``painclf`` command line: exit codes, output, clear errors, no tracebacks."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from classifier.cli import app

runner = CliRunner()

LABELED_ROWS = [
    ("my quads are sore two days after my first spin class", "soreness", 0),
    ("arms feel worked and achy after the rowing session", "soreness", 0),
    ("stiff lower back the morning after gardening, loosens up once I move", "soreness", 0),
    ("felt something snap in my back lifting the dog", "pain", 0),
    ("shooting pain into my right buttock whenever I sit", "pain", 0),
    ("my neck has ached every day for two months", "pain", 0),
    ("Since last night I can't pee and my back is agony", "pain", 1),
    ("please send me the invoice for March", "other", 0),
    ("the day 5 video will not play on my tablet", "other", 0),
    ("I have crushing chest pain and I'm sweating", "other", 1),
]


def invoke(*args: str, input: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=input)


def assert_clean_failure(result: Result) -> None:
    """Exit code 1 with a one-line painclf error, never a Python traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


def write_csv(path: Path, rows: list[tuple[str, str, int]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "urgent"])
        writer.writerows(rows)
    return path


BROKEN_CSV = (
    "text,label,urgent\n"  # line 1
    "my calves are sore after the run,soreness,0\n"  # line 2
    "my knee hurts going downstairs,painful,0\n"  # line 3: unknown label
    '"",pain,0\n'  # line 4: empty text
    "I cannot log in,other,0\n"  # line 5: conflicts with line 6
    "i cannot log in!,pain,0\n"  # line 6
    '"this quote is never closed,pain,0\n'  # line 7: unbalanced quote
    "another row,other,0\n"
)


@pytest.fixture
def broken_csv(tmp_path: Path) -> Path:
    path = tmp_path / "broken.csv"
    path.write_text(BROKEN_CSV, encoding="utf-8")
    return path


# --- predict ---------------------------------------------------------------------------------


def test_predict_prints_the_label(model_dir: Path) -> None:
    result = invoke(
        "predict", "I slipped on the ice and now my back hurts", "--model", str(model_dir)
    )
    assert result.exit_code == 0, result.output
    assert "label       pain" in result.stdout
    assert "urgent      no" in result.stdout
    assert "evidence" in result.stdout


def test_predict_shows_an_urgent_reason(model_dir: Path) -> None:
    result = invoke("predict", "since this morning I can't pee", "--model", str(model_dir))
    assert result.exit_code == 0, result.output
    assert "urgent      YES: loss of bladder or bowel control" in result.stdout


def test_predict_json_prints_one_object_per_text(model_dir: Path) -> None:
    texts = ["my back hurts", "how do I reset my password", ""]
    result = invoke("predict", *texts, "--json", "--model", str(model_dir))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(texts)
    objects = [json.loads(line) for line in lines]
    assert [o["label"] for o in objects][:2] == ["pain", "other"]
    assert objects[2]["needs_review"] is True
    assert {"probabilities", "confidence", "urgent", "evidence", "notes"} <= set(objects[0])


def test_predict_reads_lines_from_stdin(model_dir: Path) -> None:
    result = invoke(
        "predict", "-", "--json", "--model", str(model_dir), input="my back hurts\nthank you!\n"
    )
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["label"] for line in result.stdout.splitlines()] == ["pain", "other"]


def test_predict_with_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    result = invoke("predict", "my back hurts", "--model", str(tmp_path / "no-such-model"))
    assert_clean_failure(result)
    assert "painclf: error: no model" in result.stderr


# --- evaluate --------------------------------------------------------------------------------


def test_evaluate_writes_a_json_report(model_dir: Path, tmp_path: Path) -> None:
    data = write_csv(tmp_path / "tiny.csv", LABELED_ROWS)
    out = tmp_path / "report.json"
    result = invoke("evaluate", str(data), "--model", str(model_dir), "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.stdout and "urgent: recall" in result.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["metrics"]["n"] == len(LABELED_ROWS)
    assert report["metrics"]["urgent"]["support"] == 2
    assert report["model_version"] == model_dir.name
    assert f"JSON written to {out}" in result.stderr


def test_evaluate_a_broken_file_names_the_lines(model_dir: Path, broken_csv: Path) -> None:
    result = invoke("evaluate", str(broken_csv), "--model", str(model_dir))
    assert_clean_failure(result)
    assert f"{broken_csv}:3" in result.stderr and f"{broken_csv}:7" in result.stderr


def test_evaluate_a_missing_file_is_a_clear_error(model_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    result = invoke("evaluate", str(missing), "--model", str(model_dir))
    assert_clean_failure(result)
    assert f"{missing}: error: file not found" in result.stderr


# --- validate --------------------------------------------------------------------------------


def test_validate_a_good_file(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "good.csv", LABELED_ROWS)
    result = invoke("validate", str(data))
    assert result.exit_code == 0, result.output
    assert f"{len(LABELED_ROWS)} rows in 1 file(s): 0 error(s)" in result.stderr


def test_validate_a_broken_file_names_the_file_and_lines(broken_csv: Path) -> None:
    result = invoke("validate", str(broken_csv))
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert f"{broken_csv}:3: error: unknown label 'painful'" in out
    assert f"{broken_csv}:4: error: empty text" in out
    assert f"{broken_csv}:5: error: same text with conflicting labels" in out
    assert f"{broken_csv}:6" in out, "both conflicting lines are named"
    assert f"{broken_csv}:7: error: malformed CSV" in out
    assert "error(s)" in result.stderr
    assert "Traceback" not in result.output


def test_validate_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    result = invoke("validate", str(missing))
    assert_clean_failure(result)
    assert f"{missing}: error: file not found" in result.stdout


# --- train (failures only: the smoke test trains) --------------------------------------------


def test_train_on_broken_data_fails_and_writes_no_model(broken_csv: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    result = invoke("train", "--data", str(broken_csv), "--models-dir", str(models))
    assert_clean_failure(result)
    assert f"{broken_csv}:3" in result.stderr and f"{broken_csv}:4" in result.stderr
    assert not models.exists() or not any(models.iterdir())


def test_train_on_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    models = tmp_path / "models"
    result = invoke("train", "--data", str(missing), "--models-dir", str(models))
    assert_clean_failure(result)
    assert f"{missing}: error: file not found" in result.stderr
    assert not models.exists() or not any(models.iterdir())


def test_no_arguments_shows_the_commands() -> None:
    result = invoke()
    for command in ("train", "predict", "evaluate", "validate"):
        assert command in result.output
