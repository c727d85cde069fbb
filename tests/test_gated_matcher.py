"""The gates of the token patterns only skip texts a pattern cannot match: the word gates read
as bit masks and the text gates of the patterns that need no word (``nlp._text_needs``) give
the matches of the former loop, which tried each pattern's word gates in turn and had no
text gates."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from classifier import nlp
from classifier.analysis import clean_text
from classifier.config import REAL_DIR, SEED_DIR
from classifier.dataset import load_labeled

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

CRAFTED = [
    "fever of 39.5° since last night, back pain",
    "temp 102°F and my back is killing me",
    "38,5°c",
    "it was 40 °C outside",
    "my back hurts ): and 1) legs 2) arms a. neck b) hips",
    "1.) sore 2.) stiff",
    "ＴＥＭＰ ３９°",
    "",
    "   ",
    "\x00 ° \x00",
    "lone \ud800 surrogate ): 39°",
    "°" * 50,
]


def _texts() -> list[str]:
    from fuzz_texts import fuzz_texts
    from generate import generate_tickets

    frame, _, _ = load_labeled([SEED_DIR])
    with (REAL_DIR / "reddit_top_2013.csv").open(newline="", encoding="utf-8") as handle:
        real = [row["text"] for row in csv.DictReader(handle)]
    with (ROOT / "data" / "gold" / "gold.csv").open(newline="", encoding="utf-8") as handle:
        gold = [row["text"] for row in csv.DictReader(handle)]
    raw = [*CRAFTED, *frame["text"].tolist(), *real, *gold]
    raw += [*generate_tickets(2000, seed=17), *fuzz_texts(3000, seed=18)]
    return [clean_text(text).text for text in raw]


def _matchers() -> list[nlp.GatedMatcher]:
    cues, context, _ = (component for _, component in nlp.get_nlp().pipeline)
    return [cues.matcher, context.matcher]


def test_the_patterns_without_a_word_gate_get_a_text_gate() -> None:
    needs = [e[3] for m in _matchers() for e in m.entries if not e[1]]
    assert needs and all(needs)
    assert (("°",),) in needs


def _former_matches(matcher: nlp.GatedMatcher, doc, table) -> list[tuple[int, int, int]]:
    """``GatedMatcher.__call__`` as it was: every entry in turn, its word gates with
    ``isdisjoint``, no text gate."""
    matches: list[tuple[int, int, int]] = []
    present = table.norm_set & matcher.any_gate
    if (not present and not matcher.ungated) or (doc is None and not table.norms):
        return matches
    strings = matcher.vocab.strings
    for (spacy_matcher, gates, text_gate, _), fast in zip(
        matcher.entries, matcher.compiled, strict=True
    ):
        if any(present.isdisjoint(gate) for gate in gates):
            continue
        if fast is not None and table.attrs is not None:
            key, token_pattern = fast
            found = token_pattern.matches(table.attrs, strings)
            if found and (text_gate is None or text_gate.search(table.text)):
                matches.extend((key, start, end) for start, end in found)
        elif text_gate is None or text_gate.search(table.text):
            matches.extend(spacy_matcher(doc))
    return matches


@pytest.mark.parametrize("use_doc", [False, True], ids=["table", "doc"])
def test_gates_skip_only_texts_without_a_match(use_doc: bool) -> None:
    texts = _texts()
    if use_doc:
        texts = texts[::5]
    hits = 0
    for matcher in _matchers():
        for text in texts:
            doc = nlp.get_nlp().tokenizer(nlp._lower_same_length(text))
            doc.user_data[nlp.TEXT_KEY] = text
            table = nlp.token_table(doc)
            if use_doc or table.attrs is None:
                got, expected = matcher(doc, table), _former_matches(matcher, doc, table)
            else:
                got, expected = matcher(None, table), _former_matches(matcher, None, table)
            assert got == expected, text
            hits += len(expected)
    assert hits > (200 if use_doc else 1000)


def test_a_pattern_added_later_is_gated_too() -> None:
    matcher = nlp.GatedMatcher(nlp.get_nlp().vocab)
    matcher.add("one", [{"NORM": "sore"}, {"NORM": "back"}])
    doc = nlp.get_nlp().tokenizer("my sore back, my stiff neck")
    table = nlp.token_table(doc)
    assert [(start, end) for _, start, end in matcher(doc, table)] == [(1, 3)]
    matcher.add("two", [{"NORM": "stiff"}, {"NORM": "neck"}])
    assert [(start, end) for _, start, end in matcher(doc, table)] == [(1, 3), (5, 7)]


def test_a_pattern_that_sets_flags_or_does_not_parse_gets_no_characters() -> None:
    assert nlp._regex_characters("(?i)°c") == []
    assert nlp._regex_characters("(") == []
    assert nlp._regex_characters("^a(b)?°c:$") == ["°", ":"]
    assert nlp._text_needs([{"ORTH": "Dr"}, {"ORTH": {"IN": [")", "]"]}}]) == ((")", "]"),)
    assert nlp._text_needs([{"ORTH": ")", "OP": "?"}]) == ()
