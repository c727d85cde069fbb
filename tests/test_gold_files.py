"""The gold files are the promotion gate's yardsticks: valid, never in the training data, and
answered by the shipped model at the level the data card states."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from classifier import Classifier
from classifier.config import DEFAULT_TRAINING_DATA
from classifier.dataset import load_labeled

ROOT = Path(__file__).parents[1]
GOLD = ROOT / "data" / "gold"


@pytest.mark.parametrize("name", ["gold.csv", "forum.csv", "qa_dev.csv", "qa_heldout.csv"])
def test_gold_file_is_valid_and_not_trained_on(name: str) -> None:
    gold = pd.read_csv(GOLD / name, keep_default_na=False)
    assert set(gold.label) <= {"soreness", "pain", "other"}
    assert gold.text.str.strip().ne("").all()
    assert not gold.text.duplicated().any()
    # Urgent texts are never soreness (the guide), and every urgent text names its reasons.
    urgent = gold.urgent.astype(int) == 1
    assert not (urgent & (gold.label == "soreness")).any()
    assert gold.loc[urgent, "urgent_reasons"].str.len().gt(0).all()
    training, _, _ = load_labeled([ROOT / path for path in DEFAULT_TRAINING_DATA])
    assert not set(gold.text) & set(training.text)


def test_shipped_model_holds_its_level_on_the_long_forum_posts() -> None:
    gold = pd.read_csv(GOLD / "forum.csv", keep_default_na=False)
    answers = Classifier.load("shipped").predict_many(gold.text.tolist())
    labels = [a.label for a in answers]
    accuracy = sum(p == t for p, t in zip(labels, gold.label, strict=True)) / len(gold)
    urgent = gold.urgent.astype(int).to_numpy() == 1
    caught = sum(a.urgent for a, u in zip(answers, urgent, strict=True) if u)
    # The card states 0.907 and 19 of 20: a model that falls clearly below is a regression.
    assert accuracy >= 0.88
    assert caught >= 18


@pytest.mark.parametrize(
    ("name", "at_least", "false_at_most"), [("qa_dev.csv", 50, 5), ("qa_heldout.csv", 42, 7)]
)
def test_the_urgent_flag_holds_its_level_on_patient_questions(
    name: str, at_least: int, false_at_most: int
) -> None:
    # The data card states 52 of 54 (qa_dev, whose misses were read while writing the
    # concept rules) and 44 of 57 (qa_heldout, never read text by text), 3 and 5 false flags.
    gold = pd.read_csv(GOLD / name, keep_default_na=False)
    answers = Classifier.load("shipped").predict_many(gold.text.tolist())
    urgent = gold.urgent.astype(int).to_numpy() == 1
    caught = sum(a.urgent for a, u in zip(answers, urgent, strict=True) if u)
    false = sum(a.urgent for a, u in zip(answers, urgent, strict=True) if not u)
    assert caught >= at_least
    assert false <= false_at_most


def test_the_rules_hold_their_level_on_the_written_forum_pool() -> None:
    # data/rules_dev/README.md states 73, 77 and 56 red flags found by the rules alone for
    # writers E, F and G (G never read), with 14, 12 and 15 false flags.
    from classifier.analysis import analyze_many
    from classifier.rules import load_rules
    from classifier.urgent import find_red_flags

    pool = pd.read_csv(ROOT / "data" / "rules_dev" / "forum_pool.csv", keep_default_na=False)
    assert set(pool.label) <= {"soreness", "pain", "other"}
    assert not ((pool.urgent == 1) & (pool.label == "soreness")).any()
    rules = load_rules()
    flagged = [bool(find_red_flags(a, rules)) for a in analyze_many(pool.text.tolist())]
    pool["flagged"] = flagged
    levels = {"E": (70, 16), "F": (74, 14), "G": (53, 17)}
    for writer, (at_least, false_at_most) in levels.items():
        part = pool[pool.writer == writer]
        assert (part.flagged & (part.urgent == 1)).sum() >= at_least, writer
        assert (part.flagged & (part.urgent == 0)).sum() <= false_at_most, writer
