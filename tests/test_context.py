"""Tests for the ConText modifiers: which cues are negated, hypothetical, past or someone else's."""

from __future__ import annotations

import pytest

from classifier.analysis import analyze
from classifier.context import Cue
from classifier.rules import load_rules
from classifier.urgent import find_red_flags


def cues_of(text: str, category: str) -> list[Cue]:
    found = [cue for cue in analyze(text).cues if cue.category == category]
    assert found, f"no {category} cue in {text!r}"
    return found


def only_cue(text: str, category: str) -> Cue:
    found = cues_of(text, category)
    assert len(found) == 1, f"expected one {category} cue in {text!r}, got {found}"
    return found[0]


# --- the cases from the issue ----------------------------------------------------------------


def test_negation_stops_at_just() -> None:
    text = "No numbness or fever, just soreness"
    assert only_cue(text, "numbness").modifiers == {"NEGATED"}
    assert only_cue(text, "rf_fever").modifiers == {"NEGATED"}
    soreness = only_cue(text, "soreness_word")
    assert soreness.modifiers == set() and soreness.is_current


def test_deny_negates() -> None:
    numbness = only_cue("I deny any numbness", "numbness")
    assert "NEGATED" in numbness.modifiers and not numbness.is_current


def test_what_if_is_hypothetical() -> None:
    numbness = only_cue("what if I get numbness", "numbness")
    assert numbness.modifiers == {"HYPOTHETICAL"} and not numbness.is_current


def test_a_relatives_condition_belongs_to_another_person() -> None:
    cancer = only_cue("my dad had cancer", "rf_cancer")
    assert "OTHER_PERSON" in cancer.modifiers


def test_years_ago_is_historical() -> None:
    injury = only_cue("I hurt my back years ago", "injury_event")
    assert "HISTORICAL" in injury.modifiers and not injury.is_current


@pytest.mark.parametrize(
    "text",
    [
        "I am a 45 year old man and since Monday I have numbness in my foot",
        "My 7-year-old has numbness in her fingers since she fell this morning",
        "Walking like an old lady since the long run, numbness in both feet today",
    ],
)
def test_an_age_is_not_the_past(text: str) -> None:
    # "old" marks an old injury; in an age or a comparison it says nothing about when.
    assert "HISTORICAL" not in cues_of(text, "numbness")[0].modifiers


@pytest.mark.parametrize(
    "text",
    [
        "I slid into the post and would have broken my leg if the pad had not been there",
        "Nearly fell off the ladder this morning, caught the gutter",
        "As a teen I tried to break my own arm to get out of the team",
    ],
)
def test_what_did_not_happen_is_no_red_flag(text: str) -> None:
    # Counterfactuals ('would have', 'nearly', 'tried to') report an injury that did not happen.
    assert "major_trauma" not in [f.flag for f in find_red_flags(analyze(text), load_rules())]


def test_might_have_is_a_suspicion_not_a_counterfactual() -> None:
    flags = [
        f.flag for f in find_red_flags(analyze("I think I might have broken my toe"), load_rules())
    ]
    assert "major_trauma" in flags


def test_an_old_injury_is_still_the_past() -> None:
    assert "HISTORICAL" in only_cue("an old rugby injury in my shoulder", "injury_event").modifiers


# --- negation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Never had any numbness",
        "I don't have any numbness",
        "I haven't noticed any numbness",
        "There is no numbness anywhere",
        "Without numbness, thankfully",
    ],
)
def test_forward_negation(text: str) -> None:
    assert "NEGATED" in only_cue(text, "numbness").modifiers


def test_negation_covers_a_list_of_symptoms() -> None:
    text = "No numbness, tingling or weakness in my legs"
    for category in ("numbness", "tingling", "limb_weakness"):
        assert "NEGATED" in only_cue(text, category).modifiers, category


@pytest.mark.parametrize(
    "text",
    [
        "The numbness is gone",
        "The tingling went away after a day",
        "My sciatica has resolved",
    ],
)
def test_backward_negation(text: str) -> None:
    cues = [
        cue for cue in analyze(text).cues if cue.category in ("numbness", "tingling", "structural")
    ]
    assert cues and all("NEGATED" in cue.modifiers for cue in cues)


# --- terminators -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "No numbness but my legs are tingling",
        "no numbness except tingling in my toes",
        "No numbness. Tingling in my foot though.",
        "No numbness\ntingling in my foot",
        "No numbness\r\ntingling in my foot",
    ],
    ids=["but", "except", "sentence end", "line break", "windows line break"],
)
def test_a_terminator_ends_the_negation(text: str) -> None:
    assert "NEGATED" in only_cue(text, "numbness").modifiers
    tingling = only_cue(text, "tingling")
    assert tingling.is_current and tingling.modifiers == set()


def test_a_new_sentence_ends_another_persons_scope() -> None:
    text = "My dad had cancer. I have numbness in my feet."
    assert "OTHER_PERSON" in only_cue(text, "rf_cancer").modifiers
    assert only_cue(text, "numbness").modifiers == set()


def test_now_ends_the_past() -> None:
    text = "I broke my wrist last year but now I have tingling in my fingers"
    assert "HISTORICAL" in only_cue(text, "rf_trauma").modifiers
    assert only_cue(text, "tingling").is_current


def test_and_now_ends_the_past() -> None:
    text = "I slipped a disc in 2015 and now the pain is back"
    assert "HISTORICAL" in only_cue(text, "injury_event").modifiers
    assert only_cue(text, "pain_word").is_current


def test_i_ends_another_persons_scope() -> None:
    text = "My wife has sciatica and I have numbness in my foot"
    assert "OTHER_PERSON" in only_cue(text, "structural").modifiers
    assert "OTHER_PERSON" not in only_cue(text, "numbness").modifiers


def test_a_semicolon_ends_the_past() -> None:
    text = "I broke my wrist years ago; my knee is sore from gardening"
    assert "HISTORICAL" in only_cue(text, "rf_trauma").modifiers
    assert only_cue(text, "soreness_word").is_current


# --- pseudo-triggers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("There has been no improvement in the pain", "pain_word"),
        ("The ache won't go away", "pain_word"),
        ("I can't walk without pain", "pain_word"),
        ("I can't sit for long without my back aching", "pain_word"),
        ("Not sure why, but my neck hurts", "pain_word"),
    ],
)
def test_a_pseudo_trigger_does_not_negate(text: str, category: str) -> None:
    assert all(cue.is_current for cue in cues_of(text, category))


def test_no_improvement_counts_as_not_getting_better() -> None:
    assert only_cue("There has been no improvement in the pain", "worsening").is_current


# --- hypothetical and historical ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("If I had numbness should I see a doctor", "numbness"),
        ("How do I avoid getting sciatica", "structural"),
        ("Could I get a herniated disc from deadlifts?", "structural"),
        ("What are the symptoms of a pinched nerve?", "structural"),
        ("What should I do if I get numbness in my feet?", "numbness"),
        ("What if I injure myself doing the bridges?", "injury_event"),
    ],
)
def test_hypothetical(text: str, category: str) -> None:
    assert all("HYPOTHETICAL" in cue.modifiers for cue in cues_of(text, category))


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I used to get sciatica", "structural"),
        ("Back in 2015 I slipped a disc", "structural"),
        ("As a teenager I fractured my spine", "rf_trauma"),
        ("I had a fall last winter", "injury_event"),
    ],
)
def test_historical(text: str, category: str) -> None:
    assert all("HISTORICAL" in cue.modifiers for cue in cues_of(text, category))


def test_a_duration_alone_does_not_make_a_complaint_past() -> None:
    structural = only_cue("I have had sciatica for years", "structural")
    assert structural.is_current


# --- scope limits ------------------------------------------------------------------------------


def test_negation_reaches_only_ten_tokens() -> None:
    # "No" is 16 tokens before "numbness": too far to deny it.
    text = "No swelling around my ankle after that very long walk across town in the rain, numbness"
    assert "NEGATED" in only_cue(text, "site_limb").modifiers
    assert only_cue(text, "numbness").is_current


def test_another_persons_scope_stays_in_its_sentence() -> None:
    text = "My son broke his arm. My back is killing me."
    assert "OTHER_PERSON" in only_cue(text, "rf_trauma").modifiers
    assert only_cue(text, "pain_word").modifiers == set()


# --- negation inside a longer cue ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["I have no bladder control", "no bladder control since this morning"]
)
def test_no_inside_a_red_flag_phrase_does_not_negate_it(text: str) -> None:
    cue = only_cue(text, "rf_bladder_bowel")
    assert cue.is_current and "NEGATED" not in cue.modifiers
    assert [f.flag for f in find_red_flags(analyze(text), load_rules())] == ["bladder_bowel"]


def test_cant_inside_a_loss_of_function_phrase_does_not_negate_it() -> None:
    assert only_cue("I can't stand up straight", "loss_of_function").is_current


# --- whose body part ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "owner"),
    [
        ("my back is sore", "self"),
        ("my lower back is sore", "self"),
        ("his back is sore", "other"),
        ("her lower back is sore", "other"),
        ("your back", "other"),
        ("the back is sore", None),
    ],
)
def test_the_owner_of_a_site(text: str, owner: str | None) -> None:
    assert only_cue(text, "site_spine").owner == owner


def test_the_owner_carries_to_the_complaint() -> None:
    assert only_cue("his back hurts", "spine_complaint").owner == "other"
    assert only_cue("my back hurts", "spine_complaint").owner == "self"


# --- Cue.describe ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category", "described"),
    [
        ("No numbness, just sore after squats", "numbness", "numbness (negated)"),
        ("what if I get numbness", "numbness", "numbness (hypothetical)"),
        ("I hurt my back years ago", "injury_event", "hurt my back (past)"),
        ("my dad had cancer", "rf_cancer", "cancer (other person)"),
        ("No history of cancer", "rf_cancer", "cancer (negated, past)"),
        ("Pins and needles in my foot", "tingling", "Pins and needles"),
    ],
)
def test_describe_names_the_words_and_their_modifiers(
    text: str, category: str, described: str
) -> None:
    assert only_cue(text, category).describe() == described


# --- history, hypotheticals and scope ends (issue 8) -----------------------------------------


def test_a_hyphen_inside_a_word_does_not_end_a_negation() -> None:
    # "--" and the hyphen of "right-sided" both normalise to "-"; only a free-standing
    # dash breaks a clause.
    assert only_cue("No right-sided numbness at all", "numbness").modifiers == {"NEGATED"}


def test_a_free_standing_dash_ends_a_negation() -> None:
    text = "No fever -- but my legs tingle"
    assert "NEGATED" in only_cue(text, "rf_fever").modifiers
    assert only_cue(text, "tingling").is_current


@pytest.mark.parametrize(
    "text",
    [
        "Tingling in the left foot was ruled out by the neurologist",
        "The scan for a fracture came back negative",
        "Numbness: none",
    ],
)
def test_negation_stated_after_the_finding(text: str) -> None:
    cue = next(c for c in analyze(text).cues if c.category in ("tingling", "rf_trauma", "numbness"))
    assert "NEGATED" in cue.modifiers


def test_turned_out_to_be_names_what_it_was() -> None:
    found = cues_of("The pain turned out to be a bulging disc", "structural")
    assert all(cue.is_current for cue in found)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Come back if the tingling spreads to your other leg", "tingling"),
        ("Call us if you develop a fever", "rf_fever"),
        ("An X-ray to rule out a fracture of the wrist", "rf_trauma"),
        ("Should you notice numbness, stop the exercise", "numbness"),
    ],
)
def test_instructions_and_tests_for_a_possibility_are_hypothetical(
    text: str, category: str
) -> None:
    assert "HYPOTHETICAL" in cues_of(text, category)[0].modifiers


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Status post fracture of the wrist, doing the program now", "rf_trauma"),
        ("Past medical history: sciatica, asthma", "structural"),
    ],
)
def test_history_headers_and_status_post_are_past(text: str, category: str) -> None:
    assert "HISTORICAL" in cues_of(text, category)[0].modifiers


def test_as_a_kid_is_the_writers_past_not_another_person() -> None:
    cue = only_cue("I broke my wrist as a kid", "rf_trauma")
    assert "HISTORICAL" in cue.modifiers
    assert not cue.modifiers & {"HYPOTHETICAL", "OTHER_PERSON"}


def test_the_occasion_of_an_injury_is_not_its_past() -> None:
    cue = cues_of("When I played rugby on Saturday I dislocated my shoulder", "rf_trauma")[0]
    assert cue.is_current


def test_a_numbered_list_item_ends_a_negation() -> None:
    text = "1) no fever 2) numbness in my left foot"
    assert "NEGATED" in only_cue(text, "rf_fever").modifiers
    assert only_cue(text, "numbness").is_current


def test_a_long_comma_list_stays_in_the_negation() -> None:
    text = "No fever, chills, night sweats, nausea, vomiting, headaches, dizziness, numbness"
    assert "NEGATED" in only_cue(text, "numbness").modifiers
