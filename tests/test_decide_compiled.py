"""The compiled label rules and red flags (``classifier._post.Decider``) give the rows of the
Python ``decide_rows``, bit for bit: labels, probabilities, findings and notes; the compiled
``predictions`` builds the ``Prediction`` objects the Python loop builds from them."""

from __future__ import annotations

import csv
import dataclasses
import pickle
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from classifier import model
from classifier.analysis import analyze_many
from classifier.config import REAL_DIR, SEED_DIR
from classifier.dataset import load_labeled
from classifier.lean import post_module
from classifier.predict import Classifier, _hidden_categories
from classifier.rules import load_rules

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from both_paths import run_on_both_paths  # noqa: E402

pytestmark = pytest.mark.skipif(
    post_module() is None, reason="classifier._post was not built (pure-Python install)"
)

ODD_INPUTS = [
    "",
    "   \n\t ",
    None,
    float("nan"),
    42,
    b"my back is sore",
    "\x00\x00 back \x00 pain",
    "lone \ud800 surrogate, sore back \udfff",
    "sore back after squats " * 1500,  # cut at the length limit
    "???",
    "12345",
    "my dad has chest pain and can't feel his legs",
    "I can't control my bladder and my back hurts since this morning",
    "no pain at all, just checking my account",
    "Is back pain with a fever an emergency?",
    "aaaaaaa",
    "qwrtz zzkq",
    "me duele la espalda desde hace tres semanas",
]


def _texts() -> list:
    from fuzz_texts import fuzz_texts
    from generate import generate_tickets

    frame, _, _ = load_labeled([SEED_DIR])
    with (REAL_DIR / "reddit_top_2013.csv").open(newline="", encoding="utf-8") as handle:
        real = [row["text"] for row in csv.DictReader(handle)]
    with (ROOT / "data" / "gold" / "gold.csv").open(newline="", encoding="utf-8") as handle:
        gold = [row["text"] for row in csv.DictReader(handle)]
    return [
        *frame["text"].tolist(),
        *real,
        *gold,
        *generate_tickets(3000, seed=11),
        *fuzz_texts(300, seed=12),
        *ODD_INPUTS,
    ]


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier.load("shipped")


@pytest.fixture(scope="module")
def analyses() -> list:
    return analyze_many(_texts(), today=date(2026, 12, 1))


def _same(compiled: list, reference: list) -> None:
    assert len(compiled) == len(reference)
    # pickle writes each float's bits: equal pickles are equal to the last bit.
    for mine, theirs in zip(compiled, reference, strict=True):
        assert pickle.dumps(mine) == pickle.dumps(theirs), (mine, theirs)


def test_the_compiled_rows_are_pythons(shipped: Classifier, analyses: list) -> None:
    probabilities = shipped.probabilities(analyses)
    assert model._decider(tuple(shipped.classes), shipped.rules.label_rules) is not None
    compiled = model.decide_rows(probabilities, shipped.classes, analyses, shipped.rules)
    reference = model._decide_rows_python(probabilities, shipped.classes, analyses, shipped.rules)
    _same(compiled, reference)
    # Every branch is exercised: rules firing, a label decided by a rule alone, red flags.
    assert sum(bool(notes) for _, _, _, notes in compiled) > 100
    assert sum(bool(findings) for _, _, findings, _ in compiled) > 50
    # Once the analyses hold their current categories (read by the Python path above),
    # the compiled path reads them too.
    _same(model.decide_rows(probabilities, shipped.classes, analyses, shipped.rules), reference)


def test_the_compiled_predictions_are_pythons(shipped: Classifier, analyses: list) -> None:
    compiled = shipped.predict_analyses(analyses)
    rows = model.decide_rows(
        shipped.probabilities(analyses), shipped.classes, analyses, shipped.rules
    )
    reference = shipped._predictions_python(analyses, rows, _hidden_categories(shipped.rules))
    assert all(type(p) is type(r) for p, r in zip(compiled, reference, strict=True))
    _same([p.to_dict() for p in compiled], [p.to_dict() for p in reference])
    notes = [n for p in compiled for n in p.notes]
    assert any(n.startswith("confidence ") for n in notes)
    assert any(n.startswith("no word of this text is known") for n in notes)
    assert sum(p.urgent for p in compiled) > 50 and sum(bool(p.evidence) for p in compiled) > 1000


def test_odd_probabilities_and_class_orders(analyses: list) -> None:
    rules = load_rules()
    rng = np.random.default_rng(7)
    some = analyses[::7]
    rows = rng.dirichlet([0.3, 0.3, 0.3], size=len(some))
    rows[:20] = 0.0
    rows[:20, rng.integers(0, 3, size=20)] = 1.0  # one label certain
    rows[20:25] = [np.nan, 0.5, 0.5]
    rows[25:30] = [1e-300, 0.0, 1e-300]
    for classes in (["other", "pain", "soreness"], ["soreness", "other", "pain"]):
        _same(
            model.decide_rows(rows, classes, some, rules),
            model._decide_rows_python(rows, classes, some, rules),
        )


def test_replaced_label_rules_are_followed(analyses: list) -> None:
    rules = load_rules()
    rows = np.full((len(analyses), 3), 1 / 3)
    classes = ["other", "pain", "soreness"]
    for keep in ({"soreness_needs_activity"}, {"msk_complaint_not_other"}, set()):
        chosen = dataclasses.replace(
            rules, label_rules=tuple(r for r in rules.label_rules if r.id in keep)
        )
        _same(
            model.decide_rows(rows, classes, analyses, chosen),
            model._decide_rows_python(rows, classes, analyses, chosen),
        )


def test_a_zero_row_fails_as_in_python(analyses: list) -> None:
    rules = load_rules()
    rows = np.zeros((1, 3))
    text = [a for a in analyses if a.has_words and not a.cues][:1]
    for decide in (model.decide_rows, model._decide_rows_python):
        with pytest.raises(ZeroDivisionError):
            decide(rows, ["other", "pain", "soreness"], text, rules)


def test_rules_or_classes_too_large_are_left_to_python() -> None:
    rules = model._label_rules(load_rules().label_rules)
    decider = post_module().Decider
    assert decider.fits(("other", "pain", "soreness"), rules)
    assert not decider.fits(("other", "other", "pain"), rules)
    many = ((f"c{i}",) for i in range(70))
    wide = (("pain", "x", frozenset(c for group in many for c in group), frozenset(), None),)
    assert not decider.fits(("other", "pain", "soreness"), wide)


def test_the_pure_python_switch_gives_the_same_predictions() -> None:
    code = (
        "import json, sys, datetime\n"
        "from classifier import Classifier, model\n"
        "texts = json.load(sys.stdin)\n"
        "c = Classifier.load('shipped')\n"
        "found = [[p.label, p.probabilities, p.urgent_reasons, p.notes]\n"
        "         for p in c.predict_many(texts, today=datetime.date(2026, 12, 1))]\n"
        "print(json.dumps([model._decider(tuple(c.classes), c.rules.label_rules) is None,\n"
        "                  [[repr(v) for v in row] for row in found]]))\n"
    )
    from generate import generate_tickets

    texts = [*generate_tickets(400, seed=5), *(t for t in ODD_INPUTS if isinstance(t, str))]
    (pure_off, pure_found), (compiled_off, compiled_found) = run_on_both_paths(code, texts)
    assert pure_off is True
    assert compiled_off is False
    assert pure_found == compiled_found
