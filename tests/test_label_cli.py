"""``painclf label`` on bad input: a clear message, no row dropped, exit 1 only if none labeled."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from classifier import batch
from classifier.batch import OUTPUT_COLUMNS
from classifier.cli import app

PAIN = "Sharp shooting pain down my left leg since Monday"
SORENESS = "My quads are sore after my first spin class yesterday"
OTHER = "How do I change the email address on my account?"
URGENT = "Since this morning I cannot control my bladder and my back hurts"

runner = CliRunner()


@pytest.fixture()
def label(model_dir: Path) -> Iterator[object]:
    """Run ``painclf label ARGS --model <session model>``."""

    def run(*args: str | Path, input: str | None = None) -> Result:
        return runner.invoke(
            app, ["label", *map(str, args), "--model", str(model_dir)], input=input
        )

    yield run


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def good_csv(path: Path, rows: int = 12) -> Path:
    texts = [SORENESS, PAIN, OTHER, URGENT]
    lines = ["id,text", *(f"{i},{texts[i % 4]} (ticket {i})" for i in range(rows))]
    return write(path, "\n".join(lines) + "\n")


def read_out(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, dtype=str)


# --- the bad-input matrix -------------------------------------------------------------------


def test_empty_file(label, tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", "")
    result = label(source, "-o", tmp_path / "out.csv")
    assert result.exit_code == 1
    assert f"{source} is empty" in result.stderr
    assert not (tmp_path / "out.csv").exists()


def test_header_only(label, tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", "id,text\n")
    result = label(source, "-o", tmp_path / "out.csv")
    assert result.exit_code == 1
    assert "nothing could be labeled" in result.stderr and "no rows" in result.stderr
    assert read_out(tmp_path / "out.csv").columns.tolist() == ["id", "text", *OUTPUT_COLUMNS]


def test_missing_text_column(label, tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", "id,notes\n1,my back hurts\n")
    result = label(source, "-o", tmp_path / "out.csv")
    assert result.exit_code == 1
    assert "no text column found" in result.stderr
    assert "columns found: id, notes" in result.stderr
    result = label(source, "-o", tmp_path / "out.csv", "--text-column", "body")
    assert result.exit_code == 1 and "no column 'body'" in result.stderr
    assert not (tmp_path / "out.csv").exists()


def test_empty_whitespace_nan_and_numeric_cells(label, tmp_path: Path) -> None:
    cells = ["", "   ", None, float("nan"), 12345, 3.5, PAIN]
    lines = [json.dumps({"id": i, "text": cell}) for i, cell in enumerate(cells)]
    source = write(tmp_path / "in.jsonl", "\n".join(lines) + "\n")  # NaN: Python's JSON extension
    result = label(source, "-o", tmp_path / "out.jsonl")
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == list(range(7))
    assert [r["status"] for r in rows] == ["error"] * 6 + ["ok"]
    assert [r["error"] for r in rows[:6]] == [
        "empty text",
        "empty text",
        "empty text",
        "empty text",
        "a number, not text (12345)",
        "a number, not text (3.5)",
    ]
    assert all(r["label"] == "other" and r["needs_review"] for r in rows[:6])
    assert rows[3]["text"] is None  # NaN is written as JSON null
    # A file with no usable text at all: everything comes out, but the exit code says so.
    write(tmp_path / "blank.csv", 'id,text\n1,""\n2,   \n3,42\n')
    result = label(tmp_path / "blank.csv", "-o", tmp_path / "blank.out.csv")
    assert result.exit_code == 1 and "every row has status error" in result.stderr
    assert len(read_out(tmp_path / "blank.out.csv")) == 3


def test_five_megabyte_cell(label, tmp_path: Path) -> None:
    huge = PAIN + ". " + "and it goes on " * (5 * 1024 * 1024 // 15)
    source = write(tmp_path / "in.csv", f'id,text\n1,"{huge}"\n2,{OTHER}\n')
    result = label(source, "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.stderr
    out = read_out(tmp_path / "out.csv")
    assert out["status"].tolist() == ["ok", "ok"]
    assert out["label"].tolist() == ["pain", "other"]
    assert out["error"].iat[0] == f"text cut to its first 20000 characters (was {len(huge)})"
    assert len(out["text"].iat[0]) == len(huge)  # the input cell itself is written unchanged


def test_unbalanced_quotes(label, tmp_path: Path) -> None:
    source = write(
        tmp_path / "in.csv",
        f'id,text\n1,{PAIN}\n2,"{SORENESS}\n3,{OTHER}\n4,"{URGENT}" she said\n5,{PAIN}\n',
    )
    result = label(source, "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.stderr
    assert "line 3: unbalanced quote" in result.stderr
    assert "line 5: stray quote" in result.stderr
    out = read_out(tmp_path / "out.csv")
    assert out["id"].tolist() == ["1", "2", "3", "4", "5"]
    assert out["status"].tolist() == ["ok", "error", "ok", "error", "ok"]
    assert out["label"].tolist() == ["pain", "", "other", "", "pain"]


def test_ragged_rows(label, tmp_path: Path) -> None:
    source = write(
        tmp_path / "in.tsv", f"id\ttext\tchannel\n1\t{PAIN}\temail\n2\t{OTHER}\n3\ta\tb\tc\td\n"
    )
    result = label(source, "-o", tmp_path / "out.tsv")
    assert result.exit_code == 0, result.stderr
    assert "line 3: 2 fields where the header has 3" in result.stderr
    assert "line 4: 5 fields where the header has 3" in result.stderr
    out = pd.read_csv(tmp_path / "out.tsv", sep="\t", keep_default_na=False, dtype=str)
    assert out["id"].tolist() == ["1", "2", "3"]
    assert out["status"].tolist() == ["ok", "error", "error"]
    assert out["text"].iat[1] == OTHER  # the fields that were there are kept


def test_latin1_file(label, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(f"id,text\n1,{PAIN}\n2,Caf\u00e9 charged me twice\n".encode("latin-1"))
    result = label(source, "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.stderr
    assert "line 3" in result.stderr and "Latin-1" in result.stderr
    out = read_out(tmp_path / "out.csv")
    assert out["text"].iat[1] == "Caf\u00e9 charged me twice"
    assert out["status"].tolist() == ["ok", "ok"]


def test_utf8_file_with_bom(label, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"\xef\xbb\xbftext,id\n" + f"{PAIN} \u2013 help,1\n".encode())
    result = label(source, "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.stderr
    out = read_out(tmp_path / "out.csv")
    assert out.columns[0] == "text" and out["label"].tolist() == ["pain"]
    assert not (tmp_path / "out.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_invalid_json_lines(label, tmp_path: Path) -> None:
    source = write(
        tmp_path / "in.jsonl",
        json.dumps({"id": 1, "text": PAIN})
        + "\n{'id': 2, 'text': 'single quotes'}\n"
        + json.dumps({"id": 3, "text": OTHER})
        + "\n",
    )
    result = label(source, "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.stderr
    assert "line 2: invalid JSON" in result.stderr
    out = read_out(tmp_path / "out.csv")
    assert out["id"].tolist() == ["1", "", "3"]
    assert out["status"].tolist() == ["ok", "error", "ok"]


def test_truncated_parquet(label, tmp_path: Path) -> None:
    pd.DataFrame({"text": [PAIN] * 50}).to_parquet(tmp_path / "full.parquet")
    data = (tmp_path / "full.parquet").read_bytes()
    (tmp_path / "in.parquet").write_bytes(data[: len(data) // 2])
    result = label(tmp_path / "in.parquet", "-o", tmp_path / "out.csv")
    assert result.exit_code == 1
    assert f"cannot read {tmp_path / 'in.parquet'} as Parquet" in result.stderr
    assert "truncated" in result.stderr
    assert not (tmp_path / "out.csv").exists()


def test_missing_output_directory(label, tmp_path: Path) -> None:
    source = good_csv(tmp_path / "in.csv")
    result = label(source, "-o", tmp_path / "nope" / "out.csv")
    assert result.exit_code == 1
    assert f"output directory {tmp_path / 'nope'} does not exist" in result.stderr


def test_read_only_output_directory(label, tmp_path: Path) -> None:
    source = good_csv(tmp_path / "in.csv")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    immutable = False
    try:
        if os.geteuid() == 0:
            # root ignores permission bits; the immutable attribute stops it too.
            chattr = shutil.which("chattr")
            done = chattr and subprocess.run([chattr, "+i", str(locked)], capture_output=True)
            if not done or done.returncode != 0:
                pytest.skip("running as root without chattr: cannot make a read-only directory")
            immutable = True
        result = label(source, "-o", locked / "out.csv")
        assert result.exit_code == 1
        assert f"cannot write to the output directory {locked}" in result.stderr
        assert list(locked.iterdir()) == []
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(locked)], check=True)
        locked.chmod(0o755)


def test_ctrl_c_leaves_nothing_and_resume_completes(
    label, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = good_csv(tmp_path / "in.csv", rows=30)
    assert label(source, "-o", tmp_path / "reference.csv", "--chunk-size", "4").exit_code == 0
    calls = {"n": 0}
    real_add = batch.LabelSummary.add

    def add_then_interrupt(self, *args, **kwargs) -> None:
        # Ctrl-C lands after chunk 3 is appended but before its progress is recorded.
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        real_add(self, *args, **kwargs)

    monkeypatch.setattr(batch.LabelSummary, "add", add_then_interrupt)
    target = tmp_path / "out.csv"
    result = label(source, "-o", target, "--chunk-size", "4")
    assert result.exit_code == 130
    assert "interrupted after 8 rows" in result.stderr and "--resume" in result.stderr
    assert not target.exists()
    monkeypatch.setattr(batch.LabelSummary, "add", real_add)
    result = label(source, "-o", target, "--chunk-size", "4", "--resume")
    assert result.exit_code == 0, result.stderr
    assert "8 done by an earlier run" in result.stderr
    assert target.read_bytes() == (tmp_path / "reference.csv").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv", "reference.csv"]


# --- the ordinary path ----------------------------------------------------------------------


def test_label_writes_split_files_report_and_summary(label, tmp_path: Path) -> None:
    source = good_csv(tmp_path / "in.csv", rows=8)
    result = label(
        source, "--split-by", "label", "--report", tmp_path / "report.html", "--chunk-size", "3"
    )
    assert result.exit_code == 0, result.stderr
    out = read_out(tmp_path / "in.labeled.csv")
    assert out["id"].tolist() == [str(i) for i in range(8)]
    assert out["label"].tolist() == ["soreness", "pain", "other", "pain"] * 2
    # Each row in exactly one split file: urgent rows only in .urgent; no errors, no file.
    for name, rows in (("soreness", 2), ("pain", 2), ("other", 2), ("urgent", 2)):
        assert len(read_out(tmp_path / f"in.labeled.{name}.csv")) == rows
    assert not (tmp_path / "in.labeled.errors.csv").exists()
    assert "labeled 8 rows" in result.stderr and "rows/s" in result.stderr
    assert "urgent" in result.stderr and "needs review" in result.stderr
    assert "text column: text" in result.stderr and "model: " in result.stderr
    assert (tmp_path / "report.html").read_text().startswith("<!doctype html>")
    assert result.stdout == ""


def test_existing_output_needs_force(label, tmp_path: Path) -> None:
    source = good_csv(tmp_path / "in.csv", rows=2)
    write(tmp_path / "out.csv", "old\n")
    result = label(source, "-o", tmp_path / "out.csv")
    assert result.exit_code == 1 and "already exists; use --force" in result.stderr
    assert (tmp_path / "out.csv").read_text() == "old\n"
    assert label(source, "-o", tmp_path / "out.csv", "--force").exit_code == 0


def test_stdin_to_stdout(label) -> None:
    lines = [json.dumps({"id": i, "message": t}) for i, t in enumerate([PAIN, OTHER])]
    result = label("-", "--quiet", input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["id"], r["label"]) for r in rows] == [(0, "pain"), (1, "other")]
    assert result.stderr == ""
    result = label("-", "-o", "-", "--quiet", input=f"id;text\n1;{PAIN}\n")
    assert result.stdout.splitlines()[0] == ";".join(["id", "text", *OUTPUT_COLUMNS])


def test_show_prints_the_labeled_rows(label, tmp_path: Path) -> None:
    source = good_csv(tmp_path / "tickets.csv", rows=4)
    result = label(source, "-o", tmp_path / "out.csv", "--quiet", "--show")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["id", "label", "urgent", "conf"]
    assert [line.split()[0] for line in lines[1:5]] == ["0", "1", "2", "3"]
    assert lines[4].split()[1] in ("pain", "other") and "YES" in lines[4]  # ticket 3 is urgent


def test_dask_engine_refuses_local_only_options(label, tmp_path: Path) -> None:
    source = good_csv(tmp_path / "tickets.csv", rows=4)
    result = label(source, "-o", tmp_path / "out", "--engine", "dask", "--resume", "--jobs", "2")
    assert result.exit_code == 2
    assert "--resume, --jobs work with --engine local only" in result.output
