"""Tests for the model lifecycle commands: models list/show, promote (the gate), diff, suggest,
and the bad inputs that must leave the registry as it was."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import Result
from typer.testing import CliRunner

from classifier.cli import app
from classifier.config import CURRENT_FILE_NAME, REGISTRY_LOG_NAME, SAMPLE_TICKETS, SEED_DIR
from classifier.dataset import normalise_text
from classifier.lifecycle import farthest_point_order, promotion_gate, uncertainty
from classifier.registry import current_version, set_current
from classifier.train import train

runner = CliRunner()
GOLD = Path(__file__).parents[1] / "data" / "gold" / "gold.csv"

# The corrupted copy: a labeler who misread the guide. Rows illustrating these rules get
# the wrong label (about 40% of the seed). Flipping by rule rather than at random keeps the
# bad model as quick to train as the good one (random noise makes the solver crawl).
CORRUPTION = {
    **{f"S{i}": "pain" for i in range(1, 8)},
    **{rule: "soreness" for rule in ("P1", "P2", "P5", "P8")},
    "O5": "pain",
    "O7": "pain",
}


def invoke(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def assert_clean_failure(result: Result, *words: str) -> None:
    """Exit code 1 with a painclf error naming the problem, never a traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    for word in words:
        assert word in result.output, result.output


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its SHA-256: equal snapshots mean an unchanged registry."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def write_corrupted_seed(folder: Path) -> float:
    """Copy the seed files to ``folder`` with CORRUPTION applied; return the share flipped."""
    flipped = total = 0
    for source in sorted(SEED_DIR.glob("*.csv")):
        frame = pd.read_csv(source, dtype=str, keep_default_na=False)
        prefix = frame["rule"].str.split("_").str[0]
        wrong = prefix.map(CORRUPTION).fillna(frame["label"])
        # The guide forbids urgent soreness; urgent rows keep their label.
        wrong = wrong.where(frame["urgent"] != "1", frame["label"])
        flipped += int((wrong != frame["label"]).sum())
        total += len(frame)
        frame["label"] = wrong
        frame.to_csv(folder / source.name, index=False)
    return flipped / total


@dataclass(frozen=True)
class TwoModels:
    """A registry holding a model trained on the seed and one trained on a corrupted copy."""

    root: Path
    good: str
    bad: str
    share_flipped: float


@pytest.fixture(scope="module")
def two_models(trained_models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> TwoModels:
    """Built once: the session's default model is copied, the corrupted model trained here."""
    root = tmp_path_factory.mktemp("lifecycle-models")
    good = current_version(trained_models_dir)
    assert good is not None
    shutil.copytree(trained_models_dir / good, root / good)
    set_current(good, root, note="copied from the session model")
    corrupted = tmp_path_factory.mktemp("corrupted-seed")
    share = write_corrupted_seed(corrupted)
    bad = train(data=[corrupted], root=root, quiet=True).ref.version
    assert current_version(root) == good, "a model trained later must not become current"
    return TwoModels(root, good, bad, share)


def make_registry(two_models: TwoModels, folder: Path, current: str | None) -> Path:
    """A private copy of the two-model registry with ``current`` as CURRENT (None: no CURRENT)."""
    root = folder / "models"
    root.mkdir()
    for version in (two_models.good, two_models.bad):
        shutil.copytree(two_models.root / version, root / version)
    if current is not None:
        (root / CURRENT_FILE_NAME).write_text(current + "\n", encoding="utf-8")
    return root


def test_the_corrupted_copy_flips_about_40_percent_of_the_labels(two_models: TwoModels) -> None:
    assert 0.35 <= two_models.share_flipped <= 0.45


# --- models list / show ---------------------------------------------------------------------


def test_models_list_shows_versions_data_metrics_and_current(
    two_models: TwoModels, tmp_path: Path
) -> None:
    root = make_registry(two_models, tmp_path, current=two_models.good)
    result = invoke("models", "list", "--models-dir", root)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    good_line = next(line for line in lines if two_models.good in line)
    bad_line = next(line for line in lines if two_models.bad in line)
    assert good_line.startswith("*") and not bad_line.startswith("*")
    assert "seed/pain.csv" in good_line and "corrupted-seed" not in good_line
    assert "pain.csv" in bad_line


def test_models_list_json_has_the_manifest_facts(two_models: TwoModels, tmp_path: Path) -> None:
    root = make_registry(two_models, tmp_path, current=two_models.bad)
    result = invoke("models", "list", "--json", "--models-dir", root)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["current"] == two_models.bad
    versions = {v["version"]: v for v in data["versions"]}
    assert versions[two_models.bad]["current"] and not versions[two_models.good]["current"]
    good, bad = versions[two_models.good], versions[two_models.bad]
    assert len(good["training_files"]) == 6  # the four seed files, the written and the real posts
    assert 1000 < good["training_rows"] <= sum(f["rows"] for f in good["training_files"])
    assert good["created"] and good["error"] is None
    # The cross-validated macro-F1 of the corrupted model is far lower; urgent is rule-based.
    assert good["cv_macro_f1"] > 0.8 > bad["cv_macro_f1"]
    assert 0.9 < good["cv_urgent_recall"] <= 1


def test_models_show_prints_the_model_card(two_models: TwoModels) -> None:
    result = invoke("models", "show", two_models.good, "--models-dir", two_models.root)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Model card")
    assert "not a diagnosis" in result.stdout


def test_models_show_current_alias(two_models: TwoModels) -> None:
    result = invoke("models", "show", "CURRENT", "--models-dir", two_models.root)
    assert result.exit_code == 0, result.output
    assert "# Model card" in result.stdout


# --- the promotion gate, with real models ----------------------------------------------------


def test_promote_refuses_the_corrupted_model_when_the_good_one_is_current(
    two_models: TwoModels, tmp_path: Path
) -> None:
    root = make_registry(two_models, tmp_path, current=two_models.good)
    before = snapshot(root)
    result = invoke("promote", two_models.bad, "--gold", GOLD, "--models-dir", root)
    assert_clean_failure(result, "refused", "macro-F1")
    # The side-by-side table names both models.
    assert f"{two_models.good} (current)" in result.output
    assert f"{two_models.bad} (candidate)" in result.output
    assert current_version(root) == two_models.good
    assert snapshot(root) == before


def test_promote_accepts_the_good_model_when_the_corrupted_one_is_current(
    two_models: TwoModels, tmp_path: Path
) -> None:
    root = make_registry(two_models, tmp_path, current=two_models.bad)
    result = invoke("promote", two_models.good, "--gold", GOLD, "--models-dir", root)
    assert result.exit_code == 0, result.output
    assert "promoted" in result.output
    assert current_version(root) == two_models.good
    log = (root / REGISTRY_LOG_NAME).read_text(encoding="utf-8")
    assert f"{two_models.bad} -> {two_models.good}" in log
    assert "gate passed" in log and "FORCED" not in log


def test_promote_force_overrides_the_gate_and_says_so_in_the_log(
    two_models: TwoModels, tmp_path: Path
) -> None:
    root = make_registry(two_models, tmp_path, current=two_models.good)
    result = invoke("promote", two_models.bad, "--gold", GOLD, "--force", "--models-dir", root)
    assert result.exit_code == 0, result.output
    assert "FORCED" in result.output
    assert current_version(root) == two_models.bad
    log = (root / REGISTRY_LOG_NAME).read_text(encoding="utf-8")
    assert "FORCED past the gate" in log and "macro-F1" in log


def test_promote_with_no_current_model_promotes_and_prints_the_metrics(
    two_models: TwoModels, tmp_path: Path
) -> None:
    root = make_registry(two_models, tmp_path, current=None)
    result = invoke("promote", two_models.bad, "--gold", GOLD, "--models-dir", root)
    assert result.exit_code == 0, result.output
    assert "no current model to compare with" in result.output
    assert "macro-F1" in result.output and "urgent recall" in result.output
    assert current_version(root) == two_models.bad


def test_promoting_the_current_model_changes_nothing(two_models: TwoModels, tmp_path: Path) -> None:
    root = make_registry(two_models, tmp_path, current=two_models.good)
    before = snapshot(root)
    result = invoke("promote", two_models.good, "--gold", GOLD, "--models-dir", root)
    assert result.exit_code == 0, result.output
    assert "already the current model" in result.output
    assert snapshot(root) == before


def test_the_gate_allows_a_small_macro_f1_loss_but_no_urgent_recall_loss() -> None:
    current = {"macro_f1": 0.90, "urgent": {"recall": 0.95}}
    assert promotion_gate({"macro_f1": 0.89, "urgent": {"recall": 0.95}}, current).passed
    assert not promotion_gate({"macro_f1": 0.889, "urgent": {"recall": 0.95}}, current).passed
    assert not promotion_gate({"macro_f1": 0.99, "urgent": {"recall": 0.94}}, current).passed
    assert promotion_gate({"macro_f1": 0.5, "urgent": {"recall": 0.0}}, None).passed
    no_urgent = {"macro_f1": 0.9, "urgent": {"recall": None}}
    decision = promotion_gate(no_urgent, no_urgent)
    assert decision.passed and "not compared" in decision.reasons[-1]


# --- diff ------------------------------------------------------------------------------------


def test_diff_reports_changes_between_the_two_versions(two_models: TwoModels) -> None:
    result = invoke(
        "diff", two_models.good, two_models.bad, GOLD, "--models-dir", two_models.root, "--top", "5"
    )
    assert result.exit_code == 0, result.output
    assert "labels changed on" in result.output
    assert f"rows = {two_models.good}, columns = {two_models.bad}" in result.output
    assert "urgent flips:" in result.output
    assert "largest probability shift first" in result.output


def test_diff_json_is_consistent(two_models: TwoModels) -> None:
    result = invoke(
        "diff", "CURRENT", two_models.bad, GOLD, "--json", "--top", "100",
        "--models-dir", two_models.root,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["old"] == two_models.good and report["new"] == two_models.bad
    matrix = np.array(report["confusion"]["matrix"])
    assert matrix.sum() == report["n"] == 60
    assert report["n"] - np.trace(matrix) == report["changed"] > 0
    rows = report["changed_rows"]
    assert all(r["old_label"] != r["new_label"] or r["old_urgent"] != r["new_urgent"] for r in rows)
    shifts = [r["shift"] for r in rows]
    assert shifts == sorted(shifts, reverse=True)
    # Each changed row points back to its line in the file.
    gold_lines = {2 + i: text for i, text in enumerate(pd.read_csv(GOLD)["text"])}
    assert all(gold_lines[r["line"]] == r["text"] for r in rows)


def test_diff_of_a_model_with_itself_changes_nothing(two_models: TwoModels) -> None:
    result = invoke(
        "diff", two_models.good, two_models.good, GOLD, "--json", "--models-dir", two_models.root
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["changed"] == 0 and report["changed_rows"] == [] and report["urgent_flips"] == []


def test_diff_names_a_missing_text_column(two_models: TwoModels, tmp_path: Path) -> None:
    file = tmp_path / "notes.csv"
    file.write_text("id,note\n1,my back hurts\n", encoding="utf-8")
    result = invoke("diff", two_models.good, two_models.bad, file, "--models-dir", two_models.root)
    assert_clean_failure(result, "no text column", "--text-column")


# --- suggest ---------------------------------------------------------------------------------


@pytest.fixture
def tickets_with_copies(tmp_path: Path) -> Path:
    """The sample tickets (``body`` column) plus duplicates that differ only in case and
    punctuation, and near-copies that differ only in a ticket number."""
    frame = pd.read_csv(SAMPLE_TICKETS, dtype=str, keep_default_na=False)
    bodies = frame["body"].tolist()
    copies = [text.upper() + " !!" for text in bodies[:8]]
    near = [f"my back is a bit sore and it also kind of hurts, ticket {i}" for i in range(15)]
    file = tmp_path / "tickets.csv"
    pd.DataFrame({"body": bodies + copies + near}).to_csv(file, index=False)
    return file


def read_suggestions(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_suggest_writes_n_distinct_texts_with_an_empty_label_column(
    two_models: TwoModels, tickets_with_copies: Path, tmp_path: Path
) -> None:
    output = tmp_path / "to_label.csv"
    result = invoke(
        "suggest", tickets_with_copies, "-n", "12", "-o", output, "--models-dir", two_models.root
    )
    assert result.exit_code == 0, result.output
    chosen = read_suggestions(output)
    assert len(chosen) == 12
    assert list(chosen.columns[:4]) == ["text", "label", "urgent", "urgent_reasons"]
    assert (chosen["label"] == "").all()
    assert {"hint_label", "hint_confidence"} <= set(chosen.columns)
    normalised = [normalise_text(text) for text in chosen["text"]]
    assert len(set(normalised)) == len(normalised)
    # Near-copies are not picked over and over.
    assert sum("ticket" in key and "kind of hurts" in key for key in normalised) <= 1
    # Least confident first.
    confidence = chosen["hint_confidence"].astype(float).tolist()
    assert confidence == sorted(confidence)


def test_suggested_rows_can_be_labeled_and_fed_back_to_training(
    two_models: TwoModels, tickets_with_copies: Path, tmp_path: Path
) -> None:
    output = tmp_path / "to_label.csv"
    invoke("suggest", tickets_with_copies, "-n", "5", "-o", output, "--models-dir", two_models.root)
    assert_clean_failure(invoke("validate", output), "unknown label ''")
    chosen = read_suggestions(output)
    chosen["label"] = chosen["hint_label"]  # a labeler agreeing with every hint
    chosen["urgent"] = chosen["hint_urgent"]
    chosen.to_csv(output, index=False)
    assert invoke("validate", output).exit_code == 0


def test_suggest_skips_texts_that_are_already_labeled(
    two_models: TwoModels, tickets_with_copies: Path, tmp_path: Path
) -> None:
    first = tmp_path / "first.csv"
    invoke("suggest", tickets_with_copies, "-n", "5", "-o", first, "--models-dir", two_models.root)
    labeled = read_suggestions(first)
    labeled["label"] = labeled["hint_label"]
    labeled.to_csv(first, index=False)
    second = tmp_path / "second.csv"
    result = invoke(
        "suggest", tickets_with_copies, "-n", "5", "-o", second, "--exclude", first,
        "--models-dir", two_models.root,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    seen = {normalise_text(t) for t in labeled["text"]}
    assert not seen & {normalise_text(t) for t in read_suggestions(second)["text"]}


def test_suggest_refuses_to_overwrite_without_force(
    two_models: TwoModels, tickets_with_copies: Path, tmp_path: Path
) -> None:
    output = tmp_path / "to_label.csv"
    output.write_text("precious labels\n", encoding="utf-8")
    root = two_models.root
    args = ("suggest", tickets_with_copies, "-n", "3", "-o", output, "--models-dir", root)
    assert_clean_failure(invoke(*args), "exists", "--force")
    assert output.read_text(encoding="utf-8") == "precious labels\n"
    assert invoke(*args, "--force").exit_code == 0
    assert len(read_suggestions(output)) == 3


def test_suggest_returns_what_there_is_when_n_exceeds_the_texts(
    two_models: TwoModels, tmp_path: Path
) -> None:
    file = tmp_path / "few.txt"
    file.write_text("my back hurts\nMY BACK HURTS!\nsore after squats\n\n", encoding="utf-8")
    output = tmp_path / "out.csv"
    result = invoke("suggest", file, "-n", "50", "-o", output, "--models-dir", two_models.root)
    assert result.exit_code == 0, result.output
    assert "only 2 distinct" in result.output
    assert len(read_suggestions(output)) == 2


def test_farthest_point_order_passes_over_near_copies() -> None:
    rng = np.random.default_rng(0)
    copy = rng.random(20)
    copies = np.tile(copy, (6, 1)) + rng.normal(0, 0.001, (6, 20))
    others = np.eye(20)[:4]
    vectors = np.vstack([copies, others])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    priority = [0.9] * 6 + [0.5] * 4
    chosen = farthest_point_order(vectors, priority, 5)
    assert sum(i < 6 for i in chosen) == 1
    assert sorted(chosen[1:]) == [6, 7, 8, 9]


def test_uncertainty_ranks_a_close_call_above_a_sure_answer() -> None:
    proba = np.array([[0.98, 0.01, 0.01], [0.45, 0.44, 0.11], [0.7, 0.2, 0.1]])
    for strategy in ("margin", "entropy"):
        assert list(np.argsort(-uncertainty(proba, strategy))) == [1, 2, 0]


# --- bad input: a clear message, exit 1, and the registry unchanged ---------------------------


@pytest.fixture
def registry_copy(two_models: TwoModels, tmp_path: Path) -> Path:
    return make_registry(two_models, tmp_path, current=two_models.good)


def test_a_corrupt_model_directory_is_refused(two_models: TwoModels, registry_copy: Path) -> None:
    (registry_copy / two_models.bad / "manifest.json").write_text("{not json", encoding="utf-8")
    before = snapshot(registry_copy)
    for args in (
        ("models", "show", two_models.bad),
        ("promote", two_models.bad, "--gold", GOLD),
        ("diff", two_models.good, two_models.bad, GOLD),
    ):
        assert_clean_failure(invoke(*args, "--models-dir", registry_copy), "corrupt")
    listing = invoke("models", "list", "--models-dir", registry_copy)
    assert listing.exit_code == 0 and "UNREADABLE" in listing.output
    assert snapshot(registry_copy) == before


def test_a_tampered_model_file_is_not_promoted(two_models: TwoModels, registry_copy: Path) -> None:
    with (registry_copy / two_models.bad / "model.skops").open("ab") as handle:
        handle.write(b"tampered")
    before = snapshot(registry_copy)
    result = invoke("promote", two_models.bad, "--gold", GOLD, "--models-dir", registry_copy)
    assert_clean_failure(result, "SHA-256")
    assert snapshot(registry_copy) == before


def test_a_missing_model_directory_is_refused(two_models: TwoModels, registry_copy: Path) -> None:
    before = snapshot(registry_copy)
    for args in (
        ("models", "show", "v19990101-000000"),
        ("promote", "v19990101-000000", "--gold", GOLD),
        ("diff", "v19990101-000000", two_models.good, GOLD),
    ):
        assert_clean_failure(invoke(*args, "--models-dir", registry_copy), "no model")
    assert snapshot(registry_copy) == before


def test_a_manifest_from_a_newer_painclf_is_refused(
    two_models: TwoModels, registry_copy: Path
) -> None:
    manifest_path = registry_copy / two_models.bad / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["schema_version"] = 99
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    before = snapshot(registry_copy)
    result = invoke("promote", two_models.bad, "--gold", GOLD, "--models-dir", registry_copy)
    assert_clean_failure(result, "newer painclf", "upgrade")
    listing = invoke("models", "list", "--models-dir", registry_copy)
    assert "newer painclf" in listing.output
    assert snapshot(registry_copy) == before


def test_current_naming_a_missing_version_is_refused_until_forced(
    two_models: TwoModels, registry_copy: Path, tickets_with_copies: Path
) -> None:
    (registry_copy / CURRENT_FILE_NAME).write_text("v19990101-000000\n", encoding="utf-8")
    before = snapshot(registry_copy)
    promote = ("promote", two_models.good, "--gold", GOLD, "--models-dir", registry_copy)
    assert_clean_failure(invoke(*promote), "v19990101-000000", "--force")
    output = registry_copy.parent / "out.csv"
    result = invoke("suggest", tickets_with_copies, "-o", output, "--models-dir", registry_copy)
    assert_clean_failure(result, "does not exist")
    assert not output.exists()
    listing = invoke("models", "list", "--models-dir", registry_copy)
    assert "names version 'v19990101-000000', which does not exist" in listing.output
    assert snapshot(registry_copy) == before
    # The way out: promote a good version with --force, which is logged.
    assert invoke(*promote, "--force").exit_code == 0
    assert current_version(registry_copy) == two_models.good
    assert "FORCED" in (registry_copy / REGISTRY_LOG_NAME).read_text(encoding="utf-8")


def write_labeled(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


SMALL_ROWS = [
    *([f"my calves are sore after the run number {i}", "soreness"] for i in range(8)),
    *([f"felt a pop in my back lifting box {i}", "pain"] for i in range(8)),
]


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        (["txt", "label"], [["my back hurts", "pain"]], "missing column(s) ['text']"),
        (["text", "label", "urgent"], [], "no valid rows"),
        (["text", "label"], SMALL_ROWS, "no examples of label(s) ['other']"),
        (
            ["text", "label"],
            [*SMALL_ROWS, *([f"refund order {i}", "other"] for i in range(3))],
            "too few examples",
        ),
    ],
    ids=["wrong-column", "empty", "missing-class", "too-few-of-a-class"],
)
def test_train_refuses_bad_training_data_and_writes_no_version(
    two_models: TwoModels,
    registry_copy: Path,
    tmp_path: Path,
    header: list[str],
    rows: list[list[str]],
    message: str,
) -> None:
    data = write_labeled(tmp_path / "new_labels.csv", header, rows)
    before = snapshot(registry_copy)
    result = invoke("train", "--data", data, "--models-dir", registry_copy)
    assert_clean_failure(result, message, "new_labels.csv")
    assert snapshot(registry_copy) == before


def test_promote_with_a_broken_gold_file_changes_nothing(
    two_models: TwoModels, registry_copy: Path, tmp_path: Path
) -> None:
    gold = write_labeled(tmp_path / "gold.csv", ["text", "label"], [["my back hurts", "painful"]])
    before = snapshot(registry_copy)
    result = invoke("promote", two_models.bad, "--gold", gold, "--models-dir", registry_copy)
    assert_clean_failure(result, "gold.csv:2", "unknown label")
    assert snapshot(registry_copy) == before
