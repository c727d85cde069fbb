"""Tests for the guide's rules on top of the model: what a rule changes, and how sure it leaves."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from classifier.analysis import analyze
from classifier.model import decide
from classifier.rules import LabelRule, RuleError, load_rules

CLASSES = ["other", "pain", "soreness"]


def decide_one(text: str, soreness: float, pain: float, other: float):
    """Decide with the one rule that soreness needs a link to activity."""
    rules = load_rules()
    only = tuple(r for r in rules.label_rules if r.id == "soreness_needs_activity")
    proba = np.array([[other, pain, soreness]])
    return decide(proba, CLASSES, [analyze(text)], dataclasses.replace(rules, label_rules=only))[0]


def test_a_rule_that_overrules_the_model_leaves_an_uncertain_answer() -> None:
    # No activity is named, so soreness is ruled out; the model said nothing about
    # whether the rest is pain or other, and the answer must not look certain.
    decision = decide_one("my neck is stiff and tender", soreness=0.96, pain=0.03, other=0.01)
    assert decision.probabilities["soreness"] == 0.0
    assert decision.label == "pain"
    assert decision.probabilities["pain"] < 0.6
    assert any(note.startswith("not soreness") for note in decision.notes)


def test_a_rule_keeps_the_order_of_the_labels_it_allows() -> None:
    decision = decide_one("my neck is stiff and tender", soreness=0.5, pain=0.1, other=0.4)
    assert decision.label == "other"
    assert decision.probabilities["other"] > decision.probabilities["pain"]
    assert sum(decision.probabilities.values()) == pytest.approx(1.0)


def test_an_agreeing_model_keeps_its_confidence() -> None:
    decision = decide_one("my neck is stiff and tender", soreness=0.0, pain=0.9, other=0.1)
    assert decision.probabilities["pain"] == pytest.approx(0.9)


def decide_with(text: str, rule_ids: set[str], soreness: float, pain: float, other: float):
    rules = load_rules()
    chosen = tuple(r for r in rules.label_rules if r.id in rule_ids)
    proba = np.array([[other, pain, soreness]])
    return decide(proba, CLASSES, [analyze(text)], dataclasses.replace(rules, label_rules=chosen))[
        0
    ]


def test_rules_that_leave_one_label_do_not_make_it_certain() -> None:
    # A short neck complaint with no activity: soreness needs activity, and a current
    # musculoskeletal complaint is never other, so only pain is left. The model thought
    # other; the answer is pain, but not with certainty.
    rules = {"soreness_needs_activity", "msk_complaint_not_other"}
    decision = decide_with("my neck is stiff and tender", rules, soreness=0.1, pain=0.1, other=0.8)
    assert decision.label == "pain"
    assert 0.5 < decision.probabilities["pain"] < 0.9
    assert decision.probabilities["other"] > 0.0
    assert max(decision.probabilities, key=decision.probabilities.get) == "pain"


def test_rules_that_leave_one_label_keep_an_agreeing_models_confidence() -> None:
    rules = {"soreness_needs_activity", "msk_complaint_not_other"}
    decision = decide_with(
        "my neck is stiff and tender", rules, soreness=0.01, pain=0.98, other=0.01
    )
    assert decision.probabilities["pain"] > 0.98


def test_a_label_ruled_out_by_definition_stays_at_zero() -> None:
    # Urgent: never soreness, whatever the model thought; the doubt goes to other.
    text = "my back hurts and since this morning I can't control my bladder"
    rules = {"msk_complaint_not_other"}
    decision = decide_with(text, rules, soreness=0.7, pain=0.1, other=0.2)
    assert decision.urgent
    assert decision.label == "pain"
    assert decision.probabilities["soreness"] == 0.0
    assert 0.0 < decision.probabilities["other"] < decision.probabilities["pain"] < 1.0


def test_a_text_without_words_is_certainly_other() -> None:
    decision = decide_with("!!! ???", set(), soreness=0.5, pain=0.3, other=0.2)
    assert decision.label == "other"
    assert decision.probabilities["other"] == 1.0


def test_a_rule_with_max_tokens_holds_only_for_short_texts() -> None:
    rule = LabelRule.from_dict(
        {"id": "r", "excludes": "other", "reason": "x", "if_any": ["pain_word"], "max_tokens": 5}
    )
    assert rule.applies(frozenset({"pain_word"}), 5)
    assert not rule.applies(frozenset({"pain_word"}), 6)
    assert not rule.applies(frozenset(), 3)


@pytest.mark.parametrize("value", [0, -1, 2.5, "60", True])
def test_max_tokens_must_be_a_positive_integer(value: object) -> None:
    with pytest.raises(RuleError, match="max_tokens"):
        LabelRule.from_dict(
            {"id": "r", "excludes": "other", "reason": "x", "if_any": ["a"], "max_tokens": value}
        )


@pytest.mark.parametrize(
    "text",
    [
        "I think I might have broken my toe when I kicked the door",
        "Fell off the ladder clearing the gutters yesterday",
        "Got knocked off my bike on the way to work this morning",
    ],
)
def test_a_fracture_or_an_injury_event_is_never_other(text: str) -> None:
    # The guide: an injury event or a structural name is enough for pain. A short text
    # naming a broken bone or a fall from a height is a complaint even when the model,
    # trained on long posts that mention injuries in passing, leans to other.
    decision = decide_with(text, {"msk_complaint_not_other"}, soreness=0.05, pain=0.25, other=0.70)
    assert decision.label == "pain"
