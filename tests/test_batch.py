"""``label_frame`` and ``label_file``: every row out, in order, with a status; resumable."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from classifier.batch import (
    OUTPUT_COLUMNS,
    LabelError,
    LabelInterrupted,
    find_text_columns,
    label_file,
    label_frame,
)
from classifier.config import MAX_TEXT_CHARS
from classifier.predict import Classifier

SORENESS = "My hamstrings are really sore after yesterday's deadlifts, nothing sharp."
PAIN = "Sharp shooting pain down my left leg since Monday, worse when I cough."
OTHER = "How do I change the email address on my account?"
URGENT = "Since this morning I can't control my bladder and my back hurts a lot."
COMPLAINTS = (SORENESS, PAIN, OTHER, URGENT)


def tickets(rows: int) -> pd.DataFrame:
    """A ticket export: id, channel, and a text that says which row it is."""
    return pd.DataFrame(
        {
            "ticket_id": [f"T{i:04d}" for i in range(rows)],
            "channel": ["email" if i % 3 else "chat" for i in range(rows)],
            "text": [f"{COMPLAINTS[i % len(COMPLAINTS)]} (ticket {i})" for i in range(rows)],
        }
    )


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


# --- find_text_columns ----------------------------------------------------------------------


def test_find_text_columns_recognises_common_names() -> None:
    assert find_text_columns(["ticket_id", "created", "Ticket Text"]) == ["Ticket Text"]
    assert find_text_columns(["id", "complaint"]) == ["complaint"]


def test_find_text_columns_joins_requested_columns_ignoring_case() -> None:
    assert find_text_columns(["id", "Subject", "Body"], ["subject", "BODY"]) == ["Subject", "Body"]


def test_find_text_columns_ambiguous_lists_the_columns() -> None:
    with pytest.raises(ValueError, match=r"several columns.*body, description.*columns found"):
        find_text_columns(["id", "body", "description"])


def test_find_text_columns_missing_lists_the_columns() -> None:
    with pytest.raises(ValueError, match=r"no column 'message'.*columns found: id, notes"):
        find_text_columns(["id", "notes"], ["message"])


# --- label_frame ----------------------------------------------------------------------------


def test_label_frame_keeps_input_columns_index_and_order(classifier: Classifier) -> None:
    frame = tickets(8)
    frame.index = [70, 10, 50, 30, 20, 60, 0, 40]
    labeled = label_frame(frame, ["text"], classifier=classifier)
    assert list(labeled.columns) == [*frame.columns, *OUTPUT_COLUMNS]
    assert list(labeled.index) == list(frame.index)
    pd.testing.assert_frame_equal(labeled[frame.columns], frame)
    assert labeled["label"].tolist()[:4] == ["soreness", "pain", "other", "pain"]
    assert labeled["status"].eq("ok").all() and labeled["error"].eq("").all()
    urgent = labeled.iloc[3]
    assert urgent["urgent"] and "bladder" in urgent["urgent_reasons"].lower()
    probabilities = labeled[["p_soreness", "p_pain", "p_other"]].sum(axis=1)
    assert np.allclose(probabilities, 1.0, atol=1e-3)


def test_label_frame_never_raises_on_bad_cells(classifier: Classifier) -> None:
    cells = ["", "   \n\t", np.nan, None, 12345, "12345", 3.5, "?!", PAIN]
    frame = pd.DataFrame({"text": pd.Series(cells, dtype=object)})
    labeled = label_frame(frame, ["text"], classifier=classifier)
    assert len(labeled) == len(cells)
    bad = labeled.iloc[:-1]
    assert bad["status"].eq("error").all()
    assert bad["label"].eq("other").all() and bad["needs_review"].all()
    assert not bad["urgent"].any()
    assert bad["error"].tolist() == [
        "empty text",
        "empty text",
        "empty text",
        "empty text",
        "a number, not text (12345)",
        "no words to classify",
        "a number, not text (3.5)",
        "no words to classify",
    ]
    assert labeled.iloc[-1][["label", "status", "error"]].tolist() == ["pain", "ok", ""]


def test_label_frame_joins_several_text_columns(classifier: Classifier) -> None:
    frame = pd.DataFrame(
        {
            "subject": ["Leg pain", None, "Sore quads after my first spin class"],
            "body": ["Shooting down to my foot, numb toes", SORENESS, None],
        }
    )
    labeled = label_frame(frame, ["subject", "body"], classifier=classifier)
    assert labeled["label"].tolist() == ["pain", "soreness", "soreness"]
    assert labeled["status"].tolist() == ["ok", "ok", "ok"]


def test_label_frame_labels_a_huge_cell_from_its_prefix(classifier: Classifier) -> None:
    huge = PAIN + " " + "blah " * (5 * 1024 * 1024 // 5)
    labeled = label_frame(pd.DataFrame({"text": [huge]}), ["text"], classifier=classifier)
    row = labeled.iloc[0]
    assert row["status"] == "ok" and row["label"] == "pain"
    assert row["error"] == f"text cut to its first {MAX_TEXT_CHARS} characters (was {len(huge)})"


def test_label_frame_renames_input_columns_named_like_outputs(classifier: Classifier) -> None:
    frame = pd.DataFrame({"text": [PAIN], "label": ["soreness"]})
    labeled = label_frame(frame, ["text"], classifier=classifier)
    assert list(labeled.columns) == ["text", "input_label", *OUTPUT_COLUMNS]
    assert labeled[["input_label", "label"]].iloc[0].tolist() == ["soreness", "pain"]


# --- label_file: formats, order, bad rows ---------------------------------------------------


def test_label_file_matches_label_frame_row_for_row(classifier: Classifier, tmp_path: Path) -> None:
    frame = tickets(23)
    source = write_csv(tmp_path / "tickets.csv", frame)
    summary = label_file(source, tmp_path / "out.csv", chunk_size=5, classifier=classifier)
    out = pd.read_csv(tmp_path / "out.csv", dtype={"error": str}, keep_default_na=False)
    expected = label_frame(frame, ["text"], classifier=classifier)
    assert out["ticket_id"].tolist() == frame["ticket_id"].tolist()
    assert out["label"].tolist() == expected["label"].tolist()
    assert out["urgent"].tolist() == expected["urgent"].tolist()
    assert summary.rows == 23 and summary.errors == 0
    assert summary.labels == {"soreness": 6, "pain": 11, "other": 6}
    assert summary.urgent == 5
    assert summary.to_dict()["shares"]["pain"] == round(11 / 23, 4)


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl", ".csv.gz", ".tsv"])
def test_output_format_follows_the_extension(
    classifier: Classifier, tmp_path: Path, suffix: str
) -> None:
    frame = tickets(7)
    source = write_csv(tmp_path / "tickets.csv", frame)
    target = tmp_path / f"out{suffix}"
    label_file(source, target, chunk_size=3, classifier=classifier)
    if suffix == ".parquet":
        out = pd.read_parquet(target)
        assert pq.ParquetFile(target).metadata.num_row_groups == 3
    elif suffix == ".jsonl":
        out = pd.DataFrame([json.loads(line) for line in target.read_text().splitlines()])
    else:
        out = pd.read_csv(target, sep="\t" if suffix == ".tsv" else ",")
    assert list(out.columns) == [*frame.columns, *OUTPUT_COLUMNS]
    assert out["ticket_id"].tolist() == frame["ticket_id"].tolist()
    assert out["status"].eq("ok").all()


def test_parquet_input_columns_keep_their_types(classifier: Classifier, tmp_path: Path) -> None:
    frame = tickets(6)
    frame["priority"] = pd.array([1, None, 3, 4, None, 6], dtype="Int64")
    frame["opened"] = pd.date_range("2026-01-01", periods=6, freq="D", tz="UTC")
    frame.to_parquet(tmp_path / "in.parquet", row_group_size=4)
    label_file(
        tmp_path / "in.parquet", tmp_path / "out.parquet", chunk_size=5, classifier=classifier
    )
    schema_in = pq.read_schema(tmp_path / "in.parquet")
    schema_out = pq.read_schema(tmp_path / "out.parquet")
    for name in ("priority", "opened", "ticket_id"):
        assert schema_out.field(name).type == schema_in.field(name).type
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out["priority"].tolist()[:3] == [1, None, 3] or out["priority"].isna().tolist() == [
        False,
        True,
        False,
        False,
        True,
        False,
    ]
    assert out["ticket_id"].tolist() == frame["ticket_id"].tolist()


def test_jsonl_invalid_lines_become_error_rows_in_place(
    classifier: Classifier, tmp_path: Path
) -> None:
    lines = [
        json.dumps({"id": 1, "text": PAIN}),
        '{"id": 2, "text": "sore calves after running"',
        "",
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": 4, "text": OTHER, "extra": True}),
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    summary = label_file(source, tmp_path / "out.jsonl", chunk_size=2, classifier=classifier)
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [row["status"] for row in out] == ["ok", "error", "error", "ok"]
    assert out[1]["error"].startswith("line 2: invalid JSON")
    assert out[2]["error"].startswith("line 4: a JSON list, not an object")
    assert out[1]["label"] is None and out[1]["needs_review"] is True
    assert [row["id"] for row in out] == [1, None, None, 4]
    assert summary.problem_count == 2  # two bad lines
    # A key first seen late still gets its column: the file is scanned for keys first.
    assert out[3]["extra"] is True and out[0]["extra"] is None


def test_csv_bad_rows_are_reported_with_line_numbers(
    classifier: Classifier, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        "id,text\n"
        '1,"My calves are sore after the hike\n'  # line 2: a quote that never closes properly
        "2,Sharp shooting pain down my left leg since Monday\n"
        f'3,"{OTHER}"\n'
        "4,too,many,fields\n"
        "5\n"
        '6,"a quoted ""word"" and a sharp pain in my lower back"\n'
    )
    summary = label_file(source, tmp_path / "out.csv", classifier=classifier)
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert out["id"].tolist() == [1, 2, 3, 4, 5, 6]
    assert out["status"].tolist() == ["error", "ok", "ok", "error", "error", "ok"]
    assert out["label"].tolist()[1:3] == ["pain", "other"]
    errors = out["error"].tolist()
    assert errors[0].startswith("line 2: unbalanced quote")
    assert errors[3].startswith("line 5: 4 fields where the header has 2")
    assert errors[4].startswith("line 6: 1 field where the header has 2")
    assert [p.split(": ")[1] for p in summary.problems] == ["line 2", "line 5", "line 6"]
    assert summary.labeled == 3


def test_unclosed_quote_at_the_end_of_the_file(classifier: Classifier, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(f'id,text\n1,"{PAIN}"\n2,"{SORENESS}\n')
    label_file(source, tmp_path / "out.csv", classifier=classifier)
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert out["status"].tolist() == ["ok", "error"]
    assert out["error"].iat[1] == (
        "line 3: unbalanced quote: the quoted field opened here never closes; row not labeled"
    )
    assert out["text"].iat[1] == SORENESS


def test_latin1_and_bom_files_are_read(classifier: Classifier, tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        "id;text\n1;Caf\u00e9 staff: my back is sore after the gym\n".encode("latin-1")
    )
    summary = label_file(latin, tmp_path / "latin.out.csv", classifier=classifier)
    out = pd.read_csv(tmp_path / "latin.out.csv", sep=";")
    assert out["text"].iat[0].startswith("Caf\u00e9 staff")
    assert any("line 2" in n and "Latin-1" in n for n in summary.notes)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b'\xef\xbb\xbfbody,id\n"' + SORENESS.encode() + b'",7\n')
    label_file(bom, tmp_path / "bom.out.csv", classifier=classifier)
    out = pd.read_csv(tmp_path / "bom.out.csv")
    assert list(out.columns[:2]) == ["body", "id"]
    assert out["label"].iat[0] == "soreness"


def test_gzip_input_is_read(classifier: Classifier, tmp_path: Path) -> None:
    source = tmp_path / "in.csv.gz"
    source.write_bytes(gzip.compress(tickets(4).to_csv(index=False).encode()))
    label_file(source, tmp_path / "out.csv", classifier=classifier)
    assert pd.read_csv(tmp_path / "out.csv")["label"].tolist() == [
        "soreness",
        "pain",
        "other",
        "pain",
    ]


def test_empty_and_header_only_inputs(classifier: Classifier, tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(LabelError, match=r"empty\.csv is empty"):
        label_file(tmp_path / "empty.csv", tmp_path / "out.csv", classifier=classifier)
    assert not (tmp_path / "out.csv").exists()
    (tmp_path / "header.csv").write_text("id,text\n")
    summary = label_file(tmp_path / "header.csv", tmp_path / "out.parquet", classifier=classifier)
    assert summary.rows == 0 and summary.labeled == 0
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert list(out.columns) == ["id", "text", *OUTPUT_COLUMNS] and len(out) == 0


# --- resume, parallelism, routing -----------------------------------------------------------


class Stop:
    """An ``on_chunk`` callback that presses Ctrl-C after ``after`` chunks."""

    def __init__(self, after: int) -> None:
        self.after = after

    def __call__(self, chunks_done: int, rows_done: int) -> None:
        if chunks_done == self.after:
            raise KeyboardInterrupt


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl.gz"])
def test_interrupted_run_resumes_to_an_identical_file(
    classifier: Classifier, tmp_path: Path, suffix: str
) -> None:
    source = write_csv(tmp_path / "tickets.csv", tickets(23))
    reference = tmp_path / f"reference{suffix}"
    label_file(source, reference, chunk_size=4, classifier=classifier, split_by="label")
    target = tmp_path / f"out{suffix}"
    with pytest.raises(LabelInterrupted) as stopped:
        label_file(
            source, target, chunk_size=4, classifier=classifier, split_by="label", on_chunk=Stop(2)
        )
    assert stopped.value.rows_done == 8
    assert not target.exists() and not (tmp_path / f"out.pain{suffix}").exists()
    seen: list[int] = []
    summary = label_file(
        source,
        target,
        chunk_size=4,
        classifier=classifier,
        split_by="label",
        resume=True,
        on_chunk=lambda chunks, rows: seen.append(chunks),
    )
    assert seen == [3, 4, 5, 6]  # chunks 1 and 2 were not labeled again
    assert summary.resumed_rows == 8 and summary.rows == 23
    assert target.read_bytes() == reference.read_bytes()
    for name in ("soreness", "pain", "other", "urgent"):
        assert (tmp_path / f"out.{name}{suffix}").read_bytes() == (
            tmp_path / f"reference.{name}{suffix}"
        ).read_bytes()
    # No error rows: no errors file, in either run.
    assert not (tmp_path / f"out.errors{suffix}").exists()
    assert not (tmp_path / f"reference.errors{suffix}").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_resume_refuses_a_changed_input(classifier: Classifier, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "tickets.csv", tickets(10))
    with pytest.raises(KeyboardInterrupt):
        label_file(
            source, tmp_path / "out.csv", chunk_size=3, classifier=classifier, on_chunk=Stop(1)
        )
    write_csv(source, tickets(12))
    with pytest.raises(LabelError, match=r"different .*input_size"):
        label_file(source, tmp_path / "out.csv", chunk_size=3, classifier=classifier, resume=True)


def test_a_run_without_resume_starts_over(classifier: Classifier, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "tickets.csv", tickets(10))
    with pytest.raises(KeyboardInterrupt):
        label_file(
            source, tmp_path / "out.csv", chunk_size=3, classifier=classifier, on_chunk=Stop(2)
        )
    summary = label_file(source, tmp_path / "out.csv", chunk_size=3, classifier=classifier)
    assert summary.resumed_rows == 0 and summary.rows == 10
    assert any("discarded the partial output" in note for note in summary.notes)
    assert len(pd.read_csv(tmp_path / "out.csv")) == 10
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_two_jobs_write_the_same_file_as_one(model_dir: Path, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "tickets.csv", tickets(40))
    one = label_file(source, tmp_path / "one.csv", chunk_size=6, jobs=1, model=str(model_dir))
    two = label_file(source, tmp_path / "two.csv", chunk_size=6, jobs=2, model=str(model_dir))
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()
    assert one.labels == two.labels and one.urgent == two.urgent


def test_split_by_label_writes_one_file_per_queue(classifier: Classifier, tmp_path: Path) -> None:
    frame = tickets(9)
    frame.loc[4, "text"] = "   "
    source = write_csv(tmp_path / "tickets.csv", frame)
    summary = label_file(source, tmp_path / "out.csv", split_by="label", classifier=classifier)
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    queue = (out["status"] == "ok") & ~out["urgent"]
    for name in ("soreness", "pain", "other"):
        part = pd.read_csv(tmp_path / f"out.{name}.csv", keep_default_na=False)
        wanted = out.loc[queue & (out["label"] == name), "ticket_id"].tolist()
        assert part["ticket_id"].tolist() == wanted
    urgent = pd.read_csv(tmp_path / "out.urgent.csv")
    assert urgent["ticket_id"].tolist() == out.loc[out["urgent"], "ticket_id"].tolist()
    errors = pd.read_csv(tmp_path / "out.errors.csv")
    assert errors["ticket_id"].tolist() == ["T0004"]
    assert len(summary.split_files) == 5
    # The split files partition the rows: each row in exactly one of them.
    parts = [
        pd.read_csv(tmp_path / f"out.{name}.csv", keep_default_na=False)["ticket_id"].tolist()
        for name in ("soreness", "pain", "other", "urgent", "errors")
    ]
    assert sorted(t for part in parts for t in part) == sorted(out["ticket_id"].tolist())


def test_split_by_label_writes_no_errors_file_without_errors(
    classifier: Classifier, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "tickets.csv", tickets(4))
    summary = label_file(source, tmp_path / "out.csv", split_by="label", classifier=classifier)
    assert summary.errors == 0
    assert not (tmp_path / "out.errors.csv").exists()
    assert str(tmp_path / "out.errors.csv") not in summary.split_files
    assert len(summary.split_files) == 4


def test_existing_output_is_kept_without_force(classifier: Classifier, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "tickets.csv", tickets(3))
    (tmp_path / "out.csv").write_text("keep me\n")
    with pytest.raises(LabelError, match="already exists; use --force"):
        label_file(source, tmp_path / "out.csv", classifier=classifier)
    assert (tmp_path / "out.csv").read_text() == "keep me\n"
    label_file(source, tmp_path / "out.csv", classifier=classifier, force=True)
    assert len(pd.read_csv(tmp_path / "out.csv")) == 3


def test_report_is_self_contained_and_escapes_ticket_text(
    classifier: Classifier, tmp_path: Path
) -> None:
    frame = tickets(4)
    frame.loc[3, "text"] = URGENT + " <script>alert('x')</script>"
    source = write_csv(tmp_path / "tickets.csv", frame)
    summary = label_file(
        source, tmp_path / "out.csv", report=tmp_path / "r.html", classifier=classifier
    )
    page = (tmp_path / "r.html").read_text()
    # The ticket's markup is cleaned away (the report shows the text as painclf read it)
    # and what remains is escaped; the page's only script is its own table sorter.
    assert "<script>alert" not in page and "alert(&#x27;x&#x27;)" in page
    assert page.count("<script>") == 1
    assert "http" not in page
    assert "<svg" in page and "Urgent tickets (1)" in page
    assert summary.urgent_tickets[0]["id"] == "T0003"


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_reasons_and_evidence_are_lists_in_jsonl_and_parquet(
    classifier: Classifier, tmp_path: Path, suffix: str
) -> None:
    source = write_csv(tmp_path / "tickets.csv", tickets(4))
    label_file(source, tmp_path / f"out{suffix}", classifier=classifier)
    if suffix == ".parquet":
        out = pq.read_table(tmp_path / "out.parquet").to_pylist()
    else:
        out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    urgent = out[3]
    assert isinstance(urgent["urgent_reasons"], list) and urgent["urgent_reasons"]
    assert all(isinstance(row["evidence"], list) for row in out)
    assert out[2]["urgent_reasons"] == []
    csv_out = tmp_path / "out.csv"
    label_file(source, csv_out, classifier=classifier)
    joined = pd.read_csv(csv_out, keep_default_na=False)
    assert joined["urgent_reasons"][3] == "; ".join(urgent["urgent_reasons"])
    assert joined["evidence"][0] == "; ".join(out[0]["evidence"])


def test_an_empty_description_falls_back_to_the_subject(
    classifier: Classifier, tmp_path: Path
) -> None:
    frame = pd.DataFrame(
        {
            "id": ["A", "B", "C"],
            "Subject": ["Sore legs", "Sharp shooting pain down my left leg since Monday", ""],
            "Description": [SORENESS, "", ""],
        }
    )
    source = write_csv(tmp_path / "tickets.csv", frame)
    summary = label_file(source, tmp_path / "out.csv", classifier=classifier)
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert out["status"].tolist() == ["ok", "ok", "error"]
    assert out["error"][1] == "Description empty: text read from Subject"
    assert out["label"][1] == "pain"
    assert summary.text_columns == ["Description"] and summary.fallback_columns == ["Subject"]
    assert "text column: Description (when empty: Subject)" in summary.format()


def test_a_column_named_with_text_columns_does_not_fall_back(
    classifier: Classifier, tmp_path: Path
) -> None:
    frame = pd.DataFrame({"id": ["A"], "Subject": ["Sore legs"], "Description": [""]})
    source = write_csv(tmp_path / "tickets.csv", frame)
    summary = label_file(
        source, tmp_path / "out.csv", classifier=classifier, text_columns=["Description"]
    )
    assert summary.errors == 1 and summary.fallback_columns == []


def test_excel_in_and_out_keeps_every_row_with_excel_row_numbers(
    classifier: Classifier, tmp_path: Path
) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["ticket_id", "text"])
    sheet.append(["T1", PAIN])
    sheet.append([])  # a blank row is skipped, as a blank CSV line is
    sheet.append(["T2", SORENESS, "a cell beyond the header"])
    sheet.append(["T3", URGENT])
    book.save(tmp_path / "in.xlsx")
    summary = label_file(tmp_path / "in.xlsx", tmp_path / "out.xlsx", classifier=classifier)
    out = pd.read_excel(tmp_path / "out.xlsx", dtype=str, keep_default_na=False)
    assert out["ticket_id"].tolist() == ["T1", "T2", "T3"]
    assert out["status"].tolist() == ["ok", "error", "ok"]
    assert out["error"][1].startswith("row 4: 1 cell(s) beyond the header's 2 columns")
    assert out["label"][0] == "pain" and out["urgent"][2] == "True"
    assert summary.rows == 3 and summary.problem_count == 1


def test_excel_output_says_what_a_cell_could_not_hold(
    classifier: Classifier, tmp_path: Path
) -> None:
    frame = pd.DataFrame(
        {"ticket_id": ["T1", "T2"], "text": [URGENT + "\x07" + "x" * 40_000, PAIN]}
    )
    source = write_csv(tmp_path / "in.csv", frame)
    label_file(source, tmp_path / "out.xlsx", classifier=classifier)
    out = pd.read_excel(tmp_path / "out.xlsx", dtype=str, keep_default_na=False)
    # Excel cannot hold a 40,000-character cell or a bell character: said, not hidden.
    assert len(out["text"][0]) == 32_767 and "\ufffd" in out["text"][0]
    assert "32,767" in out["error"][0]
    assert out["ticket_id"].tolist() == ["T1", "T2"] and out["error"][1] == ""


def test_an_interrupted_excel_run_resumes_to_the_same_rows(
    classifier: Classifier, tmp_path: Path
) -> None:
    source = tmp_path / "in.xlsx"
    tickets(23).to_excel(source, index=False)
    label_file(source, tmp_path / "reference.xlsx", chunk_size=4, classifier=classifier)
    target = tmp_path / "out.xlsx"
    with pytest.raises(LabelInterrupted):
        label_file(source, target, chunk_size=4, classifier=classifier, on_chunk=Stop(2))
    assert not target.exists()
    summary = label_file(source, target, chunk_size=4, classifier=classifier, resume=True)
    assert summary.resumed_rows == 8
    pd.testing.assert_frame_equal(pd.read_excel(target), pd.read_excel(tmp_path / "reference.xlsx"))


def test_an_ok_row_says_when_normalisation_changed_its_text(
    classifier: Classifier, tmp_path: Path
) -> None:
    frame = pd.DataFrame(
        {"id": ["A", "B"], "text": [URGENT.replace("bladder", "blad\u200bder"), PAIN]}
    )
    source = write_csv(tmp_path / "in.csv", frame)
    label_file(source, tmp_path / "out.csv", classifier=classifier)
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert out["status"].tolist() == ["ok", "ok"] and out["urgent"].tolist() == [True, False]
    assert out["error"].tolist() == ["invisible format characters removed", ""]
