"""End-to-end smoke test: train on a tiny labeled file with the CLI, then predict with it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from classifier.cli import app

SORENESS = [
    "my quads are sore two days after my first spin class",
    "arms feel worked and achy after the rowing session",
    "stiff lower back the morning after gardening, it loosens up once I move",
    "glutes tender after yesterday's squats, already easing",
    "calves tight after the hill run on Sunday",
    "sore shoulders after painting the fence all weekend",
    "whole back achy after helping my sister move house",
    "DOMS in my hamstrings after leg day",
    "chest muscles stiff after my first push-up workout",
    "abs sore from the new core routine",
]
PAIN = [
    "felt something snap in my back lifting the dog",
    "shooting pain into my right buttock whenever I sit",
    "my neck has ached every day for two months",
    "numbness in my left foot and a burning pain in my calf",
    "twisted my knee on the stairs and it is swollen",
    "the doctor says it is a slipped disc",
    "my back hurts and it is getting worse",
    "I can't stand up straight since Friday",
    "stabbing pain between my shoulder blades",
    "lower back pain, no idea why",
]
OTHER = [
    "please send me the invoice for March",
    "the day 5 video will not play on my tablet",
    "how do I change my email address",
    "thanks, loving the program so far",
    "which exercises are best for posture?",
    "I have a sore throat and a cough",
    "can I move my session to Thursday",
    "my password reset link has expired",
    "is there a discount for students",
    "what if I hurt my back doing the bridges?",
]
URGENT = [
    ("Since last night I can't pee and my back is agony", "pain"),
    ("my husband fell off the ladder and can't feel his legs", "pain"),
    ("I have crushing chest pain and I'm sweating", "other"),
]


def test_train_then_predict_from_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "tiny.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "urgent"])
        for label, texts in (("soreness", SORENESS), ("pain", PAIN), ("other", OTHER)):
            writer.writerows((text, label, 0) for text in texts)
        writer.writerows((text, label, 1) for text, label in URGENT)
    models = tmp_path / "models"
    runner = CliRunner()

    trained = runner.invoke(app, ["train", "--data", str(data), "--models-dir", str(models)])
    assert trained.exit_code == 0, trained.output
    version = trained.stdout.strip().splitlines()[-1]
    model = models / version
    assert (model / "model.skops").is_file() and (model / "manifest.json").is_file()
    assert (models / "CURRENT").read_text().strip() == version
    manifest = json.loads((model / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["training_rows"] == 33

    predicted = runner.invoke(
        app, ["predict", "my back is sore after the gym", "--model", str(model)]
    )
    assert predicted.exit_code == 0, predicted.output
    assert any(
        line.startswith("label") and line.split()[1] in ("soreness", "pain", "other")
        for line in predicted.stdout.splitlines()
    ), predicted.stdout
