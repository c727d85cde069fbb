"""Labeled files in the encodings spreadsheets export: read, not refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifier.dataset import read_labeled

ROWS = "text,label\nsore quads after squats,soreness\nhow do I cancel,other\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-32"])
def test_a_labeled_csv_is_read_in_every_bom_encoding(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "labeled.csv"
    path.write_bytes(ROWS.encode(encoding))
    frame, problems, _ = read_labeled([path])
    assert [p for p in problems if p.severity == "error"] == []
    assert frame["text"].tolist() == ["sore quads after squats", "how do I cancel"]
    assert frame["label"].tolist() == ["soreness", "other"]


def test_deep_json_in_a_labeled_file_is_a_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "labeled.jsonl"
    deep = '{"text": ' + "[" * 5000 + "]" * 5000 + ', "label": "other"}'
    path.write_text('{"text": "sore legs", "label": "soreness"}\n' + deep + "\n", encoding="utf-16")
    frame, problems, _ = read_labeled([path])
    assert frame["text"].tolist() == ["sore legs"]
    assert any(p.line == 2 and "nested too deeply" in p.message for p in problems)
