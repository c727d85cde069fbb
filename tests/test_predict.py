"""Tests for classifier.predict: the guide's hard cases, probabilities, batches, bad input."""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
from pathlib import Path

import pytest

from classifier.config import LABELS
from classifier.predict import NOTE_UNKNOWN_WORDS, Classifier, Prediction, predict, predict_many
from classifier.registry import ModelError

# The guide's "Hard cases, decided" table, one row each, in our own words.
HARD_CASES = [
    pytest.param(
        "Two days into the program my lower back feels sore, no numbness at all, and it's "
        "getting better",
        "soreness",
        False,
        id="sore-days-after-program-start",
    ),
    pytest.param(
        "My back has felt sore for three weeks, ever since I began the program",
        "pain",
        False,
        id="sore-beyond-a-week",
    ),
    pytest.param(
        "After weeding the garden my back is tender and stiff, but I get a sharp twinge "
        "whenever I bend over",
        "pain",
        False,
        id="sharp-beats-soreness",
    ),
    pytest.param("My back is hurting", "pain", False, id="default-rule"),
    pytest.param(
        "Is it normal that I'm sore after the first day?", "soreness", False, id="own-soreness-q"
    ),
    pytest.param(
        "What if I injure myself doing the bridge exercise?",
        "other",
        False,
        id="hypothetical",
    ),
    pytest.param("I'm unable to log in to watch the videos", "other", False, id="no-complaint"),
    pytest.param(
        "My legs ache from squatting and now I can't hold my bladder",
        "pain",
        True,
        id="red-flag-never-soreness",
    ),
    pytest.param(
        "My neck and shoulders feel stiff and achy after painting the ceiling all day",
        "soreness",
        False,
        id="muscular-after-activity",
    ),
    pytest.param("I twisted my ankle at basketball practice", "pain", False, id="injury-event"),
    pytest.param("I've got a headache", "other", False, id="not-musculoskeletal"),
    pytest.param(
        "My stomach muscles have hurt since my gym class", "soreness", False, id="says-hurt"
    ),
    pytest.param("My lower back pain is from a kidney stone", "other", False, id="another-organ"),
    pytest.param("I have a crushing pain in my chest", "other", True, id="general-emergency"),
]


@pytest.mark.parametrize(("text", "label", "urgent"), HARD_CASES)
def test_the_guides_hard_cases(classifier: Classifier, text: str, label: str, urgent: bool) -> None:
    prediction = classifier.predict(text)
    assert (prediction.label, prediction.urgent) == (label, urgent), prediction.evidence


def test_the_hard_case_table_has_every_row() -> None:
    assert len(HARD_CASES) == 14


# --- urgent texts -------------------------------------------------------------------------------


def test_an_urgent_text_with_workout_soreness_is_pain(classifier: Classifier) -> None:
    text = "My hamstrings are sore after Tuesday's workout and today I've lost control of my bowels"
    prediction = classifier.predict(text)
    assert prediction.label == "pain"
    assert prediction.urgent and prediction.urgent_flags == ("bladder_bowel",)
    assert prediction.probabilities["soreness"] == 0.0
    assert "lost control of my bowels" in prediction.urgent_reasons[0]


@pytest.mark.parametrize(
    "text",
    [
        "Quads still sore from leg day but since last night I have a fever of 39 and my back "
        "is killing me",
        "Lats sore after pull-ups and out of nowhere my face is drooping on one side",
        "Sore shoulders from boxing class, and honestly I keep thinking about ending my life",
    ],
)
def test_an_urgent_text_is_never_soreness(classifier: Classifier, text: str) -> None:
    prediction = classifier.predict(text)
    assert prediction.urgent
    assert prediction.label in ("pain", "other")
    assert prediction.urgent_reasons and all(prediction.urgent_reasons)


# --- the Prediction ---------------------------------------------------------------------------


def test_prediction_fields(classifier: Classifier) -> None:
    prediction = classifier.predict("sharp pain down my left leg since Monday")
    assert isinstance(prediction, Prediction)
    assert prediction.label in LABELS
    assert isinstance(prediction.urgent, bool)
    assert isinstance(prediction.evidence, tuple) and isinstance(prediction.notes, tuple)
    assert prediction.model_version == classifier.version
    assert isinstance(prediction.needs_review, bool)


def test_to_dict_is_json_serialisable(classifier: Classifier) -> None:
    prediction = classifier.predict("Since this morning I can't pee and my back is agony")
    data = prediction.to_dict()
    assert set(data) == {field.name for field in dataclasses.fields(Prediction)}
    assert json.loads(json.dumps(data)) == data
    assert data["urgent_flags"] == ["bladder_bowel"]


TEXTS = [
    "calves tight after yesterday's run",
    "my back hurts",
    "how do I cancel my plan",
    "burning pain down my arm and numb fingers",
    "I have had lower back pain for years",
    "sore everywhere after moving house",
]


@pytest.mark.parametrize("text", TEXTS)
def test_probabilities_sum_to_one_and_confidence_is_the_labels(
    classifier: Classifier, text: str
) -> None:
    prediction = classifier.predict(text)
    assert set(prediction.probabilities) == set(LABELS)
    assert math.isclose(sum(prediction.probabilities.values()), 1.0, abs_tol=1e-9)
    assert all(0.0 <= p <= 1.0 for p in prediction.probabilities.values())
    assert prediction.confidence == prediction.probabilities[prediction.label]
    assert prediction.label == max(prediction.probabilities, key=prediction.probabilities.get)


def test_needs_review_follows_the_models_threshold_for_the_label_given(
    classifier: Classifier,
) -> None:
    for prediction in classifier.predict_many(TEXTS):
        below = prediction.confidence < classifier.thresholds[prediction.label]
        assert prediction.needs_review == below


@pytest.mark.parametrize(
    "manifest",
    [
        {"needs_review_thresholds": {"pain": "high"}},
        {"needs_review_thresholds": {"pain": 7}},
        {"needs_review_thresholds": {"pain": None}},
        {"needs_review_thresholds": {"pain": True}},
        {"needs_review_thresholds": ["pain", 0.8]},
        {"needs_review_threshold": "0.x"},
    ],
)
def test_a_manifest_with_a_broken_review_threshold_is_refused_by_name(
    classifier: Classifier, manifest: dict
) -> None:
    with pytest.raises(ModelError, match="needs_review_threshold"):
        Classifier(classifier.pipeline, manifest)


def test_a_model_with_one_threshold_uses_it_for_every_label(classifier: Classifier) -> None:
    old = Classifier(classifier.pipeline, {"needs_review_threshold": 0.75})
    assert old.thresholds == dict.fromkeys(LABELS, 0.75)


def test_predict_many_keeps_order_and_equals_predict(classifier: Classifier) -> None:
    batch = classifier.predict_many(TEXTS)
    assert len(batch) == len(TEXTS)
    assert [p.to_dict() for p in batch] == [classifier.predict(t).to_dict() for t in TEXTS]
    reversed_batch = classifier.predict_many(TEXTS[::-1])
    assert [p.to_dict() for p in reversed_batch[::-1]] == [p.to_dict() for p in batch]


def test_predict_many_of_nothing_is_nothing(classifier: Classifier) -> None:
    assert classifier.predict_many([]) == []


def test_predict_many_refuses_a_bare_string(classifier: Classifier) -> None:
    with pytest.raises(TypeError, match="use predict"):
        classifier.predict_many("my back hurts")


def test_module_level_functions_take_a_model_path(classifier: Classifier, model_dir: Path) -> None:
    one = predict("my back hurts", model=model_dir)
    many = predict_many(["my back hurts", "where is my invoice"], model=str(model_dir))
    assert one.to_dict() == many[0].to_dict() == classifier.predict("my back hurts").to_dict()
    assert many[1].label == "other"


# --- evidence --------------------------------------------------------------------------------


def test_evidence_shows_a_negated_sign(classifier: Classifier) -> None:
    prediction = classifier.predict("No numbness, just sore after squats")
    assert "numbness (negated)" in prediction.evidence
    assert prediction.label == "soreness"


def test_evidence_shows_a_duration(classifier: Classifier) -> None:
    prediction = classifier.predict("sore for three weeks")
    assert prediction.duration_days == 21
    assert "3 weeks" in prediction.evidence
    assert prediction.label == "pain"


def test_evidence_lists_each_thing_once(classifier: Classifier) -> None:
    text = "Sore since Saturday's hike. " * 5
    evidence = classifier.predict(text).evidence
    assert len(evidence) == len(set(evidence)), evidence


# --- bad input ---------------------------------------------------------------------------------

UNUSABLE = [
    pytest.param("", "empty text", id="empty"),
    pytest.param("   \n\t ", "empty text", id="whitespace"),
    pytest.param(None, "empty text", id="None"),
    pytest.param(42, "input is int, not text", id="int"),
    pytest.param(3.5, "input is float, not text", id="float"),
    pytest.param(float("nan"), "empty text", id="nan"),
    pytest.param("😫😫🔥🙏", "no words", id="emoji-only"),
    pytest.param("<br/>&nbsp;<p></p>", "empty text", id="markup-only"),
    pytest.param(
        "У меня сильно болит спина после тренировки в спортзале",
        "does not look like English",
        id="russian",
    ),
    pytest.param(
        "我在健身房锻炼以后腰一直很疼，已经三天了", "does not look like English", id="chinese"
    ),
    pytest.param(
        "Me duele mucho la espalda desde el lunes", "does not look like English", id="spanish"
    ),
    pytest.param(
        "Спина болит",
        "does not look like English",
        id="short-russian",
    ),
    pytest.param(
        "我腰疼",
        "does not look like English",
        id="short-chinese",
    ),
]


@pytest.mark.parametrize(("value", "note"), UNUSABLE)
def test_unusable_input_is_other_or_needs_review_with_a_note(
    classifier: Classifier, value: object, note: str
) -> None:
    prediction = classifier.predict(value)
    assert prediction.needs_review, "unusable input always goes to a person"
    assert any(note in line for line in prediction.notes), prediction.notes
    assert not prediction.urgent


def test_unusable_inputs_in_one_batch_do_not_disturb_the_others(classifier: Classifier) -> None:
    inputs = [None, "my back hurts", 42, "", "how do I cancel my plan", float("nan")]
    predictions = classifier.predict_many(inputs)
    assert [p.label for p in predictions][1::3] == ["pain", "other"]
    assert [p.to_dict() for p in predictions[1::3]] == [
        classifier.predict("my back hurts").to_dict(),
        classifier.predict("how do I cancel my plan").to_dict(),
    ]


def test_bytes_are_decoded(classifier: Classifier) -> None:
    prediction = classifier.predict(b"My back hurts since I fell off my bike")
    assert prediction.label == "pain"
    assert "bytes decoded as UTF-8" in prediction.notes


def test_a_bare_bytes_word_is_read_and_noted(classifier: Classifier) -> None:
    prediction = classifier.predict(b"bytes")
    assert prediction.label == "other" or prediction.needs_review
    assert "bytes decoded as UTF-8" in prediction.notes


def test_invalid_utf8_bytes_do_not_raise(classifier: Classifier) -> None:
    prediction = classifier.predict(b"my back \xff\xfe hurts")
    assert prediction.label in LABELS
    assert "bytes decoded as UTF-8" in prediction.notes


def test_html_is_removed_before_reading(classifier: Classifier) -> None:
    prediction = classifier.predict("<p>My back hurts&nbsp;since Monday</p>")
    assert prediction.label == "pain"
    assert "HTML markup removed" in prediction.notes
    assert not any("<" in item or "nbsp" in item for item in prediction.evidence)
    assert prediction.duration_days is not None


def test_a_megabyte_of_text_is_cut_and_noted(classifier: Classifier) -> None:
    text = "Lower back sore after the long hike on Saturday. " * 21_000
    assert len(text) > 1_000_000
    prediction = classifier.predict(text)
    assert prediction.label in LABELS
    assert any("text cut to its first" in note for note in prediction.notes)


def test_control_characters_do_not_raise(classifier: Classifier) -> None:
    prediction = classifier.predict("my\x00 back\x1b hurts\x7f")
    assert prediction.label == "pain"


# --- the package's public names -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "submodule"),
    [
        ("predict_many", "classifier.predict"),
        ("predict", "classifier.predict"),
        ("train", "classifier.train"),
    ],
)
def test_the_package_exports_functions_not_submodules(name: str, submodule: str) -> None:
    import classifier as package

    importlib.import_module(submodule)
    assert callable(getattr(package, name))


@pytest.mark.parametrize("text", ["aaaaaaa", "qwrtzp xkcdvb", "zzzzz!!!"])
def test_a_text_of_unknown_words_goes_to_review(text: str) -> None:
    # No cue and no word the model has seen: the answer is the model's prior alone.
    prediction = predict(text)
    assert prediction.needs_review
    assert NOTE_UNKNOWN_WORDS in prediction.notes


@pytest.mark.parametrize("text", ["thanks!", "my back is sore", "cancel my plan"])
def test_a_short_text_of_known_words_is_not_sent_for_its_words(text: str) -> None:
    assert NOTE_UNKNOWN_WORDS not in predict(text).notes
