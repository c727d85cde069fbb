"""Tests for classifier.rules: rule files load, validate, round-trip, and their terms match."""

from __future__ import annotations

import json
import shutil
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import classifier.rules as rules_module
from classifier.analysis import analyze, analyze_many
from classifier.config import LABELS
from classifier.rules import (
    BUILTIN_CATEGORIES,
    MAX_EXPANSIONS,
    ComboRule,
    ContextRule,
    CueLexicon,
    LabelRule,
    RuleError,
    RuleSet,
    UrgentRule,
    expand_term,
    load_rules,
)

RED_FLAGS = (
    "bladder_bowel",
    "saddle_numbness",
    "limb_weakness",
    "major_trauma",
    "fever_infection",
    "cancer_weight_loss",
    "night_rest_pain",
    "osteoporosis_steroids",
    "chest_pain",
    "breathing",
    "suicide_self_harm",
    "heavy_bleeding",
    "stroke",
)


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


# --- the shipped files ---------------------------------------------------------------------


def test_shipped_rule_files_load_and_validate(rules: RuleSet) -> None:
    assert rules.lexicons and rules.context_rules and rules.combos
    assert rules.urgent_rules and rules.label_rules
    # The fingerprint is a SHA-256 hex digest that models record with their manifest.
    assert len(rules.fingerprint) == 64
    int(rules.fingerprint, 16)


def test_every_category_is_defined_once(rules: RuleSet) -> None:
    assert len(set(rules.categories)) == len(rules.categories)


def test_every_category_a_rule_names_is_defined(rules: RuleSet) -> None:
    known = set(rules.categories) | set(BUILTIN_CATEGORIES)
    named: dict[str, set[str]] = {}
    for combo in rules.combos:
        named[f"combo {combo.category}"] = {c for group in combo.all_of for c in group}
    for rule in rules.urgent_rules:
        named.setdefault(f"urgent {rule.flag}", set()).update((*rule.cues, *rule.requires))
    for label_rule in rules.label_rules:
        named[f"label rule {label_rule.id}"] = {*label_rule.if_any, *label_rule.unless_any}
    for lexicon in rules.lexicons:
        named[f"lexicon {lexicon.category} overrides"] = set(lexicon.overrides)
    for context_rule in rules.context_rules:
        types_ = set(context_rule.excluded_types) | set(context_rule.allowed_types or ())
        named[f"context rule {context_rule.literal[:30]!r}"] = types_
    unknown = {where: sorted(names - known) for where, names in named.items() if names - known}
    assert unknown == {}


def test_the_urgent_rules_cover_exactly_the_guides_red_flags(rules: RuleSet) -> None:
    assert tuple(rules.flag_reasons()) == RED_FLAGS
    for flag, reason in rules.flag_reasons().items():
        assert reason.strip() and "_" not in reason, f"{flag} needs a reason in plain words"


def test_label_rules_only_exclude_known_labels(rules: RuleSet) -> None:
    assert {rule.excludes for rule in rules.label_rules} <= set(LABELS)


def test_every_shipped_rule_round_trips_through_to_dict(rules: RuleSet) -> None:
    for lexicon in rules.lexicons:
        assert CueLexicon.from_dict(lexicon.to_dict()) == lexicon
    for context_rule in rules.context_rules:
        assert ContextRule.from_dict(context_rule.to_dict()) == context_rule
    for combo in rules.combos:
        assert ComboRule.from_dict(combo.to_dict()) == combo
    for urgent_rule in rules.urgent_rules:
        assert UrgentRule.from_dict(urgent_rule.to_dict()) == urgent_rule
    for label_rule in rules.label_rules:
        assert LabelRule.from_dict(label_rule.to_dict()) == label_rule


def test_to_dict_output_is_json_that_loads_back(rules: RuleSet) -> None:
    # A clinician edits the JSON files, so what to_dict writes must survive json.dumps.
    samples: list[Any] = [
        rules.lexicons[0],
        next(rule for rule in rules.context_rules if rule.pattern is not None),
        rules.combos[0],
        next(rule for rule in rules.urgent_rules if rule.requires),
        rules.label_rules[0],
    ]
    for rule in samples:
        data = json.loads(json.dumps(rule.to_dict()))
        assert type(rule).from_dict(data) == rule


def test_every_lexicon_phrase_matches_inside_a_sentence(rules: RuleSet) -> None:
    # A phrase the tokenizer splits differently from running text could never match.
    pairs = [
        (lexicon.category, phrase) for lexicon in rules.lexicons for phrase in lexicon.phrases()
    ]
    analyses = analyze_many([f"Well, {phrase} and so on" for _, phrase in pairs])
    dead = [
        (category, phrase)
        for (category, phrase), analysis in zip(pairs, analyses, strict=True)
        if category not in {cue.category for cue in analysis.cues}
    ]
    assert dead == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Since the weekend I get pins and needles in my right hand", "tingling"),
        ("I threw my back out lifting the shopping", "injury_event"),
        ("Classic DOMS in my legs this morning", "soreness_word"),
        ("The MRI showed a herniated disc at L5", "structural"),
        ("The doctor thinks it is a kidney stone", "organ_cause"),
        ("I can't log in on my phone any more", "admin"),
        ("There is a stabbing feeling under my shoulder blade", "sharp_quality"),
        ("It travels down my left leg when I sit", "radiating"),
        ("My toes went numb while I was driving", "numbness"),
        ("Since this morning I can't pee at all", "rf_bladder_bowel"),
        ("It keeps getting worse every day", "worsening"),
        ("I can barely stand up straight", "loss_of_function"),
        ("Woke up with a cramp in my calf", "spasm_cramp"),
        ("I have osteoporosis", "rf_osteoporosis"),
        ("My hamstrings are tight after leg day", "activity"),
        ("I feel completely exhausted", "fatigue"),
        ("There is an itchy rash on my lower back", "skin"),
        ("My chest feels tight and heavy", "em_chest_pain"),
        ("It flares up every winter", "chronic"),
        ("Thank you so much for the videos", "praise"),
    ],
)
def test_a_lexicon_term_in_running_text_becomes_a_cue(text: str, category: str) -> None:
    assert category in {cue.category for cue in analyze(text).cues}


@pytest.mark.parametrize(
    "text",
    [
        "I can't pee",
        "i cant pee",
        "I cannot pee",
        "I Cannot pee",
        "I CAN NOT PEE",
        "I CAN'T PEE",
        "I CANNOT PEE",
    ],
)
def test_matching_ignores_case_and_the_spelling_of_cannot(text: str) -> None:
    # nlp.py: "can't", "cant" and "cannot" are the same words ("can not") to every rule;
    # a frightened writer may well type in capitals.
    assert "rf_bladder_bowel" in {cue.category for cue in analyze(text).cues}


@pytest.mark.parametrize(
    ("text", "is_muscle_complaint"),
    [
        ("My hamstrings are tight after leg day", True),
        ("calves still tight two days after the hill run", True),
        ("Keep your back tight and your chest up on the squat", False),
        ("The shirt is tight, I ran 5k in it anyway", False),
        ("It was a tight game until the last minute", False),
    ],
)
def test_tight_is_a_soreness_word_only_beside_a_body_site(
    text: str, is_muscle_complaint: bool
) -> None:
    # "tight" alone describes clothes, form cues and close games as often as muscles, so it
    # is no soreness word of its own; next to a body site it still makes a complaint.
    categories = {cue.category for cue in analyze(text).cues if cue.is_current}
    assert "soreness_word" not in categories
    assert ("msk_complaint" in categories or "spine_complaint" in categories) is (
        is_muscle_complaint
    )


# --- expand_term -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "phrases"),
    [
        ("numb|tingly|pins and needles", ["numb", "tingly", "pins and needles"]),
        ("Sharp|STABBING pain", ["sharp", "stabbing pain"]),
        ("(can not|unable to) bend", ["can not bend", "unable to bend"]),
        (
            "my? (left|right)? knee",
            ["my left knee", "my right knee", "my knee", "left knee", "right knee", "knee"],
        ),
        (
            "(ache|aches) in (both)? (arms|legs)",
            [
                "ache in both arms",
                "ache in both legs",
                "ache in arms",
                "ache in legs",
                "aches in both arms",
                "aches in both legs",
                "aches in arms",
                "aches in legs",
            ],
        ),
        ("sore|sore", ["sore"]),
    ],
)
def test_expand_term(term: str, phrases: list[str]) -> None:
    assert expand_term(term) == phrases


@pytest.mark.parametrize(
    ("term", "message"),
    [
        ("(numb|tingly", "unbalanced parentheses"),
        ("numb|tingly)", "unbalanced parentheses"),
        ("((numb|tingly) feet", "unbalanced parentheses"),
        ("numb||tingly", "empty alternative"),
        ("(numb|) feet", "empty alternative"),
        ("? numb", "'?' must follow a word or a group"),
        (" ".join(["(a|b|c|d)"] * 8), f"more than {MAX_EXPANSIONS}"),
    ],
)
def test_expand_term_refuses_a_malformed_term(term: str, message: str) -> None:
    with pytest.raises(RuleError, match=message) as error:
        expand_term(term)
    assert repr(term) in str(error.value), "the message quotes the term so it can be found"


# --- RuleError messages name the file and the rule ---------------------------------------------

CONTEXT_OK = {"literal": "no|without", "category": "NEGATED", "direction": "FORWARD"}
LEXICON_OK = {"category": "numbness", "description": "lost feeling", "terms": ["numb|numbness"]}
URGENT_OK = {"flag": "stroke", "reason": "signs of stroke", "cues": ["em_stroke"]}
LABEL_OK = {"id": "x", "excludes": "soreness", "reason": "why", "if_any": ["injury_event"]}


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = {**base, **changes}
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize(
    ("build", "data", "where", "message"),
    [
        (ContextRule.from_dict, _with(CONTEXT_OK, scope=3), "context_rules.json: rule 4", "scope"),
        (
            ContextRule.from_dict,
            _with(CONTEXT_OK, direction=None),
            "context_rules.json: rule 4",
            "missing key(s) ['direction']",
        ),
        (
            ContextRule.from_dict,
            _with(CONTEXT_OK, category="NEGATIVE"),
            "context_rules.json: rule 4",
            "'NEGATIVE'",
        ),
        (
            ContextRule.from_dict,
            _with(CONTEXT_OK, direction="SIDEWAYS"),
            "context_rules.json: rule 4",
            "'SIDEWAYS'",
        ),
        (
            ContextRule.from_dict,
            _with(CONTEXT_OK, direction="PSEUDO"),
            "context_rules.json: rule 4",
            "cannot have direction PSEUDO",
        ),
        (
            ContextRule.from_dict,
            _with(CONTEXT_OK, max_scope=0),
            "context_rules.json: rule 4",
            "max_scope",
        ),
        (
            ContextRule.from_dict,
            _with(CONTEXT_OK, terminates=["SIDEWAYS"]),
            "context_rules.json: rule 4",
            "'terminates' names unknown categories",
        ),
        (
            ContextRule.from_dict,
            _with(CONTEXT_OK, literal="(no|without"),
            "context_rules.json: rule 4",
            "unbalanced parentheses",
        ),
        (
            CueLexicon.from_dict,
            _with(LEXICON_OK, synonyms=["numb"]),
            "lexicons/numbness.json",
            "synonyms",
        ),
        (
            CueLexicon.from_dict,
            _with(LEXICON_OK, description=None),
            "lexicons/numbness.json",
            "missing key(s) ['description']",
        ),
        (
            CueLexicon.from_dict,
            _with(LEXICON_OK, category="numb-ness"),
            "lexicons/numbness.json",
            "'numb-ness'",
        ),
        (
            CueLexicon.from_dict,
            _with(LEXICON_OK, terms="numb"),
            "lexicons/numbness.json",
            "'terms' must be a list of strings",
        ),
        (
            CueLexicon.from_dict,
            _with(LEXICON_OK, terms=["numb", "  "]),
            "lexicons/numbness.json",
            "blank item",
        ),
        (
            CueLexicon.from_dict,
            _with(LEXICON_OK, terms=["(numb"]),
            "lexicons/numbness.json",
            "unbalanced parentheses",
        ),
        (
            UrgentRule.from_dict,
            _with(URGENT_OK, severity="high"),
            "urgent_rules.json: rule 15",
            "severity",
        ),
        (
            UrgentRule.from_dict,
            _with(URGENT_OK, cues=None),
            "urgent_rules.json: rule 15",
            "missing key(s) ['cues']",
        ),
        (
            UrgentRule.from_dict,
            _with(URGENT_OK, cues=[]),
            "urgent_rules.json: rule 15",
            "'cues' must not be empty",
        ),
        (
            UrgentRule.from_dict,
            _with(URGENT_OK, historical_ok="yes"),
            "urgent_rules.json: rule 15",
            "historical_ok",
        ),
        (
            UrgentRule.from_dict,
            _with(URGENT_OK, stable_after_days=-3),
            "urgent_rules.json: rule 15",
            "stable_after_days",
        ),
        (
            UrgentRule.from_dict,
            _with(URGENT_OK, confirmed_by=["numbness"], confirmed_within=-1),
            "urgent_rules.json: rule 15",
            "confirmed_within",
        ),
        (
            UrgentRule.from_dict,
            _with(URGENT_OK, confirmed_by=["numbness"], confirmed_within=True),
            "urgent_rules.json: rule 15",
            "confirmed_within",
        ),
        (
            UrgentRule.from_dict,
            _with(URGENT_OK, confirmed_within=2),
            "urgent_rules.json: rule 15",
            "needs 'confirmed_by'",
        ),
        (
            UrgentRule.from_dict,
            _with(URGENT_OK, confirmed_by="numbness"),
            "urgent_rules.json: rule 15",
            "confirmed_by",
        ),
        (
            LabelRule.from_dict,
            _with(LABEL_OK, priority=1),
            "label_rules.json: rule 2",
            "priority",
        ),
        (
            LabelRule.from_dict,
            _with(LABEL_OK, reason=None),
            "label_rules.json: rule 2",
            "missing key(s) ['reason']",
        ),
        (
            LabelRule.from_dict,
            _with(LABEL_OK, excludes="sore"),
            "label_rules.json: rule 2",
            "'excludes' must be one of",
        ),
        (
            LabelRule.from_dict,
            _with(LABEL_OK, if_any=None),
            "label_rules.json: rule 2",
            "give 'if_any', 'unless_any' or both",
        ),
    ],
)
def test_a_bad_rule_is_refused_with_its_file_and_rule_named(
    build: Callable[[dict[str, Any], str], Any], data: dict[str, Any], where: str, message: str
) -> None:
    with pytest.raises(RuleError) as error:
        build(data, where)
    assert str(error.value).startswith(f"{where}: ")
    assert message in str(error.value)


def test_an_unknown_key_message_lists_the_allowed_keys() -> None:
    with pytest.raises(RuleError) as error:
        ContextRule.from_dict(_with(CONTEXT_OK, scope=3), "context_rules.json: rule 4")
    assert "allowed:" in str(error.value) and "max_scope" in str(error.value)


def test_a_rule_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(RuleError, match=r"urgent_rules\.json: rule 2: expected an object"):
        UrgentRule.from_dict(["stroke"], "urgent_rules.json: rule 2")  # type: ignore[arg-type]


# --- broken rule files on disk ---------------------------------------------------------------


@pytest.fixture
def resource_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped rule files that ``load_rules`` reads instead of the package's."""
    copy = tmp_path / "resources"
    # classifier.resources is a namespace package: its files sit beside rules.py.
    shutil.copytree(Path(rules_module.__file__).parent / "resources", copy)
    fake = types.SimpleNamespace(files=lambda package: copy)
    monkeypatch.setattr(rules_module, "resources", fake)
    return copy


def _load_uncached() -> RuleSet:
    # load_rules is cached for the process; the broken copy must be read afresh.
    return load_rules.__wrapped__()


def test_the_copy_of_the_rule_files_loads_like_the_original(resource_copy: Path) -> None:
    assert _load_uncached().fingerprint == load_rules().fingerprint


def test_invalid_json_names_the_file_and_line(resource_copy: Path) -> None:
    path = resource_copy / "combos.json"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3] + ","  # a trailing comma after a key is not JSON
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(RuleError, match=r"combos\.json: invalid JSON at line \d+"):
        _load_uncached()


def test_an_urgent_rule_naming_an_unknown_cue_names_the_flag(resource_copy: Path) -> None:
    path = resource_copy / "urgent_rules.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["urgent_rules"][0]["cues"] = ["rf_bladder_and_bowel"]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RuleError) as error:
        _load_uncached()
    message = str(error.value)
    assert "urgent_rules.json" in message and "bladder_bowel" in message
    assert "rf_bladder_and_bowel" in message


def test_a_context_rule_with_an_unknown_key_names_its_position(resource_copy: Path) -> None:
    path = resource_copy / "context_rules.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["context_rules"][2]["scope"] = 5
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(
        RuleError, match=r"context_rules\.json: rule 3: unknown key\(s\) \['scope'\]"
    ):
        _load_uncached()


def test_a_lexicon_whose_category_differs_from_its_file_name_is_refused(
    resource_copy: Path,
) -> None:
    path = resource_copy / "lexicons" / "tingling.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["category"] = "tingle"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RuleError, match=r"lexicons/tingling\.json: category 'tingle'"):
        _load_uncached()


def test_a_category_defined_twice_is_refused(resource_copy: Path) -> None:
    path = resource_copy / "combos.json"
    combos = json.loads(path.read_text(encoding="utf-8"))
    combos["combos"][0]["category"] = "numbness"
    path.write_text(json.dumps(combos), encoding="utf-8")
    with pytest.raises(RuleError, match="'numbness' is defined twice"):
        _load_uncached()
